//! Reading an uploaded file through a mapping: one [`NewRow`] per record, valid (the canonical
//! product) or not (its errors, named by the file's own field and the canonical one). Pure:
//! the store's checks come after, in [`crate::flow`].

use crate::entity::EntityImport;
use crate::table::{column_letter, csv_columns, read_json_table, read_xlsx, Table};
use crate::{bom, product};
use serde_json::Value;
use switchyard_mapping::formats::read::read_all;
use switchyard_mapping::schema::Entity;
use switchyard_mapping::{Format, Mapping, RunState};
use switchyard_store::imports::{ImportEntity, NewRow, RowError};
use switchyard_store::storable::{first_unstorable, make_storable};

/// A file read through a mapping.
#[derive(Debug)]
pub struct ReadFile {
    /// `csv`, `json`, `jsonl`, `xml`, `xlsx`.
    pub format: &'static str,
    pub rows: Vec<NewRow>,
    /// The header row of a tabular file (CSV, XLSX, a JSON table), which places an error in
    /// its column; empty for a document.
    pub columns: Vec<String>,
    /// The file could not be read at all (not CSV, not well-formed JSON or XML).
    pub error: Option<String>,
}

/// Whether `mapping` makes canonical products (the only thing an import stores).
pub fn makes_products(mapping: &Mapping) -> bool {
    mapping.target.format == Format::Canonical(Entity::Product)
}

/// The format name of what the mapping reads.
pub fn format_name(mapping: &Mapping) -> &'static str {
    match mapping.source.format {
        f if f.is_lines(mapping.source.lines) => "jsonl",
        Format::Csv => "csv",
        Format::Xml => "xml",
        Format::Json | Format::JsonLines | Format::Canonical(_) => "json",
    }
}

/// Read every record of `bytes` and map it; one bad record never stops the others.
pub fn read_file(mapping: &Mapping, bytes: &[u8]) -> ReadFile {
    read_as(mapping, bytes, Input::Mapping, ImportEntity::Products)
}

/// How an uploaded file is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Input {
    /// In the format the mapping reads (CSV, JSON, XML).
    Mapping,
    /// An XLSX workbook of the columns a CSV mapping reads.
    Xlsx,
    /// A JSON array of rows keyed by the columns a CSV mapping reads.
    JsonTable,
}

/// Read `bytes` as `input` and map each record for `entity`; one bad record never stops the
/// others. An error is placed by the file's header name and, for a table, its column letter,
/// with the value the cell holds.
pub fn read_as(mapping: &Mapping, bytes: &[u8], input: Input, entity: ImportEntity) -> ReadFile {
    let (format, table) = match input {
        Input::Mapping => {
            let format = format_name(mapping);
            let table = read_all(&mapping.source, bytes)
                .map(|records| Table {
                    columns: if mapping.source.format == Format::Csv {
                        csv_columns(bytes, mapping.source.delimiter)
                    } else {
                        Vec::new()
                    },
                    records,
                })
                .map_err(|e| e.to_string());
            (format, table)
        }
        Input::Xlsx => ("xlsx", read_xlsx(bytes, entity.sheet_name())),
        Input::JsonTable => ("json", read_json_table(bytes)),
    };
    match table {
        Ok(table) => ReadFile {
            format,
            rows: map_records(mapping, &table, entity),
            columns: table.columns,
            error: None,
        },
        Err(e) => ReadFile {
            format,
            rows: Vec::new(),
            columns: Vec::new(),
            error: Some(format!("the file is not valid {format}: {e}")),
        },
    }
}

/// Place an error at its column (`field`'s position in the header row `columns`) with the value
/// the record holds there, as sent.
pub fn locate(mut e: RowError, columns: &[String], record: &Value) -> RowError {
    if e.column.is_none() {
        e.column = columns
            .iter()
            .position(|c| *c == e.field)
            .map(column_letter);
    }
    if e.value.is_none() {
        e.value = record.get(&e.field).map(|v| match v {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        });
    }
    e
}

fn map_records(mapping: &Mapping, table: &Table, entity: ImportEntity) -> Vec<NewRow> {
    let key_target = entity.key();
    let key_field = mapping.source_of(key_target);
    let mut state = RunState::default();
    let place = |mut e: RowError, record: &Value| {
        // A check on the mapped value names the canonical field: name the file's instead.
        if e.target.as_deref() == Some(e.field.as_str()) {
            if let Some(f) = mapping.source_of(&e.field) {
                e.field = f;
            }
        }
        locate(e, &table.columns, record)
    };
    table
        .records
        .iter()
        .map(|r| {
            let mapped = match &r.doc {
                Some(doc) => mapping.map_record_in(&r.value, doc, &mut state),
                None => mapping.map_record(&r.value, &mut state),
            };
            let checked = match (first_unstorable(&r.value), mapped) {
                // Postgres cannot keep it as sent: the row is stored escaped, as an error.
                (Some((pointer, why)), _) => Err(vec![RowError::at(
                    &field_of_pointer(&pointer),
                    None,
                    why.to_string(),
                )]),
                (None, Err(e)) => Err(vec![RowError::at(
                    &mapping
                        .source_of(&e.target)
                        .unwrap_or_else(|| e.target.clone()),
                    Some(&e.target),
                    e.message,
                )]),
                (None, Ok(p)) => match entity {
                    ImportEntity::Products => product::check(&p).map(|()| p),
                    ImportEntity::Boms => bom::check_line(&p).map(|()| p),
                },
            };
            let key = match &checked {
                Ok(p) => p.get(key_target).and_then(Value::as_str).map(str::to_owned),
                Err(_) => key_field
                    .as_deref()
                    .and_then(|f| r.value.get(f))
                    .and_then(Value::as_str)
                    .map(|s| s.trim().to_owned())
                    .filter(|s| !s.is_empty() && !s.contains('\0')),
            };
            // The value an error quotes comes from the stored copy: a NUL sent is kept escaped.
            let source = make_storable(r.value.clone());
            let (product, errors) = match checked {
                Ok(p) => (Some(p), Vec::new()),
                Err(e) => (None, e.into_iter().map(|e| place(e, &source)).collect()),
            };
            NewRow {
                number: i32::try_from(r.number).unwrap_or(i32::MAX),
                location: r.location.clone(),
                sku: key,
                source,
                product,
                errors,
            }
        })
        .collect()
}

/// `/name` → `name`; a deeper pointer stays as it is.
fn field_of_pointer(pointer: &str) -> String {
    let inner = pointer.trim_start_matches('/');
    if inner.contains('/') || inner.is_empty() {
        pointer.to_owned()
    } else {
        inner.replace("~1", "/").replace("~0", "~")
    }
}
