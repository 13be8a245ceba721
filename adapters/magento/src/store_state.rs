//! The status our copy of a Magento order takes from a version of it the pull brought: what
//! the store's `state` says, and nothing more. Only a change of the store's state moves our
//! order (`canceled` cancels it, `holded` holds it, leaving `holded` releases it); any other
//! new version (an edit, a note we added, our own hold coming back) keeps our status, which
//! may have moved on (in production, ready) or be waiting for its push to reach the store.
//! Without this, every note we add (an order save that moves `updated_at`) would come back
//! with the pull and put our order back to `confirmed`, whose note would come back again.

use switchyard_core::model::OrderStatus;

/// The status of an order we store for the first time.
pub fn on_insert(state: &str) -> OrderStatus {
    match state {
        "canceled" => OrderStatus::Cancelled,
        // Released to `confirmed` (migration 0036 records it as the status held from).
        "holded" => OrderStatus::OnHold,
        _ => OrderStatus::Confirmed,
    }
}

/// The status of our order (`ours`, held from `held_from`) after a newer version whose state
/// is `now`; `before` is the state of the version stored last.
pub fn on_update(
    ours: OrderStatus,
    held_from: Option<OrderStatus>,
    before: Option<&str>,
    now: &str,
) -> OrderStatus {
    match now {
        // The store's cancellation wins; an order that shipped meanwhile is refused by the
        // status check, a dead letter naming both statuses.
        "canceled" => OrderStatus::Cancelled,
        "holded" if ours.can_become(OrderStatus::OnHold) => OrderStatus::OnHold,
        // The store released a hold it had (its own, or ours come back): back to where we were.
        _ if ours == OrderStatus::OnHold && before == Some("holded") => {
            held_from.unwrap_or(OrderStatus::Confirmed)
        }
        _ => ours,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use OrderStatus::*;

    #[test]
    fn a_new_order_takes_the_store_state() {
        assert_eq!(on_insert("processing"), Confirmed);
        assert_eq!(on_insert("holded"), OnHold);
        assert_eq!(on_insert("canceled"), Cancelled);
    }

    #[test]
    fn only_a_change_of_the_store_state_moves_our_order() {
        // A note of ours came back (same state): our status stays, however far it moved.
        let p = Some("processing");
        assert_eq!(on_update(InProduction, None, p, "processing"), InProduction);
        assert_eq!(on_update(Ready, None, p, "processing"), Ready);
        // Our hold is waiting for its push: an edit in the store does not release it.
        assert_eq!(on_update(OnHold, Some(Ready), p, "processing"), OnHold);
        // Our cancellation is waiting for its push: the store's open order does not revive it.
        assert_eq!(on_update(Cancelled, None, p, "processing"), Cancelled);
        // The store holds and releases.
        assert_eq!(on_update(Ready, None, p, "holded"), OnHold);
        assert_eq!(
            on_update(OnHold, Some(Ready), Some("holded"), "processing"),
            Ready
        );
        assert_eq!(
            on_update(OnHold, Some(Pending), Some("holded"), "holded"),
            OnHold
        );
        // A held store order we cannot hold (shipped in part) keeps our status.
        assert_eq!(
            on_update(PartiallyShipped, None, p, "holded"),
            PartiallyShipped
        );
        assert_eq!(
            on_update(OnHold, Some(Confirmed), Some("holded"), "canceled"),
            Cancelled
        );
    }
}
