//! Low-stock thresholds by scope (`read:inventory` / `write:inventory`): one SKU at one
//! location (the level's own), one SKU everywhere, one location for every SKU, and the
//! organization's default. The most specific one set applies
//! (`switchyard_store::low_stock`); the `inventory.low` event and the stock's `low_stock`
//! status both use it. One PUT sets or clears any scope, so a client learns one shape.

use crate::auth::{ReadInventory, Scoped, WriteInventory};
use crate::error::{ApiError, ApiJson};
use crate::quantities;
use crate::responses::{BadRequest, UnprocessableEntity, UnsupportedMediaType};
use crate::schemas;
use crate::state::AppState;
use axum::extract::State;
use axum::Json;
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use switchyard_store::low_stock::{self as store, Scope};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list_low_stock_thresholds, put_low_stock_threshold))
}

fn scope_schema() -> utoipa::openapi::Object {
    schemas::one_of(&["product_location", "product", "location", "default"])
}

/// The threshold of one scope: `sku` and `location` both (that level's own), `sku` alone
/// (every location of the SKU), `location` alone (every SKU there) or neither (the default).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ThresholdInput {
    /// A product's or a variant's SKU (a variant does not inherit its product's rule).
    #[serde(default)]
    #[schema(schema_with = schemas::name_or_null, required = false)]
    pub sku: Option<String>,
    /// A location's code.
    #[serde(default)]
    #[schema(schema_with = schemas::name_or_null, required = false)]
    pub location: Option<String>,
    /// At or below it the stock is low (0: never); `null` clears the scope's own, which then
    /// inherits the next scope's.
    #[serde(deserialize_with = "quantities::optional_quantity")]
    #[schema(schema_with = quantities::optional_schema)]
    pub threshold: Option<Decimal>,
}

/// A threshold as set.
#[derive(Debug, Serialize, ToSchema)]
pub struct ThresholdView {
    #[schema(schema_with = scope_schema)]
    pub scope: &'static str,
    pub sku: Option<String>,
    pub location: Option<String>,
    /// Null: cleared (inherited).
    #[schema(value_type = Option<String>)]
    pub threshold: Option<Decimal>,
}

/// A product, location or default rule.
#[derive(Debug, Serialize, ToSchema)]
pub struct ThresholdRuleView {
    #[schema(schema_with = scope_schema)]
    pub scope: &'static str,
    pub sku: Option<String>,
    pub location: Option<String>,
    #[schema(value_type = String)]
    pub threshold: Decimal,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ThresholdRuleList {
    /// Product rules by SKU, then location rules, then the default.
    pub items: Vec<ThresholdRuleView>,
}

/// The product, location and default thresholds (a level's own is in its stock, as
/// `low_stock_threshold` when no rule is more specific).
#[utoipa::path(get, path = "/inventory/low-stock-thresholds", tag = "inventory",
    responses((status = 200, body = ThresholdRuleList)))]
async fn list_low_stock_thresholds(
    State(app): State<AppState>,
    Scoped(auth, _): Scoped<ReadInventory>,
) -> Result<Json<ThresholdRuleList>, ApiError> {
    let rules = store::rules(&app.api.pool, auth.org).await?;
    Ok(Json(ThresholdRuleList {
        items: rules
            .into_iter()
            .map(|r| ThresholdRuleView {
                scope: Scope::of(r.sku.clone(), r.location.clone()).as_str(),
                sku: r.sku,
                location: r.location,
                threshold: r.threshold,
                updated_at: r.updated_at,
            })
            .collect(),
    }))
}

/// Set or clear the low-stock threshold of one scope. Precedence, most specific first:
/// SKU at location, SKU, location, default; none set is 0 (no alert). Levels in the scope are
/// checked again at once: one already at or below a new threshold records `inventory.low`
/// (once, as for any crossing). An unknown SKU or location, or a SKU with no level at the
/// location, is a 422 naming the field.
#[utoipa::path(put, path = "/inventory/low-stock-thresholds", tag = "inventory",
    request_body = ThresholdInput,
    responses((status = 200, body = ThresholdView), (status = 400, response = BadRequest),
        (status = 415, response = UnsupportedMediaType), (status = 422, response = UnprocessableEntity)))]
async fn put_low_stock_threshold(
    State(app): State<AppState>,
    Scoped(auth, _): Scoped<WriteInventory>,
    ApiJson(input): ApiJson<ThresholdInput>,
) -> Result<Json<ThresholdView>, ApiError> {
    for (field, v) in [("sku", &input.sku), ("location", &input.location)] {
        if v.as_deref().is_some_and(|v| v.trim().is_empty()) {
            return Err(ApiError::validation(format!("{field}: must not be empty")));
        }
    }
    let scope = Scope::of(input.sku.clone(), input.location.clone());
    store::set(&app.api.pool, auth.org, &scope, input.threshold)
        .await?
        .map_err(|e| ApiError::validation(format!("{}: {}", e.field, e.message)))?;
    Ok(Json(ThresholdView {
        scope: scope.as_str(),
        sku: input.sku,
        location: input.location,
        threshold: input.threshold,
    }))
}
