//! `switchyard bench shopify`: the sync engine's catalog to the fake Shopify at a plan's cost
//! bucket (Standard: 100 points/s restored, `--bucket` points), issue #12's figures. Two
//! connections to two fake shops from one in-process daemon (worker role):
//!
//! * bulk: pages of more than `--bulk-threshold` products as one bulk mutation each (staged
//!   upload, `bulkOperationRunMutation`, polling, the result file);
//! * per product: one `productSet` per product, paced by the cost bucket. It is slow by
//!   design (that is the point of the figure), so it runs on its own organization holding the
//!   first `--per-product-cap` products only.
//!
//! For each it prints the full sync's time and write calls; for the per-product path also the
//! theoretical minimum the bucket allows, (points charged − bucket size) / restore rate (the
//! bucket starts full), and the ratio to it (goal ≤ 1.2×); then the bulk connection's re-sync
//! after `--changed-percent` of the products changed: its write calls, products written, time.
//! Figures are printed, never asserted; `tests/bench_shopify.rs` runs it tiny, counts only.

use crate::app::{self, Overrides, Roles};
use clap::Args;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;
use switchyard_core::ids::OrgId;
use switchyard_runtime::config::{Config, PartnerConfig};
use switchyard_runtime::sync::config::{Entity, SyncTarget};
use switchyard_shopify::fake::{FakeShopify, FakeShopifyConfig, WriteOutcome};
use switchyard_store::queue::Queue;

const BENCH_DB: &str = "switchyard_bench_shopify";

#[derive(Debug, Clone, Args)]
pub struct ShopifyBench {
    /// Variants in the catalog (products × `--variants-per-product`).
    #[arg(long, default_value_t = 100_000)]
    pub variants: i64,
    /// Variants of each product.
    #[arg(long, default_value_t = 10)]
    pub variants_per_product: i64,
    /// Points the bucket restores per second (Standard 100, Advanced 200, Plus 1000).
    #[arg(long, default_value_t = 100.0)]
    pub restore_rate: f64,
    /// The bucket's size in points.
    #[arg(long, default_value_t = 1000.0)]
    pub bucket: f64,
    /// Feed entries per sync page (one push batch each). A product and each of its variants
    /// are an entry each, so a page holds page / (1 + variants per product) products: 400 by
    /// default, above the bulk threshold.
    #[arg(long, default_value_t = 4400)]
    pub page_size: i64,
    /// Pages of more products than this go as a bulk mutation (bulk connection).
    #[arg(long, default_value_t = 100)]
    pub bulk_threshold: u32,
    /// Products the per-product path syncs (0: all). At Standard rates each costs ~35 points.
    #[arg(long, default_value_t = 1000)]
    pub per_product_cap: i64,
    /// The share of products changed before the re-sync, in percent.
    #[arg(long, default_value_t = 1.0)]
    pub changed_percent: f64,
    /// The database to (re)create for the run.
    #[arg(long, default_value = BENCH_DB)]
    pub database: String,
}

/// One sync run's cost, as the shop saw it.
#[derive(Debug, Clone, Copy)]
pub struct RunFigures {
    pub secs: f64,
    /// API calls that wrote: `productSet`s, or a bulk's `stagedUploadsCreate` and
    /// `bulkOperationRunMutation` (not the lines the operation ran).
    pub write_calls: usize,
    /// Products created or updated.
    pub products_written: usize,
    /// Points the bucket charged.
    pub points: f64,
    pub bulk_operations: usize,
}

#[derive(Debug, Clone, Copy)]
pub struct Figures {
    pub bulk_full: RunFigures,
    pub bulk_resync: RunFigures,
    pub per_product_full: RunFigures,
    /// Products in each shop after the full syncs.
    pub bulk_in_shop: usize,
    pub per_product_in_shop: usize,
    /// (points charged − bucket) / restore rate of the per-product run.
    pub per_product_minimum_secs: f64,
}

pub async fn run(args: ShopifyBench, config_path: &Path) -> anyhow::Result<ExitCode> {
    let base = if config_path.exists() {
        Config::load(config_path)?
    } else {
        Config::default()
    };
    println!(
        "shopify benchmark: {} variants ({} per product), bucket {} points restoring {}/s, page {}, bulk above {}, per-product path capped at {} products, re-sync after {} % changed",
        args.variants, args.variants_per_product, args.bucket, args.restore_rate, args.page_size, args.bulk_threshold, args.per_product_cap, args.changed_percent
    );
    let f = measure(&args, base, config_path.to_owned()).await?;
    let line = |what: &str, r: RunFigures| {
        println!(
            "{what:<24} {:>8.1}s  {:>6} write calls  {:>7} products written  {:>4} bulk operations  {:>9.0} points",
            r.secs, r.write_calls, r.products_written, r.bulk_operations, r.points
        )
    };
    line("bulk, full sync", f.bulk_full);
    line("per product, full sync", f.per_product_full);
    println!(
        "per product: theoretical minimum {:.1}s ((points − bucket) / restore rate), actual {:.1}s: {:.2}× (goal ≤ 1.2×)",
        f.per_product_minimum_secs,
        f.per_product_full.secs,
        f.per_product_full.secs / f.per_product_minimum_secs.max(1e-9)
    );
    let per_variant_bulk = f.bulk_full.secs / (f.bulk_in_shop.max(1) as f64);
    let per_variant_item = f.per_product_full.secs / (f.per_product_in_shop.max(1) as f64);
    println!(
        "per product, extrapolated to the whole catalog: {:.0}s; bulk {:.1}s ({:.0}× faster)",
        per_variant_item * f.bulk_in_shop as f64,
        f.bulk_full.secs,
        per_variant_item / per_variant_bulk.max(1e-9)
    );
    line("bulk, 1 % re-sync", f.bulk_resync);
    Ok(ExitCode::SUCCESS)
}

/// Runs the benchmark against a fresh `args.database`.
pub async fn measure(
    args: &ShopifyBench,
    mut config: Config,
    config_path: PathBuf,
) -> anyhow::Result<Figures> {
    let url =
        switchyard_runtime::pg::recreate_database(&config.database.url, &args.database).await?;
    config.database.url = url;
    config.partners.clear();
    config.sync.clear();
    config.suppliers.clear();
    let schedules =
        std::env::temp_dir().join(format!("switchyard-bench-shopify-{}", std::process::id()));
    std::fs::create_dir_all(&schedules)?;
    config.paths.schedules = schedules;
    let pool = switchyard_store::connect(&config.database.url, 4).await?;
    switchyard_runtime::assembly::migrator(&app::all_integrations(&[])?)
        .await?
        .run(&pool)
        .await?;
    let per = args.variants_per_product.max(1);
    let products = (args.variants / per).max(1);
    let capped = match args.per_product_cap {
        0 => products,
        cap => cap.min(products),
    };
    let bulk_org = switchyard_store::orgs::ensure(&pool, "bench").await?.id;
    let item_org = switchyard_store::orgs::ensure(&pool, "bench-item")
        .await?
        .id;
    seed(&pool, bulk_org, products, per).await?;
    seed(&pool, item_org, capped, per).await?;
    sqlx::query("ANALYZE products, product_variants, catalog_changes")
        .execute(&pool)
        .await?;

    let shop = |_: ()| FakeShopifyConfig::default().bucket(args.bucket, args.restore_rate);
    let bulk = FakeShopify::start(shop(())).await?;
    let item = FakeShopify::start(shop(())).await?;
    std::env::set_var("SWITCHYARD_BENCH_SHOPIFY_TOKEN", bulk.token());
    for (partner, org, fake, threshold) in [
        ("sh_bulk", "bench", &bulk, args.bulk_threshold),
        ("sh_item", "bench-item", &item, u32::MAX),
    ] {
        let settings: toml::Table = toml::from_str(&format!(
            "shop_url = {:?}\napi_version = \"2026-04\"\naccess_token = \"env:SWITCHYARD_BENCH_SHOPIFY_TOKEN\"\nbulk_threshold = {threshold}\nbulk_poll_ms = 200\ntimeout_ms = 60000\n",
            fake.base_url()
        ))?;
        config.partners.insert(
            partner.into(),
            PartnerConfig::new("shopify", settings).org(org),
        );
        let catalog = SyncTarget {
            mapping: "shopify/product.out".into(),
            tombstone: "shopify/product.tombstone".into(),
            page_size: args.page_size,
            document: None,
        };
        config
            .sync
            .insert(partner.into(), [(Entity::Catalog, catalog)].into());
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
    let bulk_full = timed(&running.queue, bulk_org, "sh_bulk", &bulk, "full", true).await?;
    let per_product_full = timed(&running.queue, item_org, "sh_item", &item, "full", true).await?;
    let every = (100.0 / args.changed_percent.max(0.001)).round().max(1.0) as i64;
    sqlx::query(
        "UPDATE products SET name = name || ' (changed)'
         WHERE org_id = $1 AND substr(sku, 3)::bigint % $2 = 0",
    )
    .bind(bulk_org.0)
    .bind(every)
    .execute(&pool)
    .await?;
    let bulk_resync = timed(&running.queue, bulk_org, "sh_bulk", &bulk, "resync", false).await?;
    running.stop().await?;
    Ok(Figures {
        bulk_full,
        bulk_resync,
        per_product_full,
        bulk_in_shop: bulk.product_count(),
        per_product_in_shop: item.product_count(),
        per_product_minimum_secs: (per_product_full.points - args.bucket).max(0.0)
            / args.restore_rate,
    })
}

/// `n` products `P-000000`… with `per` variants each (`P-000000-00`…).
async fn seed(pool: &sqlx::PgPool, org: OrgId, n: i64, per: i64) -> anyhow::Result<()> {
    let mut from = 0;
    while from < n {
        let to = (from + 10_000).min(n);
        sqlx::query(
            "INSERT INTO products (org_id, sku, name, uom, web_visible, material_grade)
             SELECT $1, 'P-' || lpad(i::text, 6, '0'), 'Hot rolled plate ' || i, 'EA', true, 'A36'
             FROM generate_series($2, $3 - 1) AS i",
        )
        .bind(org.0)
        .bind(from)
        .bind(to)
        .execute(pool)
        .await?;
        sqlx::query(
            "INSERT INTO product_variants (org_id, sku, parent_sku, name)
             SELECT $1, 'P-' || lpad(i::text, 6, '0') || '-' || lpad(v::text, 2, '0'),
                    'P-' || lpad(i::text, 6, '0'), (v + 1) || ' ft'
             FROM generate_series($2, $3 - 1) AS i, generate_series(0, $4 - 1) AS v",
        )
        .bind(org.0)
        .bind(from)
        .bind(to)
        .bind(per)
        .execute(pool)
        .await?;
        from = to;
    }
    Ok(())
}

/// One catalog sync of `partner` enqueued and awaited; what the shop saw of it.
async fn timed(
    queue: &Queue,
    org: OrgId,
    partner: &str,
    fake: &FakeShopify,
    key: &str,
    full: bool,
) -> anyhow::Result<RunFigures> {
    fake.clear_writes();
    let ops_before = fake.bulk_operations().len();
    let points_before = fake.stats().points;
    let t = Instant::now();
    crate::bench::run_catalog_sync(queue, org, partner, key, full).await?;
    let secs = t.elapsed().as_secs_f64();
    let ops = fake.bulk_operations();
    let new_ops = &ops[ops_before..];
    let lines: usize = new_ops.iter().map(|o| o.done).sum();
    let writes = fake.writes();
    Ok(RunFigures {
        secs,
        // The fake records each line an operation ran as a productSet; those are not calls.
        write_calls: writes.len().saturating_sub(lines),
        products_written: writes
            .iter()
            .filter(|w| w.operation == "productSet" && w.outcome == WriteOutcome::Applied)
            .count(),
        points: fake.stats().points - points_before,
        bulk_operations: new_ops.len(),
    })
}
