//! Pricing tables (`migrations/0008_pricing.sql`): what the resolver
//! (`switchyard_core::catalog::pricing`) needs, loaded in one query, and the one place price
//! rows are written.
//!
//! * [`load_inputs`]: for some SKUs and an optional customer, each product's
//!   [`PricingInputs`] (its terms, list prices within their price lists, that customer's
//!   contracts, discounts and tier, the volume breaks) and whether the customer exists — one
//!   round trip however many SKUs a cart holds.
//! * [`known`]: which of some ids exist (products, customers, price lists, tiers), so a bulk
//!   upsert reports an item naming an unknown one by its index and stores the others.
//! * [`upsert_prices`]: every write of a price row, one statement per call.

use crate::db::{Result, StoreError};
use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::Deserialize;
use sqlx::PgPool;
use std::collections::HashSet;
use switchyard_core::catalog::pricing::{
    BreakAdjustment, Contract, CustomerDiscount, CustomerTier, DiscountScope, ListPrice,
    PricingInputs, ProductTerms, Validity, Visibility, VolumeBreak,
};
use switchyard_core::catalog::{Conversion, Uom};
use switchyard_core::ids::OrgId;

/// What [`load_inputs`] found.
#[derive(Debug, Clone, PartialEq)]
pub struct Loaded {
    /// `None` when no customer was asked about.
    pub customer_known: Option<bool>,
    /// The products found, in no particular order; a SKU not found has none.
    pub products: Vec<PricingInputs>,
}

// The row as the query's JSON has it: numbers as text, so no value passes through a float.
#[derive(Deserialize)]
struct ProductJson {
    sku: String,
    uom: String,
    category: Option<String>,
    visibility: String,
    conversions: Vec<ConversionJson>,
    list_prices: Vec<ListJson>,
    contracts: Vec<ContractJson>,
    discounts: Vec<DiscountJson>,
    tier: Option<TierJson>,
    breaks: Vec<BreakJson>,
}

#[derive(Deserialize)]
struct ConversionJson {
    from_uom: String,
    to_uom: String,
    factor: Decimal,
}

#[derive(Deserialize)]
struct ListJson {
    price_list_id: String,
    currency: String,
    uom: String,
    amount: Decimal,
    valid_from: Option<NaiveDate>,
    valid_to: Option<NaiveDate>,
}

#[derive(Deserialize)]
struct ContractJson {
    contract_id: String,
    sku: String,
    customer_id: String,
    price: Decimal,
    uom: String,
    currency: String,
    valid_from: Option<NaiveDate>,
    valid_to: Option<NaiveDate>,
}

#[derive(Deserialize)]
struct DiscountJson {
    discount_id: String,
    customer_id: String,
    scope: String,
    sku: Option<String>,
    category: Option<String>,
    percent: Decimal,
    valid_from: Option<NaiveDate>,
    valid_to: Option<NaiveDate>,
}

#[derive(Deserialize)]
struct TierJson {
    customer_id: String,
    tier_code: String,
    percent: Decimal,
}

#[derive(Deserialize)]
struct BreakJson {
    break_id: String,
    min_quantity: Decimal,
    uom: String,
    price: Option<Decimal>,
    currency: Option<String>,
    percent: Option<Decimal>,
    valid_from: Option<NaiveDate>,
    valid_to: Option<NaiveDate>,
}

/// One query: the products `skus` of `org` with everything their price depends on for
/// `customer` (another customer's contracts, discounts and tier are not loaded).
const LOAD: &str = r#"
SELECT
  CASE WHEN $3::text IS NULL THEN NULL
       ELSE EXISTS (SELECT 1 FROM customers c WHERE c.org_id = $1 AND c.customer_id = $3 AND c.active)
  END AS customer_known,
  COALESCE((SELECT jsonb_agg(jsonb_build_object(
    'sku', p.sku, 'uom', p.uom, 'category', p.category, 'visibility', p.price_visibility,
    'conversions', COALESCE((SELECT jsonb_agg(jsonb_build_object(
        'from_uom', u.from_uom, 'to_uom', u.to_uom, 'factor', u.factor::text)
        ORDER BY u.from_uom, u.to_uom)
      FROM product_uom_conversions u WHERE u.org_id = p.org_id AND u.sku = p.sku), '[]'),
    'list_prices', COALESCE((SELECT jsonb_agg(jsonb_build_object(
        'price_list_id', l.price_list_id, 'currency', pl.currency, 'uom', l.uom,
        'amount', l.amount::text,
        -- The row holds within its price list: GREATEST / LEAST skip an open (NULL) end.
        'valid_from', GREATEST(l.valid_from, pl.valid_from),
        'valid_to', LEAST(l.valid_to, pl.valid_to)))
      FROM list_prices l
      JOIN price_lists pl ON pl.org_id = l.org_id AND pl.price_list_id = l.price_list_id
      WHERE l.org_id = p.org_id AND l.sku = p.sku), '[]'),
    'contracts', COALESCE((SELECT jsonb_agg(jsonb_build_object(
        'contract_id', k.contract_id, 'sku', k.sku, 'customer_id', k.customer_id,
        'price', k.price::text,
        'uom', k.uom, 'currency', k.currency, 'valid_from', k.valid_from, 'valid_to', k.valid_to))
      FROM price_contracts k
      WHERE k.org_id = p.org_id AND k.sku = p.sku AND k.customer_id = $3), '[]'),
    'discounts', COALESCE((SELECT jsonb_agg(jsonb_build_object(
        'discount_id', d.discount_id, 'customer_id', d.customer_id, 'scope', d.scope,
        'sku', d.sku, 'category', d.category, 'percent', d.percent::text,
        'valid_from', d.valid_from, 'valid_to', d.valid_to))
      FROM customer_discounts d
      WHERE d.org_id = p.org_id AND d.customer_id = $3
        AND (d.scope <> 'product' OR d.sku = p.sku)), '[]'),
    'tier', (SELECT jsonb_build_object(
        'customer_id', ct.customer_id, 'tier_code', t.tier_code, 'percent', t.percent::text)
      FROM customer_tiers ct
      JOIN price_tiers t ON t.org_id = ct.org_id AND t.tier_code = ct.tier_code
      WHERE ct.org_id = p.org_id AND ct.customer_id = $3),
    'breaks', COALESCE((SELECT jsonb_agg(jsonb_build_object(
        'break_id', b.break_id, 'min_quantity', b.min_quantity::text, 'uom', b.uom,
        'price', b.price::text, 'currency', b.currency, 'percent', b.percent::text,
        'valid_from', b.valid_from, 'valid_to', b.valid_to))
      FROM volume_breaks b WHERE b.org_id = p.org_id AND b.sku = p.sku), '[]')))
    FROM products p WHERE p.org_id = $1 AND p.sku = ANY($2)), '[]') AS products
"#;

/// The pricing inputs of the products `skus` of `org` for `customer`, in one query.
pub async fn load_inputs(
    pool: &PgPool,
    org: OrgId,
    skus: &[String],
    customer: Option<&str>,
) -> Result<Loaded> {
    let (customer_known, products): (Option<bool>, serde_json::Value) = sqlx::query_as(LOAD)
        .bind(org.0)
        .bind(skus)
        .bind(customer)
        .fetch_one(pool)
        .await?;
    let rows: Vec<ProductJson> = serde_json::from_value(products)
        .map_err(|e| StoreError::Invalid(format!("pricing inputs: {e}")))?;
    let products = rows
        .into_iter()
        .map(into_inputs)
        .collect::<std::result::Result<_, String>>()
        .map_err(StoreError::Invalid)?;
    Ok(Loaded {
        customer_known,
        products,
    })
}

fn validity(from: Option<NaiveDate>, to: Option<NaiveDate>) -> Validity {
    Validity { from, to }
}

/// A stored unit code (checked when it was written).
fn uom(sku: &str, code: &str) -> std::result::Result<Uom, String> {
    Uom::new(code).map_err(|e| format!("product {sku}: stored {e}"))
}

fn into_inputs(p: ProductJson) -> std::result::Result<PricingInputs, String> {
    let sku = p.sku.clone();
    let u = |c: &str| uom(&sku, c);
    let visibility = Visibility::parse(&p.visibility)
        .ok_or_else(|| format!("product {sku}: stored visibility `{}`", p.visibility))?;
    let conversions = p
        .conversions
        .iter()
        .map(|c| {
            Ok(Conversion {
                from: u(&c.from_uom)?,
                to: u(&c.to_uom)?,
                factor: c.factor,
            })
        })
        .collect::<std::result::Result<_, String>>()?;
    let list_prices = p
        .list_prices
        .into_iter()
        .map(|l| {
            Ok(ListPrice {
                uom: u(&l.uom)?,
                price_list_id: l.price_list_id,
                currency: l.currency,
                amount: l.amount,
                validity: validity(l.valid_from, l.valid_to),
            })
        })
        .collect::<std::result::Result<_, String>>()?;
    let contracts = p
        .contracts
        .into_iter()
        .map(contract)
        .collect::<std::result::Result<_, String>>()?;
    let discounts = p
        .discounts
        .into_iter()
        .map(discount)
        .collect::<std::result::Result<_, String>>()?;
    let breaks = p
        .breaks
        .into_iter()
        .map(|b| {
            let adjustment = match (b.price, b.currency, b.percent) {
                (Some(amount), Some(currency), None) => BreakAdjustment::Price { amount, currency },
                (None, None, Some(p)) => BreakAdjustment::Percent(p),
                _ => {
                    return Err(format!(
                        "volume break {}: neither a price nor a percent",
                        b.break_id
                    ))
                }
            };
            Ok(VolumeBreak {
                uom: u(&b.uom)?,
                id: b.break_id,
                min_quantity: b.min_quantity,
                adjustment,
                validity: validity(b.valid_from, b.valid_to),
            })
        })
        .collect::<std::result::Result<_, String>>()?;
    Ok(PricingInputs {
        product: ProductTerms {
            base_uom: u(&p.uom)?,
            sku: p.sku,
            category: p.category,
            visibility,
            conversions,
        },
        list_prices,
        contracts,
        discounts,
        tier: p.tier.map(tier),
        breaks,
    })
}

fn contract(c: ContractJson) -> std::result::Result<Contract, String> {
    Ok(Contract {
        uom: uom(&c.sku, &c.uom)?,
        id: c.contract_id,
        customer_id: c.customer_id,
        price: c.price,
        currency: c.currency,
        validity: validity(c.valid_from, c.valid_to),
    })
}

fn discount(d: DiscountJson) -> std::result::Result<CustomerDiscount, String> {
    let scope = match (d.scope.as_str(), d.sku, d.category) {
        ("product", Some(s), _) => DiscountScope::Product(s),
        ("category", _, Some(c)) => DiscountScope::Category(c),
        ("all", _, _) => DiscountScope::All,
        (s, _, _) => return Err(format!("discount {}: stored scope `{s}`", d.discount_id)),
    };
    Ok(CustomerDiscount {
        id: d.discount_id,
        customer_id: d.customer_id,
        scope,
        percent: d.percent,
        validity: validity(d.valid_from, d.valid_to),
    })
}

fn tier(t: TierJson) -> CustomerTier {
    CustomerTier {
        customer_id: t.customer_id,
        code: t.tier_code,
        percent: t.percent,
    }
}

/// Who has prices of their own on some products: what the price sync pushes besides the
/// anonymous visitor's price (storefronts' B2B forms: Shopify price lists, Magento
/// customer-group tier prices). Active customers only; loaded by [`load_audience`].
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Audience {
    /// Every tier of the organization, by code.
    pub tiers: Vec<Tier>,
    /// The active customers with a contract on one of the products or a discount that can
    /// reach one (product, category or all), by id, each with all its terms and its tier.
    pub customers: Vec<CustomerTerms>,
}

/// A price tier as the price sync names it.
#[derive(Debug, Clone, PartialEq)]
pub struct Tier {
    pub code: String,
    pub name: Option<String>,
    pub percent: Decimal,
}

/// One customer's own price terms.
#[derive(Debug, Clone, PartialEq)]
pub struct CustomerTerms {
    pub customer_id: String,
    pub name: String,
    /// Its contracts on the products asked about, each with its SKU.
    pub contracts: Vec<(String, Contract)>,
    /// Its discounts (those of scope `product` on the products asked about).
    pub discounts: Vec<CustomerDiscount>,
    pub tier: Option<CustomerTier>,
}

#[derive(Deserialize)]
struct TierRowJson {
    tier_code: String,
    name: Option<String>,
    percent: Decimal,
}

#[derive(Deserialize)]
struct CustomerJson {
    customer_id: String,
    name: String,
    contracts: Vec<ContractJson>,
    discounts: Vec<DiscountJson>,
    tier: Option<TierJson>,
}

/// One query: the tiers, and the active customers with terms that can reach `skus`.
const AUDIENCE: &str = r#"
WITH terms AS (
  SELECT DISTINCT customer_id FROM price_contracts
   WHERE org_id = $1 AND sku = ANY($2)
  UNION
  SELECT DISTINCT customer_id FROM customer_discounts
   WHERE org_id = $1 AND (scope <> 'product' OR sku = ANY($2))
)
SELECT
  COALESCE((SELECT jsonb_agg(jsonb_build_object(
      'tier_code', t.tier_code, 'name', t.name, 'percent', t.percent::text) ORDER BY t.tier_code)
    FROM price_tiers t WHERE t.org_id = $1), '[]') AS tiers,
  COALESCE((SELECT jsonb_agg(jsonb_build_object(
    'customer_id', c.customer_id, 'name', c.name,
    'contracts', COALESCE((SELECT jsonb_agg(jsonb_build_object(
        'contract_id', k.contract_id, 'sku', k.sku, 'customer_id', k.customer_id,
        'price', k.price::text, 'uom', k.uom, 'currency', k.currency,
        'valid_from', k.valid_from, 'valid_to', k.valid_to) ORDER BY k.sku, k.contract_id)
      FROM price_contracts k
      WHERE k.org_id = c.org_id AND k.customer_id = c.customer_id AND k.sku = ANY($2)), '[]'),
    'discounts', COALESCE((SELECT jsonb_agg(jsonb_build_object(
        'discount_id', d.discount_id, 'customer_id', d.customer_id, 'scope', d.scope,
        'sku', d.sku, 'category', d.category, 'percent', d.percent::text,
        'valid_from', d.valid_from, 'valid_to', d.valid_to) ORDER BY d.discount_id)
      FROM customer_discounts d
      WHERE d.org_id = c.org_id AND d.customer_id = c.customer_id
        AND (d.scope <> 'product' OR d.sku = ANY($2))), '[]'),
    'tier', (SELECT jsonb_build_object(
        'customer_id', ct.customer_id, 'tier_code', t.tier_code, 'percent', t.percent::text)
      FROM customer_tiers ct
      JOIN price_tiers t ON t.org_id = ct.org_id AND t.tier_code = ct.tier_code
      WHERE ct.org_id = c.org_id AND ct.customer_id = c.customer_id))
    ORDER BY c.customer_id)
    FROM customers c JOIN terms USING (customer_id)
    WHERE c.org_id = $1 AND c.active), '[]') AS customers
"#;

/// The tiers of `org` and its active customers with price terms that can reach `skus`, in
/// one query. A customer's contracts are those on `skus`; its discounts are those of a
/// category or all products, and those of scope `product` on `skus`.
pub async fn load_audience(pool: &PgPool, org: OrgId, skus: &[String]) -> Result<Audience> {
    let (tiers, customers): (serde_json::Value, serde_json::Value) = sqlx::query_as(AUDIENCE)
        .bind(org.0)
        .bind(skus)
        .fetch_one(pool)
        .await?;
    let invalid = |e: String| StoreError::Invalid(format!("price audience: {e}"));
    let tiers: Vec<TierRowJson> =
        serde_json::from_value(tiers).map_err(|e| invalid(e.to_string()))?;
    let customers: Vec<CustomerJson> =
        serde_json::from_value(customers).map_err(|e| invalid(e.to_string()))?;
    let customers = customers
        .into_iter()
        .map(|c| {
            Ok(CustomerTerms {
                contracts: c
                    .contracts
                    .into_iter()
                    .map(|k| Ok((k.sku.clone(), contract(k)?)))
                    .collect::<std::result::Result<_, String>>()?,
                discounts: c
                    .discounts
                    .into_iter()
                    .map(discount)
                    .collect::<std::result::Result<_, String>>()?,
                tier: c.tier.map(tier),
                customer_id: c.customer_id,
                name: c.name,
            })
        })
        .collect::<std::result::Result<_, String>>()
        .map_err(invalid)?;
    Ok(Audience {
        tiers: tiers
            .into_iter()
            .map(|t| Tier {
                code: t.tier_code,
                name: t.name,
                percent: t.percent,
            })
            .collect(),
        customers,
    })
}

/// What a price row may refer to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Ref {
    Product,
    Customer,
    PriceList,
    Tier,
}

/// Which of `ids` exist in `org` as `what`.
pub async fn known(
    pool: &PgPool,
    org: OrgId,
    what: Ref,
    ids: &[String],
) -> Result<HashSet<String>> {
    let sql = match what {
        Ref::Product => "SELECT sku FROM products WHERE org_id = $1 AND sku = ANY($2)",
        Ref::Customer => {
            "SELECT customer_id FROM customers WHERE org_id = $1 AND customer_id = ANY($2)"
        }
        Ref::PriceList => {
            "SELECT price_list_id FROM price_lists WHERE org_id = $1 AND price_list_id = ANY($2)"
        }
        Ref::Tier => "SELECT tier_code FROM price_tiers WHERE org_id = $1 AND tier_code = ANY($2)",
    };
    let found: Vec<String> = sqlx::query_scalar(sql)
        .bind(org.0)
        .bind(ids)
        .fetch_all(pool)
        .await?;
    Ok(found.into_iter().collect())
}

pub struct PriceListRow {
    pub price_list_id: String,
    pub name: Option<String>,
    pub currency: String,
    pub validity: Validity,
}

pub struct ListPriceRow {
    pub price_list_id: String,
    pub sku: String,
    pub uom: Uom,
    pub amount: Decimal,
    pub validity: Validity,
}

pub struct TierRow {
    pub tier_code: String,
    pub name: Option<String>,
    pub percent: Decimal,
}

pub struct CustomerTierRow {
    pub customer_id: String,
    pub tier_code: String,
}

pub struct DiscountRow {
    pub discount_id: String,
    pub customer_id: String,
    pub scope: DiscountScope,
    pub percent: Decimal,
    pub validity: Validity,
}

pub struct ContractRow {
    pub contract_id: String,
    pub sku: String,
    pub customer_id: String,
    pub price: Decimal,
    pub uom: Uom,
    pub currency: String,
    pub validity: Validity,
}

pub struct VolumeBreakRow {
    pub break_id: String,
    pub sku: String,
    pub min_quantity: Decimal,
    pub uom: Uom,
    pub adjustment: BreakAdjustment,
    pub validity: Validity,
}

pub struct ConversionRow {
    pub sku: String,
    pub conversion: Conversion,
}

/// Rows of one pricing table, for [`upsert_prices`].
pub enum PriceRows {
    PriceLists(Vec<PriceListRow>),
    ListPrices(Vec<ListPriceRow>),
    Tiers(Vec<TierRow>),
    CustomerTiers(Vec<CustomerTierRow>),
    Discounts(Vec<DiscountRow>),
    Contracts(Vec<ContractRow>),
    VolumeBreaks(Vec<VolumeBreakRow>),
    Conversions(Vec<ConversionRow>),
}

fn froms<T>(
    rows: &[T],
    v: impl Fn(&T) -> Validity,
) -> (Vec<Option<NaiveDate>>, Vec<Option<NaiveDate>>) {
    rows.iter().map(|r| (v(r).from, v(r).to)).unzip()
}

/// Insert or replace `rows` of `org` by their keys, in one statement: a repeated call stores
/// the same thing (idempotent). Rows must name existing products, customers, price lists and
/// tiers ([`known`]); a key may appear once per call.
pub async fn upsert_prices(pool: &PgPool, org: OrgId, rows: &PriceRows) -> Result<u64> {
    // The change feed: triggers on the price tables (migrations/0011_price_feed.sql) record a
    // `prices` change for every SKU a row can move, in this statement's transaction. The feed's
    // head is taken first, as every multi-row writer must (migrations/0009_catalog.sql, lock
    // order): otherwise two uploads touching the same rows in another order could deadlock on
    // the head.
    let q = match rows {
        PriceRows::PriceLists(r) => {
            let (f, t) = froms(r, |x| x.validity);
            sqlx::query(
                "INSERT INTO price_lists (org_id, price_list_id, name, currency, valid_from, valid_to)
                 SELECT $1, * FROM UNNEST($2::text[], $3::text[], $4::text[], $5::date[], $6::date[])
                 ON CONFLICT (org_id, price_list_id) DO UPDATE SET name = EXCLUDED.name,
                   currency = EXCLUDED.currency, valid_from = EXCLUDED.valid_from,
                   valid_to = EXCLUDED.valid_to, updated_at = now()",
            )
            .bind(org.0)
            .bind(r.iter().map(|x| x.price_list_id.clone()).collect::<Vec<_>>())
            .bind(r.iter().map(|x| x.name.clone()).collect::<Vec<_>>())
            .bind(r.iter().map(|x| x.currency.clone()).collect::<Vec<_>>())
            .bind(f)
            .bind(t)
        }
        PriceRows::ListPrices(r) => {
            let (f, t) = froms(r, |x| x.validity);
            sqlx::query(
                "INSERT INTO list_prices (org_id, price_list_id, sku, uom, amount, valid_from, valid_to)
                 SELECT $1, * FROM UNNEST($2::text[], $3::text[], $4::text[], $5::numeric[],
                   $6::date[], $7::date[])
                 ON CONFLICT (org_id, price_list_id, sku, uom) DO UPDATE SET
                   amount = EXCLUDED.amount, valid_from = EXCLUDED.valid_from,
                   valid_to = EXCLUDED.valid_to, updated_at = now()",
            )
            .bind(org.0)
            .bind(r.iter().map(|x| x.price_list_id.clone()).collect::<Vec<_>>())
            .bind(r.iter().map(|x| x.sku.clone()).collect::<Vec<_>>())
            .bind(r.iter().map(|x| x.uom.to_string()).collect::<Vec<_>>())
            .bind(r.iter().map(|x| x.amount).collect::<Vec<_>>())
            .bind(f)
            .bind(t)
        }
        PriceRows::Tiers(r) => sqlx::query(
            "INSERT INTO price_tiers (org_id, tier_code, name, percent)
             SELECT $1, * FROM UNNEST($2::text[], $3::text[], $4::numeric[])
             ON CONFLICT (org_id, tier_code) DO UPDATE SET name = EXCLUDED.name,
               percent = EXCLUDED.percent, updated_at = now()",
        )
        .bind(org.0)
        .bind(r.iter().map(|x| x.tier_code.clone()).collect::<Vec<_>>())
        .bind(r.iter().map(|x| x.name.clone()).collect::<Vec<_>>())
        .bind(r.iter().map(|x| x.percent).collect::<Vec<_>>()),
        PriceRows::CustomerTiers(r) => sqlx::query(
            "INSERT INTO customer_tiers (org_id, customer_id, tier_code)
             SELECT $1, * FROM UNNEST($2::text[], $3::text[])
             ON CONFLICT (org_id, customer_id) DO UPDATE SET tier_code = EXCLUDED.tier_code,
               updated_at = now()",
        )
        .bind(org.0)
        .bind(r.iter().map(|x| x.customer_id.clone()).collect::<Vec<_>>())
        .bind(r.iter().map(|x| x.tier_code.clone()).collect::<Vec<_>>()),
        PriceRows::Discounts(r) => {
            let (f, t) = froms(r, |x| x.validity);
            let (scope, sku, category): (Vec<String>, Vec<Option<String>>, Vec<Option<String>>) = r
                .iter()
                .map(|x| match &x.scope {
                    DiscountScope::Product(s) => ("product".to_owned(), Some(s.clone()), None),
                    DiscountScope::Category(c) => ("category".to_owned(), None, Some(c.clone())),
                    DiscountScope::All => ("all".to_owned(), None, None),
                })
                .fold(
                    (vec![], vec![], vec![]),
                    |(mut a, mut b, mut c), (x, y, z)| {
                        a.push(x);
                        b.push(y);
                        c.push(z);
                        (a, b, c)
                    },
                );
            sqlx::query(
                "INSERT INTO customer_discounts (org_id, discount_id, customer_id, scope, sku,
                   category, percent, valid_from, valid_to)
                 SELECT $1, * FROM UNNEST($2::text[], $3::text[], $4::text[], $5::text[],
                   $6::text[], $7::numeric[], $8::date[], $9::date[])
                 ON CONFLICT (org_id, discount_id) DO UPDATE SET customer_id = EXCLUDED.customer_id,
                   scope = EXCLUDED.scope, sku = EXCLUDED.sku, category = EXCLUDED.category,
                   percent = EXCLUDED.percent, valid_from = EXCLUDED.valid_from,
                   valid_to = EXCLUDED.valid_to, updated_at = now()",
            )
            .bind(org.0)
            .bind(r.iter().map(|x| x.discount_id.clone()).collect::<Vec<_>>())
            .bind(r.iter().map(|x| x.customer_id.clone()).collect::<Vec<_>>())
            .bind(scope)
            .bind(sku)
            .bind(category)
            .bind(r.iter().map(|x| x.percent).collect::<Vec<_>>())
            .bind(f)
            .bind(t)
        }
        PriceRows::Contracts(r) => {
            let (f, t) = froms(r, |x| x.validity);
            sqlx::query(
                "INSERT INTO price_contracts (org_id, contract_id, sku, customer_id, price, uom,
                   currency, valid_from, valid_to)
                 SELECT $1, * FROM UNNEST($2::text[], $3::text[], $4::text[], $5::numeric[],
                   $6::text[], $7::text[], $8::date[], $9::date[])
                 ON CONFLICT (org_id, contract_id, sku) DO UPDATE SET
                   customer_id = EXCLUDED.customer_id, price = EXCLUDED.price, uom = EXCLUDED.uom,
                   currency = EXCLUDED.currency, valid_from = EXCLUDED.valid_from,
                   valid_to = EXCLUDED.valid_to, updated_at = now()",
            )
            .bind(org.0)
            .bind(r.iter().map(|x| x.contract_id.clone()).collect::<Vec<_>>())
            .bind(r.iter().map(|x| x.sku.clone()).collect::<Vec<_>>())
            .bind(r.iter().map(|x| x.customer_id.clone()).collect::<Vec<_>>())
            .bind(r.iter().map(|x| x.price).collect::<Vec<_>>())
            .bind(r.iter().map(|x| x.uom.to_string()).collect::<Vec<_>>())
            .bind(r.iter().map(|x| x.currency.clone()).collect::<Vec<_>>())
            .bind(f)
            .bind(t)
        }
        PriceRows::VolumeBreaks(r) => {
            let (f, t) = froms(r, |x| x.validity);
            let price = |x: &VolumeBreakRow| match &x.adjustment {
                BreakAdjustment::Price { amount, currency } => {
                    (Some(*amount), Some(currency.clone()), None)
                }
                BreakAdjustment::Percent(p) => (None, None, Some(*p)),
            };
            sqlx::query(
                "INSERT INTO volume_breaks (org_id, break_id, sku, min_quantity, uom, price,
                   currency, percent, valid_from, valid_to)
                 SELECT $1, * FROM UNNEST($2::text[], $3::text[], $4::numeric[], $5::text[],
                   $6::numeric[], $7::text[], $8::numeric[], $9::date[], $10::date[])
                 ON CONFLICT (org_id, break_id) DO UPDATE SET sku = EXCLUDED.sku,
                   min_quantity = EXCLUDED.min_quantity, uom = EXCLUDED.uom,
                   price = EXCLUDED.price, currency = EXCLUDED.currency,
                   percent = EXCLUDED.percent, valid_from = EXCLUDED.valid_from,
                   valid_to = EXCLUDED.valid_to, updated_at = now()",
            )
            .bind(org.0)
            .bind(r.iter().map(|x| x.break_id.clone()).collect::<Vec<_>>())
            .bind(r.iter().map(|x| x.sku.clone()).collect::<Vec<_>>())
            .bind(r.iter().map(|x| x.min_quantity).collect::<Vec<_>>())
            .bind(r.iter().map(|x| x.uom.to_string()).collect::<Vec<_>>())
            .bind(r.iter().map(|x| price(x).0).collect::<Vec<_>>())
            .bind(r.iter().map(|x| price(x).1).collect::<Vec<_>>())
            .bind(r.iter().map(|x| price(x).2).collect::<Vec<_>>())
            .bind(f)
            .bind(t)
        }
        PriceRows::Conversions(r) => sqlx::query(
            // A pair is stored one way round: the other way's row is replaced, so a product
            // never holds 1 FT = 3.4 LB and 1 LB = 0.3 FT at once.
            "WITH n AS (SELECT * FROM UNNEST($2::text[], $3::text[], $4::text[], $5::numeric[])
                          AS n(sku, from_uom, to_uom, factor)),
             reversed AS (DELETE FROM product_uom_conversions c USING n
                          WHERE c.org_id = $1 AND c.sku = n.sku AND c.from_uom = n.to_uom
                            AND c.to_uom = n.from_uom)
             INSERT INTO product_uom_conversions (org_id, sku, from_uom, to_uom, factor)
             SELECT $1, sku, from_uom, to_uom, factor FROM n
             ON CONFLICT (org_id, sku, from_uom, to_uom) DO UPDATE SET factor = EXCLUDED.factor,
               updated_at = now()",
        )
        .bind(org.0)
        .bind(r.iter().map(|x| x.sku.clone()).collect::<Vec<_>>())
        .bind(
            r.iter()
                .map(|x| x.conversion.from.to_string())
                .collect::<Vec<_>>(),
        )
        .bind(
            r.iter()
                .map(|x| x.conversion.to.to_string())
                .collect::<Vec<_>>(),
        )
        .bind(r.iter().map(|x| x.conversion.factor).collect::<Vec<_>>()),
    };
    let mut tx = crate::begin(pool).await?;
    crate::feed::lock(&mut tx, org).await?;
    let done = q.execute(&mut *tx).await.map_err(|e| match &e {
        // A product, customer, price list or tier deleted since the caller checked it.
        sqlx::Error::Database(d) if d.is_foreign_key_violation() => StoreError::Conflict(format!(
            "a row names what no longer exists: {}",
            d.message()
        )),
        _ => StoreError::Database(e),
    })?;
    tx.commit().await?;
    Ok(done.rows_affected())
}

/// Keys of price rows of one table, for [`delete_prices`]: the natural keys their upserts use.
pub enum PriceKeys {
    /// (price list id, SKU, unit).
    ListPrices(Vec<(String, String, Uom)>),
    /// Tier codes. A tier's customer assignments go with it (0008: `ON DELETE CASCADE`).
    Tiers(Vec<String>),
    /// Customer ids: their tier assignment.
    CustomerTiers(Vec<String>),
    /// Discount ids.
    Discounts(Vec<String>),
    /// (contract id, SKU).
    Contracts(Vec<(String, String)>),
    /// Volume break ids.
    VolumeBreaks(Vec<String>),
}

impl PriceKeys {
    /// The table, its key columns after `org_id`, and the keys column by column.
    fn columns(&self) -> (&'static str, &'static [&'static str], Vec<Vec<String>>) {
        let one = |v: &Vec<String>| vec![v.clone()];
        match self {
            PriceKeys::ListPrices(k) => (
                "list_prices",
                &["price_list_id", "sku", "uom"],
                vec![
                    k.iter().map(|x| x.0.clone()).collect(),
                    k.iter().map(|x| x.1.clone()).collect(),
                    k.iter().map(|x| x.2.to_string()).collect(),
                ],
            ),
            PriceKeys::Tiers(k) => ("price_tiers", &["tier_code"], one(k)),
            PriceKeys::CustomerTiers(k) => ("customer_tiers", &["customer_id"], one(k)),
            PriceKeys::Discounts(k) => ("customer_discounts", &["discount_id"], one(k)),
            PriceKeys::Contracts(k) => (
                "price_contracts",
                &["contract_id", "sku"],
                vec![
                    k.iter().map(|x| x.0.clone()).collect(),
                    k.iter().map(|x| x.1.clone()).collect(),
                ],
            ),
            PriceKeys::VolumeBreaks(k) => ("volume_breaks", &["break_id"], one(k)),
        }
    }
}

/// Delete the rows of `org` named by `keys`, in one statement; for each key, whether its row
/// existed (and is now gone). Another organization's row is never touched: it does not exist
/// here. The triggers (migrations/0013_price_sync_feed.sql) record a `prices` change for every
/// SKU the deleted rows priced, so the next price sync pushes what is left; the head is taken
/// first, as [`upsert_prices`] does.
pub async fn delete_prices(pool: &PgPool, org: OrgId, keys: &PriceKeys) -> Result<Vec<bool>> {
    let (table, cols, values) = keys.columns();
    let n = values.first().map_or(0, Vec::len);
    if n == 0 {
        return Ok(Vec::new());
    }
    // Only this module's constant names go into the text; the keys are bound.
    let arrays: Vec<String> = (0..cols.len())
        .map(|i| format!("${}::text[]", i + 2))
        .collect();
    let matches: Vec<String> = cols.iter().map(|c| format!("t.{c} = k.{c}")).collect();
    let sql = format!(
        "DELETE FROM {table} t USING UNNEST({}) WITH ORDINALITY AS k({}, i)
         WHERE t.org_id = $1 AND {} RETURNING k.i",
        arrays.join(", "),
        cols.join(", "),
        matches.join(" AND "),
    );
    let mut q = sqlx::query_scalar::<_, i64>(&sql).bind(org.0);
    for v in values {
        q = q.bind(v);
    }
    let mut tx = crate::begin(pool).await?;
    crate::feed::lock(&mut tx, org).await?;
    let gone = q.fetch_all(&mut *tx).await?;
    tx.commit().await?;
    let mut deleted = vec![false; n];
    for i in gone {
        // WITH ORDINALITY counts from 1.
        if let Some(d) = usize::try_from(i - 1).ok().and_then(|i| deleted.get_mut(i)) {
            *d = true;
        }
    }
    Ok(deleted)
}
