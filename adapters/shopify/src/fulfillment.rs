//! Fulfillment back: a `shipment` document (the canonical `Shipment`) pushed to a Shopify
//! partner (`partner.push`, capability `push_shipments`) becomes `fulfillmentCreate` on the
//! open fulfillment orders of the Shopify order it ships, with the carrier, the first
//! package's tracking number and a tracking URL, `notifyCustomer` per the partner's
//! `notify_customer`.
//!
//! The order is found by its stored number `SHOPIFY-{id}` (what `shopify.order.import`
//! stored). A redelivered push finds no open fulfillment order and answers `duplicate`, so a
//! shipment is never fulfilled twice.

use crate::client::CallError;
use crate::ShopifyAdapter;
use serde_json::{json, Map, Value};
use switchyard_core::adapter::{AdapterContext, PushReceipt};
use switchyard_core::error::AdapterError;

const FULFILLMENT_ORDERS: &str = "query FulfillmentOrders($id: ID!) {
  order(id: $id) { id fulfillmentOrders(first: 5) { nodes { id status } } } }";

const FULFILLMENT_CREATE: &str = "mutation Fulfill($fulfillment: FulfillmentInput!) {
  fulfillmentCreate(fulfillment: $fulfillment) { fulfillment { id status trackingInfo { company number url } } userErrors { field message } } }";

/// A tracking page for the carriers we know; Shopify builds one itself for a known company,
/// but sending it keeps the link right for carriers Shopify does not recognise by name.
fn tracking_url(carrier: &str, number: &str) -> Option<String> {
    let c = carrier.to_ascii_uppercase();
    let url = if c.contains("UPS") {
        format!("https://www.ups.com/track?tracknum={number}")
    } else if c.contains("FEDEX") {
        format!("https://www.fedex.com/fedextrack/?trknbr={number}")
    } else if c.contains("USPS") {
        format!("https://tools.usps.com/go/TrackConfirmAction?tLabels={number}")
    } else {
        return None;
    };
    Some(url)
}

impl ShopifyAdapter {
    pub(crate) async fn push_shipment(
        &self,
        ctx: &AdapterContext,
        body: &Map<String, Value>,
    ) -> Result<PushReceipt, AdapterError> {
        let order_number = body
            .get("order_number")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let numeric = order_number.strip_prefix("SHOPIFY-").ok_or_else(|| {
            AdapterError::permanent(format!(
                "shipment order_number `{order_number}` is not a Shopify order (SHOPIFY-{{id}})"
            ))
        })?;
        let order_gid = format!("gid://shopify/Order/{numeric}");
        let data = self
            .client()
            .call(
                ctx,
                "fulfillmentOrders",
                FULFILLMENT_ORDERS,
                json!({"id": order_gid}),
            )
            .await
            .map_err(CallError::into_adapter)?;
        if data["order"].is_null() {
            return Err(AdapterError::permanent(format!(
                "Shopify has no order `{order_gid}`"
            )));
        }
        let open: Vec<Value> = data["order"]["fulfillmentOrders"]["nodes"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|n| matches!(n["status"].as_str(), Some("OPEN" | "IN_PROGRESS")))
            .map(|n| json!({"fulfillmentOrderId": n["id"]}))
            .collect();
        if open.is_empty() {
            // Fulfilled already (a redelivery of this push) or cancelled: nothing to send.
            return Ok(PushReceipt {
                status: 200,
                external_id: None,
                duplicate: true,
            });
        }
        let carrier = body.get("carrier").and_then(Value::as_str);
        let number = body
            .get("packages")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .find_map(|p| p["tracking_number"].as_str());
        let mut tracking = Map::new();
        if let Some(c) = carrier {
            tracking.insert("company".into(), json!(c));
        }
        if let Some(n) = number {
            tracking.insert("number".into(), json!(n));
            if let Some(url) = carrier.and_then(|c| tracking_url(c, n)) {
                tracking.insert("url".into(), json!(url));
            }
        }
        let data = self
            .client()
            .call(
                ctx,
                "fulfillmentCreate",
                FULFILLMENT_CREATE,
                json!({"fulfillment": {
                    "lineItemsByFulfillmentOrder": open,
                    "notifyCustomer": self.config().notify_customer,
                    "trackingInfo": tracking,
                }}),
            )
            .await
            .map_err(CallError::into_adapter)?;
        let payload = &data["fulfillmentCreate"];
        if let Some(errors) = payload["userErrors"].as_array().filter(|e| !e.is_empty()) {
            let text: Vec<String> = errors
                .iter()
                .map(|e| e["message"].as_str().unwrap_or("?").to_owned())
                .collect();
            return Err(AdapterError::permanent(format!(
                "Shopify refused the fulfillment of {order_number}: {}",
                text.join("; ")
            )));
        }
        Ok(PushReceipt {
            status: 200,
            external_id: payload["fulfillment"]["id"].as_str().map(str::to_owned),
            duplicate: false,
        })
    }
}
