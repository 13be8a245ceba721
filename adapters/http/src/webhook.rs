//! Standard Webhooks (standardwebhooks.com, version 1) signatures: what an HTTP partner that
//! sends webhooks signs, and what the adapter verifies.
//!
//! A delivery carries `webhook-id`, `webhook-timestamp` (Unix seconds) and
//! `webhook-signature` (`v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">`, several
//! space-separated during a key rotation). The secret is `whsec_` + base64 of the key bytes.
//! Written here rather than taken from a crate: the scheme is a dozen lines over `hmac` and
//! `sha2` (both already in the build), and no maintained Rust crate implements it; the
//! project's test checks it against the reference implementation (`standardwebhooks` on PyPI).

use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig, STANDARD};
use base64::engine::DecodePaddingMode;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use serde_json::Value;
use sha2::Sha256;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use switchyard_core::adapter::{InboundDocument, Payload, VerifiedWebhook};
use switchyard_core::error::AdapterError;

pub const ID_HEADER: &str = "webhook-id";
pub const TIMESTAMP_HEADER: &str = "webhook-timestamp";
pub const SIGNATURE_HEADER: &str = "webhook-signature";
const SECRET_PREFIX: &str = "whsec_";

/// Secrets are standard base64, with or without padding (the reference libraries pad them).
const SECRET_BASE64: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// A signing key, decoded from its `whsec_` form.
#[derive(Clone)]
pub struct WebhookKey(Vec<u8>);

impl std::fmt::Debug for WebhookKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("WebhookKey(<redacted>)")
    }
}

impl WebhookKey {
    /// `whsec_<base64>` (the prefix may be left out).
    pub fn parse(secret: &str) -> Result<Self, String> {
        let b64 = secret.strip_prefix(SECRET_PREFIX).unwrap_or(secret);
        let bytes = SECRET_BASE64
            .decode(b64.trim())
            .map_err(|_| "a webhook secret must be `whsec_` followed by base64".to_owned())?;
        if bytes.len() < 16 {
            return Err(format!(
                "a webhook secret must hold at least 16 bytes, this one holds {}",
                bytes.len()
            ));
        }
        Ok(Self(bytes))
    }

    fn mac(&self, id: &str, timestamp: i64, body: &[u8]) -> Hmac<Sha256> {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.0).expect("HMAC takes keys of any size");
        mac.update(id.as_bytes());
        mac.update(b".");
        mac.update(timestamp.to_string().as_bytes());
        mac.update(b".");
        mac.update(body);
        mac
    }

    /// `v1,<signature>` for a delivery.
    pub fn sign(&self, id: &str, timestamp: i64, body: &[u8]) -> String {
        format!(
            "v1,{}",
            STANDARD.encode(self.mac(id, timestamp, body).finalize().into_bytes())
        )
    }

    /// The three headers of a delivery sent at `at`.
    pub fn headers(&self, id: &str, at: SystemTime, body: &[u8]) -> Vec<(String, String)> {
        let ts = unix(at);
        vec![
            (ID_HEADER.to_owned(), id.to_owned()),
            (TIMESTAMP_HEADER.to_owned(), ts.to_string()),
            (SIGNATURE_HEADER.to_owned(), self.sign(id, ts, body)),
        ]
    }
}

fn unix(at: SystemTime) -> i64 {
    match at.duration_since(UNIX_EPOCH) {
        Ok(d) => d.as_secs() as i64,
        Err(e) => -(e.duration().as_secs() as i64),
    }
}

/// Why a delivery is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    MissingHeader(&'static str),
    BadTimestamp,
    /// Older or newer than the tolerance, by this many seconds.
    OutsideTolerance(i64),
    NoValidSignature,
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Refusal::MissingHeader(h) => write!(f, "the delivery has no `{h}` header"),
            Refusal::BadTimestamp => write!(f, "`{TIMESTAMP_HEADER}` is not Unix seconds"),
            Refusal::OutsideTolerance(s) => write!(
                f,
                "`{TIMESTAMP_HEADER}` is {} s from now, outside the tolerance (a replay, or a clock far off)",
                s.abs()
            ),
            Refusal::NoValidSignature => {
                write!(f, "no `{SIGNATURE_HEADER}` entry matches the body")
            }
        }
    }
}

fn header<'a>(headers: &'a [(String, String)], name: &'static str) -> Result<&'a str, Refusal> {
    headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
        .ok_or(Refusal::MissingHeader(name))
}

/// Verify a delivery received at `now`; its `webhook-id` on success.
pub fn verify<'a>(
    key: &WebhookKey,
    tolerance: Duration,
    headers: &'a [(String, String)],
    body: &[u8],
    now: SystemTime,
) -> Result<&'a str, Refusal> {
    let id = header(headers, ID_HEADER)?;
    let ts: i64 = header(headers, TIMESTAMP_HEADER)?
        .trim()
        .parse()
        .map_err(|_| Refusal::BadTimestamp)?;
    let skew = unix(now) - ts;
    if skew.unsigned_abs() > tolerance.as_secs() {
        return Err(Refusal::OutsideTolerance(skew));
    }
    let signatures = header(headers, SIGNATURE_HEADER)?;
    let valid = signatures.split_whitespace().any(|entry| {
        let Some(sig) = entry.strip_prefix("v1,") else {
            return false;
        };
        let Ok(bytes) = STANDARD.decode(sig) else {
            return false;
        };
        // Constant-time comparison (hmac's `verify_slice`).
        key.mac(id, ts, body).verify_slice(&bytes).is_ok()
    });
    if valid {
        Ok(id)
    } else {
        Err(Refusal::NoValidSignature)
    }
}

/// A whole Standard Webhooks delivery: verified at the clock's now (a refusal is an auth
/// error), its body one JSON event whose `type`, when present, names the topic and document.
pub fn receive(
    key: &WebhookKey,
    tolerance: Duration,
    headers: &[(String, String)],
    body: &[u8],
) -> Result<VerifiedWebhook, AdapterError> {
    let id = verify(key, tolerance, headers, body, SystemTime::now())
        .map_err(|r| AdapterError::auth(r.to_string()))?;
    let event: Value = serde_json::from_slice(body)
        .map_err(|e| AdapterError::permanent(format!("the webhook body is not JSON: {e}")))?;
    let topic = event
        .get("type")
        .and_then(Value::as_str)
        .unwrap_or("event")
        .to_owned();
    Ok(VerifiedWebhook {
        event_id: id.to_owned(),
        topic: topic.clone(),
        documents: vec![InboundDocument {
            document: topic,
            payload: Payload::Json { body: event },
        }],
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    // The example of the Standard Webhooks specification's reference libraries' tests.
    const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

    #[test]
    fn signs_and_verifies_the_reference_example() {
        let key = WebhookKey::parse(SECRET).unwrap();
        let body = br#"{"test": 2432232314}"#;
        // The reference libraries' published vector for this id, timestamp and body.
        assert_eq!(
            key.sign("msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body),
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
        );
        let now = UNIX_EPOCH + Duration::from_secs(1614265330 + 10);
        let headers = key.headers(
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            UNIX_EPOCH + Duration::from_secs(1614265330),
            body,
        );
        assert_eq!(
            verify(&key, Duration::from_secs(300), &headers, body, now),
            Ok("msg_p5jXN8AQM9LWM0D4loKWxJek")
        );
    }

    #[test]
    fn refuses_tampering_staleness_and_missing_headers() {
        let key = WebhookKey::parse(SECRET).unwrap();
        let now = SystemTime::now();
        let body = b"{}";
        let headers = key.headers("msg_1", now, body);
        let tol = Duration::from_secs(300);
        assert_eq!(
            verify(&key, tol, &headers, b"{ }", now),
            Err(Refusal::NoValidSignature)
        );
        let stale = key.headers("msg_1", now - Duration::from_secs(301), body);
        assert!(matches!(
            verify(&key, tol, &stale, body, now),
            Err(Refusal::OutsideTolerance(_))
        ));
        let future = key.headers("msg_1", now + Duration::from_secs(301), body);
        assert!(matches!(
            verify(&key, tol, &future, body, now),
            Err(Refusal::OutsideTolerance(_))
        ));
        let other = WebhookKey::parse("whsec_dGhpcyBpcyBhbm90aGVyIGtleQ==").unwrap();
        assert_eq!(
            verify(&other, tol, &headers, body, now),
            Err(Refusal::NoValidSignature)
        );
        // A rotation: several signatures, one of them right.
        let mut rotated = headers.clone();
        rotated[2].1 = format!("v1,AAAA {}", rotated[2].1);
        assert!(verify(&key, tol, &rotated, body, now).is_ok());
        let unsigned: Vec<_> = headers[..2].to_vec();
        assert_eq!(
            verify(&key, tol, &unsigned, body, now),
            Err(Refusal::MissingHeader(SIGNATURE_HEADER))
        );
        assert!(WebhookKey::parse("whsec_c2hvcnQ=").is_err());
    }
}
