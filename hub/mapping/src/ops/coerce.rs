//! Type coercions: string, integer, exact decimal (scale + rounding), boolean, date, date-time.

use super::{as_text, decimal_value, to_decimal};
use chrono::{DateTime, NaiveDate, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;
use rust_decimal::{Decimal, RoundingStrategy};
use serde_json::Value;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rounding {
    HalfUp,
    HalfEven,
    HalfDown,
    Up,
    Down,
    Floor,
    Ceiling,
}

impl Rounding {
    pub const NAMES: &'static str = "half_up, half_even, half_down, up, down, floor, ceiling";

    pub fn parse(s: &str) -> Option<Rounding> {
        Some(match s {
            "half_up" => Rounding::HalfUp,
            "half_even" => Rounding::HalfEven,
            "half_down" => Rounding::HalfDown,
            "up" => Rounding::Up,
            "down" => Rounding::Down,
            "floor" => Rounding::Floor,
            "ceiling" => Rounding::Ceiling,
            _ => return None,
        })
    }

    pub fn strategy(self) -> RoundingStrategy {
        match self {
            Rounding::HalfUp => RoundingStrategy::MidpointAwayFromZero,
            Rounding::HalfEven => RoundingStrategy::MidpointNearestEven,
            Rounding::HalfDown => RoundingStrategy::MidpointTowardZero,
            Rounding::Up => RoundingStrategy::AwayFromZero,
            Rounding::Down => RoundingStrategy::ToZero,
            Rounding::Floor => RoundingStrategy::ToNegativeInfinity,
            Rounding::Ceiling => RoundingStrategy::ToPositiveInfinity,
        }
    }
}

/// Rounds to exactly `scale` places (pads with zeros, so `1.5` at scale 2 prints `1.50`).
pub fn round(d: Decimal, scale: u32, mode: Rounding) -> Decimal {
    let mut r = d.round_dp_with_strategy(scale, mode.strategy());
    r.rescale(scale);
    r
}

#[derive(Debug, Clone, PartialEq)]
pub enum Coerce {
    String,
    Integer,
    Decimal {
        scale: Option<u32>,
        rounding: Rounding,
        comma: bool,
        as_number: bool,
    },
    Boolean,
    Date {
        in_formats: Vec<String>,
        out_format: String,
    },
    DateTime {
        in_formats: Vec<String>,
        out_format: Option<String>,
        tz: Tz,
        out_tz: Option<Tz>,
    },
}

impl Coerce {
    /// The name as written in mapping files.
    pub fn name(&self) -> &'static str {
        match self {
            Coerce::String => "string",
            Coerce::Integer => "integer",
            Coerce::Decimal { .. } => "decimal",
            Coerce::Boolean => "boolean",
            Coerce::Date { .. } => "date",
            Coerce::DateTime { .. } => "datetime",
        }
    }

    pub fn apply(&self, v: &Value) -> Result<Value, String> {
        match self {
            Coerce::String => Ok(Value::String(as_text(v)?.into_owned())),
            Coerce::Integer => integer(v),
            Coerce::Decimal {
                scale,
                rounding,
                comma,
                as_number,
            } => {
                let d = to_decimal(v, *comma)?;
                let d = match scale {
                    Some(s) => round(d, *s, *rounding),
                    None => d.normalize(),
                };
                Ok(decimal_value(d, *as_number))
            }
            Coerce::Boolean => boolean(v),
            Coerce::Date {
                in_formats,
                out_format,
            } => {
                let text = as_text(v)?;
                let d = parse_date(text.trim(), in_formats).ok_or_else(|| {
                    format!("'{text}' is not a date in {}", in_formats.join(" or "))
                })?;
                Ok(Value::String(d.format(out_format).to_string()))
            }
            Coerce::DateTime {
                in_formats,
                out_format,
                tz,
                out_tz,
            } => {
                let text = as_text(v)?;
                let dt = parse_datetime(text.trim(), in_formats, *tz).ok_or_else(|| {
                    format!(
                        "'{text}' is not a date-time in {}",
                        if in_formats.is_empty() {
                            "RFC 3339".to_string()
                        } else {
                            in_formats.join(" or ")
                        }
                    )
                })?;
                Ok(Value::String(match (out_format, out_tz) {
                    (Some(f), Some(z)) => dt.with_timezone(z).format(f).to_string(),
                    (Some(f), None) => dt.format(f).to_string(),
                    (None, Some(z)) => dt.with_timezone(z).to_rfc3339(),
                    (None, None) => dt.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true),
                }))
            }
        }
    }
}

fn integer(v: &Value) -> Result<Value, String> {
    let text = as_text(v)?;
    let t = text.trim();
    if let Ok(i) = t.parse::<i64>() {
        return Ok(Value::from(i));
    }
    match super::parse_decimal(t, false) {
        Some(d) if d.fract().is_zero() => {
            let i: i64 = d
                .trunc()
                .try_into()
                .map_err(|_| format!("'{t}' is out of the integer range"))?;
            Ok(Value::from(i))
        }
        Some(_) => Err(format!("'{t}' has a fractional part; round it first")),
        None => Err(format!("'{t}' is not an integer")),
    }
}

fn boolean(v: &Value) -> Result<Value, String> {
    if let Value::Bool(b) = v {
        return Ok(Value::Bool(*b));
    }
    let text = as_text(v)?;
    match text.trim().to_ascii_lowercase().as_str() {
        "true" | "t" | "yes" | "y" | "1" | "on" => Ok(Value::Bool(true)),
        "false" | "f" | "no" | "n" | "0" | "off" => Ok(Value::Bool(false)),
        other => Err(format!(
            "'{other}' is not a boolean (true/false, yes/no, 1/0)"
        )),
    }
}

fn parse_date(s: &str, formats: &[String]) -> Option<NaiveDate> {
    if formats.is_empty() {
        return NaiveDate::parse_from_str(s, "%Y-%m-%d")
            .ok()
            .or_else(|| DateTime::parse_from_rfc3339(s).ok().map(|d| d.date_naive()));
    }
    formats.iter().find_map(|f| {
        NaiveDate::parse_from_str(s, f)
            .ok()
            .or_else(|| NaiveDateTime::parse_from_str(s, f).ok().map(|d| d.date()))
    })
}

/// Parses with the formats (a format with `%z`/`%:z` carries its own offset; otherwise the
/// wall-clock time is read in `tz`), or RFC 3339 when none are given.
fn parse_datetime(s: &str, formats: &[String], tz: Tz) -> Option<DateTime<Utc>> {
    if formats.is_empty() {
        return DateTime::parse_from_rfc3339(s)
            .ok()
            .map(|d| d.with_timezone(&Utc))
            .or_else(|| {
                NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S")
                    .ok()
                    .and_then(|n| tz.from_local_datetime(&n).earliest())
                    .map(|d| d.with_timezone(&Utc))
            });
    }
    formats.iter().find_map(|f| {
        if let Ok(d) = DateTime::parse_from_str(s, f) {
            return Some(d.with_timezone(&Utc));
        }
        let naive = NaiveDateTime::parse_from_str(s, f).ok().or_else(|| {
            NaiveDate::parse_from_str(s, f)
                .ok()
                .and_then(|d| d.and_hms_opt(0, 0, 0))
        })?;
        tz.from_local_datetime(&naive)
            .earliest()
            .map(|d| d.with_timezone(&Utc))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn dec(scale: Option<u32>, rounding: Rounding, as_number: bool) -> Coerce {
        Coerce::Decimal {
            scale,
            rounding,
            comma: false,
            as_number,
        }
    }

    #[test]
    fn decimals_round_exactly() {
        assert_eq!(
            dec(Some(2), Rounding::HalfUp, false)
                .apply(&json!("2.345"))
                .unwrap(),
            json!("2.35")
        );
        assert_eq!(
            dec(Some(2), Rounding::HalfEven, false)
                .apply(&json!("2.345"))
                .unwrap(),
            json!("2.34")
        );
        assert_eq!(
            dec(Some(2), Rounding::Down, false)
                .apply(&json!("-2.349"))
                .unwrap(),
            json!("-2.34")
        );
        assert_eq!(
            dec(Some(2), Rounding::Floor, false)
                .apply(&json!("-2.341"))
                .unwrap(),
            json!("-2.35")
        );
        assert_eq!(
            dec(Some(2), Rounding::HalfUp, false)
                .apply(&json!("1.5"))
                .unwrap(),
            json!("1.50")
        );
        let n = dec(Some(2), Rounding::HalfUp, true)
            .apply(&json!("0.1"))
            .unwrap();
        assert_eq!(serde_json::to_string(&n).unwrap(), "0.10");
        let comma = Coerce::Decimal {
            scale: None,
            rounding: Rounding::HalfUp,
            comma: true,
            as_number: false,
        };
        assert_eq!(comma.apply(&json!("1.234,50")).unwrap(), json!("1234.5"));
        assert!(dec(None, Rounding::HalfUp, false)
            .apply(&json!("abc"))
            .is_err());
    }

    #[test]
    fn integers_and_booleans() {
        assert_eq!(Coerce::Integer.apply(&json!(" 42 ")).unwrap(), json!(42));
        assert_eq!(Coerce::Integer.apply(&json!("42.0")).unwrap(), json!(42));
        assert!(Coerce::Integer
            .apply(&json!("4.2"))
            .unwrap_err()
            .contains("fractional"));
        assert_eq!(Coerce::Boolean.apply(&json!("Yes")).unwrap(), json!(true));
        assert!(Coerce::Boolean.apply(&json!("maybe")).is_err());
    }

    #[test]
    fn dates_and_times_with_zones() {
        let d = Coerce::Date {
            in_formats: vec!["%d.%m.%Y".into()],
            out_format: "%Y-%m-%d".into(),
        };
        assert_eq!(d.apply(&json!("03.02.2026")).unwrap(), json!("2026-02-03"));
        assert!(d.apply(&json!("2026-02-03")).is_err());
        let dt = Coerce::DateTime {
            in_formats: vec!["%d.%m.%Y %H:%M".into()],
            out_format: None,
            tz: chrono_tz::Europe::Warsaw,
            out_tz: None,
        };
        assert_eq!(
            dt.apply(&json!("01.07.2026 12:00")).unwrap(),
            json!("2026-07-01T10:00:00Z")
        );
        let out = Coerce::DateTime {
            in_formats: vec![],
            out_format: Some("%Y-%m-%d %H:%M".into()),
            tz: Tz::UTC,
            out_tz: Some(chrono_tz::America::Chicago),
        };
        assert_eq!(
            out.apply(&json!("2026-01-15T18:30:00Z")).unwrap(),
            json!("2026-01-15 12:30")
        );
    }
}
