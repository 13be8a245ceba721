//! The daemon's mapping files: every compiled mapping by name and by content hash, and the
//! hot reload that swaps changed files in.
//!
//! Reloading polls the directory every two seconds rather than using inotify: it also works
//! on network and container file systems, and a directory of mapping files is cheap to stat.
//! A broken change keeps the previous version running and its errors are logged. Every pass
//! bumps [`Reloads`], which tests (and anything else) wait on instead of sleeping.

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::{Arc, RwLock};
use std::time::Duration;
use switchyard_core::error::AdapterError;
use switchyard_mapping::{Mapping, MappingRegistry, ReloadReport};
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

/// How many reload passes ran and what they found, since start.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Reloads {
    /// Passes over the directory.
    pub passes: u64,
    /// Mapping versions swapped in.
    pub updated: u64,
    /// Changed files that did not compile (the previous version kept running).
    pub failed: u64,
}

/// A shared handle to the registry. Cheap to clone.
#[derive(Clone)]
pub struct Mappings {
    registry: Arc<RwLock<MappingRegistry>>,
    reloads: Arc<watch::Sender<Reloads>>,
}

impl Mappings {
    /// Compile every mapping under `dir`; files that do not compile are reported and left out.
    pub fn load(dir: &Path) -> Self {
        let (registry, report) = MappingRegistry::load(dir);
        for (name, diags) in &report.failed {
            warn!(mapping = %name, "mapping does not compile and is not loaded:\n{diags}");
        }
        info!(loaded = report.updated.len(), failed = report.failed.len(), dir = %dir.display(), "mappings loaded");
        Self::from_registry(registry)
    }

    pub fn from_registry(registry: MappingRegistry) -> Self {
        Self {
            registry: Arc::new(RwLock::new(registry)),
            reloads: Arc::new(watch::channel(Reloads::default()).0),
        }
    }

    /// The current version of mapping `name`, or the version with `hash` when given. A missing
    /// or broken mapping is permanent: retrying cannot make the file compile.
    pub fn get(&self, name: &str, hash: Option<&str>) -> Result<Arc<Mapping>, AdapterError> {
        let registry = self
            .registry
            .read()
            .map_err(|_| AdapterError::transient("mapping registry lock poisoned"))?;
        let found = match hash {
            Some(h) => registry.get_version(h),
            None => registry.get(name),
        };
        found.ok_or_else(|| match (hash, registry.errors(name)) {
            (Some(h), _) => {
                AdapterError::permanent(format!("mapping `{name}` has no loaded version {h}"))
            }
            (None, Some(d)) => {
                AdapterError::permanent(format!("mapping `{name}` does not compile: {d}"))
            }
            (None, None) => AdapterError::permanent(format!(
                "no mapping named `{name}` under the mappings directory"
            )),
        })
    }

    /// The name of every mapping file in the directory, whether it compiles or not (a broken
    /// one is reported with its own errors; a schedule naming it is not naming a missing one).
    pub fn names(&self) -> BTreeSet<String> {
        let Ok(registry) = self.registry.read() else {
            return BTreeSet::new();
        };
        registry
            .names()
            .chain(registry.all_errors().map(|(name, _)| name))
            .map(str::to_owned)
            .collect()
    }

    /// Re-read the directory now: changed files are compiled and swapped in.
    pub fn reload(&self) -> Option<ReloadReport> {
        let report = self.registry.write().ok().map(|mut r| r.reload())?;
        for (name, hash) in &report.updated {
            info!(mapping = %name, version = %hash, "mapping reloaded");
        }
        for (name, diags) in &report.failed {
            warn!(mapping = %name, "changed mapping does not compile; the previous version keeps running:\n{diags}");
        }
        let (updated, failed) = (report.updated.len() as u64, report.failed.len() as u64);
        metrics::counter!("switchyard_mapping_reloads_total", "outcome" => "updated")
            .increment(updated);
        metrics::counter!("switchyard_mapping_reloads_total", "outcome" => "failed")
            .increment(failed);
        self.reloads.send_modify(|r| {
            r.passes += 1;
            r.updated += updated;
            r.failed += failed;
        });
        Some(report)
    }

    /// Reload passes so far; `changed()` on the receiver wakes after each pass.
    pub fn watch_reloads(&self) -> watch::Receiver<Reloads> {
        self.reloads.subscribe()
    }

    /// Reload every two seconds until `shutdown`.
    pub fn spawn_reloader(&self, shutdown: CancellationToken) {
        let this = self.clone();
        tokio::spawn(async move {
            let mut every = tokio::time::interval(Duration::from_secs(2));
            every.tick().await;
            loop {
                tokio::select! {
                    _ = shutdown.cancelled() => return,
                    _ = every.tick() => {}
                }
                let m = this.clone();
                let _ = tokio::task::spawn_blocking(move || m.reload()).await;
            }
        });
    }
}
