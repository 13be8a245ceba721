//! `switchyard bench import`: a product import of N rows (default 100,000) in MonoPilot's CSV
//! template, through the real flow (`switchyard_import`: the repository's
//! `monopilot/product.import` mapping, every row mapped and checked, the import stored with
//! all its rows; then confirmed, applied 1,000 rows per transaction through the catalog's
//! upsert), in a fresh database. Printed, never asserted in tests:
//!
//! * validation: rows per second of the upload (read, map, check, store);
//! * apply: seconds of the confirmation, and the products it created (read back from the
//!   catalog, not taken from the report).

use crate::app;
use anyhow::Context as _;
use clap::Args;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;
use std::process::ExitCode;
use std::time::Instant;
use switchyard_import::{EntityImport, ImportEntity, Input, Upload};
use switchyard_mapping::MappingRegistry;
use switchyard_runtime::config::Config;
use switchyard_store::imports::Decision;

#[derive(Debug, Args)]
pub struct ImportBench {
    /// Product rows in the file.
    #[arg(long, default_value_t = 100_000)]
    products: usize,
    /// The database the bench drops and creates on the configured server.
    #[arg(long, default_value = "switchyard_bench_import")]
    database: String,
}

const ORG: &str = "bench";

pub async fn run(args: ImportBench, config_path: &Path) -> anyhow::Result<ExitCode> {
    let config = if config_path.exists() {
        Config::load(config_path)?
    } else {
        Config::default()
    };
    let url =
        switchyard_runtime::pg::recreate_database(&config.database.url, &args.database).await?;
    let pool = switchyard_store::connect(&url, 4).await?;
    switchyard_runtime::assembly::migrator(&app::all_integrations(&[])?)
        .await?
        .run(&pool)
        .await
        .context("applying migrations")?;
    let org = switchyard_store::orgs::ensure(&pool, ORG).await?.id;
    let (registry, _) = MappingRegistry::load(&config.paths.mappings);
    let entity = ImportEntity::Products;
    let mapping = entity.default_mapping();
    let file = csv(args.products);
    println!(
        "import benchmark on a fresh `{}` database: {} product rows through `{mapping}` ({} bytes of CSV, {} cores)",
        args.database,
        args.products,
        file.len(),
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
    );

    let t = Instant::now();
    let upload = Upload {
        entity,
        mapping,
        input: Input::Mapping,
        file_name: "products.csv",
    };
    let id = switchyard_import::upload_file(&pool, &registry, org, &upload, file.as_bytes())
        .await
        .map_err(|e| anyhow::anyhow!("upload: {e}"))?;
    let secs = t.elapsed().as_secs_f64();
    let report = switchyard_import::report(&pool, org, id)
        .await?
        .context("the import just stored")?;
    if let Some(e) = report
        .error
        .as_ref()
        .or(report.errors.first().map(|e| &e.message))
    {
        anyhow::bail!("the bench's own file did not validate: {e}");
    }
    println!(
        "validation      {:>9} rows  {secs:>8.2}s  {:>9.0} rows/s  ({} valid, {} invalid; read, mapped, checked, stored)",
        report.totals.rows,
        report.totals.rows as f64 / secs,
        report.totals.valid,
        report.totals.invalid
    );

    let t = Instant::now();
    switchyard_import::confirm(&pool, org, id, Decision::Skip, &BTreeMap::new())
        .await
        .map_err(|e| anyhow::anyhow!("confirm: {e}"))?;
    let secs = t.elapsed().as_secs_f64();
    let (created,): (i64,) = sqlx::query_as("SELECT count(*) FROM products WHERE org_id = $1")
        .bind(org.0)
        .fetch_one(&pool)
        .await?;
    println!(
        "apply           {created:>9} rows  {secs:>8.2}s  {:>9.0} rows/s  (confirmed; {} per transaction through the catalog upsert)",
        created as f64 / secs,
        switchyard_import::BATCH
    );
    pool.close().await;
    Ok(ExitCode::SUCCESS)
}

/// `n` rows of MonoPilot's product template, every one valid, with the cells a filled-in
/// template has (mixed case codes, lists of allergens, a quoted name).
fn csv(n: usize) -> String {
    const TYPES: [&str; 3] = ["raw_material", "semi_finished", "finished_good"];
    const UNITS: [&str; 3] = ["kg", "pcs", "L"];
    const ALLERGENS: [&str; 4] = ["", "gluten", "milk, eggs", "none"];
    let mut out = String::with_capacity(n * 120 + 200);
    out.push_str(
        "product_code,name,type,unit,description,allergens,shelf_life_days,storage_temp,tax_code\n",
    );
    for i in 0..n {
        let _ = writeln!(
            out,
            "rm-{i:07},\"Flour, type {}\",{},{},Bench row {i},\"{}\",{},ambient,A",
            450 + i % 300,
            TYPES[i % 3],
            UNITS[i % 3],
            ALLERGENS[i % 4],
            30 + i % 335,
        );
    }
    out
}
