//! Typed identifiers. Every id is a UUID (v7 where we mint it, so ids sort by creation time)
//! wrapped in its own type.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;
use uuid::Uuid;

macro_rules! uuid_id {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub Uuid);

        impl $name {
            /// A new, time-sortable id.
            pub fn new() -> Self {
                Self(Uuid::now_v7())
            }
            pub fn as_uuid(&self) -> Uuid {
                self.0
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl FromStr for $name {
            type Err = uuid::Error;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Uuid::parse_str(s).map(Self)
            }
        }

        impl From<Uuid> for $name {
            fn from(u: Uuid) -> Self {
                Self(u)
            }
        }
    };
}

uuid_id!(
    /// A tenant.
    OrgId
);
uuid_id!(
    /// A queued job.
    JobId
);
uuid_id!(
    /// A product import: one uploaded file and its rows.
    ImportId
);
uuid_id!(
    /// An export: one requested file of one entity in one format.
    ExportId
);
uuid_id!(
    /// A dead letter: a job that exhausted its retries or failed permanently.
    DeadLetterId
);
uuid_id!(
    /// One row of the integration log.
    LogId
);
uuid_id!(
    /// An API key.
    ApiKeyId
);
uuid_id!(
    /// A worker process (fresh at every start, so a restarted process never inherits leases).
    WorkerId
);
uuid_id!(
    /// A stored EDI message (inbound or outbound).
    MessageId
);
uuid_id!(
    /// A stored order (`orders.id`).
    OrderId
);
uuid_id!(
    /// A recorded shipment of an order (`shipments.id`).
    ShipmentId
);
uuid_id!(
    /// A stored invoice (`invoices.id`).
    InvoiceId
);
uuid_id!(
    /// A domain event of the outbox (`events.id`), the `webhook-id` of its deliveries.
    EventId
);
uuid_id!(
    /// An outbound webhook endpoint.
    WebhookEndpointId
);

/// A partner instance's name as written in the config (`[partners.acme-shop]` → `acme-shop`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct PartnerName(pub String);

impl PartnerName {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for PartnerName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<&str> for PartnerName {
    fn from(s: &str) -> Self {
        Self(s.to_owned())
    }
}

/// A job kind such as `catalog.push` or `noop`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct JobKind(pub String);

impl JobKind {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for JobKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<&str> for JobKind {
    fn from(s: &str) -> Self {
        Self(s.to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_through_strings() {
        let id = JobId::new();
        let parsed: JobId = id.to_string().parse().unwrap();
        assert_eq!(id, parsed);
        assert!("not-a-uuid".parse::<JobId>().is_err());
    }

    #[test]
    fn v7_ids_sort_by_creation() {
        let a = JobId::new();
        std::thread::sleep(std::time::Duration::from_millis(2));
        let b = JobId::new();
        assert!(a < b);
    }
}
