//! The Shopify integration: `[partners.NAME]` tables with `kind = "shopify"` become
//! [`ShopifyAdapter`]s; the runtime's sync engine and webhook intake do the rest.

use crate::adapter::ShopifyAdapter;
use crate::config::{Settings, KIND};
use crate::order_import::{OrderImportJob, OrderWebhooks};
use crate::order_pull::OrderPullJob;
use crate::subscribe::SubscribeJob;
use std::sync::Arc;
use std::time::Duration;
use switchyard_core::adapter::Adapter;
use switchyard_core::diag::Diagnostic;
use switchyard_core::ids::PartnerName;
use switchyard_runtime::integration::{BuildContext, Integration, Parts};
use switchyard_runtime::job::{needs_nothing, JobKindSpec, PartnerRule, PartnerSource};

/// `shopify.order.import`, `shopify.orders.pull` and `shopify.webhooks.subscribe` name a configured Shopify partner in its payload.
const ORDER_RULE: PartnerRule = PartnerRule {
    source: PartnerSource::Payload("partner"),
    required: true,
    kinds: &[KIND],
    needs: needs_nothing,
};

/// One HTTP client (one connection pool) for every shop.
#[derive(Debug, Clone)]
pub struct ShopifyIntegration {
    http: reqwest::Client,
}

impl ShopifyIntegration {
    /// Fails only if the TLS backend cannot be initialised.
    pub fn new() -> Result<Self, reqwest::Error> {
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(5))
            .timeout(Duration::from_secs(60))
            // A shop moving its endpoint is a config change; a followed redirect could turn
            // the POST into a GET.
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("switchyard/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Self { http })
    }
}

impl Integration for ShopifyIntegration {
    fn name(&self) -> &'static str {
        KIND
    }

    fn partner_kinds(&self) -> &'static [&'static str] {
        &[KIND]
    }

    fn migrations(&self) -> Option<&'static sqlx::migrate::Migrator> {
        Some(&crate::order_pull::MIGRATOR)
    }

    fn build(&self, cx: &BuildContext<'_>, problems: &mut Vec<Diagnostic>) -> Parts {
        let mut parts = Parts::default();
        parts
            .jobs
            .push(JobKindSpec::typed(OrderImportJob::default()).partner(ORDER_RULE));
        let bulk_pool = bulk_pool(cx);
        let mut shops = std::collections::HashMap::new();
        for section in cx.partners(&[KIND]) {
            let settings: Settings = match section.parse() {
                Ok(s) => s,
                Err(d) => {
                    problems.push(d);
                    continue;
                }
            };
            match settings.validate(cx.secrets_for(&section)) {
                Ok(cfg) => {
                    let mut shop = ShopifyAdapter::new(
                        PartnerName(section.name.to_owned()),
                        cfg,
                        self.http.clone(),
                    );
                    if let Some(pool) = &bulk_pool {
                        shop = shop.with_bulk_store(pool.clone());
                    }
                    let shop = Arc::new(shop);
                    shops.insert(section.name.to_owned(), shop.clone());
                    let adapter: Arc<dyn Adapter> = shop;
                    parts.adapters.push((section.name.to_owned(), adapter));
                }
                Err(found) => {
                    for p in found {
                        let keys: Vec<&str> = p.keys.iter().map(String::as_str).collect();
                        problems.push(section.problem(&keys, p.message));
                    }
                }
            }
        }
        parts.jobs.push(
            JobKindSpec::typed(OrderPullJob {
                sources: shops.clone(),
            })
            .partner(ORDER_RULE),
        );
        parts.jobs.push(
            JobKindSpec::typed(SubscribeJob {
                shops: shops.clone(),
            })
            .partner(ORDER_RULE),
        );
        parts
            .webhook_processors
            .push((KIND, Arc::new(OrderWebhooks { shops })));
        parts
    }
}

/// The pool the bulk path remembers its in-flight operations in. The seam hands integrations
/// no pool at build time, so this is a small lazy one on the daemon's database (it connects on
/// first use, i.e. the first bulk push); none for `switchyard check`, which connects nowhere.
fn bulk_pool(cx: &BuildContext<'_>) -> Option<sqlx::PgPool> {
    if cx.mode != switchyard_runtime::integration::Mode::Run
        || tokio::runtime::Handle::try_current().is_err()
    {
        return None;
    }
    sqlx::postgres::PgPoolOptions::new()
        .max_connections(2)
        .acquire_timeout(Duration::from_millis(cx.config.database.acquire_timeout_ms))
        .connect_lazy(&cx.config.database.url)
        .map_err(|e| tracing::warn!(error = %e, "no database for Shopify bulk operations; in-flight ones are remembered in memory only"))
        .ok()
}
