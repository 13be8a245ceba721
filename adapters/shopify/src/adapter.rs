//! [`ShopifyAdapter`]: the sync engine's documents as Admin GraphQL mutations.
//!
//! * `catalog` (mapping `shopify/product.out`): `productSet` upserting by the `customId`
//!   metafield (our product SKU) or the handle; the variants' option values become the
//!   product's options; a tombstone (`{"sku", "status": "ARCHIVED"}`) archives the product.
//! * `prices` (`shopify/price.out`): batched in `src/prices.rs` — `productVariantsBulkUpdate`
//!   per product and B2B price lists, split while over the maximum cost, merged per SKU.
//! * `inventory` (`shopify/inventory.out`): `inventorySetQuantities` of `available` at every
//!   location given (our codes mapped to Shopify's in config), with the configured reason and
//!   `referenceDocumentUri` `gid://switchyard/Sync/{job}`. On 2026-04 the write carries
//!   `@idempotent(key:)` derived from the engine's write key (so a resumed run is answered from
//!   Shopify's store) and `changeFromQuantity` from the last quantity this adapter confirmed
//!   (null when it has none); on 2025-10 `compareQuantity` / `ignoreCompareQuantity`. A stale
//!   compare-and-swap re-reads the levels and retries once, then is a permanent error (the
//!   engine's dead letter).
//!
//! SKU → variant ids are learned from `productSet` answers and looked up
//! (`productVariants(query: "sku:…")`) when unknown; both caches live in memory (a restart
//! costs a lookup per SKU and one write without compare-and-swap).

use crate::client::{CallError, Client};
use crate::config::{ProductIdentifier, Validated};
use crate::wire::UserError;
use async_trait::async_trait;
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::Mutex;
use switchyard_core::adapter::{
    Adapter, AdapterContext, BatchItem, Capability, OutboundDocument, Payload, Presence,
    PushReceipt, VerifiedWebhook,
};
use switchyard_core::error::AdapterError;
use switchyard_core::ids::PartnerName;

// `variants(first: $n)` with n = the variants sent: Shopify charges a connection by what it
// may return, so asking for 250 would cost ~500 points per product instead of a few.
const PRODUCT_SET: &str = "mutation ProductSet($input: ProductSetInput!, $identifier: ProductSetIdentifiers, $n: Int!) {
  productSet(input: $input, identifier: $identifier, synchronous: true) {
    product { id handle variants(first: $n) { nodes { id sku inventoryItem { id } } pageInfo { hasNextPage endCursor } } }
    userErrors { field message code }
  }
}";

const PRODUCT_VARIANTS_PAGE: &str = "query ProductVariantsPage($id: ID!, $after: String) {
  product(id: $id) { variants(first: 250, after: $after) { nodes { id sku inventoryItem { id } } pageInfo { hasNextPage endCursor } } }
}";

const VARIANT_BY_SKU: &str = "query VariantBySku($q: String!) {
  productVariants(first: 2, query: $q) { nodes { id sku product { id } inventoryItem { id } } }
}";

const SET_QUANTITIES_2026: &str =
    "mutation SetQuantities($input: InventorySetQuantitiesInput!, $key: String!) {
  inventorySetQuantities(input: $input) @idempotent(key: $key) {
    inventoryAdjustmentGroup { id changes { name delta quantityAfterChange location { id } } }
    userErrors { field message code }
  }
}";

const SET_QUANTITIES_2025: &str = "mutation SetQuantities($input: InventorySetQuantitiesInput!) {
  inventorySetQuantities(input: $input) {
    inventoryAdjustmentGroup { id changes { name delta quantityAfterChange location { id } } }
    userErrors { field message code }
  }
}";

const LEVELS: &str = "query Levels($id: ID!) {
  inventoryItem(id: $id) { id inventoryLevels(first: 250) { nodes { location { id } quantities(names: [\"available\"]) { name quantity } } } }
}";

const SHOP: &str = "query Health { shop { name } }";

/// How many idempotency keys' variables are remembered (see `ShopifyAdapter::sent`).
const SENT_KEYS_KEPT: usize = 100_000;

/// One SKU an inventory write sets: the SKU named in errors, where it is in the shop, its
/// whole quantities per Shopify location gid.
type StockTarget = (String, VariantRef, Vec<(String, i64)>);

/// Where a SKU lives in the shop.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VariantRef {
    pub product: String,
    pub variant: String,
    pub inventory_item: String,
}

pub struct ShopifyAdapter {
    partner: PartnerName,
    cfg: Validated,
    client: Client,
    capabilities: Vec<Capability>,
    variants: Mutex<HashMap<String, VariantRef>>,
    /// (inventory item, location gid) → the last available quantity Shopify confirmed.
    confirmed: Mutex<HashMap<(String, String), i64>>,
    /// Shopify idempotency key → the variables first sent with it. A write sent again under
    /// its key (the engine retrying after its own failure) must carry the same variables, or
    /// Shopify answers IDEMPOTENCY_KEY_PARAMETER_MISMATCH instead of replaying it; without
    /// this the second send would compare from the quantity the first one confirmed.
    sent: Mutex<HashMap<String, Value>>,
    /// Price list gid → its currency (`src/prices.rs`).
    list_currencies: Mutex<HashMap<String, String>>,
    /// For the bulk path's staged upload and result file (not the GraphQL endpoint).
    http: reqwest::Client,
    bulk_store: crate::bulk_store::BulkStore,
    bulk_waiters: crate::bulk::BulkWaiters,
}

impl std::fmt::Debug for ShopifyAdapter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ShopifyAdapter")
            .field("partner", &self.partner)
            .field("cfg", &self.cfg)
            .finish_non_exhaustive()
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

pub(crate) fn user_errors(payload: &Value) -> Vec<UserError> {
    serde_json::from_value(payload.get("userErrors").cloned().unwrap_or(Value::Null))
        .unwrap_or_default()
}

pub(crate) fn joined(errors: &[UserError]) -> String {
    errors
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

/// A UUID-shaped idempotency key derived from the engine's write key (plus a salt for the
/// compare-and-swap retry, whose variables differ and so must not reuse the first key).
pub fn idempotency_key(write_key: &str, salt: &str) -> String {
    let digest = Sha256::digest(format!("{write_key}\u{0}{salt}").as_bytes());
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    uuid::Builder::from_random_bytes(bytes)
        .into_uuid()
        .to_string()
}

impl ShopifyAdapter {
    pub fn new(partner: PartnerName, cfg: Validated, http: reqwest::Client) -> Self {
        let client = Client::new(
            http.clone(),
            cfg.endpoint(),
            cfg.token.clone(),
            partner.clone(),
        );
        let mut capabilities = vec![
            Capability::PushCatalog,
            Capability::PushPrices,
            Capability::PushInventory,
            Capability::PushShipments,
            Capability::HealthCheck,
        ];
        if cfg.webhooks.is_some() {
            capabilities.push(Capability::ReceiveWebhooks);
        }
        Self {
            partner,
            cfg,
            client,
            capabilities,
            variants: Mutex::new(HashMap::new()),
            confirmed: Mutex::new(HashMap::new()),
            sent: Mutex::new(HashMap::new()),
            list_currencies: Mutex::new(HashMap::new()),
            http,
            bulk_store: crate::bulk_store::BulkStore::new(None),
            bulk_waiters: crate::bulk::BulkWaiters::default(),
        }
    }

    /// Remember in-flight bulk operations in this database (`shopify_bulk_operations`), so a
    /// process that crashed while one ran follows it rather than submitting a second.
    pub fn with_bulk_store(mut self, pool: sqlx::PgPool) -> Self {
        self.bulk_store = crate::bulk_store::BulkStore::new(Some(pool));
        self
    }

    pub fn partner(&self) -> &PartnerName {
        &self.partner
    }

    pub(crate) fn http(&self) -> &reqwest::Client {
        &self.http
    }

    pub(crate) fn bulk_store(&self) -> &crate::bulk_store::BulkStore {
        &self.bulk_store
    }

    /// Wakes a waiter when `bulk_operations/finish` arrives (the webhook processor calls it).
    pub fn bulk_waiters(&self) -> &crate::bulk::BulkWaiters {
        &self.bulk_waiters
    }

    pub(crate) fn price_list_currencies(
        &self,
    ) -> std::sync::MutexGuard<'_, HashMap<String, String>> {
        lock(&self.list_currencies)
    }

    pub fn config(&self) -> &Validated {
        &self.cfg
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    pub(crate) fn body(doc: &OutboundDocument) -> Result<&Map<String, Value>, AdapterError> {
        match &doc.payload {
            Payload::Json {
                body: Value::Object(map),
            } => Ok(map),
            _ => Err(AdapterError::permanent(format!(
                "a Shopify `{}` document must be a JSON object",
                doc.document
            ))),
        }
    }

    pub(crate) fn sku(body: &Map<String, Value>) -> Result<String, AdapterError> {
        body.get("sku")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .ok_or_else(|| AdapterError::permanent("the document has no `sku`"))
    }

    pub(crate) fn remember(&self, product: &str, nodes: &Value) {
        let mut cache = lock(&self.variants);
        for n in nodes.as_array().into_iter().flatten() {
            if let (Some(sku), Some(id), Some(item)) = (
                n["sku"].as_str(),
                n["id"].as_str(),
                n["inventoryItem"]["id"].as_str(),
            ) {
                cache.insert(
                    sku.to_owned(),
                    VariantRef {
                        product: product.to_owned(),
                        variant: id.to_owned(),
                        inventory_item: item.to_owned(),
                    },
                );
            }
        }
    }

    /// A catalog document as `productSet` variables: (SKU, the identity the product is found
    /// by, variables). Shared with the bulk path, whose lines are these variables.
    pub(crate) fn product_vars(
        &self,
        doc: &OutboundDocument,
    ) -> Result<(String, String, Value), AdapterError> {
        let body = Self::body(doc)?;
        let sku = Self::sku(body)?;
        let (identity, identifier) = match self.cfg.identifier {
            ProductIdentifier::CustomId => (
                sku.clone(),
                json!({"customId": {"namespace": self.cfg.custom_id_namespace, "key": self.cfg.custom_id_key, "value": sku}}),
            ),
            ProductIdentifier::Handle => {
                let handle = body.get("handle").and_then(Value::as_str).ok_or_else(|| {
                    AdapterError::permanent(
                        "product_identifier = \"handle\" needs a `handle` in the document",
                    )
                })?;
                (handle.to_owned(), json!({"handle": handle}))
            }
        };
        let input = product_input(body);
        let n = input["variants"]
            .as_array()
            .map_or(1, Vec::len)
            .clamp(1, 250);
        Ok((
            sku,
            identity,
            json!({"input": input, "identifier": identifier, "n": n}),
        ))
    }

    /// `{"sku", "title", …, "variants": [{"sku", "option", …}], "metafields"}` → productSet.
    async fn push_product(
        &self,
        ctx: &AdapterContext,
        doc: &OutboundDocument,
    ) -> Result<PushReceipt, AdapterError> {
        let (sku, _, vars) = self.product_vars(doc)?;
        let data = self
            .client
            .call(ctx, "productSet", PRODUCT_SET, vars)
            .await
            .map_err(CallError::into_adapter)?;
        let payload = &data["productSet"];
        let errors = user_errors(payload);
        if !errors.is_empty() {
            return Err(AdapterError::permanent(format!(
                "Shopify refused product {sku}: {}",
                joined(&errors)
            ))
            .with_status(200));
        }
        let product = payload["product"]["id"]
            .as_str()
            .ok_or_else(|| AdapterError::transient("productSet answered without a product"))?
            .to_owned();
        self.remember(&product, &payload["product"]["variants"]["nodes"]);
        // Products over 250 variants: the rest of the ids, page by page.
        let mut page = payload["product"]["variants"]["pageInfo"].clone();
        while page["hasNextPage"].as_bool() == Some(true) {
            let data = self
                .client
                .call(
                    ctx,
                    "productVariantsPage",
                    PRODUCT_VARIANTS_PAGE,
                    json!({"id": product, "after": page["endCursor"]}),
                )
                .await
                .map_err(CallError::into_adapter)?;
            self.remember(&product, &data["product"]["variants"]["nodes"]);
            page = data["product"]["variants"]["pageInfo"].clone();
        }
        Ok(PushReceipt {
            status: 200,
            external_id: Some(product),
            duplicate: false,
        })
    }

    pub(crate) async fn variant(
        &self,
        ctx: &AdapterContext,
        sku: &str,
    ) -> Result<VariantRef, AdapterError> {
        self.find_variant(ctx, sku)
            .await?
            .ok_or_else(|| AdapterError::permanent(crate::variants::not_in_shop(sku)))
    }

    /// The shop's one variant with `sku`, or `None` when it has none.
    async fn find_variant(
        &self,
        ctx: &AdapterContext,
        sku: &str,
    ) -> Result<Option<VariantRef>, AdapterError> {
        if let Some(v) = lock(&self.variants).get(sku) {
            return Ok(Some(v.clone()));
        }
        let q = format!("sku:\"{}\"", sku.replace('"', "\\\""));
        let data = self
            .client
            .call(ctx, "variantBySku", VARIANT_BY_SKU, json!({"q": q}))
            .await
            .map_err(CallError::into_adapter)?;
        let nodes = data["productVariants"]["nodes"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let exact: Vec<&Value> = nodes
            .iter()
            .filter(|n| n["sku"].as_str() == Some(sku))
            .collect();
        match exact.as_slice() {
            [n] => {
                let v = VariantRef {
                    product: n["product"]["id"].as_str().unwrap_or_default().to_owned(),
                    variant: n["id"].as_str().unwrap_or_default().to_owned(),
                    inventory_item: n["inventoryItem"]["id"]
                        .as_str()
                        .unwrap_or_default()
                        .to_owned(),
                };
                lock(&self.variants).insert(sku.to_owned(), v.clone());
                Ok(Some(v))
            }
            [] => Ok(None),
            _ => Err(AdapterError::permanent(format!(
                "several variants in the shop have SKU {sku}"
            ))),
        }
    }

    /// One `prices` document: the batch path (`src/prices.rs`) with one item.
    async fn push_price(
        &self,
        ctx: &AdapterContext,
        doc: &OutboundDocument,
    ) -> Result<PushReceipt, AdapterError> {
        let item = BatchItem {
            idempotency_key: ctx.idempotency_key.clone(),
            doc: doc.clone(),
            presence: Presence::New,
        };
        self.push_prices(ctx, std::slice::from_ref(&item))
            .await
            .pop()
            .unwrap_or_else(|| Err(AdapterError::permanent("no result for the price")))
    }

    /// The document's quantities per Shopify location: (location gid, whole units, the exact
    /// figure when the mapping gave one). `{"sku", "locations": [{"location": "CHI",
    /// "available": 5}]}`, or `{"sku", "available"}` for every configured location (a
    /// tombstone sends 0).
    fn wanted_quantities(
        &self,
        sku: &str,
        body: &Map<String, Value>,
    ) -> Result<Vec<(String, i64, Option<rust_decimal::Decimal>)>, AdapterError> {
        let mut wanted = Vec::new();
        match body.get("locations").and_then(Value::as_array) {
            Some(locations) => {
                for l in locations {
                    let code = l["location"].as_str().unwrap_or_default();
                    let gid = self.cfg.locations.get(code).ok_or_else(|| {
                        AdapterError::permanent(format!("location `{code}` of {sku} has no Shopify location in [partners.{}] locations", self.partner))
                    })?;
                    let n = l["available"].as_i64().ok_or_else(|| {
                        AdapterError::permanent(format!(
                            "locations[].available of {sku} must be a whole number"
                        ))
                    })?;
                    let exact = l.get("available_exact").and_then(crate::variants::decimal);
                    wanted.push((gid.clone(), n.max(0), exact));
                }
            }
            None => {
                let n = body
                    .get("available")
                    .and_then(Value::as_i64)
                    .ok_or_else(|| {
                        AdapterError::permanent(format!(
                            "{sku}: neither `locations` nor `available`"
                        ))
                    })?;
                wanted.extend(
                    self.cfg
                        .locations
                        .values()
                        .map(|g| (g.clone(), n.max(0), None)),
                );
            }
        }
        Ok(wanted)
    }

    /// An inventory document → one `inventorySetQuantities`: the SKU's own levels, or, for a
    /// product sold as variants that are quantities of it (`variants` in the document,
    /// [`crate::variants`]), each variant's whole pieces at every location, all in the one
    /// call (Shopify applies it all or nothing, so the item is confirmed only if every
    /// variant's write is).
    async fn push_inventory(
        &self,
        ctx: &AdapterContext,
        body: &Map<String, Value>,
    ) -> Result<PushReceipt, AdapterError> {
        let sku = Self::sku(body)?;
        let wanted = self.wanted_quantities(&sku, body)?;
        if wanted.is_empty() {
            return Ok(PushReceipt {
                status: 200,
                external_id: None,
                duplicate: false,
            });
        }
        let mut targets: Vec<StockTarget> = Vec::new();
        match crate::variants::pieces(&sku, body)? {
            None => {
                // A tombstone (`available` 0 everywhere, no per-location list) of a SKU the
                // shop has no variant for, e.g. a removed product sold as variants with units
                // (its catalog tombstone archived it): the shop holds no stock of that SKU,
                // so zero is already true there. Anything else for such a SKU is refused.
                let zeroing =
                    !body.contains_key("locations") && wanted.iter().all(|(_, n, _)| *n == 0);
                let v = match self.find_variant(ctx, &sku).await? {
                    Some(v) => v,
                    None if zeroing => {
                        return Ok(PushReceipt {
                            status: 200,
                            external_id: None,
                            duplicate: true,
                        })
                    }
                    None => {
                        return Err(AdapterError::permanent(crate::variants::not_in_shop(&sku)))
                    }
                };
                let whole = wanted.into_iter().map(|(g, n, _)| (g, n)).collect();
                targets.push((sku.clone(), v, whole));
            }
            Some(pieces) => {
                for p in pieces {
                    let v = self.variant(ctx, &p.sku).await.map_err(|e| AdapterError {
                        message: format!("variant {} of {sku}: {}", p.sku, e.message),
                        ..e
                    })?;
                    let per_location = wanted
                        .iter()
                        .map(|(g, n, exact)| {
                            let have = exact.unwrap_or_else(|| rust_decimal::Decimal::from(*n));
                            (g.clone(), crate::variants::pieces_available(have, p.units))
                        })
                        .collect();
                    targets.push((p.sku, v, per_location));
                }
            }
        }
        // One entry per (inventory item, location), and the SKU it is for.
        let entries: Vec<(&str, &str, &str, i64)> = targets
            .iter()
            .flat_map(|(label, v, per)| {
                per.iter().map(move |(loc, n)| {
                    (label.as_str(), v.inventory_item.as_str(), loc.as_str(), *n)
                })
            })
            .collect();
        let reference = format!(
            "gid://switchyard/Sync/{}",
            ctx.job
                .map(|j| j.to_string())
                .unwrap_or_else(|| ctx.correlation_id.clone())
        );
        let mut attempt = 0;
        loop {
            let known: Vec<Option<i64>> = {
                let c = lock(&self.confirmed);
                entries
                    .iter()
                    .map(|(_, item, loc, _)| c.get(&(item.to_string(), loc.to_string())).copied())
                    .collect()
            };
            let new_api = self.cfg.version.idempotent_inventory();
            let quantities: Vec<Value> = entries
                .iter()
                .zip(&known)
                .map(|((_, item, loc, n), k)| {
                    let mut q = json!({"inventoryItemId": item, "locationId": loc, "quantity": n});
                    if new_api {
                        q["changeFromQuantity"] = json!(k);
                    } else if let Some(k) = k {
                        q["compareQuantity"] = json!(k);
                    }
                    q
                })
                .collect();
            let mut input = json!({"name": "available", "reason": self.cfg.inventory_reason, "referenceDocumentUri": reference, "quantities": quantities});
            let (query, vars) = if new_api {
                let salt = if attempt == 0 {
                    String::new()
                } else {
                    format!(
                        "cas-retry:{}",
                        serde_json::to_string(&known).unwrap_or_default()
                    )
                };
                let key = idempotency_key(&ctx.idempotency_key, &salt);
                let mut sent = lock(&self.sent);
                if sent.len() >= SENT_KEYS_KEPT {
                    // Bounded memory; a key older than this many writes is past retrying.
                    sent.clear();
                }
                let vars = sent
                    .entry(key.clone())
                    .or_insert_with(|| json!({"input": input, "key": key}))
                    .clone();
                (SET_QUANTITIES_2026, vars)
            } else {
                input["ignoreCompareQuantity"] = json!(known.iter().any(Option::is_none));
                (SET_QUANTITIES_2025, json!({"input": input}))
            };
            let data = self
                .client
                .call(ctx, "inventorySetQuantities", query, vars)
                .await
                .map_err(CallError::into_adapter)?;
            let errors = user_errors(&data["inventorySetQuantities"]);
            if errors.is_empty() {
                let mut c = lock(&self.confirmed);
                for (_, item, loc, n) in &entries {
                    c.insert((item.to_string(), loc.to_string()), *n);
                }
                return Ok(PushReceipt {
                    status: 200,
                    external_id: targets.first().map(|(_, v, _)| v.inventory_item.clone()),
                    duplicate: false,
                });
            }
            let stale = errors.iter().all(|e| {
                matches!(
                    e.code.as_deref(),
                    Some("CHANGE_FROM_QUANTITY_STALE" | "COMPARE_QUANTITY_STALE")
                )
            });
            if stale && attempt == 0 {
                tracing::info!(
                    sku,
                    "stock changed in Shopify since our last write; re-reading and retrying once"
                );
                for (_, v, _) in &targets {
                    self.reread(ctx, &v.inventory_item).await?;
                }
                attempt += 1;
                continue;
            }
            return Err(AdapterError::permanent(format!(
                "Shopify refused the stock of {sku}: {}",
                quantity_errors(&errors, &entries)
            ))
            .with_status(200));
        }
    }

    /// Read an item's available quantities into the confirmed map.
    async fn reread(&self, ctx: &AdapterContext, item: &str) -> Result<(), AdapterError> {
        let data = self
            .client
            .call(ctx, "inventoryLevels", LEVELS, json!({"id": item}))
            .await
            .map_err(CallError::into_adapter)?;
        let mut c = lock(&self.confirmed);
        for level in data["inventoryItem"]["inventoryLevels"]["nodes"]
            .as_array()
            .into_iter()
            .flatten()
        {
            let loc = level["location"]["id"]
                .as_str()
                .unwrap_or_default()
                .to_owned();
            let n = level["quantities"]
                .as_array()
                .into_iter()
                .flatten()
                .find(|q| q["name"] == "available")
                .and_then(|q| q["quantity"].as_i64());
            if let Some(n) = n {
                c.insert((item.to_owned(), loc), n);
            }
        }
        Ok(())
    }
}

/// `inventorySetQuantities` userErrors, each naming the SKU its entry was for
/// (`field: ["input", "quantities", "3", …]`), so a refused variant of a product is named.
fn quantity_errors(errors: &[UserError], entries: &[(&str, &str, &str, i64)]) -> String {
    errors
        .iter()
        .map(|e| {
            let index = match e.field.as_deref() {
                Some([_, list, i, ..]) if list == "quantities" => i.parse::<usize>().ok(),
                _ => None,
            };
            match index.and_then(|i| entries.get(i)) {
                Some((sku, ..)) => format!("{sku}: {e}"),
                None => e.to_string(),
            }
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// The mapped product document as `ProductSetInput`: everything but `sku` passes through;
/// the variants' `option` values become one product option (`option_name`, "Title" by
/// default) because a mapping cannot collect distinct values across variants. Without
/// variants the product's own SKU is its one variant.
pub fn product_input(body: &Map<String, Value>) -> Value {
    let mut input = body.clone();
    let sku = input.remove("sku");
    let option_name = input
        .remove("option_name")
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_else(|| "Title".into());
    let Some(variants) = input.remove("variants") else {
        // A tombstone or a partial document: lists left out stay as they are in Shopify.
        return Value::Object(input);
    };
    let mut variants: Vec<Value> = variants.as_array().cloned().unwrap_or_default();
    if variants.is_empty() {
        variants.push(json!({"sku": sku, "option": "Default Title"}));
    }
    let mut values: Vec<String> = Vec::new();
    for (i, v) in variants.iter_mut().enumerate() {
        let option = v
            .as_object_mut()
            .and_then(|o| o.remove("option"))
            .and_then(|o| o.as_str().map(str::to_owned));
        let option = option
            .or_else(|| v["sku"].as_str().map(str::to_owned))
            .unwrap_or_else(|| format!("Variant {}", i + 1));
        // Two variants with one option value would be one variant to Shopify.
        let mut name = option.clone();
        let mut n = 2;
        while values.contains(&name) {
            name = format!("{option} ({n})");
            n += 1;
        }
        values.push(name.clone());
        v["optionValues"] = json!([{"optionName": option_name, "name": name}]);
    }
    input.insert("productOptions".into(), json!([{"name": option_name, "values": values.iter().map(|v| json!({"name": v})).collect::<Vec<_>>()}]));
    input.insert("variants".into(), Value::Array(variants));
    Value::Object(input)
}

#[async_trait]
impl Adapter for ShopifyAdapter {
    fn kind(&self) -> &'static str {
        crate::config::KIND
    }

    fn capabilities(&self) -> &[Capability] {
        &self.capabilities
    }

    async fn health(&self, ctx: &AdapterContext) -> Result<(), AdapterError> {
        self.client
            .call(ctx, "health", SHOP, json!({}))
            .await
            .map_err(CallError::into_adapter)?;
        Ok(())
    }

    async fn push(
        &self,
        ctx: &AdapterContext,
        doc: &OutboundDocument,
    ) -> Result<PushReceipt, AdapterError> {
        let body = Self::body(doc)?;
        match doc.document.as_str() {
            "catalog" | "product" | "products" => self.push_product(ctx, doc).await,
            "prices" | "price" => self.push_price(ctx, doc).await,
            "inventory" | "stock" => self.push_inventory(ctx, body).await,
            "shipment" => self.push_shipment(ctx, body).await,
            "shipment_tracking" => self.push_tracking(ctx, body).await,
            other => Err(AdapterError::permanent(format!("the shopify adapter does not push `{other}` documents (catalog, prices, inventory, shipment, shipment_tracking)"))),
        }
    }

    /// A page of `prices` documents goes out batched (one call per product and price list,
    /// split while over Shopify's maximum cost, or the products' prices as one bulk operation
    /// above `bulk_threshold`; `src/prices.rs`); a catalog batch of more than
    /// `bulk_threshold` products goes as bulk operations ([`crate::bulk`]); anything else one
    /// document at a time, as the default does.
    async fn push_batch(
        &self,
        ctx: &AdapterContext,
        items: &[BatchItem],
    ) -> Vec<Result<PushReceipt, AdapterError>> {
        if !items.is_empty()
            && items
                .iter()
                .all(|i| matches!(i.doc.document.as_str(), "prices" | "price"))
        {
            return self.push_prices(ctx, items).await;
        }
        if self.use_bulk(items) {
            return self.push_bulk(ctx, items).await;
        }
        use futures::future::BoxFuture;
        use futures::StreamExt as _;
        // Boxed like the trait's default: an `async` closure over the items is not general
        // enough over their lifetimes inside `async_trait`.
        let mut pushes: Vec<BoxFuture<'_, Result<PushReceipt, AdapterError>>> =
            Vec::with_capacity(items.len());
        for item in items {
            let mut one = ctx.clone();
            one.idempotency_key = item.idempotency_key.clone();
            pushes.push(Box::pin(async move { self.push(&one, &item.doc).await }));
        }
        futures::stream::iter(pushes)
            .buffered(self.batch_concurrency().max(1))
            .collect()
            .await
    }

    async fn receive_webhook(
        &self,
        _ctx: &AdapterContext,
        headers: &[(String, String)],
        body: &[u8],
    ) -> Result<VerifiedWebhook, AdapterError> {
        let keys = self.cfg.webhooks.as_ref().ok_or_else(|| {
            AdapterError::permanent(format!(
                "partner `{}` has no [webhooks] secret",
                self.partner
            ))
        })?;
        crate::webhook::verify(keys, headers, body, chrono::Utc::now())
    }
}
