//! The supplier tables (migrations/0018_suppliers.sql): orders forwarded to a supplier, their
//! status history, updates for orders not known yet, polled suppliers' cursors and when an
//! organization began forwarding. The decisions (what is stale, what our order's status
//! becomes) are the runtime's (hub/runtime/src/supplier/); this module only reads and writes.

use crate::db::Result;
use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::{PgConnection, PgPool};
use switchyard_core::ids::{OrderId, OrgId};
use uuid::Uuid;

/// One order handed to a supplier.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct SupplierOrderRow {
    pub org_id: Uuid,
    pub order_id: Uuid,
    pub partner: String,
    pub supplier_order_id: Option<String>,
    pub previous_supplier_order_ids: Vec<String>,
    pub status: Option<String>,
    pub supplier_status: Option<String>,
    pub tracking_number: Option<String>,
    pub carrier: Option<String>,
    pub supplier_updated_at: Option<DateTime<Utc>>,
    pub queued_at: DateTime<Utc>,
    pub forwarded_at: Option<DateTime<Utc>>,
    pub updated_at: DateTime<Utc>,
    /// From `orders`: what the status event and the supplier know our order by.
    pub order_number: String,
    pub customer_id: Option<String>,
}

const ROW: &str =
    "s.org_id, s.order_id, s.partner, s.supplier_order_id, s.previous_supplier_order_ids,
    s.status, s.supplier_status, s.tracking_number, s.carrier, s.supplier_updated_at, s.queued_at,
    s.forwarded_at, s.updated_at, o.order_number, o.customer_id";

/// Mark `order` as queued for `partner` (nothing when it is already there, whatever its
/// partner). True when the row was created.
pub async fn queue(
    conn: &mut PgConnection,
    org: OrgId,
    order: OrderId,
    partner: &str,
    now: DateTime<Utc>,
) -> Result<bool> {
    let done = sqlx::query(
        "INSERT INTO supplier_orders (org_id, order_id, partner, queued_at, updated_at)
         VALUES ($1, $2, $3, $4, $4) ON CONFLICT (org_id, order_id) DO NOTHING",
    )
    .bind(org.0)
    .bind(order.0)
    .bind(partner)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// The supplier row of `order`, if it was ever queued.
pub async fn get(pool: &PgPool, org: OrgId, order: OrderId) -> Result<Option<SupplierOrderRow>> {
    Ok(sqlx::query_as(&format!(
        "SELECT {ROW} FROM supplier_orders s JOIN orders o ON o.id = s.order_id
         WHERE s.org_id = $1 AND s.order_id = $2"
    ))
    .bind(org.0)
    .bind(order.0)
    .fetch_optional(pool)
    .await?)
}

/// [`get`], locked until the transaction ends.
pub async fn lock(
    conn: &mut PgConnection,
    org: OrgId,
    order: OrderId,
) -> Result<Option<SupplierOrderRow>> {
    Ok(sqlx::query_as(&format!(
        "SELECT {ROW} FROM supplier_orders s JOIN orders o ON o.id = s.order_id
         WHERE s.org_id = $1 AND s.order_id = $2 FOR UPDATE OF s"
    ))
    .bind(org.0)
    .bind(order.0)
    .fetch_optional(conn)
    .await?)
}

/// How a status update found its order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Matched {
    /// By the supplier's current id of the order, or one it used before.
    SupplierId,
    /// By our order number: the supplier reassigned its id (or its answer to the forward
    /// has not been recorded yet).
    OrderNumber,
}

/// The order of `partner` a status update names, locked: by the supplier's id (current or
/// previous), else by our order number among the orders queued for `partner`.
pub async fn find_locked(
    conn: &mut PgConnection,
    org: OrgId,
    partner: &str,
    supplier_order_id: &str,
    order_number: Option<&str>,
) -> Result<Option<(SupplierOrderRow, Matched)>> {
    let by_id: Option<SupplierOrderRow> = sqlx::query_as(&format!(
        "SELECT {ROW} FROM supplier_orders s JOIN orders o ON o.id = s.order_id
         WHERE s.org_id = $1 AND s.partner = $2
           AND (s.supplier_order_id = $3 OR s.previous_supplier_order_ids @> ARRAY[$3])
         ORDER BY (s.supplier_order_id = $3) DESC LIMIT 1 FOR UPDATE OF s"
    ))
    .bind(org.0)
    .bind(partner)
    .bind(supplier_order_id)
    .fetch_optional(&mut *conn)
    .await?;
    if let Some(row) = by_id {
        return Ok(Some((row, Matched::SupplierId)));
    }
    let Some(number) = order_number else {
        return Ok(None);
    };
    let by_number: Option<SupplierOrderRow> = sqlx::query_as(&format!(
        "SELECT {ROW} FROM supplier_orders s JOIN orders o ON o.id = s.order_id
         WHERE s.org_id = $1 AND s.partner = $2 AND o.order_number = $3 FOR UPDATE OF s"
    ))
    .bind(org.0)
    .bind(partner)
    .bind(number)
    .fetch_optional(conn)
    .await?;
    Ok(by_number.map(|row| (row, Matched::OrderNumber)))
}

/// Give the order the supplier's id `supplier_order_id`; a different id it had before is kept
/// among the previous ones (a reassignment), so late updates naming it still find the order.
pub async fn set_supplier_id(
    conn: &mut PgConnection,
    org: OrgId,
    order: OrderId,
    supplier_order_id: &str,
    forwarded: bool,
    now: DateTime<Utc>,
) -> Result<()> {
    sqlx::query(
        "UPDATE supplier_orders SET
             previous_supplier_order_ids = CASE
                 WHEN supplier_order_id IS NOT NULL AND supplier_order_id <> $3
                      AND NOT previous_supplier_order_ids @> ARRAY[supplier_order_id]
                 THEN previous_supplier_order_ids || supplier_order_id
                 ELSE previous_supplier_order_ids END,
             supplier_order_id = $3,
             forwarded_at = CASE WHEN $4 THEN COALESCE(forwarded_at, $5) ELSE forwarded_at END,
             updated_at = $5
         WHERE org_id = $1 AND order_id = $2",
    )
    .bind(org.0)
    .bind(order.0)
    .bind(supplier_order_id)
    .bind(forwarded)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}

/// A status change to record on a supplier order.
#[derive(Debug, Clone)]
pub struct StatusChange<'a> {
    pub org: OrgId,
    pub order: OrderId,
    pub partner: &'a str,
    pub supplier_order_id: &'a str,
    pub status: &'a str,
    pub previous_status: Option<&'a str>,
    pub supplier_status: &'a str,
    pub tracking_number: Option<&'a str>,
    pub carrier: Option<&'a str>,
    pub supplier_updated_at: DateTime<Utc>,
    pub source: &'a str,
    pub now: DateTime<Utc>,
}

/// Write the change on the order's row and in its history.
pub async fn record_status(conn: &mut PgConnection, c: &StatusChange<'_>) -> Result<()> {
    sqlx::query(
        "UPDATE supplier_orders SET status = $3, supplier_status = $4, tracking_number = $5,
             carrier = $6, supplier_updated_at = $7, updated_at = $8
         WHERE org_id = $1 AND order_id = $2",
    )
    .bind(c.org.0)
    .bind(c.order.0)
    .bind(c.status)
    .bind(c.supplier_status)
    .bind(c.tracking_number)
    .bind(c.carrier)
    .bind(c.supplier_updated_at)
    .bind(c.now)
    .execute(&mut *conn)
    .await?;
    sqlx::query(
        "INSERT INTO supplier_order_history (id, org_id, order_id, partner, supplier_order_id,
             status, previous_status, supplier_status, tracking_number, carrier,
             supplier_updated_at, source, recorded_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
    )
    .bind(Uuid::now_v7())
    .bind(c.org.0)
    .bind(c.order.0)
    .bind(c.partner)
    .bind(c.supplier_order_id)
    .bind(c.status)
    .bind(c.previous_status)
    .bind(c.supplier_status)
    .bind(c.tracking_number)
    .bind(c.carrier)
    .bind(c.supplier_updated_at)
    .bind(c.source)
    .bind(c.now)
    .execute(conn)
    .await?;
    Ok(())
}

/// One row of an order's status history.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct HistoryRow {
    pub supplier_order_id: String,
    pub status: String,
    pub previous_status: Option<String>,
    pub supplier_status: String,
    pub tracking_number: Option<String>,
    pub carrier: Option<String>,
    pub supplier_updated_at: DateTime<Utc>,
    pub source: String,
    pub recorded_at: DateTime<Utc>,
}

/// The order's status changes, oldest first.
pub async fn history(pool: &PgPool, org: OrgId, order: OrderId) -> Result<Vec<HistoryRow>> {
    Ok(sqlx::query_as(
        "SELECT supplier_order_id, status, previous_status, supplier_status, tracking_number,
                carrier, supplier_updated_at, source, recorded_at
         FROM supplier_order_history WHERE org_id = $1 AND order_id = $2
         ORDER BY recorded_at, id",
    )
    .bind(org.0)
    .bind(order.0)
    .fetch_all(pool)
    .await?)
}

/// Set our order's status (the caller decided it moves forward).
pub async fn set_order_status(
    conn: &mut PgConnection,
    org: OrgId,
    order: OrderId,
    status: &str,
    now: DateTime<Utc>,
) -> Result<()> {
    sqlx::query("UPDATE orders SET status = $3, updated_at = $4 WHERE org_id = $1 AND id = $2")
        .bind(org.0)
        .bind(order.0)
        .bind(status)
        .bind(now)
        .execute(conn)
        .await?;
    Ok(())
}

/// Our order's current status, locked (two updates of one order apply one after the other).
pub async fn lock_order_status(
    conn: &mut PgConnection,
    org: OrgId,
    order: OrderId,
) -> Result<Option<String>> {
    Ok(
        sqlx::query_scalar("SELECT status FROM orders WHERE org_id = $1 AND id = $2 FOR UPDATE")
            .bind(org.0)
            .bind(order.0)
            .fetch_optional(conn)
            .await?,
    )
}

/// A status update held for an order not known yet.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct UnmatchedRow {
    pub id: Uuid,
    pub org_id: Uuid,
    pub partner: String,
    pub supplier_order_id: String,
    pub order_number: Option<String>,
    pub update: serde_json::Value,
    pub state: String,
    pub attempts: i32,
    pub last_error: Option<String>,
    pub received_at: DateTime<Utc>,
}

const UNMATCHED: &str = "id, org_id, partner, supplier_order_id, order_number, update, state, \
    attempts, last_error, received_at";

/// A held update to store.
#[derive(Debug, Clone)]
pub struct NewUnmatched<'a> {
    pub org: OrgId,
    pub partner: &'a str,
    pub supplier_order_id: &'a str,
    pub order_number: Option<&'a str>,
    pub status: &'a str,
    pub supplier_updated_at: DateTime<Utc>,
    pub update: serde_json::Value,
    pub now: DateTime<Utc>,
}

/// Hold `u`. A redelivery of an update already held returns the first row's id and `false`.
pub async fn hold(conn: &mut PgConnection, u: &NewUnmatched<'_>) -> Result<(Uuid, bool)> {
    let inserted: Option<Uuid> = sqlx::query_scalar(
        "INSERT INTO supplier_unmatched_updates (id, org_id, partner, supplier_order_id,
             order_number, status, supplier_updated_at, update, received_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
         ON CONFLICT (org_id, partner, supplier_order_id, status, supplier_updated_at) DO NOTHING
         RETURNING id",
    )
    .bind(Uuid::now_v7())
    .bind(u.org.0)
    .bind(u.partner)
    .bind(u.supplier_order_id)
    .bind(u.order_number)
    .bind(u.status)
    .bind(u.supplier_updated_at)
    .bind(&u.update)
    .bind(u.now)
    .fetch_optional(&mut *conn)
    .await?;
    if let Some(id) = inserted {
        return Ok((id, true));
    }
    let id = sqlx::query_scalar(
        "SELECT id FROM supplier_unmatched_updates
         WHERE org_id = $1 AND partner = $2 AND supplier_order_id = $3 AND status = $4
           AND supplier_updated_at = $5",
    )
    .bind(u.org.0)
    .bind(u.partner)
    .bind(u.supplier_order_id)
    .bind(u.status)
    .bind(u.supplier_updated_at)
    .fetch_one(conn)
    .await?;
    Ok((id, false))
}

/// One held update, locked.
pub async fn lock_unmatched(
    conn: &mut PgConnection,
    org: OrgId,
    id: Uuid,
) -> Result<Option<UnmatchedRow>> {
    Ok(sqlx::query_as(&format!(
        "SELECT {UNMATCHED} FROM supplier_unmatched_updates WHERE org_id = $1 AND id = $2 FOR UPDATE"
    ))
    .bind(org.0)
    .bind(id)
    .fetch_optional(conn)
    .await?)
}

/// The held updates of `partner` waiting for an order with one of these supplier ids or this
/// order number, oldest first, locked.
pub async fn waiting_for(
    conn: &mut PgConnection,
    org: OrgId,
    partner: &str,
    supplier_order_ids: &[String],
    order_number: &str,
) -> Result<Vec<UnmatchedRow>> {
    Ok(sqlx::query_as(&format!(
        "SELECT {UNMATCHED} FROM supplier_unmatched_updates
         WHERE org_id = $1 AND partner = $2 AND state = 'waiting'
           AND (supplier_order_id = ANY($3) OR order_number = $4)
         ORDER BY supplier_updated_at, id FOR UPDATE"
    ))
    .bind(org.0)
    .bind(partner)
    .bind(supplier_order_ids)
    .bind(order_number)
    .fetch_all(conn)
    .await?)
}

/// Every held update of the organization (tests, and an admin's look).
pub async fn list_unmatched(pool: &PgPool, org: OrgId) -> Result<Vec<UnmatchedRow>> {
    Ok(sqlx::query_as(&format!(
        "SELECT {UNMATCHED} FROM supplier_unmatched_updates WHERE org_id = $1 ORDER BY received_at, id"
    ))
    .bind(org.0)
    .fetch_all(pool)
    .await?)
}

/// What became of a held update.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnmatchedState {
    Waiting,
    Applied,
    Dead,
}

impl UnmatchedState {
    pub fn as_str(self) -> &'static str {
        match self {
            UnmatchedState::Waiting => "waiting",
            UnmatchedState::Applied => "applied",
            UnmatchedState::Dead => "dead",
        }
    }
}

/// Record an attempt at a held update.
pub async fn mark_unmatched(
    conn: &mut PgConnection,
    id: Uuid,
    state: UnmatchedState,
    error: Option<&str>,
    now: DateTime<Utc>,
) -> Result<()> {
    sqlx::query(
        "UPDATE supplier_unmatched_updates SET state = $2, attempts = attempts + 1,
             last_error = COALESCE($3, last_error),
             resolved_at = CASE WHEN $2 = 'waiting' THEN NULL ELSE $4 END
         WHERE id = $1",
    )
    .bind(id)
    .bind(state.as_str())
    .bind(error)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}

/// A polled supplier's cursor.
pub async fn poll_cursor(pool: &PgPool, org: OrgId, partner: &str) -> Result<Option<String>> {
    Ok(sqlx::query_scalar::<_, Option<String>>(
        "SELECT cursor FROM supplier_poll_state WHERE org_id = $1 AND partner = $2",
    )
    .bind(org.0)
    .bind(partner)
    .fetch_optional(pool)
    .await?
    .flatten())
}

/// Keep a polled supplier's cursor.
pub async fn set_poll_cursor(
    conn: &mut PgConnection,
    org: OrgId,
    partner: &str,
    cursor: Option<&str>,
    now: DateTime<Utc>,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO supplier_poll_state (org_id, partner, cursor, polled_at) VALUES ($1, $2, $3, $4)
         ON CONFLICT (org_id, partner) DO UPDATE SET cursor = EXCLUDED.cursor, polled_at = EXCLUDED.polled_at",
    )
    .bind(org.0)
    .bind(partner)
    .bind(cursor)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}

/// Since when `org` forwards new orders automatically: `now` the first time it is asked.
pub async fn forwarding_since(
    pool: &PgPool,
    org: OrgId,
    now: DateTime<Utc>,
) -> Result<DateTime<Utc>> {
    Ok(sqlx::query_scalar(
        "INSERT INTO supplier_forwarding (org_id, since) VALUES ($1, $2)
         ON CONFLICT (org_id) DO UPDATE SET since = supplier_forwarding.since RETURNING since",
    )
    .bind(org.0)
    .bind(now)
    .fetch_one(pool)
    .await?)
}

/// Orders created since `since`, ready to go (status `pending`) and never queued for a
/// supplier, oldest first.
pub async fn orders_to_forward(
    pool: &PgPool,
    org: OrgId,
    since: DateTime<Utc>,
    limit: i64,
) -> Result<Vec<OrderId>> {
    let ids: Vec<Uuid> = sqlx::query_scalar(
        "SELECT o.id FROM orders o
         WHERE o.org_id = $1 AND o.status = 'pending' AND o.created_at >= $2
           AND NOT EXISTS (SELECT 1 FROM supplier_orders s WHERE s.org_id = o.org_id AND s.order_id = o.id)
         ORDER BY o.created_at, o.id LIMIT $3",
    )
    .bind(org.0)
    .bind(since)
    .bind(limit)
    .fetch_all(pool)
    .await?;
    Ok(ids.into_iter().map(OrderId).collect())
}
