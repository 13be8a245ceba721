//! The async bulk API against the fake store: a batch at the connection's threshold goes as
//! bulks of `bulk_batch_size`, the status is polled while operations are open, a retriable
//! failure is sent again, a failure needing a change is that SKU's permanent error, and
//! operations left open (no consumer) are reported as such, never as done. Upserts of SKUs
//! the store was sent go as `PUT .../bySku`, the others as the bulk POST, and an update of a
//! product deleted in the store since is sent again as a create.

mod common;

use common::{ctx, doc, oauth, product, Store};
use serde_json::json;
use switchyard_core::adapter::{Adapter as _, BatchItem, OutboundDocument, Presence};
use switchyard_core::ErrorClass;

/// Items of documents whose SKUs the store was never sent.
fn items(docs: Vec<OutboundDocument>) -> Vec<BatchItem> {
    docs.into_iter()
        .map(|d| (d, Presence::New))
        .enumerate()
        .map(item)
        .collect()
}

fn item((i, (doc, presence)): (usize, (OutboundDocument, Presence))) -> BatchItem {
    BatchItem {
        idempotency_key: format!("b{i}"),
        doc,
        presence,
    }
}

/// The bulk submissions the store received: method, route and how many operations each.
fn submissions(store: &Store) -> Vec<(String, String, usize)> {
    store
        .fake
        .writes()
        .into_iter()
        .filter(|w| w.route.starts_with("async/bulk/"))
        .map(|w| (w.method, w.route, w.body.as_array().map_or(0, Vec::len)))
        .collect()
}

fn submission(method: &str, route: &str, ops: usize) -> (String, String, usize) {
    (method.to_owned(), route.to_owned(), ops)
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

#[tokio::test]
async fn updates_of_skus_the_store_was_sent_go_by_sku_and_new_ones_as_the_bulk_post() {
    let store = Store::start().await;
    let adapter = store.adapter(&bulk_config(&store, 30));
    for sku in ["U-1", "U/2"] {
        store
            .fake
            .seed_product(json!({"sku": sku, "name": "old", "weight": 3}));
    }
    let id = store.fake.product("U/2").unwrap()["id"].clone();
    let batch: Vec<BatchItem> = [
        (product("U-1", "one v2"), Presence::Sent),
        // A SKU with `/`: the `{sku}` path parameter rides in the element, not the URL.
        (product("U/2", "two v2"), Presence::Sent),
        (product("U-3", "three"), Presence::New),
    ]
    .into_iter()
    .enumerate()
    .map(item)
    .collect();
    let (c, sink) = ctx("upd");
    let results = adapter.push_batch(&c, &batch).await;
    for (i, r) in results.iter().enumerate() {
        assert!(r.is_ok(), "{i}: {r:?}");
    }
    assert_eq!(
        submissions(&store),
        [
            submission("PUT", "async/bulk/V1/products/bySku", 2),
            submission("POST", "async/bulk/V1/products", 1),
        ]
    );
    let by_sku = store
        .fake
        .writes()
        .into_iter()
        .find(|w| w.route == "async/bulk/V1/products/bySku")
        .expect("the bySku bulk");
    assert_eq!(by_sku.body[1]["sku"], "U/2");
    assert_eq!(by_sku.body[1]["product"]["sku"], "U/2");
    assert_eq!(by_sku.body[1]["saveOptions"], true);
    // Updated in place (same id, the weight the store had kept), and the new one created.
    for (sku, name) in [("U-1", "one v2"), ("U/2", "two v2"), ("U-3", "three")] {
        assert_eq!(store.fake.product(sku).expect(sku)["name"], name);
    }
    assert_eq!(store.fake.product("U/2").unwrap()["weight"], 3);
    assert_eq!(store.fake.product("U/2").unwrap()["id"], id);
    assert_eq!(store.fake.product_count(), 3);
    let events: Vec<String> = sink.exchanges().iter().map(|e| e.event.clone()).collect();
    assert!(
        !events
            .iter()
            .any(|e| e == "magento.product.update" || e == "magento.product.create"),
        "no upsert took the per-item path: {events:?}"
    );
}

#[tokio::test]
async fn an_update_of_a_product_deleted_in_the_store_is_sent_again_as_a_create() {
    let store = Store::start().await;
    let adapter = store.adapter(&bulk_config(&store, 30));
    for sku in ["D-1", "D-2", "D-3"] {
        store.fake.seed_product(json!({"sku": sku, "name": "old"}));
    }
    // An admin deletes D-2 after the sync confirmed it.
    assert!(store.fake.delete_product_in_admin("D-2"));
    let batch: Vec<BatchItem> = ["D-1", "D-2", "D-3"]
        .into_iter()
        .map(|sku| (product(sku, &format!("{sku} v2")), Presence::Sent))
        .enumerate()
        .map(item)
        .collect();
    let results = adapter.push_batch(&ctx("gone").0, &batch).await;
    for (i, r) in results.iter().enumerate() {
        assert!(r.is_ok(), "{i}: {r:?}");
    }
    // Three updates in bulks of two; D-2's failed (status 3, product missing) and went again
    // as a create, without the `sku` path parameter.
    assert_eq!(
        submissions(&store),
        [
            submission("PUT", "async/bulk/V1/products/bySku", 2),
            submission("PUT", "async/bulk/V1/products/bySku", 1),
            submission("POST", "async/bulk/V1/products", 1),
        ]
    );
    let writes = store.fake.writes();
    let failed = writes
        .iter()
        .find(|w| w.method == "PUT" && w.route == "V1/products/D-2")
        .expect("the consumer ran D-2's update");
    assert_eq!(failed.status, 404);
    let create = writes
        .iter()
        .find(|w| w.route == "async/bulk/V1/products")
        .expect("the create");
    let ops = create.body.as_array().expect("an array");
    assert_eq!(ops.len(), 1);
    assert_eq!(ops[0]["product"]["sku"], "D-2");
    assert!(ops[0].get("sku").is_none(), "{}", create.body);
    for sku in ["D-1", "D-2", "D-3"] {
        assert_eq!(
            store.fake.product(sku).expect(sku)["name"],
            format!("{sku} v2")
        );
    }
}

#[tokio::test]
async fn a_create_refused_after_a_missing_update_is_that_skus_error_and_not_sent_again() {
    let store = Store::start().await;
    let adapter = store.adapter(&bulk_config(&store, 30));
    // Sent before, deleted in the store since, and now without the name a create needs.
    let batch: Vec<BatchItem> = [
        (
            doc("catalog", json!({"product": {"sku": "R-1", "price": 4}})),
            Presence::Sent,
        ),
        (product("R-2", "two"), Presence::New),
        (product("R-3", "three"), Presence::New),
    ]
    .into_iter()
    .enumerate()
    .map(item)
    .collect();
    let results = adapter.push_batch(&ctx("refused").0, &batch).await;
    let e = results[0].as_ref().unwrap_err();
    assert_eq!(e.class, ErrorClass::Permanent);
    assert!(
        e.message.contains("R-1") && e.message.contains("\"name\" attribute value is empty"),
        "{e}"
    );
    assert!(results[1].is_ok() && results[2].is_ok(), "{results:?}");
    // One update, then one create bulk for R-1 with the two new ones: never more.
    assert_eq!(
        submissions(&store),
        [
            submission("PUT", "async/bulk/V1/products/bySku", 1),
            submission("POST", "async/bulk/V1/products", 2),
            submission("POST", "async/bulk/V1/products", 1),
        ]
    );
}
