//! What a client is shown of an import (the API's answer, the CLI's output): totals, every
//! invalid row's errors by row number and field, a preview of the first valid rows marked
//! new or existing, and after confirmation each row's outcome.

use crate::bom;
use serde::Serialize;
use serde_json::Value;
use sqlx::PgPool;
use std::collections::HashSet;
use switchyard_core::ids::{ImportId, OrgId};
use switchyard_store::imports::{self as store, ImportRecord, ImportRow};
use switchyard_store::StoreError;
use switchyard_store::{boms, catalog};
use utoipa::ToSchema;

/// An import as a client sees it.
#[derive(Debug, Serialize, ToSchema)]
pub struct ImportReport {
    #[schema(value_type = String, format = Uuid)]
    pub id: uuid::Uuid,
    /// What the file brings in: `products` or `boms`.
    #[schema(schema_with = import_entity)]
    pub entity: String,
    pub mapping: String,
    /// The mapping's content hash when the file was read.
    pub mapping_hash: String,
    pub file_name: String,
    /// `csv`, `json`, `jsonl`, `xml` or `xlsx`: how the file was read.
    pub format: String,
    /// `validated` (read, waiting for confirmation), `confirmed` (being applied), `applied`,
    /// or `failed` (the file could not be read: see `error`).
    #[schema(schema_with = import_state)]
    pub state: String,
    /// Why the file could not be read at all.
    pub error: Option<String>,
    pub totals: Totals,
    /// Every invalid row's errors, in file order.
    pub errors: Vec<RowProblem>,
    /// The first 10 valid rows as they would be stored, each marked `new` or `exists` (a
    /// product with its SKU, or a BOM with its product and version, exists now: the conflict
    /// policy decides).
    pub preview: Vec<PreviewRow>,
    /// The policy it was confirmed with.
    pub on_conflict: Option<String>,
    /// After confirmation: what became of every row, in file order.
    pub outcomes: Vec<RowResult>,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub confirmed_at: Option<chrono::DateTime<chrono::Utc>>,
    pub applied_at: Option<chrono::DateTime<chrono::Utc>>,
    /// A BOM workbook's `Products` sheet, stored as a product import of its own (its errors,
    /// preview and outcomes are there: `GET /imports/{products_import}`); confirming this
    /// import applies it first, with the same policy. Null for any other import.
    #[schema(value_type = Option<String>, format = Uuid)]
    pub products_import: Option<uuid::Uuid>,
}

fn import_state() -> utoipa::openapi::Object {
    one_of(store::ImportState::ALL.iter().map(|s| s.as_str()))
}

fn import_entity() -> utoipa::openapi::Object {
    one_of(store::ImportEntity::ALL.iter().map(|s| s.as_str()))
}

fn row_outcome() -> utoipa::openapi::Object {
    one_of(store::RowOutcome::ALL.iter().map(|s| s.as_str()))
}

fn preview_status() -> utoipa::openapi::Object {
    one_of(["new", "exists"])
}

fn one_of<'a>(values: impl IntoIterator<Item = &'a str>) -> utoipa::openapi::Object {
    utoipa::openapi::ObjectBuilder::new()
        .schema_type(utoipa::openapi::schema::Type::String)
        .enum_values(Some(values))
        .build()
}

/// Rows in the file, valid and invalid; after confirmation, the outcomes counted.
#[derive(Debug, Default, Serialize, ToSchema)]
pub struct Totals {
    pub rows: usize,
    pub valid: usize,
    pub invalid: usize,
    pub created: usize,
    pub updated: usize,
    pub unchanged: usize,
    pub skipped: usize,
    pub failed: usize,
}

/// One error of one row.
#[derive(Debug, Serialize, ToSchema)]
pub struct RowProblem {
    /// 1-based record number (a CSV's first data row is 1).
    pub row: i32,
    /// Where in the file: `CSV line 3`, a JSON pointer, an XML path.
    pub location: String,
    /// The field as the file names it (`product_code`).
    pub field: String,
    /// The canonical product's field it fills (`sku`), when known.
    pub target: Option<String>,
    /// The spreadsheet column of `field` (`A` is the first), for CSV, XLSX and JSON-table
    /// files.
    pub column: Option<String>,
    /// The value the file holds there, as sent.
    pub value: Option<String>,
    /// What is wrong, and what was expected.
    pub message: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PreviewRow {
    pub row: i32,
    /// The product's SKU (for a BOM line, the BOM's product).
    pub sku: Option<String>,
    #[schema(schema_with = preview_status)]
    pub status: String,
    /// The canonical product the row makes, or for a BOM import the BOM line.
    #[schema(value_type = Object)]
    pub product: Value,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RowResult {
    pub row: i32,
    pub sku: Option<String>,
    #[schema(schema_with = row_outcome)]
    pub outcome: String,
    /// Why a row `failed`.
    pub error: Option<String>,
}

/// The import as a client sees it; `None` when it is not `org`'s.
pub async fn report(
    pool: &PgPool,
    org: OrgId,
    id: ImportId,
) -> Result<Option<ImportReport>, StoreError> {
    let Some(import) = store::get(pool, org, id).await? else {
        return Ok(None);
    };
    let rows = store::rows(pool, id).await?;
    let previewed = || {
        rows.iter()
            .filter(|r| r.product.is_some())
            .take(crate::PREVIEW_ROWS)
    };
    // The rows of the preview whose item exists now, by row number.
    let existing: HashSet<i32> = if import.entity == store::ImportEntity::Boms.as_str() {
        let keyed: Vec<(i32, (String, i32))> = previewed()
            .filter_map(|r| Some((r.row_number, bom::key_of(r.product.as_ref()?)?)))
            .collect();
        let keys: Vec<(String, i32)> = keyed.iter().map(|(_, k)| k.clone()).collect();
        let found: HashSet<(String, i32)> = boms::existing(pool, org, &keys)
            .await?
            .into_iter()
            .collect();
        keyed
            .into_iter()
            .filter(|(_, k)| found.contains(k))
            .map(|(n, _)| n)
            .collect()
    } else {
        let skus: Vec<String> = previewed().filter_map(|r| r.sku.clone()).collect();
        let found: HashSet<String> = catalog::live_skus(pool, org, &skus)
            .await?
            .into_iter()
            .collect();
        previewed()
            .filter(|r| r.sku.as_ref().is_some_and(|s| found.contains(s)))
            .map(|r| r.row_number)
            .collect()
    };
    Ok(Some(build(import, rows, &existing)))
}

fn build(import: ImportRecord, rows: Vec<ImportRow>, existing: &HashSet<i32>) -> ImportReport {
    let mut totals = Totals {
        rows: rows.len(),
        ..Totals::default()
    };
    let (mut errors, mut preview, mut outcomes) = (Vec::new(), Vec::new(), Vec::new());
    for r in rows {
        if r.product.is_some() {
            totals.valid += 1;
        } else {
            totals.invalid += 1;
        }
        for e in &r.errors.0 {
            errors.push(RowProblem {
                row: r.row_number,
                location: r.location.clone(),
                field: e.field.clone(),
                target: e.target.clone(),
                column: e.column.clone(),
                value: e.value.clone(),
                message: e.message.clone(),
            });
        }
        if let Some(outcome) = r.outcome.as_deref().and_then(store::RowOutcome::parse) {
            let count = match outcome {
                store::RowOutcome::Created => &mut totals.created,
                store::RowOutcome::Updated => &mut totals.updated,
                store::RowOutcome::Unchanged => &mut totals.unchanged,
                store::RowOutcome::Skipped => &mut totals.skipped,
                store::RowOutcome::Failed => &mut totals.failed,
            };
            *count += 1;
            outcomes.push(RowResult {
                row: r.row_number,
                sku: r.sku.clone(),
                outcome: outcome.as_str().to_owned(),
                error: r.outcome_error.clone(),
            });
        }
        if let Some(product) = r.product {
            if preview.len() < crate::PREVIEW_ROWS {
                let exists = existing.contains(&r.row_number);
                preview.push(PreviewRow {
                    row: r.row_number,
                    sku: r.sku,
                    status: if exists { "exists" } else { "new" }.to_owned(),
                    product,
                });
            }
        }
    }
    ImportReport {
        id: import.id,
        entity: import.entity,
        mapping: import.mapping,
        mapping_hash: import.mapping_hash,
        file_name: import.file_name,
        format: import.format,
        state: import.state,
        error: import.error,
        totals,
        errors,
        preview,
        on_conflict: import.on_conflict,
        outcomes,
        created_at: import.created_at,
        confirmed_at: import.confirmed_at,
        applied_at: import.applied_at,
        products_import: import.products_import_id,
    }
}
