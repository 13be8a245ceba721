//! Shopify webhook verification: `X-Shopify-Hmac-Sha256` is the base64 HMAC-SHA256 of the raw
//! body keyed with the app's client secret. Compared in constant time; after a secret rotation
//! the previous secret is accepted until its window ends (Shopify keeps signing with it for up
//! to an hour). The event id is `X-Shopify-Event-Id` (the same across duplicate deliveries of
//! one event, which is what dedupe needs), falling back to `X-Shopify-Webhook-Id`.

use crate::config::WebhookKeys;
use base64::Engine as _;
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
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
    Ok(VerifiedWebhook {
        event_id,
        documents: vec![InboundDocument {
            document: document(&topic),
            payload: Payload::Json { body: json },
        }],
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

    #[test]
    fn current_and_previous_within_the_window() {
        let now = Utc::now();
        let keys = WebhookKeys {
            current: Secret::new("new"),
            previous: Some((Secret::new("old"), now + chrono::Duration::minutes(5))),
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
