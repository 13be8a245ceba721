//! The catalog (`read:catalog` / `write:catalog`): a bulk upsert of up to 1,000 products per
//! call, idempotent by SKU, whose bad items are reported by index and field while the others
//! are stored; keyset listing (`updated_since`, `web_visible`), one product, a tombstone
//! (DELETE), and the change feed a sync reads from its checkpoint.

use crate::auth::{ReadCatalog, Scoped, WriteCatalog};
use crate::error::{ApiError, ApiJson, ApiPath, ApiQuery, ErrorBody};
use crate::paging::{at_most, page_limit};
use crate::responses::{BadRequest, NotFound, UnsupportedMediaType};
use crate::schemas;
use crate::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::collections::{BTreeMap, HashMap};
use switchyard_core::model::Uom;
use switchyard_store::catalog::{
    self as store, AvailabilityStatus, ItemError, Outcome, PriceVisibility, ProductFilter,
    ProductRecord, StoredProduct, StoredVariant, VariantRecord,
};
use switchyard_store::feed::{self, FeedEntity};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// The most items one bulk call takes.
pub const MAX_BATCH: usize = 1000;

pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(put_products, list_products))
        .routes(routes!(get_product, delete_product))
        .routes(routes!(list_changes))
}

/// A product specification line (`Yield Strength`: `36,000 PSI min`).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Specification {
    pub name: String,
    pub value: String,
    #[serde(default)]
    pub unit: Option<String>,
    #[serde(default)]
    pub display_order: Option<i64>,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema)]
pub enum DimensionUnit {
    #[serde(rename = "IN")]
    In,
    #[serde(rename = "MM")]
    Mm,
    #[serde(rename = "FT")]
    Ft,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Tolerance {
    pub min: f64,
    pub max: f64,
}

/// One dimension of a dimensional product.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Dimension {
    pub value: f64,
    pub unit: DimensionUnit,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tolerance: Option<Tolerance>,
}

/// The dimensions a dimensional product has (any of them).
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Dimensions {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thickness: Option<Dimension>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub width: Option<Dimension>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub length: Option<Dimension>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub diameter: Option<Dimension>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wall_thickness: Option<Dimension>,
}

/// Material properties (`A36`, `ASTM A36`, `Hot Rolled`).
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Material {
    #[serde(default)]
    pub grade: Option<String>,
    #[serde(default)]
    pub specification: Option<String>,
    #[serde(default)]
    pub finish: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Seo {
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    /// Lower-case words joined by `-`; unique in the organization.
    #[serde(default)]
    #[schema(pattern = r"^[a-z0-9]+(-[a-z0-9]+)*$")]
    pub slug: Option<String>,
}

/// A variant, sold under its own SKU.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VariantItem {
    pub sku: String,
    #[serde(default)]
    pub name: Option<String>,
    /// Option values: `{"thickness": "1/4 in"}`.
    #[serde(default)]
    pub options: BTreeMap<String, String>,
    #[serde(default)]
    pub gtin: Option<String>,
    /// How many of the product's base unit one piece of this variant is (`"12"` for a 12 ft
    /// length of a bar stocked in FT), above zero; absent or null: the variant is not a
    /// quantity of its product. Storefronts that only know the variants' SKUs (Shopify) get
    /// each variant's stock as the product's available / units (rounded down) and its price
    /// as the product's × units.
    #[serde(
        default,
        deserialize_with = "crate::quantities::optional_positive_quantity"
    )]
    #[schema(schema_with = crate::quantities::optional_positive_schema, required = false)]
    pub units: Option<Decimal>,
}

fn yes() -> bool {
    true
}

fn ea() -> Uom {
    Uom::Ea
}

/// One item of `PUT /catalog/products`. Checked on its own: a bad item is reported with its
/// index and field and the others are stored.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProductItem {
    /// Our SKU: the item's identity (an upsert of the same SKU replaces it).
    pub sku: String,
    pub name: String,
    /// GTIN-8/12/13/14, digits only.
    #[serde(default)]
    #[schema(pattern = r"^[0-9]{8,14}$")]
    pub gtin: Option<String>,
    /// Base unit, `EA` when absent.
    #[serde(default = "ea")]
    #[schema(schema_with = schemas::uom, required = false)]
    pub uom: Uom,
    /// Orderable (order lines are checked against active products); true when absent.
    #[serde(default = "yes")]
    pub active: bool,
    #[serde(default)]
    pub short_description: Option<String>,
    #[serde(default)]
    pub long_description: Option<String>,
    /// A path such as `Steel > Flat > Sheet` (levels separated by `>`): category discounts
    /// cover it and its sub-categories.
    #[serde(default)]
    pub category: Option<String>,
    #[serde(default)]
    pub specifications: Vec<Specification>,
    #[serde(default)]
    pub dimensions: Dimensions,
    #[serde(default)]
    pub material: Material,
    /// `public` when absent.
    #[serde(default)]
    #[schema(schema_with = price_visibility, required = false)]
    pub price_visibility: PriceVisibility,
    /// `in_stock` when absent.
    #[serde(default)]
    #[schema(schema_with = availability_status, required = false)]
    pub availability_status: AvailabilityStatus,
    #[serde(default, deserialize_with = "optional_days")]
    #[schema(minimum = 0, maximum = 2147483647)]
    pub lead_time_days: Option<i32>,
    /// Published to storefronts; false when absent.
    #[serde(default)]
    pub web_visible: bool,
    #[serde(default)]
    pub tags: Vec<String>,
    #[serde(default)]
    pub seo: Seo,
    /// Absent: the stored variants stay. A list replaces them (the ones left out become
    /// tombstones).
    #[serde(default)]
    pub variants: Option<Vec<VariantItem>>,
    /// `raw_material`, `semi_finished`, `finished_good` (what MonoPilot's import template
    /// allows; any text here).
    #[serde(default)]
    pub product_type: Option<String>,
    /// Tax or VAT code.
    #[serde(default)]
    pub tax_code: Option<String>,
    /// What else describes the product (an import's `allergens`, `shelf_life_days`,
    /// `storage_temp`); `{}` when absent.
    #[serde(default)]
    pub attributes: Map<String, Value>,
}

fn optional_days<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<i32>, D::Error> {
    #[derive(Deserialize)]
    struct Days(#[serde(deserialize_with = "crate::routes::orders::whole_number")] u32);
    let days = Option::<Days>::deserialize(d)?;
    days.map(|Days(n)| {
        i32::try_from(n)
            .map_err(|_| serde::de::Error::custom(format!("{n} days is more than 2147483647")))
    })
    .transpose()
}

fn price_visibility() -> utoipa::openapi::Object {
    schemas::one_of(&PriceVisibility::ALL)
}

fn availability_status() -> utoipa::openapi::Object {
    schemas::one_of(&AvailabilityStatus::ALL)
}

/// `{"items": [...]}`: each item a [`ProductItem`] (schema `ProductItem`), checked on its own.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProductBatch {
    /// Up to 1,000 products, each as the `ProductItem` schema says. An item that does not is
    /// reported in `errors` by its index and field; the others are stored.
    #[schema(max_items = 1000, value_type = Vec<Object>)]
    pub items: Vec<Map<String, Value>>,
}

/// What happened to one item.
#[derive(Debug, Serialize, ToSchema)]
pub struct ItemResult {
    pub index: usize,
    /// The item's SKU, when it has one.
    pub sku: Option<String>,
    /// `created`, `updated`, `unchanged` (nothing written, the change feed did not move) or
    /// `rejected` (see `errors`).
    #[schema(schema_with = item_outcome)]
    pub outcome: String,
}

fn item_outcome() -> utoipa::openapi::Object {
    schemas::one_of(&["created", "updated", "unchanged", "rejected"])
}

/// Why one item was not stored.
#[derive(Debug, Serialize, ToSchema)]
pub struct ItemProblem {
    pub index: usize,
    /// Where, from the request's root: `items[3].sku`, `items[0].variants[1].sku`.
    pub field: String,
    pub message: String,
}

/// The answer to a bulk upsert: per item, in order, and the counts.
#[derive(Debug, Serialize, ToSchema, Default)]
pub struct BatchResult {
    pub created: usize,
    pub updated: usize,
    pub unchanged: usize,
    pub rejected: usize,
    pub results: Vec<ItemResult>,
    pub errors: Vec<ItemProblem>,
}

impl BatchResult {
    pub(crate) fn push(
        &mut self,
        index: usize,
        sku: Option<String>,
        result: Result<Outcome, ItemProblem>,
    ) {
        let outcome = match result {
            Ok(Outcome::Created) => {
                self.created += 1;
                "created"
            }
            Ok(Outcome::Updated) => {
                self.updated += 1;
                "updated"
            }
            Ok(Outcome::Unchanged) => {
                self.unchanged += 1;
                "unchanged"
            }
            Err(problem) => {
                self.rejected += 1;
                self.errors.push(problem);
                "rejected"
            }
        };
        self.results.push(ItemResult {
            index,
            sku,
            outcome: outcome.to_owned(),
        });
    }
}

/// A store's item error placed at `items[index]`.
pub(crate) fn at(index: usize, e: ItemError) -> ItemProblem {
    ItemProblem {
        index,
        field: format!("items[{index}].{}", e.field),
        message: e.message,
    }
}

/// Parse one item, naming the field serde stopped at.
fn parse_item(item: Map<String, Value>) -> Result<ProductItem, ItemError> {
    serde_path_to_error::deserialize(Value::Object(item)).map_err(|e| {
        let path = e.path().to_string();
        let message = e.inner().to_string();
        // A missing field is reported at its parent; name the field itself.
        let missing = message
            .strip_prefix("missing field `")
            .and_then(|m| m.split('`').next())
            .map(str::to_owned);
        let field = match (path.as_str(), missing) {
            (".", Some(f)) => f,
            (p, Some(f)) => format!("{p}.{f}"),
            (p, None) => p.to_owned(),
        };
        ItemError::new(field, message)
    })
}

fn blank(s: &str) -> bool {
    s.trim().is_empty()
}

fn gtin_ok(g: &str) -> bool {
    (8..=14).contains(&g.len()) && g.bytes().all(|b| b.is_ascii_digit())
}

fn slug_ok(s: &str) -> bool {
    !s.is_empty()
        && s.split('-').all(|w| {
            !w.is_empty()
                && w.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        })
}

/// The rules serde does not check; the first broken one.
fn check_item(p: &ProductItem) -> Result<(), ItemError> {
    if blank(&p.sku) {
        return Err(ItemError::new("sku", "must not be empty"));
    }
    if blank(&p.name) {
        return Err(ItemError::new("name", "must not be empty"));
    }
    if let Some(g) = p.gtin.as_deref().filter(|g| !gtin_ok(g)) {
        return Err(ItemError::new(
            "gtin",
            format!("`{g}` is not 8 to 14 digits"),
        ));
    }
    if let Some(s) = p.seo.slug.as_deref().filter(|s| !slug_ok(s)) {
        return Err(ItemError::new(
            "seo.slug",
            format!("`{s}` is not lower-case letters and digits in words joined by `-`"),
        ));
    }
    if let Some(i) = p.tags.iter().position(|t| blank(t)) {
        return Err(ItemError::new(format!("tags[{i}]"), "must not be empty"));
    }
    for (j, v) in p.variants.iter().flatten().enumerate() {
        if blank(&v.sku) {
            return Err(ItemError::new(
                format!("variants[{j}].sku"),
                "must not be empty",
            ));
        }
        if v.sku.trim() == p.sku.trim() {
            return Err(ItemError::new(
                format!("variants[{j}].sku"),
                "a variant's SKU must differ from its product's",
            ));
        }
        if let Some(g) = v.gtin.as_deref().filter(|g| !gtin_ok(g)) {
            return Err(ItemError::new(
                format!("variants[{j}].gtin"),
                format!("`{g}` is not 8 to 14 digits"),
            ));
        }
    }
    Ok(())
}

/// One product as the bulk upsert takes it (a [`ProductItem`] object), parsed and checked into
/// the record the store writes, or the field at fault. Every way into the catalog goes
/// through it (this API's upsert, the scheduled pull), so the rules cannot drift apart.
pub fn product_record(item: Map<String, Value>) -> Result<ProductRecord, ItemError> {
    parse_item(item).and_then(|p| check_item(&p).map(|()| record(p)))
}

fn record(p: ProductItem) -> ProductRecord {
    ProductRecord {
        sku: p.sku.trim().to_owned(),
        name: p.name,
        gtin: p.gtin,
        uom: p.uom.code().to_owned(),
        active: p.active,
        short_description: p.short_description,
        long_description: p.long_description,
        category: p
            .category
            .map(|c| c.trim().to_owned())
            .filter(|c| !c.is_empty()),
        specifications: serde_json::to_value(&p.specifications).unwrap_or_default(),
        dimensions: serde_json::to_value(&p.dimensions).unwrap_or_default(),
        material_grade: p.material.grade,
        material_specification: p.material.specification,
        material_finish: p.material.finish,
        price_visibility: p.price_visibility,
        availability_status: p.availability_status,
        lead_time_days: p.lead_time_days,
        web_visible: p.web_visible,
        tags: p.tags,
        seo_slug: p.seo.slug,
        seo_title: p.seo.title,
        seo_description: p.seo.description,
        product_type: p
            .product_type
            .map(|t| t.trim().to_owned())
            .filter(|t| !t.is_empty()),
        tax_code: p
            .tax_code
            .map(|t| t.trim().to_owned())
            .filter(|t| !t.is_empty()),
        attributes: Value::Object(p.attributes),
        variants: p.variants.map(|vs| {
            vs.into_iter()
                .map(|v| VariantRecord {
                    sku: v.sku.trim().to_owned(),
                    name: v.name,
                    options: serde_json::to_value(&v.options).unwrap_or_default(),
                    gtin: v.gtin,
                    units: v.units,
                })
                .collect()
        }),
    }
}

/// Create or replace up to 1,000 products, idempotent by SKU: an item equal to the stored
/// product writes nothing and does not advance the change feed. Each item stands alone: one
/// that is malformed or breaks a rule (a blank SKU, a GTIN or slug another product holds, a
/// SKU given twice in the call) is reported in `errors` by its index and field
/// (`items[3].sku`), and the others are stored. 200 whatever the items' fate.
#[utoipa::path(put, path = "/catalog/products", tag = "catalog", request_body = ProductBatch,
    responses((status = 200, body = BatchResult), (status = 400, response = BadRequest),
        (status = 415, response = UnsupportedMediaType),
        (status = 422, description = "the body is not `{\"items\": [objects]}`, or holds more than 1,000 items", body = ErrorBody)))]
async fn put_products(
    State(app): State<AppState>,
    Scoped(auth, _): Scoped<WriteCatalog>,
    ApiJson(batch): ApiJson<ProductBatch>,
) -> Result<Json<BatchResult>, ApiError> {
    at_most("items", batch.items.len(), MAX_BATCH)?;
    let mut result = BatchResult::default();
    // Per item: its SKU (when it has one) and either a record to store or its problem.
    let mut checked: Vec<(usize, Option<String>, Result<ProductRecord, ItemProblem>)> = Vec::new();
    let mut seen: HashMap<String, String> = HashMap::new();
    for (index, item) in batch.items.into_iter().enumerate() {
        let sku = item.get("sku").and_then(Value::as_str).map(str::to_owned);
        let parsed = product_record(item);
        let parsed = parsed.and_then(|r| claim_skus(&mut seen, index, &r).map(|()| r));
        checked.push((index, sku, parsed.map_err(|e| at(index, e))));
    }
    let good: Vec<ProductRecord> = checked
        .iter()
        .filter_map(|(_, _, r)| r.as_ref().ok().cloned())
        .collect();
    let mut stored = store::upsert_products(&app.api.pool, auth.org, &good)
        .await?
        .into_iter();
    for (index, sku, parsed) in checked {
        let outcome = match parsed {
            Ok(_) => stored
                .next()
                .ok_or_else(|| ApiError::internal(&"the store answered fewer items than sent"))?
                .map_err(|e| at(index, e)),
            Err(problem) => Err(problem),
        };
        result.push(index, sku, outcome);
    }
    Ok(Json(result))
}

/// Refuse a SKU (a product's or a variant's) that an earlier item of the same call holds:
/// which one should win is the client's to say.
fn claim_skus(
    seen: &mut HashMap<String, String>,
    index: usize,
    r: &ProductRecord,
) -> Result<(), ItemError> {
    let mut mine = vec![("sku".to_owned(), r.sku.clone())];
    for (j, v) in r.variants.iter().flatten().enumerate() {
        mine.push((format!("variants[{j}].sku"), v.sku.clone()));
    }
    for (field, sku) in &mine {
        if let Some(first) = seen.get(sku) {
            return Err(ItemError::new(
                field.clone(),
                format!("SKU `{sku}` is given twice in this call (first at {first})"),
            ));
        }
    }
    for (field, sku) in mine {
        seen.insert(sku, format!("items[{index}].{field}"));
    }
    Ok(())
}

/// A variant as stored.
#[derive(Debug, Serialize, ToSchema)]
pub struct VariantView {
    pub sku: String,
    pub name: Option<String>,
    #[schema(value_type = Object)]
    pub options: Value,
    pub gtin: Option<String>,
    /// See the request's `units`; null when not set.
    #[schema(schema_with = crate::quantities::optional_positive_schema)]
    pub units: Option<Decimal>,
    /// A tombstone: the variant was removed.
    pub deleted: bool,
    pub updated_at: DateTime<Utc>,
}

impl From<StoredVariant> for VariantView {
    fn from(v: StoredVariant) -> Self {
        VariantView {
            sku: v.sku,
            name: v.name,
            options: v.options,
            gtin: v.gtin,
            units: v.units.map(|u| u.normalize()),
            deleted: v.deleted_at.is_some(),
            updated_at: v.updated_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MaterialView {
    pub grade: Option<String>,
    pub specification: Option<String>,
    pub finish: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SeoView {
    pub title: Option<String>,
    pub description: Option<String>,
    pub slug: Option<String>,
}

/// A product as stored: the fields of `ProductItem`, and its state.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProductView {
    pub sku: String,
    pub name: String,
    pub gtin: Option<String>,
    #[schema(schema_with = schemas::uom)]
    pub uom: String,
    pub active: bool,
    pub short_description: Option<String>,
    pub long_description: Option<String>,
    pub category: Option<String>,
    #[schema(value_type = Vec<Object>)]
    pub specifications: Value,
    #[schema(value_type = Object)]
    pub dimensions: Value,
    pub material: MaterialView,
    #[schema(schema_with = price_visibility)]
    pub price_visibility: String,
    #[schema(schema_with = availability_status)]
    pub availability_status: String,
    pub lead_time_days: Option<i32>,
    pub web_visible: bool,
    pub tags: Vec<String>,
    pub seo: SeoView,
    pub product_type: Option<String>,
    pub tax_code: Option<String>,
    #[schema(value_type = Object)]
    pub attributes: Value,
    pub variants: Vec<VariantView>,
    /// A tombstone: the product was removed (partners unpublish it).
    pub deleted: bool,
    pub deleted_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<StoredProduct> for ProductView {
    fn from(p: StoredProduct) -> Self {
        ProductView {
            sku: p.sku,
            name: p.name,
            gtin: p.gtin,
            uom: p.uom,
            active: p.active,
            short_description: p.short_description,
            long_description: p.long_description,
            category: p.category,
            specifications: p.specifications,
            dimensions: p.dimensions,
            material: MaterialView {
                grade: p.material_grade,
                specification: p.material_specification,
                finish: p.material_finish,
            },
            price_visibility: p.price_visibility,
            availability_status: p.availability_status,
            lead_time_days: p.lead_time_days,
            web_visible: p.web_visible,
            tags: p.tags,
            seo: SeoView {
                title: p.seo_title,
                description: p.seo_description,
                slug: p.seo_slug,
            },
            product_type: p.product_type,
            tax_code: p.tax_code,
            attributes: p.attributes,
            variants: p.variants.into_iter().map(VariantView::from).collect(),
            deleted: p.deleted_at.is_some(),
            deleted_at: p.deleted_at,
            created_at: p.created_at,
            updated_at: p.updated_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ProductPage {
    pub items: Vec<ProductView>,
    pub next_cursor: Option<String>,
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ProductQuery {
    /// Only products changed at or after this time.
    pub updated_since: Option<DateTime<Utc>>,
    pub web_visible: Option<bool>,
    /// Tombstones too (false when absent).
    pub include_deleted: Option<bool>,
    /// From the previous page's `next_cursor`.
    pub cursor: Option<String>,
    /// Default 50.
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<i64>,
}

/// A page's cursor: the last SKU, opaque to clients.
fn decode_cursor(cursor: &str) -> Result<String, ApiError> {
    URL_SAFE_NO_PAD
        .decode(cursor)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .filter(|s| !s.contains('\0'))
        .ok_or_else(|| ApiError::validation(format!("cursor: malformed cursor `{cursor}`")))
}

/// Products in SKU order, one page at a time; tombstones only with `include_deleted`.
#[utoipa::path(get, path = "/catalog/products", tag = "catalog", params(ProductQuery),
    responses((status = 200, body = ProductPage), (status = 400, response = BadRequest),
        (status = 422, description = "a bad `cursor`, `limit` out of range", body = ErrorBody)))]
async fn list_products(
    State(app): State<AppState>,
    Scoped(auth, _): Scoped<ReadCatalog>,
    ApiQuery(q): ApiQuery<ProductQuery>,
) -> Result<Json<ProductPage>, ApiError> {
    let limit = page_limit(q.limit)?;
    let after = q.cursor.as_deref().map(decode_cursor).transpose()?;
    if let Some(since) = q.updated_since {
        if !switchyard_store::storable::time_in_range(since) {
            return Err(ApiError::validation(format!(
                "updated_since: {since} is outside the range of times stored"
            )));
        }
    }
    let filter = ProductFilter {
        updated_since: q.updated_since,
        web_visible: q.web_visible,
        include_deleted: q.include_deleted.unwrap_or(false),
    };
    let (rows, more) =
        store::list_products(&app.api.pool, auth.org, &filter, after.as_deref(), limit).await?;
    let next_cursor = more
        .then(|| rows.last().map(|r| URL_SAFE_NO_PAD.encode(&r.sku)))
        .flatten();
    Ok(Json(ProductPage {
        items: rows.into_iter().map(ProductView::from).collect(),
        next_cursor,
    }))
}

/// One product with its variants. A tombstoned product is 404.
#[utoipa::path(get, path = "/catalog/products/{sku}", tag = "catalog",
    params(("sku" = String, Path, min_length = 1, description = "our SKU")),
    responses((status = 200, body = ProductView), (status = 400, response = BadRequest), (status = 404, response = NotFound)))]
async fn get_product(
    State(app): State<AppState>,
    Scoped(auth, _): Scoped<ReadCatalog>,
    ApiPath(sku): ApiPath<String>,
) -> Result<Json<ProductView>, ApiError> {
    let row = store::get_product(&app.api.pool, auth.org, &sku)
        .await?
        .filter(|p| p.deleted_at.is_none())
        .ok_or_else(|| ApiError::not_found("product"))?;
    Ok(Json(row.into()))
}

/// Remove a product and its variants: they become tombstones, which the change feed carries
/// to the partners (who unpublish them). Removing a removed product changes nothing; an
/// upsert of the SKU brings it back.
#[utoipa::path(delete, path = "/catalog/products/{sku}", tag = "catalog",
    params(("sku" = String, Path, min_length = 1, description = "our SKU")),
    responses((status = 204, description = "removed (or already removed)"), (status = 400, response = BadRequest), (status = 404, response = NotFound)))]
async fn delete_product(
    State(app): State<AppState>,
    Scoped(auth, _): Scoped<WriteCatalog>,
    ApiPath(sku): ApiPath<String>,
) -> Result<StatusCode, ApiError> {
    if store::tombstone_product(&app.api.pool, auth.org, &sku).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::not_found("product"))
    }
}

/// What a change is to (`switchyard_store::feed::FeedEntity`).
#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Entity {
    Catalog,
    Inventory,
    Prices,
}

impl From<Entity> for FeedEntity {
    fn from(e: Entity) -> Self {
        match e {
            Entity::Catalog => FeedEntity::Catalog,
            Entity::Inventory => FeedEntity::Inventory,
            Entity::Prices => FeedEntity::Prices,
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ChangeQuery {
    #[param(inline)]
    pub entity: Entity,
    /// The checkpoint: changes after this sequence number (0 when absent: all).
    #[param(minimum = 0, maximum = 9223372036854775807_i64)]
    pub after: Option<i64>,
    /// Default 50.
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<i64>,
}

/// One changed item: the sequence number of its latest change.
#[derive(Debug, Serialize, ToSchema)]
pub struct ChangeView {
    pub seq: i64,
    pub sku: String,
    /// The item is gone: partners unpublish or delete it.
    pub deleted: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ChangePage {
    pub changes: Vec<ChangeView>,
    /// The `after` of the next page (the last change's `seq`, or the `after` given).
    pub next_after: i64,
    /// The organization's latest sequence number: how far the feed has gone.
    pub head: i64,
}

/// The items of one entity (`catalog`, `inventory`, `prices`) changed after a checkpoint,
/// oldest change first: each item once, with the sequence number of its latest change. A
/// change that commits later always has a higher number, so a reader that moves its
/// checkpoint to the last `seq` it handled never misses one.
#[utoipa::path(get, path = "/catalog/changes", tag = "catalog", params(ChangeQuery),
    responses((status = 200, body = ChangePage), (status = 400, response = BadRequest),
        (status = 422, description = "`limit` out of range", body = ErrorBody)))]
async fn list_changes(
    State(app): State<AppState>,
    Scoped(auth, _): Scoped<ReadCatalog>,
    ApiQuery(q): ApiQuery<ChangeQuery>,
) -> Result<Json<ChangePage>, ApiError> {
    let limit = page_limit(q.limit)?;
    let entity = FeedEntity::from(q.entity);
    let after = q.after.unwrap_or(0);
    if after < 0 {
        return Err(ApiError::validation(format!(
            "after: a sequence number is 0 or more, got {after}"
        )));
    }
    let pool = &app.api.pool;
    let changes = feed::changed_since(pool, auth.org, entity, after, limit).await?;
    // Read after the changes, so it is at or above every one listed.
    let head = feed::head(pool, auth.org).await?;
    Ok(Json(ChangePage {
        next_after: changes.last().map_or(after, |c| c.seq),
        head,
        changes: changes
            .into_iter()
            .map(|c| ChangeView {
                seq: c.seq,
                sku: c.sku,
                deleted: c.deleted,
            })
            .collect(),
    }))
}
