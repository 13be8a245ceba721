//! `switchyard import products`: the command-line twin of `POST /api/v1/catalog/imports` and
//! its confirmation, against the configured database, through the same `switchyard_import`
//! flow (so an import made here is listed, and can be confirmed, through the API too).

use anyhow::Context;
use sqlx::PgPool;
use std::collections::BTreeMap;
use std::path::PathBuf;
use switchyard_import::{ImportError, ImportReport};
use switchyard_mapping::MappingRegistry;
use switchyard_runtime::config::Config;
use switchyard_store::imports::Decision;

#[derive(clap::Subcommand)]
pub enum ImportCommand {
    /// Read a product file through an import mapping, print its errors and preview, then apply
    /// its valid rows (exit status 1 when a row was invalid or failed).
    Products(ProductsArgs),
}

#[derive(clap::Args)]
pub struct ProductsArgs {
    /// The import mapping under `[paths] mappings`, e.g. `monopilot/product.import`.
    #[arg(long)]
    pub mapping: String,
    /// The organization the products belong to.
    #[arg(long, default_value = "default")]
    pub org: String,
    /// Validate and preview only: the import is stored (state `validated`) and nothing is
    /// applied; confirm it later with `POST /api/v1/catalog/imports/{id}/confirm`.
    #[arg(long)]
    pub dry_run: bool,
    /// What to do with a row whose SKU names an existing product.
    #[arg(long, value_parser = ["skip", "update"], default_value = "skip")]
    pub on_conflict: String,
    /// The file to import.
    pub file: PathBuf,
}

/// Run the command: the report is printed to standard output; whether every row was good.
pub async fn run(command: ImportCommand, config: &Config, pool: &PgPool) -> anyhow::Result<bool> {
    let ImportCommand::Products(args) = command;
    let bytes =
        std::fs::read(&args.file).with_context(|| format!("reading {}", args.file.display()))?;
    let (registry, _) = MappingRegistry::load(&config.paths.mappings);
    let org = switchyard_store::orgs::ensure(pool, &args.org).await?.id;
    let file_name = args
        .file
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| args.file.display().to_string());
    let id = switchyard_import::upload(pool, &registry, org, &args.mapping, &file_name, &bytes)
        .await
        .map_err(|e| anyhow::anyhow!("{}: {e}", args.file.display()))?;
    let report = fetch(pool, org, id).await?;
    print_validation(&report);
    if args.dry_run || report.error.is_some() {
        println!("dry run: nothing applied; import {id} waits for confirmation");
        return Ok(report.error.is_none() && report.totals.invalid == 0);
    }
    let policy = Decision::parse(&args.on_conflict).unwrap_or(Decision::Skip);
    match switchyard_import::confirm(pool, org, id, policy, &BTreeMap::new()).await {
        Ok(()) | Err(ImportError::AlreadyApplied) => {}
        Err(e) => return Err(e.into()),
    }
    let report = fetch(pool, org, id).await?;
    print_outcomes(&report);
    Ok(report.totals.invalid == 0 && report.totals.failed == 0)
}

async fn fetch(
    pool: &PgPool,
    org: switchyard_core::ids::OrgId,
    id: switchyard_core::ids::ImportId,
) -> anyhow::Result<ImportReport> {
    switchyard_import::report(pool, org, id)
        .await?
        .context("the import just stored is not there")
}

fn print_validation(r: &ImportReport) {
    println!(
        "import {} of {} ({}) through {}: {} rows, {} valid, {} invalid",
        r.id, r.file_name, r.format, r.mapping, r.totals.rows, r.totals.valid, r.totals.invalid
    );
    if let Some(e) = &r.error {
        println!("error: {e}");
    }
    for e in &r.errors {
        println!("{}: {}: {}", e.location, e.field, e.message);
    }
    if !r.preview.is_empty() {
        println!("preview (first {} valid rows):", r.preview.len());
    }
    for p in &r.preview {
        let name = p.product.get("name").and_then(|n| n.as_str()).unwrap_or("");
        println!(
            "  row {:>5}  {:<6}  {}  {name}",
            p.row,
            p.status,
            p.sku.as_deref().unwrap_or("")
        );
    }
}

fn print_outcomes(r: &ImportReport) {
    let t = &r.totals;
    println!(
        "applied: {} created, {} updated, {} unchanged, {} skipped, {} failed",
        t.created, t.updated, t.unchanged, t.skipped, t.failed
    );
    for o in r.outcomes.iter().filter(|o| o.error.is_some()) {
        println!(
            "row {} {}: {}",
            o.row,
            o.sku.as_deref().unwrap_or("-"),
            o.error.as_deref().unwrap_or_default()
        );
    }
}
