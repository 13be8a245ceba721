//! One integration-log row (type `api`, direction inbound) per API call.
//!
//! The middleware buffers the request body once, under the configured limit (413 in the one
//! error shape above it), so the row can carry the masked body (of a request without a valid
//! key, only its first KiB and its size); error responses are small and
//! their bodies are logged too. Success bodies are not: a page of 500 log rows logged into
//! the log would only feed on itself. The row is written after the response is built and
//! before it is sent, so a client that reads its 429 can already find it in the log.

use crate::auth::Auth;
use crate::error::{ApiError, ErrorCode};
use crate::state::AppState;
use axum::body::{Body, Bytes};
use axum::extract::{MatchedPath, OriginalUri, Request, State};
use axum::http::{HeaderName, HeaderValue};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http_body_util::BodyExt;
use serde_json::Value;
use std::time::Instant;
use switchyard_store::logs::{self, Direction, IntegrationType, LogStatus, NewLogEntry};
use uuid::Uuid;

pub const X_CORRELATION_ID: HeaderName = HeaderName::from_static("x-correlation-id");

/// Error bodies above this are not copied into the log.
const MAX_LOGGED_RESPONSE: usize = 64 * 1024;

fn as_json(bytes: &[u8]) -> Option<Value> {
    if bytes.is_empty() {
        return None;
    }
    Some(serde_json::from_slice(bytes).unwrap_or_else(|_| {
        // Not JSON (a malformed body, most likely): keep a bounded text copy.
        let text = String::from_utf8_lossy(&bytes[..bytes.len().min(4096)]).into_owned();
        serde_json::json!({ "raw": text })
    }))
}

/// How much of the body of a request without a valid key is logged: enough to see what a
/// misconfigured client sends, too little for anyone to fill the log through the API.
const MAX_LOGGED_UNAUTHENTICATED: usize = 1024;

/// The body of a request that brought no valid key: its first KiB as text, and its size.
fn unauthenticated_body(bytes: &[u8]) -> Option<Value> {
    head_and_size(bytes, "unauthenticated")
}

/// `{MARK: true, "bytes": size, "head": the first KiB as text}`.
fn head_and_size(bytes: &[u8], mark: &str) -> Option<Value> {
    if bytes.is_empty() {
        return None;
    }
    let head = &bytes[..bytes.len().min(MAX_LOGGED_UNAUTHENTICATED)];
    Some(serde_json::json!({
        mark: true,
        "bytes": bytes.len(),
        "head": String::from_utf8_lossy(head),
    }))
}

/// An uploaded file's log copy: its size and first KiB.
fn file_body(bytes: &[u8]) -> Option<Value> {
    head_and_size(bytes, "file")
}

pub async fn record(State(app): State<AppState>, req: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = req.method().clone();
    let matched = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned());
    // The log row names the path called; the metrics label must stay a bounded set.
    let event_path = matched.clone().unwrap_or_else(|| {
        // Inside `nest` the request's URI has lost its `/api/v1` prefix.
        let uri = req
            .extensions()
            .get::<OriginalUri>()
            .map_or(req.uri(), |o| &o.0);
        uri.path().chars().take(200).collect()
    });
    let route = matched.unwrap_or_else(|| "(unmatched)".to_owned());
    let correlation_id = req
        .headers()
        .get(&X_CORRELATION_ID)
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty() && v.len() <= 200)
        .map(str::to_owned)
        .unwrap_or_else(|| Uuid::now_v7().to_string());

    // An import upload is a file, not an API call: its own limit, and its log row keeps its
    // size and first KiB rather than the whole file.
    let upload = req.method() == axum::http::Method::POST
        && [
            crate::routes::imports_v1::UPLOAD_PATH.to_owned(),
            format!("/api/v1{}", crate::routes::imports_v1::UPLOAD_PATH),
        ]
        .iter()
        .any(|p| p == req.uri().path());
    let limit = if upload {
        app.api.config.import_limit_bytes
    } else {
        app.api.config.body_limit_bytes
    };
    let too_big = |limit: usize| {
        if upload {
            crate::routes::imports_v1::too_large(limit).into_response()
        } else {
            payload_too_large(limit)
        }
    };
    let (parts, body) = req.into_parts();
    let too_large = parts
        .headers
        .get(axum::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok())
        .is_some_and(|len| len > limit);
    let (request_bytes, mut response) = if too_large {
        (Bytes::new(), too_big(limit))
    } else {
        match http_body_util::Limited::new(body, limit).collect().await {
            Ok(collected) => {
                let bytes = collected.to_bytes();
                let req = Request::from_parts(parts, Body::from(bytes.clone()));
                (bytes, next.run(req).await)
            }
            Err(err) if err.is::<http_body_util::LengthLimitError>() => {
                (Bytes::new(), too_big(limit))
            }
            Err(err) if crate::timeouts::is_body_timeout(err.as_ref()) => (
                Bytes::new(),
                crate::timeouts::request_timeout("the request body stopped arriving"),
            ),
            Err(err) => (
                Bytes::new(),
                ApiError::new(
                    ErrorCode::BadRequest,
                    format!("could not read the request body: {err}"),
                )
                .into_response(),
            ),
        }
    };

    let status = response.status();
    let response_body = if status.is_client_error() || status.is_server_error() {
        let (parts, body) = response.into_parts();
        let bytes = match http_body_util::Limited::new(body, MAX_LOGGED_RESPONSE)
            .collect()
            .await
        {
            Ok(c) => c.to_bytes(),
            Err(_) => Bytes::new(),
        };
        response = Response::from_parts(parts, Body::from(bytes.clone()));
        as_json(&bytes)
    } else {
        None
    };
    let error_message = response_body
        .as_ref()
        .and_then(|b| b.pointer("/error/message"))
        .and_then(Value::as_str)
        .map(str::to_owned);
    let auth = response.extensions().get::<Auth>().cloned();
    let elapsed = started.elapsed();

    let log_status = if status.is_server_error() {
        LogStatus::Error
    } else if status.is_client_error() {
        LogStatus::Warning
    } else {
        LogStatus::Success
    };
    let entry = NewLogEntry {
        http_status: Some(i32::from(status.as_u16())),
        request_body: match &auth {
            Some(_) if upload => file_body(&request_bytes),
            Some(_) => as_json(&request_bytes),
            None => unauthenticated_body(&request_bytes),
        },
        response_body,
        error_message,
        correlation_id: Some(correlation_id.clone()),
        duration_ms: Some(i32::try_from(elapsed.as_millis()).unwrap_or(i32::MAX)),
        ..NewLogEntry::new(
            auth.as_ref().map(|a| a.org),
            IntegrationType::Api,
            format!("{method} {event_path}"),
            Direction::Inbound,
            log_status,
        )
    };
    if let Err(err) = logs::insert(&app.api.pool, &app.masker, &entry).await {
        // The call itself succeeded or failed on its own terms; a lost log row must not
        // turn it into a 500.
        tracing::error!(error = %err, route = %route, "could not write the api log row");
    }
    crate::metrics::record_request(method.as_str(), &route, status, elapsed);
    if let Ok(value) = HeaderValue::from_str(&correlation_id) {
        response.headers_mut().insert(X_CORRELATION_ID, value);
    }
    response
}

fn payload_too_large(limit: usize) -> Response {
    ApiError::new(
        ErrorCode::PayloadTooLarge,
        format!("request body is larger than the {limit}-byte limit"),
    )
    .with_details(serde_json::json!({ "limit_bytes": limit }))
    .into_response()
}
