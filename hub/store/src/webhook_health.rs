//! Outbound endpoints' health (migrations/0025_webhook_health.sql): what each delivery's
//! answer does to its endpoint's `failing_since`, and disabling an endpoint with its
//! `webhook.endpoint.disabled` event in one transaction.

use crate::db::Result;
use crate::events;
use crate::webhook_endpoints::EndpointRow;
use chrono::{DateTime, Duration, Utc};
use sqlx::PgPool;
use switchyard_core::ids::{OrgId, WebhookEndpointId};

/// The event type recorded when an endpoint is disabled (by the hub or a 410).
pub const DISABLED_EVENT: &str = "webhook.endpoint.disabled";

/// What one delivery's answer says about the endpoint's health.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Health {
    /// A 2xx: the endpoint works; its failing streak ends.
    Delivered,
    /// 429, 502, 503, 504: the receiver (or its proxy) asks for less. Neither starts nor ends
    /// a failing streak, so an endpoint throttling for days is never disabled for it.
    Throttled,
    /// Any other answer, a timeout, a refused connection: counts toward disabling.
    Failed,
}

impl Health {
    /// The health an HTTP answer (or none) means.
    pub fn of(status: Option<u16>) -> Self {
        match status {
            Some(s) if (200..300).contains(&s) => Self::Delivered,
            Some(429 | 502 | 503 | 504) => Self::Throttled,
            _ => Self::Failed,
        }
    }
}

/// Why an endpoint was disabled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DisableReason {
    /// Every delivery failed since `since`, for longer than the configured time.
    FailingSince(DateTime<Utc>),
    /// The receiver answered 410 Gone.
    Gone,
}

impl DisableReason {
    pub fn text(&self) -> String {
        match self {
            Self::FailingSince(t) => format!(
                "disabled by the hub: every delivery failed since {}",
                t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
            ),
            Self::Gone => "the receiver answered 410 Gone".to_owned(),
        }
    }

    /// The metric label.
    pub fn label(&self) -> &'static str {
        match self {
            Self::FailingSince(_) => "failing",
            Self::Gone => "gone",
        }
    }
}

/// Record one delivery's health. A failure that makes the streak older than `disable_after`
/// disables the endpoint (see [`disable`]); the disabled endpoint comes back then.
pub async fn record(
    pool: &PgPool,
    endpoint: &EndpointRow,
    health: Health,
    disable_after: Duration,
    now: DateTime<Utc>,
) -> Result<Option<EndpointRow>> {
    match health {
        Health::Throttled => Ok(None),
        // Only when set (as the delivery read it): a healthy endpoint's row is not written on
        // every delivery.
        Health::Delivered if endpoint.failing_since.is_none() => Ok(None),
        Health::Delivered => {
            sqlx::query(
                "UPDATE webhook_endpoints SET failing_since = NULL
                 WHERE id = $1 AND failing_since IS NOT NULL",
            )
            .bind(endpoint.id.0)
            .execute(pool)
            .await?;
            Ok(None)
        }
        Health::Failed => {
            let since = sqlx::query_scalar::<_, Option<DateTime<Utc>>>(
                "UPDATE webhook_endpoints SET failing_since = coalesce(failing_since, $2)
                 WHERE id = $1 RETURNING failing_since",
            )
            .bind(endpoint.id.0)
            .bind(now)
            .fetch_optional(pool)
            .await?
            .flatten();
            match since {
                Some(since) if now - since >= disable_after => {
                    disable(
                        pool,
                        endpoint.org_id,
                        endpoint.id,
                        &DisableReason::FailingSince(since),
                        now,
                    )
                    .await
                }
                _ => Ok(None),
            }
        }
    }
}

/// Disable an active or paused endpoint and record `webhook.endpoint.disabled` in the same
/// transaction (its subscribers hear of it; the endpoint itself, disabled first, does not).
/// `None` when it is gone or already disabled: one event per disabling.
pub async fn disable(
    pool: &PgPool,
    org: OrgId,
    id: WebhookEndpointId,
    reason: &DisableReason,
    now: DateTime<Utc>,
) -> Result<Option<EndpointRow>> {
    let mut tx = crate::begin(pool).await?;
    let row: Option<EndpointRow> = sqlx::query_as(&format!(
        "UPDATE webhook_endpoints SET status = 'disabled', status_reason = $3, updated_at = $4
         WHERE org_id = $1 AND id = $2 AND status <> 'disabled' RETURNING {}",
        crate::webhook_endpoints::COLUMNS
    ))
    .bind(org.0)
    .bind(id.0)
    .bind(reason.text())
    .bind(now)
    .fetch_optional(&mut *tx)
    .await?;
    let Some(row) = row else {
        return Ok(None);
    };
    let data = serde_json::json!({
        "endpoint_id": row.id.0,
        "name": row.name,
        "url": row.url,
        "reason": reason.text(),
        "failing_since": row.failing_since,
    });
    events::record(&mut *tx, org, DISABLED_EVENT, &data, None).await?;
    tx.commit().await?;
    Ok(Some(row))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn throttling_answers_do_not_count_toward_disabling() {
        for s in [200, 204, 299] {
            assert_eq!(Health::of(Some(s)), Health::Delivered, "{s}");
        }
        for s in [429, 502, 503, 504] {
            assert_eq!(Health::of(Some(s)), Health::Throttled, "{s}");
        }
        for s in [None, Some(301), Some(400), Some(404), Some(410), Some(500)] {
            assert_eq!(Health::of(s), Health::Failed, "{s:?}");
        }
    }
}
