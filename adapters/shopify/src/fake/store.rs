//! The fake shop's data: products with options, variants, metafields; inventory items and
//! their levels per location; the mutations' rules (`productSet` upsert and replace-set lists,
//! `productVariantsBulkUpdate` with partial updates, `inventorySetQuantities` with each
//! version's compare-and-swap), and the JSON each object reads as.

use crate::config::ApiVersion;
use serde_json::{json, Map, Value};
use std::collections::{BTreeMap, HashMap};

/// Shopify allows 2,048 variants per product.
pub const MAX_VARIANTS: usize = 2048;

#[derive(Debug, Clone, PartialEq)]
pub struct Metafield {
    pub id: u64,
    pub namespace: String,
    pub key: String,
    pub value: String,
    pub ty: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Variant {
    pub id: u64,
    pub sku: Option<String>,
    pub price: String,
    pub compare_at_price: Option<String>,
    pub barcode: Option<String>,
    pub options: Vec<(String, String)>,
    pub inventory_item: u64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Product {
    pub id: u64,
    pub handle: String,
    pub title: String,
    pub status: String,
    pub description_html: String,
    pub product_type: String,
    pub vendor: String,
    pub tags: Vec<String>,
    pub options: Vec<(String, Vec<String>)>,
    pub variants: Vec<Variant>,
    pub metafields: Vec<Metafield>,
    pub updated_at: String,
}

/// A `userErrors[]` entry.
pub fn user_error(field: &[&str], message: impl Into<String>, code: &str) -> Value {
    json!({"field": field, "message": message.into(), "code": code})
}

pub fn gid(kind: &str, id: u64) -> String {
    format!("gid://shopify/{kind}/{id}")
}

/// The number of a `gid://shopify/KIND/N`, when it is one of that kind.
pub fn parse_gid(kind: &str, gid: &str) -> Option<u64> {
    gid.strip_prefix("gid://shopify/")?
        .strip_prefix(kind)?
        .strip_prefix('/')?
        .parse()
        .ok()
}

#[derive(Debug, Default)]
pub struct Shop {
    next_id: u64,
    pub products: BTreeMap<u64, Product>,
    /// Inventory item → (product, variant).
    pub items: HashMap<u64, (u64, u64)>,
    /// (inventory item, location gid) → available.
    pub levels: HashMap<(u64, String), i64>,
    /// Location gid → name.
    pub locations: BTreeMap<String, String>,
    pub reasons: Vec<String>,
    pub orders: super::orders::Orders,
}

fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

fn slug(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars().flat_map(char::to_lowercase) {
        if c.is_ascii_alphanumeric() {
            out.push(c);
        } else if !out.ends_with('-') {
            out.push('-');
        }
    }
    out.trim_matches('-').to_owned()
}

fn text(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::String(s) => Some(s.clone()),
        Value::Null => None,
        other => Some(other.to_string()),
    }
}

impl Shop {
    pub fn new(locations: BTreeMap<String, String>, reasons: Vec<String>) -> Self {
        Self {
            next_id: 1000,
            locations,
            reasons,
            ..Self::default()
        }
    }

    fn id(&mut self) -> u64 {
        self.next_id += 1;
        self.next_id
    }

    fn find(&self, identifier: &Map<String, Value>) -> Result<Option<u64>, Value> {
        if let Some(id) = identifier.get("id").and_then(Value::as_str) {
            return match parse_gid("Product", id).filter(|n| self.products.contains_key(n)) {
                Some(n) => Ok(Some(n)),
                None => Err(user_error(
                    &["identifier", "id"],
                    "Product does not exist",
                    "PRODUCT_DOES_NOT_EXIST",
                )),
            };
        }
        if let Some(handle) = identifier.get("handle").and_then(Value::as_str) {
            return Ok(self
                .products
                .values()
                .find(|p| p.handle == handle)
                .map(|p| p.id));
        }
        if let Some(custom) = identifier.get("customId").and_then(Value::as_object) {
            let ns = custom
                .get("namespace")
                .and_then(Value::as_str)
                .unwrap_or("custom");
            let key = custom
                .get("key")
                .and_then(Value::as_str)
                .unwrap_or_default();
            let value = custom
                .get("value")
                .and_then(Value::as_str)
                .unwrap_or_default();
            return Ok(self
                .products
                .values()
                .find(|p| {
                    p.metafields
                        .iter()
                        .any(|m| m.namespace == ns && m.key == key && m.value == value)
                })
                .map(|p| p.id));
        }
        Err(user_error(
            &["identifier"],
            "An identifier must have one of id, handle or customId",
            "INVALID_INPUT",
        ))
    }

    /// `productSet`: an upsert by identifier; list fields given replace what is there.
    /// Returns the product id or the userErrors (nothing applied then).
    pub fn product_set(
        &mut self,
        input: &Map<String, Value>,
        identifier: Option<&Map<String, Value>>,
    ) -> Result<u64, Vec<Value>> {
        let existing = match identifier {
            Some(ident) => self.find(ident).map_err(|e| vec![e])?,
            None => match input.get("id").and_then(Value::as_str) {
                Some(id) => Some(
                    parse_gid("Product", id)
                        .filter(|n| self.products.contains_key(n))
                        .ok_or_else(|| {
                            vec![user_error(
                                &["input", "id"],
                                "Product does not exist",
                                "PRODUCT_DOES_NOT_EXIST",
                            )]
                        })?,
                ),
                None => None,
            },
        };
        let mut errors = Vec::new();
        let has_options = input.get("productOptions").is_some_and(|v| !v.is_null());
        let has_variants = input.get("variants").is_some_and(|v| !v.is_null());
        if has_options != has_variants {
            errors.push(user_error(
                &["input"],
                "productOptions and variants must be given together",
                "INVALID_INPUT",
            ));
        }
        let title = text(input.get("title"));
        if existing.is_none() && title.as_deref().is_none_or(|t| t.trim().is_empty()) {
            errors.push(user_error(
                &["input", "title"],
                "Title can't be blank",
                "BLANK",
            ));
        }
        let options: Option<Vec<(String, Vec<String>)>> = input
            .get("productOptions")
            .and_then(Value::as_array)
            .map(|opts| {
                opts.iter()
                    .map(|o| {
                        let name = text(o.get("name")).unwrap_or_default();
                        let values = o
                            .get("values")
                            .and_then(Value::as_array)
                            .map(|vs| vs.iter().filter_map(|v| text(v.get("name"))).collect())
                            .unwrap_or_default();
                        (name, values)
                    })
                    .collect()
            });
        let variants_in = input
            .get("variants")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        if variants_in.len() > MAX_VARIANTS {
            errors.push(user_error(
                &["input", "variants"],
                format!("Products can have at most {MAX_VARIANTS} variants"),
                "TOO_MANY_VARIANTS",
            ));
        }
        for (i, v) in variants_in.iter().enumerate() {
            let at = i.to_string();
            for ov in v
                .get("optionValues")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                let oname = text(ov.get("optionName")).unwrap_or_default();
                let vname = text(ov.get("name")).unwrap_or_default();
                let known = options.as_ref().is_some_and(|opts| {
                    opts.iter()
                        .any(|(n, vals)| *n == oname && vals.contains(&vname))
                });
                if !known {
                    errors.push(user_error(
                        &["input", "variants", &at, "optionValues"],
                        format!(
                            "Option value `{oname}: {vname}` is not one of the product's options"
                        ),
                        "OPTION_VALUE_DOES_NOT_EXIST",
                    ));
                }
            }
            if let Some(p) = text(v.get("price")) {
                if p.parse::<f64>().map_or(true, |n| n < 0.0) {
                    errors.push(user_error(
                        &["input", "variants", &at, "price"],
                        "Price must be greater than or equal to 0",
                        "INVALID_INPUT",
                    ));
                }
            }
            for q in v
                .get("inventoryQuantities")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                let loc = text(q.get("locationId")).unwrap_or_default();
                if !self.locations.contains_key(&loc) {
                    errors.push(user_error(
                        &["input", "variants", &at, "inventoryQuantities"],
                        format!("Location {loc} not found"),
                        "LOCATION_NOT_FOUND",
                    ));
                }
                let name = text(q.get("name")).unwrap_or_default();
                if name != "available" && name != "on_hand" {
                    errors.push(user_error(&["input", "variants", &at, "inventoryQuantities"], format!("`{name}` is not a quantity name this mutation sets (available, on_hand)"), "INVALID_QUANTITY_NAME"));
                }
            }
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        let id = match existing {
            Some(id) => id,
            None => {
                let id = self.id();
                let title = title.clone().unwrap_or_default();
                self.products.insert(
                    id,
                    Product {
                        id,
                        handle: slug(&title),
                        title,
                        status: "ACTIVE".into(),
                        description_html: String::new(),
                        product_type: String::new(),
                        vendor: String::new(),
                        tags: Vec::new(),
                        options: vec![("Title".into(), vec!["Default Title".into()])],
                        variants: Vec::new(),
                        metafields: Vec::new(),
                        updated_at: now(),
                    },
                );
                id
            }
        };
        let mut product = self.products.remove(&id).expect("product exists");
        if let Some(t) = title {
            product.title = t;
        }
        if let Some(h) = text(input.get("handle")) {
            product.handle = h;
        }
        if let Some(s) = text(input.get("status")) {
            product.status = s;
        }
        if let Some(d) = text(input.get("descriptionHtml")) {
            product.description_html = d;
        }
        if let Some(t) = text(input.get("productType")) {
            product.product_type = t;
        }
        if let Some(v) = text(input.get("vendor")) {
            product.vendor = v;
        }
        if let Some(tags) = input.get("tags").and_then(Value::as_array) {
            product.tags = tags.iter().filter_map(|t| text(Some(t))).collect();
        }
        if let Some(mfs) = input.get("metafields").and_then(Value::as_array) {
            let old = std::mem::take(&mut product.metafields);
            for m in mfs {
                let ns = text(m.get("namespace")).unwrap_or_else(|| "custom".into());
                let key = text(m.get("key")).unwrap_or_default();
                let value = text(m.get("value")).unwrap_or_default();
                let ty = text(m.get("type")).unwrap_or_else(|| "single_line_text_field".into());
                self.put_metafield(&mut product, &old, (ns, key, value, ty));
            }
            // The identifying metafield stays: it is how the next upsert finds the product.
            if let Some(custom) = identifier
                .and_then(|i| i.get("customId"))
                .and_then(Value::as_object)
            {
                self.keep_custom_id(&mut product, custom, &old);
            }
        } else if let Some(custom) = identifier
            .and_then(|i| i.get("customId"))
            .and_then(Value::as_object)
        {
            let old = product.metafields.clone();
            self.keep_custom_id(&mut product, custom, &old);
        }
        if let Some(options) = options {
            product.options = options;
            let old = std::mem::take(&mut product.variants);
            for v in &variants_in {
                let sku = text(v.get("sku"));
                let opts: Vec<(String, String)> = v
                    .get("optionValues")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .map(|ov| {
                        (
                            text(ov.get("optionName")).unwrap_or_default(),
                            text(ov.get("name")).unwrap_or_default(),
                        )
                    })
                    .collect();
                let given_id = text(v.get("id")).and_then(|g| parse_gid("ProductVariant", &g));
                let matched = old.iter().find(|o| {
                    Some(o.id) == given_id
                        || (sku.is_some() && o.sku == sku)
                        || (sku.is_none() && o.options == opts)
                });
                let (vid, item, prev_price, prev_cmp) = match matched {
                    Some(o) => (
                        o.id,
                        o.inventory_item,
                        Some(o.price.clone()),
                        o.compare_at_price.clone(),
                    ),
                    None => (self.id(), self.id(), None, None),
                };
                self.items.insert(item, (id, vid));
                for q in v
                    .get("inventoryQuantities")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                {
                    let loc = text(q.get("locationId")).unwrap_or_default();
                    let n = q.get("quantity").and_then(Value::as_i64).unwrap_or(0);
                    self.levels.insert((item, loc), n);
                }
                product.variants.push(Variant {
                    id: vid,
                    sku,
                    price: text(v.get("price"))
                        .or(prev_price)
                        .unwrap_or_else(|| "0.00".into()),
                    compare_at_price: if v.get("compareAtPrice").is_some() {
                        text(v.get("compareAtPrice"))
                    } else {
                        prev_cmp
                    },
                    barcode: text(v.get("barcode")),
                    options: opts,
                    inventory_item: item,
                });
            }
            // Replace-set: variants not given are deleted, with their inventory.
            for o in old
                .iter()
                .filter(|o| !product.variants.iter().any(|v| v.id == o.id))
            {
                self.items.remove(&o.inventory_item);
                self.levels.retain(|(item, _), _| *item != o.inventory_item);
            }
        }
        if product.variants.is_empty() {
            let (vid, item) = (self.id(), self.id());
            self.items.insert(item, (id, vid));
            product.variants.push(Variant {
                id: vid,
                sku: None,
                price: "0.00".into(),
                compare_at_price: None,
                barcode: None,
                options: vec![("Title".into(), "Default Title".into())],
                inventory_item: item,
            });
        }
        product.updated_at = now();
        self.products.insert(id, product);
        Ok(id)
    }

    fn keep_custom_id(
        &mut self,
        product: &mut Product,
        custom: &Map<String, Value>,
        old: &[Metafield],
    ) {
        let ns = text(custom.get("namespace")).unwrap_or_else(|| "custom".into());
        let key = text(custom.get("key")).unwrap_or_default();
        let value = text(custom.get("value")).unwrap_or_default();
        self.put_metafield(product, old, (ns, key, value, "id".into()));
    }

    /// Set `namespace.key` on `product`, keeping the id it had in `old` (a replaced list).
    fn put_metafield(
        &mut self,
        product: &mut Product,
        old: &[Metafield],
        (namespace, key, value, ty): (String, String, String, String),
    ) {
        product
            .metafields
            .retain(|m| !(m.namespace == namespace && m.key == key));
        let id = old
            .iter()
            .find(|m| m.namespace == namespace && m.key == key)
            .map_or_else(|| self.id(), |m| m.id);
        product.metafields.push(Metafield {
            id,
            namespace,
            key,
            value,
            ty,
        });
    }

    /// `productVariantsBulkUpdate`: the ids of the variants updated, and the userErrors (with
    /// `allowPartialUpdates` the valid ones are applied anyway).
    pub fn variants_bulk_update(
        &mut self,
        product_id: &str,
        variants: &[Value],
        partial: bool,
    ) -> (Option<u64>, Vec<u64>, Vec<Value>) {
        let Some(pid) = parse_gid("Product", product_id).filter(|n| self.products.contains_key(n))
        else {
            return (
                None,
                vec![],
                vec![user_error(
                    &["productId"],
                    "Product does not exist",
                    "PRODUCT_DOES_NOT_EXIST",
                )],
            );
        };
        let mut errors = Vec::new();
        let mut valid = Vec::new();
        let product = &self.products[&pid];
        for (i, v) in variants.iter().enumerate() {
            let at = i.to_string();
            let Some(vid) = text(v.get("id"))
                .and_then(|g| parse_gid("ProductVariant", &g))
                .filter(|vid| product.variants.iter().any(|pv| pv.id == *vid))
            else {
                errors.push(user_error(
                    &["variants", &at, "id"],
                    "Product variant does not exist",
                    "PRODUCT_VARIANT_DOES_NOT_EXIST",
                ));
                continue;
            };
            let bad_price = ["price", "compareAtPrice"].into_iter().find(|k| {
                text(v.get(*k)).is_some_and(|p| p.parse::<f64>().map_or(true, |n| n < 0.0))
            });
            if let Some(k) = bad_price {
                errors.push(user_error(
                    &["variants", &at, k],
                    "Price must be greater than or equal to 0",
                    "INVALID_INPUT",
                ));
                continue;
            }
            valid.push((vid, v.clone()));
        }
        if !errors.is_empty() && !partial {
            return (Some(pid), vec![], errors);
        }
        let product = self.products.get_mut(&pid).expect("checked");
        let mut updated = Vec::new();
        for (vid, v) in valid {
            let pv = product
                .variants
                .iter_mut()
                .find(|pv| pv.id == vid)
                .expect("checked");
            if let Some(p) = text(v.get("price")) {
                pv.price = p;
            }
            if v.get("compareAtPrice").is_some() {
                pv.compare_at_price = text(v.get("compareAtPrice"));
            }
            if v.get("barcode").is_some() {
                pv.barcode = text(v.get("barcode"));
            }
            updated.push(vid);
        }
        product.updated_at = now();
        (Some(pid), updated, errors)
    }

    /// `inventorySetQuantities`, all or nothing: the changes applied or the userErrors.
    pub fn set_quantities(
        &mut self,
        input: &Map<String, Value>,
        version: ApiVersion,
    ) -> Result<Vec<Value>, Vec<Value>> {
        let mut errors = Vec::new();
        let name = text(input.get("name")).unwrap_or_default();
        if name != "available" && name != "on_hand" {
            errors.push(user_error(
                &["input", "name"],
                format!("`{name}` is not a quantity name this mutation sets (available, on_hand)"),
                "INVALID_NAME",
            ));
        }
        let reason = text(input.get("reason")).unwrap_or_default();
        if !self.reasons.contains(&reason) {
            errors.push(user_error(
                &["input", "reason"],
                format!(
                    "`{reason}` is not a valid reason ({})",
                    self.reasons.join(", ")
                ),
                "INVALID_REASON",
            ));
        }
        let ignore_compare = input
            .get("ignoreCompareQuantity")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        let quantities = input
            .get("quantities")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let mut plan = Vec::new();
        for (i, q) in quantities.iter().enumerate() {
            let at = i.to_string();
            let field = |k: &'static str| -> Vec<String> {
                vec!["input".into(), "quantities".into(), at.clone(), k.into()]
            };
            let fv = |f: Vec<String>| -> Vec<Value> { f.into_iter().map(Value::from).collect() };
            let item = text(q.get("inventoryItemId"))
                .and_then(|g| parse_gid("InventoryItem", &g))
                .filter(|n| self.items.contains_key(n));
            let Some(item) = item else {
                errors.push(json!({"field": fv(field("inventoryItemId")), "message": "The specified inventory item could not be found.", "code": "INVALID_INVENTORY_ITEM"}));
                continue;
            };
            let loc = text(q.get("locationId")).unwrap_or_default();
            if !self.locations.contains_key(&loc) {
                errors.push(json!({"field": fv(field("locationId")), "message": "The specified location could not be found.", "code": "INVALID_LOCATION"}));
                continue;
            }
            let current = self.levels.get(&(item, loc.clone())).copied().unwrap_or(0);
            let wanted = q.get("quantity").and_then(Value::as_i64).unwrap_or(0);
            if version.idempotent_inventory() {
                match q.get("changeFromQuantity") {
                    None => {
                        errors.push(json!({"field": fv(field("changeFromQuantity")), "message": "changeFromQuantity is required: pass the quantity you expect, or null to skip the check.", "code": "CHANGE_FROM_QUANTITY_REQUIRED"}));
                        continue;
                    }
                    Some(Value::Null) => {}
                    Some(v) if v.as_i64() == Some(current) => {}
                    Some(_) => {
                        errors.push(json!({"field": fv(field("changeFromQuantity")), "message": "The changeFromQuantity doesn't match the current quantity.", "code": "CHANGE_FROM_QUANTITY_STALE"}));
                        continue;
                    }
                }
            } else if !ignore_compare {
                match q.get("compareQuantity").and_then(Value::as_i64) {
                    None => {
                        errors.push(json!({"field": fv(field("compareQuantity")), "message": "compareQuantity is required unless ignoreCompareQuantity is true.", "code": "COMPARE_QUANTITY_REQUIRED"}));
                        continue;
                    }
                    Some(c) if c == current => {}
                    Some(_) => {
                        errors.push(json!({"field": fv(field("compareQuantity")), "message": "The compareQuantity value does not match the current quantity.", "code": "COMPARE_QUANTITY_STALE"}));
                        continue;
                    }
                }
            }
            plan.push((item, loc, current, wanted));
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(plan
            .into_iter()
            .map(|(item, loc, current, wanted)| {
                self.levels.insert((item, loc.clone()), wanted);
                json!({"name": name, "delta": wanted - current, "quantityAfterChange": wanted,
                       "item": self.item_json(item), "location": self.location_json(&loc)})
            })
            .collect())
    }

    pub fn location_json(&self, gid: &str) -> Value {
        json!({"id": gid, "name": self.locations.get(gid).cloned().unwrap_or_default(), "isActive": true})
    }

    fn level_json(&self, item: u64, loc: &str) -> Value {
        let n = self
            .levels
            .get(&(item, loc.to_owned()))
            .copied()
            .unwrap_or(0);
        json!({"id": format!("gid://shopify/InventoryLevel/{item}?inventory_item_id={item}&location_id={loc}"),
               "location": self.location_json(loc),
               "quantities": {"__filter": {"arg": "names", "key": "name",
                   "items": [{"name": "available", "quantity": n}, {"name": "on_hand", "quantity": n}]}}})
    }

    pub fn item_json(&self, item: u64) -> Value {
        let sku = self.items.get(&item).and_then(|(p, v)| {
            self.products
                .get(p)?
                .variants
                .iter()
                .find(|x| x.id == *v)?
                .sku
                .clone()
        });
        let levels: Vec<Value> = self
            .locations
            .keys()
            .filter(|l| self.levels.contains_key(&(item, (*l).clone())))
            .map(|l| self.level_json(item, l))
            .collect();
        let keyed: Map<String, Value> = self
            .locations
            .keys()
            .map(|l| (l.clone(), self.level_json(item, l)))
            .collect();
        json!({"id": gid("InventoryItem", item), "sku": sku, "tracked": true,
               "inventoryLevel": {"__keyed": {"arg": "locationId", "map": keyed}},
               "inventoryLevels": {"__connection": levels}})
    }

    pub fn variant_json(&self, p: &Product, v: &Variant) -> Value {
        let title = v
            .options
            .iter()
            .map(|(_, val)| val.as_str())
            .collect::<Vec<_>>()
            .join(" / ");
        json!({"id": gid("ProductVariant", v.id), "sku": v.sku, "title": title, "price": v.price,
               "compareAtPrice": v.compare_at_price, "barcode": v.barcode,
               "selectedOptions": v.options.iter().map(|(n, val)| json!({"name": n, "value": val})).collect::<Vec<_>>(),
               "inventoryItem": self.item_json(v.inventory_item),
               "product": self.product_head(p)})
    }

    /// A product without its variants (what a variant's `product` reads as: no cycles).
    fn product_head(&self, p: &Product) -> Value {
        let mut keyed = Map::new();
        for m in &p.metafields {
            keyed.insert(format!("{}.{}", m.namespace, m.key), json!({"id": gid("Metafield", m.id), "namespace": m.namespace, "key": m.key, "value": m.value, "type": m.ty}));
        }
        json!({"id": gid("Product", p.id), "handle": p.handle, "title": p.title, "status": p.status,
               "descriptionHtml": p.description_html, "productType": p.product_type, "vendor": p.vendor,
               "tags": p.tags, "updatedAt": p.updated_at,
               "options": p.options.iter().enumerate().map(|(i, (n, vals))| json!({"id": gid("ProductOption", p.id * 10 + i as u64), "name": n, "values": vals})).collect::<Vec<_>>(),
               "metafields": {"__connection": p.metafields.iter().map(|m| json!({"id": gid("Metafield", m.id), "namespace": m.namespace, "key": m.key, "value": m.value, "type": m.ty})).collect::<Vec<_>>()},
               "metafield": {"__metafield": keyed}})
    }

    pub fn product_json(&self, p: &Product) -> Value {
        let mut head = self.product_head(p);
        head["variants"] = json!({"__connection": p.variants.iter().map(|v| self.variant_json(p, v)).collect::<Vec<_>>()});
        head
    }

    /// The variant with this SKU, with its product.
    /// The variant with `sku` deleted and made again (as a merchant can in the admin): same
    /// SKU, options and stock, a new id; the new id.
    pub fn recreate_variant(&mut self, sku: &str) -> Option<u64> {
        let fresh = self.id();
        let v = self
            .products
            .values_mut()
            .flat_map(|p| p.variants.iter_mut())
            .find(|v| v.sku.as_deref() == Some(sku))?;
        v.id = fresh;
        Some(fresh)
    }

    pub fn variant_by_sku(&self, sku: &str) -> Option<(&Product, &Variant)> {
        self.products.values().find_map(|p| {
            p.variants
                .iter()
                .find(|v| v.sku.as_deref() == Some(sku))
                .map(|v| (p, v))
        })
    }
}
