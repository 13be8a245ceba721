//! Exports through the running daemon (API, worker and scheduler): `POST /api/v1/exports` is
//! answered 202 and the `export.run` job writes the file; its status shows the rows counted and
//! written; the download is the file (read back by Python's csv module); the synchronous
//! `GET /exports/{entity}.{format}` streams; scopes follow the entity; another organization sees
//! nothing; after 24 hours the download is 410 and the repository's expiry schedule deletes the
//! file. A mapping file reshapes an export in each form (`exports/order_lines.accounting`).
//! And the CLI twin, `switchyard export`, against the configured database.

use chrono::{Duration as Days, Utc};
use reqwest::Method;
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::Duration;
use switchyard_core::clock::ManualClock;
use switchyard_core::ids::OrgId;
use switchyard_daemon::app::Roles;
use switchyard_e2e::{eventually, TestDaemon};

const FOREIGN: &str = "OTHER-ORG-SKU";

async fn seed(pool: &sqlx::PgPool, org: OrgId, sku: &str, orders: i32) {
    sqlx::query("INSERT INTO products (org_id, sku, name) VALUES ($1, $2, 'Plate, \"HR\"')")
        .bind(org.0)
        .bind(sku)
        .execute(pool)
        .await
        .unwrap();
    sqlx::query("INSERT INTO customers (org_id, customer_id, name) VALUES ($1, 'C1', 'Acme')")
        .bind(org.0)
        .execute(pool)
        .await
        .unwrap();
    sqlx::query(
        "INSERT INTO orders (id, org_id, order_number, customer_id, customer_po, status, canonical, source)
         SELECT gen_random_uuid(), $1, 'SO-' || i, 'C1', 'PO-' || i, CASE WHEN i % 2 = 0 THEN 'confirmed' ELSE 'shipped' END,
                jsonb_build_object('order_number', 'SO-' || i, 'customer_id', 'C1', 'status', 'confirmed',
                    'currency', 'USD', 'ordered_at', null, 'requested_delivery', null,
                    'lines', jsonb_build_array(
                        jsonb_build_object('line_number', 1, 'sku', $2::text, 'description', null,
                                           'quantity', '2', 'uom', 'EA', 'unit_price', '1.25', 'requested_date', null),
                        jsonb_build_object('line_number', 2, 'sku', $2::text, 'description', 'second',
                                           'quantity', '1', 'uom', 'EA', 'unit_price', '0.5', 'requested_date', null)),
                    'billing_address', null, 'shipping_address', null, 'supplier_order_ref', null,
                    'customer_po', 'PO-' || i, 'tracking_numbers', '[]'::jsonb),
                'api'
         FROM generate_series(1, $3) i",
    )
    .bind(org.0)
    .bind(sku)
    .bind(orders)
    .execute(pool)
    .await
    .unwrap();
}

fn python_csv(bytes: &[u8]) -> Vec<Value> {
    python_csv_delimited(bytes, ',')
}

fn python_csv_delimited(bytes: &[u8], delimiter: char) -> Vec<Value> {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("export.csv");
    std::fs::write(&file, bytes).unwrap();
    let out = std::process::Command::new("python3")
        .arg("-c")
        .arg(format!("import csv, json, sys\nwith open(sys.argv[1], newline='', encoding='utf-8-sig') as f:\n    print(json.dumps(list(csv.DictReader(f, delimiter='{delimiter}', strict=True))))"))
        .arg(&file)
        .output()
        .expect("python3 runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_export_is_written_by_a_job_downloaded_and_expires() -> anyhow::Result<()> {
    let schedule =
        std::fs::read_to_string(switchyard_e2e::repo().join("schedules/export-expiry.toml"))?;
    let clock = ManualClock::new(Utc::now());
    let daemon = TestDaemon::builder()
        .roles(Roles {
            api: true,
            worker: true,
            scheduler: true,
        })
        .schedule("export-expiry", &schedule)
        .clock(Arc::new(clock.clone()))
        .repo_mappings()
        .start()
        .await?;
    let pool = &daemon.db.pool;
    let acme = daemon.org("acme").await?;
    let other = daemon.org("other").await?;
    seed(pool, acme, "PL-1", 1500).await;
    seed(pool, other, FOREIGN, 3).await;
    let orders = daemon.key("acme", &["read:orders"]).await?;
    let catalog_only = daemon.key("acme", &["read:catalog"]).await?;
    let stranger = daemon
        .key("other", &["read:orders", "read:catalog", "read:inventory"])
        .await?;

    // Scope of the entity (order lines need read:orders), and a filter that does not apply to
    // it, are refused naming what.
    let request =
        json!({"entity": "order_lines", "format": "csv", "filters": {"status": "confirmed"}});
    let misfit = json!({"entity": "order_lines", "format": "csv", "filters": {"location": "CHI"}});
    for (key, body, status, detail, value) in [
        (
            &catalog_only,
            request.clone(),
            403,
            "required_scope",
            "read:orders",
        ),
        (&orders, misfit, 422, "field", "filters.location"),
    ] {
        let (got, answer) = daemon
            .call(Method::POST, "/api/v1/exports", Some(key), Some(body))
            .await?;
        assert_eq!(
            (got, answer["error"]["details"][detail].clone()),
            (status, json!(value)),
            "{answer}"
        );
    }

    let (status, created) = daemon
        .call(
            Method::POST,
            "/api/v1/exports",
            Some(&orders),
            Some(request),
        )
        .await?;
    assert_eq!(status, 202, "{created}");
    let id = created["id"].as_str().unwrap().to_string();
    let path = format!("/api/v1/exports/{id}");

    eventually(
        Duration::from_secs(30),
        "the export job finishes",
        || async {
            let (_, v) = daemon.call(Method::GET, &path, Some(&orders), None).await?;
            anyhow::ensure!(v["state"] != "failed", "the export failed: {v}");
            Ok(v["state"] == "succeeded")
        },
    )
    .await?;
    let (_, view) = daemon.call(Method::GET, &path, Some(&orders), None).await?;
    // 750 confirmed orders of two lines each.
    assert_eq!(
        (view["rows_total"].clone(), view["rows_done"].clone()),
        (json!(1500), json!(1500)),
        "{view}"
    );
    assert_eq!(view["percent"], json!(100.0));
    assert!(view["rows_per_second"].as_f64().unwrap() > 0.0, "{view}");
    assert_eq!(view["download"], json!(format!("{path}/download")));
    let expires = chrono::DateTime::parse_from_rfc3339(view["expires_at"].as_str().unwrap())?;
    let finished = chrono::DateTime::parse_from_rfc3339(view["finished_at"].as_str().unwrap())?;
    assert_eq!(expires - finished, Days::hours(24));

    // The download is the file: BOM, header, every row, nothing of the other organization.
    let resp = daemon
        .http
        .get(format!("{}{path}/download", daemon.api()))
        .bearer_auth(&orders)
        .send()
        .await?;
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["content-type"], "text/csv; charset=utf-8");
    let bytes = resp.bytes().await?;
    assert_eq!(&bytes[..3], b"\xEF\xBB\xBF");
    assert_eq!(bytes.len() as u64, view["bytes"].as_u64().unwrap());
    let rows = python_csv(&bytes);
    assert_eq!(rows.len(), 1500);
    assert!(rows
        .iter()
        .all(|r| r["order.status"] == "confirmed" && r["product.name"] == "Plate, \"HR\""));
    assert_eq!(rows[0]["amount"], "2.50");
    assert!(!String::from_utf8_lossy(&bytes).contains(FOREIGN));

    // Tenant isolation: the other organization's key sees no such export.
    for p in [path.clone(), format!("{path}/download")] {
        let (status, _) = daemon.call(Method::GET, &p, Some(&stranger), None).await?;
        assert_eq!(status, 404, "{p}");
    }
    // A key of the organization without the entity's scope cannot read it either.
    let (status, _) = daemon
        .call(Method::GET, &path, Some(&catalog_only), None)
        .await?;
    assert_eq!(status, 403);

    // The synchronous twin streams at once, filtered by the query.
    let resp = daemon
        .http
        .get(format!(
            "{}/api/v1/exports/orders.json?status=shipped&product=PL-1",
            daemon.api()
        ))
        .bearer_auth(&orders)
        .send()
        .await?;
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["content-type"], "application/json");
    let shipped: Vec<Value> = resp.json().await?;
    assert_eq!(shipped.len(), 750);
    assert!(shipped
        .iter()
        .all(|o| o["status"] == "shipped" && o["lines"].as_array().unwrap().len() == 2));
    let (status, other_orders) = daemon
        .call(
            Method::GET,
            "/api/v1/exports/orders.json",
            Some(&stranger),
            None,
        )
        .await?;
    assert_eq!((status, other_orders.as_array().unwrap().len()), (200, 3));
    assert_eq!(other_orders[0]["lines"][0]["sku"], FOREIGN);
    let (status, _) = daemon
        .call(
            Method::GET,
            "/api/v1/exports/products.csv",
            Some(&orders),
            None,
        )
        .await?;
    assert_eq!(status, 403, "products need read:catalog");
    let (status, _) = daemon
        .call(
            Method::GET,
            "/api/v1/exports/work_orders.csv",
            Some(&orders),
            None,
        )
        .await?;
    assert_eq!(status, 404);

    // Through a mapping file: the job's file and the synchronous stream hold the mapped
    // records; the export says which mapping and which version of it.
    let mapped = json!({"entity": "order_lines", "format": "csv",
        "filters": {"status": "shipped"}, "mapping": "exports/order_lines.accounting"});
    let (status, created) = daemon
        .call(Method::POST, "/api/v1/exports", Some(&orders), Some(mapped))
        .await?;
    assert_eq!(status, 202, "{created}");
    assert_eq!(created["mapping"], "exports/order_lines.accounting");
    let mapped_path = format!("/api/v1/exports/{}", created["id"].as_str().unwrap());
    eventually(
        Duration::from_secs(30),
        "the mapped export finishes",
        || async {
            let (_, v) = daemon
                .call(Method::GET, &mapped_path, Some(&orders), None)
                .await?;
            anyhow::ensure!(v["state"] != "failed", "the export failed: {v}");
            Ok(v["state"] == "succeeded")
        },
    )
    .await?;
    let (_, view) = daemon
        .call(Method::GET, &mapped_path, Some(&orders), None)
        .await?;
    assert_eq!(
        view["mapping_version"].as_str().map(str::len),
        Some(64),
        "{view}"
    );
    let bytes = daemon
        .http
        .get(format!("{}{mapped_path}/download", daemon.api()))
        .bearer_auth(&orders)
        .send()
        .await?
        .bytes()
        .await?;
    let journal = python_csv_delimited(&bytes, ';');
    assert_eq!(journal.len(), 1500, "750 shipped orders of two lines");
    assert!(journal
        .iter()
        .all(|r| r["journal"] == "SALES" && r["customer_account"] == "C1"));
    assert_eq!(journal[0]["net_amount"], "2.50");
    let resp = daemon
        .http
        .get(format!(
            "{}/api/v1/exports/order_lines.json?status=confirmed&mapping=exports/order_lines.accounting",
            daemon.api()
        ))
        .bearer_auth(&orders)
        .send()
        .await?;
    assert_eq!(resp.status(), 200);
    let lines: Vec<Value> = resp.json().await?;
    assert_eq!(lines.len(), 1500);
    assert_eq!(lines[1]["item"], "PL-1");
    assert_eq!(lines[1]["net_amount"], "0.50");
    // An unknown mapping is refused before anything is queued or read, naming the field.
    for (method, path, body) in [
        (
            Method::POST,
            "/api/v1/exports",
            Some(json!({"entity": "orders", "format": "csv", "mapping": "exports/nope"})),
        ),
        (
            Method::GET,
            "/api/v1/exports/orders.csv?mapping=exports/nope",
            None,
        ),
    ] {
        let (status, answer) = daemon.call(method, path, Some(&orders), body).await?;
        assert_eq!(
            (status, answer["error"]["details"]["field"].clone()),
            (422, json!("mapping")),
            "{path}: {answer}"
        );
    }
    // Above the synchronous limit the route points to the job instead of streaming.
    sqlx::query("INSERT INTO customers (org_id, customer_id, name) SELECT $1, 'X' || i, 'n' FROM generate_series(1, 10000) i")
        .bind(other.0)
        .execute(pool)
        .await?;
    let (status, body) = daemon
        .call(
            Method::GET,
            "/api/v1/exports/customers.csv",
            Some(&stranger),
            None,
        )
        .await?;
    assert_eq!(
        (status, body["error"]["details"]["rows"].clone()),
        (422, json!(10001)),
        "{body}"
    );

    // 24 hours later the download is gone (410) at once, and the expiry schedule deletes the
    // file and marks the export expired.
    let file: String = sqlx::query_scalar("SELECT file_path FROM exports WHERE id = $1::uuid")
        .bind(&id)
        .fetch_one(pool)
        .await?;
    assert!(std::path::Path::new(&file).exists());
    clock.advance(Days::hours(24) + Days::seconds(1));
    let (status, body) = daemon
        .call(
            Method::GET,
            &format!("{path}/download"),
            Some(&orders),
            None,
        )
        .await?;
    assert_eq!(
        (status, body["error"]["code"].clone()),
        (410, json!("gone")),
        "{body}"
    );
    eventually(
        Duration::from_secs(30),
        "the expiry job marks it expired",
        || async {
            let (_, v) = daemon.call(Method::GET, &path, Some(&orders), None).await?;
            Ok(v["state"] == "expired")
        },
    )
    .await?;
    assert!(!std::path::Path::new(&file).exists(), "the file is deleted");
    let (status, _) = daemon
        .call(
            Method::GET,
            &format!("{path}/download"),
            Some(&orders),
            None,
        )
        .await?;
    assert_eq!(status, 410);
    daemon.stop().await
}

async fn cli(config: &std::path::Path, db: &str, args: &[&str]) -> std::process::Output {
    tokio::process::Command::new(switchyard_e2e::switchyard_bin())
        .arg("export")
        .args(args)
        .env("SWITCHYARD_CONFIG", config)
        .env("SWITCHYARD_DATABASE__URL", db)
        .output()
        .await
        .unwrap()
}

/// `switchyard export`: the file on standard output (nothing else there, and no progress on a
/// standard error that is not a terminal), `-o` for a file, a refused filter named.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cli_writes_the_same_files() -> anyhow::Result<()> {
    let prepared = TestDaemon::builder().repo_mappings().prepare().await?;
    let (config, db) = (prepared.config_path.clone(), prepared.db.url.clone());
    let acme = switchyard_store::orgs::ensure(&prepared.db.pool, "acme")
        .await?
        .id;
    let other = switchyard_store::orgs::ensure(&prepared.db.pool, "other")
        .await?
        .id;
    seed(&prepared.db.pool, acme, "PL-1", 20).await;
    seed(&prepared.db.pool, other, FOREIGN, 3).await;

    let out = cli(
        &config,
        &db,
        &[
            "order_lines",
            "--format",
            "csv",
            "--org",
            "acme",
            "--status",
            "confirmed",
        ],
    )
    .await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(&out.stdout[..3], b"\xEF\xBB\xBF");
    let rows = python_csv(&out.stdout);
    assert_eq!(rows.len(), 20, "10 confirmed orders of two lines");
    assert!(!String::from_utf8_lossy(&out.stdout).contains(FOREIGN));

    let file = prepared.dir.path().join("orders.json");
    let out = cli(
        &config,
        &db,
        &[
            "orders",
            "--format",
            "json",
            "--org",
            "acme",
            "-o",
            file.to_str().unwrap(),
        ],
    )
    .await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.stdout.is_empty());
    let orders: Vec<Value> = serde_json::from_slice(&std::fs::read(&file)?)?;
    assert_eq!(orders.len(), 20);

    // `--mapping`: the same records the API's mapped export writes.
    let out = cli(
        &config,
        &db,
        &[
            "order_lines",
            "--format",
            "csv",
            "--org",
            "acme",
            "--mapping",
            "exports/order_lines.accounting",
        ],
    )
    .await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let journal = python_csv_delimited(&out.stdout, ';');
    assert_eq!(journal.len(), 40);
    assert!(journal.iter().all(|r| r["item"] == "PL-1"));
    let out = cli(
        &config,
        &db,
        &[
            "orders",
            "--format",
            "csv",
            "--org",
            "acme",
            "--mapping",
            "exports/nope",
        ],
    )
    .await;
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("no mapping named `exports/nope`"),
        "{stderr}"
    );

    let out = cli(
        &config,
        &db,
        &[
            "orders",
            "--format",
            "csv",
            "--org",
            "acme",
            "--location",
            "CHI",
        ],
    )
    .await;
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("filters.location: applies to inventory, not orders"),
        "{stderr}"
    );
    prepared.db.drop_db().await;
    Ok(())
}
