//! `POST /api/v1/edi/send` (`write:edi`): an outbound document to a configured EDI partner,
//! built by the worker's `edi.send` job.

use crate::jobs::{DocumentKind as EdiDocumentKind, SendDocument};
use crate::partners::EdiPartners;
use crate::scopes::WriteEdi;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::Extension;
use serde::Deserialize;
use serde_json::{json, Value};
use std::sync::Arc;
use switchyard_api::error::{ApiError, ApiJson, ErrorBody, ErrorCode};
use switchyard_api::responses::{BadRequest, UnsupportedMediaType};
use switchyard_api::routes::jobs::{enqueued_response, idempotency_key, IdempotencyKey, JobView};
use switchyard_api::{AppState, Scoped};
use switchyard_core::ids::{JobKind, OrderId, OrgId, PartnerName};
use switchyard_core::model::{Invoice, Order, Shipment};
use switchyard_core::JobPayload;
use switchyard_store::queue::NewJob;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(send_document))
}

/// What to send to whom.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SendEdiDocument {
    /// A configured EDI trading partner.
    pub partner: String,
    #[schema(value_type = EdiDocumentKind)]
    pub document: EdiDocumentKind,
    /// The canonical entity: an order (`order_response`), a shipment (`ship_notice`) or an
    /// invoice (`invoice`). An order response may name a stored order with `order_id` instead.
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub entity: Option<Value>,
    /// The order shipped or invoiced (`ship_notice`, required there unless `order_id` names it;
    /// optional for an `invoice`): the buyer's purchase order number and date are taken from it
    /// (856 PRF, DESADV/INVOIC RFF+ON, 810 BIG03/04) where the entity carries none.
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub order: Option<Value>,
    /// A stored order (GET /api/v1/orders): the entity of an `order_response`, or the order
    /// of a `ship_notice` or an `invoice`.
    #[serde(default)]
    #[schema(value_type = Option<String>, format = Uuid)]
    pub order_id: Option<OrderId>,
}

/// The canonical order stored under `id` in the caller's organization.
async fn stored_order(app: &AppState, org: OrgId, id: OrderId) -> Result<Value, ApiError> {
    switchyard_store::orders::get(&app.api.pool, org, id)
        .await?
        .map(|row| row.canonical)
        .ok_or_else(|| {
            ApiError::new(ErrorCode::NotFound, format!("no order {id}"))
                .with_details(json!({"field": "order_id"}))
        })
}

/// A canonical entity that does not deserialize is refused before anything is enqueued.
fn check_entity<T: serde::de::DeserializeOwned>(
    v: &Value,
    field: &str,
    what: &str,
) -> Result<(), ApiError> {
    serde_json::from_value::<T>(v.clone())
        .map(|_| ())
        .map_err(|e| {
            ApiError::validation(format!("{field} is not a canonical {what}: {e}"))
                .with_details(json!({"field": field}))
        })
}

/// Send an outbound EDI document (855/ORDRSP, 856/DESADV, 810/INVOIC) to a configured partner:
/// enqueues an `edi.send` job and answers 202 with it; the worker generates the document
/// through its mapping file, with the partner's control numbers, and delivers it. With an
/// `Idempotency-Key` header, sending with the same key again returns the job already enqueued
/// (header `Idempotent-Replayed: true`) instead of sending twice.
#[utoipa::path(post, path = "/edi/send", tag = "edi", request_body = SendEdiDocument,
    params(IdempotencyKey),
    responses(
        (status = 202, description = "the edi.send job (new, or the one already enqueued with this Idempotency-Key)", body = JobView),
        (status = 400, response = BadRequest),
        (status = 404, description = "`order_id` names no stored order", body = ErrorBody),
        (status = 415, response = UnsupportedMediaType),
        (status = 422, description = "unknown partner (`unknown_partner`), a missing `entity` or `order`, or an entity that is not canonical", body = ErrorBody)
    ))]
async fn send_document(
    State(app): State<AppState>,
    Extension(partners): Extension<Arc<EdiPartners>>,
    Scoped(auth, _): Scoped<WriteEdi>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<SendEdiDocument>,
) -> Result<Response, ApiError> {
    let key = idempotency_key(&headers)?;
    let partner = body.partner.trim();
    if partners.get(partner).is_none() {
        let names = partners.names();
        return Err(ApiError::new(
            ErrorCode::UnknownPartner,
            format!(
                "unknown EDI partner `{partner}` (configured: {})",
                if names.is_empty() {
                    "none".to_string()
                } else {
                    names.join(", ")
                }
            ),
        )
        .with_details(json!({"partner": partner, "known": names})));
    }
    let SendEdiDocument {
        document,
        entity,
        mut order,
        order_id,
        ..
    } = body;
    let missing = |field: &str, why: &str| {
        ApiError::validation(why.to_string()).with_details(json!({"field": field}))
    };
    use EdiDocumentKind::{Invoice as Inv, OrderResponse as Rsp, ShipNotice as Asn};
    let entity = match (document, entity, order_id) {
        (_, Some(e), None) => e,
        (Rsp, None, Some(id)) => stored_order(&app, auth.org, id).await?,
        // The stored order of a ship notice or an invoice: the buyer's PO reference (and the
        // 856/DESADV order level) come from it.
        (Asn | Inv, Some(e), Some(id)) if order.is_none() => {
            order = Some(stored_order(&app, auth.org, id).await?);
            e
        }
        (Rsp | Asn | Inv, Some(_), Some(_)) => {
            return Err(missing(
                "order_id",
                "`order_id` stands for an order response's entity, or for a ship notice's or an invoice's `order`; not beside them",
            ))
        }
        (_, None, _) => {
            return Err(missing(
                "entity",
                "`entity` is required (an order response may name a stored order with `order_id`)",
            ))
        }
    };
    match document {
        EdiDocumentKind::OrderResponse => check_entity::<Order>(&entity, "entity", "order")?,
        EdiDocumentKind::Invoice => {
            check_entity::<Invoice>(&entity, "entity", "invoice")?;
            if let Some(order) = &order {
                check_entity::<Order>(order, "order", "order")?;
            }
        }
        EdiDocumentKind::ShipNotice => {
            check_entity::<Shipment>(&entity, "entity", "shipment")?;
            let order = order.as_ref().ok_or_else(|| {
                missing(
                    "order",
                    "a ship_notice needs the shipment's `order` (or `order_id`)",
                )
            })?;
            check_entity::<Order>(order, "order", "order")?;
        }
    }
    let payload = json!(SendDocument {
        partner: partner.to_owned(),
        document,
        entity,
        order,
    });
    let retry = app
        .api
        .admission
        .admit(SendDocument::KIND, Some(partner), &payload)
        .map_err(|r| ApiError::new(r.code, r.message).with_details(r.details))?;
    let enqueued = app
        .api
        .queue
        .enqueue(NewJob {
            org: auth.org,
            kind: JobKind::from(SendDocument::KIND),
            partner: Some(PartnerName::from(partner)),
            payload,
            idempotency_key: key,
            retry,
            run_at: None,
            correlation_id: None,
        })
        .await?;
    Ok(enqueued_response(
        &app.masker,
        StatusCode::ACCEPTED,
        enqueued,
    ))
}
