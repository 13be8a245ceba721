//! Partner credentials end to end: stored with `switchyard secret set` (AES-256-GCM at rest),
//! resolved per organization by the daemon when it builds the partner's adapter, sent to the
//! partner, and never written to the integration logs.

use serde_json::json;
use std::process::Stdio;
use std::time::Duration;
use switchyard_adapter_http::fake::{FakePartner, FakePartnerConfig};
use switchyard_e2e::{count, eventually, switchyard_bin, TestDaemon};
use switchyard_store::queue::NewJob;
use tokio::io::AsyncWriteExt;

const TOKEN: &str = "acme-live-7f3c9a1e";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stored_secrets_are_encrypted_resolved_per_org_and_never_logged() -> anyhow::Result<()> {
    let shop = FakePartner::start(
        FakePartnerConfig::new()
            .bearer_token(TOKEN)
            .required_fields(["sku"]),
    )
    .await?;
    // The token is stored with `switchyard secret set` below; the config only references it.
    let cluster = TestDaemon::builder()
        .http_partner_with("shop", &shop, "acme", "secret:shop-token")
        .prepare()
        .await?;
    let (db, dir) = (&cluster.db, &cluster.dir);

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

    let queue = cluster.queue();
    let org = cluster.org("acme").await?;
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
    let mut daemon = cluster.spawn(&["--no-api", "--no-scheduler"], &env, "daemon.log")?;
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
    cluster.db.drop_db().await;
    Ok(())
}
