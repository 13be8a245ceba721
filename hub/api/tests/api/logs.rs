//! Integration logs through the API: filters, full text, cursor pages, stats, masking.

use crate::common::{code, json, spawn};
use chrono::{Duration, Utc};
use serde_json::json;
use sqlx::PgPool;
use switchyard_store::logs::{self, Direction, IntegrationType, LogStatus, Masker, NewLogEntry};

#[sqlx::test(migrator = "switchyard_store::MIGRATOR")]
async fn logs_filter_search_page_and_stats(pool: PgPool) {
    let app = spawn(pool).await;
    let org = app.org("a").await;
    let key = app.key("a", &["read:logs"]).await;
    let now = Utc::now();
    let mut rows = Vec::new();
    for i in 0..20 {
        let failed = i % 4 == 0;
        rows.push(NewLogEntry {
            at: now - Duration::minutes(60 - i),
            partner: Some(if i < 12 { "shopify" } else { "optima" }.into()),
            http_status: Some(if failed { 503 } else { 200 }),
            duration_ms: Some((i as i32 + 1) * 10),
            request_body: Some(json!({"order": format!("SO-{i}"), "note": if i == 7 { "forklift pallet" } else { "box" }})),
            error_message: failed.then(|| "partner unavailable".to_owned()),
            ..NewLogEntry::new(
                Some(org),
                IntegrationType::Adapter,
                if i % 2 == 0 { "orders.pull" } else { "inventory.push" },
                Direction::Outbound,
                if failed { LogStatus::Error } else { LogStatus::Success },
            )
        });
    }
    // An old row outside the default stats window.
    rows.push(NewLogEntry {
        at: now - Duration::days(3),
        partner: Some("shopify".into()),
        duration_ms: Some(99_999),
        ..NewLogEntry::new(
            Some(org),
            IntegrationType::Adapter,
            "orders.pull",
            Direction::Outbound,
            LogStatus::Success,
        )
    });
    logs::insert_batch(&app.pool, &Masker::default(), &rows)
        .await
        .unwrap();

    let list = |query: String| {
        let app = &app;
        let key = &key;
        async move {
            json(
                app.get(&format!("/api/v1/logs?type=adapter&{query}"), key)
                    .await,
            )
            .await
        }
    };

    let (status, b) = list("status=error".into()).await;
    assert_eq!(status, 200);
    assert_eq!(b["items"].as_array().unwrap().len(), 5);
    assert!(b["items"]
        .as_array()
        .unwrap()
        .iter()
        .all(|r| r["status"] == "error"));
    let (_, b) = list("partner=optima&event_type=inventory.push".into()).await;
    assert_eq!(b["items"].as_array().unwrap().len(), 4);
    let from = (now - Duration::minutes(45)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let (_, b) = list(format!("from={from}")).await;
    assert_eq!(b["items"].as_array().unwrap().len(), 5);
    let (_, b) = list("q=forklift".into()).await;
    assert_eq!(b["items"].as_array().unwrap().len(), 1);
    assert_eq!(b["items"][0]["request_body"]["order"], "SO-7");
    let (_, b) = list("q=%22partner%20unavailable%22".into()).await;
    assert_eq!(b["items"].as_array().unwrap().len(), 5);

    // Cursor pages: newest first, every row once.
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let query = match &cursor {
            Some(c) => format!("limit=6&cursor={c}"),
            None => "limit=6".into(),
        };
        let (status, b) = list(query).await;
        assert_eq!(status, 200);
        for r in b["items"].as_array().unwrap() {
            seen.push(chrono::DateTime::parse_from_rfc3339(r["at"].as_str().unwrap()).unwrap());
        }
        match b["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    assert_eq!(seen.len(), 21);
    let mut sorted = seen.clone();
    sorted.sort();
    sorted.reverse();
    assert_eq!(seen, sorted, "newest first");
    let (status, b) = list("cursor=garbage".into()).await;
    assert_eq!((status, code(&b)), (422, "validation_failed"));

    // One row by id.
    let (_, b) = list("q=forklift".into()).await;
    let id = b["items"][0]["id"].as_str().unwrap().to_owned();
    let (status, row) = json(app.get(&format!("/api/v1/logs/{id}"), &key).await).await;
    assert_eq!(
        (status, row["event_type"].as_str()),
        (200, Some("inventory.push"))
    );

    // Stats over the default window (24 h): the 3-day-old row is out.
    let (status, stats) = json(app.get("/api/v1/logs/stats?type=adapter", &key).await).await;
    assert_eq!(status, 200, "{stats}");
    let partners = stats["partners"].as_array().unwrap();
    let shopify = partners.iter().find(|p| p["partner"] == "shopify").unwrap();
    assert_eq!(shopify["total"], 12);
    assert_eq!(shopify["error"], 3);
    assert_eq!(shopify["success_rate"], 0.75);
    assert_eq!(shopify["p50_ms"], 65.0);
    let optima = partners.iter().find(|p| p["partner"] == "optima").unwrap();
    assert_eq!(
        (optima["total"].as_i64(), optima["error"].as_i64()),
        (Some(8), Some(2))
    );
    assert!(
        (optima["p95_ms"].as_f64().unwrap() - 196.5).abs() < 1e-9,
        "{optima}"
    );
}

#[sqlx::test(migrator = "switchyard_store::MIGRATOR")]
async fn api_calls_are_logged_with_secrets_masked(pool: PgPool) {
    let app = spawn_masking(pool).await;
    let org = app.org("a").await;
    let key = app.key("a", &["write:jobs", "read:logs"]).await;
    let resp = app
        .client
        .post(format!("{}/api/v1/jobs", app.base))
        .bearer_auth(&key)
        .header("X-Correlation-Id", "trace-77")
        .json(&json!({"kind": "noop", "payload": {"user": "ann", "password": "hunter2", "iban": "DE89", "auth": {"api_key": "k-1"}}}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 201);
    assert_eq!(resp.headers()["x-correlation-id"], "trace-77");

    let (status, b) = json(
        app.get("/api/v1/logs?type=api&correlation_id=trace-77", &key)
            .await,
    )
    .await;
    assert_eq!(status, 200);
    let row = &b["items"][0];
    assert_eq!(row["event_type"], "POST /api/v1/jobs");
    assert_eq!(row["direction"], "inbound");
    assert_eq!(row["status"], "success");
    assert_eq!(row["http_status"], 201);
    assert_eq!(
        row["request_body"]["payload"],
        json!({"user": "ann", "password": "***", "iban": "***", "auth": {"api_key": "***"}})
    );
    // Nothing unmasked anywhere in the table.
    let leaked: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM integration_logs WHERE org_id = $1
           AND (request_body::text LIKE '%hunter2%' OR request_body::text LIKE '%DE89%' OR request_body::text LIKE '%k-1%')",
    )
    .bind(org.0)
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(leaked, 0);

    // A refused call is logged too (no org: the key was not accepted).
    let resp = app
        .client
        .get(format!("{}/api/v1/jobs", app.base))
        .header("X-Correlation-Id", "trace-401")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
    let (org_id, status, http): (Option<uuid::Uuid>, String, i32) = sqlx::query_as(
        "SELECT org_id, status, http_status FROM integration_logs WHERE correlation_id = 'trace-401'",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!((org_id, status.as_str(), http), (None, "warning", 401));

    // So is a call to a path that does not exist.
    let resp = app
        .client
        .get(format!("{}/api/v1/no-such-thing", app.base))
        .header("X-Correlation-Id", "trace-404")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 404);
    let event: String = sqlx::query_scalar(
        "SELECT event_type FROM integration_logs WHERE correlation_id = 'trace-404' AND http_status = 404",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(event, "GET /api/v1/no-such-thing");
}

async fn spawn_masking(pool: PgPool) -> crate::common::TestApp {
    crate::common::spawn_with(
        pool,
        switchyard_api::ApiConfig {
            sensitive_fields: vec!["iban".into()],
            ..Default::default()
        },
    )
    .await
}
