//! Which JPK_V7M form variant a settlement period is filed in, and what differs between them.
//!
//! * variant 2 (`JPK_V7M (2)`, CRWDE 2021/12/27/11148, declaration `VAT-7 (22)`): periods
//!   from January 2022 to January 2026;
//! * variant 3 (`JPK_V7M (3)`, CRWDE 2025/12/19/14090, declaration `VAT-7 (23)`): periods from
//!   February 2026. What it adds over variant 2 is, per sales and purchase row, the invoice's
//!   KSeF number or the reason it has none (`OFF`, `BFK`, `DI`, one of them, required).
//!
//! Periods before 2022 were filed in variant 1, which we do not write.

use super::{JpkError, Period};
use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub enum Variant {
    #[serde(rename = "JPK_V7M (2)")]
    V2,
    #[serde(rename = "JPK_V7M (3)")]
    V3,
}

pub const NS_V2: &str = "http://crd.gov.pl/wzor/2021/12/27/11148/";
pub const NS_V3: &str = "http://crd.gov.pl/wzor/2025/12/19/14090/";

/// The first period of each variant, (year, month).
pub const VARIANT_2_FROM: (i32, u32) = (2022, 1);
pub const VARIANT_3_FROM: (i32, u32) = (2026, 2);

impl Variant {
    /// The variant `period` is filed in, or why we cannot write it.
    pub fn for_period(period: Period) -> Result<Variant, JpkError> {
        let p = (period.year, period.month);
        if p >= VARIANT_3_FROM {
            Ok(Variant::V3)
        } else if p >= VARIANT_2_FROM {
            Ok(Variant::V2)
        } else {
            Err(JpkError::PeriodBeforeVariant2 { period })
        }
    }

    pub fn namespace(self) -> &'static str {
        match self {
            Variant::V2 => NS_V2,
            Variant::V3 => NS_V3,
        }
    }

    /// `KodFormularza/@kodSystemowy`.
    pub fn system_code(self) -> &'static str {
        match self {
            Variant::V2 => "JPK_V7M (2)",
            Variant::V3 => "JPK_V7M (3)",
        }
    }

    /// `WariantFormularza`.
    pub fn number(self) -> u8 {
        match self {
            Variant::V2 => 2,
            Variant::V3 => 3,
        }
    }

    /// The declaration's (`VAT-7`) variant: `WariantFormularzaDekl`, and its system code.
    pub fn declaration(self) -> (u8, &'static str) {
        match self {
            Variant::V2 => (22, "VAT-7 (22)"),
            Variant::V3 => (23, "VAT-7 (23)"),
        }
    }

    /// Whether every row carries its KSeF number or the reason it has none.
    pub fn has_ksef_marks(self) -> bool {
        self == Variant::V3
    }
}
