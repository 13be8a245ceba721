//! Outbound webhooks end to end (issue #16): the daemon (API and worker in process, a real
//! database) delivers the domain events its triggers record to a receiver on loopback over real
//! HTTP; signatures are checked by the reference implementation of Standard Webhooks
//! (`standardwebhooks` from PyPI, the script and pin the HTTP adapter's tests use, in a venv the
//! runtime's test kit builds; no python3 or no PyPI fails the test).
//!
//! Covered: the outbox is atomic (a rolled-back change records nothing) and every trigger's
//! payload is its documented struct; wildcard and explicit subscriptions; signatures the
//! library accepts, with both secrets during a rotation; a 503 with `Retry-After` sets the
//! retry no earlier than it says; 410 disables the endpoint, its delivery becomes a dead
//! letter (and no `dead_letter.created` event), and replaying it after a resume delivers the
//! same `webhook-id`; the delivery log masks the signature; tenants see only their own
//! endpoints and events; the API refuses plain http to hosts not allowed and unknown types;
//! the SSRF guard refuses private, metadata and loopback destinations at creation (a literal
//! address, or `localhost` resolved) and at delivery after resolution (an endpoint whose name
//! resolves to loopback by the time it is delivered to, as after DNS rebinding), and a
//! redirect to a private address is not followed.
//! Issue #16's second half: a receiver that never answers does not delay another endpoint's
//! deliveries (observed at the healthy receiver while the other still hangs); an endpoint
//! failing for the configured time is disabled with its event, a throttling one is not;
//! recover since a time, replays of one event and of failed deliveries; the PRD's signature
//! checked by Python's own `hmac`; the metrics.

use axum::extract::{Path as UrlPath, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use reqwest::Method;
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use switchyard_api::outbound::{check_data, EventType};
use switchyard_daemon::app::Roles;
use switchyard_e2e::{count, eventually, TestDaemon};

const WAIT: Duration = Duration::from_secs(30);

/// One request the receiver got.
#[derive(Debug, Clone)]
struct Received {
    headers: BTreeMap<String, String>,
    body: Vec<u8>,
    /// When it arrived (wall clock, to compare with the event's time).
    at: chrono::DateTime<chrono::Utc>,
}

#[derive(Default)]
struct Inbox {
    got: HashMap<String, Vec<Received>>,
    /// Scripted answers per path: (status, Retry-After); 200 once the script is used up.
    script: HashMap<String, VecDeque<(u16, Option<&'static str>)>>,
    /// The answer to every request on a path once its script is used up (instead of 200).
    always: HashMap<String, u16>,
    /// Paths answered with a 302 to the given location.
    redirects: HashMap<String, String>,
}

fn received(headers: &HeaderMap, body: &[u8]) -> Received {
    Received {
        headers: headers
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_str().unwrap_or_default().to_owned()))
            .collect(),
        body: body.to_vec(),
        at: chrono::Utc::now(),
    }
}

/// A webhook receiver on loopback: `POST /{name}` records the request and answers by script.
#[derive(Clone)]
struct Receiver {
    base: String,
    inbox: Arc<Mutex<Inbox>>,
}

impl Receiver {
    async fn start() -> Self {
        Self::start_on("127.0.0.1").await
    }

    /// On another loopback address (`127.0.0.2`: Linux routes all of 127/8 to the host).
    async fn start_on(ip: &str) -> Self {
        let inbox = Arc::new(Mutex::new(Inbox::default()));
        async fn take(
            State(inbox): State<Arc<Mutex<Inbox>>>,
            UrlPath(name): UrlPath<String>,
            headers: HeaderMap,
            body: axum::body::Bytes,
        ) -> axum::response::Response {
            let mut inbox = inbox.lock().unwrap();
            inbox
                .got
                .entry(name.clone())
                .or_default()
                .push(received(&headers, &body));
            let otherwise = inbox.always.get(&name).copied().unwrap_or(200);
            if let Some(to) = inbox.redirects.get(&name) {
                return (StatusCode::FOUND, [("location", to.clone())], "moved").into_response();
            }
            let (status, retry_after) = inbox
                .script
                .get_mut(&name)
                .and_then(VecDeque::pop_front)
                .unwrap_or((otherwise, None));
            let mut response = (StatusCode::from_u16(status).unwrap(), "answer").into_response();
            if let Some(r) = retry_after {
                response
                    .headers_mut()
                    .insert("retry-after", r.parse().unwrap());
            }
            response
        }
        /// Record the request under `hang:NAME` and never answer: the connection stays open
        /// until the test ends.
        async fn hang(
            State(inbox): State<Arc<Mutex<Inbox>>>,
            UrlPath(name): UrlPath<String>,
            headers: HeaderMap,
            body: axum::body::Bytes,
        ) -> StatusCode {
            inbox
                .lock()
                .unwrap()
                .got
                .entry(format!("hang:{name}"))
                .or_default()
                .push(received(&headers, &body));
            std::future::pending::<()>().await;
            StatusCode::OK
        }
        let app = axum::Router::new()
            .route("/{name}", axum::routing::post(take))
            .route("/hang/{name}", axum::routing::post(hang))
            .with_state(inbox.clone());
        let listener = tokio::net::TcpListener::bind((ip, 0)).await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        Self { base, inbox }
    }

    fn url(&self, name: &str) -> String {
        format!("{}/{name}", self.base)
    }

    fn always(&self, name: &str, status: Option<u16>) {
        let mut inbox = self.inbox.lock().unwrap();
        match status {
            Some(s) => inbox.always.insert(name.into(), s),
            None => inbox.always.remove(name),
        };
    }

    fn script(&self, name: &str, answers: &[(u16, Option<&'static str>)]) {
        self.inbox
            .lock()
            .unwrap()
            .script
            .insert(name.into(), answers.iter().copied().collect());
    }

    fn redirect(&self, name: &str, to: &str) {
        self.inbox
            .lock()
            .unwrap()
            .redirects
            .insert(name.into(), to.into());
    }

    fn got(&self, name: &str) -> Vec<Received> {
        self.inbox
            .lock()
            .unwrap()
            .got
            .get(name)
            .cloned()
            .unwrap_or_default()
    }

    async fn wait_for(&self, name: &str, n: usize) -> anyhow::Result<Vec<Received>> {
        eventually(WAIT, &format!("{n} deliveries to {name}"), || async {
            Ok(self.got(name).len() >= n)
        })
        .await?;
        Ok(self.got(name))
    }
}

// The receivers are on 127.0.0.1, which the SSRF guard refuses unless allowed.
const CONFIG: &str = "[webhooks]\nallow_http_hosts = [\"127.0.0.1\"]\nallow_private = [\"127.0.0.1\"]\nsecret_overlap_secs = 3600\ntimeout_ms = 5000\n";

async fn daemon() -> anyhow::Result<TestDaemon> {
    TestDaemon::builder()
        .toml(CONFIG)
        .roles(Roles::default())
        .start()
        .await
}

/// The reference implementation's answer for each (secret, received request).
fn verified(checks: &[(&str, &Received)]) -> Vec<Value> {
    let python = switchyard_runtime::testkit::python::venv(
        "webhooks-out",
        Path::new(env!("CARGO_TARGET_TMPDIR")),
        &repo().join("adapters/http/tests/independent/requirements.txt"),
        "standardwebhooks",
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let mut child = Command::new(python)
        .arg(repo().join("adapters/http/tests/independent/standard_webhooks.py"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run the oracle");
    {
        let stdin = child.stdin.as_mut().unwrap();
        for (secret, r) in checks {
            let req = json!({"op": "verify", "secret": secret, "headers": r.headers,
                             "body_b64": STANDARD.encode(&r.body)});
            writeln!(stdin, "{req}").unwrap();
        }
    }
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// `GET path` with `key`: the status and the body.
async fn get(d: &TestDaemon, key: &str, path: &str) -> anyhow::Result<(u16, Value)> {
    d.call(Method::GET, path, Some(key), None).await
}

/// Endpoint `id`'s delivery log once it holds `n` attempts: a receiver has its request before
/// the daemon has recorded the answer, so a test that saw the delivery waits for the row.
async fn attempt_log(d: &TestDaemon, key: &str, id: &str, n: usize) -> anyhow::Result<Value> {
    let path = format!("/api/v1/webhooks/{id}/attempts");
    let read = || async { anyhow::Ok(get(d, key, &path).await?.1) };
    eventually(
        WAIT,
        &format!("{n} attempts in the delivery log"),
        || async { Ok(read().await?["items"].as_array().map_or(0, Vec::len) >= n) },
    )
    .await?;
    // Rows are only ever added, so this read holds at least the `n` awaited.
    read().await
}

/// `POST path` without a body, with `key`.
async fn post(d: &TestDaemon, key: &str, path: &str) -> anyhow::Result<(u16, Value)> {
    d.call(Method::POST, path, Some(key), None).await
}

async fn create(d: &TestDaemon, key: &str, body: Value) -> anyhow::Result<Value> {
    let (status, endpoint) = d
        .call(Method::POST, "/api/v1/webhooks", Some(key), Some(body))
        .await?;
    anyhow::ensure!(status == 201, "create: {status} {endpoint}");
    Ok(endpoint)
}

#[tokio::test]
async fn events_reach_subscribers_signed_and_rotation_signs_with_both_secrets() -> anyhow::Result<()>
{
    let d = daemon().await?;
    let rx = Receiver::start().await;
    let org = d.org("acme").await?;
    let key = d.key("acme", &["write:webhooks"]).await?;
    let products = create(
        &d,
        &key,
        json!({"name": "catalog", "url": rx.url("catalog"), "events": ["product.*"]}),
    )
    .await?;
    create(
        &d,
        &key,
        json!({"name": "orders", "url": rx.url("orders"), "events": ["order.created"]}),
    )
    .await?;

    // Any write path records the event: here plain SQL, as a hand-written fix would.
    sqlx::query("INSERT INTO products (org_id, sku, name) VALUES ($1, 'A-1', 'Angle')")
        .bind(org.0)
        .execute(&d.db.pool)
        .await?;
    sqlx::query("UPDATE products SET name = 'Angle 2' WHERE org_id = $1 AND sku = 'A-1'")
        .bind(org.0)
        .execute(&d.db.pool)
        .await?;
    let got = rx.wait_for("catalog", 2).await?;
    let bodies: Vec<Value> = got
        .iter()
        .map(|r| serde_json::from_slice(&r.body).unwrap())
        .collect();
    let mut types: Vec<&str> = bodies
        .iter()
        .map(|b| b["event"].as_str().unwrap())
        .collect();
    types.sort();
    assert_eq!(types, ["product.created", "product.updated"]);
    let updated = bodies
        .iter()
        .find(|b| b["event"] == "product.updated")
        .unwrap();
    assert_eq!(
        updated["data"],
        json!({"sku": "A-1", "name": "Angle 2", "changed": ["name"]})
    );
    assert_eq!(updated["org_id"], json!(org.0));
    assert!(updated["timestamp"].is_string());
    // `order.created` only: nothing of the catalog went to the orders endpoint.
    assert!(rx.got("orders").is_empty());

    let secret = products["secret"].as_str().unwrap();
    assert!(secret.starts_with("whsec_"));
    let answers = verified(&[(secret, &got[0]), (secret, &got[1])]);
    assert!(answers.iter().all(|a| a["valid"] == true), "{answers:?}");
    // A changed body is refused by the library: the signature covers it.
    let mut tampered = got[0].clone();
    tampered.body.push(b' ');
    assert_eq!(verified(&[(secret, &tampered)])[0]["valid"], false);

    // Rotation: the new secret signs, and the old one still does during the overlap.
    let id = products["id"].as_str().unwrap();
    let (status, rotated) = post(&d, &key, &format!("/api/v1/webhooks/{id}/rotate-secret")).await?;
    assert_eq!(status, 200, "{rotated}");
    let new_secret = rotated["secret"].as_str().unwrap();
    assert_ne!(new_secret, secret);
    assert_eq!(rotated["previous_secret"], secret);
    let (status, sent) = d
        .call(
            Method::POST,
            &format!("/api/v1/webhooks/{id}/test"),
            Some(&key),
            Some(json!({"event_type": "inventory.updated"})),
        )
        .await?;
    assert_eq!(status, 202, "{sent}");
    let got = rx.wait_for("catalog", 3).await?;
    let sample = &got[2];
    assert_eq!(
        sample.headers["webhook-id"],
        sent["event_id"].as_str().unwrap()
    );
    assert_eq!(sample.headers["webhook-signature"].split(' ').count(), 2);
    let answers = verified(&[(new_secret, sample), (secret, sample)]);
    assert!(answers.iter().all(|a| a["valid"] == true), "{answers:?}");
    // The sample went to this endpoint only and is not a listed event.
    assert!(rx.got("orders").is_empty());

    // At rest both secrets are sealed (the daemon's `[secrets]` key): the row's bytes, as
    // Postgres holds them, contain neither secret, as text or as the key's bytes.
    let row: String = sqlx::query_scalar("SELECT w::text FROM webhook_endpoints w WHERE id = $1")
        .bind(uuid::Uuid::parse_str(id)?)
        .fetch_one(&d.db.pool)
        .await?;
    for s in [secret, new_secret] {
        let b64 = s.strip_prefix("whsec_").unwrap();
        let raw = STANDARD.decode(b64)?;
        let hex: String = raw.iter().map(|b| format!("{b:02x}")).collect();
        assert!(!row.contains(b64) && !row.contains(&hex), "{row}");
    }
    let sealed: bool = sqlx::query_scalar(
        "SELECT secret IS NULL AND previous_secret IS NULL AND secret_sealed IS NOT NULL
                AND previous_secret_sealed IS NOT NULL
         FROM webhook_endpoints WHERE id = $1",
    )
    .bind(uuid::Uuid::parse_str(id)?)
    .fetch_one(&d.db.pool)
    .await?;
    assert!(sealed, "{row}");

    // The delivery log: every attempt, the signature masked.
    let log = attempt_log(&d, &key, id, 3).await?;
    let items = log["items"].as_array().unwrap();
    assert_eq!(items.len(), 3, "{log}");
    assert!(items
        .iter()
        .all(|a| a["outcome"] == "succeeded" && a["http_status"] == 200));
    assert!(!log.to_string().contains(
        sample.headers["webhook-signature"]
            .split(' ')
            .next()
            .unwrap()
    ));
    assert!(items[0]["request_headers"]["webhook-signature"]
        .as_str()
        .unwrap()
        .contains("***"));

    d.stop().await
}

#[tokio::test]
async fn retry_after_is_a_floor_410_disables_and_the_dead_letter_replays() -> anyhow::Result<()> {
    let d = daemon().await?;
    let rx = Receiver::start().await;
    let org = d.org("acme").await?;
    let key = d
        .key(
            "acme",
            &["write:webhooks", "write:dead-letters", "write:jobs"],
        )
        .await?;
    let endpoint = create(
        &d,
        &key,
        json!({"name": "orders", "url": rx.url("orders"),
        "events": ["order.*"], "retry_policy": "immediate", "max_retries": 3}),
    )
    .await?;
    let id = endpoint["id"].as_str().unwrap();
    // First a 503 asking for two minutes, then 410 Gone.
    rx.script("orders", &[(503, Some("120")), (410, None)]);

    sqlx::query("INSERT INTO customers (org_id, customer_id, name) VALUES ($1, 'C1', 'Buyer')")
        .bind(org.0)
        .execute(&d.db.pool)
        .await?;
    sqlx::query(
        "INSERT INTO orders (id, org_id, order_number, customer_id, customer_po, status, canonical, source)
         VALUES ($1, $2, 'SO-1', 'C1', 'PO-1', 'confirmed', '{}', 'api')",
    )
    .bind(uuid::Uuid::now_v7())
    .bind(org.0)
    .execute(&d.db.pool)
    .await?;
    rx.wait_for("orders", 1).await?;
    // The retry waits at least what Retry-After said (the immediate policy alone says 5 s).
    let job = "kind = 'webhook.deliver'";
    eventually(WAIT, "the delivery to be retrying", || async {
        Ok(count(
            &d.db.pool,
            &format!("SELECT count(*) FROM jobs WHERE {job} AND state = 'retrying'"),
        )
        .await?
            == 1)
    })
    .await?;
    let wait: f64 = sqlx::query_scalar(&format!(
        "SELECT extract(epoch FROM run_at - updated_at)::float8 FROM jobs WHERE {job}"
    ))
    .fetch_one(&d.db.pool)
    .await?;
    assert!(wait >= 119.0, "retry in {wait} s");
    // Retry now (the admin's button): the receiver answers 410.
    let job_id: uuid::Uuid = sqlx::query_scalar(&format!("SELECT id FROM jobs WHERE {job}"))
        .fetch_one(&d.db.pool)
        .await?;
    let (status, body) = post(&d, &key, &format!("/api/v1/retry-queue/{job_id}/retry")).await?;
    assert!(status < 300, "{status} {body}");
    rx.wait_for("orders", 2).await?;
    eventually(WAIT, "the endpoint to be disabled", || async {
        let (_, e) = get(&d, &key, &format!("/api/v1/webhooks/{id}")).await?;
        Ok(e["status"] == "disabled")
    })
    .await?;
    eventually(WAIT, "the dead letter", || async {
        Ok(count(
            &d.db.pool,
            "SELECT count(*) FROM dead_letters WHERE kind = 'webhook.deliver'",
        )
        .await?
            == 1)
    })
    .await?;
    // A failed delivery records no dead_letter.created (it would loop).
    assert_eq!(
        count(
            &d.db.pool,
            "SELECT count(*) FROM events WHERE type = 'dead_letter.created'"
        )
        .await?,
        0
    );

    // Resume, replay the dead letter: the same event (same webhook-id) arrives.
    let (status, _) = post(&d, &key, &format!("/api/v1/webhooks/{id}/resume")).await?;
    assert_eq!(status, 200);
    let dead: uuid::Uuid =
        sqlx::query_scalar("SELECT id FROM dead_letters WHERE kind = 'webhook.deliver'")
            .fetch_one(&d.db.pool)
            .await?;
    let (status, body) = post(&d, &key, &format!("/api/v1/dead-letters/{dead}/replay")).await?;
    assert_eq!(status, 201, "{body}");
    let got = rx.wait_for("orders", 3).await?;
    assert_eq!(got[2].headers["webhook-id"], got[0].headers["webhook-id"]);
    let payload: Value = serde_json::from_slice(&got[2].body)?;
    assert_eq!(payload["event"], "order.created");

    let log = attempt_log(&d, &key, id, 3).await?;
    let statuses: Vec<i64> = log["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["http_status"].as_i64().unwrap())
        .collect();
    assert_eq!(statuses, [200, 410, 503], "newest first");
    d.stop().await
}

#[tokio::test]
async fn the_outbox_is_atomic_and_payloads_match_their_schemas() -> anyhow::Result<()> {
    let d = daemon().await?;
    let org = d.org("acme").await?;
    let pool = &d.db.pool;

    // A rolled-back change records nothing.
    let mut tx = switchyard_store::begin(pool).await?;
    sqlx::query("INSERT INTO products (org_id, sku, name) VALUES ($1, 'R-1', 'Rolled back')")
        .bind(org.0)
        .execute(&mut *tx)
        .await?;
    assert_eq!(
        sqlx::query_scalar::<_, i64>("SELECT count(*) FROM events")
            .fetch_one(&mut *tx)
            .await?,
        1,
        "the event is written in the change's own transaction"
    );
    tx.rollback().await?;
    assert_eq!(count(pool, "SELECT count(*) FROM events").await?, 0);

    // One of each: product, inventory, price, order, dead letter.
    for sql in [
        "INSERT INTO products (org_id, sku, name) VALUES ($1, 'P-1', 'Plate')",
        "UPDATE products SET deleted_at = now() WHERE org_id = $1 AND sku = 'P-1'",
        "INSERT INTO inventory_locations (org_id, code, name) VALUES ($1, 'MAIN', 'Main')",
        "INSERT INTO inventory_levels (org_id, sku, location, on_hand, low_stock_threshold) VALUES ($1, 'P-1', 'MAIN', 12.5, 20)",
        "INSERT INTO price_lists (org_id, price_list_id, name, currency) VALUES ($1, 'L', 'List', 'USD')",
        "INSERT INTO list_prices (org_id, price_list_id, sku, uom, amount) VALUES ($1, 'L', 'P-1', 'EA', 10)",
        "INSERT INTO customers (org_id, customer_id, name) VALUES ($1, 'C1', 'Buyer')",
        "INSERT INTO orders (id, org_id, order_number, customer_id, customer_po, status, canonical, source)
         VALUES ('018f0000-0000-7000-8000-000000000001', $1, 'SO-1', 'C1', 'PO-1', 'confirmed', '{}', 'api')",
        "UPDATE orders SET status = 'cancelled' WHERE org_id = $1",
        "INSERT INTO jobs (id, org_id, kind, payload, max_attempts, retry_policy, created_at, updated_at)
         VALUES ('018f0000-0000-7000-8000-000000000002', $1, 'noop', '{}', 1, 'manual', now(), now())",
        "INSERT INTO dead_letters (id, job_id, org_id, kind, payload, reason, error_class, errors, attempts, created_at, updated_at)
         VALUES (gen_random_uuid(), '018f0000-0000-7000-8000-000000000002', $1, 'noop', '{}', 'broken', 'permanent', '[]', 1, now(), now())",
        // EDI: an inbound interchange received, then failing validation (once: staying in
        // `error` records nothing more); an outbound one the partner's 997 rejects.
        "INSERT INTO edi_messages (id, org_id, partner, direction, standard, message_types, sender_id,
                                   receiver_id, interchange_control, status, raw, file_name)
         VALUES ('018f0000-0000-7000-8000-000000000003', $1, 'acme-edi', 'inbound', 'x12', '{850}',
                 'ACME', 'US', '000000101', 'received', convert_to('ISA*00', 'UTF8'), 'po-101.edi')",
        "UPDATE edi_messages SET status = 'error', errors = '[\"PO1: PO102 is required\"]'
         WHERE org_id = $1 AND id = '018f0000-0000-7000-8000-000000000003'",
        "UPDATE edi_messages SET status = 'error', errors = '[\"PO1: PO102 is required\", \"again\"]'
         WHERE org_id = $1 AND id = '018f0000-0000-7000-8000-000000000003'",
        "INSERT INTO edi_messages (id, org_id, partner, direction, standard, message_types, sender_id,
                                   receiver_id, interchange_control, status, raw)
         VALUES ('018f0000-0000-7000-8000-000000000004', $1, 'acme-edi', 'outbound', 'x12', '{810}',
                 'US', 'ACME', '000000007', 'sent', convert_to('ISA*00', 'UTF8'))",
        "UPDATE edi_messages SET status = 'error', errors = '[\"AK5*R: rejected\"]'
         WHERE org_id = $1 AND id = '018f0000-0000-7000-8000-000000000004'",
    ] {
        sqlx::query(sql).bind(org.0).execute(pool).await.map_err(|e| anyhow::anyhow!("{sql}: {e}"))?;
    }
    // By the microsecond clock first: ids share a millisecond when one statement records two
    // events (a level's `inventory.updated` and `inventory.low`), and then their order is random.
    let rows: Vec<(String, Value)> =
        sqlx::query_as("SELECT type, data FROM events ORDER BY occurred_at, id")
            .fetch_all(pool)
            .await?;
    let types: Vec<&str> = rows.iter().map(|(t, _)| t.as_str()).collect();
    assert_eq!(
        types,
        [
            "product.created",
            "product.deleted",
            // The tombstone reaches the product's prices too (the change feed's rule, 0011).
            "price.updated",
            "inventory.updated",
            "inventory.low",
            "price.updated",
            "order.created",
            "order.cancelled",
            "dead_letter.created",
            "edi.message.received",
            "edi.message.failed",
            "edi.message.failed",
        ]
    );
    for (t, data) in &rows {
        let ty = EventType::parse(t).unwrap();
        check_data(ty, data).unwrap_or_else(|e| panic!("{t}: {e}: {data}"));
    }
    assert_eq!(rows[3].1["on_hand"], "12.5");
    assert_eq!(
        rows[4].1,
        json!({"sku": "P-1", "location": "MAIN", "available": "12.5", "threshold": "20"})
    );
    assert_eq!(rows[7].1["previous_status"], "confirmed");
    assert_eq!(
        rows[9].1,
        json!({"message_id": "018f0000-0000-7000-8000-000000000003", "partner": "acme-edi",
               "standard": "x12", "message_types": ["850"], "sender_id": "ACME",
               "receiver_id": "US", "interchange_control": "000000101", "status": "received",
               "file_name": "po-101.edi", "duplicate_of": null})
    );
    assert_eq!(rows[10].1["direction"], "inbound");
    assert_eq!(rows[10].1["previous_status"], "received");
    assert_eq!(rows[10].1["errors"], json!(["PO1: PO102 is required"]));
    assert_eq!(rows[11].1["direction"], "outbound");
    assert_eq!(rows[11].1["message_types"], json!(["810"]));
    assert_eq!(rows[11].1["errors"], json!(["AK5*R: rejected"]));
    d.stop().await
}

#[tokio::test]
async fn tenants_see_only_their_own_and_bad_settings_are_refused() -> anyhow::Result<()> {
    let d = daemon().await?;
    let acme = d.org("acme").await?;
    d.org("globex").await?;
    let a = d.key("acme", &["write:webhooks"]).await?;
    let g = d.key("globex", &["write:webhooks"]).await?;
    let endpoint = create(
        &d,
        &a,
        json!({"name": "x", "url": "https://example.com/hook", "events": ["*"]}),
    )
    .await?;
    let id = endpoint["id"].as_str().unwrap();
    sqlx::query("INSERT INTO products (org_id, sku, name) VALUES ($1, 'A-1', 'Angle')")
        .bind(acme.0)
        .execute(&d.db.pool)
        .await?;

    for (method, path) in [
        (Method::GET, format!("/api/v1/webhooks/{id}")),
        (Method::GET, format!("/api/v1/webhooks/{id}/attempts")),
        (Method::POST, format!("/api/v1/webhooks/{id}/pause")),
        (Method::POST, format!("/api/v1/webhooks/{id}/test")),
        (Method::DELETE, format!("/api/v1/webhooks/{id}")),
    ] {
        let (status, _) = d.call(method.clone(), &path, Some(&g), None).await?;
        assert_eq!(status, 404, "{method} {path}");
    }
    let (_, list) = d
        .call(Method::GET, "/api/v1/webhooks", Some(&g), None)
        .await?;
    assert_eq!(list["items"], json!([]));
    let (_, events) = d
        .call(Method::GET, "/api/v1/events", Some(&g), None)
        .await?;
    assert_eq!(events["items"], json!([]));
    let (_, events) = d
        .call(Method::GET, "/api/v1/events?type=product.*", Some(&a), None)
        .await?;
    assert_eq!(events["items"][0]["type"], "product.created");
    assert_eq!(events["items"][0]["data"]["sku"], "A-1");

    for (body, field) in [
        (
            json!({"name": "x", "url": "http://example.com/hook", "events": ["*"]}),
            "url",
        ),
        (
            json!({"name": "x", "url": "ftp://example.com/hook", "events": ["*"]}),
            "url",
        ),
        (
            json!({"name": "x", "url": "https://u:p@example.com/", "events": ["*"]}),
            "url",
        ),
        (
            json!({"name": "x", "url": "https://example.com/", "events": ["order.shipped"]}),
            "events",
        ),
        (
            json!({"name": "x", "url": "https://example.com/", "events": ["nope.*"]}),
            "events",
        ),
        (
            json!({"name": "x", "url": "https://example.com/", "events": ["*"], "headers": {"webhook-id": "1"}}),
            "headers",
        ),
        (
            json!({"name": " ", "url": "https://example.com/", "events": ["*"]}),
            "name",
        ),
    ] {
        let (status, err) = d
            .call(
                Method::POST,
                "/api/v1/webhooks",
                Some(&a),
                Some(body.clone()),
            )
            .await?;
        assert_eq!(status, 422, "{body}: {err}");
        assert!(
            err["error"]["message"].as_str().unwrap().starts_with(field),
            "{body}: {err}"
        );
    }
    d.stop().await
}

/// The `webhook-id`s of the requests `name` received after its first `from`.
fn ids_after(rx: &Receiver, name: &str, from: usize) -> Vec<String> {
    rx.got(name)[from..]
        .iter()
        .map(|r| r.headers["webhook-id"].clone())
        .collect()
}

/// The value of `name`'s series with these labels in a Prometheus text (0 when absent).
fn metric(text: &str, name: &str, labels: &[(&str, &str)]) -> f64 {
    text.lines()
        .filter(|l| l.starts_with(&format!("{name}{{")))
        .find(|l| {
            labels
                .iter()
                .all(|(k, v)| l.contains(&format!("{k}=\"{v}\"")))
        })
        .and_then(|l| l.rsplit(' ').next()?.parse().ok())
        .unwrap_or(0.0)
}

/// The daemon's `/metrics` text.
async fn metrics_text(d: &TestDaemon) -> anyhow::Result<String> {
    Ok(d.http
        .get(format!("{}/metrics", d.api()))
        .send()
        .await?
        .text()
        .await?)
}

/// One product written per statement: `product.created` each, fanned out to the subscribers.
async fn products(
    d: &TestDaemon,
    org: switchyard_core::ids::OrgId,
    prefix: &str,
    n: usize,
) -> anyhow::Result<()> {
    for i in 0..n {
        sqlx::query("INSERT INTO products (org_id, sku, name) VALUES ($1, $2, 'Thing')")
            .bind(org.0)
            .bind(format!("{prefix}-{i}"))
            .execute(&d.db.pool)
            .await?;
    }
    Ok(())
}

#[tokio::test]
async fn a_receiver_that_never_answers_does_not_delay_the_others() -> anyhow::Result<()> {
    // Eight worker slots: without the per-endpoint gate, the hanging receiver's backlog of 30
    // would hold all eight for the whole (minute-long) timeout and the healthy one would wait.
    let d = TestDaemon::builder()
        .toml(
            "[webhooks]\nallow_http_hosts = [\"127.0.0.1\"]\nallow_private = [\"127.0.0.1\"]\ntimeout_ms = 60000\n\
             [queue]\nconcurrency = 8\nshutdown_grace_secs = 1\n",
        )
        .roles(Roles::default())
        .start()
        .await?;
    let rx = Receiver::start().await;
    let org = d.org("acme").await?;
    let key = d.key("acme", &["write:webhooks"]).await?;
    let stuck = create(
        &d,
        &key,
        json!({"name": "stuck", "url": format!("{}/hang/stuck", rx.base),
               "events": ["product.*"], "max_in_flight": 2}),
    )
    .await?;
    assert_eq!(stuck["max_in_flight"], 2);
    let healthy = create(
        &d,
        &key,
        json!({"name": "healthy", "url": rx.url("healthy"), "events": ["product.*"]}),
    )
    .await?;
    assert_eq!(healthy["max_in_flight"], 4, "the documented default");

    // The hanging receiver's backlog first, then events both endpoints get.
    products(&d, org, "BACKLOG", 10).await?;
    eventually(
        WAIT,
        "the stuck receiver to hold its two requests",
        || async { Ok(rx.got("hang:stuck").len() == 2) },
    )
    .await?;
    const N: usize = 20;
    products(&d, org, "LIVE", N).await?;
    let got = rx.wait_for("healthy", 10 + N).await?;
    // Every event reached the healthy receiver soon after it was recorded, measured at the
    // receiver: the bound is generous for a loaded two-core machine, and far below the
    // minute the stuck receiver holds its slots.
    for r in &got {
        let body: Value = serde_json::from_slice(&r.body)?;
        let recorded: chrono::DateTime<chrono::Utc> =
            body["timestamp"].as_str().unwrap().parse()?;
        let latency = (r.at - recorded).to_std().unwrap_or_default();
        assert!(
            latency < Duration::from_secs(5),
            "{} arrived {latency:?} after it was recorded",
            body["data"]["sku"]
        );
    }
    // ... while the stuck one still hangs with exactly its limit in flight: the rest of its
    // backlog waits in the queue, not in worker slots, and has used none of its attempts.
    assert_eq!(rx.got("hang:stuck").len(), 2);
    let stuck_id = stuck["id"].as_str().unwrap();
    // (A deferred delivery is briefly `running` while the gate turns it away: polled until
    // none is.)
    let sql = format!(
        "SELECT count(*) FILTER (WHERE state = 'pending' AND attempts = 0 AND last_error IS NULL)
                * 1000 + count(*) FILTER (WHERE state = 'running')
         FROM jobs WHERE kind = 'webhook.deliver' AND payload->>'endpoint' = '{stuck_id}'"
    );
    eventually(
        WAIT,
        "the stuck endpoint's backlog waiting unattempted, two running",
        || async { Ok(count(&d.db.pool, &sql).await? == (10 + N as i64 - 2) * 1000 + 2) },
    )
    .await?;

    // The deferrals are counted by endpoint and outcome on /metrics.
    let metrics = metrics_text(&d).await?;
    let deliveries = "switchyard_webhook_deliveries_total";
    assert!(
        metric(
            &metrics,
            deliveries,
            &[("endpoint", stuck_id), ("outcome", "deferred")]
        ) >= 1.0
    );
    let healthy_id = healthy["id"].as_str().unwrap();
    assert_eq!(
        metric(
            &metrics,
            deliveries,
            &[("endpoint", healthy_id), ("outcome", "succeeded")]
        ),
        (10 + N) as f64
    );
    assert!(metrics.contains("switchyard_webhook_delivery_latency_seconds_count"));
    d.stop().await
}

#[tokio::test]
async fn a_failing_endpoint_is_disabled_a_throttled_one_is_not_and_recovery_resends(
) -> anyhow::Result<()> {
    let d = TestDaemon::builder()
        .toml(
            "[webhooks]\nallow_http_hosts = [\"127.0.0.1\"]\nallow_private = [\"127.0.0.1\"]\ntimeout_ms = 5000\ndisable_after_secs = 2\n",
        )
        .roles(Roles::default())
        .start()
        .await?;
    let rx = Receiver::start().await;
    let org = d.org("acme").await?;
    let key = d.key("acme", &["write:webhooks", "read:webhooks"]).await?;
    let one_try = |name: &str, events: &str| json!({"name": name, "url": rx.url(name), "events": [events], "max_retries": 0});
    let erp = create(&d, &key, one_try("erp", "product.*")).await?;
    let busy = create(&d, &key, one_try("busy", "product.*")).await?;
    let ops = create(&d, &key, one_try("ops", "webhook.*")).await?;
    let (erp_id, busy_id) = (erp["id"].as_str().unwrap(), busy["id"].as_str().unwrap());
    rx.always("erp", Some(500));
    rx.always("busy", Some(503));
    let start = chrono::Utc::now();

    // Events keep coming until the failing endpoint is disabled (2 s after its first failure).
    let mut written = 0;
    let deadline = std::time::Instant::now() + WAIT;
    loop {
        let (_, e) = get(&d, &key, &format!("/api/v1/webhooks/{erp_id}")).await?;
        if e["status"] == "disabled" {
            assert!(
                e["status_reason"]
                    .as_str()
                    .unwrap()
                    .contains("every delivery failed since"),
                "{e}"
            );
            break;
        }
        anyhow::ensure!(
            std::time::Instant::now() < deadline,
            "erp never disabled: {e}"
        );
        products(&d, org, &format!("P{written}"), 1).await?;
        written += 1;
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // Its event went to the endpoint subscribed to `webhook.*`, with the documented payload.
    let notice = rx.wait_for("ops", 1).await?;
    let body: Value = serde_json::from_slice(&notice[0].body)?;
    assert_eq!(body["event"], "webhook.endpoint.disabled");
    assert_eq!(body["data"]["endpoint_id"], erp_id);
    check_data(EventType::WebhookEndpointDisabled, &body["data"]).map_err(anyhow::Error::msg)?;
    // The integration log says so too (its writer batches: polled).
    eventually(WAIT, "the disabling in the integration log", || async {
        Ok(count(
            &d.db.pool,
            "SELECT count(*) FROM integration_logs WHERE event_type = 'webhook.endpoint.disabled' AND partner = 'webhook:erp'",
        )
        .await? == 1)
    })
    .await?;
    // The throttled one (503 on everything, for as long) is still active with no failing
    // streak: 503s do not even start one.
    let (_, b) = get(&d, &key, &format!("/api/v1/webhooks/{busy_id}")).await?;
    assert!(rx.got("busy").len() >= 2, "the busy endpoint was tried");
    assert_eq!(b["status"], "active", "{b}");
    assert_eq!(b["failing_since"], Value::Null);
    rx.always("busy", None);
    let metrics = metrics_text(&d).await?;
    assert!(
        metric(
            &metrics,
            "switchyard_webhook_endpoints_disabled_total",
            &[("reason", "failing")]
        ) >= 1.0,
        "no disabled count in /metrics"
    );

    // Recover since the start, the receiver healthy again: every product event since then is
    // sent again, and the endpoint is active.
    rx.always("erp", None);
    let before = rx.got("erp").len();
    let (status, r) = d
        .call(
            Method::POST,
            &format!("/api/v1/webhooks/{erp_id}/recover"),
            Some(&key),
            Some(json!({"since": start})),
        )
        .await?;
    assert_eq!(status, 202, "{r}");
    let events: Vec<String> = sqlx::query_scalar(
        "SELECT id::text FROM events WHERE org_id = $1 AND type LIKE 'product.%' AND occurred_at >= $2 ORDER BY id",
    )
    .bind(org.0)
    .bind(start)
    .fetch_all(&d.db.pool)
    .await?;
    assert_eq!(events.len(), written);
    assert_eq!(r["queued"], written);
    // (Deliveries of the first round still waiting in the queue are sent too now that the
    // endpoint is active again: the same ids, so compared as a set.)
    eventually(
        WAIT,
        "every event since the start at the recovered receiver",
        || async {
            let mut resent = ids_after(&rx, "erp", before);
            resent.sort();
            resent.dedup();
            Ok(resent == events)
        },
    )
    .await?;
    let (_, e) = get(&d, &key, &format!("/api/v1/webhooks/{erp_id}")).await?;
    assert_eq!(e["status"], "active");

    // Replay every failed delivery of the throttled endpoint since the start, now that it
    // answers: each event once more, and nothing that is not failed.
    eventually(WAIT, "the busy endpoint's deliveries to end", || async {
        Ok(count(
            &d.db.pool,
            &format!("SELECT count(*) FROM jobs WHERE payload->>'endpoint' = '{busy_id}' AND state IN ('pending', 'running', 'retrying')"),
        )
        .await? == 0)
    })
    .await?;
    let failed = count(
        &d.db.pool,
        &format!(
            "SELECT count(DISTINCT event_id) FROM webhook_attempts a WHERE endpoint_id = '{busy_id}' AND outcome = 'failed'
               AND NOT EXISTS (SELECT 1 FROM webhook_attempts s WHERE s.endpoint_id = a.endpoint_id
                               AND s.event_id = a.event_id AND s.outcome = 'succeeded')"
        ),
    )
    .await?;
    assert!(failed >= 1, "the busy endpoint had failed deliveries");
    let before = rx.got("busy").len();
    let (status, r) = d
        .call(
            Method::POST,
            &format!("/api/v1/webhooks/{busy_id}/replay"),
            Some(&key),
            Some(json!({"failed_since": start})),
        )
        .await?;
    assert_eq!(status, 202, "{r}");
    assert_eq!(r["queued"], failed, "{r}");
    rx.wait_for("busy", before + failed as usize).await?;
    // Once delivered, nothing is left to replay.
    eventually(WAIT, "the replays to be recorded", || async {
        let (_, r) = d
            .call(
                Method::POST,
                &format!("/api/v1/webhooks/{busy_id}/replay"),
                Some(&key),
                Some(json!({"failed_since": start})),
            )
            .await?;
        Ok(r["queued"] == 0)
    })
    .await?;
    // Neither or both: refused, naming what to give.
    let (status, r) = d
        .call(
            Method::POST,
            &format!("/api/v1/webhooks/{busy_id}/replay"),
            Some(&key),
            Some(json!({})),
        )
        .await?;
    assert_eq!(status, 422, "{r}");

    // One event to every endpoint subscribed to it: erp and busy, not ops.
    let (erp_n, busy_n, ops_n) = (
        rx.got("erp").len(),
        rx.got("busy").len(),
        rx.got("ops").len(),
    );
    let (status, r) = post(&d, &key, &format!("/api/v1/events/{}/replay", events[0])).await?;
    assert_eq!(status, 202, "{r}");
    assert_eq!(r["queued"], 2);
    assert_eq!(
        rx.wait_for("erp", erp_n + 1).await?.last().unwrap().headers["webhook-id"],
        events[0]
    );
    assert_eq!(
        rx.wait_for("busy", busy_n + 1)
            .await?
            .last()
            .unwrap()
            .headers["webhook-id"],
        events[0]
    );
    // One event to one endpoint, whatever it subscribes to.
    let (status, r) = d
        .call(
            Method::POST,
            &format!("/api/v1/webhooks/{}/replay", ops["id"].as_str().unwrap()),
            Some(&key),
            Some(json!({"event_id": events[1]})),
        )
        .await?;
    assert_eq!(status, 202, "{r}");
    assert_eq!(
        rx.wait_for("ops", ops_n + 1).await?.last().unwrap().headers["webhook-id"],
        events[1]
    );
    // Another organization's event is not found.
    let other = d.key("other", &["write:webhooks"]).await?;
    let (status, _) = post(&d, &other, &format!("/api/v1/events/{}/replay", events[0])).await?;
    assert_eq!(status, 404);
    d.stop().await
}

#[tokio::test]
async fn the_prd_signature_option_verifies_with_pythons_hmac() -> anyhow::Result<()> {
    let d = daemon().await?;
    let rx = Receiver::start().await;
    let key = d.key("acme", &["write:webhooks"]).await?;
    let e = create(
        &d,
        &key,
        json!({"name": "prd", "url": rx.url("prd"), "events": ["order.*"], "prd_signature": true}),
    )
    .await?;
    let id = e["id"].as_str().unwrap();
    let (status, sent) = post(&d, &key, &format!("/api/v1/webhooks/{id}/test")).await?;
    assert_eq!(status, 202, "{sent}");
    let got = rx.wait_for("prd", 1).await?;
    let r = &got[0];
    assert_eq!(r.headers["x-switchyard-event"], "order.created");
    assert_eq!(
        r.headers["x-switchyard-delivery-id"],
        sent["job_id"].as_str().unwrap()
    );
    let secret = e["secret"].as_str().unwrap();
    // Python's own hmac, the key the secret as shown: the receiver's side of the PRD.
    let script = "import hmac, hashlib, sys\n\
                  key, sig = sys.argv[1].encode(), sys.argv[2]\n\
                  body = sys.stdin.buffer.read()\n\
                  want = 'sha256=' + hmac.new(key, body, hashlib.sha256).hexdigest()\n\
                  print('valid' if hmac.compare_digest(want, sig) else 'invalid: ' + want)\n";
    let check = |body: &[u8]| -> anyhow::Result<String> {
        let mut child = Command::new("python3")
            .args(["-c", script, secret, &r.headers["x-switchyard-signature"]])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()?;
        child.stdin.take().unwrap().write_all(body)?;
        let out = child.wait_with_output()?;
        anyhow::ensure!(out.status.success(), "python3 failed");
        Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
    };
    assert_eq!(check(&r.body)?, "valid");
    let mut tampered = r.body.clone();
    tampered.push(b' ');
    assert!(check(&tampered)?.starts_with("invalid"));
    // Standard Webhooks' headers are still there, and the log masks the PRD signature too.
    assert!(r.headers["webhook-signature"].starts_with("v1,"));
    let log = attempt_log(&d, &key, id, 1).await?;
    assert_eq!(
        log["items"][0]["request_headers"]["x-switchyard-signature"],
        "sha256=***"
    );
    // A custom header may not pose as one of the hub's.
    let (status, body) = d
        .call(
            Method::POST,
            "/api/v1/webhooks",
            Some(&key),
            Some(json!({"name": "x", "url": rx.url("x"), "events": ["*"],
                        "headers": {"X-Switchyard-Event": "forged"}})),
        )
        .await?;
    assert_eq!(status, 422, "{body}");
    d.stop().await
}

#[tokio::test]
async fn the_ssrf_guard_refuses_private_destinations_at_creation_and_at_delivery(
) -> anyhow::Result<()> {
    // Only 127.0.0.3 is allowed here, so `localhost` (127.0.0.1) is refused like any
    // loopback name.
    let d = TestDaemon::builder()
        .toml("[webhooks]\nallow_http_hosts = [\"127.0.0.3\"]\nallow_private = [\"127.0.0.3\"]\ntimeout_ms = 5000\n")
        .roles(Roles::default())
        .start()
        .await?;
    let rx = Receiver::start_on("127.0.0.3").await;
    // A second receiver on another loopback address, which `allow_private` does not list.
    let private = Receiver::start_on("127.0.0.2").await;
    let org = d.org("acme").await?;
    let key = d.key("acme", &["write:webhooks"]).await?;

    // At creation: an address in the URL, or a name resolving to one (`localhost`, through
    // the system resolver), that is loopback, private or metadata, named in the refusal.
    for (url, address, range) in [
        (
            "https://169.254.169.254/latest/meta-data",
            "169.254.169.254",
            "cloud metadata",
        ),
        ("https://10.0.0.7/hook", "10.0.0.7", "private"),
        (
            "https://[::ffff:192.168.1.1]/hook",
            "::ffff:192.168.1.1",
            "private",
        ),
        (
            "https://[fd00:ec2::254]/",
            "fd00:ec2::254",
            "cloud metadata",
        ),
        ("https://100.64.0.1/", "100.64.0.1", "carrier-grade NAT"),
        ("https://127.0.0.2/hook", "127.0.0.2", "loopback"),
        ("https://localhost:9/hook", "resolves to", "loopback"),
    ] {
        let (status, err) = d
            .call(
                Method::POST,
                "/api/v1/webhooks",
                Some(&key),
                Some(json!({"name": "x", "url": url, "events": ["*"]})),
            )
            .await?;
        assert_eq!(status, 422, "{url}: {err}");
        let message = err["error"]["message"].as_str().unwrap();
        assert!(message.starts_with("url: "), "{message}");
        for part in [url, address, range, "allow_private"] {
            assert!(message.contains(part), "{url}: `{part}` not in {message}");
        }
        assert_eq!(err["error"]["details"]["field"], "url", "{err}");
    }
    // The allowed address passes.
    let allowed = create(
        &d,
        &key,
        json!({"name": "allowed", "url": rx.url("allowed"), "events": ["product.*"]}),
    )
    .await?;

    // At delivery: `localhost` resolves to loopback by the time the delivery runs (an
    // endpoint stored before, as a DNS rebinding would leave it: the API's check saw a public
    // address). The guard refuses after resolution and nothing reaches the receiver.
    let port = rx.base.rsplit(':').next().unwrap();
    let rebound = switchyard_store::webhook_endpoints::create(
        &d.db.pool,
        org,
        &switchyard_store::webhook_endpoints::EndpointSettings {
            name: "rebound".into(),
            url: format!("http://localhost:{port}/rebound"),
            events: vec!["product.*".into()],
            retry_policy: switchyard_store::queue::RetryPolicy::Manual,
            max_retries: 0,
            headers: json!({}),
            max_in_flight: switchyard_store::webhook_endpoints::DEFAULT_MAX_IN_FLIGHT,
            rate_limit_per_sec: None,
            prd_signature: false,
        },
        switchyard_store::webhook_endpoints::EndpointStatus::Active,
        &switchyard_store::webhook_endpoints::new_secret(),
        &switchyard_store::sealing::Sealing::default(),
        chrono::Utc::now(),
    )
    .await?;
    // A redirect to a private address is not followed (the receiver answers 302 to the
    // receiver on 127.0.0.2).
    rx.redirect("moved", &private.url("landing"));
    let moved = create(
        &d,
        &key,
        json!({"name": "moved", "url": rx.url("moved"), "events": ["product.*"],
               "retry_policy": "manual"}),
    )
    .await?;

    sqlx::query("INSERT INTO products (org_id, sku, name) VALUES ($1, 'A-1', 'Angle')")
        .bind(org.0)
        .execute(&d.db.pool)
        .await?;
    rx.wait_for("allowed", 1).await?;
    let log = attempt_log(&d, &key, &rebound.id.to_string(), 1).await?;
    let attempt = &log["items"][0];
    assert_eq!(attempt["outcome"], "failed", "{log}");
    assert_eq!(attempt["http_status"], Value::Null, "{log}");
    let error = attempt["error"].as_str().unwrap();
    assert!(
        error.starts_with("refused by the SSRF guard: localhost resolves to")
            && error.contains("loopback"),
        "{error}"
    );
    assert!(rx.got("rebound").is_empty());

    let log = attempt_log(&d, &key, moved["id"].as_str().unwrap(), 1).await?;
    assert_eq!(log["items"][0]["http_status"], 302, "{log}");
    assert_eq!(log["items"][0]["outcome"], "failed", "{log}");
    assert_eq!(rx.got("moved").len(), 1);
    assert!(private.got("landing").is_empty());
    assert_eq!(allowed["status"], "active");
    d.stop().await
}
