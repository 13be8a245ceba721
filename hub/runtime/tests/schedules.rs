//! Schedules against a real database: ticks become one job each, however often they are fired,
//! and the missed-tick policy decides what happens after downtime.

use chrono::{Duration, TimeZone, Utc};
use sqlx::PgPool;
use std::sync::Arc;
use switchyard_core::clock::ManualClock;
use switchyard_runtime::schedules::{self, Schedule};
use switchyard_store::queue::{Queue, RetrySpec};
use switchyard_store::{orgs, MIGRATOR};

fn schedule(text: &str) -> Schedule {
    schedules::parse(std::path::Path::new("schedules/stock.toml"), text).expect("valid schedule")
}

async fn jobs_for(pool: &PgPool, name: &str) -> Vec<String> {
    sqlx::query_scalar(
        "SELECT idempotency_key FROM jobs WHERE idempotency_key LIKE $1 ORDER BY idempotency_key",
    )
    .bind(format!("schedule:{name}:%"))
    .fetch_all(pool)
    .await
    .unwrap()
}

#[sqlx::test(migrator = "MIGRATOR")]
async fn each_tick_is_one_job_even_when_fired_by_several_processes(pool: PgPool) {
    let start = Utc.with_ymd_and_hms(2026, 5, 4, 10, 0, 0).unwrap();
    let queue = Queue::new(pool.clone(), Arc::new(ManualClock::new(start)));
    let org = orgs::ensure(&pool, "acme").await.unwrap().id;
    let s = schedule("cron = \"0 */15 * * * *\"\njob = \"inventory.sync\"\npartner = \"shop\"\n");
    let until = start + Duration::hours(1);
    // Three "processes" fire the same window; only the first creates the jobs.
    let first = schedules::fire_ticks(&queue, &s, org, RetrySpec::default(), start, until)
        .await
        .unwrap();
    let second = schedules::fire_ticks(&queue, &s, org, RetrySpec::default(), start, until)
        .await
        .unwrap();
    let third = schedules::fire_ticks(
        &queue,
        &s,
        org,
        RetrySpec::default(),
        start + Duration::minutes(20),
        until,
    )
    .await
    .unwrap();
    assert_eq!((first, second, third), (4, 0, 0));
    assert_eq!(jobs_for(&pool, "stock").await.len(), 4);
    assert_eq!(
        schedules::last_tick(&queue, "stock").await.unwrap(),
        Some(until)
    );
}

#[sqlx::test(migrator = "MIGRATOR")]
async fn missed_ticks_run_once_or_are_skipped(pool: PgPool) {
    let start = Utc.with_ymd_and_hms(2026, 5, 4, 10, 0, 0).unwrap();
    let queue = Queue::new(pool.clone(), Arc::new(ManualClock::new(start)));
    let org = orgs::ensure(&pool, "acme").await.unwrap().id;
    let run_once = schedule(
        "name = \"prices\"\ncron = \"0 0 * * * *\"\njob = \"prices.sync\"\nmissed = \"run_once\"\n",
    );
    let skip = schedule(
        "name = \"stock\"\ncron = \"0 0 * * * *\"\njob = \"inventory.sync\"\nmissed = \"skip\"\n",
    );
    for s in [&run_once, &skip] {
        schedules::fire_ticks(
            &queue,
            s,
            org,
            RetrySpec::default(),
            start - Duration::minutes(1),
            start,
        )
        .await
        .unwrap();
    }
    // Down for five hours: five ticks missed.
    let back = start + Duration::hours(5) + Duration::minutes(30);
    schedules::catch_up(&queue, &run_once, org, RetrySpec::default(), back)
        .await
        .unwrap();
    schedules::catch_up(&queue, &skip, org, RetrySpec::default(), back)
        .await
        .unwrap();
    let prices = jobs_for(&pool, "prices").await;
    assert_eq!(
        prices.len(),
        2,
        "the first tick plus one catch-up run: {prices:?}"
    );
    assert!(
        prices[1].ends_with(&(start + Duration::hours(5)).to_rfc3339()),
        "the catch-up is for the latest missed tick: {prices:?}"
    );
    assert_eq!(
        jobs_for(&pool, "stock").await.len(),
        1,
        "skip creates nothing for missed ticks"
    );
}
