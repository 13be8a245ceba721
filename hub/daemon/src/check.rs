//! `switchyard check`: the config, the partners' adapter settings, and every schedule, with
//! every problem printed as `file:line:col: message`.

use crate::config::{self, Config};
use crate::diag::{Diagnostic, SourceFile};
use std::path::Path;
use std::process::ExitCode;

/// Every problem found, in file order.
pub fn problems(config_path: &Path) -> Vec<Diagnostic> {
    let mut problems = Vec::new();
    let config = if config_path.exists() {
        match SourceFile::read(config_path).and_then(|s| config::parse_str(&s)) {
            Ok(_) => match Config::load(config_path) {
                Ok(c) => Some(c),
                Err(d) => {
                    problems.push(d);
                    None
                }
            },
            Err(d) => {
                problems.push(d);
                None
            }
        }
    } else {
        problems.push(Diagnostic::new(
            config_path,
            None,
            "config file not found (copy switchyard.toml from the repository)",
        ));
        None
    };
    if let Some(config) = &config {
        // Adapter settings are checked with env: references resolved and secret: references
        // only checked for form (the database is not needed to run `check`).
        let resolver = FormOnly;
        if let Err(mut p) = crate::adapters::AdapterRegistry::build(config, config_path, &resolver)
        {
            problems.append(&mut p);
        }
        if let Err(mut p) = crate::edi_partners::EdiPartners::build(config, config_path, &resolver)
        {
            problems.append(&mut p);
        }
        let (_, mut p) = crate::schedules::load_dir(&config.paths.schedules);
        problems.append(&mut p);
        problems.append(&mut edi_schedule_partners(config));
    }
    problems
}

/// Schedules of EDI jobs must name a configured EDI partner: caught here rather than as a
/// dead letter every five minutes.
fn edi_schedule_partners(config: &Config) -> Vec<Diagnostic> {
    let edi_kinds = [
        crate::edi_mailbox::KIND,
        crate::edi_send::KIND,
        crate::edi_acks::OVERDUE_KIND,
    ];
    let mut problems = Vec::new();
    let Ok(entries) = std::fs::read_dir(&config.paths.schedules) else {
        return problems;
    };
    let mut paths: Vec<_> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    paths.sort();
    for path in paths {
        let Ok(source) = SourceFile::read(&path) else {
            continue;
        };
        // Syntax problems are reported by the schedule loader.
        let Ok(table) = source.text.parse::<toml::Table>() else {
            continue;
        };
        let job = table
            .get("job")
            .and_then(|j| j.as_str())
            .unwrap_or_default();
        if !edi_kinds.contains(&job) {
            continue;
        }
        let Some(name) = table
            .get("params")
            .and_then(|p| p.get("partner"))
            .and_then(|p| p.as_str())
        else {
            continue;
        };
        let known = config
            .partners
            .get(name)
            .is_some_and(|p| p.kind == crate::edi_partners::KIND);
        if !known {
            problems.push(Diagnostic::new(
                &path,
                source.find_line("partner"),
                format!(
                    "{job}: partner `{name}` is not an EDI partner in the config (declare [partners.{name}] with kind = \"edi\")"
                ),
            ));
        }
    }
    problems
}

/// Accepts any well-formed reference, so `check` validates structure without secrets.
struct FormOnly;

impl crate::adapters::OrgSecrets for FormOnly {
    fn for_org(&self, _org: &str) -> &dyn switchyard_core::adapter::SecretResolver {
        self
    }
}

impl switchyard_core::adapter::SecretResolver for FormOnly {
    fn resolve(&self, reference: &str) -> Result<String, switchyard_core::adapter::ConfigError> {
        if reference.starts_with("secret:") || reference.starts_with("env:") {
            Ok("placeholder-for-check".into())
        } else {
            Err(switchyard_core::adapter::ConfigError {
                partner: String::new(),
                message: "a credential reference must start with `secret:` or `env:`".into(),
            })
        }
    }
}

/// Check the config, partners and schedules, then every mapping and its example pairs.
pub fn run(config_path: &Path, mapping_fixtures: &Path) -> ExitCode {
    let problems = problems(config_path);
    for p in &problems {
        println!("{p}");
    }
    if problems.is_empty() {
        println!("ok: config, partners and schedules are valid");
    } else {
        eprintln!("{} problem(s)", problems.len());
    }
    let mappings_dir = Config::load(config_path)
        .map(|c| c.paths.mappings)
        .unwrap_or_else(|_| "mappings".into());
    let mapping_code = if mappings_dir.is_dir() {
        switchyard_mapping::cli::check(&switchyard_mapping::cli::CheckArgs {
            mappings: mappings_dir,
            fixtures: mapping_fixtures.to_owned(),
        })
    } else {
        0
    };
    if problems.is_empty() && mapping_code == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
