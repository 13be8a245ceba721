//! Unit-of-measure conversion. Units of one dimension convert by fixed factors (US customary
//! definitions: CWT = 100 LB, TON = 2000 LB short ton); across dimensions (FT → LB) a
//! product-specific factor such as "LB per FT" is required.

use rust_decimal::Decimal;
use std::str::FromStr;
use switchyard_core::model::Uom;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dimension {
    Count,
    Length,
    Mass,
    Area,
    Volume,
}

pub fn dimension(u: Uom) -> Dimension {
    match u {
        Uom::Ea => Dimension::Count,
        Uom::Ft | Uom::M | Uom::In | Uom::Mm => Dimension::Length,
        Uom::Lb | Uom::Kg | Uom::Cwt | Uom::Ton => Dimension::Mass,
        Uom::Sf => Dimension::Area,
        Uom::L => Dimension::Volume,
    }
}

/// How many of the dimension's base unit (M, KG, SF, EA, L) one `u` is. Exact by definition.
fn to_base(u: Uom) -> Decimal {
    let s = match u {
        Uom::Ea | Uom::M | Uom::Kg | Uom::Sf | Uom::L => "1",
        Uom::Ft => "0.3048",
        Uom::In => "0.0254",
        Uom::Mm => "0.001",
        Uom::Lb => "0.45359237",
        Uom::Cwt => "45.359237",
        Uom::Ton => "907.18474",
    };
    Decimal::from_str(s).unwrap_or(Decimal::ONE)
}

/// Converts within one dimension.
pub fn convert_same(q: Decimal, from: Uom, to: Uom) -> Result<Decimal, String> {
    if from == to {
        return Ok(q);
    }
    if dimension(from) != dimension(to) {
        return Err(format!(
            "cannot convert {} to {} without a per-product factor",
            from.code(),
            to.code()
        ));
    }
    q.checked_mul(to_base(from))
        .and_then(|x| x.checked_div(to_base(to)))
        .ok_or_else(|| "decimal overflow in unit conversion".to_string())
}

/// A per-product factor: `factor` units of `num` per one unit of `den` (e.g. 2.5 LB per FT).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PerFactor {
    pub num: Uom,
    pub den: Uom,
}

/// Converts `q` from `from` to `to`, through the product factor when dimensions differ.
pub fn convert(
    q: Decimal,
    from: Uom,
    to: Uom,
    per: Option<(PerFactor, Decimal)>,
) -> Result<Decimal, String> {
    if dimension(from) == dimension(to) {
        return convert_same(q, from, to);
    }
    let Some((pf, factor)) = per else {
        return Err(format!("cannot convert {} to {} without a per-product factor (e.g. factor = {{ from = \"lb_per_ft\", unit = \"LB/FT\" }})", from.code(), to.code()));
    };
    // Either direction of the factor is usable: LB/FT converts FT→LB and LB→FT.
    if dimension(pf.den) == dimension(from) && dimension(pf.num) == dimension(to) {
        let in_den = convert_same(q, from, pf.den)?;
        let in_num = in_den
            .checked_mul(factor)
            .ok_or("decimal overflow in unit conversion")?;
        convert_same(in_num, pf.num, to)
    } else if dimension(pf.num) == dimension(from) && dimension(pf.den) == dimension(to) {
        if factor.is_zero() {
            return Err("per-product factor is zero".into());
        }
        let in_num = convert_same(q, from, pf.num)?;
        let in_den = in_num
            .checked_div(factor)
            .ok_or("decimal overflow in unit conversion")?;
        convert_same(in_den, pf.den, to)
    } else {
        Err(format!(
            "a {}/{} factor cannot convert {} to {}",
            pf.num.code(),
            pf.den.code(),
            from.code(),
            to.code()
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    #[test]
    fn same_dimension_conversions_are_exact() {
        assert_eq!(
            convert_same(dec!(1), Uom::Ft, Uom::In).unwrap().normalize(),
            dec!(12)
        );
        assert_eq!(
            convert_same(dec!(1), Uom::Ton, Uom::Lb)
                .unwrap()
                .normalize(),
            dec!(2000)
        );
        assert_eq!(
            convert_same(dec!(3), Uom::Cwt, Uom::Lb)
                .unwrap()
                .normalize(),
            dec!(300)
        );
        assert_eq!(
            convert_same(dec!(1000), Uom::Mm, Uom::M)
                .unwrap()
                .normalize(),
            dec!(1)
        );
        assert_eq!(
            convert_same(dec!(1), Uom::Kg, Uom::Lb).unwrap().round_dp(5),
            dec!(2.20462)
        );
        assert!(convert_same(dec!(1), Uom::Ft, Uom::Lb).is_err());
    }

    #[test]
    fn per_product_factor_crosses_dimensions() {
        let per = Some((
            PerFactor {
                num: Uom::Lb,
                den: Uom::Ft,
            },
            dec!(2.5),
        ));
        assert_eq!(
            convert(dec!(20), Uom::Ft, Uom::Lb, per)
                .unwrap()
                .normalize(),
            dec!(50)
        );
        assert_eq!(
            convert(dec!(50), Uom::Lb, Uom::Ft, per)
                .unwrap()
                .normalize(),
            dec!(20)
        );
        // 1 M = 3.2808.. FT -> 8.202.. LB
        assert_eq!(
            convert(dec!(1), Uom::M, Uom::Lb, per).unwrap().round_dp(4),
            dec!(8.2021)
        );
        assert_eq!(
            convert(dec!(2000), Uom::Lb, Uom::Ton, per)
                .unwrap()
                .normalize(),
            dec!(1)
        );
        assert!(convert(dec!(1), Uom::Ea, Uom::Lb, per).is_err());
    }
}
