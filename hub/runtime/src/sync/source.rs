//! Where a sync reads from: the change feed and the core items as canonical JSON. A trait, so
//! the engine does not know the tables.

use super::config::Entity;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde_json::{json, Value};
use sqlx::PgPool;
use std::collections::HashMap;
use switchyard_core::catalog::{alt_uoms, Uom};
use switchyard_core::error::AdapterError;
use switchyard_core::ids::OrgId;
use switchyard_store::sync as store;
pub use switchyard_store::sync::FeedEntry;
use switchyard_store::{feed, inventory};

#[async_trait]
pub trait ItemSource: Send + Sync {
    /// The feed's head for the organization.
    async fn head(&self, org: OrgId) -> Result<i64, AdapterError>;
    /// Items changed after `after` up to `until`, in feed order.
    async fn changed(
        &self,
        org: OrgId,
        entity: Entity,
        after: i64,
        until: i64,
        limit: i64,
    ) -> Result<Vec<FeedEntry>, AdapterError>;
    /// Every item after `after_sku`, in SKU order (removed ones included).
    async fn all(
        &self,
        org: OrgId,
        entity: Entity,
        after_sku: &str,
        limit: i64,
    ) -> Result<Vec<FeedEntry>, AdapterError>;
    /// The current canonical JSON of the live items among `skus`; absent ones are removed.
    async fn load(
        &self,
        org: OrgId,
        entity: Entity,
        skus: &[String],
        now: DateTime<Utc>,
    ) -> Result<HashMap<String, Value>, AdapterError>;
}

/// The core's tables in Postgres.
pub struct PgSource {
    pub pool: PgPool,
}

fn db(e: switchyard_store::StoreError) -> AdapterError {
    AdapterError::transient(format!("database: {e}"))
}

#[async_trait]
impl ItemSource for PgSource {
    async fn head(&self, org: OrgId) -> Result<i64, AdapterError> {
        feed::head(&self.pool, org).await.map_err(db)
    }

    async fn changed(
        &self,
        org: OrgId,
        entity: Entity,
        after: i64,
        until: i64,
        limit: i64,
    ) -> Result<Vec<FeedEntry>, AdapterError> {
        let mut page = feed::changed_since(&self.pool, org, entity, after, limit)
            .await
            .map_err(db)?;
        // Changes made after the run began wait for the next run: a run that chased the feed
        // could run for ever under a steady stream of edits.
        page.retain(|c| c.seq <= until);
        Ok(page)
    }

    async fn all(
        &self,
        org: OrgId,
        entity: Entity,
        after_sku: &str,
        limit: i64,
    ) -> Result<Vec<FeedEntry>, AdapterError> {
        store::feed_all(&self.pool, org, entity.as_str(), after_sku, limit)
            .await
            .map_err(db)
    }

    async fn load(
        &self,
        org: OrgId,
        entity: Entity,
        skus: &[String],
        now: DateTime<Utc>,
    ) -> Result<HashMap<String, Value>, AdapterError> {
        let rows = match entity {
            Entity::Catalog => return catalog(&self.pool, org, skus).await,
            // Live SKUs with their levels (zeros without any); a removed SKU is absent.
            Entity::Inventory => inventory::stock(&self.pool, org, skus).await.map(|stock| {
                stock
                    .into_iter()
                    .filter_map(|s| Some((s.sku.clone(), serde_json::to_value(&s).ok()?)))
                    .collect::<Vec<_>>()
            }),
            Entity::Prices => return super::prices::load(&self.pool, org, skus, now).await,
        };
        Ok(rows.map_err(db)?.into_iter().collect())
    }
}

/// The live products among `skus` as canonical Products, with their other units of measure
/// (`alt_uoms`, from their own conversions) that a storefront sells them in: the page's
/// conversions in one query, not one per item.
async fn catalog(
    pool: &PgPool,
    org: OrgId,
    skus: &[String],
) -> Result<HashMap<String, Value>, AdapterError> {
    let products = store::load_products(pool, org, skus).await.map_err(db)?;
    let conversions = store::load_conversions(pool, org, skus).await.map_err(db)?;
    Ok(products
        .into_iter()
        .map(|(sku, mut product)| {
            let base = product["base_uom"].as_str().and_then(|u| Uom::new(u).ok());
            let alt: Vec<Value> = match (base, conversions.get(&sku)) {
                (Some(base), Some(own)) => alt_uoms(&base, own)
                    .into_iter()
                    .map(|(uom, factor)| json!({"uom": uom.as_str(), "factor": factor.to_string()}))
                    .collect(),
                _ => Vec::new(),
            };
            if let Some(fields) = product.as_object_mut() {
                fields.insert("alt_uoms".to_owned(), Value::Array(alt));
            }
            (sku, product)
        })
        .collect())
}
