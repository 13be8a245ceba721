//! The integration seam, proven from outside the hub: `probe` (tests/src/probe.rs), defined in
//! this test crate and registered only here, contributes a config section, a partner kind, a
//! migration, a job kind, routes, scopes, a webhook processor, a metric and a `check` rule —
//! and they all work, through the same daemon start-up and `switchyard check` loop the
//! shipped integrations use. Also: capabilities are enforced on enqueue, and inbound webhooks
//! are stored, deduplicated and processed once.

use reqwest::Method;
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::{Duration, SystemTime};
use switchyard_adapter_http::fake::{FakePartner, FakePartnerConfig};
use switchyard_adapter_http::webhook::WebhookKey;
use switchyard_daemon::app::{self, Roles};
use switchyard_e2e::probe::Probe;
use switchyard_e2e::{count, eventually, TestDaemon};
use switchyard_runtime::integration::Integration;

/// The probe partner's Standard Webhooks secret (`whsec_` + base64 of 32 bytes).
const SECRET: &str = "whsec_cHJvYmUtd2ViaG9vay1zZWNyZXQtMzItYnl0ZXMh";

fn probe() -> Arc<dyn Integration> {
    Arc::new(Probe)
}

const PROBE_CONFIG: &str = "[probe]\ngreeting = \"hello\"\n\n[partners.sender]\nkind = \"probe\"\norg = \"acme\"\nwebhook_secret = \"secret:sender-webhooks\"\n";

/// The daemon with the probe integration, its partner `sender` and an HTTP partner `shop`.
async fn probe_daemon(shop: &FakePartner) -> anyhow::Result<TestDaemon> {
    TestDaemon::builder()
        .integration(probe())
        .toml(PROBE_CONFIG)
        .secret("secret:sender-webhooks", SECRET)
        .http_partner("shop", shop, "acme")
        .roles(Roles::default())
        .start()
        .await
}

/// A signed delivery to `/webhooks/{partner}`: (status, body).
async fn deliver(
    daemon: &TestDaemon,
    partner: &str,
    headers: &[(String, String)],
    body: &[u8],
) -> anyhow::Result<(u16, Value)> {
    let mut req = daemon
        .http
        .post(format!("{}/webhooks/{partner}", daemon.api()))
        .header("content-type", "application/json")
        .body(body.to_vec());
    for (k, v) in headers {
        req = req.header(k.as_str(), v.as_str());
    }
    let resp = req.send().await?;
    let status = resp.status().as_u16();
    let text = resp.text().await?;
    Ok((status, serde_json::from_str(&text).unwrap_or(Value::Null)))
}

fn signed(event: &str, body: &[u8]) -> Vec<(String, String)> {
    WebhookKey::parse(SECRET)
        .expect("secret")
        .headers(event, SystemTime::now(), body)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_test_integration_contributes_section_job_route_scope_and_migration() -> anyhow::Result<()>
{
    let shop = FakePartner::start(FakePartnerConfig::new().bearer_token("shop-token")).await?;
    let daemon = probe_daemon(&shop).await?;
    let admin = daemon
        .key("acme", &["admin:keys", "write:jobs", "write:probe"])
        .await?;

    // Its migration ran with the hub's.
    assert_eq!(
        count(
            &daemon.db.pool,
            "SELECT count(*) FROM _sqlx_migrations WHERE version = 9001 AND success"
        )
        .await?,
        1
    );

    // Its scopes are declared: keys may hold them; an undeclared one is refused, naming the
    // declared ones.
    let (s, b) = daemon
        .call(Method::GET, "/api/v1/scopes", Some(&admin), None)
        .await?;
    assert_eq!(s, 200, "{b}");
    let names: Vec<&str> = b["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|i| i["name"].as_str())
        .collect();
    for scope in ["read:probe", "write:probe", "read:edi", "write:jobs"] {
        assert!(names.contains(&scope), "{scope} in {names:?}");
    }
    let (s, b) = daemon
        .call(
            Method::POST,
            "/api/v1/keys",
            Some(&admin),
            Some(json!({"name": "greeter", "scopes": ["write:probe"]})),
        )
        .await?;
    assert_eq!(s, 201, "{b}");
    let greeter = b["secret"].as_str().unwrap().to_owned();
    let (s, b) = daemon
        .call(
            Method::POST,
            "/api/v1/keys",
            Some(&admin),
            Some(json!({"name": "x", "scopes": ["write:probes"]})),
        )
        .await?;
    assert_eq!(
        (s, b["error"]["code"].as_str()),
        (422, Some("validation_failed")),
        "{b}"
    );
    assert!(
        b["error"]["message"]
            .as_str()
            .unwrap()
            .contains("unknown scope `write:probes`"),
        "{b}"
    );

    // Its route enqueues its job kind, whose handler reads its config section.
    let (s, b) = daemon
        .call(
            Method::POST,
            "/api/v1/probe/greet",
            Some(&greeter),
            Some(json!({"name": "ada"})),
        )
        .await?;
    assert_eq!(s, 202, "{b}");
    let job = b["job_id"].as_str().unwrap().to_owned();
    eventually(Duration::from_secs(30), "the probe.greet job", || {
        let pool = daemon.db.pool.clone();
        let sql = format!(
            "SELECT count(*) FROM jobs WHERE id = '{job}' AND kind = 'probe.greet' AND state = 'succeeded'"
        );
        async move { Ok(count(&pool, &sql).await? == 1) }
    })
    .await?;
    let (s, b) = daemon
        .call(Method::GET, "/api/v1/probe/greetings", Some(&greeter), None)
        .await?;
    assert_eq!(s, 200, "write:probe implies read:probe: {b}");
    assert_eq!(b["items"], json!(["hello, ada"]));
    // The scope is checked: a key without it is refused.
    let without = daemon.key("acme", &["write:jobs"]).await?;
    let (s, b) = daemon
        .call(Method::GET, "/api/v1/probe/greetings", Some(&without), None)
        .await?;
    assert_eq!(
        (s, b["error"]["code"].as_str()),
        (403, Some("forbidden")),
        "{b}"
    );

    // Its routes are in the OpenAPI document, and its metric on /metrics.
    let (s, doc) = daemon
        .call(Method::GET, "/api/v1/openapi.json", None, None)
        .await?;
    assert_eq!(s, 200);
    assert!(doc["paths"]["/api/v1/probe/greet"]["post"].is_object());
    assert!(doc["paths"]["/api/v1/probe/greetings"]["get"].is_object());
    // ... with what the key check in front of them answers, though the probe never says so.
    for status in ["401", "403", "429"] {
        assert!(
            doc["paths"]["/api/v1/probe/greet"]["post"]["responses"][status].is_object(),
            "{status}: {}",
            doc["paths"]["/api/v1/probe/greet"]
        );
    }
    let metrics = daemon
        .http
        .get(format!("{}/metrics", daemon.api()))
        .send()
        .await?
        .text()
        .await?;
    assert!(
        metrics.contains("switchyard_probe_greetings_total"),
        "{metrics}"
    );

    // Capabilities are enforced on enqueue, naming the partner and what it lacks.
    let enqueue = |kind: &str, partner: Option<&str>, payload: Value| {
        let mut body = json!({"kind": kind, "payload": payload});
        if let Some(p) = partner {
            body["partner"] = json!(p);
        }
        daemon.call(Method::POST, "/api/v1/jobs", Some(&admin), Some(body))
    };
    let (s, b) = enqueue(
        "partner.push",
        Some("sender"),
        json!({"document": "catalog", "body": {"sku": "A"}}),
    )
    .await?;
    assert_eq!(
        (s, b["error"]["code"].as_str()),
        (422, Some("capability_missing")),
        "{b}"
    );
    let m = b["error"]["message"].as_str().unwrap();
    assert!(
        m.contains("partner `sender`")
            && m.contains("`push_catalog`")
            && m.contains("partner.push"),
        "{m}"
    );
    assert_eq!(
        b["error"]["details"]["declared"],
        json!(["receive_webhooks", "health_check"])
    );
    let (s, b) = enqueue(
        "partner.push",
        Some("shop"),
        json!({"document": "catalog", "body": {"sku": "A"}}),
    )
    .await?;
    assert_eq!(s, 201, "the http partner can push: {b}");
    let (s, b) = enqueue("partner.push", Some("nobody"), json!({"body": {}})).await?;
    assert_eq!(
        (s, b["error"]["code"].as_str()),
        (422, Some("unknown_partner")),
        "{b}"
    );
    let (s, b) = enqueue("edi.mailbox.poll", None, json!({"partner": "shop"})).await?;
    assert_eq!(
        (s, b["error"]["code"].as_str()),
        (422, Some("wrong_partner_kind")),
        "{b}"
    );

    daemon.stop().await?;
    shop.shutdown().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhooks_are_verified_stored_deduplicated_and_processed_once() -> anyhow::Result<()> {
    let shop = FakePartner::start(FakePartnerConfig::new().bearer_token("shop-token")).await?;
    let daemon = probe_daemon(&shop).await?;
    let body = serde_json::to_vec(&json!({"type": "order.shipped", "data": {"order": "SO-1"}}))?;
    let headers = signed("evt_0001", &body);

    let (s, b) = deliver(&daemon, "sender", &headers, &body).await?;
    assert_eq!((s, b["status"].as_str()), (202, Some("accepted")), "{b}");
    let delivery = b["delivery_id"].as_str().unwrap().to_owned();
    // The partner retries the same event: 200, the same delivery, nothing new.
    let (s, b) = deliver(&daemon, "sender", &headers, &body).await?;
    assert_eq!((s, b["status"].as_str()), (200, Some("duplicate")), "{b}");
    assert_eq!(b["delivery_id"].as_str(), Some(delivery.as_str()));

    eventually(Duration::from_secs(30), "the delivery to be processed", || {
        let pool = daemon.db.pool.clone();
        let sql = format!(
            "SELECT count(*) FROM webhook_deliveries WHERE id = '{delivery}' AND status = 'processed'"
        );
        async move { Ok(count(&pool, &sql).await? == 1) }
    })
    .await?;
    let (processed, event, topic): (i32, String, String) = sqlx::query_as(
        "SELECT processed, event_id, topic FROM probe_webhook_events WHERE delivery_id = $1::uuid",
    )
    .bind(&delivery)
    .fetch_one(&daemon.db.pool)
    .await?;
    assert_eq!(
        (processed, event.as_str(), topic.as_str()),
        (1, "evt_0001", "order.shipped")
    );
    assert_eq!(
        count(
            &daemon.db.pool,
            "SELECT count(*) FROM jobs WHERE kind = 'webhook.process'"
        )
        .await?,
        1,
        "one processing job however often the event came"
    );
    let (duplicates, raw, stored_sig): (i32, Vec<u8>, String) = sqlx::query_as(
        "SELECT duplicates, body, headers->>'webhook-signature' FROM webhook_deliveries WHERE id = $1::uuid",
    )
    .bind(&delivery)
    .fetch_one(&daemon.db.pool)
    .await?;
    assert_eq!(duplicates, 1);
    assert_eq!(raw, body, "the body is stored exactly as received");
    assert_eq!(stored_sig, "***", "signatures are not stored");

    // Another organization cannot have this delivery processed through the jobs API.
    let other = daemon.key("other", &["write:jobs"]).await?;
    let (s, b) = daemon
        .call(
            Method::POST,
            "/api/v1/jobs",
            Some(&other),
            Some(json!({"kind": "webhook.process", "payload": {"delivery_id": delivery}})),
        )
        .await?;
    assert_eq!(s, 201, "{b}");
    let foreign = b["id"].as_str().unwrap().to_owned();
    eventually(Duration::from_secs(30), "the foreign job to fail", || {
        let pool = daemon.db.pool.clone();
        let sql = format!(
            "SELECT count(*) FROM jobs WHERE id = '{foreign}' AND state = 'dead' AND last_error LIKE '%does not exist%'"
        );
        async move { Ok(count(&pool, &sql).await? == 1) }
    })
    .await?;
    let processed: i32 = sqlx::query_scalar(
        "SELECT processed FROM probe_webhook_events WHERE delivery_id = $1::uuid",
    )
    .bind(&delivery)
    .fetch_one(&daemon.db.pool)
    .await?;
    assert_eq!(processed, 1, "still processed once");

    // Refused: a body changed after signing, a stale timestamp, no signature at all. The log
    // row keeps the body with its secrets masked.
    let secret_body = serde_json::to_vec(
        &json!({"type": "x", "password": "hunter2", "data": {"api_key": "k-123"}}),
    )?;
    let forged = signed("evt_0002", b"{}");
    let (s, b) = deliver(&daemon, "sender", &forged, &secret_body).await?;
    assert_eq!(
        (s, b["error"]["code"].as_str()),
        (401, Some("unauthorized")),
        "{b}"
    );
    let stale = WebhookKey::parse(SECRET).expect("secret").headers(
        "evt_0003",
        SystemTime::now() - Duration::from_secs(600),
        &body,
    );
    let (s, _) = deliver(&daemon, "sender", &stale, &body).await?;
    assert_eq!(s, 401);
    let (s, _) = deliver(&daemon, "sender", &[], &body).await?;
    assert_eq!(s, 401);
    let (refused, leaks): (i64, i64) = sqlx::query_as(
        "SELECT count(*) FILTER (WHERE event_type = 'webhook.refused' AND http_status = 401),
                count(*) FILTER (WHERE request_body::text LIKE '%hunter2%' OR request_body::text LIKE '%k-123%')
         FROM integration_logs WHERE integration_type = 'webhook'",
    )
    .fetch_one(&daemon.db.pool)
    .await?;
    assert_eq!((refused, leaks), (3, 0));
    assert_eq!(
        count(&daemon.db.pool, "SELECT count(*) FROM webhook_deliveries").await?,
        1,
        "nothing refused is stored as a delivery"
    );

    // Not a partner, or a partner that receives no webhooks: 404.
    let (s, _) = deliver(&daemon, "nobody", &headers, &body).await?;
    assert_eq!(s, 404);
    let (s, b) = deliver(&daemon, "shop", &headers, &body).await?;
    assert_eq!(s, 404, "{b}");

    daemon.stop().await?;
    shop.shutdown().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_webhook_is_answered_before_it_is_processed() -> anyhow::Result<()> {
    // No worker in this process: the answer cannot have waited for processing.
    let daemon = TestDaemon::builder()
        .integration(probe())
        .toml(PROBE_CONFIG)
        .secret("secret:sender-webhooks", SECRET)
        .roles(Roles {
            api: true,
            worker: false,
            scheduler: false,
        })
        .start()
        .await?;
    let body = br#"{"type": "ping"}"#;
    let (s, b) = deliver(&daemon, "sender", &signed("evt_ping", body), body).await?;
    assert_eq!(s, 202, "{b}");
    let (status, job_state): (String, String) = sqlx::query_as(
        "SELECT d.status, j.state FROM webhook_deliveries d JOIN jobs j ON j.id = d.job_id",
    )
    .fetch_one(&daemon.db.pool)
    .await?;
    assert_eq!(
        (status.as_str(), job_state.as_str()),
        ("received", "pending")
    );
    daemon.stop().await?;
    Ok(())
}

#[test]
fn check_runs_the_test_integrations_validation_and_rules() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    std::fs::create_dir(dir.path().join("schedules"))?;
    std::fs::create_dir(dir.path().join("mappings"))?;
    let config = dir.path().join("switchyard.toml");
    let schedules = dir.path().join("schedules");
    std::fs::write(
        &config,
        format!(
            "[paths]\nschedules = {:?}\nmappings = {:?}\n\n\
             [probe]\ngreetin = \"hi\"\n\n\
             [prob]\nx = 1\n\n\
             [partners.sender]\nkind = \"probe\"\nwebhook_secret = \"hunter2\"\n",
            schedules.to_string_lossy(),
            dir.path().join("mappings").to_string_lossy()
        ),
    )?;
    std::fs::write(
        schedules.join("greet.toml"),
        "cron = \"0 0 9 * * *\"\njob = \"probe.greet\"\n[params]\nname = \"\"\n",
    )?;
    let with_probe =
        switchyard_daemon::check::problems(&config, &app::all_integrations(&[probe()])?);
    let without = switchyard_daemon::check::problems(&config, &app::all_integrations(&[])?);
    let cfg = config.to_string_lossy().into_owned();
    let greet = schedules.join("greet.toml").to_string_lossy().into_owned();
    let text: Vec<String> = with_probe.iter().map(|d| d.to_string()).collect();
    let has = |prefix: &str| text.iter().any(|t| t.starts_with(prefix));
    // Its section, parsed strictly and located at the unknown key.
    assert!(
        has(&format!("{cfg}:6:1: [probe]: unknown field `greetin`")),
        "{text:#?}"
    );
    // A section nobody declares.
    assert!(
        has(&format!("{cfg}:8:2: unknown section `prob`")),
        "{text:#?}"
    );
    // Its partner's credential reference, checked for form.
    assert!(
        has(&format!(
            "{cfg}:13:1: partner `sender`: webhook_secret: a credential reference must start with"
        )),
        "{text:#?}"
    );
    // Its check rule, located in the schedule file; the job kind itself is known.
    assert!(
        has(&format!(
            "{greet}:4:1: schedule `greet`: probe.greet needs params.name"
        )),
        "{text:#?}"
    );
    assert!(
        !text.iter().any(|t| t.contains("unknown job kind")),
        "{text:#?}"
    );
    assert_eq!(text.len(), 4, "{text:#?}");
    // Without the integration, its section and partner kind belong to nobody.
    let text: Vec<String> = without.iter().map(|d| d.to_string()).collect();
    assert!(
        text.iter()
            .any(|t| t.starts_with(&format!("{cfg}:5:2: unknown section `probe`"))),
        "{text:#?}"
    );
    assert!(
        text.iter()
            .any(|t| t.contains("partner `sender`: unknown partner kind `probe`")),
        "{text:#?}"
    );
    assert!(
        text.iter()
            .any(|t| t.contains("unknown job kind `probe.greet`")),
        "{text:#?}"
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_http_partner_sends_signed_webhooks_that_are_processed_once() -> anyhow::Result<()> {
    // The generic HTTP adapter receives Standard Webhooks; without a processor of its own the
    // runtime records each delivered document in the integration log, once.
    let shop = FakePartner::start(
        FakePartnerConfig::new()
            .bearer_token("shop-token")
            .webhook_secret(SECRET),
    )
    .await?;
    let daemon = TestDaemon::builder()
        .http_partner("shop", &shop, "acme")
        .toml("[partners.shop.webhooks]\nsecret_ref = \"secret:shop-webhooks\"\n")
        .secret("secret:shop-webhooks", SECRET)
        .roles(Roles::default())
        .start()
        .await?;
    let url = format!("{}/webhooks/shop", daemon.api());
    let event = json!({"type": "product.updated", "data": {"sku": "PLATE-A36-12", "stock": 4}});
    let status = shop
        .send_webhook(&url, "msg_2Xy", &event)
        .await
        .map_err(anyhow::Error::msg)?;
    assert_eq!(status, 202);
    let again = shop
        .send_webhook(&url, "msg_2Xy", &event)
        .await
        .map_err(anyhow::Error::msg)?;
    assert_eq!(again, 200, "a redelivery of the same event");
    eventually(Duration::from_secs(30), "the delivery to be processed", || {
        let pool = daemon.db.pool.clone();
        async move {
            Ok(count(
                &pool,
                "SELECT count(*) FROM webhook_deliveries WHERE partner = 'shop' AND status = 'processed'",
            )
            .await?
                == 1)
        }
    })
    .await?;
    // The log writer batches; wait for the processed document's row rather than a timer.
    eventually(Duration::from_secs(30), "the document's log row", || {
        let pool = daemon.db.pool.clone();
        async move {
            Ok(count(
                &pool,
                "SELECT count(*) FROM integration_logs WHERE integration_type = 'adapter' \
                 AND event_type = 'webhook.product.updated' AND partner = 'shop' AND direction = 'inbound'",
            )
            .await?
                >= 1)
        }
    })
    .await?;
    assert_eq!(
        count(
            &daemon.db.pool,
            "SELECT count(*) FROM integration_logs WHERE integration_type = 'adapter' \
             AND event_type = 'webhook.product.updated' AND request_body::text LIKE '%PLATE-A36-12%'",
        )
        .await?,
        1,
        "processed once"
    );
    daemon.stop().await?;
    shop.shutdown().await;
    Ok(())
}
