//! What a JPK_V7M row takes from a ledger invoice that the hub's canonical `Invoice` does not
//! model: optional keys next to the canonical fields (the canonical model ignores keys it does
//! not know, and the ledger keeps the document as sent). Checked when the invoice is recorded
//! (`POST /integrations/comarch/invoices` answers 422 naming `invoices[i].KEY`), read again
//! when a VAT file is written.
//!
//! ```json
//! { "invoice_number": "FV/2026/02/0001", …the canonical invoice…,
//!   "ksef_number": "5260250274-20260203-0A1B2C-3D4E5F-9A",
//!   "ksef_status": "failure",          // offline24 | unavailable | failure | outside | not_invoice
//!   "sale_date": "2026-02-27",         // DataSprzedazy, when it differs from issue_date
//!   "gtu": ["GTU_12"],                 // for the whole invoice…
//!   "lines": [{ …, "gtu": "GTU_06" }], // …or per line (the row gets the union)
//!   "procedures": ["TP"] }
//! ```
//!
//! A received invoice says `"direction": "purchase"` (its supplier is the canonical `seller`),
//! with `received_date` (`DataWplywu`; the period its VAT is deducted in) and `fixed_assets`
//! (K_40/K_41 instead of K_42/K_43); GTU, procedures and `sale_date` mark sales only.
//!
//! The KSeF mark (variant 3) is decided here, by the form's rules: the number whenever there is
//! one; without it `failure` (issued in KSeF's failure mode) is `OFF`, `offline24` and
//! `unavailable` are `DI` (the row is corrected once the number comes), `not_invoice` (a
//! document other than an invoice) is `DI`, and `outside` — or nothing said, the invoices this
//! hub hands over being issued by the core system, outside KSeF, unless it says otherwise — is
//! `BFK`.

use crate::invoices::Direction;
use crate::jpk::{Gtu, KsefMark, Procedure};
use chrono::NaiveDate;
use serde::Deserialize;
use std::collections::BTreeSet;

/// How an invoice stands with KSeF when it has no KSeF number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KsefStatus {
    /// Issued offline24 (art. 106nda), not yet sent: `DI`.
    Offline24,
    /// Issued while KSeF was unavailable (art. 106nh): `DI`.
    Unavailable,
    /// Issued in KSeF's failure mode (art. 106nf ust. 1): `OFF`.
    Failure,
    /// Issued outside KSeF (to a consumer, an exempt issuer, a total failure): `BFK`.
    Outside,
    /// A document other than an invoice: `DI`.
    NotInvoice,
}

#[derive(Debug, Default, Deserialize)]
struct LineKeys {
    #[serde(default)]
    gtu: Option<String>,
}

/// The keys as sent (everything else in the document is the canonical invoice's).
#[derive(Debug, Default, Deserialize)]
struct Keys {
    #[serde(default)]
    direction: Direction,
    #[serde(default)]
    received_date: Option<NaiveDate>,
    #[serde(default)]
    fixed_assets: bool,
    #[serde(default)]
    ksef_number: Option<String>,
    #[serde(default)]
    ksef_status: Option<KsefStatus>,
    #[serde(default)]
    sale_date: Option<NaiveDate>,
    #[serde(default)]
    gtu: Vec<String>,
    #[serde(default)]
    procedures: Vec<String>,
    #[serde(default)]
    lines: Vec<LineKeys>,
}

/// A problem with one key, named as it sits in the invoice (`gtu[1]`, `lines[0].gtu`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

fn field_error(field: impl Into<String>, message: impl Into<String>) -> FieldError {
    FieldError {
        field: field.into(),
        message: message.into(),
    }
}

/// The JPK markers of one invoice, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JpkMarks {
    pub direction: Direction,
    /// A purchase's `DataWplywu`.
    pub received_date: Option<NaiveDate>,
    /// A purchase of fixed assets.
    pub fixed_assets: bool,
    pub ksef: KsefMark,
    pub sale_date: Option<NaiveDate>,
    pub gtu: BTreeSet<Gtu>,
    pub procedures: BTreeSet<Procedure>,
}

impl JpkMarks {
    /// Read and check the keys of a canonical invoice document.
    pub fn from_document(doc: &serde_json::Value) -> Result<JpkMarks, FieldError> {
        let keys: Keys = serde_path_to_error::deserialize(doc)
            .map_err(|e| field_error(e.path().to_string(), e.inner().to_string()))?;
        let number = keys
            .ksef_number
            .as_deref()
            .map(str::trim)
            .filter(|n| !n.is_empty());
        let ksef = match (number, keys.ksef_status) {
            (Some(_), Some(s @ (KsefStatus::Outside | KsefStatus::NotInvoice))) => {
                return Err(field_error(
                    "ksef_number",
                    format!(
                        "an invoice {} has no KSeF number; drop one of `ksef_number` and `ksef_status`",
                        if s == KsefStatus::Outside {
                            "issued outside KSeF"
                        } else {
                            "that is not an invoice"
                        }
                    ),
                ));
            }
            (Some(n), _) => {
                check_ksef_number(n)?;
                KsefMark::Number(n.to_owned())
            }
            (None, Some(KsefStatus::Failure)) => KsefMark::Off,
            (
                None,
                Some(KsefStatus::Offline24 | KsefStatus::Unavailable | KsefStatus::NotInvoice),
            ) => KsefMark::Di,
            (None, Some(KsefStatus::Outside) | None) => KsefMark::Bfk,
        };
        match keys.direction {
            Direction::Sale => {
                if keys.received_date.is_some() || keys.fixed_assets {
                    let key = if keys.fixed_assets {
                        "fixed_assets"
                    } else {
                        "received_date"
                    };
                    return Err(field_error(
                        key,
                        "only a purchase (`\"direction\": \"purchase\"`) has it",
                    ));
                }
            }
            Direction::Purchase => {
                let sales_only = [
                    ("sale_date", keys.sale_date.is_some()),
                    ("gtu", !keys.gtu.is_empty()),
                    ("procedures", !keys.procedures.is_empty()),
                    ("lines", keys.lines.iter().any(|l| l.gtu.is_some())),
                ];
                if let Some((key, _)) = sales_only.iter().find(|(_, set)| *set) {
                    return Err(field_error(
                        *key,
                        "marks a sales row; a purchase has none (JPK_V7M's purchase rows carry no GTU, procedures or date of supply)",
                    ));
                }
            }
        }
        let mut gtu = BTreeSet::new();
        for (i, g) in keys.gtu.iter().enumerate() {
            gtu.insert(Gtu::parse(g).map_err(|m| field_error(format!("gtu[{i}]"), m))?);
        }
        for (i, l) in keys.lines.iter().enumerate() {
            if let Some(g) = l.gtu.as_deref().filter(|g| !g.trim().is_empty()) {
                gtu.insert(Gtu::parse(g).map_err(|m| field_error(format!("lines[{i}].gtu"), m))?);
            }
        }
        let mut procedures = BTreeSet::new();
        for (i, p) in keys.procedures.iter().enumerate() {
            procedures.insert(
                Procedure::parse(p).map_err(|m| field_error(format!("procedures[{i}]"), m))?,
            );
        }
        Ok(JpkMarks {
            direction: keys.direction,
            received_date: keys.received_date,
            fixed_assets: keys.fixed_assets,
            ksef,
            sale_date: keys.sale_date,
            gtu,
            procedures,
        })
    }
}

/// A KSeF number: the issuer's NIP, the date KSeF took the invoice, and the technical part
/// (`5260250274-20260203-0A1B2C-3D4E5F-9A`; the middle dash is optional), as the form's type
/// `TNrKSeF` has it.
fn check_ksef_number(n: &str) -> Result<(), FieldError> {
    let bad = || {
        field_error(
            "ksef_number",
            format!("`{n}` is not a KSeF number (NIP-YYYYMMDD-XXXXXX-XXXXXX-XX, hex in capitals)"),
        )
    };
    let parts: Vec<&str> = n.split('-').collect();
    let (nip, date, rest) = match parts.as_slice() {
        [nip, date, a, b, c] => (*nip, *date, [*a, *b, *c].concat()),
        [nip, date, ab, c] if ab.len() == 12 => (*nip, *date, [*ab, *c].concat()),
        _ => return Err(bad()),
    };
    let hex = |s: &str| {
        s.bytes()
            .all(|b| b.is_ascii_digit() || (b'A'..=b'F').contains(&b))
    };
    if crate::polish::Nip::parse(nip, "ksef_number").is_err()
        || nip.len() != 10
        || NaiveDate::parse_from_str(date, "%Y%m%d").is_err()
        || date.len() != 8
        || rest.len() != 14
        || !hex(&rest)
    {
        return Err(bad());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn marks(v: serde_json::Value) -> Result<JpkMarks, FieldError> {
        JpkMarks::from_document(&v)
    }

    #[test]
    fn the_ksef_mark_follows_the_form_rules() {
        let n = "5260250274-20260203-0A1B2C-3D4E5F-9A";
        for (doc, want) in [
            (json!({}), KsefMark::Bfk),
            (json!({"ksef_status": "outside"}), KsefMark::Bfk),
            (json!({"ksef_status": "failure"}), KsefMark::Off),
            (json!({"ksef_status": "offline24"}), KsefMark::Di),
            (json!({"ksef_status": "unavailable"}), KsefMark::Di),
            (json!({"ksef_status": "not_invoice"}), KsefMark::Di),
            (json!({"ksef_number": n}), KsefMark::Number(n.into())),
            // A number wins over the mode it was issued in.
            (
                json!({"ksef_number": n, "ksef_status": "offline24"}),
                KsefMark::Number(n.into()),
            ),
            (
                json!({"ksef_number": "5260250274-20260203-0A1B2C3D4E5F-9A"}),
                KsefMark::Number("5260250274-20260203-0A1B2C3D4E5F-9A".into()),
            ),
        ] {
            assert_eq!(marks(doc.clone()).unwrap().ksef, want, "{doc}");
        }
        for (doc, field) in [
            (
                json!({"ksef_number": n, "ksef_status": "outside"}),
                "ksef_number",
            ),
            (
                json!({"ksef_number": "5260250275-20260203-0A1B2C-3D4E5F-9A"}),
                "ksef_number",
            ),
            (
                json!({"ksef_number": "5260250274-20261303-0A1B2C-3D4E5F-9A"}),
                "ksef_number",
            ),
            (
                json!({"ksef_number": "5260250274-20260203-0a1b2c-3D4E5F-9A"}),
                "ksef_number",
            ),
            (json!({"ksef_status": "sometimes"}), "ksef_status"),
        ] {
            assert_eq!(marks(doc.clone()).unwrap_err().field, field, "{doc}");
        }
    }

    #[test]
    fn gtu_and_procedures_are_checked_and_ordered() {
        let m = marks(json!({
            "gtu": ["GTU_12"],
            "lines": [{"gtu": "gtu_06"}, {"sku": "x"}, {"gtu": "GTU_12"}],
            "procedures": ["TP", "WSTO_EE"],
            "sale_date": "2026-02-27"
        }))
        .unwrap();
        let gtu: Vec<String> = m.gtu.iter().map(|g| g.to_string()).collect();
        assert_eq!(gtu, ["GTU_06", "GTU_12"]);
        let p: Vec<&str> = m.procedures.iter().map(|p| p.code()).collect();
        assert_eq!(p, ["WSTO_EE", "TP"]);
        assert_eq!(m.sale_date, NaiveDate::from_ymd_opt(2026, 2, 27));

        let e = marks(json!({"lines": [{}, {"gtu": "GTU_14"}]})).unwrap_err();
        assert_eq!(e.field, "lines[1].gtu");
        let e = marks(json!({"procedures": ["TP", "MPP"]})).unwrap_err();
        assert_eq!(e.field, "procedures[1]");
        assert!(e.message.contains("variant 2"), "{e}");
        let e = marks(json!({"sale_date": "27.02.2026"})).unwrap_err();
        assert_eq!(e.field, "sale_date");
    }

    #[test]
    fn a_purchase_has_its_own_keys_and_none_of_a_sales() {
        let m = marks(
            json!({"direction": "purchase", "received_date": "2026-03-02", "fixed_assets": true}),
        )
        .unwrap();
        assert_eq!(m.direction, Direction::Purchase);
        assert_eq!(m.received_date, NaiveDate::from_ymd_opt(2026, 3, 2));
        assert!(m.fixed_assets);
        assert_eq!(m.ksef, KsefMark::Bfk);
        assert_eq!(marks(json!({})).unwrap().direction, Direction::Sale);
        for (doc, field) in [
            (json!({"direction": "purchase", "gtu": ["GTU_01"]}), "gtu"),
            (
                json!({"direction": "purchase", "lines": [{"gtu": "GTU_01"}]}),
                "lines",
            ),
            (
                json!({"direction": "purchase", "sale_date": "2026-03-02"}),
                "sale_date",
            ),
            (json!({"received_date": "2026-03-02"}), "received_date"),
            (json!({"fixed_assets": true}), "fixed_assets"),
            (json!({"direction": "sideways"}), "direction"),
        ] {
            assert_eq!(marks(doc.clone()).unwrap_err().field, field, "{doc}");
        }
    }
}
