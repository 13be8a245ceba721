//! Dead letters: list and get (`read:dead-letters`); replay, bulk replay and delete
//! (`write:dead-letters`).

use crate::auth::{ReadDeadLetters, Scoped, WriteDeadLetters};
use crate::error::{ApiError, ApiJson, ApiPath, ApiQuery, ErrorBody, OptionalJson};
use crate::paging::{page_limit, split_page};
use crate::responses::{BadRequest, NotFound, UnsupportedMediaType};
use crate::routes::jobs::{idempotency_key, IdempotencyKey, JobView};
use crate::schemas;
use crate::state::AppState;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::Json;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use switchyard_core::ids::{DeadLetterId, JobId, OrgId};
use switchyard_store::logs::Masker;
use switchyard_store::queue::{DeadLetterRow, DeadLetterState, Replay};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// Bulk requests are bounded so one call cannot hold a transaction for minutes.
const MAX_BULK: usize = 1000;

pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_dead_letters))
        .routes(routes!(get_dead_letter, delete_dead_letter))
        .routes(routes!(replay))
        .routes(routes!(bulk_replay))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DeadLetterView {
    #[schema(value_type = uuid::Uuid)]
    pub id: DeadLetterId,
    #[schema(value_type = uuid::Uuid)]
    pub job_id: JobId,
    pub kind: String,
    pub partner: Option<String>,
    /// The original payload, untouched.
    #[schema(value_type = Object)]
    pub payload: Value,
    pub reason: String,
    pub error_class: String,
    /// Every attempt's error.
    #[schema(value_type = Vec<Object>)]
    pub errors: Value,
    pub attempts: i32,
    #[schema(schema_with = schemas::dead_letter_state)]
    pub state: DeadLetterState,
    pub admin_note: Option<String>,
    pub replay_count: i32,
    #[schema(value_type = Option<uuid::Uuid>)]
    pub last_replay_job_id: Option<JobId>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl DeadLetterView {
    /// Masked like [`JobView::new`]: field names and credential values.
    pub(crate) fn new(d: DeadLetterRow, masker: &Masker) -> Self {
        Self {
            id: d.id,
            job_id: d.job_id,
            kind: d.kind.to_string(),
            partner: d.partner.map(|p| p.to_string()),
            payload: masker.masked(d.payload),
            reason: masker.mask_text(&d.reason),
            error_class: d.error_class.to_string(),
            errors: masker.masked(d.errors),
            attempts: d.attempts,
            state: d.state,
            admin_note: d.admin_note,
            replay_count: d.replay_count,
            last_replay_job_id: d.last_replay_job_id,
            created_at: d.created_at,
            updated_at: d.updated_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DeadLetterPage {
    pub items: Vec<DeadLetterView>,
    pub next_cursor: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct DeadLetterQuery {
    #[param(schema_with = schemas::dead_letter_state)]
    pub state: Option<DeadLetterState>,
    /// The last dead-letter id of the previous page.
    #[param(value_type = Option<uuid::Uuid>)]
    pub cursor: Option<DeadLetterId>,
    /// Default 50.
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<i64>,
}

async fn own(app: &AppState, org: OrgId, id: DeadLetterId) -> Result<DeadLetterRow, ApiError> {
    app.api
        .queue
        .get_dead_letter(org, id)
        .await?
        .ok_or_else(|| ApiError::not_found("dead letter"))
}

#[utoipa::path(get, path = "/dead-letters", tag = "dead-letters", params(DeadLetterQuery),
    responses((status = 200, body = DeadLetterPage), (status = 400, response = BadRequest),
        (status = 422, description = "`limit` out of range", body = ErrorBody)))]
async fn list_dead_letters(
    State(app): State<AppState>,
    Scoped(auth, _): Scoped<ReadDeadLetters>,
    ApiQuery(q): ApiQuery<DeadLetterQuery>,
) -> Result<Json<DeadLetterPage>, ApiError> {
    let limit = page_limit(q.limit)?;
    let rows = app
        .api
        .queue
        .list_dead_letters(auth.org, q.state, q.cursor, limit + 1)
        .await?;
    let (rows, more) = split_page(rows, limit);
    let next_cursor = if more {
        rows.last().map(|d| d.id.to_string())
    } else {
        None
    };
    Ok(Json(DeadLetterPage {
        items: rows
            .into_iter()
            .map(|d| DeadLetterView::new(d, &app.masker))
            .collect(),
        next_cursor,
    }))
}

#[utoipa::path(get, path = "/dead-letters/{id}", tag = "dead-letters",
    params(("id" = uuid::Uuid, Path, description = "dead-letter id")),
    responses((status = 200, body = DeadLetterView), (status = 400, response = BadRequest), (status = 404, response = NotFound)))]
async fn get_dead_letter(
    State(app): State<AppState>,
    Scoped(auth, _): Scoped<ReadDeadLetters>,
    ApiPath(id): ApiPath<DeadLetterId>,
) -> Result<Json<DeadLetterView>, ApiError> {
    Ok(Json(DeadLetterView::new(
        own(&app, auth.org, id).await?,
        &app.masker,
    )))
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReplayBody {
    /// Replay with this payload (a JSON object) instead of the original, which stays on the
    /// dead letter.
    #[schema(value_type = Option<Object>)]
    pub payload: Option<Map<String, Value>>,
    pub note: Option<String>,
    /// Replay a dead letter that was already replayed (409 without it).
    #[serde(default)]
    pub force: bool,
}

/// Replay a dead letter: a new job, linked to it (`replay_of`), with the original or an
/// edited payload. The partner sees the original document's idempotency key (an edited payload
/// is a new document with a new key). With an `Idempotency-Key` header, the same request again
/// answers 200 with the job of the first.
#[utoipa::path(post, path = "/dead-letters/{id}/replay", tag = "dead-letters",
    request_body(content = Option<ReplayBody>, description = "optional: no body (or `null`) replays the original payload"),
    params(("id" = uuid::Uuid, Path, description = "dead-letter id"), IdempotencyKey),
    responses((status = 201, body = JobView),
        (status = 200, description = "the job of an earlier request with this Idempotency-Key", body = JobView),
        (status = 400, response = BadRequest), (status = 404, response = NotFound),
        (status = 409, description = "deleted, or already replayed and `force` not set", body = ErrorBody),
        (status = 415, response = UnsupportedMediaType),
        (status = 422, description = "an invalid body, or the Idempotency-Key was used for a different request", body = ErrorBody)))]
async fn replay(
    State(app): State<AppState>,
    Scoped(auth, _): Scoped<WriteDeadLetters>,
    ApiPath(id): ApiPath<DeadLetterId>,
    headers: HeaderMap,
    OptionalJson(body): OptionalJson<ReplayBody>,
) -> Result<(StatusCode, Json<JobView>), ApiError> {
    own(&app, auth.org, id).await?;
    let request = Replay {
        edited_payload: body.payload.map(Value::Object),
        note: body.note,
        force: body.force,
        request_key: idempotency_key(&headers)?,
        ..Replay::one(id)
    };
    let done = app
        .api
        .queue
        .replay_dead_letters(auth.org, &request)
        .await?;
    let status = if done.repeated {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    let job = done
        .jobs
        .into_iter()
        .next()
        .ok_or_else(|| ApiError::not_found("replay job"))?;
    Ok((status, Json(JobView::new(job, &app.masker))))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BulkReplayBody {
    #[schema(value_type = Vec<uuid::Uuid>, min_items = 1, max_items = 1000)]
    pub ids: Vec<DeadLetterId>,
    /// Also replay dead letters that were already replayed (409 without it).
    #[serde(default)]
    pub force: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BulkReplayed {
    /// The new jobs, one per replayed dead letter.
    pub jobs: Vec<JobView>,
    /// True when this answers an earlier request with the same `Idempotency-Key`.
    pub repeated: bool,
}

/// Replay several dead letters with their original payloads, all or nothing: an unknown,
/// deleted or (without `force`) already replayed one fails the request. With an
/// `Idempotency-Key` header, the same request again returns the first request's jobs.
#[utoipa::path(post, path = "/dead-letters/replay", tag = "dead-letters", request_body = BulkReplayBody,
    params(IdempotencyKey),
    responses((status = 200, body = BulkReplayed), (status = 400, response = BadRequest),
        (status = 404, description = "one of the dead letters does not exist", body = ErrorBody),
        (status = 409, description = "one is deleted, or already replayed and `force` not set", body = ErrorBody),
        (status = 415, response = UnsupportedMediaType),
        (status = 422, description = "an invalid body, or the Idempotency-Key was used for a different request", body = ErrorBody)))]
async fn bulk_replay(
    State(app): State<AppState>,
    Scoped(auth, _): Scoped<WriteDeadLetters>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<BulkReplayBody>,
) -> Result<Json<BulkReplayed>, ApiError> {
    if body.ids.is_empty() || body.ids.len() > MAX_BULK {
        return Err(ApiError::validation(format!(
            "ids must list 1 to {MAX_BULK} dead letters"
        )));
    }
    let request = Replay {
        ids: body.ids,
        force: body.force,
        request_key: idempotency_key(&headers)?,
        ..Replay::default()
    };
    let done = app
        .api
        .queue
        .replay_dead_letters(auth.org, &request)
        .await?;
    Ok(Json(BulkReplayed {
        jobs: done
            .jobs
            .into_iter()
            .map(|j| JobView::new(j, &app.masker))
            .collect(),
        repeated: done.repeated,
    }))
}

/// The note of a deletion as a query parameter: the way to send it, since some clients and
/// proxies drop a DELETE's body. (Documented in the path's `params`: the document makes it
/// required, the code also takes it from the body.)
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeleteQuery {
    pub note: Option<String>,
}

/// The older way to send the note: a JSON body, still accepted.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DeleteBody {
    /// Why it was deleted, for clients that do not send the `note` query parameter.
    #[schema(schema_with = schemas::name)]
    pub note: Option<String>,
}

// The note's pattern is `schemas::NON_BLANK` (the attribute takes a literal only).
/// Delete a dead letter (it is kept as `deleted`, with the note, until retention removes it).
/// The note says why: `?note=...`. For compatibility a request without it may carry
/// `{"note": "..."}` as its body instead (ignored when the query has a note).
#[utoipa::path(delete, path = "/dead-letters/{id}", tag = "dead-letters",
    request_body(content = Option<DeleteBody>, description = "deprecated: the note as a body, for clients that do not send `?note=`"),
    params(("id" = uuid::Uuid, Path, description = "dead-letter id"),
        ("note" = String, Query, min_length = 1, pattern = r"^[^\u0000]*[^\s\u0000][^\u0000]*$", description = "why it was deleted; kept with the dead letter")),
    responses((status = 204, description = "deleted"), (status = 400, response = BadRequest),
        (status = 404, response = NotFound), (status = 415, response = UnsupportedMediaType),
        (status = 422, description = "no note, or a blank one", body = ErrorBody)))]
async fn delete_dead_letter(
    State(app): State<AppState>,
    Scoped(auth, _): Scoped<WriteDeadLetters>,
    ApiPath(id): ApiPath<DeadLetterId>,
    ApiQuery(query): ApiQuery<DeleteQuery>,
    OptionalJson(body): OptionalJson<DeleteBody>,
) -> Result<StatusCode, ApiError> {
    let note = deletion_note(query.note.as_deref(), body.note.as_deref())?;
    own(&app, auth.org, id).await?;
    app.api
        .queue
        .delete_dead_letter(auth.org, id, note.to_owned())
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The note from the query, else from the body, trimmed; required and not blank.
fn deletion_note<'a>(query: Option<&'a str>, body: Option<&'a str>) -> Result<&'a str, ApiError> {
    let note = match query.or(body).map(str::trim) {
        Some(n) => n,
        None => {
            return Err(ApiError::validation(
                "a note is required: `?note=why` (or `{\"note\": \"why\"}` as the body)",
            ))
        }
    };
    if note.is_empty() {
        return Err(ApiError::validation("note must not be empty"));
    }
    Ok(note)
}

#[cfg(test)]
mod tests {
    use super::deletion_note;

    #[test]
    fn the_note_comes_from_the_query_or_the_body() {
        assert_eq!(deletion_note(Some(" why "), None).unwrap(), "why");
        assert_eq!(deletion_note(None, Some("why")).unwrap(), "why");
        // The query wins: it is what the document asks for.
        assert_eq!(deletion_note(Some("why"), Some("other")).unwrap(), "why");
        assert!(deletion_note(None, None).is_err());
        assert!(deletion_note(Some("  "), None).is_err());
    }
}
