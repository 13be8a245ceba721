//! The chart of accounts (FR-INT-022): pull it now (`POST /integrations/comarch/sync-accounts`,
//! through the queue) and read it (`GET /integrations/comarch/accounts`).

use super::{owned_connection, refuse_foreign, Connections, ReadOptima, WriteOptima};
use crate::chart_job::SyncAccounts;
use crate::chart_store::{self, AccountRow, LastSync};
use axum::extract::State;
use axum::http::StatusCode;
use axum::{Extension, Json};
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::sync::Arc;
use switchyard_api::error::{ApiError, ApiJson, ApiQuery, ErrorBody};
use switchyard_api::responses::{BadRequest, UnsupportedMediaType};
use switchyard_api::{AppState, Scoped};
use switchyard_core::JobPayload;
use switchyard_store::queue::NewJob;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(sync_accounts))
        .routes(routes!(list_accounts))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SyncAccountsRequest {
    /// The Optima connection.
    pub partner: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SyncQueued {
    /// The `optima.accounts.sync` job (`GET /api/v1/jobs/{id}`).
    pub job_id: Uuid,
}

/// Pull the connection's chart of accounts now (an `optima.accounts.sync` job).
#[utoipa::path(post, path = "/integrations/comarch/sync-accounts", tag = "optima",
    request_body = SyncAccountsRequest,
    responses(
        (status = 202, body = SyncQueued),
        (status = 400, response = BadRequest),
        (status = 404, description = "the connection belongs to another organization", body = ErrorBody),
        (status = 415, response = UnsupportedMediaType),
        (status = 422, description = "no Optima connection of that name", body = ErrorBody)
    ))]
async fn sync_accounts(
    State(app): State<AppState>,
    Extension(connections): Extension<Arc<Connections>>,
    Scoped(auth, _): Scoped<WriteOptima>,
    ApiJson(body): ApiJson<SyncAccountsRequest>,
) -> Result<(StatusCode, Json<SyncQueued>), ApiError> {
    let partner = body.partner.trim();
    owned_connection(&app.api.pool, &connections, auth.org, partner).await?;
    let payload = json!(SyncAccounts::default());
    let retry = app
        .api
        .admission
        .admit(SyncAccounts::KIND, Some(partner), &payload)
        .map_err(|r| ApiError::new(r.code, r.message).with_details(r.details))?;
    let job = app
        .api
        .queue
        .enqueue(
            NewJob::new(auth.org, SyncAccounts::KIND, payload)
                .partner(partner)
                .retry(retry),
        )
        .await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(SyncQueued {
            job_id: job.job.id.0,
        }),
    ))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AccountsQuery {
    /// The Optima connection.
    pub partner: String,
    /// Also the accounts Optima no longer lists (`active: false`).
    #[serde(default)]
    pub include_inactive: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Accounts {
    pub partner: String,
    /// The last pull; absent before the first.
    pub last_sync: Option<LastSync>,
    pub items: Vec<AccountRow>,
}

/// The connection's chart of accounts as last pulled, by account code.
#[utoipa::path(get, path = "/integrations/comarch/accounts", tag = "optima",
    params(AccountsQuery),
    responses(
        (status = 200, body = Accounts),
        (status = 400, response = BadRequest),
        (status = 404, description = "another organization's connection", body = ErrorBody)
    ))]
async fn list_accounts(
    State(app): State<AppState>,
    Extension(connections): Extension<Arc<Connections>>,
    Scoped(auth, _): Scoped<ReadOptima>,
    ApiQuery(q): ApiQuery<AccountsQuery>,
) -> Result<Json<Accounts>, ApiError> {
    let partner = q.partner.trim();
    let pool = &app.api.pool;
    refuse_foreign(pool, &connections, auth.org, partner).await?;
    let last_sync = chart_store::last_sync(pool, auth.org, partner)
        .await
        .map_err(|e| ApiError::internal(&e))?;
    let items = chart_store::list(pool, auth.org, partner, q.include_inactive)
        .await
        .map_err(|e| ApiError::internal(&e))?;
    Ok(Json(Accounts {
        partner: partner.to_owned(),
        last_sync,
        items,
    }))
}
