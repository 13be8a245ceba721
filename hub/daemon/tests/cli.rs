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
    std::fs::create_dir(dir.path().join("mappings")).unwrap();
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
            "switchyard.toml:5:1: partner `shop`: unknown partner kind `ftp` (known: edi, http, magento, optima, phonex, shopify)"
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
        out.contains("schedules/prices.toml:2:9: invalid cron expression `every day`"),
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

/// A directory with `switchyard.toml` (`config` after a `[paths]` table naming `mappings/`,
/// `schedules/` and `inbox/`, which exist), the repository's catalog mapping, and `schedules`.
fn project(config: &str, schedules: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    std::fs::create_dir_all(dir.path().join("mappings/http")).unwrap();
    std::fs::copy(
        root.join("mappings/http/catalog.out.toml"),
        dir.path().join("mappings/http/catalog.out.toml"),
    )
    .unwrap();
    std::fs::create_dir_all(dir.path().join("schedules")).unwrap();
    std::fs::create_dir_all(dir.path().join("inbox")).unwrap();
    std::fs::write(dir.path().join("inbox/catalog.csv"), "sku\n1\n").unwrap();
    std::fs::write(
        dir.path().join("switchyard.toml"),
        format!("[paths]\nmappings = \"mappings\"\nschedules = \"schedules\"\ninbox = \"inbox\"\n\n{config}"),
    )
    .unwrap();
    for (name, text) in schedules {
        std::fs::write(dir.path().join("schedules").join(name), text).unwrap();
    }
    dir
}

const SHOP: &str = "[partners.shop]\nkind = \"http\"\nbase_url = \"http://127.0.0.1:9\"\nauth = { type = \"bearer\", token_ref = \"env:SHOP_TOKEN\" }\n";

/// `switchyard ARGS` fails, printing `expected` (located problems) among its output.
fn fails_with(dir: &Path, args: &[&str], expected: &[&str]) -> String {
    let (code, out) = switchyard(dir, args);
    assert_ne!(code, 0, "{out}");
    for e in expected {
        assert!(out.contains(e), "expected `{e}` in:\n{out}");
    }
    out
}

#[test]
fn check_refuses_schedules_naming_an_unknown_job_kind_even_disabled() {
    let dir = project(
        "",
        &[
            ("a.toml", "cron = \"0 0 * * * *\"\njob = \"no.such.kind\"\n"),
            (
                "b.toml",
                "cron = \"0 0 * * * *\"\nenabled = false\njob = \"catalog.synk\"\n",
            ),
        ],
    );
    fails_with(
        dir.path(),
        &["check"],
        &[
            "schedules/a.toml:2:1: unknown job kind `no.such.kind` (known: ",
            "schedules/b.toml:3:1: unknown job kind `catalog.synk` (known: ",
            "2 problem(s)",
        ],
    );
}

#[test]
fn check_refuses_catalog_sync_schedules_that_could_not_run() {
    let head = "cron = \"0 0 2 * * *\"\njob = \"catalog.sync\"\n";
    let dir = project(
        SHOP,
        &[
            (
                "a-mapping.toml",
                &format!("{head}partner = \"shop\"\n[params]\nsource = \"catalog.csv\"\nmapping = \"http/nope\"\n"),
            ),
            (
                "b-source.toml",
                &format!("{head}partner = \"shop\"\n[params]\nmapping = \"http/catalog.out\"\n"),
            ),
            (
                "c-partner.toml",
                &format!("{head}partner = \"nobody\"\n[params]\nsource = \"catalog.csv\"\nmapping = \"http/catalog.out\"\n"),
            ),
            (
                "d-absolute.toml",
                &format!("{head}partner = \"shop\"\n[params]\nsource = \"/etc/passwd\"\nmapping = \"http/catalog.out\"\n"),
            ),
            // A file that arrives before the tick that reads it is fine.
            (
                "e-later.toml",
                &format!("{head}partner = \"shop\"\n[params]\nsource = \"tomorrow.csv\"\nmapping = \"http/catalog.out\"\n"),
            ),
        ],
    );
    let inbox = std::path::absolute(dir.path().join("inbox")).unwrap();
    fails_with(
        dir.path(),
        &["check"],
        &[
            "schedules/a-mapping.toml:6:1: catalog.sync: no mapping `http/nope` in mappings (mapping files there: http/catalog.out)",
            "schedules/b-source.toml:4:2: catalog.sync payload: missing field `source`",
            "schedules/c-partner.toml:3:1: catalog.sync: unknown partner `nobody` (configured partners: shop)",
            &format!("schedules/d-absolute.toml:5:1: catalog.sync payload: source: `/etc/passwd` is an absolute path; name a file relative to {}", inbox.display()),
            "4 problem(s)",
        ],
    );
}

#[test]
fn check_refuses_syncs_that_could_not_run() {
    let dir = project(
        &format!(
            "{SHOP}\n[sync.shop.catalog]\nmapping = \"http/catalog.out\"\ntombstone = \"http/nope\"\npage_size = 0\n\n[sync.nobody.prices]\nmapping = \"http/catalog.out\"\ntombstone = \"http/catalog.out\"\n"
        ),
        &[],
    );
    fails_with(
        dir.path(),
        &["check"],
        &[
            "switchyard.toml:13:1: no mapping `http/nope` in mappings",
            "switchyard.toml:14:1: page_size must be 1 to 5000, not 0",
            "switchyard.toml:16:7: sync for unknown partner `nobody` (configured partners: shop)",
            "3 problem(s)",
        ],
    );
    // The same syncs, set right, pass.
    let dir = project(
        &format!("{SHOP}\n[sync.shop.catalog]\nmapping = \"http/catalog.out\"\ntombstone = \"http/catalog.out\"\n"),
        &[],
    );
    let (code, out) = switchyard(dir.path(), &["check"]);
    assert_eq!(code, 0, "{out}");
}

#[test]
fn check_refuses_pulls_that_could_not_run() {
    let dir = project(
        &format!(
            "{SHOP}\n[pull.shop.products]\nmapping = \"http/nope\"\nparams = {{ collection = \"items\", when = [1] }}\n\n[pull.nobody.prices]\nmapping = \"http/catalog.out\"\n"
        ),
        &[],
    );
    fails_with(
        dir.path(),
        &["check"],
        &[
            "switchyard.toml:11:12: partner `shop` (http adapter) cannot pull_catalog: a products pull needs it (an HTTP partner needs `pull_path`)",
            "switchyard.toml:12:1: no mapping `http/nope` in mappings",
            "switchyard.toml:13:34: param `when` must be a string, number or boolean",
            "switchyard.toml:15:7: pull from unknown partner `nobody` (configured partners: shop)",
            "4 problem(s)",
        ],
    );
    // The same pull from a partner that can pull, set right, passes.
    let dir = project(
        &format!("{SHOP}pull_path = \"/v1/records\"\n\n[pull.shop.products]\nmapping = \"http/catalog.out\"\nparams = {{ collection = \"items\", limit = 500 }}\n"),
        &[],
    );
    let (code, out) = switchyard(dir.path(), &["check"]);
    assert_eq!(code, 0, "{out}");
}

#[test]
fn check_refuses_a_missing_mappings_directory() {
    let dir = project("", &[]);
    std::fs::remove_dir_all(dir.path().join("mappings")).unwrap();
    let missing = std::path::absolute(dir.path().join("mappings")).unwrap();
    fails_with(
        dir.path(),
        &["check"],
        &[&format!(
            "switchyard.toml:2:1: the mappings directory {} does not exist",
            missing.display()
        )],
    );
}

#[test]
fn check_refuses_a_missing_schedules_directory() {
    let dir = project("", &[]);
    std::fs::remove_dir_all(dir.path().join("schedules")).unwrap();
    let missing = std::path::absolute(dir.path().join("schedules")).unwrap();
    fails_with(
        dir.path(),
        &["check"],
        &[&format!(
            "switchyard.toml:3:1: the schedules directory {} does not exist",
            missing.display()
        )],
    );
}

#[test]
fn check_refuses_config_values_the_daemon_cannot_use() {
    for (config, expected) in [
        (
            "[api]\nbind = \"not an address\"\n",
            "switchyard.toml:7:8: `not an address` is not a socket address",
        ),
        (
            "[queue]\nconcurrency = 0\n",
            "switchyard.toml:7:15: must be at least 1, not 0",
        ),
        (
            "[retention]\ndead_letter_days = -1\n",
            "switchyard.toml:7:20: must be at least 1, not -1",
        ),
    ] {
        let dir = project(config, &[]);
        fails_with(dir.path(), &["check"], &[expected]);
        // `run` refuses the same file before it touches the database.
        fails_with(dir.path(), &["run"], &[expected]);
    }
}

#[test]
fn check_points_at_the_cron_field_and_refuses_a_cron_that_never_fires() {
    let dir = project(
        "",
        &[
            ("feb31.toml", "job = \"noop\"\ncron = \"0 0 0 31 2 *\"\n"),
            ("field.toml", "job = \"noop\"\ncron = \"0 */5 * * 13 *\"\n"),
        ],
    );
    let out = fails_with(
        dir.path(),
        &["check"],
        &[
            "schedules/feb31.toml:2:9: cron expression `0 0 0 31 2 *` never fires",
            "schedules/field.toml:2:19: invalid cron expression `0 */5 * * 13 *`: the month field `13` is not valid",
        ],
    );
    assert!(
        !out.contains("\n                ^"),
        "no second copy of the expression with a caret: {out}"
    );
}

#[test]
fn check_locates_problems_inside_a_partner_table_at_the_key() {
    let edi = "[partners.acme]\nkind = \"edi\"\nstandard = \"x12\"\nversion = 4010\nus = { qualifier = \"ZZ\", id = \"US\" }\nthem = { qualifier = \"ZZ\", id = \"THEM\" }\nmailbox = { path = \"var/edi\" }\n";
    let dir = project(edi, &[]);
    fails_with(
        dir.path(),
        &["check"],
        &["switchyard.toml:9:1: partner `acme`: version: invalid type: integer `4010`, expected a string"],
    );
    let dir = project(
        &edi.replace("version = 4010", "version = \"004010\"\ntset = true"),
        &[],
    );
    fails_with(
        dir.path(),
        &["check"],
        &["switchyard.toml:10:1: partner `acme`: unknown field `tset`"],
    );
}

#[test]
fn a_named_config_file_that_does_not_exist_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    for args in [
        &["--config", "typo.toml", "run"][..],
        &["--config", "typo.toml", "check"][..],
    ] {
        let (code, out) = switchyard(dir.path(), args);
        assert_ne!(code, 0, "{args:?}: {out}");
        assert!(
            out.contains(
                "typo.toml: config file not found (named by --config or SWITCHYARD_CONFIG)"
            ),
            "{args:?}: {out}"
        );
    }
    let out = Command::new(env!("CARGO_BIN_EXE_switchyard"))
        .arg("run")
        .current_dir(dir.path())
        .env("SWITCHYARD_CONFIG", "missing.toml")
        .output()
        .expect("run switchyard");
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("missing.toml: config file not found"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
