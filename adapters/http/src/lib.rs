//! Generic HTTP/JSON endpoint adapter (`kind = "http"`).
//!
//! Posts mapped documents to a partner URL with configurable auth and the job's idempotency
//! key in a header, lists records page by page with a `cursor`, and checks `/healthz`.
//!
//! * [`config`]: the partner's config section, strict parsing, validation, credential resolution
//! * [`adapter`]: [`HttpAdapter`], the `Adapter` implementation; every request is one
//!   exchange record and one tracing span
//! * [`factory`]: [`HttpAdapterFactory`], registered by the daemon for kind `http`
//! * [`retry_after`]: `Retry-After` in delta-seconds and HTTP-date forms
//! * [`secret`]: a credential value whose `Debug` is redacted
//! * `fake` (feature `fake`): a faithful loopback partner: bearer auth, idempotency store,
//!   required fields, failure plan, token-bucket rate limit, paginated listing
//! * `conformance` (feature `fake`): checks every adapter with a fake should pass
//! * `testkit` (feature `fake`): an in-memory exchange sink and a map-backed secret resolver

pub mod adapter;
pub mod config;
pub mod factory;
pub mod retry_after;
pub mod secret;

#[cfg(feature = "fake")]
pub mod conformance;
#[cfg(feature = "fake")]
pub mod fake;
#[cfg(feature = "fake")]
pub mod testkit;

pub use adapter::HttpAdapter;
pub use config::{AuthConfig, HttpAdapterConfig, PushMethod, ValidatedConfig};
pub use factory::HttpAdapterFactory;
pub use secret::Secret;

/// The adapter kind in `[partners.NAME] kind = "http"`.
pub const KIND: &str = "http";
