//! JSON: one array of the rows, pretty-printed (two spaces), nested objects as they are,
//! timestamps ISO 8601 as Postgres writes them (`2026-03-04T05:06:07.89+00:00`).

use super::RowWriter;
use crate::ExportError;
use serde::Serialize;
use serde_json::Value;
use std::io::Write;

#[derive(Default)]
pub struct JsonRows {
    rows: u64,
}

/// Indents everything written through it by one level: a row pretty-printed on its own sits
/// inside the array without building the array in memory. A newline inside a JSON string is
/// always escaped, so every raw newline is a line break of the layout.
struct Indent<'a>(&'a mut Vec<u8>);

impl Write for Indent<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        for part in buf.split_inclusive(|b| *b == b'\n') {
            self.0.extend_from_slice(part);
            if part.ends_with(b"\n") {
                self.0.extend_from_slice(b"  ");
            }
        }
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl RowWriter for JsonRows {
    fn begin(&mut self, out: &mut Vec<u8>) -> Result<(), ExportError> {
        out.push(b'[');
        Ok(())
    }

    fn row(&mut self, _: u64, row: &Value, out: &mut Vec<u8>) -> Result<(), ExportError> {
        out.extend_from_slice(if self.rows == 0 { b"\n  " } else { b",\n  " });
        self.rows += 1;
        let mut ser = serde_json::Serializer::pretty(Indent(out));
        row.serialize(&mut ser)
            .map_err(|e| ExportError::Write(e.to_string()))
    }

    fn end(&mut self, out: &mut Vec<u8>) -> Result<(), ExportError> {
        out.extend_from_slice(if self.rows == 0 { b"]\n" } else { b"\n]\n" });
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn rows_make_one_pretty_array() {
        let mut w = JsonRows::default();
        let mut out = Vec::new();
        w.begin(&mut out).unwrap();
        w.row(1, &json!({"a": {"b": [1, "x\ny"]}}), &mut out)
            .unwrap();
        w.row(2, &json!({"a": null}), &mut out).unwrap();
        w.end(&mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert_eq!(
            text,
            "[\n  {\n    \"a\": {\n      \"b\": [\n        1,\n        \"x\\ny\"\n      ]\n    }\n  },\n  {\n    \"a\": null\n  }\n]\n"
        );
        let back: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(back[0]["a"]["b"][1], "x\ny");
    }

    #[test]
    fn no_rows_is_an_empty_array() {
        let mut w = JsonRows::default();
        let mut out = Vec::new();
        w.begin(&mut out).unwrap();
        w.end(&mut out).unwrap();
        assert_eq!(out, b"[]\n");
    }
}
