//! Comarch ERP Optima (`kind = "optima"`): sales invoices to Polish accounting.
//!
//! On-premise Optima has no public REST API; integrators use its offline XML import ("praca
//! rozproszona"). Each partner picks a surface: `xml-exchange` (files in an exchange folder,
//! local or SFTP, read back through a per-document result file) or `rest` (a partner REST
//! layer, `POST /api/faktury` with an API key and secret, as the MonoPilot PRD describes it).
//!
//! Module map:
//! * [`polish`] — the Polish rules, pure: NIP checksum, VAT rates, grosz rounding per line and
//!   per rate, net + VAT = gross, corrections (FSKOR).
//! * [`wire`] — the mapped invoice (the PRD's field table) and its check into
//!   [`wire::CheckedInvoice`].
//! * [`xml`] — windows-1250 in and out, a small element tree.
//! * [`offline`] — the offline XML writer and the result file.
//! * [`config`] — `[partners.NAME]` settings, strict, every problem located.
//! * [`adapter`] — [`OptimaAdapter`]: `push_invoices` over either surface, health.
//! * [`integration`] — [`OptimaIntegration`], what the daemon lists.
//! * [`chart`], [`chart_store`], [`chart_job`] — the chart of accounts: read from either
//!   surface, stored per organization (gone → inactive), `optima.accounts.sync`.
//! * [`invoices`] — the invoice ledger's SQL: invoices recorded for Optima, each one's sync
//!   status (migrations/1500).
//! * [`push_job`] — `optima.invoice.push`: one ledger invoice to Optima, its status kept.
//! * [`jpk`] — the JPK_V7M file in the period's form variant (2 or 3), pure; [`jpk_source`] —
//!   the markers a row takes from a ledger invoice (KSeF mark, GTU, procedures, date of
//!   supply); [`vat_register`] — a month's sales and purchase registers from the ledger, each
//!   invoice as its row; [`vat_reports`] — the reports' SQL and the `optima.vat_report` job
//!   (migrations/1502).
//! * [`routes`] — `/api/v1/integrations/comarch/…`: the connection test, invoices.
//! * `fake` (feature `fake`): the exchange-folder importer and the REST surface.

pub mod adapter;
pub mod chart;
pub mod chart_job;
pub mod chart_store;
pub mod config;
pub mod integration;
pub mod invoices;
pub mod jpk;
pub mod jpk_source;
pub mod offline;
pub mod polish;
pub mod push_job;
pub mod routes;
pub mod vat_register;
pub mod vat_reports;
pub mod wire;
pub mod xml;

#[cfg(feature = "fake")]
pub mod fake;

pub use adapter::OptimaAdapter;
pub use config::KIND;
pub use integration::OptimaIntegration;
