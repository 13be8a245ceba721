//! `optima.invoice.push` `{"invoice_id", "mapping"}`: one ledger invoice to its Optima
//! connection, its sync status kept on the row at every step.
//!
//! * synced: Optima took it (`optima_number`); a job for an invoice already synced does
//!   nothing, so a redelivery never sends it twice.
//! * a refusal (a broken Polish rule naming the field, Optima's own rejection, a mapping
//!   error) is permanent: status `error` with the reason, and the job's dead letter carries
//!   it (replaying the dead letter pushes the invoice as the ledger holds it then).
//! * an outage, a throttle or a result file that never appeared is transient: status stays
//!   `pending` with the reason while the queue retries by the job's policy, and turns `error`
//!   when the last attempt failed (never `synced` without Optima's answer).
//!
//! The document identity passed to Optima (the adapter's idempotency key) is the invoice's
//! [`effect_key`](crate::invoices::InvoiceRow::effect_key), not the job's: every push of the same
//! content, manual or automatic, is the same document to Optima.

use crate::invoices::{self, Direction, InvoiceId, SyncStatus};
use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use switchyard_core::adapter::{Capability, OutboundDocument, Payload};
use switchyard_core::error::AdapterError;
use switchyard_core::JobPayload;
use switchyard_runtime::context::JobContext;
use switchyard_runtime::job::{Job, JobKindSpec, PartnerRule, PartnerSource};
use switchyard_store::queue::ClaimedJob;
use tracing::{info_span, Instrument};

/// The repository's mapping from the canonical invoice to Optima's (mappings/optima/).
pub const INVOICE_MAPPING: &str = "optima/invoice.out";

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PushInvoice {
    pub invoice_id: InvoiceId,
    #[serde(default = "default_mapping")]
    pub mapping: String,
}

fn default_mapping() -> String {
    INVOICE_MAPPING.into()
}

impl PushInvoice {
    pub fn new(invoice_id: InvoiceId) -> Self {
        Self {
            invoice_id,
            mapping: default_mapping(),
        }
    }
}

impl JobPayload for PushInvoice {
    const KIND: &'static str = "optima.invoice.push";
}

fn needs_push_invoices(_: &serde_json::Value) -> &'static [Capability] {
    &[Capability::PushInvoices]
}

pub fn spec() -> JobKindSpec {
    JobKindSpec::typed(PushInvoiceJob)
        .partner(PartnerRule {
            source: PartnerSource::Job,
            required: true,
            kinds: &[crate::KIND],
            needs: needs_push_invoices,
        })
        .mapping_fields(&["mapping"])
}

struct PushInvoiceJob;

fn db(e: impl std::fmt::Display) -> AdapterError {
    AdapterError::transient(format!("the invoice ledger: {e}"))
}

#[async_trait]
impl Job for PushInvoiceJob {
    type Payload = PushInvoice;

    async fn run(
        &self,
        ctx: &JobContext,
        job: &ClaimedJob,
        p: PushInvoice,
    ) -> Result<(), AdapterError> {
        let span = info_span!("optima.invoice.push", invoice = %p.invoice_id, job = %job.id);
        async {
            let row = invoices::get(ctx.pool(), job.org_id, p.invoice_id)
                .await
                .map_err(db)?
                .ok_or_else(|| {
                    AdapterError::permanent(format!(
                        "no Optima invoice {} in this organization",
                        p.invoice_id
                    ))
                })?;
            if row.status == SyncStatus::Synced {
                return Ok(());
            }
            if row.direction == Direction::Purchase {
                return Err(AdapterError::permanent(format!(
                    "invoice {} is a purchase: it goes into the JPK's purchase register, never to Optima's sales register",
                    row.invoice_number
                )));
            }
            if job.partner.as_deref() != Some(row.partner.as_str()) {
                return Err(AdapterError::permanent(format!(
                    "invoice {} is recorded for connection `{}`, not `{}`",
                    row.invoice_number,
                    row.partner,
                    job.partner.as_deref().unwrap_or("")
                )));
            }
            invoices::attempt_started(ctx.pool(), row.id, job.id, ctx.now())
                .await
                .map_err(db)?;
            let result = push(ctx, job, &p.mapping, &row).await;
            match &result {
                Ok(number) => invoices::synced(ctx.pool(), row.id, number.as_deref(), ctx.now())
                    .await
                    .map_err(db)?,
                Err(e) => {
                    // The queue retries a retryable failure until the last attempt; then the
                    // job is dead and so is this push.
                    let status = if e.class.is_retryable() && job.attempt < job.max_attempts {
                        SyncStatus::Pending
                    } else {
                        SyncStatus::Error
                    };
                    let reason = ctx.masker.mask_text(&e.message);
                    invoices::failed(ctx.pool(), row.id, status, &reason, ctx.now())
                        .await
                        .map_err(db)?;
                }
            }
            result.map(|_| ())
        }
        .instrument(span)
        .await
    }
}

/// Map the ledger's invoice and push it; Optima's number.
async fn push(
    ctx: &JobContext,
    job: &ClaimedJob,
    mapping: &str,
    row: &invoices::InvoiceRow,
) -> Result<Option<String>, AdapterError> {
    let mapping = ctx.mapping(mapping, None)?;
    let mut state = switchyard_mapping::RunState::default();
    let body = mapping
        .map_record(&row.document, &mut state)
        .map_err(|e| AdapterError::permanent(format!("mapping `{}`: {e}", mapping.name)))?;
    let adapter = ctx.adapters.get(&row.partner).ok_or_else(|| {
        AdapterError::permanent(format!("no Optima connection `{}`", row.partner))
    })?;
    let mut actx = ctx.adapter_context(job);
    actx.idempotency_key = row.effect_key();
    let receipt = adapter
        .push(
            &actx,
            &OutboundDocument {
                document: "invoice".into(),
                payload: Payload::Json { body },
            },
        )
        .await?;
    Ok(receipt.external_id)
}
