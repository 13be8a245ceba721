//! EDI trading partners declared in `switchyard.toml` as `[partners.NAME]` with `kind = "edi"`:
//! the partner profile (identifiers, standard, version, delimiters, acknowledgements, test
//! flag) and its VAN mailbox (a local directory or an SFTP server).
//!
//! The EDI jobs (`edi.mailbox.poll`, `edi.send`, `edi.ack.overdue`) name the partner
//! (`{"partner": "acme"}`) and resolve it here at run time, so a profile is edited in one
//! place. Only the operator's config says where a mailbox is: the older inline payload
//! (`"mailbox": DIR` + `"profile"`) let any API caller with `write:jobs` have the daemon
//! create folders, move files and write acknowledgements in any directory of the server, and
//! import orders from it, so it is refused (see `jobs::EdiPayload`).
//!
//! `switchyard check` validates every EDI partner with `file:line:col` diagnostics; the same
//! validation runs at daemon start, where `secret:` references are resolved.

use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD};
use base64::Engine;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use switchyard_core::adapter::SecretResolver;
use switchyard_core::diag::Diagnostic;
use switchyard_core::error::AdapterError;
use switchyard_edi::ack::FunctionalAck;
use switchyard_edi::partner::{AckProfile, DelimiterConfig, PartnerProfile, PartyId};
use switchyard_edi::Standard;
use switchyard_runtime::integration::BuildContext;
use switchyard_runtime::section::PartnerSection;

/// The `kind` of an EDI partner's table.
pub const KIND: &str = "edi";

/// A partner's table as written (everything but `kind`, `org` and `retry`). Strict: a key
/// this struct does not know is an error naming it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EdiPartnerSettings {
    pub standard: Standard,
    /// X12 `004010` / `005010`; EDIFACT directory `D96A`, `D01B`, ….
    pub version: String,
    /// Who we are to them: ISA05/ISA06 + GS02, or UNB sender id + code qualifier.
    pub us: PartyConfig,
    /// Who they are: ISA07/ISA08 + GS03, or UNB recipient id + code qualifier.
    pub them: PartyConfig,
    /// EDIFACT syntax identifier (`UNOC`) and version (`3`).
    #[serde(default)]
    pub syntax: Option<String>,
    #[serde(default)]
    pub syntax_version: Option<String>,
    /// EDIFACT association assigned code (`EAN008`).
    #[serde(default)]
    pub association: Option<String>,
    #[serde(default)]
    pub delimiters: Option<DelimitersConfig>,
    /// ISA15 `T` / UNB test indicator `1`.
    #[serde(default)]
    pub test: bool,
    #[serde(default)]
    pub acks: AcksConfig,
    #[serde(default)]
    pub gs1_company_prefix: Option<String>,
    pub mailbox: MailboxSettings,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PartyConfig {
    /// ISA05/07 interchange id qualifier (`ZZ`, `01`, `12`) or UNB partner code qualifier.
    pub qualifier: String,
    pub id: String,
    /// GS02/GS03 application code (X12); defaults to `id`.
    #[serde(default)]
    pub application: Option<String>,
}

#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DelimitersConfig {
    pub element: char,
    pub component: char,
    #[serde(default)]
    pub repetition: Option<char>,
    pub segment: char,
    #[serde(default)]
    pub release: Option<char>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AcksConfig {
    /// `f997`, `f999` or `none`.
    pub functional: FunctionalAck,
    pub ta1_when_requested: bool,
    pub ta1_on_envelope_error: bool,
    /// EDIFACT: a CONTRL for every interchange.
    pub contrl: bool,
    /// Hours within which the partner must acknowledge what we send.
    pub window_hours: u32,
}

impl Default for AcksConfig {
    fn default() -> Self {
        let d = AckProfile::default();
        Self {
            functional: d.functional,
            ta1_when_requested: d.ta1_when_requested,
            ta1_on_envelope_error: d.ta1_on_envelope_error,
            contrl: d.contrl,
            window_hours: d.window_hours,
        }
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TransportKind {
    #[default]
    Local,
    Sftp,
}

/// `[partners.NAME.mailbox]`. One flat table rather than an enum so that a key of the other
/// transport is reported by name ("`host` only applies to sftp mailboxes") instead of as a
/// generic "data did not match any variant".
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MailboxSettings {
    pub transport: TransportKind,
    /// Local: the mailbox root directory (relative to the daemon's working directory).
    pub path: Option<PathBuf>,
    /// SFTP: server, port (22), login.
    pub host: Option<String>,
    pub port: Option<u16>,
    pub user: Option<String>,
    /// SFTP: the client's private key (OpenSSH or PEM text) as a `secret:` / `env:` reference…
    pub private_key: Option<String>,
    /// …or a key file on the daemon's machine.
    pub private_key_file: Option<PathBuf>,
    /// SFTP: passphrase of the private key, a `secret:` / `env:` reference.
    pub passphrase: Option<String>,
    /// SFTP: the server's host key, pinned: an OpenSSH public key line (`ssh-ed25519 AAAA…`)
    /// or its `SHA256:` fingerprint (as `ssh-keygen -lf` prints it).
    pub host_key: Option<String>,
    /// SFTP: the mailbox root on the server (relative to the login directory unless absolute).
    pub root: Option<String>,
    /// SFTP: connect and per-operation timeout.
    pub timeout_secs: Option<u64>,
}

/// A resolved EDI partner: what the EDI jobs work with.
#[derive(Debug, Clone)]
pub struct EdiPartner {
    pub profile: PartnerProfile,
    pub mailbox: MailboxSpec,
}

impl EdiPartner {
    /// A partner with a local mailbox (tests, and configs built in code).
    pub fn local(root: impl Into<PathBuf>, profile: PartnerProfile) -> Self {
        Self {
            profile,
            mailbox: MailboxSpec::Local(root.into()),
        }
    }
}

/// Where the partner's mailbox lives.
#[derive(Debug, Clone)]
pub enum MailboxSpec {
    Local(PathBuf),
    Sftp(Box<SftpSpec>),
}

#[derive(Clone)]
pub struct SftpSpec {
    pub host: String,
    pub port: u16,
    pub user: String,
    pub key: ClientKey,
    pub passphrase: Option<String>,
    pub host_key: HostKeyPin,
    pub root: String,
    pub timeout: Duration,
}

// Hand-written so a resolved private key or passphrase never reaches a log line.
impl std::fmt::Debug for SftpSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SftpSpec")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("user", &self.user)
            .field("host_key", &self.host_key)
            .field("root", &self.root)
            .finish_non_exhaustive()
    }
}

#[derive(Clone)]
pub enum ClientKey {
    /// The key's text, resolved from a `secret:` / `env:` reference.
    Text(String),
    /// Read by libssh2 at connect time (so a rotated file is picked up).
    File(PathBuf),
}

/// The server host key we accept, and nothing else.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HostKeyPin {
    /// The whole public key: algorithm name and key blob.
    Key { algorithm: String, blob: Vec<u8> },
    /// `SHA256:` + unpadded base64 of the blob's SHA-256.
    Fingerprint(String),
}

impl HostKeyPin {
    /// Parse `ssh-ed25519 AAAA… [comment]` or `SHA256:…`.
    pub fn parse(text: &str) -> Result<Self, String> {
        let text = text.trim();
        if let Some(fp) = text.strip_prefix("SHA256:") {
            let bytes = STANDARD_NO_PAD
                .decode(fp.trim_end_matches('='))
                .map_err(|e| format!("`{text}` is not a SHA256 fingerprint: {e}"))?;
            if bytes.len() != 32 {
                return Err(format!(
                    "`{text}` is not a SHA256 fingerprint: {} bytes, expected 32",
                    bytes.len()
                ));
            }
            return Ok(Self::Fingerprint(format!(
                "SHA256:{}",
                STANDARD_NO_PAD.encode(bytes)
            )));
        }
        let mut parts = text.split_whitespace();
        let (Some(algorithm), Some(b64)) = (parts.next(), parts.next()) else {
            return Err(
                "host_key must be an OpenSSH public key line (`ssh-ed25519 AAAA…`) or a `SHA256:` fingerprint"
                    .into(),
            );
        };
        let blob = STANDARD
            .decode(b64)
            .map_err(|e| format!("host_key: the key is not base64: {e}"))?;
        // The blob starts with its own algorithm name (RFC 4253 §6.6): a line whose two halves
        // disagree was pasted wrong.
        let inner = blob
            .get(..4)
            .map(|l| u32::from_be_bytes([l[0], l[1], l[2], l[3]]) as usize)
            .and_then(|n| blob.get(4..4 + n))
            .map(|n| String::from_utf8_lossy(n).into_owned());
        if inner.as_deref() != Some(algorithm) {
            return Err(format!(
                "host_key: the line says `{algorithm}` but the key inside is `{}`",
                inner.unwrap_or_else(|| "unreadable".into())
            ));
        }
        Ok(Self::Key {
            algorithm: algorithm.to_owned(),
            blob,
        })
    }

    /// The fingerprint this pin expects.
    pub fn fingerprint(&self) -> String {
        match self {
            Self::Key { blob, .. } => fingerprint(blob),
            Self::Fingerprint(f) => f.clone(),
        }
    }

    pub fn matches(&self, presented: &[u8]) -> bool {
        match self {
            Self::Key { blob, .. } => blob == presented,
            Self::Fingerprint(f) => *f == fingerprint(presented),
        }
    }
}

/// OpenSSH's `SHA256:` fingerprint of a public key blob.
pub fn fingerprint(blob: &[u8]) -> String {
    format!("SHA256:{}", STANDARD_NO_PAD.encode(Sha256::digest(blob)))
}

/// The configured EDI partners by name.
#[derive(Debug, Default, Clone)]
pub struct EdiPartners {
    by_name: BTreeMap<String, Arc<EdiPartner>>,
}

impl EdiPartners {
    /// Every `kind = "edi"` partner, validated; every problem located at its key in the
    /// config file. `secret:` / `env:` references go through the partner's organization's
    /// resolver.
    pub fn build(cx: &BuildContext<'_>) -> Result<Self, Vec<Diagnostic>> {
        match Self::build_all(cx) {
            (partners, problems) if problems.is_empty() => Ok(partners),
            (_, problems) => Err(problems),
        }
    }

    /// The partners that are valid, and the problems of those that are not.
    pub fn build_all(cx: &BuildContext<'_>) -> (Self, Vec<Diagnostic>) {
        let mut by_name = BTreeMap::new();
        let mut problems = Vec::new();
        for section in cx.partners(&[KIND]) {
            match Self::build_one(&section, cx.secrets_for(&section)) {
                Ok(p) => {
                    by_name.insert(section.name.to_owned(), Arc::new(p));
                }
                Err(mut p) => problems.append(&mut p),
            }
        }
        (Self { by_name }, problems)
    }

    /// One partner's table.
    pub fn build_one(
        section: &PartnerSection<'_>,
        secrets: &dyn SecretResolver,
    ) -> Result<EdiPartner, Vec<Diagnostic>> {
        let settings: EdiPartnerSettings = section.parse().map_err(|d| vec![d])?;
        resolve_settings(section.name, &settings, secrets).map_err(|errs| {
            errs.into_iter()
                .map(|(path, message)| section.problem(&path, message))
                .collect()
        })
    }

    pub fn insert(&mut self, name: &str, partner: EdiPartner) {
        self.by_name.insert(name.to_owned(), Arc::new(partner));
    }

    pub fn get(&self, name: &str) -> Option<Arc<EdiPartner>> {
        self.by_name.get(name).cloned()
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &Arc<EdiPartner>)> {
        self.by_name.iter().map(|(k, v)| (k.as_str(), v))
    }

    pub fn names(&self) -> Vec<String> {
        self.by_name.keys().cloned().collect()
    }

    /// The partner a job names; an unknown name is a permanent error naming it (retrying
    /// cannot make it appear: the config must change and the job be replayed).
    pub fn lookup(&self, job_kind: &str, name: &str) -> Result<Arc<EdiPartner>, AdapterError> {
        self.get(name).ok_or_else(|| {
            let known = self.names();
            AdapterError::permanent(format!(
                "{job_kind}: unknown EDI partner `{name}` (configured EDI partners: {})",
                if known.is_empty() {
                    "none".to_owned()
                } else {
                    known.join(", ")
                }
            ))
        })
    }
}

/// How a job payload names its partner: `{"partner": NAME}`, an EDI partner of the config.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct PartnerRef {
    pub partner: String,
}

impl PartnerRef {
    pub fn named(name: &str) -> Self {
        Self {
            partner: name.to_owned(),
        }
    }

    /// The partner, from the config.
    pub fn resolve(
        &self,
        partners: &EdiPartners,
        job_kind: &str,
    ) -> Result<Arc<EdiPartner>, AdapterError> {
        partners.lookup(job_kind, &self.partner)
    }
}

/// Problems as (key path inside the partner's table, message).
pub type Problems = Vec<(Vec<&'static str>, String)>;

/// A partner's settings checked and its credentials resolved; every problem as (key path,
/// message).
pub fn resolve_settings(
    name: &str,
    s: &EdiPartnerSettings,
    secrets: &dyn SecretResolver,
) -> Result<EdiPartner, Problems> {
    let mut errs = Problems::new();
    let built = resolve(name, s, secrets, &mut errs);
    match built {
        Some(p) if errs.is_empty() => Ok(p),
        _ => Err(errs),
    }
}

/// Semantic checks and secret resolution; problems are (key path, message).
fn resolve(
    name: &str,
    s: &EdiPartnerSettings,
    secrets: &dyn SecretResolver,
    errs: &mut Problems,
) -> Option<EdiPartner> {
    let before = errs.len();
    check_party(s.standard, "us", &s.us, errs);
    check_party(s.standard, "them", &s.them, errs);
    match s.standard {
        Standard::X12 => {
            if !matches!(s.version.as_str(), "004010" | "005010") {
                errs.push((
                    vec!["version"],
                    format!(
                        "X12 version `{}` is not supported (004010 or 005010)",
                        s.version
                    ),
                ));
            }
        }
        Standard::Edifact => {
            let v = s.version.as_bytes();
            if !(v.len() == 4 && v[0] == b'D' && v[1..3].iter().all(u8::is_ascii_digit)) {
                errs.push((
                    vec!["version"],
                    format!(
                        "EDIFACT version `{}` is not a directory like D96A or D01B",
                        s.version
                    ),
                ));
            }
            if let Some(syntax) = &s.syntax {
                if !(syntax.len() == 4 && syntax.starts_with("UNO")) {
                    errs.push((
                        vec!["syntax"],
                        format!("`{syntax}` is not a syntax identifier (UNOA … UNOY)"),
                    ));
                }
            }
            if let Some(v) = &s.syntax_version {
                if !matches!(v.as_str(), "1" | "2" | "3" | "4") {
                    errs.push((vec!["syntax_version"], format!("`{v}` is not 1 to 4")));
                }
            }
        }
    }
    if let Some(d) = s.delimiters {
        let mut chars = vec![d.element, d.component, d.segment];
        chars.extend(d.repetition);
        chars.extend(d.release);
        let mut seen = chars.clone();
        seen.sort_unstable();
        seen.dedup();
        if seen.len() != chars.len() {
            errs.push((vec!["delimiters"], "the delimiters must all differ".into()));
        }
        if let Some(c) = chars
            .iter()
            .find(|c| c.is_ascii_alphanumeric() || !c.is_ascii() || **c == ' ')
        {
            errs.push((
                vec!["delimiters"],
                format!("`{c}` cannot be a delimiter (letters, digits, space and non-ASCII appear in data)"),
            ));
        }
    }
    if s.acks.window_hours == 0 {
        errs.push((
            vec!["acks", "window_hours"],
            "must be at least 1 hour".into(),
        ));
    }
    if let Some(p) = &s.gs1_company_prefix {
        if !(6..=12).contains(&p.len()) || !p.bytes().all(|b| b.is_ascii_digit()) {
            errs.push((
                vec!["gs1_company_prefix"],
                format!("`{p}` is not a GS1 company prefix (6 to 12 digits)"),
            ));
        }
    }
    let mailbox = resolve_mailbox(&s.mailbox, secrets, errs);
    if errs.len() != before {
        return None;
    }
    let party = |p: &PartyConfig| PartyId {
        qualifier: p.qualifier.clone(),
        id: p.id.clone(),
        application: p.application.clone(),
    };
    let profile = PartnerProfile {
        name: name.to_owned(),
        standard: s.standard,
        us: party(&s.us),
        them: party(&s.them),
        version: s.version.clone(),
        syntax: s.syntax.clone().unwrap_or_else(|| "UNOC".into()),
        syntax_version: s.syntax_version.clone().unwrap_or_else(|| "3".into()),
        association: s.association.clone(),
        delimiters: s.delimiters.map(|d| DelimiterConfig {
            element: d.element,
            component: d.component,
            repetition: d.repetition,
            segment: d.segment,
            release: d.release,
        }),
        test: s.test,
        acks: AckProfile {
            functional: s.acks.functional,
            ta1_when_requested: s.acks.ta1_when_requested,
            ta1_on_envelope_error: s.acks.ta1_on_envelope_error,
            contrl: s.acks.contrl,
            window_hours: s.acks.window_hours,
        },
        gs1_company_prefix: s.gs1_company_prefix.clone(),
    };
    Some(EdiPartner {
        profile,
        mailbox: mailbox?,
    })
}

fn check_party(standard: Standard, side: &'static str, p: &PartyConfig, errs: &mut Problems) {
    let (isa_q, isa_id, gs) = if side == "us" {
        ("ISA05", "ISA06", "GS02")
    } else {
        ("ISA07", "ISA08", "GS03")
    };
    let printable = |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_graphic() || c == ' ');
    match standard {
        Standard::X12 => {
            if p.qualifier.len() != 2 || !printable(&p.qualifier) {
                errs.push((
                    vec![side, "qualifier"],
                    format!(
                        "{isa_q} must be 2 characters (ZZ, 01, 12, …), got `{}`",
                        p.qualifier
                    ),
                ));
            }
            if p.id.len() > 15 || !printable(&p.id) {
                errs.push((
                    vec![side, "id"],
                    format!(
                        "{isa_id} must be 1 to 15 printable characters, got `{}`",
                        p.id
                    ),
                ));
            }
            if let Some(app) = &p.application {
                if !(2..=15).contains(&app.len()) || !printable(app) {
                    errs.push((
                        vec![side, "application"],
                        format!("{gs} must be 2 to 15 printable characters, got `{app}`"),
                    ));
                }
            }
        }
        Standard::Edifact => {
            let (q, id) = if side == "us" {
                ("UNB 0007", "UNB 0004")
            } else {
                ("UNB 0007", "UNB 0010")
            };
            if p.qualifier.len() > 4 || !printable(&p.qualifier) {
                errs.push((
                    vec![side, "qualifier"],
                    format!("{q} (partner identification code qualifier) must be 1 to 4 characters, got `{}`", p.qualifier),
                ));
            }
            if p.id.len() > 35 || !printable(&p.id) {
                errs.push((
                    vec![side, "id"],
                    format!("{id} must be 1 to 35 printable characters, got `{}`", p.id),
                ));
            }
            if p.application.is_some() {
                errs.push((
                    vec![side, "application"],
                    "GS application codes apply to X12 partners only".into(),
                ));
            }
        }
    }
}

/// A `[mailbox]` table checked and its credentials resolved; problems are located under
/// `mailbox.KEY` (the Optima exchange folder reuses it under another name).
pub fn resolve_mailbox(
    m: &MailboxSettings,
    secrets: &dyn SecretResolver,
    errs: &mut Problems,
) -> Option<MailboxSpec> {
    let before = errs.len();
    let sftp_only: [(&'static str, bool); 8] = [
        ("host", m.host.is_some()),
        ("port", m.port.is_some()),
        ("user", m.user.is_some()),
        ("private_key", m.private_key.is_some()),
        ("private_key_file", m.private_key_file.is_some()),
        ("passphrase", m.passphrase.is_some()),
        ("host_key", m.host_key.is_some()),
        ("root", m.root.is_some()),
    ];
    match m.transport {
        TransportKind::Local => {
            for (key, set) in sftp_only {
                if set {
                    errs.push((
                        vec!["mailbox", key],
                        "only applies to SFTP mailboxes (set transport = \"sftp\")".into(),
                    ));
                }
            }
            if m.timeout_secs.is_some() {
                errs.push((
                    vec!["mailbox", "timeout_secs"],
                    "only applies to SFTP mailboxes".into(),
                ));
            }
            match &m.path {
                Some(p) if !p.as_os_str().is_empty() => {
                    (errs.len() == before).then(|| MailboxSpec::Local(p.clone()))
                }
                _ => {
                    errs.push((
                        vec!["mailbox", "path"],
                        "a local mailbox needs `path`, its root directory".into(),
                    ));
                    None
                }
            }
        }
        TransportKind::Sftp => {
            if m.path.is_some() {
                errs.push((
                    vec!["mailbox", "path"],
                    "an SFTP mailbox names its remote directory with `root`".into(),
                ));
            }
            let mut required = |key: &'static str, v: &Option<String>| -> String {
                match v.as_deref().map(str::trim) {
                    Some(s) if !s.is_empty() => s.to_owned(),
                    _ => {
                        errs.push((
                            vec!["mailbox", key],
                            format!("an SFTP mailbox needs `{key}`"),
                        ));
                        String::new()
                    }
                }
            };
            let host = required("host", &m.host);
            let user = required("user", &m.user);
            let host_key_text = required("host_key", &m.host_key);
            let host_key = if host_key_text.is_empty() {
                None
            } else {
                match HostKeyPin::parse(&host_key_text) {
                    Ok(p) => Some(p),
                    Err(e) => {
                        errs.push((vec!["mailbox", "host_key"], e));
                        None
                    }
                }
            };
            if m.port == Some(0) {
                errs.push((vec!["mailbox", "port"], "port 0 is not a port".into()));
            }
            let reference = |key: &'static str, r: &str, errs: &mut Problems| -> Option<String> {
                if !(r.starts_with("secret:") || r.starts_with("env:")) {
                    errs.push((
                        vec!["mailbox", key],
                        "must be a `secret:NAME` or `env:VAR` reference (never the key itself)"
                            .into(),
                    ));
                    return None;
                }
                match secrets.resolve(r) {
                    Ok(v) => Some(v),
                    Err(e) => {
                        errs.push((vec!["mailbox", key], e.message));
                        None
                    }
                }
            };
            let key = match (&m.private_key, &m.private_key_file) {
                (Some(r), None) => reference("private_key", r, errs).map(ClientKey::Text),
                (None, Some(f)) => {
                    if !f.is_file() {
                        errs.push((
                            vec!["mailbox", "private_key_file"],
                            format!("{} is not a readable file", f.display()),
                        ));
                    }
                    Some(ClientKey::File(f.clone()))
                }
                (Some(_), Some(_)) => {
                    errs.push((
                        vec!["mailbox", "private_key"],
                        "give `private_key` or `private_key_file`, not both".into(),
                    ));
                    None
                }
                (None, None) => {
                    errs.push((
                        vec!["mailbox"],
                        "an SFTP mailbox needs `private_key` (a secret:/env: reference) or `private_key_file`".into(),
                    ));
                    None
                }
            };
            let passphrase = m
                .passphrase
                .as_deref()
                .and_then(|r| reference("passphrase", r, errs));
            if errs.len() != before {
                return None;
            }
            Some(MailboxSpec::Sftp(Box::new(SftpSpec {
                host,
                port: m.port.unwrap_or(22),
                user,
                key: key?,
                passphrase,
                host_key: host_key?,
                root: m
                    .root
                    .clone()
                    .filter(|r| !r.is_empty())
                    .unwrap_or_else(|| ".".into()),
                timeout: Duration::from_secs(m.timeout_secs.unwrap_or(30).max(1)),
            })))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;
    use switchyard_core::diag::SourceFile;
    use switchyard_runtime::config::parse_str;
    use switchyard_runtime::integration::Mode;
    use switchyard_runtime::toml_source::TomlSource;

    struct Refs;
    impl switchyard_runtime::secrets::OrgSecrets for Refs {
        fn for_org(&self, _org: &str) -> &dyn switchyard_core::adapter::SecretResolver {
            self
        }
    }
    impl switchyard_core::adapter::SecretResolver for Refs {
        fn resolve(&self, r: &str) -> Result<String, switchyard_core::adapter::ConfigError> {
            match r {
                "secret:missing" => Err(switchyard_core::adapter::ConfigError::new(
                    String::new(),
                    "no stored secret `missing`",
                )),
                _ => Ok(format!("resolved {r}")),
            }
        }
    }

    fn build(text: &str) -> Result<EdiPartners, Vec<String>> {
        let path = Path::new("switchyard.toml");
        let config = parse_str(&SourceFile::new(path, text)).map_err(|d| vec![d.to_string()])?;
        let source = TomlSource::from_text(path, text);
        let cx = BuildContext {
            config: &config,
            source: &source,
            secrets: &Refs,
            mode: Mode::Check,
        };
        EdiPartners::build(&cx).map_err(|p| p.iter().map(|d| d.to_string()).collect())
    }

    const ED25519_LINE: &str = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHnMx1pQEsd/Ha7xWVCeOkDbtWXcFdS8gcSGIQ8d9Z5R test@host";

    #[test]
    fn a_local_and_an_sftp_partner_resolve() {
        let partners = build(&format!(
            r#"
[partners.acme]
kind = "edi"
standard = "x12"
version = "004010"
test = true
us = {{ qualifier = "ZZ", id = "SWITCHYARD", application = "SWYD" }}
them = {{ qualifier = "12", id = "5551234567" }}
acks = {{ functional = "f997", window_hours = 12 }}
mailbox = {{ path = "var/edi/acme" }}

[partners.eurobuy]
kind = "edi"
standard = "edifact"
version = "D96A"
us = {{ qualifier = "14", id = "5498765000019" }}
them = {{ qualifier = "14", id = "5412345000013" }}

[partners.eurobuy.mailbox]
transport = "sftp"
host = "van.example.net"
user = "switchyard"
private_key = "secret:eurobuy-key"
host_key = "{ED25519_LINE}"
root = "/mailboxes/eurobuy"
"#
        ))
        .expect("valid");
        let acme = partners.get("acme").unwrap();
        assert_eq!(acme.profile.name, "acme");
        assert!(acme.profile.test);
        assert_eq!(acme.profile.us.application(), "SWYD");
        assert_eq!(acme.profile.acks.window_hours, 12);
        assert!(matches!(&acme.mailbox, MailboxSpec::Local(p) if p == Path::new("var/edi/acme")));
        let eu = partners.get("eurobuy").unwrap();
        assert_eq!(eu.profile.standard, Standard::Edifact);
        let MailboxSpec::Sftp(s) = &eu.mailbox else {
            panic!("sftp expected")
        };
        assert_eq!(
            (s.host.as_str(), s.port, s.root.as_str()),
            ("van.example.net", 22, "/mailboxes/eurobuy")
        );
        assert!(matches!(&s.key, ClientKey::Text(t) if t == "resolved secret:eurobuy-key"));
        assert!(
            matches!(&s.host_key, HostKeyPin::Key { algorithm, .. } if algorithm == "ssh-ed25519")
        );
        // The key never reaches Debug output.
        assert!(!format!("{s:?}").contains("resolved"));
    }

    #[test]
    fn problems_are_located_at_the_key() {
        let problems = build(
            r#"[partners.acme]
kind = "edi"
standard = "x12"
version = "004010"
us = { qualifier = "ZZ", id = "SWITCHYARD" }
them = { qualifier = "ZZZ", id = "THEM" }

[partners.acme.mailbox]
transport = "sftp"
host = "van"
user = "u"
private_key = "-----BEGIN OPENSSH PRIVATE KEY-----"
host_key = "SHA256:nope"
"#,
        )
        .unwrap_err();
        assert!(
            problems
                .iter()
                .any(|p| p
                    .starts_with("switchyard.toml:6:10: partner `acme`: them.qualifier: ISA07")),
            "{problems:#?}"
        );
        assert!(
            problems.iter().any(|p| p.starts_with("switchyard.toml:12:1: partner `acme`: mailbox.private_key: must be a `secret:NAME`")),
            "{problems:#?}"
        );
        assert!(
            problems
                .iter()
                .any(|p| p.starts_with("switchyard.toml:13:1: partner `acme`: mailbox.host_key:")),
            "{problems:#?}"
        );
        assert_eq!(problems.len(), 3, "{problems:#?}");
    }

    #[test]
    fn unknown_keys_and_missing_secrets_are_reported() {
        let problems = build(
            r#"[queue]
concurrency = 4

[partners.acme]
kind = "edi"
standard = "x12"
version = "004010"
us = { qualifier = "ZZ", id = "SWITCHYARD" }
them = { qualifier = "ZZ", id = "THEM" }
mailbox = { path = "x" }
isa_qualifier = "ZZ"
"#,
        )
        .unwrap_err();
        assert_eq!(problems.len(), 1, "{problems:#?}");
        assert!(
            problems[0]
                .starts_with("switchyard.toml:11:1: partner `acme`: unknown field `isa_qualifier`"),
            "{problems:#?}"
        );

        let problems = build(&format!(
            r#"[partners.acme]
kind = "edi"
standard = "x12"
version = "004010"
us = {{ qualifier = "ZZ", id = "SWITCHYARD" }}
them = {{ qualifier = "ZZ", id = "THEM" }}
[partners.acme.mailbox]
path = "x"
host = "van"
[partners.eu]
kind = "edi"
standard = "edifact"
version = "D96A"
us = {{ qualifier = "14", id = "1" }}
them = {{ qualifier = "14", id = "2" }}
mailbox = {{ transport = "sftp", host = "van", user = "u", private_key = "secret:missing", host_key = "{ED25519_LINE}" }}
"#
        ))
        .unwrap_err();
        assert!(
            problems.iter().any(|p| p.starts_with(
                "switchyard.toml:9:1: partner `acme`: mailbox.host: only applies to SFTP"
            )),
            "{problems:#?}"
        );
        assert!(
            problems.iter().any(|p| p.starts_with("switchyard.toml:16:")
                && p.contains("mailbox.private_key: no stored secret `missing`")),
            "{problems:#?}"
        );
    }

    #[test]
    fn host_key_pins_compare_blobs_and_fingerprints() {
        let pin = HostKeyPin::parse(ED25519_LINE).unwrap();
        let HostKeyPin::Key { blob, .. } = &pin else {
            panic!()
        };
        assert!(pin.matches(blob));
        let fp = HostKeyPin::parse(&pin.fingerprint()).unwrap();
        assert_eq!(fp, HostKeyPin::Fingerprint(pin.fingerprint()));
        assert!(fp.matches(blob));
        assert!(!fp.matches(b"another key"));
        // A line whose algorithm does not match its blob was pasted wrong.
        let wrong = ED25519_LINE.replacen("ssh-ed25519", "ssh-rsa", 1);
        assert!(HostKeyPin::parse(&wrong)
            .unwrap_err()
            .contains("`ssh-ed25519`"));
    }

    #[test]
    fn payloads_name_a_configured_partner() {
        let mut partners = EdiPartners::default();
        let profile: PartnerProfile = serde_json::from_value(serde_json::json!({
            "name": "acme", "standard": "x12", "version": "004010",
            "us": {"qualifier": "ZZ", "id": "US"}, "them": {"qualifier": "ZZ", "id": "THEM"},
        }))
        .unwrap();
        partners.insert("acme", EdiPartner::local("/van/acme", profile));
        let named = PartnerRef::named("acme")
            .resolve(&partners, "edi.send")
            .unwrap();
        assert_eq!(named.profile.name, "acme");
        let err = PartnerRef::named("globex")
            .resolve(&partners, "edi.send")
            .unwrap_err();
        assert_eq!(err.class, switchyard_core::error::ErrorClass::Permanent);
        assert!(
            err.message.contains("unknown EDI partner `globex`") && err.message.contains("acme"),
            "{err}"
        );
        // The inline mailbox + profile form no longer deserializes.
        let inline = serde_json::from_value::<PartnerRef>(
            serde_json::json!({"mailbox": "/etc", "profile": {"name": "x"}}),
        );
        assert!(inline.is_err());
    }
}
