//! Replaying dead letters never applies a document twice at the partner.
//!
//! The partner applies each document and then answers too late: the client times out, the job
//! dies (one attempt), and the dead letter holds a document the partner already has. Replays
//! (one by one, in bulk, and repeated by a client that retries after a timeout) must show the
//! partner the original key so it answers from its idempotency store instead of applying again.

use reqwest::Method;
use serde_json::{json, Value};
use std::collections::HashSet;
use std::time::Duration;
use switchyard_adapter_http::fake::{FakePartner, FakePartnerConfig};
use switchyard_daemon::app::Roles;
use switchyard_e2e::{count, eventually, TestDaemon};
use switchyard_store::queue::{NewJob, RetryPolicy, RetrySpec};

const DOCS: usize = 20;

/// `POST path` with `body` and, when given, an `Idempotency-Key`.
async fn post(
    daemon: &TestDaemon,
    key: &str,
    path: &str,
    idempotency_key: Option<&str>,
    body: Value,
) -> anyhow::Result<(u16, Value)> {
    let mut req = daemon
        .http
        .post(format!("{}{path}", daemon.api()))
        .bearer_auth(key)
        .json(&body);
    if let Some(k) = idempotency_key {
        req = req.header("Idempotency-Key", k);
    }
    let resp = req.send().await?;
    Ok((resp.status().as_u16(), resp.json().await?))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replays_of_applied_documents_whose_answers_were_lost_apply_nothing_twice(
) -> anyhow::Result<()> {
    let partner = FakePartner::start(FakePartnerConfig::new().bearer_token("slow-token")).await?;
    // Applied at once, answered after 2 s; the adapter gives up after 300 ms.
    partner.set_answer_delay(Some(Duration::from_secs(2)));
    let daemon = TestDaemon::builder()
        .roles(Roles::default())
        .secret("secret:slow-token", "slow-token")
        .toml(&format!(
            "[partners.slow]\nkind = \"http\"\norg = \"acme\"\nbase_url = \"{}\"\n\
             auth = {{ type = \"bearer\", token_ref = \"secret:slow-token\" }}\ntimeout_ms = 300\n",
            partner.base_url()
        ))
        .start()
        .await?;
    let org = daemon.org("acme").await?;
    let admin = daemon.key("acme", &["write:dead-letters"]).await?;
    for n in 0..DOCS {
        let job = NewJob::new(
            org,
            "partner.push",
            json!({"document": "order", "body": {"n": n}}),
        )
        .partner("slow")
        .key(format!("order-{n}"))
        .retry(RetrySpec {
            policy: RetryPolicy::Immediate,
            max_attempts: 1,
        });
        daemon.queue.enqueue(job).await?;
    }
    eventually(
        Duration::from_secs(60),
        "every push to time out into a dead letter",
        || {
            let pool = daemon.db.pool.clone();
            async move { Ok(count(&pool, "SELECT count(*) FROM dead_letters").await? == DOCS as i64) }
        },
    )
    .await?;
    // The partner has every document although the hub saw only timeouts.
    assert_eq!(partner.stats().applied, DOCS as u64);
    partner.set_answer_delay(None);

    let (status, page) = daemon
        .call(
            Method::GET,
            "/api/v1/dead-letters?limit=100",
            Some(&admin),
            None,
        )
        .await?;
    assert_eq!(status, 200, "{page}");
    let ids: Vec<String> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(ids.len(), DOCS);
    let (singles, bulk) = ids.split_at(DOCS / 2);

    // One by one; each request sent twice, as a client does when its first answer is lost.
    for (i, id) in singles.iter().enumerate() {
        let path = format!("/api/v1/dead-letters/{id}/replay");
        let key = format!("replay-{i}");
        let (first, a) = post(&daemon, &admin, &path, Some(&key), json!({})).await?;
        let (again, b) = post(&daemon, &admin, &path, Some(&key), json!({})).await?;
        assert_eq!((first, again), (201, 200), "{a} {b}");
        assert_eq!(
            a["id"], b["id"],
            "the retry answers with the first replay's job"
        );
        // Without the key, a second replay is refused rather than made.
        let (status, c) = post(&daemon, &admin, &path, None, json!({})).await?;
        assert_eq!(
            (status, c["error"]["code"].as_str()),
            (409, Some("conflict")),
            "{c}"
        );
    }
    // In bulk, sent twice with one key and once more without.
    let body = json!({ "ids": bulk });
    let path = "/api/v1/dead-letters/replay";
    let (s1, a) = post(&daemon, &admin, path, Some("bulk-1"), body.clone()).await?;
    let (s2, b) = post(&daemon, &admin, path, Some("bulk-1"), body.clone()).await?;
    assert_eq!((s1, s2), (200, 200), "{a} {b}");
    assert_eq!(
        (a["repeated"].as_bool(), b["repeated"].as_bool()),
        (Some(false), Some(true))
    );
    let job_ids = |v: &Value| -> Vec<String> {
        v["jobs"]
            .as_array()
            .unwrap()
            .iter()
            .map(|j| j["id"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(job_ids(&a).len(), bulk.len());
    assert_eq!(
        job_ids(&a),
        job_ids(&b),
        "the retry answers with the first jobs"
    );
    let (s3, c) = post(&daemon, &admin, path, None, body).await?;
    assert_eq!(
        (s3, c["error"]["code"].as_str()),
        (409, Some("conflict")),
        "{c}"
    );

    eventually(Duration::from_secs(60), "every replay to succeed", || {
        let pool = daemon.db.pool.clone();
        async move {
            Ok(count(
                &pool,
                "SELECT count(*) FROM jobs WHERE replay_of IS NOT NULL AND state = 'succeeded'",
            )
            .await?
                == DOCS as i64)
        }
    })
    .await?;
    assert_eq!(
        count(
            &daemon.db.pool,
            "SELECT count(*) FROM jobs WHERE replay_of IS NOT NULL"
        )
        .await?,
        DOCS as i64,
        "one replay job per dead letter"
    );
    // Each replay reached the partner under the original key and was answered from its store:
    // every document applied once in all.
    let stats = partner.stats();
    assert_eq!(
        (stats.applied, stats.duplicates),
        (DOCS as u64, DOCS as u64),
        "(applied, answered from the idempotency store)"
    );
    for n in 0..DOCS {
        assert_eq!(partner.times_applied(&format!("order-{n}")), 1, "order-{n}");
    }
    let keys: HashSet<String> = partner
        .deliveries()
        .into_iter()
        .filter_map(|d| d.idempotency_key)
        .collect();
    assert_eq!(keys.len(), DOCS, "no key but the originals: {keys:?}");
    daemon.stop().await
}
