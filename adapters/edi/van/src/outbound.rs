//! Outbound EDI documents through mapping files: the canonical entity plus a few computed
//! fields → the partner standard's mapping under `mappings/edi/` → an EDI tree
//! (adapters/edi/src/tree.rs) → `from_tree` (refuses what the structure table does not allow,
//! naming the JSON path) → the envelope with the allocated control numbers.
//!
//! Every outbound document goes through its mapping: 855 (`edi/855.out`), ORDRSP
//! (`edi/ordrsp.out`), 856 (`edi/856.out`), DESADV (`edi/desadv.out`), 810 (`edi/810.out`),
//! INVOIC (`edi/invoic.out`).
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
//! * ship notices: each package's SSCC-18 (its own, check digit verified, or minted from the
//!   partner's GS1 prefix and the envelope's serial block, like the control numbers), each
//!   package line's running DESADV `lin` number, the shipped date/time, the total weight.
//!
//! Post-step after the mapping, for the 856 only ([`number_hl`]): HL01 (ids 1, 2, …), HL02
//! (parent = the nearest earlier HL of a higher level, shipment > order > tare > pack > item)
//! and CTT01 (the number of HL segments). The mapping lists the levels in order; numbering and
//! linking them in jq would be a fold over the whole list that nobody could review.

use chrono::NaiveDateTime;
use rust_decimal::Decimal;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use switchyard_core::model::{Invoice, Order, Shipment};
use switchyard_edi::generate::{self, Envelope, OutboundKind};
use switchyard_edi::partner::PartnerProfile;
use switchyard_edi::regroup::{regroup, MAPPING_DIRECTORY};
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
    #[error(
        "order {order}: customer_po (the buyer's purchase order number, 855 BAK03 / ORDRSP \
         RFF+ON) is missing; an order response names the buyer's PO and never our order number \
         in its place"
    )]
    NoCustomerPo { order: String },
}

/// The mapping that builds `kind` for `standard`.
pub fn mapping_name(kind: OutboundKind, standard: Standard) -> &'static str {
    match (kind, standard) {
        (OutboundKind::OrderResponse, Standard::X12) => "edi/855.out",
        (OutboundKind::OrderResponse, Standard::Edifact) => "edi/ordrsp.out",
        (OutboundKind::ShipNotice, Standard::X12) => "edi/856.out",
        (OutboundKind::ShipNotice, Standard::Edifact) => "edi/desadv.out",
        (OutboundKind::Invoice, Standard::X12) => "edi/810.out",
        (OutboundKind::Invoice, Standard::Edifact) => "edi/invoic.out",
    }
}

/// The common computed fields: the document's clock, and `us`, our own party identification
/// for N1/NAD ([`PartnerProfile::our_party`]).
fn clock(p: &PartnerProfile, now: NaiveDateTime) -> serde_json::Map<String, Value> {
    let mut m = serde_json::Map::new();
    m.insert("date".into(), json!(now.format("%Y%m%d").to_string()));
    m.insert("time".into(), json!(now.format("%H%M").to_string()));
    let (qualifier, id) = p.our_party();
    m.insert("us".into(), json!({"qualifier": qualifier, "id": id}));
    m
}

/// Why an order response cannot be built: the 855 BAK03 and the ORDRSP RFF+ON are the buyer's
/// PO number, mandatory, and our own order number must never stand in for it.
pub fn check_order_response(order: &Order) -> Result<(), OutboundError> {
    match order.customer_po.as_deref().map(str::trim) {
        Some(po) if !po.is_empty() => Ok(()),
        _ => Err(OutboundError::NoCustomerPo {
            order: order.order_number.clone(),
        }),
    }
}

/// The mapping input of an order response: `{"order": Order, "edi": {...}}`.
pub fn order_response_input(p: &PartnerProfile, order: &Order, now: NaiveDateTime) -> Value {
    let mut o = order.clone();
    for l in &mut o.lines {
        l.quantity = l.quantity.normalize();
        l.unit_price = l.unit_price.normalize();
    }
    let mut edi = clock(p, now);
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

/// The mapping input of a ship notice: `{"shipment": Shipment + SSCCs and LIN numbers,
/// "order": Order, "edi": {...}}`. A package SSCC with a wrong check digit is an error.
pub fn ship_notice_input(
    p: &PartnerProfile,
    shipment: &Shipment,
    order: &Order,
    env: &Envelope,
) -> Result<Value, generate::GenerateError> {
    let ssccs = generate::package_ssccs(p, shipment, env)?;
    let mut s = shipment.clone();
    // The buyer's PO reference (856 PRF, DESADV RFF+ON) from the order, where the shipment
    // has none.
    s.fill_po_from(order);
    let mut weight = Decimal::ZERO;
    for (pkg, sscc) in s.packages.iter_mut().zip(ssccs) {
        pkg.sscc = Some(sscc);
        weight += pkg.weight.unwrap_or_default();
        pkg.weight = pkg.weight.map(|w| w.normalize());
        for l in &mut pkg.lines {
            l.quantity = l.quantity.normalize();
        }
    }
    let weight_uom = s.packages.iter().find_map(|p| p.weight_uom);
    let mut value = json!(s);
    let mut lin = 0u32;
    if let Some(pkgs) = value.get_mut("packages").and_then(Value::as_array_mut) {
        for line in pkgs
            .iter_mut()
            .filter_map(|p| p.get_mut("lines").and_then(Value::as_array_mut))
            .flatten()
        {
            lin += 1;
            if let Some(o) = line.as_object_mut() {
                o.insert("lin".into(), json!(lin));
            }
        }
    }
    let shipped = shipment
        .shipped_at
        .map(|t| t.naive_utc())
        .unwrap_or(env.now);
    let mut edi = clock(p, env.now);
    edi.insert(
        "shipped_date".into(),
        json!(shipped.format("%Y%m%d").to_string()),
    );
    edi.insert(
        "shipped_time".into(),
        json!(shipped.format("%H%M").to_string()),
    );
    edi.insert(
        "total_weight".into(),
        if weight > Decimal::ZERO {
            json!(weight.normalize().to_string())
        } else {
            Value::Null
        },
    );
    edi.insert("weight_uom".into(), json!(weight_uom));
    let mut o = order.clone();
    for l in &mut o.lines {
        l.quantity = l.quantity.normalize();
        l.unit_price = l.unit_price.normalize();
    }
    Ok(json!({"shipment": value, "order": o, "edi": edi}))
}

/// The 856 post-step: HL01 ids in order, HL02 the nearest earlier HL of a higher level, CTT01
/// the number of HL segments. Returns that number.
pub fn number_hl(tree: &mut Value) -> usize {
    fn rank(level: &str) -> u8 {
        match level {
            "S" => 0,
            "O" => 1,
            "T" => 2,
            "P" => 3,
            "I" => 4,
            _ => 5,
        }
    }
    let mut seen: Vec<(usize, u8)> = Vec::new();
    if let Some(hls) = tree.get_mut("HL_loop").and_then(Value::as_array_mut) {
        for (i, item) in hls.iter_mut().enumerate() {
            let Some(hl) = item.get_mut("HL").and_then(Value::as_object_mut) else {
                continue;
            };
            let level = rank(hl.get("03").and_then(Value::as_str).unwrap_or(""));
            let parent = seen
                .iter()
                .rev()
                .find(|(_, r)| *r < level)
                .map(|(id, _)| *id);
            hl.insert("01".into(), json!((i + 1).to_string()));
            match parent {
                Some(p) => hl.insert("02".into(), json!(p.to_string())),
                None => hl.remove("02"),
            };
            seen.push((i + 1, level));
        }
    }
    if let Some(t) = tree.as_object_mut() {
        t.insert("CTT".into(), json!({"01": seen.len().to_string()}));
    }
    seen.len()
}

/// X12 N2: an amount in cents, without a decimal point.
fn cents(d: Decimal) -> String {
    (d.round_dp(2) * Decimal::ONE_HUNDRED)
        .trunc()
        .normalize()
        .to_string()
}

/// The mapping input of an invoice: `{"invoice": Invoice + line amounts, "edi": {...}}`.
pub fn invoice_input(p: &PartnerProfile, inv: &Invoice, now: NaiveDateTime) -> Value {
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
    let mut edi = clock(p, now);
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
    let mut tree = mapping
        .map_record(input, &mut RunState::default())
        .map_err(|e| OutboundError::Mapping {
            mapping: name.into(),
            error: e.to_string(),
        })?;
    if kind == OutboundKind::ShipNotice && profile.standard == Standard::X12 {
        number_hl(&mut tree);
    }
    let set_type = kind.set_type(profile.standard);
    let version = generate::table_version(profile)?;
    if profile.standard == Standard::Edifact {
        // The mapping files name segment groups as D96A numbers them.
        tree = regroup(tree, set_type, MAPPING_DIRECTORY, &version).map_err(|e| {
            OutboundError::Tree {
                mapping: name.into(),
                set_type,
                error: e.to_string(),
            }
        })?;
    }
    let body = from_tree(&tree, profile.standard, set_type, &version).map_err(|e| {
        OutboundError::Tree {
            mapping: name.into(),
            set_type,
            error: e.to_string(),
        }
    })?;
    Ok(generate::enveloped(profile, env, kind, &body)?)
}
