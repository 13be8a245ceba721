//! The explicit adapter registry: factories by kind, adapters by partner name.

use crate::config::Config;
use crate::diag::Diagnostic;
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use switchyard_core::adapter::{Adapter, AdapterFactory, SecretResolver};
use switchyard_core::ids::PartnerName;

/// Every adapter kind this build of the daemon knows. Adding a partner system means adding
/// its crate and one line here.
pub fn factories() -> anyhow::Result<BTreeMap<&'static str, Arc<dyn AdapterFactory>>> {
    let mut map: BTreeMap<&'static str, Arc<dyn AdapterFactory>> = BTreeMap::new();
    let http = switchyard_adapter_http::HttpAdapterFactory::new()?;
    map.insert(http_kind(), Arc::new(http));
    Ok(map)
}

fn http_kind() -> &'static str {
    switchyard_adapter_http::KIND
}

/// Which resolver a partner's `secret:` references go to: its organization's.
pub trait OrgSecrets {
    fn for_org(&self, org: &str) -> &dyn SecretResolver;
}

/// Stored secrets per organization slug; an organization with none resolves only `env:`.
pub struct SecretsByOrg {
    pub by_org: BTreeMap<String, crate::secrets::Resolver>,
    pub fallback: crate::secrets::Resolver,
}

impl OrgSecrets for SecretsByOrg {
    fn for_org(&self, org: &str) -> &dyn SecretResolver {
        self.by_org
            .get(org)
            .map(|r| r as &dyn SecretResolver)
            .unwrap_or(&self.fallback)
    }
}

/// The configured partners' adapters.
#[derive(Default)]
pub struct AdapterRegistry {
    by_partner: BTreeMap<String, Arc<dyn Adapter>>,
}

impl AdapterRegistry {
    /// Build every partner's adapter, resolving its credentials through the resolver of the
    /// partner's organization; every problem is returned, located in the config file.
    pub fn build(
        config: &Config,
        config_path: &Path,
        secrets: &dyn OrgSecrets,
    ) -> Result<Self, Vec<Diagnostic>> {
        let factories =
            factories().map_err(|e| vec![Diagnostic::new(config_path, None, e.to_string())])?;
        let source = crate::diag::SourceFile::read(config_path).ok();
        let mut by_partner = BTreeMap::new();
        let mut problems = Vec::new();
        // EDI partners are not adapters: the EDI jobs resolve them (`edi_partners`).
        for (name, partner) in config
            .partners
            .iter()
            .filter(|(_, p)| p.kind != crate::edi_partners::KIND)
        {
            let position = source
                .as_ref()
                .and_then(|s| s.find_line(&format!("[partners.{name}]")));
            let Some(factory) = factories.get(partner.kind.as_str()) else {
                problems.push(Diagnostic::new(
                    config_path,
                    position,
                    format!(
                        "partner `{name}`: unknown adapter kind `{}` (known: {}, {})",
                        partner.kind,
                        factories.keys().copied().collect::<Vec<_>>().join(", "),
                        crate::edi_partners::KIND
                    ),
                ));
                continue;
            };
            match factory.build(
                &PartnerName(name.clone()),
                &partner.settings_json(),
                secrets.for_org(&partner.org),
            ) {
                Ok(adapter) => {
                    by_partner.insert(name.clone(), adapter);
                }
                Err(e) => problems.push(Diagnostic::new(
                    config_path,
                    position,
                    format!("partner `{name}`: {}", e.message),
                )),
            }
        }
        if problems.is_empty() {
            Ok(Self { by_partner })
        } else {
            Err(problems)
        }
    }

    pub fn insert(&mut self, name: &str, adapter: Arc<dyn Adapter>) {
        self.by_partner.insert(name.to_owned(), adapter);
    }

    pub fn get(&self, partner: &str) -> Option<&Arc<dyn Adapter>> {
        self.by_partner.get(partner)
    }

    pub fn names(&self) -> Vec<String> {
        self.by_partner.keys().cloned().collect()
    }
}
