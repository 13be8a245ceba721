//! What every job handler can reach: the hub's services, nothing of any one partner system.
//! (An integration's own state — EDI partner profiles, say — lives in its handlers.)

use crate::adapters::Adapters;
use crate::mappings::Mappings;
use crate::secrets::OrgSecrets;
use chrono::{DateTime, Utc};
use sqlx::PgPool;
use std::sync::Arc;
use switchyard_core::adapter::{AdapterContext, ExchangeSink};
use switchyard_core::clock::Clock;
use switchyard_core::error::AdapterError;
use switchyard_mapping::Mapping;
use switchyard_store::logs::Masker;
use switchyard_store::queue::{ClaimedJob, Queue};

pub struct JobContext {
    pub queue: Queue,
    pub clock: Arc<dyn Clock>,
    /// Where adapters report exchanges (masked and batched into `integration_logs`).
    pub sink: Arc<dyn ExchangeSink>,
    /// Compiled mappings by name, hot-reloaded; every version stays addressable by hash.
    pub mappings: Mappings,
    /// Every configured partner's adapter.
    pub adapters: Arc<Adapters>,
    /// Credentials per organization.
    pub secrets: Arc<dyn OrgSecrets>,
    /// Sensitive field names and every resolved credential value, for text that is stored or
    /// logged (error messages).
    pub masker: Masker,
}

impl JobContext {
    pub fn pool(&self) -> &PgPool {
        self.queue.pool()
    }

    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    /// The current version of mapping `name`, or the version with `hash` when given.
    pub fn mapping(&self, name: &str, hash: Option<&str>) -> Result<Arc<Mapping>, AdapterError> {
        self.mappings.get(name, hash)
    }

    /// The context an adapter call made for `job` gets: the job's idempotency key (passed to
    /// the partner), correlation id and attempt, and the exchange sink.
    pub fn adapter_context(&self, job: &ClaimedJob) -> AdapterContext {
        AdapterContext {
            org: job.org_id,
            job: Some(job.id),
            idempotency_key: job.effect_key(),
            correlation_id: job
                .correlation_id
                .clone()
                .unwrap_or_else(|| job.id.to_string()),
            attempt: job.attempt,
            sink: self.sink.clone(),
        }
    }
}
