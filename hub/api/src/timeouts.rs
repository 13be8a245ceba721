//! Limits on slow clients: how long a request's headers, its body and the whole request may
//! take. A client that sends its headers or body slowly (or never) would otherwise hold a
//! connection and a task for as long as it likes.
//!
//! * Headers: hyper's header-read timeout, set by [`crate::serve`]; the connection is closed.
//! * Body: [`tower_http::timeout::RequestBodyTimeoutLayer`] fails a body that delivers no data
//!   for `body_read`; reading it answers 408 (see `access_log`).
//! * Whole request: [`limit_request`] answers 408 when the handler (body included) has not
//!   finished within `request`, and closes the connection, whose body may be half read.

use crate::error::{ApiError, ErrorCode};
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    /// From the connection's first byte (or its last response) to the end of the headers.
    pub header_read: Duration,
    /// The longest pause while a request body is being sent.
    pub body_read: Duration,
    /// From the end of the headers to the response.
    pub request: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Self {
            header_read: Duration::from_secs(10),
            body_read: Duration::from_secs(15),
            request: Duration::from_secs(60),
        }
    }
}

/// Whether a body error is the body-read timeout firing (anywhere in its source chain).
pub(crate) fn is_body_timeout(err: &(dyn std::error::Error + 'static)) -> bool {
    std::iter::successors(Some(err), |e| e.source())
        .any(|e| e.is::<tower_http::timeout::TimeoutError>())
}

/// 408 in the one error shape, closing the connection.
pub(crate) fn request_timeout(message: impl Into<String>) -> Response {
    let mut response = ApiError::new(ErrorCode::RequestTimeout, message).into_response();
    response
        .headers_mut()
        .insert(header::CONNECTION, HeaderValue::from_static("close"));
    response
}

/// The whole-request limit. Its state is the limit itself, so this module needs nothing of
/// the router's state (which holds the [`Timeouts`]).
pub(crate) async fn limit_request(
    State(limit): State<Duration>,
    req: Request,
    next: Next,
) -> Response {
    match tokio::time::timeout(limit, next.run(req)).await {
        Ok(response) => response,
        Err(_) => request_timeout(format!(
            "the request took longer than {} ms",
            limit.as_millis()
        )),
    }
}
