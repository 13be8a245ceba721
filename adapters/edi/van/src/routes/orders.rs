//! `POST /api/v1/orders/{id}/reprocess` (`write:orders`): an order that came in over EDI and
//! waits for review is re-checked — or re-mapped from its stored EDI message — by the
//! `edi.order.reprocess` job, which confirms it and sends the partner its acceptance when it
//! passes. The order routes themselves (list, get, fix) are the hub's.

use crate::jobs::ReprocessOrder;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::{Deserialize, Serialize};
use serde_json::json;
use switchyard_api::auth::WriteOrders;
use switchyard_api::error::{ApiError, ApiPath, ErrorBody, ErrorCode, OptionalJson};
use switchyard_api::responses::{BadRequest, NotFound, UnsupportedMediaType};
use switchyard_api::routes::orders::OrderView;
use switchyard_api::{AppState, Scoped};
use switchyard_core::ids::OrderId;
use switchyard_core::model::OrderStatus;
use switchyard_core::JobPayload;
use switchyard_store::orders as store;
use switchyard_store::queue::NewJob;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(reprocess_order))
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReprocessRequest {
    /// Map the stored EDI message again (after customers, products or the mapping file were
    /// fixed) instead of re-checking the order as edited.
    #[serde(default)]
    pub remap: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ReprocessAccepted {
    /// The `edi.order.reprocess` job; follow it at `/api/v1/jobs/{id}`.
    pub job_id: uuid::Uuid,
    pub order: OrderView,
}

/// Reprocess an order waiting for review: the daemon re-checks it (or re-maps it from its EDI
/// message with `"remap": true`); when it passes it is confirmed and the partner gets the
/// acceptance (855 AC / ORDRSP 29), otherwise its review errors are replaced. 202 with the
/// job; 409 when the order is not waiting for review.
#[utoipa::path(post, path = "/orders/{id}/reprocess", tag = "orders",
    params(("id" = uuid::Uuid, Path, description = "order id")), request_body(content = Option<ReprocessRequest>, description = "optional"),
    responses((status = 202, body = ReprocessAccepted), (status = 400, response = BadRequest),
        (status = 404, response = NotFound),
        (status = 409, description = "the order is not waiting for review", body = ErrorBody),
        (status = 415, response = UnsupportedMediaType),
        (status = 422, description = "an invalid body, or `remap` for an order that did not come from EDI", body = ErrorBody)))]
async fn reprocess_order(
    State(app): State<AppState>,
    Scoped(auth, _): Scoped<WriteOrders>,
    ApiPath(id): ApiPath<OrderId>,
    OptionalJson(req): OptionalJson<ReprocessRequest>,
) -> Result<(StatusCode, Json<ReprocessAccepted>), ApiError> {
    let row = store::get(&app.api.pool, auth.org, id)
        .await?
        .ok_or_else(|| ApiError::not_found("order"))?;
    if row.status != OrderStatus::PendingReview {
        return Err(ApiError::new(
            ErrorCode::Conflict,
            format!(
                "order {id} is {}; only orders waiting for review can be reprocessed",
                row.status.as_str()
            ),
        ));
    }
    if req.remap && row.source_message_id.is_none() {
        return Err(ApiError::validation(
            "remap: the order did not come from an EDI message",
        ));
    }
    let payload = json!(ReprocessOrder {
        order_id: id.0,
        remap: req.remap,
    });
    let retry = app
        .api
        .admission
        .admit(ReprocessOrder::KIND, None, &payload)
        .map_err(|r| ApiError::new(r.code, r.message).with_details(r.details))?;
    let mut job = NewJob::new(auth.org, ReprocessOrder::KIND, payload).retry(retry);
    job.correlation_id = Some(id.to_string());
    let enqueued = app.api.queue.enqueue(job).await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(ReprocessAccepted {
            job_id: enqueued.job.id.0,
            order: row.into(),
        }),
    ))
}
