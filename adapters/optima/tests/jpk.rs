//! JPK_V7M in both form variants (2 for 2022-01 to 2026-01, 3 from 2026-02): every file is
//! validated against our schema of its variant's subset (`xmllint --schema`), and its totals
//! are recomputed here from the rows it holds, independently of the writer.

mod common;

use chrono::{NaiveDate, TimeZone, Utc};
use rust_decimal::Decimal;
use rust_decimal_macros::dec;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use switchyard_optima::jpk::{
    self, Gtu, KsefMark, Period, Procedure, PurchaseRow, SaleRow, Taxpayer, Totals, Variant,
};
use switchyard_optima::polish::{Summary, VatRate};
use switchyard_optima::xml;

fn xsd(variant: Variant) -> PathBuf {
    let name = match variant {
        Variant::V2 => "xsd/jpk_v7m_2.xsd",
        Variant::V3 => "xsd/jpk_v7m_3.xsd",
    };
    Path::new(env!("CARGO_MANIFEST_DIR")).join(name)
}

fn taxpayer() -> Taxpayer {
    Taxpayer {
        nip: "5260250274".into(),
        name: "Stal-Hurt Sp. z o.o. — Łódź".into(),
        email: "ksiegowosc@stalhurt.example".into(),
        tax_office_code: "1471".into(),
    }
}

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

fn sale(number: &str, issued: NaiveDate, ksef: KsefMark, lines: &[(VatRate, Decimal)]) -> SaleRow {
    SaleRow {
        contractor_nip: "7811234560".into(),
        contractor_name: "Zakład Gęś & Syn".into(),
        number: number.into(),
        issue_date: issued,
        sale_date: None,
        ksef,
        gtu: BTreeSet::new(),
        procedures: BTreeSet::new(),
        rates: Summary::from_lines(lines.iter().copied()).rates,
    }
}

fn purchase(number: &str, issued: NaiveDate, net: Decimal, vat: Decimal) -> PurchaseRow {
    PurchaseRow {
        supplier_nip: "5260250274".into(),
        supplier_name: "Huta Żelaza S.A.".into(),
        number: number.into(),
        issue_date: issued,
        received_date: None,
        ksef: KsefMark::Bfk,
        fixed_assets: false,
        net,
        vat,
    }
}

/// A month with every rate: two invoices issued in `year`-`month`.
fn month(year: i32, month: u32) -> Vec<SaleRow> {
    vec![
        sale(
            "FV/0001",
            date(year, month, 3),
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
        sale(
            "FV/0002",
            date(year, month, 27),
            KsefMark::Bfk,
            &[(VatRate::R23, dec!(0.49))],
        ),
    ]
}

fn write(
    period: (i32, u32),
    correction: bool,
    sales: &[SaleRow],
    purchases: &[PurchaseRow],
) -> (String, Totals) {
    let created = Utc.with_ymd_and_hms(2026, 3, 10, 9, 30, 0).unwrap();
    let period = Period {
        year: period.0,
        month: period.1,
    };
    jpk::write(period, correction, &taxpayer(), created, sales, purchases).unwrap()
}

fn amount(s: &str) -> Decimal {
    s.parse().unwrap()
}

fn whole(d: Decimal) -> i64 {
    d.round_dp_with_strategy(0, rust_decimal::RoundingStrategy::MidpointAwayFromZero)
        .try_into()
        .unwrap()
}

/// What a file says, read back from its XML.
struct Read {
    root: xml::Element,
    /// Every K_ field summed over the sales rows, and over the purchase rows.
    k: BTreeMap<String, Decimal>,
    kz: BTreeMap<String, Decimal>,
    p: BTreeMap<String, i64>,
}

impl Read {
    fn k(&self, f: &str) -> Decimal {
        self.k.get(f).copied().unwrap_or_default()
    }
    fn p(&self, f: &str) -> i64 {
        *self.p.get(f).unwrap_or_else(|| panic!("{f} missing"))
    }
    fn rows<'a>(&'a self, name: &'a str) -> Vec<&'a xml::Element> {
        self.root
            .child("Ewidencja")
            .unwrap()
            .children_named(name)
            .collect()
    }
    fn head(&self, f: &str) -> String {
        self.root
            .child("Naglowek")
            .unwrap()
            .text_of(f)
            .unwrap()
            .to_owned()
    }
}

/// Validate `text` against its variant's schema, then recompute every total from the rows and
/// check the control sums and the declaration against them.
fn validate_and_recompute(variant: Variant, text: &str) -> Read {
    common::validate_against(&xsd(variant), text.as_bytes())
        .unwrap_or_else(|e| panic!("{e}\n{text}"));
    let root = xml::parse(text).unwrap();
    assert_eq!(root.ns.as_deref(), Some(variant.namespace()));
    let sum = |row: &str| {
        let ew = root.child("Ewidencja").unwrap();
        let mut k: BTreeMap<String, Decimal> = BTreeMap::new();
        for r in ew.children_named(row) {
            for c in r.children.iter().filter(|c| c.name.starts_with("K_")) {
                *k.entry(c.name.clone()).or_default() += amount(&c.text);
            }
        }
        k
    };
    let (k, kz) = (sum("SprzedazWiersz"), sum("ZakupWiersz"));
    let p: BTreeMap<String, i64> = root
        .child("Deklaracja")
        .unwrap()
        .child("PozycjeSzczegolowe")
        .unwrap()
        .children
        .iter()
        .map(|c| (c.name.clone(), c.text.trim().parse().unwrap()))
        .collect();
    let read = Read { root, k, kz, p };
    let ew = read.root.child("Ewidencja").unwrap();

    let get = |m: &BTreeMap<String, Decimal>, f: &str| m.get(f).copied().unwrap_or_default();
    let ctrl = ew.child("SprzedazCtrl").unwrap();
    assert_eq!(
        ctrl.text_of("LiczbaWierszySprzedazy").unwrap(),
        read.rows("SprzedazWiersz").len().to_string()
    );
    let output = get(&read.k, "K_16") + get(&read.k, "K_18") + get(&read.k, "K_20");
    assert_eq!(amount(ctrl.text_of("PodatekNalezny").unwrap()), output);
    let zctrl = ew.child("ZakupCtrl").unwrap();
    assert_eq!(
        zctrl.text_of("LiczbaWierszyZakupow").unwrap(),
        read.rows("ZakupWiersz").len().to_string()
    );
    let input = get(&read.kz, "K_41") + get(&read.kz, "K_43");
    assert_eq!(amount(zctrl.text_of("PodatekNaliczony").unwrap()), input);

    // The declaration: each position the whole-złoty rounding of its register sum.
    let p_or_0 = |f: &str| read.p.get(f).copied().unwrap_or(0);
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
        assert_eq!(p_or_0(pf), whole(get(&read.k, kf)), "{pf}");
    }
    for (kf, pf) in [
        ("K_40", "P_40"),
        ("K_41", "P_41"),
        ("K_42", "P_42"),
        ("K_43", "P_43"),
    ] {
        assert_eq!(p_or_0(pf), whole(get(&read.kz, kf)), "{pf}");
    }
    let bases: i64 = ["P_10", "P_11", "P_13", "P_15", "P_17", "P_19", "P_31"]
        .iter()
        .map(|f| p_or_0(f))
        .sum();
    assert_eq!(read.p("P_37"), bases);
    assert_eq!(
        read.p("P_38"),
        p_or_0("P_16") + p_or_0("P_18") + p_or_0("P_20")
    );
    assert_eq!(read.p("P_48"), p_or_0("P_41") + p_or_0("P_43"));
    assert_eq!(read.p("P_51"), (read.p("P_38") - read.p("P_48")).max(0));
    let surplus = (read.p("P_48") - read.p("P_38")).max(0);
    assert_eq!(p_or_0("P_53"), surplus);
    assert_eq!(p_or_0("P_62"), surplus);
    read
}

/// The month's amounts both variants must hold: 23 % the lines' nets 600.25 + 400.25 + 0.49,
/// VAT once per rate per invoice: round(1000.50 × 0.23) = 230.12 and round(0.49 × 0.23) = 0.11.
fn assert_the_months_amounts(r: &Read, totals: &Totals) {
    assert_eq!(r.k("K_19"), dec!(1000.99));
    assert_eq!(r.k("K_20"), dec!(230.23));
    assert_eq!((r.k("K_17"), r.k("K_18")), (dec!(100.00), dec!(8.00)));
    assert_eq!((r.k("K_15"), r.k("K_16")), (dec!(40.00), dec!(2.00)));
    assert_eq!(r.k("K_13"), dec!(10.00));
    assert_eq!(r.k("K_10"), dec!(7.00));
    assert_eq!(r.k("K_11"), dec!(8.00));
    assert_eq!(r.k("K_31"), dec!(9.00));
    assert_eq!(r.p("P_37"), 7 + 8 + 10 + 40 + 100 + 1001 + 9);
    assert_eq!(r.p("P_38"), 240);
    assert_eq!((r.p("P_48"), r.p("P_51")), (0, 240));
    assert_eq!(
        (totals.rows, totals.output_tax, totals.p_38, totals.p_51),
        (2, dec!(240.23), 240, 240)
    );
    assert_eq!((totals.purchase_rows, totals.input_tax), (0, dec!(0)));
}

#[test]
fn variant_3_a_month_with_every_rate_validates_and_adds_up() {
    let (text, totals) = write((2026, 2), false, &month(2026, 2), &[]);
    assert_eq!(totals.variant, Variant::V3);
    let r = validate_and_recompute(Variant::V3, &text);
    assert_the_months_amounts(&r, &totals);
    let rows = r.rows("SprzedazWiersz");
    assert!(rows[0].child("NrKSeF").is_some() && rows[1].child("BFK").is_some());
    assert_eq!(r.head("CelZlozenia"), "1");
    assert_eq!(r.head("WariantFormularza"), "3");
    assert!(text.contains("kodSystemowy=\"JPK_V7M (3)\""));
    assert!(text.contains("kodSystemowy=\"VAT-7 (23)\""));
    assert!(text.contains("<WariantFormularzaDekl>23</WariantFormularzaDekl>"));
}

#[test]
fn variant_2_a_month_with_every_rate_validates_and_adds_up() {
    // The last month of variant 2; no KSeF marks whatever the rows carry.
    let (text, totals) = write((2026, 1), false, &month(2026, 1), &[]);
    assert_eq!(totals.variant, Variant::V2);
    let r = validate_and_recompute(Variant::V2, &text);
    assert_the_months_amounts(&r, &totals);
    for row in r.rows("SprzedazWiersz") {
        for mark in ["NrKSeF", "OFF", "BFK", "DI"] {
            assert!(row.child(mark).is_none(), "{mark} in variant 2");
        }
    }
    assert_eq!(r.head("WariantFormularza"), "2");
    assert!(text.contains("kodSystemowy=\"JPK_V7M (2)\""));
    assert!(text.contains("kodSystemowy=\"VAT-7 (22)\""));
    assert!(text.contains("<WariantFormularzaDekl>22</WariantFormularzaDekl>"));
    // Not a variant-3 file: the other schema refuses it.
    assert!(common::validate_against(&xsd(Variant::V3), text.as_bytes()).is_err());
}

#[test]
fn the_variant_follows_the_period() {
    let v = |year, month| Variant::for_period(Period { year, month });
    assert_eq!(v(2022, 1), Ok(Variant::V2));
    assert_eq!(v(2024, 7), Ok(Variant::V2));
    assert_eq!(v(2026, 1), Ok(Variant::V2));
    assert_eq!(v(2026, 2), Ok(Variant::V3));
    assert_eq!(v(2027, 12), Ok(Variant::V3));
    let e = v(2021, 12).unwrap_err();
    assert!(e.to_string().contains("variant 1"), "{e}");
    assert_eq!(Period::parse("2026-13"), None);
    assert_eq!(
        Period::parse("2026-02"),
        Some(Period {
            year: 2026,
            month: 2
        })
    );
}

#[test]
fn a_correction_in_each_variant_says_so_and_validates() {
    for (period, variant) in [((2025, 11), Variant::V2), ((2026, 3), Variant::V3)] {
        let (text, totals) = write(period, true, &month(period.0, period.1), &[]);
        assert_eq!(totals.variant, variant);
        let r = validate_and_recompute(variant, &text);
        assert_eq!(r.head("CelZlozenia"), "2", "{variant:?}");
        assert_eq!(r.head("Miesiac"), period.1.to_string());
        assert_eq!(totals.p_38, 240);
        // An empty correction (every row withdrawn) is a valid file too.
        let (text, totals) = write(period, true, &[], &[]);
        let r = validate_and_recompute(variant, &text);
        assert_eq!(r.head("CelZlozenia"), "2");
        assert_eq!((totals.rows, totals.p_38, totals.p_51), (0, 0, 0));
    }
}

#[test]
fn each_ksef_mark_is_written_as_its_element() {
    let n = "5260250274-20260203-0A1B2C-3D4E5F-9A";
    let marks = [
        (KsefMark::Number(n.into()), "NrKSeF", n),
        (KsefMark::Off, "OFF", "1"),
        (KsefMark::Bfk, "BFK", "1"),
        (KsefMark::Di, "DI", "1"),
    ];
    let rows: Vec<SaleRow> = marks
        .iter()
        .enumerate()
        .map(|(i, (m, _, _))| {
            sale(
                &format!("FV/{i}"),
                date(2026, 2, 10),
                m.clone(),
                &[(VatRate::R23, dec!(100.00))],
            )
        })
        .collect();
    let mut purchases = vec![purchase("Z/1", date(2026, 2, 1), dec!(10), dec!(2.30))];
    purchases[0].ksef = KsefMark::Off;
    let (text, _) = write((2026, 2), false, &rows, &purchases);
    let r = validate_and_recompute(Variant::V3, &text);
    for (row, (_, element, value)) in r.rows("SprzedazWiersz").iter().zip(&marks) {
        assert_eq!(row.text_of(element), Some(*value));
        let others = ["NrKSeF", "OFF", "BFK", "DI"]
            .into_iter()
            .filter(|e| e != element && row.child(e).is_some())
            .count();
        assert_eq!(others, 0, "exactly one mark per row");
    }
    assert_eq!(r.rows("ZakupWiersz")[0].text_of("OFF"), Some("1"));
    // Two marks in one row, or none, is what the schema refuses.
    let two = text.replacen("<OFF>1</OFF>", "<OFF>1</OFF>\n      <DI>1</DI>", 1);
    assert!(common::validate_against(&xsd(Variant::V3), two.as_bytes()).is_err());
    let none = text.replacen("      <BFK>1</BFK>\n", "", 1);
    assert!(common::validate_against(&xsd(Variant::V3), none.as_bytes()).is_err());
}

#[test]
fn gtu_procedures_and_the_date_of_supply_in_the_forms_order() {
    for (period, variant) in [((2025, 6), Variant::V2), ((2026, 6), Variant::V3)] {
        let issued = date(period.0, period.1, 30);
        let mut marked = sale(
            "FV/GTU",
            issued,
            KsefMark::Di,
            &[(VatRate::R23, dec!(1000.00))],
        );
        marked.sale_date = Some(date(period.0, period.1, 28));
        marked.gtu = ["GTU_12", "GTU_06"]
            .iter()
            .map(|g| Gtu::parse(g).unwrap())
            .collect();
        marked.procedures = [Procedure::Tp, Procedure::WstoEe].into_iter().collect();
        let mut same_day = sale("FV/SAME", issued, KsefMark::Bfk, &[(VatRate::R8, dec!(5))]);
        same_day.sale_date = Some(issued);
        let (text, _) = write(period, false, &[marked, same_day], &[]);
        let r = validate_and_recompute(variant, &text);
        let rows = r.rows("SprzedazWiersz");
        let names: Vec<&str> = rows[0].children.iter().map(|c| c.name.as_str()).collect();
        let after_date: Vec<&str> = names
            .iter()
            .skip_while(|n| **n != "DataSprzedazy")
            .copied()
            .collect();
        let want: &[&str] = match variant {
            Variant::V2 => &[
                "DataSprzedazy",
                "GTU_06",
                "GTU_12",
                "WSTO_EE",
                "TP",
                "K_19",
                "K_20",
            ],
            Variant::V3 => &[
                "DataSprzedazy",
                "DI",
                "GTU_06",
                "GTU_12",
                "WSTO_EE",
                "TP",
                "K_19",
                "K_20",
            ],
        };
        assert_eq!(after_date, want, "{variant:?}");
        assert_eq!(
            rows[0].text_of("DataSprzedazy"),
            Some(date(period.0, period.1, 28).to_string().as_str())
        );
        // The date of supply only where it differs from the issue date.
        assert!(rows[1].child("DataSprzedazy").is_none());
        // Out of order, the schema refuses it.
        let swapped = text.replacen(
            "<GTU_06>1</GTU_06>\n      <GTU_12>1</GTU_12>",
            "<GTU_12>1</GTU_12>\n      <GTU_06>1</GTU_06>",
            1,
        );
        assert_ne!(swapped, text);
        assert!(common::validate_against(&xsd(variant), swapped.as_bytes()).is_err());
    }
}

#[test]
fn purchase_rows_make_the_input_tax_and_a_surplus_is_carried_forward() {
    for (period, variant) in [((2025, 9), Variant::V2), ((2026, 9), Variant::V3)] {
        let mut asset = purchase(
            "ST/1",
            date(period.0, period.1, 2),
            dec!(5000.00),
            dec!(1150.00),
        );
        asset.fixed_assets = true;
        asset.received_date = Some(date(period.0, period.1, 5));
        let purchases = vec![
            purchase(
                "Z/1",
                date(period.0, period.1, 3),
                dec!(100.40),
                dec!(23.09),
            ),
            purchase(
                "Z/2",
                date(period.0, period.1 - 1, 28),
                dec!(200.20),
                dec!(46.05),
            ),
            asset,
        ];
        let sales = vec![sale(
            "FV/1",
            date(period.0, period.1, 10),
            KsefMark::Bfk,
            &[(VatRate::R23, dec!(1000.00))],
        )];
        let (text, totals) = write(period, false, &sales, &purchases);
        let r = validate_and_recompute(variant, &text);
        assert_eq!(r.rows("ZakupWiersz").len(), 3);
        assert_eq!(
            (r.kz["K_42"], r.kz["K_43"], r.kz["K_40"], r.kz["K_41"]),
            (dec!(300.60), dec!(69.14), dec!(5000.00), dec!(1150.00))
        );
        // P_43 = round(69.14) = 69, P_41 = 1150: input 1219 against output 230.
        assert_eq!(
            (r.p("P_42"), r.p("P_43"), r.p("P_40"), r.p("P_41")),
            (301, 69, 5000, 1150)
        );
        assert_eq!((r.p("P_38"), r.p("P_48"), r.p("P_51")), (230, 1219, 0));
        assert_eq!((r.p("P_53"), r.p("P_62")), (989, 989));
        assert_eq!(
            (
                totals.purchase_rows,
                totals.input_tax,
                totals.p_48,
                totals.p_53
            ),
            (3, dec!(1219.14), 1219, 989)
        );
        assert_eq!(
            r.rows("ZakupWiersz")[2].text_of("DataWplywu"),
            Some(date(period.0, period.1, 5).to_string().as_str())
        );
    }
}

#[test]
fn the_schemas_refuse_what_is_wrong() {
    let (text, _) = write((2026, 2), false, &month(2026, 2), &[]);
    // A declaration amount with grosze.
    let grosze = text.replace("<P_38>240</P_38>", "<P_38>240.23</P_38>");
    assert!(common::validate_against(&xsd(Variant::V3), grosze.as_bytes()).is_err());
    // A base without its tax.
    let unpaired = text.replacen("      <K_20>230.12</K_20>\n", "", 1);
    assert_ne!(unpaired, text);
    assert!(common::validate_against(&xsd(Variant::V3), unpaired.as_bytes()).is_err());
    // A KSeF mark in variant 2.
    let (v2, _) = write((2025, 2), false, &month(2025, 2), &[]);
    let marked = v2.replacen(
        "</DataWystawienia>\n",
        "</DataWystawienia>\n      <BFK>1</BFK>\n",
        1,
    );
    assert!(common::validate_against(&xsd(Variant::V2), marked.as_bytes()).is_err());
    // A GTU that is not 1.
    let (gtu_text, _) = {
        let mut s = month(2026, 2);
        s[1].gtu.insert(Gtu::parse("GTU_01").unwrap());
        write((2026, 2), false, &s, &[])
    };
    let two = gtu_text.replace("<GTU_01>1</GTU_01>", "<GTU_01>2</GTU_01>");
    assert_ne!(two, gtu_text);
    assert!(common::validate_against(&xsd(Variant::V3), two.as_bytes()).is_err());
}
