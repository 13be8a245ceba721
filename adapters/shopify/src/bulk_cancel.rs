//! `bulkOperationCancel` for an operation that does not finish: Shopify runs one bulk mutation
//! per shop, so one stuck operation would hold the connection for ever. An operation seen
//! CREATED or RUNNING more than `bulk_cancel_after_secs` after Shopify created it is cancelled
//! once per follow; it then goes CANCELING → CANCELED and is followed (poll or webhook) like any
//! other, its `partialDataUrl` read so the lines it ran stay confirmed, and the rest go again
//! in a new operation (`bulk.rs`'s rounds or resume path).
//!
//! Shopify refuses to cancel an operation that has already finished (a race with our last
//! poll) or that it does not know: any userError means "poll again now", and the poll says
//! which (finished: its result is read; gone: nothing of it is confirmed).

use crate::adapter::ShopifyAdapter;
use crate::client::CallError;
use crate::wire::UserError;
use serde_json::{json, Value};
use std::time::Duration;
use switchyard_core::adapter::AdapterContext;
use switchyard_core::error::AdapterError;
use tracing::{info, warn};

const CANCEL: &str = "mutation BulkOperationCancel($id: ID!) {
  bulkOperationCancel(id: $id) { bulkOperation { id status } userErrors { field message } }
}";

/// Whether an operation created at `created_at` (Shopify's `createdAt`) has run longer than
/// `after` at `now`. Unknown or unparsable times never count as overdue: cancelling is only
/// for what is known to be stuck.
pub(crate) fn overdue(op: &Value, after: Duration, now: chrono::DateTime<chrono::Utc>) -> bool {
    let Some(created) = op["createdAt"]
        .as_str()
        .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
    else {
        return false;
    };
    let age = now.signed_duration_since(created.with_timezone(&chrono::Utc));
    age.to_std().is_ok_and(|age| age >= after)
}

impl ShopifyAdapter {
    /// Ask Shopify to cancel `operation`: true when it accepted (the operation is CANCELING
    /// or already CANCELED), false when it refused (finished meanwhile, or unknown).
    pub(crate) async fn cancel_bulk(
        &self,
        ctx: &AdapterContext,
        operation: &str,
    ) -> Result<bool, AdapterError> {
        let data = self
            .client()
            .call(ctx, "bulkOperationCancel", CANCEL, json!({"id": operation}))
            .await
            .map_err(CallError::into_adapter)?;
        let payload = &data["bulkOperationCancel"];
        let errors: Vec<UserError> =
            serde_json::from_value(payload["userErrors"].clone()).unwrap_or_default();
        if errors.is_empty() {
            info!(
                operation,
                status = payload["bulkOperation"]["status"].as_str(),
                "bulk operation cancelled after bulk_cancel_after_secs; its unconfirmed lines go again"
            );
            return Ok(true);
        }
        warn!(
            operation,
            errors = %errors.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "),
            "Shopify refused to cancel the bulk operation; reading its state instead"
        );
        Ok(false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overdue_counts_from_shopifys_created_at() {
        let now = chrono::DateTime::parse_from_rfc3339("2026-01-01T01:00:00Z")
            .unwrap()
            .with_timezone(&chrono::Utc);
        let op = json!({"createdAt": "2026-01-01T00:00:00Z"});
        assert!(overdue(&op, Duration::from_secs(3600), now));
        assert!(!overdue(&op, Duration::from_secs(3601), now));
        assert!(!overdue(&json!({}), Duration::from_secs(1), now));
        assert!(!overdue(
            &json!({"createdAt": "yesterday"}),
            Duration::from_secs(1),
            now
        ));
    }
}
