//! Invoices (`migrations/0027_shipments_invoices.sql`): what a customer is billed, with its
//! lines, optionally for one sales order; the invoice number is unique per organization.
//! Amounts follow `switchyard_core::model::InvoiceLine` (net = quantity × price rounded to
//! cents, VAT on the rounded net) and the header keeps the sums. `invoice.created` is
//! recorded by the table's trigger in the same transaction.

use crate::db::{Result, StoreError};
use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::Serialize;
use sqlx::{PgPool, Postgres, QueryBuilder};
use switchyard_core::ids::{InvoiceId, OrderId, OrgId};
use switchyard_core::model::InvoiceLine;
use uuid::Uuid;

/// An invoice to store; its lines are checked by the caller (SKUs, order lines).
#[derive(Debug, Clone, PartialEq)]
pub struct NewInvoice {
    pub invoice_number: String,
    pub order_id: Option<OrderId>,
    pub customer_id: String,
    pub issue_date: NaiveDate,
    pub due_date: Option<NaiveDate>,
    pub currency: String,
    pub lines: Vec<InvoiceLine>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct InvoiceLineRow {
    pub line_number: u32,
    pub sku: String,
    pub description: Option<String>,
    pub quantity: Decimal,
    pub uom: String,
    pub unit_price: Decimal,
    pub vat_rate: Decimal,
    pub net_amount: Decimal,
    pub vat_amount: Decimal,
}

/// A stored invoice.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct InvoiceRow {
    pub id: InvoiceId,
    pub invoice_number: String,
    pub order_id: Option<OrderId>,
    pub order_number: Option<String>,
    pub customer_id: String,
    pub issue_date: NaiveDate,
    pub due_date: Option<NaiveDate>,
    pub currency: String,
    pub net_total: Decimal,
    pub vat_total: Decimal,
    pub gross_total: Decimal,
    pub created_at: DateTime<Utc>,
    pub lines: Vec<InvoiceLineRow>,
}

impl InvoiceRow {
    /// Whether `n` is this invoice again (a client's retry): same header and lines.
    pub fn is_same(&self, n: &NewInvoice) -> bool {
        self.order_id == n.order_id
            && self.customer_id == n.customer_id
            && self.issue_date == n.issue_date
            && self.due_date == n.due_date
            && self.currency == n.currency
            && self.lines.len() == n.lines.len()
            && self.lines.iter().zip(&n.lines).all(|(a, b)| {
                a.line_number == b.line_number
                    && a.sku == b.sku
                    && a.quantity == b.quantity
                    && a.unit_price == b.unit_price
                    && a.vat_rate == b.vat_rate
                    && a.uom == b.uom.code()
                    && a.description == b.description
            })
    }
}

/// What [`create`] did.
#[derive(Debug, Clone, PartialEq)]
pub enum Created {
    New(Box<InvoiceRow>),
    /// An invoice with this number exists already (the caller compares).
    Existing(Box<InvoiceRow>),
}

/// Store `n` unless its number is taken; then the invoice holding it.
pub async fn create(pool: &PgPool, org: OrgId, n: &NewInvoice) -> Result<Created> {
    let mut tx = crate::begin(pool).await?;
    let id = InvoiceId::new();
    let net = cents(n.lines.iter().map(InvoiceLine::net_amount).sum());
    let vat = cents(n.lines.iter().map(InvoiceLine::vat_amount).sum());
    let inserted: Option<Uuid> = sqlx::query_scalar(
        "INSERT INTO invoices (id, org_id, invoice_number, order_id, customer_id, issue_date,
             due_date, currency, net_total, vat_total, gross_total)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
         ON CONFLICT (org_id, invoice_number) DO NOTHING RETURNING id",
    )
    .bind(id.0)
    .bind(org.0)
    .bind(&n.invoice_number)
    .bind(n.order_id.map(|o| o.0))
    .bind(&n.customer_id)
    .bind(n.issue_date)
    .bind(n.due_date)
    .bind(&n.currency)
    .bind(net)
    .bind(vat)
    .bind(net + vat)
    .fetch_optional(&mut *tx)
    .await
    .map_err(|e| match &e {
        sqlx::Error::Database(d) if d.is_foreign_key_violation() => {
            StoreError::Invalid(format!("customer_id: unknown customer `{}`", n.customer_id))
        }
        _ => StoreError::Database(e),
    })?;
    if inserted.is_none() {
        drop(tx);
        let existing = by_number(pool, org, &n.invoice_number)
            .await?
            .ok_or_else(|| {
                StoreError::Conflict("the invoice conflicted with one that no longer exists".into())
            })?;
        return Ok(Created::Existing(Box::new(existing)));
    }
    for l in &n.lines {
        sqlx::query(
            "INSERT INTO invoice_lines (invoice_id, org_id, line_number, sku, description,
                 quantity, uom, unit_price, vat_rate, net_amount, vat_amount)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        )
        .bind(id.0)
        .bind(org.0)
        .bind(l.line_number as i32)
        .bind(&l.sku)
        .bind(&l.description)
        .bind(l.quantity)
        .bind(l.uom.code())
        .bind(l.unit_price)
        .bind(l.vat_rate)
        .bind(cents(l.net_amount()))
        .bind(cents(l.vat_amount()))
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    let stored = get(pool, org, id)
        .await?
        .ok_or(StoreError::NotFound("invoice"))?;
    Ok(Created::New(Box::new(stored)))
}

/// An amount with exactly two decimals (`4.8` → `4.80`): what an invoice prints, and what
/// exports and events then show the same way.
fn cents(mut d: Decimal) -> Decimal {
    d.rescale(2);
    d
}

#[derive(sqlx::FromRow)]
struct RawInvoice {
    id: Uuid,
    invoice_number: String,
    order_id: Option<Uuid>,
    order_number: Option<String>,
    customer_id: String,
    issue_date: NaiveDate,
    due_date: Option<NaiveDate>,
    currency: String,
    net_total: Decimal,
    vat_total: Decimal,
    gross_total: Decimal,
    created_at: DateTime<Utc>,
}

const SELECT: &str = "SELECT i.id, i.invoice_number, i.order_id, o.order_number, i.customer_id,
    i.issue_date, i.due_date, i.currency, i.net_total, i.vat_total, i.gross_total, i.created_at
    FROM invoices i LEFT JOIN orders o ON o.id = i.order_id";

type RawLine = (
    Uuid,
    i32,
    String,
    Option<String>,
    Decimal,
    String,
    Decimal,
    Decimal,
    Decimal,
    Decimal,
);

async fn with_lines(pool: &PgPool, raw: Vec<RawInvoice>) -> Result<Vec<InvoiceRow>> {
    let ids: Vec<Uuid> = raw.iter().map(|r| r.id).collect();
    let lines: Vec<RawLine> = sqlx::query_as(
        "SELECT invoice_id, line_number, sku, description, quantity, uom, unit_price, vat_rate,
             net_amount, vat_amount
         FROM invoice_lines WHERE invoice_id = ANY($1) ORDER BY invoice_id, line_number",
    )
    .bind(&ids)
    .fetch_all(pool)
    .await?;
    Ok(raw
        .into_iter()
        .map(|r| InvoiceRow {
            lines: lines
                .iter()
                .filter(|l| l.0 == r.id)
                .map(|l| InvoiceLineRow {
                    line_number: l.1 as u32,
                    sku: l.2.clone(),
                    description: l.3.clone(),
                    quantity: l.4,
                    uom: l.5.clone(),
                    unit_price: l.6,
                    vat_rate: l.7,
                    net_amount: l.8,
                    vat_amount: l.9,
                })
                .collect(),
            id: InvoiceId(r.id),
            invoice_number: r.invoice_number,
            order_id: r.order_id.map(OrderId),
            order_number: r.order_number,
            customer_id: r.customer_id,
            issue_date: r.issue_date,
            due_date: r.due_date,
            currency: r.currency,
            net_total: r.net_total,
            vat_total: r.vat_total,
            gross_total: r.gross_total,
            created_at: r.created_at,
        })
        .collect())
}

pub async fn get(pool: &PgPool, org: OrgId, id: InvoiceId) -> Result<Option<InvoiceRow>> {
    let raw: Vec<RawInvoice> =
        sqlx::query_as(&format!("{SELECT} WHERE i.org_id = $1 AND i.id = $2"))
            .bind(org.0)
            .bind(id.0)
            .fetch_all(pool)
            .await?;
    Ok(with_lines(pool, raw).await?.pop())
}

async fn by_number(pool: &PgPool, org: OrgId, number: &str) -> Result<Option<InvoiceRow>> {
    let raw: Vec<RawInvoice> = sqlx::query_as(&format!(
        "{SELECT} WHERE i.org_id = $1 AND i.invoice_number = $2"
    ))
    .bind(org.0)
    .bind(number)
    .fetch_all(pool)
    .await?;
    Ok(with_lines(pool, raw).await?.pop())
}

#[derive(Debug, Clone, Default)]
pub struct InvoiceFilter {
    pub customer_id: Option<String>,
    pub order_id: Option<OrderId>,
}

/// One page of invoices, newest first, strictly after the cursor (the shared keyset cursor).
pub async fn list(
    pool: &PgPool,
    org: OrgId,
    f: &InvoiceFilter,
    after: Option<&str>,
    limit: i64,
) -> Result<(Vec<InvoiceRow>, Option<String>)> {
    let limit = limit.clamp(1, 1000);
    let after = after.map(crate::cursor::decode).transpose()?;
    let mut qb: QueryBuilder<'_, Postgres> =
        QueryBuilder::new(format!("SELECT * FROM ({SELECT} WHERE i.org_id = "));
    qb.push_bind(org.0);
    if let Some(c) = &f.customer_id {
        qb.push(" AND i.customer_id = ").push_bind(c.clone());
    }
    if let Some(o) = f.order_id {
        qb.push(" AND i.order_id = ").push_bind(o.0);
    }
    qb.push(") q WHERE true");
    crate::cursor::push_page(&mut qb, "created_at", after, limit);
    let raw: Vec<RawInvoice> = qb.build_query_as().fetch_all(pool).await?;
    let mut rows = with_lines(pool, raw).await?;
    let next = crate::cursor::split_page(&mut rows, limit, |r| (r.created_at, r.id.0))
        .map(|(at, id)| crate::cursor::encode(at, id));
    Ok((rows, next))
}
