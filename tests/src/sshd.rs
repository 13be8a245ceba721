//! A real OpenSSH server for the SFTP mailbox tests: `/usr/sbin/sshd` (Debian's
//! openssh-server) on a free loopback port, with its own host key, one authorized client key
//! (both ed25519, made with `ssh-keygen`) and the `internal-sftp` subsystem, all in a temp
//! directory. Killed when dropped. No mock: the daemon's libssh2 client talks to it as it
//! would to a partner's VAN.

use anyhow::{bail, Context};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const SSHD: &str = "/usr/sbin/sshd";

/// What to run by hand when the harness cannot install the server itself.
const INSTALL: &str =
    "apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y openssh-server";

/// Install Debian's openssh-server when `/usr/sbin/sshd` is missing and this process can
/// (root, apt-get present), without starting the system's sshd service: a `policy-rc.d` that
/// refuses every service start is in place for the install. Once per test process; apt's own
/// lock serializes test processes. Otherwise fail with the exact command to run.
fn ensure_installed() -> anyhow::Result<()> {
    static INSTALLED: std::sync::Mutex<Option<Result<(), String>>> = std::sync::Mutex::new(None);
    let mut done = INSTALLED.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(outcome) = done.as_ref() {
        return outcome.clone().map_err(|e| anyhow::anyhow!(e));
    }
    let outcome = install_if_missing().map_err(|e| format!("{e:#}"));
    *done = Some(outcome.clone());
    outcome.map_err(|e| anyhow::anyhow!(e))
}

fn install_if_missing() -> anyhow::Result<()> {
    if Path::new(SSHD).exists() {
        return Ok(());
    }
    let root = Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false);
    if !root || !Path::new("/usr/bin/apt-get").exists() {
        bail!(
            "{SSHD} is missing: the SFTP mailbox tests need a real OpenSSH server, and this \
             process cannot install it (it needs root and apt-get). Run: `{INSTALL}`"
        );
    }
    eprintln!("{SSHD} is missing; installing Debian's openssh-server (once)");
    let policy = Path::new("/usr/sbin/policy-rc.d");
    let own_policy = !policy.exists();
    if own_policy {
        std::fs::write(
            policy,
            "#!/bin/sh\n# switchyard tests: no service starts during the install\nexit 101\n",
        )?;
        std::fs::set_permissions(policy, std::os::unix::fs::PermissionsExt::from_mode(0o755))?;
    }
    let run = |args: &[&str]| -> anyhow::Result<()> {
        let out = Command::new("apt-get")
            .args(args)
            .env("DEBIAN_FRONTEND", "noninteractive")
            .stdin(Stdio::null())
            .output()
            .with_context(|| format!("running apt-get {}", args.join(" ")))?;
        if !out.status.success() {
            bail!(
                "apt-get {} failed:\n{}{}\nRun: `{INSTALL}`",
                args.join(" "),
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        }
        Ok(())
    };
    let installed = run(&["update", "-qq"]).and_then(|_| {
        run(&[
            "install",
            "-y",
            "-qq",
            "--no-install-recommends",
            "openssh-server",
        ])
    });
    if own_policy {
        let _ = std::fs::remove_file(policy);
    }
    installed?;
    if !Path::new(SSHD).exists() {
        bail!("openssh-server installed but {SSHD} is still missing; run `{INSTALL}`");
    }
    Ok(())
}

pub struct Sshd {
    child: Child,
    /// Holds the keys, the config, the log and (under `files/`) the served tree.
    pub dir: tempfile::TempDir,
    pub port: u16,
    /// The account the client logs in as (the one running the tests).
    pub user: String,
    /// The server's public host key line (`ssh-ed25519 AAAA… comment`).
    pub host_key_line: String,
    /// The authorized client's private key file, and its text.
    pub client_key: PathBuf,
    pub client_key_text: String,
    pub log: PathBuf,
}

fn keygen(path: &Path) -> anyhow::Result<()> {
    let status = Command::new("ssh-keygen")
        .args([
            "-q",
            "-t",
            "ed25519",
            "-N",
            "",
            "-C",
            "switchyard-test",
            "-f",
        ])
        .arg(path)
        .stdin(Stdio::null())
        .status()
        .context("running ssh-keygen (Debian's openssh-client)")?;
    if !status.success() {
        bail!("ssh-keygen failed for {}", path.display());
    }
    Ok(())
}

impl Sshd {
    /// Start the server and wait until its port accepts connections. Fails (never skips) when
    /// sshd is not installed.
    pub fn start() -> anyhow::Result<Self> {
        ensure_installed()?;
        if !Path::new(SSHD).exists() {
            bail!("{SSHD} is missing after installing openssh-server");
        }
        let dir = tempfile::tempdir()?;
        let d = dir.path();
        keygen(&d.join("host_ed25519"))?;
        keygen(&d.join("client_ed25519"))?;
        std::fs::copy(d.join("client_ed25519.pub"), d.join("authorized_keys"))?;
        std::fs::create_dir_all(d.join("files"))?;
        // sshd's privilege separation directory; Debian's package creates it at boot only.
        let _ = std::fs::create_dir_all("/run/sshd");

        let user = String::from_utf8(Command::new("id").arg("-un").output()?.stdout)?
            .trim()
            .to_owned();
        let port = TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        let config = d.join("sshd_config");
        std::fs::write(
            &config,
            format!(
                "Port {port}\n\
                 ListenAddress 127.0.0.1\n\
                 HostKey {host}\n\
                 AuthorizedKeysFile {auth}\n\
                 PidFile {pid}\n\
                 StrictModes no\n\
                 UsePAM no\n\
                 PubkeyAuthentication yes\n\
                 PasswordAuthentication no\n\
                 KbdInteractiveAuthentication no\n\
                 PermitRootLogin prohibit-password\n\
                 AllowUsers {user}\n\
                 Subsystem sftp internal-sftp\n\
                 LogLevel VERBOSE\n",
                host = d.join("host_ed25519").display(),
                auth = d.join("authorized_keys").display(),
                pid = d.join("sshd.pid").display(),
            ),
        )?;
        let log = d.join("sshd.log");
        let child = Command::new(SSHD)
            .args(["-D", "-e", "-f"])
            .arg(&config)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::from(std::fs::File::create(&log)?))
            .spawn()
            .with_context(|| format!("starting {SSHD}"))?;
        let host_key_line = std::fs::read_to_string(d.join("host_ed25519.pub"))?
            .trim()
            .to_owned();
        let client_key = d.join("client_ed25519");
        let client_key_text = std::fs::read_to_string(&client_key)?;
        let mut me = Self {
            child,
            dir,
            port,
            user,
            host_key_line,
            client_key,
            client_key_text,
            log,
        };
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            if let Some(status) = me.child.try_wait()? {
                bail!(
                    "sshd exited ({status}) before accepting connections:\n{}",
                    std::fs::read_to_string(&me.log).unwrap_or_default()
                );
            }
            if TcpStream::connect(("127.0.0.1", port)).is_ok() {
                break;
            }
            if Instant::now() > deadline {
                let _ = me.child.kill();
                bail!(
                    "sshd did not accept connections on 127.0.0.1:{port} within 15 s:\n{}",
                    std::fs::read_to_string(&me.log).unwrap_or_default()
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Ok(me)
    }

    /// A directory inside the served tree (absolute, so it is the same path for the client).
    pub fn files(&self) -> PathBuf {
        self.dir.path().join("files")
    }

    /// A fresh ed25519 key pair that the server does not authorize: (private key file, public
    /// key line).
    pub fn stranger_key(&self) -> anyhow::Result<(PathBuf, String)> {
        let p = self.dir.path().join("stranger_ed25519");
        if !p.exists() {
            keygen(&p)?;
        }
        let line = std::fs::read_to_string(self.dir.path().join("stranger_ed25519.pub"))?;
        Ok((p, line.trim().to_owned()))
    }

    /// What sshd logged so far (for assertion messages).
    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Sshd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
