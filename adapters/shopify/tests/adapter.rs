//! The adapter against the fake over real HTTP: upserts, prices, both versions' inventory
//! writes with compare-and-swap, throttling (200 and 429), 5xx, config checks.

use serde_json::{json, Value};
use std::sync::Arc;
use switchyard_core::adapter::{Adapter, OutboundDocument};
use switchyard_core::error::ErrorClass;
use switchyard_core::ids::PartnerName;
use switchyard_runtime::testkit::doubles::MapSecrets;
use switchyard_shopify::config::Settings;
use switchyard_shopify::fake::{FakeShopify, FakeShopifyConfig, WriteOutcome};
use switchyard_shopify::{ApiVersion, ShopifyAdapter};

mod support;
use support::{ctx, doc};

const CHI: &str = "gid://shopify/Location/7001";
const HOU: &str = "gid://shopify/Location/7002";

fn settings(fake: &FakeShopify, version: &str) -> Value {
    json!({
        "shop_url": fake.base_url(),
        "api_version": version,
        "access_token": "secret:token",
        "locations": {"CHI": CHI, "HOU": HOU},
        "webhooks": {"secret": "secret:hooks"},
    })
}

fn secrets(fake: &FakeShopify) -> MapSecrets {
    MapSecrets::new()
        .with("secret:token", fake.token())
        .with("secret:hooks", "hush")
        .with("secret:wrong", "shpat_wrong")
}

fn adapter(fake: &FakeShopify, version: ApiVersion) -> ShopifyAdapter {
    adapter_with(fake, settings(fake, version.as_str()))
}

fn adapter_with(fake: &FakeShopify, settings: Value) -> ShopifyAdapter {
    let s: Settings = serde_json::from_value(settings).expect("settings parse");
    let cfg = s.validate(&secrets(fake)).expect("settings valid");
    ShopifyAdapter::new(PartnerName("shop".into()), cfg, reqwest::Client::new())
}

fn product(sku: &str, variants: &[&str], title: &str) -> OutboundDocument {
    doc(
        "catalog",
        json!({
            "sku": sku, "title": title, "handle": sku.to_lowercase(), "status": "ACTIVE",
            "variants": variants.iter().map(|v| json!({"sku": v, "option": format!("opt {v}")})).collect::<Vec<_>>(),
        }),
    )
}

#[tokio::test]
async fn catalog_upserts_by_custom_id_and_archives() {
    let fake = FakeShopify::start(FakeShopifyConfig::default())
        .await
        .unwrap();
    let a = adapter(&fake, ApiVersion::V2026_04);
    let r1 = a
        .push(
            &ctx("k1"),
            &product("A36-FB", &["A36-FB-20", "A36-FB-CUT"], "Flat bar"),
        )
        .await
        .unwrap();
    let r2 = a
        .push(
            &ctx("k2"),
            &product("A36-FB", &["A36-FB-20", "A36-FB-CUT"], "Flat bar, renamed"),
        )
        .await
        .unwrap();
    assert_eq!(r1.external_id, r2.external_id);
    assert_eq!(fake.product_count(), 1);
    let p = fake
        .product_by_custom_id("switchyard", "sku_root", "A36-FB")
        .unwrap();
    assert_eq!(p["title"], "Flat bar, renamed");
    assert_eq!(p["variants"].as_array().unwrap().len(), 2);
    assert_eq!(
        p["options"][0]["values"],
        json!(["opt A36-FB-20", "opt A36-FB-CUT"])
    );
    // A product without variants is its own one variant.
    a.push(&ctx("k3"), &product("PLATE", &[], "Plate"))
        .await
        .unwrap();
    let p = fake
        .product_by_custom_id("switchyard", "sku_root", "PLATE")
        .unwrap();
    assert_eq!(p["variants"][0]["sku"], "PLATE");
    // The tombstone archives.
    a.push(
        &ctx("k4"),
        &doc("catalog", json!({"sku": "A36-FB", "status": "ARCHIVED"})),
    )
    .await
    .unwrap();
    assert_eq!(
        fake.product_by_custom_id("switchyard", "sku_root", "A36-FB")
            .unwrap()["status"],
        "ARCHIVED"
    );
    // A product Shopify refuses is a permanent error naming the SKU and the userError.
    let e = a
        .push(
            &ctx("k5"),
            &doc("catalog", json!({"sku": "NEW", "status": "ACTIVE"})),
        )
        .await
        .unwrap_err();
    assert_eq!(e.class, ErrorClass::Permanent);
    assert!(
        e.message.contains("NEW") && e.message.contains("BLANK"),
        "{}",
        e.message
    );
}

#[tokio::test]
async fn prices_go_through_bulk_update_with_per_sku_errors() {
    let fake = FakeShopify::start(FakeShopifyConfig::default())
        .await
        .unwrap();
    let a = adapter(&fake, ApiVersion::V2026_04);
    a.push(&ctx("k1"), &product("P", &["P-1", "P-2"], "P"))
        .await
        .unwrap();
    a.push(
        &ctx("k2"),
        &doc(
            "prices",
            json!({"sku": "P-1", "price": "219.00", "compareAtPrice": "249.00"}),
        ),
    )
    .await
    .unwrap();
    assert_eq!(
        fake.variant_price("P-1").unwrap(),
        ("219.00".into(), Some("249.00".into()))
    );
    let e = a
        .push(
            &ctx("k3"),
            &doc("prices", json!({"sku": "P-2", "price": "-5.00"})),
        )
        .await
        .unwrap_err();
    assert_eq!(e.class, ErrorClass::Permanent);
    assert!(
        e.message.contains("P-2") && e.message.contains("INVALID_INPUT"),
        "{}",
        e.message
    );
    // A SKU the shop does not have (looked up, not cached): permanent, named.
    let fresh = adapter(&fake, ApiVersion::V2026_04);
    fresh
        .push(
            &ctx("k4"),
            &doc("prices", json!({"sku": "P-2", "price": "7.00"})),
        )
        .await
        .unwrap();
    assert_eq!(fake.variant_price("P-2").unwrap().0, "7.00");
    let e = fresh
        .push(
            &ctx("k5"),
            &doc("prices", json!({"sku": "NOPE", "price": "1.00"})),
        )
        .await
        .unwrap_err();
    assert!(
        e.message.contains("no variant with SKU NOPE"),
        "{}",
        e.message
    );
}

async fn inventory_round(version: ApiVersion) {
    let fake = FakeShopify::start(FakeShopifyConfig::default())
        .await
        .unwrap();
    let a = adapter(&fake, version);
    a.push(&ctx("p"), &product("S", &["S-1"], "S"))
        .await
        .unwrap();
    let stock = |chi: i64, hou: i64| {
        doc(
            "inventory",
            json!({"sku": "S-1", "locations": [{"location": "CHI", "available": chi}, {"location": "HOU", "available": hou}]}),
        )
    };
    a.push(&ctx("w1"), &stock(5, 2)).await.unwrap();
    assert_eq!(
        (fake.available("S-1", CHI), fake.available("S-1", HOU)),
        (Some(5), Some(2))
    );
    // The second write compares with what we confirmed.
    a.push(&ctx("w2"), &stock(8, 2)).await.unwrap();
    let writes: Vec<_> = fake
        .writes()
        .into_iter()
        .filter(|w| w.operation == "inventorySetQuantities")
        .collect();
    let entry = &writes[1].args["input"]["quantities"][0];
    match version {
        ApiVersion::V2026_04 => {
            assert_eq!(entry["changeFromQuantity"], 5);
            assert!(writes[0].args["input"]["quantities"][0]["changeFromQuantity"].is_null());
            assert!(writes.iter().all(|w| w.idempotency_key.is_some()));
        }
        ApiVersion::V2025_10 => {
            assert_eq!(entry["compareQuantity"], 5);
            assert_eq!(writes[1].args["input"]["ignoreCompareQuantity"], false);
            assert_eq!(writes[0].args["input"]["ignoreCompareQuantity"], true);
        }
    }
    assert_eq!(
        writes[1].args["input"]["referenceDocumentUri"]
            .as_str()
            .unwrap()
            .split('/')
            .take(4)
            .collect::<Vec<_>>()
            .join("/"),
        "gid://switchyard/Sync"
    );
    // A unit sold at the storefront between our writes: stale, re-read, retried once, applied.
    fake.stale_next(1);
    a.push(&ctx("w3"), &stock(10, 2)).await.unwrap();
    assert_eq!(fake.available("S-1", CHI), Some(10));
    let outcomes: Vec<WriteOutcome> = fake
        .writes()
        .iter()
        .filter(|w| w.operation == "inventorySetQuantities")
        .map(|w| w.outcome)
        .collect();
    assert_eq!(
        outcomes[2..],
        [WriteOutcome::UserErrors, WriteOutcome::Applied]
    );
    // Stale twice in a row: a permanent error (the engine's dead letter), nothing applied.
    fake.stale_next(2);
    let e = a.push(&ctx("w4"), &stock(11, 2)).await.unwrap_err();
    assert_eq!(e.class, ErrorClass::Permanent);
    assert!(e.message.contains("STALE"), "{}", e.message);
    // A location without a Shopify location in config.
    let e = a
        .push(
            &ctx("w5"),
            &doc(
                "inventory",
                json!({"sku": "S-1", "locations": [{"location": "NYC", "available": 1}]}),
            ),
        )
        .await
        .unwrap_err();
    assert!(e.message.contains("`NYC`"), "{}", e.message);
    // The tombstone: zero at every configured location.
    a.push(
        &ctx("w6"),
        &doc("inventory", json!({"sku": "S-1", "available": 0})),
    )
    .await
    .unwrap();
    assert_eq!(
        (fake.available("S-1", CHI), fake.available("S-1", HOU)),
        (Some(0), Some(0))
    );
}

#[tokio::test]
async fn inventory_2026_04() {
    inventory_round(ApiVersion::V2026_04).await;
}

#[tokio::test]
async fn inventory_2025_10() {
    inventory_round(ApiVersion::V2025_10).await;
}

#[tokio::test]
async fn a_resent_inventory_write_is_answered_from_shopifys_idempotency_store() {
    let fake = FakeShopify::start(FakeShopifyConfig::default())
        .await
        .unwrap();
    let a = adapter(&fake, ApiVersion::V2026_04);
    a.push(&ctx("p"), &product("S", &["S-1"], "S"))
        .await
        .unwrap();
    let stock = doc(
        "inventory",
        json!({"sku": "S-1", "locations": [{"location": "CHI", "available": 4}]}),
    );
    a.push(&ctx("same-key"), &stock).await.unwrap();
    // A crash before the engine recorded the confirmation: a fresh process sends it again.
    let after_crash = adapter(&fake, ApiVersion::V2026_04);
    after_crash.push(&ctx("same-key"), &stock).await.unwrap();
    let outcomes: Vec<WriteOutcome> = fake
        .writes()
        .iter()
        .filter(|w| w.operation == "inventorySetQuantities")
        .map(|w| w.outcome)
        .collect();
    assert_eq!(outcomes, [WriteOutcome::Applied, WriteOutcome::Replayed]);
    // The same process sending it again (the engine retrying after its own failure) sends
    // the same variables, though it has since confirmed the quantity: replayed, not refused.
    a.push(&ctx("same-key"), &stock).await.unwrap();
    let last = fake.writes().last().cloned().unwrap();
    assert_eq!(last.outcome, WriteOutcome::Replayed);
}

async fn throttled_round(use_429: bool) {
    // A tiny bucket: 25 points, 50 restored per second; every productSet costs 10 + its
    // selection, so 24 concurrent writes must wait for the bucket many times.
    let fake = FakeShopify::start(FakeShopifyConfig::default().bucket(40.0, 200.0))
        .await
        .unwrap();
    fake.throttle_with_429(use_429);
    let a = Arc::new(adapter(&fake, ApiVersion::V2026_04));
    let mut tasks = Vec::new();
    for i in 0..24 {
        let a = a.clone();
        tasks.push(tokio::spawn(async move {
            a.push(
                &ctx(&format!("t{i}")),
                &product(&format!("T{i}"), &[&format!("T{i}-1")], "T"),
            )
            .await
        }));
    }
    for t in tasks {
        t.await
            .unwrap()
            .expect("no write fails because of throttling");
    }
    assert_eq!(fake.product_count(), 24);
    assert_eq!(fake.applied("productSet"), 24);
    assert!(fake.bucket_lowest() >= 0.0);
    // A forced burst of throttled answers is waited out too.
    fake.throttle_next(3);
    a.push(&ctx("forced"), &product("F", &["F-1"], "F"))
        .await
        .unwrap();
    assert!(fake.stats().throttled >= 3);
}

#[tokio::test]
async fn throttling_as_200_never_fails_a_write() {
    throttled_round(false).await;
}

#[tokio::test]
async fn throttling_as_429_never_fails_a_write() {
    throttled_round(true).await;
}

/// Two processes writing one product at a time to the same shop share Shopify's cost bucket,
/// but each paces with its own copy: the server's `throttleStatus` corrects each copy after
/// every answer, and a THROTTLED answer is waited out by whichever process got it, so no
/// write fails and the shop's bucket never goes below zero.
#[tokio::test]
async fn two_processes_share_the_shops_cost_bucket_without_a_failed_write() {
    let fake = FakeShopify::start(FakeShopifyConfig::default().bucket(40.0, 200.0))
        .await
        .unwrap();
    // Separate adapters: separate clients, buckets and memory, as two daemons have.
    let first = Arc::new(adapter(&fake, ApiVersion::V2026_04));
    let second = Arc::new(adapter(&fake, ApiVersion::V2026_04));
    let mut tasks = Vec::new();
    for i in 0..24 {
        let a = if i % 2 == 0 {
            first.clone()
        } else {
            second.clone()
        };
        tasks.push(tokio::spawn(async move {
            a.push(
                &ctx(&format!("two{i}")),
                &product(&format!("W{i}"), &[&format!("W{i}-1")], "W"),
            )
            .await
        }));
    }
    for t in tasks {
        t.await
            .unwrap()
            .expect("no write fails because the other process used the bucket");
    }
    assert_eq!(fake.product_count(), 24);
    assert_eq!(fake.applied("productSet"), 24, "each written once");
    assert!(fake.bucket_lowest() >= 0.0);
    // Neither copy knew of the other's spending: the shop had to throttle, and it was
    // waited out.
    assert!(fake.stats().throttled > 0, "{:?}", fake.stats());
}

#[tokio::test]
async fn errors_map_to_retry_classes() {
    let fake = FakeShopify::start(FakeShopifyConfig::default())
        .await
        .unwrap();
    let a = adapter(&fake, ApiVersion::V2026_04);
    fake.fail_next(1, 503);
    let e = a
        .push(&ctx("x"), &product("E", &["E-1"], "E"))
        .await
        .unwrap_err();
    assert_eq!((e.class.as_str(), e.status), ("transient", Some(503)));
    a.health(&ctx("h")).await.unwrap();
    let mut s = settings(&fake, "2026-04");
    s["access_token"] = json!("secret:wrong");
    let bad = adapter_with(&fake, s);
    let e = bad.health(&ctx("h")).await.unwrap_err();
    assert_eq!(e.class, ErrorClass::Auth);
    let e = a
        .push(&ctx("y"), &doc("orders", json!({"sku": "x"})))
        .await
        .unwrap_err();
    assert_eq!(e.class, ErrorClass::Permanent);
}

#[tokio::test]
async fn config_names_the_key_at_fault() {
    let fake = FakeShopify::start(FakeShopifyConfig::default())
        .await
        .unwrap();
    let mut s = settings(&fake, "2024-01");
    s["locations"]["NYC"] = json!("Location/9");
    s["webhooks"]["previous_secret"] = json!("secret:hooks");
    let settings: Settings = serde_json::from_value(s).unwrap();
    let problems = settings.validate(&secrets(&fake)).unwrap_err();
    let at: Vec<String> = problems.iter().map(|p| p.keys.join(".")).collect();
    assert_eq!(at, ["api_version", "locations.NYC", "webhooks.rotated_at"]);
    assert!(
        problems[0].message.contains("2025-10, 2026-04"),
        "{}",
        problems[0].message
    );
    let unknown = serde_json::from_value::<Settings>(
        json!({"shop_url": "https://x.myshopify.com", "api_version": "2026-04", "access_token": "secret:token", "colour": 1}),
    );
    assert!(unknown
        .unwrap_err()
        .to_string()
        .contains("unknown field `colour`"));
}

#[tokio::test]
async fn bulk_cancel_and_lease_times_are_checked() {
    let fake = FakeShopify::start(FakeShopifyConfig::default())
        .await
        .unwrap();
    let mut s = settings(&fake, "2026-04");
    s["bulk_cancel_after_secs"] = json!(0);
    s["bulk_lease_secs"] = json!(1);
    let settings: Settings = serde_json::from_value(s).unwrap();
    let problems = settings.validate(&secrets(&fake)).unwrap_err();
    let at: Vec<String> = problems.iter().map(|p| p.keys.join(".")).collect();
    assert_eq!(at, ["bulk_cancel_after_secs", "bulk_lease_secs"]);
    assert_eq!(problems[0].message, "must be 1 to 604800, not 0");
    assert_eq!(problems[1].message, "must be 2 to 3600, not 1");
}

#[tokio::test]
async fn webhooks_from_the_fake_verify() {
    let fake = FakeShopify::start(FakeShopifyConfig::default().webhook_secret("hush"))
        .await
        .unwrap();
    let a = adapter(&fake, ApiVersion::V2026_04);
    // Catch what the fake sends on a one-off loopback server, then hand it to the adapter.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/webhooks/shop", listener.local_addr().unwrap());
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let app = axum::Router::new().route(
        "/webhooks/shop",
        axum::routing::post(
            move |headers: axum::http::HeaderMap, body: axum::body::Bytes| {
                let tx = tx.clone();
                async move {
                    let h: Vec<(String, String)> = headers
                        .iter()
                        .map(|(k, v)| {
                            (
                                k.as_str().to_owned(),
                                v.to_str().unwrap_or_default().to_owned(),
                            )
                        })
                        .collect();
                    tx.send((h, body.to_vec())).unwrap();
                    "ok"
                }
            },
        ),
    );
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let body = json!({"id": 450789469, "admin_graphql_api_id": "gid://shopify/Order/450789469"});
    assert_eq!(
        fake.send_webhook(&url, "orders/create", &body, "evt-1", None)
            .await
            .unwrap(),
        200
    );
    assert_eq!(
        fake.send_webhook(
            &url,
            "orders/create",
            &body,
            "evt-2",
            Some("not-the-secret")
        )
        .await
        .unwrap(),
        200
    );
    let (h, raw) = rx.recv().await.unwrap();
    let v = a.receive_webhook(&ctx("w"), &h, &raw).await.unwrap();
    assert_eq!(
        (v.event_id.as_str(), v.topic.as_str()),
        ("evt-1", "orders/create")
    );
    let (h, raw) = rx.recv().await.unwrap();
    let e = a.receive_webhook(&ctx("w"), &h, &raw).await.unwrap_err();
    assert_eq!(e.class, ErrorClass::Auth);
}

/// The order pull pages by updatedAt; an order edited while it pages is taken once, in its
/// edited version; the next pull's overlap brings nothing already committed, only new changes.
#[tokio::test]
async fn order_pull_across_pages_with_an_overlap_and_an_edit_during_the_pull() {
    use switchyard_shopify::fake::{gid, FakeOrderSpec};
    use switchyard_shopify::orders::Checkpoint;
    let fake = FakeShopify::start(FakeShopifyConfig::default())
        .await
        .unwrap();
    let a = adapter(&fake, ApiVersion::V2026_04);
    let ids: Vec<u64> = (1..=5)
        .map(|i| fake.create_order(FakeOrderSpec::simple("a@example.com", &[("SKU-1", i)])))
        .collect();
    // Order 0 is edited after the first page (2 orders) is served.
    fake.update_order_after_next_page(ids[0], |s| s.lines[0].quantity = 42);
    let ctx = ctx("orders");
    let first = a
        .pull_orders(&ctx, &Checkpoint::default(), 2)
        .await
        .expect("pull");
    assert!(first.pages >= 3, "pages: {}", first.pages);
    let got: Vec<&str> = first
        .orders
        .iter()
        .map(|o| o["id"].as_str().unwrap())
        .collect();
    let want: Vec<String> = [1, 2, 3, 4, 0]
        .iter()
        .map(|&i| gid("Order", ids[i]))
        .collect();
    assert_eq!(got, want, "each order once, the edited one last");
    assert_eq!(first.orders[4]["lineItems"]["nodes"][0]["quantity"], 42);
    assert_eq!(
        first.orders[4]["lineItems"]["nodes"][0]["variant"]["sku"],
        "SKU-1"
    );
    assert_eq!(
        first
            .next
            .since
            .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)),
        first.orders[4]["updatedAt"].as_str().map(str::to_owned)
    );

    // Nothing changed: the overlap re-reads the five, all already committed.
    let again = a.pull_orders(&ctx, &first.next, 2).await.expect("pull");
    assert!(again.orders.is_empty(), "{:?}", again.orders);
    assert_eq!(again.next, first.next);

    // A cancellation is the one new change.
    assert!(fake.cancel_order(ids[2], "CUSTOMER"));
    let third = a.pull_orders(&ctx, &again.next, 2).await.expect("pull");
    assert_eq!(third.orders.len(), 1);
    assert_eq!(third.orders[0]["id"], gid("Order", ids[2]));
    assert!(third.orders[0]["cancelledAt"].is_string());
    assert!(third.next.since > again.next.since);
}
