//! Jobs, the retry queue and dead letters through the API.

use crate::common::{code, json, spawn, TestApp};
use reqwest::Method;
use serde_json::json;
use sqlx::PgPool;
use std::time::Duration;
use switchyard_core::ids::{JobId, OrgId, WorkerId};
use switchyard_core::ErrorClass;
use switchyard_store::queue::{Failure, NewJob, RetryPolicy, RetrySpec};

/// Enqueue `n` exponential-policy jobs and fail each once, so they sit in the retry queue.
async fn retrying_jobs(app: &TestApp, org: OrgId, n: usize) -> Vec<JobId> {
    let mut ids = Vec::new();
    for i in 0..n {
        let job = app
            .queue
            .enqueue(NewJob::new(org, "noop", json!({"i": i})).retry(RetrySpec {
                policy: RetryPolicy::Exponential,
                max_attempts: 5,
            }))
            .await
            .unwrap();
        ids.push(job.job.id);
    }
    let worker = WorkerId::new();
    let claimed = app
        .queue
        .claim(worker, 100, Duration::from_secs(30))
        .await
        .unwrap();
    assert_eq!(claimed.len(), n);
    for job in &claimed {
        app.queue
            .fail(
                worker,
                job,
                &Failure {
                    class: ErrorClass::transient(),
                    message: "502 from partner".into(),
                    status: Some(502),
                },
            )
            .await
            .unwrap();
    }
    ids
}

#[sqlx::test(migrator = "switchyard_store::MIGRATOR")]
async fn enqueue_honours_idempotency_key_and_partner_retry_policy(pool: PgPool) {
    let app = spawn(pool).await;
    let key = app.key("a", &["write:jobs"]).await;
    let enqueue = |idem: &'static str, body: serde_json::Value| {
        app.client
            .post(format!("{}/api/v1/jobs", app.base))
            .bearer_auth(&key)
            .header("Idempotency-Key", idem)
            .json(&body)
            .send()
    };

    let resp = enqueue(
        "order-42",
        json!({"kind": "catalog.push", "partner": "shop", "payload": {"sku": "A-1"}}),
    )
    .await
    .unwrap();
    assert_eq!(resp.status(), 201);
    let location = resp.headers()["location"].to_str().unwrap().to_owned();
    let (_, first) = json(resp).await;
    assert_eq!(
        location,
        format!("/api/v1/jobs/{}", first["id"].as_str().unwrap())
    );
    assert_eq!(first["state"], "pending");
    assert_eq!(first["retry_policy"], "exponential");
    assert_eq!(first["max_attempts"], 5);
    assert_eq!(first["idempotency_key"], "order-42");
    assert_eq!(first["payload"], json!({"sku": "A-1"}));

    // The same key again: 200, the same job, nothing new written.
    let resp = enqueue(
        "order-42",
        json!({"kind": "catalog.push", "partner": "shop", "payload": {"sku": "B-2"}}),
    )
    .await
    .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["idempotent-replayed"], "true");
    let (_, again) = json(resp).await;
    assert_eq!(again["id"], first["id"]);
    assert_eq!(again["payload"], json!({"sku": "A-1"}));
    assert_eq!(app.count("SELECT count(*) FROM jobs").await, 1);

    // The partner override from the job-kind registry applies.
    let resp = enqueue(
        "erp-1",
        json!({"kind": "catalog.push", "partner": "slow-erp"}),
    )
    .await
    .unwrap();
    let (status, manual) = json(resp).await;
    assert_eq!(
        (status, manual["retry_policy"].as_str()),
        (201, Some("manual"))
    );
    assert_eq!(manual["payload"], json!({}));

    // Reading needs only the write scope's implied read; the listing pages by id.
    let (status, got) = json(app.get(&location, &key).await).await;
    assert_eq!((status, &got["id"]), (200, &first["id"]));
    let (_, page) = json(app.get("/api/v1/jobs?limit=1", &key).await).await;
    assert_eq!(page["items"].as_array().unwrap().len(), 1);
    let cursor = page["next_cursor"].as_str().unwrap().to_owned();
    let (_, page2) = json(
        app.get(&format!("/api/v1/jobs?limit=1&cursor={cursor}"), &key)
            .await,
    )
    .await;
    assert_eq!(page2["items"].as_array().unwrap().len(), 1);
    assert_ne!(page2["items"][0]["id"], page["items"][0]["id"]);
    assert!(page2["next_cursor"].is_null());
    let (_, filtered) = json(app.get("/api/v1/jobs?state=succeeded", &key).await).await;
    assert_eq!(filtered["items"], json!([]));
}

#[sqlx::test(migrator = "switchyard_store::MIGRATOR")]
async fn retry_queue_lists_retries_now_skips_and_bulk_retries(pool: PgPool) {
    let app = spawn(pool).await;
    let org = app.org("a").await;
    let ids = retrying_jobs(&app, org, 3).await;
    let key = app.key("a", &["write:jobs"]).await;

    let (status, page) = json(app.get("/api/v1/retry-queue", &key).await).await;
    assert_eq!(status, 200);
    let items = page["items"].as_array().unwrap();
    assert_eq!(items.len(), 3);
    assert!(items
        .iter()
        .all(|j| j["state"] == "retrying" && j["attempts"] == 1));
    assert_eq!(items[0]["errors"][0]["message"], "502 from partner");

    // Retry now: runs at once instead of in 5 s.
    let before = app
        .queue
        .get_job(org, ids[0])
        .await
        .unwrap()
        .unwrap()
        .run_at
        .unwrap();
    let (status, job) = json(
        app.post(
            &format!("/api/v1/retry-queue/{}/retry", ids[0]),
            &key,
            json!({}),
        )
        .await,
    )
    .await;
    assert_eq!(status, 200, "{job}");
    let after = app
        .queue
        .get_job(org, ids[0])
        .await
        .unwrap()
        .unwrap()
        .run_at
        .unwrap();
    assert!(after < before, "run_at moved from {before} to {after}");

    // Skip to the dead-letter queue, with a note.
    let (status, dl) = json(
        app.post(
            &format!("/api/v1/retry-queue/{}/skip", ids[1]),
            &key,
            json!({"note": "partner retired"}),
        )
        .await,
    )
    .await;
    assert_eq!(status, 200, "{dl}");
    assert_eq!(dl["job_id"], ids[1].to_string());
    assert_eq!(dl["admin_note"], "partner retired");
    assert_eq!(
        app.queue
            .get_job(org, ids[1])
            .await
            .unwrap()
            .unwrap()
            .state
            .as_str(),
        "dead"
    );
    // Skipping a job that is no longer retrying is a conflict.
    let (status, b) = json(
        app.post(
            &format!("/api/v1/retry-queue/{}/skip", ids[1]),
            &key,
            json!({}),
        )
        .await,
    )
    .await;
    assert_eq!((status, code(&b)), (409, "conflict"));

    // Bulk retry with no body: every retrying job of the organization.
    let resp = app
        .call(Method::POST, "/api/v1/retry-queue/retry", Some(&key), None)
        .await;
    let (status, b) = json(resp).await;
    assert_eq!(status, 200);
    assert_eq!(b["retried"], 2);
}

#[sqlx::test(migrator = "switchyard_store::MIGRATOR")]
async fn dead_letters_replay_with_edited_payload_bulk_replay_and_delete(pool: PgPool) {
    let app = spawn(pool).await;
    let org = app.org("a").await;
    let key = app.key("a", &["write:dead-letters"]).await;
    let mut dls = Vec::new();
    for sku in ["A-1", "B-2", "C-3"] {
        let id = app
            .queue
            .bury(
                NewJob::new(org, "catalog.push", json!({"sku": sku})),
                "price missing",
                "permanent",
            )
            .await
            .unwrap();
        dls.push(id.to_string());
    }

    let (status, page) = json(app.get("/api/v1/dead-letters?state=open", &key).await).await;
    assert_eq!(status, 200);
    assert_eq!(page["items"].as_array().unwrap().len(), 3);

    // Replay one with an edited payload: a new job linked to the dead letter.
    let (status, job) = json(
        app.post(
            &format!("/api/v1/dead-letters/{}/replay", dls[0]),
            &key,
            json!({"payload": {"sku": "A-1", "price": "9.99"}, "note": "price fixed"}),
        )
        .await,
    )
    .await;
    assert_eq!(status, 201, "{job}");
    assert_eq!(job["replay_of"], dls[0].as_str());
    assert_eq!(job["payload"], json!({"sku": "A-1", "price": "9.99"}));
    assert_eq!(job["state"], "pending");
    let (_, dl) = json(
        app.get(&format!("/api/v1/dead-letters/{}", dls[0]), &key)
            .await,
    )
    .await;
    assert_eq!(dl["state"], "replayed");
    assert_eq!(dl["replay_count"], 1);
    assert_eq!(dl["last_replay_job_id"], job["id"]);
    assert_eq!(
        dl["payload"],
        json!({"sku": "A-1"}),
        "the original payload is kept"
    );

    // Bulk replay the other two with their original payloads.
    let (status, b) = json(
        app.post(
            "/api/v1/dead-letters/replay",
            &key,
            json!({"ids": [dls[1], dls[2]]}),
        )
        .await,
    )
    .await;
    assert_eq!(status, 200, "{b}");
    let jobs = b["jobs"].as_array().unwrap();
    assert_eq!(jobs.len(), 2);
    assert_eq!(jobs[0]["payload"], json!({"sku": "B-2"}));
    let (status, b) = json(
        app.post("/api/v1/dead-letters/replay", &key, json!({"ids": []}))
            .await,
    )
    .await;
    assert_eq!((status, code(&b)), (422, "validation_failed"));

    // Delete needs a note: in the query, or (for older clients) as the body.
    let path = format!("/api/v1/dead-letters/{}", dls[2]);
    let (status, b) = json(
        app.call(
            Method::DELETE,
            &path,
            Some(&key),
            Some(json!({"note": "  "})),
        )
        .await,
    )
    .await;
    assert_eq!((status, code(&b)), (422, "validation_failed"));
    let (status, b) = json(
        app.call(Method::DELETE, &path, Some(&key), Some(json!({})))
            .await,
    )
    .await;
    assert_eq!(status, 422);
    assert!(
        b["error"]["message"]
            .as_str()
            .unwrap()
            .contains("a note is required"),
        "{b}"
    );
    let resp = app
        .call(
            Method::DELETE,
            &format!("{path}?note=duplicate%20order"),
            Some(&key),
            None,
        )
        .await;
    assert_eq!(resp.status(), 204);
    let (_, dl) = json(app.get(&path, &key).await).await;
    assert_eq!(dl["state"], "deleted");
    assert_eq!(dl["admin_note"], "duplicate order");
    // The body still works for clients that send the note there.
    let path = format!("/api/v1/dead-letters/{}", dls[1]);
    let resp = app
        .call(
            Method::DELETE,
            &path,
            Some(&key),
            Some(json!({"note": "duplicate order"})),
        )
        .await;
    assert_eq!(resp.status(), 204);

    assert_eq!(
        app.count("SELECT count(*) FROM jobs WHERE replay_of IS NOT NULL")
            .await,
        3
    );
}

#[sqlx::test(migrator = "switchyard_store::MIGRATOR")]
async fn concurrent_enqueues_with_one_idempotency_key_make_one_job(pool: PgPool) {
    let app = spawn(pool).await;
    let key = app.key("a", &["write:jobs"]).await;
    let calls = (0..8).map(|i| {
        app.client
            .post(format!("{}/api/v1/jobs", app.base))
            .bearer_auth(&key)
            .header("Idempotency-Key", "same-order")
            .json(&json!({"kind": "noop", "payload": {"attempt": i}}))
            .send()
    });
    let mut created = 0;
    let mut ids = std::collections::BTreeSet::new();
    for resp in futures_join(calls).await {
        let (status, body) = json(resp.unwrap()).await;
        assert!(status == 201 || status == 200, "{status}: {body}");
        created += usize::from(status == 201);
        ids.insert(body["id"].as_str().unwrap().to_owned());
    }
    assert_eq!((created, ids.len()), (1, 1));
    assert_eq!(app.count("SELECT count(*) FROM jobs").await, 1);
}

/// Run the futures at once on the test's runtime and collect their outputs in order.
async fn futures_join<F, T>(futures: impl Iterator<Item = F>) -> Vec<T>
where
    F: std::future::Future<Output = T> + Send + 'static,
    T: Send + 'static,
{
    let handles: Vec<_> = futures.map(tokio::spawn).collect();
    let mut out = Vec::new();
    for h in handles {
        out.push(h.await.unwrap());
    }
    out
}
