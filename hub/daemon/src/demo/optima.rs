//! The demo's Comarch ERP Optima steps (issue #15): a connection on the offline XML exchange
//! (a local folder, `var/demo-optima`, where the fake importer plays Optima) with `auto_sync`:
//! two invoices recorded through the REST API, one imported and synced with Optima's number,
//! one refused for a bad NIP and shown with the reason; the chart of accounts pulled from
//! Optima's export; the month's JPK_V7M written, downloaded and validated with xmllint (when
//! it is installed) against the crate's schema.

use super::{Api, Narrator};
use anyhow::{ensure, Context};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use switchyard_optima::fake::{FakeExchange, FakeOptima};
use switchyard_runtime::config::PartnerConfig;

pub(super) const PARTNER: &str = "ksiegowosc";
const FOLDER: &str = "var/demo-optima";
const INVOICE: &str = "fixtures/mappings/optima/invoice.out/fv-2026-11.input.json";
const JPK_XSD: &str = "adapters/optima/xsd/jpk_v7m_3.xsd";
const XMLLINT: &str = "/usr/bin/xmllint";

/// What the summary checks.
pub(super) struct OptimaOutcome {
    /// The invoice refused for its NIP.
    pub dead_letters: i64,
}

pub(super) fn needed_files() -> [&'static str; 2] {
    [INVOICE, JPK_XSD]
}

pub(super) fn partner_config(org: &str) -> anyhow::Result<PartnerConfig> {
    let settings = toml::from_str(&format!(
        r#"
surface = "xml-exchange"
company_code = "STALHURT"
auto_sync = true
result_timeout_secs = 20
exchange = {{ path = {FOLDER:?} }}
jpk = {{ nip = "5260250274", name = "Stal-Hurt Sp. z o.o.", email = "ksiegowosc@stalhurt.example", tax_office_code = "1471" }}
"#
    ))?;
    Ok(PartnerConfig::new("optima", settings).org(org))
}

/// An empty exchange folder and the fake Optima importing from it (kept while the handle
/// lives).
pub(super) fn start_importer() -> anyhow::Result<FakeExchange> {
    let root = PathBuf::from(FOLDER);
    if root.exists() {
        std::fs::remove_dir_all(&root).with_context(|| format!("emptying {FOLDER}"))?;
    }
    Ok(FakeExchange::start(FakeOptima::new("STALHURT"), &root))
}

/// GET `path` until `done` holds for its answer; the answer.
async fn until(
    api: &Api<'_>,
    path: &str,
    within: Duration,
    done: impl Fn(&Value) -> bool,
) -> anyhow::Result<Value> {
    let deadline = Instant::now() + within;
    loop {
        let v = api.get(path).await?;
        if done(&v) {
            return Ok(v);
        }
        ensure!(
            Instant::now() < deadline,
            "GET {path} did not settle within {within:?}: {v}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

pub(super) async fn run(n: &mut Narrator, api: &Api<'_>) -> anyhow::Result<OptimaOutcome> {
    n.step("Comarch Optima: invoices through the offline XML exchange");
    let good: Value = serde_json::from_slice(&std::fs::read(INVOICE)?)?;
    let mut fixed = good.clone();
    fixed["buyer"]["tax_id"] = "PL 526-025-02-74".into();
    // The fixture's buyer NIP fails the checksum: that one is refused.
    let mut bad = good.clone();
    bad["invoice_number"] = "FV/2026/11/0043".into();
    let recorded = api
        .post(
            "/api/v1/integrations/comarch/invoices",
            None,
            json!({"partner": PARTNER, "invoices": [fixed, bad]}),
        )
        .await?;
    let id = |i: usize| recorded["items"][i]["id"].as_str().unwrap_or("").to_owned();
    let path = |id: &str| format!("/api/v1/integrations/comarch/invoices/{id}");
    let synced = until(api, &path(&id(0)), Duration::from_secs(30), |v| {
        v["status"] != "pending"
    })
    .await?;
    ensure!(synced["status"] == "synced", "not synced: {synced}");
    n.say(format!(
        "{} written in windows-1250 into {FOLDER}/outbound, imported: synced as {}",
        synced["invoice_number"].as_str().unwrap_or("?"),
        synced["optima_number"].as_str().unwrap_or("?")
    ));
    let refused = until(api, &path(&id(1)), Duration::from_secs(30), |v| {
        v["status"] != "pending"
    })
    .await?;
    ensure!(refused["status"] == "error", "not refused: {refused}");
    n.say(format!(
        "{} refused before anything was written: {}",
        refused["invoice_number"].as_str().unwrap_or("?"),
        refused["error"].as_str().unwrap_or("?")
    ));

    n.step("Comarch Optima: the chart of accounts");
    api.post(
        "/api/v1/integrations/comarch/sync-accounts",
        None,
        json!({"partner": PARTNER}),
    )
    .await?;
    let accounts = until(
        api,
        &format!("/api/v1/integrations/comarch/accounts?partner={PARTNER}"),
        Duration::from_secs(30),
        |v| !v["last_sync"].is_null(),
    )
    .await?;
    let items = accounts["items"].as_array().cloned().unwrap_or_default();
    ensure!(!items.is_empty(), "no accounts pulled: {accounts}");
    n.say(format!(
        "{} accounts from Optima's export (inbound/plan_kont.xml): {}",
        items.len(),
        items
            .iter()
            .map(|a| format!(
                "{} {} ({})",
                a["gl_account_code"].as_str().unwrap_or("?"),
                a["name"].as_str().unwrap_or("?"),
                a["account_type"].as_str().unwrap_or("?")
            ))
            .collect::<Vec<_>>()
            .join(", ")
    ));

    n.step("Comarch Optima: JPK_V7M for 2026-11");
    let report = api
        .post(
            "/api/v1/integrations/comarch/vat-reports",
            None,
            json!({"partner": PARTNER, "month": "2026-11"}),
        )
        .await?;
    let rpath = format!(
        "/api/v1/integrations/comarch/vat-reports/{}",
        report["id"].as_str().unwrap_or("")
    );
    let done = until(api, &rpath, Duration::from_secs(30), |v| {
        v["state"] == "done" || v["state"] == "failed"
    })
    .await?;
    ensure!(done["state"] == "done", "the VAT report failed: {done}");
    let file = api
        .http
        .get(format!("{}{rpath}/file", api.base))
        .bearer_auth(api.key)
        .send()
        .await?
        .error_for_status()?
        .bytes()
        .await?;
    let out = Path::new(FOLDER).join("JPK_V7M_2026-11.xml");
    std::fs::write(&out, &file)?;
    n.say(format!(
        "{} rows, output tax {} PLN, to pay (P_51) {} PLN; written to {}",
        done["totals"]["rows"],
        done["totals"]["output_tax"].as_str().unwrap_or("?"),
        done["totals"]["p_51"],
        out.display()
    ));
    if Path::new(XMLLINT).exists() {
        let check = std::process::Command::new(XMLLINT)
            .args(["--noout", "--schema", JPK_XSD])
            .arg(&out)
            .output()?;
        ensure!(
            check.status.success(),
            "xmllint refused the JPK file: {}",
            String::from_utf8_lossy(&check.stderr)
        );
        n.say(format!("xmllint --schema {JPK_XSD}: valid"));
    } else {
        n.say("xmllint is not installed (Debian's libxml2-utils): the file was not validated here");
    }
    Ok(OptimaOutcome { dead_letters: 1 })
}
