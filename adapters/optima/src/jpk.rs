//! JPK_V7M (FR-INT-023), pure: a month's sales register as the JPK_VAT file with the VAT-7
//! declaration, form variant 3 (`JPK_V7M (3)`, namespace
//! `http://crd.gov.pl/wzor/2025/12/19/14090/`, declaration `VAT-7 (23)`), for periods from
//! February 2026. Earlier periods need variant 2, which we do not write yet: they are refused
//! with [`JpkError::PeriodBeforeVariant3`].
//!
//! What it writes (the subset pinned by `xsd/jpk_v7m_3.xsd`, ours, from the published
//! description):
//! * `Naglowek`: `KodFormularza` (`JPK_VAT`, kodSystemowy `JPK_V7M (3)`), `WariantFormularza`
//!   3, `DataWytworzeniaJPK`, `NazwaSystemu`, `CelZlozenia` (1 original, 2 correction),
//!   `KodUrzedu`, `Rok`, `Miesiac`.
//! * `Podmiot1` (a company: `OsobaNiefizyczna` with `NIP`, `PelnaNazwa`, `Email`).
//! * `Deklaracja`: the VAT-7 positions computed from the rows, in **whole złoty** (the
//!   declaration's amounts are integers; each base and tax is rounded half up from the
//!   register's grosz sums, as the form's instructions say): P_10 (exempt), P_11 (outside the
//!   country), P_13 (0 %), P_15/P_16 (5 %), P_17/P_18 (8 %), P_19/P_20 (23 %), P_31 (reverse
//!   charge, the buyer pays), P_37 (the sum of the bases), P_38 (output tax), P_48 (input tax:
//!   0, we hold no purchases), P_51 (to pay) or P_53 (surplus), `Pouczenia`.
//! * `Ewidencja`: a `SprzedazWiersz` per invoice with its rates' K_ fields in grosz (K_10 zw,
//!   K_11 np, K_13 0 %, K_15/K_16 5 %, K_17/K_18 8 %, K_19/K_20 23 %, K_31 oo), and its KSeF
//!   mark (`NrKSeF` when the invoice carries its KSeF number, else `BFK`: issued outside KSeF);
//!   `SprzedazCtrl` (rows, output tax) and `ZakupCtrl` (no purchase rows: 0, 0.00).

use crate::polish::{RateTotal, VatRate};
use crate::xml::escape;
use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::{Decimal, RoundingStrategy};
use std::fmt::Write;

pub const NS_V3: &str = "http://crd.gov.pl/wzor/2025/12/19/14090/";

/// The first period variant 3 applies to.
pub fn variant_3_from() -> (i32, u32) {
    (2026, 2)
}

/// A settlement month.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period {
    pub year: i32,
    pub month: u32,
}

impl Period {
    /// `2026-02`.
    pub fn parse(s: &str) -> Option<Period> {
        let (y, m) = s.trim().split_once('-')?;
        let (year, month) = (y.parse().ok()?, m.parse().ok()?);
        NaiveDate::from_ymd_opt(year, month, 1).map(|_| Period { year, month })
    }

    pub fn first_day(self) -> NaiveDate {
        NaiveDate::from_ymd_opt(self.year, self.month, 1).expect("a checked period")
    }

    /// The first day of the next month.
    pub fn end(self) -> NaiveDate {
        let (y, m) = if self.month == 12 {
            (self.year + 1, 1)
        } else {
            (self.year, self.month + 1)
        };
        NaiveDate::from_ymd_opt(y, m, 1).expect("a valid month")
    }
}

impl std::fmt::Display for Period {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}-{:02}", self.year, self.month)
    }
}

/// The taxpayer filing (`Podmiot1`) and its tax office.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Taxpayer {
    /// Ten digits.
    pub nip: String,
    pub name: String,
    pub email: String,
    /// The tax office's four-digit code (`KodUrzedu`).
    pub tax_office_code: String,
}

/// How the row's invoice is identified against KSeF (variant 3 requires one).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KsefMark {
    Number(String),
    /// Issued outside KSeF.
    Bfk,
}

/// One sales register row: an invoice's per-rate amounts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SaleRow {
    pub contractor_nip: String,
    pub contractor_name: String,
    pub number: String,
    pub issue_date: NaiveDate,
    pub ksef: KsefMark,
    pub rates: Vec<RateTotal>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JpkError {
    #[error("{period}: JPK_V7M variant 3 applies from 2026-02; earlier periods need variant 2, which this version does not write")]
    PeriodBeforeVariant3 { period: Period },
}

/// What the file declares, for the report's status and the tests.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct Totals {
    pub rows: usize,
    /// `SprzedazCtrl/PodatekNalezny`, to the grosz.
    #[schema(value_type = String)]
    pub output_tax: Decimal,
    /// `P_38`, whole złoty.
    pub p_38: i64,
    /// `P_51`, whole złoty.
    pub p_51: i64,
}

/// The K_ fields of a rate: (net field, VAT field).
fn k_fields(rate: VatRate) -> (&'static str, Option<&'static str>) {
    match rate {
        VatRate::Zw => ("K_10", None),
        VatRate::Np => ("K_11", None),
        VatRate::R0 => ("K_13", None),
        VatRate::R5 => ("K_15", Some("K_16")),
        VatRate::R8 => ("K_17", Some("K_18")),
        VatRate::R23 => ("K_19", Some("K_20")),
        VatRate::Oo => ("K_31", None),
    }
}

/// The declaration's position for a K_ field: the same number.
fn p_of(k: &str) -> String {
    k.replacen("K_", "P_", 1)
}

/// The K_ fields in schema order.
const K_ORDER: [&str; 10] = [
    "K_10", "K_11", "K_13", "K_15", "K_16", "K_17", "K_18", "K_19", "K_20", "K_31",
];
/// Output-tax fields (SprzedazCtrl/PodatekNalezny and P_38 sum them).
const TAX_FIELDS: [&str; 3] = ["K_16", "K_18", "K_20"];

fn money(d: Decimal) -> String {
    format!("{:.2}", d.round_dp(2))
}

/// Whole złoty, half away from zero (0.50 up).
fn zloty(d: Decimal) -> i64 {
    d.round_dp_with_strategy(0, RoundingStrategy::MidpointAwayFromZero)
        .try_into()
        .unwrap_or(i64::MAX)
}

/// The row's K_ amounts, summed per field.
fn row_fields(row: &SaleRow) -> Vec<(&'static str, Decimal)> {
    let mut by: std::collections::BTreeMap<&'static str, Decimal> = Default::default();
    for r in &row.rates {
        let (net, vat) = k_fields(r.rate);
        *by.entry(net).or_default() += r.net;
        if let Some(v) = vat {
            *by.entry(v).or_default() += r.vat;
        }
    }
    K_ORDER
        .iter()
        .filter_map(|k| by.get(k).map(|v| (*k, *v)))
        .collect()
}

/// The whole file (UTF-8).
pub fn write(
    period: Period,
    correction: bool,
    taxpayer: &Taxpayer,
    created: DateTime<Utc>,
    rows: &[SaleRow],
) -> Result<(String, Totals), JpkError> {
    if (period.year, period.month) < variant_3_from() {
        return Err(JpkError::PeriodBeforeVariant3 { period });
    }
    let mut sums: std::collections::BTreeMap<&'static str, Decimal> = Default::default();
    let mut ew = String::new();
    for (i, row) in rows.iter().enumerate() {
        let fields = row_fields(row);
        let _ = write!(
            ew,
            "    <SprzedazWiersz>\n      <LpSprzedazy>{}</LpSprzedazy>\n      <KodKrajuNadaniaTIN>PL</KodKrajuNadaniaTIN>\n      <NrKontrahenta>{}</NrKontrahenta>\n      <NazwaKontrahenta>{}</NazwaKontrahenta>\n      <DowodSprzedazy>{}</DowodSprzedazy>\n      <DataWystawienia>{}</DataWystawienia>\n",
            i + 1,
            escape(&row.contractor_nip),
            escape(&row.contractor_name),
            escape(&row.number),
            row.issue_date
        );
        match &row.ksef {
            KsefMark::Number(n) => {
                let _ = writeln!(ew, "      <NrKSeF>{}</NrKSeF>", escape(n));
            }
            KsefMark::Bfk => ew.push_str("      <BFK>1</BFK>\n"),
        }
        for (k, v) in fields {
            *sums.entry(k).or_default() += v;
            let _ = writeln!(ew, "      <{k}>{}</{k}>", money(v));
        }
        ew.push_str("    </SprzedazWiersz>\n");
    }
    let output_tax: Decimal = TAX_FIELDS.iter().filter_map(|k| sums.get(k)).sum();

    // The declaration: each position rounded to whole złoty from the register's sums.
    let mut dekl = String::new();
    let mut bases = 0i64;
    let mut p_38 = 0i64;
    for k in K_ORDER {
        let Some(v) = sums.get(k) else { continue };
        let z = zloty(*v);
        if TAX_FIELDS.contains(&k) {
            p_38 += z;
        } else {
            bases += z;
        }
        let _ = writeln!(dekl, "      <{p}>{z}</{p}>", p = p_of(k));
    }
    let p_48 = 0i64;
    let _ = writeln!(dekl, "      <P_37>{bases}</P_37>");
    let _ = writeln!(dekl, "      <P_38>{p_38}</P_38>");
    let _ = writeln!(dekl, "      <P_48>{p_48}</P_48>");
    let p_51 = (p_38 - p_48).max(0);
    let _ = writeln!(dekl, "      <P_51>{p_51}</P_51>");
    if p_48 > p_38 {
        let _ = writeln!(dekl, "      <P_53>{}</P_53>", p_48 - p_38);
    }

    let mut x = String::with_capacity(2048 + ew.len());
    let _ = write!(
        x,
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<JPK xmlns=\"{NS_V3}\">\n  <Naglowek>\n    <KodFormularza kodSystemowy=\"JPK_V7M (3)\" wersjaSchemy=\"1-0E\">JPK_VAT</KodFormularza>\n    <WariantFormularza>3</WariantFormularza>\n    <DataWytworzeniaJPK>{}</DataWytworzeniaJPK>\n    <NazwaSystemu>Switchyard</NazwaSystemu>\n    <CelZlozenia poz=\"P_7\">{}</CelZlozenia>\n    <KodUrzedu>{}</KodUrzedu>\n    <Rok>{}</Rok>\n    <Miesiac>{}</Miesiac>\n  </Naglowek>\n  <Podmiot1 rola=\"Podatnik\">\n    <OsobaNiefizyczna>\n      <NIP>{}</NIP>\n      <PelnaNazwa>{}</PelnaNazwa>\n      <Email>{}</Email>\n    </OsobaNiefizyczna>\n  </Podmiot1>\n  <Deklaracja>\n    <Naglowek>\n      <KodFormularzaDekl kodSystemowy=\"VAT-7 (23)\" kodPodatku=\"VAT\" rodzajZobowiazania=\"Z\" wersjaSchemy=\"1-0E\">VAT-7</KodFormularzaDekl>\n      <WariantFormularzaDekl>23</WariantFormularzaDekl>\n    </Naglowek>\n    <PozycjeSzczegolowe>\n{dekl}    </PozycjeSzczegolowe>\n    <Pouczenia>1</Pouczenia>\n  </Deklaracja>\n  <Ewidencja>\n{ew}    <SprzedazCtrl>\n      <LiczbaWierszySprzedazy>{}</LiczbaWierszySprzedazy>\n      <PodatekNalezny>{}</PodatekNalezny>\n    </SprzedazCtrl>\n    <ZakupCtrl>\n      <LiczbaWierszyZakupow>0</LiczbaWierszyZakupow>\n      <PodatekNaliczony>0.00</PodatekNaliczony>\n    </ZakupCtrl>\n  </Ewidencja>\n</JPK>\n",
        created.format("%Y-%m-%dT%H:%M:%SZ"),
        if correction { 2 } else { 1 },
        escape(&taxpayer.tax_office_code),
        period.year,
        period.month,
        escape(&taxpayer.nip),
        escape(&taxpayer.name),
        escape(&taxpayer.email),
        rows.len(),
        money(output_tax),
    );
    Ok((
        x,
        Totals {
            rows: rows.len(),
            output_tax: output_tax.round_dp(2),
            p_38,
            p_51,
        },
    ))
}
