//! `switchyard bench export` and `switchyard bench import` run small: they finish, every
//! figure they print parses, and the rows they report (counted from the files written, the
//! API's download and the catalog) are exactly the rows asked for. Speed is not asserted: the
//! figures are for a release build on a quiet machine (README, "Benchmarks").

use std::path::Path;
use std::process::Command;

/// Runs `switchyard bench ARGS` from the repository root (its `switchyard.toml` names the
/// Postgres server and the mappings); its standard output. Drops `database` afterwards.
fn bench(args: &[&str], database: &str) -> String {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let out = Command::new(env!("CARGO_BIN_EXE_switchyard"))
        .arg("bench")
        .args(args)
        .args(["--database", database])
        .current_dir(&root)
        .env_remove("SWITCHYARD_CONFIG")
        .env("SWITCHYARD_LOG", "warn")
        .output()
        .expect("run switchyard bench");
    let _ = Command::new("psql")
        .args(["-h", "127.0.0.1", "-U", "postgres", "-Atc"])
        .arg(format!("DROP DATABASE IF EXISTS {database} WITH (FORCE)"))
        .output();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "bench {args:?} failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

/// The line that starts with `label` (whitespace between its words as printed).
fn line<'a>(out: &'a str, label: &str) -> Vec<&'a str> {
    let words: Vec<&str> = label.split_whitespace().collect();
    out.lines()
        .map(|l| l.split_whitespace().collect::<Vec<_>>())
        .find(|w| w.starts_with(&words))
        .unwrap_or_else(|| panic!("no `{label}` line in:\n{out}"))
        .into_iter()
        .skip(words.len())
        .collect()
}

/// The number before `unit` on the line (`2000 rows` → 2000).
fn figure(words: &[&str], unit: &str) -> f64 {
    let i = words
        .iter()
        .position(|w| *w == unit)
        .unwrap_or_else(|| panic!("no `{unit}` in {words:?}"));
    let text = words[i - 1]
        .trim_start_matches('(')
        .trim_end_matches(['s', 'x']);
    text.parse()
        .unwrap_or_else(|e| panic!("`{}` before `{unit}`: {e}", words[i - 1]))
}

#[test]
fn the_export_bench_exports_every_row_in_every_format_and_through_the_api() {
    let db = format!("sy_bench_export_{}", std::process::id());
    let out = bench(
        &[
            "export",
            "--lines",
            "2000",
            "--lines-per-order",
            "7",
            "--api-rows",
            "300",
        ],
        &db,
    );
    let copy = line(&out, "psql \\copy csv");
    assert_eq!(figure(&copy, "rows"), 2000.0, "{out}");
    assert!(figure(&copy, "rows/s") > 0.0, "{out}");
    for format in ["csv", "json", "xml"] {
        let l = line(&out, &format!("export {format}"));
        assert_eq!(figure(&l, "rows"), 2000.0, "{format}: {out}");
        assert!(figure(&l, "rows/s") > 0.0, "{format}: {out}");
        assert!(
            figure(&l, "of") > 0.0,
            "{format}: the ratio to \\copy: {out}"
        );
        let rss = figure(&l, "MiB");
        // A process that ran at all has some resident memory; a reading of 0 means none was read.
        assert!(rss > 1.0, "{format}: peak RSS {rss}: {out}");
        assert!(figure(&l, "bytes") > 2000.0, "{format}: {out}");
    }
    let api = line(&out, "api csv");
    assert_eq!(figure(&api, "rows"), 300.0, "{out}");
    assert!(figure(&api, "(POST") > 0.0, "{out}");
}

#[test]
fn the_import_bench_validates_and_applies_every_row() {
    let db = format!("sy_bench_import_{}", std::process::id());
    let out = bench(&["import", "--products", "2000"], &db);
    let validation = line(&out, "validation");
    assert_eq!(figure(&validation, "rows"), 2000.0, "{out}");
    assert!(figure(&validation, "rows/s") > 0.0, "{out}");
    assert_eq!(figure(&validation, "valid,"), 2000.0, "{out}");
    assert_eq!(figure(&validation, "invalid;"), 0.0, "{out}");
    let apply = line(&out, "apply");
    assert_eq!(figure(&apply, "rows"), 2000.0, "{out}");
    assert!(figure(&apply, "rows/s") > 0.0, "{out}");
}
