//! The runtime's adapter conformance suite, run for the PhoneX adapter against its fake.

mod common;

use async_trait::async_trait;
use common::{order, order_body, stock, Px};
use serde_json::{json, Value};
use std::time::{Duration, SystemTime};
use switchyard_core::adapter::{AdapterFactory, OutboundDocument, SecretResolver};
use switchyard_core::ids::PartnerName;
use switchyard_phonex::webhook::signed_headers;
use switchyard_runtime::testkit::conformance::{ConformanceHarness, PullSetup};

pub struct PhonexHarness {
    px: Px,
}

#[async_trait]
impl ConformanceHarness for PhonexHarness {
    fn factory(&self) -> &dyn AdapterFactory {
        &self.px.factory
    }
    fn partner(&self) -> PartnerName {
        PartnerName::from("conformance-phonex")
    }
    fn config(&self) -> Value {
        self.px.config()
    }
    fn config_with_bad_credentials(&self) -> Option<Value> {
        Some(
            self.px
                .fake
                .partner_config("secret:wrong", common::WEBHOOK_REF),
        )
    }
    fn secrets(&self) -> &dyn SecretResolver {
        &self.px.secrets
    }
    fn secret_values(&self) -> Vec<String> {
        self.px.secret_values()
    }
    fn valid_document(&self, n: usize) -> OutboundDocument {
        // A fresh order number each time: PhoneX refuses a second order with the same number
        // under another key (409), and the suite pushes document n under several keys.
        order(order_body(&format!(
            "SO-{n}-{}",
            uuid::Uuid::now_v7().simple()
        )))
    }
    fn invalid_document(&self) -> Option<OutboundDocument> {
        let mut body = order_body("SO-INVALID");
        body["items"][0]["quantity"] = json!(0);
        Some(order(body))
    }
    fn times_applied(&self, key: &str) -> usize {
        self.px.fake.times_applied(key)
    }
    fn fail_next_transiently(&self) {
        self.px.fake.fail_next(1, 503);
    }
    fn fail_permanently(&self) {
        self.px.fake.fix();
        self.px.fake.always_fail(400);
    }
    fn throttle(&self, retry_after_secs: u64) {
        self.px.fake.throttle(retry_after_secs);
    }
    fn make_unavailable(&self) {
        self.px.fake.always_fail(503);
    }
    fn restore(&self) {
        self.px.fake.fix();
    }
    async fn seed_records(&self, n: usize) -> PullSetup {
        self.px.fake.set_stock(stock(n));
        PullSetup {
            entity: "inventory".into(),
            params: json!({"per_page": 5}),
            page_size: 5,
        }
    }
    fn record_id(&self, record: &Value) -> String {
        record["sku"].to_string()
    }
    fn cursor_past_end(&self, total: usize) -> String {
        (total + 10).to_string()
    }
    fn sign_webhook(
        &self,
        event_id: &str,
        body: &[u8],
        sent_at: SystemTime,
    ) -> Vec<(String, String)> {
        let c = self.px.fake.config();
        let at = sent_at
            .duration_since(SystemTime::UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or_default();
        signed_headers(&c.webhook_secret, c.encoding, event_id, at, body)
    }
    fn webhook_body(&self, n: usize) -> Vec<u8> {
        common::status_body(&format!("ORD{n}"), "shipped", "2026-11-30T18:06:39Z")
            .to_string()
            .into_bytes()
    }
    fn webhook_tolerance(&self) -> Option<Duration> {
        Some(Duration::from_secs(300))
    }
}

async fn setup() -> PhonexHarness {
    PhonexHarness {
        px: Px::start().await,
    }
}

switchyard_runtime::adapter_conformance_suite!(setup);

#[tokio::test]
async fn run_all_passes_in_sequence_on_one_fake() {
    let h = setup().await;
    switchyard_runtime::testkit::conformance::run_all(&h).await;
    assert!(h.px.fake.orders_placed() >= 2);
}
