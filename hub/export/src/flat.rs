//! The CSV fast path: an entity with a flat query (`switchyard_store::exports::flat_select`)
//! is read with `COPY (…) TO STDOUT` in Postgres's text format and each line becomes a CSV
//! record, without building a JSON document per row in Postgres and parsing it back into a
//! tree here (what the rows of the other formats, a mapping and the entities with nested
//! lists need). The cells arrive as the CSV writes them, so the file is byte for byte the
//! tree path's (a test holds them together on the same rows).
//!
//! The text format is parsed by hand because it is small and fixed (PostgreSQL docs, "COPY",
//! "Text Format"): a line per row ending in `\n`, cells separated by `\t`, `\N` for NULL, and
//! the backslash escapes `\b \f \n \r \t \v \\` (COPY TO writes no others, but the octal and
//! hex forms COPY FROM reads are decoded too). The csv crate has no reader for it: its
//! escapes are not CSV's quoting.

use crate::columns::Column;
use crate::write::csv::{Shared, BOM};
use crate::ExportError;

/// COPY text lines in, CSV records out.
pub struct CopyToCsv {
    csv: ::csv::Writer<Shared>,
    written: Shared,
    /// The start of a line a chunk ended in the middle of.
    partial: Vec<u8>,
    /// One line's cells, reused line after line.
    cells: Vec<Vec<u8>>,
    width: usize,
    /// Rows written so far.
    pub rows: u64,
}

impl CopyToCsv {
    /// Writes the BOM and the header row of `columns` into `out`.
    pub fn begin(columns: &[Column], out: &mut Vec<u8>) -> Result<Self, ExportError> {
        let written = Shared::default();
        let mut csv = written.csv(b',');
        out.extend_from_slice(BOM);
        csv.write_record(columns.iter().map(|c| c.path))?;
        written.drain(&mut csv, out)?;
        Ok(Self {
            csv,
            written,
            partial: Vec::new(),
            cells: vec![Vec::new(); columns.len()],
            width: columns.len(),
            rows: 0,
        })
    }

    /// One chunk of the COPY stream: every line it completes is written to `out`.
    pub fn chunk(&mut self, chunk: &[u8], out: &mut Vec<u8>) -> Result<(), ExportError> {
        let mut rest = chunk;
        while let Some(end) = rest.iter().position(|b| *b == b'\n') {
            if self.partial.is_empty() {
                self.line(&rest[..end])?;
            } else {
                let mut line = std::mem::take(&mut self.partial);
                line.extend_from_slice(&rest[..end]);
                self.line(&line)?;
                line.clear();
                self.partial = line;
            }
            rest = &rest[end + 1..];
        }
        self.partial.extend_from_slice(rest);
        self.written.drain(&mut self.csv, out)
    }

    /// The stream has ended: nothing may be left half a line.
    pub fn end(mut self, out: &mut Vec<u8>) -> Result<u64, ExportError> {
        if !self.partial.is_empty() {
            return Err(ExportError::Write(format!(
                "the COPY stream ended inside row {}",
                self.rows + 1
            )));
        }
        self.written.drain(&mut self.csv, out)?;
        Ok(self.rows)
    }

    fn line(&mut self, line: &[u8]) -> Result<(), ExportError> {
        self.rows += 1;
        let row = self.rows;
        let mut n = 0;
        for raw in line.split(|b| *b == b'\t') {
            let Some(cell) = self.cells.get_mut(n) else {
                return Err(bad(row, format!("more than {} cells", self.width)));
            };
            cell.clear();
            // `\N` alone is NULL: an empty cell, as the tree path writes a null.
            if raw != b"\\N" {
                unescape(raw, cell).map_err(|m| bad(row, format!("cell {}: {m}", n + 1)))?;
            }
            n += 1;
        }
        if n != self.width {
            return Err(bad(row, format!("{n} cells, expected {}", self.width)));
        }
        self.csv.write_record(&self.cells)?;
        Ok(())
    }
}

fn bad(row: u64, message: String) -> ExportError {
    ExportError::Write(format!("row {row} of the COPY stream: {message}"))
}

/// Appends `raw` with its backslash escapes decoded to `out`.
fn unescape(raw: &[u8], out: &mut Vec<u8>) -> Result<(), String> {
    let mut i = 0;
    while let Some(at) = raw[i..].iter().position(|b| *b == b'\\') {
        out.extend_from_slice(&raw[i..i + at]);
        i += at + 1;
        let Some(&c) = raw.get(i) else {
            return Err("ends in a lone backslash".into());
        };
        i += 1;
        match c {
            b'b' => out.push(0x08),
            b'f' => out.push(0x0c),
            b'n' => out.push(b'\n'),
            b'r' => out.push(b'\r'),
            b't' => out.push(b'\t'),
            b'v' => out.push(0x0b),
            b'0'..=b'7' => {
                // Up to three octal digits.
                let digits = raw[i - 1..]
                    .iter()
                    .take(3)
                    .take_while(|d| (b'0'..=b'7').contains(*d))
                    .count();
                let v = raw[i - 1..i - 1 + digits]
                    .iter()
                    .fold(0u32, |v, d| v * 8 + u32::from(d - b'0'));
                out.push(v as u8);
                i += digits - 1;
            }
            b'x' => {
                let digits = raw[i..]
                    .iter()
                    .take(2)
                    .take_while(|d| d.is_ascii_hexdigit())
                    .count();
                if digits == 0 {
                    return Err("`\\x` without hex digits".into());
                }
                let hex = std::str::from_utf8(&raw[i..i + digits]).unwrap_or_default();
                out.push(u8::from_str_radix(hex, 16).map_err(|e| e.to_string())?);
                i += digits;
            }
            // `\\`, and any other character stands for itself.
            other => out.push(other),
        }
    }
    out.extend_from_slice(&raw[i..]);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::columns::{Column, Kind};

    const COLUMNS: &[Column] = &[
        Column {
            path: "a",
            kind: Kind::Text,
        },
        Column {
            path: "b.c",
            kind: Kind::Text,
        },
        Column {
            path: "n",
            kind: Kind::Number,
        },
    ];

    #[test]
    fn lines_split_anywhere_become_quoted_records() {
        let copy = b"x\\ty\t\\N\t1.50\nsay \"hi\", then\\nbye\t\\\\server\t\nq\\101\\x42\t\t2\n";
        let mut whole = Vec::new();
        let mut w = CopyToCsv::begin(COLUMNS, &mut whole).unwrap();
        w.chunk(copy, &mut whole).unwrap();
        assert_eq!(w.end(&mut whole).unwrap(), 3);
        let text = String::from_utf8(whole[3..].to_vec()).unwrap();
        assert_eq!(
            text,
            "a,b.c,n\r\nx\ty,,1.50\r\n\"say \"\"hi\"\", then\nbye\",\\server,\r\nqAB,,2\r\n"
        );
        // The same stream cut at every byte writes the same file.
        for cut in 0..copy.len() {
            let mut out = Vec::new();
            let mut w = CopyToCsv::begin(COLUMNS, &mut out).unwrap();
            w.chunk(&copy[..cut], &mut out).unwrap();
            w.chunk(&copy[cut..], &mut out).unwrap();
            w.end(&mut out).unwrap();
            assert_eq!(out, whole, "cut at {cut}");
        }
    }

    #[test]
    fn a_line_of_the_wrong_width_or_a_cut_stream_is_an_error() {
        let mut out = Vec::new();
        let mut w = CopyToCsv::begin(COLUMNS, &mut out).unwrap();
        let e = w.chunk(b"a\tb\n", &mut out).unwrap_err();
        assert_eq!(
            e.to_string(),
            "writing the export: row 1 of the COPY stream: 2 cells, expected 3"
        );
        let mut w = CopyToCsv::begin(COLUMNS, &mut out).unwrap();
        w.chunk(b"a\tb\tc\nd\t", &mut out).unwrap();
        assert_eq!(
            w.end(&mut out).unwrap_err().to_string(),
            "writing the export: the COPY stream ended inside row 2"
        );
    }
}
