//! The offline XML ("praca rozproszona") we write into the exchange folder, and the result
//! file we read back for it.
//!
//! One file per document, so one result per document: `ROOT` in the offline namespace with
//! `KONTRAHENCI` (the buyer, created by Optima when its `AKRONIM` is new) and
//! `REJESTRY_SPRZEDAZY_VAT` (the invoice in the sales VAT register: a row per VAT rate with the
//! amounts computed per [`crate::polish`], and the payment). Each section starts with
//! `WERSJA` 2.00, `BAZA_ZRD_ID` (the source database: us) and `BAZA_DOC_ID` (the target company
//! code). windows-1250, `Tak`/`Nie` booleans. The subset we write is pinned by
//! `xsd/optima-offline.xsd`, which the tests validate every generated file against.
//!
//! **The result file is our assumption**: Optima's own import writes a log, not a per-document
//! file; the importer at the customer's site (Optima's "Automat" job or the partner's script)
//! is expected to write `NAME.result.xml` next to the inbound folder, shaped as
//! [`ImportResult`] reads it (see README.md).

use crate::polish::{DocKind, VatRate};
use crate::wire::CheckedInvoice;
use crate::xml::{self, escape, Element, NS};
use std::fmt::Write as _;
use uuid::Uuid;

/// The section version the writer declares and the importer expects.
pub const WERSJA: &str = "2.00";
/// `BAZA_ZRD_ID`: the source database's code (us).
pub const SOURCE_DB: &str = "SWITCHYARD";

pub fn tak_nie(b: bool) -> &'static str {
    if b {
        "Tak"
    } else {
        "Nie"
    }
}

/// Where the document goes in Optima: its company (`BAZA_DOC_ID`) and sales register.
#[derive(Debug, Clone)]
pub struct Target<'a> {
    pub company_code: &'a str,
    pub register: &'a str,
}

struct W(String);

impl W {
    fn el(&mut self, indent: usize, name: &str, value: &str) {
        let _ = writeln!(
            self.0,
            "{:indent$}<{name}>{}</{name}>",
            "",
            escape(value),
            indent = indent
        );
    }
    fn open(&mut self, indent: usize, name: &str) {
        let _ = writeln!(self.0, "{:indent$}<{name}>", "", indent = indent);
    }
    fn close(&mut self, indent: usize, name: &str) {
        let _ = writeln!(self.0, "{:indent$}</{name}>", "", indent = indent);
    }
    fn header(&mut self, t: &Target<'_>) {
        self.el(2, "WERSJA", WERSJA);
        self.el(2, "BAZA_ZRD_ID", SOURCE_DB);
        self.el(2, "BAZA_DOC_ID", t.company_code);
    }
}

/// The document's source id (`ID_ZRODLA`): stable per document and attempt key, so a file
/// written again for a redelivered job is the same file.
pub fn source_id(idempotency_key: &str) -> Uuid {
    Uuid::new_v5(&Uuid::NAMESPACE_OID, idempotency_key.as_bytes())
}

/// The offline XML for one invoice, as text (encode with [`to_bytes`]).
pub fn write_invoice(inv: &CheckedInvoice, target: &Target<'_>, id: Uuid) -> String {
    let mut w = W(String::with_capacity(4096));
    w.0.push_str("<?xml version=\"1.0\" encoding=\"windows-1250\"?>\n");
    let _ = writeln!(w.0, "<ROOT xmlns=\"{NS}\">");

    w.open(1, "KONTRAHENCI");
    w.header(target);
    w.open(2, "KONTRAHENT");
    w.el(
        3,
        "ID_ZRODLA",
        &Uuid::new_v5(&id, b"contractor").to_string(),
    );
    w.el(3, "AKRONIM", &inv.contractor_code);
    w.el(3, "RODZAJ", "odbiorca");
    w.el(3, "EKSPORT", "krajowy");
    w.el(3, "PLATNIK_VAT", tak_nie(true));
    w.el(3, "KRAJ_ISO", "PL");
    w.open(3, "ADRESY");
    w.open(4, "ADRES");
    w.el(5, "STATUS", "aktualny");
    w.el(5, "NAZWA1", &inv.contractor_name);
    if let Some(city) = &inv.contractor_city {
        w.el(5, "MIASTO", city);
    }
    w.el(5, "NIP_KRAJ", "PL");
    w.el(5, "NIP", inv.nip.as_str());
    w.close(4, "ADRES");
    w.close(3, "ADRESY");
    w.close(2, "KONTRAHENT");
    w.close(1, "KONTRAHENCI");

    w.open(1, "REJESTRY_SPRZEDAZY_VAT");
    w.header(target);
    w.open(2, "REJESTR_SPRZEDAZY_VAT");
    w.el(3, "ID_ZRODLA", &id.to_string());
    w.el(3, "MODUL", "Rejestr Vat");
    w.el(3, "REJESTR", target.register);
    let issue = inv.issue_date.to_string();
    w.el(3, "DATA_WYSTAWIENIA", &issue);
    w.el(3, "DATA_SPRZEDAZY", &issue);
    let due = inv.due_date.unwrap_or(inv.issue_date).to_string();
    w.el(3, "TERMIN", &due);
    w.el(3, "NUMER", &inv.number);
    w.el(3, "KOREKTA", tak_nie(inv.kind.is_correction()));
    if let DocKind::Correction { corrects } = &inv.kind {
        w.el(3, "KOREKTA_NUMER", corrects);
    }
    w.el(3, "FISKALNA", tak_nie(false));
    w.el(3, "DETALICZNA", tak_nie(false));
    w.el(3, "EKSPORT", "nie");
    w.el(3, "TYP_PODMIOTU", "kontrahent");
    w.el(3, "PODMIOT", &inv.contractor_code);
    w.el(3, "NAZWA1", &inv.contractor_name);
    w.el(3, "NIP_KRAJ", "PL");
    w.el(3, "NIP", inv.nip.as_str());
    w.el(3, "FORMA_PLATNOSCI", "przelew");
    w.el(3, "WALUTA", &inv.currency);
    w.open(3, "POZYCJE");
    for r in &inv.summary.rates {
        w.open(4, "POZYCJA");
        w.el(5, "STAWKA_VAT", &r.rate.xml_rate());
        w.el(5, "STATUS_VAT", r.rate.xml_status());
        w.el(5, "NETTO", &money(r.net));
        w.el(5, "VAT", &money(r.vat));
        w.el(5, "NETTO_SYS", &money(r.net));
        w.el(5, "VAT_SYS", &money(r.vat));
        w.el(5, "RODZAJ_SPRZEDAZY", "towary");
        w.close(4, "POZYCJA");
    }
    w.close(3, "POZYCJE");
    w.open(3, "PLATNOSCI");
    w.open(4, "PLATNOSC");
    w.el(5, "TERMIN_PLAT", &due);
    w.el(5, "FORMA_PLATNOSCI_PLAT", "przelew");
    w.el(5, "KWOTA_PLAT", &money(inv.summary.gross));
    w.el(5, "WALUTA_PLAT", &inv.currency);
    w.el(5, "KIERUNEK", "przychód");
    w.el(5, "PODLEGA_ROZLICZENIU", tak_nie(true));
    w.close(4, "PLATNOSC");
    w.close(3, "PLATNOSCI");
    w.close(2, "REJESTR_SPRZEDAZY_VAT");
    w.close(1, "REJESTRY_SPRZEDAZY_VAT");
    w.0.push_str("</ROOT>\n");
    w.0
}

fn money(d: rust_decimal::Decimal) -> String {
    format!("{d:.2}")
}

/// The bytes that go into the exchange folder.
pub fn to_bytes(text: &str) -> Vec<u8> {
    xml::encode_1250(text)
}

/// Per-rate amounts as a VAT register row states them (what the importer checks).
pub fn stated_rate(p: &Element, field: &str) -> Result<crate::polish::RateTotal, String> {
    let get = |n: &str| p.text_of(n).unwrap_or("");
    let rate = VatRate::from_xml(get("STAWKA_VAT"), get("STATUS_VAT"), field)
        .map_err(|e| e.to_string())?;
    let dec = |n: &str| -> Result<rust_decimal::Decimal, String> {
        get(n)
            .parse()
            .map_err(|_| format!("{field}.{n}: `{}` is not an amount", get(n)))
    };
    let net = dec("NETTO")?;
    let vat = dec("VAT")?;
    Ok(crate::polish::RateTotal {
        rate,
        net,
        vat,
        gross: net + vat,
    })
}

/// What Optima did with one document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ImportOutcome {
    /// Imported; Optima's own number for it (`FS/12/2026`).
    Imported { optima_number: String },
    /// Refused, with Optima's reason.
    Rejected { reason: String },
}

/// A result file: which document (our number, its `ID_ZRODLA`) and the outcome.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportResult {
    pub file: String,
    pub number: Option<String>,
    pub outcome: ImportOutcome,
}

/// The result file's name for a document file.
pub fn result_name(document_file: &str) -> String {
    let stem = document_file.strip_suffix(".xml").unwrap_or(document_file);
    format!("{stem}.result.xml")
}

impl ImportResult {
    /// `<WYNIK_IMPORTU xmlns=NS><PLIK/><NUMER/><STATUS>zaimportowany|odrzucony</STATUS>
    /// <NUMER_OPTIMA/>|<POWOD/></WYNIK_IMPORTU>`, windows-1250.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut w = W(String::new());
        w.0.push_str("<?xml version=\"1.0\" encoding=\"windows-1250\"?>\n");
        let _ = writeln!(w.0, "<WYNIK_IMPORTU xmlns=\"{NS}\">");
        w.el(1, "PLIK", &self.file);
        if let Some(n) = &self.number {
            w.el(1, "NUMER", n);
        }
        match &self.outcome {
            ImportOutcome::Imported { optima_number } => {
                w.el(1, "STATUS", "zaimportowany");
                w.el(1, "NUMER_OPTIMA", optima_number);
            }
            ImportOutcome::Rejected { reason } => {
                w.el(1, "STATUS", "odrzucony");
                w.el(1, "POWOD", reason);
            }
        }
        w.0.push_str("</WYNIK_IMPORTU>\n");
        xml::encode_1250(&w.0)
    }

    pub fn parse(bytes: &[u8]) -> Result<ImportResult, String> {
        let text = xml::decode_1250(bytes).map_err(|e| e.to_string())?;
        let root = xml::parse(&text)?;
        if root.name != "WYNIK_IMPORTU" || root.ns.as_deref() != Some(NS) {
            return Err(format!(
                "a result file's root is WYNIK_IMPORTU in {NS}, not {} in {}",
                root.name,
                root.ns.as_deref().unwrap_or("no namespace")
            ));
        }
        let outcome = match root.text_of("STATUS") {
            Some("zaimportowany") => ImportOutcome::Imported {
                optima_number: root
                    .text_of("NUMER_OPTIMA")
                    .filter(|s| !s.is_empty())
                    .ok_or("an imported document's result names no NUMER_OPTIMA")?
                    .to_owned(),
            },
            Some("odrzucony") => ImportOutcome::Rejected {
                reason: root
                    .text_of("POWOD")
                    .unwrap_or("no reason given")
                    .to_owned(),
            },
            other => return Err(format!("unknown result STATUS {other:?}")),
        };
        Ok(ImportResult {
            file: root.text_of("PLIK").unwrap_or_default().to_owned(),
            number: root.text_of("NUMER").map(str::to_owned),
            outcome,
        })
    }
}
