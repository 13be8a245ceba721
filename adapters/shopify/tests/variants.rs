//! Products sold as variants that are quantities of them (a bar stocked per FT, sold in 12 ft
//! and 20 ft lengths), against the fake over real HTTP: the product's stock and prices
//! documents carry `variants: [{"sku", "units"}]` and reach each variant, whole pieces and
//! price × units; one document is one write and fails as a whole, naming the variant. Above
//! `bulk_threshold` the prices go as a bulk operation and the bar's line carries its lengths
//! the same way.

use serde_json::{json, Value};
use switchyard_core::adapter::{Adapter, BatchItem, OutboundDocument, Presence};
use switchyard_core::error::ErrorClass;
use switchyard_core::ids::PartnerName;
use switchyard_runtime::testkit::doubles::MapSecrets;
use switchyard_shopify::config::Settings;
use switchyard_shopify::fake::{BulkStatus, FakeShopify, FakeShopifyConfig, FixedPrice};
use switchyard_shopify::ShopifyAdapter;

mod support;
use support::{ctx, doc};

const CHI: &str = "gid://shopify/Location/7001";
const HOU: &str = "gid://shopify/Location/7002";

fn adapter(fake: &FakeShopify, version: &str, extra: Value) -> ShopifyAdapter {
    let mut settings = json!({
        "shop_url": fake.base_url(),
        "api_version": version,
        "access_token": "secret:token",
        "locations": {"CHI": CHI, "HOU": HOU},
    });
    for (k, v) in extra.as_object().unwrap() {
        settings[k] = v.clone();
    }
    let s: Settings = serde_json::from_value(settings).expect("settings parse");
    let secrets = MapSecrets::new().with("secret:token", fake.token());
    let cfg = s.validate(&secrets).expect("settings valid");
    ShopifyAdapter::new(PartnerName("shop".into()), cfg, reqwest::Client::new())
}

/// The round bar in the shop: only its two lengths are variants.
async fn bar(a: &ShopifyAdapter) {
    a.push(
        &ctx("catalog"),
        &doc(
            "catalog",
            json!({"sku": "RB", "title": "Round bar", "status": "ACTIVE",
                   "variants": [{"sku": "RB-12FT", "option": "12 ft"}, {"sku": "RB-20FT", "option": "20 ft"}]}),
        ),
    )
    .await
    .expect("catalog");
}

const LENGTHS: &str = r#"[{"sku": "RB-12FT", "units": "12"}, {"sku": "RB-20FT", "units": "20"}]"#;

fn lengths() -> Value {
    serde_json::from_str(LENGTHS).unwrap()
}

/// `inventory.out` of the bar with `chi` / `hou` FT available (exact and floored).
fn stock(chi: &str, hou: &str) -> OutboundDocument {
    let whole = |s: &str| s.split('.').next().unwrap().parse::<i64>().unwrap();
    doc(
        "inventory",
        json!({"sku": "RB",
               "locations": [{"location": "CHI", "available": whole(chi), "available_exact": chi},
                             {"location": "HOU", "available": whole(hou), "available_exact": hou}],
               "variants": lengths()}),
    )
}

fn quantities(fake: &FakeShopify, sku: &str) -> (Option<i64>, Option<i64>) {
    (fake.available(sku, CHI), fake.available(sku, HOU))
}

async fn stock_round(version: &str) {
    let fake = FakeShopify::start(FakeShopifyConfig::default())
        .await
        .unwrap();
    let a = adapter(&fake, version, json!({}));
    bar(&a).await;
    // 245.5 ft at Chicago: 20 pieces of 12 ft, 12 of 20 ft; 19.9 ft at Houston: 1 and 0.
    a.push(&ctx("s1"), &stock("245.5", "19.9")).await.unwrap();
    assert_eq!(quantities(&fake, "RB-12FT"), (Some(20), Some(1)));
    assert_eq!(quantities(&fake, "RB-20FT"), (Some(12), Some(0)));
    // The product's own SKU is nothing in the shop, and one document is one write.
    assert_eq!(fake.available("RB", CHI), None);
    let writes: Vec<_> = fake
        .writes()
        .into_iter()
        .filter(|w| w.operation == "inventorySetQuantities")
        .collect();
    assert_eq!(writes.len(), 1);
    assert_eq!(
        writes[0].args["input"]["quantities"]
            .as_array()
            .unwrap()
            .len(),
        4
    );
    // A change: compared with what was confirmed per variant and location.
    a.push(&ctx("s2"), &stock("240", "40")).await.unwrap();
    assert_eq!(quantities(&fake, "RB-12FT"), (Some(20), Some(3)));
    assert_eq!(quantities(&fake, "RB-20FT"), (Some(12), Some(2)));
    // Without the exact figure, the whole units the document gives.
    a.push(
        &ctx("s3"),
        &doc(
            "inventory",
            json!({"sku": "RB", "locations": [{"location": "CHI", "available": 25}], "variants": lengths()}),
        ),
    )
    .await
    .unwrap();
    assert_eq!(fake.available("RB-12FT", CHI), Some(2));
    assert_eq!(fake.available("RB-20FT", CHI), Some(1));
    // Stale twice (a length sold in the shop meanwhile): the item's dead letter names the
    // variant and the field Shopify refused, and nothing is applied.
    let applied = fake.applied("inventorySetQuantities");
    fake.stale_next(2);
    let e = a.push(&ctx("s4"), &stock("480", "0")).await.unwrap_err();
    assert_eq!(e.class, ErrorClass::Permanent);
    assert!(
        e.message.contains("RB-12FT: ") && e.message.contains("STALE"),
        "{}",
        e.message
    );
    assert_eq!(fake.applied("inventorySetQuantities"), applied);
}

#[tokio::test]
async fn stock_reaches_each_length_in_whole_pieces_2026_04() {
    stock_round("2026-04").await;
}

#[tokio::test]
async fn stock_reaches_each_length_in_whole_pieces_2025_10() {
    stock_round("2025-10").await;
}

#[tokio::test]
async fn a_missing_variant_or_a_product_without_units_is_a_dead_letter_saying_why() {
    let fake = FakeShopify::start(FakeShopifyConfig::default())
        .await
        .unwrap();
    let a = adapter(&fake, "2026-04", json!({}));
    bar(&a).await;
    // The core product without units on its variants: its own SKU is not in the shop.
    let e = a
        .push(
            &ctx("n1"),
            &doc(
                "inventory",
                json!({"sku": "RB", "locations": [{"location": "CHI", "available": 30}]}),
            ),
        )
        .await
        .unwrap_err();
    assert_eq!(e.class, ErrorClass::Permanent);
    assert!(
        e.message.contains("no variant with SKU RB ") && e.message.contains("set `units`"),
        "{}",
        e.message
    );
    // A length the shop does not have: named, nothing written for the others.
    let e = a
        .push(
            &ctx("n2"),
            &doc(
                "prices",
                json!({"sku": "RB", "price": "2.85",
                       "variants": [{"sku": "RB-12FT", "units": "12", "price": "34.20"},
                                    {"sku": "RB-40FT", "units": "40", "price": "114.00"}]}),
            ),
        )
        .await
        .unwrap_err();
    assert!(e.message.contains("variant RB-40FT of RB"), "{}", e.message);
    assert_eq!(fake.applied("productVariantsBulkUpdate"), 0);
}

/// The inventory tombstone of a removed product sold in lengths names the product's own SKU,
/// which the shop never had: nothing to zero there, so it is done without a write (no dead
/// letter each time such a product is removed); a non-zero level for that SKU is still refused.
#[tokio::test]
async fn the_stock_tombstone_of_a_sku_the_shop_never_had_is_done_without_a_write() {
    let fake = FakeShopify::start(FakeShopifyConfig::default())
        .await
        .unwrap();
    let a = adapter(&fake, "2026-04", json!({}));
    bar(&a).await;
    let receipt = a
        .push(
            &ctx("t1"),
            &doc("inventory", json!({"sku": "RB", "available": 0})),
        )
        .await
        .expect("a tombstone of a SKU the shop does not have is done");
    assert!(receipt.duplicate, "{receipt:?}");
    assert_eq!(fake.applied("inventorySetQuantities"), 0);
    let e = a
        .push(
            &ctx("t2"),
            &doc("inventory", json!({"sku": "RB", "available": 3})),
        )
        .await
        .unwrap_err();
    assert!(
        e.message.contains("no variant with SKU RB "),
        "{}",
        e.message
    );
    assert_eq!(fake.applied("inventorySetQuantities"), 0);
}

#[tokio::test]
async fn prices_reach_each_length_and_its_price_lists() {
    let fake = FakeShopify::start(FakeShopifyConfig::default())
        .await
        .unwrap();
    let gold = fake.create_price_list("Gold", "USD");
    let a = adapter(
        &fake,
        "2026-04",
        json!({"price_lists": {"groups": {"GOLD": gold}}}),
    );
    bar(&a).await;
    // `shopify/price_b2b.out` of the bar at 2.8512/ft, GOLD 2.6231/ft.
    let body = json!({"sku": "RB", "price": "2.85", "compareAtPrice": null,
        "variants": [{"sku": "RB-12FT", "units": "12", "price": "34.21", "compareAtPrice": null},
                     {"sku": "RB-20FT", "units": "20", "price": "57.02", "compareAtPrice": null}],
        "group_prices": [{"group": "GOLD", "currency": "USD", "price": "2.62", "amount": "2.6231"}]});
    let results = a
        .push_batch(
            &ctx("p1"),
            &[BatchItem {
                idempotency_key: "p1".into(),
                doc: doc("prices", body),
                presence: Presence::New,
            }],
        )
        .await;
    assert!(results[0].is_ok(), "{:?}", results[0]);
    assert_eq!(fake.variant_price("RB-12FT").unwrap().0, "34.21");
    assert_eq!(fake.variant_price("RB-20FT").unwrap().0, "57.02");
    let fixed = |amount: &str| {
        Some(FixedPrice {
            amount: amount.into(),
            compare_at: None,
        })
    };
    // 2.6231 × 12 = 31.4772, × 20 = 52.462: from the exact amount, not 2.62 × 12 = 31.44.
    assert_eq!(fake.fixed_price(&gold, "RB-12FT"), fixed("31.48"));
    assert_eq!(fake.fixed_price(&gold, "RB-20FT"), fixed("52.46"));
    // One call per product and per list: the lengths go together.
    assert_eq!(fake.applied("productVariantsBulkUpdate"), 1);
    assert_eq!(fake.applied("priceListFixedPricesAdd"), 1);
    // One length refused: the item fails as a whole, naming the length and the field.
    let e = a
        .push(
            &ctx("p2"),
            &doc(
                "prices",
                json!({"sku": "RB", "price": "2.85",
                       "variants": [{"sku": "RB-12FT", "units": "12", "price": "34.20"},
                                    {"sku": "RB-20FT", "units": "20", "price": "-1.00"}]}),
            ),
        )
        .await
        .unwrap_err();
    assert_eq!(e.class, ErrorClass::Permanent);
    assert!(
        e.message.contains("RB (variant RB-20FT)") && e.message.contains("price"),
        "{}",
        e.message
    );
}

/// Plain products `PL-0..n`, one variant each (`PL-i-1`), in the shop.
async fn plates(a: &ShopifyAdapter, n: usize) {
    for i in 0..n {
        a.push(
            &ctx("catalog"),
            &doc(
                "catalog",
                json!({"sku": format!("PL-{i}"), "title": format!("Plate {i}"), "status": "ACTIVE",
                       "variants": [{"sku": format!("PL-{i}-1"), "option": "each"}]}),
            ),
        )
        .await
        .expect("catalog");
    }
}

fn item(key: &str, body: Value) -> BatchItem {
    BatchItem {
        idempotency_key: key.into(),
        doc: doc("prices", body),
        presence: Presence::New,
    }
}

#[tokio::test]
async fn prices_above_the_bulk_threshold_reach_each_length_through_the_bars_line() {
    let fake = FakeShopify::start(FakeShopifyConfig::default())
        .await
        .unwrap();
    let a = adapter(
        &fake,
        "2026-04",
        json!({"bulk_threshold": 2, "bulk_poll_ms": 50, "bulk_max_wait_secs": 60}),
    );
    bar(&a).await;
    plates(&a, 2).await;
    fake.clear_writes();
    let page = |twenty: &str| {
        vec![
            item(
                "rb",
                json!({"sku": "RB", "price": "2.85", "compareAtPrice": null,
                "variants": [{"sku": "RB-12FT", "units": "12", "price": "34.21", "compareAtPrice": null},
                             {"sku": "RB-20FT", "units": "20", "price": twenty, "compareAtPrice": null}]}),
            ),
            item(
                "pl0",
                json!({"sku": "PL-0-1", "price": "7.00", "compareAtPrice": null}),
            ),
            item(
                "pl1",
                json!({"sku": "PL-1-1", "price": "8.00", "compareAtPrice": null}),
            ),
        ]
    };
    let results = a.push_batch(&ctx("bulk-1"), &page("57.02")).await;
    for r in &results {
        assert!(r.is_ok(), "{r:?}");
    }
    let ops = fake.bulk_operations();
    assert_eq!(
        ops.len(),
        1,
        "three documents above the threshold of 2: {ops:?}"
    );
    assert_eq!((ops[0].status, ops[0].lines), (BulkStatus::Completed, 3));
    assert!(ops[0].mutation.contains("productVariantsBulkUpdate"));
    // The bar's line is one write carrying both lengths; no per-call write.
    let writes = fake.writes();
    let bar_line: Vec<_> = writes
        .iter()
        .filter(|w| {
            w.operation == "productVariantsBulkUpdate"
                && w.args["variants"].as_array().map(Vec::len) == Some(2)
        })
        .collect();
    assert_eq!(bar_line.len(), 1, "{writes:?}");
    assert_eq!(fake.variant_price("RB-12FT").unwrap().0, "34.21");
    assert_eq!(fake.variant_price("RB-20FT").unwrap().0, "57.02");
    assert_eq!(fake.variant_price("PL-1-1").unwrap().0, "8.00");

    // One length refused inside the bulk line: the bar's item fails naming the length (as on
    // the per-call path), the plates are confirmed.
    let results = a.push_batch(&ctx("bulk-2"), &page("-1.00")).await;
    let e = results[0]
        .as_ref()
        .expect_err("a negative price is refused");
    assert_eq!(e.class, ErrorClass::Permanent);
    assert!(
        e.message.contains("RB (variant RB-20FT)") && e.message.contains("price"),
        "{}",
        e.message
    );
    assert!(results[1..].iter().all(Result::is_ok), "{results:?}");
    assert_eq!(fake.bulk_operations().len(), 2);
}
