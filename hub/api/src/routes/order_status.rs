//! A person's change of an order's status (`write:orders`): `POST /orders/{id}/hold` with a
//! reason, `/release` back to the status it was held from, `/cancel` with a reason. Each is
//! one transaction (hub/store/src/order_status.rs) with its outbox rows: the order's event,
//! and for an order from a Magento store the push of the change to it (migration 1303's
//! trigger). An illegal step is a 409 naming from and to; the order already in the step's
//! status (a retried request) is a 200 that changes nothing.

use crate::auth::{Scoped, WriteOrders};
use crate::error::{ApiError, ApiJson, ApiPath, ErrorBody, OptionalJson};
use crate::responses::{BadRequest, NotFound, UnsupportedMediaType};
use crate::routes::orders::OrderView;
use crate::state::AppState;
use axum::extract::State;
use axum::Json;
use serde::Deserialize;
use switchyard_core::ids::{OrderId, OrgId};
use switchyard_store::order_status::{self as store, Change, Changed};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// The longest reason or note (it becomes a line of the order's history in a storefront).
pub const MAX_REASON_CHARS: usize = 1000;

pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(hold_order))
        .routes(routes!(release_order))
        .routes(routes!(cancel_order))
}

/// Why the order is held or cancelled.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReasonInput {
    /// 1 to 1,000 characters, not all white space; shown on the order (`status_reason`) and
    /// sent to the storefront the order came from as a note.
    #[schema(
        min_length = 1,
        max_length = 1000,
        pattern = r"^[^\u0000]*[^\s\u0000][^\u0000]*$"
    )]
    pub reason: String,
}

/// A release's optional note.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReleaseInput {
    /// 1 to 1,000 characters, not all white space.
    #[schema(
        min_length = 1,
        max_length = 1000,
        pattern = r"^[^\u0000]*[^\s\u0000][^\u0000]*$"
    )]
    pub note: Option<String>,
}

/// `field` trimmed; 422 naming it when blank, too long (counted as sent, as the schema's
/// `maxLength` counts) or holding a NUL (Postgres text cannot store one).
fn checked(field: &str, text: &str) -> Result<String, ApiError> {
    let n = text.chars().count();
    if n > MAX_REASON_CHARS {
        return Err(ApiError::validation(format!(
            "{field}: at most {MAX_REASON_CHARS} characters, got {n}"
        )));
    }
    if text.contains('\0') {
        return Err(ApiError::validation(format!(
            "{field}: must not contain a NUL character"
        )));
    }
    let text = text.trim();
    if text.is_empty() {
        return Err(ApiError::validation(format!("{field}: must not be empty")));
    }
    Ok(text.to_owned())
}

/// A hold or a cancel: the body's reason checked, then the change.
async fn with_reason(
    app: &AppState,
    org: OrgId,
    id: OrderId,
    input: &ReasonInput,
    change: impl FnOnce(&str) -> Change<'_>,
) -> Result<Json<OrderView>, ApiError> {
    let reason = checked("reason", &input.reason)?;
    apply(app, org, id, change(&reason)).await
}

async fn apply(
    app: &AppState,
    org: OrgId,
    id: OrderId,
    change: Change<'_>,
) -> Result<Json<OrderView>, ApiError> {
    match store::change(&app.api.pool, org, id, change).await? {
        Changed::Moved { from, row } => {
            tracing::info!(order = %id, from = from.as_str(), to = row.status.as_str(), "order status changed");
            Ok(Json((*row).into()))
        }
        Changed::Already(row) => Ok(Json((*row).into())),
    }
}

/// Put the order on hold: it cannot ship until released. From `pending`, `confirmed`,
/// `in_production` or `ready`; an order on hold already is answered as it is.
#[utoipa::path(post, path = "/orders/{id}/hold", tag = "orders",
    params(("id" = uuid::Uuid, Path, description = "order id")), request_body = ReasonInput,
    responses((status = 200, description = "the order, on hold", body = OrderView),
        (status = 400, response = BadRequest), (status = 404, response = NotFound),
        (status = 409, description = "the order's status cannot be held (the message names from and to)", body = ErrorBody),
        (status = 415, response = UnsupportedMediaType),
        (status = 422, description = "an invalid body; the message names the field", body = ErrorBody)))]
async fn hold_order(
    State(app): State<AppState>,
    Scoped(auth, _): Scoped<WriteOrders>,
    ApiPath(id): ApiPath<OrderId>,
    ApiJson(input): ApiJson<ReasonInput>,
) -> Result<Json<OrderView>, ApiError> {
    with_reason(&app, auth.org, id, &input, |reason| Change::Hold { reason }).await
}

/// Release an order on hold: it goes back to the status it was held from (`held_from`).
/// The body is optional.
#[utoipa::path(post, path = "/orders/{id}/release", tag = "orders",
    params(("id" = uuid::Uuid, Path, description = "order id")),
    request_body(content = Option<ReleaseInput>, description = "optional: a note for the order's history"),
    responses((status = 200, description = "the order, back in the status it was held from", body = OrderView),
        (status = 400, response = BadRequest), (status = 404, response = NotFound),
        (status = 409, description = "the order is not on hold", body = ErrorBody),
        (status = 415, response = UnsupportedMediaType),
        (status = 422, description = "an invalid body; the message names the field", body = ErrorBody)))]
async fn release_order(
    State(app): State<AppState>,
    Scoped(auth, _): Scoped<WriteOrders>,
    ApiPath(id): ApiPath<OrderId>,
    OptionalJson(input): OptionalJson<ReleaseInput>,
) -> Result<Json<OrderView>, ApiError> {
    let note = input
        .note
        .as_deref()
        .map(|n| checked("note", n))
        .transpose()?;
    apply(
        &app,
        auth.org,
        id,
        Change::Release {
            note: note.as_deref(),
        },
    )
    .await
}

/// Cancel the order: from any status before it ships, on hold too. A cancelled order is
/// answered as it is.
#[utoipa::path(post, path = "/orders/{id}/cancel", tag = "orders",
    params(("id" = uuid::Uuid, Path, description = "order id")), request_body = ReasonInput,
    responses((status = 200, description = "the order, cancelled", body = OrderView),
        (status = 400, response = BadRequest), (status = 404, response = NotFound),
        (status = 409, description = "the order's status cannot be cancelled (the message names from and to)", body = ErrorBody),
        (status = 415, response = UnsupportedMediaType),
        (status = 422, description = "an invalid body; the message names the field", body = ErrorBody)))]
async fn cancel_order(
    State(app): State<AppState>,
    Scoped(auth, _): Scoped<WriteOrders>,
    ApiPath(id): ApiPath<OrderId>,
    ApiJson(input): ApiJson<ReasonInput>,
) -> Result<Json<OrderView>, ApiError> {
    with_reason(&app, auth.org, id, &input, |reason| Change::Cancel {
        reason,
    })
    .await
}
