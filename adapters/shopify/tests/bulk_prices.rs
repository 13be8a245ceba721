//! Prices through bulk operations against the fake over real HTTP: a prices page above
//! `bulk_threshold` goes as one `productVariantsBulkUpdate` bulk operation, a line per product
//! with its variants' prices; a userError naming one variant of a line is that SKU's permanent
//! error while the line's other SKUs are confirmed; an operation FAILED half-way has only its
//! unconfirmed lines sent again; a page at the threshold goes one call per product.

use serde_json::{json, Value};
use switchyard_core::adapter::{Adapter, BatchItem, OutboundDocument, Payload, Presence};
use switchyard_core::error::ErrorClass;
use switchyard_core::ids::PartnerName;
use switchyard_runtime::testkit::doubles::{context, MapSecrets, RecordingSink};
use switchyard_shopify::config::Settings;
use switchyard_shopify::fake::{BulkStatus, FakeShopify, FakeShopifyConfig};
use switchyard_shopify::ShopifyAdapter;

const PRODUCTS: usize = 8;
const VARIANTS: usize = 3;
const THRESHOLD: usize = 10;

fn adapter(fake: &FakeShopify) -> ShopifyAdapter {
    let s: Settings = serde_json::from_value(json!({
        "shop_url": fake.base_url(),
        "api_version": "2026-04",
        "access_token": "secret:token",
        "bulk_threshold": THRESHOLD,
        "bulk_poll_ms": 50,
        "bulk_max_wait_secs": 60,
    }))
    .expect("settings parse");
    let secrets = MapSecrets::new().with("secret:token", fake.token());
    let cfg = s.validate(&secrets).expect("settings valid");
    ShopifyAdapter::new(PartnerName("shop".into()), cfg, reqwest::Client::new())
}

fn doc(document: &str, body: Value) -> BatchItem {
    BatchItem {
        idempotency_key: format!("key-{}", body["sku"]),
        doc: OutboundDocument {
            document: document.into(),
            payload: Payload::Json { body },
        },
        presence: Presence::New,
    }
}

fn sku(p: usize, v: usize) -> String {
    format!("P-{p:02}-{v}")
}

/// `PRODUCTS` products of `VARIANTS` variants each, put in the shop one call each (under the
/// threshold per batch), so the adapter knows every variant's id.
async fn catalog(a: &ShopifyAdapter) {
    for p in 0..PRODUCTS {
        let variants: Vec<Value> = (0..VARIANTS)
            .map(|v| json!({"sku": sku(p, v), "option": format!("size {v}"), "price": "1.00"}))
            .collect();
        let item = doc(
            "catalog",
            json!({"sku": format!("P-{p:02}"), "title": format!("Plate {p}"), "status": "ACTIVE", "variants": variants}),
        );
        let r = a.push_batch(&ctx(), &[item]).await;
        assert!(r[0].is_ok(), "{r:?}");
    }
}

/// A fake shop holding the catalog, its adapter, the catalog's writes cleared.
async fn shop() -> (FakeShopify, ShopifyAdapter) {
    let fake = FakeShopify::start(FakeShopifyConfig::default())
        .await
        .unwrap();
    let a = adapter(&fake);
    catalog(&a).await;
    fake.clear_writes();
    (fake, a)
}

fn price(p: usize, v: usize, amount: &str) -> BatchItem {
    doc(
        "prices",
        json!({"sku": sku(p, v), "price": amount, "compareAtPrice": null}),
    )
}

/// Every variant of every product priced `base + p + v/10`.
fn page(base: u32) -> Vec<BatchItem> {
    let mut out = Vec::new();
    for p in 0..PRODUCTS {
        for v in 0..VARIANTS {
            out.push(price(p, v, &format!("{}.{v}0", base as usize + p)));
        }
    }
    out
}

fn ctx() -> switchyard_core::adapter::AdapterContext {
    context("bulk-prices", RecordingSink::new())
}

#[tokio::test]
async fn a_big_prices_page_goes_as_one_bulk_operation_a_line_per_product() {
    let (fake, a) = shop().await;

    // One variant of product 3 was deleted and made again in the admin: the id the adapter
    // knows names no variant now, so Shopify refuses that entry of the line, and only it.
    let gone = sku(3, 1);
    fake.recreate_variant(&gone)
        .expect("a variant with that SKU");
    let items = page(20);
    assert!(items.len() > THRESHOLD);
    let results = a.push_batch(&ctx(), &items).await;
    assert_eq!(results.len(), PRODUCTS * VARIANTS);
    for (item, r) in items.iter().zip(&results) {
        let Payload::Json { body } = &item.doc.payload else {
            unreachable!()
        };
        let s = body["sku"].as_str().unwrap();
        if s == gone {
            let e = r.as_ref().expect_err("the stale variant is refused");
            assert_eq!(e.class, ErrorClass::Permanent, "{e:?}");
            assert!(
                e.message.contains(&gone) && e.message.contains("does not exist"),
                "{}",
                e.message
            );
        } else {
            let receipt = r.as_ref().unwrap_or_else(|e| panic!("{s}: {e:?}"));
            assert!(receipt
                .external_id
                .as_deref()
                .is_some_and(|v| v.starts_with("gid://shopify/ProductVariant/")));
        }
    }
    let ops = fake.bulk_operations();
    assert_eq!(ops.len(), 1, "{ops:?}");
    assert_eq!(
        (ops[0].status, ops[0].lines),
        (BulkStatus::Completed, PRODUCTS)
    );
    assert!(ops[0].mutation.contains("productVariantsBulkUpdate"));
    // Every line ran through the single mutation's code: one write per product, none per call.
    let writes = fake.writes();
    let updates: Vec<_> = writes
        .iter()
        .filter(|w| w.operation == "productVariantsBulkUpdate")
        .collect();
    assert_eq!(updates.len(), PRODUCTS, "{writes:?}");
    assert!(updates.iter().all(
        |w| w.args["variants"].as_array().map(Vec::len) == Some(VARIANTS)
            && w.args["allowPartialUpdates"] == json!(true)
    ));
    assert_eq!(fake.variant_price(&sku(5, 2)).unwrap().0, "25.20");
    // The line's other variants were applied (allowPartialUpdates).
    assert_eq!(fake.variant_price(&sku(3, 0)).unwrap().0, "23.00");
    assert_eq!(fake.variant_price(&gone).unwrap().0, "1.00");
}

#[tokio::test]
async fn a_bulk_prices_operation_failed_half_way_sends_only_the_rest_again() {
    let (fake, a) = shop().await;
    fake.bulk_fail_next_halfway();
    let results = a.push_batch(&ctx(), &page(30)).await;
    assert!(results.iter().all(Result::is_ok), "{results:?}");
    let ops = fake.bulk_operations();
    assert_eq!(ops.len(), 2, "{ops:?}");
    assert_eq!(
        (ops[0].status, ops[0].done),
        (BulkStatus::Failed, PRODUCTS / 2)
    );
    assert_eq!(
        (ops[1].status, ops[1].lines),
        (BulkStatus::Completed, PRODUCTS / 2)
    );
    let per = fake.applied_per("productVariantsBulkUpdate", &["productId"]);
    assert_eq!(per.len(), PRODUCTS, "{per:?}");
    assert!(
        per.values().all(|n| *n == 1),
        "a product priced twice: {per:?}"
    );
    assert_eq!(fake.variant_price(&sku(7, 1)).unwrap().0, "37.10");
}

#[tokio::test]
async fn a_prices_page_at_the_threshold_goes_one_call_per_product() {
    let (fake, a) = shop().await;
    let items: Vec<BatchItem> = page(40).into_iter().take(THRESHOLD).collect();
    let results = a.push_batch(&ctx(), &items).await;
    assert!(results.iter().all(Result::is_ok), "{results:?}");
    assert!(fake.bulk_operations().is_empty());
    // 10 SKUs of 3 per product: products 0, 1, 2 whole and one of product 3.
    assert_eq!(fake.applied("productVariantsBulkUpdate"), 4);
    assert_eq!(fake.writes().len(), 4, "{:?}", fake.writes());
}
