//! Product imports, the catalog's second way in (issue #11: "fed three ways"): a file in any
//! format a mapping file reads (MonoPilot's CSV product template, JSON, XML) is read through
//! the mapping, every row checked and stored with what the mapping made of it or its errors
//! ([`upload`]); a client looks at the errors and a preview, then confirms with a conflict
//! policy and per-row overrides ([`confirm`]), and the valid rows go through the same upsert as
//! `PUT /api/v1/catalog/products`, so they land in the same table and move the same change feed.
//!
//! Module map:
//! - [`read`]: bytes → rows (pure: the mapping, the canonical product, the row's errors)
//! - [`product`]: a canonical product as the catalog stores it, created or laid over a stored one
//! - [`flow`]: upload and confirm against the store (batches of [`BATCH`])
//! - [`report`]: what a client is shown: totals, errors by row and field, preview, outcomes
//! - [`template`]: the header row a template file starts with

pub mod flow;
pub mod product;
pub mod read;
pub mod report;
pub mod template;

pub use flow::{confirm, upload, ImportError};
pub use report::{report, ImportReport};

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
