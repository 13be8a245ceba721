//! The domain events of the outbox (`read:webhooks`): what happened, newest first, filtered
//! by type and time, in keyset pages; and the replay of one event to every endpoint subscribed
//! to it (`write:webhooks`). Only the caller's organization's.

use crate::auth::{ReadWebhooks, Scoped, WriteWebhooks};
use crate::error::{ApiError, ApiPath, ApiQuery, ErrorBody};
use crate::outbound::check_patterns;
use crate::paging::page_limit;
use crate::responses::{BadRequest, NotFound};
use crate::routes::webhook_endpoints::Redeliveries;
use crate::schemas;
use crate::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use switchyard_core::ids::{EventId, OrgId};
use switchyard_store::cursor;
use switchyard_store::events::{self, EventFilter, EventRow};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_events))
        .routes(routes!(get_event))
        .routes(routes!(replay_event))
}

/// One domain event. `data`'s schema depends on `type` (see `ProductEventData`,
/// `InventoryEventData`, `PriceEventData`, `OrderEventData`, `DeadLetterEventData`,
/// `BomEventData`, `ExportEventData`, `ShipmentEventData`, `InvoiceEventData`).
#[derive(Debug, Serialize, ToSchema)]
pub struct EventView {
    /// Time-sortable (UUIDv7); the `webhook-id` of its deliveries.
    #[schema(value_type = uuid::Uuid)]
    pub id: EventId,
    #[serde(rename = "type")]
    #[schema(value_type = crate::outbound::EventType)]
    pub event_type: String,
    #[schema(value_type = uuid::Uuid)]
    pub org_id: OrgId,
    pub occurred_at: DateTime<Utc>,
    #[schema(value_type = Object)]
    pub data: Value,
}

impl From<EventRow> for EventView {
    fn from(e: EventRow) -> Self {
        Self {
            id: e.id,
            event_type: e.event_type,
            org_id: e.org_id,
            occurred_at: e.occurred_at,
            data: e.data,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct EventPage {
    pub items: Vec<EventView>,
    /// Pass as `cursor` for the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct EventQuery {
    /// An event type, or a family (`order.*`), or `*`.
    #[serde(rename = "type")]
    #[param(rename = "type", schema_with = schemas::event_pattern)]
    pub event_type: Option<String>,
    /// Events at or after this time (RFC 3339).
    pub since: Option<DateTime<Utc>>,
    /// Events before this time (RFC 3339).
    pub until: Option<DateTime<Utc>>,
    /// From the previous page's `next_cursor`.
    pub cursor: Option<String>,
    /// Default 50.
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<i64>,
}

/// Events, newest first. A window with `since` at or after `until` is empty.
#[utoipa::path(get, path = "/events", tag = "events", params(EventQuery),
    responses((status = 200, body = EventPage), (status = 400, response = BadRequest),
        (status = 422, description = "an unknown `type`, a `cursor` not from a previous page, `limit` out of range", body = ErrorBody)))]
async fn list_events(
    State(app): State<AppState>,
    Scoped(auth, _): Scoped<ReadWebhooks>,
    ApiQuery(q): ApiQuery<EventQuery>,
) -> Result<Json<EventPage>, ApiError> {
    let limit = page_limit(q.limit)?;
    let types: Vec<String> = q.event_type.into_iter().collect();
    if !types.is_empty() {
        check_patterns(&types).map_err(|r| ApiError::validation(format!("type: {}", r.message)))?;
    }
    let after = q.cursor.as_deref().map(cursor::decode).transpose()?;
    let filter = EventFilter {
        types,
        since: q.since,
        until: q.until,
    };
    let mut rows = events::list(&app.api.pool, auth.org, &filter, after, limit).await?;
    let next = cursor::split_page(&mut rows, limit, |e| (e.occurred_at, e.id.0));
    Ok(Json(EventPage {
        items: rows.into_iter().map(EventView::from).collect(),
        next_cursor: next.map(|(at, id)| cursor::encode(at, id)),
    }))
}

#[utoipa::path(get, path = "/events/{id}", tag = "events",
    params(("id" = uuid::Uuid, Path, description = "event id")),
    responses((status = 200, body = EventView), (status = 400, response = BadRequest), (status = 404, response = NotFound)))]
async fn get_event(
    State(app): State<AppState>,
    Scoped(auth, _): Scoped<ReadWebhooks>,
    ApiPath(id): ApiPath<EventId>,
) -> Result<Json<EventView>, ApiError> {
    events::get(&app.api.pool, auth.org, id)
        .await?
        .map(|e| Json(e.into()))
        .ok_or_else(|| ApiError::not_found("event"))
}

/// Send the event again to every active endpoint subscribed to it now, in one go (each a new
/// delivery with the event's own `webhook-id`).
#[utoipa::path(post, path = "/events/{id}/replay", tag = "events",
    params(("id" = uuid::Uuid, Path, description = "event id")),
    responses((status = 202, body = Redeliveries), (status = 400, response = BadRequest), (status = 404, response = NotFound)))]
async fn replay_event(
    State(app): State<AppState>,
    Scoped(auth, _): Scoped<WriteWebhooks>,
    ApiPath(id): ApiPath<EventId>,
) -> Result<(StatusCode, Json<Redeliveries>), ApiError> {
    let pool = &app.api.pool;
    // A test action's sample is not an event of the organization's: not replayable here.
    events::get(pool, auth.org, id)
        .await?
        .filter(|e| e.sample_for.is_none())
        .ok_or_else(|| ApiError::not_found("event"))?;
    let queued =
        switchyard_store::webhook_replays::replay_event(pool, auth.org, id, app.api.queue.now())
            .await?;
    Ok((StatusCode::ACCEPTED, Json(Redeliveries { queued })))
}
