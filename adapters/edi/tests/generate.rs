//! The Rust-built ship notices (856 / DESADV): golden files under fixtures/edi/golden, every one
//! re-parses and validates clean with our own parser, SSCCs checked. The documents generated
//! through mapping files (855/ORDRSP, 810/INVOIC) are tested in hub/daemon/tests/edi_outbound.rs.

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
    for (name, doc) in [(
        "856_004010.edi",
        generate::ship_notice(&p, &shipment(), &order(), &env()),
    )] {
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
    for (name, doc) in [(
        "856_005010.edi",
        generate::ship_notice(&p, &shipment(), &order(), &env()),
    )] {
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
        for (kind, doc) in [(
            "DESADV",
            generate::ship_notice(&p, &shipment(), &order(), &env()),
        )] {
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
