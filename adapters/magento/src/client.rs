//! Magento's REST API over HTTP: routes under `{base_url}/rest/{store_code}/`, the three auth
//! modes, the admin token cache, every request one [`Exchange`] and one tracing span, and
//! Magento's answers turned into [`AdapterError`] classes:
//!
//! * 400 (validation) and other 4xx: permanent, the rendered `%1` message and the field named;
//! * 401/403: auth (an admin token is minted again once first);
//! * 429: rate limited with the `Retry-After` (Adobe Commerce Cloud's edge throttles);
//! * 5xx, timeouts, connection failures: transient.

use crate::config::{Auth, Settings};
use crate::errors::{parse_body, MagentoMessage};
use crate::search::{pages, SearchCriteria};
use crate::secret::Secret;
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE};
use reqwest::{Method, Url};
use serde_json::{json, Value};
use std::time::{Duration, Instant, SystemTime};
use switchyard_core::adapter::{AdapterContext, Direction, Exchange};
use switchyard_core::ids::PartnerName;
use switchyard_core::AdapterError;
use switchyard_runtime::partner_http::{retry_after, transport_error};
use tracing::Instrument as _;

/// The header carrying the job's idempotency key. Magento ignores it; the fake store counts
/// applied writes by it, and it ties a store's access log to our job.
pub const IDEMPOTENCY_HEADER: &str = "Idempotency-Key";
pub const ADMIN_TOKEN_ROUTE: &str = "V1/integration/admin/token";

/// A minted admin token and when it was minted.
#[derive(Clone, Debug)]
struct AdminToken {
    value: Secret,
    minted: Instant,
}

/// Whether a token minted `age` ago must be minted again: Magento ends it after `lifetime`, and
/// a request sent at the last second would meet a 401, so a new one is minted a tenth of the
/// lifetime (at most five minutes) before the end.
pub fn needs_mint(age: Duration, lifetime: Duration) -> bool {
    let margin = (lifetime / 10).min(Duration::from_secs(300));
    age + margin >= lifetime
}

/// A successful answer, read in full.
#[derive(Debug, Clone)]
pub struct Answer {
    pub status: u16,
    pub body: Value,
}

/// A request to send.
pub struct Call<'a> {
    pub event: &'a str,
    pub method: Method,
    /// Relative to the store's REST root, path segments already encoded: `V1/products/A%2F1`.
    pub route: String,
    pub query: Vec<(String, String)>,
    pub body: Option<Value>,
}

impl<'a> Call<'a> {
    pub fn new(event: &'a str, method: Method, route: impl Into<String>) -> Self {
        Self {
            event,
            method,
            route: route.into(),
            query: Vec::new(),
            body: None,
        }
    }

    pub fn body(mut self, body: Value) -> Self {
        self.body = Some(body);
        self
    }

    pub fn query(mut self, query: Vec<(String, String)>) -> Self {
        self.query = query;
        self
    }
}

/// One page of a list endpoint: `{"items": [...], "total_count": N}`.
#[derive(Debug, Clone, PartialEq)]
pub struct ListPage {
    pub items: Vec<Value>,
    pub total_count: u64,
}

pub struct Client {
    partner: PartnerName,
    settings: Settings,
    http: reqwest::Client,
    admin: tokio::sync::Mutex<Option<AdminToken>>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("partner", &self.partner)
            .field("rest_url", &self.settings.rest_url.as_str())
            .field("auth", &self.settings.auth.mode())
            .finish_non_exhaustive()
    }
}

/// A path segment (a SKU) encoded so `/`, `#`, `?`, spaces and `%` reach Magento inside one
/// segment (`A/1` → `A%2F1`).
pub fn segment(s: &str) -> String {
    crate::oauth::encode(s)
}

impl Client {
    pub fn new(partner: PartnerName, settings: Settings, http: reqwest::Client) -> Self {
        Self {
            partner,
            settings,
            http,
            admin: tokio::sync::Mutex::new(None),
        }
    }

    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    pub fn partner(&self) -> &PartnerName {
        &self.partner
    }

    fn url(&self, route: &str, query: &[(String, String)]) -> Result<Url, AdapterError> {
        let mut url = self
            .settings
            .rest_url
            .join(route)
            .map_err(|e| AdapterError::permanent(format!("route `{route}`: {e}")))?;
        if !query.is_empty() {
            url.query_pairs_mut().extend_pairs(query);
        }
        Ok(url)
    }

    /// Send `call`; a 401 with an admin token mints a new one and sends the call once more.
    /// Only the first of many concurrent writes refused with the same token mints: the others
    /// find the cached token changed and use the new one (one re-mint, not one per write).
    pub async fn send(&self, ctx: &AdapterContext, call: Call<'_>) -> Result<Answer, AdapterError> {
        let url = self.url(&call.route, &call.query)?;
        let (first, used) = self.send_once(ctx, &call, &url, None).await;
        match (&self.settings.auth, &first, used) {
            (Auth::Admin { .. }, Err(e), Some(refused)) if e.status == Some(401) => {
                tracing::info!(partner = %self.partner, "admin token refused; minting a new one unless another write did");
                self.send_once(ctx, &call, &url, Some(&refused)).await.0
            }
            _ => first,
        }
    }

    /// The value of the Authorization header for this request, and the admin token in it.
    /// `refused`: the admin token the store refused; a cached token still equal to it is
    /// minted again, a different one (minted meanwhile by a concurrent write) is used.
    async fn authorization(
        &self,
        ctx: &AdapterContext,
        method: &Method,
        url: &Url,
        refused: Option<&Secret>,
    ) -> Result<(String, Option<Secret>), AdapterError> {
        match &self.settings.auth {
            Auth::IntegrationToken(token) => Ok((format!("Bearer {}", token.expose()), None)),
            Auth::Oauth(creds) => {
                let now = SystemTime::now()
                    .duration_since(SystemTime::UNIX_EPOCH)
                    .map(|d| d.as_secs())
                    .unwrap_or_default();
                Ok((
                    crate::oauth::authorization(
                        creds,
                        method.as_str(),
                        url,
                        &crate::oauth::nonce(),
                        now,
                    ),
                    None,
                ))
            }
            Auth::Admin {
                username,
                password,
                lifetime,
            } => {
                // One mint at a time: sixteen writes meeting an expired token mint one token.
                let mut cached = self.admin.lock().await;
                let usable = cached.as_ref().filter(|t| {
                    !needs_mint(t.minted.elapsed(), *lifetime)
                        && refused.is_none_or(|r| r.expose() != t.value.expose())
                });
                let token = match usable {
                    Some(t) => t.value.clone(),
                    None => {
                        let value = self.mint(ctx, username, password).await?;
                        *cached = Some(AdminToken {
                            value: value.clone(),
                            minted: Instant::now(),
                        });
                        value
                    }
                };
                Ok((format!("Bearer {}", token.expose()), Some(token)))
            }
        }
    }

    /// `POST /V1/integration/admin/token` → the token as a bare JSON string.
    async fn mint(
        &self,
        ctx: &AdapterContext,
        username: &Secret,
        password: &Secret,
    ) -> Result<Secret, AdapterError> {
        let url = self.url(ADMIN_TOKEN_ROUTE, &[])?;
        let body = json!({"username": username.expose(), "password": password.expose()});
        let started = Instant::now();
        let sent = self
            .http
            .post(url.clone())
            .timeout(self.settings.timeout)
            .json(&body)
            .send()
            .await;
        let (status, result) = match sent {
            Err(e) => (
                None,
                Err(transport_error("Magento", &e, self.settings.timeout)),
            ),
            Ok(response) => {
                let status = response.status().as_u16();
                let retry_after = retry_after(response.headers());
                let bytes = response.bytes().await.unwrap_or_default();
                let result = if (200..300).contains(&status) {
                    match serde_json::from_slice::<String>(&bytes) {
                        Ok(token) if !token.is_empty() => Ok(Secret::new(token)),
                        _ => Err(AdapterError::permanent(
                            "the admin token answer is not a JSON string",
                        )
                        .with_status(status)),
                    }
                } else {
                    Err(classify(status, retry_after, &parse_body(&bytes))
                        .prefixed("minting the admin token"))
                };
                (Some(status), result)
            }
        };
        ctx.sink.record(
            ctx,
            Exchange {
                partner: self.partner.clone(),
                event: "magento.admin_token".into(),
                direction: Direction::Outbound,
                method: Some("POST".into()),
                url: Some(url.to_string()),
                // The credentials and the token never reach a log row.
                request_body: Some(json!({"username": "<redacted>", "password": "<redacted>"})),
                response_status: status,
                response_body: result.as_ref().ok().map(|_| json!("<redacted token>")),
                duration: started.elapsed(),
                error: result.as_ref().err().map(ToString::to_string),
            },
        );
        result
    }

    async fn send_once(
        &self,
        ctx: &AdapterContext,
        call: &Call<'_>,
        url: &Url,
        refused: Option<&Secret>,
    ) -> (Result<Answer, AdapterError>, Option<Secret>) {
        let span = tracing::info_span!(
            "magento_exchange",
            partner = %self.partner,
            event = call.event,
            method = %call.method,
            url = %url,
            status = tracing::field::Empty,
        );
        let started = Instant::now();
        let (auth, token) = match self.authorization(ctx, &call.method, url, refused).await {
            Ok(a) => a,
            Err(e) => return (Err(e), None),
        };
        let mut request = self
            .http
            .request(call.method.clone(), url.clone())
            .timeout(self.settings.timeout)
            .header(AUTHORIZATION, auth)
            .header(IDEMPOTENCY_HEADER, &ctx.idempotency_key);
        if let Some(body) = &call.body {
            request = request
                .header(CONTENT_TYPE, "application/json")
                .body(serde_json::to_vec(body).unwrap_or_default());
        }
        let sent = request.send().instrument(span.clone()).await;
        let (status, response_body, result) = match sent {
            Err(e) => (
                None,
                None,
                Err(transport_error("Magento", &e, self.settings.timeout)),
            ),
            Ok(response) => {
                let status = response.status().as_u16();
                let retry = retry_after(response.headers());
                match response.bytes().await {
                    Err(e) => (
                        Some(status),
                        None,
                        Err(transport_error("Magento", &e, self.settings.timeout)),
                    ),
                    Ok(bytes) => {
                        let json: Value = serde_json::from_slice(&bytes).unwrap_or_else(|_| {
                            Value::String(String::from_utf8_lossy(&bytes).into_owned())
                        });
                        let result = if (200..300).contains(&status) {
                            Ok(Answer {
                                status,
                                body: json.clone(),
                            })
                        } else {
                            Err(classify(status, retry, &parse_body(&bytes)))
                        };
                        (Some(status), Some(json), result)
                    }
                }
            }
        };
        if let Some(s) = status {
            span.record("status", s);
        }
        if let Err(e) = &result {
            span.in_scope(|| tracing::warn!(error = %e, "magento exchange failed"));
        }
        ctx.sink.record(
            ctx,
            Exchange {
                partner: self.partner.clone(),
                event: call.event.to_owned(),
                direction: Direction::Outbound,
                method: Some(call.method.to_string()),
                url: Some(url.to_string()),
                request_body: call.body.clone(),
                response_status: status,
                response_body,
                duration: started.elapsed(),
                error: result.as_ref().err().map(ToString::to_string),
            },
        );
        (result, token)
    }

    /// One page of a list endpoint (`V1/products`, `V1/orders`, ...).
    pub async fn list(
        &self,
        ctx: &AdapterContext,
        route: &str,
        criteria: &SearchCriteria,
    ) -> Result<ListPage, AdapterError> {
        let answer = self
            .send(
                ctx,
                Call::new("magento.list", Method::GET, route).query(criteria.to_query()),
            )
            .await?;
        let items = answer.body["items"].as_array().cloned().unwrap_or_default();
        let total_count = answer.body["total_count"].as_u64().ok_or_else(|| {
            AdapterError::permanent(format!("{route}: the answer has no total_count"))
        })?;
        Ok(ListPage { items, total_count })
    }

    /// Every item matching `criteria`, page by page, stopping by `total_count` (Magento answers
    /// a page past the end with the last page again, so an empty page never comes).
    pub async fn list_all(
        &self,
        ctx: &AdapterContext,
        route: &str,
        criteria: &SearchCriteria,
    ) -> Result<Vec<Value>, AdapterError> {
        let size = criteria.page_size.unwrap_or(100);
        let mut items = Vec::new();
        let mut page = 1;
        loop {
            let c = criteria.clone().page_size(size).page(page);
            let got = self.list(ctx, route, &c).await?;
            items.extend(got.items);
            if page >= pages(got.total_count, size) {
                return Ok(items);
            }
            page += 1;
        }
    }
}

/// A non-2xx answer as an error of the right class, its message rendered and its field named.
pub fn classify(status: u16, retry_after: Option<Duration>, body: &MagentoMessage) -> AdapterError {
    let mut message = format!("Magento answered {status}: {}", body.describe());
    if let Some(field) = body.field() {
        message.push_str(&format!(" (field `{field}`)"));
    }
    AdapterError::from_http_status(status, retry_after, message)
}

/// Prefixing an error's message with what was being done.
pub trait Prefixed {
    fn prefixed(self, what: &str) -> Self;
}

impl Prefixed for AdapterError {
    fn prefixed(mut self, what: &str) -> Self {
        self.message = format!("{what}: {}", self.message);
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn admin_tokens_are_minted_before_their_end() {
        let four_hours = Duration::from_secs(4 * 3600);
        assert!(!needs_mint(Duration::from_secs(0), four_hours));
        assert!(!needs_mint(Duration::from_secs(4 * 3600 - 301), four_hours));
        assert!(needs_mint(Duration::from_secs(4 * 3600 - 300), four_hours));
        assert!(needs_mint(Duration::from_secs(5 * 3600), four_hours));
        // A one-minute lifetime keeps a tenth as its margin.
        assert!(!needs_mint(
            Duration::from_secs(53),
            Duration::from_secs(60)
        ));
        assert!(needs_mint(Duration::from_secs(54), Duration::from_secs(60)));
    }

    #[test]
    fn skus_are_one_path_segment() {
        assert_eq!(segment("A/1 b#%?"), "A%2F1%20b%23%25%3F");
    }

    #[test]
    fn answers_are_classified() {
        use switchyard_core::ErrorClass;
        let body = parse_body(
            br#"{"message":"The \"%1\" attribute value is empty.","parameters":["name"]}"#,
        );
        let e = classify(400, None, &body);
        assert_eq!(e.class, ErrorClass::Permanent);
        assert_eq!(
            e.message,
            "Magento answered 400: The \"name\" attribute value is empty. (field `name`)"
        );
        assert_eq!(classify(401, None, &body).class, ErrorClass::Auth);
        assert!(classify(503, None, &body).class.is_retryable());
        assert_eq!(
            classify(429, Some(Duration::from_secs(3)), &body)
                .class
                .retry_after(),
            Some(Duration::from_secs(3))
        );
    }
}
