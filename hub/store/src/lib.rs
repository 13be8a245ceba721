//! Postgres storage for the hub: every piece of SQL of the hub's own tables. (An integration
//! that owns tables keeps their SQL in its own crate: EDI messages and control numbers live
//! in adapters/edi/van.)
//!
//! * [`db`] — connecting, the embedded [`MIGRATOR`] over `migrations/`.
//! * [`orgs`] — tenants; [`partner_refs`] — the partner's ids for what we pushed to it.
//! * [`queue`] — the job queue — enqueue, batched claim with `FOR UPDATE SKIP LOCKED`, leases,
//!   batched acks, retries with persisted `run_at`, dead letters and replay. A facade that
//!   re-exports the private `jobs`, `dead_letters` and `retry` modules.
//! * [`logs`] — integration log rows, filtered listing, stats.
//! * [`keys`] — API keys (hashed), scopes, tiers, lifecycle.
//! * [`orders`] — customers (with EDI party ids), products, orders with review errors;
//!   [`order_intake`] — orders created through the API (idempotent); [`order_status`] —
//!   hold, release and cancel of an order; [`shipments`] — what
//!   left for an order, moving it to partially shipped / shipped; [`invoices`] — invoices
//!   with their lines.
//! * [`pricing`] — price lists, tiers, customer discounts, contracts, volume breaks and
//!   product unit conversions: the resolver's inputs in one query, and every price write.
//! * [`catalog`] — products with their storefront data and variants, tombstones;
//!   [`inventory`] — locations, stock levels, soft reservations; [`feed`] — the change feed
//!   (per organization, in commit order) every outbound sync reads.
//! * [`imports`] — product and BOM imports: an uploaded file's rows, their errors, decisions
//!   and outcomes; [`boms`] — bills of materials, versioned per product.
//! * [`webhooks`] — inbound webhook deliveries, deduplicated by the partner's event id.
//! * [`events`] — the domain events of the transactional outbox (written by triggers);
//!   [`webhook_endpoints`] — outbound webhook endpoints and their delivery attempts.
//! * [`schedules`] — the last tick each schedule fired; [`secrets`] — sealed credentials.
//! * [`sync`] — the sync engine's confirmed hashes per item, checkpoints and run lock.
//! * [`pull`] — the scheduled pull's cursor and last-run figures per partner and entity.
//! * [`cursor`] — the keyset cursor every newest-first listing pages with.
//! * [`storable`] — what `text` and `jsonb` refuse (NUL, numbers out of range): found to
//!   refuse at the edge, escaped where a row must be kept whatever it holds (the logs).
//! * [`begin`] — a transaction that cancelling the caller cannot leave open on a pooled
//!   connection (sqlx's own `Pool::begin` can; see the module).
//!
//! Queries are runtime-checked (no `DATABASE_URL` needed to build).

#[macro_use]
mod macros;

pub mod boms;
pub mod catalog;
pub mod cursor;
pub mod db;
mod dead_letters;
pub mod events;
pub mod exports;
pub mod feed;
pub mod imports;
pub mod inventory;
pub mod invoices;
mod jobs;
pub mod keys;
pub mod logs;
pub mod low_stock;
pub mod notifications;
pub mod order_intake;
pub mod order_status;
pub mod orders;
pub mod orgs;
pub mod partner_refs;
pub mod pricing;
pub mod pull;
pub mod queue;
mod replays;
mod retry;
pub mod schedules;
pub mod sealing;
pub mod secrets;
pub mod shipments;
pub mod storable;
pub mod suppliers;
pub mod sync;
mod tx;
pub mod webhook_endpoints;
pub mod webhook_health;
pub mod webhook_replays;
pub mod webhooks;

pub use db::{connect, connect_with_timeout, StoreError, MIGRATOR};
pub use tx::begin;
