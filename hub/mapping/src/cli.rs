//! `switchyard check` and `switchyard map`: argument structs and entry points the daemon's
//! binary wires into its subcommands. Each returns the process exit code.

use crate::compile::compile_file;
use crate::formats::Format;
use crate::pairs;
use crate::registry::MappingRegistry;
use std::io::{BufReader, Write};
use std::path::PathBuf;

/// Validate every mapping file and run the example pairs.
#[derive(clap::Args, Debug, Clone)]
pub struct CheckArgs {
    /// Directory holding the mapping files (`<kind>/<document>.toml`, lookups under `lookups/`).
    #[arg(long, default_value = "mappings")]
    pub mappings: PathBuf,
    /// Directory holding example pairs (`<mapping name>/<case>.input.*` + `<case>.expected.json`).
    #[arg(long, default_value = "fixtures/mappings")]
    pub fixtures: PathBuf,
}

#[derive(clap::ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputFormat {
    Json,
    Jsonl,
    Csv,
    Xml,
}

/// Map one input file with one mapping and print the result.
#[derive(clap::Args, Debug, Clone)]
pub struct MapArgs {
    /// The mapping file.
    #[arg(long)]
    pub mapping: PathBuf,
    /// The input document (in the mapping's source format).
    #[arg(long)]
    pub input: PathBuf,
    /// Output format; defaults to the mapping's target format.
    #[arg(long, value_enum)]
    pub format: Option<OutputFormat>,
}

/// Exit codes: 0 all good, 1 problems found (diagnostics, failing pairs or records), 2 cannot run.
pub fn check(args: &CheckArgs) -> i32 {
    check_to(
        args,
        &mut std::io::stdout().lock(),
        &mut std::io::stderr().lock(),
    )
}

pub fn check_to(args: &CheckArgs, out: &mut dyn Write, err: &mut dyn Write) -> i32 {
    if !args.mappings.is_dir() {
        let _ = writeln!(
            err,
            "error: mappings directory {} does not exist",
            args.mappings.display()
        );
        return 2;
    }
    let (registry, report) = MappingRegistry::load(&args.mappings);
    let mut problems = 0;
    for (_, d) in &report.failed {
        for diag in &d.0 {
            let _ = writeln!(err, "{diag}");
            problems += 1;
        }
    }
    let loaded = registry.names().count();
    let results = pairs::run_all(&registry, &args.fixtures);
    let failed_pairs = results.iter().filter(|r| !r.passed()).count();
    for r in &results {
        if r.passed() {
            let _ = writeln!(out, "{r}");
        } else {
            let _ = writeln!(err, "{r}");
        }
    }
    let _ = writeln!(out, "{loaded} mappings loaded, {} with errors ({problems} diagnostics); {} example pairs, {failed_pairs} failed", report.failed.len(), results.len());
    if problems > 0 || failed_pairs > 0 {
        1
    } else {
        0
    }
}

pub fn map(args: &MapArgs) -> i32 {
    map_to(
        args,
        &mut std::io::stdout().lock(),
        &mut std::io::stderr().lock(),
    )
}

pub fn map_to(args: &MapArgs, out: &mut dyn Write, err: &mut dyn Write) -> i32 {
    let name = args
        .mapping
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let m = match compile_file(&args.mapping, &name) {
        Ok(m) => m,
        Err(d) => {
            let _ = writeln!(err, "{d}");
            return 2;
        }
    };
    let format = args.format.map(|f| match f {
        OutputFormat::Json => Format::Json,
        OutputFormat::Jsonl => Format::JsonLines,
        OutputFormat::Csv => Format::Csv,
        OutputFormat::Xml => Format::Xml,
    });
    let file = match std::fs::File::open(&args.input) {
        Ok(f) => f,
        Err(e) => {
            let _ = writeln!(err, "error: cannot open {}: {e}", args.input.display());
            return 2;
        }
    };
    let input_name = args.input.display().to_string();
    // JSON-lines in and out streams record by record.
    let out_format = format.unwrap_or(m.target.format);
    let lines_out = out_format.is_lines(m.target.lines && out_format == m.target.format);
    if m.source.format.is_lines(m.source.lines) && lines_out {
        let mut w = std::io::BufWriter::with_capacity(1 << 16, out);
        let mut failures = 0;
        let res = m.map_jsonl_stream(BufReader::with_capacity(1 << 16, file), &mut w, |f| {
            failures += 1;
            let _ = writeln!(err, "{input_name}: {f}");
        });
        if let Err(e) = w.flush() {
            let _ = writeln!(err, "error: {e}");
            return 2;
        }
        return match res {
            Ok(_) if failures == 0 => 0,
            Ok(_) => 1,
            Err(e) => {
                let _ = writeln!(err, "{input_name}: {e}");
                2
            }
        };
    }
    let mut bytes = Vec::new();
    if let Err(e) = std::io::Read::read_to_end(&mut BufReader::new(file), &mut bytes) {
        let _ = writeln!(err, "error: cannot read {input_name}: {e}");
        return 2;
    }
    let outcome = match m.map_document(&bytes) {
        Ok(o) => o,
        Err(e) => {
            let _ = writeln!(err, "{input_name}: {e}");
            return 2;
        }
    };
    for f in &outcome.failures {
        let _ = writeln!(err, "{input_name}: {f}");
    }
    let mut w = std::io::BufWriter::new(out);
    if let Err(e) = m
        .write(&mut w, &outcome, format)
        .and_then(|_| w.flush().map_err(Into::into))
    {
        let _ = writeln!(err, "error: {e}");
        return 2;
    }
    if outcome.failures.is_empty() {
        0
    } else {
        1
    }
}
