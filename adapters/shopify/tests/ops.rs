//! The adapter against the fake over real HTTP, for issue #12's operations: B2B price lists,
//! `MAX_COST_EXCEEDED` splitting, webhook subscriptions, stale webhook retries and orders
//! with more line items than one page.

use serde_json::{json, Value};
use switchyard_core::adapter::{Adapter, BatchItem, Presence};
use switchyard_core::error::ErrorClass;
use switchyard_core::ids::PartnerName;
use switchyard_runtime::testkit::doubles::MapSecrets;
use switchyard_shopify::config::Settings;
use switchyard_shopify::fake::{FakeOrderSpec, FakeShopify, FakeShopifyConfig, FixedPrice};
use switchyard_shopify::webhook::DeliveryMeta;
use switchyard_shopify::ShopifyAdapter;

mod support;
use support::{ctx, doc};

fn adapter_with(fake: &FakeShopify, extra: Value) -> ShopifyAdapter {
    let mut settings = json!({
        "shop_url": fake.base_url(),
        "api_version": "2026-04",
        "access_token": "secret:token",
        "webhooks": {"secret": "secret:hooks"},
    });
    for (k, v) in extra.as_object().unwrap() {
        settings[k] = v.clone();
    }
    let s: Settings = serde_json::from_value(settings).expect("settings parse");
    let secrets = MapSecrets::new()
        .with("secret:token", fake.token())
        .with("secret:hooks", "hush");
    let cfg = s.validate(&secrets).expect("settings valid");
    ShopifyAdapter::new(PartnerName("shop".into()), cfg, reqwest::Client::new())
}

fn item(key: &str, body: Value) -> BatchItem {
    BatchItem {
        idempotency_key: key.into(),
        doc: doc("prices", body),
        presence: Presence::New,
    }
}

/// A product with `n` variants `{root}-{i}`.
async fn catalog(a: &ShopifyAdapter, root: &str, n: usize) -> Vec<String> {
    let skus: Vec<String> = (0..n).map(|i| format!("{root}-{i}")).collect();
    a.push(
        &ctx(root),
        &doc(
            "catalog",
            json!({"sku": root, "title": root, "status": "ACTIVE",
                   "variants": skus.iter().map(|s| json!({"sku": s, "option": s})).collect::<Vec<_>>()}),
        ),
    )
    .await
    .expect("catalog");
    skus
}

fn fixed(amount: &str) -> Option<FixedPrice> {
    Some(FixedPrice {
        amount: amount.into(),
        compare_at: None,
    })
}

#[tokio::test]
async fn tier_and_customer_prices_go_to_their_price_lists_per_sku() {
    let fake = FakeShopify::start(FakeShopifyConfig::default())
        .await
        .unwrap();
    let gold = fake.create_price_list("Gold", "USD");
    let acme = fake.create_price_list("ACME contract", "USD");
    let euro = fake.create_price_list("Gold EU", "EUR");
    let a = adapter_with(
        &fake,
        json!({"price_lists": {"groups": {"GOLD": gold, "GOLD-EU": euro}, "customers": {"ACME": acme}}}),
    );
    catalog(&a, "P", 3).await;
    let results = a
        .push_batch(
            &ctx("prices"),
            &[
                item(
                    "k0",
                    json!({"sku": "P-0", "price": "100.00", "compareAtPrice": null,
                    "group_prices": [{"group": "GOLD", "currency": "USD", "price": "92.00"},
                                     {"group": "GOLD", "currency": "EUR", "price": "85.00"}],
                    "customer_prices": [{"customer": "ACME", "currency": "USD", "price": "85.50"}]}),
                ),
                item(
                    "k1",
                    json!({"sku": "P-1", "price": "50.00",
                    "group_prices": [{"group": "GOLD", "currency": "USD", "price": "45.00"},
                                     {"group": "GOLD-EU", "currency": "EUR", "price": "41.00"}]}),
                ),
                // A SKU the shop does not have: its own error, the rest confirmed.
                item("k2", json!({"sku": "NOPE", "price": "1.00"})),
            ],
        )
        .await;
    assert!(results[0].is_ok(), "{:?}", results[0]);
    assert!(results[1].is_ok(), "{:?}", results[1]);
    let e = results[2].as_ref().unwrap_err();
    assert_eq!(e.class, ErrorClass::Permanent);
    assert!(e.message.contains("NOPE"), "{}", e.message);
    assert_eq!(fake.fixed_price(&gold, "P-0"), fixed("92.00"));
    assert_eq!(fake.fixed_price(&acme, "P-0"), fixed("85.50"));
    assert_eq!(fake.fixed_price(&gold, "P-1"), fixed("45.00"));
    // The EUR list takes only the EUR entry of its own group.
    assert_eq!(fake.fixed_price(&euro, "P-1"), fixed("41.00"));
    assert_eq!(fake.fixed_price(&euro, "P-0"), None);
    assert_eq!(fake.variant_price("P-1").unwrap().0, "50.00");
    // One bulk update for the product, one add and one delete call per list at most.
    let ops: Vec<String> = fake.writes().iter().map(|w| w.operation.clone()).collect();
    assert_eq!(
        ops.iter()
            .filter(|o| *o == "productVariantsBulkUpdate")
            .count(),
        1,
        "{ops:?}"
    );
    assert_eq!(
        ops.iter()
            .filter(|o| *o == "priceListFixedPricesAdd")
            .count(),
        3,
        "{ops:?}"
    );

    // The contract ended: P-0 leaves ACME's list; GOLD is unchanged.
    fake.clear_writes();
    let r = a
        .push(
            &ctx("again"),
            &doc(
                "prices",
                json!({"sku": "P-0", "price": "100.00",
                "group_prices": [{"group": "GOLD", "currency": "USD", "price": "92.00"}]}),
            ),
        )
        .await;
    assert!(r.is_ok(), "{r:?}");
    assert_eq!(fake.fixed_price(&acme, "P-0"), None);
    assert_eq!(fake.fixed_price(&gold, "P-0"), fixed("92.00"));
    // Removing what is not there (P-0 was never on the EUR list) is not an error.
    assert!(fake
        .writes()
        .iter()
        .any(|w| w.operation == "priceListFixedPricesDelete"));
}

#[tokio::test]
async fn the_fake_refuses_what_shopify_refuses_on_price_lists() {
    let fake = FakeShopify::start(FakeShopifyConfig::default())
        .await
        .unwrap();
    let usd = fake.create_price_list("Gold", "USD");
    let a = adapter_with(&fake, json!({}));
    catalog(&a, "Q", 1).await;
    let variant = fake
        .product_by_custom_id("switchyard", "sku_root", "Q")
        .unwrap()["variants"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let http = reqwest::Client::new();
    let call = |query: &str, variables: Value| {
        let req = http
            .post(fake.endpoint(switchyard_shopify::ApiVersion::V2026_04))
            .header("X-Shopify-Access-Token", fake.token())
            .json(&json!({"query": query, "variables": variables}));
        async move { req.send().await.unwrap().json::<Value>().await.unwrap() }
    };
    const ADD: &str = "mutation($l: ID!, $p: [PriceListPriceInput!]!) { priceListFixedPricesAdd(priceListId: $l, prices: $p) { prices { variant { id } } userErrors { field code message } } }";
    let body = call(
        ADD,
        json!({"l": usd, "p": [
            {"variantId": variant, "price": {"amount": "9.00", "currencyCode": "EUR"}},
            {"variantId": "gid://shopify/ProductVariant/999999", "price": {"amount": "9.00", "currencyCode": "USD"}},
            {"variantId": variant, "price": {"amount": "9.50", "currencyCode": "USD"}}]}),
    )
    .await;
    let errors = &body["data"]["priceListFixedPricesAdd"]["userErrors"];
    assert_eq!(errors[0]["code"], "PRICE_LIST_CURRENCY_MISMATCH", "{body}");
    assert_eq!(
        errors[0]["field"],
        json!(["prices", "0", "price", "currencyCode"])
    );
    assert_eq!(errors[1]["code"], "VARIANT_NOT_FOUND", "{body}");
    assert_eq!(
        body["data"]["priceListFixedPricesAdd"]["prices"][0]["variant"]["id"],
        variant
    );
    let body = call(
        ADD,
        json!({"l": "gid://shopify/PriceList/1", "p": [{"variantId": variant, "price": {"amount": "1", "currencyCode": "USD"}}]}),
    )
    .await;
    assert_eq!(
        body["data"]["priceListFixedPricesAdd"]["userErrors"][0]["code"],
        "PRICE_LIST_NOT_FOUND"
    );
    // A required argument missing: top-level, like Shopify.
    let body = call(
        "mutation($l: ID!) { priceListFixedPricesAdd(priceListId: $l) { userErrors { code } } }",
        json!({"l": usd}),
    )
    .await;
    assert_eq!(
        body["errors"][0]["extensions"]["code"], "missingRequiredArguments",
        "{body}"
    );
}

#[tokio::test]
async fn a_batch_over_the_maximum_cost_is_split_and_merged_per_sku() {
    // A Plus-sized bucket: this test is about the single-query maximum, not pacing.
    let fake = FakeShopify::start(FakeShopifyConfig::default().bucket(20_000.0, 1_000.0))
        .await
        .unwrap();
    let gold = fake.create_price_list("Gold", "USD");
    let a = adapter_with(&fake, json!({"price_lists": {"groups": {"GOLD": gold}}}));
    // 1,200 variants of one product: one productVariantsBulkUpdate of them all costs more
    // than 1,000 points.
    let skus = catalog(&a, "BIG", 1200).await;
    fake.clear_writes();
    let items: Vec<BatchItem> = skus
        .iter()
        .enumerate()
        .map(|(i, s)| {
            // One bad price in each half: only those two SKUs fail.
            let price = if i == 7 || i == 1100 {
                "-1.00".to_string()
            } else {
                format!("{}.00", 10 + i)
            };
            item(
                s,
                json!({"sku": s, "price": price,
                   "group_prices": [{"group": "GOLD", "currency": "USD", "price": format!("{}.50", 5 + i)}]}),
            )
        })
        .collect();
    let before = fake.stats().max_cost_exceeded;
    let results = a.push_batch(&ctx("big"), &items).await;
    assert!(
        fake.stats().max_cost_exceeded > before,
        "a call was refused as too costly"
    );
    assert_eq!(results.len(), 1200);
    for (i, r) in results.iter().enumerate() {
        if i == 7 || i == 1100 {
            let e = r.as_ref().unwrap_err();
            assert_eq!(e.class, ErrorClass::Permanent);
            assert!(e.message.contains(&skus[i]), "{}", e.message);
        } else {
            assert!(r.is_ok(), "{}: {r:?}", skus[i]);
        }
    }
    assert_eq!(fake.variant_price("BIG-0").unwrap().0, "10.00");
    assert_eq!(fake.variant_price("BIG-1199").unwrap().0, "1209.00");
    assert_eq!(fake.fixed_price(&gold, "BIG-1199"), fixed("1204.50"));
    // Every applied write fitted; the parts together carried each variant once.
    let updated: usize = fake
        .writes()
        .iter()
        .filter(|w| w.operation == "productVariantsBulkUpdate")
        .map(|w| w.args["variants"].as_array().unwrap().len())
        .sum();
    assert_eq!(updated, 1200);
    let added: usize = fake
        .writes()
        .iter()
        .filter(|w| w.operation == "priceListFixedPricesAdd")
        .map(|w| w.args["prices"].as_array().unwrap().len())
        .sum();
    assert_eq!(added, 1200);
}

#[tokio::test]
async fn webhook_subscriptions_are_created_once_for_the_missing_topics() {
    let fake = FakeShopify::start(FakeShopifyConfig::default().allow_loopback_http(true))
        .await
        .unwrap();
    let url = "http://127.0.0.1:9/webhooks/shop";
    let a = adapter_with(
        &fake,
        json!({"webhooks": {"secret": "secret:hooks", "callback_url": url}}),
    );
    let done = a.subscribe_webhooks(&ctx("sub")).await.expect("subscribe");
    assert_eq!(done.created.len(), 6, "{done:?}");
    assert!(done.existing.is_empty());
    let subs = fake.subscriptions();
    assert_eq!(subs.len(), 6);
    assert!(subs.iter().all(|s| s.uri == url));
    assert!(subs.iter().any(|s| s.topic == "BULK_OPERATIONS_FINISH"));
    // Again: nothing created.
    let again = a.subscribe_webhooks(&ctx("sub2")).await.expect("again");
    assert_eq!((again.created.len(), again.existing.len()), (0, 6));
    assert_eq!(fake.subscriptions().len(), 6);

    // A topic added to the config: only it is created.
    let b = adapter_with(
        &fake,
        json!({"webhooks": {"secret": "secret:hooks", "callback_url": url,
                            "topics": ["orders/create", "orders/paid"]}}),
    );
    let more = b.subscribe_webhooks(&ctx("sub3")).await.expect("more");
    assert_eq!(more.created, vec!["ORDERS_PAID".to_string()]);
    assert_eq!(fake.subscriptions().len(), 7);
}

#[tokio::test]
async fn the_fake_refuses_plain_http_bad_topics_and_duplicates() {
    let strict = FakeShopify::start(FakeShopifyConfig::default())
        .await
        .unwrap();
    let a = adapter_with(
        &strict,
        json!({"webhooks": {"secret": "secret:hooks", "callback_url": "http://127.0.0.1:9/webhooks/shop",
                            "topics": ["orders/create"]}}),
    );
    let e = a.subscribe_webhooks(&ctx("http")).await.unwrap_err();
    assert_eq!(e.class, ErrorClass::Permanent);
    assert!(
        e.message.contains("ORDERS_CREATE") && e.message.contains("http:// is not supported"),
        "{}",
        e.message
    );
    assert!(strict.subscriptions().is_empty());

    let http = reqwest::Client::new();
    let create = |topic: &str, uri: &str| {
        let req = http
            .post(strict.endpoint(switchyard_shopify::ApiVersion::V2026_04))
            .header("X-Shopify-Access-Token", strict.token())
            .json(&json!({"query": "mutation($t: WebhookSubscriptionTopic!, $s: WebhookSubscriptionInput!) { webhookSubscriptionCreate(topic: $t, webhookSubscription: $s) { webhookSubscription { id } userErrors { field message } } }",
                          "variables": {"t": topic, "s": {"uri": uri}}}));
        async move { req.send().await.unwrap().json::<Value>().await.unwrap() }
    };
    let body = create("ORDERS_CREATE", "https://hub.example.com/webhooks/shop").await;
    assert!(
        body["data"]["webhookSubscriptionCreate"]["webhookSubscription"]["id"].is_string(),
        "{body}"
    );
    let body = create("ORDERS_CREATE", "https://hub.example.com/webhooks/shop").await;
    assert_eq!(
        body["data"]["webhookSubscriptionCreate"]["userErrors"][0]["message"],
        "Address for this topic has already been taken",
        "{body}"
    );
    let body = create("ORDERS_EXPLODED", "https://hub.example.com/webhooks/shop").await;
    assert_eq!(
        body["errors"][0]["extensions"]["code"], "INVALID_VARIABLE",
        "{body}"
    );
    assert_eq!(strict.subscriptions().len(), 1);

    // A topic Shopify does not have is a config error at its key.
    let s: Settings = serde_json::from_value(json!({
        "shop_url": strict.base_url(), "api_version": "2026-04", "access_token": "secret:token",
        "webhooks": {"secret": "secret:hooks", "topics": ["orders/create", "orders/exploded"]},
    }))
    .unwrap();
    let problems = s
        .validate(
            &MapSecrets::new()
                .with("secret:token", "t")
                .with("secret:hooks", "h"),
        )
        .unwrap_err();
    assert_eq!(problems[0].keys, vec!["webhooks", "topics"]);
    assert!(problems[0].message.contains("orders/exploded"));
}

#[tokio::test]
async fn a_webhook_triggered_before_the_staleness_window_is_marked_stale() {
    let fake = FakeShopify::start(FakeShopifyConfig::default())
        .await
        .unwrap();
    let a = adapter_with(
        &fake,
        json!({"webhooks": {"secret": "secret:hooks", "stale_after_secs": 600}}),
    );
    let body = br#"{"id": 1}"#;
    let headers = |at: chrono::DateTime<chrono::Utc>| {
        vec![
            (
                "X-Shopify-Hmac-Sha256".to_string(),
                switchyard_shopify::webhook::sign("hush", body),
            ),
            ("X-Shopify-Topic".into(), "orders/updated".into()),
            ("X-Shopify-Event-Id".into(), "evt-9".into()),
            ("X-Shopify-Triggered-At".into(), at.to_rfc3339()),
        ]
    };
    let now = chrono::Utc::now();
    let fresh = a
        .receive_webhook(
            &ctx("w"),
            &headers(now - chrono::Duration::seconds(30)),
            body,
        )
        .await
        .unwrap();
    assert!(!DeliveryMeta::of(&fresh.documents).unwrap().stale);
    let stale = a
        .receive_webhook(
            &ctx("w"),
            &headers(now - chrono::Duration::minutes(11)),
            body,
        )
        .await
        .unwrap();
    assert!(DeliveryMeta::of(&stale.documents).unwrap().stale);
    // The signature still decides first: a stale one with a bad signature is refused.
    let mut bad = headers(now - chrono::Duration::minutes(11));
    bad[0].1 = "AAAA".into();
    let e = a.receive_webhook(&ctx("w"), &bad, body).await.unwrap_err();
    assert_eq!(e.class, ErrorClass::Auth);
}

#[tokio::test]
async fn an_order_of_sixty_lines_is_read_whole() {
    let fake = FakeShopify::start(FakeShopifyConfig::default())
        .await
        .unwrap();
    let a = adapter_with(&fake, json!({}));
    let lines: Vec<(String, i64)> = (1..=60).map(|i| (format!("SKU-{i}"), i)).collect();
    let refs: Vec<(&str, i64)> = lines.iter().map(|(s, q)| (s.as_str(), *q)).collect();
    let id = fake.create_order(FakeOrderSpec::simple("big@example.com", &refs));
    let pulled = a
        .pull_orders(
            &ctx("pull"),
            &switchyard_shopify::orders::Checkpoint::default(),
            8,
        )
        .await
        .expect("pull");
    assert_eq!(pulled.orders.len(), 1);
    let nodes = pulled.orders[0]["lineItems"]["nodes"].as_array().unwrap();
    assert_eq!(nodes.len(), 60);
    assert_eq!(nodes[59]["sku"], "SKU-60");
    assert_eq!(nodes[59]["quantity"], 60);
    assert_eq!(
        pulled.orders[0]["lineItems"]["pageInfo"]["hasNextPage"],
        false
    );
    // The webhook path's re-read too.
    let one = a
        .order(&ctx("one"), &switchyard_shopify::fake::gid("Order", id))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(one["lineItems"]["nodes"].as_array().unwrap().len(), 60);
}
