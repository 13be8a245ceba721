//! [`MagentoAdapter`]: the sync engine's documents (already mapped by `mappings/magento/*`)
//! written to Magento.
//!
//! Documents (`OutboundDocument::document` is the sync's entity):
//!
//! * `catalog`: `{"product": {"sku": ..., ...}}` → `PUT /V1/products/{sku}`, and on a 404
//!   `POST /V1/products` (create); straight to the POST for a SKU the sync never confirmed to
//!   the store ([`Presence::New`]); `{"disable": {"sku"}}` → a PUT of `status: 2` (a product
//!   Magento does not have needs no hiding); `{"delete": {"sku"}}` → `DELETE /V1/products/{sku}`
//!   (already gone is done). Which tombstone a partner gets is its tombstone mapping's choice.
//! * `inventory`: `{"sku", "quantity", "sources": [{"location", "quantity"}], "remove"?}` →
//!   MSI `POST /V1/inventory/source-items` per mapped source, or the legacy stock item with
//!   MSI off. `remove` zeroes every mapped source.
//! * `prices`: `{"sku", "prices": [{"currency", "price", "tiers"}], "group_prices": [...],
//!   "remove"?}` → `POST /V1/products/base-prices` and `PUT /V1/products/tier-prices` for a whole
//!   batch at once; Magento answers `[]` or per-item failures, each mapped back to its SKU (that
//!   item fails, the rest are confirmed). `remove` deletes the SKU's tier prices. A document with
//!   `special_prices` also has its dated special prices kept equal to them ([`crate::special`]).
//! * `shipment`: the canonical shipment of a `MAGENTO-{increment_id}` order →
//!   `POST /V1/order/{entity_id}/ship` with tracks ([`crate::shipments`]).
//! * `order_status`: `{"order_number", "action": cancel|hold|unhold|comment, "comment"?}` →
//!   `POST /V1/orders/{entity_id}/{action}` and `/comments` ([`crate::order_status`]).

use crate::client::{segment, Answer, Call, Client, Prefixed as _};
use crate::config::{settings, Settings};
use crate::errors::MagentoMessage;
use async_trait::async_trait;
use reqwest::Method;
use rust_decimal::Decimal;
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashMap};
use std::str::FromStr as _;
use switchyard_core::adapter::{
    Adapter, AdapterContext, BatchItem, Capability, ConfigError, OutboundDocument, Payload,
    Presence, PushReceipt, SecretResolver,
};
use switchyard_core::ids::PartnerName;
use switchyard_core::AdapterError;

pub const CAPABILITIES: [Capability; 5] = [
    Capability::HealthCheck,
    Capability::PushCatalog,
    Capability::PushInventory,
    Capability::PushPrices,
    Capability::PushShipments,
];

/// Magento's customer group code for "every group" in tier prices.
pub const ALL_GROUPS: &str = "ALL GROUPS";

/// One price document in Magento's shapes.
struct PriceRows {
    sku: String,
    /// None for a removal.
    base: Option<Value>,
    tiers: Vec<Value>,
    /// Some when the document manages the SKU's special prices ([`crate::special`]).
    special: Option<Vec<Value>>,
}

#[derive(Debug)]
pub struct MagentoAdapter {
    client: Client,
}

/// What kind of entity a document is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Entity {
    Catalog,
    Inventory,
    Prices,
    Shipment,
}

fn entity(document: &str) -> Option<Entity> {
    match Capability::push_for_document(document)? {
        Capability::PushCatalog => Some(Entity::Catalog),
        Capability::PushInventory => Some(Entity::Inventory),
        Capability::PushPrices => Some(Entity::Prices),
        Capability::PushShipments => Some(Entity::Shipment),
        _ => None,
    }
}

/// What a document writes to (its SKU, or its order), so writes of one thing keep their order.
fn write_target(doc: &OutboundDocument) -> Option<String> {
    let Payload::Json { body } = &doc.payload else {
        return None;
    };
    [
        "/product/sku",
        "/disable/sku",
        "/delete/sku",
        "/sku",
        "/order_number",
    ]
    .iter()
    .find_map(|p| body.pointer(p).and_then(Value::as_str))
    .map(str::to_owned)
}

fn body(doc: &OutboundDocument) -> Result<&Value, AdapterError> {
    match &doc.payload {
        Payload::Json { body } => Ok(body),
        Payload::Text { .. } => Err(AdapterError::permanent(
            "Magento takes JSON documents; this one is text",
        )),
    }
}

fn sku_at<'a>(v: &'a Value, path: &str) -> Result<&'a str, AdapterError> {
    v.pointer(path)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .ok_or_else(|| AdapterError::permanent(format!("the document has no `{path}` (the SKU)")))
}

fn decimal(v: &Value, what: &str) -> Result<Decimal, AdapterError> {
    match v {
        Value::String(s) => Decimal::from_str(s).ok(),
        Value::Number(n) => Decimal::from_str(&n.to_string()).ok(),
        _ => None,
    }
    .ok_or_else(|| AdapterError::permanent(format!("`{what}` is not a number: {v}")))
}

/// A decimal as the JSON number Magento's float fields take.
pub(crate) fn number(d: Decimal) -> Value {
    serde_json::Number::from_str(&d.normalize().to_string())
        .map(Value::Number)
        .unwrap_or(Value::Null)
}

fn receipt(answer: &Answer, external_id: Option<String>) -> PushReceipt {
    PushReceipt {
        status: answer.status,
        external_id,
        duplicate: false,
    }
}

impl MagentoAdapter {
    /// The batch's product upserts (updates of SKUs the store was sent by SKU, the others as
    /// creates), product tombstones (disable or delete by SKU) and MSI stock documents through
    /// the async bulk API; a document that cannot become an operation gets its error here, the
    /// rest their bulk outcome. Legacy stock and prices keep their own paths.
    async fn push_bulk(
        &self,
        ctx: &AdapterContext,
        items: &[BatchItem],
        results: &mut BTreeMap<usize, Result<PushReceipt, AdapterError>>,
    ) {
        use crate::bulk::IfMissing;
        // (write path, operation)
        let mut creates = Vec::new();
        let mut updates = Vec::new();
        let mut stock = Vec::new();
        let mut disables = Vec::new();
        let mut deletes = Vec::new();
        for (i, item) in items.iter().enumerate() {
            if results.contains_key(&i) {
                continue;
            }
            let Ok(b) = body(&item.doc) else { continue };
            let op = |sku: &str, payload: Value, if_missing: IfMissing| crate::bulk::Op {
                index: i,
                sku: sku.to_owned(),
                payload,
                if_missing,
            };
            let made = match entity(&item.doc.document) {
                // An update by SKU, its `{sku}` path parameter in the element (Magento's
                // `by{Param}` routes take path parameters from the body, so a SKU with `/`
                // needs no encoding).
                Some(Entity::Catalog)
                    if b.get("product").is_some() && item.presence == Presence::Sent =>
                {
                    self.product_payload(b).map(|(sku, mut payload)| {
                        payload["sku"] = json!(sku);
                        (&mut updates, op(&sku, payload, IfMissing::Create))
                    })
                }
                Some(Entity::Catalog) if b.get("product").is_some() => self
                    .product_payload(b)
                    .map(|(sku, payload)| (&mut creates, op(&sku, payload, IfMissing::Fail))),
                Some(Entity::Catalog) if b.get("disable").is_some() => {
                    sku_at(b, "/disable/sku").map(|sku| {
                        let payload = json!({"sku": sku, "product": {"sku": sku, "status": 2}, "saveOptions": true});
                        (&mut disables, op(sku, payload, IfMissing::Done))
                    })
                }
                Some(Entity::Catalog) if b.get("delete").is_some() => sku_at(b, "/delete/sku")
                    .map(|sku| (&mut deletes, op(sku, json!({ "sku": sku }), IfMissing::Done))),
                Some(Entity::Inventory) if self.settings().msi.enabled => sku_at(b, "/sku")
                    .and_then(|sku| {
                        let items = self.msi_items(sku, b)?;
                        Ok((
                            &mut stock,
                            op(sku, json!({ "sourceItems": items }), IfMissing::Fail),
                        ))
                    }),
                _ => continue,
            };
            match made {
                Ok((path, op)) => path.push(op),
                Err(e) => {
                    results.insert(i, Err(e));
                }
            }
        }
        // Updates first: those whose product the store no longer has join the creates.
        if !updates.is_empty() {
            let updated = self
                .bulk(ctx, (Method::PUT, "async/bulk/V1/products/bySku"), updates)
                .await;
            results.extend(updated.outcomes);
            creates.extend(
                updated
                    .missing
                    .into_iter()
                    .map(crate::bulk::Op::into_create),
            );
        }
        for (ops, method, route) in [
            (creates, Method::POST, "async/bulk/V1/products"),
            (stock, Method::POST, "async/bulk/V1/inventory/source-items"),
            (disables, Method::PUT, "async/bulk/V1/products/bySku"),
            (deletes, Method::DELETE, "async/bulk/V1/products/bySku"),
        ] {
            if !ops.is_empty() {
                // Only updates are sent again as creates: nothing else is `IfMissing::Create`.
                results.extend(self.bulk(ctx, (method, route), ops).await.outcomes);
            }
        }
    }

    pub fn from_json(
        partner: &PartnerName,
        config: &Value,
        secrets: &dyn SecretResolver,
        http: reqwest::Client,
    ) -> Result<Self, ConfigError> {
        let settings = settings(partner, config, secrets)?;
        Ok(Self::new(partner.clone(), settings, http))
    }

    pub fn new(partner: PartnerName, settings: Settings, http: reqwest::Client) -> Self {
        Self {
            client: Client::new(partner, settings, http),
        }
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    pub(crate) fn settings(&self) -> &Settings {
        self.client.settings()
    }

    /// A product upsert document's SKU and its `{"product", "saveOptions"}` payload.
    pub(crate) fn product_payload(&self, body: &Value) -> Result<(String, Value), AdapterError> {
        let sku = sku_at(body, "/product/sku")?.to_owned();
        let mut product = body["product"].clone();
        // Website assignment comes from the connection unless the mapping set one.
        if !self.settings().website_ids.is_empty()
            && product
                .pointer("/extension_attributes/website_ids")
                .is_none()
        {
            product["extension_attributes"]["website_ids"] = json!(self.settings().website_ids);
        }
        Ok((sku, json!({"product": product, "saveOptions": true})))
    }

    /// A catalog document by itself. An upsert of a SKU the store was sent ([`Presence::Sent`],
    /// or unknown: a single push) is a PUT, and on a 404 (deleted in the store since) a POST; one
    /// of a SKU never confirmed to the store ([`Presence::New`]) goes straight to the POST,
    /// saving the PUT's 404 (a POST of a SKU the store has after all updates it).
    async fn push_catalog(
        &self,
        ctx: &AdapterContext,
        body: &Value,
        presence: Presence,
    ) -> Result<PushReceipt, AdapterError> {
        if body.get("delete").is_some() {
            let sku = sku_at(body, "/delete/sku")?;
            let call = Call::new(
                "magento.product.delete",
                Method::DELETE,
                format!("V1/products/{}", segment(sku)),
            );
            return match self.client.send(ctx, call).await {
                Ok(a) => Ok(receipt(&a, None)),
                // Deleting what is already gone is done.
                Err(e) if e.status == Some(404) => Ok(PushReceipt {
                    status: 404,
                    external_id: None,
                    duplicate: true,
                }),
                Err(e) => Err(e.prefixed(&format!("deleting product {sku}"))),
            };
        }
        if body.get("disable").is_some() {
            let sku = sku_at(body, "/disable/sku")?;
            let product = json!({"product": {"sku": sku, "status": 2}, "saveOptions": true});
            let call = Call::new(
                "magento.product.disable",
                Method::PUT,
                format!("V1/products/{}", segment(sku)),
            )
            .body(product);
            return match self.client.send(ctx, call).await {
                Ok(a) => Ok(receipt(&a, a.body["id"].as_i64().map(|i| i.to_string()))),
                Err(e) if e.status == Some(404) => Ok(PushReceipt {
                    status: 404,
                    external_id: None,
                    duplicate: true,
                }),
                Err(e) => Err(e.prefixed(&format!("disabling product {sku}"))),
            };
        }
        let (sku, payload) = self.product_payload(body)?;
        let create = |payload| {
            Call::new("magento.product.create", Method::POST, "V1/products").body(payload)
        };
        if presence == Presence::New {
            let answer = self
                .client
                .send(ctx, create(payload))
                .await
                .map_err(|e| e.prefixed(&format!("creating product {sku}")))?;
            return Ok(receipt(
                &answer,
                answer.body["id"].as_i64().map(|i| i.to_string()),
            ));
        }
        let update = Call::new(
            "magento.product.update",
            Method::PUT,
            format!("V1/products/{}", segment(&sku)),
        )
        .body(payload.clone());
        let answer = match self.client.send(ctx, update).await {
            Ok(a) => a,
            // Magento answers an update of a SKU it does not have with 404: create it.
            Err(e) if e.status == Some(404) => self
                .client
                .send(ctx, create(payload))
                .await
                .map_err(|e| e.prefixed(&format!("creating product {sku}")))?,
            Err(e) => return Err(e.prefixed(&format!("updating product {sku}"))),
        };
        Ok(receipt(
            &answer,
            answer.body["id"].as_i64().map(|i| i.to_string()),
        ))
    }

    /// One document, `presence` saying whether the store was sent its item.
    async fn push_one(
        &self,
        ctx: &AdapterContext,
        doc: &OutboundDocument,
        presence: Presence,
    ) -> Result<PushReceipt, AdapterError> {
        let b = body(doc)?;
        if doc.document == crate::order_status::DOCUMENT {
            return self.push_order_status(ctx, b).await;
        }
        match entity(&doc.document) {
            Some(Entity::Catalog) => self.push_catalog(ctx, b, presence).await,
            Some(Entity::Inventory) => self.push_inventory(ctx, b).await,
            Some(Entity::Prices) => self
                .push_prices(ctx, &[doc])
                .await
                .pop()
                .unwrap_or_else(|| Err(AdapterError::permanent("no result"))),
            Some(Entity::Shipment) if doc.document == "shipment_tracking" => {
                self.push_tracking(ctx, b).await
            }
            Some(Entity::Shipment) => self.push_shipment(ctx, b).await,
            None => Err(AdapterError::permanent(format!(
                "the magento adapter cannot push a `{}` document (catalog, inventory, prices, shipment, order_status)",
                doc.document
            ))),
        }
    }

    /// An inventory document's MSI source items (every mapped source zeroed for `remove`).
    pub(crate) fn msi_items(&self, sku: &str, body: &Value) -> Result<Vec<Value>, AdapterError> {
        let msi = &self.settings().msi;
        let remove = body["remove"].as_bool().unwrap_or(false);
        let mut items = Vec::new();
        if remove {
            for source in msi.sources.values() {
                items.push(json!({"sku": sku, "source_code": source, "quantity": 0, "status": 0}));
            }
        } else {
            for (i, level) in body["sources"].as_array().into_iter().flatten().enumerate() {
                let location = level["location"].as_str().ok_or_else(|| {
                    AdapterError::permanent(format!("sources[{i}] has no `location`"))
                })?;
                let source = msi.sources.get(location).ok_or_else(|| {
                    AdapterError::permanent(format!(
                        "location `{location}` of {sku} has no MSI source: add it to `msi.sources` of the partner"
                    ))
                })?;
                let qty = decimal(&level["quantity"], &format!("sources[{i}].quantity"))?;
                items.push(
                    json!({"sku": sku, "source_code": source, "quantity": number(qty),
                                  "status": i32::from(qty > Decimal::ZERO)}),
                );
            }
        }
        if items.is_empty() {
            return Err(AdapterError::permanent(format!(
                "{sku}: no stock at any location to send (the document has no `sources`)"
            )));
        }
        Ok(items)
    }

    async fn push_inventory(
        &self,
        ctx: &AdapterContext,
        body: &Value,
    ) -> Result<PushReceipt, AdapterError> {
        let sku = sku_at(body, "/sku")?;
        let remove = body["remove"].as_bool().unwrap_or(false);
        let msi = &self.settings().msi;
        if !msi.enabled {
            let qty = if remove {
                Decimal::ZERO
            } else {
                decimal(&body["quantity"], "quantity")?
            };
            let call = Call::new(
                "magento.stock_item",
                Method::PUT,
                format!("V1/products/{}/stockItems/1", segment(sku)),
            )
            .body(json!({"stockItem": {"qty": number(qty), "is_in_stock": qty > Decimal::ZERO}}));
            let a = self
                .client
                .send(ctx, call)
                .await
                .map_err(|e| e.prefixed(&format!("stock of {sku}")))?;
            return Ok(receipt(&a, None));
        }
        let items = self.msi_items(sku, body)?;
        let call = Call::new(
            "magento.source_items",
            Method::POST,
            "V1/inventory/source-items",
        )
        .body(json!({"sourceItems": items}));
        let a = self
            .client
            .send(ctx, call)
            .await
            .map_err(|e| e.prefixed(&format!("stock of {sku}")))?;
        Ok(receipt(&a, None))
    }

    /// The base price and tier prices of one price document, in Magento's shapes.
    fn price_rows(&self, body: &Value) -> Result<PriceRows, AdapterError> {
        let sku = sku_at(body, "/sku")?.to_owned();
        if body["remove"].as_bool().unwrap_or(false) {
            // A removed product's special prices go with its tiers.
            return Ok(PriceRows {
                sku,
                base: None,
                tiers: Vec::new(),
                special: Some(Vec::new()),
            });
        }
        let currency = &self.settings().currency;
        let in_currency = |list: &Value| -> Vec<Value> {
            list.as_array()
                .into_iter()
                .flatten()
                .filter(|p| p["currency"].as_str() == Some(currency.as_str()))
                .cloned()
                .collect()
        };
        let visitor = in_currency(&body["prices"]);
        let Some(base) = visitor.first() else {
            return Err(AdapterError::permanent(format!(
                "{sku}: no {currency} price to send (the store's currency, `currency` of the partner)"
            )));
        };
        let base_row = json!({"sku": sku, "price": number(decimal(&base["price"], "prices[].price")?), "store_id": 0});
        let mut tiers = Vec::new();
        let mut tier = |group: &str, qty: Decimal, price: Decimal| {
            tiers.push(
                json!({"sku": sku, "customer_group": group, "quantity": number(qty),
                              "price": number(price), "price_type": "fixed", "website_id": 0}),
            );
        };
        for t in base["tiers"].as_array().into_iter().flatten() {
            tier(
                ALL_GROUPS,
                decimal(&t["min_quantity"], "tiers[].min_quantity")?,
                decimal(&t["price"], "tiers[].price")?,
            );
        }
        for g in in_currency(&body["group_prices"]) {
            let code = g["customer_group"].as_str().ok_or_else(|| {
                AdapterError::permanent(format!("{sku}: a group price has no `customer_group`"))
            })?;
            let group = self.settings().customer_group(code).to_owned();
            tier(
                &group,
                Decimal::ONE,
                decimal(&g["price"], "group_prices[].price")?,
            );
            for t in g["tiers"].as_array().into_iter().flatten() {
                tier(
                    &group,
                    decimal(&t["min_quantity"], "tiers[].min_quantity")?,
                    decimal(&t["price"], "tiers[].price")?,
                );
            }
        }
        let special = crate::special::rows(&sku, body, currency)?;
        Ok(PriceRows {
            sku,
            base: Some(base_row),
            tiers,
            special,
        })
    }

    /// Send one price call for many SKUs; record each per-item failure against its SKU. A
    /// failure naming no SKU of the call fails every SKU of it (never confirm what may have
    /// failed).
    async fn price_call(
        &self,
        ctx: &AdapterContext,
        (event, method, route): (&'static str, Method, &str),
        rows: Vec<Value>,
        skus: &[String],
        failed: &mut HashMap<String, AdapterError>,
    ) -> Option<u16> {
        if rows.is_empty() {
            return None;
        }
        let call = Call::new(event, method, route).body(json!({ "prices": rows }));
        match self.client.send(ctx, call).await {
            Err(e) => {
                for sku in skus {
                    failed
                        .entry(sku.clone())
                        .or_insert_with(|| e.clone().prefixed(event));
                }
                None
            }
            Ok(answer) => {
                for item in answer.body.as_array().into_iter().flatten() {
                    let m: MagentoMessage =
                        serde_json::from_value(item.clone()).unwrap_or_default();
                    let error = AdapterError::permanent(format!(
                        "Magento refused the {}: {}",
                        event.trim_start_matches("magento."),
                        m.describe()
                    ))
                    .with_status(answer.status);
                    match m.sku().filter(|s| skus.contains(s)) {
                        Some(sku) => {
                            failed.entry(sku).or_insert(error);
                        }
                        None => {
                            for sku in skus {
                                failed.entry(sku.clone()).or_insert_with(|| error.clone());
                            }
                        }
                    }
                }
                Some(answer.status)
            }
        }
    }

    /// Prices for a whole batch: one base-prices call and one tier-prices call (plus a
    /// lookup and delete for removed SKUs' tiers), per-item results from the answers.
    async fn push_prices(
        &self,
        ctx: &AdapterContext,
        docs: &[&OutboundDocument],
    ) -> Vec<Result<PushReceipt, AdapterError>> {
        let mut skus: Vec<Result<String, AdapterError>> = Vec::with_capacity(docs.len());
        let mut bases = Vec::new();
        let mut tiers = Vec::new();
        let mut priced = Vec::new();
        let mut removed = Vec::new();
        // SKU → the special price rows it must have (only SKUs whose document manages them).
        let mut specials: BTreeMap<String, Vec<Value>> = BTreeMap::new();
        for doc in docs {
            match body(doc).and_then(|b| self.price_rows(b)) {
                Ok(rows) => {
                    let sku = rows.sku;
                    match rows.base {
                        Some(b) => {
                            bases.push(b);
                            tiers.extend(rows.tiers);
                            priced.push(sku.clone());
                        }
                        None => removed.push(sku.clone()),
                    }
                    if let Some(special) = rows.special {
                        specials.insert(sku.clone(), special);
                    }
                    skus.push(Ok(sku));
                }
                Err(e) => skus.push(Err(e)),
            }
        }
        let mut failed: HashMap<String, AdapterError> = HashMap::new();
        let mut status = 200;
        if let Some(s) = self
            .price_call(
                ctx,
                (
                    "magento.base_prices",
                    Method::POST,
                    "V1/products/base-prices",
                ),
                bases,
                &priced,
                &mut failed,
            )
            .await
        {
            status = s;
        }
        // Tier prices replace the SKU's whole set (PUT), so a removed break goes away too.
        let tier_skus: Vec<String> = priced
            .iter()
            .filter(|s| !failed.contains_key(*s))
            .cloned()
            .collect();
        tiers.retain(|t| {
            t["sku"]
                .as_str()
                .is_some_and(|s| tier_skus.iter().any(|x| x == s))
        });
        self.price_call(
            ctx,
            (
                "magento.tier_prices",
                Method::PUT,
                "V1/products/tier-prices",
            ),
            tiers.clone(),
            &tier_skus,
            &mut failed,
        )
        .await;
        // A SKU that now has no tier price at all is not named by the replace call, so its
        // old tiers are deleted like a removed product's.
        let untiered: Vec<String> = tier_skus
            .iter()
            .filter(|s| !tiers.iter().any(|t| t["sku"].as_str() == Some(s.as_str())))
            .cloned()
            .collect();
        removed.extend(untiered);
        if !removed.is_empty() {
            self.remove_tiers(ctx, &removed, &mut failed).await;
        }
        specials.retain(|sku, _| !failed.contains_key(sku));
        if !specials.is_empty() {
            self.special_prices(ctx, specials, &mut failed).await;
        }
        skus.into_iter()
            .map(|sku| {
                let sku = sku?;
                match failed.remove(&sku) {
                    Some(e) => Err(e),
                    None => Ok(PushReceipt {
                        status,
                        external_id: None,
                        duplicate: false,
                    }),
                }
            })
            .collect()
    }

    /// Keep each SKU's special prices equal to `wanted`: read the store's, delete the ones we
    /// no longer send, add the missing ones (see [`crate::special`]).
    async fn special_prices(
        &self,
        ctx: &AdapterContext,
        wanted: BTreeMap<String, Vec<Value>>,
        failed: &mut HashMap<String, AdapterError>,
    ) {
        let skus: Vec<String> = wanted.keys().cloned().collect();
        let call = Call::new(
            "magento.special_prices_information",
            Method::POST,
            "V1/products/special-price-information",
        )
        .body(json!({ "skus": skus }));
        let existing = match self.client.send(ctx, call).await {
            Ok(a) => a.body.as_array().cloned().unwrap_or_default(),
            Err(e) => {
                for sku in &skus {
                    failed.insert(sku.clone(), e.clone().prefixed("special prices"));
                }
                return;
            }
        };
        let stale: Vec<Value> = existing
            .iter()
            .filter(|row| {
                let sku = row["sku"].as_str().unwrap_or_default();
                !wanted
                    .get(sku)
                    .is_some_and(|w| w.iter().any(|r| crate::special::same(r, row)))
            })
            .cloned()
            .collect();
        self.price_call(
            ctx,
            (
                "magento.special_prices_delete",
                Method::POST,
                "V1/products/special-price-delete",
            ),
            stale,
            &skus,
            failed,
        )
        .await;
        let add: Vec<Value> = wanted
            .values()
            .flatten()
            .filter(|r| {
                !failed.contains_key(r["sku"].as_str().unwrap_or_default())
                    && !existing.iter().any(|row| crate::special::same(r, row))
            })
            .cloned()
            .collect();
        let add_skus: Vec<String> = skus
            .iter()
            .filter(|s| !failed.contains_key(*s))
            .cloned()
            .collect();
        self.price_call(
            ctx,
            (
                "magento.special_prices",
                Method::POST,
                "V1/products/special-price",
            ),
            add,
            &add_skus,
            failed,
        )
        .await;
    }

    /// A removed product's tier prices: read them (`tier-prices-information`), delete them.
    async fn remove_tiers(
        &self,
        ctx: &AdapterContext,
        skus: &[String],
        failed: &mut HashMap<String, AdapterError>,
    ) {
        let call = Call::new(
            "magento.tier_prices_information",
            Method::POST,
            "V1/products/tier-prices-information",
        )
        .body(json!({"skus": skus}));
        match self.client.send(ctx, call).await {
            Err(e) => {
                for sku in skus {
                    failed.insert(sku.clone(), e.clone());
                }
            }
            Ok(a) => {
                let rows: Vec<Value> = a.body.as_array().cloned().unwrap_or_default();
                self.price_call(
                    ctx,
                    (
                        "magento.tier_prices_delete",
                        Method::POST,
                        "V1/products/tier-prices-delete",
                    ),
                    rows,
                    skus,
                    failed,
                )
                .await;
            }
        }
    }
}

#[async_trait]
impl Adapter for MagentoAdapter {
    fn kind(&self) -> &'static str {
        crate::config::KIND
    }

    fn capabilities(&self) -> &[Capability] {
        &CAPABILITIES
    }

    /// `GET /V1/store/storeConfigs`: answers only with valid credentials, cheap on any store.
    async fn health(&self, ctx: &AdapterContext) -> Result<(), AdapterError> {
        self.client
            .send(
                ctx,
                Call::new("magento.health", Method::GET, "V1/store/storeConfigs"),
            )
            .await
            .map(|_| ())
    }

    async fn push(
        &self,
        ctx: &AdapterContext,
        doc: &OutboundDocument,
    ) -> Result<PushReceipt, AdapterError> {
        // A single push knows nothing of the item: an update is tried first.
        self.push_one(ctx, doc, Presence::Sent).await
    }

    /// The connection's `concurrency`.
    fn batch_concurrency(&self) -> usize {
        self.settings().concurrency as usize
    }

    /// Prices go in one call per kind for the whole batch (Magento's price APIs take lists and
    /// answer per item); from `bulk_threshold` documents on, product upserts, tombstones and MSI
    /// stock through the async bulk API ([`crate::bulk`]), an upsert as an update by SKU when
    /// the item says the store was sent it ([`Presence::Sent`]); everything else one by one, [`Adapter::batch_concurrency`] at a time
    /// (`concurrency`), the writes of one SKU or order in order, one after the other.
    async fn push_batch(
        &self,
        ctx: &AdapterContext,
        items: &[BatchItem],
    ) -> Vec<Result<PushReceipt, AdapterError>> {
        use futures::StreamExt as _;
        let prices: Vec<usize> = (0..items.len())
            .filter(|&i| entity(&items[i].doc.document) == Some(Entity::Prices))
            .collect();
        let mut results: BTreeMap<usize, Result<PushReceipt, AdapterError>> = BTreeMap::new();
        if !prices.is_empty() {
            let docs: Vec<&OutboundDocument> = prices.iter().map(|&i| &items[i].doc).collect();
            let mut one = ctx.clone();
            one.idempotency_key = items[prices[0]].idempotency_key.clone();
            for (i, r) in prices.iter().zip(self.push_prices(&one, &docs).await) {
                results.insert(*i, r);
            }
        }
        if self.use_bulk(items.len()) {
            self.push_bulk(ctx, items, &mut results).await;
        }
        // The rest one by one, `concurrency` at a time; the writes of one SKU (or order) in
        // a chain, so two writes of the same thing never overtake each other.
        let mut chains: Vec<Vec<usize>> = Vec::new();
        let mut chain_of: HashMap<(String, String), usize> = HashMap::new();
        for i in (0..items.len()).filter(|i| !results.contains_key(i)) {
            match write_target(&items[i].doc) {
                Some(target) => {
                    let key = (items[i].doc.document.clone(), target);
                    let c = *chain_of.entry(key).or_insert_with(|| {
                        chains.push(Vec::new());
                        chains.len() - 1
                    });
                    chains[c].push(i);
                }
                None => chains.push(vec![i]),
            }
        }
        let others: Vec<Vec<(usize, Result<PushReceipt, AdapterError>)>> =
            futures::stream::iter(chains.into_iter().map(|chain| async move {
                let mut done = Vec::with_capacity(chain.len());
                for i in chain {
                    let mut one = ctx.clone();
                    one.idempotency_key = items[i].idempotency_key.clone();
                    done.push((
                        i,
                        self.push_one(&one, &items[i].doc, items[i].presence).await,
                    ));
                }
                done
            }))
            .buffer_unordered(self.batch_concurrency().max(1))
            .collect()
            .await;
        let others = others.into_iter().flatten();
        results.extend(others);
        results.into_values().collect()
    }
}
