//! Files a job reads come only from the configured inbox (`[paths] inbox`): `catalog.sync`
//! names its `source` relative to it. An absolute path, `..`, a symlink leading out, a device,
//! a FIFO or a directory is refused at `POST /api/v1/jobs` with a 422 naming the allowed
//! directory, and fails a job already in the queue for good when it runs, without hanging the
//! worker or the daemon's SIGTERM.

use reqwest::Method;
use serde_json::{json, Value};
use std::path::Path;
use std::time::Duration;
use switchyard_adapter_http::fake::{FakePartner, FakePartnerConfig};
use switchyard_daemon::app::Roles;
use switchyard_e2e::{count, eventually, TestDaemon};
use switchyard_runtime::testkit::fs::mkfifo;
use switchyard_store::queue::{NewJob, RetryPolicy, RetrySpec};

const MAPPING: &str = "http/catalog.out";

/// Every way out of `inbox`, by name: (source as the payload names it, the refusal's reason).
/// `outside` is a directory beside the inbox holding a "secret".
fn traps(inbox: &Path, outside: &Path) -> Vec<(String, &'static str)> {
    std::fs::write(outside.join("secret.key"), "the daemon's secret key").unwrap();
    std::os::unix::fs::symlink(outside.join("secret.key"), inbox.join("key-link.csv")).unwrap();
    std::os::unix::fs::symlink("/etc/passwd", inbox.join("passwd.csv")).unwrap();
    std::os::unix::fs::symlink("/dev/zero", inbox.join("zero.csv")).unwrap();
    std::fs::create_dir(inbox.join("folder.csv")).unwrap();
    mkfifo(&inbox.join("pipe.csv"));
    vec![
        ("/etc/passwd".into(), "absolute_path"),
        ("/dev/zero".into(), "absolute_path"),
        (
            outside.join("secret.key").display().to_string(),
            "absolute_path",
        ),
        ("../secret.key".into(), "parent_dir"),
        ("folder.csv/../../secret.key".into(), "parent_dir"),
        ("key-link.csv".into(), "outside"),
        ("passwd.csv".into(), "outside"),
        ("zero.csv".into(), "outside"),
        ("folder.csv".into(), "not_a_regular_file"),
        ("pipe.csv".into(), "not_a_regular_file"),
        ("missing.csv".into(), "not_found"),
    ]
}

/// The API without a worker: what is refused must be refused before anything runs.
fn api_only() -> Roles {
    Roles {
        api: true,
        worker: false,
        scheduler: false,
    }
}

fn sync_payload(source: &str) -> Value {
    json!({"source": source, "mapping": MAPPING, "document": "catalog", "key_field": "sku"})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sources_outside_the_inbox_are_refused_with_a_422_naming_it() -> anyhow::Result<()> {
    let shop = FakePartner::start(FakePartnerConfig::new().bearer_token("files-token")).await?;
    let daemon = TestDaemon::builder()
        .http_partner("shop", &shop, "files")
        .repo_mappings()
        .roles(api_only())
        .start()
        .await?;
    let key = daemon.key("files", &["write:jobs"]).await?;
    let inbox = daemon.inbox();
    let allowed = std::path::absolute(&inbox)?.display().to_string();
    let outside = tempfile::tempdir()?;

    for (source, reason) in traps(&inbox, outside.path()) {
        let (status, body) = daemon
            .call(
                Method::POST,
                "/api/v1/jobs",
                Some(&key),
                Some(json!({"kind": "catalog.sync", "partner": "shop", "payload": sync_payload(&source)})),
            )
            .await?;
        assert_eq!(status, 422, "{source}: {body}");
        let error = &body["error"];
        assert_eq!(error["code"], "validation_failed", "{source}: {body}");
        assert_eq!(error["details"]["field"], "source", "{source}: {body}");
        assert_eq!(error["details"]["reason"], reason, "{source}: {body}");
        assert_eq!(
            error["details"]["allowed_dir"],
            allowed.as_str(),
            "{source}: {body}"
        );
        let message = error["message"].as_str().unwrap_or_default();
        assert!(
            message.starts_with("catalog.sync payload: source: ") && message.contains(&allowed),
            "the message names the allowed directory: {message}"
        );
    }
    assert_eq!(
        count(&daemon.db.pool, "SELECT count(*) FROM jobs").await?,
        0,
        "nothing refused was enqueued"
    );

    // A file in the inbox, named relative to it, is accepted.
    std::fs::copy(
        switchyard_e2e::repo().join("fixtures/catalog/catalog.csv"),
        inbox.join("catalog.csv"),
    )?;
    let (status, body) = daemon
        .call(
            Method::POST,
            "/api/v1/jobs",
            Some(&key),
            Some(json!({"kind": "catalog.sync", "partner": "shop", "payload": sync_payload("catalog.csv")})),
        )
        .await?;
    assert_eq!(status, 201, "{body}");
    daemon.stop().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn queued_jobs_naming_a_file_outside_fail_for_good_without_hanging() -> anyhow::Result<()> {
    let shop = FakePartner::start(FakePartnerConfig::new().bearer_token("files-token")).await?;
    let daemon = TestDaemon::builder()
        .http_partner("shop", &shop, "files")
        .repo_mappings()
        .start()
        .await?;
    let org = daemon.org("files").await?;
    let outside = tempfile::tempdir()?;
    // Jobs already in the queue (enqueued before this build, or around the API): the worker
    // refuses each one before its handler runs, and does not retry it.
    let traps = traps(&daemon.inbox(), outside.path());
    for (i, (source, _)) in traps.iter().enumerate() {
        daemon
            .queue
            .enqueue(
                NewJob::new(org, "catalog.sync", sync_payload(source))
                    .partner("shop")
                    .key(format!("trap-{i}"))
                    .retry(RetrySpec::of(RetryPolicy::Immediate)),
            )
            .await?;
    }
    let n = traps.len() as i64;
    eventually(
        Duration::from_secs(30),
        "every trap job to be dead",
        || {
            let pool = daemon.db.pool.clone();
            async move {
                Ok(count(&pool, "SELECT count(*) FROM jobs WHERE state = 'dead'").await? == n)
            }
        },
    )
    .await?;
    assert_eq!(
        count(
            &daemon.db.pool,
            "SELECT count(*) FROM jobs WHERE attempts > 1"
        )
        .await?,
        0,
        "a refused file is not retried"
    );
    let allowed = std::path::absolute(daemon.inbox())?.display().to_string();
    let reasons: Vec<String> = sqlx::query_scalar("SELECT reason FROM dead_letters")
        .fetch_all(&daemon.db.pool)
        .await?;
    assert_eq!(reasons.len(), traps.len());
    for reason in &reasons {
        assert!(
            reason.contains("catalog.sync payload: source: ") && reason.contains(&allowed),
            "{reason}"
        );
    }
    assert!(
        reasons.iter().any(|r| r.contains("named pipe (FIFO)")),
        "{reasons:?}"
    );
    assert_eq!(shop.applied().len(), 0, "nothing reached the partner");
    daemon.stop().await
}

/// The hang: a FIFO source used to block the job's read forever; SIGTERM then could
/// not stop the daemon and the job went back to `pending`, jamming every restart.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_stops_the_daemon_after_a_fifo_source() -> anyhow::Result<()> {
    let shop = FakePartner::start(FakePartnerConfig::new().bearer_token("fifo-token")).await?;
    let cluster = TestDaemon::builder()
        .toml("[queue]\nshutdown_grace_secs = 2\n")
        .http_partner_with("shop", &shop, "files", "env:SHOP_TOKEN")
        .repo_mappings()
        .prepare()
        .await?;
    mkfifo(&cluster.inbox().join("pipe.csv"));
    // The same name in the daemon's working directory, where a build that read a payload's
    // path as given would open it (and block).
    mkfifo(&cluster.dir.path().join("pipe.csv"));
    let org = cluster.org("files").await?;
    cluster
        .queue()
        .enqueue(
            NewJob::new(org, "catalog.sync", sync_payload("pipe.csv"))
                .partner("shop")
                .key("fifo")
                .retry(RetrySpec::of(RetryPolicy::Immediate)),
        )
        .await?;
    let mut daemon = cluster.spawn(
        &["--no-api", "--no-scheduler"],
        &[("SHOP_TOKEN", "fifo-token")],
        "fifo.log",
    )?;
    eventually(Duration::from_secs(30), "the FIFO job to be dead", || {
        let pool = cluster.db.pool.clone();
        async move { Ok(count(&pool, "SELECT count(*) FROM jobs WHERE state = 'dead'").await? == 1) }
    })
    .await
    .map_err(|e| anyhow::anyhow!("{e}\n--- daemon log ---\n{}", daemon.log_text()))?;
    let status = daemon.terminate().await;
    assert!(
        status.is_some_and(|s| s.success()),
        "SIGTERM must stop the daemon: {status:?}\n--- daemon log ---\n{}",
        daemon.log_text()
    );
    assert_eq!(
        count(
            &cluster.db.pool,
            "SELECT count(*) FROM jobs WHERE state IN ('pending', 'running')"
        )
        .await?,
        0,
        "nothing is left to jam the next start"
    );
    cluster.db.drop_db().await;
    Ok(())
}

/// The inline EDI mailbox payload let a caller pick any directory for the daemon to create
/// folders in and import orders from; now an EDI job only names a configured partner.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_edi_job_cannot_name_a_mailbox_directory() -> anyhow::Result<()> {
    let mailboxes = tempfile::tempdir()?;
    let daemon = TestDaemon::builder()
        .edi_partner(
            "acme",
            "files",
            switchyard_e2e::edi::ACME_X12,
            &mailboxes.path().join("acme"),
        )
        .roles(api_only())
        .start()
        .await?;
    let key = daemon.key("files", &["write:jobs"]).await?;
    let elsewhere = tempfile::tempdir()?;
    let target = elsewhere.path().join("van");
    let profile = json!({"name": "acme", "standard": "x12", "version": "004010",
                         "us": {"qualifier": "ZZ", "id": "US"}, "them": {"qualifier": "ZZ", "id": "THEM"}});
    for (kind, payload, field) in [
        (
            "edi.mailbox.poll",
            json!({"mailbox": target.display().to_string(), "profile": profile}),
            "partner",
        ),
        (
            "edi.mailbox.poll",
            json!({"partner": "acme", "mailbox": target.display().to_string()}),
            "mailbox",
        ),
        (
            "edi.ack.overdue",
            json!({"partner": "acme", "profile": profile}),
            "profile",
        ),
        (
            "edi.send",
            json!({"partner": "acme", "mailbox": target.display().to_string(),
                   "document": "invoice", "entity": {}}),
            "mailbox",
        ),
    ] {
        let (status, body) = daemon
            .call(
                Method::POST,
                "/api/v1/jobs",
                Some(&key),
                Some(json!({"kind": kind, "payload": payload})),
            )
            .await?;
        assert_eq!(status, 422, "{kind} {payload}: {body}");
        assert_eq!(body["error"]["code"], "validation_failed", "{body}");
        assert_eq!(body["error"]["details"]["field"], field, "{body}");
    }
    assert_eq!(
        count(&daemon.db.pool, "SELECT count(*) FROM jobs").await?,
        0
    );
    assert!(
        !target.exists(),
        "nothing was created where the payload pointed"
    );
    // Naming the partner is how it is done.
    let (status, body) = daemon
        .call(
            Method::POST,
            "/api/v1/jobs",
            Some(&key),
            Some(json!({"kind": "edi.mailbox.poll", "payload": {"partner": "acme"}})),
        )
        .await?;
    assert_eq!(status, 201, "{body}");
    daemon.stop().await
}
