//! The demo's Shopify part (issue #12): the steel catalog synced to a third storefront, a
//! Shopify store played by the shopify crate's loopback fake (`kind = "shopify"`, Admin
//! GraphQL), through the same sync engine and REST API:
//!
//! 1. the catalog through a **bulk operation** (the partner's `bulk_threshold` is set low so the
//!    demo's small catalog takes the path a big one would), then stock and prices: every live
//!    product in the store, written by the bulk operation and by nothing else; the prices go as
//!    a bulk operation of their own (the page is above the threshold too), stock one call per
//!    SKU; the products sold in cut lengths (the store has variants for the lengths only) have each length's stock
//!    (whole pieces of the product's available) and price (the product's × length) written
//!    to the length's variant; the quote-only product's price refused, a dead letter;
//! 2. one price and one stock change, each synced as a single write; then a sync with nothing
//!    changed, which writes nothing;
//! 3. an order placed in the store delivered through a signed `orders/create` webhook to the
//!    daemon's `POST /webhooks/shopify` and imported as `SHOPIFY-{id}`;
//! 4. a shipment with a tracking number recorded through `POST /api/v1/orders/{id}/shipments`,
//!    pushed to the store in the shipment's transaction: the store's fulfillment carries it.
//!
//! Each is checked against the fake's record of writes and our side read through the API.

use super::magento::wait_for_order;
use super::storefront::{live_skus, run_partner_sync};
use super::{steel, Api, Narrator};
use anyhow::{ensure, Context};
use rust_decimal::Decimal;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::str::FromStr;
use std::time::{Duration, Instant};
use switchyard_runtime::config::{Config, PartnerConfig};
use switchyard_runtime::sync::config::{Entity, SyncTarget};
use switchyard_shopify::fake::{BulkStatus, FakeOrderSpec, FakeShopify, FakeShopifyConfig};

pub(super) const PARTNER: &str = "shopify";
const TOKEN_SECRET: &str = "shopify-token";
const HOOKS_SECRET: &str = "shopify-hooks";
/// The app secret the store signs its webhooks with (the fake's; ours is the same, stored).
const HOOKS: &str = "demo-shopify-app-secret";
/// Low enough that the steel catalog goes as one bulk operation.
const BULK_THRESHOLD: u32 = 5;
/// The whole steel catalog in one page: one batch, so one bulk operation (with 50, the second
/// page's few products would be fewer than the threshold and go one call each).
const PAGE_SIZE: i64 = 100;
/// Our location codes → the fake store's location gids.
const CHICAGO: &str = "gid://shopify/Location/7001";
const HOUSTON: &str = "gid://shopify/Location/7002";
/// The product whose list price and Chicago stock change (stocked, simple, in no other step's
/// changes).
const CHANGED_SKU: &str = "SH-HR-14GA";
const PRICE_STEP: &str = "0.25";
const STOCK_STEP: i64 = 25;
const ORDERED_SKU: &str = steel::CONTRACT_SKU;
const ORDERED_QTY: i64 = 12;
const TRACKING: &str = "1Z999AA10123456799";
const WAIT: Duration = Duration::from_secs(30);

/// What the step saw, for the summary.
pub(super) struct ShopifyOutcome {
    pub products: usize,
    pub bulk_operations: usize,
    /// Writes of the price change and the stock change.
    pub single_writes: usize,
    /// Writes of the syncs with nothing changed.
    pub unchanged_writes: usize,
    pub order: String,
    pub fulfillments: usize,
    /// Items the first stock and price syncs refused (dead letters).
    pub dead_letters: i64,
}

pub(super) async fn start() -> anyhow::Result<FakeShopify> {
    Ok(FakeShopify::start(FakeShopifyConfig::default().webhook_secret(HOOKS)).await?)
}

/// The access token and webhook secret the partner's `secret:` references name.
pub(super) fn secrets(fake: &FakeShopify) -> [(&'static str, String); 2] {
    [
        (TOKEN_SECRET, fake.token().to_owned()),
        (HOOKS_SECRET, HOOKS.to_owned()),
    ]
}

/// `[partners.shopify]` and `[sync.shopify.*]` as switchyard.toml would declare them.
pub(super) fn configure(fake: &FakeShopify, config: &mut Config, org: &str) -> anyhow::Result<()> {
    let settings: toml::Table = toml::from_str(&format!(
        "shop_url = {:?}\napi_version = \"2026-04\"\naccess_token = \"secret:{TOKEN_SECRET}\"\n\
         locations = {{ CHI = \"{CHICAGO}\", HOU = \"{HOUSTON}\" }}\n\
         webhooks = {{ secret = \"secret:{HOOKS_SECRET}\" }}\n\
         bulk_threshold = {BULK_THRESHOLD}\nbulk_poll_ms = 50\nnotify_customer = true\ntimeout_ms = 5000\n",
        fake.base_url()
    ))?;
    config.partners.insert(
        PARTNER.into(),
        PartnerConfig::new(PARTNER, settings).org(org),
    );
    let target = |mapping: &str, tombstone: &str| SyncTarget {
        mapping: format!("shopify/{mapping}"),
        tombstone: format!("shopify/{tombstone}"),
        page_size: PAGE_SIZE,
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

/// Once the daemon listens: the store's `bulk_operations/finish` webhooks go to it (they wake
/// the sync waiting on an operation; polling stays the fallback).
pub(super) fn webhooks_to(fake: &FakeShopify, api_base: &str) {
    fake.bulk_finish_webhook(format!("{api_base}/webhooks/{PARTNER}"));
}

pub(super) async fn run(
    n: &mut Narrator,
    api: &Api<'_>,
    fake: &FakeShopify,
) -> anyhow::Result<ShopifyOutcome> {
    let (products, bulk_operations, dead_letters) = catalog_through_bulk(n, api, fake).await?;
    let (single_writes, unchanged_writes) = changes_then_none(n, api, fake).await?;
    let (shop_id, order, order_id) = order_by_webhook(n, api, fake).await?;
    let fulfillments = shipment(n, api, fake, shop_id, &order_id).await?;
    Ok(ShopifyOutcome {
        products,
        bulk_operations,
        single_writes,
        unchanged_writes,
        order,
        fulfillments,
        dead_letters,
    })
}

/// One sync through the API, narrated; fails unless it succeeded with `failures` items failed.
async fn sync(
    n: &Narrator,
    api: &Api<'_>,
    entity: Entity,
    key: &str,
    failures: i64,
) -> anyhow::Result<Value> {
    let sync = run_partner_sync(api, PARTNER, entity, json!({}), key).await?;
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
        "Shopify sync {entity} should succeed with {failures} failed: {sync}"
    );
    Ok(sync)
}

/// The catalog through bulk, then stock one call per SKU and prices through a bulk operation
/// of their own; (products in the store, the catalog's bulk operations, price items refused).
async fn catalog_through_bulk(
    n: &mut Narrator,
    api: &Api<'_>,
    fake: &FakeShopify,
) -> anyhow::Result<(usize, usize, i64)> {
    n.step("Shopify: the catalog to a fake store through a bulk operation, then stock and prices");
    n.say(format!(
        "{PARTNER}   {}  Admin GraphQL 2026-04; bulk_threshold {BULK_THRESHOLD}: a catalog or prices page of more goes as one bulk mutation",
        fake.base_url()
    ));
    sync(n, api, Entity::Catalog, "demo-shopify-catalog", 0).await?;
    let ops = fake.bulk_operations();
    let completed: Vec<_> = ops
        .iter()
        .filter(|o| o.status == BulkStatus::Completed)
        .collect();
    let bulk_lines: usize = completed.iter().map(|o| o.lines).sum();
    let product_sets: usize = fake
        .applied_per("productSet", &["identifier", "customId", "value"])
        .values()
        .sum();
    n.say(format!(
        "the store's record: {} bulk operation(s) ({}), {bulk_lines} lines run, {product_sets} productSet writes in all; {} products in the store",
        ops.len(),
        ops.iter()
            .map(|o| format!("{} {} lines", o.status.as_str(), o.lines))
            .collect::<Vec<_>>()
            .join(", "),
        fake.product_count()
    ));
    // Every productSet the store ran was a bulk operation's line: no per-product calls.
    ensure!(
        !completed.is_empty() && completed.len() == ops.len() && bulk_lines == product_sets,
        "expected the catalog through completed bulk operations only: {ops:?}, {product_sets} productSet writes"
    );
    let live = live_skus(api).await?;
    let missing: Vec<&String> = live
        .iter()
        .filter(|s| {
            fake.product_by_custom_id("switchyard", "sku_root", s)
                .is_none()
        })
        .collect();
    ensure!(
        missing.is_empty() && bulk_lines == live.len(),
        "every live product once through bulk: {bulk_lines} lines for {} live products, missing {missing:?}",
        live.len()
    );
    n.say(format!(
        "checked: the {} live products in the store, each by its `switchyard.sku_root` metafield",
        live.len()
    ));

    // Our stock and prices of a product sold in cut lengths are the product's (its root SKU,
    // per FT), while the store sells the lengths as variants with their own SKUs: each length
    // carries `units` (its length in ft), so its variant gets whole pieces, floor(available /
    // length) at each location, and the product's price × length. The quote-only product has
    // no price to send: that one price is refused, a dead letter.
    sync(n, api, Entity::Inventory, "demo-shopify-inventory", 0).await?;
    sync(n, api, Entity::Prices, "demo-shopify-prices", 1).await?;
    // The prices page is above the threshold too: its base prices went as one bulk operation
    // of `productVariantsBulkUpdate`, a line per product, after the catalog's.
    let price_ops: Vec<_> = fake.bulk_operations().into_iter().skip(ops.len()).collect();
    n.say(format!(
        "the store's record: the prices through {} bulk operation(s) of productVariantsBulkUpdate ({})",
        price_ops.len(),
        price_ops
            .iter()
            .map(|o| format!("{} {} lines", o.status.as_str(), o.lines))
            .collect::<Vec<_>>()
            .join(", ")
    ));
    ensure!(
        !price_ops.is_empty()
            && price_ops.iter().all(|o| o.status == BulkStatus::Completed
                && o.mutation.contains("productVariantsBulkUpdate")),
        "expected the prices through completed productVariantsBulkUpdate bulk operations: {price_ops:?}"
    );
    let mut checked = Vec::new();
    for (root, lengths) in steel::CUT_LENGTHS.iter().filter(|(s, _)| live.contains(*s)) {
        checked.push(cut_lengths_in_store(api, fake, root, lengths).await?);
    }
    ensure!(
        !checked.is_empty(),
        "no product sold in cut lengths is live"
    );
    n.say(format!(
        "checked: each length of the {} products sold in cut lengths has floor(available / length) per location and price × length, e.g. {}",
        checked.len(),
        checked[0]
    ));
    n.say(format!(
        "refused, a dead letter naming its SKU: the quote-only {}'s price",
        steel::QUOTE_ONLY
    ));
    let (price, _) = fake
        .variant_price(CHANGED_SKU)
        .context("no price for the SKU that changes")?;
    let chicago = fake
        .available(CHANGED_SKU, CHICAGO)
        .context("no Chicago stock for the SKU that changes")?;
    n.say(format!(
        "{CHANGED_SKU} in the store: price {price}, available {chicago} at Chicago"
    ));
    Ok((fake.product_count(), ops.len(), 1))
}

/// Check the store's variants of `root` (sold in `lengths` ft) against our stock and price of
/// `root` read through the API; a short account of one length for the narration.
async fn cut_lengths_in_store(
    api: &Api<'_>,
    fake: &FakeShopify,
    root: &str,
    lengths: &[&str],
) -> anyhow::Result<String> {
    let stock = api
        .get(&format!(
            "/api/v1/inventory/products/{root}?by_location=true"
        ))
        .await?;
    let price = api.get(&format!("/api/v1/pricing/products/{root}")).await?;
    let per_ft = Decimal::from_str(
        price["pricing"]["customerPrice"]["amount"]
            .as_str()
            .context("the product's price")?,
    )?;
    let mut first = None;
    for length in lengths {
        let units = Decimal::from_str(length)?;
        let variant = format!("{root}-{length}FT");
        for l in stock["locations"].as_array().into_iter().flatten() {
            let gid = match l["location"].as_str() {
                Some("CHI") => CHICAGO,
                Some("HOU") => HOUSTON,
                _ => continue,
            };
            let available = Decimal::from_str(l["available"].as_str().context("available")?)?;
            let want = (available / units).floor().max(Decimal::ZERO);
            let got = fake.available(&variant, gid);
            ensure!(
                got.map(Decimal::from) == Some(want),
                "{variant} at {gid}: expected floor({available} / {units}) = {want}, the store has {got:?}"
            );
            if first.is_none() {
                first = Some(format!(
                    "{variant}: {want} at {} of {available} ft",
                    l["location"].as_str().unwrap_or("?")
                ));
            }
        }
        let want = (per_ft * units)
            .round_dp_with_strategy(2, rust_decimal::RoundingStrategy::MidpointAwayFromZero);
        let (got, _) = fake
            .variant_price(&variant)
            .context("the length's variant")?;
        ensure!(
            Decimal::from_str(&got).ok() == Some(want),
            "{variant}: expected price {per_ft} × {units} = {want}, the store has {got}"
        );
        if let Some(f) = first.as_mut().filter(|f| f.starts_with(&variant)) {
            f.push_str(&format!(", {got} at {per_ft}/ft"));
        }
    }
    first.context("no stock of a cut-length product at a store location")
}

/// One price and one stock change synced as single writes, then nothing changed and nothing
/// written; (writes of the changes, writes of the unchanged syncs).
async fn changes_then_none(
    n: &mut Narrator,
    api: &Api<'_>,
    fake: &FakeShopify,
) -> anyhow::Result<(usize, usize)> {
    n.step(
        "Shopify: a price and a stock change as single writes; nothing changed, nothing written",
    );
    let (old_price, _) = fake.variant_price(CHANGED_SKU).context("price")?;
    let old_available = fake.available(CHANGED_SKU, CHICAGO).context("stock")?;
    let (_, book) = steel::price_book()
        .into_iter()
        .find(|(path, _)| *path == "/api/v1/pricing/list-prices")
        .context("the price book's list prices")?;
    let mut list_price = book["items"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|p| p["sku"] == CHANGED_SKU)
        .cloned()
        .context("the changed SKU's list price")?;
    let amount = Decimal::from_str(list_price["amount"].as_str().context("amount")?)?
        + Decimal::from_str(PRICE_STEP)?;
    list_price["amount"] = json!(amount.to_string());
    api.send_json(
        reqwest::Method::PUT,
        "/api/v1/pricing/list-prices",
        json!({ "items": [list_price] }),
    )
    .await?;
    let mut level = steel::levels()
        .into_iter()
        .find(|l| l["sku"] == CHANGED_SKU && l["location"] == "CHI")
        .context("the changed SKU's Chicago stock")?;
    let on_hand: i64 = level["on_hand"].as_str().context("on_hand")?.parse()?;
    level["on_hand"] = json!((on_hand + STOCK_STEP).to_string());
    let stored = api.put_items("/api/v1/inventory/levels", [level]).await?;
    ensure!(
        stored["errors"].as_array().is_none_or(Vec::is_empty),
        "stock level refused: {stored}"
    );
    n.say(format!(
        "PUT /api/v1/pricing/list-prices: {CHANGED_SKU} list price {amount}; PUT /api/v1/inventory/levels: its Chicago on hand {} → {}",
        on_hand,
        on_hand + STOCK_STEP
    ));

    fake.clear_writes();
    sync(n, api, Entity::Inventory, "demo-shopify-inventory-2", 0).await?;
    sync(n, api, Entity::Prices, "demo-shopify-prices-2", 0).await?;
    let writes = fake.writes();
    let of = |op: &str| writes.iter().filter(|w| w.operation == op).count();
    let (stock_writes, price_writes) = (
        of("inventorySetQuantities"),
        of("productVariantsBulkUpdate"),
    );
    let (new_price, _) = fake.variant_price(CHANGED_SKU).context("price")?;
    let new_available = fake.available(CHANGED_SKU, CHICAGO).context("stock")?;
    n.say(format!(
        "the store's record: {} write(s): {stock_writes} inventorySetQuantities, {price_writes} productVariantsBulkUpdate; {CHANGED_SKU} price {old_price} → {new_price}, available {old_available} → {new_available} at Chicago",
        writes.len()
    ));
    ensure!(
        writes.len() == 2 && stock_writes == 1 && price_writes == 1,
        "expected one stock and one price write, got {:?}",
        writes.iter().map(|w| &w.operation).collect::<Vec<_>>()
    );
    ensure!(
        new_price != old_price && new_available == old_available + STOCK_STEP,
        "the store should show the new price and {STOCK_STEP} more available: {new_price}, {new_available}"
    );

    fake.clear_writes();
    for (entity, key) in [
        (Entity::Catalog, "demo-shopify-catalog-3"),
        (Entity::Inventory, "demo-shopify-inventory-3"),
        (Entity::Prices, "demo-shopify-prices-3"),
    ] {
        let s = sync(n, api, entity, key, 0).await?;
        ensure!(
            s["last_run"]["pushed"] == 0,
            "nothing changed, yet the {entity} sync pushed: {s}"
        );
    }
    let unchanged = fake.writes().len();
    n.say(format!(
        "nothing changed since: the three syncs again, {unchanged} writes in the store"
    ));
    ensure!(
        unchanged == 0,
        "a sync with nothing changed wrote: {:?}",
        fake.writes()
    );
    Ok((writes.len(), unchanged))
}

/// A storefront order delivered by a signed `orders/create` webhook and imported; (the
/// store's order id, our order number, our order id).
async fn order_by_webhook(
    n: &mut Narrator,
    api: &Api<'_>,
    fake: &FakeShopify,
) -> anyhow::Result<(u64, String, String)> {
    n.step("Shopify: a storefront order through a signed orders/create webhook");
    let shop_id = fake.create_order(FakeOrderSpec::simple(
        "buyer@lakeshore-fab.test",
        &[(ORDERED_SKU, ORDERED_QTY)],
    ));
    let url = format!("{}/webhooks/{PARTNER}", api.base);
    let body = fake
        .order_webhook_body(shop_id)
        .context("the order's webhook body")?;
    let status = fake
        .send_webhook(&url, "orders/create", &body, "demo-shopify-evt-1", None)
        .await?;
    n.say(format!(
        "a customer orders {ORDERED_QTY} × {ORDERED_SKU} in the store: order {} ({shop_id}); orders/create signed with the app secret → POST /webhooks/{PARTNER}: HTTP {status}",
        body["name"].as_str().unwrap_or("?")
    ));
    ensure!(
        status == 202,
        "the signed webhook should be accepted with 202, got {status}"
    );
    let number = format!("SHOPIFY-{shop_id}");
    let order = wait_for_order(api, &number).await?;
    let lines = order["order"]["lines"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let status = order["status"].as_str().unwrap_or_default().to_owned();
    n.say(format!(
        "GET /api/v1/orders: {number} `{status}`, {} line(s), {} × {}",
        lines.len(),
        lines.first().map_or(Value::Null, |l| l["quantity"].clone()),
        lines.first().map_or(Value::Null, |l| l["sku"].clone()),
    ));
    ensure!(
        status == "confirmed" && lines.len() == 1 && lines[0]["sku"] == ORDERED_SKU,
        "order {number} should be confirmed with one {ORDERED_SKU} line: {order}"
    );
    let id = order["id"].as_str().context("the order's id")?.to_owned();
    Ok((shop_id, number, id))
}

/// A shipment recorded through the API; the store's fulfillments of the order once its push
/// ran.
async fn shipment(
    n: &mut Narrator,
    api: &Api<'_>,
    fake: &FakeShopify,
    shop_id: u64,
    order_id: &str,
) -> anyhow::Result<usize> {
    n.step("Shopify: a shipment recorded through the API fulfils the order with its tracking");
    let shipment = api
        .post(
            &format!("/api/v1/orders/{order_id}/shipments"),
            None,
            json!({"shipment_number": "SH-SHOP-1", "carrier": "UPS", "service": "Ground",
                   "tracking_number": TRACKING,
                   "lines": [{"sku": ORDERED_SKU, "quantity": ORDERED_QTY.to_string()}]}),
        )
        .await?;
    n.say(format!(
        "POST /api/v1/orders/{order_id}/shipments: shipment {}, the order `{}`; its partner.push was written in the same transaction",
        shipment["shipment_number"].as_str().unwrap_or("?"),
        shipment["order_status"].as_str().unwrap_or("?")
    ));
    ensure!(
        shipment["order_status"] == "shipped",
        "the whole order shipped should be `shipped`: {shipment}"
    );
    // The push runs on the worker: wait for the store's fulfillment it creates.
    let deadline = Instant::now() + WAIT;
    let fulfillments = loop {
        let f = fake.fulfillments_of(shop_id);
        if !f.is_empty() {
            break f;
        }
        ensure!(
            Instant::now() < deadline,
            "no fulfillment in the store within {WAIT:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let f = &fulfillments[0];
    n.say(format!(
        "the store's order {shop_id}: fulfillment {} by {} tracking {} (customer notified: {})",
        f.id,
        f.company.as_deref().unwrap_or("?"),
        f.number.as_deref().unwrap_or("?"),
        f.notify_customer
    ));
    ensure!(
        fulfillments.len() == 1
            && f.company.as_deref() == Some("UPS")
            && f.number.as_deref() == Some(TRACKING)
            && f.notify_customer,
        "expected one UPS fulfillment with tracking {TRACKING}: {fulfillments:?}"
    );
    Ok(fulfillments.len())
}
