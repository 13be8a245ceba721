//! `catalog.pull.record`: one pulled record that failed (the mapping refused it, or the mapped
//! item broke a rule of the catalog), as a dead letter carrying the record, the mapping's name
//! and version and the error with its field. Replaying it maps the record again with the
//! **current** mapping and stores it: fix the mapping (or the data at the partner, and let the
//! next pull bring it) and the record lands.

use super::config::PullEntity;
use super::items::{self, RecordError};
use super::run::db;
use crate::context::JobContext;
use crate::job::Job;
use crate::sync::digest::content_hash;
use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use switchyard_core::error::AdapterError;
use switchyard_core::JobPayload;
use switchyard_mapping::Mapping;
use switchyard_store::pull::PullKey;
use switchyard_store::queue::{ClaimedJob, NewJob};

/// The dead letter's payload.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PullRecord {
    pub partner: String,
    pub entity: PullEntity,
    /// The mapping (name and content hash) the record failed with.
    pub mapping: String,
    pub mapping_hash: String,
    /// The record as the partner sent it.
    pub record: Value,
    /// `mapping` or `validation`.
    #[serde(default)]
    pub stage: String,
    /// The field at fault (the mapping's target field, or the item's).
    #[serde(default)]
    pub field: String,
    #[serde(default)]
    pub error: String,
}

impl JobPayload for PullRecord {
    const KIND: &'static str = "catalog.pull.record";
}

/// A record's dead letter, keyed by the record's content and the mapping's version, so a page
/// read again after a crash buries it once.
pub(super) async fn bury(
    ctx: &JobContext,
    key: &PullKey,
    entity: PullEntity,
    mapping: &Mapping,
    record: &Value,
    error: &RecordError,
) -> Result<(), AdapterError> {
    let payload = PullRecord {
        partner: key.partner.clone(),
        entity,
        mapping: mapping.name.clone(),
        mapping_hash: mapping.hash.clone(),
        record: record.clone(),
        stage: error.stage.to_owned(),
        field: error.field.clone(),
        error: error.message.clone(),
    };
    let record_hash = hex::encode(&content_hash(record)[..8]);
    let job = NewJob::new(
        key.org,
        PullRecord::KIND,
        serde_json::to_value(&payload).map_err(|e| AdapterError::permanent(e.to_string()))?,
    )
    .partner(key.partner.clone())
    .key(format!(
        "pull:{}:{entity}:{record_hash}:{}",
        key.partner,
        &mapping.hash[..12.min(mapping.hash.len())]
    ));
    let reason = format!("{entity} record from `{}`: {error}", key.partner);
    match ctx.queue.bury(job, &reason, error.stage).await {
        Ok(_) | Err(switchyard_store::StoreError::Conflict(_)) => Ok(()),
        Err(e) => Err(db(e)),
    }
}

pub(super) struct RecordJob;

#[async_trait]
impl Job for RecordJob {
    type Payload = PullRecord;

    async fn run(
        &self,
        ctx: &JobContext,
        job: &ClaimedJob,
        p: PullRecord,
    ) -> Result<(), AdapterError> {
        let mapping = ctx.mapping(&p.mapping, None)?;
        let stored = items::store(
            ctx.pool(),
            job.org_id,
            p.entity,
            &mapping,
            std::slice::from_ref(&p.record),
        )
        .await
        .map_err(db)?;
        match stored.into_iter().next() {
            Some(Ok(outcome)) => {
                tracing::info!(?outcome, partner = %p.partner, entity = %p.entity, "pulled record stored on replay");
                Ok(())
            }
            Some(Err(e)) => Err(AdapterError::permanent(format!(
                "{} record from `{}`: {e}",
                p.entity, p.partner
            ))),
            None => Err(AdapterError::permanent("the record was not stored")),
        }
    }
}
