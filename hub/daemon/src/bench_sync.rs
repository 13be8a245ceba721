//! `switchyard bench sync`: the sync engine against the generic HTTP fake (bearer auth,
//! idempotency keys, a per-call latency and a rate limit answered with 429 + Retry-After),
//! with a `switchyard run` child process doing the work so its peak RSS and CPU time are the
//! sync's own. The partner is configured with the client-side `rate_limit` an operator would
//! set (90 % of the fake's, `--client-rate 0` for none). Figures are printed, never asserted:
//!
//! * full initial sync of N products: time, write calls, throttled calls;
//! * re-sync with nothing changed (incremental, then full): write calls (must be 0), time;
//! * re-sync with 1 % changed: items written (must be exactly 1 %), time;
//! * change detection (read, map, hash, compare): the no-change full sync's items per second
//!   of the daemon's CPU time (user + system), i.e. per core;
//! * peak RSS (VmHWM) of the daemon over all of it.

use crate::bench::{peak_rss_kb, terminate};
use anyhow::Context as _;
use clap::Args;
use serde_json::json;
use std::path::Path;
use std::process::{ExitCode, Stdio};
use std::time::{Duration, Instant};
use switchyard_adapter_http::fake::{FakePartner, FakePartnerConfig};
use switchyard_core::ids::OrgId;
use switchyard_runtime::config::Config;
use switchyard_store::queue::{NewJob, Queue};

const BENCH_DB: &str = "switchyard_bench_sync";

#[derive(Debug, Args)]
pub struct SyncBench {
    /// Products in the catalog.
    #[arg(long, default_value_t = 100_000)]
    products: i64,
    /// The partner's latency per call, in milliseconds.
    #[arg(long, default_value_t = 5)]
    latency_ms: u64,
    /// The partner's rate limit: calls per second (and the burst).
    #[arg(long, default_value_t = 2000.0)]
    rate: f64,
    #[arg(long, default_value_t = 200)]
    burst: u32,
    /// The client's own limit on the partner (`rate_limit.per_second`): 90 % of `--rate` when
    /// not given; 0 sends unpaced, finding the partner's limit with 429s.
    #[arg(long)]
    client_rate: Option<f64>,
    /// The client's burst (`rate_limit.burst`): 90 % of `--burst` when not given.
    #[arg(long)]
    client_burst: Option<u32>,
    /// Items per page (one transaction and one batch of writes each).
    #[arg(long, default_value_t = 500)]
    page_size: i64,
}

pub async fn run(args: SyncBench, config_path: &Path) -> anyhow::Result<ExitCode> {
    let base = if config_path.exists() {
        Config::load(config_path)?
    } else {
        Config::default()
    };
    let url = switchyard_runtime::pg::recreate_database(&base.database.url, BENCH_DB).await?;
    let pool = switchyard_store::connect(&url, 8).await?;
    switchyard_store::MIGRATOR.run(&pool).await?;
    let queue = Queue::new(
        pool.clone(),
        std::sync::Arc::new(switchyard_core::clock::SystemClock),
    );
    let org = switchyard_store::orgs::ensure(&pool, "bench").await?.id;

    let partner = FakePartner::start(
        FakePartnerConfig::new()
            .bearer_token("bench-token")
            .required_fields(["handle", "title"])
            .latency(Duration::from_millis(args.latency_ms))
            .rate_limit(args.burst, args.rate),
    )
    .await?;
    // Below the partner's limit, as an operator would configure it, so no call draws a 429.
    let client_rate = args.client_rate.unwrap_or(args.rate * 0.9);
    let client_burst = args
        .client_burst
        .unwrap_or(((f64::from(args.burst) * 0.9) as u32).max(1));
    let pacing = if client_rate > 0.0 {
        format!("rate_limit = {{ per_second = {client_rate}, burst = {client_burst} }}\n")
    } else {
        String::new()
    };
    let dir = std::env::temp_dir().join(format!("switchyard-bench-sync-{}", std::process::id()));
    std::fs::create_dir_all(dir.join("schedules"))?;
    let mappings = std::fs::canonicalize(&base.paths.mappings)
        .with_context(|| format!("the mappings directory {}", base.paths.mappings.display()))?;
    let config = dir.join("switchyard.toml");
    std::fs::write(
        &config,
        format!(
            "[database]\nurl = {url:?}\n\n[paths]\nmappings = {:?}\nschedules = {:?}\n\n\
             [partners.shop]\nkind = \"http\"\norg = \"bench\"\nbase_url = \"{}\"\nauth = {{ type = \"bearer\", token_ref = \"env:BENCH_SHOP_TOKEN\" }}\n{pacing}\n\
             [sync.shop.catalog]\nmapping = \"storefront/product.out\"\ntombstone = \"storefront/product.tombstone\"\npage_size = {}\n",
            mappings.to_string_lossy(),
            dir.join("schedules").to_string_lossy(),
            partner.base_url(),
            args.page_size,
        ),
    )?;

    let client = if client_rate > 0.0 {
        format!("client paced at {client_rate}/s (burst {client_burst})")
    } else {
        "client unpaced".to_owned()
    };
    println!(
        "sync benchmark: {} products, partner latency {} ms per call, rate limit {}/s (burst {}), {client}, page {} ({} cores)",
        args.products,
        args.latency_ms,
        args.rate,
        args.burst,
        args.page_size,
        std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1)
    );
    let t = Instant::now();
    seed(&pool, org, args.products).await?;
    println!(
        "seeded in {:.1}s (one feed entry per product)",
        t.elapsed().as_secs_f64()
    );

    let exe = std::env::current_exe()?;
    let mut child = tokio::process::Command::new(&exe)
        .args(["run", "--no-api", "--no-scheduler"])
        .env("SWITCHYARD_CONFIG", &config)
        .env("SWITCHYARD_DATABASE__URL", &url)
        .env("SWITCHYARD_LOG", "warn")
        .env("BENCH_SHOP_TOKEN", "bench-token")
        .stdout(Stdio::null())
        .kill_on_drop(true)
        .spawn()?;
    let pid = child.id().context("the daemon's pid")?;

    let full = json!({"partner": "shop", "entity": "catalog", "full": true});
    let incremental = json!({"partner": "shop", "entity": "catalog"});

    // 1. Full initial sync.
    let run1 = timed(&queue, &partner, org, "full-1", &full, pid).await?;
    println!(
        "full initial sync   {:>8.1}s  {:>7} write calls ({} applied, {} answered 429 and sent again)  {:>7.0} items/s",
        run1.secs, run1.writes, run1.applied, run1.throttled, args.products as f64 / run1.secs
    );

    // 2. Nothing changed.
    let run2 = timed(&queue, &partner, org, "idle", &incremental, pid).await?;
    println!(
        "re-sync, no change  {:>8.3}s  {:>7} write calls (incremental: nothing in the feed)",
        run2.secs, run2.writes
    );
    let run3 = timed(&queue, &partner, org, "full-2", &full, pid).await?;
    println!(
        "full, no change     {:>8.1}s  {:>7} write calls (every item read, mapped, hashed, compared)",
        run3.secs, run3.writes
    );
    println!(
        "change detection    {:>8.0} items/s per core ({:.2}s daemon CPU for {} items; {:.0} items/s wall)",
        args.products as f64 / run3.cpu_secs.max(1e-9),
        run3.cpu_secs,
        args.products,
        args.products as f64 / run3.secs
    );

    // 3. 1 % changed.
    let changed = sqlx::query(
        "UPDATE products SET name = name || ' v2' WHERE org_id = $1 AND (substr(sku, 3)::int % 100) = 7",
    )
    .bind(org.0)
    .execute(&pool)
    .await?
    .rows_affected();
    let run4 = timed(&queue, &partner, org, "one-percent", &incremental, pid).await?;
    println!(
        "re-sync, 1 % change {:>8.2}s  {:>7} write calls for {changed} changed items ({} applied, {} answered 429)",
        run4.secs, run4.writes, run4.applied, run4.throttled
    );
    if let Some(kb) = peak_rss_kb(pid) {
        println!(
            "peak RSS            {:>8.1} MiB (VmHWM of the `switchyard run` process that synced)",
            kb as f64 / 1024.0
        );
    }
    terminate(&mut child).await;
    partner.shutdown().await;
    let _ = std::fs::remove_dir_all(&dir);
    Ok(ExitCode::SUCCESS)
}

async fn seed(pool: &sqlx::PgPool, org: OrgId, n: i64) -> anyhow::Result<()> {
    // In chunks: one statement per 10,000 products keeps each transaction's feed short.
    let mut from = 0;
    while from < n {
        let to = (from + 10_000).min(n);
        sqlx::query(
            "INSERT INTO products (org_id, sku, name, uom, web_visible, material_grade, long_description, dimensions)
             SELECT $1, 'P-' || lpad(i::text, 6, '0'), 'Hot rolled plate ' || i, 'EA', true, 'A36',
                    'ASTM A36 carbon steel plate, ' || i || ' mm',
                    jsonb_build_object('weight', jsonb_build_object('value', 10 + i % 90, 'unit', 'LB'),
                                       'length', jsonb_build_object('value', 96, 'unit', 'IN'))
             FROM generate_series($2, $3 - 1) AS i",
        )
        .bind(org.0)
        .bind(from)
        .bind(to)
        .execute(pool)
        .await?;
        from = to;
    }
    Ok(())
}

struct Run {
    secs: f64,
    cpu_secs: f64,
    writes: u64,
    applied: u64,
    throttled: u64,
}

/// Enqueue a run, wait for it to succeed; what it cost.
async fn timed(
    queue: &Queue,
    partner: &FakePartner,
    org: OrgId,
    key: &str,
    payload: &serde_json::Value,
    pid: u32,
) -> anyhow::Result<Run> {
    let before = partner.stats();
    let cpu_before = cpu_secs(pid);
    let t = Instant::now();
    let id = queue
        .enqueue(
            NewJob::new(org, "sync.run", payload.clone())
                .partner("shop")
                .key(key),
        )
        .await?
        .job
        .id;
    loop {
        let (state, error): (String, Option<String>) =
            sqlx::query_as("SELECT state, last_error FROM jobs WHERE id = $1")
                .bind(id.0)
                .fetch_one(queue.pool())
                .await?;
        match state.as_str() {
            "succeeded" => break,
            "dead" => anyhow::bail!("the sync run {key} failed: {}", error.unwrap_or_default()),
            _ => tokio::time::sleep(Duration::from_millis(20)).await,
        }
    }
    let secs = t.elapsed().as_secs_f64();
    let after = partner.stats();
    Ok(Run {
        secs,
        cpu_secs: cpu_secs(pid) - cpu_before,
        // Every call to the write endpoint, those answered 429 included.
        writes: after.deliveries - before.deliveries,
        applied: after.applied - before.applied,
        throttled: after.throttled - before.throttled,
    })
}

/// User + system CPU seconds of process `pid` (`/proc/PID/stat`, in USER_HZ = 100 ticks).
fn cpu_secs(pid: u32) -> f64 {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return 0.0;
    };
    // The command name may hold spaces; the fields after its closing parenthesis are fixed.
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest.split_whitespace().collect())
        .unwrap_or_default();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    // utime and stime are fields 14 and 15 of the line, 12 and 13 after the name.
    (ticks(11) + ticks(12)) / 100.0
}
