//! The Switchyard runtime: what runs jobs, and the seam every partner system plugs into.
//!
//! Module map:
//! * [`integration`] — the [`integration::Integration`] trait: one partner system's config
//!   sections, adapters, job kinds, routes, scopes, webhook processors, migrations, metrics
//!   and `check` rules; [`assembly`] puts the integrations of a build together.
//! * [`job`] — [`job::JobHandler`], typed [`job::Job`]s and what a kind asks of its partner;
//!   [`context`]: the [`context::JobContext`] every handler gets (hub services only);
//!   [`registry`]: adapters ([`adapters`]) and job kinds, and the admission check.
//! * [`jobs`] — the kinds that work with any adapter: `partner.push`, `record.push`,
//!   `catalog.sync`, `maintenance.cleanup`, `inventory.reservations.expire`, `noop`;
//!   [`sync`]: the sync engine (core → partners); [`pull`]: the scheduled pull (a partner's
//!   records → the core catalog);
//!   [`webhooks`]: the inbound webhook intake and `webhook.process`;
//!   [`supplier`]: the supplier flows (order forwarding, status updates);
//!   [`storefront_orders`]: orders in from a storefront (Magento, Shopify): the pull and the
//!   import, written once.
//! * [`inbox`] — input files a job names, opened only beneath `[paths] inbox`, capped in
//!   size and time.
//! * [`worker`] — claim, run, ack; [`schedules`] and [`scheduler`]: cron files, fired once per
//!   tick across processes; [`cron_expr`]: a cron expression's problem pinned to its field.
//! * [`health`] — what each long-lived part reports about its database writes (read by
//!   `/readyz` and the worker); [`supervise`]: tasks that must not end, named when they do;
//!   [`backoff`]: the pause between retries while the database is away.
//! * [`config`] — the hub's config sections; [`toml_source`]: spans of a TOML file for
//!   located diagnostics; [`section`]: an integration's own sections, parsed strictly.
//! * [`secrets`] — AES-256-GCM credentials; [`mappings`]: the hot-reloaded mapping registry;
//!   [`logsink`]: exchanges → integration logs; [`pg`]: Postgres when it is not there.
//! * `testkit` (feature `testkit`) — the adapter conformance suite every adapter runs, and
//!   small helpers for adapters' tests.

pub mod adapters;
pub mod admission;
pub mod assembly;
pub mod backoff;
pub mod batch;
pub mod config;
pub mod context;
pub mod cron_expr;
pub mod health;
pub mod inbox;
pub mod integration;
pub mod job;
pub mod jobs;
pub mod logsink;
pub mod mappings;
pub mod notify;
pub mod partner_config;
pub mod partner_http;
pub mod pg;
pub mod pull;
pub mod registry;
pub mod scheduler;
pub mod schedules;
pub mod secrets;
pub mod section;
pub mod ssrf;
pub mod storefront_orders;
pub mod supervise;
pub mod supplier;
pub mod sync;
pub mod toml_source;
pub mod webhooks;
pub mod worker;

// Also in the crate's own unit tests, which use its FIFO helper.
#[cfg(any(test, feature = "testkit"))]
pub mod testkit;
