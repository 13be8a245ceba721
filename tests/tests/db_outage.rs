//! A database outage longer than the pool's acquire timeout × the attempts the worker used to
//! make (issue #9, item 2). The daemon (the real binary) reaches Postgres through a TCP proxy
//! the test cuts: open connections are dropped and new ones hang unanswered. The test itself
//! talks to Postgres directly, so it sees what the daemon wrote and what it left.

use std::time::{Duration, Instant};
use switchyard_adapter_http::fake::{FakePartner, FakePartnerConfig};
use switchyard_e2e::jobs::pushes;
use switchyard_e2e::{count, eventually, Daemon, Prepared, TcpProxy, TestDaemon};
use switchyard_store::queue::{NewJob, RetryPolicy, RetrySpec};

const JOBS: usize = 1000;
const CONCURRENCY: usize = 16;
const LEASE_SECS: u64 = 3;
const SHUTDOWN_GRACE_SECS: u64 = 2;
/// The daemon's pool acquire timeout here (10 s by default): while the database is away every
/// query fails after this long. Short, so the test is; the code path is production's.
const ACQUIRE_TIMEOUT_MS: u64 = 300;
/// Before the fix the completer tried a failed write this many times, 50, 100, 200 and 400 ms
/// apart, each attempt waiting the acquire timeout, then ended for good.
const OLD_ATTEMPTS: u64 = 5;
const OLD_BACKOFF_MS: u64 = 50 + 100 + 200 + 400;

/// Long enough that the old completer would have given up, and longer than a lease, so the
/// leases of jobs finished during the outage lapse before their success can be written.
fn outage() -> Duration {
    let old_give_up = Duration::from_millis(ACQUIRE_TIMEOUT_MS * OLD_ATTEMPTS + OLD_BACKOFF_MS);
    2 * old_give_up.max(Duration::from_secs(LEASE_SECS))
}

struct Setup {
    partner: FakePartner,
    proxy: TcpProxy,
    cluster: Prepared,
}

impl Setup {
    /// A fresh database holding `JOBS` pushes to a fake partner, and a proxy in front of it.
    async fn new() -> anyhow::Result<Self> {
        // A little latency per request keeps jobs in flight when the database goes away.
        let partner = FakePartner::start(
            FakePartnerConfig::new()
                .bearer_token("outage-token")
                .required_fields(["n"])
                .latency(Duration::from_millis(30)),
        )
        .await?;
        let cluster = TestDaemon::builder()
            .toml(&format!(
                "[queue]\nconcurrency = {CONCURRENCY}\nclaim_batch = {CONCURRENCY}\n\
                 lease_secs = {LEASE_SECS}\nrescue_interval_ms = 500\n\
                 shutdown_grace_secs = {SHUTDOWN_GRACE_SECS}\n\n\
                 [api]\nbind = \"127.0.0.1:0\"\n"
            ))
            .http_partner_with("sink", &partner, "outage", "env:SINK_TOKEN")
            .prepare()
            .await?;
        let proxy = TcpProxy::start(postgres_addr(&cluster.db.url).await?).await?;
        let org = cluster.org("outage").await?;
        let jobs: Vec<NewJob> = pushes(org, "sink", "order", JOBS)
            .into_iter()
            .map(|job| job.retry(RetrySpec::of(RetryPolicy::Immediate)))
            .collect();
        assert_eq!(cluster.queue().enqueue_many(&jobs).await?, JOBS as u64);
        Ok(Self {
            partner,
            proxy,
            cluster,
        })
    }

    /// `switchyard run` reaching the database through the proxy.
    fn spawn_behind_proxy(&self, log: &str) -> anyhow::Result<Daemon> {
        let url = via(&self.cluster.db.url, self.proxy.addr())?;
        let timeout = ACQUIRE_TIMEOUT_MS.to_string();
        self.cluster.spawn(
            &["--no-scheduler"],
            &[
                ("SINK_TOKEN", "outage-token"),
                ("SWITCHYARD_DATABASE__URL", &url),
                ("SWITCHYARD_DATABASE__ACQUIRE_TIMEOUT_MS", &timeout),
            ],
            log,
        )
    }

    async fn count(&self, sql: &str) -> anyhow::Result<i64> {
        count(&self.cluster.db.pool, sql).await
    }

    /// Wait for the daemon to report ready, then for a quarter of the jobs to reach the
    /// partner, so the outage lands mid-run.
    async fn run_a_quarter(&self, daemon: &Daemon, api: &str) -> anyhow::Result<()> {
        wait_for_readiness(daemon, api, 200, Duration::from_secs(30)).await?;
        eventually(
            Duration::from_secs(60),
            "a quarter of the deliveries",
            || {
                let n = self.partner.stats().deliveries;
                async move { Ok(n >= (JOBS / 4) as u64) }
            },
        )
        .await
        .map_err(|e| with_log(e, daemon))
    }

    /// Wait until every job has succeeded.
    async fn all_succeeded(&self, daemon: &Daemon, timeout: Duration) -> anyhow::Result<()> {
        eventually(timeout, "every job to succeed", || async {
            Ok(self
                .count("SELECT count(*) FROM jobs WHERE state = 'succeeded'")
                .await?
                == JOBS as i64)
        })
        .await
        .map_err(|e| with_log(e, daemon))
    }

    /// Every key applied exactly once at the partner.
    fn assert_each_applied_once(&self) {
        let twice: Vec<usize> = (0..JOBS)
            .filter(|n| self.partner.times_applied(&format!("order-{n}")) != 1)
            .collect();
        assert!(
            twice.is_empty(),
            "effects not applied exactly once: {:?}",
            &twice[..twice.len().min(20)]
        );
        assert_eq!(self.partner.stats().applied, JOBS as u64);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_outage_longer_than_the_retries_loses_no_ack_and_no_log_row() -> anyhow::Result<()> {
    let s = Setup::new().await?;
    let mut daemon = s.spawn_behind_proxy("daemon.log")?;
    let api = daemon.api_addr(Duration::from_secs(30)).await?;
    let http = reqwest::Client::new();
    s.run_a_quarter(&daemon, &api).await?;

    s.proxy.cut();
    let cut_at = Instant::now();
    let delivered_at_cut = s.partner.stats().deliveries;
    let succeeded_at_cut = s
        .count("SELECT count(*) FROM jobs WHERE state = 'succeeded'")
        .await?;
    assert!(
        succeeded_at_cut < JOBS as i64,
        "the outage must land mid-run (all {JOBS} already done)"
    );
    wait_for_readiness(&daemon, &api, 503, Duration::from_secs(5)).await?;
    // For the whole outage, /readyz keeps answering within a second, and says not ready.
    while cut_at.elapsed() < outage() {
        assert_eq!(
            readiness(&http, &api).await?,
            503,
            "ready during the outage"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let delivered_in_outage = s.partner.stats().deliveries - delivered_at_cut;
    s.proxy.restore();
    let restored_at = Instant::now();

    wait_for_readiness(&daemon, &api, 200, Duration::from_secs(20)).await?;
    s.all_succeeded(&daemon, Duration::from_secs(30)).await?;
    let recovered_in = restored_at.elapsed();

    s.assert_each_applied_once();
    // A job finished during the outage was acknowledged when the database came back, not
    // rescued and run again: every key reached the partner once.
    let redelivered: Vec<(String, usize)> = s
        .partner
        .delivery_counts()
        .into_iter()
        .filter(|(_, n)| *n != 1)
        .collect();
    assert!(
        redelivered.is_empty(),
        "redelivered: {redelivered:?}\n{}",
        daemon.log_text()
    );
    // One integration-log row per delivery, those made during the outage included.
    let deliveries = s.partner.stats().deliveries as i64;
    eventually(
        Duration::from_secs(10),
        "a log row for every delivery",
        || async {
            Ok(
                s.count("SELECT count(*) FROM integration_logs WHERE partner = 'sink'")
                    .await?
                    >= deliveries,
            )
        },
    )
    .await
    .map_err(|e| with_log(e, &daemon))?;
    assert_eq!(
        s.count("SELECT count(*) FROM integration_logs WHERE partner = 'sink'")
            .await?,
        deliveries,
        "one row per delivery, none twice"
    );
    assert!(
        daemon.child.try_wait()?.is_none(),
        "the daemon kept running through the outage\n{}",
        daemon.log_text()
    );
    let status = daemon.terminate().await;
    assert!(
        status.is_some_and(|s| s.success()),
        "a clean exit after the outage: {status:?}\n{}",
        daemon.log_text()
    );
    println!(
        "db outage: {:.1}s cut at {succeeded_at_cut}/{JOBS} done, {delivered_in_outage} deliveries during it; \
         all done {:.1}s after the restore",
        outage().as_secs_f64(),
        recovered_in.as_secs_f64()
    );
    s.partner.shutdown().await;
    s.cluster.db.drop_db().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_during_an_outage_says_what_runs_again_and_a_restart_finishes_it(
) -> anyhow::Result<()> {
    let s = Setup::new().await?;
    let mut daemon = s.spawn_behind_proxy("first.log")?;
    let api = daemon.api_addr(Duration::from_secs(30)).await?;
    s.run_a_quarter(&daemon, &api).await?;

    s.proxy.cut();
    wait_for_readiness(&daemon, &api, 503, Duration::from_secs(5)).await?;
    let asked_at = Instant::now();
    let status = daemon.terminate().await;
    let took = asked_at.elapsed();
    let log = daemon.log_text();
    // In-flight jobs get the grace period, the final writes another, the log rows a third.
    assert!(
        took < Duration::from_secs(3 * SHUTDOWN_GRACE_SECS + 5),
        "shutdown took {took:?}\n{log}"
    );
    assert!(
        status.is_some_and(|s| !s.success()),
        "a shutdown that left work behind is not a clean exit: {status:?}\n{log}"
    );
    // The log says what was left and what happens to it.
    let not_recorded = field(&log, "finished_not_recorded")
        .ok_or_else(|| anyhow::anyhow!("no count of unrecorded jobs in the log\n{log}"))?;
    let not_released = field(&log, "unfinished_not_released")
        .ok_or_else(|| anyhow::anyhow!("no count of unreleased jobs in the log\n{log}"))?;
    assert!(log.contains("run again once their leases expire"), "{log}");
    // Not an exact count of what the database still has running: an ack (or a claim) that
    // committed as the connection dropped is counted by the worker as not done (or not seen).
    let running = s
        .count("SELECT count(*) FROM jobs WHERE state = 'running'")
        .await?;
    assert!(
        not_recorded + not_released >= 1 && running >= 1,
        "the log names {} jobs left behind; the database has {running} running\n{log}",
        not_recorded + not_released
    );
    // Every exchange is a log row or counted in the log as not written (a row whose insert
    // landed as the connection dropped may be both), and none is written twice.
    let delivered = s.partner.stats().deliveries as i64;
    let logged = s
        .count("SELECT count(*) FROM integration_logs WHERE partner = 'sink'")
        .await?;
    let unwritten = field(&log, "rows_not_written").unwrap_or(0);
    assert!(
        logged + unwritten >= delivered && logged <= delivered,
        "{delivered} deliveries, {logged} log rows, {unwritten} counted as not written\n{log}"
    );

    // Once the database is back, a new process runs what was left; nothing applies twice.
    s.proxy.restore();
    let mut second = s.spawn_behind_proxy("second.log")?;
    s.all_succeeded(&second, Duration::from_secs(60)).await?;
    s.assert_each_applied_once();
    second.terminate().await;
    s.partner.shutdown().await;
    s.cluster.db.drop_db().await;
    Ok(())
}

/// Wait until `/readyz` answers `status`.
async fn wait_for_readiness(
    daemon: &Daemon,
    api: &str,
    status: u16,
    timeout: Duration,
) -> anyhow::Result<()> {
    let http = reqwest::Client::new();
    eventually(timeout, &format!("/readyz to answer {status}"), || {
        let http = http.clone();
        async move { Ok(readiness(&http, api).await? == status) }
    })
    .await
    .map_err(|e| with_log(e, daemon))
}

/// `/readyz`'s status; an answer slower than a second is an error.
async fn readiness(http: &reqwest::Client, api: &str) -> anyhow::Result<u16> {
    let asked = Instant::now();
    let resp = http
        .get(format!("{api}/readyz"))
        .timeout(Duration::from_secs(1))
        .send()
        .await
        .map_err(|e| anyhow::anyhow!("/readyz did not answer within a second: {e}"))?;
    let took = asked.elapsed();
    anyhow::ensure!(took < Duration::from_secs(1), "/readyz took {took:?}");
    Ok(resp.status().as_u16())
}

/// The socket address of the Postgres server `url` names.
async fn postgres_addr(url: &str) -> anyhow::Result<std::net::SocketAddr> {
    let url = reqwest::Url::parse(url)?;
    let server = format!(
        "{}:{}",
        url.host_str().unwrap_or("127.0.0.1"),
        url.port().unwrap_or(5432)
    );
    let mut addrs = tokio::net::lookup_host(server.clone()).await?;
    addrs
        .next()
        .ok_or_else(|| anyhow::anyhow!("{server} resolves to nothing"))
}

/// `url` pointed at `addr` instead of its server.
fn via(url: &str, addr: std::net::SocketAddr) -> anyhow::Result<String> {
    let mut url = reqwest::Url::parse(url)?;
    url.set_host(Some(&addr.ip().to_string()))?;
    url.set_port(Some(addr.port()))
        .map_err(|()| anyhow::anyhow!("{url} takes no port"))?;
    Ok(url.to_string())
}

/// The last integer value of `name=` in a log.
fn field(log: &str, name: &str) -> Option<i64> {
    let key = format!("{name}=");
    log.rsplit(&key)
        .next()
        .filter(|_| log.contains(&key))?
        .split(|c: char| !c.is_ascii_digit())
        .next()?
        .parse()
        .ok()
}

fn with_log(e: anyhow::Error, daemon: &Daemon) -> anyhow::Error {
    anyhow::anyhow!("{e}\n--- daemon log ---\n{}", daemon.log_text())
}
