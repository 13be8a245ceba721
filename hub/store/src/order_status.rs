//! A person's change of an order's status (`POST /orders/{id}/hold|release|cancel`): put on
//! hold, released to the status it was held from, or cancelled. One transaction per change:
//! the order's row locked, the step checked, the status written with the reason; the outbox
//! rows follow from triggers in that same transaction (the order's `order.updated` /
//! `order.cancelled`, and for an order from a Magento store its `magento.order.status` push).
//!
//! The reason travels to those triggers as the transaction's local setting
//! `switchyard.status_note`, which migration 0036 copies into `orders.status_reason` on every
//! status change: a reason is never left behind for a later change by a path that gives none.

use crate::db::Result;
use crate::orders::{OrderRow, RawRow, COLUMNS};
use crate::StoreError;
use sqlx::PgPool;
use switchyard_core::ids::{OrderId, OrgId};
use switchyard_core::model::OrderStatus;

/// What to do to the order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change<'a> {
    /// To `on_hold`, from a status in [`OrderStatus::HOLDABLE`].
    Hold { reason: &'a str },
    /// From `on_hold` back to the status it was held from.
    Release { note: Option<&'a str> },
    /// To `cancelled`, from any status before shipping (held too).
    Cancel { reason: &'a str },
}

/// What happened.
#[derive(Debug, Clone, PartialEq)]
pub enum Changed {
    /// The order moved; the row after the change.
    Moved {
        from: OrderStatus,
        row: Box<OrderRow>,
    },
    /// The order had the change's status already (a retried request): nothing was written.
    Already(Box<OrderRow>),
}

/// The status `change` takes an order in `current` (held from `held_from`) to, or a
/// `Conflict` naming both.
pub fn next_status(
    current: OrderStatus,
    held_from: Option<OrderStatus>,
    change: Change<'_>,
) -> Result<OrderStatus> {
    let next = match change {
        Change::Hold { .. } => OrderStatus::OnHold,
        Change::Cancel { .. } => OrderStatus::Cancelled,
        Change::Release { .. } if current == OrderStatus::OnHold => held_from
            .ok_or_else(|| StoreError::Invalid("an order on hold without held_from".to_owned()))?,
        Change::Release { .. } => {
            return Err(StoreError::Conflict(format!(
                "the order is {}, not on_hold: there is nothing to release",
                current.as_str()
            )))
        }
    };
    if current.can_become(next) {
        Ok(next)
    } else {
        Err(StoreError::Conflict(format!(
            "an order cannot go from {} to {}",
            current.as_str(),
            next.as_str()
        )))
    }
}

/// Apply `change` to order `id` (see the module doc). Errors: no such order (`NotFound`),
/// a step its status does not allow (`Conflict`, naming from and to).
pub async fn change(pool: &PgPool, org: OrgId, id: OrderId, change: Change<'_>) -> Result<Changed> {
    let mut tx = crate::begin(pool).await?;
    let row: Option<RawRow> = sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM orders WHERE org_id = $1 AND id = $2 FOR UPDATE"
    ))
    .bind(org.0)
    .bind(id.0)
    .fetch_optional(&mut *tx)
    .await?;
    let row = OrderRow::try_from(row.ok_or(StoreError::NotFound("order"))?)?;
    let next = next_status(row.status, row.held_from, change)?;
    if next == row.status {
        return Ok(Changed::Already(Box::new(row)));
    }
    let reason = match change {
        Change::Hold { reason } | Change::Cancel { reason } => Some(reason),
        Change::Release { note } => note,
    };
    sqlx::query("SELECT set_config('switchyard.status_note', $1, true)")
        .bind(reason.unwrap_or_default())
        .execute(&mut *tx)
        .await?;
    // The canonical order's `status` follows, as shipments keep it (events and exports read it).
    let updated: RawRow = sqlx::query_as(&format!(
        "UPDATE orders SET status = $3,
             canonical = jsonb_set(canonical, '{{status}}', to_jsonb($3::text)),
             updated_at = now()
         WHERE org_id = $1 AND id = $2 RETURNING {COLUMNS}"
    ))
    .bind(org.0)
    .bind(id.0)
    .bind(next.as_str())
    .fetch_one(&mut *tx)
    .await?;
    let updated = OrderRow::try_from(updated)?;
    tx.commit().await?;
    Ok(Changed::Moved {
        from: row.status,
        row: Box::new(updated),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use OrderStatus::*;

    #[test]
    fn a_release_returns_to_the_status_held_from() {
        let release = Change::Release { note: None };
        assert_eq!(
            next_status(OnHold, Some(InProduction), release).unwrap(),
            InProduction
        );
        let e = next_status(Confirmed, None, release).unwrap_err();
        assert!(e.to_string().contains("is confirmed, not on_hold"), "{e}");
    }

    #[test]
    fn illegal_steps_name_from_and_to() {
        let hold = Change::Hold { reason: "x" };
        let e = next_status(Shipped, None, hold).unwrap_err();
        assert!(matches!(e, StoreError::Conflict(_)));
        assert!(e.to_string().contains("from shipped to on_hold"), "{e}");
        let cancel = Change::Cancel { reason: "x" };
        assert_eq!(next_status(OnHold, Some(Ready), cancel).unwrap(), Cancelled);
        let e = next_status(Delivered, None, cancel).unwrap_err();
        assert!(e.to_string().contains("from delivered to cancelled"), "{e}");
        assert_eq!(next_status(OnHold, Some(Pending), hold).unwrap(), OnHold);
    }
}
