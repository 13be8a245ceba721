//! Comarch ERP Optima inside the daemon (issue #15): a canonical invoice goes through
//! `record.push` with the repository's mapping `optima/invoice.out` to an `optima` partner on
//! the xml-exchange surface; the fake Optima importer takes the file from the exchange folder
//! and answers with a result file. An invoice with a bad NIP never reaches the folder: it is a
//! dead letter naming the field, fixed and replayed; one Optima refuses is a dead letter with
//! Optima's reason.

use serde_json::{json, Value};
use std::time::Duration;
use switchyard_e2e::{eventually, repo, TestDaemon};
use switchyard_optima::fake::{FakeExchange, FakeOptima};
use switchyard_store::queue::{DeadLetterState, JobState, NewJob, RetryPolicy, RetrySpec};

fn invoice(number: &str, tax_id: &str) -> Value {
    let mut v: Value = serde_json::from_slice(
        &std::fs::read(repo().join("fixtures/mappings/optima/invoice.out/fv-2026-11.input.json"))
            .unwrap(),
    )
    .unwrap();
    v["invoice_number"] = number.into();
    v["buyer"]["tax_id"] = tax_id.into();
    v
}

fn push(org: switchyard_core::ids::OrgId, inv: Value, key: &str) -> NewJob {
    NewJob::new(
        org,
        "record.push",
        json!({"document": "invoice", "mapping": "optima/invoice.out", "source_record": inv}),
    )
    .partner("ksiegowosc")
    .key(key)
    .retry(RetrySpec::of(RetryPolicy::Immediate))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invoices_reach_optima_through_the_exchange_folder() -> anyhow::Result<()> {
    let folder = tempfile::tempdir()?;
    let optima = FakeOptima::new("STALHURT");
    let _importer = FakeExchange::start(optima.clone(), folder.path());
    let daemon = TestDaemon::builder()
        .toml(&format!(
            "[partners.ksiegowosc]\nkind = \"optima\"\norg = \"acct\"\nsurface = \"xml-exchange\"\ncompany_code = \"STALHURT\"\nresult_timeout_secs = 20\n[partners.ksiegowosc.exchange]\npath = {:?}\n",
            folder.path().to_string_lossy()
        ))
        .repo_mappings()
        .start()
        .await?;
    let queue = daemon.queue.clone();
    let org = daemon.org("acct").await?;

    // 1. A good invoice is imported; the job succeeds only once Optima's result says so.
    let ok = queue
        .enqueue(push(
            org,
            invoice("FV/2026/11/0042", "PL 526-025-02-74"),
            "inv-1",
        ))
        .await?;
    eventually(Duration::from_secs(30), "the invoice imported", || {
        let q = queue.clone();
        async move {
            Ok(q.get_job(org, ok.job.id).await?.map(|j| j.state) == Some(JobState::Succeeded))
        }
    })
    .await?;
    assert_eq!(
        optima.optima_number("FV/2026/11/0042").as_deref(),
        Some("FS/1/2026")
    );

    // 2. The fixture's buyer NIP (781-123-45-67) fails the checksum: a dead letter naming the
    //    field, and nothing written to the folder.
    queue
        .enqueue(push(
            org,
            invoice("FV/2026/11/0043", "PL 781-123-45-67"),
            "inv-2",
        ))
        .await?;
    let dl = eventually_dead_letter(&queue, org, 1).await?;
    assert_eq!(dl.kind, "record.push");
    assert_eq!(dl.error_class, "permanent");
    assert!(dl.reason.contains("Kontrahent.NIP"), "{}", dl.reason);
    assert_eq!(optima.document_count(), 1);

    // 3. Fixed and replayed: imported.
    let mut fixed = dl.payload.clone();
    fixed["source_record"]["buyer"]["tax_id"] = "5260250274".into();
    let replay = queue
        .replay(org, dl.id, Some(fixed), Some("corrected the NIP".into()))
        .await?;
    eventually(Duration::from_secs(30), "the replay imported", || {
        let q = queue.clone();
        async move {
            Ok(q.get_job(org, replay.id).await?.map(|j| j.state) == Some(JobState::Succeeded))
        }
    })
    .await?;
    assert!(optima.optima_number("FV/2026/11/0043").is_some());

    // 4. Optima refuses a duplicate number from another job: a dead letter with its reason.
    queue
        .enqueue(push(org, invoice("FV/2026/11/0042", "5260250274"), "inv-3"))
        .await?;
    let dl = eventually_dead_letter(&queue, org, 1).await?;
    assert!(dl.reason.contains("already exists"), "{}", dl.reason);
    assert_eq!(optima.document_count(), 2);
    daemon.stop().await
}

async fn eventually_dead_letter(
    queue: &switchyard_store::queue::Queue,
    org: switchyard_core::ids::OrgId,
    open: usize,
) -> anyhow::Result<switchyard_store::queue::DeadLetterRow> {
    eventually(Duration::from_secs(30), "a dead letter", || {
        let q = queue.clone();
        async move {
            Ok(
                q.list_dead_letters(org, Some(DeadLetterState::Open), None, 10)
                    .await?
                    .len()
                    == open,
            )
        }
    })
    .await?;
    Ok(queue
        .list_dead_letters(org, Some(DeadLetterState::Open), None, 10)
        .await?
        .remove(0))
}
