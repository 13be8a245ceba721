//! A transaction whose caller is cancelled mid-`BEGIN` (an aborted job, a timeout) must not
//! leave its pooled connection inside a transaction: the next borrower's writes would run in
//! it and be lost when the session ends. sqlx 0.8's `Pool::begin` fails this test
//! (hub/store/src/tx.rs says why); `switchyard_store::begin` passes it.

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::PgPool;
use std::task::Poll;
use switchyard_store::MIGRATOR;

const PROBE: &str = "switchyard-cancelled-begin";

/// The probe session's state as the server sees it (`idle in transaction` once BEGIN ran).
async fn probe_state(pool: &PgPool) -> Option<String> {
    sqlx::query_scalar("SELECT state FROM pg_stat_activity WHERE application_name = $1")
        .bind(PROBE)
        .fetch_optional(pool)
        .await
        .unwrap()
        .flatten()
}

#[sqlx::test(migrator = "MIGRATOR")]
async fn a_begin_cancelled_after_the_server_ran_it_leaves_no_transaction_open(pool: PgPool) {
    sqlx::query("CREATE TABLE marks (n int)")
        .execute(&pool)
        .await
        .unwrap();
    // One connection, so the write after the cancelled begin reuses its session.
    let options: PgConnectOptions = (*pool.connect_options()).clone().application_name(PROBE);
    let one = PgPoolOptions::new()
        .max_connections(1)
        .connect_with(options)
        .await
        .unwrap();
    let mut cancelled_inside = false;
    for _attempt in 0..50 {
        let mut begin = std::pin::pin!(switchyard_store::begin(&one));
        loop {
            if let Poll::Ready(tx) = futures::poll!(begin.as_mut()) {
                // Finished before we saw it open: nothing cancelled; try again.
                drop(tx.unwrap());
                break;
            }
            // The server has run BEGIN while the caller still waits: cancel right here, as an
            // aborted job would.
            if probe_state(&pool).await.as_deref() == Some("idle in transaction") {
                cancelled_inside = true;
                break;
            }
        }
        if cancelled_inside {
            break;
        }
    }
    assert!(cancelled_inside, "never caught BEGIN in flight");

    sqlx::query("INSERT INTO marks VALUES (1)")
        .execute(&one)
        .await
        .unwrap();
    // Seen from another session: committed, not held in a forgotten transaction.
    let seen: i64 = sqlx::query_scalar("SELECT count(*) FROM marks")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(seen, 1, "the write after the cancelled begin was lost");
}
