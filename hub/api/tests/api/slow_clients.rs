//! Slow clients cannot hold connections: raw sockets that send half their headers, pause their
//! body, or trickle it, are cut off by the header-read, body-read and whole-request timeouts.

use crate::common::{spawn_with, TestApp};
use sqlx::PgPool;
use std::time::{Duration, Instant};
use switchyard_api::{ApiConfig, Timeouts};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const LIMITS: Timeouts = Timeouts {
    header_read: Duration::from_millis(300),
    body_read: Duration::from_millis(300),
    request: Duration::from_millis(1500),
};

/// Far above every limit: a connection still open after this is being held.
const HELD: Duration = Duration::from_secs(10);

async fn app(pool: PgPool) -> TestApp {
    spawn_with(
        pool,
        ApiConfig {
            timeouts: LIMITS,
            ..ApiConfig::default()
        },
    )
    .await
}

async fn connect(app: &TestApp) -> TcpStream {
    TcpStream::connect(app.base.trim_start_matches("http://"))
        .await
        .unwrap()
}

/// Everything the server sends until it closes the connection, and how long that took.
/// Fails if the connection is still open after [`HELD`].
async fn until_closed(reader: &mut (impl AsyncReadExt + Unpin)) -> (String, Duration) {
    let started = Instant::now();
    let mut received = Vec::new();
    let read = tokio::time::timeout(HELD, reader.read_to_end(&mut received)).await;
    match read {
        // A reset after the server's last bytes is a close too.
        Ok(Ok(_)) | Ok(Err(_)) => (
            String::from_utf8_lossy(&received).into_owned(),
            started.elapsed(),
        ),
        Err(_) => panic!(
            "the connection was still open after {HELD:?}; received so far: {:?}",
            String::from_utf8_lossy(&received)
        ),
    }
}

#[sqlx::test(migrator = "switchyard_store::MIGRATOR")]
async fn half_sent_headers_and_idle_connections_are_closed(pool: PgPool) {
    let app = app(pool).await;

    let mut half = connect(&app).await;
    half.write_all(b"GET /healthz HTTP/1.1\r\nHost: switchyard\r\nX-Slow: ")
        .await
        .unwrap();
    let (received, after) = until_closed(&mut half).await;
    assert!(!received.contains("200 OK"), "{received}");
    assert!(
        after >= LIMITS.header_read - Duration::from_millis(50),
        "{after:?}"
    );

    // A connection that never sends a byte is closed too.
    let mut silent = connect(&app).await;
    let (received, _) = until_closed(&mut silent).await;
    assert!(received.is_empty(), "{received}");

    // A prompt client is served (the limits are not simply refusing everything).
    let resp = app
        .client
        .get(format!("{}/healthz", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
}

#[sqlx::test(migrator = "switchyard_store::MIGRATOR")]
async fn a_body_that_stops_arriving_is_answered_408(pool: PgPool) {
    let app = app(pool).await;
    let key = app.key("a", &["write:jobs"]).await;
    let mut stream = connect(&app).await;
    let head = format!(
        "POST /api/v1/jobs HTTP/1.1\r\nHost: switchyard\r\nAuthorization: Bearer {key}\r\n\
         Content-Type: application/json\r\nContent-Length: 64\r\n\r\n{{\"kind\": \"noop\""
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let (received, _) = until_closed(&mut stream).await;
    assert!(received.starts_with("HTTP/1.1 408"), "{received}");
    assert!(received.contains("\"request_timeout\""), "{received}");
    assert_eq!(
        app.count("SELECT count(*) FROM jobs").await,
        0,
        "nothing was enqueued from half a body"
    );
}

#[sqlx::test(migrator = "switchyard_store::MIGRATOR")]
async fn a_trickled_body_is_cut_off_by_the_whole_request_limit(pool: PgPool) {
    let app = app(pool).await;
    let key = app.key("a", &["write:jobs"]).await;
    let (mut reader, mut writer) = connect(&app).await.into_split();
    let length = 400;
    let head = format!(
        "POST /api/v1/jobs HTTP/1.1\r\nHost: switchyard\r\nAuthorization: Bearer {key}\r\n\
         Content-Type: application/json\r\nContent-Length: {length}\r\n\r\n"
    );
    writer.write_all(head.as_bytes()).await.unwrap();
    // One byte per 100 ms never pauses long enough for the body-read limit; the whole body
    // would take 40 s.
    let trickle = tokio::spawn(async move {
        let mut sent = 0;
        let mut tick = tokio::time::interval(Duration::from_millis(100));
        while sent < length {
            tick.tick().await;
            if writer.write_all(b" ").await.is_err() {
                break;
            }
            sent += 1;
        }
        sent
    });
    let (received, after) = until_closed(&mut reader).await;
    assert!(received.starts_with("HTTP/1.1 408"), "{received}");
    assert!(received.contains("\"request_timeout\""), "{received}");
    assert!(
        after >= LIMITS.request - Duration::from_millis(100),
        "{after:?}"
    );
    let sent = trickle.await.unwrap();
    assert!(
        sent < length,
        "cut off mid-body, not after it ({sent} bytes sent)"
    );
}
