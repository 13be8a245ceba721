//! A faithful fake partner for the HTTP adapter, served by axum on `127.0.0.1:0`.
//!
//! It behaves like a real document API, so tests against it prove something:
//!
//! * `POST`/`PUT /v1/documents` requires `Authorization: Bearer <token>` (401 with
//!   `{"error":{"code":"unauthorized",...}}` otherwise), an `Idempotency-Key` header (400),
//!   a JSON content type (415), a JSON object body (400/422) with the required fields (422
//!   listing the missing ones). Each key's effect is applied exactly once: a repeated key gets
//!   the first response again with `Idempotent-Replayed: true`; a repeated key with a different
//!   body is a 409, as on real APIs. Failed requests are not stored, so a retry can succeed.
//! * `GET /v1/documents?cursor=&limit=` lists applied documents, oldest first, with
//!   `next_cursor` (null on the last page).
//! * `GET /v1/records?collection=&cursor=&limit=` lists what a core system holds (seeded with
//!   `seed_records`, changed with `put_record` / `remove_record`) in keyset pages, for the
//!   scheduled pull; `fail_pages_after` fails it mid-way (see `records.rs`).
//! * `GET /healthz` answers `{"status":"ok"}` (or the outage status while `always_fail(5xx)`).
//! * A scriptable failure plan (`fail_next`, `always_fail`, `throttle`, `throttle_until`, `maintenance`,
//!   `fix`), a token-bucket rate limit answering 429 + `Retry-After`, optional latency,
//!   and an answer delay after applying (`set_answer_delay`: the document is applied, the
//!   client times out, the answer is lost).
//! * Counters and a record of every delivery (key, body, time, outcome) for assertions such
//!   as "every key applied exactly once, none missing".
//!
//! The state sits behind one `std::sync::Mutex` held only for map/vector updates (never across
//! an await), which keeps a delivery in the low microseconds: far above the 5,000/s the
//! crash-safety and scale-out tests need.

use axum::body::Bytes;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use serde::Deserialize;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

mod records;
pub use records::{PageRequest, RECORDS_PATH};

pub const DOCUMENTS_PATH: &str = "/v1/documents";
pub const HEALTH_PATH: &str = "/healthz";
pub const IDEMPOTENCY_HEADER: &str = "idempotency-key";
pub const REPLAYED_HEADER: &str = "idempotent-replayed";
const DEFAULT_PAGE_SIZE: usize = 100;
const MAX_PAGE_SIZE: usize = 1000;

/// A token bucket: `burst` requests at once, refilled at `per_second`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RateLimit {
    pub burst: u32,
    pub per_second: f64,
}

/// How the fake is set up before it starts.
#[derive(Debug, Clone, Default)]
pub struct FakePartnerConfig {
    /// The bearer token every request to `/v1/documents` must carry; `None` (and no
    /// `basic`) disables auth.
    pub token: Option<String>,
    /// HTTP Basic credentials (user, password) required instead of a bearer token.
    pub basic: Option<(String, String)>,
    /// A careless partner: its validation errors quote the `Authorization` header received.
    pub echo_credentials: bool,
    /// Fields a document must have (present and not null).
    pub required_fields: Vec<String>,
    pub rate_limit: Option<RateLimit>,
    /// The secret webhooks are signed with; sending is off without it.
    pub webhook_secret: Option<String>,
    /// Added before every `/v1/documents` request is handled.
    pub latency: Option<Duration>,
}

impl FakePartnerConfig {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn bearer_token(mut self, token: impl Into<String>) -> Self {
        self.token = Some(token.into());
        self
    }

    /// Require HTTP Basic credentials (RFC 7617) instead of a bearer token.
    pub fn basic_auth(mut self, user: impl Into<String>, password: impl Into<String>) -> Self {
        self.basic = Some((user.into(), password.into()));
        self
    }

    /// Quote the request's `Authorization` header in validation errors (message and
    /// `details.received_authorization`), as careless real APIs do.
    pub fn echo_credentials(mut self) -> Self {
        self.echo_credentials = true;
        self
    }

    pub fn required_fields<I, S>(mut self, fields: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.required_fields = fields.into_iter().map(Into::into).collect();
        self
    }

    pub fn rate_limit(mut self, burst: u32, per_second: f64) -> Self {
        self.rate_limit = Some(RateLimit { burst, per_second });
        self
    }

    /// Sign the webhooks this partner sends (`whsec_…`, Standard Webhooks).
    pub fn webhook_secret(mut self, secret: impl Into<String>) -> Self {
        self.webhook_secret = Some(secret.into());
        self
    }

    pub fn latency(mut self, latency: Duration) -> Self {
        self.latency = Some(latency);
        self
    }
}

/// What happened to one delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliveryOutcome {
    /// First time this key was seen with a valid document: the effect was applied.
    Applied,
    /// The key was applied before; the stored response was returned.
    Replayed,
    /// Refused (auth, plan, rate limit, validation...); nothing was applied.
    Rejected,
}

/// One request to the documents endpoint, as received.
#[derive(Debug, Clone)]
pub struct Delivery {
    pub method: String,
    pub idempotency_key: Option<String>,
    pub correlation_id: Option<String>,
    /// Request headers as received (names lowercase), so tests can check auth and static
    /// headers; this is a test fake, keeping the credential here is the point.
    pub headers: Vec<(String, String)>,
    /// The body parsed as JSON (`Value::String` with the raw text when it is not JSON).
    pub body: Value,
    pub received_at: SystemTime,
    pub status: u16,
    pub outcome: DeliveryOutcome,
}

impl Delivery {
    /// The first value of header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// A document whose effect was applied.
#[derive(Debug, Clone, PartialEq)]
pub struct AppliedDocument {
    pub id: String,
    pub idempotency_key: String,
    pub body: Value,
    pub applied_at: SystemTime,
}

/// Counters for assertions and reports.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FakeStats {
    /// Every request to the documents push endpoint, whatever its outcome.
    pub deliveries: u64,
    /// Distinct idempotency keys whose effect was applied.
    pub applied: u64,
    /// Requests answered from the idempotency store.
    pub duplicates: u64,
    /// Requests refused.
    pub rejected: u64,
    /// Of the rejected, those refused by the rate limit or `throttle`.
    pub throttled: u64,
}

/// The scripted behaviour, checked before validation.
#[derive(Debug, Clone, PartialEq)]
enum Plan {
    Normal,
    FailNext {
        remaining: u32,
        status: StatusCode,
    },
    Always {
        status: StatusCode,
    },
    Throttle {
        retry_after: String,
        /// When the throttling ends by itself (the instant it announces); `None`: until fixed.
        until: Option<SystemTime>,
    },
    /// 503 with `Retry-After`: the partner is down for maintenance and says for how long.
    Maintenance {
        retry_after: String,
    },
}

#[derive(Debug)]
struct TokenBucket {
    limit: RateLimit,
    tokens: f64,
    last: Instant,
}

impl TokenBucket {
    fn new(limit: RateLimit) -> Self {
        Self {
            limit,
            tokens: f64::from(limit.burst),
            last: Instant::now(),
        }
    }

    /// Take one token, or say how long until one is available.
    fn take(&mut self, now: Instant) -> Result<(), Duration> {
        let elapsed = now.saturating_duration_since(self.last).as_secs_f64();
        self.last = now;
        self.tokens =
            (self.tokens + elapsed * self.limit.per_second).min(f64::from(self.limit.burst));
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            Ok(())
        } else if self.limit.per_second > 0.0 {
            Err(Duration::from_secs_f64(
                (1.0 - self.tokens) / self.limit.per_second,
            ))
        } else {
            Err(Duration::from_secs(60))
        }
    }
}

/// The response stored for an applied key, returned again on replay.
#[derive(Debug, Clone)]
struct StoredResponse {
    status: StatusCode,
    body: Value,
    request: Value,
}

#[derive(Debug)]
struct Inner {
    plan: Plan,
    latency: Option<Duration>,
    /// Held after the effect is applied, before answering: longer than the client's timeout,
    /// the answer is lost although the document was applied.
    answer_delay: Option<Duration>,
    bucket: Option<TokenBucket>,
    by_key: HashMap<String, StoredResponse>,
    applied: Vec<AppliedDocument>,
    deliveries: Vec<Delivery>,
    stats: FakeStats,
    /// What `GET /v1/records` lists (records.rs).
    records: records::Collections,
}

#[derive(Debug)]
struct Shared {
    token: Option<String>,
    /// `Basic <base64(user:password)>`, the header value required when set.
    basic_header: Option<String>,
    echo_credentials: bool,
    required_fields: Vec<String>,
    webhook_key: Option<crate::webhook::WebhookKey>,
    inner: Mutex<Inner>,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic while holding the lock cannot leave Inner half-updated in a way that matters
        // to a test; keep serving.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// A running fake partner. Dropping it stops the server.
#[derive(Debug)]
pub struct FakePartner {
    base_url: String,
    addr: SocketAddr,
    shared: Arc<Shared>,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl FakePartner {
    /// Bind `127.0.0.1:0` and serve until dropped or [`FakePartner::shutdown`].
    pub async fn start(config: FakePartnerConfig) -> std::io::Result<Self> {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await?;
        let addr = listener.local_addr()?;
        let webhook_key = match &config.webhook_secret {
            Some(s) => Some(
                crate::webhook::WebhookKey::parse(s)
                    .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e))?,
            ),
            None => None,
        };
        let shared = Arc::new(Shared {
            webhook_key,
            token: config.token,
            basic_header: config.basic.map(|(user, password)| {
                use base64::Engine;
                let encoded =
                    base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
                format!("Basic {encoded}")
            }),
            echo_credentials: config.echo_credentials,
            required_fields: config.required_fields,
            inner: Mutex::new(Inner {
                plan: Plan::Normal,
                latency: config.latency,
                answer_delay: None,
                bucket: config.rate_limit.map(TokenBucket::new),
                by_key: HashMap::new(),
                applied: Vec::new(),
                deliveries: Vec::new(),
                stats: FakeStats::default(),
                records: records::Collections::default(),
            }),
        });
        let router = Router::new()
            .route(
                DOCUMENTS_PATH,
                get(list_documents).post(push_document).put(push_document),
            )
            .route(RECORDS_PATH, get(records::list_records))
            .route(HEALTH_PATH, get(health))
            .with_state(shared.clone());
        let (tx, rx) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let served = axum::serve(listener, router).with_graceful_shutdown(async {
                let _ = rx.await;
            });
            if let Err(e) = served.await {
                tracing::warn!(error = %e, "fake partner stopped with an error");
            }
        });
        Ok(Self {
            base_url: format!("http://{addr}"),
            addr,
            shared,
            shutdown: Some(tx),
            task: Some(task),
        })
    }

    /// Send one webhook event to `url` the way this partner does: the JSON `event` as the body,
    /// `webhook-id` = `event_id`, signed now with the configured secret. The status answered.
    pub async fn send_webhook(
        &self,
        url: &str,
        event_id: &str,
        event: &Value,
    ) -> Result<u16, String> {
        let key = self
            .shared
            .webhook_key
            .as_ref()
            .ok_or("this fake has no webhook_secret")?;
        let body = serde_json::to_vec(event).map_err(|e| e.to_string())?;
        let mut req = reqwest::Client::new()
            .post(url)
            .header("content-type", "application/json")
            .body(body.clone());
        for (k, v) in key.headers(event_id, SystemTime::now(), &body) {
            req = req.header(k, v);
        }
        let resp = req.send().await.map_err(|e| e.to_string())?;
        Ok(resp.status().as_u16())
    }

    /// `http://127.0.0.1:PORT`, without a trailing slash.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// A config section for the HTTP adapter pointing at this fake, with bearer auth through
    /// `token_ref` (which the caller's `SecretResolver` must map to [`FakePartner::token`]).
    pub fn http_adapter_config(&self, token_ref: &str) -> Value {
        let auth = match self.shared.token {
            Some(_) => json!({"type": "bearer", "token_ref": token_ref}),
            None => json!({"type": "none"}),
        };
        json!({
            "base_url": self.base_url,
            "push_path": DOCUMENTS_PATH,
            "pull_path": DOCUMENTS_PATH,
            "health_path": HEALTH_PATH,
            "auth": auth,
        })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn token(&self) -> Option<&str> {
        self.shared.token.as_deref()
    }

    /// Answer the next `n` pushes with `status` (e.g. 503), then behave normally.
    pub fn fail_next(&self, n: u32, status: u16) {
        let status = StatusCode::from_u16(status).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
        self.shared.lock().plan = if n == 0 {
            Plan::Normal
        } else {
            Plan::FailNext {
                remaining: n,
                status,
            }
        };
    }

    /// Answer every push with `status` until [`FakePartner::fix`] (e.g. 422 for a partner that
    /// rejects everything, 503 for an outage, which also fails `/healthz`).
    pub fn always_fail(&self, status: u16) {
        let status = StatusCode::from_u16(status).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
        self.shared.lock().plan = Plan::Always { status };
    }

    /// Answer every push with 429 and `Retry-After: <secs>` until fixed.
    pub fn throttle(&self, retry_after_secs: u64) {
        self.shared.lock().plan = Plan::Throttle {
            retry_after: retry_after_secs.to_string(),
            until: None,
        };
    }

    /// Answer every push with 429 and `Retry-After: <HTTP-date>` until that date, then behave
    /// normally again, as a partner that keeps its word does. An HTTP-date has whole seconds,
    /// so `until` is rounded up to the next one; the instant announced (and kept) is returned.
    pub fn throttle_until(&self, until: SystemTime) -> SystemTime {
        let since_epoch = until.duration_since(UNIX_EPOCH).unwrap_or_default();
        let whole = since_epoch.as_secs() + u64::from(since_epoch.subsec_nanos() > 0);
        let until = UNIX_EPOCH + Duration::from_secs(whole);
        self.shared.lock().plan = Plan::Throttle {
            retry_after: httpdate::fmt_http_date(until),
            until: Some(until),
        };
        until
    }

    /// Answer every push (and `/healthz`) with 503 and `Retry-After: <secs>` until fixed: a
    /// maintenance window the partner announces.
    pub fn maintenance(&self, retry_after_secs: u64) {
        self.shared.lock().plan = Plan::Maintenance {
            retry_after: retry_after_secs.to_string(),
        };
    }

    /// Back to normal behaviour (the rate limit, if configured, stays).
    pub fn fix(&self) {
        let mut inner = self.shared.lock();
        inner.plan = Plan::Normal;
        inner.records.clear_fault();
    }

    pub fn set_latency(&self, latency: Option<Duration>) {
        self.shared.lock().latency = latency;
    }

    /// Apply each document, then hold the answer for `delay` before sending it: with a delay
    /// beyond the client's timeout, the partner has applied a document whose answer the client
    /// never sees (the case replays must not double).
    pub fn set_answer_delay(&self, delay: Option<Duration>) {
        self.shared.lock().answer_delay = delay;
    }

    pub fn set_rate_limit(&self, limit: Option<RateLimit>) {
        self.shared.lock().bucket = limit.map(TokenBucket::new);
    }

    pub fn stats(&self) -> FakeStats {
        self.shared.lock().stats
    }

    /// Every delivery so far, in arrival order.
    pub fn deliveries(&self) -> Vec<Delivery> {
        self.shared.lock().deliveries.clone()
    }

    /// Applied documents, in the order their effect was applied.
    pub fn applied(&self) -> Vec<AppliedDocument> {
        self.shared.lock().applied.clone()
    }

    /// How many times the effect for `key` was applied (0 or 1 for a correct partner; the crash
    /// test asserts it through this rather than trusting the fake's design).
    pub fn times_applied(&self, key: &str) -> usize {
        self.shared
            .lock()
            .applied
            .iter()
            .filter(|d| d.idempotency_key == key)
            .count()
    }

    /// Deliveries per idempotency key (any outcome), to report redeliveries.
    pub fn delivery_counts(&self) -> HashMap<String, usize> {
        let inner = self.shared.lock();
        let mut counts = HashMap::new();
        for d in &inner.deliveries {
            if let Some(k) = &d.idempotency_key {
                *counts.entry(k.clone()).or_insert(0) += 1;
            }
        }
        counts
    }

    /// Forget deliveries, applied documents and counters (plan and rate limit stay).
    pub fn reset(&self) {
        let mut inner = self.shared.lock();
        inner.by_key.clear();
        inner.applied.clear();
        inner.deliveries.clear();
        inner.stats = FakeStats::default();
    }

    /// Stop accepting connections and wait (briefly) for the server task.
    pub async fn shutdown(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            // Keep-alive connections can hold a graceful shutdown open; do not wait for them.
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

impl Drop for FakePartner {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

/// An error answer, boxed so the `Result`s carrying it stay small.
type Refusal = Box<Response>;

fn error_response(
    status: StatusCode,
    code: &str,
    message: impl Into<String>,
    details: Option<Value>,
) -> Response {
    let body = json!({"error": {"code": code, "message": message.into(), "details": details}});
    (status, axum::Json(body)).into_response()
}

fn throttled(retry_after: &str, message: &str) -> Response {
    let mut response = error_response(StatusCode::TOO_MANY_REQUESTS, "rate_limited", message, None);
    if let Ok(v) = HeaderValue::from_str(retry_after) {
        response.headers_mut().insert(header::RETRY_AFTER, v);
    }
    response
}

fn under_maintenance(retry_after: &str) -> Response {
    let mut response = error_response(
        StatusCode::SERVICE_UNAVAILABLE,
        "maintenance",
        "down for scheduled maintenance",
        None,
    );
    if let Ok(v) = HeaderValue::from_str(retry_after) {
        response.headers_mut().insert(header::RETRY_AFTER, v);
    }
    response
}

fn plan_failure(status: StatusCode) -> Response {
    let (code, message) = match status.as_u16() {
        500..=599 => (
            "service_unavailable",
            "the service is temporarily unavailable",
        ),
        422 => ("unprocessable", "the document was rejected by the partner"),
        401 => ("unauthorized", "the credentials were refused"),
        403 => ("forbidden", "not allowed"),
        _ => ("failed", "request failed"),
    };
    error_response(status, code, message, None)
}

fn header_str<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

fn check_auth(shared: &Shared, headers: &HeaderMap) -> Result<(), Refusal> {
    if let Some(expected) = &shared.basic_header {
        return match header_str(headers, header::AUTHORIZATION.as_str()) {
            Some(value) if value == expected => Ok(()),
            presented => {
                let message = if presented.is_some() {
                    "invalid credentials"
                } else {
                    "missing credentials"
                };
                let mut r = error_response(StatusCode::UNAUTHORIZED, "unauthorized", message, None);
                r.headers_mut().insert(
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static("Basic realm=\"documents\""),
                );
                Err(Box::new(r))
            }
        };
    }
    let Some(token) = &shared.token else {
        return Ok(());
    };
    let refuse = |message: &str| {
        let mut r = error_response(StatusCode::UNAUTHORIZED, "unauthorized", message, None);
        r.headers_mut()
            .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        r
    };
    match header_str(headers, header::AUTHORIZATION.as_str()) {
        None => Err(Box::new(refuse("missing bearer token"))),
        Some(value) => match value.strip_prefix("Bearer ") {
            Some(presented) if presented == token => Ok(()),
            _ => Err(Box::new(refuse("invalid bearer token"))),
        },
    }
}

/// Rate limit and failure plan, in that order (a throttled client never reaches the service).
fn check_gate(inner: &mut Inner) -> Result<(), Refusal> {
    if let Some(bucket) = &mut inner.bucket {
        if let Err(wait) = bucket.take(Instant::now()) {
            inner.stats.throttled += 1;
            let secs = wait.as_secs_f64().ceil().max(1.0) as u64;
            return Err(Box::new(throttled(
                &secs.to_string(),
                "rate limit exceeded",
            )));
        }
    }
    match &mut inner.plan {
        Plan::Normal => Ok(()),
        Plan::Always { status } => Err(Box::new(plan_failure(*status))),
        Plan::Throttle {
            until: Some(until), ..
        } if *until <= SystemTime::now() => {
            inner.plan = Plan::Normal;
            Ok(())
        }
        Plan::Throttle { retry_after, .. } => {
            inner.stats.throttled += 1;
            Err(Box::new(throttled(retry_after, "too many requests")))
        }
        Plan::Maintenance { retry_after } => Err(Box::new(under_maintenance(retry_after))),
        Plan::FailNext { remaining, status } => {
            let status = *status;
            *remaining -= 1;
            if *remaining == 0 {
                inner.plan = Plan::Normal;
            }
            Err(Box::new(plan_failure(status)))
        }
    }
}

fn unix_ms(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// Checks that need no shared state: idempotency header, content type, body shape, required
/// fields. Returns the key and the parsed document.
fn validate(
    shared: &Shared,
    headers: &HeaderMap,
    body: &Value,
    body_error: Option<&str>,
) -> Result<String, Refusal> {
    let key = match header_str(headers, IDEMPOTENCY_HEADER) {
        Some(k) if !k.trim().is_empty() => k.to_owned(),
        _ => {
            return Err(Box::new(error_response(
                StatusCode::BAD_REQUEST,
                "idempotency_key_required",
                "the Idempotency-Key header is required",
                None,
            )))
        }
    };
    let json_type = header_str(headers, header::CONTENT_TYPE.as_str()).is_some_and(|t| {
        t.split(';')
            .next()
            .is_some_and(|m| m.trim().eq_ignore_ascii_case("application/json"))
    });
    if !json_type {
        return Err(Box::new(error_response(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "documents must be sent as application/json",
            None,
        )));
    }
    if let Some(e) = body_error {
        return Err(Box::new(error_response(
            StatusCode::BAD_REQUEST,
            "invalid_json",
            format!("body is not valid JSON: {e}"),
            None,
        )));
    }
    let Some(object) = body.as_object() else {
        return Err(Box::new(error_response(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_document",
            "the document must be a JSON object",
            None,
        )));
    };
    let missing: Vec<&str> = shared
        .required_fields
        .iter()
        .filter(|f| object.get(f.as_str()).is_none_or(Value::is_null))
        .map(String::as_str)
        .collect();
    if !missing.is_empty() {
        let mut message = format!("missing required fields: {}", missing.join(", "));
        let mut details = json!({ "missing": missing });
        if shared.echo_credentials {
            let received = header_str(headers, header::AUTHORIZATION.as_str()).unwrap_or("");
            message.push_str(&format!(" (request authorized as `{received}`)"));
            details["received_authorization"] = Value::from(received);
        }
        return Err(Box::new(error_response(
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
            message,
            Some(details),
        )));
    }
    Ok(key)
}

async fn push_document(
    State(shared): State<Arc<Shared>>,
    method: Method,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let latency = shared.lock().latency;
    if let Some(latency) = latency {
        tokio::time::sleep(latency).await;
    }
    let received_at = SystemTime::now();
    // Parse outside the lock: it is the most expensive step.
    let (body, body_error) = match serde_json::from_slice::<Value>(&body) {
        Ok(v) => (v, None),
        Err(e) => (
            Value::String(String::from_utf8_lossy(&body).into_owned()),
            Some(e.to_string()),
        ),
    };
    let raw_key = header_str(&headers, IDEMPOTENCY_HEADER).map(str::to_owned);
    let correlation_id = header_str(&headers, "x-correlation-id").map(str::to_owned);
    let header_list: Vec<(String, String)> = headers
        .iter()
        .map(|(n, v)| {
            (
                n.as_str().to_owned(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect();

    // The lock is held in this block only: never across the answer delay's await.
    let (response, answer_delay) = {
        let mut inner = shared.lock();
        let inner = &mut *inner;
        let decided: Result<(String, Option<StoredResponse>), Refusal> =
            check_auth(&shared, &headers)
                .and_then(|()| check_gate(inner))
                .and_then(|()| validate(&shared, &headers, &body, body_error.as_deref()))
                .map(|key| {
                    let stored = inner.by_key.get(&key).cloned();
                    (key, stored)
                });

        let (response, outcome) = match decided {
            Err(response) => (*response, DeliveryOutcome::Rejected),
            Ok((_, Some(stored))) if stored.request != body => (
                error_response(
                    StatusCode::CONFLICT,
                    "idempotency_key_reused",
                    "this idempotency key was already used with a different document",
                    None,
                ),
                DeliveryOutcome::Rejected,
            ),
            Ok((_, Some(stored))) => {
                let mut r = (stored.status, axum::Json(stored.body)).into_response();
                r.headers_mut()
                    .insert(REPLAYED_HEADER, HeaderValue::from_static("true"));
                (r, DeliveryOutcome::Replayed)
            }
            Ok((key, None)) => {
                let id = format!("doc_{:06}", inner.applied.len() + 1);
                let status = if method == Method::PUT {
                    StatusCode::OK
                } else {
                    StatusCode::CREATED
                };
                let response_body = json!({"id": id, "status": "accepted", "idempotency_key": key});
                inner.applied.push(AppliedDocument {
                    id,
                    idempotency_key: key.clone(),
                    body: body.clone(),
                    applied_at: received_at,
                });
                inner.by_key.insert(
                    key,
                    StoredResponse {
                        status,
                        body: response_body.clone(),
                        request: body.clone(),
                    },
                );
                inner.stats.applied += 1;
                (
                    (status, axum::Json(response_body)).into_response(),
                    DeliveryOutcome::Applied,
                )
            }
        };
        inner.stats.deliveries += 1;
        match outcome {
            DeliveryOutcome::Rejected => inner.stats.rejected += 1,
            DeliveryOutcome::Replayed => inner.stats.duplicates += 1,
            DeliveryOutcome::Applied => {}
        }
        inner.deliveries.push(Delivery {
            method: method.to_string(),
            idempotency_key: raw_key,
            correlation_id,
            headers: header_list,
            body,
            received_at,
            status: response.status().as_u16(),
            outcome,
        });
        (response, inner.answer_delay)
    };
    if let Some(delay) = answer_delay {
        tokio::time::sleep(delay).await;
    }
    response
}

#[derive(Debug, Deserialize)]
struct ListQuery {
    cursor: Option<String>,
    limit: Option<String>,
}

/// Cursors are opaque to clients; here `o<offset>` into the applied list.
fn parse_cursor(cursor: Option<&str>) -> Result<usize, Refusal> {
    match cursor {
        None | Some("") => Ok(0),
        Some(c) => c
            .strip_prefix('o')
            .and_then(|n| n.parse().ok())
            .ok_or_else(|| {
                Box::new(error_response(
                    StatusCode::BAD_REQUEST,
                    "invalid_cursor",
                    format!("cursor `{c}` is not valid"),
                    None,
                ))
            }),
    }
}

async fn list_documents(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    query: Result<Query<ListQuery>, QueryRejection>,
) -> Response {
    let latency = shared.lock().latency;
    if let Some(latency) = latency {
        tokio::time::sleep(latency).await;
    }
    if let Err(r) = check_auth(&shared, &headers) {
        return *r;
    }
    let query = match query {
        Ok(Query(q)) => q,
        Err(e) => {
            return error_response(
                StatusCode::BAD_REQUEST,
                "invalid_query",
                e.body_text(),
                None,
            )
        }
    };
    let limit = match query.limit.as_deref().map(str::parse::<usize>) {
        None => DEFAULT_PAGE_SIZE,
        Some(Ok(n)) if (1..=MAX_PAGE_SIZE).contains(&n) => n,
        _ => {
            return error_response(
                StatusCode::BAD_REQUEST,
                "invalid_limit",
                format!("limit must be between 1 and {MAX_PAGE_SIZE}"),
                None,
            )
        }
    };
    let offset = match parse_cursor(query.cursor.as_deref()) {
        Ok(o) => o,
        Err(r) => return *r,
    };
    let mut inner = shared.lock();
    if let Some(bucket) = &mut inner.bucket {
        if let Err(wait) = bucket.take(Instant::now()) {
            let secs = wait.as_secs_f64().ceil().max(1.0) as u64;
            return throttled(&secs.to_string(), "rate limit exceeded");
        }
    }
    let total = inner.applied.len();
    let page: Vec<Value> = inner
        .applied
        .iter()
        .skip(offset)
        .take(limit)
        .map(|d| {
            json!({
                "id": d.id,
                "idempotency_key": d.idempotency_key,
                "document": d.body,
                "applied_at_ms": unix_ms(d.applied_at),
            })
        })
        .collect();
    let end = offset.saturating_add(page.len());
    let next_cursor = (end < total).then(|| format!("o{end}"));
    axum::Json(json!({"data": page, "next_cursor": next_cursor})).into_response()
}

async fn health(State(shared): State<Arc<Shared>>) -> Response {
    let plan = shared.lock().plan.clone();
    match plan {
        Plan::Always { status } if status.is_server_error() => plan_failure(status),
        Plan::Maintenance { retry_after } => under_maintenance(&retry_after),
        _ => axum::Json(json!({"status": "ok"})).into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bucket_allows_burst_then_refuses_with_wait() {
        let mut b = TokenBucket::new(RateLimit {
            burst: 2,
            per_second: 4.0,
        });
        let t = b.last;
        assert!(b.take(t).is_ok());
        assert!(b.take(t).is_ok());
        let wait = b.take(t).unwrap_err();
        assert_eq!(wait, Duration::from_millis(250));
        assert!(b.take(t + Duration::from_millis(250)).is_ok());
    }

    #[test]
    fn cursors_round_trip_and_bad_ones_are_refused() {
        assert_eq!(parse_cursor(None).ok(), Some(0));
        assert_eq!(parse_cursor(Some("o42")).ok(), Some(42));
        assert!(parse_cursor(Some("42")).is_err());
    }
}
