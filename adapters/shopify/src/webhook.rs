//! Shopify webhook verification: `X-Shopify-Hmac-Sha256` is the base64 HMAC-SHA256 of the raw
//! body keyed with the app's client secret. Compared in constant time; after a secret rotation
//! the previous secret is accepted until its window ends (Shopify keeps signing with it for up
//! to an hour). The event id is `X-Shopify-Event-Id` (the same across duplicate deliveries of
//! one event, which is what dedupe needs), falling back to `X-Shopify-Webhook-Id`.
//!
//! Stale retries: `X-Shopify-Triggered-At` says when the event happened. A delivery triggered
//! longer ago than `webhooks.stale_after_secs` is marked stale here (at receipt, the only
//! moment its age means anything); processors also compare the time with the version of the
//! resource already imported. A stale delivery is still stored and acknowledged (2xx, so
//! Shopify stops retrying and nothing is lost), but its processing does nothing. The marks
//! travel as one extra document, [`DELIVERY_DOCUMENT`], because the seam stores a delivery's
//! documents but hands processors no headers.

use crate::config::WebhookKeys;
use base64::Engine as _;
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use subtle::ConstantTimeEq;
use switchyard_core::adapter::{InboundDocument, Payload, VerifiedWebhook};
use switchyard_core::error::AdapterError;

fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// base64 HMAC-SHA256 of `body` with `secret`.
pub fn sign(secret: &str, body: &[u8]) -> String {
    let mut mac =
        Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key length");
    mac.update(body);
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

fn matches(secret: &str, body: &[u8], given: &[u8]) -> bool {
    let expected = sign(secret, body);
    expected.as_bytes().ct_eq(given).into()
}

/// The document name a topic's body is (`orders/create` → `order`).
fn document(topic: &str) -> String {
    let resource = topic.split('/').next().unwrap_or(topic);
    resource.strip_suffix('s').unwrap_or(resource).to_owned()
}

/// The document [`verify`] adds to every delivery: what `X-Shopify-Triggered-At` said.
pub const DELIVERY_DOCUMENT: &str = "shopify.delivery";

/// The body of [`DELIVERY_DOCUMENT`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeliveryMeta {
    /// When the event happened (None: the header was missing or not a time).
    pub triggered_at: Option<DateTime<Utc>>,
    /// Triggered longer ago than the staleness window when it arrived.
    pub stale: bool,
}

impl DeliveryMeta {
    /// The marks among a stored delivery's documents (None for deliveries stored before
    /// they were added).
    pub fn of(documents: &[InboundDocument]) -> Option<DeliveryMeta> {
        documents
            .iter()
            .find(|d| d.document == DELIVERY_DOCUMENT)
            .and_then(|d| match &d.payload {
                Payload::Json { body } => serde_json::from_value(body.clone()).ok(),
                Payload::Text { .. } => None,
            })
    }
}

/// Read `X-Shopify-Triggered-At` at `now`. A value that is not a time is kept as unknown
/// (logged), not refused: refusing would lose a delivery Shopify signed.
fn triggered(
    headers: &[(String, String)],
    stale_after: chrono::Duration,
    now: DateTime<Utc>,
) -> DeliveryMeta {
    let raw = header(headers, "x-shopify-triggered-at");
    let triggered_at = raw.and_then(|t| match DateTime::parse_from_rfc3339(t.trim()) {
        Ok(t) => Some(t.with_timezone(&Utc)),
        Err(e) => {
            tracing::warn!(value = t, error = %e, "X-Shopify-Triggered-At is not an RFC 3339 time; the delivery's age is unknown");
            None
        }
    });
    DeliveryMeta {
        triggered_at,
        stale: triggered_at.is_some_and(|t| now - t > stale_after),
    }
}

/// Verify a delivery at `now`.
pub fn verify(
    keys: &WebhookKeys,
    headers: &[(String, String)],
    body: &[u8],
    now: DateTime<Utc>,
) -> Result<VerifiedWebhook, AdapterError> {
    let given = header(headers, "x-shopify-hmac-sha256")
        .ok_or_else(|| AdapterError::auth("missing X-Shopify-Hmac-Sha256 header"))?
        .trim();
    let ok = matches(keys.current.expose(), body, given.as_bytes())
        || keys.previous.as_ref().is_some_and(|(old, until)| {
            now <= *until && matches(old.expose(), body, given.as_bytes())
        });
    if !ok {
        return Err(AdapterError::auth(
            "X-Shopify-Hmac-Sha256 does not match the body",
        ));
    }
    let event_id = header(headers, "x-shopify-event-id")
        .or_else(|| header(headers, "x-shopify-webhook-id"))
        .ok_or_else(|| {
            AdapterError::permanent("missing X-Shopify-Event-Id and X-Shopify-Webhook-Id headers")
        })?
        .to_owned();
    let topic = header(headers, "x-shopify-topic")
        .unwrap_or("unknown")
        .to_owned();
    let json: serde_json::Value = serde_json::from_slice(body)
        .map_err(|e| AdapterError::permanent(format!("webhook body is not JSON: {e}")))?;
    let meta = triggered(headers, keys.stale_after, now);
    if meta.stale {
        tracing::info!(event_id, topic, triggered_at = ?meta.triggered_at, "stale Shopify retry: stored and acknowledged, not processed");
    }
    Ok(VerifiedWebhook {
        event_id,
        documents: vec![
            InboundDocument {
                document: document(&topic),
                payload: Payload::Json { body: json },
            },
            InboundDocument {
                document: DELIVERY_DOCUMENT.into(),
                payload: Payload::Json {
                    body: serde_json::to_value(&meta).unwrap_or_default(),
                },
            },
        ],
        topic,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use switchyard_runtime::partner_config::Secret;

    fn headers(sig: &str) -> Vec<(String, String)> {
        vec![
            ("x-shopify-hmac-sha256".into(), sig.into()),
            ("x-shopify-topic".into(), "orders/create".into()),
            ("x-shopify-event-id".into(), "evt-1".into()),
        ]
    }

    fn keys() -> WebhookKeys {
        WebhookKeys {
            current: Secret::new("new"),
            previous: None,
            stale_after: chrono::Duration::hours(4),
            callback_url: None,
            topics: Vec::new(),
        }
    }

    #[test]
    fn triggered_at_marks_stale_retries_and_tolerates_a_bad_value() {
        let now = Utc::now();
        let body = br#"{"id":1}"#;
        let at = |t: &str| {
            let mut h = headers(&sign("new", body));
            h.push(("X-Shopify-Triggered-At".into(), t.into()));
            DeliveryMeta::of(&verify(&keys(), &h, body, now).unwrap().documents).unwrap()
        };
        let fresh = now - chrono::Duration::minutes(3);
        let m = at(&fresh.to_rfc3339());
        assert!(!m.stale);
        assert_eq!(
            m.triggered_at.map(|t| t.timestamp()),
            Some(fresh.timestamp())
        );
        let old = now - chrono::Duration::hours(5);
        assert!(at(&old.to_rfc3339()).stale);
        // Not a time: stored with its age unknown, never stale by the window.
        let m = at("yesterday-ish");
        assert_eq!((m.triggered_at, m.stale), (None, false));
        // No header: the same.
        let v = verify(&keys(), &headers(&sign("new", body)), body, now).unwrap();
        assert!(!DeliveryMeta::of(&v.documents).unwrap().stale);
        assert_eq!(v.documents[0].document, "order");
    }

    #[test]
    fn current_and_previous_within_the_window() {
        let now = Utc::now();
        let keys = WebhookKeys {
            current: Secret::new("new"),
            previous: Some((Secret::new("old"), now + chrono::Duration::minutes(5))),
            stale_after: chrono::Duration::hours(4),
            callback_url: None,
            topics: Vec::new(),
        };
        let body = br#"{"id":1}"#;
        let v = verify(&keys, &headers(&sign("new", body)), body, now).unwrap();
        assert_eq!(
            (v.event_id.as_str(), v.topic.as_str()),
            ("evt-1", "orders/create")
        );
        assert_eq!(v.documents[0].document, "order");
        assert!(verify(&keys, &headers(&sign("old", body)), body, now).is_ok());
        // After the window the old secret is refused.
        let late = now + chrono::Duration::minutes(6);
        let e = verify(&keys, &headers(&sign("old", body)), body, late).unwrap_err();
        assert_eq!(e.class, switchyard_core::error::ErrorClass::Auth);
        // A body changed after signing is refused.
        assert!(verify(&keys, &headers(&sign("new", body)), br#"{"id":2}"#, now).is_err());
    }
}
