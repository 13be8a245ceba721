//! The API's view of job admission: the registry's verdict with the retry policy the config
//! gives the kind and partner, or the refusal as a 422 naming why.

use crate::config::Config;
use crate::registry::{Refusal, Registry};
use serde_json::{json, Value};
use std::sync::Arc;
use switchyard_api::error::ErrorCode;
use switchyard_api::{JobAdmission, JobRefusal};
use switchyard_store::queue::RetrySpec;

pub struct Admission {
    pub registry: Registry,
    pub config: Arc<Config>,
}

impl JobAdmission for Admission {
    fn admit(
        &self,
        kind: &str,
        partner: Option<&str>,
        payload: &Value,
    ) -> Result<RetrySpec, JobRefusal> {
        let spec = self
            .registry
            .admit(kind, partner, payload)
            .map_err(refusal)?;
        // The retry override of the partner the job names, wherever it names it.
        let named = spec
            .partner
            .and_then(|rule| rule.partner_of(partner, payload))
            .or(partner);
        Ok(self.config.retry_for(kind, named))
    }

    fn kinds(&self) -> Vec<String> {
        let mut kinds: Vec<String> = self
            .registry
            .jobs
            .kinds()
            .into_iter()
            .map(str::to_owned)
            .collect();
        kinds.sort();
        kinds
    }
}

fn refusal(r: Refusal) -> JobRefusal {
    let message = r.to_string();
    let (code, details) = match &r {
        Refusal::UnknownKind { kind, known } => (
            ErrorCode::UnknownJobKind,
            json!({ "kind": kind, "known": known }),
        ),
        Refusal::PartnerRequired { kind } => (
            ErrorCode::ValidationFailed,
            json!({ "kind": kind, "field": "partner" }),
        ),
        Refusal::UnknownPartner {
            kind,
            partner,
            known,
        } => (
            ErrorCode::UnknownPartner,
            json!({ "kind": kind, "partner": partner, "known": known }),
        ),
        Refusal::WrongPartnerKind {
            kind,
            partner,
            partner_kind,
            wanted,
        } => (
            ErrorCode::WrongPartnerKind,
            json!({ "kind": kind, "partner": partner, "partner_kind": partner_kind, "wanted": wanted }),
        ),
        Refusal::MissingCapability {
            kind,
            partner,
            partner_kind,
            needs,
            declared,
        } => (
            ErrorCode::CapabilityMissing,
            json!({
                "kind": kind,
                "partner": partner,
                "partner_kind": partner_kind,
                "needs": needs,
                "declared": declared,
            }),
        ),
        Refusal::Payload { kind, problem } => {
            let mut details: serde_json::Map<String, Value> = problem
                .details
                .iter()
                .map(|(k, v)| ((*k).to_owned(), json!(v)))
                .collect();
            details.insert("kind".into(), json!(kind));
            details.insert("field".into(), json!(problem.field));
            (ErrorCode::ValidationFailed, Value::Object(details))
        }
    };
    JobRefusal {
        code,
        message,
        details,
    }
}
