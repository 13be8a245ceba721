//! The EDI integration's API routes, merged under `/api/v1` by the daemon: the inbox and
//! outbox ([`messages`]), sending a document ([`send`]) and reprocessing an EDI order
//! ([`orders`]).

// Handlers return `Result<_, ApiError>`, the API's one error shape; it is built once per
// failed request and turned into a response at once (see switchyard-api's crate docs).
#![allow(clippy::result_large_err)]

pub mod messages;
pub mod orders;
pub mod send;

use crate::partners::EdiPartners;
use axum::Extension;
use std::sync::Arc;
use switchyard_api::AppState;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;

#[derive(OpenApi)]
#[openapi(tags((name = "edi", description = "EDI inbox and outbox, parsed trees, validation reports, reprocessing, sending documents (read:edi, write:edi)")))]
struct EdiTags;

/// Every EDI route; `partners` are the configured EDI trading partners (`/edi/send` refuses
/// others with 422).
pub fn router(partners: Arc<EdiPartners>) -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(EdiTags::openapi())
        .merge(messages::router())
        .merge(send::router())
        .merge(orders::router())
        .layer(Extension(partners))
}
