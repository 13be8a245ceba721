//! The fake store's sales side: orders as `GET /V1/orders` lists them (configurable parent and
//! child lines, the shipping assignment's address), `POST /V1/order/{id}/ship` with tracks,
//! refusing what `ShipOrder` refuses (an unknown order, a cancelled or fully shipped one, more
//! than is left of a line, a child line, a track without its number or carrier code, an
//! unknown MSI source, an unknown parameter).
//!
//! Order management as `OrderManagementInterface` answers it: `POST /V1/orders/{id}/cancel`
//! (`true`, or `false` when the order cannot be cancelled: complete, closed, already
//! cancelled, on hold, or nothing left to cancel), `/hold` and `/unhold` (`true`, or 400 "A hold
//! action is not available." / "You cannot remove the hold."), and `/comments` with a
//! `statusHistory` (`true`; unknown properties refused as the accessor check does).
//!
//! Time is the store's own clock, whole seconds like Magento's `updated_at`: orders created
//! together share a second (so the pull's tie-breaking is exercised), and every change to an
//! order moves the clock one second first (so a change is always newer than what it changed).

use super::{error, Answer};
use axum::http::StatusCode;
use chrono::{Duration, NaiveDate, NaiveDateTime};
use serde_json::{json, Value};
use std::collections::BTreeMap;

/// A line of an order to create.
#[derive(Debug, Clone)]
pub struct FakeLine {
    pub sku: String,
    pub qty: u32,
    pub price: f64,
    /// Sold through a configurable parent: Magento lists the parent line (the child's SKU, the
    /// price) and a child line with `parent_item_id` and price 0.
    pub configurable: bool,
}

impl FakeLine {
    pub fn simple(sku: &str, qty: u32, price: f64) -> Self {
        Self {
            sku: sku.to_owned(),
            qty,
            price,
            configurable: false,
        }
    }

    pub fn configurable(sku: &str, qty: u32, price: f64) -> Self {
        Self {
            configurable: true,
            ..Self::simple(sku, qty, price)
        }
    }
}

type Edit = Box<dyn FnOnce(&mut Value) + Send>;

pub(super) struct OrderBook {
    pub orders: BTreeMap<i64, Value>,
    next_entity: i64,
    next_item: i64,
    next_shipment: i64,
    clock: NaiveDateTime,
    /// (order id, shipment as sent, shipment id)
    pub shipments: Vec<(i64, Value, i64)>,
    /// Tracks added to existing shipments (`POST /V1/shipment/track`): (shipment id, the
    /// track as stored, its entity id).
    pub tracks: Vec<(i64, Value, i64)>,
    next_track: i64,
    /// Edits applied right after the next orders list is answered.
    edits_after_list: Vec<(i64, Edit)>,
}

impl Default for OrderBook {
    fn default() -> Self {
        Self {
            orders: BTreeMap::new(),
            next_entity: 1,
            next_item: 1,
            next_shipment: 1,
            clock: NaiveDate::from_ymd_opt(2026, 5, 2)
                .and_then(|d| d.and_hms_opt(10, 0, 0))
                .unwrap_or_default(),
            shipments: Vec::new(),
            tracks: Vec::new(),
            next_track: 1,
            edits_after_list: Vec::new(),
        }
    }
}

/// What is left of a line to ship (ordered less shipped less cancelled).
fn left(i: &Value) -> f64 {
    i["qty_ordered"].as_f64().unwrap_or(0.0)
        - i["qty_shipped"].as_f64().unwrap_or(0.0)
        - i["qty_canceled"].as_f64().unwrap_or(0.0)
}

fn now(book: &OrderBook) -> String {
    book.clock.format("%Y-%m-%d %H:%M:%S").to_string()
}

impl OrderBook {
    pub fn advance(&mut self, secs: i64) {
        self.clock += Duration::seconds(secs);
    }

    pub fn create(&mut self, email: &str, lines: &[FakeLine]) -> (i64, String) {
        let id = self.next_entity;
        self.next_entity += 1;
        let increment_id = format!("{:09}", 100 + id);
        let mut items = Vec::new();
        for l in lines {
            let item_id = self.next_item;
            self.next_item += 1;
            let line = |item_id: i64, product_type: &str, price: f64| {
                json!({"item_id": item_id, "order_id": id, "sku": l.sku, "name": format!("Item {}", l.sku),
                       "qty_ordered": l.qty, "qty_shipped": 0, "qty_canceled": 0, "price": price,
                       "row_total": price * f64::from(l.qty), "product_type": product_type})
            };
            if l.configurable {
                items.push(line(item_id, "configurable", l.price));
                let child = self.next_item;
                self.next_item += 1;
                let mut c = line(child, "simple", 0.0);
                c["parent_item_id"] = json!(item_id);
                items.push(c);
            } else {
                items.push(line(item_id, "simple", l.price));
            }
        }
        let at = now(self);
        let address = json!({"firstname": "Jane", "lastname": "Doe", "street": ["123 Oak Ave"],
            "city": "Chicago", "region_code": "IL", "postcode": "60601", "country_id": "US",
            "telephone": "555-0100", "email": email});
        let order = json!({
            "entity_id": id, "increment_id": increment_id, "state": "new", "status": "pending",
            "created_at": at, "updated_at": at, "order_currency_code": "USD",
            "base_currency_code": "USD", "customer_email": email, "customer_firstname": "Jane",
            "customer_lastname": "Doe",
            "grand_total": lines.iter().map(|l| l.price * f64::from(l.qty)).sum::<f64>(),
            "items": items, "billing_address": address,
            "payment": {"method": "checkmo"},
            "extension_attributes": {"shipping_assignments": [{"shipping": {
                "address": address, "method": "flatrate_flatrate"}, "items": []}]},
            "status_histories": [],
        });
        self.orders.insert(id, order);
        (id, increment_id)
    }

    /// Change an order as the store's admin would; its `updated_at` moves.
    pub fn edit(&mut self, id: i64, f: impl FnOnce(&mut Value)) -> bool {
        self.advance(1);
        let at = now(self);
        match self.orders.get_mut(&id) {
            Some(o) => {
                f(o);
                o["updated_at"] = json!(at);
                true
            }
            None => false,
        }
    }

    /// What the sales side holds that a write can change (states and histories of orders,
    /// shipments), for the store's "did this write change anything" digest.
    pub fn fingerprint(&self) -> String {
        let mut out = String::new();
        for (id, o) in &self.orders {
            out.push_str(&format!(
                "{id}:{}:{}:{};",
                o["state"],
                o["status"],
                o["status_histories"].as_array().map_or(0, Vec::len)
            ));
        }
        out.push_str(&self.shipments.len().to_string());
        out
    }

    fn find(&self, id: &str) -> Result<&Value, Answer> {
        id.parse::<i64>()
            .ok()
            .and_then(|i| self.orders.get(&i))
            .ok_or_else(|| {
                error(
                    StatusCode::NOT_FOUND,
                    "The entity that was requested doesn't exist. Verify the entity and try again.",
                    json!([]),
                )
            })
    }

    /// `POST /V1/orders/{id}/cancel`: `OrderManagement::cancel` answers `false` rather than an
    /// error when `canCancel()` says no.
    pub fn cancel(&mut self, id: &str) -> Answer {
        let order = match self.find(id) {
            Ok(o) => o,
            Err(a) => return a,
        };
        let state = order["state"].as_str().unwrap_or_default();
        let open = order["items"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|i| i["parent_item_id"].is_null() && left(i) > 0.0);
        if matches!(state, "canceled" | "complete" | "closed" | "holded") || !open {
            return (StatusCode::OK, json!(false));
        }
        let entity = order["entity_id"].as_i64().unwrap_or_default();
        self.edit(entity, |o| {
            for item in o["items"].as_array_mut().into_iter().flatten() {
                let rest = left(item);
                item["qty_canceled"] = json!(item["qty_canceled"].as_f64().unwrap_or(0.0) + rest);
            }
            o["state"] = json!("canceled");
            o["status"] = json!("canceled");
        });
        (StatusCode::OK, json!(true))
    }

    /// `POST /V1/orders/{id}/hold`: `Order::hold()` throws unless `canHold()`.
    pub fn hold(&mut self, id: &str) -> Answer {
        let order = match self.find(id) {
            Ok(o) => o,
            Err(a) => return a,
        };
        let state = order["state"].as_str().unwrap_or_default().to_owned();
        if matches!(
            state.as_str(),
            "canceled" | "complete" | "closed" | "holded" | "payment_review"
        ) {
            return error(
                StatusCode::BAD_REQUEST,
                "A hold action is not available.",
                json!([]),
            );
        }
        let entity = order["entity_id"].as_i64().unwrap_or_default();
        self.edit(entity, |o| {
            o["hold_before_state"] = json!(state);
            o["hold_before_status"] = o["status"].clone();
            o["state"] = json!("holded");
            o["status"] = json!("holded");
        });
        (StatusCode::OK, json!(true))
    }

    /// `POST /V1/orders/{id}/unhold`: only an order on hold; back to the state it had.
    pub fn unhold(&mut self, id: &str) -> Answer {
        let order = match self.find(id) {
            Ok(o) => o,
            Err(a) => return a,
        };
        if order["state"] != "holded" {
            return error(
                StatusCode::BAD_REQUEST,
                "You cannot remove the hold.",
                json!([]),
            );
        }
        let entity = order["entity_id"].as_i64().unwrap_or_default();
        self.edit(entity, |o| {
            o["state"] = o["hold_before_state"].take();
            o["status"] = o["hold_before_status"].take();
            if let Some(m) = o.as_object_mut() {
                m.remove("hold_before_state");
                m.remove("hold_before_status");
            }
        });
        (StatusCode::OK, json!(true))
    }

    /// `POST /V1/orders/{id}/comments` with `{"statusHistory": {...}}`.
    pub fn comment(&mut self, id: &str, body: &Value) -> Answer {
        const FIELDS: &[&str] = &[
            "comment",
            "is_customer_notified",
            "is_visible_on_front",
            "parent_id",
            "status",
            "entity_name",
            "created_at",
            "entity_id",
        ];
        if let Some(k) = body
            .as_object()
            .and_then(|o| o.keys().find(|k| k.as_str() != "statusHistory"))
        {
            return error(
                StatusCode::BAD_REQUEST,
                "\"%fieldName\" is not a valid parameter.",
                json!({"fieldName": k}),
            );
        }
        let Some(history) = body["statusHistory"].as_object() else {
            return super::required("statusHistory");
        };
        if let Some(k) = history.keys().find(|k| !FIELDS.contains(&k.as_str())) {
            let camel: String = k
                .split('_')
                .map(|w| {
                    let mut c = w.chars();
                    c.next()
                        .map(|f| f.to_uppercase().collect::<String>() + c.as_str())
                        .unwrap_or_default()
                })
                .collect();
            return error(
                StatusCode::BAD_REQUEST,
                "Property \"%1\" does not have accessor method \"%2\" in class \"%3\".",
                json!([
                    camel,
                    format!("get{camel}"),
                    "Magento\\Sales\\Api\\Data\\OrderStatusHistoryInterface"
                ]),
            );
        }
        if history
            .get("comment")
            .and_then(Value::as_str)
            .is_none_or(str::is_empty)
        {
            return super::required("comment");
        }
        if !history
            .get("is_visible_on_front")
            .is_some_and(|v| v.is_number())
        {
            return super::required("is_visible_on_front");
        }
        let order = match self.find(id) {
            Ok(o) => o,
            Err(a) => return a,
        };
        let entity = order["entity_id"].as_i64().unwrap_or_default();
        let status = order["status"].clone();
        let mut row = Value::Object(history.clone());
        row["parent_id"] = json!(entity);
        row["entity_name"] = json!("order");
        if row["status"].is_null() {
            row["status"] = status;
        }
        self.edit(entity, |o| {
            row["created_at"] = o["updated_at"].clone();
            if let Some(list) = o["status_histories"].as_array_mut() {
                list.push(row);
            } else {
                o["status_histories"] = json!([row]);
            }
        });
        (StatusCode::OK, json!(true))
    }

    pub fn edit_after_list(&mut self, id: i64, f: Edit) {
        self.edits_after_list.push((id, f));
    }

    /// Called once an orders list was answered.
    pub fn listed(&mut self) {
        for (id, f) in std::mem::take(&mut self.edits_after_list) {
            self.edit(id, f);
        }
    }

    /// `POST /V1/shipment/track` (`ShipmentTrackRepositoryInterface::save`): a track on an
    /// existing shipment, `{"entity": {"order_id", "parent_id", "track_number",
    /// "carrier_code", "title"?, "description"?}}`. Refuses an unknown key, a missing required
    /// field, and a shipment that does not exist or is not the order's (Magento answers
    /// "Could not save the shipment tracking." when the track cannot be saved; the
    /// order check's wording is assumed to be the same).
    pub fn track(&mut self, body: &Value) -> Answer {
        const KEYS: &[&str] = &[
            "order_id",
            "parent_id",
            "track_number",
            "carrier_code",
            "title",
            "description",
            "weight",
            "qty",
            "extension_attributes",
        ];
        let Some(entity) = body.get("entity").and_then(Value::as_object) else {
            return super::required("entity");
        };
        if let Some(k) = body
            .as_object()
            .and_then(|o| o.keys().find(|k| k.as_str() != "entity"))
            .or_else(|| entity.keys().find(|k| !KEYS.contains(&k.as_str())))
        {
            return error(
                StatusCode::BAD_REQUEST,
                "\"%fieldName\" is not a valid parameter.",
                json!({"fieldName": k}),
            );
        }
        for f in ["order_id", "parent_id", "track_number", "carrier_code"] {
            if entity.get(f).is_none_or(|v| v.is_null() || v == "") {
                return super::required(f);
            }
        }
        let int = |k: &str| {
            entity[k]
                .as_i64()
                .or_else(|| entity[k].as_str().and_then(|s| s.parse().ok()))
        };
        let (order_id, parent_id) = (int("order_id"), int("parent_id"));
        let belongs = self
            .shipments
            .iter()
            .any(|(o, _, s)| Some(*s) == parent_id && Some(*o) == order_id);
        if !belongs {
            return error(
                StatusCode::BAD_REQUEST,
                "Could not save the shipment tracking.",
                json!([]),
            );
        }
        let id = self.next_track;
        self.next_track += 1;
        let mut track = Value::Object(entity.clone());
        track["entity_id"] = json!(id);
        self.tracks
            .push((parent_id.unwrap_or_default(), track.clone(), id));
        (StatusCode::OK, track)
    }

    /// `POST /V1/order/{id}/ship`.
    pub fn ship(&mut self, sources: &[String], id: &str, body: &Value) -> Answer {
        const PARAMS: &[&str] = &[
            "items",
            "notify",
            "appendComment",
            "comment",
            "tracks",
            "packages",
            "arguments",
        ];
        if let Some(k) = body
            .as_object()
            .and_then(|o| o.keys().find(|k| !PARAMS.contains(&k.as_str())))
        {
            return error(
                StatusCode::BAD_REQUEST,
                "\"%fieldName\" is not a valid parameter.",
                json!({"fieldName": k}),
            );
        }
        let Some(order) = id.parse::<i64>().ok().and_then(|i| self.orders.get(&i)) else {
            return error(
                StatusCode::NOT_FOUND,
                "The entity that was requested doesn't exist. Verify the entity and try again.",
                json!([]),
            );
        };
        let refuse = |m: &str| {
            error(
                StatusCode::BAD_REQUEST,
                "Shipment Document Validation Error(s):\n%1",
                json!([m]),
            )
        };
        let items: Vec<Value> = order["items"].as_array().cloned().unwrap_or_default();
        let shippable = items
            .iter()
            .any(|i| i["parent_item_id"].is_null() && left(i) > 0.0);
        if order["state"] == "canceled" || !shippable {
            return refuse("The order does not allow a shipment to be created.");
        }
        // What ships: the items named, or every line with something left.
        let mut ship: Vec<(i64, f64)> = Vec::new();
        let named = body["items"].as_array().cloned().unwrap_or_default();
        if named.is_empty() {
            for i in items.iter().filter(|i| i["parent_item_id"].is_null()) {
                if left(i) > 0.0 {
                    ship.push((i["item_id"].as_i64().unwrap_or_default(), left(i)));
                }
            }
        } else {
            for n in &named {
                let item_id = n["order_item_id"].as_i64().unwrap_or_default();
                let qty = n["qty"].as_f64().unwrap_or(0.0);
                let Some(item) = items
                    .iter()
                    .find(|i| i["item_id"].as_i64() == Some(item_id))
                else {
                    return refuse("The shipment contains an item that is not part of the order.");
                };
                if !item["parent_item_id"].is_null() {
                    return refuse(
                        "A child item is shipped with its parent; ship the parent item.",
                    );
                }
                if qty <= 0.0 || qty > left(item) {
                    return refuse("The order does not allow a shipment to be created.");
                }
                ship.push((item_id, qty));
            }
        }
        for t in body["tracks"].as_array().into_iter().flatten() {
            if t["track_number"].as_str().is_none_or(str::is_empty) {
                return refuse("Please enter a tracking number.");
            }
            if t["carrier_code"].as_str().is_none_or(str::is_empty) {
                return error(
                    StatusCode::BAD_REQUEST,
                    "\"%fieldName\" is required. Enter and try again.",
                    json!({"fieldName": "carrier_code"}),
                );
            }
        }
        if let Some(source) = body.pointer("/arguments/extension_attributes/source_code") {
            let source = source.as_str().unwrap_or_default();
            if !sources.iter().any(|s| s == source) {
                return error(
                    StatusCode::BAD_REQUEST,
                    "Source with code \"%1\" does not exist.",
                    json!([source]),
                );
            }
        }
        let order_id = order["entity_id"].as_i64().unwrap_or_default();
        let shipment_id = self.next_shipment;
        self.next_shipment += 1;
        self.shipments.push((order_id, body.clone(), shipment_id));
        self.edit(order_id, |o| {
            for item in o["items"].as_array_mut().into_iter().flatten() {
                let id = item["item_id"].as_i64();
                let parent = item["parent_item_id"].as_i64();
                if let Some((_, q)) = ship
                    .iter()
                    .find(|(i, _)| Some(*i) == id || Some(*i) == parent)
                {
                    item["qty_shipped"] = json!(item["qty_shipped"].as_f64().unwrap_or(0.0) + q);
                }
            }
            let done = o["items"]
                .as_array()
                .into_iter()
                .flatten()
                .all(|i| left(i) <= 0.0);
            // A fake without invoices: an order shipped in full is complete.
            let state = if done { "complete" } else { "processing" };
            o["state"] = json!(state);
            o["status"] = json!(state);
        });
        (StatusCode::OK, json!(shipment_id))
    }
}
