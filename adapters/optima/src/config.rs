//! `[partners.NAME]` with `kind = "optima"` (FR-INT-012): parsed strictly (an unknown key is
//! located at itself), then checked as a whole; every problem names its key.
//!
//! ```toml
//! [partners.ksiegowosc]
//! kind = "optima"
//! surface = "xml-exchange"        # or "rest"
//! company_code = "STALHURT"       # BAZA_DOC_ID / the company in Optima
//! # rest: api_url, api_key, api_secret (secret:/env: references)
//! [partners.ksiegowosc.exchange]  # xml-exchange: the VAN mailbox settings (local or sftp)
//! path = "var/optima"
//! ```

use serde::Deserialize;
use std::time::Duration;
use switchyard_core::adapter::SecretResolver;
use switchyard_edi_van::partners::{resolve_mailbox, MailboxSettings, MailboxSpec, Problems};

pub const KIND: &str = "optima";

/// Which of Optima's surfaces a connection uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub enum SurfaceKind {
    /// The offline XML import through an exchange folder.
    #[serde(rename = "xml-exchange")]
    XmlExchange,
    /// A partner REST layer (`/api/ping`, `POST /api/faktury`).
    #[serde(rename = "rest")]
    Rest,
}

/// The table as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OptimaSettings {
    /// A disabled connection refuses every push (a permanent error saying so).
    #[serde(default = "yes")]
    pub enabled: bool,
    pub surface: SurfaceKind,
    /// The company (Optima database) documents go to; `BAZA_DOC_ID` in the XML.
    pub company_code: String,
    /// Documents go to Optima's buffer (drafts an accountant reviews) instead of being posted.
    #[serde(default)]
    pub test_mode: bool,
    /// Push every new invoice through the queue, not only on request.
    #[serde(default)]
    pub auto_sync: bool,
    /// The sales VAT register's name in the company (`REJESTR`).
    #[serde(default = "default_register")]
    pub register: String,
    /// How long to wait for Optima's result for a document before the attempt fails (and is
    /// retried); never counted synced without a result.
    #[serde(default = "default_result_timeout")]
    pub result_timeout_secs: u64,
    /// rest: the REST layer's base URL.
    pub api_url: Option<String>,
    /// rest: `secret:` / `env:` references.
    pub api_key: Option<String>,
    pub api_secret: Option<String>,
    /// xml-exchange: the exchange folder, a local directory or an SFTP server, with the VAN
    /// mailbox keys (`transport`, `path`, `host`, `user`, `private_key`, `host_key`, `root`…).
    pub exchange: Option<MailboxSettings>,
    /// JPK_V7M: the taxpayer filing and its tax office (`[partners.NAME.jpk]`).
    pub jpk: Option<JpkSettings>,
}

/// `[partners.NAME.jpk]`: who files the JPK_V7M (`Podmiot1`) and where (`KodUrzedu`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JpkSettings {
    pub nip: String,
    pub name: String,
    pub email: String,
    /// The tax office's four-digit code.
    pub tax_office_code: String,
}

fn yes() -> bool {
    true
}
fn default_register() -> String {
    "SPRZEDAŻ".into()
}
fn default_result_timeout() -> u64 {
    120
}

/// The credentials of the REST surface; `Debug` never shows them.
#[derive(Clone)]
pub struct RestSpec {
    pub api_url: String,
    pub api_key: String,
    pub api_secret: String,
}

impl std::fmt::Debug for RestSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RestSpec")
            .field("api_url", &self.api_url)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, Clone)]
pub enum Surface {
    XmlExchange(MailboxSpec),
    Rest(RestSpec),
}

/// A resolved connection.
#[derive(Debug, Clone)]
pub struct OptimaPartner {
    pub enabled: bool,
    pub surface: Surface,
    pub company_code: String,
    pub register: String,
    pub test_mode: bool,
    pub auto_sync: bool,
    pub result_timeout: Duration,
    /// For JPK_V7M; `None` when `[jpk]` is not configured (VAT files are then refused).
    pub taxpayer: Option<crate::jpk::Taxpayer>,
}

/// Check the whole table and resolve its credentials; every problem as (key path, message).
pub fn resolve(
    s: &OptimaSettings,
    secrets: &dyn SecretResolver,
) -> Result<OptimaPartner, Problems> {
    let mut errs = Problems::new();
    let code = s.company_code.trim();
    if code.is_empty() || code.len() > 20 {
        errs.push((
            vec!["company_code"],
            "must be the company's code in Optima, 1 to 20 characters".into(),
        ));
    }
    if s.register.trim().is_empty() {
        errs.push((vec!["register"], "must name the sales VAT register".into()));
    }
    if s.result_timeout_secs == 0 || s.result_timeout_secs > 3600 {
        errs.push((
            vec!["result_timeout_secs"],
            "must be 1 to 3600 seconds".into(),
        ));
    }
    let surface = match s.surface {
        SurfaceKind::Rest => {
            if s.exchange.is_some() {
                errs.push((
                    vec!["exchange"],
                    "only applies to surface = \"xml-exchange\"".into(),
                ));
            }
            let url = match s.api_url.as_deref().map(str::trim) {
                Some(u) if u.starts_with("http://") || u.starts_with("https://") => {
                    Some(u.trim_end_matches('/').to_owned())
                }
                Some(u) => {
                    errs.push((vec!["api_url"], format!("`{u}` is not an http(s) URL")));
                    None
                }
                None => {
                    errs.push((
                        vec!["api_url"],
                        "surface = \"rest\" needs `api_url`, the REST layer's base URL".into(),
                    ));
                    None
                }
            };
            let key = credential("api_key", s.api_key.as_deref(), secrets, &mut errs);
            let secret = credential("api_secret", s.api_secret.as_deref(), secrets, &mut errs);
            match (url, key, secret) {
                (Some(api_url), Some(api_key), Some(api_secret)) => Some(Surface::Rest(RestSpec {
                    api_url,
                    api_key,
                    api_secret,
                })),
                _ => None,
            }
        }
        SurfaceKind::XmlExchange => {
            for (key, set) in [
                ("api_url", s.api_url.is_some()),
                ("api_key", s.api_key.is_some()),
                ("api_secret", s.api_secret.is_some()),
            ] {
                if set {
                    errs.push((vec![key], "only applies to surface = \"rest\"".into()));
                }
            }
            match &s.exchange {
                None => {
                    errs.push((
                        vec!["exchange"],
                        "surface = \"xml-exchange\" needs an `[exchange]` table (path, or an SFTP server)".into(),
                    ));
                    None
                }
                Some(m) => {
                    let mut mailbox_errs = Problems::new();
                    let spec = resolve_mailbox(m, secrets, &mut mailbox_errs);
                    // The mailbox resolver locates under `mailbox.KEY`; ours is `exchange.KEY`.
                    for (mut path, msg) in mailbox_errs {
                        if path.first() == Some(&"mailbox") {
                            path[0] = "exchange";
                        }
                        errs.push((
                            path,
                            msg.replace("mailboxes", "exchange folders")
                                .replace("mailbox", "exchange folder"),
                        ));
                    }
                    spec.map(Surface::XmlExchange)
                }
            }
        }
    };
    let taxpayer = s.jpk.as_ref().and_then(|j| taxpayer(j, &mut errs));
    match surface {
        Some(surface) if errs.is_empty() => Ok(OptimaPartner {
            taxpayer,
            enabled: s.enabled,
            surface,
            company_code: code.to_owned(),
            register: s.register.trim().to_owned(),
            test_mode: s.test_mode,
            auto_sync: s.auto_sync,
            result_timeout: Duration::from_secs(s.result_timeout_secs),
        }),
        _ => Err(errs),
    }
}

/// `[jpk]` checked: a valid NIP, a four-digit tax office, an email address, a name.
fn taxpayer(j: &JpkSettings, errs: &mut Problems) -> Option<crate::jpk::Taxpayer> {
    let before = errs.len();
    let nip = match crate::polish::Nip::parse(&j.nip, "jpk.nip") {
        Ok(n) => n.as_str().to_owned(),
        Err(e) => {
            errs.push((vec!["jpk", "nip"], e.to_string()));
            String::new()
        }
    };
    let code = j.tax_office_code.trim();
    if code.len() != 4 || !code.chars().all(|c| c.is_ascii_digit()) {
        errs.push((
            vec!["jpk", "tax_office_code"],
            format!("`{code}` is not a tax office's four-digit code (KodUrzedu)"),
        ));
    }
    if !j.email.contains('@') {
        errs.push((vec!["jpk", "email"], "must be an email address".into()));
    }
    if j.name.trim().is_empty() {
        errs.push((
            vec!["jpk", "name"],
            "must be the taxpayer's full name".into(),
        ));
    }
    (errs.len() == before).then(|| crate::jpk::Taxpayer {
        nip,
        name: j.name.trim().to_owned(),
        email: j.email.trim().to_owned(),
        tax_office_code: code.to_owned(),
    })
}

/// A credential must be a reference (`secret:NAME` stored encrypted per organization, or
/// `env:VAR`), never the value itself in the config file.
fn credential(
    key: &'static str,
    value: Option<&str>,
    secrets: &dyn SecretResolver,
    errs: &mut Problems,
) -> Option<String> {
    match value.map(str::trim) {
        None | Some("") => {
            errs.push((vec![key], format!("surface = \"rest\" needs `{key}`")));
            None
        }
        Some(r) if !(r.starts_with("secret:") || r.starts_with("env:")) => {
            errs.push((
                vec![key],
                "must be a `secret:NAME` or `env:VAR` reference (never the value itself)".into(),
            ));
            None
        }
        Some(r) => match secrets.resolve(r) {
            Ok(v) => Some(v),
            Err(e) => {
                errs.push((vec![key], e.message));
                None
            }
        },
    }
}
