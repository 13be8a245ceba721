//! The demo's Magento 2 part (issue #13): the steel catalog the storefront step left behind
//! synced to a second storefront, a Magento store played by the magento crate's loopback fake
//! (`kind = "magento"`, OAuth 1.0a signed), through the same sync engine and REST API:
//!
//! 1. catalog and MSI stock through the **async bulk API** (the partner's `bulk_threshold` is
//!    set low so the demo's small catalog takes the path a big one would): every live product
//!    in the store, the stock of each stocked SKU at its mapped source;
//! 2. prices: base prices and a **tier price per customer group** (our GOLD tier → Magento's
//!    `Gold` group);
//! 3. an order placed in the store pulled in by `magento.orders.pull` and imported as
//!    `MAGENTO-{increment_id}`, then a shipment with a tracking number sent back
//!    (`POST /V1/order/{id}/ship`), the order `complete` in the store; before it ships, the
//!    order is held and released through our API, and the store's order follows.
//!
//! Each is checked against the fake's record of writes and our side read through the API.

use super::storefront::{live_skus, run_partner_sync};
use super::{steel, wait_for_job, Api, Narrator};
use anyhow::{ensure, Context};
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};
use switchyard_magento::fake::{FakeLine, FakeMagento, FakeStoreConfig};
use switchyard_runtime::config::{Config, PartnerConfig};
use switchyard_runtime::sync::config::{Entity, SyncTarget};

pub(super) const PARTNER: &str = "magento";
/// The OAuth 1.0a credentials' secret names (values are the fake's).
const SECRETS: [&str; 4] = ["mg-ck", "mg-cs", "mg-at", "mg-as"];
/// Low enough that the steel catalog goes through the async bulk API in two bulks.
const BULK_THRESHOLD: u32 = 5;
const BULK_BATCH: u32 = 10;
const ORDERED_SKU: &str = steel::CONTRACT_SKU;
const TRACKING: &str = "1Z999AA10123456785";
const WAIT: Duration = Duration::from_secs(30);

/// What the step saw, for the summary.
pub(super) struct MagentoOutcome {
    pub products: usize,
    pub bulks: usize,
    pub gold_tiers: usize,
    pub order: String,
    pub shipments: usize,
    /// The quote-only product's price, refused.
    pub dead_letters: i64,
}

pub(super) async fn start() -> anyhow::Result<FakeMagento> {
    // The steel price book's two tiers have a customer group each in the store.
    Ok(FakeMagento::start(FakeStoreConfig {
        customer_groups: vec!["Gold".into(), "Silver".into()],
        ..FakeStoreConfig::default()
    })
    .await?)
}

/// The credentials the partner's `secret:` references name, to store for the org.
pub(super) fn secrets(fake: &FakeMagento) -> [(&'static str, String); 4] {
    let c = fake.config();
    [
        (SECRETS[0], c.consumer_key.clone()),
        (SECRETS[1], c.consumer_secret.clone()),
        (SECRETS[2], c.access_token.clone()),
        (SECRETS[3], c.access_token_secret.clone()),
    ]
}

/// `[partners.magento]` and `[sync.magento.*]` as switchyard.toml would declare them.
pub(super) fn configure(fake: &FakeMagento, config: &mut Config, org: &str) -> anyhow::Result<()> {
    let [ck, cs, at, as_] = SECRETS;
    let settings: toml::Table = toml::from_str(&format!(
        "base_url = {:?}\nstore_code = \"all\"\nwebsite_ids = [1]\ncurrency = \"USD\"\ntimeout_ms = 5000\n\
         auth = {{ mode = \"oauth\", consumer_key_ref = \"secret:{ck}\", consumer_secret_ref = \"secret:{cs}\", \
         access_token_ref = \"secret:{at}\", access_token_secret_ref = \"secret:{as_}\", signature_method = \"HMAC-SHA256\" }}\n\
         msi = {{ enabled = true, sources = {{ CHI = \"chicago\", HOU = \"houston\" }} }}\n\
         customer_groups = {{ GOLD = \"Gold\", SILVER = \"Silver\" }}\n\
         bulk_threshold = {BULK_THRESHOLD}\nbulk_batch_size = {BULK_BATCH}\nbulk_poll_ms = 100\nnotify_customer = true\n",
        fake.base_url()
    ))?;
    config.partners.insert(
        PARTNER.into(),
        PartnerConfig::new(PARTNER, settings).org(org),
    );
    let target = |mapping: &str, tombstone: &str| SyncTarget {
        mapping: format!("magento/{mapping}"),
        tombstone: format!("magento/{tombstone}"),
        page_size: 50,
        document: None,
    };
    let syncs: BTreeMap<Entity, SyncTarget> = [
        (Entity::Catalog, target("product.out", "product.tombstone")),
        (
            Entity::Inventory,
            target("inventory.out", "inventory.tombstone"),
        ),
        (Entity::Prices, target("price.out", "price.tombstone")),
    ]
    .into_iter()
    .collect();
    config.sync.insert(PARTNER.into(), syncs);
    Ok(())
}

pub(super) async fn run(
    n: &mut Narrator,
    api: &Api<'_>,
    fake: &FakeMagento,
) -> anyhow::Result<MagentoOutcome> {
    let (products, bulks) = catalog_and_stock(n, api, fake).await?;
    let gold_tiers = prices(n, api, fake).await?;
    let (order, shipments) = order_and_shipment(n, api, fake).await?;
    Ok(MagentoOutcome {
        products,
        bulks,
        gold_tiers,
        order,
        shipments,
        dead_letters: 1,
    })
}

/// The sync's last run, narrated; fails unless it succeeded with `failures` items failed.
fn report(n: &Narrator, sync: &Value, failures: i64) -> anyhow::Result<()> {
    let r = &sync["last_run"];
    n.say(format!(
        "    {:<9} examined {:>3}  pushed {:>3}  skipped {:>3}  failed {}",
        sync["entity"].as_str().unwrap_or("?"),
        r["examined"],
        r["pushed"],
        r["skipped"],
        r["failed"],
    ));
    ensure!(
        r["state"] == "succeeded" && r["failed"] == failures,
        "Magento sync {} did not succeed cleanly: {sync}",
        sync["entity"]
    );
    Ok(())
}

/// Catalog and stock through the async bulk API: every live product in the store, each
/// stocked SKU's quantity at its source; (products in the store, bulks sent).
async fn catalog_and_stock(
    n: &mut Narrator,
    api: &Api<'_>,
    fake: &FakeMagento,
) -> anyhow::Result<(usize, usize)> {
    n.step("Magento 2: catalog and MSI stock to the fake store through the async bulk API");
    n.say(format!(
        "{PARTNER}   {}  OAuth 1.0a (HMAC-SHA256) signed; bulk_threshold {BULK_THRESHOLD}, bulks of {BULK_BATCH}",
        fake.base_url()
    ));
    let catalog = run_partner_sync(
        api,
        PARTNER,
        Entity::Catalog,
        json!({}),
        "demo-magento-catalog",
    )
    .await?;
    report(n, &catalog, 0)?;
    let inventory = run_partner_sync(
        api,
        PARTNER,
        Entity::Inventory,
        json!({}),
        "demo-magento-inventory",
    )
    .await?;
    report(n, &inventory, 0)?;
    let writes = fake.writes();
    let bulk = |route: &str| {
        writes
            .iter()
            .filter(|w| w.method == "POST" && w.route == route && w.status == 202)
            .count()
    };
    let (product_bulks, stock_bulks) = (
        bulk("async/bulk/V1/products"),
        bulk("async/bulk/V1/inventory/source-items"),
    );
    let per_item_calls: Vec<String> = writes
        .iter()
        // Product calls the store received itself (the other `V1/products` records are the
        // fake's bulk consumer running the operations).
        .filter(|w| {
            w.bulk.is_none() && (w.route == "V1/products" || w.route.starts_with("V1/products/"))
        })
        .map(|w| format!("{} {} {}", w.method, w.route, w.status))
        .collect();
    let per_item = per_item_calls.len();
    n.say(format!(
        "the store's record of writes: {product_bulks} product bulk(s), {stock_bulks} source-item bulk(s), {per_item} per-item product calls; {} products in the store",
        fake.product_count()
    ));
    ensure!(
        product_bulks >= 1 && stock_bulks >= 1 && per_item == 0,
        "expected the catalog and stock through async bulks only, saw {product_bulks} product and {stock_bulks} stock bulks and {per_item} per-item calls: {:?}",
        per_item_calls.iter().take(5).collect::<Vec<_>>()
    );
    let live = live_skus(api).await?;
    let missing: Vec<&String> = live.iter().filter(|s| fake.product(s).is_none()).collect();
    ensure!(
        missing.is_empty(),
        "live products missing from the Magento store: {missing:?}"
    );
    let stocked: BTreeSet<String> = steel::levels()
        .iter()
        .filter(|l| l["location"] == "CHI")
        .filter_map(|l| l["sku"].as_str().map(str::to_owned))
        .filter(|s| live.contains(s))
        .collect();
    let unstocked: Vec<&String> = stocked
        .iter()
        .filter(|s| fake.source_item(s, "chicago").is_none())
        .collect();
    ensure!(
        unstocked.is_empty(),
        "stocked SKUs without a `chicago` source item in the store: {unstocked:?}"
    );
    let sample = fake
        .source_item(ORDERED_SKU, "chicago")
        .context("the ordered SKU's Chicago source item")?;
    n.say(format!(
        "checked: the {} live products in the store, {} SKUs stocked at source `chicago` ({ORDERED_SKU}: quantity {}, status {})",
        live.len(),
        stocked.len(),
        sample["quantity"],
        sample["status"]
    ));
    Ok((fake.product_count(), product_bulks + stock_bulks))
}

/// Base prices and the GOLD tier as the `Gold` customer group's tier price; how many SKUs
/// carry a Gold tier.
async fn prices(n: &mut Narrator, api: &Api<'_>, fake: &FakeMagento) -> anyhow::Result<usize> {
    n.step("Magento 2: base prices and a tier price per customer group");
    let prices = run_partner_sync(
        api,
        PARTNER,
        Entity::Prices,
        json!({}),
        "demo-magento-prices",
    )
    .await?;
    // The quote-only product has no price in the store's currency: Magento cannot show "ask
    // for a quote", so the adapter refuses it (a dead letter naming the SKU) rather than send 0.
    report(n, &prices, 1)?;
    let open = api.get("/api/v1/dead-letters?state=open").await?;
    let quote = open["items"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|d| {
            d["reason"]
                .as_str()
                .is_some_and(|r| r.contains(steel::QUOTE_ONLY) && r.contains("no USD price"))
        })
        .context("no dead letter for the quote-only product's price")?;
    n.say(format!(
        "dead letter {}: {}",
        quote["id"].as_str().unwrap_or("?"),
        quote["reason"].as_str().unwrap_or("?")
    ));
    let live = live_skus(api).await?;
    let gold: Vec<(String, Value)> = live
        .iter()
        .filter_map(|s| {
            fake.tier_prices(s)
                .into_iter()
                .find(|t| t["customer_group"] == "Gold")
                .map(|t| (s.clone(), t))
        })
        .collect();
    let base = fake
        .base_price(ORDERED_SKU)
        .context("no base price for the ordered SKU in the store")?;
    let (sku, tier) = gold
        .iter()
        .find(|(s, _)| s == ORDERED_SKU)
        .or(gold.first())
        .context("no Gold customer-group tier price in the store")?;
    n.say(format!(
        "{} SKUs with a `Gold` group tier price; {sku}: base {} and Gold {} from quantity {} ({ORDERED_SKU} base {})",
        gold.len(),
        fake.base_price(sku).map_or(Value::Null, |b| b["price"].clone()),
        tier["price"],
        tier["quantity"],
        base["price"]
    ));
    Ok(gold.len())
}

/// An order placed in the store pulled in and imported, then shipped back with tracking;
/// (our order number, shipments in the store for it).
async fn order_and_shipment(
    n: &mut Narrator,
    api: &Api<'_>,
    fake: &FakeMagento,
) -> anyhow::Result<(String, usize)> {
    n.step("Magento 2: an order pulled in, a shipment with tracking sent back");
    let (entity_id, increment_id) = fake.create_order(
        "buyer@gulf-fab.test",
        &[FakeLine::simple(ORDERED_SKU, 12, 21.5)],
    );
    n.say(format!(
        "a customer orders 12 × {ORDERED_SKU} in the store: order #{increment_id} (entity {entity_id})"
    ));
    let pull = api
        .post(
            "/api/v1/jobs",
            Some("demo-magento-pull-1"),
            json!({"kind": "magento.orders.pull", "partner": PARTNER, "payload": {"partner": PARTNER}}),
        )
        .await?;
    let pull_id = pull["id"].as_str().context("pull job id")?;
    wait_for_job(api, pull_id, WAIT).await?;
    let number = format!("MAGENTO-{increment_id}");
    let order = wait_for_order(api, &number).await?;
    let status = order["status"].as_str().unwrap_or_default().to_owned();
    let lines = order["order"]["lines"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    n.say(format!(
        "magento.orders.pull job {pull_id} succeeded; GET /api/v1/orders: {number} `{status}`, {} line(s), {} × {}",
        lines.len(),
        lines.first().map_or(Value::Null, |l| l["quantity"].clone()),
        lines.first().map_or(Value::Null, |l| l["sku"].clone()),
    ));
    ensure!(
        status == "confirmed" && lines.len() == 1 && lines[0]["sku"] == ORDERED_SKU,
        "order {number} should be confirmed with one {ORDERED_SKU} line: {order}"
    );
    hold_and_release(n, api, fake, entity_id, &order).await?;

    let shipment = json!({
        "shipment_number": "SH-MG-1", "order_number": number,
        "carrier": "UPS", "service": "Ground", "shipped_at": "2026-12-05T12:00:00Z",
        "ship_from_location": "CHI",
        "packages": [{"sscc": null, "tracking_number": TRACKING, "weight": null, "weight_uom": null,
                      "lines": [{"sku": ORDERED_SKU, "quantity": "12", "uom": "EA"}]}],
    });
    let push = api
        .post(
            "/api/v1/jobs",
            Some("demo-magento-ship-1"),
            json!({"kind": "partner.push", "partner": PARTNER,
                   "payload": {"document": "shipment", "body": shipment}}),
        )
        .await?;
    let push_id = push["id"].as_str().context("push job id")?;
    wait_for_job(api, push_id, WAIT).await?;
    let shipped = fake.shipments_of(entity_id);
    let state = fake
        .order(entity_id)
        .map(|o| o["state"].clone())
        .unwrap_or(Value::Null);
    let tracks = shipped
        .first()
        .map(|(body, _)| body["tracks"].clone())
        .unwrap_or(Value::Null);
    n.say(format!(
        "partner.push job {push_id}: POST /V1/order/{entity_id}/ship with tracks {tracks}, source `{}`; the store's order is `{}`",
        shipped
            .first()
            .map_or(Value::Null, |(b, _)| b["arguments"]["extension_attributes"]["source_code"].clone()),
        state.as_str().unwrap_or("?")
    ));
    ensure!(
        shipped.len() == 1
            && tracks
                == json!([{"track_number": TRACKING, "title": "UPS", "carrier_code": "ups"}])
            && state == "complete",
        "expected one shipment with the UPS track and the order complete, got {shipped:?} ({state})"
    );
    Ok((number, shipped.len()))
}

/// Polls our orders through the API until `number` is there (the Shopify step's too).
pub(super) async fn wait_for_order(api: &Api<'_>, number: &str) -> anyhow::Result<Value> {
    let deadline = Instant::now() + WAIT;
    loop {
        let page = api.get("/api/v1/orders?limit=100").await?;
        if let Some(o) = page["items"]
            .as_array()
            .and_then(|items| items.iter().find(|o| o["order_number"] == number))
        {
            return Ok(o.clone());
        }
        ensure!(
            Instant::now() < deadline,
            "order {number} was not imported within {WAIT:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Our order held and released through `POST /api/v1/orders/{id}/hold|release`: the store's
/// order goes `holded` and back (migration 1303's trigger queues `magento.order.status`).
async fn hold_and_release(
    n: &mut Narrator,
    api: &Api<'_>,
    fake: &FakeMagento,
    entity_id: i64,
    order: &Value,
) -> anyhow::Result<()> {
    let id = order["id"].as_str().context("order id")?;
    let held = api
        .post(
            &format!("/api/v1/orders/{id}/hold"),
            None,
            json!({"reason": "payment check"}),
        )
        .await?;
    let state = store_state_becomes(fake, entity_id, "holded").await?;
    n.say(format!(
        "POST /api/v1/orders/{id}/hold: ours `{}` (held from `{}`); the store's order is `{state}`",
        held["status"].as_str().unwrap_or("?"),
        held["held_from"].as_str().unwrap_or("?"),
    ));
    let released = api
        .post(&format!("/api/v1/orders/{id}/release"), None, json!({}))
        .await?;
    let state = store_state_becomes(fake, entity_id, "new").await?;
    n.say(format!(
        "POST /api/v1/orders/{id}/release: ours `{}` again; the store's order is `{state}`",
        released["status"].as_str().unwrap_or("?"),
    ));
    ensure!(
        held["status"] == "on_hold" && released["status"] == "confirmed",
        "expected on_hold then confirmed, got {held} then {released}"
    );
    Ok(())
}

/// Polls the fake store until order `entity_id`'s state is `want` (the push is a job).
async fn store_state_becomes(
    fake: &FakeMagento,
    entity_id: i64,
    want: &str,
) -> anyhow::Result<String> {
    let deadline = Instant::now() + WAIT;
    loop {
        let state = fake
            .order(entity_id)
            .and_then(|o| o["state"].as_str().map(str::to_owned))
            .unwrap_or_default();
        if state == want {
            return Ok(state);
        }
        ensure!(
            Instant::now() < deadline,
            "the store's order {entity_id} is `{state}`, not `{want}`, after {WAIT:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
