//! Shipments reach the storefront the order came from (issues #12/#13), end to end: an order
//! pulled in from the fake Shopify (or Magento) store, a shipment recorded through
//! `POST /api/v1/orders/{id}/shipments`, whose `partner.push` was written in the shipment's
//! transaction and is run by the daemon's worker over loopback HTTP: the store's fulfillment
//! (shipment) carries the tracking. A tracking change through
//! `PATCH /api/v1/orders/{id}/shipments/{shipment_id}` reaches the store as
//! `fulfillmentTrackingInfoUpdate` (a new Magento track), recorded as
//! `shipment.tracking_updated`. An order of our own (no storefront) pushes nothing.

use reqwest::Method;
use serde_json::{json, Value};
use switchyard_core::ids::{JobId, OrgId};
use switchyard_daemon::app::Roles;
use switchyard_e2e::TestDaemon;
use switchyard_magento::fake::{FakeLine, FakeMagento, FakeStoreConfig};
use switchyard_shopify::fake::{FakeOrderSpec, FakeShopify, FakeShopifyConfig};
use switchyard_store::queue::{NewJob, RetryPolicy, RetrySpec};

const ROLES: Roles = Roles {
    api: true,
    worker: true,
    scheduler: false,
};

async fn product(pool: &sqlx::PgPool, org: OrgId, sku: &str) -> anyhow::Result<()> {
    sqlx::query("INSERT INTO products (org_id, sku, name, uom) VALUES ($1, $2, $3, 'EA')")
        .bind(org.0)
        .bind(sku)
        .bind(format!("Item {sku}"))
        .execute(pool)
        .await?;
    Ok(())
}

/// Enqueue `job` and wait for it to end; its final state.
async fn run(d: &TestDaemon, job: NewJob) -> anyhow::Result<String> {
    let id = d
        .queue
        .enqueue(job.retry(RetrySpec::of(RetryPolicy::Immediate)))
        .await?
        .job
        .id;
    switchyard_e2e::jobs::ended(&d.db.pool, id).await
}

/// The `partner.push` jobs of the organization, oldest first: (id, document, partner).
async fn pushes(
    pool: &sqlx::PgPool,
    org: OrgId,
) -> anyhow::Result<Vec<(uuid::Uuid, String, String)>> {
    Ok(sqlx::query_as(
        "SELECT id, payload->>'document', partner FROM jobs
         WHERE org_id = $1 AND kind = 'partner.push' ORDER BY created_at, id",
    )
    .bind(org.0)
    .fetch_all(pool)
    .await?)
}

/// Wait for every push job to end; their final states, oldest first.
async fn pushes_ended(pool: &sqlx::PgPool, org: OrgId) -> anyhow::Result<Vec<String>> {
    let mut states = Vec::new();
    for (id, ..) in pushes(pool, org).await? {
        states.push(switchyard_e2e::jobs::ended(pool, JobId(id)).await?);
    }
    Ok(states)
}

async fn order_id(pool: &sqlx::PgPool, org: OrgId, number: &str) -> anyhow::Result<uuid::Uuid> {
    Ok(
        sqlx::query_scalar("SELECT id FROM orders WHERE org_id = $1 AND order_number = $2")
            .bind(org.0)
            .bind(number)
            .fetch_one(pool)
            .await?,
    )
}

/// Wait until the pulled order `number` is imported; its id.
async fn imported(pool: &sqlx::PgPool, org: OrgId, number: &str) -> anyhow::Result<uuid::Uuid> {
    switchyard_e2e::eventually(std::time::Duration::from_secs(60), "the import", || {
        let pool = pool.clone();
        let number = number.to_owned();
        async move {
            Ok(
                sqlx::query_scalar::<_, i64>("SELECT count(*) FROM orders WHERE order_number = $1")
                    .bind(number)
                    .fetch_one(&pool)
                    .await?
                    == 1,
            )
        }
    })
    .await?;
    order_id(pool, org, number).await
}

async fn api(
    d: &TestDaemon,
    key: &str,
    method: Method,
    path: &str,
    body: Value,
) -> anyhow::Result<(u16, Value)> {
    d.call(method, path, Some(key), Some(body)).await
}

async fn events(pool: &sqlx::PgPool, org: OrgId, kind: &str) -> anyhow::Result<Vec<Value>> {
    Ok(sqlx::query_scalar(
        "SELECT data FROM events WHERE org_id = $1 AND type = $2 ORDER BY occurred_at",
    )
    .bind(org.0)
    .bind(kind)
    .fetch_all(pool)
    .await?)
}

#[tokio::test]
async fn a_shopify_order_shipped_through_the_api_is_fulfilled_and_its_tracking_updated(
) -> anyhow::Result<()> {
    let fake = FakeShopify::start(FakeShopifyConfig::default()).await?;
    let d = TestDaemon::builder()
        .repo_mappings()
        .toml(&format!(
            "[partners.shop]\nkind = \"shopify\"\norg = \"acme\"\nshop_url = \"{}\"\napi_version = \"2026-04\"\naccess_token = \"secret:shop-token\"\nlocations = {{ CHI = \"gid://shopify/Location/7001\" }}\nnotify_customer = true\n",
            fake.base_url()
        ))
        .secret("secret:shop-token", fake.token())
        .roles(ROLES)
        .start()
        .await?;
    let pool = d.db.pool.clone();
    let org = d.org("acme").await?;
    product(&pool, org, "BOLT-M8").await?;
    let key = d.key("acme", &["write:orders", "read:orders"]).await?;

    // The order comes in from the store.
    let shop_id = fake.create_order(FakeOrderSpec::simple("d@example.com", &[("BOLT-M8", 3)]));
    let pull = NewJob::new(org, "shopify.orders.pull", json!({"partner": "shop"})).partner("shop");
    assert_eq!(run(&d, pull).await?, "succeeded");
    let number = format!("SHOPIFY-{shop_id}");
    let id = imported(&pool, org, &number).await?;

    // Shipped through the API: the push was written with the shipment and fulfils the order.
    let ship = json!({"shipment_number": "SH-1", "carrier": "UPS", "service": "Ground",
        "tracking_number": "1Z999AA10123456784",
        "tracking_url": "https://track.example.com/1Z999AA10123456784",
        "lines": [{"sku": "BOLT-M8", "quantity": "3"}]});
    let path = format!("/api/v1/orders/{id}/shipments");
    let (status, shipment) = api(&d, &key, Method::POST, &path, ship.clone()).await?;
    assert_eq!(status, 201, "{shipment}");
    assert_eq!(shipment["order_status"], "shipped");
    assert_eq!(pushes_ended(&pool, org).await?, ["succeeded"]);
    let f = fake.fulfillments_of(shop_id);
    assert_eq!(f.len(), 1, "{f:?}");
    assert_eq!(f[0].company.as_deref(), Some("UPS"));
    assert_eq!(f[0].number.as_deref(), Some("1Z999AA10123456784"));
    assert_eq!(
        f[0].url.as_deref(),
        Some("https://track.example.com/1Z999AA10123456784"),
        "our tracking URL, not the carrier's guess"
    );
    assert!(f[0].notify_customer);

    // The same shipment sent again is found: no second push, no second fulfillment.
    let (status, _) = api(&d, &key, Method::POST, &path, ship).await?;
    assert_eq!(status, 200);
    assert_eq!(pushes(&pool, org).await?.len(), 1);
    assert_eq!(fake.applied("fulfillmentCreate"), 1);

    // The tracking changes: the fulfillment's tracking is updated, the event recorded.
    let one = format!("{path}/{}", shipment["id"].as_str().unwrap_or_default());
    let change = json!({"carrier": "FedEx", "tracking_number": "7489 0000 1111"});
    let (status, changed) = api(&d, &key, Method::PATCH, &one, change.clone()).await?;
    assert_eq!(status, 200, "{changed}");
    assert_eq!(changed["tracking_number"], "7489 0000 1111");
    assert_eq!(changed["tracking_url"], Value::Null);
    assert_eq!(pushes_ended(&pool, org).await?, ["succeeded", "succeeded"]);
    let f = fake.fulfillments_of(shop_id);
    assert_eq!(f.len(), 1, "still one fulfillment");
    assert_eq!(f[0].tracking_updates.len(), 1, "{f:?}");
    assert_eq!(f[0].company.as_deref(), Some("FedEx"));
    assert_eq!(f[0].number.as_deref(), Some("7489 0000 1111"));
    assert_eq!(
        f[0].url.as_deref(),
        Some("https://www.fedex.com/fedextrack/?trknbr=7489 0000 1111")
    );
    let updated = events(&pool, org, "shipment.tracking_updated").await?;
    assert_eq!(updated.len(), 1);
    assert_eq!(updated[0]["previous_tracking_number"], "1Z999AA10123456784");
    assert_eq!(updated[0]["tracking_number"], "7489 0000 1111");
    let numbers: Value =
        sqlx::query_scalar("SELECT canonical->'tracking_numbers' FROM orders WHERE id = $1")
            .bind(id)
            .fetch_one(&pool)
            .await?;
    assert_eq!(
        numbers,
        json!(["7489 0000 1111"]),
        "the old number replaced on the order"
    );

    // The same change again changes nothing and pushes nothing.
    let (status, _) = api(&d, &key, Method::PATCH, &one, change).await?;
    assert_eq!(status, 200);
    assert_eq!(pushes(&pool, org).await?.len(), 2);
    assert_eq!(
        events(&pool, org, "shipment.tracking_updated").await?.len(),
        1
    );

    // The merchant cancels the fulfillment: Shopify refuses the next tracking change, which
    // becomes a dead letter naming why.
    let fid = f[0].id;
    assert!(fake.cancel_fulfillment(fid));
    let (status, _) = api(
        &d,
        &key,
        Method::PATCH,
        &one,
        json!({"carrier": "FedEx", "tracking_number": "7489 0000 2222"}),
    )
    .await?;
    assert_eq!(status, 200);
    assert_eq!(
        pushes_ended(&pool, org).await?,
        ["succeeded", "succeeded", "dead"]
    );
    let dead = d.queue.list_dead_letters(org, None, None, 10).await?;
    assert_eq!(dead.len(), 1);
    assert!(
        dead[0].reason.contains("cancelled fulfillment"),
        "{}",
        dead[0].reason
    );
    assert_eq!(fake.fulfillments_of(shop_id)[0].tracking_updates.len(), 1);

    // An unknown fulfillment is refused too.
    let unknown = NewJob::new(
        org,
        "partner.push",
        json!({"document": "shipment_tracking", "body": {"shipment_number": "SH-X",
            "order_number": number, "carrier": "UPS", "packages": [{"tracking_number": "1Z1", "lines": []}],
            "partner_reference": "gid://shopify/Fulfillment/999999999"}}),
    )
    .partner("shop");
    assert_eq!(run(&d, unknown).await?, "dead");
    let dead = d.queue.list_dead_letters(org, None, None, 10).await?;
    assert!(
        dead.iter()
            .any(|l| l.reason.contains("Fulfillment does not exist")),
        "{dead:?}"
    );

    // An order of our own (no storefront) ships without any push.
    sqlx::query(
        "INSERT INTO orders (id, org_id, order_number, customer_po, status, canonical, source)
         SELECT gen_random_uuid(), org_id, 'SO-OWN', 'PO-OWN', 'confirmed',
                jsonb_set(jsonb_set(canonical, '{order_number}', '\"SO-OWN\"'), '{customer_po}', '\"PO-OWN\"'), 'api'
         FROM orders WHERE id = $1",
    )
    .bind(id)
    .execute(&pool)
    .await?;
    let own = order_id(&pool, org, "SO-OWN").await?;
    let (status, body) = api(
        &d,
        &key,
        Method::POST,
        &format!("/api/v1/orders/{own}/shipments"),
        json!({"shipment_number": "SH-OWN", "carrier": "UPS", "tracking_number": "1Z2",
            "lines": [{"sku": "BOLT-M8", "quantity": "1"}]}),
    )
    .await?;
    assert_eq!(status, 201, "{body}");
    assert_eq!(
        pushes(&pool, org).await?.len(),
        4,
        "no push for our own order"
    );
    d.stop().await
}

#[tokio::test]
async fn a_magento_order_shipped_through_the_api_ships_in_the_store_with_a_new_track_later(
) -> anyhow::Result<()> {
    let fake = FakeMagento::start(FakeStoreConfig::default()).await?;
    let c = fake.config();
    let d = TestDaemon::builder()
        .repo_mappings()
        .secret("secret:mg-ck", &c.consumer_key)
        .secret("secret:mg-cs", &c.consumer_secret)
        .secret("secret:mg-at", &c.access_token)
        .secret("secret:mg-as", &c.access_token_secret)
        .toml(&format!(
            "[partners.shop]\nkind = \"magento\"\norg = \"acme\"\nbase_url = \"{}\"\nstore_code = \"all\"\n\
             auth = {{ mode = \"oauth\", consumer_key_ref = \"secret:mg-ck\", consumer_secret_ref = \"secret:mg-cs\", \
             access_token_ref = \"secret:mg-at\", access_token_secret_ref = \"secret:mg-as\" }}\n\
             msi = {{ enabled = true, sources = {{ CHI = \"chicago\" }} }}\nnotify_customer = true\ntimeout_ms = 5000\n",
            fake.base_url()
        ))
        .roles(ROLES)
        .start()
        .await?;
    let pool = d.db.pool.clone();
    let org = d.org("acme").await?;
    product(&pool, org, "BOLT-M8").await?;
    let key = d.key("acme", &["write:orders", "read:orders"]).await?;

    let (entity, increment) =
        fake.create_order("a@example.com", &[FakeLine::simple("BOLT-M8", 4, 0.35)]);
    let pull = NewJob::new(org, "magento.orders.pull", json!({"partner": "shop"})).partner("shop");
    assert_eq!(run(&d, pull).await?, "succeeded");
    let number = format!("MAGENTO-{increment}");
    let id = imported(&pool, org, &number).await?;

    let path = format!("/api/v1/orders/{id}/shipments");
    let (status, shipment) = api(
        &d,
        &key,
        Method::POST,
        &path,
        json!({"shipment_number": "SH-M1", "carrier": "UPS", "tracking_number": "1Z999AA1",
            "lines": [{"sku": "BOLT-M8", "quantity": "4"}]}),
    )
    .await?;
    assert_eq!(status, 201, "{shipment}");
    assert_eq!(pushes_ended(&pool, org).await?, ["succeeded"]);
    let shipped = fake.shipments_of(entity);
    assert_eq!(shipped.len(), 1, "{shipped:?}");
    let (body, magento_shipment) = &shipped[0];
    assert_eq!(body["tracks"][0]["track_number"], "1Z999AA1");
    assert_eq!(body["tracks"][0]["carrier_code"], "ups");
    assert_eq!(body["notify"], true);

    let one = format!("{path}/{}", shipment["id"].as_str().unwrap_or_default());
    let (status, changed) = api(
        &d,
        &key,
        Method::PATCH,
        &one,
        json!({"carrier": "DHL", "tracking_number": "JD0002"}),
    )
    .await?;
    assert_eq!(status, 200, "{changed}");
    assert_eq!(pushes_ended(&pool, org).await?, ["succeeded", "succeeded"]);
    let tracks = fake.tracks_of(*magento_shipment);
    assert_eq!(tracks.len(), 1, "{tracks:?}");
    assert_eq!(tracks[0]["track_number"], "JD0002");
    assert_eq!(tracks[0]["carrier_code"], "dhl");
    assert_eq!(tracks[0]["order_id"], entity);
    assert_eq!(fake.shipments_of(entity).len(), 1, "no second shipment");

    // A track on a shipment the order does not have is refused by the store.
    let stray = NewJob::new(
        org,
        "partner.push",
        json!({"document": "shipment_tracking", "body": {"shipment_number": "SH-X",
            "order_number": number, "carrier": "UPS", "packages": [{"tracking_number": "1Z1", "lines": []}],
            "partner_reference": "424242"}}),
    )
    .partner("shop");
    assert_eq!(run(&d, stray).await?, "dead");
    let dead = d.queue.list_dead_letters(org, None, None, 10).await?;
    assert!(
        dead.iter()
            .any(|l| l.reason.contains("Could not save the shipment tracking")),
        "{dead:?}"
    );
    d.stop().await
}
