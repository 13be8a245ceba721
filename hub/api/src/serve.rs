//! The API's accept loop, with the header-read timeout `axum::serve` cannot give.
//!
//! hyper closes a connection whose request headers do not arrive within
//! [`Timeouts::header_read`] (this also ends idle keep-alive connections after that long),
//! but only when it has a timer, and `axum::serve` sets none: a client that sends half its
//! headers would hold a connection and a task forever. So connections are served here by
//! hyper's HTTP/1 builder with a Tokio timer. HTTP/1.1 only, as `axum::serve` without its
//! `http2` feature was: hyper-util's `auto` builder (HTTP/1 and HTTP/2) first waits for the
//! protocol preface with no deadline at all, so a silent connection would stay open. Body-read and
//! whole-request limits are middleware ([`crate::timeouts`]); this loop adds the peer address
//! (`ConnectInfo<SocketAddr>`) to every request and drains connections on shutdown.

use crate::timeouts::Timeouts;
use axum::extract::ConnectInfo;
use axum::Router;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use std::future::Future;
use std::time::Duration;
use tokio::net::TcpListener;
use tower::ServiceExt;
use tracing::{debug, warn};

/// How long open connections may finish their requests after shutdown begins.
const DRAIN: Duration = Duration::from_secs(10);

/// Serve `router` on `listener` until `shutdown` completes, then let open connections finish
/// their current request (up to 10 s).
pub async fn serve(
    listener: TcpListener,
    router: Router,
    timeouts: Timeouts,
    shutdown: impl Future<Output = ()> + Send,
) -> std::io::Result<()> {
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(timeouts.header_read);
    let graceful = GracefulShutdown::new();
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                // Out of file descriptors and the like: wait a little rather than spin.
                Err(e) => {
                    warn!(error = %e, "accepting a connection failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let router = router.clone();
        let service = hyper::service::service_fn(move |mut req: hyper::Request<Incoming>| {
            req.extensions_mut().insert(ConnectInfo(peer));
            router.clone().oneshot(req)
        });
        // No upgrades: the API has no WebSocket or CONNECT routes.
        let connection = builder.serve_connection(TokioIo::new(stream), service);
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                // Timeouts and resets by clients end up here; they are the client's business.
                debug!(%peer, error = %e, "connection ended with an error");
            }
        });
    }
    drop(listener);
    if tokio::time::timeout(DRAIN, graceful.shutdown())
        .await
        .is_err()
    {
        warn!("connections still open {DRAIN:?} after shutdown; leaving them");
    }
    Ok(())
}
