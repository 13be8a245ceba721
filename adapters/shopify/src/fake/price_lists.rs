//! B2B price lists in the fake: lists with a currency (made by tests with
//! [`super::FakeShopify::create_price_list`]), `priceList(id:)`, and the fixed prices that
//! `priceListFixedPricesAdd` / `priceListFixedPricesDelete` set and remove.
//!
//! Refused as Shopify refuses ([V] `PriceListPriceUserErrorCode`): an unknown price list
//! (`PRICE_LIST_NOT_FOUND`, the whole call), an unknown variant (`VARIANT_NOT_FOUND`), a price
//! or compare-at price in another currency than the list's (`PRICE_LIST_CURRENCY_MISMATCH`),
//! deleting a fixed price that does not exist (`VARIANT_NOT_FOUND`: "A fixed price for the
//! specified product variant doesn't exist"). [I]: whether Shopify applies the valid entries
//! of a call with userErrors is not documented; the fake applies them and answers them in
//! `prices` / `deletedFixedPriceVariantIds` (the adapter confirms only what is answered there,
//! so it is right either way).

use super::store::{gid, parse_gid, user_error, Shop};
use serde_json::{json, Value};
use std::collections::BTreeMap;

/// A fixed price: amount and compare-at amount, both in the list's currency.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FixedPrice {
    pub amount: String,
    pub compare_at: Option<String>,
}

#[derive(Debug, Clone)]
pub struct PriceList {
    pub name: String,
    pub currency: String,
    /// Variant number → its fixed price.
    pub fixed: BTreeMap<u64, FixedPrice>,
}

#[derive(Debug, Default)]
pub struct PriceLists {
    next_id: u64,
    pub lists: BTreeMap<u64, PriceList>,
}

fn variant_exists(shop: &Shop, id: u64) -> bool {
    shop.products
        .values()
        .any(|p| p.variants.iter().any(|v| v.id == id))
}

/// `{amount, currencyCode}` with the amount as Shopify's Decimal (a string).
fn money(v: &Value) -> Option<(String, String)> {
    let amount = match &v["amount"] {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        _ => return None,
    };
    let currency = v["currencyCode"].as_str()?.to_owned();
    Some((amount, currency))
}

impl PriceLists {
    pub fn create(&mut self, name: &str, currency: &str) -> String {
        self.next_id += 1;
        let id = 9000 + self.next_id;
        self.lists.insert(
            id,
            PriceList {
                name: name.to_owned(),
                currency: currency.to_owned(),
                fixed: BTreeMap::new(),
            },
        );
        gid("PriceList", id)
    }

    fn list(&self, list: &str) -> Option<u64> {
        parse_gid("PriceList", list).filter(|n| self.lists.contains_key(n))
    }

    pub fn json(&self, list: &str) -> Value {
        self.list(list).map_or(Value::Null, |n| {
            let l = &self.lists[&n];
            json!({"id": list, "name": l.name, "currency": l.currency})
        })
    }

    fn price_json(&self, shop: &Shop, currency: &str, variant: u64, p: &FixedPrice) -> Value {
        let v = shop.products.values().find_map(|prod| {
            prod.variants
                .iter()
                .find(|v| v.id == variant)
                .map(|v| shop.variant_json(prod, v))
        });
        json!({"variant": v, "price": {"amount": p.amount, "currencyCode": currency},
               "compareAtPrice": p.compare_at.as_ref().map(|c| json!({"amount": c, "currencyCode": currency})),
               "originType": "FIXED"})
    }

    /// `priceListFixedPricesAdd`: the prices set and the userErrors.
    pub fn add(&mut self, shop: &Shop, list: &str, prices: &[Value]) -> (Vec<Value>, Vec<Value>) {
        let Some(n) = self.list(list) else {
            return (
                vec![],
                vec![user_error(
                    &["priceListId"],
                    "The price list doesn't exist.",
                    "PRICE_LIST_NOT_FOUND",
                )],
            );
        };
        let currency = self.lists[&n].currency.clone();
        let mut set = Vec::new();
        let mut errors = Vec::new();
        for (i, p) in prices.iter().enumerate() {
            let at = i.to_string();
            let Some(variant) = p["variantId"]
                .as_str()
                .and_then(|g| parse_gid("ProductVariant", g))
                .filter(|id| variant_exists(shop, *id))
            else {
                errors.push(user_error(
                    &["prices", &at, "variantId"],
                    "The product variant doesn't exist.",
                    "VARIANT_NOT_FOUND",
                ));
                continue;
            };
            let price = money(&p["price"]);
            let compare = if p["compareAtPrice"].is_null() {
                None
            } else {
                money(&p["compareAtPrice"])
            };
            let mismatch = [("price", &price), ("compareAtPrice", &compare)]
                .into_iter()
                .find(|(_, m)| m.as_ref().is_some_and(|(_, c)| *c != currency));
            if let Some((field, _)) = mismatch {
                errors.push(user_error(
                    &["prices", &at, field, "currencyCode"],
                    "The specified currency doesn't match the price list's currency.",
                    "PRICE_LIST_CURRENCY_MISMATCH",
                ));
                continue;
            }
            let Some((amount, _)) = price.filter(|(a, _)| a.parse::<f64>().is_ok_and(|x| x >= 0.0))
            else {
                errors.push(user_error(
                    &["prices", &at, "price", "amount"],
                    "The input value is blank.",
                    "BLANK",
                ));
                continue;
            };
            let fixed = FixedPrice {
                amount,
                compare_at: compare.map(|(a, _)| a),
            };
            set.push((variant, fixed.clone()));
            self.lists
                .get_mut(&n)
                .expect("checked")
                .fixed
                .insert(variant, fixed);
        }
        let answered = set
            .iter()
            .map(|(v, p)| self.price_json(shop, &currency, *v, p))
            .collect();
        (answered, errors)
    }

    /// `priceListFixedPricesDelete`: the variant ids whose fixed price was removed and the
    /// userErrors.
    pub fn delete(&mut self, list: &str, variants: &[Value]) -> (Vec<Value>, Vec<Value>) {
        let Some(n) = self.list(list) else {
            return (
                vec![],
                vec![user_error(
                    &["priceListId"],
                    "The price list doesn't exist.",
                    "PRICE_LIST_NOT_FOUND",
                )],
            );
        };
        let fixed = &mut self.lists.get_mut(&n).expect("checked").fixed;
        let mut deleted = Vec::new();
        let mut errors = Vec::new();
        for (i, v) in variants.iter().enumerate() {
            match v
                .as_str()
                .and_then(|g| parse_gid("ProductVariant", g))
                .filter(|id| fixed.remove(id).is_some())
            {
                Some(_) => deleted.push(v.clone()),
                None => errors.push(user_error(
                    &["variantIds", &i.to_string()],
                    "A fixed price for the specified product variant doesn't exist.",
                    "VARIANT_NOT_FOUND",
                )),
            }
        }
        (deleted, errors)
    }

    /// The fixed price of variant `variant` (a number) in `list`, for assertions.
    pub fn fixed(&self, list: &str, variant: u64) -> Option<FixedPrice> {
        self.list(list)
            .and_then(|n| self.lists[&n].fixed.get(&variant).cloned())
    }
}
