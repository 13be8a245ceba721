//! The scheduled pulls from partners into the core catalog (one per partner and entity):
//! where each stands and how its last run went (`read:catalog`), and a run on demand
//! (`write:catalog`, a `catalog.pull` job). What a pull writes is catalog data, so it is
//! guarded by the catalog's scopes, as the bulk upserts it stands beside are.

use crate::auth::{ReadCatalog, Scoped, WriteCatalog};
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
use switchyard_store::pull::{self as store, PullKey, PullState};
use switchyard_store::queue::NewJob;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// What a pull stores (`pull_states.entity`).
const ENTITIES: [&str; 3] = ["products", "inventory", "prices"];

pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_pulls))
        .routes(routes!(get_pull))
        .routes(routes!(run_pull))
}

/// A pull's last run; its figures add up over a run resumed after a failure.
#[derive(Debug, Serialize, ToSchema)]
pub struct PullRunView {
    #[schema(value_type = Option<uuid::Uuid>)]
    pub job_id: Option<uuid::Uuid>,
    /// `never`, `running`, `succeeded` or `failed`.
    pub state: String,
    /// The run began a new pass from the first page.
    pub full: bool,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
    /// Records read from the partner.
    pub seen: i64,
    /// Records stored as new items.
    pub created: i64,
    /// Records that changed a stored item.
    pub updated: i64,
    /// Records equal to what was stored: nothing written, the change feed did not move.
    pub unchanged: i64,
    /// Records dead-lettered (the mapping refused them, or the item broke a catalog rule).
    pub failed: i64,
    pub error: Option<String>,
}

/// Where a pull stands.
#[derive(Debug, Serialize, ToSchema)]
pub struct PullView {
    pub partner: String,
    /// `products`, `inventory` or `prices`.
    pub entity: String,
    /// The partner's cursor of the next page of an unfinished pass (null: the next run starts
    /// a new pass).
    pub cursor: Option<String>,
    /// Pages read in the current (or last) pass.
    pub pages: i64,
    pub last_run: PullRunView,
}

impl From<PullState> for PullView {
    fn from(s: PullState) -> Self {
        Self {
            partner: s.partner,
            entity: s.entity,
            cursor: s.cursor,
            pages: s.pages,
            last_run: PullRunView {
                job_id: s.run_job_id,
                state: s.run_state,
                full: s.run_full,
                started_at: s.run_started_at,
                finished_at: s.run_finished_at,
                seen: s.seen,
                created: s.created,
                updated: s.updated,
                unchanged: s.unchanged,
                failed: s.failed,
                error: s.last_error,
            },
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PullList {
    pub items: Vec<PullView>,
}

/// Every pull of the organization that has run, by partner and entity.
#[utoipa::path(get, path = "/pulls", tag = "pulls",
    responses((status = 200, body = PullList)))]
async fn list_pulls(
    State(app): State<AppState>,
    Scoped(auth, _): Scoped<ReadCatalog>,
) -> Result<Json<PullList>, ApiError> {
    let items = store::list_states(&app.api.pool, auth.org)
        .await?
        .into_iter()
        .map(PullView::from)
        .collect();
    Ok(Json(PullList { items }))
}

/// One pull: its cursor and last run.
#[utoipa::path(get, path = "/pulls/{partner}/{entity}", tag = "pulls",
    params(("partner" = String, Path, description = "partner name"),
           ("entity" = String, Path, description = "`products`, `inventory` or `prices`")),
    responses((status = 200, body = PullView), (status = 400, response = BadRequest), (status = 404, response = NotFound)))]
async fn get_pull(
    State(app): State<AppState>,
    Scoped(auth, _): Scoped<ReadCatalog>,
    ApiPath((partner, entity)): ApiPath<(String, String)>,
) -> Result<Json<PullView>, ApiError> {
    if !ENTITIES.contains(&entity.as_str()) {
        return Err(ApiError::not_found("pull"));
    }
    let state = store::get_state(&app.api.pool, &PullKey::new(auth.org, partner, entity))
        .await?
        .ok_or_else(|| ApiError::not_found("pull"))?;
    Ok(Json(state.into()))
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RunPull {
    /// Start a new pass from the first page, forgetting where an unfinished one stopped.
    #[serde(default)]
    pub full: bool,
}

/// Pull now (a `catalog.pull` job): the rest of an unfinished pass, or a new one (always with
/// `full`). With an `Idempotency-Key`, the same key returns the job already enqueued.
#[utoipa::path(post, path = "/pulls/{partner}/{entity}/run", tag = "pulls",
    request_body(content = Option<RunPull>, description = "optional"),
    params(("partner" = String, Path, description = "partner name"),
           ("entity" = String, Path, description = "`products`, `inventory` or `prices`"),
           IdempotencyKey),
    responses(
        (status = 201, description = "the run was enqueued", body = JobView),
        (status = 200, description = "the run already enqueued with this Idempotency-Key", body = JobView),
        (status = 400, response = BadRequest), (status = 404, response = NotFound),
        (status = 415, response = UnsupportedMediaType),
        (status = 422, description = "invalid body, or no such pull configured for this partner (or a partner that cannot pull the entity)", body = ErrorBody)))]
async fn run_pull(
    State(app): State<AppState>,
    Scoped(auth, _): Scoped<WriteCatalog>,
    ApiPath((partner, entity)): ApiPath<(String, String)>,
    headers: HeaderMap,
    OptionalJson(body): OptionalJson<RunPull>,
) -> Result<Response, ApiError> {
    if !ENTITIES.contains(&entity.as_str()) {
        return Err(ApiError::not_found("pull"));
    }
    let key = idempotency_key(&headers)?;
    let payload = json!({"partner": partner, "entity": entity, "full": body.full});
    let job = NewJob {
        idempotency_key: key,
        ..NewJob::new(auth.org, "catalog.pull", payload).partner(partner)
    };
    admit_and_enqueue(&app, job).await
}
