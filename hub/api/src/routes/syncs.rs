//! The sync engine's syncs (one per partner and entity): where each stands and how its last
//! run went (`read:jobs`), and a run on demand (`write:jobs`, a `sync.run` job).

use crate::auth::{ReadJobs, Scoped, WriteJobs};
use crate::error::{ApiError, ApiPath, ErrorBody, OptionalJson};
use crate::responses::{BadRequest, NotFound, UnsupportedMediaType};
use crate::routes::jobs::{admit_and_enqueue, idempotency_key, IdempotencyKey, JobView};
use crate::state::AppState;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use axum::Json;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;
use switchyard_core::ids::OrgId;
use switchyard_store::feed::{self, FeedEntity};
use switchyard_store::queue::NewJob;
use switchyard_store::sync::{self as store, SyncKey, SyncState};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// What a sync keeps in step (`sync_states.entity`).
const ENTITIES: [&str; 3] = ["catalog", "inventory", "prices"];

pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_syncs))
        .routes(routes!(get_sync))
        .routes(routes!(run_sync))
}

/// A sync's last run; its counts add up over a run resumed after a crash.
#[derive(Debug, Serialize, ToSchema)]
pub struct SyncRunView {
    #[schema(value_type = Option<uuid::Uuid>)]
    pub job_id: Option<uuid::Uuid>,
    /// `never`, `running`, `succeeded` or `failed`.
    pub state: String,
    pub full: bool,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
    /// Items read from the feed (or the catalog, in a full sync).
    pub examined: i64,
    /// Items the partner confirmed.
    pub pushed: i64,
    /// Items whose mapped document the partner already had (or removed ones it never had).
    pub skipped: i64,
    /// Items dead-lettered (a mapping error, the partner's refusal).
    pub failed: i64,
    /// Of the skipped: decided on their change-feed position alone, without reading them
    /// (nothing they are built from changed since the partner's confirmed input was read).
    pub examined_fast: i64,
    /// Items read from the catalog (their canonical input built) to be compared.
    pub built: i64,
    /// Writes the partner had not finished when the run stopped: still open in its queue
    /// (Magento bulk operations with no consumer running) or failing transiently. The run
    /// failed with `error` and its job retries them; 0 once a run gets through.
    pub unfinished: i64,
    pub error: Option<String>,
}

/// Where a sync stands.
#[derive(Debug, Serialize, ToSchema)]
pub struct SyncView {
    pub partner: String,
    /// `catalog`, `inventory` or `prices`.
    pub entity: String,
    /// Every change up to this position of the feed is confirmed by the partner, unchanged or
    /// dead-lettered.
    pub checkpoint: i64,
    /// The organization's change feed head.
    pub feed_head: i64,
    /// Items of this sync's entity changed after the checkpoint (not yet handled); the other
    /// entities' changes, which also move `feed_head`, do not count.
    pub lag: i64,
    /// A full sync in progress: the last SKU it committed.
    pub full_sync_cursor: Option<String>,
    pub last_run: SyncRunView,
}

impl SyncView {
    fn new(s: SyncState, head: i64, lag: i64) -> Self {
        Self {
            lag,
            partner: s.partner,
            entity: s.entity,
            checkpoint: s.checkpoint,
            feed_head: head,
            full_sync_cursor: s.full_cursor,
            last_run: SyncRunView {
                job_id: s.run_job_id,
                state: s.run_state,
                full: s.run_full,
                started_at: s.run_started_at,
                finished_at: s.run_finished_at,
                examined: s.examined,
                pushed: s.pushed,
                skipped: s.skipped,
                failed: s.failed,
                examined_fast: s.examined_fast,
                built: s.built,
                unfinished: s.unfinished,
                error: s.last_error,
            },
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SyncList {
    pub items: Vec<SyncView>,
}

/// Every sync of the organization (those configured appear once the dispatcher or a run has
/// seen them), by partner and entity.
#[utoipa::path(get, path = "/syncs", tag = "syncs",
    responses((status = 200, body = SyncList)))]
async fn list_syncs(
    State(app): State<AppState>,
    Scoped(auth, _): Scoped<ReadJobs>,
) -> Result<Json<SyncList>, ApiError> {
    let head = feed::head(&app.api.pool, auth.org).await?;
    let mut items = Vec::new();
    for s in store::list_states(&app.api.pool, auth.org).await? {
        let lag = lag(&app, auth.org, &s).await?;
        items.push(SyncView::new(s, head, lag));
    }
    Ok(Json(SyncList { items }))
}

/// The sync's lag: its own entity's items changed after its checkpoint.
async fn lag(app: &AppState, org: OrgId, s: &SyncState) -> Result<i64, ApiError> {
    let Some(entity) = FeedEntity::parse(&s.entity) else {
        return Ok(0);
    };
    Ok(feed::pending(&app.api.pool, org, entity, s.checkpoint).await?)
}

/// One sync: its checkpoint, lag behind the change feed and last run.
#[utoipa::path(get, path = "/syncs/{partner}/{entity}", tag = "syncs",
    params(("partner" = String, Path, description = "partner name"),
           ("entity" = String, Path, description = "`catalog`, `inventory` or `prices`")),
    responses((status = 200, body = SyncView), (status = 400, response = BadRequest), (status = 404, response = NotFound)))]
async fn get_sync(
    State(app): State<AppState>,
    Scoped(auth, _): Scoped<ReadJobs>,
    ApiPath((partner, entity)): ApiPath<(String, String)>,
) -> Result<Json<SyncView>, ApiError> {
    if !ENTITIES.contains(&entity.as_str()) {
        return Err(ApiError::not_found("sync"));
    }
    let key = SyncKey::new(auth.org, partner, entity);
    let state = store::get_state(&app.api.pool, &key)
        .await?
        .ok_or_else(|| ApiError::not_found("sync"))?;
    let head = feed::head(&app.api.pool, auth.org).await?;
    let lag = lag(&app, auth.org, &state).await?;
    Ok(Json(SyncView::new(state, head, lag)))
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RunSync {
    /// Examine every item, not only those changed since the checkpoint.
    #[serde(default)]
    pub full: bool,
    /// With `full`: push every item, even those the partner confirmed with the same content.
    #[serde(default)]
    pub force: bool,
}

/// Run a sync now (a `sync.run` job): what changed since the checkpoint, or everything with
/// `full`. With an `Idempotency-Key`, the same key returns the job already enqueued.
#[utoipa::path(post, path = "/syncs/{partner}/{entity}/run", tag = "syncs",
    request_body(content = Option<RunSync>, description = "optional"),
    params(("partner" = String, Path, description = "partner name"),
           ("entity" = String, Path, description = "`catalog`, `inventory` or `prices`"),
           IdempotencyKey),
    responses(
        (status = 201, description = "the run was enqueued", body = JobView),
        (status = 200, description = "the run already enqueued with this Idempotency-Key", body = JobView),
        (status = 400, response = BadRequest), (status = 404, response = NotFound),
        (status = 415, response = UnsupportedMediaType),
        (status = 422, description = "invalid body, or no such sync configured for this partner (or a partner that cannot push the entity)", body = ErrorBody)))]
async fn run_sync(
    State(app): State<AppState>,
    Scoped(auth, _): Scoped<WriteJobs>,
    ApiPath((partner, entity)): ApiPath<(String, String)>,
    headers: HeaderMap,
    OptionalJson(body): OptionalJson<RunSync>,
) -> Result<Response, ApiError> {
    if !ENTITIES.contains(&entity.as_str()) {
        return Err(ApiError::not_found("sync"));
    }
    let key = idempotency_key(&headers)?;
    let payload =
        json!({"partner": partner, "entity": entity, "full": body.full, "force": body.force});
    let job = NewJob {
        idempotency_key: key,
        ..NewJob::new(auth.org, "sync.run", payload).partner(partner)
    };
    admit_and_enqueue(&app, job).await
}
