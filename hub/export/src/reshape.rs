//! Reshaping an export through a mapping file (FR-INT-024: "each format through the mapping
//! engine's writers so a mapping file can reshape an export"). Each exported row — the
//! entity's document as the store's query builds it, what the plain JSON export shows — is one
//! input record of the mapping; its output is the record written (the CSV columns are the
//! mapping's output fields, [`crate::write::mapped`]). A row the mapping fails on stops the
//! export naming the row and the output field: a file with a row silently missing would be
//! worse than no file.

use crate::ExportError;
use serde_json::Value;
use switchyard_mapping::{Format, Mapping, RunState};
use switchyard_store::exports::Format as ExportFormat;

/// Refuses a mapping that cannot read export rows: they are JSON objects, so the mapping's
/// source must be `json` (or `jsonl`, the same records one per line). Its target format does
/// not matter: the export's format decides how the mapped records are written, and the
/// target is what `switchyard check` compares the example pairs in.
pub fn check(mapping: &Mapping, _format: ExportFormat) -> Result<(), ExportError> {
    match mapping.source.format {
        Format::Json | Format::JsonLines => Ok(()),
        other => Err(ExportError::Unfit {
            mapping: mapping.name.clone(),
            message: format!(
                "reads {}; a mapping that reshapes an export reads each row as JSON \
                 (source = {{ format = \"json\" }})",
                name(other)
            ),
        }),
    }
}

fn name(f: Format) -> &'static str {
    match f {
        Format::Canonical(_) => "a canonical entity",
        Format::Json => "json",
        Format::JsonLines => "jsonl",
        Format::Csv => "csv",
        Format::Xml => "xml",
    }
}

/// One export's mapping run. `RunState` holds the values of `unique` rules seen so far, the
/// only memory that grows with the row count (and only for mappings that ask for it).
pub struct Reshape<'m> {
    mapping: &'m Mapping,
    state: RunState,
}

impl<'m> Reshape<'m> {
    pub fn new(mapping: &'m Mapping) -> Self {
        Self {
            mapping,
            state: RunState::default(),
        }
    }

    /// Row `index` (from 1) mapped, or the error naming it.
    pub fn row(&mut self, index: u64, row: &Value) -> Result<Value, ExportError> {
        self.mapping
            .map_record(row, &mut self.state)
            .map_err(|e| ExportError::Mapping {
                row: index,
                field: e.target,
                mapping: self.mapping.name.clone(),
                rule: e.rule_loc.to_string(),
                message: e.message,
            })
    }
}
