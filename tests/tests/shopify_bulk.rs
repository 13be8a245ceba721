//! The sync engine to the fake Shopify through bulk operations (pages above `bulk_threshold`),
//! with real Postgres: the first full sync goes through bulk, an operation FAILED half-way has
//! the rest resumed (each product written exactly once, counted per SKU at the fake), a sync
//! with nothing changed makes zero writes, 1 % changed writes only those (single calls under
//! the threshold), an operation that never finishes is reported (the run fails with it named,
//! nothing counted done) and followed, not resubmitted, once it ends; and a sync SIGKILLed
//! while its operation ran is resumed by a second process that reads that operation's result
//! instead of submitting its lines again (once the killed process's bulk lease expired). The
//! `bulk_operations/finish` webhook goes through the daemon's `POST /webhooks/shop`. Two
//! adapter instances (two processes' worth of memory, one database) pushing different big
//! batches to one shop at once take turns through the connection's lease: the shop never has
//! to refuse a second operation, every product lands once; a third that cannot wait long
//! enough gets a transient error and adopts nothing. A prices page above the threshold takes
//! the same lease: while one process's catalog operation runs, another's bulk prices wait for
//! it (an impatient one is refused transiently, naming the holder) and never submit beside it.
//!
//! (Beside tests/tests/shopify_sync.rs rather than in it: that file is also being extended for
//! the other half of issue #12.)

use serde_json::json;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;
use switchyard_core::adapter::{
    Adapter, AdapterContext, BatchItem, OutboundDocument, Payload, Presence,
};
use switchyard_core::ids::{OrgId, PartnerName};
use switchyard_daemon::app::Roles;
use switchyard_e2e::TestDaemon;
use switchyard_runtime::testkit::doubles::{context, MapSecrets, RecordingSink};
use switchyard_shopify::config::Settings;
use switchyard_shopify::fake::{BulkStatus, FakeShopify, FakeShopifyConfig};
use switchyard_shopify::ShopifyAdapter;
use switchyard_store::queue::{NewJob, Queue, RetryPolicy, RetrySpec};

const HOOKS: &str = "hush-now";
const ID_PATH: &[&str] = &["identifier", "customId", "value"];

fn section(fake: &FakeShopify, token: &str, hooks: &str, max_wait_secs: u64) -> String {
    format!(
        "[partners.shop]\nkind = \"shopify\"\norg = \"acme\"\nshop_url = \"{}\"\napi_version = \"2026-04\"\naccess_token = \"{token}\"\nwebhooks = {{ secret = \"{hooks}\" }}\nbulk_threshold = 50\nbulk_poll_ms = 50\nbulk_max_wait_secs = {max_wait_secs}\nbulk_lease_secs = 5\n\n[sync.shop.catalog]\nmapping = \"shopify/product.out\"\ntombstone = \"shopify/product.tombstone\"\npage_size = 100\n",
        fake.base_url()
    )
}

async fn daemon(
    fake: &FakeShopify,
    max_wait_secs: u64,
) -> anyhow::Result<(TestDaemon, sqlx::PgPool, OrgId)> {
    let daemon = TestDaemon::builder()
        .repo_mappings()
        .toml(&section(
            fake,
            "secret:shop-token",
            "secret:shop-hooks",
            max_wait_secs,
        ))
        .secret("secret:shop-token", fake.token())
        .secret("secret:shop-hooks", HOOKS)
        .roles(Roles {
            api: true,
            worker: true,
            scheduler: false,
        })
        .start()
        .await?;
    fake.bulk_finish_webhook(format!("{}/webhooks/shop", daemon.api()));
    let pool = daemon.db.pool.clone();
    let org = daemon.org("acme").await?;
    Ok((daemon, pool, org))
}

async fn seed(pool: &sqlx::PgPool, org: OrgId, n: i64) -> anyhow::Result<()> {
    sqlx::query(
        "INSERT INTO products (org_id, sku, name, uom, web_visible, material_grade)
         SELECT $1, 'P-' || lpad(i::text, 5, '0'), 'Plate ' || i, 'EA', true, 'A36'
         FROM generate_series(0, $2 - 1) AS i",
    )
    .bind(org.0)
    .bind(n)
    .execute(pool)
    .await?;
    Ok(())
}

fn sync_job(org: OrgId, key: &str, full: bool, attempts: i32) -> NewJob {
    NewJob::new(
        org,
        "sync.run",
        json!({"partner": "shop", "entity": "catalog", "full": full}),
    )
    .partner("shop")
    .key(key)
    .retry(RetrySpec {
        policy: RetryPolicy::Immediate,
        max_attempts: attempts,
    })
}

async fn run_sync(
    queue: &Queue,
    org: OrgId,
    key: &str,
    full: bool,
    attempts: i32,
) -> anyhow::Result<String> {
    let id = queue
        .enqueue(sync_job(org, key, full, attempts))
        .await?
        .job
        .id;
    switchyard_e2e::jobs::ended(queue.pool(), id).await
}

async fn count(pool: &sqlx::PgPool, sql: &str) -> anyhow::Result<i64> {
    Ok(sqlx::query_scalar(sql).fetch_one(pool).await?)
}

fn once_each(per: &BTreeMap<String, usize>, n: usize) {
    assert_eq!(per.len(), n, "every product written");
    let twice: Vec<_> = per.iter().filter(|(_, c)| **c != 1).collect();
    assert!(
        twice.is_empty(),
        "products written more than once: {twice:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn full_sync_through_bulk_resumes_a_half_failed_operation_then_no_change_and_one_percent(
) -> anyhow::Result<()> {
    let fake = FakeShopify::start(FakeShopifyConfig::default().webhook_secret(HOOKS)).await?;
    let (daemon, pool, org) = daemon(&fake, 60).await?;
    let queue = daemon.queue.clone();
    seed(&pool, org, 300).await?;

    fake.bulk_fail_next_halfway();
    assert_eq!(run_sync(&queue, org, "full-1", true, 3).await?, "succeeded");
    assert_eq!(fake.product_count(), 300);
    once_each(&fake.applied_per("productSet", ID_PATH), 300);
    let ops = fake.bulk_operations();
    // Three pages of 100; the first operation failed after 50 lines and only its other 50
    // went again.
    assert_eq!(ops.len(), 4, "{ops:?}");
    assert_eq!((ops[0].status, ops[0].done), (BulkStatus::Failed, 50));
    assert_eq!((ops[1].status, ops[1].lines), (BulkStatus::Completed, 50));
    assert!(ops[2..]
        .iter()
        .all(|o| o.status == BulkStatus::Completed && o.lines == 100));
    assert_eq!(
        count(
            &pool,
            "SELECT count(*) FROM sync_items WHERE partner = 'shop'"
        )
        .await?,
        300
    );
    assert_eq!(
        count(&pool, "SELECT count(*) FROM shopify_bulk_operations").await?,
        0,
        "nothing left in flight"
    );
    // The finish webhooks reached the daemon, verified.
    switchyard_e2e::eventually(Duration::from_secs(30), "bulk_operations/finish deliveries stored", || {
        let pool = pool.clone();
        async move {
            Ok(count(&pool, "SELECT count(*) FROM webhook_deliveries WHERE topic = 'bulk_operations/finish'").await.unwrap_or(0) >= 4)
        }
    })
    .await?;

    // Nothing changed: zero writes.
    fake.clear_writes();
    assert_eq!(
        run_sync(&queue, org, "incr-1", false, 3).await?,
        "succeeded"
    );
    assert_eq!(run_sync(&queue, org, "full-2", true, 3).await?, "succeeded");
    assert!(fake.writes().is_empty(), "{:?}", fake.writes());

    // 1 % changed: those three written, one call each (under the threshold).
    sqlx::query("UPDATE products SET name = name || ' (new)' WHERE org_id = $1 AND sku IN ('P-00007', 'P-00107', 'P-00207')")
        .bind(org.0)
        .execute(&pool)
        .await?;
    assert_eq!(
        run_sync(&queue, org, "incr-2", false, 3).await?,
        "succeeded"
    );
    let per = fake.applied_per("productSet", ID_PATH);
    assert_eq!(
        per.keys().map(String::as_str).collect::<Vec<_>>(),
        ["P-00007", "P-00107", "P-00207"]
    );
    assert_eq!(fake.writes().len(), 3, "{:?}", fake.writes());
    assert_eq!(fake.bulk_operations().len(), 4);
    assert_eq!(
        fake.product_by_custom_id("switchyard", "sku_root", "P-00107")
            .unwrap()["title"],
        "Plate 107 (new)"
    );
    daemon.stop().await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_operation_that_never_finishes_is_reported_not_counted_then_followed(
) -> anyhow::Result<()> {
    let fake = FakeShopify::start(FakeShopifyConfig::default().webhook_secret(HOOKS)).await?;
    let (daemon, pool, org) = daemon(&fake, 1).await?;
    let queue = daemon.queue.clone();
    seed(&pool, org, 80).await?;
    fake.bulk_never_finish(true);
    assert_eq!(run_sync(&queue, org, "stuck", true, 1).await?, "dead");
    let (state, error): (String, Option<String>) = sqlx::query_as(
        "SELECT run_state, last_error FROM sync_states WHERE partner = 'shop' AND entity = 'catalog'",
    )
    .fetch_one(&pool)
    .await?;
    let error = error.unwrap_or_default();
    assert_eq!(state, "failed");
    assert!(
        error.contains("still RUNNING"),
        "the sync names the operation: {error}"
    );
    assert_eq!(
        count(&pool, "SELECT count(*) FROM sync_items").await?,
        0,
        "nothing counted done"
    );
    assert_eq!(
        count(
            &pool,
            "SELECT count(*) FROM shopify_bulk_operations WHERE operation_id IS NOT NULL"
        )
        .await?,
        1,
        "remembered, to be followed"
    );
    assert_eq!(
        fake.bulk_operations().len(),
        1,
        "never a second operation while one runs"
    );

    fake.bulk_never_finish(false);
    assert_eq!(
        run_sync(&queue, org, "unstuck", true, 3).await?,
        "succeeded"
    );
    assert_eq!(
        fake.bulk_operations().len(),
        1,
        "the same operation followed, not resubmitted"
    );
    once_each(&fake.applied_per("productSet", ID_PATH), 80);
    assert_eq!(count(&pool, "SELECT count(*) FROM sync_items").await?, 80);
    assert_eq!(
        count(&pool, "SELECT count(*) FROM shopify_bulk_operations").await?,
        0
    );
    daemon.stop().await?;
    Ok(())
}

const CHILD_TOML: &str = "[queue]\nconcurrency = 8\nclaim_batch = 8\nlease_secs = 3\nrescue_interval_ms = 500\n\n[jobs.\"sync.run\"]\npolicy = \"immediate\"\nmax_attempts = 10\n";

/// A full sync SIGKILLed while Shopify runs its first bulk operation, resumed by a second
/// `switchyard run`: the second process finds the operation remembered, reads its result and
/// submits only the other pages: every product written exactly once, one operation per page.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sync_killed_while_its_bulk_operation_runs_is_resumed_without_resubmitting(
) -> anyhow::Result<()> {
    const N: i64 = 300;
    let fake = FakeShopify::start(FakeShopifyConfig::default()).await?;
    let cluster = TestDaemon::builder()
        .repo_mappings()
        .toml(CHILD_TOML)
        .toml(&section(&fake, "env:SHOP_TOKEN", "env:SHOP_HOOKS", 600))
        .prepare()
        .await?;
    let pool = cluster.db.pool.clone();
    let org = cluster.org("acme").await?;
    seed(&pool, org, N).await?;
    cluster
        .queue()
        .enqueue(sync_job(org, "crash", true, 10))
        .await?;
    let env = [("SHOP_TOKEN", fake.token()), ("SHOP_HOOKS", HOOKS)];
    fake.bulk_pause_after(30);
    let mut first = cluster.spawn(&["--no-api", "--no-scheduler"], &env, "first.log")?;
    switchyard_e2e::eventually(
        Duration::from_secs(120),
        "the first operation running, paused",
        || {
            let paused = fake.bulk_paused().is_some();
            async move { Ok(paused) }
        },
    )
    .await
    .map_err(|e| anyhow::anyhow!("{e}\n--- daemon log ---\n{}", first.log_text()))?;
    // The operation's id is remembered before Shopify ends it.
    switchyard_e2e::eventually(Duration::from_secs(30), "the operation remembered", || {
        let pool = pool.clone();
        async move {
            Ok(count(
                &pool,
                "SELECT count(*) FROM shopify_bulk_operations WHERE operation_id IS NOT NULL",
            )
            .await?
                == 1)
        }
    })
    .await?;
    first.kill9().await;
    fake.bulk_resume();

    let mut second = cluster.spawn(&["--no-api", "--no-scheduler"], &env, "second.log")?;
    switchyard_e2e::eventually(
        Duration::from_secs(180),
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

    assert_eq!(fake.product_count(), N as usize);
    once_each(&fake.applied_per("productSet", ID_PATH), N as usize);
    let ops = fake.bulk_operations();
    assert_eq!(
        ops.len(),
        3,
        "one per page, the interrupted one not submitted again: {ops:?}"
    );
    assert!(ops
        .iter()
        .all(|o| o.status == BulkStatus::Completed && o.lines == 100));
    assert_eq!(
        count(
            &pool,
            "SELECT count(*) FROM sync_items WHERE partner = 'shop'"
        )
        .await?,
        N
    );
    assert_eq!(
        count(&pool, "SELECT count(*) FROM shopify_bulk_operations").await?,
        0
    );
    cluster.db.drop_db().await;
    Ok(())
}

/// One process's adapter for partner `shop` (its own client, bucket and memory) on the shared
/// database.
fn process(fake: &FakeShopify, pool: &sqlx::PgPool, max_wait_secs: u64) -> ShopifyAdapter {
    let s: Settings = serde_json::from_value(json!({
        "shop_url": fake.base_url(),
        "api_version": "2026-04",
        "access_token": "secret:token",
        "bulk_threshold": 10,
        "bulk_poll_ms": 50,
        "bulk_max_wait_secs": max_wait_secs,
        "bulk_lease_secs": 5,
    }))
    .expect("settings parse");
    let cfg = s
        .validate(&MapSecrets::new().with("secret:token", fake.token()))
        .expect("settings valid");
    ShopifyAdapter::new(PartnerName("shop".into()), cfg, reqwest::Client::new())
        .with_bulk_store(pool.clone())
}

/// A batch item of `document` with `body`, keyed by its SKU.
fn item(document: &str, body: serde_json::Value) -> BatchItem {
    BatchItem {
        idempotency_key: format!("{document}-{}", body["sku"]),
        doc: OutboundDocument {
            document: document.into(),
            payload: Payload::Json { body },
        },
        presence: Presence::New,
    }
}

fn catalog(prefix: &str, n: usize) -> Vec<BatchItem> {
    (0..n)
        .map(|i| {
            let sku = format!("{prefix}-{i:03}");
            item(
                "catalog",
                json!({"sku": sku, "title": format!("Plate {sku}"), "status": "ACTIVE",
                    "variants": [{"sku": format!("{sku}-1"), "option": "each", "price": "9.50"}]}),
            )
        })
        .collect()
}

/// One database (a daemon started only for it, every migration applied, the org made; no
/// role runs) and two processes' adapters on it, patient ones (`bulk_max_wait_secs` 60).
struct TwoProcesses {
    daemon: TestDaemon,
    pool: sqlx::PgPool,
    org: OrgId,
    a: Arc<ShopifyAdapter>,
    b: Arc<ShopifyAdapter>,
}

async fn two_processes(fake: &FakeShopify) -> anyhow::Result<TwoProcesses> {
    let daemon = database_only(fake).await?;
    let pool = daemon.db.pool.clone();
    let org = daemon.org("acme").await?;
    Ok(TwoProcesses {
        a: Arc::new(process(fake, &pool, 60)),
        b: Arc::new(process(fake, &pool, 60)),
        daemon,
        pool,
        org,
    })
}

async fn database_only(fake: &FakeShopify) -> anyhow::Result<TestDaemon> {
    TestDaemon::builder()
        .repo_mappings()
        .toml(&section(fake, "secret:shop-token", "secret:shop-hooks", 60))
        .secret("secret:shop-token", fake.token())
        .secret("secret:shop-hooks", HOOKS)
        .roles(Roles {
            api: false,
            worker: false,
            scheduler: false,
        })
        .start()
        .await
}

/// Until an operation runs paused and its holder has recorded it under a live lease (the id
/// is written just after Shopify answered).
async fn paused_under_lease(fake: &FakeShopify, pool: &sqlx::PgPool) -> anyhow::Result<()> {
    switchyard_e2e::eventually(
        Duration::from_secs(60),
        "an operation running, paused",
        || {
            let paused = fake.bulk_paused().is_some();
            async move { Ok(paused) }
        },
    )
    .await?;
    switchyard_e2e::eventually(Duration::from_secs(30), "the operation remembered", || {
        let pool = pool.clone();
        async move {
            Ok(count(
                &pool,
                "SELECT count(*) FROM shopify_bulk_operations
                 WHERE owner IS NOT NULL AND operation_id IS NOT NULL AND lease_until > now()",
            )
            .await?
                == 1)
        }
    })
    .await
}

fn ctx_for(org: OrgId) -> AdapterContext {
    let mut ctx = context("two-processes", RecordingSink::new());
    ctx.org = org;
    ctx
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_processes_pushing_one_connection_take_turns_through_the_lease() -> anyhow::Result<()> {
    let fake = FakeShopify::start(FakeShopifyConfig::default()).await?;
    let TwoProcesses {
        daemon,
        pool,
        org,
        a,
        b,
    } = two_processes(&fake).await?;
    // Whichever submits first stops after 5 lines until resumed, the other meanwhile finds
    // the lease taken.
    fake.bulk_pause_after(5);
    let push = |p: Arc<ShopifyAdapter>, prefix: &'static str| {
        tokio::spawn(async move { p.push_batch(&ctx_for(org), &catalog(prefix, 40)).await })
    };
    let (first, second) = (push(a, "A"), push(b, "B"));
    paused_under_lease(&fake, &pool).await?;
    let owner: Option<String> =
        sqlx::query_scalar("SELECT owner FROM shopify_bulk_operations WHERE partner = 'shop'")
            .fetch_one(&pool)
            .await?;

    // A third process that may wait only a second: a transient error naming the holder; it
    // neither adopts the live operation nor submits its own.
    let impatient = process(&fake, &pool, 1);
    for r in impatient.push_batch(&ctx_for(org), &catalog("C", 20)).await {
        let e = r.expect_err("the lease is held");
        assert!(e.class.is_retryable(), "{e:?}");
        assert!(
            e.message.contains("holds this connection's bulk lease")
                && e.message.contains(owner.as_deref().unwrap_or("?")),
            "{}",
            e.message
        );
    }
    assert_eq!(fake.bulk_operations().len(), 1);

    fake.bulk_resume();
    for (name, task) in [("first", first), ("second", second)] {
        let results = task.await?;
        assert_eq!(results.len(), 40);
        assert!(results.iter().all(Result::is_ok), "{name}: {results:?}");
    }
    let ops = fake.bulk_operations();
    assert_eq!(ops.len(), 2, "one operation per batch: {ops:?}");
    assert!(ops
        .iter()
        .all(|o| o.status == BulkStatus::Completed && o.lines == 40));
    assert_eq!(
        fake.bulk_refused_in_progress(),
        0,
        "the shop never had to refuse a second operation"
    );
    assert_eq!(fake.product_count(), 80);
    once_each(&fake.applied_per("productSet", ID_PATH), 80);
    assert!(fake
        .applied_per("productSet", ID_PATH)
        .keys()
        .all(|k| !k.starts_with('C')));
    assert_eq!(
        count(&pool, "SELECT count(*) FROM shopify_bulk_operations").await?,
        0,
        "the lease given up, nothing in flight"
    );
    daemon.stop().await?;
    Ok(())
}

/// `n` prices documents for the single variants of `catalog(prefix, n)`.
fn prices(prefix: &str, n: usize, amount: &str) -> Vec<BatchItem> {
    (0..n)
        .map(|i| {
            let sku = format!("{prefix}-{i:03}-1");
            item(
                "prices",
                json!({"sku": sku, "price": amount, "compareAtPrice": null}),
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bulk_prices_wait_for_another_process_catalog_operation_through_the_lease(
) -> anyhow::Result<()> {
    let fake = FakeShopify::start(FakeShopifyConfig::default()).await?;
    let TwoProcesses {
        daemon,
        pool,
        org,
        a,
        b,
    } = two_processes(&fake).await?;
    // The products to price, through one bulk operation of `a`.
    let made = a.push_batch(&ctx_for(org), &catalog("A", 20)).await;
    assert!(made.iter().all(Result::is_ok), "{made:?}");
    // `a`'s next catalog operation stops after 5 lines, holding the lease.
    fake.bulk_pause_after(5);
    let catalog_push = {
        let a = a.clone();
        tokio::spawn(async move { a.push_batch(&ctx_for(org), &catalog("D", 20)).await })
    };
    paused_under_lease(&fake, &pool).await?;

    // A prices page above the threshold from a process that may wait a second: refused
    // transiently naming the holder, nothing submitted (the shop would refuse a second one).
    let impatient = process(&fake, &pool, 1);
    for r in impatient
        .push_batch(&ctx_for(org), &prices("A", 20, "11.00"))
        .await
    {
        let e = r.expect_err("the lease is held by the catalog push");
        assert!(e.class.is_retryable(), "{e:?}");
        assert!(
            e.message.contains("holds this connection's bulk lease"),
            "{}",
            e.message
        );
    }
    assert_eq!(fake.bulk_operations().len(), 2);

    // A patient one goes once the catalog operation is done and the lease given up.
    let prices_push = {
        let b = b.clone();
        tokio::spawn(async move { b.push_batch(&ctx_for(org), &prices("A", 20, "12.34")).await })
    };
    fake.bulk_resume();
    let catalog_done = catalog_push.await?;
    assert!(catalog_done.iter().all(Result::is_ok), "{catalog_done:?}");
    let priced = prices_push.await?;
    assert!(priced.iter().all(Result::is_ok), "{priced:?}");
    let ops = fake.bulk_operations();
    assert_eq!(ops.len(), 3, "{ops:?}");
    assert!(
        ops[2].mutation.contains("productVariantsBulkUpdate"),
        "{ops:?}"
    );
    assert!(ops.iter().all(|o| o.status == BulkStatus::Completed));
    assert_eq!(
        fake.bulk_refused_in_progress(),
        0,
        "the prices never went beside the catalog operation"
    );
    assert_eq!(fake.variant_price("A-007-1").unwrap().0, "12.34");
    assert_eq!(
        count(&pool, "SELECT count(*) FROM shopify_bulk_operations").await?,
        0,
        "the lease given up, nothing in flight"
    );
    daemon.stop().await?;
    Ok(())
}
