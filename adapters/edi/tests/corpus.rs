//! Walks every file of the shared corpus of real EDI documents written by others
//! (`/work/shared/edi-corpus`, found relative to this crate). Fails, never skips, when the corpus
//! is missing.
//!
//! For each file: nothing panics, every interchange is parsed, every issue carries a location,
//! tolerable deviations (BOM, padded ISA) are warnings, and our valid/broken verdict is compared
//! with the majority of the four independent implementations recorded in MANIFEST.txt.

use std::path::PathBuf;
use switchyard_edi::{read_all, validate::validate, Code, Severity, Unit};

fn corpus_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/edi-corpus")
}

struct Verdict {
    valid: bool,
    summary: Vec<String>,
}

fn judge(bytes: &[u8]) -> Verdict {
    let mut valid = true;
    let mut summary = Vec::new();
    let units = read_all(bytes);
    if units.is_empty() {
        valid = false;
        summary.push("no interchange".to_string());
    }
    for u in units {
        match u {
            Unit::Unparseable(issue) => {
                assert!(issue.location.byte_offset.is_some(), "unlocated: {issue}");
                valid = false;
                summary.push(issue.to_string());
            }
            Unit::Interchange(ic) => {
                let v = validate(&ic);
                for issue in &v.issues {
                    // Every issue is located at least by its byte offset or interchange.
                    assert!(
                        issue.location.byte_offset.is_some()
                            || issue.location.interchange.is_some(),
                        "unlocated: {issue}"
                    );
                    if matches!(issue.code, Code::ByteOrderMark | Code::IsaNotFixedWidth) {
                        assert_eq!(issue.severity, Severity::Warning, "{issue}");
                    }
                    if issue.is_error() {
                        valid = false;
                    }
                    summary.push(issue.to_string());
                }
            }
        }
    }
    Verdict { valid, summary }
}

/// Oracle verdict: `pass` / `parsed` is valid, anything else (errors, FATAL, FAIL, EXC, ERR) broken.
fn majority(oracles: &str) -> Option<bool> {
    let valid = oracles
        .split('/')
        .filter(|v| matches!(*v, "pass" | "parsed"))
        .count();
    match valid {
        3 | 4 => Some(true),
        0 | 1 => Some(false),
        _ => None,
    }
}

#[test]
fn corpus_is_parsed_without_panics_and_agrees_with_the_oracle_majority() {
    let dir = corpus_dir();
    let manifest = std::fs::read_to_string(dir.join("MANIFEST.txt"))
        .unwrap_or_else(|e| panic!("corpus manifest missing at {}: {e}", dir.display()));
    let mut files = 0;
    let (mut agree, mut disagree, mut ties) = (0, Vec::new(), 0);
    let mut report = String::new();
    let mut per_oracle = [0usize; 4];
    for line in manifest
        .lines()
        .filter(|l| !l.starts_with('#') && !l.starts_with("file\t"))
    {
        let cols: Vec<&str> = line.split('\t').collect();
        let (file, oracles) = (cols[0], cols[cols.len() - 1]);
        let bytes = std::fs::read(dir.join(file)).unwrap_or_else(|e| panic!("{file}: {e}"));
        files += 1;
        let v = judge(&bytes);
        let ours = if v.valid { "valid" } else { "broken" };
        report.push_str(&format!("{file}: ours={ours} oracles={oracles}\n"));
        for s in v.summary.iter().take(6) {
            report.push_str(&format!("    {s}\n"));
        }
        for (i, o) in oracles.split('/').enumerate().take(4) {
            if matches!(o, "pass" | "parsed") == v.valid {
                per_oracle[i] += 1;
            }
        }
        match majority(oracles) {
            Some(m) if m == v.valid => agree += 1,
            Some(_) => disagree.push(file.to_string()),
            None => ties += 1,
        }
    }
    // Every file on disk is walked, not only the manifest's (metadata files aside).
    let mut on_disk = 0;
    for sub in std::fs::read_dir(&dir).expect("corpus dir") {
        let sub = sub.expect("entry").path();
        if sub.is_dir() {
            for f in std::fs::read_dir(&sub).expect("subdir") {
                let f = f.expect("entry").path();
                if f.file_name().is_some_and(|n| n != "MANIFEST.txt") {
                    let _ = judge(&std::fs::read(&f).expect("read"));
                    on_disk += 1;
                }
            }
        }
    }
    println!("{report}");
    println!("corpus: {files} files in manifest, {on_disk} on disk; agree with majority {agree}, disagree {} {:?}, ties {ties}", disagree.len(), disagree);
    assert_eq!(files, on_disk, "manifest and directory differ");
    assert!(files >= 72, "expected the 72-file corpus, found {files}");
    println!(
        "agreement per oracle (staedi, bots, pyx12|pydifact, node): {per_oracle:?} of {files}"
    );
    // Measured: 40 of the 52 files with a 3-1 or 4-0 majority agree; 20 files are 2-2 ties.
    // The 12 disagreements, all deliberate (two of them, the last two below, are where the
    // majority is wrong by the file's own source: we agree with its author):
    // * edi.net/x12.810a.edi, x12.810b.edi: UTF-8 BOM, an 81-byte pretty-printed ISA and tab
    //   indentation. Issue 4 asks for exactly these to be accepted with a warning; all four
    //   oracles refuse the file outright.
    // * ediengine/AckTest.edi: 940 warehouse orders, a set we do not validate (envelope only,
    //   reported as a warning); the oracles find element errors inside the 940s (empty N901).
    // * edifabric-edifact/EDIFACT_PurchaseOrder.txt and ..Invalid.txt: DTM format 718 with
    //   "2002080120020831"; code 718 is CCYYMMDD-CCYYMMDD and the dash is missing. None of the
    //   oracles checks DTM formats.
    // * smooks/ORDERS_D.03B_Interchange.txt, staedi/EDIFACT_empty-segment-example.edi: D03B and
    //   IATA PNRGOV, outside our tables (envelope only); the oracles reject their content.
    // * staedi/x12_empty997.edi (997 without the mandatory AK1 and AK9), x12_invalid997.edi
    //   (intentionally broken per its source: AK101 not a code, AK402 not numeric) and
    //   x12_extraDelimiter997.edi (AK302/AK304 repetitions holding text): the oracles that pass
    //   them check envelopes only; the 997 table says these are errors.
    // * ediengine/850.SyntaxNotes.ERR.edi: intentionally broken per its source (a PO1 with
    //   PO106 and no PO107, X12 syntax note P0607); the relational conditions catch it, the
    //   oracles that pass it do not check syntax notes.
    // * staedi/EDIFACT_issue128_wrapped_invoic_d97b.edi: a valid INVOIC wrapped at a fixed
    //   width (the StAEDI issue it comes from added support for exactly this); we unwrap it
    //   with a warning, the four oracles refuse it.
    // The complete 850 tables (issue #10 item 1) moved no verdict. One file's errors changed:
    // edi.net/x12.850a.edi stays broken (IEA02 does not match ISA13, N402 "State" is too long)
    // but no longer gets three "TC2 is not defined in 850 004010" errors: TC2 is in the 004010
    // PO1 loop.
    let expected_disagreements = [
        "edi.net/x12.810a.edi",
        "edi.net/x12.810b.edi",
        "ediengine/850.SyntaxNotes.ERR.edi",
        "ediengine/AckTest.edi",
        "edifabric-edifact/EDIFACT_PurchaseOrder.txt",
        "edifabric-edifact/EDIFACT_PurchaseOrderInvalid.txt",
        "smooks/ORDERS_D.03B_Interchange.txt",
        "staedi/EDIFACT_empty-segment-example.edi",
        "staedi/EDIFACT_issue128_wrapped_invoic_d97b.edi",
        "staedi/x12_empty997.edi",
        "staedi/x12_extraDelimiter997.edi",
        "staedi/x12_invalid997.edi",
    ];
    assert_eq!(
        disagree, expected_disagreements,
        "the disagreements with the oracle majority changed; explain each new one here"
    );
    assert!(
        agree >= 40,
        "agreement with the oracle majority fell to {agree}"
    );
}
