//! The SFTP mailbox transport, over libssh2 (the `ssh2` crate).
//!
//! * The server's host key is pinned (the whole key, or its `SHA256:` fingerprint) and
//!   checked right after the key exchange, before any credential is sent; a mismatch is an
//!   `auth` error (straight to the dead-letter queue: retrying cannot make a wrong key right)
//!   that shows both fingerprints. A refused login is `auth` too; a refused or timed-out
//!   connection is `transient`.
//! * Renames are SFTP v3 `SSH_FXP_RENAME`, which OpenSSH's server carries out as
//!   `link()` + `unlink()` and which fails when the target exists. That is the semantics the
//!   pipeline wants (a claim or a publish never replaces a file), and the target appears
//!   complete, in one step. libssh2 sends no rename flags to a v3 server, so the
//!   `posix-rename@openssh.com` extension is not used; the one window it would close (the
//!   server dying between its link and unlink, leaving the file under both names) ends in a
//!   second claim of an interchange already stored, which the duplicate check flags and does
//!   not acknowledge again.
//! * A file to parse is first downloaded into an anonymous local spool file, so the parser
//!   runs on its own thread without holding the SSH session, and memory stays bounded.
//! * Documents are written as `.NAME.UUID.tmp`, `fsync@openssh.com`-flushed, then renamed.
//!
//! libssh2 is blocking: every operation runs on tokio's blocking pool, one at a time per
//! session (a mutex), each bounded by the configured timeout.

use crate::partners::{fingerprint, ClientKey, HostKeyPin, SftpSpec};
use crate::transport::{is_candidate, temp_name, Folder, MailboxTransport};
use async_trait::async_trait;
use ssh2::{ErrorCode, MethodType, RenameFlags, Session, Sftp};
use std::io::{Read, Seek, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use switchyard_core::error::AdapterError;
use tracing::{info, warn};

/// `SSH_FX_NO_SUCH_FILE`.
const FX_NO_SUCH_FILE: i32 = 2;

struct Conn {
    // Kept alive for the SFTP channel's sake and closed politely on drop.
    session: Session,
    sftp: Sftp,
}

impl Drop for Conn {
    fn drop(&mut self) {
        let _ = self
            .session
            .disconnect(None, "switchyard mailbox poll done", None);
    }
}

/// A connected, authenticated SFTP mailbox.
pub struct SftpMailbox {
    conn: Arc<Mutex<Conn>>,
    /// `user@host:port`, for messages.
    endpoint: String,
    /// The root as the server resolved it.
    root: PathBuf,
}

fn is_no_such_file(e: &ssh2::Error) -> bool {
    matches!(e.code(), ErrorCode::SFTP(FX_NO_SUCH_FILE))
}

/// OpenSSH's client preference for host key algorithms (ssh_config HostKeyAlgorithms).
const OPENSSH_ORDER: &str = "ssh-ed25519,ecdsa-sha2-nistp256,ecdsa-sha2-nistp384,ecdsa-sha2-nistp521,rsa-sha2-512,rsa-sha2-256,ssh-rsa";

/// Host key algorithms to offer so the server presents the pinned key's type.
fn host_key_prefs(algorithm: &str) -> String {
    match algorithm {
        // An RSA key signs with SHA-2 today; the key blob is the same.
        "ssh-rsa" => "rsa-sha2-512,rsa-sha2-256,ssh-rsa".into(),
        other => other.to_owned(),
    }
}

impl SftpMailbox {
    pub async fn connect(spec: &SftpSpec) -> Result<Self, AdapterError> {
        let spec = spec.clone();
        let endpoint = format!("{}@{}:{}", spec.user, spec.host, spec.port);
        let ep = endpoint.clone();
        tokio::task::spawn_blocking(move || connect_blocking(&spec, &ep))
            .await
            .map_err(|e| AdapterError::transient(format!("sftp connect thread: {e}")))?
            .map(|(conn, root)| {
                info!(%endpoint, root = %root.display(), "sftp mailbox connected");
                Self {
                    conn: Arc::new(Mutex::new(conn)),
                    endpoint,
                    root,
                }
            })
    }

    /// Run one blocking SFTP operation on the blocking pool.
    async fn run<T: Send + 'static>(
        &self,
        what: String,
        f: impl FnOnce(&Sftp) -> Result<T, AdapterError> + Send + 'static,
    ) -> Result<T, AdapterError> {
        let conn = self.conn.clone();
        tokio::task::spawn_blocking(move || {
            let conn = conn
                .lock()
                .map_err(|_| AdapterError::transient(format!("{what}: sftp session poisoned")))?;
            f(&conn.sftp)
        })
        .await
        .map_err(|e| AdapterError::transient(format!("sftp thread: {e}")))?
    }

    fn dir(&self, folder: Folder) -> PathBuf {
        self.root.join(folder.dir_name())
    }
}

fn connect_blocking(spec: &SftpSpec, endpoint: &str) -> Result<(Conn, PathBuf), AdapterError> {
    let transient = |what: &str, e: &dyn std::fmt::Display| {
        AdapterError::transient(format!("sftp {endpoint}: {what}: {e}"))
    };
    let addrs: Vec<_> = (spec.host.as_str(), spec.port)
        .to_socket_addrs()
        .map_err(|e| transient("resolving the host", &e))?
        .collect();
    let mut last = None;
    let mut tcp = None;
    for a in &addrs {
        match TcpStream::connect_timeout(a, spec.timeout) {
            Ok(s) => {
                tcp = Some(s);
                break;
            }
            Err(e) => last = Some(e),
        }
    }
    let tcp = tcp.ok_or_else(|| match last {
        Some(e) => transient("connecting", &e),
        None => transient("connecting", &"the host has no address"),
    })?;
    let mut session = Session::new().map_err(|e| transient("starting a session", &e))?;
    session.set_timeout(u32::try_from(spec.timeout.as_millis()).unwrap_or(u32::MAX));
    session.set_tcp_stream(tcp);
    let prefs = match &spec.host_key {
        HostKeyPin::Key { algorithm, .. } => host_key_prefs(algorithm),
        // A bare fingerprint does not say which of the server's keys it is: ask in OpenSSH's
        // own order, so it is the key `ssh` and `ssh-keyscan` showed the operator.
        HostKeyPin::Fingerprint(_) => OPENSSH_ORDER.into(),
    };
    session
        .method_pref(MethodType::HostKey, &prefs)
        .map_err(|e| transient("choosing the host key algorithm", &e))?;
    session
        .handshake()
        .map_err(|e| transient("SSH handshake", &e))?;

    // The host key before any credential leaves this machine.
    let (presented, kind) = session.host_key().ok_or_else(|| {
        AdapterError::auth(format!("sftp {endpoint}: the server presented no host key"))
    })?;
    if !spec.host_key.matches(presented) {
        return Err(AdapterError::auth(format!(
            "sftp {endpoint}: host key mismatch: expected {}, the server presented {} ({kind:?}); \
             nothing was sent. If the partner changed its key, update `host_key` in the partner's mailbox settings",
            spec.host_key.fingerprint(),
            fingerprint(presented),
        )));
    }

    let passphrase = spec.passphrase.as_deref();
    let login = match &spec.key {
        ClientKey::Text(text) => session.userauth_pubkey_memory(&spec.user, None, text, passphrase),
        ClientKey::File(path) => session.userauth_pubkey_file(&spec.user, None, path, passphrase),
    };
    if let Err(e) = login {
        return Err(AdapterError::auth(format!(
            "sftp {endpoint}: the server refused our key: {e}"
        )));
    }
    if !session.authenticated() {
        return Err(AdapterError::auth(format!(
            "sftp {endpoint}: not authenticated after the key was accepted"
        )));
    }
    let sftp = session
        .sftp()
        .map_err(|e| transient("starting the sftp subsystem", &e))?;
    let root = Path::new(&spec.root);
    // `mkdir -p`: the first poll of a new mailbox creates its root, like the local one.
    let mut missing: Vec<&Path> = root
        .ancestors()
        .filter(|p| !p.as_os_str().is_empty())
        .take_while(|p| sftp.stat(p).is_err())
        .collect();
    missing.reverse();
    for dir in missing {
        if let Err(e) = sftp.mkdir(dir, 0o750) {
            if sftp.stat(dir).is_err() {
                return Err(transient(
                    &format!("creating the mailbox root {}", dir.display()),
                    &e,
                ));
            }
        }
    }
    let root = sftp.realpath(root).map_err(|e| {
        transient(
            &format!("resolving the mailbox root {}", root.display()),
            &e,
        )
    })?;
    Ok((Conn { session, sftp }, root))
}

#[async_trait]
impl MailboxTransport for SftpMailbox {
    fn path(&self, folder: Folder, name: &str) -> PathBuf {
        self.dir(folder).join(name)
    }

    async fn lock_key(&self) -> String {
        format!(
            "switchyard.edi.mailbox:sftp://{}{}",
            self.endpoint,
            self.root.display()
        )
    }

    async fn ensure_dirs(&self) -> Result<(), AdapterError> {
        let dirs: Vec<PathBuf> = Folder::ALL.iter().map(|f| self.dir(*f)).collect();
        let ep = self.endpoint.clone();
        self.run("creating the mailbox folders".into(), move |sftp| {
            for d in dirs {
                if sftp.stat(&d).is_ok() {
                    continue;
                }
                if let Err(e) = sftp.mkdir(&d, 0o750) {
                    // Created meanwhile by someone else is fine.
                    if sftp.stat(&d).is_err() {
                        return Err(AdapterError::transient(format!(
                            "sftp {ep}: creating {}: {e}",
                            d.display()
                        )));
                    }
                }
            }
            Ok(())
        })
        .await
    }

    async fn list(&self, folder: Folder) -> Result<Vec<String>, AdapterError> {
        let dir = self.dir(folder);
        let ep = self.endpoint.clone();
        self.run(format!("listing {}", dir.display()), move |sftp| {
            let entries = sftp.readdir(&dir).map_err(|e| {
                AdapterError::transient(format!("sftp {ep}: listing {}: {e}", dir.display()))
            })?;
            let mut names: Vec<String> = entries
                .into_iter()
                .filter(|(_, stat)| stat.is_file())
                .filter_map(|(p, _)| {
                    let name = p.file_name()?.to_str().map(str::to_owned);
                    if name.is_none() {
                        warn!(dir = %dir.display(), "skipping a remote file whose name is not UTF-8");
                    }
                    name
                })
                .filter(|n| is_candidate(n))
                .collect();
            names.sort();
            Ok(names)
        })
        .await
    }

    async fn rename(
        &self,
        from: Folder,
        from_name: &str,
        to: Folder,
        to_name: &str,
    ) -> Result<bool, AdapterError> {
        let (src, dst) = (self.path(from, from_name), self.path(to, to_name));
        let ep = self.endpoint.clone();
        self.run(format!("moving {}", src.display()), move |sftp| {
            // No OVERWRITE: a v3 server gets a plain rename, which refuses an existing target.
            match sftp.rename(&src, &dst, Some(RenameFlags::ATOMIC | RenameFlags::NATIVE)) {
                Ok(()) => Ok(true),
                Err(e) if is_no_such_file(&e) && sftp.stat(&src).is_err() => Ok(false),
                Err(e) => Err(AdapterError::transient(format!(
                    "sftp {ep}: moving {} to {}: {e}",
                    src.display(),
                    dst.display()
                ))),
            }
        })
        .await
    }

    async fn exists(&self, folder: Folder, name: &str) -> Result<bool, AdapterError> {
        let p = self.path(folder, name);
        let ep = self.endpoint.clone();
        self.run(
            format!("looking for {}", p.display()),
            move |sftp| match sftp.stat(&p) {
                Ok(_) => Ok(true),
                Err(e) if is_no_such_file(&e) => Ok(false),
                Err(e) => Err(AdapterError::transient(format!(
                    "sftp {ep}: looking for {}: {e}",
                    p.display()
                ))),
            },
        )
        .await
    }

    async fn open(&self, folder: Folder, name: &str) -> Result<Box<dyn Read + Send>, AdapterError> {
        let p = self.path(folder, name);
        let ep = self.endpoint.clone();
        self.run(format!("downloading {}", p.display()), move |sftp| {
            let fail = |e: &dyn std::fmt::Display| {
                AdapterError::transient(format!("sftp {ep}: downloading {}: {e}", p.display()))
            };
            let mut remote = sftp.open(&p).map_err(|e| fail(&e))?;
            // An unnamed local file: gone when the reader is dropped, whatever happens.
            let mut spool = tempfile::tempfile().map_err(|e| fail(&e))?;
            std::io::copy(&mut remote, &mut spool).map_err(|e| fail(&e))?;
            spool.rewind().map_err(|e| fail(&e))?;
            Ok(Box::new(spool) as Box<dyn Read + Send>)
        })
        .await
    }

    async fn write_atomic(
        &self,
        folder: Folder,
        name: &str,
        body: &[u8],
    ) -> Result<(), AdapterError> {
        let target = self.path(folder, name);
        let tmp = self.path(folder, &temp_name(name));
        let body = body.to_vec();
        let ep = self.endpoint.clone();
        self.run(format!("writing {}", target.display()), move |sftp| {
            let fail = |what: &str, e: &dyn std::fmt::Display| {
                AdapterError::transient(format!(
                    "sftp {ep}: writing {}: {what}: {e}",
                    target.display()
                ))
            };
            let mut f = sftp.create(&tmp).map_err(|e| fail("creating", &e))?;
            f.write_all(&body).map_err(|e| fail("uploading", &e))?;
            // fsync@openssh.com; a server without it still gets the rename, just no flush.
            if let Err(e) = f.fsync() {
                warn!(file = %tmp.display(), error = %e, "the sftp server cannot fsync; renaming unflushed");
            }
            f.close().map_err(|e| fail("closing", &e))?;
            drop(f);
            match sftp.rename(&tmp, &target, Some(RenameFlags::ATOMIC | RenameFlags::NATIVE)) {
                Ok(()) => Ok(()),
                // Written by an earlier run whose status update was lost: the same document.
                Err(_) if sftp.stat(&target).is_ok() => {
                    let _ = sftp.unlink(&tmp);
                    Ok(())
                }
                Err(e) => {
                    let _ = sftp.unlink(&tmp);
                    Err(fail("renaming into place", &e))
                }
            }
        })
        .await
    }
}
