//! `shopify.orders.pull` (payload `{"partner"}`): one incremental pull of a shop's orders
//! from its stored checkpoint ([`crate::orders`]); each order's import is enqueued
//! (`shopify.order.import`, keyed by id and `updatedAt`, so a webhook of the same version or
//! a re-pull adds nothing) in the transaction that stores the next checkpoint: the
//! checkpoint advances only with the orders committed. Schedule it like any job. The job is
//! the runtime's ([`switchyard_runtime::storefront_orders::pull`]); this module brings
//! Shopify's part.

use crate::orders::{Batch, Checkpoint, PAGE_SIZE};
use crate::ShopifyAdapter;
use switchyard_core::adapter::AdapterContext;
use switchyard_core::error::AdapterError;
use switchyard_runtime::storefront_orders::{self as storefront, OrderSource};

pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

pub type OrderPullJob = storefront::OrderPullJob<ShopifyAdapter>;

#[async_trait::async_trait]
impl OrderSource for ShopifyAdapter {
    const PULL_KIND: &'static str = "shopify.orders.pull";
    const CHECKPOINT_TABLE: &'static str = "shopify_order_pulls";
    type Checkpoint = Checkpoint;

    async fn pull_batch(
        &self,
        ctx: &AdapterContext,
        from: &Checkpoint,
    ) -> Result<Batch, AdapterError> {
        self.pull_orders(ctx, from, PAGE_SIZE).await
    }
}
