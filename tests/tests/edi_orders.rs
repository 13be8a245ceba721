//! Inbound purchase orders end to end: real mailbox directories, a fresh database, the
//! daemon's worker running `edi.mailbox.poll` → `edi.order.import` → `edi.send`, with the
//! project's own mapping files.
//!
//! * a clean 850 → order `confirmed`, 997 and 855 `AC` in `outbound/`;
//! * an 850 with an unknown product and a quantity of 0 → `pending_review` with located
//!   errors, 997 accepted (the syntax was fine), 855 `RJ` with `IR` lines; the admin's fix
//!   (the same store update `PATCH /orders/{id}` makes) and `edi.order.reprocess` → confirmed
//!   and an 855 `AC`; a redelivered import makes no second order and no second answer;
//! * the same for EDIFACT ORDERS with CONTRL and ORDRSP `29` / `27`.

use serde_json::json;
use std::path::{Path, PathBuf};
use std::time::Duration;
use switchyard_core::ids::OrgId;
use switchyard_core::model::{Order, OrderStatus};
use switchyard_daemon::app;
use switchyard_e2e::edi::{edifact_segments, files, x12_segments, ACME_X12};
use switchyard_e2e::{count, eventually, TestDaemon, TestDb};
use switchyard_store::orders::{
    self, BuyerPart, CustomerRow, OrderFilter, OrderUpdate, PartyId, ProductRow,
};
use switchyard_store::queue::NewJob;

/// An error's code, segment id, segment position and element.
type Located<'a> = (&'a str, Option<&'a str>, Option<u32>, Option<&'a str>);

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn fixture(rel: &str) -> String {
    std::fs::read_to_string(repo().join("fixtures/edi").join(rel)).expect("fixture")
}

/// The outbound files whose name contains `kind` (`_997_`, `_855_`), oldest control first.
fn outbound(root: &Path, kind: &str) -> Vec<String> {
    files(&root.join("outbound"))
        .into_iter()
        .filter(|f| f.contains(kind))
        .map(|f| std::fs::read_to_string(root.join("outbound").join(f)).unwrap())
        .collect()
}

fn all<'a>(segs: &'a [Vec<String>], id: &str) -> Vec<&'a Vec<String>> {
    segs.iter().filter(|s| s[0] == id).collect()
}

async fn order_for_po(
    db: &TestDb,
    org: OrgId,
    po: &str,
) -> anyhow::Result<Option<orders::OrderRow>> {
    let (rows, _) = orders::list(&db.pool, org, &OrderFilter::default(), None, 100).await?;
    Ok(rows.into_iter().find(|r| r.customer_po == po))
}

async fn wait_order(
    db: &TestDb,
    org: OrgId,
    po: &str,
    status: OrderStatus,
) -> anyhow::Result<orders::OrderRow> {
    eventually(
        Duration::from_secs(40),
        &format!("order {po} to be {}", status.as_str()),
        || {
            let pool = db.pool.clone();
            let po = po.to_owned();
            async move {
                let (rows, _) =
                    orders::list(&pool, org, &OrderFilter::default(), None, 100).await?;
                Ok(rows
                    .iter()
                    .any(|r| r.customer_po == po && r.status == status))
            }
        },
    )
    .await?;
    Ok(order_for_po(db, org, po).await?.expect("order"))
}

async fn wait_files(root: &Path, kind: &str, n: usize) -> anyhow::Result<Vec<String>> {
    let r = root.to_owned();
    let k = kind.to_owned();
    eventually(
        Duration::from_secs(40),
        &format!("{n} {kind} file(s) in outbound/"),
        || {
            let (r, k) = (r.clone(), k.clone());
            async move { Ok(outbound(&r, &k).len() >= n) }
        },
    )
    .await?;
    Ok(outbound(root, kind))
}

async fn poll(running: &app::Running, org: OrgId, partner: &str) -> anyhow::Result<()> {
    running
        .queue
        .enqueue(NewJob::new(
            org,
            switchyard_edi_van::mailbox::KIND,
            json!({"partner": partner}),
        ))
        .await?;
    Ok(())
}

/// The admin's fix, as `PATCH /api/v1/orders/{id}` stores it: new canonical fields, still in
/// review, then `edi.order.reprocess`.
async fn fix_and_reprocess(
    db: &TestDb,
    running: &app::Running,
    org: OrgId,
    row: &orders::OrderRow,
    edit: impl FnOnce(&mut Order),
) -> anyhow::Result<()> {
    let mut order: Order = serde_json::from_value(row.canonical.clone())?;
    edit(&mut order);
    orders::update(
        &db.pool,
        org,
        row.id,
        OrderStatus::PendingReview,
        &OrderUpdate {
            customer_id: row.customer_id.clone(),
            customer_po: row.customer_po.clone(),
            status: OrderStatus::PendingReview,
            canonical: serde_json::to_value(&order)?,
            review_errors: orders::check_order(&db.pool, org, &order).await?,
            mapped: None,
        },
    )
    .await?;
    running
        .queue
        .enqueue(NewJob::new(
            org,
            "edi.order.reprocess",
            json!({"order_id": row.id.0}),
        ))
        .await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn purchase_orders_are_stored_answered_reviewed_and_accepted() -> anyhow::Result<()> {
    let van = tempfile::tempdir()?;
    let acme = van.path().join("van/acme");
    let euro = van.path().join("van/eurobuy");
    let daemon = TestDaemon::builder()
        .repo_mappings()
        .edi_partner("acme", "edi", ACME_X12, &acme)
        .edi_partner(
            "eurobuy",
            "edi",
            r#"standard = "edifact"
version = "D96A"
us = { qualifier = "14", id = "5498765000019" }
them = { qualifier = "14", id = "5412345000013" }
acks = { contrl = true }"#,
            &euro,
        )
        .start()
        .await?;
    let (db, running) = (&daemon.db, &daemon.running);
    let org = switchyard_store::orgs::ensure(&db.pool, "edi").await?.id;

    // Reference data: ACME names itself N1*BT*92*0001; EuroBuy by its GLN in NAD+BY.
    orders::upsert_customer(
        &db.pool,
        org,
        &CustomerRow {
            customer_id: "C-ACME".into(),
            name: "Acme Retail".into(),
            active: true,
            edi_ids: vec![PartyId {
                qualifier: "92".into(),
                id: "0001".into(),
            }],
        },
    )
    .await?;
    orders::upsert_customer(
        &db.pool,
        org,
        &CustomerRow {
            customer_id: "C-EURO".into(),
            name: "EuroBuy".into(),
            active: true,
            edi_ids: vec![PartyId {
                qualifier: "9".into(),
                id: "5412345000013".into(),
            }],
        },
    )
    .await?;
    for (sku, gtin) in [
        ("BAR-A36-1", Some("4006381333931")),
        ("SHEET-304-16GA", None),
        ("PLATE-A36-12", Some("5901234123457")),
    ] {
        orders::upsert_product(
            &db.pool,
            org,
            &ProductRow {
                sku: sku.into(),
                name: sku.into(),
                gtin: gtin.map(Into::into),
                uom: "EA".into(),
                active: true,
                buyer_parts: vec![BuyerPart {
                    customer_id: "C-ACME".into(),
                    part: format!("ACME-{sku}"),
                }],
            },
        )
        .await?;
    }

    // --- X12: a clean 850.
    std::fs::create_dir_all(acme.join("inbound"))?;
    let good = fixture("x12/850_004010_good.edi");
    std::fs::write(acme.join("inbound/po-4410.edi"), &good)?;
    poll(running, org, "acme").await?;
    let clean = wait_order(db, org, "PO-4410", OrderStatus::Confirmed).await?;
    assert_eq!(clean.customer_id.as_deref(), Some("C-ACME"));
    assert!(clean.review_errors.is_empty(), "{:?}", clean.review_errors);
    assert!(clean.source_message_id.is_some());
    let o: Order = serde_json::from_value(clean.canonical.clone())?;
    assert_eq!(o.lines.len(), 2);
    assert_eq!(o.lines[1].uom, switchyard_core::model::Uom::Cwt);
    assert_eq!(
        o.requested_delivery.map(|d| d.to_string()).as_deref(),
        Some("2026-03-15")
    );
    let acks = wait_files(&acme, "_997_", 1).await?;
    let ak5 = x12_segments(&acks[0]);
    assert_eq!(all(&ak5, "AK5")[0][1], "A");
    let rsp = wait_files(&acme, "_855_", 1).await?;
    let s = x12_segments(&rsp[0]);
    assert_eq!(all(&s, "BAK")[0][2], "AC", "{}", rsp[0]);
    assert_eq!(all(&s, "BAK")[0][3], "PO-4410");
    assert!(all(&s, "ACK").iter().all(|a| a[1] == "IA"));

    // --- X12: line 1 quantity 0, line 2 a product we do not sell.
    let bad = good
        .replace("*000000101*", "*000000102*")
        .replace("IEA*1*000000101", "IEA*1*000000102")
        .replace("*0800*101*X", "*0800*102*X")
        .replace("GE*1*101", "GE*1*102")
        .replace("PO-4410", "PO-4411")
        .replace("PO1*1*12*EA", "PO1*1*0*EA")
        .replace("VP*SHEET-304-16GA", "VP*SHEET-999");
    std::fs::write(acme.join("inbound/po-4411.edi"), &bad)?;
    poll(running, org, "acme").await?;
    let review = wait_order(db, org, "PO-4411", OrderStatus::PendingReview).await?;
    let codes: Vec<Located> = review
        .review_errors
        .iter()
        .map(|e| {
            (
                e.code.as_str(),
                e.location.segment.as_deref(),
                e.location.segment_position,
                e.location.element.as_deref(),
            )
        })
        .collect();
    // PO1 of line 1 is segment 16 of the set, line 2's is segment 18 (ST = 1).
    assert!(
        codes.contains(&("bad_quantity", Some("PO1"), Some(16), Some("PO102"))),
        "{codes:?}"
    );
    assert!(
        codes.contains(&("unknown_product", Some("PO1"), Some(18), Some("PO107"))),
        "{codes:?}"
    );
    assert_eq!(codes.len(), 2, "{:?}", review.review_errors);
    let words: Vec<&str> = review
        .review_errors
        .iter()
        .map(|e| e.message.as_str())
        .collect();
    assert!(
        words.iter().any(|m| m.contains("line 2")
            && m.contains("SHEET-999")
            && m.contains("segment PO1 at position 18 of set 0001")),
        "{words:?}"
    );
    let acks = wait_files(&acme, "_997_", 2).await?;
    assert_eq!(
        all(&x12_segments(&acks[1]), "AK5")[0][1],
        "A",
        "the syntax was fine: {}",
        acks[1]
    );
    let rsp = wait_files(&acme, "_855_", 2).await?;
    let s = x12_segments(&rsp[1]);
    assert_eq!(all(&s, "BAK")[0][2], "RJ", "{}", rsp[1]);
    assert!(all(&s, "ACK").iter().all(|a| a[1] == "IR"), "{}", rsp[1]);

    // A redelivered import: no second order, no second answer.
    let msg = review.source_message_id.expect("source message");
    running
        .queue
        .enqueue(NewJob::new(
            org,
            "edi.order.import",
            json!({"message_id": msg}),
        ))
        .await?;
    eventually(Duration::from_secs(30), "the redelivered import", || {
        let pool = db.pool.clone();
        async move {
            Ok(count(
                &pool,
                "SELECT count(*) FROM jobs WHERE kind = 'edi.order.import' AND state = 'succeeded'",
            )
            .await?
                == 3)
        }
    })
    .await?;
    assert_eq!(
        count(
            &db.pool,
            "SELECT count(*) FROM orders WHERE customer_po = 'PO-4411'"
        )
        .await?,
        1
    );

    // The admin fixes quantity and SKU, and reprocesses: confirmed, 855 AC.
    fix_and_reprocess(db, running, org, &review, |o| {
        o.lines[0].quantity = 12.into();
        o.lines[1].sku = "SHEET-304-16GA".into();
    })
    .await?;
    let fixed = wait_order(db, org, "PO-4411", OrderStatus::Confirmed).await?;
    assert!(fixed.review_errors.is_empty());
    let rsp = wait_files(&acme, "_855_", 3).await?;
    let s = x12_segments(&rsp[2]);
    assert_eq!(all(&s, "BAK")[0][2], "AC", "{}", rsp[2]);
    assert_eq!(all(&s, "BAK")[0][3], "PO-4411");

    // --- EDIFACT: a clean ORDERS, then one with a quantity of 0.
    std::fs::create_dir_all(euro.join("inbound"))?;
    let good = fixture("edifact/ORDERS_D96A_good.edi");
    std::fs::write(euro.join("inbound/ord-1.edi"), &good)?;
    poll(running, org, "eurobuy").await?;
    let clean = wait_order(db, org, "PO-7781", OrderStatus::Confirmed).await?;
    assert_eq!(clean.customer_id.as_deref(), Some("C-EURO"));
    let o: Order = serde_json::from_value(clean.canonical.clone())?;
    assert_eq!(o.lines[0].sku, "BAR-A36-1");
    assert_eq!(o.lines[1].sku, "PLATE-A36-12", "found by GTIN");
    assert_eq!(o.currency, "EUR");
    assert_eq!(wait_files(&euro, "_CONTRL_", 1).await?.len(), 1);
    let rsp = wait_files(&euro, "_ORDRSP_", 1).await?;
    let bgm = edifact_segments(&rsp[0])
        .into_iter()
        .find(|s| s[0] == "BGM")
        .expect("BGM");
    assert_eq!(bgm[3], "29", "{}", rsp[0]);

    let bad = good
        .replace("ORD0001", "ORD0002")
        .replace("PO-7781", "PO-7783")
        .replace("QTY+21:12:PCE", "QTY+21:0:PCE");
    std::fs::write(euro.join("inbound/ord-2.edi"), &bad)?;
    poll(running, org, "eurobuy").await?;
    let review = wait_order(db, org, "PO-7783", OrderStatus::PendingReview).await?;
    let e = &review.review_errors;
    assert_eq!(e.len(), 1, "{e:?}");
    assert_eq!(
        (
            e[0].code.as_str(),
            e[0].location.segment.as_deref(),
            e[0].location.segment_position
        ),
        ("bad_quantity", Some("QTY"), Some(16)),
        "{e:?}"
    );
    assert_eq!(wait_files(&euro, "_CONTRL_", 2).await?.len(), 2);
    let rsp = wait_files(&euro, "_ORDRSP_", 2).await?;
    let bgm = edifact_segments(&rsp[1])
        .into_iter()
        .find(|s| s[0] == "BGM")
        .expect("BGM");
    assert_eq!(bgm[3], "27", "{}", rsp[1]);
    fix_and_reprocess(db, running, org, &review, |o| {
        o.lines[0].quantity = 12.into()
    })
    .await?;
    wait_order(db, org, "PO-7783", OrderStatus::Confirmed).await?;
    let rsp = wait_files(&euro, "_ORDRSP_", 3).await?;
    let bgm = edifact_segments(&rsp[2])
        .into_iter()
        .find(|s| s[0] == "BGM")
        .expect("BGM");
    assert_eq!(bgm[3], "29", "{}", rsp[2]);

    // Every order was logged.
    assert!(
        count(
            &db.pool,
            "SELECT count(*) FROM integration_logs WHERE event_type LIKE 'edi.order.%'"
        )
        .await?
            >= 6
    );
    daemon.stop().await?;
    Ok(())
}
