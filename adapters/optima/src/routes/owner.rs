//! Which organization may use which Optima connection. A connection is a `[partners.NAME]`
//! table with its `org = "slug"`; only that organization's API keys may test it, record,
//! push or list its invoices, pull or read its chart of accounts, or file its VAT reports.
//!
//! * a name no connection has: 422 `unknown_partner`, listing the caller's own connections
//!   (never another organization's);
//! * a connection of another organization: 404, as if the caller asked for a record it does
//!   not own (the hub's rule for rows of another organization). The name itself is config,
//!   not data; what it guards is the data behind it.
//!
//! The jobs check again ([`owns`]) so a job queued by other means (a replayed dead letter,
//! an admin's hand) still cannot read one organization's invoices into another's file.

use super::Connections;
use crate::OptimaAdapter;
use serde_json::json;
use sqlx::PgPool;
use std::sync::Arc;
use switchyard_api::error::{ApiError, ErrorCode};
use switchyard_core::ids::OrgId;
use switchyard_store::StoreError;

/// The slug of organization `org`, if it exists.
async fn slug(pool: &PgPool, org: OrgId) -> Result<Option<String>, StoreError> {
    Ok(switchyard_store::orgs::by_id(pool, org)
        .await?
        .map(|o| o.slug))
}

/// Whether `org` owns `adapter`.
pub async fn owns(pool: &PgPool, org: OrgId, adapter: &OptimaAdapter) -> Result<bool, StoreError> {
    Ok(slug(pool, org).await?.as_deref() == Some(adapter.org()))
}

fn foreign(name: &str) -> ApiError {
    ApiError::new(
        ErrorCode::NotFound,
        format!("no Optima connection `{name}` in your organization"),
    )
    .with_details(json!({"partner": name}))
}

/// The caller's Optima connection `name`, or why not (see the module).
pub(crate) async fn owned_connection<'a>(
    pool: &PgPool,
    connections: &'a Connections,
    org: OrgId,
    name: &str,
) -> Result<&'a Arc<OptimaAdapter>, ApiError> {
    let mine = slug(pool, org).await?;
    let is_mine = |a: &OptimaAdapter| mine.as_deref() == Some(a.org());
    match connections.get(name) {
        Some(a) if is_mine(a) => Ok(a),
        Some(_) => Err(foreign(name)),
        None => {
            let known: Vec<&str> = connections
                .iter()
                .filter(|(_, a)| is_mine(a))
                .map(|(n, _)| n.as_str())
                .collect();
            Err(ApiError::new(
                ErrorCode::UnknownPartner,
                format!(
                    "no Optima connection `{name}` (yours: {})",
                    if known.is_empty() {
                        "none".to_owned()
                    } else {
                        known.join(", ")
                    }
                ),
            )
            .with_details(json!({"partner": name})))
        }
    }
}

/// For the read routes' `?partner=` filter: refuse a connection of another organization
/// (404); an unknown name simply matches nothing.
pub(crate) async fn refuse_foreign(
    pool: &PgPool,
    connections: &Connections,
    org: OrgId,
    name: &str,
) -> Result<(), ApiError> {
    match connections.get(name) {
        Some(a) if !owns(pool, org, a).await? => Err(foreign(name)),
        _ => Ok(()),
    }
}

/// For the jobs: a permanent error unless `org` owns `adapter` (a transient one when the
/// database cannot say).
pub(crate) async fn job_owns(
    pool: &PgPool,
    org: OrgId,
    adapter: &OptimaAdapter,
    partner: &str,
) -> Result<(), switchyard_core::error::AdapterError> {
    use switchyard_core::error::AdapterError;
    match owns(pool, org, adapter).await {
        Ok(true) => Ok(()),
        Ok(false) => Err(AdapterError::permanent(format!(
            "the Optima connection `{partner}` belongs to organization `{}`, not to this job's",
            adapter.org()
        ))),
        Err(e) => Err(AdapterError::transient(format!(
            "looking up the job's organization: {e}"
        ))),
    }
}
