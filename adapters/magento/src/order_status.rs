//! Order status back: an `order_status` document for a `MAGENTO-{increment_id}` order becomes
//! Magento's order management calls on its `entity_id` (found by `increment_id`, as shipments
//! find it):
//!
//! * `cancel` → `POST /V1/orders/{id}/cancel` (an order on hold there is unheld first:
//!   Magento cancels no held order);
//! * `hold` → `POST /V1/orders/{id}/hold`, `unhold` → `POST /V1/orders/{id}/unhold`;
//! * `comment` (and a `comment` with any action, sent after it) →
//!   `POST /V1/orders/{id}/comments` `{"statusHistory": {comment, is_customer_notified,
//!   is_visible_on_front, parent_id}}`.
//!
//! Magento answers `true` or `false`; `false` (its `canCancel()` said no) is a permanent error
//! naming the order's state, as is a 400 ("A hold action is not available."). Each call is read
//! against the order's state first so a redelivered push does nothing twice: an order already
//! cancelled (or on hold, or not on hold for `unhold`) is a duplicate receipt, and a comment
//! the order's history already has is not added again.

use crate::client::{Call, Prefixed as _};
use crate::order_import::ORDER_PREFIX;
use crate::MagentoAdapter;
use reqwest::Method;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use switchyard_core::adapter::{AdapterContext, PushReceipt};
use switchyard_core::AdapterError;

/// The document name the adapter routes here.
pub const DOCUMENT: &str = "order_status";

/// What to do to the order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    Cancel,
    Hold,
    Unhold,
    /// Only the note.
    Comment,
}

impl Action {
    fn route(self) -> Option<&'static str> {
        match self {
            Action::Cancel => Some("cancel"),
            Action::Hold => Some("hold"),
            Action::Unhold => Some("unhold"),
            Action::Comment => None,
        }
    }

    /// Whether the order's Magento `state` shows the action done already.
    fn done_in(self, state: &str) -> bool {
        match self {
            Action::Cancel => state == "canceled",
            Action::Hold => state == "holded",
            Action::Unhold => state != "holded",
            Action::Comment => false,
        }
    }
}

/// An `order_status` document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StatusChange {
    /// `MAGENTO-{increment_id}`.
    pub order_number: String,
    pub action: Action,
    /// A status note for the order's history.
    #[serde(default)]
    pub comment: Option<String>,
    /// Mail the customer the note (Magento's `is_customer_notified`).
    #[serde(default)]
    pub notify: bool,
    /// Show the note in the customer's account (`is_visible_on_front`).
    #[serde(default)]
    pub visible_on_front: bool,
}

impl MagentoAdapter {
    pub(crate) async fn push_order_status(
        &self,
        ctx: &AdapterContext,
        body: &Value,
    ) -> Result<PushReceipt, AdapterError> {
        let change: StatusChange = serde_json::from_value(body.clone()).map_err(|e| {
            AdapterError::permanent(format!("the {DOCUMENT} document is not valid: {e}"))
        })?;
        if change.action == Action::Comment
            && change
                .comment
                .as_deref()
                .is_none_or(|c| c.trim().is_empty())
        {
            return Err(AdapterError::permanent(format!(
                "{DOCUMENT}.comment: a `comment` action needs the note's text"
            )));
        }
        let increment_id = change
            .order_number
            .strip_prefix(ORDER_PREFIX)
            .ok_or_else(|| {
                AdapterError::permanent(format!(
                    "{DOCUMENT}.order_number `{}` is not a Magento order ({ORDER_PREFIX}{{increment_id}})",
                    change.order_number
                ))
            })?;
        let order = self
            .order_by_increment_id(ctx, increment_id)
            .await
            .map_err(|e| e.prefixed(&format!("finding order {increment_id}")))?
            .ok_or_else(|| {
                AdapterError::permanent(format!(
                    "Magento has no order with increment_id `{increment_id}`"
                ))
            })?;
        let entity_id = order["entity_id"].as_i64().ok_or_else(|| {
            AdapterError::permanent(format!("Magento order {increment_id} has no entity_id"))
        })?;
        let mut state = order["state"].as_str().unwrap_or_default().to_owned();
        let mut receipt = PushReceipt {
            status: 200,
            external_id: Some(entity_id.to_string()),
            duplicate: true,
        };
        if change.action == Action::Cancel && state == "holded" {
            // Magento's `canCancel()` is false for an order on hold: our cancellation of an
            // order held there (by us, or by the store's admin) releases the hold first. A
            // redelivery after the unhold finds the order not held and only cancels.
            receipt = self
                .order_action(ctx, entity_id, increment_id, "unhold", &state)
                .await?;
            state = "holded, unheld to cancel it".to_owned();
        }
        if let Some(route) = change.action.route() {
            if !change.action.done_in(&state) {
                receipt = self
                    .order_action(ctx, entity_id, increment_id, route, &state)
                    .await?;
            }
        }
        if let Some(note) = change.comment.as_deref().filter(|c| !c.trim().is_empty()) {
            let noted = order["status_histories"]
                .as_array()
                .into_iter()
                .flatten()
                .any(|h| h["comment"].as_str() == Some(note));
            if !noted {
                let call = Call::new(
                    "magento.order.comment",
                    Method::POST,
                    format!("V1/orders/{entity_id}/comments"),
                )
                .body(json!({"statusHistory": {
                    "comment": note,
                    "is_customer_notified": i32::from(change.notify),
                    "is_visible_on_front": i32::from(change.visible_on_front),
                    "parent_id": entity_id,
                }}));
                let answer =
                    self.client().send(ctx, call).await.map_err(|e| {
                        e.prefixed(&format!("adding a note to order {increment_id}"))
                    })?;
                refused_if_false(&answer.body, || {
                    format!("Magento did not add the note to order {increment_id}")
                })?;
                receipt.status = answer.status;
                receipt.duplicate = false;
            }
        }
        Ok(receipt)
    }

    /// `POST /V1/orders/{id}/{cancel|hold|unhold}`.
    async fn order_action(
        &self,
        ctx: &AdapterContext,
        entity_id: i64,
        increment_id: &str,
        route: &'static str,
        state: &str,
    ) -> Result<PushReceipt, AdapterError> {
        let call = Call::new(
            match route {
                "cancel" => "magento.order.cancel",
                "hold" => "magento.order.hold",
                _ => "magento.order.unhold",
            },
            Method::POST,
            format!("V1/orders/{entity_id}/{route}"),
        );
        let answer = self.client().send(ctx, call).await.map_err(|e| {
            e.prefixed(&format!(
                "{route} of order {increment_id} (state `{state}`)"
            ))
        })?;
        refused_if_false(&answer.body, || {
            format!("Magento refused to {route} order {increment_id}: its state is `{state}`")
        })?;
        Ok(PushReceipt {
            status: answer.status,
            external_id: Some(entity_id.to_string()),
            duplicate: false,
        })
    }
}

/// Magento's management calls answer a bare boolean; `false` is a refusal (permanent: the same
/// call on the same order will not be accepted later without a change there).
fn refused_if_false(body: &Value, message: impl FnOnce() -> String) -> Result<(), AdapterError> {
    match body {
        Value::Bool(true) => Ok(()),
        Value::Bool(false) => Err(AdapterError::permanent(message())),
        other => Err(AdapterError::permanent(format!(
            "{}: Magento answered {other}, not true",
            message()
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_state_tells_what_is_done_already() {
        assert!(Action::Cancel.done_in("canceled"));
        assert!(!Action::Cancel.done_in("processing"));
        assert!(Action::Hold.done_in("holded"));
        assert!(Action::Unhold.done_in("processing"));
        assert!(!Action::Unhold.done_in("holded"));
        assert!(!Action::Comment.done_in("canceled"));
    }

    #[test]
    fn only_true_is_accepted() {
        assert!(refused_if_false(&json!(true), String::new).is_ok());
        let e = refused_if_false(&json!(false), || "no".into()).unwrap_err();
        assert_eq!(e.message, "no");
        assert!(refused_if_false(&json!("true"), || "odd".into()).is_err());
    }
}
