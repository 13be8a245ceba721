//! `FakeSupplier`: an in-memory supplier for the supplier flows' tests, so they run without
//! the PhoneX or WesellCellular adapters. It behaves as the contract asks of a real one: an
//! order placed twice under one idempotency key is placed once (the second answer says
//! `replayed`), it can refuse on demand (a transient outage, then recovery), it pages its
//! status changes behind a cursor when polled, and it reads webhook bodies as a JSON array of
//! `StatusUpdate`s. Every placement is recorded so tests can count them.

use async_trait::async_trait;
use std::collections::BTreeMap;
use std::sync::{Mutex, MutexGuard};
use switchyard_core::adapter::{
    Adapter, AdapterContext, Capability, OutboundDocument, VerifiedWebhook,
};
use switchyard_core::error::AdapterError;
use switchyard_core::supplier::{
    StatusChanges, StatusUpdate, Supplier, SupplierOrderAck, SupplierOrderRef, SupplierStatus,
};

/// What the fake holds.
#[derive(Debug, Default)]
struct State {
    /// Idempotency key → the answer of its first placement.
    orders: BTreeMap<String, SupplierOrderAck>,
    /// Every document placed (replays not counted), with its key.
    placed: Vec<(String, OutboundDocument)>,
    /// Calls of `create_order` still to refuse with a transient error.
    outage: u32,
    /// The status changes a poll pages through (the cursor is an index into it).
    changes: Vec<StatusUpdate>,
}

/// The in-memory supplier. `kind` is its partner kind; `polled` says whether its status
/// comes by polling or by webhooks.
#[derive(Debug)]
pub struct FakeSupplier {
    kind: &'static str,
    polled: bool,
    page_size: usize,
    state: Mutex<State>,
}

impl FakeSupplier {
    /// A supplier that sends webhooks.
    pub fn webhooks() -> Self {
        Self {
            kind: "fake-supplier",
            polled: false,
            page_size: 2,
            state: Mutex::default(),
        }
    }

    /// A supplier that is polled, `page_size` changes a page.
    pub fn polled(page_size: usize) -> Self {
        Self {
            polled: true,
            page_size: page_size.max(1),
            ..Self::webhooks()
        }
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Orders placed (a replayed placement is not a new order).
    pub fn placed(&self) -> Vec<(String, OutboundDocument)> {
        self.state().placed.clone()
    }

    /// Refuse the next `calls` placements as a 503 would.
    pub fn outage(&self, calls: u32) {
        self.state().outage = calls;
    }

    /// A change the next polls will report.
    pub fn push_change(&self, update: StatusUpdate) {
        self.state().changes.push(update);
    }
}

#[async_trait]
impl Adapter for FakeSupplier {
    fn kind(&self) -> &'static str {
        self.kind
    }

    fn capabilities(&self) -> &[Capability] {
        &[Capability::PushOrders, Capability::ReceiveWebhooks]
    }

    async fn health(&self, _ctx: &AdapterContext) -> Result<(), AdapterError> {
        Ok(())
    }

    async fn receive_webhook(
        &self,
        _ctx: &AdapterContext,
        headers: &[(String, String)],
        body: &[u8],
    ) -> Result<VerifiedWebhook, AdapterError> {
        let id = headers
            .iter()
            .find(|(k, _)| k == "x-event-id")
            .map(|(_, v)| v.clone())
            .ok_or_else(|| AdapterError::auth("no x-event-id header"))?;
        self.webhook_updates("order.status_updated", body)?;
        Ok(VerifiedWebhook {
            event_id: id,
            topic: "order.status_updated".into(),
            documents: Vec::new(),
        })
    }

    fn as_supplier(&self) -> Option<&dyn Supplier> {
        Some(self)
    }
}

#[async_trait]
impl Supplier for FakeSupplier {
    async fn create_order(
        &self,
        ctx: &AdapterContext,
        doc: &OutboundDocument,
    ) -> Result<SupplierOrderAck, AdapterError> {
        let mut s = self.state();
        if s.outage > 0 {
            s.outage -= 1;
            return Err(AdapterError::transient("503 Service Unavailable").with_status(503));
        }
        if let Some(first) = s.orders.get(&ctx.idempotency_key) {
            return Ok(SupplierOrderAck {
                replayed: true,
                ..first.clone()
            });
        }
        let ack = SupplierOrderAck {
            supplier_order_id: format!("SUP{:04}", s.placed.len() + 1),
            status: SupplierStatus::Pending,
            supplier_status: "On Hold".into(),
            replayed: false,
        };
        s.orders.insert(ctx.idempotency_key.clone(), ack.clone());
        s.placed.push((ctx.idempotency_key.clone(), doc.clone()));
        Ok(ack)
    }

    async fn order_status(
        &self,
        _ctx: &AdapterContext,
        order: &SupplierOrderRef,
    ) -> Result<StatusUpdate, AdapterError> {
        let s = self.state();
        s.changes
            .iter()
            .rev()
            .find(|u| u.supplier_order_id == order.supplier_order_id)
            .cloned()
            .ok_or_else(|| {
                AdapterError::permanent(format!("no order {}", order.supplier_order_id))
                    .with_status(404)
            })
    }

    fn polled(&self) -> bool {
        self.polled
    }

    async fn status_changes(
        &self,
        _ctx: &AdapterContext,
        cursor: Option<&str>,
    ) -> Result<StatusChanges, AdapterError> {
        let s = self.state();
        let from: usize = match cursor {
            None => 0,
            Some(c) => c
                .parse()
                .map_err(|_| AdapterError::permanent(format!("bad cursor {c:?}")))?,
        };
        let to = (from + self.page_size).min(s.changes.len());
        let from = from.min(to);
        Ok(StatusChanges {
            updates: s.changes[from..to].to_vec(),
            next_cursor: Some(to.to_string()),
            more: to < s.changes.len(),
        })
    }

    fn webhook_updates(
        &self,
        _topic: &str,
        body: &[u8],
    ) -> Result<Vec<StatusUpdate>, AdapterError> {
        serde_json::from_slice(body)
            .map_err(|e| AdapterError::permanent(format!("status webhook body: {e}")))
    }
}
