//! Route groups. Each handler carries its `#[utoipa::path]` and is registered with
//! `routes!`, so the router and the OpenAPI document are built from the same list.

pub mod dead_letters;
pub mod edi;
pub mod health;
pub mod jobs;
pub mod keys;
pub mod logs;
pub mod orders;
pub mod retry;

use crate::auth::Auth;
use crate::error::{ApiError, ErrorCode};
use crate::AppState;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use std::marker::PhantomData;
use switchyard_store::keys::Scope;
use utoipa_axum::router::OpenApiRouter;

/// Routes that need an API key.
pub(crate) fn protected() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .merge(keys::router())
        .merge(logs::router())
        .merge(jobs::router())
        .merge(retry::router())
        .merge(dead_letters::router())
        .merge(edi::router())
        .merge(orders::router())
}

/// Routes under `/api/v1` that need no key (the document describing the API).
pub(crate) fn public_v1() -> OpenApiRouter<AppState> {
    health::v1_router()
}

/// `/healthz`, `/readyz`, `/metrics`: outside `/api/v1`, no key, not rate limited.
pub(crate) fn health() -> OpenApiRouter<AppState> {
    health::router()
}

/// A scope a handler needs, as a type, so the check runs as an extractor — before the body
/// is parsed: a key without the scope gets 403 whatever it sent.
pub trait RequiredScope {
    const SCOPE: Scope;
}

macro_rules! scope_marker {
    ($($name:ident => $scope:expr),+ $(,)?) => {
        $(
            #[derive(Debug)]
            pub struct $name;
            impl RequiredScope for $name {
                const SCOPE: Scope = $scope;
            }
        )+
    };
}

scope_marker!(
    ReadLogs => Scope::ReadLogs,
    ReadJobs => Scope::ReadJobs,
    WriteJobs => Scope::WriteJobs,
    ReadDeadLetters => Scope::ReadDeadLetters,
    WriteDeadLetters => Scope::WriteDeadLetters,
    AdminKeys => Scope::AdminKeys,
    ReadEdi => Scope::ReadEdi,
    WriteEdi => Scope::WriteEdi,
    ReadOrders => Scope::ReadOrders,
    WriteOrders => Scope::WriteOrders,
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

pub(crate) const DEFAULT_LIMIT: i64 = 50;
pub(crate) const MAX_LIMIT: i64 = 500;

/// The page size from a `limit` query parameter: 1..=500, 50 when absent.
pub(crate) fn page_limit(limit: Option<i64>) -> Result<i64, ApiError> {
    match limit {
        None => Ok(DEFAULT_LIMIT),
        Some(n) if (1..=MAX_LIMIT).contains(&n) => Ok(n),
        Some(n) => Err(ApiError::new(
            ErrorCode::ValidationFailed,
            format!("limit must be between 1 and {MAX_LIMIT}, got {n}"),
        )),
    }
}

/// Split one extra fetched row off a page: the rows to return, and whether there are more.
pub(crate) fn split_page<T>(mut rows: Vec<T>, limit: i64) -> (Vec<T>, bool) {
    let more = rows.len() as i64 > limit;
    rows.truncate(limit as usize);
    (rows, more)
}
