//! The test harness: the real router on a loopback port over a fresh migrated database, called
//! with reqwest.

#![allow(dead_code)]

use reqwest::{Method, Response};
use serde_json::Value;
use sqlx::PgPool;
use std::sync::Arc;
use switchyard_api::{router, ApiConfig, ApiState, JobKinds};
use switchyard_core::ids::OrgId;
use switchyard_core::SystemClock;
use switchyard_store::keys::{self, Scope, Tier};
use switchyard_store::queue::{Queue, RetryPolicy, RetrySpec};

/// The daemon's registry stand-in: two kinds, one with a partner override.
pub struct Kinds;

impl JobKinds for Kinds {
    fn resolve(&self, kind: &str, partner: Option<&str>) -> Option<RetrySpec> {
        match (kind, partner) {
            ("noop", _) => Some(RetrySpec {
                policy: RetryPolicy::Immediate,
                max_attempts: 3,
            }),
            ("catalog.push", Some("slow-erp")) => Some(RetrySpec {
                policy: RetryPolicy::Manual,
                max_attempts: 1,
            }),
            ("catalog.push", _) => Some(RetrySpec {
                policy: RetryPolicy::Exponential,
                max_attempts: 5,
            }),
            ("edi.send", _) => Some(RetrySpec {
                policy: RetryPolicy::Exponential,
                max_attempts: 5,
            }),
            _ => None,
        }
    }

    fn known(&self) -> Vec<String> {
        vec!["noop".into(), "catalog.push".into()]
    }
}

pub struct TestApp {
    pub base: String,
    pub client: reqwest::Client,
    pub pool: PgPool,
    pub queue: Queue,
}

pub async fn spawn(pool: PgPool) -> TestApp {
    spawn_with(pool, ApiConfig::default()).await
}

pub async fn spawn_with(pool: PgPool, config: ApiConfig) -> TestApp {
    let queue = Queue::new(pool.clone(), Arc::new(SystemClock));
    let app = router(ApiState {
        pool: pool.clone(),
        queue: queue.clone(),
        job_kinds: Arc::new(Kinds),
        config,
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        axum::serve(listener, app).await.unwrap();
    });
    TestApp {
        base: format!("http://{addr}"),
        client: reqwest::Client::new(),
        pool,
        queue,
    }
}

impl TestApp {
    /// A key in `org` (created if needed) with these scopes, standard tier.
    pub async fn key(&self, org: &str, scopes: &[Scope]) -> String {
        self.key_tier(org, scopes, Tier::Standard).await
    }

    pub async fn key_tier(&self, org: &str, scopes: &[Scope], tier: Tier) -> String {
        keys::create_key(&self.pool, org, "test", scopes, tier)
            .await
            .unwrap()
            .1
    }

    pub async fn org(&self, slug: &str) -> OrgId {
        switchyard_store::orgs::ensure(&self.pool, slug)
            .await
            .unwrap()
            .id
    }

    pub async fn call(
        &self,
        method: Method,
        path: &str,
        key: Option<&str>,
        body: Option<Value>,
    ) -> Response {
        let mut req = self
            .client
            .request(method, format!("{}{}", self.base, path));
        if let Some(key) = key {
            req = req.bearer_auth(key);
        }
        if let Some(body) = body {
            req = req.json(&body);
        }
        req.send().await.unwrap()
    }

    pub async fn get(&self, path: &str, key: &str) -> Response {
        self.call(Method::GET, path, Some(key), None).await
    }

    pub async fn post(&self, path: &str, key: &str, body: Value) -> Response {
        self.call(Method::POST, path, Some(key), Some(body)).await
    }

    pub async fn count(&self, sql: &str) -> i64 {
        sqlx::query_scalar(sql).fetch_one(&self.pool).await.unwrap()
    }
}

/// The status and the JSON body; asserts the error shape on every 4xx/5xx.
pub async fn json(resp: Response) -> (u16, Value) {
    let status = resp.status().as_u16();
    let text = resp.text().await.unwrap();
    let body: Value = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("non-JSON body ({e}): {text}"))
    };
    if status >= 400 {
        assert_error_shape(&body);
    }
    (status, body)
}

pub fn assert_error_shape(body: &Value) {
    let error = body
        .get("error")
        .unwrap_or_else(|| panic!("no `error` in {body}"));
    assert!(error["code"].is_string(), "code in {body}");
    assert!(error["message"].is_string(), "message in {body}");
    assert!(error.get("details").is_some(), "details in {body}");
    assert_eq!(body.as_object().unwrap().len(), 1, "only `error` in {body}");
}

pub fn code(body: &Value) -> &str {
    body["error"]["code"].as_str().unwrap_or_default()
}
