//! Where a connection's in-flight bulk mutation is remembered (`shopify_bulk_operations`,
//! migration 1202), so a process that crashed while Shopify ran it, or one that gave up
//! waiting, follows that operation and reads its result rather than submitting its lines
//! again (Shopify would refuse a second one anyway while the first runs).
//!
//! The row is also the connection's lease (migration 1203, [`crate::bulk_lease`]): every
//! write below is guarded by `owner`, so a process that lost its lease (it stalled past
//! `lease_until` and another took the row over) cannot overwrite the new owner's operation.
//!
//! Without a database (the adapter built outside the daemon, in a unit test) the record lives
//! in memory: the same flow, without surviving the process, and the lease is always granted
//! (nothing else shares that memory; the adapter's own pushes take turns in `BulkWaiters`).

use serde::{Deserialize, Serialize};
use sqlx::PgPool;
use std::collections::HashMap;
use std::sync::Mutex;
use switchyard_core::error::AdapterError;
use switchyard_core::ids::{OrgId, PartnerName};

/// One line of an uploaded file, in file order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredLine {
    pub sku: String,
    /// What the result line carries back (the customId value or the handle).
    pub identity: String,
    /// SHA-256 (hex) of the line's variables.
    pub digest: String,
}

/// An operation submitted (or about to be) with its lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InFlight {
    /// None between the row's write and Shopify's answer to `bulkOperationRunMutation`.
    pub operation: Option<String>,
    pub lines: Vec<StoredLine>,
    pub created_at: chrono::DateTime<chrono::Utc>,
}

/// What claiming the lease found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// This store holds the lease now.
    Granted,
    /// Another live owner holds it.
    Held {
        owner: String,
        until: chrono::DateTime<chrono::Utc>,
        operation: Option<String>,
    },
}

/// `owner`, `lease_until`, `operation_id` of a connection's row.
type LeaseRow = (
    Option<String>,
    Option<chrono::DateTime<chrono::Utc>>,
    Option<String>,
);

#[derive(Debug)]
pub struct BulkStore {
    pool: Option<PgPool>,
    memory: Mutex<HashMap<(OrgId, String), InFlight>>,
    /// This adapter instance's name in `owner` (pid and a UUID: readable in the table, unique
    /// across restarts and across instances in one process).
    owner: String,
}

impl Default for BulkStore {
    fn default() -> Self {
        Self::new(None)
    }
}

fn db(what: &'static str) -> impl Fn(sqlx::Error) -> AdapterError {
    move |e| AdapterError::transient(format!("{what}: {e}"))
}

impl BulkStore {
    pub fn new(pool: Option<PgPool>) -> Self {
        Self {
            pool,
            memory: Mutex::new(HashMap::new()),
            owner: format!("pid {} {}", std::process::id(), uuid::Uuid::new_v4()),
        }
    }

    pub fn owner(&self) -> &str {
        &self.owner
    }

    /// The database, for the lease's renewal task.
    pub fn pool(&self) -> Option<&PgPool> {
        self.pool.as_ref()
    }

    /// Take the connection's lease for `ttl` if it is free, expired or already ours, in one
    /// statement (the conflicting row is locked while its `WHERE` is checked, so two claimers
    /// cannot both win).
    pub async fn claim(
        &self,
        org: OrgId,
        partner: &PartnerName,
        ttl: std::time::Duration,
    ) -> Result<Claim, AdapterError> {
        let Some(pool) = &self.pool else {
            return Ok(Claim::Granted);
        };
        let won: Option<(String,)> = sqlx::query_as(
            "INSERT INTO shopify_bulk_operations AS b
                 (org_id, partner, operation_id, lines, owner, lease_until)
             VALUES ($1, $2, NULL, '[]'::jsonb, $3, now() + make_interval(secs => $4))
             ON CONFLICT (org_id, partner) DO UPDATE
                 SET owner = EXCLUDED.owner, lease_until = EXCLUDED.lease_until
                 WHERE b.owner IS NULL OR b.owner = EXCLUDED.owner OR b.lease_until < now()
             RETURNING b.owner",
        )
        .bind(org.0)
        .bind(&partner.0)
        .bind(&self.owner)
        .bind(ttl.as_secs_f64())
        .fetch_optional(pool)
        .await
        .map_err(db("claiming the bulk lease"))?;
        if won.is_some() {
            return Ok(Claim::Granted);
        }
        let held: Option<LeaseRow> = sqlx::query_as(
            "SELECT owner, lease_until, operation_id FROM shopify_bulk_operations
                 WHERE org_id = $1 AND partner = $2",
        )
        .bind(org.0)
        .bind(&partner.0)
        .fetch_optional(pool)
        .await
        .map_err(db("reading the bulk lease"))?;
        Ok(match held {
            Some((Some(owner), Some(until), operation)) => Claim::Held {
                owner,
                until,
                operation,
            },
            // Released (or deleted) between the two statements: free now, claim again.
            _ => Claim::Held {
                owner: "(released)".into(),
                until: chrono::Utc::now(),
                operation: None,
            },
        })
    }

    /// Extend our lease by `ttl`; false when it is no longer ours (expired and taken over).
    pub async fn renew(
        pool: &PgPool,
        org: OrgId,
        partner: &PartnerName,
        owner: &str,
        ttl: std::time::Duration,
    ) -> Result<bool, AdapterError> {
        let done = sqlx::query(
            "UPDATE shopify_bulk_operations SET lease_until = now() + make_interval(secs => $4)
             WHERE org_id = $1 AND partner = $2 AND owner = $3",
        )
        .bind(org.0)
        .bind(&partner.0)
        .bind(owner)
        .bind(ttl.as_secs_f64())
        .execute(pool)
        .await
        .map_err(db("renewing the bulk lease"))?;
        Ok(done.rows_affected() == 1)
    }

    /// Give the lease up: the row goes when nothing is in flight, else it stays ownerless
    /// for the next push (of any process) to follow its operation.
    pub async fn release(&self, org: OrgId, partner: &PartnerName) -> Result<(), AdapterError> {
        let Some(pool) = &self.pool else {
            return Ok(());
        };
        self.guarded(
            pool,
            org,
            partner,
            "DELETE FROM shopify_bulk_operations
             WHERE org_id = $1 AND partner = $2 AND owner = $3
               AND operation_id IS NULL AND lines = '[]'::jsonb",
            "releasing the bulk lease",
        )
        .await?;
        self.guarded(
            pool,
            org,
            partner,
            "UPDATE shopify_bulk_operations SET owner = NULL, lease_until = NULL
             WHERE org_id = $1 AND partner = $2 AND owner = $3",
            "releasing the bulk lease",
        )
        .await?;
        Ok(())
    }

    /// Run `sql`, whose parameters are the org, the partner and our owner name: rows changed.
    async fn guarded(
        &self,
        pool: &PgPool,
        org: OrgId,
        partner: &PartnerName,
        sql: &'static str,
        what: &'static str,
    ) -> Result<u64, AdapterError> {
        let done = sqlx::query(sql)
            .bind(org.0)
            .bind(&partner.0)
            .bind(&self.owner)
            .execute(pool)
            .await
            .map_err(db(what))?;
        Ok(done.rows_affected())
    }

    fn memory(&self) -> std::sync::MutexGuard<'_, HashMap<(OrgId, String), InFlight>> {
        self.memory.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub async fn load(
        &self,
        org: OrgId,
        partner: &PartnerName,
    ) -> Result<Option<InFlight>, AdapterError> {
        let Some(pool) = &self.pool else {
            return Ok(self.memory().get(&(org, partner.0.clone())).cloned());
        };
        let row: Option<(
            Option<String>,
            serde_json::Value,
            chrono::DateTime<chrono::Utc>,
        )> = sqlx::query_as(
            "SELECT operation_id, lines, created_at FROM shopify_bulk_operations
                 WHERE org_id = $1 AND partner = $2
                   AND (operation_id IS NOT NULL OR lines <> '[]'::jsonb)",
        )
        .bind(org.0)
        .bind(&partner.0)
        .fetch_optional(pool)
        .await
        .map_err(db("reading the in-flight bulk operation"))?;
        row.map(|(operation, lines, created_at)| {
            Ok(InFlight {
                operation,
                lines: serde_json::from_value(lines).map_err(|e| {
                    AdapterError::permanent(format!("the stored bulk operation's lines: {e}"))
                })?,
                created_at,
            })
        })
        .transpose()
    }

    /// Remember `lines` before the operation is submitted; its created_at (the database's
    /// clock) is what an operation found later is compared with.
    pub async fn begin(
        &self,
        org: OrgId,
        partner: &PartnerName,
        lines: &[StoredLine],
    ) -> Result<(), AdapterError> {
        let Some(pool) = &self.pool else {
            self.memory().insert(
                (org, partner.0.clone()),
                InFlight {
                    operation: None,
                    lines: lines.to_vec(),
                    created_at: chrono::Utc::now(),
                },
            );
            return Ok(());
        };
        let lines =
            serde_json::to_value(lines).map_err(|e| AdapterError::permanent(e.to_string()))?;
        let done = sqlx::query(
            "UPDATE shopify_bulk_operations
             SET operation_id = NULL, lines = $4, created_at = now()
             WHERE org_id = $1 AND partner = $2 AND owner = $3",
        )
        .bind(org.0)
        .bind(&partner.0)
        .bind(&self.owner)
        .bind(lines)
        .execute(pool)
        .await
        .map_err(db("remembering the bulk operation's lines"))?;
        self.owned(done.rows_affected())
    }

    /// Shopify accepted the operation: its gid.
    pub async fn submitted(
        &self,
        org: OrgId,
        partner: &PartnerName,
        operation: &str,
    ) -> Result<(), AdapterError> {
        let Some(pool) = &self.pool else {
            if let Some(f) = self.memory().get_mut(&(org, partner.0.clone())) {
                f.operation = Some(operation.to_owned());
            }
            return Ok(());
        };
        let done = sqlx::query(
            "UPDATE shopify_bulk_operations SET operation_id = $4
             WHERE org_id = $1 AND partner = $2 AND owner = $3",
        )
        .bind(org.0)
        .bind(&partner.0)
        .bind(&self.owner)
        .bind(operation)
        .execute(pool)
        .await
        .map_err(db("remembering the bulk operation's id"))?;
        self.owned(done.rows_affected())
    }

    /// The operation's result was read (or it never started): forget it (the row stays as our
    /// lease until [`Self::release`]).
    pub async fn clear(&self, org: OrgId, partner: &PartnerName) -> Result<(), AdapterError> {
        let Some(pool) = &self.pool else {
            self.memory().remove(&(org, partner.0.clone()));
            return Ok(());
        };
        let rows = self
            .guarded(
                pool,
                org,
                partner,
                "UPDATE shopify_bulk_operations SET operation_id = NULL, lines = '[]'::jsonb
                 WHERE org_id = $1 AND partner = $2 AND owner = $3",
                "forgetting the bulk operation",
            )
            .await?;
        self.owned(rows)
    }

    /// A guarded write that changed no row: the lease expired and another process took the
    /// connection over, so this push must stop touching it.
    fn owned(&self, rows: u64) -> Result<(), AdapterError> {
        if rows == 1 {
            Ok(())
        } else {
            Err(AdapterError::transient(format!(
                "the bulk lease of this connection is no longer ours ({}): another process took it over after it expired",
                self.owner
            )))
        }
    }
}
