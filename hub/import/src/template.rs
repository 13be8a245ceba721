//! An import template: the header row of the file a mapping reads, from the fields its rules
//! copy (MonoPilot's "download template with headers", FR-INT-018 step 1), alone or with an
//! example row, as CSV or as an XLSX workbook.

use crate::entity::EntityImport;
use crate::read::format_name;
use switchyard_mapping::{Format, Mapping};
use switchyard_store::imports::ImportEntity;

/// The mapping reads something other than CSV: a header row would not describe its file.
#[derive(Debug, thiserror::Error)]
#[error("mapping `{mapping}` reads {format}; templates are CSV header rows")]
pub struct NotCsv {
    pub mapping: String,
    pub format: &'static str,
}

/// The template file: the header row, quoted where a name needs it, in the mapping's delimiter.
pub fn template(mapping: &Mapping) -> Result<Vec<u8>, NotCsv> {
    let fields = tabular_fields(mapping)?;
    let mut w = csv::WriterBuilder::new()
        .delimiter(mapping.source.delimiter)
        .from_writer(Vec::new());
    // Writing to memory cannot fail; an empty mapping gives an empty file.
    if !fields.is_empty() {
        let _ = w.write_record(&fields);
    }
    Ok(w.into_inner().unwrap_or_default())
}

/// The template of `entity` as a CSV file: the header row and an example row (the columns
/// the example does not know left empty), UTF-8 with a BOM so Excel opens it as UTF-8.
pub fn csv_with_example(mapping: &Mapping, entity: ImportEntity) -> Result<Vec<u8>, NotCsv> {
    let fields = tabular_fields(mapping)?;
    let mut w = csv::WriterBuilder::new()
        .delimiter(mapping.source.delimiter)
        .from_writer(b"\xef\xbb\xbf".to_vec());
    // Writing to memory cannot fail.
    if !fields.is_empty() {
        let _ = w.write_record(&fields);
        let _ = w.write_record(fields.iter().map(|f| entity.example(f).unwrap_or_default()));
    }
    Ok(w.into_inner().unwrap_or_default())
}

/// The template of `entity` as an XLSX workbook (rust_xlsxwriter): one sheet named for the
/// entity (the sheet an upload is read from), the header row in bold and frozen, an example
/// row with numbers as numbers, as a spreadsheet user would type them.
pub fn xlsx(mapping: &Mapping, entity: ImportEntity) -> Result<Vec<u8>, TemplateError> {
    use rust_xlsxwriter::{Format as Cell, Workbook};
    let fields = tabular_fields(mapping)?;
    let mut book = Workbook::new();
    let sheet = book.add_worksheet();
    sheet.set_name(entity.sheet_name())?;
    let bold = Cell::new().set_bold();
    for (col, field) in fields.iter().enumerate() {
        let col = u16::try_from(col).map_err(|_| TemplateError::TooWide(fields.len()))?;
        sheet.write_string_with_format(0, col, field, &bold)?;
        sheet.set_column_width(col, (field.chars().count().max(12) + 2) as f64)?;
        match entity.example(field) {
            // A code that looks like a number stays text only where it is a code.
            Some(v) if field != "tax_code" && v.parse::<f64>().is_ok() => {
                sheet.write_number(1, col, v.parse::<f64>().unwrap_or_default())?;
            }
            Some(v) => {
                sheet.write_string(1, col, v)?;
            }
            None => {}
        }
    }
    sheet.set_freeze_panes(1, 0)?;
    Ok(book.save_to_buffer()?)
}

/// Why an XLSX template could not be written.
#[derive(Debug, thiserror::Error)]
pub enum TemplateError {
    #[error(transparent)]
    NotCsv(#[from] NotCsv),
    #[error("{0} columns do not fit a worksheet")]
    TooWide(usize),
    #[error("writing the workbook: {0}")]
    Xlsx(#[from] rust_xlsxwriter::XlsxError),
}

/// The columns of a mapping that reads a table (a CSV header row).
fn tabular_fields(mapping: &Mapping) -> Result<Vec<String>, NotCsv> {
    if mapping.source.format != Format::Csv {
        return Err(NotCsv {
            mapping: mapping.name.clone(),
            format: format_name(mapping),
        });
    }
    Ok(mapping.source_fields())
}
