//! `switchyard bench sync`: the sync engine against the generic HTTP fake (bearer auth,
//! idempotency keys, a per-call latency and a rate limit answered with 429 + Retry-After),
//! with a `switchyard run` child process doing the work so its peak RSS and CPU time are the
//! sync's own. The partner is configured with the client-side `rate_limit` an operator would
//! set (90 % of the fake's, `--client-rate 0` for none). Figures are printed, never asserted:
//!
//! * full initial sync of N products: time, write calls, throttled calls;
//! * re-sync with nothing changed (incremental, then full): write calls (must be 0), time;
//! * re-sync with 1 % changed: items written (must be exactly 1 %), time;
//! * change detection (read, compare; map and hash where the input changed): the no-change
//!   full sync's items per second of the daemon's CPU time (user + system), i.e. per core, and
//!   per second of the daemon's CPU plus that of the Postgres backends serving it (the canonical
//!   items are built in Postgres, so a figure of the daemon alone would hide work that moved
//!   there); three times, one per path an item can be decided by: with the feed marks known
//!   (every item skipped unread on its change-feed position, migration 0023), with only the
//!   inputs known (every item read and skipped on its input hash, its mark recorded, as the
//!   first run after the upgrade to 0023), and with the inputs unknown (every item read,
//!   decoded, mapped and hashed, as a first run after a mapping change whose payloads stayed the
//!   same); each prints how many items each path decided (`examined_fast`, `built`);
//! * peak RSS (VmHWM) of the daemon over all of it.
//!
//! The Postgres figure is read from `/proc/PID/stat` of every backend connected to the bench's
//! database except the one the bench polls on (the bench's other connections sit idle during a
//! run), so it needs the server on this machine; elsewhere it prints as unknown.

use crate::bench::{peak_rss_kb, terminate};
use anyhow::Context as _;
use clap::Args;
use serde_json::json;
use std::collections::HashMap;
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
    // The bench polls on a connection of its own, the one backend not counted as the sync's.
    let monitor = switchyard_store::connect(&url, 1).await?;
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
    crate::bench::seed_products(&pool, org, args.products).await?;
    // A live catalog has planner statistics; 100,000 rows inserted at once have none until
    // autovacuum gets to them (on a busy server it had not, 40 minutes later), and without them
    // the page's product lookup may scan the organization's whole catalog.
    sqlx::query("ANALYZE products, product_variants, product_uom_conversions, catalog_changes")
        .execute(&pool)
        .await?;
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

    let bench = Bench {
        queue: &queue,
        monitor: &monitor,
        partner: &partner,
        org,
        pid,
    };
    // 1. Full initial sync.
    let run1 = bench.timed("full-1", &full).await?;
    println!(
        "full initial sync   {:>8.1}s  {:>7} write calls ({} applied, {} answered 429 and sent again)  {:>7.0} items/s",
        run1.secs, run1.writes, run1.applied, run1.throttled, args.products as f64 / run1.secs
    );

    // 2. Nothing changed.
    let run2 = bench.timed("idle", &incremental).await?;
    println!(
        "re-sync, no change  {:>8.3}s  {:>7} write calls (incremental: nothing in the feed)",
        run2.secs, run2.writes
    );
    let run3 = bench.timed("full-2", &full).await?;
    println!(
        "full, no change     {:>8.1}s  {:>7} write calls (feed marks known: {} items skipped unread, {} read)",
        run3.secs, run3.writes, run3.fast, run3.built
    );
    detection("feed marks known", &run3, args.products);
    // As after the upgrade to 0023: every item read and skipped on its input hash (none
    // mapped), its mark recorded for the next run.
    sqlx::query(
        "UPDATE sync_items SET input_seq = NULL, input_basis = NULL, input_valid_until = NULL",
    )
    .execute(&pool)
    .await?;
    sqlx::query("ANALYZE sync_items").execute(&pool).await?;
    let run3a = bench.timed("full-3", &full).await?;
    println!(
        "full, no change     {:>8.1}s  {:>7} write calls (marks unknown, inputs known: {} skipped unread, {} read, none mapped; marks recorded)",
        run3a.secs, run3a.writes, run3a.fast, run3a.built
    );
    detection("inputs known", &run3a, args.products);
    // As before input hashes, or after a mapping change that left the payloads the same:
    // every item decoded, mapped, hashed and compared, its input recorded for the next run.
    sqlx::query("UPDATE sync_items SET input_hash = NULL")
        .execute(&pool)
        .await?;
    sqlx::query("ANALYZE sync_items").execute(&pool).await?;
    let run3b = bench.timed("full-4", &full).await?;
    println!(
        "full, no change     {:>8.1}s  {:>7} write calls (inputs unknown: {} skipped unread, {} read, mapped, hashed, compared)",
        run3b.secs, run3b.writes, run3b.fast, run3b.built
    );
    detection("inputs unknown", &run3b, args.products);

    // 3. 1 % changed.
    let changed = sqlx::query(
        "UPDATE products SET name = name || ' v2' WHERE org_id = $1 AND (substr(sku, 3)::int % 100) = 7",
    )
    .bind(org.0)
    .execute(&pool)
    .await?
    .rows_affected();
    let run4 = bench.timed("one-percent", &incremental).await?;
    println!(
        "re-sync, 1 % change {:>8.2}s  {:>7} write calls for {changed} changed items ({} applied, {} answered 429; {} read)",
        run4.secs, run4.writes, run4.applied, run4.throttled, run4.built
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

struct Run {
    secs: f64,
    cpu_secs: f64,
    /// CPU seconds of the Postgres backends serving the daemon, if readable.
    pg_cpu_secs: Option<f64>,
    writes: u64,
    applied: u64,
    throttled: u64,
    /// Items the run skipped unread on their feed marks, and items it read (sync_states).
    fast: i64,
    built: i64,
}

/// The change detection figures of a no-change full run of `items` items.
fn detection(what: &str, run: &Run, items: i64) {
    let n = items as f64;
    let pg = match run.pg_cpu_secs {
        Some(pg) => format!(
            "{:.0} items/s per core of daemon + Postgres CPU ({pg:.2}s Postgres backends' CPU)",
            n / (run.cpu_secs + pg).max(1e-9)
        ),
        None => "Postgres backends' CPU unknown (not on this machine)".to_owned(),
    };
    println!(
        "change detection    {:>8.0} items/s per core of daemon CPU ({what}: {:.2}s daemon CPU); {pg}; {:.0} items/s wall",
        n / run.cpu_secs.max(1e-9),
        run.cpu_secs,
        n / run.secs
    );
}

/// What a run is measured against.
struct Bench<'a> {
    queue: &'a Queue,
    /// A connection of the bench's own: polls, and lists the daemon's backends.
    monitor: &'a sqlx::PgPool,
    partner: &'a FakePartner,
    org: OrgId,
    /// The `switchyard run` child.
    pid: u32,
}

impl Bench<'_> {
    /// Enqueue a run, wait for it to succeed; what it cost.
    async fn timed(&self, key: &str, payload: &serde_json::Value) -> anyhow::Result<Run> {
        let before = self.partner.stats();
        let cpu_before = cpu_secs(self.pid);
        let mut backends = Backends::default();
        backends.sample(self.monitor, true).await;
        let t = Instant::now();
        let id = self
            .queue
            .enqueue(
                NewJob::new(self.org, "sync.run", payload.clone())
                    .partner("shop")
                    .key(key),
            )
            .await?
            .job
            .id;
        loop {
            // Sampled while the run goes on: a backend that ends before the run does (a
            // connection the pool closes) keeps the CPU it was last seen with.
            backends.sample(self.monitor, false).await;
            let (state, error): (String, Option<String>) =
                sqlx::query_as("SELECT state, last_error FROM jobs WHERE id = $1")
                    .bind(id.0)
                    .fetch_one(self.monitor)
                    .await?;
            match state.as_str() {
                "succeeded" => break,
                "dead" => anyhow::bail!("the sync run {key} failed: {}", error.unwrap_or_default()),
                _ => tokio::time::sleep(Duration::from_millis(20)).await,
            }
        }
        let secs = t.elapsed().as_secs_f64();
        backends.sample(self.monitor, false).await;
        let after = self.partner.stats();
        let (fast, built): (i64, i64) = sqlx::query_as(
            "SELECT examined_fast, built FROM sync_states
             WHERE org_id = $1 AND partner = 'shop' AND entity = 'catalog'",
        )
        .bind(self.org.0)
        .fetch_one(self.monitor)
        .await?;
        Ok(Run {
            fast,
            built,
            secs,
            cpu_secs: cpu_secs(self.pid) - cpu_before,
            pg_cpu_secs: backends.cpu_secs(),
            // Every call to the write endpoint, those answered 429 included.
            writes: after.deliveries - before.deliveries,
            applied: after.applied - before.applied,
            throttled: after.throttled - before.throttled,
        })
    }
}

/// CPU seconds of the Postgres backends connected to the bench's database (but the monitor's
/// own), from their `/proc/PID/stat`: by pid, (CPU when first seen, CPU when last seen).
#[derive(Default)]
struct Backends {
    seen: HashMap<u32, (f64, f64)>,
}

impl Backends {
    /// Read every backend's CPU. `start`: the run has not begun, what they used so far is not
    /// the run's; a backend first seen later connected during the run and all of it is.
    async fn sample(&mut self, monitor: &sqlx::PgPool, start: bool) {
        let pids: Vec<(i32,)> = sqlx::query_as(
            "SELECT pid FROM pg_stat_activity
             WHERE datname = current_database() AND pid <> pg_backend_pid()",
        )
        .fetch_all(monitor)
        .await
        .unwrap_or_default();
        for (pid,) in pids {
            let pid = pid as u32;
            // Unreadable: the backend just ended, or the server is on another machine.
            let Some(cpu) = proc_cpu_secs(pid) else {
                continue;
            };
            let base = if start { cpu } else { 0.0 };
            self.seen.entry(pid).or_insert((base, cpu)).1 = cpu;
        }
    }

    /// None when no backend could be read (the server is not on this machine).
    fn cpu_secs(&self) -> Option<f64> {
        (!self.seen.is_empty()).then(|| self.seen.values().map(|(first, last)| last - first).sum())
    }
}

fn cpu_secs(pid: u32) -> f64 {
    proc_cpu_secs(pid).unwrap_or(0.0)
}

/// User + system CPU seconds of process `pid` (`/proc/PID/stat`, in USER_HZ = 100 ticks).
fn proc_cpu_secs(pid: u32) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
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
    Some((ticks(11) + ticks(12)) / 100.0)
}
