//! The value operations rules are built from: coercions, string functions, decimal arithmetic
//! and unit-of-measure conversion. Each works on `serde_json::Value` and returns a message
//! (without location; the executor adds record and rule) on failure.

pub mod coerce;
pub mod text;
pub mod uom;

use rust_decimal::Decimal;
use serde_json::Value;
use std::str::FromStr;

/// Text of a scalar, for string functions (numbers keep their exact text).
pub fn as_text(v: &Value) -> Result<std::borrow::Cow<'_, str>, String> {
    match v {
        Value::String(s) => Ok(std::borrow::Cow::Borrowed(s)),
        Value::Number(n) => Ok(std::borrow::Cow::Owned(n.to_string())),
        Value::Bool(b) => Ok(std::borrow::Cow::Borrowed(if *b {
            "true"
        } else {
            "false"
        })),
        Value::Null => Ok(std::borrow::Cow::Borrowed("")),
        Value::Array(_) => Err("expected a scalar, found an array".into()),
        Value::Object(_) => Err("expected a scalar, found an object".into()),
    }
}

/// An exact decimal from a string or JSON number (`1e3` and `1,5` with `comma` accepted).
pub fn to_decimal(v: &Value, comma: bool) -> Result<Decimal, String> {
    let text = as_text(v)?;
    parse_decimal(text.trim(), comma).ok_or_else(|| format!("'{text}' is not a decimal number"))
}

pub fn parse_decimal(s: &str, comma: bool) -> Option<Decimal> {
    let owned;
    let s = if comma {
        owned = s.replace([' ', '.'], "").replace(',', ".");
        owned.as_str()
    } else {
        s
    };
    if s.is_empty() {
        return None;
    }
    Decimal::from_str(s).ok().or_else(|| {
        if s.contains(['e', 'E']) {
            Decimal::from_scientific(s).ok()
        } else {
            None
        }
    })
}

/// A decimal as a JSON value: a string (the canonical model's choice) or an exact number.
pub fn decimal_value(d: Decimal, as_number: bool) -> Value {
    if as_number {
        // serde_json's arbitrary_precision keeps the digits exactly as written.
        match serde_json::Number::from_str(&d.to_string()) {
            Ok(n) => Value::Number(n),
            Err(_) => Value::String(d.to_string()),
        }
    } else {
        Value::String(d.to_string())
    }
}

/// Missing for `default`/`required`: absent, null, or a string of only whitespace.
pub fn is_missing(v: Option<&Value>) -> bool {
    match v {
        None | Some(Value::Null) => true,
        Some(Value::String(s)) => s.trim().is_empty(),
        _ => false,
    }
}
