//! Bulk mutations for big batches: more than `bulk_threshold` products in one catalog
//! `push_batch` go as one `productSet` bulk operation instead of one call each, and more than
//! `bulk_threshold` SKUs in one prices `push_batch` as one `productVariantsBulkUpdate` bulk
//! operation, a line per product (`src/prices.rs`). [`ShopifyAdapter::run_bulk`] is the path
//! both take; what differs is the mutation and what a line's result means to its items.
//!
//! 1. The batch's variables become a JSONL file, one line per product (a product whose
//!    document cannot be built fails alone, as on the single path).
//! 2. The lines (SKU, identity, SHA-256 of the variables) are remembered (`bulk_store`) before
//!    anything is sent, then `stagedUploadsCreate` (`BULK_MUTATION_VARIABLES`), the multipart
//!    POST of the file to the staged target, `bulkOperationRunMutation` with the target's
//!    `key` as `stagedUploadPath`; the operation's gid is remembered.
//! 3. `bulkOperation(id:)` is polled every `bulk_poll_ms` (through the client, so the polls
//!    are paced by the cost bucket like any call); the `bulk_operations/finish` webhook wakes
//!    the waiter at once when it arrives first ([`BulkWaiters::finished`]).
//! 4. The result file (`url`, or `partialDataUrl` of a FAILED operation) is read as a stream,
//!    line by line: each line is kept as its line number, the identity it names and its
//!    outcome, never the file. A `productSet` line with the product is confirmed, one with
//!    userErrors (or top-level errors) is that SKU's permanent error; a
//!    `productVariantsBulkUpdate` line keeps the variants it answered and its userErrors for
//!    the prices path to settle per SKU; a line absent is not confirmed.
//! 5. Lines not confirmed (FAILED half-way, CANCELED, EXPIRED, lines missing) go again in a
//!    new operation of only those lines, up to [`RETRY_ROUNDS`] more times; then they are a
//!    transient error the sync engine retries later. Never an empty success.
//!
//! `__lineNumber`'s base is not documented, so it is not assumed: the result of `productSet`
//! selects the product's customId metafield (or handle), that of `productVariantsBulkUpdate`
//! the product's id, the identity each line was sent with, and the offset between line
//! numbers and file positions is taken from the lines that name one (0 when only refused
//! lines came back).
//!
//! Why a line is never applied twice in effect: a line is sent again only when no result
//! confirmed it; `productSet` with an `identifier` is an upsert whose list fields are
//! replace-set, and `productVariantsBulkUpdate` sets prices to values, so a line that did run
//! (its result lost with a crash) run again leaves the product exactly as the first run did.
//! A remembered operation's result is read whatever mutation it ran (the payload names it), so
//! a prices push that finds a catalog operation left running follows it (its lines match no
//! digest of the prices push and are left to the catalog sync's retry) before submitting.
//! A process that crashed while an operation ran finds it remembered and reads its result
//! instead of sending its lines again; the result confirms a current write only when the
//! digest of the variables is the same (same content).
//!
//! An operation still running after `bulk_max_wait_secs` is reported: its lines are a
//! transient error naming it (the sync is left unfinished, not counted done), and it stays
//! remembered, so the next attempt follows it instead of submitting a second. One still
//! running `bulk_cancel_after_secs` after it was created is cancelled ([`crate::bulk_cancel`])
//! and ends CANCELED like any other: what it ran is kept, the rest goes again.
//!
//! Across processes, a catalog or prices push holds the connection's lease
//! ([`crate::bulk_lease`]) in [`ShopifyAdapter::run_bulk`], from before it looks at the
//! remembered operation until its last result; the cancel is part of following an operation,
//! so it covers both mutations too.

use crate::adapter::ShopifyAdapter;
use crate::bulk_store::{InFlight, StoredLine};
use crate::client::CallError;
use crate::wire::UserError;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Instant;
use switchyard_core::adapter::{AdapterContext, BatchItem, PushReceipt};
use switchyard_core::error::AdapterError;
use tokio::sync::Notify;
use tracing::{info, warn};

/// How often lines not confirmed are sent again in a new operation within one push.
pub const RETRY_ROUNDS: usize = 2;

/// The webhook topic that says an operation ended.
pub const FINISH_TOPIC: &str = "bulk_operations/finish";

const STAGE: &str = "mutation Stage($input: [StagedUploadInput!]!) {
  stagedUploadsCreate(input: $input) { stagedTargets { url resourceUrl parameters { name value } } userErrors { field message } }
}";

const RUN: &str = "mutation Run($mutation: String!, $path: String!) {
  bulkOperationRunMutation(mutation: $mutation, stagedUploadPath: $path) { bulkOperation { id status } userErrors { field message code } }
}";

const POLL: &str = "query BulkOperation($id: ID!) {
  bulkOperation(id: $id) { id status errorCode objectCount url partialDataUrl createdAt }
}";

const CURRENT: &str = "query CurrentBulkOperation {
  currentBulkOperation(type: MUTATION) { id status createdAt }
}";

type Outcome = Result<PushReceipt, AdapterError>;

/// Wakers of the operations this process waits for, by gid.
#[derive(Debug, Default)]
pub struct BulkWaiters {
    waiters: Mutex<HashMap<String, Arc<Notify>>>,
    /// Held by a bulk push from its first look at the remembered operation to its last
    /// result: Shopify runs one bulk mutation per shop, and the sync engine may push pages
    /// concurrently; a second push would otherwise follow (and clear) the first's operation.
    turn: tokio::sync::Mutex<()>,
}

impl BulkWaiters {
    fn waiter(&self, operation: &str) -> Arc<Notify> {
        let mut map = self.waiters.lock().unwrap_or_else(|e| e.into_inner());
        map.entry(operation.to_owned()).or_default().clone()
    }

    fn forget(&self, operation: &str) {
        self.waiters
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(operation);
    }

    /// `bulk_operations/finish` for `operation` arrived: wake its waiter (a permit is kept if
    /// it is between two polls, so the wake-up is not lost).
    /// An entry is made when none waits yet: the webhook can beat the waiter's start.
    pub fn finished(&self, operation: &str) {
        self.waiter(operation).notify_one();
    }
}

/// One product of the batch as a line of the file.
#[derive(Debug, Clone)]
pub(crate) struct Line {
    /// Which slot of [`ShopifyAdapter::run_bulk`]'s answer is this line's.
    index: usize,
    stored: StoredLine,
    vars: Value,
}

impl Line {
    /// Line `index` of the file: `sku` names it in messages, `identity` is what its result
    /// names (customId value, handle or product gid).
    pub(crate) fn new(index: usize, sku: String, identity: String, vars: Value) -> Self {
        Self {
            index,
            stored: StoredLine {
                sku,
                identity,
                digest: digest(&vars),
            },
            vars,
        }
    }
}

/// What a result line said.
#[derive(Debug, Clone)]
pub(crate) enum LineResult {
    /// `productSet` ran: the product's gid.
    Confirmed(String),
    /// The whole line was refused (its userErrors, or the line's top-level errors).
    Refused(String),
    /// `productVariantsBulkUpdate` ran (`allowPartialUpdates`): the variant gids it answered
    /// and its userErrors, which name entries (`["variants", "3", "price"]`) or the whole line.
    Variants {
        answered: HashSet<String>,
        errors: Vec<UserError>,
    },
}

/// What [`ShopifyAdapter::run_bulk`] learned of a line: its result, or why there is none.
pub(crate) type LineOutcome = Result<LineResult, AdapterError>;

/// A result file, read: per line number, the identity it names and its outcome.
#[derive(Debug, Default)]
struct Report {
    lines: Vec<(i64, Option<String>, LineResult)>,
}

impl Report {
    /// File position → outcome, with the line-number base taken from lines naming their
    /// product (see the module docs).
    fn by_position(&self, file: &[StoredLine]) -> HashMap<usize, LineResult> {
        let mut first: HashMap<&str, usize> = HashMap::new();
        for (i, l) in file.iter().enumerate() {
            first.entry(l.identity.as_str()).or_insert(i);
        }
        let base = self
            .lines
            .iter()
            .find_map(|(n, identity, _)| {
                let pos = first.get(identity.as_deref()?)?;
                Some(n - *pos as i64)
            })
            .unwrap_or(0);
        self.lines
            .iter()
            .filter_map(|(n, _, r)| {
                let pos = usize::try_from(n - base).ok().filter(|p| *p < file.len())?;
                Some((pos, r.clone()))
            })
            .collect()
    }
}

/// How following an operation ended.
enum Followed {
    /// It ended; what its result file (complete or partial) confirmed.
    Ended { status: String, report: Report },
    /// Still running after the wait allowed: the error its lines get.
    Waiting(AdapterError),
}

fn digest(vars: &Value) -> String {
    let mut h = Sha256::new();
    h.update(vars.to_string().as_bytes());
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

fn finish(outcomes: Vec<Option<Outcome>>) -> Vec<Outcome> {
    outcomes
        .into_iter()
        .map(|o| o.unwrap_or_else(|| Err(AdapterError::transient("no result for this line"))))
        .collect()
}

fn confirmed(product: String) -> Outcome {
    Ok(PushReceipt {
        status: 200,
        external_id: Some(product),
        duplicate: false,
    })
}

impl ShopifyAdapter {
    /// Whether a batch goes as a bulk operation: catalog documents only, more than
    /// `bulk_threshold` of them.
    pub(crate) fn use_bulk(&self, items: &[BatchItem]) -> bool {
        items.len() > self.config().bulk_threshold as usize
            && items
                .iter()
                .all(|i| matches!(i.doc.document.as_str(), "catalog" | "product" | "products"))
    }

    /// The `productSet` mutation bulk runs: the single path's, plus the identity in the answer.
    fn bulk_mutation(&self) -> String {
        let cfg = self.config();
        let ns = serde_json::to_string(&cfg.custom_id_namespace).unwrap_or_default();
        let key = serde_json::to_string(&cfg.custom_id_key).unwrap_or_default();
        format!(
            "mutation ProductSet($input: ProductSetInput!, $identifier: ProductSetIdentifiers, $n: Int!) {{
  productSet(input: $input, identifier: $identifier, synchronous: true) {{
    product {{ id handle metafield(namespace: {ns}, key: {key}) {{ value }} variants(first: $n) {{ nodes {{ id sku inventoryItem {{ id }} }} }} }}
    userErrors {{ field message code }}
  }}
}}"
        )
    }

    /// Push a catalog batch as bulk operations: one outcome per item, in order.
    pub(crate) async fn push_bulk(
        &self,
        ctx: &AdapterContext,
        items: &[BatchItem],
    ) -> Vec<Outcome> {
        let mut outcomes: Vec<Option<Outcome>> = vec![None; items.len()];
        let mut lines = Vec::with_capacity(items.len());
        let mut skus = vec![String::new(); items.len()];
        for (index, item) in items.iter().enumerate() {
            match self.product_vars(&item.doc) {
                Ok((sku, identity, vars)) => {
                    skus[index] = sku.clone();
                    lines.push(Line::new(index, sku, identity, vars));
                }
                Err(e) => outcomes[index] = Some(Err(e)),
            }
        }
        let results = self
            .run_bulk(ctx, &self.bulk_mutation(), lines, items.len())
            .await;
        for (index, result) in results.into_iter().enumerate() {
            let Some(result) = result else { continue };
            outcomes[index] = Some(match result {
                Ok(LineResult::Confirmed(p)) => confirmed(p),
                Ok(LineResult::Refused(m)) => Err(refused(&skus[index], &m)),
                Ok(LineResult::Variants { .. }) => Err(AdapterError::transient(format!(
                    "{}: a bulk result of another mutation answered this product's line",
                    skus[index]
                ))),
                Err(e) => Err(e),
            });
        }
        finish(outcomes)
    }

    /// Run `lines` as bulk operations of `mutation`, after following one an earlier attempt
    /// left running: per slot (`Line::index`, `slots` of them), what its line's result said or
    /// why there is none; `None` for slots no line holds. Every bulk submission goes through
    /// here, so the connection's lease ([`crate::bulk_lease`]) is held here, from before the
    /// remembered operation is looked at until the last result: catalog and prices pushes of
    /// two processes take turns alike.
    pub(crate) async fn run_bulk(
        &self,
        ctx: &AdapterContext,
        mutation: &str,
        lines: Vec<Line>,
        slots: usize,
    ) -> Vec<Option<LineOutcome>> {
        let _turn = self.bulk_waiters().turn.lock().await;
        let mut outcomes: Vec<Option<LineOutcome>> = vec![None; slots];
        let lease = match self.bulk_lease(ctx).await {
            Ok(lease) => lease,
            Err(e) => {
                for l in lines {
                    outcomes[l.index] = Some(Err(e.clone()));
                }
                return outcomes;
            }
        };
        let pending = match self.resume(ctx, lines, &mut outcomes).await {
            Ok(p) => p,
            Err((e, rest)) => {
                for l in rest {
                    outcomes[l.index] = Some(Err(e.clone()));
                }
                Vec::new()
            }
        };
        self.rounds(ctx, mutation, pending, &mut outcomes).await;
        lease.release().await;
        outcomes
    }

    /// An operation remembered from an earlier attempt (this process or one that crashed):
    /// follow it to its end and take what it confirmed; the lines left to send.
    async fn resume(
        &self,
        ctx: &AdapterContext,
        lines: Vec<Line>,
        outcomes: &mut [Option<LineOutcome>],
    ) -> Result<Vec<Line>, (AdapterError, Vec<Line>)> {
        let Some(found) = self
            .bulk_store()
            .load(ctx.org, self.partner())
            .await
            .map_err(|e| (e, Vec::new()))?
        else {
            return Ok(lines);
        };
        let operation = match &found.operation {
            Some(op) => op.clone(),
            None => match self.adopt(ctx, &found).await {
                Ok(Some(op)) => op,
                Ok(None) => {
                    // Never submitted: nothing of it ran.
                    self.bulk_store()
                        .clear(ctx.org, self.partner())
                        .await
                        .map_err(|e| (e, Vec::new()))?;
                    return Ok(lines);
                }
                Err(e) => return Err((e, lines)),
            },
        };
        info!(
            operation,
            lines = found.lines.len(),
            "following the bulk operation an earlier attempt left running"
        );
        match self.follow(ctx, &operation).await {
            Ok(Followed::Ended { status, report }) => {
                let by_pos = report.by_position(&found.lines);
                // Result of each digest the operation ran.
                let mut by_digest: HashMap<&str, &LineResult> = HashMap::new();
                for (pos, r) in &by_pos {
                    by_digest.insert(found.lines[*pos].digest.as_str(), r);
                }
                let mut rest = Vec::new();
                let mut taken = 0;
                for l in lines {
                    match by_digest.get(l.stored.digest.as_str()) {
                        Some(r) => {
                            outcomes[l.index] = Some(Ok((*r).clone()));
                            taken += 1;
                        }
                        None => rest.push(l),
                    }
                }
                info!(
                    operation,
                    status,
                    taken,
                    left = rest.len(),
                    "the earlier bulk operation's result read"
                );
                self.bulk_store()
                    .clear(ctx.org, self.partner())
                    .await
                    .map_err(|e| (e, Vec::new()))?;
                Ok(rest)
            }
            Ok(Followed::Waiting(e)) | Err(e) => Err((e, lines)),
        }
    }

    /// A row without an operation id: the process stopped between remembering the lines and
    /// Shopify's answer. The shop's current bulk mutation is ours if it was created after the
    /// row (one app token per connection; Shopify runs one bulk mutation per app and shop).
    async fn adopt(
        &self,
        ctx: &AdapterContext,
        found: &InFlight,
    ) -> Result<Option<String>, AdapterError> {
        let data = self
            .client()
            .call(ctx, "currentBulkOperation", CURRENT, json!({}))
            .await
            .map_err(CallError::into_adapter)?;
        let op = &data["currentBulkOperation"];
        let created = op["createdAt"]
            .as_str()
            .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok());
        // Shopify's clock against the database's: a few seconds of slack.
        let ours = created.is_some_and(|c| {
            c.with_timezone(&chrono::Utc) >= found.created_at - chrono::Duration::seconds(5)
        });
        Ok(op["id"].as_str().filter(|_| ours).map(str::to_owned))
    }

    /// Send `pending` in new operations until every line has an outcome or the rounds end.
    async fn rounds(
        &self,
        ctx: &AdapterContext,
        mutation: &str,
        mut pending: Vec<Line>,
        outcomes: &mut [Option<LineOutcome>],
    ) {
        for round in 0..=RETRY_ROUNDS {
            if pending.is_empty() {
                return;
            }
            let file: Vec<StoredLine> = pending.iter().map(|l| l.stored.clone()).collect();
            let (operation, status, by_pos) =
                match self.one_operation(ctx, mutation, &pending, &file).await {
                    Ok(done) => done,
                    Err(e) => {
                        for l in pending {
                            outcomes[l.index] = Some(Err(e.clone()));
                        }
                        return;
                    }
                };
            let mut again = Vec::new();
            for (pos, l) in pending.into_iter().enumerate() {
                match by_pos.get(&pos) {
                    Some(r) => outcomes[l.index] = Some(Ok(r.clone())),
                    None if round < RETRY_ROUNDS => again.push(l),
                    None => {
                        outcomes[l.index] = Some(Err(AdapterError::transient(format!(
                            "{}: not confirmed by bulk operation {operation} ({status}) after {} operations",
                            l.stored.sku,
                            RETRY_ROUNDS + 1
                        ))))
                    }
                }
            }
            if !again.is_empty() {
                warn!(
                    operation,
                    status,
                    unconfirmed = again.len(),
                    round,
                    "bulk operation left lines unconfirmed; sending them again"
                );
            }
            pending = again;
        }
    }

    /// Stage, upload, run and follow one operation of `lines`: its gid, final status and
    /// outcomes by file position.
    async fn one_operation(
        &self,
        ctx: &AdapterContext,
        mutation: &str,
        lines: &[Line],
        file: &[StoredLine],
    ) -> Result<(String, String, HashMap<usize, LineResult>), AdapterError> {
        let store = self.bulk_store();
        store.begin(ctx.org, self.partner(), file).await?;
        let mut body = Vec::with_capacity(lines.len() * 512);
        for l in lines {
            body.extend_from_slice(l.vars.to_string().as_bytes());
            body.push(b'\n');
        }
        let path = match self.stage_and_upload(ctx, body).await {
            Ok(p) => p,
            Err(e) => {
                store.clear(ctx.org, self.partner()).await?;
                return Err(e);
            }
        };
        let data = self
            .client()
            .call(
                ctx,
                "bulkOperationRunMutation",
                RUN,
                json!({"mutation": mutation, "path": path}),
            )
            .await
            .map_err(CallError::into_adapter)?;
        let payload = &data["bulkOperationRunMutation"];
        let errors: Vec<UserError> =
            serde_json::from_value(payload["userErrors"].clone()).unwrap_or_default();
        let Some(operation) = payload["bulkOperation"]["id"].as_str().map(str::to_owned) else {
            store.clear(ctx.org, self.partner()).await?;
            let text = errors
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("; ");
            let busy = errors
                .iter()
                .any(|e| e.code.as_deref() == Some("OPERATION_IN_PROGRESS"));
            return Err(if busy {
                // Someone else's (or a forgotten) operation holds the shop's one slot.
                AdapterError::transient(format!("Shopify runs another bulk mutation: {text}"))
            } else {
                AdapterError::permanent(format!("Shopify refused the bulk mutation: {text}"))
                    .with_status(200)
            });
        };
        store.submitted(ctx.org, self.partner(), &operation).await?;
        info!(operation, lines = lines.len(), "bulk operation submitted");
        match self.follow(ctx, &operation).await? {
            Followed::Ended { status, report } => {
                store.clear(ctx.org, self.partner()).await?;
                Ok((operation, status, report.by_position(file)))
            }
            Followed::Waiting(e) => Err(e),
        }
    }

    /// `stagedUploadsCreate` and the multipart POST of `body`: the `stagedUploadPath`.
    async fn stage_and_upload(
        &self,
        ctx: &AdapterContext,
        body: Vec<u8>,
    ) -> Result<String, AdapterError> {
        let input = json!([{"resource": "BULK_MUTATION_VARIABLES", "filename": "vars.jsonl", "mimeType": "text/jsonl", "httpMethod": "POST"}]);
        let data = self
            .client()
            .call(ctx, "stagedUploadsCreate", STAGE, json!({"input": input}))
            .await
            .map_err(CallError::into_adapter)?;
        let target = &data["stagedUploadsCreate"]["stagedTargets"][0];
        let (Some(url), Some(params)) = (target["url"].as_str(), target["parameters"].as_array())
        else {
            return Err(AdapterError::permanent(format!(
                "Shopify gave no staged upload target: {}",
                data["stagedUploadsCreate"]["userErrors"]
            )));
        };
        let params: Vec<(String, String)> = params
            .iter()
            .filter_map(|p| {
                Some((
                    p["name"].as_str()?.to_owned(),
                    p["value"].as_str()?.to_owned(),
                ))
            })
            .collect();
        let key = params
            .iter()
            .find(|(n, _)| n == "key")
            .map(|(_, v)| v.clone())
            .ok_or_else(|| {
                AdapterError::permanent("the staged upload target has no `key` parameter")
            })?;
        let (content_type, form) = multipart(&params, &body);
        let res = self
            .http()
            .post(url)
            .header("content-type", content_type)
            .body(form)
            .send()
            .await
            .map_err(|e| AdapterError::transient(format!("uploading the bulk variables: {e}")))?;
        let status = res.status().as_u16();
        if !(200..300).contains(&status) {
            let text = res.text().await.unwrap_or_default();
            let e = format!(
                "the staged upload answered {status}: {}",
                text.chars().take(300).collect::<String>()
            );
            return Err(if status >= 500 {
                AdapterError::transient(e)
            } else {
                AdapterError::permanent(e)
            }
            .with_status(status));
        }
        Ok(key)
    }

    /// Poll `operation` (woken early by its webhook) until it ends or the wait runs out.
    async fn follow(
        &self,
        ctx: &AdapterContext,
        operation: &str,
    ) -> Result<Followed, AdapterError> {
        let cfg = self.config();
        let waiter = self.bulk_waiters().waiter(operation);
        let started = Instant::now();
        // One cancel per follow: a refused one is answered by the next poll.
        let mut cancel_sent = false;
        let result = loop {
            let data = match self
                .client()
                .call(ctx, "bulkOperation", POLL, json!({"id": operation}))
                .await
            {
                Ok(d) => d,
                Err(CallError::Adapter(e))
                    if e.class.is_retryable() && started.elapsed() < cfg.bulk_max_wait =>
                {
                    warn!(operation, error = %e.message, "polling the bulk operation failed; polling again");
                    let _ = tokio::time::timeout(cfg.bulk_poll, waiter.notified()).await;
                    continue;
                }
                Err(e) => break Err(e.into_adapter()),
            };
            let op = &data["bulkOperation"];
            let status = op["status"].as_str().unwrap_or("").to_owned();
            match status.as_str() {
                "COMPLETED" | "FAILED" | "CANCELED" | "EXPIRED" => {
                    let file = op["url"].as_str().or(op["partialDataUrl"].as_str());
                    let report = match file {
                        Some(url) => self.read_result(url).await?,
                        None => Report::default(),
                    };
                    if status != "COMPLETED" {
                        warn!(operation, status, error = ?op["errorCode"].as_str(), confirmed = report.lines.len(), "bulk operation did not complete");
                    }
                    break Ok(Followed::Ended { status, report });
                }
                "" => {
                    // Gone (results are kept 7 days): nothing of it can be confirmed.
                    break Ok(Followed::Ended {
                        status: "UNKNOWN".into(),
                        report: Report::default(),
                    });
                }
                "CREATED" | "RUNNING"
                    if !cancel_sent
                        && started.elapsed() < cfg.bulk_max_wait
                        && crate::bulk_cancel::overdue(
                            op,
                            cfg.bulk_cancel_after,
                            chrono::Utc::now(),
                        ) =>
                {
                    match self.cancel_bulk(ctx, operation).await {
                        Ok(accepted) => {
                            cancel_sent = true;
                            if !accepted {
                                // Finished meanwhile (or unknown): the next poll says which.
                                continue;
                            }
                        }
                        Err(e) => {
                            warn!(operation, error = %e.message, "cancelling the bulk operation failed; trying again at the next poll")
                        }
                    }
                    let _ = tokio::time::timeout(cfg.bulk_poll, waiter.notified()).await;
                }
                _ if started.elapsed() >= cfg.bulk_max_wait => {
                    warn!(
                        operation,
                        status,
                        waited_s = started.elapsed().as_secs(),
                        "bulk operation still running; reporting its lines unconfirmed"
                    );
                    break Ok(Followed::Waiting(AdapterError::transient(format!(
                        "bulk operation {operation} still {status} after {} s (followed again by the next attempt)",
                        started.elapsed().as_secs()
                    ))));
                }
                _ => {
                    // The poll interval, cut short by `bulk_operations/finish`.
                    let _ = tokio::time::timeout(cfg.bulk_poll, waiter.notified()).await;
                }
            }
        };
        self.bulk_waiters().forget(operation);
        result
    }

    /// Read a result file as a stream of lines.
    async fn read_result(&self, url: &str) -> Result<Report, AdapterError> {
        let fetch =
            |e: reqwest::Error| AdapterError::transient(format!("reading the bulk result: {e}"));
        let mut res = self.http().get(url).send().await.map_err(fetch)?;
        let status = res.status().as_u16();
        if !(200..300).contains(&status) {
            return Err(
                AdapterError::transient(format!("the bulk result file answered {status}"))
                    .with_status(status),
            );
        }
        let mut report = Report::default();
        let mut buf: Vec<u8> = Vec::new();
        while let Some(chunk) = res.chunk().await.map_err(fetch)? {
            buf.extend_from_slice(&chunk);
            while let Some(end) = buf.iter().position(|b| *b == b'\n') {
                let line: Vec<u8> = buf.drain(..=end).collect();
                self.result_line(&line, &mut report);
            }
        }
        self.result_line(&buf, &mut report);
        Ok(report)
    }

    fn result_line(&self, line: &[u8], report: &mut Report) {
        if line.iter().all(u8::is_ascii_whitespace) {
            return;
        }
        let Ok(v) = serde_json::from_slice::<Value>(line) else {
            warn!("a bulk result line is not JSON; its product stays unconfirmed");
            return;
        };
        let Some(n) = v["__lineNumber"].as_i64() else {
            return;
        };
        let line_errors = v["errors"]
            .as_array()
            .filter(|l| !l.is_empty())
            .map(|list| {
                list.iter()
                    .filter_map(|e| e["message"].as_str())
                    .collect::<Vec<_>>()
                    .join("; ")
            });
        // The payload names its mutation, so a remembered operation's result reads the same
        // whichever path submitted it.
        let (identity, result) = if let Some(payload) = v["data"]
            .get("productVariantsBulkUpdate")
            .filter(|p| !p.is_null())
        {
            let identity = payload["product"]["id"].as_str().map(str::to_owned);
            let answered = payload["productVariants"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|p| p["id"].as_str().map(str::to_owned))
                .collect();
            let errors = crate::adapter::user_errors(payload);
            (identity, LineResult::Variants { answered, errors })
        } else {
            let payload = &v["data"]["productSet"];
            let product = &payload["product"];
            let identity = product["metafield"]["value"]
                .as_str()
                .or(product["handle"].as_str().filter(|_| {
                    self.config().identifier == crate::config::ProductIdentifier::Handle
                }))
                .map(str::to_owned);
            let errors = crate::adapter::user_errors(payload);
            let result = if !errors.is_empty() {
                LineResult::Refused(crate::adapter::joined(&errors))
            } else if let Some(m) = line_errors {
                LineResult::Refused(m)
            } else if let Some(id) = product["id"].as_str() {
                self.remember(id, &product["variants"]["nodes"]);
                LineResult::Confirmed(id.to_owned())
            } else {
                return;
            };
            (identity, result)
        };
        report.lines.push((n, identity, result));
    }
}

fn refused(sku: &str, message: &str) -> AdapterError {
    AdapterError::permanent(format!("Shopify refused product {sku}: {message}")).with_status(200)
}

/// A `multipart/form-data` body: the target's parameters in order, then the file. Built by
/// hand because reqwest's `multipart` feature pulls mime_guess for nothing this needs; the
/// form is ten text fields and one file.
fn multipart(params: &[(String, String)], file: &[u8]) -> (String, Vec<u8>) {
    let boundary = format!("switchyard-{}", uuid::Uuid::new_v4().simple());
    let mut out = Vec::with_capacity(file.len() + 2048);
    for (name, value) in params {
        out.extend_from_slice(format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n").as_bytes());
    }
    out.extend_from_slice(
        format!("--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"vars.jsonl\"\r\nContent-Type: text/jsonl\r\n\r\n").as_bytes(),
    );
    out.extend_from_slice(file);
    out.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), out)
}
