//! `switchyard demo`: the real pipeline end to end, against a fresh demo database and two
//! loopback fake partners, narrated step by step. It exits non-zero unless every check holds.
//!
//! 1. a fresh `switchyard_demo` database, migrated;
//! 2. fake partners on loopback: `shop` (fails twice with 503, then accepts) and `erp`
//!    (rejects everything with 422 until it is "fixed");
//! 3. their bearer tokens stored AES-256-GCM encrypted and resolved by the adapters;
//! 4. the daemon (worker + REST API on a free port) started in-process;
//! 5. through the REST API: a `catalog.sync` job that maps `catalog.csv` from its inbox
//!    (`fixtures/catalog/`, the demo's `[paths] inbox`) through `mappings/http/catalog.out.toml`
//!    and pushes every product to `shop`, and an invoice push to `erp`;
//! 6. the shop's transient failures are retried; the ERP's 422 lands in the dead-letter queue;
//! 7. the ERP is fixed and the dead letter replayed through the REST API;
//! 8. the catalog, availability, pricing and sync pipeline (demo/storefront.rs, data in
//!    demo/steel.rs): a steel catalog with one bad item, stock at two locations and a price book
//!    through the REST API; a GOLD customer's cart priced; the catalog, inventory and prices
//!    syncs to a third fake, `storefront`, run through the API: everything once, nothing when
//!    nothing changed, exactly the three renamed products and the reserved SKU's stock, a
//!    removed product's tombstones, a refused write dead-lettered and replayed (7 steps);
//! 9. an X12 trading partner's two purchase orders through its VAN mailbox (demo/edi.rs): one
//!    confirmed and answered with an 855 AC, one held for review and answered 855 RJ;
//! 10. an admin fixes the held order and reprocesses it through the REST API (855 AC);
//! 11. Comarch ERP Optima (demo/optima.rs): invoices through the offline XML exchange, one
//!     refused for its NIP; the chart of accounts; the month's JPK_V7M, validated;
//! 12. the supplier part (demo/supplier.rs): a customer with an email address and their order,
//!     forwarded through the REST API to a fifth fake, `phonex` (the PhoneX middleware, the
//!     organization's `[suppliers.demo]`), placed there exactly once; PhoneX's signed status
//!     webhooks arrive out of order (shipped before accepted, shipped twice) and the order ends
//!     shipped with its tracking number; the customer's mails (order placed, pending at the
//!     supplier, shipped with the tracking link) are read back from an SMTP sink on loopback,
//!     the demo's `[email]` (3 steps);
//! 13. Magento 2 (demo/magento.rs): the steel catalog and its stock to a fake Magento store
//!     through the async bulk API, base prices and the GOLD tier as the `Gold` customer
//!     group's tier price, an order placed in the store pulled in and a shipment with tracking
//!     sent back (3 steps);
//! 14. Shopify (demo/shopify.rs): the steel catalog to a fake Shopify store through a bulk
//!     operation, then its stock and prices; one price and one stock change as single writes,
//!     then nothing changed and nothing written; a storefront order delivered by a signed
//!     `orders/create` webhook and imported, then a shipment recorded through the REST API that
//!     becomes the store's fulfillment with its tracking (4 steps);
//! 15. a summary, checked against what the fakes, the mailbox and the SMTP sink hold.

mod edi;
mod magento;
mod optima;
mod shopify;
mod steel;
mod storefront;
mod supplier;

use crate::app::{self, Overrides, Roles};
use anyhow::{bail, ensure, Context};
use serde_json::{json, Value};
use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};
use switchyard_adapter_http::fake::{FakePartner, FakePartnerConfig};
use switchyard_runtime::config::{Config, PartnerConfig};
use switchyard_runtime::secrets::{put as put_secret, Resolver, SecretBox, SecretsByOrg};
use switchyard_store::keys::{Scope, Tier};
use switchyard_store::queue::{JobState, Queue};

const CATALOG: &str = "fixtures/catalog/catalog.csv";
/// The demo's inbox (`[paths] inbox`): `catalog.sync` reads only from there, and its payload
/// names the file relative to it.
const CATALOG_INBOX: &str = "fixtures/catalog";
const CATALOG_SOURCE: &str = "catalog.csv";
const CATALOG_MAPPING: &str = "mappings/http/catalog.out.toml";
const CATALOG_MAPPING_NAME: &str = "http/catalog.out";
const DEMO_DB: &str = "switchyard_demo";

struct Narrator {
    started: Instant,
    step: usize,
    total: usize,
}

impl Narrator {
    fn step(&mut self, what: &str) {
        self.step += 1;
        println!(
            "\n[{}/{}] {what}  (+{:.1}s)",
            self.step,
            self.total,
            self.started.elapsed().as_secs_f64()
        );
    }
    fn say(&self, what: impl AsRef<str>) {
        println!("      {}", what.as_ref());
    }
}

pub async fn run(config_path: &Path) -> anyhow::Result<ExitCode> {
    let started = Instant::now();
    let mut n = Narrator {
        started,
        step: 0,
        total: 30,
    };
    println!("Switchyard demo: the real queue, adapters, mapping and REST API against local fakes");
    for needed in [CATALOG, CATALOG_MAPPING]
        .into_iter()
        .chain(edi::needed_files())
        .chain(optima::needed_files())
        .chain(supplier::needed_files())
    {
        ensure!(
            Path::new(needed).exists(),
            "{needed} not found: run the demo from the repository root"
        );
    }

    n.step("A fresh demo database");
    let mut config = if config_path.exists() {
        Config::load(config_path)?
    } else {
        Config::default()
    };
    let url = switchyard_runtime::pg::recreate_database(&config.database.url, DEMO_DB).await?;
    n.say(format!(
        "created database `{DEMO_DB}`; migrations are applied when the daemon starts"
    ));
    config.database.url = url;
    config.api.bind = "127.0.0.1:0".into();
    config.partners.clear();
    config.paths.inbox = CATALOG_INBOX.into();
    config
        .partners
        .insert(edi::PARTNER.into(), edi::partner_config("demo")?);
    edi::reset_mailbox()?;
    config
        .partners
        .insert(optima::PARTNER.into(), optima::partner_config("demo")?);
    let _optima_importer = optima::start_importer()?;
    // A short fallback poll keeps the narrated progress snappy; NOTIFY does the real waking.
    config.queue.poll_interval_ms = 100;

    n.step("Six fake partners on loopback, and an SMTP sink");
    let shop = FakePartner::start(
        FakePartnerConfig::new()
            .bearer_token("demo-shop-token")
            .required_fields(["sku", "title", "price"]),
    )
    .await?;
    shop.fail_next(2, 503);
    n.say(format!(
        "shop  {}  bearer auth, requires sku/title/price; will answer 503 twice",
        shop.base_url()
    ));
    let erp = FakePartner::start(
        FakePartnerConfig::new()
            .bearer_token("demo-erp-token")
            .required_fields(["invoice_number"]),
    )
    .await?;
    erp.always_fail(422);
    n.say(format!(
        "erp   {}  bearer auth; will answer 422 (validation) until fixed",
        erp.base_url()
    ));
    let storefront = storefront::start_partner().await?;
    n.say(format!(
        "{} {}  bearer auth; [sync.{0}.catalog|inventory|prices] push products, stock and prices to it",
        storefront::PARTNER,
        storefront.base_url()
    ));
    let mg = magento::start().await?;
    let shop_fake = shopify::start().await?;
    let sup = supplier::start().await?;
    sup.configure(&mut config, "demo")?;
    n.say(format!(
        "{}    {}  the PhoneX middleware: bearer API key, signed status webhooks; [suppliers.demo] forwards to it",
        supplier::PARTNER,
        sup.fake.base_url()
    ));
    n.say(format!(
        "smtp      {}:{}  keeps every mail it accepts; the demo's [email] sends there",
        sup.sink.host(),
        sup.sink.port()
    ));
    // The demo's partners are its own, and so are their syncs (a config's others would name
    // partners it cleared).
    config.sync.clear();
    config
        .sync
        .insert(storefront::PARTNER.into(), storefront::syncs());
    magento::configure(&mg, &mut config, "demo")?;
    n.say(format!(
        "{}   {}  a Magento 2 store: OAuth 1.0a signed; [sync.{0}.catalog|inventory|prices] through the async bulk API",
        magento::PARTNER,
        mg.base_url()
    ));
    shopify::configure(&shop_fake, &mut config, "demo")?;
    n.say(format!(
        "{}   {}  a Shopify store: Admin GraphQL, signed webhooks; [sync.{0}.catalog|inventory|prices], the catalog and prices through bulk operations",
        shopify::PARTNER,
        shop_fake.base_url()
    ));

    n.step("Partner credentials, encrypted at rest");
    let pool = switchyard_store::connect(&config.database.url, 4).await?;
    switchyard_runtime::assembly::migrator(&app::all_integrations(&[])?)
        .await?
        .run(&pool)
        .await?;
    let org = switchyard_store::orgs::ensure(&pool, "demo").await?;
    let sbox_key = SecretBox::generate_key_base64();
    let sbox = SecretBox::from_base64(&sbox_key)?;
    put_secret(&pool, &sbox, org.id, "shop-token", "demo-shop-token").await?;
    put_secret(&pool, &sbox, org.id, "erp-token", "demo-erp-token").await?;
    put_secret(
        &pool,
        &sbox,
        org.id,
        storefront::TOKEN_SECRET,
        storefront::TOKEN,
    )
    .await?;
    for (name, value) in sup
        .secrets()
        .into_iter()
        .chain(magento::secrets(&mg))
        .chain(shopify::secrets(&shop_fake))
    {
        put_secret(&pool, &sbox, org.id, name, &value).await?;
    }
    let resolver = Resolver::load(&pool, org.id, Some(sbox)).await?;
    for (name, fake, secret) in [
        ("shop", &shop, "shop-token"),
        ("erp", &erp, "erp-token"),
        (storefront::PARTNER, &storefront, storefront::TOKEN_SECRET),
    ] {
        let settings: toml::Table = toml::from_str(&format!(
            "base_url = {:?}\ntimeout_ms = 5000\nauth = {{ type = \"bearer\", token_ref = \"secret:{secret}\" }}\n",
            fake.base_url()
        ))?;
        config.partners.insert(
            name.into(),
            PartnerConfig::new("http", settings).org("demo"),
        );
    }
    let secrets = SecretsByOrg {
        by_org: [("demo".to_owned(), resolver)].into_iter().collect(),
        fallback: Resolver::empty(),
    };
    n.say(format!("stored `shop-token`, `erp-token`, `storefront-token`, `{}`, `{}`, Magento's four OAuth 1.0a credentials and Shopify's access token and webhook secret with AES-256-GCM; the partners' `secret:` references resolve to them", supplier::API_KEY_SECRET, supplier::WEBHOOK_SECRET));

    n.step("The daemon: worker + REST API");
    let running = app::start(
        config.clone(),
        config_path.to_owned(),
        Roles {
            api: true,
            worker: true,
            scheduler: false,
        },
        Overrides {
            secrets: Some(Arc::new(secrets)),
            ..Overrides::default()
        },
    )
    .await?;
    let base = format!("http://{}", running.api_addr.context("API address")?);
    sup.webhooks_to(&base);
    shopify::webhooks_to(&shop_fake, &base);
    let (_, admin_key) = switchyard_store::keys::create_key(
        &pool,
        "demo",
        "demo-admin",
        &[
            "admin:keys",
            "write:jobs",
            "write:dead-letters",
            "read:logs",
            "write:edi",
            "write:orders",
            "write:optima",
        ]
        .into_iter()
        .chain(storefront::SCOPES)
        .chain(supplier::SCOPES)
        .map(Scope::parse)
        .collect::<Result<Vec<_>, _>>()?,
        Tier::Premium,
    )
    .await?;
    n.say(format!(
        "API on {base}; minted an admin key (shown once: {}…)",
        &admin_key[..10.min(admin_key.len())]
    ));
    let http = reqwest::Client::new();
    let api = Api {
        http: &http,
        base: &base,
        key: &admin_key,
    };

    n.step("Enqueue through the REST API");
    let sync = api
        .post(
            "/api/v1/jobs",
            Some("demo-catalog-sync-1"),
            json!({
                "kind": "catalog.sync",
                "partner": "shop",
                "payload": {"source": CATALOG_SOURCE, "mapping": CATALOG_MAPPING_NAME, "document": "catalog", "key_field": "sku",
                            "push_retry": {"policy": "immediate", "max_attempts": 3}},
            }),
        )
        .await?;
    n.say(format!(
        "catalog.sync job {} (maps {CATALOG_SOURCE} from the inbox {CATALOG_INBOX}/ with {CATALOG_MAPPING})",
        sync["id"].as_str().unwrap_or("?")
    ));
    let invoice = api
        .post(
            "/api/v1/jobs",
            Some("demo-invoice-FV-2026-0042"),
            json!({
                "kind": "partner.push",
                "partner": "erp",
                "payload": {"document": "invoice", "body": {"invoice_number": "FV/2026/0042", "net": "1200.00", "gross": "1476.00", "currency": "PLN"}},
            }),
        )
        .await?;
    n.say(format!(
        "invoice push job {} to erp",
        invoice["id"].as_str().unwrap_or("?")
    ));
    let again = api.post_status("/api/v1/jobs", Some("demo-invoice-FV-2026-0042"), json!({"kind": "partner.push", "partner": "erp", "payload": {"document": "invoice", "body": {"invoice_number": "FV/2026/0042"}}})).await?;
    n.say(format!("re-sent with the same Idempotency-Key: HTTP {again} (existing job returned, nothing enqueued)"));
    ensure!(
        again == 200,
        "a repeated Idempotency-Key must return the existing job with 200, got {again}"
    );

    n.step("Running: transient failures retry, the permanent one is dead-lettered");
    let records = count_csv_records(CATALOG)?;
    wait_until(&running.queue, &n, Duration::from_secs(60), |c| {
        c.get(JobState::Succeeded) > records as i64 && c.get(JobState::Dead) >= 1 && idle(c)
    })
    .await?;
    let dead = api.get("/api/v1/dead-letters?state=open").await?;
    let items = dead["items"].as_array().cloned().unwrap_or_default();
    ensure!(
        items.len() == 1,
        "expected exactly one dead letter, found {}",
        items.len()
    );
    let dl = &items[0];
    n.say(format!(
        "dead letter {}: {} ({} attempt)",
        dl["id"].as_str().unwrap_or("?"),
        dl["reason"].as_str().unwrap_or("?"),
        dl["attempts"]
    ));

    n.step("Fix the ERP and replay the dead letter through the REST API");
    erp.fix();
    let dl_id = dl["id"].as_str().context("dead letter id")?;
    let replay = replay(&api, dl_id, "ERP fixed its VAT table").await?;
    n.say(format!(
        "replay job {} (replay_of {}) succeeded",
        replay["id"].as_str().unwrap_or("?"),
        replay["replay_of"].as_str().unwrap_or("?")
    ));

    // Before the EDI part: its reference products would otherwise join the storefront's catalog.
    let sf = storefront::run(&mut n, &api, &storefront).await?;
    // Right after the storefront's, on the same catalog.
    let mgo = magento::run(&mut n, &api, &mg).await?;
    // And the third storefront, on the same catalog (before EDI's reference products join it).
    let sho = shopify::run(&mut n, &api, &shop_fake).await?;
    let edi = edi::run(&mut n, &api).await?;
    let opt = optima::run(&mut n, &api).await?;
    let px = supplier::run(&mut n, &api, &pool, org.id, &sup).await?;

    n.step("Summary");
    let counts = running.queue.counts().await?;
    let (retries,): (i64,) = sqlx::query_as("SELECT coalesce(sum(jsonb_array_length(errors)), 0)::bigint FROM jobs WHERE state = 'succeeded'")
        .fetch_one(&pool)
        .await?;
    let (replays,): (i64,) =
        sqlx::query_as("SELECT count(*) FROM jobs WHERE replay_of IS NOT NULL")
            .fetch_one(&pool)
            .await?;
    let (dead_letters,): (i64,) = sqlx::query_as("SELECT count(*) FROM dead_letters")
        .fetch_one(&pool)
        .await?;
    // The log writer is asynchronous; give it a moment to flush the last exchanges.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let (log_rows,): (i64,) = sqlx::query_as("SELECT count(*) FROM integration_logs")
        .fetch_one(&pool)
        .await?;
    let (adapter_logs,): (i64,) =
        sqlx::query_as("SELECT count(*) FROM integration_logs WHERE integration_type = 'adapter'")
            .fetch_one(&pool)
            .await?;
    let mut leaked = 0;
    let px_key = sup.fake.config().api_key.clone();
    let mg_secret = mg.config().access_token_secret.clone();
    let shop_token = shop_fake.token().to_owned();
    for token in [
        shop_token.as_str(),
        "demo-shop-token",
        storefront::TOKEN,
        px_key.as_str(),
        mg_secret.as_str(),
    ] {
        let (n,): (i64,) = sqlx::query_as(
            "SELECT count(*) FROM integration_logs WHERE search @@ plainto_tsquery('simple', $1)",
        )
        .bind(token)
        .fetch_one(&pool)
        .await?;
        leaked += n;
    }
    // Read at the end, so a mail sent after the step's checks is counted too.
    let mails = sup.sink.messages().len();
    let shop_stats = shop.stats();
    let erp_stats = erp.stats();
    running.stop().await?;

    println!(
        "      jobs        {} succeeded, {} dead, {} pending/running/retrying",
        counts.get(JobState::Succeeded),
        counts.get(JobState::Dead),
        counts.get(JobState::Pending)
            + counts.get(JobState::Running)
            + counts.get(JobState::Retrying)
    );
    println!("      retries     {retries} failed attempts retried before success");
    println!("      dead letters {dead_letters} (replayed: {replays})");
    println!("      log rows    {log_rows} ({adapter_logs} partner exchanges, the rest API calls)");
    println!(
        "      shop        {} products applied once each, {} deliveries, {} duplicates",
        shop.applied().len(),
        shop_stats.deliveries,
        shop_stats.duplicates
    );
    println!("      erp         {} invoice applied", erp.applied().len());
    println!(
        "      storefront  {} writes applied for {} live products ({} dead letter, replayed)",
        sf.writes, sf.live_products, sf.dead_letters
    );
    println!(
        "      edi         {} inbound interchanges processed, {} acknowledgements, {} orders confirmed, {} 855s ({} accepted)",
        edi.inbound_processed, edi.acks_written, edi.orders_confirmed, edi.responses, edi.accepted_responses
    );
    println!(
        "      phonex      {} order placed, {} status webhooks sent out of order, the order {} with tracking {}",
        px.orders_placed,
        px.webhooks_sent,
        px.status,
        px.tracking.as_deref().unwrap_or("none")
    );
    println!(
        "      magento     {} products through {} async bulks, {} SKUs with a Gold tier price, order {} pulled in and shipped back ({} shipment)",
        mgo.products, mgo.bulks, mgo.gold_tiers, mgo.order, mgo.shipments
    );
    println!(
        "      shopify     {} products through {} bulk operation(s), {} single writes for a price and a stock change, {} when nothing changed, order {} by webhook and fulfilled ({} fulfillment)",
        sho.products, sho.bulk_operations, sho.single_writes, sho.unchanged_writes, sho.order, sho.fulfillments
    );
    println!("      email       {mails} mails in the SMTP sink");
    println!("      wall time   {:.1}s", started.elapsed().as_secs_f64());

    let mut failures = Vec::new();
    if shop.applied().len() != records {
        failures.push(format!(
            "shop applied {} products, expected {records}",
            shop.applied().len()
        ));
    }
    if retries < 2 {
        failures.push(format!(
            "expected the two 503s to be retried, saw {retries} retried attempts"
        ));
    }
    if erp.applied().len() != 1 {
        failures.push(format!(
            "erp applied {} invoices, expected 1",
            erp.applied().len()
        ));
    }
    // The ERP's invoice and the storefront's refused product.
    let (expected_dead, expected_replays) = (
        1 + sf.dead_letters + opt.dead_letters + mgo.dead_letters + sho.dead_letters,
        1 + sf.replays,
    );
    if replays != expected_replays || dead_letters != expected_dead {
        failures.push(format!(
            "expected {expected_dead} dead letters and {expected_replays} replays, got {dead_letters} and {replays}"
        ));
    }
    if adapter_logs < records as i64 + 3 {
        failures.push(format!(
            "expected at least {} partner exchanges logged, got {adapter_logs}",
            records + 3
        ));
    }
    if edi.inbound_processed != 2 || edi.acks_written != 2 {
        failures.push(format!(
            "expected 2 processed inbound interchanges and 2 ack files, got {} and {}",
            edi.inbound_processed, edi.acks_written
        ));
    }
    if edi.orders_confirmed != 2 || edi.responses != 3 || edi.accepted_responses != 2 {
        failures.push(format!(
            "expected 2 confirmed orders and 3 855s (2 accepting), got {}, {} and {}",
            edi.orders_confirmed, edi.responses, edi.accepted_responses
        ));
    }
    if px.orders_placed != 1 || px.status != "shipped" || px.tracking.is_none() {
        failures.push(format!(
            "expected 1 PhoneX order ending shipped with its tracking, got {} ending {} with {:?}",
            px.orders_placed, px.status, px.tracking
        ));
    }
    if mails != supplier::MAILS {
        failures.push(format!(
            "expected the customer's {} mails in the SMTP sink, found {mails}",
            supplier::MAILS
        ));
    }
    if mgo.products == 0 || mgo.bulks < 2 || mgo.gold_tiers == 0 || mgo.shipments != 1 {
        failures.push(format!(
            "expected the Magento store to hold the catalog through bulks, Gold tier prices and one shipment; got {} products, {} bulks, {} Gold tiers, {} shipments",
            mgo.products, mgo.bulks, mgo.gold_tiers, mgo.shipments
        ));
    }
    if sho.products == 0
        || sho.bulk_operations == 0
        || sho.single_writes != 2
        || sho.unchanged_writes != 0
        || sho.fulfillments != 1
    {
        failures.push(format!(
            "expected the Shopify store to hold the catalog through bulk, two single writes, none unchanged and one fulfillment; got {} products, {} bulk operations, {} single writes, {} unchanged writes, {} fulfillments",
            sho.products, sho.bulk_operations, sho.single_writes, sho.unchanged_writes, sho.fulfillments
        ));
    }
    if leaked != 0 {
        failures.push("a partner token appeared in the integration logs".into());
    }
    let _ = erp_stats;
    shop.shutdown().await;
    erp.shutdown().await;
    storefront.shutdown().await;
    sup.shutdown().await;
    mg.shutdown().await;
    if failures.is_empty() {
        println!("\ndemo ok: every check passed");
        Ok(ExitCode::SUCCESS)
    } else {
        for f in &failures {
            println!("FAILED: {f}");
        }
        Ok(ExitCode::FAILURE)
    }
}

/// Replays a dead letter through the API and waits for the replay job to succeed; the job.
async fn replay(api: &Api<'_>, dead_letter: &str, note: &str) -> anyhow::Result<Value> {
    let job = api
        .post(
            &format!("/api/v1/dead-letters/{dead_letter}/replay"),
            None,
            json!({ "note": note }),
        )
        .await?;
    let id = job["id"].as_str().context("replay job id")?;
    wait_for_job(api, id, Duration::from_secs(30)).await?;
    Ok(job)
}

/// Waits until the job succeeded; fails if it died or is still going after `within`.
async fn wait_for_job(api: &Api<'_>, id: &str, within: Duration) -> anyhow::Result<()> {
    let deadline = Instant::now() + within;
    loop {
        let job = api.get(&format!("/api/v1/jobs/{id}")).await?;
        match job["state"].as_str() {
            Some("succeeded") => return Ok(()),
            Some("dead") => bail!("job {id} died: {}", job["last_error"]),
            _ if Instant::now() > deadline => bail!("job {id} did not finish in {within:?}"),
            _ => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    }
}

fn idle(c: &switchyard_store::queue::QueueCounts) -> bool {
    c.get(JobState::Pending) + c.get(JobState::Running) + c.get(JobState::Retrying) == 0
}

fn count_csv_records(path: &str) -> anyhow::Result<usize> {
    let mut reader = csv::Reader::from_path(path)?;
    Ok(reader.records().filter(|r| r.is_ok()).count())
}

/// Print a progress line whenever the counts change, until `done` or the timeout.
async fn wait_until(
    queue: &Queue,
    n: &Narrator,
    timeout: Duration,
    done: impl Fn(&switchyard_store::queue::QueueCounts) -> bool,
) -> anyhow::Result<()> {
    let deadline = Instant::now() + timeout;
    let mut last = String::new();
    loop {
        let c = queue.counts().await?;
        let line = format!(
            "pending {:>3}  running {:>3}  retrying {:>3}  succeeded {:>3}  dead {:>2}",
            c.get(JobState::Pending),
            c.get(JobState::Running),
            c.get(JobState::Retrying),
            c.get(JobState::Succeeded),
            c.get(JobState::Dead)
        );
        if line != last {
            n.say(format!(
                "{line}   (+{:.1}s)",
                n.started.elapsed().as_secs_f64()
            ));
            last = line;
        }
        if done(&c) {
            return Ok(());
        }
        if Instant::now() > deadline {
            bail!("the flow did not settle within {timeout:?}: {last}");
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

struct Api<'a> {
    http: &'a reqwest::Client,
    base: &'a str,
    key: &'a str,
}

impl Api<'_> {
    /// POST a JSON body; returns the status and the JSON answer (Null when there is none).
    async fn send_post(
        &self,
        path: &str,
        idempotency_key: Option<&str>,
        body: Value,
    ) -> anyhow::Result<(reqwest::StatusCode, Value)> {
        let mut req = self
            .http
            .post(format!("{}{path}", self.base))
            .bearer_auth(self.key)
            .json(&body);
        if let Some(k) = idempotency_key {
            req = req.header("Idempotency-Key", k);
        }
        let resp = req.send().await?;
        let status = resp.status();
        Ok((status, resp.json().await.unwrap_or(Value::Null)))
    }

    async fn post(
        &self,
        path: &str,
        idempotency_key: Option<&str>,
        body: Value,
    ) -> anyhow::Result<Value> {
        let (status, body) = self.send_post(path, idempotency_key, body).await?;
        ensure!(status.is_success(), "POST {path} answered {status}: {body}");
        Ok(body)
    }

    async fn post_status(
        &self,
        path: &str,
        idempotency_key: Option<&str>,
        body: Value,
    ) -> anyhow::Result<u16> {
        Ok(self
            .send_post(path, idempotency_key, body)
            .await?
            .0
            .as_u16())
    }

    /// One call with an optional JSON body; its JSON answer (Null when there is none), or an
    /// error naming the call unless the answer is a success.
    async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> anyhow::Result<Value> {
        let mut req = self
            .http
            .request(method.clone(), format!("{}{path}", self.base))
            .bearer_auth(self.key);
        if let Some(body) = &body {
            req = req.json(body);
        }
        let resp = req.send().await?;
        let status = resp.status();
        let body: Value = resp.json().await.unwrap_or(Value::Null);
        ensure!(
            status.is_success(),
            "{method} {path} answered {status}: {body}"
        );
        Ok(body)
    }

    /// PUT / PATCH a JSON body; fails unless the answer is a success.
    async fn send_json(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Value,
    ) -> anyhow::Result<Value> {
        self.call(method, path, Some(body)).await
    }

    /// DELETE; fails unless the answer is a success.
    async fn delete(&self, path: &str) -> anyhow::Result<()> {
        self.call(reqwest::Method::DELETE, path, None)
            .await
            .map(drop)
    }

    /// PUT `{"items": items}` to a bulk route; its answer (per-item errors included).
    async fn put_items(&self, path: &str, items: impl serde::Serialize) -> anyhow::Result<Value> {
        self.send_json(reqwest::Method::PUT, path, json!({ "items": items }))
            .await
    }

    async fn get(&self, path: &str) -> anyhow::Result<Value> {
        self.call(reqwest::Method::GET, path, None).await
    }
}
