//! The demo's catalog part (issue #11): a steel catalog, its stock and its prices fed through
//! the REST API, a GOLD customer's cart priced, and the sync engine keeping a storefront in
//! step. The storefront is the generic HTTP fake declared as a `kind = "http"` partner with
//! `[sync.storefront.catalog|inventory|prices]` (the storefront mappings of `mappings/`); every
//! sync is run through `POST /api/v1/syncs/...` and awaited on the job and sync status the API
//! shows. Each step checks what the storefront received against what the core holds: everything
//! once, then nothing when nothing changed, then exactly what changed (three products, the SKU a
//! cart reserved), a removed product's tombstones, and a refused write that becomes a dead
//! letter and is pushed by its replay.

use super::steel;
use super::{replay, wait_for_job, Api, Narrator};
use anyhow::{ensure, Context};
use rust_decimal::Decimal;
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::str::FromStr;
use std::time::Duration;
use switchyard_adapter_http::fake::{Delivery, DeliveryOutcome, FakePartner, FakePartnerConfig};
use switchyard_runtime::sync::config::{Entity, SyncTarget};

pub(super) const PARTNER: &str = "storefront";
pub(super) const TOKEN: &str = "demo-storefront-token";
pub(super) const TOKEN_SECRET: &str = "storefront-token";
/// What this stage's calls need beyond the demo key's other scopes.
pub(super) const SCOPES: [&str; 3] = ["write:catalog", "write:inventory", "read:pricing"];

const RESERVED_SKU: &str = "RB-1018-100";
const RESERVED_FT: i64 = 120;
const REMOVED_SKU: &str = "ANG-A36-1X1X125";
const REFUSED_SKU: &str = "SH-HR-16GA";
/// Products the third round changes (their names, which the storefront shows as titles).
const CHANGED: [&str; 3] = ["PL-A36-025", "SS-304-18GA", "TS-A500-2X2X11GA"];
const RUN_WITHIN: Duration = Duration::from_secs(30);

/// What this stage left behind, for the demo's summary.
pub(super) struct StorefrontOutcome {
    pub live_products: usize,
    pub writes: u64,
    pub dead_letters: i64,
    pub replays: i64,
}

/// The storefront: one documents endpoint behind a bearer token, taking the three documents
/// the syncs send (products, stock, prices).
pub(super) async fn start_partner() -> anyhow::Result<FakePartner> {
    Ok(FakePartner::start(FakePartnerConfig::new().bearer_token(TOKEN)).await?)
}

/// `[sync.storefront.ENTITY]` as switchyard.toml would declare it. Pages of 20 so the 50
/// products take three, as a real catalog takes many.
pub(super) fn syncs() -> BTreeMap<Entity, SyncTarget> {
    let target = |mapping: &str, tombstone: &str| SyncTarget {
        mapping: format!("storefront/{mapping}"),
        tombstone: format!("storefront/{tombstone}"),
        page_size: 20,
        document: None,
    };
    [
        (Entity::Catalog, target("product.out", "product.tombstone")),
        (
            Entity::Inventory,
            target("availability.out", "availability.tombstone"),
        ),
        (
            Entity::Prices,
            target("price_sync.out", "price_sync.tombstone"),
        ),
    ]
    .into_iter()
    .collect()
}

/// Which sync sent a document: all three post to the one endpoint, so it is told by its shape
/// (mappings/storefront: a product has a `handle`, stock an `available`, prices `prices`).
fn entity_of(body: &Value) -> Option<Entity> {
    if body.get("handle").is_some() {
        Some(Entity::Catalog)
    } else if body.get("available").is_some() {
        Some(Entity::Inventory)
    } else if body.get("prices").is_some() {
        Some(Entity::Prices)
    } else {
        None
    }
}

/// What the storefront received since `mark` (a count of deliveries), per sync.
struct Received {
    all: Vec<Delivery>,
}

impl Received {
    fn since(fake: &FakePartner, mark: usize) -> Self {
        Self {
            all: fake.deliveries().split_off(mark),
        }
    }

    fn of(&self, entity: Entity) -> Vec<&Value> {
        self.all
            .iter()
            .filter(|d| entity_of(&d.body) == Some(entity))
            .map(|d| &d.body)
            .collect()
    }

    /// The values of `field` in the documents of `entity`.
    fn keys(&self, entity: Entity, field: &str) -> BTreeSet<String> {
        self.of(entity)
            .iter()
            .filter_map(|b| b[field].as_str().map(str::to_owned))
            .collect()
    }

    /// The documents of `entity` are one for each of `want` (by `field`), none else.
    fn holds_exactly(&self, entity: Entity, field: &str, want: &BTreeSet<String>) -> bool {
        self.keys(entity, field) == *want && self.of(entity).len() == want.len()
    }

    fn check_all_applied(&self) -> anyhow::Result<()> {
        if let Some(d) = self
            .all
            .iter()
            .find(|d| d.outcome != DeliveryOutcome::Applied)
        {
            anyhow::bail!(
                "the storefront did not apply a write ({:?}, HTTP {}): {}",
                d.outcome,
                d.status,
                d.body
            );
        }
        ensure!(
            self.all.iter().all(|d| entity_of(&d.body).is_some()),
            "the storefront received a document of no sync"
        );
        Ok(())
    }
}

fn decimal(v: &Value) -> anyhow::Result<Decimal> {
    let text = v
        .as_str()
        .with_context(|| format!("{v} is not a decimal string"))?;
    Decimal::from_str(text).with_context(|| format!("`{text}` is not a decimal"))
}

/// Run one sync of the storefront through the API and wait for its job; the sync's status
/// afterwards.
async fn run_sync(api: &Api<'_>, entity: Entity, body: Value, key: &str) -> anyhow::Result<Value> {
    run_partner_sync(api, PARTNER, entity, body, key).await
}

/// Run one sync of `partner` through the API and wait for its job; the sync's status
/// afterwards (the Magento step runs its syncs this way too).
pub(super) async fn run_partner_sync(
    api: &Api<'_>,
    partner: &str,
    entity: Entity,
    body: Value,
    key: &str,
) -> anyhow::Result<Value> {
    let path = format!("/api/v1/syncs/{partner}/{entity}");
    let job = api.post(&format!("{path}/run"), Some(key), body).await?;
    let id = job["id"].as_str().context("sync run job id")?.to_owned();
    wait_for_job(api, &id, RUN_WITHIN).await?;
    let sync = api.get(&path).await?;
    ensure!(
        sync["last_run"]["job_id"] == id.as_str(),
        "GET {path} shows run {} as the last, not {id}",
        sync["last_run"]["job_id"]
    );
    Ok(sync)
}

/// The three syncs at once (as their schedules would run them): their status in entity order,
/// and what the storefront received meanwhile, every write of which it must have applied.
async fn run_all(
    n: &Narrator,
    api: &Api<'_>,
    fake: &FakePartner,
    round: &str,
    catalog_body: Value,
) -> anyhow::Result<([Value; 3], Received)> {
    let mark = fake.stats().deliveries as usize;
    let [kc, ki, kp] = Entity::ALL.map(|e| format!("demo-sync-{round}-{e}"));
    let started = std::time::Instant::now();
    let (c, i, p) = tokio::try_join!(
        run_sync(api, Entity::Catalog, catalog_body, &kc),
        run_sync(api, Entity::Inventory, json!({}), &ki),
        run_sync(api, Entity::Prices, json!({}), &kp),
    )?;
    n.say(format!(
        "POST /api/v1/syncs/{PARTNER}/{{catalog,inventory,prices}}/run: the three jobs succeeded in {:.2}s; GET /api/v1/syncs/{PARTNER}/…:",
        started.elapsed().as_secs_f64()
    ));
    for s in [&c, &i, &p] {
        let r = &s["last_run"];
        n.say(format!(
            "    {:<9} {}  examined {:>3}  pushed {:>3}  skipped {:>3}  failed {}",
            s["entity"].as_str().unwrap_or("?"),
            if r["full"] == true { "full" } else { "    " },
            r["examined"],
            r["pushed"],
            r["skipped"],
            r["failed"],
        ));
        ensure!(
            r["state"] == "succeeded",
            "sync {} did not succeed: {s}",
            s["entity"]
        );
    }
    let got = Received::since(fake, mark);
    got.check_all_applied()?;
    Ok(([c, i, p], got))
}

fn pushed(sync: &Value) -> i64 {
    sync["last_run"]["pushed"].as_i64().unwrap_or(-1)
}

/// Every live product's SKU, page by page as a client would list them.
pub(super) async fn live_skus(api: &Api<'_>) -> anyhow::Result<BTreeSet<String>> {
    let mut skus = BTreeSet::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/api/v1/catalog/products?limit=20&cursor={c}"),
            None => "/api/v1/catalog/products?limit=20".to_owned(),
        };
        let page = api.get(&path).await?;
        for p in page["items"].as_array().into_iter().flatten() {
            skus.insert(p["sku"].as_str().context("product sku")?.to_owned());
        }
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => return Ok(skus),
        }
    }
}

async fn seed(n: &mut Narrator, api: &Api<'_>, products: &[Value]) -> anyhow::Result<()> {
    n.step("A steel catalog, its stock and its price book through the REST API");
    let batch = api
        .put_items(
            "/api/v1/catalog/products",
            steel::upsert_with_a_bad_item(products),
        )
        .await?;
    n.say(format!(
        "PUT /api/v1/catalog/products ({} items): created {}, rejected {}",
        products.len() + 1,
        batch["created"],
        batch["rejected"]
    ));
    let errors = batch["errors"].as_array().cloned().unwrap_or_default();
    for e in &errors {
        n.say(format!(
            "    {}: {}",
            e["field"].as_str().unwrap_or("?"),
            e["message"].as_str().unwrap_or("?")
        ));
    }
    ensure!(
        batch["created"] == products.len() && batch["rejected"] == 1,
        "expected {} products created and 1 rejected: {batch}",
        products.len()
    );
    let bad = steel::BAD_INDEX;
    ensure!(
        errors.len() == 1
            && errors[0]["index"] == bad
            && errors[0]["field"] == format!("items[{bad}].gtin"),
        "expected the bad item to be reported as items[{bad}].gtin: {errors:?}"
    );
    let variants: usize = products
        .iter()
        .filter_map(|p| p["variants"].as_array().map(Vec::len))
        .sum();
    n.say(format!(
        "    {} categories, {variants} cut-length variants, {} quote only",
        products
            .iter()
            .filter_map(|p| p["category"].as_str())
            .collect::<BTreeSet<_>>()
            .len(),
        steel::QUOTE_ONLY
    ));

    for (code, body) in steel::locations() {
        api.send_json(
            reqwest::Method::PUT,
            &format!("/api/v1/inventory/locations/{code}"),
            body,
        )
        .await?;
    }
    let levels = steel::levels();
    let stored = api.put_items("/api/v1/inventory/levels", &levels).await?;
    ensure!(
        stored["rejected"] == 0 && stored["created"] == levels.len(),
        "stock levels refused: {stored}"
    );
    n.say(format!(
        "PUT /api/v1/inventory/locations/CHI and HOU, PUT /api/v1/inventory/levels: {} stock rows",
        levels.len()
    ));

    api.send_json(
        reqwest::Method::PUT,
        &format!("/api/v1/customers/{}", steel::GOLD_CUSTOMER),
        json!({"name": "Gulf Coast Fabricators", "active": true}),
    )
    .await?;
    let mut book = Vec::new();
    for (path, body) in steel::price_book() {
        let answer = api.send_json(reqwest::Method::PUT, path, body).await?;
        ensure!(
            answer["errors"].as_array().is_some_and(Vec::is_empty),
            "PUT {path} refused items: {answer}"
        );
        book.push(format!(
            "{} {}",
            path.rsplit('/').next().unwrap_or(path),
            answer["stored"]
        ));
    }
    n.say(format!("PUT /api/v1/pricing/…: {}", book.join(", ")));
    n.say(format!(
        "    {} on GOLD (8 %), contract {} for {} at {} USD/FT",
        steel::GOLD_CUSTOMER,
        steel::CONTRACT,
        steel::CONTRACT_SKU,
        steel::CONTRACT_PRICE
    ));
    let stock = api
        .get(&format!(
            "/api/v1/inventory/products/{RESERVED_SKU}?by_location=true"
        ))
        .await?;
    n.say(format!(
        "GET /api/v1/inventory/products/{RESERVED_SKU}: available {} FT ({})",
        stock["available"].as_str().unwrap_or("?"),
        stock["locations"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|l| format!(
                "{} {}",
                l["location"].as_str().unwrap_or("?"),
                l["available"].as_str().unwrap_or("?")
            ))
            .collect::<Vec<_>>()
            .join(", ")
    ));
    Ok(())
}

async fn price_cart(n: &mut Narrator, api: &Api<'_>) -> anyhow::Result<()> {
    n.step("A GOLD customer's cart: contract › customer discount › tier › volume break › list");
    let cart = api
        .post("/api/v1/pricing/cart", None, steel::cart())
        .await?;
    let lines = cart["items"].as_array().cloned().unwrap_or_default();
    ensure!(lines.len() == 5, "expected 5 priced lines: {cart}");
    for l in &lines {
        let p = &l["price"]["pricing"];
        let money = |v: &Value| match v["amount"].as_str() {
            Some(a) => format!(
                "{a}{}",
                v["per"]
                    .as_str()
                    .map(|u| format!("/{u}"))
                    .unwrap_or_default()
            ),
            None => "-".into(),
        };
        n.say(format!(
            "{:<16} {:>4} {:<2}  list {:<12} price {:<12} line {:>9}  {}",
            l["sku"].as_str().unwrap_or("?"),
            l["quantity"].as_str().unwrap_or("?"),
            l["uom"].as_str().unwrap_or("?"),
            money(&p["listPrice"]),
            money(&p["customerPrice"]),
            money(&l["extendedPrice"]),
            if l["price"]["requiresQuote"] == true {
                "requires a quote".to_owned()
            } else {
                format!(
                    "{} {}",
                    p["discountSource"].as_str().unwrap_or("?"),
                    p["sourceId"].as_str().unwrap_or("")
                )
            }
        ));
    }
    let subtotal = cart["subtotals"]
        .as_array()
        .and_then(|s| s.first())
        .context("a subtotal")?;
    n.say(format!(
        "subtotal {} {} (the quote-only line is in none; requiresQuote {})",
        subtotal["amount"].as_str().unwrap_or("?"),
        subtotal["currency"].as_str().unwrap_or("?"),
        cart["requiresQuote"]
    ));

    // The contract wins its line at its own price.
    let contract = &lines[0]["price"]["pricing"];
    ensure!(
        contract["discountSource"] == "CONTRACT"
            && contract["sourceId"] == steel::CONTRACT
            && decimal(&contract["customerPrice"]["amount"])?
                == Decimal::from_str(steel::CONTRACT_PRICE)?,
        "the contract should price {}: {contract}",
        steel::CONTRACT_SKU
    );
    // The tier, 8 % off list, wins the others, over the bar's volume break it reaches.
    for l in &lines[1..4] {
        let p = &l["price"]["pricing"];
        let list = decimal(&p["listPrice"]["amount"])?;
        let price = decimal(&p["customerPrice"]["amount"])?;
        let expected = list * Decimal::from_str("0.92")?;
        ensure!(
            p["discountSource"] == "TIER"
                && p["sourceId"] == "GOLD"
                && (price - expected).abs() <= Decimal::from_str("0.0001")?,
            "the GOLD tier should price {} at 92 % of {list}: {p}",
            l["sku"]
        );
    }
    ensure!(
        lines[2]["price"]["volumeBreaks"]
            .as_array()
            .is_some_and(|b| b.iter().any(|b| b["reached"] == true)),
        "the bar's volume break should be reached (and lose to the tier)"
    );
    // The plate is priced by the pound and asked by the square foot: 0.66 USD/LB × 20.42 LB/SF.
    let plate = &lines[1]["price"]["pricing"]["listPrice"];
    ensure!(
        plate["per"] == "SF" && decimal(&plate["amount"])? == Decimal::from_str("13.4772")?,
        "the plate's list price per SF should be 0.66 × 20.42 = 13.4772: {plate}"
    );
    let mut sum = Decimal::ZERO;
    for l in &lines[..4] {
        sum += decimal(&l["extendedPrice"]["amount"])?;
    }
    ensure!(
        lines[4]["price"]["requiresQuote"] == true
            && lines[4]["unitPrice"].is_null()
            && cart["requiresQuote"] == true
            && decimal(&subtotal["amount"])? == sum,
        "the quote-only line should have no price and the subtotal sum the others: {cart}"
    );
    Ok(())
}

pub(super) async fn run(
    n: &mut Narrator,
    api: &Api<'_>,
    fake: &FakePartner,
) -> anyhow::Result<StorefrontOutcome> {
    let mut products = steel::products();
    seed(n, api, &products).await?;
    price_cart(n, api).await?;
    let first_stock = first_syncs(n, api, fake).await?;
    nothing_changed(n, api, fake).await?;
    let reservation = renamed_and_reserved(n, api, fake, &mut products, first_stock).await?;
    removed_and_released(n, api, fake, &reservation, first_stock).await?;
    let dead_letters = refused_and_replayed(n, api, fake, &mut products).await?;
    Ok(StorefrontOutcome {
        live_products: live_skus(api).await?.len(),
        writes: fake.stats().applied,
        dead_letters,
        // The one replay made by `refused_and_replayed`.
        replays: 1,
    })
}

/// Everything once: each live product (never a variant alone), the stock of each stocked SKU
/// and the price of each product; what it pushed as the reserved SKU's stock.
async fn first_syncs(n: &mut Narrator, api: &Api<'_>, fake: &FakePartner) -> anyhow::Result<i64> {
    n.step("First syncs to the storefront: catalog, inventory and prices");
    let ([catalog, inventory, prices], got) = run_all(n, api, fake, "1", json!({})).await?;
    let live = live_skus(api).await?;
    let handles: BTreeSet<String> = live.iter().map(|s| steel::slug(s)).collect();
    let stocked: BTreeSet<String> = steel::levels()
        .iter()
        .filter_map(|l| l["sku"].as_str().map(str::to_owned))
        .collect();
    n.say(format!(
        "storefront received {} writes: {} products, {} stock levels, {} prices",
        got.all.len(),
        got.of(Entity::Catalog).len(),
        got.of(Entity::Inventory).len(),
        got.of(Entity::Prices).len()
    ));
    ensure!(
        got.holds_exactly(Entity::Catalog, "handle", &handles)
            && pushed(&catalog) == live.len() as i64,
        "the storefront should hold exactly the {} live products, once each; it got {:?}",
        live.len(),
        got.keys(Entity::Catalog, "handle")
    );
    ensure!(
        got.holds_exactly(Entity::Inventory, "sku", &stocked)
            && pushed(&inventory) == stocked.len() as i64,
        "the storefront should hold the stock of the {} stocked SKUs",
        stocked.len()
    );
    ensure!(
        got.holds_exactly(Entity::Prices, "sku", &live) && pushed(&prices) == live.len() as i64,
        "the storefront should hold the prices of the {} live products",
        live.len()
    );
    let quote = got
        .of(Entity::Prices)
        .into_iter()
        .find(|b| b["sku"] == steel::QUOTE_ONLY)
        .context("the quote-only product's prices")?;
    ensure!(
        quote["requires_quote"] == true && quote["prices"] == json!([]),
        "a quote-only product is published without a price: {quote}"
    );
    let first_stock = got
        .of(Entity::Inventory)
        .into_iter()
        .find(|b| b["sku"] == RESERVED_SKU)
        .and_then(|b| b["available"].as_i64())
        .context("the stock pushed for the SKU to reserve")?;
    n.say(format!(
        "checked: every live product once (and no variant SKU alone), {} shown as requires_quote with no price",
        steel::QUOTE_ONLY
    ));

    Ok(first_stock)
}

/// Zero writes: the incremental runs find nothing, the full catalog run skips all by hash.
async fn nothing_changed(
    n: &mut Narrator,
    api: &Api<'_>,
    fake: &FakePartner,
) -> anyhow::Result<()> {
    n.step("Nothing changed: the same syncs again (the catalog in full)");
    let ([catalog, _, _], got) = run_all(n, api, fake, "2", json!({"full": true})).await?;
    n.say(format!(
        "storefront received {} writes; the full catalog run skipped all {} items by hash",
        got.all.len(),
        catalog["last_run"]["skipped"]
    ));
    ensure!(
        got.all.is_empty(),
        "a sync with nothing changed wrote {} documents",
        got.all.len()
    );

    Ok(())
}

/// Exactly what changed: the three renamed products, the stock of the SKU a cart reserved, no
/// price. The reservation's id.
async fn renamed_and_reserved(
    n: &mut Narrator,
    api: &Api<'_>,
    fake: &FakePartner,
    products: &mut [Value],
    first_stock: i64,
) -> anyhow::Result<String> {
    n.step("Three products renamed, and a cart reserves stock");
    let mut changed = Vec::new();
    for p in products.iter_mut() {
        if CHANGED.iter().any(|s| p["sku"] == *s) {
            let name = format!("{} (mill certs included)", p["name"].as_str().unwrap_or(""));
            p["name"] = Value::from(name);
            changed.push(p.clone());
        }
    }
    let batch = api.put_items("/api/v1/catalog/products", &changed).await?;
    ensure!(
        batch["updated"] == 3,
        "expected 3 products updated: {batch}"
    );
    n.say(format!(
        "PUT /api/v1/catalog/products: {} renamed",
        CHANGED.join(", ")
    ));
    let reservation = api
        .post(
            "/api/v1/inventory/reserve",
            None,
            json!({"reference": "cart-demo-1", "ttl_minutes": 15,
                   "lines": [{"sku": RESERVED_SKU, "quantity": RESERVED_FT.to_string(), "location": "CHI"}]}),
        )
        .await?;
    let reservation_id = reservation["id"]
        .as_str()
        .context("reservation id")?
        .to_owned();
    n.say(format!(
        "POST /api/v1/inventory/reserve: {RESERVED_FT} FT of {RESERVED_SKU} at CHI for 15 minutes (reservation {reservation_id})"
    ));
    let (_, got) = run_all(n, api, fake, "3", json!({})).await?;
    let expected: BTreeSet<String> = CHANGED.iter().map(|s| steel::slug(s)).collect();
    let stock = got.of(Entity::Inventory);
    n.say(format!(
        "storefront received {} writes: {:?}, and {RESERVED_SKU} available {} → {}",
        got.all.len(),
        got.keys(Entity::Catalog, "handle"),
        first_stock,
        stock
            .first()
            .map(|b| b["available"].to_string())
            .unwrap_or_default()
    ));
    ensure!(
        got.holds_exactly(Entity::Catalog, "handle", &expected),
        "expected exactly the 3 renamed products to be pushed"
    );
    ensure!(
        stock.len() == 1
            && stock[0]["sku"] == RESERVED_SKU
            && stock[0]["available"] == first_stock - RESERVED_FT,
        "expected only {RESERVED_SKU}'s stock, lowered by {RESERVED_FT}: {stock:?}"
    );
    ensure!(
        got.of(Entity::Prices).is_empty(),
        "a rename should move no price"
    );

    Ok(reservation_id)
}

/// A removed product's three tombstones (archived, none available, no price), and the released
/// reservation's stock back to what it was.
async fn removed_and_released(
    n: &mut Narrator,
    api: &Api<'_>,
    fake: &FakePartner,
    reservation_id: &str,
    first_stock: i64,
) -> anyhow::Result<()> {
    n.step("A product removed, the cart's reservation released");
    api.delete(&format!("/api/v1/catalog/products/{REMOVED_SKU}"))
        .await?;
    api.delete(&format!("/api/v1/inventory/reservations/{reservation_id}"))
        .await?;
    n.say(format!(
        "DELETE /api/v1/catalog/products/{REMOVED_SKU}, DELETE /api/v1/inventory/reservations/{reservation_id}"
    ));
    let (_, got) = run_all(n, api, fake, "4", json!({})).await?;
    n.say(format!("storefront received {} writes:", got.all.len()));
    for b in &got.all {
        n.say(format!("    {}", b.body));
    }
    let product = got.of(Entity::Catalog);
    ensure!(
        product.len() == 1
            && product[0]["handle"] == steel::slug(REMOVED_SKU)
            && product[0]["status"] == "archived"
            && product[0]["published"] == false
            && product[0]["id"].is_string(),
        "expected {REMOVED_SKU} archived under the storefront's id: {product:?}"
    );
    let stock: BTreeMap<String, Value> = got
        .of(Entity::Inventory)
        .into_iter()
        .filter_map(|b| Some((b["sku"].as_str()?.to_owned(), b["available"].clone())))
        .collect();
    ensure!(
        stock
            == BTreeMap::from([
                (REMOVED_SKU.to_owned(), json!(0)),
                (RESERVED_SKU.to_owned(), json!(first_stock)),
            ]),
        "expected {REMOVED_SKU} at 0 and {RESERVED_SKU} back to {first_stock}: {stock:?}"
    );
    ensure!(
        got.of(Entity::Prices) == [&json!({"sku": REMOVED_SKU, "prices": []})],
        "expected {REMOVED_SKU}'s price withdrawn"
    );

    Ok(())
}

/// A write the storefront refuses becomes a dead letter; its replay pushes the product as it is
/// now, and the next run has nothing left to send. The dead letters it saw.
async fn refused_and_replayed(
    n: &mut Narrator,
    api: &Api<'_>,
    fake: &FakePartner,
    products: &mut [Value],
) -> anyhow::Result<i64> {
    n.step("The storefront refuses a write: a dead letter, then a replay");
    let p = products
        .iter_mut()
        .find(|p| p["sku"] == REFUSED_SKU)
        .context("the product to refuse")?;
    p["name"] = Value::from("Hot Rolled Sheet 48 x 96 16 ga (pickled & oiled)");
    let title = p["name"].clone();
    api.put_items("/api/v1/catalog/products", [&*p]).await?;
    // The fake has no per-document refusal: it refuses everything while this run pushes its
    // one changed product, which is what a partner refusing that item looks like to the sync.
    fake.always_fail(422);
    let mark = fake.stats().deliveries as usize;
    let catalog = run_sync(api, Entity::Catalog, json!({}), "demo-sync-5-catalog").await?;
    fake.fix();
    let run = &catalog["last_run"];
    n.say(format!(
        "{REFUSED_SKU} renamed; the storefront answers 422; catalog run: pushed {}, failed {}",
        run["pushed"], run["failed"]
    ));
    ensure!(
        run["failed"] == 1 && run["pushed"] == 0,
        "expected the one item to fail: {catalog}"
    );
    let open = api.get("/api/v1/dead-letters?state=open").await?;
    let dead: Vec<&Value> = open["items"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|d| d["kind"] == "sync.item")
        .collect();
    ensure!(
        dead.len() == 1 && dead[0]["payload"]["sku"] == REFUSED_SKU,
        "expected one sync.item dead letter for {REFUSED_SKU}: {dead:?}"
    );
    let dl_id = dead[0]["id"].as_str().context("dead letter id")?.to_owned();
    n.say(format!(
        "GET /api/v1/dead-letters?state=open: {dl_id} ({}, mapping {}): {}",
        dead[0]["kind"].as_str().unwrap_or("?"),
        dead[0]["payload"]["mapping"].as_str().unwrap_or("?"),
        dead[0]["reason"].as_str().unwrap_or("?")
    ));
    let replayed = replay(api, &dl_id, "storefront fixed its title validation").await?;
    let replay_job = replayed["id"].as_str().unwrap_or("?");
    let got = Received::since(fake, mark);
    let applied: Vec<&Delivery> = got
        .all
        .iter()
        .filter(|d| d.outcome == DeliveryOutcome::Applied)
        .collect();
    let refused = got
        .all
        .iter()
        .filter(|d| d.outcome == DeliveryOutcome::Rejected && d.status == 422)
        .count();
    n.say(format!(
        "storefront fixed; POST /api/v1/dead-letters/{dl_id}/replay: job {replay_job} pushed {} \"{}\"",
        applied
            .first()
            .and_then(|d| d.body["handle"].as_str())
            .unwrap_or("nothing"),
        applied
            .first()
            .and_then(|d| d.body["title"].as_str())
            .unwrap_or("")
    ));
    ensure!(
        refused == 1
            && applied.len() == 1
            && applied[0].body["handle"] == steel::slug(REFUSED_SKU)
            && applied[0].body["title"] == title,
        "expected one refusal, then the replay to push {REFUSED_SKU} as it is now: {:?}",
        got.all
    );
    // The replay's write is confirmed like the sync's own: the next run has nothing to send.
    let mark = fake.stats().deliveries as usize;
    run_sync(
        api,
        Entity::Catalog,
        json!({"full": true}),
        "demo-sync-6-catalog",
    )
    .await?;
    ensure!(
        Received::since(fake, mark).all.is_empty(),
        "the replayed product was pushed again by the next run"
    );
    n.say("a full catalog run after the replay writes nothing: the replay's write was confirmed");

    Ok(dead.len() as i64)
}
