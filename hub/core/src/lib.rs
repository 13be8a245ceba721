//! The small core every other Switchyard crate depends on.
//!
//! * [`ids`] — newtype identifiers (`JobId`, `OrgId`, ...) so a job id can never be passed
//!   where a dead-letter id is expected.
//! * [`model`] — the canonical domain model (products, prices, inventory, orders, shipments,
//!   invoices, documents). Money and quantities are exact decimals, never `f64`.
//! * [`catalog`] — units of measure with their conversions and the pricing resolver (who
//!   pays what), pure functions over exact decimals.
//! * [`adapter`] — the [`adapter::Adapter`] trait every partner crate implements, its
//!   capabilities and its factory.
//! * [`error`] — [`error::AdapterError`], which carries the retry decision for the queue.
//! * [`clock`] — an injectable clock so retry timing is testable without sleeping.
//! * [`diag`] — [`diag::Diagnostic`], the one located problem (`file:line:col: message`).
//! * [`job`] — [`job::JobPayload`]: a job kind's parameters as a type, its kind string
//!   defined once beside them.
//! * [`ssrf`] — the SSRF guard's rules: which addresses a tenant's URL must not reach.
//! * [`supplier`] — [`supplier::Supplier`]: what the supplier flows need from a wholesaler
//!   (place an order, its status, status changes by poll or webhook).
//!
//! This crate deliberately has no dependency on sqlx, axum or reqwest: adapters depend on it
//! and must stay independent of the daemon (see docs/ARCHITECTURE.md).

pub mod adapter;
pub mod catalog;
pub mod clock;
pub mod diag;
pub mod error;
pub mod ids;
pub mod job;
pub mod model;
pub mod notify;
pub mod redact;
pub mod ssrf;
pub mod supplier;

pub use adapter::{
    Adapter, AdapterContext, AdapterFactory, Capability, OutboundDocument, PushReceipt,
};
pub use clock::{Clock, ManualClock, SystemClock};
pub use diag::{Diagnostic, Diagnostics, Loc};
pub use error::{AdapterError, ErrorClass};
pub use job::JobPayload;
