//! How many deliveries per second the fake partner takes through the HTTP adapter on loopback
//! (the crash-safety and scale-out tests need 5,000/s). Prints figures; run with
//! `cargo bench -p switchyard-adapter-http --bench fake_throughput -- [DELIVERIES] [CONCURRENCY]`.

use serde_json::json;
use std::sync::Arc;
use std::time::Instant;
use switchyard_adapter_http::fake::{FakePartner, FakePartnerConfig};
use switchyard_adapter_http::HttpAdapterFactory;
use switchyard_core::adapter::{Adapter, NullSink, OutboundDocument, Payload};
use switchyard_core::ids::PartnerName;
use switchyard_runtime::testkit::doubles::{context, MapSecrets};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // `cargo bench` passes `--bench`; take the first two numeric arguments.
    let numbers: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let deliveries = numbers.first().copied().unwrap_or(20_000);
    let concurrency = numbers.get(1).copied().unwrap_or(64).max(1);

    let fake = FakePartner::start(
        FakePartnerConfig::new()
            .bearer_token("bench-token")
            .required_fields(["sku", "name"]),
    )
    .await?;
    let secrets = MapSecrets::new().with("secret:t", "bench-token");
    let config =
        json!({"base_url": fake.base_url(), "auth": {"type": "bearer", "token_ref": "secret:t"}});
    let adapter = Arc::new(HttpAdapterFactory::new()?.build_http(
        &PartnerName::from("bench"),
        &config,
        &secrets,
    )?);
    let sink: Arc<NullSink> = Arc::new(NullSink);

    let started = Instant::now();
    let mut workers = Vec::new();
    for w in 0..concurrency {
        let adapter = adapter.clone();
        let sink = sink.clone();
        workers.push(tokio::spawn(async move {
            let mut i = w;
            let mut failures = 0usize;
            while i < deliveries {
                let doc = OutboundDocument {
                    document: "catalog".to_owned(),
                    payload: Payload::Json {
                        body: json!({"sku": format!("SKU-{i}"), "name": "plate", "qty": i}),
                    },
                };
                if adapter
                    .push(&context(format!("bench-{i}"), sink.clone()), &doc)
                    .await
                    .is_err()
                {
                    failures += 1;
                }
                i += concurrency;
            }
            failures
        }));
    }
    let mut failures = 0;
    for w in workers {
        failures += w.await?;
    }
    let elapsed = started.elapsed();
    let stats = fake.stats();
    println!("fake partner throughput through the http adapter (loopback, one process)");
    println!("  deliveries:   {deliveries} with concurrency {concurrency}");
    println!("  failures:     {failures}");
    println!("  applied:      {}", stats.applied);
    println!("  wall time:    {:.3} s", elapsed.as_secs_f64());
    println!(
        "  rate:         {:.0} deliveries/s",
        deliveries as f64 / elapsed.as_secs_f64()
    );
    if failures > 0 || stats.applied != deliveries as u64 {
        return Err("not every delivery was applied exactly once".into());
    }
    Ok(())
}
