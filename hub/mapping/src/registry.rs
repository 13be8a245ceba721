//! Every mapping under a directory, addressable by name and by content hash, with hot reload
//! that keeps the previous version when a changed file is broken.

use crate::compile::compile_file;
use crate::plan::Mapping;
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use switchyard_core::diag::Diagnostics;

/// What a reload did.
#[derive(Debug, Default)]
pub struct ReloadReport {
    /// Mappings that are new or changed: (name, new hash).
    pub updated: Vec<(String, String)>,
    /// Mappings whose files disappeared (their versions stay addressable by hash).
    pub removed: Vec<String>,
    /// Mappings that failed to compile; the previous version (if any) keeps running.
    pub failed: Vec<(String, Diagnostics)>,
    pub unchanged: usize,
}

impl ReloadReport {
    pub fn is_clean(&self) -> bool {
        self.failed.is_empty()
    }
}

#[derive(Debug)]
pub struct MappingRegistry {
    dir: PathBuf,
    current: BTreeMap<String, Arc<Mapping>>,
    /// Every version ever loaded, by content hash, for replaying dead letters.
    versions: HashMap<String, Arc<Mapping>>,
    errors: BTreeMap<String, Diagnostics>,
}

/// `dir/http/catalog.out.toml` → `http/catalog.out`. Files under `lookups/` are tables, not mappings.
fn mapping_files(dir: &Path) -> Vec<(String, PathBuf)> {
    fn walk(root: &Path, d: &Path, out: &mut Vec<(String, PathBuf)>) {
        let Ok(rd) = std::fs::read_dir(d) else { return };
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                if p.file_name().is_some_and(|n| n == "lookups") && d == root {
                    continue;
                }
                walk(root, &p, out);
            } else if p.extension().is_some_and(|x| x == "toml") {
                let rel = p.strip_prefix(root).unwrap_or(&p).with_extension("");
                out.push((rel.to_string_lossy().replace('\\', "/"), p));
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out.sort();
    out
}

/// Whether `file` and the lookup files `m` read still hash to `m.hash` (what compiling them
/// again would give), so the compiled `m` can stay. Unreadable files count as changed: compiling
/// then reports them. (A lookup file that newly appears nearer the mapping, shadowing the one
/// it read, is picked up once the mapping file itself changes.)
fn same_on_disk(m: &Mapping, file: &Path) -> bool {
    let mut hasher = Sha256::new();
    for path in std::iter::once(file).chain(m.lookup_files.iter().map(PathBuf::as_path)) {
        match std::fs::read(path) {
            Ok(bytes) => hasher.update(&bytes),
            Err(_) => return false,
        }
    }
    hex::encode(hasher.finalize()) == m.hash
}

impl MappingRegistry {
    /// Loads every mapping under `dir`; broken ones are reported in the returned report.
    pub fn load(dir: impl Into<PathBuf>) -> (MappingRegistry, ReloadReport) {
        let mut r = MappingRegistry {
            dir: dir.into(),
            current: BTreeMap::new(),
            versions: HashMap::new(),
            errors: BTreeMap::new(),
        };
        let report = r.reload();
        (r, report)
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Re-reads the directory: changed files are compiled and swapped in; a file that fails
    /// keeps its previous version and reports its diagnostics.
    pub fn reload(&mut self) -> ReloadReport {
        let _span = tracing::info_span!("mapping_reload", dir = %self.dir.display()).entered();
        let mut report = ReloadReport::default();
        let files = mapping_files(&self.dir);
        let names: Vec<&String> = files.iter().map(|(n, _)| n).collect();
        let gone: Vec<String> = self
            .current
            .keys()
            .filter(|k| !names.contains(k))
            .cloned()
            .collect();
        for name in gone {
            self.current.remove(&name);
            tracing::info!(mapping = %name, "mapping file removed");
            report.removed.push(name);
        }
        self.errors.retain(|k, _| names.contains(&k));
        for (name, path) in files {
            // The daemon reloads every two seconds; compiling every file each time (the jq
            // standard library is parsed per expression) cost a busy sync a sixth of its CPU.
            if self
                .current
                .get(&name)
                .is_some_and(|c| same_on_disk(c, &path))
            {
                self.errors.remove(&name);
                report.unchanged += 1;
                continue;
            }
            match compile_file(&path, &name) {
                Ok(m) => {
                    self.errors.remove(&name);
                    if self.current.get(&name).is_some_and(|c| c.hash == m.hash) {
                        report.unchanged += 1;
                        continue;
                    }
                    let m = Arc::new(m);
                    tracing::info!(mapping = %name, hash = %m.hash, "mapping loaded");
                    report.updated.push((name.clone(), m.hash.clone()));
                    self.versions.insert(m.hash.clone(), m.clone());
                    self.current.insert(name, m);
                }
                Err(d) => {
                    tracing::warn!(mapping = %name, errors = %d, "mapping has errors; keeping the previous version");
                    self.errors.insert(name.clone(), d.clone());
                    report.failed.push((name, d));
                }
            }
        }
        report
    }

    /// The current version of a mapping.
    pub fn get(&self, name: &str) -> Option<Arc<Mapping>> {
        self.current.get(name).cloned()
    }

    /// A specific version by content hash (current or older).
    pub fn get_version(&self, hash: &str) -> Option<Arc<Mapping>> {
        self.versions.get(hash).cloned()
    }

    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.current.keys().map(|s| s.as_str())
    }

    /// The diagnostics of the last failed load of `name`, if it is broken now.
    pub fn errors(&self, name: &str) -> Option<&Diagnostics> {
        self.errors.get(name)
    }

    pub fn all_errors(&self) -> impl Iterator<Item = (&str, &Diagnostics)> {
        self.errors.iter().map(|(k, v)| (k.as_str(), v))
    }
}
