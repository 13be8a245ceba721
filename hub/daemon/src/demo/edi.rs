//! The demo's EDI part: an X12 trading partner declared like any `kind = "edi"` partner of
//! switchyard.toml, whose VAN mailbox is a local directory. A purchase order dropped into its
//! `inbound/` is polled through the REST API, stored, validated and acknowledged with a 997
//! written into `outbound/`, exactly as the scheduled `edi.mailbox.poll` does every 5 minutes.

use super::{Api, Narrator};
use crate::config::PartnerConfig;
use anyhow::{bail, ensure, Context};
use serde_json::json;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

pub(super) const PARTNER: &str = "acme-edi";
/// Under `var/` (git-ignored), emptied at every run.
const MAILBOX: &str = "var/demo/edi-acme";
const PURCHASE_ORDER: &str = "fixtures/edi/x12/850_004010_good.edi";

/// What the EDI step saw, for the summary's checks.
pub(super) struct EdiOutcome {
    pub acks_written: usize,
    pub inbound_processed: usize,
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
    Ok(PartnerConfig {
        kind: "edi".into(),
        retry: None,
        org: org.into(),
        settings,
    })
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

async fn wait_for_job(api: &Api<'_>, id: &str, within: Duration) -> anyhow::Result<()> {
    let deadline = Instant::now() + within;
    loop {
        let job = api.get(&format!("/api/v1/jobs/{id}")).await?;
        match job["state"].as_str() {
            Some("succeeded") => return Ok(()),
            Some("dead") => bail!("job {id} died: {}", job["last_error"]),
            _ if Instant::now() > deadline => bail!("job {id} did not finish in {within:?}"),
            _ => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    }
}

pub(super) async fn run(n: &mut Narrator, api: &Api<'_>) -> anyhow::Result<EdiOutcome> {
    n.step("An EDI trading partner: a purchase order through its VAN mailbox");
    let root = mailbox();
    std::fs::copy(PURCHASE_ORDER, root.join("inbound/po-4410.edi"))
        .with_context(|| format!("copying {PURCHASE_ORDER}"))?;
    n.say(format!(
        "partner `{PARTNER}` (X12 004010, ISA 12/5551234567); dropped {PURCHASE_ORDER} into {MAILBOX}/inbound/"
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
    // Acknowledgements only: the order import answers the PO with an 855 of its own, a moment
    // later, through another job.
    let outbound: Vec<String> = files_in(&root.join("outbound"))
        .into_iter()
        .filter(|n| {
            ["_997_", "_999_", "_TA1_", "_CONTRL_"]
                .iter()
                .any(|k| n.contains(k))
        })
        .collect();
    ensure!(
        !outbound.is_empty(),
        "no acknowledgement was written into {MAILBOX}/outbound"
    );
    for name in &outbound {
        let body = std::fs::read_to_string(root.join("outbound").join(name))?;
        let ak = body
            .split('~')
            .filter(|s| s.starts_with("AK5") || s.starts_with("AK9") || s.starts_with("TA1"))
            .collect::<Vec<_>>()
            .join("~ ");
        n.say(format!("outbound/{name}: {ak}~"));
    }
    let archived = files_in(&root.join("archive"));
    n.say(format!("archive/: {}", archived.join(", ")));
    let inbox = api
        .get(&format!(
            "/api/v1/edi/messages?direction=inbound&partner={PARTNER}"
        ))
        .await?;
    let items = inbox["items"].as_array().cloned().unwrap_or_default();
    let processed = items.iter().filter(|m| m["status"] == "processed").count();
    for m in &items {
        n.say(format!(
            "GET /api/v1/edi/messages: {} {} interchange {} from {}: {}",
            m["direction"].as_str().unwrap_or("?"),
            m["message_types"],
            m["interchange_control"].as_str().unwrap_or("?"),
            m["sender_id"].as_str().unwrap_or("?"),
            m["status"].as_str().unwrap_or("?"),
        ));
    }
    Ok(EdiOutcome {
        acks_written: outbound.len(),
        inbound_processed: processed,
    })
}
