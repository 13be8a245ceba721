//! Prices out, batched: a page of the sync engine's `prices` documents (mapping
//! `shopify/price.out`) becomes
//!
//! * per product, one `productVariantsBulkUpdate(allowPartialUpdates: true)` with every
//!   variant's `price` / `compareAtPrice`;
//! * per configured B2B price list (`price_lists.groups` for `group_prices[].group`,
//!   `price_lists.customers` for `customer_prices[].customer`), one `priceListFixedPricesAdd`
//!   with the SKUs that have a price in the list's currency, and one
//!   `priceListFixedPricesDelete` with those that have none (a tier or contract that ended):
//!   each push states the whole wanted state, so nothing has to remember what was sent.
//!
//! A page of more than `bulk_threshold` SKUs sends its base prices as one bulk operation of
//! `productVariantsBulkUpdate` instead (a line per product, [`crate::bulk`]): each line's
//! answer is settled per SKU exactly as a call's is, and lines not confirmed are resumed as
//! the catalog's are. The price lists stay calls (one add and one delete per list and page,
//! already batched, so bulk would save a few calls, not one per SKU).
//!
//! Every call is split in halves while Shopify answers `MAX_COST_EXCEEDED` ([`crate::split`]).
//! Results are merged per SKU: a SKU is confirmed only when every call it took part in
//! answered it (its variant in `productVariants`, `prices` or `deletedFixedPriceVariantIds`);
//! a userError naming its entry (`field: ["prices", "3", …]`) is a permanent error of that SKU
//! alone (the engine's dead letter for it, the rest confirmed); an entry neither answered nor
//! named, or a call that failed as a whole, fails its SKUs with the call's class. Deleting a
//! fixed price that is not there (`VARIANT_NOT_FOUND`) is the wanted state, not an error.
//!
//! A list's currency is read once (`priceList(id:) { currency }`) and cached: an entry in
//! another currency is not the list's price (a store can have one list per currency).

use crate::adapter::{joined, user_errors, ShopifyAdapter, VariantRef};
use crate::bulk::{Line, LineResult};
use crate::client::CallError;
use crate::split::split_calls;
use crate::wire::UserError;
use rust_decimal::Decimal;
use serde_json::{json, Map, Value};
use std::collections::{BTreeMap, HashMap, HashSet};
use switchyard_core::adapter::{AdapterContext, BatchItem, PushReceipt};
use switchyard_core::error::AdapterError;

const VARIANTS_BULK_UPDATE: &str =
    "mutation PricesUpdate($productId: ID!, $variants: [ProductVariantsBulkInput!]!) {
  productVariantsBulkUpdate(productId: $productId, variants: $variants, allowPartialUpdates: true) {
    productVariants { id }
    userErrors { field message code }
  }
}";

/// The bulk line: the single path's mutation, plus the product's id so a result line names
/// the line it answers (`__lineNumber`'s base is not assumed; see [`crate::bulk`]).
const VARIANTS_BULK_UPDATE_LINE: &str =
    "mutation PricesUpdate($productId: ID!, $variants: [ProductVariantsBulkInput!]!) {
  productVariantsBulkUpdate(productId: $productId, variants: $variants, allowPartialUpdates: true) {
    product { id }
    productVariants { id }
    userErrors { field message code }
  }
}";

const FIXED_PRICES_ADD: &str =
    "mutation FixedPricesAdd($priceListId: ID!, $prices: [PriceListPriceInput!]!) {
  priceListFixedPricesAdd(priceListId: $priceListId, prices: $prices) {
    prices { variant { id } }
    userErrors { field message code }
  }
}";

const FIXED_PRICES_DELETE: &str =
    "mutation FixedPricesDelete($priceListId: ID!, $variantIds: [ID!]!) {
  priceListFixedPricesDelete(priceListId: $priceListId, variantIds: $variantIds) {
    deletedFixedPriceVariantIds
    userErrors { field message code }
  }
}";

const PRICE_LIST: &str = "query PriceList($id: ID!) { priceList(id: $id) { id currency } }";

/// One configured price list: where it comes from in config, its gid.
#[derive(Debug, Clone)]
struct ListRef {
    /// `groups.GOLD` / `customers.ACME`, for messages.
    key: String,
    gid: String,
    /// `group_prices` or `customer_prices`, and the entry field naming the tier/customer.
    source: (&'static str, &'static str),
    code: String,
}

/// Where one of an item's prices goes: the item's own SKU, or, for a product sold as variants
/// that are quantities of it ([`crate::variants`]), each such variant.
struct Target {
    sku: String,
    variant: VariantRef,
    /// The variant's units of the product's base unit (`None`: the item's own SKU).
    units: Option<Decimal>,
    /// Its `productVariantsBulkUpdate` fields (`price`, `compareAtPrice`) from the document.
    base: Map<String, Value>,
}

/// A SKU of the batch on its way: where its prices go, what failed first.
struct Pending {
    sku: String,
    targets: Vec<Target>,
    error: Option<AdapterError>,
}

impl Pending {
    fn fail(&mut self, e: AdapterError) {
        if self.error.is_none() {
            self.error = Some(e);
        }
    }

    /// The item's SKU, and the variant's when `variant` is one of its pieces.
    fn name(&self, variant: &str) -> String {
        match self
            .targets
            .iter()
            .find(|t| t.variant.variant == variant && t.units.is_some())
        {
            Some(t) => format!("{} (variant {})", self.sku, t.sku),
            None => self.sku.clone(),
        }
    }
}

/// The `price` / `compareAtPrice` of `body` that are there.
fn base_fields(body: &Map<String, Value>) -> Map<String, Value> {
    ["price", "compareAtPrice"]
        .into_iter()
        .filter_map(|k| body.get(k).map(|v| (k.to_owned(), v.clone())))
        .collect()
}

/// A list entry's price for `target`: as given for the item's own SKU; × units for a piece,
/// from the entry's exact `amount` when the mapping gave it (its `price` is already rounded).
fn list_price(entry: &Value, key: &str, target: &Target) -> Value {
    let Some(units) = target.units else {
        return entry[key].clone();
    };
    let exact = if key == "price" {
        entry.get("amount").and_then(crate::variants::decimal)
    } else {
        None
    };
    match exact.or_else(|| crate::variants::decimal(&entry[key])) {
        Some(amount) => Value::String(crate::variants::piece_price(amount, units)),
        None => entry[key].clone(),
    }
}

/// An entry's index in its call from a userError's `field` (`["prices", "3", "price"]`).
fn entry_index(e: &UserError, list_field: &str) -> Option<usize> {
    let f = e.field.as_ref()?;
    match f.as_slice() {
        [name, i, ..] if name == list_field => i.parse().ok(),
        _ => None,
    }
}

/// Merge one call's answer into its entries' SKUs. `entries` are (item index, variant gid);
/// `answered` the variant gids the answer confirms; `harmless` userError codes that leave the
/// wanted state (deleting what is not there).
fn settle(
    pending: &mut [Pending],
    what: &str,
    entries: &[(usize, String)],
    answer: Result<(HashSet<String>, Vec<UserError>), AdapterError>,
    list_field: &str,
    harmless: &[&str],
) {
    let (answered, errors) = match answer {
        Ok(a) => a,
        Err(e) => {
            for (i, _) in entries {
                pending[*i].fail(e.clone());
            }
            return;
        }
    };
    let mut named: HashMap<usize, Vec<UserError>> = HashMap::new();
    let mut general = Vec::new();
    for e in errors {
        match entry_index(&e, list_field).filter(|n| *n < entries.len()) {
            Some(n) => named.entry(n).or_default().push(e),
            None => general.push(e),
        }
    }
    for (n, (i, variant)) in entries.iter().enumerate() {
        let p = &mut pending[*i];
        if let Some(errs) = named.get(&n) {
            if errs
                .iter()
                .all(|e| e.code.as_deref().is_some_and(|c| harmless.contains(&c)))
            {
                continue;
            }
            p.fail(
                AdapterError::permanent(format!(
                    "Shopify refused {what} of {}: {}",
                    p.name(variant),
                    joined(errs)
                ))
                .with_status(200),
            );
        } else if !answered.contains(variant) {
            // Named by no userError and not answered: a refusal of the whole call, or an
            // answer that does not say. Never confirm it.
            let name = p.name(variant);
            let m = if general.is_empty() {
                format!("Shopify did not confirm {what} of {name}")
            } else {
                format!("Shopify refused {what} of {name}: {}", joined(&general))
            };
            p.fail(if general.is_empty() {
                AdapterError::transient(m)
            } else {
                AdapterError::permanent(m).with_status(200)
            });
        }
    }
}

fn ids(list: &Value, pick: impl Fn(&Value) -> Option<&str>) -> HashSet<String> {
    list.as_array()
        .into_iter()
        .flatten()
        .filter_map(|v| pick(v).map(str::to_owned))
        .collect()
}

impl ShopifyAdapter {
    fn configured_lists(&self) -> Vec<ListRef> {
        let pl = &self.config().price_lists;
        let groups = pl.groups.iter().map(|(code, gid)| ListRef {
            key: format!("groups.{code}"),
            gid: gid.clone(),
            source: ("group_prices", "group"),
            code: code.clone(),
        });
        let customers = pl.customers.iter().map(|(code, gid)| ListRef {
            key: format!("customers.{code}"),
            gid: gid.clone(),
            source: ("customer_prices", "customer"),
            code: code.clone(),
        });
        groups.chain(customers).collect()
    }

    /// The currency of price list `list` (read once).
    async fn list_currency(
        &self,
        ctx: &AdapterContext,
        list: &ListRef,
    ) -> Result<String, AdapterError> {
        if let Some(c) = self.price_list_currencies().get(&list.gid) {
            return Ok(c.clone());
        }
        let data = self
            .client()
            .call(ctx, "priceList", PRICE_LIST, json!({"id": list.gid}))
            .await
            .map_err(CallError::into_adapter)?;
        let currency = data["priceList"]["currency"]
            .as_str()
            .ok_or_else(|| {
                AdapterError::permanent(format!(
                    "price list {} (price_lists.{}) does not exist in the shop",
                    list.gid, list.key
                ))
            })?
            .to_owned();
        self.price_list_currencies()
            .insert(list.gid.clone(), currency.clone());
        Ok(currency)
    }

    /// Base prices, one call (split as needed) per product.
    async fn base_prices_by_call(
        &self,
        ctx: &AdapterContext,
        pending: &mut [Pending],
        by_product: BTreeMap<String, Vec<(usize, Value)>>,
    ) {
        for (product, entries) in by_product {
            let parts = split_calls(entries, |part: Vec<(usize, Value)>| {
                let variants: Vec<Value> = part.iter().map(|(_, v)| v.clone()).collect();
                let vars = json!({"productId": product, "variants": variants});
                async move {
                    self.client()
                        .call(ctx, "productVariantsBulkUpdate", VARIANTS_BULK_UPDATE, vars)
                        .await
                }
            })
            .await;
            for (part, answer) in parts {
                let entries: Vec<(usize, String)> = part
                    .iter()
                    .map(|(i, v)| (*i, v["id"].as_str().unwrap_or_default().to_owned()))
                    .collect();
                let answer = answer.map(|data| {
                    let payload = &data["productVariantsBulkUpdate"];
                    (
                        ids(&payload["productVariants"], |v| v["id"].as_str()),
                        user_errors(payload),
                    )
                });
                settle(pending, "the price", &entries, answer, "variants", &[]);
            }
        }
    }

    /// Base prices as one bulk operation of `productVariantsBulkUpdate`, a line per product
    /// (in gid order, so a retried page makes the same lines and can take the results of an
    /// operation an earlier attempt left running).
    async fn base_prices_in_bulk(
        &self,
        ctx: &AdapterContext,
        pending: &mut [Pending],
        by_product: BTreeMap<String, Vec<(usize, Value)>>,
    ) {
        let mut lines = Vec::with_capacity(by_product.len());
        let mut entries_of: Vec<Vec<(usize, String)>> = Vec::with_capacity(by_product.len());
        for (n, (product, entries)) in by_product.into_iter().enumerate() {
            // Named by its items' SKUs: a product sold as variants with units is one item
            // with several entries (its pieces), so entries are not SKUs of ours.
            let mut items: Vec<usize> = entries.iter().map(|(i, _)| *i).collect();
            items.dedup();
            let first = items.first().map_or("", |i| pending[*i].sku.as_str());
            let label = match items.len() {
                0 | 1 => first.to_owned(),
                more => format!("{first} and {} more SKUs", more - 1),
            };
            let variants: Vec<Value> = entries.iter().map(|(_, v)| v.clone()).collect();
            entries_of.push(
                entries
                    .iter()
                    .map(|(i, v)| (*i, v["id"].as_str().unwrap_or_default().to_owned()))
                    .collect(),
            );
            let vars = json!({"productId": product, "variants": variants});
            lines.push(Line::new(n, label, product, vars));
        }
        let results = self
            .run_bulk(ctx, VARIANTS_BULK_UPDATE_LINE, lines, entries_of.len())
            .await;
        for (entries, result) in entries_of.iter().zip(results) {
            let answer = match result {
                Some(Ok(LineResult::Variants { answered, errors })) => Ok((answered, errors)),
                Some(Ok(LineResult::Refused(m))) => Err(AdapterError::permanent(format!(
                    "Shopify refused the bulk line of the price: {m}"
                ))
                .with_status(200)),
                Some(Ok(LineResult::Confirmed(_))) => Err(AdapterError::transient(
                    "a bulk result of another mutation answered the price's line",
                )),
                Some(Err(e)) => Err(e),
                None => Err(AdapterError::transient("no bulk result for the price")),
            };
            settle(pending, "the price", entries, answer, "variants", &[]);
        }
    }

    /// Push a page of `prices` documents (see the module doc); one result per item.
    pub async fn push_prices(
        &self,
        ctx: &AdapterContext,
        items: &[BatchItem],
    ) -> Vec<Result<PushReceipt, AdapterError>> {
        let mut pending: Vec<Pending> = Vec::with_capacity(items.len());
        let mut bodies: Vec<Option<&Map<String, Value>>> = Vec::with_capacity(items.len());
        for item in items {
            let parsed = Self::body(&item.doc).and_then(|b| Ok((b, Self::sku(b)?)));
            match parsed {
                Ok((body, sku)) => {
                    let (targets, error) = match self.targets(ctx, &sku, body).await {
                        Ok(t) => (t, None),
                        Err(e) => (Vec::new(), Some(e)),
                    };
                    pending.push(Pending {
                        sku,
                        targets,
                        error,
                    });
                    bodies.push(Some(body));
                }
                Err(e) => {
                    pending.push(Pending {
                        sku: String::new(),
                        targets: Vec::new(),
                        error: Some(e),
                    });
                    bodies.push(None);
                }
            }
        }
        // Base prices, per product.
        let mut by_product: BTreeMap<String, Vec<(usize, Value)>> = BTreeMap::new();
        for (i, p) in pending.iter().enumerate() {
            for t in &p.targets {
                if t.base.is_empty() {
                    continue;
                }
                let mut input = Map::new();
                input.insert("id".into(), json!(t.variant.variant));
                input.extend(t.base.clone());
                by_product
                    .entry(t.variant.product.clone())
                    .or_default()
                    .push((i, Value::Object(input)));
            }
        }
        if items.len() > self.config().bulk_threshold as usize {
            self.base_prices_in_bulk(ctx, &mut pending, by_product)
                .await;
        } else {
            self.base_prices_by_call(ctx, &mut pending, by_product)
                .await;
        }
        // Price lists: every configured list gets each SKU's price in its currency, or loses
        // the SKU's fixed price.
        for list in self.configured_lists() {
            let currency = match self.list_currency(ctx, &list).await {
                Ok(c) => c,
                Err(e) => {
                    for p in pending.iter_mut().filter(|p| !p.targets.is_empty()) {
                        p.fail(e.clone());
                    }
                    continue;
                }
            };
            let mut adds: Vec<(usize, Value)> = Vec::new();
            let mut deletes: Vec<(usize, String)> = Vec::new();
            for (i, (p, body)) in pending.iter().zip(&bodies).enumerate() {
                let Some(body) = body else {
                    continue;
                };
                let (array, key) = list.source;
                let entry = body
                    .get(array)
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .find(|e| {
                        e[key].as_str() == Some(list.code.as_str())
                            && e["currency"].as_str() == Some(currency.as_str())
                    });
                for t in &p.targets {
                    match entry {
                        Some(e) => {
                            let mut input = json!({"variantId": t.variant.variant,
                                "price": {"amount": list_price(e, "price", t), "currencyCode": e["currency"]}});
                            if e.get("compareAtPrice").is_some_and(|c| !c.is_null()) {
                                input["compareAtPrice"] = json!({"amount": list_price(e, "compareAtPrice", t),
                                    "currencyCode": e["currency"]});
                            }
                            adds.push((i, input));
                        }
                        None => deletes.push((i, t.variant.variant.clone())),
                    }
                }
            }
            let what = format!("the price in price list {}", list.key);
            let parts = split_calls(adds, |part: Vec<(usize, Value)>| {
                let prices: Vec<Value> = part.iter().map(|(_, v)| v.clone()).collect();
                let vars = json!({"priceListId": list.gid, "prices": prices});
                async move {
                    self.client()
                        .call(ctx, "priceListFixedPricesAdd", FIXED_PRICES_ADD, vars)
                        .await
                }
            })
            .await;
            for (part, answer) in parts {
                let entries: Vec<(usize, String)> = part
                    .iter()
                    .map(|(i, v)| (*i, v["variantId"].as_str().unwrap_or_default().to_owned()))
                    .collect();
                let answer = answer.map(|data| {
                    let payload = &data["priceListFixedPricesAdd"];
                    (
                        ids(&payload["prices"], |p| p["variant"]["id"].as_str()),
                        user_errors(payload),
                    )
                });
                settle(&mut pending, &what, &entries, answer, "prices", &[]);
            }
            let what = format!("the removal from price list {}", list.key);
            let parts = split_calls(deletes, |part: Vec<(usize, String)>| {
                let variant_ids: Vec<&String> = part.iter().map(|(_, v)| v).collect();
                let vars = json!({"priceListId": list.gid, "variantIds": variant_ids});
                async move {
                    self.client()
                        .call(ctx, "priceListFixedPricesDelete", FIXED_PRICES_DELETE, vars)
                        .await
                }
            })
            .await;
            for (part, answer) in parts {
                let answer = answer.map(|data| {
                    let payload = &data["priceListFixedPricesDelete"];
                    (
                        ids(&payload["deletedFixedPriceVariantIds"], Value::as_str),
                        user_errors(payload),
                    )
                });
                settle(
                    &mut pending,
                    &what,
                    &part,
                    answer,
                    "variantIds",
                    &["VARIANT_NOT_FOUND"],
                );
            }
        }
        pending
            .into_iter()
            .map(|p| match p.error {
                Some(e) => Err(e),
                None => Ok(PushReceipt {
                    status: 200,
                    external_id: p.targets.into_iter().next().map(|t| t.variant.variant),
                    duplicate: false,
                }),
            })
            .collect()
    }

    /// Where a document's prices go: its own SKU's variant, or each variant of `variants`
    /// (with the `price` / `compareAtPrice` the mapping computed for it).
    async fn targets(
        &self,
        ctx: &AdapterContext,
        sku: &str,
        body: &Map<String, Value>,
    ) -> Result<Vec<Target>, AdapterError> {
        let Some(pieces) = crate::variants::pieces(sku, body)? else {
            return Ok(vec![Target {
                sku: sku.to_owned(),
                variant: self.variant(ctx, sku).await?,
                units: None,
                base: base_fields(body),
            }]);
        };
        let given = body
            .get("variants")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let mut targets = Vec::with_capacity(pieces.len());
        for (piece, doc) in pieces.into_iter().zip(given) {
            let variant = self
                .variant(ctx, &piece.sku)
                .await
                .map_err(|e| AdapterError {
                    message: format!("variant {} of {sku}: {}", piece.sku, e.message),
                    ..e
                })?;
            let base = doc.as_object().map(base_fields).unwrap_or_default();
            targets.push(Target {
                sku: piece.sku,
                variant,
                units: Some(piece.units),
                base,
            });
        }
        Ok(targets)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ue(field: &[&str], code: &str) -> UserError {
        UserError {
            field: Some(field.iter().map(|s| s.to_string()).collect()),
            message: "no".into(),
            code: Some(code.into()),
        }
    }

    fn pending(n: usize) -> Vec<Pending> {
        (0..n)
            .map(|i| Pending {
                sku: format!("S{i}"),
                targets: Vec::new(),
                error: None,
            })
            .collect()
    }

    #[test]
    fn settle_blames_the_named_entry_and_never_confirms_the_unanswered() {
        let mut p = pending(4);
        // Entries of the call are items 1, 2, 3 (item 0 is in another call).
        let entries = vec![(1, "v1".into()), (2, "v2".into()), (3, "v3".into())];
        let answered: HashSet<String> = ["v1".to_string()].into();
        let errors = vec![ue(
            &["prices", "1", "price", "currencyCode"],
            "PRICE_LIST_CURRENCY_MISMATCH",
        )];
        settle(&mut p, "x", &entries, Ok((answered, errors)), "prices", &[]);
        assert!(p[0].error.is_none() && p[1].error.is_none());
        let e2 = p[2].error.as_ref().unwrap();
        assert!(
            !e2.class.is_retryable()
                && e2.message.contains("S2")
                && e2.message.contains("MISMATCH")
        );
        // Not answered and not named: retried, never confirmed.
        assert!(p[3].error.as_ref().unwrap().class.is_retryable());
    }

    #[test]
    fn deleting_what_is_not_there_is_the_wanted_state() {
        let mut p = pending(2);
        let entries = vec![(0, "v0".into()), (1, "v1".into())];
        let errors = vec![ue(&["variantIds", "1"], "VARIANT_NOT_FOUND")];
        settle(
            &mut p,
            "x",
            &entries,
            Ok((["v0".to_string()].into(), errors)),
            "variantIds",
            &["VARIANT_NOT_FOUND"],
        );
        assert!(p.iter().all(|p| p.error.is_none()));
    }
}
