//! An adapter conformance suite: checks every adapter with a faithful fake must pass, written
//! once against [`ConformanceHarness`] so each adapter crate only describes its fake.
//!
//! Use it from an integration test:
//!
//! ```text
//! async fn setup() -> MyHarness { MyHarness::start().await }
//! switchyard_adapter_http::adapter_conformance_suite!(setup);
//! ```
//!
//! which generates one `#[tokio::test]` per check (the calling crate needs `tokio` as a
//! dev-dependency). [`run_all`] runs them in sequence for callers with their own runtime.
//! The checks panic with a message naming what is wrong, like any assertion.

use crate::fake::{FakePartner, FakePartnerConfig};
use crate::testkit::{context, MapSecrets, RecordingSink};
use crate::HttpAdapterFactory;
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::Duration;
use switchyard_core::adapter::{
    Adapter, AdapterFactory, Capability, OutboundDocument, Payload, SecretResolver,
};
use switchyard_core::ids::PartnerName;
use switchyard_core::ErrorClass;

/// What the suite needs to know about an adapter and its fake partner.
pub trait ConformanceHarness: Send + Sync {
    fn factory(&self) -> &dyn AdapterFactory;
    fn partner(&self) -> PartnerName;
    /// A config section pointing at the fake, with credentials it accepts.
    fn config(&self) -> Value;
    /// The same with credentials the fake refuses; `None` when the partner has no auth.
    fn config_with_bad_credentials(&self) -> Option<Value>;
    fn secrets(&self) -> &dyn SecretResolver;
    /// Credential values that must never appear in an exchange record.
    fn secret_values(&self) -> Vec<String>;
    /// A document the fake accepts; `n` makes it distinct.
    fn valid_document(&self, n: usize) -> OutboundDocument;
    /// A document the fake rejects as invalid, when the fake validates documents.
    fn invalid_document(&self) -> Option<OutboundDocument>;
    /// How many times the fake applied the effect of `key`.
    fn times_applied(&self, key: &str) -> usize;
    /// Make the next push fail the way an outage does (5xx).
    fn fail_next_transiently(&self);
    /// Make pushes fail permanently (the partner rejects them) until [`Self::restore`].
    fn fail_permanently(&self);
    /// Make pushes answer 429 with `Retry-After: secs` until [`Self::restore`].
    fn throttle(&self, retry_after_secs: u64);
    fn restore(&self);
}

fn build<H: ConformanceHarness>(h: &H) -> Arc<dyn Adapter> {
    match h.factory().build(&h.partner(), &h.config(), h.secrets()) {
        Ok(a) => a,
        Err(e) => panic!("the harness config must build: {e}"),
    }
}

fn unique_key(check: &str) -> String {
    format!("conformance-{check}-{}", uuid_like())
}

/// Unique enough for keys within one fake's lifetime without pulling in a uuid dependency.
fn uuid_like() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    format!("{nanos:x}-{}", NEXT.fetch_add(1, Ordering::Relaxed))
}

fn can_push(adapter: &dyn Adapter) -> bool {
    adapter.capabilities().iter().any(|c| {
        matches!(
            c,
            Capability::PushCatalog
                | Capability::PushInventory
                | Capability::PushPrices
                | Capability::PushOrders
                | Capability::PushShipments
                | Capability::PushInvoices
        )
    })
}

/// The adapter names its kind like its factory and declares a consistent, non-empty capability
/// set including a health check.
pub async fn declares_capabilities<H: ConformanceHarness>(h: &H) {
    let adapter = build(h);
    assert_eq!(
        adapter.kind(),
        h.factory().kind(),
        "adapter kind differs from its factory's"
    );
    let caps = adapter.capabilities();
    assert!(!caps.is_empty(), "adapter declares no capabilities");
    assert!(
        adapter.supports(Capability::HealthCheck),
        "adapter does not declare a health check"
    );
    for (i, c) in caps.iter().enumerate() {
        assert!(
            !caps[i + 1..].contains(c),
            "capability {c:?} declared twice"
        );
        assert!(
            adapter.supports(*c),
            "supports({c:?}) disagrees with capabilities()"
        );
    }
}

/// Health succeeds against a healthy fake.
pub async fn health_ok<H: ConformanceHarness>(h: &H) {
    h.restore();
    let adapter = build(h);
    let sink = RecordingSink::new();
    let result = adapter
        .health(&context(unique_key("health"), sink.clone()))
        .await;
    assert!(
        result.is_ok(),
        "health against a healthy fake failed: {result:?}"
    );
    assert!(!sink.is_empty(), "health did not record its exchange");
}

/// A push carries the idempotency key: the fake applies the effect once, and pushing again
/// with the same key does not apply it again.
pub async fn push_passes_idempotency_key<H: ConformanceHarness>(h: &H) {
    h.restore();
    let adapter = build(h);
    if !can_push(adapter.as_ref()) {
        return;
    }
    let key = unique_key("idempotency");
    let sink = RecordingSink::new();
    let ctx = context(key.clone(), sink);
    let doc = h.valid_document(1);
    let first = adapter.push(&ctx, &doc).await;
    assert!(first.is_ok(), "first push failed: {first:?}");
    assert_eq!(
        h.times_applied(&key),
        1,
        "the fake did not apply the push under its idempotency key"
    );
    let again = adapter.push(&ctx, &doc).await;
    assert!(
        again.is_ok(),
        "redelivery with the same key failed: {again:?}"
    );
    assert_eq!(
        h.times_applied(&key),
        1,
        "redelivery with the same key applied the effect twice"
    );
}

/// Outages are transient, throttling is rate-limited with the partner's Retry-After,
/// rejections are permanent, bad credentials are auth errors; and the adapter recovers.
pub async fn errors_are_classified<H: ConformanceHarness>(h: &H) {
    h.restore();
    let adapter = build(h);
    if !can_push(adapter.as_ref()) {
        return;
    }
    let sink = RecordingSink::new();

    h.fail_next_transiently();
    let err = adapter
        .push(
            &context(unique_key("transient"), sink.clone()),
            &h.valid_document(2),
        )
        .await
        .unwrap_err();
    assert_eq!(
        err.class,
        ErrorClass::Transient,
        "an outage must be transient: {err}"
    );

    h.throttle(7);
    let err = adapter
        .push(
            &context(unique_key("throttle"), sink.clone()),
            &h.valid_document(3),
        )
        .await
        .unwrap_err();
    assert_eq!(
        err.class,
        ErrorClass::RateLimited {
            retry_after: Some(Duration::from_secs(7))
        },
        "throttling must carry the partner's Retry-After: {err}"
    );

    h.fail_permanently();
    let err = adapter
        .push(
            &context(unique_key("permanent"), sink.clone()),
            &h.valid_document(4),
        )
        .await
        .unwrap_err();
    assert_eq!(
        err.class,
        ErrorClass::Permanent,
        "a rejection must be permanent: {err}"
    );
    assert!(!err.class.is_retryable());

    h.restore();
    let key = unique_key("recovered");
    let ok = adapter
        .push(&context(key.clone(), sink.clone()), &h.valid_document(5))
        .await;
    assert!(ok.is_ok(), "push after restore failed: {ok:?}");
    assert_eq!(h.times_applied(&key), 1);

    if let Some(doc) = h.invalid_document() {
        let key = unique_key("invalid");
        let err = adapter
            .push(&context(key.clone(), sink.clone()), &doc)
            .await
            .unwrap_err();
        assert_eq!(
            err.class,
            ErrorClass::Permanent,
            "an invalid document must be permanent: {err}"
        );
        assert_eq!(h.times_applied(&key), 0, "an invalid document was applied");
    }

    if let Some(bad) = h.config_with_bad_credentials() {
        let adapter = match h.factory().build(&h.partner(), &bad, h.secrets()) {
            Ok(a) => a,
            Err(e) => panic!("the bad-credentials config must still build: {e}"),
        };
        let key = unique_key("auth");
        let err = adapter
            .push(&context(key.clone(), sink), &h.valid_document(6))
            .await
            .unwrap_err();
        assert_eq!(
            err.class,
            ErrorClass::Auth,
            "refused credentials must be an auth error: {err}"
        );
        assert_eq!(h.times_applied(&key), 0);
    }
}

/// Every call records an exchange naming the partner, and no record contains a credential.
pub async fn exchanges_are_recorded_without_secrets<H: ConformanceHarness>(h: &H) {
    h.restore();
    let adapter = build(h);
    let sink = RecordingSink::new();
    let ctx = context(unique_key("exchanges"), sink.clone());
    let _ = adapter.health(&ctx).await;
    let mut expected = 1;
    if can_push(adapter.as_ref()) {
        let result = adapter.push(&ctx, &h.valid_document(7)).await;
        assert!(result.is_ok(), "push failed: {result:?}");
        expected += 1;
        h.fail_next_transiently();
        let _ = adapter
            .push(
                &context(unique_key("exchanges-failed"), sink.clone()),
                &h.valid_document(8),
            )
            .await;
        expected += 1;
    }
    let exchanges = sink.exchanges();
    assert_eq!(
        exchanges.len(),
        expected,
        "expected one exchange per call: {exchanges:?}"
    );
    assert!(
        exchanges.iter().all(|e| e.partner == h.partner()),
        "an exchange names the wrong partner"
    );
    assert!(
        exchanges.last().is_some_and(|e| e.error.is_some()) || expected == 1,
        "a failed call recorded no error"
    );
    let secrets = h.secret_values();
    for exchange in &exchanges {
        let text = format!(
            "{exchange:?} {}",
            serde_json::to_string(exchange).unwrap_or_default()
        );
        for secret in &secrets {
            assert!(
                !text.contains(secret.as_str()),
                "an exchange record contains a credential: {exchange:?}"
            );
        }
    }
    let debug = format!("{adapter:?}", adapter = DebugDyn(adapter.as_ref()));
    for secret in &secrets {
        assert!(
            !debug.contains(secret.as_str()),
            "the adapter's description contains a credential"
        );
    }
}

/// `Arc<dyn Adapter>` has no Debug bound; describe it by kind and capabilities.
struct DebugDyn<'a>(&'a dyn Adapter);

impl std::fmt::Debug for DebugDyn<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {:?}", self.0.kind(), self.0.capabilities())
    }
}

/// Config sections are strict: an unknown key is an error naming it.
pub async fn unknown_config_keys_are_rejected<H: ConformanceHarness>(h: &H) {
    let mut config = h.config();
    let Some(table) = config.as_object_mut() else {
        panic!("the harness config must be a table")
    };
    table.insert("definitely_not_a_field".to_owned(), json!(1));
    match h.factory().build(&h.partner(), &config, h.secrets()) {
        Ok(_) => panic!("a config with an unknown key was accepted"),
        Err(e) => assert!(
            e.message.contains("definitely_not_a_field"),
            "the error does not name the key: {e}"
        ),
    }
}

/// Every check in sequence.
pub async fn run_all<H: ConformanceHarness>(h: &H) {
    declares_capabilities(h).await;
    health_ok(h).await;
    push_passes_idempotency_key(h).await;
    errors_are_classified(h).await;
    exchanges_are_recorded_without_secrets(h).await;
    unknown_config_keys_are_rejected(h).await;
}

/// Generates one `#[tokio::test]` per conformance check; `$setup` is an async fn (in scope at
/// the call site) returning a fresh [`ConformanceHarness`].
#[macro_export]
macro_rules! adapter_conformance_suite {
    ($setup:path) => {
        mod adapter_conformance {
            use super::*;

            #[tokio::test]
            async fn declares_capabilities() {
                $crate::conformance::declares_capabilities(&$setup().await).await;
            }
            #[tokio::test]
            async fn health_ok() {
                $crate::conformance::health_ok(&$setup().await).await;
            }
            #[tokio::test]
            async fn push_passes_idempotency_key() {
                $crate::conformance::push_passes_idempotency_key(&$setup().await).await;
            }
            #[tokio::test]
            async fn errors_are_classified() {
                $crate::conformance::errors_are_classified(&$setup().await).await;
            }
            #[tokio::test]
            async fn exchanges_are_recorded_without_secrets() {
                $crate::conformance::exchanges_are_recorded_without_secrets(&$setup().await).await;
            }
            #[tokio::test]
            async fn unknown_config_keys_are_rejected() {
                $crate::conformance::unknown_config_keys_are_rejected(&$setup().await).await;
            }
        }
    };
}

/// The harness for the HTTP adapter against [`FakePartner`].
pub struct HttpHarness {
    pub fake: FakePartner,
    factory: HttpAdapterFactory,
    secrets: MapSecrets,
}

pub const HARNESS_TOKEN: &str = "conformance-token-3f9a1c";

impl HttpHarness {
    /// Start a fake requiring a bearer token and the fields `sku` and `name`.
    pub async fn start() -> Self {
        let fake = FakePartner::start(
            FakePartnerConfig::new()
                .bearer_token(HARNESS_TOKEN)
                .required_fields(["sku", "name"]),
        )
        .await
        .unwrap_or_else(|e| panic!("cannot start the fake partner: {e}"));
        let factory = HttpAdapterFactory::new()
            .unwrap_or_else(|e| panic!("cannot build the http client: {e}"));
        let secrets = MapSecrets::new()
            .with("secret:good", HARNESS_TOKEN)
            .with("secret:bad", "not-the-token");
        Self {
            fake,
            factory,
            secrets,
        }
    }

    fn config_with(&self, token_ref: &str) -> Value {
        json!({
            "base_url": self.fake.base_url(),
            "auth": {"type": "bearer", "token_ref": token_ref},
            "timeout_ms": 5_000,
        })
    }
}

impl ConformanceHarness for HttpHarness {
    fn factory(&self) -> &dyn AdapterFactory {
        &self.factory
    }
    fn partner(&self) -> PartnerName {
        PartnerName::from("conformance-http")
    }
    fn config(&self) -> Value {
        self.config_with("secret:good")
    }
    fn config_with_bad_credentials(&self) -> Option<Value> {
        Some(self.config_with("secret:bad"))
    }
    fn secrets(&self) -> &dyn SecretResolver {
        &self.secrets
    }
    fn secret_values(&self) -> Vec<String> {
        vec![HARNESS_TOKEN.to_owned()]
    }
    fn valid_document(&self, n: usize) -> OutboundDocument {
        OutboundDocument {
            document: "catalog".to_owned(),
            payload: Payload::Json {
                body: json!({"sku": format!("SKU-{n}"), "name": format!("item {n}")}),
            },
        }
    }
    fn invalid_document(&self) -> Option<OutboundDocument> {
        Some(OutboundDocument {
            document: "catalog".to_owned(),
            payload: Payload::Json {
                body: json!({"sku": "SKU-X"}),
            },
        })
    }
    fn times_applied(&self, key: &str) -> usize {
        self.fake.times_applied(key)
    }
    fn fail_next_transiently(&self) {
        self.fake.fail_next(1, 503);
    }
    fn fail_permanently(&self) {
        self.fake.always_fail(422);
    }
    fn throttle(&self, retry_after_secs: u64) {
        self.fake.throttle(retry_after_secs);
    }
    fn restore(&self) {
        self.fake.fix();
    }
}
