//! Pricing (`read:pricing`): the price a customer sees for one product
//! (`GET /pricing/products/{sku}`) or a whole cart (`POST /pricing/cart`), resolved by
//! `switchyard_core::catalog::pricing` over inputs the store loads in one query. The shapes
//! follow SteelWise 3.2 (camelCase, `MoneyAmount {amount, currency, per}`), with amounts as
//! decimal strings so none passes through a float. The price data itself is written by
//! [`super::pricing_writes`].

use crate::auth::{ReadPricing, Scoped};
use crate::error::{ApiError, ApiJson, ApiPath, ApiQuery, ErrorBody, ErrorCode};
use crate::responses::{BadRequest, NotFound, UnsupportedMediaType};
use crate::routes::pricing_writes::{at, decode};
use crate::state::AppState;
use axum::extract::State;
use axum::Json;
use chrono::{NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use switchyard_core::catalog::pricing::{extended_price, BreakView, PriceBreakdown};
use switchyard_core::catalog::uom::round_money;
use switchyard_core::catalog::{
    resolve, PriceQuery, PriceSource, PricingError, PricingInputs, Uom,
};
use switchyard_core::ids::OrgId;
use switchyard_store::pricing::{self as store};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(product_price))
        .routes(routes!(cart_price))
}

/// Most lines one cart may hold.
pub const MAX_CART_LINES: usize = 1000;

/// An amount of money per a unit (SteelWise `MoneyAmount`).
#[derive(Debug, Serialize, ToSchema)]
pub struct MoneyAmount {
    /// A decimal string: 4 places for a unit price, 2 for an extended amount.
    #[schema(value_type = String)]
    pub amount: Decimal,
    pub currency: String,
    /// The unit the amount is per (`LB`, `FT`, `EA`); absent for an extended amount.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub per: Option<String>,
}

/// Which rule set the price.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum DiscountSource {
    Contract,
    Customer,
    Tier,
    Volume,
    /// The list price.
    None,
}

impl From<PriceSource> for DiscountSource {
    fn from(s: PriceSource) -> Self {
        match s {
            PriceSource::Contract => DiscountSource::Contract,
            PriceSource::Customer => DiscountSource::Customer,
            PriceSource::Tier => DiscountSource::Tier,
            PriceSource::Volume => DiscountSource::Volume,
            PriceSource::None => DiscountSource::None,
        }
    }
}

/// The price and how it compares with list, per the asked unit.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Pricing {
    /// `null` when the product has no list price (a contract set the price alone).
    pub list_price: Option<MoneyAmount>,
    pub customer_price: MoneyAmount,
    /// List − customer price; negative when a contract is above list.
    pub discount_amount: Option<MoneyAmount>,
    /// Percent of list, a decimal string.
    #[schema(value_type = Option<String>)]
    pub discount_percent: Option<Decimal>,
    pub discount_source: DiscountSource,
    /// The contract id, discount id, tier code or volume break id that won.
    pub source_id: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct VolumeBreakView {
    pub break_id: String,
    /// The threshold in the break's own unit, a decimal string.
    #[schema(value_type = String)]
    pub min_qty: Decimal,
    pub min_qty_uom: String,
    /// The threshold in the asked unit.
    #[schema(value_type = String)]
    pub min_qty_in_uom: Decimal,
    /// The unit price it gives per the asked unit; `null` for a percentage without list price.
    pub price: Option<MoneyAmount>,
    #[schema(value_type = Option<String>)]
    pub discount_percent: Option<Decimal>,
    /// The asked quantity reaches it (the threshold itself included).
    pub reached: bool,
}

/// The price of one product for one customer (SteelWise `ProductPriceResponse`).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ProductPrice {
    pub sku: String,
    pub customer_id: Option<String>,
    #[schema(value_type = String)]
    pub quantity: Decimal,
    pub uom: String,
    /// `null` when no price is shown.
    pub currency: Option<String>,
    /// `null` when `requiresQuote` or `loginRequired`.
    pub pricing: Option<Pricing>,
    /// The breaks valid on the day, lowest threshold first. They do not stack with a
    /// contract, discount or tier: the first rule that matches sets the price.
    pub volume_breaks: Vec<VolumeBreakView>,
    /// The days the customer price holds (inclusive); `null` is open.
    pub valid_from: Option<NaiveDate>,
    pub valid_until: Option<NaiveDate>,
    pub price_list_id: Option<String>,
    /// Prices here are exact, never estimates.
    pub is_estimate: bool,
    /// A quote-only product: no price.
    pub requires_quote: bool,
    /// A login-required product asked about without a customer: no price.
    pub login_required: bool,
}

fn money(amount: Decimal, currency: &str, per: Option<&Uom>) -> MoneyAmount {
    MoneyAmount {
        amount,
        currency: currency.to_owned(),
        per: per.map(|u| u.to_string()),
    }
}

fn break_view(v: &BreakView, currency: &str, uom: &Uom) -> VolumeBreakView {
    VolumeBreakView {
        break_id: v.id.clone(),
        min_qty: v.min_quantity.normalize(),
        min_qty_uom: v.uom.to_string(),
        min_qty_in_uom: v.min_quantity_in_uom.round_dp(10).normalize(),
        price: v.unit_price.map(|p| money(p, currency, Some(uom))),
        discount_percent: v.discount_percent,
        reached: v.reached,
    }
}

impl From<&PriceBreakdown> for ProductPrice {
    fn from(b: &PriceBreakdown) -> Self {
        let cur = b.currency.clone().unwrap_or_default();
        let per = Some(&b.uom);
        ProductPrice {
            sku: b.sku.clone(),
            customer_id: b.customer_id.clone(),
            quantity: b.quantity,
            uom: b.uom.to_string(),
            currency: b.currency.clone(),
            pricing: b.price.as_ref().map(|p| Pricing {
                list_price: p.list_price.map(|l| money(l, &cur, per)),
                customer_price: money(p.customer_price, &cur, per),
                discount_amount: p.discount_amount.map(|d| money(d, &cur, per)),
                discount_percent: p.discount_percent,
                discount_source: p.source.into(),
                source_id: p.source_id.clone(),
            }),
            volume_breaks: b
                .volume_breaks
                .iter()
                .map(|v| break_view(v, &cur, &b.uom))
                .collect(),
            valid_from: b.validity.from,
            valid_until: b.validity.to,
            price_list_id: b.price_list_id.clone(),
            is_estimate: false,
            requires_quote: b.requires_quote,
            login_required: b.login_required,
        }
    }
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query, rename_all = "camelCase")]
pub struct PriceParams {
    /// The customer asking; absent for an anonymous visitor (list and volume prices only).
    #[param(min_length = 1)]
    pub customer_id: Option<String>,
    /// Default 1; a decimal greater than zero, in `uom`.
    #[param(value_type = Option<String>, pattern = r"^([1-9][0-9]{0,13}(\.[0-9]{1,10})?|0\.[0-9]{0,9}[1-9])$")]
    pub quantity: Option<Decimal>,
    /// Default: the product's base unit.
    #[param(pattern = r"^[A-Za-z0-9]{1,10}$")]
    pub uom: Option<String>,
    /// ISO 4217; default: the one currency the product is priced in on the day.
    #[param(pattern = r"^[A-Z]{3}$")]
    pub currency: Option<String>,
    /// The day to price on (UTC); default today.
    pub on: Option<NaiveDate>,
}

/// A problem with one field of the question, named by its path (`items[2].uom`).
#[derive(Debug, Serialize, ToSchema)]
pub struct FieldError {
    /// The item's position in the request, when the request has items.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub index: Option<usize>,
    pub field: String,
    pub message: String,
    /// `not_found` (an unknown product) or `invalid`.
    #[serde(skip)]
    pub not_found: bool,
}

impl FieldError {
    pub(crate) fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        FieldError {
            index: None,
            field: field.into(),
            message: message.into(),
            not_found: false,
        }
    }
}

/// The common part of a question: customer, currency and day.
struct Asked {
    customer: Option<String>,
    currency: Option<String>,
    on: NaiveDate,
}

/// Checks the parts of a question every line shares; `prefix` names where they are.
fn asked(
    customer: Option<String>,
    currency: Option<String>,
    on: Option<NaiveDate>,
) -> Result<Asked, ApiError> {
    let customer = customer.map(|c| c.trim().to_owned());
    if customer.as_deref() == Some("") {
        return Err(ApiError::validation("customerId: must not be empty"));
    }
    if let Some(c) = &currency {
        check_currency(c).map_err(|m| ApiError::validation(format!("currency: {m}")))?;
    }
    Ok(Asked {
        customer,
        currency,
        on: on.unwrap_or_else(|| Utc::now().date_naive()),
    })
}

pub(crate) fn check_currency(c: &str) -> Result<(), String> {
    if c.len() == 3 && c.bytes().all(|b| b.is_ascii_uppercase()) {
        Ok(())
    } else {
        Err(format!(
            "`{c}` is not an ISO 4217 code (three capital letters)"
        ))
    }
}

/// One line's quantity and unit, checked.
fn line(
    quantity: Option<Decimal>,
    uom: Option<&str>,
) -> Result<(Decimal, Option<Uom>), FieldError> {
    let quantity = quantity.unwrap_or(Decimal::ONE);
    if quantity <= Decimal::ZERO {
        return Err(FieldError::invalid(
            "quantity",
            format!("must be greater than zero, got {quantity}"),
        ));
    }
    let uom = uom
        .map(Uom::new)
        .transpose()
        .map_err(|e| FieldError::invalid("uom", e.to_string()))?;
    Ok((quantity, uom))
}

/// The resolver's refusal as an error of the field it is about.
fn refusal(e: PricingError) -> FieldError {
    let name = match e {
        PricingError::Uom { .. } => "uom",
        PricingError::Quantity { .. } => "quantity",
        PricingError::AmbiguousCurrency { .. } => "currency",
        PricingError::NoPrice { .. } | PricingError::Unpriced { .. } => "sku",
    };
    FieldError::invalid(name, e.to_string())
}

/// Loads the products of `skus` for the customer; 404 for a customer of no (or another)
/// organization.
async fn load(
    app: &AppState,
    org: OrgId,
    skus: &[String],
    a: &Asked,
) -> Result<Vec<PricingInputs>, ApiError> {
    let loaded = store::load_inputs(&app.api.pool, org, skus, a.customer.as_deref()).await?;
    if loaded.customer_known == Some(false) {
        return Err(ApiError::not_found("customer"));
    }
    Ok(loaded.products)
}

fn question(a: &Asked, quantity: Decimal, uom: Option<Uom>) -> PriceQuery {
    PriceQuery {
        customer_id: a.customer.clone(),
        quantity,
        uom,
        currency: a.currency.clone(),
        on: a.on,
    }
}

/// The price of one product for a customer (or an anonymous visitor), per the asked unit,
/// with how it was reached: contract › customer discount › tier › volume break › list price,
/// the first that applies (SteelWise 3.1; they do not stack). A quote-only product answers
/// `requiresQuote` and no price; a login-required one without `customerId`, `loginRequired`.
/// 404 for a product or customer of no (or another) organization; 422 when the product has
/// no price on the day, or no conversion from its price's unit to `uom`.
#[utoipa::path(get, path = "/pricing/products/{sku}", tag = "pricing",
    params(("sku" = String, Path, min_length = 1, description = "our SKU"), PriceParams),
    responses((status = 200, body = ProductPrice), (status = 400, response = BadRequest),
        (status = 404, response = NotFound),
        (status = 422, description = "a bad parameter, no price on the day, a unit the product cannot convert to", body = ErrorBody)))]
async fn product_price(
    State(app): State<AppState>,
    Scoped(auth, _): Scoped<ReadPricing>,
    ApiPath(sku): ApiPath<String>,
    ApiQuery(q): ApiQuery<PriceParams>,
) -> Result<Json<ProductPrice>, ApiError> {
    let a = asked(q.customer_id, q.currency, q.on)?;
    let (quantity, uom) = line(q.quantity, q.uom.as_deref()).map_err(field_error)?;
    let products = load(&app, auth.org, std::slice::from_ref(&sku), &a).await?;
    let inputs = products
        .first()
        .ok_or_else(|| ApiError::not_found("product"))?;
    let b = resolve(inputs, &question(&a, quantity, uom)).map_err(|e| field_error(refusal(e)))?;
    Ok(Json((&b).into()))
}

fn field_error(e: FieldError) -> ApiError {
    let code = if e.not_found {
        ErrorCode::NotFound
    } else {
        ErrorCode::ValidationFailed
    };
    ApiError::new(code, format!("{}: {}", e.field, e.message))
        .with_details(json!({ "field": e.field }))
}

/// A line of a cart.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CartLine {
    #[schema(min_length = 1)]
    pub sku: String,
    /// A decimal greater than zero, as a string, in `uom`.
    #[schema(value_type = String, pattern = r"^([1-9][0-9]{0,13}(\.[0-9]{1,10})?|0\.[0-9]{0,9}[1-9])$")]
    pub quantity: Decimal,
    /// Default: the product's base unit.
    #[schema(pattern = r"^[A-Za-z0-9]{1,10}$")]
    pub uom: Option<String>,
}

/// A cart to price (SteelWise `CartPricingRequest`).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CartRequest {
    #[schema(min_length = 1)]
    pub customer_id: Option<String>,
    #[schema(pattern = r"^[A-Z]{3}$")]
    pub currency: Option<String>,
    /// The day to price on (UTC); default today.
    pub on: Option<NaiveDate>,
    /// At most 1,000 lines.
    #[schema(value_type = Vec<CartLine>, max_items = 1000)]
    pub items: Vec<Value>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CartItem {
    pub index: usize,
    pub sku: String,
    #[schema(value_type = String)]
    pub quantity: Decimal,
    pub uom: String,
    /// `null` when the line shows no price (quote only, login required).
    pub unit_price: Option<MoneyAmount>,
    /// Unit price (as shown, 4 places) × quantity, to 2 places.
    pub extended_price: Option<MoneyAmount>,
    /// The whole breakdown of the line's price.
    pub price: ProductPrice,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CartPrice {
    pub customer_id: Option<String>,
    pub items: Vec<CartItem>,
    /// The sum of the priced lines' extended prices, one per currency.
    pub subtotals: Vec<MoneyAmount>,
    /// Some line needs a quote (or a login) and is in no subtotal.
    pub requires_quote: bool,
    /// The last day every line's price holds; `null` when none ends.
    pub valid_until: Option<NaiveDate>,
}

/// Price a cart (SteelWise `POST /pricing/cart`): each line as `GET /pricing/products/{sku}`
/// prices it, its extended price, and subtotals per currency. Lines that show no price
/// (quote only, login required) are flagged and left out of the subtotals. Every bad line is
/// reported at once, by index and field, in `details.errors`: 404 when one names a product of
/// no (or another) organization, 422 otherwise.
#[utoipa::path(post, path = "/pricing/cart", tag = "pricing", request_body = CartRequest,
    responses((status = 200, body = CartPrice), (status = 400, response = BadRequest),
        (status = 404, description = "an unknown customer, or a line naming an unknown product (`details.errors`)", body = ErrorBody),
        (status = 415, response = UnsupportedMediaType),
        (status = 422, description = "an invalid body or bad lines (`details.errors`: `[{index, field, message}]`)", body = ErrorBody)))]
async fn cart_price(
    State(app): State<AppState>,
    Scoped(auth, _): Scoped<ReadPricing>,
    ApiJson(cart): ApiJson<CartRequest>,
) -> Result<Json<CartPrice>, ApiError> {
    if cart.items.len() > MAX_CART_LINES {
        return Err(ApiError::validation(format!(
            "items: at most {MAX_CART_LINES} lines, got {}",
            cart.items.len()
        )));
    }
    let a = asked(cart.customer_id, cart.currency, cart.on)?;
    let mut errors: Vec<FieldError> = Vec::new();
    let mut lines: Vec<(usize, String, Decimal, Option<Uom>)> = Vec::new();
    for (i, item) in cart.items.into_iter().enumerate() {
        let parsed = decode::<CartLine>(item).and_then(|l| {
            let sku = l.sku.trim().to_owned();
            if sku.is_empty() {
                return Err(FieldError::invalid("sku", "must not be empty"));
            }
            let (q, u) = line(Some(l.quantity), l.uom.as_deref())?;
            Ok((sku, q, u))
        });
        match parsed {
            Ok((sku, q, u)) => lines.push((i, sku, q, u)),
            Err(e) => errors.push(at(i, e)),
        }
    }
    let mut skus: Vec<String> = lines.iter().map(|l| l.1.clone()).collect();
    skus.sort();
    skus.dedup();
    let products = load(&app, auth.org, &skus, &a).await?;
    let by_sku: BTreeMap<&str, &PricingInputs> = products
        .iter()
        .map(|p| (p.product.sku.as_str(), p))
        .collect();
    let mut items = Vec::new();
    for (i, sku, quantity, uom) in lines {
        let Some(inputs) = by_sku.get(sku.as_str()) else {
            let e = FieldError::invalid("sku", format!("product `{sku}` not found"));
            errors.push(at(
                i,
                FieldError {
                    not_found: true,
                    ..e
                },
            ));
            continue;
        };
        match resolve(inputs, &question(&a, quantity, uom)) {
            Ok(b) => items.push((i, b)),
            Err(e) => errors.push(at(i, refusal(e))),
        }
    }
    if !errors.is_empty() {
        errors.sort_by_key(|e| e.index);
        let code = if errors.iter().any(|e| e.not_found) {
            ErrorCode::NotFound
        } else {
            ErrorCode::ValidationFailed
        };
        let first = &errors[0];
        return Err(ApiError::new(
            code,
            format!(
                "{} bad line(s); the first: {}: {}",
                errors.len(),
                first.field,
                first.message
            ),
        )
        .with_details(json!({ "errors": errors })));
    }
    Ok(Json(cart_answer(a.customer, items)?))
}

fn cart_answer(
    customer_id: Option<String>,
    lines: Vec<(usize, PriceBreakdown)>,
) -> Result<CartPrice, ApiError> {
    let mut subtotals: BTreeMap<String, Decimal> = BTreeMap::new();
    let mut valid_until: Option<NaiveDate> = None;
    let mut requires_quote = false;
    let mut items = Vec::with_capacity(lines.len());
    for (index, b) in lines {
        let priced = b.price.as_ref().zip(b.currency.as_deref());
        let extended = match priced {
            Some((p, _)) => {
                Some(extended_price(p.customer_price, b.quantity).ok_or_else(|| {
                    ApiError::validation(format!(
                        "items[{index}].quantity: the extended price overflows"
                    ))
                })?)
            }
            None => None,
        };
        if let (Some((_, cur)), Some(x)) = (priced, extended) {
            let sum = subtotals.entry(cur.to_owned()).or_default();
            *sum = sum
                .checked_add(x)
                .ok_or_else(|| ApiError::validation("items: the subtotal overflows"))?;
            if let Some(to) = b.validity.to {
                valid_until = Some(valid_until.map_or(to, |v| v.min(to)));
            }
        } else {
            requires_quote = true;
        }
        items.push(CartItem {
            index,
            sku: b.sku.clone(),
            quantity: b.quantity,
            uom: b.uom.to_string(),
            unit_price: priced.map(|(p, cur)| money(p.customer_price, cur, Some(&b.uom))),
            extended_price: priced
                .zip(extended)
                .map(|((_, cur), x)| money(x, cur, None)),
            price: (&b).into(),
        });
    }
    Ok(CartPrice {
        customer_id,
        items,
        subtotals: subtotals
            .into_iter()
            .map(|(cur, sum)| money(round_money(sum), &cur, None))
            .collect(),
        requires_quote,
        valid_until,
    })
}
