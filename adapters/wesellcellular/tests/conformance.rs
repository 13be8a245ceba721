//! The runtime's adapter conformance suite, run for the WesellCellular adapter against its fake
//! tenant: orders pushed (idempotent on the buyer reference, error classes, auth), the stock
//! list pulled page by page, no webhooks.

mod common;

use async_trait::async_trait;
use common::Tenant;
use serde_json::{json, Value};
use std::time::{Duration, SystemTime};
use switchyard_core::adapter::{AdapterFactory, OutboundDocument, Payload, SecretResolver};
use switchyard_core::ids::PartnerName;
use switchyard_runtime::testkit::conformance::{ConformanceHarness, PullSetup};
use switchyard_wesellcellular::wire::Quantity;

pub struct WesellHarness {
    tenant: Tenant,
}

#[async_trait]
impl ConformanceHarness for WesellHarness {
    fn factory(&self) -> &dyn AdapterFactory {
        &self.tenant.factory
    }
    fn partner(&self) -> PartnerName {
        PartnerName::from("conformance-wesell")
    }
    fn config(&self) -> Value {
        self.tenant.config()
    }
    fn config_with_bad_credentials(&self) -> Option<Value> {
        let mut c = self.tenant.config();
        c["client_secret_ref"] = json!("secret:wrong");
        Some(c)
    }
    fn secrets(&self) -> &dyn SecretResolver {
        &self.tenant.secrets
    }
    fn secret_values(&self) -> Vec<String> {
        self.tenant.secret_values()
    }
    fn valid_document(&self, n: usize) -> OutboundDocument {
        common::sales_order(&format!("SO-{n}"))
    }
    fn invalid_document(&self) -> Option<OutboundDocument> {
        Some(OutboundDocument {
            document: "order".into(),
            payload: Payload::Json {
                body: json!({"buyerReference": "SO-BAD", "items": [{"sku": "X", "quantity": 0}]}),
            },
        })
    }
    fn times_applied(&self, key: &str) -> usize {
        self.tenant.fake.times_applied(key)
    }
    fn fail_next_transiently(&self) {
        self.tenant.fake.fail_next(1, 503);
    }
    fn fail_permanently(&self) {
        self.tenant.fake.fix();
        self.tenant.fake.always_fail(400);
    }
    fn throttle(&self, retry_after_secs: u64) {
        self.tenant.fake.throttle(retry_after_secs);
    }
    fn make_unavailable(&self) {
        self.tenant.fake.always_fail(503);
    }
    fn restore(&self) {
        self.tenant.fake.fix();
    }
    async fn seed_records(&self, n: usize) -> PullSetup {
        self.tenant.fake.seed_stock(
            (0..n)
                .map(|i| {
                    common::stock_item(
                        &format!("MODEL{i}"),
                        "A",
                        "W1",
                        Quantity::Exact(i as u64 + 1),
                        "100",
                    )
                })
                .collect(),
        );
        PullSetup {
            entity: "inventory".into(),
            params: json!({"pageSize": 3}),
            page_size: 3,
        }
    }
    fn record_id(&self, record: &Value) -> String {
        record["model"].to_string()
    }
    fn cursor_past_end(&self, total: usize) -> String {
        (total + 10).to_string()
    }
    // The tenant sends no webhooks: the suite checks every delivery is refused.
    fn sign_webhook(
        &self,
        _event_id: &str,
        _body: &[u8],
        _sent_at: SystemTime,
    ) -> Vec<(String, String)> {
        Vec::new()
    }
    fn webhook_body(&self, n: usize) -> Vec<u8> {
        format!("{{\"orderNumber\":\"PXSTKL{n:07}\"}}").into_bytes()
    }
    fn webhook_tolerance(&self) -> Option<Duration> {
        None
    }
}

async fn setup() -> WesellHarness {
    WesellHarness {
        tenant: Tenant::start().await,
    }
}

switchyard_runtime::adapter_conformance_suite!(setup);

#[tokio::test]
async fn run_all_passes_in_sequence_on_one_fake() {
    let h = setup().await;
    switchyard_runtime::testkit::conformance::run_all(&h).await;
    assert!(h.tenant.fake.orders_placed() >= 2);
}
