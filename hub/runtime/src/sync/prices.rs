//! The item of a `prices` sync: one SKU's prices as a storefront needs them, every one of them
//! the pricing resolver's answer (`switchyard_core::catalog::pricing::resolve`) — this module
//! only chooses the questions, so a storefront shows what `GET /pricing/products/{sku}` says.
//!
//! * `prices`: what an anonymous visitor pays today, per currency the product is listed in,
//!   for one base unit, with the volume breaks valid today.
//! * `group_prices`: per price tier (customer group, e.g. GOLD) and currency, what a customer
//!   of that tier pays for one unit, and from which quantities the resolver gives a tier customer
//!   less (`volume_breaks`, none while the tier wins at every quantity): the shape of Magento's
//!   customer-group tier prices (`customer_group`, `quantity`, a fixed `price`, or the
//!   `discount_percent`) and of a Shopify B2B price list per group.
//! * `customer_prices`: per active customer with a contract on the product or a discount that
//!   covers it, and per currency, the price when that contract or discount is what wins (with
//!   its `valid_to`): a fixed price a storefront sets for that customer (Shopify
//!   `priceListFixedPricesAdd` on the customer's own price list) without re-resolving.
//!
//! **Bounded**: an item is one write, hashed as a whole, so a product that 10,000 customers
//! hold contracts on cannot carry 10,000 prices: every change to one of them would re-send them
//! all, and the page (500 items) would hold millions. At most [`MAX_CUSTOMER_PRICES`] customers
//! are pushed per product — contracts first, then product, category and all-products
//! discounts, each by customer id (the most specific agreements are the ones a storefront must
//! not miss) — and the rest are counted in `customer_prices_omitted` and named in `errors`, so
//! the mapping and the partner see that they are missing. Tiers are few and all are pushed.
//!
//! A storefront mapping that ignores `group_prices` and `customer_prices` pushes neither, and
//! because the sync hashes the mapped payload, a change to a tier, contract or discount then
//! moves the feed but writes nothing to it.

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde_json::{json, Value};
use sqlx::PgPool;
use std::collections::{BTreeSet, HashMap};
use switchyard_core::catalog::pricing::{
    resolve, CustomerTier, DiscountScope, PriceBreakdown, PriceQuery, PriceSource, PricingError,
    PricingInputs, Visibility,
};
use switchyard_core::error::AdapterError;
use switchyard_core::ids::OrgId;
use switchyard_store::pricing::{self, Audience, CustomerTerms, Tier};
use switchyard_store::sync as store;

/// Most customers whose own prices one product's item carries (see the module's docs).
pub const MAX_CUSTOMER_PRICES: usize = 100;

fn db(e: switchyard_store::StoreError) -> AdapterError {
    AdapterError::transient(format!("database: {e}"))
}

/// The prices items of the live products among `skus` on the day of `now`, each with the
/// instant it may change by the calendar alone ([`next_boundary`], at 00:00 UTC, the day
/// `today` is taken in); a removed product is absent, so the sync pushes its tombstone. Two
/// queries for the whole page.
pub(super) async fn load(
    pool: &PgPool,
    org: OrgId,
    skus: &[String],
    now: DateTime<Utc>,
) -> Result<HashMap<String, (Value, Option<DateTime<Utc>>)>, AdapterError> {
    let live = store::live_skus(pool, org, skus).await.map_err(db)?;
    let loaded = pricing::load_inputs(pool, org, &live, None)
        .await
        .map_err(db)?;
    let audience = pricing::load_audience(pool, org, &live).await.map_err(db)?;
    let today = now.date_naive();
    Ok(loaded
        .products
        .iter()
        .map(|inputs| {
            let until = next_boundary(inputs, &audience, today)
                .and_then(|day| day.and_hms_opt(0, 0, 0))
                .map(|at| at.and_utc());
            (
                inputs.product.sku.clone(),
                (price_item(inputs, &audience, today), until),
            )
        })
        .collect())
}

/// The first day after `today` on which the item of `inputs` may read differently though no
/// row it is built from changed: the item answers "what is valid today", so a day on which one
/// of its list prices or volume breaks, or a contract on it or a discount that covers it,
/// starts, or the day after one ends, changes it without a change in the feed. The sync reads
/// the item again from that day on. `None`: no row of it has a boundary ahead. Tiers and
/// customers have no dates (a tier's percentage or a customer's `active` moves the feed).
pub fn next_boundary(
    inputs: &PricingInputs,
    audience: &Audience,
    today: NaiveDate,
) -> Option<NaiveDate> {
    let p = &inputs.product;
    let customers = audience.customers.iter().flat_map(|c| {
        let contracts = c.contracts.iter().filter(|(sku, _)| *sku == p.sku);
        let discounts = c.discounts.iter().filter(|d| d.covers(p));
        contracts
            .map(|(_, k)| k.validity)
            .chain(discounts.map(|d| d.validity))
    });
    inputs
        .list_prices
        .iter()
        .map(|l| l.validity)
        .chain(inputs.contracts.iter().map(|k| k.validity))
        .chain(inputs.discounts.iter().map(|d| d.validity))
        .chain(inputs.breaks.iter().map(|b| b.validity))
        .chain(customers)
        .flat_map(|v| [v.from, v.to.and_then(|to| to.succ_opt())])
        .flatten()
        .filter(|day| *day > today)
        .min()
}

/// A price question for one unit of the base unit.
fn ask(customer: Option<&str>, quantity: Decimal, currency: &str, on: NaiveDate) -> PriceQuery {
    PriceQuery {
        customer_id: customer.map(str::to_owned),
        quantity,
        uom: None,
        currency: Some(currency.to_owned()),
        on,
    }
}

fn unit(d: Decimal) -> String {
    d.normalize().to_string()
}

/// One SKU's prices item (see the module's docs). `inputs` are the product's, loaded for no
/// customer; the customers' and tiers' terms come from `audience`. A question the resolver
/// cannot answer is named in `errors` (the mapping and the partner see it), never dropped.
pub fn price_item(inputs: &PricingInputs, audience: &Audience, today: NaiveDate) -> Value {
    let p = &inputs.product;
    let mut errors = Vec::new();
    let listed: BTreeSet<&str> = inputs
        .list_prices
        .iter()
        .filter(|l| l.validity.contains(today))
        .map(|l| l.currency.as_str())
        .collect();
    let mut prices = Vec::new();
    for currency in &listed {
        match resolve(inputs, &ask(None, Decimal::ONE, currency, today)) {
            Ok(answer) => {
                let Some(price) = &answer.price else { continue };
                let breaks: Vec<Value> = answer
                    .volume_breaks
                    .iter()
                    .filter_map(|b| {
                        Some(json!({
                            "min_quantity": unit(b.min_quantity_in_uom),
                            "unit_price": b.unit_price?.to_string(),
                        }))
                    })
                    .collect();
                prices.push(json!({
                    "currency": currency,
                    "price_list_id": answer.price_list_id,
                    "amount": price.customer_price.to_string(),
                    "valid_to": answer.validity.to,
                    "volume_breaks": breaks,
                }));
            }
            Err(e) => errors.push(json!({"currency": currency, "message": e.to_string()})),
        }
    }
    let quote_only = p.visibility == Visibility::QuoteOnly;
    let mut group_prices = Vec::new();
    let mut customer_prices = Vec::new();
    let mut omitted = 0;
    if !quote_only {
        for tier in &audience.tiers {
            group_prices.extend(group_price(inputs, tier, &listed, today, &mut errors));
        }
        let mut holders: Vec<(u8, &CustomerTerms)> = audience
            .customers
            .iter()
            .filter_map(|c| Some((rank(inputs, c, today)?, c)))
            .collect();
        holders.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.customer_id.cmp(&b.1.customer_id)));
        omitted = holders.len().saturating_sub(MAX_CUSTOMER_PRICES);
        for (_, c) in holders.into_iter().take(MAX_CUSTOMER_PRICES) {
            customer_prices.extend(customer_price(inputs, c, &listed, today, &mut errors));
        }
    }
    if omitted > 0 {
        errors.push(json!({
            "message": format!(
                "{omitted} more customers have their own price on {}; an item carries at most \
                 {MAX_CUSTOMER_PRICES} (contracts first, then by customer id)",
                p.sku
            ),
        }));
    }
    json!({
        "sku": p.sku,
        "uom": p.base_uom.as_str(),
        "requires_quote": quote_only,
        "login_required": p.visibility == Visibility::LoginRequired,
        "prices": prices,
        "group_prices": group_prices,
        "customer_prices": customer_prices,
        "customer_prices_omitted": omitted,
        "errors": errors,
    })
}

/// The name a tier's customer goes by in the resolver's question: no customer id can equal it
/// (ids are the distributor's, and this one is never stored), and it holds nothing but the tier.
fn tier_member(code: &str) -> String {
    format!("\u{0}tier:{code}")
}

/// What a customer of `tier` pays per currency: the resolver's answer for a customer with that
/// tier and no terms of its own, for one unit and then at each volume break's threshold, a
/// threshold listed only where the price drops.
fn group_price(
    inputs: &PricingInputs,
    tier: &Tier,
    currencies: &BTreeSet<&str>,
    today: NaiveDate,
    errors: &mut Vec<Value>,
) -> Vec<Value> {
    let member = tier_member(&tier.code);
    let as_member = PricingInputs {
        contracts: Vec::new(),
        discounts: Vec::new(),
        tier: Some(CustomerTier {
            customer_id: member.clone(),
            code: tier.code.clone(),
            percent: tier.percent,
        }),
        ..inputs.clone()
    };
    let mut out = Vec::new();
    for currency in currencies {
        let answer = resolve(
            &as_member,
            &ask(Some(&member), Decimal::ONE, currency, today),
        );
        let result = answer.and_then(|a| {
            let breaks = lower_at_breaks(&as_member, &member, &a, currency, today)?;
            Ok((a, breaks))
        });
        match result {
            Ok((a, breaks)) => {
                let Some(price) = &a.price else { continue };
                out.push(json!({
                    "group": tier.code,
                    "name": tier.name,
                    "currency": currency,
                    "amount": price.customer_price.to_string(),
                    "discount_percent": price.discount_percent.map(unit),
                    "valid_to": a.validity.to,
                    "volume_breaks": breaks,
                }));
            }
            Err(e) => errors.push(json!({
                "group": tier.code, "currency": currency, "message": e.to_string(),
            })),
        }
    }
    out
}

/// The thresholds of `answer`'s volume breaks at which `customer` pays less than below them,
/// each asked of the resolver.
fn lower_at_breaks(
    inputs: &PricingInputs,
    customer: &str,
    answer: &PriceBreakdown,
    currency: &str,
    today: NaiveDate,
) -> Result<Vec<Value>, PricingError> {
    let Some(mut last) = answer.price.as_ref().map(|p| p.customer_price) else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    for b in answer
        .volume_breaks
        .iter()
        .filter(|b| b.min_quantity_in_uom > Decimal::ONE)
    {
        let at = resolve(
            inputs,
            &ask(Some(customer), b.min_quantity_in_uom, currency, today),
        )?;
        if let Some(price) = at.price.filter(|p| p.customer_price < last) {
            last = price.customer_price;
            out.push(json!({
                "min_quantity": unit(b.min_quantity_in_uom),
                "unit_price": price.customer_price.to_string(),
            }));
        }
    }
    Ok(out)
}

/// Whether `c` has its own terms on the product, and how specific the most specific one is
/// (0 a contract valid today, 1 a product discount, 2 a category's, 3 all products'); `None`
/// when it has none.
fn rank(inputs: &PricingInputs, c: &CustomerTerms, today: NaiveDate) -> Option<u8> {
    let p = &inputs.product;
    let contract = c
        .contracts
        .iter()
        .any(|(sku, k)| *sku == p.sku && k.validity.contains(today));
    let discount = c
        .discounts
        .iter()
        .filter(|d| d.validity.contains(today) && d.covers(p))
        .map(|d| match d.scope {
            DiscountScope::Product(_) => 1,
            DiscountScope::Category(_) => 2,
            DiscountScope::All => 3,
        })
        .min();
    if contract {
        Some(0)
    } else {
        discount
    }
}

/// What `c` pays per currency when its own contract or discount wins; the currencies are the
/// product's list currencies and those of its contracts valid today (a contract can price a
/// product in a currency it has no list price in).
fn customer_price(
    inputs: &PricingInputs,
    c: &CustomerTerms,
    listed: &BTreeSet<&str>,
    today: NaiveDate,
    errors: &mut Vec<Value>,
) -> Vec<Value> {
    let p = &inputs.product;
    let contracts: Vec<_> = c
        .contracts
        .iter()
        .filter(|(sku, _)| *sku == p.sku)
        .map(|(_, k)| k.clone())
        .collect();
    let mut currencies = listed.clone();
    currencies.extend(
        contracts
            .iter()
            .filter(|k| k.validity.contains(today))
            .map(|k| k.currency.as_str()),
    );
    let own = PricingInputs {
        contracts: contracts.clone(),
        discounts: c.discounts.clone(),
        tier: c.tier.clone(),
        ..inputs.clone()
    };
    let mut out = Vec::new();
    for currency in currencies {
        match resolve(
            &own,
            &ask(Some(&c.customer_id), Decimal::ONE, currency, today),
        ) {
            Ok(a) => {
                let Some(price) = &a.price else { continue };
                let source = match price.source {
                    PriceSource::Contract => "contract",
                    PriceSource::Customer => "discount",
                    // The tier's or the list's: the customer's group or the storefront's own
                    // price already says it.
                    _ => continue,
                };
                out.push(json!({
                    "customer_id": c.customer_id,
                    "currency": currency,
                    "amount": price.customer_price.to_string(),
                    "source": source,
                    "source_id": price.source_id,
                    "valid_to": a.validity.to,
                }));
            }
            Err(e) => errors.push(json!({
                "customer_id": c.customer_id, "currency": currency, "message": e.to_string(),
            })),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;
    use switchyard_core::catalog::pricing::{
        BreakAdjustment, Contract, CustomerDiscount, ListPrice, ProductTerms, Validity, VolumeBreak,
    };
    use switchyard_core::catalog::Uom;

    fn ea() -> Uom {
        Uom::new("EA").unwrap()
    }

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 6, 15).unwrap()
    }

    /// A plate in `Steel > Flat > Plate` listed at 100 USD, 95 from 10.
    fn plate(visibility: Visibility) -> PricingInputs {
        PricingInputs {
            product: ProductTerms {
                sku: "PLATE".into(),
                category: Some("Steel > Flat > Plate".into()),
                visibility,
                base_uom: ea(),
                conversions: vec![],
            },
            list_prices: vec![ListPrice {
                price_list_id: "WEB".into(),
                currency: "USD".into(),
                amount: dec!(100),
                uom: ea(),
                validity: Validity::ALWAYS,
            }],
            contracts: vec![],
            discounts: vec![],
            tier: None,
            breaks: vec![VolumeBreak {
                id: "B10".into(),
                min_quantity: dec!(10),
                uom: ea(),
                adjustment: BreakAdjustment::Price {
                    amount: dec!(95),
                    currency: "USD".into(),
                },
                validity: Validity::ALWAYS,
            }],
        }
    }

    fn customer(id: &str) -> CustomerTerms {
        CustomerTerms {
            customer_id: id.into(),
            name: id.into(),
            contracts: vec![],
            discounts: vec![],
            tier: None,
        }
    }

    fn discount(customer: &str, scope: DiscountScope, percent: Decimal) -> CustomerDiscount {
        CustomerDiscount {
            id: format!("D-{customer}"),
            customer_id: customer.into(),
            scope,
            percent,
            validity: Validity::ALWAYS,
        }
    }

    fn contract(customer: &str, sku: &str, price: Decimal, currency: &str) -> (String, Contract) {
        (
            sku.into(),
            Contract {
                id: format!("K-{customer}"),
                customer_id: customer.into(),
                price,
                uom: ea(),
                currency: currency.into(),
                validity: Validity {
                    from: None,
                    to: NaiveDate::from_ymd_opt(2026, 12, 31),
                },
            },
        )
    }

    fn gold() -> Tier {
        Tier {
            code: "GOLD".into(),
            name: Some("Gold".into()),
            percent: dec!(8),
        }
    }

    #[test]
    fn groups_and_customers_get_what_the_resolver_gives_them() {
        let mut by_contract = customer("C-K");
        by_contract.contracts = vec![
            contract("C-K", "PLATE", dec!(85.5), "USD"),
            // A contract in a currency the product is not listed in prices it there too.
            contract("C-K", "PLATE", dec!(80), "EUR"),
            contract("C-K", "OTHER", dec!(1), "USD"),
        ];
        let mut by_category = customer("A-CAT");
        by_category.discounts = vec![discount(
            "A-CAT",
            DiscountScope::Category("steel>flat".into()),
            dec!(12),
        )];
        let mut by_product = customer("Z-PROD");
        by_product.discounts = vec![discount(
            "Z-PROD",
            DiscountScope::Product("PLATE".into()),
            dec!(10),
        )];
        let mut elsewhere = customer("B-ELSEWHERE");
        elsewhere.discounts = vec![discount(
            "B-ELSEWHERE",
            DiscountScope::Category("Aluminium".into()),
            dec!(50),
        )];
        // On GOLD with a discount that covers nothing here: its tier is its group's price.
        elsewhere.tier = Some(CustomerTier {
            customer_id: "B-ELSEWHERE".into(),
            code: "GOLD".into(),
            percent: dec!(8),
        });
        let audience = Audience {
            tiers: vec![gold()],
            customers: vec![by_category, elsewhere, by_contract, by_product],
        };
        let item = price_item(&plate(Visibility::Public), &audience, today());
        assert_eq!(item["prices"][0]["amount"], "100.0000", "{item}");
        assert_eq!(
            item["group_prices"],
            json!([{
                "group": "GOLD", "name": "Gold", "currency": "USD", "amount": "92.0000",
                "discount_percent": "8", "valid_to": null,
                // The tier wins at every quantity (no stacking): no break lowers it.
                "volume_breaks": [],
            }])
        );
        let row = |c: &str, cur: &str, amount: &str, source: &str, id: &str, to: Value| {
            json!({"customer_id": c, "currency": cur, "amount": amount, "source": source,
                   "source_id": id, "valid_to": to})
        };
        assert_eq!(
            item["customer_prices"],
            json!([
                row(
                    "C-K",
                    "EUR",
                    "80.0000",
                    "contract",
                    "K-C-K",
                    json!("2026-12-31")
                ),
                row(
                    "C-K",
                    "USD",
                    "85.5000",
                    "contract",
                    "K-C-K",
                    json!("2026-12-31")
                ),
                row(
                    "Z-PROD",
                    "USD",
                    "90.0000",
                    "discount",
                    "D-Z-PROD",
                    Value::Null
                ),
                row(
                    "A-CAT",
                    "USD",
                    "88.0000",
                    "discount",
                    "D-A-CAT",
                    Value::Null
                ),
            ]),
            "{item}"
        );
        assert_eq!(item["customer_prices_omitted"], 0);
        assert_eq!(item["errors"], json!([]));
    }

    #[test]
    fn a_tier_customer_pays_less_from_a_break_only_where_the_resolver_says_so() {
        // A 0 % tier leaves the list price, and the tier still wins over the break: the
        // group's breaks are whatever the resolver answers at each threshold (here none).
        let zero = Tier {
            code: "NONE".into(),
            name: None,
            percent: dec!(0),
        };
        let audience = Audience {
            tiers: vec![zero],
            customers: vec![],
        };
        let item = price_item(&plate(Visibility::Public), &audience, today());
        assert_eq!(item["group_prices"][0]["amount"], "100.0000", "{item}");
        assert_eq!(
            item["group_prices"][0]["volume_breaks"],
            json!([]),
            "{item}"
        );
        // The visitor's breaks are listed as before.
        assert_eq!(
            item["prices"][0]["volume_breaks"],
            json!([{"min_quantity": "10", "unit_price": "95.0000"}])
        );
    }

    #[test]
    fn login_required_prices_groups_and_customers_and_quote_only_nobody() {
        let mut c = customer("C");
        c.discounts = vec![discount("C", DiscountScope::All, dec!(5))];
        let audience = Audience {
            tiers: vec![gold()],
            customers: vec![c],
        };
        let item = price_item(&plate(Visibility::LoginRequired), &audience, today());
        assert_eq!(item["prices"], json!([]));
        assert_eq!(item["group_prices"][0]["amount"], "92.0000", "{item}");
        assert_eq!(item["customer_prices"][0]["amount"], "95.0000", "{item}");
        let item = price_item(&plate(Visibility::QuoteOnly), &audience, today());
        assert_eq!(
            (
                &item["prices"],
                &item["group_prices"],
                &item["customer_prices"]
            ),
            (&json!([]), &json!([]), &json!([]))
        );
    }

    #[test]
    fn an_item_carries_at_most_the_cap_of_customers_contracts_first() {
        let mut customers: Vec<CustomerTerms> = (0..MAX_CUSTOMER_PRICES + 5)
            .map(|i| {
                let mut c = customer(&format!("A{i:04}"));
                c.discounts = vec![discount(
                    &c.customer_id.clone(),
                    DiscountScope::All,
                    dec!(1),
                )];
                c
            })
            .collect();
        let mut late = customer("ZZZ");
        late.contracts = vec![contract("ZZZ", "PLATE", dec!(50), "USD")];
        customers.push(late);
        let audience = Audience {
            tiers: vec![],
            customers,
        };
        let item = price_item(&plate(Visibility::Public), &audience, today());
        let pushed = item["customer_prices"].as_array().unwrap();
        assert_eq!(pushed.len(), MAX_CUSTOMER_PRICES);
        assert_eq!(pushed[0]["customer_id"], "ZZZ", "the contract holder first");
        assert_eq!(pushed[1]["customer_id"], "A0000");
        assert_eq!(item["customer_prices_omitted"], 6);
        let message = item["errors"][0]["message"].as_str().unwrap();
        assert!(
            message.starts_with("6 more customers have their own price on PLATE"),
            "{message}"
        );
    }

    #[test]
    fn the_next_boundary_is_the_first_day_a_row_of_the_item_starts_or_ends_after_today() {
        let day = |n: i64| today() + chrono::Duration::days(n);
        let within = |from: Option<i64>, to: Option<i64>| Validity {
            from: from.map(day),
            to: to.map(day),
        };
        let nobody = Audience {
            tiers: vec![gold()],
            customers: vec![],
        };
        let mut inputs = plate(Visibility::Public);
        assert_eq!(next_boundary(&inputs, &nobody, today()), None, "open-ended");

        // The list price ends in 5 days (it still holds on day 5): day 6 reads differently.
        inputs.list_prices[0].validity = within(Some(-30), Some(5));
        assert_eq!(next_boundary(&inputs, &nobody, today()), Some(day(6)));
        assert_ne!(
            price_item(&inputs, &nobody, day(5)),
            price_item(&inputs, &nobody, day(6)),
            "the boundary is a real change of the item"
        );
        // A break starting in 3 days comes first; a boundary behind us does not count.
        inputs.breaks[0].validity = within(Some(3), None);
        inputs.list_prices.push(ListPrice {
            validity: within(Some(-9), Some(-2)),
            ..inputs.list_prices[0].clone()
        });
        assert_eq!(next_boundary(&inputs, &nobody, today()), Some(day(3)));
        assert_eq!(next_boundary(&inputs, &nobody, day(3)), Some(day(6)));

        // Customers' terms count where they price this product: a contract on it and a
        // discount covering it; another product's contract and another category's discount
        // do not.
        let mut holder = customer("C1");
        let (sku, mut k) = contract("C1", "PLATE", dec!(50), "USD");
        k.validity = within(None, Some(0));
        holder.contracts = vec![
            (sku, k.clone()),
            ("ROD".into(), {
                let mut other = k.clone();
                other.validity = within(Some(1), None);
                other
            }),
        ];
        let mut stranger = discount("C2", DiscountScope::Category("Wood".into()), dec!(5));
        stranger.validity = within(Some(1), None);
        let mut c2 = customer("C2");
        c2.discounts = vec![stranger];
        let audience = Audience {
            tiers: vec![],
            customers: vec![holder, c2],
        };
        assert_eq!(
            next_boundary(&inputs, &audience, today()),
            Some(day(1)),
            "the contract on PLATE ends today"
        );
        let mut covering = discount("C3", DiscountScope::Category("Steel".into()), dec!(5));
        covering.validity = within(Some(2), None);
        let mut c3 = customer("C3");
        c3.discounts = vec![covering];
        let audience = Audience {
            tiers: vec![],
            customers: vec![c3],
        };
        assert_eq!(next_boundary(&inputs, &audience, today()), Some(day(2)));
    }
}
