//! Shipments of sales orders (`migrations/0027_shipments_invoices.sql`): what left the
//! warehouse, with carrier and tracking, line by line. [`record`] stores one in the
//! transaction that checks it against the order and moves the order on: a shipment never
//! carries more of a line than was ordered less what earlier shipments carried, and the order
//! becomes `partially_shipped` or, once every line has left in full, `shipped`, with the
//! tracking number added to its canonical `tracking_numbers`. The `shipment.dispatched` event
//! is recorded by the table's trigger in the same transaction.
//!
//! When the order came from a partner that takes shipments (a storefront: the caller decides,
//! through job admission, and passes a [`ShipmentPush`]), the `partner.push` job carrying the
//! canonical `Shipment` is written in that same transaction too (an outbox: no shipment
//! without its push), keyed by the shipment so a re-recorded one never pushes twice.
//! [`update_tracking`] changes a shipment's carrier, tracking number or URL the same way:
//! the row, the order's tracking numbers, `shipment.tracking_updated` (0032's trigger) and
//! a `shipment_tracking` push in one transaction.

use crate::db::{Result, StoreError};
use crate::queue::{NewJob, Queue, RetrySpec};
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::Serialize;
use serde_json::Value;
use sqlx::PgPool;
use std::collections::BTreeMap;
use switchyard_core::ids::{OrderId, OrgId, ShipmentId};
use switchyard_core::model::{Order, OrderStatus, Package, PackageLine, Shipment, Uom};
use uuid::Uuid;

/// One line of a shipment to record: a SKU of the order, and which of its lines when the SKU
/// is on more than one.
#[derive(Debug, Clone, PartialEq)]
pub struct ShipLine {
    pub line_number: Option<u32>,
    pub sku: String,
    pub quantity: Decimal,
}

/// A shipment to record.
#[derive(Debug, Clone, PartialEq)]
pub struct NewShipment {
    pub shipment_number: String,
    pub carrier: Option<String>,
    pub service: Option<String>,
    pub tracking_number: Option<String>,
    pub tracking_url: Option<String>,
    pub shipped_at: DateTime<Utc>,
    pub lines: Vec<ShipLine>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ShipmentLineRow {
    pub line_number: u32,
    pub sku: String,
    pub quantity: Decimal,
}

/// A stored shipment.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ShipmentRow {
    pub id: ShipmentId,
    pub order_id: OrderId,
    pub order_number: String,
    pub shipment_number: String,
    pub carrier: Option<String>,
    pub service: Option<String>,
    pub tracking_number: Option<String>,
    pub tracking_url: Option<String>,
    pub shipped_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
    pub lines: Vec<ShipmentLineRow>,
}

/// What [`record`] did.
#[derive(Debug, Clone, PartialEq)]
pub enum Recorded {
    /// Stored; the order's status after it.
    New(Box<ShipmentRow>, OrderStatus),
    /// The same shipment (number, order and lines) was recorded before: a retry.
    Existing(Box<ShipmentRow>),
}

/// Where a shipment goes: the partner the order came from, admitted by the caller for a
/// `partner.push` of a `shipment` (its adapter declares `push_shipments`), with the retry
/// policy admission gave.
#[derive(Debug, Clone, PartialEq)]
pub struct ShipmentPush {
    pub partner: String,
    pub retry: RetrySpec,
}

/// The partner an order came from (`orders.partner`: the storefront or trading partner it was
/// imported from; none for an order from the API). `None` when the order is not the
/// organization's.
pub async fn order_partner(
    pool: &PgPool,
    org: OrgId,
    order_id: OrderId,
) -> Result<Option<Option<String>>> {
    Ok(
        sqlx::query_scalar("SELECT partner FROM orders WHERE org_id = $1 AND id = $2")
            .bind(org.0)
            .bind(order_id.0)
            .fetch_optional(pool)
            .await?,
    )
}

/// The reference a shipment's pushes carry (`partner.push`'s `reference`): the partner's id
/// for it (a fulfillment, a Magento shipment) is recorded under it by the first push.
pub fn push_reference(id: ShipmentId) -> String {
    format!("shipment:{id}")
}

/// The canonical `Shipment` of a stored shipment as a push body: one package with the
/// tracking number and every line in the order line's unit, plus `shipment_id` and
/// `tracking_url`, which the canonical model has no field for and a storefront shows.
pub fn document(order: &Order, row: &ShipmentRow) -> Value {
    let lines = row
        .lines
        .iter()
        .map(|l| PackageLine {
            sku: l.sku.clone(),
            quantity: l.quantity,
            uom: order
                .lines
                .iter()
                .find(|o| o.line_number == l.line_number)
                .map_or(Uom::Ea, |o| o.uom),
        })
        .collect();
    let shipment = Shipment {
        shipment_number: row.shipment_number.clone(),
        order_number: row.order_number.clone(),
        customer_po: order.customer_po.clone(),
        customer_po_date: None,
        carrier: row.carrier.clone(),
        service: row.service.clone(),
        shipped_at: Some(row.shipped_at),
        packages: vec![Package {
            sscc: None,
            tracking_number: row.tracking_number.clone(),
            weight: None,
            weight_uom: None,
            lines,
        }],
        events: Vec::new(),
    };
    let mut body = serde_json::to_value(shipment).unwrap_or_default();
    if let Value::Object(m) = &mut body {
        m.insert("shipment_id".into(), Value::String(row.id.to_string()));
        m.insert(
            "tracking_url".into(),
            row.tracking_url.clone().map_or(Value::Null, Value::String),
        );
    }
    body
}

/// Write the push of `document` (`shipment` or `shipment_tracking`) of `row` in the caller's
/// transaction, keyed by `key`.
async fn insert_push(
    tx: &mut sqlx::PgConnection,
    org: OrgId,
    push: &ShipmentPush,
    document_name: &str,
    shipment: ShipmentId,
    key: String,
    body: Value,
) -> Result<()> {
    let job = NewJob::new(
        org,
        "partner.push",
        serde_json::json!({"document": document_name, "body": body,
            "reference": push_reference(shipment)}),
    )
    .partner(push.partner.clone())
    .key(key)
    .retry(push.retry);
    Queue::insert_job(&mut *tx, &job, Utc::now()).await?;
    Ok(())
}

/// The states an order can ship from.
const SHIPPABLE: [OrderStatus; 5] = [
    OrderStatus::Pending,
    OrderStatus::Confirmed,
    OrderStatus::InProduction,
    OrderStatus::Ready,
    OrderStatus::PartiallyShipped,
];

/// Record shipment `s` of order `order_id`. Errors: the order is missing (`NotFound`), not in
/// a state it can ship from or the shipment number names a different shipment (`Conflict`),
/// a line the order does not have or more than is left to ship (`Invalid`, naming
/// `lines[i].FIELD`).
pub async fn record(
    pool: &PgPool,
    org: OrgId,
    order_id: OrderId,
    s: &NewShipment,
) -> Result<Recorded> {
    record_and_push(pool, org, order_id, s, None).await
}

/// [`record`], and when `push` names the order's partner, its `partner.push` of the
/// shipment in the same transaction (keyed `shipment:{id}`; a retry of the same shipment
/// finds the shipment and writes nothing).
pub async fn record_and_push(
    pool: &PgPool,
    org: OrgId,
    order_id: OrderId,
    s: &NewShipment,
    push: Option<&ShipmentPush>,
) -> Result<Recorded> {
    let mut tx = crate::begin(pool).await?;
    // The order's row lock serializes shipments of one order: two concurrent shipments
    // cannot both take the last units of a line.
    let order: Option<(String, String, Value)> = sqlx::query_as(
        "SELECT order_number, status, canonical FROM orders
         WHERE org_id = $1 AND id = $2 FOR UPDATE",
    )
    .bind(org.0)
    .bind(order_id.0)
    .fetch_optional(&mut *tx)
    .await?;
    let (order_number, status, canonical) = order.ok_or(StoreError::NotFound("order"))?;
    if let Some(existing) = by_number(&mut tx, org, &s.shipment_number).await? {
        return if existing.order_id == order_id && same_lines(&existing, s) {
            Ok(Recorded::Existing(Box::new(existing)))
        } else {
            Err(StoreError::Conflict(format!(
                "shipment number {} is already recorded for order {} with other lines",
                s.shipment_number, existing.order_number
            )))
        };
    }
    let status = OrderStatus::parse(&status)
        .ok_or_else(|| StoreError::Invalid(format!("order status `{status}`")))?;
    if !SHIPPABLE.contains(&status) {
        return Err(StoreError::Conflict(format!(
            "order {order_number} is {}; only {} orders can ship",
            status.as_str(),
            SHIPPABLE.map(OrderStatus::as_str).join(", ")
        )));
    }
    let order: Order = serde_json::from_value(canonical)
        .map_err(|e| StoreError::Invalid(format!("stored order {order_id}: {e}")))?;
    let mut shipped = shipped_so_far(&mut tx, org, order_id).await?;
    let lines = resolve_lines(&order, &shipped, &s.lines)?;

    let id = ShipmentId::new();
    let created_at: DateTime<Utc> = sqlx::query_scalar(
        "INSERT INTO shipments (id, org_id, order_id, shipment_number, carrier, service,
             tracking_number, tracking_url, shipped_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING created_at",
    )
    .bind(id.0)
    .bind(org.0)
    .bind(order_id.0)
    .bind(&s.shipment_number)
    .bind(&s.carrier)
    .bind(&s.service)
    .bind(&s.tracking_number)
    .bind(&s.tracking_url)
    .bind(s.shipped_at)
    .fetch_one(&mut *tx)
    .await?;
    for l in &lines {
        sqlx::query(
            "INSERT INTO shipment_lines (shipment_id, org_id, line_number, sku, quantity)
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(id.0)
        .bind(org.0)
        .bind(l.line_number as i32)
        .bind(&l.sku)
        .bind(l.quantity)
        .execute(&mut *tx)
        .await?;
        *shipped.entry(l.line_number).or_default() += l.quantity;
    }
    let complete = order
        .lines
        .iter()
        .all(|l| shipped.get(&l.line_number).copied().unwrap_or_default() >= l.quantity);
    let next = if complete {
        OrderStatus::Shipped
    } else {
        OrderStatus::PartiallyShipped
    };
    // The order's own status and tracking numbers follow (its `order.updated` event names
    // them); the tracking number is added once however many shipments carry it.
    sqlx::query(
        "UPDATE orders SET status = $3,
             canonical = jsonb_set(canonical, '{status}', to_jsonb($3::text))
                 || CASE WHEN $4::text IS NULL
                           OR COALESCE(canonical->'tracking_numbers', '[]'::jsonb) ? $4
                         THEN '{}'::jsonb
                         ELSE jsonb_build_object('tracking_numbers',
                              COALESCE(canonical->'tracking_numbers', '[]'::jsonb) || to_jsonb($4::text))
                    END,
             updated_at = now()
         WHERE org_id = $1 AND id = $2",
    )
    .bind(org.0)
    .bind(order_id.0)
    .bind(next.as_str())
    .bind(&s.tracking_number)
    .execute(&mut *tx)
    .await?;
    let row = ShipmentRow {
        id,
        order_id,
        order_number,
        shipment_number: s.shipment_number.clone(),
        carrier: s.carrier.clone(),
        service: s.service.clone(),
        tracking_number: s.tracking_number.clone(),
        tracking_url: s.tracking_url.clone(),
        shipped_at: s.shipped_at,
        created_at,
        lines,
    };
    if let Some(push) = push {
        let body = document(&order, &row);
        insert_push(&mut tx, org, push, "shipment", id, push_reference(id), body).await?;
    }
    tx.commit().await?;
    Ok(Recorded::New(Box::new(row), next))
}

/// A shipment's new carrier, tracking number and URL (each replaces what was stored; `None`
/// clears it).
#[derive(Debug, Clone, PartialEq)]
pub struct TrackingChange {
    pub carrier: Option<String>,
    pub tracking_number: Option<String>,
    pub tracking_url: Option<String>,
}

/// What [`update_tracking`] did.
#[derive(Debug, Clone, PartialEq)]
pub enum TrackingUpdate {
    /// Stored, with its event (and push, when asked for).
    Changed(Box<ShipmentRow>),
    /// The shipment already had this tracking: nothing written, nothing pushed.
    Unchanged(Box<ShipmentRow>),
}

/// Change the tracking of shipment `shipment_id` of order `order_id`: the row (whose trigger
/// records `shipment.tracking_updated`), the order's `tracking_numbers` (the old number
/// replaced by the new one unless another shipment of the order still carries it), and, when
/// `push` is given, a `partner.push` of a `shipment_tracking` document keyed by the change's
/// version — all in one transaction. `NotFound` when the order or the shipment is missing.
pub async fn update_tracking(
    pool: &PgPool,
    org: OrgId,
    order_id: OrderId,
    shipment_id: ShipmentId,
    change: &TrackingChange,
    push: Option<&ShipmentPush>,
) -> Result<TrackingUpdate> {
    let mut tx = crate::begin(pool).await?;
    // The order first, as `record` locks it: the two never wait on each other crosswise.
    let canonical: Option<Value> =
        sqlx::query_scalar("SELECT canonical FROM orders WHERE org_id = $1 AND id = $2 FOR UPDATE")
            .bind(org.0)
            .bind(order_id.0)
            .fetch_optional(&mut *tx)
            .await?;
    let canonical = canonical.ok_or(StoreError::NotFound("order"))?;
    let raw: Option<RawShipment> = sqlx::query_as(&format!(
        "{SELECT} WHERE s.org_id = $1 AND s.order_id = $2 AND s.id = $3"
    ))
    .bind(org.0)
    .bind(order_id.0)
    .bind(shipment_id.0)
    .fetch_optional(&mut *tx)
    .await?;
    let raw = raw.ok_or(StoreError::NotFound("shipment"))?;
    let mut row = with_lines(&mut tx, vec![raw])
        .await?
        .pop()
        .ok_or(StoreError::NotFound("shipment"))?;
    if (&row.carrier, &row.tracking_number, &row.tracking_url)
        == (
            &change.carrier,
            &change.tracking_number,
            &change.tracking_url,
        )
    {
        return Ok(TrackingUpdate::Unchanged(Box::new(row)));
    }
    let version: i32 = sqlx::query_scalar(
        "UPDATE shipments SET carrier = $3, tracking_number = $4, tracking_url = $5,
             tracking_version = tracking_version + 1
         WHERE org_id = $1 AND id = $2 RETURNING tracking_version",
    )
    .bind(org.0)
    .bind(shipment_id.0)
    .bind(&change.carrier)
    .bind(&change.tracking_number)
    .bind(&change.tracking_url)
    .fetch_one(&mut *tx)
    .await?;
    let old = row.tracking_number.clone();
    // The old number stays on the order while another of its shipments carries it.
    let old_still_used: bool = match &old {
        Some(n) => {
            sqlx::query_scalar(
                "SELECT EXISTS (SELECT 1 FROM shipments
                 WHERE org_id = $1 AND order_id = $2 AND tracking_number = $3)",
            )
            .bind(org.0)
            .bind(order_id.0)
            .bind(n)
            .fetch_one(&mut *tx)
            .await?
        }
        None => true,
    };
    let mut numbers: Vec<String> = canonical["tracking_numbers"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|v| v.as_str().map(str::to_owned))
        .filter(|n| old_still_used || Some(n) != old.as_ref())
        .collect();
    if let Some(n) = &change.tracking_number {
        if !numbers.contains(n) {
            numbers.push(n.clone());
        }
    }
    sqlx::query(
        "UPDATE orders SET canonical = jsonb_set(canonical, '{tracking_numbers}', $3),
             updated_at = now()
         WHERE org_id = $1 AND id = $2
           AND COALESCE(canonical->'tracking_numbers', '[]'::jsonb) IS DISTINCT FROM $3",
    )
    .bind(org.0)
    .bind(order_id.0)
    .bind(serde_json::json!(numbers))
    .execute(&mut *tx)
    .await?;
    row.carrier = change.carrier.clone();
    row.tracking_number = change.tracking_number.clone();
    row.tracking_url = change.tracking_url.clone();
    if let Some(push) = push {
        let order: Order = serde_json::from_value(canonical)
            .map_err(|e| StoreError::Invalid(format!("stored order {order_id}: {e}")))?;
        let mut body = document(&order, &row);
        if let Value::Object(m) = &mut body {
            m.insert(
                "previous_tracking_number".into(),
                old.map_or(Value::Null, Value::String),
            );
        }
        let key = format!("{}:tracking:{version}", push_reference(shipment_id));
        insert_push(
            &mut tx,
            org,
            push,
            "shipment_tracking",
            shipment_id,
            key,
            body,
        )
        .await?;
    }
    tx.commit().await?;
    Ok(TrackingUpdate::Changed(Box::new(row)))
}

/// Each requested line matched to its order line and checked against what is left to ship.
fn resolve_lines(
    order: &Order,
    shipped: &BTreeMap<u32, Decimal>,
    lines: &[ShipLine],
) -> Result<Vec<ShipmentLineRow>> {
    if lines.is_empty() {
        return Err(StoreError::Invalid(
            "lines: a shipment carries at least one line".into(),
        ));
    }
    let mut out: Vec<ShipmentLineRow> = Vec::new();
    for (i, l) in lines.iter().enumerate() {
        let sku = l.sku.trim();
        let line = match l.line_number {
            Some(n) => order
                .lines
                .iter()
                .find(|o| o.line_number == n)
                .ok_or_else(|| {
                    StoreError::Invalid(format!(
                        "lines[{i}].line_number: order {} has no line {n}",
                        order.order_number
                    ))
                })?,
            None => order.lines.iter().find(|o| o.sku == sku).ok_or_else(|| {
                StoreError::Invalid(format!(
                    "lines[{i}].sku: `{sku}` is not on order {}",
                    order.order_number
                ))
            })?,
        };
        if line.sku != sku {
            return Err(StoreError::Invalid(format!(
                "lines[{i}].sku: line {} of order {} is `{}`, not `{sku}`",
                line.line_number, order.order_number, line.sku
            )));
        }
        if l.quantity <= Decimal::ZERO {
            return Err(StoreError::Invalid(format!(
                "lines[{i}].quantity: must be greater than zero, got {}",
                l.quantity.normalize()
            )));
        }
        if out.iter().any(|o| o.line_number == line.line_number) {
            return Err(StoreError::Invalid(format!(
                "lines[{i}]: line {} is listed twice; give its quantity once",
                line.line_number
            )));
        }
        let before = shipped.get(&line.line_number).copied().unwrap_or_default();
        let left = line.quantity - before;
        if l.quantity > left {
            return Err(StoreError::Invalid(format!(
                "lines[{i}].quantity: {} is more than is left to ship of line {} ({} ordered, {} shipped already, {} left)",
                l.quantity.normalize(),
                line.line_number,
                line.quantity.normalize(),
                before.normalize(),
                left.max(Decimal::ZERO).normalize()
            )));
        }
        out.push(ShipmentLineRow {
            line_number: line.line_number,
            sku: line.sku.clone(),
            quantity: l.quantity,
        });
    }
    Ok(out)
}

fn same_lines(existing: &ShipmentRow, s: &NewShipment) -> bool {
    existing.lines.len() == s.lines.len()
        && s.lines.iter().all(|l| {
            existing.lines.iter().any(|e| {
                e.sku == l.sku.trim()
                    && e.quantity == l.quantity
                    && l.line_number.is_none_or(|n| n == e.line_number)
            })
        })
}

/// Quantity shipped so far per order line.
async fn shipped_so_far(
    db: &mut sqlx::PgConnection,
    org: OrgId,
    order_id: OrderId,
) -> Result<BTreeMap<u32, Decimal>> {
    let rows: Vec<(i32, Decimal)> = sqlx::query_as(
        "SELECT l.line_number, sum(l.quantity) FROM shipment_lines l
         JOIN shipments s ON s.id = l.shipment_id
         WHERE s.org_id = $1 AND s.order_id = $2 GROUP BY l.line_number",
    )
    .bind(org.0)
    .bind(order_id.0)
    .fetch_all(db)
    .await?;
    Ok(rows.into_iter().map(|(n, q)| (n as u32, q)).collect())
}

#[derive(sqlx::FromRow)]
struct RawShipment {
    id: Uuid,
    order_id: Uuid,
    order_number: String,
    shipment_number: String,
    carrier: Option<String>,
    service: Option<String>,
    tracking_number: Option<String>,
    tracking_url: Option<String>,
    shipped_at: DateTime<Utc>,
    created_at: DateTime<Utc>,
}

const SELECT: &str = "SELECT s.id, s.order_id, o.order_number, s.shipment_number, s.carrier,
    s.service, s.tracking_number, s.tracking_url, s.shipped_at, s.created_at
    FROM shipments s JOIN orders o ON o.id = s.order_id";

async fn with_lines(
    db: &mut sqlx::PgConnection,
    raw: Vec<RawShipment>,
) -> Result<Vec<ShipmentRow>> {
    let ids: Vec<Uuid> = raw.iter().map(|r| r.id).collect();
    let lines: Vec<(Uuid, i32, String, Decimal)> = sqlx::query_as(
        "SELECT shipment_id, line_number, sku, quantity FROM shipment_lines
         WHERE shipment_id = ANY($1) ORDER BY shipment_id, line_number",
    )
    .bind(&ids)
    .fetch_all(db)
    .await?;
    Ok(raw
        .into_iter()
        .map(|r| ShipmentRow {
            lines: lines
                .iter()
                .filter(|(s, ..)| *s == r.id)
                .map(|(_, n, sku, q)| ShipmentLineRow {
                    line_number: *n as u32,
                    sku: sku.clone(),
                    quantity: *q,
                })
                .collect(),
            id: ShipmentId(r.id),
            order_id: OrderId(r.order_id),
            order_number: r.order_number,
            shipment_number: r.shipment_number,
            carrier: r.carrier,
            service: r.service,
            tracking_number: r.tracking_number,
            tracking_url: r.tracking_url,
            shipped_at: r.shipped_at,
            created_at: r.created_at,
        })
        .collect())
}

async fn by_number(
    db: &mut sqlx::PgConnection,
    org: OrgId,
    number: &str,
) -> Result<Option<ShipmentRow>> {
    let raw: Vec<RawShipment> = sqlx::query_as(&format!(
        "{SELECT} WHERE s.org_id = $1 AND s.shipment_number = $2"
    ))
    .bind(org.0)
    .bind(number)
    .fetch_all(&mut *db)
    .await?;
    Ok(with_lines(db, raw).await?.pop())
}

/// The shipments of one order, oldest first (`None` when the order is not the
/// organization's).
pub async fn for_order(
    pool: &PgPool,
    org: OrgId,
    order_id: OrderId,
) -> Result<Option<Vec<ShipmentRow>>> {
    let mut db = pool.acquire().await?;
    let known: bool =
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM orders WHERE org_id = $1 AND id = $2)")
            .bind(org.0)
            .bind(order_id.0)
            .fetch_one(&mut *db)
            .await?;
    if !known {
        return Ok(None);
    }
    let raw: Vec<RawShipment> = sqlx::query_as(&format!(
        "{SELECT} WHERE s.org_id = $1 AND s.order_id = $2 ORDER BY s.created_at, s.id"
    ))
    .bind(org.0)
    .bind(order_id.0)
    .fetch_all(&mut *db)
    .await?;
    Ok(Some(with_lines(&mut db, raw).await?))
}
