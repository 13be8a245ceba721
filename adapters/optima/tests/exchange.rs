//! The xml-exchange surface end to end: the adapter writes into a real folder, the fake
//! Optima importer (a background task over the same folder) imports or refuses and writes a
//! result file, the adapter reads it back. Plus the importer's refusals one by one.

mod common;

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;
use switchyard_core::adapter::{Adapter, AdapterContext, OutboundDocument, Payload, PushReceipt};
use switchyard_core::error::{AdapterError, ErrorClass};
use switchyard_core::ids::PartnerName;
use switchyard_edi_van::partners::MailboxSpec;
use switchyard_optima::config::{OptimaPartner, Surface};
use switchyard_optima::fake::{FakeExchange, FakeOptima};
use switchyard_optima::offline::{self, ImportOutcome, Target};
use switchyard_optima::wire::Faktura;
use switchyard_optima::OptimaAdapter;
use switchyard_runtime::testkit::doubles::{context, RecordingSink};

struct Setup {
    adapter: OptimaAdapter,
    fake: FakeExchange,
    dir: tempfile::TempDir,
}

fn setup(result_timeout: Duration) -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let optima = FakeOptima::new("STALHURT");
    let fake = FakeExchange::start(optima, dir.path());
    let adapter = OptimaAdapter::new(
        PartnerName::from("ksiegowosc"),
        OptimaPartner {
            enabled: true,
            surface: Surface::XmlExchange(MailboxSpec::Local(dir.path().to_path_buf())),
            company_code: "STALHURT".into(),
            register: "SPRZEDAŻ".into(),
            test_mode: false,
            auto_sync: false,
            result_timeout,
            taxpayer: None,
        },
        reqwest::Client::new(),
    );
    Setup { adapter, fake, dir }
}

impl Setup {
    /// Push the test invoice numbered `number` with a valid NIP.
    async fn push(&self, ctx: &AdapterContext, number: &str) -> Result<PushReceipt, AdapterError> {
        self.adapter
            .push(ctx, &doc(common::faktura(number, common::GOOD_NIP)))
            .await
    }
}

fn doc(v: serde_json::Value) -> OutboundDocument {
    OutboundDocument {
        document: "invoice".into(),
        payload: Payload::Json { body: v },
    }
}

fn files(dir: &std::path::Path, folder: &str) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir.join(folder))
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

#[tokio::test]
async fn an_invoice_is_imported_and_optima_number_read_back() {
    let s = setup(Duration::from_secs(10));
    let sink = RecordingSink::new();
    let ctx = context("job-1", sink.clone());
    let receipt = s.push(&ctx, "FV/2026/11/0042").await.unwrap();
    assert_eq!(receipt.external_id.as_deref(), Some("FS/1/2026"));
    assert_eq!(
        s.fake.optima.optima_number("FV/2026/11/0042").as_deref(),
        Some("FS/1/2026")
    );
    // The document and its result end in archive/; nothing is left for either side.
    assert!(files(s.dir.path(), "outbound").is_empty());
    // The result was read and archived; what stays is Optima's export of the chart of
    // accounts, which is read in place.
    assert_eq!(
        files(s.dir.path(), "inbound"),
        [switchyard_optima::chart::EXPORT_FILE]
    );
    let archived = files(s.dir.path(), "archive");
    assert_eq!(archived.len(), 2, "{archived:?}");
    let document = archived
        .iter()
        .find(|n| !n.ends_with(".result.xml"))
        .unwrap();
    assert!(document.starts_with("FV_2026_11_0042-"));
    // What went over the wire is valid against the schema, in windows-1250.
    let bytes = std::fs::read(s.dir.path().join("archive").join(document)).unwrap();
    common::validate(&bytes).unwrap();
    let ex = sink.last().unwrap();
    assert_eq!(ex.event, "optima.invoice");
    assert!(ex.error.is_none());
    assert_eq!(
        ex.response_body.unwrap()["optima_number"],
        serde_json::json!("FS/1/2026")
    );

    // A redelivered job (same idempotency key) finds its result; nothing is imported twice.
    let again = s.push(&ctx, "FV/2026/11/0042").await.unwrap();
    assert_eq!(again.external_id.as_deref(), Some("FS/1/2026"));
    assert_eq!(s.fake.optima.document_count(), 1);
}

#[tokio::test]
async fn a_refusal_is_permanent_and_carries_optima_reason() {
    let s = setup(Duration::from_secs(10));
    let sink = RecordingSink::new();
    s.adapter
        .push(
            &context("job-1", sink.clone()),
            &doc(common::faktura("FV/1", common::GOOD_NIP)),
        )
        .await
        .unwrap();
    // The same number from another job: Optima refuses the duplicate.
    let e = s
        .adapter
        .push(
            &context("job-2", sink.clone()),
            &doc(common::faktura("FV/1", common::GOOD_NIP)),
        )
        .await
        .unwrap_err();
    assert_eq!(e.class, ErrorClass::Permanent);
    assert!(
        e.message.contains("NUMER: document `FV/1` already exists"),
        "{}",
        e.message
    );
    assert!(sink
        .last()
        .unwrap()
        .error
        .unwrap()
        .contains("already exists"));

    // A correction of an invoice Optima does not have.
    let mut kor = common::faktura("FSKOR/1", common::GOOD_NIP);
    kor["Korekta"] = true.into();
    kor["NumerKorygowanego"] = "FV/404".into();
    let e = s
        .adapter
        .push(&context("job-3", sink.clone()), &doc(kor.clone()))
        .await
        .unwrap_err();
    assert_eq!(e.class, ErrorClass::Permanent);
    assert!(e.message.contains("FV/404"), "{}", e.message);
    // A correction of one it has is imported as FSKOR.
    kor["NumerKorygowanego"] = "FV/1".into();
    let r = s
        .adapter
        .push(&context("job-4", sink), &doc(kor))
        .await
        .unwrap();
    assert_eq!(r.external_id.as_deref(), Some("FSKOR/2/2026"));
}

#[tokio::test]
async fn a_broken_polish_rule_is_refused_before_anything_is_written() {
    let s = setup(Duration::from_secs(10));
    let e = s
        .adapter
        .push(
            &context("job-1", RecordingSink::new()),
            &doc(common::faktura("FV/1", "7811234567")),
        )
        .await
        .unwrap_err();
    assert_eq!(e.class, ErrorClass::Permanent);
    assert!(e.message.contains("Kontrahent.NIP"), "{}", e.message);
    assert!(files(s.dir.path(), "outbound").is_empty());
    assert!(files(s.dir.path(), "archive").is_empty());
}

#[tokio::test]
async fn no_result_is_a_retryable_failure_never_a_sync() {
    let s = setup(Duration::from_secs(1));
    s.fake
        .optima
        .faults
        .lose_results
        .store(true, Ordering::SeqCst);
    let ctx = context("job-1", RecordingSink::new());
    let e = s.push(&ctx, "FV/1").await.unwrap_err();
    assert!(e.class.is_retryable(), "{e:?}");
    assert!(e.message.contains("not counted as synced"), "{}", e.message);
    // Once results flow again, the retry does not write the document a second time (Optima
    // took it already): it keeps waiting for the result of the first.
    s.fake
        .optima
        .faults
        .lose_results
        .store(false, Ordering::SeqCst);
    let e = s.push(&ctx, "FV/1").await.unwrap_err();
    assert!(e.class.is_retryable());
    assert_eq!(s.fake.optima.document_count(), 1);
}

#[tokio::test]
async fn an_outage_is_transient_and_the_retry_imports_once() {
    let s = setup(Duration::from_secs(1));
    s.fake.optima.faults.outage.store(true, Ordering::SeqCst);
    let ctx = context("job-1", RecordingSink::new());
    let e = s.push(&ctx, "FV/1").await.unwrap_err();
    assert!(e.class.is_retryable());
    assert_eq!(
        files(s.dir.path(), "outbound").len(),
        1,
        "the document waits"
    );
    s.fake.optima.faults.outage.store(false, Ordering::SeqCst);
    let r = s.push(&ctx, "FV/1").await.unwrap();
    assert_eq!(r.external_id.as_deref(), Some("FS/1/2026"));
    assert_eq!(s.fake.optima.document_count(), 1);
}

#[tokio::test]
async fn a_slow_import_is_waited_for() {
    let s = setup(Duration::from_secs(10));
    s.fake.optima.faults.slow_ms.store(700, Ordering::SeqCst);
    let r = s
        .adapter
        .push(
            &context("job-1", RecordingSink::new()),
            &doc(common::faktura("FV/1", common::GOOD_NIP)),
        )
        .await
        .unwrap();
    assert_eq!(r.external_id.as_deref(), Some("FS/1/2026"));
}

#[tokio::test]
async fn health_writes_and_reads_a_probe() {
    let s = setup(Duration::from_secs(1));
    s.adapter
        .health(&context("h", RecordingSink::new()))
        .await
        .unwrap();
    assert!(files(s.dir.path(), "archive")
        .iter()
        .any(|n| n.starts_with("probe-")));
    // A folder that cannot exist (its parent is a file) fails in words.
    let file = s.dir.path().join("plain-file");
    std::fs::write(&file, b"x").unwrap();
    let bad = OptimaAdapter::new(
        PartnerName::from("bad"),
        OptimaPartner {
            surface: Surface::XmlExchange(MailboxSpec::Local(file.join("exchange"))),
            ..s.adapter.partner().clone()
        },
        reqwest::Client::new(),
    );
    let e = bad
        .health(&context("h", RecordingSink::new()))
        .await
        .unwrap_err();
    assert!(e.message.contains("plain-file"), "{}", e.message);
}

/// The importer's refusals, one per rule, on files tampered from a valid one.
#[test]
fn the_fake_importer_refuses_what_optima_refuses() {
    let target = Target {
        company_code: "STALHURT",
        register: "SPRZEDAŻ",
    };
    let inv = Faktura::from_json(&common::faktura("FV/1", common::GOOD_NIP))
        .unwrap()
        .check()
        .unwrap();
    let good = offline::write_invoice(&inv, &target, offline::source_id("k"));
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        (
            "utf-8",
            good.replace("windows-1250", "UTF-8").into_bytes(),
            "encoding `UTF-8`",
        ),
        (
            "namespace",
            offline::to_bytes(&good.replace("cdn/optima/offline", "cdn/xl/offline")),
            "the root must be ROOT in http://www.comarch.pl/cdn/optima/offline",
        ),
        (
            "version",
            offline::to_bytes(&good.replacen("<WERSJA>2.00</WERSJA>", "", 1)),
            "KONTRAHENCI/WERSJA is missing",
        ),
        (
            "company",
            offline::to_bytes(&good.replace("STALHURT", "INNA")),
            "BAZA_DOC_ID `INNA` is not this company",
        ),
        (
            "nip",
            offline::to_bytes(&good.replace("5260250274", "5260250275")),
            "checksum",
        ),
        (
            "rate",
            offline::to_bytes(&good.replacen(
                "<STAWKA_VAT>8.00</STAWKA_VAT>",
                "<STAWKA_VAT>7.00</STAWKA_VAT>",
                1,
            )),
            "VAT rate",
        ),
        (
            "unbalanced",
            offline::to_bytes(&good.replace(
                "<KWOTA_PLAT>4730.57</KWOTA_PLAT>",
                "<KWOTA_PLAT>4730.58</KWOTA_PLAT>",
            )),
            "not the gross 4730.58",
        ),
        (
            "vat",
            offline::to_bytes(&good.replacen("<VAT>862.49</VAT>", "<VAT>862.50</VAT>", 1)),
            "VAT for 23 on net 3749.97 is 862.49",
        ),
        (
            "contractor",
            offline::to_bytes(
                &good.replace("<PODMIOT>C-2001</PODMIOT>", "<PODMIOT>NIEZNANY</PODMIOT>"),
            ),
            "unknown contractor code `NIEZNANY`",
        ),
    ];
    for (what, bytes, reason) in cases {
        let optima = FakeOptima::new("STALHURT");
        match optima.import_bytes("f.xml", &bytes).outcome {
            ImportOutcome::Rejected { reason: got } => {
                assert!(got.contains(reason), "{what}: {got}")
            }
            ImportOutcome::Imported { .. } => panic!("{what}: imported"),
        }
        assert_eq!(optima.document_count(), 0, "{what}");
    }
    // Bytes windows-1250 leaves undefined.
    let optima = FakeOptima::new("STALHURT");
    let mut bad = offline::to_bytes(&good);
    let at = bad.iter().position(|b| *b == 0xA3).unwrap();
    bad[at] = 0x98;
    assert!(matches!(
        optima.import_bytes("f.xml", &bad).outcome,
        ImportOutcome::Rejected { ref reason } if reason.contains("0x98")
    ));
    // The valid file imports; the same number again is a duplicate; the contractor is known
    // from then on, so a file without the KONTRAHENCI section imports.
    let optima: Arc<FakeOptima> = FakeOptima::new("STALHURT");
    let ok = optima.import_bytes("f.xml", &offline::to_bytes(&good));
    assert!(
        matches!(ok.outcome, ImportOutcome::Imported { .. }),
        "{ok:?}"
    );
    // The same source document again is recognised by its ID_ZRODLA and skipped…
    let again = optima.import_bytes("f2.xml", &offline::to_bytes(&good));
    assert_eq!(again.outcome, ok.outcome);
    assert_eq!(optima.document_count(), 1);
    // …another one with the same number is a duplicate.
    let other = offline::write_invoice(&inv, &target, offline::source_id("k2"));
    let dup = optima.import_bytes("g.xml", &offline::to_bytes(&other));
    assert!(
        matches!(dup.outcome, ImportOutcome::Rejected { ref reason } if reason.contains("already exists"))
    );
    let start = good.find("<KONTRAHENCI>").unwrap();
    let end = good.find("</KONTRAHENCI>").unwrap() + "</KONTRAHENCI>".len();
    let without = format!("{}{}", &good[..start], &good[end..]).replace("FV/1", "FV/2");
    let second = optima.import_bytes("h.xml", &offline::to_bytes(&without));
    assert!(
        matches!(second.outcome, ImportOutcome::Imported { .. }),
        "{second:?}"
    );
}
