//! A pulled page's records into the core tables: map each record, check the mapped item with
//! the REST upsert's own rules, store what passed in batches of at most 1,000 through the
//! store's upserts (products, stock levels, list prices), and say per record what happened —
//! or which field was at fault.
//!
//! Nothing here buries or counts: [`super::run`] does, so a replayed dead letter
//! ([`super::record`]) goes through exactly this code.

use super::config::PullEntity;
use serde_json::Value;
use std::collections::{HashMap, HashSet};
use switchyard_api::routes::{catalog, inventory, pricing_writes};
use switchyard_core::ids::OrgId;
use switchyard_mapping::{Mapping, RunState};
use switchyard_store::catalog::{ItemError, Outcome, ProductRecord};
use switchyard_store::inventory::LevelRecord;
use switchyard_store::pricing::{self, ListPriceRow, PriceRows, Ref};
use switchyard_store::StoreError;

/// The most items one upsert stores (the REST bulk upsert's limit too).
pub const MAX_BATCH: usize = 1000;

/// Why one record was not stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordError {
    /// `mapping` (the mapping refused the record) or `validation` (the mapped item broke a
    /// rule of the catalog).
    pub stage: &'static str,
    /// The field at fault: the mapping's target field, or the item's field.
    pub field: String,
    pub message: String,
}

impl std::fmt::Display for RecordError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} error at `{}`: {}",
            self.stage, self.field, self.message
        )
    }
}

fn invalid(e: ItemError) -> RecordError {
    RecordError {
        stage: "validation",
        field: e.field,
        message: e.message,
    }
}

/// A mapped item, checked.
enum Checked {
    /// Boxed: a product is four times the size of the others.
    Product(Box<ProductRecord>),
    Level(LevelRecord),
    Price(ListPriceRow),
}

/// Map and check one record.
fn check(
    entity: PullEntity,
    mapping: &Mapping,
    record: &Value,
    state: &mut RunState,
) -> Result<Checked, RecordError> {
    let item = mapping.map_record(record, state).map_err(|e| RecordError {
        stage: "mapping",
        field: e.target.clone(),
        message: e.to_string(),
    })?;
    match entity {
        PullEntity::Products => match item {
            Value::Object(map) => catalog::product_record(map)
                .map(|p| Checked::Product(Box::new(p)))
                .map_err(invalid),
            other => Err(invalid(ItemError::new(
                "",
                format!("the mapping made {other}, not an object"),
            ))),
        },
        PullEntity::Inventory => inventory::level_record(item)
            .map(Checked::Level)
            .map_err(invalid),
        PullEntity::Prices => pricing_writes::list_price_row(item)
            .map(Checked::Price)
            .map_err(|e| invalid(ItemError::new(e.field, e.message))),
    }
}

/// The key a record is stored under: two records of one batch with the same key would
/// overwrite each other (or, for prices, fail the batch's one statement).
fn key_of(c: &Checked) -> (String, &'static str) {
    match c {
        Checked::Product(p) => (p.sku.clone(), "sku"),
        Checked::Level(l) => (format!("{}@{}", l.sku, l.location), "location"),
        Checked::Price(p) => (format!("{}/{}/{}", p.price_list_id, p.sku, p.uom), "uom"),
    }
}

/// Map, check and store `records` (at most [`MAX_BATCH`] per upsert); per record, in order,
/// what storing it did or why it was not stored. Fails as a whole only when the database does.
pub async fn store(
    pool: &sqlx::PgPool,
    org: OrgId,
    entity: PullEntity,
    mapping: &Mapping,
    records: &[Value],
) -> Result<Vec<Result<Outcome, RecordError>>, StoreError> {
    let mut results = Vec::with_capacity(records.len());
    for chunk in records.chunks(MAX_BATCH) {
        results.extend(store_batch(pool, org, entity, mapping, chunk).await?);
    }
    Ok(results)
}

async fn store_batch(
    pool: &sqlx::PgPool,
    org: OrgId,
    entity: PullEntity,
    mapping: &Mapping,
    records: &[Value],
) -> Result<Vec<Result<Outcome, RecordError>>, StoreError> {
    let mut state = RunState::default();
    let mut results: Vec<Option<Result<Outcome, RecordError>>> = vec![None; records.len()];
    let mut first_of: HashMap<String, usize> = HashMap::new();
    let mut good: Vec<(usize, Checked)> = Vec::new();
    for (i, record) in records.iter().enumerate() {
        match check(entity, mapping, record, &mut state) {
            Ok(c) => {
                let (key, field) = key_of(&c);
                if let Some(j) = first_of.get(&key) {
                    results[i] = Some(Err(invalid(ItemError::new(
                        field,
                        format!("`{key}` is given by record {j} of the same page too"),
                    ))));
                } else {
                    first_of.insert(key, i);
                    good.push((i, c));
                }
            }
            Err(e) => results[i] = Some(Err(e)),
        }
    }
    // Where each checked record's result goes (the upserts answer in the order given).
    let at: Vec<usize> = good.iter().map(|(i, _)| *i).collect();
    let stored = match entity {
        PullEntity::Products => {
            let items = only(good, |c| match c {
                Checked::Product(p) => Some(*p),
                _ => None,
            });
            switchyard_store::catalog::upsert_products(pool, org, &items).await?
        }
        PullEntity::Inventory => {
            let items = only(good, |c| match c {
                Checked::Level(l) => Some(l),
                _ => None,
            });
            switchyard_store::inventory::upsert_levels(pool, org, &items).await?
        }
        PullEntity::Prices => {
            let rows = only(good, |c| match c {
                Checked::Price(p) => Some(p),
                _ => None,
            });
            store_prices(pool, org, rows).await?
        }
    };
    for (i, outcome) in at.into_iter().zip(stored) {
        results[i] = Some(outcome.map_err(invalid));
    }
    Ok(results
        .into_iter()
        .map(|r| r.unwrap_or_else(|| Err(invalid(ItemError::new("", "not stored")))))
        .collect())
}

/// The records of one entity (a batch holds only its pull's entity).
fn only<T>(good: Vec<(usize, Checked)>, pick: fn(Checked) -> Option<T>) -> Vec<T> {
    good.into_iter().filter_map(|(_, c)| pick(c)).collect()
}

/// List prices: what they name must exist (their price list, their product), then one
/// statement stores them; the outcome per row is read before (the price write answers only a
/// count). The results are the rows', in order.
async fn store_prices(
    pool: &sqlx::PgPool,
    org: OrgId,
    rows: Vec<ListPriceRow>,
) -> Result<Vec<Result<Outcome, ItemError>>, StoreError> {
    let lists: Vec<String> = rows.iter().map(|r| r.price_list_id.clone()).collect();
    let skus: Vec<String> = rows.iter().map(|r| r.sku.clone()).collect();
    let known_lists: HashSet<String> = pricing::known(pool, org, Ref::PriceList, &lists).await?;
    let known_skus: HashSet<String> = pricing::known(pool, org, Ref::Product, &skus).await?;
    let mut results: Vec<Option<Result<Outcome, ItemError>>> = Vec::with_capacity(rows.len());
    let mut storable = Vec::new();
    let mut storable_at = Vec::new();
    for row in rows {
        if !known_lists.contains(&row.price_list_id) {
            results.push(Some(Err(ItemError::new(
                "priceListId",
                format!("unknown price list `{}`", row.price_list_id),
            ))));
        } else if !known_skus.contains(&row.sku) {
            results.push(Some(Err(ItemError::new(
                "sku",
                format!("unknown product `{}`", row.sku),
            ))));
        } else {
            storable_at.push(results.len());
            results.push(None);
            storable.push(row);
        }
    }
    if !storable.is_empty() {
        let outcomes = switchyard_store::pull::list_price_outcomes(pool, org, &storable).await?;
        pricing::upsert_prices(pool, org, &PriceRows::ListPrices(storable)).await?;
        for (at, outcome) in storable_at.into_iter().zip(outcomes) {
            results[at] = Some(Ok(outcome));
        }
    }
    Ok(results
        .into_iter()
        .map(|r| r.unwrap_or_else(|| Err(ItemError::new("", "not stored"))))
        .collect())
}
