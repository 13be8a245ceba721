//! The retry queue: jobs in state `retrying`, waiting for their next attempt (or for an admin,
//! under the manual policy). Listing needs `read:jobs`, acting on them `write:jobs`.

use crate::auth::{ReadJobs, Scoped, WriteJobs};
use crate::error::{ApiError, ApiPath, ApiQuery, ErrorBody, OptionalJson};
use crate::responses::{BadRequest, NotFound, UnprocessableEntity, UnsupportedMediaType};
use crate::routes::dead_letters::DeadLetterView;
use crate::routes::jobs::{job_page, JobPage, JobView};
use crate::state::AppState;
use axum::extract::State;
use axum::Json;
use serde::{Deserialize, Serialize};
use switchyard_core::ids::{JobId, OrgId};
use switchyard_store::queue::JobState;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_retrying))
        .routes(routes!(retry_now))
        .routes(routes!(skip_to_dead))
        .routes(routes!(bulk_retry))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct RetryQuery {
    pub kind: Option<String>,
    /// The last job id of the previous page.
    #[param(value_type = Option<uuid::Uuid>)]
    pub cursor: Option<JobId>,
    /// Default 50.
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<i64>,
}

/// 404 unless the job exists in this organization: another tenant's job is invisible, whatever
/// the queue would answer for it.
async fn own_job(app: &AppState, org: OrgId, id: JobId) -> Result<(), ApiError> {
    match app.api.queue.get_job(org, id).await? {
        Some(_) => Ok(()),
        None => Err(ApiError::not_found("job")),
    }
}

/// Jobs waiting for a retry, oldest first.
#[utoipa::path(get, path = "/retry-queue", tag = "retry-queue", params(RetryQuery),
    responses((status = 200, body = JobPage), (status = 400, response = BadRequest),
        (status = 422, description = "`limit` out of range", body = ErrorBody)))]
async fn list_retrying(
    State(app): State<AppState>,
    Scoped(auth, _): Scoped<ReadJobs>,
    ApiQuery(q): ApiQuery<RetryQuery>,
) -> Result<Json<JobPage>, ApiError> {
    Ok(Json(
        job_page(
            &app,
            auth.org,
            Some(JobState::Retrying),
            q.kind.as_deref(),
            q.cursor,
            q.limit,
        )
        .await?,
    ))
}

/// Run a retrying job now instead of at its scheduled time. 409 if it is not retrying.
#[utoipa::path(post, path = "/retry-queue/{id}/retry", tag = "retry-queue",
    params(("id" = uuid::Uuid, Path, description = "job id")),
    responses((status = 200, body = JobView), (status = 400, response = BadRequest),
        (status = 404, response = NotFound), (status = 409, description = "the job is not retrying", body = ErrorBody)))]
async fn retry_now(
    State(app): State<AppState>,
    Scoped(auth, _): Scoped<WriteJobs>,
    ApiPath(id): ApiPath<JobId>,
) -> Result<Json<JobView>, ApiError> {
    own_job(&app, auth.org, id).await?;
    let job = app.api.queue.retry_now(auth.org, id).await?;
    Ok(Json(JobView::new(job, &app.masker)))
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SkipBody {
    /// Why the job was given up on; kept on the dead letter.
    pub note: Option<String>,
}

/// Give up on a retrying job: move it to the dead-letter queue now.
#[utoipa::path(post, path = "/retry-queue/{id}/skip", tag = "retry-queue", request_body(content = Option<SkipBody>, description = "optional"),
    params(("id" = uuid::Uuid, Path, description = "job id")),
    responses((status = 200, body = DeadLetterView), (status = 400, response = BadRequest),
        (status = 404, response = NotFound), (status = 409, description = "the job is not retrying", body = ErrorBody),
        (status = 415, response = UnsupportedMediaType), (status = 422, response = UnprocessableEntity)))]
async fn skip_to_dead(
    State(app): State<AppState>,
    Scoped(auth, _): Scoped<WriteJobs>,
    ApiPath(id): ApiPath<JobId>,
    OptionalJson(body): OptionalJson<SkipBody>,
) -> Result<Json<DeadLetterView>, ApiError> {
    own_job(&app, auth.org, id).await?;
    let dead = app.api.queue.skip_to_dead(auth.org, id, body.note).await?;
    Ok(Json(DeadLetterView::new(dead, &app.masker)))
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BulkRetryBody {
    /// The jobs to retry now; every retrying job of the organization when absent.
    #[schema(value_type = Option<Vec<uuid::Uuid>>, max_items = 10000)]
    pub ids: Option<Vec<JobId>>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BulkRetried {
    /// How many jobs were moved to run now (jobs not retrying are left alone).
    pub retried: u64,
}

/// Run many retrying jobs now.
#[utoipa::path(post, path = "/retry-queue/retry", tag = "retry-queue", request_body(content = Option<BulkRetryBody>, description = "optional: every retrying job without it"),
    responses((status = 200, body = BulkRetried), (status = 400, response = BadRequest),
        (status = 415, response = UnsupportedMediaType), (status = 422, response = UnprocessableEntity)))]
async fn bulk_retry(
    State(app): State<AppState>,
    Scoped(auth, _): Scoped<WriteJobs>,
    OptionalJson(body): OptionalJson<BulkRetryBody>,
) -> Result<Json<BulkRetried>, ApiError> {
    if body.ids.as_ref().is_some_and(|ids| ids.len() > 10_000) {
        return Err(ApiError::validation("at most 10000 ids per bulk retry"));
    }
    let retried = app
        .api
        .queue
        .bulk_retry_now(auth.org, body.ids.as_deref())
        .await?;
    Ok(Json(BulkRetried { retried }))
}
