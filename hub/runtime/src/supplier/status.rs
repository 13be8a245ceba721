//! Applying a supplier's status updates to our orders: the one place that decides what a
//! delivery changes, whether it came by webhook, poll, the forward's answer or a retry.
//!
//! * **Never backwards**: an update applies only when its (status rank, supplier time) is
//!   above the order's current one; `shipped` before `accepted` ends `shipped`, the late
//!   `accepted` is stale. The same (rank, time) again is a duplicate. Both change nothing.
//! * **Reassigned ids**: an update that names our order number with a new supplier id moves
//!   the order to the new id (the old one kept among the previous ids); nothing is placed again.
//! * **Unknown orders**: the update is held (`supplier_unmatched_updates`) with a
//!   `supplier.status.retry` job, and applied when the order's forward records its id.
//! * **Our order's status** follows [`order_status_for`], and also only forward.
//! * Every applied change records `order.supplier_status_changed` in the same transaction.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sqlx::PgConnection;
use switchyard_core::ids::{OrderId, OrgId};
use switchyard_core::model::OrderStatus;
use switchyard_core::supplier::{StatusUpdate, SupplierStatus};
use switchyard_core::JobPayload;
use switchyard_store::queue::{NewJob, Queue, RetryPolicy, RetrySpec};
use switchyard_store::suppliers::{self as store, Matched, SupplierOrderRow};
use switchyard_store::StoreError;
use uuid::Uuid;

/// The event every applied change records (its data: [`event_data`]).
pub const STATUS_EVENT: &str = "order.supplier_status_changed";

/// How an update arrived (the history's `source`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// The supplier's answer to the order.
    Forward,
    Webhook,
    Poll,
    /// A held update tried again.
    Retry,
    /// A `supplier.status.apply` job.
    Job,
}

impl Source {
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Forward => "forward",
            Source::Webhook => "webhook",
            Source::Poll => "poll",
            Source::Retry => "retry",
            Source::Job => "job",
        }
    }
}

/// What an update did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Applied,
    /// Older than what the order shows (lower rank, or the same rank and not later).
    Stale,
    /// The very change the order shows already.
    Duplicate,
    /// No order of the partner has that id or number: held for a later try.
    Held {
        id: Uuid,
        new: bool,
    },
}

/// Our order's status for a supplier status. The supplier's intermediate steps (a shipping
/// quote, payment) are all `confirmed` to us; `fulfillment_started` is the supplier working
/// on it (`in_production`); `ready` and `delivered` are never set by a supplier.
pub fn order_status_for(status: SupplierStatus) -> OrderStatus {
    match status {
        SupplierStatus::Pending => OrderStatus::Pending,
        SupplierStatus::Accepted
        | SupplierStatus::AwaitingShippingQuote
        | SupplierStatus::AwaitingPayment => OrderStatus::Confirmed,
        SupplierStatus::FulfillmentStarted => OrderStatus::InProduction,
        SupplierStatus::Shipped => OrderStatus::Shipped,
        SupplierStatus::Rejected | SupplierStatus::Cancelled => OrderStatus::Cancelled,
    }
}

/// How far along our order is; a supplier update never moves it to a lower rank (an order we
/// marked delivered stays delivered when a late `shipped` arrives). A held order ranks above
/// all: the hold is our decision, so a supplier's news is recorded on its purchase order
/// (and its event) but does not release our order; whoever releases it sees the news there.
fn order_rank(status: OrderStatus) -> u8 {
    match status {
        OrderStatus::PendingReview => 0,
        OrderStatus::Pending => 1,
        OrderStatus::Confirmed => 2,
        OrderStatus::InProduction => 3,
        OrderStatus::Ready => 4,
        OrderStatus::PartiallyShipped => 5,
        OrderStatus::Shipped => 6,
        OrderStatus::Delivered => 7,
        OrderStatus::Cancelled => 8,
        OrderStatus::OnHold => 9,
    }
}

/// Is `update` ahead of what the order shows?
fn judge(row: &SupplierOrderRow, update: &StatusUpdate, source: Source) -> Outcome {
    let current = row.status.as_deref().and_then(SupplierStatus::parse);
    let (Some(current), Some(at)) = (current, row.supplier_updated_at) else {
        return Outcome::Applied;
    };
    let (rank, cur) = (update.status.rank(), current.rank());
    if rank > cur {
        return Outcome::Applied;
    }
    if rank < cur {
        return Outcome::Stale;
    }
    // The forward's answer carries our clock's time, not the supplier's: at the same rank it
    // says nothing new (a webhook may have told us first).
    if source == Source::Forward {
        return Outcome::Duplicate;
    }
    let same_tracking = update.tracking.is_none()
        || update.tracking.as_ref().map(|t| t.number.as_str()) == row.tracking_number.as_deref();
    match update.updated_at.cmp(&at) {
        std::cmp::Ordering::Greater => Outcome::Applied,
        std::cmp::Ordering::Equal if current == update.status && same_tracking => {
            Outcome::Duplicate
        }
        _ => Outcome::Stale,
    }
}

/// The data of [`STATUS_EVENT`], exactly (the email notifications read it).
pub fn event_data(
    row: &SupplierOrderRow,
    previous_status: Option<&str>,
    updated_at: DateTime<Utc>,
) -> serde_json::Value {
    serde_json::json!({
        "order_id": row.order_id,
        "order_number": row.order_number,
        "customer_id": row.customer_id,
        "partner": row.partner,
        "supplier_order_id": row.supplier_order_id,
        "status": row.status,
        "previous_status": previous_status,
        "supplier_status": row.supplier_status,
        "tracking_number": row.tracking_number,
        "carrier": row.carrier,
        "updated_at": updated_at,
    })
}

/// Apply `update` to the order in `row` (locked by the caller's transaction). `row` is
/// brought up to date when it applies.
pub async fn apply_to(
    conn: &mut PgConnection,
    row: &mut SupplierOrderRow,
    update: &StatusUpdate,
    source: Source,
    now: DateTime<Utc>,
) -> Result<Outcome, StoreError> {
    let outcome = judge(row, update, source);
    if outcome != Outcome::Applied {
        return Ok(outcome);
    }
    let org = OrgId(row.org_id);
    let order = OrderId(row.order_id);
    let previous = row.status.clone();
    row.status = Some(update.status.as_str().to_owned());
    row.supplier_status = Some(update.supplier_status.clone());
    if let Some(t) = &update.tracking {
        row.tracking_number = Some(t.number.clone());
        if t.carrier.is_some() {
            row.carrier = t.carrier.clone();
        }
    }
    row.supplier_updated_at = Some(update.updated_at);
    let supplier_order_id = row
        .supplier_order_id
        .clone()
        .unwrap_or_else(|| update.supplier_order_id.clone());
    store::record_status(
        conn,
        &store::StatusChange {
            org,
            order,
            partner: &row.partner,
            supplier_order_id: &supplier_order_id,
            status: update.status.as_str(),
            previous_status: previous.as_deref(),
            supplier_status: &update.supplier_status,
            tracking_number: row.tracking_number.as_deref(),
            carrier: row.carrier.as_deref(),
            supplier_updated_at: update.updated_at,
            source: source.as_str(),
            now,
        },
    )
    .await?;
    let ours = order_status_for(update.status);
    let current = store::lock_order_status(conn, org, order)
        .await?
        .and_then(|s| OrderStatus::parse(&s));
    if current.is_some_and(|c| order_rank(ours) > order_rank(c)) {
        store::set_order_status(conn, org, order, ours.as_str(), now).await?;
    }
    let data = event_data(row, previous.as_deref(), update.updated_at);
    switchyard_store::events::record(&mut *conn, org, STATUS_EVENT, &data, None).await?;
    tracing::info!(
        order = %row.order_number,
        partner = %row.partner,
        status = update.status.as_str(),
        previous = previous.as_deref().unwrap_or("none"),
        source = source.as_str(),
        "supplier status applied"
    );
    Ok(Outcome::Applied)
}

/// The order now has supplier id `id` (its forward was answered, or the supplier reassigned
/// it): record it, then apply every update held for it, oldest first.
pub async fn adopt_id(
    conn: &mut PgConnection,
    row: &mut SupplierOrderRow,
    id: &str,
    forwarded: bool,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let org = OrgId(row.org_id);
    store::set_supplier_id(conn, org, OrderId(row.order_id), id, forwarded, now).await?;
    if let Some(old) = row.supplier_order_id.replace(id.to_owned()) {
        if old != id && !row.previous_supplier_order_ids.contains(&old) {
            row.previous_supplier_order_ids.push(old);
        }
    }
    let mut ids = row.previous_supplier_order_ids.clone();
    ids.push(id.to_owned());
    let held = store::waiting_for(conn, org, &row.partner, &ids, &row.order_number).await?;
    for h in held {
        let state = match serde_json::from_value::<StatusUpdate>(h.update.clone()) {
            Ok(update) => {
                apply_to(conn, row, &update, Source::Retry, now).await?;
                store::UnmatchedState::Applied
            }
            // Written by this module from a StatusUpdate: unreadable only if the type changed
            // incompatibly; the retry job reports it.
            Err(_) => continue,
        };
        store::mark_unmatched(conn, h.id, state, None, now).await?;
    }
    Ok(())
}

/// Apply `update` to the order it names in the caller's transaction: found by supplier id
/// (current or previous), else by order number (a reassignment: the new id is adopted).
/// `None` when no order of `partner` matches.
pub async fn apply_matched(
    conn: &mut PgConnection,
    org: OrgId,
    partner: &str,
    update: &StatusUpdate,
    source: Source,
    now: DateTime<Utc>,
) -> Result<Option<Outcome>, StoreError> {
    let found = store::find_locked(
        conn,
        org,
        partner,
        &update.supplier_order_id,
        update.order_number.as_deref(),
    )
    .await?;
    let Some((mut row, matched)) = found else {
        return Ok(None);
    };
    if matched == Matched::OrderNumber
        && row.supplier_order_id.as_deref() != Some(update.supplier_order_id.as_str())
    {
        adopt_id(conn, &mut row, &update.supplier_order_id, false, now).await?;
    }
    apply_to(conn, &mut row, update, source, now)
        .await
        .map(Some)
}

/// `supplier.status.retry`: try a held update again (see [`super::held`]).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RetryHeld {
    pub id: Uuid,
}

impl JobPayload for RetryHeld {
    const KIND: &'static str = "supplier.status.retry";
}

/// How a held update is retried: the queue's exponential steps (5 s, 30 s, 5 min, 30 min,
/// 2 h), six tries in all, about 2.6 hours for the order to appear before a dead letter.
pub const HELD_RETRY: RetrySpec = RetrySpec {
    policy: RetryPolicy::Exponential,
    max_attempts: 6,
};

/// Apply `update` in a transaction of its own; an update for an order not known is held and a
/// `supplier.status.retry` job queued with it (once however often it is delivered).
pub async fn apply(
    pool: &sqlx::PgPool,
    org: OrgId,
    partner: &str,
    update: &StatusUpdate,
    source: Source,
    now: DateTime<Utc>,
) -> Result<Outcome, StoreError> {
    let mut tx = switchyard_store::begin(pool).await?;
    let outcome = match apply_matched(&mut tx, org, partner, update, source, now).await? {
        Some(outcome) => outcome,
        None => {
            let held = store::NewUnmatched {
                org,
                partner,
                supplier_order_id: &update.supplier_order_id,
                order_number: update.order_number.as_deref(),
                status: update.status.as_str(),
                supplier_updated_at: update.updated_at,
                update: serde_json::to_value(update).unwrap_or_default(),
                now,
            };
            let (id, new) = store::hold(&mut tx, &held).await?;
            if new {
                let payload = serde_json::to_value(RetryHeld { id }).unwrap_or_default();
                let job = NewJob::new(org, RetryHeld::KIND, payload)
                    .partner(partner)
                    .key(format!("supplier.held:{id}"))
                    .retry(HELD_RETRY);
                // Not before the first retry's delay: the forward's answer usually lands first.
                let job = NewJob {
                    run_at: Some(now + chrono::Duration::seconds(5)),
                    ..job
                };
                Queue::insert_job(&mut *tx, &job, now).await?;
                tracing::info!(
                    partner,
                    supplier_order_id = %update.supplier_order_id,
                    "status update for an order not known yet: held"
                );
            }
            Outcome::Held { id, new }
        }
    };
    tx.commit().await?;
    Ok(outcome)
}

#[cfg(test)]
mod tests {
    use super::*;
    use switchyard_core::supplier::Tracking;

    fn row(status: Option<&str>, at: Option<DateTime<Utc>>) -> SupplierOrderRow {
        let now = Utc::now();
        SupplierOrderRow {
            org_id: Uuid::nil(),
            order_id: Uuid::nil(),
            partner: "p".into(),
            supplier_order_id: Some("S1".into()),
            previous_supplier_order_ids: vec![],
            status: status.map(str::to_owned),
            supplier_status: None,
            tracking_number: None,
            carrier: None,
            supplier_updated_at: at,
            queued_at: now,
            forwarded_at: None,
            updated_at: now,
            order_number: "SO-1".into(),
            customer_id: None,
        }
    }

    fn update(status: SupplierStatus, at: DateTime<Utc>) -> StatusUpdate {
        StatusUpdate {
            supplier_order_id: "S1".into(),
            order_number: None,
            status,
            supplier_status: status.as_str().into(),
            tracking: None,
            updated_at: at,
        }
    }

    #[test]
    fn rank_first_then_time() {
        let t = Utc::now();
        let later = t + chrono::Duration::seconds(1);
        let shipped = row(Some("shipped"), Some(t));
        use Outcome::*;
        assert_eq!(
            judge(
                &row(None, None),
                &update(SupplierStatus::Accepted, t),
                Source::Webhook
            ),
            Applied
        );
        // Accepted after shipped, even with a later time: never backwards.
        assert_eq!(
            judge(
                &shipped,
                &update(SupplierStatus::Accepted, later),
                Source::Webhook
            ),
            Stale
        );
        assert_eq!(
            judge(
                &shipped,
                &update(SupplierStatus::Shipped, t),
                Source::Webhook
            ),
            Duplicate
        );
        assert_eq!(
            judge(
                &shipped,
                &update(SupplierStatus::Cancelled, t),
                Source::Webhook
            ),
            Applied
        );
        let mut tracked = update(SupplierStatus::Shipped, later);
        tracked.tracking = Some(Tracking {
            number: "1Z".into(),
            carrier: None,
        });
        assert_eq!(judge(&shipped, &tracked, Source::Webhook), Applied);
        assert_eq!(
            judge(
                &shipped,
                &update(SupplierStatus::Shipped, later),
                Source::Forward
            ),
            Duplicate
        );
    }

    #[test]
    fn the_status_mapping_never_skips_a_status_we_sell_by() {
        assert_eq!(
            order_status_for(SupplierStatus::Shipped),
            OrderStatus::Shipped
        );
        assert_eq!(
            order_status_for(SupplierStatus::Rejected),
            OrderStatus::Cancelled
        );
        assert_eq!(
            order_status_for(SupplierStatus::AwaitingPayment),
            OrderStatus::Confirmed
        );
        assert_eq!(
            order_status_for(SupplierStatus::FulfillmentStarted),
            OrderStatus::InProduction
        );
        for s in SupplierStatus::ALL {
            // A higher supplier rank never maps to a lower order rank.
            for t in SupplierStatus::ALL {
                if s.rank() < t.rank() {
                    assert!(order_rank(order_status_for(s)) <= order_rank(order_status_for(t)));
                }
            }
        }
    }
}
