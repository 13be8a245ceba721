//! 401/403/404 over every route, tenant isolation, key lifecycle, rate limits.

use crate::common::{all_but, code, hub_scopes, json, spawn, spawn_with, TestApp};
use reqwest::Method;
use serde_json::{json, Value};
use sqlx::PgPool;
use std::time::Duration;
use switchyard_api::{ApiConfig, RateLimits, TierLimit};
use switchyard_core::ids::{ApiKeyId, OrgId, WorkerId};
use switchyard_core::ErrorClass;
use switchyard_store::keys::{self, Scope, Tier};
use switchyard_store::logs::{self, Direction, IntegrationType, LogStatus, Masker, NewLogEntry};
use switchyard_store::queue::{FailOutcome, Failure, NewJob, RetryPolicy, RetrySpec};

/// Ids of one resource of each kind in an organization.
struct Resources {
    job: String,
    retrying: String,
    dead_letter: String,
    log: String,
    key: String,
}

async fn resources(app: &TestApp, org: OrgId) -> Resources {
    let job = app
        .queue
        .enqueue(NewJob::new(org, "noop", json!({"n": 1})).retry(RetrySpec {
            policy: RetryPolicy::Exponential,
            max_attempts: 5,
        }))
        .await
        .unwrap()
        .job
        .id;
    let worker = WorkerId::new();
    let claimed = app
        .queue
        .claim(worker, 10, Duration::from_secs(30))
        .await
        .unwrap();
    assert_eq!(claimed.len(), 1);
    let outcome = app
        .queue
        .fail(
            worker,
            &claimed[0],
            &Failure {
                class: ErrorClass::transient(),
                message: "partner timed out".into(),
                status: Some(504),
            },
        )
        .await
        .unwrap();
    assert!(
        matches!(outcome, FailOutcome::Retrying { .. }),
        "{outcome:?}"
    );
    let retrying = app.queue.get_job(org, job).await.unwrap().unwrap();
    let other = app
        .queue
        .enqueue(NewJob::new(org, "noop", json!({"n": 2})))
        .await
        .unwrap()
        .job
        .id;
    let dead_letter = app
        .queue
        .bury(
            NewJob::new(org, "catalog.push", json!({"sku": "A-1"})),
            "sku rejected",
            "permanent",
        )
        .await
        .unwrap();
    let log = logs::insert(
        &app.pool,
        &Masker::default(),
        &NewLogEntry::new(
            Some(org),
            IntegrationType::Adapter,
            "catalog.push",
            Direction::Outbound,
            LogStatus::Error,
        ),
    )
    .await
    .unwrap();
    let (key, _) = keys::create(
        &app.pool,
        &keys::NewKey {
            org,
            name: "victim".into(),
            scopes: vec![Scope::parse("read:logs").unwrap()],
            tier: Tier::Basic,
            expires_at: None,
        },
    )
    .await
    .unwrap();
    Resources {
        job: other.to_string(),
        retrying: retrying.id.to_string(),
        dead_letter: dead_letter.to_string(),
        log: log.to_string(),
        key: key.id.to_string(),
    }
}

/// Every protected route: method, path, body, the scope it needs, whether it names a resource.
fn routes(r: &Resources) -> Vec<(Method, String, Option<Value>, &'static str, bool)> {
    let k = &r.key;
    let dl = &r.dead_letter;
    vec![
        (
            Method::POST,
            "/api/v1/keys".into(),
            Some(json!({"name": "n", "scopes": ["read:logs"]})),
            "admin:keys",
            false,
        ),
        (
            Method::GET,
            "/api/v1/keys".into(),
            None,
            "admin:keys",
            false,
        ),
        (
            Method::GET,
            "/api/v1/scopes".into(),
            None,
            "admin:keys",
            false,
        ),
        (
            Method::GET,
            format!("/api/v1/keys/{k}"),
            None,
            "admin:keys",
            true,
        ),
        (
            Method::PATCH,
            format!("/api/v1/keys/{k}"),
            Some(json!({"name": "renamed"})),
            "admin:keys",
            true,
        ),
        (
            Method::POST,
            format!("/api/v1/keys/{k}/suspend"),
            None,
            "admin:keys",
            true,
        ),
        (
            Method::POST,
            format!("/api/v1/keys/{k}/reactivate"),
            None,
            "admin:keys",
            true,
        ),
        (
            Method::POST,
            format!("/api/v1/keys/{k}/regenerate"),
            None,
            "admin:keys",
            true,
        ),
        (
            Method::POST,
            format!("/api/v1/keys/{k}/revoke"),
            None,
            "admin:keys",
            true,
        ),
        (Method::GET, "/api/v1/logs".into(), None, "read:logs", false),
        (
            Method::GET,
            "/api/v1/logs/stats".into(),
            None,
            "read:logs",
            false,
        ),
        (
            Method::GET,
            format!("/api/v1/logs/{}", r.log),
            None,
            "read:logs",
            true,
        ),
        (Method::GET, "/api/v1/jobs".into(), None, "read:jobs", false),
        (
            Method::GET,
            format!("/api/v1/jobs/{}", r.job),
            None,
            "read:jobs",
            true,
        ),
        (
            Method::POST,
            "/api/v1/jobs".into(),
            Some(json!({"kind": "noop"})),
            "write:jobs",
            false,
        ),
        (
            Method::GET,
            "/api/v1/retry-queue".into(),
            None,
            "read:jobs",
            false,
        ),
        (
            Method::POST,
            format!("/api/v1/retry-queue/{}/retry", r.retrying),
            None,
            "write:jobs",
            true,
        ),
        (
            Method::POST,
            format!("/api/v1/retry-queue/{}/skip", r.retrying),
            None,
            "write:jobs",
            true,
        ),
        (
            Method::POST,
            "/api/v1/retry-queue/retry".into(),
            None,
            "write:jobs",
            false,
        ),
        (
            Method::GET,
            "/api/v1/dead-letters".into(),
            None,
            "read:dead-letters",
            false,
        ),
        (
            Method::GET,
            format!("/api/v1/dead-letters/{dl}"),
            None,
            "read:dead-letters",
            true,
        ),
        (
            Method::POST,
            format!("/api/v1/dead-letters/{dl}/replay"),
            None,
            "write:dead-letters",
            true,
        ),
        (
            Method::POST,
            "/api/v1/dead-letters/replay".into(),
            Some(json!({"ids": [dl]})),
            "write:dead-letters",
            true,
        ),
        (
            Method::DELETE,
            format!("/api/v1/dead-letters/{dl}"),
            Some(json!({"note": "n"})),
            "write:dead-letters",
            true,
        ),
    ]
}

#[sqlx::test(migrator = "switchyard_store::MIGRATOR")]
async fn every_route_answers_401_403_404_and_stays_in_its_tenant(pool: PgPool) {
    // Three refused keys on each of the routes: more than one address's default budget for
    // requests without a valid key (that limit has its own test, in hostile_input).
    let config = ApiConfig {
        rate_limits: RateLimits {
            unauthenticated: TierLimit {
                per_minute: 60,
                burst: 1000,
            },
            ..RateLimits::default()
        },
        ..ApiConfig::default()
    };
    let app = spawn_with(pool, config).await;
    let org_a = app.org("a").await;
    let r = resources(&app, org_a).await;
    let key_b = app.key("b", &hub_scopes()).await;
    let routes = routes(&r);
    // Keep this list in step with the document: a route added without a row here fails.
    assert_eq!(routes.len(), 24);

    for (method, path, body, scope, names_resource) in &routes {
        // No key, a garbage key, a key in the wrong header format: 401.
        let (status, b) = json(app.call(method.clone(), path, None, body.clone()).await).await;
        assert_eq!(
            (status, code(&b)),
            (401, "unauthorized"),
            "{method} {path} without a key"
        );
        let (status, _) = json(
            app.call(
                method.clone(),
                path,
                Some("sy_not-a-real-key"),
                body.clone(),
            )
            .await,
        )
        .await;
        assert_eq!(status, 401, "{method} {path} with an unknown key");

        // A key of the same organization with every scope but the one needed: 403.
        let weak = app.key("a", &all_but(&hub_scopes(), scope)).await;
        let (status, b) = json(
            app.call(method.clone(), path, Some(&weak), body.clone())
                .await,
        )
        .await;
        assert_eq!(
            (status, code(&b)),
            (403, "forbidden"),
            "{method} {path} without {scope}"
        );
        assert_eq!(b["error"]["details"]["required_scope"], *scope);

        // Another organization's key with every scope: A's resources do not exist for it.
        if *names_resource {
            let (status, b) = json(
                app.call(method.clone(), path, Some(&key_b), body.clone())
                    .await,
            )
            .await;
            assert_eq!(
                (status, code(&b)),
                (404, "not_found"),
                "{method} {path} from org b"
            );
        }
    }

    // Nothing of A's was touched by B's attempts.
    let job = app
        .queue
        .get_job(org_a, r.retrying.parse().unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(job.state.as_str(), "retrying");
    let dl = app
        .queue
        .get_dead_letter(org_a, r.dead_letter.parse().unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(dl.state.as_str(), "open");
    let victim = keys::get(&app.pool, org_a, r.key.parse::<ApiKeyId>().unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (victim.name.as_str(), victim.state.as_str()),
        ("victim", "active")
    );

    // B's listings hold none of A's rows; B's bulk retry cannot reach A's job.
    for (path, id) in [
        ("/api/v1/jobs", &r.job),
        ("/api/v1/retry-queue", &r.retrying),
        ("/api/v1/dead-letters", &r.dead_letter),
        ("/api/v1/logs", &r.log),
        ("/api/v1/keys", &r.key),
    ] {
        let (status, b) = json(app.get(path, &key_b).await).await;
        assert_eq!(status, 200, "{path}");
        assert!(
            !b.to_string().contains(id.as_str()),
            "{path} leaks {id}: {b}"
        );
    }
    let (status, b) = json(
        app.post(
            "/api/v1/retry-queue/retry",
            &key_b,
            json!({"ids": [r.retrying]}),
        )
        .await,
    )
    .await;
    assert_eq!((status, b["retried"].as_i64()), (200, Some(0)));

    // The same routes work for A's own admin key (sanity: the matrix is not all-refusing).
    let key_a = app.key("a", &hub_scopes()).await;
    let (status, b) = json(
        app.get(&format!("/api/v1/dead-letters/{}", r.dead_letter), &key_a)
            .await,
    )
    .await;
    assert_eq!((status, b["reason"].as_str()), (200, Some("sku rejected")));
}

#[sqlx::test(migrator = "switchyard_store::MIGRATOR")]
async fn write_scopes_imply_read_and_x_api_key_works(pool: PgPool) {
    let app = spawn(pool).await;
    let writer = app.key("a", &["write:jobs"]).await;
    let (status, _) = json(app.get("/api/v1/jobs", &writer).await).await;
    assert_eq!(status, 200);
    let (status, _) = json(app.get("/api/v1/dead-letters", &writer).await).await;
    assert_eq!(status, 403);
    let resp = app
        .client
        .get(format!("{}/api/v1/jobs", app.base))
        .header("X-API-Key", &writer)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let resp = app
        .client
        .get(format!("{}/api/v1/jobs", app.base))
        .header("Authorization", format!("Basic {writer}"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
}

#[sqlx::test(migrator = "switchyard_store::MIGRATOR")]
async fn key_lifecycle_suspend_reactivate_regenerate_revoke_expire(pool: PgPool) {
    let app = spawn(pool).await;
    // A manager grants only what it holds (key_authority.rs has the refusals).
    let admin = app
        .key_tier(
            "a",
            &["admin:keys", "write:jobs", "read:logs"],
            Tier::Premium,
        )
        .await;

    let (status, created) = json(
        app.post(
            "/api/v1/keys",
            &admin,
            json!({"name": "erp sync", "scopes": ["write:jobs"], "tier": "premium"}),
        )
        .await,
    )
    .await;
    assert_eq!(status, 201, "{created}");
    let secret = created["secret"].as_str().unwrap().to_owned();
    let id = created["key"]["id"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("sy_") && secret.len() == 46);
    assert_eq!(created["key"]["tier"], "premium");
    assert_eq!(created["key"]["scopes"], json!(["write:jobs"]));

    // Works, and last_used_at is recorded.
    let resp = app.get("/api/v1/jobs", &secret).await;
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["x-ratelimit-limit"], "200");
    let (_, key) = json(app.get(&format!("/api/v1/keys/{id}"), &admin).await).await;
    assert!(key["last_used_at"].is_string(), "{key}");

    // Listing is masked: the secret never appears again.
    let (_, list) = json(app.get("/api/v1/keys", &admin).await).await;
    assert!(!list.to_string().contains(&secret));
    let masked = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["id"] == id.as_str())
        .unwrap()["masked"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(masked.ends_with('…') && secret.starts_with(masked.trim_end_matches('…')));

    // Update.
    let resp = app
        .call(
            Method::PATCH,
            &format!("/api/v1/keys/{id}"),
            Some(&admin),
            Some(json!({"name": "erp", "scopes": ["read:logs"], "tier": "basic"})),
        )
        .await;
    let (status, updated) = json(resp).await;
    assert_eq!(
        (status, updated["name"].as_str(), updated["tier"].as_str()),
        (200, Some("erp"), Some("basic"))
    );
    let (status, _) = json(app.get("/api/v1/jobs", &secret).await).await;
    assert_eq!(status, 403, "scopes were replaced");
    let (status, _) = json(app.get("/api/v1/logs", &secret).await).await;
    assert_eq!(status, 200);

    // Suspended keys are refused until reactivated.
    let (status, b) = json(
        app.post(&format!("/api/v1/keys/{id}/suspend"), &admin, json!({}))
            .await,
    )
    .await;
    assert_eq!((status, b["state"].as_str()), (200, Some("suspended")));
    let (status, b) = json(app.get("/api/v1/logs", &secret).await).await;
    assert_eq!(status, 401);
    assert!(b["error"]["message"]
        .as_str()
        .unwrap()
        .contains("suspended"));
    let (status, _) = json(
        app.post(&format!("/api/v1/keys/{id}/reactivate"), &admin, json!({}))
            .await,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(app.get("/api/v1/logs", &secret).await.status(), 200);

    // Regenerated: the old secret stops working, the new one works.
    let (status, regen) = json(
        app.post(&format!("/api/v1/keys/{id}/regenerate"), &admin, json!({}))
            .await,
    )
    .await;
    assert_eq!(status, 200);
    let new_secret = regen["secret"].as_str().unwrap().to_owned();
    assert_ne!(new_secret, secret);
    assert_eq!(app.get("/api/v1/logs", &secret).await.status(), 401);
    assert_eq!(app.get("/api/v1/logs", &new_secret).await.status(), 200);

    // Revoked is final.
    let (status, _) = json(
        app.post(&format!("/api/v1/keys/{id}/revoke"), &admin, json!({}))
            .await,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(app.get("/api/v1/logs", &new_secret).await.status(), 401);
    for action in ["reactivate", "regenerate", "suspend"] {
        let (status, b) = json(
            app.post(&format!("/api/v1/keys/{id}/{action}"), &admin, json!({}))
                .await,
        )
        .await;
        assert_eq!(
            (status, code(&b)),
            (409, "conflict"),
            "{action} after revoke"
        );
    }
    assert_eq!(app.get("/api/v1/logs", &new_secret).await.status(), 401);

    // Expired keys are refused; expiry in the past cannot be set through the API.
    let short = app.key("a", &["read:logs"]).await;
    sqlx::query("UPDATE api_keys SET expires_at = now() - interval '1 second' WHERE key_hash = sha256($1::text::bytea)")
        .bind(&short)
        .execute(&app.pool)
        .await
        .unwrap();
    let (status, b) = json(app.get("/api/v1/logs", &short).await).await;
    assert_eq!(status, 401);
    assert!(b["error"]["message"].as_str().unwrap().contains("expired"));
    let (status, b) = json(
        app.post(
            "/api/v1/keys",
            &admin,
            json!({"name": "x", "scopes": ["read:logs"], "expires_at": "2001-01-01T00:00:00Z"}),
        )
        .await,
    )
    .await;
    assert_eq!((status, code(&b)), (422, "validation_failed"));
    let (status, b) = json(
        app.post(
            "/api/v1/keys",
            &admin,
            json!({"name": "x", "scopes": ["root"]}),
        )
        .await,
    )
    .await;
    assert_eq!(status, 422);
    assert!(
        b["error"]["message"].as_str().unwrap().contains("root"),
        "{b}"
    );
}

#[sqlx::test(migrator = "switchyard_store::MIGRATOR")]
async fn rate_limit_headers_then_429_with_retry_after_and_a_log_row(pool: PgPool) {
    let config = ApiConfig {
        rate_limits: RateLimits {
            basic: TierLimit {
                per_minute: 6,
                burst: 3,
            },
            ..RateLimits::default()
        },
        ..ApiConfig::default()
    };
    let app = spawn_with(pool, config).await;
    let org = app.org("a").await;
    let key = app.key_tier("a", &["read:jobs"], Tier::Basic).await;
    let other = app.key_tier("a", &["read:jobs"], Tier::Basic).await;

    for remaining in ["2", "1", "0"] {
        let resp = app.get("/api/v1/jobs", &key).await;
        assert_eq!(resp.status(), 200);
        assert_eq!(resp.headers()["x-ratelimit-limit"], "3");
        assert_eq!(resp.headers()["x-ratelimit-remaining"], remaining);
        let reset: u64 = resp.headers()["x-ratelimit-reset"]
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!((1..=30).contains(&reset), "reset {reset}");
    }
    let resp = app.get("/api/v1/jobs", &key).await;
    assert_eq!(resp.status(), 429);
    let retry_after: u64 = resp.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    // 6/min: one token every 10 s.
    assert!((1..=10).contains(&retry_after), "retry-after {retry_after}");
    assert_eq!(resp.headers()["x-ratelimit-remaining"], "0");
    let (_, body) = json(resp).await;
    assert_eq!(code(&body), "rate_limited");

    // Another key has its own bucket; a 403 also carries the headers.
    let resp = app.get("/api/v1/logs", &other).await;
    assert_eq!(resp.status(), 403);
    assert_eq!(resp.headers()["x-ratelimit-remaining"], "2");

    // The 429 is in the integration log, attributed to the organization.
    let logged: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM integration_logs WHERE org_id = $1 AND integration_type = 'api'
           AND http_status = 429 AND status = 'warning' AND event_type = 'GET /api/v1/jobs'
           AND error_message LIKE 'rate limit exceeded%'",
    )
    .bind(org.0)
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(logged, 1);
    // Every call wrote one row: 4 by `key`, 1 by `other`.
    let total: i64 = sqlx::query_scalar("SELECT count(*) FROM integration_logs WHERE org_id = $1")
        .bind(org.0)
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(total, 5);
}
