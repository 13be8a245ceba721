//! What Postgres can store of text and JSON, and how to make anything storable.
//!
//! Postgres `text` and `jsonb` refuse the NUL character (`\u0000`), and `jsonb` keeps numbers
//! as `numeric`, which refuses a value like `1e999999` ("value overflows numeric format").
//! serde_json accepts both (this workspace builds it with `arbitrary_precision`, so a number
//! keeps its literal), so a body that reached the API intact would turn into a database
//! error, a 500, when written. Two uses:
//!
//! * at the API's edge, [`first_unstorable`] finds the first such value in a request body, to
//!   refuse it with a 422 naming where it is;
//! * times are kept to [`YEARS`], since chrono parses years `timestamptz` refuses;
//! * for the integration log, which must keep a row of every call whatever its body held,
//!   [`make_storable`] and [`storable_text`] escape what cannot be stored (a NUL becomes the
//!   six characters `\u0000`, a number out of range becomes its literal as a string), so the
//!   row is written and still says what was sent.

use chrono::{DateTime, Datelike, Utc};
use serde_json::{Map, Number, Value};
use std::borrow::Cow;

/// Why a value cannot be stored as it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unstorable {
    /// A string or an object key holds a NUL character.
    Nul,
    /// A number beyond what Postgres `numeric` (and a 64-bit float) holds.
    NumberOutOfRange(String),
}

impl std::fmt::Display for Unstorable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Unstorable::Nul => f.write_str("text must not contain the NUL character (\\u0000)"),
            Unstorable::NumberOutOfRange(n) => {
                let shown: String = n.chars().take(40).collect();
                let more = if n.chars().count() > 40 { "…" } else { "" };
                write!(f, "number {shown}{more} is out of range")
            }
        }
    }
}

/// Longest number literal kept as a number. Postgres `numeric` holds at most 16,383 digits
/// after the point; a 64-bit float needs no more than about 770 characters for any value it
/// holds exactly, so 1,000 is generous for data and refuses digit bombs.
const MAX_NUMBER_LITERAL: usize = 1000;

/// Whether `n` can be stored in `jsonb` and read back by any JSON client: it must fit a
/// 64-bit integer or be a finite float that does not round a non-zero literal to zero.
fn number_in_range(n: &Number) -> bool {
    if n.is_i64() || n.is_u64() {
        return true;
    }
    // The literal as it arrived (`arbitrary_precision`), without formatting it again.
    let literal = n.as_str();
    if literal.len() > MAX_NUMBER_LITERAL {
        return false;
    }
    match literal.parse::<f64>() {
        Ok(v) if v.is_finite() && v != 0.0 => true,
        // Zero is fine only when the literal is zero (`0.0`, `0e5`), not an underflow
        // (`1e-999999`, which `numeric` would need a million digits for).
        Ok(0.0) => literal
            .split(['e', 'E'])
            .next()
            .is_some_and(|mantissa| mantissa.chars().all(|c| matches!(c, '0' | '.' | '-'))),
        _ => false,
    }
}

/// The JSON pointer (RFC 6901) of the first value in `value` that cannot be stored, and why.
/// Every request body is walked, so nothing is allocated unless something is found: the
/// pointer's tokens are collected on the way back up.
pub fn first_unstorable(value: &Value) -> Option<(String, Unstorable)> {
    /// The problem and the pointer's tokens, innermost first.
    fn walk(value: &Value) -> Option<(Vec<String>, Unstorable)> {
        match value {
            Value::String(s) if s.contains('\0') => Some((Vec::new(), Unstorable::Nul)),
            Value::Number(n) if !number_in_range(n) => Some((
                Vec::new(),
                Unstorable::NumberOutOfRange(n.as_str().to_owned()),
            )),
            Value::Array(items) => items.iter().enumerate().find_map(|(i, item)| {
                walk(item).map(|(mut tokens, why)| {
                    tokens.push(i.to_string());
                    (tokens, why)
                })
            }),
            Value::Object(map) => map.iter().find_map(|(key, item)| {
                let found = if key.contains('\0') {
                    Some((Vec::new(), Unstorable::Nul))
                } else {
                    walk(item)
                };
                found.map(|(mut tokens, why)| {
                    tokens.push(storable_text(key).replace('~', "~0").replace('/', "~1"));
                    (tokens, why)
                })
            }),
            _ => None,
        }
    }
    walk(value).map(|(tokens, why)| {
        let pointer = tokens.iter().rev().fold(String::new(), |mut p, t| {
            p.push('/');
            p.push_str(t);
            p
        });
        (pointer, why)
    })
}

/// The years a time filter or a cursor may name: every time a row is stamped with, well inside
/// what `timestamptz` holds (4713 BC to 294276 AD; chrono parses years Postgres refuses).
pub const YEARS: std::ops::RangeInclusive<i32> = 1..=9999;

/// Whether `at` is a time the database can compare with (see [`YEARS`]).
pub fn time_in_range(at: DateTime<Utc>) -> bool {
    YEARS.contains(&at.year())
}

/// Refuse a time filter outside [`YEARS`], naming it: `[("from", filter.from), ...]`.
pub fn check_times(times: &[(&str, Option<DateTime<Utc>>)]) -> Result<(), crate::StoreError> {
    match times
        .iter()
        .find(|(_, at)| at.is_some_and(|at| !time_in_range(at)))
    {
        Some((name, _)) => Err(crate::StoreError::Invalid(format!(
            "`{name}` must be in the years {} to {}",
            YEARS.start(),
            YEARS.end()
        ))),
        None => Ok(()),
    }
}

/// `text` with every NUL written as the six characters `\u0000`.
pub fn storable_text(text: &str) -> Cow<'_, str> {
    if text.contains('\0') {
        Cow::Owned(text.replace('\0', "\\u0000"))
    } else {
        Cow::Borrowed(text)
    }
}

/// `value` with every NUL in its strings and keys escaped and every number out of range
/// turned into a string of its literal. Every log row's bodies pass through here, so the
/// value is mended in place: only what must change is copied.
pub fn make_storable(mut value: Value) -> Value {
    mend(&mut value);
    value
}

fn mend(value: &mut Value) {
    match value {
        Value::String(s) if s.contains('\0') => *s = storable_text(s).into_owned(),
        Value::Number(n) if !number_in_range(n) => *value = Value::String(n.as_str().to_owned()),
        Value::Array(items) => items.iter_mut().for_each(mend),
        Value::Object(map) => {
            if map.keys().any(|k| k.contains('\0')) {
                *map = std::mem::take(map)
                    .into_iter()
                    .map(|(k, v)| (storable_text(&k).into_owned(), v))
                    .collect::<Map<_, _>>();
            }
            map.values_mut().for_each(mend);
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parse(text: &str) -> Value {
        serde_json::from_str(text).unwrap()
    }

    #[test]
    fn finds_nul_in_strings_and_keys_with_its_pointer() {
        assert_eq!(first_unstorable(&json!({"a": [1, "ok"]})), None);
        assert_eq!(
            first_unstorable(&parse(r#"{"a": [1, "x\u0000y"]}"#)),
            Some(("/a/1".into(), Unstorable::Nul))
        );
        assert_eq!(
            first_unstorable(&parse(r#"{"p": {"k\u0000/": 1}}"#)),
            Some(("/p/k\\u0000~1".into(), Unstorable::Nul))
        );
        // The escaped backslash is text, not a NUL.
        assert_eq!(first_unstorable(&parse(r#"{"a": "\\u0000"}"#)), None);
    }

    #[test]
    fn numbers_beyond_numeric_or_float_are_out_of_range() {
        for ok in [
            "0",
            "-0.0",
            "0e99999",
            "1e300",
            "-1.5e-300",
            "18446744073709551615",
        ] {
            assert_eq!(first_unstorable(&parse(ok)), None, "{ok}");
        }
        for bad in ["1e999999", "-1e400", "1e-999999", &"9".repeat(2000)] {
            let found = first_unstorable(&parse(&format!("{{\"n\": {bad}}}")));
            assert!(
                matches!(found, Some((ref p, Unstorable::NumberOutOfRange(_))) if p == "/n"),
                "{bad}: {found:?}"
            );
        }
    }

    #[test]
    fn make_storable_escapes_what_first_unstorable_finds() {
        let value = parse(r#"{"a\u0000": ["x\u0000", 1e999999, 2, true, null]}"#);
        let fixed = make_storable(value);
        assert_eq!(first_unstorable(&fixed), None);
        assert_eq!(
            fixed,
            json!({"a\\u0000": ["x\\u0000", "1e+999999", 2, true, null]})
        );
        assert_eq!(storable_text("a\0b"), "a\\u0000b");
        assert!(matches!(storable_text("ab"), Cow::Borrowed("ab")));
    }
}
