//! `switchyard bench webhooks` run small on a fresh database: every count it reports is
//! checked (each event delivered once to each subscribed endpoint, every signature valid, the
//! endpoint that never answers asked), never a time: figures come from the command.

use std::time::Duration;
use switchyard_daemon::bench_webhooks::{measure, WebhooksBench};
use switchyard_e2e::TestDb;
use switchyard_runtime::config::Config;

#[tokio::test]
async fn the_webhooks_bench_runs_small_and_counts_every_delivery() -> anyhow::Result<()> {
    let db = TestDb::create().await?;
    let dir = tempfile::tempdir()?;
    let mut config = Config::default();
    config.database.url = db.url.clone();
    config.paths.mappings = dir.path().join("mappings");
    config.paths.schedules = dir.path().join("schedules");
    config.paths.inbox = dir.path().join("inbox");
    let args = WebhooksBench {
        deliveries: 1_500,
        samples: 30,
        rate: 200.0,
        slow_timeout_ms: 300,
        deadline_secs: 120,
        max_in_flight: 64,
    };
    let r = measure(&args, config, &dir.path().join("switchyard.toml"), |_| {}).await?;
    assert_eq!(r.deliveries, 1_500, "{r:?}");
    assert_eq!(r.steady.delivered, 30, "{r:?}");
    assert_eq!(r.with_slow.delivered, 30, "{r:?}");
    assert!(r.slow_requests >= 1, "{r:?}");
    assert_eq!(r.bad_signatures, 0, "{r:?}");
    assert_eq!(r.duplicates, 0, "{r:?}");
    // Percentiles are ordered (the figures themselves are not judged here).
    assert!(
        r.steady.p50 <= r.steady.p99 && r.steady.p99 <= r.steady.max,
        "{r:?}"
    );
    assert!(
        r.throughput_secs > 0.0 && r.steady.max > Duration::ZERO,
        "{r:?}"
    );
    db.drop_db().await;
    Ok(())
}
