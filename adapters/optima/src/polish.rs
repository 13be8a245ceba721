//! Polish invoicing rules, pure: the NIP checksum, the VAT rates Optima knows, money to the
//! grosz, the per-rate summary (net + VAT = gross per rate and in total) and what a correction
//! (FSKOR) must carry. No I/O; the writer, the REST client and the fake all call these, so
//! what we send and what the fake refuses follow one definition.
//!
//! **Rounding, as Optima does it for a sales invoice computed "od netto" (from net):** each
//! line's net is rounded to the grosz (`quantity × unit price`, half away from zero); the VAT
//! is computed once per rate from the sum of that rate's line nets and rounded to the grosz;
//! gross per rate = net + VAT; the document's totals are the sums over the rates. This is
//! the VAT register's shape (`REJESTR_SPRZEDAZY_VAT/POZYCJE` holds one row per rate with
//! `NETTO` and `VAT`), and what art. 106e ust. 10 of the VAT act allows. It can differ by a
//! grosz from summing per-line VAT (`switchyard_core::model::Invoice::vat_total`), which is
//! why the Optima documents carry the amounts computed here.

use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;
use thiserror::Error;

/// A broken Polish rule, naming the field it is about.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum RuleError {
    #[error("{field}: NIP `{value}` must be 10 digits (an optional `PL` prefix, spaces and dashes are allowed)")]
    NipShape { field: String, value: String },
    #[error("{field}: NIP `{value}` fails the checksum (weights 6,5,7,2,3,4,5,6,7 mod 11)")]
    NipChecksum { field: String, value: String },
    #[error("{field}: VAT rate `{value}` is not one Optima knows (23, 8, 5, 0, zw, np, oo)")]
    VatRate { field: String, value: String },
    #[error("{field}: {value} has more than two decimal places (amounts are to the grosz)")]
    NotGrosz { field: String, value: Decimal },
    #[error("{field}: net {net} + VAT {vat} = {sum}, not the gross {gross}")]
    Unbalanced {
        field: String,
        net: Decimal,
        vat: Decimal,
        sum: Decimal,
        gross: Decimal,
    },
    #[error("{field}: VAT for {rate} on net {net} is {expected}, not {got}")]
    VatAmount {
        field: String,
        rate: VatRate,
        net: Decimal,
        expected: Decimal,
        got: Decimal,
    },
    #[error("{field}: a correction (FSKOR) must name the invoice it corrects")]
    CorrectionWithoutOriginal { field: String },
    #[error("{field}: a correction cannot correct itself (`{number}`)")]
    CorrectionOfItself { field: String, number: String },
    #[error("{field}: `{number}` names a corrected invoice but is not a correction")]
    OriginalWithoutCorrection { field: String, number: String },
}

impl RuleError {
    /// The field the problem is about (`Kontrahent.NIP`, `Pozycja[2].StawkaVAT`).
    pub fn field(&self) -> &str {
        match self {
            RuleError::NipShape { field, .. }
            | RuleError::NipChecksum { field, .. }
            | RuleError::VatRate { field, .. }
            | RuleError::NotGrosz { field, .. }
            | RuleError::Unbalanced { field, .. }
            | RuleError::VatAmount { field, .. }
            | RuleError::CorrectionWithoutOriginal { field }
            | RuleError::CorrectionOfItself { field, .. }
            | RuleError::OriginalWithoutCorrection { field, .. } => field,
        }
    }
}

/// A Polish tax id (NIP): ten digits whose last is the weighted checksum of the first nine.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct Nip(String);

const NIP_WEIGHTS: [u32; 9] = [6, 5, 7, 2, 3, 4, 5, 6, 7];

impl Nip {
    /// Accepts `5260250274`, `PL5260250274`, `526-025-02-74`, `PL 526 025 02 74`; keeps the
    /// bare ten digits. `field` names where the value came from in the error.
    pub fn parse(value: &str, field: &str) -> Result<Nip, RuleError> {
        let shape = || RuleError::NipShape {
            field: field.to_owned(),
            value: value.to_owned(),
        };
        let trimmed = value.trim();
        let rest = trimmed
            .strip_prefix("PL")
            .or_else(|| trimmed.strip_prefix("pl"))
            .unwrap_or(trimmed);
        let digits: String = rest.chars().filter(|c| !matches!(c, ' ' | '-')).collect();
        if digits.len() != 10 || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(shape());
        }
        let d: Vec<u32> = digits.bytes().map(|b| u32::from(b - b'0')).collect();
        let sum: u32 = NIP_WEIGHTS.iter().zip(&d).map(|(w, x)| w * x).sum();
        // A remainder of 10 can never match a digit: such numbers are never issued.
        if sum % 11 != d[9] {
            return Err(RuleError::NipChecksum {
                field: field.to_owned(),
                value: value.to_owned(),
            });
        }
        Ok(Nip(digits))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Nip {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The VAT rates of Optima's Polish VAT register.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum VatRate {
    R23,
    R8,
    R5,
    R0,
    /// `zw`: exempt (zwolniona).
    Zw,
    /// `np`: not subject to Polish VAT (nie podlega).
    Np,
    /// `oo`: reverse charge (odwrotne obciążenie); the buyer accounts for the VAT.
    Oo,
}

impl VatRate {
    pub const ALL: [VatRate; 7] = [
        VatRate::R23,
        VatRate::R8,
        VatRate::R5,
        VatRate::R0,
        VatRate::Zw,
        VatRate::Np,
        VatRate::Oo,
    ];

    /// `23`, `23.00`, `8`, `0`, `zw`, `ZW`, `np`, `oo`.
    pub fn parse(value: &str, field: &str) -> Result<VatRate, RuleError> {
        let v = value.trim().to_ascii_lowercase();
        let bad = || RuleError::VatRate {
            field: field.to_owned(),
            value: value.to_owned(),
        };
        match v.as_str() {
            "zw" => return Ok(VatRate::Zw),
            "np" => return Ok(VatRate::Np),
            "oo" => return Ok(VatRate::Oo),
            _ => {}
        }
        let d: Decimal = v.parse().map_err(|_| bad())?;
        Self::from_percent(d).ok_or_else(bad)
    }

    pub fn from_percent(d: Decimal) -> Option<VatRate> {
        [
            (23, VatRate::R23),
            (8, VatRate::R8),
            (5, VatRate::R5),
            (0, VatRate::R0),
        ]
        .into_iter()
        .find(|(p, _)| d == Decimal::from(*p))
        .map(|(_, r)| r)
    }

    /// The percentage VAT is computed with; the letter rates carry no Polish VAT.
    pub fn percent(self) -> Decimal {
        match self {
            VatRate::R23 => Decimal::from(23),
            VatRate::R8 => Decimal::from(8),
            VatRate::R5 => Decimal::from(5),
            VatRate::R0 | VatRate::Zw | VatRate::Np | VatRate::Oo => Decimal::ZERO,
        }
    }

    /// As the offline XML writes `STAWKA_VAT` (`23.00`, `0.00`; the letter rates as 0.00 with
    /// their status in `STATUS_VAT`).
    pub fn xml_rate(self) -> String {
        format!("{:.2}", self.percent())
    }

    /// `STATUS_VAT` of a VAT register line.
    pub fn xml_status(self) -> &'static str {
        match self {
            VatRate::R23 | VatRate::R8 | VatRate::R5 | VatRate::R0 => "opodatkowana",
            VatRate::Zw => "zwolniona",
            VatRate::Np => "nie podlega",
            VatRate::Oo => "odwrotne obciążenie",
        }
    }

    /// Inverse of the XML pair (`STAWKA_VAT`, `STATUS_VAT`).
    pub fn from_xml(rate: &str, status: &str, field: &str) -> Result<VatRate, RuleError> {
        let bad = || RuleError::VatRate {
            field: field.to_owned(),
            value: format!("{rate} {status}"),
        };
        match status {
            "opodatkowana" => {
                let d: Decimal = rate.trim().parse().map_err(|_| bad())?;
                Self::from_percent(d).ok_or_else(bad)
            }
            "zwolniona" => Ok(VatRate::Zw),
            "nie podlega" => Ok(VatRate::Np),
            "odwrotne obciążenie" => Ok(VatRate::Oo),
            _ => Err(bad()),
        }
    }
}

impl fmt::Display for VatRate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            VatRate::R23 => "23",
            VatRate::R8 => "8",
            VatRate::R5 => "5",
            VatRate::R0 => "0",
            VatRate::Zw => "zw",
            VatRate::Np => "np",
            VatRate::Oo => "oo",
        })
    }
}

/// Round to the grosz, half away from zero (0.005 → 0.01), as Polish invoices round.
pub fn grosz(d: Decimal) -> Decimal {
    d.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero)
}

/// An amount that must already be to the grosz.
pub fn exact_grosz(d: Decimal, field: &str) -> Result<Decimal, RuleError> {
    if d.normalize().scale() > 2 {
        Err(RuleError::NotGrosz {
            field: field.to_owned(),
            value: d,
        })
    } else {
        Ok(d)
    }
}

/// One line's net: quantity × unit price, to the grosz.
pub fn line_net(quantity: Decimal, unit_price: Decimal) -> Decimal {
    grosz(quantity * unit_price)
}

/// VAT on a rate's summed net, to the grosz.
pub fn vat_for(rate: VatRate, net: Decimal) -> Decimal {
    grosz(net * rate.percent() / Decimal::ONE_HUNDRED)
}

/// One rate's row of the summary.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct RateTotal {
    pub rate: VatRate,
    pub net: Decimal,
    pub vat: Decimal,
    pub gross: Decimal,
}

/// The document's amounts per rate (in rate order) and in total.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Summary {
    pub rates: Vec<RateTotal>,
    pub net: Decimal,
    pub vat: Decimal,
    pub gross: Decimal,
}

impl Summary {
    /// From the lines' (rate, net) pairs, nets already to the grosz.
    pub fn from_lines(lines: impl IntoIterator<Item = (VatRate, Decimal)>) -> Summary {
        let mut by_rate: BTreeMap<VatRate, Decimal> = BTreeMap::new();
        for (rate, net) in lines {
            *by_rate.entry(rate).or_default() += net;
        }
        let rates: Vec<RateTotal> = by_rate
            .into_iter()
            .map(|(rate, net)| {
                let vat = vat_for(rate, net);
                RateTotal {
                    rate,
                    net,
                    vat,
                    gross: net + vat,
                }
            })
            .collect();
        let net = rates.iter().map(|r| r.net).sum();
        let vat = rates.iter().map(|r| r.vat).sum();
        Summary {
            gross: net + vat,
            rates,
            net,
            vat,
        }
    }

    /// Checks amounts a partner (or a file) states against the rules: each rate's VAT is the
    /// rounded VAT of its net, net + VAT = gross per rate, and the totals add up. `field`
    /// prefixes the names in errors.
    pub fn check_stated(
        stated: &[RateTotal],
        total_gross: Decimal,
        field: &str,
    ) -> Result<(), RuleError> {
        for (i, r) in stated.iter().enumerate() {
            let f = format!("{field}[{}]", i + 1);
            exact_grosz(r.net, &format!("{f}.NETTO"))?;
            exact_grosz(r.vat, &format!("{f}.VAT"))?;
            let expected = vat_for(r.rate, r.net);
            if expected != r.vat {
                return Err(RuleError::VatAmount {
                    field: format!("{f}.VAT"),
                    rate: r.rate,
                    net: r.net,
                    expected,
                    got: r.vat,
                });
            }
            if r.net + r.vat != r.gross {
                return Err(RuleError::Unbalanced {
                    field: f,
                    net: r.net,
                    vat: r.vat,
                    sum: r.net + r.vat,
                    gross: r.gross,
                });
            }
        }
        let net: Decimal = stated.iter().map(|r| r.net).sum();
        let vat: Decimal = stated.iter().map(|r| r.vat).sum();
        if net + vat != total_gross {
            return Err(RuleError::Unbalanced {
                field: format!("{field} (total)"),
                net,
                vat,
                sum: net + vat,
                gross: total_gross,
            });
        }
        Ok(())
    }
}

/// Whether a document is an invoice or a correction, and what a correction corrects.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum DocKind {
    /// FS, faktura sprzedaży.
    Invoice,
    /// FSKOR, a correction of the sales invoice numbered `corrects`.
    Correction { corrects: String },
}

impl DocKind {
    /// A correction (`is_correction`, Optima's `KOREKTA = Tak`) must name the invoice it
    /// corrects, and only a correction may; a correction of itself is refused.
    pub fn classify(
        number: &str,
        is_correction: bool,
        corrects: Option<&str>,
        field: &str,
    ) -> Result<DocKind, RuleError> {
        match (
            is_correction,
            corrects.map(str::trim).filter(|s| !s.is_empty()),
        ) {
            (false, None) => Ok(DocKind::Invoice),
            (true, None) => Err(RuleError::CorrectionWithoutOriginal {
                field: field.to_owned(),
            }),
            (_, Some(orig)) if orig == number.trim() => Err(RuleError::CorrectionOfItself {
                field: field.to_owned(),
                number: number.to_owned(),
            }),
            (true, Some(orig)) => Ok(DocKind::Correction {
                corrects: orig.to_owned(),
            }),
            (false, Some(_)) => Err(RuleError::OriginalWithoutCorrection {
                field: field.to_owned(),
                number: number.to_owned(),
            }),
        }
    }

    pub fn is_correction(&self) -> bool {
        matches!(self, DocKind::Correction { .. })
    }
}
