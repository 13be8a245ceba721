//! `[partners.NAME] kind = "optima"`: strict, every problem a located diagnostic naming the
//! key (what `switchyard check` and start-up print).

use std::path::Path;
use switchyard_core::adapter::{ConfigError, SecretResolver};
use switchyard_core::diag::SourceFile;
use switchyard_optima::OptimaIntegration;
use switchyard_runtime::config::parse_str;
use switchyard_runtime::integration::{BuildContext, Integration, Mode};
use switchyard_runtime::secrets::OrgSecrets;
use switchyard_runtime::toml_source::TomlSource;

struct Refs;
impl OrgSecrets for Refs {
    fn for_org(&self, _org: &str) -> &dyn SecretResolver {
        self
    }
}
impl SecretResolver for Refs {
    fn resolve(&self, r: &str) -> Result<String, ConfigError> {
        match r {
            "secret:missing" => Err(ConfigError::new("", "no stored secret `missing`")),
            _ => Ok(format!("resolved {r}")),
        }
    }
}

/// Adapters built, and every problem as `file:line:col: message`.
fn build(text: &str) -> (Vec<String>, Vec<String>) {
    let path = Path::new("switchyard.toml");
    let config = parse_str(&SourceFile::new(path, text)).unwrap();
    let source = TomlSource::from_text(path, text);
    let cx = BuildContext {
        config: &config,
        source: &source,
        secrets: &Refs,
        mode: Mode::Check,
    };
    let mut problems = Vec::new();
    let parts = OptimaIntegration::new().unwrap().build(&cx, &mut problems);
    (
        parts.adapters.into_iter().map(|(n, _)| n).collect(),
        problems.iter().map(|d| d.to_string()).collect(),
    )
}

fn problems(text: &str) -> String {
    let (adapters, problems) = build(text);
    assert!(adapters.is_empty(), "built {adapters:?} from:\n{text}");
    problems.join("\n")
}

#[test]
fn both_surfaces_build() {
    let (adapters, problems) = build(
        r#"
[partners.xml]
kind = "optima"
surface = "xml-exchange"
company_code = "STALHURT"
test_mode = true
auto_sync = true
[partners.xml.exchange]
path = "var/optima"

[partners.api]
kind = "optima"
surface = "rest"
company_code = "STALHURT"
api_url = "https://optima.example/"
api_key = "secret:optima_key"
api_secret = "secret:optima_secret"
"#,
    );
    assert_eq!(problems, Vec::<String>::new());
    assert_eq!(adapters.len(), 2);
}

#[test]
fn every_bad_setting_names_its_key() {
    let p = problems(
        "[partners.o]\nkind = \"optima\"\nsurface = \"xml-exchange\"\ncompany_code = \"X\"\nhots = 1\n",
    );
    assert!(
        p.contains("switchyard.toml:5:1") && p.contains("unknown field `hots`"),
        "{p}"
    );

    let p = problems("[partners.o]\nkind = \"optima\"\nsurface = \"soap\"\ncompany_code = \"X\"\n");
    assert!(
        p.contains("switchyard.toml:3:") && p.contains("soap"),
        "{p}"
    );

    let p = problems("[partners.o]\nkind = \"optima\"\nsurface = \"rest\"\ncompany_code = \"X\"\napi_url = \"ftp://x\"\napi_key = \"plain-key\"\napi_secret = \"secret:missing\"\n");
    assert!(
        p.contains("switchyard.toml:5:") && p.contains("api_url: `ftp://x` is not an http(s) URL"),
        "{p}"
    );
    assert!(
        p.contains("switchyard.toml:6:") && p.contains("api_key: must be a `secret:NAME`"),
        "{p}"
    );
    assert!(
        p.contains("switchyard.toml:7:") && p.contains("api_secret: no stored secret `missing`"),
        "{p}"
    );

    let p = problems("[partners.o]\nkind = \"optima\"\nsurface = \"rest\"\ncompany_code = \"\"\n");
    assert!(p.contains("company_code: must be"), "{p}");
    assert!(
        p.contains("api_url: surface = \"rest\" needs `api_url`"),
        "{p}"
    );
    assert!(
        p.contains("api_key: surface = \"rest\" needs `api_key`"),
        "{p}"
    );

    let p = problems("[partners.o]\nkind = \"optima\"\nsurface = \"xml-exchange\"\ncompany_code = \"X\"\napi_key = \"secret:k\"\n");
    assert!(
        p.contains("api_key: only applies to surface = \"rest\""),
        "{p}"
    );
    assert!(
        p.contains("exchange: surface = \"xml-exchange\" needs an `[exchange]` table"),
        "{p}"
    );

    // The exchange folder's SFTP keys come from the VAN mailbox settings, located under
    // `exchange`.
    let p = problems("[partners.o]\nkind = \"optima\"\nsurface = \"xml-exchange\"\ncompany_code = \"X\"\n[partners.o.exchange]\ntransport = \"sftp\"\nhost = \"sftp.example\"\n");
    assert!(
        p.contains("exchange.user: an SFTP exchange folder needs `user`"),
        "{p}"
    );
    assert!(p.contains("exchange.host_key"), "{p}");
    let p = problems("[partners.o]\nkind = \"optima\"\nsurface = \"xml-exchange\"\ncompany_code = \"X\"\n[partners.o.exchange]\npath = \"x\"\nhost = \"h\"\n");
    assert!(
        p.contains("switchyard.toml:7:") && p.contains("exchange.host: only applies to SFTP"),
        "{p}"
    );
}
