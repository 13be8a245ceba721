//! `switchyard edi parse|validate|ack FILE`: the daemon embeds [`EdiArgs`] and calls [`run`].
//! Files are streamed interchange by interchange, so any size works in bounded memory.

use crate::ack::{contrl, x12_ack, AckControls, AckOptions, FunctionalAck};
use crate::interchange::Interchange;
use crate::reader::{InterchangeReader, Unit};
use crate::report::Issue;
use crate::syntax::Standard;
use crate::validate::{validate, Validation};
use serde_json::{json, Value};
use std::io::{BufReader, Write};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct EdiArgs {
    #[command(subcommand)]
    pub command: EdiCommand,
}

#[derive(Debug, clap::Subcommand)]
pub enum EdiCommand {
    /// Print the interchange tree and validation report as JSON.
    Parse {
        file: PathBuf,
        /// Leave the segments out (envelope tree and report only).
        #[arg(long)]
        no_segments: bool,
    },
    /// Print located errors; exit status 1 when the file is not valid.
    Validate { file: PathBuf },
    /// Print the 997/999/TA1 or CONTRL we would send for each interchange.
    Ack {
        file: PathBuf,
        /// Our interchange control number for the first acknowledgement.
        #[arg(long, default_value_t = 1)]
        interchange: u32,
        #[arg(long, default_value_t = 1)]
        group: u32,
        #[arg(long, default_value_t = 1)]
        set: u32,
        /// Send 999 instead of 997 for 005010 groups.
        #[arg(long)]
        use_999: bool,
        /// Timestamp for the envelopes (`YYYY-MM-DDTHH:MM`), default now (UTC).
        #[arg(long)]
        now: Option<String>,
    },
}

/// Runs the command, writing to stdout/stderr; the exit code is 0 (ok), 1 (invalid input) or
/// 2 (the file could not be read or the arguments are wrong).
pub fn run(args: EdiArgs) -> ExitCode {
    let stdout = std::io::stdout();
    let stderr = std::io::stderr();
    let code = run_to(args, &mut stdout.lock(), &mut stderr.lock());
    ExitCode::from(code)
}

/// [`run`] with explicit output streams, for tests and embedding.
pub fn run_to(args: EdiArgs, out: &mut dyn Write, err: &mut dyn Write) -> u8 {
    match run_inner(args, out, err) {
        Ok(code) => code,
        Err(e) => {
            let _ = writeln!(err, "error: {e}");
            2
        }
    }
}

fn open(file: &PathBuf) -> std::io::Result<InterchangeReader<BufReader<std::fs::File>>> {
    let f = std::fs::File::open(file)
        .map_err(|e| std::io::Error::new(e.kind(), format!("{}: {e}", file.display())))?;
    Ok(InterchangeReader::new(BufReader::with_capacity(1 << 20, f)))
}

fn run_inner(args: EdiArgs, out: &mut dyn Write, err: &mut dyn Write) -> std::io::Result<u8> {
    match args.command {
        EdiCommand::Parse { file, no_segments } => {
            let mut valid = true;
            write!(
                out,
                "{{\"file\":{},\"interchanges\":[",
                json!(file.display().to_string())
            )?;
            let mut first = true;
            let mut unparseable = Vec::new();
            for unit in open(&file)? {
                match unit? {
                    Unit::Unparseable(issue) => {
                        valid = false;
                        unparseable.push(issue);
                    }
                    Unit::Interchange(ic) => {
                        let v = validate(&ic);
                        valid &= v.is_valid();
                        if !first {
                            out.write_all(b",")?;
                        }
                        first = false;
                        serde_json::to_writer(&mut *out, &tree(&ic, &v, !no_segments))?;
                    }
                }
            }
            write!(
                out,
                "],\"unparseable\":{},\"valid\":{valid}}}",
                serde_json::to_string(&unparseable)?
            )?;
            writeln!(out)?;
            Ok(if valid { 0 } else { 1 })
        }
        EdiCommand::Validate { file } => {
            let name = file.display().to_string();
            let (mut errors, mut warnings, mut interchanges, mut sets) =
                (0usize, 0usize, 0usize, 0usize);
            for unit in open(&file)? {
                match unit? {
                    Unit::Unparseable(issue) => {
                        errors += 1;
                        writeln!(out, "{name}: {issue}")?;
                    }
                    Unit::Interchange(ic) => {
                        interchanges += 1;
                        sets += ic.groups.iter().map(|g| g.sets.len()).sum::<usize>();
                        let v = validate(&ic);
                        for issue in &v.issues {
                            let line = issue
                                .location
                                .byte_offset
                                .map(|o| ic.line_of(o))
                                .unwrap_or(ic.line);
                            if issue.is_error() {
                                errors += 1;
                            } else {
                                warnings += 1;
                            }
                            writeln!(out, "{name}:{line}: {issue}")?;
                        }
                    }
                }
            }
            let verdict = if errors == 0 { "valid" } else { "invalid" };
            writeln!(err, "{name}: {verdict}: {interchanges} interchange(s), {sets} set(s), {errors} error(s), {warnings} warning(s)")?;
            Ok(if errors == 0 { 0 } else { 1 })
        }
        EdiCommand::Ack {
            file,
            interchange,
            group,
            set,
            use_999,
            now,
        } => {
            let now = match now {
                Some(s) => {
                    chrono::NaiveDateTime::parse_from_str(&s, "%Y-%m-%dT%H:%M").map_err(|e| {
                        std::io::Error::new(
                            std::io::ErrorKind::InvalidInput,
                            format!("--now {s:?}: {e}"),
                        )
                    })?
                }
                None => chrono::Utc::now().naive_utc(),
            };
            let mut ctl = AckControls {
                interchange,
                group,
                first_set: set,
            };
            let opts = AckOptions {
                functional: if use_999 {
                    FunctionalAck::F999
                } else {
                    FunctionalAck::F997
                },
                ta1_when_requested: true,
                ta1_on_envelope_error: true,
                now,
                // No partner profile here: an interchange whose envelope identifiers are
                // invalid gets no ack (the error says which value), never an echo of them.
                envelope: None,
            };
            let mut any_error = false;
            for unit in open(&file)? {
                match unit? {
                    Unit::Unparseable(issue) => {
                        any_error = true;
                        writeln!(
                            err,
                            "{issue}; no acknowledgement possible without an envelope"
                        )?;
                    }
                    Unit::Interchange(ic) => {
                        let v = validate(&ic);
                        any_error |= !v.is_valid();
                        let doc = match ic.standard {
                            Standard::X12 => x12_ack(&ic, &v, &ctl, &opts),
                            Standard::Edifact => contrl(&ic, &v, &ctl, &opts),
                        };
                        match doc {
                            // One interchange we cannot answer (an invalid envelope value and no
                            // profile to answer with) does not stop the others being answered.
                            Err(e) => {
                                any_error = true;
                                writeln!(
                                    err,
                                    "interchange {}: no acknowledgement: {e}",
                                    ic.header.control
                                )?;
                            }
                            Ok(Some(d)) => {
                                writeln!(out, "{d}")?;
                                ctl.interchange += 1;
                                ctl.group += 1;
                                ctl.first_set += ic.groups.len() as u32;
                            }
                            Ok(None) => writeln!(err, "interchange {}: nothing to acknowledge (it is an acknowledgement itself)", ic.header.control)?,
                        }
                    }
                }
            }
            Ok(if any_error { 1 } else { 0 })
        }
    }
}

fn issue_list(issues: &[&Issue]) -> Value {
    serde_json::to_value(issues).unwrap_or(Value::Null)
}

/// JSON tree of one interchange: header, groups, sets (with their segments when asked), the
/// validation report and the verdict.
pub fn tree(ic: &Interchange, v: &Validation, segments: bool) -> Value {
    let d = &ic.delimiters;
    let ch = |b: u8| (b as char).to_string();
    let groups: Vec<Value> = ic
        .groups
        .iter()
        .enumerate()
        .map(|(g, group)| {
            let sets: Vec<Value> = group
                .sets
                .iter()
                .enumerate()
                .map(|(s, set)| {
                    let mut o = json!({
                        "type": set.set_type,
                        "control": set.control,
                        "version": set.version,
                        "status": v.set_status.get(g).and_then(|x| x.get(s)),
                    });
                    if segments {
                        let segs: Vec<Value> = set
                            .range(ic.len())
                            .map(|i| {
                                let seg = ic.segment(i);
                                let n = seg.element_count();
                                let els: Vec<Value> = (1..=n).map(|e| json!(seg.tree(e))).collect();
                                json!({"id": seg.id(), "index": seg.index, "position": i - set.header + 1, "elements": els})
                            })
                            .collect();
                        o["segments"] = Value::Array(segs);
                    }
                    o
                })
                .collect();
            json!({"functional_id": group.functional_id, "control": group.control, "version": group.version,
                   "sender": group.sender, "receiver": group.receiver, "sets": sets})
        })
        .collect();
    let errors: Vec<&Issue> = v.issues.iter().filter(|i| i.is_error()).collect();
    let warnings: Vec<&Issue> = v.issues.iter().filter(|i| !i.is_error()).collect();
    json!({
        "standard": ic.standard,
        "offset": ic.offset,
        "line": ic.line,
        "delimiters": {"element": ch(d.element), "component": ch(d.component), "segment": ch(d.segment),
                        "repetition": d.repetition.map(ch), "release": d.release.map(ch)},
        "header": ic.header,
        "segment_count": ic.len(),
        "groups": groups,
        "valid": v.is_valid(),
        "errors": issue_list(&errors),
        "warnings": issue_list(&warnings),
    })
}
