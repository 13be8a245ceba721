//! Row writers: a row's document (the `serde_json::Value` the store's query built) in, bytes
//! out. Each appends to a caller's buffer, which the caller flushes to a file or an HTTP body
//! whenever it is big enough: nothing here holds more than one row.
//!
//! This is also the seam for reshaping an export with a mapping file: a mapping's output row
//! goes to a writer exactly like a stored row does. (Not wired yet: the mapping engine's
//! writers build whole documents in memory, which an export of a million rows must not do.)

pub mod csv;
pub mod json;
pub mod xml;

use crate::ExportError;
use chrono::{DateTime, Utc};
use serde_json::Value;
use switchyard_store::exports::{Entity, Format};

/// Writes one file: `begin`, `row` for each row, `end`.
pub trait RowWriter: Send {
    fn begin(&mut self, out: &mut Vec<u8>) -> Result<(), ExportError>;
    /// `index` counts rows from 1 (for errors that name the row).
    fn row(&mut self, index: u64, row: &Value, out: &mut Vec<u8>) -> Result<(), ExportError>;
    fn end(&mut self, out: &mut Vec<u8>) -> Result<(), ExportError>;
}

/// The writer of `format` for `entity`; `generated_at` is stated in the XML root.
pub fn writer(entity: Entity, format: Format, generated_at: DateTime<Utc>) -> Box<dyn RowWriter> {
    match format {
        Format::Csv => Box::new(csv::CsvRows::new(entity)),
        Format::Json => Box::new(json::JsonRows::default()),
        Format::Xml => Box::new(xml::XmlRows::new(entity, generated_at)),
    }
}

/// The value at a dotted `path` (`customer.name`), `None` where a step is missing.
pub(crate) fn at<'v>(row: &'v Value, path: &str) -> Option<&'v Value> {
    path.split('.').try_fold(row, |v, key| v.get(key))
}
