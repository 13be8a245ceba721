//! Row writers: a row's document (the `serde_json::Value` the store's query built) in, bytes
//! out. Each appends to a caller's buffer, which the caller flushes to a file or an HTTP body
//! whenever it is big enough: nothing here holds more than one row.
//!
//! A row reshaped by a mapping file goes to the writers of [`mapped`] the same way: one record
//! at a time, so a mapped export stays as flat in memory as a plain one.

pub mod csv;
pub mod json;
pub mod mapped;
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
