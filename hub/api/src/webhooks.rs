//! Inbound webhooks, for every partner system: what the route `POST /webhooks/{partner}`
//! (routes/webhooks.rs) asks of the runtime, which verifies, stores and enqueues.

use async_trait::async_trait;
use uuid::Uuid;

/// What happened to one delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WebhookAnswer {
    Accepted {
        delivery: Uuid,
    },
    Duplicate {
        delivery: Uuid,
    },
    UnknownPartner,
    /// The partner's adapter does not receive webhooks.
    NotReceived,
    /// Signature missing or wrong, or the timestamp outside the tolerance.
    Unauthenticated(String),
    /// Verified but unreadable.
    Invalid(String),
    Unavailable(String),
}

/// Verifies, stores and enqueues deliveries (implemented by the runtime).
#[async_trait]
pub trait WebhookIntake: Send + Sync {
    /// `headers` with lower-case names; `body` exactly as received.
    async fn receive(
        &self,
        partner: &str,
        headers: &[(String, String)],
        body: &[u8],
    ) -> WebhookAnswer;
}
