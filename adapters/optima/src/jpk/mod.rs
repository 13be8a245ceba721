//! JPK_V7M (FR-INT-023), pure: a month's VAT registers as the JPK_VAT file with the VAT-7
//! declaration, in the form variant of the period ([`Variant`]): variant 2 (`JPK_V7M (2)`,
//! `VAT-7 (22)`) for January 2022 to January 2026, variant 3 (`JPK_V7M (3)`, `VAT-7 (23)`)
//! from February 2026. Hand-written XML like the offline writer: no crate writes JPK, and the
//! subset is small.
//!
//! What it writes (the subsets pinned by `xsd/jpk_v7m_2.xsd` and `xsd/jpk_v7m_3.xsd`, ours,
//! from the published form descriptions):
//! * `Naglowek`: `KodFormularza` (`JPK_VAT`, kodSystemowy of the variant), `WariantFormularza`,
//!   `DataWytworzeniaJPK`, `NazwaSystemu`, `CelZlozenia` (1 original, 2 correction),
//!   `KodUrzedu`, `Rok`, `Miesiac`.
//! * `Podmiot1` (a company: `OsobaNiefizyczna` with `NIP`, `PelnaNazwa`, `Email`).
//! * `Deklaracja`: the VAT-7 positions computed from the rows, in **whole złoty** (the
//!   declaration's amounts are integers; each is rounded half up from the register's grosz
//!   sums, as the form's instructions say): P_10 (exempt), P_11 (outside the country), P_13
//!   (0 %), P_15/P_16 (5 %), P_17/P_18 (8 %), P_19/P_20 (23 %), P_31 (reverse charge), P_37
//!   (the bases), P_38 (output tax), P_40/P_41 (fixed-asset purchases), P_42/P_43 (other
//!   purchases), P_48 (input tax: P_41 + P_43), P_51 (to pay) or P_53 (surplus) with P_62 (the
//!   surplus carried forward: no refund is asked for), `Pouczenia`.
//! * `Ewidencja`: a `SprzedazWiersz` per sale with its rates' K_ fields in grosz, then
//!   `SprzedazCtrl` (rows, output tax); a `ZakupWiersz` per purchase (K_40/K_41 or K_42/K_43),
//!   then `ZakupCtrl` (rows, input tax).
//!
//! A sales row: `DataSprzedazy` only when it differs from the issue date (the form's rule),
//! then in variant 3 the KSeF mark ([`KsefMark`]), then the GTU codes and the procedure codes
//! that apply, then the amounts. A purchase row in variant 3 carries its KSeF mark too.

mod marks;
mod variant;

pub use marks::{Gtu, KsefMark, Procedure};
pub use variant::{Variant, NS_V2, NS_V3, VARIANT_2_FROM, VARIANT_3_FROM};

use crate::polish::{RateTotal, VatRate};
use crate::xml::escape;
use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::{Decimal, RoundingStrategy};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write;

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

/// One sales register row: an invoice's per-rate amounts and its markers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SaleRow {
    pub contractor_nip: String,
    pub contractor_name: String,
    pub number: String,
    pub issue_date: NaiveDate,
    /// When the supply was made, if the invoice states it.
    pub sale_date: Option<NaiveDate>,
    /// Written in variant 3 only.
    pub ksef: KsefMark,
    pub gtu: BTreeSet<Gtu>,
    pub procedures: BTreeSet<Procedure>,
    pub rates: Vec<RateTotal>,
}

/// One purchase register row: a received invoice's net and deductible VAT.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PurchaseRow {
    pub supplier_nip: String,
    pub supplier_name: String,
    pub number: String,
    /// `DataZakupu`: the invoice's issue date.
    pub issue_date: NaiveDate,
    /// `DataWplywu`: when it was received, if that differs.
    pub received_date: Option<NaiveDate>,
    /// Written in variant 3 only.
    pub ksef: KsefMark,
    /// K_40/K_41 (goods and services counted as fixed assets) instead of K_42/K_43.
    pub fixed_assets: bool,
    pub net: Decimal,
    pub vat: Decimal,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JpkError {
    #[error("{period}: JPK_V7M variant 2 applies from 2022-01 (variant 3 from 2026-02); earlier periods were filed in variant 1, which this version does not write")]
    PeriodBeforeVariant2 { period: Period },
}

/// What the file declares, for the report's status and the tests.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct Totals {
    /// The form variant written.
    pub variant: Variant,
    pub rows: usize,
    /// `SprzedazCtrl/PodatekNalezny`, to the grosz.
    #[schema(value_type = String)]
    pub output_tax: Decimal,
    pub purchase_rows: usize,
    /// `ZakupCtrl/PodatekNaliczony`, to the grosz.
    #[schema(value_type = String)]
    pub input_tax: Decimal,
    /// `P_38`, whole złoty.
    pub p_38: i64,
    /// `P_48`, whole złoty.
    pub p_48: i64,
    /// `P_51`, whole złoty.
    pub p_51: i64,
    /// `P_53`, whole złoty (0 when there is tax to pay).
    pub p_53: i64,
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

/// The sales K_ fields in schema order.
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
    let mut by: BTreeMap<&'static str, Decimal> = Default::default();
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

/// A purchase row's (net field, VAT field).
fn purchase_fields(row: &PurchaseRow) -> (&'static str, &'static str) {
    if row.fixed_assets {
        ("K_40", "K_41")
    } else {
        ("K_42", "K_43")
    }
}

/// `<SprzedazWiersz>`; adds its K_ amounts to `sums`.
fn sale_row(
    out: &mut String,
    lp: usize,
    row: &SaleRow,
    variant: Variant,
    sums: &mut BTreeMap<&'static str, Decimal>,
) {
    let _ = write!(
        out,
        "    <SprzedazWiersz>\n      <LpSprzedazy>{lp}</LpSprzedazy>\n      <KodKrajuNadaniaTIN>PL</KodKrajuNadaniaTIN>\n      <NrKontrahenta>{}</NrKontrahenta>\n      <NazwaKontrahenta>{}</NazwaKontrahenta>\n      <DowodSprzedazy>{}</DowodSprzedazy>\n      <DataWystawienia>{}</DataWystawienia>\n",
        escape(&row.contractor_nip),
        escape(&row.contractor_name),
        escape(&row.number),
        row.issue_date
    );
    // The form: the date of supply only "if it is stated and differs from the issue date".
    if let Some(d) = row.sale_date.filter(|d| *d != row.issue_date) {
        let _ = writeln!(out, "      <DataSprzedazy>{d}</DataSprzedazy>");
    }
    if variant.has_ksef_marks() {
        let _ = writeln!(out, "      {}", row.ksef.element());
    }
    for g in &row.gtu {
        let _ = writeln!(out, "      <{g}>1</{g}>");
    }
    for p in &row.procedures {
        let _ = writeln!(out, "      <{c}>1</{c}>", c = p.code());
    }
    for (k, v) in row_fields(row) {
        *sums.entry(k).or_default() += v;
        let _ = writeln!(out, "      <{k}>{}</{k}>", money(v));
    }
    out.push_str("    </SprzedazWiersz>\n");
}

/// `<ZakupWiersz>`; adds its K_ amounts to `sums`.
fn purchase_row(
    out: &mut String,
    lp: usize,
    row: &PurchaseRow,
    variant: Variant,
    sums: &mut BTreeMap<&'static str, Decimal>,
) {
    let _ = write!(
        out,
        "    <ZakupWiersz>\n      <LpZakupu>{lp}</LpZakupu>\n      <KodKrajuNadaniaTIN>PL</KodKrajuNadaniaTIN>\n      <NrDostawcy>{}</NrDostawcy>\n      <NazwaDostawcy>{}</NazwaDostawcy>\n      <DowodZakupu>{}</DowodZakupu>\n      <DataZakupu>{}</DataZakupu>\n",
        escape(&row.supplier_nip),
        escape(&row.supplier_name),
        escape(&row.number),
        row.issue_date
    );
    if let Some(d) = row.received_date.filter(|d| *d != row.issue_date) {
        let _ = writeln!(out, "      <DataWplywu>{d}</DataWplywu>");
    }
    if variant.has_ksef_marks() {
        let _ = writeln!(out, "      {}", row.ksef.element());
    }
    let (net, vat) = purchase_fields(row);
    *sums.entry(net).or_default() += row.net;
    *sums.entry(vat).or_default() += row.vat;
    let _ = writeln!(out, "      <{net}>{}</{net}>", money(row.net));
    let _ = writeln!(out, "      <{vat}>{}</{vat}>", money(row.vat));
    out.push_str("    </ZakupWiersz>\n");
}

/// The declaration's positions from the registers' sums; (text, P_38, P_48, P_51, P_53).
fn declaration(
    sales: &BTreeMap<&'static str, Decimal>,
    purchases: &BTreeMap<&'static str, Decimal>,
) -> (String, i64, i64, i64, i64) {
    let mut d = String::new();
    let mut bases = 0i64;
    let mut p_38 = 0i64;
    for k in K_ORDER {
        let Some(v) = sales.get(k) else { continue };
        let z = zloty(*v);
        if TAX_FIELDS.contains(&k) {
            p_38 += z;
        } else {
            bases += z;
        }
        let _ = writeln!(d, "      <{p}>{z}</{p}>", p = p_of(k));
    }
    let _ = writeln!(d, "      <P_37>{bases}</P_37>");
    let _ = writeln!(d, "      <P_38>{p_38}</P_38>");
    // Input tax: each pair rounded from the purchase register's sums, like the sales side.
    let mut p_48 = 0i64;
    for (net, vat) in [("K_40", "K_41"), ("K_42", "K_43")] {
        if let (Some(n), Some(v)) = (purchases.get(net), purchases.get(vat)) {
            let (pn, pv) = (zloty(*n), zloty(*v));
            p_48 += pv;
            let _ = writeln!(d, "      <{p}>{pn}</{p}>", p = p_of(net));
            let _ = writeln!(d, "      <{p}>{pv}</{p}>", p = p_of(vat));
        }
    }
    let _ = writeln!(d, "      <P_48>{p_48}</P_48>");
    let p_51 = (p_38 - p_48).max(0);
    let p_53 = (p_48 - p_38).max(0);
    let _ = writeln!(d, "      <P_51>{p_51}</P_51>");
    if p_53 > 0 {
        // No refund is asked for: the whole surplus is carried to the next period (P_62).
        let _ = writeln!(d, "      <P_53>{p_53}</P_53>");
        let _ = writeln!(d, "      <P_62>{p_53}</P_62>");
    }
    (d, p_38, p_48, p_51, p_53)
}

/// The whole file (UTF-8), in the variant of `period`.
pub fn write(
    period: Period,
    correction: bool,
    taxpayer: &Taxpayer,
    created: DateTime<Utc>,
    sales: &[SaleRow],
    purchases: &[PurchaseRow],
) -> Result<(String, Totals), JpkError> {
    let variant = Variant::for_period(period)?;
    let mut sale_sums = BTreeMap::new();
    let mut ew = String::new();
    for (i, row) in sales.iter().enumerate() {
        sale_row(&mut ew, i + 1, row, variant, &mut sale_sums);
    }
    let output_tax: Decimal = TAX_FIELDS.iter().filter_map(|k| sale_sums.get(k)).sum();
    let _ = write!(
        ew,
        "    <SprzedazCtrl>\n      <LiczbaWierszySprzedazy>{}</LiczbaWierszySprzedazy>\n      <PodatekNalezny>{}</PodatekNalezny>\n    </SprzedazCtrl>\n",
        sales.len(),
        money(output_tax)
    );
    let mut purchase_sums = BTreeMap::new();
    for (i, row) in purchases.iter().enumerate() {
        purchase_row(&mut ew, i + 1, row, variant, &mut purchase_sums);
    }
    let input_tax: Decimal = ["K_41", "K_43"]
        .iter()
        .filter_map(|k| purchase_sums.get(k))
        .sum();
    let _ = write!(
        ew,
        "    <ZakupCtrl>\n      <LiczbaWierszyZakupow>{}</LiczbaWierszyZakupow>\n      <PodatekNaliczony>{}</PodatekNaliczony>\n    </ZakupCtrl>\n",
        purchases.len(),
        money(input_tax)
    );
    let (dekl, p_38, p_48, p_51, p_53) = declaration(&sale_sums, &purchase_sums);
    let (dekl_variant, dekl_code) = variant.declaration();

    let mut x = String::with_capacity(2048 + ew.len());
    let _ = write!(
        x,
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<JPK xmlns=\"{ns}\">\n  <Naglowek>\n    <KodFormularza kodSystemowy=\"{code}\" wersjaSchemy=\"1-0E\">JPK_VAT</KodFormularza>\n    <WariantFormularza>{number}</WariantFormularza>\n    <DataWytworzeniaJPK>{}</DataWytworzeniaJPK>\n    <NazwaSystemu>Switchyard</NazwaSystemu>\n    <CelZlozenia poz=\"P_7\">{}</CelZlozenia>\n    <KodUrzedu>{}</KodUrzedu>\n    <Rok>{}</Rok>\n    <Miesiac>{}</Miesiac>\n  </Naglowek>\n  <Podmiot1 rola=\"Podatnik\">\n    <OsobaNiefizyczna>\n      <NIP>{}</NIP>\n      <PelnaNazwa>{}</PelnaNazwa>\n      <Email>{}</Email>\n    </OsobaNiefizyczna>\n  </Podmiot1>\n  <Deklaracja>\n    <Naglowek>\n      <KodFormularzaDekl kodSystemowy=\"{dekl_code}\" kodPodatku=\"VAT\" rodzajZobowiazania=\"Z\" wersjaSchemy=\"1-0E\">VAT-7</KodFormularzaDekl>\n      <WariantFormularzaDekl>{dekl_variant}</WariantFormularzaDekl>\n    </Naglowek>\n    <PozycjeSzczegolowe>\n{dekl}    </PozycjeSzczegolowe>\n    <Pouczenia>1</Pouczenia>\n  </Deklaracja>\n  <Ewidencja>\n{ew}  </Ewidencja>\n</JPK>\n",
        created.format("%Y-%m-%dT%H:%M:%SZ"),
        if correction { 2 } else { 1 },
        escape(&taxpayer.tax_office_code),
        period.year,
        period.month,
        escape(&taxpayer.nip),
        escape(&taxpayer.name),
        escape(&taxpayer.email),
        ns = variant.namespace(),
        code = variant.system_code(),
        number = variant.number(),
    );
    Ok((
        x,
        Totals {
            variant,
            rows: sales.len(),
            output_tax: output_tax.round_dp(2),
            purchase_rows: purchases.len(),
            input_tax: input_tax.round_dp(2),
            p_38,
            p_48,
            p_51,
            p_53,
        },
    ))
}
