//! The HTTP adapter against its fake partner over real HTTP on loopback.

use serde_json::{json, Value};
use std::sync::Arc;
use std::time::{Duration, SystemTime};
use switchyard_adapter_http::fake::{DeliveryOutcome, FakePartner, FakePartnerConfig};
use switchyard_adapter_http::{HttpAdapter, HttpAdapterFactory};
use switchyard_core::adapter::{
    Adapter, AdapterFactory, Capability, OutboundDocument, Payload, PullRequest,
};
use switchyard_core::ids::PartnerName;
use switchyard_core::ErrorClass;
use switchyard_runtime::testkit::doubles::{context, MapSecrets, RecordingSink};

const TOKEN: &str = "tok_live_5b8e0c2d9a";

fn partner() -> PartnerName {
    PartnerName::from("acme")
}

fn secrets() -> MapSecrets {
    MapSecrets::new()
        .with("secret:acme-token", TOKEN)
        .with("secret:wrong", "tok_wrong")
        .with("env:ACME_PASSWORD", "pa55-w0rd")
}

async fn fake() -> FakePartner {
    FakePartner::start(
        FakePartnerConfig::new()
            .bearer_token(TOKEN)
            .required_fields(["sku", "name"]),
    )
    .await
    .unwrap()
}

fn config_for(fake: &FakePartner, extra: Value) -> Value {
    let mut config = json!({
        "base_url": fake.base_url(),
        "auth": {"type": "bearer", "token_ref": "secret:acme-token"},
    });
    for (k, v) in extra.as_object().unwrap() {
        config[k] = v.clone();
    }
    config
}

fn build(config: &Value) -> HttpAdapter {
    HttpAdapterFactory::new()
        .unwrap()
        .build_http(&partner(), config, &secrets())
        .unwrap()
}

fn doc(sku: &str) -> OutboundDocument {
    OutboundDocument {
        document: "catalog".to_owned(),
        payload: Payload::Json {
            body: json!({"sku": sku, "name": format!("plate {sku}"), "qty": 3}),
        },
    }
}

#[tokio::test]
async fn push_succeeds_with_receipt_and_sends_auth_idempotency_and_correlation_headers() {
    let fake = fake().await;
    let adapter = build(&config_for(
        &fake,
        json!({"headers": {"X-Api-Version": "2024-10"}}),
    ));
    let sink = RecordingSink::new();
    let ctx = context("job-1", sink.clone());

    let receipt = adapter.push(&ctx, &doc("A-1")).await.unwrap();
    assert_eq!(receipt.status, 201);
    assert_eq!(receipt.external_id.as_deref(), Some("doc_000001"));
    assert!(!receipt.duplicate);

    let deliveries = fake.deliveries();
    assert_eq!(deliveries.len(), 1);
    let d = &deliveries[0];
    assert_eq!(d.method, "POST");
    assert_eq!(d.idempotency_key.as_deref(), Some("job-1"));
    assert_eq!(d.correlation_id.as_deref(), Some("corr-job-1"));
    assert_eq!(
        d.header("authorization"),
        Some(format!("Bearer {TOKEN}").as_str())
    );
    assert_eq!(d.header("x-api-version"), Some("2024-10"));
    assert_eq!(d.header("content-type"), Some("application/json"));
    assert_eq!(d.body, json!({"sku": "A-1", "name": "plate A-1", "qty": 3}));
    assert_eq!(d.outcome, DeliveryOutcome::Applied);
    assert_eq!(fake.times_applied("job-1"), 1);

    let ex = sink.last().unwrap();
    assert_eq!(ex.event, "catalog.push");
    assert_eq!(ex.method.as_deref(), Some("POST"));
    assert_eq!(
        ex.url.as_deref(),
        Some(format!("{}/v1/documents", fake.base_url()).as_str())
    );
    assert_eq!(
        ex.request_body,
        Some(json!({"sku": "A-1", "name": "plate A-1", "qty": 3}))
    );
    assert_eq!(ex.response_status, Some(201));
    assert_eq!(ex.response_body.as_ref().unwrap()["id"], "doc_000001");
    assert!(ex.error.is_none());
    assert_eq!(ex.partner, partner());
}

#[tokio::test]
async fn idempotent_replay_is_flagged_as_duplicate_and_applied_once() {
    let fake = fake().await;
    let adapter = build(&config_for(&fake, json!({})));
    let ctx = context("job-replay", RecordingSink::new());

    let first = adapter.push(&ctx, &doc("B-1")).await.unwrap();
    let second = adapter.push(&ctx, &doc("B-1")).await.unwrap();
    assert!(!first.duplicate);
    assert!(second.duplicate);
    assert_eq!(second.status, first.status);
    assert_eq!(second.external_id, first.external_id);
    let stats = fake.stats();
    assert_eq!(
        (stats.deliveries, stats.applied, stats.duplicates),
        (2, 1, 1)
    );
    assert_eq!(fake.times_applied("job-replay"), 1);
    assert_eq!(fake.delivery_counts()["job-replay"], 2);
}

#[tokio::test]
async fn reusing_a_key_with_another_document_is_a_permanent_conflict() {
    let fake = fake().await;
    let adapter = build(&config_for(&fake, json!({})));
    let ctx = context("job-reuse", RecordingSink::new());
    adapter.push(&ctx, &doc("C-1")).await.unwrap();
    let err = adapter.push(&ctx, &doc("C-2")).await.unwrap_err();
    assert_eq!(err.class, ErrorClass::Permanent);
    assert_eq!(err.status, Some(409));
    assert!(
        err.message
            .contains("already used with a different document"),
        "{err}"
    );
    assert_eq!(fake.applied().len(), 1);
}

#[tokio::test]
async fn concurrent_redeliveries_apply_each_key_exactly_once() {
    let fake = fake().await;
    let adapter = Arc::new(build(&config_for(&fake, json!({}))));
    let mut tasks = Vec::new();
    for i in 0..200 {
        let adapter = adapter.clone();
        tasks.push(tokio::spawn(async move {
            let key = format!("job-{}", i % 50);
            adapter
                .push(&context(key.clone(), RecordingSink::new()), &doc(&key))
                .await
        }));
    }
    let mut duplicates = 0;
    for t in tasks {
        if t.await.unwrap().unwrap().duplicate {
            duplicates += 1;
        }
    }
    assert_eq!(duplicates, 150);
    let stats = fake.stats();
    assert_eq!(
        (stats.applied, stats.duplicates, stats.deliveries),
        (50, 150, 200)
    );
    for i in 0..50 {
        assert_eq!(fake.times_applied(&format!("job-{i}")), 1);
    }
}

#[tokio::test]
async fn server_errors_are_transient_then_the_push_succeeds() {
    let fake = fake().await;
    let adapter = build(&config_for(&fake, json!({})));
    let ctx = context("job-503", RecordingSink::new());
    fake.fail_next(2, 503);
    for _ in 0..2 {
        let err = adapter.push(&ctx, &doc("D-1")).await.unwrap_err();
        assert_eq!(err.class, ErrorClass::transient());
        assert_eq!(err.status, Some(503));
        assert!(err.message.contains("temporarily unavailable"), "{err}");
    }
    let receipt = adapter.push(&ctx, &doc("D-1")).await.unwrap();
    assert!(
        !receipt.duplicate,
        "failed attempts must not have been applied"
    );
    assert_eq!(fake.times_applied("job-503"), 1);
    assert_eq!(fake.stats().rejected, 2);
}

#[tokio::test]
async fn throttling_with_delta_seconds_is_rate_limited_with_that_duration() {
    let fake = fake().await;
    let adapter = build(&config_for(&fake, json!({})));
    fake.throttle(42);
    let err = adapter
        .push(&context("job-429", RecordingSink::new()), &doc("E-1"))
        .await
        .unwrap_err();
    assert_eq!(
        err.class,
        ErrorClass::RateLimited {
            retry_after: Some(Duration::from_secs(42))
        }
    );
    assert_eq!(err.status, Some(429));
    assert!(err.class.is_retryable());
}

#[tokio::test]
async fn a_503_with_retry_after_is_transient_with_that_floor() {
    let fake = fake().await;
    let adapter = build(&config_for(&fake, json!({})));
    fake.maintenance(300);
    let err = adapter
        .push(
            &context("job-503-maintenance", RecordingSink::new()),
            &doc("E-3"),
        )
        .await
        .unwrap_err();
    assert_eq!(
        err.class,
        ErrorClass::Transient {
            retry_after: Some(Duration::from_secs(300))
        }
    );
    assert_eq!(err.status, Some(503));
    assert_eq!(fake.times_applied("job-503-maintenance"), 0);
}

#[tokio::test]
async fn throttling_with_an_http_date_is_rate_limited_until_that_date() {
    let fake = fake().await;
    let adapter = build(&config_for(&fake, json!({})));
    let asked_at = SystemTime::now();
    // The instant the fake announces: whole seconds, rounded up.
    let until = fake.throttle_until(asked_at + Duration::from_secs(120));
    let announced = until.duration_since(asked_at).unwrap();
    let err = adapter
        .push(&context("job-429-date", RecordingSink::new()), &doc("E-2"))
        .await
        .unwrap_err();
    let ErrorClass::RateLimited {
        retry_after: Some(wait),
    } = err.class
    else {
        panic!("not rate limited: {err}")
    };
    // A little time passes on the way.
    assert!(
        wait <= announced && wait >= announced - Duration::from_secs(3),
        "{wait:?} for {announced:?}"
    );
}

#[tokio::test]
async fn the_token_bucket_answers_429_with_retry_after_when_exceeded() {
    let fake = FakePartner::start(
        FakePartnerConfig::new()
            .bearer_token(TOKEN)
            .rate_limit(2, 0.5),
    )
    .await
    .unwrap();
    let adapter = build(&config_for(&fake, json!({})));
    let sink = RecordingSink::new();
    adapter
        .push(&context("rl-1", sink.clone()), &doc("F-1"))
        .await
        .unwrap();
    adapter
        .push(&context("rl-2", sink.clone()), &doc("F-2"))
        .await
        .unwrap();
    let err = adapter
        .push(&context("rl-3", sink), &doc("F-3"))
        .await
        .unwrap_err();
    assert_eq!(
        err.class,
        ErrorClass::RateLimited {
            retry_after: Some(Duration::from_secs(2))
        }
    );
    assert_eq!(fake.stats().throttled, 1);
    assert_eq!(fake.times_applied("rl-3"), 0);
}

#[tokio::test]
async fn refused_credentials_are_an_auth_error_with_the_partners_message() {
    let fake = fake().await;
    let config = config_for(
        &fake,
        json!({"auth": {"type": "bearer", "token_ref": "secret:wrong"}}),
    );
    let adapter = build(&config);
    let err = adapter
        .push(&context("job-401", RecordingSink::new()), &doc("G-1"))
        .await
        .unwrap_err();
    assert_eq!(err.class, ErrorClass::Auth);
    assert_eq!(err.status, Some(401));
    assert!(err.message.contains("invalid bearer token"), "{err}");
    assert!(!err.class.is_retryable());

    let no_auth = build(&config_for(&fake, json!({"auth": {"type": "none"}})));
    let err = no_auth
        .push(&context("job-401b", RecordingSink::new()), &doc("G-1"))
        .await
        .unwrap_err();
    assert_eq!(err.class, ErrorClass::Auth);
    assert!(err.message.contains("missing bearer token"), "{err}");
    assert_eq!(fake.applied().len(), 0);
}

#[tokio::test]
async fn validation_failures_are_permanent_with_the_partners_message() {
    let fake = fake().await;
    let adapter = build(&config_for(&fake, json!({})));
    let bad = OutboundDocument {
        document: "catalog".to_owned(),
        payload: Payload::Json {
            body: json!({"sku": "H-1", "name": null}),
        },
    };
    let err = adapter
        .push(&context("job-422", RecordingSink::new()), &bad)
        .await
        .unwrap_err();
    assert_eq!(err.class, ErrorClass::Permanent);
    assert_eq!(err.status, Some(422));
    assert!(
        err.message.contains("missing required fields: name"),
        "{err}"
    );
    assert!(
        err.message.contains("\"missing\":[\"name\"]"),
        "details are kept: {err}"
    );

    fake.always_fail(422);
    let err = adapter
        .push(&context("job-422b", RecordingSink::new()), &doc("H-2"))
        .await
        .unwrap_err();
    assert_eq!(err.class, ErrorClass::Permanent);
    assert!(err.message.contains("rejected by the partner"), "{err}");
    fake.fix();
    adapter
        .push(&context("job-422b", RecordingSink::new()), &doc("H-2"))
        .await
        .unwrap();
}

#[tokio::test]
async fn text_payloads_go_with_their_content_type() {
    let fake = fake().await;
    let adapter = build(&config_for(&fake, json!({"method": "PUT"})));
    let csv = OutboundDocument {
        document: "catalog".to_owned(),
        payload: Payload::Text {
            content_type: "text/csv".to_owned(),
            body: "sku,name\nI-1,bar\n".to_owned(),
        },
    };
    let sink = RecordingSink::new();
    // This partner only takes JSON, as a real one would say with 415.
    let err = adapter
        .push(&context("job-csv", sink.clone()), &csv)
        .await
        .unwrap_err();
    assert_eq!(err.class, ErrorClass::Permanent);
    assert_eq!(err.status, Some(415));
    let d = &fake.deliveries()[0];
    assert_eq!(d.method, "PUT");
    assert_eq!(d.header("content-type"), Some("text/csv"));
    assert_eq!(d.body, json!("sku,name\nI-1,bar\n"));
    assert_eq!(
        sink.last().unwrap().request_body,
        Some(json!("sku,name\nI-1,bar\n"))
    );

    let receipt = adapter
        .push(&context("job-put", sink), &doc("I-2"))
        .await
        .unwrap();
    assert_eq!(receipt.status, 200);
}

#[tokio::test]
async fn a_slow_partner_times_out_as_transient() {
    let fake = FakePartner::start(
        FakePartnerConfig::new()
            .bearer_token(TOKEN)
            .latency(Duration::from_millis(800)),
    )
    .await
    .unwrap();
    let adapter = build(&config_for(&fake, json!({"timeout_ms": 100})));
    let sink = RecordingSink::new();
    let err = adapter
        .push(&context("job-slow", sink.clone()), &doc("J-1"))
        .await
        .unwrap_err();
    assert_eq!(err.class, ErrorClass::transient());
    assert_eq!(err.status, None);
    assert!(err.message.contains("no answer within 100 ms"), "{err}");
    let ex = sink.last().unwrap();
    assert_eq!(ex.response_status, None);
    assert!(ex.error.as_deref().unwrap().starts_with("transient"));
}

#[tokio::test]
async fn an_unreachable_partner_is_transient() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let config = json!({"base_url": format!("http://{addr}"), "auth": {"type": "none"}});
    let adapter = build(&config);
    let err = adapter
        .push(&context("job-down", RecordingSink::new()), &doc("K-1"))
        .await
        .unwrap_err();
    assert_eq!(err.class, ErrorClass::transient());
    assert!(err.message.contains("cannot connect"), "{err}");
}

#[tokio::test]
async fn pull_walks_every_page_with_the_cursor() {
    let fake = fake().await;
    let adapter = build(&config_for(&fake, json!({"pull_path": "/v1/documents"})));
    assert!(adapter.supports(Capability::PullCatalog));
    for i in 0..5 {
        adapter
            .push(
                &context(format!("p-{i}"), RecordingSink::new()),
                &doc(&format!("P-{i}")),
            )
            .await
            .unwrap();
    }
    let sink = RecordingSink::new();
    let ctx = context("pull", sink.clone());
    let mut request = PullRequest {
        entity: "catalog".to_owned(),
        cursor: None,
        params: json!({"limit": 2}),
    };
    let mut pages = Vec::new();
    loop {
        let page = adapter.pull(&ctx, &request).await.unwrap();
        pages.push(page.records.len());
        let skus: Vec<_> = page
            .records
            .iter()
            .map(|r| r["document"]["sku"].as_str().unwrap().to_owned())
            .collect();
        request.cursor = page.next_cursor.clone();
        for sku in skus {
            pages.push(0);
            assert!(sku.starts_with("P-"));
        }
        if request.cursor.is_none() {
            break;
        }
        assert!(pages.len() < 50, "pagination does not end");
    }
    let sizes: Vec<usize> = pages.into_iter().filter(|n| *n > 0).collect();
    assert_eq!(sizes, vec![2, 2, 1]);
    let urls: Vec<String> = sink
        .exchanges()
        .into_iter()
        .map(|e| e.url.unwrap())
        .collect();
    assert_eq!(urls.len(), 3);
    assert!(urls[0].ends_with("/v1/documents?limit=2"), "{}", urls[0]);
    assert!(
        urls[1].ends_with("/v1/documents?limit=2&cursor=o2"),
        "{}",
        urls[1]
    );
    assert!(urls[2].ends_with("cursor=o4"), "{}", urls[2]);
    assert_eq!(sink.exchanges()[0].event, "catalog.pull");
}

#[tokio::test]
async fn pull_collects_all_records_in_order() {
    let fake = fake().await;
    let adapter = build(&config_for(&fake, json!({"pull_path": "/v1/documents"})));
    for i in 0..7 {
        adapter
            .push(
                &context(format!("q-{i}"), RecordingSink::new()),
                &doc(&format!("Q-{i}")),
            )
            .await
            .unwrap();
    }
    let ctx = context("pull-all", RecordingSink::new());
    let mut request = PullRequest {
        entity: "catalog".to_owned(),
        cursor: None,
        params: json!({"limit": 3}),
    };
    let mut skus = Vec::new();
    loop {
        let page = adapter.pull(&ctx, &request).await.unwrap();
        skus.extend(
            page.records
                .iter()
                .map(|r| r["document"]["sku"].as_str().unwrap().to_owned()),
        );
        match page.next_cursor {
            Some(c) => request.cursor = Some(c),
            None => break,
        }
    }
    let expected: Vec<String> = (0..7).map(|i| format!("Q-{i}")).collect();
    assert_eq!(skus, expected);
}

#[tokio::test]
async fn pull_errors_are_classified_and_pull_needs_a_path() {
    let fake = fake().await;
    let adapter = build(&config_for(&fake, json!({"pull_path": "/v1/documents"})));
    let ctx = context("pull-bad", RecordingSink::new());
    let bad_cursor = PullRequest {
        entity: "catalog".to_owned(),
        cursor: Some("garbage".to_owned()),
        params: Value::Null,
    };
    let err = adapter.pull(&ctx, &bad_cursor).await.unwrap_err();
    assert_eq!(err.class, ErrorClass::Permanent);
    assert!(
        err.message.contains("cursor `garbage` is not valid"),
        "{err}"
    );

    let wrong = build(&config_for(
        &fake,
        json!({"pull_path": "/v1/documents", "auth": {"type": "bearer", "token_ref": "secret:wrong"}}),
    ));
    let request = PullRequest {
        entity: "catalog".to_owned(),
        cursor: None,
        params: Value::Null,
    };
    assert_eq!(
        wrong.pull(&ctx, &request).await.unwrap_err().class,
        ErrorClass::Auth
    );

    let no_pull = build(&config_for(&fake, json!({})));
    assert!(!no_pull.supports(Capability::PullCatalog));
    let err = no_pull.pull(&ctx, &request).await.unwrap_err();
    assert_eq!(err.class, ErrorClass::Permanent);
    assert!(err.message.contains("no pull_path"), "{err}");

    let nested = PullRequest {
        entity: "catalog".to_owned(),
        cursor: None,
        params: json!({"filter": {"a": 1}}),
    };
    assert!(adapter
        .pull(&ctx, &nested)
        .await
        .unwrap_err()
        .message
        .contains("pull param `filter`"));
}

#[tokio::test]
async fn health_is_ok_and_an_outage_is_transient() {
    let fake = fake().await;
    let adapter = build(&config_for(&fake, json!({})));
    let sink = RecordingSink::new();
    let ctx = context("health", sink.clone());
    adapter.health(&ctx).await.unwrap();
    let ex = sink.last().unwrap();
    assert_eq!(ex.event, "health");
    assert_eq!(
        ex.url.as_deref(),
        Some(format!("{}/healthz", fake.base_url()).as_str())
    );
    assert_eq!(ex.response_status, Some(200));

    fake.always_fail(503);
    let err = adapter.health(&ctx).await.unwrap_err();
    assert_eq!(err.class, ErrorClass::transient());
    assert_eq!(err.status, Some(503));
}

#[tokio::test]
async fn exchange_records_never_contain_a_credential() {
    let fake = fake().await;
    let sink = RecordingSink::new();
    let configs = [
        config_for(&fake, json!({"pull_path": "/v1/documents"})),
        config_for(
            &fake,
            json!({"pull_path": "/v1/documents", "auth": {"type": "basic", "username": "acme", "password_ref": "env:ACME_PASSWORD"}}),
        ),
        config_for(
            &fake,
            json!({"pull_path": "/v1/documents", "auth": {"type": "header", "name": "X-Api-Key", "value_ref": "secret:acme-token"}}),
        ),
    ];
    for (i, config) in configs.iter().enumerate() {
        let adapter = build(config);
        let ctx = context(format!("sec-{i}"), sink.clone());
        let _ = adapter.health(&ctx).await;
        let _ = adapter.push(&ctx, &doc("S-1")).await;
        let _ = adapter
            .pull(
                &ctx,
                &PullRequest {
                    entity: "catalog".to_owned(),
                    cursor: None,
                    params: Value::Null,
                },
            )
            .await;
    }
    fake.fail_next(1, 500);
    let _ = build(&configs[0])
        .push(&context("sec-fail", sink.clone()), &doc("S-2"))
        .await;

    // Bearer got through; basic and header auth were refused by this bearer-only partner.
    let statuses: Vec<u16> = fake.deliveries().iter().map(|d| d.status).collect();
    assert_eq!(statuses, vec![201, 401, 401, 500]);
    assert_eq!(
        fake.deliveries()[1].header("authorization"),
        Some("Basic YWNtZTpwYTU1LXcwcmQ=")
    );
    assert_eq!(fake.deliveries()[2].header("x-api-key"), Some(TOKEN));

    let exchanges = sink.exchanges();
    assert_eq!(exchanges.len(), 3 * 3 + 1);
    // The refused pulls were recorded with their error too.
    assert_eq!(
        exchanges
            .iter()
            .filter(|e| e.response_status == Some(401))
            .count(),
        4
    );
    assert!(exchanges
        .iter()
        .filter(|e| e.response_status == Some(401))
        .all(|e| e.error.is_some()));
    for ex in &exchanges {
        let text = format!("{ex:?}{}", serde_json::to_string(ex).unwrap());
        for secret in [TOKEN, "pa55-w0rd", "YWNtZTpwYTU1LXcwcmQ="] {
            assert!(
                !text.contains(secret),
                "credential in exchange record: {text}"
            );
        }
    }
}

#[tokio::test]
async fn debug_output_redacts_credentials() {
    let fake = fake().await;
    let factory = HttpAdapterFactory::new().unwrap();
    for auth in [
        json!({"type": "bearer", "token_ref": "secret:acme-token"}),
        json!({"type": "basic", "username": "acme", "password_ref": "env:ACME_PASSWORD"}),
        json!({"type": "header", "name": "X-Api-Key", "value_ref": "secret:acme-token"}),
    ] {
        let config = config_for(
            &fake,
            json!({"auth": auth, "headers": {"X-Static-Key": "static-s3cret"}}),
        );
        let parsed =
            switchyard_adapter_http::HttpAdapterConfig::from_json(&partner(), &config).unwrap();
        let adapter = factory.build_http(&partner(), &config, &secrets()).unwrap();
        let text = format!("{parsed:?} {adapter:?} {:?}", adapter.config());
        for secret in [TOKEN, "pa55-w0rd", "YWNtZTpwYTU1LXcwcmQ=", "static-s3cret"] {
            assert!(
                !text.contains(secret),
                "debug output leaks a credential: {text}"
            );
        }
        assert!(
            text.contains("redacted") || text.contains("Sensitive"),
            "{text}"
        );
        assert!(
            text.contains("secret:acme-token") || text.contains("env:ACME_PASSWORD"),
            "references stay visible: {text}"
        );
    }
    let pasted =
        json!({"base_url": fake.base_url(), "auth": {"type": "bearer", "token_ref": TOKEN}});
    let parsed =
        switchyard_adapter_http::HttpAdapterConfig::from_json(&partner(), &pasted).unwrap();
    assert!(
        !format!("{parsed:?}").contains(TOKEN),
        "a pasted credential in a *_ref must not be shown"
    );
}

#[tokio::test]
async fn the_factory_builds_a_trait_object_for_kind_http() {
    let fake = fake().await;
    let factory = HttpAdapterFactory::new().unwrap();
    assert_eq!(factory.kind(), "http");
    let adapter = factory
        .build(
            &partner(),
            &config_for(&fake, json!({"kind": "http"})),
            &secrets(),
        )
        .unwrap();
    assert_eq!(adapter.kind(), "http");
    assert!(adapter.supports(Capability::PushCatalog));
    assert!(!adapter.supports(Capability::ReceiveWebhooks));
    let err = adapter
        .receive_webhook(&context("wh", RecordingSink::new()), &[], b"{}")
        .await
        .unwrap_err();
    assert_eq!(err.class, ErrorClass::Permanent);
}

#[tokio::test]
async fn redirects_are_not_followed() {
    // A moved endpoint answers 308; following it would resend credentials elsewhere.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = axum::Router::new().route(
        "/v1/documents",
        axum::routing::post(|| async { axum::response::Redirect::permanent("/v2/documents") }),
    );
    let server = tokio::spawn(async move { axum::serve(listener, app).await });
    let adapter = build(
        &json!({"base_url": format!("http://{addr}"), "auth": {"type": "bearer", "token_ref": "secret:acme-token"}}),
    );
    let err = adapter
        .push(&context("job-moved", RecordingSink::new()), &doc("M-1"))
        .await
        .unwrap_err();
    assert_eq!(err.class, ErrorClass::Permanent);
    assert_eq!(err.status, Some(308));
    assert!(
        err.message.contains("redirected to `/v2/documents`"),
        "{err}"
    );
    server.abort();
}

#[tokio::test]
async fn the_fakes_own_adapter_config_builds_a_working_adapter() {
    let fake = fake().await;
    let config = fake.http_adapter_config("secret:acme-token");
    let adapter = build(&config);
    let ctx = context("own-config", RecordingSink::new());
    adapter.health(&ctx).await.unwrap();
    adapter.push(&ctx, &doc("O-1")).await.unwrap();
    let page = adapter
        .pull(
            &ctx,
            &PullRequest {
                entity: "catalog".to_owned(),
                cursor: None,
                params: Value::Null,
            },
        )
        .await
        .unwrap();
    assert_eq!(page.records.len(), 1);
    assert_eq!(page.records[0]["idempotency_key"], "own-config");
    assert_eq!(page.next_cursor, None);
}
