//! Stock quantities on the wire: exact decimals written as strings (`"12.5"`), so no client
//! rounds a pound of steel through a float. What the deserializers accept is exactly what the
//! schemas' patterns say ([`QUANTITY`], [`POSITIVE_QUANTITY`]): up to 15 digits before the
//! point, up to 6 after, no sign, no leading zeros, no exponent.

use rust_decimal::Decimal;
use serde::{Deserialize, Deserializer};
use std::str::FromStr;
use utoipa::openapi::schema::{Object, ObjectBuilder, SchemaType, Type};

/// Zero or more.
pub const QUANTITY: &str = r"^(0|[1-9][0-9]{0,14})(\.[0-9]{1,6})?$";

/// More than zero: [`QUANTITY`] without the zeros (`0`, `0.0`, `0.000000`).
pub const POSITIVE_QUANTITY: &str = r"^([1-9][0-9]{0,14}(\.[0-9]{1,6})?|0\.([1-9][0-9]{0,5}|0[1-9][0-9]{0,4}|00[1-9][0-9]{0,3}|000[1-9][0-9]{0,2}|0000[1-9][0-9]?|00000[1-9]))$";

fn string_schema(types: SchemaType, pattern: &str) -> Object {
    ObjectBuilder::new()
        .schema_type(types)
        .pattern(Some(pattern))
        .build()
}

/// The schema of a [`quantity`].
pub fn schema() -> Object {
    string_schema(SchemaType::new(Type::String), QUANTITY)
}

/// The schema of an [`optional_quantity`]: a quantity or `null`.
pub fn optional_schema() -> Object {
    string_schema(SchemaType::from_iter([Type::String, Type::Null]), QUANTITY)
}

/// The schema of a [`positive_quantity`].
pub fn positive_schema() -> Object {
    string_schema(SchemaType::new(Type::String), POSITIVE_QUANTITY)
}

/// The schema of an [`optional_positive_quantity`]: a quantity above zero or `null`.
pub fn optional_positive_schema() -> Object {
    string_schema(
        SchemaType::from_iter([Type::String, Type::Null]),
        POSITIVE_QUANTITY,
    )
}

/// `text` as [`QUANTITY`] reads it.
fn parse(text: &str) -> Option<Decimal> {
    let (whole, fraction) = match text.split_once('.') {
        Some((w, f)) => (w, Some(f)),
        None => (text, None),
    };
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let whole_ok = whole == "0" || (digits(whole) && whole.len() <= 15 && !whole.starts_with('0'));
    let fraction_ok = fraction.is_none_or(|f| digits(f) && f.len() <= 6);
    if whole_ok && fraction_ok {
        Decimal::from_str(text).ok()
    } else {
        None
    }
}

fn refuse<E: serde::de::Error>(text: &str, what: &str) -> E {
    E::custom(format!(
        "expected {what} as a decimal string (up to 15 digits, up to 6 decimals, e.g. \"12.5\"), got {text:?}"
    ))
}

/// A quantity of zero or more.
pub fn quantity<'de, D: Deserializer<'de>>(d: D) -> Result<Decimal, D::Error> {
    let text = String::deserialize(d)?;
    parse(&text).ok_or_else(|| refuse(&text, "a quantity"))
}

/// An optional quantity of zero or more (`null` or absent: none).
pub fn optional_quantity<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Decimal>, D::Error> {
    let text = Option::<String>::deserialize(d)?;
    text.map(|t| parse(&t).ok_or_else(|| refuse(&t, "a quantity")))
        .transpose()
}

/// A quantity of more than zero.
pub fn positive_quantity<'de, D: Deserializer<'de>>(d: D) -> Result<Decimal, D::Error> {
    let text = String::deserialize(d)?;
    parse(&text)
        .filter(|q| *q > Decimal::ZERO)
        .ok_or_else(|| refuse(&text, "a quantity above zero"))
}

/// An optional quantity of more than zero (`null` or absent: none).
pub fn optional_positive_quantity<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<Option<Decimal>, D::Error> {
    let text = Option::<String>::deserialize(d)?;
    text.map(|t| {
        parse(&t)
            .filter(|q| *q > Decimal::ZERO)
            .ok_or_else(|| refuse(&t, "a quantity above zero"))
    })
    .transpose()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_deserializers_take_what_the_patterns_say() {
        for ok in [
            "0",
            "1",
            "12.5",
            "0.000001",
            "999999999999999.999999",
            "10.000000",
        ] {
            assert!(parse(ok).is_some(), "{ok}");
        }
        for bad in [
            "",
            "01",
            "1.",
            ".5",
            "-1",
            "1e3",
            "1.1234567",
            "1000000000000000",
            " 1",
            "+1",
        ] {
            assert!(parse(bad).is_none(), "{bad}");
        }
        #[derive(Deserialize)]
        struct Q {
            #[serde(deserialize_with = "positive_quantity")]
            q: Decimal,
        }
        for zero in ["0", "0.0", "0.000000"] {
            let text = format!(r#"{{"q": "{zero}"}}"#);
            assert!(serde_json::from_str::<Q>(&text).is_err(), "{zero}");
        }
        let q: Q = serde_json::from_str(r#"{"q": "0.000001"}"#).unwrap();
        assert_eq!(q.q, Decimal::new(1, 6));
        // A number is not a quantity: the schema says string.
        assert!(serde_json::from_str::<Q>(r#"{"q": 5}"#).is_err());
    }
}
