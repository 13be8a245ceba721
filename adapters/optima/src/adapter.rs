//! [`OptimaAdapter`]: pushes invoices over the connection's surface and checks health.
//!
//! A pushed document is the mapped invoice (`mappings/optima/invoice.out.toml`); it is checked
//! against the Polish rules first (a broken rule is a permanent error naming the field: a dead
//! letter to fix and replay, nothing sent). Then:
//! * `xml-exchange`: the offline XML goes into the exchange folder's `outbound/` (atomically,
//!   named after the document and its idempotency key, so a redelivered job finds its own
//!   file instead of writing a second one); Optima's result comes back as
//!   `NAME.result.xml` in `inbound/` and is moved to `archive/` once read. No result within
//!   `result_timeout_secs` is a transient error: retried, never counted as synced.
//! * `rest`: `POST {api_url}/api/faktury` with the key and secret headers and the
//!   idempotency key.

use crate::chart::{self, Account};
use crate::config::{OptimaPartner, RestSpec, Surface, KIND};
use crate::offline::{self, ImportOutcome, ImportResult, Target};
use crate::wire::{CheckedInvoice, Faktura};
use async_trait::async_trait;
use std::io::Read;
use std::time::{Duration, Instant};
use switchyard_core::adapter::{
    Adapter, AdapterContext, Capability, Direction, Exchange, OutboundDocument, Payload,
    PushReceipt,
};
use switchyard_core::error::AdapterError;
use switchyard_core::ids::PartnerName;
use switchyard_edi_van::connect::connect;
use switchyard_edi_van::transport::{Folder, MailboxTransport};
use tracing::{info_span, Instrument};

/// Headers the REST surface authenticates with (the PRD: "API Key + Secret").
pub const KEY_HEADER: &str = "x-api-key";
pub const SECRET_HEADER: &str = "x-api-secret";
pub const IDEMPOTENCY_HEADER: &str = "idempotency-key";

/// How often the exchange folder is looked at while waiting for a result.
const RESULT_POLL: Duration = Duration::from_millis(200);

pub struct OptimaAdapter {
    name: PartnerName,
    partner: OptimaPartner,
    http: reqwest::Client,
    /// The organization (slug) the connection belongs to: `[partners.NAME] org`. Only its
    /// API keys may use the connection's routes (src/routes/owner.rs).
    org: String,
}

impl OptimaAdapter {
    /// A connection of the `default` organization (the partner table's default `org`).
    pub fn new(name: PartnerName, partner: OptimaPartner, http: reqwest::Client) -> Self {
        Self {
            name,
            partner,
            http,
            org: "default".into(),
        }
    }

    /// The connection belongs to organization `org` (its slug).
    pub fn owned_by(mut self, org: &str) -> Self {
        self.org = org.to_owned();
        self
    }

    pub fn partner(&self) -> &OptimaPartner {
        &self.partner
    }

    /// The slug of the organization the connection belongs to.
    pub fn org(&self) -> &str {
        &self.org
    }

    fn record(
        &self,
        ctx: &AdapterContext,
        event: &str,
        url: Option<String>,
        started: Instant,
        body: Option<serde_json::Value>,
        result: &Result<PushReceipt, AdapterError>,
    ) {
        ctx.sink.record(
            ctx,
            Exchange {
                partner: self.name.clone(),
                event: event.to_owned(),
                direction: Direction::Outbound,
                method: Some(if url.as_deref().is_some_and(|u| u.starts_with("http")) {
                    "POST".into()
                } else {
                    "WRITE".into()
                }),
                url,
                request_body: body,
                response_status: result.as_ref().ok().map(|r| r.status),
                response_body: result.as_ref().ok().map(|r| {
                    serde_json::json!({"optima_number": r.external_id, "duplicate": r.duplicate})
                }),
                duration: started.elapsed(),
                error: result.as_ref().err().map(|e| e.to_string()),
            },
        );
    }

    async fn push_rest(
        &self,
        ctx: &AdapterContext,
        rest: &RestSpec,
        inv: &CheckedInvoice,
    ) -> Result<PushReceipt, AdapterError> {
        let mut url = format!("{}/api/faktury", rest.api_url);
        if self.partner.test_mode {
            // Into Optima's buffer (drafts), not posted.
            url.push_str("?bufor=1");
        }
        let resp = self
            .http
            .post(&url)
            .header(KEY_HEADER, &rest.api_key)
            .header(SECRET_HEADER, &rest.api_secret)
            .header(IDEMPOTENCY_HEADER, &ctx.idempotency_key)
            .header("x-company", &self.partner.company_code)
            .json(&inv.to_faktura())
            .timeout(self.partner.result_timeout)
            .send()
            .await
            .map_err(|e| AdapterError::transient(format!("POST {url}: {e}")))?;
        let status = resp.status().as_u16();
        let retry_after = retry_after(&resp);
        let body: serde_json::Value = resp.json().await.unwrap_or(serde_json::Value::Null);
        let reason = body
            .get("error")
            .and_then(|v| v.as_str())
            .unwrap_or("no reason given")
            .to_owned();
        match status {
            200 | 201 => Ok(PushReceipt {
                status,
                external_id: body
                    .get("numer")
                    .and_then(|v| v.as_str())
                    .map(str::to_owned),
                duplicate: body
                    .get("duplicate")
                    .and_then(|v| v.as_bool())
                    .unwrap_or(false),
            }),
            401 | 403 => Err(AdapterError::auth(format!(
                "Optima refused the API key or secret ({status}): {reason}"
            ))
            .with_status(status)),
            400 | 409 | 422 => Err(AdapterError::permanent(format!(
                "Optima refused invoice {}: {reason}",
                inv.number
            ))
            .with_status(status)),
            _ => Err(AdapterError::from_http_status(
                status,
                retry_after,
                format!("Optima answered {status}: {reason}"),
            )),
        }
    }

    async fn push_xml(
        &self,
        ctx: &AdapterContext,
        t: &dyn MailboxTransport,
        inv: &CheckedInvoice,
    ) -> Result<(String, PushReceipt), AdapterError> {
        let id = offline::source_id(&ctx.idempotency_key);
        let file = document_file_name(&inv.number, id);
        let result = offline::result_name(&file);
        t.ensure_dirs().await?;
        // A redelivered job: the result may already be here, or the document already taken.
        if let Some(r) = self.read_result(t, &result).await? {
            return outcome(inv, &file, r).map(|rec| (file.clone(), rec));
        }
        let taken = t.exists(Folder::Archive, &file).await?;
        if !taken {
            let text = offline::write_invoice(
                inv,
                &Target {
                    company_code: &self.partner.company_code,
                    register: &self.partner.register,
                },
                id,
            );
            t.write_atomic(Folder::Outbound, &file, &offline::to_bytes(&text))
                .await?;
        }
        let deadline = Instant::now() + self.partner.result_timeout;
        loop {
            if let Some(r) = self.read_result(t, &result).await? {
                return outcome(inv, &file, r).map(|rec| (file.clone(), rec));
            }
            if Instant::now() >= deadline {
                return Err(AdapterError::transient(format!(
                    "Optima wrote no result for invoice {} ({file}) within {}s; the document stays in the exchange folder and is not counted as synced",
                    inv.number,
                    self.partner.result_timeout.as_secs()
                )));
            }
            tokio::time::sleep(RESULT_POLL).await;
        }
    }

    /// The result file, from `inbound/` (then moved to `archive/`) or, for a redelivered job,
    /// from `archive/`.
    async fn read_result(
        &self,
        t: &dyn MailboxTransport,
        name: &str,
    ) -> Result<Option<ImportResult>, AdapterError> {
        let folder = if t.exists(Folder::Inbound, name).await? {
            Folder::Inbound
        } else if t.exists(Folder::Archive, name).await? {
            Folder::Archive
        } else {
            return Ok(None);
        };
        let bytes = read_all(t, folder, name).await?;
        let parsed = ImportResult::parse(&bytes).map_err(|e| {
            AdapterError::permanent(format!("Optima's result file {name} is unreadable: {e}"))
        })?;
        if folder == Folder::Inbound {
            // Read once; a redelivered job finds it in archive/.
            t.rename(Folder::Inbound, name, Folder::Archive, name)
                .await?;
        }
        Ok(Some(parsed))
    }
}

/// The partner's `Retry-After` in seconds, if it gave one.
fn retry_after(resp: &reqwest::Response) -> Option<Duration> {
    resp.headers()
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(Duration::from_secs)
}

/// A whole file of the exchange folder.
async fn read_all(
    t: &dyn MailboxTransport,
    folder: Folder,
    name: &str,
) -> Result<Vec<u8>, AdapterError> {
    let mut reader = t.open(folder, name).await?;
    let owned = name.to_owned();
    tokio::task::spawn_blocking(move || {
        let mut b = Vec::new();
        reader.read_to_end(&mut b).map(|_| b)
    })
    .await
    .map_err(|e| AdapterError::transient(format!("reader thread: {e}")))?
    .map_err(|e| AdapterError::transient(format!("reading {owned}: {e}")))
}

impl OptimaAdapter {
    /// The chart of accounts (FR-INT-022): rest `GET /api/plan-kont`; xml-exchange the
    /// offline export `inbound/plan_kont.xml` (see `chart.rs` for that assumption). A chart
    /// that does not read is permanent, naming the account and field.
    pub async fn pull_accounts(&self, ctx: &AdapterContext) -> Result<Vec<Account>, AdapterError> {
        let started = Instant::now();
        let (url, result) = match &self.partner.surface {
            Surface::Rest(rest) => (
                format!("{}/api/plan-kont", rest.api_url),
                self.accounts_rest(rest).await,
            ),
            Surface::XmlExchange(spec) => (
                format!("inbound/{}", chart::EXPORT_FILE),
                accounts_xml(spec).await,
            ),
        };
        ctx.sink.record(
            ctx,
            Exchange {
                partner: self.name.clone(),
                event: "optima.accounts".into(),
                direction: Direction::Inbound,
                method: Some(
                    if url.starts_with("http") {
                        "GET"
                    } else {
                        "READ"
                    }
                    .into(),
                ),
                url: Some(url),
                request_body: None,
                response_status: None,
                response_body: result
                    .as_ref()
                    .ok()
                    .map(|a| serde_json::json!({"accounts": a.len()})),
                duration: started.elapsed(),
                error: result.as_ref().err().map(|e| e.to_string()),
            },
        );
        result
    }

    async fn accounts_rest(&self, rest: &RestSpec) -> Result<Vec<Account>, AdapterError> {
        let url = format!("{}/api/plan-kont", rest.api_url);
        let resp = self
            .http
            .get(&url)
            .header(KEY_HEADER, &rest.api_key)
            .header(SECRET_HEADER, &rest.api_secret)
            .header("x-company", &self.partner.company_code)
            .timeout(self.partner.result_timeout)
            .send()
            .await
            .map_err(|e| AdapterError::transient(format!("GET {url}: {e}")))?;
        let status = resp.status().as_u16();
        let retry_after = retry_after(&resp);
        match status {
            200 => {
                let body: serde_json::Value = resp.json().await.map_err(|e| {
                    AdapterError::permanent(format!("GET {url}: the chart is not JSON: {e}"))
                })?;
                chart::from_json(&body).map_err(|e| {
                    AdapterError::permanent(format!("Optima's chart of accounts: {e}"))
                })
            }
            401 | 403 => Err(AdapterError::auth(format!(
                "Optima refused the API key or secret (GET {url} answered {status})"
            ))
            .with_status(status)),
            _ => Err(AdapterError::from_http_status(
                status,
                retry_after,
                format!("GET {url} answered {status}"),
            )),
        }
    }

    /// `GET /api/ping` with the credentials.
    async fn health_rest(&self, rest: &RestSpec) -> Result<(), AdapterError> {
        let url = format!("{}/api/ping", rest.api_url);
        let resp = self
            .http
            .get(&url)
            .header(KEY_HEADER, &rest.api_key)
            .header(SECRET_HEADER, &rest.api_secret)
            .timeout(Duration::from_secs(10))
            .send()
            .await
            .map_err(|e| AdapterError::transient(format!("cannot reach Optima at {url}: {e}")))?;
        match resp.status().as_u16() {
            200..=299 => Ok(()),
            s @ (401 | 403) => Err(AdapterError::auth(format!(
                "Optima refused the API key or secret (GET {url} answered {s})"
            ))
            .with_status(s)),
            s => Err(AdapterError::from_http_status(
                s,
                None,
                format!("GET {url} answered {s}"),
            )),
        }
    }
}

/// The offline export of the chart, read in place (the next export replaces it).
async fn accounts_xml(
    spec: &switchyard_edi_van::partners::MailboxSpec,
) -> Result<Vec<Account>, AdapterError> {
    let t = connect(spec).await?;
    if !t.exists(Folder::Inbound, chart::EXPORT_FILE).await? {
        return Err(AdapterError::transient(format!(
            "the exchange folder has no inbound/{}: Optima's export of the chart of accounts has not run yet",
            chart::EXPORT_FILE
        )));
    }
    let bytes = read_all(t.as_ref(), Folder::Inbound, chart::EXPORT_FILE).await?;
    chart::from_export(&bytes)
        .map_err(|e| AdapterError::permanent(format!("Optima's chart of accounts: {e}")))
}

/// The exchange folder is reachable and writable, and a probe file reads back the same.
async fn health_xml(spec: &switchyard_edi_van::partners::MailboxSpec) -> Result<(), AdapterError> {
    let t = connect(spec).await?;
    t.ensure_dirs().await?;
    let name = format!("probe-{}.txt", uuid::Uuid::new_v4().simple());
    let body = format!("switchyard probe {name}\n");
    // archive/ is ours: Optima's importer never picks a probe up from there.
    t.write_atomic(Folder::Archive, &name, body.as_bytes())
        .await
        .map_err(|e| {
            AdapterError::transient(format!("the exchange folder is not writable: {e}"))
        })?;
    let mut r = t.open(Folder::Archive, &name).await?;
    let back = tokio::task::spawn_blocking(move || {
        let mut s = String::new();
        r.read_to_string(&mut s).map(|_| s)
    })
    .await
    .map_err(|e| AdapterError::transient(format!("reader thread: {e}")))?
    .map_err(|e| AdapterError::transient(format!("reading the probe back: {e}")))?;
    if back != body {
        return Err(AdapterError::transient(format!(
            "the probe file {} read back different from what was written",
            t.path(Folder::Archive, &name).display()
        )));
    }
    Ok(())
}

/// `FS/12/2026` → `FS_12_2026-<id>.xml`: a plain file name on every file system and SFTP
/// server, unique per document and idempotency key.
pub fn document_file_name(number: &str, id: uuid::Uuid) -> String {
    let clean: String = number
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!("{clean}-{}.xml", id.simple())
}

fn outcome(inv: &CheckedInvoice, file: &str, r: ImportResult) -> Result<PushReceipt, AdapterError> {
    match r.outcome {
        ImportOutcome::Imported { optima_number } => Ok(PushReceipt {
            status: 201,
            external_id: Some(optima_number),
            duplicate: false,
        }),
        ImportOutcome::Rejected { reason } => Err(AdapterError::permanent(format!(
            "Optima refused invoice {} ({file}): {reason}",
            inv.number
        ))),
    }
}

#[async_trait]
impl Adapter for OptimaAdapter {
    fn kind(&self) -> &'static str {
        KIND
    }

    fn capabilities(&self) -> &[Capability] {
        &[Capability::PushInvoices, Capability::HealthCheck]
    }

    /// rest: `GET /api/ping` with the credentials. xml-exchange: the folder is reachable and
    /// writable, and a probe file written there reads back the same.
    async fn health(&self, ctx: &AdapterContext) -> Result<(), AdapterError> {
        let started = Instant::now();
        let (url, result) = match &self.partner.surface {
            Surface::Rest(rest) => (
                format!("{}/api/ping", rest.api_url),
                self.health_rest(rest).await,
            ),
            Surface::XmlExchange(spec) => ("exchange folder".to_owned(), health_xml(spec).await),
        };
        ctx.sink.record(
            ctx,
            Exchange {
                partner: self.name.clone(),
                event: "optima.health".into(),
                direction: Direction::Outbound,
                method: Some("GET".into()),
                url: Some(url),
                request_body: None,
                response_status: None,
                response_body: None,
                duration: started.elapsed(),
                error: result.as_ref().err().map(|e| e.to_string()),
            },
        );
        result
    }

    async fn push(
        &self,
        ctx: &AdapterContext,
        doc: &OutboundDocument,
    ) -> Result<PushReceipt, AdapterError> {
        let span = info_span!("optima.push", partner = %self.name, document = %doc.document);
        async {
            if !self.partner.enabled {
                return Err(AdapterError::permanent(format!(
                    "the Optima connection `{}` is disabled (enabled = false)",
                    self.name
                )));
            }
            let Payload::Json { body } = &doc.payload else {
                return Err(AdapterError::permanent(
                    "Optima takes the mapped invoice as JSON (mapping optima/invoice.out)",
                ));
            };
            let started = Instant::now();
            let checked = Faktura::from_json(body)
                .and_then(|f| f.check())
                .map_err(|e| AdapterError::permanent(e.to_string()));
            let inv = match checked {
                Ok(inv) => inv,
                Err(e) => {
                    let r = Err(e);
                    self.record(ctx, "optima.invoice", None, started, Some(body.clone()), &r);
                    return r;
                }
            };
            match &self.partner.surface {
                Surface::Rest(rest) => {
                    let r = self.push_rest(ctx, rest, &inv).await;
                    self.record(
                        ctx,
                        "optima.invoice",
                        Some(format!("{}/api/faktury", rest.api_url)),
                        started,
                        serde_json::to_value(inv.to_faktura()).ok(),
                        &r,
                    );
                    r
                }
                Surface::XmlExchange(spec) => {
                    let r = match connect(spec).await {
                        Ok(t) => self.push_xml(ctx, t.as_ref(), &inv).await,
                        Err(e) => Err(e),
                    };
                    let (file, r) = match r {
                        Ok((f, rec)) => (Some(f), Ok(rec)),
                        Err(e) => (None, Err(e)),
                    };
                    self.record(
                        ctx,
                        "optima.invoice",
                        file.map(|f| format!("outbound/{f}")),
                        started,
                        serde_json::to_value(inv.to_faktura()).ok(),
                        &r,
                    );
                    r
                }
            }
        }
        .instrument(span)
        .await
    }
}
