//! The runtime's adapter conformance suite, run for the HTTP adapter against its fake.

use async_trait::async_trait;
use serde_json::{json, Value};
use std::time::{Duration, SystemTime};
use switchyard_adapter_http::fake::{FakePartner, FakePartnerConfig};
use switchyard_adapter_http::webhook::WebhookKey;
use switchyard_adapter_http::HttpAdapterFactory;
use switchyard_core::adapter::{AdapterFactory, OutboundDocument, Payload, SecretResolver};
use switchyard_core::ids::PartnerName;
use switchyard_runtime::testkit::conformance::{catalog_document, ConformanceHarness, PullSetup};
use switchyard_runtime::testkit::doubles::{context, MapSecrets, RecordingSink};

const TOKEN: &str = "conformance-token-3f9a1c";
const WEBHOOK_SECRET: &str = "whsec_Y29uZm9ybWFuY2Utd2ViaG9vay1rZXktMzJieXRlcw==";

/// The HTTP adapter against [`FakePartner`]: bearer auth, `sku` and `name` required,
/// pulling enabled, webhooks signed with [`WEBHOOK_SECRET`].
pub struct HttpHarness {
    pub fake: FakePartner,
    factory: HttpAdapterFactory,
    secrets: MapSecrets,
}

impl HttpHarness {
    pub async fn start() -> Self {
        let fake = FakePartner::start(
            FakePartnerConfig::new()
                .bearer_token(TOKEN)
                .required_fields(["sku", "name"]),
        )
        .await
        .unwrap_or_else(|e| panic!("cannot start the fake partner: {e}"));
        let factory = HttpAdapterFactory::new()
            .unwrap_or_else(|e| panic!("cannot build the http client: {e}"));
        let secrets = MapSecrets::new()
            .with("secret:good", TOKEN)
            .with("secret:bad", "not-the-token")
            .with("secret:webhooks", WEBHOOK_SECRET);
        Self {
            fake,
            factory,
            secrets,
        }
    }

    fn config_with(&self, token_ref: &str) -> Value {
        let mut config = self.fake.http_adapter_config(token_ref);
        config["timeout_ms"] = json!(5_000);
        config["webhooks"] = json!({"secret_ref": "secret:webhooks", "tolerance_secs": 300});
        config
    }
}

#[async_trait]
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
        vec![TOKEN.to_owned(), WEBHOOK_SECRET.to_owned()]
    }
    fn valid_document(&self, n: usize) -> OutboundDocument {
        catalog_document(n)
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
    fn make_unavailable(&self) {
        self.fake.always_fail(503);
    }
    fn restore(&self) {
        self.fake.fix();
    }
    async fn seed_records(&self, n: usize) -> PullSetup {
        self.fake.reset();
        let adapter = self
            .factory
            .build(&self.partner(), &self.config(), &self.secrets)
            .expect("the harness config builds");
        for i in 0..n {
            adapter
                .push(
                    &context(format!("seed-{i}"), RecordingSink::new()),
                    &catalog_document(1000 + i),
                )
                .await
                .expect("seeding the fake");
        }
        PullSetup {
            entity: "documents".into(),
            params: json!({"limit": 5}),
            page_size: 5,
        }
    }
    fn record_id(&self, record: &Value) -> String {
        record["id"].to_string()
    }
    fn cursor_past_end(&self, total: usize) -> String {
        format!("o{}", total + 10)
    }
    fn sign_webhook(
        &self,
        event_id: &str,
        body: &[u8],
        sent_at: SystemTime,
    ) -> Vec<(String, String)> {
        WebhookKey::parse(WEBHOOK_SECRET)
            .expect("the harness secret")
            .headers(event_id, sent_at, body)
    }
    fn webhook_body(&self, n: usize) -> Vec<u8> {
        serde_json::to_vec(&json!({"type": "product.updated", "data": {"sku": format!("SKU-{n}")}}))
            .expect("json")
    }
    fn webhook_tolerance(&self) -> Option<Duration> {
        Some(Duration::from_secs(300))
    }
}

async fn setup() -> HttpHarness {
    HttpHarness::start().await
}

switchyard_runtime::adapter_conformance_suite!(setup);

#[tokio::test]
async fn run_all_passes_in_sequence_on_one_fake() {
    let h = setup().await;
    switchyard_runtime::testkit::conformance::run_all(&h).await;
    // The suite applied at least its idempotency and recovery documents on this one fake.
    assert!(h.fake.stats().applied >= 2);
}
