//! The tenant API over HTTP: the bearer token (see [`crate::token`]), every request one
//! [`Exchange`] and one tracing span, and the answers turned into [`AdapterError`] classes:
//!
//! * 401 once: the token is replaced and the request sent once more; 401 again (or 403): auth;
//! * 429 and 5xx: rate limited / transient, with the `Retry-After` when given;
//! * other 4xx: permanent, the tenant's message and the field it names;
//! * timeouts and connection failures: transient.
//!
//! A successful token mint is not an exchange of its own (it is logged by tracing): the
//! integration log keeps one row per call. A failed mint is the call's row, with the
//! credentials never in it.

use crate::config::Settings;
use crate::token::{Token, TokenCache};
use crate::wire::{self, ErrorBody, TokenRequest, TokenResponse};
use reqwest::header::AUTHORIZATION;
use reqwest::{Method, Url};
use serde_json::Value;
use std::time::{Duration, Instant, SystemTime};
use switchyard_core::adapter::{AdapterContext, Direction, Exchange};
use switchyard_core::ids::PartnerName;
use switchyard_core::AdapterError;
use switchyard_runtime::partner_http::{retry_after, transport_error};
use tracing::Instrument as _;

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
    /// Relative to the API root, segments already encoded.
    pub path: String,
    pub query: Vec<(String, String)>,
    pub body: Option<Value>,
}

impl<'a> Call<'a> {
    pub fn new(event: &'a str, method: Method, path: impl Into<String>) -> Self {
        Self {
            event,
            method,
            path: path.into(),
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

pub struct Client {
    partner: PartnerName,
    settings: Settings,
    http: reqwest::Client,
    tokens: TokenCache,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("partner", &self.partner)
            .field("api_url", &self.settings.api_url.as_str())
            .finish_non_exhaustive()
    }
}

/// One path segment (an order number) percent-encoded.
pub fn segment(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

impl Client {
    pub fn new(partner: PartnerName, settings: Settings, http: reqwest::Client) -> Self {
        Self {
            partner,
            settings,
            http,
            tokens: TokenCache::default(),
        }
    }

    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    pub fn partner(&self) -> &PartnerName {
        &self.partner
    }

    fn url(&self, path: &str, query: &[(String, String)]) -> Result<Url, AdapterError> {
        let mut url = self
            .settings
            .api_url
            .join(path)
            .map_err(|e| AdapterError::permanent(format!("path `{path}`: {e}")))?;
        if !query.is_empty() {
            url.query_pairs_mut().extend_pairs(query);
        }
        Ok(url)
    }

    /// Send `call` with a bearer token; a 401 replaces the token and sends it once more.
    pub async fn send(&self, ctx: &AdapterContext, call: Call<'_>) -> Result<Answer, AdapterError> {
        let url = self.url(&call.path, &call.query)?;
        let token = self.token(ctx, &call, None).await?;
        match self.send_once(ctx, &call, &url, &token).await {
            Err(e) if e.status == Some(401) => {
                tracing::info!(partner = %self.partner, "token refused; minting a new one");
                let token = self.token(ctx, &call, Some(&token)).await?;
                self.send_once(ctx, &call, &url, &token).await
            }
            other => other,
        }
    }

    /// A usable token; a failed mint is recorded as the call's exchange.
    async fn token(
        &self,
        ctx: &AdapterContext,
        call: &Call<'_>,
        refused: Option<&Token>,
    ) -> Result<Token, AdapterError> {
        let started = Instant::now();
        let result = self
            .tokens
            .get(refused.map(|t| &t.value), || self.mint())
            .await;
        if let Err(e) = &result {
            ctx.sink.record(
                ctx,
                Exchange {
                    partner: self.partner.clone(),
                    event: call.event.to_owned(),
                    direction: Direction::Outbound,
                    method: Some("POST".into()),
                    url: self.url(wire::TOKEN_PATH, &[]).ok().map(|u| u.to_string()),
                    request_body: None,
                    response_status: e.status,
                    response_body: None,
                    duration: started.elapsed(),
                    error: Some(e.to_string()),
                },
            );
        }
        result
    }

    /// `POST /auth/token` with the client credentials.
    async fn mint(&self) -> Result<Token, AdapterError> {
        let url = self.url(wire::TOKEN_PATH, &[])?;
        let body = TokenRequest {
            client_id: self.settings.client_id.expose().to_owned(),
            client_secret: self.settings.client_secret.expose().to_owned(),
        };
        let response = self
            .http
            .post(url)
            .timeout(self.settings.timeout)
            .json(&body)
            .send()
            .await
            .map_err(|e| transport_error("WesellCellular", &e, self.settings.timeout))?;
        let status = response.status().as_u16();
        let retry = retry_after(response.headers());
        let bytes = response
            .bytes()
            .await
            .map_err(|e| transport_error("WesellCellular", &e, self.settings.timeout))?;
        if !(200..300).contains(&status) {
            let e = classify(status, retry, &bytes);
            // Refused credentials: only a config fix helps. (Cognito answers `invalid_client`
            // with a 400; the tenant's fronting is assumed to say 401, see README.md.)
            let e = if matches!(status, 401 | 403) {
                AdapterError::auth(format!(
                    "the client credentials were refused: {}",
                    e.message
                ))
                .with_status(status)
            } else {
                e
            };
            return Err(prefixed(e, "minting a token"));
        }
        let answer: TokenResponse = serde_json::from_slice(&bytes).map_err(|e| {
            AdapterError::permanent(format!("the token answer is not a token: {e}"))
        })?;
        let token = Token::from_jwt(
            &answer.access_token,
            self.settings.refresh_margin,
            SystemTime::now(),
        )?;
        tracing::info!(partner = %self.partner, "minted a token");
        Ok(token)
    }

    async fn send_once(
        &self,
        ctx: &AdapterContext,
        call: &Call<'_>,
        url: &Url,
        token: &Token,
    ) -> Result<Answer, AdapterError> {
        let span = tracing::info_span!(
            "wesellcellular_exchange",
            partner = %self.partner,
            event = call.event,
            method = %call.method,
            url = %url,
            status = tracing::field::Empty,
        );
        let started = Instant::now();
        let mut request = self
            .http
            .request(call.method.clone(), url.clone())
            .timeout(self.settings.timeout)
            .header(AUTHORIZATION, format!("Bearer {}", token.value.expose()))
            .header(wire::IDEMPOTENCY_HEADER, &ctx.idempotency_key);
        if let Some(body) = &call.body {
            request = request.json(body);
        }
        let sent = request.send().instrument(span.clone()).await;
        let (status, response_body, result) = match sent {
            Err(e) => (
                None,
                None,
                Err(transport_error("WesellCellular", &e, self.settings.timeout)),
            ),
            Ok(response) => {
                let status = response.status().as_u16();
                let retry = retry_after(response.headers());
                match response.bytes().await {
                    Err(e) => (
                        Some(status),
                        None,
                        Err(transport_error("WesellCellular", &e, self.settings.timeout)),
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
                            Err(classify(status, retry, &bytes))
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
            span.in_scope(|| tracing::warn!(error = %e, "wesellcellular exchange failed"));
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
        result
    }
}

/// A non-2xx answer as an error of the right class, with the tenant's message and field.
pub fn classify(status: u16, retry_after: Option<Duration>, body: &[u8]) -> AdapterError {
    let parsed: ErrorBody = serde_json::from_slice(body).unwrap_or_default();
    let text = parsed.message.unwrap_or_else(|| {
        let raw = String::from_utf8_lossy(body);
        raw.chars().take(200).collect()
    });
    let mut message = format!("WesellCellular answered {status}: {text}");
    if let Some(field) = parsed.field {
        message.push_str(&format!(" (field `{field}`)"));
    }
    AdapterError::from_http_status(status, retry_after, message)
}

pub fn prefixed(mut e: AdapterError, what: &str) -> AdapterError {
    e.message = format!("{what}: {}", e.message);
    e
}

#[cfg(test)]
mod tests {
    use super::*;
    use switchyard_core::ErrorClass;

    #[test]
    fn answers_are_classified_and_name_the_field() {
        let e = classify(
            422,
            None,
            br#"{"message":"quantity must be positive","field":"items[0].quantity"}"#,
        );
        assert_eq!(e.class, ErrorClass::Permanent);
        assert_eq!(
            e.message,
            "WesellCellular answered 422: quantity must be positive (field `items[0].quantity`)"
        );
        assert_eq!(classify(401, None, b"").class, ErrorClass::Auth);
        assert_eq!(
            classify(503, Some(Duration::from_secs(4)), b"down").class,
            ErrorClass::Transient {
                retry_after: Some(Duration::from_secs(4))
            }
        );
        assert_eq!(segment("PX/1 a"), "PX%2F1%20a");
    }
}
