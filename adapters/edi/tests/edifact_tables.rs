//! The EDIFACT structure tables are the directories' whole message structures, directory by
//! directory (issue #10 item 1): ORDERS, ORDRSP, DESADV and INVOIC in D96A and D01B accept a
//! message that uses every segment group the directory defines (CONTRL UCI action 7), and a
//! message with a group out of its place is rejected with a UCS naming the segment's position
//! and 0085 code 15 (not supported in this position).
//!
//! The valid messages are the fixtures `fixtures/edi/edifact/<MSG>_<DIR>_full_table.edi`: every
//! segment of the directory's segment table once, in the table's order (the test checks that
//! they are exactly that, so a fixture edit cannot silently stop covering a group). Each broken
//! case is made from one of them by moving one group's segments as a block, so the only thing
//! wrong with it is that group's place.

use chrono::NaiveDateTime;
use serde_json::Value;
use std::path::PathBuf;
use switchyard_edi::ack::{contrl, AckControls, AckOptions, FunctionalAck};
use switchyard_edi::spec::{edifact, Node};
use switchyard_edi::tree::{tables_for, to_tree};
use switchyard_edi::validate::{validate, Validation};
use switchyard_edi::{read_all, Code, Interchange, Unit};

const MESSAGES: [&str; 4] = ["ORDERS", "ORDRSP", "DESADV", "INVOIC"];
const DIRECTORIES: [(&str, &str); 2] = [("D96A", "D:96A:UN"), ("D01B", "D:01B:UN")];

fn fixture_name(msg: &str, dir: &str) -> String {
    format!("edifact/{msg}_{dir}_full_table.edi")
}

fn fixture(rel: &str) -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../fixtures/edi")
        .join(rel);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Segments of a fixture (one per line, each ending in the terminator `'`), terminator cut.
fn segments(doc: &str) -> Vec<String> {
    doc.split('\'')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

fn join(segs: &[String]) -> String {
    segs.iter().map(|s| format!("{s}'\n")).collect()
}

fn parse(doc: &str) -> (Box<Interchange>, Validation) {
    let mut units = read_all(doc.as_bytes());
    assert_eq!(units.len(), 1, "one interchange expected");
    let Some(Unit::Interchange(ic)) = units.pop() else {
        panic!("does not parse: {doc}")
    };
    let v = validate(&ic);
    (ic, v)
}

fn contrl_of(doc: &str) -> String {
    let (ic, v) = parse(doc);
    let opts = AckOptions {
        functional: FunctionalAck::None,
        ta1_when_requested: false,
        ta1_on_envelope_error: false,
        now: NaiveDateTime::parse_from_str("2026-03-02 10:00", "%Y-%m-%d %H:%M").expect("now"),
        envelope: None,
    };
    let ctl = AckControls {
        interchange: 5,
        group: 1,
        first_set: 3,
    };
    contrl(&ic, &v, &ctl, &opts)
        .expect("contrl")
        .expect("a CONTRL is due")
}

/// The table's segments in order, each with the groups it is in (outermost first), UNH and
/// UNT left out.
fn leaves<'a>(body: &'a [Node], groups: &mut Vec<&'a str>, out: &mut Vec<(String, Vec<String>)>) {
    for n in body {
        match n {
            Node::Seg { id, .. } if id == "UNH" || id == "UNT" => {}
            Node::Seg { id, .. } => {
                out.push((id.clone(), groups.iter().map(|g| g.to_string()).collect()))
            }
            Node::Loop { id, body, .. } => {
                groups.push(id);
                leaves(body, groups, out);
                groups.pop();
            }
        }
    }
}

fn table_leaves(msg: &str, version: &str) -> Vec<(String, Vec<String>)> {
    let t = edifact::tables().expect("tables");
    let set = t.set(msg, version).expect("table");
    let mut out = Vec::new();
    leaves(&set.body, &mut Vec::new(), &mut out);
    out
}

/// Every group name of a table, in order.
fn group_names(msg: &str, version: &str) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for (_, groups) in table_leaves(msg, version) {
        for g in groups {
            if !names.contains(&g) {
                names.push(g);
            }
        }
    }
    names
}

fn tree_keys(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(o) => o.iter().for_each(|(k, v)| {
            out.push(k.clone());
            tree_keys(v, out);
        }),
        Value::Array(a) => a.iter().for_each(|v| tree_keys(v, out)),
        _ => {}
    }
}

/// Segment groups per message and directory, as the directories number them (the last
/// group's number).
const GROUPS: [(&str, &str, usize); 8] = [
    ("ORDERS", "D96A", 54),
    ("ORDERS", "D01B", 60),
    ("ORDRSP", "D96A", 56),
    ("ORDRSP", "D01B", 56),
    ("DESADV", "D96A", 23),
    ("DESADV", "D01B", 25),
    ("INVOIC", "D96A", 51),
    ("INVOIC", "D01B", 53),
];

#[test]
fn tables_have_the_directories_group_counts() {
    for (msg, dir, n) in GROUPS {
        let version = DIRECTORIES.iter().find(|d| d.0 == dir).expect("dir").1;
        let names = group_names(msg, version);
        // Numbered 1..n in the order of the segment table.
        let want: Vec<String> = (1..=n).map(|i| format!("SG{i}")).collect();
        assert_eq!(names, want, "{msg} {dir}");
    }
}

#[test]
fn full_tables_accept_every_group_of_each_directory() {
    for msg in MESSAGES {
        for (dir, version) in DIRECTORIES {
            let rel = fixture_name(msg, dir);
            let doc = fixture(&rel);
            // The fixture is the directory's table, segment for segment.
            let body: Vec<String> = segments(&doc)[2..segments(&doc).len() - 2]
                .iter()
                .map(|s| s[..3].to_string())
                .collect();
            let table: Vec<String> = table_leaves(msg, version)
                .into_iter()
                .map(|(id, _)| id)
                .collect();
            assert_eq!(body, table, "{rel} is not the {msg} {dir} table in order");
            let (ic, v) = parse(&doc);
            assert!(
                v.issues.is_empty(),
                "{rel}: {:?}",
                v.issues.iter().map(|i| i.to_string()).collect::<Vec<_>>()
            );
            // Every group of the table is a group of the parsed message.
            let set = &ic.groups[0].sets[0];
            let tree = to_tree(&ic, set, tables_for(ic.standard).expect("tables")).expect("tree");
            let mut keys = Vec::new();
            tree_keys(&tree, &mut keys);
            for g in group_names(msg, version) {
                assert!(keys.contains(&g), "{rel}: group {g} not used");
            }
            let ack = contrl_of(&doc);
            assert!(
                ack.contains("+5412345000013:14+5498765000019:14+7'"),
                "{rel}: UCI action 7 expected\n{ack}"
            );
            assert!(!ack.contains("UCM"), "{rel}: {ack}");
        }
    }
}

/// Moves the segments `from..to` of `segs` to just before `at` (indexes before the move);
/// counts do not change, so only the place is wrong. Indexes are positions in the message
/// (UNB is 0, UNH 1, as UCS counts). Returns the document and where the block now starts.
fn moved(segs: &[String], from: usize, to: usize, at: usize) -> (Vec<String>, usize) {
    let mut out: Vec<String> = Vec::new();
    let block: Vec<String> = segs[from..to].to_vec();
    let mut start = 0;
    for (i, s) in segs.iter().enumerate() {
        if i == at {
            start = out.len();
            out.extend(block.iter().cloned());
        }
        if !(from..to).contains(&i) {
            out.push(s.clone());
        }
    }
    (out, start)
}

#[test]
fn a_group_out_of_its_place_is_rejected_with_ucs_code_15() {
    let mut cases = 0;
    for msg in MESSAGES {
        for (dir, version) in DIRECTORIES {
            let rel = fixture_name(msg, dir);
            let segs = segments(&fixture(&rel));
            let unt = segs.len() - 2;
            let table = table_leaves(msg, version);
            for g in group_names(msg, version) {
                // The group's block: its segments, contiguous in the fixture (UNB, UNH first).
                let inside: Vec<usize> = (0..table.len())
                    .filter(|&i| table[i].1.contains(&g))
                    .map(|i| i + 2)
                    .collect();
                let (from, to) = (inside[0], inside[inside.len() - 1] + 1);
                let what = format!("{msg} {dir} {g} ({})", segs[from]);
                // Moved behind the summary section, where no group of the detail can be; a
                // group already last goes in front of BGM instead.
                let (doc, want) = if to < unt {
                    let (out, start) = moved(&segs, from, to, unt);
                    (out, start..start + (to - from))
                } else {
                    let (out, start) = moved(&segs, from, to, 2);
                    // Where the heading's groups cannot take the block, a segment of it is out
                    // of place; where they can, BGM after it is.
                    let bgm = start + (to - from);
                    (out, start..bgm + 1)
                };
                let doc = join(&doc);
                let (_, v) = parse(&doc);
                let first = v
                    .errors()
                    .find(|i| {
                        i.code == Code::UnexpectedSegment || i.code == Code::UnrecognizedSegment
                    })
                    .unwrap_or_else(|| panic!("{what}: accepted out of place"));
                let pos = first.location.set_position.expect("position");
                assert!(
                    want.contains(&pos),
                    "{what}: first misplaced segment at {pos}, expected in {want:?}: {first}"
                );
                let ack = contrl_of(&doc);
                assert!(
                    ack.contains(&format!("UCS+{pos}+15'")),
                    "{what}: want UCS+{pos}+15 in\n{ack}"
                );
                assert!(
                    ack.contains(&format!("UCM+1+{msg}:D:{}:UN+4+", &dir[1..])),
                    "{what}: not rejected\n{ack}"
                );
                cases += 1;
            }
        }
    }
    // Every group of the eight tables was moved.
    assert_eq!(
        cases,
        GROUPS.iter().map(|(_, _, n)| n).sum::<usize>(),
        "cases"
    );
}

/// Inserts `seg` after the first segment that starts with `anchor` and raises UNT's count;
/// returns the document and the inserted segment's position in the message (UNH = 1).
fn inserted(segs: &[String], seg: &str, anchor: &str) -> (String, usize) {
    let mut out = segs.to_vec();
    let at = out
        .iter()
        .position(|s| s.starts_with(anchor))
        .unwrap_or_else(|| panic!("{anchor} not in the fixture"))
        + 1;
    out.insert(at, seg.to_string());
    let unt = out.len() - 2;
    let n: usize = out[unt]
        .split('+')
        .nth(1)
        .and_then(|n| n.parse().ok())
        .expect("UNT count");
    out[unt] = format!("UNT+{}+1", n + 1);
    (join(&out), at)
}

#[test]
fn d01b_segments_and_groups_are_not_d96a_ones() {
    let d96a = segments(&fixture(&fixture_name("ORDERS", "D96A")));
    let d01b_doc = fixture(&fixture_name("ORDERS", "D01B"));
    let d01b = segments(&d01b_doc);
    // D01B's ORDERS header has GIR (after FTX) and the dangerous goods group SG26 (DGS-FTX-
    // SG27 CTA-COM, after the RCS group); D96A has neither.
    let header_ftx = d01b.iter().position(|s| s.starts_with("FTX")).expect("FTX");
    let gir = d01b[header_ftx + 1].clone();
    assert!(gir.starts_with("GIR+"), "D01B header GIR: {gir}");
    let dgs = d01b
        .iter()
        .find(|s| s.starts_with("DGS+"))
        .expect("D01B DGS")
        .clone();
    assert!(parse(&d01b_doc).1.issues.is_empty(), "D01B accepts both");
    // GIR is a D96A ORDERS segment (in the line item group), only not in the header.
    let (doc, pos) = inserted(&d96a, &gir, "FTX");
    let (_, v) = parse(&doc);
    let e = v.errors().next().expect("D96A rejects a header GIR");
    assert_eq!(e.code, Code::UnexpectedSegment, "{e}");
    assert_eq!(e.location.set_position, Some(pos), "{e}");
    assert!(contrl_of(&doc).contains(&format!("UCM+1+ORDERS:D:96A:UN+4+15'UCS+{pos}+15'")));
    // DGS is not in D96A's ORDERS at all.
    let (doc, pos) = inserted(&d96a, &dgs, "RCS");
    let (_, v) = parse(&doc);
    let e = v.errors().next().expect("D96A rejects DGS");
    assert_eq!(e.code, Code::UnrecognizedSegment, "{e}");
    assert_eq!(e.location.set_position, Some(pos), "{e}");
    assert!(contrl_of(&doc).contains(&format!("UCS+{pos}+15'")));
    // The same segments where D01B has them are accepted: the D01B fixture above, and a second
    // DGS group where one is allowed (SG26 C999).
    let (doc, _) = inserted(&d01b, &dgs, "DGS");
    assert!(parse(&doc).1.issues.is_empty(), "two DGS groups in D01B");
    assert!(contrl_of(&doc).contains("+7'"));
}
