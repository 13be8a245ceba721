//! `POST /webhooks/{partner}`: inbound webhooks, for every partner system.
//!
//! No API key: the partner's adapter verifies the signature (the runtime's
//! [`WebhookIntake`](crate::webhooks::WebhookIntake)), over the raw body and headers exactly as received. The answers:
//! 202 a new delivery (stored, its processing enqueued), 200 a redelivery of an event already
//! received (not processed again), 401 a bad or missing signature or a stale timestamp, 400 a
//! body the adapter cannot read, 404 an unknown partner or one that receives no webhooks,
//! 503 when the delivery could not be stored (the partner should send it again).

use crate::error::{ApiError, ErrorBody, ErrorCode};
use crate::responses::PayloadTooLarge;
use crate::state::AppState;
use crate::webhooks::WebhookAnswer;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookReceipt {
    /// `accepted` (new) or `duplicate` (received before; not processed again).
    #[schema(schema_with = receipt_status)]
    pub status: String,
    pub delivery_id: Uuid,
}

fn receipt_status() -> utoipa::openapi::Object {
    crate::schemas::one_of(&["accepted", "duplicate"])
}

pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(receive))
}

/// A partner's webhook delivery.
#[utoipa::path(post, path = "/webhooks/{partner}", tag = "webhooks", security(()),
    params(("partner" = String, Path, description = "a configured partner whose adapter receives webhooks")),
    request_body(content = serde_json::Value, description = "the partner's payload, as its adapter signs it", content_type = "application/json"),
    responses(
        (status = 202, description = "stored; processing enqueued", body = WebhookReceipt),
        (status = 200, description = "this event was received before; not processed again", body = WebhookReceipt),
        (status = 400, description = "verified, but the adapter cannot read the body", body = ErrorBody),
        (status = 401, description = "a missing or wrong signature, or a stale timestamp", body = ErrorBody),
        (status = 404, description = "no such partner, or one that receives no webhooks", body = ErrorBody),
        (status = 413, response = PayloadTooLarge),
        (status = 503, description = "the delivery could not be stored; send it again", body = ErrorBody)
    ))]
async fn receive(
    State(app): State<AppState>,
    Path(partner): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let Some(intake) = &app.api.webhooks else {
        return Err(ApiError::not_found("webhook receiver"));
    };
    let headers: Vec<(String, String)> = headers
        .iter()
        .filter_map(|(k, v)| Some((k.as_str().to_owned(), v.to_str().ok()?.to_owned())))
        .collect();
    let receipt = |status: StatusCode, label: &str, delivery: Uuid| {
        (
            status,
            Json(WebhookReceipt {
                status: label.to_owned(),
                delivery_id: delivery,
            }),
        )
            .into_response()
    };
    match intake.receive(&partner, &headers, &body).await {
        WebhookAnswer::Accepted { delivery } => {
            Ok(receipt(StatusCode::ACCEPTED, "accepted", delivery))
        }
        WebhookAnswer::Duplicate { delivery } => Ok(receipt(StatusCode::OK, "duplicate", delivery)),
        WebhookAnswer::UnknownPartner => Err(ApiError::new(
            ErrorCode::NotFound,
            format!("no partner `{partner}` receives webhooks here"),
        )),
        WebhookAnswer::NotReceived => Err(ApiError::new(
            ErrorCode::NotFound,
            format!("partner `{partner}` does not receive webhooks"),
        )),
        WebhookAnswer::Unauthenticated(m) => Err(ApiError::new(ErrorCode::Unauthorized, m)),
        WebhookAnswer::Invalid(m) => Err(ApiError::new(ErrorCode::BadRequest, m)),
        WebhookAnswer::Unavailable(m) => Err(ApiError::new(ErrorCode::Unavailable, m)),
    }
}
