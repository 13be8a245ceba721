//! Kill -9 a worker mid-run: every job still succeeds and every effect is applied exactly once
//! at the partner (redeliveries are allowed, the idempotency key absorbs them).

use std::time::{Duration, Instant};
use switchyard_adapter_http::fake::{FakePartner, FakePartnerConfig};
use switchyard_e2e::jobs::pushes;
use switchyard_e2e::{count, eventually, TestDaemon, TestDb};
use switchyard_store::queue::{NewJob, RetryPolicy, RetrySpec};

const JOBS: usize = 2000;
const LEASE_SECS: u64 = 3;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_mid_run_loses_nothing_and_applies_each_effect_once() -> anyhow::Result<()> {
    // A little latency per request keeps the run long enough to kill it in the middle.
    let partner = FakePartner::start(
        FakePartnerConfig::new()
            .bearer_token("crash-token")
            .required_fields(["n"])
            .latency(Duration::from_millis(15)),
    )
    .await?;
    let cluster = TestDaemon::builder()
        .toml(&format!(
            "[queue]\nconcurrency = 32\nclaim_batch = 32\nlease_secs = {LEASE_SECS}\nrescue_interval_ms = 500\n"
        ))
        .http_partner_with("sink", &partner, "crash", "env:SINK_TOKEN")
        .prepare()
        .await?;
    let db = &cluster.db;
    let queue = cluster.queue();
    let org = cluster.org("crash").await?;
    let jobs: Vec<NewJob> = pushes(org, "sink", "order", JOBS)
        .into_iter()
        .map(|job| job.retry(RetrySpec::of(RetryPolicy::Immediate)))
        .collect();
    assert_eq!(queue.enqueue_many(&jobs).await?, JOBS as u64);

    let env = [("SINK_TOKEN", "crash-token")];
    let mut first = cluster.spawn(&["--no-api", "--no-scheduler"], &env, "first.log")?;
    eventually(
        Duration::from_secs(60),
        "a quarter of the deliveries",
        || {
            let n = partner.stats().deliveries;
            async move { Ok(n >= (JOBS / 4) as u64) }
        },
    )
    .await
    .map_err(|e| anyhow::anyhow!("{e}\n--- daemon log ---\n{}", first.log_text()))?;
    first.kill9().await;
    let killed_at = Instant::now();
    let running_at_kill = count(
        &db.pool,
        "SELECT count(*) FROM jobs WHERE state = 'running'",
    )
    .await?;
    let done_at_kill = count(
        &db.pool,
        "SELECT count(*) FROM jobs WHERE state = 'succeeded'",
    )
    .await?;
    assert!(
        done_at_kill < JOBS as i64,
        "the kill must land mid-run (all {JOBS} already done)"
    );

    let mut second = cluster.spawn(&["--no-api", "--no-scheduler"], &env, "second.log")?;
    eventually(
        Duration::from_secs(90),
        "every job to succeed after the restart",
        || {
            let pool = db.pool.clone();
            async move {
                Ok(
                    count(&pool, "SELECT count(*) FROM jobs WHERE state = 'succeeded'").await?
                        == JOBS as i64,
                )
            }
        },
    )
    .await
    .map_err(|e| anyhow::anyhow!("{e}\n--- second daemon log ---\n{}", second.log_text()))?;
    let recovered_in = killed_at.elapsed();
    second.terminate().await;

    let stats = partner.stats();
    let counts = partner.delivery_counts();
    let missing: Vec<usize> = (0..JOBS)
        .filter(|n| partner.times_applied(&format!("order-{n}")) != 1)
        .collect();
    assert!(
        missing.is_empty(),
        "effects not applied exactly once: {:?}",
        &missing[..missing.len().min(20)]
    );
    assert_eq!(stats.applied, JOBS as u64, "every key applied once");
    assert_eq!(
        count(&db.pool, "SELECT count(*) FROM dead_letters").await?,
        0
    );
    let redelivered = counts.values().filter(|&&n| n > 1).count();
    println!(
        "crash safety: killed with {done_at_kill} done and {running_at_kill} running; all {JOBS} done {:.1}s after the kill; \
         {redelivered} keys redelivered, {} duplicate deliveries absorbed by the idempotency key",
        recovered_in.as_secs_f64(),
        stats.duplicates
    );
    // Re-claim within lease + 5 s of the kill, plus the restart itself.
    assert!(
        recovered_in < Duration::from_secs(LEASE_SECS + 5 + 20),
        "recovery took {recovered_in:?}"
    );
    partner.shutdown().await;
    cluster.db.drop_db().await;
    Ok(())
}

/// The bootstrap command mints a working admin key against a fresh database.
#[tokio::test]
async fn admin_create_key_prints_a_key_that_authenticates() -> anyhow::Result<()> {
    let db = TestDb::create().await?;
    // No config file at all: the default `switchyard.toml` may be missing (a named one may
    // not), so the environment alone configures it.
    let empty = tempfile::tempdir()?;
    let out = tokio::process::Command::new(switchyard_e2e::switchyard_bin())
        .args([
            "admin",
            "create-key",
            "--org",
            "acme",
            "--name",
            "bootstrap",
            "--scopes",
            "admin:keys,write:dead-letters",
        ])
        .env("SWITCHYARD_DATABASE__URL", &db.url)
        .env_remove("SWITCHYARD_CONFIG")
        .current_dir(empty.path())
        .output()
        .await?;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let key = String::from_utf8(out.stdout)?.trim().to_owned();
    assert!(
        key.starts_with("sy_") && key.len() > 40,
        "a 256-bit key is printed once: {key}"
    );
    let row = switchyard_store::keys::authenticate(&db.pool, &key)
        .await?
        .map_err(|r| anyhow::anyhow!("the printed key was refused: {r:?}"))?;
    let scopes: Vec<String> = row.scopes.iter().map(|s| s.to_string()).collect();
    assert_eq!(scopes, ["admin:keys", "write:dead-letters"]);
    let bad = tokio::process::Command::new(switchyard_e2e::switchyard_bin())
        .args([
            "admin",
            "create-key",
            "--org",
            "acme",
            "--scopes",
            "read:everything",
        ])
        .env("SWITCHYARD_DATABASE__URL", &db.url)
        .output()
        .await?;
    assert!(!bad.status.success());
    assert!(
        String::from_utf8_lossy(&bad.stderr).contains("read:everything"),
        "{}",
        String::from_utf8_lossy(&bad.stderr)
    );
    db.drop_db().await;
    Ok(())
}
