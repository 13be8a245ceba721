//! What the integrations contributed, assembled once at start: every partner's adapter and
//! every job kind's handler, and the admission check that keeps a job away from a partner
//! that cannot do it.

use crate::adapters::Adapters;

use crate::job::{JobKindSpec, PartnerRule, PayloadProblem};
use serde_json::Value;
use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;
use switchyard_core::adapter::Capability;

/// Every job kind this build runs.
#[derive(Default)]
pub struct JobKinds {
    by_kind: BTreeMap<&'static str, JobKindSpec>,
}

impl JobKinds {
    /// Add a kind; a kind registered twice (two integrations, or a typo'd copy) is an error
    /// naming it, never a silent override.
    pub fn insert(&mut self, spec: JobKindSpec) -> Result<(), String> {
        if self.by_kind.contains_key(spec.kind) {
            return Err(format!("job kind `{}` is registered twice", spec.kind));
        }
        self.by_kind.insert(spec.kind, spec);
        Ok(())
    }

    pub fn get(&self, kind: &str) -> Option<&JobKindSpec> {
        self.by_kind.get(kind)
    }

    pub fn kinds(&self) -> Vec<&'static str> {
        self.by_kind.keys().copied().collect()
    }
}

/// Why a job may not be enqueued or run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    UnknownKind {
        kind: String,
        known: Vec<&'static str>,
    },
    PartnerRequired {
        kind: String,
    },
    UnknownPartner {
        kind: String,
        partner: String,
        known: Vec<String>,
    },
    WrongPartnerKind {
        kind: String,
        partner: String,
        partner_kind: String,
        wanted: Vec<&'static str>,
    },
    MissingCapability {
        kind: String,
        partner: String,
        partner_kind: String,
        needs: Vec<Capability>,
        declared: Vec<Capability>,
    },
    /// The kind's own check of the payload failed (a field, an input file).
    Payload {
        kind: String,
        problem: PayloadProblem,
    },
}

fn list<T: fmt::Display>(items: &[T]) -> String {
    if items.is_empty() {
        "none".to_owned()
    } else {
        items
            .iter()
            .map(|i| i.to_string())
            .collect::<Vec<_>>()
            .join(", ")
    }
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Refusal::UnknownKind { kind, known } => {
                write!(f, "unknown job kind `{kind}` (known: {})", list(known))
            }
            Refusal::PartnerRequired { kind } => {
                write!(f, "job kind `{kind}` needs a partner")
            }
            Refusal::UnknownPartner {
                kind,
                partner,
                known,
            } => write!(
                f,
                "{kind}: unknown partner `{partner}` (configured partners: {})",
                list(known)
            ),
            Refusal::WrongPartnerKind {
                kind,
                partner,
                partner_kind,
                wanted,
            } => write!(
                f,
                "job kind `{kind}` works with {} partners; partner `{partner}` is of kind `{partner_kind}`",
                wanted.join(" or ")
            ),
            Refusal::MissingCapability {
                kind,
                partner,
                partner_kind,
                needs,
                declared,
            } => write!(
                f,
                "partner `{partner}` ({partner_kind} adapter) does not declare {}, which job kind `{kind}` needs (it declares: {})",
                needs
                    .iter()
                    .map(|c| format!("`{c}`"))
                    .collect::<Vec<_>>()
                    .join(" or "),
                list(declared)
            ),
            Refusal::Payload { kind, problem } => write!(f, "{kind} payload: {problem}"),
        }
    }
}

/// Adapters and job kinds together.
#[derive(Clone, Default)]
pub struct Registry {
    pub adapters: Arc<Adapters>,
    pub jobs: Arc<JobKinds>,
}

impl Registry {
    /// May a job of `kind`, with the queue's `partner` column and `payload`, be enqueued or
    /// run? The kind must exist; a partner it names must be configured, of a kind the job
    /// works with, and its adapter must declare a capability the job needs.
    pub fn admit(
        &self,
        kind: &str,
        partner: Option<&str>,
        payload: &Value,
    ) -> Result<&JobKindSpec, Refusal> {
        let Some(spec) = self.jobs.get(kind) else {
            return Err(Refusal::UnknownKind {
                kind: kind.to_owned(),
                known: self.jobs.kinds(),
            });
        };
        if let Some(rule) = &spec.partner {
            self.admit_partner(kind, rule, partner, payload)?;
        }
        if let Some(check) = &spec.payload_check {
            check.check(payload).map_err(|problem| Refusal::Payload {
                kind: kind.to_owned(),
                problem,
            })?;
        }
        Ok(spec)
    }

    /// The partner the job names (if the rule lets it name none) exists, is of a kind the job
    /// works with, and can do what the payload asks.
    fn admit_partner(
        &self,
        kind: &str,
        rule: &PartnerRule,
        partner: Option<&str>,
        payload: &Value,
    ) -> Result<(), Refusal> {
        let Some(name) = rule.partner_of(partner, payload) else {
            return if rule.required {
                Err(Refusal::PartnerRequired {
                    kind: kind.to_owned(),
                })
            } else {
                Ok(())
            };
        };
        let Some(adapter) = self.adapters.get(name) else {
            return Err(Refusal::UnknownPartner {
                kind: kind.to_owned(),
                partner: name.to_owned(),
                known: self.adapters.names(),
            });
        };
        if !rule.kinds.is_empty() && !rule.kinds.contains(&adapter.kind()) {
            return Err(Refusal::WrongPartnerKind {
                kind: kind.to_owned(),
                partner: name.to_owned(),
                partner_kind: adapter.kind().to_owned(),
                wanted: rule.kinds.to_vec(),
            });
        }
        let needs = (rule.needs)(payload);
        if !needs.is_empty() && !needs.iter().any(|c| adapter.supports(*c)) {
            return Err(Refusal::MissingCapability {
                kind: kind.to_owned(),
                partner: name.to_owned(),
                partner_kind: adapter.kind().to_owned(),
                needs: needs.to_vec(),
                declared: adapter.capabilities().to_vec(),
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::context::JobContext;
    use crate::job::{needs_push_of_document, JobHandler, PartnerSource};
    use async_trait::async_trait;
    use serde_json::json;
    use switchyard_core::adapter::{Adapter, AdapterContext};
    use switchyard_core::error::AdapterError;
    use switchyard_store::queue::ClaimedJob;

    struct Nothing;
    #[async_trait]
    impl JobHandler for Nothing {
        async fn run(&self, _: &JobContext, _: &ClaimedJob) -> Result<(), AdapterError> {
            Ok(())
        }
    }

    struct Caps(&'static str, &'static [Capability]);
    #[async_trait]
    impl Adapter for Caps {
        fn kind(&self) -> &'static str {
            self.0
        }
        fn capabilities(&self) -> &[Capability] {
            self.1
        }
        async fn health(&self, _: &AdapterContext) -> Result<(), AdapterError> {
            Ok(())
        }
    }

    fn registry() -> Registry {
        let mut adapters = Adapters::default();
        adapters.insert(
            "shop",
            Arc::new(Caps(
                "http",
                &[Capability::PushCatalog, Capability::HealthCheck],
            )),
        );
        adapters.insert(
            "acme",
            Arc::new(Caps("edi", &[Capability::Mailbox, Capability::HealthCheck])),
        );
        let mut jobs = JobKinds::default();
        jobs.insert(
            JobKindSpec::raw("partner.push", Nothing).partner(PartnerRule {
                source: PartnerSource::Job,
                required: true,
                kinds: &[],
                needs: needs_push_of_document,
            }),
        )
        .unwrap();
        jobs.insert(
            JobKindSpec::raw("edi.mailbox.poll", Nothing).partner(PartnerRule {
                source: PartnerSource::Payload("partner"),
                required: false,
                kinds: &["edi"],
                needs: |_| &[Capability::Mailbox],
            }),
        )
        .unwrap();
        jobs.insert(JobKindSpec::raw("noop", Nothing)).unwrap();
        assert!(jobs.insert(JobKindSpec::raw("noop", Nothing)).is_err());
        Registry {
            adapters: Arc::new(adapters),
            jobs: Arc::new(jobs),
        }
    }

    #[test]
    fn jobs_reach_only_partners_that_can_do_them() {
        let r = registry();
        assert!(r.admit("noop", None, &json!({})).is_ok());
        assert!(r
            .admit(
                "partner.push",
                Some("shop"),
                &json!({"document": "catalog"})
            )
            .is_ok());
        let e = r
            .admit(
                "partner.push",
                Some("shop"),
                &json!({"document": "invoice"}),
            )
            .unwrap_err();
        assert_eq!(
            e.to_string(),
            "partner `shop` (http adapter) does not declare `push_invoices`, which job kind `partner.push` needs (it declares: push_catalog, health_check)"
        );
        let e = r
            .admit(
                "partner.push",
                Some("acme"),
                &json!({"document": "catalog"}),
            )
            .unwrap_err();
        assert!(matches!(e, Refusal::MissingCapability { .. }), "{e}");
        assert!(matches!(
            r.admit("partner.push", None, &json!({})),
            Err(Refusal::PartnerRequired { .. })
        ));
        let e = r
            .admit("partner.push", Some("nobody"), &json!({}))
            .unwrap_err();
        assert_eq!(
            e.to_string(),
            "partner.push: unknown partner `nobody` (configured partners: acme, shop)"
        );
        // A payload-named partner of the wrong kind, and one that is right.
        let e = r
            .admit("edi.mailbox.poll", None, &json!({"partner": "shop"}))
            .unwrap_err();
        assert!(matches!(e, Refusal::WrongPartnerKind { .. }), "{e}");
        assert!(r
            .admit("edi.mailbox.poll", None, &json!({"partner": "acme"}))
            .is_ok());
        // The inline form names no partner and is left to the handler.
        assert!(r
            .admit("edi.mailbox.poll", None, &json!({"mailbox": "/x"}))
            .is_ok());
        let e = r.admit("nope", None, &json!({})).unwrap_err();
        assert_eq!(
            e.to_string(),
            "unknown job kind `nope` (known: edi.mailbox.poll, noop, partner.push)"
        );
    }
}
