//! Liveness, readiness, metrics and the OpenAPI document.

use crate::error::{ApiError, ErrorBody, ErrorCode};
use crate::state::AppState;
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use axum::Json;
use serde::Serialize;
use serde_json::json;
use std::collections::BTreeSet;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(healthz))
        .routes(routes!(readyz))
        .routes(routes!(metrics))
}

pub(crate) fn v1_router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(openapi_json))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Status {
    /// `ok` or `ready`.
    pub status: String,
}

/// The process is up.
#[utoipa::path(get, path = "/healthz", tag = "operations", security(()),
    responses((status = 200, description = "alive", body = Status)))]
async fn healthz() -> Json<Status> {
    Json(Status {
        status: "ok".into(),
    })
}

/// The database answers and every migration this build knows is applied.
#[utoipa::path(get, path = "/readyz", tag = "operations", security(()),
    responses(
        (status = 200, description = "ready", body = Status),
        (status = 503, description = "database unreachable or migrations missing", body = ErrorBody)
    ))]
async fn readyz(State(app): State<AppState>) -> Result<Json<Status>, ApiError> {
    let applied: Vec<i64> =
        sqlx::query_scalar("SELECT version FROM _sqlx_migrations WHERE success")
            .fetch_all(&app.api.pool)
            .await
            .map_err(|err| {
                tracing::warn!(error = %err, "readiness check failed");
                ApiError::new(
                    ErrorCode::Unavailable,
                    "database unreachable or not migrated",
                )
            })?;
    let applied: BTreeSet<i64> = applied.into_iter().collect();
    let missing: Vec<i64> = app
        .api
        .migrations
        .iter()
        .copied()
        .filter(|v| !applied.contains(v))
        .collect();
    if missing.is_empty() {
        Ok(Json(Status {
            status: "ready".into(),
        }))
    } else {
        Err(
            ApiError::new(ErrorCode::Unavailable, "migrations not applied")
                .with_details(json!({ "missing_migrations": missing })),
        )
    }
}

/// Prometheus text exposition: queue gauges (refreshed from the database on each scrape),
/// API request counters and latencies, and whatever the daemon records.
#[utoipa::path(get, path = "/metrics", tag = "operations", security(()),
    responses((status = 200, description = "Prometheus text format", content_type = "text/plain", body = String)))]
async fn metrics(State(app): State<AppState>) -> Result<impl IntoResponse, ApiError> {
    let counts = app.api.queue.counts().await?;
    crate::metrics::record_queue(&counts);
    let handle = crate::metrics::metrics_handle();
    handle.run_upkeep();
    Ok((
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        handle.render(),
    ))
}

/// This document.
#[utoipa::path(get, path = "/openapi.json", tag = "operations", security(()),
    responses((status = 200, description = "the OpenAPI 3 document", body = Object)))]
async fn openapi_json(State(app): State<AppState>) -> Result<Json<serde_json::Value>, ApiError> {
    app.openapi
        .get()
        .cloned()
        .map(Json)
        .ok_or_else(|| ApiError::internal(&"the OpenAPI document was not built"))
}
