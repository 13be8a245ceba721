//! `magento.orders.pull` (payload `{"partner"}`): one incremental pull of a store's orders
//! from its stored checkpoint ([`crate::orders`]); each order's import is enqueued
//! (`magento.order.import`, keyed by entity_id and `updated_at`, so a re-pull of the same
//! version adds nothing) in the transaction that stores the next checkpoint: the checkpoint
//! advances only with the imports committed. Scheduled by `schedules/magento-orders-pull.toml`
//! (disabled as shipped: name the partner and enable it). The job is the runtime's
//! ([`switchyard_runtime::storefront_orders::pull`]); this module brings Magento's part.

use crate::orders::{Batch, Checkpoint, PAGE_SIZE};
use crate::MagentoAdapter;
use switchyard_core::adapter::AdapterContext;
use switchyard_core::error::AdapterError;
use switchyard_runtime::storefront_orders::{self as storefront, OrderSource};

/// The adapter's migrations (versions 1300-1399).
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

pub type OrderPullJob = storefront::OrderPullJob<MagentoAdapter>;

#[async_trait::async_trait]
impl OrderSource for MagentoAdapter {
    const PULL_KIND: &'static str = "magento.orders.pull";
    const CHECKPOINT_TABLE: &'static str = "magento_order_pulls";
    type Checkpoint = Checkpoint;

    async fn pull_batch(
        &self,
        ctx: &AdapterContext,
        from: &Checkpoint,
    ) -> Result<Batch, AdapterError> {
        self.pull_orders(ctx, from, PAGE_SIZE).await
    }
}
