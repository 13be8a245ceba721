//! Domain events: the transactional outbox (migrations/0016_events.sql). Rows are written by
//! triggers in the transaction of the change they describe; this module only reads them and
//! records the test action's samples.

use crate::cursor;
use crate::db::Result;
use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::{PgPool, Postgres, QueryBuilder};
use switchyard_core::ids::{EventId, OrgId, WebhookEndpointId};
use uuid::Uuid;

/// One recorded event.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct EventRow {
    #[sqlx(try_from = "Uuid")]
    pub id: EventId,
    #[sqlx(try_from = "Uuid")]
    pub org_id: OrgId,
    #[sqlx(rename = "type")]
    pub event_type: String,
    pub occurred_at: DateTime<Utc>,
    pub data: serde_json::Value,
    /// A test action's sample: the endpoint it is for (never listed or fanned out).
    #[serde(skip)]
    pub sample_for: Option<Uuid>,
}

pub(crate) const COLUMNS: &str = "id, org_id, type, occurred_at, data, sample_for";

/// Which events a listing shows.
#[derive(Debug, Clone, Default)]
pub struct EventFilter {
    /// Exact types, or families (`order.*`); empty for every type.
    pub types: Vec<String>,
    pub since: Option<DateTime<Utc>>,
    pub until: Option<DateTime<Utc>>,
}

/// `org`'s events, newest first, after the keyset `after`; one row more than `limit` when
/// there is a next page (see [`cursor::split_page`]).
pub async fn list(
    pool: &PgPool,
    org: OrgId,
    filter: &EventFilter,
    after: Option<(DateTime<Utc>, Uuid)>,
    limit: i64,
) -> Result<Vec<EventRow>> {
    let mut qb: QueryBuilder<'_, Postgres> = QueryBuilder::new(format!(
        "SELECT {COLUMNS} FROM events WHERE sample_for IS NULL AND org_id = "
    ));
    qb.push_bind(org.0);
    if !filter.types.is_empty() {
        qb.push(" AND webhook_subscribes(")
            .push_bind(filter.types.clone())
            .push(", type)");
    }
    if let Some(since) = filter.since {
        qb.push(" AND occurred_at >= ").push_bind(since);
    }
    if let Some(until) = filter.until {
        qb.push(" AND occurred_at < ").push_bind(until);
    }
    cursor::push_page(&mut qb, "occurred_at", after, limit);
    Ok(qb.build_query_as::<EventRow>().fetch_all(pool).await?)
}

/// One of `org`'s events.
pub async fn get(pool: &PgPool, org: OrgId, id: EventId) -> Result<Option<EventRow>> {
    Ok(sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM events WHERE org_id = $1 AND id = $2"
    ))
    .bind(org.0)
    .bind(id.0)
    .fetch_optional(pool)
    .await?)
}

/// Record an event from Rust code, in the caller's transaction. With `sample_for`, it is a
/// test action's sample for that endpoint: not fanned out, not listed.
pub async fn record<'e>(
    exec: impl sqlx::PgExecutor<'e>,
    org: OrgId,
    event_type: &str,
    data: &serde_json::Value,
    sample_for: Option<WebhookEndpointId>,
) -> Result<EventRow> {
    Ok(sqlx::query_as(&format!(
        "INSERT INTO events (id, org_id, type, occurred_at, data, sample_for)
         VALUES (switchyard_uuid_v7(), $1, $2, clock_timestamp(), $3, $4) RETURNING {COLUMNS}"
    ))
    .bind(org.0)
    .bind(event_type)
    .bind(data)
    .bind(sample_for.map(|e| e.0))
    .fetch_one(exec)
    .await?)
}

/// Retention: events and outbound delivery attempts older than `before` (the same period as
/// inbound deliveries, `[retention] webhook_delivery_days`). Returns (events, attempts).
pub async fn delete_older_than(pool: &PgPool, before: DateTime<Utc>) -> Result<(u64, u64)> {
    let events = sqlx::query("DELETE FROM events WHERE occurred_at < $1")
        .bind(before)
        .execute(pool)
        .await?
        .rows_affected();
    let attempts = sqlx::query("DELETE FROM webhook_attempts WHERE at < $1")
        .bind(before)
        .execute(pool)
        .await?
        .rows_affected();
    Ok((events, attempts))
}
