//! Jobs: enqueueing, batched claims, leases, acks and the admin's retry controls.
//! Dead letters (and the failure paths that create them) are in `dead_letters`; retry
//! policies in `retry`. Callers reach all three through the `queue` facade.

use crate::db::{Result, StoreError};
use crate::retry::{RetryPolicy, RetrySpec};
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use sqlx::postgres::{PgTypeInfo, PgValueRef};
use sqlx::{FromRow, PgPool, Postgres};
use std::sync::Arc;
use switchyard_core::clock::Clock;
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

/// The `state` text column, as read by `#[derive(sqlx::FromRow)]`.
impl TryFrom<String> for JobState {
    type Error = StoreError;

    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s).ok_or_else(|| StoreError::Invalid(format!("job state `{s}`")))
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
#[derive(Debug, Clone, PartialEq, Serialize, FromRow)]
pub struct JobRow {
    #[sqlx(try_from = "Uuid")]
    pub id: JobId,
    #[sqlx(try_from = "Uuid")]
    pub org_id: OrgId,
    pub kind: String,
    pub partner: Option<String>,
    pub payload: serde_json::Value,
    pub idempotency_key: Option<String>,
    #[sqlx(try_from = "String")]
    pub state: JobState,
    pub attempts: i32,
    pub max_attempts: i32,
    #[sqlx(try_from = "String")]
    pub retry_policy: RetryPolicy,
    pub run_at: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
    pub errors: serde_json::Value,
    #[sqlx(try_from = "NullableId")]
    pub replay_of: Option<DeadLetterId>,
    pub correlation_id: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
}

/// Every column of [`JobRow`], for `SELECT`/`RETURNING` (also used by `replays`).
pub(crate) const JOB_COLUMNS: &str = "id, org_id, kind, partner, payload, idempotency_key, state, attempts, max_attempts, \
     retry_policy, run_at, last_error, errors, replay_of, correlation_id, created_at, updated_at, finished_at";

/// A nullable uuid column read for an `Option<SomeId>` field (`#[sqlx(try_from =
/// "NullableId")]`): the id newtypes only convert from a plain `Uuid`, and
/// `Option<SomeId>: TryFrom<Option<Uuid>>` cannot be implemented here (orphan rule).
pub(crate) struct NullableId(Option<Uuid>);

impl sqlx::Type<Postgres> for NullableId {
    fn type_info() -> PgTypeInfo {
        <Uuid as sqlx::Type<Postgres>>::type_info()
    }

    fn compatible(ty: &PgTypeInfo) -> bool {
        <Uuid as sqlx::Type<Postgres>>::compatible(ty)
    }
}

impl<'r> sqlx::Decode<'r, Postgres> for NullableId {
    fn decode(value: PgValueRef<'r>) -> Result<Self, sqlx::error::BoxDynError> {
        <Option<Uuid> as sqlx::Decode<'r, Postgres>>::decode(value).map(NullableId)
    }
}

impl From<NullableId> for Option<DeadLetterId> {
    fn from(id: NullableId) -> Self {
        id.0.map(DeadLetterId)
    }
}

impl From<NullableId> for Option<JobId> {
    fn from(id: NullableId) -> Self {
        id.0.map(JobId)
    }
}

/// The outcome of an enqueue.
#[derive(Debug, Clone)]
pub struct Enqueued {
    pub job: JobRow,
    /// False when the idempotency key already existed and the existing job was returned.
    pub created: bool,
}

/// A job handed to a worker.
#[derive(Debug, Clone, FromRow)]
pub struct ClaimedJob {
    #[sqlx(try_from = "Uuid")]
    pub id: JobId,
    #[sqlx(try_from = "Uuid")]
    pub org_id: OrgId,
    pub kind: String,
    pub partner: Option<String>,
    pub payload: serde_json::Value,
    pub idempotency_key: Option<String>,
    /// The key the partner saw for this document before, when the job is a replay.
    pub effect_key: Option<String>,
    /// This attempt's number, starting at 1.
    #[sqlx(rename = "attempts")]
    pub attempt: i32,
    pub max_attempts: i32,
    #[sqlx(try_from = "String")]
    pub retry_policy: RetryPolicy,
    pub correlation_id: Option<String>,
    #[sqlx(try_from = "NullableId")]
    pub replay_of: Option<DeadLetterId>,
}

impl ClaimedJob {
    /// The key passed to the partner: for a replay, the original document's key; otherwise
    /// the job's idempotency key, or its id when it has none. A redelivered or replayed job
    /// therefore never applies its effect twice.
    pub fn effect_key(&self) -> String {
        self.effect_key
            .clone()
            .or_else(|| self.idempotency_key.clone())
            .unwrap_or_else(|| self.id.to_string())
    }
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
        let inserted = sqlx::query_as::<_, JobRow>(&format!(
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
        if let Some(job) = inserted {
            return Ok(Enqueued { job, created: true });
        }
        let key = job.idempotency_key.as_deref().unwrap_or_default();
        let existing = sqlx::query_as::<_, JobRow>(&format!(
            "SELECT {JOB_COLUMNS} FROM jobs WHERE org_id = $1 AND kind = $2 AND idempotency_key = $3"
        ))
        .bind(job.org.0)
        .bind(job.kind.as_str())
        .bind(key)
        .fetch_one(&self.pool)
        .await?;
        Ok(Enqueued {
            job: existing,
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
        let jobs = sqlx::query_as::<_, ClaimedJob>(
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
             RETURNING j.id, j.org_id, j.kind, j.partner, j.payload, j.idempotency_key, j.effect_key, j.attempts, j.max_attempts,
                       j.retry_policy, j.correlation_id, j.replay_of",
        )
        .bind(now)
        .bind(limit)
        .bind(worker.0)
        .bind(lease_until)
        .fetch_all(&self.pool)
        .await?;
        Ok(jobs)
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

    /// Extend the leases of `ids`, the jobs whose handlers `worker` is running. Called by the
    /// worker's heartbeat. The worker names its jobs rather than renewing everything with its
    /// id: a job it no longer knows about (a claim whose answer was lost with the connection)
    /// must lapse and be rescued, not be kept forever.
    pub async fn renew_leases(
        &self,
        worker: WorkerId,
        ids: &[JobId],
        lease: std::time::Duration,
    ) -> Result<u64> {
        if ids.is_empty() {
            return Ok(0);
        }
        let now = self.clock.now();
        let until = now + Duration::from_std(lease).unwrap_or(Duration::seconds(30));
        let ids: Vec<Uuid> = ids.iter().map(|i| i.0).collect();
        let done = sqlx::query(
            "UPDATE jobs SET lease_until = $1
             WHERE id = ANY($2) AND worker_id = $3 AND state = 'running'",
        )
        .bind(until)
        .bind(&ids)
        .bind(worker.0)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected())
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
        let job = sqlx::query_as::<_, JobRow>(&format!(
            "SELECT {JOB_COLUMNS} FROM jobs WHERE org_id = $1 AND id = $2"
        ))
        .bind(org.0)
        .bind(id.0)
        .fetch_optional(&self.pool)
        .await?;
        Ok(job)
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
        let jobs = sqlx::query_as::<_, JobRow>(&format!(
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
        Ok(jobs)
    }

    /// Run a job from the retry queue now instead of at its scheduled time.
    pub async fn retry_now(&self, org: OrgId, id: JobId) -> Result<JobRow> {
        let now = self.clock.now();
        let job = sqlx::query_as::<_, JobRow>(&format!(
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
        match job {
            Some(job) => {
                notify(&self.pool).await?;
                Ok(job)
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
    fn states_round_trip() {
        for s in JobState::ALL {
            assert_eq!(JobState::parse(s.as_str()), Some(s));
        }
        assert_eq!(JobState::parse("bogus"), None);
    }

    #[test]
    fn states_read_from_their_column_text() {
        for s in JobState::ALL {
            assert_eq!(JobState::try_from(s.as_str().to_owned()).unwrap(), s);
        }
        let err = JobState::try_from("bogus".to_owned()).unwrap_err();
        assert_eq!(err.to_string(), "invalid: job state `bogus`");
    }
}
