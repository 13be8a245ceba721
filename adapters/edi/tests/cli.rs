//! The command line the daemon embeds: exit codes, located messages, JSON shape, acks.

use clap::Parser;
use std::path::PathBuf;
use switchyard_edi::cli::{run_to, EdiArgs};

#[derive(Parser)]
struct Cli {
    #[command(flatten)]
    args: EdiArgs,
}

fn fixture(rel: &str) -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../fixtures/edi")
        .join(rel)
        .display()
        .to_string()
}

fn run(args: &[&str]) -> (u8, String, String) {
    let cli =
        Cli::try_parse_from(std::iter::once("edi").chain(args.iter().copied())).expect("arguments");
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let code = run_to(cli.args, &mut out, &mut err);
    (
        code,
        String::from_utf8(out).expect("utf8"),
        String::from_utf8(err).expect("utf8"),
    )
}

#[test]
fn validate_exits_zero_for_valid_and_one_with_located_errors() {
    let (code, out, err) = run(&["validate", &fixture("x12/850_004010_good.edi")]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        err.contains("valid: 1 interchange(s), 1 set(s), 0 error(s)"),
        "{err}"
    );
    let (code, out, _) = run(&[
        "validate",
        &fixture("edifact/ORDERS_ORDRSP_D96A_crlf_two_interchanges.edi"),
    ]);
    assert_eq!(code, 0, "{out}");
    let (code, out, _) = run(&["validate", &fixture("edifact/ORDERS_D96A_bad_date.edi")]);
    assert_eq!(code, 1);
    // file:line: then interchange, set, segment with its positions and the element.
    assert!(out.contains("ORDERS_D96A_bad_date.edi:5: error at interchange ORD0001, ORDERS 1, segment DTM (#4 in file, #3 in set), DTM01 component 2"), "{out}");
}

#[test]
fn missing_file_exits_two() {
    let (code, _, err) = run(&["validate", "/nonexistent/file.edi"]);
    assert_eq!(code, 2);
    assert!(err.contains("/nonexistent/file.edi"), "{err}");
}

#[test]
fn parse_prints_tree_and_report_as_json() {
    let (code, out, _) = run(&["parse", &fixture("x12/856_004010_bad_hl_parent.edi")]);
    assert_eq!(code, 1);
    let v: serde_json::Value = serde_json::from_str(&out).expect("json");
    let ic = &v["interchanges"][0];
    assert_eq!(ic["header"]["control"], "000000301");
    assert_eq!(ic["groups"][0]["sets"][0]["type"], "856");
    assert_eq!(ic["groups"][0]["sets"][0]["status"], "rejected");
    assert_eq!(ic["groups"][0]["sets"][0]["segments"][1]["id"], "BSN");
    assert_eq!(ic["errors"][0]["code"], "hierarchy");
    assert_eq!(ic["errors"][0]["location"]["segment_id"], "HL");
    assert_eq!(v["valid"], false);
}

#[test]
fn ack_prints_the_997_we_would_send() {
    let (code, out, _) = run(&[
        "ack",
        "--interchange",
        "77",
        "--now",
        "2026-03-02T10:00",
        &fixture("x12/855_004010_bad_ack_code.edi"),
    ]);
    assert_eq!(code, 1, "input had errors");
    assert!(out.contains("*000000077*0*P*>~"), "{out}");
    assert!(
        out.contains("AK3*ACK*8*ACK*8~AK4*1**7*XX~AK5*R*5~"),
        "{out}"
    );
    let (code, out, _) = run(&[
        "ack",
        "--now",
        "2026-03-02T10:00",
        &fixture("edifact/INVOIC_D01B_good.edi"),
    ]);
    assert_eq!(code, 0);
    assert!(
        out.contains("UCI+INV0002+5498765000019:14+5412345000013:14+7'"),
        "{out}"
    );
    // An invalid ISA05 and no partner profile: no ack echoing it, an error naming it.
    let (code, out, err) = run(&[
        "ack",
        "--now",
        "2026-03-02T10:00",
        &fixture("x12/850_004010_bad_isa05.edi"),
    ]);
    assert_eq!(code, 1);
    assert!(!out.contains("*nn*"), "{out}");
    assert!(
        err.contains("no acknowledgement") && err.contains("ISA05"),
        "{err}"
    );
}
