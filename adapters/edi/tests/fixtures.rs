//! Every hand-written fixture under fixtures/edi gets the verdict fixtures/edi/EXPECT.txt
//! records, and acknowledgements built for them are themselves valid documents that say the
//! right thing.

use chrono::NaiveDateTime;
use std::path::PathBuf;
use switchyard_edi::ack::{contrl, x12_ack, AckControls, AckOptions, EnvelopeIds, FunctionalAck};
use switchyard_edi::partner::PartyId;
use switchyard_edi::validate::{validate, Validation};
use switchyard_edi::{read_all, Interchange, Issue, Unit};

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/edi")
}

fn load(rel: &str) -> Vec<(Box<Interchange>, Validation)> {
    let bytes = std::fs::read(dir().join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"));
    read_all(&bytes)
        .into_iter()
        .map(|u| match u {
            Unit::Interchange(ic) => {
                let v = validate(&ic);
                (ic, v)
            }
            Unit::Unparseable(i) => panic!("{rel}: unparseable: {i}"),
        })
        .collect()
}

/// The CONTRL for the first interchange of a fixture.
fn contrl_of(rel: &str, ctl: &AckControls) -> String {
    let r = load(rel);
    contrl(&r[0].0, &r[0].1, ctl, &contrl_opts())
        .expect("contrl")
        .expect("due")
}

/// CONTRL needs only the time from the options.
fn contrl_opts() -> AckOptions {
    AckOptions {
        functional: FunctionalAck::None,
        ta1_when_requested: false,
        ta1_on_envelope_error: false,
        now: now(),
        envelope: None,
    }
}

fn now() -> NaiveDateTime {
    NaiveDateTime::parse_from_str("2026-03-02 10:00", "%Y-%m-%d %H:%M").expect("now")
}

#[test]
fn every_fixture_gets_its_expected_verdict() {
    let expect = std::fs::read_to_string(dir().join("EXPECT.txt")).expect("EXPECT.txt");
    let mut listed = Vec::new();
    for line in expect
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
    {
        let (file, want) = line
            .split_once('\t')
            .unwrap_or_else(|| panic!("bad line {line:?}"));
        listed.push(file.to_string());
        let results = load(file);
        assert!(!results.is_empty(), "{file}: no interchange");
        let errors: Vec<&Issue> = results.iter().flat_map(|(_, v)| v.errors()).collect();
        if want == "valid" {
            assert!(
                errors.is_empty(),
                "{file} should be valid: {:#?}",
                errors.iter().map(|i| i.to_string()).collect::<Vec<_>>()
            );
        } else {
            for code in want.split(',') {
                let found = errors.iter().any(|i| {
                    serde_json::to_value(i.code).expect("code") == serde_json::json!(code)
                });
                assert!(
                    found,
                    "{file}: expected a {code} error, got {:#?}",
                    errors.iter().map(|i| i.to_string()).collect::<Vec<_>>()
                );
            }
            // Every error names the segment it is about (or at least its byte offset).
            for e in &errors {
                assert!(
                    e.location.segment_id.is_some() || e.location.byte_offset.is_some(),
                    "{file}: unlocated {e}"
                );
            }
        }
    }
    for sub in ["x12", "edifact"] {
        for entry in std::fs::read_dir(dir().join(sub)).expect("dir") {
            let name = format!(
                "{sub}/{}",
                entry.expect("entry").file_name().to_string_lossy()
            );
            assert!(listed.contains(&name), "{name} has no line in EXPECT.txt");
        }
    }
}

#[test]
fn located_errors_name_set_segment_and_element() {
    let r = load("x12/850_004010_bad_date.edi");
    let e = r[0].1.errors().next().expect("an error");
    assert_eq!(e.location.interchange.as_deref(), Some("000000101"));
    assert_eq!(e.location.group.as_deref(), Some("101"));
    assert_eq!(e.location.set.as_deref(), Some("0001"));
    assert_eq!(e.location.segment_id.as_deref(), Some("BEG"));
    assert_eq!(e.location.set_position, Some(2));
    assert_eq!(e.location.segment_index, Some(4));
    assert_eq!(e.location.element, Some(5));
    let text = e.to_string();
    assert!(
        text.contains("850 0001") && text.contains("BEG05") && text.contains("20260231"),
        "{text}"
    );
}

fn ack_for(rel: &str, functional: FunctionalAck) -> String {
    let r = load(rel);
    let (ic, v) = &r[0];
    let opts = AckOptions {
        functional,
        ta1_when_requested: true,
        ta1_on_envelope_error: true,
        now: now(),
        envelope: None,
    };
    x12_ack(
        ic,
        v,
        &AckControls {
            interchange: 900,
            group: 90,
            first_set: 9,
        },
        &opts,
    )
    .expect("ack")
    .expect("an ack is due")
}

/// Parses an acknowledgement we generated and asserts it validates clean.
fn reparse(doc: &str) -> Box<Interchange> {
    let mut units = read_all(doc.as_bytes());
    let Some(Unit::Interchange(ic)) = units.pop() else {
        panic!("ack does not parse: {doc}")
    };
    let v = validate(&ic);
    assert!(
        v.is_valid(),
        "ack does not validate: {:?}\n{doc}",
        v.issues.iter().map(|i| i.to_string()).collect::<Vec<_>>()
    );
    ic
}

#[test]
fn a_file_wrapped_at_80_columns_is_unwrapped_with_a_warning() {
    let wrapped = load("edifact/ORDERS_D96A_wrapped_80_columns.edi");
    let plain = load("edifact/ORDERS_D96A_good.edi");
    let (ic, v) = &wrapped[0];
    assert!(v.is_valid(), "{:?}", v.issues);
    let warning = ic
        .issues
        .iter()
        .find(|i| i.code == switchyard_edi::Code::WrappedLines)
        .expect("a wrapped-lines warning");
    assert!(warning.message.contains("6 segment(s)"), "{warning}");
    // Same segments as the unwrapped document, element for element.
    let (good, _) = &plain[0];
    assert_eq!(ic.len(), good.len());
    for i in 0..ic.len() {
        assert_eq!(ic.segment(i).bytes, good.segment(i).bytes, "segment {i}");
    }
    // Offsets and lines still point into the file as received: DTM+2:2026|0310 starts on
    // line 2 and its offset is where the file has it.
    let raw = std::fs::read(dir().join("edifact/ORDERS_D96A_wrapped_80_columns.edi")).unwrap();
    let dtm = ic.segment(4);
    assert!(dtm.bytes.starts_with(b"DTM+2:20260310"));
    let at = dtm.offset as usize;
    assert_eq!(&raw[at..at + 10], b"DTM+2:2026");
    assert_eq!(ic.line_of(dtm.offset), 2);
}

#[test]
fn relational_conditions_are_reported_with_ak4_code_2() {
    let r = load("x12/850_004010_relational.edi");
    let errors: Vec<String> = r[0].1.errors().map(|i| i.to_string()).collect();
    assert_eq!(errors.len(), 2, "{errors:#?}");
    assert!(
        errors[0].contains("N103 is present, so N104 is required") && errors[0].contains("P0304"),
        "{errors:#?}"
    );
    assert!(
        errors[1].contains("PO106 is present, so PO107 is required"),
        "{errors:#?}"
    );
    let doc = ack_for("x12/850_004010_relational.edi", FunctionalAck::F997);
    reparse(&doc);
    assert!(
        doc.contains("AK3*N1*13*N1*8~AK4*4**2~AK3*PO1*18*PO1*8~AK4*7**2~AK5*R*5~"),
        "{doc}"
    );
    let doc = ack_for("x12/850_004010_relational.edi", FunctionalAck::F999);
    assert!(
        doc.contains("ST*997"),
        "a 004010 group gets a 997 even from a 999 partner"
    );
}

#[test]
fn accepted_850_gets_997_and_ta1_mirrored() {
    let doc = ack_for("x12/850_004010_good.edi", FunctionalAck::F997);
    let ic = reparse(&doc);
    // ISA sender/receiver swapped, our control number, TA1 because the 850 had ISA14 = 1.
    assert_eq!(ic.header.sender, "SWITCHYARD");
    assert_eq!(ic.header.receiver, "5551234567");
    assert_eq!(ic.header.receiver_qualifier, "12");
    assert_eq!(ic.header.control, "000000900");
    assert!(doc.contains("TA1*000000101*260301*0800*A*000~"), "{doc}");
    assert!(
        doc.contains("GS*FA*SWITCHYARD*5551234567*20260302*1000*90*X*004010~"),
        "{doc}"
    );
    assert!(
        doc.contains("ST*997*0009~AK1*PO*101~AK2*850*0001~AK5*A~AK9*A*1*1*1~SE*6*0009~"),
        "{doc}"
    );
}

#[test]
fn rejected_set_gets_ak3_ak4_and_ak5_r() {
    let doc = ack_for("x12/850_004010_bad_date.edi", FunctionalAck::F997);
    reparse(&doc);
    assert!(
        doc.contains("AK3*BEG*2**8~AK4*5**8*20260231~AK5*R*5~AK9*R*1*1*0~"),
        "{doc}"
    );
    let doc = ack_for("x12/850_004010_bad_se_count.edi", FunctionalAck::F997);
    assert!(doc.contains("AK5*R*4~"), "{doc}");
    let doc = ack_for("x12/850_004010_missing_beg.edi", FunctionalAck::F997);
    assert!(doc.contains("AK3*CUR*2**3~"), "{doc}");
}

#[test]
fn envelope_error_gets_a_rejecting_ta1_and_group_error_an_ak9_code() {
    let doc = ack_for("x12/850_004010_bad_group_count.edi", FunctionalAck::F997);
    reparse(&doc);
    assert!(doc.contains("TA1*000000101*260301*0800*R*021~"), "{doc}");
    assert!(doc.contains("AK9*R*2*1*0*5~"), "{doc}");
}

#[test]
fn partner_asking_for_999_gets_it_for_005010() {
    let doc = ack_for("x12/850_005010_bad_repetition.edi", FunctionalAck::F999);
    let ic = reparse(&doc);
    assert_eq!(
        ic.delimiters.element, b'|',
        "the partner's delimiters are mirrored"
    );
    assert!(doc.contains("ST|999|0009|005010X231A1"), "{doc}");
    // GS08 names the 999's guide too (pyx12 picks its 999 map by it).
    assert!(doc.contains("|90|X|005010X231A1\n"), "{doc}");
    assert!(doc.contains("IK3|PO1|9|PO1|8\nIK4|7||5|YYYY"), "{doc}");
    assert!(doc.contains("IK5|R|5"), "{doc}");
}

#[test]
fn inbound_997_is_not_acknowledged() {
    let r = load("x12/997_004010_good.edi");
    let opts = AckOptions {
        functional: FunctionalAck::F997,
        ta1_when_requested: true,
        ta1_on_envelope_error: true,
        now: now(),
        envelope: None,
    };
    let ack = x12_ack(
        &r[0].0,
        &r[0].1,
        &AckControls {
            interchange: 1,
            group: 1,
            first_set: 1,
        },
        &opts,
    )
    .expect("ack");
    assert_eq!(ack, None);
}

#[test]
fn syntax_4_interchange_with_a_group_gets_contrl_4_1_with_ucf() {
    let ctl = AckControls {
        interchange: 6,
        group: 1,
        first_set: 4,
    };
    let doc = contrl_of("edifact/INVOIC_D01B_syntax4_group.edi", &ctl);
    reparse(&doc);
    assert!(doc.contains("UNB+UNOC:4+"), "{doc}");
    assert!(doc.contains("UNH+4+CONTRL:4:1:UN'"), "{doc}");
    assert!(doc.contains("+7'UCF+GRP1+"), "{doc}");
    assert!(!doc.contains("UCM"), "{doc}");
    // A broken message inside the group: the group's UCF says rejected and carries its UCM.
    let bytes = std::fs::read(dir().join("edifact/INVOIC_D01B_syntax4_group.edi")).unwrap();
    let text = String::from_utf8(bytes)
        .unwrap()
        .replace("DTM+137:20260306:102", "DTM+137:20260231:102");
    let Some(Unit::Interchange(ic)) = read_all(text.as_bytes()).pop() else {
        panic!("parses")
    };
    let v = validate(&ic);
    let doc = contrl(&ic, &v, &ctl, &contrl_opts())
        .expect("contrl")
        .expect("due");
    reparse(&doc);
    let ucf = doc.find("UCF+GRP1+").expect("UCF");
    let ucm = doc.find("UCM+1+INVOIC:D:01B:UN").expect("UCM");
    assert!(ucf < ucm, "the UCM belongs to the group's UCF: {doc}");
    assert!(doc[ucf..ucm].contains("+4'"), "group rejected: {doc}");
}

#[test]
fn contrl_accepts_good_and_reports_located_errors() {
    let ctl = AckControls {
        interchange: 5,
        group: 1,
        first_set: 3,
    };
    let doc = contrl_of("edifact/ORDERS_D96A_good.edi", &ctl);
    let ic = reparse(&doc);
    assert_eq!(ic.header.sender, "5498765000019");
    assert!(
        doc.contains("UCI+ORD0001+5412345000013:14+5498765000019:14+7'"),
        "{doc}"
    );
    assert!(!doc.contains("UCM"), "{doc}");
    let doc = contrl_of("edifact/ORDERS_D96A_bad_date.edi", &ctl);
    reparse(&doc);
    assert!(
        doc.contains("UCM+1+ORDERS:D:96A:UN+4+12'UCS+3'UCD+12+1:2'"),
        "{doc}"
    );
    let doc = contrl_of("edifact/ORDERS_D96A_bad_unz_reference.edi", &ctl);
    // 0085 code 28, references do not match (18 is "unspecified error").
    assert!(
        doc.contains("+4+28'"),
        "interchange rejected with code 28: {doc}"
    );
    // 0085 code 29, control count does not match number of instances received.
    let doc = contrl_of("edifact/ORDERS_D96A_bad_unz_count.edi", &ctl);
    assert!(doc.contains("+4+29'"), "UNZ count: {doc}");
    let doc = contrl_of("edifact/ORDERS_D96A_bad_unt_count.edi", &ctl);
    reparse(&doc);
    assert!(doc.contains("+4+29'UCS+"), "UNT count: {doc}");
}

/// A CTT01 that does not match the line items is not an invalid code value (AK403 = 7): the
/// 997 names the CTT segment in error with no syntax code (element 718 has none for a count),
/// the 999 says IK502 = 5 alone.
#[test]
fn ctt_count_mismatch_is_not_reported_as_an_invalid_code() {
    let doc = ack_for("x12/850_004010_bad_ctt.edi", FunctionalAck::F997);
    reparse(&doc);
    assert!(!doc.contains("AK4"), "{doc}");
    let ak3 = doc
        .split('~')
        .find(|s| s.starts_with("AK3*CTT*"))
        .unwrap_or_else(|| panic!("no AK3 for the CTT: {doc}"));
    assert_eq!(ak3.split('*').nth(4), None, "AK3 without AK304: {ak3}");
    assert!(doc.contains("AK5*R*5~"), "{doc}");
}

/// Options as a partner profile gives them: our identifiers and theirs for an envelope whose
/// own values are invalid.
fn profile_opts(functional: FunctionalAck, us: (&str, &str), them: (&str, &str)) -> AckOptions {
    let party = |(qualifier, id): (&str, &str)| PartyId {
        qualifier: qualifier.into(),
        id: id.into(),
        application: None,
    };
    AckOptions {
        envelope: Some(EnvelopeIds {
            us: party(us),
            them: party(them),
            isa_version: "00401".into(),
            syntax: "UNOC".into(),
            syntax_version: "3".into(),
        }),
        functional,
        ..contrl_opts()
    }
}

fn ctl() -> AckControls {
    AckControls {
        interchange: 7,
        group: 7,
        first_set: 7,
    }
}

/// Issue #10 item 4: an ISA05 of `nn` is answered by a TA1 R/005 in an envelope that names the
/// partner as the profile has them, never with the invalid qualifier echoed into our ISA07.
#[test]
fn an_invalid_isa05_is_answered_with_the_profiles_identifiers() {
    let r = load("x12/850_004010_bad_isa05.edi");
    let (ic, v) = &r[0];
    let mut opts = profile_opts(
        FunctionalAck::F997,
        ("ZZ", "SWITCHYARD"),
        ("12", "5551234567"),
    );
    opts.ta1_on_envelope_error = true;
    let doc = x12_ack(ic, v, &ctl(), &opts).expect("ack").expect("due");
    let ack = reparse(&doc);
    assert_eq!(ack.header.receiver_qualifier, "12", "{doc}");
    assert_eq!(ack.header.receiver, "5551234567", "{doc}");
    assert!(!doc.contains("*nn*"), "{doc}");
    assert!(doc.contains("TA1*000000101*260301*0800*R*005~"), "{doc}");
    // Without a profile there is nothing valid to answer with: an error naming the value.
    let err = x12_ack(
        ic,
        v,
        &ctl(),
        &AckOptions {
            envelope: None,
            ..opts
        },
    )
    .expect_err("no profile");
    let text = err.to_string();
    assert!(text.contains("ISA05") && text.contains("nn"), "{text}");

    // The same for the group: a GS02 too short for the standard is not echoed into our GS03.
    let bytes = std::fs::read(dir().join("x12/850_004010_good.edi")).unwrap();
    let text = String::from_utf8(bytes)
        .unwrap()
        .replace("GS*PO*5551234567*", "GS*PO*X*");
    let Some(Unit::Interchange(ic)) = read_all(text.as_bytes()).pop() else {
        panic!("parses")
    };
    let v = validate(&ic);
    assert!(v
        .errors()
        .any(|i| i.location.segment_id.as_deref() == Some("GS")));
    let doc = x12_ack(&ic, &v, &ctl(), &opts).expect("ack").expect("due");
    reparse(&doc);
    assert!(doc.contains("GS*FA*SWITCHYARD*5551234567*"), "{doc}");
}

/// The same for EDIFACT: `UNB+XXXX:3` gets a CONTRL in our syntax (UCI 4, code 2), not an
/// echo of `XXXX`.
#[test]
fn an_invalid_syntax_identifier_is_answered_in_the_profiles_syntax() {
    let r = load("edifact/ORDERS_D96A_bad_syntax.edi");
    let (ic, v) = &r[0];
    let opts = profile_opts(
        FunctionalAck::None,
        ("14", "5498765000019"),
        ("14", "5412345000013"),
    );
    let doc = contrl(ic, v, &ctl(), &opts).expect("contrl").expect("due");
    reparse(&doc);
    assert!(doc.contains("UNB+UNOC:3+5498765000019:14+"), "{doc}");
    assert!(!doc.contains("XXXX"), "{doc}");
    assert!(doc.contains("+4+2'"), "{doc}");
    assert!(contrl(ic, v, &ctl(), &contrl_opts()).is_err());
}

/// A duplicate interchange gets one answer, at the interchange level: TA1 R/025 and no 997
/// accepting its group; for EDIFACT UCI 4/26 and no UCF/UCM.
#[test]
fn a_duplicate_interchange_gets_only_the_interchange_level_rejection() {
    let r = load("x12/850_004010_duplicate_interchange.edi");
    assert_eq!(r.len(), 2);
    let mut opts = profile_opts(FunctionalAck::F997, ("ZZ", "S"), ("ZZ", "T"));
    opts.ta1_on_envelope_error = false;
    let first = x12_ack(&r[0].0, &r[0].1, &ctl(), &opts)
        .expect("ack")
        .expect("due");
    assert!(first.contains("AK5*A~"), "{first}");
    let doc = x12_ack(&r[1].0, &r[1].1, &ctl(), &opts)
        .expect("ack")
        .expect("a duplicate is answered even when TA1s on errors are off");
    reparse(&doc);
    assert!(doc.contains("TA1*000000101*260301*0800*R*025~"), "{doc}");
    assert!(!doc.contains("GS*") && !doc.contains("AK5"), "{doc}");

    let bytes = std::fs::read(dir().join("edifact/INVOIC_D01B_syntax4_group.edi")).unwrap();
    let twice = [bytes.clone(), bytes].concat();
    let units = read_all(&twice);
    let Some(Unit::Interchange(ic)) = units.into_iter().nth(1) else {
        panic!("two interchanges")
    };
    let v = validate(&ic);
    let doc = contrl(&ic, &v, &ctl(), &contrl_opts())
        .expect("contrl")
        .expect("due");
    reparse(&doc);
    assert!(doc.contains("+4+26'UNT"), "{doc}");
    assert!(!doc.contains("UCF") && !doc.contains("UCM"), "{doc}");
}

/// A duplicate found only against what is already stored (a later input, so the reader saw
/// one copy): marked as such, it gets exactly the answer of a duplicate within one input.
#[test]
fn an_interchange_marked_duplicate_later_gets_the_same_answer() {
    let r = load("x12/850_004010_good.edi");
    let (ic, v) = (&r[0].0, &r[0].1);
    let opts = profile_opts(FunctionalAck::F997, ("ZZ", "S"), ("ZZ", "T"));
    let plain = x12_ack(ic, v, &ctl(), &opts).expect("ack").expect("due");
    assert!(plain.contains("AK5*A~"), "{plain}");
    let mut dv = v.clone();
    switchyard_edi::ack::mark_duplicate(ic, &mut dv);
    switchyard_edi::ack::mark_duplicate(ic, &mut dv);
    assert_eq!(dv.errors().count(), 1, "marked once: {:?}", dv.issues);
    let doc = x12_ack(ic, &dv, &ctl(), &opts).expect("ack").expect("due");
    reparse(&doc);
    assert!(doc.contains("TA1*000000101*260301*0800*R*025~"), "{doc}");
    assert!(!doc.contains("GS*") && !doc.contains("AK5"), "{doc}");

    let r = load("edifact/ORDERS_D96A_good.edi");
    let (ic, v) = (&r[0].0, &r[0].1);
    let mut dv = v.clone();
    switchyard_edi::ack::mark_duplicate(ic, &mut dv);
    let doc = contrl(ic, &dv, &ctl(), &contrl_opts())
        .expect("contrl")
        .expect("due");
    reparse(&doc);
    assert!(doc.contains("+4+26'UNT"), "{doc}");
    assert!(!doc.contains("UCM"), "{doc}");
}
