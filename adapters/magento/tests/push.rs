//! Catalog, stock and prices written to the fake store over HTTP, and how refusals come back.

mod common;

use common::{ctx, doc, oauth, product, Store};
use serde_json::json;
use switchyard_core::adapter::{Adapter as _, BatchItem, Presence};
use switchyard_core::ErrorClass;

async fn store() -> (Store, switchyard_magento::MagentoAdapter) {
    let store = Store::start().await;
    let adapter = store.adapter(&store.config(oauth("HMAC-SHA256")));
    (store, adapter)
}

#[tokio::test]
async fn an_unknown_sku_is_created_after_the_update_404s_then_updated_in_place() {
    let (store, adapter) = store().await;
    let (c, sink) = ctx("create");
    let first = adapter
        .push(&c, &product("A36/RB-0750", "Round bar"))
        .await
        .unwrap();
    let events: Vec<String> = sink.exchanges().iter().map(|e| e.event.clone()).collect();
    assert_eq!(events, ["magento.product.update", "magento.product.create"]);
    let writes = store.fake.writes();
    assert_eq!(writes[0].status, 404);
    assert_eq!(
        writes[0].route, "V1/products/A36/RB-0750",
        "the SKU travelled as one segment"
    );
    let p = store.fake.product("A36/RB-0750").unwrap();
    assert_eq!(
        p["extension_attributes"]["website_ids"],
        json!([1]),
        "websites from the connection"
    );
    assert_eq!(first.external_id, Some(p["id"].to_string()));

    let again = adapter
        .push(&ctx("update").0, &product("A36/RB-0750", "Round bar 3/4"))
        .await
        .unwrap();
    assert_eq!(again.external_id, first.external_id);
    assert_eq!(
        store.fake.product("A36/RB-0750").unwrap()["name"],
        "Round bar 3/4"
    );
    assert_eq!(store.fake.writes().len(), 3, "the second push is one PUT");
}

#[tokio::test]
async fn in_a_batch_a_sku_never_sent_is_one_post_and_a_sent_one_deleted_in_the_store_put_then_post()
{
    let (store, adapter) = store().await;
    store
        .fake
        .seed_product(json!({"sku": "KEPT", "name": "old"}));
    let batch: Vec<BatchItem> = [
        (product("FRESH", "new"), Presence::New),
        (product("KEPT", "kept v2"), Presence::Sent),
        // Confirmed before, deleted in the store's admin since.
        (product("GONE", "back"), Presence::Sent),
    ]
    .into_iter()
    .enumerate()
    .map(|(i, (doc, presence))| BatchItem {
        idempotency_key: format!("i{i}"),
        doc,
        presence,
    })
    .collect();
    let results = adapter.push_batch(&ctx("presence").0, &batch).await;
    for (i, r) in results.iter().enumerate() {
        assert!(r.is_ok(), "{i}: {r:?}");
    }
    let mut calls: Vec<(String, String, u16)> = store
        .fake
        .writes()
        .into_iter()
        .map(|w| (w.method, w.route, w.status))
        .collect();
    calls.sort();
    let call = |m: &str, r: &str, s: u16| (m.to_owned(), r.to_owned(), s);
    // FRESH: no PUT to answer 404 first. GONE: the update's 404, then the create.
    assert_eq!(
        calls,
        [
            call("POST", "V1/products", 200),
            call("POST", "V1/products", 200),
            call("PUT", "V1/products/GONE", 404),
            call("PUT", "V1/products/KEPT", 200),
        ]
    );
    for (sku, name) in [("FRESH", "new"), ("KEPT", "kept v2"), ("GONE", "back")] {
        assert_eq!(store.fake.product(sku).expect(sku)["name"], name);
    }
}

#[tokio::test]
async fn a_refused_product_is_permanent_with_the_rendered_message_and_field() {
    let (store, adapter) = store().await;
    let bad = doc(
        "catalog",
        json!({"product": {"sku": "X-1", "name": "x", "colour": "red"}}),
    );
    let err = adapter.push(&ctx("bad").0, &bad).await.unwrap_err();
    assert_eq!(err.class, ErrorClass::Permanent);
    assert_eq!(err.status, Some(400));
    assert!(
        err.message
            .contains("Property \"Colour\" does not have accessor method \"getColour\""),
        "{err}"
    );
    let missing = doc("catalog", json!({"product": {"sku": "X-2", "price": 3}}));
    let err = adapter.push(&ctx("missing").0, &missing).await.unwrap_err();
    assert!(
        err.message
            .contains("The \"name\" attribute value is empty")
            && err.message.contains("(field `name`)"),
        "{err}"
    );
    assert_eq!(store.fake.product_count(), 0);
    // A document without a SKU never leaves the adapter.
    let err = adapter
        .push(&ctx("nosku").0, &doc("catalog", json!({"product": {}})))
        .await
        .unwrap_err();
    assert_eq!(err.class, ErrorClass::Permanent);
}

#[tokio::test]
async fn outages_are_transient_and_throttling_carries_retry_after() {
    let (store, adapter) = store().await;
    store.fake.fail_next(2, 503);
    let err = adapter
        .push(&ctx("burst").0, &product("T-1", "t"))
        .await
        .unwrap_err();
    assert!(err.class.is_retryable());
    assert!(err.message.contains("Report ID: webapi-6571"), "{err}");
    store.fake.slow(std::time::Duration::from_millis(300));
    let mut config = store.config(oauth("HMAC-SHA256"));
    config["timeout_ms"] = json!(50);
    let err = store
        .adapter(&config)
        .health(&ctx("slow").0)
        .await
        .unwrap_err();
    assert_eq!(err.class, ErrorClass::transient(), "{err}");
    store.fake.fix();
    store.fake.throttle(4);
    let err = adapter.health(&ctx("throttled").0).await.unwrap_err();
    assert_eq!(
        err.class.retry_after(),
        Some(std::time::Duration::from_secs(4))
    );
}

#[tokio::test]
async fn tombstones_disable_or_delete_and_are_done_when_the_product_is_gone() {
    let (store, adapter) = store().await;
    store
        .fake
        .seed_product(json!({"sku": "OLD-1", "name": "old", "status": 1}));
    store
        .fake
        .seed_product(json!({"sku": "OLD-2", "name": "old", "status": 1}));
    adapter
        .push(
            &ctx("dis").0,
            &doc("catalog", json!({"disable": {"sku": "OLD-1"}})),
        )
        .await
        .unwrap();
    assert_eq!(store.fake.product("OLD-1").unwrap()["status"], 2);
    adapter
        .push(
            &ctx("del").0,
            &doc("catalog", json!({"delete": {"sku": "OLD-2"}})),
        )
        .await
        .unwrap();
    assert!(store.fake.product("OLD-2").is_none());
    let gone = adapter
        .push(
            &ctx("del2").0,
            &doc("catalog", json!({"delete": {"sku": "OLD-2"}})),
        )
        .await
        .unwrap();
    assert!(gone.duplicate);
    let never = adapter
        .push(
            &ctx("dis2").0,
            &doc("catalog", json!({"disable": {"sku": "NEVER"}})),
        )
        .await
        .unwrap();
    assert!(never.duplicate);
    assert!(
        store.fake.product("NEVER").is_none(),
        "a tombstone never creates a product"
    );
}

#[tokio::test]
async fn stock_goes_to_msi_sources_or_the_legacy_stock_item() {
    let (store, adapter) = store().await;
    store.fake.seed_product(json!({"sku": "S-1", "name": "s"}));
    let stock = doc(
        "inventory",
        json!({"sku": "S-1", "quantity": 12,
        "sources": [{"location": "CHI", "quantity": 12}, {"location": "HOU", "quantity": 0}]}),
    );
    adapter.push(&ctx("msi").0, &stock).await.unwrap();
    assert_eq!(
        store.fake.source_item("S-1", "chicago").unwrap()["quantity"],
        12.0
    );
    assert_eq!(
        store.fake.source_item("S-1", "chicago").unwrap()["status"],
        1
    );
    assert_eq!(
        store.fake.source_item("S-1", "houston").unwrap()["status"],
        0
    );

    // A location without a source is this SKU's error, naming the setting to fix.
    let unmapped = doc(
        "inventory",
        json!({"sku": "S-1", "quantity": 3, "sources": [{"location": "DAL", "quantity": 3}]}),
    );
    let err = adapter.push(&ctx("dal").0, &unmapped).await.unwrap_err();
    assert_eq!(err.class, ErrorClass::Permanent);
    assert!(
        err.message.contains("`DAL`") && err.message.contains("msi.sources"),
        "{err}"
    );

    // The store validates the whole request: an unknown SKU saves nothing.
    let unknown = doc(
        "inventory",
        json!({"sku": "NOPE", "quantity": 1, "sources": [{"location": "CHI", "quantity": 1}]}),
    );
    let err = adapter.push(&ctx("nope").0, &unknown).await.unwrap_err();
    assert!(
        err.message
            .contains("Validation Failed; Product with SKU \"NOPE\" does not exist."),
        "{err}"
    );

    // Removed: every mapped source zeroed.
    adapter
        .push(
            &ctx("rm").0,
            &doc("inventory", json!({"sku": "S-1", "remove": true})),
        )
        .await
        .unwrap();
    assert_eq!(
        store.fake.source_item("S-1", "chicago").unwrap()["quantity"],
        0.0
    );

    let mut config = store.config(oauth("HMAC-SHA256"));
    config["msi"] = json!({"enabled": false});
    let legacy = store.adapter(&config);
    legacy.push(&ctx("legacy").0, &stock).await.unwrap();
    assert_eq!(
        store.fake.stock_item("S-1").unwrap(),
        json!({"qty": 12.0, "is_in_stock": true})
    );
}

fn prices(sku: &str, base: &str, gold: &str) -> switchyard_core::adapter::OutboundDocument {
    doc(
        "prices",
        json!({"sku": sku,
        "prices": [{"currency": "EUR", "price": "1.00", "tiers": []},
                   {"currency": "USD", "price": base, "tiers": [{"min_quantity": "10", "price": "95.00"}]}],
        "group_prices": [{"customer_group": "GOLD", "currency": "USD", "price": gold, "tiers": []}]}),
    )
}

#[tokio::test]
async fn prices_go_in_one_call_per_kind_and_per_item_failures_map_back_to_their_skus() {
    let (store, adapter) = store().await;
    for sku in ["PR-1", "PR-2", "PR-3"] {
        store.fake.seed_product(json!({"sku": sku, "name": sku}));
    }
    store.fake.refuse_prices_for("PR-2");
    let items: Vec<BatchItem> = [
        prices("PR-1", "100.00", "92.00"),
        prices("PR-2", "50", "45"),
        prices("PR-3", "-1", "1"),
        prices("PR-4", "7", "6"),
    ]
    .into_iter()
    .enumerate()
    .map(|(i, d)| BatchItem {
        idempotency_key: format!("k{i}"),
        doc: d,
        presence: Presence::New,
    })
    .collect();
    let (c, sink) = ctx("prices");
    let results = adapter.push_batch(&c, &items).await;
    assert_eq!(results.len(), 4);
    assert!(results[0].is_ok(), "{:?}", results[0]);
    let refused = results[1].as_ref().unwrap_err();
    assert_eq!(refused.class, ErrorClass::Permanent);
    assert!(
        refused.message.contains("Price for SKU = PR-2 was refused"),
        "{refused}"
    );
    let negative = results[2].as_ref().unwrap_err();
    assert!(
        negative.message.contains("Invalid attribute Price = -1"),
        "{negative}"
    );
    let unknown = results[3].as_ref().unwrap_err();
    assert!(
        unknown
            .message
            .contains("Requested product doesn't exist. Row ID: SKU = PR-4"),
        "{unknown}"
    );
    // One base-prices call and one tier-prices call for the whole batch.
    let events: Vec<String> = sink.exchanges().iter().map(|e| e.event.clone()).collect();
    assert_eq!(events, ["magento.base_prices", "magento.tier_prices"]);

    assert_eq!(store.fake.base_price("PR-1").unwrap()["price"], 100.0);
    let tiers = store.fake.tier_prices("PR-1");
    assert_eq!(tiers.len(), 2, "{tiers:?}");
    assert!(tiers
        .iter()
        .any(|t| t["customer_group"] == "ALL GROUPS" && t["quantity"] == 10 && t["price"] == 95));
    assert!(tiers
        .iter()
        .any(|t| t["customer_group"] == "Gold" && t["quantity"] == 1 && t["price"] == 92));
    assert!(
        store.fake.tier_prices("PR-2").is_empty(),
        "a failed SKU's tiers are not sent"
    );

    // Replacing: a changed group price replaces the set; removal deletes the tiers.
    adapter
        .push(&ctx("p2").0, &prices("PR-1", "100.00", "90.00"))
        .await
        .unwrap();
    let tiers = store.fake.tier_prices("PR-1");
    assert_eq!(tiers.len(), 2);
    assert!(tiers
        .iter()
        .any(|t| t["customer_group"] == "Gold" && t["price"] == 90));
    adapter
        .push(
            &ctx("p3").0,
            &doc("prices", json!({"sku": "PR-1", "remove": true})),
        )
        .await
        .unwrap();
    assert!(store.fake.tier_prices("PR-1").is_empty());

    // An unknown customer group fails that SKU alone.
    let mut config = store.config(oauth("HMAC-SHA256"));
    config["customer_groups"] = json!({"GOLD": "Platinum"});
    let err = store
        .adapter(&config)
        .push(&ctx("grp").0, &prices("PR-3", "5", "4"))
        .await
        .unwrap_err();
    assert!(
        err.message
            .contains("No such entity with Customer Group = Platinum"),
        "{err}"
    );
    // No price in the store's currency: the SKU's error names the setting.
    let eur_only = doc(
        "prices",
        json!({"sku": "PR-3", "prices": [{"currency": "EUR", "price": "1"}]}),
    );
    let err = adapter.push(&ctx("eur").0, &eur_only).await.unwrap_err();
    assert!(err.message.contains("no USD price"), "{err}");
}

fn special(
    sku: &str,
    price: &str,
    from: &str,
    to: &str,
) -> switchyard_core::adapter::OutboundDocument {
    doc(
        "prices",
        json!({"sku": sku, "prices": [{"currency": "USD", "price": "100.00", "tiers": []}],
               "special_prices": [{"currency": "USD", "price": price, "from": from, "to": to}]}),
    )
}

#[tokio::test]
async fn special_prices_with_dates_are_kept_equal_and_failures_map_to_their_skus() {
    let (store, adapter) = store().await;
    for sku in ["SP-1", "SP-2", "SP-3"] {
        store.fake.seed_product(json!({"sku": sku, "name": sku}));
    }
    store.fake.refuse_special_prices_for("SP-2");
    let items: Vec<BatchItem> = [
        special("SP-1", "89.50", "2026-12-01", "2026-12-24"),
        special("SP-3", "70", "2026-12-01", "2026-12-31 12:00:00"),
        special("SP-4", "1", "2026-12-01", "2026-12-02"),
        // Refused by us before any call: the end before the start.
        special("SP-3", "70", "2026-12-05", "2026-12-01"),
    ]
    .into_iter()
    .enumerate()
    .map(|(i, d)| BatchItem {
        idempotency_key: format!("s{i}"),
        doc: d,
        presence: Presence::New,
    })
    .collect();
    let (c, sink) = ctx("special");
    let results = adapter.push_batch(&c, &items).await;
    assert!(results[0].is_ok(), "{:?}", results[0]);
    assert!(results[1].is_ok(), "{:?}", results[1]);
    let unknown = results[2].as_ref().unwrap_err();
    assert_eq!(unknown.class, ErrorClass::Permanent);
    assert!(unknown.message.contains("SKU = SP-4"), "{unknown}");
    let backwards = results[3].as_ref().unwrap_err();
    assert!(
        backwards.message.contains("special_prices[0].to")
            && backwards.message.contains("is before"),
        "{backwards}"
    );
    let events: Vec<String> = sink.exchanges().iter().map(|e| e.event.clone()).collect();
    assert_eq!(
        events,
        [
            "magento.base_prices",
            // No tiers sent: the SKUs' old tiers are looked up (none to delete).
            "magento.tier_prices_information",
            "magento.special_prices_information",
            "magento.special_prices"
        ],
        "one call per kind for the batch"
    );
    assert_eq!(
        store.fake.special_prices("SP-1"),
        [json!({"sku": "SP-1", "store_id": 0, "price": 89.5,
                "price_from": "2026-12-01 00:00:00", "price_to": "2026-12-24 23:59:59"})]
    );
    assert_eq!(
        store.fake.special_prices("SP-3")[0]["price_to"],
        "2026-12-31 12:00:00"
    );

    // A per-item refusal fails that SKU alone.
    let err = adapter
        .push(
            &ctx("refused").0,
            &special("SP-2", "5", "2026-12-01", "2026-12-02"),
        )
        .await
        .unwrap_err();
    assert!(
        err.message
            .contains("Special price for SKU = SP-2 was refused"),
        "{err}"
    );
    assert!(
        store.fake.base_price("SP-2").is_some(),
        "the base price went through"
    );

    // The same special price again writes nothing; a new one replaces the old; an empty
    // list removes it; a document without the key leaves it alone.
    store.fake.clear_writes();
    adapter
        .push(
            &ctx("same").0,
            &special("SP-1", "89.50", "2026-12-01", "2026-12-24"),
        )
        .await
        .unwrap();
    let routes: Vec<String> = store
        .fake
        .writes()
        .iter()
        .map(|w| w.route.clone())
        .collect();
    assert!(
        !routes.iter().any(|r| r.ends_with("special-price")),
        "{routes:?}"
    );
    assert!(
        !routes.iter().any(|r| r.ends_with("special-price-delete")),
        "{routes:?}"
    );
    adapter
        .push(
            &ctx("new").0,
            &special("SP-1", "79", "2026-12-10", "2026-12-20"),
        )
        .await
        .unwrap();
    let now = store.fake.special_prices("SP-1");
    assert_eq!(now.len(), 1);
    assert_eq!(now[0]["price"], 79.0);
    assert_eq!(now[0]["price_from"], "2026-12-10 00:00:00");
    adapter
        .push(
            &ctx("untouched").0,
            &doc("prices", json!({"sku": "SP-1", "prices": [{"currency": "USD", "price": "100", "tiers": []}]})),
        )
        .await
        .unwrap();
    assert_eq!(store.fake.special_prices("SP-1").len(), 1);
    adapter
        .push(
            &ctx("ended").0,
            &doc("prices", json!({"sku": "SP-1", "prices": [{"currency": "USD", "price": "100", "tiers": []}], "special_prices": []})),
        )
        .await
        .unwrap();
    assert!(store.fake.special_prices("SP-1").is_empty());
}
