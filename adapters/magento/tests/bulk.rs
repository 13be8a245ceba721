//! The async bulk API against the fake store: a batch at the connection's threshold goes as
//! bulks of `bulk_batch_size`, the status is polled while operations are open, a retriable
//! failure is sent again, a failure needing a change is that SKU's permanent error, and
//! operations left open (no consumer) are reported as such, never as done.

mod common;

use common::{ctx, doc, oauth, product, Store};
use serde_json::json;
use switchyard_core::adapter::{Adapter as _, BatchItem};
use switchyard_core::ErrorClass;

fn items(docs: Vec<switchyard_core::adapter::OutboundDocument>) -> Vec<BatchItem> {
    docs.into_iter()
        .enumerate()
        .map(|(i, d)| BatchItem {
            idempotency_key: format!("b{i}"),
            doc: d,
        })
        .collect()
}

fn bulk_config(store: &Store, open_timeout_secs: u64) -> serde_json::Value {
    let mut c = store.config(oauth("HMAC-SHA256"));
    c["bulk_threshold"] = json!(3);
    c["bulk_batch_size"] = json!(2);
    c["bulk_poll_ms"] = json!(10);
    c["bulk_open_timeout_secs"] = json!(open_timeout_secs);
    c
}

#[tokio::test]
async fn a_big_batch_goes_through_bulks_polled_to_the_end_each_operation_mapped_to_its_sku() {
    let store = Store::start().await;
    let adapter = store.adapter(&bulk_config(&store, 30));
    store.fake.bulk_open_polls(2);
    store.fake.fail_bulk_retriably("B-2", 1);
    let batch = items(vec![
        product("B-1", "one"),
        product("B-2", "two"),
        // Refused when the consumer runs it: status 3, the message rendered.
        doc(
            "catalog",
            json!({"product": {"sku": "B-3", "name": "three", "colour": "red"}}),
        ),
        product("B-4", "four"),
        product("B-5", "five"),
        // A tombstone: a bulk PUT by SKU, after the upserts' bulks.
        doc("catalog", json!({"disable": {"sku": "B-1"}})),
    ]);
    let (c, sink) = ctx("bulk");
    let results = adapter.push_batch(&c, &batch).await;
    for i in [0, 1, 3, 4] {
        assert!(results[i].is_ok(), "{i}: {:?}", results[i]);
    }
    let refused = results[2].as_ref().unwrap_err();
    assert_eq!(refused.class, ErrorClass::Permanent);
    assert!(
        refused.message.contains("B-3")
            && refused.message.contains("does not have accessor method"),
        "{refused}"
    );
    for sku in ["B-2", "B-4", "B-5"] {
        assert_eq!(store.fake.product(sku).expect(sku)["status"], 1);
    }
    let events: Vec<String> = sink.exchanges().iter().map(|e| e.event.clone()).collect();
    let bulks = events.iter().filter(|e| *e == "magento.bulk").count();
    // Five upserts in bulks of two (3), then B-2 alone again (1), then the disable (1).
    assert_eq!(bulks, 5, "{events:?}");
    let polls = events
        .iter()
        .filter(|e| *e == "magento.bulk_status")
        .count();
    assert!(
        polls >= 5 * 3,
        "each bulk was open for two polls: {polls} polls"
    );
    assert!(
        !events
            .iter()
            .any(|e| e == "magento.product.update" || e == "magento.product.create"),
        "no upsert took the per-item path: {events:?}"
    );
    // The disable went as `PUT .../bySku` after the bulk created B-1.
    assert!(results[5].is_ok(), "{:?}", results[5]);
    assert!(!events.iter().any(|e| e == "magento.product.disable"));
    assert_eq!(store.fake.product("B-1").expect("B-1")["status"], 2);
    let by_sku: Vec<_> = store
        .fake
        .writes()
        .into_iter()
        .filter(|w| w.route == "async/bulk/V1/products/bySku")
        .collect();
    assert_eq!(by_sku.len(), 1);
    assert_eq!(by_sku[0].method, "PUT");
    assert_eq!(
        by_sku[0].body,
        json!([{"sku": "B-1", "product": {"sku": "B-1", "status": 2}, "saveOptions": true}])
    );
}

#[tokio::test]
async fn tombstones_go_as_bulks_by_sku_and_a_product_gone_already_is_done() {
    let store = Store::start().await;
    let adapter = store.adapter(&bulk_config(&store, 30));
    for sku in ["T-1", "T-2", "T-3", "T/4"] {
        store.fake.seed_product(json!({"sku": sku, "name": sku}));
    }
    let batch = items(vec![
        doc("catalog", json!({"disable": {"sku": "T-1"}})),
        doc("catalog", json!({"disable": {"sku": "T-2"}})),
        doc("catalog", json!({"delete": {"sku": "T-3"}})),
        doc("catalog", json!({"delete": {"sku": "T/4"}})),
        // Never in the store (or deleted in its admin): its goal is reached.
        doc("catalog", json!({"delete": {"sku": "T-GONE"}})),
        doc("catalog", json!({"disable": {"sku": "T-GONE-2"}})),
    ]);
    let (c, sink) = ctx("tomb");
    let results = adapter.push_batch(&c, &batch).await;
    for (i, r) in results.iter().enumerate() {
        assert!(r.is_ok(), "{i}: {r:?}");
    }
    assert!(!results[0].as_ref().unwrap().duplicate);
    assert!(results[4].as_ref().unwrap().duplicate);
    assert!(results[5].as_ref().unwrap().duplicate);
    assert_eq!(store.fake.product("T-1").unwrap()["status"], 2);
    assert_eq!(store.fake.product("T-2").unwrap()["status"], 2);
    assert!(store.fake.product("T-3").is_none());
    assert!(store.fake.product("T/4").is_none());
    let submitted: Vec<(String, String)> = store
        .fake
        .writes()
        .into_iter()
        .filter(|w| w.route.starts_with("async/bulk/"))
        .map(|w| (w.method, w.route))
        .collect();
    // Three disables in bulks of two, three deletes in bulks of two.
    assert_eq!(
        submitted,
        [
            ("PUT", "async/bulk/V1/products/bySku"),
            ("PUT", "async/bulk/V1/products/bySku"),
            ("DELETE", "async/bulk/V1/products/bySku"),
            ("DELETE", "async/bulk/V1/products/bySku"),
        ]
        .map(|(m, r)| (m.to_owned(), r.to_owned()))
    );
    let events: Vec<String> = sink.exchanges().iter().map(|e| e.event.clone()).collect();
    assert!(
        !events
            .iter()
            .any(|e| e == "magento.product.disable" || e == "magento.product.delete"),
        "no tombstone took the per-item path: {events:?}"
    );
}

#[tokio::test]
async fn stock_goes_through_the_bulk_source_items_route() {
    let store = Store::start().await;
    let adapter = store.adapter(&bulk_config(&store, 30));
    for sku in ["S-1", "S-2", "S-3"] {
        store.fake.seed_product(json!({"sku": sku, "name": sku}));
    }
    let stock = |sku: &str, q: u32| {
        doc(
            "inventory",
            json!({"sku": sku, "quantity": q, "sources": [{"location": "CHI", "quantity": q}]}),
        )
    };
    let results = adapter
        .push_batch(
            &ctx("stock").0,
            &items(vec![stock("S-1", 5), stock("S-2", 0), stock("S-9", 1)]),
        )
        .await;
    assert!(results[0].is_ok() && results[1].is_ok(), "{results:?}");
    let err = results[2].as_ref().unwrap_err();
    assert_eq!(err.class, ErrorClass::Permanent);
    assert!(err.message.contains("S-9"), "{err}");
    assert_eq!(
        store.fake.source_item("S-1", "chicago").unwrap()["quantity"],
        5.0
    );
    assert_eq!(
        store.fake.source_item("S-2", "chicago").unwrap()["status"],
        0
    );
}

#[tokio::test]
async fn operations_left_open_are_reported_open_and_not_done() {
    let store = Store::start().await;
    let adapter = store.adapter(&bulk_config(&store, 1));
    store.fake.bulk_no_consumer(true);
    let results = adapter
        .push_batch(
            &ctx("open").0,
            &items(vec![
                product("O-1", "a"),
                product("O-2", "b"),
                product("O-3", "c"),
            ]),
        )
        .await;
    for r in &results {
        let e = r.as_ref().unwrap_err();
        assert!(e.class.is_retryable(), "{e}");
        assert!(e.message.contains("still open after"), "{e}");
    }
    assert_eq!(store.fake.product_count(), 0, "nothing ran");
}
