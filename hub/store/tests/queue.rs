//! Queue behaviour against a real Postgres: each test gets a fresh database from
//! `#[sqlx::test]` and a manual clock, so retry timing is checked without sleeping.

use chrono::{Duration, TimeZone, Utc};
use serde_json::json;
use sqlx::PgPool;
use std::sync::Arc;
use std::time::Duration as StdDuration;
use switchyard_core::clock::{Clock, ManualClock};
use switchyard_core::error::ErrorClass;
use switchyard_core::ids::{OrgId, WorkerId};
use switchyard_store::queue::{
    ClaimedJob, DeadLetterState, FailOutcome, Failure, JobState, NewJob, Queue, Replay,
    RetryPolicy, RetrySpec,
};
use switchyard_store::{orgs, MIGRATOR};

const LEASE: StdDuration = StdDuration::from_secs(30);

async fn setup(pool: PgPool) -> (Queue, ManualClock, OrgId) {
    let clock = ManualClock::new(Utc.with_ymd_and_hms(2026, 3, 1, 12, 0, 0).unwrap());
    let org = orgs::ensure(&pool, "acme").await.unwrap().id;
    (Queue::new(pool, Arc::new(clock.clone())), clock, org)
}

fn transient(msg: &str) -> Failure {
    Failure {
        class: ErrorClass::transient(),
        message: msg.into(),
        status: Some(503),
    }
}

async fn claim_one(q: &Queue, w: WorkerId) -> Option<ClaimedJob> {
    let mut jobs = q.claim(w, 1, LEASE).await.unwrap();
    assert!(jobs.len() <= 1);
    jobs.pop()
}

#[sqlx::test(migrator = "MIGRATOR")]
async fn idempotency_key_dedupes_per_org_and_kind(pool: PgPool) {
    let (q, _clock, org) = setup(pool.clone()).await;
    let first = q
        .enqueue(NewJob::new(org, "push", json!({"n": 1})).key("k1"))
        .await
        .unwrap();
    let again = q
        .enqueue(NewJob::new(org, "push", json!({"n": 2})).key("k1"))
        .await
        .unwrap();
    assert!(first.created);
    assert!(!again.created);
    assert_eq!(first.job.id, again.job.id);
    assert_eq!(
        again.job.payload,
        json!({"n": 1}),
        "the first job's payload is kept"
    );
    let other_kind = q
        .enqueue(NewJob::new(org, "pull", json!({})).key("k1"))
        .await
        .unwrap();
    assert!(other_kind.created);
    let other_org = orgs::ensure(&pool, "globex").await.unwrap().id;
    assert!(
        q.enqueue(NewJob::new(other_org, "push", json!({})).key("k1"))
            .await
            .unwrap()
            .created
    );
    let (n,): (i64,) = sqlx::query_as("SELECT count(*) FROM jobs")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(n, 3);
}

#[sqlx::test(migrator = "MIGRATOR")]
async fn bulk_enqueue_skips_duplicate_keys(pool: PgPool) {
    let (q, _clock, org) = setup(pool).await;
    q.enqueue(NewJob::new(org, "push", json!({})).key("dup"))
        .await
        .unwrap();
    let batch: Vec<NewJob> = (0..100)
        .map(|i| {
            NewJob::new(org, "push", json!({"i": i})).key(if i == 7 {
                "dup".to_string()
            } else {
                format!("k{i}")
            })
        })
        .collect();
    assert_eq!(q.enqueue_many(&batch).await.unwrap(), 99);
    assert_eq!(q.counts().await.unwrap().get(JobState::Pending), 100);
}

#[sqlx::test(migrator = "MIGRATOR")]
async fn claim_then_complete(pool: PgPool) {
    let (q, _clock, org) = setup(pool).await;
    let job = q
        .enqueue(NewJob::new(org, "push", json!({"a": 1})))
        .await
        .unwrap()
        .job;
    let w = WorkerId::new();
    let claimed = claim_one(&q, w).await.expect("a runnable job");
    assert_eq!(claimed.id, job.id);
    assert_eq!(claimed.attempt, 1);
    assert!(
        claim_one(&q, WorkerId::new()).await.is_none(),
        "a running job is not claimed twice"
    );
    assert_eq!(q.complete(w, &[claimed.id]).await.unwrap(), 1);
    let done = q.get_job(org, job.id).await.unwrap().unwrap();
    assert_eq!(done.state, JobState::Succeeded);
    assert!(done.finished_at.is_some());
}

#[sqlx::test(migrator = "MIGRATOR")]
async fn exponential_retries_follow_the_schedule_then_die(pool: PgPool) {
    let (q, clock, org) = setup(pool).await;
    let job = q
        .enqueue(NewJob::new(org, "push", json!({})).retry(RetrySpec::of(RetryPolicy::Exponential)))
        .await
        .unwrap()
        .job;
    let w = WorkerId::new();
    let schedule = [5, 30, 300, 1800, 7200];
    for (i, wait) in schedule.iter().enumerate() {
        let c = claim_one(&q, w)
            .await
            .unwrap_or_else(|| panic!("attempt {} should be runnable", i + 1));
        let outcome = q
            .fail(w, &c, &transient("partner returned 503"))
            .await
            .unwrap();
        let expected = clock.now() + Duration::seconds(*wait);
        assert_eq!(
            outcome,
            FailOutcome::Retrying {
                run_at: Some(expected)
            }
        );
        clock.advance(Duration::seconds(*wait - 1));
        assert!(
            claim_one(&q, w).await.is_none(),
            "retry {} must wait {wait}s",
            i + 1
        );
        clock.advance(Duration::seconds(1));
    }
    let last = claim_one(&q, w).await.unwrap();
    assert_eq!(last.attempt, 6);
    let FailOutcome::Dead { dead_letter } =
        q.fail(w, &last, &transient("still 503")).await.unwrap()
    else {
        panic!("the sixth failure exhausts the policy");
    };
    let dl = q.get_dead_letter(org, dead_letter).await.unwrap().unwrap();
    assert_eq!(dl.job_id, job.id);
    assert_eq!(dl.attempts, 6);
    assert_eq!(
        dl.errors.as_array().unwrap().len(),
        6,
        "every attempt's error is kept"
    );
    assert!(
        dl.reason.contains("gave up after 6 attempts"),
        "{}",
        dl.reason
    );
    assert_eq!(
        q.get_job(org, job.id).await.unwrap().unwrap().state,
        JobState::Dead
    );
}

#[sqlx::test(migrator = "MIGRATOR")]
async fn immediate_policy_retries_three_times_five_seconds_apart(pool: PgPool) {
    let (q, clock, org) = setup(pool).await;
    q.enqueue(NewJob::new(org, "push", json!({})).retry(RetrySpec::of(RetryPolicy::Immediate)))
        .await
        .unwrap();
    let w = WorkerId::new();
    for _ in 0..2 {
        let c = claim_one(&q, w).await.unwrap();
        let out = q.fail(w, &c, &transient("timeout")).await.unwrap();
        assert_eq!(
            out,
            FailOutcome::Retrying {
                run_at: Some(clock.now() + Duration::seconds(5))
            }
        );
        clock.advance(Duration::seconds(5));
    }
    let c = claim_one(&q, w).await.unwrap();
    assert_eq!(c.attempt, 3);
    assert!(matches!(
        q.fail(w, &c, &transient("timeout")).await.unwrap(),
        FailOutcome::Dead { .. }
    ));
}

#[sqlx::test(migrator = "MIGRATOR")]
async fn retry_after_is_never_undercut_by_the_retry(pool: PgPool) {
    let (q, clock, org) = setup(pool).await;
    let w = WorkerId::new();
    let floor = Some(StdDuration::from_secs(120));
    // A 429 "slow down" and a 503 "down for maintenance" both name when to come back.
    let answers = [
        (ErrorClass::RateLimited { retry_after: floor }, 429),
        (ErrorClass::Transient { retry_after: floor }, 503),
    ];
    for (class, status) in answers {
        q.enqueue(NewJob::new(org, "push", json!({ "status": status })))
            .await
            .unwrap();
        let c = claim_one(&q, w).await.unwrap();
        let failure = Failure {
            class,
            message: format!("partner answered {status}"),
            status: Some(status),
        };
        let out = q.fail(w, &c, &failure).await.unwrap();
        assert_eq!(
            out,
            FailOutcome::Retrying {
                run_at: Some(clock.now() + Duration::seconds(120))
            },
            "{status}"
        );
        clock.advance(Duration::seconds(119));
        assert!(claim_one(&q, w).await.is_none(), "{status} came back early");
        clock.advance(Duration::seconds(1));
        let again = claim_one(&q, w).await.unwrap();
        assert_eq!(again.id, c.id);
        // A Retry-After shorter than the policy's next delay (30 s): a 429 comes back exactly
        // when the partner said, a 503 not before the policy's delay.
        let short = Failure {
            class: match failure.class {
                ErrorClass::RateLimited { .. } => ErrorClass::RateLimited {
                    retry_after: Some(StdDuration::from_secs(1)),
                },
                _ => ErrorClass::Transient {
                    retry_after: Some(StdDuration::from_secs(1)),
                },
            },
            ..failure
        };
        let expected = if status == 429 { 1 } else { 30 };
        let out = q.fail(w, &again, &short).await.unwrap();
        assert_eq!(
            out,
            FailOutcome::Retrying {
                run_at: Some(clock.now() + Duration::seconds(expected))
            },
            "{status}"
        );
        // Out of the way of the next answer's job.
        clock.advance(Duration::seconds(expected));
        let last = claim_one(&q, w).await.unwrap();
        assert_eq!(q.complete(w, &[last.id]).await.unwrap(), 1);
    }
}

#[sqlx::test(migrator = "MIGRATOR")]
async fn a_throttled_job_comes_back_when_the_partner_said_not_after_the_exponential_delay(
    pool: PgPool,
) {
    let (q, clock, org) = setup(pool).await;
    let w = WorkerId::new();
    q.enqueue(NewJob::new(org, "sync.run", json!({})))
        .await
        .unwrap();
    // Attempts 1..=4 would wait 5 s, 30 s, 5 min and 30 min under the exponential policy.
    for _ in 0..4 {
        let c = claim_one(&q, w).await.unwrap();
        let throttled = Failure {
            class: ErrorClass::RateLimited {
                retry_after: Some(StdDuration::from_secs(2)),
            },
            message: "partner answered 429".into(),
            status: Some(429),
        };
        let out = q.fail(w, &c, &throttled).await.unwrap();
        assert_eq!(
            out,
            FailOutcome::Retrying {
                run_at: Some(clock.now() + Duration::seconds(2))
            },
            "attempt {}",
            c.attempt
        );
        clock.advance(Duration::seconds(2));
    }
    // Without a Retry-After the policy's delay for the fifth attempt applies as before.
    let c = claim_one(&q, w).await.unwrap();
    let out = q
        .fail(
            w,
            &c,
            &Failure {
                class: ErrorClass::RateLimited { retry_after: None },
                message: "partner answered 429".into(),
                status: Some(429),
            },
        )
        .await
        .unwrap();
    assert_eq!(
        out,
        FailOutcome::Retrying {
            run_at: Some(clock.now() + Duration::hours(2))
        }
    );
}

#[sqlx::test(migrator = "MIGRATOR")]
async fn permanent_error_goes_straight_to_the_dead_letter_queue(pool: PgPool) {
    let (q, _clock, org) = setup(pool).await;
    let job = q
        .enqueue(NewJob::new(org, "push", json!({"sku": "X"})).partner("shop"))
        .await
        .unwrap()
        .job;
    let w = WorkerId::new();
    let c = claim_one(&q, w).await.unwrap();
    let failure = Failure {
        class: ErrorClass::Permanent,
        message: "422: sku unknown".into(),
        status: Some(422),
    };
    let FailOutcome::Dead { dead_letter } = q.fail(w, &c, &failure).await.unwrap() else {
        panic!("permanent must die at once")
    };
    let dl = q.get_dead_letter(org, dead_letter).await.unwrap().unwrap();
    assert_eq!(dl.attempts, 1);
    assert_eq!(dl.error_class, "permanent");
    assert_eq!(dl.reason, "422: sku unknown");
    assert_eq!(dl.payload, json!({"sku": "X"}));
    assert_eq!(dl.partner.as_deref(), Some("shop"));
    assert_eq!(dl.state, DeadLetterState::Open);
    assert_eq!(q.counts().await.unwrap().dead_letters_open, 1);
    assert_eq!(
        q.get_job(org, job.id).await.unwrap().unwrap().state,
        JobState::Dead
    );
}

#[sqlx::test(migrator = "MIGRATOR")]
async fn replay_creates_a_linked_job_that_can_succeed(pool: PgPool) {
    let (q, _clock, org) = setup(pool).await;
    q.enqueue(NewJob::new(org, "push", json!({"v": 1})).key("order-1"))
        .await
        .unwrap();
    let w = WorkerId::new();
    let c = claim_one(&q, w).await.unwrap();
    let FailOutcome::Dead { dead_letter } = q
        .fail(
            w,
            &c,
            &Failure {
                class: ErrorClass::Permanent,
                message: "bad".into(),
                status: Some(400),
            },
        )
        .await
        .unwrap()
    else {
        panic!()
    };
    let replayed = q
        .replay(
            org,
            dead_letter,
            Some(json!({"v": 2})),
            Some("fixed the sku".into()),
        )
        .await
        .unwrap();
    assert_eq!(replayed.replay_of, Some(dead_letter));
    assert_eq!(replayed.payload, json!({"v": 2}));
    assert_eq!(
        replayed.idempotency_key.as_deref(),
        Some("order-1#replay-1")
    );
    assert_eq!(replayed.state, JobState::Pending);
    let dl = q.get_dead_letter(org, dead_letter).await.unwrap().unwrap();
    assert_eq!(dl.state, DeadLetterState::Replayed);
    assert_eq!(dl.last_replay_job_id, Some(replayed.id));
    assert_eq!(dl.admin_note.as_deref(), Some("fixed the sku"));
    assert_eq!(
        dl.payload,
        json!({"v": 1}),
        "the dead letter keeps the original payload"
    );
    let c = claim_one(&q, w).await.unwrap();
    assert_eq!(c.id, replayed.id);
    assert_eq!(c.replay_of, Some(dead_letter));
    // An edited payload is a new document to the partner: a key of its own.
    assert_eq!(c.effect_key(), "order-1#edit-1");
    q.complete(w, &[c.id]).await.unwrap();
    assert_eq!(
        q.get_job(org, replayed.id).await.unwrap().unwrap().state,
        JobState::Succeeded
    );
    // Replayed once, it is replayed again only when asked to with `force`.
    let err = q.replay(org, dead_letter, None, None).await.unwrap_err();
    assert!(
        err.to_string().contains("already replayed") && err.to_string().contains("force"),
        "{err}"
    );
    let again = q
        .replay_dead_letters(
            org,
            &Replay {
                force: true,
                ..Replay::one(dead_letter)
            },
        )
        .await
        .unwrap()
        .jobs
        .remove(0);
    assert_eq!(again.idempotency_key.as_deref(), Some("order-1#replay-2"));
    assert_eq!(again.payload, json!({"v": 1}));
    // The queue's key differs, the partner's does not: the original document's key.
    assert_eq!(claim_one(&q, w).await.unwrap().effect_key(), "order-1");
}

/// Claim the one due job and fail it permanently: its dead letter.
async fn kill_next(q: &Queue, w: WorkerId) -> (ClaimedJob, switchyard_core::ids::DeadLetterId) {
    let c = claim_one(q, w).await.unwrap();
    let failure = Failure {
        class: ErrorClass::Permanent,
        message: "rejected".into(),
        status: Some(422),
    };
    let FailOutcome::Dead { dead_letter } = q.fail(w, &c, &failure).await.unwrap() else {
        panic!("permanent errors die at once")
    };
    (c, dead_letter)
}

#[sqlx::test(migrator = "MIGRATOR")]
async fn replays_show_the_partner_the_original_documents_key(pool: PgPool) {
    let (q, _clock, org) = setup(pool).await;
    let w = WorkerId::new();
    q.enqueue(NewJob::new(org, "push", json!({"doc": "a"})).key("doc-a"))
        .await
        .unwrap();
    let (original, dead_a) = kill_next(&q, w).await;
    assert_eq!(original.effect_key(), "doc-a");

    // A replay, and the replay of that replay's own dead letter: the same key every time.
    q.replay(org, dead_a, None, None).await.unwrap();
    let (replay, dead_again) = kill_next(&q, w).await;
    assert_eq!(replay.effect_key(), "doc-a");
    assert_eq!(replay.idempotency_key.as_deref(), Some("doc-a#replay-1"));
    q.replay(org, dead_again, None, None).await.unwrap();
    assert_eq!(claim_one(&q, w).await.unwrap().effect_key(), "doc-a");

    // A job without a key showed the partner its id; its replay shows the same id.
    let unkeyed = q
        .enqueue(NewJob::new(org, "push", json!({"doc": "b"})))
        .await
        .unwrap()
        .job;
    let (_, dead_b) = kill_next(&q, w).await;
    let replayed = q.replay(org, dead_b, None, None).await.unwrap();
    assert_ne!(replayed.id, unkeyed.id);
    assert_eq!(
        claim_one(&q, w).await.unwrap().effect_key(),
        unkeyed.id.to_string()
    );
}

#[sqlx::test(migrator = "MIGRATOR")]
async fn a_replay_requests_idempotency_key_returns_the_first_answer(pool: PgPool) {
    let (q, clock, org) = setup(pool.clone()).await;
    let mut dead = Vec::new();
    for sku in ["A", "B", "C"] {
        let job = NewJob::new(org, "push", json!({ "sku": sku })).key(sku);
        dead.push(q.bury(job, "rejected", "permanent").await.unwrap());
    }
    let replays = || async {
        sqlx::query_scalar::<_, i64>("SELECT count(*) FROM jobs WHERE replay_of IS NOT NULL")
            .fetch_one(&pool)
            .await
            .unwrap()
    };
    let request = Replay {
        ids: dead[..2].to_vec(),
        request_key: Some("retry-me".into()),
        ..Replay::default()
    };
    let first = q.replay_dead_letters(org, &request).await.unwrap();
    let again = q.replay_dead_letters(org, &request).await.unwrap();
    assert!(!first.repeated && again.repeated);
    let ids =
        |r: &switchyard_store::queue::Replayed| r.jobs.iter().map(|j| j.id).collect::<Vec<_>>();
    assert_eq!(ids(&first), ids(&again));
    assert_eq!(replays().await, 2);

    // The same key for a different request is refused, and changes nothing.
    let other = Replay {
        ids: vec![dead[2]],
        request_key: Some("retry-me".into()),
        ..Replay::default()
    };
    let err = q.replay_dead_letters(org, &other).await.unwrap_err();
    assert!(err.to_string().contains("different"), "{err}");
    let third = q.get_dead_letter(org, dead[2]).await.unwrap().unwrap();
    assert_eq!(third.state, DeadLetterState::Open);

    // Two identical requests at once: one replays, the other gets its answer.
    let racing = Replay {
        ids: vec![dead[2]],
        request_key: Some("racing".into()),
        ..Replay::default()
    };
    let (a, b) = tokio::join!(
        q.replay_dead_letters(org, &racing),
        q.replay_dead_letters(org, &racing)
    );
    let (a, b) = (a.unwrap(), b.unwrap());
    assert!(a.repeated != b.repeated, "exactly one of the two replays");
    assert_eq!(ids(&a), ids(&b));
    assert_eq!(replays().await, 3);

    // Retention forgets the keys; a forgotten key's retry is still refused (already replayed).
    clock.advance(Duration::days(1));
    assert_eq!(q.purge_replay_requests(clock.now()).await.unwrap(), 2);
    let err = q.replay_dead_letters(org, &request).await.unwrap_err();
    assert!(err.to_string().contains("already replayed"), "{err}");
    assert_eq!(replays().await, 3);
}

#[sqlx::test(migrator = "MIGRATOR")]
async fn deleted_dead_letters_cannot_be_replayed_and_other_orgs_see_nothing(pool: PgPool) {
    let (q, _clock, org) = setup(pool.clone()).await;
    q.enqueue(NewJob::new(org, "push", json!({})))
        .await
        .unwrap();
    let w = WorkerId::new();
    let c = claim_one(&q, w).await.unwrap();
    let FailOutcome::Dead { dead_letter } = q
        .fail(
            w,
            &c,
            &Failure {
                class: ErrorClass::Auth,
                message: "401".into(),
                status: Some(401),
            },
        )
        .await
        .unwrap()
    else {
        panic!("auth errors are not retried")
    };
    let other = orgs::ensure(&pool, "globex").await.unwrap().id;
    assert!(q
        .get_dead_letter(other, dead_letter)
        .await
        .unwrap()
        .is_none());
    assert!(q.replay(other, dead_letter, None, None).await.is_err());
    q.delete_dead_letter(org, dead_letter, "duplicate of another order".into())
        .await
        .unwrap();
    let err = q.replay(org, dead_letter, None, None).await.unwrap_err();
    assert!(err.to_string().contains("deleted"), "{err}");
    let bulk = Replay {
        ids: vec![dead_letter],
        force: true,
        ..Replay::default()
    };
    assert!(q.replay_dead_letters(org, &bulk).await.is_err());
}

#[sqlx::test(migrator = "MIGRATOR")]
async fn expired_lease_is_rescued_and_the_old_worker_cannot_ack(pool: PgPool) {
    let (q, clock, org) = setup(pool).await;
    let job = q
        .enqueue(NewJob::new(org, "push", json!({})))
        .await
        .unwrap()
        .job;
    let dead_worker = WorkerId::new();
    let c = claim_one(&q, dead_worker).await.unwrap();
    clock.advance(Duration::seconds(29));
    assert_eq!(
        q.rescue_expired(&[]).await.unwrap(),
        0,
        "the lease still holds"
    );
    clock.advance(Duration::seconds(2));
    assert_eq!(q.rescue_expired(&[]).await.unwrap(), 1);
    let heir = WorkerId::new();
    let again = claim_one(&q, heir)
        .await
        .expect("the rescued job is runnable at once");
    assert_eq!(again.id, job.id);
    assert_eq!(again.attempt, 2);
    assert_eq!(
        q.complete(dead_worker, &[c.id]).await.unwrap(),
        0,
        "a stale worker's ack is ignored"
    );
    assert_eq!(q.complete(heir, &[again.id]).await.unwrap(), 1);
}

#[sqlx::test(migrator = "MIGRATOR")]
async fn heartbeat_keeps_the_lease(pool: PgPool) {
    let (q, clock, org) = setup(pool).await;
    q.enqueue(NewJob::new(org, "push", json!({})))
        .await
        .unwrap();
    let w = WorkerId::new();
    let job = claim_one(&q, w).await.unwrap();
    for _ in 0..4 {
        clock.advance(Duration::seconds(20));
        assert_eq!(q.renew_leases(w, &[job.id], LEASE).await.unwrap(), 1);
        assert_eq!(q.rescue_expired(&[]).await.unwrap(), 0);
    }
}

/// Two jobs enqueued and claimed by `w`, in claim order.
async fn two_claimed(q: &Queue, org: OrgId, w: WorkerId) -> (ClaimedJob, ClaimedJob) {
    for n in 0..2 {
        q.enqueue(NewJob::new(org, "push", json!({ "n": n })))
            .await
            .unwrap();
    }
    (
        claim_one(q, w).await.unwrap(),
        claim_one(q, w).await.unwrap(),
    )
}

/// A worker renews the jobs it names: one it claimed but never heard back about (the claim's
/// answer was lost with the connection) lapses and is rescued instead of being kept forever.
#[sqlx::test(migrator = "MIGRATOR")]
async fn renewal_keeps_only_the_named_jobs(pool: PgPool) {
    let (q, clock, org) = setup(pool).await;
    let w = WorkerId::new();
    let (known, lost) = two_claimed(&q, org, w).await;
    clock.advance(Duration::seconds(20));
    assert_eq!(q.renew_leases(w, &[known.id], LEASE).await.unwrap(), 1);
    assert_eq!(
        q.renew_leases(WorkerId::new(), &[lost.id], LEASE)
            .await
            .unwrap(),
        0,
        "another worker cannot renew a lease"
    );
    clock.advance(Duration::seconds(20));
    assert_eq!(q.rescue_expired(&[]).await.unwrap(), 1);
    let again = claim_one(&q, WorkerId::new()).await.unwrap();
    assert_eq!(again.id, lost.id);
    assert_eq!(q.complete(w, &[known.id]).await.unwrap(), 1);
}

/// After a database outage longer than a lease, a worker's finished job has an expired lease
/// while its success waits to be written: its own rescue spares it and the ack lands.
#[sqlx::test(migrator = "MIGRATOR")]
async fn rescue_spares_the_jobs_a_worker_still_holds(pool: PgPool) {
    let (q, clock, org) = setup(pool).await;
    let w = WorkerId::new();
    let (finished, other) = two_claimed(&q, org, w).await;
    clock.advance(Duration::seconds(31));
    assert_eq!(q.rescue_expired(&[finished.id]).await.unwrap(), 1);
    assert_eq!(q.complete(w, &[finished.id]).await.unwrap(), 1);
    assert_eq!(
        q.complete(w, &[other.id]).await.unwrap(),
        0,
        "the job it did not hold was rescued"
    );
}

#[sqlx::test(migrator = "MIGRATOR")]
async fn manual_policy_holds_the_job_until_an_admin_retries(pool: PgPool) {
    let (q, clock, org) = setup(pool).await;
    let job = q
        .enqueue(NewJob::new(org, "push", json!({})).retry(RetrySpec::of(RetryPolicy::Manual)))
        .await
        .unwrap()
        .job;
    let w = WorkerId::new();
    let c = claim_one(&q, w).await.unwrap();
    assert_eq!(
        q.fail(w, &c, &transient("down")).await.unwrap(),
        FailOutcome::Retrying { run_at: None }
    );
    clock.advance(Duration::days(3));
    assert!(
        claim_one(&q, w).await.is_none(),
        "a held job never runs by itself"
    );
    let retried = q.retry_now(org, job.id).await.unwrap();
    assert_eq!(retried.run_at, Some(clock.now()));
    let c = claim_one(&q, w).await.unwrap();
    assert_eq!(c.attempt, 2);
    // retry_now on a job that is not retrying is a conflict, not a silent no-op.
    assert!(q
        .retry_now(org, job.id)
        .await
        .unwrap_err()
        .to_string()
        .contains("not retrying"));
}

#[sqlx::test(migrator = "MIGRATOR")]
async fn skip_to_dead_and_bulk_retry(pool: PgPool) {
    let (q, _clock, org) = setup(pool).await;
    let w = WorkerId::new();
    for i in 0..3 {
        q.enqueue(NewJob::new(org, "push", json!({"i": i})))
            .await
            .unwrap();
    }
    let claimed = q.claim(w, 10, LEASE).await.unwrap();
    for c in &claimed {
        q.fail(w, c, &transient("503")).await.unwrap();
    }
    let dl = q
        .skip_to_dead(org, claimed[0].id, Some("partner retired".into()))
        .await
        .unwrap();
    assert_eq!(dl.error_class, "manual");
    assert!(dl.reason.contains("503"));
    assert_eq!(dl.admin_note.as_deref(), Some("partner retired"));
    assert_eq!(q.bulk_retry_now(org, None).await.unwrap(), 2);
    assert_eq!(q.claim(w, 10, LEASE).await.unwrap().len(), 2);
}

#[sqlx::test(migrator = "MIGRATOR")]
async fn concurrent_claims_never_share_a_job(pool: PgPool) {
    let (q, _clock, org) = setup(pool).await;
    let jobs: Vec<NewJob> = (0..2000)
        .map(|i| NewJob::new(org, "noop", json!({"i": i})))
        .collect();
    q.enqueue_many(&jobs).await.unwrap();
    let mut tasks = Vec::new();
    for _ in 0..4 {
        let q = q.clone();
        tasks.push(tokio::spawn(async move {
            let w = WorkerId::new();
            let mut mine = Vec::new();
            loop {
                let batch = q.claim(w, 50, LEASE).await.unwrap();
                if batch.is_empty() {
                    break;
                }
                mine.extend(batch.iter().map(|c| c.id));
                q.complete(w, &batch.iter().map(|c| c.id).collect::<Vec<_>>())
                    .await
                    .unwrap();
            }
            mine
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.unwrap());
    }
    let total = all.len();
    all.sort();
    all.dedup();
    assert_eq!(total, 2000, "every job claimed");
    assert_eq!(all.len(), 2000, "no job claimed twice");
    assert_eq!(q.counts().await.unwrap().get(JobState::Succeeded), 2000);
}

#[sqlx::test(migrator = "MIGRATOR")]
async fn release_gives_jobs_back_without_counting_the_attempt(pool: PgPool) {
    let (q, _clock, org) = setup(pool).await;
    q.enqueue(NewJob::new(org, "push", json!({})))
        .await
        .unwrap();
    let w = WorkerId::new();
    claim_one(&q, w).await.unwrap();
    assert_eq!(q.release(w).await.unwrap(), 1);
    let c = claim_one(&q, WorkerId::new()).await.unwrap();
    assert_eq!(c.attempt, 1);
}

#[sqlx::test(migrator = "MIGRATOR")]
async fn purge_enforces_retention(pool: PgPool) {
    let (q, clock, org) = setup(pool).await;
    let w = WorkerId::new();
    q.enqueue(NewJob::new(org, "push", json!({"old": true})).key("a"))
        .await
        .unwrap();
    q.enqueue(NewJob::new(org, "push", json!({"old": true})).key("b"))
        .await
        .unwrap();
    let batch = q.claim(w, 2, LEASE).await.unwrap();
    q.complete(w, &[batch[0].id]).await.unwrap();
    let perm = Failure {
        class: ErrorClass::Permanent,
        message: "no".into(),
        status: None,
    };
    q.fail(w, &batch[1], &perm).await.unwrap();
    clock.advance(Duration::days(31));
    let (dls, jobs) = q
        .purge(
            clock.now() - Duration::days(30),
            clock.now() - Duration::days(7),
        )
        .await
        .unwrap();
    assert_eq!((dls, jobs), (1, 2));
    // Once purged, the keys are free again.
    assert!(
        q.enqueue(NewJob::new(org, "push", json!({})).key("a"))
            .await
            .unwrap()
            .created
    );
    assert!(
        q.enqueue(NewJob::new(org, "push", json!({})).key("b"))
            .await
            .unwrap()
            .created
    );
}

#[sqlx::test(migrator = "MIGRATOR")]
async fn a_deferred_job_goes_back_unattempted_and_without_an_error(pool: PgPool) {
    let (q, clock, org) = setup(pool.clone()).await;
    let w = WorkerId::new();
    let id = q
        .enqueue(
            NewJob::new(org, "webhook.deliver", json!({})).retry(RetrySpec {
                policy: RetryPolicy::Immediate,
                max_attempts: 1,
            }),
        )
        .await
        .unwrap()
        .job
        .id;
    let defer = Failure {
        class: ErrorClass::Deferred {
            after: StdDuration::from_secs(2),
        },
        message: "endpoint at its concurrency limit".into(),
        status: None,
    };
    // Deferred many times over: its single attempt is never used up.
    for _ in 0..3 {
        let c = claim_one(&q, w).await.expect("runnable");
        assert_eq!(c.attempt, 1);
        let FailOutcome::Deferred { run_at } = q.fail(w, &c, &defer).await.unwrap() else {
            panic!("not deferred");
        };
        assert_eq!(run_at, clock.now() + Duration::seconds(2));
        assert!(claim_one(&q, w).await.is_none(), "not before run_at");
        clock.advance(Duration::seconds(2));
    }
    let job = q.get_job(org, id).await.unwrap().unwrap();
    assert_eq!(job.state, JobState::Pending);
    assert_eq!(job.attempts, 0);
    assert_eq!(job.last_error, None);
    assert_eq!(job.errors, json!([]));
    // A deferred retry stays in the retry queue.
    let c = claim_one(&q, w).await.unwrap();
    sqlx::query("UPDATE jobs SET attempts = 2, max_attempts = 3 WHERE id = $1")
        .bind(id.0)
        .execute(&pool)
        .await
        .unwrap();
    let c = ClaimedJob { attempt: 2, ..c };
    q.fail(w, &c, &defer).await.unwrap();
    let job = q.get_job(org, id).await.unwrap().unwrap();
    assert_eq!((job.state, job.attempts), (JobState::Retrying, 1));
}
