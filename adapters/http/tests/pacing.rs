//! Client-side pacing (`rate_limit`) against the fake partner over real HTTP on loopback. The
//! evidence is what the fake observed: its 429 count and the arrival time of every request.

use serde_json::{json, Value};
use std::sync::Arc;
use std::time::{Duration, SystemTime};
use switchyard_adapter_http::fake::{Delivery, DeliveryOutcome, FakePartner, FakePartnerConfig};
use switchyard_adapter_http::{HttpAdapter, HttpAdapterFactory};
use switchyard_core::adapter::{Adapter, BatchItem, OutboundDocument, Payload, Presence};
use switchyard_core::ids::PartnerName;
use switchyard_core::ErrorClass;
use switchyard_runtime::testkit::doubles::{context, MapSecrets, RecordingSink};

const TOKEN: &str = "tok_pacing_7f3a91";

async fn partner(config: FakePartnerConfig) -> FakePartner {
    FakePartner::start(config.bearer_token(TOKEN))
        .await
        .unwrap()
}

/// The adapter for `fake`, paced by `rate_limit` when given.
fn adapter(fake: &FakePartner, rate_limit: Option<Value>) -> HttpAdapter {
    let mut config = fake.http_adapter_config("secret:token");
    if let Some(limit) = rate_limit {
        config["rate_limit"] = limit;
    }
    HttpAdapterFactory::new()
        .unwrap()
        .build_http(
            &PartnerName::from("shop"),
            &config,
            &MapSecrets::new().with("secret:token", TOKEN),
        )
        .unwrap()
}

fn document(key: &str) -> OutboundDocument {
    OutboundDocument {
        document: "catalog".to_owned(),
        payload: Payload::Json {
            body: json!({"handle": key, "title": "Hot rolled plate"}),
        },
    }
}

/// `n` writes as the sync engine hands them over (the default `push_batch`: 16 in flight).
fn batch(prefix: &str, n: usize) -> Vec<BatchItem> {
    (0..n)
        .map(|i| {
            let key = format!("{prefix}-{i}");
            BatchItem {
                doc: document(&key),
                idempotency_key: key,
                presence: Presence::New,
            }
        })
        .collect()
}

/// Seconds from the first request the fake received to the last.
fn span_secs(deliveries: &[Delivery]) -> f64 {
    let first = deliveries.iter().map(|d| d.received_at).min().unwrap();
    let last = deliveries.iter().map(|d| d.received_at).max().unwrap();
    last.duration_since(first).unwrap().as_secs_f64()
}

#[tokio::test]
async fn paced_below_the_partners_limit_no_request_draws_a_429() {
    // The partner: 10 at once, 100 a second. The client: 8 at once, 80 a second.
    let (n, rate, burst) = (120, 80.0, 8);
    let fake = partner(FakePartnerConfig::new().rate_limit(10, 100.0)).await;
    let paced = adapter(&fake, Some(json!({"per_second": rate, "burst": burst})));
    let sink = RecordingSink::new();

    let results = paced
        .push_batch(&context("unused", sink.clone()), &batch("paced", n))
        .await;

    assert!(results.iter().all(Result::is_ok), "{results:?}");
    let stats = fake.stats();
    assert_eq!((stats.throttled, stats.applied), (0, n as u64));
    assert_eq!(stats.deliveries, n as u64, "not one request sent twice");
    // After the burst, one request per period: the fake saw them spread over at least
    // (n - burst) / rate seconds (less one period for the first arrival's own jitter).
    let least = (n - burst - 1) as f64 / rate;
    let took = span_secs(&fake.deliveries());
    assert!(
        took >= least,
        "{n} requests arrived within {took:.3}s, expected at least {least:.3}s"
    );
    assert_eq!(sink.len(), n, "one exchange record per request");
}

#[tokio::test]
async fn unpaced_the_same_writes_run_into_the_partners_limit() {
    // The control for the test above: its fake's limit does bite a client that does not pace.
    let fake = partner(FakePartnerConfig::new().rate_limit(10, 100.0)).await;
    let unpaced = adapter(&fake, None);
    let results = unpaced
        .push_batch(
            &context("unused", RecordingSink::new()),
            &batch("unpaced", 120),
        )
        .await;
    let throttled = results
        .iter()
        .filter(|r| matches!(r, Err(e) if matches!(e.class, ErrorClass::RateLimited { .. })))
        .count();
    assert!(
        throttled > 0,
        "no 429 without pacing: the control proves nothing"
    );
    assert_eq!(fake.stats().throttled, throttled as u64);
}

#[tokio::test]
async fn a_429_holds_every_request_to_the_partner_until_its_retry_after() {
    let fake = partner(FakePartnerConfig::new()).await;
    let paced = Arc::new(adapter(
        &fake,
        Some(json!({"per_second": 1000, "burst": 100, "retries": 3, "max_wait_secs": 10})),
    ));
    let until = fake.throttle_until(SystemTime::now() + Duration::from_secs(1));
    let sink = RecordingSink::new();

    // One request is refused and pauses the partner...
    let first = tokio::spawn({
        let (paced, sink) = (paced.clone(), sink.clone());
        async move {
            paced
                .push(&context("first", sink), &document("first"))
                .await
        }
    });
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while paced.pacer().unwrap().paused_until().is_none() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the 429 never paused the partner"
        );
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    // ...and the writes that come while it is paused wait for the same instant, unsent.
    let rest = paced
        .push_batch(&context("unused", sink.clone()), &batch("later", 8))
        .await;
    let first = first.await.unwrap();

    assert!(first.is_ok(), "{first:?}");
    assert!(rest.iter().all(Result::is_ok), "{rest:?}");
    let deliveries = fake.deliveries();
    let refused: Vec<&Delivery> = deliveries
        .iter()
        .filter(|d| d.outcome == DeliveryOutcome::Rejected)
        .collect();
    assert_eq!(refused.len(), 1, "only the first request met the 429");
    assert_eq!(refused[0].idempotency_key.as_deref(), Some("first"));
    assert!(refused[0].received_at < until);
    let applied: Vec<&Delivery> = deliveries
        .iter()
        .filter(|d| d.outcome == DeliveryOutcome::Applied)
        .collect();
    assert_eq!(applied.len(), 9);
    for d in applied {
        assert!(
            d.received_at >= until,
            "{:?} was sent {:?} before the partner's Retry-After",
            d.idempotency_key,
            until.duration_since(d.received_at).unwrap_or_default()
        );
    }
    // The refused exchange's log row says what happened next.
    let exchanges = sink.exchanges();
    let throttled = exchanges
        .iter()
        .find(|e| e.response_status == Some(429))
        .unwrap();
    let error = throttled.error.as_deref().unwrap();
    assert!(
        error.contains("every request to `shop` waits") && error.contains("retry 1 of 3"),
        "{error}"
    );
}

#[tokio::test]
async fn concurrent_requests_refused_together_are_each_sent_once_more_after_the_pause() {
    let fake = partner(FakePartnerConfig::new()).await;
    let paced = adapter(&fake, Some(json!({"per_second": 1000, "burst": 100})));
    let until = fake.throttle_until(SystemTime::now() + Duration::from_secs(1));

    let results = paced
        .push_batch(
            &context("unused", RecordingSink::new()),
            &batch("together", 8),
        )
        .await;

    assert!(results.iter().all(Result::is_ok), "{results:?}");
    let deliveries = fake.deliveries();
    for (key, count) in fake.delivery_counts() {
        assert!(count <= 2, "{key} was sent {count} times");
    }
    for d in &deliveries {
        match d.outcome {
            DeliveryOutcome::Rejected => assert!(d.received_at < until),
            _ => assert!(d.received_at >= until, "{:?} sent early", d.idempotency_key),
        }
    }
    assert_eq!(fake.stats().applied, 8);
}

#[tokio::test]
async fn in_adapter_retries_are_bounded_then_the_job_gets_rate_limited() {
    let fake = partner(FakePartnerConfig::new()).await;
    let paced = adapter(&fake, Some(json!({"per_second": 100, "retries": 2})));
    fake.throttle(1);
    let sink = RecordingSink::new();

    let err = paced
        .push(&context("stubborn", sink.clone()), &document("stubborn"))
        .await
        .unwrap_err();

    assert_eq!(
        err.class,
        ErrorClass::RateLimited {
            retry_after: Some(Duration::from_secs(1))
        }
    );
    let arrivals: Vec<SystemTime> = fake.deliveries().iter().map(|d| d.received_at).collect();
    assert_eq!(arrivals.len(), 3, "the request and its two retries");
    for pair in arrivals.windows(2) {
        let gap = pair[1].duration_since(pair[0]).unwrap();
        assert!(gap >= Duration::from_secs(1), "sent again after {gap:?}");
    }
    let errors: Vec<String> = sink
        .exchanges()
        .into_iter()
        .map(|e| e.error.unwrap())
        .collect();
    assert!(errors[0].ends_with("retry 1 of 2"), "{}", errors[0]);
    assert!(errors[1].ends_with("retry 2 of 2"), "{}", errors[1]);
    assert!(!errors[2].contains("retry"), "{}", errors[2]);
}

#[tokio::test]
async fn a_retry_after_longer_than_max_wait_goes_back_to_the_queue_at_once() {
    let fake = partner(FakePartnerConfig::new()).await;
    let paced = adapter(&fake, Some(json!({"per_second": 100, "max_wait_secs": 60})));
    fake.throttle(120);

    let err = paced
        .push(&context("later", RecordingSink::new()), &document("later"))
        .await
        .unwrap_err();

    assert_eq!(
        err.class,
        ErrorClass::RateLimited {
            retry_after: Some(Duration::from_secs(120))
        }
    );
    assert_eq!(fake.stats().deliveries, 1);
    assert_eq!(
        paced.pacer().unwrap().paused_until(),
        None,
        "no worker is held for two minutes"
    );
}
