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
        // A tombstone keeps its own path.
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
    // Five upserts in bulks of two (3), then B-2 alone again (1).
    assert_eq!(bulks, 4, "{events:?}");
    let polls = events
        .iter()
        .filter(|e| *e == "magento.bulk_status")
        .count();
    assert!(
        polls >= 4 * 3,
        "each bulk was open for two polls: {polls} polls"
    );
    assert!(
        !events
            .iter()
            .any(|e| e == "magento.product.update" || e == "magento.product.create"),
        "no upsert took the per-item path: {events:?}"
    );
    // The disable went its own way after the bulk created B-1.
    assert!(results[5].is_ok(), "{:?}", results[5]);
    assert!(events.iter().any(|e| e == "magento.product.disable"));
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
