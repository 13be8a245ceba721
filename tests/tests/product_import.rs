//! Product imports through the real daemon and binary: `switchyard import products` against
//! the configured database (errors, preview, dry run, then applying), and the daemon's API
//! reading an upload through its own (hot-reloaded) mapping files.

use serde_json::Value;
use switchyard_daemon::app::Roles;
use switchyard_e2e::{count, repo, switchyard_bin, TestDaemon};

async fn import(config: &std::path::Path, db: &str, args: &[&str]) -> (bool, String) {
    let out = tokio::process::Command::new(switchyard_bin())
        .args([
            "import",
            "products",
            "--mapping",
            "monopilot/product.import",
            "--org",
            "acme",
        ])
        .args(args)
        .arg(repo().join("fixtures/imports/monopilot-products.csv"))
        .env("SWITCHYARD_CONFIG", config)
        .env("SWITCHYARD_DATABASE__URL", db)
        .output()
        .await
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("error:"), "{stderr}");
    (out.status.success(), String::from_utf8(out.stdout).unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cli_prints_errors_and_preview_then_applies() -> anyhow::Result<()> {
    let cluster = TestDaemon::builder().repo_mappings().prepare().await?;
    let (config, db) = (cluster.config_path.clone(), cluster.db.url.clone());

    let (ok, out) = import(&config, &db, &["--dry-run"]).await;
    assert!(!ok, "invalid rows make the exit status 1:\n{out}");
    assert!(out.contains("16 rows, 12 valid, 4 invalid"), "{out}");
    assert!(
        out.contains("record 9, CSV line 10: type: 'packaging' is not one of"),
        "{out}"
    );
    assert!(out.contains("preview (first 10 valid rows)"), "{out}");
    assert!(out.contains("dry run: nothing applied"), "{out}");
    assert_eq!(
        count(&cluster.db.pool, "SELECT count(*) FROM products").await?,
        0
    );

    let (ok, out) = import(&config, &db, &["--on-conflict", "update"]).await;
    assert!(!ok, "{out}");
    assert!(
        out.contains("applied: 12 created, 0 updated, 0 unchanged, 0 skipped, 4 failed"),
        "{out}"
    );
    assert_eq!(
        count(&cluster.db.pool, "SELECT count(*) FROM products").await?,
        12
    );
    let kind: String =
        sqlx::query_scalar("SELECT product_type FROM products WHERE sku = 'SF-DOUGH-05'")
            .fetch_one(&cluster.db.pool)
            .await?;
    assert_eq!(kind, "semi_finished");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_daemons_api_reads_uploads_through_its_mappings() -> anyhow::Result<()> {
    let daemon = TestDaemon::builder()
        .repo_mappings()
        .roles(Roles {
            api: true,
            worker: false,
            scheduler: false,
        })
        .start()
        .await?;
    let key = daemon.key("acme", &["write:catalog"]).await?;
    let resp = reqwest::Client::new()
        .post(format!(
            "{}/api/v1/catalog/imports?mapping=monopilot/product.import",
            daemon.api()
        ))
        .bearer_auth(&key)
        .header("content-type", "text/csv")
        .body(std::fs::read(
            repo().join("fixtures/imports/monopilot-products.csv"),
        )?)
        .send()
        .await?;
    assert_eq!(resp.status(), 201);
    let report: Value = resp.json().await?;
    assert_eq!(report["totals"]["valid"], 12, "{report}");
    assert_eq!(report["file_name"], "upload.csv");
    daemon.stop().await
}
