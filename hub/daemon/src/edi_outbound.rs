//! Outbound EDI documents through mapping files: the canonical entity plus a few computed
//! fields → the partner standard's mapping under `mappings/edi/` → an EDI tree
//! (adapters/edi/src/tree.rs) → `from_tree` (refuses what the structure table does not allow,
//! naming the JSON path) → the envelope with the allocated control numbers.
//!
//! Which documents go through mappings: 855 (`edi/855.out`), ORDRSP (`edi/ordrsp.out`), 810
//! (`edi/810.out`) and INVOIC (`edi/invoic.out`). 856/DESADV are still built by the Rust
//! builder in `switchyard_edi::generate::ship_notice` (not yet ported).
//!
//! Computed in Rust rather than in the mapping, and why:
//! * decimals are written without trailing zeros (`18.40` → `18.4`, as EDI numbers are
//!   written): done on the typed entity, because jq numbers are `f64`;
//! * `edi.date` / `edi.time` (the document's clock, passed in like the control numbers) and
//!   `edi.po_date` (the order date in UTC, or today when the order has none);
//! * invoice money, exactly as the canonical model computes it (`InvoiceLine::net_amount` /
//!   `vat_amount`, rounded per line): each line gets `net_amount` and `vat_amount`, and
//!   `edi.totals` (`net`, `vat`, `gross`, and `gross_cents` / `net_cents` for the X12 TDS, N2)
//!   and `edi.vat_rates` (`[{rate, net, vat}]`, one per rate, ascending) are added. jq's `f64`
//!   arithmetic must not do money.

use chrono::NaiveDateTime;
use rust_decimal::Decimal;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use switchyard_core::model::{Invoice, Order};
use switchyard_edi::generate::{self, Envelope, OutboundKind};
use switchyard_edi::partner::PartnerProfile;
use switchyard_edi::tree::from_tree;
use switchyard_edi::Standard;
use switchyard_mapping::{Mapping, RunState};

#[derive(Debug, thiserror::Error)]
pub enum OutboundError {
    #[error("mapping {mapping}: {error}")]
    Mapping { mapping: String, error: String },
    #[error("mapping {mapping} produced a tree the {set_type} table refuses: {error}")]
    Tree {
        mapping: String,
        set_type: &'static str,
        error: String,
    },
    #[error(transparent)]
    Generate(#[from] generate::GenerateError),
}

/// The mapping that builds `kind` for `standard`: `edi/855.out`, `edi/ordrsp.out`; `None` for
/// documents still built in Rust.
pub fn mapping_name(kind: OutboundKind, standard: Standard) -> Option<&'static str> {
    match (kind, standard) {
        (OutboundKind::OrderResponse, Standard::X12) => Some("edi/855.out"),
        (OutboundKind::OrderResponse, Standard::Edifact) => Some("edi/ordrsp.out"),
        (OutboundKind::Invoice, Standard::X12) => Some("edi/810.out"),
        (OutboundKind::Invoice, Standard::Edifact) => Some("edi/invoic.out"),
        _ => None,
    }
}

/// The common computed fields: the document's clock.
fn clock(now: NaiveDateTime) -> serde_json::Map<String, Value> {
    let mut m = serde_json::Map::new();
    m.insert("date".into(), json!(now.format("%Y%m%d").to_string()));
    m.insert("time".into(), json!(now.format("%H%M").to_string()));
    m
}

/// The mapping input of an order response: `{"order": Order, "edi": {...}}`.
pub fn order_response_input(order: &Order, now: NaiveDateTime) -> Value {
    let mut o = order.clone();
    for l in &mut o.lines {
        l.quantity = l.quantity.normalize();
        l.unit_price = l.unit_price.normalize();
    }
    let mut edi = clock(now);
    let po_date = order
        .ordered_at
        .map(|t| t.date_naive())
        .unwrap_or(now.date());
    edi.insert(
        "po_date".into(),
        json!(po_date.format("%Y%m%d").to_string()),
    );
    json!({"order": o, "edi": edi})
}

/// X12 N2: an amount in cents, without a decimal point.
fn cents(d: Decimal) -> String {
    (d.round_dp(2) * Decimal::ONE_HUNDRED)
        .trunc()
        .normalize()
        .to_string()
}

/// The mapping input of an invoice: `{"invoice": Invoice + line amounts, "edi": {...}}`.
pub fn invoice_input(inv: &Invoice, now: NaiveDateTime) -> Value {
    let mut i = inv.clone();
    for l in &mut i.lines {
        l.quantity = l.quantity.normalize();
        l.unit_price = l.unit_price.normalize();
        l.vat_rate = l.vat_rate.normalize();
    }
    let mut by_rate: BTreeMap<Decimal, (Decimal, Decimal)> = BTreeMap::new();
    for l in &inv.lines {
        let e = by_rate.entry(l.vat_rate.normalize()).or_default();
        e.0 += l.net_amount();
        e.1 += l.vat_amount();
    }
    let mut value = json!(i);
    if let Some(lines) = value.get_mut("lines").and_then(Value::as_array_mut) {
        for (v, l) in lines.iter_mut().zip(&inv.lines) {
            if let Some(o) = v.as_object_mut() {
                o.insert(
                    "net_amount".into(),
                    json!(l.net_amount().normalize().to_string()),
                );
                o.insert(
                    "vat_amount".into(),
                    json!(l.vat_amount().normalize().to_string()),
                );
            }
        }
    }
    let mut edi = clock(now);
    let n = |d: Decimal| json!(d.normalize().to_string());
    edi.insert(
        "totals".into(),
        json!({
            "net": n(inv.net_total()),
            "vat": n(inv.vat_total()),
            "gross": n(inv.gross_total()),
            "net_cents": cents(inv.net_total()),
            "gross_cents": cents(inv.gross_total()),
        }),
    );
    edi.insert(
        "vat_rates".into(),
        Value::Array(
            by_rate
                .iter()
                .map(|(rate, (net, vat))| json!({"rate": n(*rate), "net": n(*net), "vat": n(*vat)}))
                .collect(),
        ),
    );
    json!({"invoice": value, "edi": edi})
}

/// Runs `mapping` on `input`, checks the tree against the set's table and envelopes it.
pub fn generate(
    mapping: &Mapping,
    name: &str,
    kind: OutboundKind,
    profile: &PartnerProfile,
    env: &Envelope,
    input: &Value,
) -> Result<String, OutboundError> {
    let tree = mapping
        .map_record(input, &mut RunState::default())
        .map_err(|e| OutboundError::Mapping {
            mapping: name.into(),
            error: e.to_string(),
        })?;
    let set_type = kind.set_type(profile.standard);
    let version = generate::table_version(profile)?;
    let body = from_tree(&tree, profile.standard, set_type, &version).map_err(|e| {
        OutboundError::Tree {
            mapping: name.into(),
            set_type,
            error: e.to_string(),
        }
    })?;
    Ok(generate::enveloped(profile, env, kind, &body)?)
}
