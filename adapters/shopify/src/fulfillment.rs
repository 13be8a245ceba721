//! Fulfillment back: a `shipment` document (the canonical `Shipment`) pushed to a Shopify
//! partner (`partner.push`, capability `push_shipments`) becomes `fulfillmentCreate` on the
//! open fulfillment orders of the Shopify order it ships, with the carrier, the first
//! package's tracking number and a tracking URL, `notifyCustomer` per the partner's
//! `notify_customer`.
//!
//! The order is found by its stored number `SHOPIFY-{id}` (what `shopify.order.import`
//! stored). A redelivered push finds no open fulfillment order and answers `duplicate`, so a
//! shipment is never fulfilled twice.
//!
//! Tracking changes: a `shipment_tracking` document (the same shipment with its new tracking,
//! pushed when `PATCH /orders/{id}/shipments/{shipment_id}` changes it) becomes
//! `fulfillmentTrackingInfoUpdate` on the fulfillment the `shipment` push created. Its gid
//! comes in the body's `partner_reference`: the runtime recorded it from that push's receipt
//! (`partner_references`). None yet means the shipment's own push has not run: a transient
//! error, so the queue tries again after it.

use crate::client::CallError;
use crate::ShopifyAdapter;
use serde_json::{json, Map, Value};
use switchyard_core::adapter::{AdapterContext, PushReceipt};
use switchyard_core::error::AdapterError;

const FULFILLMENT_ORDERS: &str = "query FulfillmentOrders($id: ID!) {
  order(id: $id) { id fulfillmentOrders(first: 5) { nodes { id status } } } }";

const FULFILLMENT_CREATE: &str = "mutation Fulfill($fulfillment: FulfillmentInput!) {
  fulfillmentCreate(fulfillment: $fulfillment) { fulfillment { id status trackingInfo { company number url } } userErrors { field message } } }";

const TRACKING_UPDATE: &str = "mutation Track($fulfillmentId: ID!, $trackingInfoInput: FulfillmentTrackingInput!, $notifyCustomer: Boolean) {
  fulfillmentTrackingInfoUpdate(fulfillmentId: $fulfillmentId, trackingInfoInput: $trackingInfoInput, notifyCustomer: $notifyCustomer) { fulfillment { id status trackingInfo { company number url } } userErrors { field message } } }";

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

/// `FulfillmentTrackingInput` from a shipment document: the carrier, the first package's
/// tracking number, and the document's `tracking_url` or, without one, the carrier's page.
fn tracking_input(body: &Map<String, Value>) -> Map<String, Value> {
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
    }
    let url = body
        .get("tracking_url")
        .and_then(Value::as_str)
        .map(str::to_owned)
        .or_else(|| carrier.zip(number).and_then(|(c, n)| tracking_url(c, n)));
    if let Some(url) = url {
        tracking.insert("url".into(), json!(url));
    }
    tracking
}

/// A payload's userErrors as one permanent error, if it has any.
fn user_errors(payload: &Value, what: &str) -> Result<(), AdapterError> {
    match payload["userErrors"].as_array().filter(|e| !e.is_empty()) {
        None => Ok(()),
        Some(errors) => {
            let text: Vec<String> = errors
                .iter()
                .map(|e| e["message"].as_str().unwrap_or("?").to_owned())
                .collect();
            Err(AdapterError::permanent(format!(
                "Shopify refused {what}: {}",
                text.join("; ")
            )))
        }
    }
}

impl ShopifyAdapter {
    pub(crate) async fn push_tracking(
        &self,
        ctx: &AdapterContext,
        body: &Map<String, Value>,
    ) -> Result<PushReceipt, AdapterError> {
        let shipment = body
            .get("shipment_number")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let fulfillment = body
            .get("partner_reference")
            .and_then(Value::as_str)
            .filter(|f| f.starts_with("gid://shopify/Fulfillment/"))
            .ok_or_else(|| {
                AdapterError::transient(format!(
                    "shipment {shipment} has no Shopify fulfillment recorded yet (its own push has not run): tried again later"
                ))
            })?;
        let data = self
            .client()
            .call(
                ctx,
                "fulfillmentTrackingInfoUpdate",
                TRACKING_UPDATE,
                json!({"fulfillmentId": fulfillment,
                    "trackingInfoInput": tracking_input(body),
                    "notifyCustomer": self.config().notify_customer}),
            )
            .await
            .map_err(CallError::into_adapter)?;
        let payload = &data["fulfillmentTrackingInfoUpdate"];
        user_errors(
            payload,
            &format!("the tracking of shipment {shipment} ({fulfillment})"),
        )?;
        Ok(PushReceipt {
            status: 200,
            external_id: Some(fulfillment.to_owned()),
            duplicate: false,
        })
    }

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
        let tracking = tracking_input(body);
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
        user_errors(payload, &format!("the fulfillment of {order_number}"))?;
        Ok(PushReceipt {
            status: 200,
            external_id: payload["fulfillment"]["id"].as_str().map(str::to_owned),
            duplicate: false,
        })
    }
}
