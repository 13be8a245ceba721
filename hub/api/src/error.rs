//! One error shape for every response: `{"error": {"code", "message", "details"}}`.
//!
//! Handlers return [`ApiError`]; the extractors in this module ([`ApiJson`], [`OptionalJson`],
//! [`ApiPath`], [`ApiQuery`]) turn axum's rejections into it, so a malformed body or a bad id
//! gets the same shape as a missing scope. Server-side failures are opaque to the client and
//! logged with their cause.

use axum::extract::rejection::{BytesRejection, PathRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::{json, Value};
use switchyard_store::storable::Unstorable;
use switchyard_store::StoreError;
use utoipa::ToSchema;

/// Machine-readable error codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    BadRequest,
    MalformedJson,
    ValidationFailed,
    UnknownJobKind,
    /// A partner the daemon's configuration does not know.
    UnknownPartner,
    /// The partner's adapter does not declare the capability the job needs.
    CapabilityMissing,
    /// The job works with partners of another kind.
    WrongPartnerKind,
    Unauthorized,
    Forbidden,
    NotFound,
    MethodNotAllowed,
    Conflict,
    /// The resource existed and is gone for good (an expired export's file).
    Gone,
    /// The client took too long to send its request (body or whole request).
    RequestTimeout,
    PayloadTooLarge,
    UnsupportedMediaType,
    RateLimited,
    Internal,
    Unavailable,
}

impl ErrorCode {
    pub fn status(&self) -> StatusCode {
        match self {
            ErrorCode::BadRequest | ErrorCode::MalformedJson => StatusCode::BAD_REQUEST,
            ErrorCode::ValidationFailed
            | ErrorCode::UnknownJobKind
            | ErrorCode::UnknownPartner
            | ErrorCode::CapabilityMissing
            | ErrorCode::WrongPartnerKind => StatusCode::UNPROCESSABLE_ENTITY,
            ErrorCode::Unauthorized => StatusCode::UNAUTHORIZED,
            ErrorCode::Forbidden => StatusCode::FORBIDDEN,
            ErrorCode::NotFound => StatusCode::NOT_FOUND,
            ErrorCode::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            ErrorCode::Conflict => StatusCode::CONFLICT,
            ErrorCode::Gone => StatusCode::GONE,
            ErrorCode::RequestTimeout => StatusCode::REQUEST_TIMEOUT,
            ErrorCode::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ErrorCode::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ErrorCode::RateLimited => StatusCode::TOO_MANY_REQUESTS,
            ErrorCode::Internal => StatusCode::INTERNAL_SERVER_ERROR,
            ErrorCode::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        }
    }
}

/// The body of every error response.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorDetail {
    pub code: ErrorCode,
    pub message: String,
    /// Structured context (the field, line and column of a JSON error, the known job kinds,
    /// ...); `null` when there is nothing to add.
    #[schema(value_type = Object, nullable)]
    pub details: Value,
}

#[derive(Debug)]
pub struct ApiError {
    pub code: ErrorCode,
    pub message: String,
    pub details: Value,
    /// Extra response headers (Retry-After on 429, WWW-Authenticate on 401).
    headers: Vec<(header::HeaderName, HeaderValue)>,
}

impl ApiError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            details: Value::Null,
            headers: Vec::new(),
        }
    }

    pub fn with_details(mut self, details: Value) -> Self {
        self.details = details;
        self
    }

    pub fn with_header(mut self, name: header::HeaderName, value: HeaderValue) -> Self {
        self.headers.push((name, value));
        self
    }

    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::Unauthorized, message).with_header(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Bearer realm=\"switchyard\""),
        )
    }

    pub fn not_found(what: &str) -> Self {
        Self::new(ErrorCode::NotFound, format!("{what} not found"))
    }

    pub fn validation(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::ValidationFailed, message)
    }

    /// A server-side failure: the client sees an opaque message, the log gets the cause.
    pub fn internal(cause: &dyn std::fmt::Display) -> Self {
        tracing::error!(error = %cause, "request failed");
        Self::new(ErrorCode::Internal, "internal error")
    }
}

impl From<StoreError> for ApiError {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::NotFound(what) => ApiError::not_found(what),
            StoreError::Conflict(message) => ApiError::new(ErrorCode::Conflict, message),
            StoreError::Invalid(message) => ApiError::validation(message),
            other => ApiError::internal(&other),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ErrorBody {
            error: ErrorDetail {
                code: self.code,
                message: self.message,
                details: self.details,
            },
        };
        let mut response = (self.code.status(), axum::Json(body)).into_response();
        for (name, value) in self.headers {
            response.headers_mut().insert(name, value);
        }
        response
    }
}

impl From<BytesRejection> for ApiError {
    fn from(rejection: BytesRejection) -> Self {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::new(
                ErrorCode::PayloadTooLarge,
                "request body is larger than the limit",
            )
        } else {
            ApiError::new(ErrorCode::BadRequest, rejection.body_text())
        }
    }
}

impl From<PathRejection> for ApiError {
    fn from(rejection: PathRejection) -> Self {
        ApiError::new(ErrorCode::BadRequest, rejection.body_text())
    }
}

impl From<QueryRejection> for ApiError {
    fn from(rejection: QueryRejection) -> Self {
        ApiError::new(ErrorCode::BadRequest, rejection.body_text())
    }
}

/// A NUL character is refused in every path, query parameter and JSON string: no text the
/// API takes may hold one (Postgres `text` and `jsonb` refuse it, so it would end as a 500).
const NUL_REFUSED: &str = "must not contain the NUL character (%00, \\u0000)";

/// Path parameters with rejections in the one error shape; a NUL in the path is a 400.
pub struct ApiPath<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for ApiPath<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let decoded = percent_encoding::percent_decode_str(parts.uri.path());
        if decoded.into_iter().any(|b| b == 0) {
            return Err(ApiError::new(
                ErrorCode::BadRequest,
                format!("the path {NUL_REFUSED}"),
            ));
        }
        let axum::extract::Path(value) =
            axum::extract::Path::<T>::from_request_parts(parts, state).await?;
        Ok(ApiPath(value))
    }
}

/// Query parameters with rejections in the one error shape; a NUL in a parameter's name or
/// value is a 400 naming the parameter.
pub struct ApiQuery<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let query = parts.uri.query().unwrap_or_default();
        if let Some((name, _)) = form_urlencoded::parse(query.as_bytes())
            .find(|(name, value)| name.contains('\0') || value.contains('\0'))
        {
            let name = switchyard_store::storable::storable_text(&name).into_owned();
            return Err(ApiError::new(
                ErrorCode::BadRequest,
                format!("query parameter `{name}` {NUL_REFUSED}"),
            )
            .with_details(json!({ "parameter": name })));
        }
        let axum::extract::Query(value) =
            axum::extract::Query::<T>::from_request_parts(parts, state).await?;
        Ok(ApiQuery(value))
    }
}

fn is_json_content_type(headers: &axum::http::HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|mime| {
            let mime = mime.trim().to_ascii_lowercase();
            mime == "application/json"
                || (mime.starts_with("application/") && mime.ends_with("+json"))
        })
        .unwrap_or(false)
}

/// Parse a JSON body: syntax errors are 400 with line and column, data errors (a missing or
/// mistyped field) are 422 with the same, and so is a value the database could not store (a
/// NUL in a string, a number out of range), with its JSON pointer.
fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    // First as a tree, to look at every string and number (those the type ignores or keeps as
    // `Value` included); then as the type, from the text, so its errors keep line and column.
    let tree: Value = parse_typed(bytes)?;
    if let Some((pointer, why)) = switchyard_store::storable::first_unstorable(&tree) {
        let message = match why {
            Unstorable::Nul => format!("invalid request body: a string {NUL_REFUSED}"),
            other => format!("invalid request body: {other}"),
        };
        return Err(ApiError::validation(message).with_details(json!({ "pointer": pointer })));
    }
    parse_typed(bytes)
}

fn parse_typed<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    serde_json::from_slice(bytes).map_err(|err| {
        let code = match err.classify() {
            serde_json::error::Category::Data => ErrorCode::ValidationFailed,
            _ => ErrorCode::MalformedJson,
        };
        let message = match code {
            ErrorCode::ValidationFailed => format!("invalid request body: {err}"),
            _ => format!("malformed JSON body: {err}"),
        };
        ApiError::new(code, message)
            .with_details(json!({"line": err.line(), "column": err.column()}))
    })
}

fn require_json_type(headers: &axum::http::HeaderMap) -> Result<(), ApiError> {
    if is_json_content_type(headers) {
        Ok(())
    } else {
        Err(ApiError::new(
            ErrorCode::UnsupportedMediaType,
            "expected a request body with `Content-Type: application/json`",
        ))
    }
}

/// A required JSON body. Written on top of `Bytes` rather than `axum::Json` so the messages
/// (with line and column) and the 400/415/422 split are ours.
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        require_json_type(req.headers())?;
        let bytes = Bytes::from_request(req, state).await?;
        parse_json(&bytes).map(ApiJson)
    }
}

/// An optional JSON body: an empty body, or `null`, means `T::default()`.
pub struct OptionalJson<T>(pub T);

impl<T: DeserializeOwned + Default, S: Send + Sync> FromRequest<S> for OptionalJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let headers = req.headers().clone();
        let bytes = Bytes::from_request(req, state).await?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(OptionalJson(T::default()));
        }
        require_json_type(&headers)?;
        // `null` is "no body" too: the document allows it (and some clients send it).
        parse_json::<Option<T>>(&bytes).map(|body| OptionalJson(body.unwrap_or_default()))
    }
}

/// 404 for paths no route matches, in the one shape.
pub async fn route_not_found() -> ApiError {
    ApiError::new(ErrorCode::NotFound, "no such route")
}

/// 405 for a known path with the wrong method, in the one shape.
pub async fn method_not_allowed() -> ApiError {
    ApiError::new(
        ErrorCode::MethodNotAllowed,
        "method not allowed on this route",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_errors_say_where_and_split_syntax_from_data() {
        #[derive(serde::Deserialize, Debug)]
        #[allow(dead_code)]
        struct Body {
            kind: String,
        }
        let err = parse_json::<Body>(b"{\n  \"kind\": \"a\",,\n}").unwrap_err();
        assert_eq!(err.code, ErrorCode::MalformedJson);
        assert_eq!(err.details, json!({"line": 2, "column": 15}));
        assert!(err.message.contains("line 2 column 15"), "{}", err.message);

        let err = parse_json::<Body>(b"{\"kind\": 5}").unwrap_err();
        assert_eq!(err.code, ErrorCode::ValidationFailed);
        assert!(err.message.contains("invalid type"), "{}", err.message);
    }

    #[test]
    fn store_errors_map_to_statuses_and_hide_database_causes() {
        let e: ApiError = StoreError::Conflict("the key is revoked".into()).into();
        assert_eq!(e.code.status(), StatusCode::CONFLICT);
        let e: ApiError = StoreError::Database(sqlx::Error::PoolTimedOut).into();
        assert_eq!(e.code, ErrorCode::Internal);
        assert_eq!(e.message, "internal error");
    }

    #[test]
    fn content_type_check_accepts_json_variants_only() {
        let mut h = axum::http::HeaderMap::new();
        assert!(!is_json_content_type(&h));
        h.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json; charset=utf-8"),
        );
        assert!(is_json_content_type(&h));
        h.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/merge-patch+json"),
        );
        assert!(is_json_content_type(&h));
        h.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain"));
        assert!(!is_json_content_type(&h));
    }
}
