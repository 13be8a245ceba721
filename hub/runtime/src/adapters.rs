//! Every configured partner's adapter, by partner name.

use std::collections::BTreeMap;
use std::sync::Arc;
use switchyard_core::adapter::Adapter;

/// The configured partners' adapters, by partner name.
#[derive(Default)]
pub struct Adapters {
    by_partner: BTreeMap<String, Arc<dyn Adapter>>,
}

impl Adapters {
    pub fn insert(&mut self, partner: &str, adapter: Arc<dyn Adapter>) {
        self.by_partner.insert(partner.to_owned(), adapter);
    }

    pub fn get(&self, partner: &str) -> Option<&Arc<dyn Adapter>> {
        self.by_partner.get(partner)
    }

    pub fn names(&self) -> Vec<String> {
        self.by_partner.keys().cloned().collect()
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &Arc<dyn Adapter>)> {
        self.by_partner.iter().map(|(k, v)| (k.as_str(), v))
    }

    pub fn len(&self) -> usize {
        self.by_partner.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_partner.is_empty()
    }
}
