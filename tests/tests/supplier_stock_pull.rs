//! Supplier stock and prices end to end (issue #14): the scheduled pull (`catalog.pull.dispatch`,
//! as schedules/inventory-pull.toml and prices-pull.toml fire it) runs one `catalog.pull` per
//! configured (partner, entity) against the fake PhoneX and the fake WesellCellular over
//! loopback HTTP, in pages, through the repository's mapping files, into the canonical
//! `inventory_levels` (PhoneX at its own location `PHONEX`, WesellCellular at its warehouses)
//! and `list_prices` (price lists `PHONEX`, `WESELLCELLULAR`). A WesellCellular "100+" is
//! stored as the floor it is (`on_hand_at_least`), never as a plain 100, and the storefront
//! push document (the sync engine's inventory source) carries the floor; when the supplier
//! later says exactly 100, the change of the floor alone records `inventory.updated`.

use serde_json::{json, Value};
use std::time::Duration;
use switchyard_core::ids::OrgId;
use switchyard_daemon::app::Roles;
use switchyard_e2e::{count, eventually, TestDaemon};
use switchyard_phonex::fake::{FakeConfig, FakePhonex};
use switchyard_runtime::sync::config::Entity;
use switchyard_runtime::sync::source::{ItemSource, PgSource};
use switchyard_store::queue::NewJob;
use switchyard_wesellcellular::fake::{FakeWesell, FakeWesellConfig};

const WAIT: Duration = Duration::from_secs(60);
const CAPPED: &str = "IPHONE12-64GB-A-GSMUNLOCKED";

fn config(px: &FakePhonex, wsc: &FakeWesell) -> String {
    format!(
        "[partners.phonex]\nkind = \"phonex\"\norg = \"acme\"\nbase_url = \"{}\"\napi_key = \"secret:px-key\"\n\
         webhooks = {{ secret = \"secret:px-hooks\", encoding = \"hex\" }}\n\n\
         [partners.wesell]\nkind = \"wesellcellular\"\norg = \"acme\"\nbase_url = \"{}\"\n\
         client_id_ref = \"secret:wsc-id\"\nclient_secret_ref = \"secret:wsc-secret\"\n\n\
         [pull.phonex.inventory]\nmapping = \"phonex/stock.in\"\nparams = {{ per_page = 2 }}\n\
         [pull.phonex.prices]\nmapping = \"phonex/price.in\"\nparams = {{ per_page = 2 }}\n\
         [pull.wesell.inventory]\nmapping = \"wesellcellular/stock.in\"\nparams = {{ pageSize = 2 }}\n\
         [pull.wesell.prices]\nmapping = \"wesellcellular/price.in\"\nparams = {{ pageSize = 2 }}\n",
        px.base_url(),
        wsc.base_url()
    )
}

/// A WesellCellular stock list line as the portal sends it.
fn wsc_line(grade: &str, warehouse: &str, quantity: Value, price: &str) -> Value {
    json!({"model": "IPHONE12", "storage": "64GB", "grade": grade, "lockStatus": "GSM Unlocked",
           "warehouse": warehouse, "quantity": quantity, "price": price, "currency": "USD"})
}

/// The products, locations and price lists the pulled records name (a pull stores stock
/// and prices of known SKUs at known locations only).
async fn catalog(pool: &sqlx::PgPool, org: OrgId) -> anyhow::Result<()> {
    for sql in [
        "INSERT INTO products (org_id, sku, name) VALUES
             ($1, 'IPHONE12-64GB-A', 'iPhone 12 64GB A'), ($1, 'SGS23-256-GRN-B', 'Galaxy S23'),
             ($1, 'IPHONE12-64GB-A-GSMUNLOCKED', 'iPhone 12 64GB A unlocked'),
             ($1, 'IPHONE12-64GB-B-GSMUNLOCKED', 'iPhone 12 64GB B unlocked')",
        "INSERT INTO inventory_locations (org_id, code, name) VALUES
             ($1, 'PHONEX', 'PhoneX'), ($1, 'W1', 'WesellCellular W1'), ($1, 'W2', 'WesellCellular W2')",
        "INSERT INTO price_lists (org_id, price_list_id, name, currency) VALUES
             ($1, 'PHONEX', 'PhoneX', 'USD'), ($1, 'WESELLCELLULAR', 'WesellCellular', 'USD')",
    ] {
        sqlx::query(sql).bind(org.0).execute(pool).await?;
    }
    Ok(())
}

/// Fire the scheduled dispatcher for `entity` as the schedule does, and wait until the
/// `catalog.pull` runs it queued have all succeeded (`total` so far).
async fn scheduled_pull(
    daemon: &TestDaemon,
    org: OrgId,
    entity: &str,
    total: i64,
) -> anyhow::Result<()> {
    let id = daemon
        .queue
        .enqueue(NewJob::new(
            org,
            "catalog.pull.dispatch",
            json!({"entity": entity}),
        ))
        .await?
        .job
        .id;
    assert_eq!(
        switchyard_e2e::jobs::ended(&daemon.db.pool, id).await?,
        "succeeded"
    );
    let pool = daemon.db.pool.clone();
    eventually(WAIT, &format!("{total} pull runs succeeded"), || {
        let pool = pool.clone();
        async move {
            // Both suppliers' runs of one entity share its lock: one may wait for a retry.
            Ok(count(
                &pool,
                "SELECT count(*) FROM jobs WHERE kind = 'catalog.pull' AND state = 'succeeded'",
            )
            .await?
                == total)
        }
    })
    .await?;
    let dead = count(
        &daemon.db.pool,
        "SELECT count(*) FROM dead_letters WHERE kind LIKE 'catalog.pull%'",
    )
    .await?;
    assert_eq!(dead, 0, "every record stored");
    Ok(())
}

/// (sku, location, on_hand, on_hand_at_least) of every level.
async fn levels(pool: &sqlx::PgPool) -> anyhow::Result<Vec<(String, String, String, bool)>> {
    Ok(sqlx::query_as(
        "SELECT sku, location, trim_scale(on_hand)::text, on_hand_at_least FROM inventory_levels
         ORDER BY location, sku",
    )
    .fetch_all(pool)
    .await?)
}

fn level(
    sku: &str,
    location: &str,
    on_hand: &str,
    at_least: bool,
) -> (String, String, String, bool) {
    (sku.into(), location.into(), on_hand.into(), at_least)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_scheduled_pull_brings_both_suppliers_stock_and_prices_with_caps_kept_as_floors(
) -> anyhow::Result<()> {
    let px = FakePhonex::start(FakeConfig::default()).await?;
    let wsc = FakeWesell::start(FakeWesellConfig::default()).await?;
    px.set_stock(vec![
        json!({"sku": "iphone12-64gb-a", "description": "iPhone 12 64GB, grade A", "available": 120,
               "price": "231.00", "currency": "USD", "updated_at": "2026-11-30T18:06:39Z"}),
        json!({"sku": "SGS23-256-GRN-B", "description": "Galaxy S23", "available": 0,
               "price": "389.5", "currency": "USD", "updated_at": "2026-11-30T18:06:39Z"}),
    ]);
    wsc.seed_stock_raw(vec![
        wsc_line("A", "W1", json!("100+"), "231.00"),
        wsc_line("B", "W2", json!(37), "199.50"),
        wsc_line("A", "W2", json!(4), "231.00"),
    ]);
    let (pxc, wscc) = (px.config().clone(), wsc.config().clone());
    let daemon = TestDaemon::builder()
        .repo_mappings()
        .toml(&config(&px, &wsc))
        .secret("secret:px-key", &pxc.api_key)
        .secret("secret:px-hooks", &pxc.webhook_secret)
        .secret("secret:wsc-id", &wscc.client_id)
        .secret("secret:wsc-secret", &wscc.client_secret)
        .roles(Roles {
            api: false,
            worker: true,
            scheduler: false,
        })
        .start()
        .await?;
    let pool = daemon.db.pool.clone();
    let org = daemon.org("acme").await?;
    catalog(&pool, org).await?;

    scheduled_pull(&daemon, org, "inventory", 2).await?;
    assert_eq!(
        levels(&pool).await?,
        [
            level("IPHONE12-64GB-A", "PHONEX", "120", false),
            level("SGS23-256-GRN-B", "PHONEX", "0", false),
            // The cap: its floor, marked as one.
            level(CAPPED, "W1", "100", true),
            level(CAPPED, "W2", "4", false),
            level("IPHONE12-64GB-B-GSMUNLOCKED", "W2", "37", false),
        ]
    );
    scheduled_pull(&daemon, org, "prices", 4).await?;
    let prices: Vec<(String, String, String)> = sqlx::query_as(
        "SELECT price_list_id, sku, trim_scale(amount)::text FROM list_prices
         ORDER BY price_list_id, sku",
    )
    .fetch_all(&pool)
    .await?;
    let p = |l: &str, s: &str, a: &str| (l.to_owned(), s.to_owned(), a.to_owned());
    assert_eq!(
        prices,
        [
            p("PHONEX", "IPHONE12-64GB-A", "231"),
            p("PHONEX", "SGS23-256-GRN-B", "389.5"),
            p("WESELLCELLULAR", CAPPED, "231"),
            p("WESELLCELLULAR", "IPHONE12-64GB-B-GSMUNLOCKED", "199.5"),
        ]
    );

    // What a storefront sync maps (its inventory document): the floor is there to decide on.
    let source = PgSource { pool: pool.clone() };
    let docs = source
        .load(
            org,
            Entity::Inventory,
            &[CAPPED.to_owned()],
            chrono::Utc::now(),
        )
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let doc = docs[CAPPED].value()?.into_owned();
    assert_eq!(doc["on_hand_at_least"], json!(true), "{doc}");
    assert_eq!(doc["locations"][0]["location"], "W1", "{doc}");
    assert_eq!(
        doc["locations"][0]["on_hand_at_least"],
        json!(true),
        "{doc}"
    );
    assert_eq!(
        doc["locations"][1]["on_hand_at_least"],
        json!(false),
        "{doc}"
    );

    // The supplier now counts exactly 100 at W1: only the floor changed, and that is an update.
    let updated = "SELECT count(*) FROM events WHERE type = 'inventory.updated'
                   AND data->>'sku' = 'IPHONE12-64GB-A-GSMUNLOCKED' AND data->>'location' = 'W1'";
    let before = count(&pool, updated).await?;
    wsc.seed_stock_raw(vec![
        wsc_line("A", "W1", json!(100), "231.00"),
        wsc_line("B", "W2", json!(37), "199.50"),
        wsc_line("A", "W2", json!(4), "231.00"),
    ]);
    scheduled_pull(&daemon, org, "inventory", 6).await?;
    assert!(levels(&pool)
        .await?
        .contains(&level(CAPPED, "W1", "100", false)));
    assert_eq!(count(&pool, updated).await?, before + 1);
    let data: Value = sqlx::query_scalar(
        "SELECT data FROM events WHERE type = 'inventory.updated'
         AND data->>'sku' = 'IPHONE12-64GB-A-GSMUNLOCKED' AND data->>'location' = 'W1'
         ORDER BY id DESC LIMIT 1",
    )
    .fetch_one(&pool)
    .await?;
    assert_eq!(data["on_hand"], "100");
    assert_eq!(data["on_hand_at_least"], json!(false));
    let total_updates = count(
        &pool,
        "SELECT count(*) FROM events WHERE type = 'inventory.updated'",
    )
    .await?;
    assert_eq!(
        total_updates, 6,
        "five levels stored, then the one floor that changed"
    );

    daemon.stop().await?;
    px.shutdown().await;
    Ok(())
}
