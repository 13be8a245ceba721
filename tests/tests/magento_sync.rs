//! Magento through the sync engine: real Postgres (the catalog's change feed), the daemon
//! in-process, and the fake Magento store over loopback with OAuth 1.0a signing. A first full
//! sync creates every product; a sync with nothing changed makes zero write calls; 1 %
//! changed writes exactly those; a removed product is disabled; prices go to base and
//! customer-group tier prices, and per-item price failures become dead letters while the rest
//! are confirmed. Above the bulk threshold, the first sync is bulk POSTs only, a re-sync
//! updates by SKU, and a product deleted in the store since is created again.

use serde_json::{json, Value};
use switchyard_core::ids::OrgId;
use switchyard_daemon::app::Roles;
use switchyard_e2e::{count, TestDaemon};
use switchyard_magento::fake::{FakeMagento, FakeStoreConfig};
use switchyard_store::queue::{NewJob, Queue, RetryPolicy, RetrySpec};

const SYNCS: &str = "[sync.shop.catalog]\nmapping = \"magento/product.out\"\ntombstone = \"magento/product.tombstone\"\npage_size = 100\n\
[sync.shop.prices]\nmapping = \"magento/price.out\"\ntombstone = \"magento/price.tombstone\"\n";

async fn daemon(fake: &FakeMagento) -> anyhow::Result<(TestDaemon, sqlx::PgPool, OrgId)> {
    daemon_with(fake, "", false).await
}

/// The daemon with `extra` settings for the partner, and the API when `api`.
async fn daemon_with(
    fake: &FakeMagento,
    extra: &str,
    api: bool,
) -> anyhow::Result<(TestDaemon, sqlx::PgPool, OrgId)> {
    let c = fake.config();
    let daemon = TestDaemon::builder()
        .repo_mappings()
        .secret("secret:mg-ck", &c.consumer_key)
        .secret("secret:mg-cs", &c.consumer_secret)
        .secret("secret:mg-at", &c.access_token)
        .secret("secret:mg-as", &c.access_token_secret)
        .toml(&format!(
            "[partners.shop]\nkind = \"magento\"\norg = \"acme\"\nbase_url = \"{}\"\nstore_code = \"all\"\nwebsite_ids = [1]\n\
             auth = {{ mode = \"oauth\", consumer_key_ref = \"secret:mg-ck\", consumer_secret_ref = \"secret:mg-cs\", \
             access_token_ref = \"secret:mg-at\", access_token_secret_ref = \"secret:mg-as\", signature_method = \"HMAC-SHA256\" }}\n\
             customer_groups = {{ GOLD = \"Gold\" }}\ntimeout_ms = 5000\n{extra}",
            fake.base_url()
        ))
        .toml(SYNCS)
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

async fn run_sync(queue: &Queue, org: OrgId, key: &str, payload: Value) -> anyhow::Result<String> {
    let job = NewJob::new(org, "sync.run", payload)
        .partner("shop")
        .key(key)
        .retry(RetrySpec::of(RetryPolicy::Immediate));
    let id = queue.enqueue(job).await?.job.id;
    switchyard_e2e::jobs::ended(queue.pool(), id).await
}

fn catalog(full: bool) -> Value {
    json!({"partner": "shop", "entity": "catalog", "full": full})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn catalog_full_sync_no_change_and_one_percent_changed() -> anyhow::Result<()> {
    const N: i64 = 300;
    let fake = FakeMagento::start(FakeStoreConfig::default()).await?;
    let (daemon, pool, org) = daemon(&fake).await?;
    seed(&pool, org, N).await?;

    // 1. First full sync: no product was ever confirmed to the store, so each is created with
    //    one POST (no update tried first to answer 404).
    assert_eq!(
        run_sync(&daemon.queue, org, "c1", catalog(true)).await?,
        "succeeded"
    );
    assert_eq!(fake.product_count(), N as usize);
    let writes = fake.writes();
    assert_eq!(writes.iter().filter(|w| w.method == "PUT").count(), 0);
    assert_eq!(
        writes
            .iter()
            .filter(|w| w.method == "POST" && w.status == 200)
            .count(),
        N as usize
    );
    let p = fake.product("P-00007").expect("created");
    assert_eq!(p["name"], "Plate 7");
    assert_eq!(
        (p["status"].clone(), p["visibility"].clone()),
        (json!(1), json!(4))
    );
    assert!(p["custom_attributes"]
        .as_array()
        .unwrap()
        .iter()
        .any(|a| a["attribute_code"] == "material_grade" && a["value"] == "A36"));
    // Magento's product id is the confirmation's partner id.
    assert_eq!(
        count(
            &pool,
            "SELECT count(*) FROM sync_items WHERE partner = 'shop' AND external_id IS NOT NULL"
        )
        .await?,
        N
    );

    // 2. Nothing changed: a full sync and an incremental one make zero write calls.
    fake.clear_writes();
    assert_eq!(
        run_sync(&daemon.queue, org, "c2", catalog(true)).await?,
        "succeeded"
    );
    assert_eq!(
        run_sync(&daemon.queue, org, "c3", catalog(false)).await?,
        "succeeded"
    );
    assert!(fake.writes().is_empty(), "{:?}", fake.writes().first());

    // 3. 1 % changed: exactly those, each one PUT (the products exist now).
    sqlx::query("UPDATE products SET name = name || ' (new)' WHERE org_id = $1 AND sku IN ('P-00010', 'P-00020', 'P-00030')")
        .bind(org.0)
        .execute(&pool)
        .await?;
    assert_eq!(
        run_sync(&daemon.queue, org, "c4", catalog(false)).await?,
        "succeeded"
    );
    let writes = fake.writes();
    let mut routes: Vec<String> = writes
        .iter()
        .map(|w| format!("{} {}", w.method, w.route))
        .collect();
    routes.sort();
    assert_eq!(
        routes,
        [
            "PUT V1/products/P-00010",
            "PUT V1/products/P-00020",
            "PUT V1/products/P-00030"
        ]
    );
    assert_eq!(fake.product("P-00020").unwrap()["name"], "Plate 20 (new)");

    // 4. A removed product is disabled, not deleted (the tombstone mapping's choice).
    fake.clear_writes();
    sqlx::query("UPDATE products SET deleted_at = now() WHERE org_id = $1 AND sku = 'P-00005'")
        .bind(org.0)
        .execute(&pool)
        .await?;
    assert_eq!(
        run_sync(&daemon.queue, org, "c5", catalog(false)).await?,
        "succeeded"
    );
    assert_eq!(fake.product("P-00005").unwrap()["status"], 2);
    assert_eq!(fake.writes().len(), 1);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn price_failures_per_item_become_dead_letters_and_the_rest_are_confirmed(
) -> anyhow::Result<()> {
    let fake = FakeMagento::start(FakeStoreConfig::default()).await?;
    let (daemon, pool, org) = daemon(&fake).await?;
    seed(&pool, org, 4).await?;
    for i in 0..4 {
        fake.seed_product(json!({"sku": format!("P-{i:05}"), "name": format!("Plate {i}")}));
    }
    fake.refuse_prices_for("P-00002");
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
                ($1, 'WEB', 'P-00002', 'EA', 30), ($1, 'WEB', 'P-00003', 'EA', 40)",
    )
    .await?;
    sql(
        "INSERT INTO volume_breaks (org_id, break_id, sku, min_quantity, uom, price, currency)
         VALUES ($1, 'B1', 'P-00001', 10, 'EA', 18, 'USD')",
    )
    .await?;
    sql("INSERT INTO price_tiers (org_id, tier_code, name, percent) VALUES ($1, 'GOLD', 'Gold', 10)").await?;

    let prices = json!({"partner": "shop", "entity": "prices", "full": true});
    assert_eq!(
        run_sync(&daemon.queue, org, "p1", prices.clone()).await?,
        "succeeded"
    );

    // One base-prices call and one tier-prices call for the page.
    let writes = fake.writes();
    let calls: Vec<String> = writes
        .iter()
        .map(|w| format!("{} {}", w.method, w.route))
        .collect();
    assert_eq!(
        calls,
        [
            "POST V1/products/base-prices",
            "PUT V1/products/tier-prices"
        ]
    );
    assert_eq!(fake.base_price("P-00001").unwrap()["price"], 20.0);
    let tiers = fake.tier_prices("P-00001");
    assert!(
        tiers.iter().any(|t| t["customer_group"] == "ALL GROUPS"
            && t["quantity"] == 10
            && t["price"] == 18),
        "{tiers:?}"
    );
    assert!(
        tiers
            .iter()
            .any(|t| t["customer_group"] == "Gold" && t["quantity"] == 1 && t["price"] == 18),
        "{tiers:?}"
    );
    assert!(fake.base_price("P-00002").is_none());

    // The refused SKU is a dead letter naming Magento's reason; the other three confirmed.
    let (payload,): (Value,) =
        sqlx::query_as("SELECT payload FROM dead_letters WHERE org_id = $1 AND kind = 'sync.item'")
            .bind(org.0)
            .fetch_one(&pool)
            .await?;
    assert_eq!(payload["sku"], "P-00002");
    assert!(
        payload["error"]
            .as_str()
            .unwrap()
            .contains("Price for SKU = P-00002 was refused"),
        "{payload}"
    );
    assert_eq!(
        count(
            &pool,
            "SELECT count(*) FROM sync_items WHERE partner = 'shop' AND entity = 'prices'"
        )
        .await?,
        3
    );

    // Nothing changed: an incremental run makes no call; a full one sends only the SKU that
    // was never confirmed (still refused), the confirmed three skipped by their hash.
    fake.clear_writes();
    let incremental = json!({"partner": "shop", "entity": "prices"});
    assert_eq!(
        run_sync(&daemon.queue, org, "p2", incremental).await?,
        "succeeded"
    );
    assert!(fake.writes().is_empty(), "{:?}", fake.writes());
    assert_eq!(
        run_sync(&daemon.queue, org, "p3", prices).await?,
        "succeeded"
    );
    let writes = fake.writes();
    assert_eq!(writes.len(), 1, "{writes:?}");
    assert_eq!(writes[0].route, "V1/products/base-prices");
    assert_eq!(writes[0].body["prices"].as_array().map(Vec::len), Some(1));
    assert_eq!(writes[0].body["prices"][0]["sku"], "P-00002");
    Ok(())
}

const CHILD_TOML: &str = "[queue]\nconcurrency = 8\nclaim_batch = 8\nlease_secs = 3\nrescue_interval_ms = 500\n\n[jobs.\"sync.run\"]\npolicy = \"immediate\"\nmax_attempts = 10\n";

/// A catalog sync to Magento killed mid-run (SIGKILL of the `switchyard run` child, its job
/// aborted with it) and resumed by a second process: the run ends complete, every product is
/// in the store, and no product was written more than once more (what was in flight at the
/// kill): per idempotency key the fake applied one write, and no SKU saw more than two
/// successful writes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_catalog_sync_killed_mid_run_resumes_and_writes_each_product_once_more_at_most(
) -> anyhow::Result<()> {
    const N: i64 = 600;
    let fake = FakeMagento::start(FakeStoreConfig::default()).await?;
    // Latency per request keeps the run long enough to kill it in the middle.
    fake.slow(std::time::Duration::from_millis(100));
    let cluster = TestDaemon::builder()
        .repo_mappings()
        .toml(CHILD_TOML)
        .toml(&format!(
            "[partners.shop]\nkind = \"magento\"\norg = \"acme\"\nbase_url = \"{}\"\nstore_code = \"all\"\nwebsite_ids = [1]\n\
             auth = {{ mode = \"oauth\", consumer_key_ref = \"env:MG_CK\", consumer_secret_ref = \"env:MG_CS\", \
             access_token_ref = \"env:MG_AT\", access_token_secret_ref = \"env:MG_AS\" }}\ntimeout_ms = 5000\n\
             [sync.shop.catalog]\nmapping = \"magento/product.out\"\ntombstone = \"magento/product.tombstone\"\npage_size = 100\n",
            fake.base_url()
        ))
        .prepare()
        .await?;
    let pool = cluster.db.pool.clone();
    let org = cluster.org("acme").await?;
    seed(&pool, org, N).await?;
    cluster
        .queue()
        .enqueue(
            NewJob::new(org, "sync.run", catalog(true))
                .partner("shop")
                .key("crash"),
        )
        .await?;
    let c = fake.config().clone();
    let env = [
        ("MG_CK", c.consumer_key.as_str()),
        ("MG_CS", c.consumer_secret.as_str()),
        ("MG_AT", c.access_token.as_str()),
        ("MG_AS", c.access_token_secret.as_str()),
    ];
    let mut first = cluster.spawn(&["--no-api", "--no-scheduler"], &env, "first.log")?;
    switchyard_e2e::eventually(
        std::time::Duration::from_secs(120),
        "a third of the catalog written",
        || {
            let n = fake.product_count();
            async move { Ok(n >= (N / 3) as usize) }
        },
    )
    .await
    .map_err(|e| anyhow::anyhow!("{e}\n--- daemon log ---\n{}", first.log_text()))?;
    first.kill9().await;
    let at_kill = fake.product_count();
    assert!(
        at_kill < N as usize,
        "the kill must land mid-sync ({at_kill})"
    );

    let mut second = cluster.spawn(&["--no-api", "--no-scheduler"], &env, "second.log")?;
    switchyard_e2e::eventually(
        std::time::Duration::from_secs(180),
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

    assert_eq!(
        fake.product_count(),
        N as usize,
        "every product in the store"
    );
    let writes = fake.writes();
    let mut per_sku: std::collections::BTreeMap<String, usize> = Default::default();
    let mut keys = std::collections::BTreeSet::new();
    for w in writes.iter().filter(|w| (200..300).contains(&w.status)) {
        let sku = w.body["product"]["sku"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        *per_sku.entry(sku).or_default() += 1;
        if let Some(k) = &w.idempotency_key {
            keys.insert(k.clone());
        }
    }
    assert_eq!(per_sku.len(), N as usize);
    let most = per_sku.values().copied().max().unwrap_or_default();
    assert!(
        most <= 2,
        "a product written {most} times: {:?}",
        per_sku.iter().find(|(_, n)| **n == most)
    );
    let twice = per_sku.values().filter(|n| **n == 2).count();
    for k in &keys {
        assert!(
            fake.times_applied(k) <= 1,
            "key {k} applied {} times",
            fake.times_applied(k)
        );
    }
    assert_eq!(
        count(
            &pool,
            "SELECT count(*) FROM sync_items WHERE partner = 'shop'"
        )
        .await?,
        N
    );
    println!("magento sync crash: killed with {at_kill} products written; {twice} written again after the restart, none applied twice");
    cluster.db.drop_db().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bulk_operations_left_open_are_shown_on_the_sync_status() -> anyhow::Result<()> {
    use reqwest::Method;
    let fake = FakeMagento::start(FakeStoreConfig::default()).await?;
    let (daemon, pool, org) = daemon_with(
        &fake,
        "bulk_threshold = 5\nbulk_poll_ms = 50\nbulk_open_timeout_secs = 1\n",
        true,
    )
    .await?;
    let key = daemon.key("acme", &["read:jobs", "write:jobs"]).await?;
    seed(&pool, org, 6).await?;
    // The store runs no bulk consumer: every operation stays open.
    fake.bulk_no_consumer(true);
    let job = NewJob::new(org, "sync.run", catalog(true))
        .partner("shop")
        .key("open-1")
        .retry(RetrySpec {
            policy: RetryPolicy::Immediate,
            max_attempts: 1,
        });
    let id = daemon.queue.enqueue(job).await?.job.id;
    assert_eq!(switchyard_e2e::jobs::ended(&pool, id).await?, "dead");
    assert_eq!(fake.product_count(), 0, "nothing counted as done");
    let (status, body) = daemon
        .call(Method::GET, "/api/v1/syncs/shop/catalog", Some(&key), None)
        .await?;
    assert_eq!(status, 200, "{body}");
    let run = &body["last_run"];
    assert_eq!(run["state"], "failed", "{body}");
    assert_eq!(run["unfinished"], 6, "{body}");
    assert_eq!(run["pushed"], 0, "{body}");
    let error = run["error"].as_str().unwrap_or_default();
    assert!(
        error.contains("still open after") && error.contains("6 of its 6 operations open"),
        "{error}"
    );

    // The consumer runs again: the next run writes them and the status clears.
    fake.bulk_no_consumer(false);
    assert_eq!(
        run_sync(&daemon.queue, org, "open-2", catalog(true)).await?,
        "succeeded"
    );
    assert_eq!(fake.product_count(), 6);
    let (_, body) = daemon
        .call(Method::GET, "/api/v1/syncs/shop/catalog", Some(&key), None)
        .await?;
    let run = &body["last_run"];
    assert_eq!(
        (&run["state"], &run["unfinished"], &run["pushed"]),
        (&json!("succeeded"), &json!(0), &json!(6)),
        "{body}"
    );
    Ok(())
}

/// The bulk path through the sync engine: the first full sync creates every product with bulk
/// POSTs (none was confirmed to the store), the 1 %-changed re-sync updates exactly those by
/// SKU, and a product an admin deleted in the store, changed since, fails its update (status
/// 3, the product missing), goes again as a create and is confirmed: no dead letter.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bulk_sync_creates_with_post_updates_by_sku_and_recreates_a_product_deleted_in_the_store(
) -> anyhow::Result<()> {
    const N: i64 = 300;
    const BY_SKU: &str = "async/bulk/V1/products/bySku";
    const CREATE: &str = "async/bulk/V1/products";
    let fake = FakeMagento::start(FakeStoreConfig::default()).await?;
    let (daemon, pool, org) =
        daemon_with(&fake, "bulk_threshold = 2\nbulk_poll_ms = 20\n", false).await?;
    seed(&pool, org, N).await?;
    // Writes the adapter made (the fake also records each operation its consumer ran).
    let submitted = |fake: &FakeMagento| -> Vec<(String, String, usize)> {
        fake.writes()
            .into_iter()
            .filter(|w| w.route.starts_with("async/bulk/"))
            .map(|w| (w.method, w.route, w.body.as_array().map_or(0, Vec::len)))
            .collect()
    };
    let bulk = |m: &str, r: &str, n: usize| (m.to_owned(), r.to_owned(), n);

    // 1. First full sync: three pages of 100, each one bulk POST; no update by SKU.
    assert_eq!(
        run_sync(&daemon.queue, org, "b1", catalog(true)).await?,
        "succeeded"
    );
    assert_eq!(fake.product_count(), N as usize);
    assert_eq!(submitted(&fake), vec![bulk("POST", CREATE, 100); 3]);
    assert_eq!(fake.count_writes("PUT", BY_SKU), 0);

    // 2. 1 % changed: one bulk PUT by SKU with exactly those three, no create.
    fake.clear_writes();
    sqlx::query("UPDATE products SET name = name || ' (new)' WHERE org_id = $1 AND sku IN ('P-00010', 'P-00020', 'P-00030')")
        .bind(org.0)
        .execute(&pool)
        .await?;
    assert_eq!(
        run_sync(&daemon.queue, org, "b2", catalog(false)).await?,
        "succeeded"
    );
    assert_eq!(submitted(&fake), [bulk("PUT", BY_SKU, 3)]);
    let mut updated: Vec<String> = fake
        .writes()
        .into_iter()
        .filter(|w| w.route == BY_SKU)
        .flat_map(|w| w.body.as_array().cloned().unwrap_or_default())
        .map(|op| op["sku"].as_str().unwrap_or_default().to_owned())
        .collect();
    updated.sort();
    assert_eq!(updated, ["P-00010", "P-00020", "P-00030"]);
    assert_eq!(fake.product("P-00020").unwrap()["name"], "Plate 20 (new)");

    // 3. An admin deletes P-00040 in the store; then it and P-00050 change here.
    fake.clear_writes();
    assert!(fake.delete_product_in_admin("P-00040"));
    sqlx::query("UPDATE products SET name = name || ' (v3)' WHERE org_id = $1 AND sku IN ('P-00040', 'P-00050')")
        .bind(org.0)
        .execute(&pool)
        .await?;
    assert_eq!(
        run_sync(&daemon.queue, org, "b3", catalog(false)).await?,
        "succeeded"
    );
    assert_eq!(
        submitted(&fake),
        [bulk("PUT", BY_SKU, 2), bulk("POST", CREATE, 1)]
    );
    let writes = fake.writes();
    let missing = writes
        .iter()
        .find(|w| w.method == "PUT" && w.route == "V1/products/P-00040")
        .expect("the consumer ran P-00040's update");
    assert_eq!(
        missing.status, 404,
        "the update failed: the product is gone"
    );
    let recreated = fake.product("P-00040").expect("created again");
    assert_eq!(recreated["name"], "Plate 40 (v3)");
    assert_eq!(fake.product("P-00050").unwrap()["name"], "Plate 50 (v3)");
    // Nothing lost: no dead letter, both confirmed under the store's (new) product id.
    assert_eq!(count(&pool, "SELECT count(*) FROM dead_letters").await?, 0);
    let (generation,): (i64,) = sqlx::query_as(
        "SELECT generation FROM sync_items WHERE partner = 'shop' AND entity = 'catalog' AND sku = 'P-00040'",
    )
    .fetch_one(&pool)
    .await?;
    assert_eq!(generation, 2, "confirmed at the first sync and now");

    // 4. Nothing changed since: no write at all.
    fake.clear_writes();
    assert_eq!(
        run_sync(&daemon.queue, org, "b4", catalog(false)).await?,
        "succeeded"
    );
    assert!(fake.writes().is_empty(), "{:?}", fake.writes().first());
    Ok(())
}
