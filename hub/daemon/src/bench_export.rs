//! `switchyard bench export`: exports of order lines, printed (never asserted in tests).
//!
//! * seeds N order lines (default 1,000,000; `--lines-per-order` lines per order) in a fresh
//!   database with `generate_series`, so seeding is seconds, not the benchmark;
//! * `psql -c "\copy (SELECT …) TO FILE csv"` of the same rows (same joins, same order, the
//!   CSV's columns): what Postgres alone takes to write that CSV, the yardstick;
//! * `switchyard export order_lines --format csv|json|xml -o FILE` as a child process, the real
//!   export path (`switchyard_export`: snapshot, count, stream, row writer): rows/s, the ratio
//!   to `\copy`, the child's peak RSS, and the rows found in the file it wrote (counted by
//!   reading the file back, not taken from the exporter);
//! * M rows (default 10,000, another organization) end to end through the API: the daemon's
//!   API and worker on loopback, `POST /api/v1/exports`, poll the status, download.
//!
//! The child's wall time includes its start-up and the row count the export path takes
//! before it streams (the progress total): both are what a user waits for.

use crate::app::{self, Overrides, Roles};
use crate::bench::peak_rss_kb;
use anyhow::Context as _;
use clap::Args;
use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::process::{ExitCode, Stdio};
use std::time::{Duration, Instant};
use switchyard_core::ids::OrgId;
use switchyard_runtime::config::Config;
use switchyard_store::keys::Tier;

#[derive(Debug, Args)]
pub struct ExportBench {
    /// Order lines exported in each format.
    #[arg(long, default_value_t = 1_000_000)]
    lines: i64,
    /// Lines per order (the last order may have fewer).
    #[arg(long, default_value_t = 10)]
    lines_per_order: i64,
    /// Order lines exported end to end through the API.
    #[arg(long, default_value_t = 10_000)]
    api_rows: i64,
    /// The database the bench drops and creates on the configured server.
    #[arg(long, default_value = "switchyard_bench_export")]
    database: String,
}

/// The organization of the big export, and the one of the API's.
const ORG: &str = "bench";
const API_ORG: &str = "bench-api";

/// Products the lines name (the export joins each line to its product's name).
const PRODUCTS: i64 = 1_000;

/// Customers the orders are for.
const CUSTOMERS: i64 = 500;

pub async fn run(args: ExportBench, config_path: &Path) -> anyhow::Result<ExitCode> {
    anyhow::ensure!(
        args.lines_per_order >= 1,
        "--lines-per-order must be at least 1"
    );
    let mut config = if config_path.exists() {
        Config::load(config_path)?
    } else {
        Config::default()
    };
    let url =
        switchyard_runtime::pg::recreate_database(&config.database.url, &args.database).await?;
    config.database.url = url.clone();
    config.partners.clear();
    let pool = switchyard_store::connect(&url, 4).await?;
    switchyard_runtime::assembly::migrator(&app::all_integrations(&[])?)
        .await?
        .run(&pool)
        .await
        .context("applying migrations")?;
    let work = WorkDir::new()?;
    println!(
        "export benchmark on a fresh `{}` database: {} order lines ({} per order), {} through the API ({} cores)",
        args.database,
        args.lines,
        args.lines_per_order,
        args.api_rows,
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
    );

    let org = switchyard_store::orgs::ensure(&pool, ORG).await?.id;
    let api_org = switchyard_store::orgs::ensure(&pool, API_ORG).await?.id;
    let t = Instant::now();
    seed(&pool, org, args.lines, args.lines_per_order).await?;
    seed(&pool, api_org, args.api_rows, args.lines_per_order).await?;
    sqlx::query("ANALYZE orders, products")
        .execute(&pool)
        .await?;
    println!("seeded in {:.1}s", t.elapsed().as_secs_f64());

    // 1. The yardstick: Postgres writing the same CSV.
    let copy_file = work.path().join("copy.csv");
    let t = Instant::now();
    psql_copy(&url, org, &copy_file)?;
    let copy_secs = t.elapsed().as_secs_f64();
    // `\copy … csv header`: one header line, a line per row (no cell holds a line break).
    let copy_rows = count_lines(&copy_file, |_| true)?.saturating_sub(1);
    let copy_rate = copy_rows as f64 / copy_secs;
    println!("psql \\copy csv  {copy_rows:>9} rows  {copy_secs:>8.2}s  {copy_rate:>9.0} rows/s");

    // 2. The export path, in a child process per format.
    let exe = std::env::current_exe()?;
    for format in ["csv", "json", "xml"] {
        let file = work.path().join(format!("order_lines.{format}"));
        let run = export_child(&exe, config_path, &url, format, &file).await?;
        let rows = rows_in(&file, format)?;
        let rate = rows as f64 / run.secs;
        println!(
            "export {format:<4}     {rows:>9} rows  {:>8.2}s  {rate:>9.0} rows/s  {:>5.2}x of \\copy  peak RSS {:>6.1} MiB  {} bytes",
            run.secs,
            rate / copy_rate,
            run.peak_kb as f64 / 1024.0,
            std::fs::metadata(&file)?.len()
        );
        std::fs::remove_file(&file)?;
    }

    // 3. End to end through the API.
    config.api.bind = "127.0.0.1:0".into();
    config.paths.exports = work.path().join("exports");
    let (rows, secs) = through_api(config, config_path, &pool).await?;
    println!(
        "api csv         {rows:>9} rows  {secs:>8.3}s  (POST /api/v1/exports, poll, download)"
    );
    pool.close().await;
    Ok(ExitCode::SUCCESS)
}

/// A directory of the bench's files, removed when the bench ends (an early error too).
struct WorkDir(PathBuf);

impl WorkDir {
    fn new() -> anyhow::Result<Self> {
        let dir =
            std::env::temp_dir().join(format!("switchyard-bench-export-{}", std::process::id()));
        std::fs::create_dir_all(&dir)?;
        Ok(Self(dir))
    }

    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for WorkDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// `n` order lines of `org`: orders of `per` lines each (the last one the rest), lines naming
/// the bench's products, which are created first; 10,000 orders per statement.
async fn seed(pool: &sqlx::PgPool, org: OrgId, n: i64, per: i64) -> anyhow::Result<()> {
    sqlx::query(
        "INSERT INTO products (org_id, sku, name, uom)
         SELECT $1, 'P-' || lpad(i::text, 4, '0'), 'Hot rolled plate, ' || i || ' mm', 'EA'
         FROM generate_series(0, $2 - 1) i",
    )
    .bind(org.0)
    .bind(PRODUCTS)
    .execute(pool)
    .await?;
    sqlx::query(
        "INSERT INTO customers (org_id, customer_id, name)
         SELECT $1, 'C' || i, 'Customer ' || i FROM generate_series(0, $2 - 1) i",
    )
    .bind(org.0)
    .bind(CUSTOMERS)
    .execute(pool)
    .await?;
    let orders = (n + per - 1) / per;
    let mut from = 0;
    while from < orders {
        let to = (from + 10_000).min(orders);
        sqlx::query(
            "INSERT INTO orders (id, org_id, order_number, customer_id, customer_po, status, canonical, source)
             SELECT gen_random_uuid(), $1, 'SO-' || lpad(i::text, 8, '0'), 'C' || (i % $7), 'PO-' || i, 'confirmed',
                    jsonb_build_object('order_number', 'SO-' || lpad(i::text, 8, '0'), 'customer_id', 'C' || (i % $7),
                        'status', 'confirmed', 'currency', 'USD', 'ordered_at', null, 'requested_delivery', null,
                        'customer_po', 'PO-' || i, 'tracking_numbers', '[]'::jsonb,
                        'billing_address', null, 'shipping_address', null, 'supplier_order_ref', null,
                        'lines', (SELECT jsonb_agg(jsonb_build_object(
                                     'line_number', j,
                                     'sku', 'P-' || lpad(((i * 7 + j) % $5)::text, 4, '0'),
                                     'description', 'Cut to length, \"' || j || '\" pieces',
                                     'quantity', (1 + (i + j) % 40)::text, 'uom', 'EA',
                                     'unit_price', (12.5 + (j % 9))::text,
                                     'requested_date', '2026-03-15') ORDER BY j)
                                  FROM generate_series(1, LEAST($4, $6 - i * $4)) j)),
                    'api'
             FROM generate_series($2, $3 - 1) i",
        )
        .bind(org.0)
        .bind(from)
        .bind(to)
        .bind(per)
        .bind(PRODUCTS)
        .bind(n)
        .bind(CUSTOMERS)
        .execute(pool)
        .await?;
        from = to;
    }
    Ok(())
}

/// The export's `order_lines` rows as flat columns (the CSV's, in its order), for `\copy`: the
/// same joins, filter and order as `switchyard_store::exports`' query.
fn flat_select(org: OrgId) -> String {
    format!(
        "SELECT o.order_number AS \"order.number\", o.status AS \"order.status\",
            o.customer_id AS \"order.customer_id\", o.customer_po AS \"order.customer_po\",
            to_char(o.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS') AS \"order.created_at\",
            (l->>'line_number')::integer AS line_number, l->>'sku' AS sku, p.name AS \"product.name\",
            l->>'description' AS description, (l->>'quantity')::numeric AS quantity, l->>'uom' AS uom,
            (l->>'unit_price')::numeric AS unit_price,
            (l->>'quantity')::numeric * (l->>'unit_price')::numeric AS amount,
            o.canonical->>'currency' AS currency, (l->>'requested_date')::date AS requested_date
         FROM orders o
         CROSS JOIN LATERAL jsonb_array_elements(o.canonical->'lines') WITH ORDINALITY AS x(l, ord)
         LEFT JOIN products p ON p.org_id = o.org_id AND p.sku = l->>'sku'
         WHERE o.org_id = '{}' AND o.status <> 'cancelled'
         ORDER BY o.created_at, o.id, x.ord",
        org.0
    )
}

fn psql_copy(url: &str, org: OrgId, file: &Path) -> anyhow::Result<()> {
    // `\copy` takes its whole command on one line.
    let select = flat_select(org)
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    let command = format!(
        "\\copy ({select}) TO '{}' WITH (FORMAT csv, HEADER)",
        file.display()
    );
    let out = std::process::Command::new("psql")
        .arg(url)
        .args(["-X", "-q", "-v", "ON_ERROR_STOP=1", "-c", &command])
        .output()
        .context("running psql (the Postgres client) for the \\copy yardstick")?;
    anyhow::ensure!(
        out.status.success(),
        "psql \\copy failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Ok(())
}

struct ChildRun {
    secs: f64,
    peak_kb: u64,
}

/// Runs `switchyard export order_lines --format FORMAT -o FILE` against `url`; its wall time
/// and peak RSS. The peak is the kernel's high-water mark (`VmHWM`), read every 10 ms while the
/// child lives: it only grows, so the last reading misses at most the final 10 ms (reading
/// it after exit would need `wait4`, i.e. unsafe code the workspace forbids).
async fn export_child(
    exe: &Path,
    config_path: &Path,
    url: &str,
    format: &str,
    file: &Path,
) -> anyhow::Result<ChildRun> {
    // Standard error to a file, not a pipe nobody reads while the child runs (a full pipe
    // would stall it and the figures with it).
    let err_file = file.with_extension(format!("{format}.err"));
    let mut cmd = tokio::process::Command::new(exe);
    cmd.args([
        "export",
        "order_lines",
        "--org",
        ORG,
        "--format",
        format,
        "-o",
    ])
    .arg(file)
    .env("SWITCHYARD_DATABASE__URL", url)
    .env("SWITCHYARD_LOG", "warn")
    .stdout(Stdio::null())
    .stderr(std::fs::File::create(&err_file)?)
    .kill_on_drop(true);
    if config_path.exists() {
        cmd.env("SWITCHYARD_CONFIG", config_path);
    } else {
        cmd.env_remove("SWITCHYARD_CONFIG");
    }
    let t = Instant::now();
    let mut child = cmd.spawn()?;
    let pid = child.id().context("the export's pid")?;
    let mut peak_kb = 0;
    let status = loop {
        if let Some(kb) = peak_rss_kb(pid) {
            peak_kb = peak_kb.max(kb);
        }
        tokio::select! {
            status = child.wait() => break status?,
            () = tokio::time::sleep(Duration::from_millis(10)) => {}
        }
    };
    let secs = t.elapsed().as_secs_f64();
    let err = std::fs::read_to_string(&err_file).unwrap_or_default();
    anyhow::ensure!(
        status.success(),
        "switchyard export --format {format} failed ({status}): {err}"
    );
    Ok(ChildRun { secs, peak_kb })
}

/// The rows in an export file, counted by its layout: CSV a line per row after the header
/// (no cell of the bench's rows holds a line break), JSON a `  {` line opening each element
/// of the array, XML a line per record (`<order_line>`).
fn rows_in(file: &Path, format: &str) -> anyhow::Result<u64> {
    match format {
        "csv" => Ok(count_lines(file, |_| true)?.saturating_sub(1)),
        "json" => count_lines(file, |l| l == "  {"),
        _ => count_lines(file, |l| l.starts_with("<order_line>")),
    }
}

/// Lines of `file` that `keep` takes (the file is read as it goes, never held).
fn count_lines(file: &Path, keep: impl Fn(&str) -> bool) -> anyhow::Result<u64> {
    let reader = std::io::BufReader::with_capacity(
        1 << 16,
        std::fs::File::open(file).with_context(|| format!("opening {}", file.display()))?,
    );
    let mut n = 0;
    for line in reader.lines() {
        if keep(line?.trim_end_matches('\r')) {
            n += 1;
        }
    }
    Ok(n)
}

/// The API's organization's order lines as CSV through a daemon's API and worker on loopback:
/// rows in the file downloaded, seconds from the POST to the last byte.
async fn through_api(
    config: Config,
    config_path: &Path,
    pool: &sqlx::PgPool,
) -> anyhow::Result<(u64, f64)> {
    let scopes = switchyard_api::Scopes::hub()
        .parse_all(&["read:orders"])
        .map_err(|e| anyhow::anyhow!("{}", e.message))?;
    let (_, key) =
        switchyard_store::keys::create_key(pool, API_ORG, "bench", &scopes, Tier::Premium).await?;
    let running = app::start(
        config,
        PathBuf::from(config_path),
        Roles {
            api: true,
            worker: true,
            scheduler: false,
        },
        Overrides::default(),
    )
    .await?;
    let base = format!(
        "http://{}/api/v1",
        running.api_addr.context("the API's address")?
    );
    let http = reqwest::Client::new();
    let result = async {
        let t = Instant::now();
        let created: serde_json::Value = http
            .post(format!("{base}/exports"))
            .bearer_auth(&key)
            .json(&serde_json::json!({"entity": "order_lines", "format": "csv"}))
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        let id = created["id"]
            .as_str()
            .context("the export's id")?
            .to_owned();
        let deadline = Instant::now() + Duration::from_secs(600);
        loop {
            let status: serde_json::Value = http
                .get(format!("{base}/exports/{id}"))
                .bearer_auth(&key)
                .send()
                .await?
                .error_for_status()?
                .json()
                .await?;
            match status["state"].as_str() {
                Some("succeeded") => break,
                Some("failed") => anyhow::bail!("the export failed: {}", status["error"]),
                _ => {}
            }
            anyhow::ensure!(
                Instant::now() < deadline,
                "the export did not finish in 10 minutes"
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        let body = http
            .get(format!("{base}/exports/{id}/download"))
            .bearer_auth(&key)
            .send()
            .await?
            .error_for_status()?
            .bytes()
            .await?;
        let secs = t.elapsed().as_secs_f64();
        // Header line, then a CRLF-ended line per row.
        let lines = body
            .split(|b| *b == b'\n')
            .filter(|l| !l.is_empty())
            .count() as u64;
        Ok((lines.saturating_sub(1), secs))
    }
    .await;
    running.stop().await?;
    result
}
