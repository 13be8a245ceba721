//! Invoices for Optima (FR-INT-011): record them (`POST /integrations/comarch/invoices`; with
//! the connection's `auto_sync` the push is queued in the same transaction), push them on
//! request (`POST /integrations/comarch/push-invoice`, one or many ids) and read each one's
//! sync status (`GET /integrations/comarch/invoices[/{id}]`).

use super::{owned_connection, refuse_foreign, Connections, ReadOptima, WriteOptima};
use crate::invoices::{
    self, Direction, Identity, InvoiceId, InvoiceRow, RecordError, Recorded, SyncStatus,
};
use crate::jpk_source::JpkMarks;
use crate::polish::Nip;
use crate::push_job::PushInvoice;
use axum::extract::State;
use axum::http::StatusCode;
use axum::{Extension, Json};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use std::sync::Arc;
use switchyard_api::error::{ApiError, ApiJson, ApiPath, ApiQuery, ErrorBody, ErrorCode};
use switchyard_api::paging::{page_limit, split_page};
use switchyard_api::responses::{BadRequest, NotFound, UnsupportedMediaType};
use switchyard_api::{AppState, Scoped};
use switchyard_core::JobPayload;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

/// At most this many invoices per request.
const MAX_BATCH: usize = 500;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(record_invoices, list_invoices))
        .routes(routes!(get_invoice))
        .routes(routes!(push_invoices))
}

/// An invoice's sync status.
#[derive(Debug, Serialize, ToSchema)]
pub struct InvoiceView {
    pub id: Uuid,
    pub partner: String,
    pub invoice_number: String,
    /// `sale` (pushed to Optima) or `purchase` (only in the JPK's purchase register).
    pub direction: Direction,
    /// A purchase's supplier.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub supplier_nip: Option<String>,
    pub status: SyncStatus,
    /// Optima's number once synced.
    pub optima_number: Option<String>,
    /// Why it was refused, or the last transient failure while `pending`.
    pub error: Option<String>,
    /// The latest push job.
    pub job_id: Option<Uuid>,
    pub pushes: i32,
    /// Attempts of the latest push.
    pub attempts: i32,
    pub revision: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub synced_at: Option<DateTime<Utc>>,
}

impl From<InvoiceRow> for InvoiceView {
    fn from(r: InvoiceRow) -> Self {
        Self {
            id: r.id.0,
            partner: r.partner,
            invoice_number: r.invoice_number,
            direction: r.direction,
            supplier_nip: Some(r.supplier_nip).filter(|n| !n.is_empty()),
            status: r.status,
            optima_number: r.optima_number,
            error: r.error,
            job_id: r.job_id,
            pushes: r.pushes,
            attempts: r.attempts,
            revision: r.revision,
            created_at: r.created_at,
            updated_at: r.updated_at,
            synced_at: r.synced_at,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RecordInvoices {
    /// The Optima connection (`[partners.NAME]`, `kind = "optima"`).
    pub partner: String,
    /// Canonical invoices (the hub's `Invoice`: `invoice_number`, `issue_date`, `buyer`,
    /// `lines`…), at most 500.
    #[schema(value_type = Vec<Object>, min_items = 1, max_items = 500)]
    pub invoices: Vec<Value>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RecordedInvoice {
    pub outcome: Recorded,
    /// Whether a push was queued (the connection's `auto_sync`).
    pub queued: bool,
    #[serde(flatten)]
    pub invoice: InvoiceView,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RecordedInvoices {
    pub items: Vec<RecordedInvoice>,
}

/// Record invoices for an Optima connection; with its `auto_sync` on, each new or changed sale
/// is pushed through the queue (the job is committed with the invoice). A purchase
/// (`"direction": "purchase"`) is kept for the JPK's purchase register, never pushed. All or nothing: an
/// invoice that is not a canonical invoice, or one already synced with other content, refuses
/// the request naming it.
#[utoipa::path(post, path = "/integrations/comarch/invoices", tag = "optima",
    request_body = RecordInvoices,
    responses(
        (status = 200, description = "recorded; each invoice's status", body = RecordedInvoices),
        (status = 400, response = BadRequest),
        (status = 404, description = "the connection belongs to another organization", body = ErrorBody),
        (status = 409, description = "an invoice already synced (or being pushed) with other content", body = ErrorBody),
        (status = 415, response = UnsupportedMediaType),
        (status = 422, description = "unknown connection, or an invoice that is not a canonical invoice or has a bad JPK key (`details.index`, `details.field`)", body = ErrorBody)
    ))]
async fn record_invoices(
    State(app): State<AppState>,
    Extension(connections): Extension<Arc<Connections>>,
    Scoped(auth, _): Scoped<WriteOptima>,
    ApiJson(body): ApiJson<RecordInvoices>,
) -> Result<Json<RecordedInvoices>, ApiError> {
    let partner = body.partner.trim();
    let adapter = owned_connection(&app.api.pool, &connections, auth.org, partner).await?;
    if body.invoices.is_empty() || body.invoices.len() > MAX_BATCH {
        return Err(ApiError::validation(format!(
            "invoices: give 1 to {MAX_BATCH} invoices"
        )));
    }
    let mut identities = Vec::with_capacity(body.invoices.len());
    for (i, v) in body.invoices.iter().enumerate() {
        let refuse = |field: String, message: String| {
            ApiError::new(ErrorCode::ValidationFailed, message)
                .with_details(json!({"index": i, "field": field}))
        };
        let inv: switchyard_core::model::Invoice =
            serde_path_to_error::deserialize(v).map_err(|e| {
                let field = format!("invoices[{i}].{}", e.path());
                ApiError::new(
                    ErrorCode::ValidationFailed,
                    format!("{field}: {}", e.inner()),
                )
                .with_details(json!({"index": i, "field": field}))
            })?;
        // The JPK keys next to the canonical fields (KSeF mark, GTU, procedures, date of
        // supply): refused now rather than when the month's VAT file is written.
        let marks = JpkMarks::from_document(v).map_err(|e| {
            let field = format!("invoices[{i}].{}", e.field);
            refuse(field.clone(), format!("{field}: {}", e.message))
        })?;
        // A purchase is known by its supplier and number (two suppliers may number alike).
        let supplier_nip = match marks.direction {
            Direction::Sale => String::new(),
            Direction::Purchase => {
                let field = format!("invoices[{i}].seller.tax_id");
                let nip = inv.seller.tax_id.as_deref().unwrap_or_default();
                Nip::parse(nip, &field)
                    .map_err(|e| refuse(field.clone(), format!("{e} (a purchase's supplier)")))?
                    .as_str()
                    .to_owned()
            }
        };
        identities.push(Identity {
            direction: marks.direction,
            supplier_nip,
            number: inv.invoice_number.trim().to_owned(),
        });
    }
    let retry = if adapter.partner().auto_sync {
        Some(admit(&app, partner)?)
    } else {
        None
    };
    let now = app.api.queue.now();
    let mut tx = switchyard_store::begin(&app.api.pool)
        .await
        .map_err(|e| ApiError::internal(&e))?;
    let mut items = Vec::with_capacity(identities.len());
    for (identity, doc) in identities.iter().zip(&body.invoices) {
        let (row, outcome) = invoices::record(&mut tx, auth.org, partner, identity, doc, now)
            .await
            .map_err(|e| match e {
                RecordError::Db(e) => ApiError::internal(&e),
                other => ApiError::new(ErrorCode::Conflict, other.to_string())
                    .with_details(json!({"invoice_number": identity.number})),
            })?;
        // A new sale, or a changed one Optima has not taken; also one recorded before
        // `auto_sync` was switched on. Purchases are never pushed.
        let push =
            retry.filter(|_| row.status == SyncStatus::New && row.direction == Direction::Sale);
        let (row, queued) = match push {
            Some(retry) => {
                let (row, _) = invoices::queue_push(&mut tx, &row, retry, now).await?;
                (row, true)
            }
            None => (row, false),
        };
        items.push(RecordedInvoice {
            outcome,
            queued,
            invoice: row.into(),
        });
    }
    tx.commit().await.map_err(|e| ApiError::internal(&e))?;
    Ok(Json(RecordedInvoices { items }))
}

/// The push job's retry policy for `partner`, or why it cannot be queued.
fn admit(app: &AppState, partner: &str) -> Result<switchyard_store::queue::RetrySpec, ApiError> {
    let probe = json!(PushInvoice::new(InvoiceId(Uuid::nil())));
    app.api
        .admission
        .admit(PushInvoice::KIND, Some(partner), &probe)
        .map_err(|r| ApiError::new(r.code, r.message).with_details(r.details))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PushInvoices {
    /// Ledger ids (from `POST /integrations/comarch/invoices`), 1 to 500.
    #[schema(min_items = 1, max_items = 500)]
    pub ids: Vec<Uuid>,
}

/// What a push request did with one id.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PushOutcome {
    /// A push job was queued.
    Queued,
    /// A push is already queued or running: its job is named.
    AlreadyQueued,
    /// Optima has it; nothing queued.
    AlreadySynced,
    /// No invoice with that id in the caller's organization.
    NotFound,
    /// A purchase invoice: it only goes into the JPK's purchase register, never to Optima.
    Purchase,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PushedInvoice {
    pub id: Uuid,
    pub outcome: PushOutcome,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub invoice: Option<InvoiceView>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PushedInvoices {
    pub items: Vec<PushedInvoice>,
}

/// Push recorded invoices to Optima now, through the queue (one job each, retried by the
/// job's policy). Synced ones are left alone; refused ones are pushed again as they are now.
#[utoipa::path(post, path = "/integrations/comarch/push-invoice", tag = "optima",
    request_body = PushInvoices,
    responses(
        (status = 202, description = "what happened to each id", body = PushedInvoices),
        (status = 400, response = BadRequest),
        (status = 404, description = "an invoice's connection belongs to another organization", body = ErrorBody),
        (status = 415, response = UnsupportedMediaType),
        (status = 422, description = "no ids, too many, or an invoice's connection is gone", body = ErrorBody)
    ))]
async fn push_invoices(
    State(app): State<AppState>,
    Extension(connections): Extension<Arc<Connections>>,
    Scoped(auth, _): Scoped<WriteOptima>,
    ApiJson(body): ApiJson<PushInvoices>,
) -> Result<(StatusCode, Json<PushedInvoices>), ApiError> {
    if body.ids.is_empty() || body.ids.len() > MAX_BATCH {
        return Err(ApiError::validation(format!(
            "ids: give 1 to {MAX_BATCH} invoice ids"
        )));
    }
    let now = app.api.queue.now();
    let mut tx = switchyard_store::begin(&app.api.pool)
        .await
        .map_err(|e| ApiError::internal(&e))?;
    let mut items = Vec::with_capacity(body.ids.len());
    for id in body.ids {
        let Some(row) = invoices::lock(&mut tx, auth.org, InvoiceId(id))
            .await
            .map_err(|e| ApiError::internal(&e))?
        else {
            items.push(PushedInvoice {
                id,
                outcome: PushOutcome::NotFound,
                invoice: None,
            });
            continue;
        };
        let (row, outcome) = match row.status {
            _ if row.direction == Direction::Purchase => (row, PushOutcome::Purchase),
            SyncStatus::Synced => (row, PushOutcome::AlreadySynced),
            SyncStatus::Pending => (row, PushOutcome::AlreadyQueued),
            SyncStatus::New | SyncStatus::Error => {
                owned_connection(&app.api.pool, &connections, auth.org, &row.partner).await?;
                let retry = admit(&app, &row.partner)?;
                let (row, _) = invoices::queue_push(&mut tx, &row, retry, now).await?;
                (row, PushOutcome::Queued)
            }
        };
        items.push(PushedInvoice {
            id,
            outcome,
            invoice: Some(row.into()),
        });
    }
    tx.commit().await.map_err(|e| ApiError::internal(&e))?;
    Ok((StatusCode::ACCEPTED, Json(PushedInvoices { items })))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct InvoiceQuery {
    /// Only this connection's invoices.
    pub partner: Option<String>,
    /// `new`, `pending`, `synced` or `error`.
    pub status: Option<SyncStatus>,
    /// The last id of the previous page.
    pub after: Option<Uuid>,
    /// Default 50.
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct InvoicePage {
    pub items: Vec<InvoiceView>,
    /// Pass as `after` for the next page; absent on the last.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_after: Option<Uuid>,
}

/// The caller's Optima invoices and their sync status, oldest first.
#[utoipa::path(get, path = "/integrations/comarch/invoices", tag = "optima",
    params(InvoiceQuery),
    responses(
        (status = 200, body = InvoicePage),
        (status = 400, response = BadRequest),
        (status = 404, description = "`partner` is another organization's connection", body = ErrorBody),
        (status = 422, description = "a `limit` outside 1 to 500", body = ErrorBody)
    ))]
async fn list_invoices(
    State(app): State<AppState>,
    Extension(connections): Extension<Arc<Connections>>,
    Scoped(auth, _): Scoped<ReadOptima>,
    ApiQuery(q): ApiQuery<InvoiceQuery>,
) -> Result<Json<InvoicePage>, ApiError> {
    let limit = page_limit(q.limit)?;
    if let Some(p) = q.partner.as_deref() {
        refuse_foreign(&app.api.pool, &connections, auth.org, p.trim()).await?;
    }
    let rows = invoices::list(
        &app.api.pool,
        auth.org,
        q.partner.as_deref(),
        q.status,
        q.after.map(InvoiceId),
        limit + 1,
    )
    .await
    .map_err(|e| ApiError::internal(&e))?;
    let (rows, more) = split_page(rows, limit);
    let next_after = more.then(|| rows.last().map(|r| r.id.0)).flatten();
    Ok(Json(InvoicePage {
        items: rows.into_iter().map(Into::into).collect(),
        next_after,
    }))
}

/// One invoice's sync status.
#[utoipa::path(get, path = "/integrations/comarch/invoices/{id}", tag = "optima",
    params(("id" = Uuid, Path, description = "the ledger id")),
    responses(
        (status = 200, body = InvoiceView),
        (status = 400, response = BadRequest),
        (status = 404, response = NotFound)
    ))]
async fn get_invoice(
    State(app): State<AppState>,
    Scoped(auth, _): Scoped<ReadOptima>,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<InvoiceView>, ApiError> {
    invoices::get(&app.api.pool, auth.org, InvoiceId(id))
        .await
        .map_err(|e| ApiError::internal(&e))?
        .map(|r| Json(r.into()))
        .ok_or_else(|| ApiError::not_found("invoice"))
}
