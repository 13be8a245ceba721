//! `[suppliers.ORG]`: which supplier serves an organization, and how its orders reach it.
//!
//! ```toml
//! [suppliers.default]
//! partner = "phonex"                 # a [partners.NAME] whose adapter is a supplier
//! order_mapping = "phonex/order.out" # default: "<the partner's kind>/order.out"
//! forward = "on_create"              # or "manual" (POST /api/v1/orders/{id}/forward only)
//! ```
//!
//! Switching `partner` is the whole of switching suppliers: the flows are written against the
//! supplier contract and the order mapping defaults to the new partner's own. Orders already
//! forwarded stay with the partner that took them.

use serde::Deserialize;
use std::collections::BTreeMap;

/// When an organization's new orders go to its supplier.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ForwardMode {
    /// Every new order (status `pending`) is forwarded by the dispatcher
    /// (`supplier.order.dispatch`, schedules/supplier-forward.toml).
    #[default]
    OnCreate,
    /// Only when asked: `POST /api/v1/orders/{id}/forward`.
    Manual,
}

/// One organization's supplier.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SupplierAssignment {
    pub partner: String,
    /// The mapping from our canonical order to the supplier's order document.
    #[serde(default)]
    pub order_mapping: Option<String>,
    #[serde(default)]
    pub forward: ForwardMode,
}

impl SupplierAssignment {
    /// The order mapping's name, given the partner's adapter kind.
    pub fn order_mapping(&self, kind: &str) -> String {
        self.order_mapping
            .clone()
            .unwrap_or_else(|| default_order_mapping(kind))
    }
}

/// `<kind>/order.out`: where each supplier adapter keeps its order mapping.
pub fn default_order_mapping(kind: &str) -> String {
    format!("{kind}/order.out")
}

/// `[suppliers]`: organization slug → its supplier.
pub type SuppliersSection = BTreeMap<String, SupplierAssignment>;

/// What `switchyard check` says about `[suppliers]`: the partner exists, belongs to the
/// organization (its credentials are that organization's), its adapter is a supplier, and the
/// order mapping exists. Each problem is located at the key at fault.
pub fn check(
    cx: &crate::integration::CheckContext<'_>,
    adapters: &crate::adapters::Adapters,
) -> Vec<switchyard_core::diag::Diagnostic> {
    let mut problems = Vec::new();
    for (org, s) in &cx.config.suppliers {
        let at_partner = ["suppliers", org.as_str(), "partner"];
        let Some(partner) = cx.config.partners.get(&s.partner) else {
            let known: Vec<&str> = cx.config.partners.keys().map(String::as_str).collect();
            problems.push(cx.source.problem(
                &at_partner,
                format!(
                    "supplier of `{org}`: unknown partner `{}` (configured partners: {})",
                    s.partner,
                    if known.is_empty() {
                        "none".to_owned()
                    } else {
                        known.join(", ")
                    }
                ),
            ));
            continue;
        };
        if &partner.org != org {
            problems.push(cx.source.problem(
                &at_partner,
                format!(
                    "supplier of `{org}`: partner `{}` belongs to organization `{}` (set its `org = \"{org}\"`)",
                    s.partner, partner.org
                ),
            ));
        }
        // A partner that did not build has its own problems reported.
        if let Some(adapter) = adapters.get(&s.partner) {
            if adapter.as_supplier().is_none() {
                problems.push(cx.source.problem(
                    &at_partner,
                    format!(
                        "supplier of `{org}`: partner `{}` ({} adapter) is not a supplier (it cannot take orders or report their status)",
                        s.partner,
                        adapter.kind()
                    ),
                ));
            }
        }
        let mapping = s.order_mapping(&partner.kind);
        if !cx.mappings.contains(&mapping) {
            let key: &[&str] = if s.order_mapping.is_some() {
                &["suppliers", org.as_str(), "order_mapping"]
            } else {
                &at_partner
            };
            problems.push(cx.source.problem(
                key,
                format!("supplier of `{org}`: no mapping `{mapping}` in mappings"),
            ));
        }
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_suppliers_section_parses_strictly() {
        let s: SuppliersSection =
            toml::from_str("[default]\npartner = \"phonex\"\n[acme]\npartner = \"wesell\"\nforward = \"manual\"\norder_mapping = \"x/y\"\n")
                .unwrap();
        assert_eq!(s["default"].forward, ForwardMode::OnCreate);
        assert_eq!(s["default"].order_mapping("phonex"), "phonex/order.out");
        assert_eq!(s["acme"].forward, ForwardMode::Manual);
        assert_eq!(s["acme"].order_mapping("wesellcellular"), "x/y");
        let e = toml::from_str::<SuppliersSection>("[d]\npartner = \"p\"\nforward = \"now\"\n")
            .unwrap_err();
        assert!(e.to_string().contains("unknown variant `now`"), "{e}");
        let e = toml::from_str::<SuppliersSection>("[d]\npartner = \"p\"\nmaping = \"m\"\n")
            .unwrap_err();
        assert!(e.to_string().contains("unknown field `maping`"), "{e}");
    }
}
