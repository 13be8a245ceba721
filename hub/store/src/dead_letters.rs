//! Dead letters: the failure paths that end a job (`fail` on its last attempt or with a
//! permanent error, `bury`, `rescue_expired` on the last attempt, `skip_to_dead`), and what
//! admins do with a dead letter afterwards (list, delete; replays are in `replays`), plus
//! retention.
//! A second `impl Queue` block; the jobs side is in `jobs`.

use crate::db::{Result, StoreError};
use crate::jobs::{notify, ClaimedJob, JobState, NewJob, NullableId, Queue};
use crate::retry::RetryPolicy;
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use sqlx::FromRow;
use switchyard_core::error::ErrorClass;
use switchyard_core::ids::{DeadLetterId, JobId, OrgId, WorkerId};
use uuid::Uuid;

/// Why an attempt failed.
#[derive(Debug, Clone)]
pub struct Failure {
    pub class: ErrorClass,
    pub message: String,
    pub status: Option<u16>,
}

/// What [`Queue::fail`] did with the job.
#[derive(Debug, Clone, PartialEq)]
pub enum FailOutcome {
    /// Back in the retry queue; runs again at `run_at` (None: held for an admin).
    Retrying { run_at: Option<DateTime<Utc>> },
    /// Moved to the dead-letter queue.
    Dead { dead_letter: DeadLetterId },
    /// The job was no longer ours (its lease expired and someone else took it).
    LostLease,
    /// Not attempted ([`ErrorClass::Deferred`]): back in the queue at `run_at`, the attempt
    /// not counted.
    Deferred { run_at: DateTime<Utc> },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeadLetterState {
    Open,
    Replayed,
    Deleted,
}

impl DeadLetterState {
    pub const ALL: [DeadLetterState; 3] = [
        DeadLetterState::Open,
        DeadLetterState::Replayed,
        DeadLetterState::Deleted,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            DeadLetterState::Open => "open",
            DeadLetterState::Replayed => "replayed",
            DeadLetterState::Deleted => "deleted",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "open" => Some(DeadLetterState::Open),
            "replayed" => Some(DeadLetterState::Replayed),
            "deleted" => Some(DeadLetterState::Deleted),
            _ => None,
        }
    }
}

/// The `state` text column, as read by `#[derive(sqlx::FromRow)]`.
impl TryFrom<String> for DeadLetterState {
    type Error = StoreError;

    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s).ok_or_else(|| StoreError::Invalid(format!("dead letter state `{s}`")))
    }
}

/// A dead letter: the original payload, every attempt's error, and what admins did with it.
#[derive(Debug, Clone, PartialEq, Serialize, FromRow)]
pub struct DeadLetterRow {
    #[sqlx(try_from = "Uuid")]
    pub id: DeadLetterId,
    #[sqlx(try_from = "Uuid")]
    pub job_id: JobId,
    #[sqlx(try_from = "Uuid")]
    pub org_id: OrgId,
    pub kind: String,
    pub partner: Option<String>,
    pub payload: serde_json::Value,
    pub reason: String,
    pub error_class: String,
    pub errors: serde_json::Value,
    pub attempts: i32,
    #[sqlx(try_from = "String")]
    pub state: DeadLetterState,
    pub admin_note: Option<String>,
    pub replay_count: i32,
    #[sqlx(try_from = "NullableId")]
    pub last_replay_job_id: Option<JobId>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

const DEAD_LETTER_COLUMNS: &str =
    "id, job_id, org_id, kind, partner, payload, reason, error_class, errors, attempts, \
     state, admin_note, replay_count, last_replay_job_id, created_at, updated_at";

/// What a dead letter copies from its job: the columns every dead-ending `UPDATE`/`INSERT`
/// on `jobs` returns (`RETURNING org_id, kind, partner, payload, errors, attempts`).
#[derive(Debug, FromRow)]
struct DeadJob {
    #[sqlx(try_from = "Uuid")]
    org_id: OrgId,
    kind: String,
    partner: Option<String>,
    payload: serde_json::Value,
    errors: serde_json::Value,
    attempts: i32,
}

/// [`Queue::skip_to_dead`]'s `RETURNING`: the dead job and its last error.
#[derive(Debug, FromRow)]
struct SkippedJob {
    #[sqlx(flatten)]
    job: DeadJob,
    last_error: Option<String>,
}

/// [`Queue::bury`]'s `RETURNING`: the new job's id and what the dead letter copies.
#[derive(Debug, FromRow)]
struct BuriedJob {
    #[sqlx(try_from = "Uuid")]
    id: JobId,
    #[sqlx(flatten)]
    job: DeadJob,
}

/// [`Queue::rescue_expired`]'s `RETURNING`: every rescued job, back to `pending` or `dead`.
#[derive(Debug, FromRow)]
struct RescuedJob {
    #[sqlx(try_from = "Uuid")]
    id: JobId,
    #[sqlx(try_from = "String")]
    state: JobState,
    #[sqlx(flatten)]
    job: DeadJob,
}

impl Queue {
    /// Record a failed attempt and decide the job's fate from its policy and the error class.
    pub async fn fail(
        &self,
        worker: WorkerId,
        job: &ClaimedJob,
        failure: &Failure,
    ) -> Result<FailOutcome> {
        let now = self.now();
        if let ErrorClass::Deferred { after } = &failure.class {
            return self.defer(worker, job, *after, now).await;
        }
        let error = serde_json::json!({
            "attempt": job.attempt,
            "at": now,
            "class": failure.class.as_str(),
            "message": failure.message,
            "status": failure.status,
        });
        let attempts_left = job.attempt < job.max_attempts;
        let retry = match &failure.class {
            class
                if class.is_retryable()
                    && (attempts_left || job.retry_policy == RetryPolicy::Manual) =>
            {
                let policy_delay = job.retry_policy.delay(job.attempt);
                let retry_after = class.retry_after().and_then(|d| Duration::from_std(d).ok());
                let throttled = matches!(class, ErrorClass::RateLimited { .. });
                Some(match (policy_delay, retry_after) {
                    // A 429 names exactly when the partner takes calls again: come back then,
                    // not after an exponential delay that only grows with the throttling.
                    (Some(_), Some(r)) if throttled => Some(now + r),
                    // Any other Retry-After (a 503's maintenance window) is a floor: never
                    // sooner than asked, never sooner than the policy's delay either.
                    (Some(p), Some(r)) => Some(now + p.max(r)),
                    (Some(p), None) => Some(now + p),
                    (None, _) => None,
                })
            }
            _ => None,
        };
        match retry {
            Some(run_at) => {
                let done = sqlx::query(
                    "UPDATE jobs SET state = 'retrying', run_at = $1, lease_until = NULL, worker_id = NULL,
                                     last_error = $2, errors = errors || jsonb_build_array($3::jsonb), updated_at = $4
                     WHERE id = $5 AND worker_id = $6 AND state = 'running'",
                )
                .bind(run_at)
                .bind(&failure.message)
                .bind(&error)
                .bind(now)
                .bind(job.id.0)
                .bind(worker.0)
                .execute(self.pool())
                .await?;
                if done.rows_affected() == 0 {
                    return Ok(FailOutcome::LostLease);
                }
                Ok(FailOutcome::Retrying { run_at })
            }
            None => {
                let reason = if failure.class.is_retryable() {
                    format!(
                        "gave up after {} attempts: {}",
                        job.attempt, failure.message
                    )
                } else {
                    failure.message.clone()
                };
                let mut tx = crate::begin(self.pool()).await?;
                let moved = sqlx::query_as::<_, DeadJob>(
                    "UPDATE jobs SET state = 'dead', lease_until = NULL, worker_id = NULL, run_at = NULL,
                                     last_error = $1, errors = errors || jsonb_build_array($2::jsonb),
                                     updated_at = $3, finished_at = $3
                     WHERE id = $4 AND worker_id = $5 AND state = 'running'
                     RETURNING org_id, kind, partner, payload, errors, attempts",
                )
                .bind(&failure.message)
                .bind(&error)
                .bind(now)
                .bind(job.id.0)
                .bind(worker.0)
                .fetch_optional(&mut *tx)
                .await?;
                let Some(row) = moved else {
                    return Ok(FailOutcome::LostLease);
                };
                let dl = DeadLetterId::new();
                insert_dead_letter(
                    &mut tx,
                    dl,
                    job.id,
                    &row,
                    &reason,
                    failure.class.as_str(),
                    now,
                )
                .await?;
                tx.commit().await?;
                Ok(FailOutcome::Dead { dead_letter: dl })
            }
        }
    }

    /// Put a job its handler did not attempt back where it was (pending, or retrying for a
    /// retry), to run at `now + after`, uncounting the attempt the claim counted and recording
    /// no error: waiting for a slot is not a failure and must not use up the job's attempts.
    async fn defer(
        &self,
        worker: WorkerId,
        job: &ClaimedJob,
        after: std::time::Duration,
        now: DateTime<Utc>,
    ) -> Result<FailOutcome> {
        let run_at = now + Duration::from_std(after).unwrap_or(Duration::seconds(1));
        let done = sqlx::query(
            "UPDATE jobs SET state = CASE WHEN attempts > 1 THEN 'retrying' ELSE 'pending' END,
                             attempts = attempts - 1, run_at = $1, lease_until = NULL,
                             worker_id = NULL, updated_at = $2
             WHERE id = $3 AND worker_id = $4 AND state = 'running'",
        )
        .bind(run_at)
        .bind(now)
        .bind(job.id.0)
        .bind(worker.0)
        .execute(self.pool())
        .await?;
        if done.rows_affected() == 0 {
            return Ok(FailOutcome::LostLease);
        }
        Ok(FailOutcome::Deferred { run_at })
    }

    /// [`Queue::fail`] for many deferred jobs of `worker` in one statement: each back in the
    /// queue at its `run_at`, its attempt uncounted. A worker's gate can turn away many
    /// deliveries a second (an endpoint at its limit with a backlog), and one statement per
    /// deferral would cost more than the deliveries. Returns the ids deferred; the others were
    /// no longer this worker's (lease lost).
    pub async fn defer_many(
        &self,
        worker: WorkerId,
        jobs: &[(JobId, std::time::Duration)],
    ) -> Result<Vec<(JobId, DateTime<Utc>)>> {
        if jobs.is_empty() {
            return Ok(Vec::new());
        }
        let now = self.now();
        let ids: Vec<Uuid> = jobs.iter().map(|(id, _)| id.0).collect();
        let run_ats: Vec<DateTime<Utc>> = jobs
            .iter()
            .map(|(_, after)| now + Duration::from_std(*after).unwrap_or(Duration::seconds(1)))
            .collect();
        let done: Vec<(Uuid, DateTime<Utc>)> = sqlx::query_as(
            "UPDATE jobs j SET state = CASE WHEN j.attempts > 1 THEN 'retrying' ELSE 'pending' END,
                               attempts = j.attempts - 1, run_at = t.run_at, lease_until = NULL,
                               worker_id = NULL, updated_at = $3
             FROM UNNEST($1::uuid[], $2::timestamptz[]) AS t(id, run_at)
             WHERE j.id = t.id AND j.worker_id = $4 AND j.state = 'running'
             RETURNING j.id, j.run_at",
        )
        .bind(&ids)
        .bind(&run_ats)
        .bind(now)
        .bind(worker.0)
        .fetch_all(self.pool())
        .await?;
        Ok(done.into_iter().map(|(id, at)| (JobId(id), at)).collect())
    }

    /// Store a job that failed before it could run (a record that did not map, say) directly
    /// as a dead letter, so nothing is lost and an admin can fix and replay it.
    pub async fn bury(&self, job: NewJob, reason: &str, class: &str) -> Result<DeadLetterId> {
        let now = self.now();
        let error =
            serde_json::json!([{ "attempt": 0, "at": now, "class": class, "message": reason }]);
        let mut tx = crate::begin(self.pool()).await?;
        let row = sqlx::query_as::<_, BuriedJob>(
            "INSERT INTO jobs (id, org_id, kind, partner, payload, idempotency_key, state, attempts, max_attempts,
                               retry_policy, run_at, last_error, errors, correlation_id, created_at, updated_at, finished_at)
             VALUES ($1, $2, $3, $4, $5, $6, 'dead', 0, $7, $8, NULL, $9, $10, $11, $12, $12, $12)
             ON CONFLICT (org_id, kind, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING
             RETURNING id, org_id, kind, partner, payload, errors, attempts",
        )
        .bind(Uuid::now_v7())
        .bind(job.org.0)
        .bind(job.kind.as_str())
        .bind(job.partner.as_ref().map(|p| p.as_str()))
        .bind(&job.payload)
        .bind(job.idempotency_key.as_deref())
        .bind(job.retry.max_attempts.max(1))
        .bind(job.retry.policy.as_str())
        .bind(reason)
        .bind(&error)
        .bind(job.correlation_id.as_deref())
        .bind(now)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(row) = row else {
            return Err(StoreError::Conflict(
                "a job with this idempotency key already exists".into(),
            ));
        };
        let dl = DeadLetterId::new();
        insert_dead_letter(&mut tx, dl, row.id, &row.job, reason, class, now).await?;
        tx.commit().await?;
        Ok(dl)
    }

    /// Put jobs whose lease has expired (their worker died) back in the queue, to run at once.
    /// A job that has used all its attempts this way goes to the dead-letter queue instead, so
    /// a job that kills its worker cannot loop forever. Returns how many jobs were rescued.
    ///
    /// `held` are jobs the calling worker still holds: after a database outage longer than a
    /// lease, a finished job's lease has lapsed while its success waits to be written, and
    /// rescuing it would run it again.
    pub async fn rescue_expired(&self, held: &[JobId]) -> Result<u64> {
        let now = self.now();
        let held: Vec<Uuid> = held.iter().map(|i| i.0).collect();
        let mut tx = crate::begin(self.pool()).await?;
        let rows = sqlx::query_as::<_, RescuedJob>(
            "WITH expired AS (
                 SELECT id FROM jobs WHERE state = 'running' AND lease_until < $1
                                       AND NOT (id = ANY($2))
                 ORDER BY lease_until LIMIT 10000
                 FOR UPDATE SKIP LOCKED
             )
             UPDATE jobs j
             SET state = CASE WHEN j.attempts >= j.max_attempts THEN 'dead' ELSE 'pending' END,
                 run_at = CASE WHEN j.attempts >= j.max_attempts THEN NULL ELSE $1 END,
                 finished_at = CASE WHEN j.attempts >= j.max_attempts THEN $1 ELSE NULL END,
                 lease_until = NULL, worker_id = NULL, updated_at = $1,
                 last_error = 'lease expired: the worker stopped before finishing',
                 errors = j.errors || jsonb_build_array(jsonb_build_object(
                     'attempt', j.attempts, 'at', $1, 'class', 'transient',
                     'message', 'lease expired: the worker stopped before finishing'))
             FROM expired WHERE j.id = expired.id
             RETURNING j.id, j.state, j.org_id, j.kind, j.partner, j.payload, j.errors, j.attempts",
        )
        .bind(now)
        .bind(&held)
        .fetch_all(&mut *tx)
        .await?;
        for row in rows.iter().filter(|r| r.state == JobState::Dead) {
            insert_dead_letter(
                &mut tx,
                DeadLetterId::new(),
                row.id,
                &row.job,
                "lease expired on the last attempt",
                "transient",
                now,
            )
            .await?;
        }
        tx.commit().await?;
        if !rows.is_empty() {
            notify(self.pool()).await?;
        }
        Ok(rows.len() as u64)
    }

    /// Move a job from the retry queue (or the pending queue) straight to the dead letters.
    pub async fn skip_to_dead(
        &self,
        org: OrgId,
        id: JobId,
        note: Option<String>,
    ) -> Result<DeadLetterRow> {
        let now = self.now();
        let mut tx = crate::begin(self.pool()).await?;
        let moved = sqlx::query_as::<_, SkippedJob>(
            "UPDATE jobs SET state = 'dead', run_at = NULL, updated_at = $1, finished_at = $1
             WHERE org_id = $2 AND id = $3 AND state IN ('retrying', 'pending')
             RETURNING org_id, kind, partner, payload, errors, attempts, last_error",
        )
        .bind(now)
        .bind(org.0)
        .bind(id.0)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(row) = moved else {
            return match self.get_job(org, id).await? {
                Some(job) => Err(StoreError::Conflict(format!(
                    "job is {}, not retrying or pending",
                    job.state.as_str()
                ))),
                None => Err(StoreError::NotFound("job")),
            };
        };
        let reason = match &row.last_error {
            Some(e) => format!("skipped to the dead-letter queue by an admin; last error: {e}"),
            None => "skipped to the dead-letter queue by an admin".to_owned(),
        };
        let dl = DeadLetterId::new();
        insert_dead_letter(&mut tx, dl, id, &row.job, &reason, "manual", now).await?;
        if let Some(note) = note {
            sqlx::query("UPDATE dead_letters SET admin_note = $1 WHERE id = $2")
                .bind(note)
                .bind(dl.0)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        self.get_dead_letter(org, dl)
            .await?
            .ok_or(StoreError::NotFound("dead letter"))
    }

    pub async fn list_dead_letters(
        &self,
        org: OrgId,
        state: Option<DeadLetterState>,
        after: Option<DeadLetterId>,
        limit: i64,
    ) -> Result<Vec<DeadLetterRow>> {
        let rows = sqlx::query_as::<_, DeadLetterRow>(&format!(
            "SELECT {DEAD_LETTER_COLUMNS} FROM dead_letters
             WHERE org_id = $1 AND ($2::text IS NULL OR state = $2) AND ($3::uuid IS NULL OR id > $3)
             ORDER BY id LIMIT $4"
        ))
        .bind(org.0)
        .bind(state.map(DeadLetterState::as_str))
        .bind(after.map(|a| a.0))
        .bind(limit.clamp(1, 1000))
        .fetch_all(self.pool())
        .await?;
        Ok(rows)
    }

    pub async fn get_dead_letter(
        &self,
        org: OrgId,
        id: DeadLetterId,
    ) -> Result<Option<DeadLetterRow>> {
        let row = sqlx::query_as::<_, DeadLetterRow>(&format!(
            "SELECT {DEAD_LETTER_COLUMNS} FROM dead_letters WHERE org_id = $1 AND id = $2"
        ))
        .bind(org.0)
        .bind(id.0)
        .fetch_optional(self.pool())
        .await?;
        Ok(row)
    }

    /// Mark a dead letter deleted, keeping the row (and the admin's note) for the audit trail
    /// until retention removes it.
    pub async fn delete_dead_letter(
        &self,
        org: OrgId,
        id: DeadLetterId,
        note: String,
    ) -> Result<()> {
        let now = self.now();
        let done = sqlx::query(
            "UPDATE dead_letters SET state = 'deleted', admin_note = $1, updated_at = $2 WHERE org_id = $3 AND id = $4",
        )
        .bind(note)
        .bind(now)
        .bind(org.0)
        .bind(id.0)
        .execute(self.pool())
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound("dead letter"));
        }
        Ok(())
    }

    /// Retention: delete dead letters (and their jobs) created before `dead_before`, and
    /// succeeded jobs finished before `succeeded_before`. Returns (dead letters, jobs) removed.
    pub async fn purge(
        &self,
        dead_before: DateTime<Utc>,
        succeeded_before: DateTime<Utc>,
    ) -> Result<(u64, u64)> {
        let mut tx = crate::begin(self.pool()).await?;
        let dead: Vec<(Uuid,)> =
            sqlx::query_as("DELETE FROM dead_letters WHERE created_at < $1 RETURNING job_id")
                .bind(dead_before)
                .fetch_all(&mut *tx)
                .await?;
        let dead_jobs: Vec<Uuid> = dead.into_iter().map(|(id,)| id).collect();
        let removed_dead_jobs =
            sqlx::query("DELETE FROM jobs WHERE id = ANY($1) AND state = 'dead'")
                .bind(&dead_jobs)
                .execute(&mut *tx)
                .await?
                .rows_affected();
        let removed_done =
            sqlx::query("DELETE FROM jobs WHERE state = 'succeeded' AND finished_at < $1")
                .bind(succeeded_before)
                .execute(&mut *tx)
                .await?
                .rows_affected();
        tx.commit().await?;
        Ok((dead_jobs.len() as u64, removed_dead_jobs + removed_done))
    }
}

async fn insert_dead_letter(
    tx: &mut sqlx::Transaction<'_, sqlx::Postgres>,
    id: DeadLetterId,
    job: JobId,
    job_row: &DeadJob,
    reason: &str,
    class: &str,
    now: DateTime<Utc>,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO dead_letters (id, job_id, org_id, kind, partner, payload, reason, error_class, errors, attempts,
                                   created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11)",
    )
    .bind(id.0)
    .bind(job.0)
    .bind(job_row.org_id.0)
    .bind(&job_row.kind)
    .bind(job_row.partner.as_deref())
    .bind(&job_row.payload)
    .bind(reason)
    .bind(class)
    .bind(&job_row.errors)
    .bind(job_row.attempts)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dead_letter_states_read_from_their_column_text() {
        for s in [
            DeadLetterState::Open,
            DeadLetterState::Replayed,
            DeadLetterState::Deleted,
        ] {
            assert_eq!(DeadLetterState::try_from(s.as_str().to_owned()).unwrap(), s);
        }
        let err = DeadLetterState::try_from("bogus".to_owned()).unwrap_err();
        assert_eq!(err.to_string(), "invalid: dead letter state `bogus`");
    }
}
