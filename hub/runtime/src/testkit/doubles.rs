//! Test doubles for adapters' and the hub's tests: an exchange sink that keeps what it
//! receives, a secret resolver over a map, and a context builder.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use switchyard_core::adapter::{
    AdapterContext, ConfigError, Exchange, ExchangeSink, SecretResolver,
};
use switchyard_core::ids::OrgId;

/// Keeps every exchange in memory.
#[derive(Debug, Default)]
pub struct RecordingSink {
    exchanges: Mutex<Vec<Exchange>>,
}

impl RecordingSink {
    pub fn new() -> Arc<Self> {
        Arc::new(Self::default())
    }

    pub fn exchanges(&self) -> Vec<Exchange> {
        lock(&self.exchanges).clone()
    }

    pub fn len(&self) -> usize {
        lock(&self.exchanges).len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn last(&self) -> Option<Exchange> {
        lock(&self.exchanges).last().cloned()
    }
}

impl ExchangeSink for RecordingSink {
    fn record(&self, _ctx: &AdapterContext, exchange: Exchange) {
        lock(&self.exchanges).push(exchange);
    }
}

/// A poisoned lock only means another test thread panicked; the data is still usable.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Resolves references from a fixed map; unknown references are config errors, like the
/// daemon's resolver.
#[derive(Debug, Default, Clone)]
pub struct MapSecrets {
    values: HashMap<String, String>,
}

impl MapSecrets {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn with(mut self, reference: impl Into<String>, value: impl Into<String>) -> Self {
        self.values.insert(reference.into(), value.into());
        self
    }
}

impl SecretResolver for MapSecrets {
    fn resolve(&self, reference: &str) -> Result<String, ConfigError> {
        self.values.get(reference).cloned().ok_or_else(|| {
            ConfigError::new(String::new(), format!("no secret named `{reference}`"))
        })
    }
}

/// A context for one call with the given idempotency key, reporting to `sink`.
pub fn context(idempotency_key: impl Into<String>, sink: Arc<dyn ExchangeSink>) -> AdapterContext {
    let key = idempotency_key.into();
    AdapterContext {
        org: OrgId::new(),
        job: None,
        correlation_id: format!("corr-{key}"),
        idempotency_key: key,
        attempt: 1,
        sink,
    }
}
