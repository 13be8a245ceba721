//! A month's VAT registers from the invoice ledger, and each invoice as its JPK_V7M row.
//!
//! * Sales: the connection's sales **synced** to Optima with an issue date in the month.
//!   Optima's VAT register is what the taxpayer files from, and an invoice Optima refused is
//!   not in it (it is listed with its error in the ledger instead). Each is mapped and checked
//!   again (`optima/invoice.out`, the Polish rules), so the row holds the amounts Optima
//!   booked: net per line, VAT once per rate.
//! * Purchases: the connection's purchase invoices (never pushed, so whatever their status)
//!   received in the month — `received_date`, else the issue date: input VAT is deducted no
//!   earlier than the period the invoice was received in (art. 86 ust. 10b pkt 1). Their
//!   amounts follow the same rounding (line net to the grosz, VAT once per rate); the supplier
//!   is the canonical invoice's `seller`.

use crate::invoices::{InvoiceRow, COLUMNS};
use crate::jpk::{Period, PurchaseRow, SaleRow};
use crate::jpk_source::JpkMarks;
use crate::polish::{line_net, Nip, Summary, VatRate};
use crate::wire::Faktura;
use sqlx::PgPool;
use switchyard_core::error::AdapterError;
use switchyard_core::ids::OrgId;

/// The connection's synced sales issued in `period`, by date and number.
pub async fn sales(
    pool: &PgPool,
    org: OrgId,
    partner: &str,
    period: Period,
) -> Result<Vec<InvoiceRow>, sqlx::Error> {
    sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM optima_invoices
         WHERE org_id = $1 AND partner = $2 AND direction = 'sale' AND status = 'synced'
           AND (document->>'issue_date')::date >= $3 AND (document->>'issue_date')::date < $4
         ORDER BY (document->>'issue_date')::date, invoice_number"
    ))
    .bind(org.0)
    .bind(partner)
    .bind(period.first_day())
    .bind(period.end())
    .fetch_all(pool)
    .await
}

/// The connection's purchases received in `period`, by that date, supplier and number.
pub async fn purchases(
    pool: &PgPool,
    org: OrgId,
    partner: &str,
    period: Period,
) -> Result<Vec<InvoiceRow>, sqlx::Error> {
    sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM optima_invoices
         WHERE org_id = $1 AND partner = $2 AND direction = 'purchase'
           AND coalesce(document->>'received_date', document->>'issue_date')::date >= $3
           AND coalesce(document->>'received_date', document->>'issue_date')::date < $4
         ORDER BY coalesce(document->>'received_date', document->>'issue_date')::date,
                  supplier_nip, invoice_number"
    ))
    .bind(org.0)
    .bind(partner)
    .bind(period.first_day())
    .bind(period.end())
    .fetch_all(pool)
    .await
}

fn refuse(inv: &InvoiceRow) -> impl Fn(String) -> AdapterError + '_ {
    |e| AdapterError::permanent(format!("invoice {}: {e}", inv.invoice_number))
}

/// One sales row from a ledger invoice, as Optima booked it.
pub fn sale_row(
    mapping: &switchyard_mapping::Mapping,
    inv: &InvoiceRow,
) -> Result<SaleRow, AdapterError> {
    let refuse = refuse(inv);
    let mut state = switchyard_mapping::RunState::default();
    let body = mapping
        .map_record(&inv.document, &mut state)
        .map_err(|e| refuse(e.to_string()))?;
    let checked = Faktura::from_json(&body)
        .and_then(|f| f.check())
        .map_err(|e| refuse(e.to_string()))?;
    // Checked when it was recorded; read again here (a row recorded before the check existed
    // is refused naming the key, never written with a guessed mark).
    let marks = JpkMarks::from_document(&inv.document).map_err(|e| refuse(e.to_string()))?;
    Ok(SaleRow {
        contractor_nip: checked.nip.as_str().to_owned(),
        contractor_name: checked.contractor_name,
        number: checked.number,
        issue_date: checked.issue_date,
        sale_date: marks.sale_date,
        ksef: marks.ksef,
        gtu: marks.gtu,
        procedures: marks.procedures,
        rates: checked.summary.rates,
    })
}

/// One purchase row from a ledger invoice: the supplier, the net and the VAT to deduct.
pub fn purchase_row(inv: &InvoiceRow) -> Result<PurchaseRow, AdapterError> {
    let refuse = refuse(inv);
    let canonical: switchyard_core::model::Invoice =
        serde_path_to_error::deserialize(&inv.document)
            .map_err(|e| refuse(format!("{}: {}", e.path(), e.inner())))?;
    let marks = JpkMarks::from_document(&inv.document).map_err(|e| refuse(e.to_string()))?;
    let nip = Nip::parse(
        canonical.seller.tax_id.as_deref().unwrap_or_default(),
        "seller.tax_id",
    )
    .map_err(|e| refuse(e.to_string()))?;
    let mut lines = Vec::with_capacity(canonical.lines.len());
    for (i, l) in canonical.lines.iter().enumerate() {
        let rate = VatRate::from_percent(l.vat_rate).ok_or_else(|| {
            refuse(format!(
                "lines[{i}].vat_rate: {} is not a Polish VAT rate (23, 8, 5, 0)",
                l.vat_rate
            ))
        })?;
        lines.push((rate, line_net(l.quantity, l.unit_price)));
    }
    let summary = Summary::from_lines(lines);
    Ok(PurchaseRow {
        supplier_nip: nip.as_str().to_owned(),
        supplier_name: canonical.seller.name.trim().to_owned(),
        number: canonical.invoice_number.trim().to_owned(),
        issue_date: canonical.issue_date,
        received_date: marks.received_date,
        ksef: marks.ksef,
        fixed_assets: marks.fixed_assets,
        net: summary.net,
        vat: summary.vat,
    })
}
