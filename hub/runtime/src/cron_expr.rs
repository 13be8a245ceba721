//! A schedule's cron expression, parsed by the `cron` crate, with a problem pinned to the field
//! at fault. The crate reports a bad expression as one message that repeats the whole
//! expression with a caret under it; to point an editor at the field instead, each field is
//! tried alone in an otherwise all-`*` expression (the crate stays the judge of what a field
//! may hold; nothing here re-implements cron syntax).

use chrono::Utc;
use chrono_tz::Tz;
use std::str::FromStr;

/// The fields in order, seconds first (the year is optional).
const FIELDS: [&str; 7] = [
    "seconds",
    "minutes",
    "hours",
    "day of month",
    "month",
    "day of week",
    "year",
];

/// What each field takes, in the `cron` crate's terms, said with the problem: the crate's own
/// message for a value out of range does not name the range.
const TAKES: [&str; 7] = [
    "0-59",
    "0-59",
    "0-23",
    "1-31",
    "1-12 or JAN-DEC",
    "1-7 (Sunday is 1) or SUN-SAT",
    "1970-2100",
];

/// What is wrong with an expression, and where: a byte offset into the expression when one
/// field is at fault.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CronProblem {
    pub offset: Option<usize>,
    pub message: String,
}

/// Parse `expr`; a problem names the field at fault and its offset.
pub fn parse(expr: &str) -> Result<cron::Schedule, CronProblem> {
    let whole_error = match cron::Schedule::from_str(expr) {
        Ok(schedule) => return Ok(schedule),
        Err(e) => e,
    };
    let fields = fields_of(expr);
    if !(6..=7).contains(&fields.len()) {
        return Err(CronProblem {
            offset: None,
            message: format!(
                "invalid cron expression `{expr}`: it has {} field(s); write six, seconds first \
                 (`0 */5 * * * *`), and optionally a seventh, the year",
                fields.len()
            ),
        });
    }
    for (i, (offset, field)) in fields.iter().enumerate() {
        let mut probe = vec!["*"; fields.len()];
        probe[i] = field;
        if let Err(e) = cron::Schedule::from_str(&probe.join(" ")) {
            return Err(CronProblem {
                offset: Some(*offset),
                message: format!(
                    "invalid cron expression `{expr}`: the {} field `{field}` {}; it takes {}, \
                     `*`, lists (`a,b`), ranges (`a-b`) and steps (`*/n`)",
                    FIELDS[i],
                    reason(&e),
                    TAKES[i]
                ),
            });
        }
    }
    // Every field is fine alone: the combination is not (the crate's words, made one line).
    Err(CronProblem {
        offset: None,
        message: format!("invalid cron expression `{expr}`: {}", reason(&whole_error)),
    })
}

/// Whether `schedule` ever fires after now in `timezone` (`0 0 0 31 2 *`, February 31st,
/// never does; the crate searches up to the year 2100).
pub fn fires(schedule: &cron::Schedule, timezone: Tz) -> bool {
    schedule
        .after(&Utc::now().with_timezone(&timezone))
        .next()
        .is_some()
}

/// The fields with their byte offsets.
fn fields_of(expr: &str) -> Vec<(usize, &str)> {
    let mut out = Vec::new();
    let mut start = None;
    for (i, c) in expr.char_indices() {
        match (c.is_whitespace(), start) {
            (true, Some(s)) => {
                out.push((s, &expr[s..i]));
                start = None;
            }
            (false, None) => start = Some(i),
            _ => {}
        }
    }
    if let Some(s) = start {
        out.push((s, &expr[s..]));
    }
    out
}

/// The crate's message on one line: a syntax error is drawn over several lines with a caret.
fn reason(e: &cron::error::Error) -> String {
    let text = e.to_string();
    if text.contains('\n') {
        "is not valid cron syntax".to_owned()
    } else {
        format!("is not valid: {}", text.trim())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bad_field_is_named_with_its_offset() {
        let e = parse("0 */5 * 32 * *").unwrap_err();
        assert_eq!(e.offset, Some(8), "{e:?}");
        assert!(
            e.message
                .contains("the day of month field `32` is not valid"),
            "{e:?}"
        );
        assert!(!e.message.contains('\n'), "{e:?}");
        assert!(e.message.contains("it takes 1-31"), "{e:?}");
        let e = parse("0 0 * * * Fooday").unwrap_err();
        assert_eq!(e.offset, Some(10), "{e:?}");
        assert!(e.message.contains("day of week"), "{e:?}");
    }

    #[test]
    fn a_wrong_number_of_fields_is_said_so() {
        let e = parse("*/5 * * * *").unwrap_err();
        assert_eq!(e.offset, None);
        assert!(e.message.contains("has 5 field(s)"), "{e:?}");
        let e = parse("0 */5 * * * * * *").unwrap_err();
        assert!(e.message.contains("has 8 field(s)"), "{e:?}");
    }

    #[test]
    fn february_31st_never_fires() {
        let s = parse("0 0 0 31 2 *").unwrap();
        assert!(!fires(&s, chrono_tz::UTC));
        assert!(fires(&parse("0 0 0 29 2 *").unwrap(), chrono_tz::UTC));
    }
}
