//! `POST /api/v1/integrations/comarch/test` over HTTP in the real API router (the hub's test
//! kit, a fresh database): it runs the connection's check now and says what failed in words.

use serde_json::json;
use sqlx::PgPool;
use std::sync::Arc;
use std::time::Duration;
use switchyard_api::testkit::{code, json, TestApp};
use switchyard_core::ids::PartnerName;
use switchyard_edi_van::partners::MailboxSpec;
use switchyard_optima::config::{OptimaPartner, RestSpec, Surface};
use switchyard_optima::fake::{FakeOptima, FakeRest};
use switchyard_optima::routes::{router, Connections, SCOPES};
use switchyard_optima::OptimaAdapter;

fn connection(name: &str, surface: Surface) -> (String, Arc<OptimaAdapter>) {
    let partner = OptimaPartner {
        enabled: true,
        surface,
        company_code: "STALHURT".into(),
        register: "SPRZEDAŻ".into(),
        test_mode: false,
        auto_sync: false,
        result_timeout: Duration::from_secs(5),
        taxpayer: None,
    };
    (
        name.to_owned(),
        Arc::new(
            OptimaAdapter::new(PartnerName::from(name), partner, reqwest::Client::new())
                .owned_by("acme"),
        ),
    )
}

#[sqlx::test(migrator = "switchyard_store::MIGRATOR")]
async fn the_connection_test_says_what_failed(pool: PgPool) {
    let fake = FakeRest::start(FakeOptima::new("STALHURT"), "klucz", "sekret").await;
    let folder = tempfile::tempdir().unwrap();
    let blocker = folder.path().join("a-file");
    std::fs::write(&blocker, b"x").unwrap();
    let rest = |secret: &str| {
        Surface::Rest(RestSpec {
            api_url: fake.url(),
            api_key: "klucz".into(),
            api_secret: secret.into(),
        })
    };
    let connections: Connections = [
        connection("api", rest("sekret")),
        connection("api-bad", rest("zly")),
        connection(
            "xml",
            Surface::XmlExchange(MailboxSpec::Local(folder.path().join("exchange"))),
        ),
        connection(
            "xml-bad",
            Surface::XmlExchange(MailboxSpec::Local(blocker.join("exchange"))),
        ),
    ]
    .into_iter()
    .collect();
    let app = TestApp::builder(pool)
        .routes(router(Arc::new(connections)), SCOPES)
        .spawn()
        .await;
    let key = app.key("acme", &["write:optima"]).await;
    let test = |partner: &str| {
        app.post(
            "/api/v1/integrations/comarch/test",
            &key,
            json!({"partner": partner}),
        )
    };

    let (status, body) = json(test("api").await).await;
    assert_eq!(
        (status, &body["ok"], &body["surface"]),
        (200, &json!(true), &json!("rest"))
    );
    assert!(body["message"].as_str().unwrap().contains("/api/ping"));

    let (status, body) = json(test("api-bad").await).await;
    assert_eq!((status, &body["ok"]), (200, &json!(false)));
    assert_eq!(body["error_class"], "auth");
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("refused the API key or secret"),
        "{body}"
    );

    let (status, body) = json(test("xml").await).await;
    assert_eq!((status, &body["ok"]), (200, &json!(true)), "{body}");
    assert!(folder.path().join("exchange/archive").is_dir());

    let (status, body) = json(test("xml-bad").await).await;
    assert_eq!((status, &body["ok"]), (200, &json!(false)));
    assert!(
        body["message"].as_str().unwrap().contains("a-file"),
        "{body}"
    );

    fake.optima
        .faults
        .outage
        .store(true, std::sync::atomic::Ordering::SeqCst);
    let (_, body) = json(test("api").await).await;
    assert_eq!(body["ok"], json!(false));
    assert_eq!(body["error_class"], "transient");

    let (status, body) = json(test("nope").await).await;
    assert_eq!(status, 422);
    assert_eq!(code(&body), "unknown_partner");
    assert!(body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("api, api-bad, xml, xml-bad"));

    // The scope is required.
    let reader = app.key("acme", &["read:jobs"]).await;
    let r = app
        .post(
            "/api/v1/integrations/comarch/test",
            &reader,
            json!({"partner": "api"}),
        )
        .await;
    assert_eq!(r.status().as_u16(), 403);
}
