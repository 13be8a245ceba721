//! `switchyard bench webhooks`: outbound webhook deliveries through the real path — events
//! inserted into `events` (the outbox every trigger writes), the fan-out trigger making one
//! `webhook.deliver` job per subscribed endpoint, the queue, the worker's `webhook.deliver`
//! handler signing and POSTing over loopback — to a receiver in this process (axum) that
//! verifies every Standard Webhooks signature with the HTTP adapter's verifier (the inbound
//! side's code, not the signer's). Figures are printed, never asserted:
//!
//! * sustained deliveries per second: `--deliveries` events inserted 1,000 per statement,
//!   from the first insert to the last verified delivery (goal ≥ 1,000/s on 2 cores);
//! * latency event → delivered (the event's `occurred_at` to the receiver's clock) at
//!   `--rate` events per second, one transaction per event, p50/p99/max (goal p99 < 250 ms);
//! * the same with a second endpoint subscribed to the same events that never answers
//!   (each of its deliveries waits `--slow-timeout-ms`, the `[webhooks] timeout_ms`): the
//!   healthy endpoint's p50/p99/max.
//!
//! Every phase checks that each event arrived once, signed validly; [`measure`] returns the
//! counts so a test can run it small and check them.

use crate::app::{self, Overrides, Roles};
use axum::extract::{Path as UrlPath, State};
use axum::http::{HeaderMap, StatusCode};
use clap::Args;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::path::Path;
use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};
use switchyard_adapter_http::webhook::{verify, WebhookKey};
use switchyard_core::ids::OrgId;
use switchyard_core::ssrf::Allowed;
use switchyard_runtime::config::Config;
use switchyard_store::queue::RetryPolicy;
use switchyard_store::webhook_endpoints::{self as endpoints, EndpointSettings, EndpointStatus};

const BENCH_DB: &str = "switchyard_bench_webhooks";

#[derive(Debug, Clone, Args)]
pub struct WebhooksBench {
    /// Events for the throughput figure (one delivery each).
    #[arg(long, default_value_t = 10_000)]
    pub deliveries: usize,
    /// Events for each latency figure, sent at `--rate`.
    #[arg(long, default_value_t = 1_000)]
    pub samples: usize,
    /// Events per second for the latency figures.
    #[arg(long, default_value_t = 100.0)]
    pub rate: f64,
    /// How long a delivery to the endpoint that never answers waits (`[webhooks] timeout_ms`).
    #[arg(long, default_value_t = 30_000)]
    pub slow_timeout_ms: u64,
    /// How long each phase may take before the bench gives up.
    #[arg(long, default_value_t = 600)]
    pub deadline_secs: u64,
    /// Each endpoint's `max_in_flight` (its concurrent deliveries; the API's default is
    /// `switchyard_store::webhook_endpoints::DEFAULT_MAX_IN_FLIGHT`): the throughput to one
    /// receiver is bounded by it times the receiver's answer time.
    #[arg(long, default_value_t = 64)]
    pub max_in_flight: i32,
}

/// What one latency phase saw at the healthy endpoint.
#[derive(Debug, Clone)]
pub struct Latency {
    pub delivered: usize,
    pub p50: Duration,
    pub p99: Duration,
    pub max: Duration,
}

/// Counts and figures of a run.
#[derive(Debug, Clone)]
pub struct Report {
    pub deliveries: usize,
    pub throughput_secs: f64,
    pub steady: Latency,
    pub with_slow: Latency,
    /// Requests the endpoint that never answers received.
    pub slow_requests: usize,
    /// Deliveries whose signature the receiver refused (must be 0).
    pub bad_signatures: usize,
    /// Deliveries received more than once (0 unless a retry crossed a slow answer).
    pub duplicates: usize,
}

impl Report {
    pub fn per_second(&self) -> f64 {
        self.deliveries as f64 / self.throughput_secs
    }
}

/// One verified delivery.
#[derive(Debug, Clone)]
struct Got {
    event: String,
    latency: Duration,
}

#[derive(Default)]
struct Inbox {
    keys: HashMap<String, WebhookKey>,
    got: HashMap<String, Vec<Got>>,
    bad: usize,
}

type Shared = Arc<Mutex<Inbox>>;

/// `POST /{endpoint}`: verify the signature with that endpoint's secret, note the latency.
/// `POST /slow/{endpoint}` is the endpoint that never answers.
async fn receive(
    State(inbox): State<Shared>,
    UrlPath(name): UrlPath<String>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> StatusCode {
    let now = chrono::Utc::now();
    let pairs: Vec<(String, String)> = headers
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_str().unwrap_or_default().to_owned()))
        .collect();
    let mut inbox = inbox.lock().expect("the inbox lock");
    let verified = inbox.keys.get(&name).and_then(|key| {
        verify(
            key,
            Duration::from_secs(300),
            &pairs,
            &body,
            SystemTime::now(),
        )
        .ok()
        .map(str::to_owned)
    });
    let occurred = serde_json::from_slice::<Value>(&body)
        .ok()
        .and_then(|b| b["timestamp"].as_str().map(str::to_owned))
        .and_then(|t| chrono::DateTime::parse_from_rfc3339(&t).ok());
    match (verified, occurred) {
        (Some(event), Some(at)) => {
            let latency = (now - at.with_timezone(&chrono::Utc))
                .to_std()
                .unwrap_or_default();
            inbox
                .got
                .entry(name)
                .or_default()
                .push(Got { event, latency });
            StatusCode::NO_CONTENT
        }
        _ => {
            inbox.bad += 1;
            StatusCode::UNAUTHORIZED
        }
    }
}

/// The endpoint that never answers: the request is held until the sender gives up.
async fn never(State(slow): State<Arc<Mutex<usize>>>) -> StatusCode {
    *slow.lock().expect("the slow counter lock") += 1;
    std::future::pending::<()>().await;
    StatusCode::OK
}

pub async fn run(args: WebhooksBench, config_path: &Path) -> anyhow::Result<ExitCode> {
    let mut config = if config_path.exists() {
        Config::load(config_path)?
    } else {
        Config::default()
    };
    config.database.url =
        switchyard_runtime::pg::recreate_database(&config.database.url, BENCH_DB).await?;
    config.partners.clear();
    println!(
        "webhooks benchmark on a fresh `{BENCH_DB}` database ({} cores); worker concurrency {}, claim batch {}, max_in_flight {} per endpoint",
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1),
        config.queue.concurrency,
        config.queue.claim_batch,
        args.max_in_flight
    );
    let r = measure(&args, config, config_path, |line| println!("{line}")).await?;
    println!(
        "throughput          {:>9.0} deliveries/s  ({} signed deliveries, each verified, in {:.2}s; goal ≥ 1,000/s)",
        r.per_second(),
        r.deliveries,
        r.throughput_secs
    );
    let show = |what: &str, l: &Latency| {
        println!(
            "{what:<20}p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms  ({} events at {}/s; goal p99 < 250 ms)",
            ms(l.p50),
            ms(l.p99),
            ms(l.max),
            l.delivered,
            args.rate
        )
    };
    show("latency", &r.steady);
    show("latency, 1 slow", &r.with_slow);
    println!(
        "                    (the slow endpoint got {} requests, each held {} ms until the timeout)",
        r.slow_requests, args.slow_timeout_ms
    );
    println!(
        "checks              {} bad signatures, {} duplicate deliveries",
        r.bad_signatures, r.duplicates
    );
    Ok(ExitCode::SUCCESS)
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// Run the three phases against the database `config` names (migrated here) and return
/// what was seen; `progress` gets a line as each phase starts.
pub async fn measure(
    args: &WebhooksBench,
    mut config: Config,
    config_path: &Path,
    progress: impl Fn(&str),
) -> anyhow::Result<Report> {
    // The receiver is on loopback, which the SSRF guard refuses unless allowed.
    config.webhooks.allow_private = vec![Allowed::parse("127.0.0.1").map_err(anyhow::Error::msg)?];
    // Secrets sealed as in production: the configured key, or one made for the run (in a
    // file the daemon reads like any key file, removed once it has been read).
    let mut made_key = None;
    if switchyard_runtime::secrets::webhook_sealing(&config.secrets)?
        .keyring()
        .is_none()
    {
        let key_file =
            std::env::temp_dir().join(format!("switchyard-bench-{}.key", uuid::Uuid::now_v7()));
        std::fs::write(&key_file, switchyard_store::sealing::generate_key_base64())?;
        config.secrets.key_file = Some(key_file.clone());
        made_key = Some(key_file);
    }
    let sealing = switchyard_runtime::secrets::webhook_sealing(&config.secrets)?;
    config.webhooks.timeout_ms = args.slow_timeout_ms;
    let inbox: Shared = Arc::default();
    let slow = Arc::new(Mutex::new(0usize));
    let app = axum::Router::new()
        .route("/{name}", axum::routing::post(receive))
        .with_state(inbox.clone())
        .route(
            "/slow/{name}",
            axum::routing::post(never).with_state(slow.clone()),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    let server = tokio::spawn(async move { axum::serve(listener, app).await });

    let running = app::start(
        config,
        config_path.to_owned(),
        Roles {
            api: false,
            worker: true,
            scheduler: false,
        },
        Overrides::default(),
    )
    .await;
    if let Some(file) = made_key {
        let _ = std::fs::remove_file(file);
    }
    let running = running?;
    let pool = running.queue.pool().clone();
    let org = switchyard_store::orgs::ensure(&pool, "bench").await?.id;
    let deadline = Duration::from_secs(args.deadline_secs);
    let max_in_flight = args.max_in_flight;
    let result = async {
        let endpoint = |name: &str, url: String| {
            let pool = pool.clone();
            let sealing = sealing.clone();
            let inbox = inbox.clone();
            let name = name.to_owned();
            async move {
                let secret = endpoints::new_secret();
                let row = endpoints::create(
                    &pool,
                    org,
                    &EndpointSettings {
                        name: name.clone(),
                        url,
                        events: vec!["product.*".into()],
                        retry_policy: RetryPolicy::Exponential,
                        max_retries: 3,
                        headers: json!({}),
                        max_in_flight,
                        rate_limit_per_sec: None,
                        prd_signature: false,
                    },
                    EndpointStatus::Active,
                    &secret,
                    &sealing,
                    chrono::Utc::now(),
                )
                .await?;
                inbox.lock().expect("the inbox lock").keys.insert(
                    name,
                    WebhookKey::parse(&secret).map_err(anyhow::Error::msg)?,
                );
                anyhow::Ok(row)
            }
        };

        // 1. Throughput.
        progress(&format!("throughput: {} events…", args.deliveries));
        let bulk = endpoint("bulk", format!("{base}/bulk")).await?;
        let t = Instant::now();
        let mut sent = 0;
        while sent < args.deliveries {
            let n = (args.deliveries - sent).min(1000);
            insert_events(&pool, org, "bulk", sent, n).await?;
            sent += n;
        }
        wait_for(&inbox, "bulk", args.deliveries, deadline).await?;
        let throughput_secs = t.elapsed().as_secs_f64();
        pause(&pool, org, bulk.id).await?;

        // 2. Latency at the rate, one endpoint.
        progress(&format!(
            "latency: {} events at {}/s…",
            args.samples, args.rate
        ));
        let steady = endpoint("steady", format!("{base}/steady")).await?;
        paced(&pool, org, "steady", args.samples, args.rate).await?;
        wait_for(&inbox, "steady", args.samples, deadline).await?;
        let steady_latency = latency(&inbox, "steady", None);

        // 3. The same with a second endpoint that never answers.
        progress(&format!(
            "latency with an endpoint timing out after {} ms…",
            args.slow_timeout_ms
        ));
        let before: Vec<String> = got(&inbox, "steady").into_iter().map(|g| g.event).collect();
        endpoint("slow", format!("{base}/slow/slow")).await?;
        paced(&pool, org, "healthy", args.samples, args.rate).await?;
        wait_for(&inbox, "steady", args.samples * 2, deadline).await?;
        let with_slow = latency(&inbox, "steady", Some(&before));
        pause(&pool, org, steady.id).await?;

        let inbox = inbox.lock().expect("the inbox lock");
        let duplicates = inbox
            .got
            .values()
            .map(|list| {
                let mut ids: Vec<&str> = list.iter().map(|g| g.event.as_str()).collect();
                let all = ids.len();
                ids.sort_unstable();
                ids.dedup();
                all - ids.len()
            })
            .sum();
        anyhow::Ok(Report {
            deliveries: inbox.got.get("bulk").map_or(0, Vec::len),
            throughput_secs,
            steady: steady_latency,
            with_slow,
            slow_requests: *slow.lock().expect("the slow counter lock"),
            bad_signatures: inbox.bad,
            duplicates,
        })
    }
    .await;
    // The slow endpoint's deliveries still wait for their timeout: not worth waiting for.
    let _ = tokio::time::timeout(Duration::from_secs(5), running.stop()).await;
    server.abort();
    result
}

/// `n` `product.updated` events in one statement, as a bulk catalog write records them.
async fn insert_events(
    pool: &sqlx::PgPool,
    org: OrgId,
    tag: &str,
    from: usize,
    n: usize,
) -> anyhow::Result<()> {
    sqlx::query(
        "INSERT INTO events (id, org_id, type, occurred_at, data)
         SELECT switchyard_uuid_v7(), $1, 'product.updated', clock_timestamp(),
                jsonb_build_object('sku', $2 || '-' || i, 'name', 'Bench item', 'changed', '[\"name\"]'::jsonb)
         FROM generate_series($3::bigint, $4::bigint) i",
    )
    .bind(org.0)
    .bind(tag)
    .bind(from as i64)
    .bind((from + n) as i64 - 1)
    .execute(pool)
    .await?;
    Ok(())
}

/// `n` events at `rate` per second, each its own transaction, on a fixed schedule (a late
/// insert does not push the next ones back).
async fn paced(
    pool: &sqlx::PgPool,
    org: OrgId,
    tag: &str,
    n: usize,
    rate: f64,
) -> anyhow::Result<()> {
    let mut tick = tokio::time::interval(Duration::from_secs_f64(1.0 / rate.max(0.001)));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    for i in 0..n {
        tick.tick().await;
        insert_events(pool, org, tag, i, 1).await?;
    }
    Ok(())
}

async fn pause(
    pool: &sqlx::PgPool,
    org: OrgId,
    id: switchyard_core::ids::WebhookEndpointId,
) -> anyhow::Result<()> {
    endpoints::set_status(
        pool,
        org,
        id,
        EndpointStatus::Paused,
        Some("bench phase over"),
        chrono::Utc::now(),
    )
    .await?;
    Ok(())
}

fn got(inbox: &Shared, name: &str) -> Vec<Got> {
    inbox
        .lock()
        .expect("the inbox lock")
        .got
        .get(name)
        .cloned()
        .unwrap_or_default()
}

/// Poll the receiver until `name` has `n` deliveries, or fail naming how many came.
async fn wait_for(inbox: &Shared, name: &str, n: usize, deadline: Duration) -> anyhow::Result<()> {
    let until = Instant::now() + deadline;
    loop {
        let have = got(inbox, name).len();
        if have >= n {
            return Ok(());
        }
        anyhow::ensure!(
            Instant::now() < until,
            "only {have} of {n} deliveries reached `{name}` within {deadline:?}"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// The percentiles of `name`'s deliveries, leaving out the events in `except`.
fn latency(inbox: &Shared, name: &str, except: Option<&[String]>) -> Latency {
    let mut all: Vec<Duration> = got(inbox, name)
        .into_iter()
        .filter(|g| except.is_none_or(|e| !e.contains(&g.event)))
        .map(|g| g.latency)
        .collect();
    all.sort();
    let pct = |p: f64| {
        all.get(((all.len() as f64 - 1.0) * p).round() as usize)
            .copied()
            .unwrap_or_default()
    };
    Latency {
        delivered: all.len(),
        p50: pct(0.5),
        p99: pct(0.99),
        max: all.last().copied().unwrap_or_default(),
    }
}
