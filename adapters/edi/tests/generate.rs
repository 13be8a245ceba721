//! Generated documents: golden files under fixtures/edi/golden, every one re-parses and
//! validates clean with our own parser, and a property test that generate → parse is lossless.

use chrono::{NaiveDate, NaiveDateTime, TimeZone, Utc};
use proptest::prelude::*;
use rust_decimal::Decimal;
use rust_decimal_macros::dec;
use std::path::PathBuf;
use switchyard_core::model::*;
use switchyard_edi::ack::FunctionalAck;
use switchyard_edi::generate::{self, Envelope, GenerateError};
use switchyard_edi::partner::{AckProfile, DelimiterConfig, PartnerProfile, PartyId};
use switchyard_edi::validate::validate;
use switchyard_edi::{read_all, Standard, Unit};

fn golden_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/edi/golden")
}

fn profile(standard: Standard, version: &str) -> PartnerProfile {
    PartnerProfile {
        name: "acme".into(),
        standard,
        us: PartyId {
            qualifier: if standard == Standard::X12 {
                "ZZ".into()
            } else {
                "14".into()
            },
            id: "SWITCHYARD".into(),
            application: None,
        },
        them: PartyId {
            qualifier: if standard == Standard::X12 {
                "01".into()
            } else {
                "14".into()
            },
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
    }
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

fn address(name: &str) -> Address {
    Address {
        name: Some(name.into()),
        line1: Some("100 Main St".into()),
        line2: Some("Dock 4".into()),
        city: Some("Springfield".into()),
        region: Some("IL".into()),
        postal_code: Some("62701".into()),
        country: Some("US".into()),
        phone: None,
        email: None,
    }
}

fn order() -> Order {
    Order {
        order_number: "SO-1001".into(),
        customer_id: "ACME".into(),
        status: OrderStatus::Confirmed,
        currency: "USD".into(),
        ordered_at: Some(Utc.with_ymd_and_hms(2026, 3, 1, 8, 0, 0).unwrap()),
        requested_delivery: NaiveDate::from_ymd_opt(2026, 3, 10),
        lines: vec![
            OrderLine {
                line_number: 1,
                sku: "BAR-A36-1".into(),
                description: Some("Flat bar A36 1\" x 1/4' (20 ft)".into()),
                quantity: dec!(12),
                uom: Uom::Ea,
                unit_price: dec!(18.40),
                requested_date: None,
            },
            OrderLine {
                line_number: 2,
                sku: "SHEET-304-16GA".into(),
                description: Some("Sheet 304L 16ga + PVC film: 4x8".into()),
                quantity: dec!(2.5),
                uom: Uom::Cwt,
                unit_price: dec!(212.00),
                requested_date: NaiveDate::from_ymd_opt(2026, 3, 12),
            },
        ],
        billing_address: Some(address("Acme Retail")),
        shipping_address: Some(address("Acme DC 7")),
        supplier_order_ref: None,
        customer_po: Some("PO-77881".into()),
        tracking_numbers: vec![],
    }
}

fn shipment() -> Shipment {
    Shipment {
        shipment_number: "SH-5001".into(),
        order_number: "SO-1001".into(),
        carrier: Some("UPSN".into()),
        service: Some("Ground".into()),
        shipped_at: Some(Utc.with_ymd_and_hms(2026, 3, 5, 14, 30, 0).unwrap()),
        packages: vec![
            Package {
                sscc: Some("106141412345678908".into()),
                tracking_number: Some("1Z999AA10123456784".into()),
                weight: Some(dec!(40.5)),
                weight_uom: Some(Uom::Lb),
                lines: vec![PackageLine {
                    sku: "BAR-A36-1".into(),
                    quantity: dec!(12),
                    uom: Uom::Ea,
                }],
            },
            Package {
                sscc: None,
                tracking_number: None,
                weight: Some(dec!(260)),
                weight_uom: Some(Uom::Lb),
                lines: vec![PackageLine {
                    sku: "SHEET-304-16GA".into(),
                    quantity: dec!(2.5),
                    uom: Uom::Cwt,
                }],
            },
        ],
        events: vec![],
    }
}

fn party(id: &str, name: &str, tax: &str) -> Customer {
    Customer {
        id: id.into(),
        name: name.into(),
        tax_id: Some(tax.into()),
        email: None,
        billing_address: Some(address(name)),
        shipping_address: None,
        price_tier: None,
    }
}

fn invoice() -> Invoice {
    Invoice {
        invoice_number: "FV-2026-0042".into(),
        order_number: Some("SO-1001".into()),
        issue_date: NaiveDate::from_ymd_opt(2026, 3, 6).unwrap(),
        due_date: NaiveDate::from_ymd_opt(2026, 4, 5),
        currency: "EUR".into(),
        seller: party("SWITCHYARD", "Switchyard Steel", "PL5260001246"),
        buyer: party("ACME", "Acme Retail", "DE811569869"),
        lines: vec![
            InvoiceLine {
                line_number: 1,
                sku: "BAR-A36-1".into(),
                description: Some("Flat bar A36".into()),
                quantity: dec!(12),
                uom: Uom::Ea,
                unit_price: dec!(18.40),
                vat_rate: dec!(23),
            },
            InvoiceLine {
                line_number: 2,
                sku: "SHEET-304-16GA".into(),
                description: Some("Sheet 304L, it's 16ga".into()),
                quantity: dec!(2.5),
                uom: Uom::Cwt,
                unit_price: dec!(212.00),
                vat_rate: dec!(8),
            },
        ],
    }
}

/// Parses `text` and asserts exactly one interchange that validates without any issue at all.
fn assert_clean(name: &str, text: &str) -> Box<switchyard_edi::Interchange> {
    let mut units = read_all(text.as_bytes());
    assert_eq!(units.len(), 1, "{name}: expected one interchange");
    let Some(Unit::Interchange(ic)) = units.pop() else {
        panic!("{name}: not an interchange")
    };
    let v = validate(&ic);
    let problems: Vec<String> = v.issues.iter().map(|i| i.to_string()).collect();
    assert!(
        problems.is_empty(),
        "{name} does not validate clean:\n{}\n{text}",
        problems.join("\n")
    );
    ic
}

fn golden(name: &str, text: &str) {
    let path = golden_dir().join(name);
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, text).expect("write golden");
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "golden file {} missing ({e}); run with UPDATE_GOLDEN=1 once",
            path.display()
        )
    });
    assert_eq!(text, expected, "{name} differs from its golden file");
}

#[test]
fn golden_x12_004010() {
    let p = profile(Standard::X12, "004010");
    for (name, doc) in [
        (
            "855_004010.edi",
            generate::order_response(&p, &order(), &env()),
        ),
        (
            "856_004010.edi",
            generate::ship_notice(&p, &shipment(), &order(), &env()),
        ),
        ("810_004010.edi", generate::invoice(&p, &invoice(), &env())),
    ] {
        let doc = doc.expect(name);
        assert_clean(name, &doc);
        golden(name, &doc);
    }
}

#[test]
fn golden_x12_005010_with_partner_delimiters() {
    let mut p = profile(Standard::X12, "005010");
    p.delimiters = Some(DelimiterConfig {
        element: '|',
        component: '>',
        repetition: Some('^'),
        segment: '\n',
        release: None,
    });
    for (name, doc) in [
        (
            "855_005010.edi",
            generate::order_response(&p, &order(), &env()),
        ),
        (
            "856_005010.edi",
            generate::ship_notice(&p, &shipment(), &order(), &env()),
        ),
        ("810_005010.edi", generate::invoice(&p, &invoice(), &env())),
    ] {
        let doc = doc.expect(name);
        let ic = assert_clean(name, &doc);
        assert_eq!(ic.delimiters.element, b'|');
        assert_eq!(ic.groups[0].sets[0].version, "005010");
        golden(name, &doc);
    }
}

#[test]
fn golden_edifact_d96a_and_d01b() {
    for v in ["D96A", "D01B"] {
        let p = profile(Standard::Edifact, v);
        for (kind, doc) in [
            ("ORDRSP", generate::order_response(&p, &order(), &env())),
            (
                "DESADV",
                generate::ship_notice(&p, &shipment(), &order(), &env()),
            ),
            ("INVOIC", generate::invoice(&p, &invoice(), &env())),
        ] {
            let name = format!("{kind}_{v}.edi");
            let doc = doc.expect(&name);
            let ic = assert_clean(&name, &doc);
            assert_eq!(ic.groups[0].sets[0].set_type, kind);
            golden(&name, &doc);
        }
    }
}

#[test]
fn generated_desadv_and_856_carry_valid_ssccs() {
    let p = profile(Standard::X12, "004010");
    let doc = generate::ship_notice(&p, &shipment(), &order(), &env()).expect("856");
    let ic = assert_clean("856", &doc);
    let ssccs: Vec<String> = (0..ic.len())
        .map(|i| ic.segment(i))
        .filter(|s| s.id() == "MAN")
        .map(|s| s.get(2).into_owned())
        .collect();
    assert_eq!(ssccs.len(), 2);
    assert!(ssccs.iter().all(|s| generate::sscc_valid(s)), "{ssccs:?}");
    let mut bad = shipment();
    bad.packages[0].sscc = Some("106141412345678907".into());
    assert_eq!(
        generate::ship_notice(&p, &bad, &order(), &env()),
        Err(GenerateError::BadSscc {
            index: 1,
            sscc: "106141412345678907".into()
        })
    );
}

#[test]
fn edifact_release_characters_survive_the_round_trip() {
    let p = profile(Standard::Edifact, "D96A");
    let doc = generate::invoice(&p, &invoice(), &env()).expect("invoic");
    assert!(
        doc.contains("it?'s 16ga"),
        "apostrophe must be released: {doc}"
    );
    let ic = assert_clean("INVOIC", &doc);
    let imd: Vec<String> = (0..ic.len())
        .map(|i| ic.segment(i))
        .filter(|s| s.id() == "IMD")
        .map(|s| s.component(3, 4).into_owned())
        .collect();
    assert_eq!(
        imd,
        vec![
            "Flat bar A36".to_string(),
            "Sheet 304L, it's 16ga".to_string()
        ]
    );
}

#[test]
fn invoice_totals_are_in_tds_and_moa() {
    let inv = invoice();
    let x12 = generate::invoice(&profile(Standard::X12, "004010"), &inv, &env()).expect("810");
    // 12*18.40 = 220.80 (+23% 50.78) ; 2.5*212 = 530 (+8% 42.40) → net 750.80, gross 843.98
    assert!(x12.contains("TDS*84398*75080~"), "{x12}");
    let edi = generate::invoice(&profile(Standard::Edifact, "D01B"), &inv, &env()).expect("invoic");
    assert!(
        edi.contains("MOA+86:843.98'") && edi.contains("MOA+176:93.18'"),
        "{edi}"
    );
}

fn arb_text() -> impl Strategy<Value = String> {
    // Printable text including every EDIFACT special character, so release escaping is exercised.
    proptest::string::string_regex("[A-Za-z0-9 ?+:'*.,-]{1,30}")
        .expect("regex")
        .prop_filter("not blank", |s| !s.trim().is_empty())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// What goes into an ORDRSP comes back out of our parser unchanged: PO number, SKUs (with
    /// release characters), quantities, prices and dates.
    #[test]
    fn ordrsp_generate_parse_is_lossless(
        skus in proptest::collection::vec("[A-Z0-9?+:'-]{1,20}", 1..6),
        qty_cents in proptest::collection::vec(1u32..1_000_000, 6),
        po in "[A-Z0-9?'+-]{1,20}",
        name in arb_text(),
    ) {
        let mut o = order();
        o.customer_po = Some(po.clone());
        if let Some(a) = o.shipping_address.as_mut() { a.name = Some(name.trim().to_string()); }
        o.lines = skus.iter().enumerate().map(|(i, sku)| OrderLine {
            line_number: i as u32 + 1, sku: sku.clone(), description: None,
            quantity: Decimal::new(qty_cents[i] as i64, 2), uom: Uom::Kg, unit_price: Decimal::new(qty_cents[5 - i] as i64, 3), requested_date: None,
        }).collect();
        let doc = generate::order_response(&profile(Standard::Edifact, "D96A"), &o, &env()).expect("ordrsp");
        let ic = assert_clean("ORDRSP", &doc);
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

    /// Same for the X12 810: SKUs, quantities, prices and the TDS total.
    #[test]
    fn x12_810_generate_parse_is_lossless(
        skus in proptest::collection::vec("[A-Z0-9-]{1,20}", 1..6),
        cents in proptest::collection::vec(1u32..10_000_000, 6),
    ) {
        let mut inv = invoice();
        inv.lines = skus.iter().enumerate().map(|(i, sku)| InvoiceLine {
            line_number: i as u32 + 1, sku: sku.clone(), description: None,
            quantity: Decimal::from(i as u32 + 1), uom: Uom::Ea, unit_price: Decimal::new(cents[i] as i64, 2), vat_rate: dec!(23),
        }).collect();
        let doc = generate::invoice(&profile(Standard::X12, "004010"), &inv, &env()).expect("810");
        let ic = assert_clean("810", &doc);
        let segs: Vec<_> = (0..ic.len()).map(|i| ic.segment(i)).collect();
        let it1: Vec<(String, Decimal, Decimal)> = segs.iter().filter(|s| s.id() == "IT1")
            .map(|s| (s.get(7).into_owned(), s.get(2).parse().expect("q"), s.get(4).parse().expect("p"))).collect();
        prop_assert_eq!(it1, inv.lines.iter().map(|l| (l.sku.clone(), l.quantity, l.unit_price)).collect::<Vec<_>>());
        let tds = segs.iter().find(|s| s.id() == "TDS").expect("tds");
        prop_assert_eq!(tds.get(1).parse::<Decimal>().expect("tds"), inv.gross_total() * Decimal::ONE_HUNDRED);
    }
}
