//! Customers, products and orders: the core domain tables (`migrations/0005_orders.sql`).
//!
//! * Reference data: [`upsert_customer`] (with its EDI party identifiers) and
//!   [`upsert_product`] (SKU, GTIN, buyer part numbers); [`customer_by_party`],
//!   [`customer_exists`] and [`find_product`] resolve what a purchase order names.
//! * Orders: [`insert_order`] stores one, or returns the order that already holds its
//!   customer + PO or its source set ([`OrderInsert::Existing`]), so a re-sent PO or a
//!   redelivered import never makes a second order; [`get`], [`list`] (keyset pages),
//!   [`update`] (optimistic: only from the status the caller read), [`set_response`].

use crate::db::{Result, StoreError};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sqlx::{PgExecutor, PgPool, Postgres, QueryBuilder};
use switchyard_core::ids::{OrderId, OrgId};
use switchyard_core::model::OrderStatus;
use uuid::Uuid;

/// How a customer names itself in EDI (`92`/`0001`, `12`/ISA sender, `9`/GLN).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartyId {
    pub qualifier: String,
    pub id: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CustomerRow {
    pub customer_id: String,
    pub name: String,
    pub active: bool,
    #[serde(default)]
    pub edi_ids: Vec<PartyId>,
}

/// A buyer's own part number for a product.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BuyerPart {
    pub customer_id: String,
    pub part: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProductRow {
    pub sku: String,
    pub name: String,
    pub gtin: Option<String>,
    /// Canonical unit code (`EA`, `LB`, …).
    pub uom: String,
    pub active: bool,
    #[serde(default)]
    pub buyer_parts: Vec<BuyerPart>,
}

/// Insert or replace a customer and its EDI identifiers (the given list replaces the old one).
/// An identifier already naming another customer is a conflict.
pub async fn upsert_customer(pool: &PgPool, org: OrgId, c: &CustomerRow) -> Result<()> {
    let mut tx = crate::begin(pool).await?;
    sqlx::query(
        "INSERT INTO customers (org_id, customer_id, name, active) VALUES ($1, $2, $3, $4)
         ON CONFLICT (org_id, customer_id) DO UPDATE
         SET name = EXCLUDED.name, active = EXCLUDED.active, updated_at = now()",
    )
    .bind(org.0)
    .bind(&c.customer_id)
    .bind(&c.name)
    .bind(c.active)
    .execute(&mut *tx)
    .await?;
    sqlx::query("DELETE FROM customer_edi_ids WHERE org_id = $1 AND customer_id = $2")
        .bind(org.0)
        .bind(&c.customer_id)
        .execute(&mut *tx)
        .await?;
    for p in &c.edi_ids {
        let taken: Option<String> = sqlx::query_scalar(
            "INSERT INTO customer_edi_ids (org_id, qualifier, party_id, customer_id)
             VALUES ($1, $2, $3, $4) ON CONFLICT (org_id, qualifier, party_id) DO NOTHING
             RETURNING customer_id",
        )
        .bind(org.0)
        .bind(p.qualifier.trim())
        .bind(p.id.trim())
        .bind(&c.customer_id)
        .fetch_optional(&mut *tx)
        .await?;
        if taken.is_none() {
            return Err(StoreError::Conflict(format!(
                "EDI identifier {}/{} already names another customer",
                p.qualifier, p.id
            )));
        }
    }
    tx.commit().await?;
    Ok(())
}

/// Insert or replace a product and its buyer part numbers.
pub async fn upsert_product(pool: &PgPool, org: OrgId, p: &ProductRow) -> Result<()> {
    let mut tx = crate::begin(pool).await?;
    let gtin = p.gtin.as_deref().map(str::trim).filter(|g| !g.is_empty());
    sqlx::query(
        "INSERT INTO products (org_id, sku, name, gtin, uom, active) VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (org_id, sku) DO UPDATE SET name = EXCLUDED.name, gtin = EXCLUDED.gtin,
             uom = EXCLUDED.uom, active = EXCLUDED.active, updated_at = now()",
    )
    .bind(org.0)
    .bind(&p.sku)
    .bind(&p.name)
    .bind(gtin)
    .bind(&p.uom)
    .bind(p.active)
    .execute(&mut *tx)
    .await
    .map_err(|e| match &e {
        sqlx::Error::Database(d) if d.constraint() == Some("products_gtin") => {
            StoreError::Conflict(format!("GTIN {} already names another product", gtin.unwrap_or("")))
        }
        _ => StoreError::Database(e),
    })?;
    sqlx::query("DELETE FROM product_buyer_parts WHERE org_id = $1 AND sku = $2")
        .bind(org.0)
        .bind(&p.sku)
        .execute(&mut *tx)
        .await?;
    for b in &p.buyer_parts {
        sqlx::query(
            "INSERT INTO product_buyer_parts (org_id, customer_id, buyer_part, sku)
             VALUES ($1, $2, $3, $4)
             ON CONFLICT (org_id, customer_id, buyer_part) DO UPDATE SET sku = EXCLUDED.sku",
        )
        .bind(org.0)
        .bind(&b.customer_id)
        .bind(&b.part)
        .bind(&p.sku)
        .execute(&mut *tx)
        .await
        .map_err(|e| match &e {
            sqlx::Error::Database(d) if d.is_foreign_key_violation() => {
                StoreError::Invalid(format!(
                    "buyer part {}: unknown customer `{}`",
                    b.part, b.customer_id
                ))
            }
            _ => StoreError::Database(e),
        })?;
    }
    tx.commit().await?;
    Ok(())
}

/// The active customer an EDI party identifier names.
pub async fn customer_by_party(
    pool: &PgPool,
    org: OrgId,
    qualifier: &str,
    id: &str,
) -> Result<Option<String>> {
    Ok(sqlx::query_scalar(
        "SELECT c.customer_id FROM customer_edi_ids e
         JOIN customers c ON c.org_id = e.org_id AND c.customer_id = e.customer_id
         WHERE e.org_id = $1 AND e.qualifier = $2 AND e.party_id = $3 AND c.active",
    )
    .bind(org.0)
    .bind(qualifier.trim())
    .bind(id.trim())
    .fetch_optional(pool)
    .await?)
}

/// Whether `customer_id` is an active customer.
pub async fn customer_exists(pool: &PgPool, org: OrgId, customer_id: &str) -> Result<bool> {
    Ok(sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM customers WHERE org_id = $1 AND customer_id = $2 AND active)",
    )
    .bind(org.0)
    .bind(customer_id)
    .fetch_one(pool)
    .await?)
}

pub async fn get_customer(
    pool: &PgPool,
    org: OrgId,
    customer_id: &str,
) -> Result<Option<CustomerRow>> {
    let row: Option<(String, String, bool)> = sqlx::query_as(
        "SELECT customer_id, name, active FROM customers WHERE org_id = $1 AND customer_id = $2",
    )
    .bind(org.0)
    .bind(customer_id)
    .fetch_optional(pool)
    .await?;
    let Some((customer_id, name, active)) = row else {
        return Ok(None);
    };
    let ids: Vec<(String, String)> = sqlx::query_as(
        "SELECT qualifier, party_id FROM customer_edi_ids WHERE org_id = $1 AND customer_id = $2
         ORDER BY qualifier, party_id",
    )
    .bind(org.0)
    .bind(&customer_id)
    .fetch_all(pool)
    .await?;
    Ok(Some(CustomerRow {
        customer_id,
        name,
        active,
        edi_ids: ids
            .into_iter()
            .map(|(qualifier, id)| PartyId { qualifier, id })
            .collect(),
    }))
}

/// How a purchase order line names a product.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProductRef<'a> {
    /// Our SKU (X12 `VP`/`VN`, EDIFACT PIA `SA`).
    Sku(&'a str),
    /// GTIN / UPC / EAN (X12 `UP`/`EN`, EDIFACT LIN 7143 `EN`/`SRV`).
    Gtin(&'a str),
    /// The buyer's part number for this customer (X12 `BP`, EDIFACT PIA `IN`).
    BuyerPart { customer_id: &'a str, part: &'a str },
}

/// The SKU of the active product `r` names.
pub async fn find_product(pool: &PgPool, org: OrgId, r: ProductRef<'_>) -> Result<Option<String>> {
    let q = match r {
        ProductRef::Sku(sku) => sqlx::query_scalar(
            "SELECT sku FROM products WHERE org_id = $1 AND sku = $2 AND active
                 AND deleted_at IS NULL",
        )
        .bind(org.0)
        .bind(sku.trim()),
        ProductRef::Gtin(g) => {
            // A UPC-A (12 digits) is the GTIN-13/14 with leading zeros; compare without them.
            sqlx::query_scalar(
                "SELECT sku FROM products WHERE org_id = $1 AND active AND deleted_at IS NULL
                 AND ltrim(gtin, '0') = ltrim($2, '0') AND ltrim($2, '0') <> ''",
            )
            .bind(org.0)
            .bind(g.trim())
        }
        ProductRef::BuyerPart { customer_id, part } => sqlx::query_scalar(
            "SELECT p.sku FROM product_buyer_parts b
             JOIN products p ON p.org_id = b.org_id AND p.sku = b.sku
             WHERE b.org_id = $1 AND b.customer_id = $2 AND b.buyer_part = $3 AND p.active
               AND p.deleted_at IS NULL",
        )
        .bind(org.0)
        .bind(customer_id)
        .bind(part.trim()),
    };
    Ok(q.fetch_optional(pool).await?)
}

pub async fn list_products(pool: &PgPool, org: OrgId) -> Result<Vec<ProductRow>> {
    let rows: Vec<(String, String, Option<String>, String, bool)> = sqlx::query_as(
        "SELECT sku, name, gtin, uom, active FROM products WHERE org_id = $1 ORDER BY sku",
    )
    .bind(org.0)
    .fetch_all(pool)
    .await?;
    let parts: Vec<(String, String, String)> = sqlx::query_as(
        "SELECT sku, customer_id, buyer_part FROM product_buyer_parts WHERE org_id = $1
         ORDER BY customer_id, buyer_part",
    )
    .bind(org.0)
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(sku, name, gtin, uom, active)| ProductRow {
            buyer_parts: parts
                .iter()
                .filter(|(s, _, _)| *s == sku)
                .map(|(_, c, p)| BuyerPart {
                    customer_id: c.clone(),
                    part: p.clone(),
                })
                .collect(),
            sku,
            name,
            gtin,
            uom,
            active,
        })
        .collect())
}

/// Where in the source document a review error is, in the partner's terms.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ErrorLocation {
    /// ST02 / UNH 0062 of the set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub set_control: Option<String>,
    /// Segment position within the set, counting the ST/UNH as 1 (as 997 AK3 does).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub segment_position: Option<u32>,
    /// Segment id (`PO1`, `LIN`, `DTM`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub segment: Option<String>,
    /// Element reference (`PO102`, `QTY01-2`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub element: Option<String>,
    /// Order line number (PO101 / LIN 1082), when the error is about a line.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<u32>,
    /// Canonical field (`lines[1].quantity`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

/// Why an order waits for review.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReviewError {
    /// Stable code: `unknown_customer`, `unknown_product`, `bad_quantity`, `bad_date`,
    /// `mapping`.
    pub code: String,
    /// One sentence a partner's support person understands, naming the place.
    pub message: String,
    #[serde(default)]
    pub location: ErrorLocation,
}

/// A stored order.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OrderRow {
    pub id: OrderId,
    pub org_id: OrgId,
    pub order_number: String,
    pub customer_id: Option<String>,
    pub customer_po: String,
    pub status: OrderStatus,
    /// The canonical `switchyard_core::model::Order`.
    pub canonical: Value,
    pub source: String,
    pub source_message_id: Option<Uuid>,
    pub partner: Option<String>,
    pub source_set: Option<String>,
    pub mapped: Option<Value>,
    pub mapping_hash: Option<String>,
    pub review_errors: Vec<ReviewError>,
    /// Where the partner's answer goes (`{"partner": NAME}`).
    pub reply_to: Option<Value>,
    pub response_job_id: Option<Uuid>,
    pub response: Option<String>,
    /// While `on_hold`: the status a release returns it to (migration 0036 keeps it).
    pub held_from: Option<OrderStatus>,
    /// Why the order has its status, when the change that set it said (a hold's reason, a
    /// cancellation's, a release's note).
    pub status_reason: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

pub(crate) const COLUMNS: &str =
    "id, org_id, order_number, customer_id, customer_po, status, canonical, \
    source, source_message_id, partner, source_set, mapped, mapping_hash, review_errors, \
    reply_to, response_job_id, response, held_from, status_reason, created_at, updated_at";

#[derive(sqlx::FromRow)]
pub(crate) struct RawRow {
    id: Uuid,
    org_id: Uuid,
    order_number: String,
    customer_id: Option<String>,
    customer_po: String,
    status: String,
    canonical: Value,
    source: String,
    source_message_id: Option<Uuid>,
    partner: Option<String>,
    source_set: Option<String>,
    mapped: Option<Value>,
    mapping_hash: Option<String>,
    review_errors: Value,
    reply_to: Option<Value>,
    response_job_id: Option<Uuid>,
    response: Option<String>,
    held_from: Option<String>,
    status_reason: Option<String>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl TryFrom<RawRow> for OrderRow {
    type Error = StoreError;
    fn try_from(r: RawRow) -> Result<Self> {
        Ok(OrderRow {
            id: OrderId(r.id),
            org_id: OrgId(r.org_id),
            order_number: r.order_number,
            customer_id: r.customer_id,
            customer_po: r.customer_po,
            status: OrderStatus::parse(&r.status)
                .ok_or_else(|| StoreError::Invalid(format!("order status `{}`", r.status)))?,
            canonical: r.canonical,
            source: r.source,
            source_message_id: r.source_message_id,
            partner: r.partner,
            source_set: r.source_set,
            mapped: r.mapped,
            mapping_hash: r.mapping_hash,
            review_errors: serde_json::from_value(r.review_errors)
                .map_err(|e| StoreError::Invalid(format!("stored review errors: {e}")))?,
            reply_to: r.reply_to,
            response_job_id: r.response_job_id,
            response: r.response,
            held_from: r
                .held_from
                .map(|s| {
                    OrderStatus::parse(&s)
                        .ok_or_else(|| StoreError::Invalid(format!("order held_from `{s}`")))
                })
                .transpose()?,
            status_reason: r.status_reason,
            created_at: r.created_at,
            updated_at: r.updated_at,
        })
    }
}

/// An order to store.
#[derive(Debug, Clone)]
pub struct NewOrder {
    pub org: OrgId,
    pub order_number: String,
    pub customer_id: Option<String>,
    pub customer_po: String,
    pub status: OrderStatus,
    pub canonical: Value,
    pub source_message_id: Option<Uuid>,
    pub partner: Option<String>,
    pub source_set: Option<String>,
    pub mapped: Option<Value>,
    pub mapping_hash: Option<String>,
    pub review_errors: Vec<ReviewError>,
    pub reply_to: Option<Value>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum OrderInsert {
    Stored(OrderId),
    /// The order holding this customer + PO, or this source set, already.
    Existing(Box<OrderRow>),
}

/// Store `o`, unless an order with its customer + PO or its source set exists: then that one.
pub async fn insert_order(pool: &PgPool, o: &NewOrder) -> Result<OrderInsert> {
    let id = OrderId::new();
    let sql = format!(
        "INSERT INTO orders (id, org_id, order_number, customer_id, customer_po, status, canonical,
             source, source_message_id, partner, source_set, mapped, mapping_hash, review_errors, reply_to)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)
         ON CONFLICT DO NOTHING RETURNING {COLUMNS}"
    );
    let source = if o.source_message_id.is_some() {
        "edi"
    } else {
        "api"
    };
    let inserted: Option<RawRow> = sqlx::query_as(&sql)
        .bind(id.0)
        .bind(o.org.0)
        .bind(&o.order_number)
        .bind(&o.customer_id)
        .bind(&o.customer_po)
        .bind(o.status.as_str())
        .bind(&o.canonical)
        .bind(source)
        .bind(o.source_message_id)
        .bind(&o.partner)
        .bind(&o.source_set)
        .bind(&o.mapped)
        .bind(&o.mapping_hash)
        .bind(serde_json::to_value(&o.review_errors).unwrap_or_default())
        .bind(&o.reply_to)
        .fetch_optional(pool)
        .await?;
    if inserted.is_some() {
        return Ok(OrderInsert::Stored(id));
    }
    let existing: Option<RawRow> = sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM orders WHERE org_id = $1 AND (
             (customer_id = $2 AND customer_po = $3)
             OR (source_message_id = $4 AND source_set = $5)
             OR order_number = $6)
         ORDER BY created_at LIMIT 1"
    ))
    .bind(o.org.0)
    .bind(&o.customer_id)
    .bind(&o.customer_po)
    .bind(o.source_message_id)
    .bind(&o.source_set)
    .bind(&o.order_number)
    .fetch_optional(pool)
    .await?;
    match existing {
        Some(r) => Ok(OrderInsert::Existing(Box::new(r.try_into()?))),
        // The conflicting row went away between the two statements (deleted); let the caller
        // retry rather than guess.
        None => Err(StoreError::Conflict(
            "the order conflicted with one that no longer exists".into(),
        )),
    }
}

pub async fn get(pool: &PgPool, org: OrgId, id: OrderId) -> Result<Option<OrderRow>> {
    let row: Option<RawRow> = sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM orders WHERE org_id = $1 AND id = $2"
    ))
    .bind(org.0)
    .bind(id.0)
    .fetch_optional(pool)
    .await?;
    row.map(OrderRow::try_from).transpose()
}

/// The order made from one set of an inbound interchange.
pub async fn by_source(
    pool: &PgPool,
    org: OrgId,
    message: Uuid,
    set_control: &str,
) -> Result<Option<OrderRow>> {
    let row: Option<RawRow> = sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM orders
         WHERE org_id = $1 AND source_message_id = $2 AND source_set = $3"
    ))
    .bind(org.0)
    .bind(message)
    .bind(set_control)
    .fetch_optional(pool)
    .await?;
    row.map(OrderRow::try_from).transpose()
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct OrderFilter {
    pub status: Option<OrderStatus>,
    pub customer_id: Option<String>,
    pub partner: Option<String>,
}

/// One page of orders, newest first, strictly after the cursor; the next cursor is `None` on
/// the last page. Cursors are the shared keyset encoding (`crate::cursor`).
pub async fn list(
    pool: &PgPool,
    org: OrgId,
    f: &OrderFilter,
    after: Option<&str>,
    limit: i64,
) -> Result<(Vec<OrderRow>, Option<String>)> {
    let limit = limit.clamp(1, 1000);
    let after = after.map(crate::cursor::decode).transpose()?;
    let mut qb: QueryBuilder<'_, Postgres> =
        QueryBuilder::new(format!("SELECT {COLUMNS} FROM orders WHERE org_id = "));
    qb.push_bind(org.0);
    if let Some(s) = f.status {
        qb.push(" AND status = ").push_bind(s.as_str());
    }
    if let Some(c) = &f.customer_id {
        qb.push(" AND customer_id = ").push_bind(c.clone());
    }
    if let Some(p) = &f.partner {
        qb.push(" AND partner = ").push_bind(p.clone());
    }
    crate::cursor::push_page(&mut qb, "created_at", after, limit);
    let raw: Vec<RawRow> = qb.build_query_as().fetch_all(pool).await?;
    let mut rows = raw
        .into_iter()
        .map(OrderRow::try_from)
        .collect::<Result<Vec<_>>>()?;
    let next = crate::cursor::split_page(&mut rows, limit, |r| (r.created_at, r.id.0))
        .map(|(at, id)| crate::cursor::encode(at, id));
    Ok((rows, next))
}

/// A change to a stored order.
#[derive(Debug, Clone)]
pub struct OrderUpdate {
    pub customer_id: Option<String>,
    pub customer_po: String,
    pub status: OrderStatus,
    pub canonical: Value,
    pub review_errors: Vec<ReviewError>,
    /// Replaces the mapped record and its mapping version when set (a re-map).
    pub mapped: Option<(Value, String)>,
}

/// Apply `u` if the order is still in `expected` status (two admins, or an admin and a
/// redelivered job, cannot both move it); the updated row, or a conflict.
pub async fn update<'e>(
    exec: impl PgExecutor<'e>,
    org: OrgId,
    id: OrderId,
    expected: OrderStatus,
    u: &OrderUpdate,
) -> Result<OrderRow> {
    if !expected.can_become(u.status) {
        return Err(StoreError::Invalid(format!(
            "an order cannot go from {} to {}",
            expected.as_str(),
            u.status.as_str()
        )));
    }
    let (mapped, hash) = match &u.mapped {
        Some((m, h)) => (Some(m.clone()), Some(h.clone())),
        None => (None, None),
    };
    let row: Option<RawRow> = sqlx::query_as(&format!(
        "UPDATE orders SET customer_id = $4, customer_po = $5, status = $6, canonical = $7,
             review_errors = $8, mapped = COALESCE($9, mapped),
             mapping_hash = COALESCE($10, mapping_hash), updated_at = now()
         WHERE org_id = $1 AND id = $2 AND status = $3 RETURNING {COLUMNS}"
    ))
    .bind(org.0)
    .bind(id.0)
    .bind(expected.as_str())
    .bind(&u.customer_id)
    .bind(&u.customer_po)
    .bind(u.status.as_str())
    .bind(&u.canonical)
    .bind(serde_json::to_value(&u.review_errors).unwrap_or_default())
    .bind(mapped)
    .bind(hash)
    .fetch_optional(exec)
    .await
    .map_err(|e| match &e {
        sqlx::Error::Database(d) if d.constraint() == Some("orders_customer_po") => {
            StoreError::Conflict(format!(
                "customer {} already has an order for PO {}",
                u.customer_id.as_deref().unwrap_or(""),
                u.customer_po
            ))
        }
        sqlx::Error::Database(d) if d.constraint() == Some("orders_org_id_customer_id_fkey") => {
            StoreError::Invalid(format!(
                "unknown customer `{}`",
                u.customer_id.as_deref().unwrap_or("")
            ))
        }
        _ => StoreError::Database(e),
    })?;
    match row {
        Some(r) => r.try_into(),
        None => Err(StoreError::Conflict(format!(
            "order {id} is not {} any more (or does not exist)",
            expected.as_str()
        ))),
    }
}

/// Record the response job sent to the partner (855 / ORDRSP) and whether it accepted.
/// Only when `previous_job` is still the recorded one, so two runs cannot both answer.
pub async fn set_response<'e>(
    exec: impl PgExecutor<'e>,
    org: OrgId,
    id: OrderId,
    previous_job: Option<Uuid>,
    job: Uuid,
    accepted: bool,
) -> Result<bool> {
    let done = sqlx::query(
        "UPDATE orders SET response_job_id = $4, response = $5, updated_at = now()
         WHERE org_id = $1 AND id = $2 AND response_job_id IS NOT DISTINCT FROM $3",
    )
    .bind(org.0)
    .bind(id.0)
    .bind(previous_job)
    .bind(job)
    .bind(if accepted { "accepted" } else { "rejected" })
    .execute(exec)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Where an error of [`check_order`] is: a line (1-based position in `lines`) and a field.
fn at(line: Option<(usize, u32)>, field: String) -> ErrorLocation {
    ErrorLocation {
        line: line.map(|(_, n)| n),
        field: Some(field),
        ..ErrorLocation::default()
    }
}

/// The business checks every order passes before it is accepted: its customer is known, each
/// line's SKU is a known active product, each quantity is greater than zero, and the requested
/// delivery dates are not before the order date. Errors name the canonical field and the
/// order line; the EDI import adds the segment and element they came from.
pub async fn check_order(
    pool: &PgPool,
    org: OrgId,
    order: &switchyard_core::model::Order,
) -> Result<Vec<ReviewError>> {
    let mut errors = Vec::new();
    let customer = order.customer_id.trim();
    if customer.is_empty() {
        errors.push(ReviewError {
            code: "unknown_customer".into(),
            message: "the order does not say which customer it is for".into(),
            location: at(None, "customer_id".into()),
        });
    } else if !customer_exists(pool, org, customer).await? {
        errors.push(ReviewError {
            code: "unknown_customer".into(),
            message: format!("customer `{customer}` is not one of our (active) customers"),
            location: at(None, "customer_id".into()),
        });
    }
    if order.lines.is_empty() {
        errors.push(ReviewError {
            code: "no_lines".into(),
            message: "the order has no lines".into(),
            location: at(None, "lines".into()),
        });
    }
    let ordered = order.ordered_at.map(|t| t.date_naive());
    if let (Some(o), Some(d)) = (ordered, order.requested_delivery) {
        if d < o {
            errors.push(ReviewError {
                code: "bad_date".into(),
                message: format!("the requested delivery date {d} is before the order date {o}"),
                location: at(None, "requested_delivery".into()),
            });
        }
    }
    for (i, l) in order.lines.iter().enumerate() {
        let pos = Some((i, l.line_number));
        let n = l.line_number;
        if l.sku.trim().is_empty() {
            errors.push(ReviewError {
                code: "unknown_product".into(),
                message: format!("line {n} does not name a product"),
                location: at(pos, format!("lines[{i}].sku")),
            });
        } else if find_product(pool, org, ProductRef::Sku(&l.sku))
            .await?
            .is_none()
        {
            errors.push(ReviewError {
                code: "unknown_product".into(),
                message: format!("line {n}: product `{}` is not in our catalog", l.sku),
                location: at(pos, format!("lines[{i}].sku")),
            });
        }
        if l.quantity <= rust_decimal::Decimal::ZERO {
            errors.push(ReviewError {
                code: "bad_quantity".into(),
                message: format!(
                    "line {n}: the quantity is {}; it must be greater than zero",
                    l.quantity.normalize()
                ),
                location: at(pos, format!("lines[{i}].quantity")),
            });
        }
        if let (Some(o), Some(d)) = (ordered, l.requested_date) {
            if d < o {
                errors.push(ReviewError {
                    code: "bad_date".into(),
                    message: format!(
                        "line {n}: the requested delivery date {d} is before the order date {o}"
                    ),
                    location: at(pos, format!("lines[{i}].requested_date")),
                });
            }
        }
    }
    Ok(errors)
}
