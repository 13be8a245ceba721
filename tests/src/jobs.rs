//! The jobs end-to-end tests queue.

use serde_json::json;
use switchyard_core::ids::OrgId;
use switchyard_store::queue::NewJob;

/// `count` `partner.push` jobs of an `order` document `{"n": N}` to `partner`, keyed
/// `{key_prefix}-N` (what the fake partner counts applications by).
pub fn pushes(org: OrgId, partner: &str, key_prefix: &str, count: usize) -> Vec<NewJob> {
    (0..count)
        .map(|n| {
            NewJob::new(
                org,
                "partner.push",
                json!({"document": "order", "body": {"n": n}}),
            )
            .partner(partner)
            .key(format!("{key_prefix}-{n}"))
        })
        .collect()
}
