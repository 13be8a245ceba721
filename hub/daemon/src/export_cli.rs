//! `switchyard export ENTITY --format csv|json|xml [filters] > file`: the command-line twin of
//! the export API, against the configured database, through the same `switchyard_export`
//! writers (byte for byte what the API serves). The file goes to standard output (or
//! `--output`); progress goes to standard error, and only when that is a terminal, so a
//! redirected or piped run prints nothing but the file.

use anyhow::Context;
use chrono::{DateTime, Utc};
use sqlx::PgPool;
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use switchyard_export::{Entity, Filters, Format, Period, Request, Summary};

fn entity(s: &str) -> Result<Entity, String> {
    Entity::parse(s).ok_or_else(|| format!("one of {}", names(Entity::ALL)))
}

fn format(s: &str) -> Result<Format, String> {
    Format::parse(s).ok_or_else(|| format!("one of {}", names(Format::ALL)))
}

fn period(s: &str) -> Result<Period, String> {
    Period::parse(s).ok_or_else(|| format!("one of {}", names(Period::ALL)))
}

fn names<T: std::fmt::Display>(all: &[T]) -> String {
    all.iter()
        .map(|v| v.to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

#[derive(clap::Args)]
pub struct ExportArgs {
    /// products, orders, order_lines, inventory, customers, purchase_orders or suppliers.
    #[arg(value_parser = entity)]
    pub entity: Entity,
    /// csv (UTF-8 with BOM), json or xml (hub/export/schemas/export.xsd).
    #[arg(long, value_parser = format)]
    pub format: Format,
    /// The organization whose rows are exported.
    #[arg(long, default_value = "default")]
    pub org: String,
    /// last_30_days, last_90_days or last_365_days (not with --from/--to).
    #[arg(long, value_parser = period)]
    pub period: Option<Period>,
    /// Window start, RFC 3339 (orders: created; the rest: last updated).
    #[arg(long)]
    pub from: Option<DateTime<Utc>>,
    /// Window end, RFC 3339, exclusive.
    #[arg(long)]
    pub to: Option<DateTime<Utc>>,
    /// Orders and order lines: the order status; purchase orders: the supplier status.
    #[arg(long)]
    pub status: Option<String>,
    /// A SKU.
    #[arg(long)]
    pub product: Option<String>,
    /// Inventory: a location code.
    #[arg(long)]
    pub location: Option<String>,
    /// Deleted or inactive products, inactive customers, cancelled orders, rejected or
    /// cancelled purchase orders too.
    #[arg(long)]
    pub include_archived: bool,
    /// A mapping file (its name under `[paths] mappings`, `exports/order_lines.accounting`)
    /// to reshape each row through.
    #[arg(long)]
    pub mapping: Option<String>,
    /// Write the file here instead of standard output.
    #[arg(long, short)]
    pub output: Option<PathBuf>,
}

/// Runs the export, with mappings from `mappings_dir`; what was written.
pub async fn run(
    args: ExportArgs,
    pool: &PgPool,
    mappings_dir: &std::path::Path,
) -> anyhow::Result<Summary> {
    let mapping = match &args.mapping {
        None => None,
        Some(name) => {
            let (registry, _) = switchyard_mapping::MappingRegistry::load(mappings_dir);
            Some(
                switchyard_import::MappingSource::mapping(&registry, name)
                    .map_err(anyhow::Error::msg)?,
            )
        }
    };
    let org = switchyard_store::orgs::by_slug(pool, &args.org)
        .await?
        .with_context(|| format!("no organization `{}`", args.org))?;
    let request = Request {
        org: org.id,
        entity: args.entity,
        format: args.format,
        filters: Filters {
            period: args.period,
            from: args.from,
            to: args.to,
            status: args.status,
            product: args.product,
            location: args.location,
            include_archived: args.include_archived,
        },
        mapping,
    };
    let opened = switchyard_export::open(pool, request, Utc::now()).await?;
    let total = opened.total;
    let terminal = std::io::stderr().is_terminal();
    // One `\r`-rewritten line on a terminal needs no progress-bar crate.
    let mut progress = move |done: u64| {
        if terminal {
            let pct = (done * 100).checked_div(total).unwrap_or(100);
            let mut err = std::io::stderr().lock();
            let _ = write!(err, "\r{done}/{total} rows ({pct}%)");
            let _ = err.flush();
        }
    };
    let summary = match &args.output {
        Some(path) => {
            let mut file = tokio::fs::File::create(path)
                .await
                .with_context(|| format!("creating {}", path.display()))?;
            opened.write_to(&mut file, &mut progress).await?
        }
        None => {
            opened
                .write_to(&mut tokio::io::stdout(), &mut progress)
                .await?
        }
    };
    if terminal {
        eprintln!("\n{} rows, {} bytes", summary.rows, summary.bytes);
    }
    Ok(summary)
}
