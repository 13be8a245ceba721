//! Email notifications (migrations/0021_notifications.sql): customers' addresses and
//! preferences, the unsubscribe key of each organization, the digest's waiting items and the
//! log of every email. The `notify.email` jobs are enqueued by the trigger on `events`.

use crate::db::Result;
use chrono::{DateTime, Utc};
use rand::RngCore;
use sqlx::PgPool;
use std::collections::BTreeMap;
use switchyard_core::ids::{EventId, JobId, OrgId};
use switchyard_core::notify::{DeliveryMode, Notice};
use uuid::Uuid;

/// The job kind the trigger enqueues (and the digest, per customer).
pub const EMAIL_KIND: &str = "notify.email";

/// A customer as notifications see it.
#[derive(Debug, Clone, PartialEq)]
pub struct Recipient {
    pub customer_id: String,
    pub name: String,
    pub email: Option<String>,
    /// Notices with a row; the others are [`DeliveryMode::Immediate`].
    pub modes: BTreeMap<Notice, DeliveryMode>,
}

impl Recipient {
    pub fn mode(&self, notice: Notice) -> DeliveryMode {
        self.modes.get(&notice).copied().unwrap_or_default()
    }
}

/// The customer `customer_id` of `org` with its preferences, if it exists.
pub async fn recipient(pool: &PgPool, org: OrgId, customer_id: &str) -> Result<Option<Recipient>> {
    let row: Option<(String, String, Option<String>)> = sqlx::query_as(
        "SELECT customer_id, name, email FROM customers WHERE org_id = $1 AND customer_id = $2",
    )
    .bind(org.0)
    .bind(customer_id)
    .fetch_optional(pool)
    .await?;
    let Some((customer_id, name, email)) = row else {
        return Ok(None);
    };
    let rows: Vec<(String, String)> = sqlx::query_as(
        "SELECT notice, mode FROM notification_preferences WHERE org_id = $1 AND customer_id = $2",
    )
    .bind(org.0)
    .bind(&customer_id)
    .fetch_all(pool)
    .await?;
    let modes = rows
        .into_iter()
        .filter_map(|(n, m)| Some((Notice::parse(&n)?, DeliveryMode::parse(&m)?)))
        .collect();
    Ok(Some(Recipient {
        customer_id,
        name,
        email,
        modes,
    }))
}

/// Set a customer's address (when `email` is given) and the modes named, in one transaction.
/// `Ok(None)` when the customer does not exist.
pub async fn set_preferences(
    pool: &PgPool,
    org: OrgId,
    customer_id: &str,
    email: Option<Option<&str>>,
    modes: &[(Notice, DeliveryMode)],
    now: DateTime<Utc>,
) -> Result<Option<Recipient>> {
    let mut tx = crate::begin(pool).await?;
    let found =
        sqlx::query("SELECT 1 FROM customers WHERE org_id = $1 AND customer_id = $2 FOR UPDATE")
            .bind(org.0)
            .bind(customer_id)
            .fetch_optional(&mut *tx)
            .await?;
    if found.is_none() {
        return Ok(None);
    }
    if let Some(email) = email {
        sqlx::query("UPDATE customers SET email = $3, updated_at = $4 WHERE org_id = $1 AND customer_id = $2")
            .bind(org.0)
            .bind(customer_id)
            .bind(email)
            .bind(now)
            .execute(&mut *tx)
            .await?;
    }
    for (notice, mode) in modes {
        sqlx::query(
            "INSERT INTO notification_preferences (org_id, customer_id, notice, mode, updated_at)
             VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (org_id, customer_id, notice) DO UPDATE
             SET mode = EXCLUDED.mode, updated_at = EXCLUDED.updated_at,
                 unsubscribed_at = CASE WHEN EXCLUDED.mode = 'off'
                                        THEN notification_preferences.unsubscribed_at END",
        )
        .bind(org.0)
        .bind(customer_id)
        .bind(notice.as_str())
        .bind(mode.as_str())
        .bind(now)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    recipient(pool, org, customer_id).await
}

/// An unsubscribe link was followed: `notice` is off for the customer from now on.
/// `false` when the customer no longer exists.
pub async fn unsubscribe(
    pool: &PgPool,
    org: OrgId,
    customer_id: &str,
    notice: Notice,
    now: DateTime<Utc>,
) -> Result<bool> {
    let done = sqlx::query(
        "INSERT INTO notification_preferences (org_id, customer_id, notice, mode, unsubscribed_at, updated_at)
         SELECT org_id, customer_id, $3, 'off', $4, $4 FROM customers
         WHERE org_id = $1 AND customer_id = $2
         ON CONFLICT (org_id, customer_id, notice) DO UPDATE
         SET mode = 'off', updated_at = EXCLUDED.updated_at,
             unsubscribed_at = COALESCE(notification_preferences.unsubscribed_at, EXCLUDED.unsubscribed_at)",
    )
    .bind(org.0)
    .bind(customer_id)
    .bind(notice.as_str())
    .bind(now)
    .execute(pool)
    .await?;
    Ok(done.rows_affected() > 0)
}

/// The organization's unsubscribe key, made (32 random bytes) on first use; concurrent first
/// uses agree on one. `None` when there is no such organization.
pub async fn unsubscribe_key(pool: &PgPool, org: OrgId) -> Result<Option<Vec<u8>>> {
    let mut fresh = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut fresh);
    sqlx::query(
        "INSERT INTO notification_keys (org_id, key, created_at)
         SELECT id, $2, now() FROM organizations WHERE id = $1
         ON CONFLICT (org_id) DO NOTHING",
    )
    .bind(org.0)
    .bind(&fresh[..])
    .execute(pool)
    .await?;
    Ok(
        sqlx::query_scalar("SELECT key FROM notification_keys WHERE org_id = $1")
            .bind(org.0)
            .fetch_optional(pool)
            .await?,
    )
}

/// Keep an event for the customer's next digest (once, however often the job runs).
pub async fn queue_for_digest(
    pool: &PgPool,
    org: OrgId,
    customer_id: &str,
    event: EventId,
    notice: Notice,
    now: DateTime<Utc>,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO notification_digest_items (org_id, customer_id, event_id, notice, queued_at)
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
    )
    .bind(org.0)
    .bind(customer_id)
    .bind(event.0)
    .bind(notice.as_str())
    .bind(now)
    .execute(pool)
    .await?;
    Ok(())
}

/// Every customer with digest items waiting that were queued before `until`, by organization.
pub async fn digest_due(pool: &PgPool, until: DateTime<Utc>) -> Result<Vec<(OrgId, String)>> {
    let rows: Vec<(Uuid, String)> = sqlx::query_as(
        "SELECT DISTINCT org_id, customer_id FROM notification_digest_items
         WHERE digest_key IS NULL AND queued_at < $1 ORDER BY org_id, customer_id",
    )
    .bind(until)
    .fetch_all(pool)
    .await?;
    Ok(rows.into_iter().map(|(o, c)| (OrgId(o), c)).collect())
}

/// One waiting digest item with its event.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct DigestItem {
    #[sqlx(try_from = "Uuid")]
    pub event_id: EventId,
    pub notice: String,
    #[sqlx(rename = "type")]
    pub event_type: String,
    pub occurred_at: DateTime<Utc>,
    pub data: serde_json::Value,
}

/// Claim for the digest `key` the customer's items waiting since before `until`: one
/// statement, so two digests running at once never carry the same item.
pub async fn digest_claim(
    pool: &PgPool,
    org: OrgId,
    customer_id: &str,
    key: &str,
    until: DateTime<Utc>,
) -> Result<u64> {
    Ok(sqlx::query(
        "UPDATE notification_digest_items SET digest_key = $3
         WHERE org_id = $1 AND customer_id = $2 AND digest_key IS NULL AND queued_at < $4",
    )
    .bind(org.0)
    .bind(customer_id)
    .bind(key)
    .bind(until)
    .execute(pool)
    .await?
    .rows_affected())
}

/// The items the digest `key` carries (a retry of it finds the same), oldest first.
pub async fn digest_items(
    pool: &PgPool,
    org: OrgId,
    customer_id: &str,
    key: &str,
) -> Result<Vec<DigestItem>> {
    Ok(sqlx::query_as(
        "SELECT d.event_id, d.notice, e.type, e.occurred_at, e.data
         FROM notification_digest_items d JOIN events e ON e.id = d.event_id
         WHERE d.org_id = $1 AND d.customer_id = $2 AND d.digest_key = $3
         ORDER BY e.occurred_at, e.id",
    )
    .bind(org.0)
    .bind(customer_id)
    .bind(key)
    .fetch_all(pool)
    .await?)
}

/// What an email log row says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EmailStatus {
    Sent,
    Failed,
}

impl EmailStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            EmailStatus::Sent => "sent",
            EmailStatus::Failed => "failed",
        }
    }
}

/// One attempt at one email, to record.
#[derive(Debug, Clone)]
pub struct EmailAttempt<'a> {
    pub org: OrgId,
    /// The mail's identity: its job's idempotency key (`EVENT:customer:ID`).
    pub key: &'a str,
    pub job: Option<JobId>,
    pub event: Option<EventId>,
    pub notice: &'a str,
    pub customer_id: Option<&'a str>,
    pub recipient: &'a str,
    pub subject: &'a str,
    pub message_id: &'a str,
    pub status: EmailStatus,
    pub error: Option<&'a str>,
    pub at: DateTime<Utc>,
}

/// Record an attempt: the first makes the row, later ones count and update it.
pub async fn record_attempt(pool: &PgPool, a: &EmailAttempt<'_>) -> Result<()> {
    sqlx::query(
        "INSERT INTO email_messages (id, org_id, key, job_id, event_id, notice, customer_id,
             recipient, subject, message_id, status, error, attempts, created_at, updated_at, sent_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, 1, $13, $13,
                 CASE WHEN $11 = 'sent' THEN $13 END)
         ON CONFLICT (org_id, key) DO UPDATE SET
             job_id = EXCLUDED.job_id, recipient = EXCLUDED.recipient, subject = EXCLUDED.subject,
             message_id = EXCLUDED.message_id, status = EXCLUDED.status, error = EXCLUDED.error,
             attempts = email_messages.attempts + 1, updated_at = EXCLUDED.updated_at,
             sent_at = COALESCE(email_messages.sent_at, EXCLUDED.sent_at)",
    )
    .bind(Uuid::now_v7())
    .bind(a.org.0)
    .bind(a.key)
    .bind(a.job.map(|j| j.0))
    .bind(a.event.map(|e| e.0))
    .bind(a.notice)
    .bind(a.customer_id)
    .bind(a.recipient)
    .bind(a.subject)
    .bind(a.message_id)
    .bind(a.status.as_str())
    .bind(a.error)
    .bind(a.at)
    .execute(pool)
    .await?;
    Ok(())
}

/// Whether the mail `key` was already sent (a job run again after its send was recorded, or a
/// replay, must not send it twice).
pub async fn already_sent(pool: &PgPool, org: OrgId, key: &str) -> Result<bool> {
    Ok(sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM email_messages WHERE org_id = $1 AND key = $2 AND status = 'sent')",
    )
    .bind(org.0)
    .bind(key)
    .fetch_one(pool)
    .await?)
}

/// A row of the email log.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct EmailRow {
    pub key: String,
    pub notice: String,
    pub customer_id: Option<String>,
    pub recipient: String,
    pub subject: String,
    pub message_id: String,
    pub status: String,
    pub error: Option<String>,
    pub attempts: i32,
    pub sent_at: Option<DateTime<Utc>>,
}

/// `org`'s email log, oldest first.
pub async fn emails(pool: &PgPool, org: OrgId) -> Result<Vec<EmailRow>> {
    Ok(sqlx::query_as(
        "SELECT key, notice, customer_id, recipient, subject, message_id, status, error, attempts, sent_at
         FROM email_messages WHERE org_id = $1 ORDER BY created_at, id",
    )
    .bind(org.0)
    .fetch_all(pool)
    .await?)
}
