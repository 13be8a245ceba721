//! Special prices with dates (`POST /V1/products/special-price`): a price document's
//! `special_prices` (`[{"currency", "price", "from", "to"}]`, dates as `YYYY-MM-DD` or
//! `YYYY-MM-DD HH:MM:SS`, UTC) in the store's currency become Magento special price rows.
//!
//! A document *with* the `special_prices` key (even empty) makes the adapter keep the SKU's
//! special prices equal to it: the store's rows are read (`special-price-information`), the
//! ones we no longer send deleted (`special-price-delete`), the missing ones added. A document
//! without the key leaves special prices alone, so a mapping that never sends them costs no
//! call. Why read before writing: Magento's special-price endpoint adds or updates a row, it
//! never removes a sale that was cancelled, and an unchanged row written again is a write the
//! store did not need.
//!
//! Magento Open Source keeps one special price per SKU and store (the `special_price`,
//! `special_from_date` and `special_to_date` attributes), so more than one in the store's
//! currency is refused here by name rather than silently collapsed by the store.

use chrono::{NaiveDate, NaiveDateTime};
use rust_decimal::Decimal;
use serde_json::{json, Value};
use std::str::FromStr as _;
use switchyard_core::AdapterError;

/// Magento's datetime format for `price_from` / `price_to`.
pub const MAGENTO_DATETIME: &str = "%Y-%m-%d %H:%M:%S";

/// Which end of a range a bare date is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum End {
    From,
    To,
}

/// `YYYY-MM-DD` (the start or the end of that day), `YYYY-MM-DD HH:MM:SS` or RFC 3339.
fn datetime(v: &Value, field: &str, end: End) -> Result<NaiveDateTime, String> {
    let s = v
        .as_str()
        .ok_or_else(|| format!("`{field}` is required (a date or datetime), got {v}"))?;
    if let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        let t = match end {
            End::From => d.and_hms_opt(0, 0, 0),
            End::To => d.and_hms_opt(23, 59, 59),
        };
        return t.ok_or_else(|| format!("`{field}` `{s}` is not a date"));
    }
    if let Ok(t) = NaiveDateTime::parse_from_str(s, MAGENTO_DATETIME) {
        return Ok(t);
    }
    chrono::DateTime::parse_from_rfc3339(s)
        .map(|t| t.naive_utc())
        .map_err(|_| {
            format!("`{field}` `{s}` is not a date (YYYY-MM-DD, YYYY-MM-DD HH:MM:SS or RFC 3339)")
        })
}

fn decimal(v: &Value) -> Option<Decimal> {
    match v {
        Value::String(s) => Decimal::from_str(s).ok(),
        Value::Number(n) => Decimal::from_str(&n.to_string()).ok(),
        _ => None,
    }
}

/// The special price rows a price document asks for, or None when it does not manage them.
pub fn rows(sku: &str, body: &Value, currency: &str) -> Result<Option<Vec<Value>>, AdapterError> {
    let Some(list) = body.get("special_prices") else {
        return Ok(None);
    };
    let refuse = |m: String| AdapterError::permanent(format!("{sku}: {m}"));
    let Some(list) = list.as_array() else {
        return Err(refuse("`special_prices` must be a list".into()));
    };
    let mut out = Vec::new();
    for (i, p) in list.iter().enumerate() {
        if p["currency"].as_str() != Some(currency) {
            continue;
        }
        let at = |f: &str| format!("special_prices[{i}].{f}");
        let price = decimal(&p["price"])
            .filter(|d| *d >= Decimal::ZERO)
            .ok_or_else(|| {
                refuse(format!(
                    "`{}` is not a non-negative number: {}",
                    at("price"),
                    p["price"]
                ))
            })?;
        let from = datetime(&p["from"], &at("from"), End::From).map_err(refuse)?;
        let to = datetime(&p["to"], &at("to"), End::To).map_err(refuse)?;
        if to < from {
            return Err(refuse(format!(
                "`{}` ({to}) is before `{}` ({from})",
                at("to"),
                at("from")
            )));
        }
        out.push(json!({
            "sku": sku,
            "store_id": 0,
            "price": crate::adapter::number(price),
            "price_from": from.format(MAGENTO_DATETIME).to_string(),
            "price_to": to.format(MAGENTO_DATETIME).to_string(),
        }));
    }
    if out.len() > 1 {
        return Err(refuse(format!(
            "{} special prices in {currency} (field `special_prices`): Magento keeps one per SKU and store",
            out.len()
        )));
    }
    Ok(Some(out))
}

/// Whether two special price rows are the same row (the store's answer against ours).
pub fn same(a: &Value, b: &Value) -> bool {
    a["sku"] == b["sku"]
        && a["store_id"].as_i64().unwrap_or(0) == b["store_id"].as_i64().unwrap_or(0)
        && decimal(&a["price"]) == decimal(&b["price"])
        && a["price_from"] == b["price_from"]
        && a["price_to"] == b["price_to"]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_become_whole_days_and_bad_ones_name_the_field() {
        let body = json!({"special_prices": [
            {"currency": "EUR", "price": "1", "from": "x", "to": "y"},
            {"currency": "USD", "price": "89.50", "from": "2026-12-01", "to": "2026-12-24"}]});
        let got = rows("S-1", &body, "USD").unwrap().unwrap();
        assert_eq!(
            got,
            [json!({"sku": "S-1", "store_id": 0, "price": 89.5,
                    "price_from": "2026-12-01 00:00:00", "price_to": "2026-12-24 23:59:59"})]
        );
        assert_eq!(rows("S-1", &json!({}), "USD").unwrap(), None);
        assert_eq!(
            rows("S-1", &json!({"special_prices": []}), "USD").unwrap(),
            Some(vec![])
        );
        let bad = json!({"special_prices": [{"currency": "USD", "price": "5", "from": "2026-12-01", "to": "2026-13-01"}]});
        let e = rows("S-1", &bad, "USD").unwrap_err();
        assert!(
            e.message.contains("`special_prices[0].to` `2026-13-01`"),
            "{e}"
        );
        let backwards = json!({"special_prices": [{"currency": "USD", "price": "5", "from": "2026-12-02", "to": "2026-12-01"}]});
        let e = rows("S-1", &backwards, "USD").unwrap_err();
        assert!(e.message.contains("is before"), "{e}");
        let two = json!({"special_prices": [
            {"currency": "USD", "price": "5", "from": "2026-12-01", "to": "2026-12-02"},
            {"currency": "USD", "price": "4", "from": "2026-12-03", "to": "2026-12-04"}]});
        assert!(rows("S-1", &two, "USD").is_err());
    }
}
