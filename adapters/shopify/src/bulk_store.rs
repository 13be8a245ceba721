//! Where a connection's in-flight bulk mutation is remembered (`shopify_bulk_operations`,
//! migration 1202), so a process that crashed while Shopify ran it, or one that gave up
//! waiting, follows that operation and reads its result rather than submitting its lines
//! again (Shopify would refuse a second one anyway while the first runs).
//!
//! Without a database (the adapter built outside the daemon, in a unit test) the record lives
//! in memory: the same flow, without surviving the process.

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

#[derive(Debug, Default)]
pub struct BulkStore {
    pool: Option<PgPool>,
    memory: Mutex<HashMap<(OrgId, String), InFlight>>,
}

fn db(what: &'static str) -> impl Fn(sqlx::Error) -> AdapterError {
    move |e| AdapterError::transient(format!("{what}: {e}"))
}

impl BulkStore {
    pub fn new(pool: Option<PgPool>) -> Self {
        Self {
            pool,
            memory: Mutex::new(HashMap::new()),
        }
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
                 WHERE org_id = $1 AND partner = $2",
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
        sqlx::query(
            "INSERT INTO shopify_bulk_operations (org_id, partner, operation_id, lines)
             VALUES ($1, $2, NULL, $3)
             ON CONFLICT (org_id, partner)
             DO UPDATE SET operation_id = NULL, lines = EXCLUDED.lines, created_at = now()",
        )
        .bind(org.0)
        .bind(&partner.0)
        .bind(lines)
        .execute(pool)
        .await
        .map_err(db("remembering the bulk operation's lines"))?;
        Ok(())
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
        sqlx::query(
            "UPDATE shopify_bulk_operations SET operation_id = $3 WHERE org_id = $1 AND partner = $2",
        )
        .bind(org.0)
        .bind(&partner.0)
        .bind(operation)
        .execute(pool)
        .await
        .map_err(db("remembering the bulk operation's id"))?;
        Ok(())
    }

    /// The operation's result was read (or it never started): forget it.
    pub async fn clear(&self, org: OrgId, partner: &PartnerName) -> Result<(), AdapterError> {
        let Some(pool) = &self.pool else {
            self.memory().remove(&(org, partner.0.clone()));
            return Ok(());
        };
        sqlx::query("DELETE FROM shopify_bulk_operations WHERE org_id = $1 AND partner = $2")
            .bind(org.0)
            .bind(&partner.0)
            .execute(pool)
            .await
            .map_err(db("forgetting the bulk operation"))?;
        Ok(())
    }
}
