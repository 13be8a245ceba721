//! Product imports (`migrations/0012_product_imports.sql`): an uploaded file's rows as the
//! mapping read them (the source record, the canonical product or the row's errors), the
//! decision confirmed for each, and what became of it. The products themselves are written by
//! [`crate::catalog::upsert_products_in`] in the transaction that records their rows' outcomes
//! ([`next_batch`] … [`record_outcomes`]), so a confirmation interrupted anywhere resumes
//! without applying a row twice.

use crate::db::Result;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sqlx::{PgConnection, PgPool};
use switchyard_core::ids::{ImportId, OrgId};

text_enum!(
    /// Where an import stands: read and checked, being applied, applied, or unreadable.
    ImportState {
        Validated => "validated",
        Confirmed => "confirmed",
        Applied => "applied",
        Failed => "failed",
    }
);

text_enum!(
    /// What an import brings in: products (the catalog) or bills of materials.
    ImportEntity {
        Products => "products",
        Boms => "boms",
    }
);

text_enum!(
    /// What to do with a row whose SKU names an existing product.
    Decision {
        Skip => "skip",
        Update => "update",
    }
);

text_enum!(
    /// What confirming did to a row.
    RowOutcome {
        Created => "created",
        Updated => "updated",
        /// An update equal to what was stored: nothing written, the feed did not move.
        Unchanged => "unchanged",
        /// The product existed and the row's decision was `skip`.
        Skipped => "skipped",
        /// Not applied: the row was invalid, or the store refused it (`outcome_error`).
        Failed => "failed",
    }
);

/// Why a row is invalid: the field as the file names it (`product_code`), the canonical
/// field it fills (`sku`) when known, and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RowError {
    pub field: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    pub message: String,
    /// The spreadsheet column letter of `field` (`C`), for tabular files (CSV, XLSX).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub column: Option<String>,
    /// The value the file holds there, as sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
}

impl RowError {
    /// An error at `field` (the file's name) filling `target`, not yet placed in a column.
    pub fn at(field: &str, target: Option<&str>, message: impl Into<String>) -> Self {
        Self {
            field: field.to_owned(),
            target: target.map(str::to_owned),
            message: message.into(),
            column: None,
            value: None,
        }
    }
}

/// One record of an uploaded file, as read.
#[derive(Debug, Clone, PartialEq)]
pub struct NewRow {
    /// 1-based record number.
    pub number: i32,
    pub location: String,
    pub sku: Option<String>,
    /// The record as the file held it (made storable by the caller).
    pub source: Value,
    /// The canonical product; `None` exactly when `errors` is not empty.
    pub product: Option<Value>,
    pub errors: Vec<RowError>,
}

/// An uploaded file, read and checked.
#[derive(Debug, Clone)]
pub struct NewImport {
    pub org: OrgId,
    pub entity: ImportEntity,
    pub mapping: String,
    pub mapping_hash: String,
    pub file_name: String,
    /// `csv`, `json`, `jsonl`, `xml`, `xlsx`.
    pub format: String,
    /// The file could not be read at all (state `failed`).
    pub error: Option<String>,
    pub rows: Vec<NewRow>,
    /// A BOM import's products, from the same workbook's `Products` sheet: applied first.
    pub products_import: Option<ImportId>,
}

/// A stored import.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct ImportRecord {
    pub id: uuid::Uuid,
    /// `products` or `boms`.
    pub entity: String,
    pub mapping: String,
    pub mapping_hash: String,
    pub file_name: String,
    pub format: String,
    pub state: String,
    pub row_count: i32,
    pub valid_count: i32,
    pub error: Option<String>,
    pub on_conflict: Option<String>,
    pub created_at: DateTime<Utc>,
    pub confirmed_at: Option<DateTime<Utc>>,
    pub applied_at: Option<DateTime<Utc>>,
    /// A BOM import's product import (the workbook's `Products` sheet), applied before it.
    pub products_import_id: Option<uuid::Uuid>,
}

impl ImportRecord {
    pub fn state(&self) -> ImportState {
        ImportState::parse(&self.state).unwrap_or(ImportState::Failed)
    }
}

/// A stored row.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct ImportRow {
    pub row_number: i32,
    pub location: String,
    pub sku: Option<String>,
    pub source: Value,
    pub product: Option<Value>,
    pub errors: sqlx::types::Json<Vec<RowError>>,
    pub decision: Option<String>,
    pub outcome: Option<String>,
    pub outcome_error: Option<String>,
}

const ROW_COLUMNS: &str =
    "row_number, location, sku, source, product, errors, decision, outcome, outcome_error";

/// Store an import with all its rows, valid or not, in one transaction.
pub async fn create(pool: &PgPool, new: &NewImport) -> Result<ImportId> {
    let id = ImportId::new();
    let valid = new.rows.iter().filter(|r| r.product.is_some()).count();
    let state = if new.error.is_some() {
        ImportState::Failed
    } else {
        ImportState::Validated
    };
    let mut tx = crate::begin(pool).await?;
    sqlx::query(
        "INSERT INTO product_imports (id, org_id, mapping, mapping_hash, file_name, format,
             state, row_count, valid_count, error, entity, products_import_id, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, now())",
    )
    .bind(id.0)
    .bind(new.org.0)
    .bind(&new.mapping)
    .bind(&new.mapping_hash)
    .bind(&new.file_name)
    .bind(&new.format)
    .bind(state.as_str())
    .bind(new.rows.len() as i32)
    .bind(valid as i32)
    .bind(&new.error)
    .bind(new.entity.as_str())
    .bind(new.products_import.map(|i| i.0))
    .execute(&mut *tx)
    .await?;
    // A few thousand rows per statement keep each statement's bind list small.
    for chunk in new.rows.chunks(2000) {
        let errors: Vec<Value> = chunk
            .iter()
            .map(|r| serde_json::to_value(&r.errors).unwrap_or_default())
            .collect();
        sqlx::query(
            "INSERT INTO product_import_rows (import_id, row_number, location, sku, source,
                 product, errors)
             SELECT $1, * FROM UNNEST($2::int[], $3::text[], $4::text[], $5::jsonb[],
                 $6::jsonb[], $7::jsonb[])",
        )
        .bind(id.0)
        .bind(chunk.iter().map(|r| r.number).collect::<Vec<_>>())
        .bind(chunk.iter().map(|r| r.location.clone()).collect::<Vec<_>>())
        .bind(chunk.iter().map(|r| r.sku.clone()).collect::<Vec<_>>())
        .bind(chunk.iter().map(|r| r.source.clone()).collect::<Vec<_>>())
        .bind(chunk.iter().map(|r| r.product.clone()).collect::<Vec<_>>())
        .bind(errors)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(id)
}

/// The import, if it is `org`'s.
pub async fn get(pool: &PgPool, org: OrgId, id: ImportId) -> Result<Option<ImportRecord>> {
    Ok(sqlx::query_as(
        "SELECT id, entity, mapping, mapping_hash, file_name, format, state, row_count, valid_count,
             error, on_conflict, created_at, confirmed_at, applied_at, products_import_id
         FROM product_imports WHERE id = $1 AND org_id = $2",
    )
    .bind(id.0)
    .bind(org.0)
    .fetch_optional(pool)
    .await?)
}

/// Every row of an import, in file order.
pub async fn rows(pool: &PgPool, id: ImportId) -> Result<Vec<ImportRow>> {
    Ok(sqlx::query_as(&format!(
        "SELECT {ROW_COLUMNS} FROM product_import_rows WHERE import_id = $1 ORDER BY row_number"
    ))
    .bind(id.0)
    .fetch_all(pool)
    .await?)
}

/// What [`confirm`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Confirmed {
    /// Decisions recorded (or kept, when an interrupted confirmation is resumed): apply it.
    Ready,
    /// Applied already: confirming again applies nothing.
    AlreadyApplied,
    /// The file could not be read; there is nothing to apply.
    Unreadable,
}

/// Record the decision of every valid row (`overrides` by row number, `policy` for the rest)
/// and move the import to `confirmed`. An import already `confirmed` (a confirmation that was
/// interrupted) keeps the decisions it was confirmed with, so resuming it cannot change them.
pub async fn confirm(
    pool: &PgPool,
    org: OrgId,
    id: ImportId,
    policy: Decision,
    overrides: &[(i32, Decision)],
) -> Result<Option<Confirmed>> {
    let mut tx = crate::begin(pool).await?;
    let state: Option<String> = sqlx::query_scalar(
        "SELECT state FROM product_imports WHERE id = $1 AND org_id = $2 FOR UPDATE",
    )
    .bind(id.0)
    .bind(org.0)
    .fetch_optional(&mut *tx)
    .await?;
    let Some(state) = state.as_deref().and_then(ImportState::parse) else {
        return Ok(None);
    };
    let answer = match state {
        ImportState::Applied => Confirmed::AlreadyApplied,
        ImportState::Failed => Confirmed::Unreadable,
        ImportState::Confirmed => Confirmed::Ready,
        ImportState::Validated => {
            let numbers: Vec<i32> = overrides.iter().map(|(n, _)| *n).collect();
            let decisions: Vec<&str> = overrides.iter().map(|(_, d)| d.as_str()).collect();
            sqlx::query(
                "UPDATE product_import_rows r
                 SET decision = coalesce(
                     (SELECT o.d FROM UNNEST($2::int[], $3::text[]) AS o(n, d)
                      WHERE o.n = r.row_number), $4)
                 WHERE r.import_id = $1 AND r.product IS NOT NULL",
            )
            .bind(id.0)
            .bind(&numbers)
            .bind(&decisions)
            .bind(policy.as_str())
            .execute(&mut *tx)
            .await?;
            sqlx::query(
                "UPDATE product_imports SET state = 'confirmed', on_conflict = $2,
                     confirmed_at = now()
                 WHERE id = $1",
            )
            .bind(id.0)
            .bind(policy.as_str())
            .execute(&mut *tx)
            .await?;
            Confirmed::Ready
        }
    };
    tx.commit().await?;
    Ok(Some(answer))
}

/// A row waiting to be applied: its decision (`None` for an invalid row) and product.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct PendingRow {
    pub row_number: i32,
    pub sku: Option<String>,
    pub product: Option<Value>,
    pub decision: Option<String>,
    pub errors: sqlx::types::Json<Vec<RowError>>,
}

/// Inside the caller's transaction: lock the import (one confirmation at a time applies it)
/// and take up to `limit` rows that have no outcome yet. Empty when every row has one.
pub async fn next_batch(
    tx: &mut PgConnection,
    id: ImportId,
    limit: i64,
) -> Result<Vec<PendingRow>> {
    sqlx::query("SELECT 1 FROM product_imports WHERE id = $1 FOR UPDATE")
        .bind(id.0)
        .execute(&mut *tx)
        .await?;
    Ok(sqlx::query_as(
        "SELECT row_number, sku, product, decision, errors FROM product_import_rows
         WHERE import_id = $1 AND outcome IS NULL ORDER BY row_number LIMIT $2",
    )
    .bind(id.0)
    .bind(limit)
    .fetch_all(&mut *tx)
    .await?)
}

/// Record what became of rows (in the transaction that wrote their products).
pub async fn record_outcomes(
    tx: &mut PgConnection,
    id: ImportId,
    outcomes: &[(i32, RowOutcome, Option<String>)],
) -> Result<()> {
    sqlx::query(
        "UPDATE product_import_rows r SET outcome = o.outcome, outcome_error = o.error
         FROM UNNEST($2::int[], $3::text[], $4::text[]) AS o(n, outcome, error)
         WHERE r.import_id = $1 AND r.row_number = o.n",
    )
    .bind(id.0)
    .bind(outcomes.iter().map(|o| o.0).collect::<Vec<_>>())
    .bind(outcomes.iter().map(|o| o.1.as_str()).collect::<Vec<_>>())
    .bind(outcomes.iter().map(|o| o.2.clone()).collect::<Vec<_>>())
    .execute(&mut *tx)
    .await?;
    Ok(())
}

/// Every row has its outcome: the import is applied.
pub async fn finish(tx: &mut PgConnection, id: ImportId) -> Result<()> {
    sqlx::query(
        "UPDATE product_imports SET state = 'applied', applied_at = now()
         WHERE id = $1 AND state = 'confirmed'",
    )
    .bind(id.0)
    .execute(&mut *tx)
    .await?;
    Ok(())
}
