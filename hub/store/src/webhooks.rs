//! Inbound webhook deliveries: stored raw in the transaction that enqueues their processing,
//! deduplicated by the partner's event id.

use crate::db::Result;
use crate::jobs::{NewJob, Queue};
use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::PgPool;
use switchyard_core::ids::{JobId, OrgId};
use uuid::Uuid;

/// A delivery to store.
#[derive(Debug, Clone)]
pub struct NewDelivery {
    pub org: OrgId,
    pub partner: String,
    pub event_id: String,
    pub topic: String,
    pub headers: serde_json::Value,
    pub body: Vec<u8>,
    pub documents: serde_json::Value,
}

/// What storing a delivery did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stored {
    /// A new event: stored, and its processing job enqueued.
    New { delivery: Uuid, job: JobId },
    /// The partner sent this event before: nothing new was stored or enqueued.
    Duplicate { delivery: Uuid },
}

/// A stored delivery.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct DeliveryRow {
    pub id: Uuid,
    pub org_id: Uuid,
    pub partner: String,
    pub event_id: String,
    pub topic: String,
    pub headers: serde_json::Value,
    #[serde(skip)]
    pub body: Vec<u8>,
    pub documents: serde_json::Value,
    pub status: String,
    pub job_id: Uuid,
    pub duplicates: i32,
    pub error: Option<String>,
    pub received_at: DateTime<Utc>,
    pub processed_at: Option<DateTime<Utc>>,
}

const COLUMNS: &str =
    "id, org_id, partner, event_id, topic, headers, body, documents, status, job_id, \
     duplicates, error, received_at, processed_at";

/// Store `delivery` and enqueue `process` (its processing job, which gets the delivery id in
/// `build_job`) in one transaction; a delivery whose event id the partner sent before only
/// counts the duplicate.
pub async fn store(
    pool: &PgPool,
    delivery: &NewDelivery,
    now: DateTime<Utc>,
    build_job: impl FnOnce(Uuid) -> NewJob,
) -> Result<Stored> {
    let mut tx = crate::begin(pool).await?;
    let id = Uuid::now_v7();
    let job_id = JobId::new();
    let inserted: Option<(Uuid,)> = sqlx::query_as(
        "INSERT INTO webhook_deliveries (id, org_id, partner, event_id, topic, headers, body, documents, job_id, received_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
         ON CONFLICT (partner, event_id) DO NOTHING
         RETURNING id",
    )
    .bind(id)
    .bind(delivery.org.0)
    .bind(&delivery.partner)
    .bind(&delivery.event_id)
    .bind(&delivery.topic)
    .bind(&delivery.headers)
    .bind(&delivery.body)
    .bind(&delivery.documents)
    .bind(job_id.0)
    .bind(now)
    .fetch_optional(&mut *tx)
    .await?;
    if inserted.is_none() {
        let (existing,): (Uuid,) = sqlx::query_as(
            "UPDATE webhook_deliveries SET duplicates = duplicates + 1
             WHERE partner = $1 AND event_id = $2 RETURNING id",
        )
        .bind(&delivery.partner)
        .bind(&delivery.event_id)
        .fetch_one(&mut *tx)
        .await?;
        tx.commit().await?;
        return Ok(Stored::Duplicate { delivery: existing });
    }
    Queue::insert_job_with_id(&mut *tx, job_id, &build_job(id), now).await?;
    tx.commit().await?;
    Ok(Stored::New {
        delivery: id,
        job: job_id,
    })
}

pub async fn get(pool: &PgPool, id: Uuid) -> Result<Option<DeliveryRow>> {
    Ok(sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM webhook_deliveries WHERE id = $1"
    ))
    .bind(id)
    .fetch_optional(pool)
    .await?)
}

/// Deliveries of an organization, newest first.
pub async fn list(
    pool: &PgPool,
    org: OrgId,
    partner: Option<&str>,
    limit: i64,
) -> Result<Vec<DeliveryRow>> {
    Ok(sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM webhook_deliveries
         WHERE org_id = $1 AND ($2::text IS NULL OR partner = $2)
         ORDER BY received_at DESC, id DESC LIMIT $3"
    ))
    .bind(org.0)
    .bind(partner)
    .bind(limit.clamp(1, 1000))
    .fetch_all(pool)
    .await?)
}

/// Record the outcome of processing: `processed`, or `failed` with the error.
pub async fn finish(
    pool: &PgPool,
    id: Uuid,
    error: Option<&str>,
    now: DateTime<Utc>,
) -> Result<()> {
    sqlx::query(
        "UPDATE webhook_deliveries SET status = $2, error = $3, processed_at = $4 WHERE id = $1",
    )
    .bind(id)
    .bind(if error.is_some() {
        "failed"
    } else {
        "processed"
    })
    .bind(error)
    .bind(now)
    .execute(pool)
    .await?;
    Ok(())
}

/// Retention: deliveries received before `before`.
pub async fn delete_older_than(pool: &PgPool, before: DateTime<Utc>) -> Result<u64> {
    Ok(
        sqlx::query("DELETE FROM webhook_deliveries WHERE received_at < $1")
            .bind(before)
            .execute(pool)
            .await?
            .rows_affected(),
    )
}
