//! One bulk mutation per connection across processes: the `shopify_bulk_operations` row is a
//! lease (migration 1203). Shopify runs one bulk mutation per app and shop, so two daemons (or
//! two workers) pushing catalog or prices pages of the same (org, partner) must take turns, and neither
//! may follow and clear an operation the other is still following.
//!
//! A bulk push claims the row atomically before it looks at what is in flight (one
//! `INSERT … ON CONFLICT DO UPDATE … WHERE` the lease is free, expired or its own), renews
//! `lease_until` every third of `bulk_lease_secs` from a task while it stages, runs and
//! follows, and releases it when done. A push that finds another owner's live lease polls the
//! row every `bulk_poll_ms` until it is free, for at most `bulk_max_wait_secs`, then its lines
//! are a transient error naming the owner (the queue retries the job; nothing fails, nothing
//! is adopted). A crashed owner stops renewing: once `lease_until` passes, the next push takes
//! the row over and follows the operation it left, as before.
//!
//! Why a lease row rather than `pg_try_advisory_lock`: an advisory lock lives on one pooled
//! connection for as long as an operation is followed (up to `bulk_max_wait_secs`, with a
//! 2-connection pool), a dropped connection (a database restart, a pooler) releases it without
//! the holder noticing, so a live follower could be joined by a second one; and it is
//! invisible next to the operation it guards. The row says who follows what until when, every
//! write is guarded by `owner` so a holder that lost its lease cannot clobber the new owner's
//! state, and expiry bounds how long a crash blocks the connection (`bulk_lease_secs`).

use crate::adapter::ShopifyAdapter;
use crate::bulk_store::{BulkStore, Claim};
use std::time::{Duration, Instant};
use switchyard_core::adapter::AdapterContext;
use switchyard_core::error::AdapterError;
use switchyard_core::ids::{OrgId, PartnerName};
use tokio::task::JoinHandle;
use tracing::{info, warn};

/// The lease this push holds; the renewal task stops when it is dropped.
pub(crate) struct Lease<'a> {
    adapter: &'a ShopifyAdapter,
    org: OrgId,
    renewal: Option<JoinHandle<()>>,
}

impl Drop for Lease<'_> {
    fn drop(&mut self) {
        if let Some(task) = self.renewal.take() {
            task.abort();
        }
    }
}

impl Lease<'_> {
    /// Give the lease up (the renewal stops first, so it cannot extend a released row). A
    /// failure is logged: the lease then expires on its own.
    pub(crate) async fn release(mut self) {
        if let Some(task) = self.renewal.take() {
            task.abort();
        }
        if let Err(e) = self
            .adapter
            .bulk_store()
            .release(self.org, self.adapter.partner())
            .await
        {
            warn!(error = %e.message, "could not release the bulk lease; it expires by itself");
        }
    }
}

/// Renew every third of the lease, so two renewals can fail before it expires.
fn spawn_renewal(
    store: &BulkStore,
    org: OrgId,
    partner: &PartnerName,
    ttl: Duration,
) -> Option<JoinHandle<()>> {
    let pool = store.pool()?.clone();
    let owner = store.owner().to_owned();
    let partner = partner.clone();
    Some(tokio::spawn(async move {
        let mut tick = tokio::time::interval(ttl / 3);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        tick.tick().await;
        loop {
            tick.tick().await;
            match BulkStore::renew(&pool, org, &partner, &owner, ttl).await {
                Ok(true) => {}
                Ok(false) => {
                    // Its guarded writes now fail, which stops the push.
                    warn!(partner = %partner.0, owner, "the bulk lease was taken over after it expired");
                    return;
                }
                Err(e) => warn!(error = %e.message, "renewing the bulk lease failed; trying again"),
            }
        }
    }))
}

impl ShopifyAdapter {
    /// Claim the connection's bulk lease, waiting while another live process holds it (at
    /// most `bulk_max_wait_secs`, then a transient error naming it).
    pub(crate) async fn bulk_lease(&self, ctx: &AdapterContext) -> Result<Lease<'_>, AdapterError> {
        let cfg = self.config();
        let store = self.bulk_store();
        let started = Instant::now();
        let mut logged = false;
        loop {
            match store.claim(ctx.org, self.partner(), cfg.bulk_lease).await? {
                Claim::Granted => {
                    if logged {
                        info!(
                            waited_ms = started.elapsed().as_millis() as u64,
                            "bulk lease free; this push goes on"
                        );
                    }
                    return Ok(Lease {
                        adapter: self,
                        org: ctx.org,
                        renewal: spawn_renewal(store, ctx.org, self.partner(), cfg.bulk_lease),
                    });
                }
                Claim::Held {
                    owner,
                    until,
                    operation,
                } => {
                    if started.elapsed() >= cfg.bulk_max_wait {
                        return Err(AdapterError::transient(format!(
                            "another process ({owner}) holds this connection's bulk lease until {until} (operation {}); waited {} s, retried later",
                            operation.as_deref().unwrap_or("not yet submitted"),
                            started.elapsed().as_secs()
                        )));
                    }
                    if !logged {
                        info!(owner, operation = ?operation, "another process runs this connection's bulk mutation; waiting for it");
                        logged = true;
                    }
                    // The row is polled: the owner's release is an UPDATE/DELETE we are not
                    // told of, and a crashed owner's lease ends by time alone.
                    tokio::time::sleep(cfg.bulk_poll).await;
                }
            }
        }
    }
}
