//! `notify.digest` (scheduled daily, `schedules/notify-digest.toml`; its cron is the digest's
//! time): one `notify.email` digest job per customer, in every organization, that has events
//! kept for the digest. The digest job's key is this job's id and the customer, so this job
//! run again (a retry) enqueues nothing twice; each mail claims its items when it runs.

use super::job::NotifyEmail;
use crate::context::JobContext;
use crate::job::{Job, JobKindSpec};
use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use switchyard_core::error::AdapterError;
use switchyard_core::JobPayload;
use switchyard_store::notifications as store;
use switchyard_store::queue::{ClaimedJob, NewJob};

/// No parameters.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Digest {}

impl JobPayload for Digest {
    const KIND: &'static str = "notify.digest";
}

struct Collector;

pub fn spec() -> JobKindSpec {
    JobKindSpec::typed(Collector)
}

#[async_trait]
impl Job for Collector {
    type Payload = Digest;

    async fn run(&self, ctx: &JobContext, job: &ClaimedJob, _: Digest) -> Result<(), AdapterError> {
        let until = ctx.now();
        let due = store::digest_due(ctx.pool(), until)
            .await
            .map_err(|e| AdapterError::transient(e.to_string()))?;
        let count = due.len();
        for (org, customer) in due {
            let payload = NotifyEmail::Digest {
                customer: customer.clone(),
                until,
            };
            let new = NewJob::new(
                org,
                NotifyEmail::KIND,
                serde_json::to_value(&payload).expect("the payload serializes"),
            )
            .key(format!("digest:{}:{customer}", job.id));
            ctx.queue
                .enqueue(new)
                .await
                .map_err(|e| AdapterError::transient(e.to_string()))?;
        }
        tracing::info!(customers = count, "digest mails enqueued");
        Ok(())
    }
}
