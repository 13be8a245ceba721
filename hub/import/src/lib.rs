//! Product imports, the catalog's second way in (issue #11: "fed three ways"): a file in any
//! format a mapping file reads (MonoPilot's CSV product template, JSON, XML) is read through
//! the mapping, every row checked and stored with what the mapping made of it or its errors
//! ([`upload`]); a client looks at the errors and a preview, then confirms with a conflict
//! policy and per-row overrides ([`confirm`]), and the valid rows go through the same upsert as
//! `PUT /api/v1/catalog/products`, so they land in the same table and move the same change feed.
//!
//! BOMs (issue #17) take the same path: a file of BOM lines read through a mapping
//! (`monopilot/bom.import`), checked against the catalog, stored as an import of entity
//! `boms`, confirmed into `boms` / `bom_items`.
//!
//! Module map:
//! - [`read`]: bytes → rows (pure: the mapping, the canonical product or BOM line, the row's
//!   errors placed at their column with the value sent)
//! - [`table`]: XLSX workbooks (calamine) and JSON tables as the records of a CSV file
//! - [`entity`]: what each entity's import needs (default mapping, sheet, example row)
//! - [`product`]: a canonical product as the catalog stores it, created or laid over a stored one
//! - [`bom`]: a BOM line's checks, the catalog's, and applying a BOM import
//! - [`flow`]: upload and confirm against the store (products in batches of [`BATCH`])
//! - [`report`]: what a client is shown: totals, errors by row and field, preview, outcomes
//! - [`template`]: the header row a template file starts with; CSV and XLSX templates

pub mod bom;
pub mod entity;
pub mod flow;
pub mod product;
pub mod read;
pub mod report;
pub mod table;
pub mod template;

pub use entity::EntityImport;
pub use flow::{confirm, upload, upload_file, ImportError, Upload};
pub use read::Input;
pub use report::{report, ImportReport};
pub use switchyard_store::imports::ImportEntity;

use std::sync::Arc;
use switchyard_mapping::{Mapping, MappingRegistry};

/// Rows applied per transaction when an import is confirmed (what one REST bulk call takes).
pub const BATCH: usize = 1000;

/// Rows a preview shows.
pub const PREVIEW_ROWS: usize = 10;

/// Where imports find their mapping files: the daemon's hot-reloaded mappings, or a registry
/// loaded once (the CLI, tests).
pub trait MappingSource: Send + Sync {
    /// The current version of mapping `name`, or why there is none.
    fn mapping(&self, name: &str) -> Result<Arc<Mapping>, String>;
}

impl MappingSource for MappingRegistry {
    fn mapping(&self, name: &str) -> Result<Arc<Mapping>, String> {
        self.get(name).ok_or_else(|| match self.errors(name) {
            Some(d) => format!("mapping `{name}` does not compile: {d}"),
            None => format!("no mapping named `{name}` under the mappings directory"),
        })
    }
}
