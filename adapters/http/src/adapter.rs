//! The HTTP adapter: one configured partner endpoint, sharing the factory's connection pool.
//!
//! Every request goes through `HttpAdapter::exchange`, which times it, opens a tracing span,
//! classifies the outcome and reports one [`Exchange`] to the context's sink — so no code path
//! can talk to the partner without leaving a log row. With `rate_limit` configured, each
//! request first waits for the partner's [`Pacer`], and a 429 with `Retry-After` pauses every
//! request to the partner and is sent again after the pause (a bounded number of times).

use crate::config::{HttpAdapterConfig, ValidatedConfig};
use crate::pacing::Pacer;
use crate::retry_after::parse_retry_after;
use async_trait::async_trait;
use reqwest::header::{HeaderMap, HeaderValue, CONTENT_TYPE, RETRY_AFTER};
use reqwest::{Method, StatusCode, Url};
use serde_json::Value;
use std::fmt;
use std::time::{Duration, Instant, SystemTime};
use switchyard_core::adapter::{
    Adapter, AdapterContext, Capability, ConfigError, Direction, Exchange, OutboundDocument,
    Payload, PullPage, PullRequest, PushReceipt, SecretResolver, VerifiedWebhook,
};
use switchyard_core::ids::PartnerName;
use switchyard_core::{AdapterError, ErrorClass};
use tracing::Instrument as _;

/// The header a partner sets when it answered from its idempotency store.
pub const REPLAYED_HEADER: &str = "idempotent-replayed";
pub const CORRELATION_HEADER: &str = "x-correlation-id";

/// Response bodies larger than this are cut in the exchange record (the log row), not in what
/// the adapter parses.
const LOG_BODY_LIMIT: usize = 64 * 1024;

/// A generic HTTP/JSON endpoint.
pub struct HttpAdapter {
    partner: PartnerName,
    config: ValidatedConfig,
    client: reqwest::Client,
    capabilities: Vec<Capability>,
    /// The partner's limiter and pause, shared by every request this adapter sends (one
    /// adapter per partner per process).
    pacer: Option<Pacer>,
}

impl fmt::Debug for HttpAdapter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // ValidatedConfig's Debug already redacts the auth header and static header values.
        f.debug_struct("HttpAdapter")
            .field("partner", &self.partner)
            .field("config", &self.config)
            .field("pacer", &self.pacer)
            .finish_non_exhaustive()
    }
}

/// What came back from the partner, read in full.
struct RawResponse {
    status: StatusCode,
    headers: HeaderMap,
    body: Vec<u8>,
    json: Option<Value>,
}

/// What came of one request.
enum Attempt<T> {
    Done(Result<T, AdapterError>),
    /// Refused with a 429 the partner's pause covers: send it again once the pause is over.
    Again,
}

/// A request about to be sent.
struct Outgoing {
    event: String,
    method: Method,
    url: Url,
    /// Body bytes and content type.
    body: Option<(String, Vec<u8>)>,
    /// What the exchange record shows as the request body.
    log_body: Option<Value>,
    idempotency_key: Option<String>,
}

impl HttpAdapter {
    /// Parse, validate and build in one step (what the factory does).
    pub fn from_json(
        partner: &PartnerName,
        config: &Value,
        secrets: &dyn SecretResolver,
        client: reqwest::Client,
    ) -> Result<Self, ConfigError> {
        let parsed = HttpAdapterConfig::from_json(partner, config)?;
        let validated = parsed.validate(partner, secrets)?;
        Ok(Self::new(partner.clone(), validated, client))
    }

    pub fn new(partner: PartnerName, config: ValidatedConfig, client: reqwest::Client) -> Self {
        let mut capabilities = vec![Capability::HealthCheck];
        capabilities.extend(Capability::PUSH);
        if config.pull_url.is_some() {
            capabilities.extend(Capability::PULL);
        }
        if config.webhooks.is_some() {
            capabilities.push(Capability::ReceiveWebhooks);
        }
        let pacer = config.rate_limit.map(Pacer::new);
        Self {
            partner,
            config,
            client,
            capabilities,
            pacer,
        }
    }

    pub fn partner(&self) -> &PartnerName {
        &self.partner
    }

    pub fn config(&self) -> &ValidatedConfig {
        &self.config
    }

    /// The partner's pacer, when `rate_limit` is configured.
    pub fn pacer(&self) -> Option<&Pacer> {
        self.pacer.as_ref()
    }

    /// Send `out` (paced, when configured), sending it again after a 429's pause while the
    /// pacer's retries last.
    async fn exchange<T>(
        &self,
        ctx: &AdapterContext,
        out: Outgoing,
        interpret: impl Fn(&RawResponse) -> Result<T, AdapterError>,
    ) -> Result<T, AdapterError> {
        let mut retry = 0;
        loop {
            let waited = match &self.pacer {
                Some(pacer) => pacer.admit().await,
                None => Duration::ZERO,
            };
            match self
                .exchange_once(ctx, &out, &interpret, waited, retry)
                .await
            {
                Attempt::Done(result) => return result,
                Attempt::Again => retry += 1,
            }
        }
    }

    /// One request: timed, in its span, reported to the sink as one exchange.
    async fn exchange_once<T>(
        &self,
        ctx: &AdapterContext,
        out: &Outgoing,
        interpret: &impl Fn(&RawResponse) -> Result<T, AdapterError>,
        waited: Duration,
        retry: u32,
    ) -> Attempt<T> {
        let span = tracing::info_span!(
            "partner_exchange",
            partner = %self.partner,
            event = %out.event,
            method = %out.method,
            url = %out.url,
            attempt = ctx.attempt,
            correlation_id = %ctx.correlation_id,
            retry,
            waited_ms = waited.as_millis() as u64,
            status = tracing::field::Empty,
            duration_ms = tracing::field::Empty,
        );
        let started = Instant::now();
        let sent = self.send(ctx, out).instrument(span.clone()).await;
        let duration = started.elapsed();

        let (response_status, response_body, result) = match sent {
            Ok(raw) => {
                let result = interpret(&raw);
                (Some(raw.status.as_u16()), Some(log_body(&raw)), result)
            }
            Err(e) => (None, None, Err(e)),
        };
        let again = match &result {
            Err(e) => self.hold_partner(e, retry),
            Ok(_) => None,
        };
        // The log row of a refused request says what the adapter does next.
        let error = result.as_ref().err().map(|e| match again {
            Some(pause) => format!(
                "{e}; every request to `{}` waits {} ms (the partner's Retry-After), then retry {} of {}",
                self.partner,
                pause.as_millis(),
                retry + 1,
                self.pacer.as_ref().map_or(0, |p| p.settings().retries),
            ),
            None => e.to_string(),
        });

        span.record("duration_ms", duration.as_millis() as u64);
        if let Some(s) = response_status {
            span.record("status", s);
        }
        span.in_scope(|| match (&result, &error) {
            (Ok(_), _) => tracing::debug!("partner exchange succeeded"),
            (Err(_), Some(message)) if again.is_some() => {
                tracing::info!(error = %message, "partner asked to slow down; pausing it")
            }
            (Err(e), _) => tracing::warn!(error = %e, "partner exchange failed"),
        });

        ctx.sink.record(
            ctx,
            Exchange {
                partner: self.partner.clone(),
                event: out.event.clone(),
                direction: Direction::Outbound,
                method: Some(out.method.to_string()),
                url: Some(out.url.to_string()),
                request_body: out.log_body.clone(),
                response_status,
                response_body,
                duration,
                error,
            },
        );
        match again {
            Some(_) => Attempt::Again,
            None => Attempt::Done(result),
        }
    }

    /// On a 429 with a `Retry-After` the pacer may wait out, pause every request to the
    /// partner until then; the pause, if this request is to be sent again after it. Without
    /// a pacer, or for a longer wait, the job gets `RateLimited` and the queue brings it back
    /// when the partner said (a worker is not held for minutes).
    fn hold_partner(&self, e: &AdapterError, retry: u32) -> Option<Duration> {
        let pacer = self.pacer.as_ref()?;
        let ErrorClass::RateLimited {
            retry_after: Some(wait),
        } = e.class
        else {
            return None;
        };
        if wait > pacer.settings().max_wait {
            return None;
        }
        // Held even when this request has no retries left: the others would only be refused.
        pacer.pause_until(tokio::time::Instant::now() + wait);
        (retry < pacer.settings().retries).then_some(wait)
    }

    async fn send(
        &self,
        ctx: &AdapterContext,
        out: &Outgoing,
    ) -> Result<RawResponse, AdapterError> {
        let mut request = self
            .client
            .request(out.method.clone(), out.url.clone())
            .timeout(self.config.timeout)
            .headers(self.config.headers.clone());
        if let Some((name, value)) = self.config.auth.header() {
            request = request.header(name, value);
        }
        if let Ok(value) = HeaderValue::from_str(&ctx.correlation_id) {
            request = request.header(CORRELATION_HEADER, value);
        }
        if let Some(key) = &out.idempotency_key {
            let value = HeaderValue::from_str(key).map_err(|_| {
                AdapterError::permanent(format!(
                    "idempotency key `{key}` cannot be sent as a header"
                ))
            })?;
            request = request.header(&self.config.idempotency_header, value);
        }
        if let Some((content_type, body)) = &out.body {
            request = request
                .header(CONTENT_TYPE, content_type.as_str())
                .body(body.clone());
        }

        let response = request.send().await.map_err(|e| self.transport_error(&e))?;
        let status = response.status();
        let headers = response.headers().clone();
        let body = response
            .bytes()
            .await
            .map_err(|e| self.transport_error(&e))?
            .to_vec();
        let json = serde_json::from_slice(&body).ok();
        Ok(RawResponse {
            status,
            headers,
            body,
            json,
        })
    }

    /// Errors before a status arrived: the request may or may not have reached the partner,
    /// which is exactly what the idempotency key makes safe to retry.
    fn transport_error(&self, e: &reqwest::Error) -> AdapterError {
        let detail = error_chain(e);
        if e.is_timeout() {
            AdapterError::transient(format!(
                "no answer within {} ms: {detail}",
                self.config.timeout.as_millis()
            ))
        } else if e.is_connect() {
            AdapterError::transient(format!("cannot connect: {detail}"))
        } else if e.is_builder() {
            AdapterError::permanent(format!("cannot build the request: {detail}"))
        } else {
            AdapterError::transient(format!("request failed: {detail}"))
        }
    }
}

/// Turn a non-2xx response into a classified error carrying the partner's own message.
fn status_error(raw: &RawResponse) -> AdapterError {
    let status = raw.status.as_u16();
    let retry_after = raw
        .headers
        .get(RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| parse_retry_after(v, SystemTime::now()));
    let message = format!("partner answered {status}: {}", partner_message(raw));
    AdapterError::from_http_status(status, retry_after, message)
}

/// The partner's error message: `{"error":{"message"}}`, `{"error":"..."}`, `{"message"}`, or
/// the start of the raw body.
fn partner_message(raw: &RawResponse) -> String {
    if raw.status.is_redirection() {
        if let Some(location) = raw
            .headers
            .get(reqwest::header::LOCATION)
            .and_then(|v| v.to_str().ok())
        {
            return format!("redirected to `{location}` (redirects are not followed; update base_url or the path)");
        }
    }
    if let Some(json) = &raw.json {
        let error = json.get("error");
        let candidates = [
            error.and_then(|e| e.get("message")),
            error.filter(|e| e.is_string()),
            json.get("message"),
            json.get("detail"),
        ];
        if let Some(Value::String(m)) = candidates.into_iter().flatten().next() {
            return match error
                .and_then(|e| e.get("details"))
                .filter(|d| !d.is_null())
            {
                Some(details) => format!("{m} ({details})"),
                None => m.clone(),
            };
        }
    }
    let text = String::from_utf8_lossy(&raw.body);
    let text = text.trim();
    if text.is_empty() {
        raw.status
            .canonical_reason()
            .unwrap_or("no body")
            .to_lowercase()
    } else {
        truncate(text, 500)
    }
}

fn truncate(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_owned();
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &text[..end])
}

/// What the exchange record shows as the response body: JSON as is, other text as a string,
/// either cut at [`LOG_BODY_LIMIT`].
fn log_body(raw: &RawResponse) -> Value {
    match &raw.json {
        Some(json) if raw.body.len() <= LOG_BODY_LIMIT => json.clone(),
        _ => Value::String(truncate(
            &String::from_utf8_lossy(&raw.body),
            LOG_BODY_LIMIT,
        )),
    }
}

fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

fn external_id(json: Option<&Value>) -> Option<String> {
    match json?.get("id")? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// Turn the pull request's params into query pairs; only scalars have an obvious encoding.
fn query_params(params: &Value) -> Result<Vec<(String, String)>, AdapterError> {
    let map = match params {
        Value::Null => return Ok(Vec::new()),
        Value::Object(map) => map,
        other => {
            return Err(AdapterError::permanent(format!(
                "pull params must be an object, found {other}"
            )))
        }
    };
    map.iter()
        .filter(|(_, v)| !v.is_null())
        .map(|(k, v)| match v {
            Value::String(s) => Ok((k.clone(), s.clone())),
            Value::Number(n) => Ok((k.clone(), n.to_string())),
            Value::Bool(b) => Ok((k.clone(), b.to_string())),
            _ => Err(AdapterError::permanent(format!(
                "pull param `{k}` must be a string, number or boolean"
            ))),
        })
        .collect()
}

fn parse_page(raw: &RawResponse) -> Result<PullPage, AdapterError> {
    let status = raw.status.as_u16();
    let malformed = |what: &str| {
        AdapterError::permanent(format!("partner page is malformed: {what}")).with_status(status)
    };
    let json = raw
        .json
        .as_ref()
        .ok_or_else(|| malformed("body is not JSON"))?;
    let records = match json.get("data") {
        Some(Value::Array(items)) => items.clone(),
        Some(_) => return Err(malformed("`data` is not an array")),
        None => return Err(malformed("`data` is missing")),
    };
    let next_cursor = match json.get("next_cursor") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) if s.is_empty() => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(Value::Number(n)) => Some(n.to_string()),
        Some(_) => return Err(malformed("`next_cursor` is not a string")),
    };
    Ok(PullPage {
        records,
        next_cursor,
    })
}

#[async_trait]
impl Adapter for HttpAdapter {
    fn kind(&self) -> &'static str {
        crate::config::KIND
    }

    fn capabilities(&self) -> &[Capability] {
        &self.capabilities
    }

    async fn health(&self, ctx: &AdapterContext) -> Result<(), AdapterError> {
        let out = Outgoing {
            event: "health".to_owned(),
            method: Method::GET,
            url: self.config.health_url.clone(),
            body: None,
            log_body: None,
            idempotency_key: None,
        };
        self.exchange(ctx, out, |raw| {
            if raw.status.is_success() {
                Ok(())
            } else {
                Err(status_error(raw))
            }
        })
        .await
    }

    async fn push(
        &self,
        ctx: &AdapterContext,
        doc: &OutboundDocument,
    ) -> Result<PushReceipt, AdapterError> {
        let (body, log_body) = match &doc.payload {
            Payload::Json { body } => {
                let bytes = serde_json::to_vec(body).map_err(|e| {
                    AdapterError::permanent(format!("cannot encode the document as JSON: {e}"))
                })?;
                (("application/json".to_owned(), bytes), body.clone())
            }
            Payload::Text { content_type, body } => (
                (content_type.clone(), body.as_bytes().to_vec()),
                Value::String(body.clone()),
            ),
        };
        let out = Outgoing {
            event: format!("{}.push", doc.document),
            method: self.config.method.as_method(),
            url: self.config.push_url.clone(),
            body: Some(body),
            log_body: Some(log_body),
            idempotency_key: Some(ctx.idempotency_key.clone()),
        };
        self.exchange(ctx, out, |raw| {
            if !raw.status.is_success() {
                return Err(status_error(raw));
            }
            let duplicate = raw
                .headers
                .get(REPLAYED_HEADER)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v.trim().eq_ignore_ascii_case("true"));
            Ok(PushReceipt {
                status: raw.status.as_u16(),
                external_id: external_id(raw.json.as_ref()),
                duplicate,
            })
        })
        .await
    }

    async fn pull(
        &self,
        ctx: &AdapterContext,
        request: &PullRequest,
    ) -> Result<PullPage, AdapterError> {
        let Some(base) = &self.config.pull_url else {
            return Err(AdapterError::permanent(format!(
                "partner `{}` has no pull_path configured",
                self.partner
            )));
        };
        let mut url = base.clone();
        {
            let params = query_params(&request.params)?;
            let mut pairs = url.query_pairs_mut();
            for (k, v) in &params {
                pairs.append_pair(k, v);
            }
            if let Some(cursor) = &request.cursor {
                pairs.append_pair("cursor", cursor);
            }
        }
        if url.query() == Some("") {
            url.set_query(None);
        }
        let out = Outgoing {
            event: format!("{}.pull", request.entity),
            method: Method::GET,
            url,
            body: None,
            log_body: None,
            idempotency_key: None,
        };
        self.exchange(ctx, out, |raw| {
            if raw.status.is_success() {
                parse_page(raw)
            } else {
                Err(status_error(raw))
            }
        })
        .await
    }

    /// Standard Webhooks: `webhook-id`, `webhook-timestamp` and `webhook-signature` over the
    /// raw body, with the configured secret and tolerance. The body is one JSON event; its
    /// `type` (when present) names the document.
    async fn receive_webhook(
        &self,
        _ctx: &AdapterContext,
        headers: &[(String, String)],
        body: &[u8],
    ) -> Result<VerifiedWebhook, AdapterError> {
        let Some(webhooks) = &self.config.webhooks else {
            return Err(AdapterError::permanent(format!(
                "partner `{}` has no [webhooks] configured",
                self.partner
            )));
        };
        crate::webhook::receive(&webhooks.key, webhooks.tolerance, headers, body)
    }
}
