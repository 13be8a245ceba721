//! `supplier.status.poll`: for suppliers that send no webhooks (`Supplier::polled()`), ask
//! for the status changes since the stored cursor, page by page, apply each and keep the
//! cursor past the page (schedules/supplier-status-poll.toml). A run that dies re-reads at
//! most one page, and applying an update twice changes nothing.

use super::status::{self, Source};
use super::{db, org_slug};
use crate::context::JobContext;
use crate::job::Job;
use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use switchyard_core::error::AdapterError;
use switchyard_core::JobPayload;
use switchyard_store::queue::ClaimedJob;
use switchyard_store::suppliers as store;

/// `supplier.status.poll` {partner?}: one polled supplier, or every polled supplier of the
/// job's organization.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PollStatus {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub partner: Option<String>,
}

impl JobPayload for PollStatus {
    const KIND: &'static str = "supplier.status.poll";
}

/// Pages read per partner per run: a supplier that always says "more" cannot hold a worker
/// for ever; the next tick goes on from the cursor.
const MAX_PAGES: usize = 100;

pub(super) struct PollJob {
    /// Each configured partner's organization.
    pub(super) orgs: BTreeMap<String, String>,
}

#[async_trait]
impl Job for PollJob {
    type Payload = PollStatus;

    async fn run(
        &self,
        ctx: &JobContext,
        job: &ClaimedJob,
        p: PollStatus,
    ) -> Result<(), AdapterError> {
        let partners: Vec<String> = match p.partner {
            Some(partner) => vec![partner],
            None => {
                let slug = org_slug(ctx, job.org_id).await?;
                ctx.adapters
                    .iter()
                    .filter(|(name, a)| {
                        a.as_supplier().is_some_and(|s| s.polled())
                            && self.orgs.get(*name) == slug.as_ref()
                    })
                    .map(|(name, _)| name.to_owned())
                    .collect()
            }
        };
        for partner in partners {
            poll_one(ctx, job, &partner).await?;
        }
        Ok(())
    }
}

async fn poll_one(ctx: &JobContext, job: &ClaimedJob, partner: &str) -> Result<(), AdapterError> {
    let adapter = ctx
        .adapters
        .get(partner)
        .ok_or_else(|| AdapterError::permanent(format!("unknown partner `{partner}`")))?;
    let supplier = adapter
        .as_supplier()
        .ok_or_else(|| AdapterError::permanent(format!("partner `{partner}` is not a supplier")))?;
    let org = job.org_id;
    let actx = ctx.adapter_context(job);
    let mut cursor = store::poll_cursor(ctx.pool(), org, partner)
        .await
        .map_err(db)?;
    let mut applied = 0usize;
    for _ in 0..MAX_PAGES {
        let page = supplier.status_changes(&actx, cursor.as_deref()).await?;
        for update in &page.updates {
            if status::apply(ctx.pool(), org, partner, update, Source::Poll, ctx.now())
                .await
                .map_err(db)?
                == status::Outcome::Applied
            {
                applied += 1;
            }
        }
        if page.next_cursor.is_some() {
            cursor = page.next_cursor;
        }
        let mut conn = ctx.pool().acquire().await.map_err(|e| db(e.into()))?;
        store::set_poll_cursor(&mut conn, org, partner, cursor.as_deref(), ctx.now())
            .await
            .map_err(db)?;
        if !page.more {
            break;
        }
    }
    tracing::info!(partner, applied, "supplier status polled");
    Ok(())
}
