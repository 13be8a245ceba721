//! `[partners.NAME]` with `kind = "magento"`: parsed strictly (unknown keys are errors naming
//! the key), validated once, credentials resolved into a [`Settings`] the client works with.
//!
//! ```toml
//! [partners.shop]
//! kind = "magento"
//! base_url = "https://shop.example.com"   # the store's root; requests go to {base_url}/rest/{store_code}/V1/...
//! store_code = "default"                  # `all` writes at global scope
//! website_ids = [1]
//! currency = "USD"                        # which of the core's price currencies is the base price
//! auth = { mode = "oauth", consumer_key_ref = "secret:mg-ck", consumer_secret_ref = "secret:mg-cs",
//!          access_token_ref = "secret:mg-at", access_token_secret_ref = "secret:mg-as",
//!          signature_method = "HMAC-SHA256" }
//! msi = { enabled = true, sources = { CHI = "chicago", HOU = "houston" } }
//! customer_groups = { GOLD = "Gold" }
//! bulk_threshold = 1000                   # from this batch size on, the async bulk API
//! concurrency = 16                        # per-item writes in flight at once
//! ```

use crate::oauth::SignatureMethod;
use crate::secret::Secret;
use reqwest::Url;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;
use switchyard_core::adapter::{ConfigError, SecretResolver};
use switchyard_core::ids::PartnerName;

/// The adapter kind in `[partners.NAME] kind = "magento"`.
pub const KIND: &str = "magento";

pub const DEFAULT_STORE_CODE: &str = "all";
pub const DEFAULT_TIMEOUT_MS: u64 = 30_000;
pub const MAX_TIMEOUT_MS: u64 = 300_000;
/// Magento's default admin token lifetime (Stores › Config › Services › OAuth › Access Token
/// Expiration › Admin Token Lifetime, 4 hours).
pub const DEFAULT_ADMIN_TOKEN_LIFETIME_SECS: u64 = 4 * 3600;
pub const DEFAULT_BULK_THRESHOLD: u32 = 1000;
/// Magento's own advice since APSB25-08: bulks above 1,000 operations are slow.
pub const DEFAULT_BULK_BATCH: u32 = 1000;

/// The section as the operator wrote it.
#[derive(Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct MagentoConfig {
    /// Accepted so the whole partner table can be passed; must be `magento` when present.
    #[serde(default)]
    pub kind: Option<String>,
    pub base_url: String,
    #[serde(default = "default_store_code")]
    pub store_code: String,
    #[serde(default)]
    pub website_ids: Vec<u32>,
    /// The currency of the store's base price (the core may price in several).
    #[serde(default = "default_currency")]
    pub currency: String,
    pub auth: AuthConfig,
    #[serde(default)]
    pub msi: MsiConfig,
    /// Core price tier (customer group) → Magento customer group code; tiers not listed are
    /// sent under their own name.
    #[serde(default)]
    pub customer_groups: BTreeMap<String, String>,
    #[serde(default = "default_timeout_ms")]
    pub timeout_ms: u64,
    /// From this many documents in one batch on, product upserts and MSI stock go through the
    /// async bulk API ([`crate::bulk`]).
    #[serde(default = "default_bulk_threshold")]
    pub bulk_threshold: u32,
    /// Operations per bulk request.
    #[serde(default = "default_bulk_batch")]
    pub bulk_batch_size: u32,
    /// How often the status of a submitted bulk is read.
    #[serde(default = "default_bulk_poll_ms")]
    pub bulk_poll_ms: u64,
    /// How long bulk operations may stay open before the items are reported as such (and
    /// retried by the sync later) rather than waited on.
    #[serde(default = "default_bulk_open_timeout_secs")]
    pub bulk_open_timeout_secs: u64,
    /// Whether Magento mails the shopper when we record a shipment (`notify` of the ship call).
    #[serde(default)]
    pub notify_customer: bool,
    /// Whether our order's other status changes (to confirmed, in production, ready) are
    /// added to the store's order history as notes. Off by default: each note is an order
    /// save in Magento, which moves its `updated_at`, so the next pull reads the order again.
    #[serde(default)]
    pub status_notes: bool,
    /// Single writes of the per-item path kept in flight at once (writes of one SKU stay in
    /// order, one after the other).
    #[serde(default = "default_concurrency")]
    pub concurrency: u32,
}

fn default_concurrency() -> u32 {
    switchyard_core::adapter::DEFAULT_BATCH_CONCURRENCY as u32
}

fn default_store_code() -> String {
    DEFAULT_STORE_CODE.to_owned()
}
fn default_currency() -> String {
    "USD".to_owned()
}
fn default_timeout_ms() -> u64 {
    DEFAULT_TIMEOUT_MS
}
fn default_bulk_threshold() -> u32 {
    DEFAULT_BULK_THRESHOLD
}
fn default_bulk_batch() -> u32 {
    DEFAULT_BULK_BATCH
}
fn default_bulk_poll_ms() -> u64 {
    1000
}
fn default_bulk_open_timeout_secs() -> u64 {
    300
}
fn default_admin_lifetime() -> u64 {
    DEFAULT_ADMIN_TOKEN_LIFETIME_SECS
}

impl fmt::Debug for MagentoConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Every credential is a reference, never a value, so the whole section is safe to show.
        f.debug_struct("MagentoConfig")
            .field("base_url", &self.base_url)
            .field("store_code", &self.store_code)
            .field("website_ids", &self.website_ids)
            .field("auth", &self.auth)
            .field("msi", &self.msi)
            .finish_non_exhaustive()
    }
}

/// The three ways integrators authenticate against Magento.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(tag = "mode", rename_all = "snake_case", deny_unknown_fields)]
pub enum AuthConfig {
    /// An integration's access token as `Authorization: Bearer` (Magento ≥ 2.4.4 accepts it
    /// only with "Allow OAuth Access Tokens to be used as standalone Bearer tokens" on).
    IntegrationToken { token_ref: String },
    /// OAuth 1.0a request signing with the integration's four credentials.
    Oauth {
        consumer_key_ref: String,
        consumer_secret_ref: String,
        access_token_ref: String,
        access_token_secret_ref: String,
        /// `HMAC-SHA256` (default) or `HMAC-SHA1`. Read as text and checked in `validate`:
        /// serde loses the key inside a tagged table, and the error must name it.
        #[serde(default)]
        signature_method: Option<String>,
    },
    /// An admin user's token minted with `POST /V1/integration/admin/token`.
    Admin {
        username_ref: String,
        password_ref: String,
        /// The store's admin token lifetime; the adapter mints a new one before it ends.
        #[serde(default = "default_admin_lifetime")]
        token_lifetime_secs: u64,
    },
}

/// Multi-Source Inventory.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct MsiConfig {
    /// Off: stock goes to the legacy stock item (`PUT /V1/products/{sku}/stockItems/1`) as the
    /// total over every location.
    #[serde(default)]
    pub enabled: bool,
    /// Core location → MSI `source_code`. A stocked location not listed is an error for
    /// that SKU (never silently dropped).
    #[serde(default)]
    pub sources: BTreeMap<String, String>,
}

/// How requests are authenticated, credentials resolved.
#[derive(Clone, Debug)]
pub enum Auth {
    IntegrationToken(Secret),
    Oauth(crate::oauth::Credentials),
    Admin {
        username: Secret,
        password: Secret,
        lifetime: Duration,
    },
}

impl Auth {
    pub fn mode(&self) -> &'static str {
        match self {
            Auth::IntegrationToken(_) => "integration_token",
            Auth::Oauth(_) => "oauth",
            Auth::Admin { .. } => "admin",
        }
    }

    /// Every credential value, for tests asserting none reaches a log.
    pub fn secrets(&self) -> Vec<&Secret> {
        match self {
            Auth::IntegrationToken(t) => vec![t],
            Auth::Oauth(c) => vec![
                &c.consumer_key,
                &c.consumer_secret,
                &c.token,
                &c.token_secret,
            ],
            Auth::Admin {
                username, password, ..
            } => vec![username, password],
        }
    }
}

/// Everything the adapter needs, checked and resolved.
#[derive(Clone, Debug)]
pub struct Settings {
    /// `{base_url}/rest/{store_code}/`: every route is joined onto it.
    pub rest_url: Url,
    pub store_code: String,
    pub website_ids: Vec<u32>,
    pub currency: String,
    pub auth: Auth,
    pub msi: MsiConfig,
    pub customer_groups: BTreeMap<String, String>,
    pub timeout: Duration,
    pub bulk_threshold: u32,
    pub bulk_batch_size: u32,
    pub bulk_poll: Duration,
    pub bulk_open_timeout: Duration,
    pub notify_customer: bool,
    pub status_notes: bool,
    pub concurrency: u32,
}

impl Settings {
    /// The Magento customer group code for a core price tier.
    pub fn customer_group<'a>(&'a self, tier: &'a str) -> &'a str {
        self.customer_groups
            .get(tier)
            .map(String::as_str)
            .unwrap_or(tier)
    }
}

fn problem(partner: &PartnerName, key: &str, message: impl fmt::Display) -> ConfigError {
    ConfigError::new(partner.to_string(), format!("{key}: {message}")).at_key(key)
}

impl MagentoConfig {
    /// Parse strictly; an unknown or ill-typed key is an error naming it.
    pub fn from_json(
        partner: &PartnerName,
        value: &serde_json::Value,
    ) -> Result<Self, ConfigError> {
        switchyard_runtime::partner_config::parse_strict(partner, "magento config", value)
    }

    /// Check every setting and resolve credentials.
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
        // Store codes are [a-z0-9_], starting with a letter (Magento's own validation).
        let code = &self.store_code;
        let valid_code = code.chars().next().is_some_and(|c| c.is_ascii_lowercase())
            && code
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
        if !valid_code {
            return Err(problem(
                partner,
                "store_code",
                format!("`{code}` is not a store code (lower-case letters, digits and `_`, starting with a letter; `all` for global scope)"),
            ));
        }
        let mut root = base.as_str().trim_end_matches('/').to_owned();
        root.push_str(&format!("/rest/{code}/"));
        let rest_url = Url::parse(&root).map_err(|e| problem(partner, "base_url", e))?;
        if self.website_ids.contains(&0) && self.website_ids.len() > 1 {
            return Err(problem(
                partner,
                "website_ids",
                "website 0 is the admin (global) scope and cannot be combined with others",
            ));
        }
        if self.currency.len() != 3 || !self.currency.chars().all(|c| c.is_ascii_uppercase()) {
            return Err(problem(
                partner,
                "currency",
                "must be an ISO 4217 code such as USD",
            ));
        }
        if self.timeout_ms == 0 || self.timeout_ms > MAX_TIMEOUT_MS {
            return Err(problem(
                partner,
                "timeout_ms",
                format!("must be between 1 and {MAX_TIMEOUT_MS}"),
            ));
        }
        if self.concurrency == 0 || self.concurrency > 256 {
            return Err(problem(partner, "concurrency", "must be between 1 and 256"));
        }
        if self.bulk_threshold == 0 {
            return Err(problem(partner, "bulk_threshold", "must be at least 1"));
        }
        if self.bulk_batch_size == 0 || self.bulk_batch_size > 5000 {
            return Err(problem(
                partner,
                "bulk_batch_size",
                "must be between 1 and 5000",
            ));
        }
        if self.bulk_poll_ms == 0 || self.bulk_poll_ms > 60_000 {
            return Err(problem(
                partner,
                "bulk_poll_ms",
                "must be between 1 and 60000",
            ));
        }
        if self.bulk_open_timeout_secs == 0 {
            return Err(problem(
                partner,
                "bulk_open_timeout_secs",
                "must be at least 1",
            ));
        }
        for (location, source) in &self.msi.sources {
            if source.trim().is_empty() {
                return Err(problem(
                    partner,
                    &format!("msi.sources.{location}"),
                    "empty source code",
                ));
            }
        }
        if self.msi.enabled && self.msi.sources.is_empty() {
            return Err(problem(
                partner,
                "msi.sources",
                "MSI is enabled but no location is mapped to a source code",
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
        let auth = match &self.auth {
            AuthConfig::IntegrationToken { token_ref } => {
                Auth::IntegrationToken(resolve("auth.token_ref", token_ref)?)
            }
            AuthConfig::Oauth {
                consumer_key_ref,
                consumer_secret_ref,
                access_token_ref,
                access_token_secret_ref,
                signature_method,
            } => Auth::Oauth(crate::oauth::Credentials {
                method: match signature_method.as_deref() {
                    None => SignatureMethod::default(),
                    Some(m) => SignatureMethod::parse(m).ok_or_else(|| {
                        problem(
                            partner,
                            "auth.signature_method",
                            format!("unknown signature method `{m}` (HMAC-SHA256 or HMAC-SHA1)"),
                        )
                    })?,
                },
                consumer_key: resolve("auth.consumer_key_ref", consumer_key_ref)?,
                consumer_secret: resolve("auth.consumer_secret_ref", consumer_secret_ref)?,
                token: resolve("auth.access_token_ref", access_token_ref)?,
                token_secret: resolve("auth.access_token_secret_ref", access_token_secret_ref)?,
            }),
            AuthConfig::Admin {
                username_ref,
                password_ref,
                token_lifetime_secs,
            } => {
                if *token_lifetime_secs < 60 {
                    return Err(problem(
                        partner,
                        "auth.token_lifetime_secs",
                        "must be at least 60 (Magento's shortest admin token lifetime is an hour)",
                    ));
                }
                Auth::Admin {
                    username: resolve("auth.username_ref", username_ref)?,
                    password: resolve("auth.password_ref", password_ref)?,
                    lifetime: Duration::from_secs(*token_lifetime_secs),
                }
            }
        };
        Ok(Settings {
            rest_url,
            store_code: code.clone(),
            website_ids: self.website_ids.clone(),
            currency: self.currency.clone(),
            auth,
            msi: self.msi.clone(),
            customer_groups: self.customer_groups.clone(),
            timeout: Duration::from_millis(self.timeout_ms),
            bulk_threshold: self.bulk_threshold,
            bulk_batch_size: self.bulk_batch_size,
            bulk_poll: Duration::from_millis(self.bulk_poll_ms),
            bulk_open_timeout: Duration::from_secs(self.bulk_open_timeout_secs),
            notify_customer: self.notify_customer,
            status_notes: self.status_notes,
            concurrency: self.concurrency,
        })
    }
}

/// Parse and validate in one step.
pub fn settings(
    partner: &PartnerName,
    value: &serde_json::Value,
    secrets: &dyn SecretResolver,
) -> Result<Settings, ConfigError> {
    MagentoConfig::from_json(partner, value)?.validate(partner, secrets)
}
