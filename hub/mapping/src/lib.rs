//! The mapping engine: declarative TOML mapping files compiled once into execution plans.
//!
//! Module map:
//! - [`compile`]: mapping TOML → [`plan::Mapping`], all problems at once as located [`Diagnostic`]s
//! - [`plan`]: the compiled plan; [`exec`]: running it over one record
//! - [`expr`]: jq expressions through jaq (why jaq: see its module docs and README.md)
//! - [`ops`]: coercions, string functions, decimals, units of measure; [`lookup`]: cross-reference tables
//! - [`formats`]: readers and writers (canonical JSON, JSON, JSON-lines, CSV, XML; EDI extends [`formats::Format`])
//! - [`schema`]: field schemas of the canonical entities for load-time checks
//! - `fields`: the source fields a mapping reads (import templates) and which fills a target
//! - [`pairs`]: example-pair tests under `fixtures/mappings/<name>/`
//! - [`registry`]: every mapping of a directory by name and content hash, with hot reload
//! - [`cli`]: `switchyard check` and `switchyard map`, for the daemon to wire

pub mod cli;
pub mod compile;
pub mod exec;
pub mod expr;
mod fields;
pub mod formats;
pub mod lookup;
pub mod ops;
pub mod pairs;
pub mod path;
pub mod plan;
pub mod registry;
pub mod run;
pub mod schema;
mod tree;

pub use compile::{compile_file, compile_str};
pub use exec::{RuleError, RunState};
pub use formats::Format;
pub use plan::Mapping;
pub use registry::{MappingRegistry, ReloadReport};
pub use run::{MapOutcome, RecordFailure};
pub use switchyard_core::diag::{Diagnostic, Diagnostics, Loc};
