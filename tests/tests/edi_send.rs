//! Outbound EDI: `edi.send` writes documents into the mailbox's `outbound/` with control
//! numbers from Postgres; the partner's 997 / CONTRL dropped into `inbound/` marks them
//! acknowledged (or error with the partner's reason); `edi.ack.overdue` warns once per
//! message the partner leaves unacknowledged past its window.
//!
//! Written documents are read back twice: split on the delimiters their own ISA / UNB
//! declare (what a partner's translator sees) and re-parsed with our validating reader.

use chrono::{Duration as ChronoDuration, Utc};
use serde_json::{json, Value};
use std::path::Path;
use std::time::Duration;
use switchyard_core::error::AdapterError;
use switchyard_core::ids::{JobId, OrgId};
use switchyard_e2e::edi::{edifact_segments, files, x12_segments, ACME_X12};
use switchyard_e2e::{count, eventually, TestDaemon, TestDb};
use switchyard_edi_van::acks as edi_acks;
use switchyard_edi_van::mailbox as edi_mailbox;
use switchyard_edi_van::messages::{self as store, ControlKind, EdiStatus};
use switchyard_edi_van::partners::EdiPartner;
use switchyard_edi_van::send::{self as edi_send, SendPayload, SendReport};
use switchyard_store::queue::NewJob;

fn x12_profile() -> Value {
    json!({
        "name": "acme",
        "standard": "x12",
        "version": "004010",
        "us": {"qualifier": "ZZ", "id": "SWITCHYARD"},
        "them": {"qualifier": "12", "id": "5551234567"},
        "acks": {"window_hours": 24},
    })
}

fn edifact_profile() -> Value {
    json!({
        "name": "eurobuy",
        "standard": "edifact",
        "version": "D96A",
        "us": {"qualifier": "14", "id": "5498765000019"},
        "them": {"qualifier": "14", "id": "5412345000013"},
        "association": "EAN008",
        "acks": {"contrl": true, "window_hours": 48},
    })
}

fn address(name: &str) -> Value {
    json!({"name": name, "line1": "100 Main St", "city": "Springfield", "region": "IL",
           "postal_code": "62701", "country": "US"})
}

fn order(po: &str) -> Value {
    json!({
        "order_number": "SO-1001",
        "customer_id": "ACME",
        "status": "confirmed",
        "currency": "USD",
        "ordered_at": "2026-03-01T08:00:00Z",
        "requested_delivery": "2026-03-10",
        "lines": [
            {"line_number": 1, "sku": "BAR-A36-1", "description": "Flat bar A36",
             "quantity": "12", "uom": "EA", "unit_price": "18.40", "requested_date": null},
            {"line_number": 2, "sku": "SHEET-304-16GA", "description": "Sheet 304L 16ga",
             "quantity": "2.5", "uom": "CWT", "unit_price": "212.00", "requested_date": "2026-03-12"},
        ],
        "billing_address": address("Acme Retail"),
        "shipping_address": address("Acme DC 7"),
        "supplier_order_ref": null,
        "customer_po": po,
        "tracking_numbers": [],
    })
}

fn party(id: &str, name: &str, tax: &str) -> Value {
    json!({"id": id, "name": name, "tax_id": tax, "email": null,
           "billing_address": address(name), "shipping_address": null, "price_tier": null})
}

fn invoice(number: &str) -> Value {
    json!({
        "invoice_number": number,
        "order_number": "SO-1001",
        "issue_date": "2026-03-06",
        "due_date": "2026-04-05",
        "currency": "EUR",
        "seller": party("SWITCHYARD", "Switchyard Steel", "PL5260001246"),
        "buyer": party("ACME", "Acme Retail", "DE811569869"),
        "lines": [
            {"line_number": 1, "sku": "BAR-A36-1", "description": "Flat bar A36",
             "quantity": "12", "uom": "EA", "unit_price": "18.40", "vat_rate": "23"},
            {"line_number": 2, "sku": "SHEET-304-16GA", "description": "Sheet 304L, it's 16ga",
             "quantity": "2.5", "uom": "CWT", "unit_price": "212.00", "vat_rate": "8"},
        ],
    })
}

/// A partner with its mailbox at `root` and the `edi.send` payload naming it, kept in one
/// value for brevity (`mailbox` and `profile` are split off by [`try_send`]; the job itself
/// only ever sees `partner`).
fn send_payload(root: &Path, profile: Value, document: &str, entity: Value) -> Value {
    json!({"mailbox": root.to_string_lossy(), "profile": profile,
           "document": document, "entity": entity})
}

/// The repository's mapping files (every outbound document is generated through them).
fn mappings() -> switchyard_runtime::mappings::Mappings {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../mappings");
    let (registry, report) = switchyard_mapping::MappingRegistry::load(dir);
    assert!(report.is_clean(), "{:?}", report.failed);
    switchyard_runtime::mappings::Mappings::from_registry(registry)
}

async fn send(db: &TestDb, org: OrgId, job: JobId, p: &Value) -> SendReport {
    try_send(db, org, job, p).await.expect("send")
}

/// Send as the handler does, to the partner [`send_payload`] describes.
async fn try_send(
    db: &TestDb,
    org: OrgId,
    job: JobId,
    p: &Value,
) -> Result<SendReport, AdapterError> {
    let mut p = p.clone();
    let root = p["mailbox"].as_str().expect("mailbox").to_owned();
    let partner = EdiPartner::local(
        root,
        serde_json::from_value(p["profile"].take()).expect("profile"),
    );
    let fields = p.as_object_mut().expect("payload object");
    fields.remove("mailbox");
    fields.remove("profile");
    fields.insert("partner".into(), json!(partner.profile.name));
    let payload: SendPayload = serde_json::from_value(p).expect("payload");
    edi_send::send(
        &db.pool,
        org,
        job,
        &partner,
        &payload,
        Utc::now(),
        &mappings(),
    )
    .await
}

async fn poll(db: &TestDb, org: OrgId, root: &Path, profile: Value) {
    let p = EdiPartner::local(root, serde_json::from_value(profile).expect("profile"));
    edi_mailbox::poll(&db.pool, org, None, &p, Utc::now())
        .await
        .expect("poll");
}

fn read(root: &Path, name: &str) -> String {
    let path = root.join("outbound").join(name);
    String::from_utf8(std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display())))
        .expect("utf-8")
}

fn seg<'a>(segs: &'a [Vec<String>], id: &str) -> &'a Vec<String> {
    segs.iter()
        .find(|s| s[0] == id)
        .unwrap_or_else(|| panic!("no {id} segment in {segs:?}"))
}

/// (ISA13, GS06, ST02) of a written 855, after checking it re-parses clean.
fn x12_controls(text: &str) -> (u64, u64, u64) {
    edi_send::check_clean(text.as_bytes()).unwrap_or_else(|e| panic!("{e}\n{text}"));
    let segs = x12_segments(text);
    assert_eq!(seg(&segs, "ST")[1], "855");
    let n = |s: &str| s.trim().parse::<u64>().expect("numeric control");
    (
        n(&seg(&segs, "ISA")[13]),
        n(&seg(&segs, "GS")[6]),
        n(&seg(&segs, "ST")[2]),
    )
}

/// (UNB 0020, UNH 0062) of a written INVOIC, after checking it re-parses clean.
fn edifact_controls(text: &str) -> (u64, u64) {
    edi_send::check_clean(text.as_bytes()).unwrap_or_else(|e| panic!("{e}\n{text}"));
    let segs = edifact_segments(text);
    assert!(seg(&segs, "UNH")[2].starts_with("INVOIC:D:96A"), "{segs:?}");
    let n = |s: &str| s.parse::<u64>().expect("numeric control");
    (n(&seg(&segs, "UNB")[5]), n(&seg(&segs, "UNH")[1]))
}

fn drop_inbound(root: &Path, name: &str, body: &str) {
    std::fs::create_dir_all(root.join("inbound")).unwrap();
    std::fs::write(root.join("inbound").join(name), body).unwrap();
}

/// The partner's 997 for our group `gs06` / set `st02`: `AK5`/`AK9` codes as given.
fn partner_997(isa13: u32, gs06: u64, st02: u64, ak5: &str, ak9: &str) -> String {
    format!(
        "ISA*00*          *00*          *12*5551234567     *ZZ*SWITCHYARD     *260302*0915*U*00401*{isa13:09}*0*P*>~\
         GS*FA*5551234567*SWITCHYARD*20260302*0915*{isa13}*X*004010~ST*997*0001~AK1*PR*{gs06}~\
         AK2*855*{st02:04}~AK5*{ak5}~AK9*{ak9}~SE*6*0001~GE*1*{isa13}~IEA*1*{isa13:09}~"
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sends_855_and_invoic_with_increasing_control_numbers_and_redelivery_writes_nothing(
) -> anyhow::Result<()> {
    let van = tempfile::tempdir()?;
    let root = van.path().join("van/acme");
    let eu_root = van.path().join("van/eurobuy");
    // The first 855 goes through the daemon's worker: the job kind is registered. The partner
    // is declared in the config; the job names it. The repository's mappings: the 855 is
    // generated through mappings/edi/855.out.toml.
    let daemon = TestDaemon::builder()
        .repo_mappings()
        .edi_partner("acme", "edi", ACME_X12, &root)
        .start()
        .await?;
    let (db, running) = (&daemon.db, &daemon.running);
    let org = daemon.org("edi").await?;
    running
        .queue
        .enqueue(NewJob::new(
            org,
            edi_send::KIND,
            json!({"partner": "acme", "document": "order_response", "entity": order("PO-1")}),
        ))
        .await?;
    eventually(Duration::from_secs(30), "the send job to succeed", || {
        let pool = db.pool.clone();
        async move {
            Ok(count(
                &pool,
                "SELECT count(*) FROM jobs WHERE kind = 'edi.send' AND state = 'succeeded'",
            )
            .await?
                == 1)
        }
    })
    .await?;
    let first_files = files(&root.join("outbound"));
    assert_eq!(first_files.len(), 1, "{first_files:?}");
    let first = x12_controls(&read(&root, &first_files[0]));

    // Two more 855s, called directly.
    let job2 = JobId::new();
    let p2 = send_payload(&root, x12_profile(), "order_response", order("PO-2"));
    let second = send(db, org, job2, &p2).await;
    assert!(second.written);
    let third = send(
        db,
        org,
        JobId::new(),
        &send_payload(&root, x12_profile(), "order_response", order("PO-3")),
    )
    .await;
    let c2 = x12_controls(&read(&root, &second.file));
    let c3 = x12_controls(&read(&root, &third.file));
    for (a, b) in [(first, c2), (c2, c3)] {
        assert!(a.0 < b.0 && a.1 < b.1 && a.2 < b.2, "{a:?} then {b:?}");
    }
    assert_eq!(files(&root.join("outbound")).len(), 3);

    // The row: stored raw, sent, with its envelope values.
    let msg = store::get(&db.pool, org, second.message)
        .await?
        .expect("row");
    assert_eq!(msg.status, EdiStatus::Sent);
    assert_eq!(msg.message_types, vec!["855"]);
    assert_eq!(msg.raw, read(&root, &second.file).into_bytes());
    assert_eq!(msg.group_controls[0]["functional_id"], "PR");
    assert_eq!(msg.group_controls[0]["control"], c2.1.to_string());

    // Redelivered: same message, nothing written, no number spent.
    let last_isa = store::last_control_number(&db.pool, org, "acme", ControlKind::Isa).await?;
    let again = send(db, org, job2, &p2).await;
    assert!(!again.written);
    assert_eq!(again.message, second.message);
    assert_eq!(again.file, second.file);
    assert_eq!(files(&root.join("outbound")).len(), 3);
    assert_eq!(
        store::last_control_number(&db.pool, org, "acme", ControlKind::Isa).await?,
        last_isa
    );
    assert_eq!(
        count(
            &db.pool,
            "SELECT count(*) FROM edi_messages WHERE direction = 'outbound'"
        )
        .await?,
        3
    );

    // INVOIC to the EDIFACT partner: its own counters, strictly increasing.
    let i1 = send(
        db,
        org,
        JobId::new(),
        &send_payload(&eu_root, edifact_profile(), "invoice", invoice("FV-1")),
    )
    .await;
    let i2 = send(
        db,
        org,
        JobId::new(),
        &send_payload(&eu_root, edifact_profile(), "invoice", invoice("FV-2")),
    )
    .await;
    let e1 = edifact_controls(&read(&eu_root, &i1.file));
    let e2 = edifact_controls(&read(&eu_root, &i2.file));
    assert!(e1.0 < e2.0 && e1.1 < e2.1, "{e1:?} then {e2:?}");
    assert_eq!(files(&eu_root.join("outbound")).len(), 2);

    // One integration log row per document written (not for the redelivery).
    assert_eq!(
        count(
            &db.pool,
            "SELECT count(*) FROM integration_logs WHERE integration_type = 'edi' \
             AND direction = 'outbound' AND event_type = 'edi.document.sent'"
        )
        .await?,
        5
    );

    // A document that cannot be generated clean is refused and spends nothing.
    let before = store::last_control_number(&db.pool, org, "acme", ControlKind::Isa).await?;
    let bad = order("PO*STAR");
    let p = send_payload(&root, x12_profile(), "order_response", bad);
    let err = try_send(db, org, JobId::new(), &p)
        .await
        .expect_err("an identifier with a delimiter is refused");
    assert!(!err.to_string().is_empty());
    assert_eq!(
        store::last_control_number(&db.pool, org, "acme", ControlKind::Isa).await?,
        before
    );
    assert_eq!(files(&root.join("outbound")).len(), 3);
    daemon.stop().await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn partner_acks_mark_our_documents_acknowledged_or_rejected() -> anyhow::Result<()> {
    let db = TestDb::create().await?;
    let dir = tempfile::tempdir()?;
    let root = dir.path().join("van/acme");
    let org = switchyard_store::orgs::ensure(&db.pool, "edi").await?.id;

    let ok = send(
        &db,
        org,
        JobId::new(),
        &send_payload(&root, x12_profile(), "order_response", order("PO-1")),
    )
    .await;
    let rejected = send(
        &db,
        org,
        JobId::new(),
        &send_payload(&root, x12_profile(), "order_response", order("PO-2")),
    )
    .await;
    let (_, gs_ok, st_ok) = x12_controls(&read(&root, &ok.file));
    let (_, gs_bad, st_bad) = x12_controls(&read(&root, &rejected.file));

    drop_inbound(
        &root,
        "997-a.edi",
        &partner_997(501, gs_ok, st_ok, "A", "A*1*1*1"),
    );
    drop_inbound(
        &root,
        "997-b.edi",
        &partner_997(502, gs_bad, st_bad, "R*5", "R*1*1*0"),
    );
    poll(&db, org, &root, x12_profile()).await;

    let m = store::get(&db.pool, org, ok.message).await?.expect("row");
    assert_eq!(m.status, EdiStatus::Acknowledged, "{:?}", m.errors);
    assert!(m.errors.is_empty(), "{:?}", m.errors);
    let ack = store::partner_ack_of(&db.pool, org, ok.message)
        .await?
        .expect("the 997 points at our 855");
    assert_eq!(ack.message_types, vec!["997"]);
    assert_eq!(ack.interchange_control, "000000501");
    assert_eq!(ack.status, EdiStatus::Processed);

    let m = store::get(&db.pool, org, rejected.message)
        .await?
        .expect("row");
    assert_eq!(m.status, EdiStatus::Error);
    let why = m.errors.join("\n");
    assert!(why.contains("rejected set 855"), "{why}");
    assert!(why.contains("one or more segments in error"), "{why}");
    assert!(why.contains("AK9 R"), "{why}");

    // No ack is sent for an ack: outbound/ still holds only our two 855s.
    assert_eq!(files(&root.join("outbound")), {
        let mut v = vec![ok.file.clone(), rejected.file.clone()];
        v.sort();
        v
    });

    // The EDIFACT partner's CONTRL for our INVOIC (UCI 0020 = our UNB reference).
    let eu_root = dir.path().join("van/eurobuy");
    let inv = send(
        &db,
        org,
        JobId::new(),
        &send_payload(&eu_root, edifact_profile(), "invoice", invoice("FV-1")),
    )
    .await;
    let (unb, _) = edifact_controls(&read(&eu_root, &inv.file));
    let contrl = format!(
        "UNB+UNOC:3+5412345000013:14+5498765000019:14+260302:0915+CTL0009'\
         UNH+1+CONTRL:D:3:UN'UCI+{unb}+5498765000019:14+5412345000013:14+7'UNT+3+1'UNZ+1+CTL0009'"
    );
    drop_inbound(&eu_root, "contrl.edi", &contrl);
    poll(&db, org, &eu_root, edifact_profile()).await;
    let m = store::get(&db.pool, org, inv.message).await?.expect("row");
    assert_eq!(m.status, EdiStatus::Acknowledged, "{:?}", m.errors);
    assert_eq!(files(&eu_root.join("outbound")), vec![inv.file.clone()]);
    db.drop_db().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unacknowledged_document_is_warned_about_once_after_its_window() -> anyhow::Result<()> {
    let db = TestDb::create().await?;
    let dir = tempfile::tempdir()?;
    let root = dir.path().join("van/acme");
    let org = switchyard_store::orgs::ensure(&db.pool, "edi").await?.id;
    let acme = EdiPartner::local(&root, serde_json::from_value(x12_profile())?);
    let profile = &acme.profile;

    let waiting = send(
        &db,
        org,
        JobId::new(),
        &send_payload(&root, x12_profile(), "order_response", order("PO-1")),
    )
    .await;
    let acked = send(
        &db,
        org,
        JobId::new(),
        &send_payload(&root, x12_profile(), "order_response", order("PO-2")),
    )
    .await;
    let (_, gs, st) = x12_controls(&read(&root, &acked.file));
    drop_inbound(&root, "997.edi", &partner_997(601, gs, st, "A", "A*1*1*1"));
    poll(&db, org, &root, x12_profile()).await;

    let warnings = "SELECT count(*) FROM integration_logs WHERE integration_type = 'edi' \
                    AND event_type = 'edi.ack.overdue' AND status = 'warning'";
    // Within the window: nothing.
    let now = Utc::now();
    assert!(edi_acks::warn_overdue(
        &db.pool,
        org,
        None,
        profile,
        now + ChronoDuration::hours(23)
    )
    .await?
    .is_empty());
    assert_eq!(count(&db.pool, warnings).await?, 0);

    // Past it: the unacknowledged 855 only (not the acknowledged one, not our own 997s).
    let later = now + ChronoDuration::hours(25);
    let warned = edi_acks::warn_overdue(&db.pool, org, None, profile, later).await?;
    assert_eq!(warned, vec![waiting.message]);
    assert_eq!(count(&db.pool, warnings).await?, 1);
    assert!(store::ack_overdue_at(&db.pool, org, waiting.message)
        .await?
        .is_some());
    // Still `sent`: a late 997 can still acknowledge it.
    let m = store::get(&db.pool, org, waiting.message)
        .await?
        .expect("row");
    assert_eq!(m.status, EdiStatus::Sent);

    // Once: a later run writes nothing more.
    let again = edi_acks::warn_overdue(
        &db.pool,
        org,
        None,
        profile,
        later + ChronoDuration::hours(5),
    )
    .await?;
    assert!(again.is_empty());
    assert_eq!(count(&db.pool, warnings).await?, 1);
    let text: String = sqlx::query_scalar(
        "SELECT error_message FROM integration_logs WHERE event_type = 'edi.ack.overdue'",
    )
    .fetch_one(&db.pool)
    .await?;
    assert!(
        text.contains("has not been acknowledged by acme within 24 hours"),
        "{text}"
    );
    db.drop_db().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ship_notice_needs_its_order_and_mints_ssccs_from_the_set_number() -> anyhow::Result<()> {
    let db = TestDb::create().await?;
    let dir = tempfile::tempdir()?;
    let root = dir.path().join("van/acme");
    let org = switchyard_store::orgs::ensure(&db.pool, "edi").await?.id;
    let mut profile = x12_profile();
    profile["gs1_company_prefix"] = json!("0614141");
    let shipment = json!({
        "shipment_number": "SH-5001",
        "order_number": "SO-1001",
        "carrier": "UPSN",
        "service": "Ground",
        "shipped_at": "2026-03-05T14:30:00Z",
        "packages": [
            {"sscc": "106141412345678908", "tracking_number": "1Z999AA10123456784",
             "weight": "40.5", "weight_uom": "LB",
             "lines": [{"sku": "BAR-A36-1", "quantity": "12", "uom": "EA"}]},
            {"sscc": null, "tracking_number": null, "weight": "260", "weight_uom": "LB",
             "lines": [{"sku": "SHEET-304-16GA", "quantity": "2.5", "uom": "CWT"}]},
        ],
        "events": [],
    });

    // Without the order: refused before anything is spent or written.
    let p = send_payload(&root, profile.clone(), "ship_notice", shipment.clone());
    let err = try_send(&db, org, JobId::new(), &p)
        .await
        .expect_err("a ship notice needs its order");
    assert!(err.to_string().contains("`order`"), "{err}");
    assert_eq!(
        store::last_control_number(&db.pool, org, "acme", ControlKind::Isa).await?,
        None
    );

    let mut payload = send_payload(&root, profile, "ship_notice", shipment);
    payload["order"] = order("PO-1");
    let sent = send(&db, org, JobId::new(), &payload).await;
    let text = read(&root, &sent.file);
    edi_send::check_clean(text.as_bytes()).unwrap_or_else(|e| panic!("{e}\n{text}"));
    let segs = x12_segments(&text);
    assert_eq!(seg(&segs, "ST")[1], "856");
    // shipment → order → pack → item, pack → item.
    let levels: Vec<&str> = segs
        .iter()
        .filter(|s| s[0] == "HL")
        .map(|s| s[3].as_str())
        .collect();
    assert_eq!(levels, vec!["S", "O", "P", "I", "P", "I"]);
    // The package without an SSCC got one minted from set number 1's block of serials.
    let marks: Vec<&str> = segs
        .iter()
        .filter(|s| s[0] == "MAN")
        .map(|s| s[2].as_str())
        .collect();
    assert_eq!(marks.len(), 2, "{marks:?}");
    assert_eq!(marks[0], "106141412345678908");
    assert_eq!(marks[1].len(), 18);
    assert!(marks[1].starts_with("00614141"), "{marks:?}");
    assert!(marks[1][8..17].ends_with("1000"), "{marks:?}");
    db.drop_db().await;
    Ok(())
}

/// The partner's TA1 for our interchange `isa13`: TA104 `code`, TA105 `note`.
fn partner_ta1(own: u32, isa13: u64, code: &str, note: &str) -> String {
    format!(
        "ISA*00*          *00*          *12*5551234567     *ZZ*SWITCHYARD     *260302*0915*U*00401*{own:09}*0*P*>~\
         TA1*{isa13:09}*260302*0915*{code}*{note}~IEA*0*{own:09}~"
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn partner_ta1_marks_our_interchange_acknowledged_or_rejected() -> anyhow::Result<()> {
    let db = TestDb::create().await?;
    let dir = tempfile::tempdir()?;
    let root = dir.path().join("van/acme");
    let org = switchyard_store::orgs::ensure(&db.pool, "edi").await?.id;
    let mut sent = Vec::new();
    for po in ["PO-1", "PO-2", "PO-3"] {
        let payload = send_payload(&root, x12_profile(), "order_response", order(po));
        sent.push(send(&db, org, JobId::new(), &payload).await);
    }
    let isa13: Vec<u64> = sent
        .iter()
        .map(|r| x12_controls(&read(&root, &r.file)).0)
        .collect();
    drop_inbound(&root, "ta1-a.edi", &partner_ta1(701, isa13[0], "A", "000"));
    drop_inbound(&root, "ta1-r.edi", &partner_ta1(702, isa13[1], "R", "022"));
    poll(&db, org, &root, x12_profile()).await;

    let m = store::get(&db.pool, org, sent[0].message)
        .await?
        .expect("row");
    assert_eq!(m.status, EdiStatus::Acknowledged, "{:?}", m.errors);
    let ack = store::partner_ack_of(&db.pool, org, sent[0].message)
        .await?
        .expect("the TA1 points at our interchange");
    assert_eq!(ack.message_types, vec!["TA1"]);
    assert_eq!(ack.interchange_control, "000000701");

    let m = store::get(&db.pool, org, sent[1].message)
        .await?
        .expect("row");
    assert_eq!(m.status, EdiStatus::Error);
    let why = m.errors.join("\n");
    assert!(why.contains("rejected interchange"), "{why}");
    assert!(why.contains("invalid control structure"), "{why}");

    // The interchange no TA1 named is untouched, and no ack is sent for the TA1s.
    let m = store::get(&db.pool, org, sent[2].message)
        .await?
        .expect("row");
    assert_eq!(m.status, EdiStatus::Sent);
    assert_eq!(files(&root.join("outbound")).len(), 3);
    db.drop_db().await;
    Ok(())
}
