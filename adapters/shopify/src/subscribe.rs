//! `shopify.webhooks.subscribe` (payload `{"partner"}`): the shop's webhook subscriptions for
//! `webhooks.topics` to `webhooks.callback_url`. The existing subscriptions are listed
//! (`webhookSubscriptions`, paged) and only the missing topics are created
//! (`webhookSubscriptionCreate`), so running it again changes nothing.
//!
//! A job rather than a step at startup: building the partner must not call Shopify (`check`
//! and a daemon start must not hang or fail on a shop being unreachable), a job gets the
//! queue's retries, dead letter and integration log, and Shopify deletes a subscription after
//! repeated failed deliveries, so the same idempotent job scheduled
//! (`schedules/shopify-webhooks-subscribe.toml`) puts it back.

use crate::client::CallError;
use crate::config::topic_enum;
use crate::ShopifyAdapter;
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::collections::HashMap;
use std::sync::Arc;
use switchyard_core::adapter::AdapterContext;
use switchyard_core::error::AdapterError;
use switchyard_core::JobPayload;
use switchyard_runtime::context::JobContext;
use switchyard_runtime::job::Job;
use switchyard_store::queue::ClaimedJob;
use tracing::{info, info_span, Instrument};

const LIST: &str = "query Subscriptions($after: String) {
  webhookSubscriptions(first: 100, after: $after) { nodes { id topic uri } pageInfo { hasNextPage endCursor } }
}";

const CREATE: &str =
    "mutation Subscribe($topic: WebhookSubscriptionTopic!, $sub: WebhookSubscriptionInput!) {
  webhookSubscriptionCreate(topic: $topic, webhookSubscription: $sub) {
    webhookSubscription { id topic uri }
    userErrors { field message }
  }
}";

/// What a subscribe run found and did (topics in Shopify's `ORDERS_CREATE` form).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Subscribed {
    pub existing: Vec<String>,
    pub created: Vec<String>,
}

impl ShopifyAdapter {
    /// Subscribe every configured topic not yet subscribed to the callback URL.
    pub async fn subscribe_webhooks(
        &self,
        ctx: &AdapterContext,
    ) -> Result<Subscribed, AdapterError> {
        let hooks = self.config().webhooks.as_ref();
        let url = hooks.and_then(|w| w.callback_url.clone()).ok_or_else(|| {
            AdapterError::permanent(
                "no webhooks.callback_url in the partner's config: nothing to subscribe",
            )
        })?;
        let topics = hooks.map(|w| w.topics.clone()).unwrap_or_default();
        let mut have: Vec<(String, String)> = Vec::new();
        let mut after: Option<String> = None;
        loop {
            let data = self
                .client()
                .call(ctx, "webhookSubscriptions", LIST, json!({"after": after}))
                .await
                .map_err(CallError::into_adapter)?;
            let page = &data["webhookSubscriptions"];
            for n in page["nodes"].as_array().into_iter().flatten() {
                if let (Some(t), Some(u)) = (n["topic"].as_str(), n["uri"].as_str()) {
                    have.push((t.to_owned(), u.to_owned()));
                }
            }
            match page["pageInfo"]["endCursor"].as_str() {
                Some(c) if page["pageInfo"]["hasNextPage"].as_bool() == Some(true) => {
                    after = Some(c.to_owned())
                }
                _ => break,
            }
        }
        let mut done = Subscribed::default();
        let mut refused = Vec::new();
        for topic in topics.iter().map(|t| topic_enum(t)) {
            if have.iter().any(|(t, u)| *t == topic && *u == url) {
                done.existing.push(topic);
                continue;
            }
            let data = self
                .client()
                .call(
                    ctx,
                    "webhookSubscriptionCreate",
                    CREATE,
                    json!({"topic": topic, "sub": {"uri": url, "format": "JSON"}}),
                )
                .await
                .map_err(CallError::into_adapter)?;
            let payload = &data["webhookSubscriptionCreate"];
            let errors = crate::adapter::user_errors(payload);
            if errors.is_empty() {
                info!(topic, "Shopify webhook subscribed");
                done.created.push(topic);
            } else if errors
                .iter()
                .all(|e| e.message.contains("already been taken"))
            {
                // Made by someone else since the listing: the wanted state.
                done.existing.push(topic);
            } else {
                refused.push(format!("{topic}: {}", crate::adapter::joined(&errors)));
            }
        }
        if !refused.is_empty() {
            return Err(AdapterError::permanent(format!(
                "Shopify refused webhook subscriptions to {url}: {}",
                refused.join("; ")
            ))
            .with_status(200));
        }
        Ok(done)
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SubscribeWebhooks {
    pub partner: String,
}

impl JobPayload for SubscribeWebhooks {
    const KIND: &'static str = "shopify.webhooks.subscribe";
}

pub struct SubscribeJob {
    pub shops: HashMap<String, Arc<ShopifyAdapter>>,
}

#[async_trait::async_trait]
impl Job for SubscribeJob {
    type Payload = SubscribeWebhooks;

    async fn run(
        &self,
        ctx: &JobContext,
        job: &ClaimedJob,
        p: SubscribeWebhooks,
    ) -> Result<(), AdapterError> {
        let span = info_span!("shopify.webhooks.subscribe", partner = %p.partner, job = %job.id);
        async {
            let shop = self.shops.get(&p.partner).ok_or_else(|| {
                AdapterError::permanent(format!("`{}` is not a Shopify partner", p.partner))
            })?;
            let done = shop.subscribe_webhooks(&ctx.adapter_context(job)).await?;
            info!(
                existing = done.existing.len(),
                created = done.created.len(),
                "Shopify webhook subscriptions in place"
            );
            Ok::<_, AdapterError>(())
        }
        .instrument(span)
        .await
    }
}
