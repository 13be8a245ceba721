//! Every Optima route keeps organizations apart: an API key of one organization can never
//! test, record on, push, list, pull or report on another organization's connection, nor see
//! its invoices or VAT files (404), over HTTP in the real API router with a fresh database.

mod common;

use reqwest::Method;
use serde_json::{json, Value};
use sqlx::PgPool;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use switchyard_api::testkit::{code, json, StubAdmission, TestApp};
use switchyard_core::ids::PartnerName;
use switchyard_edi_van::partners::MailboxSpec;
use switchyard_optima::config::{OptimaPartner, Surface};
use switchyard_optima::jpk::Taxpayer;
use switchyard_optima::routes::{router, Connections, SCOPES};
use switchyard_optima::OptimaAdapter;

fn connection(org: &str, folder: &Path) -> Arc<OptimaAdapter> {
    let partner = OptimaPartner {
        enabled: true,
        surface: Surface::XmlExchange(MailboxSpec::Local(folder.to_path_buf())),
        company_code: "STALHURT".into(),
        register: "SPRZEDAŻ".into(),
        test_mode: false,
        auto_sync: false,
        result_timeout: Duration::from_secs(5),
        taxpayer: Some(Taxpayer {
            nip: "5260250274".into(),
            name: "Stal-Hurt Sp. z o.o.".into(),
            email: "ksiegowosc@stalhurt.example".into(),
            tax_office_code: "1471".into(),
        }),
    };
    Arc::new(
        OptimaAdapter::new(PartnerName::from(org), partner, reqwest::Client::new()).owned_by(org),
    )
}

fn invoice(number: &str) -> Value {
    common::canonical_invoice(number)
}

#[sqlx::test(migrator = "switchyard_store::MIGRATOR")]
async fn one_organization_never_reaches_anothers_connection(pool: PgPool) {
    common::migrate(&pool).await;
    let folder = tempfile::tempdir().unwrap();
    let connections: Connections = [
        ("ours".to_owned(), connection("acme", folder.path())),
        ("theirs".to_owned(), connection("bravo", folder.path())),
    ]
    .into_iter()
    .collect();
    let app = TestApp::builder(pool)
        .admission(StubAdmission::with_kinds(&[
            "optima.invoice.push",
            "optima.vat_report",
            "optima.accounts.sync",
        ]))
        .routes(router(Arc::new(connections)), SCOPES)
        .spawn()
        .await;
    let scopes = ["write:optima", "read:optima"];
    let a = app.key("acme", &scopes).await;
    let b = app.key("bravo", &scopes).await;

    // Bravo records an invoice and requests a VAT file on its own connection.
    let (s, body) = json(
        app.post(
            "/api/v1/integrations/comarch/invoices",
            &b,
            json!({"partner": "theirs", "invoices": [invoice("FV/B/1")]}),
        )
        .await,
    )
    .await;
    assert_eq!(s, 200, "{body}");
    let theirs_invoice = body["items"][0]["id"].as_str().unwrap().to_owned();
    let (s, body) = json(
        app.post(
            "/api/v1/integrations/comarch/vat-reports",
            &b,
            json!({"partner": "theirs", "month": "2025-11"}),
        )
        .await,
    )
    .await;
    assert_eq!(s, 202, "{body}");
    let theirs_report = body["id"].as_str().unwrap().to_owned();
    let jobs_before = app.count("SELECT count(*) FROM jobs").await;

    // Acme, on Bravo's connection: 404 everywhere, nothing recorded, nothing queued.
    for (path, body) in [
        (
            "/api/v1/integrations/comarch/test",
            json!({"partner": "theirs"}),
        ),
        (
            "/api/v1/integrations/comarch/invoices",
            json!({"partner": "theirs", "invoices": [invoice("FV/A/1")]}),
        ),
        (
            "/api/v1/integrations/comarch/sync-accounts",
            json!({"partner": "theirs"}),
        ),
        (
            "/api/v1/integrations/comarch/vat-reports",
            json!({"partner": "theirs", "month": "2025-11"}),
        ),
    ] {
        let (s, resp) = json(app.post(path, &a, body).await).await;
        assert_eq!((s, code(&resp)), (404, "not_found"), "{path}: {resp}");
    }
    for path in [
        "/api/v1/integrations/comarch/invoices?partner=theirs".to_owned(),
        "/api/v1/integrations/comarch/accounts?partner=theirs".to_owned(),
        format!("/api/v1/integrations/comarch/invoices/{theirs_invoice}"),
        format!("/api/v1/integrations/comarch/vat-reports/{theirs_report}"),
        format!("/api/v1/integrations/comarch/vat-reports/{theirs_report}/file"),
    ] {
        let (s, resp) = json(app.get(&path, &a).await).await;
        assert_eq!(s, 404, "{path}: {resp}");
    }
    // Pushing Bravo's invoice by its id: not found for Acme.
    let (s, body) = json(
        app.post(
            "/api/v1/integrations/comarch/push-invoice",
            &a,
            json!({"ids": [theirs_invoice]}),
        )
        .await,
    )
    .await;
    assert_eq!(s, 202, "{body}");
    assert_eq!(body["items"][0]["outcome"], "not_found");
    // Acme's own list holds nothing of Bravo's.
    let (s, body) = json(app.get("/api/v1/integrations/comarch/invoices", &a).await).await;
    assert_eq!((s, &body["items"]), (200, &json!([])), "{body}");
    assert_eq!(
        app.count("SELECT count(*) FROM optima_invoices").await,
        1,
        "nothing recorded on Bravo's connection for Acme"
    );
    assert_eq!(app.count("SELECT count(*) FROM jobs").await, jobs_before);

    // An unknown name lists only the caller's own connections.
    let (s, body) = json(
        app.post(
            "/api/v1/integrations/comarch/test",
            &a,
            json!({"partner": "nope"}),
        )
        .await,
    )
    .await;
    assert_eq!((s, code(&body)), (422, "unknown_partner"));
    let message = body["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("ours") && !message.contains("theirs"),
        "{message}"
    );

    // Acme's own connection works, and Bravo still sees its own invoice.
    let (s, body) = json(
        app.post(
            "/api/v1/integrations/comarch/invoices",
            &a,
            json!({"partner": "ours", "invoices": [invoice("FV/A/1")]}),
        )
        .await,
    )
    .await;
    assert_eq!(s, 200, "{body}");
    let (s, _) = json(
        app.call(
            Method::GET,
            &format!("/api/v1/integrations/comarch/invoices/{theirs_invoice}"),
            Some(&b),
            None,
        )
        .await,
    )
    .await;
    assert_eq!(s, 200);
}

#[sqlx::test(migrator = "switchyard_store::MIGRATOR")]
async fn a_bad_jpk_key_is_refused_when_the_invoice_is_recorded(pool: PgPool) {
    common::migrate(&pool).await;
    let folder = tempfile::tempdir().unwrap();
    let connections: Connections = [("ours".to_owned(), connection("acme", folder.path()))]
        .into_iter()
        .collect();
    let app = TestApp::builder(pool)
        .routes(router(Arc::new(connections)), SCOPES)
        .spawn()
        .await;
    let a = app.key("acme", &["write:optima"]).await;
    let mut good = invoice("FV/A/1");
    good["ksef_status"] = "failure".into();
    good["gtu"] = json!(["GTU_12"]);
    good["lines"][0]["gtu"] = "GTU_06".into();
    good["procedures"] = json!(["TP"]);
    good["sale_date"] = "2026-11-18".into();
    let mut bad = invoice("FV/A/2");
    bad["lines"][1]["gtu"] = "GTU_14".into();
    for (invoices, want) in [
        (vec![good.clone(), bad], Some("invoices[1].lines[1].gtu")),
        (vec![good], None),
    ] {
        let (s, body) = json(
            app.post(
                "/api/v1/integrations/comarch/invoices",
                &a,
                json!({"partner": "ours", "invoices": invoices}),
            )
            .await,
        )
        .await;
        match want {
            Some(field) => {
                assert_eq!((s, code(&body)), (422, "validation_failed"), "{body}");
                assert_eq!(body["error"]["details"]["field"], field, "{body}");
                // All or nothing: the good one was not recorded either.
                assert_eq!(app.count("SELECT count(*) FROM optima_invoices").await, 0);
            }
            None => assert_eq!(s, 200, "{body}"),
        }
    }
}
