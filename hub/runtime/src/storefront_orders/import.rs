//! `PARTNER.order.import` (payload `{"partner", "order"}`): one storefront order (from the
//! pull or a webhook) into a canonical order through the storefront's mapping
//! ([`Storefront::MAPPING`]). A failure (the mapping refuses the order, a line's SKU is not one
//! of our products) fails the job permanently, which makes it a dead letter carrying the order
//! and the reason, naming the field; replaying it after the fix (the product created) imports
//! it.
//!
//! Idempotent by the storefront's order id: the stored order's number is
//! `{ORDER_PREFIX}{id}` (unique per organization), so a redelivered job, a webhook and a pull
//! of the same order store one order. A newer version (by its `updated_at`, kept in the stored
//! mapped record) replaces the canonical order (an edit) or cancels it (as the storefront's
//! [`Storefront::head`] says); an older or equal one changes nothing.

use super::Storefront;
use crate::context::JobContext;
use crate::job::Job;
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::marker::PhantomData;
use std::str::FromStr;
use switchyard_core::error::AdapterError;
use switchyard_core::ids::{OrderId, OrgId};
use switchyard_core::model::{Address, Order, OrderLine, OrderStatus, Uom};
use switchyard_core::JobPayload;
use switchyard_store::orders::{self, NewOrder, OrderInsert, OrderUpdate, ProductRef};
use switchyard_store::queue::ClaimedJob;
use tracing::{info, Instrument};

/// The job's payload: the partner and the order as the storefront sent it.
#[derive(Serialize, Deserialize)]
// The marker carries only the kind: no bound on `S` for the payload's own (de)serializing.
#[serde(bound = "")]
pub struct ImportOrder<S> {
    pub partner: String,
    pub order: Value,
    #[serde(skip)]
    of: PhantomData<fn() -> S>,
}

impl<S> ImportOrder<S> {
    pub fn new(partner: impl Into<String>, order: Value) -> Self {
        Self {
            partner: partner.into(),
            order,
            of: PhantomData,
        }
    }
}

impl<S: Storefront> JobPayload for ImportOrder<S> {
    const KIND: &'static str = S::IMPORT_KIND;
}

/// The storefront's own part of the mapped record, said the same way for every storefront.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Head {
    /// The storefront's id of the order: the stored number's key and the order's source set.
    pub id: String,
    /// The customer's reference (the order's number in the storefront).
    pub customer_po: String,
    /// Confirmed, or cancelled when the storefront says so.
    pub status: OrderStatus,
}

/// What every storefront's order mapping produces besides its [`Head`].
#[derive(Debug, Deserialize)]
struct Intake {
    updated_at: String,
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

/// The stored order number of a storefront's order: its idempotency key.
pub fn order_number<S: Storefront>(id: &str) -> String {
    format!("{}{}", S::ORDER_PREFIX, S::number_key(id))
}

/// An order mapped and checked.
struct Built {
    order: Order,
    head: Head,
    version: DateTime<Utc>,
    mapped: Value,
    hash: String,
}

/// Map and check `order`: the canonical order, the head, the version, the mapped record and
/// the mapping's hash, or why not.
async fn build<S: Storefront>(
    ctx: &JobContext,
    org: OrgId,
    order: &Value,
) -> Result<Built, AdapterError> {
    let id = S::order_ref(order);
    let refuse = |m: String| AdapterError::permanent(format!("{} order `{id}`: {m}", S::NAME));
    let mapping = ctx.mapping(S::MAPPING, None)?;
    let mapped = mapping
        .map_record(order, &mut switchyard_mapping::RunState::default())
        .map_err(|e| refuse(format!("mapping {}: {e}", S::MAPPING)))?;
    let unusable = |e: serde_json::Error| {
        refuse(format!(
            "mapping {} produced an unusable record: {e}",
            S::MAPPING
        ))
    };
    let intake = Intake::deserialize(&mapped).map_err(unusable)?;
    let head = S::head(&mapped).map_err(unusable)?;
    // Checked before anything is stored: a version that cannot be compared would refuse every
    // later version of the order.
    let version = S::version(&intake.updated_at).map_err(|e| {
        refuse(format!(
            "{} `{}`: {e} (field updated_at)",
            S::VERSION_FIELD,
            intake.updated_at
        ))
    })?;
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
        order_number: order_number::<S>(&head.id),
        customer_id: String::new(),
        status: head.status,
        currency: intake.currency,
        ordered_at: intake.ordered_at,
        requested_delivery: None,
        lines,
        billing_address: None,
        shipping_address: intake.shipping_address,
        supplier_order_ref: None,
        customer_po: Some(head.customer_po.clone()),
        tracking_numbers: Vec::new(),
        parties: Vec::new(),
    };
    Ok(Built {
        order: canonical,
        head,
        version,
        mapped,
        hash: mapping.hash.clone(),
    })
}

/// Import one storefront order (see the module doc).
pub async fn import<S: Storefront>(
    ctx: &JobContext,
    org: OrgId,
    p: &ImportOrder<S>,
) -> Result<Outcome, AdapterError> {
    let pool = ctx.pool();
    let Built {
        order,
        head,
        version: incoming_at,
        mapped,
        hash,
    } = build::<S>(ctx, org, &p.order).await?;
    let canonical = serde_json::to_value(&order)
        .map_err(|e| AdapterError::permanent(format!("serializing the order: {e}")))?;
    let new = NewOrder {
        org,
        order_number: order.order_number.clone(),
        customer_id: None,
        customer_po: head.customer_po.clone(),
        status: order.status,
        canonical: canonical.clone(),
        source_message_id: None,
        partner: Some(p.partner.clone()),
        source_set: Some(head.id.clone()),
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
            info!(order = %id, source = %head.id, "{} order stored", S::NAME);
            return Ok(Outcome::Created(id));
        }
        OrderInsert::Existing(row) => row,
    };
    // Both sides are the storefront's own format ([`Storefront::version`]), the stored one
    // from the mapped record.
    let stored_at = existing
        .mapped
        .as_ref()
        .and_then(|m| m["updated_at"].as_str())
        .and_then(|s| S::version(s).ok());
    if stored_at.is_some_and(|s| s >= incoming_at) {
        return Ok(Outcome::Unchanged(existing.id));
    }
    let status = S::status_on_update(
        existing.status,
        existing.held_from,
        existing.mapped.as_ref(),
        &mapped,
        order.status,
    );
    let mut canonical = canonical;
    canonical["status"] = serde_json::json!(status.as_str());
    let update = OrderUpdate {
        customer_id: existing.customer_id.clone(),
        customer_po: head.customer_po.clone(),
        status,
        canonical,
        review_errors: Vec::new(),
        mapped: Some((mapped, hash)),
    };
    let row = orders::update(pool, org, existing.id, existing.status, &update)
        .await
        .map_err(|e| match e {
            switchyard_store::StoreError::Invalid(m) => {
                AdapterError::permanent(format!("{} order `{}`: {m}", S::NAME, head.id))
            }
            other => AdapterError::transient(format!("updating the order: {other}")),
        })?;
    info!(order = %row.id, status = row.status.as_str(), "{} order updated", S::NAME);
    Ok(Outcome::Updated(row.id))
}

/// The import job of one storefront kind.
pub struct OrderImportJob<S>(PhantomData<fn() -> S>);

impl<S> Default for OrderImportJob<S> {
    fn default() -> Self {
        Self(PhantomData)
    }
}

#[async_trait::async_trait]
impl<S: Storefront> Job for OrderImportJob<S> {
    type Payload = ImportOrder<S>;

    async fn run(
        &self,
        ctx: &JobContext,
        job: &ClaimedJob,
        p: ImportOrder<S>,
    ) -> Result<(), AdapterError> {
        import(ctx, job.org_id, &p)
            .instrument(super::span(S::IMPORT_KIND, &p.partner, job))
            .await
            .map(|_| ())
    }
}
