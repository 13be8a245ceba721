//! The demo's EDI part: an X12 trading partner declared like any `kind = "edi"` partner of
//! switchyard.toml, whose VAN mailbox is a local directory. Two purchase orders dropped into
//! its `inbound/` are polled through the REST API (as the scheduled `edi.mailbox.poll` does
//! every 5 minutes): stored, validated and acknowledged with 997s, mapped into orders and
//! checked against the customers and products seeded through the API. The clean one is
//! confirmed and answered 855 AC; the one with a zero quantity and an unknown product waits
//! for review and is answered 855 RJ, until an admin fixes it through the API and reprocesses
//! it, which sends the 855 AC.

use super::{wait_for_job, Api, Narrator};
use anyhow::{bail, ensure, Context};
use serde_json::json;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use switchyard_runtime::config::PartnerConfig;

pub(super) const PARTNER: &str = "acme-edi";
/// Under `var/` (git-ignored), emptied at every run.
const MAILBOX: &str = "var/demo/edi-acme";
const PURCHASE_ORDER: &str = "fixtures/edi/x12/850_004010_good.edi";

/// What the EDI step saw, for the summary's checks.
pub(super) struct EdiOutcome {
    pub acks_written: usize,
    pub inbound_processed: usize,
    pub orders_confirmed: usize,
    pub responses: usize,
    pub accepted_responses: usize,
}

/// The partner as switchyard.toml would declare it; the demo's org owns it.
pub(super) fn partner_config(org: &str) -> anyhow::Result<PartnerConfig> {
    let settings = toml::from_str(&format!(
        r#"
standard = "x12"
version = "004010"
us = {{ qualifier = "ZZ", id = "SWITCHYARD" }}
them = {{ qualifier = "12", id = "5551234567" }}
acks = {{ functional = "f997", ta1_when_requested = true, ta1_on_envelope_error = true, contrl = true, window_hours = 24 }}
mailbox = {{ path = {MAILBOX:?} }}
"#
    ))?;
    Ok(PartnerConfig::new("edi", settings).org(org))
}

/// Files that must exist for this step (checked before anything starts).
pub(super) fn needed_files() -> [&'static str; 1] {
    [PURCHASE_ORDER]
}

fn mailbox() -> PathBuf {
    PathBuf::from(MAILBOX)
}

/// Empties the mailbox so every run starts from the same state.
pub(super) fn reset_mailbox() -> anyhow::Result<()> {
    let root = mailbox();
    if root.exists() {
        std::fs::remove_dir_all(&root).with_context(|| format!("emptying {MAILBOX}"))?;
    }
    std::fs::create_dir_all(root.join("inbound")).with_context(|| format!("creating {MAILBOX}"))
}

fn files_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.filter_map(Result::ok)
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| !n.starts_with('.'))
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

/// The partner's 850s, in the order they arrive: the good one, then a copy with its own
/// control numbers and PO number, line 1 ordered with quantity 0 and line 2 a product we do
/// not sell.
fn purchase_orders() -> anyhow::Result<[(String, String); 2]> {
    let good = std::fs::read_to_string(PURCHASE_ORDER)?;
    let bad = good
        .replace("*000000101*", "*000000102*")
        .replace("IEA*1*000000101", "IEA*1*000000102")
        .replace("*0800*101*X", "*0800*102*X")
        .replace("GE*1*101", "GE*1*102")
        .replace("PO-4410", "PO-4411")
        .replace("PO1*1*12*EA", "PO1*1*0*EA")
        .replace("VP*SHEET-304-16GA", "VP*SHEET-999");
    ensure!(
        bad.contains("PO-4411") && bad.contains("SHEET-999"),
        "{PURCHASE_ORDER} changed"
    );
    Ok([("po-4410.edi".into(), good), ("po-4411.edi".into(), bad)])
}

/// `(file name, BAK02)` of every 855 in `outbound/`.
fn responses(root: &Path) -> Vec<(String, String)> {
    files_in(&root.join("outbound"))
        .into_iter()
        .filter(|n| n.contains("_855_"))
        .map(|n| {
            let body = std::fs::read_to_string(root.join("outbound").join(&n)).unwrap_or_default();
            let bak = body
                .split('~')
                .find(|s| s.starts_with("BAK*"))
                .and_then(|s| s.split('*').nth(2))
                .unwrap_or("?")
                .to_owned();
            (n, bak)
        })
        .collect()
}

async fn wait_until<F: Fn() -> bool>(what: &str, within: Duration, done: F) -> anyhow::Result<()> {
    let deadline = Instant::now() + within;
    while !done() {
        if Instant::now() > deadline {
            bail!("{what} did not happen within {within:?}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Ok(())
}

/// The order with this PO number, once it has left `pending`.
async fn order_by_po(
    api: &Api<'_>,
    po: &str,
    within: Duration,
) -> anyhow::Result<serde_json::Value> {
    let deadline = Instant::now() + within;
    loop {
        let page = api.get("/api/v1/orders?limit=100").await?;
        if let Some(o) = page["items"]
            .as_array()
            .and_then(|items| items.iter().find(|o| o["customer_po"] == po))
        {
            return Ok(o.clone());
        }
        if Instant::now() > deadline {
            bail!("no order for PO {po} within {within:?}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

pub(super) async fn run(n: &mut Narrator, api: &Api<'_>) -> anyhow::Result<EdiOutcome> {
    n.step("An EDI trading partner: two purchase orders through its VAN mailbox");
    let root = mailbox();
    // Reference data the orders are checked against, through the REST API.
    api.send_json(
        reqwest::Method::PUT,
        "/api/v1/customers/C-ACME",
        json!({"name": "Acme Retail", "active": true, "edi_ids": [{"qualifier": "92", "id": "0001"}]}),
    )
    .await?;
    for (sku, gtin) in [
        ("BAR-A36-1", "4006381333931"),
        ("SHEET-304-16GA", "5901234123457"),
    ] {
        api.send_json(
            reqwest::Method::PUT,
            &format!("/api/v1/products/{sku}"),
            json!({"name": sku, "gtin": gtin, "uom": "EA", "active": true}),
        )
        .await?;
    }
    n.say("PUT /api/v1/customers/C-ACME (N1 92/0001), PUT /api/v1/products/BAR-A36-1 and SHEET-304-16GA");
    for (name, body) in purchase_orders()? {
        std::fs::write(root.join("inbound").join(&name), body)?;
    }
    n.say(format!(
        "partner `{PARTNER}` (X12 004010, ISA 12/5551234567) dropped po-4410.edi and po-4411.edi into {MAILBOX}/inbound/"
    ));
    let poll = api
        .post(
            "/api/v1/jobs",
            Some("demo-edi-poll-1"),
            json!({"kind": "edi.mailbox.poll", "payload": {"partner": PARTNER}}),
        )
        .await?;
    let poll_id = poll["id"].as_str().context("poll job id")?.to_owned();
    wait_for_job(api, &poll_id, Duration::from_secs(30)).await?;
    // Acknowledgements are written by the poll; each order import answers its PO with an 855
    // through its own edi.send job a moment later.
    let acks: Vec<String> = files_in(&root.join("outbound"))
        .into_iter()
        .filter(|n| {
            ["_997_", "_999_", "_TA1_", "_CONTRL_"]
                .iter()
                .any(|k| n.contains(k))
        })
        .collect();
    ensure!(
        !acks.is_empty(),
        "no acknowledgement was written into {MAILBOX}/outbound"
    );
    for name in &acks {
        let body = std::fs::read_to_string(root.join("outbound").join(name))?;
        let ak = body
            .split('~')
            .filter(|s| s.starts_with("AK5") || s.starts_with("AK9"))
            .collect::<Vec<_>>()
            .join("~ ");
        n.say(format!("outbound/{name}: {ak}~"));
    }
    let inbox = api
        .get(&format!(
            "/api/v1/edi/messages?direction=inbound&partner={PARTNER}"
        ))
        .await?;
    let processed = inbox["items"]
        .as_array()
        .map(|items| items.iter().filter(|m| m["status"] == "processed").count())
        .unwrap_or(0);
    n.say(format!(
        "GET /api/v1/edi/messages: {processed} inbound 850 interchanges processed, files archived"
    ));
    let good = order_by_po(api, "PO-4410", Duration::from_secs(30)).await?;
    let held = order_by_po(api, "PO-4411", Duration::from_secs(30)).await?;
    wait_until("two 855 answers", Duration::from_secs(30), || {
        responses(&root).len() >= 2
    })
    .await?;
    n.say(format!(
        "order PO-4410: {} (customer {})",
        good["status"].as_str().unwrap_or("?"),
        good["customer_id"].as_str().unwrap_or("?")
    ));
    n.say(format!(
        "order PO-4411: {}",
        held["status"].as_str().unwrap_or("?")
    ));
    for e in held["review_errors"]
        .as_array()
        .cloned()
        .unwrap_or_default()
    {
        n.say(format!("    {}", e["message"].as_str().unwrap_or("?")));
    }
    for (name, bak) in responses(&root) {
        n.say(format!("outbound/{name}: BAK02 {bak}"));
    }
    ensure!(
        held["status"] == "pending_review",
        "PO-4411 should wait for review, it is {}",
        held["status"]
    );

    n.step("An admin fixes the held order and reprocesses it through the REST API");
    let id = held["id"].as_str().context("order id")?.to_owned();
    let patched = api
        .send_json(
            reqwest::Method::PATCH,
            &format!("/api/v1/orders/{id}"),
            json!({"lines": [{"line_number": 1, "quantity": "12"}, {"line_number": 2, "sku": "SHEET-304-16GA"}]}),
        )
        .await?;
    n.say(format!(
        "PATCH /api/v1/orders/{id}: line 1 quantity 12, line 2 SKU SHEET-304-16GA ({} review errors left)",
        patched["review_errors"].as_array().map(Vec::len).unwrap_or(0)
    ));
    let reprocess = api
        .post(&format!("/api/v1/orders/{id}/reprocess"), None, json!({}))
        .await?;
    let job = reprocess["job_id"]
        .as_str()
        .context("reprocess job id")?
        .to_owned();
    wait_for_job(api, &job, Duration::from_secs(30)).await?;
    wait_until("the accepting 855", Duration::from_secs(30), || {
        responses(&root).len() >= 3
    })
    .await?;
    let fixed = api.get(&format!("/api/v1/orders/{id}")).await?;
    n.say(format!(
        "POST /api/v1/orders/{id}/reprocess: order PO-4411 is now {}",
        fixed["status"].as_str().unwrap_or("?")
    ));
    let answers = responses(&root);
    if let Some((name, bak)) = answers.last() {
        n.say(format!("outbound/{name}: BAK02 {bak}"));
    }
    let mut confirmed = 0;
    for po in ["PO-4410", "PO-4411"] {
        if order_by_po(api, po, Duration::from_secs(5)).await?["status"] == "confirmed" {
            confirmed += 1;
        }
    }
    Ok(EdiOutcome {
        acks_written: acks.len(),
        inbound_processed: processed,
        orders_confirmed: confirmed,
        responses: answers.len(),
        accepted_responses: answers.iter().filter(|(_, b)| b == "AC").count(),
    })
}
