//! Exports (FR-INT-008 / FR-INT-024): `POST /exports` records an export and enqueues the
//! `export.run` job that writes its file (202); `GET /exports/{name}` with an export id shows
//! its state and progress; `GET /exports/{id}/download` streams the finished file (410 once its
//! 24 hours are up). The same `GET /exports/{name}` with `{entity}.{format}` as the name
//! (`orders.csv`) streams a small export (at most 10,000 rows) synchronously: one path, because
//! the router (matchit) cannot tell `{id}` from `{entity}.{format}` in one segment, and an
//! export id never holds a dot.
//!
//! Scopes follow the entity, not the route: products need `read:catalog`, inventory
//! `read:inventory`, orders, order lines, customers, purchase orders and suppliers
//! `read:orders`; checked before anything is counted or read, and for an existing export
//! before its state is shown.
//!
//! Either form takes a `mapping` (a mapping file's name): each row then goes through it and
//! the file holds the mapped records (`switchyard_export::reshape`). The mapping is resolved
//! and checked when the export is asked for (422 naming `mapping`), and again by the job.

use crate::auth::Auth;
use crate::error::{ApiError, ApiJson, ApiPath, ApiQuery, ErrorBody, ErrorCode};
use crate::responses::{BadRequest, Conflict, NotFound, UnprocessableEntity};
use crate::state::AppState;
use axum::body::Body;
use axum::extract::State;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::{DateTime, Utc};
use futures::StreamExt;
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::sync::Arc;
use switchyard_core::ids::ExportId;
use switchyard_export::{Entity, ExportError, ExportState, Filters, Format, Period, Request};
use switchyard_mapping::Mapping;
use switchyard_store::exports::{self, ExportRow};
use switchyard_store::queue::NewJob;
use tokio::io::AsyncReadExt;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// The job kind that writes an export's file (`switchyard_runtime::jobs::export`).
pub const RUN_KIND: &str = "export.run";

pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_export))
        .routes(routes!(get_export))
        .routes(routes!(download_export))
}

/// The scope reading `entity` needs.
pub fn scope(entity: Entity) -> &'static str {
    match entity {
        Entity::Products => "read:catalog",
        Entity::Inventory => "read:inventory",
        Entity::Orders
        | Entity::OrderLines
        | Entity::Customers
        | Entity::Shipments
        | Entity::Invoices
        | Entity::PurchaseOrders
        | Entity::Suppliers => "read:orders",
    }
}

fn content_type(format: Format) -> &'static str {
    match format {
        Format::Csv => "text/csv; charset=utf-8",
        Format::Json => "application/json",
        Format::Xml => "application/xml",
    }
}

impl From<ExportError> for ApiError {
    fn from(e: ExportError) -> Self {
        match e {
            ExportError::Filter(f) => ApiError::validation(f.to_string())
                .with_details(json!({"field": format!("filters.{}", f.field)})),
            ExportError::Store(s) => s.into(),
            ExportError::Unfit { .. } => {
                ApiError::validation(e.to_string()).with_details(json!({"field": "mapping"}))
            }
            ExportError::Mapping {
                row,
                ref field,
                ref mapping,
                ref rule,
                ..
            } => {
                let details = json!({"row": row, "field": field, "mapping": mapping, "rule": rule});
                ApiError::validation(e.to_string()).with_details(details)
            }
            other => {
                tracing::error!(error = %other, "export failed");
                ApiError::new(
                    ErrorCode::Internal,
                    "the export failed; the log has the cause",
                )
            }
        }
    }
}

/// What to leave out (every field optional; an unknown one is refused).
#[derive(Debug, Default, Deserialize, ToSchema, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ExportFilters {
    /// A preset window counted back from when the export starts; not with `from`/`to`.
    #[serde(default)]
    #[schema(schema_with = crate::schemas::export_period_or_null, required = false)]
    #[param(schema_with = crate::schemas::export_period)]
    pub period: Option<Period>,
    /// Window start, inclusive (orders and order lines: created; the rest: last updated).
    #[serde(default)]
    #[param(value_type = Option<String>, format = DateTime)]
    #[schema(value_type = Option<String>, format = DateTime, required = false)]
    pub from: Option<DateTime<Utc>>,
    /// Window end, exclusive; after `from`.
    #[serde(default)]
    #[param(value_type = Option<String>, format = DateTime)]
    #[schema(value_type = Option<String>, format = DateTime, required = false)]
    pub to: Option<DateTime<Utc>>,
    /// Orders and order lines: the order's status; purchase orders: the supplier's (`queued`
    /// until it answered).
    #[serde(default)]
    #[schema(schema_with = crate::schemas::export_status_or_null, required = false)]
    #[param(schema_with = crate::schemas::export_status)]
    pub status: Option<String>,
    /// A SKU: that product, orders holding it, its lines, its stock (and its variants').
    #[serde(default)]
    #[schema(schema_with = crate::schemas::name_or_null, required = false)]
    #[param(schema_with = crate::schemas::name)]
    pub product: Option<String>,
    /// Inventory: a location code.
    #[serde(default)]
    #[schema(schema_with = crate::schemas::name_or_null, required = false)]
    #[param(schema_with = crate::schemas::name)]
    pub location: Option<String>,
    /// Archived rows too (deleted or inactive products, inactive customers, cancelled orders,
    /// rejected or cancelled purchase orders).
    #[serde(default)]
    #[schema(required = false)]
    #[param(required = false)]
    pub include_archived: Option<bool>,
    /// `GET /exports/{entity}.{format}` only: a mapping file (its name under the mappings
    /// directory, `exports/order_lines.accounting`) to reshape each row through. (A started
    /// export names it beside its filters, not among them.)
    #[serde(default)]
    #[schema(ignore)]
    #[param(min_length = 1, pattern = r"^[^\u0000]*[^\s\u0000][^\u0000]*$")]
    pub mapping: Option<String>,
}

impl From<ExportFilters> for Filters {
    fn from(f: ExportFilters) -> Self {
        Filters {
            period: f.period,
            from: f.from,
            to: f.to,
            status: f.status,
            product: f.product,
            location: f.location,
            include_archived: f.include_archived.unwrap_or(false),
        }
    }
}

/// An export to write.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateExport {
    #[schema(schema_with = crate::schemas::export_entity)]
    pub entity: Entity,
    #[schema(schema_with = crate::schemas::export_format)]
    pub format: Format,
    #[serde(default, deserialize_with = "object_or_null")]
    #[schema(required = false)]
    pub filters: Option<ExportFilters>,
    /// A mapping file (its name under the mappings directory, `exports/order_lines.accounting`)
    /// each row goes through; the file then holds the mapped records.
    #[serde(default)]
    #[schema(
        required = false,
        min_length = 1,
        pattern = r"^[^\u0000]*[^\s\u0000][^\u0000]*$"
    )]
    pub mapping: Option<String>,
}

/// `filters` as an object (or null): serde would also read a struct from an array of its
/// fields in order, which the document does not allow and no client means.
fn object_or_null<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<Option<ExportFilters>, D::Error> {
    use serde::de::Error;
    let Some(m) = Option::<serde_json::Map<String, serde_json::Value>>::deserialize(d)? else {
        return Ok(None);
    };
    // The query struct carries the synchronous route's `mapping`; a body names it at the top.
    if m.contains_key("mapping") {
        return Err(D::Error::custom(
            "unknown field `mapping` in filters: name the mapping beside them, at the top level",
        ));
    }
    ExportFilters::deserialize(serde_json::Value::Object(m))
        .map(Some)
        .map_err(D::Error::custom)
}

/// The JSON answers of `GET /exports/{name}`: an export's state (an id), or the rows of a JSON
/// export (`{entity}.json`). Only for the document; never built.
#[derive(ToSchema)]
#[serde(untagged)]
#[allow(dead_code, clippy::large_enum_variant)]
enum ExportOrRows {
    Export(ExportView),
    Rows(Vec<serde_json::Value>),
}

/// An export: what was asked, where it stands, how far it got.
#[derive(Debug, Serialize, ToSchema)]
pub struct ExportView {
    #[schema(value_type = uuid::Uuid)]
    pub id: ExportId,
    #[schema(schema_with = crate::schemas::export_entity)]
    pub entity: Entity,
    #[schema(schema_with = crate::schemas::export_format)]
    pub format: Format,
    #[schema(value_type = Object)]
    pub filters: Filters,
    #[schema(schema_with = crate::schemas::export_state)]
    pub state: ExportState,
    /// Rows written so far.
    pub rows_done: i64,
    /// Rows the export holds; null until the job has counted them.
    pub rows_total: Option<i64>,
    /// rows_done / rows_total × 100 (100 for an empty export); null until counted.
    pub percent: Option<f64>,
    /// Rows written per second since the job started; null before it did.
    pub rows_per_second: Option<f64>,
    /// The file's size, once written.
    pub bytes: Option<i64>,
    /// Why it failed.
    pub error: Option<String>,
    #[schema(value_type = Option<uuid::Uuid>)]
    pub job_id: Option<uuid::Uuid>,
    pub created_at: DateTime<Utc>,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
    /// When the file is deleted (24 hours after it was finished).
    pub expires_at: Option<DateTime<Utc>>,
    /// The mapping file each row goes through, if any.
    pub mapping: Option<String>,
    /// The version (content hash) of that mapping the job used, once it started.
    pub mapping_version: Option<String>,
    /// Where to download the file, once it is written and until it expires.
    pub download: Option<String>,
}

impl ExportView {
    fn new(row: ExportRow, now: DateTime<Utc>) -> Self {
        let state = row.state();
        let percent = row.rows_total.map(|t| {
            if t == 0 {
                100.0
            } else {
                (row.rows_done as f64 / t as f64 * 100.0).min(100.0)
            }
        });
        let rows_per_second = row.started_at.map(|s| {
            let secs = (row.finished_at.unwrap_or(now) - s)
                .num_milliseconds()
                .max(1) as f64
                / 1000.0;
            row.rows_done as f64 / secs
        });
        let download = (state == ExportState::Succeeded)
            .then(|| format!("/api/v1/exports/{}/download", row.id));
        Self {
            id: ExportId(row.id),
            entity: row.entity(),
            format: row.format(),
            state,
            rows_done: row.rows_done,
            rows_total: row.rows_total,
            percent,
            rows_per_second,
            bytes: row.bytes,
            error: row.error,
            job_id: row.job_id,
            created_at: row.created_at,
            started_at: row.started_at,
            finished_at: row.finished_at,
            expires_at: row.expires_at,
            download,
            filters: row.filters.0,
            mapping: row.mapping,
            mapping_version: row.mapping_hash,
        }
    }
}

/// Starts an export: it is recorded and the `export.run` job enqueued, which counts the rows,
/// writes the file under the daemon's `[paths] exports` and keeps it 24 hours. Follow its
/// progress at `Location`. The key needs the entity's read scope (`read:catalog` for products,
/// `read:inventory` for inventory, `read:orders` for orders, order lines and customers).
#[utoipa::path(post, path = "/exports", tag = "exports", request_body = CreateExport,
    responses((status = 202, description = "the export is queued", body = ExportView,
            headers(("Location" = String, description = "the export's status"))),
        (status = 400, response = BadRequest), (status = 415, response = crate::responses::UnsupportedMediaType),
        (status = 422, response = UnprocessableEntity)))]
async fn create_export(
    State(app): State<AppState>,
    auth: Auth,
    ApiJson(body): ApiJson<CreateExport>,
) -> Result<Response, ApiError> {
    auth.require(scope(body.entity))?;
    let filters: Filters = body.filters.unwrap_or_default().into();
    filters.check(body.entity).map_err(ExportError::from)?;
    // Resolved now so a misspelt or unfit mapping is a 422 here, not a failed job later.
    resolve_mapping(&app, body.mapping.as_deref(), body.format)?;
    let now = app.api.queue.now();
    let id = ExportId::new();
    let payload = json!({ "export": id });
    let retry = app
        .api
        .admission
        .admit(RUN_KIND, None, &payload)
        .map_err(|r| ApiError::new(r.code, r.message).with_details(r.details))?;
    let new = exports::NewExport {
        id,
        org: auth.org,
        entity: body.entity,
        format: body.format,
        filters: &filters,
        mapping: body.mapping.as_deref(),
    };
    let mut row = exports::create(&app.api.pool, new, now).await?;
    let mut job = NewJob::new(auth.org, RUN_KIND, payload);
    job.retry = retry;
    job.idempotency_key = Some(format!("export:{id}"));
    let enqueued = app.api.queue.enqueue(job).await?;
    exports::set_job(&app.api.pool, id, enqueued.job.id).await?;
    row.job_id = Some(enqueued.job.id.0);
    let mut response = (StatusCode::ACCEPTED, Json(ExportView::new(row, now))).into_response();
    if let Ok(v) = HeaderValue::from_str(&format!("/api/v1/exports/{id}")) {
        response.headers_mut().insert(header::LOCATION, v);
    }
    Ok(response)
}

/// The mapping `name` from the mappings directory, checked fit to reshape an export.
fn resolve_mapping(
    app: &AppState,
    name: Option<&str>,
    format: Format,
) -> Result<Option<Arc<Mapping>>, ApiError> {
    let Some(name) = name else { return Ok(None) };
    let m = crate::routes::imports::mapping(app, name).map_err(|e| {
        ApiError::validation(format!("mapping: {e}")).with_details(json!({"field": "mapping"}))
    })?;
    switchyard_export::reshape::check(&m, format)?;
    Ok(Some(m))
}

/// What `name` in `GET /exports/{name}` is.
enum Name {
    Export(ExportId),
    File(Entity, Format),
}

fn parse_name(name: &str) -> Result<Name, ApiError> {
    if let Ok(id) = name.parse::<uuid::Uuid>() {
        return Ok(Name::Export(ExportId(id)));
    }
    let file = name
        .split_once('.')
        .and_then(|(e, f)| Some((Entity::parse(e)?, Format::parse(f)?)));
    match file {
        Some((e, f)) => Ok(Name::File(e, f)),
        None => Err(ApiError::not_found("export").with_details(json!({
            "expected": format!(
                "an export id, or ENTITY.FORMAT with ENTITY one of {} and FORMAT one of csv, json, xml",
                Entity::ALL.iter().map(|e| e.as_str()).collect::<Vec<_>>().join(", ")
            )
        }))),
    }
}

/// `GET /exports/{name}`: an export id shows that export (`ExportView`); `{entity}.{format}`
/// (`orders.csv`, `inventory.xml`) streams that export now, filtered by the query parameters,
/// if it holds at most 10,000 rows (more is a 422 pointing to `POST /exports`), through the
/// `mapping` if one is named. Query parameters are ignored for an export id. A failure in the
/// first 64 KiB of the file (a row the mapping cannot map) is an error answer naming the row;
/// a later one cuts the body.
#[utoipa::path(get, path = "/exports/{name}", tag = "exports",
    params(("name" = String, Path, pattern = r"^([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}|(products|orders|order_lines|inventory|customers|purchase_orders|suppliers)\.(csv|json|xml))$",
        description = "an export id, or `{entity}.{format}`"), ExportFilters),
    responses((status = 200, description = "the export's state (an id), or the file (`{entity}.{format}`)",
            content((ExportOrRows = "application/json"), (String = "text/csv"), (String = "application/xml"))),
        (status = 400, response = BadRequest), (status = 404, response = NotFound),
        (status = 422, response = UnprocessableEntity)))]
async fn get_export(
    State(app): State<AppState>,
    auth: Auth,
    ApiPath(name): ApiPath<String>,
    ApiQuery(filters): ApiQuery<ExportFilters>,
) -> Result<Response, ApiError> {
    match parse_name(&name)? {
        Name::Export(id) => {
            let row = load(&app, &auth, id).await?;
            Ok(Json(ExportView::new(row, app.api.queue.now())).into_response())
        }
        Name::File(entity, format) => {
            auth.require(scope(entity))?;
            let mapping = resolve_mapping(&app, filters.mapping.as_deref(), format)?;
            stream_now(&app, &auth, entity, format, filters.into(), mapping).await
        }
    }
}

/// The export `id` of the caller's organization, if its key may read the entity.
async fn load(app: &AppState, auth: &Auth, id: ExportId) -> Result<ExportRow, ApiError> {
    let row = exports::get(&app.api.pool, auth.org, id)
        .await?
        .ok_or_else(|| ApiError::not_found("export"))?;
    auth.require(scope(row.entity()))?;
    Ok(row)
}

async fn stream_now(
    app: &AppState,
    auth: &Auth,
    entity: Entity,
    format: Format,
    filters: Filters,
    mapping: Option<Arc<Mapping>>,
) -> Result<Response, ApiError> {
    let request = Request {
        org: auth.org,
        entity,
        format,
        filters,
        mapping,
    };
    let opened = switchyard_export::open(&app.api.pool, request, app.api.queue.now()).await?;
    if opened.total > switchyard_export::SYNC_LIMIT {
        return Err(ApiError::validation(format!(
            "{} rows: more than {} are exported as a job; POST /api/v1/exports",
            opened.total,
            switchyard_export::SYNC_LIMIT
        ))
        .with_details(json!({"rows": opened.total, "limit": switchyard_export::SYNC_LIMIT})));
    }
    // The writer runs beside the response; the body is what it has written so far. A failure
    // halfway ends the body with an error (the connection is cut), never with a clean end a
    // client would take for a whole file.
    let (mut writer, mut reader) = tokio::io::duplex(64 * 1024);
    let (done_tx, done_rx) = tokio::sync::oneshot::channel();
    tokio::spawn(async move {
        let result = opened.write_to(&mut writer, &mut |_| {}).await;
        if let Err(e) = &result {
            tracing::error!(error = %e, %entity, %format, "synchronous export failed");
        }
        drop(writer);
        let _ = done_tx.send(result.map(|_| ()));
    });
    // The writer hands over its first 64 KiB chunk (or the whole of a smaller file) only once
    // that much is written: waiting for it means a failure there — a row the mapping cannot
    // map — is still an error answer naming the row, before any status line has gone out.
    let mut first = Vec::with_capacity(8 * 1024);
    let n = reader
        .read_buf(&mut first)
        .await
        .map_err(|e| ApiError::new(ErrorCode::Internal, format!("the export failed: {e}")))?;
    let name = format!("{entity}.{}", format.as_str());
    if n == 0 {
        // Nothing written and the writer gone: it has finished, one way or the other.
        return match done_rx.await {
            Ok(Ok(())) => Ok(file_response(Body::from(first), format, &name, Some(0))),
            Ok(Err(e)) => Err(e.into()),
            Err(_) => Err(ApiError::new(
                ErrorCode::Internal,
                "the export ended early; the log has the cause",
            )),
        };
    }
    let tail = futures::stream::once(async move {
        match done_rx.await {
            Ok(Ok(())) => None,
            Ok(Err(e)) => Some(Err(std::io::Error::other(e.to_string()))),
            Err(_) => Some(Err(std::io::Error::other("the export ended early"))),
        }
    })
    .filter_map(|r| async move { r });
    let head = futures::stream::iter([Ok::<_, std::io::Error>(bytes::Bytes::from(first))]);
    let body = Body::from_stream(
        head.chain(tokio_util::io::ReaderStream::new(reader))
            .chain(tail),
    );
    Ok(file_response(body, format, &name, None))
}

fn file_response(body: Body, format: Format, file_name: &str, length: Option<u64>) -> Response {
    let mut response = Response::new(body);
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(content_type(format)),
    );
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{file_name}\"")) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    if let Some(n) = length {
        h.insert(header::CONTENT_LENGTH, HeaderValue::from(n));
    }
    response
}

/// The finished file, streamed from disk. 409 while it is being written or if it failed; 410
/// once its 24 hours are up (whether or not the expiry job has deleted it yet).
#[utoipa::path(get, path = "/exports/{id}/download", tag = "exports",
    params(("id" = uuid::Uuid, Path, description = "export id")),
    responses((status = 200, description = "the file",
            content((String = "text/csv"), (String = "application/json"), (String = "application/xml"))),
        (status = 400, response = BadRequest), (status = 404, response = NotFound),
        (status = 409, response = Conflict),
        (status = 410, description = "the file expired and was (or is about to be) deleted", body = ErrorBody)))]
async fn download_export(
    State(app): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<uuid::Uuid>,
) -> Result<Response, ApiError> {
    let row = load(&app, &auth, ExportId(id)).await?;
    let now = app.api.queue.now();
    let state = row.state();
    let expired = state == ExportState::Expired || row.expires_at.is_some_and(|t| t <= now);
    if expired {
        return Err(
            ApiError::new(ErrorCode::Gone, "the export expired; start a new one")
                .with_details(json!({"expires_at": row.expires_at})),
        );
    }
    if state != ExportState::Succeeded {
        return Err(ApiError::new(
            ErrorCode::Conflict,
            format!("the export is {state}, not ready"),
        )
        .with_details(json!({"state": state, "error": row.error})));
    }
    let path = row.file_path.as_deref().unwrap_or_default();
    let file = tokio::fs::File::open(path).await.map_err(|e| {
        tracing::error!(error = %e, path, "export file missing before its expiry");
        ApiError::new(
            ErrorCode::Gone,
            "the export's file is gone; start a new one",
        )
    })?;
    let format = row.format();
    let name = format!("{}-{}.{}", row.entity, row.id, format.as_str());
    let length = row.bytes.map(|b| b as u64);
    Ok(file_response(
        Body::from_stream(tokio_util::io::ReaderStream::new(file)),
        format,
        &name,
        length,
    ))
}
