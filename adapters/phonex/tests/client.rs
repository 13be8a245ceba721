//! The PhoneX adapter against its fake over HTTP: orders placed once whatever the retries,
//! every refusal in its retry class, status read back, the stock list paged.

mod common;

use common::{order, order_body, stock, Px};
use serde_json::json;
use std::time::Duration;
use switchyard_core::adapter::{Adapter, Capability, PullRequest};
use switchyard_core::supplier::{Supplier, SupplierOrderRef, SupplierStatus};
use switchyard_core::ErrorClass;
use switchyard_phonex::wire::OrderStatus;
use switchyard_runtime::testkit::doubles::{context, RecordingSink};

#[tokio::test]
async fn an_order_is_placed_once_per_key_and_once_per_order_number() {
    let px = Px::start().await;
    let adapter = px.adapter();
    let sink = RecordingSink::new();
    let doc = order(order_body("PXSTKL0000347"));
    let first = adapter
        .create_order(&context("order-347", sink.clone()), &doc)
        .await
        .expect("placed");
    assert!(first.supplier_order_id.starts_with("ORD"), "{first:?}");
    assert_eq!(first.status, SupplierStatus::Pending);
    assert_eq!(first.supplier_status, "received");
    assert!(!first.replayed);

    // The queue retries after a lost answer: same key, same order, nothing new placed.
    let again = adapter
        .create_order(&context("order-347", sink.clone()), &doc)
        .await
        .expect("replayed");
    assert_eq!(again.supplier_order_id, first.supplier_order_id);
    assert!(again.replayed);
    assert_eq!(px.fake.orders_placed(), 1);
    assert_eq!(px.fake.times_applied("order-347"), 1);

    // Another key for the same order number: PhoneX refuses it (409), for good.
    let err = adapter
        .create_order(&context("order-347-other", sink.clone()), &doc)
        .await
        .expect_err("a second order with the same number");
    assert_eq!(err.class, ErrorClass::Permanent, "{err}");
    assert_eq!(err.status, Some(409));
    assert!(
        err.message.contains(&first.supplier_order_id),
        "names the existing order: {err}"
    );
    assert_eq!(px.fake.orders_placed(), 1);
    let placed = px.fake.order_by_number("PXSTKL0000347").expect("stored");
    assert_eq!(placed.request.items[0].sku, "IPHONE12-64GB-A");
    assert_eq!(placed.idempotency_key, "order-347");
    assert_eq!(sink.len(), 3, "one exchange per call");
}

#[tokio::test]
async fn a_wrong_key_is_an_auth_error_and_places_nothing() {
    let px = Px::start().await;
    let adapter = px.adapter_with(&px.fake.partner_config("secret:wrong", common::WEBHOOK_REF));
    let err = adapter
        .create_order(
            &context("k-401", RecordingSink::new()),
            &order(order_body("SO-1")),
        )
        .await
        .expect_err("refused");
    assert_eq!(err.class, ErrorClass::Auth, "{err}");
    assert_eq!(err.status, Some(401));
    assert_eq!(px.fake.orders_placed(), 0);
    let health = adapter
        .health(&context("h", RecordingSink::new()))
        .await
        .expect_err("health with a wrong key");
    assert_eq!(health.class, ErrorClass::Auth);
}

#[tokio::test]
async fn an_invalid_order_is_permanent_and_names_the_field() {
    let px = Px::start().await;
    let adapter = px.adapter();
    let cases = [
        ("/items/1/quantity", json!(0), "items[1].quantity"),
        ("/items/0/unit_price", json!("231"), "items[0].unit_price"),
        ("/customer_id", json!(""), "customer_id"),
        ("/shipping_address", json!(null), "shipping_address"),
    ];
    for (pointer, value, field) in cases {
        let mut body = order_body("SO-BAD");
        *body.pointer_mut(pointer).expect("a field of the order") = value;
        let err = adapter
            .create_order(
                &context(format!("bad-{field}"), RecordingSink::new()),
                &order(body),
            )
            .await
            .expect_err("refused");
        assert_eq!(err.class, ErrorClass::Permanent, "{err}");
        assert_eq!(err.status, Some(422), "{err}");
        assert!(
            err.message.contains(&format!("`{field}`")),
            "{field}: {err}"
        );
    }
    // Duplicate SKUs are refused too (the mapping merges them).
    let mut body = order_body("SO-DUP");
    body["items"][1]["sku"] = json!("IPHONE12-64GB-A");
    let err = adapter
        .create_order(&context("dup", RecordingSink::new()), &order(body))
        .await
        .expect_err("duplicate SKU");
    assert!(err.message.contains("`items[1].sku`"), "{err}");
    assert_eq!(px.fake.orders_placed(), 0);
}

#[tokio::test]
async fn a_5xx_burst_is_transient_then_the_retry_places_one_order() {
    let px = Px::start().await;
    let adapter = px.adapter();
    let doc = order(order_body("SO-BURST"));
    px.fake.fail_next(2, 502);
    for _ in 0..2 {
        let err = adapter
            .create_order(&context("burst", RecordingSink::new()), &doc)
            .await
            .expect_err("the burst");
        assert_eq!(err.class, ErrorClass::transient(), "{err}");
    }
    adapter
        .create_order(&context("burst", RecordingSink::new()), &doc)
        .await
        .expect("after the burst");
    assert_eq!(px.fake.orders_placed(), 1);

    px.fake.throttle(9);
    let err = adapter
        .create_order(
            &context("throttled", RecordingSink::new()),
            &order(order_body("SO-T")),
        )
        .await
        .expect_err("throttled");
    assert_eq!(
        err.class,
        ErrorClass::RateLimited {
            retry_after: Some(Duration::from_secs(9))
        }
    );
    // The date form (a proxy in front of PhoneX may send it): the wait until then.
    px.fake
        .throttle_until(chrono::Utc::now() + chrono::Duration::seconds(120));
    let err = adapter
        .create_order(
            &context("throttled-until", RecordingSink::new()),
            &order(order_body("SO-T")),
        )
        .await
        .expect_err("throttled until a date");
    match err.class {
        ErrorClass::RateLimited {
            retry_after: Some(wait),
        } => assert!(
            (Duration::from_secs(115)..=Duration::from_secs(120)).contains(&wait),
            "{wait:?}"
        ),
        other => panic!("expected a rate limit with its wait, got {other:?}"),
    }
    px.fake.fix();

    // Nobody listening at all: transient as well.
    let closed = px.fake.partner_config(common::KEY_REF, common::WEBHOOK_REF);
    px.fake.always_fail(503);
    let err = px
        .adapter_with(&closed)
        .health(&context("down", RecordingSink::new()))
        .await
        .expect_err("down");
    assert!(err.class.is_retryable(), "{err}");
}

#[tokio::test]
async fn order_status_reads_the_supplier_status_and_tracking() {
    let px = Px::start().await;
    let adapter = px.adapter();
    let ack = adapter
        .create_order(
            &context("st", RecordingSink::new()),
            &order(order_body("SO-ST")),
        )
        .await
        .expect("placed");
    px.fake
        .advance(&ack.supplier_order_id, OrderStatus::Accepted, None)
        .expect("accepted");
    px.fake
        .advance(
            &ack.supplier_order_id,
            OrderStatus::Shipped,
            Some(("1Z999AA10123456784", Some("UPS"))),
        )
        .expect("shipped");
    let update = adapter
        .order_status(
            &context("st-get", RecordingSink::new()),
            &SupplierOrderRef {
                supplier_order_id: ack.supplier_order_id.clone(),
                order_number: "SO-ST".into(),
            },
        )
        .await
        .expect("status");
    assert_eq!(update.status, SupplierStatus::Shipped);
    assert_eq!(update.order_number.as_deref(), Some("SO-ST"));
    let tracking = update.tracking.expect("tracking");
    assert_eq!(tracking.number, "1Z999AA10123456784");
    assert_eq!(tracking.carrier.as_deref(), Some("UPS"));
    // The fake's own order never moves backwards.
    assert!(px
        .fake
        .advance(&ack.supplier_order_id, OrderStatus::Accepted, None)
        .is_err());

    let err = adapter
        .order_status(
            &context("st-404", RecordingSink::new()),
            &SupplierOrderRef {
                supplier_order_id: "ORD/none".into(),
                order_number: "SO-X".into(),
            },
        )
        .await
        .expect_err("unknown order");
    assert_eq!((err.class, err.status), (ErrorClass::Permanent, Some(404)));
}

#[tokio::test]
async fn the_stock_list_is_paged_for_inventory_and_prices() {
    let px = Px::start().await;
    let mut config = px.config();
    config["page_size"] = json!(4);
    let adapter = px.adapter_with(&config);
    px.fake.set_stock(stock(10));
    for entity in ["inventory", "prices"] {
        let mut cursor = None;
        let mut skus = Vec::new();
        let mut pages = 0;
        loop {
            let page = adapter
                .pull(
                    &context("pull", RecordingSink::new()),
                    &PullRequest {
                        entity: entity.into(),
                        cursor: cursor.clone(),
                        params: json!({}),
                    },
                )
                .await
                .expect("a page");
            pages += 1;
            skus.extend(
                page.records
                    .iter()
                    .map(|r| r["sku"].as_str().unwrap().to_owned()),
            );
            match page.next_cursor {
                Some(next) => cursor = Some(next),
                None => break,
            }
        }
        assert_eq!(pages, 3, "10 lines in pages of 4");
        assert_eq!(skus.len(), 10);
        assert_eq!(skus[9], "px-009");
    }
    let err = adapter
        .pull(
            &context("pull", RecordingSink::new()),
            &PullRequest {
                entity: "products".into(),
                cursor: None,
                params: json!({}),
            },
        )
        .await
        .expect_err("no products at PhoneX");
    assert_eq!(err.class, ErrorClass::Permanent);
    let err = adapter
        .pull(
            &context("pull", RecordingSink::new()),
            &PullRequest {
                entity: "inventory".into(),
                cursor: None,
                params: json!({"per_page": 501}),
            },
        )
        .await
        .expect_err("a page too large");
    assert!(err.message.contains("per_page"), "{err}");
}

#[tokio::test]
async fn capabilities_and_supplier_contract() {
    let px = Px::start().await;
    let adapter = px.adapter();
    for c in [
        Capability::PushOrders,
        Capability::PullInventory,
        Capability::PullPrices,
        Capability::ReceiveWebhooks,
        Capability::HealthCheck,
    ] {
        assert!(adapter.supports(c), "{c}");
    }
    assert!(!adapter.supports(Capability::PushCatalog));
    let supplier = adapter.as_supplier().expect("a supplier");
    assert!(!supplier.polled(), "PhoneX reports status by webhook");
    let changes = supplier
        .status_changes(&context("poll", RecordingSink::new()), None)
        .await
        .expect("an empty page");
    assert!(changes.updates.is_empty());
    // A push of anything but an order is refused before any request.
    let err = adapter
        .push(
            &context("catalog", RecordingSink::new()),
            &switchyard_runtime::testkit::conformance::catalog_document(1),
        )
        .await
        .expect_err("not an order");
    assert_eq!(err.class, ErrorClass::Permanent);
    assert_eq!(px.fake.requests(), 0);
}

#[tokio::test]
async fn config_problems_name_their_key() {
    let px = Px::start().await;
    let name = switchyard_core::ids::PartnerName::from("phonex");
    let cases = [
        ("/base_url", json!("ftp://x"), "base_url"),
        ("/page_size", json!(0), "page_size"),
        ("/webhooks/encoding", json!("rot13"), "webhooks.encoding"),
        (
            "/webhooks/secret",
            json!("secret:missing"),
            "webhooks.secret",
        ),
        ("/api_key", json!("secret:missing"), "api_key"),
    ];
    for (pointer, value, key) in cases {
        let mut config = px.config();
        // Indexing inserts the keys the fake's config leaves to their defaults.
        let mut at = &mut config;
        for part in pointer.trim_start_matches('/').split('/') {
            at = &mut at[part];
        }
        *at = value;
        let err = px
            .factory
            .build_phonex(&name, &config, &px.secrets)
            .expect_err("refused");
        assert_eq!(err.key.as_deref(), Some(key), "{err}");
    }
    let mut config = px.config();
    config.as_object_mut().unwrap().remove("webhooks");
    let err = px
        .factory
        .build_phonex(&name, &config, &px.secrets)
        .expect_err("webhooks are required");
    assert!(err.message.contains("webhooks"), "{err}");
}
