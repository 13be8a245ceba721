//! Products sold as variants that are quantities of them (issue #12): a round bar kept in
//! stock and priced per FT in the core, sold in the shop as 12 ft and 20 ft lengths. The shop
//! has only the lengths' SKUs, so the product's inventory and prices documents carry
//! `variants: [{"sku", "units"}]` (the sync item's variants with `units`, migration 0035) and
//! each variant gets
//!
//! * available at each location = floor(the product's available there / units): never a
//!   piece we do not have;
//! * price = the product's price × units, rounded half up to cents (the mapping
//!   `shopify/price.out` computes it: see below), compareAtPrice likewise; on a B2B price list
//!   the list's price × units.
//!
//! Why the arithmetic is here and not all in the mapping files: the mapping engine's loops
//! see their own element and the record (`$.`), not an enclosing loop's element, so "each
//! location's available / each variant's units" and "each price list entry × each variant's
//! units" (a loop inside a loop reading both) cannot be written there. The variant's own price
//! can (`$.prices[0].amount` × `units` inside the `variants` loop), so `shopify/price.out`
//! computes that one; jq's arithmetic goes through `f64`, which money and stock must not.
//! The mappings give the exact figures for these documents (`available_exact`, the entries'
//! `amount`), so no rounding happens before the division or product.

use rust_decimal::{Decimal, RoundingStrategy};
use serde_json::{Map, Value};
use std::str::FromStr;
use switchyard_core::error::AdapterError;

/// A variant of the document's product that is `units` of its base unit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Piece {
    pub sku: String,
    pub units: Decimal,
}

/// An exact decimal from a document field written as a string or a number.
pub fn decimal(v: &Value) -> Option<Decimal> {
    match v {
        Value::String(s) => Decimal::from_str(s.trim()).ok(),
        Value::Number(n) => Decimal::from_str(&n.to_string()).ok(),
        _ => None,
    }
}

/// The document's `variants` (absent or empty: `None`, the product is written under its own
/// SKU as before). Each needs a SKU and units above zero.
pub fn pieces(sku: &str, body: &Map<String, Value>) -> Result<Option<Vec<Piece>>, AdapterError> {
    let Some(list) = body.get("variants").and_then(Value::as_array) else {
        return Ok(None);
    };
    if list.is_empty() {
        return Ok(None);
    }
    list.iter()
        .enumerate()
        .map(|(i, v)| {
            let vsku = v["sku"].as_str().filter(|s| !s.is_empty()).ok_or_else(|| {
                AdapterError::permanent(format!("variants[{i}].sku of {sku} is missing"))
            })?;
            let units = decimal(&v["units"])
                .filter(|u| *u > Decimal::ZERO)
                .ok_or_else(|| {
                    AdapterError::permanent(format!(
                        "variants[{i}].units of {sku} (variant {vsku}) must be a decimal above zero"
                    ))
                })?;
            Ok(Piece {
                sku: vsku.to_owned(),
                units,
            })
        })
        .collect::<Result<Vec<_>, _>>()
        .map(Some)
}

/// Whole pieces of `units` in `available` (rounded down; none below zero).
pub fn pieces_available(available: Decimal, units: Decimal) -> i64 {
    if available <= Decimal::ZERO {
        return 0;
    }
    let n = (available / units).floor();
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// `amount` per base unit × `units`, rounded half up to cents, written with two decimals
/// (what `type = "decimal", scale = 2` writes in the mappings).
pub fn piece_price(amount: Decimal, units: Decimal) -> String {
    let p = (amount * units).round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero);
    format!("{p:.2}")
}

/// The message of a SKU the shop does not have: a product sold as variants (its SKU is none
/// of them) needs `units` on its variants for its stock and prices to reach them.
pub fn not_in_shop(sku: &str) -> String {
    format!(
        "no variant with SKU {sku} in the shop (is the catalog synced? if {sku} is a product \
         sold as variants, set `units` on its variants so its stock and prices go to them)"
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn d(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap()
    }

    #[test]
    fn stock_is_whole_pieces_rounded_down() {
        assert_eq!(pieces_available(d("240"), d("12")), 20);
        assert_eq!(pieces_available(d("239.99"), d("12")), 19);
        assert_eq!(pieces_available(d("11"), d("12")), 0);
        assert_eq!(pieces_available(d("-5"), d("12")), 0);
        // Fractional units: from the exact figure, not a rounded one (23.5 / 0.5 = 47).
        assert_eq!(pieces_available(d("23.5"), d("0.5")), 47);
    }

    #[test]
    fn a_piece_costs_the_unit_price_times_its_units_in_cents() {
        assert_eq!(piece_price(d("2.85"), d("12")), "34.20");
        assert_eq!(piece_price(d("1.2345"), d("20")), "24.69");
        assert_eq!(piece_price(d("0.125"), d("1")), "0.13");
        assert_eq!(piece_price(d("3"), d("2.5")), "7.50");
    }

    #[test]
    fn variants_need_a_sku_and_units_above_zero() {
        let body = |v: Value| {
            json!({"sku": "RB", "variants": v})
                .as_object()
                .unwrap()
                .clone()
        };
        assert_eq!(pieces("RB", &body(json!([]))).unwrap(), None);
        assert_eq!(
            pieces(
                "RB",
                &body(json!([{"sku": "RB-12", "units": "12"}, {"sku": "RB-2", "units": 2.5}]))
            )
            .unwrap()
            .unwrap(),
            vec![
                Piece {
                    sku: "RB-12".into(),
                    units: d("12")
                },
                Piece {
                    sku: "RB-2".into(),
                    units: d("2.5")
                }
            ]
        );
        let e = pieces("RB", &body(json!([{"sku": "RB-12", "units": "0"}]))).unwrap_err();
        assert!(e.message.contains("variants[0].units") && e.message.contains("RB-12"));
        assert!(!e.class.is_retryable());
    }
}
