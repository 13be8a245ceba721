//! Outbound EDI through mapping files: the mapping-generated documents for the golden inputs
//! (fixtures/edi/golden-inputs) equal the golden files byte for byte, with the same partner
//! profiles and envelope as adapters/edi/tests/generate.rs, and every one re-parses and
//! validates clean with our own parser; property tests that mapping → generate → parse is
//! lossless.
//!
//! `SWITCHYARD_BLESS=1 cargo test -p switchyard-edi-van --test outbound` rewrites the golden
//! files and the outbound example pairs (fixtures/mappings/edi/*.out) after a deliberate
//! change of a mapping or of what edi.send builds; review the diff.

use chrono::NaiveDateTime;
use proptest::prelude::*;
use rust_decimal::Decimal;
use std::path::PathBuf;
use switchyard_core::model::{
    Invoice, InvoiceLine, Order, OrderLine, OrderStatus, PartyRef, Shipment, Uom,
};
use switchyard_edi::ack::FunctionalAck;
use switchyard_edi::generate::{Envelope, OutboundKind};
use switchyard_edi::partner::{AckProfile, DelimiterConfig, PartnerProfile, PartyId};
use switchyard_edi::Standard;
use switchyard_edi_van::outbound::{self as edi_outbound, mapping_name};
use switchyard_edi_van::send::check_clean;
use switchyard_mapping::MappingRegistry;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../..")
}

fn bless() -> bool {
    std::env::var_os("SWITCHYARD_BLESS").is_some()
}

/// `doc` equals the golden file `name` (or replaces it when blessing).
fn assert_golden(name: &str, doc: &str) {
    let path = root().join("fixtures/edi/golden").join(name);
    if bless() {
        std::fs::write(&path, doc).expect("write golden");
        return;
    }
    let expected = std::fs::read_to_string(&path).expect("golden file");
    assert_eq!(doc, expected, "{name}: the mapped document differs");
}

fn profile(standard: Standard, version: &str) -> PartnerProfile {
    let x12 = standard == Standard::X12;
    let mut p = PartnerProfile {
        name: "acme".into(),
        standard,
        us: PartyId {
            qualifier: if x12 { "ZZ" } else { "14" }.into(),
            id: "SWITCHYARD".into(),
            application: None,
        },
        them: PartyId {
            qualifier: if x12 { "01" } else { "14" }.into(),
            id: "ACMERETAIL".into(),
            application: Some("ACMEAP".into()),
        },
        version: version.into(),
        syntax: "UNOC".into(),
        syntax_version: "3".into(),
        association: Some("EAN008".into()),
        delimiters: None,
        test: true,
        acks: AckProfile {
            functional: FunctionalAck::F997,
            ta1_when_requested: true,
            ta1_on_envelope_error: true,
            contrl: true,
            window_hours: 24,
        },
        gs1_company_prefix: Some("0614141".into()),
    };
    if version == "005010" {
        p.delimiters = Some(DelimiterConfig {
            element: '|',
            component: '>',
            repetition: Some('^'),
            segment: '\n',
            release: None,
        });
    }
    p
}

fn env() -> Envelope {
    Envelope {
        interchange: 17,
        group: 42,
        set: 1,
        now: NaiveDateTime::parse_from_str("2026-03-04 09:15", "%Y-%m-%d %H:%M").expect("now"),
        sscc_serial: 1,
    }
}

fn order() -> Order {
    let text = std::fs::read_to_string(root().join("fixtures/edi/golden-inputs/order.json"))
        .expect("golden order");
    serde_json::from_str(&text).expect("a canonical order")
}

/// The golden invoice as edi.send builds it when given its order (`order_id`): with the
/// buyer's PO number and date taken from the order.
fn invoice() -> Invoice {
    let mut i = invoice_as_posted();
    i.fill_from_order(&order());
    i
}

/// The golden invoice as posted: our order number, no buyer's PO.
fn invoice_as_posted() -> Invoice {
    let text = std::fs::read_to_string(root().join("fixtures/edi/golden-inputs/invoice.json"))
        .expect("golden invoice");
    serde_json::from_str(&text).expect("a canonical invoice")
}

fn invoice_doc(registry: &MappingRegistry, p: &PartnerProfile, i: &Invoice) -> String {
    let name = mapping_name(OutboundKind::Invoice, p.standard);
    let mapping = registry.get(name).expect("mapping loaded");
    let input = edi_outbound::invoice_input(p, i, env().now);
    edi_outbound::generate(&mapping, name, OutboundKind::Invoice, p, &env(), &input)
        .unwrap_or_else(|e| panic!("{name}: {e}"))
}

#[test]
fn mapped_invoices_equal_the_golden_files() {
    let registry = registry();
    for (golden, standard, version) in [
        ("810_004010.edi", Standard::X12, "004010"),
        ("810_005010.edi", Standard::X12, "005010"),
        ("INVOIC_D96A.edi", Standard::Edifact, "D96A"),
        ("INVOIC_D01B.edi", Standard::Edifact, "D01B"),
    ] {
        let doc = invoice_doc(&registry, &profile(standard, version), &invoice());
        check_clean(doc.as_bytes()).unwrap_or_else(|e| panic!("{golden}: {e}\n{doc}"));
        assert_golden(golden, &doc);
    }
}

#[test]
fn an_invoice_without_due_date_order_or_tax_ids_still_validates() {
    let registry = registry();
    let mut i = invoice();
    i.due_date = None;
    i.order_number = None;
    i.customer_po = None;
    i.customer_po_date = None;
    i.seller.tax_id = None;
    i.buyer.billing_address = None;
    i.lines[1].description = None;
    for (standard, version) in [(Standard::X12, "004010"), (Standard::Edifact, "D01B")] {
        let doc = invoice_doc(&registry, &profile(standard, version), &i);
        check_clean(doc.as_bytes()).unwrap_or_else(|e| panic!("{e}\n{doc}"));
        assert!(!doc.contains("ITD") && !doc.contains("PAT"), "{doc}");
        assert!(
            !doc.contains("RFF+ON") && !doc.contains("PL5260001246"),
            "{doc}"
        );
        assert!(doc.contains("DE811569869"), "{doc}");
    }
}

/// Issue 10 item 2: the buyer matches an invoice on its own purchase order number. The 810
/// BIG04 (with the PO date in BIG03) and the INVOIC RFF+ON (with DTM 171) carry the PO the
/// order came in with (850 BEG03 / ORDERS BGM 1004), never our sales order number, which
/// goes where the standards put a seller's order number (REF*VN, RFF+VN).
#[test]
fn an_invoice_names_the_buyers_po_not_our_order_number() {
    let registry = registry();
    let o = order();
    assert_eq!(invoice_as_posted().customer_po, None);
    for version in ["004010", "005010"] {
        let doc = invoice_doc(&registry, &profile(Standard::X12, version), &invoice());
        let ic = check_clean(doc.as_bytes()).unwrap_or_else(|e| panic!("{e}\n{doc}"));
        let segs: Vec<_> = (0..ic.len()).map(|i| ic.segment(i)).collect();
        let big = segs.iter().find(|s| s.id() == "BIG").expect("BIG");
        assert_eq!(big.get(4), o.customer_po.as_deref().expect("po"), "{doc}");
        assert_eq!(big.get(3), "20260301", "BIG03 is the PO date: {doc}");
        let refs: Vec<(String, String)> = segs
            .iter()
            .filter(|s| s.id() == "REF" && s.get(1) == "VN")
            .map(|s| (s.get(1).into_owned(), s.get(2).into_owned()))
            .collect();
        assert_eq!(refs, [("VN".to_string(), "SO-1001".to_string())], "{doc}");
    }
    for version in ["D96A", "D01B"] {
        let doc = invoice_doc(&registry, &profile(Standard::Edifact, version), &invoice());
        let ic = check_clean(doc.as_bytes()).unwrap_or_else(|e| panic!("{e}\n{doc}"));
        let segs: Vec<_> = (0..ic.len()).map(|i| ic.segment(i)).collect();
        let rffs: Vec<(String, String)> = segs
            .iter()
            .filter(|s| s.id() == "RFF" && s.component(1, 1) != "VA")
            .map(|s| {
                (
                    s.component(1, 1).into_owned(),
                    s.component(1, 2).into_owned(),
                )
            })
            .collect();
        assert_eq!(
            rffs,
            [
                ("ON".to_string(), "PO-77881".to_string()),
                ("VN".to_string(), "SO-1001".to_string())
            ],
            "{doc}"
        );
        assert!(
            doc.contains("RFF+ON:PO-77881'DTM+171:20260301:102'"),
            "{doc}"
        );
    }
    // An invoice whose buyer's PO we do not know names none: no BIG04, no RFF+ON.
    let x12 = invoice_doc(
        &registry,
        &profile(Standard::X12, "004010"),
        &invoice_as_posted(),
    );
    assert!(x12.contains("BIG*20260306*FV-2026-0042~"), "{x12}");
    let edifact = invoice_doc(
        &registry,
        &profile(Standard::Edifact, "D96A"),
        &invoice_as_posted(),
    );
    assert!(!edifact.contains("RFF+ON"), "{edifact}");
}

/// The same for ship notices: the 856 PRF01/PRF04 and the DESADV RFF+ON/DTM 171 carry the
/// buyer's PO from the order shipped, or the shipment's own when it has one; an order without
/// the buyer's PO gives no PRF and no RFF+ON, never our order number in their place.
#[test]
fn a_ship_notice_names_the_buyers_po_not_our_order_number() {
    let registry = registry();
    let x12 = profile(Standard::X12, "004010");
    let edifact = profile(Standard::Edifact, "D96A");
    let doc = ship_notice(&registry, &x12, &shipment());
    assert!(doc.contains("~HL*2*1*O~PRF*PO-77881***20260301~"), "{doc}");
    let doc = ship_notice(&registry, &edifact, &shipment());
    assert!(
        doc.contains("'RFF+ON:PO-77881'DTM+171:20260301:102'"),
        "{doc}"
    );

    let mut s = shipment();
    s.customer_po = Some("PO-SHIP-9".into());
    s.customer_po_date = None;
    let doc = ship_notice(&registry, &x12, &s);
    assert!(doc.contains("~PRF*PO-SHIP-9~"), "{doc}");

    let mut o = order();
    o.customer_po = None;
    for p in [&x12, &edifact] {
        let name = mapping_name(OutboundKind::ShipNotice, p.standard);
        let mapping = registry.get(name).expect("mapping loaded");
        let input = edi_outbound::ship_notice_input(p, &shipment(), &o, &env()).expect("input");
        let doc =
            edi_outbound::generate(&mapping, name, OutboundKind::ShipNotice, p, &env(), &input)
                .unwrap_or_else(|e| panic!("{name}: {e}"));
        check_clean(doc.as_bytes()).unwrap_or_else(|e| panic!("{e}\n{doc}"));
        assert!(!doc.contains("SO-1001") && !doc.contains("PRF"), "{doc}");
        assert!(!doc.contains("RFF+ON"), "{doc}");
    }
}

/// The golden order as a real partner's PO (edi.net x12.850a) would leave it: the buyer's line
/// identification `000100001`, its part number and the GTIN it sent.
fn order_with_buyer_ids() -> Order {
    let mut o = order();
    o.lines[0].buyer_line = Some("000100001".into());
    o.lines[0].buyer_part = Some("A_QU001-BLK".into());
    o.lines[0].gtin = Some("012345678905".into());
    o.lines[1].buyer_line = Some("20".into());
    o
}

/// Issue 10 item 2: the 855 and ORDRSP echo each PO line's own identification as the buyer
/// sent it, with its part number and GTIN beside our SKU; the 856 items echo the same for the
/// order line they ship.
#[test]
fn answers_echo_the_buyers_line_and_item_identifiers() {
    let registry = registry();
    let o = order_with_buyer_ids();
    // Per line: its identification, then the (qualifier, id) pairs: ours, the buyer's part,
    // the GTIN.
    let expected = [
        [
            "000100001",
            "VP",
            "BAR-A36-1",
            "BP",
            "A_QU001-BLK",
            "UP",
            "012345678905",
        ],
        ["20", "VP", "SHEET-304-16GA", "", "", "", ""],
    ];
    for version in ["004010", "005010"] {
        let p = profile(Standard::X12, version);
        let doc = order_response(&registry, &p, &o);
        let ic = check_clean(doc.as_bytes()).unwrap_or_else(|e| panic!("{e}\n{doc}"));
        let segs: Vec<_> = (0..ic.len()).map(|i| ic.segment(i)).collect();
        let po1: Vec<Vec<String>> = segs
            .iter()
            .filter(|s| s.id() == "PO1")
            .map(|s| {
                [1, 6, 7, 8, 9, 10, 11]
                    .iter()
                    .map(|&i| s.get(i).into_owned())
                    .collect()
            })
            .collect();
        assert_eq!(po1, expected, "{doc}");
        let doc = ship_notice_for(&registry, &p, &shipment(), &o);
        let ic = check_clean(doc.as_bytes()).unwrap_or_else(|e| panic!("{e}\n{doc}"));
        let segs: Vec<_> = (0..ic.len()).map(|i| ic.segment(i)).collect();
        let lin: Vec<Vec<String>> = segs
            .iter()
            .filter(|s| s.id() == "LIN")
            .map(|s| (1..=7).map(|i| s.get(i).into_owned()).collect())
            .collect();
        assert_eq!(lin, expected, "{doc}");
    }
    let mut o = order_with_buyer_ids();
    o.lines[0].buyer_line = Some("10".into());
    o.lines[0].gtin = Some("4000862141404".into());
    let doc = order_response(&registry, &profile(Standard::Edifact, "D96A"), &o);
    check_clean(doc.as_bytes()).unwrap_or_else(|e| panic!("{e}\n{doc}"));
    assert!(
        doc.contains("'LIN+10+5+BAR-A36-1:SA'PIA+1+A_QU001-BLK:IN+4000862141404:SRV'QTY"),
        "{doc}"
    );
    assert!(doc.contains("'LIN+20+5+SHEET-304-16GA:SA'QTY"), "{doc}");
    // An X12 line identification too long for LIN 1082 (an..6) leaves our number.
    let doc = order_response(
        &registry,
        &profile(Standard::Edifact, "D96A"),
        &order_with_buyer_ids(),
    );
    assert!(doc.contains("'LIN+1+5+BAR-A36-1:SA'"), "{doc}");
}

fn segments(doc: &str) -> Vec<Vec<Vec<String>>> {
    let ic = check_clean(doc.as_bytes()).unwrap_or_else(|e| panic!("{e}\n{doc}"));
    // Each segment as its elements, each element as its components (element 0: the tag).
    (0..ic.len())
        .map(|i| {
            let s = ic.segment(i);
            (0..=s.element_count())
                .map(|e| {
                    if e == 0 {
                        return vec![s.id().to_string()];
                    }
                    let mut comps: Vec<String> =
                        (1..=8).map(|c| s.component(e, c).into_owned()).collect();
                    while comps.last().is_some_and(String::is_empty) {
                        comps.pop();
                    }
                    comps
                })
                .collect()
        })
        .collect()
}

/// (tag, element n component 1) for every segment with `tag`, as a flat list of values.
fn elements(segs: &[Vec<Vec<String>>], tag: &str, els: &[usize]) -> Vec<Vec<String>> {
    segs.iter()
        .filter(|s| s[0][0] == tag)
        .map(|s| {
            els.iter()
                .map(|&e| {
                    s.get(e)
                        .and_then(|c| c.first())
                        .cloned()
                        .unwrap_or_default()
                })
                .collect()
        })
        .collect()
}

fn party(role: &str, qualifier: &str, id: &str) -> PartyRef {
    PartyRef {
        role: role.into(),
        qualifier: qualifier.into(),
        id: id.into(),
    }
}

/// Issue 10 item 2: every party the buyer's PO identified is named by the buyer's own id
/// (qualifier and id as sent) on every document about the order; we are named by the partner
/// profile's id; a party that is us (SU) is not echoed from the buyer's PO.
#[test]
fn parties_carry_the_buyers_own_ids_and_ours_come_from_the_profile() {
    let registry = registry();
    let mut o = order();
    o.parties = vec![
        party("BY", "1", "123456789"),
        party("ST", "92", "0007"),
        party("BT", "92", "0001"),
        party("SU", "92", "V-77"),
    ];
    let mut inv = invoice_as_posted();
    inv.fill_from_order(&o);
    let x12 = profile(Standard::X12, "004010");
    let n1 = |doc: &str| elements(&segments(doc), "N1", &[1, 3, 4]);
    let row = |r: &str, q: &str, id: &str| vec![r.to_string(), q.to_string(), id.to_string()];
    let (by, st, bt) = (
        row("BY", "1", "123456789"),
        row("ST", "92", "0007"),
        row("BT", "92", "0001"),
    );
    let x12_docs = [
        order_response(&registry, &x12, &o),
        ship_notice_for(&registry, &x12, &shipment(), &o),
        invoice_doc(&registry, &x12, &inv),
    ];
    let x12_expected = [
        vec![by.clone(), st.clone(), bt.clone()],
        vec![st.clone(), by.clone(), bt.clone()],
        // The profile's ZZ interchange id is N103 ZZ (mutually defined) in code list 66.
        vec![row("SE", "ZZ", "SWITCHYARD"), by, st, bt],
    ];
    for (doc, want) in x12_docs.iter().zip(x12_expected) {
        assert_eq!(n1(doc), want, "{doc}");
    }

    let mut o = order();
    o.parties = vec![
        party("BY", "9", "5412345000013"),
        party("DP", "9", "5412345000020"),
        party("IV", "9", "5412345000099"),
        party("SU", "9", "5498765000019"),
    ];
    let mut inv = invoice_as_posted();
    inv.fill_from_order(&o);
    let edifact = profile(Standard::Edifact, "D96A");
    let nad = |doc: &str| -> Vec<Vec<String>> {
        segments(doc)
            .into_iter()
            .filter(|s| s[0][0] == "NAD")
            .map(|s| {
                let c082 = s.get(2).cloned().unwrap_or_default();
                vec![
                    s[1][0].clone(),
                    c082.first().cloned().unwrap_or_default(),
                    c082.get(2).cloned().unwrap_or_default(),
                ]
            })
            .collect()
    };
    let (by, dp, iv) = (
        row("BY", "5412345000013", "9"),
        row("DP", "5412345000020", "9"),
        row("IV", "5412345000099", "9"),
    );
    let edifact_docs = [
        order_response(&registry, &edifact, &o),
        ship_notice_for(&registry, &edifact, &shipment(), &o),
        invoice_doc(&registry, &edifact, &inv),
    ];
    let edifact_expected = [
        vec![by.clone(), dp.clone(), iv.clone()],
        vec![dp.clone(), by.clone(), iv.clone()],
        // The profile's UNB qualifier 14 (GS1) is 3055 agency 9.
        vec![row("SE", "SWITCHYARD", "9"), by, dp, iv],
    ];
    for (doc, want) in edifact_docs.iter().zip(edifact_expected) {
        assert_eq!(nad(doc), want, "{doc}");
    }
    // A buyer that identified itself in no way is named by our customer number as what it
    // is (91, assigned by the supplier), never as the buyer's own (92).
    assert_eq!(
        nad(&order_response(&registry, &edifact, &order()))[0],
        row("BY", "ACME", "91")
    );
    assert_eq!(
        nad(&invoice_doc(&registry, &edifact, &invoice()))[1],
        row("BY", "ACME", "91")
    );
}

/// Issue 10 item 2: the invoice and ship notice lines carry the buyer's PO line identification,
/// part number and GTIN of the order line: 810 IT101 (+ BP/UP pairs), INVOIC LIN 1082 with
/// PIA and RFF+LI, DESADV PIA and RFF+LI.
#[test]
fn invoices_and_ship_notices_carry_the_buyers_line_and_item_ids() {
    let registry = registry();
    let o = order_with_buyer_ids();
    let mut inv = invoice_as_posted();
    inv.fill_from_order(&o);
    for version in ["004010", "005010"] {
        let doc = invoice_doc(&registry, &profile(Standard::X12, version), &inv);
        assert_eq!(
            elements(&segments(&doc), "IT1", &[1, 6, 7, 8, 9, 10, 11]),
            [
                vec![
                    "000100001",
                    "VP",
                    "BAR-A36-1",
                    "BP",
                    "A_QU001-BLK",
                    "UP",
                    "012345678905"
                ],
                vec!["20", "VP", "SHEET-304-16GA", "", "", "", ""],
            ],
            "{doc}"
        );
    }
    let mut o = order_with_buyer_ids();
    o.lines[0].buyer_line = Some("10".into());
    o.lines[0].gtin = Some("4000862141404".into());
    let mut inv = invoice_as_posted();
    inv.fill_from_order(&o);
    let edifact = profile(Standard::Edifact, "D01B");
    let doc = invoice_doc(&registry, &edifact, &inv);
    let segs = segments(&doc);
    let lin_ids = |segs: &[Vec<Vec<String>>]| -> Vec<(String, Vec<String>, Vec<String>, String)> {
        // Per LIN: its 1082, the PIA's two ids (id:qualifier), the RFF+LI value.
        let mut out = Vec::new();
        for s in segs {
            match s[0][0].as_str() {
                "LIN" => out.push((s[1][0].clone(), Vec::new(), Vec::new(), String::new())),
                "PIA" => {
                    let l = out.last_mut().expect("PIA after LIN");
                    l.1 = s.get(2).cloned().unwrap_or_default();
                    l.2 = s.get(3).cloned().unwrap_or_default();
                }
                "RFF" if s[1][0] == "LI" => {
                    out.last_mut().expect("RFF after LIN").3 = s[1][1].clone()
                }
                _ => {}
            }
        }
        out
    };
    let v = |a: &[&str]| a.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    assert_eq!(
        lin_ids(&segs),
        [
            (
                "10".to_string(),
                v(&["A_QU001-BLK", "IN"]),
                v(&["4000862141404", "SRV"]),
                "10".to_string()
            ),
            ("20".to_string(), vec![], vec![], "20".to_string()),
        ],
        "{doc}"
    );
    // DESADV: LIN 1082 is the despatch's own running number; the buyer's line is RFF+LI.
    let doc = ship_notice_for(&registry, &edifact, &shipment(), &o);
    assert_eq!(
        lin_ids(&segments(&doc)),
        [
            (
                "1".to_string(),
                v(&["A_QU001-BLK", "IN"]),
                v(&["4000862141404", "SRV"]),
                "10".to_string()
            ),
            ("2".to_string(), vec![], vec![], "20".to_string()),
        ],
        "{doc}"
    );
    // An X12 line identification too long for INVOIC LIN 1082 (an..6) is in RFF+LI in full.
    let mut inv = invoice_as_posted();
    inv.fill_from_order(&order_with_buyer_ids());
    let doc = invoice_doc(&registry, &edifact, &inv);
    let ids = lin_ids(&segments(&doc));
    assert_eq!(
        (ids[0].0.as_str(), ids[0].3.as_str()),
        ("1", "000100001"),
        "{doc}"
    );
}

/// Issue 10 item 2: the 855 BAK03 / ORDRSP RFF+ON is the buyer's PO number, mandatory: an
/// order without one is refused with an error naming the order and the field, never answered
/// with our order number in its place.
#[test]
fn an_order_without_the_buyers_po_gets_no_order_response() {
    let mut o = order();
    o.customer_po = None;
    let err = edi_outbound::check_order_response(&o).expect_err("no PO, no answer");
    let msg = err.to_string();
    assert!(
        msg.contains("order SO-1001") && msg.contains("customer_po"),
        "{msg}"
    );
    assert!(msg.contains("BAK03") && msg.contains("RFF+ON"), "{msg}");
    o.customer_po = Some("  ".into());
    assert!(edi_outbound::check_order_response(&o).is_err());
    assert!(edi_outbound::check_order_response(&order()).is_ok());
    // The mappings refuse it too, should they be run without the check.
    let registry = registry();
    let mut o = order();
    o.customer_po = None;
    for (p, names) in [
        (profile(Standard::X12, "004010"), "BAK.03"),
        (profile(Standard::Edifact, "D96A"), "customer_po"),
    ] {
        let name = mapping_name(OutboundKind::OrderResponse, p.standard);
        let mapping = registry.get(name).expect("mapping loaded");
        let input = edi_outbound::order_response_input(&p, &o, env().now);
        let err = edi_outbound::generate(
            &mapping,
            name,
            OutboundKind::OrderResponse,
            &p,
            &env(),
            &input,
        )
        .expect_err("no PO");
        assert!(err.to_string().contains(names), "{name}: {err}");
    }
}

fn ship_notice_for(
    registry: &MappingRegistry,
    p: &PartnerProfile,
    s: &Shipment,
    o: &Order,
) -> String {
    let name = mapping_name(OutboundKind::ShipNotice, p.standard);
    let mapping = registry.get(name).expect("mapping loaded");
    let input = edi_outbound::ship_notice_input(p, s, o, &env()).expect("input");
    edi_outbound::generate(&mapping, name, OutboundKind::ShipNotice, p, &env(), &input)
        .unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn registry() -> MappingRegistry {
    let (registry, report) = MappingRegistry::load(root().join("mappings"));
    assert!(report.is_clean(), "{:?}", report.failed);
    registry
}

fn order_response(registry: &MappingRegistry, p: &PartnerProfile, o: &Order) -> String {
    let name = mapping_name(OutboundKind::OrderResponse, p.standard);
    let mapping = registry.get(name).expect("mapping loaded");
    let input = edi_outbound::order_response_input(p, o, env().now);
    edi_outbound::generate(
        &mapping,
        name,
        OutboundKind::OrderResponse,
        p,
        &env(),
        &input,
    )
    .unwrap_or_else(|e| panic!("{name}: {e}"))
}

#[test]
fn mapped_order_responses_equal_the_golden_files() {
    let registry = registry();
    for (golden, standard, version) in [
        ("855_004010.edi", Standard::X12, "004010"),
        ("855_005010.edi", Standard::X12, "005010"),
        ("ORDRSP_D96A.edi", Standard::Edifact, "D96A"),
        ("ORDRSP_D01B.edi", Standard::Edifact, "D01B"),
    ] {
        let doc = order_response(&registry, &profile(standard, version), &order());
        check_clean(doc.as_bytes()).unwrap_or_else(|e| panic!("{golden}: {e}\n{doc}"));
        assert_golden(golden, &doc);
    }
}

#[test]
fn a_cancelled_order_is_rejected_line_by_line_and_still_validates() {
    let registry = registry();
    let mut o = order();
    o.status = OrderStatus::Cancelled;
    o.shipping_address = None;
    o.ordered_at = None;
    let doc = order_response(&registry, &profile(Standard::X12, "004010"), &o);
    check_clean(doc.as_bytes()).unwrap_or_else(|e| panic!("{e}\n{doc}"));
    assert!(doc.contains("BAK*00*RJ*PO-77881*20260304"), "{doc}");
    assert_eq!(doc.matches("ACK*IR*").count(), 2, "{doc}");
    assert!(!doc.contains("N1*"), "{doc}");
    let doc = order_response(&registry, &profile(Standard::Edifact, "D96A"), &o);
    check_clean(doc.as_bytes()).unwrap_or_else(|e| panic!("{e}\n{doc}"));
    assert!(doc.contains("BGM+231+SO-1001+27'"), "{doc}");
    assert_eq!(doc.matches("LIN+").count(), 2, "{doc}");
    assert!(doc.contains("+7+BAR-A36-1:SA'"), "{doc}");
    assert!(!doc.contains("NAD+DP"), "{doc}");
}

fn shipment() -> Shipment {
    let text = std::fs::read_to_string(root().join("fixtures/edi/golden-inputs/shipment.json"))
        .expect("golden shipment");
    serde_json::from_str(&text).expect("a canonical shipment")
}

fn ship_notice(registry: &MappingRegistry, p: &PartnerProfile, s: &Shipment) -> String {
    let name = mapping_name(OutboundKind::ShipNotice, p.standard);
    let mapping = registry.get(name).expect("mapping loaded");
    let input = edi_outbound::ship_notice_input(p, s, &order(), &env()).expect("input");
    edi_outbound::generate(&mapping, name, OutboundKind::ShipNotice, p, &env(), &input)
        .unwrap_or_else(|e| panic!("{name}: {e}"))
}

#[test]
fn mapped_ship_notices_equal_the_golden_files() {
    let registry = registry();
    for (golden, standard, version) in [
        ("856_004010.edi", Standard::X12, "004010"),
        ("856_005010.edi", Standard::X12, "005010"),
        ("DESADV_D96A.edi", Standard::Edifact, "D96A"),
        ("DESADV_D01B.edi", Standard::Edifact, "D01B"),
    ] {
        let doc = ship_notice(&registry, &profile(standard, version), &shipment());
        check_clean(doc.as_bytes()).unwrap_or_else(|e| panic!("{golden}: {e}\n{doc}"));
        assert_golden(golden, &doc);
    }
}

#[test]
fn ship_notice_ssccs_are_checked_or_minted_and_hl_links_follow_the_levels() {
    let registry = registry();
    let p = profile(Standard::X12, "004010");
    let mut s = shipment();
    s.packages[0].sscc = Some("106141412345678907".into());
    let err = edi_outbound::ship_notice_input(&p, &s, &order(), &env()).unwrap_err();
    assert!(err.to_string().contains("106141412345678907"), "{err}");
    // Three packages, the last with two lines: HL ids ascend, items hang under their pack.
    let mut s = shipment();
    let mut third = s.packages[1].clone();
    third.lines.push(third.lines[0].clone());
    s.packages.push(third);
    let doc = ship_notice(&registry, &p, &s);
    check_clean(doc.as_bytes()).unwrap_or_else(|e| panic!("{e}\n{doc}"));
    assert!(doc.contains("HL*7*2*P~"), "{doc}");
    assert!(
        doc.contains("HL*8*7*I~") && doc.contains("HL*9*7*I~"),
        "{doc}"
    );
    assert!(doc.contains("CTT*9~"), "{doc}");
    let mans: Vec<&str> = doc
        .split('~')
        .filter(|s| s.starts_with("MAN*GM*"))
        .collect();
    assert_eq!(mans.len(), 3);
    assert!(
        mans.iter()
            .all(|m| switchyard_edi::generate::sscc_valid(&m[7..])),
        "{mans:?}"
    );
}

#[test]
fn edifact_release_characters_survive_the_round_trip() {
    let registry = registry();
    let doc = invoice_doc(&registry, &profile(Standard::Edifact, "D96A"), &invoice());
    assert!(
        doc.contains("it?'s 16ga"),
        "apostrophe must be released: {doc}"
    );
    let ic = check_clean(doc.as_bytes()).unwrap_or_else(|e| panic!("{e}\n{doc}"));
    let imd: Vec<String> = (0..ic.len())
        .map(|i| ic.segment(i))
        .filter(|s| s.id() == "IMD")
        .map(|s| s.component(3, 4).into_owned())
        .collect();
    assert_eq!(imd, ["Flat bar A36", "Sheet 304L, it's 16ga"]);
}

fn arb_text() -> impl Strategy<Value = String> {
    // Printable text including every EDIFACT special character, so release escaping is exercised.
    proptest::string::string_regex("[A-Za-z0-9 ?+:'*.,-]{1,30}")
        .expect("regex")
        .prop_filter("not blank", |s| !s.trim().is_empty())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// What goes into an ORDRSP comes back out of our parser unchanged: PO number, SKUs (with
    /// release characters), quantities, prices and the delivery party's name.
    #[test]
    fn ordrsp_mapping_generate_parse_is_lossless(
        skus in proptest::collection::vec("[A-Z0-9?+:'-]{1,20}", 1..6),
        qty_cents in proptest::collection::vec(1u32..1_000_000, 6),
        po in "[A-Z0-9?'+-]{1,20}",
        name in arb_text(),
    ) {
        let registry = registry();
        let mut o = order();
        o.customer_po = Some(po.clone());
        if let Some(a) = o.shipping_address.as_mut() { a.name = Some(name.trim().to_string()); }
        o.lines = skus.iter().enumerate().map(|(i, sku)| OrderLine {
            buyer_line: None, buyer_part: None, gtin: None,
            line_number: i as u32 + 1, sku: sku.clone(), description: None,
            quantity: Decimal::new(qty_cents[i] as i64, 2), uom: Uom::Kg, unit_price: Decimal::new(qty_cents[5 - i] as i64, 3), requested_date: None,
        }).collect();
        let doc = order_response(&registry, &profile(Standard::Edifact, "D96A"), &o);
        let ic = check_clean(doc.as_bytes()).unwrap_or_else(|e| panic!("{e}\n{doc}"));
        let segs: Vec<_> = (0..ic.len()).map(|i| ic.segment(i)).collect();
        let rff = segs.iter().find(|s| s.id() == "RFF").expect("rff");
        prop_assert_eq!(rff.component(1, 2).into_owned(), po);
        let nad = segs.iter().find(|s| s.id() == "NAD" && s.get(1) == "DP").expect("nad");
        prop_assert_eq!(nad.component(4, 1).into_owned(), name.trim().to_string());
        let lins: Vec<String> = segs.iter().filter(|s| s.id() == "LIN").map(|s| s.component(3, 1).into_owned()).collect();
        prop_assert_eq!(lins, skus);
        let qtys: Vec<Decimal> = segs.iter().filter(|s| s.id() == "QTY").map(|s| s.component(1, 2).parse().expect("qty")).collect();
        prop_assert_eq!(qtys, o.lines.iter().map(|l| l.quantity).collect::<Vec<_>>());
        let prices: Vec<Decimal> = segs.iter().filter(|s| s.id() == "PRI").map(|s| s.component(1, 2).parse().expect("pri")).collect();
        prop_assert_eq!(prices, o.lines.iter().map(|l| l.unit_price).collect::<Vec<_>>());
    }

    /// Same for the X12 810: SKUs, quantities, prices and the TDS total (exact cents).
    #[test]
    fn x12_810_mapping_generate_parse_is_lossless(
        skus in proptest::collection::vec("[A-Z0-9-]{1,20}", 1..6),
        cents in proptest::collection::vec(1u32..10_000_000, 6),
    ) {
        let registry = registry();
        let mut inv = invoice();
        inv.lines = skus.iter().enumerate().map(|(i, sku)| InvoiceLine {
            line_number: i as u32 + 1, buyer_line: None, buyer_part: None, gtin: None, sku: sku.clone(), description: None,
            quantity: Decimal::from(i as u32 + 1), uom: Uom::Ea, unit_price: Decimal::new(cents[i] as i64, 2), vat_rate: Decimal::from(23),
        }).collect();
        let doc = invoice_doc(&registry, &profile(Standard::X12, "004010"), &inv);
        let ic = check_clean(doc.as_bytes()).unwrap_or_else(|e| panic!("{e}\n{doc}"));
        let segs: Vec<_> = (0..ic.len()).map(|i| ic.segment(i)).collect();
        let it1: Vec<(String, Decimal, Decimal)> = segs.iter().filter(|s| s.id() == "IT1")
            .map(|s| (s.get(7).into_owned(), s.get(2).parse().expect("q"), s.get(4).parse().expect("p"))).collect();
        prop_assert_eq!(it1, inv.lines.iter().map(|l| (l.sku.clone(), l.quantity, l.unit_price)).collect::<Vec<_>>());
        let tds = segs.iter().find(|s| s.id() == "TDS").expect("tds");
        prop_assert_eq!(tds.get(1).parse::<Decimal>().expect("tds"), inv.gross_total() * Decimal::ONE_HUNDRED);
    }
}

/// The example pairs under fixtures/mappings/edi (run by `switchyard check`) start from exactly
/// the input edi.send builds for the golden entities, so they cannot drift from the Rust side.
#[test]
fn example_pair_inputs_are_what_edi_send_builds() {
    for (pair, standard, version) in [
        ("855.out", Standard::X12, "004010"),
        ("ordrsp.out", Standard::Edifact, "D96A"),
        ("810.out", Standard::X12, "004010"),
        ("invoic.out", Standard::Edifact, "D96A"),
        ("856.out", Standard::X12, "004010"),
        ("desadv.out", Standard::Edifact, "D96A"),
    ] {
        let p = profile(standard, version);
        let built = &match &pair[..3] {
            "855" | "ord" => edi_outbound::order_response_input(&p, &order(), env().now),
            "810" | "inv" => edi_outbound::invoice_input(&p, &invoice(), env().now),
            _ => edi_outbound::ship_notice_input(&p, &shipment(), &order(), &env()).expect("input"),
        };
        let path = root()
            .join("fixtures/mappings/edi")
            .join(pair)
            .join("golden.input.json");
        if bless() {
            let registry = registry();
            let mapping = registry
                .get(&format!("edi/{pair}"))
                .expect("mapping loaded");
            let out = mapping
                .map_record(built, &mut switchyard_mapping::RunState::default())
                .unwrap_or_else(|e| panic!("{pair}: {e}"));
            let pretty =
                |v: &serde_json::Value| serde_json::to_string_pretty(v).expect("json") + "\n";
            std::fs::write(&path, pretty(built)).expect("write input");
            std::fs::write(path.with_file_name("golden.expected.json"), pretty(&out))
                .expect("write expected");
            continue;
        }
        let text = std::fs::read_to_string(&path).expect("example pair input");
        let stored: serde_json::Value = serde_json::from_str(&text).expect("json");
        assert_eq!(
            &stored, built,
            "{pair}: example input differs from what edi.send builds"
        );
    }
}
