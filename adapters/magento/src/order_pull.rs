//! `magento.orders.pull` (payload `{"partner"}`): one incremental pull of a store's orders
//! from its stored checkpoint ([`crate::orders`]); each order's import is enqueued
//! (`magento.order.import`, keyed by entity_id and `updated_at`, so a re-pull of the same
//! version adds nothing) in the transaction that stores the next checkpoint: the checkpoint
//! advances only with the imports committed. Scheduled by `schedules/magento-orders-pull.toml`
//! (disabled as shipped: name the partner and enable it).

use crate::order_import::ImportOrder;
use crate::orders::{Checkpoint, PAGE_SIZE};
use crate::MagentoAdapter;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::HashMap;
use std::sync::Arc;
use switchyard_core::error::AdapterError;
use switchyard_core::JobPayload;
use switchyard_runtime::context::JobContext;
use switchyard_runtime::job::Job;
use switchyard_store::queue::{ClaimedJob, NewJob, Queue};
use tracing::{info, info_span, Instrument};

/// The adapter's migrations (versions 1300-1399).
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PullOrders {
    pub partner: String,
}

impl JobPayload for PullOrders {
    const KIND: &'static str = "magento.orders.pull";
}

pub struct OrderPullJob {
    pub stores: HashMap<String, Arc<MagentoAdapter>>,
}

fn db(what: &'static str) -> impl Fn(sqlx::Error) -> AdapterError {
    move |e| AdapterError::transient(format!("{what}: {e}"))
}

/// The import's idempotency key: one job per order version.
pub fn import_key(order: &Value) -> String {
    format!(
        "{}:{}@{}",
        ImportOrder::KIND,
        order["entity_id"],
        order["updated_at"].as_str().unwrap_or_default()
    )
}

#[async_trait::async_trait]
impl Job for OrderPullJob {
    type Payload = PullOrders;

    async fn run(
        &self,
        ctx: &JobContext,
        job: &ClaimedJob,
        p: PullOrders,
    ) -> Result<(), AdapterError> {
        let span = info_span!("magento.orders.pull", partner = %p.partner, job = %job.id);
        async {
            let store = self.stores.get(&p.partner).ok_or_else(|| {
                AdapterError::permanent(format!("`{}` is not a Magento partner", p.partner))
            })?;
            let org = job.org_id;
            let pool = ctx.pool();
            let stored: Option<Value> = sqlx::query_scalar(
                "SELECT checkpoint FROM magento_order_pulls WHERE org_id = $1 AND partner = $2",
            )
            .bind(org.0)
            .bind(&p.partner)
            .fetch_optional(pool)
            .await
            .map_err(db("reading the order checkpoint"))?;
            let from: Checkpoint = match stored {
                Some(v) => serde_json::from_value(v).map_err(|e| {
                    AdapterError::permanent(format!("the stored order checkpoint: {e}"))
                })?,
                None => Checkpoint::default(),
            };
            let batch = store
                .pull_orders(&ctx.adapter_context(job), &from, PAGE_SIZE)
                .await?;
            let mut tx = switchyard_store::begin(pool)
                .await
                .map_err(|e| AdapterError::transient(format!("starting a transaction: {e}")))?;
            let n = batch.orders.len() as i64;
            for order in batch.orders {
                let key = import_key(&order);
                let payload = serde_json::to_value(ImportOrder {
                    partner: p.partner.clone(),
                    order,
                })
                .map_err(|e| AdapterError::permanent(e.to_string()))?;
                let mut import = NewJob::new(org, ImportOrder::KIND, payload)
                    .partner(p.partner.clone())
                    .key(key);
                import.correlation_id = Some(job.id.to_string());
                Queue::insert_job(&mut *tx, &import, ctx.now())
                    .await
                    .map_err(|e| AdapterError::transient(format!("enqueueing an import: {e}")))?;
            }
            let checkpoint = serde_json::to_value(&batch.next)
                .map_err(|e| AdapterError::permanent(e.to_string()))?;
            sqlx::query(
                "INSERT INTO magento_order_pulls (org_id, partner, checkpoint, pulled)
                 VALUES ($1, $2, $3, $4)
                 ON CONFLICT (org_id, partner) DO UPDATE
                 SET checkpoint = $3, pulled = magento_order_pulls.pulled + $4, updated_at = now()",
            )
            .bind(org.0)
            .bind(&p.partner)
            .bind(checkpoint)
            .bind(n)
            .execute(&mut *tx)
            .await
            .map_err(db("storing the order checkpoint"))?;
            tx.commit().await.map_err(db("committing the order pull"))?;
            info!(orders = n, pages = batch.pages, "Magento orders pulled");
            Ok(())
        }
        .instrument(span)
        .await
    }
}
