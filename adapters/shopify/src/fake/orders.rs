//! The fake's storefront orders: what tests create and edit (as shoppers and merchants would),
//! served by `orders(first:, after:, sortKey: UPDATED_AT, query: "updated_at:>=…")` in
//! Shopify's order shape (customer, shipping address, line items with the variant's SKU,
//! fulfillment orders).
//!
//! Cursors carry the sort key (updatedAt) and the id, as Shopify's opaque cursors do: an order
//! edited during a pull moves behind the cursor's position and is met again on a later page
//! (or the next pull), it is never the reason another order is skipped.

use super::store::gid;
use base64::Engine as _;
use chrono::{DateTime, Utc};
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;

/// One line a shopper ordered.
#[derive(Debug, Clone, PartialEq)]
pub struct FakeOrderLine {
    pub sku: String,
    pub quantity: i64,
    /// Unit price as Shopify's decimal string ("12.50").
    pub price: String,
}

/// What a test puts into the shop as an order.
#[derive(Debug, Clone, PartialEq)]
pub struct FakeOrderSpec {
    pub email: String,
    pub customer_name: (String, String),
    pub address1: String,
    pub city: String,
    pub zip: String,
    pub country_code: String,
    pub currency: String,
    pub lines: Vec<FakeOrderLine>,
}

impl FakeOrderSpec {
    /// A plausible order of `lines` (sku, quantity) at 10.00 each.
    pub fn simple(email: &str, lines: &[(&str, i64)]) -> Self {
        Self {
            email: email.to_owned(),
            customer_name: ("Ada".into(), "Shopper".into()),
            address1: "1 Main St".into(),
            city: "Chicago".into(),
            zip: "60601".into(),
            country_code: "US".into(),
            currency: "USD".into(),
            lines: lines
                .iter()
                .map(|(sku, quantity)| FakeOrderLine {
                    sku: (*sku).to_owned(),
                    quantity: *quantity,
                    price: "10.00".into(),
                })
                .collect(),
        }
    }
}

#[derive(Debug, Clone)]
pub struct FakeOrder {
    pub id: u64,
    pub number: u64,
    pub spec: FakeOrderSpec,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub cancelled_at: Option<DateTime<Utc>>,
    pub cancel_reason: Option<String>,
    /// (line item id, fulfillment order line item id) per line, in the lines' order.
    line_ids: Vec<(u64, u64)>,
    fulfillment_order_id: u64,
    customer_id: u64,
    /// Fulfillments created on this order (`fulfillmentCreate`).
    pub fulfillments: Vec<FakeFulfillment>,
}

/// One `fulfillmentCreate` the shop accepted.
#[derive(Debug, Clone, PartialEq)]
pub struct FakeFulfillment {
    pub id: u64,
    pub company: Option<String>,
    pub number: Option<String>,
    pub url: Option<String>,
    pub notify_customer: bool,
    /// Cancelled by the merchant ([`super::FakeShopify::cancel_fulfillment`]): its tracking
    /// can no longer change.
    pub cancelled: bool,
    /// Every `fulfillmentTrackingInfoUpdate` it accepted, in order: (company, number, url,
    /// notifyCustomer).
    pub tracking_updates: Vec<TrackingUpdate>,
}

/// One accepted `fulfillmentTrackingInfoUpdate`: (company, number, url, notifyCustomer).
pub type TrackingUpdate = (Option<String>, Option<String>, Option<String>, bool);

fn ts(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// The shop's orders and the clock that stamps them.
#[derive(Debug, Default)]
pub struct Orders {
    next_id: u64,
    next_number: u64,
    by_id: BTreeMap<u64, FakeOrder>,
    last_stamp: Option<DateTime<Utc>>,
}

impl Orders {
    fn id(&mut self) -> u64 {
        self.next_id = self.next_id.max(500_000) + 1;
        self.next_id
    }

    /// `updatedAt` strictly after every earlier one, so the (updatedAt, id) order is the order
    /// of changes even for two edits within one millisecond.
    /// Strictly increasing at the precision the API renders (milliseconds): two changes in one
    /// millisecond would otherwise show the same `updatedAt` and compare equal to a client,
    /// while the fake's own comparisons saw the nanoseconds apart.
    fn stamp(&mut self) -> DateTime<Utc> {
        let now = Utc::now();
        let mut t = now
            - chrono::Duration::nanoseconds(i64::from(now.timestamp_subsec_nanos() % 1_000_000));
        if let Some(last) = self.last_stamp {
            if t <= last {
                t = last + chrono::Duration::milliseconds(1);
            }
        }
        self.last_stamp = Some(t);
        t
    }

    pub fn create(&mut self, spec: FakeOrderSpec) -> u64 {
        let id = self.id();
        let line_ids = spec.lines.iter().map(|_| (self.id(), self.id())).collect();
        let fulfillment_order_id = self.id();
        let customer_id = self.id();
        self.next_number = self.next_number.max(1000) + 1;
        let now = self.stamp();
        self.by_id.insert(
            id,
            FakeOrder {
                id,
                number: self.next_number,
                spec,
                created_at: now,
                updated_at: now,
                cancelled_at: None,
                cancel_reason: None,
                line_ids,
                fulfillment_order_id,
                customer_id,
                fulfillments: Vec::new(),
            },
        );
        id
    }

    /// Apply a merchant's edit; false when there is no such order.
    pub fn update(&mut self, id: u64, edit: impl FnOnce(&mut FakeOrderSpec)) -> bool {
        let stamp = self.stamp();
        let Some(o) = self.by_id.get_mut(&id) else {
            return false;
        };
        edit(&mut o.spec);
        // An edit adding lines gets ids for them; removed lines drop theirs.
        while o.line_ids.len() < o.spec.lines.len() {
            self.next_id += 2;
            o.line_ids.push((self.next_id - 1, self.next_id));
        }
        o.line_ids.truncate(o.spec.lines.len());
        o.updated_at = stamp;
        true
    }

    pub fn cancel(&mut self, id: u64, reason: &str) -> bool {
        let stamp = self.stamp();
        let Some(o) = self.by_id.get_mut(&id) else {
            return false;
        };
        o.cancelled_at = Some(stamp);
        o.cancel_reason = Some(reason.to_owned());
        o.updated_at = stamp;
        true
    }

    pub fn get(&self, id: u64) -> Option<&FakeOrder> {
        self.by_id.get(&id)
    }

    /// `fulfillmentCreate` of the whole fulfillment order `fo_gid` (Shopify's userErrors when
    /// it does not exist or is not open); the fulfillment's id.
    pub fn fulfill(
        &mut self,
        fo_gid: &str,
        tracking: &Map<String, Value>,
        notify_customer: bool,
    ) -> Result<u64, Value> {
        let text = |k: &str| tracking.get(k).and_then(Value::as_str).map(str::to_owned);
        let fid = super::store::parse_gid("FulfillmentOrder", fo_gid);
        let next = self.next_id.max(500_000) + 1;
        let Some(o) = self
            .by_id
            .values_mut()
            .find(|o| Some(o.fulfillment_order_id) == fid)
        else {
            return Err(
                json!([{"field": ["fulfillment", "lineItemsByFulfillmentOrder", "0", "fulfillmentOrderId"], "message": "Fulfillment order does not exist."}]),
            );
        };
        if o.cancelled_at.is_some() || !o.fulfillments.is_empty() {
            return Err(
                json!([{"field": ["fulfillment"], "message": "Fulfillment order is not in an open state and cannot be fulfilled."}]),
            );
        }
        self.next_id = next;
        o.fulfillments.push(FakeFulfillment {
            id: next,
            company: text("company"),
            number: text("number"),
            url: text("url"),
            notify_customer,
            cancelled: false,
            tracking_updates: Vec::new(),
        });
        Ok(next)
    }

    fn fulfillment_mut(&mut self, id: u64) -> Option<&mut FakeFulfillment> {
        self.by_id
            .values_mut()
            .flat_map(|o| o.fulfillments.iter_mut())
            .find(|f| f.id == id)
    }

    /// `fulfillmentTrackingInfoUpdate`: the tracking of fulfillment `f_gid` replaced. An
    /// unknown fulfillment or a cancelled one is a userError on `fulfillmentId`, as Shopify
    /// refuses both (the messages' wording is assumed).
    pub fn update_tracking(
        &mut self,
        f_gid: &str,
        tracking: &Map<String, Value>,
        notify_customer: bool,
    ) -> Result<FakeFulfillment, Value> {
        let text = |k: &str| tracking.get(k).and_then(Value::as_str).map(str::to_owned);
        let f = super::store::parse_gid("Fulfillment", f_gid)
            .and_then(|id| self.fulfillment_mut(id))
            .ok_or_else(
                || json!([{"field": ["fulfillmentId"], "message": "Fulfillment does not exist."}]),
            )?;
        if f.cancelled {
            return Err(
                json!([{"field": ["fulfillmentId"], "message": "Cannot update tracking info of a cancelled fulfillment."}]),
            );
        }
        f.company = text("company");
        f.number = text("number");
        f.url = text("url");
        f.tracking_updates.push((
            f.company.clone(),
            f.number.clone(),
            f.url.clone(),
            notify_customer,
        ));
        Ok(f.clone())
    }

    /// The merchant cancelled fulfillment `id`; false when there is none.
    pub fn cancel_fulfillment(&mut self, id: u64) -> bool {
        self.fulfillment_mut(id)
            .map(|f| f.cancelled = true)
            .is_some()
    }

    /// The order as Shopify's `Order` object (nested connections as the projection's
    /// `__connection` markers).
    pub fn json(&self, o: &FakeOrder) -> Value {
        let s = &o.spec;
        let money =
            |amount: &str| json!({"shopMoney": {"amount": amount, "currencyCode": s.currency}});
        let lines: Vec<Value> = s
            .lines
            .iter()
            .zip(&o.line_ids)
            .map(|(l, (line_id, _))| {
                json!({
                    "id": gid("LineItem", *line_id),
                    "sku": l.sku,
                    "name": format!("Item {}", l.sku),
                    "quantity": l.quantity,
                    "variant": {"id": gid("ProductVariant", *line_id), "sku": l.sku},
                    "originalUnitPriceSet": money(&l.price),
                })
            })
            .collect();
        let fo_lines: Vec<Value> = lines
            .iter()
            .zip(&o.line_ids)
            .zip(&s.lines)
            .map(|((line, (_, fo_line)), l)| {
                json!({
                    "id": gid("FulfillmentOrderLineItem", *fo_line),
                    "remainingQuantity": if o.cancelled_at.is_some() { 0 } else { l.quantity },
                    "totalQuantity": l.quantity,
                    "lineItem": line,
                })
            })
            .collect();
        let status = if o.cancelled_at.is_some() {
            "CANCELLED"
        } else if o.fulfillments.is_empty() {
            "OPEN"
        } else {
            "CLOSED"
        };
        let address = json!({
            "name": format!("{} {}", s.customer_name.0, s.customer_name.1),
            "firstName": s.customer_name.0,
            "lastName": s.customer_name.1,
            "address1": s.address1,
            "address2": null,
            "city": s.city,
            "zip": s.zip,
            "countryCodeV2": s.country_code,
            "company": null,
            "phone": null,
            "provinceCode": null,
        });
        json!({
            "id": gid("Order", o.id),
            "name": format!("#{}", o.number),
            "email": s.email,
            "createdAt": ts(o.created_at),
            "updatedAt": ts(o.updated_at),
            "cancelledAt": o.cancelled_at.map(ts),
            "cancelReason": o.cancel_reason,
            "currencyCode": s.currency,
            "customer": {
                "id": gid("Customer", o.customer_id),
                "email": s.email,
                "firstName": s.customer_name.0,
                "lastName": s.customer_name.1,
                "displayName": format!("{} {}", s.customer_name.0, s.customer_name.1),
            },
            "shippingAddress": address,
            "lineItems": {"__connection": lines},
            "fulfillmentOrders": {"__connection": [{
                "id": gid("FulfillmentOrder", o.fulfillment_order_id),
                "status": status,
                "lineItems": {"__connection": fo_lines},
            }]},
        })
    }

    /// `orders(first:, after:, sortKey: UPDATED_AT, reverse:, query:)`: the filter
    /// `updated_at:>=T` (or `>T`), sorted by (updatedAt, id), paged by a cursor holding both.
    pub fn page(&self, args: &Map<String, Value>) -> Value {
        let query = args
            .get("query")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let since = updated_since(query);
        let mut sorted: Vec<&FakeOrder> = self
            .by_id
            .values()
            .filter(|o| match since {
                Some((t, inclusive)) => o.updated_at > t || (inclusive && o.updated_at == t),
                None => true,
            })
            .collect();
        let by_id_key = args.get("sortKey").and_then(Value::as_str) != Some("UPDATED_AT");
        sorted.sort_by_key(|o| (if by_id_key { None } else { Some(o.updated_at) }, o.id));
        let key = |o: &FakeOrder| {
            let sort = if by_id_key {
                String::new()
            } else {
                ts(o.updated_at)
            };
            base64::engine::general_purpose::STANDARD.encode(format!("{sort}|{}", o.id))
        };
        let after = args.get("after").and_then(Value::as_str);
        let start = match after {
            // Compared by the decoded (sort, id), not by the base64 text.
            Some(c) => sorted
                .iter()
                .position(|o| cursor_after(&key(o), c))
                .unwrap_or(sorted.len()),
            None => 0,
        };
        let first = args
            .get("first")
            .and_then(Value::as_i64)
            .unwrap_or(0)
            .max(0) as usize;
        let end = (start + first).min(sorted.len());
        let page = &sorted[start..end];
        let nodes: Vec<Value> = page.iter().map(|o| self.json(o)).collect();
        let edges: Vec<Value> = page
            .iter()
            .zip(&nodes)
            .map(|(o, n)| json!({"cursor": key(o), "node": n}))
            .collect();
        json!({
            "pageInfo": {
                "hasNextPage": end < sorted.len(),
                "hasPreviousPage": start > 0,
                "startCursor": page.first().map(|o| key(o)),
                "endCursor": page.last().map(|o| key(o)),
            },
            "nodes": nodes,
            "edges": edges,
        })
    }
}

fn decode(cursor: &str) -> Option<(String, u64)> {
    let raw = base64::engine::general_purpose::STANDARD
        .decode(cursor)
        .ok()?;
    let raw = String::from_utf8(raw).ok()?;
    let (sort, id) = raw.rsplit_once('|')?;
    Some((sort.to_owned(), id.parse().ok()?))
}

/// Whether the order keyed `candidate` comes after the cursor `after` in (updatedAt, id).
/// Timestamps are all formatted alike (UTC, milliseconds), so their text sorts as time.
fn cursor_after(candidate: &str, after: &str) -> bool {
    match (decode(candidate), decode(after)) {
        (Some(c), Some(a)) => c > a,
        _ => false,
    }
}

/// `updated_at:>=2026-01-01T00:00:00Z` → (that time, inclusive).
fn updated_since(query: &str) -> Option<(DateTime<Utc>, bool)> {
    let rest = query.trim().strip_prefix("updated_at:")?;
    let (inclusive, rest) = match rest.strip_prefix(">=") {
        Some(r) => (true, r),
        None => (false, rest.strip_prefix('>')?),
    };
    let rest = rest.trim().trim_matches(|c| c == '\'' || c == '"');
    DateTime::parse_from_rfc3339(rest)
        .ok()
        .map(|t| (t.with_timezone(&Utc), inclusive))
}
