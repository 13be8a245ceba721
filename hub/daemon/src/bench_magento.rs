//! `switchyard bench magento`: the sync engine's catalog to the fake Magento store (issue #13's
//! figures), each call answered after a realistic latency (`--latency-ms`). Two connections to
//! two fake stores, one per write path, from one in-process daemon (worker role):
//!
//! * per item: `POST /V1/products` for a product the sync never confirmed to the store,
//!   `PUT /V1/products/{sku}` for one it did;
//! * async bulk: the same split in bulks of `--bulk-batch`, `POST /async/bulk/V1/products` and
//!   `PUT /async/bulk/V1/products/bySku`, their status polled.
//!
//! For each path it prints the full initial sync's time and write calls, then the re-sync after
//! 1 % of the products changed (`--changed-percent`): its write calls, the products it wrote
//! and its time, and for each run the write calls by method and route. Figures are printed, never asserted; the test (`tests/bench_magento.rs`) runs
//! it tiny and checks the counts only.
//!
//! In-process rather than a `switchyard run` child as `bench sync` is: these figures are wall
//! time against the store's latency, not the daemon's CPU or memory.

use crate::app::{self, Overrides, Roles};
use crate::bench::seed_products;
use clap::Args;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};
use switchyard_core::ids::OrgId;
use switchyard_magento::fake::{FakeMagento, FakeStoreConfig};
use switchyard_runtime::config::{Config, PartnerConfig};
use switchyard_runtime::sync::config::{Entity, SyncTarget};
use switchyard_store::queue::Queue;

const BENCH_DB: &str = "switchyard_bench_magento";
/// The two connections, one per write path.
const PATHS: [(&str, WritePath); 2] = [
    ("mg_item", WritePath::PerItem),
    ("mg_bulk", WritePath::Bulk),
];

#[derive(Debug, Clone, Args)]
pub struct MagentoBench {
    /// Products in the catalog.
    #[arg(long, default_value_t = 100_000)]
    pub products: i64,
    /// The store's latency per call, in milliseconds.
    #[arg(long, default_value_t = 20)]
    pub latency_ms: u64,
    /// Items per sync page (one batch of writes each; the bulk path sends a page as bulks).
    #[arg(long, default_value_t = 1000)]
    pub page_size: i64,
    /// Operations per async bulk (Magento slows past 1,000).
    #[arg(long, default_value_t = 1000)]
    pub bulk_batch: u32,
    /// The share of products changed before the re-sync, in percent.
    #[arg(long, default_value_t = 1.0)]
    pub changed_percent: f64,
    /// The database to (re)create for the run.
    #[arg(long, default_value = BENCH_DB)]
    pub database: String,
}

/// A write path of the adapter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WritePath {
    PerItem,
    Bulk,
}

impl WritePath {
    fn label(self) -> &'static str {
        match self {
            WritePath::PerItem => "per item",
            WritePath::Bulk => "async bulk",
        }
    }
}

/// One sync run's cost, as the store saw it.
#[derive(Debug, Clone)]
pub struct RunFigures {
    pub secs: f64,
    /// Write calls the store received (bulk status reads are not writes).
    pub writes: usize,
    /// Products the run wrote (per item: successful PUT/POST; bulk: operations sent).
    pub products_written: usize,
    /// The write calls by `METHOD route` (a product's SKU shown as `{sku}`), in route order.
    pub calls: BTreeMap<String, usize>,
}

/// What one path measured.
#[derive(Debug, Clone)]
pub struct PathFigures {
    pub path: WritePath,
    pub full: RunFigures,
    pub resync: RunFigures,
    /// Products in the store after the full sync.
    pub in_store: usize,
}

pub async fn run(args: MagentoBench, config_path: &Path) -> anyhow::Result<ExitCode> {
    let base = if config_path.exists() {
        Config::load(config_path)?
    } else {
        Config::default()
    };
    println!(
        "magento benchmark: {} products, store latency {} ms per call, page {}, bulks of {}, re-sync after {} % changed ({} cores)",
        args.products,
        args.latency_ms,
        args.page_size,
        args.bulk_batch,
        args.changed_percent,
        std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1)
    );
    let figures = measure(&args, base, config_path.to_owned()).await?;
    for f in &figures {
        for (what, r) in [("full sync", &f.full), ("1 % re-sync", &f.resync)] {
            let calls: Vec<String> = r.calls.iter().map(|(c, n)| format!("{n} {c}")).collect();
            println!(
                "{:<11} {:<12} {:>8.1}s  {:>7} write calls  {:>7} products written  {:>8.0} products/s  ({})",
                f.path.label(),
                what,
                r.secs,
                r.writes,
                r.products_written,
                r.products_written as f64 / r.secs.max(1e-9),
                calls.join(", ")
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Runs the benchmark against a fresh `args.database`; the figures per path.
pub async fn measure(
    args: &MagentoBench,
    mut config: Config,
    config_path: PathBuf,
) -> anyhow::Result<Vec<PathFigures>> {
    let url =
        switchyard_runtime::pg::recreate_database(&config.database.url, &args.database).await?;
    config.database.url = url;
    // The bench's own partners only: a config's others (and the suppliers and schedules naming
    // them) have no place here.
    config.partners.clear();
    config.sync.clear();
    config.suppliers.clear();
    let schedules =
        std::env::temp_dir().join(format!("switchyard-bench-magento-{}", std::process::id()));
    std::fs::create_dir_all(&schedules)?;
    config.paths.schedules = schedules;
    let pool = switchyard_store::connect(&config.database.url, 4).await?;
    switchyard_runtime::assembly::migrator(&app::all_integrations(&[])?)
        .await?
        .run(&pool)
        .await?;
    let org = switchyard_store::orgs::ensure(&pool, "bench").await?.id;
    seed_products(&pool, org, args.products).await?;
    sqlx::query("ANALYZE products, product_variants, product_uom_conversions, catalog_changes")
        .execute(&pool)
        .await?;

    let mut fakes = Vec::new();
    for (partner, path) in PATHS {
        let fake = FakeMagento::start(FakeStoreConfig::default()).await?;
        fake.slow(Duration::from_millis(args.latency_ms));
        config.partners.insert(
            partner.into(),
            PartnerConfig::new("magento", partner_settings(&fake, path, args)?).org("bench"),
        );
        let catalog = SyncTarget {
            mapping: "magento/product.out".into(),
            tombstone: "magento/product.tombstone".into(),
            page_size: args.page_size,
            document: None,
        };
        config
            .sync
            .insert(partner.into(), [(Entity::Catalog, catalog)].into());
        fakes.push((partner, path, fake));
    }
    // The credentials as `env:` references: the fake's are the same for both stores.
    let c = FakeStoreConfig::default();
    for (var, value) in [
        ("SWITCHYARD_BENCH_MG_CK", &c.consumer_key),
        ("SWITCHYARD_BENCH_MG_CS", &c.consumer_secret),
        ("SWITCHYARD_BENCH_MG_AT", &c.access_token),
        ("SWITCHYARD_BENCH_MG_AS", &c.access_token_secret),
    ] {
        std::env::set_var(var, value);
    }
    let running = app::start(
        config,
        config_path,
        Roles {
            api: false,
            worker: true,
            scheduler: false,
        },
        Overrides::default(),
    )
    .await?;

    let mut full = Vec::new();
    for (partner, _, fake) in &fakes {
        full.push(timed(&running.queue, org, partner, fake, "full", true).await?);
    }
    // Every hundredth product (for 1 %) renamed, once for both stores.
    let every = (100.0 / args.changed_percent.max(0.001)).round().max(1.0) as i64;
    sqlx::query(
        "UPDATE products SET name = name || ' (changed)'
         WHERE org_id = $1 AND substr(sku, 3)::bigint % $2 = 0",
    )
    .bind(org.0)
    .bind(every)
    .execute(&pool)
    .await?;
    let mut figures = Vec::new();
    for ((partner, path, fake), full) in fakes.iter().zip(full) {
        let resync = timed(&running.queue, org, partner, fake, "resync", false).await?;
        figures.push(PathFigures {
            path: *path,
            full,
            resync,
            in_store: fake.product_count(),
        });
    }
    running.stop().await?;
    for (_, _, fake) in fakes {
        fake.shutdown().await;
    }
    Ok(figures)
}

fn partner_settings(
    fake: &FakeMagento,
    path: WritePath,
    args: &MagentoBench,
) -> anyhow::Result<toml::Table> {
    // The per-item connection never reaches the bulk threshold.
    let threshold = match path {
        WritePath::PerItem => u32::MAX,
        WritePath::Bulk => 1,
    };
    Ok(toml::from_str(&format!(
        "base_url = {:?}\nstore_code = \"all\"\nwebsite_ids = [1]\ntimeout_ms = 30000\n\
         auth = {{ mode = \"oauth\", consumer_key_ref = \"env:SWITCHYARD_BENCH_MG_CK\", consumer_secret_ref = \"env:SWITCHYARD_BENCH_MG_CS\", \
         access_token_ref = \"env:SWITCHYARD_BENCH_MG_AT\", access_token_secret_ref = \"env:SWITCHYARD_BENCH_MG_AS\" }}\n\
         bulk_threshold = {threshold}\nbulk_batch_size = {}\nbulk_poll_ms = {}\n",
        fake.base_url(),
        args.bulk_batch,
        // Polled about as often as the store answers: a status read costs one latency.
        args.latency_ms.max(10),
    ))?)
}

/// One catalog sync of `partner` enqueued and awaited; what the store saw of it.
async fn timed(
    queue: &Queue,
    org: OrgId,
    partner: &str,
    fake: &FakeMagento,
    key: &str,
    full: bool,
) -> anyhow::Result<RunFigures> {
    fake.clear_writes();
    let t = Instant::now();
    crate::bench::run_catalog_sync(queue, org, partner, key, full).await?;
    let secs = t.elapsed().as_secs_f64();
    // The fake records the bulk consumer's own saves as writes too (with their bulk): only
    // the others are calls the adapter made. Reduced in the fake, not copied out: the bodies
    // of a 100,000-product run are hundreds of MB.
    let writes: Vec<(String, u16, usize)> = fake
        .map_writes(|w| {
            w.bulk.is_none().then(|| {
                let ops = if w.route.starts_with("async/bulk/") {
                    w.body.as_array().map_or(0, Vec::len)
                } else {
                    1
                };
                (
                    format!("{} {}", w.method, route_kind(&w.route)),
                    w.status,
                    ops,
                )
            })
        })
        .into_iter()
        .flatten()
        .collect();
    let products_written = writes
        .iter()
        .filter(|(_, status, _)| *status < 300)
        .map(|(_, _, ops)| ops)
        .sum();
    let mut calls = BTreeMap::new();
    for (call, _, _) in &writes {
        *calls.entry(call.clone()).or_default() += 1;
    }
    Ok(RunFigures {
        secs,
        writes: writes.len(),
        products_written,
        calls,
    })
}

/// A route with its SKU segment as `{sku}`, so calls to one route count together.
fn route_kind(route: &str) -> String {
    match route.strip_prefix("V1/products/") {
        Some(_) => "V1/products/{sku}".to_owned(),
        None => route.to_owned(),
    }
}
