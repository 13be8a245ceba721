//! PhoneX status webhooks: the signature check and the `order.status_updated` body.
//!
//! `X-PhoneX-Signature` is the HMAC-SHA256, keyed with the partner's webhook secret, of
//! `{X-PhoneX-Timestamp}.{raw body}`, hex or base64 as configured. The timestamp is signed
//! with the body (an assumption: PhoneX documents nothing) so that a captured delivery cannot
//! be sent again later with a fresh timestamp; a body's own `updated_at` would not do, since
//! a legitimate redelivery of an old change would look stale. The comparison is the `hmac`
//! crate's `verify_slice` (constant time). The event id is `X-PhoneX-Event-Id`, or, when a
//! delivery lacks it, the SHA-256 of the body (a redelivery carries the same body).

use crate::config::{SignatureEncoding, WebhookKeys};
use crate::wire::{
    OrderStatus, EVENT_ID_HEADER, SIGNATURE_HEADER, STATUS_UPDATED, TIMESTAMP_HEADER,
};
use base64::Engine as _;
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use switchyard_core::adapter::{InboundDocument, Payload, VerifiedWebhook};
use switchyard_core::error::AdapterError;
use switchyard_core::supplier::{StatusUpdate, Tracking};

/// The document name a verified delivery is stored under.
pub const DOCUMENT: &str = "order_status";

fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.trim())
}

fn mac(secret: &str, timestamp: &str, body: &[u8]) -> Hmac<Sha256> {
    let mut mac =
        Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key length");
    mac.update(timestamp.as_bytes());
    mac.update(b".");
    mac.update(body);
    mac
}

/// The `X-PhoneX-Signature` value for `body` sent at `timestamp` (unix seconds). The fake
/// signs its deliveries with this, and tests sign theirs.
pub fn sign(secret: &str, encoding: SignatureEncoding, timestamp: i64, body: &[u8]) -> String {
    let tag = mac(secret, &timestamp.to_string(), body)
        .finalize()
        .into_bytes();
    match encoding {
        SignatureEncoding::Hex => hex::encode(tag),
        SignatureEncoding::Base64 => base64::engine::general_purpose::STANDARD.encode(tag),
    }
}

/// The headers of a delivery of `body` with `event_id`, signed at `timestamp`.
pub fn signed_headers(
    secret: &str,
    encoding: SignatureEncoding,
    event_id: &str,
    timestamp: i64,
    body: &[u8],
) -> Vec<(String, String)> {
    vec![
        ("content-type".into(), "application/json".into()),
        (EVENT_ID_HEADER.to_ascii_lowercase(), event_id.into()),
        (TIMESTAMP_HEADER.to_ascii_lowercase(), timestamp.to_string()),
        (
            SIGNATURE_HEADER.to_ascii_lowercase(),
            sign(secret, encoding, timestamp, body),
        ),
    ]
}

/// Verify a delivery received at `now`. Every refusal is an auth error (the runtime answers
/// 401 and logs it); a verified body that is not JSON is permanent.
pub fn verify(
    keys: &WebhookKeys,
    headers: &[(String, String)],
    body: &[u8],
    now: DateTime<Utc>,
) -> Result<VerifiedWebhook, AdapterError> {
    let given = header(headers, SIGNATURE_HEADER)
        .ok_or_else(|| AdapterError::auth(format!("missing {SIGNATURE_HEADER} header")))?;
    let timestamp = header(headers, TIMESTAMP_HEADER)
        .ok_or_else(|| AdapterError::auth(format!("missing {TIMESTAMP_HEADER} header")))?;
    let sent: i64 = timestamp.parse().map_err(|_| {
        AdapterError::auth(format!(
            "{TIMESTAMP_HEADER} `{timestamp}` is not unix seconds"
        ))
    })?;
    let age = now.timestamp().saturating_sub(sent);
    let tolerance = i64::try_from(keys.tolerance.as_secs()).unwrap_or(i64::MAX);
    if age.unsigned_abs() > tolerance.unsigned_abs() {
        return Err(AdapterError::auth(format!(
            "stale delivery: {TIMESTAMP_HEADER} is {age} s from now (tolerance {tolerance} s)"
        )));
    }
    let decoded = match keys.encoding {
        SignatureEncoding::Hex => hex::decode(given).ok(),
        SignatureEncoding::Base64 => base64::engine::general_purpose::STANDARD.decode(given).ok(),
    }
    .ok_or_else(|| {
        AdapterError::auth(format!(
            "{SIGNATURE_HEADER} is not {:?}-encoded",
            keys.encoding
        ))
    })?;
    mac(keys.secret.expose(), timestamp, body)
        .verify_slice(&decoded)
        .map_err(|_| AdapterError::auth(format!("{SIGNATURE_HEADER} does not match the body")))?;
    let json: Value = serde_json::from_slice(body)
        .map_err(|e| AdapterError::permanent(format!("webhook body is not JSON: {e}")))?;
    let topic = json
        .get("event")
        .and_then(Value::as_str)
        .unwrap_or("unknown")
        .to_owned();
    let event_id = match header(headers, EVENT_ID_HEADER) {
        Some(id) if !id.is_empty() => id.to_owned(),
        _ => format!("sha256:{}", hex::encode(Sha256::digest(body))),
    };
    Ok(VerifiedWebhook {
        event_id,
        topic,
        documents: vec![InboundDocument {
            document: DOCUMENT.to_owned(),
            payload: Payload::Json { body: json },
        }],
    })
}

fn field_error(field: &str, message: impl std::fmt::Display) -> AdapterError {
    AdapterError::permanent(format!("PhoneX webhook field `{field}`: {message}"))
}

fn text<'a>(obj: &'a Map<String, Value>, field: &str) -> Result<&'a str, AdapterError> {
    match obj.get(field) {
        Some(Value::String(s)) if !s.trim().is_empty() => Ok(s.trim()),
        Some(Value::String(_)) => Err(field_error(field, "is empty")),
        Some(other) => Err(field_error(field, format!("is {other}, not a string"))),
        None => Err(field_error(field, "is missing")),
    }
}

fn optional_text(obj: &Map<String, Value>, field: &str) -> Result<Option<String>, AdapterError> {
    match obj.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.trim().to_owned())),
        Some(other) => Err(field_error(field, format!("is {other}, not a string"))),
    }
}

/// The status update an `order.status_updated` body carries; anything else is a permanent
/// error naming the field at fault.
pub fn status_update(topic: &str, body: &[u8]) -> Result<StatusUpdate, AdapterError> {
    let json: Value = serde_json::from_slice(body)
        .map_err(|e| AdapterError::permanent(format!("PhoneX webhook body is not JSON: {e}")))?;
    let obj = json
        .as_object()
        .ok_or_else(|| AdapterError::permanent("PhoneX webhook body is not a JSON object"))?;
    let event = text(obj, "event")?;
    if event != STATUS_UPDATED || (topic != STATUS_UPDATED && topic != event) {
        return Err(field_error(
            "event",
            format!("`{event}` is not an event this adapter handles (only `{STATUS_UPDATED}`)"),
        ));
    }
    let supplier_order_id = text(obj, "supplier_order_id")?.to_owned();
    let order_number = optional_text(obj, "order_id")?;
    let word = text(obj, "status")?;
    let status = OrderStatus::parse(word).ok_or_else(|| {
        field_error(
            "status",
            format!(
                "`{word}` is not a PhoneX status ({})",
                OrderStatus::ALL.map(OrderStatus::as_str).join(", ")
            ),
        )
    })?;
    let updated = text(obj, "updated_at")?;
    let updated_at = DateTime::parse_from_rfc3339(updated)
        .map_err(|e| field_error("updated_at", format!("`{updated}` is not RFC 3339: {e}")))?
        .with_timezone(&Utc);
    let carrier = optional_text(obj, "carrier")?;
    let tracking =
        optional_text(obj, "tracking_number")?.map(|number| Tracking { number, carrier });
    if status == OrderStatus::Shipped && tracking.is_none() {
        return Err(field_error(
            "tracking_number",
            "is missing on a `shipped` event",
        ));
    }
    Ok(StatusUpdate {
        supplier_order_id,
        order_number,
        status: status.supplier(),
        supplier_status: status.as_str().to_owned(),
        tracking,
        updated_at,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;
    use switchyard_runtime::partner_config::Secret;

    #[test]
    fn hex_and_base64_name_the_same_tag() {
        let hex_sig = sign("k", SignatureEncoding::Hex, 1, b"{}");
        let b64 = sign("k", SignatureEncoding::Base64, 1, b"{}");
        assert_eq!(
            hex::decode(hex_sig).unwrap(),
            base64::engine::general_purpose::STANDARD
                .decode(b64)
                .unwrap()
        );
    }

    #[test]
    fn a_signature_in_the_other_encoding_is_refused() {
        let keys = WebhookKeys {
            secret: Secret::new("k"),
            encoding: SignatureEncoding::Hex,
            tolerance: Duration::from_secs(300),
        };
        let now = Utc::now();
        let body = br#"{"event":"order.status_updated"}"#;
        let mut h = signed_headers("k", SignatureEncoding::Base64, "e1", now.timestamp(), body);
        assert!(verify(&keys, &h, body, now).is_err());
        h = signed_headers("k", SignatureEncoding::Hex, "e1", now.timestamp(), body);
        assert_eq!(verify(&keys, &h, body, now).unwrap().event_id, "e1");
    }
}
