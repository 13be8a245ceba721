//! The partner's config section (`[partners.NAME]` with `kind = "shopify"`): parsed strictly
//! (unknown keys refused, located by the runtime), then validated once into [`Validated`]
//! whose credentials are resolved. Everything after this module works with checked values.
//!
//! ```toml
//! [partners.acme-shop]
//! kind = "shopify"
//! shop_url = "https://acme.myshopify.com"
//! api_version = "2026-04"
//! access_token = "secret:acme-shop-token"
//! locations = { CHI = "gid://shopify/Location/7001", HOU = "gid://shopify/Location/7002" }
//! webhooks = { secret = "secret:acme-shop-webhooks" }
//! ```

use chrono::{DateTime, Utc};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;
use switchyard_core::adapter::SecretResolver;
use switchyard_runtime::partner_config::Secret;

/// The adapter kind in `[partners.NAME] kind = "shopify"`.
pub const KIND: &str = "shopify";

/// A pinned Admin API version. Only versions whose differences this adapter implements are
/// accepted: a quarterly release can change shapes (2026-04 changed inventory writes), so an
/// unknown version is a `check` error rather than a guess.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ApiVersion {
    /// `inventorySetQuantities` with `compareQuantity` / `ignoreCompareQuantity`.
    V2025_10,
    /// `@idempotent(key:)` and `changeFromQuantity` on every inventory entry.
    V2026_04,
}

impl ApiVersion {
    pub const ALL: [ApiVersion; 2] = [ApiVersion::V2025_10, ApiVersion::V2026_04];

    pub fn as_str(&self) -> &'static str {
        match self {
            ApiVersion::V2025_10 => "2025-10",
            ApiVersion::V2026_04 => "2026-04",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.as_str() == s)
    }

    /// Whether inventory writes carry `@idempotent(key:)` and `changeFromQuantity`.
    pub fn idempotent_inventory(&self) -> bool {
        *self >= ApiVersion::V2026_04
    }
}

impl fmt::Display for ApiVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How `productSet` finds the product it upserts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProductIdentifier {
    /// A `customId` metafield holding our product SKU (survives a handle edited in the admin).
    #[default]
    CustomId,
    /// The product handle.
    Handle,
}

pub const DEFAULT_BULK_THRESHOLD: u32 = 1000;
/// How often a running bulk operation is polled (the `bulk_operations/finish` webhook wakes
/// the waiter sooner when it is subscribed).
pub const DEFAULT_BULK_POLL_MS: u64 = 2_000;
/// How long one push waits for a bulk operation before reporting its lines unconfirmed (the
/// operation is remembered and followed again by the next attempt, never submitted twice).
pub const DEFAULT_BULK_MAX_WAIT_SECS: u64 = 1_800;
/// An operation older than this (since Shopify created it) is cancelled with
/// `bulkOperationCancel` and its unconfirmed lines submitted again: a stuck operation must not
/// hold the shop's one bulk mutation slot for ever.
pub const DEFAULT_BULK_CANCEL_AFTER_SECS: u64 = 3_600;
/// How long the connection's bulk lease lasts unless renewed (every third of it) by the
/// process following its operation; a crashed process blocks the connection this long.
pub const DEFAULT_BULK_LEASE_SECS: u64 = 60;
pub const DEFAULT_TIMEOUT_MS: u64 = 30_000;
pub const DEFAULT_INVENTORY_REASON: &str = "correction";
pub const DEFAULT_CUSTOM_ID_NAMESPACE: &str = "switchyard";
pub const DEFAULT_CUSTOM_ID_KEY: &str = "sku_root";
/// Shopify keeps signing with the old secret for up to an hour after a rotation.
pub const DEFAULT_ROTATION_WINDOW_SECS: u64 = 3600;
/// Shopify retries a failed delivery 8 times over 4 hours: a delivery triggered longer ago
/// than that is no retry of Shopify's but a replay, and is acknowledged without effect.
pub const DEFAULT_STALE_AFTER_SECS: u64 = 4 * 3600;

/// The section as written by the operator.
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// `https://{shop}.myshopify.com` (or the fake's loopback address in tests).
    pub shop_url: String,
    /// `2025-10` or `2026-04`.
    pub api_version: String,
    /// Credential reference (`secret:NAME`, `env:VAR`) to the `shpat_…` Admin API token.
    pub access_token: String,
    /// Our location code → Shopify location gid (`gid://shopify/Location/7001`).
    #[serde(default)]
    pub locations: BTreeMap<String, String>,
    #[serde(default)]
    pub product_identifier: ProductIdentifier,
    /// Namespace and key of the `customId` metafield (`product_identifier = "custom_id"`).
    #[serde(default = "default_ns")]
    pub custom_id_namespace: String,
    #[serde(default = "default_key")]
    pub custom_id_key: String,
    /// The `reason` of every inventory write.
    #[serde(default = "default_reason")]
    pub inventory_reason: String,
    /// Catalog batches of more than this many products go through a bulk mutation
    /// (`src/bulk.rs`); smaller ones are one `productSet` each.
    #[serde(default = "default_bulk_threshold")]
    pub bulk_threshold: u32,
    /// Polling interval of a running bulk operation (50 to 60000).
    #[serde(default = "default_bulk_poll_ms")]
    pub bulk_poll_ms: u64,
    /// How long one push waits for a bulk operation (1 to 86400 seconds).
    #[serde(default = "default_bulk_max_wait_secs")]
    pub bulk_max_wait_secs: u64,
    /// Cancel an operation still running this long after it was created (1 to 604800).
    #[serde(default = "default_bulk_cancel_after_secs")]
    pub bulk_cancel_after_secs: u64,
    /// The cross-process bulk lease's duration (2 to 3600; `src/bulk_lease.rs`).
    #[serde(default = "default_bulk_lease_secs")]
    pub bulk_lease_secs: u64,
    /// Whole-request timeout.
    #[serde(default = "default_timeout_ms")]
    pub timeout_ms: u64,
    /// Signed webhooks to `POST /webhooks/{partner}`; receiving is off without this table.
    #[serde(default)]
    pub webhooks: Option<WebhookSettings>,
    /// `notifyCustomer` of the fulfillments we create (Shopify's shipping e-mail).
    #[serde(default)]
    pub notify_customer: bool,
    /// B2B price lists our tier and customer prices go to.
    #[serde(default)]
    pub price_lists: PriceListSettings,
}

/// `[partners.NAME.price_lists]`: our price tiers (customer groups, `group_prices[].group`)
/// and customers (`customer_prices[].customer`) → Shopify `PriceList` gids. A price list
/// holds prices in one currency (read from Shopify); a SKU without a price for a configured
/// list in that currency has its fixed price removed from it.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PriceListSettings {
    #[serde(default)]
    pub groups: BTreeMap<String, String>,
    #[serde(default)]
    pub customers: BTreeMap<String, String>,
}

/// Topics subscribed when `webhooks.topics` is not given: what the adapter processes.
pub const DEFAULT_TOPICS: &[&str] = &[
    "orders/create",
    "orders/updated",
    "orders/cancelled",
    "products/update",
    "inventory_levels/update",
    "bulk_operations/finish",
];

/// The topics `webhooks.topics` accepts (Shopify's names; a slice of its list).
pub const KNOWN_TOPICS: &[&str] = &[
    "app/uninstalled",
    "bulk_operations/finish",
    "customers/create",
    "customers/update",
    "fulfillments/create",
    "fulfillments/update",
    "inventory_items/update",
    "inventory_levels/update",
    "orders/cancelled",
    "orders/create",
    "orders/delete",
    "orders/edited",
    "orders/fulfilled",
    "orders/paid",
    "orders/updated",
    "products/create",
    "products/delete",
    "products/update",
];

/// `orders/create` → `ORDERS_CREATE` (GraphQL's `WebhookSubscriptionTopic`).
pub fn topic_enum(topic: &str) -> String {
    topic.replace('/', "_").to_ascii_uppercase()
}

/// `[partners.NAME.webhooks]`.
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookSettings {
    /// Credential reference to the app's client secret.
    pub secret: String,
    /// The secret before the last rotation: still accepted until `rotated_at` plus
    /// `rotation_window_secs`, because Shopify keeps signing with it for a while.
    #[serde(default)]
    pub previous_secret: Option<String>,
    /// When the secret was rotated (RFC 3339); required with `previous_secret`.
    #[serde(default)]
    pub rotated_at: Option<String>,
    #[serde(default = "default_rotation_window")]
    pub rotation_window_secs: u64,
    /// A delivery whose `X-Shopify-Triggered-At` is older than this is a stale retry: stored
    /// and acknowledged, not imported (the order pull reads the current state anyway).
    #[serde(default = "default_stale_after")]
    pub stale_after_secs: u64,
    /// Where Shopify delivers (this hub's `POST /webhooks/{partner}`, public https). With it
    /// the adapter subscribes `topics` (the `shopify.webhooks.subscribe` job); without it
    /// subscriptions are managed elsewhere.
    #[serde(default)]
    pub callback_url: Option<String>,
    #[serde(default = "default_topics")]
    pub topics: Vec<String>,
}

fn default_ns() -> String {
    DEFAULT_CUSTOM_ID_NAMESPACE.into()
}
fn default_key() -> String {
    DEFAULT_CUSTOM_ID_KEY.into()
}
fn default_reason() -> String {
    DEFAULT_INVENTORY_REASON.into()
}
fn default_bulk_threshold() -> u32 {
    DEFAULT_BULK_THRESHOLD
}
fn default_bulk_poll_ms() -> u64 {
    DEFAULT_BULK_POLL_MS
}
fn default_bulk_max_wait_secs() -> u64 {
    DEFAULT_BULK_MAX_WAIT_SECS
}
fn default_bulk_cancel_after_secs() -> u64 {
    DEFAULT_BULK_CANCEL_AFTER_SECS
}
fn default_bulk_lease_secs() -> u64 {
    DEFAULT_BULK_LEASE_SECS
}
fn default_timeout_ms() -> u64 {
    DEFAULT_TIMEOUT_MS
}
fn default_rotation_window() -> u64 {
    DEFAULT_ROTATION_WINDOW_SECS
}
fn default_topics() -> Vec<String> {
    DEFAULT_TOPICS.iter().map(|t| t.to_string()).collect()
}
fn default_stale_after() -> u64 {
    DEFAULT_STALE_AFTER_SECS
}

impl fmt::Debug for Settings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // References only name a secret, but keep them out of logs like values.
        f.debug_struct("Settings")
            .field("shop_url", &self.shop_url)
            .field("api_version", &self.api_version)
            .field("locations", &self.locations)
            .field("product_identifier", &self.product_identifier)
            .field("bulk_threshold", &self.bulk_threshold)
            .finish_non_exhaustive()
    }
}

/// Webhook keys, resolved.
#[derive(Clone, Debug)]
pub struct WebhookKeys {
    pub current: Secret,
    /// The previous secret and the instant after which it is refused.
    pub previous: Option<(Secret, DateTime<Utc>)>,
    /// Deliveries triggered longer ago than this are stale retries.
    pub stale_after: chrono::Duration,
    pub callback_url: Option<String>,
    /// Shopify's topic names (`orders/create`), checked.
    pub topics: Vec<String>,
}

/// The settings, checked, with credentials resolved.
#[derive(Clone, Debug)]
pub struct Validated {
    pub shop_url: String,
    pub version: ApiVersion,
    pub token: Secret,
    pub locations: BTreeMap<String, String>,
    pub identifier: ProductIdentifier,
    pub custom_id_namespace: String,
    pub custom_id_key: String,
    pub inventory_reason: String,
    pub bulk_threshold: u32,
    pub bulk_poll: Duration,
    pub bulk_max_wait: Duration,
    pub bulk_cancel_after: Duration,
    pub bulk_lease: Duration,
    pub timeout: Duration,
    pub webhooks: Option<WebhookKeys>,
    pub notify_customer: bool,
    /// Tier code → price list gid, customer id → price list gid.
    pub price_lists: PriceListSettings,
}

impl Validated {
    /// `{shop_url}/admin/api/{version}/graphql.json`.
    pub fn endpoint(&self) -> String {
        format!(
            "{}/admin/api/{}/graphql.json",
            self.shop_url.trim_end_matches('/'),
            self.version
        )
    }
}

/// A problem with one key of the section (dotted path inside the partner's table).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub keys: Vec<String>,
    pub message: String,
}

impl Problem {
    fn at(keys: &[&str], message: impl Into<String>) -> Self {
        Self {
            keys: keys.iter().map(|k| k.to_string()).collect(),
            message: message.into(),
        }
    }
}

fn is_gid(kind: &str, s: &str) -> bool {
    s.strip_prefix("gid://shopify/")
        .and_then(|r| r.strip_prefix(kind))
        .and_then(|r| r.strip_prefix('/'))
        .is_some_and(|id| !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit()))
}

fn is_location_gid(s: &str) -> bool {
    is_gid("Location", s)
}

impl Settings {
    /// Check every value and resolve the credentials; every problem is reported, not only the
    /// first, each at its key.
    pub fn validate(&self, secrets: &dyn SecretResolver) -> Result<Validated, Vec<Problem>> {
        let mut problems = Vec::new();
        let url = self.shop_url.trim();
        if !(url.starts_with("https://") || url.starts_with("http://")) || url.len() < 10 {
            problems.push(Problem::at(
                &["shop_url"],
                format!("`{url}` is not an http(s) URL (https://SHOP.myshopify.com)"),
            ));
        }
        let version = ApiVersion::parse(self.api_version.trim());
        if version.is_none() {
            problems.push(Problem::at(
                &["api_version"],
                format!(
                    "unsupported Shopify API version `{}` (supported: {})",
                    self.api_version,
                    ApiVersion::ALL.map(|v| v.as_str()).join(", ")
                ),
            ));
        }
        let token = match secrets.resolve(&self.access_token) {
            Ok(t) => Some(Secret::new(t)),
            Err(e) => {
                problems.push(Problem::at(&["access_token"], e.message));
                None
            }
        };
        for (code, gid) in &self.locations {
            if !is_location_gid(gid) {
                problems.push(Problem::at(
                    &["locations", code],
                    format!(
                        "`{gid}` is not a Shopify location gid (gid://shopify/Location/NUMBER)"
                    ),
                ));
            }
        }
        for (table, map) in [
            ("groups", &self.price_lists.groups),
            ("customers", &self.price_lists.customers),
        ] {
            for (code, gid) in map {
                if !is_gid("PriceList", gid) {
                    problems.push(Problem::at(
                        &["price_lists", table, code],
                        format!("`{gid}` is not a Shopify price list gid (gid://shopify/PriceList/NUMBER)"),
                    ));
                }
            }
        }
        if self.inventory_reason.trim().is_empty() {
            problems.push(Problem::at(&["inventory_reason"], "must not be empty"));
        }
        if self.bulk_threshold == 0 {
            problems.push(Problem::at(&["bulk_threshold"], "must be at least 1"));
        }
        if !(50..=60_000).contains(&self.bulk_poll_ms) {
            problems.push(Problem::at(
                &["bulk_poll_ms"],
                format!("must be 50 to 60000, not {}", self.bulk_poll_ms),
            ));
        }
        if !(1..=86_400).contains(&self.bulk_max_wait_secs) {
            problems.push(Problem::at(
                &["bulk_max_wait_secs"],
                format!("must be 1 to 86400, not {}", self.bulk_max_wait_secs),
            ));
        }
        // Shopify keeps results 7 days; an operation older than that cannot be read anyway.
        if !(1..=604_800).contains(&self.bulk_cancel_after_secs) {
            problems.push(Problem::at(
                &["bulk_cancel_after_secs"],
                format!("must be 1 to 604800, not {}", self.bulk_cancel_after_secs),
            ));
        }
        if !(2..=3_600).contains(&self.bulk_lease_secs) {
            problems.push(Problem::at(
                &["bulk_lease_secs"],
                format!("must be 2 to 3600, not {}", self.bulk_lease_secs),
            ));
        }
        if !(1_000..=300_000).contains(&self.timeout_ms) {
            problems.push(Problem::at(
                &["timeout_ms"],
                format!("must be 1000 to 300000, not {}", self.timeout_ms),
            ));
        }
        let webhooks = self
            .webhooks
            .as_ref()
            .and_then(|w| w.validate(secrets, &mut problems));
        match (version, token) {
            (Some(version), Some(token)) if problems.is_empty() => Ok(Validated {
                shop_url: url.trim_end_matches('/').to_owned(),
                version,
                token,
                locations: self.locations.clone(),
                identifier: self.product_identifier,
                custom_id_namespace: self.custom_id_namespace.clone(),
                custom_id_key: self.custom_id_key.clone(),
                inventory_reason: self.inventory_reason.clone(),
                bulk_threshold: self.bulk_threshold,
                bulk_poll: Duration::from_millis(self.bulk_poll_ms),
                bulk_max_wait: Duration::from_secs(self.bulk_max_wait_secs),
                bulk_cancel_after: Duration::from_secs(self.bulk_cancel_after_secs),
                bulk_lease: Duration::from_secs(self.bulk_lease_secs),
                timeout: Duration::from_millis(self.timeout_ms),
                webhooks,
                notify_customer: self.notify_customer,
                price_lists: self.price_lists.clone(),
            }),
            _ => Err(problems),
        }
    }
}

impl WebhookSettings {
    fn validate(
        &self,
        secrets: &dyn SecretResolver,
        problems: &mut Vec<Problem>,
    ) -> Option<WebhookKeys> {
        let current = match secrets.resolve(&self.secret) {
            Ok(s) => Some(Secret::new(s)),
            Err(e) => {
                problems.push(Problem::at(&["webhooks", "secret"], e.message));
                None
            }
        };
        let previous = match (&self.previous_secret, &self.rotated_at) {
            (None, None) => None,
            (Some(_), None) => {
                problems.push(Problem::at(
                    &["webhooks", "rotated_at"],
                    "`previous_secret` needs `rotated_at` (RFC 3339): the old secret is accepted only for `rotation_window_secs` after it",
                ));
                None
            }
            (None, Some(_)) => {
                problems.push(Problem::at(
                    &["webhooks", "previous_secret"],
                    "`rotated_at` without `previous_secret`",
                ));
                None
            }
            (Some(reference), Some(at)) => {
                let until = match DateTime::parse_from_rfc3339(at) {
                    Ok(t) => Some(
                        t.with_timezone(&Utc)
                            + chrono::Duration::seconds(
                                self.rotation_window_secs.min(7 * 86_400) as i64
                            ),
                    ),
                    Err(e) => {
                        problems.push(Problem::at(
                            &["webhooks", "rotated_at"],
                            format!("`{at}` is not an RFC 3339 time: {e}"),
                        ));
                        None
                    }
                };
                let secret = match secrets.resolve(reference) {
                    Ok(s) => Some(Secret::new(s)),
                    Err(e) => {
                        problems.push(Problem::at(&["webhooks", "previous_secret"], e.message));
                        None
                    }
                };
                secret.zip(until)
            }
        };
        if !(60..=7 * 86_400).contains(&self.stale_after_secs) {
            problems.push(Problem::at(
                &["webhooks", "stale_after_secs"],
                format!(
                    "must be 60 to 604800 (a week), not {}",
                    self.stale_after_secs
                ),
            ));
        }
        for (i, t) in self.topics.iter().enumerate() {
            if !KNOWN_TOPICS.contains(&t.as_str()) {
                problems.push(Problem::at(
                    &["webhooks", "topics"],
                    format!(
                        "topics[{i}] `{t}` is not a Shopify webhook topic this adapter knows ({})",
                        KNOWN_TOPICS.join(", ")
                    ),
                ));
            }
        }
        if let Some(url) = &self.callback_url {
            let ok = url
                .strip_prefix("https://")
                .or_else(|| url.strip_prefix("http://"))
                .is_some_and(|rest| !rest.is_empty() && !rest.contains(char::is_whitespace));
            if !ok {
                problems.push(Problem::at(
                    &["webhooks", "callback_url"],
                    format!("`{url}` is not a URL (https://HUB/webhooks/PARTNER; Shopify delivers only to https)"),
                ));
            }
        }
        Some(WebhookKeys {
            current: current?,
            previous,
            stale_after: chrono::Duration::seconds(self.stale_after_secs as i64),
            callback_url: self.callback_url.clone(),
            topics: self.topics.clone(),
        })
    }
}
