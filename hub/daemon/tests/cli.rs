//! The `switchyard` binary's checks of bad input: every problem located as file:line:col,
//! a non-zero exit, nothing started.

use std::path::Path;
use std::process::Command;

fn switchyard(dir: &Path, args: &[&str]) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_switchyard"))
        .args(args)
        .current_dir(dir)
        .env_remove("SWITCHYARD_CONFIG")
        .output()
        .expect("run switchyard");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code().unwrap_or(-1), text)
}

#[test]
fn the_repository_config_and_schedules_pass_check() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let (code, out) = switchyard(&root, &["check"]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("ok:"), "{out}");
}

#[test]
fn check_reports_every_problem_located_and_fails() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("schedules")).unwrap();
    std::fs::write(
        dir.path().join("switchyard.toml"),
        concat!(
            "[queue]\nconcurrency = 8\n\n[partners.shop]\nkind = \"ftp\"\n\n[partners.api]\nkind = \"http\"\nbase_url = \"not a url\"\n",
            "\n[partners.acme]\nkind = \"edi\"\nstandard = \"x12\"\nversion = \"004010\"\n",
            "us = { qualifier = \"ZZ\", id = \"SWITCHYARD\" }\n",
            "them = { qualifier = \"ZZZ\", id = \"THEM\" }\n",
            "mailbox = { transport = \"sftp\", host = \"van\", user = \"u\", private_key = \"secret:k\", host_key = \"SHA256:bad\" }\n",
        ),
    )
    .unwrap();
    // An EDI schedule naming a partner the config does not declare.
    std::fs::write(
        dir.path().join("schedules/edi.toml"),
        "job = \"edi.mailbox.poll\"\ncron = \"0 */5 * * * *\"\n[params]\npartner = \"globex\"\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("schedules/prices.toml"),
        "job = \"prices.sync\"\ncron = \"every day\"\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("schedules/stock.toml"),
        "job = \"inventory.sync\"\ncron = \"0 * * * * *\"\nextra = 1\n",
    )
    .unwrap();
    let (code, out) = switchyard(dir.path(), &["check"]);
    assert_ne!(code, 0, "{out}");
    assert!(
        out.contains(
            "switchyard.toml:5:1: partner `shop`: unknown partner kind `ftp` (known: edi, http)"
        ),
        "{out}"
    );
    assert!(
        out.contains(
            "switchyard.toml:9:1: partner `api`: base_url: `not a url` is not a valid URL"
        ),
        "{out}"
    );
    assert!(
        out.contains("schedules/prices.toml:2:1: invalid cron expression `every day`"),
        "{out}"
    );
    assert!(
        out.contains("schedules/stock.toml:3:1: unknown field `extra`"),
        "{out}"
    );
    // EDI partners: each problem at its key.
    assert!(
        out.contains(
            "switchyard.toml:16:10: partner `acme`: them.qualifier: ISA07 must be 2 characters"
        ),
        "{out}"
    );
    assert!(
        out.contains("switchyard.toml:17:85: partner `acme`: mailbox.host_key:"),
        "{out}"
    );
    assert!(
        out.contains(
            "schedules/edi.toml:4:1: edi.mailbox.poll: unknown partner `globex` (configured partners: acme, api, shop)"
        ),
        "{out}"
    );
    assert!(out.contains("7 problem(s)"), "{out}");
}

#[test]
fn malformed_config_fails_with_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("switchyard.toml"),
        "[database]\nurl = \"postgres://x\"\nmax_conections = 3\n",
    )
    .unwrap();
    let (code, out) = switchyard(dir.path(), &["check"]);
    assert_ne!(code, 0);
    assert!(
        out.contains("switchyard.toml:3:1: unknown field `max_conections`"),
        "{out}"
    );
    // `run` refuses the same file before touching the database.
    let (code, out) = switchyard(dir.path(), &["run"]);
    assert_ne!(code, 0);
    assert!(out.contains("switchyard.toml:3:1"), "{out}");
}

#[test]
fn check_fails_on_a_broken_mapping_and_names_its_place() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("mappings/http")).unwrap();
    std::fs::create_dir(dir.path().join("schedules")).unwrap();
    std::fs::write(
        dir.path().join("switchyard.toml"),
        "[queue]\nconcurrency = 8\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("mappings/http/catalog.out.toml"),
        "version = 1\nsource = { format = \"csv\" }\ntarget = { format = \"json\" }\n\n[fields]\nsku = { from = \"sku\", type = \"decimall\" }\ntitle = { expr = \".name |\" }\n",
    )
    .unwrap();
    let (code, out) = switchyard(dir.path(), &["check"]);
    assert_ne!(code, 0, "{out}");
    assert!(
        out.contains("ok: config, partners and schedules are valid"),
        "{out}"
    );
    assert!(
        out.contains("catalog.out.toml:6:"),
        "the bad type is located: {out}"
    );
    assert!(
        out.contains("catalog.out.toml:7:"),
        "the bad expression is located too (all errors at once): {out}"
    );
}

/// A fresh server has no `switchyard` database: `migrate` (like `run`) creates the one its
/// config names, then applies the migrations.
#[test]
fn migrate_creates_a_missing_database() {
    let name = format!("sy_migrate_{}", std::process::id());
    let psql = |sql: &str| {
        let out = Command::new("psql")
            .args(["-h", "127.0.0.1", "-U", "postgres", "-Atc", sql])
            .output()
            .expect("psql (Postgres client) on PATH");
        assert!(
            out.status.success(),
            "{sql}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    };
    psql(&format!("DROP DATABASE IF EXISTS {name}"));
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("switchyard.toml"),
        format!("[database]\nurl = \"postgres://postgres@127.0.0.1:5432/{name}\"\n"),
    )
    .unwrap();
    let (code, out) = switchyard(dir.path(), &["migrate"]);
    let exists = psql(&format!(
        "SELECT count(*) FROM pg_database WHERE datname = '{name}'"
    ));
    let tables = if exists == "1" {
        let out = Command::new("psql")
            .args(["-h", "127.0.0.1", "-U", "postgres", "-d", &name, "-Atc"])
            .arg("SELECT count(*) FROM information_schema.tables WHERE table_name = 'jobs'")
            .output()
            .expect("psql");
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    } else {
        String::new()
    };
    psql(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
    assert_eq!(code, 0, "{out}");
    assert_eq!(exists, "1", "the database was not created: {out}");
    assert_eq!(tables, "1", "migrations were not applied: {out}");
}
