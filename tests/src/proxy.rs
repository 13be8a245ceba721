//! A TCP proxy between a daemon and Postgres that a test can cut and restore, to play a
//! database outage without touching the server other tests share.
//!
//! Written here rather than taken from a crate: the Rust crates for this (`toxiproxy_rust`)
//! are clients of Shopify's Toxiproxy server, a Go binary this machine does not have; what a
//! test needs is a few dozen lines of tokio.

use std::net::SocketAddr;
use tokio::io::copy_bidirectional;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// What the proxy does with traffic.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Link {
    /// Bytes flow both ways.
    Up,
    /// Every connection open at the cut was dropped; new ones are accepted and then left
    /// unanswered (a blackhole: the client waits for a handshake that never comes, as it
    /// would behind a dead network path), and dropped on restore.
    Cut,
}

/// The link state plus which cut it is, so a connection made before a cut is dropped by it
/// and one made after a restore is not.
#[derive(Debug, Clone, Copy)]
struct State {
    link: Link,
    cuts: u64,
}

/// A proxy on a free loopback port forwarding to `upstream`. Dropping it stops it.
pub struct TcpProxy {
    addr: SocketAddr,
    state: watch::Sender<State>,
    accept: JoinHandle<()>,
}

impl TcpProxy {
    pub async fn start(upstream: SocketAddr) -> std::io::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let (state, _) = watch::channel(State {
            link: Link::Up,
            cuts: 0,
        });
        let watcher = state.subscribe();
        let accept = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                tokio::spawn(serve(client, upstream, watcher.clone()));
            }
        });
        Ok(Self {
            addr,
            state,
            accept,
        })
    }

    /// Where clients connect.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Drop every open connection and blackhole new ones until [`Self::restore`].
    pub fn cut(&self) {
        self.state.send_modify(|s| {
            s.link = Link::Cut;
            s.cuts += 1;
        });
    }

    /// Forward new connections again.
    pub fn restore(&self) {
        self.state.send_modify(|s| s.link = Link::Up);
    }
}

impl Drop for TcpProxy {
    /// Stops accepting; the connection tasks end when they see the state's sender gone.
    fn drop(&mut self) {
        self.accept.abort();
    }
}

async fn serve(mut client: TcpStream, upstream: SocketAddr, mut state: watch::Receiver<State>) {
    let at_accept = *state.borrow_and_update();
    if at_accept.link == Link::Cut {
        // Blackhole: hold the socket without a byte until the link is restored, then drop it.
        let _ = state.wait_for(|s| s.link == Link::Up).await;
        return;
    }
    let Ok(mut server) = TcpStream::connect(upstream).await else {
        return;
    };
    tokio::select! {
        _ = copy_bidirectional(&mut client, &mut server) => {}
        _ = state.wait_for(|s| s.cuts != at_accept.cuts) => {}
    }
}
