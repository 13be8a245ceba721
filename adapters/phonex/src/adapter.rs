//! [`PhonexAdapter`]: PhoneX as an [`Adapter`] (orders pushed, the stock list pulled for
//! inventory and prices, webhooks verified, health) and as a [`Supplier`] for the supplier
//! flows (place an order, read its status, status updates from webhooks; never polled).

use crate::client::{Call, Client};
use crate::config::Validated;
use crate::webhook;
use crate::wire::{
    Order, StockPage, ACCOUNT_PATH, MAX_PER_PAGE, ORDERS_PATH, PAGE_PARAM, PER_PAGE_PARAM,
    STOCK_PATH,
};
use async_trait::async_trait;
use serde_json::Value;
use switchyard_core::adapter::{
    Adapter, AdapterContext, Capability, OutboundDocument, Payload, PullPage, PullRequest,
    PushReceipt, VerifiedWebhook,
};
use switchyard_core::ids::PartnerName;
use switchyard_core::supplier::{
    StatusUpdate, Supplier, SupplierOrderAck, SupplierOrderRef, Tracking,
};
use switchyard_core::AdapterError;

/// What PhoneX does for us. Stock and prices come from one stock list (each line carries its
/// price), pulled once per entity.
pub const CAPABILITIES: [Capability; 5] = [
    Capability::PushOrders,
    Capability::PullInventory,
    Capability::PullPrices,
    Capability::ReceiveWebhooks,
    Capability::HealthCheck,
];

/// The pull entities served by the stock list.
const STOCK_ENTITIES: [&str; 2] = ["inventory", "prices"];

#[derive(Debug)]
pub struct PhonexAdapter {
    client: Client,
}

impl PhonexAdapter {
    pub fn new(partner: PartnerName, settings: Validated, http: reqwest::Client) -> Self {
        Self {
            client: Client::new(partner, settings, http),
        }
    }

    pub fn partner(&self) -> &PartnerName {
        self.client.partner()
    }

    /// `POST /v1/orders` with the mapped order and our idempotency key.
    async fn place(
        &self,
        ctx: &AdapterContext,
        doc: &OutboundDocument,
    ) -> Result<(u16, Order, bool), AdapterError> {
        if Capability::push_for_document(&doc.document) != Some(Capability::PushOrders) {
            return Err(AdapterError::permanent(format!(
                "PhoneX takes orders only, not `{}` documents",
                doc.document
            )));
        }
        let Payload::Json { body } = &doc.payload else {
            return Err(AdapterError::permanent(
                "a PhoneX order must be JSON (map it with phonex/order.out)",
            ));
        };
        let answer = self
            .client
            .send(
                ctx,
                Call::post("phonex.order.create", vec![ORDERS_PATH], body),
            )
            .await?;
        let order = order_of(answer.body)?;
        Ok((answer.status, order, answer.replayed))
    }
}

fn order_of(body: Value) -> Result<Order, AdapterError> {
    serde_json::from_value(body).map_err(|e| {
        AdapterError::permanent(format!("PhoneX answered an order we cannot read: {e}"))
    })
}

/// The page size a pull asks for: the job's `per_page` param, else the configured one.
fn per_page(params: &Value, default: u32) -> Result<u32, AdapterError> {
    let given = match params.get(PER_PAGE_PARAM) {
        None | Some(Value::Null) => return Ok(default),
        Some(Value::Number(n)) => n.as_u64(),
        Some(Value::String(s)) => s.trim().parse().ok(),
        Some(_) => None,
    };
    given
        .and_then(|n| u32::try_from(n).ok())
        .filter(|n| (1..=MAX_PER_PAGE).contains(n))
        .ok_or_else(|| {
            AdapterError::permanent(format!(
                "pull param `{PER_PAGE_PARAM}` must be 1 to {MAX_PER_PAGE}"
            ))
        })
}

#[async_trait]
impl Adapter for PhonexAdapter {
    fn kind(&self) -> &'static str {
        crate::config::KIND
    }

    fn capabilities(&self) -> &[Capability] {
        &CAPABILITIES
    }

    async fn health(&self, ctx: &AdapterContext) -> Result<(), AdapterError> {
        self.client
            .send(ctx, Call::get("phonex.health", vec![ACCOUNT_PATH]))
            .await
            .map(|_| ())
    }

    async fn push(
        &self,
        ctx: &AdapterContext,
        doc: &OutboundDocument,
    ) -> Result<PushReceipt, AdapterError> {
        let (status, order, replayed) = self.place(ctx, doc).await?;
        Ok(PushReceipt {
            status,
            external_id: Some(order.id),
            duplicate: replayed,
        })
    }

    /// One page of the stock list; the cursor is the page number.
    async fn pull(
        &self,
        ctx: &AdapterContext,
        request: &PullRequest,
    ) -> Result<PullPage, AdapterError> {
        if !STOCK_ENTITIES.contains(&request.entity.as_str()) {
            return Err(AdapterError::permanent(format!(
                "PhoneX serves {} from its stock list, not `{}`",
                STOCK_ENTITIES.join(" and "),
                request.entity
            )));
        }
        let page: u32 = match request.cursor.as_deref() {
            None => 1,
            Some(c) => c.trim().parse().ok().filter(|p| *p >= 1).ok_or_else(|| {
                AdapterError::permanent(format!("`{c}` is not a PhoneX stock page number"))
            })?,
        };
        let per_page = per_page(&request.params, self.client.settings().page_size)?;
        let mut call = Call::get("phonex.stock.list", vec![STOCK_PATH]);
        call.query = vec![
            (PAGE_PARAM, page.to_string()),
            (PER_PAGE_PARAM, per_page.to_string()),
        ];
        let answer = self.client.send(ctx, call).await?;
        let listed: StockPage = serde_json::from_value(answer.body).map_err(|e| {
            AdapterError::permanent(format!("PhoneX answered a stock page we cannot read: {e}"))
        })?;
        // Only a later page continues the pull: a partner naming the same page again would
        // otherwise loop for ever.
        let next_cursor = listed
            .next_page
            .filter(|next| *next > page && !listed.items.is_empty())
            .map(|next| next.to_string());
        Ok(PullPage {
            records: listed.items,
            next_cursor,
        })
    }

    async fn receive_webhook(
        &self,
        _ctx: &AdapterContext,
        headers: &[(String, String)],
        body: &[u8],
    ) -> Result<VerifiedWebhook, AdapterError> {
        webhook::verify(
            &self.client.settings().webhooks,
            headers,
            body,
            chrono::Utc::now(),
        )
    }

    fn as_supplier(&self) -> Option<&dyn Supplier> {
        Some(self)
    }
}

#[async_trait]
impl Supplier for PhonexAdapter {
    async fn create_order(
        &self,
        ctx: &AdapterContext,
        doc: &OutboundDocument,
    ) -> Result<SupplierOrderAck, AdapterError> {
        let (_, order, replayed) = self.place(ctx, doc).await?;
        Ok(SupplierOrderAck {
            supplier_order_id: order.id,
            status: order.status.supplier(),
            supplier_status: order.status.as_str().to_owned(),
            replayed,
        })
    }

    async fn order_status(
        &self,
        ctx: &AdapterContext,
        order: &SupplierOrderRef,
    ) -> Result<StatusUpdate, AdapterError> {
        let answer = self
            .client
            .send(
                ctx,
                Call::get(
                    "phonex.order.get",
                    vec![ORDERS_PATH, order.supplier_order_id.as_str()],
                ),
            )
            .await?;
        let o = order_of(answer.body)?;
        Ok(StatusUpdate {
            supplier_order_id: o.id,
            order_number: Some(o.order_id),
            status: o.status.supplier(),
            supplier_status: o.status.as_str().to_owned(),
            tracking: o.tracking_number.map(|number| Tracking {
                number,
                carrier: o.carrier,
            }),
            updated_at: o.updated_at,
        })
    }

    fn polled(&self) -> bool {
        false
    }

    fn webhook_updates(&self, topic: &str, body: &[u8]) -> Result<Vec<StatusUpdate>, AdapterError> {
        webhook::status_update(topic, body).map(|u| vec![u])
    }
}
