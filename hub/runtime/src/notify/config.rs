//! The `[email]` section: the SMTP server, the sender, the templates, tracking links per
//! carrier and each organization's purchaser. Parsed strictly (an unknown key is located at
//! itself) and checked for meaning (addresses, links, templates) with located problems, so
//! `switchyard check` refuses what start would.

use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::PathBuf;

/// How the SMTP connection is secured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Security {
    /// Plain connection upgraded with STARTTLS (refused if the server cannot); port 587.
    #[default]
    Starttls,
    /// TLS from the first byte ("SMTPS"); port 465.
    Tls,
    /// No encryption (a relay on localhost, tests); port 25.
    None,
}

impl Security {
    pub fn default_port(self) -> u16 {
        match self {
            Security::Starttls => 587,
            Security::Tls => 465,
            Security::None => 25,
        }
    }
}

/// `[email]` as written.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EmailSection {
    /// The SMTP server's host name.
    #[serde(default)]
    pub host: String,
    /// Default by `security`: 587, 465 or 25.
    pub port: Option<u16>,
    #[serde(default)]
    pub security: Security,
    /// A PEM file of certificates to trust besides the public roots (a private relay's own
    /// CA or self-signed certificate); with `starttls` or `tls` only.
    pub ca_file: Option<PathBuf>,
    /// SMTP AUTH user; with `password`, a `secret:` / `env:` reference.
    pub user: Option<String>,
    pub password: Option<String>,
    /// The organization whose stored secrets `password` names (default `default`).
    #[serde(default = "default_org")]
    pub secrets_org: String,
    /// The sender: `Name <address>` or an address.
    #[serde(default)]
    pub from: String,
    /// Where `<notice>.subject.txt`, `.txt` and `.html` are (default `templates/email`).
    #[serde(default = "default_templates")]
    pub templates: PathBuf,
    /// The API's public base URL, for unsubscribe links (default `http://` + `[api] bind`).
    pub public_url: Option<String>,
    /// Seconds an SMTP exchange may take (default 30).
    #[serde(default = "default_timeout")]
    pub timeout_secs: u64,
    /// Tracking link per carrier (lower case), `{number}` standing for the tracking number;
    /// UPS, FedEx, USPS and DHL are known, these override or add.
    #[serde(default)]
    pub tracking: BTreeMap<String, String>,
    /// Low stock mails: the purchaser's address per organization slug.
    #[serde(default)]
    pub purchasers: BTreeMap<String, String>,
}

fn default_org() -> String {
    "default".into()
}

fn default_templates() -> PathBuf {
    PathBuf::from("templates/email")
}

fn default_timeout() -> u64 {
    30
}

/// The carriers whose tracking pages are known without configuration.
pub const DEFAULT_TRACKING: &[(&str, &str)] = &[
    ("ups", "https://www.ups.com/track?tracknum={number}"),
    ("fedex", "https://www.fedex.com/fedextrack/?trknbr={number}"),
    (
        "usps",
        "https://tools.usps.com/go/TrackConfirmAction?tLabels={number}",
    ),
    (
        "dhl",
        "https://www.dhl.com/global-en/home/tracking/tracking-express.html?tracking-id={number}",
    ),
];

/// Tracking link templates by carrier: the known ones, then the configured ones.
#[derive(Debug, Clone)]
pub struct Tracking(BTreeMap<String, String>);

impl Tracking {
    pub fn new(configured: &BTreeMap<String, String>) -> Self {
        let mut all: BTreeMap<String, String> = DEFAULT_TRACKING
            .iter()
            .map(|(c, t)| (c.to_string(), t.to_string()))
            .collect();
        for (carrier, template) in configured {
            all.insert(carrier.to_lowercase(), template.clone());
        }
        Self(all)
    }

    /// The link to the carrier's tracking page of `number`, if the carrier is known.
    pub fn link(&self, carrier: &str, number: &str) -> Option<String> {
        let number = number.trim();
        if number.is_empty() {
            return None;
        }
        let template = self.0.get(&carrier.trim().to_lowercase())?;
        let encoded: String = url::form_urlencoded::byte_serialize(number.as_bytes()).collect();
        Some(template.replace("{number}", &encoded))
    }

    /// What is wrong with a configured template, if anything.
    pub fn problem(template: &str) -> Option<&'static str> {
        if !template.contains("{number}") {
            return Some("must contain `{number}` where the tracking number goes");
        }
        match url::Url::parse(&template.replace("{number}", "1")) {
            Ok(u) if matches!(u.scheme(), "http" | "https") => None,
            _ => Some("must be an http(s) URL"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_are_built_from_carrier_and_number_and_config_overrides() {
        let mut configured = BTreeMap::new();
        configured.insert("DHL".to_owned(), "https://dhl.test/t/{number}".to_owned());
        configured.insert(
            "acme".to_owned(),
            "https://acme.test/?n={number}".to_owned(),
        );
        let t = Tracking::new(&configured);
        assert_eq!(
            t.link("UPS", "1Z999AA10123456784").as_deref(),
            Some("https://www.ups.com/track?tracknum=1Z999AA10123456784")
        );
        assert_eq!(
            t.link("dhl", "JD 01").as_deref(),
            Some("https://dhl.test/t/JD+01")
        );
        assert_eq!(
            t.link("Acme", "7").as_deref(),
            Some("https://acme.test/?n=7")
        );
        assert_eq!(t.link("pigeon", "7"), None);
        assert_eq!(t.link("ups", " "), None);
        assert!(Tracking::problem("https://x.test/").is_some());
        assert!(Tracking::problem("ftp://x.test/{number}").is_some());
        assert!(Tracking::problem("https://x.test/{number}").is_none());
    }
}
