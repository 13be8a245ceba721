//! `switchyard check`: the config, every integration's sections, every schedule and the rules
//! over all of them, then every mapping and its example pairs; every problem printed as
//! `file:line:col: message`. The integrations are built exactly as at start, with credential
//! references checked for form only (no database, no secret key needed).

use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;
use switchyard_core::diag::{Diagnostic, SourceFile};
use switchyard_runtime::assembly;
use switchyard_runtime::config::{self, Config};
use switchyard_runtime::integration::{BuildContext, CheckContext, Integration, Mode};
use switchyard_runtime::mappings::Mappings;
use switchyard_runtime::secrets::FormOnly;
use switchyard_runtime::toml_source::TomlSource;

/// Every problem found, in file order.
pub fn problems(config_path: &Path, integrations: &[Arc<dyn Integration>]) -> Vec<Diagnostic> {
    let mut problems = Vec::new();
    if !config_path.exists() {
        problems.push(
            Diagnostic::in_file(config_path, "config file not found")
                .hint("copy switchyard.toml from the repository"),
        );
        return problems;
    }
    let config = match SourceFile::read(config_path)
        .and_then(|s| config::parse_str(&s))
        .and_then(|_| Config::load(config_path))
    {
        Ok(c) => c,
        Err(d) => {
            problems.push(d);
            return problems;
        }
    };
    let source = TomlSource::read(config_path);
    let cx = BuildContext {
        config: &config,
        source: &source,
        secrets: &FormOnly,
        mode: Mode::Check,
    };
    let (schedules, mut schedule_problems) =
        switchyard_runtime::schedules::load_dir(&config.paths.schedules);
    let (assembly, mut build_problems) = assembly::assemble_all(integrations, &cx);
    problems.append(&mut build_problems);
    problems.append(&mut schedule_problems);
    // A directory named wrong would otherwise mean, silently, no mappings or no schedules.
    for (key, dir) in [
        ("mappings", &config.paths.mappings),
        ("schedules", &config.paths.schedules),
    ] {
        if !dir.is_dir() {
            problems.push(source.problem(
                &["paths", key],
                format!(
                    "the {key} directory {} does not exist",
                    std::path::absolute(dir)
                        .unwrap_or_else(|_| dir.clone())
                        .display()
                ),
            ));
        }
    }
    let mappings_dir = &config.paths.mappings;
    let mappings = Mappings::load(mappings_dir).names();
    let cx = CheckContext {
        config: &config,
        source: &source,
        schedules: &schedules,
        mappings: &mappings,
    };
    problems.extend(assembly::check(integrations, &assembly, &cx));
    problems.extend(switchyard_runtime::sync::config::check(
        &cx,
        &assembly.registry.adapters,
    ));
    problems.extend(switchyard_runtime::pull::config::check(
        &cx,
        &assembly.registry.adapters,
    ));
    problems.extend(switchyard_runtime::supplier::config::check(
        &cx,
        &assembly.registry.adapters,
    ));
    problems
}

/// Check the config, partners and schedules, then every mapping and its example pairs.
pub fn run(
    config_path: &Path,
    mapping_fixtures: &Path,
    integrations: &[Arc<dyn Integration>],
) -> ExitCode {
    let problems = problems(config_path, integrations);
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
