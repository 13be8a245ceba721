//! The last tick each schedule fired (`schedule_state`), shared by every process so a restart
//! knows which ticks it missed.

use crate::db::Result;
use chrono::{DateTime, Utc};
use sqlx::PgPool;

/// Record that `name` fired up to `tick` (never moves backwards).
pub async fn record_tick(pool: &PgPool, name: &str, tick: DateTime<Utc>) -> Result<()> {
    sqlx::query(
        "INSERT INTO schedule_state (name, last_tick) VALUES ($1, $2)
         ON CONFLICT (name) DO UPDATE SET last_tick = greatest(schedule_state.last_tick, EXCLUDED.last_tick)",
    )
    .bind(name)
    .bind(tick)
    .execute(pool)
    .await?;
    Ok(())
}

/// The last tick any process fired for `name`.
pub async fn last_tick(pool: &PgPool, name: &str) -> Result<Option<DateTime<Utc>>> {
    let row: Option<(DateTime<Utc>,)> =
        sqlx::query_as("SELECT last_tick FROM schedule_state WHERE name = $1")
            .bind(name)
            .fetch_optional(pool)
            .await?;
    Ok(row.map(|r| r.0))
}
