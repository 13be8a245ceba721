//! The job queue: Switchyard's own table and SQL (see docs/ARCHITECTURE.md for why not
//! apalis-postgres).
//!
//! Life of a job:
//!
//! ```text
//! pending ──claim──▶ running ──ack──▶ succeeded
//!    ▲                  │
//!    │ run_at reached   │ fail (retryable, attempts left)
//!    └──── retrying ◀───┤
//!                       │ fail (permanent, or attempts exhausted)
//!                       ▼
//!                      dead ──replay──▶ a new pending job linked to the dead letter
//! ```
//!
//! * Claims are batched (`FOR UPDATE SKIP LOCKED`), so several workers and several
//!   processes share the table without ever running one job twice at once.
//! * A claimed job carries a lease; [`Queue::renew_leases`] extends it while the worker lives
//!   and [`Queue::rescue_expired`] hands expired leases (a killed worker) back to the queue.
//! * Times come from the injected [`Clock`], never from the database's `now()`, so retry
//!   timing is testable without sleeping.

use crate::db::{Result, StoreError};
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use sqlx::postgres::PgRow;
use sqlx::{PgPool, Row};
use std::sync::Arc;
use switchyard_core::clock::Clock;
use switchyard_core::error::ErrorClass;
use switchyard_core::ids::{DeadLetterId, JobId, JobKind, OrgId, PartnerName, WorkerId};
use uuid::Uuid;

/// The Postgres channel idle workers LISTEN on.
pub const NOTIFY_CHANNEL: &str = "switchyard_jobs";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JobState {
    Pending,
    Running,
    Succeeded,
    Retrying,
    Dead,
}

impl JobState {
    pub const ALL: [JobState; 5] = [
        JobState::Pending,
        JobState::Running,
        JobState::Succeeded,
        JobState::Retrying,
        JobState::Dead,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            JobState::Pending => "pending",
            JobState::Running => "running",
            JobState::Succeeded => "succeeded",
            JobState::Retrying => "retrying",
            JobState::Dead => "dead",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|st| st.as_str() == s)
    }
}

/// How a failed job is retried.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RetryPolicy {
    /// Retries 5 s apart (3 tries by default).
    Immediate,
    /// 5 s, 30 s, 5 min, 30 min, 2 h (the MonoPilot schedule), then dead.
    Exponential,
    /// No automatic retry: the job waits in the retry queue for an admin.
    Manual,
}

impl RetryPolicy {
    pub fn as_str(self) -> &'static str {
        match self {
            RetryPolicy::Immediate => "immediate",
            RetryPolicy::Exponential => "exponential",
            RetryPolicy::Manual => "manual",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "immediate" => Some(RetryPolicy::Immediate),
            "exponential" => Some(RetryPolicy::Exponential),
            "manual" => Some(RetryPolicy::Manual),
            _ => None,
        }
    }

    /// The wait before retry number `retry` (1 = the first retry), or None for "held until
    /// an admin acts".
    pub fn delay(self, retry: i32) -> Option<Duration> {
        const EXPONENTIAL: [i64; 5] = [5, 30, 5 * 60, 30 * 60, 2 * 60 * 60];
        match self {
            RetryPolicy::Immediate => Some(Duration::seconds(5)),
            RetryPolicy::Exponential => {
                let i = (retry.max(1) as usize - 1).min(EXPONENTIAL.len() - 1);
                Some(Duration::seconds(EXPONENTIAL[i]))
            }
            RetryPolicy::Manual => None,
        }
    }

    /// Attempts (first try included) the policy allows by default.
    pub fn default_max_attempts(self) -> i32 {
        match self {
            RetryPolicy::Immediate => 3,
            RetryPolicy::Exponential => 6,
            RetryPolicy::Manual => 1,
        }
    }
}

/// A policy with its attempt limit, resolved per job kind and partner at enqueue time and
/// stored with the job, so a config change never alters jobs already queued.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RetrySpec {
    pub policy: RetryPolicy,
    pub max_attempts: i32,
}

impl RetrySpec {
    pub fn of(policy: RetryPolicy) -> Self {
        Self {
            policy,
            max_attempts: policy.default_max_attempts(),
        }
    }
}

impl Default for RetrySpec {
    fn default() -> Self {
        Self::of(RetryPolicy::Exponential)
    }
}

/// A job to enqueue.
#[derive(Debug, Clone)]
pub struct NewJob {
    pub org: OrgId,
    pub kind: JobKind,
    pub partner: Option<PartnerName>,
    pub payload: serde_json::Value,
    /// Enqueueing the same key again (same org and kind) is a no-op that returns the first job.
    pub idempotency_key: Option<String>,
    pub retry: RetrySpec,
    /// Not before this time (default: now).
    pub run_at: Option<DateTime<Utc>>,
    pub correlation_id: Option<String>,
}

impl NewJob {
    pub fn new(org: OrgId, kind: impl Into<String>, payload: serde_json::Value) -> Self {
        Self {
            org,
            kind: JobKind(kind.into()),
            partner: None,
            payload,
            idempotency_key: None,
            retry: RetrySpec::default(),
            run_at: None,
            correlation_id: None,
        }
    }

    pub fn partner(mut self, partner: impl Into<String>) -> Self {
        self.partner = Some(PartnerName(partner.into()));
        self
    }

    pub fn key(mut self, key: impl Into<String>) -> Self {
        self.idempotency_key = Some(key.into());
        self
    }

    pub fn retry(mut self, retry: RetrySpec) -> Self {
        self.retry = retry;
        self
    }
}

/// A job as stored.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct JobRow {
    pub id: JobId,
    pub org_id: OrgId,
    pub kind: String,
    pub partner: Option<String>,
    pub payload: serde_json::Value,
    pub idempotency_key: Option<String>,
    pub state: JobState,
    pub attempts: i32,
    pub max_attempts: i32,
    pub retry_policy: RetryPolicy,
    pub run_at: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
    pub errors: serde_json::Value,
    pub replay_of: Option<DeadLetterId>,
    pub correlation_id: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
}

const JOB_COLUMNS: &str = "id, org_id, kind, partner, payload, idempotency_key, state, attempts, max_attempts, \
     retry_policy, run_at, last_error, errors, replay_of, correlation_id, created_at, updated_at, finished_at";

fn job_from_row(row: &PgRow) -> Result<JobRow> {
    let state: String = row.try_get("state")?;
    let policy: String = row.try_get("retry_policy")?;
    Ok(JobRow {
        id: JobId(row.try_get("id")?),
        org_id: OrgId(row.try_get("org_id")?),
        kind: row.try_get("kind")?,
        partner: row.try_get("partner")?,
        payload: row.try_get("payload")?,
        idempotency_key: row.try_get("idempotency_key")?,
        state: JobState::parse(&state)
            .ok_or_else(|| StoreError::Invalid(format!("job state `{state}`")))?,
        attempts: row.try_get("attempts")?,
        max_attempts: row.try_get("max_attempts")?,
        retry_policy: RetryPolicy::parse(&policy)
            .ok_or_else(|| StoreError::Invalid(format!("retry policy `{policy}`")))?,
        run_at: row.try_get("run_at")?,
        last_error: row.try_get("last_error")?,
        errors: row.try_get("errors")?,
        replay_of: row
            .try_get::<Option<Uuid>, _>("replay_of")?
            .map(DeadLetterId),
        correlation_id: row.try_get("correlation_id")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
        finished_at: row.try_get("finished_at")?,
    })
}

/// The outcome of an enqueue.
#[derive(Debug, Clone)]
pub struct Enqueued {
    pub job: JobRow,
    /// False when the idempotency key already existed and the existing job was returned.
    pub created: bool,
}

/// A job handed to a worker.
#[derive(Debug, Clone)]
pub struct ClaimedJob {
    pub id: JobId,
    pub org_id: OrgId,
    pub kind: String,
    pub partner: Option<String>,
    pub payload: serde_json::Value,
    pub idempotency_key: Option<String>,
    /// This attempt's number, starting at 1.
    pub attempt: i32,
    pub max_attempts: i32,
    pub retry_policy: RetryPolicy,
    pub correlation_id: Option<String>,
    pub replay_of: Option<DeadLetterId>,
}

impl ClaimedJob {
    /// The key passed to the partner: the job's idempotency key, or its id when it has none,
    /// so a redelivered job never applies its effect twice.
    pub fn effect_key(&self) -> String {
        self.idempotency_key
            .clone()
            .unwrap_or_else(|| self.id.to_string())
    }
}

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
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeadLetterState {
    Open,
    Replayed,
    Deleted,
}

impl DeadLetterState {
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

/// A dead letter: the original payload, every attempt's error, and what admins did with it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DeadLetterRow {
    pub id: DeadLetterId,
    pub job_id: JobId,
    pub org_id: OrgId,
    pub kind: String,
    pub partner: Option<String>,
    pub payload: serde_json::Value,
    pub reason: String,
    pub error_class: String,
    pub errors: serde_json::Value,
    pub attempts: i32,
    pub state: DeadLetterState,
    pub admin_note: Option<String>,
    pub replay_count: i32,
    pub last_replay_job_id: Option<JobId>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

const DEAD_LETTER_COLUMNS: &str =
    "id, job_id, org_id, kind, partner, payload, reason, error_class, errors, attempts, \
     state, admin_note, replay_count, last_replay_job_id, created_at, updated_at";

fn dead_letter_from_row(row: &PgRow) -> Result<DeadLetterRow> {
    let state: String = row.try_get("state")?;
    Ok(DeadLetterRow {
        id: DeadLetterId(row.try_get("id")?),
        job_id: JobId(row.try_get("job_id")?),
        org_id: OrgId(row.try_get("org_id")?),
        kind: row.try_get("kind")?,
        partner: row.try_get("partner")?,
        payload: row.try_get("payload")?,
        reason: row.try_get("reason")?,
        error_class: row.try_get("error_class")?,
        errors: row.try_get("errors")?,
        attempts: row.try_get("attempts")?,
        state: DeadLetterState::parse(&state)
            .ok_or_else(|| StoreError::Invalid(format!("dead letter state `{state}`")))?,
        admin_note: row.try_get("admin_note")?,
        replay_count: row.try_get("replay_count")?,
        last_replay_job_id: row
            .try_get::<Option<Uuid>, _>("last_replay_job_id")?
            .map(JobId),
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

/// Job counts for metrics and the demo summary.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct QueueCounts {
    pub by_state: Vec<(JobState, i64)>,
    pub dead_letters_open: i64,
}

impl QueueCounts {
    pub fn get(&self, state: JobState) -> i64 {
        self.by_state
            .iter()
            .find(|(s, _)| *s == state)
            .map(|(_, n)| *n)
            .unwrap_or(0)
    }
}

/// Handle to the queue. Cheap to clone.
#[derive(Clone)]
pub struct Queue {
    pool: PgPool,
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for Queue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Queue").field("clock", &self.clock).finish()
    }
}

impl Queue {
    pub fn new(pool: PgPool, clock: Arc<dyn Clock>) -> Self {
        Self { pool, clock }
    }

    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    /// Enqueue one job. With an idempotency key that already exists for the org and kind,
    /// nothing is written and the existing job comes back with `created: false`.
    pub async fn enqueue(&self, job: NewJob) -> Result<Enqueued> {
        let now = self.clock.now();
        let id = JobId::new();
        let inserted = sqlx::query(&format!(
            "INSERT INTO jobs (id, org_id, kind, partner, payload, idempotency_key, state, attempts, max_attempts,
                               retry_policy, run_at, correlation_id, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, 'pending', 0, $7, $8, $9, $10, $11, $11)
             ON CONFLICT (org_id, kind, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING
             RETURNING {JOB_COLUMNS}"
        ))
        .bind(id.0)
        .bind(job.org.0)
        .bind(job.kind.as_str())
        .bind(job.partner.as_ref().map(|p| p.as_str()))
        .bind(&job.payload)
        .bind(job.idempotency_key.as_deref())
        .bind(job.retry.max_attempts.max(1))
        .bind(job.retry.policy.as_str())
        .bind(job.run_at.unwrap_or(now))
        .bind(job.correlation_id.as_deref())
        .bind(now)
        .fetch_optional(&self.pool)
        .await?;
        if let Some(row) = inserted {
            return Ok(Enqueued {
                job: job_from_row(&row)?,
                created: true,
            });
        }
        let key = job.idempotency_key.as_deref().unwrap_or_default();
        let row = sqlx::query(&format!(
            "SELECT {JOB_COLUMNS} FROM jobs WHERE org_id = $1 AND kind = $2 AND idempotency_key = $3"
        ))
        .bind(job.org.0)
        .bind(job.kind.as_str())
        .bind(key)
        .fetch_one(&self.pool)
        .await?;
        Ok(Enqueued {
            job: job_from_row(&row)?,
            created: false,
        })
    }

    /// Insert one job on `exec` (e.g. inside the caller's transaction, so the job exists
    /// exactly when what it works on was committed), `now` from the caller's clock. True when
    /// it was created, false when its idempotency key already existed. Workers find it on
    /// their next claim.
    pub async fn insert_job<'e>(
        exec: impl sqlx::PgExecutor<'e>,
        job: &NewJob,
        now: DateTime<Utc>,
    ) -> Result<bool> {
        Self::insert_job_with_id(exec, JobId::new(), job, now).await
    }

    /// [`Queue::insert_job`] with the id chosen by the caller (who records it elsewhere in the
    /// same transaction).
    pub async fn insert_job_with_id<'e>(
        exec: impl sqlx::PgExecutor<'e>,
        id: JobId,
        job: &NewJob,
        now: DateTime<Utc>,
    ) -> Result<bool> {
        let done = sqlx::query(
            "INSERT INTO jobs (id, org_id, kind, partner, payload, idempotency_key, state, attempts, max_attempts,
                               retry_policy, run_at, correlation_id, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, 'pending', 0, $7, $8, $9, $10, $11, $11)
             ON CONFLICT (org_id, kind, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING",
        )
        .bind(id.0)
        .bind(job.org.0)
        .bind(job.kind.as_str())
        .bind(job.partner.as_ref().map(|p| p.as_str()))
        .bind(&job.payload)
        .bind(job.idempotency_key.as_deref())
        .bind(job.retry.max_attempts.max(1))
        .bind(job.retry.policy.as_str())
        .bind(job.run_at.unwrap_or(now))
        .bind(job.correlation_id.as_deref())
        .bind(now)
        .execute(exec)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Enqueue many jobs in one statement (duplicates by idempotency key are skipped).
    /// Returns how many were inserted.
    pub async fn enqueue_many(&self, jobs: &[NewJob]) -> Result<u64> {
        if jobs.is_empty() {
            return Ok(0);
        }
        let now = self.clock.now();
        let mut ids = Vec::with_capacity(jobs.len());
        let mut orgs = Vec::with_capacity(jobs.len());
        let mut kinds = Vec::with_capacity(jobs.len());
        let mut partners: Vec<Option<String>> = Vec::with_capacity(jobs.len());
        let mut payloads = Vec::with_capacity(jobs.len());
        let mut keys: Vec<Option<String>> = Vec::with_capacity(jobs.len());
        let mut max_attempts = Vec::with_capacity(jobs.len());
        let mut policies = Vec::with_capacity(jobs.len());
        let mut run_ats = Vec::with_capacity(jobs.len());
        let mut correlations: Vec<Option<String>> = Vec::with_capacity(jobs.len());
        for job in jobs {
            ids.push(Uuid::now_v7());
            orgs.push(job.org.0);
            kinds.push(job.kind.0.clone());
            partners.push(job.partner.as_ref().map(|p| p.0.clone()));
            payloads.push(job.payload.clone());
            keys.push(job.idempotency_key.clone());
            max_attempts.push(job.retry.max_attempts.max(1));
            policies.push(job.retry.policy.as_str().to_owned());
            run_ats.push(job.run_at.unwrap_or(now));
            correlations.push(job.correlation_id.clone());
        }
        let done = sqlx::query(
            "INSERT INTO jobs (id, org_id, kind, partner, payload, idempotency_key, state, attempts, max_attempts,
                               retry_policy, run_at, correlation_id, created_at, updated_at)
             SELECT id, org_id, kind, partner, payload, key, 'pending', 0, max_attempts, policy, run_at, corr, $11, $11
             FROM UNNEST($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::jsonb[], $6::text[], $7::int[],
                         $8::text[], $9::timestamptz[], $10::text[])
                  AS t(id, org_id, kind, partner, payload, key, max_attempts, policy, run_at, corr)
             ON CONFLICT (org_id, kind, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING",
        )
        .bind(&ids)
        .bind(&orgs)
        .bind(&kinds)
        .bind(&partners)
        .bind(&payloads)
        .bind(&keys)
        .bind(&max_attempts)
        .bind(&policies)
        .bind(&run_ats)
        .bind(&correlations)
        .bind(now)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected())
    }

    /// Claim up to `limit` runnable jobs for `worker`, leasing them for `lease`.
    pub async fn claim(
        &self,
        worker: WorkerId,
        limit: i64,
        lease: std::time::Duration,
    ) -> Result<Vec<ClaimedJob>> {
        let now = self.clock.now();
        let lease_until = now + Duration::from_std(lease).unwrap_or(Duration::seconds(30));
        let rows = sqlx::query(
            "WITH next AS (
                 SELECT id FROM jobs
                 WHERE state IN ('pending', 'retrying') AND run_at <= $1
                 ORDER BY run_at
                 LIMIT $2
                 FOR UPDATE SKIP LOCKED
             )
             UPDATE jobs j
             SET state = 'running', attempts = j.attempts + 1, worker_id = $3, lease_until = $4, updated_at = $1
             FROM next WHERE j.id = next.id
             RETURNING j.id, j.org_id, j.kind, j.partner, j.payload, j.idempotency_key, j.attempts, j.max_attempts,
                       j.retry_policy, j.correlation_id, j.replay_of",
        )
        .bind(now)
        .bind(limit)
        .bind(worker.0)
        .bind(lease_until)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                let policy: String = row.try_get("retry_policy")?;
                Ok(ClaimedJob {
                    id: JobId(row.try_get("id")?),
                    org_id: OrgId(row.try_get("org_id")?),
                    kind: row.try_get("kind")?,
                    partner: row.try_get("partner")?,
                    payload: row.try_get("payload")?,
                    idempotency_key: row.try_get("idempotency_key")?,
                    attempt: row.try_get("attempts")?,
                    max_attempts: row.try_get("max_attempts")?,
                    retry_policy: RetryPolicy::parse(&policy)
                        .ok_or_else(|| StoreError::Invalid(format!("retry policy `{policy}`")))?,
                    correlation_id: row.try_get("correlation_id")?,
                    replay_of: row
                        .try_get::<Option<Uuid>, _>("replay_of")?
                        .map(DeadLetterId),
                })
            })
            .collect()
    }

    /// Mark jobs succeeded in one statement. Only jobs still leased by `worker` are touched;
    /// returns how many were.
    pub async fn complete(&self, worker: WorkerId, ids: &[JobId]) -> Result<u64> {
        if ids.is_empty() {
            return Ok(0);
        }
        let now = self.clock.now();
        let ids: Vec<Uuid> = ids.iter().map(|i| i.0).collect();
        let done = sqlx::query(
            "UPDATE jobs SET state = 'succeeded', finished_at = $1, updated_at = $1, lease_until = NULL
             WHERE id = ANY($2) AND worker_id = $3 AND state = 'running'",
        )
        .bind(now)
        .bind(&ids)
        .bind(worker.0)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected())
    }

    /// Record a failed attempt and decide the job's fate from its policy and the error class.
    pub async fn fail(
        &self,
        worker: WorkerId,
        job: &ClaimedJob,
        failure: &Failure,
    ) -> Result<FailOutcome> {
        let now = self.clock.now();
        let error = serde_json::json!({
            "attempt": job.attempt,
            "at": now,
            "class": failure.class.as_str(),
            "message": failure.message,
            "status": failure.status,
        });
        let attempts_left = job.attempt < job.max_attempts;
        let retry = match &failure.class {
            ErrorClass::Transient | ErrorClass::RateLimited { .. }
                if attempts_left || job.retry_policy == RetryPolicy::Manual =>
            {
                let policy_delay = job.retry_policy.delay(job.attempt);
                let retry_after = match &failure.class {
                    ErrorClass::RateLimited {
                        retry_after: Some(d),
                    } => Duration::from_std(*d).ok(),
                    _ => None,
                };
                // A partner's Retry-After is a floor: never come back sooner than it asked.
                Some(match (policy_delay, retry_after) {
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
                .execute(&self.pool)
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
                let mut tx = self.pool.begin().await?;
                let moved = sqlx::query(
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

    /// Store a job that failed before it could run (a record that did not map, say) directly
    /// as a dead letter, so nothing is lost and an admin can fix and replay it.
    pub async fn bury(&self, job: NewJob, reason: &str, class: &str) -> Result<DeadLetterId> {
        let now = self.clock.now();
        let error =
            serde_json::json!([{ "attempt": 0, "at": now, "class": class, "message": reason }]);
        let mut tx = self.pool.begin().await?;
        let row = sqlx::query(
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
        let job_id: Uuid = row.try_get("id")?;
        insert_dead_letter(&mut tx, dl, JobId(job_id), &row, reason, class, now).await?;
        tx.commit().await?;
        Ok(dl)
    }

    /// Extend the lease of every job `worker` is running. Called by the worker's heartbeat.
    pub async fn renew_leases(&self, worker: WorkerId, lease: std::time::Duration) -> Result<u64> {
        let now = self.clock.now();
        let until = now + Duration::from_std(lease).unwrap_or(Duration::seconds(30));
        let done = sqlx::query(
            "UPDATE jobs SET lease_until = $1 WHERE worker_id = $2 AND state = 'running'",
        )
        .bind(until)
        .bind(worker.0)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected())
    }

    /// Put jobs whose lease has expired (their worker died) back in the queue, to run at once.
    /// A job that has used all its attempts this way goes to the dead-letter queue instead, so
    /// a job that kills its worker cannot loop forever. Returns how many jobs were rescued.
    pub async fn rescue_expired(&self) -> Result<u64> {
        let now = self.clock.now();
        let mut tx = self.pool.begin().await?;
        let rows = sqlx::query(
            "WITH expired AS (
                 SELECT id FROM jobs WHERE state = 'running' AND lease_until < $1
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
        .fetch_all(&mut *tx)
        .await?;
        for row in rows
            .iter()
            .filter(|r| r.try_get::<String, _>("state").is_ok_and(|s| s == "dead"))
        {
            let job = JobId(row.try_get("id")?);
            insert_dead_letter(
                &mut tx,
                DeadLetterId::new(),
                job,
                row,
                "lease expired on the last attempt",
                "transient",
                now,
            )
            .await?;
        }
        tx.commit().await?;
        if !rows.is_empty() {
            notify(&self.pool).await?;
        }
        Ok(rows.len() as u64)
    }

    /// Give back every job `worker` still holds (graceful shutdown), without counting the
    /// interrupted attempt.
    pub async fn release(&self, worker: WorkerId) -> Result<u64> {
        let now = self.clock.now();
        let done = sqlx::query(
            "UPDATE jobs SET state = 'pending', run_at = $1, attempts = greatest(attempts - 1, 0),
                             lease_until = NULL, worker_id = NULL, updated_at = $1
             WHERE worker_id = $2 AND state = 'running'",
        )
        .bind(now)
        .bind(worker.0)
        .execute(&self.pool)
        .await?;
        if done.rows_affected() > 0 {
            notify(&self.pool).await?;
        }
        Ok(done.rows_affected())
    }

    /// The earliest `run_at` of a waiting job, so an idle worker knows when to look again.
    pub async fn next_run_at(&self) -> Result<Option<DateTime<Utc>>> {
        let row: (Option<DateTime<Utc>>,) =
            sqlx::query_as("SELECT min(run_at) FROM jobs WHERE state IN ('pending', 'retrying')")
                .fetch_one(&self.pool)
                .await?;
        Ok(row.0)
    }

    pub async fn get_job(&self, org: OrgId, id: JobId) -> Result<Option<JobRow>> {
        let row = sqlx::query(&format!(
            "SELECT {JOB_COLUMNS} FROM jobs WHERE org_id = $1 AND id = $2"
        ))
        .bind(org.0)
        .bind(id.0)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(job_from_row).transpose()
    }

    /// Jobs in id (creation) order after the cursor `after`.
    pub async fn list_jobs(
        &self,
        org: OrgId,
        state: Option<JobState>,
        kind: Option<&str>,
        after: Option<JobId>,
        limit: i64,
    ) -> Result<Vec<JobRow>> {
        let rows = sqlx::query(&format!(
            "SELECT {JOB_COLUMNS} FROM jobs
             WHERE org_id = $1 AND ($2::text IS NULL OR state = $2) AND ($3::text IS NULL OR kind = $3)
               AND ($4::uuid IS NULL OR id > $4)
             ORDER BY id LIMIT $5"
        ))
        .bind(org.0)
        .bind(state.map(JobState::as_str))
        .bind(kind)
        .bind(after.map(|a| a.0))
        .bind(limit.clamp(1, 1000))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(job_from_row).collect()
    }

    /// Run a job from the retry queue now instead of at its scheduled time.
    pub async fn retry_now(&self, org: OrgId, id: JobId) -> Result<JobRow> {
        let now = self.clock.now();
        let row = sqlx::query(&format!(
            "UPDATE jobs SET run_at = $1, updated_at = $1,
                             max_attempts = greatest(max_attempts, attempts + 1)
             WHERE org_id = $2 AND id = $3 AND state = 'retrying'
             RETURNING {JOB_COLUMNS}"
        ))
        .bind(now)
        .bind(org.0)
        .bind(id.0)
        .fetch_optional(&self.pool)
        .await?;
        match row {
            Some(row) => {
                notify(&self.pool).await?;
                job_from_row(&row)
            }
            None => match self.get_job(org, id).await? {
                Some(job) => Err(StoreError::Conflict(format!(
                    "job is {}, not retrying",
                    job.state.as_str()
                ))),
                None => Err(StoreError::NotFound("job")),
            },
        }
    }

    /// Retry now every retrying job of the org (or those listed). Returns how many.
    pub async fn bulk_retry_now(&self, org: OrgId, ids: Option<&[JobId]>) -> Result<u64> {
        let now = self.clock.now();
        let ids: Option<Vec<Uuid>> = ids.map(|ids| ids.iter().map(|i| i.0).collect());
        let done = sqlx::query(
            "UPDATE jobs SET run_at = $1, updated_at = $1, max_attempts = greatest(max_attempts, attempts + 1)
             WHERE org_id = $2 AND state = 'retrying' AND ($3::uuid[] IS NULL OR id = ANY($3))",
        )
        .bind(now)
        .bind(org.0)
        .bind(ids)
        .execute(&self.pool)
        .await?;
        if done.rows_affected() > 0 {
            notify(&self.pool).await?;
        }
        Ok(done.rows_affected())
    }

    /// Move a job from the retry queue (or the pending queue) straight to the dead letters.
    pub async fn skip_to_dead(
        &self,
        org: OrgId,
        id: JobId,
        note: Option<String>,
    ) -> Result<DeadLetterRow> {
        let now = self.clock.now();
        let mut tx = self.pool.begin().await?;
        let moved = sqlx::query(
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
        let last: Option<String> = row.try_get("last_error")?;
        let reason = match last {
            Some(e) => format!("skipped to the dead-letter queue by an admin; last error: {e}"),
            None => "skipped to the dead-letter queue by an admin".to_owned(),
        };
        let dl = DeadLetterId::new();
        insert_dead_letter(&mut tx, dl, id, &row, &reason, "manual", now).await?;
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
        let rows = sqlx::query(&format!(
            "SELECT {DEAD_LETTER_COLUMNS} FROM dead_letters
             WHERE org_id = $1 AND ($2::text IS NULL OR state = $2) AND ($3::uuid IS NULL OR id > $3)
             ORDER BY id LIMIT $4"
        ))
        .bind(org.0)
        .bind(state.map(DeadLetterState::as_str))
        .bind(after.map(|a| a.0))
        .bind(limit.clamp(1, 1000))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(dead_letter_from_row).collect()
    }

    pub async fn get_dead_letter(
        &self,
        org: OrgId,
        id: DeadLetterId,
    ) -> Result<Option<DeadLetterRow>> {
        let row = sqlx::query(&format!(
            "SELECT {DEAD_LETTER_COLUMNS} FROM dead_letters WHERE org_id = $1 AND id = $2"
        ))
        .bind(org.0)
        .bind(id.0)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(dead_letter_from_row).transpose()
    }

    /// Replay a dead letter as a new job (same kind, partner and retry policy), optionally
    /// with an edited payload. The new job links back through `replay_of`; its idempotency
    /// key is the original's with a `#replay-N` suffix, because the original key stays
    /// reserved by the dead job for as long as the dead letter is retained.
    pub async fn replay(
        &self,
        org: OrgId,
        id: DeadLetterId,
        edited_payload: Option<serde_json::Value>,
        note: Option<String>,
    ) -> Result<JobRow> {
        let now = self.clock.now();
        let mut tx = self.pool.begin().await?;
        let dl = sqlx::query(
            "SELECT d.payload, d.kind, d.partner, d.replay_count, d.state, j.idempotency_key, j.retry_policy,
                    j.max_attempts, j.correlation_id
             FROM dead_letters d JOIN jobs j ON j.id = d.job_id
             WHERE d.org_id = $1 AND d.id = $2
             FOR UPDATE OF d",
        )
        .bind(org.0)
        .bind(id.0)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(StoreError::NotFound("dead letter"))?;
        let state: String = dl.try_get("state")?;
        if state == "deleted" {
            return Err(StoreError::Conflict("dead letter was deleted".into()));
        }
        let replay_count: i32 = dl.try_get::<i32, _>("replay_count")? + 1;
        let key: Option<String> = dl.try_get("idempotency_key")?;
        let payload: serde_json::Value = match edited_payload {
            Some(p) => p,
            None => dl.try_get("payload")?,
        };
        let job_id = JobId::new();
        let row = sqlx::query(&format!(
            "INSERT INTO jobs (id, org_id, kind, partner, payload, idempotency_key, state, attempts, max_attempts,
                               retry_policy, run_at, replay_of, correlation_id, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, 'pending', 0, $7, $8, $9, $10, $11, $9, $9)
             RETURNING {JOB_COLUMNS}"
        ))
        .bind(job_id.0)
        .bind(org.0)
        .bind(dl.try_get::<String, _>("kind")?)
        .bind(dl.try_get::<Option<String>, _>("partner")?)
        .bind(&payload)
        .bind(key.map(|k| format!("{k}#replay-{replay_count}")))
        .bind(dl.try_get::<i32, _>("max_attempts")?)
        .bind(dl.try_get::<String, _>("retry_policy")?)
        .bind(now)
        .bind(id.0)
        .bind(dl.try_get::<Option<String>, _>("correlation_id")?)
        .fetch_one(&mut *tx)
        .await?;
        sqlx::query(
            "UPDATE dead_letters SET state = 'replayed', replay_count = $1, last_replay_job_id = $2,
                                     admin_note = coalesce($3, admin_note), updated_at = $4
             WHERE id = $5",
        )
        .bind(replay_count)
        .bind(job_id.0)
        .bind(note)
        .bind(now)
        .bind(id.0)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        job_from_row(&row)
    }

    /// Replay several dead letters, each with its original payload. All or nothing: an unknown
    /// or deleted id fails the whole call before anything is enqueued.
    pub async fn bulk_replay(&self, org: OrgId, ids: &[DeadLetterId]) -> Result<Vec<JobRow>> {
        for id in ids {
            match self.get_dead_letter(org, *id).await? {
                None => return Err(StoreError::NotFound("dead letter")),
                Some(dl) if dl.state == DeadLetterState::Deleted => {
                    return Err(StoreError::Conflict(format!(
                        "dead letter {id} was deleted"
                    )))
                }
                Some(_) => {}
            }
        }
        let mut jobs = Vec::with_capacity(ids.len());
        for id in ids {
            jobs.push(self.replay(org, *id, None, None).await?);
        }
        Ok(jobs)
    }

    /// Mark a dead letter deleted, keeping the row (and the admin's note) for the audit trail
    /// until retention removes it.
    pub async fn delete_dead_letter(
        &self,
        org: OrgId,
        id: DeadLetterId,
        note: String,
    ) -> Result<()> {
        let now = self.clock.now();
        let done = sqlx::query(
            "UPDATE dead_letters SET state = 'deleted', admin_note = $1, updated_at = $2 WHERE org_id = $3 AND id = $4",
        )
        .bind(note)
        .bind(now)
        .bind(org.0)
        .bind(id.0)
        .execute(&self.pool)
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound("dead letter"));
        }
        Ok(())
    }

    pub async fn counts(&self) -> Result<QueueCounts> {
        let rows: Vec<(String, i64)> =
            sqlx::query_as("SELECT state, count(*) FROM jobs GROUP BY state")
                .fetch_all(&self.pool)
                .await?;
        let (open,): (i64,) =
            sqlx::query_as("SELECT count(*) FROM dead_letters WHERE state = 'open'")
                .fetch_one(&self.pool)
                .await?;
        Ok(QueueCounts {
            by_state: JobState::ALL
                .into_iter()
                .map(|s| {
                    (
                        s,
                        rows.iter()
                            .find(|(n, _)| n == s.as_str())
                            .map(|(_, c)| *c)
                            .unwrap_or(0),
                    )
                })
                .collect(),
            dead_letters_open: open,
        })
    }

    /// Retention: delete dead letters (and their jobs) created before `dead_before`, and
    /// succeeded jobs finished before `succeeded_before`. Returns (dead letters, jobs) removed.
    pub async fn purge(
        &self,
        dead_before: DateTime<Utc>,
        succeeded_before: DateTime<Utc>,
    ) -> Result<(u64, u64)> {
        let mut tx = self.pool.begin().await?;
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
    job_row: &PgRow,
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
    .bind(job_row.try_get::<Uuid, _>("org_id")?)
    .bind(job_row.try_get::<String, _>("kind")?)
    .bind(job_row.try_get::<Option<String>, _>("partner")?)
    .bind(job_row.try_get::<serde_json::Value, _>("payload")?)
    .bind(reason)
    .bind(class)
    .bind(job_row.try_get::<serde_json::Value, _>("errors")?)
    .bind(job_row.try_get::<i32, _>("attempts")?)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Wake idle workers (inserts notify by trigger; updates that make jobs runnable call this).
pub async fn notify(pool: &PgPool) -> Result<()> {
    sqlx::query("SELECT pg_notify($1, '')")
        .bind(NOTIFY_CHANNEL)
        .execute(pool)
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exponential_schedule_is_the_monopilot_one() {
        let p = RetryPolicy::Exponential;
        let secs: Vec<i64> = (1..=6).map(|r| p.delay(r).unwrap().num_seconds()).collect();
        assert_eq!(secs, vec![5, 30, 300, 1800, 7200, 7200]);
        assert_eq!(p.default_max_attempts(), 6);
    }

    #[test]
    fn immediate_and_manual_policies() {
        assert_eq!(RetryPolicy::Immediate.delay(1), Some(Duration::seconds(5)));
        assert_eq!(RetryPolicy::Immediate.default_max_attempts(), 3);
        assert_eq!(RetryPolicy::Manual.delay(1), None);
    }

    #[test]
    fn states_round_trip() {
        for s in JobState::ALL {
            assert_eq!(JobState::parse(s.as_str()), Some(s));
        }
        assert_eq!(JobState::parse("bogus"), None);
    }
}
