//! `/readyz` reports the daemon's own tasks, and answers within a second when the database
//! does not.

use crate::common::{code, json, StubAdmission};
use sqlx::postgres::PgPoolOptions;
use sqlx::PgPool;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use switchyard_api::{ApiConfig, ApiState, Readiness};
use switchyard_core::SystemClock;
use switchyard_store::queue::Queue;

/// The daemon's health as the test sets it.
#[derive(Default)]
struct Problems(Mutex<Vec<String>>);

impl Readiness for Problems {
    fn problems(&self) -> Vec<String> {
        self.0.lock().unwrap().clone()
    }
}

/// The router over `pool` with `readiness`, on a loopback port; its base URL.
async fn serve(pool: PgPool, readiness: Option<Arc<dyn Readiness>>) -> String {
    let queue = Queue::new(pool.clone(), Arc::new(SystemClock));
    let mut state = ApiState::new(
        pool,
        queue,
        Arc::new(StubAdmission::default()),
        ApiConfig::default(),
    );
    state.readiness = readiness;
    let app = switchyard_api::router(state, Vec::new());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}")
}

#[sqlx::test(migrator = "switchyard_store::MIGRATOR")]
async fn a_failing_task_makes_the_daemon_not_ready(pool: PgPool) {
    let problems = Arc::new(Problems::default());
    let base = serve(pool, Some(problems.clone())).await;
    let client = reqwest::Client::new();
    let readyz = || client.get(format!("{base}/readyz")).send();

    let (status, body) = json(readyz().await.unwrap()).await;
    assert_eq!((status, body["status"].as_str()), (200, Some("ready")));

    let failing = "recording finished jobs: failing for 3.0 s: pool timed out";
    problems.0.lock().unwrap().push(failing.to_owned());
    let (status, body) = json(readyz().await.unwrap()).await;
    assert_eq!((status, code(&body)), (503, "unavailable"), "{body}");
    assert_eq!(body["error"]["details"]["problems"][0], failing, "{body}");

    problems.0.lock().unwrap().clear();
    let (status, _) = json(readyz().await.unwrap()).await;
    assert_eq!(status, 200, "ready again once the task recovers");
}

#[tokio::test]
async fn readiness_answers_within_a_second_when_the_database_does_not() {
    // A database behind a dead network path: connections are accepted and never answered.
    let blackhole = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = blackhole.local_addr().unwrap();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = blackhole.accept().await {
            held.push(socket);
        }
    });
    // The pool waits as long as the daemon's does by default.
    let pool = PgPoolOptions::new()
        .acquire_timeout(Duration::from_secs(10))
        .connect_lazy(&format!("postgres://postgres@{addr}/switchyard"))
        .unwrap();
    let base = serve(pool, None).await;

    let asked = Instant::now();
    let resp = reqwest::Client::new()
        .get(format!("{base}/readyz"))
        .timeout(Duration::from_secs(5))
        .send()
        .await
        .expect("an answer within 5 s");
    let took = asked.elapsed();
    let (status, body) = json(resp).await;
    assert_eq!((status, code(&body)), (503, "unavailable"), "{body}");
    assert!(took < Duration::from_secs(1), "/readyz took {took:?}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("did not answer"),
        "{body}"
    );
}
