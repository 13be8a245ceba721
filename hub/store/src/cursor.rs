//! Keyset cursors for newest-first listings: the `(time, id)` of the last row seen, opaque to
//! clients (base64url of `micros:uuid`). One encoding for every listing that pages this way.

use crate::db::{Result, StoreError};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::{DateTime, Utc};
use sqlx::{Postgres, QueryBuilder};
use uuid::Uuid;

/// Append the keyset condition, the newest-first order and a limit one larger than the page
/// (the extra row tells whether there is a next page). `time_column` is a trusted column name.
pub fn push_page(
    qb: &mut QueryBuilder<'_, Postgres>,
    time_column: &str,
    after: Option<(DateTime<Utc>, Uuid)>,
    limit: i64,
) {
    if let Some((at, id)) = after {
        qb.push(format!(" AND ({time_column}, id) < ("))
            .push_bind(at)
            .push(", ")
            .push_bind(id)
            .push(")");
    }
    qb.push(format!(" ORDER BY {time_column} DESC, id DESC LIMIT "))
        .push_bind(limit + 1);
}

/// Cut the extra row fetched by [`push_page`] and return the next page's cursor key, if any.
pub fn split_page<T>(
    rows: &mut Vec<T>,
    limit: i64,
    key: impl Fn(&T) -> (DateTime<Utc>, Uuid),
) -> Option<(DateTime<Utc>, Uuid)> {
    if rows.len() as i64 > limit {
        rows.truncate(limit as usize);
        rows.last().map(key)
    } else {
        None
    }
}

pub fn encode(at: DateTime<Utc>, id: Uuid) -> String {
    URL_SAFE_NO_PAD.encode(format!("{}:{}", at.timestamp_micros(), id))
}

pub fn decode(s: &str) -> Result<(DateTime<Utc>, Uuid)> {
    let bad = || StoreError::Invalid(format!("malformed cursor `{s}`"));
    let bytes = URL_SAFE_NO_PAD.decode(s).map_err(|_| bad())?;
    let text = String::from_utf8(bytes).map_err(|_| bad())?;
    let (micros, id) = text.split_once(':').ok_or_else(bad)?;
    let micros: i64 = micros.parse().map_err(|_| bad())?;
    // Only times a row can have: chrono takes years Postgres's `timestamptz` refuses
    // ("timestamp out of range", a 500 if it reached the query).
    let at = DateTime::from_timestamp_micros(micros)
        .filter(|at| crate::storable::time_in_range(*at))
        .ok_or_else(bad)?;
    Ok((at, Uuid::parse_str(id).map_err(|_| bad())?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_rejects_garbage() {
        let at = DateTime::from_timestamp_micros(1_790_000_000_123_456).unwrap();
        let id = Uuid::now_v7();
        assert_eq!(decode(&encode(at, id)).unwrap(), (at, id));
        for bad in [
            "",
            "%%%",
            &URL_SAFE_NO_PAD.encode("12:not-a-uuid"),
            &URL_SAFE_NO_PAD.encode("x:y"),
            // Times chrono holds and Postgres does not.
            &URL_SAFE_NO_PAD.encode(format!("-8000000000000000000:{id}")),
            &URL_SAFE_NO_PAD.encode(format!("8000000000000000000:{id}")),
        ] {
            assert!(decode(bad).is_err(), "{bad}");
        }
    }
}
