//! Shared test kit for adapters and integrations (feature `testkit`).
//!
//! * [`conformance`] — the adapter conformance suite every adapter runs against its fake:
//!   push, pull, webhooks, health, config strictness, and refusal of what it does not declare.
//! * [`doubles`] — an exchange sink that keeps what it receives, a secret resolver over a map,
//!   and an adapter-call context builder.
//! * [`fs`] — a FIFO, for tests that nothing blocks on one.
//! * [`python`] — a venv with pinned PyPI packages, for third-party implementations used as
//!   test oracles.
//! * [`supplier`] — helpers shared by the supplier adapters' tests.
//! * [`smtp_sink`] — a real SMTP server on loopback that keeps what it accepts and refuses on
//!   demand (the notification tests, the demo).

pub mod conformance;
pub mod doubles;
pub mod fs;
pub mod python;
pub mod smtp_sink;
pub mod supplier;
