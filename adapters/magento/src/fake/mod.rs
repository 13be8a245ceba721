//! A faithful fake Magento store over loopback HTTP (feature `fake`), refusing what Magento
//! refuses:
//!
//! * real paths: `/rest/{store_code}/V1/...` (and `/rest/V1/...` for the default store); an
//!   unknown store code is Magento's 400;
//! * auth: admin tokens minted by `POST /V1/integration/admin/token` (a bare JSON string) that
//!   expire; the integration token refused as a bearer unless the store toggle is on (Magento ≥
//!   2.4.4); OAuth 1.0a signatures verified for real — HMAC-SHA256/SHA1, timestamp window,
//!   nonce replay — by a base-string implementation of its own (not the adapter's `oauth` module);
//! * `searchCriteria` parsed from the query string with every condition type, OR inside a
//!   group and AND across, sort orders, `total_count`, and a page past the end answered with
//!   the last page again;
//! * products (POST, PUT by URL-encoded SKU answering 404 for an unknown one, GET, DELETE,
//!   strict: an unknown product property is refused like Magento's accessor check), MSI source
//!   items, the legacy stock item, base/tier/special prices answering `[]` or per-item failures;
//! * orders (`GET /V1/orders` with searchCriteria, configurable parent and child lines) and
//!   shipments with tracks (`POST /V1/order/{id}/ship`) and tracks added later
//!   (`POST /V1/shipment/track`), order management (`cancel`, `hold`, `unhold` with Magento's
//!   state rules, `comments`), in [`orders`];
//! * the async bulk API (202 with the bulk UUID, status polling, operations that stay open,
//!   fail retriably, fail for good or complete), in [`bulk`];
//! * Magento's error bodies with `%1`/named parameters;
//! * fault switches: 5xx bursts, permanent failure, throttling with `Retry-After`, slow
//!   answers, expired admin tokens, refused prices per SKU;
//! * every write recorded (method, route, body, idempotency key, status), and per idempotency
//!   key how many writes changed the store (a PUT that changes nothing applied nothing).

use axum::body::Bytes;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use hmac::{Hmac, Mac};
use serde_json::{json, Map, Value};
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::search::{Condition, Direction, SearchCriteria};

mod bulk;
mod orders;
pub use orders::FakeLine;

/// The product properties Magento's `ProductInterface` has accessors for.
const PRODUCT_FIELDS: &[&str] = &[
    "id",
    "sku",
    "name",
    "attribute_set_id",
    "price",
    "status",
    "visibility",
    "type_id",
    "created_at",
    "updated_at",
    "weight",
    "extension_attributes",
    "product_links",
    "options",
    "media_gallery_entries",
    "tier_prices",
    "custom_attributes",
];

/// Customer groups every Magento has.
const BUILTIN_GROUPS: &[&str] = &[
    "ALL GROUPS",
    "NOT LOGGED IN",
    "General",
    "Wholesale",
    "Retailer",
];

/// How the fake store is set up.
#[derive(Debug, Clone)]
pub struct FakeStoreConfig {
    /// Store codes besides `all` and `default`.
    pub store_codes: Vec<String>,
    pub integration_token: String,
    /// Magento ≥ 2.4.4's "Allow OAuth Access Tokens to be used as standalone Bearer tokens".
    pub integration_as_bearer: bool,
    pub consumer_key: String,
    pub consumer_secret: String,
    pub access_token: String,
    pub access_token_secret: String,
    pub admin_username: String,
    pub admin_password: String,
    pub admin_token_lifetime: Duration,
    /// MSI source codes the store has.
    pub sources: Vec<String>,
    /// Customer groups besides the built-in ones.
    pub customer_groups: Vec<String>,
}

impl Default for FakeStoreConfig {
    fn default() -> Self {
        Self {
            store_codes: vec!["us_en".into()],
            integration_token: "integration-token-7f3k".into(),
            integration_as_bearer: false,
            consumer_key: "ck-3kd9f0".into(),
            consumer_secret: "cs-9dk2m1".into(),
            access_token: "at-0m2n4b".into(),
            access_token_secret: "as-8v7c6x".into(),
            admin_username: "api-admin".into(),
            admin_password: "pa55-w0rd!".into(),
            admin_token_lifetime: Duration::from_secs(4 * 3600),
            sources: vec!["default".into(), "chicago".into(), "houston".into()],
            customer_groups: vec!["Gold".into()],
        }
    }
}

/// One write the store received (after auth and faults).
#[derive(Debug, Clone, PartialEq)]
pub struct Recorded {
    pub method: String,
    /// The route after `/rest/{store}/`, SKU segments decoded: `V1/products/A/1`.
    pub route: String,
    pub store: String,
    pub body: Value,
    pub idempotency_key: Option<String>,
    pub status: u16,
    /// The bulk whose consumer ran this operation (its UUID); None for a request the store
    /// received, so a test tells a client's calls from the consumer's saves.
    pub bulk: Option<String>,
}

#[derive(Default)]
struct Faults {
    fail_next: VecDeque<u16>,
    always: Option<u16>,
    throttle: Option<u64>,
    delay: Option<Duration>,
    /// Requests whose body contains this text are answered after the extra delay.
    slow_matching: Option<(String, Duration)>,
    refused_prices: HashSet<String>,
    refused_special: HashSet<String>,
}

#[derive(Default)]
struct Store {
    products: BTreeMap<String, Value>,
    next_id: i64,
    source_items: BTreeMap<(String, String), Value>,
    stock_items: BTreeMap<String, Value>,
    base_prices: BTreeMap<String, Value>,
    tier_prices: BTreeMap<String, Vec<Value>>,
    special_prices: BTreeMap<String, Vec<Value>>,
    admin_tokens: HashMap<String, Instant>,
    nonces: HashSet<(String, String)>,
    writes: Vec<Recorded>,
    applied: HashMap<String, usize>,
    faults: Faults,
    integration_as_bearer: bool,
    requests: usize,
    in_flight: usize,
    max_in_flight: usize,
    sales: orders::OrderBook,
    bulks: bulk::Bulks,
}

struct Shared {
    config: FakeStoreConfig,
    store: Mutex<Store>,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Store> {
        // A panicking handler thread does not make the data unusable for the test.
        self.store.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The running fake; stops when dropped.
pub struct FakeMagento {
    addr: SocketAddr,
    shared: Arc<Shared>,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

/// A Magento answer: status and JSON body.
type Answer = (StatusCode, Value);

fn error(status: StatusCode, message: &str, parameters: Value) -> Answer {
    (
        status,
        json!({"message": message, "parameters": parameters}),
    )
}

/// Magento's answer to a request missing a required field.
pub(super) fn required(field: &str) -> Answer {
    error(
        StatusCode::BAD_REQUEST,
        "\"%fieldName\" is required. Enter and try again.",
        json!({ "fieldName": field }),
    )
}

fn not_found_product() -> Answer {
    error(
        StatusCode::NOT_FOUND,
        "The product that was requested doesn't exist. Verify the product and try again.",
        json!([]),
    )
}

impl FakeMagento {
    pub async fn start(config: FakeStoreConfig) -> std::io::Result<Self> {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared {
            store: Mutex::new(Store {
                integration_as_bearer: config.integration_as_bearer,
                next_id: 1,
                ..Store::default()
            }),
            config,
        });
        let state = shared.clone();
        let router = axum::Router::new().fallback(
            move |method: Method, uri: Uri, headers: HeaderMap, body: Bytes| {
                let state = state.clone();
                async move { handle(state, method, uri, headers, body).await }
            },
        );
        let (tx, rx) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let served = axum::serve(listener, router).with_graceful_shutdown(async {
                let _ = rx.await;
            });
            if let Err(e) = served.await {
                tracing::warn!(error = %e, "fake magento stopped with an error");
            }
        });
        Ok(Self {
            addr,
            shared,
            shutdown: Some(tx),
            task: Some(task),
        })
    }

    /// The store's root (`base_url` of the partner).
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn config(&self) -> &FakeStoreConfig {
        &self.shared.config
    }

    /// `[partners.NAME]` settings for this store with the given `auth` table.
    pub fn partner_config(&self, auth: Value) -> Value {
        json!({
            "base_url": self.base_url(),
            "store_code": "all",
            "website_ids": [1],
            "auth": auth,
            "msi": {"enabled": true, "sources": {"CHI": "chicago", "HOU": "houston"}},
            "customer_groups": {"GOLD": "Gold"},
            "timeout_ms": 5000,
        })
    }

    // ---- switches ----

    /// Answer the next `n` requests with `status` (a 5xx burst).
    pub fn fail_next(&self, n: usize, status: u16) {
        let mut s = self.shared.lock();
        s.faults.fail_next.extend(std::iter::repeat_n(status, n));
    }
    /// Answer every request with `status` until [`FakeMagento::fix`].
    pub fn always_fail(&self, status: u16) {
        self.shared.lock().faults.always = Some(status);
    }
    /// Answer 429 with `Retry-After: secs` until fixed (Adobe Commerce Cloud's edge throttle).
    pub fn throttle(&self, secs: u64) {
        self.shared.lock().faults.throttle = Some(secs);
    }
    /// Delay every answer.
    pub fn slow(&self, delay: Duration) {
        self.shared.lock().faults.delay = Some(delay);
    }
    /// Answer requests whose body contains `text` `delay` later than the others (to let a
    /// later write overtake an earlier one, if the client allows it).
    pub fn slow_matching(&self, text: &str, delay: Duration) {
        self.shared.lock().faults.slow_matching = Some((text.to_owned(), delay));
    }
    /// Clear every fault (not refused prices, not data).
    pub fn fix(&self) {
        let mut s = self.shared.lock();
        let refused = std::mem::take(&mut s.faults.refused_prices);
        let refused_special = std::mem::take(&mut s.faults.refused_special);
        s.faults = Faults {
            refused_prices: refused,
            refused_special,
            ..Faults::default()
        };
    }
    /// End every admin token now (as if 4 hours passed).
    pub fn expire_admin_tokens(&self) {
        let now = Instant::now();
        for expiry in self.shared.lock().admin_tokens.values_mut() {
            *expiry = now;
        }
    }
    /// The most requests the store was answering at once since it started.
    pub fn max_in_flight(&self) -> usize {
        self.shared.lock().max_in_flight
    }
    pub fn admin_tokens_minted(&self) -> usize {
        self.shared.lock().admin_tokens.len()
    }
    pub fn set_integration_as_bearer(&self, on: bool) {
        self.shared.lock().integration_as_bearer = on;
    }
    /// Refuse base and tier prices of `sku` per item (the rest of a call still succeeds).
    pub fn refuse_prices_for(&self, sku: &str) {
        self.shared
            .lock()
            .faults
            .refused_prices
            .insert(sku.to_owned());
    }

    // ---- the async bulk API ----

    /// Bulks answer this many status reads with every operation open before they run.
    pub fn bulk_open_polls(&self, polls: usize) {
        self.shared.lock().bulks.switches.open_polls = polls;
    }
    /// No `async.operations.all` consumer: operations stay open until switched back.
    pub fn bulk_no_consumer(&self, on: bool) {
        self.shared.lock().bulks.switches.no_consumer = on;
    }
    /// The next `times` runs of `sku`'s bulk operation fail retriably (status 2).
    pub fn fail_bulk_retriably(&self, sku: &str, times: usize) {
        self.shared
            .lock()
            .bulks
            .switches
            .retriable
            .insert(sku.to_owned(), times);
    }

    // ---- orders ----

    /// An order placed in the store now (state `new`): its entity_id and increment_id.
    pub fn create_order(&self, email: &str, lines: &[FakeLine]) -> (i64, String) {
        self.shared.lock().sales.create(email, lines)
    }
    /// Change an order as the store's admin would (its `updated_at` moves a second on).
    pub fn update_order(&self, id: i64, f: impl FnOnce(&mut Value)) -> bool {
        self.shared.lock().sales.edit(id, f)
    }
    /// Change an order right after the next `GET /V1/orders` is answered (an edit during a pull).
    pub fn update_order_after_next_list(
        &self,
        id: i64,
        f: impl FnOnce(&mut Value) + Send + 'static,
    ) {
        self.shared.lock().sales.edit_after_list(id, Box::new(f));
    }
    /// Cancel an order (state and status `canceled`).
    pub fn cancel_order(&self, id: i64) -> bool {
        self.update_order(id, |o| {
            o["state"] = json!("canceled");
            o["status"] = json!("canceled");
        })
    }
    /// Move the store's clock (orders' `created_at` / `updated_at`).
    pub fn advance_clock(&self, secs: i64) {
        self.shared.lock().sales.advance(secs);
    }
    pub fn order(&self, id: i64) -> Option<Value> {
        self.shared.lock().sales.orders.get(&id).cloned()
    }
    /// The shipments created for an order: (the ship call's body, the shipment id).
    pub fn shipments_of(&self, id: i64) -> Vec<(Value, i64)> {
        self.shared
            .lock()
            .sales
            .shipments
            .iter()
            .filter(|(o, _, _)| *o == id)
            .map(|(_, b, n)| (b.clone(), *n))
            .collect()
    }

    /// The tracks added to shipment `id` after it was created (`POST /V1/shipment/track`).
    pub fn tracks_of(&self, id: i64) -> Vec<Value> {
        self.shared
            .lock()
            .sales
            .tracks
            .iter()
            .filter(|(s, _, _)| *s == id)
            .map(|(_, t, _)| t.clone())
            .collect()
    }

    /// Refuse special prices of `sku` per item (its base and tier prices are accepted).
    pub fn refuse_special_prices_for(&self, sku: &str) {
        self.shared
            .lock()
            .faults
            .refused_special
            .insert(sku.to_owned());
    }

    // ---- data ----

    /// Put a product in the store as if created in its admin.
    pub fn seed_product(&self, product: Value) {
        let mut s = self.shared.lock();
        let sku = product["sku"].as_str().unwrap_or_default().to_owned();
        let mut p = product;
        p["id"] = json!(s.next_id);
        s.next_id += 1;
        s.products.insert(sku, p);
    }
    /// Delete a product as an admin does in the store's backend (no API call, no write
    /// recorded), with its prices and source items: what the sync last confirmed is gone.
    pub fn delete_product_in_admin(&self, sku: &str) -> bool {
        delete_product(&mut self.shared.lock(), sku).0.is_success()
    }
    pub fn product(&self, sku: &str) -> Option<Value> {
        self.shared.lock().products.get(sku).cloned()
    }
    pub fn product_count(&self) -> usize {
        self.shared.lock().products.len()
    }
    pub fn source_item(&self, sku: &str, source: &str) -> Option<Value> {
        self.shared
            .lock()
            .source_items
            .get(&(sku.to_owned(), source.to_owned()))
            .cloned()
    }
    pub fn stock_item(&self, sku: &str) -> Option<Value> {
        self.shared.lock().stock_items.get(sku).cloned()
    }
    pub fn base_price(&self, sku: &str) -> Option<Value> {
        self.shared.lock().base_prices.get(sku).cloned()
    }
    /// The SKU's special prices (one per store id).
    pub fn special_prices(&self, sku: &str) -> Vec<Value> {
        self.shared
            .lock()
            .special_prices
            .get(sku)
            .cloned()
            .unwrap_or_default()
    }
    pub fn tier_prices(&self, sku: &str) -> Vec<Value> {
        self.shared
            .lock()
            .tier_prices
            .get(sku)
            .cloned()
            .unwrap_or_default()
    }
    /// Every write so far.
    pub fn writes(&self) -> Vec<Recorded> {
        self.shared.lock().writes.clone()
    }
    /// Every write so far through `f`, without copying them (a 100,000-product bench records
    /// hundreds of MB of bodies).
    pub fn map_writes<T>(&self, f: impl FnMut(&Recorded) -> T) -> Vec<T> {
        self.shared.lock().writes.iter().map(f).collect()
    }
    pub fn clear_writes(&self) {
        self.shared.lock().writes.clear();
    }
    /// How many writes were `method route` (the route after `/rest/{store}/`, e.g.
    /// `async/bulk/V1/products/bySku`), without copying them.
    pub fn count_writes(&self, method: &str, route: &str) -> usize {
        self.shared
            .lock()
            .writes
            .iter()
            .filter(|w| w.method == method && w.route == route)
            .count()
    }
    /// Requests of any kind that reached the store.
    pub fn requests(&self) -> usize {
        self.shared.lock().requests
    }
    /// How many writes under this idempotency key changed the store.
    pub fn times_applied(&self, key: &str) -> usize {
        self.shared.lock().applied.get(key).copied().unwrap_or(0)
    }
    /// Forget all data, writes and faults.
    pub fn reset(&self) {
        let mut s = self.shared.lock();
        let bearer = self.shared.config.integration_as_bearer;
        *s = Store {
            integration_as_bearer: bearer,
            next_id: 1,
            ..Store::default()
        };
    }

    pub async fn shutdown(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            let abort = task.abort_handle();
            if tokio::time::timeout(Duration::from_secs(1), task)
                .await
                .is_err()
            {
                abort.abort();
            }
        }
    }
}

impl Drop for FakeMagento {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

fn respond((status, body): Answer, retry_after: Option<u64>) -> Response {
    let mut r = (status, axum::Json(body)).into_response();
    if let Some(secs) = retry_after {
        if let Ok(v) = secs.to_string().parse() {
            r.headers_mut().insert("retry-after", v);
        }
    }
    r
}

/// Percent-decode (no `+` handling: path segments).
fn decode(s: &str) -> String {
    percent_encoding::percent_decode_str(s)
        .decode_utf8_lossy()
        .into_owned()
}

/// Form-decode a query component: `+` is a space, then percent-decoding.
fn form_decode(s: &str) -> String {
    decode(&s.replace('+', " "))
}

/// The query string's pairs, decoded the form way.
fn query_pairs(raw: Option<&str>) -> Vec<(String, String)> {
    raw.unwrap_or_default()
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| match p.split_once('=') {
            Some((k, v)) => (form_decode(k), form_decode(v)),
            None => (form_decode(p), String::new()),
        })
        .collect()
}

/// Counts the requests in flight around [`serve`], so tests can see how many writes a client
/// keeps going at once (an observable count, not a timing).
async fn handle(
    shared: Arc<Shared>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    {
        let mut s = shared.lock();
        s.in_flight += 1;
        s.max_in_flight = s.max_in_flight.max(s.in_flight);
    }
    let response = serve(shared.clone(), method, uri, headers, body).await;
    let mut s = shared.lock();
    // Saturating: a `reset` while requests were in flight zeroed the count.
    s.in_flight = s.in_flight.saturating_sub(1);
    drop(s);
    response
}

async fn serve(
    shared: Arc<Shared>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (delay, matching) = {
        let s = shared.lock();
        (s.faults.delay, s.faults.slow_matching.clone())
    };
    if let Some(d) = delay {
        tokio::time::sleep(d).await;
    }
    if let Some((text, d)) = matching {
        if String::from_utf8_lossy(&body).contains(&text) {
            tokio::time::sleep(d).await;
        }
    }
    // Store code and route: /rest/{store}/V1/... or /rest/V1/... (the default store).
    let path = uri.path();
    let Some(rest) = path.strip_prefix("/rest/") else {
        return respond(
            error(
                StatusCode::NOT_FOUND,
                "Request does not match any route.",
                json!([]),
            ),
            None,
        );
    };
    let (store, route) = if rest.starts_with("V1/") {
        ("default".to_owned(), rest.to_owned())
    } else {
        match rest.split_once('/') {
            Some((s, r)) => (s.to_owned(), r.to_owned()),
            None => ("default".to_owned(), rest.to_owned()),
        }
    };
    let known_store =
        store == "all" || store == "default" || shared.config.store_codes.contains(&store);
    if !known_store {
        return respond(
            error(
                StatusCode::BAD_REQUEST,
                "The store that was requested wasn't found. Verify the store and try again.",
                json!([]),
            ),
            None,
        );
    }
    let segments: Vec<String> = route.split('/').map(decode).collect();
    let segs: Vec<&str> = segments.iter().map(String::as_str).collect();

    // Faults come before anything the store does.
    {
        let mut s = shared.lock();
        s.requests += 1;
        if let Some(secs) = s.faults.throttle {
            return respond(
                error(
                    StatusCode::TOO_MANY_REQUESTS,
                    "Too many requests.",
                    json!([]),
                ),
                Some(secs),
            );
        }
        let status = s.faults.always.or_else(|| s.faults.fail_next.pop_front());
        if let Some(code) = status {
            let status = StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            return respond(
                error(
                    status,
                    "Internal Error. Details are available in Magento log file. Report ID: %1",
                    json!(["webapi-6571"]),
                ),
                None,
            );
        }
    }

    let json_body: Value = if body.is_empty() {
        Value::Null
    } else {
        match serde_json::from_slice(&body) {
            Ok(v) => v,
            Err(e) => {
                return respond(
                    error(
                        StatusCode::BAD_REQUEST,
                        "Decoding error: %1",
                        json!([e.to_string()]),
                    ),
                    None,
                )
            }
        }
    };

    if method == Method::POST && segs == ["V1", "integration", "admin", "token"] {
        return respond(mint(&shared, &json_body), None);
    }
    let host = headers
        .get("host")
        .and_then(|h| h.to_str().ok())
        .unwrap_or_default()
        .to_ascii_lowercase();
    if let Err(refusal) = authorize(&shared, &method, &host, &uri, &headers) {
        return respond(refusal, None);
    }

    let key = headers
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let mut s = shared.lock();
    let skus = written_skus(&segs, &json_body);
    let before = fingerprint(&s, &skus);
    let bulk = match method {
        Method::POST | Method::PUT | Method::DELETE => bulk::submit(
            &mut s,
            method.as_str(),
            &segs,
            &store,
            key.clone(),
            &json_body,
        ),
        _ => None,
    };
    let answer = match bulk {
        Some(a) => a,
        None => route_request(&shared.config, &mut s, &method, &segs, &uri, &json_body),
    };
    if method != Method::GET {
        let changed = fingerprint(&s, &skus) != before;
        if let (Some(k), true) = (&key, changed) {
            *s.applied.entry(k.clone()).or_default() += 1;
        }
        s.writes.push(Recorded {
            method: method.to_string(),
            route: segs.join("/"),
            store,
            body: json_body,
            idempotency_key: key,
            status: answer.0.as_u16(),
            bulk: None,
        });
    }
    drop(s);
    respond(answer, None)
}

/// The SKUs a write can change: its route's `{sku}` and every `sku` its body names
/// (`product.sku`, `sourceItems[].sku`, `prices[].sku`, `skus[]`, a bulk's elements).
fn written_skus(segs: &[&str], body: &Value) -> BTreeSet<String> {
    fn from_body(v: &Value, out: &mut BTreeSet<String>) {
        match v {
            Value::Array(items) => items.iter().for_each(|i| from_body(i, out)),
            Value::Object(o) => {
                for key in ["sku", "skus", "product", "sourceItems", "prices"] {
                    match o.get(key) {
                        Some(Value::String(s)) => {
                            out.insert(s.clone());
                        }
                        Some(v @ (Value::Array(_) | Value::Object(_))) => from_body(v, out),
                        _ => {}
                    }
                }
            }
            Value::String(s) => {
                out.insert(s.clone());
            }
            _ => {}
        }
    }
    let mut out = BTreeSet::new();
    if let ["V1", "products", sku, ..] = segs {
        out.insert((*sku).to_owned());
    }
    from_body(body, &mut out);
    out
}

/// A digest of the store's data a write can change (the `skus` it names, and the sales side),
/// to tell a write that changed something from one that did not. Scoped to the write's SKUs
/// because hashing the whole catalog on every write made the fake itself the bottleneck of a
/// 10,000-product run (it held the store's lock for O(catalog) per write).
fn fingerprint(s: &Store, skus: &BTreeSet<String>) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    for sku in skus {
        let sources: Vec<&Value> = s
            .source_items
            .range((sku.clone(), String::new())..)
            .take_while(|((k, _), _)| k == sku)
            .map(|(_, v)| v)
            .collect();
        serde_json::to_string(&(
            s.products.get(sku),
            sources,
            s.stock_items.get(sku),
            s.base_prices.get(sku),
            s.tier_prices.get(sku),
            s.special_prices.get(sku),
        ))
        .unwrap_or_default()
        .hash(&mut h);
    }
    s.sales.fingerprint().hash(&mut h);
    h.finish()
}

fn mint(shared: &Shared, body: &Value) -> Answer {
    let user = body["username"].as_str().unwrap_or_default();
    let pass = body["password"].as_str().unwrap_or_default();
    if user != shared.config.admin_username || pass != shared.config.admin_password {
        return error(
            StatusCode::UNAUTHORIZED,
            "The account sign-in was incorrect or your account is disabled temporarily. Please wait and try again later.",
            json!([]),
        );
    }
    use rand::distributions::Alphanumeric;
    use rand::Rng as _;
    let token: String = rand::thread_rng()
        .sample_iter(&Alphanumeric)
        .take(32)
        .map(|c| char::from(c).to_ascii_lowercase())
        .collect();
    let expires = Instant::now() + shared.config.admin_token_lifetime;
    shared.lock().admin_tokens.insert(token.clone(), expires);
    (StatusCode::OK, Value::String(token))
}

fn unauthorized() -> Answer {
    error(
        StatusCode::UNAUTHORIZED,
        "The consumer isn't authorized to access %resources.",
        json!({"resources": "Magento_Catalog::products"}),
    )
}

fn authorize(
    shared: &Shared,
    method: &Method,
    host: &str,
    uri: &Uri,
    headers: &HeaderMap,
) -> Result<(), Answer> {
    let header = headers
        .get("authorization")
        .and_then(|h| h.to_str().ok())
        .unwrap_or_default();
    if let Some(token) = header.strip_prefix("Bearer ") {
        let s = shared.lock();
        if let Some(expiry) = s.admin_tokens.get(token) {
            return if Instant::now() < *expiry {
                Ok(())
            } else {
                Err(unauthorized())
            };
        }
        if token == shared.config.integration_token && s.integration_as_bearer {
            return Ok(());
        }
        return Err(unauthorized());
    }
    if let Some(params) = header.strip_prefix("OAuth ") {
        return verify_oauth(shared, method, host, uri, params);
    }
    Err(unauthorized())
}

/// RFC 5849 3.6 encoding, byte by byte (kept apart from the adapter's on purpose: the fake
/// checks the adapter's signatures with code that does not share its mistakes).
fn pct(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn verify_oauth(
    shared: &Shared,
    method: &Method,
    host: &str,
    uri: &Uri,
    header: &str,
) -> Result<(), Answer> {
    let refuse = |m: &str| error(StatusCode::UNAUTHORIZED, m, json!([]));
    let mut oauth: BTreeMap<String, String> = BTreeMap::new();
    for part in header.split(',') {
        let Some((k, v)) = part.trim().split_once('=') else {
            return Err(refuse("Invalid OAuth header"));
        };
        oauth.insert(decode(k.trim()), decode(v.trim().trim_matches('"')));
    }
    let get = |k: &str| oauth.get(k).cloned().unwrap_or_default();
    let cfg = &shared.config;
    if get("oauth_consumer_key") != cfg.consumer_key {
        return Err(refuse("Consumer key has expired"));
    }
    if get("oauth_token") != cfg.access_token {
        return Err(refuse("Specified token does not exist"));
    }
    let algorithm = get("oauth_signature_method");
    if algorithm != "HMAC-SHA256" && algorithm != "HMAC-SHA1" {
        return Err(refuse("Signature method %1 is not supported"));
    }
    let ts: u64 = get("oauth_timestamp").parse().unwrap_or(0);
    let now = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default();
    if ts + 600 < now || ts > now + 600 {
        return Err(refuse("Timestamp is out of the allowed window"));
    }
    let nonce = get("oauth_nonce");
    if nonce.is_empty() || nonce.len() > 32 {
        return Err(refuse("Invalid nonce"));
    }
    // Base string: method, base URI from what the client connected to, sorted parameters.
    let mut params: Vec<(String, String)> = query_pairs(uri.query());
    params.extend(
        oauth
            .iter()
            .filter(|(k, _)| k.as_str() != "oauth_signature" && k.as_str() != "realm")
            .map(|(k, v)| (k.clone(), v.clone())),
    );
    // Sorted by encoded name, then encoded value (RFC 5849 3.4.1.3.2).
    let mut pairs: Vec<(String, String)> = params.iter().map(|(k, v)| (pct(k), pct(v))).collect();
    pairs.sort();
    let enc: Vec<String> = pairs.iter().map(|(k, v)| format!("{k}={v}")).collect();
    let base = format!(
        "{}&{}&{}",
        method.as_str(),
        pct(&format!("http://{host}{}", uri.path())),
        pct(&enc.join("&"))
    );
    let key = format!(
        "{}&{}",
        pct(&cfg.consumer_secret),
        pct(&cfg.access_token_secret)
    );
    let expected = if algorithm == "HMAC-SHA256" {
        let mut m = Hmac::<sha2::Sha256>::new_from_slice(key.as_bytes()).expect("any key length");
        m.update(base.as_bytes());
        m.finalize().into_bytes().to_vec()
    } else {
        let mut m = Hmac::<sha1::Sha1>::new_from_slice(key.as_bytes()).expect("any key length");
        m.update(base.as_bytes());
        m.finalize().into_bytes().to_vec()
    };
    let given = base64::engine::general_purpose::STANDARD
        .decode(get("oauth_signature"))
        .unwrap_or_default();
    if given != expected {
        return Err(refuse("The signature is invalid. Verify and try again."));
    }
    // A nonce is accepted once per consumer (after the signature: a forged request cannot
    // burn a real client's nonce).
    if !shared
        .lock()
        .nonces
        .insert((cfg.consumer_key.clone(), nonce))
    {
        return Err(refuse(
            "The nonce is already being used by the consumer with ID %1",
        ));
    }
    Ok(())
}

fn route_request(
    cfg: &FakeStoreConfig,
    s: &mut Store,
    method: &Method,
    segs: &[&str],
    uri: &Uri,
    body: &Value,
) -> Answer {
    match (method.as_str(), segs) {
        ("GET", ["V1", "store", "storeConfigs"]) => (
            StatusCode::OK,
            json!([{"id": 1, "code": "default", "website_id": 1, "base_currency_code": "USD",
                    "default_display_currency_code": "USD", "timezone": "UTC"}]),
        ),
        ("GET", ["V1", "products"]) => list_products(s, uri),
        ("GET", ["V1", "products", sku]) => match s.products.get(*sku) {
            Some(p) => (StatusCode::OK, p.clone()),
            None => not_found_product(),
        },
        ("POST", ["V1", "products"]) => save_product(s, None, body),
        // Magento matches the literal route before the `{sku}` one.
        ("PUT", ["V1", "products", "tier-prices"]) => tier_prices(cfg, s, body, true),
        ("PUT", ["V1", "products", sku]) => save_product(s, Some(sku), body),
        ("DELETE", ["V1", "products", sku]) => delete_product(s, sku),
        ("PUT", ["V1", "products", sku, "stockItems", _]) => stock_item(s, sku, body),
        ("POST", ["V1", "inventory", "source-items"]) => source_items(cfg, s, body),
        ("POST", ["V1", "products", "base-prices"]) => base_prices(s, body),
        ("POST", ["V1", "products", "base-prices-information"]) => {
            let rows: Vec<Value> = skus_of(body)
                .iter()
                .filter_map(|k| s.base_prices.get(k).cloned())
                .collect();
            (StatusCode::OK, json!(rows))
        }
        ("POST", ["V1", "products", "tier-prices"]) => tier_prices(cfg, s, body, false),
        ("POST", ["V1", "products", "tier-prices-information"]) => {
            let rows: Vec<Value> = skus_of(body)
                .iter()
                .flat_map(|k| s.tier_prices.get(k).cloned().unwrap_or_default())
                .collect();
            (StatusCode::OK, json!(rows))
        }
        ("POST", ["V1", "products", "tier-prices-delete"]) => {
            for row in body["prices"].as_array().into_iter().flatten() {
                let sku = row["sku"].as_str().unwrap_or_default();
                if let Some(list) = s.tier_prices.get_mut(sku) {
                    list.retain(|t| !same_tier(t, row));
                }
            }
            s.tier_prices.retain(|_, l| !l.is_empty());
            (StatusCode::OK, json!([]))
        }
        ("GET", ["V1", "orders"]) => {
            let answer = list(s.sales.orders.values(), uri);
            s.sales.listed();
            answer
        }
        ("GET", ["V1", "orders", id]) => {
            match id.parse::<i64>().ok().and_then(|i| s.sales.orders.get(&i)) {
                Some(o) => (StatusCode::OK, o.clone()),
                None => error(
                    StatusCode::NOT_FOUND,
                    "The entity that was requested doesn't exist. Verify the entity and try again.",
                    json!([]),
                ),
            }
        }
        ("GET", ["V1", "bulk", uuid, "status"]) => bulk::status(cfg, s, uuid),
        ("POST", ["V1", "order", id, "ship"]) => s.sales.ship(&cfg.sources, id, body),
        ("POST", ["V1", "orders", id, "cancel"]) => s.sales.cancel(id),
        ("POST", ["V1", "orders", id, "hold"]) => s.sales.hold(id),
        ("POST", ["V1", "orders", id, "unhold"]) => s.sales.unhold(id),
        ("POST", ["V1", "orders", id, "comments"]) => s.sales.comment(id, body),
        ("POST", ["V1", "shipment", "track"]) => s.sales.track(body),
        ("POST", ["V1", "products", "special-price"]) => special_prices(s, body),
        ("POST", ["V1", "products", "special-price-information"]) => {
            let rows: Vec<Value> = skus_of(body)
                .iter()
                .flat_map(|k| s.special_prices.get(k).cloned().unwrap_or_default())
                .collect();
            (StatusCode::OK, json!(rows))
        }
        ("POST", ["V1", "products", "special-price-delete"]) => special_prices_delete(s, body),
        _ => error(
            StatusCode::NOT_FOUND,
            "Request does not match any route.",
            json!([]),
        ),
    }
}

/// `DELETE /V1/products/{sku}`: the product with its prices and source items.
fn delete_product(s: &mut Store, sku: &str) -> Answer {
    match s.products.remove(sku) {
        Some(_) => {
            s.tier_prices.remove(sku);
            s.base_prices.remove(sku);
            s.special_prices.remove(sku);
            s.source_items.retain(|(k, _), _| k != sku);
            (StatusCode::OK, json!(true))
        }
        None => not_found_product(),
    }
}

fn skus_of(body: &Value) -> Vec<String> {
    body["skus"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|v| v.as_str().map(str::to_owned))
        .collect()
}

fn is_number(v: &Value) -> bool {
    v.is_number() || v.as_str().is_some_and(|s| s.parse::<f64>().is_ok())
}

fn num(v: &Value) -> f64 {
    v.as_f64()
        .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
        .unwrap_or(f64::NAN)
}

/// POST (create or update) or PUT (update; unknown SKU → 404) of a product.
fn save_product(s: &mut Store, path_sku: Option<&str>, body: &Value) -> Answer {
    if let Some(obj) = body.as_object() {
        if let Some(k) = obj
            .keys()
            .find(|k| !matches!(k.as_str(), "product" | "saveOptions"))
        {
            return error(
                StatusCode::BAD_REQUEST,
                "\"%fieldName\" is not a valid parameter.",
                json!({"fieldName": k}),
            );
        }
    }
    let Some(product) = body["product"].as_object() else {
        return required("product");
    };
    if let Some(k) = product
        .keys()
        .find(|k| !PRODUCT_FIELDS.contains(&k.as_str()))
    {
        let camel: String = k
            .split('_')
            .map(|w| {
                let mut c = w.chars();
                c.next()
                    .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                    .unwrap_or_default()
            })
            .collect();
        return error(
            StatusCode::BAD_REQUEST,
            "Property \"%1\" does not have accessor method \"%2\" in class \"%3\".",
            json!([
                camel,
                format!("get{camel}"),
                "Magento\\Catalog\\Api\\Data\\ProductInterface"
            ]),
        );
    }
    let sku = match (path_sku, product.get("sku").and_then(Value::as_str)) {
        (Some(p), _) => p.to_owned(),
        (None, Some(s)) if !s.is_empty() => s.to_owned(),
        _ => {
            return error(
                StatusCode::BAD_REQUEST,
                "The \"%1\" attribute value is empty. Set the attribute and try again.",
                json!(["sku"]),
            )
        }
    };
    if sku.len() > 64 {
        return error(
            StatusCode::BAD_REQUEST,
            "SKU length should be %1 characters maximum.",
            json!(["64"]),
        );
    }
    for field in ["price", "weight"] {
        if let Some(v) = product.get(field) {
            if !is_number(v) || num(v) < 0.0 {
                return error(
                    StatusCode::BAD_REQUEST,
                    "The value of attribute \"%1\" must be a non-negative number.",
                    json!([field]),
                );
            }
        }
    }
    if let Some(v) = product.get("status") {
        if !matches!(v.as_i64(), Some(1 | 2)) {
            return error(
                StatusCode::BAD_REQUEST,
                "Invalid attribute %fieldName = %fieldValue.",
                json!({"fieldName": "status", "fieldValue": v.to_string()}),
            );
        }
    }
    if let Some(v) = product.get("visibility") {
        if !matches!(v.as_i64(), Some(1..=4)) {
            return error(
                StatusCode::BAD_REQUEST,
                "Invalid attribute %fieldName = %fieldValue.",
                json!({"fieldName": "visibility", "fieldValue": v.to_string()}),
            );
        }
    }
    let existing = s.products.get(&sku).cloned();
    let mut merged = match (&existing, path_sku) {
        (Some(p), _) => p.as_object().cloned().unwrap_or_default(),
        (None, Some(_)) => return not_found_product(),
        (None, None) => {
            if !product.contains_key("name") {
                return error(
                    StatusCode::BAD_REQUEST,
                    "The \"%1\" attribute value is empty. Set the attribute and try again.",
                    json!(["name"]),
                );
            }
            let mut m = Map::new();
            m.insert("attribute_set_id".into(), json!(4));
            m.insert("type_id".into(), json!("simple"));
            m.insert("status".into(), json!(1));
            m.insert("visibility".into(), json!(4));
            m.insert("price".into(), json!(0));
            m
        }
    };
    for (k, v) in product {
        if k == "custom_attributes" {
            let mut attrs: BTreeMap<String, Value> = merged
                .get("custom_attributes")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(|a| Some((a["attribute_code"].as_str()?.to_owned(), a.clone())))
                .collect();
            for a in v.as_array().into_iter().flatten() {
                let Some(code) = a["attribute_code"].as_str() else {
                    return required("attribute_code");
                };
                attrs.insert(code.to_owned(), a.clone());
            }
            merged.insert(k.clone(), json!(attrs.into_values().collect::<Vec<_>>()));
        } else if k != "id" && k != "updated_at" && k != "created_at" {
            merged.insert(k.clone(), v.clone());
        }
    }
    merged.insert("sku".into(), json!(sku));
    let id = match existing.as_ref().and_then(|p| p["id"].as_i64()) {
        Some(id) => id,
        None => {
            let id = s.next_id;
            s.next_id += 1;
            id
        }
    };
    merged.insert("id".into(), json!(id));
    let saved = Value::Object(merged);
    s.products.insert(sku, saved.clone());
    (StatusCode::OK, saved)
}

fn stock_item(s: &mut Store, sku: &str, body: &Value) -> Answer {
    if !s.products.contains_key(sku) {
        return not_found_product();
    }
    let item = &body["stockItem"];
    if !item.is_object() || !item.get("qty").is_some_and(is_number) {
        return required("stockItem.qty");
    }
    s.stock_items.insert(sku.to_owned(), json!({"qty": num(&item["qty"]), "is_in_stock": item["is_in_stock"].as_bool().unwrap_or(false)}));
    (StatusCode::OK, json!(1))
}

fn source_items(cfg: &FakeStoreConfig, s: &mut Store, body: &Value) -> Answer {
    let Some(items) = body["sourceItems"].as_array() else {
        return required("sourceItems");
    };
    let mut errors = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let sku = item["sku"].as_str().unwrap_or_default();
        let source = item["source_code"].as_str().unwrap_or_default();
        if !s.products.contains_key(sku) {
            errors.push(json!({"message": "Product with SKU \"%sku\" does not exist.", "parameters": {"sku": sku}}));
        }
        if !cfg.sources.iter().any(|c| c == source) {
            errors.push(json!({"message": "Source with code \"%1\" does not exist.", "parameters": [source]}));
        }
        if !item.get("quantity").is_some_and(is_number) {
            errors.push(json!({"message": "\"%field\" should be numeric.", "parameters": {"field": format!("sourceItems[{i}].quantity")}}));
        }
        if !matches!(item["status"].as_i64(), Some(0 | 1)) {
            errors.push(json!({"message": "\"%field\" should be 0 or 1.", "parameters": {"field": format!("sourceItems[{i}].status")}}));
        }
    }
    if !errors.is_empty() {
        // MSI validates the whole request and saves nothing when any item is invalid.
        return (
            StatusCode::BAD_REQUEST,
            json!({"message": "Validation Failed", "errors": errors}),
        );
    }
    for item in items {
        let sku = item["sku"].as_str().unwrap_or_default().to_owned();
        let source = item["source_code"].as_str().unwrap_or_default().to_owned();
        s.source_items.insert(
            (sku.clone(), source.clone()),
            json!({"sku": sku, "source_code": source, "quantity": num(&item["quantity"]), "status": item["status"]}),
        );
    }
    (StatusCode::OK, json!([]))
}

/// Per-item failure of a price call, the way `PriceUpdateResultInterface` renders it.
fn price_failure(message: &str, params: Vec<String>) -> Value {
    json!({"message": message, "parameters": params})
}

fn base_prices(s: &mut Store, body: &Value) -> Answer {
    let Some(rows) = body["prices"].as_array() else {
        return required("prices");
    };
    let mut failures = Vec::new();
    for row in rows {
        let sku = row["sku"].as_str().unwrap_or_default().to_owned();
        let store_id = row["store_id"].as_i64().unwrap_or(0).to_string();
        if !s.products.contains_key(&sku) {
            failures.push(price_failure(
                "Requested product doesn't exist. Row ID: SKU = %SKU, Store ID: %storeId.",
                vec![sku, store_id],
            ));
        } else if !row.get("price").is_some_and(is_number) || num(&row["price"]) < 0.0 {
            failures.push(price_failure(
                "Invalid attribute %fieldName = %fieldValue. Row ID: SKU = %SKU, Store ID: %storeId.",
                vec!["Price".into(), row["price"].to_string(), sku, store_id],
            ));
        } else if s.faults.refused_prices.contains(&sku) {
            failures.push(price_failure(
                "Price for SKU = %SKU was refused by a price rule. Store ID: %storeId.",
                vec![sku, store_id],
            ));
        } else {
            s.base_prices.insert(
                sku.clone(),
                json!({"sku": sku, "price": num(&row["price"]), "store_id": row["store_id"]}),
            );
        }
    }
    (StatusCode::OK, json!(failures))
}

fn same_tier(a: &Value, b: &Value) -> bool {
    a["customer_group"] == b["customer_group"]
        && num(&a["quantity"]) == num(&b["quantity"])
        && a["website_id"] == b["website_id"]
}

fn tier_prices(cfg: &FakeStoreConfig, s: &mut Store, body: &Value, replace: bool) -> Answer {
    let Some(rows) = body["prices"].as_array() else {
        return required("prices");
    };
    let mut failures = Vec::new();
    let mut good: BTreeMap<String, Vec<Value>> = BTreeMap::new();
    let mut bad: BTreeSet<String> = BTreeSet::new();
    for row in rows {
        let sku = row["sku"].as_str().unwrap_or_default().to_owned();
        let group = row["customer_group"].as_str().unwrap_or_default();
        let qty = row["quantity"].to_string();
        let known_group = BUILTIN_GROUPS.iter().any(|g| g.eq_ignore_ascii_case(group))
            || cfg
                .customer_groups
                .iter()
                .any(|g| g.eq_ignore_ascii_case(group));
        let failure = if !s.products.contains_key(&sku) {
            Some(price_failure("Requested product doesn't exist. Row ID: SKU = %SKU, Website ID: %websiteId, Customer Group: %customerGroup, Quantity: %qty.",
                vec![sku.clone(), row["website_id"].to_string(), group.into(), qty]))
        } else if !known_group {
            Some(price_failure("No such entity with Customer Group = %customerGroup. Row ID: SKU = %SKU, Website ID: %websiteId, Quantity: %qty.",
                vec![group.into(), sku.clone(), row["website_id"].to_string(), qty]))
        } else if !row.get("price").is_some_and(is_number)
            || num(&row["price"]) < 0.0
            || !matches!(row["price_type"].as_str(), Some("fixed" | "discount"))
            || (row["price_type"] == "discount" && num(&row["price"]) > 100.0)
        {
            Some(price_failure("Invalid attribute %fieldName = %fieldValue. Row ID: SKU = %SKU, Website ID: %websiteId, Customer Group: %customerGroup, Quantity: %qty.",
                vec!["Price".into(), row["price"].to_string(), sku.clone(), row["website_id"].to_string(), group.into(), qty]))
        } else if !row.get("quantity").is_some_and(is_number) || num(&row["quantity"]) <= 0.0 {
            Some(price_failure("Invalid attribute %fieldName = %fieldValue. Row ID: SKU = %SKU, Website ID: %websiteId, Customer Group: %customerGroup, Quantity: %qty.",
                vec!["Quantity".into(), qty.clone(), sku.clone(), row["website_id"].to_string(), group.into(), qty]))
        } else if s.faults.refused_prices.contains(&sku) {
            Some(price_failure(
                "Tier price for SKU = %SKU was refused by a price rule.",
                vec![sku.clone()],
            ))
        } else {
            None
        };
        match failure {
            Some(f) => {
                failures.push(f);
                bad.insert(sku);
            }
            None => good.entry(sku).or_default().push(row.clone()),
        }
    }
    for (sku, rows) in good {
        if bad.contains(&sku) {
            continue;
        }
        let list = s.tier_prices.entry(sku).or_default();
        if replace {
            list.clear();
        }
        for row in rows {
            list.retain(|t| !same_tier(t, &row));
            list.push(row);
        }
    }
    s.tier_prices.retain(|_, l| !l.is_empty());
    (StatusCode::OK, json!(failures))
}

/// `Y-m-d H:i:s`, the only datetime Magento's special price storage takes.
fn magento_datetime(v: &str) -> bool {
    chrono::NaiveDateTime::parse_from_str(v, "%Y-%m-%d %H:%M:%S").is_ok()
}

/// `POST /V1/products/special-price` (`SpecialPriceStorage::update`): each row checked the way
/// `retrieveValidPrices` does (product, price, store, the two dates when given), failures in
/// the array naming the row; a valid row replaces the SKU's special price in its store (Open
/// Source keeps one per SKU and store: the `special_price` attribute and its dates).
fn special_prices(s: &mut Store, body: &Value) -> Answer {
    let Some(rows) = body["prices"].as_array() else {
        return required("prices");
    };
    let mut failures = Vec::new();
    for row in rows {
        let sku = row["sku"].as_str().unwrap_or_default().to_owned();
        let store_id = row["store_id"].as_i64();
        let from = row["price_from"].as_str().unwrap_or_default().to_owned();
        let to = row["price_to"].as_str().unwrap_or_default().to_owned();
        let params = |field: &str, value: String| {
            vec![
                field.to_owned(),
                value,
                sku.clone(),
                store_id.map(|n| n.to_string()).unwrap_or_default(),
                from.clone(),
                to.clone(),
            ]
        };
        let invalid = "Invalid attribute %fieldName = %fieldValue. Row ID: SKU = %SKU, Store ID: %storeId, Price From: %priceFrom, Price To: %priceTo.";
        let failure = if !s.products.contains_key(&sku) {
            Some(price_failure(
                "The product that was requested doesn't exist. Verify the product and try again. Row ID: SKU = %SKU, Store ID: %storeId, Price From: %priceFrom, Price To: %priceTo.",
                params("", String::new())[2..].to_vec(),
            ))
        } else if !row.get("price").is_some_and(is_number) || num(&row["price"]) < 0.0 {
            Some(price_failure(
                invalid,
                params("Price", row["price"].to_string()),
            ))
        } else if !matches!(store_id, Some(0 | 1)) {
            Some(price_failure(
                "Requested store is not found. Row ID: SKU = %SKU, Store ID: %storeId, Price From: %priceFrom, Price To: %priceTo.",
                params("", String::new())[2..].to_vec(),
            ))
        } else if !from.is_empty() && !magento_datetime(&from) {
            Some(price_failure(invalid, params("Price From", from.clone())))
        } else if !to.is_empty() && !magento_datetime(&to) {
            Some(price_failure(invalid, params("Price To", to.clone())))
        } else if s.faults.refused_special.contains(&sku) {
            Some(price_failure(
                "Special price for SKU = %SKU was refused by a price rule.",
                vec![sku.clone()],
            ))
        } else {
            None
        };
        match failure {
            Some(f) => failures.push(f),
            None => {
                let list = s.special_prices.entry(sku.clone()).or_default();
                list.retain(|r| r["store_id"].as_i64() != store_id);
                list.push(
                    json!({"sku": sku, "store_id": store_id, "price": num(&row["price"]),
                                 "price_from": from, "price_to": to}),
                );
            }
        }
    }
    (StatusCode::OK, json!(failures))
}

/// `POST /V1/products/special-price-delete`: each row removed when the store has it exactly.
fn special_prices_delete(s: &mut Store, body: &Value) -> Answer {
    let Some(rows) = body["prices"].as_array() else {
        return required("prices");
    };
    let mut failures = Vec::new();
    for row in rows {
        let sku = row["sku"].as_str().unwrap_or_default();
        if !s.products.contains_key(sku) {
            failures.push(price_failure(
                "The product that was requested doesn't exist. Verify the product and try again. Row ID: SKU = %SKU, Store ID: %storeId, Price From: %priceFrom, Price To: %priceTo.",
                vec![sku.to_owned(), row["store_id"].to_string(), as_text(&row["price_from"]), as_text(&row["price_to"])],
            ));
            continue;
        }
        if let Some(list) = s.special_prices.get_mut(sku) {
            list.retain(|r| {
                !(r["store_id"].as_i64() == row["store_id"].as_i64()
                    && r["price_from"] == row["price_from"]
                    && r["price_to"] == row["price_to"])
            });
        }
    }
    s.special_prices.retain(|_, l| !l.is_empty());
    (StatusCode::OK, json!(failures))
}

/// A product's value for a search field: a top-level field or a custom attribute.
fn field_of<'a>(p: &'a Value, field: &str) -> Option<&'a Value> {
    match p.get(field) {
        Some(Value::Null) | None => p["custom_attributes"]
            .as_array()?
            .iter()
            .find(|a| a["attribute_code"] == field)
            .map(|a| &a["value"]),
        Some(v) => Some(v),
    }
}

fn as_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Compare numerically when both sides are numbers, else as text (`Y-m-d H:i:s` sorts as text).
fn compare(a: &Value, b: &str) -> std::cmp::Ordering {
    match (as_text(a).parse::<f64>(), b.parse::<f64>()) {
        (Ok(x), Ok(y)) => x.partial_cmp(&y).unwrap_or(std::cmp::Ordering::Equal),
        _ => as_text(a).as_str().cmp(b),
    }
}

/// SQL LIKE with `%` and `_`, case-insensitive like MySQL's default collation.
fn like(text: &str, pattern: &str) -> bool {
    fn go(t: &[char], p: &[char]) -> bool {
        match p.split_first() {
            None => t.is_empty(),
            Some(('%', rest)) => (0..=t.len()).any(|i| go(&t[i..], rest)),
            Some(('_', rest)) => !t.is_empty() && go(&t[1..], rest),
            Some((c, rest)) => t.first().is_some_and(|x| x == c) && go(&t[1..], rest),
        }
    }
    let t: Vec<char> = text.to_lowercase().chars().collect();
    let p: Vec<char> = pattern.to_lowercase().chars().collect();
    go(&t, &p)
}

fn matches(p: &Value, f: &crate::search::Filter) -> bool {
    use std::cmp::Ordering::*;
    let v = field_of(p, &f.field).filter(|v| !v.is_null());
    let list = || f.value.split(',').map(str::trim).collect::<Vec<_>>();
    match f.condition {
        Condition::Null => v.is_none(),
        Condition::Notnull => v.is_some(),
        _ => {
            let Some(v) = v else { return false };
            match f.condition {
                Condition::Eq => compare(v, &f.value) == Equal,
                Condition::Neq => compare(v, &f.value) != Equal,
                Condition::Gt => compare(v, &f.value) == Greater,
                Condition::Gteq | Condition::Moreq | Condition::From => {
                    compare(v, &f.value) != Less
                }
                Condition::Lt => compare(v, &f.value) == Less,
                Condition::Lteq | Condition::To => compare(v, &f.value) != Greater,
                Condition::In => list().iter().any(|x| compare(v, x) == Equal),
                Condition::Nin => !list().iter().any(|x| compare(v, x) == Equal),
                Condition::Like => like(&as_text(v), &f.value),
                Condition::Nlike => !like(&as_text(v), &f.value),
                Condition::Finset => as_text(v).split(',').any(|x| x.trim() == f.value),
                Condition::Nfinset => !as_text(v).split(',').any(|x| x.trim() == f.value),
                Condition::Null | Condition::Notnull => unreachable!("handled above"),
            }
        }
    }
}

fn list_products(s: &Store, uri: &Uri) -> Answer {
    list(s.products.values(), uri)
}

/// A list endpoint's answer for `all` filtered, sorted and paged by the query's searchCriteria.
fn list<'a>(all: impl Iterator<Item = &'a Value>, uri: &Uri) -> Answer {
    let pairs = query_pairs(uri.query());
    let criteria = match SearchCriteria::parse(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())))
    {
        Ok(c) => c,
        Err(e) => return error(StatusCode::BAD_REQUEST, "%1", json!([e.to_string()])),
    };
    let mut items: Vec<&Value> = all
        .filter(|p| {
            criteria
                .groups
                .iter()
                .all(|g| g.0.iter().any(|f| matches(p, f)))
        })
        .collect();
    // Stable sorts, last order first, so the first order decides and the next break ties.
    for order in criteria.sort.iter().rev() {
        items.sort_by(|a, b| {
            let o = match (field_of(a, &order.field), field_of(b, &order.field)) {
                (None, None) => std::cmp::Ordering::Equal,
                (None, Some(_)) => std::cmp::Ordering::Less,
                (Some(_), None) => std::cmp::Ordering::Greater,
                (Some(x), Some(y)) => compare(x, &as_text(y)),
            };
            match order.direction {
                Direction::Asc => o,
                Direction::Desc => o.reverse(),
            }
        });
    }
    let total = items.len();
    let page_items: Vec<Value> = match criteria.page_size {
        None | Some(0) => items.into_iter().cloned().collect(),
        Some(size) => {
            let size = size as usize;
            let last = total.div_ceil(size).max(1);
            // Magento's quirk: a page past the end is the last page again.
            let page = (criteria.current_page.unwrap_or(1).max(1) as usize).min(last);
            items
                .into_iter()
                .skip((page - 1) * size)
                .take(size)
                .cloned()
                .collect()
        }
    };
    let mut echo = Map::new();
    echo.insert("filter_groups".into(), json!(criteria.groups.iter().map(|g| json!({"filters": g.0.iter().map(|f| json!({"field": f.field, "value": f.value, "condition_type": f.condition.as_str()})).collect::<Vec<_>>()})).collect::<Vec<_>>()));
    if let Some(n) = criteria.page_size {
        echo.insert("page_size".into(), json!(n));
    }
    if let Some(n) = criteria.current_page {
        echo.insert("current_page".into(), json!(n));
    }
    (
        StatusCode::OK,
        json!({"items": page_items, "search_criteria": echo, "total_count": total}),
    )
}
