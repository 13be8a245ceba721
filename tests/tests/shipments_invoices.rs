//! Shipments and invoices end to end (issues #14, #16, #17): through the daemon's API an order
//! is created, shipped in two parts and invoiced; a subscribed endpoint on loopback receives
//! `shipment.dispatched` (with the tracking a storefront passes on) and `invoice.created` over
//! real HTTP from the worker; the synchronous exports of both entities hold what was recorded
//! and nothing of another organization.

use axum::extract::State;
use reqwest::Method;
use serde_json::{json, Value};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use switchyard_daemon::app::Roles;
use switchyard_e2e::{eventually, TestDaemon};

const WAIT: Duration = Duration::from_secs(30);

/// Every webhook body posted to it, parsed.
async fn receiver() -> (String, Arc<Mutex<Vec<Value>>>) {
    let got = Arc::new(Mutex::new(Vec::new()));
    async fn take(State(got): State<Arc<Mutex<Vec<Value>>>>, body: axum::body::Bytes) {
        got.lock()
            .unwrap()
            .push(serde_json::from_slice(&body).unwrap_or(Value::Null));
    }
    let app = axum::Router::new()
        .route("/hook", axum::routing::post(take))
        .with_state(got.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, got)
}

async fn call(
    d: &TestDaemon,
    key: &str,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> anyhow::Result<Value> {
    let (status, b) = d.call(method, path, Some(key), body).await?;
    anyhow::ensure!((200..300).contains(&status), "{path}: {status} {b}");
    Ok(b)
}

#[tokio::test]
async fn an_order_shipped_in_parts_and_invoiced_reaches_subscribers_and_exports(
) -> anyhow::Result<()> {
    let d = TestDaemon::builder()
        .toml("[webhooks]\nallow_http_hosts = [\"127.0.0.1\"]\nallow_private = [\"127.0.0.1\"]\n")
        .roles(Roles::default())
        .start()
        .await?;
    let (url, got) = receiver().await;
    let key = d
        .key("acme", &["write:orders", "read:orders", "write:webhooks"])
        .await?;
    call(
        &d,
        &key,
        Method::POST,
        "/api/v1/webhooks",
        Some(json!({"name": "shop", "url": url,
        "events": ["shipment.dispatched", "invoice.created"]})),
    )
    .await?;
    call(
        &d,
        &key,
        Method::PUT,
        "/api/v1/customers/C1",
        Some(json!({"name": "Acme Retail"})),
    )
    .await?;
    for sku in ["BAR-1", "SHEET-2"] {
        call(
            &d,
            &key,
            Method::PUT,
            &format!("/api/v1/products/{sku}"),
            Some(json!({"name": sku})),
        )
        .await?;
    }

    let order = call(
        &d,
        &key,
        Method::POST,
        "/api/v1/orders",
        Some(json!({
        "order_number": "SO-1001", "customer_id": "C1", "customer_po": "PO-77", "currency": "USD",
        "lines": [{"sku": "BAR-1", "quantity": "4", "unit_price": "12"},
                  {"sku": "SHEET-2", "quantity": "1", "unit_price": "80"}]})),
    )
    .await?;
    let id = order["id"].as_str().unwrap();
    let shipments = format!("/api/v1/orders/{id}/shipments");
    let first = call(&d, &key, Method::POST, &shipments, Some(json!({"shipment_number": "SH-1",
        "carrier": "UPS", "tracking_number": "1Z999AA1", "tracking_url": "https://ups.example/1Z999AA1",
        "lines": [{"sku": "BAR-1", "quantity": "4"}]}))).await?;
    assert_eq!(first["order_status"], "partially_shipped");
    let second = call(&d, &key, Method::POST, &shipments, Some(json!({"shipment_number": "SH-2",
        "carrier": "DHL", "tracking_number": "JD01", "lines": [{"sku": "SHEET-2", "quantity": "1"}]}))).await?;
    assert_eq!(second["order_status"], "shipped");
    call(
        &d,
        &key,
        Method::POST,
        "/api/v1/invoices",
        Some(json!({"invoice_number": "INV-1001",
        "order_id": id, "issue_date": "2026-02-01",
        "lines": [{"sku": "BAR-1", "quantity": "4", "unit_price": "12", "vat_rate": "10"},
                  {"sku": "SHEET-2", "quantity": "1", "unit_price": "80", "vat_rate": "10"}]})),
    )
    .await?;

    eventually(WAIT, "three deliveries", || async {
        Ok(got.lock().unwrap().len() >= 3)
    })
    .await?;
    let bodies = got.lock().unwrap().clone();
    let of = |event: &str| -> Vec<Value> {
        bodies
            .iter()
            .filter(|b| b["event"] == event)
            .map(|b| b["data"].clone())
            .collect()
    };
    let mut tracking: Vec<String> = of("shipment.dispatched")
        .iter()
        .map(|d| {
            format!(
                "{}:{}",
                d["carrier"].as_str().unwrap(),
                d["tracking_number"].as_str().unwrap()
            )
        })
        .collect();
    tracking.sort();
    assert_eq!(tracking, ["DHL:JD01", "UPS:1Z999AA1"]);
    let invoice = &of("invoice.created")[0];
    assert_eq!(
        (
            invoice["order_number"].as_str(),
            invoice["gross_total"].as_str()
        ),
        (Some("SO-1001"), Some("140.80"))
    );

    // The exports hold what was recorded; another organization's export is empty.
    let rows = call(
        &d,
        &key,
        Method::GET,
        "/api/v1/exports/shipments.json",
        None,
    )
    .await?;
    let numbers: Vec<&str> = rows
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["shipment_number"].as_str().unwrap())
        .collect();
    assert_eq!(numbers.len(), 2);
    assert!(rows
        .as_array()
        .unwrap()
        .iter()
        .all(|r| r["order"]["number"] == "SO-1001"));
    let rows = call(&d, &key, Method::GET, "/api/v1/exports/invoices.json", None).await?;
    assert_eq!(rows[0]["lines"].as_array().unwrap().len(), 2);
    assert_eq!(rows[0]["customer"]["name"], "Acme Retail");
    let other = d.key("other", &["read:orders"]).await?;
    for entity in ["shipments", "invoices"] {
        let rows = call(
            &d,
            &other,
            Method::GET,
            &format!("/api/v1/exports/{entity}.json"),
            None,
        )
        .await?;
        assert_eq!(rows, json!([]), "{entity}");
    }
    d.stop().await
}
