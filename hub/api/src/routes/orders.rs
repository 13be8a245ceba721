//! Orders (`read:orders` / `write:orders`): list (filter by status, e.g. `pending_review`),
//! creation through the API (`order_create.rs`), shipments (`shipments.rs`),
//! one order with its review errors and source EDI message, and an admin's fixes to an order
//! waiting for review (re-checked at once); hold, release and cancel (`order_status.rs`).
//! Reprocessing an order is the job of the
//! integration it came from (EDI: `POST /orders/{id}/reprocess`). Plus the reference data the
//! checks use: customers with their EDI identifiers and products (upserts).

use crate::auth::{ReadOrders, Scoped, WriteOrders};
use crate::error::{ApiError, ApiJson, ApiPath, ApiQuery, ErrorBody, ErrorCode};
use crate::paging::page_limit;
use crate::responses::{BadRequest, NotFound, UnprocessableEntity, UnsupportedMediaType};
use crate::schemas;
use crate::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use switchyard_core::ids::OrderId;
use switchyard_core::model::{Order, OrderStatus, Uom};
use switchyard_store::orders::{
    self as store, BuyerPart, CustomerRow, OrderFilter, OrderRow, OrderUpdate, PartyId, ProductRow,
};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_orders, super::order_create::create_order))
        .routes(routes!(get_order, patch_order))
        .routes(routes!(put_customer))
        .routes(routes!(put_product))
}

/// A stored order.
#[derive(Debug, Serialize, ToSchema)]
pub struct OrderView {
    #[schema(value_type = uuid::Uuid)]
    pub id: OrderId,
    pub order_number: String,
    /// Our customer id; null while the buyer is unknown (pending review).
    pub customer_id: Option<String>,
    pub customer_po: String,
    #[schema(schema_with = schemas::order_status)]
    pub status: String,
    /// The canonical order (lines, dates, addresses).
    #[schema(value_type = Object)]
    pub order: Value,
    /// Why the order waits for review: `[{"code", "message", "location": {"set_control",
    /// "segment_position", "segment", "element", "line", "field"}}]`.
    #[schema(value_type = Vec<Object>)]
    pub review_errors: Value,
    #[schema(schema_with = order_source)]
    pub source: String,
    /// The inbound EDI message (850 / ORDERS) the order came from.
    pub source_message_id: Option<uuid::Uuid>,
    /// ST02 / UNH 0062 of its set.
    pub source_set: Option<String>,
    pub partner: Option<String>,
    /// What we last answered the partner (855 / ORDRSP).
    #[schema(schema_with = order_response)]
    pub response: Option<String>,
    /// While `on_hold`: the status a release returns the order to.
    #[schema(schema_with = held_from)]
    pub held_from: Option<String>,
    /// Why the order has its status, when the change said (a hold's or cancellation's
    /// reason, a release's note); null otherwise.
    pub status_reason: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<OrderRow> for OrderView {
    fn from(r: OrderRow) -> Self {
        OrderView {
            id: r.id,
            order_number: r.order_number,
            customer_id: r.customer_id,
            customer_po: r.customer_po,
            status: r.status.as_str().to_owned(),
            order: r.canonical,
            review_errors: serde_json::to_value(&r.review_errors).unwrap_or_default(),
            source: r.source,
            source_message_id: r.source_message_id,
            source_set: r.source_set,
            partner: r.partner,
            response: r.response,
            held_from: r.held_from.map(|s| s.as_str().to_owned()),
            status_reason: r.status_reason,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

/// `orders.source` (its CHECK constraint in migrations/0005_orders.sql).
fn order_source() -> utoipa::openapi::Object {
    schemas::one_of(&["edi", "api"])
}

/// `orders.held_from` (its CHECK constraint in migrations/0036_order_hold.sql), `null` unless
/// the order is on hold.
fn held_from() -> utoipa::openapi::Object {
    schemas::one_of_or_null(&OrderStatus::HOLDABLE)
}

/// `orders.response` (its CHECK constraint in migrations/0005_orders.sql), `null` before one.
fn order_response() -> utoipa::openapi::Object {
    schemas::one_of_or_null(&["accepted", "rejected"])
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OrderPage {
    pub items: Vec<OrderView>,
    pub next_cursor: Option<String>,
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct OrderQuery {
    #[param(schema_with = schemas::order_status)]
    pub status: Option<String>,
    pub customer_id: Option<String>,
    pub partner: Option<String>,
    /// From the previous page's `next_cursor`.
    pub cursor: Option<String>,
    /// Default 50.
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<i64>,
}

fn parse_status(s: &str) -> Result<OrderStatus, ApiError> {
    OrderStatus::parse(s).ok_or_else(|| {
        ApiError::validation(format!(
            "unknown order status `{s}` (known: {})",
            OrderStatus::ALL.map(|s| s.as_str()).join(", ")
        ))
    })
}

/// Orders, newest first, one page at a time.
#[utoipa::path(get, path = "/orders", tag = "orders", params(OrderQuery),
    responses((status = 200, body = OrderPage), (status = 400, response = BadRequest),
        (status = 422, description = "a bad `cursor`, `limit` out of range", body = ErrorBody)))]
async fn list_orders(
    State(app): State<AppState>,
    Scoped(auth, _): Scoped<ReadOrders>,
    ApiQuery(q): ApiQuery<OrderQuery>,
) -> Result<Json<OrderPage>, ApiError> {
    let limit = page_limit(q.limit)?;
    let filter = OrderFilter {
        status: q.status.as_deref().map(parse_status).transpose()?,
        customer_id: q.customer_id,
        partner: q.partner,
    };
    let (rows, next) =
        store::list(&app.api.pool, auth.org, &filter, q.cursor.as_deref(), limit).await?;
    Ok(Json(OrderPage {
        items: rows.into_iter().map(OrderView::from).collect(),
        next_cursor: next,
    }))
}

/// One order with its review errors and source EDI message.
#[utoipa::path(get, path = "/orders/{id}", tag = "orders",
    params(("id" = uuid::Uuid, Path, description = "order id")),
    responses((status = 200, body = OrderView), (status = 400, response = BadRequest), (status = 404, response = NotFound)))]
async fn get_order(
    State(app): State<AppState>,
    Scoped(auth, _): Scoped<ReadOrders>,
    ApiPath(id): ApiPath<OrderId>,
) -> Result<Json<OrderView>, ApiError> {
    let row = store::get(&app.api.pool, auth.org, id)
        .await?
        .ok_or_else(|| ApiError::not_found("order"))?;
    Ok(Json(row.into()))
}

/// Fixes to one line, found by its line number; absent fields are left as they are.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LineFix {
    #[serde(deserialize_with = "whole_number")]
    #[schema(minimum = 0, maximum = 4294967295_u64)]
    pub line_number: u32,
    pub sku: Option<String>,
    /// A decimal greater than zero, as a string (`"12.5"`).
    #[schema(value_type = Option<String>, pattern = r"^(0|[1-9][0-9]{0,19})(\.[0-9]{1,8})?$")]
    pub quantity: Option<Decimal>,
    pub requested_date: Option<NaiveDate>,
}

/// A whole number as JSON Schema counts one: `7` or `7.0` (a client's JSON library may write
/// either; serde takes only the first for an integer).
pub(crate) fn whole_number<'de, D: serde::Deserializer<'de>>(d: D) -> Result<u32, D::Error> {
    let n = serde_json::Number::deserialize(d)?;
    let whole = n.as_u64().or_else(|| {
        n.as_f64()
            .filter(|f| f.fract() == 0.0 && *f >= 0.0 && *f <= f64::from(u32::MAX))
            .map(|f| f as u64)
    });
    whole.and_then(|w| u32::try_from(w).ok()).ok_or_else(|| {
        serde::de::Error::custom(format!(
            "expected a line number (0 to {}), got {n}",
            u32::MAX
        ))
    })
}

/// An admin's fixes to an order waiting for review.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OrderPatch {
    pub customer_id: Option<String>,
    pub requested_delivery: Option<NaiveDate>,
    #[serde(default)]
    pub lines: Vec<LineFix>,
}

/// Fix fields of a `pending_review` order (customer, line SKUs, quantities, dates). The order
/// is re-checked at once and its `review_errors` replaced by what is still wrong; it stays in
/// review until reprocessed. 409 when the order is not waiting for review.
#[utoipa::path(patch, path = "/orders/{id}", tag = "orders",
    params(("id" = uuid::Uuid, Path, description = "order id")), request_body = OrderPatch,
    responses((status = 200, body = OrderView), (status = 400, response = BadRequest),
        (status = 404, response = NotFound), (status = 409, description = "the order is not waiting for review", body = ErrorBody),
        (status = 415, response = UnsupportedMediaType),
        (status = 422, description = "an invalid body, an unknown customer, a line the order does not have, a quantity not above zero", body = ErrorBody)))]
async fn patch_order(
    State(app): State<AppState>,
    Scoped(auth, _): Scoped<WriteOrders>,
    ApiPath(id): ApiPath<OrderId>,
    ApiJson(patch): ApiJson<OrderPatch>,
) -> Result<Json<OrderView>, ApiError> {
    let pool = &app.api.pool;
    let row = store::get(pool, auth.org, id)
        .await?
        .ok_or_else(|| ApiError::not_found("order"))?;
    if row.status != OrderStatus::PendingReview {
        return Err(ApiError::new(
            ErrorCode::Conflict,
            format!(
                "order {id} is {}; only orders waiting for review (pending_review) can be edited",
                row.status.as_str()
            ),
        ));
    }
    let mut order: Order = serde_json::from_value(row.canonical.clone())
        .map_err(|e| ApiError::internal(&format!("stored order {id} is not canonical: {e}")))?;
    if let Some(c) = &patch.customer_id {
        let c = c.trim();
        if !store::customer_exists(pool, auth.org, c).await? {
            return Err(ApiError::validation(format!(
                "customer_id: unknown customer `{c}`"
            )));
        }
        order.customer_id = c.to_owned();
    }
    if let Some(d) = patch.requested_delivery {
        order.requested_delivery = Some(d);
    }
    for (i, fix) in patch.lines.iter().enumerate() {
        let line = order
            .lines
            .iter_mut()
            .find(|l| l.line_number == fix.line_number)
            .ok_or_else(|| {
                ApiError::validation(format!(
                    "lines[{i}].line_number: the order has no line {}",
                    fix.line_number
                ))
            })?;
        if let Some(sku) = &fix.sku {
            line.sku = sku.trim().to_owned();
        }
        if let Some(q) = fix.quantity {
            if q <= Decimal::ZERO {
                return Err(ApiError::validation(format!(
                    "lines[{i}].quantity: must be greater than zero, got {q}"
                )));
            }
            line.quantity = q;
        }
        if let Some(d) = fix.requested_date {
            line.requested_date = Some(d);
        }
    }
    let errors = store::check_order(pool, auth.org, &order).await?;
    let customer = Some(order.customer_id.clone())
        .filter(|c| !c.is_empty() && errors.iter().all(|e| e.code != "unknown_customer"));
    let updated = store::update(
        pool,
        auth.org,
        id,
        OrderStatus::PendingReview,
        &OrderUpdate {
            customer_id: customer,
            customer_po: row.customer_po.clone(),
            status: OrderStatus::PendingReview,
            canonical: serde_json::to_value(&order).map_err(|e| ApiError::internal(&e))?,
            review_errors: errors,
            mapped: None,
        },
    )
    .await?;
    Ok(Json(updated.into()))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EdiPartyInput {
    /// `92` (N1 assigned by buyer), `12`/`ZZ`/`01` (ISA05), `9` (EDIFACT GLN), `14` (UNB).
    pub qualifier: String,
    #[schema(schema_with = schemas::name)]
    pub id: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CustomerInput {
    #[schema(schema_with = schemas::name)]
    pub name: String,
    #[serde(default = "yes")]
    pub active: bool,
    /// How the customer names itself in EDI; replaces the stored list.
    #[serde(default)]
    pub edi_ids: Vec<EdiPartyInput>,
}

fn yes() -> bool {
    true
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CustomerView {
    pub customer_id: String,
    pub name: String,
    pub active: bool,
    #[schema(value_type = Vec<Object>)]
    pub edi_ids: Value,
}

/// Create or replace a customer and its EDI identifiers. 409 when an identifier already
/// names another customer.
#[utoipa::path(put, path = "/customers/{customer_id}", tag = "orders",
    params(("customer_id" = String, Path, min_length = 1, description = "our customer id")), request_body = CustomerInput,
    responses((status = 200, body = CustomerView), (status = 400, response = BadRequest),
        (status = 409, description = "an EDI identifier already names another customer", body = ErrorBody),
        (status = 415, response = UnsupportedMediaType), (status = 422, response = UnprocessableEntity)))]
async fn put_customer(
    State(app): State<AppState>,
    Scoped(auth, _): Scoped<WriteOrders>,
    ApiPath(customer_id): ApiPath<String>,
    ApiJson(input): ApiJson<CustomerInput>,
) -> Result<Json<CustomerView>, ApiError> {
    if input.name.trim().is_empty() {
        return Err(ApiError::validation("name: must not be empty"));
    }
    if let Some((i, _)) = input
        .edi_ids
        .iter()
        .enumerate()
        .find(|(_, p)| p.id.trim().is_empty())
    {
        return Err(ApiError::validation(format!(
            "edi_ids[{i}].id: must not be empty"
        )));
    }
    let row = CustomerRow {
        customer_id: customer_id.clone(),
        name: input.name,
        active: input.active,
        edi_ids: input
            .edi_ids
            .into_iter()
            .map(|p| PartyId {
                qualifier: p.qualifier,
                id: p.id,
            })
            .collect(),
    };
    store::upsert_customer(&app.api.pool, auth.org, &row).await?;
    let stored = store::get_customer(&app.api.pool, auth.org, &customer_id)
        .await?
        .ok_or_else(|| ApiError::not_found("customer"))?;
    Ok(Json(CustomerView {
        customer_id: stored.customer_id,
        name: stored.name,
        active: stored.active,
        edi_ids: serde_json::to_value(&stored.edi_ids).unwrap_or_default(),
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BuyerPartInput {
    pub customer_id: String,
    pub part: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProductInput {
    #[schema(schema_with = schemas::name)]
    pub name: String,
    /// GTIN-8/12/13/14 (a UPC-A is a GTIN-12), digits only.
    #[schema(pattern = r"^[0-9]{8,14}$")]
    pub gtin: Option<String>,
    /// `EA` when absent.
    #[serde(default = "ea")]
    #[schema(schema_with = schemas::uom, required = false)]
    pub uom: Uom,
    #[serde(default = "yes")]
    pub active: bool,
    /// The buyers' own part numbers for it; replaces the stored list.
    #[serde(default)]
    pub buyer_parts: Vec<BuyerPartInput>,
}

fn ea() -> Uom {
    Uom::Ea
}

/// Create or replace a product. 409 when its GTIN names another product.
#[utoipa::path(put, path = "/products/{sku}", tag = "orders",
    params(("sku" = String, Path, min_length = 1, description = "our SKU")), request_body = ProductInput,
    responses((status = 204, description = "stored"), (status = 400, response = BadRequest),
        (status = 409, description = "its GTIN names another product", body = ErrorBody),
        (status = 415, response = UnsupportedMediaType), (status = 422, response = UnprocessableEntity)))]
async fn put_product(
    State(app): State<AppState>,
    Scoped(auth, _): Scoped<WriteOrders>,
    ApiPath(sku): ApiPath<String>,
    ApiJson(input): ApiJson<ProductInput>,
) -> Result<StatusCode, ApiError> {
    if input.name.trim().is_empty() {
        return Err(ApiError::validation("name: must not be empty"));
    }
    if let Some(g) = &input.gtin {
        if !(8..=14).contains(&g.len()) || !g.bytes().all(|b| b.is_ascii_digit()) {
            return Err(ApiError::validation(format!(
                "gtin: `{g}` is not 8 to 14 digits"
            )));
        }
    }
    let row = ProductRow {
        sku,
        name: input.name,
        gtin: input.gtin,
        uom: input.uom.code().to_owned(),
        active: input.active,
        buyer_parts: input
            .buyer_parts
            .into_iter()
            .map(|b| BuyerPart {
                customer_id: b.customer_id,
                part: b.part,
            })
            .collect(),
    };
    store::upsert_product(&app.api.pool, auth.org, &row).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[cfg(test)]
mod tests {
    use super::LineFix;

    #[test]
    fn line_numbers_are_whole_numbers_however_written() {
        let fix: LineFix = serde_json::from_str(r#"{"line_number": 7.0}"#).unwrap();
        assert_eq!(fix.line_number, 7);
        let fix: LineFix = serde_json::from_str(r#"{"line_number": 7}"#).unwrap();
        assert_eq!(fix.line_number, 7);
        for bad in ["7.5", "-1", "4294967296", "\"7\""] {
            let text = format!(r#"{{"line_number": {bad}}}"#);
            assert!(serde_json::from_str::<LineFix>(&text).is_err(), "{bad}");
        }
    }
}
