//! Import templates and uploads (issue #17, FR-INT-018 / FR-INT-019) for products and BOMs:
//! `GET /imports/templates/{entity}.{csv|xlsx}`, `POST /imports` (CSV, XLSX or JSON, within
//! `[api] import_limit_bytes`), `GET /imports/{id}`, `POST /imports/{id}/confirm`. The same
//! flow and the same stored imports as `/catalog/imports` (routes/imports.rs, kept for
//! clients of any mapping and any format), with the entity's default mapping and the
//! spreadsheet formats on top: an import made through either is shown and confirmed by both.
//! Scopes: `read:catalog` to look, `write:catalog` to upload and confirm (BOMs are catalog
//! data).

use crate::auth::{ReadCatalog, Scoped, WriteCatalog};
use crate::error::{ApiError, ApiJson, ApiPath, ApiQuery, ErrorBody, ErrorCode};
use crate::responses::{BadRequest, NotFound, UnsupportedMediaType};
use crate::routes::imports::{confirm_and_report, mapping, report, ConfirmRequest};
use crate::routes::imports_form::UploadForm;
use crate::state::AppState;
use axum::extract::{DefaultBodyLimit, FromRequest, Multipart, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use switchyard_core::ids::ImportId;
use switchyard_import::read::format_name;
use switchyard_import::template::{csv_with_example, xlsx};
use switchyard_import::{EntityImport, ImportEntity, ImportError, ImportReport, Input, Upload};
use switchyard_mapping::Format;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// The content type of an XLSX workbook.
pub const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// The upload route's path under `/api/v1`: the access log buffers its body under
/// `import_limit_bytes` instead of `body_limit_bytes`.
pub const UPLOAD_PATH: &str = "/imports";

pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(upload_import))
        // The router's `DefaultBodyLimit` is `body_limit_bytes` (1 MiB), which axum's
        // `Multipart` would apply to a form; an upload is bounded by `import_limit_bytes`
        // instead (the access log buffers it under that limit, and the handler counts it).
        // Layered before the other routes are added, so it is this route's alone.
        .layer(DefaultBodyLimit::disable())
        .routes(routes!(import_template))
        .routes(routes!(show_import))
        .routes(routes!(confirm_import))
}

/// `products` / `boms`, in a query or a template's file name.
#[derive(Debug, Clone, Copy, Default, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum EntityParam {
    #[default]
    Products,
    Boms,
}

impl From<EntityParam> for ImportEntity {
    fn from(e: EntityParam) -> Self {
        match e {
            EntityParam::Products => ImportEntity::Products,
            EntityParam::Boms => ImportEntity::Boms,
        }
    }
}

fn attachment(name: &str) -> HeaderValue {
    HeaderValue::from_str(&format!("attachment; filename=\"{name}\""))
        .unwrap_or_else(|_| HeaderValue::from_static("attachment"))
}

/// The template of an entity's import: its header row and an example row, as CSV (UTF-8 with
/// a BOM, for Excel) or as an XLSX workbook whose sheet is the one an upload is read from.
/// The columns are those the entity's default mapping reads (`monopilot/product.import`,
/// `monopilot/bom.import`).
#[utoipa::path(get, path = "/imports/templates/{file}", tag = "imports",
    params(("file" = String, Path, pattern = r"^(products|boms)\.(csv|xlsx)$",
        description = "`products.csv`, `products.xlsx`, `boms.csv` or `boms.xlsx`")),
    responses((status = 200, description = "the template",
            content((String = "text/csv"), (String = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"))),
        (status = 400, response = BadRequest), (status = 404, response = NotFound)))]
async fn import_template(
    State(app): State<AppState>,
    _reader: Scoped<ReadCatalog>,
    ApiPath(file): ApiPath<String>,
) -> Result<Response, ApiError> {
    let unknown = || {
        ApiError::new(
            ErrorCode::NotFound,
            format!(
                "no template `{file}`: the templates are products.csv, products.xlsx, boms.csv and boms.xlsx"
            ),
        )
    };
    let (entity, ext) = file.split_once('.').ok_or_else(unknown)?;
    let entity = match entity {
        "products" => ImportEntity::Products,
        "boms" => ImportEntity::Boms,
        _ => return Err(unknown()),
    };
    let m = mapping(&app, entity.default_mapping())
        .map_err(|e| ApiError::new(ErrorCode::NotFound, e))?;
    let (body, content_type) = match ext {
        "csv" => (
            csv_with_example(&m, entity).map_err(|e| ApiError::validation(e.to_string()))?,
            "text/csv; charset=utf-8",
        ),
        "xlsx" => (
            xlsx(&m, entity).map_err(|e| ApiError::validation(e.to_string()))?,
            XLSX,
        ),
        _ => return Err(unknown()),
    };
    Ok((
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
            (header::CONTENT_DISPOSITION, attachment(&file)),
        ],
        body,
    )
        .into_response())
}

// The patterns are `schemas::NON_BLANK` (the attribute takes a literal only).
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct UploadImportQuery {
    /// What the file holds: `products` (the default) or `boms`.
    #[param(value_type = Option<EntityParam>)]
    pub entity: Option<EntityParam>,
    /// The mapping to read it with; the entity's template mapping when absent
    /// (`monopilot/product.import`, `monopilot/bom.import`).
    #[param(min_length = 1, pattern = r"^[^\u0000]*[^\s\u0000][^\u0000]*$")]
    pub mapping: Option<String>,
    /// The file's name, kept with the import (`upload.<format>` when absent).
    #[param(
        min_length = 1,
        max_length = 255,
        pattern = r"^[^\u0000]*[^\s\u0000][^\u0000]*$"
    )]
    pub file_name: Option<String>,
}

/// How a body of `content_type` is read with a mapping that reads `reads`.
fn input_for(content_type: &str, reads: Format) -> Option<Input> {
    let tabular = reads == Format::Csv;
    match content_type {
        "text/csv" | "application/csv" | "text/plain" if tabular => Some(Input::Mapping),
        XLSX if tabular => Some(Input::Xlsx),
        "application/json" if tabular => Some(Input::JsonTable),
        "application/json" if reads == Format::Json => Some(Input::Mapping),
        "application/xml" | "text/xml" if reads == Format::Xml => Some(Input::Mapping),
        _ => None,
    }
}

/// Upload a product or BOM file, up to `[api] import_limit_bytes` (10 MiB by default; above
/// it the answer is 413 naming the limit). The body is the file: CSV (`text/csv`), an XLSX
/// workbook (its sheet `Products` / `BOMs`, else its first), or JSON (an array of rows keyed
/// by the template's columns). Every row is read through the mapping and checked — products:
/// code required and unique in the file, type, unit, allergens, numbers; BOM lines: version
/// from 1, quantity above 0, product and component in the catalog, the unit the component's
/// own, a line not twice in a BOM — and the import is stored with every row, valid or not.
/// Every error names its row, its column (header and spreadsheet letter), the value and what
/// was expected. Nothing is applied until it is confirmed. The file may also come as
/// `multipart/form-data` (a browser's file input): a `file` part and the query's parameters as
/// fields, each given once; the limit is the same.
#[utoipa::path(post, path = "/imports", tag = "imports", params(UploadImportQuery),
    request_body(content((String = "text/csv"), (String = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"), (Object = "application/json"),
            (UploadForm = "multipart/form-data")),
        description = "the file, or a form with the file"),
    responses((status = 201, body = ImportReport), (status = 400, response = BadRequest),
        (status = 413, description = "the file is larger than `[api] import_limit_bytes`", body = ErrorBody),
        (status = 415, description = "a content type the mapping's format cannot be read from", body = ErrorBody),
        (status = 422, description = "no such mapping, or it does not make the entity", body = ErrorBody)))]
async fn upload_import(
    State(app): State<AppState>,
    Scoped(auth, _): Scoped<WriteCatalog>,
    ApiQuery(q): ApiQuery<UploadImportQuery>,
    request: Request,
) -> Result<(StatusCode, Json<ImportReport>), ApiError> {
    let limit = app.api.config.import_limit_bytes;
    let sent = media_type(request.headers());
    let (q, sent, file) = if sent == "multipart/form-data" {
        let form = Multipart::from_request(request, &app)
            .await
            .map_err(|e| ApiError::new(ErrorCode::BadRequest, e.body_text()))?;
        let form = crate::routes::imports_form::read(form, q, limit).await?;
        (
            form.query,
            form.file.content_type,
            File::Read(form.file.bytes),
        )
    } else {
        (q, sent, File::Body(request.into_body()))
    };
    let entity = ImportEntity::from(q.entity.unwrap_or_default());
    let mapping_name = match &q.mapping {
        Some(m) if m.trim().is_empty() => {
            return Err(ApiError::validation("mapping: must not be empty"))
        }
        Some(m) => m.clone(),
        None => entity.default_mapping().to_owned(),
    };
    let m = mapping(&app, &mapping_name).map_err(ImportError::UnknownMapping)?;
    let Some(input) = input_for(&sent, m.source.format) else {
        let accepted = if m.source.format == Format::Csv {
            format!("text/csv, {XLSX} or application/json")
        } else {
            format!("its own format ({})", format_name(&m))
        };
        return Err(ApiError::new(
            ErrorCode::UnsupportedMediaType,
            format!("mapping `{mapping_name}` reads {accepted}, not `{sent}`"),
        ));
    };
    // A plain body is read only once its type is known to be readable (a 415 reads nothing).
    let bytes = match file {
        File::Read(bytes) => bytes,
        File::Body(body) => axum::body::to_bytes(body, limit)
            .await
            .map_err(|_| too_large(limit))?
            .to_vec(),
    };
    let file_name = match q.file_name {
        Some(f) if f.trim().is_empty() || f.chars().count() > 255 => {
            return Err(ApiError::validation(
                "file_name: must be 1 to 255 characters, not all white space",
            ))
        }
        Some(f) => f.trim().to_owned(),
        None => format!(
            "upload.{}",
            match input {
                Input::Xlsx => "xlsx",
                Input::JsonTable => "json",
                Input::Mapping => format_name(&m),
            }
        ),
    };
    let upload = Upload {
        entity,
        mapping: &mapping_name,
        input,
        file_name: &file_name,
    };
    let id = switchyard_import::upload_file(
        &app.api.pool,
        &Pinned {
            name: &mapping_name,
            mapping: m,
            app: &app,
        },
        auth.org,
        &upload,
        &bytes,
    )
    .await?;
    Ok((StatusCode::CREATED, Json(report(&app, auth.org, id).await?)))
}

/// The mapping the content type was checked against, pinned so a hot reload between the check
/// and the read cannot change the format under the request; any other (a BOM workbook's
/// `Products` sheet is read with the product template's) as the app has it now.
struct Pinned<'a> {
    name: &'a str,
    mapping: std::sync::Arc<switchyard_mapping::Mapping>,
    app: &'a AppState,
}

impl switchyard_import::MappingSource for Pinned<'_> {
    fn mapping(&self, name: &str) -> Result<std::sync::Arc<switchyard_mapping::Mapping>, String> {
        if name == self.name {
            Ok(self.mapping.clone())
        } else {
            mapping(self.app, name)
        }
    }
}

/// An upload's file: read from a form already, or the request's body still to read.
enum File {
    Read(Vec<u8>),
    Body(axum::body::Body),
}

/// The media type of a request (`text/csv` of `text/csv; charset=utf-8`), lower case.
fn media_type(headers: &HeaderMap) -> String {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|v| v.trim().to_ascii_lowercase())
        .unwrap_or_default()
}

/// 413 naming the import limit and the setting that raises it.
pub(crate) fn too_large(limit: usize) -> ApiError {
    ApiError::new(
        ErrorCode::PayloadTooLarge,
        format!(
            "the file is larger than the import limit of {limit} bytes; split it, or raise `[api] import_limit_bytes`"
        ),
    )
    .with_details(serde_json::json!({ "limit_bytes": limit }))
}

/// An import (products or BOMs): totals, every error by row and column with the value and what
/// was expected, the preview of the first 10 valid rows as they will be stored (each `new` or
/// `exists` as the store stands now) and, once confirmed, every row's outcome. Another
/// organization's import is 404.
#[utoipa::path(get, path = "/imports/{id}", tag = "imports",
    params(("id" = uuid::Uuid, Path, description = "import id")),
    responses((status = 200, body = ImportReport), (status = 400, response = BadRequest), (status = 404, response = NotFound)))]
async fn show_import(
    State(app): State<AppState>,
    Scoped(auth, _): Scoped<ReadCatalog>,
    ApiPath(id): ApiPath<uuid::Uuid>,
) -> Result<Json<ImportReport>, ApiError> {
    Ok(Json(report(&app, auth.org, ImportId(id)).await?))
}

/// Confirm an import with a conflict policy (`skip` or `update`, per import, and per row by
/// row number). Products: applied through the catalog's bulk upsert, 1,000 rows per
/// transaction with their outcomes (a crash resumes where it stopped; each row applied once),
/// events `product.created` / `product.updated` from the products table. BOMs: the whole
/// import in one transaction, each BOM whole or not at all (a BOM with an invalid row is not
/// applied; a BOM that exists follows its first row's decision), events `bom.created` /
/// `bom.updated`. Confirming an applied import is a 409.
#[utoipa::path(post, path = "/imports/{id}/confirm", tag = "imports",
    params(("id" = uuid::Uuid, Path, description = "import id")),
    request_body = ConfirmRequest,
    responses((status = 200, body = ImportReport), (status = 400, response = BadRequest),
        (status = 404, response = NotFound),
        (status = 409, description = "applied already, or the file could not be read", body = ErrorBody),
        (status = 415, response = UnsupportedMediaType),
        (status = 422, description = "a field of the wrong type, or an override that names no valid row", body = ErrorBody)))]
async fn confirm_import(
    State(app): State<AppState>,
    Scoped(auth, _): Scoped<WriteCatalog>,
    ApiPath(id): ApiPath<uuid::Uuid>,
    ApiJson(req): ApiJson<ConfirmRequest>,
) -> Result<Json<ImportReport>, ApiError> {
    confirm_and_report(&app, auth.org, ImportId(id), req).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_types_pick_the_reader() {
        assert_eq!(input_for("text/csv", Format::Csv), Some(Input::Mapping));
        assert_eq!(input_for(XLSX, Format::Csv), Some(Input::Xlsx));
        assert_eq!(
            input_for("application/json", Format::Csv),
            Some(Input::JsonTable)
        );
        assert_eq!(
            input_for("application/json", Format::Json),
            Some(Input::Mapping)
        );
        assert_eq!(input_for(XLSX, Format::Json), None);
        assert_eq!(input_for("application/pdf", Format::Csv), None);
    }
}
