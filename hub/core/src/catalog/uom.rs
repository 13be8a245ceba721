//! Units of measure for catalog and pricing: a [`Uom`] is any unit code (EA, LB, FT, SF, CWT and
//! TON are the ones SteelWise names; a distributor may sell in others, e.g. `BDL` for a bundle),
//! and a [`Converter`] finds how many of one unit another is through the conversions that hold
//! for every product ([`FIXED`]) and those that hold for one product (a bar's weight per foot).
//!
//! Conversions are exact: a path's factor is kept as a fraction (the product of the factors
//! walked forward over the product of those walked backward) and divided once, so 340 LB of a
//! 3.4 LB/FT bar is exactly 100 FT and a volume break at 100 FT applies to it.
//!
//! Rounding (the rule every price in the hub follows): conversions and the resolver compute
//! unrounded; a unit price leaves the resolver rounded to [`PRICE_DP`] (4) places, an amount of
//! money (an extended line, a total) to [`MONEY_DP`] (2) places, both half away from zero
//! (commercial rounding). Four places because steel is priced per pound at fractions of a cent
//! ($0.4213/LB); two because that is what is invoiced.

use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Serialize};
use std::collections::VecDeque;
use std::fmt;

/// Places a unit price is rounded to.
pub const PRICE_DP: u32 = 4;
/// Places an amount of money (extended price, subtotal) is rounded to.
pub const MONEY_DP: u32 = 2;

/// A unit price as it leaves the hub.
/// Always with 4 places (`1.7000`), so prices read the same however they were computed.
pub fn round_price(d: Decimal) -> Decimal {
    let mut r = d.round_dp_with_strategy(PRICE_DP, RoundingStrategy::MidpointAwayFromZero);
    r.rescale(PRICE_DP);
    r
}

/// An amount of money as it leaves the hub.
/// Always with 2 places (`142.80`).
pub fn round_money(d: Decimal) -> Decimal {
    let mut r = d.round_dp_with_strategy(MONEY_DP, RoundingStrategy::MidpointAwayFromZero);
    r.rescale(MONEY_DP);
    r
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UomError {
    #[error("`{0}` is not a unit code (1 to 10 letters or digits, e.g. EA, LB, FT)")]
    Invalid(String),
    #[error("no conversion from {from} to {to} for this product")]
    NoPath { from: Uom, to: Uom },
    #[error("conversion factor from {from} to {to} must be greater than zero, got {factor}")]
    NotPositive { from: Uom, to: Uom, factor: Decimal },
    #[error("{from} to {to} is fixed (1 {from} = {fixed} {to}) and cannot be set per product")]
    Fixed { from: Uom, to: Uom, fixed: Decimal },
    #[error("converting from {from} to {to} overflows a decimal")]
    Overflow { from: Uom, to: Uom },
}

/// A unit code, upper case. Known codes are not required: the hub converts what it has
/// conversions for and says which two units it cannot convert between.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Uom(String);

impl Uom {
    /// The codes SteelWise names (2.1 `baseUom`).
    pub const KNOWN: [&'static str; 6] = ["EA", "LB", "FT", "SF", "CWT", "TON"];

    /// Trimmed and upper-cased; 1 to 10 ASCII letters or digits.
    pub fn new(code: &str) -> Result<Uom, UomError> {
        let c = code.trim();
        if c.is_empty() || c.len() > 10 || !c.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Err(UomError::Invalid(code.to_owned()));
        }
        Ok(Uom(c.to_ascii_uppercase()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn is_known(&self) -> bool {
        Self::KNOWN.contains(&self.0.as_str())
    }

    /// A code the caller knows to be valid (constants, tests).
    fn lit(code: &str) -> Uom {
        Uom(code.to_owned())
    }
}

impl fmt::Display for Uom {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for Uom {
    type Error = UomError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Uom::new(&s)
    }
}

impl From<Uom> for String {
    fn from(u: Uom) -> String {
        u.0
    }
}

impl From<crate::model::Uom> for Uom {
    fn from(u: crate::model::Uom) -> Uom {
        Uom::lit(u.code())
    }
}

/// `1 from = factor to`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Conversion {
    pub from: Uom,
    pub to: Uom,
    pub factor: Decimal,
}

impl Conversion {
    /// A per-product conversion: the factor must be positive, and a pair of units the fixed
    /// table already relates (CWT and LB) cannot be redefined for one product.
    pub fn new(from: Uom, to: Uom, factor: Decimal) -> Result<Conversion, UomError> {
        if factor <= Decimal::ZERO {
            return Err(UomError::NotPositive { from, to, factor });
        }
        if from != to {
            if let Ok(fixed) = Converter::fixed().factor(&from, &to) {
                return Err(UomError::Fixed {
                    fixed: fixed.apply(Decimal::ONE).unwrap_or_default().normalize(),
                    from,
                    to,
                });
            }
        }
        Ok(Conversion { from, to, factor })
    }
}

/// Conversions true for every product, by definition (US customary units, which SteelWise
/// uses): a hundredweight is the US (short) hundredweight of 100 LB and a TON the US short ton
/// of 2,000 LB — not the long ton (2,240 LB) nor the metric tonne (1,000 KG, written `MT`
/// when wanted, through a product or a future fixed row). The metric rows are exact by the
/// 1959 international yard and pound agreement.
pub const FIXED: [(&str, &str, Decimal); 6] = [
    ("CWT", "LB", Decimal::from_parts(100, 0, 0, false, 0)),
    ("TON", "LB", Decimal::from_parts(2000, 0, 0, false, 0)),
    ("FT", "IN", Decimal::from_parts(12, 0, 0, false, 0)),
    // 1 FT = 0.3048 M; 1 LB = 0.45359237 KG; 1 SF = 144 square inches (kept as SF only).
    ("FT", "M", Decimal::from_parts(3048, 0, 0, false, 4)),
    ("LB", "KG", Decimal::from_parts(45359237, 0, 0, false, 8)),
    ("M", "MM", Decimal::from_parts(1000, 0, 0, false, 0)),
];

/// A conversion factor kept as a fraction: `apply(q) = q × num / den`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ratio {
    num: Decimal,
    den: Decimal,
}

impl Ratio {
    pub const ONE: Ratio = Ratio {
        num: Decimal::ONE,
        den: Decimal::ONE,
    };

    /// `q × num / den`, multiplied first so an exact result stays exact. `None` on overflow.
    pub fn apply(&self, q: Decimal) -> Option<Decimal> {
        q.checked_mul(self.num)?.checked_div(self.den)
    }

    /// The inverse conversion.
    pub fn inverse(self) -> Ratio {
        Ratio {
            num: self.den,
            den: self.num,
        }
    }
}

/// Converts between the units a product is known in.
#[derive(Debug, Clone, Default)]
pub struct Converter {
    edges: Vec<Conversion>,
}

impl Converter {
    /// Only the fixed conversions.
    pub fn fixed() -> Converter {
        Converter {
            edges: FIXED
                .iter()
                .map(|(f, t, k)| Conversion {
                    from: Uom::lit(f),
                    to: Uom::lit(t),
                    factor: *k,
                })
                .collect(),
        }
    }

    /// The fixed conversions and one product's. The product's come first, so where two paths
    /// of the same length exist the product's is taken (paths are shortest first).
    pub fn for_product(conversions: &[Conversion]) -> Converter {
        let mut edges: Vec<Conversion> = conversions.to_vec();
        edges.extend(Converter::fixed().edges);
        Converter { edges }
    }

    /// How many `to` one `from` is, through the shortest chain of conversions (breadth first,
    /// each conversion usable both ways). The same unit is 1.
    pub fn factor(&self, from: &Uom, to: &Uom) -> Result<Ratio, UomError> {
        if from == to {
            return Ok(Ratio::ONE);
        }
        let overflow = || UomError::Overflow {
            from: from.clone(),
            to: to.clone(),
        };
        let mut seen: Vec<&Uom> = vec![from];
        let mut queue: VecDeque<(&Uom, Ratio)> = VecDeque::from([(from, Ratio::ONE)]);
        while let Some((at, r)) = queue.pop_front() {
            for e in &self.edges {
                let (next, step) = if &e.from == at {
                    (&e.to, (e.factor, Decimal::ONE))
                } else if &e.to == at {
                    (&e.from, (Decimal::ONE, e.factor))
                } else {
                    continue;
                };
                if seen.contains(&next) {
                    continue;
                }
                let r = Ratio {
                    num: r.num.checked_mul(step.0).ok_or_else(overflow)?,
                    den: r.den.checked_mul(step.1).ok_or_else(overflow)?,
                };
                if next == to {
                    return Ok(r);
                }
                seen.push(next);
                queue.push_back((next, r));
            }
        }
        Err(UomError::NoPath {
            from: from.clone(),
            to: to.clone(),
        })
    }

    /// A quantity `q` of `from` in `to`.
    pub fn quantity(&self, q: Decimal, from: &Uom, to: &Uom) -> Result<Decimal, UomError> {
        self.factor(from, to)?
            .apply(q)
            .ok_or_else(|| UomError::Overflow {
                from: from.clone(),
                to: to.clone(),
            })
    }

    /// A price per `from` as a price per `to`: one `to` is `factor(to → from)` of `from`.
    pub fn unit_price(&self, price: Decimal, from: &Uom, to: &Uom) -> Result<Decimal, UomError> {
        self.quantity(price, to, from)
    }

    /// Whether `from` converts to `to`.
    pub fn connects(&self, from: &Uom, to: &Uom) -> bool {
        self.factor(from, to).is_ok()
    }
}

/// A product's other units, each with how many `base` units one of it is (the canonical
/// Product's `alt_uoms`): every unit its own `conversions` name besides the base, converted
/// through [`Converter::for_product`], so a unit related to the base only through another (1 EA
/// = 20 FT on a bar sold by the LB at 3.4 LB/FT: 68 LB) is there too, whichever way its rows
/// are written. A unit nothing relates to the base is left out: no quantity in it can be
/// expressed in base units. In unit order, each once.
pub fn alt_uoms(base: &Uom, conversions: &[Conversion]) -> Vec<(Uom, Decimal)> {
    let converter = Converter::for_product(conversions);
    let mut units: Vec<&Uom> = conversions
        .iter()
        .flat_map(|c| [&c.from, &c.to])
        .filter(|u| *u != base)
        .collect();
    units.sort_unstable();
    units.dedup();
    units
        .into_iter()
        .filter_map(|u| {
            let factor = converter.quantity(Decimal::ONE, u, base).ok()?;
            Some((u.clone(), factor.normalize()))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    fn u(c: &str) -> Uom {
        Uom::new(c).unwrap()
    }

    fn conv(f: &str, t: &str, k: Decimal) -> Conversion {
        Conversion::new(u(f), u(t), k).unwrap()
    }

    /// A 3.4 LB/FT bar sold in 20 FT lengths.
    fn bar() -> Converter {
        Converter::for_product(&[conv("FT", "LB", dec!(3.4)), conv("EA", "FT", dec!(20))])
    }

    #[test]
    fn alt_uoms_are_in_base_units_either_way_and_through_chains() {
        // Sold by the FT: 1 FT = 3.4 LB is 1 LB = 1/3.4 FT; 1 EA = 20 FT directly.
        let bar = [conv("FT", "LB", dec!(3.4)), conv("EA", "FT", dec!(20))];
        assert_eq!(
            alt_uoms(&u("FT"), &bar),
            vec![
                (u("EA"), dec!(20)),
                (u("LB"), (dec!(1) / dec!(3.4)).normalize())
            ]
        );
        // Sold by the LB: EA through FT; a unit related to nothing is left out.
        let mut odd = bar.to_vec();
        odd.push(conv("BDL", "PK", dec!(4)));
        assert_eq!(
            alt_uoms(&u("LB"), &odd),
            vec![(u("EA"), dec!(68)), (u("FT"), dec!(3.4))]
        );
        assert_eq!(alt_uoms(&u("EA"), &[]), vec![]);
    }

    #[test]
    fn codes_are_upper_cased_and_checked() {
        assert_eq!(u(" lb ").as_str(), "LB");
        assert!(u("LB").is_known());
        assert!(!u("BDL").is_known());
        for bad in ["", " ", "L B", "LB/FT", "ABCDEFGHIJK"] {
            assert!(
                matches!(Uom::new(bad), Err(UomError::Invalid(_))),
                "{bad:?}"
            );
        }
        let parsed: Uom = serde_json::from_str("\"cwt\"").unwrap();
        assert_eq!(parsed, u("CWT"));
        assert!(serde_json::from_str::<Uom>("\"\"").is_err());
        assert_eq!(Uom::from(crate::model::Uom::Ton), u("TON"));
    }

    #[test]
    fn conversion_table() {
        let c = bar();
        // (quantity, from, to, expected): fixed, per product, chained, inverse.
        let table = [
            (dec!(1), "CWT", "LB", dec!(100)),
            (dec!(1), "TON", "LB", dec!(2000)),
            (dec!(1), "TON", "CWT", dec!(20)),
            (dec!(250), "LB", "CWT", dec!(2.5)),
            (dec!(1), "FT", "LB", dec!(3.4)),
            (dec!(340), "LB", "FT", dec!(100)),
            (dec!(1), "EA", "LB", dec!(68)),
            (dec!(1), "EA", "CWT", dec!(0.68)),
            (dec!(6.8), "CWT", "EA", dec!(10)),
            (dec!(1), "TON", "EA", dec!(2000) / dec!(68)),
            (dec!(24), "IN", "FT", dec!(2)),
            (dec!(7), "SF", "SF", dec!(7)),
        ];
        for (q, from, to, want) in table {
            assert_eq!(
                c.quantity(q, &u(from), &u(to)).unwrap(),
                want,
                "{q} {from} → {to}"
            );
        }
    }

    #[test]
    fn prices_convert_the_other_way_round() {
        // $0.42 per LB is $1.428 per FT of a 3.4 LB/FT bar, $28.56 per 20 FT piece, $42 per CWT.
        let c = bar();
        let p = dec!(0.42);
        assert_eq!(c.unit_price(p, &u("LB"), &u("FT")).unwrap(), dec!(1.428));
        assert_eq!(c.unit_price(p, &u("LB"), &u("EA")).unwrap(), dec!(28.56));
        assert_eq!(c.unit_price(p, &u("LB"), &u("CWT")).unwrap(), dec!(42));
        assert_eq!(
            c.unit_price(dec!(42), &u("CWT"), &u("LB")).unwrap(),
            dec!(0.42)
        );
    }

    #[test]
    fn no_path_names_both_units() {
        let e = bar().quantity(dec!(1), &u("FT"), &u("SF")).unwrap_err();
        assert_eq!(
            e,
            UomError::NoPath {
                from: u("FT"),
                to: u("SF")
            }
        );
        assert_eq!(
            e.to_string(),
            "no conversion from FT to SF for this product"
        );
        // Without the product's own conversions, FT and LB are unrelated.
        assert!(Converter::fixed().factor(&u("FT"), &u("LB")).is_err());
        assert!(Converter::fixed().factor(&u("BDL"), &u("EA")).is_err());
    }

    #[test]
    fn per_product_conversions_are_checked() {
        assert!(matches!(
            Conversion::new(u("FT"), u("LB"), dec!(0)),
            Err(UomError::NotPositive { .. })
        ));
        assert!(matches!(
            Conversion::new(u("FT"), u("LB"), dec!(-3.4)),
            Err(UomError::NotPositive { .. })
        ));
        let e = Conversion::new(u("CWT"), u("LB"), dec!(90)).unwrap_err();
        assert_eq!(
            e.to_string(),
            "CWT to LB is fixed (1 CWT = 100 LB) and cannot be set per product"
        );
        // Through the fixed table: TON to CWT is fixed too.
        assert!(Conversion::new(u("TON"), u("CWT"), dec!(21)).is_err());
    }

    #[test]
    fn rounding_is_half_away_from_zero() {
        assert_eq!(round_price(dec!(1.23455)), dec!(1.2346));
        assert_eq!(round_price(dec!(1.23445)), dec!(1.2345));
        assert_eq!(round_money(dec!(2.005)), dec!(2.01));
        assert_eq!(round_money(dec!(2.015)), dec!(2.02));
        assert_eq!(round_money(dec!(-2.005)), dec!(-2.01));
        // A fixed number of places, whatever the input had.
        assert_eq!(round_price(dec!(1.7)).to_string(), "1.7000");
        assert_eq!(round_money(dec!(142.8)).to_string(), "142.80");
    }
}
