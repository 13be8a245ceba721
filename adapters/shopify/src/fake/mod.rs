//! A faithful fake Shopify Admin GraphQL API, served by axum on `127.0.0.1:0`.
//!
//! * `POST /admin/api/{version}/graphql.json` for the versions it is configured with
//!   (2025-10 and 2026-04 by default); any other version is a 404 `{"errors":"Not Found"}`.
//! * `X-Shopify-Access-Token` must be the configured token: otherwise 401 with Shopify's body
//!   `{"errors":"[API] Invalid API key or access token (unrecognized login or wrong password)"}`.
//! * Every document is parsed by a real GraphQL parser and validated against the schema slice
//!   in `schema.rs` (unknown fields and arguments, missing required arguments, variables that
//!   do not fit their input types: top-level `errors` with `extensions.code`).
//! * The calculated-cost leaky bucket (size and restore rate configurable; Standard 100
//!   points/s by default): a request that costs more than is available is `THROTTLED`
//!   (HTTP 200 by default, 429 with [`FakeShopify::throttle_with_429`]), one over the single
//!   query maximum is `MAX_COST_EXCEEDED`; every answer carries `extensions.cost` with
//!   `throttleStatus`. The bucket is asserted never to go below zero.
//! * Operations: `shop`, `products`, `productVariants(query: "sku:…")`, `locations`,
//!   `orders(sortKey: UPDATED_AT, query: "updated_at:>=…")` and `order` (orders tests make
//!   with [`FakeShopify::create_order`] and edit; see `orders.rs`),
//!   `product`, `productVariant`, `inventoryItem` with cursor pagination (`first` ≤ 250,
//!   `pageInfo`); `productSet` (upsert by id, handle or customId; list fields replace-set; at
//!   most 2,048 variants), `productVariantsBulkUpdate` (`allowPartialUpdates`, per-variant
//!   userErrors), `inventorySetQuantities` with each version's rules: on 2026-04 the
//!   `@idempotent(key:)` directive is required, every entry needs `changeFromQuantity`, the
//!   same key with the same variables replays the first answer and with other variables is
//!   `IDEMPOTENCY_KEY_PARAMETER_MISMATCH`; on 2025-10 `compareQuantity` /
//!   `ignoreCompareQuantity`.
//! * Fault switches: forced throttling, 429 instead of 200, stale compare-and-swap (a sale at
//!   the storefront between our read and our write), 5xx bursts.
//! * Every mutation call is recorded ([`FakeShopify::writes`]) so tests can count writes.
//!
//! Where Shopify's exact error text or code is not documented ([I] in PARTNER-APIS.md) the
//! fake's choice is listed in the crate README.

mod bulk;
mod exec;
mod orders;
mod price_lists;
mod schema;
mod store;
mod subscriptions;
mod validate;

pub use bulk::{BulkStatus, FakeBulkCancel, FakeBulkOp};
pub use orders::{FakeFulfillment, FakeOrderLine, FakeOrderSpec};
pub use price_lists::FixedPrice;
pub use store::{gid, parse_gid, MAX_VARIANTS};
pub use subscriptions::Subscription;

use crate::config::ApiVersion;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::Engine as _;
use hmac::{Hmac, Mac};
use serde_json::{json, Map, Value};
use sha2::Sha256;
use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;
use tokio::task::JoinHandle;

pub const INVALID_TOKEN_BODY: &str =
    "[API] Invalid API key or access token (unrecognized login or wrong password)";

/// How the fake is set up before it starts.
#[derive(Debug, Clone)]
pub struct FakeShopifyConfig {
    pub token: String,
    pub versions: Vec<ApiVersion>,
    /// Bucket size in points ([I]: Shopify's Standard bucket size is not pinned down in the
    /// sources; the restore rate is).
    pub bucket_size: f64,
    /// Points restored per second (Standard: 100).
    pub restore_rate: f64,
    /// The single-query maximum (`MAX_COST_EXCEEDED` above it).
    pub max_query_cost: f64,
    /// Location gid → name.
    pub locations: BTreeMap<String, String>,
    /// Accepted inventory reasons ([I]: the full enum is not in the sources).
    pub reasons: Vec<String>,
    pub shop_domain: String,
    /// The app secret webhooks are signed with.
    pub webhook_secret: Option<String>,
    /// Accept `http://` webhook subscription addresses on loopback hosts (Shopify accepts
    /// only `https://`; tests subscribe a local daemon).
    pub allow_loopback_http: bool,
}

impl Default for FakeShopifyConfig {
    fn default() -> Self {
        Self {
            token: "shpat_fake_token".into(),
            versions: ApiVersion::ALL.to_vec(),
            bucket_size: 2000.0,
            restore_rate: 100.0,
            max_query_cost: 1000.0,
            locations: [
                (
                    "gid://shopify/Location/7001".to_string(),
                    "Chicago".to_string(),
                ),
                (
                    "gid://shopify/Location/7002".to_string(),
                    "Houston".to_string(),
                ),
            ]
            .into_iter()
            .collect(),
            reasons: [
                "correction",
                "cycle_count_available",
                "damaged",
                "movement_created",
                "received",
                "restock",
                "shrinkage",
                "other",
            ]
            .map(String::from)
            .to_vec(),
            shop_domain: "switchyard-test.myshopify.com".into(),
            webhook_secret: None,
            allow_loopback_http: false,
        }
    }
}

impl FakeShopifyConfig {
    pub fn bucket(mut self, size: f64, restore_rate: f64) -> Self {
        self.bucket_size = size;
        self.restore_rate = restore_rate;
        self
    }

    pub fn versions(mut self, versions: &[ApiVersion]) -> Self {
        self.versions = versions.to_vec();
        self
    }

    pub fn webhook_secret(mut self, secret: impl Into<String>) -> Self {
        self.webhook_secret = Some(secret.into());
        self
    }

    pub fn allow_loopback_http(mut self, on: bool) -> Self {
        self.allow_loopback_http = on;
        self
    }
}

/// What became of one mutation call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteOutcome {
    Applied,
    /// Refused with userErrors; nothing changed.
    UserErrors,
    /// Answered from the idempotency store; nothing changed.
    Replayed,
}

/// One mutation call the fake executed (throttled and invalid requests are not writes).
#[derive(Debug, Clone, PartialEq)]
pub struct Write {
    pub operation: String,
    pub version: ApiVersion,
    pub args: Map<String, Value>,
    pub idempotency_key: Option<String>,
    pub outcome: WriteOutcome,
}

/// The calculated-cost leaky bucket.
#[derive(Debug)]
struct Bucket {
    size: f64,
    available: f64,
    restore: f64,
    at: Instant,
    lowest: f64,
}

impl Bucket {
    fn refill(&mut self, now: Instant) {
        let dt = now.saturating_duration_since(self.at).as_secs_f64();
        self.available = (self.available + dt * self.restore).min(self.size);
        self.at = now;
    }

    fn take(&mut self, cost: f64) -> bool {
        if cost > self.available {
            return false;
        }
        self.available -= cost;
        self.lowest = self.lowest.min(self.available);
        // The invariant the throttling tests rely on: the fake itself never overdraws.
        assert!(
            self.available >= 0.0,
            "fake Shopify bucket went below zero: {}",
            self.available
        );
        true
    }

    fn status(&self) -> Value {
        json!({"maximumAvailable": self.size, "currentlyAvailable": (self.available * 100.0).floor() / 100.0, "restoreRate": self.restore})
    }
}

#[derive(Debug, Default, Clone, Copy)]
struct Faults {
    throttle_next: u32,
    throttle_429: bool,
    stale_next: u32,
    fail_next: u32,
    fail_status: u16,
}

/// Counters for assertions.
#[derive(Debug, Default, Clone, Copy, PartialEq)]
pub struct FakeStats {
    pub requests: u64,
    pub throttled: u64,
    pub max_cost_exceeded: u64,
    pub failed_5xx: u64,
    pub unauthorized: u64,
    pub invalid: u64,
    /// Points taken from the bucket by requests that ran (the cost the bucket charged).
    pub points: f64,
}

struct Inner {
    shop: store::Shop,
    bucket: Bucket,
    faults: Faults,
    writes: Vec<Write>,
    /// Idempotency key → (the call's arguments, its answer).
    idempotency: HashMap<String, (Value, Value)>,
    stats: FakeStats,
    /// A merchant's edit to apply right after the next `orders` page is served (an order
    /// changing while a pull pages).
    after_orders_page: Option<OrderEdit>,
    price_lists: price_lists::PriceLists,
    subscriptions: subscriptions::Subscriptions,
    /// Staged uploads and bulk operations (`bulk.rs`).
    bulk: bulk::BulkState,
}

type OrderEdit = Box<dyn FnOnce(&mut orders::Orders) + Send>;

struct Shared {
    config: FakeShopifyConfig,
    inner: Mutex<Inner>,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// A running fake shop. Dropping it stops the server.
pub struct FakeShopify {
    base_url: String,
    addr: SocketAddr,
    shared: Arc<Shared>,
    task: JoinHandle<()>,
    http: reqwest::Client,
}

impl std::fmt::Debug for FakeShopify {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FakeShopify")
            .field("base_url", &self.base_url)
            .finish()
    }
}

impl Drop for FakeShopify {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl FakeShopify {
    /// Bind `127.0.0.1:0` and serve until dropped.
    pub async fn start(config: FakeShopifyConfig) -> std::io::Result<Self> {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared {
            inner: Mutex::new(Inner {
                shop: store::Shop::new(config.locations.clone(), config.reasons.clone()),
                bucket: Bucket {
                    size: config.bucket_size,
                    available: config.bucket_size,
                    restore: config.restore_rate,
                    at: Instant::now(),
                    lowest: config.bucket_size,
                },
                faults: Faults::default(),
                writes: Vec::new(),
                idempotency: HashMap::new(),
                stats: FakeStats::default(),
                after_orders_page: None,
                price_lists: price_lists::PriceLists::default(),
                subscriptions: subscriptions::Subscriptions::default(),
                bulk: bulk::BulkState::new(format!("http://{addr}")),
            }),
            config,
        });
        let router = Router::new()
            .route("/admin/api/{version}/graphql.json", post(graphql))
            .route("/staged-uploads", post(bulk::upload))
            .route("/bulk-results/{file}", get(bulk::results))
            .with_state(shared.clone());
        let task = tokio::spawn(async move {
            if let Err(e) = axum::serve(listener, router).await {
                tracing::warn!(error = %e, "fake Shopify stopped with an error");
            }
        });
        Ok(Self {
            base_url: format!("http://{addr}"),
            addr,
            shared,
            task,
            http: reqwest::Client::new(),
        })
    }

    /// What goes in `shop_url`.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn token(&self) -> &str {
        &self.shared.config.token
    }

    pub fn endpoint(&self, version: ApiVersion) -> String {
        format!("{}/admin/api/{version}/graphql.json", self.base_url)
    }

    /// Answer the next `n` requests `THROTTLED` whatever the bucket holds.
    pub fn throttle_next(&self, n: u32) {
        self.shared.lock().faults.throttle_next = n;
    }

    /// Throttled answers are HTTP 429 instead of 200.
    pub fn throttle_with_429(&self, on: bool) {
        self.shared.lock().faults.throttle_429 = on;
    }

    /// The next `n` `inventorySetQuantities` calls find stock changed under them: a unit is
    /// sold at the storefront just before each applies, so a compare-and-swap is stale.
    pub fn stale_next(&self, n: u32) {
        self.shared.lock().faults.stale_next = n;
    }

    /// Answer the next `n` requests with `status` (a 5xx burst).
    pub fn fail_next(&self, n: u32, status: u16) {
        let mut inner = self.shared.lock();
        inner.faults.fail_next = n;
        inner.faults.fail_status = status;
    }

    pub fn writes(&self) -> Vec<Write> {
        self.shared.lock().writes.clone()
    }

    /// Calls of `operation` that changed something.
    pub fn applied(&self, operation: &str) -> usize {
        self.shared
            .lock()
            .writes
            .iter()
            .filter(|w| w.operation == operation && w.outcome == WriteOutcome::Applied)
            .count()
    }

    pub fn clear_writes(&self) {
        self.shared.lock().writes.clear();
    }

    pub fn stats(&self) -> FakeStats {
        self.shared.lock().stats
    }

    /// The lowest the bucket has been (never below zero: asserted on every take).
    pub fn bucket_lowest(&self) -> f64 {
        self.shared.lock().bucket.lowest
    }

    pub fn product_count(&self) -> usize {
        self.shared.lock().shop.products.len()
    }

    /// The product whose customId metafield `namespace.key` is `value`, as `product(id:)`
    /// reads with every field (variants as a plain list).
    pub fn product_by_custom_id(&self, namespace: &str, key: &str, value: &str) -> Option<Value> {
        let inner = self.shared.lock();
        let p = inner.shop.products.values().find(|p| {
            p.metafields
                .iter()
                .any(|m| m.namespace == namespace && m.key == key && m.value == value)
        })?;
        let mut v = inner.shop.product_json(p);
        v["variants"] = v["variants"]["__connection"].take();
        Some(v)
    }

    /// (price, compareAtPrice) of the variant with this SKU.
    pub fn variant_price(&self, sku: &str) -> Option<(String, Option<String>)> {
        let inner = self.shared.lock();
        inner
            .shop
            .variant_by_sku(sku)
            .map(|(_, v)| (v.price.clone(), v.compare_at_price.clone()))
    }

    /// Available stock of a SKU at a location gid.
    pub fn available(&self, sku: &str, location: &str) -> Option<i64> {
        let inner = self.shared.lock();
        let (_, v) = inner.shop.variant_by_sku(sku)?;
        inner
            .shop
            .levels
            .get(&(v.inventory_item, location.to_owned()))
            .copied()
    }

    /// A shopper placed an order; its numeric id (`gid://shopify/Order/{id}`).
    pub fn create_order(&self, spec: FakeOrderSpec) -> u64 {
        self.shared.lock().shop.orders.create(spec)
    }

    /// The merchant edited an order (its `updatedAt` moves on); false for an unknown id.
    pub fn update_order(&self, id: u64, edit: impl FnOnce(&mut FakeOrderSpec)) -> bool {
        self.shared.lock().shop.orders.update(id, edit)
    }

    /// The merchant edits order `id` right after the next `orders` page is served: the order
    /// changes while a pull is paging.
    pub fn update_order_after_next_page(
        &self,
        id: u64,
        edit: impl FnOnce(&mut FakeOrderSpec) + Send + 'static,
    ) {
        self.shared.lock().after_orders_page = Some(Box::new(move |o: &mut orders::Orders| {
            o.update(id, edit);
        }));
    }

    /// The body Shopify's `orders/*` webhooks carry for order `id` (REST shape, the fields a
    /// receiver needs: `id`, `admin_graphql_api_id`, `name`, `updated_at`).
    pub fn order_webhook_body(&self, id: u64) -> Option<Value> {
        let inner = self.shared.lock();
        let o = inner.shop.orders.get(id)?;
        let v = inner.shop.orders.json(o);
        Some(json!({
            "id": id,
            "admin_graphql_api_id": v["id"],
            "name": v["name"],
            "updated_at": v["updatedAt"],
            "cancelled_at": v["cancelledAt"],
        }))
    }

    /// The fulfillments created on order `id`.
    pub fn fulfillments_of(&self, id: u64) -> Vec<FakeFulfillment> {
        self.shared
            .lock()
            .shop
            .orders
            .get(id)
            .map(|o| o.fulfillments.clone())
            .unwrap_or_default()
    }

    /// The merchant cancelled fulfillment `id` in the admin; false when there is none.
    pub fn cancel_fulfillment(&self, id: u64) -> bool {
        self.shared.lock().shop.orders.cancel_fulfillment(id)
    }

    /// The merchant cancelled an order; false for an unknown id.
    pub fn cancel_order(&self, id: u64, reason: &str) -> bool {
        self.shared.lock().shop.orders.cancel(id, reason)
    }

    /// The order as `order(id:)` reads it with every field (connections as plain lists).
    pub fn order_json(&self, id: u64) -> Option<Value> {
        let inner = self.shared.lock();
        let o = inner.shop.orders.get(id)?;
        let mut v = inner.shop.orders.json(o);
        v["lineItems"] = v["lineItems"]["__connection"].take();
        Some(v)
    }

    /// Someone changed stock in the Shopify admin.
    pub fn set_available(&self, sku: &str, location: &str, quantity: i64) {
        let mut inner = self.shared.lock();
        let item = inner
            .shop
            .variant_by_sku(sku)
            .map(|(_, v)| v.inventory_item);
        if let Some(item) = item {
            inner
                .shop
                .levels
                .insert((item, location.to_owned()), quantity);
        }
    }

    /// The merchant deleted the variant with `sku` and made it again in the admin: same SKU, a
    /// new id, so an id an app remembered names no variant any more. The new numeric id.
    pub fn recreate_variant(&self, sku: &str) -> Option<u64> {
        self.shared.lock().shop.recreate_variant(sku)
    }

    /// A B2B price list in `currency` (ISO code); its gid.
    pub fn create_price_list(&self, name: &str, currency: &str) -> String {
        self.shared.lock().price_lists.create(name, currency)
    }

    /// The fixed price of the variant with `sku` in price list `list`.
    pub fn fixed_price(&self, list: &str, sku: &str) -> Option<FixedPrice> {
        let inner = self.shared.lock();
        let (_, v) = inner.shop.variant_by_sku(sku)?;
        inner.price_lists.fixed(list, v.id)
    }

    /// The webhook subscriptions made, oldest first.
    pub fn subscriptions(&self) -> Vec<Subscription> {
        self.shared.lock().subscriptions.list.clone()
    }

    /// POST a webhook to `url` as Shopify does: the JSON body signed (base64 HMAC-SHA256 of
    /// the raw body) with `secret`, or the configured one.
    pub async fn send_webhook(
        &self,
        url: &str,
        topic: &str,
        body: &Value,
        event_id: &str,
        secret: Option<&str>,
    ) -> reqwest::Result<u16> {
        self.send_webhook_at(url, topic, body, event_id, secret, chrono::Utc::now())
            .await
    }

    /// [`Self::send_webhook`] of an event triggered at `triggered_at` (a delayed retry).
    pub async fn send_webhook_at(
        &self,
        url: &str,
        topic: &str,
        body: &Value,
        event_id: &str,
        secret: Option<&str>,
        triggered_at: chrono::DateTime<chrono::Utc>,
    ) -> reqwest::Result<u16> {
        post_signed_at(
            &self.shared,
            &self.http,
            url,
            topic,
            body,
            event_id,
            secret,
            triggered_at,
        )
        .await
    }
}

/// POST `body` to `url` as Shopify sends a webhook: the raw JSON signed (base64
/// HMAC-SHA256) with `secret` or the configured app secret, with Shopify's headers.
async fn post_signed(
    shared: &Shared,
    http: &reqwest::Client,
    url: &str,
    topic: &str,
    body: &Value,
    event_id: &str,
    secret: Option<&str>,
) -> reqwest::Result<u16> {
    post_signed_at(
        shared,
        http,
        url,
        topic,
        body,
        event_id,
        secret,
        chrono::Utc::now(),
    )
    .await
}

/// [`post_signed`] of an event triggered at `triggered_at` (a delayed retry).
#[allow(clippy::too_many_arguments)]
async fn post_signed_at(
    shared: &Shared,
    http: &reqwest::Client,
    url: &str,
    topic: &str,
    body: &Value,
    event_id: &str,
    secret: Option<&str>,
    triggered_at: chrono::DateTime<chrono::Utc>,
) -> reqwest::Result<u16> {
    let raw = serde_json::to_vec(body).expect("json");
    let secret = secret
        .or(shared.config.webhook_secret.as_deref())
        .unwrap_or_default();
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("any key length");
    mac.update(&raw);
    let signature = base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes());
    let res = http
        .post(url)
        .header("content-type", "application/json")
        .header("x-shopify-topic", topic)
        .header("x-shopify-hmac-sha256", signature)
        .header("x-shopify-shop-domain", &shared.config.shop_domain)
        .header("x-shopify-api-version", ApiVersion::V2026_04.as_str())
        .header("x-shopify-webhook-id", uuid::Uuid::new_v4().to_string())
        .header("x-shopify-event-id", event_id)
        .header("x-shopify-triggered-at", triggered_at.to_rfc3339())
        .body(raw)
        .send()
        .await?;
    Ok(res.status().as_u16())
}

fn reply(status: StatusCode, body: Value) -> Response {
    (status, Json(body)).into_response()
}

async fn graphql(
    State(shared): State<Arc<Shared>>,
    Path(version): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Some(version) = ApiVersion::parse(&version).filter(|v| shared.config.versions.contains(v))
    else {
        return reply(StatusCode::NOT_FOUND, json!({"errors": "Not Found"}));
    };
    {
        let mut inner = shared.lock();
        inner.stats.requests += 1;
        let token = headers
            .get("x-shopify-access-token")
            .and_then(|v| v.to_str().ok());
        if token != Some(shared.config.token.as_str()) {
            inner.stats.unauthorized += 1;
            return reply(
                StatusCode::UNAUTHORIZED,
                json!({"errors": INVALID_TOKEN_BODY}),
            );
        }
        if inner.faults.fail_next > 0 {
            inner.faults.fail_next -= 1;
            inner.stats.failed_5xx += 1;
            let status = StatusCode::from_u16(inner.faults.fail_status)
                .unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
            return reply(status, json!({"errors": "Internal Server Error"}));
        }
    }
    let json_type = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.starts_with("application/json"));
    let request: Option<Map<String, Value>> = if json_type {
        serde_json::from_slice(&body).ok()
    } else {
        None
    };
    let Some(request) = request else {
        shared.lock().stats.invalid += 1;
        return reply(
            StatusCode::BAD_REQUEST,
            json!({"errors": {"query": "Required parameter missing or invalid"}}),
        );
    };
    let Some(query) = request.get("query").and_then(Value::as_str) else {
        shared.lock().stats.invalid += 1;
        return reply(
            StatusCode::BAD_REQUEST,
            json!({"errors": {"query": "Required parameter missing or invalid"}}),
        );
    };
    let vars = match request.get("variables") {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(m)) => m.clone(),
        Some(_) => {
            return reply(
                StatusCode::BAD_REQUEST,
                json!({"errors": {"variables": "must be an object"}}),
            )
        }
    };
    let doc = match async_graphql_parser::parse_query(query) {
        Ok(doc) => doc,
        Err(e) => {
            shared.lock().stats.invalid += 1;
            let pos = e.positions().next();
            return reply(
                StatusCode::OK,
                json!({"errors": [validate::error(e.to_string().replace('\n', " "), "syntaxError", pos)]}),
            );
        }
    };
    let cx = validate::Cx {
        doc: &doc,
        vars: &vars,
        version,
    };
    let prepared =
        match validate::prepare(&cx, request.get("operationName").and_then(Value::as_str)) {
            Ok(p) => p,
            Err(errors) => {
                shared.lock().stats.invalid += 1;
                return reply(StatusCode::OK, json!({"errors": errors}));
            }
        };
    let mut inner = shared.lock();
    let cost = prepared.cost.ceil();
    if cost > shared.config.max_query_cost {
        inner.stats.max_cost_exceeded += 1;
        let mut e = validate::error(
            format!(
                "Query cost is {cost}, which exceeds the single query max cost limit ({}).",
                shared.config.max_query_cost
            ),
            "MAX_COST_EXCEEDED",
            None,
        );
        e["extensions"]["cost"] = json!(cost);
        e["extensions"]["maxCost"] = json!(shared.config.max_query_cost);
        return reply(StatusCode::OK, json!({"errors": [e]}));
    }
    inner.bucket.refill(Instant::now());
    let forced = inner.faults.throttle_next > 0;
    if forced {
        inner.faults.throttle_next -= 1;
    }
    let taken = !forced && inner.bucket.take(cost);
    if taken {
        inner.stats.points += cost;
    }
    if !taken {
        inner.stats.throttled += 1;
        let status = if inner.faults.throttle_429 {
            StatusCode::TOO_MANY_REQUESTS
        } else {
            StatusCode::OK
        };
        return reply(
            status,
            json!({
                "errors": [{"message": "Throttled", "extensions": {"code": "THROTTLED", "documentation": "https://shopify.dev/api/usage/rate-limits"}}],
                "extensions": {"cost": {"requestedQueryCost": cost, "actualQueryCost": null, "throttleStatus": inner.bucket.status()}}
            }),
        );
    }
    let mut data = Map::new();
    let mut errors = Vec::new();
    for field in &prepared.fields {
        let value = match prepared.ty {
            async_graphql_parser::types::OperationType::Mutation => {
                mutation(&mut inner, &shared.config, version, field, &cx).unwrap_or_else(|e| {
                    errors.push(e);
                    Value::Null
                })
            }
            _ => match field.name.as_str() {
                "priceList" => exec::project(
                    &inner.price_lists.json(
                        field
                            .args
                            .get("id")
                            .and_then(Value::as_str)
                            .unwrap_or_default(),
                    ),
                    &field.selection.node,
                    &cx,
                ),
                "webhookSubscriptions" => exec::project(
                    &exec::connection(
                        inner.subscriptions.nodes(field.args.get("topics")),
                        &field.args,
                    ),
                    &field.selection.node,
                    &cx,
                ),
                _ => inner.bulk.query_field(field, &cx).unwrap_or_else(|| {
                    exec::query_field(&inner.shop, field, &cx, &shared.config.shop_domain)
                }),
            },
        };
        data.insert(field.key.clone(), value);
    }
    if let Some(id) = inner.bulk.take_started() {
        tokio::spawn(bulk::run(shared.clone(), id));
    }
    if prepared.fields.iter().any(|f| f.name == "orders") {
        if let Some(edit) = inner.after_orders_page.take() {
            edit(&mut inner.shop.orders);
        }
    }
    let mut body = json!({"data": data, "extensions": {"cost": {"requestedQueryCost": cost, "actualQueryCost": cost, "throttleStatus": inner.bucket.status()}}});
    if !errors.is_empty() {
        body["errors"] = Value::Array(errors);
    }
    reply(StatusCode::OK, body)
}

fn obj(v: Option<&Value>) -> Map<String, Value> {
    v.and_then(Value::as_object).cloned().unwrap_or_default()
}

/// Run one mutation field; a top-level error (the field is then null) as `Err`.
fn mutation(
    inner: &mut Inner,
    config: &FakeShopifyConfig,
    version: ApiVersion,
    field: &validate::RootField,
    cx: &validate::Cx<'_>,
) -> Result<Value, Value> {
    let args = &field.args;
    let record = |inner: &mut Inner, outcome: WriteOutcome, key: Option<String>| {
        inner.writes.push(Write {
            operation: field.name.clone(),
            version,
            args: args.clone(),
            idempotency_key: key,
            outcome,
        });
    };
    if let Some(answer) = bulk::mutation(inner, config, version, field, cx) {
        record(inner, WriteOutcome::Applied, None);
        return Ok(answer);
    }
    let built = match field.name.as_str() {
        "fulfillmentCreate" => {
            let input = obj(args.get("fulfillment"));
            let tracking = obj(input.get("trackingInfo"));
            let notify = input
                .get("notifyCustomer")
                .and_then(Value::as_bool)
                .unwrap_or(false);
            let groups = input
                .get("lineItemsByFulfillmentOrder")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            // Whole fulfillment orders only (this fake does not split lines).
            let mut result = Ok(0);
            for g in &groups {
                let fo = g["fulfillmentOrderId"].as_str().unwrap_or_default();
                result = inner.shop.orders.fulfill(fo, &tracking, notify);
                if result.is_err() {
                    break;
                }
            }
            match result {
                Ok(id) => {
                    record(inner, WriteOutcome::Applied, None);
                    json!({"fulfillment": {"id": gid("Fulfillment", id), "status": "SUCCESS",
                        "trackingInfo": [{"company": tracking.get("company"), "number": tracking.get("number"), "url": tracking.get("url")}]},
                        "userErrors": []})
                }
                Err(errors) => {
                    record(inner, WriteOutcome::UserErrors, None);
                    json!({"fulfillment": null, "userErrors": errors})
                }
            }
        }
        "fulfillmentTrackingInfoUpdate" => {
            let fid = args
                .get("fulfillmentId")
                .and_then(Value::as_str)
                .unwrap_or_default();
            let tracking = obj(args.get("trackingInfoInput"));
            let notify = args
                .get("notifyCustomer")
                .and_then(Value::as_bool)
                .unwrap_or(false);
            match inner.shop.orders.update_tracking(fid, &tracking, notify) {
                Ok(f) => {
                    record(inner, WriteOutcome::Applied, None);
                    json!({"fulfillment": {"id": gid("Fulfillment", f.id),
                        "status": if f.cancelled { "CANCELLED" } else { "SUCCESS" },
                        "trackingInfo": [{"company": f.company, "number": f.number, "url": f.url}]},
                        "userErrors": []})
                }
                Err(errors) => {
                    record(inner, WriteOutcome::UserErrors, None);
                    json!({"fulfillment": null, "userErrors": errors})
                }
            }
        }
        "productSet" => {
            let ident = args.get("identifier").and_then(Value::as_object);
            match inner.shop.product_set(&obj(args.get("input")), ident) {
                Ok(id) => {
                    record(inner, WriteOutcome::Applied, None);
                    let p = &inner.shop.products[&id];
                    json!({"product": inner.shop.product_json(p), "productSetOperation": null, "userErrors": []})
                }
                Err(errors) => {
                    record(inner, WriteOutcome::UserErrors, None);
                    json!({"product": null, "productSetOperation": null, "userErrors": errors})
                }
            }
        }
        "productVariantsBulkUpdate" => {
            let partial = args
                .get("allowPartialUpdates")
                .and_then(Value::as_bool)
                .unwrap_or(false);
            let variants = args
                .get("variants")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            let (pid, updated, errors) = inner.shop.variants_bulk_update(
                args.get("productId")
                    .and_then(Value::as_str)
                    .unwrap_or_default(),
                &variants,
                partial,
            );
            record(
                inner,
                if updated.is_empty() {
                    WriteOutcome::UserErrors
                } else {
                    WriteOutcome::Applied
                },
                None,
            );
            let product = pid.and_then(|id| inner.shop.products.get(&id));
            let variants: Vec<Value> = product
                .map(|p| {
                    p.variants
                        .iter()
                        .filter(|v| updated.contains(&v.id))
                        .map(|v| inner.shop.variant_json(p, v))
                        .collect()
                })
                .unwrap_or_default();
            json!({"product": product.map(|p| inner.shop.product_json(p)), "productVariants": variants, "userErrors": errors})
        }
        "inventorySetQuantities" => {
            let key = match &field.idempotency_key {
                Some(Value::String(k)) if !k.is_empty() => Some(k.clone()),
                Some(_) => {
                    return Err(validate::error(
                        "The idempotency key must be a non-empty string",
                        "BAD_REQUEST",
                        Some(field.pos),
                    ))
                }
                None if version.idempotent_inventory() => {
                    return Err(validate::error(
                        "The @idempotent directive is required for this mutation",
                        "BAD_REQUEST",
                        Some(field.pos),
                    ))
                }
                None => None,
            };
            let call = Value::Object(args.clone());
            if let Some(k) = &key {
                if let Some((seen, answer)) = inner.idempotency.get(k) {
                    if *seen != call {
                        return Err(validate::error(
                            "The same idempotency key was used with different parameters",
                            "IDEMPOTENCY_KEY_PARAMETER_MISMATCH",
                            Some(field.pos),
                        ));
                    }
                    let answer = answer.clone();
                    record(inner, WriteOutcome::Replayed, key.clone());
                    return Ok(exec::project(&answer, &field.selection.node, cx));
                }
            }
            let input = obj(args.get("input"));
            if inner.faults.stale_next > 0 {
                inner.faults.stale_next -= 1;
                sell_one_unit(&mut inner.shop, &input);
            }
            let answer = match inner.shop.set_quantities(&input, version) {
                Ok(changes) => {
                    record(inner, WriteOutcome::Applied, key.clone());
                    let id = inner.writes.len();
                    json!({"inventoryAdjustmentGroup": {"id": format!("gid://shopify/InventoryAdjustmentGroup/{id}"),
                        "createdAt": chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                        "reason": input.get("reason"), "referenceDocumentUri": input.get("referenceDocumentUri"), "changes": changes},
                        "userErrors": []})
                }
                Err(errors) => {
                    record(inner, WriteOutcome::UserErrors, key.clone());
                    json!({"inventoryAdjustmentGroup": null, "userErrors": errors})
                }
            };
            if let Some(k) = key {
                inner.idempotency.insert(k, (call, answer.clone()));
            }
            answer
        }
        "priceListFixedPricesAdd" => {
            let list = args
                .get("priceListId")
                .and_then(Value::as_str)
                .unwrap_or_default();
            let prices = args
                .get("prices")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            let (set, errors) = inner.price_lists.add(&inner.shop, list, &prices);
            let outcome = if set.is_empty() {
                WriteOutcome::UserErrors
            } else {
                WriteOutcome::Applied
            };
            record(inner, outcome, None);
            json!({"prices": set, "userErrors": errors})
        }
        "priceListFixedPricesDelete" => {
            let list = args
                .get("priceListId")
                .and_then(Value::as_str)
                .unwrap_or_default();
            let ids = args
                .get("variantIds")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            let (deleted, errors) = inner.price_lists.delete(list, &ids);
            let outcome = if deleted.is_empty() {
                WriteOutcome::UserErrors
            } else {
                WriteOutcome::Applied
            };
            record(inner, outcome, None);
            json!({"deletedFixedPriceVariantIds": deleted, "userErrors": errors})
        }
        "webhookSubscriptionCreate" => {
            let topic = args
                .get("topic")
                .and_then(Value::as_str)
                .unwrap_or_default();
            match inner.subscriptions.create(
                topic,
                &obj(args.get("webhookSubscription")),
                config.allow_loopback_http,
            ) {
                Ok(sub) => {
                    record(inner, WriteOutcome::Applied, None);
                    json!({"webhookSubscription": sub, "userErrors": []})
                }
                Err(errors) => {
                    record(inner, WriteOutcome::UserErrors, None);
                    json!({"webhookSubscription": null, "userErrors": errors})
                }
            }
        }
        other => {
            return Err(validate::error(
                format!("Field '{other}' doesn't exist on type 'Mutation'"),
                "undefinedField",
                Some(field.pos),
            ))
        }
    };
    Ok(exec::project(&built, &field.selection.node, cx))
}

/// The stale compare-and-swap fault: one unit of every entry's item is sold at its location.
fn sell_one_unit(shop: &mut store::Shop, input: &Map<String, Value>) {
    for q in input
        .get("quantities")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let item = q
            .get("inventoryItemId")
            .and_then(Value::as_str)
            .and_then(|g| parse_gid("InventoryItem", g));
        let loc = q.get("locationId").and_then(Value::as_str);
        if let (Some(item), Some(loc)) = (item, loc) {
            *shop.levels.entry((item, loc.to_owned())).or_insert(0) -= 1;
        }
    }
}
