//! The job kinds that work with any adapter, so they belong to the runtime rather than to one
//! partner system: push one document, map and push one record, sync a catalog file, clean up,
//! expire soft reservations, deliver outbound webhooks, write and expire export files, and the
//! no-op the queue benchmark runs.

pub mod catalog_sync;
pub mod cleanup;
pub mod export;
pub mod noop;
pub mod push;
pub mod reservation_expiry;
pub mod webhook_deliver;
pub mod webhook_gate;

use crate::config::Config;
use crate::job::JobKindSpec;

/// Every built-in kind (the webhook kind is added by the assembly, which knows the processors).
pub fn builtin(config: &Config) -> Vec<JobKindSpec> {
    vec![
        noop::spec(),
        push::partner_push(),
        push::record_push(),
        catalog_sync::spec(config.paths.inbox()),
        cleanup::spec(config.retention.clone()),
        reservation_expiry::spec(),
        webhook_deliver::spec(&config.webhooks),
        export::run_spec(config.paths.exports.clone()),
        export::expire_spec(),
    ]
    .into_iter()
    .chain(crate::sync::specs(&config.sync))
    .chain(crate::pull::specs(&config.pull))
    .chain(crate::supplier::specs(config))
    .collect()
}
