//! Upload and confirm against the store. An upload stores every row, valid or not; a
//! confirmation applies the valid rows in batches of [`crate::BATCH`], each batch in one
//! transaction with its rows' outcomes, so confirming again (or resuming an interrupted
//! confirmation) never applies a row twice.

use crate::entity::EntityImport;
use crate::read::{locate, read_as, Input};
use crate::table::has_sheet;
use crate::{bom, product, MappingSource, BATCH};
use sqlx::PgPool;
use std::collections::{BTreeMap, HashMap};
use switchyard_core::ids::{ImportId, OrgId};
use switchyard_store::catalog::{self, Outcome};
use switchyard_store::imports::{
    self as store, Confirmed, Decision, ImportEntity, NewImport, RowError, RowOutcome,
};
use switchyard_store::StoreError;
use tracing::{info, instrument};

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// No such mapping, or it does not compile.
    #[error("{0}")]
    UnknownMapping(String),
    #[error("mapping `{0}` does not make canonical products, so it cannot import them")]
    NotProducts(String),
    #[error(
        "mapping `{0}` does not make BOM lines (its target must be JSON of the template's fields)"
    )]
    NotBoms(String),
    #[error("no such import")]
    NotFound,
    #[error("the import was applied already: confirming it again applies nothing")]
    AlreadyApplied,
    #[error("the import's file could not be read: there is nothing to apply")]
    Unreadable,
    /// A per-row override that names no valid row.
    #[error("rows.{row}: {message}")]
    BadOverride { row: String, message: String },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Read `bytes` through `mapping_name`, check every row, store the import with all its rows.
#[instrument(skip(pool, mappings, bytes), fields(bytes = bytes.len()))]
pub async fn upload(
    pool: &PgPool,
    mappings: &dyn MappingSource,
    org: OrgId,
    mapping_name: &str,
    file_name: &str,
    bytes: &[u8],
) -> Result<ImportId, ImportError> {
    let file = Upload {
        entity: ImportEntity::Products,
        mapping: mapping_name,
        input: Input::Mapping,
        file_name,
    };
    upload_file(pool, mappings, org, &file, bytes).await
}

/// What was uploaded and how to read it.
#[derive(Debug, Clone, Copy)]
pub struct Upload<'a> {
    pub entity: ImportEntity,
    /// The mapping's name (`monopilot/product.import`).
    pub mapping: &'a str,
    pub input: Input,
    pub file_name: &'a str,
}

/// Read `bytes` as `file` says, check every row (the mapping's rules, the entity's own, and
/// the catalog's), store the import with all its rows, valid or not.
///
/// A BOM workbook (XLSX) may carry the products its BOMs need on a `Products` sheet (the
/// product template's columns, read with its mapping, `monopilot/product.import`): that sheet
/// is stored first as a product import of its own, its valid rows count as products when the
/// BOM lines are checked, and the BOM import is linked to it so confirming the BOMs applies
/// the products first (see [`confirm`]). A workbook rather than one mixed file because each
/// sheet keeps its template's columns, and each import its own report.
#[instrument(skip(pool, mappings, bytes), fields(bytes = bytes.len()))]
pub async fn upload_file(
    pool: &PgPool,
    mappings: &dyn MappingSource,
    org: OrgId,
    file: &Upload<'_>,
    bytes: &[u8],
) -> Result<ImportId, ImportError> {
    let products_sheet = ImportEntity::Products.sheet_name();
    let products = match (file.entity, file.input) {
        (ImportEntity::Boms, Input::Xlsx) if has_sheet(bytes, products_sheet) => {
            let sheet = Upload {
                entity: ImportEntity::Products,
                mapping: ImportEntity::Products.default_mapping(),
                ..*file
            };
            Some(store_file(pool, mappings, org, &sheet, bytes, None).await?)
        }
        _ => None,
    };
    let (id, _) = store_file(pool, mappings, org, file, bytes, products.as_ref()).await?;
    Ok(id)
}

/// A product import stored from a BOM workbook's `Products` sheet: its id, and the unit of
/// each product its valid rows make (by SKU).
type ProductsSheet = (ImportId, HashMap<String, String>);

/// [`upload_file`] for one entity: `products` is the same workbook's product import, whose
/// valid rows' products a BOM line may name.
async fn store_file(
    pool: &PgPool,
    mappings: &dyn MappingSource,
    org: OrgId,
    file: &Upload<'_>,
    bytes: &[u8],
    products: Option<&ProductsSheet>,
) -> Result<ProductsSheet, ImportError> {
    let mapping = mappings
        .mapping(file.mapping)
        .map_err(ImportError::UnknownMapping)?;
    if !file.entity.made_by(&mapping) {
        return Err(match file.entity {
            ImportEntity::Products => ImportError::NotProducts(file.mapping.to_owned()),
            ImportEntity::Boms => ImportError::NotBoms(file.mapping.to_owned()),
        });
    }
    let mut read = read_as(&mapping, bytes, file.input, file.entity);
    match file.entity {
        ImportEntity::Products => refuse_variant_skus(pool, org, &mut read.rows).await?,
        ImportEntity::Boms => {
            let source_of = |f: &str| mapping.source_of(f).unwrap_or_else(|| f.to_owned());
            let planned = products.map(|(_, units)| units);
            bom::check_against_catalog(pool, org, &mut read.rows, &source_of, planned).await?;
        }
    }
    // The units of the products this import makes, for a BOM import of the same workbook.
    let units: HashMap<String, String> = read
        .rows
        .iter()
        .filter_map(|r| r.product.as_ref())
        .filter_map(|p| Some((text(p, "sku")?, text(p, "base_uom")?)))
        .collect();
    for row in &mut read.rows {
        let errors = std::mem::take(&mut row.errors);
        row.errors = errors
            .into_iter()
            .map(|e| locate(e, &read.columns, &row.source))
            .collect();
    }
    let id = store::create(
        pool,
        &NewImport {
            org,
            entity: file.entity,
            mapping: mapping.name.clone(),
            mapping_hash: mapping.hash.clone(),
            file_name: file.file_name.to_owned(),
            format: read.format.to_owned(),
            error: read.error,
            rows: read.rows,
            products_import: products.map(|(id, _)| *id),
        },
    )
    .await?;
    info!(%id, entity = %file.entity, "import stored");
    Ok((id, units))
}

fn text(v: &serde_json::Value, key: &str) -> Option<String> {
    v.get(key)
        .and_then(serde_json::Value::as_str)
        .map(str::to_owned)
}

/// The store refuses a product whose SKU a variant holds: say so at validation, not only when
/// the import is confirmed.
async fn refuse_variant_skus(
    pool: &PgPool,
    org: OrgId,
    rows: &mut [store::NewRow],
) -> Result<(), StoreError> {
    let skus: Vec<String> = rows
        .iter()
        .filter(|r| r.product.is_some())
        .filter_map(|r| r.sku.clone())
        .collect();
    let parents: HashMap<String, String> = catalog::variant_parents(pool, org, &skus)
        .await?
        .into_iter()
        .collect();
    for row in rows.iter_mut().filter(|r| r.product.is_some()) {
        if let Some(parent) = row.sku.as_ref().and_then(|s| parents.get(s)) {
            row.errors.push(RowError::at(
                "sku",
                Some("sku"),
                format!(
                    "`{}` is a variant of product `{parent}`",
                    row.sku.as_deref().unwrap_or_default()
                ),
            ));
            row.product = None;
        }
    }
    Ok(())
}

/// Confirm an import: `policy` for every valid row whose SKU exists, `overrides` (row number →
/// decision) for the rows named; then apply. Invalid rows are recorded as `failed`, not applied.
#[instrument(skip(pool, overrides))]
pub async fn confirm(
    pool: &PgPool,
    org: OrgId,
    id: ImportId,
    policy: Decision,
    overrides: &BTreeMap<String, Decision>,
) -> Result<(), ImportError> {
    let Some(import) = store::get(pool, org, id).await? else {
        return Err(ImportError::NotFound);
    };
    let overrides = check_overrides(pool, id, overrides, import.row_count).await?;
    match store::confirm(pool, org, id, policy, &overrides).await? {
        None => return Err(ImportError::NotFound),
        Some(Confirmed::AlreadyApplied) => return Err(ImportError::AlreadyApplied),
        Some(Confirmed::Unreadable) => return Err(ImportError::Unreadable),
        Some(Confirmed::Ready) => {}
    }
    if import.entity == ImportEntity::Boms.as_str() {
        if let Some(products) = import.products_import_id.map(ImportId) {
            // The workbook's products first: its BOMs' components may be among them. With
            // the BOMs' policy; a per-row override names a BOM row, not a product row.
            match store::confirm(pool, org, products, policy, &[]).await? {
                Some(Confirmed::Ready) => while apply_batch(pool, org, products).await? {},
                // Confirmed through its own id already, or its sheet could not be read (its
                // products were then never counted for the BOMs).
                Some(Confirmed::AlreadyApplied | Confirmed::Unreadable) | None => {}
            }
        }
        bom::apply(pool, org, id).await?;
    } else {
        while apply_batch(pool, org, id).await? {}
    }
    info!(%id, "import applied");
    Ok(())
}

/// Each override must name a valid row by its number.
async fn check_overrides(
    pool: &PgPool,
    id: ImportId,
    overrides: &BTreeMap<String, Decision>,
    row_count: i32,
) -> Result<Vec<(i32, Decision)>, ImportError> {
    if overrides.is_empty() {
        return Ok(Vec::new());
    }
    let valid: HashMap<i32, bool> = store::rows(pool, id)
        .await?
        .into_iter()
        .map(|r| (r.row_number, r.product.is_some()))
        .collect();
    overrides
        .iter()
        .map(|(key, d)| {
            let bad = |message: String| ImportError::BadOverride {
                row: key.clone(),
                message,
            };
            let n: i32 = key
                .parse()
                .map_err(|_| bad(format!("`{key}` is not a row number")))?;
            match valid.get(&n) {
                Some(true) => Ok((n, *d)),
                Some(false) => Err(bad(format!(
                    "row {n} is invalid and cannot be applied; fix the file and upload it again"
                ))),
                None => Err(bad(format!("the file has rows 1 to {row_count}"))),
            }
        })
        .collect()
}

/// The outcome of a row that was invalid when it was read: `failed`, with its errors.
pub(crate) fn invalid(row: &store::PendingRow) -> (i32, RowOutcome, Option<String>) {
    let why = row
        .errors
        .0
        .iter()
        .map(|e| format!("{}: {}", e.field, e.message))
        .collect::<Vec<_>>()
        .join("; ");
    (
        row.row_number,
        RowOutcome::Failed,
        Some(format!("invalid: {why}")),
    )
}

/// Apply the next batch of rows without an outcome; false when there was none left (the
/// import is then marked applied).
async fn apply_batch(pool: &PgPool, org: OrgId, id: ImportId) -> Result<bool, StoreError> {
    let mut tx = switchyard_store::begin(pool).await?;
    let rows = store::next_batch(&mut tx, id, BATCH as i64).await?;
    if rows.is_empty() {
        store::finish(&mut tx, id).await?;
        tx.commit().await?;
        return Ok(false);
    }
    let skus: Vec<String> = rows
        .iter()
        .filter(|r| r.product.is_some())
        .filter_map(|r| r.sku.clone())
        .collect();
    let mut stored: HashMap<String, catalog::StoredProduct> =
        catalog::live_products(&mut tx, org, &skus)
            .await?
            .into_iter()
            .map(|p| (p.sku.clone(), p))
            .collect();
    let mut outcomes: Vec<(i32, RowOutcome, Option<String>)> = Vec::with_capacity(rows.len());
    // Rows to write, by position in `records`.
    let (mut records, mut written) = (Vec::new(), Vec::new());
    for row in rows {
        let Some(p) = row.product.as_ref() else {
            outcomes.push(invalid(&row));
            continue;
        };
        let decision = row.decision.as_deref().and_then(Decision::parse);
        let existing = row.sku.as_ref().and_then(|s| stored.remove(s));
        match (existing, decision) {
            (Some(_), Some(Decision::Skip) | None) => {
                outcomes.push((row.row_number, RowOutcome::Skipped, None));
            }
            (Some(current), Some(Decision::Update)) => {
                records.push(product::update_record(current, p));
                written.push(row.row_number);
            }
            (None, _) => {
                records.push(product::new_record(p));
                written.push(row.row_number);
            }
        }
    }
    let results = catalog::upsert_products_in(&mut tx, org, &records).await?;
    for (n, result) in written.into_iter().zip(results) {
        outcomes.push(match result {
            Ok(Outcome::Created) => (n, RowOutcome::Created, None),
            Ok(Outcome::Updated) => (n, RowOutcome::Updated, None),
            Ok(Outcome::Unchanged) => (n, RowOutcome::Unchanged, None),
            Err(e) => (
                n,
                RowOutcome::Failed,
                Some(format!("{}: {}", e.field, e.message)),
            ),
        });
    }
    store::record_outcomes(&mut tx, id, &outcomes).await?;
    tx.commit().await?;
    Ok(true)
}
