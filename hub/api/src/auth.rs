//! Authentication, scopes and the per-key rate limit.
//!
//! [`authenticate`] runs before every protected route: it reads the key from
//! `Authorization: Bearer …` or `X-API-Key`, refuses unknown, suspended, revoked and expired
//! keys with 401 (each refusal spends a token of the client address's budget for requests
//! without a valid key; an address that has none left gets 429 instead of 401), spends
//! a token from the key's bucket (429 + `Retry-After` when empty), and puts an [`Auth`] into
//! the request for the handler, which checks its scope with [`Auth::require`] (403). Every
//! response to an authenticated request carries the `X-RateLimit-*` headers.

use crate::error::{ApiError, ErrorCode};
use crate::rate_limit::Decision;
use crate::state::AppState;
use axum::extract::{ConnectInfo, FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderName, HeaderValue};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::json;
use std::marker::PhantomData;
use std::net::SocketAddr;
use switchyard_core::ids::{ApiKeyId, OrgId};
use switchyard_store::keys::{self, KeyRow, Scope, Tier};

pub const X_API_KEY: HeaderName = HeaderName::from_static("x-api-key");
pub const X_RATELIMIT_LIMIT: HeaderName = HeaderName::from_static("x-ratelimit-limit");
pub const X_RATELIMIT_REMAINING: HeaderName = HeaderName::from_static("x-ratelimit-remaining");
pub const X_RATELIMIT_RESET: HeaderName = HeaderName::from_static("x-ratelimit-reset");

/// The authenticated caller, available to handlers as an extractor.
#[derive(Debug, Clone)]
pub struct Auth {
    pub key_id: ApiKeyId,
    pub org: OrgId,
    pub scopes: Vec<Scope>,
    pub tier: Tier,
}

impl Auth {
    /// 403 unless the key holds `scope` (or the write scope that implies it).
    pub fn require(&self, scope: &str) -> Result<(), ApiError> {
        if keys::has_scope(&self.scopes, scope) {
            Ok(())
        } else {
            Err(ApiError::new(
                ErrorCode::Forbidden,
                format!("this key lacks the `{scope}` scope"),
            )
            .with_details(json!({ "required_scope": scope })))
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Auth {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<Auth>()
            .cloned()
            .ok_or_else(|| ApiError::unauthorized("missing api key"))
    }
}

/// The presented key, if any. `Authorization` wins when both headers are present.
fn presented_key(headers: &HeaderMap) -> Result<Option<&str>, ApiError> {
    if let Some(value) = headers.get(header::AUTHORIZATION) {
        let value = value
            .to_str()
            .map_err(|_| ApiError::unauthorized("malformed Authorization header"))?;
        let (scheme, token) = value.split_once(' ').unwrap_or((value, ""));
        if !scheme.eq_ignore_ascii_case("bearer") || token.trim().is_empty() {
            return Err(ApiError::unauthorized(
                "the Authorization header must be `Bearer <api key>`",
            ));
        }
        return Ok(Some(token.trim()));
    }
    match headers.get(X_API_KEY) {
        Some(value) => value
            .to_str()
            .map(|v| Some(v.trim()))
            .map_err(|_| ApiError::unauthorized("malformed X-API-Key header")),
        None => Ok(None),
    }
}

fn rate_headers(headers: &mut HeaderMap, d: &Decision) {
    headers.insert(X_RATELIMIT_LIMIT, HeaderValue::from(d.limit));
    headers.insert(X_RATELIMIT_REMAINING, HeaderValue::from(d.remaining));
    headers.insert(X_RATELIMIT_RESET, HeaderValue::from(d.reset_secs));
}

/// The middleware in front of every protected route.
pub async fn authenticate(State(app): State<AppState>, mut req: Request, next: Next) -> Response {
    // The serving loop records every connection's peer; a router served some other way (a
    // test's `oneshot`) has none, and its requests are not limited by address.
    let address = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip());
    // The key is looked up first (one indexed read of its hash), so that a valid key is never
    // held back by what others behind the same address (a NAT, a proxy) sent without one.
    let key = match authenticated_key(&app, req.headers()).await {
        Ok(key) => key,
        Err(err) => {
            if let Some(address) = address {
                let decision = app.limiter.spend_unauthenticated(address);
                if !decision.allowed {
                    return unauthenticated_rate_limited(&decision).into_response();
                }
            }
            return err.into_response();
        }
    };
    let auth = Auth {
        key_id: key.id,
        org: key.org_id,
        scopes: key.scopes.clone(),
        tier: key.tier,
    };
    let decision = app.limiter.check(key.id, key.tier);
    let mut response = if decision.allowed {
        req.extensions_mut().insert(auth.clone());
        next.run(req).await
    } else {
        ApiError::new(
            ErrorCode::RateLimited,
            format!(
                "rate limit exceeded for this key's {} tier; retry in {} s",
                key.tier.as_str(),
                decision.retry_after_secs
            ),
        )
        .with_details(json!({
            "tier": key.tier.as_str(),
            "retry_after_secs": decision.retry_after_secs,
        }))
        .with_header(
            header::RETRY_AFTER,
            HeaderValue::from(decision.retry_after_secs),
        )
        .into_response()
    };
    rate_headers(response.headers_mut(), &decision);
    // For the access log, which runs outside this middleware.
    response.extensions_mut().insert(auth);
    response
}

/// 429 for an address whose requests without a valid key have used up its budget.
fn unauthenticated_rate_limited(decision: &Decision) -> ApiError {
    ApiError::new(
        ErrorCode::RateLimited,
        format!(
            "too many requests without a valid api key from this address; retry in {} s",
            decision.retry_after_secs
        ),
    )
    .with_details(json!({ "retry_after_secs": decision.retry_after_secs }))
    .with_header(
        header::RETRY_AFTER,
        HeaderValue::from(decision.retry_after_secs),
    )
}

async fn authenticated_key(app: &AppState, headers: &HeaderMap) -> Result<KeyRow, ApiError> {
    let Some(secret) = presented_key(headers)? else {
        return Err(ApiError::unauthorized(
            "missing api key: send `Authorization: Bearer <key>` or `X-API-Key: <key>`",
        ));
    };
    match keys::authenticate(&app.api.pool, secret).await? {
        Ok(key) => Ok(key),
        Err(refusal) => {
            tracing::info!(reason = refusal.as_str(), "api key refused");
            Err(ApiError::unauthorized(format!(
                "invalid api key ({})",
                refusal.as_str()
            )))
        }
    }
}

/// A scope a handler names as a type, so the check runs as an extractor — before the body is
/// parsed: a key without the scope gets 403 whatever it sent.
pub trait RequiredScope {
    const SCOPE: &'static str;
}

/// Declares scope marker types: `scope_marker!(ReadEdi => "read:edi")`.
#[macro_export]
macro_rules! scope_marker {
    ($($name:ident => $scope:expr),+ $(,)?) => {
        $(
            #[derive(Debug)]
            pub struct $name;
            impl $crate::auth::RequiredScope for $name {
                const SCOPE: &'static str = $scope;
            }
        )+
    };
}

scope_marker!(
    ReadLogs => "read:logs",
    ReadJobs => "read:jobs",
    WriteJobs => "write:jobs",
    ReadDeadLetters => "read:dead-letters",
    WriteDeadLetters => "write:dead-letters",
    AdminKeys => "admin:keys",
    ReadOrders => "read:orders",
    WriteOrders => "write:orders",
    ReadCatalog => "read:catalog",
    ReadInventory => "read:inventory",
    ReadPricing => "read:pricing",
    WriteCatalog => "write:catalog",
    WriteInventory => "write:inventory",
    ReadWebhooks => "read:webhooks",
    WriteWebhooks => "write:webhooks",
);

/// The caller, checked for scope `M`.
#[derive(Debug)]
pub struct Scoped<M>(pub Auth, pub PhantomData<M>);

impl<M: RequiredScope, S: Send + Sync> FromRequestParts<S> for Scoped<M> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let auth = Auth::from_request_parts(parts, state).await?;
        auth.require(M::SCOPE)?;
        Ok(Scoped(auth, PhantomData))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_come_from_either_header() {
        let mut h = HeaderMap::new();
        assert_eq!(presented_key(&h).unwrap(), None);
        h.insert(X_API_KEY, HeaderValue::from_static("sy_abc"));
        assert_eq!(presented_key(&h).unwrap(), Some("sy_abc"));
        h.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("Bearer sy_def"),
        );
        assert_eq!(presented_key(&h).unwrap(), Some("sy_def"));
        h.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("Basic dXNlcjpwdw=="),
        );
        assert_eq!(presented_key(&h).unwrap_err().code, ErrorCode::Unauthorized);
    }
}
