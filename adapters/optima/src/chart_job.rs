//! `optima.accounts.sync` (the job's partner names the connection): pull the chart of accounts
//! and apply it to the organization's (`chart_store::apply`). Manual
//! (`POST /integrations/comarch/sync-accounts`) and scheduled (schedules/optima-accounts.toml).

use crate::chart_store;
use crate::routes::Connections;
use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use switchyard_core::error::AdapterError;
use switchyard_core::JobPayload;
use switchyard_runtime::context::JobContext;
use switchyard_runtime::job::{Job, JobKindSpec, PartnerRule, PartnerSource};
use switchyard_store::queue::ClaimedJob;
use tracing::{info, info_span, Instrument};

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SyncAccounts {}

impl JobPayload for SyncAccounts {
    const KIND: &'static str = "optima.accounts.sync";
}

fn nothing(_: &serde_json::Value) -> &'static [switchyard_core::adapter::Capability] {
    &[]
}

/// A job that names an Optima connection as its partner and needs nothing it declares (it
/// reads the connection's settings or its chart, never pushes).
pub(crate) const CONNECTION_JOB: PartnerRule = PartnerRule {
    source: PartnerSource::Job,
    required: true,
    kinds: &[crate::KIND],
    needs: nothing,
};

pub fn spec(connections: Arc<Connections>) -> JobKindSpec {
    JobKindSpec::typed(SyncAccountsJob { connections }).partner(CONNECTION_JOB)
}

struct SyncAccountsJob {
    connections: Arc<Connections>,
}

#[async_trait]
impl Job for SyncAccountsJob {
    type Payload = SyncAccounts;

    async fn run(
        &self,
        ctx: &JobContext,
        job: &ClaimedJob,
        _: SyncAccounts,
    ) -> Result<(), AdapterError> {
        let partner = job.partner.as_deref().unwrap_or_default();
        let span = info_span!("optima.accounts.sync", partner = %partner, job = %job.id);
        async {
            let adapter = self.connections.get(partner).ok_or_else(|| {
                AdapterError::permanent(format!("no Optima connection `{partner}`"))
            })?;
            crate::routes::job_owns(ctx.pool(), job.org_id, adapter, partner).await?;
            let accounts = adapter.pull_accounts(&ctx.adapter_context(job)).await?;
            // An empty chart is far likelier an export gone wrong than a company without
            // accounts; taking it would mark every account inactive.
            if accounts.is_empty() {
                return Err(AdapterError::permanent(
                    "Optima's chart of accounts is empty; nothing was marked inactive",
                ));
            }
            let applied = chart_store::apply(ctx.pool(), job.org_id, partner, &accounts, ctx.now())
                .await
                .map_err(|e| AdapterError::transient(format!("storing the chart: {e}")))?;
            info!(
                accounts = applied.accounts,
                added = applied.added,
                changed = applied.changed,
                deactivated = applied.deactivated,
                "chart of accounts pulled"
            );
            Ok(())
        }
        .instrument(span)
        .await
    }
}
