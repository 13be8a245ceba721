//! Bad input gets clear errors in the one shape and writes nothing; the OpenAPI document
//! matches the router; health, readiness and metrics.

use crate::common::{code, hub_scopes, json, spawn, spawn_with};
use reqwest::Method;
use serde_json::{json, Value};
use sqlx::PgPool;
use std::collections::BTreeSet;
use switchyard_api::ApiConfig;

#[sqlx::test(migrator = "switchyard_store::MIGRATOR")]
async fn malformed_oversized_and_unknown_input_is_refused_and_writes_nothing(pool: PgPool) {
    let app = spawn_with(
        pool,
        ApiConfig {
            body_limit_bytes: 1024,
            ..ApiConfig::default()
        },
    )
    .await;
    let key = app.key("a", &hub_scopes()).await;
    let url = format!("{}/api/v1/jobs", app.base);
    let send = |body: &'static str, content_type: &'static str| {
        app.client
            .post(&url)
            .bearer_auth(&key)
            .header("content-type", content_type)
            .body(body)
            .send()
    };

    // Malformed JSON: 400 with the parser's line and column.
    let (status, b) = json(
        send(
            "{\n  \"kind\": \"noop\",\n  \"payload\": {\"a\": 1,}\n}",
            "application/json",
        )
        .await
        .unwrap(),
    )
    .await;
    assert_eq!((status, code(&b)), (400, "malformed_json"), "{b}");
    assert_eq!(b["error"]["details"], json!({"line": 3, "column": 22}));
    assert!(
        b["error"]["message"]
            .as_str()
            .unwrap()
            .contains("line 3 column 22"),
        "{b}"
    );

    // Well-formed but wrong: 422 naming the field.
    let (status, b) = json(send("{\"kind\": 7}", "application/json").await.unwrap()).await;
    assert_eq!((status, code(&b)), (422, "validation_failed"));
    assert!(
        b["error"]["message"]
            .as_str()
            .unwrap()
            .contains("invalid type"),
        "{b}"
    );
    let (status, b) = json(
        send("{\"kind\": \"noop\", \"prio\": 1}", "application/json")
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 422);
    assert!(
        b["error"]["message"]
            .as_str()
            .unwrap()
            .contains("unknown field `prio`"),
        "{b}"
    );

    // Wrong content type: 415.
    let (status, b) = json(send("{\"kind\": \"noop\"}", "text/plain").await.unwrap()).await;
    assert_eq!((status, code(&b)), (415, "unsupported_media_type"));

    // Over the limit: 413 in the shape, with the limit.
    let big = json!({"kind": "noop", "payload": {"blob": "x".repeat(2000)}});
    let (status, b) = json(app.post("/api/v1/jobs", &key, big).await).await;
    assert_eq!((status, code(&b)), (413, "payload_too_large"));
    assert_eq!(b["error"]["details"]["limit_bytes"], 1024);
    // Also without a Content-Length: a chunked body over raw TCP, cut off at the limit.
    let (status, text) = chunked_post(&app.base, "/api/v1/jobs", &key, 3000).await;
    assert_eq!(status, 413, "{text}");
    assert!(text.contains("payload_too_large"), "{text}");

    // Unknown kind: 422 listing the known ones.
    let (status, b) = json(
        app.post("/api/v1/jobs", &key, json!({"kind": "catalog.pul"}))
            .await,
    )
    .await;
    assert_eq!((status, code(&b)), (422, "unknown_job_kind"));
    assert_eq!(
        b["error"]["details"]["known"],
        json!(["catalog.push", "noop"])
    );
    assert!(b["error"]["message"]
        .as_str()
        .unwrap()
        .contains("catalog.pul"));

    // A bad id in the path, a bad query, an unknown route, a wrong method.
    let (status, b) = json(app.get("/api/v1/jobs/not-a-uuid", &key).await).await;
    assert_eq!((status, code(&b)), (400, "bad_request"));
    let (status, b) = json(app.get("/api/v1/jobs?state=sleeping", &key).await).await;
    assert_eq!((status, code(&b)), (400, "bad_request"));
    assert!(
        b["error"]["message"].as_str().unwrap().contains("sleeping"),
        "{b}"
    );
    let (status, b) = json(app.get("/api/v1/jobs?limit=100000", &key).await).await;
    assert_eq!((status, code(&b)), (422, "validation_failed"));
    let (status, b) = json(app.get("/api/v1/nothing-here", &key).await).await;
    assert_eq!((status, code(&b)), (404, "not_found"));
    let (status, b) = json(
        app.call(Method::PUT, "/api/v1/jobs", Some(&key), None)
            .await,
    )
    .await;
    assert_eq!((status, code(&b)), (405, "method_not_allowed"));
    // ... with the methods it allows, and in the audit log like every other call.
    let resp = app
        .call(Method::PUT, "/api/v1/jobs", Some(&key), None)
        .await;
    let allow = resp.headers()["allow"].to_str().unwrap().to_owned();
    assert!(allow.contains("GET") && allow.contains("POST"), "{allow}");
    assert_eq!(
        app.count(
            "SELECT count(*) FROM integration_logs
             WHERE event_type = 'PUT /api/v1/jobs' AND http_status = 405"
        )
        .await,
        2
    );

    // A malformed key request creates no key either.
    let keys_before = app.count("SELECT count(*) FROM api_keys").await;
    let resp = app
        .client
        .post(format!("{}/api/v1/keys", app.base))
        .bearer_auth(&key)
        .header("content-type", "application/json")
        .body("{\"name\": \"x\", \"scopes\": [\"read:logs\"]")
        .send()
        .await
        .unwrap();
    let (status, b) = json(resp).await;
    assert_eq!((status, code(&b)), (400, "malformed_json"));
    assert_eq!(
        app.count("SELECT count(*) FROM api_keys").await,
        keys_before
    );

    // None of it enqueued anything.
    assert_eq!(app.count("SELECT count(*) FROM jobs").await, 0);
}

/// POST a JSON body of about `size` bytes with `Transfer-Encoding: chunked` (no
/// Content-Length), in 100-byte chunks; returns the status and the raw response.
async fn chunked_post(base: &str, path: &str, key: &str, size: usize) -> (u16, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let addr = base.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {key}\r\n\
         Content-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let body = format!(
        "{{\"kind\":\"noop\",\"payload\":{{\"blob\":\"{}\"}}}}",
        "x".repeat(size)
    );
    for chunk in body.as_bytes().chunks(100) {
        let framed = [format!("{:x}\r\n", chunk.len()).as_bytes(), chunk, b"\r\n"].concat();
        // The server may answer and close before the whole body is sent.
        if stream.write_all(&framed).await.is_err() {
            break;
        }
    }
    let _ = stream.write_all(b"0\r\n\r\n").await;
    let mut response = Vec::new();
    let _ = stream.read_to_end(&mut response).await;
    let text = String::from_utf8_lossy(&response).into_owned();
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    (status, text)
}

/// Every (method, path) the API serves, as the document must list it.
fn expected_routes() -> BTreeSet<(String, String)> {
    [
        ("get", "/healthz"),
        ("get", "/readyz"),
        ("get", "/metrics"),
        ("get", "/api/v1/openapi.json"),
        ("post", "/api/v1/keys"),
        ("get", "/api/v1/keys"),
        ("get", "/api/v1/keys/{id}"),
        ("patch", "/api/v1/keys/{id}"),
        ("post", "/api/v1/keys/{id}/suspend"),
        ("post", "/api/v1/keys/{id}/reactivate"),
        ("post", "/api/v1/keys/{id}/revoke"),
        ("post", "/api/v1/keys/{id}/regenerate"),
        ("get", "/api/v1/scopes"),
        ("get", "/api/v1/logs"),
        ("get", "/api/v1/logs/stats"),
        ("get", "/api/v1/logs/{id}"),
        ("get", "/api/v1/jobs"),
        ("post", "/api/v1/jobs"),
        ("get", "/api/v1/jobs/{id}"),
        ("get", "/api/v1/retry-queue"),
        ("post", "/api/v1/retry-queue/{id}/retry"),
        ("post", "/api/v1/retry-queue/{id}/skip"),
        ("post", "/api/v1/retry-queue/retry"),
        ("get", "/api/v1/dead-letters"),
        ("get", "/api/v1/dead-letters/{id}"),
        ("delete", "/api/v1/dead-letters/{id}"),
        ("post", "/api/v1/dead-letters/{id}/replay"),
        ("post", "/api/v1/dead-letters/replay"),
        ("get", "/api/v1/orders"),
        ("post", "/api/v1/orders"),
        ("get", "/api/v1/orders/{id}"),
        ("post", "/api/v1/orders/{id}/shipments"),
        ("get", "/api/v1/orders/{id}/shipments"),
        ("patch", "/api/v1/orders/{id}/shipments/{shipment_id}"),
        ("post", "/api/v1/orders/{id}/hold"),
        ("post", "/api/v1/orders/{id}/release"),
        ("post", "/api/v1/orders/{id}/cancel"),
        ("post", "/api/v1/invoices"),
        ("get", "/api/v1/invoices"),
        ("get", "/api/v1/invoices/{id}"),
        ("patch", "/api/v1/orders/{id}"),
        ("post", "/api/v1/orders/{id}/forward"),
        ("put", "/api/v1/customers/{customer_id}"),
        (
            "put",
            "/api/v1/customers/{customer_id}/notification-preferences",
        ),
        ("get", "/api/v1/notifications/unsubscribe"),
        ("put", "/api/v1/products/{sku}"),
        ("get", "/api/v1/pricing/products/{sku}"),
        ("post", "/api/v1/pricing/cart"),
        ("put", "/api/v1/pricing/price-lists"),
        ("put", "/api/v1/pricing/list-prices"),
        ("put", "/api/v1/pricing/tiers"),
        ("put", "/api/v1/pricing/customer-tiers"),
        ("put", "/api/v1/pricing/discounts"),
        ("put", "/api/v1/pricing/contracts"),
        ("put", "/api/v1/pricing/volume-breaks"),
        ("put", "/api/v1/pricing/uom-conversions"),
        ("delete", "/api/v1/pricing/list-prices"),
        ("delete", "/api/v1/pricing/tiers"),
        ("delete", "/api/v1/pricing/customer-tiers"),
        ("delete", "/api/v1/pricing/discounts"),
        ("delete", "/api/v1/pricing/contracts"),
        ("delete", "/api/v1/pricing/volume-breaks"),
        ("put", "/api/v1/catalog/products"),
        ("get", "/api/v1/catalog/products"),
        ("get", "/api/v1/catalog/products/{sku}"),
        ("delete", "/api/v1/catalog/products/{sku}"),
        ("get", "/api/v1/catalog/changes"),
        ("get", "/api/v1/catalog/import-templates/{name}"),
        ("post", "/api/v1/catalog/imports"),
        ("get", "/api/v1/catalog/imports/{id}"),
        ("post", "/api/v1/catalog/imports/{id}/confirm"),
        ("get", "/api/v1/imports/templates/{file}"),
        ("post", "/api/v1/imports"),
        ("get", "/api/v1/imports/{id}"),
        ("post", "/api/v1/imports/{id}/confirm"),
        ("get", "/api/v1/inventory/locations"),
        ("put", "/api/v1/inventory/locations/{code}"),
        ("put", "/api/v1/inventory/levels"),
        ("get", "/api/v1/inventory/low-stock-thresholds"),
        ("put", "/api/v1/inventory/low-stock-thresholds"),
        ("get", "/api/v1/inventory/products/{sku}"),
        ("post", "/api/v1/inventory/products:batch"),
        ("post", "/api/v1/inventory/availability-check"),
        ("post", "/api/v1/inventory/reserve"),
        ("get", "/api/v1/inventory/reservations/{id}"),
        ("delete", "/api/v1/inventory/reservations/{id}"),
        ("get", "/api/v1/syncs"),
        ("get", "/api/v1/syncs/{partner}/{entity}"),
        ("post", "/api/v1/syncs/{partner}/{entity}/run"),
        ("get", "/api/v1/pulls"),
        ("get", "/api/v1/pulls/{partner}/{entity}"),
        ("post", "/api/v1/pulls/{partner}/{entity}/run"),
        ("get", "/api/v1/events"),
        ("get", "/api/v1/events/{id}"),
        ("post", "/api/v1/events/{id}/replay"),
        ("post", "/api/v1/exports"),
        ("get", "/api/v1/exports/{name}"),
        ("get", "/api/v1/exports/{id}/download"),
        ("get", "/api/v1/webhooks"),
        ("post", "/api/v1/webhooks"),
        ("get", "/api/v1/webhooks/{id}"),
        ("put", "/api/v1/webhooks/{id}"),
        ("delete", "/api/v1/webhooks/{id}"),
        ("post", "/api/v1/webhooks/{id}/pause"),
        ("post", "/api/v1/webhooks/{id}/resume"),
        ("post", "/api/v1/webhooks/{id}/rotate-secret"),
        ("post", "/api/v1/webhooks/{id}/test"),
        ("get", "/api/v1/webhooks/{id}/attempts"),
        ("post", "/api/v1/webhooks/{id}/recover"),
        ("post", "/api/v1/webhooks/{id}/replay"),
        ("post", "/webhooks/{partner}"),
    ]
    .into_iter()
    .map(|(m, p)| (m.to_owned(), p.to_owned()))
    .collect()
}

fn documented_routes(doc: &Value) -> BTreeSet<(String, String)> {
    let mut found = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            if ["get", "post", "put", "patch", "delete"].contains(&method.as_str()) {
                found.insert((method.clone(), path.clone()));
            }
        }
    }
    found
}

#[sqlx::test(migrator = "switchyard_store::MIGRATOR")]
async fn openapi_document_lists_exactly_the_served_routes(pool: PgPool) {
    let app = spawn(pool).await;
    let resp = app
        .client
        .get(format!("{}/api/v1/openapi.json", app.base))
        .send()
        .await
        .unwrap();
    let (status, doc) = json(resp).await;
    assert_eq!(status, 200);
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    assert_eq!(documented_routes(&doc), expected_routes());
    // The document served equals the one built without a server.
    let offline = switchyard_api::openapi_document(Vec::new());
    assert_eq!(documented_routes(&offline), expected_routes());

    // Both ways of presenting a key are declared and required by default.
    let schemes = &doc["components"]["securitySchemes"];
    assert_eq!(schemes["bearer"]["scheme"], "bearer");
    assert_eq!(schemes["api_key"]["in"], "header");
    assert_eq!(schemes["api_key"]["name"], "X-API-Key");
    assert_eq!(doc["security"], json!([{"bearer": []}, {"api_key": []}]));
    assert!(doc["components"]["schemas"]["ErrorBody"].is_object());

    // The shared error responses, and what the layers answer on every operation they wrap.
    let responses = &doc["components"]["responses"];
    assert!(responses["TooManyRequests"]["headers"]["Retry-After"].is_object());
    assert_eq!(
        responses["NotFound"]["content"]["application/json"]["schema"]["$ref"],
        "#/components/schemas/ErrorBody"
    );
    for (method, path) in documented_routes(&doc) {
        let answers = &doc["paths"][&path][&method]["responses"];
        assert!(answers["408"].is_object(), "{method} {path}: {answers}");
        // The document and the unsubscribe link (its token is the proof) need no key.
        let public = ["/api/v1/openapi.json", "/api/v1/notifications/unsubscribe"];
        if path.starts_with("/api/v1/") && !public.contains(&path.as_str()) {
            for status in ["401", "403", "413", "429", "500"] {
                assert!(
                    answers[status].is_object(),
                    "{method} {path} {status}: {answers}"
                );
            }
        }
    }
    // The served document names the declared scopes; the offline one only their form.
    assert!(doc["components"]["schemas"]["ScopeName"]["enum"]
        .as_array()
        .unwrap()
        .contains(&json!("write:dead-letters")));
    assert!(offline["components"]["schemas"]["ScopeName"]["pattern"].is_string());

    // Every documented route is served: with a full-scope key, none falls through to the
    // router's 404/405 (resource 404s say which resource).
    let key = app.key("a", &hub_scopes()).await;
    let fake = uuid::Uuid::now_v7().to_string();
    for (method, path) in documented_routes(&doc) {
        let url = format!("{}{}", app.base, path.replace("{id}", &fake));
        let method: Method = method.to_uppercase().parse().unwrap();
        let resp = app
            .client
            .request(method.clone(), &url)
            .bearer_auth(&key)
            .header("content-type", "application/json")
            .body("{}")
            .send()
            .await
            .unwrap();
        let status = resp.status().as_u16();
        let text = resp.text().await.unwrap();
        assert_ne!(status, 405, "{method} {path}: {text}");
        assert!(!text.contains("no such route"), "{method} {path}: {text}");
    }
}

#[sqlx::test(migrator = "switchyard_store::MIGRATOR")]
async fn health_readiness_and_metrics(pool: PgPool) {
    let app = spawn(pool).await;
    let get = |path: &'static str| app.client.get(format!("{}{path}", app.base)).send();

    let (status, b) = json(get("/healthz").await.unwrap()).await;
    assert_eq!((status, b["status"].as_str()), (200, Some("ok")));
    let (status, b) = json(get("/readyz").await.unwrap()).await;
    assert_eq!((status, b["status"].as_str()), (200, Some("ready")));

    // A job and an API call, so the metrics have something to show.
    let key = app.key("a", &hub_scopes()).await;
    let (status, _) = json(
        app.post("/api/v1/jobs", &key, json!({"kind": "noop"}))
            .await,
    )
    .await;
    assert_eq!(status, 201);
    let resp = get("/metrics").await.unwrap();
    assert_eq!(resp.status(), 200);
    assert!(resp.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/plain"));
    let text = resp.text().await.unwrap();
    assert!(
        text.contains("switchyard_jobs{state=\"pending\"} 1"),
        "{text}"
    );
    assert!(text.contains("switchyard_jobs{state=\"dead\"} 0"), "{text}");
    assert!(text.contains("switchyard_dead_letters_open 0"), "{text}");
    assert!(
        text.contains(
            "switchyard_api_requests_total{method=\"POST\",route=\"/api/v1/jobs\",status=\"201\"}"
        ),
        "{text}"
    );
    assert!(
        text.contains("switchyard_api_request_duration_seconds_bucket"),
        "{text}"
    );

    // A server-side failure is opaque to the client: no SQL, no table names.
    sqlx::query("ALTER TABLE dead_letters RENAME TO dead_letters_gone")
        .execute(&app.pool)
        .await
        .unwrap();
    let (status, b) = json(app.get("/api/v1/dead-letters", &key).await).await;
    assert_eq!((status, code(&b)), (500, "internal"));
    assert_eq!(b["error"]["message"], "internal error");
    assert!(!b.to_string().contains("dead_letters"), "{b}");
    sqlx::query("ALTER TABLE dead_letters_gone RENAME TO dead_letters")
        .execute(&app.pool)
        .await
        .unwrap();

    // A migration missing from the database: not ready, in the error shape.
    sqlx::query(
        "DELETE FROM _sqlx_migrations WHERE version = (SELECT max(version) FROM _sqlx_migrations)",
    )
    .execute(&app.pool)
    .await
    .unwrap();
    let (status, b) = json(get("/readyz").await.unwrap()).await;
    assert_eq!((status, code(&b)), (503, "unavailable"));
    assert_eq!(
        b["error"]["details"]["missing_migrations"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
}
