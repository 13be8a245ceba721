//! Partner credentials end to end: stored with `switchyard secret set` (AES-256-GCM at rest),
//! resolved per organization by the daemon when it builds the partner's adapter, sent to the
//! partner, and never written to the integration logs.

use serde_json::json;
use std::process::Stdio;
use std::time::Duration;
use switchyard_adapter_http::fake::{FakePartner, FakePartnerConfig};
use switchyard_e2e::{count, eventually, switchyard_bin, Daemon, TestDb};
use switchyard_store::queue::{NewJob, Queue};
use tokio::io::AsyncWriteExt;

const TOKEN: &str = "acme-live-7f3c9a1e";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stored_secrets_are_encrypted_resolved_per_org_and_never_logged() -> anyhow::Result<()> {
    let db = TestDb::create().await?;
    let shop = FakePartner::start(
        FakePartnerConfig::new()
            .bearer_token(TOKEN)
            .required_fields(["sku"]),
    )
    .await?;
    let dir = tempfile::tempdir()?;
    std::fs::create_dir(dir.path().join("schedules"))?;
    std::fs::write(
        dir.path().join("switchyard.toml"),
        format!(
            "[partners.shop]\nkind = \"http\"\norg = \"acme\"\nbase_url = \"{}\"\n\
             auth = {{ type = \"bearer\", token_ref = \"secret:shop-token\" }}\n",
            shop.base_url()
        ),
    )?;

    let key = tokio::process::Command::new(switchyard_bin())
        .args(["secret", "gen-key"])
        .output()
        .await?;
    assert!(key.status.success());
    let key = String::from_utf8(key.stdout)?.trim().to_owned();
    let mut set = tokio::process::Command::new(switchyard_bin())
        .args(["secret", "set", "--org", "acme", "--name", "shop-token"])
        .env("SWITCHYARD_DATABASE__URL", &db.url)
        .env("SWITCHYARD_SECRET_KEY", &key)
        .env("SWITCHYARD_CONFIG", dir.path().join("switchyard.toml"))
        .stdin(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()?;
    set.stdin
        .take()
        .expect("stdin")
        .write_all(format!("{TOKEN}\n").as_bytes())
        .await?;
    let out = set.wait_with_output().await?;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stored: Vec<u8> =
        sqlx::query_scalar("SELECT ciphertext FROM secrets WHERE name = 'shop-token'")
            .fetch_one(&db.pool)
            .await?;
    assert!(
        !stored.windows(TOKEN.len()).any(|w| w == TOKEN.as_bytes()),
        "the credential is encrypted at rest"
    );

    let queue = Queue::new(
        db.pool.clone(),
        std::sync::Arc::new(switchyard_core::clock::SystemClock),
    );
    let org = switchyard_store::orgs::ensure(&db.pool, "acme").await?.id;
    for n in 0..3 {
        queue
            .enqueue(
                NewJob::new(
                    org,
                    "partner.push",
                    json!({"body": {"sku": format!("S-{n}")}}),
                )
                .partner("shop"),
            )
            .await?;
    }
    let env = [("SWITCHYARD_SECRET_KEY", key.as_str())];
    let mut daemon = Daemon::spawn(
        dir.path(),
        &db.url,
        &["--no-api", "--no-scheduler"],
        &env,
        "daemon.log",
    )?;
    eventually(
        Duration::from_secs(30),
        "three pushes with the stored token",
        || {
            let pool = db.pool.clone();
            async move {
                Ok(count(&pool, "SELECT count(*) FROM jobs WHERE state = 'succeeded'").await? == 3)
            }
        },
    )
    .await
    .map_err(|e| anyhow::anyhow!("{e}\n{}", daemon.log_text()))?;
    daemon.terminate().await;
    assert_eq!(shop.applied().len(), 3);
    let auth = shop.deliveries()[0]
        .headers
        .iter()
        .find(|(k, _)| k == "authorization")
        .map(|(_, v)| v.clone());
    assert_eq!(auth.as_deref(), Some(format!("Bearer {TOKEN}").as_str()));
    let (logged,): (i64,) =
        sqlx::query_as("SELECT count(*) FROM integration_logs WHERE partner = 'shop'")
            .fetch_one(&db.pool)
            .await?;
    assert_eq!(logged, 3, "each exchange is logged");
    let (leaks,): (i64,) = sqlx::query_as(
        "SELECT count(*) FROM integration_logs WHERE coalesce(request_body::text, '') || coalesce(response_body::text, '') || coalesce(error_message, '') LIKE $1",
    )
    .bind(format!("%{TOKEN}%"))
    .fetch_one(&db.pool)
    .await?;
    assert_eq!(leaks, 0, "the token never reaches the logs");
    assert!(
        !daemon.log_text().contains(TOKEN),
        "nor the daemon's own log"
    );

    // With the wrong key the daemon refuses to start and says why.
    let wrong = tokio::process::Command::new(switchyard_bin())
        .args(["secret", "gen-key"])
        .output()
        .await?;
    let wrong = String::from_utf8(wrong.stdout)?.trim().to_owned();
    let out = tokio::process::Command::new(switchyard_bin())
        .args(["run", "--no-api", "--no-scheduler"])
        .current_dir(dir.path())
        .env("SWITCHYARD_CONFIG", dir.path().join("switchyard.toml"))
        .env("SWITCHYARD_DATABASE__URL", &db.url)
        .env("SWITCHYARD_SECRET_KEY", &wrong)
        .output()
        .await?;
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("partner `shop`") && err.contains("cannot decrypt"),
        "{err}"
    );
    shop.shutdown().await;
    db.drop_db().await;
    Ok(())
}
