//! `PARTNER.orders.pull` (payload `{"partner"}`): one incremental pull of a storefront's orders
//! from its stored checkpoint ([`OrderSource::pull_batch`]); each order's import is enqueued
//! (`PARTNER.order.import`, keyed by the order's id and version, so a re-pull or a webhook of
//! the same version adds nothing) in the transaction that stores the next checkpoint: the
//! checkpoint advances only with the imports committed.

use super::{import_key, Batch, ImportOrder, Storefront};
use crate::context::JobContext;
use crate::job::Job;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::HashMap;
use std::marker::PhantomData;
use std::sync::Arc;
use switchyard_core::adapter::AdapterContext;
use switchyard_core::error::AdapterError;
use switchyard_core::JobPayload;
use switchyard_store::queue::{ClaimedJob, NewJob, Queue};
use tracing::{info, Instrument};

/// A storefront whose orders are pulled: where its pull stands and how it reads a batch.
#[async_trait::async_trait]
pub trait OrderSource: Storefront {
    /// The pull's job kind (`magento.orders.pull`).
    const PULL_KIND: &'static str;
    /// The adapter's own table of checkpoints (in its migrations): `org_id`, `partner` (the
    /// key), `checkpoint` (jsonb), `pulled` (bigint, orders enqueued so far), `updated_at`.
    const CHECKPOINT_TABLE: &'static str;

    /// Where the pull stands, stored as JSON in [`Self::CHECKPOINT_TABLE`]; the default is
    /// a first pull's.
    type Checkpoint: Serialize + serde::de::DeserializeOwned + Default + Send + Sync;

    /// Every order changed since `from`, each once in its newest version, and the checkpoint
    /// to store once their imports are committed.
    async fn pull_batch(
        &self,
        ctx: &AdapterContext,
        from: &Self::Checkpoint,
    ) -> Result<Batch<Self::Checkpoint>, AdapterError>;
}

/// The pull's payload: the partner to pull.
#[derive(Serialize, Deserialize)]
// The marker carries only the kind: no bound on `S` for the payload's own (de)serializing.
#[serde(bound = "")]
pub struct PullOrders<S> {
    pub partner: String,
    #[serde(skip)]
    of: PhantomData<fn() -> S>,
}

impl<S: OrderSource> JobPayload for PullOrders<S> {
    const KIND: &'static str = S::PULL_KIND;
}

/// The pull job over the partners of one storefront kind.
pub struct OrderPullJob<S> {
    pub sources: HashMap<String, Arc<S>>,
}

fn db(what: &'static str) -> impl Fn(sqlx::Error) -> AdapterError {
    move |e| AdapterError::transient(format!("{what}: {e}"))
}

#[async_trait::async_trait]
impl<S: OrderSource> Job for OrderPullJob<S> {
    type Payload = PullOrders<S>;

    async fn run(
        &self,
        ctx: &JobContext,
        job: &ClaimedJob,
        p: PullOrders<S>,
    ) -> Result<(), AdapterError> {
        self.pull(ctx, job, &p.partner)
            .instrument(super::span(S::PULL_KIND, &p.partner, job))
            .await
    }
}

impl<S: OrderSource> OrderPullJob<S> {
    async fn pull(
        &self,
        ctx: &JobContext,
        job: &ClaimedJob,
        partner: &str,
    ) -> Result<(), AdapterError> {
        let source = self.sources.get(partner).ok_or_else(|| {
            AdapterError::permanent(format!("`{partner}` is not a {} partner", S::NAME))
        })?;
        let org = job.org_id;
        let pool = ctx.pool();
        // The table is the storefront's constant, never input: formatting it in is safe.
        let table = S::CHECKPOINT_TABLE;
        let stored: Option<Value> = sqlx::query_scalar(&format!(
            "SELECT checkpoint FROM {table} WHERE org_id = $1 AND partner = $2"
        ))
        .bind(org.0)
        .bind(partner)
        .fetch_optional(pool)
        .await
        .map_err(db("reading the order checkpoint"))?;
        let from: S::Checkpoint = match stored {
            Some(v) => serde_json::from_value(v).map_err(|e| {
                AdapterError::permanent(format!("the stored order checkpoint: {e}"))
            })?,
            None => S::Checkpoint::default(),
        };
        let batch = source.pull_batch(&ctx.adapter_context(job), &from).await?;
        let mut tx = switchyard_store::begin(pool)
            .await
            .map_err(|e| AdapterError::transient(format!("starting a transaction: {e}")))?;
        let n = batch.orders.len() as i64;
        for order in batch.orders {
            let key = import_key::<S>(
                &S::order_id(&order),
                order[S::VERSION_FIELD].as_str().unwrap_or_default(),
            );
            let payload = serde_json::to_value(ImportOrder::<S>::new(partner, order))
                .map_err(|e| AdapterError::permanent(e.to_string()))?;
            let mut import = NewJob::new(org, S::IMPORT_KIND, payload)
                .partner(partner.to_owned())
                .key(key);
            import.correlation_id = Some(job.id.to_string());
            Queue::insert_job(&mut *tx, &import, ctx.now())
                .await
                .map_err(|e| AdapterError::transient(format!("enqueueing an import: {e}")))?;
        }
        let checkpoint = serde_json::to_value(&batch.next)
            .map_err(|e| AdapterError::permanent(e.to_string()))?;
        sqlx::query(&format!(
            "INSERT INTO {table} (org_id, partner, checkpoint, pulled)
             VALUES ($1, $2, $3, $4)
             ON CONFLICT (org_id, partner) DO UPDATE
             SET checkpoint = $3, pulled = {table}.pulled + $4, updated_at = now()"
        ))
        .bind(org.0)
        .bind(partner)
        .bind(checkpoint)
        .bind(n)
        .execute(&mut *tx)
        .await
        .map_err(db("storing the order checkpoint"))?;
        tx.commit().await.map_err(db("committing the order pull"))?;
        info!(orders = n, pages = batch.pages, "{} orders pulled", S::NAME);
        Ok(())
    }
}
