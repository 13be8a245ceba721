//! [`WesellAdapter`]: WesellCellular as a partner (stock and prices pulled, orders pushed,
//! health) and as a [`Supplier`] (orders placed and polled through the status machine).

use crate::client::{Call, Client};
use crate::config::{settings, KIND};
use crate::{stock, supplier, wire};
use async_trait::async_trait;
use reqwest::Method;
use switchyard_core::adapter::{
    Adapter, AdapterContext, Capability, ConfigError, OutboundDocument, PullPage, PullRequest,
    PushReceipt, SecretResolver,
};
use switchyard_core::ids::PartnerName;
use switchyard_core::supplier::{
    StatusChanges, StatusUpdate, Supplier, SupplierOrderAck, SupplierOrderRef,
};
use switchyard_core::AdapterError;

/// What the adapter does. Orders are pushed (`partner.push` of an `order` places a sales
/// order, the same call as [`Supplier::create_order`]); no webhooks exist.
const CAPABILITIES: &[Capability] = &[
    Capability::PullInventory,
    Capability::PullPrices,
    Capability::PushOrders,
    Capability::HealthCheck,
];

#[derive(Debug)]
pub struct WesellAdapter {
    client: Client,
}

impl WesellAdapter {
    pub fn from_json(
        partner: &PartnerName,
        config: &serde_json::Value,
        secrets: &dyn SecretResolver,
        http: reqwest::Client,
    ) -> Result<Self, ConfigError> {
        let settings = settings(partner, config, secrets)?;
        Ok(Self {
            client: Client::new(partner.clone(), settings, http),
        })
    }

    pub fn client(&self) -> &Client {
        &self.client
    }
}

#[async_trait]
impl Adapter for WesellAdapter {
    fn kind(&self) -> &'static str {
        KIND
    }

    fn capabilities(&self) -> &[Capability] {
        CAPABILITIES
    }

    /// A token and an authenticated read of the account.
    async fn health(&self, ctx: &AdapterContext) -> Result<(), AdapterError> {
        self.client
            .send(
                ctx,
                Call::new("wesellcellular.health", Method::GET, wire::USER_INFO_PATH),
            )
            .await
            .map(|_| ())
    }

    async fn push(
        &self,
        ctx: &AdapterContext,
        doc: &OutboundDocument,
    ) -> Result<PushReceipt, AdapterError> {
        if Capability::push_for_document(&doc.document) != Some(Capability::PushOrders) {
            return Err(AdapterError::permanent(format!(
                "WesellCellular takes orders only, not `{}` documents",
                doc.document
            )));
        }
        let ack = supplier::create_order(&self.client, ctx, doc).await?;
        Ok(PushReceipt {
            status: if ack.replayed { 200 } else { 201 },
            external_id: Some(ack.supplier_order_id),
            duplicate: ack.replayed,
        })
    }

    async fn pull(
        &self,
        ctx: &AdapterContext,
        request: &PullRequest,
    ) -> Result<PullPage, AdapterError> {
        stock::pull(&self.client, ctx, request).await
    }

    fn as_supplier(&self) -> Option<&dyn Supplier> {
        Some(self)
    }
}

#[async_trait]
impl Supplier for WesellAdapter {
    async fn create_order(
        &self,
        ctx: &AdapterContext,
        doc: &OutboundDocument,
    ) -> Result<SupplierOrderAck, AdapterError> {
        supplier::create_order(&self.client, ctx, doc).await
    }

    async fn order_status(
        &self,
        ctx: &AdapterContext,
        order: &SupplierOrderRef,
    ) -> Result<StatusUpdate, AdapterError> {
        supplier::order_status(&self.client, ctx, order).await
    }

    fn polled(&self) -> bool {
        true
    }

    async fn status_changes(
        &self,
        ctx: &AdapterContext,
        cursor: Option<&str>,
    ) -> Result<StatusChanges, AdapterError> {
        supplier::status_changes(&self.client, ctx, cursor).await
    }
}
