//! Invoices (`/invoices`; `write:orders` to create, `read:orders` to read): what a customer
//! is billed, line by line, optionally for one of its sales orders. Amounts follow the
//! canonical `InvoiceLine` (net rounded to cents, VAT on the rounded net); `invoice.created`
//! is recorded in the same transaction (hub/store/src/invoices.rs). The invoice number is
//! the client's reference: the same invoice again answers 200.

use crate::auth::{ReadOrders, Scoped, WriteOrders};
use crate::error::{ApiError, ApiJson, ApiPath, ApiQuery, ErrorBody, ErrorCode};
use crate::paging::page_limit;
use crate::responses::{BadRequest, NotFound, UnsupportedMediaType};
use crate::routes::orders::whole_number;
use crate::schemas;
use crate::state::AppState;
use axum::extract::State;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use switchyard_core::ids::{InvoiceId, OrderId};
use switchyard_core::model::{InvoiceLine, Order, Uom};
use switchyard_store::invoices::{self as store, Created, InvoiceFilter, InvoiceRow, NewInvoice};
use switchyard_store::orders::{self as orders, ProductRef};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_invoice, list_invoices))
        .routes(routes!(get_invoice))
}

/// One line of an invoice.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InvoiceLineInput {
    /// Its position (1, 2, …) when absent; with an order, the order line invoiced.
    #[serde(default, deserialize_with = "some_whole_number")]
    #[schema(value_type = Option<u32>, minimum = 1, maximum = 4294967295_u64)]
    pub line_number: Option<u32>,
    /// Our SKU; the product must exist (and be on the order, when there is one).
    #[schema(schema_with = schemas::name)]
    pub sku: String,
    pub description: Option<String>,
    /// A decimal greater than zero, as a string.
    #[schema(value_type = String, pattern = r"^(0|[1-9][0-9]{0,19})(\.[0-9]{1,8})?$")]
    pub quantity: Decimal,
    /// `EA` when absent.
    #[serde(default = "ea")]
    #[schema(schema_with = schemas::uom, required = false)]
    pub uom: Uom,
    /// Net price of one unit, a decimal string.
    #[schema(value_type = String, pattern = r"^(0|[1-9][0-9]{0,19})(\.[0-9]{1,8})?$")]
    pub unit_price: Decimal,
    /// VAT in percent (`"23"`), a decimal string.
    #[schema(value_type = String, pattern = r"^(0|[1-9][0-9]{0,19})(\.[0-9]{1,8})?$")]
    pub vat_rate: Decimal,
}

fn ea() -> Uom {
    Uom::Ea
}

fn some_whole_number<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<u32>, D::Error> {
    whole_number(d).map(Some)
}

/// An invoice to create.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InvoiceInput {
    /// Unique per organization.
    #[schema(schema_with = schemas::name)]
    pub invoice_number: String,
    /// The sales order invoiced; its customer and currency are the invoice's unless given.
    pub order_id: Option<uuid::Uuid>,
    /// Our customer id; required without an order.
    pub customer_id: Option<String>,
    pub issue_date: NaiveDate,
    /// On or after the issue date.
    pub due_date: Option<NaiveDate>,
    /// ISO 4217; the order's when absent; required without an order.
    #[schema(pattern = "^[A-Z]{3}$")]
    pub currency: Option<String>,
    #[schema(min_items = 1, max_items = 1000)]
    pub lines: Vec<InvoiceLineInput>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct InvoiceLineView {
    pub line_number: u32,
    pub sku: String,
    pub description: Option<String>,
    #[schema(value_type = String)]
    pub quantity: Decimal,
    pub uom: String,
    #[schema(value_type = String)]
    pub unit_price: Decimal,
    #[schema(value_type = String)]
    pub vat_rate: Decimal,
    #[schema(value_type = String)]
    pub net_amount: Decimal,
    #[schema(value_type = String)]
    pub vat_amount: Decimal,
}

/// A stored invoice. Amounts are decimal strings.
#[derive(Debug, Serialize, ToSchema)]
pub struct InvoiceView {
    #[schema(value_type = uuid::Uuid)]
    pub id: InvoiceId,
    pub invoice_number: String,
    #[schema(value_type = Option<uuid::Uuid>)]
    pub order_id: Option<OrderId>,
    pub order_number: Option<String>,
    pub customer_id: String,
    pub issue_date: NaiveDate,
    pub due_date: Option<NaiveDate>,
    pub currency: String,
    #[schema(value_type = String)]
    pub net_total: Decimal,
    #[schema(value_type = String)]
    pub vat_total: Decimal,
    #[schema(value_type = String)]
    pub gross_total: Decimal,
    pub created_at: DateTime<Utc>,
    pub lines: Vec<InvoiceLineView>,
}

impl From<InvoiceRow> for InvoiceView {
    fn from(r: InvoiceRow) -> Self {
        InvoiceView {
            id: r.id,
            invoice_number: r.invoice_number,
            order_id: r.order_id,
            order_number: r.order_number,
            customer_id: r.customer_id,
            issue_date: r.issue_date,
            due_date: r.due_date,
            currency: r.currency,
            net_total: r.net_total,
            vat_total: r.vat_total,
            gross_total: r.gross_total,
            created_at: r.created_at,
            lines: r
                .lines
                .into_iter()
                .map(|l| InvoiceLineView {
                    line_number: l.line_number,
                    sku: l.sku,
                    description: l.description,
                    quantity: l.quantity,
                    uom: l.uom,
                    unit_price: l.unit_price,
                    vat_rate: l.vat_rate,
                    net_amount: l.net_amount,
                    vat_amount: l.vat_amount,
                })
                .collect(),
        }
    }
}

fn bad(field: impl std::fmt::Display, why: impl std::fmt::Display) -> ApiError {
    ApiError::validation(format!("{field}: {why}"))
}

/// The invoice `input` describes, checked against the catalog and the order.
async fn checked(
    app: &AppState,
    org: switchyard_core::ids::OrgId,
    input: InvoiceInput,
) -> Result<NewInvoice, ApiError> {
    let pool = &app.api.pool;
    let number = input.invoice_number.trim().to_owned();
    if number.is_empty() {
        return Err(bad("invoice_number", "must not be empty"));
    }
    let order = match input.order_id {
        Some(id) => {
            let row = orders::get(pool, org, OrderId(id))
                .await?
                .ok_or_else(|| bad("order_id", format!("no order {id}")))?;
            let order: Order = serde_json::from_value(row.canonical)
                .map_err(|e| ApiError::internal(&format!("stored order {id}: {e}")))?;
            Some((OrderId(id), row.customer_id, order))
        }
        None => None,
    };
    let customer =
        match (input.customer_id.as_deref().map(str::trim), &order) {
            (Some(""), _) => return Err(bad("customer_id", "must not be empty")),
            (Some(c), Some((_, Some(oc), _))) if c != oc => {
                return Err(bad(
                    "customer_id",
                    format!("the order is customer {oc}'s, not {c}'s"),
                ))
            }
            (Some(c), _) => c.to_owned(),
            (None, Some((_, Some(oc), _))) => oc.clone(),
            (None, _) => return Err(bad(
                "customer_id",
                "required when the invoice names no order (or the order's customer is not known)",
            )),
        };
    if !orders::customer_exists(pool, org, &customer).await? {
        return Err(bad("customer_id", format!("unknown customer `{customer}`")));
    }
    let currency = match (input.currency, &order) {
        (Some(c), _) => c,
        (None, Some((_, _, o))) => o.currency.clone(),
        (None, None) => return Err(bad("currency", "required when the invoice names no order")),
    };
    if currency.len() != 3 || !currency.bytes().all(|b| b.is_ascii_uppercase()) {
        return Err(bad(
            "currency",
            format!("`{currency}` is not three upper-case letters (ISO 4217)"),
        ));
    }
    if let Some(d) = input.due_date {
        if d < input.issue_date {
            return Err(bad(
                "due_date",
                format!("{d} is before the issue date {}", input.issue_date),
            ));
        }
    }
    if input.lines.is_empty() || input.lines.len() > 1000 {
        return Err(bad("lines", "an invoice has 1 to 1000 lines"));
    }
    let mut lines: Vec<InvoiceLine> = Vec::with_capacity(input.lines.len());
    for (i, l) in input.lines.into_iter().enumerate() {
        let sku = l.sku.trim().to_owned();
        let line_number = l.line_number.unwrap_or(i as u32 + 1);
        if lines.iter().any(|x| x.line_number == line_number) {
            return Err(bad(
                format!("lines[{i}].line_number"),
                format!("line {line_number} is given twice"),
            ));
        }
        if l.quantity <= Decimal::ZERO {
            return Err(bad(
                format!("lines[{i}].quantity"),
                "must be greater than zero",
            ));
        }
        for (field, v) in [("unit_price", l.unit_price), ("vat_rate", l.vat_rate)] {
            if v < Decimal::ZERO {
                return Err(bad(format!("lines[{i}].{field}"), "must not be negative"));
            }
        }
        if orders::find_product(pool, org, ProductRef::Sku(&sku))
            .await?
            .is_none()
        {
            return Err(bad(
                format!("lines[{i}].sku"),
                format!("product `{sku}` is not in our catalog"),
            ));
        }
        if let Some((_, _, o)) = &order {
            if !o.lines.iter().any(|ol| ol.sku == sku) {
                return Err(bad(
                    format!("lines[{i}].sku"),
                    format!("`{sku}` is not on order {}", o.order_number),
                ));
            }
        }
        lines.push(InvoiceLine {
            line_number,
            buyer_line: None,
            buyer_part: None,
            gtin: None,
            sku,
            description: l.description,
            quantity: l.quantity,
            uom: l.uom,
            unit_price: l.unit_price,
            vat_rate: l.vat_rate,
        });
    }
    Ok(NewInvoice {
        invoice_number: number,
        order_id: order.map(|(id, ..)| id),
        customer_id: customer,
        issue_date: input.issue_date,
        due_date: input.due_date,
        currency,
        lines,
    })
}

/// Create an invoice. The customer and every SKU must exist; with `order_id`, each SKU must
/// be on that order and the customer and currency default to the order's. The same invoice
/// again (number and content) answers 200; its number used for a different invoice is a 409.
#[utoipa::path(post, path = "/invoices", tag = "invoices", request_body = InvoiceInput,
    responses(
        (status = 201, description = "created", body = InvoiceView,
            headers(("Location" = String, description = "the invoice"))),
        (status = 200, description = "this invoice was created before", body = InvoiceView),
        (status = 400, response = BadRequest),
        (status = 409, description = "the invoice number names a different invoice", body = ErrorBody),
        (status = 415, response = UnsupportedMediaType),
        (status = 422, description = "an invalid body, an unknown customer, order or SKU, a SKU not on the order, a due date before the issue date; the message names the field", body = ErrorBody)))]
async fn create_invoice(
    State(app): State<AppState>,
    Scoped(auth, _): Scoped<WriteOrders>,
    ApiJson(input): ApiJson<InvoiceInput>,
) -> Result<Response, ApiError> {
    let invoice = checked(&app, auth.org, input).await?;
    match store::create(&app.api.pool, auth.org, &invoice).await? {
        Created::New(row) => {
            tracing::info!(invoice = %row.invoice_number, "invoice created");
            let location = HeaderValue::from_str(&format!("/api/v1/invoices/{}", row.id))
                .map_err(|e| ApiError::internal(&e))?;
            Ok((
                StatusCode::CREATED,
                [(header::LOCATION, location)],
                Json(InvoiceView::from(*row)),
            )
                .into_response())
        }
        Created::Existing(row) if row.is_same(&invoice) => {
            Ok((StatusCode::OK, Json(InvoiceView::from(*row))).into_response())
        }
        Created::Existing(row) => Err(ApiError::new(
            ErrorCode::Conflict,
            format!(
                "invoice_number: invoice {} exists already with other content",
                row.invoice_number
            ),
        )),
    }
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct InvoiceQuery {
    pub customer_id: Option<String>,
    pub order_id: Option<uuid::Uuid>,
    /// From the previous page's `next_cursor`.
    pub cursor: Option<String>,
    /// Default 50.
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct InvoicePage {
    pub items: Vec<InvoiceView>,
    pub next_cursor: Option<String>,
}

/// Invoices, newest first, one page at a time.
#[utoipa::path(get, path = "/invoices", tag = "invoices", params(InvoiceQuery),
    responses((status = 200, body = InvoicePage), (status = 400, response = BadRequest),
        (status = 422, description = "a bad `cursor`, `limit` out of range", body = ErrorBody)))]
async fn list_invoices(
    State(app): State<AppState>,
    Scoped(auth, _): Scoped<ReadOrders>,
    ApiQuery(q): ApiQuery<InvoiceQuery>,
) -> Result<Json<InvoicePage>, ApiError> {
    let limit = page_limit(q.limit)?;
    let filter = InvoiceFilter {
        customer_id: q.customer_id,
        order_id: q.order_id.map(OrderId),
    };
    let (rows, next) =
        store::list(&app.api.pool, auth.org, &filter, q.cursor.as_deref(), limit).await?;
    Ok(Json(InvoicePage {
        items: rows.into_iter().map(InvoiceView::from).collect(),
        next_cursor: next,
    }))
}

/// One invoice with its lines.
#[utoipa::path(get, path = "/invoices/{id}", tag = "invoices",
    params(("id" = uuid::Uuid, Path, description = "invoice id")),
    responses((status = 200, body = InvoiceView), (status = 400, response = BadRequest), (status = 404, response = NotFound)))]
async fn get_invoice(
    State(app): State<AppState>,
    Scoped(auth, _): Scoped<ReadOrders>,
    ApiPath(id): ApiPath<InvoiceId>,
) -> Result<Json<InvoiceView>, ApiError> {
    let row = store::get(&app.api.pool, auth.org, id)
        .await?
        .ok_or_else(|| ApiError::not_found("invoice"))?;
    Ok(Json(row.into()))
}
