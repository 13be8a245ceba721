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
use std::time::Duration;
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
    #[schema(schema_with = status_word)]
    pub status: String,
}

fn status_word() -> utoipa::openapi::Object {
    crate::schemas::one_of(&["ok", "ready"])
}

/// The process is up.
#[utoipa::path(get, path = "/healthz", tag = "operations", security(()),
    responses((status = 200, description = "alive", body = Status)))]
async fn healthz() -> Json<Status> {
    Json(Status {
        status: "ok".into(),
    })
}

/// How long `/readyz` waits for the database. The pool's own wait (its acquire timeout, 10 s
/// by default) would outlast a load balancer's health check; an answer within a second is
/// what the check needs, ready or not.
const PROBE_TIMEOUT: Duration = Duration::from_millis(750);

/// The daemon's tasks are working, the database answers within a second, and every migration
/// this build knows is applied.
#[utoipa::path(get, path = "/readyz", tag = "operations", security(()),
    responses(
        (status = 200, description = "ready", body = Status),
        (status = 503, description = "a task of the daemon is failing or stopped, the database does not answer, or migrations are missing", body = ErrorBody)
    ))]
async fn readyz(State(app): State<AppState>) -> Result<Json<Status>, ApiError> {
    let problems = app
        .api
        .readiness
        .as_ref()
        .map(|r| r.problems())
        .unwrap_or_default();
    if !problems.is_empty() {
        return Err(ApiError::new(
            ErrorCode::Unavailable,
            "not ready: a task of the daemon is failing or stopped",
        )
        .with_details(json!({ "problems": problems })));
    }
    let probe = sqlx::query_scalar("SELECT version FROM _sqlx_migrations WHERE success")
        .fetch_all(&app.api.pool);
    let applied: Vec<i64> = match tokio::time::timeout(PROBE_TIMEOUT, probe).await {
        Ok(Ok(applied)) => applied,
        Ok(Err(err)) => {
            tracing::warn!(error = %err, "readiness check failed");
            return Err(ApiError::new(
                ErrorCode::Unavailable,
                "database unreachable or not migrated",
            ));
        }
        Err(_) => {
            return Err(ApiError::new(
                ErrorCode::Unavailable,
                format!(
                    "the database did not answer within {} ms",
                    PROBE_TIMEOUT.as_millis()
                ),
            ))
        }
    };
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
    responses((status = 200, description = "Prometheus text format", content_type = "text/plain", body = String),
        (status = 500, description = "the queue's gauges could not be read from the database", body = ErrorBody)))]
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
