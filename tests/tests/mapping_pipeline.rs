//! The mapping pipeline inside the daemon: a catalog is mapped record by record, a record that
//! does not map becomes a dead letter with its location and the mapping's version, the rest of
//! the batch goes through, the dead letter is fixed and replayed, and a mapping file changed on
//! disk is swapped in without a restart (a broken change keeps the previous version running).

use serde_json::{json, Value};
use std::path::Path;
use std::time::Duration;
use switchyard_adapter_http::fake::{FakePartner, FakePartnerConfig};
use switchyard_e2e::{count, eventually, TestDaemon};
use switchyard_runtime::mappings::Reloads;
use switchyard_store::queue::{DeadLetterState, NewJob, RetryPolicy, RetrySpec};
use tokio::sync::watch;

const MAPPING: &str = "http/catalog.out";

/// A CSV in the daemon's inbox; returns its name there (what a payload's `source` names).
fn write_csv(inbox: &Path, name: &str, rows: &[&str]) -> String {
    let mut text = String::from("sku,name,uom,price,currency,qty_on_hand\n");
    for r in rows {
        text.push_str(r);
        text.push('\n');
    }
    std::fs::write(inbox.join(name), text).unwrap();
    name.to_owned()
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
    let shop = FakePartner::start(
        FakePartnerConfig::new()
            .bearer_token("pipe-token")
            .required_fields(["sku", "title"]),
    )
    .await?;
    let mappings = tempfile::tempdir()?;
    std::fs::create_dir_all(mappings.path().join("http"))?;
    let repo_mapping =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../mappings/http/catalog.out.toml");
    let original = std::fs::read_to_string(&repo_mapping)?;
    let mapping_file = mappings.path().join("http/catalog.out.toml");
    std::fs::write(&mapping_file, &original)?;

    let daemon = TestDaemon::builder()
        .http_partner("shop", &shop, "pipe")
        .mappings(mappings.path())
        .start()
        .await?;
    let db = &daemon.db;
    let inbox = daemon.inbox();
    let mut reloads = daemon.running.mappings.watch_reloads();
    let queue = daemon.queue.clone();
    let org = switchyard_store::orgs::ensure(&db.pool, "pipe").await?.id;

    // 1. One bad record among three: the good ones are pushed, the bad one is a dead letter.
    let csv = write_csv(
        &inbox,
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

    // 2. The mapping file changes on disk: the daemon swaps it in without a restart. Wait for
    //    the reloader to report the new version (not for a timer).
    let changed = format!("{original}\nchannel = {{ const = \"switchyard\" }}\n");
    let before = *reloads.borrow_and_update();
    replace_file(&mapping_file, &changed)?;
    let after = reload_seen(&mut reloads, |r| r.updated > before.updated).await?;
    assert_eq!(after.failed, before.failed, "the changed file compiles");

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
    let csv2 = write_csv(&inbox, "batch2.csv", &["p-4,Tube,FT,4.00,USD,1"]);
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

    // 5. A broken change keeps the previous version running: the reloader saw it (and
    //    reported it failed) before the third batch is mapped.
    let before = *reloads.borrow_and_update();
    replace_file(&mapping_file, "version = 1\nsource = { format = \"csv\"\n")?;
    let after = reload_seen(&mut reloads, |r| r.failed > before.failed).await?;
    assert_eq!(
        after.updated, before.updated,
        "the broken file was not swapped in"
    );
    let csv3 = write_csv(&inbox, "batch3.csv", &["p-5,Sheet,EA,40.00,USD,2"]);
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

    drop(reloads);
    daemon.stop().await?;
    shop.shutdown().await;
    Ok(())
}

/// Write `text` to `path` at once (a temporary file renamed over it), so a reload pass never
/// reads half a file.
fn replace_file(path: &Path, text: &str) -> std::io::Result<()> {
    let tmp = path.with_extension("toml.tmp");
    std::fs::write(&tmp, text)?;
    std::fs::rename(tmp, path)
}

/// Wait until a reload pass reports what `seen` looks for.
async fn reload_seen(
    reloads: &mut watch::Receiver<Reloads>,
    seen: impl Fn(&Reloads) -> bool,
) -> anyhow::Result<Reloads> {
    let r = tokio::time::timeout(Duration::from_secs(30), reloads.wait_for(|r| seen(r)))
        .await
        .map_err(|_| anyhow::anyhow!("no reload pass reported the change within 30 s"))??;
    Ok(*r)
}
