//! The OpenAPI document against the API it describes: schemathesis (from PyPI, pinned in
//! `tests/openapi_fuzz/requirements.txt`, installed into a venv by the runtime's test kit; no
//! python3 or no PyPI fails the test) generates requests from the document served at
//! `/api/v1/openapi.json` for every operation — the hub's and the EDI integration's, the
//! health routes and the webhook receiver — in all four of its phases (examples, coverage,
//! fuzzing, stateful), and runs every check it has (`--checks all`) against a live daemon (the
//! API role, in process, on a fresh database) with an all-scopes key. It must find nothing: no
//! 5xx, no status code, header, content type or body the document does not declare, no request
//! the document calls valid that the API refuses, none it calls invalid that the API accepts,
//! no operation that ignores its authentication, no 405 without `Allow`.
//!
//! Then the audit trail: every request the fuzzer sent under `/api/v1` (schemathesis writes
//! each one with its answer to a HAR file) has its integration-log row (type `api`, found by
//! the `X-Correlation-Id` the answer carries), and no row records a 5xx.
//!
//! Bounded: `--max-examples` per operation and phase, one seed, one worker: about a minute on
//! two cores. No operation and no check is excluded. What is narrowed, and why (all but the
//! last two are entries of `tests/openapi_fuzz/schemathesis.toml`):
//!
//! * `regenerate_key`, `suspend_key`, `revoke_key` get generated ids only and no stateful
//!   chains: schemathesis reuses ids from earlier answers (`GET /keys` lists the fuzzer's own
//!   key), and acting on its own key would turn every later request into a 401. Their
//!   parameters, methods, auth and error answers are still checked (on 404s).
//! * Page cursors (`list_logs`, `list_orders`, `list_messages`, `list_products`,
//!   `list_events`) are pinned
//!   to a valid one: only a previous page's `next_cursor` is valid, which no schema can
//!   generate.
//! * `positive_data_acceptance` also takes a 422 from `enqueue`, `send_document`,
//!   `create_key`, `update_key`, `put_product`, `upload`, `create_endpoint`,
//!   `replace_endpoint`, `test_connection`, `record_invoices`, `sync_accounts` and
//!   `request_report`, whose valid input depends on what the server
//!   holds or is configured with (payload rules per job kind, configured EDI partners and Optima
//!   connections, canonical entities, a JPK month, an expiry in the future, buyer parts naming existing
//!   customers, the import mapping a product file is read with, a webhook URL that is https or
//!   http to a host the config allows); the 422 names what was refused. Every other check still
//!   applies to them.
//! * `positive_data_acceptance` also takes a 409 from `hold_order`, `release_order` and
//!   `cancel_order`: whether a valid request may move an order depends on the order's status
//!   (the 409 names from and to).
//! * `positive_data_acceptance` also takes a 422 from `product_price` and `cart_price`: a
//!   price exists only where price data is stored (a price on the day, a conversion to the
//!   asked unit); the 422 names the field. `negative_data_rejection` takes a 200 from the
//!   bulk price upserts and deletes (`put_price_lists`, `delete_tiers` …): a bad item is
//!   reported by index in a 200 and the others stored or deleted, as issue #11 asks.
//! * `positive_data_acceptance` also takes a 422 from `create_export` and `get_export` (filters
//!   that are valid one by one but not together or not for the entity, a synchronous export
//!   above 10,000 rows) and a 410 from `download_export` (an expired export's file): rules
//!   across fields or on the export's state, which a schema cannot state.
//! * Strings generated for `enqueue`, `replay`, `send_document` and `put_products` hold no
//!   NUL: their free-form JSON values (payloads, EDI entities, catalog items, which are
//!   checked one by one and reported by index rather than refused with the call) cannot
//!   exclude it at every depth in a schema a generator can use, so the document says it in
//!   words. Every other string's
//!   schema excludes NUL by pattern, and schemathesis still sends NULs there as negative
//!   cases; hub/api/tests/api/hostile_input.rs sends them in payloads.
//! * The rate limits of the test's config (the key's tier, and requests without a valid key
//!   per address) are far above what the fuzzer sends, so 429s do not hide the answers it
//!   tests, the 401s of its authentication checks above all (the 429s themselves are
//!   documented, and tested in hub/api).
//! * One worker: with two, hypothesis' lambda-description cache, which is not thread safe,
//!   now and then fails a phase with "AST constructor recursion depth mismatch".

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;
use switchyard_daemon::app::Roles;
use switchyard_e2e::TestDaemon;

/// Test cases per operation and generation phase: the coverage phase adds every parameter's
/// boundaries and negative forms regardless; this bounds the random ones (about a minute).
const MAX_EXAMPLES: u32 = 50;
/// Fixed so a failure reproduces (`--seed` on the command line printed below).
const SEED: u64 = 20_260_705;

fn here() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/openapi_fuzz")
}

/// The venv's interpreter with schemathesis installed.
fn python() -> PathBuf {
    switchyard_runtime::testkit::python::venv(
        "openapi-fuzz",
        Path::new(env!("CARGO_TARGET_TMPDIR")),
        &here().join("requirements.txt"),
        "schemathesis",
    )
    .unwrap_or_else(|e| panic!("{e}"))
}

/// Every scope this build declares: the hub's and its integrations'.
fn all_scopes() -> Vec<String> {
    let mut declared = switchyard_api::Scopes::hub();
    for integration in switchyard_daemon::app::all_integrations(&[]).expect("the integrations") {
        declared = declared.with(integration.scopes());
    }
    declared.all().iter().map(|s| s.name.to_owned()).collect()
}

/// For every request to `/api/v1` in a HAR log: `METHOD URL` and the `X-Correlation-Id` of its
/// answer (the access log sets it on every answer it logs).
fn v1_correlation_ids(har: &Value) -> Vec<(String, Option<String>)> {
    let entries = har["log"]["entries"].as_array().map(Vec::as_slice);
    entries
        .unwrap_or_default()
        .iter()
        .filter(|e| {
            e["request"]["url"]
                .as_str()
                .and_then(|u| u.split_once("://"))
                .and_then(|(_, rest)| rest.split_once('/'))
                .is_some_and(|(_, path)| path.starts_with("api/v1/"))
        })
        .map(|e| {
            let request = format!("{} {}", e["request"]["method"], e["request"]["url"]);
            let id = e["response"]["headers"]
                .as_array()
                .into_iter()
                .flatten()
                .find(|h| {
                    h["name"]
                        .as_str()
                        .is_some_and(|n| n.eq_ignore_ascii_case("x-correlation-id"))
                })
                .and_then(|h| h["value"].as_str().map(str::to_owned));
            (request, id)
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_api_does_what_its_document_says() -> anyhow::Result<()> {
    let python = python();
    let daemon = TestDaemon::builder()
        .roles(Roles {
            api: true,
            worker: false,
            scheduler: false,
        })
        .toml(
            "[api.rate_limits]\n\
             premium = { per_minute = 6000000, burst = 1000000 }\n\
             unauthenticated = { per_minute = 6000000, burst = 1000000 }\n",
        )
        .start()
        .await?;
    let scopes = all_scopes();
    let scopes: Vec<&str> = scopes.iter().map(String::as_str).collect();
    let key = daemon.key("fuzz", &scopes).await?;
    let base = daemon.api();

    let work = tempfile::tempdir()?;
    let report = work.path().join("report.json");
    let har = work.path().join("requests.har");
    let mut cmd = Command::new(&python);
    cmd.current_dir(work.path())
        .args(["-m", "schemathesis.cli"])
        .arg("--config-file")
        .arg(here().join("schemathesis.toml"))
        .arg("run")
        .arg(format!("{base}/api/v1/openapi.json"))
        .args(["--url", &base])
        .args(["--checks", "all"])
        .args(["--max-examples", &MAX_EXAMPLES.to_string()])
        .args(["--seed", &SEED.to_string()])
        .args(["--workers", "1"])
        .args(["--generation-database", "none"])
        .args(["--report", "json,har"])
        .arg("--report-json-path")
        .arg(&report)
        .arg("--report-har-path")
        .arg(&har)
        .args(["--no-color"])
        .arg("-H")
        .arg(format!("Authorization: Bearer {key}"));
    let shown = format!("{cmd:?}").replace(&key, "sy_…");
    println!("running {shown}");
    let started = Instant::now();
    // Waited for without blocking: the daemon answering it runs on this test's runtime.
    let out = tokio::process::Command::from(cmd).output().await?;
    let took = started.elapsed();
    let stdout = String::from_utf8_lossy(&out.stdout).replace(&key, "sy_…");
    let stderr = String::from_utf8_lossy(&out.stderr).replace(&key, "sy_…");
    assert!(
        out.status.success(),
        "schemathesis found problems ({}):\n{stdout}\n{stderr}",
        out.status
    );

    let report: Value = serde_json::from_slice(&std::fs::read(&report)?)?;
    let operations = report["operations"]["tested"].as_u64().unwrap_or(0);
    let selected = report["operations"]["selected"].as_u64().unwrap_or(0);
    let cases = report["test_cases"]["generated"].as_u64().unwrap_or(0);
    println!(
        "schemathesis {}: {operations} of {selected} operations tested, {cases} test cases, in {:.0} s",
        report["schemathesis_version"],
        took.as_secs_f64()
    );
    assert_eq!(operations, selected, "every operation is tested:\n{stdout}");
    assert!(cases > 0, "test cases were generated:\n{stdout}");

    // The audit trail: every request under /api/v1 (the HAR file has each one the fuzzer
    // sent, with its answer) left its row, found by the correlation id the answer carries.
    let har: Value = serde_json::from_slice(&std::fs::read(&har)?)?;
    let answers = v1_correlation_ids(&har);
    let unlogged: Vec<&String> = answers
        .iter()
        .filter_map(|(request, id)| id.is_none().then_some(request))
        .take(10)
        .collect();
    assert!(
        unlogged.is_empty(),
        "answers without a correlation id (so without a log row): {unlogged:?}"
    );
    let ids: Vec<String> = answers.into_iter().filter_map(|(_, id)| id).collect();
    let pool = &daemon.db.pool;
    let missing: Vec<String> = sqlx::query_scalar(
        "SELECT id FROM unnest($1::text[]) AS sent(id)
         WHERE NOT EXISTS (SELECT 1 FROM integration_logs l
                           WHERE l.integration_type = 'api' AND l.correlation_id = sent.id)",
    )
    .bind(&ids)
    .fetch_all(pool)
    .await?;
    assert!(
        missing.is_empty(),
        "{} of {} requests have no log row, e.g. correlation ids {:?}",
        missing.len(),
        ids.len(),
        &missing[..missing.len().min(10)]
    );
    let server_errors: Vec<(String, i32)> = sqlx::query_as(
        "SELECT event_type, http_status FROM integration_logs
         WHERE integration_type = 'api' AND http_status >= 500 LIMIT 20",
    )
    .fetch_all(pool)
    .await?;
    assert!(
        server_errors.is_empty(),
        "the log holds server errors: {server_errors:?}"
    );
    println!(
        "{} requests under /api/v1, each with its log row",
        ids.len()
    );
    daemon.stop().await
}
