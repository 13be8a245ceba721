//! The EDI tree both ways over every valid fixture and golden file: parse → `to_tree` →
//! `from_tree` gives back the body segments exactly, and enveloped again with the writers they
//! re-parse, validate clean and give the same tree. A property test pushes random free text
//! (with delimiter and release characters) through tree → writer → parser → tree.

use proptest::prelude::*;
use serde_json::{json, Value};
use std::path::PathBuf;
use switchyard_edi::syntax::{decode, unescape, Split};
use switchyard_edi::tree::{from_tree, tables_for, to_tree, BodySegment};
use switchyard_edi::validate::validate;
use switchyard_edi::writer::{EdifactWriter, IsaFields, UnbFields, X12Writer};
use switchyard_edi::{read_all, Delimiters, Interchange, Standard, TxSet, Unit};

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/edi")
}

/// Every fixture EXPECT.txt calls valid, plus every golden file.
fn valid_files() -> Vec<PathBuf> {
    let expect = std::fs::read_to_string(fixtures().join("EXPECT.txt")).expect("EXPECT.txt");
    let mut files: Vec<PathBuf> = expect
        .lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| l.split_once('\t'))
        .filter(|(_, v)| v.trim() == "valid")
        .map(|(f, _)| fixtures().join(f))
        .collect();
    let mut golden: Vec<PathBuf> = std::fs::read_dir(fixtures().join("golden"))
        .expect("golden dir")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "edi"))
        .collect();
    golden.sort();
    files.extend(golden);
    files
}

fn interchanges(bytes: &[u8]) -> Vec<Interchange> {
    read_all(bytes)
        .into_iter()
        .filter_map(|u| match u {
            Unit::Interchange(ic) => Some(*ic),
            Unit::Unparseable(_) => None,
        })
        .collect()
}

type Norm = (String, Vec<Vec<Vec<String>>>);

fn trim(mut els: Vec<Vec<Vec<String>>>) -> Vec<Vec<Vec<String>>> {
    for reps in &mut els {
        for comps in reps.iter_mut() {
            while comps.last().is_some_and(String::is_empty) {
                comps.pop();
            }
        }
        if reps.iter().all(Vec::is_empty) {
            reps.clear();
        }
    }
    while els.last().is_some_and(Vec::is_empty) {
        els.pop();
    }
    els
}

/// A decimal number written with the UNA's comma, as the tree shows it (with a point).
fn point(v: String, decimal: u8) -> String {
    let number = v.split_once(decimal as char).is_some_and(|(a, b)| {
        a.trim_start_matches('-')
            .bytes()
            .all(|c| c.is_ascii_digit())
            && !b.is_empty()
            && b.bytes().all(|c| c.is_ascii_digit())
    });
    if decimal != b'.' && number {
        v.replace(decimal as char, ".")
    } else {
        v
    }
}

/// The body of `set` as tags × elements × repetitions × components.
fn parsed_body(ic: &Interchange, set: &TxSet) -> Vec<Norm> {
    let d = ic.delimiters;
    (set.header + 1..set.trailer.expect("trailer"))
        .map(|i| {
            let seg = ic.segment(i);
            let els = seg
                .elements()
                .map(|raw| {
                    let reps: Vec<&[u8]> = match d.repetition {
                        Some(r) => Split::new(raw, r, d.release).collect(),
                        None => vec![raw],
                    };
                    reps.into_iter()
                        .map(|rep| {
                            Split::new(rep, d.component, d.release)
                                .map(|c| decode(&unescape(c, d.release)).into_owned())
                                .map(|v| point(v, d.decimal))
                                .collect()
                        })
                        .collect()
                })
                .collect();
            (seg.id().to_string(), trim(els))
        })
        .collect()
}

/// `body` as [`parsed_body`] shows it (decimal commas read as points on both sides).
fn written_body(body: &[BodySegment], decimal: u8) -> Vec<Norm> {
    body.iter()
        .map(|s| {
            let els = s
                .elements
                .iter()
                .map(|reps| {
                    reps.iter()
                        .map(|c| c.iter().map(|v| point(v.clone(), decimal)).collect())
                        .collect()
                })
                .collect();
            (s.tag.clone(), trim(els))
        })
        .collect()
}

/// `body` in a fresh envelope with `ic`'s delimiters and header values.
fn envelope(ic: &Interchange, set: &TxSet, body: &[BodySegment]) -> String {
    match ic.standard {
        Standard::X12 => {
            let mut w = X12Writer::new(ic.delimiters);
            let h = &ic.header;
            w.isa(&IsaFields {
                sender_qualifier: h.sender_qualifier.clone(),
                sender: h.sender.clone(),
                receiver_qualifier: h.receiver_qualifier.clone(),
                receiver: h.receiver.clone(),
                date: h.date.clone(),
                time: h.time.clone(),
                version: h.syntax_version.clone(),
                control: h.control.parse().expect("ISA13"),
                ack_requested: false,
                test: h.test,
            })
            .expect("isa");
            let g = &ic.groups[0];
            w.gs(
                &g.functional_id,
                &g.sender,
                &g.receiver,
                "20260304",
                "0915",
                7,
                &set.version,
            )
            .expect("gs");
            w.st(&set.set_type, &set.control, None).expect("st");
            for s in body {
                w.body(s).expect("body segment");
            }
            w.se().expect("se");
            w.ge().expect("ge");
            w.iea().expect("iea");
            w.finish()
        }
        Standard::Edifact => {
            let mut w = EdifactWriter::new(ic.delimiters, ic.una);
            let h = &ic.header;
            let (syntax, sv) = h.syntax_version.split_once(':').expect("syntax id:version");
            w.unb(&UnbFields {
                syntax: syntax.into(),
                syntax_version: sv.into(),
                sender: h.sender.clone(),
                sender_qualifier: h.sender_qualifier.clone(),
                receiver: h.receiver.clone(),
                receiver_qualifier: h.receiver_qualifier.clone(),
                date: h.date.clone(),
                time: h.time.clone(),
                control: h.control.clone(),
                ack_requested: false,
                test: false,
            })
            .expect("unb");
            let ver: Vec<&str> = set.version.split(':').collect();
            let mut msg = vec![set.set_type.as_str()];
            msg.extend(ver.iter().take(3));
            w.unh(&set.control, &msg).expect("unh");
            for s in body {
                w.body(s).expect("body segment");
            }
            w.unt().expect("unt");
            w.unz().expect("unz");
            w.finish()
        }
    }
}

#[test]
fn every_valid_fixture_and_golden_file_round_trips_through_the_tree() {
    let mut sets = 0;
    let mut types = std::collections::BTreeSet::new();
    for file in valid_files() {
        let name = file.display().to_string();
        let bytes = std::fs::read(&file).expect("fixture");
        for ic in interchanges(&bytes) {
            let tables = tables_for(ic.standard).expect("tables");
            for g in &ic.groups {
                for set in &g.sets {
                    let tree = to_tree(&ic, set, tables)
                        .unwrap_or_else(|e| panic!("{name} {}: {e}", set.set_type));
                    let body = from_tree(&tree, ic.standard, &set.set_type, &set.version)
                        .unwrap_or_else(|e| panic!("{name} {}: {e}", set.set_type));
                    assert_eq!(
                        written_body(&body, ic.delimiters.decimal),
                        parsed_body(&ic, set),
                        "{name} {}: from_tree(to_tree(set)) differs from the set",
                        set.set_type
                    );
                    let text = envelope(&ic, set, &body);
                    let again = interchanges(text.as_bytes());
                    assert_eq!(again.len(), 1, "{name}: {text}");
                    let v = validate(&again[0]);
                    assert!(
                        v.is_valid(),
                        "{name} {} re-enveloped does not validate: {:#?}\n{text}",
                        set.set_type,
                        v.errors().collect::<Vec<_>>()
                    );
                    let set2 = &again[0].groups[0].sets[0];
                    let tree2 = to_tree(&again[0], set2, tables).expect("tree again");
                    assert_eq!(tree2, tree, "{name} {}: tree changed", set.set_type);
                    sets += 1;
                    types.insert(set.set_type.clone());
                }
            }
        }
    }
    let types: Vec<String> = types.into_iter().collect();
    assert_eq!(
        types,
        [
            "810", "850", "855", "856", "997", "999", "CONTRL", "DESADV", "INVOIC", "ORDERS",
            "ORDRSP"
        ],
        "every fixture set type is covered"
    );
    assert!(sets >= 32, "only {sets} sets");
}

fn fixture_set(path: &str) -> (Interchange, Value) {
    let bytes = std::fs::read(fixtures().join(path)).expect("fixture");
    let ic = interchanges(&bytes)
        .into_iter()
        .next()
        .expect("interchange");
    let set = ic.groups[0].sets[0].clone();
    let tree = to_tree(&ic, &set, tables_for(ic.standard).expect("tables")).expect("tree");
    (ic, tree)
}

fn round_trip(ic: &Interchange, tree: &Value) -> Value {
    let set = &ic.groups[0].sets[0];
    let body = from_tree(tree, ic.standard, &set.set_type, &set.version).expect("from_tree");
    let text = envelope(ic, set, &body);
    let again = interchanges(text.as_bytes());
    let v = validate(&again[0]);
    assert!(
        v.is_valid(),
        "{:#?}\n{text}",
        v.errors().collect::<Vec<_>>()
    );
    let set2 = &again[0].groups[0].sets[0];
    to_tree(&again[0], set2, tables_for(ic.standard).expect("tables")).expect("tree again")
}

#[test]
fn x12_refuses_a_delimiter_in_an_identifier() {
    let (ic, mut tree) = fixture_set("x12/850_004010_good.edi");
    tree["BEG"]["03"] = json!("PO*1");
    let set = &ic.groups[0].sets[0];
    let body = from_tree(&tree, ic.standard, "850", &set.version).expect("from_tree");
    let mut w = X12Writer::new(Delimiters::X12_DEFAULT);
    let beg = body.iter().find(|s| s.tag == "BEG").expect("BEG");
    let e = w.body(beg).expect_err("delimiter refused").to_string();
    assert!(e.contains("BEG element 3"), "{e}");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// EDIFACT: any text, release and separator characters included, comes back unchanged.
    #[test]
    fn edifact_text_with_separators_round_trips(name in "[A-Za-z0-9+:'?*Ü][A-Za-z0-9 +:'?*Ü.]{0,30}[A-Za-z0-9+:'?*Ü]") {
        let (ic, mut tree) = fixture_set("edifact/ORDERS_D96A_good.edi");
        tree["SG2"][2]["NAD"]["04"] = json!([name.clone()]);
        tree["FTX"][0]["04"] = json!([name.clone(), "B"]);
        let back = round_trip(&ic, &tree);
        prop_assert_eq!(&back["SG2"][2]["NAD"]["04"], &json!([name]));
        prop_assert_eq!(back, tree);
    }

    /// X12 free text: delimiters become spaces, the value is fitted to the element's length.
    #[test]
    fn x12_free_text_is_fitted_and_cleaned(name in "[A-Za-z0-9][A-Za-z0-9 *~>^]{0,80}") {
        let (ic, mut tree) = fixture_set("x12/850_004010_good.edi");
        tree["N1_loop"][0]["N1"]["02"] = json!({"text": name.clone()});
        let back = round_trip(&ic, &tree);
        let expected: String = name
            .chars()
            .map(|c| if "*~>".contains(c) { ' ' } else { c })
            .take(60)
            .collect::<String>()
            .trim_end()
            .to_string();
        prop_assert_eq!(&back["N1_loop"][0]["N1"]["02"], &json!(expected));
    }
}
