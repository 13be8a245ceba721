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

/// The customers and products both partners' orders name. ACME names itself N1*BT*92*0001;
/// EuroBuy by its GLN in NAD+BY.
async fn reference_data(db: &TestDb, org: OrgId) -> anyhow::Result<()> {
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
    Ok(())
}

/// The EDIFACT partner's profile.
const EUROBUY: &str = r#"standard = "edifact"
version = "D96A"
us = { qualifier = "14", id = "5498765000019" }
them = { qualifier = "14", id = "5412345000013" }
acks = { contrl = true }"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn purchase_orders_are_stored_answered_reviewed_and_accepted() -> anyhow::Result<()> {
    let van = tempfile::tempdir()?;
    let acme = van.path().join("van/acme");
    let euro = van.path().join("van/eurobuy");
    let daemon = TestDaemon::builder()
        .repo_mappings()
        .edi_partner("acme", "edi", ACME_X12, &acme)
        .edi_partner("eurobuy", "edi", EUROBUY, &euro)
        .start()
        .await?;
    let (db, running) = (&daemon.db, &daemon.running);
    let org = switchyard_store::orgs::ensure(&db.pool, "edi").await?.id;

    reference_data(db, org).await?;

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

/// Our own parser's reading of a document we sent: it must validate clean, and each segment
/// comes back as its elements, each element as its components (element 0: the tag).
fn parsed(doc: &str) -> Vec<Vec<Vec<String>>> {
    let ic = switchyard_edi_van::send::check_clean(doc.as_bytes())
        .unwrap_or_else(|e| panic!("{e}\n{doc}"));
    (0..ic.len())
        .map(|i| {
            let s = ic.segment(i);
            std::iter::once(vec![s.id().to_string()])
                .chain((1..=s.element_count()).map(|e| {
                    let mut c: Vec<String> =
                        (1..=8).map(|k| s.component(e, k).into_owned()).collect();
                    while c.last().is_some_and(String::is_empty) {
                        c.pop();
                    }
                    c
                }))
                .collect()
        })
        .collect()
}

/// Element `e` component `c` (1-based) of a parsed segment, empty when absent.
fn at(s: &[Vec<String>], e: usize, c: usize) -> String {
    s.get(e)
        .and_then(|x| x.get(c - 1))
        .cloned()
        .unwrap_or_default()
}

/// For every segment `tag`: the listed (element, component) values.
fn pick(segs: &[Vec<Vec<String>>], tag: &str, els: &[(usize, usize)]) -> Vec<Vec<String>> {
    segs.iter()
        .filter(|s| s[0][0] == tag)
        .map(|s| els.iter().map(|&(e, c)| at(s, e, c)).collect())
        .collect()
}

fn strs(rows: &[&[&str]]) -> Vec<Vec<String>> {
    rows.iter()
        .map(|r| r.iter().map(|x| x.to_string()).collect())
        .collect()
}

/// EDIFACT lines as (LIN 1082, PIA ids as id:qualifier, RFF+LI) in order.
fn edifact_lines(segs: &[Vec<Vec<String>>]) -> Vec<Vec<String>> {
    let mut out: Vec<Vec<String>> = Vec::new();
    for s in segs {
        match s[0][0].as_str() {
            "LIN" => out.push(vec![at(s, 1, 1), String::new(), String::new()]),
            "PIA" => {
                let ids: Vec<String> = (2..s.len())
                    .map(|e| format!("{}:{}", at(s, e, 1), at(s, e, 2)))
                    .collect();
                out.last_mut().expect("PIA in a line")[1] = ids.join(" ");
            }
            "RFF" if at(s, 1, 1) == "LI" => out.last_mut().expect("RFF in a line")[2] = at(s, 1, 2),
            _ => {}
        }
    }
    out
}

async fn send_about(
    running: &app::Running,
    org: OrgId,
    partner: &str,
    document: &str,
    entity: serde_json::Value,
    order: &serde_json::Value,
) -> anyhow::Result<()> {
    running
        .queue
        .enqueue(NewJob::new(
            org,
            "edi.send",
            json!({"partner": partner, "document": document, "entity": entity, "order": order}),
        ))
        .await?;
    Ok(())
}

fn shipment_of(order: &Order) -> serde_json::Value {
    json!({
        "shipment_number": "SH-1", "order_number": order.order_number, "carrier": "UPSN",
        "service": null, "shipped_at": "2026-03-05T10:00:00Z",
        "packages": [{"sscc": null, "tracking_number": null, "weight": null, "weight_uom": null,
                      "lines": order.lines.iter().map(|l| json!({"sku": l.sku, "quantity": l.quantity, "uom": l.uom})).collect::<Vec<_>>()}],
        "events": []
    })
}

fn invoice_of(order: &Order) -> serde_json::Value {
    let party = |id: &str| {
        json!({"id": id, "name": id, "tax_id": null, "email": null,
        "billing_address": null, "shipping_address": null, "price_tier": null})
    };
    json!({
        "invoice_number": "FV-1", "order_number": order.order_number, "issue_date": "2026-03-06",
        "due_date": null, "currency": order.currency, "seller": party("SWITCHYARD"),
        "buyer": party(&order.customer_id),
        // Our invoice numbers its lines itself; the buyer's ids come from the order.
        "lines": order.lines.iter().enumerate().map(|(i, l)| json!({"line_number": i + 1, "sku": l.sku,
            "description": null, "quantity": l.quantity, "uom": l.uom, "unit_price": l.unit_price,
            "vat_rate": "23"})).collect::<Vec<_>>()
    })
}

/// Issue 10 item 2, end to end: an 850 and an ORDERS with the buyer's own line numbers, part
/// numbers, GTINs and party ids come in through the mailbox, and the 855/856/810 and the
/// ORDRSP/DESADV/INVOIC we then send about the order, read back with our own parser, carry
/// exactly those values where each standard puts them; we are named by the profile's id.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn what_we_send_about_an_order_carries_the_buyers_own_ids() -> anyhow::Result<()> {
    let van = tempfile::tempdir()?;
    let acme = van.path().join("van/acme");
    let euro = van.path().join("van/eurobuy");
    let daemon = TestDaemon::builder()
        .repo_mappings()
        .edi_partner(
            "acme",
            "edi",
            &format!("{ACME_X12}\ngs1_company_prefix = \"0614141\""),
            &acme,
        )
        .edi_partner(
            "eurobuy",
            "edi",
            &format!("{EUROBUY}\ngs1_company_prefix = \"0614141\""),
            &euro,
        )
        .start()
        .await?;
    let (db, running) = (&daemon.db, &daemon.running);
    let org = switchyard_store::orgs::ensure(&db.pool, "edi").await?.id;
    reference_data(db, org).await?;

    // --- X12: the buyer's line ids `000100001` and `A2`, its part numbers (BP), GTINs (UP,
    // EN), and its parties BY (by D-U-N-S), BT and ST (by its own numbers).
    let po = fixture("x12/850_004010_good.edi")
        .replace(
            "PO1*1*12*EA*18.40**VP*BAR-A36-1*UP*012345678905",
            "PO1*000100001*12*EA*18.40**VP*BAR-A36-1*BP*ACME-BAR-A36-1*UP*012345678905",
        )
        .replace(
            "PO1*2*2.5*CW*212**VP*SHEET-304-16GA",
            "PO1*A2*2.5*CW*212**BP*ACME-SHEET-304-16GA*EN*4000862141404",
        )
        .replace("~N1*BT*", "~N1*BY*ACME PURCHASING*1*123456789~N1*BT*")
        .replace("SE*22*0001", "SE*23*0001");
    std::fs::create_dir_all(acme.join("inbound"))?;
    std::fs::write(acme.join("inbound/po.edi"), &po)?;
    poll(running, org, "acme").await?;
    let row = wait_order(db, org, "PO-4410", OrderStatus::Confirmed).await?;
    let order: Order = serde_json::from_value(row.canonical.clone())?;
    let lines = strs(&[
        &[
            "000100001",
            "VP",
            "BAR-A36-1",
            "BP",
            "ACME-BAR-A36-1",
            "UP",
            "012345678905",
        ],
        &[
            "A2",
            "VP",
            "SHEET-304-16GA",
            "BP",
            "ACME-SHEET-304-16GA",
            "EN",
            "4000862141404",
        ],
    ]);
    let ids = [(1, 1), (6, 1), (7, 1), (8, 1), (9, 1), (10, 1), (11, 1)];
    let n1 = [(1, 1), (3, 1), (4, 1)];

    let rsp = parsed(&wait_files(&acme, "_855_", 1).await?[0]);
    assert_eq!(pick(&rsp, "BAK", &[(3, 1)]), strs(&[&["PO-4410"]]));
    assert_eq!(
        pick(&rsp, "N1", &n1),
        strs(&[
            &["BY", "1", "123456789"],
            &["BT", "92", "0001"],
            &["ST", "92", "0007"]
        ])
    );
    assert_eq!(pick(&rsp, "PO1", &ids), lines);

    send_about(
        running,
        org,
        "acme",
        "ship_notice",
        shipment_of(&order),
        &row.canonical,
    )
    .await?;
    let asn = parsed(&wait_files(&acme, "_856_", 1).await?[0]);
    assert_eq!(
        pick(&asn, "PRF", &[(1, 1), (4, 1)]),
        strs(&[&["PO-4410", "20260301"]])
    );
    assert_eq!(
        pick(&asn, "N1", &n1),
        strs(&[
            &["ST", "92", "0007"],
            &["BY", "1", "123456789"],
            &["BT", "92", "0001"]
        ])
    );
    // LIN01 the line id, then the (qualifier, id) pairs from LIN02.
    let lin = [(1, 1), (2, 1), (3, 1), (4, 1), (5, 1), (6, 1), (7, 1)];
    assert_eq!(pick(&asn, "LIN", &lin), lines);

    send_about(
        running,
        org,
        "acme",
        "invoice",
        invoice_of(&order),
        &row.canonical,
    )
    .await?;
    let inv = parsed(&wait_files(&acme, "_810_", 1).await?[0]);
    assert_eq!(
        pick(&inv, "BIG", &[(3, 1), (4, 1)]),
        strs(&[&["20260301", "PO-4410"]])
    );
    assert_eq!(
        pick(&inv, "N1", &n1),
        strs(&[
            &["SE", "ZZ", "SWITCHYARD"],
            &["BY", "1", "123456789"],
            &["BT", "92", "0001"],
            &["ST", "92", "0007"]
        ])
    );
    assert_eq!(pick(&inv, "IT1", &ids), lines);

    // --- EDIFACT: line numbers 10 and 20, the buyer's item number (PIA IN), GTINs, and its
    // parties BY, DP and IV by GLN (3055 9).
    let orders_doc = fixture("edifact/ORDERS_D96A_good.edi")
        .replace("LIN+1++4006381333931:EN'", "LIN+10++4006381333931:EN'")
        .replace("PIA+1+BAR-A36-1:SA'", "PIA+1+BAR-A36-1:SA+EURO-BAR:IN'")
        .replace("LIN+2++5901234123457:EN'", "LIN+20++5901234123457:EN'")
        .replace("CUX+2:EUR:9'", "NAD+IV+5412345000099::9'\nCUX+2:EUR:9'")
        .replace("UNT+24+1'", "UNT+25+1'");
    std::fs::create_dir_all(euro.join("inbound"))?;
    std::fs::write(euro.join("inbound/orders.edi"), &orders_doc)?;
    poll(running, org, "eurobuy").await?;
    let row = wait_order(db, org, "PO-7781", OrderStatus::Confirmed).await?;
    let order: Order = serde_json::from_value(row.canonical.clone())?;
    let lines = strs(&[
        &["10", "EURO-BAR:IN 4006381333931:SRV", "10"],
        &["20", "5901234123457:SRV", "20"],
    ]);
    let nad = [(1, 1), (2, 1), (2, 3)];
    let (by, dp, iv) = (
        ["BY", "5412345000013", "9"],
        ["DP", "5412345000020", "9"],
        ["IV", "5412345000099", "9"],
    );

    let rsp = parsed(&wait_files(&euro, "_ORDRSP_", 1).await?[0]);
    assert_eq!(pick(&rsp, "RFF", &[(1, 1), (1, 2)])[0], ["ON", "PO-7781"]);
    assert_eq!(pick(&rsp, "NAD", &nad), strs(&[&by, &dp, &iv]));
    assert_eq!(edifact_lines(&rsp), lines);

    send_about(
        running,
        org,
        "eurobuy",
        "ship_notice",
        shipment_of(&order),
        &row.canonical,
    )
    .await?;
    let asn = parsed(&wait_files(&euro, "_DESADV_", 1).await?[0]);
    assert_eq!(pick(&asn, "RFF", &[(1, 1), (1, 2)])[0], ["ON", "PO-7781"]);
    assert_eq!(pick(&asn, "NAD", &nad), strs(&[&dp, &by, &iv]));
    // DESADV LIN 1082 numbers the despatch's own lines; the buyer's line is RFF+LI.
    let mut desadv_lines = lines.clone();
    desadv_lines[0][0] = "1".into();
    desadv_lines[1][0] = "2".into();
    assert_eq!(edifact_lines(&asn), desadv_lines);

    send_about(
        running,
        org,
        "eurobuy",
        "invoice",
        invoice_of(&order),
        &row.canonical,
    )
    .await?;
    let inv = parsed(&wait_files(&euro, "_INVOIC_", 1).await?[0]);
    assert_eq!(pick(&inv, "RFF", &[(1, 1), (1, 2)])[0], ["ON", "PO-7781"]);
    assert_eq!(
        pick(&inv, "NAD", &nad),
        strs(&[&["SE", "5498765000019", "9"], &by, &dp, &iv])
    );
    assert_eq!(edifact_lines(&inv), lines);

    // An order response for an order without the buyer's PO is refused, not sent with our
    // order number in BAK03 / RFF+ON: the job fails for good, and its dead letter (open,
    // replayable, the payload kept) names the order and the field; no ORDRSP is written.
    let mut no_po = order.clone();
    no_po.customer_po = None;
    running
        .queue
        .enqueue(NewJob::new(
            org,
            "edi.send",
            json!({"partner": "eurobuy", "document": "order_response", "entity": no_po}),
        ))
        .await?;
    eventually(
        Duration::from_secs(30),
        "the refused order response's dead letter",
        || {
            let pool = db.pool.clone();
            async move {
                Ok(count(
                    &pool,
                    "SELECT count(*) FROM dead_letters WHERE kind = 'edi.send' AND state = 'open'",
                )
                .await?
                    == 1)
            }
        },
    )
    .await?;
    let (reason, entity): (String, serde_json::Value) = sqlx::query_as(
        "SELECT reason, payload->'entity' FROM dead_letters WHERE kind = 'edi.send'",
    )
    .fetch_one(&db.pool)
    .await?;
    assert!(
        reason.contains(&format!("order {}", order.order_number)) && reason.contains("customer_po"),
        "{reason}"
    );
    assert_eq!(entity["order_number"], json!(order.order_number));
    assert_eq!(outbound(&euro, "_ORDRSP_").len(), 1);
    daemon.stop().await?;
    Ok(())
}
