//! Email notifications over SMTP (issue #14): customers hear of their orders (placed,
//! accepted, rejected, fulfillment started, shipped with a tracking link, any other status
//! change) and each organization's purchaser of low stock.
//!
//! * The trigger on `events` (migrations/0021_notifications.sql) enqueues one `notify.email`
//!   job per (event, recipient) in the transaction that recorded the event ([`job`]).
//! * [`job`]: the customer's preference decides when the job runs: a mail now, an item kept
//!   for the digest, or nothing; `notify.digest` ([`digest`], `schedules/notify-digest.toml`)
//!   sends each customer one mail with what was kept.
//! * [`templates`]: the files of every notice, rendered by minijinja; [`smtp`]: lettre, and
//!   which failures are worth a retry; [`config`]: the `[email]` section.
//! * Every mail is a row of `email_messages` (recipient, subject, notice, Message-ID, status,
//!   error, attempts); a mail recorded as sent is never sent again by a retry or a replay.
//!
//! [`EmailIntegration`] owns the `[email]` section and the two job kinds; the routes
//! (preferences, unsubscribe) are the hub's own (`switchyard_api::routes::notifications`).

pub mod config;
pub mod digest;
pub mod job;
pub mod smtp;
pub mod templates;

use crate::integration::{BuildContext, Integration, Parts};
use config::{EmailSection, Security, Tracking};
use lettre::message::Mailbox;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;
use switchyard_core::diag::Diagnostic;

/// Everything a `notify.email` job needs, built from `[email]`.
#[derive(Debug)]
pub struct Settings {
    pub mailer: smtp::Mailer,
    pub templates: templates::Templates,
    pub tracking: Tracking,
    /// Purchaser's address per organization slug.
    pub purchasers: BTreeMap<String, Mailbox>,
    /// `https://hub.example.com` (no trailing slash).
    pub public_url: String,
}

/// The `[email]` section and the notification job kinds.
pub struct EmailIntegration;

impl Integration for EmailIntegration {
    fn name(&self) -> &'static str {
        "email"
    }

    fn sections(&self) -> &'static [&'static str] {
        &["email"]
    }

    fn build(&self, cx: &BuildContext<'_>, problems: &mut Vec<Diagnostic>) -> Parts {
        let settings = build_settings(cx, problems).map(Arc::new);
        Parts {
            jobs: vec![job::spec(settings), digest::spec()],
            ..Parts::default()
        }
    }
}

/// The settings, or `None` (no `[email]`: notifications are off; or problems were pushed).
fn build_settings(cx: &BuildContext<'_>, problems: &mut Vec<Diagnostic>) -> Option<Settings> {
    let section = cx.section("email");
    section.value?;
    let s: EmailSection = match section.parse() {
        Ok(s) => s,
        Err(d) => {
            problems.push(d);
            return None;
        }
    };
    let before = problems.len();
    if s.host.trim().is_empty() {
        problems.push(section.problem(&["host"], "the SMTP server's host name is required"));
    }
    let from = match s.from.parse::<Mailbox>() {
        Ok(m) => Some(m),
        Err(e) => {
            problems.push(section.problem(
                &["from"],
                format!(
                    "`{}` is not an address (`Name <name@example.com>`): {e}",
                    s.from
                ),
            ));
            None
        }
    };
    let mut purchasers = BTreeMap::new();
    for (org, address) in &s.purchasers {
        match address.parse::<Mailbox>() {
            Ok(m) => {
                purchasers.insert(org.clone(), m);
            }
            Err(e) => problems.push(section.problem(
                &["purchasers", org],
                format!("`{address}` is not an address: {e}"),
            )),
        }
    }
    for (carrier, template) in &s.tracking {
        if let Some(p) = Tracking::problem(template) {
            problems.push(section.problem(&["tracking", carrier], p));
        }
    }
    let public_url = s
        .public_url
        .clone()
        .unwrap_or_else(|| format!("http://{}", cx.config.api.bind));
    if !matches!(url::Url::parse(&public_url), Ok(u) if matches!(u.scheme(), "http" | "https")) {
        problems.push(section.problem(&["public_url"], "must be an http(s) URL"));
    }
    if s.timeout_secs == 0 {
        problems.push(section.problem(&["timeout_secs"], "must be at least 1"));
    }
    let credentials = match (&s.user, &s.password) {
        (None, None) => None,
        (Some(user), Some(reference)) => {
            match cx.secrets.for_org(&s.secrets_org).resolve(reference) {
                Ok(password) => Some((user.clone(), password)),
                Err(e) => {
                    problems.push(section.problem(&["password"], e.message));
                    None
                }
            }
        }
        (Some(_), None) => {
            problems.push(section.problem(&["user"], "`user` needs a `password` reference"));
            None
        }
        (None, Some(_)) => {
            problems.push(section.problem(&["password"], "`password` needs a `user`"));
            None
        }
    };
    // Read once here, so a missing or unreadable file is located at its key by `check`.
    let ca_pem = match (&s.ca_file, s.security) {
        (None, _) => None,
        (Some(_), Security::None) => {
            problems.push(section.problem(
                &["ca_file"],
                "a CA file needs `security = \"starttls\"` or `\"tls\"`",
            ));
            None
        }
        (Some(path), _) => match std::fs::read(path) {
            Ok(pem) => Some(pem),
            Err(e) => {
                problems.push(
                    section.problem(&["ca_file"], format!("cannot read {}: {e}", path.display())),
                );
                None
            }
        },
    };
    // Relative to the working directory, like `[paths] mappings` and `schedules`.
    let templates = match templates::Templates::load(&s.templates) {
        Ok(t) => Some(t),
        Err(list) => {
            for p in list {
                problems.push(section.problem(&["templates"], p));
            }
            None
        }
    };
    if problems.len() > before {
        return None;
    }
    let mailer = smtp::Mailer::new(
        smtp::Server {
            host: s.host.trim(),
            port: s.port.unwrap_or(s.security.default_port()),
            security: s.security,
            credentials,
            timeout: Duration::from_secs(s.timeout_secs),
            ca_pem: ca_pem.as_deref(),
        },
        from?,
    );
    let mailer = match mailer {
        Ok(m) => m,
        Err(smtp::SetupError::Ca(e)) => {
            problems.push(section.problem(&["ca_file"], e));
            return None;
        }
        Err(smtp::SetupError::Host(e)) => {
            problems.push(section.problem(&["host"], e));
            return None;
        }
    };
    Some(Settings {
        mailer,
        templates: templates?,
        tracking: Tracking::new(&s.tracking),
        purchasers,
        public_url: public_url.trim_end_matches('/').to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::parse_str;
    use crate::integration::Mode;
    use crate::secrets::FormOnly;
    use crate::toml_source::TomlSource;
    use switchyard_core::diag::SourceFile;

    fn templates() -> String {
        format!("{}/../../templates/email", env!("CARGO_MANIFEST_DIR"))
    }

    /// The problems of `[email]` as (line, message).
    fn problems(text: &str) -> (Vec<(usize, String)>, Option<Settings>) {
        let path = std::path::Path::new("s.toml");
        let config = parse_str(&SourceFile::new(path, text)).expect("config");
        let source = TomlSource::from_text(path, text);
        let cx = BuildContext {
            config: &config,
            source: &source,
            secrets: &FormOnly,
            mode: Mode::Check,
        };
        let mut found = Vec::new();
        let settings = build_settings(&cx, &mut found);
        let found = found
            .into_iter()
            .map(|d| (d.loc.at.map(|a| a.line).unwrap_or(0), d.message))
            .collect();
        (found, settings)
    }

    #[test]
    fn a_good_section_builds_and_none_means_off() {
        let text = format!(
            "[email]\nhost = \"smtp.test\"\nfrom = \"Hub <hub@x.test>\"\ntemplates = {:?}\nuser = \"u\"\npassword = \"env:SMTP_PASSWORD\"\n[email.purchasers]\ndefault = \"b@x.test\"\n",
            templates()
        );
        let (found, settings) = problems(&text);
        assert!(found.is_empty(), "{found:?}");
        let s = settings.unwrap();
        assert!(
            s.public_url.starts_with("http://"),
            "from [api] bind: {}",
            s.public_url
        );
        assert!(s.purchasers.contains_key("default"));
        let (found, settings) = problems("");
        assert!(found.is_empty() && settings.is_none());
    }

    #[test]
    fn problems_are_located_at_their_keys() {
        let text = "[email]\nhost = \"\"\nfrom = \"not an address\"\ntemplates = \"/nowhere\"\npassword = \"secret:x\"\n\
                    [email.tracking]\nacme = \"https://t.test/\"\n[email.purchasers]\ndefault = \"@@\"\n";
        let (found, settings) = problems(text);
        assert!(settings.is_none());
        let at = |needle: &str| {
            found
                .iter()
                .find(|(_, m)| m.contains(needle))
                .unwrap_or_else(|| panic!("{needle} in {found:?}"))
                .0
        };
        assert_eq!(at("host"), 2);
        assert_eq!(at("from"), 3);
        assert_eq!(
            at("order_shipped.html"),
            4,
            "a missing template names its file"
        );
        assert_eq!(at("`password` needs a `user`"), 5);
        assert_eq!(at("{number}"), 7);
        assert_eq!(at("purchasers.default"), 9);
        let (found, _) = problems("[email]\nhots = 1\n");
        assert_eq!(found[0].0, 2, "{found:?}");
    }
}
