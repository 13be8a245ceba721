//! Outbound documents: the envelope ([`enveloped`]: ISA/GS/ST or UNB/UNH with the control
//! numbers and clock passed in, around the body segments that the mapping files under
//! `mappings/edi/` produce through [`crate::tree::from_tree`]; the daemon runs them, see
//! adapters/edi/van/src/outbound.rs) and the SSCC-18 helpers for ship notices.
//!
//! Free text (`{"text": ...}` in the tree) is fitted to the element's maximum length and, in
//! X12 (which has no escape character), delimiter characters in it become spaces; identifiers
//! (PO numbers, SKUs) that contain a delimiter are refused with an error instead, because
//! silently changing an identifier would break the partner's matching.

use crate::partner::PartnerProfile;
use crate::syntax::Standard;
use crate::tree::BodySegment;
use crate::writer::{EdifactWriter, IsaFields, UnbFields, WriteError, X12Writer};
use chrono::NaiveDateTime;
use switchyard_core::model::Shipment;

/// The kinds of outbound document, with their envelope identifiers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutboundKind {
    /// 855 / ORDRSP.
    OrderResponse,
    /// 856 / DESADV.
    ShipNotice,
    /// 810 / INVOIC.
    Invoice,
}

impl OutboundKind {
    /// (GS01 functional id, ST01 set id) for X12, the UNH message type for EDIFACT.
    pub fn set_type(self, standard: Standard) -> &'static str {
        match (self, standard) {
            (OutboundKind::OrderResponse, Standard::X12) => "855",
            (OutboundKind::ShipNotice, Standard::X12) => "856",
            (OutboundKind::Invoice, Standard::X12) => "810",
            (OutboundKind::OrderResponse, Standard::Edifact) => "ORDRSP",
            (OutboundKind::ShipNotice, Standard::Edifact) => "DESADV",
            (OutboundKind::Invoice, Standard::Edifact) => "INVOIC",
        }
    }

    fn functional_id(self) -> &'static str {
        match self {
            OutboundKind::OrderResponse => "PR",
            OutboundKind::ShipNotice => "SH",
            OutboundKind::Invoice => "IN",
        }
    }
}

/// The version string the structure tables know the partner's version by (`004010`,
/// `D:96A:UN`).
pub fn table_version(p: &PartnerProfile) -> Result<String, GenerateError> {
    match p.standard {
        Standard::X12 => Ok(p.version.clone()),
        Standard::Edifact => edifact_version(&p.version)
            .map(|(v, r)| format!("{v}:{r}:UN"))
            .ok_or_else(|| GenerateError::Version(p.version.clone())),
    }
}

fn edifact_version(v: &str) -> Option<(&'static str, &'static str)> {
    match v {
        "D96A" | "D:96A" => Some(("D", "96A")),
        "D01B" | "D:01B" => Some(("D", "01B")),
        _ => None,
    }
}

/// `body` (from [`crate::tree::from_tree`]) in the partner's envelope: ISA/GS/ST…SE/GE/IEA or
/// UNB/UNH…UNT/UNZ with the control numbers of `env` and every count computed by the writer.
pub fn enveloped(
    p: &PartnerProfile,
    env: &Envelope,
    kind: OutboundKind,
    body: &[BodySegment],
) -> Result<String, GenerateError> {
    match p.standard {
        Standard::X12 => {
            let mut w = x12_open(p, env, kind.functional_id(), kind.set_type(p.standard))?;
            for s in body {
                w.body(s)?;
            }
            x12_close(w)
        }
        Standard::Edifact => {
            let mut w = edifact_open(p, env, kind.set_type(p.standard))?;
            for s in body {
                w.body(s)?;
            }
            edifact_close(w)
        }
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum GenerateError {
    #[error(transparent)]
    Write(#[from] WriteError),
    #[error("{0} is required to generate this document")]
    Missing(&'static str),
    #[error(
        "package {index}: SSCC {sscc:?} is not a valid SSCC-18 (18 digits with a GS1 check digit)"
    )]
    BadSscc { index: usize, sscc: String },
    #[error("version {0:?} is not one we generate")]
    Version(String),
}

/// Envelope values for one outbound document, allocated by the caller (the store).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Envelope {
    pub interchange: u32,
    pub group: u32,
    pub set: u32,
    pub now: NaiveDateTime,
    /// First serial for SSCCs minted for packages without one.
    pub sscc_serial: u64,
}

/// GS1 mod-10 check digit of a digit string (weights 3,1,3,... from the right).
pub fn gs1_check_digit(digits: &str) -> Option<u8> {
    let mut sum = 0u32;
    for (i, c) in digits.bytes().rev().enumerate() {
        if !c.is_ascii_digit() {
            return None;
        }
        let d = (c - b'0') as u32;
        sum += if i % 2 == 0 { d * 3 } else { d };
    }
    Some(((10 - sum % 10) % 10) as u8)
}

pub fn sscc_valid(sscc: &str) -> bool {
    sscc.len() == 18
        && sscc.bytes().all(|b| b.is_ascii_digit())
        && gs1_check_digit(&sscc[..17]) == Some(sscc.as_bytes()[17] - b'0')
}

/// SSCC-18: extension digit, GS1 company prefix, serial reference, check digit.
pub fn sscc18(extension: u8, company_prefix: &str, serial: u64) -> Option<String> {
    if extension > 9
        || !company_prefix.bytes().all(|b| b.is_ascii_digit())
        || company_prefix.len() > 16
    {
        return None;
    }
    let serial_len = 16 - company_prefix.len();
    let serial_s = format!("{serial:0serial_len$}");
    if serial_s.len() != serial_len {
        return None;
    }
    let body = format!("{extension}{company_prefix}{serial_s}");
    let check = gs1_check_digit(&body)?;
    Some(format!("{body}{check}"))
}

fn x12_open(
    p: &PartnerProfile,
    env: &Envelope,
    functional_id: &str,
    set_id: &str,
) -> Result<X12Writer, GenerateError> {
    let d = p.delimiters();
    let mut w = X12Writer::new(d);
    w.isa(&IsaFields {
        sender_qualifier: p.us.qualifier.clone(),
        sender: p.us.id.clone(),
        receiver_qualifier: p.them.qualifier.clone(),
        receiver: p.them.id.clone(),
        date: env.now.format("%y%m%d").to_string(),
        time: env.now.format("%H%M").to_string(),
        version: p.isa_version().into(),
        control: env.interchange,
        ack_requested: false,
        test: p.test,
    })?;
    w.gs(
        functional_id,
        p.us.application(),
        p.them.application(),
        &env.now.format("%Y%m%d").to_string(),
        &env.now.format("%H%M").to_string(),
        env.group,
        &p.version,
    )?;
    let st03 = p.version.starts_with("005").then_some(p.version.as_str());
    w.st(set_id, &format!("{:04}", env.set), st03)?;
    Ok(w)
}

fn x12_close(mut w: X12Writer) -> Result<String, GenerateError> {
    w.se()?;
    w.ge()?;
    w.iea()?;
    Ok(w.finish())
}

fn edifact_open(
    p: &PartnerProfile,
    env: &Envelope,
    message: &str,
) -> Result<EdifactWriter, GenerateError> {
    let d = p.delimiters();
    let (ver, rel) =
        edifact_version(&p.version).ok_or_else(|| GenerateError::Version(p.version.clone()))?;
    let mut w = EdifactWriter::new(d, false);
    let date = if p.syntax_version == "4" {
        env.now.format("%Y%m%d")
    } else {
        env.now.format("%y%m%d")
    }
    .to_string();
    w.unb(&UnbFields {
        syntax: p.syntax.clone(),
        syntax_version: p.syntax_version.clone(),
        sender: p.us.id.clone(),
        sender_qualifier: p.us.qualifier.clone(),
        receiver: p.them.id.clone(),
        receiver_qualifier: p.them.qualifier.clone(),
        date,
        time: env.now.format("%H%M").to_string(),
        control: env.interchange.to_string(),
        ack_requested: p.acks.contrl,
        test: p.test,
    })?;
    let assoc = p.association.clone().unwrap_or_default();
    w.unh(&env.set.to_string(), &[message, ver, rel, "UN", &assoc])?;
    Ok(w)
}

fn edifact_close(mut w: EdifactWriter) -> Result<String, GenerateError> {
    w.unt()?;
    w.unz()?;
    Ok(w.finish())
}

/// The SSCC of every package: its own (checked) or one minted from the partner's GS1 prefix.
pub fn package_ssccs(
    p: &PartnerProfile,
    shipment: &Shipment,
    env: &Envelope,
) -> Result<Vec<String>, GenerateError> {
    let mut serial = env.sscc_serial;
    shipment
        .packages
        .iter()
        .enumerate()
        .map(|(i, pkg)| match &pkg.sscc {
            Some(s) if sscc_valid(s) => Ok(s.clone()),
            Some(s) => Err(GenerateError::BadSscc {
                index: i + 1,
                sscc: s.clone(),
            }),
            None => {
                let prefix = p
                    .gs1_company_prefix
                    .as_deref()
                    .ok_or(GenerateError::Missing(
                        "a package SSCC or the partner's gs1_company_prefix",
                    ))?;
                let s = sscc18(0, prefix, serial)
                    .ok_or(GenerateError::Missing("a valid gs1_company_prefix"))?;
                serial += 1;
                Ok(s)
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sscc_check_digit_matches_gs1_examples() {
        // GS1 General Specifications: SSCC (00) 1 0614141 234567890 8, GTIN-13 400638133393 1.
        assert_eq!(
            sscc18(1, "0614141", 234567890).as_deref(),
            Some("106141412345678908")
        );
        assert!(sscc_valid("106141412345678908"));
        assert!(!sscc_valid("106141412345678907"));
        assert_eq!(gs1_check_digit("400638133393"), Some(1));
        assert_eq!(
            sscc18(0, "0614141", 10_000_000_000),
            None,
            "serial too long for the prefix"
        );
    }
}
