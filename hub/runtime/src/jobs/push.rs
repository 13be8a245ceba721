//! `partner.push` sends one document to the job's partner; `record.push` maps one source
//! record first (what a record that failed mapping becomes as a dead letter: replaying it maps
//! the possibly edited record again, with the current mapping or the recorded version).

use crate::context::JobContext;
use crate::job::{needs_push_of_document, Job, JobKindSpec, PartnerRule, PartnerSource};
use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use switchyard_core::adapter::{OutboundDocument, Payload, PushReceipt};
use switchyard_core::error::AdapterError;
use switchyard_core::JobPayload;
use switchyard_store::partner_refs;
use switchyard_store::queue::ClaimedJob;

fn default_document() -> String {
    "document".into()
}

/// `partner.push`: `{"document": "catalog", "body": {...}}` (JSON) or
/// `{"document": "...", "text": "...", "content_type": "..."}`; with `"reference"` (ours
/// for the thing pushed, e.g. `shipment:{id}`), the receipt's id is recorded for it
/// (`partner_references`) and handed to every later push of it as the body's
/// `partner_reference` (a tracking change addresses the fulfillment the first push made).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PushDocument {
    #[serde(default = "default_document")]
    pub document: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
}

impl JobPayload for PushDocument {
    const KIND: &'static str = "partner.push";
}

/// `record.push`: `{"document", "mapping", "mapping_hash", "source_record",
/// "source_location", "use_recorded_version"}`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PushRecord {
    #[serde(default = "default_document")]
    pub document: String,
    pub mapping: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mapping_hash: Option<String>,
    pub source_record: Value,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_location: Option<String>,
    #[serde(default)]
    pub use_recorded_version: bool,
}

impl JobPayload for PushRecord {
    const KIND: &'static str = "record.push";
}

/// The job's partner must be configured and able to push the document.
pub const PUSH_RULE: PartnerRule = PartnerRule {
    source: PartnerSource::Job,
    required: true,
    kinds: &[],
    needs: needs_push_of_document,
};

pub fn partner_push() -> JobKindSpec {
    JobKindSpec::typed(PartnerPush).partner(PUSH_RULE)
}

pub fn record_push() -> JobKindSpec {
    JobKindSpec::typed(RecordPush)
        .partner(PUSH_RULE)
        .mapping_fields(&["mapping"])
}

struct PartnerPush;

#[async_trait]
impl Job for PartnerPush {
    type Payload = PushDocument;

    async fn run(
        &self,
        ctx: &JobContext,
        job: &ClaimedJob,
        p: PushDocument,
    ) -> Result<(), AdapterError> {
        let reference = p.reference.as_deref().filter(|r| !r.is_empty());
        let payload = match (p.text, p.body) {
            (Some(body), _) => Payload::Text {
                content_type: p.content_type.unwrap_or_else(|| "text/plain".into()),
                body,
            },
            (None, Some(mut body)) => {
                if let (Some(r), Value::Object(m)) = (reference, &mut body) {
                    if let Some(id) = known_reference(ctx, job, r).await? {
                        m.insert("partner_reference".into(), Value::String(id));
                    }
                }
                Payload::Json { body }
            }
            (None, None) => {
                return Err(AdapterError::permanent(
                    "partner.push payload needs `body` or `text`",
                ))
            }
        };
        let document = p.document.clone();
        let receipt = push(
            ctx,
            job,
            OutboundDocument {
                document: p.document,
                payload,
            },
        )
        .await?;
        if let (Some(r), Some(id)) = (reference, receipt.external_id.as_deref()) {
            let partner = job.partner.as_deref().unwrap_or_default();
            partner_refs::record(ctx.pool(), job.org_id, partner, r, &document, id)
                .await
                .map_err(|e| {
                    // Pushed, but not remembered: the retry finds the partner's object done
                    // (a duplicate receipt, which names it when the adapter can).
                    AdapterError::transient(format!("recording {partner}'s id for {r}: {e}"))
                })?;
        }
        Ok(())
    }
}

/// The partner's id recorded for `reference` by an earlier push, if any.
async fn known_reference(
    ctx: &JobContext,
    job: &ClaimedJob,
    reference: &str,
) -> Result<Option<String>, AdapterError> {
    let partner = job.partner.as_deref().unwrap_or_default();
    partner_refs::get(ctx.pool(), job.org_id, partner, reference)
        .await
        .map_err(|e| {
            AdapterError::transient(format!("reading {partner}'s id for {reference}: {e}"))
        })
}

struct RecordPush;

#[async_trait]
impl Job for RecordPush {
    type Payload = PushRecord;

    async fn run(
        &self,
        ctx: &JobContext,
        job: &ClaimedJob,
        p: PushRecord,
    ) -> Result<(), AdapterError> {
        let hash = if p.use_recorded_version {
            p.mapping_hash.as_deref()
        } else {
            None
        };
        let mapping = ctx.mapping(&p.mapping, hash)?;
        let mut state = switchyard_mapping::RunState::default();
        let body = mapping
            .map_record(&p.source_record, &mut state)
            .map_err(|e| {
                AdapterError::permanent(format!(
                    "mapping `{}` ({}): {e}",
                    p.mapping,
                    &mapping.hash[..12.min(mapping.hash.len())]
                ))
            })?;
        push(
            ctx,
            job,
            OutboundDocument {
                document: p.document,
                payload: Payload::Json { body },
            },
        )
        .await
        .map(|_| ())
    }
}

/// Send a document to the job's partner with the job's idempotency key.
async fn push(
    ctx: &JobContext,
    job: &ClaimedJob,
    doc: OutboundDocument,
) -> Result<PushReceipt, AdapterError> {
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
    adapter.push(&ctx.adapter_context(job), &doc).await
}
