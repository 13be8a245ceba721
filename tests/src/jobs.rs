//! The jobs end-to-end tests queue.

use serde_json::json;
use switchyard_core::ids::{JobId, OrgId};
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

/// Wait until job `id` has ended (`succeeded` or `dead`); its final state.
pub async fn ended(pool: &sqlx::PgPool, id: JobId) -> anyhow::Result<String> {
    let state = || async move {
        let (s,): (String,) = sqlx::query_as("SELECT state FROM jobs WHERE id = $1")
            .bind(id.0)
            .fetch_one(pool)
            .await?;
        anyhow::Ok(s)
    };
    crate::wait::eventually(
        // A ceiling only: a sync of a few hundred items through a paced fake can take a minute
        // on two shared cores.
        std::time::Duration::from_secs(120),
        "the job to end",
        || async move { Ok(matches!(state().await?.as_str(), "succeeded" | "dead")) },
    )
    .await?;
    state().await
}
