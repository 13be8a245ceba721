//! The Admin GraphQL transport: one POST per operation with the access token, paced by the
//! cost bucket, with Shopify's answers turned into [`AdapterError`] classes.
//!
//! * Before sending, the operation reserves its estimated cost (the last `requestedQueryCost`
//!   seen for it) in the client's [`CostBucket`] and waits the time the bucket computes.
//! * `THROTTLED` (HTTP 200 with the error, or 429) re-seeds the bucket from the answer's
//!   `throttleStatus` and waits exactly until the server's bucket holds the cost, then sends
//!   again: a throttled call never fails the job (after [`THROTTLE_ROUNDS`] it is returned as
//!   `RateLimited` with that wait, which the sync engine waits out in turn).
//! * `MAX_COST_EXCEEDED` is returned as [`CallError::MaxCost`] for the caller to split.
//! * 401/403 → auth; 5xx and network errors → transient; other top-level errors (a query
//!   Shopify does not accept) → permanent.

use crate::bucket::CostBucket;
use crate::wire::{Errors, GraphqlError, Response, ThrottleStatus};
use serde_json::Value;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};
use switchyard_core::adapter::{AdapterContext, Direction, Exchange};
use switchyard_core::error::AdapterError;
use switchyard_core::ids::PartnerName;
use switchyard_runtime::partner_config::Secret;

/// Throttled answers waited out within one call before it is handed back as `RateLimited`.
pub const THROTTLE_ROUNDS: u32 = 20;
/// The cost assumed for an operation never seen before: a mutation's base cost.
const FIRST_ESTIMATE: f64 = 10.0;

#[derive(Debug)]
pub enum CallError {
    Adapter(AdapterError),
    /// The operation costs more than Shopify runs in one query: split it.
    MaxCost {
        cost: f64,
        max: f64,
    },
}

impl From<AdapterError> for CallError {
    fn from(e: AdapterError) -> Self {
        CallError::Adapter(e)
    }
}

impl CallError {
    pub fn into_adapter(self) -> AdapterError {
        match self {
            CallError::Adapter(e) => e,
            CallError::MaxCost { cost, max } => AdapterError::permanent(format!(
                "query cost {cost} exceeds Shopify's single query maximum {max}"
            )),
        }
    }
}

pub struct Client {
    http: reqwest::Client,
    endpoint: String,
    token: Secret,
    partner: PartnerName,
    bucket: Mutex<CostBucket>,
    estimates: Mutex<HashMap<&'static str, f64>>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("endpoint", &self.endpoint)
            .finish_non_exhaustive()
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Client {
    pub fn new(
        http: reqwest::Client,
        endpoint: String,
        token: Secret,
        partner: PartnerName,
    ) -> Self {
        Self {
            http,
            endpoint,
            token,
            partner,
            bucket: Mutex::new(CostBucket::default()),
            estimates: Mutex::new(HashMap::new()),
        }
    }

    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// The client's view of the bucket (for tests and metrics).
    pub fn bucket_available(&self) -> f64 {
        lock(&self.bucket).available()
    }

    /// Run `query` (named `op` in logs and estimates) with `variables`; the `data` object.
    pub async fn call(
        &self,
        ctx: &AdapterContext,
        op: &'static str,
        query: &str,
        variables: Value,
    ) -> Result<Value, CallError> {
        let body = serde_json::json!({"query": query, "variables": variables});
        let mut last_wait = Duration::ZERO;
        for _ in 0..THROTTLE_ROUNDS {
            let estimate = lock(&self.estimates)
                .get(op)
                .copied()
                .unwrap_or(FIRST_ESTIMATE);
            let mut wait = lock(&self.bucket).reserve(estimate, Instant::now());
            // After a THROTTLED answer the bucket (re-seeded by it) normally makes us wait; if
            // it does not, wait what the server's numbers say.
            if wait.is_zero() {
                wait = last_wait;
            }
            if !wait.is_zero() {
                tracing::debug!(
                    op,
                    wait_ms = wait.as_millis() as u64,
                    "pacing to Shopify's cost bucket"
                );
                tokio::time::sleep(wait).await;
            }
            let started = Instant::now();
            let sent = self
                .http
                .post(&self.endpoint)
                .header("X-Shopify-Access-Token", self.token.expose())
                .json(&body)
                .send()
                .await;
            let (status, text) = match sent {
                Ok(res) => {
                    let status = res.status().as_u16();
                    match res.text().await {
                        Ok(t) => (status, t),
                        Err(e) => {
                            return Err(self
                                .failed(
                                    ctx,
                                    op,
                                    &variables,
                                    started,
                                    AdapterError::transient(format!(
                                        "reading Shopify's answer: {e}"
                                    )),
                                )
                                .into())
                        }
                    }
                }
                Err(e) => {
                    return Err(self
                        .failed(
                            ctx,
                            op,
                            &variables,
                            started,
                            AdapterError::transient(format!("Shopify unreachable: {e}")),
                        )
                        .into())
                }
            };
            let parsed: Option<Response> = serde_json::from_str(&text).ok();
            self.record(ctx, op, &variables, started, Ok((status, &text)));
            let cost = parsed
                .as_ref()
                .and_then(|r| r.extensions)
                .and_then(|e| e.cost);
            if let Some(requested) = cost.and_then(|c| c.requested_query_cost) {
                lock(&self.estimates).insert(op, requested);
            }
            let throttle: Option<ThrottleStatus> = cost.and_then(|c| c.throttle_status);
            if let Some(t) = &throttle {
                lock(&self.bucket).observe(t, Instant::now());
            }
            let errors: Vec<GraphqlError> = match parsed.as_ref().and_then(|r| r.errors.clone()) {
                Some(Errors::List(list)) => list,
                Some(Errors::Text(t)) => vec![GraphqlError {
                    message: t,
                    extensions: None,
                }],
                None => Vec::new(),
            };
            let throttled = status == 429 || errors.iter().any(|e| e.code() == Some("THROTTLED"));
            if throttled {
                let cost_needed = cost
                    .and_then(|c| c.requested_query_cost)
                    .unwrap_or(estimate);
                // A request costing more than the whole bucket never runs: waiting is useless.
                if let Some(t) = throttle
                    .as_ref()
                    .filter(|t| cost_needed > t.maximum_available)
                {
                    return Err(CallError::MaxCost {
                        cost: cost_needed,
                        max: t.maximum_available,
                    });
                }
                last_wait = match &throttle {
                    Some(t) => CostBucket::wait_for(t, cost_needed),
                    // A 429 without the extension: a second is Shopify's REST answer.
                    None => Duration::from_secs(1),
                }
                .max(Duration::from_millis(10));
                tracing::info!(
                    op,
                    wait_ms = last_wait.as_millis() as u64,
                    status,
                    "Shopify throttled; waiting for the bucket"
                );
                continue;
            }
            let message = || {
                let m: Vec<String> = errors
                    .iter()
                    .map(|e| match e.code() {
                        Some(c) => format!("{c}: {}", e.message),
                        None => e.message.clone(),
                    })
                    .collect();
                if m.is_empty() {
                    text.chars().take(300).collect()
                } else {
                    m.join("; ")
                }
            };
            match status {
                200 => {}
                401 | 403 => {
                    return Err(AdapterError::auth(format!(
                        "Shopify refused the access token ({status}): {}",
                        message()
                    ))
                    .with_status(status)
                    .into())
                }
                s if s >= 500 || s == 408 => {
                    return Err(AdapterError::transient(format!(
                        "Shopify answered {s}: {}",
                        message()
                    ))
                    .with_status(s)
                    .into())
                }
                s => {
                    return Err(AdapterError::permanent(format!(
                        "Shopify answered {s}: {}",
                        message()
                    ))
                    .with_status(s)
                    .into())
                }
            }
            if let Some(e) = errors
                .iter()
                .find(|e| e.code() == Some("MAX_COST_EXCEEDED"))
            {
                let ext = e.extensions.as_ref();
                let num = |k: &str| {
                    ext.and_then(|x| x.get(k))
                        .and_then(Value::as_f64)
                        .unwrap_or(0.0)
                };
                return Err(CallError::MaxCost {
                    cost: num("cost"),
                    max: num("maxCost"),
                });
            }
            if !errors.is_empty() {
                let class = errors.iter().filter_map(GraphqlError::code).next();
                let e = match class {
                    Some("ACCESS_DENIED") => AdapterError::auth(message()),
                    Some("INTERNAL_SERVER_ERROR") => AdapterError::transient(message()),
                    _ => AdapterError::permanent(format!("Shopify refused {op}: {}", message())),
                };
                return Err(e.into());
            }
            return match parsed.and_then(|r| r.data) {
                Some(data) => Ok(data),
                None => Err(AdapterError::transient(format!(
                    "Shopify answered {op} without data: {}",
                    message()
                ))
                .into()),
            };
        }
        Err(AdapterError::rate_limited(
            Some(last_wait),
            format!("Shopify kept throttling {op} for {THROTTLE_ROUNDS} rounds"),
        )
        .into())
    }

    /// One exchange for the integration log: an answer (`status`, `text`) or a failure.
    fn record(
        &self,
        ctx: &AdapterContext,
        op: &str,
        variables: &Value,
        started: Instant,
        answer: Result<(u16, &str), &str>,
    ) {
        let (status, body, error) = match answer {
            Ok((status, text)) => (Some(status), serde_json::from_str(text).ok(), None),
            Err(e) => (None, None, Some(e.to_owned())),
        };
        ctx.sink.record(
            ctx,
            Exchange {
                partner: self.partner.clone(),
                event: format!("shopify.{op}"),
                direction: Direction::Outbound,
                method: Some("POST".into()),
                url: Some(self.endpoint.clone()),
                request_body: Some(variables.clone()),
                response_status: status,
                response_body: body,
                duration: started.elapsed(),
                error,
            },
        );
    }

    fn failed(
        &self,
        ctx: &AdapterContext,
        op: &str,
        variables: &Value,
        started: Instant,
        e: AdapterError,
    ) -> AdapterError {
        self.record(ctx, op, variables, started, Err(&e.message));
        e
    }
}
