//! The Switchyard daemon as a library, so the demo, the benchmarks and the end-to-end tests
//! start exactly what `switchyard run` starts.
//!
//! * [`config`] — figment config with located errors; [`diag`]: `file:line:col: message`.
//! * [`app`] — wiring and [`app::start`]; [`worker`]: claim/run/ack loop; [`handlers`]: job kinds.
//! * [`schedules`] — cron files, once-per-tick across processes; [`adapters`]: the registry.
//! * [`secrets`] — AES-256-GCM credentials; [`logsink`]: exchanges → integration logs.
//! * [`demo`], [`bench`], [`check`]: subcommands; [`pg`]: Postgres helpers.

pub mod adapters;
pub mod app;
pub mod bench;
pub mod check;
pub mod config;
pub mod demo;
pub mod diag;
pub mod edi_acks;
pub mod edi_mailbox;
pub mod edi_orders;
pub mod edi_outbound;
pub mod edi_partners;
pub mod edi_send;
pub mod edi_sftp;
pub mod edi_transport;
pub mod handlers;
pub mod logsink;
pub mod pg;
pub mod schedules;
pub mod secrets;
pub mod worker;
