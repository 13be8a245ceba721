//! Runs every example pair in the repository (`fixtures/mappings/**`) against `mappings/`,
//! and checks that `check` fails with a readable diff when an expectation is wrong.

use std::path::{Path, PathBuf};
use switchyard_mapping::cli::{check_to, CheckArgs};
use switchyard_mapping::pairs::{run_all, PairOutcome};
use switchyard_mapping::MappingRegistry;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

#[test]
fn every_pair_in_the_repo_passes() {
    let (registry, report) = MappingRegistry::load(repo().join("mappings"));
    let broken: Vec<String> = report
        .failed
        .iter()
        .map(|(n, d)| format!("{n}:\n{d}"))
        .collect();
    assert!(
        broken.is_empty(),
        "mappings with errors:\n{}",
        broken.join("\n")
    );
    let results = run_all(&registry, &repo().join("fixtures/mappings"));
    assert!(
        results.len() >= 12,
        "expected the repo's example pairs, found {}",
        results.len()
    );
    let failed: Vec<String> = results
        .iter()
        .filter(|r| !r.passed())
        .map(|r| r.to_string())
        .collect();
    assert!(failed.is_empty(), "{}", failed.join("\n\n"));
    // Every mapping in the repo has at least one example pair.
    for name in registry.names() {
        assert!(
            results.iter().any(|r| r.mapping == name),
            "mapping {name} has no example pair"
        );
    }
}

#[test]
fn check_prints_a_diff_and_fails_on_mismatch() {
    let dir = tempfile::tempdir().unwrap();
    let maps = dir.path().join("mappings/demo");
    let fx = dir.path().join("fixtures/demo/upper");
    std::fs::create_dir_all(&maps).unwrap();
    std::fs::create_dir_all(&fx).unwrap();
    std::fs::write(maps.join("upper.toml"), "version = 1\nsource = { format = \"json\" }\ntarget = { format = \"json\" }\n[fields]\nname = { from = \"n\", upper = true }\nid = \"id\"\n").unwrap();
    std::fs::write(fx.join("one.input.json"), r#"{"n": "abc", "id": 7}"#).unwrap();
    std::fs::write(fx.join("one.expected.json"), r#"{"name": "abd", "id": 7}"#).unwrap();
    let args = CheckArgs {
        mappings: dir.path().join("mappings"),
        fixtures: dir.path().join("fixtures"),
    };
    let (mut out, mut err) = (Vec::new(), Vec::new());
    assert_eq!(check_to(&args, &mut out, &mut err), 1);
    let err = String::from_utf8(err).unwrap();
    assert!(err.contains("FAIL demo/upper / one"), "{err}");
    assert!(
        err.contains("-   \"name\": \"abd\",\n+   \"name\": \"ABC\","),
        "{err}"
    );

    std::fs::write(fx.join("one.expected.json"), r#"{"name": "ABC", "id": 7}"#).unwrap();
    let (mut out, mut err) = (Vec::new(), Vec::new());
    assert_eq!(
        check_to(&args, &mut out, &mut err),
        0,
        "{}",
        String::from_utf8_lossy(&err)
    );
    assert!(String::from_utf8(out)
        .unwrap()
        .contains("1 mappings loaded, 0 with errors (0 diagnostics); 1 example pairs, 0 failed"));
}

#[test]
fn check_reports_broken_mappings_and_unexpected_failures() {
    let dir = tempfile::tempdir().unwrap();
    let maps = dir.path().join("mappings");
    let fx = dir.path().join("fixtures/ok");
    std::fs::create_dir_all(&maps).unwrap();
    std::fs::create_dir_all(&fx).unwrap();
    std::fs::write(maps.join("bad.toml"), "version = 1\nsource = { format = \"json\" }\ntarget = { format = \"json\" }\n[fields]\na = { from = \"a\", type = \"money\" }\n").unwrap();
    std::fs::write(maps.join("ok.toml"), "version = 1\nsource = { format = \"json\" }\ntarget = { format = \"json\" }\n[fields]\na = { from = \"a\", required = true }\n").unwrap();
    std::fs::write(fx.join("r.input.json"), r#"[{"a": 1}, {"b": 2}]"#).unwrap();
    std::fs::write(fx.join("r.expected.json"), r#"[{"a": 1}]"#).unwrap();
    let args = CheckArgs {
        mappings: maps.clone(),
        fixtures: dir.path().join("fixtures"),
    };
    let (mut out, mut err) = (Vec::new(), Vec::new());
    assert_eq!(check_to(&args, &mut out, &mut err), 1);
    let err = String::from_utf8(err).unwrap();
    assert!(err.contains("bad.toml:5:26: unknown type 'money'"), "{err}");
    assert!(
        err.contains("records failed:\nrecord 2 at /1: a: required value is missing or empty"),
        "{err}"
    );
    // Expected errors make the pair pass.
    std::fs::write(
        fx.join("r.expected-errors.txt"),
        "record 2 at /1: a: required value is missing or empty\n",
    )
    .unwrap();
    let (registry, _) = MappingRegistry::load(&maps);
    let results = run_all(&registry, &dir.path().join("fixtures"));
    assert_eq!(results.len(), 1);
    assert_eq!(results[0].outcome, PairOutcome::Pass);
}
