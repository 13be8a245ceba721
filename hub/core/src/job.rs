//! Job payloads as types.
//!
//! A job kind's parameters are a struct that names its kind once ([`JobPayload::KIND`]); the
//! handler that runs it, the code that enqueues it and the schedules that name it all go
//! through that constant, so a kind string is never spelled twice.

use serde::de::DeserializeOwned;
use serde::Serialize;

/// The parameters of one job kind.
///
/// ```
/// use serde::{Deserialize, Serialize};
/// use switchyard_core::JobPayload;
///
/// #[derive(Serialize, Deserialize)]
/// struct Cleanup {}
///
/// impl JobPayload for Cleanup {
///     const KIND: &'static str = "maintenance.cleanup";
/// }
/// assert_eq!(Cleanup::KIND, "maintenance.cleanup");
/// ```
pub trait JobPayload: Serialize + DeserializeOwned + Send + Sync + 'static {
    /// The job kind, as stored in the queue and named in schedules (`edi.mailbox.poll`).
    const KIND: &'static str;
}
