//! The rest surface end to end against the fake REST layer over loopback HTTP: key + secret
//! auth, the PRD's JSON, idempotent redelivery, refusals with reasons, outages.

mod common;

use std::sync::atomic::Ordering;
use std::time::Duration;
use switchyard_core::adapter::{Adapter, OutboundDocument, Payload};
use switchyard_core::error::ErrorClass;
use switchyard_core::ids::PartnerName;
use switchyard_optima::config::{OptimaPartner, RestSpec, Surface};
use switchyard_optima::fake::{FakeOptima, FakeRest};
use switchyard_optima::OptimaAdapter;
use switchyard_runtime::testkit::doubles::{context, RecordingSink};

async fn setup() -> FakeRest {
    FakeRest::start(FakeOptima::new("STALHURT"), "klucz-1", "sekret-1").await
}

fn adapter(fake: &FakeRest, key: &str, secret: &str) -> OptimaAdapter {
    OptimaAdapter::new(
        PartnerName::from("ksiegowosc"),
        OptimaPartner {
            enabled: true,
            surface: Surface::Rest(RestSpec {
                api_url: fake.url(),
                api_key: key.into(),
                api_secret: secret.into(),
            }),
            company_code: "STALHURT".into(),
            register: "SPRZEDAŻ".into(),
            test_mode: false,
            auto_sync: false,
            result_timeout: Duration::from_secs(5),
            taxpayer: None,
        },
        reqwest::Client::new(),
    )
}

fn doc(v: serde_json::Value) -> OutboundDocument {
    OutboundDocument {
        document: "invoice".into(),
        payload: Payload::Json { body: v },
    }
}

#[tokio::test]
async fn ping_checks_the_credentials() {
    let fake = setup().await;
    let ctx = context("h", RecordingSink::new());
    adapter(&fake, "klucz-1", "sekret-1")
        .health(&ctx)
        .await
        .unwrap();
    let e = adapter(&fake, "klucz-1", "zly")
        .health(&ctx)
        .await
        .unwrap_err();
    assert_eq!(e.class, ErrorClass::Auth);
    assert!(
        e.message.contains("refused the API key or secret"),
        "{}",
        e.message
    );
    fake.optima.faults.outage.store(true, Ordering::SeqCst);
    let e = adapter(&fake, "klucz-1", "sekret-1")
        .health(&ctx)
        .await
        .unwrap_err();
    assert!(e.class.is_retryable(), "{e:?}");
}

#[tokio::test]
async fn an_invoice_is_posted_once_per_idempotency_key() {
    let fake = setup().await;
    let a = adapter(&fake, "klucz-1", "sekret-1");
    let sink = RecordingSink::new();
    let ctx = context("job-1", sink.clone());
    let r = a
        .push(&ctx, &doc(common::faktura("FV/1", common::GOOD_NIP)))
        .await
        .unwrap();
    assert_eq!(r.status, 201);
    assert_eq!(r.external_id.as_deref(), Some("FS/1/2026"));
    // The body carried the totals computed Optima's way.
    let sent = sink.last().unwrap().request_body.unwrap();
    assert_eq!(sent["WartoscBrutto"].to_string(), "4730.57");
    assert_eq!(sent["Kontrahent"]["NIP"], "5260250274");
    let again = a
        .push(&ctx, &doc(common::faktura("FV/1", common::GOOD_NIP)))
        .await
        .unwrap();
    assert!(again.duplicate);
    assert_eq!(again.external_id.as_deref(), Some("FS/1/2026"));
    assert_eq!(fake.optima.document_count(), 1);
    let e = a
        .push(
            &context("job-2", sink),
            &doc(common::faktura("FV/1", common::GOOD_NIP)),
        )
        .await
        .unwrap_err();
    assert_eq!(e.class, ErrorClass::Permanent);
    assert!(e.message.contains("already exists"), "{}", e.message);
}

#[tokio::test]
async fn wrong_credentials_and_outages_are_classified() {
    let fake = setup().await;
    let ctx = context("job-1", RecordingSink::new());
    let e = adapter(&fake, "zly", "sekret-1")
        .push(&ctx, &doc(common::faktura("FV/1", common::GOOD_NIP)))
        .await
        .unwrap_err();
    assert_eq!(e.class, ErrorClass::Auth);
    fake.optima.faults.outage.store(true, Ordering::SeqCst);
    let a = adapter(&fake, "klucz-1", "sekret-1");
    let e = a
        .push(&ctx, &doc(common::faktura("FV/1", common::GOOD_NIP)))
        .await
        .unwrap_err();
    assert!(e.class.is_retryable(), "{e:?}");
    fake.optima.faults.outage.store(false, Ordering::SeqCst);
    a.push(&ctx, &doc(common::faktura("FV/1", common::GOOD_NIP)))
        .await
        .unwrap();
    assert_eq!(fake.optima.document_count(), 1);
}

#[tokio::test]
async fn the_fake_refuses_what_the_rest_layer_refuses() {
    let fake = setup().await;
    let http = reqwest::Client::new();
    let post = |body: serde_json::Value, key: &'static str| {
        http.post(format!("{}/api/faktury", fake.url()))
            .header("x-api-key", key)
            .header("x-api-secret", "sekret-1")
            .json(&body)
            .send()
    };
    let mut good = common::faktura("FV/9", common::GOOD_NIP);
    good["WartoscBrutto"] = serde_json::json!(4730.57);
    let r = post(good.clone(), "zly").await.unwrap();
    assert_eq!(r.status(), 401);
    let mut unknown = good.clone();
    unknown["Rabat"] = 5.into();
    let r = post(unknown, "klucz-1").await.unwrap();
    assert_eq!(r.status(), 400);
    assert!(r.text().await.unwrap().contains("Rabat"));
    let mut bad_nip = good.clone();
    bad_nip["Kontrahent"]["NIP"] = "7811234567".into();
    let r = post(bad_nip, "klucz-1").await.unwrap();
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains("Kontrahent.NIP"));
    let mut unbalanced = good.clone();
    unbalanced["WartoscBrutto"] = serde_json::json!(4730.56);
    let r = post(unbalanced, "klucz-1").await.unwrap();
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains("WartoscBrutto"));
    let r = post(good, "klucz-1").await.unwrap();
    assert_eq!(r.status(), 201);
    let accounts: serde_json::Value = http
        .get(format!("{}/api/plan-kont", fake.url()))
        .header("x-api-key", "klucz-1")
        .header("x-api-secret", "sekret-1")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(accounts[0]["Numer"], "201");
}
