//! The harness is the crate's own test kit (`switchyard_api::testkit`), shared with the
//! integrations' route tests.

#![allow(unused_imports)]

pub use switchyard_api::testkit::{
    all_but, assert_error_shape, code, hub_scopes, json, spawn, spawn_with, StubAdmission, TestApp,
};
