//! The runtime's adapter conformance suite, run for the Optima adapter's rest surface against
//! the fake REST layer (the xml-exchange surface has its own tests in exchange.rs: its
//! failures are files that do not appear, not HTTP statuses).

mod common;

use async_trait::async_trait;
use serde_json::{json, Value};
use std::sync::atomic::Ordering;
use std::time::{Duration, SystemTime};
use switchyard_core::adapter::{AdapterFactory, OutboundDocument, Payload, SecretResolver};
use switchyard_core::ids::PartnerName;
use switchyard_optima::fake::{FakeOptima, FakeRest};
use switchyard_optima::OptimaIntegration;
use switchyard_runtime::testkit::conformance::{ConformanceHarness, PullSetup};
use switchyard_runtime::testkit::doubles::MapSecrets;

const KEY: &str = "conformance-key-5d1e";
const SECRET: &str = "conformance-secret-8a2f";

pub struct OptimaHarness {
    fake: FakeRest,
    factory: OptimaIntegration,
    secrets: MapSecrets,
}

async fn setup() -> OptimaHarness {
    OptimaHarness {
        fake: FakeRest::start(FakeOptima::new("STALHURT"), KEY, SECRET).await,
        factory: OptimaIntegration::new().unwrap(),
        secrets: MapSecrets::new()
            .with("secret:key", KEY)
            .with("secret:secret", SECRET)
            .with("secret:bad", "not-the-secret"),
    }
}

impl OptimaHarness {
    fn config_with(&self, secret_ref: &str) -> Value {
        json!({
            "surface": "rest",
            "company_code": "STALHURT",
            "api_url": self.fake.url(),
            "api_key": "secret:key",
            "api_secret": secret_ref,
            "result_timeout_secs": 5,
        })
    }
}

#[async_trait]
impl ConformanceHarness for OptimaHarness {
    fn factory(&self) -> &dyn AdapterFactory {
        &self.factory
    }
    fn partner(&self) -> PartnerName {
        PartnerName::from("ksiegowosc")
    }
    fn config(&self) -> Value {
        self.config_with("secret:secret")
    }
    fn config_with_bad_credentials(&self) -> Option<Value> {
        Some(self.config_with("secret:bad"))
    }
    fn secrets(&self) -> &dyn SecretResolver {
        &self.secrets
    }
    fn secret_values(&self) -> Vec<String> {
        vec![KEY.into(), SECRET.into()]
    }
    fn valid_document(&self, n: usize) -> OutboundDocument {
        OutboundDocument {
            document: "invoice".into(),
            payload: Payload::Json {
                body: common::faktura(&format!("FV/{n}/{}", uuid_ish()), common::GOOD_NIP),
            },
        }
    }
    fn invalid_document(&self) -> Option<OutboundDocument> {
        Some(OutboundDocument {
            document: "invoice".into(),
            payload: Payload::Json {
                body: common::faktura("FV/bad", "7811234567"),
            },
        })
    }
    fn times_applied(&self, key: &str) -> usize {
        self.fake.optima.times_applied(key)
    }
    fn fail_next_transiently(&self) {
        self.fake
            .optima
            .faults
            .fail_next
            .store(true, Ordering::SeqCst);
    }
    fn fail_permanently(&self) {
        let f = &self.fake.optima.faults;
        // Replaces a throttle the suite set before (it does not restore in between).
        f.throttle_secs.store(0, Ordering::SeqCst);
        f.reject_all.store(true, Ordering::SeqCst);
    }
    fn throttle(&self, retry_after_secs: u64) {
        self.fake
            .optima
            .faults
            .throttle_secs
            .store(retry_after_secs, Ordering::SeqCst);
    }
    fn make_unavailable(&self) {
        self.fake.optima.faults.outage.store(true, Ordering::SeqCst);
    }
    fn restore(&self) {
        let f = &self.fake.optima.faults;
        f.outage.store(false, Ordering::SeqCst);
        f.fail_next.store(false, Ordering::SeqCst);
        f.throttle_secs.store(0, Ordering::SeqCst);
        f.reject_all.store(false, Ordering::SeqCst);
    }

    // Optima pulls nothing and sends no webhooks; the suite only checks the adapter refuses.
    async fn seed_records(&self, _n: usize) -> PullSetup {
        PullSetup {
            entity: "invoices".into(),
            params: Value::Null,
            page_size: 1,
        }
    }
    fn record_id(&self, record: &Value) -> String {
        record.to_string()
    }
    fn cursor_past_end(&self, total: usize) -> String {
        total.to_string()
    }
    fn sign_webhook(&self, _: &str, _: &[u8], _: SystemTime) -> Vec<(String, String)> {
        Vec::new()
    }
    fn webhook_body(&self, _n: usize) -> Vec<u8> {
        Vec::new()
    }
    fn webhook_tolerance(&self) -> Option<Duration> {
        None
    }
}

/// Document numbers unique across the suite's checks (each starts its own fake, but the
/// numbers also tell the checks' documents apart in logs).
fn uuid_ish() -> String {
    format!(
        "{:x}",
        SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    )
}

switchyard_runtime::adapter_conformance_suite!(setup);
