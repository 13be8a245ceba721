//! The runtime's adapter conformance suite, run for an EDI partner's adapter over a local
//! mailbox. The adapter declares `mailbox` and `health_check` only, so the suite checks that
//! every push, pull and webhook is refused — by the runtime's admission and by the adapter.

use async_trait::async_trait;
use serde_json::{json, Value};
use std::path::PathBuf;
use std::time::{Duration, SystemTime};
use switchyard_core::adapter::{AdapterFactory, OutboundDocument, SecretResolver};
use switchyard_core::ids::PartnerName;
use switchyard_edi_van::adapter::EdiAdapterFactory;
use switchyard_runtime::testkit::conformance::{catalog_document, ConformanceHarness, PullSetup};
use switchyard_runtime::testkit::doubles::MapSecrets;

pub struct MailboxHarness {
    dir: tempfile::TempDir,
    secrets: MapSecrets,
}

impl MailboxHarness {
    fn root(&self) -> PathBuf {
        self.dir.path().join("van/acme")
    }
}

#[async_trait]
impl ConformanceHarness for MailboxHarness {
    fn factory(&self) -> &dyn AdapterFactory {
        &EdiAdapterFactory
    }
    fn partner(&self) -> PartnerName {
        PartnerName::from("acme")
    }
    fn config(&self) -> Value {
        json!({
            "standard": "x12",
            "version": "004010",
            "us": {"qualifier": "ZZ", "id": "SWITCHYARD"},
            "them": {"qualifier": "12", "id": "5551234567"},
            "mailbox": {"path": self.root()},
        })
    }
    fn config_with_bad_credentials(&self) -> Option<Value> {
        // A local mailbox has no credentials (the SFTP ones are refused in tests/tests/edi_sftp.rs).
        None
    }
    fn secrets(&self) -> &dyn SecretResolver {
        &self.secrets
    }
    fn secret_values(&self) -> Vec<String> {
        Vec::new()
    }
    fn valid_document(&self, n: usize) -> OutboundDocument {
        catalog_document(n)
    }
    fn invalid_document(&self) -> Option<OutboundDocument> {
        None
    }
    fn times_applied(&self, _key: &str) -> usize {
        0
    }
    fn fail_next_transiently(&self) {
        self.make_unavailable();
    }
    fn fail_permanently(&self) {}
    fn throttle(&self, _retry_after_secs: u64) {}
    /// The mailbox root becomes a plain file: nothing can be listed or written under it.
    fn make_unavailable(&self) {
        let root = self.root();
        let aside = root.with_extension("aside");
        if root.is_dir() {
            std::fs::rename(&root, &aside).expect("move the mailbox aside");
        }
        if !root.exists() {
            std::fs::create_dir_all(root.parent().expect("parent")).expect("parent dir");
            std::fs::write(&root, b"not a directory").expect("block the mailbox");
        }
    }
    fn restore(&self) {
        let root = self.root();
        let aside = root.with_extension("aside");
        if root.is_file() {
            std::fs::remove_file(&root).expect("unblock the mailbox");
        }
        if aside.is_dir() {
            std::fs::rename(&aside, &root).expect("bring the mailbox back");
        }
    }
    async fn seed_records(&self, _n: usize) -> PullSetup {
        unreachable!("an EDI mailbox adapter declares no pull capability")
    }
    fn record_id(&self, record: &Value) -> String {
        record.to_string()
    }
    fn cursor_past_end(&self, total: usize) -> String {
        total.to_string()
    }
    fn sign_webhook(&self, _event: &str, _body: &[u8], _at: SystemTime) -> Vec<(String, String)> {
        Vec::new()
    }
    fn webhook_body(&self, _n: usize) -> Vec<u8> {
        b"{}".to_vec()
    }
    fn webhook_tolerance(&self) -> Option<Duration> {
        None
    }
}

async fn setup() -> MailboxHarness {
    MailboxHarness {
        dir: tempfile::tempdir().expect("tempdir"),
        secrets: MapSecrets::new(),
    }
}

switchyard_runtime::adapter_conformance_suite!(setup);

#[tokio::test]
async fn run_all_passes_in_sequence() {
    let h = setup().await;
    switchyard_runtime::testkit::conformance::run_all(&h).await;
    // Health created the mailbox's folders, as the first poll would.
    for folder in ["inbound", "outbound", "archive", "error", "processing"] {
        assert!(h.root().join(folder).is_dir(), "{folder}/");
    }
}
