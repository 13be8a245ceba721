//! Postgres storage for Switchyard.
//!
//! * [`db`] — connecting, the embedded [`MIGRATOR`] over `migrations/`.
//! * [`orgs`] — tenants.
//! * [`queue`] — the job queue — enqueue, batched claim with `FOR UPDATE SKIP LOCKED`, leases,
//!   batched acks, retries with persisted `run_at`, dead letters and replay.
//! * [`logs`] — integration log rows, filtered listing, stats.
//! * [`edi`] — EDI messages (inbox/outbox, duplicates) and per-partner control numbers.
//! * [`keys`] — API keys (hashed), scopes, tiers, lifecycle.
//! * [`orders`] — customers (with EDI party ids), products, orders with review errors.
//!
//! All SQL is written here, with runtime-checked queries (no `DATABASE_URL` needed to build).

mod cursor;
pub mod db;
pub mod edi;
pub mod keys;
pub mod logs;
pub mod orders;
pub mod orgs;
pub mod queue;

pub use db::{connect, StoreError, MIGRATOR};
