//! The REST API over real HTTP on loopback, against a fresh Postgres database per test.

mod common;

mod auth;
mod catalog;
mod hostile_input;
mod imports;
mod imports_v1;
mod input;
mod key_authority;
mod logs;
mod orders;
mod pricing;
mod queue;
mod readiness;
mod shipinv;
mod slow_clients;
