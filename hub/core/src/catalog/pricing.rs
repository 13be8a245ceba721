//! The price a customer sees: one pure function, [`resolve`], over a product's pricing inputs
//! ([`PricingInputs`], loaded by the store) and a question ([`PriceQuery`]: who, how many, in
//! which unit, on which day).
//!
//! The order is SteelWise 3.1's, **first match wins**: a contract price › the customer's own
//! discount › the customer's tier › a volume break › the list price. Rules do not stack: a
//! customer on GOLD (8 %) ordering past a 5 % volume break pays list − 8 %, not list − 8 % − 5 %
//! (3.1 says each step applies only "if no" earlier one; the breaks are still listed in the
//! breakdown for display). A rule that needs a list price (every percentage) does not match
//! when there is none, and the next one is tried.
//!
//! Ties, each broken the same way so one answer is always the same answer:
//! * two rules of the same kind valid on the day: the **newest** (latest `valid_from`; an
//!   open start is the oldest) wins, then the smallest id — a new agreement supersedes an old
//!   one without the old one having to be closed first;
//! * customer discounts: the most specific scope first — the product, then a category (a deeper
//!   one first: `Steel > Flat > Sheet` before `Steel > Flat`; a category discount covers the
//!   product's category and its sub-categories), then all products — and only then the above;
//! * volume breaks: the highest threshold reached (compared in the asked unit), then the above;
//! * list prices: the newest, then the smallest price-list id, then one in the asked unit over
//!   one that must be converted, then the unit code.
//!
//! Dates are whole days, both ends inclusive: a contract through today applies today and not
//! tomorrow. Rounding is [`super::uom`]'s: unit prices to 4 places.

use super::uom::{round_price, Conversion, Converter, Uom, UomError};
use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::cmp::Ordering;

/// Who may see a product's price (SteelWise 2.1 `priceVisibility`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Visibility {
    /// Everyone, anonymous visitors included.
    #[default]
    Public,
    /// Only a known customer; without one there is no price.
    LoginRequired,
    /// Nobody: the answer is `requires_quote` and no price.
    QuoteOnly,
}

impl Visibility {
    pub const ALL: [Visibility; 3] = [
        Visibility::Public,
        Visibility::LoginRequired,
        Visibility::QuoteOnly,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Visibility::Public => "public",
            Visibility::LoginRequired => "login_required",
            Visibility::QuoteOnly => "quote_only",
        }
    }

    pub fn parse(s: &str) -> Option<Visibility> {
        Self::ALL.into_iter().find(|v| v.as_str() == s)
    }
}

/// Days a row applies, both ends inclusive; an absent end is open.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Validity {
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
}

impl Validity {
    pub const ALWAYS: Validity = Validity {
        from: None,
        to: None,
    };

    pub fn contains(&self, day: NaiveDate) -> bool {
        self.from.is_none_or(|f| f <= day) && self.to.is_none_or(|t| day <= t)
    }

    /// The days both hold.
    pub fn and(self, other: Validity) -> Validity {
        Validity {
            from: self.from.max(other.from),
            to: match (self.to, other.to) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            },
        }
    }
}

/// What the resolver needs to know of the product itself.
#[derive(Debug, Clone, PartialEq)]
pub struct ProductTerms {
    pub sku: String,
    /// A path such as `Steel > Flat > Sheet`; `None` when the product has no category.
    pub category: Option<String>,
    pub visibility: Visibility,
    /// The unit a question without one is answered in.
    pub base_uom: Uom,
    /// The product's own conversions (the fixed ones are always known).
    pub conversions: Vec<Conversion>,
}

/// A list price of the product on a price list.
#[derive(Debug, Clone, PartialEq)]
pub struct ListPrice {
    pub price_list_id: String,
    pub currency: String,
    /// Per one `uom`.
    pub amount: Decimal,
    pub uom: Uom,
    /// The row's validity within its price list's (the store intersects them).
    pub validity: Validity,
}

/// A fixed price per product for one customer, through a date.
#[derive(Debug, Clone, PartialEq)]
pub struct Contract {
    pub id: String,
    pub customer_id: String,
    pub price: Decimal,
    pub uom: Uom,
    pub currency: String,
    pub validity: Validity,
}

/// What a customer discount covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DiscountScope {
    Product(String),
    /// The category and its sub-categories.
    Category(String),
    All,
}

/// A customer's own percentage off list.
#[derive(Debug, Clone, PartialEq)]
pub struct CustomerDiscount {
    pub id: String,
    pub customer_id: String,
    pub scope: DiscountScope,
    pub percent: Decimal,
    pub validity: Validity,
}

impl CustomerDiscount {
    /// Whether the discount can price `product` (on some day): its SKU, its category or a
    /// parent of it, or every product — the test [`resolve`] applies, so a caller choosing
    /// whose prices to show (the price sync) never disagrees with it.
    pub fn covers(&self, product: &ProductTerms) -> bool {
        specificity(&self.scope, product).is_some()
    }
}

/// The tier a customer is assigned to, with its percentage off list.
#[derive(Debug, Clone, PartialEq)]
pub struct CustomerTier {
    pub customer_id: String,
    pub code: String,
    pub percent: Decimal,
}

/// What a volume break gives.
#[derive(Debug, Clone, PartialEq)]
pub enum BreakAdjustment {
    /// A unit price per the break's unit, in a currency.
    Price { amount: Decimal, currency: String },
    /// A percentage off list.
    Percent(Decimal),
}

/// From `min_quantity` of `uom` up (exactly the threshold included).
#[derive(Debug, Clone, PartialEq)]
pub struct VolumeBreak {
    pub id: String,
    pub min_quantity: Decimal,
    pub uom: Uom,
    pub adjustment: BreakAdjustment,
    pub validity: Validity,
}

/// Everything one product's price depends on for one customer.
#[derive(Debug, Clone, PartialEq)]
pub struct PricingInputs {
    pub product: ProductTerms,
    pub list_prices: Vec<ListPrice>,
    pub contracts: Vec<Contract>,
    pub discounts: Vec<CustomerDiscount>,
    pub tier: Option<CustomerTier>,
    pub breaks: Vec<VolumeBreak>,
}

/// The question.
#[derive(Debug, Clone, PartialEq)]
pub struct PriceQuery {
    pub customer_id: Option<String>,
    /// In `uom`; volume breaks are reached by it.
    pub quantity: Decimal,
    /// `None`: the product's base unit.
    pub uom: Option<Uom>,
    /// `None`: the one currency the product is priced in on the day (an error when several).
    pub currency: Option<String>,
    pub on: NaiveDate,
}

/// Which rule set the customer price (SteelWise 3.2 `discountSource`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum PriceSource {
    Contract,
    Customer,
    Tier,
    Volume,
    /// The list price.
    None,
}

/// The price that won and how it compares with list; unit prices per the asked unit.
#[derive(Debug, Clone, PartialEq)]
pub struct ResolvedPrice {
    /// `None` when the product has no list price (a contract or a fixed volume price set the
    /// price alone).
    pub list_price: Option<Decimal>,
    pub customer_price: Decimal,
    /// list − customer; `None` without a list price.
    pub discount_amount: Option<Decimal>,
    /// The discount as a percentage of list, 4 places; `None` without a list price or at a
    /// list price of zero.
    pub discount_percent: Option<Decimal>,
    pub source: PriceSource,
    /// The contract id, discount id, tier code or volume break id that won.
    pub source_id: Option<String>,
}

/// A volume break as the asked unit sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct BreakView {
    pub id: String,
    pub min_quantity: Decimal,
    pub uom: Uom,
    /// The break's threshold in the asked unit.
    pub min_quantity_in_uom: Decimal,
    /// The unit price it gives, per the asked unit; `None` for a percentage without a list price.
    pub unit_price: Option<Decimal>,
    /// Off list; `None` without a list price.
    pub discount_percent: Option<Decimal>,
    /// Whether the asked quantity reaches it.
    pub reached: bool,
}

/// The answer.
#[derive(Debug, Clone, PartialEq)]
pub struct PriceBreakdown {
    pub sku: String,
    pub customer_id: Option<String>,
    pub quantity: Decimal,
    pub uom: Uom,
    /// `None` only when no price is given (quote only, login required).
    pub currency: Option<String>,
    pub requires_quote: bool,
    /// The product's price is shown only to a known customer and none was given.
    pub login_required: bool,
    /// `None` when `requires_quote` or `login_required`.
    pub price: Option<ResolvedPrice>,
    /// The breaks valid on the day in the currency, lowest threshold first.
    pub volume_breaks: Vec<BreakView>,
    /// The days the customer price holds: the winning rule's validity, within the list
    /// price's when the rule is a percentage of it.
    pub validity: Validity,
    /// The price list the list price came from.
    pub price_list_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PricingError {
    #[error("{sku}: {source}")]
    Uom {
        sku: String,
        #[source]
        source: UomError,
    },
    #[error("{sku}: no price in {currency} on {on}")]
    NoPrice {
        sku: String,
        currency: String,
        on: NaiveDate,
    },
    #[error("{sku}: no price on {on}")]
    Unpriced { sku: String, on: NaiveDate },
    #[error("{sku}: priced in several currencies on {on} ({}); say which", currencies.join(", "))]
    AmbiguousCurrency {
        sku: String,
        currencies: Vec<String>,
        on: NaiveDate,
    },
    #[error("{sku}: quantity must be greater than zero, got {quantity}")]
    Quantity { sku: String, quantity: Decimal },
}

const HUNDRED: Decimal = Decimal::ONE_HUNDRED;

/// The price `q` gets for the product of `inputs`.
pub fn resolve(inputs: &PricingInputs, q: &PriceQuery) -> Result<PriceBreakdown, PricingError> {
    let p = &inputs.product;
    let sku = || p.sku.clone();
    let uom = q.uom.clone().unwrap_or_else(|| p.base_uom.clone());
    let mut out = PriceBreakdown {
        sku: p.sku.clone(),
        customer_id: q.customer_id.clone(),
        quantity: q.quantity,
        uom: uom.clone(),
        currency: None,
        requires_quote: false,
        login_required: false,
        price: None,
        volume_breaks: Vec::new(),
        validity: Validity::ALWAYS,
        price_list_id: None,
    };
    if q.quantity <= Decimal::ZERO {
        return Err(PricingError::Quantity {
            sku: sku(),
            quantity: q.quantity,
        });
    }
    match p.visibility {
        Visibility::QuoteOnly => {
            out.requires_quote = true;
            return Ok(out);
        }
        Visibility::LoginRequired if q.customer_id.is_none() => {
            out.login_required = true;
            return Ok(out);
        }
        _ => {}
    }
    let conv = Converter::for_product(&p.conversions);
    let uom_err = |source| PricingError::Uom { sku: sku(), source };
    let customer = q.customer_id.as_deref();
    let contracts: Vec<&Contract> = inputs
        .contracts
        .iter()
        .filter(|c| Some(c.customer_id.as_str()) == customer && c.validity.contains(q.on))
        .collect();
    let currency = match &q.currency {
        Some(c) => c.clone(),
        None => only_currency(inputs, &contracts, q.on, &p.sku)?,
    };

    // The list price: every percentage is taken off it.
    let list =
        pick_list_price(&inputs.list_prices, &currency, &uom, q.on, &conv).map_err(uom_err)?;
    let list_amount = list.map(|(_, a)| a);

    // The breaks: shown whatever wins; the best reached one is step 4.
    // (break, its unrounded unit price, what is shown)
    let mut breaks: Vec<(&VolumeBreak, Option<Decimal>, BreakView)> = Vec::new();
    for b in inputs.breaks.iter().filter(|b| b.validity.contains(q.on)) {
        let unit_price = match &b.adjustment {
            BreakAdjustment::Price { currency: c, .. } if *c != currency => continue,
            BreakAdjustment::Price { amount, .. } => {
                Some(conv.unit_price(*amount, &b.uom, &uom).map_err(uom_err)?)
            }
            BreakAdjustment::Percent(pct) => list_amount.map(|l| off(l, *pct)),
        };
        let reached = conv.quantity(q.quantity, &uom, &b.uom).map_err(uom_err)? >= b.min_quantity;
        let min_in_uom = conv
            .quantity(b.min_quantity, &b.uom, &uom)
            .map_err(uom_err)?;
        breaks.push((
            b,
            unit_price,
            BreakView {
                id: b.id.clone(),
                min_quantity: b.min_quantity,
                uom: b.uom.clone(),
                min_quantity_in_uom: min_in_uom,
                unit_price: unit_price.map(round_price),
                discount_percent: unit_price.and_then(|u| percent_off(list_amount, u)),
                reached,
            },
        ));
    }
    breaks.sort_by(|a, b| {
        a.2.min_quantity_in_uom
            .cmp(&b.2.min_quantity_in_uom)
            .then_with(|| newest_first(a.0.validity, b.0.validity, &a.0.id, &b.0.id).reverse())
    });

    let list_validity = list.map(|(l, _)| l.validity).unwrap_or(Validity::ALWAYS);
    // (unrounded customer price, source, id, validity)
    let mut won: Option<(Decimal, PriceSource, String, Validity)> = None;

    // 1. A contract.
    if let Some(c) = contracts
        .iter()
        .filter(|c| c.currency == currency)
        .min_by(|a, b| newest_first(a.validity, b.validity, &a.id, &b.id))
    {
        let price = conv.unit_price(c.price, &c.uom, &uom).map_err(uom_err)?;
        won = Some((price, PriceSource::Contract, c.id.clone(), c.validity));
    }
    if let (None, Some(list_amount), Some(customer)) = (&won, list_amount, customer) {
        // 2. The customer's own discount, the most specific first.
        let specific = |d: &CustomerDiscount| specificity(&d.scope, p);
        if let Some((d, _)) = inputs
            .discounts
            .iter()
            .filter(|d| d.customer_id == customer && d.validity.contains(q.on))
            .filter_map(|d| specific(d).map(|s| (d, s)))
            .min_by(|(a, sa), (b, sb)| {
                sb.cmp(sa)
                    .then_with(|| newest_first(a.validity, b.validity, &a.id, &b.id))
            })
        {
            won = Some((
                off(list_amount, d.percent),
                PriceSource::Customer,
                d.id.clone(),
                d.validity.and(list_validity),
            ));
        } else if let Some(t) = inputs.tier.as_ref().filter(|t| t.customer_id == customer) {
            // 3. The customer's tier.
            won = Some((
                off(list_amount, t.percent),
                PriceSource::Tier,
                t.code.clone(),
                list_validity,
            ));
        }
    }
    if won.is_none() {
        // 4. The highest break reached that gives a price.
        if let Some((b, Some(price), _)) = breaks
            .iter()
            .rev()
            .find(|(_, price, v)| v.reached && price.is_some())
        {
            let validity = match b.adjustment {
                BreakAdjustment::Price { .. } => b.validity,
                BreakAdjustment::Percent(_) => b.validity.and(list_validity),
            };
            won = Some((*price, PriceSource::Volume, b.id.clone(), validity));
        }
    }
    // 5. The list price.
    let won = match (won, list) {
        (Some(w), _) => w,
        (None, Some((l, amount))) => (amount, PriceSource::None, String::new(), l.validity),
        (None, None) => {
            return Err(PricingError::NoPrice {
                sku: sku(),
                currency,
                on: q.on,
            })
        }
    };
    let (customer_price, source, id, validity) = won;
    let customer_price = round_price(customer_price);
    let list_rounded = list_amount.map(round_price);
    out.price = Some(ResolvedPrice {
        list_price: list_rounded,
        customer_price,
        discount_amount: list_rounded.map(|l| l - customer_price),
        discount_percent: percent_off(list_rounded, customer_price),
        source,
        source_id: (source != PriceSource::None).then_some(id),
    });
    out.currency = Some(currency);
    out.volume_breaks = breaks.into_iter().map(|(_, _, v)| v).collect();
    out.validity = validity;
    out.price_list_id = list.map(|(l, _)| l.price_list_id.clone());
    Ok(out)
}

/// A line's extended price: the unit price as shown (4 places) times the quantity, rounded
/// to money (2 places), so unit × quantity on the customer's screen is the line's amount.
/// `None` on overflow.
pub fn extended_price(unit_price: Decimal, quantity: Decimal) -> Option<Decimal> {
    round_price(unit_price)
        .checked_mul(quantity)
        .map(super::uom::round_money)
}

/// `amount` less `pct` percent.
fn off(amount: Decimal, pct: Decimal) -> Decimal {
    amount * (HUNDRED - pct) / HUNDRED
}

/// How far below `list` `price` is, in percent of list, 4 places.
fn percent_off(list: Option<Decimal>, price: Decimal) -> Option<Decimal> {
    let list = list.filter(|l| !l.is_zero())?;
    Some(round_price((list - price) * HUNDRED / list))
}

/// `Less` for the rule that wins a tie: the later start (an open start is the oldest), then
/// the smaller id.
fn newest_first(a: Validity, b: Validity, a_id: &str, b_id: &str) -> Ordering {
    b.from.cmp(&a.from).then_with(|| a_id.cmp(b_id))
}

/// How specific a discount is for product `p`, higher first; `None` when it does not cover it.
fn specificity(scope: &DiscountScope, p: &ProductTerms) -> Option<(u8, usize)> {
    match scope {
        DiscountScope::Product(sku) => (*sku == p.sku).then_some((2, 0)),
        DiscountScope::Category(c) => {
            let want = category_path(c);
            let have = category_path(p.category.as_deref()?);
            (!want.is_empty() && have.len() >= want.len() && have[..want.len()] == want[..])
                .then_some((1, want.len()))
        }
        DiscountScope::All => Some((0, 0)),
    }
}

/// `Steel > Flat > Sheet` as its levels, trimmed and case-folded, so `steel>flat` is the same.
fn category_path(c: &str) -> Vec<String> {
    c.split('>')
        .map(|s| s.trim().to_lowercase())
        .filter(|s| !s.is_empty())
        .collect()
}

/// The list price that applies, with its amount per `uom` (unrounded).
fn pick_list_price<'a>(
    prices: &'a [ListPrice],
    currency: &str,
    uom: &Uom,
    on: NaiveDate,
    conv: &Converter,
) -> Result<Option<(&'a ListPrice, Decimal)>, UomError> {
    let mut candidates: Vec<&ListPrice> = prices
        .iter()
        .filter(|l| l.currency == currency && l.validity.contains(on))
        .collect();
    candidates.sort_by(|a, b| {
        newest_first(a.validity, b.validity, &a.price_list_id, &b.price_list_id)
            .then_with(|| (b.uom == *uom).cmp(&(a.uom == *uom)))
            .then_with(|| a.uom.cmp(&b.uom))
    });
    // The first that converts to the asked unit; when none does, say why for the first.
    let Some(first) = candidates.first() else {
        return Ok(None);
    };
    for l in &candidates {
        if let Ok(a) = conv.unit_price(l.amount, &l.uom, uom) {
            return Ok(Some((l, a)));
        }
    }
    conv.unit_price(first.amount, &first.uom, uom).map(|_| None)
}

/// The one currency the product is priced in on the day, for a question that names none.
fn only_currency(
    inputs: &PricingInputs,
    contracts: &[&Contract],
    on: NaiveDate,
    sku: &str,
) -> Result<String, PricingError> {
    let mut currencies: Vec<String> = inputs
        .list_prices
        .iter()
        .filter(|l| l.validity.contains(on))
        .map(|l| l.currency.clone())
        .chain(contracts.iter().map(|c| c.currency.clone()))
        .chain(inputs.breaks.iter().filter_map(|b| match &b.adjustment {
            BreakAdjustment::Price { currency, .. } if b.validity.contains(on) => {
                Some(currency.clone())
            }
            _ => None,
        }))
        .collect();
    currencies.sort();
    currencies.dedup();
    match currencies.len() {
        1 => Ok(currencies.remove(0)),
        0 => Err(PricingError::Unpriced {
            sku: sku.to_owned(),
            on,
        }),
        _ => Err(PricingError::AmbiguousCurrency {
            sku: sku.to_owned(),
            currencies,
            on,
        }),
    }
}

#[cfg(test)]
#[path = "pricing_tests.rs"]
mod tests;
