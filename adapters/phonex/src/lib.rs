//! PhoneX, the supplier middleware (`kind = "phonex"`): our orders forwarded to the wholesaler
//! behind it, status changes back by signed webhook, its stock list and prices pulled.
//!
//! * [`wire`]: every PhoneX path, header, field name and status word (all provisional)
//! * [`config`]: the `[partners.NAME]` section, strict, validated, credentials resolved
//! * [`client`]: the HTTP transport, one exchange per request, errors into retry classes
//! * [`webhook`]: `X-PhoneX-Signature` verification and the `order.status_updated` body
//! * [`adapter`]: [`PhonexAdapter`], the [`switchyard_core::Adapter`] and
//!   [`switchyard_core::supplier::Supplier`]
//! * [`integration`]: [`PhonexIntegration`] and [`PhonexFactory`]
//! * `fake` (feature `fake`): a faithful PhoneX over loopback HTTP that sends signed webhooks

pub mod adapter;
pub mod client;
pub mod config;
pub mod integration;
pub mod webhook;
pub mod wire;

#[cfg(feature = "fake")]
pub mod fake;

pub use adapter::PhonexAdapter;
pub use config::KIND;
pub use integration::{PhonexFactory, PhonexIntegration};
