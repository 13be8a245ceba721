//! `[partners.NAME]` with `kind = "wesellcellular"`: parsed strictly (an unknown key is an
//! error naming it), validated once, credentials resolved into [`Settings`].
//!
//! ```toml
//! [partners.wesell]
//! kind = "wesellcellular"
//! base_url = "https://api.example.com/Integration/px-api-gateway"  # the tenant's API root
//! client_id_ref = "secret:wesell-client-id"
//! client_secret_ref = "secret:wesell-client-secret"
//! page_size = 100                 # stock list and order poll pages
//! include_out_of_stock = false    # the stock list's includeOutOfStock
//! token_refresh_margin_secs = 60  # a token is replaced this long before its `exp`
//! poll_overlap_secs = 5           # how far back each status poll re-reads (see supplier.rs)
//! timeout_ms = 30000
//! ```

use reqwest::Url;
use serde::Deserialize;
use std::fmt;
use std::time::Duration;
use switchyard_core::adapter::{ConfigError, SecretResolver};
use switchyard_core::ids::PartnerName;
use switchyard_runtime::partner_config::Secret;

/// The adapter kind in `[partners.NAME] kind = "wesellcellular"`.
pub const KIND: &str = "wesellcellular";

pub const DEFAULT_PAGE_SIZE: u32 = 100;
pub const MAX_PAGE_SIZE: u32 = 500;
pub const DEFAULT_TIMEOUT_MS: u64 = 30_000;
pub const MAX_TIMEOUT_MS: u64 = 300_000;
pub const DEFAULT_REFRESH_MARGIN_SECS: u64 = 60;
pub const DEFAULT_POLL_OVERLAP_SECS: u64 = 5;

/// The section as the operator wrote it.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct WesellConfig {
    /// Accepted so the whole partner table can be passed; must be `wesellcellular`.
    #[serde(default)]
    pub kind: Option<String>,
    pub base_url: String,
    pub client_id_ref: String,
    pub client_secret_ref: String,
    #[serde(default = "default_page_size")]
    pub page_size: u32,
    #[serde(default)]
    pub include_out_of_stock: bool,
    #[serde(default = "default_margin")]
    pub token_refresh_margin_secs: u64,
    #[serde(default = "default_overlap")]
    pub poll_overlap_secs: u64,
    #[serde(default = "default_timeout_ms")]
    pub timeout_ms: u64,
}

fn default_page_size() -> u32 {
    DEFAULT_PAGE_SIZE
}
fn default_margin() -> u64 {
    DEFAULT_REFRESH_MARGIN_SECS
}
fn default_overlap() -> u64 {
    DEFAULT_POLL_OVERLAP_SECS
}
fn default_timeout_ms() -> u64 {
    DEFAULT_TIMEOUT_MS
}

/// Everything the client needs, checked and resolved.
#[derive(Clone)]
pub struct Settings {
    /// The API root with a trailing `/`: every path is joined onto it.
    pub api_url: Url,
    pub client_id: Secret,
    pub client_secret: Secret,
    pub page_size: u32,
    pub include_out_of_stock: bool,
    pub refresh_margin: Duration,
    pub poll_overlap: chrono::Duration,
    pub timeout: Duration,
}

impl fmt::Debug for Settings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Settings")
            .field("api_url", &self.api_url.as_str())
            .field("client_id", &self.client_id)
            .field("page_size", &self.page_size)
            .finish_non_exhaustive()
    }
}

fn problem(partner: &PartnerName, key: &str, message: impl fmt::Display) -> ConfigError {
    ConfigError::new(partner.to_string(), format!("{key}: {message}")).at_key(key)
}

impl WesellConfig {
    pub fn from_json(
        partner: &PartnerName,
        value: &serde_json::Value,
    ) -> Result<Self, ConfigError> {
        switchyard_runtime::partner_config::parse_strict(partner, "wesellcellular config", value)
    }

    pub fn validate(
        &self,
        partner: &PartnerName,
        secrets: &dyn SecretResolver,
    ) -> Result<Settings, ConfigError> {
        if let Some(kind) = &self.kind {
            if kind != KIND {
                return Err(problem(
                    partner,
                    "kind",
                    format!("expected `{KIND}`, got `{kind}`"),
                ));
            }
        }
        let base = Url::parse(&self.base_url)
            .map_err(|e| problem(partner, "base_url", format!("not a URL: {e}")))?;
        if !matches!(base.scheme(), "http" | "https") || base.host_str().is_none() {
            return Err(problem(
                partner,
                "base_url",
                "must be an http(s) URL with a host",
            ));
        }
        if base.query().is_some() || base.fragment().is_some() {
            return Err(problem(
                partner,
                "base_url",
                "must not have a query or fragment",
            ));
        }
        let root = format!("{}/", base.as_str().trim_end_matches('/'));
        let api_url = Url::parse(&root).map_err(|e| problem(partner, "base_url", e))?;
        if self.page_size == 0 || self.page_size > MAX_PAGE_SIZE {
            return Err(problem(
                partner,
                "page_size",
                format!("must be between 1 and {MAX_PAGE_SIZE}"),
            ));
        }
        if self.timeout_ms == 0 || self.timeout_ms > MAX_TIMEOUT_MS {
            return Err(problem(
                partner,
                "timeout_ms",
                format!("must be between 1 and {MAX_TIMEOUT_MS}"),
            ));
        }
        if self.poll_overlap_secs > 3600 {
            return Err(problem(
                partner,
                "poll_overlap_secs",
                "must be at most 3600 (every poll re-reads that much history)",
            ));
        }
        let resolve = |key: &str, reference: &str| -> Result<Secret, ConfigError> {
            if !(reference.starts_with("secret:") || reference.starts_with("env:")) {
                return Err(problem(
                    partner,
                    key,
                    "must be a credential reference (`secret:NAME`), never the value itself",
                ));
            }
            secrets
                .resolve(reference)
                .map(Secret::new)
                .map_err(|e| problem(partner, key, e.message))
        };
        Ok(Settings {
            api_url,
            client_id: resolve("client_id_ref", &self.client_id_ref)?,
            client_secret: resolve("client_secret_ref", &self.client_secret_ref)?,
            page_size: self.page_size,
            include_out_of_stock: self.include_out_of_stock,
            refresh_margin: Duration::from_secs(self.token_refresh_margin_secs),
            poll_overlap: chrono::Duration::seconds(self.poll_overlap_secs as i64),
            timeout: Duration::from_millis(self.timeout_ms),
        })
    }
}

/// Parse and validate in one step.
pub fn settings(
    partner: &PartnerName,
    value: &serde_json::Value,
    secrets: &dyn SecretResolver,
) -> Result<Settings, ConfigError> {
    WesellConfig::from_json(partner, value)?.validate(partner, secrets)
}
