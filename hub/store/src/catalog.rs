//! The core catalog (`migrations/0009_catalog.sql`): products with what storefronts need,
//! their variants, and tombstones. Every write here takes the organization's feed head first
//! ([`crate::feed::lock`]); the tables' triggers record the changes in the feed.
//!
//! * [`upsert_products`]: a batch, idempotent by SKU: an item equal to what is stored writes
//!   nothing (so the feed does not move); an item that breaks a rule only the database can
//!   check (a GTIN or slug another product holds, a SKU a variant holds) is reported by its
//!   index and field, and the others are stored.
//!   [`upsert_products_in`] does the same inside the caller's transaction (an import records
//!   its rows' outcomes with them).
//! * [`get_product`], [`list_products`] (keyset pages in SKU order), [`tombstone_product`].

use crate::db::Result;
use crate::feed;
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sqlx::{Acquire, PgConnection, PgPool, Postgres, QueryBuilder};
use switchyard_core::ids::OrgId;

/// `products.price_visibility`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum PriceVisibility {
    #[default]
    Public,
    LoginRequired,
    /// The pricing API answers `requiresQuote` and no price.
    QuoteOnly,
}

impl PriceVisibility {
    pub const ALL: [PriceVisibility; 3] = [
        PriceVisibility::Public,
        PriceVisibility::LoginRequired,
        PriceVisibility::QuoteOnly,
    ];

    pub fn as_str(&self) -> &'static str {
        match self {
            PriceVisibility::Public => "public",
            PriceVisibility::LoginRequired => "login_required",
            PriceVisibility::QuoteOnly => "quote_only",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.as_str() == s)
    }
}

/// `products.availability_status`: the product's standing (stock levels say how many).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum AvailabilityStatus {
    #[default]
    InStock,
    LowStock,
    MadeToOrder,
    Discontinued,
}

impl AvailabilityStatus {
    pub const ALL: [AvailabilityStatus; 4] = [
        AvailabilityStatus::InStock,
        AvailabilityStatus::LowStock,
        AvailabilityStatus::MadeToOrder,
        AvailabilityStatus::Discontinued,
    ];

    pub fn as_str(&self) -> &'static str {
        match self {
            AvailabilityStatus::InStock => "in_stock",
            AvailabilityStatus::LowStock => "low_stock",
            AvailabilityStatus::MadeToOrder => "made_to_order",
            AvailabilityStatus::Discontinued => "discontinued",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.as_str() == s)
    }
}

/// A variant as written: its own SKU, its option values.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VariantRecord {
    pub sku: String,
    pub name: Option<String>,
    /// `{"thickness": "1/4 in"}`: a JSON object.
    pub options: Value,
    pub gtin: Option<String>,
    /// How many of the product's base unit one piece of the variant is (a 12 ft length of a
    /// bar kept in FT: 12), above zero; `None`: not a quantity of the product (migration 0035).
    #[serde(default)]
    pub units: Option<Decimal>,
}

/// A product as written by an upsert (checked by the caller: names not blank, JSON shapes,
/// slug form).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProductRecord {
    pub sku: String,
    pub name: String,
    pub gtin: Option<String>,
    /// Base unit code (`EA`, `LB`, `FT`, ...).
    pub uom: String,
    pub active: bool,
    pub short_description: Option<String>,
    pub long_description: Option<String>,
    /// A path such as `Steel > Flat > Sheet`: what category discounts match (sub-categories
    /// included) and storefronts file the product under.
    pub category: Option<String>,
    /// A JSON array of `{name, value, unit, display_order}`.
    pub specifications: Value,
    /// A JSON object of dimension name to `{value, unit, tolerance}`.
    pub dimensions: Value,
    pub material_grade: Option<String>,
    pub material_specification: Option<String>,
    pub material_finish: Option<String>,
    pub price_visibility: PriceVisibility,
    pub availability_status: AvailabilityStatus,
    pub lead_time_days: Option<i32>,
    pub web_visible: bool,
    pub tags: Vec<String>,
    pub seo_slug: Option<String>,
    pub seo_title: Option<String>,
    pub seo_description: Option<String>,
    /// `raw_material`, `semi_finished`, `finished_good` (what the importing mapping allows).
    pub product_type: Option<String>,
    pub tax_code: Option<String>,
    /// A JSON object of what else describes the product (allergens, shelf life, storage
    /// temperature from MonoPilot's template).
    pub attributes: Value,
    /// `None` leaves the stored variants alone; a list replaces them (the ones left out are
    /// tombstoned).
    pub variants: Option<Vec<VariantRecord>>,
}

/// A stored variant.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct StoredVariant {
    pub sku: String,
    pub parent_sku: String,
    pub name: Option<String>,
    pub options: Value,
    pub gtin: Option<String>,
    /// See [`VariantRecord::units`].
    pub units: Option<Decimal>,
    pub deleted_at: Option<DateTime<Utc>>,
    pub updated_at: DateTime<Utc>,
}

/// A stored product with its variants.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct StoredProduct {
    pub sku: String,
    pub name: String,
    pub gtin: Option<String>,
    pub uom: String,
    pub active: bool,
    pub short_description: Option<String>,
    pub long_description: Option<String>,
    pub category: Option<String>,
    pub specifications: Value,
    pub dimensions: Value,
    pub material_grade: Option<String>,
    pub material_specification: Option<String>,
    pub material_finish: Option<String>,
    pub price_visibility: String,
    pub availability_status: String,
    pub lead_time_days: Option<i32>,
    pub web_visible: bool,
    pub tags: Vec<String>,
    pub seo_slug: Option<String>,
    pub seo_title: Option<String>,
    pub seo_description: Option<String>,
    pub product_type: Option<String>,
    pub tax_code: Option<String>,
    pub attributes: Value,
    pub deleted_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    #[sqlx(skip)]
    pub variants: Vec<StoredVariant>,
}

impl From<StoredProduct> for ProductRecord {
    /// The stored product as an upsert would write it again, its variants left alone: the
    /// base an import's update lays its file's fields over.
    fn from(p: StoredProduct) -> Self {
        ProductRecord {
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
            material_grade: p.material_grade,
            material_specification: p.material_specification,
            material_finish: p.material_finish,
            price_visibility: PriceVisibility::parse(&p.price_visibility).unwrap_or_default(),
            availability_status: AvailabilityStatus::parse(&p.availability_status)
                .unwrap_or_default(),
            lead_time_days: p.lead_time_days,
            web_visible: p.web_visible,
            tags: p.tags,
            seo_slug: p.seo_slug,
            seo_title: p.seo_title,
            seo_description: p.seo_description,
            product_type: p.product_type,
            tax_code: p.tax_code,
            attributes: p.attributes,
            variants: None,
        }
    }
}

pub(crate) const PRODUCT_COLUMNS: &str = "sku, name, gtin, uom, active, short_description, \
    long_description, category, specifications, dimensions, material_grade, material_specification, \
    material_finish, price_visibility, availability_status, lead_time_days, web_visible, tags, \
    seo_slug, seo_title, seo_description, product_type, tax_code, attributes, deleted_at, \
    created_at, updated_at";

const VARIANT_COLUMNS: &str = "sku, parent_sku, name, options, gtin, units, deleted_at, updated_at";

/// What an upsert did to one item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Created,
    Updated,
    /// Equal to what was stored: nothing written, the feed did not move.
    Unchanged,
}

/// Why one item of a batch was not stored: the field (`sku`, `variants[1].sku`, relative to
/// the item) and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ItemError {
    pub field: String,
    pub message: String,
}

impl ItemError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// Store a batch of products in one transaction, each item on its own (a savepoint): the
/// result per item, in order. Fails as a whole only when the database does.
pub async fn upsert_products(
    pool: &PgPool,
    org: OrgId,
    items: &[ProductRecord],
) -> Result<Vec<std::result::Result<Outcome, ItemError>>> {
    let mut tx = crate::begin(pool).await?;
    let results = upsert_products_in(&mut tx, org, items).await?;
    tx.commit().await?;
    Ok(results)
}

/// [`upsert_products`] inside the caller's transaction, so what the caller records about the
/// items (an import's row outcomes) commits with them or not at all.
pub async fn upsert_products_in(
    tx: &mut PgConnection,
    org: OrgId,
    items: &[ProductRecord],
) -> Result<Vec<std::result::Result<Outcome, ItemError>>> {
    feed::lock(&mut *tx, org).await?;
    if items.iter().all(|i| i.variants.is_none()) {
        let mut results = Vec::with_capacity(items.len());
        for chunk in items.chunks(SET_CHUNK) {
            results.extend(upsert_set(tx, org, chunk).await?);
        }
        return Ok(results);
    }
    upsert_each(tx, org, items).await
}

/// The upsert's conflict clause: an existing product takes the item's fields, and only when
/// one differs (an equal item writes nothing, so the feed and the events do not move). One
/// text for the set-based and the per-item statement, so they cannot drift apart.
macro_rules! on_conflict_update {
    () => {
        "
ON CONFLICT (org_id, sku) DO UPDATE SET name = EXCLUDED.name, gtin = EXCLUDED.gtin,
     uom = EXCLUDED.uom, active = EXCLUDED.active,
     short_description = EXCLUDED.short_description,
     long_description = EXCLUDED.long_description,
     specifications = EXCLUDED.specifications, dimensions = EXCLUDED.dimensions,
     material_grade = EXCLUDED.material_grade,
     material_specification = EXCLUDED.material_specification,
     material_finish = EXCLUDED.material_finish,
     price_visibility = EXCLUDED.price_visibility,
     availability_status = EXCLUDED.availability_status,
     lead_time_days = EXCLUDED.lead_time_days, web_visible = EXCLUDED.web_visible,
     tags = EXCLUDED.tags, seo_slug = EXCLUDED.seo_slug, seo_title = EXCLUDED.seo_title,
     seo_description = EXCLUDED.seo_description, category = EXCLUDED.category,
     product_type = EXCLUDED.product_type, tax_code = EXCLUDED.tax_code,
     attributes = EXCLUDED.attributes, deleted_at = NULL, updated_at = now()
WHERE (p.name, p.gtin, p.uom, p.active, p.short_description, p.long_description,
       p.specifications, p.dimensions, p.material_grade, p.material_specification,
       p.material_finish, p.price_visibility, p.availability_status, p.lead_time_days,
       p.web_visible, p.tags, p.seo_slug, p.seo_title, p.seo_description, p.category,
       p.product_type, p.tax_code, p.attributes, p.deleted_at)
    IS DISTINCT FROM
      (EXCLUDED.name, EXCLUDED.gtin, EXCLUDED.uom, EXCLUDED.active,
       EXCLUDED.short_description, EXCLUDED.long_description, EXCLUDED.specifications,
       EXCLUDED.dimensions, EXCLUDED.material_grade, EXCLUDED.material_specification,
       EXCLUDED.material_finish, EXCLUDED.price_visibility,
       EXCLUDED.availability_status, EXCLUDED.lead_time_days, EXCLUDED.web_visible,
       EXCLUDED.tags, EXCLUDED.seo_slug, EXCLUDED.seo_title, EXCLUDED.seo_description,
       EXCLUDED.category, EXCLUDED.product_type, EXCLUDED.tax_code, EXCLUDED.attributes,
       NULL::timestamptz)
"
    };
}

/// Items per set-based statement: one JSON document of a few MB at most.
const SET_CHUNK: usize = 5_000;

/// What the set-based statement reads: each item as a JSON object of `products`' columns,
/// through `jsonb_to_recordset` (a list column such as `tags` needs no two-dimensional array,
/// which `unnest` of ragged lists cannot take).
const UPSERT_SET: &str = concat!(
    "
INSERT INTO products AS p (org_id, sku, name, gtin, uom, active, short_description,
     long_description, specifications, dimensions, material_grade, material_specification,
     material_finish, price_visibility, availability_status, lead_time_days, web_visible, tags,
     seo_slug, seo_title, seo_description, category, product_type, tax_code, attributes)
SELECT $1, r.sku, r.name, r.gtin, r.uom, r.active, r.short_description, r.long_description,
     r.specifications, r.dimensions, r.material_grade, r.material_specification,
     r.material_finish, r.price_visibility, r.availability_status, r.lead_time_days,
     r.web_visible, r.tags, r.seo_slug, r.seo_title, r.seo_description, r.category,
     r.product_type, r.tax_code, r.attributes
FROM jsonb_to_recordset($2) AS r(sku text, name text, gtin text, uom text, active boolean,
     short_description text, long_description text, specifications jsonb, dimensions jsonb,
     material_grade text, material_specification text, material_finish text,
     price_visibility text, availability_status text, lead_time_days integer,
     web_visible boolean, tags text[], seo_slug text, seo_title text, seo_description text,
     category text, product_type text, tax_code text, attributes jsonb)
",
    on_conflict_update!(),
    "
RETURNING p.sku, (xmax = 0)"
);

/// One item as a row of [`UPSERT_SET`]'s record set.
fn set_row(p: &ProductRecord) -> Value {
    serde_json::json!({
        "sku": p.sku, "name": p.name, "gtin": p.gtin, "uom": p.uom, "active": p.active,
        "short_description": p.short_description, "long_description": p.long_description,
        "specifications": p.specifications, "dimensions": p.dimensions,
        "material_grade": p.material_grade, "material_specification": p.material_specification,
        "material_finish": p.material_finish, "price_visibility": p.price_visibility.as_str(),
        "availability_status": p.availability_status.as_str(),
        "lead_time_days": p.lead_time_days, "web_visible": p.web_visible, "tags": p.tags,
        "seo_slug": p.seo_slug, "seo_title": p.seo_title, "seo_description": p.seo_description,
        "category": p.category, "product_type": p.product_type, "tax_code": p.tax_code,
        "attributes": p.attributes,
    })
}

/// Items without variants in one statement instead of a savepoint and two statements each
/// (an import of 100,000 products spent nearly all its time there). Same outcomes as
/// [`upsert_each`]: a SKU a variant holds is refused first (one query for the chunk); then one
/// `INSERT … SELECT … ON CONFLICT DO UPDATE … WHERE IS DISTINCT FROM … RETURNING (xmax = 0)`
/// (returned and inserted: created; returned: updated; not returned: unchanged) under one
/// savepoint. What only the statement can find — a GTIN or slug another product holds —
/// fails the whole statement, so the chunk then goes item by item
/// ([`upsert_each`]), which names the item at fault: rare, and exactly the old behaviour.
/// The row triggers (feed, `product.created` / `product.updated` events) fire per row as
/// before, in this transaction.
async fn upsert_set(
    tx: &mut PgConnection,
    org: OrgId,
    items: &[ProductRecord],
) -> Result<Vec<std::result::Result<Outcome, ItemError>>> {
    let skus: Vec<&str> = items.iter().map(|i| i.sku.as_str()).collect();
    // A SKU twice: the second must see what the first wrote (an unchanged first and a changed
    // second are two outcomes one statement cannot tell apart). Item by item.
    let distinct: std::collections::HashSet<&str> = skus.iter().copied().collect();
    if distinct.len() < skus.len() {
        return upsert_each(tx, org, items).await;
    }
    let owners: std::collections::HashMap<String, String> = sqlx::query_as(
        "SELECT sku, parent_sku FROM product_variants WHERE org_id = $1 AND sku = ANY($2)",
    )
    .bind(org.0)
    .bind(&skus)
    .fetch_all(&mut *tx)
    .await?
    .into_iter()
    .collect();
    let rows: Vec<Value> = items
        .iter()
        .filter(|i| !owners.contains_key(&i.sku))
        .map(set_row)
        .collect();
    let mut sp = (&mut *tx).begin().await?;
    let written = sqlx::query_as::<_, (String, bool)>(UPSERT_SET)
        .bind(org.0)
        .bind(Value::Array(rows))
        .fetch_all(&mut *sp)
        .await;
    let written: std::collections::HashMap<String, bool> = match written {
        Ok(rows) => {
            sp.commit().await?;
            rows.into_iter().collect()
        }
        Err(sqlx::Error::Database(d))
            if matches!(d.constraint(), Some("products_gtin" | "products_seo_slug")) =>
        {
            sp.rollback().await?;
            return upsert_each(tx, org, items).await;
        }
        Err(e) => return Err(e.into()),
    };
    Ok(items
        .iter()
        .map(|i| match (owners.get(&i.sku), written.get(&i.sku)) {
            (Some(parent), _) => Err(ItemError::new(
                "sku",
                format!("`{}` is a variant of product `{parent}`", i.sku),
            )),
            (None, Some(true)) => Ok(Outcome::Created),
            (None, Some(false)) => Ok(Outcome::Updated),
            (None, None) => Ok(Outcome::Unchanged),
        })
        .collect())
}

/// Item by item, each under its own savepoint so a refused item cannot spoil the others:
/// what items with variants take (their variants are replaced one by one anyway).
async fn upsert_each(
    tx: &mut PgConnection,
    org: OrgId,
    items: &[ProductRecord],
) -> Result<Vec<std::result::Result<Outcome, ItemError>>> {
    let mut results = Vec::with_capacity(items.len());
    for item in items {
        let mut sp = (&mut *tx).begin().await?;
        match upsert_one(&mut sp, org, item).await {
            Ok(Ok(outcome)) => {
                sp.commit().await?;
                results.push(Ok(outcome));
            }
            Ok(Err(refused)) => {
                sp.rollback().await?;
                results.push(Err(refused));
            }
            Err(e) => return Err(e),
        }
    }
    Ok(results)
}

async fn upsert_one(
    tx: &mut PgConnection,
    org: OrgId,
    p: &ProductRecord,
) -> Result<std::result::Result<Outcome, ItemError>> {
    let variant_owner: Option<String> = sqlx::query_scalar(
        "SELECT parent_sku FROM product_variants WHERE org_id = $1 AND sku = $2",
    )
    .bind(org.0)
    .bind(&p.sku)
    .fetch_optional(&mut *tx)
    .await?;
    if let Some(parent) = variant_owner {
        return Ok(Err(ItemError::new(
            "sku",
            format!("`{}` is a variant of product `{parent}`", p.sku),
        )));
    }
    let written = sqlx::query_scalar::<_, bool>(concat!(
        "INSERT INTO products AS p (org_id, sku, name, gtin, uom, active, short_description,
             long_description, specifications, dimensions, material_grade,
             material_specification, material_finish, price_visibility, availability_status,
             lead_time_days, web_visible, tags, seo_slug, seo_title, seo_description, category,
             product_type, tax_code, attributes)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18,
             $19, $20, $21, $22, $23, $24, $25)
         ",
        on_conflict_update!(),
        "
         RETURNING (xmax = 0)"
    ))
    .bind(org.0)
    .bind(&p.sku)
    .bind(&p.name)
    .bind(&p.gtin)
    .bind(&p.uom)
    .bind(p.active)
    .bind(&p.short_description)
    .bind(&p.long_description)
    .bind(&p.specifications)
    .bind(&p.dimensions)
    .bind(&p.material_grade)
    .bind(&p.material_specification)
    .bind(&p.material_finish)
    .bind(p.price_visibility.as_str())
    .bind(p.availability_status.as_str())
    .bind(p.lead_time_days)
    .bind(p.web_visible)
    .bind(&p.tags)
    .bind(&p.seo_slug)
    .bind(&p.seo_title)
    .bind(&p.seo_description)
    .bind(&p.category)
    .bind(&p.product_type)
    .bind(&p.tax_code)
    .bind(&p.attributes)
    .fetch_optional(&mut *tx)
    .await;
    let created = match written {
        Ok(row) => row,
        Err(sqlx::Error::Database(d)) if d.constraint() == Some("products_gtin") => {
            return Ok(Err(ItemError::new(
                "gtin",
                format!(
                    "GTIN {} already names another product",
                    p.gtin.as_deref().unwrap_or_default()
                ),
            )));
        }
        Err(sqlx::Error::Database(d)) if d.constraint() == Some("products_seo_slug") => {
            return Ok(Err(ItemError::new(
                "seo_slug",
                format!(
                    "slug `{}` already names another product",
                    p.seo_slug.as_deref().unwrap_or_default()
                ),
            )));
        }
        Err(e) => return Err(e.into()),
    };
    let mut outcome = match created {
        Some(true) => Outcome::Created,
        Some(false) => Outcome::Updated,
        None => Outcome::Unchanged,
    };
    if let Some(variants) = &p.variants {
        match replace_variants(tx, org, &p.sku, variants).await? {
            Err(refused) => return Ok(Err(refused)),
            Ok(false) => {}
            Ok(true) => {
                if outcome == Outcome::Unchanged {
                    outcome = Outcome::Updated;
                    // The listing's `updated_since` sees a product whose variants changed.
                    sqlx::query(
                        "UPDATE products SET updated_at = now() WHERE org_id = $1 AND sku = $2",
                    )
                    .bind(org.0)
                    .bind(&p.sku)
                    .execute(&mut *tx)
                    .await?;
                }
            }
        }
    }
    Ok(Ok(outcome))
}

/// Make `parent`'s live variants exactly `variants`; whether anything changed.
async fn replace_variants(
    tx: &mut PgConnection,
    org: OrgId,
    parent: &str,
    variants: &[VariantRecord],
) -> Result<std::result::Result<bool, ItemError>> {
    let mut changed = false;
    for (j, v) in variants.iter().enumerate() {
        let field = format!("variants[{j}].sku");
        let is_product: bool = sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM products WHERE org_id = $1 AND sku = $2)",
        )
        .bind(org.0)
        .bind(&v.sku)
        .fetch_one(&mut *tx)
        .await?;
        if is_product {
            return Ok(Err(ItemError::new(
                field,
                format!("`{}` is a product's SKU", v.sku),
            )));
        }
        let owner: Option<String> = sqlx::query_scalar(
            "SELECT parent_sku FROM product_variants WHERE org_id = $1 AND sku = $2",
        )
        .bind(org.0)
        .bind(&v.sku)
        .fetch_optional(&mut *tx)
        .await?;
        if let Some(owner) = owner.filter(|o| o != parent) {
            return Ok(Err(ItemError::new(
                field,
                format!("`{}` is a variant of product `{owner}`", v.sku),
            )));
        }
        let wrote = sqlx::query(
            "INSERT INTO product_variants AS v (org_id, sku, parent_sku, name, options, gtin, units)
             VALUES ($1, $2, $3, $4, $5, $6, $7)
             ON CONFLICT (org_id, sku) DO UPDATE SET name = EXCLUDED.name,
                 options = EXCLUDED.options, gtin = EXCLUDED.gtin, units = EXCLUDED.units,
                 deleted_at = NULL, updated_at = now()
             WHERE (v.name, v.options, v.gtin, v.units, v.deleted_at)
                 IS DISTINCT FROM (EXCLUDED.name, EXCLUDED.options, EXCLUDED.gtin, EXCLUDED.units,
                                   NULL::timestamptz)",
        )
        .bind(org.0)
        .bind(&v.sku)
        .bind(parent)
        .bind(&v.name)
        .bind(&v.options)
        .bind(&v.gtin)
        .bind(v.units)
        .execute(&mut *tx)
        .await?;
        changed |= wrote.rows_affected() > 0;
    }
    let skus: Vec<&str> = variants.iter().map(|v| v.sku.as_str()).collect();
    let gone = sqlx::query(
        "UPDATE product_variants SET deleted_at = now(), updated_at = now()
         WHERE org_id = $1 AND parent_sku = $2 AND deleted_at IS NULL AND sku <> ALL($3)",
    )
    .bind(org.0)
    .bind(parent)
    .bind(&skus)
    .execute(&mut *tx)
    .await?;
    changed |= gone.rows_affected() > 0;
    Ok(Ok(changed))
}

/// One product with its variants (tombstoned ones too: the caller decides what to show).
pub async fn get_product(pool: &PgPool, org: OrgId, sku: &str) -> Result<Option<StoredProduct>> {
    let row: Option<StoredProduct> = sqlx::query_as(&format!(
        "SELECT {PRODUCT_COLUMNS} FROM products WHERE org_id = $1 AND sku = $2"
    ))
    .bind(org.0)
    .bind(sku)
    .fetch_optional(pool)
    .await?;
    let Some(mut row) = row else {
        return Ok(None);
    };
    row.variants = variants_of(pool, org, &[row.sku.clone()], true).await?;
    Ok(Some(row))
}

async fn variants_of(
    pool: &PgPool,
    org: OrgId,
    parents: &[String],
    include_deleted: bool,
) -> Result<Vec<StoredVariant>> {
    Ok(sqlx::query_as(&format!(
        "SELECT {VARIANT_COLUMNS} FROM product_variants
         WHERE org_id = $1 AND parent_sku = ANY($2) AND ($3 OR deleted_at IS NULL)
         ORDER BY parent_sku, sku"
    ))
    .bind(org.0)
    .bind(parents)
    .bind(include_deleted)
    .fetch_all(pool)
    .await?)
}

/// What a listing is narrowed to.
#[derive(Debug, Clone, Default)]
pub struct ProductFilter {
    /// Changed at or after this time.
    pub updated_since: Option<DateTime<Utc>>,
    pub web_visible: Option<bool>,
    /// Tombstones too (a sync polling by time must see them).
    pub include_deleted: bool,
}

/// A page of products in SKU order after `after_sku`, and whether more follow.
pub async fn list_products(
    pool: &PgPool,
    org: OrgId,
    filter: &ProductFilter,
    after_sku: Option<&str>,
    limit: i64,
) -> Result<(Vec<StoredProduct>, bool)> {
    let mut qb: QueryBuilder<'_, Postgres> = QueryBuilder::new(format!(
        "SELECT {PRODUCT_COLUMNS} FROM products WHERE org_id = "
    ));
    qb.push_bind(org.0);
    if let Some(since) = filter.updated_since {
        qb.push(" AND updated_at >= ").push_bind(since);
    }
    if let Some(web) = filter.web_visible {
        qb.push(" AND web_visible = ").push_bind(web);
    }
    if !filter.include_deleted {
        qb.push(" AND deleted_at IS NULL");
    }
    if let Some(after) = after_sku {
        qb.push(" AND sku > ").push_bind(after.to_owned());
    }
    qb.push(" ORDER BY sku LIMIT ").push_bind(limit + 1);
    let mut rows: Vec<StoredProduct> = qb.build_query_as().fetch_all(pool).await?;
    let more = rows.len() as i64 > limit;
    rows.truncate(limit as usize);
    let parents: Vec<String> = rows.iter().map(|r| r.sku.clone()).collect();
    let mut variants = variants_of(pool, org, &parents, filter.include_deleted)
        .await?
        .into_iter()
        .peekable();
    // Both in SKU order: hand each product its run of variants.
    for row in &mut rows {
        while let Some(v) = variants.next_if(|v| v.parent_sku <= row.sku) {
            if v.parent_sku == row.sku {
                row.variants.push(v);
            }
        }
    }
    Ok((rows, more))
}

/// Tombstone a product and its variants: they stay, marked deleted, so the feed tells the
/// partners. `false` when there is no such product; a product already tombstoned is left as
/// it is (the feed does not move again).
pub async fn tombstone_product(pool: &PgPool, org: OrgId, sku: &str) -> Result<bool> {
    let mut tx = crate::begin(pool).await?;
    feed::lock(&mut tx, org).await?;
    let exists: bool =
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM products WHERE org_id = $1 AND sku = $2)")
            .bind(org.0)
            .bind(sku)
            .fetch_one(&mut *tx)
            .await?;
    if exists {
        sqlx::query(
            "UPDATE product_variants SET deleted_at = now(), updated_at = now()
             WHERE org_id = $1 AND parent_sku = $2 AND deleted_at IS NULL",
        )
        .bind(org.0)
        .bind(sku)
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "UPDATE products SET deleted_at = now(), updated_at = now()
             WHERE org_id = $1 AND sku = $2 AND deleted_at IS NULL",
        )
        .bind(org.0)
        .bind(sku)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(exists)
}

/// The live products among `skus` (without their variants).
pub async fn live_products(
    db: &mut PgConnection,
    org: OrgId,
    skus: &[String],
) -> Result<Vec<StoredProduct>> {
    Ok(sqlx::query_as(&format!(
        "SELECT {PRODUCT_COLUMNS} FROM products
         WHERE org_id = $1 AND sku = ANY($2) AND deleted_at IS NULL"
    ))
    .bind(org.0)
    .bind(skus)
    .fetch_all(db)
    .await?)
}

/// Which of `skus` are live products of `org` (not removed).
pub async fn live_skus(pool: &PgPool, org: OrgId, skus: &[String]) -> Result<Vec<String>> {
    Ok(sqlx::query_scalar(
        "SELECT sku FROM products WHERE org_id = $1 AND sku = ANY($2) AND deleted_at IS NULL",
    )
    .bind(org.0)
    .bind(skus)
    .fetch_all(pool)
    .await?)
}

/// The `(sku, parent)` of each of `skus` that names a variant: an upsert of such a SKU as a
/// product is refused.
pub async fn variant_parents(
    pool: &PgPool,
    org: OrgId,
    skus: &[String],
) -> Result<Vec<(String, String)>> {
    Ok(sqlx::query_as(
        "SELECT sku, parent_sku FROM product_variants WHERE org_id = $1 AND sku = ANY($2)",
    )
    .bind(org.0)
    .bind(skus)
    .fetch_all(pool)
    .await?)
}

/// Whether `sku` names a live product or variant (what stock may be kept of).
pub async fn sku_exists(db: &mut PgConnection, org: OrgId, sku: &str) -> Result<bool> {
    Ok(sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM products WHERE org_id = $1 AND sku = $2 AND deleted_at IS NULL)
             OR EXISTS (SELECT 1 FROM product_variants WHERE org_id = $1 AND sku = $2
                        AND deleted_at IS NULL)",
    )
    .bind(org.0)
    .bind(sku)
    .fetch_one(db)
    .await?)
}
