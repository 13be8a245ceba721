//! `Retry-After` parsing (RFC 9110 §10.2.3): either delta-seconds or an HTTP-date.

use std::time::{Duration, SystemTime};

/// How long the partner asked us to wait, relative to `now`. A date in the past means "now"
/// (zero); a value that is neither form is ignored (None), so the job's own policy applies.
pub fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if value.is_empty() {
        return None;
    }
    if value.bytes().all(|b| b.is_ascii_digit()) {
        // Absurdly long digit strings overflow u64; treat them as unparseable rather than 0.
        return value.parse::<u64>().ok().map(Duration::from_secs);
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delta_seconds() {
        assert_eq!(
            parse_retry_after("120", SystemTime::now()),
            Some(Duration::from_secs(120))
        );
        assert_eq!(
            parse_retry_after(" 0 ", SystemTime::now()),
            Some(Duration::ZERO)
        );
    }

    #[test]
    fn http_date_in_all_three_forms() {
        // 1994-11-06T08:49:37Z, 37 seconds before the date below.
        let now = httpdate::parse_http_date("Sun, 06 Nov 1994 08:49:00 GMT").unwrap();
        let expected = Some(Duration::from_secs(37));
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", now),
            expected
        );
        assert_eq!(
            parse_retry_after("Sunday, 06-Nov-94 08:49:37 GMT", now),
            expected
        );
        assert_eq!(parse_retry_after("Sun Nov  6 08:49:37 1994", now), expected);
    }

    #[test]
    fn past_dates_mean_now_and_garbage_is_ignored() {
        let now = SystemTime::now();
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", now),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("soon", now), None);
        assert_eq!(parse_retry_after("-5", now), None);
        assert_eq!(parse_retry_after("", now), None);
        assert_eq!(parse_retry_after("99999999999999999999999", now), None);
    }
}
