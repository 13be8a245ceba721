//! A test harness for the API and the routes integrations contribute (feature `testkit`): the
//! real router on a loopback port over a fresh migrated database, called with reqwest; a
//! stand-in for the runtime's job admission; helpers that check the one error shape.

use crate::error::ErrorCode;
use crate::scopes::{ScopeSpec, HUB_SCOPES};
use crate::state::{ApiConfig, ApiState, AppState, JobAdmission, JobRefusal};
use reqwest::{Method, Response};
use serde_json::{json, Value};
use sqlx::PgPool;
use std::sync::Arc;
use switchyard_core::ids::OrgId;
use switchyard_core::SystemClock;
use switchyard_store::keys::{self, Scope, Tier};
use switchyard_store::queue::{Queue, RetryPolicy, RetrySpec};
use utoipa_axum::router::OpenApiRouter;

/// The runtime's admission stand-in: `noop` and `catalog.push` (with a partner override for
/// `slow-erp`), plus the kinds a test adds; any other kind is refused as unknown.
#[derive(Default)]
pub struct StubAdmission {
    extra: Vec<&'static str>,
}

impl StubAdmission {
    pub fn with_kinds(kinds: &[&'static str]) -> Self {
        Self {
            extra: kinds.to_vec(),
        }
    }

    fn resolve(&self, kind: &str, partner: Option<&str>) -> Option<RetrySpec> {
        if self.extra.contains(&kind) {
            return Some(RetrySpec {
                policy: RetryPolicy::Exponential,
                max_attempts: 5,
            });
        }
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
            _ => None,
        }
    }
}

impl JobAdmission for StubAdmission {
    fn admit(
        &self,
        kind: &str,
        partner: Option<&str>,
        _payload: &Value,
    ) -> Result<RetrySpec, JobRefusal> {
        self.resolve(kind, partner).ok_or_else(|| {
            let mut known = vec!["catalog.push", "noop"];
            known.extend(&self.extra);
            JobRefusal {
                code: ErrorCode::UnknownJobKind,
                message: format!("unknown job kind `{kind}` (known: {})", known.join(", ")),
                details: json!({ "kind": kind, "known": known }),
            }
        })
    }
}

/// Every scope name the hub declares.
pub fn hub_scopes() -> Vec<&'static str> {
    HUB_SCOPES.iter().map(|s| s.name).collect()
}

/// `names` without `wanted` and the write scope that would imply it.
pub fn all_but(names: &[&'static str], wanted: &str) -> Vec<&'static str> {
    names
        .iter()
        .copied()
        .filter(|s| !Scope::parse(s).is_ok_and(|s| s.grants(wanted)))
        .collect()
}

pub struct TestApp {
    pub base: String,
    pub client: reqwest::Client,
    pub pool: PgPool,
    pub queue: Queue,
}

/// What a [`TestApp`] serves.
pub struct TestAppBuilder {
    pool: PgPool,
    config: ApiConfig,
    admission: Arc<dyn JobAdmission>,
    routes: Vec<OpenApiRouter<AppState>>,
    scopes: Vec<ScopeSpec>,
    mappings: Option<Arc<dyn switchyard_import::MappingSource>>,
}

impl TestAppBuilder {
    pub fn config(mut self, config: ApiConfig) -> Self {
        self.config = config;
        self
    }

    pub fn admission(mut self, admission: impl JobAdmission + 'static) -> Self {
        self.admission = Arc::new(admission);
        self
    }

    /// The mapping files product imports read uploads through.
    pub fn mappings(mut self, mappings: Arc<dyn switchyard_import::MappingSource>) -> Self {
        self.mappings = Some(mappings);
        self
    }

    /// An integration's routes and the scopes they need.
    pub fn routes(mut self, routes: OpenApiRouter<AppState>, scopes: &[ScopeSpec]) -> Self {
        self.routes.push(routes);
        self.scopes.extend_from_slice(scopes);
        self
    }

    pub async fn spawn(self) -> TestApp {
        let queue = Queue::new(self.pool.clone(), Arc::new(SystemClock));
        let mut state = ApiState::new(
            self.pool.clone(),
            queue.clone(),
            self.admission,
            self.config.clone(),
        );
        state.scopes = state.scopes.with(&self.scopes);
        state.mappings = self.mappings;
        let timeouts = self.config.timeouts;
        let app = crate::router(state, self.routes);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            crate::serve::serve(listener, app, timeouts, std::future::pending())
                .await
                .unwrap();
        });
        TestApp {
            base: format!("http://{addr}"),
            client: reqwest::Client::new(),
            pool: self.pool,
            queue,
        }
    }
}

pub async fn spawn(pool: PgPool) -> TestApp {
    spawn_with(pool, ApiConfig::default()).await
}

pub async fn spawn_with(pool: PgPool, config: ApiConfig) -> TestApp {
    TestApp::builder(pool).config(config).spawn().await
}

impl TestApp {
    pub fn builder(pool: PgPool) -> TestAppBuilder {
        TestAppBuilder {
            pool,
            config: ApiConfig::default(),
            admission: Arc::new(StubAdmission::default()),
            routes: Vec::new(),
            scopes: Vec::new(),
            mappings: None,
        }
    }
}

impl TestApp {
    /// A key in `org` (created if needed) with these scopes, standard tier.
    pub async fn key(&self, org: &str, scopes: &[&str]) -> String {
        self.key_tier(org, scopes, Tier::Standard).await
    }

    pub async fn key_tier(&self, org: &str, scopes: &[&str], tier: Tier) -> String {
        let scopes: Vec<Scope> = scopes.iter().map(|s| Scope::parse(s).unwrap()).collect();
        keys::create_key(&self.pool, org, "test", &scopes, tier)
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
