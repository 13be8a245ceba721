//! Job handlers: what each job kind does. The registry is explicit; an unknown kind is a
//! permanent error that lists the known ones.

use crate::adapters::AdapterRegistry;
use async_trait::async_trait;
use std::collections::BTreeMap;
use std::sync::Arc;
use switchyard_core::adapter::{AdapterContext, ExchangeSink, OutboundDocument, Payload};
use switchyard_core::error::AdapterError;
use switchyard_mapping::{Mapping, MappingRegistry};
use switchyard_store::queue::{ClaimedJob, Queue};

/// What every handler can reach.
pub struct JobContext {
    pub queue: Queue,
    pub adapters: Arc<AdapterRegistry>,
    pub sink: Arc<dyn ExchangeSink>,
    pub retention: crate::config::RetentionConfig,
    /// Compiled mappings by name, hot-reloaded; every version stays addressable by hash.
    pub mappings: Arc<std::sync::RwLock<MappingRegistry>>,
    /// EDI trading partners (`kind = "edi"`), which the EDI jobs name.
    pub edi_partners: Arc<crate::edi_partners::EdiPartners>,
}

impl JobContext {
    /// The current version of mapping `name`, or the version with `hash` when given.
    pub fn mapping(&self, name: &str, hash: Option<&str>) -> Result<Arc<Mapping>, AdapterError> {
        let registry = self
            .mappings
            .read()
            .map_err(|_| AdapterError::transient("mapping registry lock poisoned"))?;
        let found = match hash {
            Some(h) => registry.get_version(h),
            None => registry.get(name),
        };
        found.ok_or_else(|| match (hash, registry.errors(name)) {
            (Some(h), _) => {
                AdapterError::permanent(format!("mapping `{name}` has no loaded version {h}"))
            }
            (None, Some(d)) => {
                AdapterError::permanent(format!("mapping `{name}` does not compile: {d}"))
            }
            (None, None) => AdapterError::permanent(format!(
                "no mapping named `{name}` under the mappings directory"
            )),
        })
    }
}

#[async_trait]
pub trait JobHandler: Send + Sync {
    async fn run(&self, ctx: &JobContext, job: &ClaimedJob) -> Result<(), AdapterError>;
}

#[derive(Default)]
pub struct Handlers {
    by_kind: BTreeMap<String, Arc<dyn JobHandler>>,
}

impl Handlers {
    /// The handlers every daemon has.
    pub fn standard() -> Self {
        let mut h = Self::default();
        h.register("noop", Noop);
        h.register("partner.push", PartnerPush);
        h.register("maintenance.cleanup", Cleanup);
        h.register("catalog.sync", CatalogSync);
        h.register("record.push", RecordPush);
        h.register(crate::edi_mailbox::KIND, crate::edi_mailbox::MailboxPoll);
        h.register(crate::edi_send::KIND, crate::edi_send::EdiSend);
        h.register(crate::edi_acks::OVERDUE_KIND, crate::edi_acks::AckOverdue);
        h.register(
            crate::edi_orders::IMPORT_KIND,
            crate::edi_orders::OrderImport,
        );
        h.register(
            crate::edi_orders::REPROCESS_KIND,
            crate::edi_orders::OrderReprocess,
        );
        h
    }

    pub fn register(&mut self, kind: &str, handler: impl JobHandler + 'static) {
        self.by_kind.insert(kind.to_owned(), Arc::new(handler));
    }

    pub fn get(&self, kind: &str) -> Option<&Arc<dyn JobHandler>> {
        self.by_kind.get(kind)
    }

    pub fn kinds(&self) -> Vec<String> {
        self.by_kind.keys().cloned().collect()
    }
}

/// Does nothing; the queue benchmark measures the queue itself with it.
struct Noop;

#[async_trait]
impl JobHandler for Noop {
    async fn run(&self, _ctx: &JobContext, _job: &ClaimedJob) -> Result<(), AdapterError> {
        Ok(())
    }
}

/// Sends one mapped document to the job's partner.
///
/// Payload: `{"document": "catalog", "body": {...}}` (JSON) or
/// `{"document": "...", "text": "...", "content_type": "..."}`.
struct PartnerPush;

#[async_trait]
impl JobHandler for PartnerPush {
    async fn run(&self, ctx: &JobContext, job: &ClaimedJob) -> Result<(), AdapterError> {
        let document = job
            .payload
            .get("document")
            .and_then(|d| d.as_str())
            .unwrap_or("document")
            .to_owned();
        let payload = if let Some(text) = job.payload.get("text").and_then(|t| t.as_str()) {
            let content_type = job
                .payload
                .get("content_type")
                .and_then(|c| c.as_str())
                .unwrap_or("text/plain")
                .to_owned();
            Payload::Text {
                content_type,
                body: text.to_owned(),
            }
        } else {
            let body = job.payload.get("body").cloned().ok_or_else(|| {
                AdapterError::permanent("partner.push payload needs `body` or `text`")
            })?;
            Payload::Json { body }
        };
        push(ctx, job, OutboundDocument { document, payload }).await
    }
}

/// Send a document to the job's partner with the job's idempotency key.
async fn push(
    ctx: &JobContext,
    job: &ClaimedJob,
    doc: OutboundDocument,
) -> Result<(), AdapterError> {
    let partner = job
        .partner
        .as_deref()
        .ok_or_else(|| AdapterError::permanent(format!("{} job has no partner", job.kind)))?;
    let adapter = ctx.adapters.get(partner).ok_or_else(|| {
        AdapterError::permanent(format!(
            "unknown partner `{partner}` (configured: {})",
            ctx.adapters.names().join(", ")
        ))
    })?;
    let actx = AdapterContext {
        org: job.org_id,
        job: Some(job.id),
        idempotency_key: job.effect_key(),
        correlation_id: job
            .correlation_id
            .clone()
            .unwrap_or_else(|| job.id.to_string()),
        attempt: job.attempt,
        sink: ctx.sink.clone(),
    };
    adapter.push(&actx, &doc).await.map(|_| ())
}

/// Maps one source record with a named mapping, then pushes it. This is the job a record
/// that failed mapping becomes (as a dead letter): replaying it maps the (possibly edited)
/// `source_record` again with the current mapping, or with the recorded version when the
/// payload says `"use_recorded_version": true`.
///
/// Payload: `{"document", "mapping", "mapping_hash", "source_record", "source_location"}`.
struct RecordPush;

#[async_trait]
impl JobHandler for RecordPush {
    async fn run(&self, ctx: &JobContext, job: &ClaimedJob) -> Result<(), AdapterError> {
        let p = &job.payload;
        let name = p
            .get("mapping")
            .and_then(|v| v.as_str())
            .ok_or_else(|| AdapterError::permanent("record.push payload needs `mapping`"))?;
        let pinned = p
            .get("use_recorded_version")
            .and_then(|v| v.as_bool())
            .unwrap_or(false);
        let hash = if pinned {
            p.get("mapping_hash").and_then(|v| v.as_str())
        } else {
            None
        };
        let mapping = ctx.mapping(name, hash)?;
        let record = p
            .get("source_record")
            .ok_or_else(|| AdapterError::permanent("record.push payload needs `source_record`"))?;
        let mut state = switchyard_mapping::RunState::default();
        let body = mapping.map_record(record, &mut state).map_err(|e| {
            AdapterError::permanent(format!(
                "mapping `{name}` ({}): {e}",
                &mapping.hash[..12.min(mapping.hash.len())]
            ))
        })?;
        let document = p
            .get("document")
            .and_then(|d| d.as_str())
            .unwrap_or("document")
            .to_owned();
        push(
            ctx,
            job,
            OutboundDocument {
                document,
                payload: Payload::Json { body },
            },
        )
        .await
    }
}

/// Retention: old dead letters, succeeded jobs and integration logs.
struct Cleanup;

#[async_trait]
impl JobHandler for Cleanup {
    async fn run(&self, ctx: &JobContext, _job: &ClaimedJob) -> Result<(), AdapterError> {
        let now = ctx.queue.now();
        let r = &ctx.retention;
        let (dead, jobs) = ctx
            .queue
            .purge(
                now - chrono::Duration::days(r.dead_letter_days),
                now - chrono::Duration::days(r.succeeded_job_days),
            )
            .await
            .map_err(|e| AdapterError::transient(e.to_string()))?;
        let logs = switchyard_store::logs::delete_older_than(
            ctx.queue.pool(),
            now - chrono::Duration::days(r.log_days),
        )
        .await
        .map_err(|e| AdapterError::transient(e.to_string()))?;
        tracing::info!(dead_letters = dead, jobs, logs, "retention cleanup done");
        Ok(())
    }
}

/// Reads a catalog file, maps every record through a mapping file, and enqueues one
/// `partner.push` job per mapped record (keyed by partner, SKU and content, so a re-run of
/// an unchanged catalog pushes nothing twice). A record that fails mapping becomes a dead
/// letter with its error and the mapping's version; the rest of the batch proceeds.
///
/// Payload: `{"source": "fixtures/catalog/catalog.csv", "mapping": "http/catalog.out",
/// "document": "catalog", "key_field": "sku"}`; the job's partner receives the pushes.
struct CatalogSync;

#[async_trait]
impl JobHandler for CatalogSync {
    async fn run(&self, ctx: &JobContext, job: &ClaimedJob) -> Result<(), AdapterError> {
        use sha2::{Digest, Sha256};
        use switchyard_store::queue::{NewJob, RetrySpec};
        let field = |name: &str| {
            job.payload
                .get(name)
                .and_then(|v| v.as_str())
                .map(str::to_owned)
                .ok_or_else(|| {
                    AdapterError::permanent(format!("catalog.sync payload needs `{name}`"))
                })
        };
        let partner = job
            .partner
            .clone()
            .ok_or_else(|| AdapterError::permanent("catalog.sync job has no partner"))?;
        let source = field("source")?;
        let mapping_path = field("mapping")?;
        let document = field("document").unwrap_or_else(|_| "catalog".into());
        let key_field = field("key_field").unwrap_or_else(|_| "sku".into());
        let mapping = ctx.mapping(&mapping_path, None)?;
        let input = tokio::fs::read(&source)
            .await
            .map_err(|e| AdapterError::permanent(format!("cannot read {source}: {e}")))?;
        let outcome = mapping
            .map_document(&input)
            .map_err(|e| AdapterError::permanent(format!("{source}: {e}")))?;
        let retry = job
            .payload
            .get("push_retry")
            .and_then(|r| serde_json::from_value::<RetrySpec>(r.clone()).ok());
        let mut pushes = Vec::with_capacity(outcome.records.len());
        for record in &outcome.records {
            let key_value = record
                .get(&key_field)
                .map(|v| v.to_string())
                .unwrap_or_default();
            let digest = hex::encode(&Sha256::digest(record.to_string().as_bytes())[..8]);
            let mut push = NewJob::new(
                job.org_id,
                "partner.push",
                serde_json::json!({"document": document, "body": record}),
            )
            .partner(partner.clone())
            .key(format!(
                "{document}:{partner}:{}:{digest}",
                key_value.trim_matches('"')
            ));
            if let Some(r) = retry {
                push = push.retry(r);
            }
            push.correlation_id = job
                .correlation_id
                .clone()
                .or_else(|| Some(job.id.to_string()));
            pushes.push(push);
        }
        ctx.queue
            .enqueue_many(&pushes)
            .await
            .map_err(|e| AdapterError::transient(e.to_string()))?;
        for failure in &outcome.failures {
            let mut dead = NewJob::new(
                job.org_id,
                "record.push",
                serde_json::json!({
                    "document": document,
                    "source_record": failure.input,
                    "source_location": format!("{source}: {}", failure.location),
                    "mapping": mapping_path,
                    "mapping_hash": failure.mapping_hash,
                }),
            )
            .partner(partner.clone());
            dead.correlation_id = job
                .correlation_id
                .clone()
                .or_else(|| Some(job.id.to_string()));
            let reason = format!("{source}: {failure}");
            match ctx.queue.bury(dead, &reason, "mapping").await {
                Ok(_) => {}
                Err(e) => return Err(AdapterError::transient(e.to_string())),
            }
        }
        tracing::info!(mapped = outcome.records.len(), failed = outcome.failures.len(), %source, "catalog mapped");
        Ok(())
    }
}
