//! JSON: one array of the rows, pretty-printed (two spaces), nested objects as they are,
//! timestamps ISO 8601 as Postgres writes them (`2026-03-04T05:06:07.89+00:00`).

use super::RowWriter;
use crate::ExportError;
use serde_json::Value;

#[derive(Default)]
pub struct JsonRows {
    rows: u64,
    /// One row pretty-printed as the only element of an array, reused row after row.
    scratch: Vec<u8>,
}

impl RowWriter for JsonRows {
    fn begin(&mut self, out: &mut Vec<u8>) -> Result<(), ExportError> {
        out.push(b'[');
        Ok(())
    }

    fn row(&mut self, _: u64, row: &Value, out: &mut Vec<u8>) -> Result<(), ExportError> {
        out.extend_from_slice(if self.rows == 0 { b"\n" } else { b",\n" });
        self.rows += 1;
        // serde_json's pretty printer cannot start at an indentation level, but a one-element
        // array puts the row at the level it has inside the export's array: print `[row]` and
        // keep what is between `[\n` and `\n]`. (Indenting the printer's output ourselves,
        // newline by newline, made JSON the slowest format by far.)
        self.scratch.clear();
        serde_json::to_writer_pretty(&mut self.scratch, std::slice::from_ref(row))
            .map_err(|e| ExportError::Write(e.to_string()))?;
        let inner = self
            .scratch
            .get(2..self.scratch.len().saturating_sub(2))
            .unwrap_or_default();
        out.extend_from_slice(inner);
        Ok(())
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
