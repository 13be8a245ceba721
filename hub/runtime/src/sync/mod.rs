//! The sync engine: keeps partners in step with the core catalog, inventory and prices, pushing
//! only what changed, through any adapter that can push (docs/ARCHITECTURE.md, "The sync
//! engine").
//!
//! * [`config`] — `[sync.PARTNER.ENTITY]`: mapping and tombstone mapping per sync.
//! * [`source`] — the change feed and the core items as canonical JSON.
//! * [`digest`] — content hash of a mapped payload, idempotency key of a write.
//! * [`engine`] — one page: map, hash, compare, push in batch form, dead-letter failures.
//! * [`run`] — `sync.run`: checkpoint, full sync, the run lock.
//! * [`item`] — `sync.item`: a failed item's dead letter; replay pushes its current version.
//! * [`dispatch`] — `sync.dispatch`: on-change (debounced) and scheduled runs.

pub mod config;
pub mod digest;
pub mod dispatch;
pub mod engine;
pub mod item;
pub mod run;
pub mod source;

use crate::job::{JobKindSpec, Parses, PartnerRule, PartnerSource};
use config::{Entity, SyncSection};
use serde_json::Value;
use switchyard_core::adapter::Capability;

pub use dispatch::SyncDispatch;
pub use item::SyncItem;
pub use run::SyncRun;

/// The push capability the payload's `entity` needs.
fn needs_push_of_entity(payload: &Value) -> &'static [Capability] {
    match payload
        .get("entity")
        .and_then(Value::as_str)
        .and_then(Entity::parse)
    {
        Some(Entity::Catalog) => &[Capability::PushCatalog],
        Some(Entity::Inventory) => &[Capability::PushInventory],
        Some(Entity::Prices) => &[Capability::PushPrices],
        None => &[],
    }
}

/// The payload's partner must be configured and able to push the payload's entity.
const SYNC_RULE: PartnerRule = PartnerRule {
    source: PartnerSource::Payload("partner"),
    required: true,
    kinds: &[],
    needs: needs_push_of_entity,
};

/// The sync engine's job kinds.
pub fn specs(syncs: &SyncSection) -> Vec<JobKindSpec> {
    vec![
        JobKindSpec::typed(run::RunJob {
            syncs: syncs.clone(),
        })
        .partner(SYNC_RULE)
        .payload_check(Parses::<SyncRun>::default()),
        JobKindSpec::typed(item::ItemJob {
            syncs: syncs.clone(),
        })
        .partner(SYNC_RULE),
        JobKindSpec::typed(dispatch::DispatchJob {
            syncs: syncs.clone(),
        })
        .payload_check(Parses::<SyncDispatch>::default()),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_sync_needs_the_push_capability_of_its_entity() {
        assert_eq!(
            needs_push_of_entity(&json!({"entity": "inventory"})),
            &[Capability::PushInventory]
        );
        assert_eq!(
            needs_push_of_entity(&json!({"entity": "prices"})),
            &[Capability::PushPrices]
        );
        assert!(needs_push_of_entity(&json!({"entity": "stock"})).is_empty());
    }
}
