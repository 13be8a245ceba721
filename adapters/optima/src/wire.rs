//! The invoice as the mapping file `mappings/optima/invoice.out.toml` writes it (the PRD's
//! field table: `NumerDokumentu`, `DataWystawienia`, `Kontrahent.Nazwa/NIP`,
//! `Pozycja[].KodTowaru/Ilosc/CenaJedn/StawkaVAT`, `WartoscNetto`, `WartoscBrutto`), and its
//! check against the Polish rules into [`CheckedInvoice`], which both surfaces send.
//!
//! The REST surface posts [`Faktura`] as JSON (the PRD names the fields; the partner REST
//! layer is not public, so the shape is the PRD's). The XML surface writes the checked invoice
//! into the offline XML (`offline.rs`).

use crate::polish::{exact_grosz, line_net, DocKind, Nip, RuleError, Summary, VatRate};
use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// A rate as the mapping writes it: a number (`23`) or a letter code (`"zw"`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum RateValue {
    Number(Decimal),
    Code(String),
}

impl RateValue {
    fn parse(&self, field: &str) -> Result<VatRate, RuleError> {
        match self {
            RateValue::Number(d) => VatRate::from_percent(*d).ok_or(RuleError::VatRate {
                field: field.to_owned(),
                value: d.to_string(),
            }),
            RateValue::Code(s) => VatRate::parse(s, field),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Kontrahent {
    /// Our customer id; becomes the contractor's `AKRONIM` (Optima's unique code).
    #[serde(rename = "Kod", default, skip_serializing_if = "Option::is_none")]
    pub kod: Option<String>,
    #[serde(rename = "Nazwa")]
    pub nazwa: String,
    #[serde(rename = "NIP")]
    pub nip: String,
    #[serde(rename = "Miasto", default, skip_serializing_if = "Option::is_none")]
    pub miasto: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Pozycja {
    #[serde(rename = "Lp", default, skip_serializing_if = "Option::is_none")]
    pub lp: Option<u32>,
    #[serde(rename = "KodTowaru")]
    pub kod_towaru: String,
    #[serde(rename = "Nazwa", default, skip_serializing_if = "Option::is_none")]
    pub nazwa: Option<String>,
    #[serde(rename = "Ilosc", with = "rust_decimal::serde::arbitrary_precision")]
    pub ilosc: Decimal,
    #[serde(rename = "JM", default, skip_serializing_if = "Option::is_none")]
    pub jm: Option<String>,
    #[serde(rename = "CenaJedn", with = "rust_decimal::serde::arbitrary_precision")]
    pub cena_jedn: Decimal,
    #[serde(rename = "StawkaVAT")]
    pub stawka_vat: RateValue,
}

/// The PRD's invoice JSON (`POST /api/faktury`), and the mapping's output.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Faktura {
    #[serde(rename = "NumerDokumentu")]
    pub numer_dokumentu: String,
    #[serde(rename = "DataWystawienia")]
    pub data_wystawienia: NaiveDate,
    #[serde(
        rename = "TerminPlatnosci",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub termin_platnosci: Option<NaiveDate>,
    #[serde(rename = "Waluta", default, skip_serializing_if = "Option::is_none")]
    pub waluta: Option<String>,
    /// A correction (FSKOR) carries `Korekta = true` and the corrected invoice's number.
    #[serde(
        rename = "Korekta",
        default,
        skip_serializing_if = "std::ops::Not::not"
    )]
    pub korekta: bool,
    #[serde(
        rename = "NumerKorygowanego",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub numer_korygowanego: Option<String>,
    #[serde(rename = "Kontrahent")]
    pub kontrahent: Kontrahent,
    #[serde(rename = "Pozycja")]
    pub pozycja: Vec<Pozycja>,
    #[serde(
        rename = "WartoscNetto",
        default,
        skip_serializing_if = "Option::is_none",
        with = "rust_decimal::serde::arbitrary_precision_option"
    )]
    pub wartosc_netto: Option<Decimal>,
    /// Optional from the mapping: a mapping cannot group lines by rate, so the adapter
    /// computes the gross the way Optima does (VAT per rate) and fills it in; a stated one must
    /// agree.
    #[serde(
        rename = "WartoscBrutto",
        default,
        skip_serializing_if = "Option::is_none",
        with = "rust_decimal::serde::arbitrary_precision_option"
    )]
    pub wartosc_brutto: Option<Decimal>,
}

/// One checked line.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Line {
    pub sku: String,
    pub name: Option<String>,
    pub quantity: Decimal,
    pub uom: Option<String>,
    pub unit_price: Decimal,
    pub rate: VatRate,
    pub net: Decimal,
}

/// An invoice that passed every Polish rule: what both surfaces send.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CheckedInvoice {
    pub number: String,
    pub kind: DocKind,
    pub issue_date: NaiveDate,
    pub due_date: Option<NaiveDate>,
    pub currency: String,
    /// The contractor's `AKRONIM`.
    pub contractor_code: String,
    pub contractor_name: String,
    pub contractor_city: Option<String>,
    pub nip: Nip,
    pub lines: Vec<Line>,
    pub summary: Summary,
}

/// Why a mapped invoice cannot go to Optima: a shape problem or a broken Polish rule, each
/// naming its field. Permanent: the same document is refused again until it is fixed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvoiceError {
    #[error("the mapped invoice does not have the Optima shape: {0}")]
    Shape(String),
    #[error("{field}: {message}")]
    Field { field: String, message: String },
    #[error(transparent)]
    Rule(#[from] RuleError),
}

impl Faktura {
    pub fn from_json(v: &serde_json::Value) -> Result<Faktura, InvoiceError> {
        serde_path_to_error::deserialize(v)
            .map_err(|e| InvoiceError::Shape(format!("{}: {}", e.path(), e.inner())))
    }

    /// Apply the Polish rules; the result carries amounts computed Optima's way.
    pub fn check(&self) -> Result<CheckedInvoice, InvoiceError> {
        let required = |field: &str, v: &str| -> Result<String, InvoiceError> {
            let t = v.trim();
            if t.is_empty() {
                Err(InvoiceError::Field {
                    field: field.to_owned(),
                    message: "is required".into(),
                })
            } else {
                Ok(t.to_owned())
            }
        };
        let number = required("NumerDokumentu", &self.numer_dokumentu)?;
        let kind = DocKind::classify(
            &number,
            self.korekta,
            self.numer_korygowanego.as_deref(),
            "NumerKorygowanego",
        )?;
        let nip = Nip::parse(&self.kontrahent.nip, "Kontrahent.NIP")?;
        let contractor_name = required("Kontrahent.Nazwa", &self.kontrahent.nazwa)?;
        // Optima's AKRONIM is unique per company; without our customer code the NIP is the
        // one stable key we have.
        let contractor_code = match self.kontrahent.kod.as_deref().map(str::trim) {
            Some(k) if !k.is_empty() => k.to_owned(),
            _ => nip.to_string(),
        };
        if self.pozycja.is_empty() {
            return Err(InvoiceError::Field {
                field: "Pozycja".into(),
                message: "an invoice needs at least one line".into(),
            });
        }
        let mut lines = Vec::with_capacity(self.pozycja.len());
        for (i, p) in self.pozycja.iter().enumerate() {
            let f = format!("Pozycja[{}]", i + 1);
            let rate = p.stawka_vat.parse(&format!("{f}.StawkaVAT"))?;
            exact_grosz(p.cena_jedn, &format!("{f}.CenaJedn"))?;
            if p.ilosc.is_zero() {
                return Err(InvoiceError::Field {
                    field: format!("{f}.Ilosc"),
                    message: "a line cannot have quantity 0".into(),
                });
            }
            if p.ilosc.is_sign_negative() && !kind.is_correction() {
                return Err(InvoiceError::Field {
                    field: format!("{f}.Ilosc"),
                    message: "negative quantities belong on a correction (Korekta)".into(),
                });
            }
            lines.push(Line {
                sku: required(&format!("{f}.KodTowaru"), &p.kod_towaru)?,
                name: p.nazwa.clone().filter(|n| !n.is_empty()),
                quantity: p.ilosc,
                uom: p.jm.clone(),
                unit_price: p.cena_jedn,
                rate,
                net: line_net(p.ilosc, p.cena_jedn),
            });
        }
        let summary = Summary::from_lines(lines.iter().map(|l| (l.rate, l.net)));
        for (field, stated, computed) in [
            ("WartoscNetto", self.wartosc_netto, summary.net),
            ("WartoscBrutto", self.wartosc_brutto, summary.gross),
        ] {
            if let Some(s) = stated {
                if s != computed {
                    return Err(InvoiceError::Field {
                        field: field.into(),
                        message: format!(
                            "states {s}, but the lines give {computed} (net per line to the grosz, VAT per rate)"
                        ),
                    });
                }
            }
        }
        Ok(CheckedInvoice {
            number,
            kind,
            issue_date: self.data_wystawienia,
            due_date: self.termin_platnosci,
            currency: self
                .waluta
                .clone()
                .filter(|w| !w.is_empty())
                .unwrap_or_else(|| "PLN".into()),
            contractor_code,
            contractor_name,
            contractor_city: self.kontrahent.miasto.clone(),
            nip,
            lines,
            summary,
        })
    }
}

impl CheckedInvoice {
    /// The PRD's JSON for the REST surface, with the totals computed Optima's way.
    pub fn to_faktura(&self) -> Faktura {
        Faktura {
            numer_dokumentu: self.number.clone(),
            data_wystawienia: self.issue_date,
            termin_platnosci: self.due_date,
            waluta: Some(self.currency.clone()),
            korekta: self.kind.is_correction(),
            numer_korygowanego: match &self.kind {
                DocKind::Correction { corrects } => Some(corrects.clone()),
                DocKind::Invoice => None,
            },
            kontrahent: Kontrahent {
                kod: Some(self.contractor_code.clone()),
                nazwa: self.contractor_name.clone(),
                nip: self.nip.to_string(),
                miasto: self.contractor_city.clone(),
            },
            pozycja: self
                .lines
                .iter()
                .enumerate()
                .map(|(i, l)| Pozycja {
                    lp: Some(i as u32 + 1),
                    kod_towaru: l.sku.clone(),
                    nazwa: l.name.clone(),
                    ilosc: l.quantity,
                    jm: l.uom.clone(),
                    cena_jedn: l.unit_price,
                    stawka_vat: match l.rate {
                        VatRate::Zw | VatRate::Np | VatRate::Oo => {
                            RateValue::Code(l.rate.to_string())
                        }
                        r => RateValue::Number(r.percent()),
                    },
                })
                .collect(),
            wartosc_netto: Some(self.summary.net),
            wartosc_brutto: Some(self.summary.gross),
        }
    }
}
