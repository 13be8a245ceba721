//! Deleting price data (`write:catalog`, as the upserts): `DELETE /pricing/{kind}` with
//! `{"items": [...]}`, up to 1,000 keys, for list prices, tiers, customers' tiers, customer
//! discounts, contracts and volume breaks. Each item names its row by the same key as its
//! `PUT` (a list price by price list, SKU and unit; a contract by contract id and SKU; the
//! others by their id). A bad key, or one naming no row of the caller's organization (another
//! organization's row is not found, and is never touched), is reported by index; the others
//! are deleted, in one statement. Each deletion moves the prices feed of the SKUs the row
//! priced (migrations/0013_price_sync_feed.sql), so the next price sync pushes what is left.

use crate::error::ApiError;
use crate::routes::pricing::FieldError;
use crate::routes::pricing_writes::{at, bulk_body, bulk_routes, check_size, decode, id, uom};
use crate::state::AppState;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::HashMap;
use switchyard_core::catalog::Uom;
use switchyard_core::ids::OrgId;
use switchyard_store::pricing::{self as store, PriceKeys};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(delete_list_prices))
        .routes(routes!(delete_tiers))
        .routes(routes!(delete_customer_tiers))
        .routes(routes!(delete_discounts))
        .routes(routes!(delete_contracts))
        .routes(routes!(delete_volume_breaks))
}

/// What a bulk delete did.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeleteResult {
    /// Rows deleted.
    pub deleted: usize,
    /// The items not deleted, by index: a bad key (with its field), or a key naming no row of
    /// this organization (`not found`).
    pub errors: Vec<FieldError>,
}

/// An item of a bulk delete: the key of one row.
trait DeleteItem: DeserializeOwned {
    type Key;
    /// What the row is called in a message.
    const NOUN: &'static str;
    /// The checked key, and how a message shows it.
    fn key(self) -> Result<(Self::Key, String), FieldError>;
    fn keys(keys: Vec<Self::Key>) -> PriceKeys;
}

async fn bulk_delete<T: DeleteItem>(
    app: &AppState,
    org: OrgId,
    items: Vec<Value>,
) -> Result<DeleteResult, ApiError> {
    check_size(&items)?;
    let mut errors = Vec::new();
    let mut first_of: HashMap<String, usize> = HashMap::new();
    // (index in the request, how the key shows)
    let mut asked: Vec<(usize, String)> = Vec::new();
    let mut keys = Vec::new();
    for (i, item) in items.into_iter().enumerate() {
        let (key, shown) = match decode::<T>(item).and_then(T::key) {
            Ok(k) => k,
            Err(e) => {
                errors.push(at(i, e));
                continue;
            }
        };
        if let Some(j) = first_of.get(&shown) {
            errors.push(at(
                i,
                FieldError::invalid("", format!("the same key as items[{j}] ({shown})")),
            ));
            continue;
        }
        first_of.insert(shown.clone(), i);
        asked.push((i, shown));
        keys.push(key);
    }
    let gone = store::delete_prices(&app.api.pool, org, &T::keys(keys)).await?;
    let mut deleted = 0;
    for ((i, shown), gone) in asked.into_iter().zip(gone) {
        if gone {
            deleted += 1;
        } else {
            errors.push(at(
                i,
                FieldError {
                    not_found: true,
                    ..FieldError::invalid("", format!("not found: no {} {shown}", T::NOUN))
                },
            ));
        }
    }
    errors.sort_by_key(|e| e.index);
    Ok(DeleteResult { deleted, errors })
}

bulk_body! {
    ListPriceKeysBody => ListPriceKey;
    TierKeysBody => TierKey;
    CustomerTierKeysBody => CustomerTierKey;
    DiscountKeysBody => DiscountKey;
    ContractKeysBody => ContractKey;
    VolumeBreakKeysBody => VolumeBreakKey;
}

/// A list price: its price list, product and unit.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ListPriceKey {
    #[schema(min_length = 1)]
    pub price_list_id: String,
    #[schema(min_length = 1)]
    pub sku: String,
    #[schema(pattern = r"^[A-Za-z0-9]{1,10}$")]
    pub uom: String,
}

impl DeleteItem for ListPriceKey {
    type Key = (String, String, Uom);
    const NOUN: &'static str = "list price";
    fn key(self) -> Result<(Self::Key, String), FieldError> {
        let list = id("priceListId", self.price_list_id)?;
        let sku = id("sku", self.sku)?;
        let u = uom("uom", &self.uom)?;
        let shown = format!("{list}/{sku}/{u}");
        Ok(((list, sku, u), shown))
    }
    fn keys(keys: Vec<Self::Key>) -> PriceKeys {
        PriceKeys::ListPrices(keys)
    }
}

/// Declares a key of one id field, and its [`DeleteItem`].
macro_rules! id_key {
    ($($(#[$doc:meta])* $name:ident { $field:ident: $json:literal } => $noun:literal, $variant:ident;)+) => {$(
        $(#[$doc])*
        #[derive(Debug, Deserialize, ToSchema)]
        #[serde(rename_all = "camelCase", deny_unknown_fields)]
        pub struct $name {
            #[schema(min_length = 1)]
            pub $field: String,
        }

        impl DeleteItem for $name {
            type Key = String;
            const NOUN: &'static str = $noun;
            fn key(self) -> Result<(String, String), FieldError> {
                let k = id($json, self.$field)?;
                Ok((k.clone(), k))
            }
            fn keys(keys: Vec<String>) -> PriceKeys {
                PriceKeys::$variant(keys)
            }
        }
    )+};
}

id_key! {
    /// A tier, by code. Its customers lose their assignment with it and pay what they would
    /// without a tier.
    TierKey { tier_code: "tierCode" } => "tier", Tiers;
    /// A customer's tier assignment, by customer.
    CustomerTierKey { customer_id: "customerId" } => "tier assignment of customer", CustomerTiers;
    /// A customer discount, by id.
    DiscountKey { discount_id: "discountId" } => "discount", Discounts;
    /// A volume break, by id.
    VolumeBreakKey { break_id: "breakId" } => "volume break", VolumeBreaks;
}

/// A contract's price of one product: the contract and the product.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ContractKey {
    #[schema(min_length = 1)]
    pub contract_id: String,
    #[schema(min_length = 1)]
    pub sku: String,
}

impl DeleteItem for ContractKey {
    type Key = (String, String);
    const NOUN: &'static str = "contract price";
    fn key(self) -> Result<(Self::Key, String), FieldError> {
        let contract = id("contractId", self.contract_id)?;
        let sku = id("sku", self.sku)?;
        let shown = format!("{contract}/{sku}");
        Ok(((contract, sku), shown))
    }
    fn keys(keys: Vec<Self::Key>) -> PriceKeys {
        PriceKeys::Contracts(keys)
    }
}

bulk_routes! {
    delete, bulk_delete -> DeleteResult,
    "deleted, with the items not deleted by index (a bad key, or not found)";
    /// Delete list prices (by price list, SKU and unit).
    delete_list_prices, "/pricing/list-prices", ListPriceKeysBody, ListPriceKey;
    /// Delete price tiers (by code); their customers' assignments go with them.
    delete_tiers, "/pricing/tiers", TierKeysBody, TierKey;
    /// Delete customers' tier assignments (by customer).
    delete_customer_tiers, "/pricing/customer-tiers", CustomerTierKeysBody, CustomerTierKey;
    /// Delete customer discounts (by id).
    delete_discounts, "/pricing/discounts", DiscountKeysBody, DiscountKey;
    /// Delete contract prices (by contract id and SKU).
    delete_contracts, "/pricing/contracts", ContractKeysBody, ContractKey;
    /// Delete volume breaks (by id).
    delete_volume_breaks, "/pricing/volume-breaks", VolumeBreakKeysBody, VolumeBreakKey;
}
