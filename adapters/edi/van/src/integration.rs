//! EDI over VAN mailboxes as one integration: `[partners.NAME]` tables with `kind = "edi"`,
//! an adapter per partner (its mailbox), the five EDI job kinds, the EDI routes and scopes.

use crate::acks::AckOverdue;
use crate::adapter::EdiMailboxAdapter;
use crate::jobs::{
    CheckOverdueAcks, EdiPayload, PollMailbox, SendDocument, MAILBOX_RULE, PROFILE_RULE,
};
use crate::mailbox::MailboxPoll;
use crate::orders::{OrderImport, OrderReprocess};
use crate::partners::{EdiPartners, KIND};
use crate::send::EdiSend;
use std::sync::Arc;
use switchyard_api::ScopeSpec;
use switchyard_core::adapter::Adapter;
use switchyard_core::diag::Diagnostic;
use switchyard_runtime::integration::{BuildContext, Integration, MetricKind, MetricSpec, Parts};
use switchyard_runtime::job::JobKindSpec;

/// The EDI integration (one line in the daemon's list).
#[derive(Debug, Default, Clone, Copy)]
pub struct EdiIntegration;

impl Integration for EdiIntegration {
    fn name(&self) -> &'static str {
        "edi"
    }

    fn partner_kinds(&self) -> &'static [&'static str] {
        &[KIND]
    }

    fn scopes(&self) -> &'static [ScopeSpec] {
        crate::scopes::SCOPES
    }

    fn build(&self, cx: &BuildContext<'_>, problems: &mut Vec<Diagnostic>) -> Parts {
        let (partners, mut bad) = EdiPartners::build_all(cx);
        problems.append(&mut bad);
        let partners = Arc::new(partners);
        let adapters = partners
            .iter()
            .map(|(name, p)| {
                let adapter: Arc<dyn Adapter> =
                    Arc::new(EdiMailboxAdapter::new(name, p.mailbox.clone()));
                (name.to_owned(), adapter)
            })
            .collect();
        let jobs = vec![
            JobKindSpec::typed(MailboxPoll {
                partners: partners.clone(),
            })
            .partner(MAILBOX_RULE)
            .payload_check(EdiPayload::<PollMailbox>::default()),
            JobKindSpec::typed(EdiSend {
                partners: partners.clone(),
            })
            .partner(MAILBOX_RULE)
            .payload_check(EdiPayload::<SendDocument>::default()),
            JobKindSpec::typed(AckOverdue {
                partners: partners.clone(),
            })
            .partner(PROFILE_RULE)
            .payload_check(EdiPayload::<CheckOverdueAcks>::default()),
            JobKindSpec::typed(OrderImport),
            JobKindSpec::typed(OrderReprocess),
        ];
        Parts {
            adapters,
            jobs,
            routes: Some(crate::routes::router(partners)),
            webhook_processors: Vec::new(),
            metrics: vec![MetricSpec {
                name: crate::mailbox::INTERCHANGES_METRIC,
                kind: MetricKind::Counter,
                help: "inbound interchanges by partner and outcome (processed, error, duplicate)",
            }],
        }
    }
}
