//! Shopify orders in, end to end: orders created in the fake shop, pulled through the adapter
//! over loopback HTTP (pages, an edit during the pull), imported by the daemon's
//! `shopify.order.import` jobs into real Postgres: one canonical order per Shopify order
//! (keyed by its id), the edit and a cancellation applied, and an order with an unknown SKU a
//! dead letter naming the SKU that imports once the product exists and it is replayed.

use serde_json::{json, Value};
use switchyard_core::ids::{OrgId, PartnerName};
use switchyard_daemon::app::Roles;
use switchyard_e2e::TestDaemon;
use switchyard_runtime::testkit::doubles::{context, MapSecrets, RecordingSink};
use switchyard_shopify::config::Settings;
use switchyard_shopify::fake::{FakeOrderSpec, FakeShopify, FakeShopifyConfig};
use switchyard_shopify::orders::Checkpoint;
use switchyard_shopify::ShopifyAdapter;
use switchyard_store::queue::{NewJob, Queue, RetryPolicy, RetrySpec};

fn config(fake: &FakeShopify) -> String {
    format!(
        "[partners.shop]\nkind = \"shopify\"\norg = \"acme\"\nshop_url = \"{}\"\napi_version = \"2026-04\"\naccess_token = \"secret:shop-token\"\nlocations = {{ CHI = \"gid://shopify/Location/7001\" }}\nwebhooks = {{ secret = \"secret:shop-hooks\" }}\nnotify_customer = true\n",
        fake.base_url()
    )
}

fn adapter(fake: &FakeShopify) -> ShopifyAdapter {
    let s: Settings = serde_json::from_value(json!({
        "shop_url": fake.base_url(), "api_version": "2026-04", "access_token": "secret:t",
        "locations": {"CHI": "gid://shopify/Location/7001"},
    }))
    .expect("settings");
    let cfg = s
        .validate(&MapSecrets::new().with("secret:t", fake.token()))
        .expect("valid");
    ShopifyAdapter::new(PartnerName("shop".into()), cfg, reqwest::Client::new())
}

async fn product(pool: &sqlx::PgPool, org: OrgId, sku: &str) -> anyhow::Result<()> {
    sqlx::query("INSERT INTO products (org_id, sku, name, uom) VALUES ($1, $2, $3, 'EA')")
        .bind(org.0)
        .bind(sku)
        .bind(format!("Item {sku}"))
        .execute(pool)
        .await?;
    Ok(())
}

const HOOKS: &str = "hush-orders";

async fn daemon(
    fake: &FakeShopify,
    api: bool,
) -> anyhow::Result<(TestDaemon, sqlx::PgPool, OrgId)> {
    let daemon = TestDaemon::builder()
        .repo_mappings()
        .toml(&config(fake))
        .secret("secret:shop-token", fake.token())
        .secret("secret:shop-hooks", HOOKS)
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

/// Enqueue the import of `order` and wait for its job to end; its final state.
async fn import(queue: &Queue, org: OrgId, order: &Value) -> anyhow::Result<String> {
    let key = format!("{}@{}", order["id"], order["updatedAt"]);
    let job = NewJob::new(
        org,
        "shopify.order.import",
        json!({"partner": "shop", "order": order}),
    )
    .partner("shop")
    .key(key)
    .retry(RetrySpec::of(RetryPolicy::Immediate));
    let id = queue.enqueue(job).await?.job.id;
    wait_job(queue, id.0).await
}

async fn wait_job(queue: &Queue, id: uuid::Uuid) -> anyhow::Result<String> {
    switchyard_e2e::jobs::ended(queue.pool(), switchyard_core::ids::JobId(id)).await
}

/// (status, customer_po, canonical) of the order stored for Shopify order `id`.
async fn stored(
    pool: &sqlx::PgPool,
    org: OrgId,
    id: u64,
) -> anyhow::Result<Option<(String, String, Value)>> {
    Ok(sqlx::query_as(
        "SELECT status, customer_po, canonical FROM orders WHERE org_id = $1 AND order_number = $2",
    )
    .bind(org.0)
    .bind(format!("SHOPIFY-{id}"))
    .fetch_optional(pool)
    .await?)
}

#[tokio::test]
async fn orders_pulled_across_pages_import_once_with_edits_cancellations_and_a_dead_letter(
) -> anyhow::Result<()> {
    let fake = FakeShopify::start(FakeShopifyConfig::default()).await?;
    let (daemon, pool, org) = daemon(&fake, false).await?;
    let queue = daemon.queue.clone();
    product(&pool, org, "BOLT-M8").await?;

    let good: Vec<u64> = (1..=3)
        .map(|q| fake.create_order(FakeOrderSpec::simple("a@example.com", &[("BOLT-M8", q)])))
        .collect();
    let unknown = fake.create_order(FakeOrderSpec::simple("b@example.com", &[("NUT-M8", 2)]));
    // The first order is edited while the pull pages.
    fake.update_order_after_next_page(good[0], |s| s.lines[0].quantity = 7);

    let shop = adapter(&fake);
    let ctx = context("pull", RecordingSink::new());
    let batch = shop.pull_orders(&ctx, &Checkpoint::default(), 2).await?;
    assert_eq!(batch.orders.len(), 4, "each order once");
    let mut states = Vec::new();
    for order in &batch.orders {
        states.push(import(&queue, org, order).await?);
    }
    assert_eq!(states.iter().filter(|s| *s == "succeeded").count(), 3);
    assert_eq!(states.iter().filter(|s| *s == "dead").count(), 1);

    let (status, po, canonical) = stored(&pool, org, good[0]).await?.expect("stored");
    assert_eq!(status, "confirmed");
    assert!(po.starts_with('#'), "{po}");
    assert_eq!(canonical["lines"][0]["sku"], "BOLT-M8");
    assert_eq!(
        canonical["lines"][0]["quantity"], "7",
        "the edit made during the pull"
    );
    assert_eq!(canonical["shipping_address"]["city"], "Chicago");
    assert!(stored(&pool, org, unknown).await?.is_none());

    // Importing the same versions again stores nothing new.
    for order in &batch.orders[..1] {
        let again = NewJob::new(
            org,
            "shopify.order.import",
            json!({"partner": "shop", "order": order}),
        )
        .partner("shop")
        .retry(RetrySpec::of(RetryPolicy::Immediate));
        let id = queue.enqueue(again).await?.job.id;
        assert_eq!(wait_job(&queue, id.0).await?, "succeeded");
    }
    let (n,): (i64,) = sqlx::query_as("SELECT count(*) FROM orders WHERE org_id = $1")
        .bind(org.0)
        .fetch_one(&pool)
        .await?;
    assert_eq!(n, 3);

    // The dead letter names the SKU; after the product exists, its replay imports the order.
    let dead = queue.list_dead_letters(org, None, None, 10).await?;
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0].kind, "shopify.order.import");
    assert!(
        dead[0].reason.contains("unknown SKU `NUT-M8`"),
        "{}",
        dead[0].reason
    );
    product(&pool, org, "NUT-M8").await?;
    let replayed = queue.replay(org, dead[0].id, None, None).await?;
    assert_eq!(wait_job(&queue, replayed.id.0).await?, "succeeded");
    let (status, _, canonical) = stored(&pool, org, unknown).await?.expect("replayed");
    assert_eq!(status, "confirmed");
    assert_eq!(canonical["lines"][0]["sku"], "NUT-M8");

    // A cancellation at the shop, pulled from the checkpoint, cancels the stored order.
    assert!(fake.cancel_order(good[1], "CUSTOMER"));
    let next = shop.pull_orders(&ctx, &batch.next, 2).await?;
    assert_eq!(next.orders.len(), 1, "only the change since the checkpoint");
    assert_eq!(import(&queue, org, &next.orders[0]).await?, "succeeded");
    let (status, _, _) = stored(&pool, org, good[1]).await?.expect("stored");
    assert_eq!(status, "cancelled");
    Ok(())
}

/// `orders/create` and `orders/cancelled` signed by the fake through the daemon's
/// `POST /webhooks/shop`: the order is read again from the shop and imported, then cancelled;
/// the same event delivered twice imports once.
#[tokio::test]
async fn order_webhooks_create_and_cancel_the_canonical_order() -> anyhow::Result<()> {
    let fake = FakeShopify::start(FakeShopifyConfig::default().webhook_secret(HOOKS)).await?;
    let (daemon, pool, org) = daemon(&fake, true).await?;
    product(&pool, org, "BOLT-M8").await?;
    let url = format!("{}/webhooks/shop", daemon.api());
    let id = fake.create_order(FakeOrderSpec::simple("c@example.com", &[("BOLT-M8", 3)]));
    let body = fake.order_webhook_body(id).expect("order");
    assert_eq!(
        fake.send_webhook(&url, "orders/create", &body, "evt-o1", None)
            .await?,
        202
    );
    assert_eq!(
        fake.send_webhook(&url, "orders/create", &body, "evt-o1", None)
            .await?,
        200
    );
    switchyard_e2e::eventually(
        std::time::Duration::from_secs(60),
        "the webhook's order",
        || {
            let pool = pool.clone();
            async move { Ok(stored(&pool, org, id).await?.is_some()) }
        },
    )
    .await?;
    let (status, _, canonical) = stored(&pool, org, id).await?.expect("stored");
    assert_eq!(status, "confirmed");
    assert_eq!(canonical["lines"][0]["quantity"], "3");

    assert!(fake.cancel_order(id, "CUSTOMER"));
    let body = fake.order_webhook_body(id).expect("order");
    assert_eq!(
        fake.send_webhook(&url, "orders/cancelled", &body, "evt-o2", None)
            .await?,
        202
    );
    switchyard_e2e::eventually(
        std::time::Duration::from_secs(60),
        "the cancellation",
        || {
            let pool = pool.clone();
            async move {
                Ok(stored(&pool, org, id)
                    .await?
                    .is_some_and(|(s, _, _)| s == "cancelled"))
            }
        },
    )
    .await?;
    let (imports,): (i64,) = sqlx::query_as(
        "SELECT count(*) FROM jobs WHERE kind = 'shopify.order.import' AND state = 'succeeded'",
    )
    .fetch_one(&pool)
    .await?;
    assert_eq!(
        imports, 2,
        "one import per order version, the redelivery none"
    );
    Ok(())
}

/// A shipment of ours for an imported Shopify order, pushed to the shop (`partner.push` of a
/// `shipment`): `fulfillmentCreate` on its fulfillment order with the carrier, tracking number
/// and URL and `notifyCustomer` from the config; pushed again, nothing is fulfilled twice.
#[tokio::test]
async fn a_shipment_becomes_a_fulfillment_with_tracking() -> anyhow::Result<()> {
    let fake = FakeShopify::start(FakeShopifyConfig::default()).await?;
    let (daemon, pool, org) = daemon(&fake, false).await?;
    let queue = daemon.queue.clone();
    product(&pool, org, "BOLT-M8").await?;
    let id = fake.create_order(FakeOrderSpec::simple("d@example.com", &[("BOLT-M8", 2)]));
    let shop = adapter(&fake);
    let ctx = context("pull", RecordingSink::new());
    let batch = shop
        .pull_orders(
            &ctx,
            &Checkpoint::default(),
            switchyard_shopify::orders::PAGE_SIZE,
        )
        .await?;
    assert_eq!(import(&queue, org, &batch.orders[0]).await?, "succeeded");

    let shipment = json!({
        "shipment_number": "SH-1", "order_number": format!("SHOPIFY-{id}"),
        "carrier": "UPS", "service": "Ground", "shipped_at": "2026-12-05T12:00:00Z",
        "packages": [{"sscc": null, "tracking_number": "1Z999AA10123456784", "weight": null, "weight_uom": null,
                      "lines": [{"sku": "BOLT-M8", "quantity": "2", "uom": "EA"}]}],
    });
    for key in ["ship-1", "ship-1-again"] {
        let job = NewJob::new(
            org,
            "partner.push",
            json!({"document": "shipment", "body": shipment}),
        )
        .partner("shop")
        .key(key)
        .retry(RetrySpec::of(RetryPolicy::Immediate));
        let jid = queue.enqueue(job).await?.job.id;
        assert_eq!(wait_job(&queue, jid.0).await?, "succeeded");
    }
    let f = fake.fulfillments_of(id);
    assert_eq!(f.len(), 1, "{f:?}");
    assert_eq!(f[0].company.as_deref(), Some("UPS"));
    assert_eq!(f[0].number.as_deref(), Some("1Z999AA10123456784"));
    assert_eq!(
        f[0].url.as_deref(),
        Some("https://www.ups.com/track?tracknum=1Z999AA10123456784")
    );
    assert!(f[0].notify_customer);
    assert_eq!(fake.applied("fulfillmentCreate"), 1);
    Ok(())
}

/// `shopify.orders.pull` run by the daemon: the orders' imports are enqueued with the stored
/// checkpoint; a second run after an edit imports only the edit.
#[tokio::test]
async fn the_order_pull_job_stores_its_checkpoint_and_imports_changes() -> anyhow::Result<()> {
    let fake = FakeShopify::start(FakeShopifyConfig::default()).await?;
    let (daemon, pool, org) = daemon(&fake, false).await?;
    let queue = daemon.queue.clone();
    product(&pool, org, "BOLT-M8").await?;
    let ids: Vec<u64> = (1..=10)
        .map(|q| fake.create_order(FakeOrderSpec::simple("e@example.com", &[("BOLT-M8", q)])))
        .collect();
    let pull = |key: &'static str| {
        NewJob::new(org, "shopify.orders.pull", json!({"partner": "shop"}))
            .partner("shop")
            .key(key)
            .retry(RetrySpec::of(RetryPolicy::Immediate))
    };
    let imports_done = |want: i64| {
        let pool = pool.clone();
        async move {
            switchyard_e2e::eventually(std::time::Duration::from_secs(60), "the imports", || {
                let pool = pool.clone();
                async move {
                    let (n,): (i64,) = sqlx::query_as(
                        "SELECT count(*) FROM jobs WHERE kind = 'shopify.order.import' AND state = 'succeeded'",
                    )
                    .fetch_one(&pool)
                    .await?;
                    Ok(n == want)
                }
            })
            .await
        }
    };
    let id = queue.enqueue(pull("pull-1")).await?.job.id;
    assert_eq!(wait_job(&queue, id.0).await?, "succeeded");
    imports_done(10).await?;
    let (pulled, since): (i64, Option<String>) = sqlx::query_as(
        "SELECT pulled, checkpoint->>'since' FROM shopify_order_pulls WHERE org_id = $1 AND partner = 'shop'",
    )
    .bind(org.0)
    .fetch_one(&pool)
    .await?;
    assert_eq!(pulled, 10);
    assert!(since.is_some());

    assert!(fake.update_order(ids[3], |s| s.lines[0].quantity = 40));
    let id = queue.enqueue(pull("pull-2")).await?.job.id;
    assert_eq!(wait_job(&queue, id.0).await?, "succeeded");
    imports_done(11).await?;
    let (_, _, canonical) = stored(&pool, org, ids[3]).await?.expect("stored");
    assert_eq!(canonical["lines"][0]["quantity"], "40");
    let (n,): (i64,) = sqlx::query_as("SELECT count(*) FROM orders WHERE org_id = $1")
        .bind(org.0)
        .fetch_one(&pool)
        .await?;
    assert_eq!(n, 10);
    Ok(())
}

/// `X-Shopify-Triggered-At`: a retry triggered before the version already imported, and one
/// older than the staleness window, are stored and acknowledged but not processed (no re-read
/// of the order, no import); a replayed event id is a 200 with nothing new; a bad signature
/// is a 401.
#[tokio::test]
async fn stale_and_replayed_order_webhooks_are_acknowledged_and_not_imported() -> anyhow::Result<()>
{
    let fake = FakeShopify::start(FakeShopifyConfig::default().webhook_secret(HOOKS)).await?;
    let (daemon, pool, org) = daemon(&fake, true).await?;
    product(&pool, org, "BOLT-M8").await?;
    let url = format!("{}/webhooks/shop", daemon.api());
    let processed = |n: i64| {
        let pool = pool.clone();
        async move {
            switchyard_e2e::eventually(
                std::time::Duration::from_secs(60),
                "webhook deliveries processed",
                || {
                    let pool = pool.clone();
                    async move {
                        let (done,): (i64,) = sqlx::query_as(
                            "SELECT count(*) FROM jobs WHERE kind = 'webhook.process' AND state = 'succeeded'",
                        )
                        .fetch_one(&pool)
                        .await?;
                        Ok(done >= n)
                    }
                },
            )
            .await
        }
    };
    let id = fake.create_order(FakeOrderSpec::simple("s@example.com", &[("BOLT-M8", 1)]));
    let body = fake.order_webhook_body(id).expect("order");
    assert_eq!(
        fake.send_webhook(&url, "orders/create", &body, "evt-s1", None)
            .await?,
        202
    );
    processed(1).await?;
    assert!(fake.update_order(id, |s| s.lines[0].quantity = 5));
    let v2 = fake.order_json(id).expect("order")["updatedAt"]
        .as_str()
        .map(str::to_owned)
        .expect("updatedAt");
    let body = fake.order_webhook_body(id).expect("order");
    assert_eq!(
        fake.send_webhook(&url, "orders/updated", &body, "evt-s2", None)
            .await?,
        202
    );
    processed(2).await?;
    switchyard_e2e::eventually(std::time::Duration::from_secs(60), "the edit", || {
        let pool = pool.clone();
        async move {
            Ok(stored(&pool, org, id)
                .await?
                .is_some_and(|(_, _, c)| c["lines"][0]["quantity"] == "5"))
        }
    })
    .await?;
    let requests = fake.stats().requests;

    // A retry of an event from before the imported version: acknowledged, not re-read.
    let v2_at = chrono::DateTime::parse_from_rfc3339(&v2)?.with_timezone(&chrono::Utc);
    let before = v2_at - chrono::Duration::minutes(1);
    assert_eq!(
        fake.send_webhook_at(&url, "orders/updated", &body, "evt-s0", None, before)
            .await?,
        202
    );
    // Older than the staleness window (4 h by default).
    let ancient = chrono::Utc::now() - chrono::Duration::hours(5);
    assert_eq!(
        fake.send_webhook_at(&url, "orders/updated", &body, "evt-old", None, ancient)
            .await?,
        202
    );
    processed(4).await?;
    assert_eq!(
        fake.stats().requests,
        requests,
        "stale retries read nothing from the shop"
    );
    // Replayed: the same event id again is a 200 and no new delivery.
    assert_eq!(
        fake.send_webhook(&url, "orders/updated", &body, "evt-s2", None)
            .await?,
        200
    );
    // Invalid: signed with another secret.
    assert_eq!(
        fake.send_webhook(
            &url,
            "orders/updated",
            &body,
            "evt-s9",
            Some("not-the-secret")
        )
        .await?,
        401
    );
    let (deliveries,): (i64,) =
        sqlx::query_as("SELECT count(*) FROM webhook_deliveries WHERE partner = 'shop'")
            .fetch_one(&pool)
            .await?;
    assert_eq!(
        deliveries, 4,
        "the stale ones are stored too: nothing is lost"
    );
    let (imports,): (i64,) = sqlx::query_as(
        "SELECT count(*) FROM jobs WHERE kind = 'shopify.order.import' AND state = 'succeeded'",
    )
    .fetch_one(&pool)
    .await?;
    assert_eq!(imports, 2);
    Ok(())
}
