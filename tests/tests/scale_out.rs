//! Three `switchyard run` processes on one database share 5,000 jobs with no job executed
//! twice, and a per-second schedule fires exactly once per tick across all of them.

use chrono::{DateTime, Utc};
use std::time::Duration;
use switchyard_adapter_http::fake::{FakePartner, FakePartnerConfig};
use switchyard_e2e::jobs::pushes;
use switchyard_e2e::{count, eventually, Daemon, TestDaemon};

const JOBS: usize = 5000;
const PROCESSES: usize = 3;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_processes_share_the_queue_and_the_schedule() -> anyhow::Result<()> {
    let partner = FakePartner::start(
        FakePartnerConfig::new()
            .bearer_token("scale-token")
            .required_fields(["n"]),
    )
    .await?;
    let cluster = TestDaemon::builder()
        .toml("[queue]\nconcurrency = 64\nclaim_batch = 32\n")
        .http_partner_with("sink", &partner, "scale", "env:SINK_TOKEN")
        .schedule(
            "heartbeat",
            "cron = \"* * * * * *\"\njob = \"noop\"\norg = \"scale\"\nmissed = \"skip\"\n",
        )
        .prepare()
        .await?;
    let db = &cluster.db;
    let env = [("SINK_TOKEN", "scale-token")];
    let logs = |d: &Vec<Daemon>| {
        d.iter()
            .map(|d| d.log_text())
            .collect::<Vec<_>>()
            .join("\n---\n")
    };
    let mut daemons = Vec::new();
    for i in 0..PROCESSES {
        daemons.push(cluster.spawn(&["--no-api"], &env, &format!("daemon-{i}.log"))?);
    }
    // Every process's worker listens and its scheduler is active before the jobs arrive, so
    // each can take a share: wait for both lines in every log, not for a timer.
    eventually(Duration::from_secs(60), "every process to be ready", || {
        let ready = daemons.iter().all(|d| {
            let log = d.log_text();
            log.contains("worker started") && log.contains("schedule active")
        });
        async move { Ok(ready) }
    })
    .await
    .map_err(|e| anyhow::anyhow!("{e}\n{}", logs(&daemons)))?;
    let queue = cluster.queue();
    let org = cluster.org("scale").await?;
    queue.enqueue_many(&pushes(org, "sink", "o", JOBS)).await?;
    eventually(Duration::from_secs(120), "all pushes to succeed", || {
        let pool = db.pool.clone();
        async move {
            Ok(count(
                &pool,
                "SELECT count(*) FROM jobs WHERE kind = 'partner.push' AND state = 'succeeded'",
            )
            .await?
                == JOBS as i64)
        }
    })
    .await
    .map_err(|e| anyhow::anyhow!("{e}\n{}", logs(&daemons)))?;
    // Let the schedule fire several ticks across the three processes, then stop everyone
    // gracefully.
    eventually(Duration::from_secs(60), "five heartbeat ticks", || {
        let pool = db.pool.clone();
        async move {
            Ok(count(
                &pool,
                "SELECT count(DISTINCT idempotency_key) FROM jobs WHERE kind = 'noop' AND idempotency_key LIKE 'schedule:heartbeat:%'",
            )
            .await?
                >= 5)
        }
    })
    .await?;
    for d in daemons.iter_mut() {
        let status = d.terminate().await;
        assert!(
            status.is_some_and(|s| s.success()),
            "graceful exit: {status:?}\n{}",
            d.log_text()
        );
    }

    // No job ran twice: without crashes every key reached the partner exactly once.
    let stats = partner.stats();
    assert_eq!(
        stats.deliveries, JOBS as u64,
        "each job delivered exactly once"
    );
    assert_eq!(stats.duplicates, 0);
    let attempts_over_one = count(&db.pool, "SELECT count(*) FROM jobs WHERE attempts > 1").await?;
    assert_eq!(attempts_over_one, 0, "no job was claimed twice");
    // Every process did some of the work.
    let workers = count(
        &db.pool,
        "SELECT count(DISTINCT worker_id) FROM jobs WHERE kind = 'partner.push'",
    )
    .await?;
    assert_eq!(
        workers, PROCESSES as i64,
        "every process took a share of the jobs"
    );

    // The schedule: one job per tick, and no tick missed between the first and the last.
    let keys: Vec<String> = sqlx::query_scalar(
        "SELECT idempotency_key FROM jobs WHERE kind = 'noop' AND idempotency_key LIKE 'schedule:heartbeat:%' ORDER BY idempotency_key",
    )
    .fetch_all(&db.pool)
    .await?;
    let ticks: Vec<DateTime<Utc>> = keys
        .iter()
        .map(|k| {
            DateTime::parse_from_rfc3339(k.trim_start_matches("schedule:heartbeat:"))
                .map(|t| t.with_timezone(&Utc))
        })
        .collect::<Result<_, _>>()?;
    assert!(
        ticks.len() >= 5,
        "the per-second schedule should have fired for several seconds, got {}",
        ticks.len()
    );
    let span = (*ticks.last().unwrap() - ticks[0]).num_seconds() + 1;
    assert_eq!(
        span as usize,
        ticks.len(),
        "one job per tick, none missed: {} jobs over {span} seconds",
        ticks.len()
    );
    let (dupes,): (i64,) = sqlx::query_as(
        "SELECT count(*) FROM (SELECT idempotency_key FROM jobs WHERE kind = 'noop' GROUP BY idempotency_key HAVING count(*) > 1) d",
    )
    .fetch_one(&db.pool)
    .await?;
    assert_eq!(dupes, 0);
    println!("scale-out: {JOBS} jobs over {PROCESSES} processes, each delivered once; schedule fired {} ticks, one job each", ticks.len());
    partner.shutdown().await;
    cluster.db.drop_db().await;
    Ok(())
}
