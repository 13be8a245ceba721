//! Starting a transaction so that cancelling the caller can never leave a pooled connection
//! inside it.
//!
//! sqlx 0.8's `Pool::begin` is not cancel-safe on Postgres (sqlx issues #4385 and #4393): it
//! raises the transaction depth its rollback-on-drop guard keys on only after the `BEGIN`
//! round trip, so a future dropped during that round trip (an aborted job, a timeout, a killed
//! poll) returns the connection to the pool still inside a transaction nobody will end. The
//! next borrowers' statements then run inside it and are silently lost when the connection
//! closes. The EDI mailbox test that cuts a poll off mid-file caught exactly that (acks written
//! to the mailbox, their `sent` status never committed). The fix upstream is not in a 0.8
//! release, so [`begin`] runs the `BEGIN` round trip in a task of its own: the caller may be
//! dropped at any point, the task still finishes, and a transaction nobody took is dropped
//! with its depth counted, which queues the `ROLLBACK` that the pool flushes when the
//! connection comes back. `clippy.toml` forbids `Pool::begin` so every caller goes through
//! here.

use sqlx::{PgPool, Postgres, Transaction};

/// `pool.begin()`, safe to cancel.
pub async fn begin(pool: &PgPool) -> Result<Transaction<'static, Postgres>, sqlx::Error> {
    let pool = pool.clone();
    #[allow(clippy::disallowed_methods)] // The one place allowed to call it (see above).
    let task = tokio::spawn(async move { pool.begin().await });
    match task.await {
        Ok(result) => result,
        // The task only panics if sqlx does; a cancelled task means the runtime is shutting down.
        Err(e) => Err(sqlx::Error::Io(std::io::Error::other(format!(
            "starting a transaction: {e}"
        )))),
    }
}
