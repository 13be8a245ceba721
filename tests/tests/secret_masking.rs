//! Credentials never show in clear text: not when a careless partner echoes our Basic header in
//! its error (stored error, dead letter, exchange log, the daemon's own log line), and not as
//! sensitive fields of job payloads shown by the API.

use base64::Engine;
use reqwest::Method;
use serde_json::{json, Value};
use std::time::Duration;
use switchyard_adapter_http::fake::{FakePartner, FakePartnerConfig};
use switchyard_daemon::app::Roles;
use switchyard_e2e::{count, eventually, TestDaemon};
use switchyard_store::queue::{NewJob, RetryPolicy, RetrySpec};

const USER: &str = "probeuser";
const PASSWORD: &str = "correct-horse-battery";
const PAYLOAD_SECRET: &str = "hunter2-in-the-payload";

/// What must never appear: the password, its base64, and the Basic header's base64.
fn forbidden() -> Vec<String> {
    let b64 = base64::engine::general_purpose::STANDARD;
    vec![
        PASSWORD.to_owned(),
        b64.encode(PASSWORD),
        b64.encode(format!("{USER}:{PASSWORD}")),
    ]
}

fn assert_clean(what: &str, text: &str) {
    for secret in forbidden() {
        assert!(!text.contains(&secret), "{what} shows `{secret}`: {text}");
    }
}

/// A careless partner with Basic auth that quotes our `Authorization` header in its 422s.
async fn careless_partner() -> anyhow::Result<FakePartner> {
    Ok(FakePartner::start(
        FakePartnerConfig::new()
            .basic_auth(USER, PASSWORD)
            .echo_credentials()
            .required_fields(["sku"]),
    )
    .await?)
}

fn partner_toml(fake: &FakePartner, password_ref: &str) -> String {
    format!(
        "[partners.careless]\nkind = \"http\"\norg = \"acme\"\nbase_url = \"{}\"\n\
         auth = {{ type = \"basic\", username = \"{USER}\", password_ref = \"{password_ref}\" }}\n",
        fake.base_url()
    )
}

/// A push the partner rejects (no `sku`) once, straight to the dead-letter queue.
fn rejected_push(org: switchyard_core::ids::OrgId) -> NewJob {
    NewJob::new(
        org,
        "partner.push",
        json!({"document": "order", "body": {"note": "no sku", "password": PAYLOAD_SECRET}}),
    )
    .partner("careless")
    .key("order-1")
    .retry(RetrySpec {
        policy: RetryPolicy::Immediate,
        max_attempts: 1,
    })
}

/// Everything stored about the failure, as text.
async fn stored_failure(pool: &sqlx::PgPool) -> anyhow::Result<String> {
    let (last_error, errors): (Option<String>, Value) =
        sqlx::query_as("SELECT last_error, errors FROM jobs WHERE idempotency_key = 'order-1'")
            .fetch_one(pool)
            .await?;
    let (reason, dl_errors): (String, Value) =
        sqlx::query_as("SELECT reason, errors FROM dead_letters")
            .fetch_one(pool)
            .await?;
    let logs: Vec<(Option<String>, Option<Value>)> = sqlx::query_as(
        "SELECT error_message, response_body FROM integration_logs WHERE partner = 'careless'",
    )
    .fetch_all(pool)
    .await?;
    assert!(!logs.is_empty(), "the exchange was logged");
    Ok(format!(
        "{last_error:?} {errors} {reason} {dl_errors} {logs:?}"
    ))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_echoed_credential_is_masked_in_stored_errors_logs_and_the_daemons_log_line(
) -> anyhow::Result<()> {
    let partner = careless_partner().await?;
    let prepared = TestDaemon::builder()
        .toml(&partner_toml(&partner, "env:CARELESS_PASSWORD"))
        .prepare()
        .await?;
    let org = prepared.org("acme").await?;
    prepared.queue().enqueue(rejected_push(org)).await?;
    let mut daemon = prepared.spawn(
        &["--no-api", "--no-scheduler"],
        &[("CARELESS_PASSWORD", PASSWORD)],
        "worker.log",
    )?;
    eventually(Duration::from_secs(30), "the dead letter", || {
        let pool = prepared.db.pool.clone();
        async move { Ok(count(&pool, "SELECT count(*) FROM dead_letters").await? == 1) }
    })
    .await
    .map_err(|e| anyhow::anyhow!("{e}\n--- daemon log ---\n{}", daemon.log_text()))?;
    daemon.terminate().await;

    // The partner really did echo our credentials: the masking is what keeps them out.
    let echoed = partner
        .deliveries()
        .into_iter()
        .find(|d| d.status == 422)
        .expect("a rejected delivery");
    assert!(echoed
        .headers
        .iter()
        .any(|(n, v)| n == "authorization" && v.starts_with("Basic ")));

    let stored = stored_failure(&prepared.db.pool).await?;
    assert_clean("the stored failure", &stored);
    assert!(
        stored.contains("request authorized as `Basic ***`"),
        "{stored}"
    );

    let log = daemon.log_text();
    assert!(log.contains("dead-letter queue"), "{log}");
    assert_clean("the daemon's log", &log);
    assert!(
        log.contains("Basic ***"),
        "the WARN line keeps the masked quote: {log}"
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_api_shows_job_and_dead_letter_payloads_masked() -> anyhow::Result<()> {
    let partner = careless_partner().await?;
    let daemon = TestDaemon::builder()
        .roles(Roles::default())
        .secret("secret:careless-password", PASSWORD)
        .toml(&partner_toml(&partner, "secret:careless-password"))
        .start()
        .await?;
    let org = daemon.org("acme").await?;
    let job = daemon.queue.enqueue(rejected_push(org)).await?.job;
    eventually(Duration::from_secs(30), "the dead letter", || {
        let pool = daemon.db.pool.clone();
        async move { Ok(count(&pool, "SELECT count(*) FROM dead_letters").await? == 1) }
    })
    .await?;
    let key = daemon
        .key("acme", &["read:jobs", "read:dead-letters", "read:logs"])
        .await?;

    let mut shown = String::new();
    for path in [
        format!("/api/v1/jobs/{}", job.id),
        "/api/v1/jobs".to_owned(),
        "/api/v1/dead-letters".to_owned(),
        "/api/v1/logs?partner=careless".to_owned(),
    ] {
        let (status, body) = daemon.call(Method::GET, &path, Some(&key), None).await?;
        assert_eq!(status, 200, "{path}: {body}");
        assert_clean(&path, &body.to_string());
        assert!(
            !body.to_string().contains(PAYLOAD_SECRET),
            "{path} shows the payload's password: {body}"
        );
        shown.push_str(&body.to_string());
    }
    let (_, one) = daemon
        .call(
            Method::GET,
            &format!("/api/v1/jobs/{}", job.id),
            Some(&key),
            None,
        )
        .await?;
    assert_eq!(one["payload"]["body"]["password"], "***");
    assert_eq!(
        one["payload"]["body"]["note"], "no sku",
        "only sensitive fields are masked"
    );

    // The worker got the real value: the partner received it.
    let sent = partner.deliveries().remove(0).body;
    assert_eq!(sent["password"], PAYLOAD_SECRET);
    // And the database keeps it for replays.
    let stored: Value = sqlx::query_scalar("SELECT payload FROM jobs WHERE id = $1")
        .bind(job.id.0)
        .fetch_one(&daemon.db.pool)
        .await?;
    assert_eq!(stored["body"]["password"], PAYLOAD_SECRET);
    assert!(shown.contains("***"));
    daemon.stop().await
}
