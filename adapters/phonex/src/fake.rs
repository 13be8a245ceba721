//! A faithful PhoneX over loopback HTTP, for tests and the demo.
//!
//! It refuses what PhoneX is assumed to refuse (the shapes in [`crate::wire`]): a wrong or
//! missing bearer key (401), an order without `Idempotency-Key` or with a field out of shape
//! (422 naming the field), the same key reused for another order (422), a second order with
//! an order number already placed under another key (409), an unknown order (404), a page
//! size out of range (422). Orders are idempotent by key: the same request again answers the
//! first placement with `Idempotent-Replayed: true` and places nothing.
//!
//! Tests drive it through [`FakePhonex`]'s methods (also reachable over HTTP under
//! `/_control/`, without auth, for the demo): advance an order's status, which records the
//! change and returns the signed [`Delivery`] of its webhook; deliver those to the configured
//! URL in any order, as often as wanted, signed now or at any time, or with a wrong secret;
//! switch on 5xx bursts, a permanent refusal, throttling or a full outage; and count every
//! effect (orders placed, times each key was applied, requests, deliveries).

use crate::config::SignatureEncoding;
use crate::webhook::signed_headers;
use crate::wire::{
    ErrorBody, ErrorDetail, Order, OrderRequest, OrderStatus, StatusEvent, StockPage, ACCOUNT_PATH,
    IDEMPOTENCY_HEADER, MAX_PER_PAGE, ORDERS_PATH, PAGE_PARAM, PER_PAGE_PARAM, REPLAYED_HEADER,
    STATUS_UPDATED, STOCK_PATH,
};
use axum::body::Bytes;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use serde_json::{json, Value};
use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::SystemTime;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// How the fake is set up.
#[derive(Debug, Clone)]
pub struct FakeConfig {
    pub api_key: String,
    pub webhook_secret: String,
    pub encoding: SignatureEncoding,
}

impl Default for FakeConfig {
    fn default() -> Self {
        Self {
            api_key: "px_live_4f9a2c7e1b".into(),
            webhook_secret: "whsec_px_8d1e6b3a".into(),
            encoding: SignatureEncoding::Hex,
        }
    }
}

/// One order the fake holds.
#[derive(Debug, Clone, PartialEq)]
pub struct PlacedOrder {
    pub order: Order,
    pub request: OrderRequest,
    pub idempotency_key: String,
}

/// A status webhook ready to send: its event id and exact body.
#[derive(Debug, Clone, PartialEq)]
pub struct Delivery {
    pub event_id: String,
    pub body: Vec<u8>,
}

/// One delivery attempt the fake made, and what the receiver answered (`None`: no answer).
#[derive(Debug, Clone, PartialEq)]
pub struct Sent {
    pub event_id: String,
    pub status: Option<u16>,
}

#[derive(Default)]
struct Faults {
    fail_next: VecDeque<u16>,
    always: Option<u16>,
    /// The `Retry-After` value of the 429s: delta-seconds or an HTTP date.
    throttle: Option<String>,
}

#[derive(Default)]
struct State {
    orders: Vec<PlacedOrder>,
    by_key: HashMap<String, usize>,
    by_order_id: HashMap<String, usize>,
    applied: HashMap<String, usize>,
    stock: Vec<Value>,
    faults: Faults,
    requests: usize,
    webhook_url: Option<String>,
    sent: Vec<Sent>,
    next_order: u32,
    next_event: u32,
}

struct Shared {
    config: FakeConfig,
    state: Mutex<State>,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        // A panicking handler does not make the data unusable for the test.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The running fake; stops when dropped.
pub struct FakePhonex {
    addr: SocketAddr,
    shared: Arc<Shared>,
    http: reqwest::Client,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

type Answer = (StatusCode, Vec<(&'static str, String)>, Value);

fn error(
    status: StatusCode,
    code: &str,
    message: impl Into<String>,
    field: Option<&str>,
) -> Answer {
    let body = ErrorBody {
        error: ErrorDetail {
            code: code.into(),
            message: message.into(),
            field: field.map(Into::into),
            existing_id: None,
        },
    };
    (
        status,
        Vec::new(),
        serde_json::to_value(body).unwrap_or_default(),
    )
}

fn invalid(field: &str, message: impl Into<String>) -> Answer {
    error(
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
        message,
        Some(field),
    )
}

fn ok(status: StatusCode, body: impl serde::Serialize) -> Answer {
    (
        status,
        Vec::new(),
        serde_json::to_value(body).unwrap_or_default(),
    )
}

impl FakePhonex {
    pub async fn start(config: FakeConfig) -> std::io::Result<Self> {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared {
            config,
            state: Mutex::new(State {
                next_order: 845_140,
                ..State::default()
            }),
        });
        let http = reqwest::Client::builder()
            .timeout(std::time::Duration::from_secs(10))
            .build()
            .map_err(std::io::Error::other)?;
        let state = shared.clone();
        let sender = http.clone();
        let router = axum::Router::new().fallback(
            move |method: Method, uri: Uri, headers: HeaderMap, body: Bytes| {
                let (state, sender) = (state.clone(), sender.clone());
                async move { handle(state, sender, method, uri, headers, body).await }
            },
        );
        let (tx, rx) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let served = axum::serve(listener, router).with_graceful_shutdown(async {
                let _ = rx.await;
            });
            if let Err(e) = served.await {
                tracing::warn!(error = %e, "fake phonex stopped with an error");
            }
        });
        Ok(Self {
            addr,
            shared,
            http,
            shutdown: Some(tx),
            task: Some(task),
        })
    }

    /// The partner's `base_url`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn config(&self) -> &FakeConfig {
        &self.shared.config
    }

    /// `[partners.NAME]` settings for this fake, its credentials behind `api_key_ref` and
    /// `webhook_secret_ref`.
    pub fn partner_config(&self, api_key_ref: &str, webhook_secret_ref: &str) -> Value {
        let encoding = match self.shared.config.encoding {
            SignatureEncoding::Hex => "hex",
            SignatureEncoding::Base64 => "base64",
        };
        json!({
            "base_url": self.base_url(),
            "api_key": api_key_ref,
            "timeout_ms": 5000,
            "webhooks": {"secret": webhook_secret_ref, "encoding": encoding},
        })
    }

    // Faults.

    /// The next `n` requests answer `status` (a 5xx burst).
    pub fn fail_next(&self, n: usize, status: u16) {
        self.shared
            .lock()
            .faults
            .fail_next
            .extend(std::iter::repeat_n(status, n));
    }

    /// Every request answers `status` until [`Self::fix`] (503: an outage).
    pub fn always_fail(&self, status: u16) {
        self.shared.lock().faults.always = Some(status);
    }

    /// Every request answers 429 with `Retry-After: secs` until [`Self::fix`].
    pub fn throttle(&self, secs: u64) {
        self.shared.lock().faults.throttle = Some(secs.to_string());
    }

    /// Every request answers 429 with `Retry-After` as an HTTP date (`at`, to the second) until
    /// [`Self::fix`]: the other form RFC 9110 allows.
    pub fn throttle_until(&self, at: chrono::DateTime<chrono::Utc>) {
        self.shared.lock().faults.throttle =
            Some(at.format("%a, %d %b %Y %H:%M:%S GMT").to_string());
    }

    pub fn fix(&self) {
        self.shared.lock().faults = Faults::default();
    }

    // Data.

    /// Replace the stock list (lines as [`crate::wire::StockItem`] or any JSON).
    pub fn set_stock(&self, items: Vec<Value>) {
        self.shared.lock().stock = items;
    }

    /// Orders placed (each once, whatever the retries).
    pub fn orders_placed(&self) -> usize {
        self.shared.lock().orders.len()
    }

    pub fn orders(&self) -> Vec<PlacedOrder> {
        self.shared.lock().orders.clone()
    }

    /// The order placed under our order number.
    pub fn order_by_number(&self, order_id: &str) -> Option<PlacedOrder> {
        let s = self.shared.lock();
        s.by_order_id.get(order_id).map(|i| s.orders[*i].clone())
    }

    /// How many times an order was placed under `key` (0 or 1).
    pub fn times_applied(&self, key: &str) -> usize {
        self.shared.lock().applied.get(key).copied().unwrap_or(0)
    }

    /// Requests received on the API (not the control routes), refused ones included.
    pub fn requests(&self) -> usize {
        self.shared.lock().requests
    }

    // Webhooks.

    /// Where status webhooks go (the daemon's `POST /webhooks/{partner}`).
    pub fn set_webhook_url(&self, url: impl Into<String>) {
        self.shared.lock().webhook_url = Some(url.into());
    }

    /// Move an order (by PhoneX id) to `status`, with tracking when given, and return the
    /// webhook announcing it (not sent: see [`Self::deliver`]). PhoneX's own order only moves
    /// forward; a final status (rejected, cancelled) ends it.
    pub fn advance(
        &self,
        supplier_order_id: &str,
        status: OrderStatus,
        tracking: Option<(&str, Option<&str>)>,
    ) -> Result<Delivery, String> {
        advance(&self.shared, supplier_order_id, status, tracking)
    }

    /// Send `delivery` signed now.
    pub async fn deliver(&self, delivery: &Delivery) -> Result<u16, String> {
        self.deliver_signed(delivery, SystemTime::now(), None).await
    }

    /// Send `delivery` signed as at `sent_at`, with `secret` instead of the configured one
    /// when given (a forged delivery).
    pub async fn deliver_signed(
        &self,
        delivery: &Delivery,
        sent_at: SystemTime,
        secret: Option<&str>,
    ) -> Result<u16, String> {
        deliver(&self.shared, &self.http, delivery, sent_at, secret).await
    }

    /// Every delivery attempt so far, in order.
    pub fn sent(&self) -> Vec<Sent> {
        self.shared.lock().sent.clone()
    }

    pub async fn shutdown(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for FakePhonex {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

/// Rank of PhoneX's own statuses: an order never moves to a lower one.
fn rank(s: OrderStatus) -> u8 {
    s.supplier().rank()
}

fn advance(
    shared: &Shared,
    supplier_order_id: &str,
    status: OrderStatus,
    tracking: Option<(&str, Option<&str>)>,
) -> Result<Delivery, String> {
    let mut s = shared.lock();
    s.next_event += 1;
    let event_id = format!("evt_px_{:06}", s.next_event);
    let placed = s
        .orders
        .iter_mut()
        .find(|o| o.order.id == supplier_order_id)
        .ok_or_else(|| format!("no order {supplier_order_id}"))?;
    let current = placed.order.status;
    if current.supplier().is_final() || rank(status) <= rank(current) {
        return Err(format!(
            "order {supplier_order_id} cannot go from {} to {}",
            current.as_str(),
            status.as_str()
        ));
    }
    let now = Utc::now();
    placed.order.status = status;
    placed.order.updated_at = now;
    if let Some((number, carrier)) = tracking {
        placed.order.tracking_number = Some(number.to_owned());
        placed.order.carrier = carrier.map(str::to_owned);
    }
    let event = StatusEvent {
        event: STATUS_UPDATED.into(),
        order_id: placed.order.order_id.clone(),
        supplier_order_id: placed.order.id.clone(),
        status,
        tracking_number: placed.order.tracking_number.clone(),
        carrier: placed.order.carrier.clone(),
        updated_at: now,
    };
    Ok(Delivery {
        event_id,
        body: serde_json::to_vec(&event).map_err(|e| e.to_string())?,
    })
}

async fn deliver(
    shared: &Shared,
    http: &reqwest::Client,
    delivery: &Delivery,
    sent_at: SystemTime,
    secret: Option<&str>,
) -> Result<u16, String> {
    let url = shared
        .lock()
        .webhook_url
        .clone()
        .ok_or("no webhook URL configured")?;
    let timestamp: i64 = DateTime::<Utc>::from(sent_at).timestamp();
    let headers = signed_headers(
        secret.unwrap_or(&shared.config.webhook_secret),
        shared.config.encoding,
        &delivery.event_id,
        timestamp,
        &delivery.body,
    );
    let mut request = http.post(&url).body(delivery.body.clone());
    for (k, v) in headers {
        request = request.header(k, v);
    }
    let status = request.send().await.ok().map(|r| r.status().as_u16());
    shared.lock().sent.push(Sent {
        event_id: delivery.event_id.clone(),
        status,
    });
    status.ok_or_else(|| format!("no answer from {url}"))
}

async fn handle(
    shared: Arc<Shared>,
    http: reqwest::Client,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = uri.path().trim_start_matches('/').to_owned();
    let (status, extra, body) = if let Some(rest) = path.strip_prefix("_control/") {
        control(&shared, &http, &method, rest, &body).await
    } else {
        api(&shared, &method, &path, uri.query(), &headers, &body)
    };
    let mut response = (status, axum::Json(body)).into_response();
    for (k, v) in extra {
        if let Ok(v) = HeaderValue::from_str(&v) {
            response.headers_mut().insert(k, v);
        }
    }
    response
}

/// `POST /_control/orders/{id}/advance` `{"status", "tracking_number"?, "carrier"?}`: advance
/// and deliver the webhook at once (the demo's way in).
async fn control(
    shared: &Shared,
    http: &reqwest::Client,
    method: &Method,
    rest: &str,
    body: &[u8],
) -> Answer {
    let parts: Vec<&str> = rest.split('/').collect();
    let (true, ["orders", id, "advance"]) = (*method == Method::POST, parts.as_slice()) else {
        return error(
            StatusCode::NOT_FOUND,
            "not_found",
            "no such control route",
            None,
        );
    };
    let Ok(input) = serde_json::from_slice::<Value>(body) else {
        return invalid("body", "not JSON");
    };
    let Some(status) = input["status"].as_str().and_then(OrderStatus::parse) else {
        return invalid("status", "not a PhoneX status");
    };
    let tracking = input["tracking_number"]
        .as_str()
        .map(|n| (n, input["carrier"].as_str()));
    let delivery = match advance(shared, id, status, tracking) {
        Ok(d) => d,
        Err(e) => {
            return error(
                StatusCode::CONFLICT,
                "invalid_transition",
                e,
                Some("status"),
            )
        }
    };
    let delivered = deliver(shared, http, &delivery, SystemTime::now(), None).await;
    ok(
        StatusCode::OK,
        json!({"event_id": delivery.event_id, "delivered": delivered.ok()}),
    )
}

fn api(
    shared: &Shared,
    method: &Method,
    path: &str,
    query: Option<&str>,
    headers: &HeaderMap,
    body: &[u8],
) -> Answer {
    {
        let mut s = shared.lock();
        s.requests += 1;
        if let Some(status) = s.faults.fail_next.pop_front().or(s.faults.always) {
            let code = StatusCode::from_u16(status).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
            return error(code, "unavailable", "injected failure", None);
        }
        if let Some(retry_after) = s.faults.throttle.clone() {
            let mut answer = error(
                StatusCode::TOO_MANY_REQUESTS,
                "rate_limited",
                "too many requests",
                None,
            );
            answer.1.push(("retry-after", retry_after));
            return answer;
        }
    }
    let expected = format!("Bearer {}", shared.config.api_key);
    let given = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if given != expected {
        return error(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "missing or invalid API key",
            None,
        );
    }
    let orders_prefix = format!("{ORDERS_PATH}/");
    let (get, post) = (*method == Method::GET, *method == Method::POST);
    match path {
        p if get && p == ACCOUNT_PATH => ok(
            StatusCode::OK,
            json!({"account_id": "acct_switchyard", "name": "Switchyard (fake)"}),
        ),
        p if post && p == ORDERS_PATH => create_order(shared, headers, body),
        p if get && p.starts_with(&orders_prefix) => {
            let id = &p[orders_prefix.len()..];
            let s = shared.lock();
            match s.orders.iter().find(|o| o.order.id == id) {
                Some(o) => ok(StatusCode::OK, &o.order),
                None => error(
                    StatusCode::NOT_FOUND,
                    "not_found",
                    format!("no order {id}"),
                    None,
                ),
            }
        }
        p if get && p == STOCK_PATH => stock(shared, query),
        _ => error(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("no route {method} /{path}"),
            None,
        ),
    }
}

fn stock(shared: &Shared, query: Option<&str>) -> Answer {
    // Both params are numbers: no percent-decoding needed.
    let params: HashMap<&str, &str> = query
        .unwrap_or("")
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .collect();
    let number = |name: &str, default: u32| match params.get(name) {
        None => Some(default),
        Some(v) => v.parse::<u32>().ok(),
    };
    let Some(page) = number(PAGE_PARAM, 1).filter(|p| *p >= 1) else {
        return invalid(PAGE_PARAM, "must be a whole number from 1");
    };
    let Some(per_page) = number(PER_PAGE_PARAM, 100).filter(|n| (1..=MAX_PER_PAGE).contains(n))
    else {
        return invalid(
            PER_PAGE_PARAM,
            format!("must be a whole number from 1 to {MAX_PER_PAGE}"),
        );
    };
    let s = shared.lock();
    let start = (page as usize - 1).saturating_mul(per_page as usize);
    let items: Vec<Value> = s
        .stock
        .iter()
        .skip(start)
        .take(per_page as usize)
        .cloned()
        .collect();
    let more = start.saturating_add(per_page as usize) < s.stock.len();
    ok(
        StatusCode::OK,
        StockPage {
            items,
            page,
            per_page,
            next_page: more.then_some(page + 1),
        },
    )
}

/// The first field of an order out of shape, as PhoneX would name it.
fn validate(body: &Value) -> Result<(), Answer> {
    let Some(obj) = body.as_object() else {
        return Err(invalid("body", "must be a JSON object"));
    };
    for key in obj.keys() {
        if ![
            "supplier",
            "order_id",
            "customer_id",
            "items",
            "shipping_address",
            "metadata",
        ]
        .contains(&key.as_str())
        {
            return Err(invalid(key, "unknown field"));
        }
    }
    for field in ["supplier", "order_id", "customer_id"] {
        match obj.get(field) {
            Some(Value::String(s)) if !s.trim().is_empty() => {}
            _ => return Err(invalid(field, "required, a non-empty string")),
        }
    }
    let items = match obj.get("items") {
        Some(Value::Array(items)) if !items.is_empty() => items,
        _ => return Err(invalid("items", "required, at least one item")),
    };
    let mut skus = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let at = |f: &str| format!("items[{i}].{f}");
        let Some(item) = item.as_object() else {
            return Err(invalid(&format!("items[{i}]"), "must be an object"));
        };
        if let Some(extra) = item
            .keys()
            .find(|k| !["sku", "quantity", "unit_price"].contains(&k.as_str()))
        {
            return Err(invalid(&at(extra), "unknown field"));
        }
        match item.get("sku").and_then(Value::as_str) {
            Some(s) if !s.trim().is_empty() => {
                if skus.contains(&s) {
                    return Err(invalid(&at("sku"), format!("duplicate SKU {s}")));
                }
                skus.push(s);
            }
            _ => return Err(invalid(&at("sku"), "required, a non-empty string")),
        }
        if item
            .get("quantity")
            .and_then(Value::as_u64)
            .is_none_or(|q| q == 0)
        {
            return Err(invalid(&at("quantity"), "required, a whole number from 1"));
        }
        let price_ok = item.get("unit_price").is_some_and(|p| {
            p.is_number()
                && p.to_string()
                    .parse::<f64>()
                    .is_ok_and(|v| v.is_finite() && v >= 0.0)
        });
        if !price_ok {
            return Err(invalid(&at("unit_price"), "required, a number from 0"));
        }
    }
    if !obj.get("shipping_address").is_some_and(Value::is_object) {
        return Err(invalid("shipping_address", "required, an object"));
    }
    if !obj
        .get("metadata")
        .is_none_or(|m| m.is_object() || m.is_null())
    {
        return Err(invalid("metadata", "must be an object"));
    }
    Ok(())
}

fn create_order(shared: &Shared, headers: &HeaderMap, body: &[u8]) -> Answer {
    let key = match headers
        .get(IDEMPOTENCY_HEADER)
        .and_then(|v| v.to_str().ok())
    {
        Some(k) if !k.trim().is_empty() && k.len() <= 255 => k.to_owned(),
        _ => return invalid(IDEMPOTENCY_HEADER, "required, 1 to 255 characters"),
    };
    let Ok(json) = serde_json::from_slice::<Value>(body) else {
        return error(
            StatusCode::BAD_REQUEST,
            "invalid_json",
            "the body is not JSON",
            None,
        );
    };
    if let Err(answer) = validate(&json) {
        return answer;
    }
    let request: OrderRequest = match serde_json::from_value(json) {
        Ok(r) => r,
        Err(e) => return invalid("body", e.to_string()),
    };
    let mut s = shared.lock();
    if let Some(i) = s.by_key.get(&key).copied() {
        let placed = &s.orders[i];
        if placed.request != request {
            return error(
                StatusCode::UNPROCESSABLE_ENTITY,
                "idempotency_key_reused",
                format!("{IDEMPOTENCY_HEADER} {key} was used for another order"),
                Some(IDEMPOTENCY_HEADER),
            );
        }
        let mut answer = ok(StatusCode::OK, &placed.order);
        answer.1.push((REPLAYED_HEADER, "true".into()));
        return answer;
    }
    if let Some(i) = s.by_order_id.get(&request.order_id).copied() {
        let mut answer = error(
            StatusCode::CONFLICT,
            "duplicate_order_id",
            format!(
                "order {} was placed already under another {IDEMPOTENCY_HEADER}",
                request.order_id
            ),
            Some("order_id"),
        );
        answer.2["error"]["existing_id"] = json!(s.orders[i].order.id);
        return answer;
    }
    let now = Utc::now();
    s.next_order += 1;
    let order = Order {
        id: format!("ORD{}", s.next_order),
        order_id: request.order_id.clone(),
        status: OrderStatus::Received,
        tracking_number: None,
        carrier: None,
        created_at: now,
        updated_at: now,
    };
    let index = s.orders.len();
    s.by_key.insert(key.clone(), index);
    s.by_order_id.insert(request.order_id.clone(), index);
    *s.applied.entry(key.clone()).or_default() += 1;
    s.orders.push(PlacedOrder {
        order: order.clone(),
        request,
        idempotency_key: key,
    });
    ok(StatusCode::CREATED, &order)
}
