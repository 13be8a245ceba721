//! The supplier flows (issue #14), written once against the supplier contract
//! (`switchyard_core::supplier::Supplier`, reached through `Adapter::as_supplier`), so a
//! supplier adapter (PhoneX, WesellCellular) brings only its wire format. Stock and prices
//! come through the generic pull (`[pull.PARTNER.inventory|prices]`), not from here.
//!
//! * [`config`] — `[suppliers.ORG]`: which partner serves an organization, its order mapping,
//!   whether new orders are forwarded on their own.
//! * [`forward`] — `supplier.order.forward` (place one order, idempotent per order) and
//!   `supplier.order.dispatch` (queue the new orders).
//! * [`status`] — applying status updates: never backwards, reassigned ids followed, unknown
//!   orders held, our order's status, the `order.supplier_status_changed` event.
//! * [`webhook`] — the webhook processor supplier adapters register, and
//!   `supplier.status.apply`; [`poll`]: `supplier.status.poll`; [`held`]:
//!   `supplier.status.retry`, a held update tried again, then a dead letter.

pub mod config;
pub mod forward;
pub mod held;
pub mod poll;
pub mod status;
pub mod webhook;

use crate::config::Config;
use crate::context::JobContext;
use crate::job::{needs_nothing, JobKindSpec, Parses, PartnerRule, PartnerSource};
use switchyard_core::error::AdapterError;
use switchyard_core::ids::OrgId;
use switchyard_core::JobPayload;

pub use forward::{forward_job_key, order_key, DispatchForwards, ForwardOrder};
pub use poll::PollStatus;
pub use status::{order_status_for, RetryHeld, STATUS_EVENT};
pub use webhook::{webhook_processor, ApplyStatus};

/// A database failure: transient (the queue retries the job).
pub(crate) fn db(e: switchyard_store::StoreError) -> AdapterError {
    AdapterError::transient(e.to_string())
}

/// The slug of the job's organization (`[suppliers.SLUG]`).
pub(crate) async fn org_slug(ctx: &JobContext, org: OrgId) -> Result<Option<String>, AdapterError> {
    Ok(switchyard_store::orgs::by_id(ctx.pool(), org)
        .await
        .map_err(db)?
        .map(|o| o.slug))
}

/// A partner named in the payload, when it names one. Whether its adapter is a supplier is
/// not a capability, so the handlers check it (`as_supplier`) and fail for good naming it.
const MAY_NAME_PARTNER: PartnerRule = PartnerRule {
    source: PartnerSource::Payload("partner"),
    required: false,
    kinds: &[],
    needs: needs_nothing,
};

const NAMES_PARTNER: PartnerRule = PartnerRule {
    required: true,
    ..MAY_NAME_PARTNER
};

/// The supplier flows' job kinds.
pub fn specs(config: &Config) -> Vec<JobKindSpec> {
    let kinds = config
        .partners
        .iter()
        .map(|(name, p)| (name.clone(), p.kind.clone()))
        .collect();
    let orgs = config
        .partners
        .iter()
        .map(|(name, p)| (name.clone(), p.org.clone()))
        .collect();
    vec![
        JobKindSpec::typed(forward::ForwardJob {
            suppliers: config.suppliers.clone(),
            kinds,
        })
        .partner(MAY_NAME_PARTNER)
        .payload_check(Parses::<ForwardOrder>::default()),
        JobKindSpec::typed(forward::DispatchJob {
            suppliers: config.suppliers.clone(),
            retry: config.retry_for(ForwardOrder::KIND, None),
        })
        .payload_check(Parses::<DispatchForwards>::default()),
        JobKindSpec::typed(webhook::ApplyJob)
            .partner(NAMES_PARTNER)
            .payload_check(Parses::<ApplyStatus>::default()),
        JobKindSpec::typed(poll::PollJob { orgs })
            .partner(MAY_NAME_PARTNER)
            .payload_check(Parses::<PollStatus>::default()),
        JobKindSpec::typed(held::HeldJob).payload_check(Parses::<RetryHeld>::default()),
    ]
}

#[cfg(test)]
mod tests;
