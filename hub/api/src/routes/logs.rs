//! Integration logs of the caller's organization (scope `read:logs`).

use crate::auth::{ReadLogs, Scoped};
use crate::error::{ApiError, ApiPath, ApiQuery, ErrorBody};
use crate::paging::page_limit;
use crate::responses::{BadRequest, NotFound};
use crate::schemas;
use crate::state::AppState;
use axum::extract::State;
use axum::Json;
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use switchyard_core::ids::{JobId, LogId};
use switchyard_store::logs::{
    self, Direction, IntegrationType, LogCursor, LogFilter, LogRow, LogStatus, PartnerStats,
};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_logs))
        .routes(routes!(log_stats))
        .routes(routes!(get_log))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LogView {
    #[schema(value_type = uuid::Uuid)]
    pub id: LogId,
    pub at: DateTime<Utc>,
    #[schema(schema_with = schemas::integration_type)]
    pub integration_type: IntegrationType,
    pub event_type: String,
    #[schema(schema_with = schemas::direction)]
    pub direction: Direction,
    #[schema(schema_with = schemas::log_status)]
    pub status: LogStatus,
    pub http_status: Option<i32>,
    /// The request body, masked: any JSON value (what a partner or client sent need not be
    /// an object), `{"raw": "..."}` for a body that was not JSON, or `null` for none.
    #[schema(value_type = Option<Value>)]
    pub request_body: Option<Value>,
    /// The response body, masked, like `request_body`.
    #[schema(value_type = Option<Value>)]
    pub response_body: Option<Value>,
    pub error_message: Option<String>,
    pub partner: Option<String>,
    #[schema(value_type = Option<uuid::Uuid>)]
    pub job_id: Option<JobId>,
    pub retry_count: Option<i32>,
    pub correlation_id: Option<String>,
    pub duration_ms: Option<i32>,
}

impl From<LogRow> for LogView {
    fn from(r: LogRow) -> Self {
        Self {
            id: r.id,
            at: r.at,
            integration_type: r.integration_type,
            event_type: r.event_type,
            direction: r.direction,
            status: r.status,
            http_status: r.http_status,
            request_body: r.request_body,
            response_body: r.response_body,
            error_message: r.error_message,
            partner: r.partner,
            job_id: r.job_id,
            retry_count: r.retry_count,
            correlation_id: r.correlation_id,
            duration_ms: r.duration_ms,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LogPage {
    pub items: Vec<LogView>,
    /// Pass as `cursor` for the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

/// Filters shared by the listing and the stats.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct LogQuery {
    /// Rows at or after this time (RFC 3339).
    pub from: Option<DateTime<Utc>>,
    /// Rows before this time (RFC 3339).
    pub to: Option<DateTime<Utc>>,
    #[param(schema_with = schemas::log_status)]
    pub status: Option<LogStatus>,
    #[serde(rename = "type")]
    #[param(rename = "type", schema_with = schemas::integration_type)]
    pub integration_type: Option<IntegrationType>,
    pub partner: Option<String>,
    pub event_type: Option<String>,
    #[param(value_type = Option<uuid::Uuid>)]
    pub job_id: Option<JobId>,
    pub correlation_id: Option<String>,
    /// Full-text search over request/response bodies and error messages (web-search syntax:
    /// words, "a phrase", -excluded, or).
    pub q: Option<String>,
    /// From the previous page's `next_cursor`.
    pub cursor: Option<String>,
    /// Default 50.
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<i64>,
}

impl LogQuery {
    /// The store's filter. A window with `from` at or after `to` is not refused: it is empty.
    fn filter(&self) -> LogFilter {
        LogFilter {
            from: self.from,
            to: self.to,
            status: self.status,
            integration_type: self.integration_type,
            partner: self.partner.clone(),
            event_type: self.event_type.clone(),
            job_id: self.job_id,
            correlation_id: self.correlation_id.clone(),
            q: self.q.clone(),
        }
    }
}

/// Log rows, newest first, filtered, one page at a time.
#[utoipa::path(get, path = "/logs", tag = "logs", params(LogQuery),
    responses((status = 200, body = LogPage), (status = 400, response = BadRequest),
        (status = 422, description = "a `cursor` not from a previous page, `limit` out of range", body = ErrorBody)))]
async fn list_logs(
    State(app): State<AppState>,
    Scoped(auth, _): Scoped<ReadLogs>,
    ApiQuery(query): ApiQuery<LogQuery>,
) -> Result<Json<LogPage>, ApiError> {
    let filter = query.filter();
    let limit = page_limit(query.limit)?;
    let after = query.cursor.as_deref().map(LogCursor::decode).transpose()?;
    let (rows, next) = logs::list(&app.api.pool, auth.org, &filter, after, limit).await?;
    Ok(Json(LogPage {
        items: rows.into_iter().map(LogView::from).collect(),
        next_cursor: next.map(|c| c.encode()),
    }))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PartnerStatsView {
    /// `null` for rows without a partner (API calls, for instance).
    pub partner: Option<String>,
    pub total: i64,
    pub success: i64,
    pub warning: i64,
    pub error: i64,
    /// success / total, 0..=1.
    pub success_rate: f64,
    pub p50_ms: Option<f64>,
    pub p95_ms: Option<f64>,
}

impl From<PartnerStats> for PartnerStatsView {
    fn from(s: PartnerStats) -> Self {
        Self {
            partner: s.partner,
            total: s.total,
            success: s.success,
            warning: s.warning,
            error: s.error,
            success_rate: s.success_rate,
            p50_ms: s.p50_ms,
            p95_ms: s.p95_ms,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LogStats {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub partners: Vec<PartnerStatsView>,
}

/// Success rate, counts and p50/p95 duration per partner over a window (default: the last
/// 24 hours). Accepts the listing's filters; `cursor` and `limit` are ignored (a `limit` out
/// of range is still refused, as the parameters' schema says).
#[utoipa::path(get, path = "/logs/stats", tag = "logs", params(LogQuery),
    responses((status = 200, body = LogStats), (status = 400, response = BadRequest),
        (status = 422, description = "`limit` out of range", body = ErrorBody)))]
async fn log_stats(
    State(app): State<AppState>,
    Scoped(auth, _): Scoped<ReadLogs>,
    ApiQuery(query): ApiQuery<LogQuery>,
) -> Result<Json<LogStats>, ApiError> {
    page_limit(query.limit)?;
    let mut filter = query.filter();
    let to = filter.to.unwrap_or_else(Utc::now);
    let from = filter.from.unwrap_or(to - Duration::hours(24));
    filter.from = Some(from);
    filter.to = Some(to);
    let partners = logs::stats(&app.api.pool, auth.org, &filter).await?;
    Ok(Json(LogStats {
        from,
        to,
        partners: partners.into_iter().map(PartnerStatsView::from).collect(),
    }))
}

#[utoipa::path(get, path = "/logs/{id}", tag = "logs",
    params(("id" = uuid::Uuid, Path, description = "log row id")),
    responses((status = 200, body = LogView), (status = 400, response = BadRequest), (status = 404, response = NotFound)))]
async fn get_log(
    State(app): State<AppState>,
    Scoped(auth, _): Scoped<ReadLogs>,
    ApiPath(id): ApiPath<LogId>,
) -> Result<Json<LogView>, ApiError> {
    logs::get(&app.api.pool, auth.org, id)
        .await?
        .map(|r| Json(r.into()))
        .ok_or_else(|| ApiError::not_found("log row"))
}
