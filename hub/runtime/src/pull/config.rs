//! `[pull.PARTNER.ENTITY]`: which mapping turns the partner's records into the catalog's items,
//! and what every page request carries.
//!
//! ```toml
//! [pull.core.products]
//! mapping = "http/core-product.in"
//! params = { collection = "products", limit = 500 }
//! ```
//!
//! The mapping's output is an item as the REST bulk upsert of the entity takes it (a product
//! of `PUT /catalog/products`, a level of `PUT /inventory/levels`, a list price of
//! `PUT /pricing/list-prices`), checked by the same code, so the three ways into the catalog
//! keep one set of rules.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;
use switchyard_core::adapter::Capability;

/// What a pull stores: core products, stock levels or list prices.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PullEntity {
    Products,
    Inventory,
    Prices,
}

impl PullEntity {
    pub const ALL: [PullEntity; 3] = [
        PullEntity::Products,
        PullEntity::Inventory,
        PullEntity::Prices,
    ];

    pub fn as_str(&self) -> &'static str {
        match self {
            PullEntity::Products => "products",
            PullEntity::Inventory => "inventory",
            PullEntity::Prices => "prices",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|e| e.as_str() == s)
    }

    /// The capability a partner's adapter must declare to be pulled this entity.
    pub fn capability(&self) -> &'static Capability {
        match self {
            PullEntity::Products => &Capability::PullCatalog,
            PullEntity::Inventory => &Capability::PullInventory,
            PullEntity::Prices => &Capability::PullPrices,
        }
    }
}

impl fmt::Display for PullEntity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One pull's settings.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PullTarget {
    /// The mapping from one of the partner's records to the entity's item.
    pub mapping: String,
    /// Query parameters of every page request (the partner's name for the collection, its
    /// page size): what a partner needs to tell its records apart is the partner's business.
    #[serde(default)]
    pub params: BTreeMap<String, toml::Value>,
}

impl PullTarget {
    /// The page request's params as JSON, the adapter's form.
    pub fn params_json(&self) -> serde_json::Value {
        serde_json::to_value(&self.params).unwrap_or_default()
    }
}

/// `[pull]`: partner → entity → settings.
pub type PullSection = BTreeMap<String, BTreeMap<PullEntity, PullTarget>>;

/// The settings of one pull, if configured.
pub fn target<'a>(
    section: &'a PullSection,
    partner: &str,
    entity: PullEntity,
) -> Option<&'a PullTarget> {
    section.get(partner).and_then(|m| m.get(&entity))
}

/// What `switchyard check` says about `[pull]`: each pull names a configured partner whose
/// adapter can pull its entity, a mapping that exists, and params the adapter can send (scalars),
/// so a pull that could never run is found before its first tick rather than by its first job.
pub fn check(
    cx: &crate::integration::CheckContext<'_>,
    adapters: &crate::adapters::Adapters,
) -> Vec<switchyard_core::diag::Diagnostic> {
    let mut problems = Vec::new();
    for (partner, pulls) in &cx.config.pull {
        if !cx.config.partners.contains_key(partner) {
            let known: Vec<&str> = cx.config.partners.keys().map(String::as_str).collect();
            problems.push(cx.source.problem(
                &["pull", partner],
                format!(
                    "pull from unknown partner `{partner}` (configured partners: {})",
                    known.join(", ")
                ),
            ));
            continue;
        }
        for (entity, target) in pulls {
            fn at<'a>(partner: &'a str, entity: PullEntity, key: &[&'a str]) -> Vec<&'a str> {
                let mut keys = vec!["pull", partner, entity.as_str()];
                keys.extend_from_slice(key);
                keys
            }
            // A partner that did not build has its own problems reported.
            if let Some(adapter) = adapters.get(partner) {
                if !adapter.supports(*entity.capability()) {
                    problems.push(cx.source.problem(
                        &at(partner, *entity, &[]),
                        format!(
                            "partner `{partner}` ({} adapter) cannot {}: a {entity} pull needs it (an HTTP partner needs `pull_path`)",
                            adapter.kind(),
                            entity.capability()
                        ),
                    ));
                }
            }
            if !cx.mappings.contains(&target.mapping) {
                problems.push(cx.source.problem(
                    &at(partner, *entity, &["mapping"]),
                    format!("no mapping `{}` in mappings", target.mapping),
                ));
            }
            for (name, value) in &target.params {
                if matches!(
                    value,
                    toml::Value::Array(_) | toml::Value::Table(_) | toml::Value::Datetime(_)
                ) {
                    problems.push(cx.source.problem(
                        &at(partner, *entity, &["params", name]),
                        format!("param `{name}` must be a string, number or boolean"),
                    ));
                }
            }
        }
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pull_section_parses_strictly() {
        let s: PullSection = toml::from_str(
            "[core.products]\nmapping = \"m\"\nparams = { collection = \"products\", limit = 500 }\n[core.prices]\nmapping = \"p\"\n",
        )
        .unwrap();
        let p = target(&s, "core", PullEntity::Products).unwrap();
        assert_eq!(p.mapping, "m");
        assert_eq!(
            p.params_json(),
            serde_json::json!({"collection": "products", "limit": 500})
        );
        assert!(target(&s, "core", PullEntity::Prices)
            .unwrap()
            .params
            .is_empty());
        assert!(target(&s, "core", PullEntity::Inventory).is_none());
        let e = toml::from_str::<PullSection>("[core.products]\nparams = {}\n").unwrap_err();
        assert!(e.to_string().contains("missing field `mapping`"), "{e}");
        let e = toml::from_str::<PullSection>("[core.catalog]\nmapping = \"m\"\n").unwrap_err();
        assert!(e.to_string().contains("unknown variant `catalog`"), "{e}");
        let e = toml::from_str::<PullSection>("[core.products]\nmapping = \"m\"\npage = 1\n")
            .unwrap_err();
        assert!(e.to_string().contains("unknown field `page`"), "{e}");
    }
}
