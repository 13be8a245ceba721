//! Shipments back: a `shipment` document (the canonical `Shipment`) pushed to a Magento partner
//! (`partner.push`, capability `push_shipments`) for an order `MAGENTO-{increment_id}` (what
//! `magento.order.import` stored) becomes `POST /V1/order/{entity_id}/ship` with one track per
//! package (`carrier_code`, `title`, `track_number`), `notify` per the partner's
//! `notify_customer`, the shipped items matched to the order's top-level lines by SKU (a
//! configurable ships as its parent line), and the MSI `source_code` when the shipment names a
//! mapped location (`ship_from_location`).
//!
//! The order is found by `increment_id` (`GET /V1/orders`): our order number is what the
//! shopper saw, Magento ships by `entity_id`. An order with nothing left to ship (a redelivery
//! of this push, or shipped in the store's admin) answers `duplicate` and sends nothing, so a
//! shipment is never created twice; a cancelled order is a permanent error naming it.
//!
//! Tracking changes: a `shipment_tracking` document (pushed when
//! `PATCH /orders/{id}/shipments/{shipment_id}` changes the tracking) adds the new number as a
//! track of the shipment the `shipment` push created (`POST /V1/shipment/track` with its
//! `parent_id` and the order's `entity_id`); that shipment's id comes in the body's
//! `partner_reference`, recorded by the runtime from the first push's receipt. The old track
//! stays on the shipment (Magento keeps every track; removing it would be
//! `DELETE /V1/shipment/track/{id}`, not done).

use crate::client::{Call, Prefixed as _};
use crate::order_import::ORDER_PREFIX;
use crate::MagentoAdapter;
use reqwest::Method;
use rust_decimal::Decimal;
use serde_json::{json, Map, Value};
use std::str::FromStr as _;
use switchyard_core::adapter::{AdapterContext, PushReceipt};
use switchyard_core::AdapterError;

/// Magento's carrier codes for the carriers it ships modules for; any other is `custom`
/// (with the carrier's name as the title, which is what the storefront shows).
pub fn carrier_code(carrier: &str) -> &'static str {
    let c = carrier.to_ascii_uppercase();
    if c.contains("UPS") {
        "ups"
    } else if c.contains("FEDEX") {
        "fedex"
    } else if c.contains("USPS") {
        "usps"
    } else if c.contains("DHL") {
        "dhl"
    } else {
        "custom"
    }
}

fn qty(v: &Value) -> Decimal {
    match v {
        Value::Number(n) => Decimal::from_str(&n.to_string()).unwrap_or_default(),
        Value::String(s) => Decimal::from_str(s).unwrap_or_default(),
        _ => Decimal::ZERO,
    }
}

/// The order's top-level lines (a configurable's child line ships with its parent) with
/// something left to ship: (item_id, sku, quantity left).
fn open_lines(order: &Value) -> Vec<(i64, String, Decimal)> {
    order["items"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|i| i["parent_item_id"].is_null())
        .filter_map(|i| {
            let left = qty(&i["qty_ordered"]) - qty(&i["qty_shipped"]) - qty(&i["qty_canceled"]);
            (left > Decimal::ZERO).then(|| {
                (
                    i["item_id"].as_i64().unwrap_or_default(),
                    i["sku"].as_str().unwrap_or_default().to_owned(),
                    left,
                )
            })
        })
        .collect()
}

impl MagentoAdapter {
    /// The Magento order a shipment document's `MAGENTO-{increment_id}` names: (increment_id,
    /// the order as `GET /V1/orders` answers it).
    async fn shipment_order<'b>(
        &self,
        ctx: &AdapterContext,
        body: &'b Value,
    ) -> Result<(&'b str, Value), AdapterError> {
        let order_number = body["order_number"].as_str().unwrap_or_default();
        let increment_id = order_number.strip_prefix(ORDER_PREFIX).ok_or_else(|| {
            AdapterError::permanent(format!(
                "shipment order_number `{order_number}` is not a Magento order ({ORDER_PREFIX}{{increment_id}})"
            ))
        })?;
        let order = self
            .order_by_increment_id(ctx, increment_id)
            .await
            .map_err(|e| e.prefixed(&format!("finding order {increment_id}")))?
            .ok_or_else(|| {
                AdapterError::permanent(format!(
                    "Magento has no order with increment_id `{increment_id}`"
                ))
            })?;
        Ok((increment_id, order))
    }

    pub(crate) async fn push_tracking(
        &self,
        ctx: &AdapterContext,
        body: &Value,
    ) -> Result<PushReceipt, AdapterError> {
        let shipment = body["shipment_number"].as_str().unwrap_or_default();
        let parent_id: i64 = body["partner_reference"]
            .as_str()
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| {
                AdapterError::transient(format!(
                    "shipment {shipment} has no Magento shipment recorded yet (its own push has not run): tried again later"
                ))
            })?;
        let (_, order) = self.shipment_order(ctx, body).await?;
        let number = body["packages"]
            .as_array()
            .into_iter()
            .flatten()
            .find_map(|p| p["tracking_number"].as_str())
            .ok_or_else(|| {
                AdapterError::permanent(format!(
                    "shipment {shipment} has no tracking number: Magento keeps tracks, it cannot clear one"
                ))
            })?;
        let carrier = body["carrier"].as_str().unwrap_or("Carrier");
        let call = Call::new(
            "magento.shipment.track",
            Method::POST,
            "V1/shipment/track".to_owned(),
        )
        .body(json!({"entity": {
            "order_id": order["entity_id"],
            "parent_id": parent_id,
            "track_number": number,
            "title": carrier,
            "carrier_code": carrier_code(carrier),
        }}));
        let answer = self
            .client()
            .send(ctx, call)
            .await
            .map_err(|e| e.prefixed(&format!("adding a track to shipment {parent_id}")))?;
        Ok(PushReceipt {
            status: answer.status,
            external_id: Some(parent_id.to_string()),
            duplicate: false,
        })
    }

    pub(crate) async fn push_shipment(
        &self,
        ctx: &AdapterContext,
        body: &Value,
    ) -> Result<PushReceipt, AdapterError> {
        let (increment_id, order) = self.shipment_order(ctx, body).await?;
        if order["state"].as_str() == Some("canceled") {
            return Err(AdapterError::permanent(format!(
                "Magento order {increment_id} is cancelled; the shipment cannot be recorded"
            )));
        }
        let open = open_lines(&order);
        if open.is_empty() {
            // Shipped already (a redelivery of this push, or in the store's admin).
            return Ok(PushReceipt {
                status: 200,
                external_id: None,
                duplicate: true,
            });
        }
        let entity_id = order["entity_id"].as_i64().ok_or_else(|| {
            AdapterError::permanent(format!("Magento order {increment_id} has no entity_id"))
        })?;
        let mut items = Vec::new();
        for (i, p) in body["packages"]
            .as_array()
            .into_iter()
            .flatten()
            .enumerate()
        {
            for (j, l) in p["lines"].as_array().into_iter().flatten().enumerate() {
                let sku = l["sku"].as_str().unwrap_or_default();
                let (item_id, _, left) = open.iter().find(|(_, s, _)| s == sku).ok_or_else(|| {
                    AdapterError::permanent(format!(
                        "packages[{i}].lines[{j}].sku `{sku}` is not an unshipped line of Magento order {increment_id}"
                    ))
                })?;
                let q = qty(&l["quantity"]).min(*left);
                items.push(json!({"order_item_id": item_id, "qty": crate::adapter::number(q)}));
            }
        }
        let carrier = body["carrier"].as_str().unwrap_or("Carrier");
        let tracks: Vec<Value> = body["packages"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|p| p["tracking_number"].as_str())
            .map(|n| json!({"track_number": n, "title": carrier, "carrier_code": carrier_code(carrier)}))
            .collect();
        let mut ship = Map::new();
        // No items: Magento ships every line left to ship.
        ship.insert("items".into(), json!(items));
        ship.insert("notify".into(), json!(self.settings().notify_customer));
        ship.insert("tracks".into(), json!(tracks));
        // The source the goods left from: the document's location mapped by `msi.sources`, or
        // the one source a single-source connection has. Without one Magento applies its
        // source selection algorithm.
        let msi = &self.settings().msi;
        let source = match body["ship_from_location"].as_str() {
            Some(l) => Some(msi.sources.get(l).ok_or_else(|| {
                AdapterError::permanent(format!(
                    "ship_from_location `{l}` has no MSI source: add it to `msi.sources` of the partner"
                ))
            })?),
            None if msi.enabled && msi.sources.len() == 1 => msi.sources.values().next(),
            None => None,
        };
        if let Some(source) = source {
            ship.insert(
                "arguments".into(),
                json!({"extension_attributes": {"source_code": source}}),
            );
        }
        let call = Call::new(
            "magento.order.ship",
            Method::POST,
            format!("V1/order/{entity_id}/ship"),
        )
        .body(Value::Object(ship));
        let answer = self
            .client()
            .send(ctx, call)
            .await
            .map_err(|e| e.prefixed(&format!("shipping order {increment_id}")))?;
        Ok(PushReceipt {
            status: answer.status,
            // Magento answers the new shipment's id as a bare number.
            external_id: answer.body.as_i64().map(|i| i.to_string()),
            duplicate: false,
        })
    }
}
