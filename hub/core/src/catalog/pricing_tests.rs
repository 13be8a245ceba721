//! The resolver's rules, ties and boundaries as tables. One product throughout: an A36 flat
//! bar of 3.4 LB/FT sold in 20 FT pieces, category `Steel > Flat > Bar`, listed at $0.50/LB
//! on price list PL-2026; the customer is ABC; the day is 2026-06-15.

use super::*;
use rust_decimal_macros::dec;

fn u(c: &str) -> Uom {
    Uom::new(c).unwrap()
}

fn day(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

const TODAY: &str = "2026-06-15";
const YESTERDAY: &str = "2026-06-14";
const TOMORROW: &str = "2026-06-16";

fn always() -> Validity {
    Validity::ALWAYS
}

fn through(to: &str) -> Validity {
    Validity {
        from: None,
        to: Some(day(to)),
    }
}

fn from(f: &str) -> Validity {
    Validity {
        from: Some(day(f)),
        to: None,
    }
}

fn bar() -> PricingInputs {
    PricingInputs {
        product: ProductTerms {
            sku: "A36-BAR".into(),
            category: Some("Steel > Flat > Bar".into()),
            visibility: Visibility::Public,
            base_uom: u("LB"),
            conversions: vec![
                Conversion::new(u("FT"), u("LB"), dec!(3.4)).unwrap(),
                Conversion::new(u("EA"), u("FT"), dec!(20)).unwrap(),
            ],
        },
        list_prices: vec![list("PL-2026", "USD", dec!(0.50), "LB", always())],
        contracts: vec![],
        discounts: vec![],
        tier: None,
        breaks: vec![],
    }
}

fn list(id: &str, cur: &str, amount: Decimal, uom: &str, validity: Validity) -> ListPrice {
    ListPrice {
        price_list_id: id.into(),
        currency: cur.into(),
        amount,
        uom: u(uom),
        validity,
    }
}

fn contract(id: &str, customer: &str, price: Decimal, uom: &str, v: Validity) -> Contract {
    Contract {
        id: id.into(),
        customer_id: customer.into(),
        price,
        uom: u(uom),
        currency: "USD".into(),
        validity: v,
    }
}

fn discount(id: &str, scope: DiscountScope, percent: Decimal, v: Validity) -> CustomerDiscount {
    CustomerDiscount {
        id: id.into(),
        customer_id: "ABC".into(),
        scope,
        percent,
        validity: v,
    }
}

fn gold() -> Option<CustomerTier> {
    Some(CustomerTier {
        customer_id: "ABC".into(),
        code: "GOLD".into(),
        percent: dec!(8),
    })
}

fn pct_break(id: &str, min: Decimal, uom: &str, pct: Decimal) -> VolumeBreak {
    VolumeBreak {
        id: id.into(),
        min_quantity: min,
        uom: u(uom),
        adjustment: BreakAdjustment::Percent(pct),
        validity: always(),
    }
}

fn price_break(id: &str, min: Decimal, uom: &str, amount: Decimal) -> VolumeBreak {
    VolumeBreak {
        id: id.into(),
        min_quantity: min,
        uom: u(uom),
        adjustment: BreakAdjustment::Price {
            amount,
            currency: "USD".into(),
        },
        validity: always(),
    }
}

fn ask(customer: Option<&str>, qty: Decimal, uom: &str) -> PriceQuery {
    PriceQuery {
        customer_id: customer.map(Into::into),
        quantity: qty,
        uom: Some(u(uom)),
        currency: Some("USD".into()),
        on: day(TODAY),
    }
}

const ABC: Option<&str> = Some("ABC");

type Case = (
    &'static str,
    fn(&mut PricingInputs),
    PriceQuery,
    PriceSource,
    Option<&'static str>,
    Decimal,
);

/// (what, the inputs changed from `bar()`, the question, the source that wins, its id, the
/// customer price per the asked unit)
fn cases() -> Vec<Case> {
    vec![
        (
            "list price alone",
            |_| {},
            ask(None, dec!(1), "LB"),
            PriceSource::None,
            None,
            dec!(0.50),
        ),
        (
            "list per LB asked per FT converts",
            |_| {},
            ask(None, dec!(1), "FT"),
            PriceSource::None,
            None,
            dec!(1.70),
        ),
        (
            "list per LB asked per piece converts twice",
            |_| {},
            ask(None, dec!(1), "EA"),
            PriceSource::None,
            None,
            dec!(34),
        ),
        (
            "list per LB asked per CWT converts by the fixed table",
            |_| {},
            ask(None, dec!(1), "CWT"),
            PriceSource::None,
            None,
            dec!(50),
        ),
        (
            "a customer with nothing of its own pays list",
            |_| {},
            ask(ABC, dec!(1), "LB"),
            PriceSource::None,
            None,
            dec!(0.50),
        ),
        // Contracts.
        (
            "contract beats everything",
            |i| {
                i.contracts.push(contract(
                    "C1",
                    "ABC",
                    dec!(0.42),
                    "LB",
                    through("2026-12-31"),
                ));
                i.discounts.push(discount(
                    "D1",
                    DiscountScope::Product("A36-BAR".into()),
                    dec!(12),
                    always(),
                ));
                i.tier = gold();
                i.breaks.push(pct_break("B1", dec!(1), "LB", dec!(50)));
            },
            ask(ABC, dec!(1000), "LB"),
            PriceSource::Contract,
            Some("C1"),
            dec!(0.42),
        ),
        (
            "contract per LB asked per FT converts",
            |i| {
                i.contracts
                    .push(contract("C1", "ABC", dec!(0.42), "LB", always()));
            },
            ask(ABC, dec!(1), "FT"),
            PriceSource::Contract,
            Some("C1"),
            dec!(1.428),
        ),
        (
            "contract ending today applies today",
            |i| {
                i.contracts
                    .push(contract("C1", "ABC", dec!(0.42), "LB", through(TODAY)));
            },
            ask(ABC, dec!(1), "LB"),
            PriceSource::Contract,
            Some("C1"),
            dec!(0.42),
        ),
        (
            "contract ended yesterday does not",
            |i| {
                i.contracts
                    .push(contract("C1", "ABC", dec!(0.42), "LB", through(YESTERDAY)));
            },
            ask(ABC, dec!(1), "LB"),
            PriceSource::None,
            None,
            dec!(0.50),
        ),
        (
            "contract starting tomorrow does not",
            |i| {
                i.contracts
                    .push(contract("C1", "ABC", dec!(0.42), "LB", from(TOMORROW)));
            },
            ask(ABC, dec!(1), "LB"),
            PriceSource::None,
            None,
            dec!(0.50),
        ),
        (
            "contract starting today does",
            |i| {
                i.contracts
                    .push(contract("C1", "ABC", dec!(0.42), "LB", from(TODAY)));
            },
            ask(ABC, dec!(1), "LB"),
            PriceSource::Contract,
            Some("C1"),
            dec!(0.42),
        ),
        (
            "another customer's contract does not",
            |i| {
                i.contracts
                    .push(contract("C1", "XYZ", dec!(0.42), "LB", always()));
            },
            ask(ABC, dec!(1), "LB"),
            PriceSource::None,
            None,
            dec!(0.50),
        ),
        (
            "no contract without a customer",
            |i| {
                i.contracts
                    .push(contract("C1", "ABC", dec!(0.42), "LB", always()));
            },
            ask(None, dec!(1), "LB"),
            PriceSource::None,
            None,
            dec!(0.50),
        ),
        (
            "a contract in another currency does not",
            |i| {
                let mut c = contract("C1", "ABC", dec!(0.42), "LB", always());
                c.currency = "EUR".into();
                i.contracts.push(c);
            },
            ask(ABC, dec!(1), "LB"),
            PriceSource::None,
            None,
            dec!(0.50),
        ),
        (
            "tie: two contracts, the newer wins",
            |i| {
                i.contracts.push(contract(
                    "C-OLD",
                    "ABC",
                    dec!(0.40),
                    "LB",
                    from("2026-01-01"),
                ));
                i.contracts.push(contract(
                    "C-NEW",
                    "ABC",
                    dec!(0.44),
                    "LB",
                    from("2026-06-01"),
                ));
                i.contracts
                    .push(contract("C-OPEN", "ABC", dec!(0.30), "LB", always()));
            },
            ask(ABC, dec!(1), "LB"),
            PriceSource::Contract,
            Some("C-NEW"),
            dec!(0.44),
        ),
        (
            "tie: two contracts from the same day, the smaller id wins",
            |i| {
                i.contracts
                    .push(contract("C2", "ABC", dec!(0.40), "LB", from("2026-01-01")));
                i.contracts
                    .push(contract("C1", "ABC", dec!(0.44), "LB", from("2026-01-01")));
            },
            ask(ABC, dec!(1), "LB"),
            PriceSource::Contract,
            Some("C1"),
            dec!(0.44),
        ),
        // Customer discounts.
        (
            "customer discount beats tier and volume",
            |i| {
                i.discounts
                    .push(discount("D1", DiscountScope::All, dec!(12), always()));
                i.tier = gold();
                i.breaks.push(pct_break("B1", dec!(1), "LB", dec!(50)));
            },
            ask(ABC, dec!(1000), "LB"),
            PriceSource::Customer,
            Some("D1"),
            dec!(0.44),
        ),
        (
            "product discount beats category and all",
            |i| {
                i.discounts
                    .push(discount("D-ALL", DiscountScope::All, dec!(5), always()));
                i.discounts.push(discount(
                    "D-CAT",
                    DiscountScope::Category("Steel > Flat".into()),
                    dec!(10),
                    always(),
                ));
                i.discounts.push(discount(
                    "D-SKU",
                    DiscountScope::Product("A36-BAR".into()),
                    dec!(12),
                    always(),
                ));
            },
            ask(ABC, dec!(1), "LB"),
            PriceSource::Customer,
            Some("D-SKU"),
            dec!(0.44),
        ),
        (
            "category discount beats all; covers sub-categories",
            |i| {
                i.discounts
                    .push(discount("D-ALL", DiscountScope::All, dec!(5), always()));
                i.discounts.push(discount(
                    "D-CAT",
                    DiscountScope::Category("Steel > Flat".into()),
                    dec!(10),
                    always(),
                ));
                i.discounts.push(discount(
                    "D-SKU",
                    DiscountScope::Product("OTHER".into()),
                    dec!(12),
                    always(),
                ));
            },
            ask(ABC, dec!(1), "LB"),
            PriceSource::Customer,
            Some("D-CAT"),
            dec!(0.45),
        ),
        (
            "the deeper category beats the shallower",
            |i| {
                i.discounts.push(discount(
                    "D-STEEL",
                    DiscountScope::Category("Steel".into()),
                    dec!(20),
                    always(),
                ));
                i.discounts.push(discount(
                    "D-BAR",
                    DiscountScope::Category("steel>flat>bar".into()),
                    dec!(4),
                    always(),
                ));
            },
            ask(ABC, dec!(1), "LB"),
            PriceSource::Customer,
            Some("D-BAR"),
            dec!(0.48),
        ),
        (
            "a sibling category does not cover it",
            |i| {
                i.discounts
                    .push(discount("D-ALL", DiscountScope::All, dec!(5), always()));
                i.discounts.push(discount(
                    "D-ROUND",
                    DiscountScope::Category("Steel > Round".into()),
                    dec!(10),
                    always(),
                ));
                i.discounts.push(discount(
                    "D-DEEP",
                    DiscountScope::Category("Steel > Flat > Bar > Wide".into()),
                    dec!(10),
                    always(),
                ));
            },
            ask(ABC, dec!(1), "LB"),
            PriceSource::Customer,
            Some("D-ALL"),
            dec!(0.475),
        ),
        (
            "a category discount does not cover a product without category",
            |i| {
                i.product.category = None;
                i.discounts.push(discount(
                    "D-CAT",
                    DiscountScope::Category("Steel".into()),
                    dec!(10),
                    always(),
                ));
            },
            ask(ABC, dec!(1), "LB"),
            PriceSource::None,
            None,
            dec!(0.50),
        ),
        (
            "tie: two product discounts, the newer wins",
            |i| {
                i.discounts.push(discount(
                    "D-OLD",
                    DiscountScope::Product("A36-BAR".into()),
                    dec!(20),
                    from("2026-01-01"),
                ));
                i.discounts.push(discount(
                    "D-NEW",
                    DiscountScope::Product("A36-BAR".into()),
                    dec!(10),
                    from("2026-03-01"),
                ));
            },
            ask(ABC, dec!(1), "LB"),
            PriceSource::Customer,
            Some("D-NEW"),
            dec!(0.45),
        ),
        (
            "tie: two discounts on all from the same day, the smaller id wins",
            |i| {
                i.discounts
                    .push(discount("D2", DiscountScope::All, dec!(20), always()));
                i.discounts
                    .push(discount("D1", DiscountScope::All, dec!(10), always()));
            },
            ask(ABC, dec!(1), "LB"),
            PriceSource::Customer,
            Some("D1"),
            dec!(0.45),
        ),
        (
            "an expired discount falls through to the tier",
            |i| {
                i.discounts.push(discount(
                    "D1",
                    DiscountScope::All,
                    dec!(12),
                    through(YESTERDAY),
                ));
                i.tier = gold();
            },
            ask(ABC, dec!(1), "LB"),
            PriceSource::Tier,
            Some("GOLD"),
            dec!(0.46),
        ),
        (
            "a discount ending today applies",
            |i| {
                i.discounts
                    .push(discount("D1", DiscountScope::All, dec!(12), through(TODAY)));
            },
            ask(ABC, dec!(1), "LB"),
            PriceSource::Customer,
            Some("D1"),
            dec!(0.44),
        ),
        // Tiers.
        (
            "tier GOLD is 8 % off list",
            |i| {
                i.tier = gold();
            },
            ask(ABC, dec!(1), "LB"),
            PriceSource::Tier,
            Some("GOLD"),
            dec!(0.46),
        ),
        (
            "tier off list per FT",
            |i| {
                i.tier = gold();
            },
            ask(ABC, dec!(1), "FT"),
            PriceSource::Tier,
            Some("GOLD"),
            dec!(1.564),
        ),
        (
            "tier does not stack with a reached volume break",
            |i| {
                i.tier = gold();
                i.breaks.push(pct_break("B500", dec!(500), "LB", dec!(5)));
            },
            ask(ABC, dec!(500), "LB"),
            PriceSource::Tier,
            Some("GOLD"),
            dec!(0.46),
        ),
        (
            "another customer's tier does not apply",
            |i| {
                i.tier = gold();
                i.tier.as_mut().unwrap().customer_id = "XYZ".into();
            },
            ask(ABC, dec!(1), "LB"),
            PriceSource::None,
            None,
            dec!(0.50),
        ),
        // Volume breaks.
        (
            "break quantity exactly applies",
            |i| {
                i.breaks.push(pct_break("B500", dec!(500), "LB", dec!(5)));
            },
            ask(None, dec!(500), "LB"),
            PriceSource::Volume,
            Some("B500"),
            dec!(0.475),
        ),
        (
            "one below the break does not",
            |i| {
                i.breaks.push(pct_break("B500", dec!(500), "LB", dec!(5)));
            },
            ask(None, dec!(499.99), "LB"),
            PriceSource::None,
            None,
            dec!(0.50),
        ),
        (
            "a break in LB is reached by feet: 100 FT is exactly 340 LB",
            |i| {
                i.breaks.push(pct_break("B340", dec!(340), "LB", dec!(10)));
            },
            ask(None, dec!(100), "FT"),
            PriceSource::Volume,
            Some("B340"),
            dec!(1.53),
        ),
        (
            "99.99 FT is not",
            |i| {
                i.breaks.push(pct_break("B340", dec!(340), "LB", dec!(10)));
            },
            ask(None, dec!(99.99), "FT"),
            PriceSource::None,
            None,
            dec!(1.70),
        ),
        (
            "a break in FT is reached by pounds: 340 LB is exactly 100 FT",
            |i| {
                i.breaks
                    .push(price_break("B100FT", dec!(100), "FT", dec!(1.50)));
            },
            ask(None, dec!(340), "LB"),
            PriceSource::Volume,
            Some("B100FT"),
            dec!(0.4412),
        ),
        (
            "the highest break reached wins",
            |i| {
                i.breaks.push(pct_break("B500", dec!(500), "LB", dec!(5)));
                i.breaks.push(price_break("B1T", dec!(1), "TON", dec!(800)));
                i.breaks.push(pct_break("B5T", dec!(5), "TON", dec!(30)));
            },
            ask(None, dec!(2000), "LB"),
            PriceSource::Volume,
            Some("B1T"),
            dec!(0.40),
        ),
        (
            "tie: two breaks at one threshold, the smaller id wins",
            |i| {
                i.breaks.push(pct_break("B-2", dec!(500), "LB", dec!(5)));
                i.breaks.push(pct_break("B-1", dec!(5), "CWT", dec!(6)));
            },
            ask(None, dec!(600), "LB"),
            PriceSource::Volume,
            Some("B-1"),
            dec!(0.47),
        ),
        (
            "a fixed break price needs no list price",
            |i| {
                i.list_prices.clear();
                i.breaks
                    .push(price_break("B1", dec!(100), "LB", dec!(0.45)));
            },
            ask(None, dec!(100), "LB"),
            PriceSource::Volume,
            Some("B1"),
            dec!(0.45),
        ),
        (
            "an expired break does not apply",
            |i| {
                let mut b = pct_break("B1", dec!(1), "LB", dec!(5));
                b.validity = through(YESTERDAY);
                i.breaks.push(b);
            },
            ask(None, dec!(10), "LB"),
            PriceSource::None,
            None,
            dec!(0.50),
        ),
        // List prices.
        (
            "tie: two price lists, the newer wins",
            |i| {
                i.list_prices
                    .push(list("PL-JUNE", "USD", dec!(0.55), "LB", from("2026-06-01")));
            },
            ask(None, dec!(1), "LB"),
            PriceSource::None,
            None,
            dec!(0.55),
        ),
        (
            "a price list from tomorrow does not apply yet",
            |i| {
                i.list_prices
                    .push(list("PL-NEXT", "USD", dec!(0.55), "LB", from(TOMORROW)));
            },
            ask(None, dec!(1), "LB"),
            PriceSource::None,
            None,
            dec!(0.50),
        ),
        (
            "tie: two price lists from the same day, the smaller id wins",
            |i| {
                i.list_prices
                    .push(list("PL-0000", "USD", dec!(0.60), "LB", always()));
            },
            ask(None, dec!(1), "LB"),
            PriceSource::None,
            None,
            dec!(0.60),
        ),
        (
            "a price in the asked unit beats a converted one",
            |i| {
                i.list_prices
                    .push(list("PL-2026", "USD", dec!(1.65), "FT", always()));
            },
            ask(None, dec!(1), "FT"),
            PriceSource::None,
            None,
            dec!(1.65),
        ),
        (
            "a price that converts beats one that does not",
            |i| {
                i.list_prices
                    .push(list("PL-0000", "USD", dec!(9), "SF", always()));
            },
            ask(None, dec!(1), "FT"),
            PriceSource::None,
            None,
            dec!(1.70),
        ),
        (
            "the currency asked picks the list",
            |i| {
                i.list_prices
                    .push(list("PL-EU", "EUR", dec!(0.47), "LB", always()));
            },
            PriceQuery {
                currency: Some("EUR".into()),
                ..ask(None, dec!(1), "LB")
            },
            PriceSource::None,
            None,
            dec!(0.47),
        ),
        (
            "one currency on the day needs no asking",
            |_| {},
            PriceQuery {
                currency: None,
                ..ask(None, dec!(1), "LB")
            },
            PriceSource::None,
            None,
            dec!(0.50),
        ),
        (
            "no unit asked: the base unit",
            |_| {},
            PriceQuery {
                uom: None,
                ..ask(None, dec!(1), "LB")
            },
            PriceSource::None,
            None,
            dec!(0.50),
        ),
        // Login required with a customer.
        (
            "login required with a customer gives the price",
            |i| {
                i.product.visibility = Visibility::LoginRequired;
                i.tier = gold();
            },
            ask(ABC, dec!(1), "LB"),
            PriceSource::Tier,
            Some("GOLD"),
            dec!(0.46),
        ),
    ]
}

#[test]
fn resolution_table() {
    let cases = cases();
    for (what, change, query, source, id, price) in &cases {
        let mut inputs = bar();
        change(&mut inputs);
        let b = resolve(&inputs, query).unwrap_or_else(|e| panic!("{what}: {e}"));
        let p = b
            .price
            .as_ref()
            .unwrap_or_else(|| panic!("{what}: no price"));
        assert_eq!(p.source, *source, "{what}");
        assert_eq!(p.source_id.as_deref(), *id, "{what}");
        assert_eq!(p.customer_price, *price, "{what}");
        assert!(!b.requires_quote && !b.login_required, "{what}");
        if let Some(list) = p.list_price {
            assert_eq!(p.discount_amount, Some(list - p.customer_price), "{what}");
        }
    }
    assert!(cases.len() >= 45, "{}", cases.len());
}

#[test]
fn breakdown_of_a_tier_price() {
    let mut i = bar();
    i.tier = gold();
    i.list_prices[0].validity = Validity {
        from: Some(day("2026-01-01")),
        to: Some(day("2026-12-31")),
    };
    i.breaks.push(pct_break("B500", dec!(500), "LB", dec!(5)));
    i.breaks.push(price_break("B1T", dec!(1), "TON", dec!(800)));
    let b = resolve(&i, &ask(ABC, dec!(100), "FT")).unwrap();
    let p = b.price.unwrap();
    assert_eq!(p.list_price, Some(dec!(1.70)));
    assert_eq!(p.customer_price, dec!(1.564));
    assert_eq!(p.discount_amount, Some(dec!(0.136)));
    assert_eq!(p.discount_percent, Some(dec!(8)));
    assert_eq!(b.currency.as_deref(), Some("USD"));
    assert_eq!(b.uom, u("FT"));
    assert_eq!(b.price_list_id.as_deref(), Some("PL-2026"));
    // A tier is a percentage of list: it holds while the list price does.
    assert_eq!(b.validity, i.list_prices[0].validity);
    // The breaks, lowest first, per FT; 100 FT is 340 LB: neither is reached.
    // (id, threshold per FT, unit price, percent off, reached)
    type Shown<'a> = (&'a str, Decimal, Option<Decimal>, Option<Decimal>, bool);
    let shown: Vec<Shown> = b
        .volume_breaks
        .iter()
        .map(|v| {
            (
                v.id.as_str(),
                v.min_quantity_in_uom.round_dp(4),
                v.unit_price,
                v.discount_percent,
                v.reached,
            )
        })
        .collect();
    assert_eq!(
        shown,
        vec![
            (
                "B500",
                dec!(147.0588),
                Some(dec!(1.615)),
                Some(dec!(5)),
                false
            ),
            (
                "B1T",
                dec!(588.2353),
                Some(dec!(1.36)),
                Some(dec!(20)),
                false
            ),
        ]
    );
}

#[test]
fn breakdown_of_a_contract_without_list_price() {
    let mut i = bar();
    i.list_prices.clear();
    let c = contract("C1", "ABC", dec!(0.42), "LB", through("2026-12-31"));
    i.contracts.push(c.clone());
    let b = resolve(&i, &ask(ABC, dec!(1), "LB")).unwrap();
    let p = b.price.unwrap();
    assert_eq!(p.source, PriceSource::Contract);
    assert_eq!(p.list_price, None);
    assert_eq!(p.discount_amount, None);
    assert_eq!(p.discount_percent, None);
    assert_eq!(b.price_list_id, None);
    assert_eq!(b.validity, c.validity);
}

#[test]
fn a_contract_above_list_is_a_negative_discount() {
    let mut i = bar();
    i.contracts
        .push(contract("C1", "ABC", dec!(0.55), "LB", always()));
    let p = resolve(&i, &ask(ABC, dec!(1), "LB"))
        .unwrap()
        .price
        .unwrap();
    assert_eq!(p.discount_amount, Some(dec!(-0.05)));
    assert_eq!(p.discount_percent, Some(dec!(-10)));
}

#[test]
fn quote_only_gives_no_price_to_anyone() {
    let mut i = bar();
    i.product.visibility = Visibility::QuoteOnly;
    i.contracts
        .push(contract("C1", "ABC", dec!(0.42), "LB", always()));
    for customer in [None, ABC] {
        let b = resolve(&i, &ask(customer, dec!(1), "LB")).unwrap();
        assert!(b.requires_quote);
        assert_eq!(b.price, None);
        assert_eq!(b.currency, None);
        assert!(b.volume_breaks.is_empty());
    }
}

#[test]
fn login_required_without_customer_gives_no_price() {
    let mut i = bar();
    i.product.visibility = Visibility::LoginRequired;
    let b = resolve(&i, &ask(None, dec!(1), "LB")).unwrap();
    assert!(b.login_required);
    assert!(!b.requires_quote);
    assert_eq!(b.price, None);
    // A public product shows the list price to anonymous visitors.
    i.product.visibility = Visibility::Public;
    assert!(resolve(&i, &ask(None, dec!(1), "LB"))
        .unwrap()
        .price
        .is_some());
}

#[test]
fn errors_table() {
    // (what, inputs changed, the question, the message)
    type ErrCase = (
        &'static str,
        fn(&mut PricingInputs),
        PriceQuery,
        &'static str,
    );
    let cases: Vec<ErrCase> = vec![
        (
            "a unit with no path from the list price's",
            |_| {},
            ask(None, dec!(1), "SF"),
            "A36-BAR: no conversion from SF to LB for this product",
        ),
        (
            "a contract in a unit with no path",
            |i| {
                i.contracts
                    .push(contract("C1", "ABC", dec!(9), "SF", always()));
            },
            ask(ABC, dec!(1), "LB"),
            "A36-BAR: no conversion from LB to SF for this product",
        ),
        (
            "a break in a unit with no path",
            |i| {
                i.breaks.push(pct_break("B1", dec!(10), "SF", dec!(5)));
            },
            ask(None, dec!(1), "LB"),
            "A36-BAR: no conversion from LB to SF for this product",
        ),
        (
            "no price at all in the currency",
            |_| {},
            PriceQuery {
                currency: Some("EUR".into()),
                ..ask(None, dec!(1), "LB")
            },
            "A36-BAR: no price in EUR on 2026-06-15",
        ),
        (
            "a discount needs a list price",
            |i| {
                i.list_prices.clear();
                i.discounts
                    .push(discount("D1", DiscountScope::All, dec!(10), always()));
            },
            ask(ABC, dec!(1), "LB"),
            "A36-BAR: no price in USD on 2026-06-15",
        ),
        (
            "nothing priced on the day and no currency asked",
            |i| {
                i.list_prices.clear();
            },
            PriceQuery {
                currency: None,
                ..ask(None, dec!(1), "LB")
            },
            "A36-BAR: no price on 2026-06-15",
        ),
        (
            "an expired list price is no price",
            |i| {
                i.list_prices[0].validity = through(YESTERDAY);
            },
            ask(None, dec!(1), "LB"),
            "A36-BAR: no price in USD on 2026-06-15",
        ),
        (
            "several currencies and none asked",
            |i| {
                i.list_prices
                    .push(list("PL-EU", "EUR", dec!(0.47), "LB", always()));
            },
            PriceQuery {
                currency: None,
                ..ask(None, dec!(1), "LB")
            },
            "A36-BAR: priced in several currencies on 2026-06-15 (EUR, USD); say which",
        ),
        (
            "a quantity of zero",
            |_| {},
            ask(None, dec!(0), "LB"),
            "A36-BAR: quantity must be greater than zero, got 0",
        ),
    ];
    for (what, change, query, message) in cases {
        let mut i = bar();
        change(&mut i);
        let e = resolve(&i, &query).expect_err(what);
        assert_eq!(e.to_string(), message, "{what}");
    }
}

#[test]
fn validity_is_inclusive_and_intersects() {
    let v = Validity {
        from: Some(day("2026-01-01")),
        to: Some(day(TODAY)),
    };
    assert!(v.contains(day(TODAY)));
    assert!(v.contains(day("2026-01-01")));
    assert!(!v.contains(day(TOMORROW)));
    assert!(!v.contains(day("2025-12-31")));
    assert!(Validity::ALWAYS.contains(day("1900-01-01")));
    let w = Validity {
        from: Some(day("2026-03-01")),
        to: None,
    };
    assert_eq!(
        v.and(w),
        Validity {
            from: Some(day("2026-03-01")),
            to: Some(day(TODAY)),
        }
    );
    assert_eq!(Validity::ALWAYS.and(v), v);
}

#[test]
fn extended_prices_round_to_money() {
    // 100 FT at $1.428/FT; 3 pieces at $28.5555 → 85.6665 → 85.67.
    assert_eq!(extended_price(dec!(1.428), dec!(100)), Some(dec!(142.80)));
    assert_eq!(extended_price(dec!(28.5555), dec!(3)), Some(dec!(85.67)));
    // The unit price is rounded to 4 places first, as shown.
    assert_eq!(
        extended_price(dec!(0.123456), dec!(1000)),
        Some(dec!(123.50))
    );
    assert_eq!(extended_price(Decimal::MAX, dec!(2)), None);
}

#[test]
fn visibility_codes() {
    for v in Visibility::ALL {
        assert_eq!(Visibility::parse(v.as_str()), Some(v));
    }
    assert_eq!(Visibility::parse("PUBLIC"), None);
}

#[test]
fn a_discount_covers_its_product_its_category_tree_or_everything() {
    let p = bar().product;
    let covers = |scope: DiscountScope| discount("D", scope, dec!(5), always()).covers(&p);
    assert!(covers(DiscountScope::Product("A36-BAR".into())));
    assert!(!covers(DiscountScope::Product("OTHER".into())));
    // The category and its parents, level by level, trimmed and case-folded.
    assert!(covers(DiscountScope::Category("Steel > Flat > Bar".into())));
    assert!(covers(DiscountScope::Category("steel>flat".into())));
    assert!(!covers(DiscountScope::Category("Steel > Fl".into())));
    assert!(!covers(DiscountScope::Category(
        "Steel > Flat > Bar > Hot".into()
    )));
    assert!(covers(DiscountScope::All));
    let uncategorized = ProductTerms {
        category: None,
        ..bar().product
    };
    assert!(!discount(
        "D",
        DiscountScope::Category("Steel".into()),
        dec!(5),
        always()
    )
    .covers(&uncategorized));
}
