//! The REST API over real HTTP on loopback, against a fresh Postgres database per test.

mod common;

mod auth;
mod input;
mod logs;
mod orders;
mod queue;
mod readiness;
