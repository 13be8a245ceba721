//! The EDI VAN mailbox: real directories in a tempdir, a fresh database per test, the
//! `edi.mailbox.poll` handler run by the daemon's worker (and called directly where a test
//! needs to line up a crash precisely).
//!
//! Acknowledgements are read back by splitting them on the delimiters their own ISA / UNA
//! declares, so the assertions check the document a partner's translator would receive.

use chrono::Utc;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::time::Duration;
use switchyard_core::ids::OrgId;
use switchyard_e2e::edi::{edifact_segments, files, x12_segments, ACME_X12};
use switchyard_e2e::{count, eventually, TestDaemon, TestDb};
use switchyard_edi_van::mailbox::{
    self as edi_mailbox, FileDisposition, InterchangeOutcome, PollReport,
};
use switchyard_edi_van::messages::{self as store, EdiDirection, EdiFilter, EdiStatus};
use switchyard_edi_van::partners::EdiPartner;
use switchyard_store::queue::NewJob;

fn fixture(rel: &str) -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../fixtures/edi")
        .join(rel);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn x12_profile() -> Value {
    json!({
        "name": "acme",
        "standard": "x12",
        "version": "004010",
        "us": {"qualifier": "ZZ", "id": "SWITCHYARD"},
        "them": {"qualifier": "12", "id": "5551234567"},
    })
}

fn edifact_profile() -> Value {
    json!({
        "name": "eurobuy",
        "standard": "edifact",
        "version": "D96A",
        "us": {"qualifier": "14", "id": "5498765000019"},
        "them": {"qualifier": "14", "id": "5412345000013"},
        "acks": {"contrl": true},
    })
}

/// The partner as the EDI jobs see it once resolved, with a local mailbox at `root`.
fn payload(root: &Path, profile: Value) -> EdiPartner {
    EdiPartner::local(root, serde_json::from_value(profile).expect("profile"))
}

async fn poll(db: &TestDb, org: OrgId, p: &EdiPartner) -> PollReport {
    edi_mailbox::poll(&db.pool, org, None, p, Utc::now())
        .await
        .expect("poll")
}

fn drop_file(root: &Path, name: &str, body: &[u8]) {
    std::fs::create_dir_all(root.join("inbound")).unwrap();
    std::fs::write(root.join("inbound").join(name), body).unwrap();
}

fn read(path: PathBuf) -> String {
    String::from_utf8(std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display())))
        .unwrap()
}

fn seg<'a>(segs: &'a [Vec<String>], id: &str) -> &'a Vec<String> {
    segs.iter()
        .find(|s| s[0] == id)
        .unwrap_or_else(|| panic!("no {id} segment in {segs:?}"))
}

fn only_ack(root: &Path) -> String {
    let out = files(&root.join("outbound"));
    assert_eq!(out.len(), 1, "one acknowledgement expected, found {out:?}");
    read(root.join("outbound").join(&out[0]))
}

fn handled(o: &InterchangeOutcome) -> (store::EdiMessageId, EdiStatus, Option<String>) {
    match o {
        InterchangeOutcome::Handled {
            message,
            status,
            ack,
        } => (*message, *status, ack.clone()),
        other => panic!("expected a handled interchange, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn good_850_through_the_worker_is_stored_acknowledged_and_archived() -> anyhow::Result<()> {
    let van = tempfile::tempdir()?;
    // The mailbox does not exist yet: the first poll creates its directories.
    let root = van.path().join("van/acme");
    // The partner is declared in the config, as in switchyard.toml; the job names it.
    let daemon = TestDaemon::builder()
        .edi_partner("acme", "edi", ACME_X12, &root)
        .start()
        .await?;
    let (db, running) = (&daemon.db, &daemon.running);
    let org = switchyard_store::orgs::ensure(&db.pool, "edi").await?.id;
    drop_file(&root, "po-4410.edi", &fixture("x12/850_004010_good.edi"));
    running
        .queue
        .enqueue(NewJob::new(
            org,
            edi_mailbox::KIND,
            json!({"partner": "acme"}),
        ))
        .await?;
    // A partner the config does not declare: a permanent error naming it, not retried.
    running
        .queue
        .enqueue(NewJob::new(
            org,
            edi_mailbox::KIND,
            json!({"partner": "globex"}),
        ))
        .await?;
    eventually(Duration::from_secs(30), "the poll jobs to finish", || {
        let pool = db.pool.clone();
        async move {
            Ok(count(
                &pool,
                "SELECT count(*) FROM jobs WHERE kind = 'edi.mailbox.poll' AND state IN ('succeeded', 'dead')",
            )
            .await?
                == 2)
        }
    })
    .await?;
    let (state, attempts, errors): (String, i32, String) = sqlx::query_as(
        "SELECT state, attempts, errors::text FROM jobs WHERE payload->>'partner' = 'globex'",
    )
    .fetch_one(&db.pool)
    .await?;
    assert_eq!((state.as_str(), attempts), ("dead", 1), "{errors}");
    assert!(
        errors.contains(r#""class": "permanent""#)
            && errors.contains("unknown partner `globex` (configured partners: acme)"),
        "{errors}"
    );
    assert_eq!(
        count(
            &db.pool,
            "SELECT count(*) FROM jobs WHERE payload->>'partner' = 'acme' AND state = 'succeeded'"
        )
        .await?,
        1
    );

    for d in ["inbound", "outbound", "archive", "error", "processing"] {
        assert!(root.join(d).is_dir(), "{d}/ was not created");
    }
    assert_eq!(files(&root.join("archive")), vec!["po-4410.edi"]);
    assert!(files(&root.join("inbound")).is_empty());
    assert!(files(&root.join("processing")).is_empty());
    assert!(files(&root.join("error")).is_empty());

    // The inbound interchange, stored raw with its report.
    let (inbox, _) = store::list(
        &db.pool,
        org,
        &EdiFilter {
            direction: Some(EdiDirection::Inbound),
            ..Default::default()
        },
        None,
        10,
    )
    .await?;
    assert_eq!(inbox.len(), 1);
    let po = &inbox[0];
    assert_eq!(po.status, EdiStatus::Processed);
    assert_eq!(po.partner, "acme");
    assert_eq!(po.message_types, vec!["850"]);
    assert_eq!(po.sender_id, "5551234567");
    assert_eq!(po.receiver_id, "SWITCHYARD");
    assert_eq!(po.interchange_control, "000000101");
    assert_eq!(po.group_controls[0]["control"], "101");
    assert_eq!(po.group_controls[0]["sets"][0]["control"], "0001");
    assert_eq!(po.raw, fixture("x12/850_004010_good.edi"));
    assert_eq!(po.file_name.as_deref(), Some("po-4410.edi"));
    assert!(po.errors.is_empty(), "{:?}", po.errors);
    assert_eq!(po.validation.as_ref().unwrap()["issues"], json!([]));

    // The 997: ISA ids swapped from the inbound interchange, fresh control numbers.
    let text = only_ack(&root);
    let segs = x12_segments(&text);
    let isa = seg(&segs, "ISA");
    assert_eq!(isa[5], "ZZ");
    assert_eq!(isa[6].trim_end(), "SWITCHYARD");
    assert_eq!(isa[6].len(), 15, "ISA06 is padded to 15");
    assert_eq!(isa[7], "12");
    assert_eq!(isa[8].trim_end(), "5551234567");
    assert_eq!(isa[13], "000000001");
    assert_eq!(isa[15], "P");
    // The partner asked for a TA1 (ISA14 = 1): accepted.
    let ta1 = seg(&segs, "TA1");
    assert_eq!((ta1[1].as_str(), ta1[4].as_str()), ("000000101", "A"));
    let gs = seg(&segs, "GS");
    assert_eq!(
        (gs[1].as_str(), gs[2].as_str(), gs[3].as_str()),
        ("FA", "SWITCHYARD", "5551234567")
    );
    assert_eq!(gs[6], "1");
    assert_eq!(gs[8], "004010");
    let st = seg(&segs, "ST");
    assert_eq!((st[1].as_str(), st[2].as_str()), ("997", "0001"));
    assert_eq!(seg(&segs, "AK1")[1..3], ["PO", "101"]);
    assert_eq!(seg(&segs, "AK2")[1..3], ["850", "0001"]);
    assert_eq!(seg(&segs, "AK5")[1], "A");
    assert_eq!(seg(&segs, "AK9")[1..5], ["A", "1", "1", "1"]);
    assert!(!segs.iter().any(|s| s[0] == "AK3" || s[0] == "AK4"));

    // The ack is in the outbox, related to the 850, marked sent.
    let ack = store::ack_of(&db.pool, org, po.id)
        .await?
        .expect("stored ack");
    assert_eq!(ack.direction, EdiDirection::Outbound);
    assert_eq!(ack.status, EdiStatus::Sent);
    assert_eq!(ack.message_types, vec!["997"]);
    assert_eq!(ack.interchange_control, "000000001");
    assert_eq!(ack.sender_id, "SWITCHYARD");
    assert_eq!(ack.receiver_id, "5551234567");
    assert_eq!(ack.raw, text.as_bytes());
    assert_eq!(
        files(&root.join("outbound")),
        vec![ack.file_name.clone().unwrap()]
    );

    // One integration log row for the interchange.
    let logs: Vec<(String, String, String)> = sqlx::query_as(
        "SELECT event_type, status, partner FROM integration_logs WHERE integration_type = 'edi'",
    )
    .fetch_all(&db.pool)
    .await?;
    assert_eq!(
        logs,
        vec![(
            "edi.interchange.received".to_string(),
            "success".to_string(),
            "acme".to_string()
        )]
    );
    daemon.stop().await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn broken_850_is_rejected_with_ak3_ak4_and_unparseable_files_go_to_error(
) -> anyhow::Result<()> {
    let db = TestDb::create().await?;
    let dir = tempfile::tempdir()?;
    let root = dir.path().to_path_buf();
    let org = switchyard_store::orgs::ensure(&db.pool, "edi").await?.id;
    let p = payload(&root, x12_profile());
    drop_file(
        &root,
        "bad-date.edi",
        &fixture("x12/850_004010_bad_date.edi"),
    );
    drop_file(&root, "garbage.edi", b"HELLO, THIS IS NOT EDI\n");
    drop_file(&root, "empty.edi", b"");
    // An upload still in progress is left alone.
    drop_file(&root, "upload.edi.part", b"ISA*00*");
    let report = poll(&db, org, &p).await;
    assert_eq!(report.files.len(), 3, "{report:?}");

    // The 850 with BEG05 = 20260231: stored as error, rejected with the element located.
    let bad = report
        .files
        .iter()
        .find(|f| f.name == "bad-date.edi")
        .unwrap();
    let (id, status, _) = handled(&bad.interchanges[0]);
    assert_eq!(status, EdiStatus::Error);
    let msg = store::get(&db.pool, org, id).await?.unwrap();
    assert_eq!(msg.status, EdiStatus::Error);
    assert!(
        msg.errors.iter().any(|e| e.contains("BEG")),
        "{:?}",
        msg.errors
    );
    let issues = msg.validation.as_ref().unwrap()["issues"]
        .as_array()
        .unwrap();
    assert!(
        issues.iter().any(|i| i["code"] == "invalid_date"),
        "{issues:?}"
    );
    let segs = x12_segments(&only_ack(&root));
    let ak3 = seg(&segs, "AK3");
    assert_eq!(ak3[1], "BEG", "{ak3:?}");
    let ak4 = seg(&segs, "AK4");
    assert_eq!(ak4[1], "5", "BEG05 is the bad date: {ak4:?}");
    assert_eq!(ak4[3], "8", "AK403 8 = invalid date: {ak4:?}");
    assert_eq!(seg(&segs, "AK5")[1], "R");
    assert_eq!(seg(&segs, "AK9")[1], "R");
    assert!(matches!(bad.disposition, FileDisposition::Archived(_)));
    assert_eq!(files(&root.join("archive")), vec!["bad-date.edi"]);

    // Nothing parsed: error/ with the reason beside it, nothing stored.
    assert_eq!(
        files(&root.join("error")),
        vec![
            "empty.edi",
            "empty.edi.error.txt",
            "garbage.edi",
            "garbage.edi.error.txt"
        ]
    );
    let why = read(root.join("error/garbage.edi.error.txt"));
    assert!(why.contains("no interchange could be read"), "{why}");
    assert!(why.contains("byte"), "the reason names where: {why}");
    assert!(read(root.join("error/empty.edi.error.txt")).contains("empty"));
    assert_eq!(
        std::fs::read(root.join("error/garbage.edi"))?,
        b"HELLO, THIS IS NOT EDI\n"
    );
    assert_eq!(files(&root.join("inbound")), vec!["upload.edi.part"]);
    assert_eq!(
        count(
            &db.pool,
            "SELECT count(*) FROM edi_messages WHERE direction = 'inbound'"
        )
        .await?,
        1
    );
    assert_eq!(
        count(
            &db.pool,
            "SELECT count(*) FROM integration_logs WHERE event_type = 'edi.file.unreadable' AND status = 'error'"
        )
        .await?,
        2
    );
    assert_eq!(
        count(
            &db.pool,
            "SELECT count(*) FROM integration_logs WHERE event_type = 'edi.interchange.received' AND status = 'error'"
        )
        .await?,
        1
    );
    db.drop_db().await;
    Ok(())
}

/// The duplicate outcome of one interchange: (its row, the original's, the answer's file).
fn duplicate_of(
    o: &InterchangeOutcome,
) -> (store::EdiMessageId, store::EdiMessageId, Option<String>) {
    match o {
        InterchangeOutcome::Duplicate {
            message,
            original,
            ack,
        } => (*message, *original, ack.clone()),
        other => panic!("expected a duplicate, got {other:?}"),
    }
}

/// Issue 10 item 4: an interchange whose sender and control reference are already stored (the
/// partner dropped the file again) is kept, flagged, not processed again, and answered as a
/// duplicate within one input is: a TA1 R/025 alone (X12), a CONTRL with UCI action 4 and
/// syntax error 26 alone (EDIFACT), never an acknowledgement that accepts its groups again;
/// and nothing when the profile sends no such answer.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_dropped_twice_is_answered_once_as_a_duplicate_and_not_processed_again(
) -> anyhow::Result<()> {
    let db = TestDb::create().await?;
    let dir = tempfile::tempdir()?;
    let root = dir.path().to_path_buf();
    let org = switchyard_store::orgs::ensure(&db.pool, "edi").await?.id;
    let p = payload(&root, x12_profile());
    let body = fixture("x12/850_004010_good.edi");
    drop_file(&root, "po.edi", &body);
    let first = poll(&db, org, &p).await;
    let (original, status, first_ack) = handled(&first.files[0].interchanges[0]);
    assert_eq!(status, EdiStatus::Processed);
    let first_ack = first_ack.expect("the first copy is acknowledged");

    drop_file(&root, "po.edi", &body);
    let second = poll(&db, org, &p).await;
    let (dup, of, answer) = duplicate_of(&second.files[0].interchanges[0]);
    assert_eq!(of, original);
    let row = store::get(&db.pool, org, dup).await?.unwrap();
    assert_eq!(row.status, EdiStatus::Error);
    assert_eq!(row.duplicate_of, Some(original));
    assert!(
        row.errors[0].starts_with("duplicate interchange"),
        "{:?}",
        row.errors
    );
    assert_eq!(row.raw, body, "the second copy is kept too");
    // Exactly one answer: an interchange holding a TA1 R/025 for ISA13 000000101 (with the
    // inbound's ISA09/ISA10), no functional group, so no 997 accepting the group again.
    let answer = answer.expect("a TA1 answers the duplicate");
    let mut out = files(&root.join("outbound"));
    out.sort();
    let mut want = vec![first_ack.clone(), answer.clone()];
    want.sort();
    assert_eq!(out, want);
    let ta1 = read(root.join("outbound").join(&answer));
    let segs = x12_segments(&ta1);
    let ids: Vec<&str> = segs.iter().map(|s| s[0].as_str()).collect();
    assert_eq!(ids, ["ISA", "TA1", "IEA"], "{ta1}");
    assert_eq!(
        seg(&segs, "TA1")[1..],
        ["000000101", "260301", "0800", "R", "025"],
        "{ta1}"
    );
    assert_eq!(seg(&segs, "ISA")[6].trim(), "SWITCHYARD", "{ta1}");
    assert_eq!(seg(&segs, "ISA")[8].trim(), "5551234567", "{ta1}");
    let stored = store::ack_of(&db.pool, org, dup)
        .await?
        .expect("the answer is stored");
    assert_eq!(stored.status, EdiStatus::Sent);
    assert_eq!(stored.message_types, ["TA1"]);
    assert_eq!(stored.raw, ta1.as_bytes());
    // Two ISA numbers (the 997's, the TA1's), one GS / ST (the 997's only).
    for (kind, n) in [
        (store::ControlKind::Isa, 2),
        (store::ControlKind::Gs, 1),
        (store::ControlKind::St, 1),
    ] {
        assert_eq!(
            store::last_control_number(&db.pool, org, "acme", kind).await?,
            Some(n),
            "{kind:?}"
        );
    }
    // Not processed again: one order import, for the first copy.
    assert_eq!(
        count(
            &db.pool,
            "SELECT count(*) FROM jobs WHERE kind = 'edi.order.import'"
        )
        .await?,
        1
    );
    // Both files archived under distinct names.
    let archived = files(&root.join("archive"));
    assert_eq!(archived.len(), 2, "{archived:?}");
    assert!(archived.contains(&"po.edi".to_string()));
    assert_eq!(
        count(
            &db.pool,
            "SELECT count(*) FROM integration_logs WHERE event_type = 'edi.interchange.duplicate' AND status = 'error'"
        )
        .await?,
        1
    );

    // A profile that sends no TA1s sends nothing for a duplicate either.
    let quiet_dir = tempfile::tempdir()?;
    let mut quiet = x12_profile();
    quiet["acks"] = json!({"ta1_when_requested": false, "ta1_on_envelope_error": false});
    let quiet_p = payload(quiet_dir.path(), quiet);
    let db_q = TestDb::create().await?;
    let org_q = switchyard_store::orgs::ensure(&db_q.pool, "edi").await?.id;
    drop_file(quiet_dir.path(), "po.edi", &body);
    poll(&db_q, org_q, &quiet_p).await;
    drop_file(quiet_dir.path(), "po.edi", &body);
    let r = poll(&db_q, org_q, &quiet_p).await;
    let (dup_q, _, answer_q) = duplicate_of(&r.files[0].interchanges[0]);
    assert_eq!(answer_q, None);
    assert!(store::ack_of(&db_q.pool, org_q, dup_q).await?.is_none());
    let out = files(&quiet_dir.path().join("outbound"));
    assert_eq!(out.len(), 1, "only the first copy's 997: {out:?}");
    assert!(out[0].contains("_997_"), "{out:?}");

    // EDIFACT: the ORDERS dropped again gets one CONTRL, UCI action 4 with syntax error 26,
    // and no UCM (no message acknowledged again).
    let edi_dir = tempfile::tempdir()?;
    let edi_p = payload(edi_dir.path(), edifact_profile());
    let db_e = TestDb::create().await?;
    let org_e = switchyard_store::orgs::ensure(&db_e.pool, "edi").await?.id;
    let orders = fixture("edifact/ORDERS_D96A_good.edi");
    drop_file(edi_dir.path(), "orders.edi", &orders);
    let r = poll(&db_e, org_e, &edi_p).await;
    handled(&r.files[0].interchanges[0]);
    drop_file(edi_dir.path(), "orders.edi", &orders);
    let r = poll(&db_e, org_e, &edi_p).await;
    let (_, _, answer_e) = duplicate_of(&r.files[0].interchanges[0]);
    let answer_e = answer_e.expect("a CONTRL answers the duplicate");
    assert!(answer_e.contains("_CONTRL_"), "{answer_e}");
    assert_eq!(files(&edi_dir.path().join("outbound")).len(), 2);
    let contrl = read(edi_dir.path().join("outbound").join(&answer_e));
    let segs = edifact_segments(&contrl);
    let uci = seg(&segs, "UCI");
    assert_eq!(uci[1], "ORD0001", "{contrl}");
    assert_eq!((uci[4].as_str(), uci[5].as_str()), ("4", "26"), "{contrl}");
    assert!(!segs.iter().any(|s| s[0] == "UCM"), "{contrl}");
    assert_eq!(
        count(
            &db_e.pool,
            "SELECT count(*) FROM jobs WHERE kind = 'edi.order.import'"
        )
        .await?,
        1
    );

    // Two copies inside one file: the first is handled, the second answered the same way.
    let db2 = TestDb::create().await?;
    let dir2 = tempfile::tempdir()?;
    let p2 = payload(dir2.path(), x12_profile());
    drop_file(
        dir2.path(),
        "twice.edi",
        &fixture("x12/850_004010_duplicate_interchange.edi"),
    );
    let org2 = switchyard_store::orgs::ensure(&db2.pool, "edi").await?.id;
    let r = poll(&db2, org2, &p2).await;
    let outcomes = &r.files[0].interchanges;
    assert_eq!(outcomes.len(), 2);
    let (_, _, first2) = handled(&outcomes[0]);
    let (_, _, second2) = duplicate_of(&outcomes[1]);
    let second2 = second2.expect("a TA1 answers the copy");
    let out = files(&dir2.path().join("outbound"));
    assert_eq!(out.len(), 2, "{out:?}");
    assert!(out.contains(&first2.expect("ack")) && out.contains(&second2));
    let segs = x12_segments(&read(dir2.path().join("outbound").join(&second2)));
    assert_eq!(seg(&segs, "TA1")[4..], ["R", "025"]);
    assert!(!segs.iter().any(|s| s[0] == "GS"));
    db2.drop_db().await;
    db_e.drop_db().await;
    db_q.drop_db().await;
    db.drop_db().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn edifact_orders_gets_a_contrl() -> anyhow::Result<()> {
    let db = TestDb::create().await?;
    let dir = tempfile::tempdir()?;
    let root = dir.path().to_path_buf();
    let org = switchyard_store::orgs::ensure(&db.pool, "edi").await?.id;
    drop_file(
        &root,
        "orders.edi",
        &fixture("edifact/ORDERS_D96A_good.edi"),
    );
    let report = poll(&db, org, &payload(&root, edifact_profile())).await;
    let (id, status, ack_name) = handled(&report.files[0].interchanges[0]);
    assert_eq!(status, EdiStatus::Processed);
    let msg = store::get(&db.pool, org, id).await?.unwrap();
    assert_eq!(msg.standard, store::EdiStandard::Edifact);
    assert_eq!(msg.message_types, vec!["ORDERS"]);
    assert_eq!(msg.interchange_control, "ORD0001");
    assert_eq!(msg.sender_id, "5412345000013");

    let text = only_ack(&root);
    assert_eq!(
        files(&root.join("outbound")),
        vec![ack_name.expect("ack file")]
    );
    let segs = edifact_segments(&text);
    let unb = seg(&segs, "UNB");
    assert_eq!(
        unb[2], "5498765000019:14",
        "sender is the inbound recipient"
    );
    assert_eq!(
        unb[3], "5412345000013:14",
        "recipient is the inbound sender"
    );
    assert_eq!(unb[5], "1", "fresh interchange reference");
    let unh = seg(&segs, "UNH");
    assert_eq!(unh[1], "1");
    assert!(unh[2].starts_with("CONTRL:D:3"), "{unh:?}");
    let uci = seg(&segs, "UCI");
    assert_eq!(uci[1], "ORD0001");
    assert_eq!(uci.last().unwrap(), "7", "accepted: {uci:?}");
    assert_eq!(seg(&segs, "UNZ")[2], "1");
    let ack = store::ack_of(&db.pool, org, id).await?.unwrap();
    assert_eq!(ack.message_types, vec!["CONTRL"]);
    assert_eq!(ack.status, EdiStatus::Sent);
    assert_eq!(
        store::last_control_number(&db.pool, org, "eurobuy", store::ControlKind::Unb).await?,
        Some(1)
    );
    // A CONTRL has no UNG: no group number is spent on it.
    assert_eq!(
        store::last_control_number(&db.pool, org, "eurobuy", store::ControlKind::Ung).await?,
        None
    );
    db.drop_db().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn files_left_in_processing_by_a_crash_are_finished_on_the_next_poll() -> anyhow::Result<()> {
    let db = TestDb::create().await?;
    let dir = tempfile::tempdir()?;
    let root = dir.path().to_path_buf();
    let org = switchyard_store::orgs::ensure(&db.pool, "edi").await?.id;
    let p = payload(&root, x12_profile());
    let body = fixture("x12/850_004010_good.edi");

    // 1. The daemon died right after claiming the file: nothing stored yet.
    std::fs::create_dir_all(root.join("processing"))?;
    let pickup = uuid::Uuid::now_v7();
    std::fs::write(
        root.join("processing")
            .join(format!("{}__po.edi", pickup.simple())),
        &body,
    )?;
    let r = poll(&db, org, &p).await;
    assert_eq!(r.files.len(), 1);
    assert_eq!(r.files[0].pickup, pickup);
    let (id, status, ack_name) = handled(&r.files[0].interchanges[0]);
    assert_eq!(status, EdiStatus::Processed);
    let ack_name = ack_name.unwrap();
    assert!(files(&root.join("processing")).is_empty());
    assert_eq!(files(&root.join("archive")), vec!["po.edi"]);
    assert_eq!(files(&root.join("outbound")), vec![ack_name.clone()]);
    let first_ack = read(root.join("outbound").join(&ack_name));

    // 2. The daemon died after the ack was stored (with its control numbers) but before the
    // file was written: put the world back in that state and poll again.
    let ack = store::ack_of(&db.pool, org, id).await?.unwrap();
    store::set_status(&db.pool, org, ack.id, EdiStatus::Processed, None).await?;
    std::fs::remove_file(root.join("outbound").join(&ack_name))?;
    std::fs::rename(
        root.join("archive/po.edi"),
        root.join("processing")
            .join(format!("{}__po.edi", pickup.simple())),
    )?;
    let r = poll(&db, org, &p).await;
    let (again, _, name) = handled(&r.files[0].interchanges[0]);
    assert_eq!(again, id, "the same message is resumed, not duplicated");
    assert_eq!(name.as_deref(), Some(ack_name.as_str()));
    // The same ack, byte for byte, with the control numbers it was stored with.
    assert_eq!(read(root.join("outbound").join(&ack_name)), first_ack);
    assert_eq!(
        store::get(&db.pool, org, ack.id).await?.unwrap().status,
        EdiStatus::Sent
    );
    assert_eq!(
        store::last_control_number(&db.pool, org, "acme", store::ControlKind::Isa).await?,
        Some(1)
    );
    assert_eq!(
        count(&db.pool, "SELECT count(*) FROM edi_messages").await?,
        2
    );
    assert_eq!(
        count(
            &db.pool,
            "SELECT count(*) FROM edi_messages WHERE duplicate_of IS NOT NULL"
        )
        .await?,
        0
    );

    // 3. The daemon died after storing the interchange but before its ack: the resumed
    // pickup acknowledges it (once) with new numbers.
    let pickup3 = uuid::Uuid::now_v7();
    let other = fixture("x12/850_005010_good.edi");
    std::fs::write(
        root.join("processing")
            .join(format!("{}__bigbox.edi", pickup3.simple())),
        &other,
    )?;
    // Let a poll store it, then roll it back to "received, no ack".
    let r = poll(&db, org, &p).await;
    let (id3, _, name3) = handled(&r.files[0].interchanges[0]);
    let ack3 = store::ack_of(&db.pool, org, id3).await?.unwrap();
    sqlx::query("DELETE FROM edi_messages WHERE id = $1")
        .bind(ack3.id.0)
        .execute(&db.pool)
        .await?;
    store::set_status(&db.pool, org, id3, EdiStatus::Received, None).await?;
    std::fs::remove_file(root.join("outbound").join(name3.unwrap()))?;
    let archived = files(&root.join("archive"));
    assert!(archived.contains(&"bigbox.edi".to_string()), "{archived:?}");
    std::fs::rename(
        root.join("archive/bigbox.edi"),
        root.join("processing")
            .join(format!("{}__bigbox.edi", pickup3.simple())),
    )?;
    let r = poll(&db, org, &p).await;
    let (resumed, status, name) = handled(&r.files[0].interchanges[0]);
    assert_eq!(resumed, id3);
    assert_eq!(status, EdiStatus::Processed);
    assert!(store::ack_of(&db.pool, org, id3).await?.is_some());
    assert!(files(&root.join("outbound")).contains(&name.unwrap()));
    assert_eq!(
        count(
            &db.pool,
            "SELECT count(*) FROM edi_messages WHERE duplicate_of IS NOT NULL"
        )
        .await?,
        0
    );
    db.drop_db().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn control_numbers_strictly_increase_across_polls() -> anyhow::Result<()> {
    let db = TestDb::create().await?;
    let dir = tempfile::tempdir()?;
    let root = dir.path().to_path_buf();
    let org = switchyard_store::orgs::ensure(&db.pool, "edi").await?.id;
    let p = payload(&root, x12_profile());
    let mut seen: Vec<(u64, u64, u64)> = Vec::new();
    for (n, f) in [
        "x12/850_004010_good.edi",
        "x12/850_005010_good.edi",
        "x12/850_004010_bad_se_count.edi",
    ]
    .iter()
    .enumerate()
    {
        // Distinct interchange numbers so none is a duplicate of another.
        let body = String::from_utf8(fixture(f))?.replace("000000101", &format!("00000090{n}"));
        drop_file(&root, &format!("{n}.edi"), body.as_bytes());
        let r = poll(&db, org, &p).await;
        let (_, _, ack) = handled(&r.files[0].interchanges[0]);
        let segs = x12_segments(&read(root.join("outbound").join(ack.unwrap())));
        let isa: u64 = seg(&segs, "ISA")[13].parse()?;
        let gs: u64 = seg(&segs, "GS")[6].parse()?;
        let st: u64 = seg(&segs, "ST")[2].parse()?;
        seen.push((isa, gs, st));
    }
    assert!(
        seen.windows(2)
            .all(|w| w[0].0 < w[1].0 && w[0].1 < w[1].1 && w[0].2 < w[1].2),
        "{seen:?}"
    );
    assert_eq!(seen[0], (1, 1, 1));
    db.drop_db().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mailbox_held_by_another_worker_is_left_alone() -> anyhow::Result<()> {
    let db = TestDb::create().await?;
    let dir = tempfile::tempdir()?;
    let root = dir.path().to_path_buf();
    let org = switchyard_store::orgs::ensure(&db.pool, "edi").await?.id;
    let p = payload(&root, x12_profile());
    drop_file(&root, "po.edi", &fixture("x12/850_004010_good.edi"));
    let canonical = std::fs::canonicalize(&root)?;
    let mut holder = db.pool.acquire().await?;
    let key = format!("switchyard.edi.mailbox:{}", canonical.display());
    sqlx::query("SELECT pg_advisory_lock(hashtextextended($1, 0))")
        .bind(&key)
        .execute(&mut *holder)
        .await?;
    let r = poll(&db, org, &p).await;
    assert!(!r.polled);
    assert_eq!(files(&root.join("inbound")), vec!["po.edi"]);
    sqlx::query("SELECT pg_advisory_unlock(hashtextextended($1, 0))")
        .bind(&key)
        .execute(&mut *holder)
        .await?;
    drop(holder);
    let r = poll(&db, org, &p).await;
    assert!(r.polled);
    assert_eq!(files(&root.join("archive")), vec!["po.edi"]);
    db.drop_db().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_partner_without_997s_gets_only_the_ta1_it_asked_for() -> anyhow::Result<()> {
    let db = TestDb::create().await?;
    let dir = tempfile::tempdir()?;
    let root = dir.path().to_path_buf();
    let org = switchyard_store::orgs::ensure(&db.pool, "edi").await?.id;
    let mut profile = x12_profile();
    profile["acks"] = json!({"functional": "none", "ta1_when_requested": true});
    drop_file(&root, "po.edi", &fixture("x12/850_004010_good.edi"));
    let r = poll(&db, org, &payload(&root, profile)).await;
    let (id, status, _) = handled(&r.files[0].interchanges[0]);
    assert_eq!(status, EdiStatus::Processed);
    let segs = x12_segments(&only_ack(&root));
    assert_eq!(seg(&segs, "TA1")[4], "A");
    assert!(
        !segs.iter().any(|s| s[0] == "GS" || s[0] == "ST"),
        "{segs:?}"
    );
    let ack = store::ack_of(&db.pool, org, id).await?.unwrap();
    assert_eq!(ack.message_types, vec!["TA1"]);
    // Only the ISA number is spent.
    assert_eq!(
        store::last_control_number(&db.pool, org, "acme", store::ControlKind::Isa).await?,
        Some(1)
    );
    assert_eq!(
        store::last_control_number(&db.pool, org, "acme", store::ControlKind::Gs).await?,
        None
    );
    assert_eq!(
        store::last_control_number(&db.pool, org, "acme", store::ControlKind::St).await?,
        None
    );

    // And with no acknowledgements at all, the 850 is still stored and processed.
    let mut silent = x12_profile();
    silent["acks"] =
        json!({"functional": "none", "ta1_when_requested": false, "ta1_on_envelope_error": false});
    let body =
        String::from_utf8(fixture("x12/850_004010_good.edi"))?.replace("000000101", "000000777");
    drop_file(&root, "po2.edi", body.as_bytes());
    let r = poll(&db, org, &payload(&root, silent)).await;
    let (_, status, ack) = handled(&r.files[0].interchanges[0]);
    assert_eq!((status, ack), (EdiStatus::Processed, None));
    assert_eq!(files(&root.join("outbound")).len(), 1);
    db.drop_db().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn text_between_interchanges_is_reported_and_the_rest_is_processed() -> anyhow::Result<()> {
    let db = TestDb::create().await?;
    let dir = tempfile::tempdir()?;
    let root = dir.path().to_path_buf();
    let org = switchyard_store::orgs::ensure(&db.pool, "edi").await?.id;
    let mut body = b"JUNK BEFORE THE ENVELOPE\n".to_vec();
    body.extend(fixture("x12/850_004010_good.edi"));
    drop_file(&root, "mixed.edi", &body);
    let r = poll(&db, org, &payload(&root, x12_profile())).await;
    let f = &r.files[0];
    assert_eq!(f.interchanges.len(), 1);
    assert_eq!(f.unparseable.len(), 1, "{:?}", f.unparseable);
    let (_, status, ack) = handled(&f.interchanges[0]);
    assert_eq!(status, EdiStatus::Processed);
    assert!(ack.is_some());
    // Archived whole (nothing lost), with a warning row naming the skipped text.
    assert_eq!(files(&root.join("archive")), vec!["mixed.edi"]);
    assert_eq!(std::fs::read(root.join("archive/mixed.edi"))?, body);
    let (msg,): (String,) = sqlx::query_as(
        "SELECT error_message FROM integration_logs WHERE event_type = 'edi.file.unparseable_text' AND status = 'warning'",
    )
    .fetch_one(&db.pool)
    .await?;
    assert!(msg.contains("byte 0"), "{msg}");
    db.drop_db().await;
    Ok(())
}
