//! The offline XML writer: windows-1250 with Polish diacritics preserved, the section headers,
//! Tak/Nie, the per-rate rows; every generated file valid against xsd/optima-offline.xsd with
//! a real validator; the result file read back.

mod common;

use rust_decimal_macros::dec;
use switchyard_optima::offline::{self, ImportOutcome, ImportResult, Target};
use switchyard_optima::wire::Faktura;
use switchyard_optima::xml::{self, NS};

const TARGET: Target<'static> = Target {
    company_code: "STALHURT",
    register: "SPRZEDAŻ",
};

fn generated(number: &str) -> Vec<u8> {
    let inv = Faktura::from_json(&common::faktura(number, common::GOOD_NIP))
        .unwrap()
        .check()
        .unwrap();
    let text = offline::write_invoice(&inv, &TARGET, offline::source_id("job-1"));
    offline::to_bytes(&text)
}

#[test]
fn diacritics_round_trip_through_windows_1250() {
    let bytes = generated("FV/2026/11/0042");
    // Single windows-1250 bytes, not UTF-8 sequences: Ł = 0xA3, ó = 0xF3, ż = 0xBF, ę = 0xEA.
    let name = "Zakład Łódź — Żółć & Gęś Sp. z o.o.";
    assert!(
        bytes
            .windows(4)
            .any(|w| w == [b'\xa3', b'\xf3', b'd', b'\x9f']),
        "Łódź in cp1250"
    );
    assert!(std::str::from_utf8(&bytes).is_err(), "not UTF-8");
    let text = xml::decode_1250(&bytes).unwrap();
    let root = xml::parse(&text).unwrap();
    assert_eq!(root.name, "ROOT");
    assert_eq!(root.ns.as_deref(), Some(NS));
    let k = root
        .child("KONTRAHENCI")
        .unwrap()
        .child("KONTRAHENT")
        .unwrap();
    let adres = k.child("ADRESY").unwrap().child("ADRES").unwrap();
    assert_eq!(adres.text_of("NAZWA1"), Some(name));
    assert_eq!(adres.text_of("MIASTO"), Some("Łódź"));
    let reg = root.child("REJESTRY_SPRZEDAZY_VAT").unwrap();
    let doc = reg.child("REJESTR_SPRZEDAZY_VAT").unwrap();
    assert_eq!(doc.text_of("REJESTR"), Some("SPRZEDAŻ"));
    assert_eq!(doc.text_of("NAZWA1"), Some(name));
    let plat = doc.child("PLATNOSCI").unwrap().child("PLATNOSC").unwrap();
    assert_eq!(plat.text_of("KIERUNEK"), Some("przychód"));
    // A character windows-1250 lacks becomes a character reference, read back as itself.
    let odd = xml::encode_1250("<a>€ 😀 ą</a>");
    assert!(odd.windows(9).any(|w| w == b"&#128512;"));
    assert_eq!(
        xml::parse(
            &xml::decode_1250(
                &[
                    b"<?xml version=\"1.0\" encoding=\"windows-1250\"?>".as_slice(),
                    &odd
                ]
                .concat()
            )
            .unwrap()
        )
        .unwrap()
        .text,
        "€ 😀 ą"
    );
}

#[test]
fn sections_carry_their_version_and_database_ids_and_rows_per_rate() {
    let bytes = generated("FV/2026/11/0042");
    let root = xml::parse(&xml::decode_1250(&bytes).unwrap()).unwrap();
    for section in ["KONTRAHENCI", "REJESTRY_SPRZEDAZY_VAT"] {
        let s = root.child(section).unwrap();
        assert_eq!(s.text_of("WERSJA"), Some("2.00"), "{section}");
        assert_eq!(s.text_of("BAZA_ZRD_ID"), Some(offline::SOURCE_DB));
        assert_eq!(s.text_of("BAZA_DOC_ID"), Some("STALHURT"));
    }
    let doc = root
        .child("REJESTRY_SPRZEDAZY_VAT")
        .unwrap()
        .child("REJESTR_SPRZEDAZY_VAT")
        .unwrap();
    assert_eq!(doc.text_of("KOREKTA"), Some("Nie"));
    assert_eq!(doc.text_of("FISKALNA"), Some("Nie"));
    assert_eq!(doc.text_of("PODMIOT"), Some("C-2001"));
    assert_eq!(doc.text_of("NIP"), Some("5260250274"));
    let rows: Vec<(String, String, String, String)> = doc
        .child("POZYCJE")
        .unwrap()
        .children_named("POZYCJA")
        .map(|p| {
            (
                p.text_of("STAWKA_VAT").unwrap().to_owned(),
                p.text_of("STATUS_VAT").unwrap().to_owned(),
                p.text_of("NETTO").unwrap().to_owned(),
                p.text_of("VAT").unwrap().to_owned(),
            )
        })
        .collect();
    let row = |a: &str, b: &str, c: &str, d: &str| (a.into(), b.into(), c.into(), d.into());
    assert_eq!(
        rows,
        vec![
            row("23.00", "opodatkowana", "3749.97", "862.49"),
            row("8.00", "opodatkowana", "0.10", "0.01"),
            row("5.00", "opodatkowana", "80.00", "4.00"),
            row("0.00", "opodatkowana", "10.00", "0.00"),
            row("0.00", "zwolniona", "7.00", "0.00"),
            row("0.00", "nie podlega", "8.00", "0.00"),
            row("0.00", "odwrotne obciążenie", "9.00", "0.00"),
        ]
    );
    let plat = doc.child("PLATNOSCI").unwrap().child("PLATNOSC").unwrap();
    // 3864.07 net + 866.50 VAT
    assert_eq!(plat.text_of("KWOTA_PLAT"), Some("4730.57"));
    assert_eq!(plat.text_of("PODLEGA_ROZLICZENIU"), Some("Tak"));
}

#[test]
fn every_generated_file_is_valid_against_the_xsd() {
    common::validate(&generated("FV/2026/11/0042")).unwrap();
    // A correction, with KOREKTA_NUMER.
    let mut kor = common::faktura("FSKOR/2026/11/0001", common::GOOD_NIP);
    kor["Korekta"] = true.into();
    kor["NumerKorygowanego"] = "FV/2026/11/0042".into();
    kor["Pozycja"] = serde_json::json!([{"KodTowaru": "A36-PL", "Ilosc": -1, "CenaJedn": 1249.99, "StawkaVAT": 23}]);
    kor["WartoscNetto"] = serde_json::json!(-1249.99);
    let inv = Faktura::from_json(&kor).unwrap().check().unwrap();
    assert_eq!(inv.summary.gross, dec!(-1537.49));
    let text = offline::write_invoice(&inv, &TARGET, offline::source_id("job-2"));
    assert!(text.contains("<KOREKTA>Tak</KOREKTA>"));
    assert!(text.contains("<KOREKTA_NUMER>FV/2026/11/0042</KOREKTA_NUMER>"));
    common::validate(&offline::to_bytes(&text)).unwrap();
}

#[test]
fn the_xsd_refuses_what_optima_would() {
    // The validator really validates: a broken file fails, naming the element.
    let good = String::from_utf8_lossy(&generated("FV/1")).into_owned();
    for (from, to, element) in [
        ("<WERSJA>2.00</WERSJA>", "<WERSJA>1.00</WERSJA>", "WERSJA"),
        (
            "<KOREKTA>Nie</KOREKTA>",
            "<KOREKTA>nie</KOREKTA>",
            "KOREKTA",
        ),
        (
            "<STAWKA_VAT>8.00</STAWKA_VAT>",
            "<STAWKA_VAT>7.00</STAWKA_VAT>",
            "STAWKA_VAT",
        ),
        ("<NIP>5260250274</NIP>", "<NIP>526025027</NIP>", "NIP"),
        ("<BAZA_DOC_ID>STALHURT</BAZA_DOC_ID>", "", "BAZA_DOC_ID"),
    ] {
        assert!(good.contains(from), "{from}");
        let bad = good.replacen(from, to, 1);
        let err = common::validate(bad.as_bytes()).unwrap_err();
        assert!(err.contains(element), "{element}: {err}");
    }
}

#[test]
fn result_files_round_trip() {
    for outcome in [
        ImportOutcome::Imported {
            optima_number: "FS/12/2026".into(),
        },
        ImportOutcome::Rejected {
            reason: "NIP: zła suma kontrolna — popraw".into(),
        },
    ] {
        let r = ImportResult {
            file: "FV_1-abc.xml".into(),
            number: Some("FV/1".into()),
            outcome,
        };
        assert_eq!(ImportResult::parse(&r.to_bytes()).unwrap(), r);
    }
    assert_eq!(offline::result_name("FV_1-abc.xml"), "FV_1-abc.result.xml");
    assert!(ImportResult::parse(
        b"<?xml version=\"1.0\" encoding=\"windows-1250\"?><WYNIK_IMPORTU/>"
    )
    .is_err());
}
