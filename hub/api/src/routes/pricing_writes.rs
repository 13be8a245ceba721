//! Price data (`write:catalog`): bulk upserts of price lists, list prices, tiers, customers'
//! tiers, customer discounts, contracts, volume breaks and product unit conversions —
//! `PUT /pricing/{kind}` with `{"items": [...]}`, up to 1,000 items. Idempotent: each item is
//! keyed by its ids, and sending it again stores the same row. A bad item (a field of the wrong
//! type or out of range, an unknown product or customer, a key repeated in the call) is
//! reported by index with its field, and the others are stored.

use crate::error::ApiError;
use crate::routes::pricing::{check_currency, FieldError};
use crate::state::AppState;
use chrono::{Datelike, NaiveDate};
use rust_decimal::Decimal;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::{HashMap, HashSet};
use switchyard_core::catalog::pricing::{BreakAdjustment, DiscountScope, Validity};
use switchyard_core::catalog::{Conversion, Uom};
use switchyard_core::ids::OrgId;
use switchyard_store::pricing::{
    self as store, ContractRow, ConversionRow, CustomerTierRow, DiscountRow, ListPriceRow,
    PriceListRow, PriceRows, Ref, TierRow, VolumeBreakRow,
};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// Most items one call may carry.
pub const MAX_ITEMS: usize = 1000;

pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(put_price_lists))
        .routes(routes!(put_list_prices))
        .routes(routes!(put_tiers))
        .routes(routes!(put_customer_tiers))
        .routes(routes!(put_discounts))
        .routes(routes!(put_contracts))
        .routes(routes!(put_volume_breaks))
        .routes(routes!(put_uom_conversions))
}

/// One item of a request, decoded on its own so a bad one is reported with its field (its
/// path within the item, empty for the item as a whole) and does not sink the others.
pub(crate) fn decode<T: DeserializeOwned>(item: Value) -> Result<T, FieldError> {
    serde_path_to_error::deserialize(item).map_err(|e| {
        let path = e.path().to_string();
        let path = if path == "." { String::new() } else { path };
        FieldError::invalid(path, e.into_inner().to_string())
    })
}

/// What a bulk upsert did.
#[derive(Debug, Serialize, ToSchema)]
pub struct BulkResult {
    /// Items stored (inserted or replaced with the same or new values).
    pub stored: usize,
    /// The items not stored, by index, with the field at fault.
    pub errors: Vec<FieldError>,
}

/// An item checked: its row, its key (a key may appear once per call) and what it refers to.
struct Checked<R> {
    row: R,
    key: String,
    refs: Vec<(Ref, String, &'static str)>,
}

/// An item of a bulk upsert.
trait BulkItem: DeserializeOwned {
    type Row;
    fn check(self) -> Result<Checked<Self::Row>, FieldError>;
    fn rows(rows: Vec<Self::Row>) -> PriceRows;
}

/// Decode and check every item, check what they refer to (one query per kind of reference),
/// refuse repeated keys, and store the rest in one statement.
async fn bulk<T: BulkItem>(
    app: &AppState,
    org: OrgId,
    items: Vec<Value>,
) -> Result<BulkResult, ApiError> {
    check_size(&items)?;
    let mut errors = Vec::new();
    let mut checked: Vec<(usize, Checked<T::Row>)> = Vec::new();
    for (i, item) in items.into_iter().enumerate() {
        match decode::<T>(item).and_then(T::check) {
            Ok(c) => checked.push((i, c)),
            Err(e) => errors.push(at(i, e)),
        }
    }
    let mut wanted: HashMap<Ref, Vec<String>> = HashMap::new();
    for (_, c) in &checked {
        for (r, id, _) in &c.refs {
            wanted.entry(*r).or_default().push(id.clone());
        }
    }
    let mut found: HashMap<Ref, HashSet<String>> = HashMap::new();
    for (r, ids) in wanted {
        found.insert(r, store::known(&app.api.pool, org, r, &ids).await?);
    }
    let mut first_of: HashMap<String, usize> = HashMap::new();
    let mut rows = Vec::new();
    for (i, c) in checked {
        if let Some((r, id, field)) = c.refs.iter().find(|(r, id, _)| !found[r].contains(id)) {
            errors.push(at(
                i,
                FieldError::invalid(*field, format!("unknown {} `{id}`", noun(*r))),
            ));
            continue;
        }
        if let Some(j) = first_of.get(&c.key) {
            errors.push(at(
                i,
                FieldError::invalid("", format!("the same key as items[{j}] ({})", c.key)),
            ));
            continue;
        }
        first_of.insert(c.key, i);
        rows.push(c.row);
    }
    errors.sort_by_key(|e| e.index);
    let stored = rows.len();
    if stored > 0 {
        store::upsert_prices(&app.api.pool, org, &T::rows(rows)).await?;
    }
    Ok(BulkResult { stored, errors })
}

/// A bulk call carries at most [`MAX_ITEMS`] items.
pub(crate) fn check_size(items: &[Value]) -> Result<(), ApiError> {
    if items.len() > MAX_ITEMS {
        return Err(ApiError::validation(format!(
            "items: at most {MAX_ITEMS} per call, got {}",
            items.len()
        )));
    }
    Ok(())
}

/// `e`, of the item at index `i` of `items`.
pub(crate) fn at(i: usize, e: FieldError) -> FieldError {
    let field = if e.field.is_empty() {
        format!("items[{i}]")
    } else {
        format!("items[{i}].{}", e.field)
    };
    FieldError {
        index: Some(i),
        field,
        ..e
    }
}

fn noun(r: Ref) -> &'static str {
    match r {
        Ref::Product => "product",
        Ref::Customer => "customer",
        Ref::PriceList => "price list",
        Ref::Tier => "tier",
    }
}

// Field checks: each names the field it refuses.

pub(crate) fn id(field: &'static str, v: String) -> Result<String, FieldError> {
    let v = v.trim().to_owned();
    if v.is_empty() {
        return Err(FieldError::invalid(field, "must not be empty"));
    }
    Ok(v)
}

fn currency(field: &'static str, c: String) -> Result<String, FieldError> {
    check_currency(&c).map_err(|m| FieldError::invalid(field, m))?;
    Ok(c)
}

pub(crate) fn uom(field: &'static str, u: &str) -> Result<Uom, FieldError> {
    Uom::new(u).map_err(|e| FieldError::invalid(field, e.to_string()))
}

/// `d` with at most `dp` places, at least `min` (exclusive when `strict`), below `max`.
fn decimal(
    field: &'static str,
    d: Decimal,
    dp: u32,
    positive: bool,
    max: Decimal,
) -> Result<Decimal, FieldError> {
    let d = d.normalize();
    let low = if positive {
        d <= Decimal::ZERO
    } else {
        d < Decimal::ZERO
    };
    if low || d >= max || d.scale() > dp {
        let floor = if positive {
            "greater than 0"
        } else {
            "at least 0"
        };
        return Err(FieldError::invalid(
            field,
            format!("must be {floor}, below {max}, with at most {dp} decimal places; got {d}"),
        ));
    }
    Ok(d)
}

fn amount(field: &'static str, d: Decimal) -> Result<Decimal, FieldError> {
    decimal(field, d, 6, false, Decimal::from(1_000_000_000_000_i64))
}

fn percent(field: &'static str, d: Decimal) -> Result<Decimal, FieldError> {
    if d > Decimal::ONE_HUNDRED {
        return Err(FieldError::invalid(
            field,
            format!("must be at most 100, got {d}"),
        ));
    }
    decimal(field, d, 4, false, Decimal::from(101))
}

fn quantity(field: &'static str, d: Decimal) -> Result<Decimal, FieldError> {
    decimal(field, d, 10, true, Decimal::from(100_000_000_000_000_i64))
}

/// Both ends inclusive, the start not after the end, years 1 to 9999.
fn validity(from: Option<NaiveDate>, to: Option<NaiveDate>) -> Result<Validity, FieldError> {
    for (field, d) in [("validFrom", from), ("validTo", to)] {
        if let Some(d) = d.filter(|d| !(1..=9999).contains(&d.year())) {
            return Err(FieldError::invalid(
                field,
                format!("year out of range 1–9999: {d}"),
            ));
        }
    }
    if let (Some(f), Some(t)) = (from, to) {
        if f > t {
            return Err(FieldError::invalid(
                "validTo",
                format!("{t} is before validFrom {f}"),
            ));
        }
    }
    Ok(Validity { from, to })
}

/// Declares a bulk request body over items of `$item` (decoded one by one).
macro_rules! bulk_body {
    ($($body:ident => $item:ty;)+) => {$(
        #[derive(Debug, serde::Deserialize, utoipa::ToSchema)]
        #[serde(deny_unknown_fields)]
        pub struct $body {
            /// At most 1,000.
            #[schema(value_type = Vec<$item>, max_items = 1000)]
            pub items: Vec<serde_json::Value>,
        }
    )+};
}
pub(crate) use bulk_body;

bulk_body! {
    PriceListsBody => PriceListItem;
    ListPricesBody => ListPriceItem;
    TiersBody => TierItem;
    CustomerTiersBody => CustomerTierItem;
    DiscountsBody => DiscountItem;
    ContractsBody => ContractItem;
    VolumeBreaksBody => VolumeBreakItem;
    UomConversionsBody => UomConversionItem;
}

/// A price list: one currency, a validity. Keyed by `priceListId`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PriceListItem {
    #[schema(min_length = 1)]
    pub price_list_id: String,
    pub name: Option<String>,
    #[schema(pattern = r"^[A-Z]{3}$")]
    pub currency: String,
    pub valid_from: Option<NaiveDate>,
    /// Inclusive.
    pub valid_to: Option<NaiveDate>,
}

impl BulkItem for PriceListItem {
    type Row = PriceListRow;
    fn check(self) -> Result<Checked<PriceListRow>, FieldError> {
        let price_list_id = id("priceListId", self.price_list_id)?;
        Ok(Checked {
            key: price_list_id.clone(),
            refs: vec![],
            row: PriceListRow {
                price_list_id,
                name: self.name,
                currency: currency("currency", self.currency)?,
                validity: validity(self.valid_from, self.valid_to)?,
            },
        })
    }
    fn rows(rows: Vec<PriceListRow>) -> PriceRows {
        PriceRows::PriceLists(rows)
    }
}

/// A product's price per one unit on a price list. Keyed by `priceListId`, `sku`, `uom`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ListPriceItem {
    #[schema(min_length = 1)]
    pub price_list_id: String,
    #[schema(min_length = 1)]
    pub sku: String,
    #[schema(pattern = r"^[A-Za-z0-9]{1,10}$")]
    pub uom: String,
    /// Per one `uom`: a decimal string, at most 6 places.
    #[schema(value_type = String, pattern = r"^(0|[1-9][0-9]{0,11})(\.[0-9]{1,6})?$")]
    pub amount: Decimal,
    pub valid_from: Option<NaiveDate>,
    pub valid_to: Option<NaiveDate>,
}

impl BulkItem for ListPriceItem {
    type Row = ListPriceRow;
    fn check(self) -> Result<Checked<ListPriceRow>, FieldError> {
        let price_list_id = id("priceListId", self.price_list_id)?;
        let sku = id("sku", self.sku)?;
        let u = uom("uom", &self.uom)?;
        Ok(Checked {
            key: format!("{price_list_id}/{sku}/{u}"),
            refs: vec![
                (Ref::PriceList, price_list_id.clone(), "priceListId"),
                (Ref::Product, sku.clone(), "sku"),
            ],
            row: ListPriceRow {
                price_list_id,
                sku,
                uom: u,
                amount: amount("amount", self.amount)?,
                validity: validity(self.valid_from, self.valid_to)?,
            },
        })
    }
    fn rows(rows: Vec<ListPriceRow>) -> PriceRows {
        PriceRows::ListPrices(rows)
    }
}

/// One list price as `PUT /pricing/list-prices` takes it (a [`ListPriceItem`] object),
/// decoded and checked, or the field at fault. What it names (its price list and product) is
/// the caller's to check with [`store::known`]: the scheduled pull stores its price records
/// through this, so both ways into the price tables keep one set of rules.
pub fn list_price_row(item: Value) -> Result<ListPriceRow, FieldError> {
    decode::<ListPriceItem>(item)
        .and_then(ListPriceItem::check)
        .map(|c| c.row)
}

/// A tier such as GOLD: a percentage off list. Keyed by `tierCode`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TierItem {
    #[schema(min_length = 1)]
    pub tier_code: String,
    pub name: Option<String>,
    /// 0 to 100, at most 4 places, as a string.
    #[schema(value_type = String, pattern = r"^(100(\.0{1,4})?|[0-9]{1,2}(\.[0-9]{1,4})?)$")]
    pub percent: Decimal,
}

impl BulkItem for TierItem {
    type Row = TierRow;
    fn check(self) -> Result<Checked<TierRow>, FieldError> {
        let tier_code = id("tierCode", self.tier_code)?;
        Ok(Checked {
            key: tier_code.clone(),
            refs: vec![],
            row: TierRow {
                tier_code,
                name: self.name,
                percent: percent("percent", self.percent)?,
            },
        })
    }
    fn rows(rows: Vec<TierRow>) -> PriceRows {
        PriceRows::Tiers(rows)
    }
}

/// The tier a customer is on. Keyed by `customerId` (one tier per customer).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CustomerTierItem {
    #[schema(min_length = 1)]
    pub customer_id: String,
    #[schema(min_length = 1)]
    pub tier_code: String,
}

impl BulkItem for CustomerTierItem {
    type Row = CustomerTierRow;
    fn check(self) -> Result<Checked<CustomerTierRow>, FieldError> {
        let customer_id = id("customerId", self.customer_id)?;
        let tier_code = id("tierCode", self.tier_code)?;
        Ok(Checked {
            key: customer_id.clone(),
            refs: vec![
                (Ref::Customer, customer_id.clone(), "customerId"),
                (Ref::Tier, tier_code.clone(), "tierCode"),
            ],
            row: CustomerTierRow {
                customer_id,
                tier_code,
            },
        })
    }
    fn rows(rows: Vec<CustomerTierRow>) -> PriceRows {
        PriceRows::CustomerTiers(rows)
    }
}

#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DiscountScopeName {
    Product,
    Category,
    All,
}

/// A customer's own percentage off list on one product (`sku`), a category and its
/// sub-categories (`category`, e.g. `Steel > Flat`) or everything. Keyed by `discountId`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DiscountItem {
    #[schema(min_length = 1)]
    pub discount_id: String,
    #[schema(min_length = 1)]
    pub customer_id: String,
    pub scope: DiscountScopeName,
    /// With scope `product` only.
    pub sku: Option<String>,
    /// With scope `category` only.
    pub category: Option<String>,
    #[schema(value_type = String, pattern = r"^(100(\.0{1,4})?|[0-9]{1,2}(\.[0-9]{1,4})?)$")]
    pub percent: Decimal,
    pub valid_from: Option<NaiveDate>,
    pub valid_to: Option<NaiveDate>,
}

impl BulkItem for DiscountItem {
    type Row = DiscountRow;
    fn check(self) -> Result<Checked<DiscountRow>, FieldError> {
        let discount_id = id("discountId", self.discount_id)?;
        let customer_id = id("customerId", self.customer_id)?;
        let mut refs = vec![(Ref::Customer, customer_id.clone(), "customerId")];
        let scope = match (self.scope, self.sku, self.category) {
            (DiscountScopeName::Product, Some(s), None) => {
                let s = id("sku", s)?;
                refs.push((Ref::Product, s.clone(), "sku"));
                DiscountScope::Product(s)
            }
            (DiscountScopeName::Category, None, Some(c)) => {
                DiscountScope::Category(id("category", c)?)
            }
            (DiscountScopeName::All, None, None) => DiscountScope::All,
            (DiscountScopeName::Product, _, _) => {
                return Err(FieldError::invalid(
                    "sku",
                    "scope `product` needs `sku` and no `category`",
                ))
            }
            (DiscountScopeName::Category, _, _) => {
                return Err(FieldError::invalid(
                    "category",
                    "scope `category` needs `category` and no `sku`",
                ))
            }
            (DiscountScopeName::All, _, _) => {
                return Err(FieldError::invalid(
                    "scope",
                    "scope `all` takes neither `sku` nor `category`",
                ))
            }
        };
        Ok(Checked {
            key: discount_id.clone(),
            refs,
            row: DiscountRow {
                discount_id,
                customer_id,
                scope,
                percent: percent("percent", self.percent)?,
                validity: validity(self.valid_from, self.valid_to)?,
            },
        })
    }
    fn rows(rows: Vec<DiscountRow>) -> PriceRows {
        PriceRows::Discounts(rows)
    }
}

/// A fixed price of one product for one customer through a date. Keyed by `contractId` and
/// `sku` (a contract covers several products, one item each).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ContractItem {
    #[schema(min_length = 1)]
    pub contract_id: String,
    #[schema(min_length = 1)]
    pub sku: String,
    #[schema(min_length = 1)]
    pub customer_id: String,
    /// Per one `uom`.
    #[schema(value_type = String, pattern = r"^(0|[1-9][0-9]{0,11})(\.[0-9]{1,6})?$")]
    pub price: Decimal,
    #[schema(pattern = r"^[A-Za-z0-9]{1,10}$")]
    pub uom: String,
    #[schema(pattern = r"^[A-Z]{3}$")]
    pub currency: String,
    pub valid_from: Option<NaiveDate>,
    /// The last day it applies (inclusive).
    pub valid_to: Option<NaiveDate>,
}

impl BulkItem for ContractItem {
    type Row = ContractRow;
    fn check(self) -> Result<Checked<ContractRow>, FieldError> {
        let contract_id = id("contractId", self.contract_id)?;
        let sku = id("sku", self.sku)?;
        let customer_id = id("customerId", self.customer_id)?;
        Ok(Checked {
            key: format!("{contract_id}/{sku}"),
            refs: vec![
                (Ref::Product, sku.clone(), "sku"),
                (Ref::Customer, customer_id.clone(), "customerId"),
            ],
            row: ContractRow {
                contract_id,
                sku,
                customer_id,
                price: amount("price", self.price)?,
                uom: uom("uom", &self.uom)?,
                currency: currency("currency", self.currency)?,
                validity: validity(self.valid_from, self.valid_to)?,
            },
        })
    }
    fn rows(rows: Vec<ContractRow>) -> PriceRows {
        PriceRows::Contracts(rows)
    }
}

/// From `minQuantity` of `uom` up (the threshold included): a unit price per `uom` in
/// `currency`, or a `percent` off list — one of the two. Keyed by `breakId`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct VolumeBreakItem {
    #[schema(min_length = 1)]
    pub break_id: String,
    #[schema(min_length = 1)]
    pub sku: String,
    #[schema(value_type = String, pattern = r"^([1-9][0-9]{0,13}(\.[0-9]{1,10})?|0\.[0-9]{0,9}[1-9])$")]
    pub min_quantity: Decimal,
    #[schema(pattern = r"^[A-Za-z0-9]{1,10}$")]
    pub uom: String,
    #[schema(value_type = Option<String>, pattern = r"^(0|[1-9][0-9]{0,11})(\.[0-9]{1,6})?$")]
    pub price: Option<Decimal>,
    #[schema(pattern = r"^[A-Z]{3}$")]
    pub currency: Option<String>,
    #[schema(value_type = Option<String>, pattern = r"^(100(\.0{1,4})?|[0-9]{1,2}(\.[0-9]{1,4})?)$")]
    pub percent: Option<Decimal>,
    pub valid_from: Option<NaiveDate>,
    pub valid_to: Option<NaiveDate>,
}

impl BulkItem for VolumeBreakItem {
    type Row = VolumeBreakRow;
    fn check(self) -> Result<Checked<VolumeBreakRow>, FieldError> {
        let break_id = id("breakId", self.break_id)?;
        let sku = id("sku", self.sku)?;
        let adjustment = match (self.price, self.currency, self.percent) {
            (Some(p), Some(c), None) => BreakAdjustment::Price {
                amount: amount("price", p)?,
                currency: currency("currency", c)?,
            },
            (None, None, Some(p)) => BreakAdjustment::Percent(percent("percent", p)?),
            (Some(_), None, None) => {
                return Err(FieldError::invalid(
                    "currency",
                    "a price needs its currency",
                ))
            }
            _ => {
                return Err(FieldError::invalid(
                    "price",
                    "give `price` with `currency`, or `percent`: one of the two",
                ))
            }
        };
        Ok(Checked {
            key: break_id.clone(),
            refs: vec![(Ref::Product, sku.clone(), "sku")],
            row: VolumeBreakRow {
                break_id,
                sku,
                min_quantity: quantity("minQuantity", self.min_quantity)?,
                uom: uom("uom", &self.uom)?,
                adjustment,
                validity: validity(self.valid_from, self.valid_to)?,
            },
        })
    }
    fn rows(rows: Vec<VolumeBreakRow>) -> PriceRows {
        PriceRows::VolumeBreaks(rows)
    }
}

/// A product's own conversion: 1 `fromUom` = `factor` `toUom` (1 FT = 3.4 LB for a bar). The
/// fixed ones (CWT = 100 LB, TON = 2,000 LB) cannot be set. Keyed by `sku` and the pair of
/// units in either order: the later write of a pair replaces the earlier.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UomConversionItem {
    #[schema(min_length = 1)]
    pub sku: String,
    #[schema(pattern = r"^[A-Za-z0-9]{1,10}$")]
    pub from_uom: String,
    #[schema(pattern = r"^[A-Za-z0-9]{1,10}$")]
    pub to_uom: String,
    #[schema(value_type = String, pattern = r"^([1-9][0-9]{0,13}(\.[0-9]{1,10})?|0\.[0-9]{0,9}[1-9])$")]
    pub factor: Decimal,
}

impl BulkItem for UomConversionItem {
    type Row = ConversionRow;
    fn check(self) -> Result<Checked<ConversionRow>, FieldError> {
        let sku = id("sku", self.sku)?;
        let from = uom("fromUom", &self.from_uom)?;
        let to = uom("toUom", &self.to_uom)?;
        if from == to {
            return Err(FieldError::invalid(
                "toUom",
                format!("the same unit as fromUom ({to})"),
            ));
        }
        let factor = quantity("factor", self.factor)?;
        let pair = if from < to {
            format!("{sku}/{from}/{to}")
        } else {
            format!("{sku}/{to}/{from}")
        };
        let conversion = Conversion::new(from, to, factor)
            .map_err(|e| FieldError::invalid("factor", e.to_string()))?;
        Ok(Checked {
            key: pair,
            refs: vec![(Ref::Product, sku.clone(), "sku")],
            row: ConversionRow { sku, conversion },
        })
    }
    fn rows(rows: Vec<ConversionRow>) -> PriceRows {
        PriceRows::Conversions(rows)
    }
}

/// Declares one `$method /pricing/{path}` handler per kind of price data, each running
/// `$run::<item>` over the body's items under `write:catalog`.
macro_rules! bulk_routes {
    ($method:tt, $run:ident -> $result:ty, $said:tt;
     $($(#[$doc:meta])* $name:ident, $path:literal, $body:ty, $item:ty;)+) => {$(
        $(#[$doc])*
        #[utoipa::path($method, path = $path, tag = "pricing", request_body = $body,
            responses((status = 200, description = $said, body = $result),
                (status = 400, response = $crate::responses::BadRequest),
                (status = 415, response = $crate::responses::UnsupportedMediaType),
                (status = 422, description = "not an object with `items`, or more than 1,000 items",
                 body = $crate::error::ErrorBody)))]
        async fn $name(
            axum::extract::State(app): axum::extract::State<$crate::state::AppState>,
            $crate::auth::Scoped(auth, _): $crate::auth::Scoped<$crate::auth::WriteCatalog>,
            $crate::error::ApiJson(body): $crate::error::ApiJson<$body>,
        ) -> Result<axum::Json<$result>, $crate::error::ApiError> {
            Ok(axum::Json($run::<$item>(&app, auth.org, body.items).await?))
        }
    )+};
}
pub(crate) use bulk_routes;

bulk_routes! {
    put, bulk -> BulkResult, "stored, with the items refused by index and field";
    /// Upsert price lists (id, currency, validity).
    put_price_lists, "/pricing/price-lists", PriceListsBody, PriceListItem;
    /// Upsert list prices: a product's price per unit on a price list.
    put_list_prices, "/pricing/list-prices", ListPricesBody, ListPriceItem;
    /// Upsert price tiers (GOLD 8 % …).
    put_tiers, "/pricing/tiers", TiersBody, TierItem;
    /// Assign customers to tiers (one tier per customer).
    put_customer_tiers, "/pricing/customer-tiers", CustomerTiersBody, CustomerTierItem;
    /// Upsert customer discounts (per product, per category, on everything).
    put_discounts, "/pricing/discounts", DiscountsBody, DiscountItem;
    /// Upsert contract prices (a fixed price per product per customer through a date).
    put_contracts, "/pricing/contracts", ContractsBody, ContractItem;
    /// Upsert volume breaks (a price or a percentage from a quantity up).
    put_volume_breaks, "/pricing/volume-breaks", VolumeBreaksBody, VolumeBreakItem;
    /// Upsert a product's own unit conversions.
    put_uom_conversions, "/pricing/uom-conversions", UomConversionsBody, UomConversionItem;
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_bad_field_is_named_by_its_path() {
        let e = decode::<ListPriceItem>(
            json!({"priceListId": "PL", "sku": "S", "uom": "LB", "amount": true}),
        )
        .unwrap_err();
        assert_eq!(e.field, "amount");
        let e = decode::<ListPriceItem>(json!({"sku": "S"})).unwrap_err();
        assert_eq!(e.field, "");
        assert!(
            e.message.contains("missing field `priceListId`"),
            "{}",
            e.message
        );
        let e = at(3, FieldError::invalid("amount", "x"));
        assert_eq!((e.index, e.field.as_str()), (Some(3), "items[3].amount"));
    }

    #[test]
    fn decimals_are_bounded() {
        use rust_decimal_macros::dec;
        assert!(amount("a", dec!(0.123456)).is_ok());
        assert!(amount("a", dec!(0.1234567)).is_err());
        assert!(amount("a", dec!(-1)).is_err());
        assert!(amount("a", dec!(1000000000000)).is_err());
        assert!(percent("p", dec!(100)).is_ok());
        assert!(percent("p", dec!(100.0001)).is_err());
        assert!(quantity("q", dec!(0)).is_err());
        // Trailing zeros are not places.
        assert!(amount("a", dec!(1.50000000)).is_ok());
    }

    #[test]
    fn validity_needs_order() {
        let d = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").ok();
        assert!(validity(d("2026-01-01"), d("2026-01-01")).is_ok());
        let e = validity(d("2026-01-02"), d("2026-01-01")).unwrap_err();
        assert_eq!(e.field, "validTo");
    }
}
