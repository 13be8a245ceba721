//! Sales orders created through the API (`POST /api/v1/orders`, issue #14): stored `pending`
//! with `source = 'api'`, at most once per `Idempotency-Key`, per customer + PO and per order
//! number. The checks an order passes first are [`crate::orders::check_order`]'s, the same
//! an EDI order passes.

use crate::db::{Result, StoreError};
use crate::orders::{OrderRow, RawRow, COLUMNS};
use serde_json::Value;
use sqlx::PgPool;
use switchyard_core::ids::{OrderId, OrgId};
use switchyard_core::model::OrderStatus;

/// An order a client sends.
#[derive(Debug, Clone)]
pub struct ApiOrder {
    pub org: OrgId,
    pub order_number: String,
    pub customer_id: String,
    pub customer_po: String,
    /// The canonical `switchyard_core::model::Order` (status `pending`).
    pub canonical: Value,
    /// The client's `Idempotency-Key`, when it sent one.
    pub idempotency_key: Option<String>,
}

/// What [`create`] did.
#[derive(Debug, Clone, PartialEq)]
pub enum Created {
    /// A new order.
    New(Box<OrderRow>),
    /// An order already holding this key, customer + PO or order number: the caller decides
    /// whether the request was the same (a retry) or a different one (a conflict).
    Existing(Box<OrderRow>),
}

/// Store `o` as a `pending` API order unless one holds its idempotency key, its customer + PO
/// or its order number; then that one, untouched.
pub async fn create(pool: &PgPool, o: &ApiOrder) -> Result<Created> {
    let id = OrderId::new();
    let inserted: Option<RawRow> = sqlx::query_as(&format!(
        "INSERT INTO orders (id, org_id, order_number, customer_id, customer_po, status, canonical,
             source, idempotency_key)
         VALUES ($1, $2, $3, $4, $5, $6, $7, 'api', $8)
         ON CONFLICT DO NOTHING RETURNING {COLUMNS}"
    ))
    .bind(id.0)
    .bind(o.org.0)
    .bind(&o.order_number)
    .bind(&o.customer_id)
    .bind(&o.customer_po)
    .bind(OrderStatus::Pending.as_str())
    .bind(&o.canonical)
    .bind(&o.idempotency_key)
    .fetch_optional(pool)
    .await?;
    if let Some(r) = inserted {
        return Ok(Created::New(Box::new(r.try_into()?)));
    }
    // The key first: a retry with the key finds its order even when its number was generated.
    let existing: Option<RawRow> = sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM orders WHERE org_id = $1 AND (
             idempotency_key = $2 OR (customer_id = $3 AND customer_po = $4) OR order_number = $5)
         ORDER BY (idempotency_key IS NOT DISTINCT FROM $2) DESC, created_at LIMIT 1"
    ))
    .bind(o.org.0)
    .bind(&o.idempotency_key)
    .bind(&o.customer_id)
    .bind(&o.customer_po)
    .bind(&o.order_number)
    .fetch_optional(pool)
    .await?;
    match existing {
        Some(r) => Ok(Created::Existing(Box::new(r.try_into()?))),
        None => Err(StoreError::Conflict(
            "the order conflicted with one that no longer exists; send it again".into(),
        )),
    }
}

/// The `Idempotency-Key` an order was created with (`None` for EDI orders and keyless calls).
pub async fn key_of(pool: &PgPool, org: OrgId, id: OrderId) -> Result<Option<String>> {
    Ok(
        sqlx::query_scalar("SELECT idempotency_key FROM orders WHERE org_id = $1 AND id = $2")
            .bind(org.0)
            .bind(id.0)
            .fetch_optional(pool)
            .await?
            .flatten(),
    )
}
