//! Orders over HTTP: reference data upserts, listing pending_review orders with keyset pages,
//! one order with its located review errors and source message, an admin's PATCH (re-checked
//! at once). Reprocessing belongs to the EDI integration and is tested with its routes.

use crate::common::{code, json, spawn, StubAdmission, TestApp};
use reqwest::Method;
use serde_json::{json, Value};
use switchyard_core::ids::OrgId;
use switchyard_core::model::{Order, OrderLine, OrderStatus, Uom};
use switchyard_store::orders::{self as store, ErrorLocation, NewOrder, OrderInsert, ReviewError};

fn order(po: &str, customer: &str, lines: &[(&str, i64)]) -> Order {
    Order {
        order_number: format!("SO-{po}"),
        customer_id: customer.into(),
        status: OrderStatus::PendingReview,
        currency: "USD".into(),
        ordered_at: chrono::NaiveDate::from_ymd_opt(2026, 3, 1)
            .and_then(|d| d.and_hms_opt(0, 0, 0))
            .map(|t| t.and_utc()),
        requested_delivery: chrono::NaiveDate::from_ymd_opt(2026, 3, 15),
        lines: lines
            .iter()
            .enumerate()
            .map(|(i, (sku, q))| OrderLine {
                buyer_line: None,
                buyer_part: None,
                gtin: None,
                line_number: i as u32 + 1,
                sku: (*sku).into(),
                description: None,
                quantity: (*q).into(),
                uom: Uom::Ea,
                unit_price: 5.into(),
                requested_date: None,
            })
            .collect(),
        billing_address: None,
        shipping_address: None,
        supplier_order_ref: None,
        customer_po: Some(po.into()),
        tracking_numbers: Vec::new(),
        parties: Vec::new(),
    }
}

async fn stored(
    app: &TestApp,
    org: OrgId,
    o: &Order,
    status: OrderStatus,
    errors: Vec<ReviewError>,
) -> String {
    let new = NewOrder {
        org,
        order_number: o.order_number.clone(),
        customer_id: Some(o.customer_id.clone()),
        customer_po: o.customer_po.clone().unwrap(),
        status,
        canonical: serde_json::to_value(o).unwrap(),
        source_message_id: None,
        partner: Some("acme".into()),
        source_set: Some("0001".into()),
        mapped: None,
        mapping_hash: None,
        review_errors: errors,
        reply_to: Some(json!({"partner": "acme"})),
    };
    match store::insert_order(&app.pool, &new).await.unwrap() {
        OrderInsert::Stored(id) => id.to_string(),
        other => panic!("{other:?}"),
    }
}

async fn put(app: &TestApp, path: &str, key: &str, body: Value) -> (u16, Value) {
    let resp = app.call(Method::PUT, path, Some(key), Some(body)).await;
    let status = resp.status().as_u16();
    let text = resp.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

async fn seed_reference(app: &TestApp, key: &str) {
    let (s, b) = put(
        app,
        "/api/v1/customers/C-ACME",
        key,
        json!({"name": "Acme Retail", "edi_ids": [{"qualifier": "92", "id": "0001"}]}),
    )
    .await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(b["edi_ids"][0]["id"], "0001");
    for sku in ["BAR-A36-1", "SHEET-304-16GA"] {
        let (s, b) = put(
            app,
            &format!("/api/v1/products/{sku}"),
            key,
            json!({"name": sku, "uom": "EA"}),
        )
        .await;
        assert_eq!(s, 204, "{b}");
    }
}

#[sqlx::test(migrator = "switchyard_store::MIGRATOR")]
async fn reference_data_is_validated_and_identifiers_are_unique(pool: sqlx::PgPool) {
    let app = spawn(pool).await;
    let org = app.org("a").await;
    let key = app.key("a", &["write:orders"]).await;
    seed_reference(&app, &key).await;
    assert_eq!(
        store::customer_by_party(&app.pool, org, "92", "0001")
            .await
            .unwrap()
            .as_deref(),
        Some("C-ACME")
    );
    // Another customer claiming ACME's identifier: 409, naming it.
    let (s, b) = put(
        &app,
        "/api/v1/customers/C-OTHER",
        &key,
        json!({"name": "Other", "edi_ids": [{"qualifier": "92", "id": "0001"}]}),
    )
    .await;
    assert_eq!((s, code(&b)), (409, "conflict"), "{b}");
    assert!(
        b["error"]["message"].as_str().unwrap().contains("92/0001"),
        "{b}"
    );
    let (s, b) = put(
        &app,
        "/api/v1/products/X",
        &key,
        json!({"name": "X", "uom": "BOX"}),
    )
    .await;
    assert_eq!((s, code(&b)), (422, "validation_failed"), "{b}");
    let (s, b) = put(
        &app,
        "/api/v1/products/X",
        &key,
        json!({"name": "X", "gtin": "12AB"}),
    )
    .await;
    assert_eq!(s, 422, "{b}");
    let (s, b) = put(
        &app,
        "/api/v1/products/X",
        &key,
        json!({"name": "X", "buyer_parts": [{"customer_id": "NOBODY", "part": "P"}]}),
    )
    .await;
    assert_eq!(s, 422, "{b}");
    // A read-only key may not write reference data.
    let read = app.key("a", &["read:orders"]).await;
    let (s, _) = put(&app, "/api/v1/products/Y", &read, json!({"name": "Y"})).await;
    assert_eq!(s, 403);
}

#[sqlx::test(migrator = "switchyard_store::MIGRATOR")]
async fn pending_review_orders_are_listed_and_fixed(pool: sqlx::PgPool) {
    let app = spawn(pool).await;
    let org = app.org("a").await;
    let key = app.key("a", &["write:orders"]).await;
    seed_reference(&app, &key).await;

    let loc = ErrorLocation {
        set_control: Some("0001".into()),
        segment_position: Some(16),
        segment: Some("PO1".into()),
        element: Some("PO102".into()),
        line: Some(1),
        field: Some("lines[0].quantity".into()),
    };
    let bad = order("PO-2", "C-ACME", &[("BAR-A36-1", 0), ("SHEET-999", 3)]);
    let review_id = stored(
        &app,
        org,
        &bad,
        OrderStatus::PendingReview,
        vec![ReviewError {
            code: "bad_quantity".into(),
            message: "line 1: the quantity is 0".into(),
            location: loc,
        }],
    )
    .await;
    let good_id = stored(
        &app,
        org,
        &order("PO-1", "C-ACME", &[("BAR-A36-1", 2)]),
        OrderStatus::Confirmed,
        vec![],
    )
    .await;
    for i in 0..3 {
        stored(
            &app,
            org,
            &order(&format!("PO-R{i}"), "C-ACME", &[("BAR-A36-1", 0)]),
            OrderStatus::PendingReview,
            vec![],
        )
        .await;
    }

    // The review queue, two at a time: 4 pending_review orders over two pages, none confirmed.
    let (s, page) = json(
        app.get("/api/v1/orders?status=pending_review&limit=2", &key)
            .await,
    )
    .await;
    assert_eq!(s, 200, "{page}");
    assert_eq!(page["items"].as_array().unwrap().len(), 2);
    let cursor = page["next_cursor"]
        .as_str()
        .expect("a second page")
        .to_owned();
    let (_, page2) = json(
        app.get(
            &format!("/api/v1/orders?status=pending_review&limit=2&cursor={cursor}"),
            &key,
        )
        .await,
    )
    .await;
    let mut seen: Vec<String> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .chain(page2["items"].as_array().unwrap())
        .map(|o| o["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(page2["next_cursor"], Value::Null);
    seen.sort();
    seen.dedup();
    assert_eq!(seen.len(), 4);
    assert!(!seen.contains(&good_id));
    let (s, b) = json(app.get("/api/v1/orders?status=archived", &key).await).await;
    assert_eq!((s, code(&b)), (422, "validation_failed"), "{b}");

    // One order: located errors and where it came from.
    let (s, o) = json(app.get(&format!("/api/v1/orders/{review_id}"), &key).await).await;
    assert_eq!(s, 200, "{o}");
    assert_eq!(o["status"], "pending_review");
    assert_eq!(o["review_errors"][0]["location"]["segment"], "PO1");
    assert_eq!(o["review_errors"][0]["location"]["segment_position"], 16);
    assert_eq!(o["source_set"], "0001");

    // PATCH: a line that does not exist, a zero quantity, an unknown customer: 422 each.
    let review_path = format!("/api/v1/orders/{review_id}");
    let patch = |body: Value| app.call(Method::PATCH, &review_path, Some(&key), Some(body));
    let (s, b) = json(patch(json!({"lines": [{"line_number": 9, "quantity": "1"}]})).await).await;
    assert_eq!(s, 422, "{b}");
    let (s, b) = json(patch(json!({"lines": [{"line_number": 1, "quantity": "0"}]})).await).await;
    assert_eq!(s, 422, "{b}");
    let (s, b) = json(patch(json!({"customer_id": "NOBODY"})).await).await;
    assert_eq!(s, 422, "{b}");
    // Fixing the quantity only: re-checked, the unknown SKU of line 2 remains.
    let (s, b) = json(patch(json!({"lines": [{"line_number": 1, "quantity": "12"}]})).await).await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(b["status"], "pending_review");
    let errs = b["review_errors"].as_array().unwrap();
    assert_eq!(errs.len(), 1, "{b}");
    assert_eq!(errs[0]["code"], "unknown_product");
    assert_eq!(errs[0]["location"]["field"], "lines[1].sku");
    let (s, b) =
        json(patch(json!({"lines": [{"line_number": 2, "sku": "SHEET-304-16GA"}]})).await).await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(b["review_errors"], json!([]));
    assert_eq!(b["order"]["lines"][0]["quantity"], "12");

    // Reprocessing is the EDI integration's route (adapters/edi/van/tests/api.rs).
    let (s, b) = json(patch(json!({})).await).await;
    assert_eq!(s, 200, "{b}");
    let (s, b) = json(
        app.call(
            Method::PATCH,
            &format!("/api/v1/orders/{good_id}"),
            Some(&key),
            Some(json!({})),
        )
        .await,
    )
    .await;
    assert_eq!((s, code(&b)), (409, "conflict"), "{b}");

    // Scopes: read:orders reads, cannot patch; another organization sees nothing.
    let read = app.key("a", &["read:orders"]).await;
    assert_eq!(
        app.get(&format!("/api/v1/orders/{review_id}"), &read)
            .await
            .status()
            .as_u16(),
        200
    );
    let r = app
        .call(
            Method::PATCH,
            &format!("/api/v1/orders/{review_id}"),
            Some(&read),
            Some(json!({})),
        )
        .await;
    assert_eq!(r.status().as_u16(), 403);
    let other = app.key("b", &["read:orders"]).await;
    assert_eq!(
        app.get(&format!("/api/v1/orders/{review_id}"), &other)
            .await
            .status()
            .as_u16(),
        404
    );
}

/// `POST /orders/{id}/forward`: one `supplier.order.forward` job per order however often it is
/// asked (the dispatcher's key), 404 for an order of another organization, 409 for an order in
/// review or one the supplier has already.
#[sqlx::test(migrator = "switchyard_store::MIGRATOR")]
async fn an_order_is_forwarded_to_the_supplier_once(pool: sqlx::PgPool) {
    let app = TestApp::builder(pool)
        .admission(StubAdmission::with_kinds(&["supplier.order.forward"]))
        .spawn()
        .await;
    let org = app.org("a").await;
    let key = app.key("a", &["write:orders"]).await;
    seed_reference(&app, &key).await;
    let id = stored(
        &app,
        org,
        &order("PO-F1", "C-ACME", &[("BAR-A36-1", 2)]),
        OrderStatus::Pending,
        vec![],
    )
    .await;
    let path = format!("/api/v1/orders/{id}/forward");
    let (s, first) = json(app.call(Method::POST, &path, Some(&key), None).await).await;
    assert_eq!(s, 201, "{first}");
    assert_eq!(first["kind"], "supplier.order.forward");
    assert_eq!(first["payload"], json!({"order_id": id}));
    let (s, again) = json(app.call(Method::POST, &path, Some(&key), None).await).await;
    assert_eq!((s, &again["id"]), (200, &first["id"]));
    // Another organization's key does not see the order.
    let other = app.key("b", &["write:orders"]).await;
    let resp = app.call(Method::POST, &path, Some(&other), None).await;
    assert_eq!(resp.status().as_u16(), 404);
    // The supplier answered: forwarding again is a conflict naming its order id.
    sqlx::query(
        "INSERT INTO supplier_orders (org_id, order_id, partner, supplier_order_id, queued_at, updated_at)
         VALUES ($1, $2::uuid, 'phonex', 'ORD845140', now(), now())",
    )
    .bind(org.0)
    .bind(&id)
    .execute(&app.pool)
    .await
    .unwrap();
    let (s, body) = json(app.call(Method::POST, &path, Some(&key), None).await).await;
    assert_eq!(s, 409, "{body}");
    assert_eq!(body["error"]["details"]["supplier_order_id"], "ORD845140");
    let review = stored(
        &app,
        org,
        &order("PO-F2", "C-ACME", &[("BAR-A36-1", 2)]),
        OrderStatus::PendingReview,
        vec![],
    )
    .await;
    let resp = app
        .call(
            Method::POST,
            &format!("/api/v1/orders/{review}/forward"),
            Some(&key),
            None,
        )
        .await;
    assert_eq!(resp.status().as_u16(), 409);
}
