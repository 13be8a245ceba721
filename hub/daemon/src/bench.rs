//! `switchyard bench queue`: figures for the queue, printed (never asserted in tests); the
//! other benches' subcommands (`sync`, `export`, `import`) are listed here and live in their
//! own modules.
//!
//! * bulk enqueue rate (1,000-row statements);
//! * end-to-end processing of no-op jobs in one process at the default settings;
//! * idle pickup latency (commit of the insert → handler start), p50/p99;
//! * the same processing with N `switchyard run` processes;
//! * peak RSS of an idle daemon process.

use crate::app::{self, Overrides, Roles};
use async_trait::async_trait;
use clap::Subcommand;
use serde_json::json;
use std::path::Path;
use std::process::{ExitCode, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use switchyard_core::diag::Diagnostic;
use switchyard_core::error::AdapterError;
use switchyard_runtime::config::Config;
use switchyard_runtime::context::JobContext;
use switchyard_runtime::integration::{BuildContext, Integration, Parts};
use switchyard_runtime::job::{JobHandler, JobKindSpec};
use switchyard_store::queue::{ClaimedJob, NewJob, Queue, RetryPolicy, RetrySpec};
use tokio::sync::mpsc;

#[derive(Debug, Subcommand)]
pub enum BenchCommand {
    /// Queue throughput, pickup latency, multi-process throughput and idle memory.
    Queue {
        #[arg(long, default_value_t = 20_000)]
        jobs: usize,
        /// Processes for the scale-out figure.
        #[arg(long, default_value_t = 3)]
        processes: usize,
        /// Pickup latency samples.
        #[arg(long, default_value_t = 200)]
        samples: usize,
    },
    #[cfg(feature = "http")]
    /// The sync engine against the generic HTTP fake: full initial sync, re-sync with nothing
    /// changed, 1 % changed, change detection per core, peak RSS.
    Sync(crate::bench_sync::SyncBench),
    /// Order lines exported as CSV, JSON and XML against `psql \copy`, peak RSS of the export,
    /// and an export end to end through the API.
    Export(crate::bench_export::ExportBench),
    /// A product import: validation rows/s and the time to apply it.
    Import(crate::bench_import::ImportBench),
    #[cfg(feature = "http")]
    /// Outbound webhooks to a local receiver that verifies every signature: sustained
    /// deliveries per second, latency event → delivered at a steady rate, and the same with a
    /// second endpoint timing out.
    Webhooks(crate::bench_webhooks::WebhooksBench),
    #[cfg(feature = "magento")]
    /// The catalog to the fake Magento store with a latency: full sync per write path (per
    /// item, async bulk) and the 1 %-changed re-sync's write calls and time.
    Magento(crate::bench_magento::MagentoBench),
    #[cfg(feature = "shopify")]
    /// The catalog to the fake Shopify at a plan's cost bucket: full sync on the bulk path and
    /// per product (against the bucket's theoretical minimum), the 1 %-changed re-sync.
    Shopify(crate::bench_shopify::ShopifyBench),
}

const BENCH_DB: &str = "switchyard_bench";

pub async fn run(cmd: BenchCommand, config_path: &Path) -> anyhow::Result<ExitCode> {
    match cmd {
        BenchCommand::Queue {
            jobs,
            processes,
            samples,
        } => queue(jobs, processes, samples, config_path).await,
        #[cfg(feature = "http")]
        BenchCommand::Sync(args) => crate::bench_sync::run(args, config_path).await,
        BenchCommand::Export(args) => crate::bench_export::run(args, config_path).await,
        BenchCommand::Import(args) => crate::bench_import::run(args, config_path).await,
        #[cfg(feature = "http")]
        BenchCommand::Webhooks(args) => crate::bench_webhooks::run(args, config_path).await,
        #[cfg(feature = "magento")]
        BenchCommand::Magento(args) => crate::bench_magento::run(args, config_path).await,
        #[cfg(feature = "shopify")]
        BenchCommand::Shopify(args) => crate::bench_shopify::run(args, config_path).await,
    }
}

async fn queue(
    jobs: usize,
    processes: usize,
    samples: usize,
    config_path: &Path,
) -> anyhow::Result<ExitCode> {
    let mut config = if config_path.exists() {
        Config::load(config_path)?
    } else {
        Config::default()
    };
    let url = switchyard_runtime::pg::recreate_database(&config.database.url, BENCH_DB).await?;
    config.database.url = url.clone();
    config.partners.clear();
    println!(
        "queue benchmark on a fresh `{BENCH_DB}` database ({} cores)",
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
    );
    println!(
        "settings: concurrency {}, claim batch {}, lease {}s, synchronous_commit as the server has it",
        config.queue.concurrency, config.queue.claim_batch, config.queue.lease_secs
    );

    // Latency handler: the job carries its enqueue time; the handler reports the gap.
    let (lat_tx, mut lat_rx) = mpsc::unbounded_channel::<Duration>();
    let probe: Arc<dyn Integration> = Arc::new(LatencyProbe { tx: lat_tx });
    let running = app::start(
        config.clone(),
        config_path.to_owned(),
        Roles {
            api: false,
            worker: false,
            scheduler: false,
        },
        Overrides::default(),
    )
    .await?;
    let queue = running.queue.clone();
    let org = switchyard_store::orgs::ensure(queue.pool(), "bench")
        .await?
        .id;
    running.stop().await?;

    // 1. Bulk enqueue.
    let batch: Vec<NewJob> = (0..jobs).map(|i| noop(org, i)).collect();
    let t = Instant::now();
    for chunk in batch.chunks(1000) {
        queue.enqueue_many(chunk).await?;
    }
    let enqueue_secs = t.elapsed().as_secs_f64();
    println!("bulk enqueue        {:>9.0} jobs/s  ({jobs} jobs in {enqueue_secs:.2}s, 1,000 per statement)", jobs as f64 / enqueue_secs);

    // 2. Processing in one process at the default settings.
    let t = Instant::now();
    let worker = app::start(
        config.clone(),
        config_path.to_owned(),
        Roles {
            api: false,
            worker: true,
            scheduler: false,
        },
        Overrides {
            integrations: vec![probe],
            ..Overrides::default()
        },
    )
    .await?;
    wait_for_succeeded(&queue, jobs as i64, Duration::from_secs(300)).await?;
    let secs = t.elapsed().as_secs_f64();
    println!("process (1 proc)    {:>9.0} jobs/s  ({jobs} no-op jobs in {secs:.2}s, every state change committed)", jobs as f64 / secs);

    // 3. Idle pickup latency.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut lat = Vec::with_capacity(samples);
    for i in 0..samples {
        let mut job = NewJob::new(org, "bench.latency", json!({"sent_ns": now_ns()}))
            .retry(RetrySpec::of(RetryPolicy::Manual));
        job.idempotency_key = Some(format!("lat-{i}"));
        queue.enqueue(job).await?;
        let d = tokio::time::timeout(Duration::from_secs(5), lat_rx.recv())
            .await?
            .unwrap_or_default();
        lat.push(d);
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    lat.sort();
    let pct = |p: f64| lat[((lat.len() as f64 - 1.0) * p).round() as usize];
    println!("pickup latency      p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms  ({samples} samples, idle worker, LISTEN/NOTIFY)",
        ms(pct(0.5)), ms(pct(0.99)), ms(*lat.last().unwrap_or(&Duration::ZERO)));
    worker.stop().await?;

    // 4. Scale-out: N processes share one queue.
    sqlx::query("DELETE FROM jobs")
        .execute(queue.pool())
        .await?;
    let exe = std::env::current_exe()?;
    let mut children = Vec::new();
    for _ in 0..processes {
        children.push(
            tokio::process::Command::new(&exe)
                .args(["run", "--no-api", "--no-scheduler"])
                .env("SWITCHYARD_DATABASE__URL", &url)
                .env("SWITCHYARD_LOG", "warn")
                .env("SWITCHYARD_CONFIG", config_path)
                .stdout(Stdio::null())
                .kill_on_drop(true)
                .spawn()?,
        );
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    let batch: Vec<NewJob> = (0..jobs).map(|i| noop(org, i)).collect();
    let t = Instant::now();
    for chunk in batch.chunks(1000) {
        queue.enqueue_many(chunk).await?;
    }
    wait_for_succeeded(&queue, jobs as i64, Duration::from_secs(300)).await?;
    let secs = t.elapsed().as_secs_f64();
    println!("process ({processes} procs)   {:>9.0} jobs/s  ({jobs} jobs enqueued and processed in {secs:.2}s)", jobs as f64 / secs);

    // 5. Idle RSS of one of those processes (they are idle now).
    tokio::time::sleep(Duration::from_secs(1)).await;
    if let Some(pid) = children.first().and_then(|c| c.id()) {
        if let Some(kb) = peak_rss_kb(pid) {
            println!("idle daemon         peak RSS {:.1} MiB (VmHWM of a `switchyard run --no-api` process)", kb as f64 / 1024.0);
        }
    }
    for mut c in children {
        terminate(&mut c).await;
    }
    Ok(ExitCode::SUCCESS)
}

fn noop(org: switchyard_core::ids::OrgId, i: usize) -> NewJob {
    NewJob::new(org, "noop", json!({"i": i}))
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn now_ns() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_nanos() as u64
}

pub(crate) fn peak_rss_kb(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

pub(crate) async fn terminate(child: &mut tokio::process::Child) {
    if let Some(pid) = child.id() {
        let _ = std::process::Command::new("kill")
            .args(["-TERM", &pid.to_string()])
            .status();
    }
    let _ = tokio::time::timeout(Duration::from_secs(25), child.wait()).await;
    let _ = child.kill().await;
}

async fn wait_for_succeeded(queue: &Queue, n: i64, timeout: Duration) -> anyhow::Result<()> {
    let deadline = Instant::now() + timeout;
    loop {
        let (done,): (i64,) =
            sqlx::query_as("SELECT count(*) FROM jobs WHERE state = 'succeeded' AND kind = 'noop'")
                .fetch_one(queue.pool())
                .await?;
        if done >= n {
            return Ok(());
        }
        anyhow::ensure!(
            Instant::now() < deadline,
            "only {done} of {n} jobs succeeded within {timeout:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The bench's own integration: one job kind, `bench.latency`, that reports how long after its
/// enqueue it started.
struct LatencyProbe {
    tx: mpsc::UnboundedSender<Duration>,
}

impl Integration for LatencyProbe {
    fn name(&self) -> &'static str {
        "bench"
    }

    fn build(&self, _cx: &BuildContext<'_>, _problems: &mut Vec<Diagnostic>) -> Parts {
        Parts {
            jobs: vec![JobKindSpec::raw(
                "bench.latency",
                Latency {
                    tx: self.tx.clone(),
                },
            )],
            ..Parts::default()
        }
    }
}

struct Latency {
    tx: mpsc::UnboundedSender<Duration>,
}

#[async_trait]
impl JobHandler for Latency {
    async fn run(&self, _ctx: &JobContext, job: &ClaimedJob) -> Result<(), AdapterError> {
        let sent = job
            .payload
            .get("sent_ns")
            .and_then(|v| v.as_u64())
            .unwrap_or_default();
        let _ = self
            .tx
            .send(Duration::from_nanos(now_ns().saturating_sub(sent)));
        Ok(())
    }
}

/// `n` products `P-000000`… for the sync benchmarks (`bench sync`, `bench magento`), each with
/// a feed entry.
pub(crate) async fn seed_products(
    pool: &sqlx::PgPool,
    org: switchyard_core::ids::OrgId,
    n: i64,
) -> anyhow::Result<()> {
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

/// Enqueue a catalog `sync.run` of `partner` (keyed `bench-{partner}-{key}`) and wait for it to
/// succeed; a dead job is an error with its last error. The benches of the storefront adapters
/// time this.
pub(crate) async fn run_catalog_sync(
    queue: &Queue,
    org: switchyard_core::ids::OrgId,
    partner: &str,
    key: &str,
    full: bool,
) -> anyhow::Result<()> {
    let id = queue
        .enqueue(
            NewJob::new(
                org,
                "sync.run",
                json!({"partner": partner, "entity": "catalog", "full": full}),
            )
            .partner(partner)
            .key(format!("bench-{partner}-{key}")),
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
            "succeeded" => return Ok(()),
            "dead" => anyhow::bail!("the {partner} sync died: {}", error.unwrap_or_default()),
            // The job's row is the only signal of its end in another task of this process.
            _ => tokio::time::sleep(Duration::from_millis(50)).await,
        }
    }
}
