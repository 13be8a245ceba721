//! Writers of rows reshaped by a mapping file ([`crate::reshape`]). The records are the
//! mapping's, so the cells and elements come from the mapping engine's own record writers
//! (`switchyard_mapping::formats::write`: `csv_cells`, `xml_record`), called one record at a
//! time instead of on a whole document:
//!
//! - **CSV**: UTF-8 with BOM, CRLF, the header row is the mapping's output fields in rule
//!   order, nested ones dotted (`csv_columns`); the delimiter is the mapping's when its target
//!   is CSV (`;` for a spreadsheet in a decimal-comma locale), else `,`. Cells are what the
//!   mapping produced (a date is whatever the mapping made of it).
//! - **JSON**: the same pretty array as a plain export ([`super::json::JsonRows`]).
//! - **XML**: the generic shape of `schemas/export-mapped.xsd` ([`XSD`], namespace
//!   [`NAMESPACE`]): root `<export entity=".." mapping=".." mapping_version=".."
//!   generated_at="..">`, one `<record>` per row, in it the mapping engine's XML of the record
//!   (a key is an element, a nested object nested elements, a list repeated elements, `@name`
//!   keys attributes, a key that is no XML name `<field name="..">`, null an empty element).
//!   The schema fixes the envelope; the fields are the mapping's own and are not typed by it.

use super::csv::Shared;
use super::json::JsonRows;
use super::xml::xml_chars;
use super::RowWriter;
use crate::ExportError;
use chrono::{DateTime, SecondsFormat, Utc};
use quick_xml::events::{BytesDecl, BytesEnd, BytesStart, BytesText, Event};
use serde_json::Value;
use std::borrow::Cow;
use switchyard_mapping::formats::write::{csv_cells, csv_columns, xml_record};
use switchyard_mapping::{Format as MappingFormat, Mapping};
use switchyard_store::exports::{Entity, Format};

/// The mapped export schema's target namespace.
pub const NAMESPACE: &str = "urn:switchyard:export:mapped:1";

/// The schema of a mapped XML export, shipped in the repository and in the binary.
pub const XSD: &str = include_str!("../../schemas/export-mapped.xsd");

/// The element of one mapped record.
pub const RECORD: &str = "record";

/// The writer of `format` for rows mapped by `mapping`.
pub fn writer(
    entity: Entity,
    format: Format,
    mapping: &Mapping,
    generated_at: DateTime<Utc>,
) -> Box<dyn RowWriter> {
    match format {
        Format::Csv => Box::new(MappedCsv::new(mapping)),
        Format::Json => Box::new(JsonRows::default()),
        Format::Xml => Box::new(MappedXml::new(entity, mapping, generated_at)),
    }
}

pub struct MappedCsv {
    columns: Vec<String>,
    csv: ::csv::Writer<Shared>,
    written: Shared,
}

impl MappedCsv {
    pub fn new(mapping: &Mapping) -> Self {
        let delimiter = match mapping.target.format {
            MappingFormat::Csv => mapping.target.delimiter,
            _ => b',',
        };
        let written = Shared::default();
        Self {
            columns: csv_columns(&mapping.root),
            csv: written.csv(delimiter),
            written,
        }
    }
}

impl RowWriter for MappedCsv {
    fn begin(&mut self, out: &mut Vec<u8>) -> Result<(), ExportError> {
        out.extend_from_slice(super::csv::BOM);
        self.csv.write_record(&self.columns)?;
        self.written.drain(&mut self.csv, out)
    }

    fn row(&mut self, _: u64, row: &Value, out: &mut Vec<u8>) -> Result<(), ExportError> {
        self.csv.write_record(csv_cells(&self.columns, row))?;
        self.written.drain(&mut self.csv, out)
    }

    fn end(&mut self, out: &mut Vec<u8>) -> Result<(), ExportError> {
        self.written.drain(&mut self.csv, out)
    }
}

pub struct MappedXml {
    entity: Entity,
    mapping: String,
    version: String,
    generated_at: DateTime<Utc>,
}

impl MappedXml {
    pub fn new(entity: Entity, mapping: &Mapping, generated_at: DateTime<Utc>) -> Self {
        Self {
            entity,
            mapping: mapping.name.clone(),
            version: mapping.hash.clone(),
            generated_at,
        }
    }
}

fn xml_error(e: impl std::fmt::Display) -> ExportError {
    ExportError::Write(e.to_string())
}

/// `v` with every string XML 1.0 can carry (forbidden characters as U+FFFD, as the plain XML
/// export does); borrowed when nothing needs replacing, which is nearly always.
fn xml_safe(v: &Value) -> Cow<'_, Value> {
    fn dirty(v: &Value) -> bool {
        match v {
            Value::String(s) => matches!(xml_chars(s), Cow::Owned(_)),
            Value::Array(a) => a.iter().any(dirty),
            Value::Object(m) => m.iter().any(|(k, v)| dirty(v) || dirty_str(k)),
            _ => false,
        }
    }
    fn dirty_str(s: &str) -> bool {
        matches!(xml_chars(s), Cow::Owned(_))
    }
    fn clean(v: &Value) -> Value {
        match v {
            Value::String(s) => Value::String(xml_chars(s).into_owned()),
            Value::Array(a) => Value::Array(a.iter().map(clean).collect()),
            Value::Object(m) => Value::Object(
                m.iter()
                    .map(|(k, v)| (xml_chars(k).into_owned(), clean(v)))
                    .collect(),
            ),
            other => other.clone(),
        }
    }
    if dirty(v) {
        Cow::Owned(clean(v))
    } else {
        Cow::Borrowed(v)
    }
}

impl RowWriter for MappedXml {
    fn begin(&mut self, out: &mut Vec<u8>) -> Result<(), ExportError> {
        let mut xml = quick_xml::Writer::new(&mut *out);
        xml.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))
            .map_err(xml_error)?;
        xml.write_event(Event::Text(BytesText::new("\n")))
            .map_err(xml_error)?;
        let at = self.generated_at.to_rfc3339_opts(SecondsFormat::Secs, true);
        let root = BytesStart::new("export").with_attributes([
            ("xmlns", NAMESPACE),
            ("entity", self.entity.as_str()),
            ("mapping", self.mapping.as_str()),
            ("mapping_version", self.version.as_str()),
            ("generated_at", at.as_str()),
        ]);
        xml.write_event(Event::Start(root)).map_err(xml_error)
    }

    fn row(&mut self, _: u64, row: &Value, out: &mut Vec<u8>) -> Result<(), ExportError> {
        out.push(b'\n');
        xml_record(out, RECORD, &xml_safe(row)).map_err(xml_error)
    }

    fn end(&mut self, out: &mut Vec<u8>) -> Result<(), ExportError> {
        out.push(b'\n');
        quick_xml::Writer::new(&mut *out)
            .write_event(Event::End(BytesEnd::new("export")))
            .map_err(xml_error)?;
        out.push(b'\n');
        Ok(())
    }
}
