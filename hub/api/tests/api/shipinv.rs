//! Orders created over HTTP (idempotent by `Idempotency-Key` and by the customer's PO), their
//! shipments (partial, complete, refused beyond what was ordered) and invoices; the events
//! each records, held to their documented payloads; scopes and tenancy.

use crate::common::{code, json, spawn, TestApp};
use reqwest::Method;
use serde_json::{json, Value};
use switchyard_api::outbound::{check_data, EventType};

async fn seed(app: &TestApp, key: &str) {
    let resp = app
        .call(
            Method::PUT,
            "/api/v1/customers/C1",
            Some(key),
            Some(json!({"name": "Acme Retail"})),
        )
        .await;
    assert_eq!(resp.status().as_u16(), 200);
    for sku in ["BAR-1", "SHEET-2"] {
        let resp = app
            .call(
                Method::PUT,
                &format!("/api/v1/products/{sku}"),
                Some(key),
                Some(json!({"name": sku})),
            )
            .await;
        assert_eq!(resp.status().as_u16(), 204);
    }
}

fn order_body(po: &str) -> Value {
    json!({
        "customer_id": "C1", "customer_po": po, "currency": "USD",
        "shipping_address": {"name": "Dock 4", "city": "Chicago", "country": "US"},
        "lines": [
            {"sku": "BAR-1", "quantity": "5", "unit_price": "10.50"},
            {"sku": "SHEET-2", "quantity": "2", "unit_price": "99", "uom": "EA"}
        ]
    })
}

async fn post_with_key(
    app: &TestApp,
    path: &str,
    key: &str,
    idem: &str,
    body: Value,
) -> (u16, Value, Option<String>) {
    let resp = app
        .client
        .post(format!("{}{path}", app.base))
        .bearer_auth(key)
        .header("Idempotency-Key", idem)
        .json(&body)
        .send()
        .await
        .unwrap();
    let location = resp
        .headers()
        .get("location")
        .map(|v| v.to_str().unwrap().to_owned());
    let (s, b) = json(resp).await;
    (s, b, location)
}

/// Every event so far, each held to its documented payload.
async fn events(app: &TestApp) -> Vec<(String, Value)> {
    let rows: Vec<(String, Value)> = sqlx::query_as("SELECT type, data FROM events ORDER BY id")
        .fetch_all(&app.pool)
        .await
        .unwrap();
    for (t, data) in &rows {
        let ty = EventType::parse(t).unwrap_or_else(|| panic!("undocumented event type {t}"));
        check_data(ty, data).unwrap_or_else(|e| panic!("{t}: {e}: {data}"));
    }
    rows
}

#[sqlx::test(migrator = "switchyard_store::MIGRATOR")]
async fn orders_are_created_once_and_refused_naming_the_field(pool: sqlx::PgPool) {
    let app = spawn(pool).await;
    let key = app.key("a", &["write:orders", "read:orders"]).await;
    seed(&app, &key).await;

    let (s, first, location) =
        post_with_key(&app, "/api/v1/orders", &key, "cart-77", order_body("PO-1")).await;
    assert_eq!(s, 201, "{first}");
    let id = first["id"].as_str().unwrap();
    assert_eq!(
        location.as_deref(),
        Some(format!("/api/v1/orders/{id}").as_str())
    );
    assert_eq!(first["status"], "pending");
    assert_eq!(first["source"], "api");
    assert!(first["order_number"].as_str().unwrap().starts_with("SO-"));
    assert_eq!(first["order"]["lines"][1]["line_number"], 2);
    assert_eq!(first["order"]["shipping_address"]["city"], "Chicago");

    // A retry with the key, and the same order without it (same customer and PO): 200, the
    // same order.
    let (s, again, _) =
        post_with_key(&app, "/api/v1/orders", &key, "cart-77", order_body("PO-1")).await;
    assert_eq!((s, again["id"].as_str()), (200, Some(id)));
    let (s, again) = json(app.post("/api/v1/orders", &key, order_body("PO-1")).await).await;
    assert_eq!((s, again["id"].as_str()), (200, Some(id)), "{again}");
    // The key for another order: 422; the PO with other lines: 409.
    let (s, b, _) =
        post_with_key(&app, "/api/v1/orders", &key, "cart-77", order_body("PO-2")).await;
    assert_eq!((s, code(&b)), (422, "validation_failed"), "{b}");
    assert!(b["error"]["message"]
        .as_str()
        .unwrap()
        .contains("Idempotency-Key"));
    let mut changed = order_body("PO-1");
    changed["lines"][0]["quantity"] = json!("6");
    let (s, b) = json(app.post("/api/v1/orders", &key, changed).await).await;
    assert_eq!((s, code(&b)), (409, "conflict"), "{b}");
    assert!(
        b["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("customer_po"),
        "{b}"
    );
    assert_eq!(app.count("SELECT count(*) FROM orders").await, 1);

    // What the checks refuse, each naming its field; nothing is stored.
    let cases = [
        (json!({"customer_id": "NOPE"}), "customer_id"),
        (
            json!({"lines": [{"sku": "GHOST", "quantity": "1", "unit_price": "1"}]}),
            "lines[0].sku",
        ),
        (
            json!({"lines": [{"sku": "BAR-1", "quantity": "0", "unit_price": "1"}]}),
            "lines[0].quantity",
        ),
        (json!({"currency": "usd"}), "currency"),
        (json!({"lines": []}), "lines"),
    ];
    for (patch, field) in cases {
        let mut body = order_body("PO-BAD");
        for (k, v) in patch.as_object().unwrap() {
            body[k] = v.clone();
        }
        let (s, b) = json(app.post("/api/v1/orders", &key, body).await).await;
        assert_eq!(s, 422, "{field}: {b}");
        let message = b["error"]["message"].as_str().unwrap();
        assert!(message.starts_with(field), "{field}: {message}");
    }
    // An unknown field is refused too.
    let mut body = order_body("PO-BAD");
    body["status"] = json!("shipped");
    let (s, _) = json(app.post("/api/v1/orders", &key, body).await).await;
    assert_eq!(s, 422);
    assert_eq!(app.count("SELECT count(*) FROM orders").await, 1);

    // The scope: read:orders alone cannot create.
    let reader = app.key("a", &["read:orders"]).await;
    let (s, _) = json(
        app.post("/api/v1/orders", &reader, order_body("PO-9"))
            .await,
    )
    .await;
    assert_eq!(s, 403);

    let created: Vec<String> = events(&app)
        .await
        .into_iter()
        .filter(|(t, _)| t == "order.created")
        .map(|(_, d)| d["customer_po"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(created, ["PO-1"]);
}

#[sqlx::test(migrator = "switchyard_store::MIGRATOR")]
async fn shipments_ship_an_order_in_parts_and_record_dispatch_events(pool: sqlx::PgPool) {
    let app = spawn(pool).await;
    let key = app.key("a", &["write:orders", "read:orders"]).await;
    seed(&app, &key).await;
    let (_, order) = json(app.post("/api/v1/orders", &key, order_body("PO-1")).await).await;
    let id = order["id"].as_str().unwrap().to_owned();
    let path = format!("/api/v1/orders/{id}/shipments");

    let first = json!({"shipment_number": "SH-1", "carrier": "UPS", "tracking_number": "1Z999",
        "tracking_url": "https://www.ups.com/track?tracknum=1Z999",
        "lines": [{"sku": "BAR-1", "quantity": "3"}]});
    let (s, b) = json(app.post(&path, &key, first.clone()).await).await;
    assert_eq!(s, 201, "{b}");
    assert_eq!(b["order_status"], "partially_shipped");
    assert_eq!(
        b["lines"],
        json!([{"line_number": 1, "sku": "BAR-1", "quantity": "3"}])
    );
    let (s, again) = json(app.post(&path, &key, first).await).await;
    assert_eq!((s, &again["id"]), (200, &b["id"]));

    // More than is left of BAR-1 (5 − 3): 422 naming the line; nothing stored.
    let (s, e) = json(
        app.post(
            &path,
            &key,
            json!({"shipment_number": "SH-2",
            "lines": [{"sku": "SHEET-2", "quantity": "2"}, {"sku": "BAR-1", "quantity": "2.5"}]}),
        )
        .await,
    )
    .await;
    assert_eq!(s, 422, "{e}");
    assert!(
        e["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("lines[1].quantity"),
        "{e}"
    );
    let (s, e) = json(
        app.post(
            &path,
            &key,
            json!({"shipment_number": "SH-2", "tracking_url": "ftp://x",
            "lines": [{"sku": "BAR-1", "quantity": "1"}]}),
        )
        .await,
    )
    .await;
    assert_eq!(s, 422, "{e}");
    assert!(
        e["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("tracking_url"),
        "{e}"
    );

    let (s, b) = json(
        app.post(
            &path,
            &key,
            json!({"shipment_number": "SH-2", "carrier": "DHL",
            "tracking_number": "JD0001",
            "lines": [{"sku": "SHEET-2", "quantity": "2"}, {"sku": "BAR-1", "quantity": "2"}]}),
        )
        .await,
    )
    .await;
    assert_eq!((s, &b["order_status"]), (201, &json!("shipped")), "{b}");
    let (_, o) = json(app.get(&format!("/api/v1/orders/{id}"), &key).await).await;
    assert_eq!(o["status"], "shipped");
    assert_eq!(o["order"]["tracking_numbers"], json!(["1Z999", "JD0001"]));
    // A shipped order ships no more.
    let (s, e) = json(
        app.post(
            &path,
            &key,
            json!({"shipment_number": "SH-3",
            "lines": [{"sku": "BAR-1", "quantity": "1"}]}),
        )
        .await,
    )
    .await;
    assert_eq!((s, code(&e)), (409, "conflict"), "{e}");

    let (s, list) = json(app.get(&path, &key).await).await;
    assert_eq!(s, 200);
    let numbers: Vec<&str> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["shipment_number"].as_str().unwrap())
        .collect();
    assert_eq!(numbers, ["SH-1", "SH-2"]);

    let dispatched: Vec<Value> = events(&app)
        .await
        .into_iter()
        .filter(|(t, _)| t == "shipment.dispatched")
        .map(|(_, d)| d)
        .collect();
    assert_eq!(dispatched.len(), 2);
    assert_eq!(
        dispatched[0]["tracking_url"],
        "https://www.ups.com/track?tracknum=1Z999"
    );
    assert_eq!(dispatched[1]["carrier"], "DHL");
    assert_eq!(dispatched[1]["order_id"], json!(id));

    // Another organization: 404 for the order's shipments either way.
    let other = app.key("b", &["write:orders", "read:orders"]).await;
    let (s, _) = json(app.get(&path, &other).await).await;
    assert_eq!(s, 404);
    let (s, _) = json(
        app.post(
            &path,
            &other,
            json!({"shipment_number": "SH-9",
            "lines": [{"sku": "BAR-1", "quantity": "1"}]}),
        )
        .await,
    )
    .await;
    assert_eq!(s, 404);
}

#[sqlx::test(migrator = "switchyard_store::MIGRATOR")]
async fn invoices_are_created_listed_and_read(pool: sqlx::PgPool) {
    let app = spawn(pool).await;
    let key = app.key("a", &["write:orders", "read:orders"]).await;
    seed(&app, &key).await;
    let (_, order) = json(app.post("/api/v1/orders", &key, order_body("PO-1")).await).await;
    let order_id = order["id"].as_str().unwrap().to_owned();

    let body = json!({"invoice_number": "FV/1/2026", "order_id": order_id,
        "issue_date": "2026-01-02", "due_date": "2026-01-16",
        "lines": [{"sku": "BAR-1", "quantity": "5", "unit_price": "10.50", "vat_rate": "23"},
                  {"sku": "SHEET-2", "quantity": "2", "unit_price": "99", "vat_rate": "23",
                   "description": "Sheet 304"}]});
    let resp = app.post("/api/v1/invoices", &key, body.clone()).await;
    let location = resp
        .headers()
        .get("location")
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    let (s, inv) = json(resp).await;
    assert_eq!(s, 201, "{inv}");
    // The order's customer and currency; 52.50 + 198 = 250.50 net, 57.62 VAT (12.08 + 45.54).
    assert_eq!(
        (inv["customer_id"].as_str(), inv["currency"].as_str()),
        (Some("C1"), Some("USD"))
    );
    assert_eq!(inv["net_total"], "250.50");
    assert_eq!(inv["vat_total"], "57.62");
    assert_eq!(inv["gross_total"], "308.12");
    assert_eq!(inv["order_number"], order["order_number"]);
    let (s, got) = json(app.get(&location, &key).await).await;
    assert_eq!(
        (s, &got["lines"][1]["description"]),
        (200, &json!("Sheet 304"))
    );

    let (s, again) = json(app.post("/api/v1/invoices", &key, body.clone()).await).await;
    assert_eq!((s, &again["id"]), (200, &inv["id"]));
    let mut other = body.clone();
    other["lines"][0]["quantity"] = json!("4");
    let (s, e) = json(app.post("/api/v1/invoices", &key, other).await).await;
    assert_eq!((s, code(&e)), (409, "conflict"), "{e}");

    // Refusals naming the field.
    let cases = [
        (
            json!({"order_id": null, "invoice_number": "X1"}),
            "customer_id",
        ),
        (
            json!({"invoice_number": "X2", "due_date": "2025-12-31"}),
            "due_date",
        ),
        (
            json!({"invoice_number": "X3", "order_id": null, "customer_id": "C1", "currency": "USD",
                "lines": [{"sku": "GHOST", "quantity": "1", "unit_price": "1", "vat_rate": "0"}]}),
            "lines[0].sku",
        ),
        (
            json!({"invoice_number": "X4", "customer_id": "C2"}),
            "customer_id",
        ),
    ];
    for (patch, field) in cases {
        let mut b = body.clone();
        for (k, v) in patch.as_object().unwrap() {
            b[k] = v.clone();
        }
        let (s, e) = json(app.post("/api/v1/invoices", &key, b).await).await;
        assert_eq!(s, 422, "{field}: {e}");
        assert!(
            e["error"]["message"].as_str().unwrap().starts_with(field),
            "{field}: {e}"
        );
    }

    let (s, page) = json(app.get("/api/v1/invoices?customer_id=C1", &key).await).await;
    assert_eq!(s, 200);
    assert_eq!(page["items"].as_array().unwrap().len(), 1);
    assert_eq!(page["next_cursor"], Value::Null);

    let created: Vec<Value> = events(&app)
        .await
        .into_iter()
        .filter(|(t, _)| t == "invoice.created")
        .map(|(_, d)| d)
        .collect();
    assert_eq!(created.len(), 1);
    assert_eq!(created[0]["gross_total"], "308.12");

    // Another organization sees none of it.
    let other = app.key("b", &["read:orders"]).await;
    let (s, _) = json(app.get(&location, &other).await).await;
    assert_eq!(s, 404);
    let (_, page) = json(app.get("/api/v1/invoices", &other).await).await;
    assert_eq!(page["items"], json!([]));
}

#[sqlx::test(migrator = "switchyard_store::MIGRATOR")]
async fn an_order_is_held_released_to_its_status_and_cancelled(pool: sqlx::PgPool) {
    let app = spawn(pool).await;
    let key = app.key("a", &["write:orders", "read:orders"]).await;
    seed(&app, &key).await;
    let (_, order) = json(app.post("/api/v1/orders", &key, order_body("PO-1")).await).await;
    let id = order["id"].as_str().unwrap().to_owned();
    sqlx::query("UPDATE orders SET status = 'ready' WHERE id = $1::uuid")
        .bind(&id)
        .execute(&app.pool)
        .await
        .unwrap();
    let hold = format!("/api/v1/orders/{id}/hold");
    let release = format!("/api/v1/orders/{id}/release");
    let cancel = format!("/api/v1/orders/{id}/cancel");

    let (s, b) = json(
        app.post(&hold, &key, json!({"reason": " payment check "}))
            .await,
    )
    .await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(
        (&b["status"], &b["held_from"], &b["status_reason"]),
        (&json!("on_hold"), &json!("ready"), &json!("payment check"))
    );
    assert_eq!(b["order"]["status"], "on_hold");
    let (s, again) = json(app.post(&hold, &key, json!({"reason": "again"})).await).await;
    assert_eq!((s, &again["status_reason"]), (200, &json!("payment check")));

    // Held orders do not ship: 409 naming the status.
    let ship = json!({"shipment_number": "SH-1", "lines": [{"sku": "BAR-1", "quantity": "1"}]});
    let (s, b) = json(
        app.post(&format!("/api/v1/orders/{id}/shipments"), &key, ship)
            .await,
    )
    .await;
    assert_eq!((s, code(&b)), (409, "conflict"), "{b}");
    assert!(
        b["error"]["message"]
            .as_str()
            .unwrap()
            .contains("is on_hold"),
        "{b}"
    );

    // Released with no body: back to ready.
    let resp = app.call(Method::POST, &release, Some(&key), None).await;
    let (s, b) = json(resp).await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(
        (&b["status"], &b["held_from"], &b["status_reason"]),
        (&json!("ready"), &Value::Null, &Value::Null)
    );
    // Not on hold: nothing to release.
    let (s, b) = json(app.post(&release, &key, json!({"note": "twice"})).await).await;
    assert_eq!((s, code(&b)), (409, "conflict"), "{b}");
    assert!(
        b["error"]["message"]
            .as_str()
            .unwrap()
            .contains("ready, not on_hold"),
        "{b}"
    );

    // Bad bodies: 422 naming the field; nothing changes.
    for body in [
        json!({}),
        json!({"reason": "  "}),
        json!({"reason": "x", "extra": 1}),
        json!({"reason": "x".repeat(1001)}),
    ] {
        let (s, b) = json(app.post(&hold, &key, body.clone()).await).await;
        assert_eq!((s, code(&b)), (422, "validation_failed"), "{body}: {b}");
    }
    let (s, b) = json(app.post(&cancel, &key, json!({"reason": ""})).await).await;
    assert_eq!(s, 422, "{b}");
    assert!(
        b["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("reason"),
        "{b}"
    );

    // Held again, cancelled while held; then no way back.
    let (s, _) = json(
        app.post(&hold, &key, json!({"reason": "customer called"}))
            .await,
    )
    .await;
    assert_eq!(s, 200);
    let (s, b) = json(
        app.post(&cancel, &key, json!({"reason": "withdrawn"}))
            .await,
    )
    .await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(
        (&b["status"], &b["status_reason"]),
        (&json!("cancelled"), &json!("withdrawn"))
    );
    let (s, b) = json(app.post(&hold, &key, json!({"reason": "late"})).await).await;
    assert_eq!((s, code(&b)), (409, "conflict"), "{b}");
    assert!(
        b["error"]["message"]
            .as_str()
            .unwrap()
            .contains("from cancelled to on_hold"),
        "{b}"
    );

    // Events: the hold and release as order.updated, the cancellation as order.cancelled.
    let steps: Vec<(String, Value, Value)> = events(&app)
        .await
        .into_iter()
        .filter(|(t, _)| t.starts_with("order."))
        .map(|(t, d)| (t, d["previous_status"].clone(), d["status"].clone()))
        .collect();
    let step = |t: &str, from: &str, to: &str| (t.to_owned(), json!(from), json!(to));
    assert_eq!(
        steps,
        [
            ("order.created".to_owned(), Value::Null, json!("pending")),
            step("order.updated", "pending", "ready"),
            step("order.updated", "ready", "on_hold"),
            step("order.updated", "on_hold", "ready"),
            step("order.updated", "ready", "on_hold"),
            step("order.cancelled", "on_hold", "cancelled"),
        ]
    );

    // Unknown order: 404; read:orders alone: 403.
    let (s, _) = json(
        app.post(
            "/api/v1/orders/018f0000-0000-7000-8000-000000000000/hold",
            &key,
            json!({"reason": "x"}),
        )
        .await,
    )
    .await;
    assert_eq!(s, 404);
    let reader = app.key("a", &["read:orders"]).await;
    let (s, _) = json(app.post(&release, &reader, json!({})).await).await;
    assert_eq!(s, 403);
}
