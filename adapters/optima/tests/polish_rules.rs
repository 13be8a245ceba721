//! Every Polish rule, as tables: NIP checksum, VAT rates, grosz rounding per line and per
//! rate, net + VAT = gross, corrections. Expected values are worked out by hand in comments.

use rust_decimal::Decimal;
use rust_decimal_macros::dec;
use switchyard_optima::polish::{
    exact_grosz, grosz, line_net, vat_for, DocKind, Nip, RateTotal, RuleError, Summary, VatRate,
};
use switchyard_optima::wire::Faktura;

#[test]
fn nip_checksum_table() {
    // 5260250274: 5·6+2·5+6·7+0·2+2·3+5·4+0·5+2·6+7·7 = 169; 169 mod 11 = 4 = last digit.
    let good = [
        ("5260250274", "5260250274"),
        ("PL5260250274", "5260250274"),
        ("pl 526-025-02-74", "5260250274"),
        (" 526 025 02 74 ", "5260250274"),
        // 1234563218: 6+10+21+8+15+24+15+12+7 = 118; 118 mod 11 = 8.
        ("1234563218", "1234563218"),
    ];
    for (input, bare) in good {
        assert_eq!(
            Nip::parse(input, "NIP").map(|n| n.to_string()),
            Ok(bare.to_owned()),
            "{input}"
        );
    }
    let checksum = [
        "5260250275",
        // 7811234567: sum 201, 201 mod 11 = 3, not 7.
        "7811234567",
        "1234563211",
        // 0000000000 passes a naive check only if 0 is allowed; 0 mod 11 = 0, so it passes
        // the checksum, which is why shape is checked separately below.
    ];
    for input in checksum {
        assert!(
            matches!(Nip::parse(input, "Kontrahent.NIP"), Err(RuleError::NipChecksum { ref field, .. }) if field == "Kontrahent.NIP"),
            "{input} must fail the checksum"
        );
    }
    // A remainder of 10 can never be a check digit: 1234567890 has sum 6+10+21+8+15+24+35+48+63 = 230, mod 11 = 10.
    assert!(matches!(
        Nip::parse("1234567890", "NIP"),
        Err(RuleError::NipChecksum { .. })
    ));
    for input in [
        "",
        "526025027",
        "52602502744",
        "DE5260250274",
        "52602502a4",
        "PL",
    ] {
        assert!(
            matches!(Nip::parse(input, "NIP"), Err(RuleError::NipShape { .. })),
            "{input:?} must fail the shape check"
        );
    }
    let e = Nip::parse("7811234567", "Kontrahent.NIP").unwrap_err();
    assert_eq!(e.field(), "Kontrahent.NIP");
    assert!(e.to_string().contains("checksum"), "{e}");
}

#[test]
fn vat_rates_table() {
    let ok = [
        ("23", VatRate::R23),
        ("23.00", VatRate::R23),
        ("8", VatRate::R8),
        ("5", VatRate::R5),
        ("0", VatRate::R0),
        ("0.00", VatRate::R0),
        ("zw", VatRate::Zw),
        ("ZW", VatRate::Zw),
        ("np", VatRate::Np),
        ("oo", VatRate::Oo),
    ];
    for (input, rate) in ok {
        assert_eq!(VatRate::parse(input, "StawkaVAT"), Ok(rate), "{input}");
    }
    for input in ["22", "7", "19", "3", "-23", "23.5", "zwol", "", "100"] {
        assert!(
            matches!(VatRate::parse(input, "Pozycja[1].StawkaVAT"), Err(RuleError::VatRate { ref field, .. }) if field == "Pozycja[1].StawkaVAT"),
            "{input:?} is not an Optima rate"
        );
    }
    // The XML pair round-trips for every rate.
    for r in VatRate::ALL {
        assert_eq!(VatRate::from_xml(&r.xml_rate(), r.xml_status(), "x"), Ok(r));
    }
    assert_eq!(VatRate::Zw.percent(), Decimal::ZERO);
    assert_eq!(VatRate::Oo.xml_status(), "odwrotne obciążenie");
}

#[test]
fn grosz_rounding_is_half_away_from_zero() {
    for (input, out) in [
        (dec!(0.005), dec!(0.01)),
        (dec!(0.004999), dec!(0.00)),
        (dec!(2.675), dec!(2.68)),
        (dec!(-2.675), dec!(-2.68)),
        (dec!(1189.335), dec!(1189.34)),
        (dec!(10), dec!(10)),
    ] {
        assert_eq!(grosz(input), out, "{input}");
    }
    assert_eq!(line_net(dec!(120.5), dec!(9.87)), dec!(1189.34));
    assert_eq!(line_net(dec!(3), dec!(0.333)), dec!(1.00));
    assert_eq!(vat_for(VatRate::R23, dec!(100.00)), dec!(23.00));
    assert_eq!(vat_for(VatRate::R8, dec!(0.10)), dec!(0.01)); // 0.008 → 0.01
    assert_eq!(vat_for(VatRate::Zw, dec!(100.00)), dec!(0.00));
    assert!(exact_grosz(dec!(1.23), "x").is_ok());
    assert!(exact_grosz(dec!(1.2300), "x").is_ok());
    assert!(matches!(
        exact_grosz(dec!(1.234), "Pozycja[1].CenaJedn"),
        Err(RuleError::NotGrosz { .. })
    ));
}

#[test]
fn vat_is_rounded_per_rate_not_per_line() {
    // Three 23 % lines of 0.10 net: per line 0.023 → 0.02 each = 0.06; per rate
    // 0.30 × 23 % = 0.069 → 0.07. Optima (and we) take the per-rate figure.
    let lines = [(VatRate::R23, dec!(0.10)); 3];
    let s = Summary::from_lines(lines);
    assert_eq!(s.rates.len(), 1);
    assert_eq!(s.rates[0].net, dec!(0.30));
    assert_eq!(s.rates[0].vat, dec!(0.07));
    assert_eq!(s.gross, dec!(0.37));
}

#[test]
fn summary_balances_per_rate_and_in_total_for_every_rate() {
    let lines = [
        (VatRate::R23, dec!(3749.97)),
        (VatRate::R23, dec!(1189.34)),
        (VatRate::R8, dec!(0.10)),
        (VatRate::R5, dec!(99.99)),
        (VatRate::R0, dec!(50.00)),
        (VatRate::Zw, dec!(10.00)),
        (VatRate::Np, dec!(20.00)),
        (VatRate::Oo, dec!(30.00)),
    ];
    let s = Summary::from_lines(lines);
    let expect = [
        // 4939.31 × 0.23 = 1136.0413 → 1136.04
        (VatRate::R23, dec!(4939.31), dec!(1136.04)),
        (VatRate::R8, dec!(0.10), dec!(0.01)),
        // 99.99 × 0.05 = 4.9995 → 5.00
        (VatRate::R5, dec!(99.99), dec!(5.00)),
        (VatRate::R0, dec!(50.00), dec!(0.00)),
        (VatRate::Zw, dec!(10.00), dec!(0.00)),
        (VatRate::Np, dec!(20.00), dec!(0.00)),
        (VatRate::Oo, dec!(30.00), dec!(0.00)),
    ];
    assert_eq!(s.rates.len(), expect.len());
    for (row, (rate, net, vat)) in s.rates.iter().zip(expect) {
        assert_eq!((row.rate, row.net, row.vat), (rate, net, vat));
        assert_eq!(row.net + row.vat, row.gross);
    }
    assert_eq!(s.net, dec!(5149.40));
    assert_eq!(s.vat, dec!(1141.05));
    assert_eq!(s.gross, dec!(6290.45));
    Summary::check_stated(&s.rates, s.gross, "POZYCJA").unwrap();
}

#[test]
fn stated_amounts_that_do_not_balance_are_refused() {
    let row = |rate, net, vat, gross| RateTotal {
        rate,
        net,
        vat,
        gross,
    };
    // VAT that is not the rounded VAT of the net.
    let e = Summary::check_stated(
        &[row(VatRate::R23, dec!(100.00), dec!(23.01), dec!(123.01))],
        dec!(123.01),
        "POZYCJA",
    )
    .unwrap_err();
    assert!(matches!(e, RuleError::VatAmount { .. }), "{e}");
    assert_eq!(e.field(), "POZYCJA[1].VAT");
    // Net + VAT ≠ gross on a row.
    let e = Summary::check_stated(
        &[row(VatRate::R23, dec!(100.00), dec!(23.00), dec!(124.00))],
        dec!(124.00),
        "POZYCJA",
    )
    .unwrap_err();
    assert!(matches!(e, RuleError::Unbalanced { .. }), "{e}");
    // Rows fine, total wrong.
    let e = Summary::check_stated(
        &[
            row(VatRate::R23, dec!(100.00), dec!(23.00), dec!(123.00)),
            row(VatRate::R8, dec!(10.00), dec!(0.80), dec!(10.80)),
        ],
        dec!(133.00),
        "POZYCJA",
    )
    .unwrap_err();
    assert_eq!(e.field(), "POZYCJA (total)");
    assert!(e.to_string().contains("133.80"), "{e}");
    // Sub-grosz amounts.
    let e = Summary::check_stated(
        &[row(VatRate::R0, dec!(1.001), dec!(0), dec!(1.001))],
        dec!(1.001),
        "POZYCJA",
    )
    .unwrap_err();
    assert!(matches!(e, RuleError::NotGrosz { .. }), "{e}");
}

#[test]
fn corrections_must_reference_the_corrected_invoice() {
    assert_eq!(
        DocKind::classify("FV/1/2026", false, None, "NumerKorygowanego"),
        Ok(DocKind::Invoice)
    );
    assert_eq!(
        DocKind::classify(
            "FSKOR/1/2026",
            true,
            Some(" FV/1/2026 "),
            "NumerKorygowanego"
        ),
        Ok(DocKind::Correction {
            corrects: "FV/1/2026".into()
        })
    );
    for (number, flag, orig, want) in [
        ("FSKOR/1/2026", true, None, "must name the invoice"),
        ("FSKOR/1/2026", true, Some(""), "must name the invoice"),
        (
            "FSKOR/1/2026",
            true,
            Some("FSKOR/1/2026"),
            "cannot correct itself",
        ),
        ("FV/2/2026", false, Some("FV/1/2026"), "not a correction"),
    ] {
        let e = DocKind::classify(number, flag, orig, "NumerKorygowanego").unwrap_err();
        assert_eq!(e.field(), "NumerKorygowanego");
        assert!(e.to_string().contains(want), "{number}: {e}");
    }
}

fn faktura(extra: serde_json::Value) -> serde_json::Value {
    let mut v = serde_json::json!({
        "NumerDokumentu": "FV/2026/11/0042",
        "DataWystawienia": "2026-11-20",
        "Kontrahent": {"Kod": "C-2001", "Nazwa": "Konstrukcje Nowak S.A.", "NIP": "PL 526-025-02-74"},
        "Pozycja": [
            {"KodTowaru": "A", "Ilosc": 3, "CenaJedn": 1249.99, "StawkaVAT": 23},
            {"KodTowaru": "B", "Ilosc": 120.5, "CenaJedn": 9.87, "StawkaVAT": 23},
            {"KodTowaru": "C", "Ilosc": 1, "CenaJedn": 0.10, "StawkaVAT": 8},
            {"KodTowaru": "D", "Ilosc": 2, "CenaJedn": 5, "StawkaVAT": "zw"}
        ],
        "WartoscNetto": 4949.41
    });
    for (k, x) in extra.as_object().unwrap() {
        v[k] = x.clone();
    }
    v
}

#[test]
fn the_mapped_invoice_is_checked_field_by_field() {
    let inv = Faktura::from_json(&faktura(serde_json::json!({})))
        .unwrap()
        .check()
        .unwrap();
    assert_eq!(inv.nip.as_str(), "5260250274");
    assert_eq!(inv.summary.net, dec!(4949.41));
    // 23 %: 4939.31 → 1136.04; 8 %: 0.10 → 0.01; zw: 10.00 → 0.
    assert_eq!(inv.summary.vat, dec!(1136.05));
    assert_eq!(inv.summary.gross, dec!(6085.46));
    assert_eq!(inv.to_faktura().wartosc_brutto, Some(dec!(6085.46)));

    let refused = |extra: serde_json::Value, field: &str| {
        let e = Faktura::from_json(&faktura(extra))
            .and_then(|f| f.check())
            .unwrap_err();
        assert!(e.to_string().contains(field), "expected {field} in: {e}");
    };
    refused(
        serde_json::json!({"Kontrahent": {"Nazwa": "X", "NIP": "7811234567"}}),
        "Kontrahent.NIP",
    );
    refused(
        serde_json::json!({"Pozycja": [{"KodTowaru": "A", "Ilosc": 1, "CenaJedn": 1, "StawkaVAT": 22}]}),
        "Pozycja[1].StawkaVAT",
    );
    refused(
        serde_json::json!({"Pozycja": [{"KodTowaru": "A", "Ilosc": 1, "CenaJedn": 1.001, "StawkaVAT": 23}]}),
        "Pozycja[1].CenaJedn",
    );
    refused(serde_json::json!({"WartoscNetto": 4949.40}), "WartoscNetto");
    refused(
        serde_json::json!({"WartoscBrutto": 6085.45}),
        "WartoscBrutto",
    );
    refused(serde_json::json!({"Pozycja": []}), "Pozycja");
    refused(serde_json::json!({"Korekta": true}), "NumerKorygowanego");
    refused(serde_json::json!({"Rabat": 5}), "Rabat");
    refused(
        serde_json::json!({"Pozycja": [{"KodTowaru": "A", "Ilosc": -1, "CenaJedn": 1, "StawkaVAT": 23}]}),
        "Pozycja[1].Ilosc",
    );
    // A correction may lower quantities and names what it corrects.
    let kor = Faktura::from_json(&faktura(serde_json::json!({
        "NumerDokumentu": "FSKOR/2026/11/0001",
        "Korekta": true,
        "NumerKorygowanego": "FV/2026/11/0042",
        "Pozycja": [{"KodTowaru": "A", "Ilosc": -1, "CenaJedn": 1249.99, "StawkaVAT": 23}],
        "WartoscNetto": -1249.99
    })))
    .unwrap()
    .check()
    .unwrap();
    // -1249.99 × 23 % = -287.4977 → -287.50
    assert_eq!(kor.summary.vat, dec!(-287.50));
    assert_eq!(kor.summary.gross, dec!(-1537.49));
    assert!(kor.kind.is_correction());
}
