//! CSV as Excel opens it and RFC 4180 reads it: UTF-8 with a byte order mark (without one,
//! Excel reads UTF-8 as the machine's ANSI code page), a header row of column paths, CRLF
//! record ends and quoting by the `csv` crate, dates `YYYY-MM-DD`, numbers with `.`.

use super::{at, RowWriter};
use crate::columns::{columns, Column, Kind};
use crate::ExportError;
use chrono::{DateTime, NaiveDate, Utc};
use serde_json::Value;
use std::borrow::Cow;
use std::sync::{Arc, Mutex};
use switchyard_store::exports::Entity;

/// The UTF-8 byte order mark every CSV export starts with.
pub const BOM: &[u8] = b"\xEF\xBB\xBF";

pub struct CsvRows {
    columns: &'static [Column],
    csv: ::csv::Writer<Shared>,
    written: Shared,
}

/// Where the csv writer writes, shared with [`CsvRows`] so each record can be moved out as it
/// is written (`csv::Writer` lends its writer only immutably).
#[derive(Clone, Default)]
pub(crate) struct Shared(Arc<Mutex<Vec<u8>>>);

impl Shared {
    /// A CSV writer into this buffer: CRLF record ends (RFC 4180), `delimiter` between cells.
    pub(crate) fn csv(&self, delimiter: u8) -> ::csv::Writer<Shared> {
        ::csv::WriterBuilder::new()
            .delimiter(delimiter)
            .terminator(::csv::Terminator::CRLF)
            .from_writer(self.clone())
    }

    /// Moves what `csv` holds (it writes into this buffer) into `out`.
    pub(crate) fn drain(
        &self,
        csv: &mut ::csv::Writer<Shared>,
        out: &mut Vec<u8>,
    ) -> Result<(), ExportError> {
        csv.flush()?;
        out.append(&mut self.0.lock().unwrap_or_else(|e| e.into_inner()));
        Ok(())
    }
}

impl std::io::Write for Shared {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl CsvRows {
    pub fn new(entity: Entity) -> Self {
        let written = Shared::default();
        Self {
            columns: columns(entity),
            csv: written.csv(b','),
            written,
        }
    }

    /// Moves what the csv writer holds into `out`.
    fn drain(&mut self, out: &mut Vec<u8>) -> Result<(), ExportError> {
        self.written.drain(&mut self.csv, out)
    }
}

impl RowWriter for CsvRows {
    fn begin(&mut self, out: &mut Vec<u8>) -> Result<(), ExportError> {
        out.extend_from_slice(BOM);
        self.csv
            .write_record(self.columns.iter().map(|c| c.path))
            .map_err(|e| ExportError::Write(e.to_string()))?;
        self.drain(out)
    }

    fn row(&mut self, index: u64, row: &Value, out: &mut Vec<u8>) -> Result<(), ExportError> {
        let mut cells = Vec::with_capacity(self.columns.len());
        for column in self.columns {
            cells.push(cell(at(row, column.path), column.kind).map_err(|message| {
                ExportError::Row {
                    row: index,
                    column: column.path.to_string(),
                    message,
                }
            })?);
        }
        self.csv
            .write_record(cells.iter().map(|c| c.as_bytes()))
            .map_err(|e| ExportError::Write(e.to_string()))?;
        self.drain(out)
    }

    fn end(&mut self, out: &mut Vec<u8>) -> Result<(), ExportError> {
        self.drain(out)
    }
}

/// One cell: empty for a missing value or null.
fn cell(value: Option<&Value>, kind: Kind) -> Result<Cow<'_, str>, String> {
    let Some(value) = value.filter(|v| !v.is_null()) else {
        return Ok(Cow::Borrowed(""));
    };
    Ok(match (kind, value) {
        (Kind::List, v) => Cow::Owned(v.to_string()),
        (Kind::Date, Value::String(s)) => {
            NaiveDate::parse_from_str(s, "%Y-%m-%d").map_err(|e| format!("date `{s}`: {e}"))?;
            Cow::Borrowed(s.as_str())
        }
        (Kind::Timestamp, Value::String(s)) => {
            let t = DateTime::parse_from_rfc3339(s).map_err(|e| format!("timestamp `{s}`: {e}"))?;
            Cow::Owned(
                t.with_timezone(&Utc)
                    .format("%Y-%m-%d %H:%M:%S")
                    .to_string(),
            )
        }
        (_, Value::String(s)) => Cow::Borrowed(s.as_str()),
        (_, Value::Number(n)) => Cow::Owned(n.to_string()),
        (_, Value::Bool(b)) => Cow::Borrowed(if *b { "true" } else { "false" }),
        (_, v) => return Err(format!("expected a single value, got {v}")),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn cells_are_flat_dated_and_dotted() {
        let mut w = CsvRows::new(Entity::Inventory);
        let mut out = Vec::new();
        w.begin(&mut out).unwrap();
        let row = json!({"sku": "A,1", "product": {"sku": "A", "name": "Plate \"HR\""},
            "location": {"code": "CHI", "name": "Chicago"}, "on_hand": 1234.5,
            "on_hand_at_least": true, "allocated": 0, "on_order": 0, "reserved": 0, "available": 1234.5,
            "low_stock_threshold": 0, "updated_at": "2026-03-04T05:06:07.89+00:00"});
        w.row(1, &row, &mut out).unwrap();
        w.end(&mut out).unwrap();
        let text = std::str::from_utf8(&out[3..]).unwrap();
        assert!(out.starts_with(BOM));
        assert!(
            text.starts_with("sku,product.sku,product.name,location.code,"),
            "{text}"
        );
        assert!(
            text.contains("\"A,1\",A,\"Plate \"\"HR\"\"\",CHI,Chicago,1234.5,true,0,0,0,1234.5,0,2026-03-04 05:06:07\r\n"),
            "{text}"
        );
    }

    #[test]
    fn a_bad_timestamp_names_row_and_column() {
        let mut w = CsvRows::new(Entity::Customers);
        let e = w
            .row(
                7,
                &json!({"customer_id": "C", "created_at": "yesterday"}),
                &mut Vec::new(),
            )
            .unwrap_err();
        assert_eq!(
            e.to_string(),
            "row 7, column created_at: timestamp `yesterday`: premature end of input"
        );
    }
}
