//! Generic HTTP/JSON endpoint adapter (`kind = "http"`).
//!
//! Posts mapped documents to a partner URL with configurable auth and the job's idempotency
//! key in a header, lists records page by page with a `cursor`, and checks `/healthz`.
//!
//! * [`config`]: the partner's config section, strict parsing, validation, credential resolution
//! * [`adapter`]: [`HttpAdapter`], the `Adapter` implementation; every request is one
//!   exchange record and one tracing span
//! * [`factory`]: [`HttpAdapterFactory`], registered by the daemon for kind `http`
//! * [`pacing`]: [`pacing::Pacer`], the per-partner client-side rate limit and the shared pause
//!   a 429's `Retry-After` starts
//! * [`retry_after`]: `Retry-After` in delta-seconds and HTTP-date forms
//! * [`secret`]: a credential value whose `Debug` is redacted
//! * [`webhook`]: Standard Webhooks signatures, verified on `receive_webhook`
//! * [`integration`]: [`HttpIntegration`], what the daemon lists for `kind = "http"`
//! * `fake` (feature `fake`): a faithful loopback partner: bearer auth, idempotency store,
//!   required fields, failure plan, token-bucket rate limit, paginated listing, signed
//!   webhooks it sends
//!
//! The adapter conformance suite it runs is the runtime's (`switchyard_runtime::testkit`).

pub mod adapter;
pub mod config;
pub mod factory;
pub mod integration;
pub mod pacing;
pub mod retry_after;
pub mod secret;
pub mod webhook;

#[cfg(feature = "fake")]
pub mod fake;

pub use adapter::HttpAdapter;
pub use config::{
    AuthConfig, HttpAdapterConfig, PushMethod, RateLimitConfig, ValidatedConfig, KIND,
};
pub use factory::HttpAdapterFactory;
pub use integration::HttpIntegration;
pub use secret::Secret;
