//! Low-stock thresholds by scope (`migrations/0024_low_stock_thresholds.sql`): a level's own
//! (product + location), a product's, a location's and the organization's default. The first
//! one set, in that order, is the level's threshold (`inventory_low_threshold` in SQL, which
//! the `inventory.low` trigger and the stock reads both use, so the alert and the `low_stock`
//! status never disagree). Setting or clearing a rule re-checks the levels in its scope in the
//! same transaction (0024's trigger), so a lowered threshold that a level is already under is a
//! crossing, recorded once.

use crate::catalog::ItemError;
use crate::db::Result;
use crate::feed;
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::Serialize;
use sqlx::PgPool;
use switchyard_core::ids::OrgId;

/// Where a threshold applies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// One SKU at one location: the level's own threshold.
    ProductAtLocation { sku: String, location: String },
    /// Every location of one SKU (a product's or a variant's, exactly).
    Product { sku: String },
    /// Every SKU at one location.
    Location { location: String },
    /// Every level of the organization.
    Default,
}

impl Scope {
    /// The scope named by an optional SKU and an optional location.
    pub fn of(sku: Option<String>, location: Option<String>) -> Self {
        match (sku, location) {
            (Some(sku), Some(location)) => Scope::ProductAtLocation { sku, location },
            (Some(sku), None) => Scope::Product { sku },
            (None, Some(location)) => Scope::Location { location },
            (None, None) => Scope::Default,
        }
    }

    pub fn as_str(&self) -> &'static str {
        match self {
            Scope::ProductAtLocation { .. } => "product_location",
            Scope::Product { .. } => "product",
            Scope::Location { .. } => "location",
            Scope::Default => "default",
        }
    }

    fn sku(&self) -> Option<&str> {
        match self {
            Scope::ProductAtLocation { sku, .. } | Scope::Product { sku } => Some(sku),
            _ => None,
        }
    }

    fn location(&self) -> Option<&str> {
        match self {
            Scope::ProductAtLocation { location, .. } | Scope::Location { location } => {
                Some(location)
            }
            _ => None,
        }
    }
}

/// A stored rule of the product, location or default scope.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct Rule {
    pub sku: Option<String>,
    pub location: Option<String>,
    pub threshold: Decimal,
    pub updated_at: DateTime<Utc>,
}

/// Set the threshold of `scope` (`None` clears it: the scope inherits from the next one).
/// A SKU that names no live product or variant, an unknown location, or a product + location
/// without a stock level is refused, naming the field; nothing is written then.
pub async fn set(
    pool: &PgPool,
    org: OrgId,
    scope: &Scope,
    threshold: Option<Decimal>,
) -> Result<std::result::Result<(), ItemError>> {
    let mut tx = crate::begin(pool).await?;
    // The catalog writers' lock order: the head first, then the rows (a level's update moves
    // the change feed, and the rules' re-check reads levels other writers may be changing).
    feed::lock(&mut tx, org).await?;
    if let Some(sku) = scope.sku() {
        if !crate::catalog::sku_exists(&mut tx, org, sku).await? {
            return Ok(Err(ItemError::new(
                "sku",
                format!("no product or variant has SKU `{sku}`"),
            )));
        }
    }
    if let Some(location) = scope.location() {
        let known: bool = sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM inventory_locations WHERE org_id = $1 AND code = $2)",
        )
        .bind(org.0)
        .bind(location)
        .fetch_one(&mut *tx)
        .await?;
        if !known {
            return Ok(Err(ItemError::new(
                "location",
                format!("unknown location `{location}`"),
            )));
        }
    }
    match (scope, threshold) {
        (Scope::ProductAtLocation { sku, location }, t) => {
            let found = sqlx::query(
                "UPDATE inventory_levels SET low_stock_threshold = $4, updated_at = now()
                 WHERE org_id = $1 AND sku = $2 AND location = $3",
            )
            .bind(org.0)
            .bind(sku)
            .bind(location)
            .bind(t)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if found == 0 {
                return Ok(Err(ItemError::new(
                    "location",
                    format!("`{sku}` has no stock level at `{location}` (set its level first)"),
                )));
            }
        }
        (_, Some(t)) => {
            sqlx::query(
                "INSERT INTO low_stock_thresholds AS r (org_id, sku, location, threshold)
                 VALUES ($1, $2, $3, $4)
                 ON CONFLICT (org_id, sku, location) DO UPDATE
                     SET threshold = EXCLUDED.threshold, updated_at = now()
                 WHERE r.threshold IS DISTINCT FROM EXCLUDED.threshold",
            )
            .bind(org.0)
            .bind(scope.sku())
            .bind(scope.location())
            .bind(t)
            .execute(&mut *tx)
            .await?;
        }
        (_, None) => {
            sqlx::query(
                "DELETE FROM low_stock_thresholds WHERE org_id = $1
                 AND sku IS NOT DISTINCT FROM $2 AND location IS NOT DISTINCT FROM $3",
            )
            .bind(org.0)
            .bind(scope.sku())
            .bind(scope.location())
            .execute(&mut *tx)
            .await?;
        }
    }
    tx.commit().await?;
    Ok(Ok(()))
}

/// The organization's product, location and default rules: products first (by SKU), then
/// locations, then the default.
pub async fn rules(pool: &PgPool, org: OrgId) -> Result<Vec<Rule>> {
    Ok(sqlx::query_as(
        "SELECT sku, location, threshold, updated_at FROM low_stock_thresholds
         WHERE org_id = $1 ORDER BY sku NULLS LAST, location NULLS LAST",
    )
    .bind(org.0)
    .fetch_all(pool)
    .await?)
}

/// The threshold that applies to `sku` at `location` by precedence (0: no alert), and the
/// level's own (`None`: inherited).
pub async fn effective(
    pool: &PgPool,
    org: OrgId,
    sku: &str,
    location: &str,
) -> Result<Option<(Decimal, Option<Decimal>)>> {
    Ok(sqlx::query_as(
        "SELECT inventory_low_threshold(org_id, sku, location, low_stock_threshold),
                low_stock_threshold
         FROM inventory_levels WHERE org_id = $1 AND sku = $2 AND location = $3",
    )
    .bind(org.0)
    .bind(sku)
    .bind(location)
    .fetch_optional(pool)
    .await?)
}
