//! The scheduled pull from the distributor's core system against real Postgres and the generic
//! HTTP fake over loopback (its record source, `GET /v1/records`): a first pull of 2,500
//! products across pages lands in the products table, a second with nothing changed moves the
//! change feed not at all, one record changed at the partner updates exactly that product, bad
//! records become dead letters naming their field while the rest is stored, stock and list
//! prices land in their tables, a pull cut short by the partner resumes at its cursor, two runs
//! at once leave one to do the work, and the API shows and starts pulls.

use serde_json::{json, Value};
use std::time::Duration;
use switchyard_adapter_http::fake::{FakePartner, FakePartnerConfig, PageRequest};
use switchyard_core::ids::{JobId, OrgId};
use switchyard_daemon::app::Roles;
use switchyard_e2e::{count, eventually, TestDaemon};
use switchyard_store::queue::{NewJob, Queue, RetryPolicy, RetrySpec};

const TOKEN: &str = "core-token";

const PULL_TOML: &str = "[pull.core.products]\nmapping = \"http/core-product.in\"\nparams = { collection = \"items\", limit = 500 }\n\n[pull.core.inventory]\nmapping = \"http/core-inventory.in\"\nparams = { collection = \"stock\" }\n\n[pull.core.prices]\nmapping = \"http/core-price.in\"\nparams = { collection = \"prices\" }\n";

/// The core system: bearer auth, each request answered after `latency_ms`.
async fn core_system(latency_ms: u64) -> anyhow::Result<FakePartner> {
    Ok(FakePartner::start(
        FakePartnerConfig::new()
            .bearer_token(TOKEN)
            .latency(Duration::from_millis(latency_ms)),
    )
    .await?)
}

/// The daemon in-process (the worker, and the API with `api`) pulling from `core` with
/// `pulls`; its database and the organization `acme`.
async fn in_process(
    core: &FakePartner,
    pulls: &str,
    api: bool,
) -> anyhow::Result<(TestDaemon, sqlx::PgPool, OrgId)> {
    let daemon = TestDaemon::builder()
        .repo_mappings()
        .http_partner("core", core, "acme")
        // Still the [partners.core] table: where the core system lists its records.
        .toml("pull_path = \"/v1/records\"")
        .toml(pulls)
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

fn sku(i: usize) -> String {
    format!("P-{i:05}")
}

/// An item as the core system lists it.
fn item(i: usize) -> Value {
    json!({
        "itemNo": sku(i).to_lowercase(),
        "description": format!("Plate A36 {i}"),
        "baseUnit": "lb",
        "itemCategory": "Steel > Plate",
        "grade": "A36",
        "standard": "ASTM A36",
        "leadTimeDays": 3,
        "webShop": true,
        "thicknessIn": "0.25",
    })
}

/// Enqueue `catalog.pull` and wait for it to end; its final state.
async fn pull(
    queue: &Queue,
    org: OrgId,
    key: &str,
    entity: &str,
    full: bool,
) -> anyhow::Result<String> {
    let job = NewJob::new(
        org,
        "catalog.pull",
        json!({"partner": "core", "entity": entity, "full": full}),
    )
    .partner("core")
    .key(key)
    .retry(RetrySpec::of(RetryPolicy::Immediate));
    let id = queue.enqueue(job).await?.job.id;
    switchyard_e2e::jobs::ended(queue.pool(), id).await
}

/// The pull's cursor and last run's seen, created, updated, unchanged, failed.
async fn figures(
    pool: &sqlx::PgPool,
    entity: &str,
) -> anyhow::Result<(Option<String>, i64, i64, i64, i64, i64)> {
    Ok(sqlx::query_as(
        "SELECT cursor, seen, created, updated, unchanged, failed FROM pull_states
         WHERE partner = 'core' AND entity = $1",
    )
    .bind(entity)
    .fetch_one(pool)
    .await?)
}

async fn head(pool: &sqlx::PgPool) -> anyhow::Result<i64> {
    count(pool, "SELECT COALESCE(max(seq), 0) FROM catalog_feed_heads").await
}

/// The dead letters of pulled records: (stage, field, the record's itemNo, error).
async fn dead_records(
    pool: &sqlx::PgPool,
) -> anyhow::Result<Vec<(String, String, String, String)>> {
    Ok(sqlx::query_as(
        "SELECT payload->>'stage', payload->>'field', payload->'record'->>'itemNo', payload->>'error'
         FROM dead_letters WHERE kind = 'catalog.pull.record' ORDER BY payload->>'field'",
    )
    .fetch_all(pool)
    .await?)
}

fn cursors(requests: &[PageRequest], status: u16) -> Vec<Option<String>> {
    requests
        .iter()
        .filter(|r| r.status == status)
        .map(|r| r.cursor.clone())
        .collect()
}

fn k(n: usize) -> Option<String> {
    Some(format!("k{n}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pulls_products_in_pages_and_stores_only_what_changed() -> anyhow::Result<()> {
    const N: usize = 2500;
    let core = core_system(0).await?;
    let mut items: Vec<Value> = (0..N).map(item).collect();
    // Two bad records: one the catalog refuses (a GTIN is 8 to 14 digits), one the mapping
    // refuses (an item needs a description).
    items[1234]["ean"] = json!("12AB");
    items[2001]
        .as_object_mut()
        .expect("object")
        .remove("description");
    core.seed_records("items", items);
    let (daemon, pool, org) = in_process(&core, PULL_TOML, false).await?;
    let queue = daemon.queue.clone();

    assert_eq!(
        pull(&queue, org, "first", "products", false).await?,
        "succeeded"
    );
    assert_eq!(count(&pool, "SELECT count(*) FROM products").await?, 2498);
    assert_eq!(
        figures(&pool, "products").await?,
        (None, 2500, 2498, 0, 0, 2)
    );
    // Five pages of 500, each asked at the cursor the one before answered.
    assert_eq!(
        cursors(&core.page_requests(), 200),
        vec![None, k(500), k(1000), k(1500), k(2000)]
    );
    // What the mapping made is what the REST upsert stores: unit, category, material, the
    // thickness as a dimension, published.
    let (name, uom, category, grade, thickness, web): (String, String, String, String, f64, bool) =
        sqlx::query_as(
            "SELECT name, uom, category, material_grade,
                    (dimensions->'thickness'->>'value')::float8, web_visible
             FROM products WHERE sku = 'P-00007'",
        )
        .fetch_one(&pool)
        .await?;
    assert_eq!(
        (
            name.as_str(),
            uom.as_str(),
            category.as_str(),
            grade.as_str(),
            thickness,
            web
        ),
        ("Plate A36 7", "LB", "Steel > Plate", "A36", 0.25, true)
    );
    let dead = dead_records(&pool).await?;
    assert_eq!(dead.len(), 2, "{dead:?}");
    assert_eq!(
        (dead[0].0.as_str(), dead[0].1.as_str(), dead[0].2.as_str()),
        ("validation", "gtin", "p-01234")
    );
    assert!(dead[0].3.contains("12AB"), "{}", dead[0].3);
    assert_eq!(
        (dead[1].0.as_str(), dead[1].1.as_str(), dead[1].2.as_str()),
        ("mapping", "name", "p-02001")
    );
    let (dead_id, mut payload, mapping, reason): (uuid::Uuid, Value, String, String) =
        sqlx::query_as(
            "SELECT id, payload, payload->>'mapping', reason FROM dead_letters
         WHERE kind = 'catalog.pull.record' AND payload->>'field' = 'gtin'",
        )
        .fetch_one(&pool)
        .await?;
    assert_eq!(mapping, "http/core-product.in");
    assert!(reason.contains("`gtin`"), "{reason}");

    // Fixed and replayed, the record lands like any other (an edited replay of its payload).
    payload["record"]["ean"] = json!("00012345012346");
    let replay = queue
        .replay(
            org,
            switchyard_core::ids::DeadLetterId(dead_id),
            Some(payload),
            Some("EAN corrected".into()),
        )
        .await?;
    assert_eq!(
        switchyard_e2e::jobs::ended(&pool, replay.id).await?,
        "succeeded"
    );
    let (gtin,): (Option<String>,) =
        sqlx::query_as("SELECT gtin FROM products WHERE sku = 'P-01234'")
            .fetch_one(&pool)
            .await?;
    assert_eq!(gtin.as_deref(), Some("00012345012346"));

    // Nothing changed at the partner: nothing written, the change feed does not move, the
    // bad records are not buried twice.
    let before = head(&pool).await?;
    assert_eq!(
        pull(&queue, org, "second", "products", false).await?,
        "succeeded"
    );
    assert_eq!(
        head(&pool).await?,
        before,
        "an unchanged pull moved the feed"
    );
    // (The replayed record is back to its bad GTIN at the partner: refused again.)
    assert_eq!(
        figures(&pool, "products").await?,
        (None, 2500, 0, 0, 2498, 2)
    );
    assert_eq!(dead_records(&pool).await?.len(), 2);

    // One record changed at the partner: exactly that product is updated, and the feed moves
    // by that one change.
    let mut changed = item(42);
    changed["description"] = json!("Plate A36 42, primed");
    core.put_record("items", "itemNo", changed);
    assert_eq!(
        pull(&queue, org, "third", "products", false).await?,
        "succeeded"
    );
    assert_eq!(head(&pool).await?, before + 1);
    assert_eq!(
        figures(&pool, "products").await?,
        (None, 2500, 0, 1, 2497, 2)
    );
    let moved: Vec<(String,)> = sqlx::query_as("SELECT sku FROM catalog_changes WHERE seq > $1")
        .bind(before)
        .fetch_all(&pool)
        .await?;
    assert_eq!(moved, vec![(sku(42),)]);
    let (name,): (String,) = sqlx::query_as("SELECT name FROM products WHERE sku = 'P-00042'")
        .fetch_one(&pool)
        .await?;
    assert_eq!(name, "Plate A36 42, primed");
    daemon.stop().await?;
    core.shutdown().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stock_and_list_prices_land_in_their_tables_and_the_api_shows_each_pull(
) -> anyhow::Result<()> {
    use reqwest::Method;
    let core = core_system(0).await?;
    core.seed_records("items", (0..3).map(item).collect());
    core.seed_records(
        "stock",
        vec![
            json!({"itemNo": "p-00000", "warehouse": "chi", "onHand": "120.5", "allocated": 10, "reorderPoint": "20"}),
            json!({"itemNo": "p-00001", "warehouse": "CHI", "onHand": 7, "onOrder": "40"}),
            json!({"itemNo": "p-00002", "warehouse": "ATL", "onHand": 3}),
        ],
    );
    core.seed_records(
        "prices",
        vec![
            json!({"priceList": "LIST-USD", "itemNo": "p-00000", "unit": "lb", "unitPrice": "1.2500", "startingDate": "2026-01-01"}),
            json!({"priceList": "LIST-USD", "itemNo": "p-00001", "unit": "LB", "unitPrice": 0.98}),
            json!({"priceList": "LIST-EUR", "itemNo": "p-00002", "unit": "LB", "unitPrice": "1.10"}),
        ],
    );
    let (daemon, pool, org) = in_process(&core, PULL_TOML, true).await?;
    let queue = daemon.queue.clone();
    switchyard_store::inventory::upsert_location(
        &pool,
        org,
        &switchyard_store::inventory::Location {
            code: "CHI".into(),
            name: "Chicago".into(),
            city: None,
            region: None,
            ships_to: vec![],
        },
    )
    .await?;
    sqlx::query(
        "INSERT INTO price_lists (org_id, price_list_id, name, currency) VALUES ($1, 'LIST-USD', 'List', 'USD')",
    )
    .bind(org.0)
    .execute(&pool)
    .await?;
    let key = daemon
        .key("acme", &["read:catalog", "write:catalog"])
        .await?;
    let reader = daemon.key("acme", &["read:catalog"]).await?;

    // Through the API: a run of each entity is a `catalog.pull` job.
    for entity in ["products", "inventory", "prices"] {
        let (status, body) = daemon
            .call(
                Method::POST,
                &format!("/api/v1/pulls/core/{entity}/run"),
                Some(&key),
                Some(json!({})),
            )
            .await?;
        assert_eq!(status, 201, "{body}");
        assert_eq!(body["kind"], "catalog.pull", "{body}");
        let id: uuid::Uuid = body["id"].as_str().expect("job id").parse()?;
        assert_eq!(
            switchyard_e2e::jobs::ended(&pool, JobId(id)).await?,
            "succeeded"
        );
    }
    let levels: Vec<(String, String, String, String, String, String)> = sqlx::query_as(
        "SELECT sku, location, on_hand::text, allocated::text, on_order::text,
                -- The threshold that applies (none set: 0), as the stock reads show it.
                inventory_low_threshold(org_id, sku, location, low_stock_threshold)::text
         FROM inventory_levels ORDER BY sku",
    )
    .fetch_all(&pool)
    .await?;
    let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    assert_eq!(
        levels
            .iter()
            .map(|l| s(&[&l.0, &l.1, &l.2, &l.3, &l.4, &l.5]))
            .collect::<Vec<_>>(),
        vec![
            s(&["P-00000", "CHI", "120.5", "10", "0", "20"]),
            s(&["P-00001", "CHI", "7", "0", "40", "0"]),
        ]
    );
    let prices: Vec<(String, String, String, Option<chrono::NaiveDate>)> = sqlx::query_as(
        "SELECT sku, uom, trim_scale(amount)::text, valid_from FROM list_prices ORDER BY sku",
    )
    .fetch_all(&pool)
    .await?;
    assert_eq!(
        prices,
        vec![
            (
                "P-00000".into(),
                "LB".into(),
                "1.25".into(),
                chrono::NaiveDate::from_ymd_opt(2026, 1, 1)
            ),
            ("P-00001".into(), "LB".into(), "0.98".into(), None),
        ]
    );
    let dead = dead_records(&pool).await?;
    let fields: Vec<(&str, &str)> = dead.iter().map(|d| (d.1.as_str(), d.2.as_str())).collect();
    assert_eq!(
        fields,
        vec![("location", "p-00002"), ("priceListId", "p-00002")]
    );

    // The status of each pull.
    let (status, body) = daemon
        .call(Method::GET, "/api/v1/pulls", Some(&reader), None)
        .await?;
    assert_eq!(status, 200, "{body}");
    let runs: Vec<(String, i64, i64, i64)> = body["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|p| {
            let r = &p["last_run"];
            (
                p["entity"].as_str().unwrap_or_default().to_owned(),
                r["seen"].as_i64().unwrap_or(-1),
                r["created"].as_i64().unwrap_or(-1),
                r["failed"].as_i64().unwrap_or(-1),
            )
        })
        .collect();
    assert_eq!(
        runs,
        vec![
            ("inventory".into(), 3, 2, 1),
            ("prices".into(), 3, 2, 1),
            ("products".into(), 3, 3, 0),
        ]
    );
    let (status, body) = daemon
        .call(
            Method::GET,
            "/api/v1/pulls/core/prices",
            Some(&reader),
            None,
        )
        .await?;
    assert_eq!(
        (status, body["last_run"]["state"].as_str()),
        (200, Some("succeeded"))
    );
    // A pull of prices again: equal prices are reported unchanged and move no feed.
    let before = head(&pool).await?;
    assert_eq!(
        pull(&queue, org, "prices-again", "prices", false).await?,
        "succeeded"
    );
    assert_eq!(head(&pool).await?, before);
    assert_eq!(figures(&pool, "prices").await?, (None, 3, 0, 0, 2, 1));
    // Refusals: a reader cannot start a pull; an entity no pull has is 404; another
    // organization's key sees none of these pulls.
    let (status, _) = daemon
        .call(
            Method::POST,
            "/api/v1/pulls/core/products/run",
            Some(&reader),
            None,
        )
        .await?;
    assert_eq!(status, 403);
    let (status, _) = daemon
        .call(
            Method::POST,
            "/api/v1/pulls/core/catalog/run",
            Some(&key),
            None,
        )
        .await?;
    assert_eq!(status, 404);
    let (status, body) = daemon
        .call(
            Method::POST,
            "/api/v1/pulls/nobody/products/run",
            Some(&key),
            None,
        )
        .await?;
    assert_eq!(status, 422, "{body}");
    let other = daemon.key("other", &["read:catalog"]).await?;
    let (status, body) = daemon
        .call(Method::GET, "/api/v1/pulls", Some(&other), None)
        .await?;
    assert_eq!(
        (status, body["items"].as_array().map(Vec::len)),
        (200, Some(0))
    );
    let (status, _) = daemon
        .call(
            Method::GET,
            "/api/v1/pulls/core/products",
            Some(&other),
            None,
        )
        .await?;
    assert_eq!(status, 404);
    daemon.stop().await?;
    core.shutdown().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pull_cut_short_by_the_partner_resumes_at_its_cursor() -> anyhow::Result<()> {
    const N: usize = 1000;
    let core = core_system(0).await?;
    core.seed_records("items", (0..N).map(item).collect());
    let pulls = PULL_TOML.replace("limit = 500", "limit = 100");
    let (daemon, pool, org) = in_process(&core, &pulls, false).await?;
    let queue = daemon.queue.clone();
    // Four pages, then the core system fails every request until it is fixed.
    core.fail_pages_after(4, 503);
    let job = NewJob::new(
        org,
        "catalog.pull",
        json!({"partner": "core", "entity": "products"}),
    )
    .partner("core")
    .key("cut-short")
    .retry(RetrySpec::of(RetryPolicy::Immediate));
    let id = queue.enqueue(job).await?.job.id;
    eventually(Duration::from_secs(30), "the pull to fail", || {
        let pool = pool.clone();
        async move {
            Ok(count(
                &pool,
                "SELECT count(*) FROM pull_states WHERE run_state = 'failed'",
            )
            .await?
                == 1)
        }
    })
    .await?;
    // The four pages are stored and the cursor waits past them.
    assert_eq!(count(&pool, "SELECT count(*) FROM products").await?, 400);
    assert_eq!(
        figures(&pool, "products").await?,
        (k(400), 400, 400, 0, 0, 0)
    );
    core.fix();
    assert_eq!(switchyard_e2e::jobs::ended(&pool, id).await?, "succeeded");
    assert_eq!(
        count(&pool, "SELECT count(*) FROM products").await?,
        N as i64
    );
    // The retry began at the cursor: every page was read once, none from the start again.
    let requests = core.page_requests();
    let mut expected = vec![None];
    expected.extend((1..10).map(|p| k(p * 100)));
    assert_eq!(cursors(&requests, 200), expected);
    assert_eq!(cursors(&requests, 503), vec![k(400)]);
    // The same job's figures add up over the resumed run.
    assert_eq!(
        figures(&pool, "products").await?,
        (None, 1000, 1000, 0, 0, 0)
    );
    daemon.stop().await?;
    core.shutdown().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_runs_at_once_leave_one_to_do_the_work() -> anyhow::Result<()> {
    const N: usize = 600;
    // Slow enough that both runs are claimed while the first is still paging.
    let core = core_system(100).await?;
    core.seed_records("items", (0..N).map(item).collect());
    let pulls = PULL_TOML.replace("limit = 500", "limit = 100");
    let (daemon, pool, org) = in_process(&core, &pulls, false).await?;
    let queue = daemon.queue.clone();
    let runs: Vec<NewJob> = ["a", "b"]
        .iter()
        .map(|k| {
            NewJob::new(
                org,
                "catalog.pull",
                json!({"partner": "core", "entity": "products"}),
            )
            .partner("core")
            .key(*k)
            .retry(RetrySpec::of(RetryPolicy::Immediate))
        })
        .collect();
    queue.enqueue_many(&runs).await?;
    eventually(Duration::from_secs(60), "both runs to succeed", || {
        let pool = pool.clone();
        async move {
            Ok(count(
                &pool,
                "SELECT count(*) FROM jobs WHERE kind = 'catalog.pull' AND state = 'succeeded'",
            )
            .await?
                == 2)
        }
    })
    .await?;
    let waited = count(
        &pool,
        "SELECT count(*) FROM jobs WHERE kind = 'catalog.pull' AND errors::text LIKE '%running in another worker%'",
    )
    .await?;
    assert_eq!(waited, 1, "one of the two runs waited for the other");
    // One pass after the other: had both paged at once, the second pass would have begun
    // before the first ended.
    let mut expected = vec![None];
    expected.extend((1..6).map(|p| k(p * 100)));
    let twice: Vec<Option<String>> = expected.iter().chain(&expected).cloned().collect();
    assert_eq!(cursors(&core.page_requests(), 200), twice);
    assert_eq!(
        count(&pool, "SELECT count(*) FROM products").await?,
        N as i64
    );
    // The second pass found everything stored already.
    assert_eq!(figures(&pool, "products").await?, (None, 600, 0, 0, 600, 0));
    daemon.stop().await?;
    core.shutdown().await;
    Ok(())
}
