//! Shipments of an order (`/orders/{id}/shipments`; `write:orders` to record, `read:orders`
//! to list): what left the warehouse, with carrier and tracking. Recording one moves the
//! order to `partially_shipped` or `shipped` and records `shipment.dispatched` in the same
//! transaction (hub/store/src/shipments.rs). When the order came from a partner that takes
//! shipments (job admission of a `partner.push` of a `shipment` to the order's partner: a
//! storefront whose adapter declares `push_shipments`), its push is written in that
//! transaction as well; `PATCH /orders/{id}/shipments/{shipment_id}` changes the tracking
//! and pushes the change the same way.

use crate::auth::{ReadOrders, Scoped, WriteOrders};
use crate::error::{ApiError, ApiJson, ApiPath, ErrorBody};
use crate::responses::{BadRequest, NotFound, UnsupportedMediaType};
use crate::routes::orders::whole_number;
use crate::schemas;
use crate::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use switchyard_core::ids::{OrderId, ShipmentId};
use switchyard_store::shipments::{
    self as store, NewShipment, Recorded, ShipLine, ShipmentPush, ShipmentRow, TrackingChange,
    TrackingUpdate,
};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(record_shipment, list_shipments))
        .routes(routes!(update_tracking))
}

/// One line of a shipment: how much of an order line left.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ShipmentLineInput {
    /// The order line; needed only when the SKU is on more than one line.
    #[serde(default, deserialize_with = "some_whole_number")]
    #[schema(value_type = Option<u32>, minimum = 0, maximum = 4294967295_u64)]
    pub line_number: Option<u32>,
    #[schema(schema_with = schemas::name)]
    pub sku: String,
    /// A decimal greater than zero, as a string (`"2"`); at most what is left to ship.
    #[schema(value_type = String, pattern = r"^(0|[1-9][0-9]{0,19})(\.[0-9]{1,8})?$")]
    pub quantity: Decimal,
}

fn some_whole_number<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<u32>, D::Error> {
    whole_number(d).map(Some)
}

/// A shipment to record.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ShipmentInput {
    /// The warehouse's number for it, unique per organization: sending the same shipment
    /// again finds it (200) instead of recording it twice.
    #[schema(schema_with = schemas::name)]
    pub shipment_number: String,
    pub carrier: Option<String>,
    pub service: Option<String>,
    pub tracking_number: Option<String>,
    /// Where the customer follows the parcel (http or https).
    pub tracking_url: Option<String>,
    /// When it left; now when absent.
    pub shipped_at: Option<DateTime<Utc>>,
    #[schema(min_items = 1, max_items = 1000)]
    pub lines: Vec<ShipmentLineInput>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ShipmentLineView {
    pub line_number: u32,
    pub sku: String,
    #[schema(value_type = String)]
    pub quantity: Decimal,
}

/// A recorded shipment.
#[derive(Debug, Serialize, ToSchema)]
pub struct ShipmentView {
    #[schema(value_type = uuid::Uuid)]
    pub id: ShipmentId,
    #[schema(value_type = uuid::Uuid)]
    pub order_id: OrderId,
    pub order_number: String,
    pub shipment_number: String,
    pub carrier: Option<String>,
    pub service: Option<String>,
    pub tracking_number: Option<String>,
    pub tracking_url: Option<String>,
    pub shipped_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
    pub lines: Vec<ShipmentLineView>,
    /// The order's status after this shipment (`partially_shipped` or `shipped`); absent
    /// when listing.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(schema_with = schemas::order_status_or_null)]
    pub order_status: Option<String>,
}

impl From<ShipmentRow> for ShipmentView {
    fn from(r: ShipmentRow) -> Self {
        ShipmentView {
            id: r.id,
            order_id: r.order_id,
            order_number: r.order_number,
            shipment_number: r.shipment_number,
            carrier: r.carrier,
            service: r.service,
            tracking_number: r.tracking_number,
            tracking_url: r.tracking_url,
            shipped_at: r.shipped_at,
            created_at: r.created_at,
            lines: r
                .lines
                .into_iter()
                .map(|l| ShipmentLineView {
                    line_number: l.line_number,
                    sku: l.sku,
                    quantity: l.quantity,
                })
                .collect(),
            order_status: None,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ShipmentList {
    pub items: Vec<ShipmentView>,
}

/// Trimmed, and `None` when blank.
fn text(v: Option<String>) -> Option<String> {
    v.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty())
}

/// A trimmed tracking URL, refused unless http(s).
fn tracking_url(v: Option<String>) -> Result<Option<String>, ApiError> {
    let url = text(v);
    if let Some(u) = &url {
        let ok = url::Url::parse(u).is_ok_and(|p| matches!(p.scheme(), "http" | "https"));
        if !ok {
            return Err(ApiError::validation(format!(
                "tracking_url: `{u}` is not an http(s) URL"
            )));
        }
    }
    Ok(url)
}

/// The push of the order's shipments, when the order came from a partner admission lets
/// take a `shipment` (a storefront); `None` for an order of ours, or one from a partner that
/// takes no shipments (an EDI trading partner answers with its own 856 flow). 404 for an
/// order that is not the caller's.
async fn storefront_push(
    app: &AppState,
    org: switchyard_core::ids::OrgId,
    order: OrderId,
) -> Result<Option<ShipmentPush>, ApiError> {
    let partner = store::order_partner(&app.api.pool, org, order)
        .await?
        .ok_or_else(|| ApiError::not_found("order"))?;
    Ok(partner.and_then(|partner| {
        let retry = app
            .api
            .admission
            .admit(
                "partner.push",
                Some(&partner),
                &serde_json::json!({"document": "shipment"}),
            )
            .ok()?;
        Some(ShipmentPush { partner, retry })
    }))
}

/// Record a shipment of the order: each line at most what is left to ship of its order line
/// (422 naming `lines[i].quantity` otherwise). The order becomes `partially_shipped`, or
/// `shipped` once every line has left in full, and its tracking number joins the order's;
/// `shipment.dispatched` is recorded with the tracking. The same shipment again (number,
/// order and lines) answers 200; its number used for another shipment is a 409, and so is an
/// order that cannot ship (pending review, cancelled, shipped, delivered).
#[utoipa::path(post, path = "/orders/{id}/shipments", tag = "orders",
    params(("id" = uuid::Uuid, Path, description = "order id")), request_body = ShipmentInput,
    responses(
        (status = 201, description = "recorded", body = ShipmentView),
        (status = 200, description = "this shipment was recorded before", body = ShipmentView),
        (status = 400, response = BadRequest), (status = 404, response = NotFound),
        (status = 409, description = "the order cannot ship in its status, or the shipment number names another shipment", body = ErrorBody),
        (status = 415, response = UnsupportedMediaType),
        (status = 422, description = "an invalid body, a line the order does not have, or more than is left to ship; the message names the field", body = ErrorBody)))]
async fn record_shipment(
    State(app): State<AppState>,
    Scoped(auth, _): Scoped<WriteOrders>,
    ApiPath(id): ApiPath<OrderId>,
    ApiJson(input): ApiJson<ShipmentInput>,
) -> Result<Response, ApiError> {
    let number = input.shipment_number.trim().to_owned();
    if number.is_empty() {
        return Err(ApiError::validation("shipment_number: must not be empty"));
    }
    let tracking_url = tracking_url(input.tracking_url)?;
    let shipment = NewShipment {
        shipment_number: number,
        carrier: text(input.carrier),
        service: text(input.service),
        tracking_number: text(input.tracking_number),
        tracking_url,
        shipped_at: input.shipped_at.unwrap_or_else(Utc::now),
        lines: input
            .lines
            .into_iter()
            .map(|l| ShipLine {
                line_number: l.line_number,
                sku: l.sku,
                quantity: l.quantity,
            })
            .collect(),
    };
    let push = storefront_push(&app, auth.org, id).await?;
    match store::record_and_push(&app.api.pool, auth.org, id, &shipment, push.as_ref()).await? {
        Recorded::New(row, status) => {
            tracing::info!(order = %id, shipment = %row.shipment_number, status = status.as_str(), "shipment recorded");
            let mut view = ShipmentView::from(*row);
            view.order_status = Some(status.as_str().to_owned());
            Ok((StatusCode::CREATED, Json(view)).into_response())
        }
        Recorded::Existing(row) => {
            Ok((StatusCode::OK, Json(ShipmentView::from(*row))).into_response())
        }
    }
}

/// The order's shipments, oldest first.
#[utoipa::path(get, path = "/orders/{id}/shipments", tag = "orders",
    params(("id" = uuid::Uuid, Path, description = "order id")),
    responses((status = 200, body = ShipmentList), (status = 400, response = BadRequest),
        (status = 404, response = NotFound)))]
async fn list_shipments(
    State(app): State<AppState>,
    Scoped(auth, _): Scoped<ReadOrders>,
    ApiPath(id): ApiPath<OrderId>,
) -> Result<Json<ShipmentList>, ApiError> {
    let rows = store::for_order(&app.api.pool, auth.org, id)
        .await?
        .ok_or_else(|| ApiError::not_found("order"))?;
    Ok(Json(ShipmentList {
        items: rows.into_iter().map(ShipmentView::from).collect(),
    }))
}

/// A shipment's new tracking: each field replaces what is stored (absent or blank clears it).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TrackingInput {
    pub carrier: Option<String>,
    pub tracking_number: Option<String>,
    /// Where the customer follows the parcel (http or https).
    pub tracking_url: Option<String>,
}

/// Change a shipment's carrier, tracking number and URL (a label reprinted, a wrong number
/// corrected). The order's tracking numbers follow, `shipment.tracking_updated` is recorded,
/// and when the order came from a storefront the change is pushed to it (Shopify's
/// `fulfillmentTrackingInfoUpdate`, a Magento track on the shipment), all in one
/// transaction. The same tracking again changes nothing and pushes nothing (200 either way).
#[utoipa::path(patch, path = "/orders/{id}/shipments/{shipment_id}", tag = "orders",
    params(("id" = uuid::Uuid, Path, description = "order id"),
        ("shipment_id" = uuid::Uuid, Path, description = "shipment id")),
    request_body = TrackingInput,
    responses(
        (status = 200, description = "the shipment with its tracking", body = ShipmentView),
        (status = 400, response = BadRequest), (status = 404, response = NotFound),
        (status = 415, response = UnsupportedMediaType),
        (status = 422, description = "an invalid body or a tracking URL that is not http(s); the message names the field", body = ErrorBody)))]
async fn update_tracking(
    State(app): State<AppState>,
    Scoped(auth, _): Scoped<WriteOrders>,
    ApiPath((id, shipment_id)): ApiPath<(OrderId, ShipmentId)>,
    ApiJson(input): ApiJson<TrackingInput>,
) -> Result<Json<ShipmentView>, ApiError> {
    let change = TrackingChange {
        carrier: text(input.carrier),
        tracking_number: text(input.tracking_number),
        tracking_url: tracking_url(input.tracking_url)?,
    };
    let push = storefront_push(&app, auth.org, id).await?;
    let row = match store::update_tracking(
        &app.api.pool,
        auth.org,
        id,
        shipment_id,
        &change,
        push.as_ref(),
    )
    .await?
    {
        TrackingUpdate::Changed(row) => {
            tracing::info!(order = %id, shipment = %row.shipment_number,
                pushed_to = push.as_ref().map(|p| p.partner.as_str()), "shipment tracking changed");
            row
        }
        TrackingUpdate::Unchanged(row) => row,
    };
    Ok(Json(ShipmentView::from(*row)))
}
