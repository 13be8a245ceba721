//! JPK_V7M (3) for a month with every VAT rate: the file validates against our schema of the
//! subset (`xmllint --schema`), and its totals, recomputed here from the rows it holds, match
//! the declaration and the control sums.

mod common;

use chrono::{NaiveDate, TimeZone, Utc};
use rust_decimal::Decimal;
use rust_decimal_macros::dec;
use std::collections::BTreeMap;
use std::path::Path;
use switchyard_optima::jpk::{self, KsefMark, Period, SaleRow, Taxpayer};
use switchyard_optima::polish::{Summary, VatRate};
use switchyard_optima::xml;

fn xsd() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("xsd/jpk_v7m_3.xsd")
}

fn taxpayer() -> Taxpayer {
    Taxpayer {
        nip: "5260250274".into(),
        name: "Stal-Hurt Sp. z o.o. — Łódź".into(),
        email: "ksiegowosc@stalhurt.example".into(),
        tax_office_code: "1471".into(),
    }
}

fn row(number: &str, day: u32, ksef: KsefMark, lines: &[(VatRate, Decimal)]) -> SaleRow {
    SaleRow {
        contractor_nip: "7811234560".into(),
        contractor_name: "Zakład Gęś & Syn".into(),
        number: number.into(),
        issue_date: NaiveDate::from_ymd_opt(2026, 2, day).unwrap(),
        ksef,
        rates: Summary::from_lines(lines.iter().copied()).rates,
    }
}

fn month() -> Vec<SaleRow> {
    vec![
        row(
            "FV/2026/02/0001",
            3,
            KsefMark::Number("5260250274-20260203-0A1B2C-3D4E5F-9A".into()),
            &[
                (VatRate::R23, dec!(600.25)),
                (VatRate::R23, dec!(400.25)),
                (VatRate::R8, dec!(100.00)),
                (VatRate::R5, dec!(40.00)),
                (VatRate::R0, dec!(10.00)),
                (VatRate::Zw, dec!(7.00)),
                (VatRate::Np, dec!(8.00)),
                (VatRate::Oo, dec!(9.00)),
            ],
        ),
        row(
            "FV/2026/02/0002",
            27,
            KsefMark::Bfk,
            &[(VatRate::R23, dec!(0.49))],
        ),
    ]
}

/// Every element's text by name, in document order.
fn texts(el: &xml::Element, out: &mut Vec<(String, String)>) {
    out.push((el.name.clone(), el.text.trim().to_owned()));
    for c in &el.children {
        texts(c, out);
    }
}

fn amount(s: &str) -> Decimal {
    s.parse().unwrap()
}

#[test]
fn a_month_with_every_rate_validates_and_adds_up() {
    let created = Utc.with_ymd_and_hms(2026, 3, 10, 9, 30, 0).unwrap();
    let (text, totals) = jpk::write(
        Period {
            year: 2026,
            month: 2,
        },
        false,
        &taxpayer(),
        created,
        &month(),
    )
    .unwrap();
    common::validate_against(&xsd(), text.as_bytes()).unwrap_or_else(|e| panic!("{e}\n{text}"));

    let root = xml::parse(&text).unwrap();
    assert_eq!(root.ns.as_deref(), Some(jpk::NS_V3));
    let ew = root.child("Ewidencja").unwrap();
    let rows: Vec<&xml::Element> = ew.children_named("SprzedazWiersz").collect();
    assert_eq!(rows.len(), 2);
    assert!(rows[0].child("NrKSeF").is_some() && rows[1].child("BFK").is_some());

    // Sum every K_ field over the rows, independently of the writer.
    let mut k: BTreeMap<String, Decimal> = BTreeMap::new();
    for r in &rows {
        for c in r.children.iter().filter(|c| c.name.starts_with("K_")) {
            *k.entry(c.name.clone()).or_default() += amount(&c.text);
        }
    }
    // 23 %: the lines' nets 600.25 + 400.25 + 0.49; VAT once per rate per invoice:
    // round(1000.50 × 0.23) = 230.12 and round(0.49 × 0.23) = 0.11.
    assert_eq!(k["K_19"], dec!(1000.99));
    assert_eq!(k["K_20"], dec!(230.23));
    assert_eq!((k["K_17"], k["K_18"]), (dec!(100.00), dec!(8.00)));
    assert_eq!((k["K_15"], k["K_16"]), (dec!(40.00), dec!(2.00)));
    assert_eq!(k["K_13"], dec!(10.00));
    assert_eq!(k["K_10"], dec!(7.00));
    assert_eq!(k["K_11"], dec!(8.00));
    assert_eq!(k["K_31"], dec!(9.00));

    let ctrl = ew.child("SprzedazCtrl").unwrap();
    let tax = k["K_16"] + k["K_18"] + k["K_20"];
    assert_eq!(ctrl.text_of("LiczbaWierszySprzedazy"), Some("2"));
    assert_eq!(amount(ctrl.text_of("PodatekNalezny").unwrap()), tax);
    let zakup = ew.child("ZakupCtrl").unwrap();
    assert_eq!(zakup.text_of("LiczbaWierszyZakupow"), Some("0"));

    // The declaration in whole złoty, each position rounded from the register's sum.
    let p = root
        .child("Deklaracja")
        .unwrap()
        .child("PozycjeSzczegolowe")
        .unwrap();
    let mut flat = Vec::new();
    texts(p, &mut flat);
    let pv = |n: &str| -> i64 {
        flat.iter()
            .find(|(name, _)| name == n)
            .unwrap_or_else(|| panic!("{n} missing"))
            .1
            .parse()
            .unwrap()
    };
    let whole = |d: Decimal| -> i64 {
        d.round_dp_with_strategy(0, rust_decimal::RoundingStrategy::MidpointAwayFromZero)
            .try_into()
            .unwrap()
    };
    for (kf, pf) in [
        ("K_10", "P_10"),
        ("K_11", "P_11"),
        ("K_13", "P_13"),
        ("K_15", "P_15"),
        ("K_16", "P_16"),
        ("K_17", "P_17"),
        ("K_18", "P_18"),
        ("K_19", "P_19"),
        ("K_20", "P_20"),
        ("K_31", "P_31"),
    ] {
        assert_eq!(pv(pf), whole(k[kf]), "{pf}");
    }
    let bases: i64 = ["P_10", "P_11", "P_13", "P_15", "P_17", "P_19", "P_31"]
        .iter()
        .map(|f| pv(f))
        .sum();
    assert_eq!(pv("P_37"), bases);
    assert_eq!(pv("P_37"), 7 + 8 + 10 + 40 + 100 + 1001 + 9);
    assert_eq!(pv("P_38"), pv("P_16") + pv("P_18") + pv("P_20"));
    assert_eq!(pv("P_38"), 240);
    assert_eq!(pv("P_48"), 0);
    assert_eq!(pv("P_51"), 240);
    assert_eq!((totals.rows, totals.output_tax, totals.p_51), (2, tax, 240));

    let head = root.child("Naglowek").unwrap();
    assert_eq!(head.text_of("CelZlozenia"), Some("1"));
    assert_eq!(head.text_of("Miesiac"), Some("2"));
}

#[test]
fn a_correction_says_so_and_an_empty_month_is_valid() {
    let (text, totals) = jpk::write(
        Period {
            year: 2026,
            month: 3,
        },
        true,
        &taxpayer(),
        Utc::now(),
        &[],
    )
    .unwrap();
    common::validate_against(&xsd(), text.as_bytes()).unwrap_or_else(|e| panic!("{e}\n{text}"));
    assert!(text.contains("<CelZlozenia poz=\"P_7\">2</CelZlozenia>"));
    assert_eq!((totals.rows, totals.p_38), (0, 0));
}

#[test]
fn the_schema_refuses_what_is_wrong() {
    let (text, _) = jpk::write(
        Period {
            year: 2026,
            month: 2,
        },
        false,
        &taxpayer(),
        Utc::now(),
        &month(),
    )
    .unwrap();
    // A row without its KSeF mark, and a declaration amount with grosze.
    let no_mark = text.replace("      <BFK>1</BFK>\n", "");
    assert!(common::validate_against(&xsd(), no_mark.as_bytes()).is_err());
    let grosze = text.replace("<P_38>240</P_38>", "<P_38>240.23</P_38>");
    assert!(common::validate_against(&xsd(), grosze.as_bytes()).is_err());
}

#[test]
fn periods_before_variant_3_are_refused() {
    let e = jpk::write(
        Period {
            year: 2026,
            month: 1,
        },
        false,
        &taxpayer(),
        Utc::now(),
        &[],
    )
    .unwrap_err();
    assert!(e.to_string().contains("variant 2"), "{e}");
    assert_eq!(Period::parse("2026-13"), None);
    assert_eq!(
        Period::parse("2026-02"),
        Some(Period {
            year: 2026,
            month: 2
        })
    );
}
