//! The asynchronous bulk API for big batches: above the connection's `bulk_threshold`, a
//! batch's product upserts go as `POST /rest/{store}/async/bulk/V1/products` and its MSI stock
//! as `POST .../async/bulk/V1/inventory/source-items`, `bulk_batch_size` operations per request
//! (Magento slows down past 1,000 per bulk since APSB25-08). Each answer is a 202 with the
//! `bulk_uuid` and one `request_items` entry per operation (`accepted` or `rejected`); the
//! adapter then polls `GET /V1/bulk/{uuid}/status` every `bulk_poll_ms` until no operation is
//! open, and maps each operation back to its document:
//!
//! * 1 complete: confirmed;
//! * 2 failed but retriable: sent again in a new bulk, up to [`RETRY_ROUNDS`] times, then a
//!   transient error (the sync retries the item later);
//! * 3 failed, needs a change, and 5 rejected (or rejected in `request_items`): a permanent
//!   error with Magento's `result_message`, so that SKU's dead letter;
//! * 4 open after `bulk_open_timeout_secs`: a transient error saying so (no consumer is
//!   running on the store, most likely): never waited on forever, never counted as done.
//!
//! A product upsert is an update or a create by what the sync engine knows
//! (`BatchItem::presence`): a SKU the store confirmed before (`Sent`) goes as
//! `PUT .../async/bulk/V1/products/bySku` (`[{"sku", "product", "saveOptions"}]`: Magento's bulk
//! routes take a path parameter, `{sku}` here, from each element, so a SKU with `/` needs no
//! encoding), any other (`New`) as `POST .../async/bulk/V1/products` (`ProductRepository::save`
//! updates a SKU the store has after all, so a SKU created in the store by someone else is
//! fine). Updates go first: one whose operation fails because the store does not have the
//! product (deleted by an admin since it was confirmed: status 3, `NO_SUCH_PRODUCT`) is
//! [`IfMissing::Create`], sent again with the same push's creates, so it is confirmed and never
//! a dead letter for that. Tombstones are only ever for products the store was sent, so a
//! disable goes as `PUT .../async/bulk/V1/products/bySku` (`[{"sku", "product": {"sku",
//! "status": 2}}]`) and a delete as `DELETE .../async/bulk/V1/products/bySku` (`[{"sku"}]`); an
//! operation failing because the product is gone already is done ([`IfMissing::Done`]), as a
//! 404 is on the per-item path.

use crate::client::{Call, Prefixed as _};
use crate::MagentoAdapter;
use reqwest::Method;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::time::Instant;
use switchyard_core::adapter::{AdapterContext, PushReceipt};
use switchyard_core::AdapterError;
use tracing::{info, warn};

/// How often operations that failed retriably are sent again within one push.
pub const RETRY_ROUNDS: usize = 2;

/// Magento's operation states (`OperationInterface::STATUS_TYPE_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpStatus {
    Complete,
    RetriablyFailed,
    NotRetriablyFailed,
    Open,
    Rejected,
}

impl OpStatus {
    pub fn from_code(code: i64) -> Option<Self> {
        Some(match code {
            1 => Self::Complete,
            2 => Self::RetriablyFailed,
            3 => Self::NotRetriablyFailed,
            4 => Self::Open,
            5 => Self::Rejected,
            _ => return None,
        })
    }
}

/// What an operation failing because the store does not have the product means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IfMissing {
    /// A failure like any other.
    Fail,
    /// Its goal reached: a tombstone (as on the per-item path, where a 404 on disable or
    /// delete is done).
    Done,
    /// Send it again as a create: an update of a product deleted in the store since it was
    /// sent (by an admin, most likely), as the per-item path's POST after a 404.
    Create,
}

/// One operation to send: the index of its document in the batch and the service payload.
#[derive(Debug, Clone)]
pub struct Op {
    pub index: usize,
    pub sku: String,
    pub payload: Value,
    pub if_missing: IfMissing,
}

impl Op {
    /// This `bySku` update (`{"sku", "product", "saveOptions"}`) as a create for
    /// `POST .../async/bulk/V1/products` (`{"product", "saveOptions"}`).
    pub fn into_create(mut self) -> Self {
        if let Some(m) = self.payload.as_object_mut() {
            m.remove("sku");
        }
        self.if_missing = IfMissing::Fail;
        self
    }
}

/// What became of a bulk's operations.
#[derive(Debug, Default)]
pub struct Bulked {
    /// The outcome of each op by its batch index.
    pub outcomes: BTreeMap<usize, Outcome>,
    /// Updates whose product the store does not have ([`IfMissing::Create`]): to be sent
    /// again as creates; they have no outcome yet.
    pub missing: Vec<Op>,
}

/// Magento's message for a SKU it does not have (`NoSuchEntityException`), which is what a
/// bulk operation on a missing product fails with (status 3, error code 0).
const NO_SUCH_PRODUCT: &str = "The product that was requested doesn't exist";

/// What became of one operation.
type Outcome = Result<PushReceipt, AdapterError>;

fn done(status: u16) -> Outcome {
    Ok(PushReceipt {
        status,
        external_id: None,
        duplicate: false,
    })
}

impl MagentoAdapter {
    /// Send `ops` through `route` (`async/bulk/V1/...`) in bulks, follow them to the end: the
    /// outcome of each op by its batch index, and the updates to send again as creates.
    pub async fn bulk(
        &self,
        ctx: &AdapterContext,
        (method, route): (Method, &str),
        ops: Vec<Op>,
    ) -> Bulked {
        let mut outcomes = BTreeMap::new();
        let mut missing = Vec::new();
        let size = self.settings().bulk_batch_size.max(1) as usize;
        let mut pending = ops;
        for round in 0..=RETRY_ROUNDS {
            let mut retry = Vec::new();
            for chunk in pending.chunks(size) {
                for (op, result) in self.one_bulk(ctx, (method.clone(), route), chunk).await {
                    match result {
                        Err(BulkFailure::Retriable(m)) if round < RETRY_ROUNDS => {
                            info!(sku = %op.sku, message = %m, "bulk operation failed retriably; sending it again");
                            retry.push(op);
                        }
                        Err(BulkFailure::Retriable(m)) => {
                            outcomes.insert(
                                op.index,
                                Err(AdapterError::transient(format!(
                                    "{}: failed retriably {} times in Magento's bulk API: {m}",
                                    op.sku,
                                    RETRY_ROUNDS + 1
                                ))),
                            );
                        }
                        Err(BulkFailure::Final(e))
                            if op.if_missing == IfMissing::Create
                                && e.message.contains(NO_SUCH_PRODUCT) =>
                        {
                            info!(sku = %op.sku, "the store does not have the product it was sent (deleted there?); creating it");
                            missing.push(op);
                        }
                        Err(BulkFailure::Final(e))
                            if op.if_missing == IfMissing::Done
                                && e.message.contains(NO_SUCH_PRODUCT) =>
                        {
                            outcomes.insert(
                                op.index,
                                Ok(PushReceipt {
                                    status: 202,
                                    external_id: None,
                                    duplicate: true,
                                }),
                            );
                        }
                        Err(BulkFailure::Final(e)) => {
                            outcomes.insert(op.index, Err(e));
                        }
                        Ok(()) => {
                            outcomes.insert(op.index, done(202));
                        }
                    }
                }
            }
            if retry.is_empty() {
                break;
            }
            pending = retry;
        }
        Bulked { outcomes, missing }
    }

    /// One bulk request and its polling: each op with its result.
    async fn one_bulk(
        &self,
        ctx: &AdapterContext,
        (method, route): (Method, &str),
        chunk: &[Op],
    ) -> Vec<(Op, Result<(), BulkFailure>)> {
        let body = Value::Array(chunk.iter().map(|o| o.payload.clone()).collect());
        let call = Call::new("magento.bulk", method, route).body(body);
        let answer = match self.client().send(ctx, call).await {
            Ok(a) => a,
            Err(e) => {
                let e = e.prefixed("bulk request");
                return chunk
                    .iter()
                    .map(|o| (o.clone(), Err(BulkFailure::Final(e.clone()))))
                    .collect();
            }
        };
        let Some(uuid) = answer.body["bulk_uuid"].as_str().map(str::to_owned) else {
            let e = AdapterError::permanent(format!(
                "Magento's bulk answer has no bulk_uuid: {}",
                answer.body
            ));
            return chunk
                .iter()
                .map(|o| (o.clone(), Err(BulkFailure::Final(e.clone()))))
                .collect();
        };
        // Operations rejected on arrival (request_items[i].status = "rejected") never run.
        let mut results: Vec<Option<Result<(), BulkFailure>>> = vec![None; chunk.len()];
        for item in answer.body["request_items"]
            .as_array()
            .into_iter()
            .flatten()
        {
            let id = item["id"].as_u64().map(|i| i as usize);
            if let (Some(i), Some("rejected")) = (id, item["status"].as_str()) {
                if i < chunk.len() {
                    results[i] = Some(Err(BulkFailure::Final(AdapterError::permanent(format!(
                        "{}: Magento rejected the bulk operation (bulk {uuid})",
                        chunk[i].sku
                    )))));
                }
            }
        }
        let started = Instant::now();
        let poll = self.settings().bulk_poll;
        let deadline = self.settings().bulk_open_timeout;
        loop {
            let status = Call::new(
                "magento.bulk_status",
                Method::GET,
                format!("V1/bulk/{uuid}/status"),
            );
            let list = match self.client().send(ctx, status).await {
                Ok(a) => a.body["operations_list"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default(),
                Err(e) => {
                    // The bulk was accepted; whether it ran is unknown: retry the items later.
                    let e = AdapterError::transient(format!(
                        "bulk {uuid} accepted but its status could not be read: {e}"
                    ));
                    return fill(chunk, results, |_| Err(BulkFailure::Final(e.clone())));
                }
            };
            for op in &list {
                let Some(i) = op["id"]
                    .as_u64()
                    .map(|i| i as usize)
                    .filter(|i| *i < chunk.len())
                else {
                    continue;
                };
                if results[i].is_some() {
                    continue;
                }
                let message = op["result_message"].as_str().unwrap_or("").to_owned();
                let sku = &chunk[i].sku;
                match op["status"].as_i64().and_then(OpStatus::from_code) {
                    Some(OpStatus::Complete) => results[i] = Some(Ok(())),
                    Some(OpStatus::RetriablyFailed) => {
                        results[i] = Some(Err(BulkFailure::Retriable(message)))
                    }
                    Some(OpStatus::NotRetriablyFailed) | Some(OpStatus::Rejected) => {
                        results[i] = Some(Err(BulkFailure::Final(AdapterError::permanent(
                            format!("{sku}: Magento's bulk operation failed: {message}"),
                        ))))
                    }
                    Some(OpStatus::Open) | None => {}
                }
            }
            let missing = results.iter().filter(|r| r.is_none()).count();
            if missing == 0 {
                break;
            }
            if started.elapsed() >= deadline {
                warn!(bulk = %uuid, open = missing, "bulk operations still open; is the store's async.operations.all consumer running?");
                let waited = started.elapsed().as_secs();
                let of = chunk.len();
                return fill(chunk, results, |o| {
                    Err(BulkFailure::Final(AdapterError::transient(format!(
                        "{}: bulk {uuid} operation still open after {waited} s ({missing} of its {of} operations open; is the store's async.operations.all consumer running?)",
                        o.sku
                    ))))
                });
            }
            // Polling the store's own record of the operations, with a deadline.
            tokio::time::sleep(poll).await;
        }
        // Every operation has its result here (the loop ends when none is missing).
        fill(chunk, results, |_| Ok(()))
    }

    /// Whether a batch of `n` documents goes through the bulk API (the connection's
    /// `bulk_threshold`).
    pub(crate) fn use_bulk(&self, n: usize) -> bool {
        n >= self.settings().bulk_threshold as usize
    }
}

/// Each op with its result, `missing` for those without one.
fn fill(
    chunk: &[Op],
    results: Vec<Option<Result<(), BulkFailure>>>,
    missing: impl Fn(&Op) -> Result<(), BulkFailure>,
) -> Vec<(Op, Result<(), BulkFailure>)> {
    chunk
        .iter()
        .zip(results)
        .map(|(o, r)| (o.clone(), r.unwrap_or_else(|| missing(o))))
        .collect()
}

#[derive(Debug, Clone)]
enum BulkFailure {
    Retriable(String),
    Final(AdapterError),
}

/// The bulk payload of a product upsert document.
pub fn product_payload(product: Value) -> Value {
    json!({"product": product, "saveOptions": true})
}
