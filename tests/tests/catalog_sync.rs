//! The sync engine against real Postgres (the catalog's change feed) and the generic HTTP fake
//! over loopback: a first full sync, a sync with nothing changed (zero write calls), 1 %
//! changed (exactly those written), removed products unpublished, a partner refusing some
//! items (dead letters, the rest pushed, a replay pushing the current version), a daemon
//! killed mid-sync resuming without a duplicate write, and two processes running one sync.

use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;
use switchyard_adapter_http::fake::{Delivery, DeliveryOutcome, FakePartner, FakePartnerConfig};
use switchyard_core::ids::{DeadLetterId, OrgId};
use switchyard_daemon::app::Roles;
use switchyard_e2e::{count, eventually, Prepared, TestDaemon};
use switchyard_store::queue::{NewJob, Queue, RetryPolicy, RetrySpec};

const SYNC_TOML: &str = "[sync.shop.catalog]\nmapping = \"storefront/product.out\"\ntombstone = \"storefront/product.tombstone\"\npage_size = 200\n";

const TOKEN: &str = "sync-token";

/// A storefront requiring the fields `required`, answering each call after `latency_ms`.
async fn storefront(required: &[&str], latency_ms: u64) -> anyhow::Result<FakePartner> {
    Ok(FakePartner::start(
        FakePartnerConfig::new()
            .bearer_token(TOKEN)
            .required_fields(required.iter().copied())
            .latency(Duration::from_millis(latency_ms)),
    )
    .await?)
}

/// The daemon in-process (the worker, and the API with `api`) with the partner `shop` and the
/// syncs of `toml`; its database and the organization `acme`.
async fn in_process(
    partner: &FakePartner,
    toml: &str,
    api: bool,
) -> anyhow::Result<(TestDaemon, sqlx::PgPool, OrgId)> {
    in_process_with(&[("shop", partner)], toml, api).await
}

/// [`in_process`] with the named `partners`.
async fn in_process_with(
    partners: &[(&str, &FakePartner)],
    toml: &str,
    api: bool,
) -> anyhow::Result<(TestDaemon, sqlx::PgPool, OrgId)> {
    in_process_from(
        &switchyard_e2e::repo().join("mappings"),
        partners,
        toml,
        api,
    )
    .await
}

/// [`in_process_with`] with the mapping files of `mappings`.
async fn in_process_from(
    mappings: &std::path::Path,
    partners: &[(&str, &FakePartner)],
    toml: &str,
    api: bool,
) -> anyhow::Result<(TestDaemon, sqlx::PgPool, OrgId)> {
    let mut builder = TestDaemon::builder().mappings(mappings);
    for (name, partner) in partners {
        builder = builder.http_partner(name, partner, "acme");
    }
    let daemon = builder
        .toml(toml)
        .roles(Roles {
            api,
            worker: true,
            scheduler: false,
        })
        .start()
        .await?;
    let pool = daemon.db.pool.clone();
    let org = daemon.org("acme").await?;
    Ok((daemon, pool, org))
}

/// A database and config for `switchyard run` children (short leases, the partner's token in
/// `SHOP_TOKEN`) syncing the catalog to `shop`.
async fn for_children(partner: &FakePartner) -> anyhow::Result<(Prepared, sqlx::PgPool, OrgId)> {
    let cluster = TestDaemon::builder()
        .repo_mappings()
        .toml(CHILD_TOML)
        .http_partner_with("shop", partner, "acme", "env:SHOP_TOKEN")
        .toml(SYNC_TOML)
        .prepare()
        .await?;
    let pool = cluster.db.pool.clone();
    let org = cluster.org("acme").await?;
    Ok((cluster, pool, org))
}

/// `n` published products `P-00000`…, each weighing `i` LB (none for the SKUs in `weightless`).
async fn seed(pool: &sqlx::PgPool, org: OrgId, n: i64, weightless: &[i64]) -> anyhow::Result<()> {
    sqlx::query(
        "INSERT INTO products (org_id, sku, name, uom, web_visible, material_grade, dimensions)
         SELECT $1, 'P-' || lpad(i::text, 5, '0'), 'Plate ' || i, 'EA', true, 'A36',
                CASE WHEN i = ANY($3) THEN '{}'::jsonb
                     ELSE jsonb_build_object('weight', jsonb_build_object('value', i, 'unit', 'LB')) END
         FROM generate_series(0, $2 - 1) AS i",
    )
    .bind(org.0)
    .bind(n)
    .bind(weightless)
    .execute(pool)
    .await?;
    Ok(())
}

fn sku(i: i64) -> String {
    format!("P-{i:05}")
}

/// The storefront handle the mapping derives from a SKU.
fn handle(i: i64) -> String {
    format!("p-{i:05}")
}

/// Enqueue `sync.run` of `shop` and wait for it to end; its final state.
async fn run_sync(queue: &Queue, org: OrgId, key: &str, payload: Value) -> anyhow::Result<String> {
    run_sync_of(queue, org, "shop", key, payload).await
}

/// Enqueue `sync.run` of `partner` and wait for it to end; its final state.
async fn run_sync_of(
    queue: &Queue,
    org: OrgId,
    partner: &str,
    key: &str,
    payload: Value,
) -> anyhow::Result<String> {
    let job = NewJob::new(org, "sync.run", payload)
        .partner(partner)
        .key(key)
        .retry(RetrySpec::of(RetryPolicy::Immediate));
    let id = queue.enqueue(job).await?.job.id;
    switchyard_e2e::jobs::ended(queue.pool(), id).await
}

fn incremental() -> Value {
    json!({"partner": "shop", "entity": "catalog"})
}

fn full(force: bool) -> Value {
    json!({"partner": "shop", "entity": "catalog", "full": true, "force": force})
}

/// The last document `partner` received for `sku`.
fn last_for(partner: &FakePartner, sku: &str) -> Option<Value> {
    partner
        .deliveries()
        .into_iter()
        .rev()
        .find(|d| d.body["sku"] == sku)
        .map(|d| d.body)
}

/// The handles of the deliveries from `from` on that the partner applied.
fn applied_handles(deliveries: &[Delivery]) -> BTreeSet<String> {
    deliveries
        .iter()
        .filter(|d| d.outcome == DeliveryOutcome::Applied)
        .filter_map(|d| d.body["handle"].as_str().map(str::to_owned))
        .collect()
}

async fn state_of(pool: &sqlx::PgPool) -> anyhow::Result<(i64, i64, i64, i64, i64, i64)> {
    Ok(sqlx::query_as(
        "SELECT s.checkpoint, h.seq, s.examined, s.pushed, s.skipped, s.failed
         FROM sync_states s JOIN catalog_feed_heads h USING (org_id)
         WHERE s.partner = 'shop' AND s.entity = 'catalog'",
    )
    .fetch_one(pool)
    .await?)
}

/// How the last run of `shop`'s `entity` sync decided its items: (skipped unread on their feed
/// marks, read from the core).
async fn paths(pool: &sqlx::PgPool, entity: &str) -> anyhow::Result<(i64, i64)> {
    Ok(sqlx::query_as(
        "SELECT examined_fast, built FROM sync_states WHERE partner = 'shop' AND entity = $1",
    )
    .bind(entity)
    .fetch_one(pool)
    .await?)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pushes_only_what_changed_and_unpublishes_what_was_removed() -> anyhow::Result<()> {
    const N: i64 = 500;
    let partner = storefront(&["handle", "status"], 0).await?;
    let (daemon, pool, org) = in_process(&partner, SYNC_TOML, false).await?;
    seed(&pool, org, N, &[]).await?;

    // 1. First full sync: every product written once, its id and hash recorded.
    assert_eq!(
        run_sync(&daemon.queue, org, "first", full(false)).await?,
        "succeeded"
    );
    let stats = partner.stats();
    assert_eq!((stats.deliveries, stats.applied), (N as u64, N as u64));
    assert_eq!(applied_handles(&partner.deliveries()).len(), N as usize);
    assert_eq!(
        count(
            &pool,
            "SELECT count(*) FROM sync_items WHERE external_id LIKE 'doc_%' AND generation = 1"
        )
        .await?,
        N
    );
    let (checkpoint, head, examined, pushed, skipped, failed) = state_of(&pool).await?;
    assert_eq!(
        checkpoint, head,
        "a finished full sync leaves the checkpoint at the head"
    );
    assert_eq!((examined, pushed, skipped, failed), (N, N, 0, 0));
    let first = partner.deliveries();
    let p7 = first
        .iter()
        .find(|d| d.body["handle"] == "p-00007")
        .expect("p-00007 pushed");
    assert_eq!(p7.body["title"], "Plate 7");
    assert_eq!(p7.body["status"], "active");
    assert_eq!(p7.body["weight"], json!(7));

    // 2. Nothing changed: an incremental run and a full one make no write call at all.
    assert_eq!(
        run_sync(&daemon.queue, org, "idle", incremental()).await?,
        "succeeded"
    );
    assert_eq!(
        run_sync(&daemon.queue, org, "idle-full", full(false)).await?,
        "succeeded"
    );
    assert_eq!(
        partner.stats().deliveries,
        N as u64,
        "no write when nothing changed"
    );
    let (_, _, examined, pushed, skipped, _) = state_of(&pool).await?;
    assert_eq!(
        (examined, pushed, skipped),
        (N, 0, N),
        "the full run skipped all by hash"
    );

    // 3. 1 % changed, plus a change the partner's document does not carry (lead time is not
    // mapped): exactly the five are written, with their new content.
    sqlx::query("UPDATE products SET name = name || ' (new)' WHERE org_id = $1 AND sku = ANY($2)")
        .bind(org.0)
        .bind([3, 50, 120, 333, 499].map(sku).to_vec())
        .execute(&pool)
        .await?;
    sqlx::query("UPDATE products SET lead_time_days = 9 WHERE org_id = $1 AND sku = $2")
        .bind(org.0)
        .bind(sku(8))
        .execute(&pool)
        .await?;
    assert_eq!(
        run_sync(&daemon.queue, org, "one-percent", incremental()).await?,
        "succeeded"
    );
    let after = partner.deliveries();
    let written = &after[N as usize..];
    assert_eq!(
        applied_handles(written),
        [3, 50, 120, 333, 499].map(handle).into_iter().collect()
    );
    assert_eq!(written.len(), 5, "exactly the changed items, once each");
    assert!(written.iter().all(|d| d.body["title"]
        .as_str()
        .is_some_and(|t| t.ends_with(" (new)"))));
    let (checkpoint, head, examined, pushed, skipped, _) = state_of(&pool).await?;
    assert_eq!((checkpoint, examined, pushed, skipped), (head, 6, 5, 1));

    // 4. Removed: two tombstoned, one deleted outright. Each is unpublished under the
    // partner's id for it; a product never pushed and removed is not sent at all.
    let ids: BTreeMap<String, String> =
        sqlx::query_as("SELECT sku, external_id FROM sync_items WHERE sku = ANY($1)")
            .bind([10, 11, 12].map(sku).to_vec())
            .fetch_all(&pool)
            .await?
            .into_iter()
            .collect();
    sqlx::query("UPDATE products SET deleted_at = now() WHERE org_id = $1 AND sku = ANY($2)")
        .bind(org.0)
        .bind([10, 11].map(sku).to_vec())
        .execute(&pool)
        .await?;
    sqlx::query("DELETE FROM products WHERE org_id = $1 AND sku = $2")
        .bind(org.0)
        .bind(sku(12))
        .execute(&pool)
        .await?;
    sqlx::query(
        "INSERT INTO products (org_id, sku, name, deleted_at) VALUES ($1, 'GHOST', 'never pushed', now())",
    )
    .bind(org.0)
    .execute(&pool)
    .await?;
    assert_eq!(
        run_sync(&daemon.queue, org, "removed", incremental()).await?,
        "succeeded"
    );
    let tombstones = &partner.deliveries()[N as usize + 5..];
    assert_eq!(tombstones.len(), 3, "{tombstones:#?}");
    for d in tombstones {
        let h = d.body["handle"].as_str().unwrap_or_default();
        let s = h.to_uppercase();
        assert_eq!(d.body["status"], "archived", "{h}");
        assert_eq!(d.body["published"], json!(false), "{h}");
        assert_eq!(
            d.body["id"].as_str(),
            ids.get(&s).map(String::as_str),
            "{h}"
        );
        assert_eq!(d.outcome, DeliveryOutcome::Applied);
    }
    assert_eq!(
        count(
            &pool,
            "SELECT count(*) FROM sync_items WHERE tombstone AND generation = 2"
        )
        .await?,
        3
    );
    // A removed product stays removed: the next run sends nothing.
    assert_eq!(
        run_sync(&daemon.queue, org, "removed-again", full(false)).await?,
        "succeeded"
    );
    assert_eq!(partner.stats().deliveries, N as u64 + 8);

    // 5. Forced: every item the partner has is written again (tombstones included), under
    // new keys, so the partner applies each.
    assert_eq!(
        run_sync(&daemon.queue, org, "forced", full(true)).await?,
        "succeeded"
    );
    let stats = partner.stats();
    assert_eq!(stats.deliveries, 2 * N as u64 + 8);
    assert_eq!(
        stats.applied, stats.deliveries,
        "every forced write applied, none replayed"
    );

    daemon.stop().await?;
    partner.shutdown().await;
    Ok(())
}

async fn open_dead_letters(
    pool: &sqlx::PgPool,
) -> anyhow::Result<Vec<(DeadLetterId, Value, String)>> {
    let rows: Vec<(uuid::Uuid, Value, String)> = sqlx::query_as(
        "SELECT id, payload, reason FROM dead_letters WHERE kind = 'sync.item' AND state = 'open' ORDER BY payload->>'sku'",
    )
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(id, p, r)| (DeadLetterId(id), p, r))
        .collect())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_items_become_dead_letters_and_a_replay_pushes_the_current_version(
) -> anyhow::Result<()> {
    const N: i64 = 40;
    let refused = [4, 17, 30];
    // The partner requires a weight; three products have none.
    let partner = storefront(&["handle", "weight"], 0).await?;
    let (daemon, pool, org) = in_process(&partner, SYNC_TOML, false).await?;
    seed(&pool, org, N, &refused).await?;

    assert_eq!(
        run_sync(&daemon.queue, org, "first", full(false)).await?,
        "succeeded"
    );
    let stats = partner.stats();
    assert_eq!(
        stats.applied,
        (N - 3) as u64,
        "the rest of the page went on"
    );
    assert_eq!(stats.rejected, 3);
    let (checkpoint, head, _, pushed, _, failed) = state_of(&pool).await?;
    assert_eq!((checkpoint, pushed, failed), (head, N - 3, 3));
    let dead = open_dead_letters(&pool).await?;
    assert_eq!(dead.len(), 3);
    let mapping_hash = dead[0].1["mapping_hash"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert_eq!(mapping_hash.len(), 64, "the mapping's sha256");
    for ((_, payload, reason), i) in dead.iter().zip(refused) {
        assert_eq!(payload["sku"], sku(i));
        assert_eq!(payload["entity"], "catalog");
        assert_eq!(payload["mapping"], "storefront/product.out");
        assert_eq!(
            payload["mapping_hash"].as_str(),
            Some(mapping_hash.as_str())
        );
        assert_eq!(payload["item"]["sku"], sku(i), "the item as it failed");
        assert_eq!(payload["status"], 422);
        // The status once (the adapter's message names it), then the partner's own message
        // and details.
        assert_eq!(
            reason,
            &format!(
                "catalog {}: partner answered 422: missing required fields: weight ({{\"missing\":[\"weight\"]}})",
                sku(i)
            )
        );
        assert!(
            payload["error"]
                .as_str()
                .is_some_and(|e| e.contains("weight")),
            "{payload}"
        );
    }
    assert_eq!(
        count(&pool, "SELECT count(*) FROM sync_items").await?,
        N - 3,
        "nothing recorded for what the partner refused"
    );

    // The product is fixed in the core; the replay pushes it as it is now, not as it failed.
    sqlx::query(
        "UPDATE products SET dimensions = '{\"weight\": {\"value\": 99, \"unit\": \"LB\"}}' WHERE org_id = $1 AND sku = $2",
    )
    .bind(org.0)
    .bind(sku(4))
    .execute(&pool)
    .await?;
    let before = partner.stats().deliveries as usize;
    daemon.queue.replay(org, dead[0].0, None, None).await?;
    eventually(Duration::from_secs(30), "the replay to push", || {
        let pool = pool.clone();
        async move {
            Ok(count(
                &pool,
                "SELECT count(*) FROM jobs WHERE kind = 'sync.item' AND state = 'succeeded'",
            )
            .await?
                == 1)
        }
    })
    .await?;
    let replayed = &partner.deliveries()[before..];
    assert_eq!(replayed.len(), 1);
    assert_eq!(replayed[0].body["handle"], handle(4));
    assert_eq!(replayed[0].body["weight"], json!(99), "the current version");
    assert_eq!(replayed[0].outcome, DeliveryOutcome::Applied);

    // A replay of an item still refused fails again, as a dead letter of its own.
    daemon.queue.replay(org, dead[1].0, None, None).await?;
    eventually(Duration::from_secs(30), "the second replay to fail", || {
        let pool = pool.clone();
        async move {
            Ok(count(&pool, "SELECT count(*) FROM jobs WHERE kind = 'sync.item' AND state = 'dead' AND replay_of IS NOT NULL").await? == 1)
        }
    })
    .await?;

    // The fix also moved the feed: the next run finds the partner already has that content.
    let before = partner.stats().deliveries;
    assert_eq!(
        run_sync(&daemon.queue, org, "after-replay", incremental()).await?,
        "succeeded"
    );
    assert_eq!(
        partner.stats().deliveries,
        before,
        "the replayed version is not sent twice"
    );
    let (_, _, examined, pushed, skipped, _) = state_of(&pool).await?;
    assert_eq!((examined, pushed, skipped), (1, 0, 1));

    daemon.stop().await?;
    partner.shutdown().await;
    Ok(())
}

/// Every product pushed exactly once: one applied write per handle, all of them there.
fn assert_each_applied_once(partner: &FakePartner, n: i64) {
    let mut per_handle: BTreeMap<String, usize> = BTreeMap::new();
    for doc in partner.applied() {
        *per_handle
            .entry(doc.body["handle"].as_str().unwrap_or_default().to_owned())
            .or_default() += 1;
    }
    let twice: Vec<_> = per_handle.iter().filter(|(_, &c)| c != 1).collect();
    assert!(twice.is_empty(), "applied more than once: {twice:?}");
    assert_eq!(per_handle.len(), n as usize, "every product applied");
}

const CHILD_TOML: &str = "[queue]\nconcurrency = 8\nclaim_batch = 8\nlease_secs = 3\nrescue_interval_ms = 500\n\n[jobs.\"sync.run\"]\npolicy = \"immediate\"\nmax_attempts = 10\n";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sync_killed_mid_run_resumes_from_its_checkpoint_without_a_duplicate_write(
) -> anyhow::Result<()> {
    const N: i64 = 3000;
    // Latency per write keeps the run long enough to kill it in the middle.
    // Latency per write keeps the run long enough to kill it in the middle.
    let partner = storefront(&["handle"], 10).await?;
    let (cluster, pool, org) = for_children(&partner).await?;
    seed(&pool, org, N, &[]).await?;
    let queue = cluster.queue();
    queue
        .enqueue(
            NewJob::new(org, "sync.run", full(false))
                .partner("shop")
                .key("crash"),
        )
        .await?;

    let env = [("SHOP_TOKEN", TOKEN)];
    let mut first = cluster.spawn(&["--no-api", "--no-scheduler"], &env, "first.log")?;
    eventually(
        Duration::from_secs(90),
        "a third of the catalog pushed",
        || {
            let n = partner.stats().applied;
            async move { Ok(n >= (N / 3) as u64) }
        },
    )
    .await
    .map_err(|e| anyhow::anyhow!("{e}\n--- daemon log ---\n{}", first.log_text()))?;
    first.kill9().await;
    let at_kill = partner.stats().applied;
    assert!(at_kill < N as u64, "the kill must land mid-sync");
    let (cursor, committed): (Option<String>, i64) =
        sqlx::query_as("SELECT full_cursor, (SELECT count(*) FROM sync_items) FROM sync_states")
            .fetch_one(&pool)
            .await?;
    assert!(cursor.is_some(), "the full sync is in progress at the kill");
    assert!(
        committed <= at_kill as i64,
        "nothing is recorded the partner did not confirm"
    );

    let mut second = cluster.spawn(&["--no-api", "--no-scheduler"], &env, "second.log")?;
    eventually(
        Duration::from_secs(120),
        "the sync to finish after the restart",
        || {
            let pool = pool.clone();
            async move {
                Ok(count(
                    &pool,
                    "SELECT count(*) FROM jobs WHERE kind = 'sync.run' AND state = 'succeeded'",
                )
                .await?
                    == 1)
            }
        },
    )
    .await
    .map_err(|e| anyhow::anyhow!("{e}\n--- second daemon log ---\n{}", second.log_text()))?;
    second.terminate().await;

    assert_each_applied_once(&partner, N);
    let stats = partner.stats();
    assert_eq!(stats.applied, N as u64);
    // Writes in flight at the kill were sent again under the same key and answered from the
    // partner's idempotency store; everything committed before the kill was not sent again.
    assert!(
        stats.deliveries - stats.applied <= (N as u64 - committed as u64),
        "resent {} writes though {committed} were committed",
        stats.deliveries - stats.applied
    );
    assert_eq!(stats.deliveries - stats.applied, stats.duplicates);
    let (checkpoint, head, _, _, _, failed) = state_of(&pool).await?;
    assert_eq!((checkpoint, failed), (head, 0));
    assert_eq!(count(&pool, "SELECT count(*) FROM sync_items").await?, N);
    println!(
        "sync crash: killed with {at_kill} applied and {committed} committed; {} writes resent and absorbed by their keys",
        stats.duplicates
    );
    partner.shutdown().await;
    cluster.db.drop_db().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_processes_run_one_sync_at_a_time() -> anyhow::Result<()> {
    const N: i64 = 1500;
    let partner = storefront(&["handle"], 5).await?;
    let (cluster, pool, org) = for_children(&partner).await?;
    seed(&pool, org, N, &[]).await?;
    let queue = cluster.queue();
    // Two runs of the same sync under different keys (a manual run and a schedule's, say),
    // waiting before any process starts, so both are claimed at once.
    let runs: Vec<NewJob> = ["manual", "scheduled"]
        .into_iter()
        .map(|key| {
            NewJob::new(org, "sync.run", full(false))
                .partner("shop")
                .key(key)
        })
        .collect();
    assert_eq!(queue.enqueue_many(&runs).await?, 2);

    let env = [("SHOP_TOKEN", TOKEN)];
    let mut a = cluster.spawn(&["--no-api", "--no-scheduler"], &env, "a.log")?;
    let mut b = cluster.spawn(&["--no-api", "--no-scheduler"], &env, "b.log")?;
    eventually(Duration::from_secs(120), "both runs to succeed", || {
        let pool = pool.clone();
        async move {
            Ok(count(
                &pool,
                "SELECT count(*) FROM jobs WHERE kind = 'sync.run' AND state = 'succeeded'",
            )
            .await?
                == 2)
        }
    })
    .await
    .map_err(|e| {
        anyhow::anyhow!(
            "{e}\n--- a ---\n{}\n--- b ---\n{}",
            a.log_text(),
            b.log_text()
        )
    })?;
    a.terminate().await;
    b.terminate().await;

    // Had both pushed at once, every item would have been sent twice.
    let stats = partner.stats();
    assert_eq!(
        (stats.deliveries, stats.applied, stats.duplicates),
        (N as u64, N as u64, 0)
    );
    assert_each_applied_once(&partner, N);
    // The second run found the sync locked, waited, and then had nothing left to push.
    let waited = count(
        &pool,
        "SELECT count(*) FROM jobs WHERE kind = 'sync.run' AND errors::text LIKE '%running in another worker%'",
    )
    .await?;
    assert_eq!(waited, 1, "one of the two runs waited for the other");
    let (checkpoint, head, examined, pushed, skipped, _) = state_of(&pool).await?;
    assert_eq!((checkpoint, examined, pushed, skipped), (head, N, 0, N));
    partner.shutdown().await;
    cluster.db.drop_db().await;
    Ok(())
}

/// Enqueue `sync.dispatch` and wait for it to succeed.
async fn dispatch(queue: &Queue, org: OrgId, key: &str) -> anyhow::Result<()> {
    let id = queue
        .enqueue(NewJob::new(org, "sync.dispatch", json!({"changed_only": true})).key(key))
        .await?
        .job
        .id;
    eventually(Duration::from_secs(30), "the dispatch to run", || {
        let pool = queue.pool().clone();
        async move {
            let (s,): (String,) = sqlx::query_as("SELECT state FROM jobs WHERE id = $1")
                .bind(id.0)
                .fetch_one(&pool)
                .await?;
            anyhow::ensure!(s != "dead", "the dispatch failed");
            Ok(s == "succeeded")
        }
    })
    .await
}

async fn runs_succeeded(pool: &sqlx::PgPool) -> anyhow::Result<i64> {
    count(
        pool,
        "SELECT count(*) FROM jobs WHERE kind = 'sync.run' AND state = 'succeeded'",
    )
    .await
}

/// Wait until `n` sync runs have succeeded in all (`what`: the last of them, for the timeout).
async fn runs_succeed(pool: &sqlx::PgPool, n: i64, what: &str) -> anyhow::Result<()> {
    eventually(Duration::from_secs(30), what, || {
        let pool = pool.clone();
        async move { Ok(runs_succeeded(&pool).await? == n) }
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn changes_dispatch_one_run_at_a_time_and_the_api_shows_where_each_sync_stands(
) -> anyhow::Result<()> {
    use reqwest::Method;
    const N: i64 = 30;
    let partner = storefront(&["handle"], 0).await?;
    let (daemon, pool, org) = in_process(&partner, SYNC_TOML, true).await?;
    let key = daemon.key("acme", &["read:jobs", "write:jobs"]).await?;
    let (status, body) = daemon
        .call(Method::GET, "/api/v1/syncs", Some(&key), None)
        .await?;
    assert_eq!((status, body), (200, json!({"items": []})));
    seed(&pool, org, N, &[]).await?;

    // A change in the feed: the dispatcher enqueues the run, which pushes everything.
    dispatch(&daemon.queue, org, "d1").await?;
    runs_succeed(&pool, 1, "the dispatched run").await?;
    assert_eq!(partner.stats().applied, N as u64);
    let (status, body) = daemon
        .call(Method::GET, "/api/v1/syncs", Some(&key), None)
        .await?;
    assert_eq!(status, 200, "{body}");
    let sync = &body["items"][0];
    assert_eq!(
        (sync["partner"].as_str(), sync["entity"].as_str()),
        (Some("shop"), Some("catalog"))
    );
    assert_eq!(sync["lag"], 0);
    assert_eq!(sync["checkpoint"], sync["feed_head"]);
    assert_eq!(sync["last_run"]["state"], "succeeded");
    assert_eq!(
        (
            &sync["last_run"]["examined"],
            &sync["last_run"]["pushed"],
            &sync["last_run"]["failed"]
        ),
        (&json!(N), &json!(N), &json!(0))
    );

    // Nothing new: no run.
    dispatch(&daemon.queue, org, "d2").await?;
    assert_eq!(
        count(&pool, "SELECT count(*) FROM jobs WHERE kind = 'sync.run'").await?,
        1
    );

    // Debounced: while a run is waiting, changes do not enqueue another.
    daemon
        .queue
        .enqueue(NewJob {
            run_at: Some(chrono::Utc::now() + chrono::Duration::hours(1)),
            ..NewJob::new(org, "sync.run", incremental())
                .partner("shop")
                .key("parked")
        })
        .await?;
    sqlx::query("UPDATE products SET name = name || '!' WHERE org_id = $1 AND sku = ANY($2)")
        .bind(org.0)
        .bind([1, 2].map(sku).to_vec())
        .execute(&pool)
        .await?;
    dispatch(&daemon.queue, org, "d3").await?;
    assert_eq!(
        count(&pool, "SELECT count(*) FROM jobs WHERE kind = 'sync.run'").await?,
        2
    );
    let (status, body) = daemon
        .call(Method::GET, "/api/v1/syncs/shop/catalog", Some(&key), None)
        .await?;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["lag"], 2, "{body}");

    // Once nothing is waiting, the next tick enqueues the run that catches up.
    sqlx::query("DELETE FROM jobs WHERE idempotency_key = 'parked'")
        .execute(&pool)
        .await?;
    dispatch(&daemon.queue, org, "d4").await?;
    runs_succeed(&pool, 2, "the catching-up run").await?;
    assert_eq!(partner.stats().applied, N as u64 + 2);
    let (_, body) = daemon
        .call(Method::GET, "/api/v1/syncs/shop/catalog", Some(&key), None)
        .await?;
    assert_eq!(
        (&body["lag"], &body["last_run"]["pushed"]),
        (&json!(0), &json!(2)),
        "{body}"
    );

    // On demand: a full run through the API (nothing to push), then what it refuses.
    let (status, body) = daemon
        .call(
            Method::POST,
            "/api/v1/syncs/shop/catalog/run",
            Some(&key),
            Some(json!({"full": true})),
        )
        .await?;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["kind"], "sync.run");
    assert_eq!(body["payload"]["full"], true);
    runs_succeed(&pool, 3, "the API's run").await?;
    assert_eq!(
        partner.stats().deliveries,
        N as u64 + 2,
        "a full run with nothing changed writes nothing"
    );
    let (_, body) = daemon
        .call(Method::GET, "/api/v1/syncs/shop/catalog", Some(&key), None)
        .await?;
    assert_eq!(
        (
            &body["last_run"]["full"],
            &body["last_run"]["skipped"],
            &body["last_run"]["pushed"]
        ),
        (&json!(true), &json!(N), &json!(0)),
        "{body}"
    );
    let (status, body) = daemon
        .call(
            Method::POST,
            "/api/v1/syncs/shop/inventory/run",
            Some(&key),
            None,
        )
        .await?;
    assert_eq!(status, 422, "{body}");
    assert!(body.to_string().contains("[sync.shop.inventory]"), "{body}");
    let (status, _) = daemon
        .call(
            Method::POST,
            "/api/v1/syncs/shop/stock/run",
            Some(&key),
            None,
        )
        .await?;
    assert_eq!(status, 404);
    let (status, _) = daemon
        .call(
            Method::GET,
            "/api/v1/syncs/elsewhere/catalog",
            Some(&key),
            None,
        )
        .await?;
    assert_eq!(status, 404);
    let read_only = daemon.key("acme", &["read:jobs"]).await?;
    let (status, _) = daemon
        .call(
            Method::POST,
            "/api/v1/syncs/shop/catalog/run",
            Some(&read_only),
            None,
        )
        .await?;
    assert_eq!(status, 403);

    daemon.stop().await?;
    partner.shutdown().await;
    Ok(())
}

/// The number of `sync.run` jobs ever enqueued.
async fn runs_enqueued(pool: &sqlx::PgPool) -> anyhow::Result<i64> {
    count(pool, "SELECT count(*) FROM jobs WHERE kind = 'sync.run'").await
}

/// Stock and price changes move the feed's head, which all entities share, but give a catalog
/// sync nothing to do: its run ends with the checkpoint at the head it read, its lag counts
/// catalog changes only, and the dispatcher starts no catalog run for them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stock_and_price_changes_leave_a_catalog_sync_with_nothing_to_do() -> anyhow::Result<()> {
    use reqwest::Method;
    const N: i64 = 5;
    let partner = storefront(&["handle"], 0).await?;
    let (daemon, pool, org) = in_process(&partner, SYNC_TOML, true).await?;
    let key = daemon.key("acme", &["read:jobs"]).await?;
    let sql = |q: &'static str| {
        let pool = pool.clone();
        async move {
            sqlx::query(q).bind(org.0).execute(&pool).await?;
            anyhow::Ok(())
        }
    };
    let sync = || async {
        let (status, body) = daemon
            .call(Method::GET, "/api/v1/syncs/shop/catalog", Some(&key), None)
            .await?;
        anyhow::ensure!(status == 200, "{body}");
        anyhow::Ok(body)
    };
    seed(&pool, org, N, &[]).await?;
    // Stock and prices change after the products: the catalog's last change is below the head.
    sql("INSERT INTO inventory_locations (org_id, code, name) VALUES ($1, 'CHI', 'Chicago')")
        .await?;
    sql(
        "INSERT INTO inventory_levels (org_id, sku, location, on_hand, allocated, on_order)
         SELECT $1, sku, 'CHI', 10, 0, 0 FROM products WHERE org_id = $1",
    )
    .await?;
    sql("INSERT INTO price_lists (org_id, price_list_id, currency) VALUES ($1, 'WEB', 'USD')")
        .await?;
    sql(
        "INSERT INTO list_prices (org_id, price_list_id, sku, uom, amount)
         SELECT $1, 'WEB', sku, 'EA', 10 FROM products WHERE org_id = $1",
    )
    .await?;

    dispatch(&daemon.queue, org, "d1").await?;
    runs_succeed(&pool, 1, "the first run").await?;
    assert_eq!(partner.stats().applied, N as u64);
    let (checkpoint, head, ..) = state_of(&pool).await?;
    assert_eq!(
        checkpoint, head,
        "the run read the feed up to the head: the stock and price changes below it are handled"
    );
    let body = sync().await?;
    assert_eq!(
        (&body["lag"], &body["feed_head"]),
        (&json!(0), &json!(head))
    );

    // More stock and price changes: the head moves on, the catalog sync has nothing to do.
    sql("UPDATE inventory_levels SET on_hand = 7 WHERE org_id = $1").await?;
    sql("UPDATE list_prices SET amount = 11 WHERE org_id = $1").await?;
    let body = sync().await?;
    assert!(
        body["feed_head"].as_i64() > Some(head),
        "stock and prices moved the head: {body}"
    );
    assert_eq!(
        (&body["lag"], &body["checkpoint"]),
        (&json!(0), &json!(head))
    );
    dispatch(&daemon.queue, org, "d2").await?;
    assert_eq!(
        runs_enqueued(&pool).await?,
        1,
        "no catalog run for stock and price changes"
    );

    // A catalog change: lag 1, and the dispatcher starts the run that pushes it.
    sqlx::query("UPDATE products SET name = name || '!' WHERE org_id = $1 AND sku = $2")
        .bind(org.0)
        .bind(sku(3))
        .execute(&pool)
        .await?;
    assert_eq!(sync().await?["lag"], 1);
    dispatch(&daemon.queue, org, "d3").await?;
    assert_eq!(runs_enqueued(&pool).await?, 2);
    runs_succeed(&pool, 2, "the run of the catalog change").await?;
    let last = partner.deliveries().last().cloned().expect("a delivery");
    assert_eq!(
        (last.body["handle"].as_str(), partner.stats().applied),
        (Some(handle(3).as_str()), N as u64 + 1)
    );
    let body = sync().await?;
    assert_eq!(
        (&body["lag"], &body["checkpoint"]),
        (&json!(0), &body["feed_head"])
    );

    daemon.stop().await?;
    partner.shutdown().await;
    Ok(())
}

/// The storefront's `conversions` of a delivered product: (unit, base units per unit).
fn conversions(body: &Value) -> Vec<(String, f64)> {
    body["conversions"]
        .as_array()
        .map(|c| {
            c.iter()
                .filter_map(|c| Some((c["unit"].as_str()?.to_owned(), c["base_units"].as_f64()?)))
                .collect()
        })
        .unwrap_or_default()
}

/// A product's own unit conversions reach the storefront in base units (either way the rows
/// are written), and a changed conversion re-pushes that product only.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unit_conversions_reach_the_storefront_and_a_changed_one_repushes_its_product(
) -> anyhow::Result<()> {
    const N: i64 = 5;
    let partner = storefront(&["handle"], 0).await?;
    let (daemon, pool, org) = in_process(&partner, SYNC_TOML, false).await?;
    seed(&pool, org, N, &[]).await?;
    // P-00001 is sold by the EA: 1 BDL = 10 EA, and 1 EA = 25 LB (so 1 LB = 0.04 EA).
    sqlx::query(
        "INSERT INTO product_uom_conversions (org_id, sku, from_uom, to_uom, factor)
         VALUES ($1, $2, 'BDL', 'EA', 10), ($1, $2, 'EA', 'LB', 25)",
    )
    .bind(org.0)
    .bind(sku(1))
    .execute(&pool)
    .await?;

    assert_eq!(
        run_sync(&daemon.queue, org, "first", full(false)).await?,
        "succeeded"
    );
    let first = partner.deliveries();
    assert_eq!(first.len(), N as usize);
    for d in &first {
        let expected = if d.body["handle"] == handle(1) {
            vec![("BDL".to_owned(), 10.0), ("LB".to_owned(), 0.04)]
        } else {
            vec![]
        };
        assert_eq!(conversions(&d.body), expected, "{}", d.body);
    }

    sqlx::query(
        "UPDATE product_uom_conversions SET factor = 12 WHERE org_id = $1 AND sku = $2 AND from_uom = 'BDL'",
    )
    .bind(org.0)
    .bind(sku(1))
    .execute(&pool)
    .await?;
    assert_eq!(
        run_sync(&daemon.queue, org, "changed", incremental()).await?,
        "succeeded"
    );
    let again = &partner.deliveries()[first.len()..];
    assert_eq!(again.len(), 1, "that product only");
    assert_eq!(again[0].body["handle"], handle(1));
    assert_eq!(again[0].outcome, DeliveryOutcome::Applied);
    assert_eq!(
        conversions(&again[0].body),
        vec![("BDL".to_owned(), 12.0), ("LB".to_owned(), 0.04)]
    );

    daemon.stop().await?;
    partner.shutdown().await;
    Ok(())
}

/// A reservation of `quantity` of `sku` at CHI for 15 minutes; its id.
async fn reserve(
    pool: &sqlx::PgPool,
    org: OrgId,
    sku: &str,
    quantity: i32,
) -> anyhow::Result<uuid::Uuid> {
    let id = uuid::Uuid::now_v7();
    sqlx::query("INSERT INTO inventory_reservations (id, org_id, reference, expires_at) VALUES ($1, $2, $3, now() + interval '15 minutes')")
        .bind(id)
        .bind(org.0)
        .bind(format!("cart-{id}"))
        .execute(pool)
        .await?;
    sqlx::query("INSERT INTO inventory_reservation_lines (reservation_id, line, org_id, sku, location, quantity) VALUES ($1, 1, $2, $3, 'CHI', $4)")
        .bind(id)
        .bind(org.0)
        .bind(sku)
        .bind(quantity)
        .execute(pool)
        .await?;
    Ok(id)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inventory_sync_pushes_availability_that_reservations_lower() -> anyhow::Result<()> {
    let partner = storefront(&["sku", "available"], 0).await?;
    let (daemon, pool, org) = in_process(
        &partner,
        "[sync.shop.inventory]\nmapping = \"storefront/availability.out\"\ntombstone = \"storefront/availability.tombstone\"\n",
        false,
    )
    .await?;
    seed(&pool, org, 5, &[]).await?;
    sqlx::query(
        "INSERT INTO inventory_locations (org_id, code, name) VALUES ($1, 'CHI', 'Chicago')",
    )
    .bind(org.0)
    .execute(&pool)
    .await?;
    sqlx::query(
        "INSERT INTO inventory_levels (org_id, sku, location, on_hand, allocated, on_order)
         SELECT $1, sku, 'CHI', 10, 2, 4 FROM products WHERE org_id = $1",
    )
    .bind(org.0)
    .execute(&pool)
    .await?;
    let inventory = |full: bool| json!({"partner": "shop", "entity": "inventory", "full": full});
    let last = |partner: &FakePartner| partner.deliveries().last().cloned().expect("a delivery");

    assert_eq!(
        run_sync(&daemon.queue, org, "inv-1", inventory(true)).await?,
        "succeeded"
    );
    assert_eq!(partner.stats().applied, 5);
    let p1 = partner
        .deliveries()
        .into_iter()
        .find(|d| d.body["sku"] == sku(1))
        .expect("P-00001");
    assert_eq!(
        p1.body,
        json!({"sku": sku(1), "available": 8, "incoming": 4, "locations": [{"location": "CHI", "available": 8}]})
    );

    // A reservation lowers what is available: the next run pushes that SKU alone.
    let reservation = reserve(&pool, org, &sku(1), 3).await?;
    assert_eq!(
        run_sync(&daemon.queue, org, "inv-2", inventory(false)).await?,
        "succeeded"
    );
    assert_eq!(partner.stats().deliveries, 6);
    assert_eq!(
        (
            last(&partner).body["sku"].clone(),
            last(&partner).body["available"].clone()
        ),
        (json!(sku(1)), json!(5))
    );

    // Released: availability is back to what the partner had first. The content repeats an
    // earlier write, yet it is a new write the partner applies (not answered from its store).
    sqlx::query("UPDATE inventory_reservations SET released_at = now(), release_reason = 'released' WHERE id = $1")
        .bind(reservation)
        .execute(&pool)
        .await?;
    assert_eq!(
        run_sync(&daemon.queue, org, "inv-3", inventory(false)).await?,
        "succeeded"
    );
    let back = last(&partner);
    assert_eq!(back.body, p1.body);
    assert_eq!(back.outcome, DeliveryOutcome::Applied);
    assert_ne!(back.idempotency_key, p1.idempotency_key);

    // A removed product: the partner is told none is available.
    sqlx::query("UPDATE products SET deleted_at = now() WHERE org_id = $1 AND sku = $2")
        .bind(org.0)
        .bind(sku(4))
        .execute(&pool)
        .await?;
    sqlx::query("DELETE FROM inventory_levels WHERE org_id = $1 AND sku = $2")
        .bind(org.0)
        .bind(sku(4))
        .execute(&pool)
        .await?;
    assert_eq!(
        run_sync(&daemon.queue, org, "inv-4", inventory(false)).await?,
        "succeeded"
    );
    assert_eq!(last(&partner).body, json!({"sku": sku(4), "available": 0}));
    assert_eq!(partner.stats().deliveries, 8);

    // A reservation stops counting at its time, before the expiry job records the change in
    // the feed: the SKU's feed mark holds only until the reservation's expiry, so a full run
    // reads it again from that instant on and pushes what is available once it no longer
    // counts.
    let held = reserve(&pool, org, &sku(2), 1).await?;
    assert_eq!(
        run_sync(&daemon.queue, org, "inv-5", inventory(false)).await?,
        "succeeded"
    );
    assert_eq!(last(&partner).body["available"], json!(7));
    assert_eq!(
        run_sync(&daemon.queue, org, "inv-6", inventory(true)).await?,
        "succeeded"
    );
    // The four live SKUs decided unread (the removed one's tombstone is always mapped).
    assert_eq!(paths(&pool, "inventory").await?, (4, 0));
    assert_eq!(partner.stats().deliveries, 9);
    let head = |pool: sqlx::PgPool| async move {
        anyhow::Ok(
            sqlx::query_scalar::<_, i64>("SELECT seq FROM catalog_feed_heads")
                .fetch_one(&pool)
                .await?,
        )
    };
    let until: Vec<(String, Option<chrono::DateTime<chrono::Utc>>)> = sqlx::query_as(
        "SELECT sku, input_valid_until FROM sync_items WHERE entity = 'inventory' AND NOT tombstone ORDER BY sku",
    )
    .fetch_all(&pool)
    .await?;
    let expires: chrono::DateTime<chrono::Utc> =
        sqlx::query_scalar("SELECT expires_at FROM inventory_reservations WHERE id = $1")
            .bind(held)
            .fetch_one(&pool)
            .await?;
    assert_eq!(
        until,
        vec![
            (sku(0), None),
            (sku(1), None),
            (sku(2), Some(expires)),
            (sku(3), None)
        ],
        "the SKU holding the reservation is valid until it expires"
    );
    // Its time comes (the reservation's expiry and the mark's instant, moved back together
    // rather than waiting 15 minutes); the expiry job has not run, so the feed did not move.
    let before = head(pool.clone()).await?;
    sqlx::query(
        "UPDATE inventory_reservations SET expires_at = now() - interval '1 second' WHERE id = $1",
    )
    .bind(held)
    .execute(&pool)
    .await?;
    sqlx::query("UPDATE sync_items SET input_valid_until = now() - interval '1 second' WHERE entity = 'inventory' AND sku = $1")
        .bind(sku(2))
        .execute(&pool)
        .await?;
    assert_eq!(head(pool.clone()).await?, before, "the feed did not move");
    assert_eq!(
        run_sync(&daemon.queue, org, "inv-7", inventory(true)).await?,
        "succeeded"
    );
    assert_eq!(paths(&pool, "inventory").await?, (3, 1));
    assert_eq!(partner.stats().deliveries, 10);
    assert_eq!(
        (
            last(&partner).body["sku"].clone(),
            last(&partner).body["available"].clone()
        ),
        (json!(sku(2)), json!(8))
    );

    daemon.stop().await?;
    partner.shutdown().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prices_sync_pushes_the_storefront_price_and_skips_what_did_not_move_it(
) -> anyhow::Result<()> {
    let partner = storefront(&["sku", "prices"], 0).await?;
    let (daemon, pool, org) = in_process(
        &partner,
        "[sync.shop.prices]\nmapping = \"storefront/price_sync_retail.out\"\ntombstone = \"storefront/price_sync.tombstone\"\n",
        false,
    )
    .await?;
    seed(&pool, org, 3, &[]).await?;
    let sql = |q: &'static str| {
        let pool = pool.clone();
        async move {
            sqlx::query(q).bind(org.0).execute(&pool).await?;
            anyhow::Ok(())
        }
    };
    sql("INSERT INTO price_lists (org_id, price_list_id, currency) VALUES ($1, 'WEB', 'USD')")
        .await?;
    sql(
        "INSERT INTO list_prices (org_id, price_list_id, sku, uom, amount)
         VALUES ($1, 'WEB', 'P-00000', 'EA', 10), ($1, 'WEB', 'P-00001', 'EA', 20),
                ($1, 'WEB', 'P-00002', 'EA', 30)",
    )
    .await?;
    sql(
        "INSERT INTO volume_breaks (org_id, break_id, sku, min_quantity, uom, price, currency)
         VALUES ($1, 'B1', 'P-00001', 10, 'EA', 18, 'USD')",
    )
    .await?;
    sql(
        "UPDATE products SET price_visibility = 'quote_only' WHERE org_id = $1 AND sku = 'P-00002'",
    )
    .await?;
    let prices = |full: bool| json!({"partner": "shop", "entity": "prices", "full": full});
    let body_of = last_for;

    assert_eq!(
        run_sync(&daemon.queue, org, "prices-1", prices(false)).await?,
        "succeeded"
    );
    assert_eq!(partner.stats().applied, 3);
    let p1 = body_of(&partner, "P-00001").expect("P-00001 pushed");
    assert_eq!(p1["prices"][0]["currency"], "USD");
    assert_eq!(p1["prices"][0]["price"], json!("20.00"), "{p1}");
    assert_eq!(
        p1["prices"][0]["tiers"][0]["min_quantity"],
        json!("10"),
        "{p1}"
    );
    assert_eq!(p1["prices"][0]["tiers"][0]["price"], json!("18.00"), "{p1}");
    // Quote only: no price is published, the storefront is told to ask for a quote.
    let p2 = body_of(&partner, "P-00002").expect("P-00002 pushed");
    assert_eq!(p2["requires_quote"], json!(true), "{p2}");
    assert_eq!(p2["prices"], json!([]), "{p2}");

    // Nothing changed; then the same prices uploaded again; then a tier (which moves customer
    // prices, not the storefront's anonymous one): the feed names SKUs, the hashes match, and
    // the partner gets no write at all.
    assert_eq!(
        run_sync(&daemon.queue, org, "prices-2", prices(false)).await?,
        "succeeded"
    );
    sql("UPDATE list_prices SET amount = amount, updated_at = now() WHERE org_id = $1").await?;
    sql("INSERT INTO price_tiers (org_id, tier_code, percent) VALUES ($1, 'GOLD', 8)").await?;
    assert_eq!(
        run_sync(&daemon.queue, org, "prices-3", prices(false)).await?,
        "succeeded"
    );
    assert_eq!(
        run_sync(&daemon.queue, org, "prices-4", prices(true)).await?,
        "succeeded"
    );
    assert_eq!(
        partner.stats().deliveries,
        3,
        "no write for prices that did not move"
    );

    // One list price changed: that SKU alone.
    sql("UPDATE list_prices SET amount = 12 WHERE org_id = $1 AND sku = 'P-00000'").await?;
    assert_eq!(
        run_sync(&daemon.queue, org, "prices-5", prices(false)).await?,
        "succeeded"
    );
    assert_eq!(partner.stats().deliveries, 4);
    let p0 = body_of(&partner, "P-00000").expect("P-00000 pushed");
    assert_eq!(p0["prices"][0]["price"], json!("12.00"), "{p0}");

    // A removed product: its price is withdrawn (the tombstone form), once.
    sql("UPDATE products SET deleted_at = now() WHERE org_id = $1 AND sku = 'P-00001'").await?;
    assert_eq!(
        run_sync(&daemon.queue, org, "prices-6", prices(false)).await?,
        "succeeded"
    );
    assert_eq!(partner.stats().deliveries, 5);
    assert_eq!(
        body_of(&partner, "P-00001"),
        Some(json!({"sku": "P-00001", "prices": []}))
    );

    daemon.stop().await?;
    partner.shutdown().await;
    Ok(())
}

/// Two storefronts sync prices: `shop` maps customer-group and customer prices
/// (storefront/price_sync.out), `retail` only the visitor's (storefront/price_sync_retail.out).
/// A contract's new price re-pushes its SKU to `shop` and nothing to `retail` (the hash is of
/// the mapped payload); deleting the list price that won re-pushes the next one to both.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn customer_prices_reach_the_storefront_that_maps_them_and_only_that_one(
) -> anyhow::Result<()> {
    use switchyard_core::catalog::uom::Uom;
    use switchyard_store::pricing::{delete_prices, PriceKeys};
    let shop = storefront(&["sku", "prices"], 0).await?;
    let retail = storefront(&["sku", "prices"], 0).await?;
    let (daemon, pool, org) = in_process_with(
        &[("shop", &shop), ("retail", &retail)],
        "[sync.shop.prices]\nmapping = \"storefront/price_sync.out\"\n\
         tombstone = \"storefront/price_sync.tombstone\"\n\
         [sync.retail.prices]\nmapping = \"storefront/price_sync_retail.out\"\n\
         tombstone = \"storefront/price_sync.tombstone\"\n",
        false,
    )
    .await?;
    seed(&pool, org, 2, &[]).await?;
    let sql = |q: &'static str| {
        let pool = pool.clone();
        async move {
            sqlx::query(q).bind(org.0).execute(&pool).await?;
            anyhow::Ok(())
        }
    };
    sql("INSERT INTO customers (org_id, customer_id, name) VALUES ($1, 'C1', 'Contract Co'), ($1, 'C2', 'Gold Co')")
        .await?;
    sql("INSERT INTO price_lists (org_id, price_list_id, currency) VALUES ($1, 'WEB', 'USD'), ($1, 'A-PROMO', 'USD')")
        .await?;
    sql(
        "INSERT INTO list_prices (org_id, price_list_id, sku, uom, amount)
         VALUES ($1, 'WEB', 'P-00000', 'EA', 10), ($1, 'WEB', 'P-00001', 'EA', 20),
                ($1, 'A-PROMO', 'P-00001', 'EA', 18)",
    )
    .await?;
    sql(
        "INSERT INTO price_contracts (org_id, contract_id, sku, customer_id, price, uom, currency, valid_to)
         VALUES ($1, 'K1', 'P-00000', 'C1', 8, 'EA', 'USD', '2999-12-31')",
    )
    .await?;
    sql("INSERT INTO price_tiers (org_id, tier_code, name, percent) VALUES ($1, 'GOLD', 'Gold', 10)")
        .await?;
    sql("INSERT INTO customer_tiers (org_id, customer_id, tier_code) VALUES ($1, 'C2', 'GOLD')")
        .await?;
    let run = |partner: &'static str, key: String| {
        let queue = daemon.queue.clone();
        async move {
            let payload = json!({"partner": partner, "entity": "prices"});
            run_sync_of(&queue, org, partner, &key, payload).await
        }
    };
    let last = |partner: &FakePartner, sku: &str| last_for(partner, sku).unwrap_or_default();

    for p in ["shop", "retail"] {
        assert_eq!(run(p, format!("{p}-1")).await?, "succeeded");
    }
    assert_eq!((shop.stats().applied, retail.stats().applied), (2, 2));
    let p0 = last(&shop, "P-00000");
    assert_eq!(
        p0["customer_prices"],
        json!([{"customer_id": "C1", "currency": "USD", "price": "8.00", "valid_to": "2999-12-31"}]),
        "{p0}"
    );
    assert_eq!(
        p0["group_prices"],
        json!([{"customer_group": "GOLD", "currency": "USD", "price": "9.00", "tiers": []}]),
        "{p0}"
    );
    assert_eq!(last(&shop, "P-00001")["prices"][0]["price"], json!("18.00"));
    let r0 = last(&retail, "P-00000");
    assert_eq!(r0.get("customer_prices"), None, "{r0}");
    assert_eq!(r0.get("group_prices"), None, "{r0}");

    // The contract's price: `shop` gets that SKU again, `retail` nothing.
    sql("UPDATE price_contracts SET price = 7.5 WHERE org_id = $1 AND contract_id = 'K1'").await?;
    for p in ["shop", "retail"] {
        assert_eq!(run(p, format!("{p}-2")).await?, "succeeded");
    }
    assert_eq!(shop.stats().deliveries, 3);
    assert_eq!(
        retail.stats().deliveries,
        2,
        "no write where customer prices are not mapped"
    );
    assert_eq!(
        last(&shop, "P-00000")["customer_prices"][0]["price"],
        json!("7.50")
    );

    // The winning list price deleted: both get the next one.
    let gone = delete_prices(
        &pool,
        org,
        &PriceKeys::ListPrices(vec![("A-PROMO".into(), "P-00001".into(), Uom::new("EA")?)]),
    )
    .await?;
    assert_eq!(gone, [true]);
    for p in ["shop", "retail"] {
        assert_eq!(run(p, format!("{p}-3")).await?, "succeeded");
    }
    assert_eq!((shop.stats().deliveries, retail.stats().deliveries), (4, 3));
    for partner in [&shop, &retail] {
        let p1 = last(partner, "P-00001");
        assert_eq!(
            p1["prices"],
            json!([{"currency": "USD", "price": "20.00", "tiers": []}]),
            "{p1}"
        );
    }

    daemon.stop().await?;
    shop.shutdown().await;
    retail.shutdown().await;
    Ok(())
}

/// Input hashes of the sync's items, by SKU (None: not recorded).
async fn input_hashes(pool: &sqlx::PgPool) -> anyhow::Result<BTreeMap<String, Option<Vec<u8>>>> {
    Ok(
        sqlx::query_as(
            "SELECT sku, input_hash FROM sync_items WHERE partner = 'shop' ORDER BY sku",
        )
        .fetch_all(pool)
        .await?
        .into_iter()
        .collect(),
    )
}

/// What the partner confirmed is vouched for by the input it was mapped from (the item's text
/// and the mapping file): an item whose input is unchanged is skipped without being mapped, and
/// a changed mapping file maps every item again, re-pushing exactly those whose document it
/// changes and recording the new input of the others.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unchanged_inputs_are_not_mapped_again_and_a_changed_mapping_repushes_what_it_changes(
) -> anyhow::Result<()> {
    const N: i64 = 20;
    let weightless: Vec<i64> = (0..10).collect();
    let mappings = tempfile::tempdir()?;
    let dir = mappings.path().join("storefront");
    std::fs::create_dir_all(&dir)?;
    let repo = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../mappings/storefront");
    for file in ["product.out.toml", "product.tombstone.toml"] {
        std::fs::copy(repo.join(file), dir.join(file))?;
    }
    let partner = storefront(&["handle", "title"], 0).await?;
    let (daemon, pool, org) =
        in_process_from(mappings.path(), &[("shop", &partner)], SYNC_TOML, false).await?;
    seed(&pool, org, N, &weightless).await?;
    // A full run of the sync, which must succeed.
    let full_run = |key: &'static str| {
        let queue = daemon.queue.clone();
        async move {
            let state = run_sync(&queue, org, key, full(false)).await?;
            anyhow::ensure!(state == "succeeded", "the run {key} ended {state}");
            anyhow::Ok(())
        }
    };

    // 1. The first sync records, with each confirmation, the input it was mapped from.
    full_run("first").await?;
    assert_eq!(partner.stats().deliveries, N as u64);
    let first = input_hashes(&pool).await?;
    assert_eq!(first.len(), N as usize);
    assert!(first
        .values()
        .all(|h| h.as_ref().is_some_and(|h| h.len() == 32)));

    // 2. Skipped without mapping: P-00013's confirmed payload hash is made wrong. Mapping and
    // hashing the item would find it differs and push it; its input is unchanged, so a full
    // run compares no payload and writes nothing.
    let wrong = vec![0u8; 32];
    sqlx::query("UPDATE sync_items SET confirmed_hash = $1 WHERE sku = $2")
        .bind(&wrong)
        .bind(sku(13))
        .execute(&pool)
        .await?;
    full_run("unchanged").await?;
    assert_eq!(partner.stats().deliveries, N as u64, "no item was mapped");
    assert_eq!(input_hashes(&pool).await?, first);
    assert_eq!(paths(&pool, "catalog").await?, (N, 0), "none was even read");
    // Without its input hash (a row from before them), the item is mapped, its payload's
    // hash compared, and it is pushed.
    sqlx::query("UPDATE sync_items SET input_hash = NULL WHERE sku = $1")
        .bind(sku(13))
        .execute(&pool)
        .await?;
    full_run("mapped").await?;
    assert_eq!(paths(&pool, "catalog").await?, (N - 1, 1));
    let deliveries = partner.deliveries();
    assert_eq!(deliveries.len(), N as usize + 1);
    assert_eq!(deliveries[N as usize].body["handle"], "p-00013");
    assert_eq!(
        input_hashes(&pool).await?,
        first,
        "its input recorded again"
    );

    // 3. The mapping file changes the weight unit's name: the products with a weight get a
    // new document and are pushed again; the weightless ones map to the same document, are
    // not pushed, and their input under the new mapping is recorded.
    let mut reloads = daemon.running.mappings.watch_reloads();
    let file = dir.join("product.out.toml");
    let text = std::fs::read_to_string(&file)?;
    let changed = text.replace("LB = \"lb\"", "LB = \"lbs\"");
    assert_ne!(changed, text, "the mapping names the unit");
    let before = *reloads.borrow_and_update();
    let tmp = file.with_extension("toml.tmp");
    std::fs::write(&tmp, changed)?;
    std::fs::rename(&tmp, &file)?;
    tokio::time::timeout(
        Duration::from_secs(30),
        reloads.wait_for(|r| r.updated > before.updated),
    )
    .await
    .map_err(|_| anyhow::anyhow!("the changed mapping was not reloaded within 30 s"))??;
    full_run("remapped").await?;
    assert_eq!(
        paths(&pool, "catalog").await?,
        (0, N),
        "another mapping reads every item"
    );
    let written = &partner.deliveries()[N as usize + 1..];
    let weighed: BTreeSet<String> = (10..N).map(handle).collect();
    assert_eq!(applied_handles(written), weighed);
    assert_eq!(written.len(), weighed.len(), "each once");
    assert!(written.iter().all(|d| d.body["weight_unit"] == "lbs"));
    let remapped = input_hashes(&pool).await?;
    for (sku, hash) in &remapped {
        assert!(hash.is_some(), "{sku}: input recorded");
        assert_ne!(hash, &first[sku], "{sku}: the input includes the mapping");
    }
    // And the next full run, with nothing changed, writes nothing.
    full_run("settled").await?;
    assert_eq!(partner.stats().deliveries, 2 * N as u64 - 10 + 1);
    assert_eq!(paths(&pool, "catalog").await?, (N, 0));
    assert_eq!(input_hashes(&pool).await?, remapped);

    daemon.stop().await?;
    partner.shutdown().await;
    Ok(())
}

/// A full sync reads only the items whose change-feed entry moved since the partner's confirmed
/// input was read (migration 0023): the others are decided unread; an item whose document
/// changed is read and pushed; one changed where the partner's document does not look is read,
/// found the same, and its new position recorded; a variant moves its product.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_sync_reads_only_the_items_whose_feed_entry_moved() -> anyhow::Result<()> {
    const N: i64 = 50;
    let partner = storefront(&["handle", "title"], 0).await?;
    let (daemon, pool, org) = in_process(&partner, SYNC_TOML, false).await?;
    seed(&pool, org, N, &[]).await?;
    let full_run = |key: &'static str| {
        let queue = daemon.queue.clone();
        async move {
            let state = run_sync(&queue, org, key, full(false)).await?;
            anyhow::ensure!(state == "succeeded", "the run {key} ended {state}");
            anyhow::Ok(())
        }
    };

    full_run("first").await?;
    assert_eq!(partner.stats().deliveries, N as u64);
    assert_eq!(
        paths(&pool, "catalog").await?,
        (0, N),
        "all read the first time"
    );
    full_run("idle").await?;
    assert_eq!(partner.stats().deliveries, N as u64);
    assert_eq!(paths(&pool, "catalog").await?, (N, 0), "none read");
    let (_, _, examined, pushed, skipped, _) = state_of(&pool).await?;
    assert_eq!((examined, pushed, skipped), (N, 0, N));

    // P-00004 renamed (its document changes), P-00005's lead time (not in its document).
    sqlx::query("UPDATE products SET name = name || ' (new)' WHERE org_id = $1 AND sku = $2")
        .bind(org.0)
        .bind(sku(4))
        .execute(&pool)
        .await?;
    sqlx::query("UPDATE products SET lead_time_days = 9 WHERE org_id = $1 AND sku = $2")
        .bind(org.0)
        .bind(sku(5))
        .execute(&pool)
        .await?;
    full_run("moved").await?;
    assert_eq!(paths(&pool, "catalog").await?, (N - 2, 2));
    let deliveries = partner.deliveries();
    assert_eq!(deliveries.len(), N as usize + 1, "only the renamed one");
    assert_eq!(deliveries[N as usize].body["handle"], "p-00004");
    assert_eq!(deliveries[N as usize].body["title"], "Plate 4 (new)");
    let (_, _, examined, pushed, skipped, _) = state_of(&pool).await?;
    assert_eq!((examined, pushed, skipped), (N, 1, N - 1));
    // Both positions recorded: nothing is read next time.
    full_run("settled").await?;
    assert_eq!(paths(&pool, "catalog").await?, (N, 0));

    // A variant added: its own SKU (never a product, so nothing to read) and its product's
    // entry move; the product is read again.
    sqlx::query(
        "INSERT INTO product_variants (org_id, sku, parent_sku, name) VALUES ($1, 'P-00006-T', $2, 'thin')",
    )
    .bind(org.0)
    .bind(sku(6))
    .execute(&pool)
    .await?;
    full_run("variant").await?;
    assert_eq!(paths(&pool, "catalog").await?, (N - 1, 1));

    // Forced: every item read and written again.
    let before = partner.stats().deliveries;
    let state = run_sync(&daemon.queue, org, "forced", full(true)).await?;
    assert_eq!(state, "succeeded");
    assert_eq!(paths(&pool, "catalog").await?, (0, N));
    assert_eq!(partner.stats().deliveries, before + N as u64);

    daemon.stop().await?;
    partner.shutdown().await;
    Ok(())
}

/// A prices item answers "what is valid today": a list price that ends today and another that
/// starts tomorrow change it overnight, with no change in the feed. Its feed mark holds until
/// that boundary (00:00 UTC), so the next day's full run reads and pushes it, while the item
/// whose prices have no boundary ahead stays unread.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_price_validity_boundary_passing_reads_the_item_again() -> anyhow::Result<()> {
    use chrono::Utc;
    use std::sync::Arc;
    use switchyard_core::clock::{Clock, ManualClock};
    let partner = storefront(&["sku", "prices"], 0).await?;
    let clock = ManualClock::new(Utc::now());
    let daemon = TestDaemon::builder()
        .repo_mappings()
        .http_partner("shop", &partner, "acme")
        .toml("[sync.shop.prices]\nmapping = \"storefront/price_sync_retail.out\"\ntombstone = \"storefront/price_sync.tombstone\"\n")
        .clock(Arc::new(clock.clone()))
        .roles(Roles {
            api: false,
            worker: true,
            scheduler: false,
        })
        .start()
        .await?;
    let pool = daemon.db.pool.clone();
    let org = daemon.org("acme").await?;
    seed(&pool, org, 2, &[]).await?;
    let today = clock.now().date_naive();
    sqlx::query(
        "INSERT INTO price_lists (org_id, price_list_id, currency) VALUES ($1, 'WEB', 'USD'), ($1, 'NEXT', 'USD')",
    )
    .bind(org.0)
    .execute(&pool)
    .await?;
    sqlx::query(
        "INSERT INTO list_prices (org_id, price_list_id, sku, uom, amount, valid_from, valid_to)
         VALUES ($1, 'WEB', 'P-00000', 'EA', 10, NULL, $2), ($1, 'NEXT', 'P-00000', 'EA', 12, $3, NULL),
                ($1, 'WEB', 'P-00001', 'EA', 20, NULL, NULL)",
    )
    .bind(org.0)
    .bind(today)
    .bind(today.succ_opt())
    .execute(&pool)
    .await?;
    let prices = json!({"partner": "shop", "entity": "prices", "full": true});
    let price_of = |sku: &str| last_for(&partner, sku).map(|b| b["prices"][0]["price"].clone());

    assert_eq!(
        run_sync(&daemon.queue, org, "day-1", prices.clone()).await?,
        "succeeded"
    );
    assert_eq!(partner.stats().deliveries, 2);
    assert_eq!(price_of("P-00000"), Some(json!("10.00")));
    assert_eq!(
        run_sync(&daemon.queue, org, "day-1-again", prices.clone()).await?,
        "succeeded"
    );
    assert_eq!(
        paths(&pool, "prices").await?,
        (2, 0),
        "the same day: none read"
    );
    assert_eq!(partner.stats().deliveries, 2);

    // Midnight passes: WEB's price ended yesterday, NEXT's starts today.
    let midnight = today
        .succ_opt()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .expect("a day")
        .and_utc();
    clock.set(midnight);
    assert_eq!(
        run_sync(&daemon.queue, org, "day-2", prices.clone()).await?,
        "succeeded"
    );
    assert_eq!(
        paths(&pool, "prices").await?,
        (1, 1),
        "P-00000 alone is read"
    );
    assert_eq!(partner.stats().deliveries, 3);
    assert_eq!(price_of("P-00000"), Some(json!("12.00")));
    // No boundary ahead any more: read no more.
    clock.set(midnight + chrono::Duration::days(30));
    assert_eq!(
        run_sync(&daemon.queue, org, "day-31", prices.clone()).await?,
        "succeeded"
    );
    assert_eq!(paths(&pool, "prices").await?, (2, 0));
    assert_eq!(partner.stats().deliveries, 3);

    // A product's price visibility is part of its prices item: it moves the prices feed
    // (migration 0023), so the full run reads that product again and pushes it.
    sqlx::query(
        "UPDATE products SET price_visibility = 'quote_only' WHERE org_id = $1 AND sku = 'P-00001'",
    )
    .bind(org.0)
    .execute(&pool)
    .await?;
    assert_eq!(
        run_sync(&daemon.queue, org, "quote-only", prices.clone()).await?,
        "succeeded"
    );
    assert_eq!(paths(&pool, "prices").await?, (1, 1));
    assert_eq!(partner.stats().deliveries, 4);
    assert_eq!(
        last_for(&partner, "P-00001").map(|b| b["requires_quote"].clone()),
        Some(json!(true))
    );

    daemon.stop().await?;
    partner.shutdown().await;
    Ok(())
}
