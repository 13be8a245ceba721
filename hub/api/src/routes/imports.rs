//! Product imports (`write:catalog` to upload and confirm, `read:catalog` to look): a file
//! read through a mapping file (MonoPilot's CSV template, JSON, XML), every row checked and
//! stored with its errors, a preview of the first 10 rows, then a confirmation with a conflict
//! policy and per-row overrides that applies the valid rows through the catalog's bulk upsert.
//! The flow itself is `switchyard_import`'s; this module is its HTTP face.

use crate::auth::{ReadCatalog, Scoped, WriteCatalog};
use crate::error::{ApiError, ApiJson, ApiPath, ApiQuery, ErrorBody, ErrorCode};
use crate::responses::{BadRequest, NotFound, UnsupportedMediaType};
use crate::state::AppState;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::json;
use std::collections::BTreeMap;
use std::sync::Arc;
use switchyard_core::ids::{ImportId, OrgId};
use switchyard_import::read::{format_name, makes_products};
use switchyard_import::template::template;
use switchyard_import::{ImportError, ImportReport, MappingSource};
use switchyard_mapping::Mapping;
use switchyard_store::imports::Decision;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(get_template))
        .routes(routes!(upload))
        .routes(routes!(get_import))
        .routes(routes!(confirm))
}

pub(crate) fn mapping(app: &AppState, name: &str) -> Result<Arc<Mapping>, String> {
    match &app.api.mappings {
        Some(m) => m.mapping(name),
        None => Err(format!(
            "no mapping named `{name}`: imports have no mappings directory"
        )),
    }
}

impl From<ImportError> for ApiError {
    fn from(e: ImportError) -> Self {
        match e {
            ImportError::UnknownMapping(m) => ApiError::validation(format!("mapping: {m}")),
            ImportError::NotProducts(_) | ImportError::NotBoms(_) => {
                ApiError::validation(format!("mapping: {e}"))
            }
            ImportError::NotFound => ApiError::not_found("import"),
            ImportError::AlreadyApplied => ApiError::new(ErrorCode::Conflict, e.to_string())
                .with_details(json!({"state": "applied"})),
            ImportError::Unreadable => ApiError::new(ErrorCode::Conflict, e.to_string())
                .with_details(json!({"state": "failed"})),
            ImportError::BadOverride { .. } => ApiError::validation(e.to_string()),
            ImportError::Store(s) => s.into(),
        }
    }
}

/// The content types a file of each format may be sent as.
fn content_types(format: &str) -> &'static [&'static str] {
    match format {
        "csv" => &["text/csv", "application/csv", "text/plain"],
        "xml" => &["application/xml", "text/xml"],
        "jsonl" => &[
            "application/x-ndjson",
            "application/jsonl",
            "application/json",
        ],
        _ => &["application/json"],
    }
}

/// The template of an import mapping: its CSV header row (the fields its rules read), to fill
/// in and upload. A name holds a `/`: send it percent-encoded (`monopilot%2Fproduct.import`).
#[utoipa::path(get, path = "/catalog/import-templates/{name}", tag = "imports",
    params(("name" = String, Path, min_length = 1, description = "the mapping's name, e.g. `monopilot/product.import` (percent-encode the `/`)")),
    responses((status = 200, description = "the template, a CSV header row", content_type = "text/csv", body = String),
        (status = 400, response = BadRequest), (status = 404, response = NotFound),
        (status = 422, description = "the mapping does not make products, or does not read CSV", body = ErrorBody)))]
async fn get_template(
    State(app): State<AppState>,
    _reader: Scoped<ReadCatalog>,
    ApiPath(name): ApiPath<String>,
) -> Result<Response, ApiError> {
    let m = mapping(&app, &name).map_err(|e| ApiError::new(ErrorCode::NotFound, e))?;
    if !makes_products(&m) {
        return Err(ImportError::NotProducts(name).into());
    }
    let body = template(&m).map_err(|e| ApiError::validation(e.to_string()))?;
    let file = format!("{}.csv", name.replace(['/', '"', '\\'], "-"));
    let disposition = HeaderValue::from_str(&format!("attachment; filename=\"{file}\""))
        .unwrap_or_else(|_| HeaderValue::from_static("attachment"));
    Ok((
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/csv; charset=utf-8"),
            ),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        body,
    )
        .into_response())
}

// The patterns are `schemas::NON_BLANK` (the attribute takes a literal only).
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct UploadQuery {
    /// The import mapping to read the file with, e.g. `monopilot/product.import`.
    #[param(min_length = 1, pattern = r"^[^\u0000]*[^\s\u0000][^\u0000]*$")]
    pub mapping: String,
    /// The file's name, kept with the import (`upload.<format>` when absent).
    #[param(
        min_length = 1,
        max_length = 255,
        pattern = r"^[^\u0000]*[^\s\u0000][^\u0000]*$"
    )]
    pub file_name: Option<String>,
}

/// Upload a product file: it is read through the mapping and every row checked (the mapping's
/// rules: required, one of a list, a known unit, unique codes; and the catalog's: a SKU a
/// variant holds). The import is stored with every row, valid or not, and nothing is applied
/// until it is confirmed. The answer has the totals, every error by row and field, and a
/// preview of the first 10 valid rows marked `new` or `exists`. A file that cannot be read at
/// all is stored too (state `failed`, with its `error`). The body is the file itself, sent as
/// its format's content type (CSV `text/csv`, JSON `application/json`, XML `application/xml`),
/// within the API's body limit.
#[utoipa::path(post, path = "/catalog/imports", tag = "imports", params(UploadQuery),
    request_body(content((String = "text/csv"), (Object = "application/json"), (String = "application/xml")),
        description = "the file, in the format the mapping reads"),
    responses((status = 201, body = ImportReport), (status = 400, response = BadRequest),
        (status = 415, description = "the content type is not the mapping's format's", body = ErrorBody),
        (status = 422, description = "no such mapping, or it does not make products", body = ErrorBody)))]
async fn upload(
    State(app): State<AppState>,
    Scoped(auth, _): Scoped<WriteCatalog>,
    ApiQuery(q): ApiQuery<UploadQuery>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<(StatusCode, Json<ImportReport>), ApiError> {
    if q.mapping.trim().is_empty() {
        return Err(ApiError::validation("mapping: must not be empty"));
    }
    let m = mapping(&app, &q.mapping).map_err(ImportError::UnknownMapping)?;
    if !makes_products(&m) {
        return Err(ImportError::NotProducts(q.mapping).into());
    }
    let format = format_name(&m);
    let sent = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|v| v.trim().to_ascii_lowercase())
        .unwrap_or_default();
    let wanted = content_types(format);
    if !wanted.contains(&sent.as_str()) {
        return Err(ApiError::new(
            ErrorCode::UnsupportedMediaType,
            format!(
                "mapping `{}` reads {format}: send the file as {}",
                q.mapping,
                wanted.join(" or ")
            ),
        ));
    }
    let body = body?;
    let file_name = match q.file_name {
        Some(f) if f.trim().is_empty() || f.chars().count() > 255 => {
            return Err(ApiError::validation(
                "file_name: must be 1 to 255 characters, not all white space",
            ))
        }
        Some(f) => f.trim().to_owned(),
        None => format!("upload.{format}"),
    };
    let id = switchyard_import::upload(
        &app.api.pool,
        &StaticMapping(m),
        auth.org,
        &q.mapping,
        &file_name,
        &body,
    )
    .await?;
    Ok((StatusCode::CREATED, Json(report(&app, auth.org, id).await?)))
}

/// The version of the mapping the content type was checked against, so a hot reload between
/// the check and the read cannot change the format under the request.
pub(crate) struct StaticMapping(pub(crate) Arc<Mapping>);

impl MappingSource for StaticMapping {
    fn mapping(&self, _: &str) -> Result<Arc<Mapping>, String> {
        Ok(self.0.clone())
    }
}

pub(crate) async fn report(
    app: &AppState,
    org: OrgId,
    id: ImportId,
) -> Result<ImportReport, ApiError> {
    switchyard_import::report(&app.api.pool, org, id)
        .await?
        .ok_or_else(|| ApiError::not_found("import"))
}

/// An import: totals, errors by row and field, the preview (each row `new` or `exists` as the
/// catalog stands now) and, once confirmed, every row's outcome. Another organization's
/// import is 404.
#[utoipa::path(get, path = "/catalog/imports/{id}", tag = "imports",
    params(("id" = uuid::Uuid, Path, description = "import id")),
    responses((status = 200, body = ImportReport), (status = 400, response = BadRequest), (status = 404, response = NotFound)))]
async fn get_import(
    State(app): State<AppState>,
    Scoped(auth, _): Scoped<ReadCatalog>,
    ApiPath(id): ApiPath<uuid::Uuid>,
) -> Result<Json<ImportReport>, ApiError> {
    Ok(Json(report(&app, auth.org, ImportId(id)).await?))
}

/// How to confirm an import.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConfirmRequest {
    /// What to do with a valid row whose SKU names an existing product: `skip` it (the
    /// default) or `update` the product with the row's fields.
    #[serde(default = "skip")]
    #[schema(schema_with = decision, required = false)]
    pub on_conflict: Decision,
    /// Per-row overrides of `on_conflict`, by row number: `{"7": "update"}`.
    #[serde(default)]
    #[schema(schema_with = overrides, required = false)]
    pub rows: BTreeMap<String, Decision>,
}

fn skip() -> Decision {
    Decision::Skip
}

fn decision() -> utoipa::openapi::Object {
    crate::schemas::one_of(Decision::ALL)
}

fn overrides() -> utoipa::openapi::Object {
    utoipa::openapi::ObjectBuilder::new()
        .schema_type(utoipa::openapi::schema::Type::Object)
        .property_names(Some(
            utoipa::openapi::ObjectBuilder::new()
                .schema_type(utoipa::openapi::schema::Type::String)
                .pattern(Some("^[0-9]+$")),
        ))
        .additional_properties(Some(utoipa::openapi::schema::AdditionalProperties::RefOr(
            utoipa::openapi::RefOr::T(utoipa::openapi::Schema::Object(decision())),
        )))
        .build()
}

/// Confirm an import: its valid rows are applied through the catalog's bulk upsert (1,000 per
/// transaction, each with its rows' outcomes), so they land in the products table and move the
/// change feed as a REST upsert does. A row whose SKU exists follows `on_conflict` or its
/// override; invalid rows are not applied (outcome `failed`, with why). Confirming an applied
/// import is a 409 and applies nothing; an interrupted confirmation is resumed by confirming
/// again, with the decisions it was first confirmed with.
#[utoipa::path(post, path = "/catalog/imports/{id}/confirm", tag = "imports",
    params(("id" = uuid::Uuid, Path, description = "import id")),
    request_body = ConfirmRequest,
    responses((status = 200, body = ImportReport), (status = 400, response = BadRequest),
        (status = 404, response = NotFound),
        (status = 409, description = "applied already, or the file could not be read", body = ErrorBody),
        (status = 415, response = UnsupportedMediaType),
        (status = 422, description = "a field of the wrong type, or an override that names no valid row", body = ErrorBody)))]
async fn confirm(
    State(app): State<AppState>,
    Scoped(auth, _): Scoped<WriteCatalog>,
    ApiPath(id): ApiPath<uuid::Uuid>,
    ApiJson(req): ApiJson<ConfirmRequest>,
) -> Result<Json<ImportReport>, ApiError> {
    confirm_and_report(&app, auth.org, ImportId(id), req).await
}

/// Confirm an import and answer its report (both route families).
pub(crate) async fn confirm_and_report(
    app: &AppState,
    org: OrgId,
    id: ImportId,
    req: ConfirmRequest,
) -> Result<Json<ImportReport>, ApiError> {
    switchyard_import::confirm(&app.api.pool, org, id, req.on_conflict, &req.rows).await?;
    Ok(Json(report(app, org, id).await?))
}
