//! The scheduled pull: the core catalog fed from the distributor's core system through an
//! adapter that can pull, ending in the same tables (and through the same rules) as the REST
//! bulk upserts (docs/ARCHITECTURE.md, "The scheduled pull").
//!
//! * [`config`] — `[pull.PARTNER.ENTITY]`: the mapping and the page requests' params.
//! * [`items`] — a page's records mapped, checked with the REST upsert's rules, stored in
//!   batches of at most 1,000.
//! * [`run`] — `catalog.pull`: page by page from the stored cursor, one run per pull.
//! * [`record`] — `catalog.pull.record`: a record that failed, as a dead letter; its replay
//!   maps and stores it again.
//! * [`dispatch`] — `catalog.pull.dispatch`: the schedules' trigger.

pub mod config;
pub mod dispatch;
pub mod items;
pub mod record;
pub mod run;

use crate::job::{
    payload_as, JobKindSpec, Parses, PartnerRule, PartnerSource, PayloadCheck, PayloadProblem,
};
use config::{PullEntity, PullSection};
use serde_json::Value;
use switchyard_core::adapter::Capability;

pub use dispatch::PullDispatch;
pub use record::PullRecord;
pub use run::PullRun;

/// The pull capability the payload's `entity` needs.
fn needs_pull_of_entity(payload: &Value) -> &'static [Capability] {
    match payload
        .get("entity")
        .and_then(Value::as_str)
        .and_then(PullEntity::parse)
    {
        Some(entity) => std::slice::from_ref(entity.capability()),
        None => &[],
    }
}

/// The payload's partner must be configured and able to pull the payload's entity.
const PULL_RULE: PartnerRule = PartnerRule {
    source: PartnerSource::Payload("partner"),
    required: true,
    kinds: &[],
    needs: needs_pull_of_entity,
};

/// `catalog.pull`'s payload parses and names a configured pull: a run of a pull nobody
/// configured is refused where it is enqueued (the API's 422), not found out when it runs.
struct Configured {
    pulls: PullSection,
}

impl PayloadCheck for Configured {
    fn check(&self, payload: &Value) -> Result<(), PayloadProblem> {
        let run = payload_as::<PullRun>(payload)?;
        if config::target(&self.pulls, &run.partner, run.entity).is_none() {
            return Err(PayloadProblem::new(
                "entity",
                format!(
                    "no {} pull is configured for partner `{}` (add [pull.{}.{}] with `mapping`)",
                    run.entity, run.partner, run.partner, run.entity
                ),
            ));
        }
        Ok(())
    }
}

/// The scheduled pull's job kinds.
pub fn specs(pulls: &PullSection) -> Vec<JobKindSpec> {
    vec![
        JobKindSpec::typed(run::RunJob {
            pulls: pulls.clone(),
        })
        .partner(PULL_RULE)
        .payload_check(Configured {
            pulls: pulls.clone(),
        }),
        JobKindSpec::typed(record::RecordJob).partner(PULL_RULE),
        JobKindSpec::typed(dispatch::DispatchJob {
            pulls: pulls.clone(),
        })
        .payload_check(Parses::<PullDispatch>::default()),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::path::Path;

    #[test]
    fn a_pull_needs_the_pull_capability_of_its_entity() {
        assert_eq!(
            needs_pull_of_entity(&json!({"entity": "products"})),
            &[Capability::PullCatalog]
        );
        assert_eq!(
            needs_pull_of_entity(&json!({"entity": "inventory"})),
            &[Capability::PullInventory]
        );
        assert_eq!(
            needs_pull_of_entity(&json!({"entity": "prices"})),
            &[Capability::PullPrices]
        );
        assert!(needs_pull_of_entity(&json!({"entity": "catalog"})).is_empty());
    }

    #[test]
    fn the_shipped_schedule_pulls_each_entity_at_its_frequency() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../schedules");
        let (list, problems) = crate::schedules::load_dir(&dir);
        assert!(problems.is_empty(), "{problems:?}");
        let find = |name: &str| {
            let s = list
                .iter()
                .find(|s| s.name == name)
                .unwrap_or_else(|| panic!("schedules/{name}.toml"));
            assert_eq!(s.job, <PullDispatch as switchyard_core::JobPayload>::KIND);
            let p: PullDispatch = crate::job::parse_payload(&s.params).expect("payload parses");
            (s.cron.to_string(), p)
        };
        let (cron, p) = find("catalog-pull");
        assert_eq!(cron, "0 0 2 * * *");
        assert_eq!((p.entity, p.full), (Some(PullEntity::Products), true));
        let (cron, p) = find("inventory-pull");
        assert_eq!(cron, "0 */5 * * * *");
        assert_eq!((p.entity, p.full), (Some(PullEntity::Inventory), false));
        let (cron, p) = find("prices-pull");
        assert_eq!(cron, "0 50 * * * *");
        assert_eq!(p.entity, Some(PullEntity::Prices));
    }
}
