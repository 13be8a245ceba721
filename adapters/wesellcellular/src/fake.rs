//! A faithful fake WesellCellular tenant over loopback HTTP (feature `fake`), refusing what the
//! tenant refuses, in the shapes of [`crate::wire`]:
//!
//! * `POST /auth/token`: client credentials → an HS256 JWT with `iat`/`exp`/`jti` (wrong
//!   credentials 401); every other route wants `Authorization: Bearer` with a live token: a
//!   bad signature, an `exp` in the past or a token the test ended ([`FakeWesell::expire_tokens`])
//!   is 401, counted;
//! * `GET /stocklist/items?includeOutOfStock=&page=&pageSize=`: the seeded list, paged, quantities
//!   as counts or `"100+"`, a page past the end empty;
//! * `POST /sales-orders`: validated (a missing field is 422 naming it), deduped on
//!   `buyerReference` (the same reference answers the first order with 200 and places
//!   nothing), numbered `PXSTKL0000001`…, `On Hold`; `GET /sales-orders/{n}` (a reassigned
//!   number still finds its order); `GET /sales-orders?updatedSince=&page=&pageSize=` in
//!   `updatedAt` order, stamped to the second like the portal;
//! * the status machine, moved by the test ([`FakeWesell::advance`], `cancel`, `reassign`) or
//!   over HTTP at `POST /_control/orders/{n}/{advance|cancel|reassign}` (no auth, for tests
//!   that drive a daemon in another process);
//! * fault switches: 5xx bursts, outages, throttling with `Retry-After`, token lifetime;
//! * counts of every effect: tokens minted, refusals, orders placed per idempotency key.

// The handlers' helpers answer early with the finished `Response` (`Err`): a test fake's
// refusals, where boxing each one would buy nothing but noise.
#![allow(clippy::result_large_err)]

use crate::wire::{self, Claims, OrderStatus, Page, SalesOrder, StockItem, TokenRequest};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Json;
use chrono::{DateTime, SubsecRound, Utc};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::Serialize;
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// How the fake tenant is set up.
#[derive(Debug, Clone)]
pub struct FakeWesellConfig {
    pub client_id: String,
    pub client_secret: String,
    pub token_lifetime: Duration,
    /// The key the fake signs its tokens with (never known to the client).
    pub signing_key: String,
}

impl Default for FakeWesellConfig {
    fn default() -> Self {
        Self {
            client_id: "wsc-client-4821".into(),
            client_secret: "wsc-secret-9f2kq7".into(),
            token_lifetime: Duration::from_secs(3600),
            signing_key: "fake-tenant-signing-key".into(),
        }
    }
}

#[derive(Debug, Clone)]
struct Order {
    number: String,
    reference: String,
    status: OrderStatus,
    updated_at: DateTime<Utc>,
    /// Orders changes within one second.
    seq: u64,
    tracking: Option<String>,
    carrier: Option<String>,
    body: Value,
}

impl Order {
    fn wire(&self) -> SalesOrder {
        SalesOrder {
            order_number: self.number.clone(),
            buyer_reference: Some(self.reference.clone()),
            status: self.status.as_str().to_owned(),
            updated_at: self.updated_at,
            tracking_number: self.tracking.clone(),
            carrier: self.carrier.clone(),
        }
    }
}

#[derive(Default)]
struct Faults {
    fail_next: VecDeque<u16>,
    always: Option<u16>,
    throttle: Option<u64>,
}

#[derive(Default)]
struct Tenant {
    stock: Vec<Value>,
    /// By order number; `aliases` maps reassigned numbers to the current one.
    orders: BTreeMap<String, Order>,
    aliases: HashMap<String, String>,
    next_order: u64,
    next_seq: u64,
    token_lifetime: Duration,
    next_jti: u64,
    live_tokens: HashSet<String>,
    tokens_minted: usize,
    refused_tokens: usize,
    applied: HashMap<String, usize>,
    orders_placed: usize,
    requests: Vec<String>,
    faults: Faults,
}

struct Shared {
    config: FakeWesellConfig,
    tenant: Mutex<Tenant>,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Tenant> {
        // A panicking handler does not make the data unusable for the test.
        self.tenant.lock().unwrap_or_else(|e| e.into_inner())
    }
}

type S = Arc<Shared>;

/// The running fake; stops when dropped.
pub struct FakeWesell {
    addr: SocketAddr,
    shared: S,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl Drop for FakeWesell {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

/// What the control endpoint or method did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ControlError {
    UnknownOrder(String),
    /// The move the machine does not allow (advancing a shipped or canceled order).
    NotAllowed(String),
}

impl FakeWesell {
    pub async fn start(config: FakeWesellConfig) -> std::io::Result<Self> {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared {
            tenant: Mutex::new(Tenant {
                token_lifetime: config.token_lifetime,
                next_order: 1,
                ..Tenant::default()
            }),
            config,
        });
        let router = axum::Router::new()
            .route("/auth/token", post(token))
            .route("/account/user-info", get(user_info))
            .route("/stocklist/items", get(stocklist))
            .route("/sales-orders", post(create_order).get(list_orders))
            .route("/sales-orders/{number}", get(get_order))
            .route("/_control/orders/{number}/{action}", post(control))
            .with_state(shared.clone());
        let (tx, rx) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let served = axum::serve(listener, router).with_graceful_shutdown(async {
                let _ = rx.await;
            });
            if let Err(e) = served.await {
                tracing::warn!(error = %e, "fake wesellcellular stopped with an error");
            }
        });
        Ok(Self {
            addr,
            shared,
            shutdown: Some(tx),
            task: Some(task),
        })
    }

    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn config(&self) -> &FakeWesellConfig {
        &self.shared.config
    }

    /// `[partners.NAME]` settings for this tenant; credentials under `secret:wsc-id` and
    /// `secret:wsc-secret`.
    pub fn partner_config(&self) -> Value {
        json!({
            "base_url": self.base_url(),
            "client_id_ref": "secret:wsc-id",
            "client_secret_ref": "secret:wsc-secret",
            "timeout_ms": 5000,
        })
    }

    // ---- switches ----

    /// Answer the next `n` requests with `status` (a 5xx burst).
    pub fn fail_next(&self, n: usize, status: u16) {
        let mut t = self.shared.lock();
        t.faults.fail_next.extend(std::iter::repeat_n(status, n));
    }
    /// Answer every request with `status` (an outage: 503) until [`FakeWesell::fix`].
    pub fn always_fail(&self, status: u16) {
        self.shared.lock().faults.always = Some(status);
    }
    /// Answer 429 with `Retry-After: secs` until fixed.
    pub fn throttle(&self, secs: u64) {
        self.shared.lock().faults.throttle = Some(secs);
    }
    pub fn fix(&self) {
        self.shared.lock().faults = Faults::default();
    }
    /// The lifetime of tokens minted from now on.
    pub fn set_token_lifetime(&self, lifetime: Duration) {
        self.shared.lock().token_lifetime = lifetime;
    }
    /// End every token minted so far (their `exp` still says otherwise): the next request
    /// with one is a 401.
    pub fn expire_tokens(&self) {
        self.shared.lock().live_tokens.clear();
    }

    // ---- data ----

    /// Replace the stock list.
    pub fn seed_stock(&self, items: Vec<StockItem>) {
        self.shared.lock().stock = items
            .into_iter()
            .map(|i| serde_json::to_value(i).unwrap_or_default())
            .collect();
    }

    /// Replace the stock list with lines as the portal would send them (for malformed lines).
    pub fn seed_stock_raw(&self, items: Vec<Value>) {
        self.shared.lock().stock = items;
    }

    /// Move the order to the next state of the machine.
    pub fn advance(&self, number: &str) -> Result<SalesOrder, ControlError> {
        self.change(number, "advance", None)
    }
    /// Like [`FakeWesell::advance`], stamped `at` instead of now: a change whose transaction
    /// committed late, visible after later ones were already polled.
    pub fn advance_stamped(
        &self,
        number: &str,
        at: DateTime<Utc>,
    ) -> Result<SalesOrder, ControlError> {
        self.change(number, "advance", Some(at))
    }
    pub fn cancel(&self, number: &str) -> Result<SalesOrder, ControlError> {
        self.change(number, "cancel", None)
    }
    /// Give the order a new number (the old one still finds it).
    pub fn reassign(&self, number: &str) -> Result<SalesOrder, ControlError> {
        self.change(number, "reassign", None)
    }

    fn change(
        &self,
        number: &str,
        action: &str,
        at: Option<DateTime<Utc>>,
    ) -> Result<SalesOrder, ControlError> {
        let mut t = self.shared.lock();
        apply(&mut t, number, action, at)
    }

    // ---- counts ----

    pub fn tokens_minted(&self) -> usize {
        self.shared.lock().tokens_minted
    }
    /// Requests refused for their token (expired, ended, forged, missing).
    pub fn refused_tokens(&self) -> usize {
        self.shared.lock().refused_tokens
    }
    /// Orders placed under this idempotency key (a replay of a reference places none).
    pub fn times_applied(&self, key: &str) -> usize {
        self.shared.lock().applied.get(key).copied().unwrap_or(0)
    }
    pub fn orders_placed(&self) -> usize {
        self.shared.lock().orders_placed
    }
    /// The order placed with our reference, as the tenant shows it now.
    pub fn order_by_reference(&self, reference: &str) -> Option<SalesOrder> {
        self.shared
            .lock()
            .orders
            .values()
            .find(|o| o.reference == reference)
            .map(Order::wire)
    }
    /// The body the order was placed with.
    pub fn order_body(&self, number: &str) -> Option<Value> {
        let t = self.shared.lock();
        let n = t.aliases.get(number).map(String::as_str).unwrap_or(number);
        t.orders.get(n).map(|o| o.body.clone())
    }
    /// The path of every request that passed the faults and the token check.
    pub fn requests(&self) -> Vec<String> {
        self.shared.lock().requests.clone()
    }
}

fn apply(
    t: &mut Tenant,
    number: &str,
    action: &str,
    at: Option<DateTime<Utc>>,
) -> Result<SalesOrder, ControlError> {
    let current = t
        .aliases
        .get(number)
        .cloned()
        .unwrap_or_else(|| number.to_owned());
    let Some(mut order) = t.orders.remove(&current) else {
        return Err(ControlError::UnknownOrder(number.to_owned()));
    };
    let result = match action {
        "advance" => match order.status.next() {
            Some(next) => {
                order.status = next;
                if next == OrderStatus::Shipped {
                    order.tracking = Some(format!("1Z999AA1{:010}", order.seq + 1));
                    order.carrier = Some("UPS".into());
                }
                Ok(())
            }
            None => Err(ControlError::NotAllowed(format!(
                "{} is {} and cannot advance",
                order.number,
                order.status.as_str()
            ))),
        },
        "cancel" if order.status == OrderStatus::Canceled => Err(ControlError::NotAllowed(
            format!("{} is already canceled", order.number),
        )),
        "cancel" => {
            order.status = OrderStatus::Canceled;
            Ok(())
        }
        "reassign" => {
            let new = format!("PXSTKL{:07}", t.next_order);
            t.next_order += 1;
            t.aliases.insert(order.number.clone(), new.clone());
            for target in t.aliases.values_mut() {
                if *target == order.number {
                    *target = new.clone();
                }
            }
            order.number = new;
            Ok(())
        }
        other => Err(ControlError::NotAllowed(format!(
            "unknown action `{other}`"
        ))),
    };
    if result.is_ok() {
        order.updated_at = at.unwrap_or_else(now);
        t.next_seq += 1;
        order.seq = t.next_seq;
    }
    let wire = order.wire();
    t.orders.insert(order.number.clone(), order);
    result.map(|()| wire)
}

/// The portal's clock: whole seconds.
fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(0)
}

fn error(status: StatusCode, message: &str, field: Option<&str>) -> Response {
    let mut body = json!({ "message": message });
    if let Some(f) = field {
        body["field"] = json!(f);
    }
    (status, Json(body)).into_response()
}

/// Faults first (they stand for the tenant's gateway), then the bearer token.
fn gate(
    shared: &Shared,
    headers: &HeaderMap,
    what: &str,
    authed: bool,
) -> Result<String, Response> {
    let mut t = shared.lock();
    if let Some(secs) = t.faults.throttle {
        return Err((
            StatusCode::TOO_MANY_REQUESTS,
            [("retry-after", secs.to_string())],
            Json(json!({"message": "Too Many Requests"})),
        )
            .into_response());
    }
    let fault = t.faults.fail_next.pop_front().or(t.faults.always);
    if let Some(status) = fault {
        let status = StatusCode::from_u16(status).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
        return Err(error(status, "Service Unavailable", None));
    }
    if !authed {
        t.requests.push(what.to_owned());
        return Ok(String::new());
    }
    let bearer = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    let Some(jwt) = bearer else {
        t.refused_tokens += 1;
        return Err(error(StatusCode::UNAUTHORIZED, "Unauthorized", None));
    };
    let mut validation = Validation::new(Algorithm::HS256);
    validation.leeway = 0;
    let decoded = jsonwebtoken::decode::<Claims>(
        jwt,
        &DecodingKey::from_secret(shared.config.signing_key.as_bytes()),
        &validation,
    );
    let jti = jsonwebtoken::decode::<Value>(
        jwt,
        &DecodingKey::from_secret(shared.config.signing_key.as_bytes()),
        &{
            let mut v = Validation::new(Algorithm::HS256);
            v.validate_exp = false;
            v.required_spec_claims.clear();
            v
        },
    )
    .ok()
    .and_then(|d| d.claims["jti"].as_str().map(str::to_owned));
    match (decoded, jti) {
        (Ok(claims), Some(jti)) if t.live_tokens.contains(&jti) => {
            t.requests.push(what.to_owned());
            Ok(claims.claims.sub)
        }
        (Ok(_), _) => {
            t.refused_tokens += 1;
            Err(error(
                StatusCode::UNAUTHORIZED,
                "The incoming token has expired",
                None,
            ))
        }
        (Err(e), _) => {
            t.refused_tokens += 1;
            let message = match e.kind() {
                jsonwebtoken::errors::ErrorKind::ExpiredSignature => {
                    "The incoming token has expired".to_owned()
                }
                other => format!("Unauthorized ({other:?})"),
            };
            Err(error(StatusCode::UNAUTHORIZED, &message, None))
        }
    }
}

#[derive(Serialize)]
struct JwtClaims<'a> {
    sub: &'a str,
    iat: i64,
    exp: i64,
    jti: String,
}

async fn token(State(s): State<S>, headers: HeaderMap, body: axum::body::Bytes) -> Response {
    if let Err(r) = gate(&s, &headers, wire::TOKEN_PATH, false) {
        return r;
    }
    let Ok(request) = serde_json::from_slice::<TokenRequest>(&body) else {
        return error(
            StatusCode::BAD_REQUEST,
            "clientId and clientSecret are required",
            Some("clientId"),
        );
    };
    if request.client_id != s.config.client_id || request.client_secret != s.config.client_secret {
        return error(
            StatusCode::UNAUTHORIZED,
            "Incorrect client id or secret",
            None,
        );
    }
    let mut t = s.lock();
    t.next_jti += 1;
    let jti = format!("t{}", t.next_jti);
    let iat = Utc::now().timestamp();
    let lifetime = t.token_lifetime.as_secs() as i64;
    let claims = JwtClaims {
        sub: &s.config.client_id,
        iat,
        exp: iat + lifetime,
        jti: jti.clone(),
    };
    let Ok(jwt) = jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &claims,
        &EncodingKey::from_secret(s.config.signing_key.as_bytes()),
    ) else {
        return error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "token signing failed",
            None,
        );
    };
    t.live_tokens.insert(jti);
    t.tokens_minted += 1;
    Json(json!({"accessToken": jwt, "tokenType": "Bearer", "expiresIn": lifetime})).into_response()
}

async fn user_info(State(s): State<S>, headers: HeaderMap) -> Response {
    match gate(&s, &headers, wire::USER_INFO_PATH, true) {
        Err(r) => r,
        // The account behind the client, never the client id itself (a credential).
        Ok(_) => Json(
            json!({"userId": "api-buyer-1", "tenant": "wesellcellular", "company": "PhoneExport"}),
        )
        .into_response(),
    }
}

fn page_params(q: &HashMap<String, String>, default_size: u32) -> Result<(u32, u32), Response> {
    let number = |key: &str, default: u32| -> Result<u32, Response> {
        match q.get(key) {
            None => Ok(default),
            Some(v) => v.parse().ok().filter(|n| *n >= 1).ok_or_else(|| {
                error(
                    StatusCode::BAD_REQUEST,
                    &format!("{key} must be a positive integer"),
                    Some(key),
                )
            }),
        }
    };
    let page = number("page", 1)?;
    let size = number("pageSize", default_size)?;
    if size > 500 {
        return Err(error(
            StatusCode::BAD_REQUEST,
            "pageSize must be at most 500",
            Some("pageSize"),
        ));
    }
    Ok((page, size))
}

fn paged<T: Clone + Serialize>(all: &[T], page: u32, size: u32) -> Value {
    let total_pages = all.len().div_ceil(size as usize) as u32;
    let start = ((page - 1) as usize).saturating_mul(size as usize);
    let items: Vec<T> = all
        .iter()
        .skip(start)
        .take(size as usize)
        .cloned()
        .collect();
    serde_json::to_value(Page {
        items,
        page,
        page_size: size,
        total_pages,
        total_items: all.len() as u64,
    })
    .unwrap_or_default()
}

async fn stocklist(
    State(s): State<S>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    if let Err(r) = gate(&s, &headers, wire::STOCKLIST_PATH, true) {
        return r;
    }
    let (page, size) = match page_params(&q, 100) {
        Ok(p) => p,
        Err(r) => return r,
    };
    let out_of_stock = match q.get("includeOutOfStock").map(String::as_str) {
        None | Some("false") => false,
        Some("true") => true,
        Some(_) => {
            return error(
                StatusCode::BAD_REQUEST,
                "includeOutOfStock must be true or false",
                Some("includeOutOfStock"),
            )
        }
    };
    let t = s.lock();
    let lines: Vec<Value> = t
        .stock
        .iter()
        .filter(|l| out_of_stock || l["quantity"] != json!(0))
        .cloned()
        .collect();
    Json(paged(&lines, page, size)).into_response()
}

/// What the tenant checks of a new order.
fn check_order(body: &Value) -> Result<String, Response> {
    let reference = body[wire::BUYER_REFERENCE]
        .as_str()
        .map(str::trim)
        .filter(|r| !r.is_empty())
        .ok_or_else(|| {
            error(
                StatusCode::UNPROCESSABLE_ENTITY,
                "buyerReference is required",
                Some(wire::BUYER_REFERENCE),
            )
        })?;
    let items = body["items"]
        .as_array()
        .filter(|i| !i.is_empty())
        .ok_or_else(|| {
            error(
                StatusCode::UNPROCESSABLE_ENTITY,
                "an order needs at least one item",
                Some("items"),
            )
        })?;
    for (i, item) in items.iter().enumerate() {
        if item["sku"].as_str().is_none_or(|s| s.trim().is_empty()) {
            return Err(error(
                StatusCode::UNPROCESSABLE_ENTITY,
                "sku is required",
                Some(&format!("items[{i}].sku")),
            ));
        }
        if item["quantity"].as_u64().is_none_or(|q| q == 0) {
            return Err(error(
                StatusCode::UNPROCESSABLE_ENTITY,
                "quantity must be a positive whole number",
                Some(&format!("items[{i}].quantity")),
            ));
        }
        if !item["unitPrice"].is_null() && !item["unitPrice"].is_number() {
            return Err(error(
                StatusCode::UNPROCESSABLE_ENTITY,
                "unitPrice must be a number",
                Some(&format!("items[{i}].unitPrice")),
            ));
        }
    }
    Ok(reference.to_owned())
}

async fn create_order(State(s): State<S>, headers: HeaderMap, body: axum::body::Bytes) -> Response {
    if let Err(r) = gate(&s, &headers, wire::SALES_ORDERS_PATH, true) {
        return r;
    }
    let Ok(body) = serde_json::from_slice::<Value>(&body) else {
        return error(StatusCode::BAD_REQUEST, "the body is not JSON", None);
    };
    let reference = match check_order(&body) {
        Ok(r) => r,
        Err(r) => return r,
    };
    let mut t = s.lock();
    if let Some(existing) = t.orders.values().find(|o| o.reference == reference) {
        return (StatusCode::OK, Json(existing.wire())).into_response();
    }
    let number = format!("PXSTKL{:07}", t.next_order);
    t.next_order += 1;
    t.next_seq += 1;
    let order = Order {
        number: number.clone(),
        reference,
        status: OrderStatus::OnHold,
        updated_at: now(),
        seq: t.next_seq,
        tracking: None,
        carrier: None,
        body,
    };
    let wire = order.wire();
    t.orders.insert(number, order);
    t.orders_placed += 1;
    if let Some(key) = headers
        .get(wire::IDEMPOTENCY_HEADER)
        .and_then(|v| v.to_str().ok())
    {
        *t.applied.entry(key.to_owned()).or_default() += 1;
    }
    (StatusCode::CREATED, Json(wire)).into_response()
}

async fn get_order(State(s): State<S>, headers: HeaderMap, Path(number): Path<String>) -> Response {
    if let Err(r) = gate(&s, &headers, wire::SALES_ORDERS_PATH, true) {
        return r;
    }
    let t = s.lock();
    let current = t.aliases.get(&number).unwrap_or(&number);
    match t.orders.get(current) {
        Some(o) => Json(o.wire()).into_response(),
        None => error(
            StatusCode::NOT_FOUND,
            &format!("sales order {number} not found"),
            None,
        ),
    }
}

async fn list_orders(
    State(s): State<S>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    if let Err(r) = gate(&s, &headers, wire::SALES_ORDERS_PATH, true) {
        return r;
    }
    let (page, size) = match page_params(&q, 50) {
        Ok(p) => p,
        Err(r) => return r,
    };
    let since = match q.get("updatedSince") {
        None => None,
        Some(v) => match DateTime::parse_from_rfc3339(v) {
            Ok(t) => Some(t.with_timezone(&Utc)),
            Err(_) => {
                return error(
                    StatusCode::BAD_REQUEST,
                    "updatedSince must be an ISO 8601 date-time",
                    Some("updatedSince"),
                )
            }
        },
    };
    let t = s.lock();
    let mut orders: Vec<&Order> = t
        .orders
        .values()
        .filter(|o| since.is_none_or(|s| o.updated_at >= s))
        .collect();
    orders.sort_by_key(|o| (o.updated_at, o.seq));
    let wire: Vec<SalesOrder> = orders.into_iter().map(Order::wire).collect();
    Json(paged(&wire, page, size)).into_response()
}

async fn control(State(s): State<S>, Path((number, action)): Path<(String, String)>) -> Response {
    let mut t = s.lock();
    match apply(&mut t, &number, &action, None) {
        Ok(order) => Json(order).into_response(),
        Err(ControlError::UnknownOrder(n)) => error(
            StatusCode::NOT_FOUND,
            &format!("sales order {n} not found"),
            None,
        ),
        Err(ControlError::NotAllowed(m)) => error(StatusCode::CONFLICT, &m, None),
    }
}
