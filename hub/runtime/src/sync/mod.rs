//! The sync engine: keeps partners in step with the core catalog, inventory and prices, pushing
//! only what changed, through any adapter that can push (docs/ARCHITECTURE.md, "The sync
//! engine").
//!
//! * [`config`] — `[sync.PARTNER.ENTITY]`: mapping and tombstone mapping per sync.
//! * [`source`] — the change feed and the core items as canonical JSON.
//! * [`digest`] — content hash of a mapped payload, input hash of an item and its mapping,
//!   idempotency key of a write.
//! * [`engine`] — one page: map, hash, compare, push in batch form, dead-letter failures.
//! * [`run`] — `sync.run`: checkpoint, full sync, the run lock.
//! * [`item`] — `sync.item`: a failed item's dead letter; replay pushes its current version.
//! * [`dispatch`] — `sync.dispatch`: on-change (debounced) and scheduled runs.

pub mod config;
pub mod digest;
pub mod dispatch;
pub mod engine;
pub mod item;
pub mod prices;
pub mod run;
pub mod source;

use crate::job::{
    payload_as, JobKindSpec, Parses, PartnerRule, PartnerSource, PayloadCheck, PayloadProblem,
};
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
        Some(entity) => std::slice::from_ref(config::capability(entity)),
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

/// `sync.run`'s payload parses and names a configured sync: a run of a sync nobody
/// configured is refused where it is enqueued (the API's 422), not found out when it runs.
struct Configured {
    syncs: SyncSection,
}

impl PayloadCheck for Configured {
    fn check(&self, payload: &Value) -> Result<(), PayloadProblem> {
        let run = payload_as::<SyncRun>(payload)?;
        if config::target(&self.syncs, &run.partner, run.entity).is_none() {
            return Err(PayloadProblem::new(
                "entity",
                format!(
                    "no {} sync is configured for partner `{}` (add [sync.{}.{}] with `mapping` and `tombstone`)",
                    run.entity, run.partner, run.partner, run.entity
                ),
            ));
        }
        Ok(())
    }
}

/// The sync engine's job kinds.
pub fn specs(syncs: &SyncSection) -> Vec<JobKindSpec> {
    vec![
        JobKindSpec::typed(run::RunJob {
            syncs: syncs.clone(),
        })
        .partner(SYNC_RULE)
        .payload_check(Configured {
            syncs: syncs.clone(),
        }),
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

#[cfg(test)]
mod schedule_tests {
    use super::*;
    use std::path::Path;

    #[test]
    fn the_shipped_schedules_dispatch_each_entity_at_its_frequency() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../schedules");
        let (list, problems) = crate::schedules::load_dir(&dir);
        assert!(problems.is_empty(), "{problems:?}");
        let find = |name: &str| {
            let s = list
                .iter()
                .find(|s| s.name == name)
                .unwrap_or_else(|| panic!("schedules/{name}.toml"));
            assert_eq!(s.job, <SyncDispatch as switchyard_core::JobPayload>::KIND);
            let p: SyncDispatch = crate::job::parse_payload(&s.params).expect("payload parses");
            (s.cron.to_string(), p)
        };
        let (cron, p) = find("sync-catalog");
        assert_eq!(cron, "0 30 2 * * *");
        assert_eq!(
            (p.entity, p.full, p.force, p.changed_only),
            (Some(Entity::Catalog), true, false, false)
        );
        let (cron, p) = find("sync-inventory");
        assert_eq!(cron, "0 */5 * * * *");
        assert_eq!((p.entity, p.full), (Some(Entity::Inventory), false));
        let (cron, p) = find("sync-prices");
        assert_eq!(cron, "0 0 * * * *");
        assert_eq!(p.entity, Some(Entity::Prices));
        let (cron, p) = find("sync-on-change");
        assert_eq!(cron, "*/10 * * * * *");
        assert_eq!((p.entity, p.changed_only), (None, true));
    }
}
