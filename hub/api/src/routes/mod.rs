//! Route groups. Each handler carries its `#[utoipa::path]` and is registered with
//! `routes!`, so the router and the OpenAPI document are built from the same list.

pub mod catalog;
pub mod dead_letters;
pub mod events;
pub mod exports;
pub mod health;
pub mod imports;
pub mod imports_form;
pub mod imports_v1;
pub mod inventory;
pub mod invoices;
pub mod jobs;
pub mod keys;
pub mod logs;
pub mod low_stock;
pub mod notifications;
pub mod order_create;
pub mod order_status;
pub mod orders;
pub mod pricing;
pub mod pricing_deletes;
pub mod pricing_writes;
pub mod pulls;
pub mod retry;
pub mod shipments;
pub mod supplier_orders;
pub mod syncs;
pub mod webhook_endpoints;
pub mod webhooks;

use crate::state::AppState;
use utoipa_axum::router::OpenApiRouter;

/// Routes that need an API key.
pub(crate) fn protected() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .merge(keys::router())
        .merge(logs::router())
        .merge(jobs::router())
        .merge(retry::router())
        .merge(dead_letters::router())
        .merge(orders::router())
        .merge(order_status::router())
        .merge(shipments::router())
        .merge(invoices::router())
        .merge(supplier_orders::router())
        .merge(pricing::router())
        .merge(pricing_writes::router())
        .merge(pricing_deletes::router())
        .merge(catalog::router())
        .merge(imports::router())
        .merge(imports_v1::router())
        .merge(exports::router())
        .merge(inventory::router())
        .merge(low_stock::router())
        .merge(syncs::router())
        .merge(pulls::router())
        .merge(events::router())
        .merge(webhook_endpoints::router())
        .merge(notifications::router())
}

/// Routes under `/api/v1` that need no key (the document describing the API).
pub(crate) fn public_v1() -> OpenApiRouter<AppState> {
    health::v1_router().merge(notifications::public_router())
}

/// `/healthz`, `/readyz`, `/metrics`: outside `/api/v1`, no key, not rate limited.
pub(crate) fn health() -> OpenApiRouter<AppState> {
    health::router()
}

/// `/webhooks/{partner}`: outside `/api/v1`, no key (the partner's adapter checks the signature).
pub(crate) fn webhooks() -> OpenApiRouter<AppState> {
    webhooks::router()
}
