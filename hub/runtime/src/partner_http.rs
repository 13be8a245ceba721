//! What every partner client over HTTP needs alike: reading a `Retry-After` and classifying a
//! request that got no answer. One copy here instead of one per adapter (Magento, PhoneX,
//! WesellCellular had each written the same functions).

use reqwest::header::{HeaderMap, RETRY_AFTER};
use std::time::{Duration, SystemTime};
use switchyard_core::AdapterError;

/// A `Retry-After` header as a delay: delta-seconds, or an HTTP date (RFC 9110 §10.2.3) counted
/// from now (a date already past is no delay).
pub fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let value = headers.get(RETRY_AFTER)?.to_str().ok()?;
    if let Ok(secs) = value.trim().parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    httpdate::parse_http_date(value)
        .ok()
        .map(|at| at.duration_since(SystemTime::now()).unwrap_or_default())
}

/// A request to `partner` that got no answer: transient, naming the timeout when that was it.
pub fn transport_error(partner: &str, e: &reqwest::Error, timeout: Duration) -> AdapterError {
    if e.is_timeout() {
        AdapterError::transient(format!(
            "{partner} did not answer within {} ms",
            timeout.as_millis()
        ))
    } else if e.is_connect() {
        AdapterError::transient(format!("cannot connect to {partner}: {e}"))
    } else {
        AdapterError::transient(format!("request to {partner} failed: {e}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_takes_seconds_or_a_date() {
        let mut h = HeaderMap::new();
        assert_eq!(retry_after(&h), None);
        h.insert(RETRY_AFTER, " 7 ".parse().unwrap());
        assert_eq!(retry_after(&h), Some(Duration::from_secs(7)));
        h.insert(
            RETRY_AFTER,
            "Sun, 06 Nov 1994 08:49:37 GMT".parse().unwrap(),
        );
        assert_eq!(retry_after(&h), Some(Duration::ZERO));
        h.insert(RETRY_AFTER, "soon".parse().unwrap());
        assert_eq!(retry_after(&h), None);
    }
}
