//! The per-item path's concurrency against the fake store over HTTP: writes go
//! `concurrency` at a time (never more), the writes of one SKU stay in order, a 5xx burst fails
//! only the writes it hit (transient, each pushed again fine), and an admin token that ends
//! under many writes in flight is minted again once, not once per write.

mod common;

use common::{admin, ctx, oauth, product, Store};
use serde_json::json;
use std::time::Duration;
use switchyard_core::adapter::{Adapter as _, BatchItem, OutboundDocument, Presence};
use switchyard_core::ErrorClass;

fn items(docs: Vec<OutboundDocument>) -> Vec<BatchItem> {
    docs.into_iter()
        .enumerate()
        .map(|(i, doc)| BatchItem {
            idempotency_key: format!("key-{i}"),
            doc,
            presence: Presence::New,
        })
        .collect()
}

fn products(prefix: &str, n: usize) -> Vec<BatchItem> {
    items(
        (0..n)
            .map(|i| product(&format!("{prefix}-{i:02}"), &format!("Item {i}")))
            .collect(),
    )
}

#[tokio::test]
async fn per_item_writes_go_concurrency_at_a_time() {
    let store = Store::start().await;
    let mut config = store.config(oauth("HMAC-SHA256"));
    config["concurrency"] = json!(6);
    let adapter = store.adapter(&config);
    // Each answer takes a while, so writes sent together overlap at the store.
    store.fake.slow(Duration::from_millis(40));
    let batch = products("CC", 24);
    let results = adapter.push_batch(&ctx("conc").0, &batch).await;
    assert!(results.iter().all(Result::is_ok), "{results:?}");
    assert_eq!(store.fake.product_count(), 24);
    let most = store.fake.max_in_flight();
    assert!(most > 1, "the writes went one at a time");
    assert!(
        most <= 6,
        "{most} writes in flight, more than `concurrency` = 6"
    );
}

#[tokio::test]
async fn writes_of_one_sku_keep_their_order() {
    let store = Store::start().await;
    let adapter = store.adapter(&store.config(oauth("HMAC-SHA256")));
    store.fake.slow(Duration::from_millis(10));
    // The first write of SAME-1 is answered late: without the chain the later ones would land
    // first and the store would end with v1.
    store
        .fake
        .slow_matching("\"v1\"", Duration::from_millis(150));
    let mut docs = Vec::new();
    for v in 1..=4 {
        docs.push(product("SAME-1", &format!("v{v}")));
        docs.push(product(&format!("OTHER-{v}"), "other"));
    }
    let results = adapter.push_batch(&ctx("order").0, &items(docs)).await;
    assert!(results.iter().all(Result::is_ok), "{results:?}");
    let names: Vec<String> = store
        .fake
        .writes()
        .into_iter()
        .filter(|w| w.status < 300 && w.body["product"]["sku"] == "SAME-1")
        .map(|w| {
            w.body["product"]["name"]
                .as_str()
                .unwrap_or_default()
                .to_owned()
        })
        .collect();
    assert_eq!(names, ["v1", "v2", "v3", "v4"]);
    assert_eq!(store.fake.product("SAME-1").unwrap()["name"], "v4");
}

#[tokio::test]
async fn a_5xx_burst_under_concurrency_fails_only_the_writes_it_hit() {
    let store = Store::start().await;
    let adapter = store.adapter(&store.config(oauth("HMAC-SHA256")));
    store.fake.slow(Duration::from_millis(5));
    store.fake.fail_next(5, 503);
    let batch = products("BURST", 20);
    let results = adapter.push_batch(&ctx("burst").0, &batch).await;
    let failed: Vec<usize> = (0..results.len())
        .filter(|&i| results[i].is_err())
        .collect();
    assert_eq!(failed.len(), 5, "{results:?}");
    for i in &failed {
        let e = results[*i].as_ref().unwrap_err();
        assert_eq!(e.class, ErrorClass::transient(), "{e}");
        assert_eq!(e.status, Some(503));
    }
    assert_eq!(store.fake.product_count(), 15);
    // The failed ones pushed again (what the sync engine does) all go through.
    let again: Vec<BatchItem> = failed.iter().map(|&i| batch[i].clone()).collect();
    let results = adapter.push_batch(&ctx("burst-2").0, &again).await;
    assert!(results.iter().all(Result::is_ok), "{results:?}");
    assert_eq!(store.fake.product_count(), 20);
}

#[tokio::test]
async fn an_admin_token_ending_under_concurrent_writes_is_minted_again_once() {
    let store = Store::start().await;
    let mut config = store.config(admin());
    config["concurrency"] = json!(8);
    let adapter = store.adapter(&config);
    store.fake.slow(Duration::from_millis(20));
    let first = adapter
        .push_batch(&ctx("admin-1").0, &products("ADM", 8))
        .await;
    assert!(first.iter().all(Result::is_ok), "{first:?}");
    assert_eq!(
        store.fake.admin_tokens_minted(),
        1,
        "one token for eight writes"
    );
    // The token ends; sixteen writes, eight at a time, meet the 401.
    store.fake.expire_admin_tokens();
    let (c, sink) = ctx("admin-2");
    let second = adapter.push_batch(&c, &products("ADM2", 16)).await;
    assert!(second.iter().all(Result::is_ok), "{second:?}");
    assert_eq!(
        store.fake.admin_tokens_minted(),
        2,
        "one re-mint for all the writes refused with the old token"
    );
    let mints = sink
        .exchanges()
        .iter()
        .filter(|e| e.event == "magento.admin_token")
        .count();
    assert_eq!(mints, 1);
    assert_eq!(store.fake.product_count(), 24);
}
