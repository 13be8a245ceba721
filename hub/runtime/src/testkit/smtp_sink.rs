//! A real SMTP server on a loopback port that keeps every message it accepts: the receiving
//! end of the notification tests and the demo. Written here (a few dozen lines of RFC 5321 over
//! tokio) because the sink must refuse on demand — a 5xx for one recipient, a 4xx once — and
//! check AUTH, and the Rust SMTP server crates found are unmaintained (mailin-embedded) or
//! whole mail servers. It speaks EHLO/HELO, AUTH PLAIN (when credentials are set), MAIL,
//! RCPT, DATA (dot-unstuffed), RSET, NOOP and QUIT, in the clear or over TLS: STARTTLS (AUTH
//! and MAIL refused until the upgrade, as a submission server does) or TLS from the first
//! byte, with a self-signed certificate for 127.0.0.1 and localhost made per sink (rcgen) and
//! served by rustls; [`SmtpSink::ca_pem`] is what a client must trust.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Notify;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivatePkcs8KeyDer};
use tokio_rustls::rustls::{self, ServerConfig};
use tokio_rustls::TlsAcceptor;

/// How the sink's connections are secured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SinkTls {
    /// In the clear (`security = "none"`).
    None,
    /// In the clear until the client's STARTTLS (`security = "starttls"`).
    Starttls,
    /// TLS from the first byte (`security = "tls"`).
    Implicit,
}

/// Where a session stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// No TLS offered.
    Plain,
    /// STARTTLS offered, not yet taken: no AUTH, no MAIL.
    Offering,
    /// Over TLS (`greet`: the greeting is still due, as after an implicit TLS handshake; after
    /// STARTTLS the client speaks first).
    Secured { greet: bool },
}

/// How a session ended.
enum Ended<S> {
    Closed,
    /// The client asked for STARTTLS and was told to go ahead: the plain stream, to upgrade.
    StartTls(S),
}

/// One accepted message.
#[derive(Debug, Clone)]
pub struct Received {
    /// The envelope sender (`MAIL FROM`).
    pub from: String,
    /// The envelope recipients (`RCPT TO`) that were accepted.
    pub to: Vec<String>,
    /// The message as sent, headers and body (CRLF line ends, dot-unstuffed).
    pub data: Vec<u8>,
    /// The user of `AUTH PLAIN`, when the client authenticated.
    pub user: Option<String>,
    /// It came over TLS (STARTTLS or implicit).
    pub tls: bool,
}

impl Received {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.data).into_owned()
    }
}

#[derive(Default)]
struct State {
    messages: Vec<Received>,
    /// Recipient → the answer every RCPT for it gets (`550 5.1.1 no such user`).
    refuse: BTreeMap<String, String>,
    /// Recipient → the answer its next RCPT gets, once.
    refuse_once: BTreeMap<String, String>,
    /// Recipients refused so far (every RCPT refused), in order.
    refused: Vec<String>,
    credentials: Option<(String, String)>,
    /// The connections accepted.
    connections: usize,
}

/// The running sink; it stops when dropped.
pub struct SmtpSink {
    addr: SocketAddr,
    /// The self-signed certificate (PEM) of a TLS sink.
    ca_pem: Option<String>,
    state: Arc<Mutex<State>>,
    arrived: Arc<Notify>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl SmtpSink {
    /// Listen on a free port of 127.0.0.1, in the clear.
    pub async fn start() -> std::io::Result<Self> {
        Self::start_with(SinkTls::None).await
    }

    /// Listen on a free port of 127.0.0.1, secured as `tls` says.
    pub async fn start_with(tls: SinkTls) -> std::io::Result<Self> {
        let (acceptor, ca_pem) = match tls {
            SinkTls::None => (None, None),
            SinkTls::Starttls | SinkTls::Implicit => {
                let (acceptor, pem) = self_signed().map_err(std::io::Error::other)?;
                (Some(acceptor), Some(pem))
            }
        };
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let state = Arc::new(Mutex::new(State::default()));
        let arrived = Arc::new(Notify::new());
        let (s, a) = (state.clone(), arrived.clone());
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                s.lock().unwrap().connections += 1;
                let (s, a, acceptor) = (s.clone(), a.clone(), acceptor.clone());
                tokio::spawn(async move {
                    let _ = serve(stream, tls, acceptor, s, a).await;
                });
            }
        });
        Ok(Self {
            addr,
            ca_pem,
            state,
            arrived,
            task,
        })
    }

    /// The sink's self-signed certificate (PEM), for the client to trust (`[email] ca_file`);
    /// `None` in the clear.
    pub fn ca_pem(&self) -> Option<&str> {
        self.ca_pem.as_deref()
    }

    pub fn host(&self) -> String {
        self.addr.ip().to_string()
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// Require `AUTH PLAIN` with these credentials before `MAIL`.
    pub fn require_auth(&self, user: &str, password: &str) {
        self.state.lock().unwrap().credentials = Some((user.into(), password.into()));
    }

    /// Refuse every `RCPT TO` of `recipient` with `answer` (`550 5.1.1 mailbox unavailable`).
    pub fn refuse(&self, recipient: &str, answer: &str) {
        let mut s = self.state.lock().unwrap();
        s.refuse.insert(recipient.to_lowercase(), answer.into());
    }

    /// Refuse the next `RCPT TO` of `recipient` with `answer` (`451 4.3.0 try later`), once.
    pub fn refuse_once(&self, recipient: &str, answer: &str) {
        let mut s = self.state.lock().unwrap();
        s.refuse_once
            .insert(recipient.to_lowercase(), answer.into());
    }

    /// Accept `recipient` again (its address was fixed).
    pub fn accept(&self, recipient: &str) {
        let mut s = self.state.lock().unwrap();
        s.refuse.remove(&recipient.to_lowercase());
        s.refuse_once.remove(&recipient.to_lowercase());
    }

    /// Every message accepted so far, in order.
    pub fn messages(&self) -> Vec<Received> {
        self.state.lock().unwrap().messages.clone()
    }

    /// Every refused `RCPT TO`, in order.
    pub fn refused(&self) -> Vec<String> {
        self.state.lock().unwrap().refused.clone()
    }

    pub fn connections(&self) -> usize {
        self.state.lock().unwrap().connections
    }

    /// Wait until at least `n` messages were accepted (an error after `timeout`).
    pub async fn wait_for(&self, n: usize, timeout: Duration) -> anyhow::Result<Vec<Received>> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let notified = self.arrived.notified();
            let got = self.messages();
            if got.len() >= n {
                return Ok(got);
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                anyhow::bail!(
                    "the SMTP sink got {} message(s) in {timeout:?}, expected {n}",
                    got.len()
                );
            }
        }
    }
}

/// The address inside `MAIL FROM:<a@b>` / `RCPT TO:<a@b> PARAMS`.
fn path_of(arg: &str) -> String {
    let arg = arg.trim();
    match (arg.find('<'), arg.find('>')) {
        (Some(a), Some(b)) if a < b => arg[a + 1..b].to_owned(),
        _ => arg.split_whitespace().next().unwrap_or_default().to_owned(),
    }
}

/// A certificate for 127.0.0.1 and localhost signed by its own key, and the acceptor serving
/// it (ring, the provider the rest of the tree's rustls uses).
fn self_signed() -> Result<(TlsAcceptor, String), String> {
    let certified =
        rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_owned(), "localhost".to_owned()])
            .map_err(|e| format!("self-signed certificate: {e}"))?;
    let pem = certified.cert.pem();
    let der: CertificateDer<'static> = certified.cert.der().clone();
    let key = PrivatePkcs8KeyDer::from(certified.key_pair.serialize_der());
    let config =
        ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()
            .map_err(|e| e.to_string())?
            .with_no_client_auth()
            .with_single_cert(vec![der], key.into())
            .map_err(|e| e.to_string())?;
    Ok((TlsAcceptor::from(Arc::new(config)), pem))
}

/// One connection: in the clear, upgraded on STARTTLS, or TLS from the start.
async fn serve(
    stream: TcpStream,
    tls: SinkTls,
    acceptor: Option<TlsAcceptor>,
    state: Arc<Mutex<State>>,
    arrived: Arc<Notify>,
) -> std::io::Result<()> {
    match (tls, acceptor) {
        (SinkTls::Implicit, Some(acceptor)) => {
            let secured = acceptor.accept(stream).await?;
            session(secured, Phase::Secured { greet: true }, state, arrived).await?;
        }
        (SinkTls::Starttls, Some(acceptor)) => {
            if let Ended::StartTls(plain) =
                session(stream, Phase::Offering, state.clone(), arrived.clone()).await?
            {
                let secured = acceptor.accept(plain).await?;
                session(secured, Phase::Secured { greet: false }, state, arrived).await?;
            }
        }
        _ => {
            session(stream, Phase::Plain, state, arrived).await?;
        }
    }
    Ok(())
}

async fn session<S: AsyncRead + AsyncWrite + Unpin>(
    stream: S,
    phase: Phase,
    state: Arc<Mutex<State>>,
    arrived: Arc<Notify>,
) -> std::io::Result<Ended<S>> {
    // One buffered stream both ways: a STARTTLS hands the same stream to the TLS handshake.
    let mut lines = BufReader::new(stream);
    if phase != (Phase::Secured { greet: false }) {
        lines.write_all(b"220 switchyard-sink ESMTP\r\n").await?;
    }
    let secured = matches!(phase, Phase::Secured { .. });
    let mut from: Option<String> = None;
    let mut to: Vec<String> = Vec::new();
    let mut user: Option<String> = None;
    let mut line = String::new();
    loop {
        line.clear();
        if lines.read_line(&mut line).await? == 0 {
            return Ok(Ended::Closed);
        }
        let command = line.trim_end();
        let (verb, arg) = command.split_once(' ').unwrap_or((command, ""));
        let verb = verb.to_ascii_uppercase();
        let needs_auth = state.lock().unwrap().credentials.clone();
        let answer: String = match verb.as_str() {
            // Before STARTTLS, only STARTTLS: AUTH is not offered in the clear.
            "EHLO" if phase == Phase::Offering => {
                "250-switchyard-sink\r\n250-STARTTLS\r\n250 8BITMIME".into()
            }
            "EHLO" => {
                let auth = if needs_auth.is_some() {
                    "250-AUTH PLAIN\r\n"
                } else {
                    ""
                };
                format!("250-switchyard-sink\r\n{auth}250-8BITMIME\r\n250 SMTPUTF8")
            }
            "STARTTLS" if phase == Phase::Offering => {
                lines.write_all(b"220 2.0.0 ready to start TLS\r\n").await?;
                lines.flush().await?;
                return Ok(Ended::StartTls(lines.into_inner()));
            }
            "STARTTLS" => "503 5.5.1 TLS not available or already active".into(),
            "AUTH" | "MAIL" if phase == Phase::Offering => {
                "530 5.7.0 must issue a STARTTLS command first".into()
            }
            "HELO" => "250 switchyard-sink".into(),
            "AUTH" => {
                let mut parts = arg.split_whitespace();
                let mechanism = parts.next().unwrap_or_default().to_ascii_uppercase();
                let given = parts.next().and_then(|b| STANDARD.decode(b).ok());
                let decoded = given.map(|g| String::from_utf8_lossy(&g).into_owned());
                let fields: Vec<String> = decoded
                    .as_deref()
                    .unwrap_or_default()
                    .split('\0')
                    .map(str::to_owned)
                    .collect();
                match (&needs_auth, mechanism.as_str(), fields.as_slice()) {
                    (Some((u, p)), "PLAIN", [_, gu, gp]) if gu == u && gp == p => {
                        user = Some(gu.clone());
                        "235 2.7.0 authenticated".into()
                    }
                    (None, _, _) => "503 5.5.1 AUTH not offered".into(),
                    _ => "535 5.7.8 authentication failed".into(),
                }
            }
            "MAIL" => {
                if needs_auth.is_some() && user.is_none() {
                    "530 5.7.0 authentication required".into()
                } else {
                    from = Some(path_of(arg.split_once(':').map(|x| x.1).unwrap_or(arg)));
                    to.clear();
                    "250 2.1.0 OK".into()
                }
            }
            "RCPT" => {
                let rcpt = path_of(arg.split_once(':').map(|x| x.1).unwrap_or(arg));
                let key = rcpt.to_lowercase();
                let mut s = state.lock().unwrap();
                let refusal = s
                    .refuse_once
                    .remove(&key)
                    .or_else(|| s.refuse.get(&key).cloned());
                match refusal {
                    Some(answer) => {
                        s.refused.push(rcpt);
                        answer
                    }
                    None if from.is_none() => "503 5.5.1 MAIL first".into(),
                    None => {
                        to.push(rcpt);
                        "250 2.1.5 OK".into()
                    }
                }
            }
            "DATA" => {
                if to.is_empty() {
                    "503 5.5.1 RCPT first".into()
                } else {
                    lines.write_all(b"354 end with <CRLF>.<CRLF>\r\n").await?;
                    lines.flush().await?;
                    let mut data = Vec::new();
                    let mut raw = Vec::new();
                    loop {
                        raw.clear();
                        if lines.read_until(b'\n', &mut raw).await? == 0 {
                            return Ok(Ended::Closed);
                        }
                        if raw == b".\r\n" || raw == b".\n" {
                            break;
                        }
                        let unstuffed = if raw.first() == Some(&b'.') {
                            &raw[1..]
                        } else {
                            &raw[..]
                        };
                        data.extend_from_slice(unstuffed);
                    }
                    state.lock().unwrap().messages.push(Received {
                        from: from.take().unwrap_or_default(),
                        to: std::mem::take(&mut to),
                        data,
                        user: user.clone(),
                        tls: secured,
                    });
                    arrived.notify_waiters();
                    "250 2.0.0 queued".into()
                }
            }
            "RSET" => {
                from = None;
                to.clear();
                "250 2.0.0 OK".into()
            }
            "NOOP" => "250 2.0.0 OK".into(),
            "QUIT" => {
                lines.write_all(b"221 2.0.0 bye\r\n").await?;
                lines.flush().await?;
                return Ok(Ended::Closed);
            }
            _ => "502 5.5.2 command not recognized".into(),
        };
        lines.write_all(answer.as_bytes()).await?;
        lines.write_all(b"\r\n").await?;
        // TLS streams buffer writes: the answer must leave before the next read waits.
        lines.flush().await?;
    }
}
