//! Jobs of the caller's organization: list, get (`read:jobs`), enqueue by kind (`write:jobs`).

use crate::auth::{ReadJobs, Scoped, WriteJobs};
use crate::error::{ApiError, ApiJson, ApiPath, ApiQuery, ErrorBody};
use crate::paging::{page_limit, split_page};
use crate::responses::{BadRequest, NotFound, UnsupportedMediaType};
use crate::schemas;
use crate::state::AppState;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use switchyard_core::ids::{DeadLetterId, JobId, JobKind, PartnerName};
use switchyard_store::logs::Masker;
use switchyard_store::queue::{Enqueued, JobRow, JobState, NewJob, RetryPolicy};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub const IDEMPOTENCY_KEY: HeaderName = HeaderName::from_static("idempotency-key");
/// Set on a 200 answer to an enqueue whose idempotency key already existed.
pub const IDEMPOTENT_REPLAYED: HeaderName = HeaderName::from_static("idempotent-replayed");

pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_jobs, enqueue))
        .routes(routes!(get_job))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct JobView {
    #[schema(value_type = uuid::Uuid)]
    pub id: JobId,
    pub kind: String,
    pub partner: Option<String>,
    #[schema(value_type = Object)]
    pub payload: Value,
    pub idempotency_key: Option<String>,
    #[schema(schema_with = schemas::job_state)]
    pub state: JobState,
    pub attempts: i32,
    pub max_attempts: i32,
    #[schema(schema_with = schemas::retry_policy)]
    pub retry_policy: RetryPolicy,
    /// When the job may run next; `null` while it waits for an admin.
    pub run_at: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
    /// Every failed attempt: `[{attempt, at, class, message, status}]`.
    #[schema(value_type = Vec<Object>)]
    pub errors: Value,
    /// The dead letter this job replays.
    #[schema(value_type = Option<uuid::Uuid>)]
    pub replay_of: Option<DeadLetterId>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
}

impl JobView {
    /// The job as the API shows it: sensitive fields of the payload, and credential values
    /// anywhere in it or in its errors, masked (the worker still gets the real payload). There
    /// is deliberately no `From<JobRow>`, so no route can show a payload unmasked.
    pub fn new(j: JobRow, masker: &Masker) -> Self {
        Self {
            id: j.id,
            kind: j.kind.to_string(),
            partner: j.partner.map(|p| p.to_string()),
            payload: masker.masked(j.payload),
            idempotency_key: j.idempotency_key,
            state: j.state,
            attempts: j.attempts,
            max_attempts: j.max_attempts,
            retry_policy: j.retry_policy,
            run_at: j.run_at,
            last_error: j.last_error.map(|e| masker.mask_text(&e)),
            errors: masker.masked(j.errors),
            replay_of: j.replay_of,
            created_at: j.created_at,
            updated_at: j.updated_at,
            finished_at: j.finished_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct JobPage {
    pub items: Vec<JobView>,
    /// Pass as `cursor` for the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct JobQuery {
    #[param(schema_with = schemas::job_state)]
    pub state: Option<JobState>,
    pub kind: Option<String>,
    /// The last job id of the previous page.
    #[param(value_type = Option<uuid::Uuid>)]
    pub cursor: Option<JobId>,
    /// Default 50.
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<i64>,
}

/// A page of jobs from the queue, oldest first.
pub async fn job_page(
    app: &AppState,
    org: switchyard_core::ids::OrgId,
    state: Option<JobState>,
    kind: Option<&str>,
    cursor: Option<JobId>,
    limit: Option<i64>,
) -> Result<JobPage, ApiError> {
    let limit = page_limit(limit)?;
    let rows = app
        .api
        .queue
        .list_jobs(org, state, kind, cursor, limit + 1)
        .await?;
    let (rows, more) = split_page(rows, limit);
    let next_cursor = if more {
        rows.last().map(|j| j.id.to_string())
    } else {
        None
    };
    Ok(JobPage {
        items: rows
            .into_iter()
            .map(|j| JobView::new(j, &app.masker))
            .collect(),
        next_cursor,
    })
}

#[utoipa::path(get, path = "/jobs", tag = "jobs", params(JobQuery),
    responses((status = 200, body = JobPage), (status = 400, response = BadRequest),
        (status = 422, description = "`limit` out of range", body = ErrorBody)))]
async fn list_jobs(
    State(app): State<AppState>,
    Scoped(auth, _): Scoped<ReadJobs>,
    ApiQuery(q): ApiQuery<JobQuery>,
) -> Result<Json<JobPage>, ApiError> {
    Ok(Json(
        job_page(
            &app,
            auth.org,
            q.state,
            q.kind.as_deref(),
            q.cursor,
            q.limit,
        )
        .await?,
    ))
}

#[utoipa::path(get, path = "/jobs/{id}", tag = "jobs",
    params(("id" = uuid::Uuid, Path, description = "job id")),
    responses((status = 200, body = JobView), (status = 400, response = BadRequest), (status = 404, response = NotFound)))]
async fn get_job(
    State(app): State<AppState>,
    Scoped(auth, _): Scoped<ReadJobs>,
    ApiPath(id): ApiPath<JobId>,
) -> Result<Json<JobView>, ApiError> {
    app.api
        .queue
        .get_job(auth.org, id)
        .await?
        .map(|j| Json(JobView::new(j, &app.masker)))
        .ok_or_else(|| ApiError::not_found("job"))
}

/// A job kind of this build. The served document lists them as an enum (`crate::router` fills
/// it in from the runtime's registry); a document without a server says only that it is not
/// blank.
#[derive(ToSchema)]
// The pattern is `schemas::NON_BLANK` (the attribute takes a literal only).
#[schema(value_type = String, pattern = r"^[^\u0000]*[^\s\u0000][^\u0000]*$")]
pub struct JobKindName(pub String);

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EnqueueJob {
    /// A job kind the daemon knows (422 lists them otherwise).
    #[schema(value_type = JobKindName)]
    pub kind: String,
    /// The partner instance the job talks to, if any.
    pub partner: Option<String>,
    /// The job's parameters (a JSON object; what its kind reads); `{}` when absent.
    #[serde(default)]
    #[schema(value_type = Object)]
    pub payload: Map<String, Value>,
    /// Run no earlier than this; now when absent.
    pub run_at: Option<DateTime<Utc>>,
    pub correlation_id: Option<String>,
}

/// The longest `Idempotency-Key`.
pub const MAX_IDEMPOTENCY_KEY: usize = 255;

/// The `Idempotency-Key` header as the document describes it (its schema is
/// [`schemas::idempotency_key`]).
#[derive(IntoParams)]
#[into_params(parameter_in = Header)]
pub struct IdempotencyKey {
    /// Makes a retried request return the first answer instead of acting twice: 1 to 255
    /// visible ASCII characters or spaces, not beginning or ending with a space.
    #[param(rename = "Idempotency-Key", schema_with = schemas::idempotency_key)]
    _key: Option<String>,
}

pub fn idempotency_key(headers: &HeaderMap) -> Result<Option<String>, ApiError> {
    let Some(value) = headers.get(&IDEMPOTENCY_KEY) else {
        return Ok(None);
    };
    // HTTP strips the spaces around a header value, so what arrives has none to trim.
    let key = value
        .to_str()
        .map_err(|_| ApiError::validation("Idempotency-Key must be visible ASCII"))?;
    if key.is_empty() || key.len() > MAX_IDEMPOTENCY_KEY {
        return Err(ApiError::validation(format!(
            "Idempotency-Key must be 1 to {MAX_IDEMPOTENCY_KEY} characters"
        )));
    }
    Ok(Some(key.to_owned()))
}

/// Enqueue a job by kind. With an `Idempotency-Key` header, enqueueing the same key again
/// returns the existing job with 200 instead of creating one (201).
#[utoipa::path(post, path = "/jobs", tag = "jobs", request_body = EnqueueJob,
    params(IdempotencyKey),
    responses(
        (status = 201, description = "created", body = JobView),
        (status = 200, description = "the job already enqueued with this Idempotency-Key", body = JobView),
        (status = 400, response = BadRequest), (status = 415, response = UnsupportedMediaType),
        (status = 422, description = "invalid body, unknown job kind, a partner that is unknown or lacks the capability the job needs, or a payload the kind refuses", body = ErrorBody)
    ))]
async fn enqueue(
    State(app): State<AppState>,
    Scoped(auth, _): Scoped<WriteJobs>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<EnqueueJob>,
) -> Result<Response, ApiError> {
    let key = idempotency_key(&headers)?;
    let kind = body.kind.as_str();
    let partner = body
        .partner
        .as_deref()
        .map(str::trim)
        .filter(|p| !p.is_empty());
    let job = NewJob {
        org: auth.org,
        kind: JobKind::from(kind),
        partner: partner.map(PartnerName::from),
        payload: Value::Object(body.payload),
        idempotency_key: key,
        retry: Default::default(),
        run_at: body.run_at,
        correlation_id: body.correlation_id,
    };
    admit_and_enqueue(&app, job).await
}

/// Enqueue `job` if the runtime admits it (its kind, its partner and what the kind asks of
/// it, its payload; a 422 naming why otherwise), with the retry policy admission gives it:
/// 201 with the job, or 200 with the job already enqueued under its idempotency key.
pub async fn admit_and_enqueue(app: &AppState, mut job: NewJob) -> Result<Response, ApiError> {
    job.retry = app
        .api
        .admission
        .admit(
            job.kind.as_str(),
            job.partner.as_ref().map(|p| p.as_str()),
            &job.payload,
        )
        .map_err(|r| ApiError::new(r.code, r.message).with_details(r.details))?;
    let enqueued = app.api.queue.enqueue(job).await?;
    let status = if enqueued.created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok(enqueued_response(&app.masker, status, enqueued))
}

/// The answer to an enqueue: `status` with the job, its `Location`, and
/// `Idempotent-Replayed: true` when the idempotency key already held a job.
pub fn enqueued_response(masker: &Masker, status: StatusCode, enqueued: Enqueued) -> Response {
    let location = format!("/api/v1/jobs/{}", enqueued.job.id);
    let mut response = (status, Json(JobView::new(enqueued.job, masker))).into_response();
    if let Ok(v) = HeaderValue::from_str(&location) {
        response.headers_mut().insert(header::LOCATION, v);
    }
    if !enqueued.created {
        response
            .headers_mut()
            .insert(IDEMPOTENT_REPLAYED, HeaderValue::from_static("true"));
    }
    response
}
