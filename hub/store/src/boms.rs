//! Bills of materials (`migrations/0022_boms.sql`): one row per (product, version), its items
//! in file order. Written by BOM imports (`switchyard_import`), in the transaction that
//! records the import rows' outcomes; `bom.created` / `bom.updated` come from the table's
//! trigger.

use crate::db::Result;
use rust_decimal::Decimal;
use sqlx::{PgConnection, PgPool};
use switchyard_core::ids::{ImportId, OrgId};

/// One line of a BOM.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct BomItem {
    pub component_sku: String,
    pub qty: Decimal,
    pub unit: String,
    pub operation_sequence: Option<i32>,
    pub is_byproduct: bool,
}

/// One version of one product's BOM.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bom {
    pub product_sku: String,
    pub version: i32,
    pub items: Vec<BomItem>,
}

/// What [`write`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Written {
    Created,
    Updated,
    /// The version exists with exactly these items: nothing written, no event.
    Unchanged,
    /// The version exists and `replace` was false.
    Exists,
}

/// The unit of each of `skus` that names a live product of `org`: `(sku, uom)`.
pub async fn product_units(
    db: &mut PgConnection,
    org: OrgId,
    skus: &[String],
) -> Result<Vec<(String, String)>> {
    Ok(sqlx::query_as(
        "SELECT sku, uom FROM products WHERE org_id = $1 AND sku = ANY($2) AND deleted_at IS NULL",
    )
    .bind(org.0)
    .bind(skus)
    .fetch_all(db)
    .await?)
}

/// The versions `org` has of `sku`'s BOM, oldest first.
pub async fn versions(pool: &PgPool, org: OrgId, sku: &str) -> Result<Vec<i32>> {
    Ok(sqlx::query_scalar(
        "SELECT version FROM boms WHERE org_id = $1 AND product_sku = $2 ORDER BY version",
    )
    .bind(org.0)
    .bind(sku)
    .fetch_all(pool)
    .await?)
}

/// Which of `keys` (product SKU, version) exist for `org`.
pub async fn existing(
    pool: &PgPool,
    org: OrgId,
    keys: &[(String, i32)],
) -> Result<Vec<(String, i32)>> {
    Ok(sqlx::query_as(
        "SELECT b.product_sku, b.version FROM boms b
         JOIN UNNEST($2::text[], $3::int[]) AS k(sku, version)
           ON b.product_sku = k.sku AND b.version = k.version
         WHERE b.org_id = $1",
    )
    .bind(org.0)
    .bind(keys.iter().map(|k| k.0.clone()).collect::<Vec<_>>())
    .bind(keys.iter().map(|k| k.1).collect::<Vec<_>>())
    .fetch_all(pool)
    .await?)
}

/// One version with its items, if `org` has it.
pub async fn get(pool: &PgPool, org: OrgId, sku: &str, version: i32) -> Result<Option<Bom>> {
    let mut conn = pool.acquire().await?;
    let Some(id) = bom_id(&mut conn, org, sku, version, false).await? else {
        return Ok(None);
    };
    Ok(Some(Bom {
        product_sku: sku.to_owned(),
        version,
        items: items(&mut conn, id).await?,
    }))
}

async fn bom_id(
    db: &mut PgConnection,
    org: OrgId,
    sku: &str,
    version: i32,
    lock: bool,
) -> Result<Option<uuid::Uuid>> {
    let sql = if lock {
        "SELECT id FROM boms WHERE org_id = $1 AND product_sku = $2 AND version = $3 FOR UPDATE"
    } else {
        "SELECT id FROM boms WHERE org_id = $1 AND product_sku = $2 AND version = $3"
    };
    Ok(sqlx::query_scalar(sql)
        .bind(org.0)
        .bind(sku)
        .bind(version)
        .fetch_optional(db)
        .await?)
}

async fn items(db: &mut PgConnection, id: uuid::Uuid) -> Result<Vec<BomItem>> {
    Ok(sqlx::query_as(
        "SELECT component_sku, qty, unit, operation_sequence, is_byproduct FROM bom_items
         WHERE bom_id = $1 ORDER BY line",
    )
    .bind(id)
    .fetch_all(db)
    .await?)
}

/// Inside the caller's transaction: create the version, or when it exists and `replace`,
/// replace its items (unless they are equal). The BOM row and its items are written by one
/// statement, so the row's trigger counts the items it was written with.
pub async fn write(
    tx: &mut PgConnection,
    org: OrgId,
    import: ImportId,
    bom: &Bom,
    replace: bool,
) -> Result<Written> {
    let existing = bom_id(tx, org, &bom.product_sku, bom.version, true).await?;
    let head = match existing {
        None => {
            "WITH b AS (
                 INSERT INTO boms (id, org_id, product_sku, version, import_id, created_at, updated_at)
                 VALUES ($1, $2, $3, $4, $5, now(), now()) RETURNING id)"
        }
        Some(_) if !replace => return Ok(Written::Exists),
        Some(id) => {
            if items(tx, id).await? == bom.items {
                return Ok(Written::Unchanged);
            }
            sqlx::query("DELETE FROM bom_items WHERE bom_id = $1")
                .bind(id)
                .execute(&mut *tx)
                .await?;
            "WITH b AS (
                 UPDATE boms SET import_id = $5, updated_at = clock_timestamp()
                 WHERE id = $1 AND org_id = $2 AND product_sku = $3 AND version = $4
                 RETURNING id)"
        }
    };
    let id = existing.unwrap_or_else(uuid::Uuid::now_v7);
    let lines: Vec<i32> = (1..=bom.items.len() as i32).collect();
    sqlx::query(&format!(
        "{head}
         INSERT INTO bom_items (bom_id, org_id, line, component_sku, qty, unit,
             operation_sequence, is_byproduct)
         SELECT b.id, $2, i.* FROM b, UNNEST($6::int[], $7::text[], $8::numeric[], $9::text[],
             $10::int[], $11::bool[]) AS i"
    ))
    .bind(id)
    .bind(org.0)
    .bind(&bom.product_sku)
    .bind(bom.version)
    .bind(import.0)
    .bind(&lines)
    .bind(
        bom.items
            .iter()
            .map(|i| i.component_sku.clone())
            .collect::<Vec<_>>(),
    )
    .bind(bom.items.iter().map(|i| i.qty).collect::<Vec<_>>())
    .bind(bom.items.iter().map(|i| i.unit.clone()).collect::<Vec<_>>())
    .bind(
        bom.items
            .iter()
            .map(|i| i.operation_sequence)
            .collect::<Vec<_>>(),
    )
    .bind(bom.items.iter().map(|i| i.is_byproduct).collect::<Vec<_>>())
    .execute(&mut *tx)
    .await?;
    Ok(if existing.is_some() {
        Written::Updated
    } else {
        Written::Created
    })
}
