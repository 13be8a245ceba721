//! WesellCellular's tenant API (`kind = "wesellcellular"`), a PhoneX-style B2B wholesale
//! portal reached directly, as a supplier.
//!
//! * [`wire`]: every shape the tenant sends or takes (all provisional, see README.md)
//! * [`config`]: the `[partners.NAME]` section, strict, validated, credentials resolved
//! * [`token`]: the JWT bearer token, renewed before its `exp` and on a 401, single flight
//! * [`client`]: requests, exchanges, error classes
//! * [`stock`]: the paged stock list as pull pages (`inventory`, `prices`)
//! * [`supplier`]: sales orders placed, read and polled (the status poll's cursor)
//! * [`adapter`]: [`WesellAdapter`], the [`switchyard_core::Adapter`] and
//!   [`switchyard_core::supplier::Supplier`]
//! * [`integration`]: [`WesellIntegration`] and [`WesellFactory`]
//! * `fake` (feature `fake`): a faithful fake tenant over loopback HTTP

pub mod adapter;
pub mod client;
pub mod config;
pub mod integration;
pub mod stock;
pub mod supplier;
pub mod token;
pub mod wire;

#[cfg(feature = "fake")]
pub mod fake;

pub use adapter::WesellAdapter;
pub use config::KIND;
pub use integration::{WesellFactory, WesellIntegration};
