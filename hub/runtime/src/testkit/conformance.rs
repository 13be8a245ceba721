//! The adapter conformance suite: checks every adapter with a faithful fake must pass,
//! written once against [`ConformanceHarness`] so each adapter crate only describes its fake.
//!
//! Use it from an integration test of the adapter's crate:
//!
//! ```text
//! async fn setup() -> MyHarness { MyHarness::start().await }
//! switchyard_runtime::adapter_conformance_suite!(setup);
//! ```
//!
//! which generates one `#[tokio::test]` per check (the calling crate needs `tokio` as a
//! dev-dependency). [`run_all`] runs them in sequence.
//!
//! There are no early returns: for every capability group (push, pull, webhooks) an adapter
//! that declares it must pass its checks, and one that does not must be refused — the runtime
//! refuses to admit a job that needs it (the same [`Registry::admit`] the API and the worker
//! use), and the adapter's own method answers with a permanent error. The checks panic with a
//! message naming what is wrong, like any assertion.

use crate::adapters::Adapters;
use crate::config::Config;
use crate::jobs::catalog_sync::CatalogSync;
use crate::jobs::push::{PushDocument, PushRecord};
use crate::registry::{JobKinds, Refusal, Registry};
use crate::testkit::doubles::{context, RecordingSink};
use async_trait::async_trait;
use serde_json::{json, Value};
use std::collections::HashSet;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, SystemTime};
use switchyard_core::adapter::{
    Adapter, AdapterFactory, Capability, OutboundDocument, Payload, PullRequest, SecretResolver,
};
use switchyard_core::ids::PartnerName;
use switchyard_core::{ErrorClass, JobPayload};

/// How to read a page of the fake partner's records.
#[derive(Debug, Clone)]
pub struct PullSetup {
    /// The entity to pull (`documents`, `products`).
    pub entity: String,
    /// Request parameters giving a small page size, so a handful of records spans pages.
    pub params: Value,
    /// How many records one page holds with those parameters.
    pub page_size: usize,
}

/// What the suite needs to know about an adapter and its fake partner.
#[async_trait]
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

    // Push (used when the adapter declares a push capability).
    /// A document the fake accepts; `n` makes it distinct.
    fn valid_document(&self, n: usize) -> OutboundDocument;
    /// A document the fake rejects as invalid, when the fake validates documents.
    fn invalid_document(&self) -> Option<OutboundDocument>;
    /// How many times the fake applied the effect of `key`.
    fn times_applied(&self, key: &str) -> usize;
    /// Make the next call fail the way an outage does (5xx).
    fn fail_next_transiently(&self);
    /// Make pushes fail permanently (the partner rejects them) until [`Self::restore`].
    fn fail_permanently(&self);
    /// Make calls answer 429 with `Retry-After: secs` until [`Self::restore`].
    fn throttle(&self, retry_after_secs: u64);
    /// Make the partner unavailable (every call a 5xx, health included) until [`Self::restore`].
    fn make_unavailable(&self);
    fn restore(&self);

    // Pull (used when the adapter declares a pull capability).
    /// Make the fake hold exactly `n` records to pull (0: none), and say how to page them.
    async fn seed_records(&self, n: usize) -> PullSetup;
    /// A record's identity, to tell pages apart.
    fn record_id(&self, record: &Value) -> String;
    /// A cursor pointing past the last of `total` records (partners answer those differently:
    /// an empty page, an error, or the last page again — the adapter must end the pull).
    fn cursor_past_end(&self, total: usize) -> String;

    // Webhooks (used when the adapter declares receive_webhooks).
    /// Headers of a delivery of `body` with event id `event_id`, signed the way the partner
    /// signs, as sent at `sent_at`.
    fn sign_webhook(
        &self,
        event_id: &str,
        body: &[u8],
        sent_at: SystemTime,
    ) -> Vec<(String, String)>;
    /// A body the partner could send.
    fn webhook_body(&self, n: usize) -> Vec<u8>;
    /// How old a delivery may be; `None` when the partner signs no timestamp.
    fn webhook_tolerance(&self) -> Option<Duration>;
}

fn build<H: ConformanceHarness + ?Sized>(h: &H) -> Arc<dyn Adapter> {
    match h.factory().build(&h.partner(), &h.config(), h.secrets()) {
        Ok(a) => a,
        Err(e) => panic!("the harness config must build: {e}"),
    }
}

fn unique_key(check: &str) -> String {
    format!("conformance-{check}-{}", uuid::Uuid::now_v7().simple())
}

fn declares_push(adapter: &dyn Adapter) -> bool {
    adapter.capabilities().iter().any(Capability::is_push)
}

fn declares_pull(adapter: &dyn Adapter) -> bool {
    adapter.capabilities().iter().any(Capability::is_pull)
}

/// The runtime's admission over this one adapter and the built-in job kinds, with `inbox` as
/// the directory `catalog.sync` reads from.
fn registry_with(partner: &PartnerName, adapter: Arc<dyn Adapter>, inbox: &Path) -> Registry {
    let mut adapters = Adapters::default();
    adapters.insert(partner.as_str(), adapter);
    let mut jobs = JobKinds::default();
    let mut config = Config::default();
    config.paths.inbox = inbox.to_owned();
    for spec in crate::jobs::builtin(&config) {
        if let Err(e) = jobs.insert(spec) {
            panic!("{e}");
        }
    }
    Registry {
        adapters: Arc::new(adapters),
        jobs: Arc::new(jobs),
    }
}

/// The document name whose push needs `capability`.
fn document_needing(capability: Capability) -> &'static str {
    match capability {
        Capability::PushCatalog => "catalog",
        Capability::PushInventory => "inventory",
        Capability::PushPrices => "price",
        Capability::PushOrders => "order",
        Capability::PushShipments => "shipment",
        Capability::PushInvoices => "invoice",
        other => panic!("{other} is not a push capability"),
    }
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

/// Health succeeds against a healthy fake and records its exchange; against a fake that is
/// down it fails with a retryable error.
pub async fn health<H: ConformanceHarness>(h: &H) {
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
    h.make_unavailable();
    let down = adapter
        .health(&context(unique_key("health-down"), sink.clone()))
        .await;
    h.restore();
    match down {
        Ok(()) => panic!("health against a failing fake succeeded"),
        Err(e) => assert!(
            e.class.is_retryable(),
            "an outage seen by health must be retryable: {e}"
        ),
    }
}

/// Every push capability the adapter does not declare is refused by the runtime (for
/// `partner.push`, `record.push` and `catalog.sync` of that document); declared ones are
/// admitted.
pub async fn push_capabilities_are_enforced<H: ConformanceHarness>(h: &H) {
    let adapter = build(h);
    let partner = h.partner();
    // `catalog.sync` is admitted only with a source file in its inbox: give it one.
    let inbox = std::env::temp_dir().join(format!(
        "switchyard-conformance-{}",
        uuid::Uuid::now_v7().simple()
    ));
    std::fs::create_dir_all(&inbox).expect("a temporary inbox");
    std::fs::write(inbox.join("catalog.csv"), "sku\n").expect("a catalog file");
    let registry = registry_with(&partner, adapter.clone(), &inbox);
    for capability in Capability::ALL.into_iter().filter(Capability::is_push) {
        let document = document_needing(capability);
        let payload = json!({"document": document, "source": "catalog.csv", "mapping": "m"});
        for kind in [PushDocument::KIND, PushRecord::KIND, CatalogSync::KIND] {
            let admitted = registry.admit(kind, Some(partner.as_str()), &payload);
            if adapter.supports(capability) {
                assert!(
                    admitted.is_ok(),
                    "{kind} of a {document} was refused though the adapter declares {capability}: {:?}",
                    admitted.err()
                );
            } else {
                match admitted {
                    Err(Refusal::MissingCapability { needs, .. }) => {
                        assert_eq!(needs, vec![capability], "{kind} of a {document}")
                    }
                    other => panic!(
                        "{kind} of a {document} must be refused for lack of {capability}, got {:?}",
                        other.map(|s| s.kind)
                    ),
                }
            }
        }
    }
    let _ = std::fs::remove_dir_all(&inbox);
}

/// A push carries the idempotency key: the fake applies the effect once, and pushing again
/// with the same key does not apply it again. An adapter that cannot push answers a push
/// with a permanent error.
pub async fn push_passes_idempotency_key<H: ConformanceHarness>(h: &H) {
    h.restore();
    let adapter = build(h);
    if declares_push(adapter.as_ref()) {
        idempotent_push(h, adapter.as_ref()).await;
    } else {
        push_is_refused(h, adapter.as_ref()).await;
    }
}

/// An adapter that declares no push answers one with a permanent error.
async fn push_is_refused<H: ConformanceHarness>(h: &H, adapter: &dyn Adapter) {
    let refused = adapter
        .push(
            &context(unique_key("no-push"), RecordingSink::new()),
            &h.valid_document(1),
        )
        .await;
    match refused {
        Err(e) => assert_eq!(e.class, ErrorClass::Permanent, "{e}"),
        Ok(r) => panic!("an adapter that declares no push accepted one: {r:?}"),
    }
}

async fn idempotent_push<H: ConformanceHarness>(h: &H, adapter: &dyn Adapter) {
    let key = unique_key("idempotency");
    let ctx = context(key.clone(), RecordingSink::new());
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
pub async fn push_errors_are_classified<H: ConformanceHarness>(h: &H) {
    h.restore();
    let adapter = build(h);
    if declares_push(adapter.as_ref()) {
        classified_push_errors(h, adapter.as_ref()).await;
    } else {
        push_is_refused(h, adapter.as_ref()).await;
    }
}

async fn classified_push_errors<H: ConformanceHarness>(h: &H, adapter: &dyn Adapter) {
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
        ErrorClass::transient(),
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

/// Pull every page from the start (or from `cursor`) to the end; panics past 1,000 pages.
async fn pull_all(
    adapter: &dyn Adapter,
    setup: &PullSetup,
    mut cursor: Option<String>,
) -> Vec<Vec<Value>> {
    let sink = RecordingSink::new();
    let mut pages = Vec::new();
    loop {
        let page = adapter
            .pull(
                &context(unique_key("pull"), sink.clone()),
                &PullRequest {
                    entity: setup.entity.clone(),
                    cursor: cursor.clone(),
                    params: setup.params.clone(),
                },
            )
            .await
            .unwrap_or_else(|e| panic!("pull failed at cursor {cursor:?}: {e}"));
        pages.push(page.records);
        assert!(
            pages.len() <= 1_000,
            "the pull did not end after 1,000 pages (a page past the end repeated?)"
        );
        match page.next_cursor {
            Some(next) => {
                assert_ne!(
                    Some(&next),
                    cursor.as_ref(),
                    "the adapter returned the cursor it was given: the pull would never end"
                );
                cursor = Some(next);
            }
            None => return pages,
        }
    }
}

/// Pagination: every record exactly once across pages, pages no larger than asked; a pull
/// resumed from a cursor by a fresh adapter continues where the first stopped; an empty
/// partner is one empty page; a cursor past the end ends the pull instead of repeating the
/// last page. An adapter that cannot pull answers with a permanent error.
pub async fn pull_pages_to_the_end<H: ConformanceHarness>(h: &H) {
    h.restore();
    let adapter = build(h);
    if declares_pull(adapter.as_ref()) {
        pages_to_the_end(h, adapter).await;
    } else {
        let refused = adapter
            .pull(
                &context(unique_key("no-pull"), RecordingSink::new()),
                &PullRequest {
                    entity: "anything".into(),
                    cursor: None,
                    params: json!({}),
                },
            )
            .await;
        match refused {
            Err(e) => assert_eq!(e.class, ErrorClass::Permanent, "{e}"),
            Ok(p) => panic!("an adapter that declares no pull returned a page: {p:?}"),
        }
    }
}

async fn pages_to_the_end<H: ConformanceHarness>(h: &H, adapter: Arc<dyn Adapter>) {
    // An empty partner: one empty page, no cursor.
    let setup = h.seed_records(0).await;
    let pages = pull_all(adapter.as_ref(), &setup, None).await;
    assert_eq!(
        pages.len(),
        1,
        "an empty partner must be one page: {pages:?}"
    );
    assert!(pages[0].is_empty(), "an empty partner returned records");

    // Several pages and a short last page.
    let total = setup.page_size * 2 + 3;
    let setup = h.seed_records(total).await;
    let pages = pull_all(adapter.as_ref(), &setup, None).await;
    let ids: Vec<String> = pages.iter().flatten().map(|r| h.record_id(r)).collect();
    assert_eq!(ids.len(), total, "every record once across the pages");
    assert_eq!(
        ids.iter().collect::<HashSet<_>>().len(),
        total,
        "a record came twice: {ids:?}"
    );
    assert!(
        pages.iter().all(|p| p.len() <= setup.page_size),
        "a page was larger than asked"
    );
    assert_eq!(
        pages.len(),
        3,
        "{total} records in pages of {}",
        setup.page_size
    );

    // Resume: the cursor after the first page, given to a fresh adapter, yields the rest.
    let sink = RecordingSink::new();
    let first = adapter
        .pull(
            &context(unique_key("resume"), sink.clone()),
            &PullRequest {
                entity: setup.entity.clone(),
                cursor: None,
                params: setup.params.clone(),
            },
        )
        .await
        .expect("first page");
    let cursor = first.next_cursor.expect("a cursor after a full first page");
    let fresh = build(h);
    let rest = pull_all(fresh.as_ref(), &setup, Some(cursor)).await;
    let rest_ids: Vec<String> = rest.iter().flatten().map(|r| h.record_id(r)).collect();
    assert_eq!(
        rest_ids,
        ids[setup.page_size..].to_vec(),
        "a resumed pull must continue after the first page"
    );

    // Past the end: the pull ends with no records.
    let past = adapter
        .pull(
            &context(unique_key("past-end"), sink),
            &PullRequest {
                entity: setup.entity.clone(),
                cursor: Some(h.cursor_past_end(total)),
                params: setup.params.clone(),
            },
        )
        .await
        .unwrap_or_else(|e| panic!("a cursor past the end must end the pull, not fail: {e}"));
    assert!(
        past.records.is_empty(),
        "a page past the end returned records: {:?}",
        past.records
    );
    assert_eq!(
        past.next_cursor, None,
        "a page past the end offered a next page"
    );
}

/// Webhooks: a validly signed delivery is verified and decoded with the partner's event id;
/// a tampered body, a wrong signature and (when the partner signs one) a stale timestamp are
/// auth errors; a replayed delivery carries the same event id, which is what the runtime
/// dedupes on. An adapter that declares no webhooks refuses every delivery.
pub async fn webhooks_are_verified<H: ConformanceHarness>(h: &H) {
    let adapter = build(h);
    let ctx = context(unique_key("webhook"), RecordingSink::new());
    let body = h.webhook_body(1);
    let event = format!("evt_{}", uuid::Uuid::now_v7().simple());
    let headers = h.sign_webhook(&event, &body, SystemTime::now());
    if adapter.supports(Capability::ReceiveWebhooks) {
        verified_webhooks(h, adapter.as_ref(), &event, &headers, &body).await;
    } else {
        match adapter.receive_webhook(&ctx, &headers, &body).await {
            Err(e) => assert_eq!(e.class, ErrorClass::Permanent, "{e}"),
            Ok(v) => panic!("an adapter that declares no webhooks accepted one: {v:?}"),
        }
    }
}

async fn verified_webhooks<H: ConformanceHarness>(
    h: &H,
    adapter: &dyn Adapter,
    event: &str,
    headers: &[(String, String)],
    body: &[u8],
) {
    let ctx = context(unique_key("webhook"), RecordingSink::new());
    let (headers, body) = (headers.to_vec(), body.to_vec());
    let verified = adapter
        .receive_webhook(&ctx, &headers, &body)
        .await
        .unwrap_or_else(|e| panic!("a validly signed delivery was refused: {e}"));
    assert_eq!(verified.event_id, event, "the partner's event id");
    assert!(
        !verified.documents.is_empty(),
        "the delivery decoded to no document"
    );

    let again = adapter
        .receive_webhook(&ctx, &headers, &body)
        .await
        .unwrap_or_else(|e| {
            panic!("a replayed delivery must verify (the runtime dedupes it): {e}")
        });
    assert_eq!(
        again.event_id, verified.event_id,
        "a replay keeps its event id"
    );

    let mut tampered = body.clone();
    tampered.extend_from_slice(b" ");
    let err = adapter
        .receive_webhook(&ctx, &headers, &tampered)
        .await
        .expect_err("a body changed after signing was accepted");
    assert_eq!(err.class, ErrorClass::Auth, "{err}");

    let other_body = h.webhook_body(2);
    let other_headers = h.sign_webhook(event, &other_body, SystemTime::now());
    let err = adapter
        .receive_webhook(&ctx, &other_headers, &body)
        .await
        .expect_err("a signature of another body was accepted");
    assert_eq!(err.class, ErrorClass::Auth, "{err}");

    let unsigned: Vec<(String, String)> = headers
        .iter()
        .filter(|(k, _)| {
            !k.to_ascii_lowercase().contains("signature")
                && !k.to_ascii_lowercase().contains("hmac")
        })
        .cloned()
        .collect();
    let err = adapter
        .receive_webhook(&ctx, &unsigned, &body)
        .await
        .expect_err("an unsigned delivery was accepted");
    assert_eq!(err.class, ErrorClass::Auth, "{err}");

    if let Some(tolerance) = h.webhook_tolerance() {
        let stale_at = SystemTime::now() - tolerance - Duration::from_secs(60);
        let stale = h.sign_webhook(event, &body, stale_at);
        let err = adapter
            .receive_webhook(&ctx, &stale, &body)
            .await
            .expect_err("a delivery older than the tolerance was accepted");
        assert_eq!(err.class, ErrorClass::Auth, "{err}");
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
    if declares_push(adapter.as_ref()) {
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
    // Empty for an adapter without credentials (a local mailbox).
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

/// A push of a document the suite builds, for harnesses whose fake is seeded by pushing.
pub fn catalog_document(n: usize) -> OutboundDocument {
    OutboundDocument {
        document: "catalog".to_owned(),
        payload: Payload::Json {
            body: json!({"sku": format!("SKU-{n}"), "name": format!("item {n}")}),
        },
    }
}

/// Every check in sequence.
pub async fn run_all<H: ConformanceHarness>(h: &H) {
    declares_capabilities(h).await;
    health(h).await;
    push_capabilities_are_enforced(h).await;
    push_passes_idempotency_key(h).await;
    push_errors_are_classified(h).await;
    pull_pages_to_the_end(h).await;
    webhooks_are_verified(h).await;
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
            use $crate::testkit::conformance as suite;

            #[tokio::test]
            async fn declares_capabilities() {
                suite::declares_capabilities(&$setup().await).await;
            }
            #[tokio::test]
            async fn health() {
                suite::health(&$setup().await).await;
            }
            #[tokio::test]
            async fn push_capabilities_are_enforced() {
                suite::push_capabilities_are_enforced(&$setup().await).await;
            }
            #[tokio::test]
            async fn push_passes_idempotency_key() {
                suite::push_passes_idempotency_key(&$setup().await).await;
            }
            #[tokio::test]
            async fn push_errors_are_classified() {
                suite::push_errors_are_classified(&$setup().await).await;
            }
            #[tokio::test]
            async fn pull_pages_to_the_end() {
                suite::pull_pages_to_the_end(&$setup().await).await;
            }
            #[tokio::test]
            async fn webhooks_are_verified() {
                suite::webhooks_are_verified(&$setup().await).await;
            }
            #[tokio::test]
            async fn exchanges_are_recorded_without_secrets() {
                suite::exchanges_are_recorded_without_secrets(&$setup().await).await;
            }
            #[tokio::test]
            async fn unknown_config_keys_are_rejected() {
                suite::unknown_config_keys_are_rejected(&$setup().await).await;
            }
        }
    };
}
