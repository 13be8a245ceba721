//! The markers of a JPK_V7M register row: the KSeF mark (variant 3), the GTU codes of the
//! goods and services and the procedure codes, each an element written `1` when it applies,
//! in the form's order.

use std::fmt;

/// How a row's invoice is identified against KSeF (variant 3 requires exactly one).
///
/// The form's rules (Ministry of Finance, explanations of February 2026): the KSeF number
/// whenever the invoice has one on the day the file is filed, whatever mode it was issued in;
/// without one, `OFF` for an invoice issued in KSeF's failure mode (art. 106nf ust. 1), `BFK`
/// for an invoice issued outside KSeF (to consumers, before the KSeF duty, by an exempt issuer,
/// during a total failure), and `DI` for a document other than an invoice — and also for an
/// invoice issued offline24 (art. 106nda) or during unavailability (art. 106nh) that has no
/// number yet (those rows are corrected once it has one).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KsefMark {
    Number(String),
    Off,
    Bfk,
    Di,
}

impl KsefMark {
    /// The element as written in a row.
    pub fn element(&self) -> String {
        match self {
            KsefMark::Number(n) => format!("<NrKSeF>{}</NrKSeF>", crate::xml::escape(n)),
            KsefMark::Off => "<OFF>1</OFF>".into(),
            KsefMark::Bfk => "<BFK>1</BFK>".into(),
            KsefMark::Di => "<DI>1</DI>".into(),
        }
    }
}

/// A GTU code (`GTU_01` … `GTU_13`): the group of goods or services a sale belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Gtu(u8);

impl Gtu {
    /// `GTU_06` (the form's spelling; case and surrounding spaces are forgiven).
    pub fn parse(s: &str) -> Result<Gtu, String> {
        let t = s.trim().to_ascii_uppercase();
        let n = t
            .strip_prefix("GTU_")
            .filter(|d| d.len() == 2)
            .and_then(|d| d.parse::<u8>().ok())
            .filter(|n| (1..=13).contains(n));
        n.map(Gtu).ok_or_else(|| {
            format!("`{s}` is not a GTU code (GTU_01 to GTU_13, as the JPK_V7 form spells them)")
        })
    }
}

impl fmt::Display for Gtu {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "GTU_{:02}", self.0)
    }
}

/// The procedure codes of a sales row, declared in the form's order (variants 2 and 3 share
/// it), so a sorted set writes them as the schema wants.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Procedure {
    WstoEe,
    Ied,
    Tp,
    TtWnt,
    TtD,
    MrT,
    MrUz,
    I42,
    I63,
    BSpv,
    BSpvDostawa,
    BMpvProwizja,
}

impl Procedure {
    pub const ALL: [Procedure; 12] = [
        Procedure::WstoEe,
        Procedure::Ied,
        Procedure::Tp,
        Procedure::TtWnt,
        Procedure::TtD,
        Procedure::MrT,
        Procedure::MrUz,
        Procedure::I42,
        Procedure::I63,
        Procedure::BSpv,
        Procedure::BSpvDostawa,
        Procedure::BMpvProwizja,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Procedure::WstoEe => "WSTO_EE",
            Procedure::Ied => "IED",
            Procedure::Tp => "TP",
            Procedure::TtWnt => "TT_WNT",
            Procedure::TtD => "TT_D",
            Procedure::MrT => "MR_T",
            Procedure::MrUz => "MR_UZ",
            Procedure::I42 => "I_42",
            Procedure::I63 => "I_63",
            Procedure::BSpv => "B_SPV",
            Procedure::BSpvDostawa => "B_SPV_DOSTAWA",
            Procedure::BMpvProwizja => "B_MPV_PROWIZJA",
        }
    }

    /// `TP`, `tp`; `MPP` (and the variant-1 `SW`, `EE`) are refused saying why: variant 2
    /// dropped them from the register rows, so no file we write can carry them.
    pub fn parse(s: &str) -> Result<Procedure, String> {
        let t = s.trim().to_ascii_uppercase();
        if let Some(p) = Self::ALL.into_iter().find(|p| p.code() == t) {
            return Ok(p);
        }
        Err(match t.as_str() {
            "MPP" | "SW" | "EE" => format!(
                "`{s}` is no longer a JPK_V7 marker: variant 2 (2022) removed it from the register rows"
            ),
            _ => format!(
                "`{s}` is not a JPK_V7 procedure code ({})",
                Self::ALL.map(Procedure::code).join(", ")
            ),
        })
    }
}
