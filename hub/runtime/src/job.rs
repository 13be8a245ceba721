//! Job kinds: the handler trait, typed payloads, and what a kind asks of its partner.
//!
//! A handler either implements [`JobHandler`] over the raw claimed job, or (the usual way)
//! [`Job`] over a typed payload whose [`JobPayload::KIND`] names the kind once; a payload
//! that does not deserialize is a permanent error naming the field, before the handler runs.

use crate::context::JobContext;
use async_trait::async_trait;
use serde_json::Value;
use std::sync::Arc;
use switchyard_core::adapter::Capability;
use switchyard_core::error::AdapterError;
use switchyard_core::JobPayload;
use switchyard_store::queue::ClaimedJob;

/// What every job of a kind does.
#[async_trait]
pub trait JobHandler: Send + Sync {
    async fn run(&self, ctx: &JobContext, job: &ClaimedJob) -> Result<(), AdapterError>;
}

/// A handler of a typed payload.
#[async_trait]
pub trait Job: Send + Sync + 'static {
    type Payload: JobPayload;
    async fn run(
        &self,
        ctx: &JobContext,
        job: &ClaimedJob,
        payload: Self::Payload,
    ) -> Result<(), AdapterError>;
}

/// `job.payload` as `P`; a mismatch is permanent (retrying cannot fix a payload) and names
/// the field: `edi.send payload: document: unknown variant ...`.
pub fn parse_payload<P: JobPayload>(payload: &Value) -> Result<P, AdapterError> {
    payload_as::<P>(payload)
        .map_err(|p| AdapterError::permanent(format!("{} payload: {p}", P::KIND)))
}

/// `payload` as `P`, or the problem at the field serde stopped on.
pub fn payload_as<P: JobPayload>(payload: &Value) -> Result<P, PayloadProblem> {
    serde_path_to_error::deserialize(payload).map_err(|e| {
        let path = e.path().to_string();
        let field = if path == "." { String::new() } else { path };
        PayloadProblem::new(field, e.inner().to_string())
    })
}

/// What is wrong with a job's payload, found before the job is enqueued or run: the field (a
/// dotted path into the payload, empty for the payload as a whole) and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PayloadProblem {
    pub field: String,
    pub message: String,
    /// Structured context for the API's 422 (`allowed_dir` and `reason` of a refused file).
    pub details: Vec<(&'static str, String)>,
    /// The payload names something that is not there now but may be when the job runs (an
    /// input file yet to arrive): a schedule may name it; an enqueue or a run is refused.
    pub absent: bool,
}

impl PayloadProblem {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
            details: Vec::new(),
            absent: false,
        }
    }
}

impl std::fmt::Display for PayloadProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.field.is_empty() {
            write!(f, "{}", self.message)
        } else {
            write!(f, "{}: {}", self.field, self.message)
        }
    }
}

/// A kind's check of its payload beyond its partner, run wherever a job is admitted: the API's
/// enqueue (a 422), `switchyard check` and start for schedules, and the worker before every run
/// (a permanent failure). It must be quick and must not block (no reads of whole files).
pub trait PayloadCheck: Send + Sync {
    fn check(&self, payload: &Value) -> Result<(), PayloadProblem>;
}

/// The payload must deserialize as `P` (a payload with a field `P` does not know is refused
/// at the API instead of failing when it runs).
pub struct Parses<P>(std::marker::PhantomData<fn() -> P>);

impl<P> Default for Parses<P> {
    fn default() -> Self {
        Self(std::marker::PhantomData)
    }
}

impl<P: JobPayload> PayloadCheck for Parses<P> {
    fn check(&self, payload: &Value) -> Result<(), PayloadProblem> {
        payload_as::<P>(payload).map(drop)
    }
}

struct Typed<J>(J);

#[async_trait]
impl<J: Job> JobHandler for Typed<J> {
    async fn run(&self, ctx: &JobContext, job: &ClaimedJob) -> Result<(), AdapterError> {
        let payload = parse_payload::<J::Payload>(&job.payload)?;
        self.0.run(ctx, job, payload).await
    }
}

/// Where a job names its partner.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PartnerSource {
    /// The job's own `partner` (the queue column; `POST /jobs` `partner`).
    Job,
    /// A string field of the payload (`{"partner": "acme"}`).
    Payload(&'static str),
}

/// What a job kind asks of the partner it names. The runtime checks it when the job is
/// enqueued through the API (422 naming the partner and the capability) and again before it
/// runs (a permanent failure), so a job never reaches an adapter that cannot do it.
#[derive(Clone, Copy)]
pub struct PartnerRule {
    pub source: PartnerSource,
    /// Refuse a job that names no partner. False for kinds whose payload may describe the
    /// partner inline (the handler then decides).
    pub required: bool,
    /// The partner kinds the job works with; empty for any.
    pub kinds: &'static [&'static str],
    /// The capabilities the job needs given its payload: the partner's adapter must declare
    /// at least one of them (empty: none needed).
    pub needs: fn(&Value) -> &'static [Capability],
}

impl std::fmt::Debug for PartnerRule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PartnerRule")
            .field("source", &self.source)
            .field("required", &self.required)
            .field("kinds", &self.kinds)
            .finish_non_exhaustive()
    }
}

impl PartnerRule {
    /// The job's partner, as this rule finds it.
    pub fn partner_of<'a>(&self, column: Option<&'a str>, payload: &'a Value) -> Option<&'a str> {
        match self.source {
            PartnerSource::Job => column,
            PartnerSource::Payload(field) => payload.get(field).and_then(Value::as_str),
        }
        .map(str::trim)
        .filter(|p| !p.is_empty())
    }
}

/// One job kind an integration (or the runtime) contributes.
#[derive(Clone)]
pub struct JobKindSpec {
    pub kind: &'static str,
    pub handler: Arc<dyn JobHandler>,
    pub partner: Option<PartnerRule>,
    /// Checked after the partner rule wherever a job is admitted.
    pub payload_check: Option<Arc<dyn PayloadCheck>>,
    /// Payload fields that name a mapping file (`switchyard check` looks each up among the
    /// loaded mappings).
    pub mapping_fields: &'static [&'static str],
}

impl std::fmt::Debug for JobKindSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JobKindSpec")
            .field("kind", &self.kind)
            .field("partner", &self.partner)
            .field("mapping_fields", &self.mapping_fields)
            .finish_non_exhaustive()
    }
}

impl JobKindSpec {
    /// A kind run by a typed handler; the kind is its payload's.
    pub fn typed<J: Job>(job: J) -> Self {
        Self::raw(<J::Payload as JobPayload>::KIND, Typed(job))
    }

    /// A kind run by a handler over the raw job.
    pub fn raw(kind: &'static str, handler: impl JobHandler + 'static) -> Self {
        Self {
            kind,
            handler: Arc::new(handler),
            partner: None,
            payload_check: None,
            mapping_fields: &[],
        }
    }

    pub fn partner(mut self, rule: PartnerRule) -> Self {
        self.partner = Some(rule);
        self
    }

    pub fn payload_check(mut self, check: impl PayloadCheck + 'static) -> Self {
        self.payload_check = Some(Arc::new(check));
        self
    }

    pub fn mapping_fields(mut self, fields: &'static [&'static str]) -> Self {
        self.mapping_fields = fields;
        self
    }
}

/// Nothing asked of the partner beyond existing (and being of the rule's kinds).
pub fn needs_nothing(_: &Value) -> &'static [Capability] {
    &[]
}

/// The push capability a document needs: `{"document": "invoice"}` → push_invoices; a
/// document that is none of the canonical entities needs any push capability.
pub fn needs_push_of_document(payload: &Value) -> &'static [Capability] {
    let document = payload
        .get("document")
        .and_then(Value::as_str)
        .unwrap_or("document");
    match Capability::push_for_document(document) {
        Some(Capability::PushCatalog) => &[Capability::PushCatalog],
        Some(Capability::PushInventory) => &[Capability::PushInventory],
        Some(Capability::PushPrices) => &[Capability::PushPrices],
        Some(Capability::PushOrders) => &[Capability::PushOrders],
        Some(Capability::PushShipments) => &[Capability::PushShipments],
        Some(Capability::PushInvoices) => &[Capability::PushInvoices],
        _ => &Capability::PUSH,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::{Deserialize, Serialize};
    use serde_json::json;

    #[derive(Debug, Serialize, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Poll {
        partner: String,
        #[serde(default)]
        limit: u32,
    }

    impl JobPayload for Poll {
        const KIND: &'static str = "test.poll";
    }

    #[test]
    fn payload_errors_name_the_kind_and_the_field() {
        let e = parse_payload::<Poll>(&json!({"partner": "a", "limit": "ten"})).unwrap_err();
        assert!(e.message.starts_with("test.poll payload: limit: "), "{e}");
        assert!(!e.class.is_retryable());
        let e = parse_payload::<Poll>(&json!({"limit": 1})).unwrap_err();
        assert!(e.message.contains("missing field `partner`"), "{e}");
        let ok = parse_payload::<Poll>(&json!({"partner": "a"})).unwrap();
        assert_eq!(ok.partner, "a");
    }

    #[test]
    fn documents_need_their_push_capability() {
        assert_eq!(
            needs_push_of_document(&json!({"document": "invoice"})),
            &[Capability::PushInvoices]
        );
        assert_eq!(
            needs_push_of_document(&json!({"document": "catalog"})),
            &[Capability::PushCatalog]
        );
        assert_eq!(
            needs_push_of_document(&json!({"document": "memo"})).len(),
            6
        );
    }

    #[test]
    fn rules_find_the_partner_where_the_kind_names_it() {
        let rule = PartnerRule {
            source: PartnerSource::Payload("partner"),
            required: false,
            kinds: &["edi"],
            needs: needs_nothing,
        };
        assert_eq!(
            rule.partner_of(Some("x"), &json!({"partner": " acme "})),
            Some("acme")
        );
        assert_eq!(rule.partner_of(Some("x"), &json!({})), None);
        let rule = PartnerRule {
            source: PartnerSource::Job,
            ..rule
        };
        assert_eq!(
            rule.partner_of(Some("shop"), &json!({"partner": "acme"})),
            Some("shop")
        );
    }
}
