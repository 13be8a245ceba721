//! What a key may do to keys: never more than it holds itself.
//!
//! `admin:keys` lets a key manage its organization's keys, but managing is not escalating:
//! a key grants only scopes it holds and a tier no higher than its own, acts only on keys it
//! dominates (their scopes within its own, their tier no higher), and cannot change its own
//! scopes or tier. Without the last two rules a key manager could regenerate the secret of an
//! all-scopes key, or widen itself. The first all-scopes key comes from the CLI
//! (`switchyard admin create-key`), which runs with the operator's access to the database.

use crate::auth::Auth;
use crate::error::{ApiError, ErrorCode};
use serde_json::json;
use switchyard_core::ids::ApiKeyId;
use switchyard_store::keys::{self, KeyRow, Scope, Tier};

/// Refuse scopes or a tier the caller does not itself hold.
pub(crate) fn may_grant(caller: &Auth, scopes: &[Scope], tier: Tier) -> Result<(), ApiError> {
    if let Some(missing) = scopes
        .iter()
        .find(|s| !keys::has_scope(&caller.scopes, s.as_str()))
    {
        return Err(ApiError::new(
            ErrorCode::Forbidden,
            format!("this key cannot grant `{missing}`: it does not hold that scope itself"),
        )
        .with_details(json!({ "scope": missing.as_str() })));
    }
    if tier > caller.tier {
        return Err(ApiError::new(
            ErrorCode::Forbidden,
            format!(
                "this key cannot grant the `{}` tier: its own tier is `{}`",
                tier.as_str(),
                caller.tier.as_str()
            ),
        )
        .with_details(json!({ "tier": tier.as_str(), "own_tier": caller.tier.as_str() })));
    }
    Ok(())
}

/// Refuse to act on a key that holds more than the caller (a scope it lacks, a higher tier).
pub(crate) fn may_manage(caller: &Auth, target: &KeyRow) -> Result<(), ApiError> {
    may_grant(caller, &target.scopes, target.tier).map_err(|_| {
        ApiError::new(
            ErrorCode::Forbidden,
            "this key cannot manage a key that holds scopes or a tier it does not hold itself",
        )
        .with_details(json!({ "key": target.id.to_string() }))
    })
}

/// Refuse a change of the caller's own scopes or tier: a key never widens (or, by mistake,
/// narrows) itself; another key of at least its authority does that.
pub(crate) fn may_change_privileges(
    caller: &Auth,
    target: ApiKeyId,
    changes_scopes: bool,
    changes_tier: bool,
) -> Result<(), ApiError> {
    if caller.key_id == target && (changes_scopes || changes_tier) {
        return Err(ApiError::new(
            ErrorCode::Forbidden,
            "a key cannot change its own scopes or tier",
        ));
    }
    Ok(())
}
