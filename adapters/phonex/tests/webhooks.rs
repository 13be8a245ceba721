//! Status webhooks: the fake's signed deliveries received over real HTTP by a loopback
//! receiver that verifies them with the adapter (hex and base64), forged, stale, unsigned and
//! replayed deliveries, and the `order.status_updated` body parsed into status updates.

mod common;

use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode};
use common::{order, order_body, status_body, Px};
use serde_json::json;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};
use switchyard_core::adapter::Adapter;
use switchyard_core::supplier::{StatusUpdate, Supplier, SupplierStatus};
use switchyard_core::ErrorClass;
use switchyard_phonex::config::SignatureEncoding;
use switchyard_phonex::webhook::signed_headers;
use switchyard_phonex::wire::OrderStatus;
use switchyard_phonex::PhonexAdapter;
use switchyard_runtime::testkit::doubles::{context, RecordingSink};

type Received = Arc<Mutex<Vec<(String, StatusUpdate)>>>;
type Headers = Vec<(String, String)>;
/// A change made to a signed delivery's headers.
type Alter = fn(&mut Headers);

/// A receiver standing in for `POST /webhooks/{partner}`: verify with the adapter (401 when
/// refused), then parse the status update.
async fn receiver(adapter: Arc<PhonexAdapter>) -> (String, Received) {
    let received: Received = Arc::default();
    let (a, r) = (adapter, received.clone());
    let app = axum::Router::new().route(
        "/webhooks/phonex",
        axum::routing::post(move |headers: HeaderMap, body: Bytes| {
            let (a, r) = (a.clone(), r.clone());
            async move {
                let headers: Vec<(String, String)> = headers
                    .iter()
                    .map(|(k, v)| (k.as_str().to_owned(), v.to_str().unwrap_or("").to_owned()))
                    .collect();
                let ctx = context("webhook", RecordingSink::new());
                match a.receive_webhook(&ctx, &headers, &body).await {
                    Err(_) => StatusCode::UNAUTHORIZED,
                    Ok(v) => {
                        let updates = a.webhook_updates(&v.topic, &body).expect("a status event");
                        let mut r = r.lock().unwrap();
                        r.extend(updates.into_iter().map(|u| (v.event_id.clone(), u)));
                        StatusCode::ACCEPTED
                    }
                }
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0))
        .await
        .unwrap();
    let url = format!("http://{}/webhooks/phonex", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, received)
}

#[tokio::test]
async fn deliveries_in_any_order_verify_in_hex_and_base64() {
    for encoding in [SignatureEncoding::Hex, SignatureEncoding::Base64] {
        let px = Px::with(encoding).await;
        let adapter = Arc::new(px.adapter());
        let (url, received) = receiver(adapter.clone()).await;
        px.fake.set_webhook_url(url);
        let ack = adapter
            .create_order(
                &context("o-1", RecordingSink::new()),
                &order(order_body("SO-1")),
            )
            .await
            .expect("placed");
        let id = ack.supplier_order_id.as_str();
        let accepted = px.fake.advance(id, OrderStatus::Accepted, None).unwrap();
        let shipped = px
            .fake
            .advance(
                id,
                OrderStatus::Shipped,
                Some(("1Z999AA10123456784", Some("UPS"))),
            )
            .unwrap();
        // Shipped before accepted, and shipped twice.
        for d in [&shipped, &accepted, &shipped] {
            assert_eq!(px.fake.deliver(d).await, Ok(202), "{encoding:?}");
        }
        let got = received.lock().unwrap().clone();
        let seen: Vec<(&str, SupplierStatus)> =
            got.iter().map(|(e, u)| (e.as_str(), u.status)).collect();
        assert_eq!(
            seen,
            vec![
                (shipped.event_id.as_str(), SupplierStatus::Shipped),
                (accepted.event_id.as_str(), SupplierStatus::Accepted),
                (shipped.event_id.as_str(), SupplierStatus::Shipped),
            ],
            "a redelivery keeps its event id (the runtime dedupes by it)"
        );
        let (_, update) = &got[0];
        assert_eq!(update.supplier_order_id, id);
        assert_eq!(update.order_number.as_deref(), Some("SO-1"));
        assert_eq!(
            update.tracking.as_ref().unwrap().number,
            "1Z999AA10123456784"
        );
        assert!(
            got[1].1.updated_at < got[0].1.updated_at,
            "updated_at tells the order"
        );
        assert_eq!(px.fake.sent().len(), 3);
    }
}

#[tokio::test]
async fn forged_stale_and_unsigned_deliveries_are_refused() {
    let px = Px::start().await;
    let adapter = Arc::new(px.adapter());
    let (url, received) = receiver(adapter.clone()).await;
    px.fake.set_webhook_url(url);
    let ack = adapter
        .create_order(
            &context("o-2", RecordingSink::new()),
            &order(order_body("SO-2")),
        )
        .await
        .expect("placed");
    let d = px
        .fake
        .advance(&ack.supplier_order_id, OrderStatus::Accepted, None)
        .unwrap();
    let now = SystemTime::now();
    let forged = px
        .fake
        .deliver_signed(&d, now, Some("not-the-secret"))
        .await;
    let stale = px
        .fake
        .deliver_signed(&d, now - Duration::from_secs(301 + 60), None)
        .await;
    let future = px
        .fake
        .deliver_signed(&d, now + Duration::from_secs(301 + 60), None)
        .await;
    assert_eq!((forged, stale, future), (Ok(401), Ok(401), Ok(401)));
    assert!(received.lock().unwrap().is_empty());
    // Within the tolerance is fine.
    let late = px
        .fake
        .deliver_signed(&d, now - Duration::from_secs(200), None)
        .await;
    assert_eq!(late, Ok(202));

    // Each signed now, then altered: a header dropped or the timestamp moved (it is signed,
    // so moving it makes the signature wrong).
    let secret = &px.fake.config().webhook_secret;
    let body = d.body.as_slice();
    let altered: [(&str, Alter); 3] = [
        ("X-PhoneX-Timestamp", |h| {
            h.retain(|(k, _)| k != "x-phonex-timestamp")
        }),
        ("X-PhoneX-Signature", |h| {
            h.retain(|(k, _)| k != "x-phonex-signature")
        }),
        ("does not match", |h| {
            for (_, v) in h.iter_mut().filter(|(k, _)| k == "x-phonex-timestamp") {
                *v = (v.parse::<i64>().unwrap() + 1).to_string();
            }
        }),
    ];
    for (expected, alter) in altered {
        let now = chrono::Utc::now().timestamp();
        let mut headers = signed_headers(secret, SignatureEncoding::Hex, "e", now, body);
        alter(&mut headers);
        let err = adapter
            .receive_webhook(&context("direct", RecordingSink::new()), &headers, body)
            .await
            .expect_err(expected);
        assert_eq!(err.class, ErrorClass::Auth, "{err}");
        assert!(err.message.contains(expected), "{err}");
    }
}

#[tokio::test]
async fn without_an_event_id_the_body_hash_names_the_event() {
    let px = Px::start().await;
    let adapter = px.adapter();
    let body = status_body("ORD1", "accepted", "2026-11-30T18:06:39Z").to_string();
    let secret = &px.fake.config().webhook_secret;
    let ctx = context("hash", RecordingSink::new());
    let mut ids = Vec::new();
    for offset in [0, 5] {
        let mut headers = signed_headers(
            secret,
            SignatureEncoding::Hex,
            "",
            chrono::Utc::now().timestamp() - offset,
            body.as_bytes(),
        );
        headers.retain(|(k, _)| k != "x-phonex-event-id");
        let v = adapter
            .receive_webhook(&ctx, &headers, body.as_bytes())
            .await
            .expect("verified");
        assert_eq!(v.topic, "order.status_updated");
        ids.push(v.event_id);
    }
    assert!(ids[0].starts_with("sha256:"), "{ids:?}");
    assert_eq!(
        ids[0], ids[1],
        "a redelivery signed later is the same event"
    );
}

#[tokio::test]
async fn status_events_parse_and_bad_ones_name_the_field() {
    let px = Px::start().await;
    let adapter = px.adapter();
    let ok = status_body("ORD845140", "fulfillment_started", "2025-10-30T18:06:39Z");
    let u = adapter
        .webhook_updates("order.status_updated", ok.to_string().as_bytes())
        .expect("parsed");
    assert_eq!(u.len(), 1);
    assert_eq!(u[0].status, SupplierStatus::FulfillmentStarted);
    assert_eq!(u[0].supplier_status, "fulfillment_started");
    assert_eq!(u[0].supplier_order_id, "ORD845140");
    assert_eq!(u[0].order_number.as_deref(), Some("PXSTKL0000347"));
    assert_eq!(
        u[0].tracking.as_ref().unwrap().carrier.as_deref(),
        Some("UPS")
    );
    assert_eq!(u[0].updated_at.to_rfc3339(), "2025-10-30T18:06:39+00:00");
    for (word, status) in [
        ("accepted", SupplierStatus::Accepted),
        ("rejected", SupplierStatus::Rejected),
        ("shipped", SupplierStatus::Shipped),
        ("cancelled", SupplierStatus::Cancelled),
    ] {
        let b = status_body("ORD1", word, "2025-10-30T18:06:39Z").to_string();
        assert_eq!(
            adapter
                .webhook_updates("order.status_updated", b.as_bytes())
                .unwrap()[0]
                .status,
            status
        );
    }
    // Carrier is optional; tracking is optional except on `shipped`.
    let mut b = status_body("ORD1", "accepted", "2025-10-30T18:06:39Z");
    b.as_object_mut().unwrap().remove("carrier");
    b.as_object_mut().unwrap().remove("tracking_number");
    let u = adapter
        .webhook_updates("order.status_updated", b.to_string().as_bytes())
        .unwrap();
    assert_eq!(u[0].tracking, None);

    let bad = [
        ("/event", json!("order.created"), "event"),
        ("/status", json!("delivered"), "status"),
        ("/status", json!(3), "status"),
        ("/supplier_order_id", json!(""), "supplier_order_id"),
        ("/updated_at", json!("yesterday"), "updated_at"),
        ("/tracking_number", json!(null), "tracking_number"),
    ];
    for (pointer, value, field) in bad {
        let mut b = status_body("ORD1", "shipped", "2025-10-30T18:06:39Z");
        *b.pointer_mut(pointer).unwrap() = value;
        let err = adapter
            .webhook_updates("order.status_updated", b.to_string().as_bytes())
            .expect_err("refused");
        assert_eq!(err.class, ErrorClass::Permanent);
        assert!(
            err.message.contains(&format!("`{field}`")),
            "{field}: {err}"
        );
    }
    let mut b = status_body("ORD1", "shipped", "2025-10-30T18:06:39Z");
    b.as_object_mut().unwrap().remove("supplier_order_id");
    let err = adapter
        .webhook_updates("order.status_updated", b.to_string().as_bytes())
        .unwrap_err();
    assert!(
        err.message.contains("`supplier_order_id`: is missing"),
        "{err}"
    );
    assert!(adapter
        .webhook_updates("order.status_updated", b"[1]")
        .is_err());
}
