//! `catalog.sync`: read a catalog file, map every record through a mapping file, and enqueue
//! one `partner.push` per mapped record (keyed by partner, key field and content, so a re-run
//! of an unchanged catalog pushes nothing twice). A record that fails mapping becomes a
//! `record.push` dead letter with its error and the mapping's version; the rest proceeds.
//!
//! The file is named relative to the configured inbox (`[paths] inbox`) and read only from
//! there (see [`crate::inbox`]): admission refuses a payload whose `source` is absolute,
//! climbs out with `..` or a symlink, or is not a regular file within the size limit (a 422 at
//! the API), and the job opens it the same confined way when it runs, so a file swapped for a
//! symlink or a FIFO after admission fails the job for good instead of leaking or hanging it.

use crate::context::JobContext;
use crate::inbox::{FileRefusal, Inbox};
use crate::job::{payload_as, Job, JobKindSpec, PayloadCheck, PayloadProblem};
use crate::jobs::push::{PushDocument, PushRecord, PUSH_RULE};
use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};
use switchyard_core::error::AdapterError;
use switchyard_core::JobPayload;
use switchyard_store::queue::{ClaimedJob, NewJob, RetrySpec};

fn default_document() -> String {
    "catalog".into()
}

fn default_key_field() -> String {
    "sku".into()
}

/// `{"source": "catalog.csv", "mapping": "http/catalog.out", "document": "catalog",
/// "key_field": "sku", "push_retry": {...}}`; `source` is relative to the inbox; the job's
/// partner receives the pushes.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CatalogSync {
    pub source: String,
    pub mapping: String,
    #[serde(default = "default_document")]
    pub document: String,
    #[serde(default = "default_key_field")]
    pub key_field: String,
    /// The retry policy of the pushes it enqueues (the job kind's otherwise).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub push_retry: Option<RetrySpec>,
}

impl JobPayload for CatalogSync {
    const KIND: &'static str = "catalog.sync";
}

struct Sync {
    inbox: Inbox,
}

/// The payload parses and its `source` opens inside the inbox as a regular file within the
/// size limit (opened non-blocking and closed again; nothing is read).
struct SourceInInbox {
    inbox: Inbox,
}

impl PayloadCheck for SourceInInbox {
    fn check(&self, payload: &Value) -> Result<(), PayloadProblem> {
        let p = payload_as::<CatalogSync>(payload)?;
        self.inbox.check(&p.source).map_err(source_problem)
    }
}

/// A refused `source` as a payload problem naming the directory files must be in.
fn source_problem(refusal: FileRefusal) -> PayloadProblem {
    let mut problem = PayloadProblem::new("source", refusal.to_string());
    problem.details = vec![
        ("allowed_dir", refusal.dir().display().to_string()),
        ("reason", refusal.reason().to_owned()),
    ];
    problem.absent = matches!(refusal, FileRefusal::NotFound { .. });
    problem
}

pub fn spec(inbox: Inbox) -> JobKindSpec {
    JobKindSpec::typed(Sync {
        inbox: inbox.clone(),
    })
    .partner(PUSH_RULE)
    .payload_check(SourceInInbox { inbox })
    .mapping_fields(&["mapping"])
}

#[async_trait]
impl Job for Sync {
    type Payload = CatalogSync;

    async fn run(
        &self,
        ctx: &JobContext,
        job: &ClaimedJob,
        p: CatalogSync,
    ) -> Result<(), AdapterError> {
        let partner = job
            .partner
            .clone()
            .ok_or_else(|| AdapterError::permanent("catalog.sync job has no partner"))?;
        let mapping = ctx.mapping(&p.mapping, None)?;
        let source = &p.source;
        let input = self.inbox.read(source).await.map_err(|refusal| {
            let message = format!("{} payload: source: {refusal}", CatalogSync::KIND);
            if refusal.is_transient() {
                AdapterError::transient(message)
            } else {
                AdapterError::permanent(message)
            }
        })?;
        let outcome = mapping
            .map_document(&input)
            .map_err(|e| AdapterError::permanent(format!("{source}: {e}")))?;
        let correlation = job
            .correlation_id
            .clone()
            .or_else(|| Some(job.id.to_string()));
        let mut pushes = Vec::with_capacity(outcome.records.len());
        for record in &outcome.records {
            let key_value = record
                .get(&p.key_field)
                .map(|v| v.to_string())
                .unwrap_or_default();
            let digest = hex::encode(&Sha256::digest(record.to_string().as_bytes())[..8]);
            let body = PushDocument {
                document: p.document.clone(),
                body: Some(record.clone()),
                text: None,
                content_type: None,
                reference: None,
            };
            let mut push = NewJob::new(
                job.org_id,
                PushDocument::KIND,
                serde_json::to_value(&body).map_err(|e| AdapterError::permanent(e.to_string()))?,
            )
            .partner(partner.clone())
            .key(format!(
                "{}:{partner}:{}:{digest}",
                p.document,
                key_value.trim_matches('"')
            ));
            if let Some(r) = p.push_retry {
                push = push.retry(r);
            }
            push.correlation_id = correlation.clone();
            pushes.push(push);
        }
        ctx.queue
            .enqueue_many(&pushes)
            .await
            .map_err(|e| AdapterError::transient(e.to_string()))?;
        for failure in &outcome.failures {
            let record = PushRecord {
                document: p.document.clone(),
                mapping: p.mapping.clone(),
                mapping_hash: Some(failure.mapping_hash.clone()),
                source_record: failure.input.clone(),
                source_location: Some(format!("{source}: {}", failure.location)),
                use_recorded_version: false,
            };
            let mut dead = NewJob::new(
                job.org_id,
                PushRecord::KIND,
                serde_json::to_value(&record)
                    .map_err(|e| AdapterError::permanent(e.to_string()))?,
            )
            .partner(partner.clone());
            dead.correlation_id = correlation.clone();
            let reason = format!("{source}: {failure}");
            ctx.queue
                .bury(dead, &reason, "mapping")
                .await
                .map_err(|e| AdapterError::transient(e.to_string()))?;
        }
        tracing::info!(mapped = outcome.records.len(), failed = outcome.failures.len(), %source, "catalog mapped");
        Ok(())
    }
}
