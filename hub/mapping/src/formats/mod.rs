//! Document formats in and out. [`Format`] is the extension point: the EDI issue adds X12 and
//! EDIFACT variants here (readers turning interchanges into record trees, writers back), and
//! the compiler and executor need no change because rules only see `serde_json::Value` trees.

pub mod read;
pub mod write;

use crate::schema::Entity;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// A canonical entity as JSON (typed: paths and fields are checked against the model).
    Canonical(Entity),
    Json,
    JsonLines,
    Csv,
    Xml,
}

impl Format {
    pub const NAMES: &'static str = "canonical, json, jsonl, csv, xml";

    pub fn parse(s: &str, entity: Option<Entity>) -> Option<Format> {
        Some(match s {
            "canonical" => Format::Canonical(entity?),
            "json" => Format::Json,
            "jsonl" | "json-lines" | "ndjson" => Format::JsonLines,
            "csv" => Format::Csv,
            "xml" => Format::Xml,
            _ => return None,
        })
    }

    /// Whether this format with the `lines` option is read and written as JSON lines.
    pub fn is_lines(self, lines: bool) -> bool {
        self == Format::JsonLines || (lines && matches!(self, Format::Canonical(_)))
    }

    pub fn entity(self) -> Option<Entity> {
        match self {
            Format::Canonical(e) => Some(e),
            _ => None,
        }
    }
}

/// How to read the input.
#[derive(Debug, Clone)]
pub struct SourceSpec {
    pub format: Format,
    /// For JSON and XML: where the records are (an array, or one object), e.g. `Orders.Order`.
    pub records: Option<crate::path::Path>,
    pub delimiter: u8,
    /// Canonical entities one per line (JSON lines) rather than one JSON document.
    pub lines: bool,
}

/// How to write the output.
#[derive(Debug, Clone)]
pub struct TargetSpec {
    pub format: Format,
    /// CSV: write a UTF-8 byte-order mark (spreadsheet imports need it).
    pub bom: bool,
    pub delimiter: u8,
    /// XML root element and per-record element names.
    pub xml_root: String,
    pub xml_record: String,
    /// JSON: always write an array, even for a single-object input.
    pub always_array: bool,
    /// Canonical entities one per line (JSON lines).
    pub lines: bool,
}
