//! The partner's config section (`[partners.NAME]` with `kind = "phonex"`): parsed strictly
//! (an unknown key is an error naming it), then checked once into [`Validated`] with its
//! credentials resolved.
//!
//! ```toml
//! [partners.phonex]
//! kind = "phonex"
//! base_url = "https://api.phonex.com"
//! api_key = "secret:phonex-api-key"
//! webhooks = { secret = "secret:phonex-webhooks", encoding = "hex", tolerance_secs = 300 }
//! ```

use reqwest::Url;
use serde::Deserialize;
use std::time::Duration;
use switchyard_core::adapter::{ConfigError, SecretResolver};
use switchyard_core::ids::PartnerName;
use switchyard_runtime::partner_config::{parse_strict, Secret};

/// The adapter kind in `[partners.NAME] kind = "phonex"`.
pub const KIND: &str = "phonex";

pub const DEFAULT_TIMEOUT_MS: u64 = 30_000;
pub const DEFAULT_PAGE_SIZE: u32 = 100;
/// Five minutes either way, as Stripe and Standard Webhooks allow: long enough for a clock
/// a little off, short enough that a captured delivery cannot be replayed later.
pub const DEFAULT_TOLERANCE_SECS: u64 = 300;

/// How the signature is written in `X-PhoneX-Signature`. Not known for PhoneX, hence a choice.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SignatureEncoding {
    #[default]
    Hex,
    Base64,
}

/// The section as written by the operator.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// `https://api.phonex.com` (the fake's loopback address in tests); paths go below it.
    pub base_url: String,
    /// Credential reference (`secret:NAME`, `env:VAR`) to the API key sent as a bearer token.
    pub api_key: String,
    #[serde(default = "default_timeout_ms")]
    pub timeout_ms: u64,
    /// Stock list page size when the pull's params name none.
    #[serde(default = "default_page_size")]
    pub page_size: u32,
    /// Status webhooks at `POST /webhooks/{partner}`: the only way PhoneX reports status, so
    /// required.
    pub webhooks: WebhookSettings,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookSettings {
    /// Credential reference to the shared signing secret.
    pub secret: String,
    #[serde(default)]
    pub encoding: SignatureEncoding,
    /// How far `X-PhoneX-Timestamp` may be from our clock.
    #[serde(default = "default_tolerance")]
    pub tolerance_secs: u64,
}

fn default_timeout_ms() -> u64 {
    DEFAULT_TIMEOUT_MS
}
fn default_page_size() -> u32 {
    DEFAULT_PAGE_SIZE
}
fn default_tolerance() -> u64 {
    DEFAULT_TOLERANCE_SECS
}

/// Webhook verification, resolved.
#[derive(Debug, Clone)]
pub struct WebhookKeys {
    pub secret: Secret,
    pub encoding: SignatureEncoding,
    pub tolerance: Duration,
}

/// The settings, checked, with credentials resolved.
#[derive(Debug, Clone)]
pub struct Validated {
    /// Ends with `/`, so paths join below it.
    pub base_url: Url,
    pub api_key: Secret,
    pub timeout: Duration,
    pub page_size: u32,
    pub webhooks: WebhookKeys,
}

impl Validated {
    /// Parse `config` (the partner's table as JSON) and check every value; the first problem
    /// is returned located at its key.
    pub fn from_json(
        partner: &PartnerName,
        config: &serde_json::Value,
        secrets: &dyn SecretResolver,
    ) -> Result<Validated, ConfigError> {
        let s: Settings = parse_strict(partner, "phonex config", config)?;
        let problem =
            |key: &str, msg: String| ConfigError::new(partner.to_string(), msg).at_key(key);
        let mut base = s.base_url.trim().to_owned();
        if !base.ends_with('/') {
            base.push('/');
        }
        let base_url = Url::parse(&base)
            .ok()
            .filter(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some())
            .ok_or_else(|| {
                problem(
                    "base_url",
                    format!("`{}` is not an http(s) URL", s.base_url),
                )
            })?;
        if !(1_000..=300_000).contains(&s.timeout_ms) {
            return Err(problem(
                "timeout_ms",
                format!("must be 1000 to 300000, not {}", s.timeout_ms),
            ));
        }
        if !(1..=crate::wire::MAX_PER_PAGE).contains(&s.page_size) {
            return Err(problem(
                "page_size",
                format!(
                    "must be 1 to {}, not {}",
                    crate::wire::MAX_PER_PAGE,
                    s.page_size
                ),
            ));
        }
        if !(1..=86_400).contains(&s.webhooks.tolerance_secs) {
            return Err(problem(
                "webhooks.tolerance_secs",
                format!("must be 1 to 86400, not {}", s.webhooks.tolerance_secs),
            ));
        }
        let api_key = secrets
            .resolve(&s.api_key)
            .map_err(|e| problem("api_key", e.message))?;
        let webhook_secret = secrets
            .resolve(&s.webhooks.secret)
            .map_err(|e| problem("webhooks.secret", e.message))?;
        Ok(Validated {
            base_url,
            api_key: Secret::new(api_key),
            timeout: Duration::from_millis(s.timeout_ms),
            page_size: s.page_size,
            webhooks: WebhookKeys {
                secret: Secret::new(webhook_secret),
                encoding: s.webhooks.encoding,
                tolerance: Duration::from_secs(s.webhooks.tolerance_secs),
            },
        })
    }
}
