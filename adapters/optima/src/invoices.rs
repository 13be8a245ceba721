//! The invoice ledger's SQL (migrations/1500_optima_invoices.sql): invoices handed over for
//! Optima and each one's sync status. The hub keeps no invoices of its own, so this table is
//! where an invoice "is created" as far as Optima is concerned; see the migration for why.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sqlx::{PgPool, Postgres, Transaction};
use switchyard_core::ids::{JobId, OrgId};
use switchyard_store::queue::{NewJob, Queue, RetrySpec};
use switchyard_store::StoreError;
use uuid::Uuid;

/// An invoice in the ledger (`optima_invoices.id`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct InvoiceId(pub Uuid);

impl From<Uuid> for InvoiceId {
    fn from(u: Uuid) -> Self {
        Self(u)
    }
}

impl std::fmt::Display for InvoiceId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

/// Where an invoice stands with Optima.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SyncStatus {
    /// Recorded; no push asked for (a connection without `auto_sync`).
    New,
    /// A push is queued, running or waiting for its retry (`error` holds the last failure).
    Pending,
    /// Optima took it (`optima_number`).
    Synced,
    /// Optima refused it, or the push was given up on: `error` says why.
    Error,
}

impl SyncStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            SyncStatus::New => "new",
            SyncStatus::Pending => "pending",
            SyncStatus::Synced => "synced",
            SyncStatus::Error => "error",
        }
    }

    fn parse(s: &str) -> Result<Self, String> {
        match s {
            "new" => Ok(SyncStatus::New),
            "pending" => Ok(SyncStatus::Pending),
            "synced" => Ok(SyncStatus::Synced),
            "error" => Ok(SyncStatus::Error),
            other => Err(format!("unknown invoice status `{other}`")),
        }
    }
}

impl TryFrom<String> for SyncStatus {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        SyncStatus::parse(&s)
    }
}

/// A sale (our invoice, pushed to Optima's sales register) or a purchase (a received
/// invoice, only for JPK_V7M's purchase register: never pushed). Migration 1503.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    #[default]
    Sale,
    Purchase,
}

impl Direction {
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::Sale => "sale",
            Direction::Purchase => "purchase",
        }
    }
}

impl TryFrom<String> for Direction {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        match s.as_str() {
            "sale" => Ok(Direction::Sale),
            "purchase" => Ok(Direction::Purchase),
            other => Err(format!("unknown invoice direction `{other}`")),
        }
    }
}

/// What identifies an invoice in the ledger besides its connection: its number, and for a
/// purchase its supplier's NIP (two suppliers may number alike).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    pub direction: Direction,
    /// Ten digits for a purchase; empty for a sale.
    pub supplier_nip: String,
    pub number: String,
}

/// One row.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct InvoiceRow {
    #[sqlx(try_from = "Uuid")]
    pub id: InvoiceId,
    #[sqlx(try_from = "Uuid")]
    pub org_id: OrgId,
    pub partner: String,
    pub invoice_number: String,
    #[sqlx(try_from = "String")]
    pub direction: Direction,
    pub supplier_nip: String,
    pub document: serde_json::Value,
    pub revision: i32,
    #[sqlx(try_from = "String")]
    pub status: SyncStatus,
    pub optima_number: Option<String>,
    pub error: Option<String>,
    pub job_id: Option<Uuid>,
    pub pushes: i32,
    pub attempts: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub synced_at: Option<DateTime<Utc>>,
}

impl InvoiceRow {
    /// What the adapter passes to Optima as the document's identity: stable across retries,
    /// redeliveries and manual pushes of the same content (so Optima, or the exchange folder,
    /// recognises a document it already has), new when the invoice was corrected.
    pub fn effect_key(&self) -> String {
        format!("optima-invoice:{}:r{}", self.id, self.revision)
    }
}

pub(crate) const COLUMNS: &str =
    "id, org_id, partner, invoice_number, direction, supplier_nip, document, revision, status, \
    optima_number, error, job_id, pushes, attempts, created_at, updated_at, synced_at";

/// What recording an invoice did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Recorded {
    Created,
    /// Recorded before with other content, not yet synced: the new content replaces it.
    Updated,
    /// Recorded before with the same content: nothing changed.
    Unchanged,
}

/// Why an invoice cannot be recorded again.
#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    #[error("invoice {number} is already in Optima as {optima}; change it with a correction (FSKOR), not by sending it again")]
    AlreadySynced { number: String, optima: String },
    #[error(
        "invoice {number} is being pushed to Optima now; send the change once the push has ended"
    )]
    PushInFlight { number: String },
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

/// Record `document` (a canonical invoice) for `partner`, in the caller's transaction.
pub async fn record(
    tx: &mut Transaction<'static, Postgres>,
    org: OrgId,
    partner: &str,
    identity: &Identity,
    document: &serde_json::Value,
    now: DateTime<Utc>,
) -> Result<(InvoiceRow, Recorded), RecordError> {
    let number = identity.number.as_str();
    let existing: Option<InvoiceRow> = sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM optima_invoices
         WHERE org_id = $1 AND partner = $2 AND direction = $3 AND supplier_nip = $4
           AND invoice_number = $5 FOR UPDATE"
    ))
    .bind(org.0)
    .bind(partner)
    .bind(identity.direction.as_str())
    .bind(&identity.supplier_nip)
    .bind(number)
    .fetch_optional(&mut **tx)
    .await?;
    let Some(row) = existing else {
        let row: InvoiceRow = sqlx::query_as(&format!(
            "INSERT INTO optima_invoices (id, org_id, partner, invoice_number, direction, supplier_nip,
                                          document, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)
             ON CONFLICT (org_id, partner, direction, supplier_nip, invoice_number) DO NOTHING
             RETURNING {COLUMNS}"
        ))
        .bind(Uuid::now_v7())
        .bind(org.0)
        .bind(partner)
        .bind(number)
        .bind(identity.direction.as_str())
        .bind(&identity.supplier_nip)
        .bind(document)
        .bind(now)
        .fetch_one(&mut **tx)
        .await?;
        return Ok((row, Recorded::Created));
    };
    if &row.document == document {
        return Ok((row, Recorded::Unchanged));
    }
    match row.status {
        SyncStatus::Synced => Err(RecordError::AlreadySynced {
            number: number.to_owned(),
            optima: row.optima_number.unwrap_or_default(),
        }),
        SyncStatus::Pending => Err(RecordError::PushInFlight {
            number: number.to_owned(),
        }),
        SyncStatus::New | SyncStatus::Error => {
            let row = sqlx::query_as(&format!(
                "UPDATE optima_invoices SET document = $2, revision = revision + 1, status = 'new',
                        error = NULL, updated_at = $3
                 WHERE id = $1 RETURNING {COLUMNS}"
            ))
            .bind(row.id.0)
            .bind(document)
            .bind(now)
            .fetch_one(&mut **tx)
            .await?;
            Ok((row, Recorded::Updated))
        }
    }
}

/// Queue a push of `row` in the caller's transaction and mark it pending. Each push is a job
/// of its own (`optima-invoice:ID:push-N`), so a push after a refusal is not answered with the
/// earlier job; what Optima sees as the document's identity is [`InvoiceRow::effect_key`].
pub async fn queue_push(
    tx: &mut Transaction<'static, Postgres>,
    row: &InvoiceRow,
    retry: RetrySpec,
    now: DateTime<Utc>,
) -> Result<(InvoiceRow, JobId), StoreError> {
    let job_id = JobId::new();
    let job = NewJob::new(
        row.org_id,
        <crate::push_job::PushInvoice as switchyard_core::JobPayload>::KIND,
        serde_json::json!(crate::push_job::PushInvoice::new(row.id)),
    )
    .partner(row.partner.as_str())
    .key(format!("optima-invoice:{}:push-{}", row.id, row.pushes + 1))
    .retry(retry);
    Queue::insert_job_with_id(&mut **tx, job_id, &job, now).await?;
    let row = sqlx::query_as(&format!(
        "UPDATE optima_invoices SET status = 'pending', job_id = $2, pushes = pushes + 1,
                attempts = 0, error = NULL, updated_at = $3
         WHERE id = $1 RETURNING {COLUMNS}"
    ))
    .bind(row.id.0)
    .bind(job_id.0)
    .bind(now)
    .fetch_one(&mut **tx)
    .await?;
    Ok((row, job_id))
}

/// One of `org`'s invoices.
pub async fn get(
    pool: &PgPool,
    org: OrgId,
    id: InvoiceId,
) -> Result<Option<InvoiceRow>, sqlx::Error> {
    sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM optima_invoices WHERE org_id = $1 AND id = $2"
    ))
    .bind(org.0)
    .bind(id.0)
    .fetch_optional(pool)
    .await
}

/// The same, locked in the caller's transaction.
pub async fn lock(
    tx: &mut Transaction<'static, Postgres>,
    org: OrgId,
    id: InvoiceId,
) -> Result<Option<InvoiceRow>, sqlx::Error> {
    sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM optima_invoices WHERE org_id = $1 AND id = $2 FOR UPDATE"
    ))
    .bind(org.0)
    .bind(id.0)
    .fetch_optional(&mut **tx)
    .await
}

/// `org`'s invoices, oldest first, after `after`, optionally of one partner and status.
pub async fn list(
    pool: &PgPool,
    org: OrgId,
    partner: Option<&str>,
    status: Option<SyncStatus>,
    after: Option<InvoiceId>,
    limit: i64,
) -> Result<Vec<InvoiceRow>, sqlx::Error> {
    sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM optima_invoices
         WHERE org_id = $1 AND ($2::text IS NULL OR partner = $2)
           AND ($3::text IS NULL OR status = $3) AND ($4::uuid IS NULL OR id > $4)
         ORDER BY id LIMIT $5"
    ))
    .bind(org.0)
    .bind(partner)
    .bind(status.map(SyncStatus::as_str))
    .bind(after.map(|a| a.0))
    .bind(limit)
    .fetch_all(pool)
    .await
}

/// An attempt of `job` begins.
pub async fn attempt_started(
    pool: &PgPool,
    id: InvoiceId,
    job: JobId,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE optima_invoices SET status = 'pending', job_id = $2, attempts = attempts + 1, updated_at = $3
         WHERE id = $1 AND status <> 'synced'",
    )
    .bind(id.0)
    .bind(job.0)
    .bind(now)
    .execute(pool)
    .await?;
    Ok(())
}

/// Optima took it as `optima_number`.
pub async fn synced(
    pool: &PgPool,
    id: InvoiceId,
    optima_number: Option<&str>,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE optima_invoices SET status = 'synced', optima_number = $2, error = NULL,
                synced_at = $3, updated_at = $3
         WHERE id = $1",
    )
    .bind(id.0)
    .bind(optima_number)
    .bind(now)
    .execute(pool)
    .await?;
    Ok(())
}

/// An attempt failed: `status` is `pending` while the queue will try again, `error` when it
/// will not. A synced invoice stays synced (a late failure of an older job says nothing).
pub async fn failed(
    pool: &PgPool,
    id: InvoiceId,
    status: SyncStatus,
    error: &str,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE optima_invoices SET status = $2, error = $3, updated_at = $4
         WHERE id = $1 AND status <> 'synced'",
    )
    .bind(id.0)
    .bind(status.as_str())
    .bind(error)
    .bind(now)
    .execute(pool)
    .await?;
    Ok(())
}
