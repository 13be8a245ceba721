//! Forwarding an order to the organization's supplier on demand (`write:orders`): what
//! `[suppliers.ORG] forward = "manual"` relies on, and a way to send an order the dispatcher
//! left (one created before forwarding was turned on). The `supplier.order.forward` job it
//! enqueues shares its key with the dispatcher's, and the supplier is given a key derived from
//! the order, so asking twice never places a second order.

use crate::auth::{Scoped, WriteOrders};
use crate::error::{ApiError, ApiPath, ErrorBody, ErrorCode};
use crate::responses::{BadRequest, NotFound};
use crate::routes::jobs::{admit_and_enqueue, JobView};
use crate::state::AppState;
use axum::extract::State;
use axum::response::Response;
use serde_json::json;
use switchyard_core::ids::OrderId;
use switchyard_core::model::OrderStatus;
use switchyard_store::orders;
use switchyard_store::queue::NewJob;
use switchyard_store::suppliers;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// The runtime's job kind (hub/runtime/src/supplier/forward.rs; the API does not depend on
/// the runtime).
const FORWARD_KIND: &str = "supplier.order.forward";

pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(forward_order))
}

/// Forward the order to the organization's supplier (`[suppliers.ORG]`): a
/// `supplier.order.forward` job. Asking again while it waits returns the same job (200).
/// 409 when the supplier has the order already, or the order waits for review.
#[utoipa::path(post, path = "/orders/{id}/forward", tag = "orders",
    params(("id" = uuid::Uuid, Path, description = "order id")),
    responses(
        (status = 201, description = "the forward was enqueued", body = JobView),
        (status = 200, description = "the order's forward was enqueued before", body = JobView),
        (status = 400, response = BadRequest), (status = 404, response = NotFound),
        (status = 409, description = "the order was forwarded already (its supplier order id is in the details), or it is pending review", body = ErrorBody),
        (status = 422, description = "the forward job is not admitted", body = ErrorBody)))]
async fn forward_order(
    State(app): State<AppState>,
    Scoped(auth, _): Scoped<WriteOrders>,
    ApiPath(id): ApiPath<OrderId>,
) -> Result<Response, ApiError> {
    let pool = &app.api.pool;
    let order = orders::get(pool, auth.org, id)
        .await?
        .ok_or_else(|| ApiError::not_found("order"))?;
    if order.status == OrderStatus::PendingReview {
        return Err(ApiError::new(
            ErrorCode::Conflict,
            format!("order {id} is pending review: fix and reprocess it first"),
        ));
    }
    if let Some(row) = suppliers::get(pool, auth.org, id).await? {
        if let Some(supplier_id) = row.supplier_order_id {
            return Err(ApiError::new(
                ErrorCode::Conflict,
                format!("order {id} was forwarded to `{}` already", row.partner),
            )
            .with_details(json!({"partner": row.partner, "supplier_order_id": supplier_id})));
        }
    }
    let job = NewJob::new(auth.org, FORWARD_KIND, json!({"order_id": id.0}))
        .key(format!("supplier.forward:{}", id.0));
    admit_and_enqueue(&app, job).await
}
