//! The factory the daemon registers for `kind = "http"`.

use crate::adapter::HttpAdapter;
use std::sync::Arc;
use std::time::Duration;
use switchyard_core::adapter::{Adapter, AdapterFactory, ConfigError, SecretResolver};
use switchyard_core::ids::PartnerName;

/// Connecting should take milliseconds on a healthy network; a partner that does not accept a
/// TCP connection within this is down, whatever the per-request timeout says.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// Builds [`HttpAdapter`]s. All adapters it builds share one connection pool (cloning a
/// `reqwest::Client` shares it), so a partner with many jobs reuses keep-alive connections.
#[derive(Debug, Clone)]
pub struct HttpAdapterFactory {
    client: reqwest::Client,
}

impl HttpAdapterFactory {
    /// A factory with its own client (connect timeout, keep-alive pool, `switchyard` user agent).
    /// Fails only if the TLS backend cannot be initialised.
    pub fn new() -> Result<Self, reqwest::Error> {
        let client = reqwest::Client::builder()
            .connect_timeout(CONNECT_TIMEOUT)
            .pool_idle_timeout(Duration::from_secs(60))
            .tcp_nodelay(true)
            // Following a redirect can turn a POST into a GET whose 200 looks like success, and
            // a partner moving its endpoint is a config change; surface 3xx as an error.
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("switchyard/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Self { client })
    }

    /// A factory over a client the caller configured (proxies, custom roots...).
    pub fn with_client(client: reqwest::Client) -> Self {
        Self { client }
    }

    /// Build the concrete adapter (the trait method returns it as a trait object).
    pub fn build_http(
        &self,
        partner: &PartnerName,
        config: &serde_json::Value,
        secrets: &dyn SecretResolver,
    ) -> Result<HttpAdapter, ConfigError> {
        HttpAdapter::from_json(partner, config, secrets, self.client.clone())
    }
}

impl AdapterFactory for HttpAdapterFactory {
    fn kind(&self) -> &'static str {
        crate::config::KIND
    }

    fn build(
        &self,
        partner: &PartnerName,
        config: &serde_json::Value,
        secrets: &dyn SecretResolver,
    ) -> Result<Arc<dyn Adapter>, ConfigError> {
        let adapter = self.build_http(partner, config, secrets)?;
        tracing::debug!(partner = %partner, adapter = ?adapter, "built http adapter");
        Ok(Arc::new(adapter))
    }
}
