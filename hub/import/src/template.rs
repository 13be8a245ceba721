//! An import template: the header row of the file a mapping reads, from the fields its rules
//! copy (MonoPilot's "download template with headers", FR-INT-018 step 1).

use crate::read::format_name;
use switchyard_mapping::{Format, Mapping};

/// The mapping reads something other than CSV: a header row would not describe its file.
#[derive(Debug, thiserror::Error)]
#[error("mapping `{mapping}` reads {format}; templates are CSV header rows")]
pub struct NotCsv {
    pub mapping: String,
    pub format: &'static str,
}

/// The template file: the header row, quoted where a name needs it, in the mapping's delimiter.
pub fn template(mapping: &Mapping) -> Result<Vec<u8>, NotCsv> {
    if mapping.source.format != Format::Csv {
        return Err(NotCsv {
            mapping: mapping.name.clone(),
            format: format_name(mapping),
        });
    }
    let mut w = csv::WriterBuilder::new()
        .delimiter(mapping.source.delimiter)
        .from_writer(Vec::new());
    // Writing to memory cannot fail; an empty mapping gives an empty file.
    let fields = mapping.source_fields();
    if !fields.is_empty() {
        let _ = w.write_record(&fields);
    }
    Ok(w.into_inner().unwrap_or_default())
}
