//! Webhook subscriptions in the fake: `webhookSubscriptionCreate` stores them,
//! `webhookSubscriptions(topics:)` lists them with cursors.
//!
//! Refused as Shopify refuses: a topic that is not a `WebhookSubscriptionTopic` (input
//! validation, a top-level `INVALID_VARIABLE`), an address that is not a URL or not
//! `https://` ([V3] "Address protocol http:// is not supported"), the same topic and address
//! twice ([V3] "Address for this topic has already been taken"). `http://` to a loopback host
//! is accepted only with [`super::FakeShopifyConfig::allow_loopback_http`], so tests can
//! subscribe a local daemon. [I]: the exact userError field paths and that `uri` and
//! `callbackUrl` are compared as written.

use super::store::{gid, user_error};
use serde_json::{json, Map, Value};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subscription {
    pub id: u64,
    pub topic: String,
    pub uri: String,
    pub created_at: String,
}

#[derive(Debug, Default)]
pub struct Subscriptions {
    next_id: u64,
    pub list: Vec<Subscription>,
}

fn loopback(host: &str) -> bool {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host == "localhost"
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// Why Shopify would refuse `uri` as a delivery address, if it would.
fn refuse_address(uri: &str, allow_loopback_http: bool) -> Option<&'static str> {
    let (scheme, rest) = uri.split_once("://")?;
    let host_port = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host = match host_port.rsplit_once(':') {
        Some((h, port)) if port.bytes().all(|b| b.is_ascii_digit()) => h,
        _ => host_port,
    };
    if host.is_empty() || host.contains(char::is_whitespace) {
        return Some("Address is invalid");
    }
    match scheme {
        "https" => None,
        "http" if allow_loopback_http && loopback(host) => None,
        "http" => Some("Address protocol http:// is not supported"),
        _ => Some("Address is invalid"),
    }
}

impl Subscriptions {
    /// `webhookSubscriptionCreate(topic:, webhookSubscription:)`: the subscription or
    /// userErrors.
    pub fn create(
        &mut self,
        topic: &str,
        input: &Map<String, Value>,
        allow_loopback_http: bool,
    ) -> Result<Value, Vec<Value>> {
        let (field, uri) = match (input.get("uri"), input.get("callbackUrl")) {
            (Some(Value::String(u)), _) => ("uri", u.clone()),
            (_, Some(Value::String(u))) => ("callbackUrl", u.clone()),
            _ => {
                return Err(vec![user_error(
                    &["webhookSubscription", "uri"],
                    "Address can't be blank",
                    "BLANK",
                )])
            }
        };
        let at = ["webhookSubscription", field];
        if !uri.contains("://") {
            return Err(vec![user_error(&at, "Address is invalid", "INVALID")]);
        }
        if let Some(why) = refuse_address(&uri, allow_loopback_http) {
            return Err(vec![user_error(&at, why, "INVALID")]);
        }
        if self.list.iter().any(|s| s.topic == topic && s.uri == uri) {
            return Err(vec![user_error(
                &at,
                "Address for this topic has already been taken",
                "TAKEN",
            )]);
        }
        self.next_id += 1;
        let s = Subscription {
            id: 5000 + self.next_id,
            topic: topic.to_owned(),
            uri,
            created_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        };
        let answer = Self::json(&s);
        self.list.push(s);
        Ok(answer)
    }

    pub fn json(s: &Subscription) -> Value {
        json!({"id": gid("WebhookSubscription", s.id), "topic": s.topic, "uri": s.uri,
               "format": "JSON", "createdAt": s.created_at})
    }

    /// Every subscription (of `topics` when given), oldest first, for a connection.
    pub fn nodes(&self, topics: Option<&Value>) -> Vec<Value> {
        let wanted: Option<Vec<&str>> = topics.map(|t| match t {
            Value::Array(a) => a.iter().filter_map(Value::as_str).collect(),
            single => single.as_str().into_iter().collect(),
        });
        self.list
            .iter()
            .filter(|s| {
                wanted
                    .as_ref()
                    .is_none_or(|w| w.contains(&s.topic.as_str()))
            })
            .map(Self::json)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::refuse_address;

    #[test]
    fn addresses_shopify_refuses() {
        assert_eq!(
            refuse_address("https://hub.example.com/webhooks/shop", false),
            None
        );
        assert!(refuse_address("http://hub.example.com/webhooks/shop", true).is_some());
        assert!(refuse_address("http://127.0.0.1:8080/webhooks/shop", false).is_some());
        assert_eq!(
            refuse_address("http://127.0.0.1:8080/webhooks/shop", true),
            None
        );
        assert_eq!(refuse_address("http://[::1]:8080/x", true), None);
        assert!(refuse_address("ftp://hub.example.com/x", false).is_some());
        assert!(refuse_address("https:///x", false).is_some());
    }
}
