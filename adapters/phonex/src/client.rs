//! PhoneX over HTTP: paths below the configured base URL, the bearer key, every request one
//! [`Exchange`] and one tracing span, and PhoneX's answers turned into [`AdapterError`]
//! classes: 401/403 auth, 429 rate limited with its `Retry-After`, 408/5xx/timeouts/connection
//! failures transient, other 4xx (422 validation, 409 a second order with our number, 404)
//! permanent with the field named. No retries here: the queue retries by the class.

use crate::config::Validated;
use crate::wire::{ErrorBody, IDEMPOTENCY_HEADER, REPLAYED_HEADER};
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE};
use reqwest::{Method, Url};
use serde_json::Value;
use std::time::{Duration, Instant};
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
    /// PhoneX recognised the idempotency key and placed nothing new.
    pub replayed: bool,
}

/// One request.
pub struct Call<'a> {
    /// The exchange's event name in the integration log (`phonex.order.create`).
    pub event: &'a str,
    pub method: Method,
    /// A constant route below the base URL, then values appended as one segment each.
    pub path: Vec<&'a str>,
    pub query: Vec<(&'a str, String)>,
    pub body: Option<&'a Value>,
    /// Send `ctx.idempotency_key` as `Idempotency-Key` (writes only).
    pub idempotent: bool,
}

impl<'a> Call<'a> {
    pub fn get(event: &'a str, path: Vec<&'a str>) -> Self {
        Self {
            event,
            method: Method::GET,
            path,
            query: Vec::new(),
            body: None,
            idempotent: false,
        }
    }

    pub fn post(event: &'a str, path: Vec<&'a str>, body: &'a Value) -> Self {
        Self {
            event,
            method: Method::POST,
            path,
            query: Vec::new(),
            body: Some(body),
            idempotent: true,
        }
    }
}

pub struct Client {
    partner: PartnerName,
    settings: Validated,
    http: reqwest::Client,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("partner", &self.partner)
            .field("base_url", &self.settings.base_url.as_str())
            .finish_non_exhaustive()
    }
}

impl Client {
    pub fn new(partner: PartnerName, settings: Validated, http: reqwest::Client) -> Self {
        Self {
            partner,
            settings,
            http,
        }
    }

    pub fn settings(&self) -> &Validated {
        &self.settings
    }

    pub fn partner(&self) -> &PartnerName {
        &self.partner
    }

    fn url(&self, call: &Call<'_>) -> Result<Url, AdapterError> {
        let mut url = self.settings.base_url.clone();
        {
            let mut segments = url
                .path_segments_mut()
                .map_err(|_| AdapterError::permanent("the base URL cannot take a path"))?;
            segments.pop_if_empty();
            // The first part is a constant path (`v1/orders`); the rest are values (an order
            // id), each one segment whatever it holds (`A/1` → `A%2F1`).
            let mut parts = call.path.iter();
            if let Some(route) = parts.next() {
                segments.extend(route.split('/').filter(|s| !s.is_empty()));
            }
            segments.extend(parts);
        }
        if !call.query.is_empty() {
            url.query_pairs_mut()
                .extend_pairs(call.query.iter().map(|(k, v)| (*k, v.as_str())));
        }
        Ok(url)
    }

    /// Send `call` once and record it.
    pub async fn send(&self, ctx: &AdapterContext, call: Call<'_>) -> Result<Answer, AdapterError> {
        let url = self.url(&call)?;
        let span = tracing::info_span!(
            "phonex_exchange",
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
            .header(
                AUTHORIZATION,
                format!("Bearer {}", self.settings.api_key.expose()),
            );
        if call.idempotent {
            request = request.header(IDEMPOTENCY_HEADER, &ctx.idempotency_key);
        }
        if let Some(body) = call.body {
            request = request
                .header(CONTENT_TYPE, "application/json")
                .body(serde_json::to_vec(body).unwrap_or_default());
        }
        let sent = request.send().instrument(span.clone()).await;
        let (status, response_body, result) = match sent {
            Err(e) => (
                None,
                None,
                Err(transport_error("PhoneX", &e, self.settings.timeout)),
            ),
            Ok(response) => {
                let status = response.status().as_u16();
                // Seconds or an HTTP date: PhoneX's form is not documented, and a proxy or load
                // balancer in front of it may well send the date form (RFC 9110 allows both).
                let retry = retry_after(response.headers());
                let replayed = response
                    .headers()
                    .get(REPLAYED_HEADER)
                    .and_then(|v| v.to_str().ok())
                    .is_some_and(|v| v.eq_ignore_ascii_case("true"));
                match response.bytes().await {
                    Err(e) => (
                        Some(status),
                        None,
                        Err(transport_error("PhoneX", &e, self.settings.timeout)),
                    ),
                    Ok(bytes) => {
                        let json: Value = serde_json::from_slice(&bytes).unwrap_or_else(|_| {
                            Value::String(String::from_utf8_lossy(&bytes).into_owned())
                        });
                        let result = if (200..300).contains(&status) {
                            Ok(Answer {
                                status,
                                body: json.clone(),
                                replayed,
                            })
                        } else {
                            Err(classify(status, retry, &json))
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
            span.in_scope(|| tracing::warn!(error = %e, "phonex exchange failed"));
        }
        ctx.sink.record(
            ctx,
            Exchange {
                partner: self.partner.clone(),
                event: call.event.to_owned(),
                direction: Direction::Outbound,
                method: Some(call.method.to_string()),
                url: Some(url.to_string()),
                request_body: call.body.cloned(),
                response_status: status,
                response_body,
                duration: started.elapsed(),
                error: result.as_ref().err().map(ToString::to_string),
            },
        );
        result
    }
}

/// A non-2xx answer as an error of the right class, PhoneX's code, message and field named.
pub fn classify(status: u16, retry_after: Option<Duration>, body: &Value) -> AdapterError {
    let message = match serde_json::from_value::<ErrorBody>(body.clone()) {
        Ok(ErrorBody { error }) => {
            let mut m = format!("PhoneX answered {status} {}: {}", error.code, error.message);
            if let Some(field) = &error.field {
                m.push_str(&format!(" (field `{field}`)"));
            }
            if let Some(id) = &error.existing_id {
                m.push_str(&format!(" (existing order {id})"));
            }
            m
        }
        Err(_) => format!("PhoneX answered {status}: {body}"),
    };
    AdapterError::from_http_status(status, retry_after, message)
}
