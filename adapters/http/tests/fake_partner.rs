//! The fake partner on its own, driven with a plain HTTP client: it must refuse what a real
//! API refuses, with the same status codes and error bodies.

use serde_json::{json, Value};
use std::time::Duration;
use switchyard_adapter_http::fake::{DeliveryOutcome, FakePartner, FakePartnerConfig, RateLimit};

const TOKEN: &str = "fake-token-81c2";

async fn start() -> (FakePartner, reqwest::Client) {
    let fake = FakePartner::start(
        FakePartnerConfig::new()
            .bearer_token(TOKEN)
            .required_fields(["sku", "name"]),
    )
    .await
    .unwrap();
    (fake, reqwest::Client::new())
}

fn docs_url(fake: &FakePartner) -> String {
    format!("{}/v1/documents", fake.base_url())
}

async fn post(
    client: &reqwest::Client,
    fake: &FakePartner,
    key: Option<&str>,
    body: &str,
) -> (u16, reqwest::header::HeaderMap, Value) {
    let mut req = client
        .post(docs_url(fake))
        .bearer_auth(TOKEN)
        .header("content-type", "application/json")
        .body(body.to_owned());
    if let Some(key) = key {
        req = req.header("Idempotency-Key", key);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let body = resp.json::<Value>().await.unwrap_or(Value::Null);
    (status, headers, body)
}

#[tokio::test]
async fn missing_or_wrong_token_is_401_with_the_error_shape() {
    let (fake, client) = start().await;
    for req in [
        client.post(docs_url(&fake)),
        client.post(docs_url(&fake)).bearer_auth("nope"),
        client.get(docs_url(&fake)),
    ] {
        let resp = req
            .header("Idempotency-Key", "k")
            .json(&json!({"sku": "a", "name": "b"}))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 401);
        assert_eq!(resp.headers()["www-authenticate"], "Bearer");
        let body: Value = resp.json().await.unwrap();
        assert_eq!(body["error"]["code"], "unauthorized");
        assert!(body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("bearer token"));
    }
    assert_eq!(fake.stats().applied, 0);
    assert_eq!(
        fake.stats().rejected,
        2,
        "the GET is a listing, not a delivery"
    );
}

#[tokio::test]
async fn a_push_without_idempotency_key_is_400() {
    let (fake, client) = start().await;
    let (status, _, body) = post(&client, &fake, None, r#"{"sku":"a","name":"b"}"#).await;
    assert_eq!(status, 400);
    assert_eq!(body["error"]["code"], "idempotency_key_required");
    assert_eq!(fake.stats().applied, 0);
}

#[tokio::test]
async fn bodies_are_validated() {
    let (fake, client) = start().await;
    let (status, _, body) = post(&client, &fake, Some("k1"), "{not json").await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (400, Some("invalid_json"))
    );
    let (status, _, body) = post(&client, &fake, Some("k2"), "[1,2]").await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (422, Some("invalid_document"))
    );
    let (status, _, body) = post(&client, &fake, Some("k3"), r#"{"qty": 1}"#).await;
    assert_eq!(status, 422);
    assert_eq!(body["error"]["code"], "validation_failed");
    assert_eq!(body["error"]["details"]["missing"], json!(["sku", "name"]));
    let resp = client
        .post(docs_url(&fake))
        .bearer_auth(TOKEN)
        .header("Idempotency-Key", "k4")
        .header("content-type", "text/plain")
        .body("sku=a")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 415);
    assert_eq!(fake.stats().rejected, 4);
    assert_eq!(fake.stats().applied, 0);
    // A refused key is not stored: the corrected document under the same key is applied.
    let (status, headers, _) = post(&client, &fake, Some("k3"), r#"{"sku":"a","name":"b"}"#).await;
    assert_eq!(status, 201);
    assert!(headers.get("idempotent-replayed").is_none());
}

#[tokio::test]
async fn a_repeated_key_replays_the_first_response() {
    let (fake, client) = start().await;
    let (s1, h1, b1) = post(&client, &fake, Some("same"), r#"{"sku":"a","name":"b"}"#).await;
    let (s2, h2, b2) = post(&client, &fake, Some("same"), r#"{"sku":"a","name":"b"}"#).await;
    assert_eq!((s1, s2), (201, 201));
    assert_eq!(b1, b2);
    assert_eq!(b1["id"], "doc_000001");
    assert!(h1.get("idempotent-replayed").is_none());
    assert_eq!(h2["idempotent-replayed"], "true");
    let outcomes: Vec<_> = fake.deliveries().iter().map(|d| d.outcome).collect();
    assert_eq!(
        outcomes,
        vec![DeliveryOutcome::Applied, DeliveryOutcome::Replayed]
    );
    assert_eq!(fake.times_applied("same"), 1);
    assert!(fake.deliveries()[0].received_at <= fake.deliveries()[1].received_at);
}

#[tokio::test]
async fn the_failure_plan_is_scriptable() {
    let (fake, client) = start().await;
    let ok = r#"{"sku":"a","name":"b"}"#;
    fake.fail_next(2, 503);
    assert_eq!(post(&client, &fake, Some("p1"), ok).await.0, 503);
    assert_eq!(post(&client, &fake, Some("p1"), ok).await.0, 503);
    assert_eq!(post(&client, &fake, Some("p1"), ok).await.0, 201);

    fake.always_fail(422);
    for key in ["p2", "p3", "p4"] {
        let (status, _, body) = post(&client, &fake, Some(key), ok).await;
        assert_eq!(
            (status, body["error"]["code"].as_str()),
            (422, Some("unprocessable"))
        );
    }
    fake.throttle(9);
    let (status, headers, _) = post(&client, &fake, Some("p5"), ok).await;
    assert_eq!(
        (status, headers["retry-after"].to_str().unwrap()),
        (429, "9")
    );
    fake.fix();
    assert_eq!(post(&client, &fake, Some("p5"), ok).await.0, 201);
    let stats = fake.stats();
    assert_eq!(
        (
            stats.applied,
            stats.rejected,
            stats.throttled,
            stats.deliveries
        ),
        (2, 6, 1, 8)
    );
}

#[tokio::test]
async fn an_outage_fails_healthz_too() {
    let (fake, client) = start().await;
    let url = format!("{}/healthz", fake.base_url());
    let body: Value = client.get(&url).send().await.unwrap().json().await.unwrap();
    assert_eq!(body, json!({"status": "ok"}));
    fake.always_fail(503);
    assert_eq!(client.get(&url).send().await.unwrap().status(), 503);
    fake.fix();
    assert_eq!(client.get(&url).send().await.unwrap().status(), 200);
}

#[tokio::test]
async fn the_token_bucket_refills() {
    let fake = FakePartner::start(
        FakePartnerConfig::new()
            .bearer_token(TOKEN)
            .rate_limit(1, 20.0),
    )
    .await
    .unwrap();
    let client = reqwest::Client::new();
    assert_eq!(post(&client, &fake, Some("r1"), r#"{"a":1}"#).await.0, 201);
    let (status, headers, body) = post(&client, &fake, Some("r2"), r#"{"a":2}"#).await;
    assert_eq!(status, 429);
    assert_eq!(headers["retry-after"], "1");
    assert_eq!(body["error"]["code"], "rate_limited");
    // One token every 50 ms: the bucket has one again soon. A refused request takes no token,
    // so ask until it is accepted (bounded), rather than sleeping for a guess.
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    loop {
        match post(&client, &fake, Some("r2"), r#"{"a":2}"#).await.0 {
            201 => break,
            429 if std::time::Instant::now() < deadline => tokio::task::yield_now().await,
            other => panic!("the bucket did not refill: {other}"),
        }
    }
    fake.set_rate_limit(Some(RateLimit {
        burst: 0,
        per_second: 0.0,
    }));
    assert_eq!(post(&client, &fake, Some("r3"), r#"{"a":3}"#).await.0, 429);
    fake.set_rate_limit(None);
    assert_eq!(post(&client, &fake, Some("r3"), r#"{"a":3}"#).await.0, 201);
}

#[tokio::test]
async fn the_listing_pages_through_applied_documents() {
    let (fake, client) = start().await;
    for i in 0..5 {
        let body = json!({"sku": format!("S{i}"), "name": "n"}).to_string();
        assert_eq!(
            post(&client, &fake, Some(&format!("l{i}")), &body).await.0,
            201
        );
    }
    let mut cursor: Option<String> = None;
    let mut seen = Vec::new();
    let mut pages = 0;
    loop {
        let mut req = client
            .get(docs_url(&fake))
            .bearer_auth(TOKEN)
            .query(&[("limit", "2")]);
        if let Some(c) = &cursor {
            req = req.query(&[("cursor", c)]);
        }
        let body: Value = req.send().await.unwrap().json().await.unwrap();
        pages += 1;
        for d in body["data"].as_array().unwrap() {
            seen.push(d["document"]["sku"].as_str().unwrap().to_owned());
            assert!(d["idempotency_key"].as_str().unwrap().starts_with('l'));
        }
        match body["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => {
                assert!(body["next_cursor"].is_null());
                break;
            }
        }
    }
    assert_eq!(pages, 3);
    assert_eq!(seen, vec!["S0", "S1", "S2", "S3", "S4"]);

    for bad in [
        ("limit", "0"),
        ("limit", "5000"),
        ("limit", "x"),
        ("cursor", "zz"),
    ] {
        let resp = client
            .get(docs_url(&fake))
            .bearer_auth(TOKEN)
            .query(&[bad])
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 400, "{bad:?}");
    }
}

#[tokio::test]
async fn reset_forgets_and_shutdown_stops_serving() {
    let (fake, client) = start().await;
    assert_eq!(
        post(&client, &fake, Some("z"), r#"{"sku":"a","name":"b"}"#)
            .await
            .0,
        201
    );
    fake.reset();
    assert_eq!(fake.stats().deliveries, 0);
    assert!(fake.applied().is_empty());
    let url = format!("{}/healthz", fake.base_url());
    fake.shutdown().await;
    let fresh = reqwest::Client::new();
    assert!(
        fresh.get(&url).send().await.is_err(),
        "the fake still answers after shutdown"
    );
}

/// `GET /v1/records` with the token, `query` appended; status and body.
async fn records(client: &reqwest::Client, fake: &FakePartner, query: &str) -> (u16, Value) {
    let resp = client
        .get(format!("{}/v1/records?{query}", fake.base_url()))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    (status, resp.json::<Value>().await.unwrap_or(Value::Null))
}

fn skus(page: &Value) -> Vec<&str> {
    page["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["sku"].as_str().unwrap())
        .collect()
}

#[tokio::test]
async fn seeded_records_page_by_keyset_cursor_through_changes() {
    let (fake, client) = start().await;
    fake.seed_records(
        "items",
        ["a", "b", "c", "d", "e"]
            .iter()
            .map(|s| json!({"sku": s, "v": 1}))
            .collect(),
    );
    // No token, or a wrong one: refused like every other endpoint.
    let resp = client
        .get(format!("{}/v1/records?collection=items", fake.base_url()))
        .bearer_auth("nope")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
    let (status, first) = records(&client, &fake, "collection=items&limit=2").await;
    assert_eq!((status, skus(&first)), (200, vec!["a", "b"]));
    let cursor = first["next_cursor"].as_str().unwrap().to_owned();
    // Between two pages a record before the cursor is removed, one after it changes and one
    // is added: the next pages neither skip nor repeat one, and show the change.
    assert_eq!(fake.remove_record("items", "sku", &json!("a")), 1);
    fake.put_record("items", "sku", json!({"sku": "d", "v": 2}));
    fake.put_record("items", "sku", json!({"sku": "f", "v": 1}));
    let (_, second) = records(
        &client,
        &fake,
        &format!("collection=items&limit=2&cursor={cursor}"),
    )
    .await;
    assert_eq!(skus(&second), vec!["c", "d"]);
    assert_eq!(second["data"][1]["v"], 2);
    let cursor = second["next_cursor"].as_str().unwrap().to_owned();
    let (_, last) = records(
        &client,
        &fake,
        &format!("collection=items&limit=2&cursor={cursor}"),
    )
    .await;
    assert_eq!(
        (skus(&last), &last["next_cursor"]),
        (vec!["e", "f"], &Value::Null)
    );
    // What a real API refuses.
    assert_eq!(records(&client, &fake, "limit=2").await.0, 400);
    assert_eq!(
        records(&client, &fake, "collection=items&limit=0").await.0,
        400
    );
    assert_eq!(
        records(&client, &fake, "collection=items&cursor=o3")
            .await
            .0,
        400
    );
    assert_eq!(records(&client, &fake, "collection=nope").await.0, 404);
    let asked = fake.page_requests();
    assert_eq!(asked.len(), 8);
    assert_eq!(asked[0].status, 401);
    assert_eq!(asked[2].cursor.as_deref(), Some(cursor_of(&first)));
}

fn cursor_of(page: &Value) -> &str {
    page["next_cursor"].as_str().unwrap()
}

#[tokio::test]
async fn record_pages_fail_mid_way_on_demand_and_obey_the_rate_limit() {
    let (fake, client) = start().await;
    fake.seed_records(
        "items",
        (0..10).map(|i| json!({"sku": i.to_string()})).collect(),
    );
    fake.fail_pages_after(2, 503);
    assert_eq!(
        records(&client, &fake, "collection=items&limit=3").await.0,
        200
    );
    assert_eq!(
        records(&client, &fake, "collection=items&limit=3&cursor=k3")
            .await
            .0,
        200
    );
    let (status, body) = records(&client, &fake, "collection=items&limit=3&cursor=k6").await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (503, Some("service_unavailable"))
    );
    fake.fix();
    let (status, body) = records(&client, &fake, "collection=items&limit=3&cursor=k6").await;
    assert_eq!((status, skus(&body)), (200, vec!["6", "7", "8"]));
    fake.set_rate_limit(Some(RateLimit {
        burst: 1,
        per_second: 0.5,
    }));
    assert_eq!(records(&client, &fake, "collection=items").await.0, 200);
    let resp = client
        .get(format!("{}/v1/records?collection=items", fake.base_url()))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 429);
    assert!(resp.headers().get("retry-after").is_some());
}
