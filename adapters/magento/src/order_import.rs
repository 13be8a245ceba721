//! Orders in, the hub side: `magento.order.import` turns one Magento order (from the pull)
//! into a canonical order through `mappings/magento/order.in`. A failure (the mapping refuses
//! the order, a line's SKU is not one of our products) fails the job permanently: a dead letter
//! carrying the order and the reason, naming the field; replayed after the fix, it imports.
//!
//! Idempotent by the order's `increment_id`: the stored order's number is
//! `MAGENTO-{increment_id}` (unique per organization), so a redelivered job or a re-pull of the
//! same order stores one order. A newer version (by `updated_at`, kept in the stored mapped
//! record) replaces the canonical order (an edit), and moves its status only when the store's
//! state changed (`crate::store_state`: canceled, holded, released); an older or equal one
//! changes nothing.

use chrono::{DateTime, NaiveDateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::str::FromStr;
use switchyard_core::error::AdapterError;
use switchyard_core::ids::{OrderId, OrgId};
use switchyard_core::model::{Address, Order, OrderLine, Uom};
use switchyard_core::JobPayload;
use switchyard_runtime::context::JobContext;
use switchyard_runtime::job::Job;
use switchyard_store::orders::{self, NewOrder, OrderInsert, OrderUpdate, ProductRef};
use switchyard_store::queue::ClaimedJob;
use tracing::{info, info_span, Instrument};

use crate::orders::MAGENTO_TIME;

pub const MAPPING: &str = "magento/order.in";

/// The stored order number prefix; the shipment push finds the Magento order by what follows.
pub const ORDER_PREFIX: &str = "MAGENTO-";

/// The job's payload: the partner and the order as Magento listed it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ImportOrder {
    pub partner: String,
    pub order: Value,
}

impl JobPayload for ImportOrder {
    const KIND: &'static str = "magento.order.import";
}

/// What the mapping produces (`mappings/magento/order.in.toml`).
#[derive(Debug, Deserialize)]
struct Intake {
    increment_id: String,
    updated_at: String,
    state: String,
    currency: String,
    ordered_at: Option<DateTime<Utc>>,
    shipping_address: Option<Address>,
    lines: Vec<IntakeLine>,
}

#[derive(Debug, Deserialize)]
struct IntakeLine {
    buyer_line: String,
    sku: String,
    description: Option<String>,
    quantity: String,
    unit_price: String,
}

/// What an import did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Created(OrderId),
    /// A newer version replaced the stored order (an edit or a cancellation).
    Updated(OrderId),
    /// The stored order is this version or a newer one.
    Unchanged(OrderId),
}

/// The stored order number of a Magento order: its idempotency key.
pub fn order_number(increment_id: &str) -> String {
    format!("{ORDER_PREFIX}{increment_id}")
}

fn updated_at(intake: &Intake) -> Result<NaiveDateTime, String> {
    NaiveDateTime::parse_from_str(&intake.updated_at, MAGENTO_TIME)
        .map_err(|e| format!("updated_at `{}`: {e} (field updated_at)", intake.updated_at))
}

/// Map and check `order`: the canonical order, the intake, the mapped record and the
/// mapping's hash.
async fn build(
    ctx: &JobContext,
    org: OrgId,
    order: &Value,
) -> Result<(Order, Intake, Value, String), AdapterError> {
    let id = order["increment_id"]
        .as_str()
        .map(str::to_owned)
        .unwrap_or_else(|| order["entity_id"].to_string());
    let refuse = |m: String| AdapterError::permanent(format!("Magento order `{id}`: {m}"));
    let mapping = ctx.mapping(MAPPING, None)?;
    let mapped = mapping
        .map_record(order, &mut switchyard_mapping::RunState::default())
        .map_err(|e| refuse(format!("mapping {MAPPING}: {e}")))?;
    let intake: Intake = serde_json::from_value(mapped.clone()).map_err(|e| {
        refuse(format!(
            "mapping {MAPPING} produced an unusable record: {e}"
        ))
    })?;
    updated_at(&intake).map_err(refuse)?;
    let mut lines = Vec::with_capacity(intake.lines.len());
    for (i, l) in intake.lines.iter().enumerate() {
        let n = i + 1;
        let known = orders::find_product(ctx.pool(), org, ProductRef::Sku(&l.sku))
            .await
            .map_err(|e| AdapterError::transient(format!("looking up a SKU: {e}")))?;
        if known.is_none() {
            return Err(refuse(format!(
                "line {n} (item {}): unknown SKU `{}` (field lines[{n}].sku)",
                l.buyer_line, l.sku
            )));
        }
        let dec = |field: &str, v: &str| {
            Decimal::from_str(v).map_err(|e| {
                refuse(format!(
                    "line {n}: {field} `{v}`: {e} (field lines[{n}].{field})"
                ))
            })
        };
        lines.push(OrderLine {
            line_number: n as u32,
            buyer_line: Some(l.buyer_line.clone()),
            sku: l.sku.clone(),
            buyer_part: None,
            gtin: None,
            description: l.description.clone(),
            quantity: dec("quantity", &l.quantity)?,
            uom: Uom::Ea,
            unit_price: dec("unit_price", &l.unit_price)?,
            requested_date: None,
        });
    }
    let canonical = Order {
        order_number: order_number(&intake.increment_id),
        customer_id: String::new(),
        status: crate::store_state::on_insert(&intake.state),
        currency: intake.currency.clone(),
        ordered_at: intake.ordered_at,
        requested_delivery: None,
        lines,
        billing_address: None,
        shipping_address: intake.shipping_address.clone(),
        supplier_order_ref: None,
        customer_po: Some(intake.increment_id.clone()),
        tracking_numbers: Vec::new(),
        parties: Vec::new(),
    };
    Ok((canonical, intake, mapped, mapping.hash.clone()))
}

/// Import one Magento order (see the module doc).
pub async fn import(
    ctx: &JobContext,
    org: OrgId,
    p: &ImportOrder,
) -> Result<Outcome, AdapterError> {
    let pool = ctx.pool();
    let (order, intake, mapped, hash) = build(ctx, org, &p.order).await?;
    let canonical = serde_json::to_value(&order)
        .map_err(|e| AdapterError::permanent(format!("serializing the order: {e}")))?;
    let new = NewOrder {
        org,
        order_number: order.order_number.clone(),
        customer_id: None,
        customer_po: intake.increment_id.clone(),
        status: order.status,
        canonical: canonical.clone(),
        source_message_id: None,
        partner: Some(p.partner.clone()),
        source_set: Some(intake.increment_id.clone()),
        mapped: Some(mapped.clone()),
        mapping_hash: Some(hash.clone()),
        review_errors: Vec::new(),
        reply_to: None,
    };
    let existing = match orders::insert_order(pool, &new)
        .await
        .map_err(|e| AdapterError::transient(format!("storing the order: {e}")))?
    {
        OrderInsert::Stored(id) => {
            info!(order = %id, increment_id = %intake.increment_id, "Magento order stored");
            return Ok(Outcome::Created(id));
        }
        OrderInsert::Existing(row) => row,
    };
    // Both sides are Magento's `Y-m-d H:i:s`, the stored one from the mapped record.
    let stored_at = existing
        .mapped
        .as_ref()
        .and_then(|m| m["updated_at"].as_str())
        .and_then(|s| NaiveDateTime::parse_from_str(s, MAGENTO_TIME).ok());
    let incoming_at = updated_at(&intake).map_err(AdapterError::permanent)?;
    if stored_at.is_some_and(|s| s >= incoming_at) {
        return Ok(Outcome::Unchanged(existing.id));
    }
    let before = existing.mapped.as_ref().and_then(|m| m["state"].as_str());
    let status =
        crate::store_state::on_update(existing.status, existing.held_from, before, &intake.state);
    let mut canonical = canonical;
    canonical["status"] = serde_json::json!(status.as_str());
    let update = OrderUpdate {
        customer_id: existing.customer_id.clone(),
        customer_po: intake.increment_id.clone(),
        status,
        canonical,
        review_errors: Vec::new(),
        mapped: Some((mapped, hash)),
    };
    let row = orders::update(pool, org, existing.id, existing.status, &update)
        .await
        .map_err(|e| match e {
            switchyard_store::StoreError::Invalid(m) => {
                AdapterError::permanent(format!("Magento order `{}`: {m}", intake.increment_id))
            }
            other => AdapterError::transient(format!("updating the order: {other}")),
        })?;
    info!(order = %row.id, status = row.status.as_str(), "Magento order updated");
    Ok(Outcome::Updated(row.id))
}

pub struct OrderImportJob;

#[async_trait::async_trait]
impl Job for OrderImportJob {
    type Payload = ImportOrder;

    async fn run(
        &self,
        ctx: &JobContext,
        job: &ClaimedJob,
        p: ImportOrder,
    ) -> Result<(), AdapterError> {
        let span = info_span!("magento.order.import", partner = %p.partner, job = %job.id);
        import(ctx, job.org_id, &p)
            .instrument(span)
            .await
            .map(|_| ())
    }
}
