//! `POST /orders` (`write:orders`, issue #14): a sales order from a client — a storefront, the
//! demo, a script — made into the canonical order, checked as every order is
//! (`switchyard_store::orders::check_order`: the customer and each SKU exist, quantities above
//! zero, dates in order) and stored `pending`. Idempotent twice over: by the
//! `Idempotency-Key` header and by the client's reference, the customer's PO number; the same
//! request again answers 200 with the order the first one made, a different request with a
//! reference already used is refused.

use crate::auth::{Scoped, WriteOrders};
use crate::error::{ApiError, ApiJson, ErrorBody, ErrorCode};
use crate::responses::{BadRequest, UnsupportedMediaType};
use crate::routes::jobs::{idempotency_key, IdempotencyKey};
use crate::routes::orders::{whole_number, OrderView};
use crate::schemas;
use crate::state::AppState;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::Deserialize;
use switchyard_core::model::{Address, Order, OrderLine, OrderStatus, Uom};
use switchyard_store::order_intake::{self, ApiOrder, Created};
use switchyard_store::orders::{self as store, OrderRow};
use utoipa::ToSchema;

/// A postal address.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AddressInput {
    pub name: Option<String>,
    pub line1: Option<String>,
    pub line2: Option<String>,
    pub city: Option<String>,
    pub region: Option<String>,
    pub postal_code: Option<String>,
    /// ISO 3166-1 alpha-2.
    pub country: Option<String>,
    pub phone: Option<String>,
    pub email: Option<String>,
}

impl From<AddressInput> for Address {
    fn from(a: AddressInput) -> Self {
        Address {
            name: a.name,
            line1: a.line1,
            line2: a.line2,
            city: a.city,
            region: a.region,
            postal_code: a.postal_code,
            country: a.country,
            phone: a.phone,
            email: a.email,
        }
    }
}

/// One line of a new order.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewOrderLine {
    /// The line's number; its position (1, 2, …) when absent.
    #[serde(default, deserialize_with = "some_whole_number")]
    #[schema(value_type = Option<u32>, minimum = 1, maximum = 4294967295_u64)]
    pub line_number: Option<u32>,
    /// Our SKU; the product must exist and be active.
    #[schema(schema_with = schemas::name)]
    pub sku: String,
    pub description: Option<String>,
    /// A decimal greater than zero, as a string (`"12.5"`).
    #[schema(value_type = String, pattern = r"^(0|[1-9][0-9]{0,19})(\.[0-9]{1,8})?$")]
    pub quantity: Decimal,
    /// `EA` when absent.
    #[serde(default = "ea")]
    #[schema(schema_with = schemas::uom, required = false)]
    pub uom: Uom,
    /// The price of one unit, a decimal string.
    #[schema(value_type = String, pattern = r"^(0|[1-9][0-9]{0,19})(\.[0-9]{1,8})?$")]
    pub unit_price: Decimal,
    pub requested_date: Option<NaiveDate>,
}

fn ea() -> Uom {
    Uom::Ea
}

fn some_whole_number<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<u32>, D::Error> {
    whole_number(d).map(Some)
}

/// A sales order from a client.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewOrderInput {
    /// Our order number; made up (`SO-…`) when absent. Unique per organization.
    pub order_number: Option<String>,
    /// Our customer id; the customer must exist and be active.
    #[schema(schema_with = schemas::name)]
    pub customer_id: String,
    /// The customer's reference for the order (its PO number): one order per customer and
    /// reference, so a re-sent order is found, not duplicated.
    #[schema(schema_with = schemas::name)]
    pub customer_po: String,
    /// ISO 4217, upper case.
    #[schema(pattern = "^[A-Z]{3}$")]
    pub currency: String,
    /// When the customer ordered; now when absent.
    pub ordered_at: Option<DateTime<Utc>>,
    pub requested_delivery: Option<NaiveDate>,
    #[schema(min_items = 1, max_items = 1000)]
    pub lines: Vec<NewOrderLine>,
    pub billing_address: Option<AddressInput>,
    pub shipping_address: Option<AddressInput>,
}

/// The most lines one order may have.
const MAX_LINES: usize = 1000;

impl NewOrderInput {
    /// The canonical order this input describes, or a 422 naming the field.
    fn canonical(self, order_number: String) -> Result<Order, ApiError> {
        let bad = |field: String, why: &str| ApiError::validation(format!("{field}: {why}"));
        if self.customer_id.trim().is_empty() {
            return Err(bad("customer_id".into(), "must not be empty"));
        }
        if self.customer_po.trim().is_empty() {
            return Err(bad("customer_po".into(), "must not be empty"));
        }
        if self.currency.len() != 3 || !self.currency.bytes().all(|b| b.is_ascii_uppercase()) {
            return Err(bad(
                "currency".into(),
                &format!(
                    "`{}` is not three upper-case letters (ISO 4217)",
                    self.currency
                ),
            ));
        }
        if self.lines.is_empty() || self.lines.len() > MAX_LINES {
            return Err(bad(
                "lines".into(),
                &format!("an order has 1 to {MAX_LINES} lines"),
            ));
        }
        let mut lines: Vec<OrderLine> = Vec::with_capacity(self.lines.len());
        for (i, l) in self.lines.into_iter().enumerate() {
            let line_number = l.line_number.unwrap_or(i as u32 + 1);
            if lines.iter().any(|o| o.line_number == line_number) {
                return Err(bad(
                    format!("lines[{i}].line_number"),
                    &format!("line {line_number} is given twice"),
                ));
            }
            if l.unit_price < Decimal::ZERO {
                return Err(bad(
                    format!("lines[{i}].unit_price"),
                    "must not be negative",
                ));
            }
            lines.push(OrderLine {
                line_number,
                buyer_line: None,
                sku: l.sku.trim().to_owned(),
                buyer_part: None,
                gtin: None,
                description: l.description,
                quantity: l.quantity,
                uom: l.uom,
                unit_price: l.unit_price,
                requested_date: l.requested_date,
            });
        }
        Ok(Order {
            order_number,
            customer_id: self.customer_id.trim().to_owned(),
            status: OrderStatus::Pending,
            currency: self.currency,
            ordered_at: Some(self.ordered_at.unwrap_or_else(Utc::now)),
            requested_delivery: self.requested_delivery,
            lines,
            billing_address: self.billing_address.map(Address::from),
            shipping_address: self.shipping_address.map(Address::from),
            supplier_order_ref: None,
            customer_po: Some(self.customer_po.trim().to_owned()),
            tracking_numbers: Vec::new(),
            parties: Vec::new(),
        })
    }
}

/// Whether a stored order is what `asked` describes: the client's own fields (what the hub
/// changes later — status, tracking numbers, a supplier's reference — and a made-up order
/// number and order time are not compared).
fn same_request(stored: &OrderRow, asked: &Order, number_given: bool, at_given: bool) -> bool {
    let Ok(s) = serde_json::from_value::<Order>(stored.canonical.clone()) else {
        return false;
    };
    (!number_given || s.order_number == asked.order_number)
        && (!at_given || s.ordered_at == asked.ordered_at)
        && s.customer_id == asked.customer_id
        && s.customer_po == asked.customer_po
        && s.currency == asked.currency
        && s.requested_delivery == asked.requested_delivery
        && s.lines == asked.lines
        && s.billing_address == asked.billing_address
        && s.shipping_address == asked.shipping_address
}

/// Create a sales order (status `pending`) from the client's order: the customer and every
/// SKU must exist (422 naming the field otherwise). The same request again — the same
/// `Idempotency-Key`, or the same customer and `customer_po` — answers 200 with the order the
/// first one made; a different request under a used key is a 422, under a used
/// `customer_po` or order number a 409.
#[utoipa::path(post, path = "/orders", tag = "orders", request_body = NewOrderInput,
    params(IdempotencyKey),
    responses(
        (status = 201, description = "created", body = OrderView,
            headers(("Location" = String, description = "the order"))),
        (status = 200, description = "the order an earlier identical request made", body = OrderView),
        (status = 400, response = BadRequest),
        (status = 409, description = "another order holds this customer_po or order number", body = ErrorBody),
        (status = 415, response = UnsupportedMediaType),
        (status = 422, description = "an invalid body, an unknown or inactive customer or SKU, a quantity not above zero, a delivery date before the order date, or an Idempotency-Key used for a different request; the message names the field", body = ErrorBody)))]
pub(crate) async fn create_order(
    State(app): State<AppState>,
    Scoped(auth, _): Scoped<WriteOrders>,
    headers: HeaderMap,
    ApiJson(input): ApiJson<NewOrderInput>,
) -> Result<Response, ApiError> {
    let key = idempotency_key(&headers)?;
    let pool = &app.api.pool;
    let number_given = input.order_number.is_some();
    let at_given = input.ordered_at.is_some();
    let order_number = match &input.order_number {
        Some(n) if n.trim().is_empty() => {
            return Err(ApiError::validation("order_number: must not be empty"))
        }
        Some(n) => n.trim().to_owned(),
        // The random tail of a UUIDv7: unique without a counter every writer would contend on.
        None => format!("SO-{}", &uuid::Uuid::now_v7().simple().to_string()[20..]).to_uppercase(),
    };
    let order = input.canonical(order_number)?;
    let errors = store::check_order(pool, auth.org, &order).await?;
    if let Some(first) = errors.first() {
        let field = first.location.field.as_deref().unwrap_or("order");
        return Err(ApiError::validation(format!("{field}: {}", first.message))
            .with_details(serde_json::json!({"field": field, "problems": errors})));
    }
    let created = order_intake::create(
        pool,
        &ApiOrder {
            org: auth.org,
            order_number: order.order_number.clone(),
            customer_id: order.customer_id.clone(),
            customer_po: order.customer_po.clone().unwrap_or_default(),
            canonical: serde_json::to_value(&order).map_err(|e| ApiError::internal(&e))?,
            idempotency_key: key.clone(),
        },
    )
    .await?;
    match created {
        Created::New(row) => {
            tracing::info!(order = %row.id, number = %row.order_number, "order created through the API");
            let location = HeaderValue::from_str(&format!("/api/v1/orders/{}", row.id))
                .map_err(|e| ApiError::internal(&e))?;
            Ok((
                StatusCode::CREATED,
                [(header::LOCATION, location)],
                Json(OrderView::from(*row)),
            )
                .into_response())
        }
        Created::Existing(row) if same_request(&row, &order, number_given, at_given) => {
            Ok((StatusCode::OK, Json(OrderView::from(*row))).into_response())
        }
        Created::Existing(row) => {
            let stored_key =
                key.is_some() && order_intake::key_of(pool, auth.org, row.id).await? == key;
            if stored_key {
                Err(ApiError::validation(
                    "Idempotency-Key: this key was used for a different order",
                ))
            } else if row.order_number == order.order_number && number_given {
                Err(ApiError::new(
                    ErrorCode::Conflict,
                    format!("order_number: order {} exists already", row.order_number),
                ))
            } else {
                Err(ApiError::new(
                    ErrorCode::Conflict,
                    format!(
                        "customer_po: customer {} already has order {} for reference {}",
                        order.customer_id, row.order_number, row.customer_po
                    ),
                ))
            }
        }
    }
}
