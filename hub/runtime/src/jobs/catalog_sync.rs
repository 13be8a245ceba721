//! `catalog.sync`: read a catalog file, map every record through a mapping file, and enqueue
//! one `partner.push` per mapped record (keyed by partner, key field and content, so a re-run
//! of an unchanged catalog pushes nothing twice). A record that fails mapping becomes a
//! `record.push` dead letter with its error and the mapping's version; the rest proceeds.

use crate::context::JobContext;
use crate::job::{Job, JobKindSpec};
use crate::jobs::push::{PushDocument, PushRecord, PUSH_RULE};
use async_trait::async_trait;
use serde::{Deserialize, Serialize};
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

/// `{"source": "fixtures/catalog/catalog.csv", "mapping": "http/catalog.out",
/// "document": "catalog", "key_field": "sku", "push_retry": {...}}`; the job's partner
/// receives the pushes.
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

struct Sync;

pub fn spec() -> JobKindSpec {
    JobKindSpec::typed(Sync).partner(PUSH_RULE)
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
        let input = tokio::fs::read(source)
            .await
            .map_err(|e| AdapterError::permanent(format!("cannot read {source}: {e}")))?;
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
