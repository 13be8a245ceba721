//! What the adapter tests over HTTP share: a JSON document for `push` and a push context with
//! its own idempotency key (each test file builds its adapter with the settings it tests).

use serde_json::Value;
use switchyard_core::adapter::{AdapterContext, OutboundDocument, Payload};
use switchyard_runtime::testkit::doubles::{context, RecordingSink};

/// `body` as the document named `document` (`catalog`, `prices`, `inventory`, ...).
pub fn doc(document: &str, body: Value) -> OutboundDocument {
    OutboundDocument {
        document: document.into(),
        payload: Payload::Json { body },
    }
}

/// A push context keyed `key`, its log records kept in memory.
pub fn ctx(key: &str) -> AdapterContext {
    context(key, RecordingSink::new())
}
