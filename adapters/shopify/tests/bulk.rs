//! The bulk path against the fake over real HTTP: a batch above `bulk_threshold` goes as one
//! bulk operation (staged upload, run, poll, result JSONL) with per-line userErrors mapped to
//! their SKUs; an operation FAILED half-way has the rest sent again, each product written
//! once; one that never finishes is reported and followed (not submitted again) by the next
//! attempt; the `bulk_operations/finish` webhook wakes the waiter before the next poll; a
//! stuck operation is cancelled after `bulk_cancel_after_secs` (in the push that submitted it,
//! or in a later one that follows it) and only its unconfirmed lines go again; a cancel that
//! loses the race with the operation's end reads its result.

use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::time::Duration;
use switchyard_core::adapter::{Adapter, BatchItem, OutboundDocument, Payload, Presence};
use switchyard_core::error::ErrorClass;
use switchyard_core::ids::PartnerName;
use switchyard_runtime::testkit::doubles::{context, MapSecrets, RecordingSink};
use switchyard_shopify::config::Settings;
use switchyard_shopify::fake::{BulkStatus, FakeBulkCancel, FakeShopify, FakeShopifyConfig};
use switchyard_shopify::ShopifyAdapter;

const ID_PATH: &[&str] = &["identifier", "customId", "value"];

fn adapter(fake: &FakeShopify, poll_ms: u64, max_wait_secs: u64) -> ShopifyAdapter {
    adapter_with(fake, poll_ms, max_wait_secs, json!({}))
}

/// `extra` keys are added to the section.
fn adapter_with(
    fake: &FakeShopify,
    poll_ms: u64,
    max_wait_secs: u64,
    extra: Value,
) -> ShopifyAdapter {
    let mut section = json!({
        "shop_url": fake.base_url(),
        "api_version": "2026-04",
        "access_token": "secret:token",
        "webhooks": {"secret": "secret:hooks"},
        "bulk_threshold": 10,
        "bulk_poll_ms": poll_ms,
        "bulk_max_wait_secs": max_wait_secs,
    });
    for (k, v) in extra.as_object().into_iter().flatten() {
        section[k] = v.clone();
    }
    let s: Settings = serde_json::from_value(section).expect("settings parse");
    let secrets = MapSecrets::new()
        .with("secret:token", fake.token())
        .with("secret:hooks", "hush");
    let cfg = s.validate(&secrets).expect("settings valid");
    ShopifyAdapter::new(PartnerName("shop".into()), cfg, reqwest::Client::new())
}

fn item(sku: &str, title: &str, variants: usize) -> BatchItem {
    let variants: Vec<Value> = (0..variants)
        .map(|v| json!({"sku": format!("{sku}-{v}"), "option": format!("size {v}"), "price": "9.50"}))
        .collect();
    BatchItem {
        idempotency_key: format!("key-{sku}"),
        doc: OutboundDocument {
            document: "catalog".into(),
            payload: Payload::Json {
                body: json!({"sku": sku, "title": title, "status": "ACTIVE", "variants": variants}),
            },
        },
        presence: Presence::New,
    }
}

fn batch(n: usize) -> Vec<BatchItem> {
    (0..n)
        .map(|i| item(&format!("P-{i:04}"), &format!("Plate {i}"), 1 + i % 3))
        .collect()
}

fn ctx() -> switchyard_core::adapter::AdapterContext {
    context("bulk", RecordingSink::new())
}

fn once_each(per: &BTreeMap<String, usize>, n: usize) {
    assert_eq!(per.len(), n, "{per:?}");
    assert!(
        per.values().all(|c| *c == 1),
        "a product written twice: {per:?}"
    );
}

#[tokio::test]
async fn a_big_catalog_batch_goes_as_one_bulk_operation_with_per_line_errors() {
    let fake = FakeShopify::start(FakeShopifyConfig::default())
        .await
        .unwrap();
    let a = adapter(&fake, 50, 60);
    let mut items = batch(40);
    // A new product without a title: Shopify's userError for that line only.
    items[17] = item("P-0017", "", 1);
    let results = a.push_batch(&ctx(), &items).await;
    assert_eq!(results.len(), 40);
    for (i, r) in results.iter().enumerate() {
        if i == 17 {
            let e = r.as_ref().expect_err("the untitled product is refused");
            assert_eq!(e.class, ErrorClass::Permanent);
            assert!(
                e.message.contains("P-0017") && e.message.contains("Title can't be blank"),
                "{}",
                e.message
            );
        } else {
            let receipt = r.as_ref().unwrap_or_else(|e| panic!("line {i}: {e:?}"));
            assert!(receipt
                .external_id
                .as_deref()
                .unwrap_or("")
                .starts_with("gid://shopify/Product/"));
        }
    }
    let ops = fake.bulk_operations();
    assert_eq!(ops.len(), 1, "{ops:?}");
    assert_eq!((ops[0].status, ops[0].lines), (BulkStatus::Completed, 40));
    assert_eq!(fake.product_count(), 39);
    once_each(&fake.applied_per("productSet", ID_PATH), 39);
    let p = fake
        .product_by_custom_id("switchyard", "sku_root", "P-0005")
        .expect("synced");
    assert_eq!(p["title"], "Plate 5");
    assert_eq!(p["variants"].as_array().map(Vec::len), Some(3));
    // The variants were learned from the result file: a price needs no lookup.
    let before = fake.stats().requests;
    a.push(
        &ctx(),
        &OutboundDocument {
            document: "prices".into(),
            payload: Payload::Json {
                body: json!({"sku": "P-0005-2", "price": "11.00"}),
            },
        },
    )
    .await
    .unwrap();
    assert_eq!(fake.stats().requests, before + 1);
    assert_eq!(fake.variant_price("P-0005-2").unwrap().0, "11.00");

    // At or under the threshold: one productSet each, no bulk operation.
    let small = a.push_batch(&ctx(), &batch(10)).await;
    assert!(small.iter().all(Result::is_ok));
    assert_eq!(fake.bulk_operations().len(), 1);
}

#[tokio::test]
async fn a_bulk_operation_failing_half_way_has_the_rest_resumed_each_product_once() {
    let fake = FakeShopify::start(FakeShopifyConfig::default())
        .await
        .unwrap();
    let a = adapter(&fake, 50, 60);
    fake.bulk_fail_next_halfway();
    let results = a.push_batch(&ctx(), &batch(40)).await;
    assert!(results.iter().all(Result::is_ok), "{results:?}");
    let ops = fake.bulk_operations();
    assert_eq!(ops.len(), 2, "{ops:?}");
    assert_eq!(
        (ops[0].status, ops[0].error_code, ops[0].done),
        (BulkStatus::Failed, Some("INTERNAL_SERVER_ERROR"), 20)
    );
    assert_eq!(
        (ops[1].status, ops[1].lines),
        (BulkStatus::Completed, 20),
        "only the unconfirmed half again"
    );
    assert_eq!(fake.product_count(), 40);
    once_each(&fake.applied_per("productSet", ID_PATH), 40);
}

#[tokio::test]
async fn an_operation_that_never_finishes_is_reported_then_followed_not_resubmitted() {
    let fake = FakeShopify::start(FakeShopifyConfig::default())
        .await
        .unwrap();
    let a = adapter(&fake, 50, 1);
    fake.bulk_never_finish(true);
    let items = batch(30);
    // One organization throughout: the operation is remembered per connection and org.
    let c = ctx();
    let results = a.push_batch(&c, &items).await;
    for r in &results {
        let e = r.as_ref().expect_err("never an empty success");
        assert!(e.class.is_retryable(), "{e:?}");
        assert!(e.message.contains("still RUNNING"), "{}", e.message);
    }
    // The next attempt follows the same operation instead of submitting a second.
    let again = a.push_batch(&c, &items).await;
    for r in &again {
        let e = r.as_ref().expect_err("still running");
        assert!(
            e.message.contains("still RUNNING"),
            "followed, not resubmitted: {}",
            e.message
        );
    }
    assert_eq!(fake.bulk_operations().len(), 1);
    fake.bulk_never_finish(false);
    let done = a.push_batch(&c, &items).await;
    assert!(done.iter().all(Result::is_ok), "{done:?}");
    let ops = fake.bulk_operations();
    assert_eq!(ops.len(), 1, "{ops:?}");
    assert_eq!(ops[0].status, BulkStatus::Completed);
    once_each(&fake.applied_per("productSet", ID_PATH), 30);
}

#[tokio::test]
async fn the_finish_webhook_wakes_the_waiter_before_the_next_poll() {
    let fake = FakeShopify::start(FakeShopifyConfig::default().webhook_secret("hush"))
        .await
        .unwrap();
    // Polls a minute apart: only the webhook can end the wait soon.
    let a = std::sync::Arc::new(adapter(&fake, 60_000, 600));
    let receiver = {
        let a = a.clone();
        axum::Router::new().route(
            "/hooks",
            axum::routing::post(
                move |headers: axum::http::HeaderMap, body: axum::body::Bytes| {
                    let a = a.clone();
                    async move {
                        let headers: Vec<(String, String)> = headers
                            .iter()
                            .map(|(k, v)| {
                                (k.as_str().to_owned(), v.to_str().unwrap_or("").to_owned())
                            })
                            .collect();
                        let verified = a
                            .receive_webhook(&ctx(), &headers, &body)
                            .await
                            .expect("signed");
                        assert_eq!(verified.topic, "bulk_operations/finish");
                        let v: Value = serde_json::from_slice(&body).unwrap();
                        assert_eq!(v["status"], "completed");
                        a.bulk_waiters()
                            .finished(v["admin_graphql_api_id"].as_str().unwrap());
                        axum::http::StatusCode::OK
                    }
                },
            ),
        )
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, receiver).await.unwrap() });
    fake.bulk_finish_webhook(format!("http://{addr}/hooks"));
    fake.bulk_pause_after(5);
    let push = {
        let a = a.clone();
        tokio::spawn(async move { a.push_batch(&ctx(), &batch(20)).await })
    };
    // Checked every few milliseconds until it holds (the fake's state, not a guess of time).
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while fake.bulk_paused().is_none() {
        assert!(
            std::time::Instant::now() < deadline,
            "the operation never paused"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let started = std::time::Instant::now();
    fake.bulk_resume();
    let results = tokio::time::timeout(Duration::from_secs(30), push)
        .await
        .expect("woken by the webhook, not the minute-long poll")
        .unwrap();
    assert!(results.iter().all(Result::is_ok), "{results:?}");
    assert!(started.elapsed() < Duration::from_secs(30));
    once_each(&fake.applied_per("productSet", ID_PATH), 20);
}

#[tokio::test]
async fn a_stuck_operation_is_cancelled_after_the_configured_time_and_its_rest_sent_again() {
    let fake = FakeShopify::start(FakeShopifyConfig::default())
        .await
        .unwrap();
    let a = adapter_with(&fake, 50, 60, json!({"bulk_cancel_after_secs": 1}));
    // The operation runs 12 of its 30 lines, then never finishes by itself.
    fake.bulk_stall_next_after(12);
    let results = a.push_batch(&ctx(), &batch(30)).await;
    assert!(results.iter().all(Result::is_ok), "{results:?}");
    let ops = fake.bulk_operations();
    assert_eq!(ops.len(), 2, "{ops:?}");
    assert_eq!((ops[0].status, ops[0].done), (BulkStatus::Canceled, 12));
    assert_eq!(
        (ops[1].status, ops[1].lines),
        (BulkStatus::Completed, 18),
        "only the lines the cancelled operation did not run"
    );
    let cancels = fake.bulk_cancels();
    assert_eq!(cancels.len(), 1, "{cancels:?}");
    assert_eq!(
        (cancels[0].status_before, cancels[0].accepted),
        (Some(BulkStatus::Running), true)
    );
    assert_eq!(fake.product_count(), 30);
    once_each(&fake.applied_per("productSet", ID_PATH), 30);
    assert_eq!(fake.bulk_refused_in_progress(), 0);
}

#[tokio::test]
async fn a_stuck_operation_left_by_an_earlier_attempt_is_cancelled_by_the_one_following_it() {
    let fake = FakeShopify::start(FakeShopifyConfig::default())
        .await
        .unwrap();
    // Each attempt waits 1 s; the operation is cancelled once it is 3 s old.
    let a = adapter_with(&fake, 50, 1, json!({"bulk_cancel_after_secs": 3}));
    fake.bulk_stall_next_after(12);
    let items = batch(30);
    let c = ctx();
    let mut attempts = 0;
    let results = loop {
        attempts += 1;
        assert!(attempts <= 10, "never cancelled");
        let results = a.push_batch(&c, &items).await;
        if results.iter().all(Result::is_ok) {
            break results;
        }
        for r in &results {
            let e = r.as_ref().expect_err("all or nothing while it runs");
            // RUNNING, or CANCELING when the wait ended right after the cancel.
            assert!(
                e.class.is_retryable() && e.message.contains("still "),
                "{e:?}"
            );
        }
        assert_eq!(fake.bulk_operations().len(), 1, "followed, not resubmitted");
    };
    assert!(
        attempts >= 2,
        "the first attempt gave up before the cancel time"
    );
    assert_eq!(results.len(), 30);
    let ops = fake.bulk_operations();
    assert_eq!(ops.len(), 2, "{ops:?}");
    assert_eq!((ops[0].status, ops[0].done), (BulkStatus::Canceled, 12));
    assert_eq!((ops[1].status, ops[1].lines), (BulkStatus::Completed, 18));
    assert_eq!(fake.bulk_cancels().len(), 1);
    once_each(&fake.applied_per("productSet", ID_PATH), 30);
}

#[tokio::test]
async fn a_cancel_refused_because_the_operation_finished_reads_its_result() {
    let fake = FakeShopify::start(FakeShopifyConfig::default())
        .await
        .unwrap();
    let a = adapter_with(&fake, 50, 60, json!({"bulk_cancel_after_secs": 1}));
    fake.bulk_stall_next_after(12);
    // The operation ends between the adapter's last poll and its cancel.
    fake.bulk_finish_on_next_cancel();
    let results = a.push_batch(&ctx(), &batch(30)).await;
    assert!(results.iter().all(Result::is_ok), "{results:?}");
    let ops = fake.bulk_operations();
    assert_eq!(ops.len(), 1, "its result read, nothing sent again: {ops:?}");
    assert_eq!((ops[0].status, ops[0].done), (BulkStatus::Completed, 30));
    let cancels = fake.bulk_cancels();
    assert_eq!(
        cancels,
        vec![FakeBulkCancel {
            operation: format!("gid://shopify/BulkOperation/{}", ops[0].id),
            status_before: Some(BulkStatus::Completed),
            accepted: false,
        }]
    );
    once_each(&fake.applied_per("productSet", ID_PATH), 30);
}
