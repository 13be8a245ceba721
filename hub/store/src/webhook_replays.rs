//! Sending events again to outbound endpoints: recover an endpoint since a time, replay one
//! event to one endpoint or to all its subscribers, replay an endpoint's failed deliveries
//! since a time. (A dead delivery's own replay is the dead letters' replay, `replays.rs`.)
//!
//! Each is one `INSERT ... SELECT` of `webhook.deliver` jobs, with the endpoint's retry policy
//! like the fan-out's, in event order: `run_at` grows by a microsecond per event so the queue
//! first claims them in that order (they may still finish out of it, and a deferral by the
//! endpoint's gate moves a delivery back: ordering is not promised, see ARCHITECTURE.md). The
//! idempotency key is `EVENT:ENDPOINT:TAG`, TAG new per request, so the original delivery's
//! key stays as it was and asking twice sends twice, as asked. The receiver sees the event's
//! own `webhook-id`, so one that deduplicates by it recognises what it already has.

use crate::db::Result;
use chrono::{DateTime, Utc};
use sqlx::PgPool;
use switchyard_core::ids::{EventId, OrgId, WebhookEndpointId};
use uuid::Uuid;

/// The jobs for the (event `e`, endpoint `w`) pairs that `FROM_WHERE` selects, `$1` the org,
/// `$2` now, `$3` the key's tag; the caller's own parameters start at `$4`.
fn insert_sql(from_where: &str) -> String {
    format!(
        "INSERT INTO jobs (id, org_id, kind, payload, idempotency_key, state, attempts, max_attempts,
                           retry_policy, run_at, created_at, updated_at)
         SELECT switchyard_uuid_v7(), e.org_id, 'webhook.deliver',
                jsonb_build_object('endpoint', w.id, 'event', e.id),
                e.id::text || ':' || w.id::text || ':' || $3, 'pending', 0,
                CASE WHEN w.retry_policy = 'manual' THEN 1 ELSE w.max_retries + 1 END,
                w.retry_policy,
                $2 + (row_number() OVER (ORDER BY e.id, w.id)) * interval '1 microsecond', $2, $2
         {from_where}
         ON CONFLICT (org_id, kind, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING"
    )
}

fn tag(what: &str) -> String {
    format!("{what}-{}", Uuid::now_v7())
}

/// Re-enable the endpoint (active, its failing streak forgotten) and queue every event since
/// `since` that it subscribes to, in order, in one transaction. `None`: no such endpoint.
pub async fn recover(
    pool: &PgPool,
    org: OrgId,
    endpoint: WebhookEndpointId,
    since: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<Option<u64>> {
    let mut tx = crate::begin(pool).await?;
    let found = sqlx::query(
        "UPDATE webhook_endpoints SET status = 'active', status_reason = NULL, failing_since = NULL,
                updated_at = $3
         WHERE org_id = $1 AND id = $2",
    )
    .bind(org.0)
    .bind(endpoint.0)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    if found.rows_affected() == 0 {
        return Ok(None);
    }
    let queued = sqlx::query(&insert_sql(
        "FROM events e JOIN webhook_endpoints w ON w.org_id = e.org_id AND w.id = $4
         WHERE e.org_id = $1 AND e.sample_for IS NULL AND e.occurred_at >= $5
           AND webhook_subscribes(w.events, e.type)",
    ))
    .bind(org.0)
    .bind(now)
    .bind(tag("recover"))
    .bind(endpoint.0)
    .bind(since)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    tx.commit().await?;
    Ok(Some(queued))
}

/// Queue `event` once more for `endpoint` (whatever it subscribes to: the admin asked; a
/// paused or disabled endpoint's delivery is skipped when it runs). 0: no such event or
/// endpoint in `org`.
pub async fn replay_to_endpoint(
    pool: &PgPool,
    org: OrgId,
    endpoint: WebhookEndpointId,
    event: EventId,
    now: DateTime<Utc>,
) -> Result<u64> {
    Ok(sqlx::query(&insert_sql(
        "FROM events e JOIN webhook_endpoints w ON w.org_id = e.org_id AND w.id = $4
         WHERE e.org_id = $1 AND e.id = $5 AND (e.sample_for IS NULL OR e.sample_for = w.id)",
    ))
    .bind(org.0)
    .bind(now)
    .bind(tag("replay"))
    .bind(endpoint.0)
    .bind(event.0)
    .execute(pool)
    .await?
    .rows_affected())
}

/// Queue `event` once more for every active endpoint subscribed to it now. Returns how many.
pub async fn replay_event(
    pool: &PgPool,
    org: OrgId,
    event: EventId,
    now: DateTime<Utc>,
) -> Result<u64> {
    Ok(sqlx::query(&insert_sql(
        "FROM events e JOIN webhook_endpoints w ON w.org_id = e.org_id AND w.status = 'active'
                                             AND webhook_subscribes(w.events, e.type)
         WHERE e.org_id = $1 AND e.id = $4 AND e.sample_for IS NULL",
    ))
    .bind(org.0)
    .bind(now)
    .bind(tag("replay"))
    .bind(event.0)
    .execute(pool)
    .await?
    .rows_affected())
}

/// Queue again every event whose delivery to `endpoint` failed since `since`, never succeeded,
/// and is not waiting in the queue for another try (that one would be sent twice). Returns
/// how many.
pub async fn replay_failed(
    pool: &PgPool,
    org: OrgId,
    endpoint: WebhookEndpointId,
    since: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<u64> {
    Ok(sqlx::query(&insert_sql(
        "FROM events e JOIN webhook_endpoints w ON w.org_id = e.org_id AND w.id = $4
         WHERE e.org_id = $1 AND (e.sample_for IS NULL OR e.sample_for = w.id)
           AND EXISTS (SELECT 1 FROM webhook_attempts a WHERE a.endpoint_id = w.id
                       AND a.event_id = e.id AND a.outcome = 'failed' AND a.at >= $5)
           AND NOT EXISTS (SELECT 1 FROM webhook_attempts a WHERE a.endpoint_id = w.id
                           AND a.event_id = e.id AND a.outcome = 'succeeded')
           AND NOT EXISTS (SELECT 1 FROM jobs j WHERE j.org_id = e.org_id
                           AND j.kind = 'webhook.deliver'
                           AND j.state IN ('pending', 'retrying', 'running')
                           AND j.payload->>'endpoint' = w.id::text
                           AND j.payload->>'event' = e.id::text)",
    ))
    .bind(org.0)
    .bind(now)
    .bind(tag("replay"))
    .bind(endpoint.0)
    .bind(since)
    .execute(pool)
    .await?
    .rows_affected())
}
