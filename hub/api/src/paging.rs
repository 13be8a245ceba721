//! Page sizes and keyset pages, the same for every listing; the size limit of bulk calls.

use crate::error::{ApiError, ErrorCode};

pub const DEFAULT_LIMIT: i64 = 50;
pub const MAX_LIMIT: i64 = 500;

/// The page size from a `limit` query parameter: 1..=500, 50 when absent.
pub fn page_limit(limit: Option<i64>) -> Result<i64, ApiError> {
    match limit {
        None => Ok(DEFAULT_LIMIT),
        Some(n) if (1..=MAX_LIMIT).contains(&n) => Ok(n),
        Some(n) => Err(ApiError::new(
            ErrorCode::ValidationFailed,
            format!("limit must be between 1 and {MAX_LIMIT}, got {n}"),
        )),
    }
}

/// Split one extra fetched row off a page: the rows to return, and whether there are more.
pub fn split_page<T>(mut rows: Vec<T>, limit: i64) -> (Vec<T>, bool) {
    let more = rows.len() as i64 > limit;
    rows.truncate(limit as usize);
    (rows, more)
}

/// A bulk call's list `field` holds at most `max` entries (the schema's `maxItems`): 422
/// naming it otherwise.
pub fn at_most(field: &str, len: usize, max: usize) -> Result<(), ApiError> {
    if len > max {
        return Err(ApiError::validation(format!(
            "{field}: at most {max} per call, got {len}"
        )));
    }
    Ok(())
}
