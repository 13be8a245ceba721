//! `POST /api/v1/imports` as `multipart/form-data`, what a browser's file input sends: a
//! `file` part (the file, with its own content type and file name) and optional text fields
//! `entity`, `mapping` and `file_name`, the query parameters' twins. Read with axum's
//! `Multipart` (multer); the whole body is bounded by `[api] import_limit_bytes` like a plain
//! upload's (the access log buffers it under that limit, and the file part is counted here
//! too, so the handler does not rely on the layer alone).

use crate::error::ApiError;
use crate::routes::imports_v1::{too_large, EntityParam, UploadImportQuery, XLSX};
use axum::extract::multipart::{Multipart, MultipartError};
use axum::http::StatusCode;
use utoipa::ToSchema;

/// The form's parts as the OpenAPI document states them.
#[derive(ToSchema)]
#[allow(dead_code)] // a schema only: the handler reads the parts one by one
pub struct UploadForm {
    /// The file: CSV, an XLSX workbook or a JSON table. Its part's content type says which;
    /// when it says none or `application/octet-stream`, its file name's extension does
    /// (`.csv`, `.xlsx`, `.json`, `.xml`).
    #[schema(value_type = String, format = Binary)]
    file: Vec<u8>,
    /// As the `entity` query parameter (not both).
    #[schema(value_type = Option<EntityParam>)]
    entity: Option<String>,
    /// As the `mapping` query parameter (not both).
    #[schema(min_length = 1)]
    mapping: Option<String>,
    /// As the `file_name` query parameter (not both); the file part's own name when absent.
    #[schema(min_length = 1, max_length = 255)]
    file_name: Option<String>,
}

/// The file part.
pub struct FilePart {
    pub bytes: Vec<u8>,
    /// The content type the file is read as: its part's, or its name's extension's.
    pub content_type: String,
    /// The name the part carries (`filename=` of its Content-Disposition).
    pub name: Option<String>,
}

/// A form read: its file and its fields laid over the query's.
pub struct Form {
    pub file: FilePart,
    pub query: UploadImportQuery,
}

fn unreadable(e: MultipartError, limit: usize) -> ApiError {
    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
        return too_large(limit);
    }
    // 422 rather than 400: the request was well-formed HTTP and named its form type; what it
    // carried is not a form this route can read (the OpenAPI document lists 422 for it).
    ApiError::validation(format!(
        "the multipart/form-data body could not be read: {}",
        e.body_text()
    ))
}

/// The type to read a file part as: its own, unless it names none or only "bytes", then the
/// one its file name's extension stands for (browsers send CSV as `application/vnd.ms-excel`
/// or `application/octet-stream` depending on the machine; the extension is what the user
/// chose).
fn content_type_of(declared: Option<&str>, name: Option<&str>) -> String {
    let declared = declared
        .and_then(|v| v.split(';').next())
        .map(|v| v.trim().to_ascii_lowercase())
        .filter(|v| !v.is_empty() && v != "application/octet-stream");
    if let Some(d) = declared
        .as_ref()
        .filter(|d| *d != "application/vnd.ms-excel")
    {
        return d.clone();
    }
    let ext = name
        .and_then(|n| n.rsplit_once('.'))
        .map(|(_, e)| e.to_ascii_lowercase());
    match ext.as_deref() {
        Some("csv") => "text/csv".to_owned(),
        Some("xlsx") => XLSX.to_owned(),
        Some("json") => "application/json".to_owned(),
        Some("xml") => "application/xml".to_owned(),
        _ => declared.unwrap_or_else(|| "application/octet-stream".to_owned()),
    }
}

/// Sets a field the query may have set already: the same setting twice is ambiguous.
fn set(slot: &mut Option<String>, field: &str, value: String) -> Result<(), ApiError> {
    if slot.is_some() {
        return Err(twice(field));
    }
    *slot = Some(value);
    Ok(())
}

fn twice(field: &str) -> ApiError {
    ApiError::validation(format!(
        "{field}: given twice (in the query and the form, or two form fields); give it once"
    ))
}

/// Reads the form: exactly one `file` part, at most `limit` bytes in all, and the fields
/// `entity`, `mapping`, `file_name`; any other part is refused by name.
pub async fn read(
    mut form: Multipart,
    query: UploadImportQuery,
    limit: usize,
) -> Result<Form, ApiError> {
    let mut query = query;
    let mut file: Option<FilePart> = None;
    let mut read = 0usize;
    while let Some(mut part) = form.next_field().await.map_err(|e| unreadable(e, limit))? {
        let name = part.name().unwrap_or_default().to_owned();
        if name == "file" {
            if file.is_some() {
                return Err(ApiError::validation(
                    "file: the form has two `file` parts; upload one file at a time",
                ));
            }
            let content_type = content_type_of(part.content_type(), part.file_name());
            let part_name = part.file_name().map(str::to_owned);
            let mut bytes = Vec::new();
            while let Some(chunk) = part.chunk().await.map_err(|e| unreadable(e, limit))? {
                read += chunk.len();
                if read > limit {
                    return Err(too_large(limit));
                }
                bytes.extend_from_slice(&chunk);
            }
            file = Some(FilePart {
                bytes,
                content_type,
                name: part_name,
            });
            continue;
        }
        let text = part.text().await.map_err(|e| unreadable(e, limit))?;
        read += text.len();
        if read > limit {
            return Err(too_large(limit));
        }
        match name.as_str() {
            "entity" => {
                let parsed = match text.trim() {
                    "products" => EntityParam::Products,
                    "boms" => EntityParam::Boms,
                    other => {
                        return Err(ApiError::validation(format!(
                            "entity: `{other}` is not an import entity; expected products or boms"
                        )))
                    }
                };
                if query.entity.replace(parsed).is_some() {
                    return Err(twice("entity"));
                }
            }
            "mapping" => set(&mut query.mapping, "mapping", text)?,
            "file_name" => set(&mut query.file_name, "file_name", text)?,
            other => {
                return Err(ApiError::validation(format!(
                    "`{other}`: not a field of an import form; expected file, entity, mapping, file_name"
                )))
            }
        }
    }
    let file = file.ok_or_else(|| {
        ApiError::validation("file: the form has no `file` part (the file to import)")
    })?;
    if query.file_name.is_none() {
        query.file_name = file.name.clone().filter(|n| !n.trim().is_empty());
    }
    Ok(Form { file, query })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_part_is_read_as_its_type_or_its_extension() {
        assert_eq!(
            content_type_of(Some("text/csv; charset=utf-8"), None),
            "text/csv"
        );
        assert_eq!(
            content_type_of(Some("application/octet-stream"), Some("b.XLSX")),
            XLSX
        );
        assert_eq!(
            content_type_of(Some("application/vnd.ms-excel"), Some("p.csv")),
            "text/csv"
        );
        assert_eq!(content_type_of(None, Some("p.json")), "application/json");
        assert_eq!(content_type_of(None, Some("p")), "application/octet-stream");
        assert_eq!(
            content_type_of(Some("application/pdf"), Some("p.csv")),
            "application/pdf"
        );
    }
}
