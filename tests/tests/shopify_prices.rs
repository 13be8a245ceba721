//! Prices to the fake Shopify through the sync engine and the queue, with the daemon
//! in-process and real Postgres.
//!
//! * Bulk: a full prices sync of a page above `bulk_threshold` goes as one bulk operation of
//!   `productVariantsBulkUpdate` (a line per product, counted at the fake); a variant the
//!   store no longer has under the id we know is that SKU's dead letter and stays out of the
//!   engine's hashes while the rest are confirmed; a re-sync with nothing changed writes
//!   nothing; 1 % changed writes only those, one call each (under the threshold).
//! * B2B price lists: a customer group's price (the GOLD tier) reaches the price list
//!   `price_lists.groups.GOLD` names as a fixed price; changing the tier writes exactly one
//!   `priceListFixedPricesAdd`; removing it writes `priceListFixedPricesDelete`; a re-sync
//!   with nothing changed writes nothing.
//!
//! (Its own file rather than tests/tests/shopify_sync.rs, which the other Shopify branches
//! extend too.)

use serde_json::json;
use switchyard_core::ids::OrgId;
use switchyard_daemon::app::Roles;
use switchyard_e2e::TestDaemon;
use switchyard_shopify::fake::{BulkStatus, FakeShopify, FakeShopifyConfig, FixedPrice, Write};
use switchyard_store::queue::{NewJob, Queue, RetryPolicy, RetrySpec};

const THRESHOLD: i64 = 20;

/// The shop's partner section and its catalog and prices syncs; `extra` is added to the
/// partner (price lists).
fn config(fake: &FakeShopify, prices_mapping: &str, extra: &str) -> String {
    format!(
        "[partners.shop]\nkind = \"shopify\"\norg = \"acme\"\nshop_url = \"{}\"\napi_version = \"2026-04\"\naccess_token = \"secret:shop-token\"\nbulk_threshold = {THRESHOLD}\nbulk_poll_ms = 50\n{extra}\n[sync.shop.catalog]\nmapping = \"shopify/product.out\"\ntombstone = \"shopify/product.tombstone\"\npage_size = 100\n\n[sync.shop.prices]\nmapping = \"{prices_mapping}\"\ntombstone = \"shopify/price.tombstone\"\npage_size = 100\n",
        fake.base_url()
    )
}

async fn daemon(fake: &FakeShopify, toml: &str) -> anyhow::Result<(TestDaemon, OrgId)> {
    let daemon = TestDaemon::builder()
        .repo_mappings()
        .toml(toml)
        .secret("secret:shop-token", fake.token())
        .roles(Roles {
            api: false,
            worker: true,
            scheduler: false,
        })
        .start()
        .await?;
    let org = daemon.org("acme").await?;
    Ok((daemon, org))
}

/// `n` published products `P-00000`… listed on WEB (USD) at 10 + i.
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
    sqlx::query(
        "INSERT INTO price_lists (org_id, price_list_id, currency) VALUES ($1, 'WEB', 'USD')",
    )
    .bind(org.0)
    .execute(pool)
    .await?;
    sqlx::query(
        "INSERT INTO list_prices (org_id, price_list_id, sku, uom, amount)
         SELECT $1, 'WEB', 'P-' || lpad(i::text, 5, '0'), 'EA', 10 + i
         FROM generate_series(0, $2 - 1) AS i",
    )
    .bind(org.0)
    .bind(n)
    .execute(pool)
    .await?;
    Ok(())
}

/// `sync.run` of `entity` enqueued and waited for; its final state.
async fn run(queue: &Queue, org: OrgId, entity: &str, key: &str) -> anyhow::Result<String> {
    let job = NewJob::new(
        org,
        "sync.run",
        json!({"partner": "shop", "entity": entity, "full": true}),
    )
    .partner("shop")
    .key(key)
    .retry(RetrySpec::of(RetryPolicy::Immediate));
    let id = queue.enqueue(job).await?.job.id;
    switchyard_e2e::jobs::ended(queue.pool(), id).await
}

async fn count(pool: &sqlx::PgPool, sql: &str) -> anyhow::Result<i64> {
    Ok(sqlx::query_scalar(sql).fetch_one(pool).await?)
}

/// The fake's writes of `operation` (whatever their outcome).
fn calls_of(fake: &FakeShopify, operation: &str) -> Vec<Write> {
    fake.writes()
        .into_iter()
        .filter(|w| w.operation == operation)
        .collect()
}

fn writes_of(fake: &FakeShopify, operation: &str) -> usize {
    calls_of(fake, operation).len()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_prices_sync_above_the_threshold_goes_as_one_bulk_operation() -> anyhow::Result<()> {
    let fake = FakeShopify::start(FakeShopifyConfig::default()).await?;
    let (daemon, org) = daemon(&fake, &config(&fake, "shopify/price.out", "")).await?;
    let (queue, pool) = (daemon.queue.clone(), daemon.db.pool.clone());
    let n = 100;
    seed(&pool, org, n).await?;
    assert_eq!(run(&queue, org, "catalog", "cat").await?, "succeeded");
    let catalog_ops = fake.bulk_operations().len();
    fake.clear_writes();

    // The merchant deleted P-00013's variant and made it again: the id we know is gone.
    fake.recreate_variant("P-00013").expect("synced");
    assert_eq!(run(&queue, org, "prices", "pr-1").await?, "succeeded");
    let ops = fake.bulk_operations();
    assert_eq!(ops.len(), catalog_ops + 1, "{ops:?}");
    let op = &ops[catalog_ops];
    assert!(op.mutation.contains("productVariantsBulkUpdate"), "{op:?}");
    assert_eq!((op.status, op.lines), (BulkStatus::Completed, n as usize));
    // Every price write was a line of that operation: none went as its own call.
    assert_eq!(writes_of(&fake, "productVariantsBulkUpdate"), n as usize);
    assert_eq!(writes_of(&fake, "bulkOperationRunMutation"), 1);
    assert_eq!(fake.variant_price("P-00042").unwrap().0, "52.00");
    // The refused SKU: its own dead letter naming it and Shopify's reason, not in the hashes;
    // the other 99 confirmed.
    let letters: Vec<(String, String)> = sqlx::query_as(
        "SELECT payload->>'sku', reason FROM dead_letters
          WHERE kind = 'sync.item' AND state = 'open' AND payload->>'entity' = 'prices'",
    )
    .fetch_all(&pool)
    .await?;
    assert_eq!(letters.len(), 1, "{letters:?}");
    assert_eq!(letters[0].0, "P-00013");
    assert!(
        letters[0].1.contains("P-00013") && letters[0].1.contains("does not exist"),
        "{letters:?}"
    );
    assert_eq!(
        count(
            &pool,
            "SELECT count(*) FROM sync_items WHERE entity = 'prices'"
        )
        .await?,
        n - 1
    );
    assert_eq!(
        count(
            &pool,
            "SELECT count(*) FROM sync_items WHERE entity = 'prices' AND sku = 'P-00013'"
        )
        .await?,
        0
    );
    assert_eq!(
        count(&pool, "SELECT count(*) FROM shopify_bulk_operations").await?,
        0,
        "nothing left in flight"
    );

    // Nothing changed: nothing written. The refused SKU was never confirmed, so the engine
    // may offer it again (its own product's call, refused again): that write alone is allowed.
    fake.clear_writes();
    assert_eq!(run(&queue, org, "prices", "pr-2").await?, "succeeded");
    let written: Vec<_> = fake
        .writes()
        .into_iter()
        .filter(|w| {
            w.operation != "productVariantsBulkUpdate"
                || w.args["productId"] != fake_product(&fake, "P-00013")
        })
        .collect();
    assert!(written.is_empty(), "{written:?}");

    // 1 % changed (under the threshold): that SKU written, one call, no operation.
    sqlx::query("UPDATE list_prices SET amount = amount + 1 WHERE org_id = $1 AND sku = 'P-00031'")
        .bind(org.0)
        .execute(&pool)
        .await?;
    fake.clear_writes();
    let before = fake.bulk_operations().len();
    assert_eq!(run(&queue, org, "prices", "pr-3").await?, "succeeded");
    let writes: Vec<_> = fake
        .writes()
        .into_iter()
        .filter(|w| w.args["productId"] != fake_product(&fake, "P-00013"))
        .collect();
    assert_eq!(writes.len(), 1, "{writes:?}");
    assert!(writes
        .iter()
        .all(|w| w.operation == "productVariantsBulkUpdate"));
    assert_eq!(fake.bulk_operations().len(), before);
    assert_eq!(fake.variant_price("P-00031").unwrap().0, "42.00");
    daemon.stop().await
}

/// The gid of the product holding `sku`'s variant in the fake store.
fn fake_product(fake: &FakeShopify, sku: &str) -> serde_json::Value {
    fake.product_by_custom_id("switchyard", "sku_root", sku)
        .map(|p| p["id"].clone())
        .unwrap_or_default()
}

fn fixed(amount: &str) -> Option<FixedPrice> {
    Some(FixedPrice {
        amount: amount.into(),
        compare_at: None,
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_customer_group_price_reaches_its_b2b_price_list_and_only_changes_are_written(
) -> anyhow::Result<()> {
    let fake = FakeShopify::start(FakeShopifyConfig::default()).await?;
    let gold = fake.create_price_list("Gold", "USD");
    let lists = format!("price_lists = {{ groups = {{ GOLD = \"{gold}\" }} }}\n");
    let (daemon, org) = daemon(&fake, &config(&fake, "shopify/price_b2b.out", &lists)).await?;
    let (queue, pool) = (daemon.queue.clone(), daemon.db.pool.clone());
    seed(&pool, org, 2).await?;
    let sql = |q: &'static str| {
        let pool = pool.clone();
        async move { sqlx::query(q).bind(org.0).execute(&pool).await }
    };
    sql("INSERT INTO price_tiers (org_id, tier_code, name, percent) VALUES ($1, 'GOLD', 'Gold', 10)")
        .await?;
    assert_eq!(run(&queue, org, "catalog", "cat").await?, "succeeded");
    fake.clear_writes();

    // The GOLD price (list − 10 %) reaches the list `groups.GOLD` names, in one call for the page.
    assert_eq!(run(&queue, org, "prices", "b2b-1").await?, "succeeded");
    assert_eq!(fake.fixed_price(&gold, "P-00000"), fixed("9.00"));
    assert_eq!(fake.fixed_price(&gold, "P-00001"), fixed("9.90"));
    assert_eq!(fake.variant_price("P-00001").unwrap().0, "11.00");
    assert_eq!(fake.applied("priceListFixedPricesAdd"), 1);
    assert_eq!(writes_of(&fake, "priceListFixedPricesDelete"), 0);

    // Nothing changed: nothing written.
    fake.clear_writes();
    assert_eq!(run(&queue, org, "prices", "b2b-2").await?, "succeeded");
    assert!(fake.writes().is_empty(), "{:?}", fake.writes());

    // The tier changes: exactly one priceListFixedPricesAdd carries both SKUs' new price.
    sql("UPDATE price_tiers SET percent = 20, updated_at = now() WHERE org_id = $1 AND tier_code = 'GOLD'")
        .await?;
    assert_eq!(run(&queue, org, "prices", "b2b-3").await?, "succeeded");
    let adds = calls_of(&fake, "priceListFixedPricesAdd");
    assert_eq!(adds.len(), 1, "{:?}", fake.writes());
    assert_eq!(adds[0].args["priceListId"], json!(gold));
    assert_eq!(adds[0].args["prices"].as_array().map(Vec::len), Some(2));
    assert_eq!(writes_of(&fake, "priceListFixedPricesDelete"), 0);
    assert_eq!(fake.fixed_price(&gold, "P-00000"), fixed("8.00"));
    assert_eq!(fake.fixed_price(&gold, "P-00001"), fixed("8.80"));

    // The tier ends: its fixed prices are deleted from the list.
    fake.clear_writes();
    sql("DELETE FROM price_tiers WHERE org_id = $1 AND tier_code = 'GOLD'").await?;
    assert_eq!(run(&queue, org, "prices", "b2b-4").await?, "succeeded");
    let deletes = calls_of(&fake, "priceListFixedPricesDelete");
    assert_eq!(deletes.len(), 1, "{:?}", fake.writes());
    assert_eq!(
        deletes[0].args["variantIds"].as_array().map(Vec::len),
        Some(2)
    );
    assert_eq!(writes_of(&fake, "priceListFixedPricesAdd"), 0);
    assert_eq!(fake.fixed_price(&gold, "P-00000"), None);
    assert_eq!(fake.fixed_price(&gold, "P-00001"), None);
    assert_eq!(
        fake.variant_price("P-00000").unwrap().0,
        "10.00",
        "the base price stays"
    );

    // And again nothing changed: nothing written.
    fake.clear_writes();
    assert_eq!(run(&queue, org, "prices", "b2b-5").await?, "succeeded");
    assert!(fake.writes().is_empty(), "{:?}", fake.writes());
    daemon.stop().await
}
