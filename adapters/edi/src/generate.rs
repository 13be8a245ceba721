//! Outbound documents: the envelope ([`enveloped`]: ISA/GS/ST or UNB/UNH with the control
//! numbers passed in, around body segments that mapping files produced through
//! [`crate::tree::from_tree`]; 855/ORDRSP and 810/INVOIC are built that way by the daemon),
//! SSCC-18 helpers, and the Rust builder of 856 / DESADV (ship notice with shipment → order →
//! pack (SSCC-18) → item), not yet ported to a mapping file. Control numbers and the clock are
//! passed in.
//!
//! Free text (names, descriptions, addresses) is trimmed to the element's maximum length and,
//! in X12 (which has no escape character), delimiter characters in it become spaces;
//! identifiers (PO numbers, SKUs) that contain a delimiter are refused with an error instead,
//! because silently changing an identifier would break the partner's matching.

use crate::partner::PartnerProfile;
use crate::syntax::{Delimiters, Standard};
use crate::tree::BodySegment;
use crate::writer::{EdifactWriter, IsaFields, UnbFields, WriteError, X12Writer};
use chrono::NaiveDateTime;
use rust_decimal::Decimal;
use switchyard_core::model::{Address, Order, Shipment, Uom};

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
            let mut doc = x12_open(p, env, kind.functional_id(), kind.set_type(p.standard))?;
            for s in body {
                doc.w.body(s)?;
            }
            x12_close(doc)
        }
        Standard::Edifact => {
            let mut doc = edifact_open(p, env, kind.set_type(p.standard))?;
            for s in body {
                doc.w.body(s)?;
            }
            edifact_close(doc)
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

fn x12_uom(u: Uom) -> &'static str {
    match u {
        Uom::Ea => "EA",
        Uom::Lb => "LB",
        Uom::Kg => "KG",
        Uom::Ft => "FT",
        Uom::M => "MR",
        Uom::In => "IN",
        Uom::Mm => "MM",
        Uom::Sf => "SF",
        Uom::Cwt => "CW",
        Uom::Ton => "TN",
    }
}

/// UN/ECE Recommendation 20 codes.
fn edifact_uom(u: Uom) -> &'static str {
    match u {
        Uom::Ea => "EA",
        Uom::Lb => "LBR",
        Uom::Kg => "KGM",
        Uom::Ft => "FOT",
        Uom::M => "MTR",
        Uom::In => "INH",
        Uom::Mm => "MMT",
        Uom::Sf => "FTK",
        Uom::Cwt => "CWA",
        Uom::Ton => "TNE",
    }
}

fn num(d: Decimal) -> String {
    d.normalize().to_string()
}

/// Free text fitted to `max` characters; X12 delimiter characters replaced by spaces.
fn text(s: &str, max: usize, d: &Delimiters, std: Standard) -> String {
    s.chars()
        .map(|c| {
            if std == Standard::X12 && c.is_ascii() && d.is_special(c as u8) || c.is_control() {
                ' '
            } else {
                c
            }
        })
        .take(max)
        .collect::<String>()
        .trim_end()
        .to_string()
}

struct X12Doc {
    w: X12Writer,
    d: Delimiters,
}

fn x12_open(
    p: &PartnerProfile,
    env: &Envelope,
    functional_id: &str,
    set_id: &str,
) -> Result<X12Doc, GenerateError> {
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
    Ok(X12Doc { w, d })
}

fn x12_close(mut doc: X12Doc) -> Result<String, GenerateError> {
    doc.w.se()?;
    doc.w.ge()?;
    doc.w.iea()?;
    Ok(doc.w.finish())
}

fn x12_party(doc: &mut X12Doc, code: &str, a: &Address) -> Result<(), GenerateError> {
    let d = doc.d;
    let name = text(a.name.as_deref().unwrap_or(""), 60, &d, Standard::X12);
    doc.w.seg(
        "N1",
        &[code, if name.is_empty() { "UNKNOWN" } else { &name }],
    )?;
    if let Some(l1) = a.line1.as_deref() {
        let l1 = text(l1, 55, &d, Standard::X12);
        let l2 = text(a.line2.as_deref().unwrap_or(""), 55, &d, Standard::X12);
        doc.w.seg("N3", &[&l1, &l2])?;
    }
    if a.city.is_some() || a.postal_code.is_some() {
        let city = text(a.city.as_deref().unwrap_or(""), 30, &d, Standard::X12);
        let region: String = a
            .region
            .as_deref()
            .unwrap_or("")
            .chars()
            .filter(|c| c.is_ascii_alphanumeric())
            .take(2)
            .collect();
        let region = if region.len() == 2 {
            region
        } else {
            String::new()
        };
        let postal = text(
            a.postal_code.as_deref().unwrap_or(""),
            15,
            &d,
            Standard::X12,
        );
        let country = text(a.country.as_deref().unwrap_or(""), 3, &d, Standard::X12);
        let city = if city.chars().count() >= 2 {
            city
        } else {
            String::new()
        };
        let postal = if postal.chars().count() >= 3 {
            postal
        } else {
            String::new()
        };
        doc.w.seg("N4", &[&city, &region, &postal, &country])?;
    }
    Ok(())
}

struct EdiDoc {
    w: EdifactWriter,
    d: Delimiters,
}

fn edifact_open(
    p: &PartnerProfile,
    env: &Envelope,
    message: &str,
) -> Result<EdiDoc, GenerateError> {
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
    Ok(EdiDoc { w, d })
}

fn edifact_close(mut doc: EdiDoc) -> Result<String, GenerateError> {
    doc.w.unt()?;
    doc.w.unz()?;
    Ok(doc.w.finish())
}

fn edi_party(
    doc: &mut EdiDoc,
    code: &str,
    id: Option<&str>,
    a: Option<&Address>,
    name_fallback: &str,
) -> Result<(), GenerateError> {
    let d = doc.d;
    let t = |s: Option<&str>, n: usize| text(s.unwrap_or(""), n, &d, Standard::Edifact);
    let empty = Address::default();
    let a = a.unwrap_or(&empty);
    let name = a.name.as_deref().unwrap_or(name_fallback);
    let id = id.unwrap_or("");
    let id_q = if id.is_empty() { "" } else { "92" };
    doc.w.seg_c(
        "NAD",
        &[
            &[code],
            &[id, "", id_q],
            &[""],
            &[&t(Some(name), 70)],
            &[&t(a.line1.as_deref(), 35), &t(a.line2.as_deref(), 35)],
            &[&t(a.city.as_deref(), 35)],
            &[&t(a.region.as_deref(), 9)],
            &[&t(a.postal_code.as_deref(), 17)],
            &[&t(a.country.as_deref(), 3)],
        ],
    )?;
    Ok(())
}

/// The SSCC of every package: its own (checked) or one minted from the partner's GS1 prefix.
fn package_ssccs(
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

/// 856 (X12) or DESADV (EDIFACT) for `shipment` of `order`.
pub fn ship_notice(
    p: &PartnerProfile,
    shipment: &Shipment,
    order: &Order,
    env: &Envelope,
) -> Result<String, GenerateError> {
    let ssccs = package_ssccs(p, shipment, env)?;
    let shipped = shipment
        .shipped_at
        .map(|t| t.naive_utc())
        .unwrap_or(env.now);
    let po = order.customer_po.as_deref().unwrap_or(&order.order_number);
    match p.standard {
        Standard::X12 => {
            let mut doc = x12_open(p, env, "SH", "856")?;
            let d = doc.d;
            doc.w.seg(
                "BSN",
                &[
                    "00",
                    &shipment.shipment_number,
                    &shipped.format("%Y%m%d").to_string(),
                    &shipped.format("%H%M").to_string(),
                    "0001",
                ],
            )?;
            doc.w
                .seg("DTM", &["011", &shipped.format("%Y%m%d").to_string()])?;
            doc.w.seg("HL", &["1", "", "S"])?;
            let weight: Decimal = shipment.packages.iter().filter_map(|p| p.weight).sum();
            let wuom = shipment
                .packages
                .iter()
                .find_map(|p| p.weight_uom)
                .map(x12_uom)
                .unwrap_or("LB");
            let n = shipment.packages.len().to_string();
            if weight > Decimal::ZERO {
                doc.w
                    .seg("TD1", &["CTN25", &n, "", "", "", "G", &num(weight), wuom])?;
            } else {
                doc.w.seg("TD1", &["CTN25", &n])?;
            }
            if let Some(c) = &shipment.carrier {
                let scac: String = c
                    .chars()
                    .filter(|c| c.is_ascii_alphanumeric())
                    .take(4)
                    .collect::<String>()
                    .to_uppercase();
                let service = text(
                    shipment.service.as_deref().unwrap_or(""),
                    35,
                    &d,
                    Standard::X12,
                );
                doc.w.seg("TD5", &["O", "2", &scac, "", &service])?;
            }
            if let Some(t) = shipment
                .packages
                .iter()
                .find_map(|p| p.tracking_number.as_deref())
            {
                doc.w.seg("REF", &["CN", t])?;
            }
            if let Some(a) = &order.shipping_address {
                x12_party(&mut doc, "ST", a)?;
            }
            doc.w.seg("HL", &["2", "1", "O"])?;
            doc.w.seg("PRF", &[po])?;
            let mut hl = 2;
            let mut items = 0;
            for (pkg, sscc) in shipment.packages.iter().zip(&ssccs) {
                hl += 1;
                let pack = hl;
                doc.w.seg("HL", &[&pack.to_string(), "2", "P"])?;
                if let Some(t) = &pkg.tracking_number {
                    doc.w.seg("REF", &["CN", t])?;
                }
                doc.w.seg("MAN", &["GM", sscc])?;
                for line in &pkg.lines {
                    hl += 1;
                    items += 1;
                    doc.w
                        .seg("HL", &[&hl.to_string(), &pack.to_string(), "I"])?;
                    doc.w.seg("LIN", &["", "VP", &line.sku])?;
                    doc.w
                        .seg("SN1", &["", &num(line.quantity), x12_uom(line.uom)])?;
                }
            }
            let _ = items;
            doc.w.seg("CTT", &[&hl.to_string()])?;
            x12_close(doc)
        }
        Standard::Edifact => {
            let mut doc = edifact_open(p, env, "DESADV")?;
            let d = doc.d;
            doc.w
                .seg_c("BGM", &[&["351"], &[&shipment.shipment_number], &["9"]])?;
            doc.w.seg_c(
                "DTM",
                &[&["137", &env.now.format("%Y%m%d").to_string(), "102"]],
            )?;
            doc.w.seg_c(
                "DTM",
                &[&["11", &shipped.format("%Y%m%d").to_string(), "102"]],
            )?;
            doc.w.seg_c("RFF", &[&["ON", po]])?;
            if let Some(a) = &order.shipping_address {
                edi_party(&mut doc, "DP", None, Some(a), "")?;
            }
            if let Some(c) = &shipment.carrier {
                let carrier = text(c, 35, &d, Standard::Edifact);
                doc.w.seg_c(
                    "TDT",
                    &[&["20"], &[""], &[""], &[""], &["", "", "", &carrier]],
                )?;
            }
            doc.w.seg("CPS", &["1"])?;
            let mut cps = 1;
            let mut lin = 0;
            for (pkg, sscc) in shipment.packages.iter().zip(&ssccs) {
                cps += 1;
                doc.w.seg("CPS", &[&cps.to_string(), "1"])?;
                doc.w.seg_c("PAC", &[&["1"], &[""], &["CT"]])?;
                if let (Some(w), Some(u)) = (pkg.weight, pkg.weight_uom) {
                    doc.w
                        .seg_c("MEA", &[&["PD"], &["AAB"], &[edifact_uom(u), &num(w)]])?;
                }
                doc.w.seg("PCI", &["33E"])?;
                doc.w.seg_c("GIN", &[&["BJ"], &[sscc]])?;
                for line in &pkg.lines {
                    lin += 1;
                    doc.w
                        .seg_c("LIN", &[&[&lin.to_string()], &[""], &[&line.sku, "SA"]])?;
                    doc.w.seg_c(
                        "QTY",
                        &[&["12", &num(line.quantity), edifact_uom(line.uom)]],
                    )?;
                }
            }
            doc.w.seg_c("CNT", &[&["2", &lin.to_string()]])?;
            edifact_close(doc)
        }
    }
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
