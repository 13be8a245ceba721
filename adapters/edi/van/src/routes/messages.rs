//! EDI messages: the inbox and outbox, one message with its parsed tree and validation
//! report (`read:edi`), and re-validating an inbound message (`write:edi`).
//!
//! The tree and the report are never taken from what was stored at pickup: they are rebuilt
//! from the stored raw bytes with switchyard-edi, through the same code path as
//! `switchyard edi parse` ([`switchyard_edi::cli::tree`]), so the API shows what the parser
//! of this build says of the document.

use crate::messages::{
    self as store, EdiCursor, EdiDirection, EdiFilter, EdiMessage, EdiMessageId, EdiStandard,
    EdiStatus,
};
use crate::scopes::{ReadEdi, WriteEdi};
use axum::extract::State;
use axum::Json;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use switchyard_api::error::{ApiError, ApiPath, ApiQuery, ErrorBody, ErrorCode};
use switchyard_api::paging::page_limit;
use switchyard_api::responses::{BadRequest, NotFound};
use switchyard_api::schemas::one_of;
use switchyard_api::{AppState, Scoped};
use switchyard_edi::validate::{validate, Validation};
use switchyard_edi::{read_all, Issue, Unit};
use utoipa::openapi::Object;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_messages))
        .routes(routes!(get_message))
        .routes(routes!(reprocess))
}

fn direction() -> Object {
    one_of(EdiDirection::ALL)
}

fn standard() -> Object {
    one_of(EdiStandard::ALL)
}

fn status() -> Object {
    one_of(EdiStatus::ALL)
}

/// A message without its raw bytes (listings).
#[derive(Debug, Serialize, ToSchema)]
pub struct EdiMessageSummary {
    #[schema(value_type = uuid::Uuid)]
    pub id: EdiMessageId,
    pub partner: String,
    #[schema(schema_with = direction)]
    pub direction: EdiDirection,
    #[schema(schema_with = standard)]
    pub standard: EdiStandard,
    /// Transaction set / message types in the interchange (`850`, `ORDERS`).
    pub message_types: Vec<String>,
    pub sender_id: String,
    pub receiver_id: String,
    /// ISA13 / UNB 0020.
    pub interchange_control: String,
    /// `[{"control", "functional_id", "version", "sets": [...]}]`
    #[schema(value_type = Vec<Object>)]
    pub group_controls: Value,
    #[schema(schema_with = status)]
    pub status: EdiStatus,
    /// The located errors of the last validation (or why the message was not processed).
    pub errors: Vec<String>,
    /// An acknowledgement points at the message it acknowledges.
    #[schema(value_type = Option<uuid::Uuid>)]
    pub related_message_id: Option<EdiMessageId>,
    /// A duplicate interchange points at the first copy.
    #[schema(value_type = Option<uuid::Uuid>)]
    pub duplicate_of: Option<EdiMessageId>,
    pub file_name: Option<String>,
    /// Outbound: still `sent` after the partner's acknowledgement window (see
    /// `ack_overdue_at`); a late acknowledgement clears it.
    pub ack_overdue: bool,
    /// When the overdue-acknowledgement check (`edi.ack.overdue`) found this message
    /// unacknowledged past its partner's window; kept after a late acknowledgement.
    pub ack_overdue_at: Option<DateTime<Utc>>,
    pub size_bytes: usize,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<&EdiMessage> for EdiMessageSummary {
    fn from(m: &EdiMessage) -> Self {
        Self {
            id: m.id,
            partner: m.partner.clone(),
            direction: m.direction,
            standard: m.standard,
            message_types: m.message_types.clone(),
            sender_id: m.sender_id.clone(),
            receiver_id: m.receiver_id.clone(),
            interchange_control: m.interchange_control.clone(),
            group_controls: m.group_controls.clone(),
            status: m.status,
            errors: m.errors.clone(),
            related_message_id: m.related_message_id,
            duplicate_of: m.duplicate_of,
            file_name: m.file_name.clone(),
            ack_overdue: m.ack_overdue(),
            ack_overdue_at: m.ack_overdue_at,
            size_bytes: m.raw.len(),
            created_at: m.created_at,
            updated_at: m.updated_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct EdiMessagePage {
    pub items: Vec<EdiMessageSummary>,
    /// Pass as `cursor` for the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

/// How `raw` is written in a [`EdiMessageView`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RawEncoding {
    /// The bytes are valid UTF-8 (ASCII, UNOA/UNOB, UNOW): `raw` is the document as sent.
    Utf8,
    /// Not valid UTF-8 (UNOC Latin-1, for instance): `raw` is standard base64 of the bytes,
    /// so nothing the partner sent is lost in a lossy conversion.
    Base64,
}

/// The validation report of a re-parse: every error and warning with its location.
#[derive(Debug, Serialize, ToSchema)]
pub struct ValidationReport {
    /// No errors (warnings allowed).
    pub valid: bool,
    /// Each with `severity`, `code`, `message` and `location` (interchange / group / set
    /// control numbers, segment position and id, element / component index, byte offset).
    #[schema(value_type = Vec<Object>)]
    pub errors: Vec<Issue>,
    #[schema(value_type = Vec<Object>)]
    pub warnings: Vec<Issue>,
}

/// One message: metadata, the raw document, and what re-parsing it says.
#[derive(Debug, Serialize, ToSchema)]
pub struct EdiMessageView {
    #[serde(flatten)]
    pub message: EdiMessageSummary,
    pub raw_encoding: RawEncoding,
    pub raw: String,
    /// The interchange tree as `switchyard edi parse` prints it: `interchanges` (envelopes,
    /// groups, sets with their segments and elements, each with its own errors and warnings),
    /// `unparseable` (text that is no interchange) and `valid`.
    #[schema(value_type = Object)]
    pub parsed: Value,
    pub report: ValidationReport,
    /// The acknowledgement (997/999/TA1/CONTRL) we stored for an inbound message, if any.
    #[schema(value_type = Option<uuid::Uuid>)]
    pub ack_message_id: Option<EdiMessageId>,
}

/// Inbox / outbox filters.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct EdiQuery {
    /// inbound (the inbox) or outbound (the outbox); both when absent.
    #[param(schema_with = direction)]
    pub direction: Option<EdiDirection>,
    pub partner: Option<String>,
    #[param(schema_with = status)]
    pub status: Option<EdiStatus>,
    #[param(schema_with = standard)]
    pub standard: Option<EdiStandard>,
    /// Messages containing this transaction set / message type (`850`, `ORDERS`).
    #[serde(rename = "type")]
    #[param(rename = "type")]
    pub message_type: Option<String>,
    /// `true`: outbound messages the partner has not acknowledged within its window;
    /// `false`: all others.
    pub overdue: Option<bool>,
    /// From the previous page's `next_cursor`.
    pub cursor: Option<String>,
    /// Default 50.
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<i64>,
}

/// Messages, newest first, filtered, one page at a time (raw bodies left out).
#[utoipa::path(get, path = "/edi/messages", tag = "edi", params(EdiQuery),
    responses((status = 200, body = EdiMessagePage), (status = 400, response = BadRequest),
        (status = 422, description = "a bad `cursor`, `limit` out of range", body = ErrorBody)))]
async fn list_messages(
    State(app): State<AppState>,
    Scoped(auth, _): Scoped<ReadEdi>,
    ApiQuery(query): ApiQuery<EdiQuery>,
) -> Result<Json<EdiMessagePage>, ApiError> {
    let limit = page_limit(query.limit)?;
    let after = query.cursor.as_deref().map(EdiCursor::decode).transpose()?;
    let filter = EdiFilter {
        direction: query.direction,
        partner: query.partner,
        status: query.status,
        standard: query.standard,
        message_type: query.message_type,
        overdue: query.overdue,
        ..EdiFilter::default()
    };
    let (rows, next) = store::list(&app.api.pool, auth.org, &filter, after, limit).await?;
    Ok(Json(EdiMessagePage {
        items: rows.iter().map(EdiMessageSummary::from).collect(),
        next_cursor: next.map(|c| c.encode()),
    }))
}

/// One message with its raw document, parsed tree and validation report (re-parsed from the
/// stored bytes), and the id of its acknowledgement.
#[utoipa::path(get, path = "/edi/messages/{id}", tag = "edi",
    params(("id" = uuid::Uuid, Path, description = "EDI message id")),
    responses((status = 200, body = EdiMessageView), (status = 400, response = BadRequest), (status = 404, response = NotFound)))]
async fn get_message(
    State(app): State<AppState>,
    Scoped(auth, _): Scoped<ReadEdi>,
    ApiPath(id): ApiPath<EdiMessageId>,
) -> Result<Json<EdiMessageView>, ApiError> {
    let message = store::get(&app.api.pool, auth.org, id)
        .await?
        .ok_or_else(|| ApiError::not_found("edi message"))?;
    let reparse = reparse(message.raw.clone()).await?;
    view(&app, message, reparse).await.map(Json)
}

/// Re-validate an inbound message's stored bytes with this build's parser: the new report is
/// stored and the status set to `processed` (valid) or `error`. Validation only: the
/// acknowledgement already sent and the mapping of the document are not redone. 409 for
/// outbound messages and for duplicate interchanges (which are never processed).
#[utoipa::path(post, path = "/edi/messages/{id}/reprocess", tag = "edi",
    params(("id" = uuid::Uuid, Path, description = "EDI message id")),
    responses((status = 200, body = EdiMessageView), (status = 400, response = BadRequest),
        (status = 404, response = NotFound),
        (status = 409, description = "an outbound message, or a duplicate interchange", body = ErrorBody)))]
async fn reprocess(
    State(app): State<AppState>,
    Scoped(auth, _): Scoped<WriteEdi>,
    ApiPath(id): ApiPath<EdiMessageId>,
) -> Result<Json<EdiMessageView>, ApiError> {
    let message = store::get(&app.api.pool, auth.org, id)
        .await?
        .ok_or_else(|| ApiError::not_found("edi message"))?;
    if message.direction == EdiDirection::Outbound {
        return Err(ApiError::new(
            ErrorCode::Conflict,
            format!("edi message {id} is outbound; only inbound messages can be reprocessed"),
        ));
    }
    if let Some(original) = message.duplicate_of {
        return Err(ApiError::new(
            ErrorCode::Conflict,
            format!(
                "edi message {id} is a duplicate of message {original} and is never processed; reprocess the original"
            ),
        ));
    }
    let reparse = reparse(message.raw.clone()).await?;
    let status = if reparse.valid {
        EdiStatus::Processed
    } else {
        EdiStatus::Error
    };
    let validation =
        serde_json::to_value(&reparse.validation).map_err(|e| ApiError::internal(&e))?;
    store::record_validation(
        &app.api.pool,
        auth.org,
        id,
        status,
        &validation,
        &reparse.error_lines,
    )
    .await?;
    tracing::info!(message = %id, status = %status, errors = reparse.error_lines.len(), "edi message reprocessed");
    let message = store::get(&app.api.pool, auth.org, id)
        .await?
        .ok_or_else(|| ApiError::not_found("edi message"))?;
    view(&app, message, reparse).await.map(Json)
}

/// What re-parsing stored bytes gives.
struct Reparse {
    /// The `switchyard edi parse` document minus the file name.
    parsed: Value,
    valid: bool,
    /// Every interchange's issues, and the unparseable stretches' issues, in order; stored as
    /// the message's `validation` in the shape the mailbox pickup stores.
    validation: Validation,
    /// Errors in words (as the pickup stores them in `errors`).
    error_lines: Vec<String>,
}

/// Parse and validate `raw` off the async runtime: a message can be megabytes, and
/// validation is CPU work.
async fn reparse(raw: Vec<u8>) -> Result<Reparse, ApiError> {
    tokio::task::spawn_blocking(move || reparse_now(&raw))
        .await
        .map_err(|e| ApiError::internal(&e))
}

fn reparse_now(raw: &[u8]) -> Reparse {
    let mut interchanges = Vec::new();
    let mut unparseable = Vec::new();
    let mut validation = Validation {
        issues: Vec::new(),
        set_status: Vec::new(),
    };
    for unit in read_all(raw) {
        match unit {
            Unit::Unparseable(issue) => {
                unparseable.push(*issue.clone());
                validation.issues.push(*issue);
            }
            Unit::Interchange(ic) => {
                let v = validate(&ic);
                interchanges.push(switchyard_edi::cli::tree(&ic, &v, true));
                validation.issues.extend(v.issues);
                validation.set_status.extend(v.set_status);
            }
        }
    }
    // A stored message is one interchange; bytes with none in them are not a valid message
    // even when no stretch was reported unparseable (an empty body, for instance).
    let valid = !interchanges.is_empty() && validation.is_valid();
    let mut error_lines: Vec<String> = validation.errors().map(|i| i.to_string()).collect();
    if interchanges.is_empty() && error_lines.is_empty() {
        error_lines.push("the stored bytes contain no interchange".to_owned());
    }
    let parsed = json!({
        "interchanges": interchanges,
        "unparseable": unparseable,
        "valid": valid,
    });
    Reparse {
        parsed,
        valid,
        validation,
        error_lines,
    }
}

async fn view(
    app: &AppState,
    message: EdiMessage,
    reparse: Reparse,
) -> Result<EdiMessageView, ApiError> {
    let ack_message_id = match message.direction {
        EdiDirection::Inbound => store::ack_of(&app.api.pool, message.org_id, message.id)
            .await?
            .map(|a| a.id),
        EdiDirection::Outbound => None,
    };
    let (raw_encoding, raw) = match std::str::from_utf8(&message.raw) {
        Ok(text) => (RawEncoding::Utf8, text.to_owned()),
        Err(_) => (RawEncoding::Base64, STANDARD.encode(&message.raw)),
    };
    let (errors, warnings): (Vec<Issue>, Vec<Issue>) = reparse
        .validation
        .issues
        .into_iter()
        .partition(Issue::is_error);
    Ok(EdiMessageView {
        message: EdiMessageSummary::from(&message),
        raw_encoding,
        raw,
        parsed: reparse.parsed,
        report: ValidationReport {
            valid: reparse.valid,
            errors,
            warnings,
        },
        ack_message_id,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reparse_of_nothing_is_invalid_and_says_why() {
        let r = reparse_now(b"");
        assert!(!r.valid);
        assert_eq!(r.parsed["interchanges"], json!([]));
        assert_eq!(
            r.error_lines,
            vec!["the stored bytes contain no interchange"]
        );
    }
}
