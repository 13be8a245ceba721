//! The runtime's adapter conformance suite, run for the Magento adapter against its fake store
//! (OAuth 1.0a with HMAC-SHA256, the mode integrations use).

mod common;

use async_trait::async_trait;
use common::{oauth, Store};
use serde_json::{json, Value};
use std::time::{Duration, SystemTime};
use switchyard_core::adapter::{AdapterFactory, OutboundDocument, SecretResolver};
use switchyard_core::ids::PartnerName;
use switchyard_runtime::testkit::conformance::{ConformanceHarness, PullSetup};

pub struct MagentoHarness {
    store: Store,
}

impl MagentoHarness {
    async fn start() -> Self {
        let store = Store::start().await;
        // The suite's documents update products the store already has (SKU-0 ... SKU-19).
        for n in 0..20 {
            store.fake.seed_product(
                json!({"sku": format!("SKU-{n}"), "name": format!("seeded {n}"), "price": 1}),
            );
        }
        Self { store }
    }
}

#[async_trait]
impl ConformanceHarness for MagentoHarness {
    fn factory(&self) -> &dyn AdapterFactory {
        &self.store.factory
    }
    fn partner(&self) -> PartnerName {
        PartnerName::from("conformance-magento")
    }
    fn config(&self) -> Value {
        self.store.config(oauth("HMAC-SHA256"))
    }
    fn config_with_bad_credentials(&self) -> Option<Value> {
        let mut auth = oauth("HMAC-SHA256");
        auth["consumer_secret_ref"] = json!("secret:wrong");
        Some(self.store.config(auth))
    }
    fn secrets(&self) -> &dyn SecretResolver {
        &self.store.secrets
    }
    fn secret_values(&self) -> Vec<String> {
        self.store.secret_values()
    }
    fn valid_document(&self, n: usize) -> OutboundDocument {
        common::product(&format!("SKU-{n}"), &format!("item {n}"))
    }
    fn invalid_document(&self) -> Option<OutboundDocument> {
        Some(common::doc(
            "catalog",
            json!({"product": {"sku": "SKU-3", "price": "not a number"}}),
        ))
    }
    fn times_applied(&self, key: &str) -> usize {
        self.store.fake.times_applied(key)
    }
    fn fail_next_transiently(&self) {
        self.store.fake.fail_next(1, 503);
    }
    fn fail_permanently(&self) {
        // The throttle stays on until fixed (an edge limit), so end it first.
        self.store.fake.fix();
        self.store.fake.always_fail(400);
    }
    fn throttle(&self, retry_after_secs: u64) {
        self.store.fake.throttle(retry_after_secs);
    }
    fn make_unavailable(&self) {
        self.store.fake.always_fail(503);
    }
    fn restore(&self) {
        self.store.fake.fix();
    }
    // Magento declares no pull yet (orders come later): the suite checks the refusal only.
    async fn seed_records(&self, _n: usize) -> PullSetup {
        PullSetup {
            entity: "products".into(),
            params: json!({}),
            page_size: 1,
        }
    }
    fn record_id(&self, record: &Value) -> String {
        record["sku"].to_string()
    }
    fn cursor_past_end(&self, total: usize) -> String {
        (total + 10).to_string()
    }
    // Magento Open Source sends no webhooks: the suite checks every delivery is refused.
    fn sign_webhook(
        &self,
        _event_id: &str,
        _body: &[u8],
        _sent_at: SystemTime,
    ) -> Vec<(String, String)> {
        Vec::new()
    }
    fn webhook_body(&self, n: usize) -> Vec<u8> {
        format!("{{\"sku\":\"SKU-{n}\"}}").into_bytes()
    }
    fn webhook_tolerance(&self) -> Option<Duration> {
        None
    }
}

async fn setup() -> MagentoHarness {
    MagentoHarness::start().await
}

switchyard_runtime::adapter_conformance_suite!(setup);

#[tokio::test]
async fn run_all_passes_in_sequence_on_one_fake() {
    let h = setup().await;
    switchyard_runtime::testkit::conformance::run_all(&h).await;
    assert!(h.store.fake.writes().len() >= 2);
}
