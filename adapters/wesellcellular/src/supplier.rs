//! Sales orders: placed with `POST /sales-orders`, read with `GET /sales-orders/{n}`, and
//! their changes polled with `GET /sales-orders?updatedSince=&page=` (the tenant sends no
//! webhooks).

use crate::client::{segment, Call, Client};
use crate::wire::{self, OrderStatus, Page, SalesOrder};
use chrono::{DateTime, SecondsFormat, Utc};
use reqwest::Method;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeSet;
use switchyard_core::adapter::{AdapterContext, OutboundDocument, Payload};
use switchyard_core::supplier::{
    StatusChanges, StatusUpdate, SupplierOrderAck, SupplierOrderRef, Tracking,
};
use switchyard_core::AdapterError;

/// Place the order `doc` (the `wesellcellular/order.out` mapping's sales order body). Our order
/// number travels as its `buyerReference`, which the tenant dedupes on: placing it again
/// answers the first order (200 instead of 201) and places nothing.
pub async fn create_order(
    client: &Client,
    ctx: &AdapterContext,
    doc: &OutboundDocument,
) -> Result<SupplierOrderAck, AdapterError> {
    let Payload::Json { body } = &doc.payload else {
        return Err(AdapterError::permanent(
            "a WesellCellular sales order must be a JSON document",
        ));
    };
    let reference = body
        .get(wire::BUYER_REFERENCE)
        .and_then(Value::as_str)
        .map(str::trim)
        .unwrap_or_default();
    if reference.is_empty() {
        return Err(AdapterError::permanent(format!(
            "the sales order has no `{}` (our order number; check the order.out mapping)",
            wire::BUYER_REFERENCE
        )));
    }
    let answer = client
        .send(
            ctx,
            Call::new(
                "wesellcellular.sales_order.create",
                Method::POST,
                wire::SALES_ORDERS_PATH,
            )
            .body(body.clone()),
        )
        .await?;
    let order = sales_order(answer.body)?;
    let status = status_of(&order)?;
    Ok(SupplierOrderAck {
        supplier_order_id: order.order_number,
        status: status.supplier_status(),
        supplier_status: order.status,
        replayed: answer.status == 200,
    })
}

/// The order's current state. The tenant answers a number it reassigned with the order under
/// its new number, so the update names the number to follow.
pub async fn order_status(
    client: &Client,
    ctx: &AdapterContext,
    order: &SupplierOrderRef,
) -> Result<StatusUpdate, AdapterError> {
    let answer = client
        .send(
            ctx,
            Call::new(
                "wesellcellular.sales_order.get",
                Method::GET,
                format!(
                    "{}/{}",
                    wire::SALES_ORDERS_PATH,
                    segment(&order.supplier_order_id)
                ),
            ),
        )
        .await?;
    let mut update = update_of(sales_order(answer.body)?)?;
    update
        .order_number
        .get_or_insert_with(|| order.order_number.clone());
    Ok(update)
}

/// Where a status poll stands.
///
/// Why not just "the greatest `updatedAt` seen": the tenant stamps changes to the second, and
/// a change can become visible after a poll already read later ones (its transaction committed
/// late, or another change landed in the same second after the poll). A strict
/// `updatedSince = high` would skip it for good. So every poll re-reads from `high` less an
/// overlap (`poll_overlap_secs`), and the cursor remembers which changes it has delivered
/// within that window (`seen`: `updatedAt`, order number, status), so the re-read delivers each
/// change once. Every poll restarts at the watermark rather than at a page number, because an
/// order updated while pages are read moves to the end of the list and would shift a change
/// past a page boundary; `skip` pages forward only when a whole page was already delivered
/// (more same-window changes than a page holds).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PollCursor {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub high: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub seen: BTreeSet<String>,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub skip: u32,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

impl PollCursor {
    pub fn parse(cursor: Option<&str>) -> Result<Self, AdapterError> {
        match cursor {
            None => Ok(Self::default()),
            Some(c) => serde_json::from_str(c).map_err(|e| {
                AdapterError::permanent(format!("status poll cursor `{c}` is unreadable: {e}"))
            }),
        }
    }

    /// A change: when, which order, what it became. The status is part of it because two
    /// changes to one order can share a second.
    fn key(order: &SalesOrder) -> String {
        format!(
            "{}|{}|{}",
            order
                .updated_at
                .to_rfc3339_opts(SecondsFormat::AutoSi, true),
            order.order_number,
            order.status
        )
    }
}

/// One page of status changes since `cursor`.
pub async fn status_changes(
    client: &Client,
    ctx: &AdapterContext,
    cursor: Option<&str>,
) -> Result<StatusChanges, AdapterError> {
    let mut state = PollCursor::parse(cursor)?;
    let overlap = client.settings().poll_overlap;
    let page_size = client.settings().page_size;
    let mut query = vec![
        ("page".to_owned(), (state.skip + 1).to_string()),
        ("pageSize".to_owned(), page_size.to_string()),
    ];
    if let Some(high) = state.high {
        query.push((
            "updatedSince".to_owned(),
            (high - overlap).to_rfc3339_opts(SecondsFormat::Secs, true),
        ));
    }
    let answer = client
        .send(
            ctx,
            Call::new(
                "wesellcellular.sales_order.poll",
                Method::GET,
                wire::SALES_ORDERS_PATH,
            )
            .query(query),
        )
        .await?;
    let page: Page<Value> = serde_json::from_value(answer.body)
        .map_err(|e| AdapterError::permanent(format!("the order list is not a page: {e}")))?;
    let full = page.page < page.total_pages;
    let mut updates = Vec::new();
    for item in page.items {
        let order = sales_order(item)?;
        let key = PollCursor::key(&order);
        if state.seen.contains(&key) {
            continue;
        }
        state.high = state.high.max(Some(order.updated_at));
        state.seen.insert(key);
        updates.push(update_of(order)?);
    }
    if let Some(high) = state.high {
        // Keep only what the next re-read can meet again.
        let floor = high - overlap;
        state.seen.retain(|k| {
            k.split_once('|')
                .and_then(|(t, _)| DateTime::parse_from_rfc3339(t).ok())
                .is_some_and(|t| t.with_timezone(&Utc) >= floor)
        });
    }
    state.skip = if updates.is_empty() && full {
        state.skip + 1
    } else {
        0
    };
    let next = serde_json::to_string(&state)
        .map_err(|e| AdapterError::permanent(format!("status poll cursor: {e}")))?;
    Ok(StatusChanges {
        more: full,
        next_cursor: Some(next),
        updates,
    })
}

fn sales_order(body: Value) -> Result<SalesOrder, AdapterError> {
    serde_json::from_value(body).map_err(|e| {
        AdapterError::permanent(format!("the tenant's sales order is unreadable: {e}"))
    })
}

fn status_of(order: &SalesOrder) -> Result<OrderStatus, AdapterError> {
    OrderStatus::parse(&order.status).ok_or_else(|| {
        AdapterError::permanent(format!(
            "sales order {}: unknown status `{}` (field `status`)",
            order.order_number, order.status
        ))
    })
}

fn update_of(order: SalesOrder) -> Result<StatusUpdate, AdapterError> {
    let status = status_of(&order)?;
    Ok(StatusUpdate {
        status: status.supplier_status(),
        tracking: order.tracking_number.clone().map(|number| Tracking {
            number,
            carrier: order.carrier.clone(),
        }),
        order_number: order.buyer_reference.clone(),
        supplier_status: order.status,
        supplier_order_id: order.order_number,
        updated_at: order.updated_at,
    })
}
