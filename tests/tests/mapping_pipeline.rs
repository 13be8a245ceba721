//! The mapping pipeline inside the daemon: a catalog is mapped record by record, a record that
//! does not map becomes a dead letter with its location and the mapping's version, the rest of
//! the batch goes through, the dead letter is fixed and replayed, and a mapping file changed on
//! disk is swapped in without a restart (a broken change keeps the previous version running).

use serde_json::{json, Value};
use std::path::Path;
use std::time::Duration;
use switchyard_adapter_http::fake::{FakePartner, FakePartnerConfig};
use switchyard_adapter_http::testkit::MapSecrets;
use switchyard_adapter_http::HttpAdapterFactory;
use switchyard_core::adapter::AdapterFactory;
use switchyard_core::ids::PartnerName;
use switchyard_daemon::adapters::AdapterRegistry;
use switchyard_daemon::app::{self, Overrides, Roles};
use switchyard_daemon::config::Config;
use switchyard_e2e::{count, eventually, TestDb};
use switchyard_store::queue::{DeadLetterState, NewJob, RetryPolicy, RetrySpec};

const MAPPING: &str = "http/catalog.out";

fn write_csv(dir: &Path, name: &str, rows: &[&str]) -> String {
    let path = dir.join(name);
    let mut text = String::from("sku,name,uom,price,currency,qty_on_hand\n");
    for r in rows {
        text.push_str(r);
        text.push('\n');
    }
    std::fs::write(&path, text).unwrap();
    path.to_string_lossy().into_owned()
}

fn sync_job(org: switchyard_core::ids::OrgId, source: &str, key: &str) -> NewJob {
    NewJob::new(
        org,
        "catalog.sync",
        json!({"source": source, "mapping": MAPPING, "document": "catalog", "key_field": "sku"}),
    )
    .partner("shop")
    .key(key)
    .retry(RetrySpec::of(RetryPolicy::Immediate))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_records_are_dead_lettered_fixed_replayed_and_mappings_hot_reload(
) -> anyhow::Result<()> {
    let db = TestDb::create().await?;
    let shop = FakePartner::start(
        FakePartnerConfig::new()
            .bearer_token("pipe-token")
            .required_fields(["sku", "title"]),
    )
    .await?;
    let dir = tempfile::tempdir()?;
    let mappings = dir.path().join("mappings");
    std::fs::create_dir_all(mappings.join("http"))?;
    let repo_mapping =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../mappings/http/catalog.out.toml");
    let original = std::fs::read_to_string(&repo_mapping)?;
    let mapping_file = mappings.join("http/catalog.out.toml");
    std::fs::write(&mapping_file, &original)?;

    let secrets = MapSecrets::new().with("secret:shop", "pipe-token");
    let adapter = HttpAdapterFactory::new()?
        .build(
            &PartnerName("shop".into()),
            &shop.http_adapter_config("secret:shop"),
            &secrets,
        )
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let mut adapters = AdapterRegistry::default();
    adapters.insert("shop", adapter);
    let mut config = Config::default();
    config.database.url = db.url.clone();
    config.paths.mappings = mappings.clone();
    config.paths.schedules = dir.path().join("schedules");
    config.queue.poll_interval_ms = 50;
    let running = app::start(
        config,
        dir.path().join("switchyard.toml"),
        Roles {
            api: false,
            worker: true,
            scheduler: false,
        },
        Overrides {
            adapters: Some(adapters),
            ..Overrides::default()
        },
    )
    .await?;
    let queue = running.queue.clone();
    let org = switchyard_store::orgs::ensure(&db.pool, "pipe").await?.id;

    // 1. One bad record among three: the good ones are pushed, the bad one is a dead letter.
    let csv = write_csv(
        dir.path(),
        "batch1.csv",
        &[
            "p-1,Plate,EA,10.00,USD,5",
            "p-2,Bar,FT,not-a-price,USD,7",
            "p-3,Angle,FT,3.10,USD,9",
        ],
    );
    queue.enqueue(sync_job(org, &csv, "sync-1")).await?;
    eventually(
        Duration::from_secs(30),
        "two pushes and one dead letter",
        || {
            let pool = db.pool.clone();
            let applied = shop.applied().len();
            async move {
                Ok(applied == 2 && count(&pool, "SELECT count(*) FROM dead_letters").await? == 1)
            }
        },
    )
    .await?;
    let dls = queue
        .list_dead_letters(org, Some(DeadLetterState::Open), None, 10)
        .await?;
    assert_eq!(dls.len(), 1);
    let dl = &dls[0];
    assert_eq!(dl.kind, "record.push");
    assert_eq!(dl.error_class, "mapping");
    assert!(
        dl.reason.contains("batch1.csv"),
        "the reason names the file: {}",
        dl.reason
    );
    assert!(
        dl.reason.contains("line 3") || dl.reason.contains(":3"),
        "the reason names the CSV line: {}",
        dl.reason
    );
    assert!(
        dl.reason.contains("price"),
        "the reason names the field: {}",
        dl.reason
    );
    assert_eq!(
        dl.payload["source_record"]["sku"], "p-2",
        "the failing record is kept"
    );
    assert!(
        dl.payload["mapping_hash"]
            .as_str()
            .is_some_and(|h| h.len() >= 12),
        "the mapping version is kept"
    );

    // 2. The mapping file changes on disk: the daemon swaps it in without a restart.
    let changed = format!("{original}\nchannel = {{ const = \"switchyard\" }}\n");
    std::fs::write(&mapping_file, &changed)?;
    tokio::time::sleep(Duration::from_millis(2500)).await;

    // 3. Fix the record and replay it pinned to the mapping version it failed with: it maps
    //    with that version (no `channel`), not the current one.
    let mut fixed = dl.payload.clone();
    fixed["source_record"]["price"] = Value::from("12.50");
    fixed["use_recorded_version"] = Value::Bool(true);
    let replay = queue
        .replay(org, dl.id, Some(fixed), Some("fixed the price".into()))
        .await?;
    eventually(
        Duration::from_secs(30),
        "the replayed record to be pushed",
        || {
            let applied = shop.applied().len();
            async move { Ok(applied == 3) }
        },
    )
    .await?;
    let job = queue.get_job(org, replay.id).await?.expect("replay job");
    assert_eq!(job.state, switchyard_store::queue::JobState::Succeeded);
    let p2 = shop
        .applied()
        .into_iter()
        .map(|a| a.body)
        .find(|b| b["sku"] == "P-2")
        .expect("P-2 pushed after the fix");
    assert_eq!(p2["price"]["amount"].to_string(), "12.50");
    assert!(
        p2.get("channel").is_none(),
        "the recorded version was used: {p2}"
    );

    // 4. New batches use the reloaded mapping.
    let csv2 = write_csv(dir.path(), "batch2.csv", &["p-4,Tube,FT,4.00,USD,1"]);
    queue.enqueue(sync_job(org, &csv2, "sync-2")).await?;
    eventually(Duration::from_secs(30), "the second batch", || {
        let applied = shop.applied().len();
        async move { Ok(applied == 4) }
    })
    .await?;
    let p4 = shop
        .applied()
        .into_iter()
        .map(|a| a.body)
        .find(|b| b["sku"] == "P-4")
        .expect("P-4 pushed");
    assert_eq!(
        p4["channel"], "switchyard",
        "the changed mapping was swapped in without a restart"
    );

    // 5. A broken change keeps the previous version running.
    std::fs::write(&mapping_file, "version = 1\nsource = { format = \"csv\"\n")?;
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let csv3 = write_csv(dir.path(), "batch3.csv", &["p-5,Sheet,EA,40.00,USD,2"]);
    queue.enqueue(sync_job(org, &csv3, "sync-3")).await?;
    eventually(Duration::from_secs(30), "the third batch", || {
        let applied = shop.applied().len();
        async move { Ok(applied == 5) }
    })
    .await?;
    let p5 = shop
        .applied()
        .into_iter()
        .map(|a| a.body)
        .find(|b| b["sku"] == "P-5")
        .expect("P-5 pushed");
    assert_eq!(
        p5["channel"], "switchyard",
        "the last good version kept running"
    );

    running.stop().await?;
    shop.shutdown().await;
    db.drop_db().await;
    Ok(())
}
