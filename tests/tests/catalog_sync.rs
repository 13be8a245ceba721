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
use switchyard_e2e::{count, eventually, TestDaemon};
use switchyard_store::queue::{NewJob, Queue, RetryPolicy, RetrySpec};

const SYNC_TOML: &str = "[sync.shop.catalog]\nmapping = \"storefront/product.out\"\ntombstone = \"storefront/product.tombstone\"\npage_size = 200\n";

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

/// Enqueue `sync.run` and wait for it to end; its final state.
async fn run_sync(
    queue: &Queue,
    org: OrgId,
    key: &str,
    payload: Value,
) -> anyhow::Result<String> {
    let job = NewJob::new(org, "sync.run", payload)
        .partner("shop")
        .key(key)
        .retry(RetrySpec::of(RetryPolicy::Immediate));
    let id = queue.enqueue(job).await?.job.id;
    let state = |pool: sqlx::PgPool| async move {
        let (s,): (String,) = sqlx::query_as("SELECT state FROM jobs WHERE id = $1")
            .bind(id.0)
            .fetch_one(&pool)
            .await?;
        anyhow::Ok(s)
    };
    eventually(Duration::from_secs(60), "the sync run to end", || {
        let s = state(queue.pool().clone());
        async move { Ok(matches!(s.await?.as_str(), "succeeded" | "dead")) }
    })
    .await?;
    state(queue.pool().clone()).await
}

fn incremental() -> Value {
    json!({"partner": "shop", "entity": "catalog"})
}

fn full(force: bool) -> Value {
    json!({"partner": "shop", "entity": "catalog", "full": true, "force": force})
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pushes_only_what_changed_and_unpublishes_what_was_removed() -> anyhow::Result<()> {
    const N: i64 = 500;
    let partner = FakePartner::start(
        FakePartnerConfig::new()
            .bearer_token("sync-token")
            .required_fields(["handle", "status"]),
    )
    .await?;
    let daemon = TestDaemon::builder()
        .repo_mappings()
        .http_partner("shop", &partner, "acme")
        .toml(SYNC_TOML)
        .start()
        .await?;
    let pool = daemon.db.pool.clone();
    let org = daemon.org("acme").await?;
    seed(&pool, org, N, &[]).await?;

    // 1. First full sync: every product written once, its id and hash recorded.
    assert_eq!(run_sync(&daemon.queue, org, "first", full(false)).await?, "succeeded");
    let stats = partner.stats();
    assert_eq!((stats.deliveries, stats.applied), (N as u64, N as u64));
    assert_eq!(applied_handles(&partner.deliveries()).len(), N as usize);
    assert_eq!(
        count(&pool, "SELECT count(*) FROM sync_items WHERE external_id LIKE 'doc_%' AND generation = 1").await?,
        N
    );
    let (checkpoint, head, examined, pushed, skipped, failed) = state_of(&pool).await?;
    assert_eq!(checkpoint, head, "a finished full sync leaves the checkpoint at the head");
    assert_eq!((examined, pushed, skipped, failed), (N, N, 0, 0));
    let first = partner.deliveries();
    let p7 = first.iter().find(|d| d.body["handle"] == "p-00007").expect("p-00007 pushed");
    assert_eq!(p7.body["title"], "Plate 7");
    assert_eq!(p7.body["status"], "active");
    assert_eq!(p7.body["weight"], json!(7));

    // 2. Nothing changed: an incremental run and a full one make no write call at all.
    assert_eq!(run_sync(&daemon.queue, org, "idle", incremental()).await?, "succeeded");
    assert_eq!(run_sync(&daemon.queue, org, "idle-full", full(false)).await?, "succeeded");
    assert_eq!(partner.stats().deliveries, N as u64, "no write when nothing changed");
    let (_, _, examined, pushed, skipped, _) = state_of(&pool).await?;
    assert_eq!((examined, pushed, skipped), (N, 0, N), "the full run skipped all by hash");

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
    assert_eq!(run_sync(&daemon.queue, org, "one-percent", incremental()).await?, "succeeded");
    let after = partner.deliveries();
    let written = &after[N as usize..];
    assert_eq!(
        applied_handles(written),
        [3, 50, 120, 333, 499].map(handle).into_iter().collect()
    );
    assert_eq!(written.len(), 5, "exactly the changed items, once each");
    assert!(written.iter().all(|d| d.body["title"].as_str().is_some_and(|t| t.ends_with(" (new)"))));
    let (checkpoint, head, examined, pushed, skipped, _) = state_of(&pool).await?;
    assert_eq!((checkpoint, examined, pushed, skipped), (head, 6, 5, 1));

    // 4. Removed: two tombstoned, one deleted outright. Each is unpublished under the
    // partner's id for it; a product never pushed and removed is not sent at all.
    let ids: BTreeMap<String, String> = sqlx::query_as(
        "SELECT sku, external_id FROM sync_items WHERE sku = ANY($1)",
    )
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
    assert_eq!(run_sync(&daemon.queue, org, "removed", incremental()).await?, "succeeded");
    let tombstones = &partner.deliveries()[N as usize + 5..];
    assert_eq!(tombstones.len(), 3, "{tombstones:#?}");
    for d in tombstones {
        let h = d.body["handle"].as_str().unwrap_or_default();
        let s = h.to_uppercase();
        assert_eq!(d.body["status"], "archived", "{h}");
        assert_eq!(d.body["published"], json!(false), "{h}");
        assert_eq!(d.body["id"].as_str(), ids.get(&s).map(String::as_str), "{h}");
        assert_eq!(d.outcome, DeliveryOutcome::Applied);
    }
    assert_eq!(
        count(&pool, "SELECT count(*) FROM sync_items WHERE tombstone AND generation = 2").await?,
        3
    );
    // A removed product stays removed: the next run sends nothing.
    assert_eq!(run_sync(&daemon.queue, org, "removed-again", full(false)).await?, "succeeded");
    assert_eq!(partner.stats().deliveries, N as u64 + 8);

    // 5. Forced: every item the partner has is written again (tombstones included), under
    // new keys, so the partner applies each.
    assert_eq!(run_sync(&daemon.queue, org, "forced", full(true)).await?, "succeeded");
    let stats = partner.stats();
    assert_eq!(stats.deliveries, 2 * N as u64 + 8);
    assert_eq!(stats.applied, stats.deliveries, "every forced write applied, none replayed");

    daemon.stop().await?;
    partner.shutdown().await;
    Ok(())
}

async fn open_dead_letters(pool: &sqlx::PgPool) -> anyhow::Result<Vec<(DeadLetterId, Value, String)>> {
    let rows: Vec<(uuid::Uuid, Value, String)> = sqlx::query_as(
        "SELECT id, payload, reason FROM dead_letters WHERE kind = 'sync.item' AND state = 'open' ORDER BY payload->>'sku'",
    )
    .fetch_all(pool)
    .await?;
    Ok(rows.into_iter().map(|(id, p, r)| (DeadLetterId(id), p, r)).collect())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_items_become_dead_letters_and_a_replay_pushes_the_current_version() -> anyhow::Result<()> {
    const N: i64 = 40;
    let refused = [4, 17, 30];
    // The partner requires a weight; three products have none.
    let partner = FakePartner::start(
        FakePartnerConfig::new()
            .bearer_token("sync-token")
            .required_fields(["handle", "weight"]),
    )
    .await?;
    let daemon = TestDaemon::builder()
        .repo_mappings()
        .http_partner("shop", &partner, "acme")
        .toml(SYNC_TOML)
        .start()
        .await?;
    let pool = daemon.db.pool.clone();
    let org = daemon.org("acme").await?;
    seed(&pool, org, N, &refused).await?;

    assert_eq!(run_sync(&daemon.queue, org, "first", full(false)).await?, "succeeded");
    let stats = partner.stats();
    assert_eq!(stats.applied, (N - 3) as u64, "the rest of the page went on");
    assert_eq!(stats.rejected, 3);
    let (checkpoint, head, _, pushed, _, failed) = state_of(&pool).await?;
    assert_eq!((checkpoint, pushed, failed), (head, N - 3, 3));
    let dead = open_dead_letters(&pool).await?;
    assert_eq!(dead.len(), 3);
    let mapping_hash = dead[0].1["mapping_hash"].as_str().unwrap_or_default().to_owned();
    assert_eq!(mapping_hash.len(), 64, "the mapping's sha256");
    for ((_, payload, reason), i) in dead.iter().zip(refused) {
        assert_eq!(payload["sku"], sku(i));
        assert_eq!(payload["entity"], "catalog");
        assert_eq!(payload["mapping"], "storefront/product.out");
        assert_eq!(payload["mapping_hash"].as_str(), Some(mapping_hash.as_str()));
        assert_eq!(payload["item"]["sku"], sku(i), "the item as it failed");
        assert_eq!(payload["status"], 422);
        assert!(reason.contains("missing required fields: weight"), "{reason}");
        assert!(payload["error"].as_str().is_some_and(|e| e.contains("weight")), "{payload}");
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
            Ok(count(&pool, "SELECT count(*) FROM jobs WHERE kind = 'sync.item' AND state = 'succeeded'").await? == 1)
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
    assert_eq!(run_sync(&daemon.queue, org, "after-replay", incremental()).await?, "succeeded");
    assert_eq!(partner.stats().deliveries, before, "the replayed version is not sent twice");
    let (_, _, examined, pushed, skipped, _) = state_of(&pool).await?;
    assert_eq!((examined, pushed, skipped), (1, 0, 1));

    daemon.stop().await?;
    partner.shutdown().await;
    Ok(())
}
