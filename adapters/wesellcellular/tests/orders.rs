//! Sales orders: placed once per buyer reference, followed through the whole status machine
//! and a cancel by polling, a reassigned number followed, a late-stamped change not missed.

mod common;

use chrono::Duration as Span;
use common::{ctx, sales_order, Tenant};
use switchyard_core::adapter::Adapter;
use switchyard_core::supplier::{StatusUpdate, Supplier, SupplierOrderRef, SupplierStatus};
use switchyard_core::ErrorClass;
use switchyard_wesellcellular::WesellAdapter;

fn supplier(a: &WesellAdapter) -> &dyn Supplier {
    a.as_supplier().expect("WesellCellular is a supplier")
}

/// Poll until the tenant has no more changes for now; every update in order.
async fn poll(s: &dyn Supplier, cursor: &mut Option<String>) -> Vec<StatusUpdate> {
    let mut all = Vec::new();
    for _ in 0..50 {
        let page = s
            .status_changes(&ctx("poll"), cursor.as_deref())
            .await
            .expect("poll");
        all.extend(page.updates);
        assert!(
            page.next_cursor.is_some(),
            "a poll always names where the next starts"
        );
        *cursor = page.next_cursor;
        if !page.more {
            return all;
        }
    }
    panic!("the poll never ended");
}

#[tokio::test]
async fn an_order_is_placed_once_per_reference() {
    let t = Tenant::start().await;
    let a = t.adapter();
    let s = supplier(&a);
    assert!(s.polled());
    let first = s
        .create_order(&ctx("key-1"), &sales_order("SO-1001"))
        .await
        .expect("placed");
    assert!(first.supplier_order_id.starts_with("PXSTKL"), "{first:?}");
    assert_eq!(first.status, SupplierStatus::Pending);
    assert_eq!(first.supplier_status, "On Hold");
    assert!(!first.replayed);
    // A retry (same reference, even under another key) answers the first order.
    let again = s
        .create_order(&ctx("key-2"), &sales_order("SO-1001"))
        .await
        .expect("replayed");
    assert_eq!(again.supplier_order_id, first.supplier_order_id);
    assert!(again.replayed);
    assert_eq!(t.fake.orders_placed(), 1);
    assert_eq!(t.fake.times_applied("key-1"), 1);
    assert_eq!(t.fake.times_applied("key-2"), 0);
    // A body without our reference never reaches the tenant.
    let mut doc = sales_order("x");
    if let switchyard_core::adapter::Payload::Json { body } = &mut doc.payload {
        body.as_object_mut().unwrap().remove("buyerReference");
    }
    let err = s.create_order(&ctx("key-3"), &doc).await.unwrap_err();
    assert_eq!(err.class, ErrorClass::Permanent);
    assert!(err.message.contains("buyerReference"), "{err}");
    // What the tenant refuses names the field.
    let mut doc = sales_order("SO-1002");
    if let switchyard_core::adapter::Payload::Json { body } = &mut doc.payload {
        body["items"][0]["quantity"] = serde_json::json!(0);
    }
    let err = s.create_order(&ctx("key-4"), &doc).await.unwrap_err();
    assert_eq!(err.class, ErrorClass::Permanent);
    assert!(err.message.contains("items[0].quantity"), "{err}");
    assert_eq!(t.fake.orders_placed(), 1);
}

#[tokio::test]
async fn polling_follows_the_whole_status_machine_and_a_cancel() {
    let t = Tenant::start().await;
    let a = t.adapter();
    let s = supplier(&a);
    let shipped = s
        .create_order(&ctx("k1"), &sales_order("SO-1"))
        .await
        .unwrap();
    let canceled = s
        .create_order(&ctx("k2"), &sales_order("SO-2"))
        .await
        .unwrap();
    let mut cursor = None;
    let seen = poll(s, &mut cursor).await;
    assert_eq!(seen.len(), 2, "{seen:?}");
    assert!(seen.iter().all(|u| u.status == SupplierStatus::Pending));
    assert_eq!(seen[0].order_number.as_deref(), Some("SO-1"));
    // Nothing changed: nothing new, however often it is polled (the overlap re-reads them).
    assert!(poll(s, &mut cursor).await.is_empty());

    let mut statuses = Vec::new();
    while t.fake.advance(&shipped.supplier_order_id).is_ok() {
        let updates = poll(s, &mut cursor).await;
        assert_eq!(updates.len(), 1, "one change, delivered once: {updates:?}");
        assert_eq!(updates[0].supplier_order_id, shipped.supplier_order_id);
        statuses.push((updates[0].status, updates[0].supplier_status.clone()));
        if updates[0].status == SupplierStatus::Shipped {
            let tracking = updates[0]
                .tracking
                .clone()
                .expect("shipped carries tracking");
            assert_eq!(tracking.carrier.as_deref(), Some("UPS"));
        }
    }
    assert_eq!(
        statuses,
        vec![
            (
                SupplierStatus::AwaitingShippingQuote,
                "Awaiting Shipping Quote".into()
            ),
            (SupplierStatus::AwaitingPayment, "Awaiting Payment".into()),
            (
                SupplierStatus::FulfillmentStarted,
                "Ready for Fulfillment".into()
            ),
            (SupplierStatus::Shipped, "Shipped".into()),
        ]
    );

    t.fake.advance(&canceled.supplier_order_id).unwrap();
    t.fake.cancel(&canceled.supplier_order_id).unwrap();
    let updates = poll(s, &mut cursor).await;
    let last = updates.last().expect("the cancel was seen");
    assert_eq!(last.status, SupplierStatus::Cancelled);
    assert_eq!(last.supplier_status, "Canceled");
    assert_eq!(last.order_number.as_deref(), Some("SO-2"));

    // The status query agrees with what the poll saw.
    let now = s
        .order_status(
            &ctx("status"),
            &SupplierOrderRef {
                supplier_order_id: shipped.supplier_order_id.clone(),
                order_number: "SO-1".into(),
            },
        )
        .await
        .unwrap();
    assert_eq!(now.status, SupplierStatus::Shipped);
}

#[tokio::test]
async fn a_reassigned_number_is_the_same_order_under_its_new_number() {
    let t = Tenant::start().await;
    let a = t.adapter();
    let s = supplier(&a);
    let placed = s
        .create_order(&ctx("k"), &sales_order("SO-77"))
        .await
        .unwrap();
    let mut cursor = None;
    poll(s, &mut cursor).await;
    let moved = t.fake.reassign(&placed.supplier_order_id).unwrap();
    assert_ne!(moved.order_number, placed.supplier_order_id);
    let updates = poll(s, &mut cursor).await;
    assert_eq!(updates.len(), 1, "{updates:?}");
    assert_eq!(updates[0].supplier_order_id, moved.order_number);
    assert_eq!(
        updates[0].order_number.as_deref(),
        Some("SO-77"),
        "our order number ties it to the order"
    );
    // The old number still answers, with the new one.
    let by_old = s
        .order_status(
            &ctx("status"),
            &SupplierOrderRef {
                supplier_order_id: placed.supplier_order_id.clone(),
                order_number: "SO-77".into(),
            },
        )
        .await
        .unwrap();
    assert_eq!(by_old.supplier_order_id, moved.order_number);
    assert_eq!(t.fake.orders_placed(), 1);
}

#[tokio::test]
async fn a_change_stamped_before_the_last_poll_is_not_missed() {
    let t = Tenant::start().await;
    let a = t.adapter();
    let s = supplier(&a);
    let one = s
        .create_order(&ctx("k1"), &sales_order("SO-1"))
        .await
        .unwrap();
    let two = s
        .create_order(&ctx("k2"), &sales_order("SO-2"))
        .await
        .unwrap();
    let mut cursor = None;
    assert_eq!(poll(s, &mut cursor).await.len(), 2);
    t.fake.advance(&two.supplier_order_id).unwrap();
    let seen = poll(s, &mut cursor).await;
    assert_eq!(seen.len(), 1);
    // A change to SO-1 committed late: stamped two seconds before SO-2's, visible only now.
    let late = seen[0].updated_at - Span::seconds(2);
    t.fake
        .advance_stamped(&one.supplier_order_id, late)
        .unwrap();
    let updates = poll(s, &mut cursor).await;
    assert_eq!(
        updates.len(),
        1,
        "the overlap re-read finds it: {updates:?}"
    );
    assert_eq!(updates[0].supplier_order_id, one.supplier_order_id);
    assert_eq!(updates[0].status, SupplierStatus::AwaitingShippingQuote);
    assert!(
        poll(s, &mut cursor).await.is_empty(),
        "and delivers it once"
    );
}

#[tokio::test]
async fn more_changes_than_a_page_are_delivered_page_by_page_once_each() {
    let t = Tenant::start().await;
    let mut config = t.config();
    config["page_size"] = serde_json::json!(3);
    let a = t.adapter_with(&config);
    let s = supplier(&a);
    for i in 0..8 {
        s.create_order(&ctx(&format!("k{i}")), &sales_order(&format!("SO-{i}")))
            .await
            .unwrap();
    }
    let mut cursor = None;
    let mut pages = 0;
    let mut refs = Vec::new();
    loop {
        let page = s
            .status_changes(&ctx("p"), cursor.as_deref())
            .await
            .unwrap();
        pages += 1;
        assert!(page.updates.len() <= 3);
        refs.extend(page.updates.into_iter().filter_map(|u| u.order_number));
        cursor = page.next_cursor;
        if !page.more {
            break;
        }
        assert!(pages < 20, "the poll never ended");
    }
    refs.sort();
    let mut expected: Vec<String> = (0..8).map(|i| format!("SO-{i}")).collect();
    expected.sort();
    assert_eq!(refs, expected, "every order once");
}

#[tokio::test]
async fn outages_are_transient_and_an_unknown_order_is_permanent() {
    let t = Tenant::start().await;
    let a = t.adapter();
    let s = supplier(&a);
    t.fake.always_fail(503);
    let err = s.status_changes(&ctx("down"), None).await.unwrap_err();
    assert!(err.class.is_retryable(), "{err}");
    t.fake.fix();
    t.fake.fail_next(2, 502);
    assert!(s.status_changes(&ctx("burst1"), None).await.is_err());
    assert!(s.status_changes(&ctx("burst2"), None).await.is_err());
    assert!(s.status_changes(&ctx("after"), None).await.is_ok());
    let err = s
        .order_status(
            &ctx("missing"),
            &SupplierOrderRef {
                supplier_order_id: "PXSTKL9999999".into(),
                order_number: "SO-0".into(),
            },
        )
        .await
        .unwrap_err();
    assert_eq!(err.class, ErrorClass::Permanent);
    assert_eq!(err.status, Some(404));
}
