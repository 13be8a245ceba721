//! Replaying dead letters, safely.
//!
//! * The partner sees the **same** key for the same document however often it is replayed:
//!   a replay's job carries `effect_key`, the original job's effect key (its idempotency key,
//!   or its id when it had none). A partner that applied the original but whose answer was lost
//!   answers the replay from its idempotency store instead of applying it twice. The queue's
//!   own key differs (`KEY#replay-N`) because the original stays reserved by the dead job.
//!   A replay with an **edited** payload is a new document and gets a new effect key
//!   (`KEY#edit-N`): under the old key a well-behaved partner would refuse the different body
//!   (409) or silently answer with the old document's result.
//! * A dead letter already replayed is replayed again only with `force`, so a client that
//!   retries a replay after a timeout cannot double it.
//! * A request made with an `Idempotency-Key` is remembered (`replay_requests`): the same key
//!   again returns the first request's jobs; the same key with a different request is refused.
//!
//! A third `impl Queue` block, beside `jobs` and `dead_letters`.

use crate::db::{Result, StoreError};
use crate::dead_letters::DeadLetterState;
use crate::jobs::{JobRow, Queue, JOB_COLUMNS};
use crate::retry::RetryPolicy;
use chrono::{DateTime, Utc};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use sqlx::{FromRow, Postgres, Transaction};
use switchyard_core::ids::{DeadLetterId, JobId, OrgId};
use uuid::Uuid;

/// An admin's replay request.
#[derive(Debug, Clone, Default)]
pub struct Replay {
    /// The dead letters to replay, all or nothing.
    pub ids: Vec<DeadLetterId>,
    /// A corrected payload (only with a single id): sent as a new document.
    pub edited_payload: Option<Value>,
    /// Kept on each dead letter.
    pub note: Option<String>,
    /// Replay dead letters that were already replayed.
    pub force: bool,
    /// The client's `Idempotency-Key`: the same key returns the first request's jobs.
    pub request_key: Option<String>,
}

impl Replay {
    /// One dead letter with its original payload.
    pub fn one(id: DeadLetterId) -> Self {
        Self {
            ids: vec![id],
            ..Self::default()
        }
    }

    /// What the request asks for, to tell a retry from a different request under one key.
    fn fingerprint(&self) -> Vec<u8> {
        let ids: Vec<String> = self.ids.iter().map(ToString::to_string).collect();
        let canonical = json!({"ids": ids, "payload": self.edited_payload, "force": self.force});
        Sha256::digest(canonical.to_string().as_bytes()).to_vec()
    }
}

/// What [`Queue::replay_dead_letters`] did.
#[derive(Debug, Clone)]
pub struct Replayed {
    /// The replay jobs, in the order of the request's ids.
    pub jobs: Vec<JobRow>,
    /// True when the request's `Idempotency-Key` had been seen: `jobs` are the first request's.
    pub repeated: bool,
}

/// What a replay reads from the dead letter and its job.
#[derive(Debug, FromRow)]
struct ReplaySource {
    payload: Value,
    kind: String,
    partner: Option<String>,
    replay_count: i32,
    #[sqlx(try_from = "String")]
    state: DeadLetterState,
    last_replay_job_id: Option<Uuid>,
    idempotency_key: Option<String>,
    /// The original document's key as the partner saw it.
    partner_key: String,
    #[sqlx(try_from = "String")]
    retry_policy: RetryPolicy,
    max_attempts: i32,
    correlation_id: Option<String>,
}

impl Queue {
    /// Replay one dead letter (a new job linked by `replay_of`), optionally with an edited
    /// payload. Refused with a conflict if it was already replayed; see [`Replay::force`].
    pub async fn replay(
        &self,
        org: OrgId,
        id: DeadLetterId,
        edited_payload: Option<Value>,
        note: Option<String>,
    ) -> Result<JobRow> {
        let request = Replay {
            edited_payload,
            note,
            ..Replay::one(id)
        };
        let mut done = self.replay_dead_letters(org, &request).await?;
        Ok(done.jobs.remove(0))
    }

    /// Replay dead letters in one transaction: an unknown, deleted or (without `force`) already
    /// replayed one fails the whole request before anything is enqueued.
    pub async fn replay_dead_letters(&self, org: OrgId, request: &Replay) -> Result<Replayed> {
        if request.ids.is_empty() {
            return Err(StoreError::Invalid("no dead letters to replay".into()));
        }
        if request.edited_payload.is_some() && request.ids.len() != 1 {
            return Err(StoreError::Invalid(
                "an edited payload replays exactly one dead letter".into(),
            ));
        }
        let now = self.now();
        let mut tx = crate::begin(self.pool()).await?;
        if let Some(key) = &request.request_key {
            // Inserted first: a concurrent request with the same key waits here for this
            // transaction and then finds the row.
            let fingerprint = request.fingerprint();
            let claimed = sqlx::query(
                "INSERT INTO replay_requests (org_id, request_key, fingerprint, job_ids, created_at)
                 VALUES ($1, $2, $3, '{}', $4) ON CONFLICT DO NOTHING",
            )
            .bind(org.0)
            .bind(key)
            .bind(&fingerprint)
            .bind(now)
            .execute(&mut *tx)
            .await?
            .rows_affected()
                == 1;
            if !claimed {
                drop(tx);
                return self.earlier_answer(org, key, &fingerprint).await;
            }
        }
        let mut jobs = Vec::with_capacity(request.ids.len());
        for id in &request.ids {
            jobs.push(replay_one(&mut tx, org, *id, request, now).await?);
        }
        if let Some(key) = &request.request_key {
            let ids: Vec<Uuid> = jobs.iter().map(|j| j.id.0).collect();
            sqlx::query(
                "UPDATE replay_requests SET job_ids = $1 WHERE org_id = $2 AND request_key = $3",
            )
            .bind(&ids)
            .bind(org.0)
            .bind(key)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(Replayed {
            jobs,
            repeated: false,
        })
    }

    /// The jobs of the request first made with `key`, if it asked for the same thing.
    async fn earlier_answer(&self, org: OrgId, key: &str, fingerprint: &[u8]) -> Result<Replayed> {
        let (stored, job_ids): (Vec<u8>, Vec<Uuid>) = sqlx::query_as(
            "SELECT fingerprint, job_ids FROM replay_requests WHERE org_id = $1 AND request_key = $2",
        )
        .bind(org.0)
        .bind(key)
        .fetch_one(self.pool())
        .await?;
        if stored != fingerprint {
            return Err(StoreError::Invalid(format!(
                "Idempotency-Key `{key}` was already used for a different replay request"
            )));
        }
        let mut jobs = Vec::with_capacity(job_ids.len());
        for id in job_ids {
            // A job may since have been removed by retention; the answer lists what is left.
            if let Some(job) = self.get_job(org, JobId(id)).await? {
                jobs.push(job);
            }
        }
        Ok(Replayed {
            jobs,
            repeated: true,
        })
    }

    /// Retention for remembered replay requests.
    pub async fn purge_replay_requests(&self, before: DateTime<Utc>) -> Result<u64> {
        Ok(
            sqlx::query("DELETE FROM replay_requests WHERE created_at < $1")
                .bind(before)
                .execute(self.pool())
                .await?
                .rows_affected(),
        )
    }
}

async fn replay_one(
    tx: &mut Transaction<'_, Postgres>,
    org: OrgId,
    id: DeadLetterId,
    request: &Replay,
    now: DateTime<Utc>,
) -> Result<JobRow> {
    let dl = sqlx::query_as::<_, ReplaySource>(
        "SELECT d.payload, d.kind, d.partner, d.replay_count, d.state, d.last_replay_job_id,
                j.idempotency_key, coalesce(j.effect_key, j.idempotency_key, j.id::text) AS partner_key,
                j.retry_policy, j.max_attempts, j.correlation_id
         FROM dead_letters d JOIN jobs j ON j.id = d.job_id
         WHERE d.org_id = $1 AND d.id = $2
         FOR UPDATE OF d",
    )
    .bind(org.0)
    .bind(id.0)
    .fetch_optional(&mut **tx)
    .await?
    .ok_or(StoreError::NotFound("dead letter"))?;
    match dl.state {
        DeadLetterState::Deleted => {
            return Err(StoreError::Conflict(format!(
                "dead letter {id} was deleted"
            )))
        }
        DeadLetterState::Replayed if !request.force => {
            let job = dl
                .last_replay_job_id
                .map(|j| format!(" as job {j}"))
                .unwrap_or_default();
            return Err(StoreError::Conflict(format!(
                "dead letter {id} was already replayed{job}; replay it again with `force`"
            )));
        }
        DeadLetterState::Open | DeadLetterState::Replayed => {}
    }
    let replay_count = dl.replay_count + 1;
    let (payload, effect_key) = match &request.edited_payload {
        Some(edited) => (
            edited.clone(),
            format!("{}#edit-{replay_count}", dl.partner_key),
        ),
        None => (dl.payload, dl.partner_key),
    };
    let job_id = JobId::new();
    let job = sqlx::query_as::<_, JobRow>(&format!(
        "INSERT INTO jobs (id, org_id, kind, partner, payload, idempotency_key, effect_key, state, attempts,
                           max_attempts, retry_policy, run_at, replay_of, correlation_id, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, 'pending', 0, $8, $9, $10, $11, $12, $10, $10)
         RETURNING {JOB_COLUMNS}"
    ))
    .bind(job_id.0)
    .bind(org.0)
    .bind(dl.kind)
    .bind(dl.partner)
    .bind(&payload)
    .bind(dl.idempotency_key.map(|k| format!("{k}#replay-{replay_count}")))
    .bind(effect_key)
    .bind(dl.max_attempts)
    .bind(dl.retry_policy.as_str())
    .bind(now)
    .bind(id.0)
    .bind(dl.correlation_id)
    .fetch_one(&mut **tx)
    .await?;
    sqlx::query(
        "UPDATE dead_letters SET state = 'replayed', replay_count = $1, last_replay_job_id = $2,
                                 admin_note = coalesce($3, admin_note), updated_at = $4
         WHERE id = $5",
    )
    .bind(replay_count)
    .bind(job_id.0)
    .bind(&request.note)
    .bind(now)
    .bind(id.0)
    .execute(&mut **tx)
    .await?;
    Ok(job)
}
