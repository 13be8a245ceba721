//! Example-pair tests: `fixtures/mappings/<mapping name>/<case>.input.<ext>` with
//! `<case>.expected.json` (the mapped records as JSON), optionally `<case>.expected.csv` /
//! `.expected.xml` (the exact serialized output) and `<case>.expected-errors.txt` (one failing
//! record per line: `location: target: message`).

use crate::registry::MappingRegistry;
use crate::run::MapOutcome;
use serde_json::Value;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PairOutcome {
    Pass,
    /// A readable line diff (`-expected`, `+actual`).
    Mismatch(String),
    Error(String),
}

#[derive(Debug, Clone)]
pub struct PairResult {
    pub mapping: String,
    pub case: String,
    pub input: PathBuf,
    pub outcome: PairOutcome,
}

impl PairResult {
    pub fn passed(&self) -> bool {
        self.outcome == PairOutcome::Pass
    }
}

impl std::fmt::Display for PairResult {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.outcome {
            PairOutcome::Pass => write!(f, "ok   {} / {}", self.mapping, self.case),
            PairOutcome::Mismatch(d) => write!(
                f,
                "FAIL {} / {} ({}): output differs\n{d}",
                self.mapping,
                self.case,
                self.input.display()
            ),
            PairOutcome::Error(e) => write!(
                f,
                "FAIL {} / {} ({}): {e}",
                self.mapping,
                self.case,
                self.input.display()
            ),
        }
    }
}

/// Runs every example pair under `fixtures` against the mappings in `registry`.
pub fn run_all(registry: &MappingRegistry, fixtures: &Path) -> Vec<PairResult> {
    let mut inputs = Vec::new();
    collect_inputs(fixtures, &mut inputs);
    inputs.sort();
    inputs
        .into_iter()
        .map(|input| run_one(registry, fixtures, &input))
        .collect()
}

fn collect_inputs(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    for e in rd.flatten() {
        let p = e.path();
        if p.is_dir() {
            collect_inputs(&p, out);
        } else if p
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.contains(".input."))
        {
            out.push(p);
        }
    }
}

fn run_one(registry: &MappingRegistry, fixtures: &Path, input: &Path) -> PairResult {
    let dir = input.parent().unwrap_or(fixtures);
    let mapping = dir
        .strip_prefix(fixtures)
        .unwrap_or(dir)
        .to_string_lossy()
        .replace('\\', "/");
    let file_name = input
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default();
    let case = file_name
        .split(".input.")
        .next()
        .unwrap_or(file_name)
        .to_string();
    let result = |outcome| PairResult {
        mapping: mapping.clone(),
        case: case.clone(),
        input: input.to_path_buf(),
        outcome,
    };
    let Some(m) = registry.get(&mapping) else {
        let why = match registry.errors(&mapping) {
            Some(d) => format!("mapping '{mapping}' does not load:\n{d}"),
            None => format!(
                "no mapping named '{mapping}' (expected {}.toml in the mappings directory)",
                mapping
            ),
        };
        return result(PairOutcome::Error(why));
    };
    let bytes = match std::fs::read(input) {
        Ok(b) => b,
        Err(e) => return result(PairOutcome::Error(format!("cannot read input: {e}"))),
    };
    let outcome = match m.map_document(&bytes) {
        Ok(o) => o,
        Err(e) => return result(PairOutcome::Error(format!("input {e}"))),
    };
    let sibling = |ext: &str| dir.join(format!("{case}.{ext}"));
    let mut checked = false;
    let mut diffs = Vec::new();
    // Failures must be expected explicitly.
    let actual_errors: String = outcome
        .failures
        .iter()
        .map(|f| format!("{}: {}: {}\n", f.location, f.error.target, f.error.message))
        .collect();
    match std::fs::read_to_string(sibling("expected-errors.txt")) {
        Ok(exp) => {
            checked = true;
            if exp.trim_end() != actual_errors.trim_end() {
                diffs.push(format!(
                    "errors:\n{}",
                    line_diff(exp.trim_end(), actual_errors.trim_end())
                ));
            }
        }
        Err(_) if !outcome.failures.is_empty() => {
            return result(PairOutcome::Error(format!(
                "records failed:\n{actual_errors}"
            )))
        }
        Err(_) => {}
    }
    if let Ok(exp) = std::fs::read_to_string(sibling("expected.json")) {
        checked = true;
        match serde_json::from_str::<Value>(&exp) {
            Ok(expected) => {
                let actual = as_json(&outcome);
                if expected != actual {
                    let e = serde_json::to_string_pretty(&expected).unwrap_or_default();
                    let a = serde_json::to_string_pretty(&actual).unwrap_or_default();
                    diffs.push(line_diff(&e, &a));
                }
            }
            Err(e) => {
                return result(PairOutcome::Error(format!(
                    "{case}.expected.json is not JSON: {e}"
                )))
            }
        }
    }
    for ext in ["csv", "xml"] {
        if let Ok(exp) = std::fs::read(sibling(&format!("expected.{ext}"))) {
            checked = true;
            let mut buf = Vec::new();
            let fmt = if ext == "csv" {
                crate::Format::Csv
            } else {
                crate::Format::Xml
            };
            if let Err(e) = m.write(&mut buf, &outcome, Some(fmt)) {
                return result(PairOutcome::Error(e.to_string()));
            }
            if buf != exp {
                let e = String::from_utf8_lossy(&exp).replace("\r\n", "⏎\n");
                let a = String::from_utf8_lossy(&buf).replace("\r\n", "⏎\n");
                diffs.push(format!("{ext} output:\n{}", line_diff(&e, &a)));
            }
        }
    }
    if !checked {
        return result(PairOutcome::Error(format!(
            "no {case}.expected.json (or .expected.csv/.xml/-errors.txt) next to the input"
        )));
    }
    if diffs.is_empty() {
        result(PairOutcome::Pass)
    } else {
        result(PairOutcome::Mismatch(diffs.join("\n")))
    }
}

/// The mapped records as JSON: one object for a single-object input, else an array.
pub fn as_json(o: &MapOutcome) -> Value {
    if o.single && o.records.len() == 1 && o.failures.is_empty() {
        o.records[0].clone()
    } else {
        Value::Array(o.records.clone())
    }
}

/// A line diff by longest common subsequence: `  same`, `- expected`, `+ actual`.
pub fn line_diff(expected: &str, actual: &str) -> String {
    let a: Vec<&str> = expected.lines().collect();
    let b: Vec<&str> = actual.lines().collect();
    if a.len() * b.len() > 4_000_000 {
        return format!(
            "- {} lines expected\n+ {} lines actual (too long to diff)",
            a.len(),
            b.len()
        );
    }
    let mut lcs = vec![vec![0u32; b.len() + 1]; a.len() + 1];
    for i in (0..a.len()).rev() {
        for j in (0..b.len()).rev() {
            lcs[i][j] = if a[i] == b[j] {
                lcs[i + 1][j + 1] + 1
            } else {
                lcs[i + 1][j].max(lcs[i][j + 1])
            };
        }
    }
    let (mut i, mut j) = (0, 0);
    let mut out = Vec::new();
    while i < a.len() || j < b.len() {
        if i < a.len() && j < b.len() && a[i] == b[j] {
            out.push(format!("  {}", a[i]));
            i += 1;
            j += 1;
        } else if i < a.len() && (j == b.len() || lcs[i + 1][j] >= lcs[i][j + 1]) {
            out.push(format!("- {}", a[i]));
            i += 1;
        } else {
            out.push(format!("+ {}", b[j]));
            j += 1;
        }
    }
    // Keep the changes with two lines of context.
    let changed: Vec<usize> = out
        .iter()
        .enumerate()
        .filter(|(_, l)| !l.starts_with("  "))
        .map(|(i, _)| i)
        .collect();
    let keep = |i: usize| changed.iter().any(|c| c.abs_diff(i) <= 2);
    let mut res = String::new();
    let mut skipped = false;
    for (i, l) in out.iter().enumerate() {
        if keep(i) {
            res.push_str(l);
            res.push('\n');
            skipped = false;
        } else if !skipped {
            res.push_str("  ...\n");
            skipped = true;
        }
    }
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn diff_shows_changed_lines_with_context() {
        let d = line_diff("a\nb\nc\nd\ne\nf\ng", "a\nb\nc\nX\ne\nf\ng");
        assert!(d.contains("- d\n+ X\n"), "{d}");
        assert!(d.contains("  c\n"), "{d}");
        assert!(!d.contains("  a\n"), "{d}");
    }
}
