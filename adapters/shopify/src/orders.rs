//! Orders in, the pull side: `orders(sortKey: UPDATED_AT, query: "updated_at:>=…")` from a
//! [`Checkpoint`], page by page, into a batch of orders to commit.
//!
//! Why the overlap and the seen set: Shopify's search index lags writes by a moment, so an
//! order updated just before the last pull's newest `updatedAt` can surface only later. The
//! query therefore starts [`OVERLAP`] before the checkpoint, and what the overlap brings again
//! is recognised by `(id, updatedAt)` and dropped. An order edited while the pull pages moves
//! behind the cursor (Shopify's cursors hold the sort key) and is met again on a later page:
//! only its newest version is kept.
//!
//! The caller commits the batch's orders and only then stores [`Batch::next`]: a crash in
//! between pulls the same orders again, which the idempotent order import absorbs.

use crate::client::CallError;
use crate::ShopifyAdapter;
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};
use switchyard_core::adapter::AdapterContext;
use switchyard_core::error::AdapterError;

/// How far before the checkpoint each pull starts again.
pub const OVERLAP: Duration = Duration::minutes(5);

/// Orders per page. The requested cost of an order is about 7 + 4 × [`LINES`] = 107 points
/// (each line's variant and money objects), so 8 orders (858 points) stay under the
/// 1,000-point single-query maximum.
pub const PAGE_SIZE: i64 = 8;

/// Line items read per order with the order. An order with more has the rest read page by
/// page ([`LINE_PAGE`] at a time, `order(id:) { lineItems(after:) }`) before it is returned:
/// an order is never imported with lines missing.
pub const LINES: usize = 25;

/// Line items per follow-up page: about 4 points a line, so 100 lines (≈ 405 points) stay
/// well under the 1,000-point single-query maximum.
pub const LINE_PAGE: i64 = 100;

/// The fields of a line item (shared by the order and its follow-up pages).
macro_rules! line_fields {
    () => {
        "id sku name quantity variant { id sku } originalUnitPriceSet { shopMoney { amount currencyCode } }"
    };
}

/// The fields of an order read, shared by the pull and the webhook re-read (a macro so the
/// queries stay literal strings the fake and Shopify parse as written).
macro_rules! order_fields {
    () => {
        concat!(
            "id name email createdAt updatedAt cancelledAt cancelReason currencyCode
      customer { id email firstName lastName displayName }
      shippingAddress { name firstName lastName company address1 address2 city provinceCode zip countryCodeV2 phone }
      lineItems(first: 25) { pageInfo { hasNextPage endCursor } nodes { ",
            line_fields!(),
            " } }
      fulfillmentOrders(first: 5) { nodes { id status } }"
        )
    };
}

const ORDERS: &str = concat!(
    "query Orders($first: Int!, $after: String, $q: String) {
  orders(first: $first, after: $after, sortKey: UPDATED_AT, query: $q) {
    pageInfo { hasNextPage endCursor }
    nodes { ",
    order_fields!(),
    " } } }"
);

const ORDER: &str = concat!(
    "query Order($id: ID!) { order(id: $id) { ",
    order_fields!(),
    " } }"
);

const MORE_LINES: &str = concat!(
    "query OrderLines($id: ID!, $n: Int!, $after: String) { order(id: $id) { id lineItems(first: $n, after: $after) { pageInfo { hasNextPage endCursor } nodes { ",
    line_fields!(),
    " } } } }"
);

/// Where the order pull stands: the newest `updatedAt` committed, and the `(id, updatedAt)`
/// pairs committed within [`OVERLAP`] of it (what the next pull's overlap will bring again).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checkpoint {
    pub since: Option<DateTime<Utc>>,
    #[serde(default)]
    pub seen: BTreeSet<(String, DateTime<Utc>)>,
}

/// One pull's orders and the checkpoint to store once they are committed.
pub type Batch = switchyard_runtime::storefront_orders::Batch<Checkpoint>;

fn updated_at(order: &Value) -> Result<(String, DateTime<Utc>), AdapterError> {
    let id = order["id"].as_str().unwrap_or_default().to_owned();
    let at = order["updatedAt"]
        .as_str()
        .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
        .ok_or_else(|| {
            AdapterError::permanent(format!("Shopify order `{id}` has no valid updatedAt"))
        })?;
    Ok((id, at.with_timezone(&Utc)))
}

impl ShopifyAdapter {
    /// Read the rest of an order's line items, page by page after the cursor the order came
    /// with, into `order.lineItems.nodes`; afterwards `pageInfo.hasNextPage` is false.
    async fn all_lines(&self, ctx: &AdapterContext, order: &mut Value) -> Result<(), AdapterError> {
        let id = order["id"].as_str().unwrap_or_default().to_owned();
        let mut page = order["lineItems"]["pageInfo"].clone();
        while page["hasNextPage"].as_bool() == Some(true) {
            let after = page["endCursor"].as_str().ok_or_else(|| {
                AdapterError::permanent(format!(
                    "Shopify order `{id}` has more line items but no cursor to read them"
                ))
            })?;
            let data = self
                .client()
                .call(
                    ctx,
                    "orderLines",
                    MORE_LINES,
                    json!({"id": id, "n": LINE_PAGE, "after": after}),
                )
                .await
                .map_err(CallError::into_adapter)?;
            let lines = &data["order"]["lineItems"];
            if lines.is_null() {
                // Deleted between the two reads: the next pull or webhook says what is left.
                return Err(AdapterError::transient(format!(
                    "Shopify order `{id}` disappeared while its line items were read"
                )));
            }
            let more = lines["nodes"].as_array().cloned().unwrap_or_default();
            match order["lineItems"]["nodes"].as_array_mut() {
                Some(nodes) => nodes.extend(more),
                None => order["lineItems"]["nodes"] = Value::Array(more),
            }
            page = lines["pageInfo"].clone();
        }
        order["lineItems"]["pageInfo"] =
            json!({"hasNextPage": false, "endCursor": page["endCursor"]});
        Ok(())
    }

    /// One order as the pull reads it (`order(id:)`), for a webhook; None when the shop has
    /// no such order (deleted since).
    pub async fn order(
        &self,
        ctx: &AdapterContext,
        gid: &str,
    ) -> Result<Option<Value>, AdapterError> {
        let data = self
            .client()
            .call(ctx, "order", ORDER, json!({"id": gid}))
            .await
            .map_err(CallError::into_adapter)?;
        let mut order = data["order"].clone();
        if order.is_null() {
            return Ok(None);
        }
        self.all_lines(ctx, &mut order).await?;
        Ok(Some(order))
    }

    /// Every order changed since `from` (minus the overlap), `page_size` per call.
    pub async fn pull_orders(
        &self,
        ctx: &AdapterContext,
        from: &Checkpoint,
        page_size: i64,
    ) -> Result<Batch, AdapterError> {
        let q = from.since.map(|t| {
            format!(
                "updated_at:>='{}'",
                (t - OVERLAP).to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
            )
        });
        // id → (updatedAt, order): the newest version of each order met.
        let mut newest: BTreeMap<String, (DateTime<Utc>, Value)> = BTreeMap::new();
        let mut after: Option<String> = None;
        let mut pages = 0;
        loop {
            let data = self
                .client()
                .call(
                    ctx,
                    "orders",
                    ORDERS,
                    json!({"first": page_size.clamp(1, 250), "after": after, "q": q}),
                )
                .await
                .map_err(CallError::into_adapter)?;
            pages += 1;
            let page = &data["orders"];
            for order in page["nodes"].as_array().into_iter().flatten() {
                let (id, at) = updated_at(order)?;
                if from.seen.contains(&(id.clone(), at)) {
                    continue; // committed by an earlier pull; the overlap brought it again
                }
                // A later page read an equal timestamp: Shopify's are coarse (seconds), so an
                // edit made in the same second as the version read earlier must still win.
                if newest.get(&id).is_none_or(|(seen_at, _)| *seen_at <= at) {
                    let mut order = order.clone();
                    self.all_lines(ctx, &mut order).await?;
                    newest.insert(id, (at, order));
                }
            }
            match page["pageInfo"]["endCursor"].as_str() {
                Some(cursor) if page["pageInfo"]["hasNextPage"].as_bool() == Some(true) => {
                    after = Some(cursor.to_owned());
                }
                _ => break,
            }
        }
        let mut orders: Vec<(DateTime<Utc>, String, Value)> = newest
            .into_iter()
            .map(|(id, (at, order))| (at, id, order))
            .collect();
        orders.sort_by(|a, b| (a.0, &a.1).cmp(&(b.0, &b.1)));
        let since = orders.iter().map(|o| o.0).max().max(from.since);
        let keep_from = since.map(|t| t - OVERLAP);
        let seen = from
            .seen
            .iter()
            .cloned()
            .chain(orders.iter().map(|(at, id, _)| (id.clone(), *at)))
            .filter(|(_, at)| keep_from.is_none_or(|k| *at >= k))
            .collect();
        Ok(Batch {
            orders: orders.into_iter().map(|(_, _, o)| o).collect(),
            next: Checkpoint { since, seen },
            pages,
        })
    }
}
