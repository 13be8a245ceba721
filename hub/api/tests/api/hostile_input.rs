//! What a fuzzer sends: a NUL in a query parameter, a path or a JSON string, a number no
//! database column holds, a cursor or a time filter Postgres refuses. Each is a 400 or 422
//! in the one error shape (never a 500), and each call still has its integration-log row,
//! with the body escaped. Requests without a valid key are logged without their body (only
//! its first KiB) and are rate limited per client address.

use crate::common::{code, hub_scopes, json, spawn, spawn_with};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use reqwest::Method;
use serde_json::{json, Value};
use sqlx::PgPool;
use switchyard_api::{ApiConfig, RateLimits, TierLimit};

/// The API log rows of the test's one organization, oldest first.
async fn api_rows(pool: &PgPool) -> Vec<(String, i32, Option<Value>)> {
    sqlx::query_as(
        "SELECT event_type, http_status, request_body FROM integration_logs
         WHERE integration_type = 'api' ORDER BY at, id",
    )
    .fetch_all(pool)
    .await
    .unwrap()
}

#[sqlx::test(migrator = "switchyard_store::MIGRATOR")]
async fn nul_anywhere_is_a_400_or_422_and_the_call_is_still_logged(pool: PgPool) {
    let app = spawn(pool.clone()).await;
    let key = app.key("a", &hub_scopes()).await;

    // Query parameters, on every listing that filters by text.
    for path in [
        "/api/v1/jobs?kind=a%00b",
        "/api/v1/logs?q=a%00b",
        "/api/v1/logs?partner=%00",
        "/api/v1/logs?correlation_id=x%00",
        "/api/v1/logs?type=a%00",
        "/api/v1/logs?event_type=a%00b",
        "/api/v1/orders?status=open%00",
        "/api/v1/dead-letters?kind=a%00b",
    ] {
        let (status, b) = json(app.get(path, &key).await).await;
        assert_eq!((status, code(&b)), (400, "bad_request"), "{path}: {b}");
        assert!(
            b["error"]["details"]["parameter"].is_string(),
            "{path}: {b}"
        );
        assert!(
            b["error"]["message"].as_str().unwrap().contains("NUL"),
            "{path}: {b}"
        );
    }
    // Paths.
    for path in ["/api/v1/customers/C%001", "/api/v1/products/S%00"] {
        let body = json!({"name": "n", "description": "d"});
        let (status, b) = json(app.call(Method::PUT, path, Some(&key), Some(body)).await).await;
        assert_eq!((status, code(&b)), (400, "bad_request"), "{path}: {b}");
    }

    // JSON strings: a key's name, a job's payload (however deep), an object key.
    let (status, b) = json(
        app.post(
            "/api/v1/keys",
            &key,
            json!({"name": "a\u{0}b", "scopes": ["read:jobs"]}),
        )
        .await,
    )
    .await;
    assert_eq!((status, code(&b)), (422, "validation_failed"), "{b}");
    assert_eq!(b["error"]["details"]["pointer"], "/name", "{b}");
    let (status, b) = json(
        app.post(
            "/api/v1/jobs",
            &key,
            json!({"kind": "noop", "payload": {"lines": [{"sku\u{0}": 1}]}}),
        )
        .await,
    )
    .await;
    assert_eq!((status, code(&b)), (422, "validation_failed"), "{b}");
    assert_eq!(
        b["error"]["details"]["pointer"], "/payload/lines/0/sku\\u0000",
        "{b}"
    );
    let keys_before = app.count("SELECT count(*) FROM api_keys").await;
    let (status, b) = json(
        app.call(
            Method::PATCH,
            "/api/v1/keys/00000000-0000-0000-0000-000000000000",
            Some(&key),
            Some(json!({"name": "\u{0}"})),
        )
        .await,
    )
    .await;
    assert_eq!(status, 422, "{b}");
    assert_eq!(
        app.count("SELECT count(*) FROM api_keys").await,
        keys_before,
        "nothing was written"
    );

    // Every one of those calls has its row, and the bodies are there, escaped.
    let rows = api_rows(&pool).await;
    assert_eq!(rows.len(), 8 + 2 + 3, "one row per call: {rows:#?}");
    assert!(rows.iter().all(|(_, status, _)| *status < 500), "{rows:#?}");
    let key_body = rows
        .iter()
        .find(|(event, _, _)| event == "POST /api/v1/keys")
        .and_then(|(_, _, body)| body.clone())
        .unwrap_or_else(|| panic!("the key call's row has its body: {rows:#?}"));
    assert_eq!(key_body["name"], "a\\u0000b");
}

#[sqlx::test(migrator = "switchyard_store::MIGRATOR")]
async fn numbers_beyond_any_column_are_422_and_logged_as_text(pool: PgPool) {
    let app = spawn(pool.clone()).await;
    let key = app.key("a", &hub_scopes()).await;
    for (number, pointer) in [
        ("1e999999", "/payload/n"),
        ("-1e400", "/payload/n"),
        ("1e-999999", "/payload/n"),
    ] {
        let resp = app
            .client
            .post(format!("{}/api/v1/jobs", app.base))
            .bearer_auth(&key)
            .header("content-type", "application/json")
            .body(format!(
                r#"{{"kind": "noop", "payload": {{"n": {number}}}}}"#
            ))
            .send()
            .await
            .unwrap();
        let (status, b) = json(resp).await;
        assert_eq!(
            (status, code(&b)),
            (422, "validation_failed"),
            "{number}: {b}"
        );
        assert_eq!(b["error"]["details"]["pointer"], pointer, "{number}: {b}");
        assert!(
            b["error"]["message"]
                .as_str()
                .unwrap()
                .contains("out of range"),
            "{b}"
        );
    }
    let rows = api_rows(&pool).await;
    assert_eq!(rows.len(), 3, "{rows:#?}");
    let logged: Vec<Value> = rows
        .into_iter()
        .map(|(_, _, body)| body.expect("body logged")["payload"]["n"].clone())
        .collect();
    assert_eq!(
        logged,
        // serde_json writes the literal in its own form (`1e+999999`), as text.
        [json!("1e+999999"), json!("-1e+400"), json!("1e-999999")]
    );
    assert_eq!(app.count("SELECT count(*) FROM jobs").await, 0);
}

#[sqlx::test(migrator = "switchyard_store::MIGRATOR")]
async fn cursors_and_times_postgres_refuses_are_422(pool: PgPool) {
    let app = spawn(pool).await;
    let key = app.key("a", &hub_scopes()).await;
    let id = uuid::Uuid::now_v7();
    for micros in ["-8000000000000000000", "8000000000000000000"] {
        let cursor = URL_SAFE_NO_PAD.encode(format!("{micros}:{id}"));
        for listing in ["logs", "orders"] {
            let path = format!("/api/v1/{listing}?cursor={cursor}");
            let (status, b) = json(app.get(&path, &key).await).await;
            assert_eq!(
                (status, code(&b)),
                (422, "validation_failed"),
                "{path}: {b}"
            );
            assert!(
                b["error"]["message"].as_str().unwrap().contains("cursor"),
                "{b}"
            );
        }
    }
    for query in ["from=0000-01-01T00:00:00Z", "to=0000-06-01T00:00:00Z"] {
        for path in ["/api/v1/logs", "/api/v1/logs/stats"] {
            let path = format!("{path}?{query}");
            let (status, b) = json(app.get(&path, &key).await).await;
            assert_eq!(
                (status, code(&b)),
                (422, "validation_failed"),
                "{path}: {b}"
            );
        }
    }
}

#[sqlx::test(migrator = "switchyard_store::MIGRATOR")]
async fn requests_without_a_valid_key_are_logged_without_body_and_limited_per_address(
    pool: PgPool,
) {
    let config = ApiConfig {
        rate_limits: RateLimits {
            unauthenticated: TierLimit {
                per_minute: 1,
                burst: 3,
            },
            ..RateLimits::default()
        },
        ..ApiConfig::default()
    };
    let app = spawn_with(pool.clone(), config).await;
    let key = app.key("a", &hub_scopes()).await;
    let big = json!({"kind": "noop", "payload": {"blob": "x".repeat(5000)}});
    let big_len = serde_json::to_vec(&big).unwrap().len();

    for attempt in 0..3 {
        let (status, b) = json(
            app.call(
                Method::POST,
                "/api/v1/jobs",
                Some("sy_wrong"),
                Some(big.clone()),
            )
            .await,
        )
        .await;
        assert_eq!(
            (status, code(&b)),
            (401, "unauthorized"),
            "attempt {attempt}"
        );
    }
    // The address has spent its budget: 429 with Retry-After, whatever key it brings now.
    let resp = app.call(Method::GET, "/api/v1/jobs", None, None).await;
    let retry_after: u64 = resp.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry_after), "{retry_after}");
    let (status, b) = json(resp).await;
    assert_eq!((status, code(&b)), (429, "rate_limited"), "{b}");
    let (status, _) = json(
        app.call(Method::GET, "/api/v1/jobs", Some("sy_still_wrong"), None)
            .await,
    )
    .await;
    assert_eq!(status, 429);
    // A valid key is not held back by what its address sent without one.
    let (status, _) = json(app.get("/api/v1/jobs", &key).await).await;
    assert_eq!(status, 200);

    let rows = api_rows(&pool).await;
    let statuses: Vec<i32> = rows.iter().map(|(_, s, _)| *s).collect();
    assert_eq!(statuses, [401, 401, 401, 429, 429, 200], "{rows:#?}");
    for (_, _, body) in rows.iter().take(3) {
        let body = body.as_ref().expect("the head of the body is logged");
        assert_eq!(body["unauthenticated"], true);
        assert_eq!(body["bytes"], big_len);
        assert_eq!(body["head"].as_str().unwrap().len(), 1024, "{body}");
    }
}
