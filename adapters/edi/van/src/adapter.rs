//! Each EDI trading partner's adapter: its VAN mailbox as a transport the runtime can check
//! (health) and gate jobs on (`mailbox`). Documents move through the EDI jobs, not through
//! `push`/`pull`: an EDI document needs control numbers and acknowledgements from the
//! database, which an adapter never touches.

use crate::connect::connect;
use crate::partners::{resolve_settings, EdiPartnerSettings, MailboxSpec, KIND};
use crate::transport::Folder;
use async_trait::async_trait;
use std::sync::Arc;
use std::time::{Duration, Instant};
use switchyard_core::adapter::{
    Adapter, AdapterContext, AdapterFactory, Capability, ConfigError, Direction, Exchange,
    SecretResolver,
};
use switchyard_core::error::AdapterError;
use switchyard_core::ids::PartnerName;

const CAPABILITIES: &[Capability] = &[Capability::Mailbox, Capability::HealthCheck];

/// A partner's mailbox, as an adapter.
pub struct EdiMailboxAdapter {
    partner: PartnerName,
    mailbox: MailboxSpec,
}

impl EdiMailboxAdapter {
    pub fn new(partner: &str, mailbox: MailboxSpec) -> Self {
        Self {
            partner: PartnerName(partner.to_owned()),
            mailbox,
        }
    }

    fn describe(&self) -> String {
        match &self.mailbox {
            MailboxSpec::Local(p) => p.display().to_string(),
            MailboxSpec::Sftp(s) => format!("sftp://{}@{}:{}/{}", s.user, s.host, s.port, s.root),
        }
    }
}

#[async_trait]
impl Adapter for EdiMailboxAdapter {
    fn kind(&self) -> &'static str {
        KIND
    }

    fn capabilities(&self) -> &[Capability] {
        CAPABILITIES
    }

    /// The mailbox can be reached and its folders exist (they are created, as the first poll
    /// would): an SFTP mailbox connects, checks the host key and logs in.
    async fn health(&self, ctx: &AdapterContext) -> Result<(), AdapterError> {
        let started = Instant::now();
        let outcome = async {
            let mb = connect(&self.mailbox).await?;
            mb.ensure_dirs().await?;
            mb.list(Folder::Inbound).await.map(|files| files.len())
        }
        .await;
        ctx.sink.record(
            ctx,
            Exchange {
                partner: self.partner.clone(),
                event: "mailbox.health".into(),
                direction: Direction::Outbound,
                method: None,
                url: Some(self.describe()),
                request_body: None,
                response_status: None,
                response_body: outcome
                    .as_ref()
                    .ok()
                    .map(|n| serde_json::json!({ "inbound_files": n })),
                duration: started.elapsed().min(Duration::from_secs(3600)),
                error: outcome.as_ref().err().map(|e| e.to_string()),
            },
        );
        outcome.map(|_| ())
    }
}

/// Builds [`EdiMailboxAdapter`]s from a partner's table as JSON (the conformance suite's way
/// in; the integration builds from the config file with located errors).
#[derive(Debug, Default, Clone, Copy)]
pub struct EdiAdapterFactory;

impl AdapterFactory for EdiAdapterFactory {
    fn kind(&self) -> &'static str {
        KIND
    }

    fn build(
        &self,
        partner: &PartnerName,
        config: &serde_json::Value,
        secrets: &dyn SecretResolver,
    ) -> Result<Arc<dyn Adapter>, ConfigError> {
        let err = |message: String| ConfigError::new(partner.to_string(), message);
        let settings: EdiPartnerSettings = serde_path_to_error::deserialize(config)
            .map_err(|e| err(format!("{}: {}", e.path(), e.inner())))?;
        let resolved =
            resolve_settings(partner.as_str(), &settings, secrets).map_err(|problems| {
                err(problems
                    .iter()
                    .map(|(path, m)| format!("{}: {m}", path.join(".")))
                    .collect::<Vec<_>>()
                    .join("; "))
            })?;
        Ok(Arc::new(EdiMailboxAdapter::new(
            partner.as_str(),
            resolved.mailbox,
        )))
    }
}
