//! Orders in, the pull side: `GET /V1/orders` with a `searchCriteria` on `updated_at` from a
//! [`Checkpoint`] (minus [`OVERLAP`]), sorted ascending, into a batch of orders to commit.
//!
//! Why keyset pages rather than `currentPage`: Magento pages by offset, and an order updated
//! while we page moves from an early page to the end, shifting every later order one place
//! back, so the order that was first on the next page slides onto the page already read and is
//! never seen (and the checkpoint then moves past it for good). Each page therefore asks again
//! from the last order read: `updated_at >= T AND (updated_at > T OR entity_id > E)` (two
//! filter groups: groups are ANDed, filters inside a group ORed), sorted by `updated_at` then
//! `entity_id`, always page 1. An order edited meanwhile is met again later, and only its
//! newest version is kept. The pull ends when `total_count` says the page held everything left
//! (Magento answers a page past the end with the last page again, so an empty page never comes).
//!
//! Why the overlap and the seen set: an order saved in the same second as the newest one
//! committed, but by a transaction that committed after our read, would be behind a strict
//! `>` cursor. The query starts [`OVERLAP`] before the checkpoint and drops what it brings
//! again by `(entity_id, updated_at)`. Magento's `updated_at` has whole seconds: an edit in the
//! same second as a version already committed is still skipped (a known gap; the next edit
//! brings it).
//!
//! The caller commits the batch's imports and only then stores [`Batch::next`]: a crash in
//! between pulls the same orders again, which the idempotent import absorbs.

use crate::search::{Condition, Direction, Filter, SearchCriteria};
use crate::MagentoAdapter;
use chrono::{Duration, NaiveDateTime};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use switchyard_core::adapter::AdapterContext;
use switchyard_core::AdapterError;

/// How far before the checkpoint each pull starts again.
pub const OVERLAP: Duration = Duration::minutes(5);

/// Orders per page (Magento's orders carry their items; 50 keeps an answer small).
pub const PAGE_SIZE: u32 = 50;

/// Magento's `updated_at`: UTC, `Y-m-d H:i:s`.
pub const MAGENTO_TIME: &str = "%Y-%m-%d %H:%M:%S";

/// Where the order pull stands: the newest `updated_at` committed, and the
/// `(entity_id, updated_at)` pairs committed within [`OVERLAP`] of it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checkpoint {
    pub since: Option<NaiveDateTime>,
    #[serde(default)]
    pub seen: BTreeSet<(i64, NaiveDateTime)>,
}

/// One pull's orders and the checkpoint to store once they are committed.
pub type Batch = switchyard_runtime::storefront_orders::Batch<Checkpoint>;

/// An order's `(entity_id, updated_at)`, or why it cannot be ordered.
pub fn version(order: &Value) -> Result<(i64, NaiveDateTime), AdapterError> {
    let id = order["entity_id"].as_i64().ok_or_else(|| {
        AdapterError::permanent(format!(
            "a Magento order without entity_id (increment_id {})",
            order["increment_id"]
        ))
    })?;
    let at = order["updated_at"]
        .as_str()
        .and_then(|s| NaiveDateTime::parse_from_str(s, MAGENTO_TIME).ok())
        .ok_or_else(|| {
            AdapterError::permanent(format!(
                "Magento order {id} has no valid updated_at (Y-m-d H:i:s): {}",
                order["updated_at"]
            ))
        })?;
    Ok((id, at))
}

fn time(t: NaiveDateTime) -> String {
    t.format(MAGENTO_TIME).to_string()
}

/// The criteria of one keyset page: from `(at, after_id)` on, or from `floor` on for the first.
pub fn page_criteria(
    floor: Option<NaiveDateTime>,
    last: Option<(i64, NaiveDateTime)>,
    size: u32,
) -> SearchCriteria {
    let mut c = SearchCriteria::new();
    match last {
        Some((id, at)) => {
            c = c
                .and(Filter::new("updated_at", Condition::Gteq, time(at)))
                .and_any(vec![
                    Filter::new("updated_at", Condition::Gt, time(at)),
                    Filter::new("entity_id", Condition::Gt, id.to_string()),
                ]);
        }
        None => {
            if let Some(f) = floor {
                c = c.and(Filter::new("updated_at", Condition::Gteq, time(f)));
            }
        }
    }
    c.sort("updated_at", Direction::Asc)
        .sort("entity_id", Direction::Asc)
        .page_size(size)
        .page(1)
}

impl MagentoAdapter {
    /// Every order changed since `from` (minus the overlap), `page_size` per call.
    pub async fn pull_orders(
        &self,
        ctx: &AdapterContext,
        from: &Checkpoint,
        page_size: u32,
    ) -> Result<Batch, AdapterError> {
        let size = page_size.clamp(1, 1000);
        let floor = from.since.map(|t| t - OVERLAP);
        // entity_id → (updated_at, order): the newest version of each order met.
        let mut newest: BTreeMap<i64, (NaiveDateTime, Value)> = BTreeMap::new();
        let mut last = None;
        let mut pages = 0;
        loop {
            let criteria = page_criteria(floor, last, size);
            let page = self.client().list(ctx, "V1/orders", &criteria).await?;
            pages += 1;
            for order in &page.items {
                let (id, at) = version(order)?;
                last = Some((id, at));
                if from.seen.contains(&(id, at)) {
                    continue; // committed by an earlier pull; the overlap brought it again
                }
                if newest.get(&id).is_none_or(|(seen_at, _)| *seen_at <= at) {
                    newest.insert(id, (at, order.clone()));
                }
            }
            if page.total_count <= u64::from(size) || page.items.is_empty() {
                break;
            }
        }
        let mut orders: Vec<(NaiveDateTime, i64, Value)> = newest
            .into_iter()
            .map(|(id, (at, order))| (at, id, order))
            .collect();
        orders.sort_by_key(|o| (o.0, o.1));
        let since = orders.iter().map(|o| o.0).max().max(from.since);
        let keep_from = since.map(|t| t - OVERLAP);
        let seen = from
            .seen
            .iter()
            .copied()
            .chain(orders.iter().map(|(at, id, _)| (*id, *at)))
            .filter(|(_, at)| keep_from.is_none_or(|k| *at >= k))
            .collect();
        Ok(Batch {
            orders: orders.into_iter().map(|(_, _, o)| o).collect(),
            next: Checkpoint { since, seen },
            pages,
        })
    }

    /// The order whose `increment_id` is `increment_id`, as `GET /V1/orders` lists it.
    pub async fn order_by_increment_id(
        &self,
        ctx: &AdapterContext,
        increment_id: &str,
    ) -> Result<Option<Value>, AdapterError> {
        let criteria = SearchCriteria::new()
            .and(Filter::new("increment_id", Condition::Eq, increment_id))
            .page_size(1)
            .page(1);
        let page = self.client().list(ctx, "V1/orders", &criteria).await?;
        // A store with no match answers total_count 0 and no items.
        Ok(page
            .items
            .into_iter()
            .find(|o| o["increment_id"].as_str() == Some(increment_id)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keyset_pages_ask_from_the_last_order_read() {
        let at = NaiveDateTime::parse_from_str("2026-05-02 10:05:00", MAGENTO_TIME).unwrap();
        let q = page_criteria(None, Some((42, at)), 50).to_query();
        let get = |k: &str| {
            q.iter()
                .find(|(x, _)| x == k)
                .map(|(_, v)| v.as_str())
                .unwrap_or_else(|| panic!("{k} missing: {q:?}"))
        };
        assert_eq!(
            get("searchCriteria[filter_groups][0][filters][0][field]"),
            "updated_at"
        );
        assert_eq!(
            get("searchCriteria[filter_groups][0][filters][0][condition_type]"),
            "gteq"
        );
        assert_eq!(
            get("searchCriteria[filter_groups][0][filters][0][value]"),
            "2026-05-02 10:05:00"
        );
        assert_eq!(
            get("searchCriteria[filter_groups][1][filters][0][condition_type]"),
            "gt"
        );
        assert_eq!(
            get("searchCriteria[filter_groups][1][filters][1][field]"),
            "entity_id"
        );
        assert_eq!(
            get("searchCriteria[filter_groups][1][filters][1][value]"),
            "42"
        );
        assert_eq!(get("searchCriteria[sortOrders][1][field]"), "entity_id");
        assert_eq!(get("searchCriteria[currentPage]"), "1");
        // The first page of a first pull has no filter at all.
        let first = page_criteria(None, None, 50).to_query();
        assert!(
            !first.iter().any(|(k, _)| k.contains("filter_groups")),
            "{first:?}"
        );
    }
}
