//! `supplier.status.retry`: a status update held because no order matched it, tried again on
//! the queue's exponential steps ([`super::status::HELD_RETRY`]). Applied when its order is
//! known by then (usually the forward's answer already applied it: then nothing is left to
//! do); after the last attempt the held row is marked `dead` and the job becomes a dead
//! letter, whose replay tries once more.

use super::db;
use super::status::{self, RetryHeld, Source};
use crate::context::JobContext;
use crate::job::Job;
use async_trait::async_trait;
use switchyard_core::error::AdapterError;
use switchyard_core::supplier::StatusUpdate;
use switchyard_store::queue::ClaimedJob;
use switchyard_store::suppliers::{self as store, UnmatchedState};

pub(super) struct HeldJob;

#[async_trait]
impl Job for HeldJob {
    type Payload = RetryHeld;

    async fn run(
        &self,
        ctx: &JobContext,
        job: &ClaimedJob,
        p: RetryHeld,
    ) -> Result<(), AdapterError> {
        let now = ctx.now();
        let mut tx = switchyard_store::begin(ctx.pool())
            .await
            .map_err(|e| db(e.into()))?;
        let held = store::lock_unmatched(&mut tx, job.org_id, p.id)
            .await
            .map_err(db)?
            .ok_or_else(|| {
                AdapterError::permanent(format!("held status update {} does not exist", p.id))
            })?;
        if held.state == UnmatchedState::Applied.as_str() {
            return Ok(());
        }
        let update: StatusUpdate = serde_json::from_value(held.update.clone())
            .map_err(|e| AdapterError::permanent(format!("held status update {}: {e}", p.id)))?;
        let applied = status::apply_matched(
            &mut tx,
            job.org_id,
            &held.partner,
            &update,
            Source::Retry,
            now,
        )
        .await
        .map_err(db)?;
        if applied.is_some() {
            store::mark_unmatched(&mut tx, held.id, UnmatchedState::Applied, None, now)
                .await
                .map_err(db)?;
            tx.commit().await.map_err(|e| db(e.into()))?;
            return Ok(());
        }
        let message = format!(
            "no order of partner `{}` has supplier id `{}`{} (attempt {} of {})",
            held.partner,
            held.supplier_order_id,
            held.order_number
                .as_deref()
                .map(|n| format!(" or order number `{n}`"))
                .unwrap_or_default(),
            job.attempt,
            job.max_attempts
        );
        let last = job.attempt >= job.max_attempts;
        let state = if last {
            UnmatchedState::Dead
        } else {
            UnmatchedState::Waiting
        };
        store::mark_unmatched(&mut tx, held.id, state, Some(&message), now)
            .await
            .map_err(db)?;
        tx.commit().await.map_err(|e| db(e.into()))?;
        Err(if last {
            AdapterError::permanent(message)
        } else {
            AdapterError::transient(message)
        })
    }
}
