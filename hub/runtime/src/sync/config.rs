//! `[sync.PARTNER.ENTITY]`: which mapping turns a core item into the partner's document, and
//! which turns a removed item into its tombstone (an unpublish or delete document).
//!
//! ```toml
//! [sync.acme-shop.catalog]
//! mapping = "storefront/product.out"
//! tombstone = "storefront/product.tombstone"
//! page_size = 500
//! ```
//!
//! The tombstone mapping is required: an item removed in the core must be unpublished or
//! deleted at the partner, never silently left, so a sync that cannot say how is refused at
//! start rather than discovered when the first product is removed.

use serde::Deserialize;
use std::collections::BTreeMap;
use switchyard_core::adapter::Capability;

/// What a sync keeps in step: the change feed's own entities (catalog, inventory, prices).
pub use switchyard_store::feed::FeedEntity as Entity;

/// The capability a partner's adapter must declare to be synced `entity`.
pub fn capability(entity: Entity) -> &'static Capability {
    match entity {
        Entity::Catalog => &Capability::PushCatalog,
        Entity::Inventory => &Capability::PushInventory,
        Entity::Prices => &Capability::PushPrices,
    }
}

fn default_page_size() -> i64 {
    500
}

/// One sync's settings.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SyncTarget {
    /// The mapping from the core item (canonical JSON) to the partner's document.
    pub mapping: String,
    /// The mapping from a removed item (`{"sku", "external_id", "entity"}`) to the partner's
    /// unpublish or delete document.
    pub tombstone: String,
    /// Items read, mapped, compared and pushed per page (one transaction per page).
    #[serde(default = "default_page_size")]
    pub page_size: i64,
    /// The document name the adapter is given (`catalog`, `inventory`, `prices` by default).
    #[serde(default)]
    pub document: Option<String>,
}

impl SyncTarget {
    pub fn document(&self, entity: Entity) -> String {
        self.document
            .clone()
            .unwrap_or_else(|| entity.as_str().to_owned())
    }

    /// The page size within sane bounds (a page is one transaction and one batch).
    pub fn page(&self) -> i64 {
        self.page_size.clamp(1, 5000)
    }
}

/// `[sync]`: partner → entity → settings.
pub type SyncSection = BTreeMap<String, BTreeMap<Entity, SyncTarget>>;

/// The settings of one sync, if configured.
pub fn target<'a>(
    section: &'a SyncSection,
    partner: &str,
    entity: Entity,
) -> Option<&'a SyncTarget> {
    section.get(partner).and_then(|m| m.get(&entity))
}

/// What `switchyard check` says about `[sync]`: each sync names a configured partner whose
/// adapter can push its entity, mappings that exist, and a page size within bounds, so a sync
/// that could never run is found before its first tick rather than by its first job.
pub fn check(
    cx: &crate::integration::CheckContext<'_>,
    adapters: &crate::adapters::Adapters,
) -> Vec<switchyard_core::diag::Diagnostic> {
    let mut problems = Vec::new();
    for (partner, syncs) in &cx.config.sync {
        if !cx.config.partners.contains_key(partner) {
            let known: Vec<&str> = cx.config.partners.keys().map(String::as_str).collect();
            problems.push(cx.source.problem(
                &["sync", partner],
                format!(
                    "sync for unknown partner `{partner}` (configured partners: {})",
                    known.join(", ")
                ),
            ));
            continue;
        }
        for (entity, target) in syncs {
            let at = |key: Option<&'static str>| {
                let mut keys = vec!["sync", partner.as_str(), entity.as_str()];
                keys.extend(key);
                keys
            };
            // A partner that did not build has its own problems reported.
            if let Some(adapter) = adapters.get(partner) {
                if !adapter.supports(*capability(*entity)) {
                    problems.push(cx.source.problem(
                        &at(None),
                        format!(
                            "partner `{partner}` ({} adapter) cannot {}: a {entity} sync needs it",
                            adapter.kind(),
                            capability(*entity)
                        ),
                    ));
                }
            }
            for (key, name) in [
                ("mapping", &target.mapping),
                ("tombstone", &target.tombstone),
            ] {
                if !cx.mappings.contains(name) {
                    problems.push(
                        cx.source
                            .problem(&at(Some(key)), format!("no mapping `{name}` in mappings")),
                    );
                }
            }
            if target.page_size != target.page() {
                problems.push(cx.source.problem(
                    &at(Some("page_size")),
                    format!("page_size must be 1 to 5000, not {}", target.page_size),
                ));
            }
        }
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sync_section_parses_strictly() {
        let s: SyncSection = toml::from_str(
            "[shop.catalog]\nmapping = \"m\"\ntombstone = \"t\"\n[shop.inventory]\nmapping = \"i\"\ntombstone = \"it\"\npage_size = 100\n",
        )
        .unwrap();
        let c = target(&s, "shop", Entity::Catalog).unwrap();
        assert_eq!((c.mapping.as_str(), c.page_size), ("m", 500));
        assert_eq!(target(&s, "shop", Entity::Inventory).unwrap().page(), 100);
        assert!(target(&s, "shop", Entity::Prices).is_none());
        let e = toml::from_str::<SyncSection>("[shop.catalog]\nmapping = \"m\"\n").unwrap_err();
        assert!(e.to_string().contains("missing field `tombstone`"), "{e}");
        let e = toml::from_str::<SyncSection>("[shop.stock]\nmapping = \"m\"\ntombstone = \"t\"\n")
            .unwrap_err();
        assert!(e.to_string().contains("unknown variant `stock`"), "{e}");
    }
}
