//! Where a sync reads from: the change feed and the core items as canonical JSON. A trait, so
//! the engine does not know the tables.

use super::config::Entity;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde_json::{json, Value};
use sqlx::PgPool;
use std::borrow::Cow;
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
    ) -> Result<HashMap<String, SourceItem>, AdapterError>;
}

/// One core item as loaded: its canonical JSON text, which the sync hashes (the input hash,
/// [`super::digest::InputKey`]), and its decoded value only where there is one already. Most
/// items of a full sync are unchanged and skipped on their input hash, so decoding is left to
/// the few that are mapped: decoding every item into a `Value` was 40 % of change detection.
///
/// `valid_until`: the instant from which the item may read differently though nothing moved
/// its feed entry (a price's next validity boundary, a counted reservation's expiry); `None`
/// when only a change in the feed changes it. Recorded with the item's feed mark, so the sync
/// does not skip it unread past that instant.
#[derive(Debug, Clone)]
pub struct SourceItem {
    text: String,
    value: Option<Value>,
    valid_until: Option<DateTime<Utc>>,
}

impl SourceItem {
    /// An item read as JSON text (decoded when mapped).
    pub fn raw(text: String) -> Self {
        Self {
            text,
            value: None,
            valid_until: None,
        }
    }

    /// An item built in the hub (stock, prices): serialized once, for its input hash.
    pub fn from_value(value: Value) -> Self {
        Self {
            text: value.to_string(),
            value: Some(value),
            valid_until: None,
        }
    }

    /// The item, which the calendar alone changes from `at` on.
    pub fn valid_until(mut self, at: Option<DateTime<Utc>>) -> Self {
        self.valid_until = at;
        self
    }

    /// From when the item may read differently without a change in the feed.
    pub fn changes_at(&self) -> Option<DateTime<Utc>> {
        self.valid_until
    }

    /// The canonical JSON text.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The item as a `Value`, decoding the text if it came as text.
    pub fn value(&self) -> Result<Cow<'_, Value>, serde_json::Error> {
        match &self.value {
            Some(v) => Ok(Cow::Borrowed(v)),
            None => serde_json::from_str(&self.text).map(Cow::Owned),
        }
    }
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
    ) -> Result<HashMap<String, SourceItem>, AdapterError> {
        match entity {
            Entity::Catalog => catalog(&self.pool, org, skus).await,
            Entity::Inventory => stock(&self.pool, org, skus).await,
            Entity::Prices => {
                let items = super::prices::load(&self.pool, org, skus, now).await?;
                let variants = store::variant_units(&self.pool, org, skus)
                    .await
                    .map_err(db)?;
                Ok(items
                    .into_iter()
                    .map(|(sku, (mut item, until))| {
                        with_variants(&mut item, variants.get(&sku));
                        (sku, SourceItem::from_value(item).valid_until(until))
                    })
                    .collect())
            }
        }
    }
}

/// Live SKUs with their levels (zeros without any); a removed SKU is absent. Each valid until
/// the first of its reservations expires: it stops counting then, before the expiry job moves
/// the feed.
async fn stock(
    pool: &PgPool,
    org: OrgId,
    skus: &[String],
) -> Result<HashMap<String, SourceItem>, AdapterError> {
    let stock = inventory::stock(pool, org, skus).await.map_err(db)?;
    let expiries = inventory::next_expiries(pool, org, skus)
        .await
        .map_err(db)?;
    let variants = store::variant_units(pool, org, skus).await.map_err(db)?;
    Ok(stock
        .into_iter()
        .filter_map(|s| {
            let mut value = serde_json::to_value(&s).ok()?;
            with_variants(&mut value, variants.get(&s.sku));
            let item = SourceItem::from_value(value).valid_until(expiries.get(&s.sku).copied());
            Some((s.sku, item))
        })
        .collect())
}

/// A product's inventory or prices item gains `variants: [{"sku", "units"}]`, its live
/// variants that are a quantity of it (`units` of its base unit, migration 0035), so a
/// storefront that sells only the variants (Shopify) can write each one's stock and price
/// from the product's. Being in the item, a change of units changes the item's hashes and is
/// written. Left out when there are none, so every other item reads as it always did (and
/// its recorded hashes still hold).
fn with_variants(item: &mut Value, variants: Option<&Vec<(String, Decimal)>>) {
    let (Some(object), Some(variants)) = (item.as_object_mut(), variants) else {
        return;
    };
    if variants.is_empty() {
        return;
    }
    let list: Vec<Value> = variants
        .iter()
        .map(|(sku, units)| json!({"sku": sku, "units": units.normalize().to_string()}))
        .collect();
    object.insert("variants".into(), Value::Array(list));
}

/// The live products among `skus` as canonical Products, with their other units of measure
/// (`alt_uoms`, from their own conversions) that a storefront sells them in: the page's
/// conversions in one query, not one per item. Kept as text (see [`SourceItem`]).
async fn catalog(
    pool: &PgPool,
    org: OrgId,
    skus: &[String],
) -> Result<HashMap<String, SourceItem>, AdapterError> {
    let products = store::load_products(pool, org, skus).await.map_err(db)?;
    let conversions = store::load_conversions(pool, org, skus).await.map_err(db)?;
    Ok(products
        .into_iter()
        .map(|(sku, base_uom, text)| {
            let base = base_uom.and_then(|u| Uom::new(&u).ok());
            let alt: Vec<Value> = match (base, conversions.get(&sku)) {
                (Some(base), Some(own)) => alt_uoms(&base, own)
                    .into_iter()
                    .map(|(uom, factor)| json!({"uom": uom.as_str(), "factor": factor.to_string()}))
                    .collect(),
                _ => Vec::new(),
            };
            let item = SourceItem::raw(with_field(text, "alt_uoms", &Value::Array(alt)));
            (sku, item)
        })
        .collect())
}

/// `object` (a JSON object's text, as Postgres writes a jsonb) with `key: value` appended.
/// Written into the text rather than decoding the object to add one field: the point of
/// keeping items as text is not decoding the ones that are skipped. The key must not be in
/// the object already (the products query never writes `alt_uoms`).
fn with_field(mut object: String, key: &str, value: &Value) -> String {
    let trimmed = object.trim_end().len();
    object.truncate(trimmed);
    if object.pop() != Some('}') {
        // Not an object: leave it as it came, mapping reports what is wrong with it.
        object.push('}');
        return object;
    }
    let empty = object.trim_end().ends_with('{');
    if !empty {
        object.push_str(", ");
    }
    object.push_str(&Value::String(key.to_owned()).to_string());
    object.push_str(": ");
    object.push_str(&value.to_string());
    object.push('}');
    object
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_field_is_appended_to_the_object_text() {
        let alt = json!([{"uom": "FT", "factor": "2"}]);
        let text = with_field(
            r#"{"sku": "A-1", "name": "Plate"}"#.into(),
            "alt_uoms",
            &alt,
        );
        let decoded: Value = serde_json::from_str(&text).expect("still JSON");
        assert_eq!(
            decoded,
            json!({"sku": "A-1", "name": "Plate", "alt_uoms": alt})
        );
        assert_eq!(
            with_field("{}".into(), "alt_uoms", &json!([])),
            r#"{"alt_uoms": []}"#
        );
    }

    #[test]
    fn variants_with_units_are_added_only_when_there_are_some() {
        let mut item = json!({"sku": "RB-1", "available": "30"});
        with_variants(&mut item, None);
        with_variants(&mut item, Some(&Vec::new()));
        assert_eq!(item, json!({"sku": "RB-1", "available": "30"}));
        let units = vec![
            ("RB-1-12FT".to_owned(), Decimal::new(1200, 2)),
            ("RB-1-2.5FT".to_owned(), Decimal::new(25, 1)),
        ];
        with_variants(&mut item, Some(&units));
        assert_eq!(
            item["variants"],
            json!([{"sku": "RB-1-12FT", "units": "12"}, {"sku": "RB-1-2.5FT", "units": "2.5"}])
        );
    }

    #[test]
    fn an_item_is_decoded_from_its_text_or_kept_as_built() {
        let raw = SourceItem::raw(r#"{"sku": "A-1"}"#.into());
        assert_eq!(
            raw.value().expect("decodes").into_owned(),
            json!({"sku": "A-1"})
        );
        let built = SourceItem::from_value(json!({"sku": "B-2"}));
        assert_eq!(built.text(), r#"{"sku":"B-2"}"#);
        assert!(matches!(built.value(), Ok(Cow::Borrowed(_))));
    }
}
