//! The sync engine to the fake Shopify over loopback, with the daemon in-process and real
//! Postgres: a full catalog sync puts every product in the shop, a sync with nothing changed
//! makes zero write calls, 1 % changed writes exactly those, a removed product is archived,
//! and a tiny cost bucket throttles without failing the run (the fake's bucket never below
//! zero). Inventory with compare-and-swap: a unit sold at the storefront between two syncs is
//! re-read and the write retried once. Webhooks signed by the fake through the daemon's
//! `POST /webhooks/shop`: valid, replayed, forged, and signed with the rotated-out secret.
//! Prices through `productVariantsBulkUpdate`, only the changed SKU written again. Both pinned
//! API versions.

use serde_json::json;
use switchyard_core::ids::OrgId;
use switchyard_daemon::app::Roles;
use switchyard_e2e::TestDaemon;
use switchyard_shopify::fake::{FakeShopify, FakeShopifyConfig, WriteOutcome};
use switchyard_shopify::ApiVersion;
use switchyard_store::queue::{NewJob, Queue, RetryPolicy, RetrySpec};

const HOOKS: &str = "hush-now";
const OLD_HOOKS: &str = "hush-before";
const CHI: &str = "gid://shopify/Location/7001";

fn config(fake: &FakeShopify, version: ApiVersion) -> String {
    format!(
        "[partners.shop]\nkind = \"shopify\"\norg = \"acme\"\nshop_url = \"{}\"\napi_version = \"{version}\"\naccess_token = \"secret:shop-token\"\nlocations = {{ CHI = \"{CHI}\" }}\nwebhooks = {{ secret = \"secret:shop-hooks\", previous_secret = \"secret:shop-hooks-old\", rotated_at = \"{}\" }}\n\n[sync.shop.catalog]\nmapping = \"shopify/product.out\"\ntombstone = \"shopify/product.tombstone\"\npage_size = 100\n\n[sync.shop.inventory]\nmapping = \"shopify/inventory.out\"\ntombstone = \"shopify/inventory.tombstone\"\n\n[sync.shop.prices]\nmapping = \"shopify/price.out\"\ntombstone = \"shopify/price.tombstone\"\n",
        fake.base_url(),
        chrono::Utc::now().to_rfc3339()
    )
}

async fn daemon(
    fake: &FakeShopify,
    version: ApiVersion,
) -> anyhow::Result<(TestDaemon, sqlx::PgPool, OrgId)> {
    daemon_with(fake, version, false).await
}

/// [`daemon`], serving the API when `api`.
async fn daemon_with(
    fake: &FakeShopify,
    version: ApiVersion,
    api: bool,
) -> anyhow::Result<(TestDaemon, sqlx::PgPool, OrgId)> {
    let daemon = TestDaemon::builder()
        .repo_mappings()
        .toml(&config(fake, version))
        .secret("secret:shop-token", fake.token())
        .secret("secret:shop-hooks", HOOKS)
        .secret("secret:shop-hooks-old", OLD_HOOKS)
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

/// `n` published products `P-00000`… in `acme`.
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

/// Enqueue `sync.run` of the shop's catalog and wait for it to end; its final state.
async fn run_sync(queue: &Queue, org: OrgId, key: &str, full: bool) -> anyhow::Result<String> {
    run_entity(queue, org, "catalog", key, full).await
}

/// [`run_sync`] of `entity`.
async fn run_entity(
    queue: &Queue,
    org: OrgId,
    entity: &str,
    key: &str,
    full: bool,
) -> anyhow::Result<String> {
    let job = NewJob::new(
        org,
        "sync.run",
        json!({"partner": "shop", "entity": entity, "full": full}),
    )
    .partner("shop")
    .key(key)
    .retry(RetrySpec::of(RetryPolicy::Immediate));
    let id = queue.enqueue(job).await?.job.id;
    switchyard_e2e::jobs::ended(queue.pool(), id).await
}

async fn catalog_round(version: ApiVersion) -> anyhow::Result<()> {
    let fake = FakeShopify::start(FakeShopifyConfig::default()).await?;
    let (daemon, pool, org) = daemon(&fake, version).await?;
    let queue = daemon.queue.clone();
    seed(&pool, org, 100).await?;

    assert_eq!(run_sync(&queue, org, "full-1", true).await?, "succeeded");
    assert_eq!(fake.product_count(), 100);
    assert_eq!(fake.applied("productSet"), 100);
    let p = fake
        .product_by_custom_id("switchyard", "sku_root", "P-00042")
        .expect("synced");
    assert_eq!(
        (p["title"].as_str(), p["status"].as_str()),
        (Some("Plate 42"), Some("ACTIVE"))
    );
    assert_eq!(
        p["variants"][0]["sku"], "P-00042",
        "a product without variants is its own variant"
    );

    // Nothing changed: zero write calls.
    fake.clear_writes();
    assert_eq!(run_sync(&queue, org, "incr-1", false).await?, "succeeded");
    assert_eq!(run_sync(&queue, org, "full-2", true).await?, "succeeded");
    assert!(fake.writes().is_empty(), "{:?}", fake.writes());

    // 1 % changed: exactly that product written.
    sqlx::query(
        "UPDATE products SET name = 'Plate 7, renamed' WHERE org_id = $1 AND sku = 'P-00007'",
    )
    .bind(org.0)
    .execute(&pool)
    .await?;
    assert_eq!(run_sync(&queue, org, "incr-2", false).await?, "succeeded");
    let writes = fake.writes();
    assert_eq!(writes.len(), 1, "{writes:?}");
    assert_eq!(writes[0].args["identifier"]["customId"]["value"], "P-00007");
    assert_eq!(
        fake.product_by_custom_id("switchyard", "sku_root", "P-00007")
            .unwrap()["title"],
        "Plate 7, renamed"
    );
    assert_eq!(fake.product_count(), 100, "an upsert, not a new product");

    // A removed product is archived, not deleted.
    sqlx::query("DELETE FROM products WHERE org_id = $1 AND sku = 'P-00009'")
        .bind(org.0)
        .execute(&pool)
        .await?;
    assert_eq!(run_sync(&queue, org, "incr-3", false).await?, "succeeded");
    assert_eq!(
        fake.product_by_custom_id("switchyard", "sku_root", "P-00009")
            .unwrap()["status"],
        "ARCHIVED"
    );
    assert!(fake.bucket_lowest() >= 0.0);
    daemon.stop().await
}

#[tokio::test]
async fn catalog_sync_2026_04() -> anyhow::Result<()> {
    catalog_round(ApiVersion::V2026_04).await
}

#[tokio::test]
async fn catalog_sync_2025_10() -> anyhow::Result<()> {
    catalog_round(ApiVersion::V2025_10).await
}

#[tokio::test]
async fn a_tiny_cost_bucket_throttles_without_failing_the_run() -> anyhow::Result<()> {
    // 60 points, 300 restored per second: 16 writes in flight at ~16 points each overdraw it
    // at once, so the run is paced (and throttled) for its whole length.
    let fake = FakeShopify::start(FakeShopifyConfig::default().bucket(60.0, 300.0)).await?;
    fake.throttle_next(5);
    let (daemon, pool, org) = daemon(&fake, ApiVersion::V2026_04).await?;
    let queue = daemon.queue.clone();
    seed(&pool, org, 120).await?;
    assert_eq!(run_sync(&queue, org, "full-1", true).await?, "succeeded");
    assert_eq!(fake.product_count(), 120);
    assert_eq!(fake.applied("productSet"), 120);
    assert!(fake.stats().throttled >= 5, "{:?}", fake.stats());
    assert!(fake.bucket_lowest() >= 0.0);
    let dead: (i64,) = sqlx::query_as("SELECT count(*) FROM jobs WHERE state = 'dead'")
        .fetch_one(&pool)
        .await?;
    assert_eq!(dead.0, 0);
    daemon.stop().await
}

async fn inventory_round(version: ApiVersion) -> anyhow::Result<()> {
    let fake = FakeShopify::start(FakeShopifyConfig::default()).await?;
    let (daemon, pool, org) = daemon(&fake, version).await?;
    let queue = daemon.queue.clone();
    seed(&pool, org, 5).await?;
    sqlx::query(
        "INSERT INTO inventory_locations (org_id, code, name) VALUES ($1, 'CHI', 'Chicago')",
    )
    .bind(org.0)
    .execute(&pool)
    .await?;
    sqlx::query(
        "INSERT INTO inventory_levels (org_id, sku, location, on_hand, allocated, on_order)
         SELECT $1, sku, 'CHI', 10, 2, 0 FROM products WHERE org_id = $1",
    )
    .bind(org.0)
    .execute(&pool)
    .await?;
    assert_eq!(run_sync(&queue, org, "cat", true).await?, "succeeded");
    assert_eq!(
        run_entity(&queue, org, "inventory", "inv-1", true).await?,
        "succeeded"
    );
    for i in 0..5 {
        assert_eq!(fake.available(&format!("P-{i:05}"), CHI), Some(8));
    }
    // Nothing changed: zero writes.
    fake.clear_writes();
    assert_eq!(
        run_entity(&queue, org, "inventory", "inv-2", true).await?,
        "succeeded"
    );
    assert!(fake.writes().is_empty(), "{:?}", fake.writes());
    // Our stock drops to 5 while a unit is sold at the storefront just before our write: the
    // compare-and-swap is stale, the adapter re-reads and the retry applies.
    fake.stale_next(1);
    sqlx::query("UPDATE inventory_levels SET on_hand = 7 WHERE org_id = $1 AND sku = 'P-00001'")
        .bind(org.0)
        .execute(&pool)
        .await?;
    assert_eq!(
        run_entity(&queue, org, "inventory", "inv-3", false).await?,
        "succeeded"
    );
    assert_eq!(fake.available("P-00001", CHI), Some(5));
    let outcomes: Vec<WriteOutcome> = fake.writes().iter().map(|w| w.outcome).collect();
    assert_eq!(outcomes, [WriteOutcome::UserErrors, WriteOutcome::Applied]);
    let last = &fake.writes()[1];
    match version {
        ApiVersion::V2026_04 => {
            assert_eq!(
                last.args["input"]["quantities"][0]["changeFromQuantity"], 7,
                "re-read: 8 less the unit sold"
            );
            assert!(last.idempotency_key.is_some());
        }
        ApiVersion::V2025_10 => {
            assert_eq!(last.args["input"]["quantities"][0]["compareQuantity"], 7)
        }
    }
    assert!(last.args["input"]["referenceDocumentUri"]
        .as_str()
        .unwrap()
        .starts_with("gid://switchyard/Sync/"));
    daemon.stop().await
}

#[tokio::test]
async fn inventory_sync_with_compare_and_swap_2026_04() -> anyhow::Result<()> {
    inventory_round(ApiVersion::V2026_04).await
}

#[tokio::test]
async fn inventory_sync_with_compare_and_swap_2025_10() -> anyhow::Result<()> {
    inventory_round(ApiVersion::V2025_10).await
}

#[tokio::test]
async fn webhooks_valid_replayed_forged_and_rotated() -> anyhow::Result<()> {
    let fake = FakeShopify::start(FakeShopifyConfig::default().webhook_secret(HOOKS)).await?;
    let (daemon, pool, _org) = daemon_with(&fake, ApiVersion::V2026_04, true).await?;
    let url = format!("{}/webhooks/shop", daemon.api());
    let order = json!({"id": 450789469, "admin_graphql_api_id": "gid://shopify/Order/450789469", "name": "#1001"});
    assert_eq!(
        fake.send_webhook(&url, "orders/create", &order, "evt-1", None)
            .await?,
        202
    );
    // Shopify delivers an event again (same X-Shopify-Event-Id): accepted, processed once.
    assert_eq!(
        fake.send_webhook(&url, "orders/create", &order, "evt-1", None)
            .await?,
        200
    );
    // Signed with a secret that is not the app's.
    assert_eq!(
        fake.send_webhook(&url, "orders/create", &order, "evt-2", Some("forged"))
            .await?,
        401
    );
    // Signed with the secret before the rotation, inside the window.
    assert_eq!(
        fake.send_webhook(&url, "orders/updated", &order, "evt-3", Some(OLD_HOOKS))
            .await?,
        202
    );
    let (stored,): (i64,) = sqlx::query_as("SELECT count(*) FROM webhook_deliveries")
        .fetch_one(&pool)
        .await?;
    assert_eq!(stored, 2);
    daemon.stop().await
}

#[tokio::test]
async fn prices_sync_writes_variant_prices_and_only_changes() -> anyhow::Result<()> {
    let fake = FakeShopify::start(FakeShopifyConfig::default()).await?;
    let (daemon, pool, org) = daemon(&fake, ApiVersion::V2026_04).await?;
    let queue = daemon.queue.clone();
    seed(&pool, org, 3).await?;
    let sql = |q: &'static str| {
        let pool = pool.clone();
        async move { sqlx::query(q).bind(org.0).execute(&pool).await }
    };
    sql("INSERT INTO price_lists (org_id, price_list_id, currency) VALUES ($1, 'WEB', 'USD')")
        .await?;
    sql("INSERT INTO list_prices (org_id, price_list_id, sku, uom, amount)
         VALUES ($1, 'WEB', 'P-00000', 'EA', 10), ($1, 'WEB', 'P-00001', 'EA', 20), ($1, 'WEB', 'P-00002', 'EA', 30)")
        .await?;
    assert_eq!(run_sync(&queue, org, "cat", true).await?, "succeeded");
    fake.clear_writes();
    assert_eq!(
        run_entity(&queue, org, "prices", "pr-1", true).await?,
        "succeeded"
    );
    assert_eq!(fake.applied("productVariantsBulkUpdate"), 3);
    assert_eq!(
        fake.variant_price("P-00001").unwrap(),
        ("20.00".to_owned(), None)
    );
    fake.clear_writes();
    sql("UPDATE list_prices SET amount = 25 WHERE org_id = $1 AND sku = 'P-00001'").await?;
    assert_eq!(
        run_entity(&queue, org, "prices", "pr-2", false).await?,
        "succeeded"
    );
    let writes = fake.writes();
    assert_eq!(writes.len(), 1, "{writes:?}");
    assert_eq!(writes[0].args["variants"][0]["price"], "25.00");
    assert_eq!(fake.variant_price("P-00001").unwrap().0, "25.00");
    daemon.stop().await
}

/// Enqueue `sync.run` of `entity` and wait; the run's examined/pushed/failed from the state.
async fn run_counted(
    queue: &Queue,
    pool: &sqlx::PgPool,
    org: OrgId,
    entity: &str,
    key: &str,
    full: bool,
) -> anyhow::Result<String> {
    let state = run_entity(queue, org, entity, key, full).await?;
    let failed: (i64,) =
        sqlx::query_as("SELECT count(*) FROM dead_letters WHERE org_id = $1 AND reason LIKE $2")
            .bind(org.0)
            .bind(format!("{entity} %"))
            .fetch_one(pool)
            .await?;
    assert_eq!(failed.0, 0, "no {entity} dead letters");
    Ok(state)
}

#[tokio::test]
async fn stock_and_prices_of_a_product_sold_in_lengths_reach_its_variants() -> anyhow::Result<()> {
    let fake = FakeShopify::start(FakeShopifyConfig::default()).await?;
    let (daemon, pool, org) = daemon(&fake, ApiVersion::V2026_04).await?;
    let queue = daemon.queue.clone();
    let sql = |q: &'static str| {
        let pool = pool.clone();
        async move { sqlx::query(q).bind(org.0).execute(&pool).await }
    };
    // A round bar stocked and priced per FT, sold in 12 ft and 20 ft lengths.
    sql("INSERT INTO products (org_id, sku, name, uom, web_visible) VALUES ($1, 'RB', 'Round bar', 'FT', true)")
        .await?;
    sql(
        "INSERT INTO product_variants (org_id, sku, parent_sku, name, units)
         VALUES ($1, 'RB-12FT', 'RB', '12 ft', 12), ($1, 'RB-20FT', 'RB', '20 ft', 20)",
    )
    .await?;
    sql("INSERT INTO inventory_locations (org_id, code, name) VALUES ($1, 'CHI', 'Chicago')")
        .await?;
    sql(
        "INSERT INTO inventory_levels (org_id, sku, location, on_hand, allocated, on_order)
         VALUES ($1, 'RB', 'CHI', 250.5, 10, 0)",
    )
    .await?;
    sql("INSERT INTO price_lists (org_id, price_list_id, currency) VALUES ($1, 'WEB', 'USD')")
        .await?;
    sql(
        "INSERT INTO list_prices (org_id, price_list_id, sku, uom, amount)
         VALUES ($1, 'WEB', 'RB', 'FT', 2.8512)",
    )
    .await?;
    assert_eq!(run_sync(&queue, org, "cat", true).await?, "succeeded");
    fake.clear_writes();
    assert_eq!(
        run_counted(&queue, &pool, org, "inventory", "inv-1", true).await?,
        "succeeded"
    );
    assert_eq!(
        run_counted(&queue, &pool, org, "prices", "pr-1", true).await?,
        "succeeded"
    );
    // 240.5 ft available: 20 pieces of 12 ft, 12 of 20 ft; 2.8512/ft × 12 = 34.2144.
    assert_eq!(fake.available("RB-12FT", CHI), Some(20));
    assert_eq!(fake.available("RB-20FT", CHI), Some(12));
    assert_eq!(fake.variant_price("RB-12FT").unwrap().0, "34.21");
    assert_eq!(fake.variant_price("RB-20FT").unwrap().0, "57.02");
    assert_eq!(fake.applied("inventorySetQuantities"), 1);
    assert_eq!(fake.applied("productVariantsBulkUpdate"), 1);

    // The bar's stock drops to 236 ft available: exactly one write, of both lengths (19
    // pieces of 12 ft, 11 of 20 ft), in one call.
    fake.clear_writes();
    sql("UPDATE inventory_levels SET on_hand = 246 WHERE org_id = $1 AND sku = 'RB'").await?;
    assert_eq!(
        run_counted(&queue, &pool, org, "inventory", "inv-2", false).await?,
        "succeeded"
    );
    let writes = fake.writes();
    assert_eq!(writes.len(), 1, "{writes:?}");
    let skus_written: Vec<i64> = writes[0].args["input"]["quantities"]
        .as_array()
        .unwrap()
        .iter()
        .map(|q| q["quantity"].as_i64().unwrap())
        .collect();
    assert_eq!(skus_written, [19, 11]);
    assert_eq!(fake.available("RB-12FT", CHI), Some(19));
    assert_eq!(fake.available("RB-20FT", CHI), Some(11));

    // Nothing changed: zero writes, incremental or full.
    fake.clear_writes();
    for (entity, key) in [("inventory", "inv-3"), ("prices", "pr-3")] {
        assert_eq!(
            run_counted(&queue, &pool, org, entity, key, true).await?,
            "succeeded"
        );
    }
    assert!(fake.writes().is_empty(), "{:?}", fake.writes());

    // A length's units edited in the catalog (the 20 ft length is now 18 ft): the feed marks
    // the bar's stock and prices, so both are written again with the new units.
    sql("UPDATE product_variants SET units = 18 WHERE org_id = $1 AND sku = 'RB-20FT'").await?;
    for (entity, key) in [("inventory", "inv-4"), ("prices", "pr-4")] {
        assert_eq!(
            run_counted(&queue, &pool, org, entity, key, false).await?,
            "succeeded"
        );
    }
    assert_eq!(fake.available("RB-20FT", CHI), Some(13)); // 236 / 18 = 13.1
    assert_eq!(fake.variant_price("RB-20FT").unwrap().0, "51.32"); // 2.8512 × 18 = 51.3216
    assert_eq!(fake.applied("inventorySetQuantities"), 1);
    assert_eq!(fake.applied("productVariantsBulkUpdate"), 1);
    daemon.stop().await
}
