//! Reading an uploaded file through a mapping: one [`NewRow`] per record, valid (the canonical
//! product) or not (its errors, named by the file's own field and the canonical one). Pure:
//! the store's checks come after, in [`crate::flow`].

use crate::product;
use serde_json::Value;
use switchyard_mapping::formats::read::read_all;
use switchyard_mapping::schema::Entity;
use switchyard_mapping::{Format, Mapping, RunState};
use switchyard_store::imports::{NewRow, RowError};
use switchyard_store::storable::{first_unstorable, make_storable};

/// A file read through a mapping.
#[derive(Debug)]
pub struct ReadFile {
    /// `csv`, `json`, `jsonl`, `xml`.
    pub format: &'static str,
    pub rows: Vec<NewRow>,
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
    let format = format_name(mapping);
    let records = match read_all(&mapping.source, bytes) {
        Ok(r) => r,
        Err(e) => {
            return ReadFile {
                format,
                rows: Vec::new(),
                error: Some(format!("the file is not valid {format}: {e}")),
            }
        }
    };
    let sku_field = mapping.source_of("sku");
    let mut state = RunState::default();
    let rows = records
        .into_iter()
        .map(|r| {
            let mapped = match &r.doc {
                Some(doc) => mapping.map_record_in(&r.value, doc, &mut state),
                None => mapping.map_record(&r.value, &mut state),
            };
            let checked = match (first_unstorable(&r.value), mapped) {
                // Postgres cannot keep it as sent: the row is stored escaped, as an error.
                (Some((pointer, why)), _) => Err(RowError {
                    field: field_of_pointer(&pointer),
                    target: None,
                    message: why.to_string(),
                }),
                (None, Err(e)) => Err(RowError {
                    field: mapping
                        .source_of(&e.target)
                        .unwrap_or_else(|| e.target.clone()),
                    target: Some(e.target),
                    message: e.message,
                }),
                (None, Ok(p)) => product::check(&p).map(|()| p),
            };
            let sku = match &checked {
                Ok(p) => p.get("sku").and_then(Value::as_str).map(str::to_owned),
                Err(_) => sku_field
                    .as_deref()
                    .and_then(|f| r.value.get(f))
                    .and_then(Value::as_str)
                    .map(|s| s.trim().to_owned())
                    .filter(|s| !s.is_empty() && !s.contains('\0')),
            };
            let (product, errors) = match checked {
                Ok(p) => (Some(p), Vec::new()),
                Err(e) => (None, vec![e]),
            };
            NewRow {
                number: i32::try_from(r.number).unwrap_or(i32::MAX),
                location: r.location,
                sku,
                source: make_storable(r.value),
                product,
                errors,
            }
        })
        .collect();
    ReadFile {
        format,
        rows,
        error: None,
    }
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
