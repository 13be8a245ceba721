//! API keys of the caller's organization (scope `admin:keys`).

use crate::auth::{AdminKeys, Scoped};
use crate::error::{ApiError, ApiJson, ApiPath, ErrorBody};
use crate::key_authority::{may_change_privileges, may_grant, may_manage};
use crate::responses::{BadRequest, NotFound, UnsupportedMediaType};
use crate::schemas;
use crate::scopes::ScopeSpec;
use crate::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Deserializer, Serialize};
use switchyard_core::ids::ApiKeyId;
use switchyard_store::keys::{self, KeyRow, KeyState, KeyUpdate, NewKey, Scope, Tier};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_key, list_keys))
        .routes(routes!(get_key, update_key))
        .routes(routes!(suspend_key))
        .routes(routes!(reactivate_key))
        .routes(routes!(revoke_key))
        .routes(routes!(regenerate_key))
        .routes(routes!(list_scopes))
}

/// A key as listings show it: never the secret, only its first characters.
#[derive(Debug, Serialize, ToSchema)]
pub struct KeyView {
    #[schema(value_type = uuid::Uuid)]
    pub id: ApiKeyId,
    pub name: String,
    /// The key's first characters and an ellipsis, e.g. `sy_AbC12xYz…`.
    pub masked: String,
    #[schema(value_type = Vec<ScopeName>, example = json!(["read:logs", "write:jobs"]))]
    pub scopes: Vec<Scope>,
    #[schema(schema_with = schemas::tier)]
    pub tier: Tier,
    #[schema(schema_with = schemas::key_state)]
    pub state: KeyState,
    pub expires_at: Option<DateTime<Utc>>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<KeyRow> for KeyView {
    fn from(k: KeyRow) -> Self {
        Self {
            masked: k.masked(),
            id: k.id,
            name: k.name,
            scopes: k.scopes,
            tier: k.tier,
            state: k.state,
            expires_at: k.expires_at,
            last_used_at: k.last_used_at,
            created_at: k.created_at,
            updated_at: k.updated_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct KeyList {
    pub items: Vec<KeyView>,
}

/// A key and its secret: the only time the secret is shown.
#[derive(Debug, Serialize, ToSchema)]
pub struct KeyWithSecret {
    pub key: KeyView,
    /// Store it now; it cannot be retrieved again.
    pub secret: String,
}

/// A scope a key may hold: one of the scopes this build declares (`GET /api/v1/scopes`). The
/// served document lists them as an enum (`crate::router` fills it in from the declared
/// scopes); a build's document without a server names only their form.
#[derive(ToSchema)]
#[schema(value_type = String, pattern = r"^(read|write|admin):[a-z][a-z0-9-]*$")]
pub struct ScopeName(pub String);

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateKey {
    #[schema(schema_with = schemas::key_name)]
    pub name: String,
    /// Scopes the calling key holds itself (403 otherwise).
    #[schema(value_type = Vec<ScopeName>, min_items = 1, example = json!(["read:logs"]))]
    pub scopes: Vec<String>,
    /// `standard` when absent; no higher than the calling key's own tier (403 otherwise).
    #[serde(default)]
    #[schema(schema_with = schemas::tier, required = false)]
    pub tier: Tier,
    /// When the key stops working; in the future. Never when absent or `null`.
    pub expires_at: Option<DateTime<Utc>>,
}

/// Absent fields stay as they are; `"expires_at": null` clears the expiry.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateKey {
    #[schema(schema_with = schemas::key_name, nullable)]
    pub name: Option<String>,
    #[schema(value_type = Option<Vec<ScopeName>>, min_items = 1)]
    pub scopes: Option<Vec<String>>,
    #[schema(schema_with = schemas::tier_or_null)]
    pub tier: Option<Tier>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<DateTime<Utc>>)]
    pub expires_at: Option<Option<DateTime<Utc>>>,
}

/// `Some(value)` whenever the field is present, so `null` can mean "clear".
fn present<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(d).map(Some)
}

async fn found(
    app: &AppState,
    auth_org: switchyard_core::ids::OrgId,
    id: ApiKeyId,
) -> Result<KeyRow, ApiError> {
    keys::get(&app.api.pool, auth_org, id)
        .await?
        .ok_or_else(|| ApiError::not_found("api key"))
}

/// Create a key in the caller's organization.
#[utoipa::path(post, path = "/keys", tag = "keys", request_body = CreateKey,
    responses(
        (status = 201, body = KeyWithSecret),
        (status = 400, response = BadRequest), (status = 415, response = UnsupportedMediaType),
        (status = 422, description = "an invalid body, an undeclared scope, or `expires_at` in the past", body = ErrorBody)
    ))]
async fn create_key(
    State(app): State<AppState>,
    Scoped(auth, _): Scoped<AdminKeys>,
    ApiJson(body): ApiJson<CreateKey>,
) -> Result<(StatusCode, Json<KeyWithSecret>), ApiError> {
    let scopes = app.api.scopes.parse_all(&body.scopes)?;
    may_grant(&auth, &scopes, body.tier)?;
    let (row, secret) = keys::create(
        &app.api.pool,
        &NewKey {
            org: auth.org,
            name: body.name,
            scopes,
            tier: body.tier,
            expires_at: body.expires_at,
        },
    )
    .await?;
    Ok((
        StatusCode::CREATED,
        Json(KeyWithSecret {
            key: row.into(),
            secret,
        }),
    ))
}

/// Every key of the caller's organization, masked.
#[utoipa::path(get, path = "/keys", tag = "keys", responses((status = 200, body = KeyList)))]
async fn list_keys(
    State(app): State<AppState>,
    Scoped(auth, _): Scoped<AdminKeys>,
) -> Result<Json<KeyList>, ApiError> {
    let rows = keys::list(&app.api.pool, auth.org).await?;
    Ok(Json(KeyList {
        items: rows.into_iter().map(KeyView::from).collect(),
    }))
}

#[utoipa::path(get, path = "/keys/{id}", tag = "keys",
    params(("id" = uuid::Uuid, Path, description = "key id")),
    responses((status = 200, body = KeyView), (status = 400, response = BadRequest), (status = 404, response = NotFound)))]
async fn get_key(
    State(app): State<AppState>,
    Scoped(auth, _): Scoped<AdminKeys>,
    ApiPath(id): ApiPath<ApiKeyId>,
) -> Result<Json<KeyView>, ApiError> {
    Ok(Json(found(&app, auth.org, id).await?.into()))
}

/// Change name, scopes, tier or expiry. A revoked key cannot be changed (409).
#[utoipa::path(patch, path = "/keys/{id}", tag = "keys", request_body = UpdateKey,
    params(("id" = uuid::Uuid, Path, description = "key id")),
    responses((status = 200, body = KeyView), (status = 400, response = BadRequest),
        (status = 404, response = NotFound), (status = 409, description = "the key is revoked", body = ErrorBody),
        (status = 415, response = UnsupportedMediaType),
        (status = 422, description = "an invalid body, an undeclared scope, or `expires_at` in the past", body = ErrorBody)))]
async fn update_key(
    State(app): State<AppState>,
    Scoped(auth, _): Scoped<AdminKeys>,
    ApiPath(id): ApiPath<ApiKeyId>,
    ApiJson(body): ApiJson<UpdateKey>,
) -> Result<Json<KeyView>, ApiError> {
    let scopes = match &body.scopes {
        Some(names) => Some(app.api.scopes.parse_all(names)?),
        None => None,
    };
    may_change_privileges(&auth, id, scopes.is_some(), body.tier.is_some())?;
    let target = found(&app, auth.org, id).await?;
    may_manage(&auth, &target)?;
    may_grant(
        &auth,
        scopes.as_deref().unwrap_or_default(),
        body.tier.unwrap_or(target.tier),
    )?;
    let change = KeyUpdate {
        name: body.name,
        scopes,
        tier: body.tier,
        expires_at: body.expires_at,
    };
    Ok(Json(
        keys::update(&app.api.pool, auth.org, id, &change)
            .await?
            .into(),
    ))
}

/// Stop the key from working until it is reactivated.
#[utoipa::path(post, path = "/keys/{id}/suspend", tag = "keys",
    params(("id" = uuid::Uuid, Path, description = "key id")),
    responses((status = 200, body = KeyView), (status = 400, response = BadRequest),
        (status = 404, response = NotFound), (status = 409, description = "the key is revoked", body = ErrorBody)))]
async fn suspend_key(
    State(app): State<AppState>,
    Scoped(auth, _): Scoped<AdminKeys>,
    ApiPath(id): ApiPath<ApiKeyId>,
) -> Result<Json<KeyView>, ApiError> {
    may_manage(&auth, &found(&app, auth.org, id).await?)?;
    Ok(Json(
        keys::suspend(&app.api.pool, auth.org, id).await?.into(),
    ))
}

#[utoipa::path(post, path = "/keys/{id}/reactivate", tag = "keys",
    params(("id" = uuid::Uuid, Path, description = "key id")),
    responses((status = 200, body = KeyView), (status = 400, response = BadRequest),
        (status = 404, response = NotFound), (status = 409, description = "the key is revoked", body = ErrorBody)))]
async fn reactivate_key(
    State(app): State<AppState>,
    Scoped(auth, _): Scoped<AdminKeys>,
    ApiPath(id): ApiPath<ApiKeyId>,
) -> Result<Json<KeyView>, ApiError> {
    may_manage(&auth, &found(&app, auth.org, id).await?)?;
    Ok(Json(
        keys::reactivate(&app.api.pool, auth.org, id).await?.into(),
    ))
}

/// Disable the key for good.
#[utoipa::path(post, path = "/keys/{id}/revoke", tag = "keys",
    params(("id" = uuid::Uuid, Path, description = "key id")),
    responses((status = 200, body = KeyView), (status = 400, response = BadRequest), (status = 404, response = NotFound)))]
async fn revoke_key(
    State(app): State<AppState>,
    Scoped(auth, _): Scoped<AdminKeys>,
    ApiPath(id): ApiPath<ApiKeyId>,
) -> Result<Json<KeyView>, ApiError> {
    may_manage(&auth, &found(&app, auth.org, id).await?)?;
    Ok(Json(
        keys::revoke(&app.api.pool, auth.org, id).await?.into(),
    ))
}

/// A new secret for the key; the old one stops working at once.
#[utoipa::path(post, path = "/keys/{id}/regenerate", tag = "keys",
    params(("id" = uuid::Uuid, Path, description = "key id")),
    responses((status = 200, body = KeyWithSecret), (status = 400, response = BadRequest),
        (status = 404, response = NotFound), (status = 409, description = "the key is revoked", body = ErrorBody)))]
async fn regenerate_key(
    State(app): State<AppState>,
    Scoped(auth, _): Scoped<AdminKeys>,
    ApiPath(id): ApiPath<ApiKeyId>,
) -> Result<Json<KeyWithSecret>, ApiError> {
    may_manage(&auth, &found(&app, auth.org, id).await?)?;
    let (row, secret) = keys::regenerate(&app.api.pool, auth.org, id).await?;
    Ok(Json(KeyWithSecret {
        key: row.into(),
        secret,
    }))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ScopeList {
    /// Every scope a key may hold in this build: the hub's and its integrations'. A `write:`
    /// scope grants the matching `read:` scope.
    pub items: Vec<ScopeSpec>,
}

/// The scopes keys may be given.
#[utoipa::path(get, path = "/scopes", tag = "keys", responses((status = 200, body = ScopeList)))]
async fn list_scopes(State(app): State<AppState>, _caller: Scoped<AdminKeys>) -> Json<ScopeList> {
    Json(ScopeList {
        items: app.api.scopes.all().to_vec(),
    })
}
