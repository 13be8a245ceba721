//! The X12 structure tables hold the standard's whole transaction set table, version by
//! version (issue #10 item 1: 850, 855, 856, 810, 997, 999): a document that uses any segment or
//! loop the standard allows is accepted with `AK5*A`, and one that puts a segment where its
//! version's table does not allow it gets an `AK3` naming that segment, its position and the
//! loop it landed in.
//!
//! The valid documents are fixtures (`fixtures/edi/x12/{850,855,856,810,997}_00{4,5}010_full_table.edi`
//! and `999_005010_full_table.edi`); those of the 855, 810, 997 and 999 use every segment and
//! loop position of their version's table, the 850 and 856 ones every segment our tables had
//! been missing. Each broken case is made from one of them by moving a single segment, so the
//! only thing wrong with it is that segment's place.

use chrono::NaiveDateTime;
use std::path::PathBuf;
use switchyard_edi::ack::{x12_ack, AckControls, AckOptions, FunctionalAck};
use switchyard_edi::spec::x12::tables;
use switchyard_edi::spec::Node;
use switchyard_edi::validate::validate;
use switchyard_edi::{read_all, Code, Unit};

const V4010: &str = "x12/850_004010_full_table.edi";
const V5010: &str = "x12/850_005010_full_table.edi";
const ASN4010: &str = "x12/856_004010_full_table.edi";
const ASN5010: &str = "x12/856_005010_full_table.edi";
const POA4010: &str = "x12/855_004010_full_table.edi";
const POA5010: &str = "x12/855_005010_full_table.edi";
const INV4010: &str = "x12/810_004010_full_table.edi";
const INV5010: &str = "x12/810_005010_full_table.edi";
const FA4010: &str = "x12/997_004010_full_table.edi";
const FA5010: &str = "x12/997_005010_full_table.edi";
const FA999: &str = "x12/999_005010_full_table.edi";

fn fixture(rel: &str) -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../fixtures/edi")
        .join(rel);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The 997 for a one-interchange document, after asserting it parses.
fn ack_997(doc: &str) -> String {
    let mut units = read_all(doc.as_bytes());
    assert_eq!(units.len(), 1, "one interchange expected");
    let Some(Unit::Interchange(ic)) = units.pop() else {
        panic!("does not parse: {doc}")
    };
    let v = validate(&ic);
    let opts = AckOptions {
        functional: FunctionalAck::F997,
        ta1_when_requested: false,
        ta1_on_envelope_error: true,
        now: NaiveDateTime::parse_from_str("2026-03-02 10:00", "%Y-%m-%d %H:%M").expect("now"),
        // These fixtures' envelopes are valid: nothing needs a profile's identifiers.
        envelope: None,
    };
    let controls = AckControls {
        interchange: 900,
        group: 90,
        first_set: 9,
    };
    x12_ack(&ic, &v, &controls, &opts)
        .expect("ack")
        .expect("an ack is due")
}

#[test]
fn full_tables_accept_every_segment_and_loop_of_each_version() {
    for rel in [
        V4010, V5010, ASN4010, ASN5010, POA4010, POA5010, INV4010, INV5010,
    ] {
        let doc = fixture(rel);
        let mut units = read_all(doc.as_bytes());
        let Some(Unit::Interchange(ic)) = units.pop() else {
            panic!("{rel} does not parse")
        };
        let v = validate(&ic);
        assert!(
            v.issues.is_empty(),
            "{rel}: {:?}",
            v.issues.iter().map(|i| i.to_string()).collect::<Vec<_>>()
        );
        let ack = ack_997(&doc);
        // 005010 acks echo the version in AK203, so match up to it.
        let set = &rel[4..7];
        assert!(ack.contains(&format!("AK2*{set}*0001")), "{rel}: {ack}");
        assert!(ack.contains("~AK5*A~AK9*A*1*1*1~"), "{rel}: {ack}");
        assert!(!ack.contains("AK3*"), "{rel}: {ack}");
    }
    // The segments the issue names are really in the documents, where the standard puts them
    // (a fixture edit that dropped one would otherwise pass unnoticed).
    let v4 = fixture(V4010);
    let header4 = &v4[..v4.find("~PO1*").expect("PO1")];
    for seg in [
        "SI", "LIN", "PAM", "TC2", "DIS", "INC", "LDT", "PCT", "CTB", "AMT", "LM", "SPI", "ADV",
    ] {
        assert!(
            header4.contains(&format!("~{seg}*")),
            "004010 header lacks {seg}"
        );
    }
    let v5 = fixture(V5010);
    let n9 = &v5[v5.find("~N9*").expect("N9")..v5.find("~N1*").expect("N1")];
    for seg in ["MTX", "PWK", "EFI"] {
        assert!(
            n9.contains(&format!("~{seg}*")),
            "005010 N9 loop lacks {seg}"
        );
    }
}

/// Moves the first `seg` segment (matched by its text, without the terminator) to just after
/// the first segment whose text is `after` (or before it, when `before` is true); the segment
/// count does not change, so only the place is wrong. Returns the document and the moved
/// segment's position in the set (ST = 1), which `AK302` must report.
fn moved(doc: &str, seg: &str, anchor: &str, before: bool) -> (String, usize) {
    let mut segs: Vec<&str> = doc.split('~').collect();
    let from = segs
        .iter()
        .position(|s| *s == seg)
        .unwrap_or_else(|| panic!("{seg} not in the fixture"));
    let s = segs.remove(from);
    let at = segs
        .iter()
        .position(|s| *s == anchor)
        .unwrap_or_else(|| panic!("{anchor} not in the fixture"));
    let to = if before { at } else { at + 1 };
    segs.insert(to, s);
    let st = segs.iter().position(|s| s.starts_with("ST*")).expect("ST");
    (segs.join("~"), to - st + 1)
}

/// Inserts `seg` after `anchor` and raises SE01 by one.
fn inserted(doc: &str, seg: &str, anchor: &str) -> (String, usize) {
    let mut segs: Vec<String> = doc.split('~').map(str::to_string).collect();
    let at = segs
        .iter()
        .position(|s| s == anchor)
        .unwrap_or_else(|| panic!("{anchor} not in the fixture"))
        + 1;
    segs.insert(at, seg.to_string());
    let se = segs.iter().position(|s| s.starts_with("SE*")).expect("SE");
    let parts: Vec<&str> = segs[se].split('*').collect();
    let n: usize = parts[1].parse().expect("SE01");
    segs[se] = format!("SE*{}*{}", n + 1, parts[2]);
    let st = segs.iter().position(|s| s.starts_with("ST*")).expect("ST");
    (segs.join("~"), at - st + 1)
}

/// (what, (document, position of the reported segment), segment id, loop the walk is in
/// when it meets the segment, AK304).
type Case = (
    &'static str,
    (String, usize),
    &'static str,
    &'static str,
    &'static str,
);

/// Each case's 997 rejects the set with the expected `AK3`.
fn assert_ak3(cases: Vec<Case>) {
    for (what, (doc, pos), seg, loop_id, code) in cases {
        let ack = ack_997(&doc);
        let want = format!("AK3*{seg}*{pos}*{loop_id}*{code}~");
        assert!(ack.contains(&want), "{what}: want {want} in\n{ack}");
        assert!(ack.contains("AK5*R"), "{what}: not rejected\n{ack}");
    }
}

#[test]
fn a_misplaced_segment_in_each_group_gets_the_right_ak3() {
    let v4 = fixture(V4010);
    let v5 = fixture(V5010);
    // (what, document, segment id, loop the walk is in when it meets the segment, AK304)
    // AK304 2 = unexpected segment (defined in this set, not here); 1 = unrecognized (not in
    // this version's table at all).
    let cases: Vec<Case> =
        vec![
        (
            "header SI after TD5 (its place is before PID)",
            moved(&v4, "SI*VI*ZZ*PROMO-7", "TD5*O*2*UPSN*M*UPS GROUND", false),
            "SI",
            "",
            "2",
        ),
        (
            "header PAM after DTM (its place is before CSH)",
            moved(&v4, "PAM*01*12*EA", "DTM*002*20260315", false),
            "PAM",
            "",
            "2",
        ),
        (
            "AMT loop: FA2 before its FA1",
            moved(&v4, "FA2*58*1234567", "FA1*DZ*A170", true),
            "FA2",
            "AMT",
            "2",
        ),
        (
            "LM loop: LQ before its LM",
            moved(&v4, "LQ*0*ABC", "LM*AG", true),
            "LQ",
            "N1",
            "2",
        ),
        (
            "SPI loop: G61 in the CB1 loop instead of the N1 loop",
            moved(&v4, "G61*IC*JOE SMITH", "CB1*AB*Y", false),
            "G61",
            "CB1",
            "2",
        ),
        (
            "ADV loop: MTX before its ADV",
            moved(&v4, "MTX*GEN*ADVERTISING TEXT", "ADV*01*AB*12", true),
            "MTX",
            "CB1",
            "2",
        ),
        (
            "004010 N9 loop: MTX (a 005010 position)",
            inserted(&v4, "MTX*GEN*NOTE", "MSG*HANDLE WITH CARE"),
            "MTX",
            "N9",
            "2",
        ),
        (
            // Not in this version's set at all: 718 code 6, not in defined transaction set.
            "004010 N1 loop: IN2 (005010 only)",
            inserted(&v4, "IN2*01*JANE", "N1*BT*ACME RETAIL*92*0001"),
            "IN2",
            "N1",
            "6",
        ),
        (
            "PO1 loop: CN1 after PID (its place is before PO3)",
            moved(&v4, "CN1*01*10", "PID*F****FLAT BAR A36 1X1/4 20FT", false),
            "CN1",
            "PID",
            "2",
        ),
        (
            "PO1 loop: TC2 inside the SCH loop (its place is after DTM)",
            moved(&v4, "TC2*A*STEEL", "SCH*6*EA***002*20260320", false),
            "TC2",
            "SCH",
            "2",
        ),
        (
            "SLN loop: PID inside the SLN's N9 loop",
            moved(
                &v4,
                "PID*F****SUBLINE DESCRIPTION",
                "N9*ZZ*SLN-NOTES",
                false,
            ),
            "PID",
            "N9",
            "2",
        ),
        (
            "005010 N9 loop: MTX after EFI",
            moved(&v5, "MTX*GEN*HANDLE WITH CARE", "EFI*05*DRAWING-1.PDF", false),
            "MTX",
            "N9",
            "2",
        ),
        (
            "005010 header: LDT where 004010 has it starts the LDT loop early, LIN then is late",
            {
                // The error is on the segment after the moved one.
                let (doc, pos) = moved(&v5, "LDT*AE*10*DA", "DTM*002*20260315", false);
                (doc, pos + 1)
            },
            "LIN",
            "LDT",
            "2",
        ),
    ];
    assert_ak3(cases);
}

#[test]
fn a_misplaced_segment_in_each_856_group_gets_the_right_ak3() {
    let a4 = fixture(ASN4010);
    let a5 = fixture(ASN5010);
    let cases: Vec<Case> = vec![
        (
            "HL: TSD after REF (its place is before)",
            moved(&a4, "TSD*ROUTE-7", "REF*BM*BOL-88812", false),
            "TSD",
            "HL",
            "2",
        ),
        (
            "HL: PAL inside the N1 loop",
            moved(&a4, "PAL*4*2*3*6", "N1*ST*ACME DC 7*92*0007", false),
            "PAL",
            "N1",
            "2",
        ),
        (
            "LH1 loop: LH2 after LHR",
            moved(&a4, "LH2*DIESEL FUEL*A", "LHR*HM*12345", false),
            "LH2",
            "LH1",
            "2",
        ),
        (
            "CLD loop: DTP before its CLD",
            moved(&a4, "DTP*036*D8*20270101", "CLD*2*12*CTN25", true),
            "DTP",
            "LH1",
            "2",
        ),
        (
            "V1 loop: R4 before its V1",
            moved(&a4, "R4*L*UN*USCHI*CHICAGO", "V1*9876543*VESSEL ONE", true),
            "R4",
            "LM",
            "2",
        ),
        (
            // Not in this version's set at all: 718 code 6, not in defined transaction set.
            "004010 HL: AT9 (a 005010 TD3 loop segment)",
            inserted(&a4, "AT9*1234*10*20", "TD3*TL**TRAILER1"),
            "AT9",
            "HL",
            "6",
        ),
        (
            "005010 HL: AT9 before its TD3",
            moved(&a5, "AT9*1234*10*20", "TD3*TL**TRAILER1", true),
            "AT9",
            "HL",
            "2",
        ),
    ];
    assert_ak3(cases);
}

/// Every segment id of a table, loops included, in table order.
fn table_ids(body: &[Node], out: &mut Vec<String>) {
    for n in body {
        match n {
            Node::Seg { id, .. } => out.push(id.clone()),
            Node::Loop { body, .. } => table_ids(body, out),
        }
    }
}

/// The 855, 810, 997 and 999 fixtures use every position of their version's table: each
/// segment the table has occurs in the document (as often as the table has it, at least), so
/// a table entry no fixture exercises cannot creep in.
#[test]
fn the_855_810_997_999_fixtures_use_every_position_of_their_table() {
    let t = tables().expect("x12 tables");
    for (rel, set, version) in [
        (POA4010, "855", "004010"),
        (POA5010, "855", "005010"),
        (INV4010, "810", "004010"),
        (INV5010, "810", "005010"),
        (FA4010, "997", "004010"),
        (FA5010, "997", "005010"),
        (FA999, "999", "005010X231A1"),
    ] {
        let doc = fixture(rel);
        let mut ids = Vec::new();
        table_ids(&t.set(set, version).expect("table").body, &mut ids);
        let tags: Vec<&str> = doc
            .split('~')
            .map(|s| s.trim().split('*').next().unwrap_or(""))
            .collect();
        for id in &ids {
            let want = ids.iter().filter(|i| *i == id).count();
            let have = tags.iter().filter(|t| *t == id).count();
            assert!(
                have >= want,
                "{rel}: {id} {have} times, the table has it {want} times"
            );
        }
    }
}

/// Inbound 997 and 999 get no acknowledgement; they are accepted when our validator finds
/// nothing, and a misplaced segment is an unexpected-segment error naming it.
#[test]
fn acknowledgement_tables_accept_every_position_and_reject_a_misplaced_segment() {
    let issues = |doc: &str| -> Vec<(Code, Option<String>)> {
        let mut units = read_all(doc.as_bytes());
        let Some(Unit::Interchange(ic)) = units.pop() else {
            panic!("does not parse: {doc}")
        };
        validate(&ic)
            .errors()
            .map(|i| (i.code, i.location.segment_id.clone()))
            .collect()
    };
    for rel in [FA4010, FA5010, FA999] {
        assert_eq!(issues(&fixture(rel)), [], "{rel}");
    }
    let a4 = fixture(FA4010);
    let a5 = fixture(FA5010);
    let i5 = fixture(FA999);
    for (what, doc, seg) in [
        (
            "997 004010: AK4 before its AK3",
            moved(&a4, "AK4*3*324*1", "AK3*BEG*2**8", true).0,
            "AK4",
        ),
        (
            "997 005010: AK3 after its AK5",
            moved(&a5, "AK3*ZZZ*14**1", "AK5*R*5", false).0,
            "AK3",
        ),
        (
            "999: CTX of the IK3 loop before its IK3",
            moved(&i5, "CTX*LINE NUMBER>2*PO1*7", "IK3*PO1*7**8", true).0,
            "CTX",
        ),
        (
            "999: IK4 after IK5",
            moved(&i5, "IK4*2*330*I12*0", "IK5*R*5", false).0,
            "IK4",
        ),
    ] {
        let got = issues(&doc);
        assert!(
            got.contains(&(Code::UnexpectedSegment, Some(seg.to_string()))),
            "{what}: {got:?}"
        );
    }
}

#[test]
fn a_misplaced_segment_in_each_855_group_gets_the_right_ak3() {
    let p4 = fixture(POA4010);
    let p5 = fixture(POA5010);
    let cases: Vec<Case> = vec![
        (
            "header DIS after LDT (its place is before INC)",
            moved(&p4, "DIS*PRO*AB*2*PC*100", "LDT*AE*10*DA", false),
            "DIS",
            "",
            "2",
        ),
        (
            "header N1 loop: NX2 inside the ADV loop",
            moved(&p4, "NX2*04*SPRINGFIELD", "ADV*01*AB*12", false),
            "NX2",
            "ADV",
            "2",
        ),
        (
            "004010 ADV loop: MTX before its ADV",
            moved(&p4, "MTX*GEN*HANDLE WITH CARE", "ADV*01*AB*12", true),
            "MTX",
            "N1",
            "2",
        ),
        (
            "PO1 loop: IT8 after SDQ (its place is before CSH)",
            moved(&p4, "IT8*N*N", "SDQ*EA*92*0007*12", false),
            "IT8",
            "PO1",
            "2",
        ),
        (
            // Not in this version's set at all: 718 code 6.
            "004010 header N1 loop: IN2 (005010 only)",
            inserted(&p4, "IN2*01*JANE", "N1*ST*ACME DC 7*92*0007"),
            "IN2",
            "N1",
            "6",
        ),
        (
            "005010 N9 loop: EFI before PWK",
            moved(&p5, "EFI*05*DRAWING-1.PDF", "PWK*BY*EL", true),
            "EFI",
            "",
            "2",
        ),
        (
            "005010 header N1 loop: IN2 after N3 (its place is before)",
            moved(&p5, "IN2*01*JANE", "N3*100 MAIN ST", false),
            "IN2",
            "N1",
            "2",
        ),
    ];
    assert_ak3(cases);
}

#[test]
fn a_misplaced_segment_in_each_810_group_gets_the_right_ak3() {
    let i4 = fixture(INV4010);
    let i5 = fixture(INV5010);
    let cases: Vec<Case> = vec![
        (
            "header NTE after CUR (its place is before)",
            moved(&i4, "NTE*GEN*PLEASE REMIT BY WIRE", "CUR*SE*USD", false),
            "NTE",
            "",
            "2",
        ),
        (
            "header N1 loop: DMG after ITD",
            moved(&i4, "DMG*D8*19800101", "ITD*01*3*2**30", false),
            "DMG",
            "",
            "2",
        ),
        (
            "header L7 after BAL (its place is before)",
            moved(&i4, "L7*1*UFC*100*1*1234", "BAL*M*TT*1250.00", false),
            "L7",
            "",
            "2",
        ),
        (
            "header BAL inside the LM loop",
            moved(&i4, "BAL*M*TT*1250.00", "LQ*0*ABC", false),
            "BAL",
            "LM",
            "2",
        ),
        (
            "IT1 loop: CRC after QTY (its place is right after IT1)",
            moved(&i4, "CRC*ZZ*Y*01", "QTY*01*12", false),
            "CRC",
            "IT1",
            "2",
        ),
        (
            "IT1 loop: SR inside the SAC loop",
            moved(&i4, "SR*1*ROUTE7", "SAC*C*D240***500", false),
            "SR",
            "SAC",
            "2",
        ),
        (
            // The 004010 810 has CRC in the IT1 loop only; 005010 adds it to the heading.
            "004010 header: CRC (a 005010 heading position)",
            inserted(&i4, "CRC*ZZ*Y*01", "PAM*01*12*EA"),
            "CRC",
            "",
            "2",
        ),
        (
            "005010 header CRC inside the LM loop",
            moved(&i5, "CRC*ZZ*Y*01", "LQ*0*ABC", false),
            "CRC",
            "LM",
            "2",
        ),
    ];
    assert_ak3(cases);
}

/// Element lengths and counts are the version's own: a value only 005010 allows (REF02 of
/// 40 characters, N407) is, in a 004010 set, the element error the validator reports for any
/// too-long element or extra element (AK4 code 5, code 3), while the same segment in a
/// 005010 set is accepted.
#[test]
fn an_element_only_005010_allows_is_an_element_error_in_004010() {
    let long_ref = format!("REF*VN*{}", "X".repeat(40));
    let with_n407 = "N4*SPRINGFIELD*IL*62702*US***IL";
    for (rel, v5010) in [(POA4010, false), (POA5010, true)] {
        let doc = fixture(rel);
        for (old, new, ak4) in [
            ("REF*VN*SO-1001", long_ref.as_str(), "AK4*2**5*"),
            ("N4*SPRINGFIELD*IL*62702*US", with_n407, "AK4*7**3"),
        ] {
            // The first one: the heading's (REF) or the heading N1 loop's (N4).
            assert!(doc.contains(&format!("~{old}~")), "{rel}: {old}");
            let changed = doc.replacen(&format!("~{old}~"), &format!("~{new}~"), 1);
            let ack = ack_997(&changed);
            if v5010 {
                assert!(ack.contains("~AK5*A~"), "{rel} {new}: {ack}");
                assert!(!ack.contains("AK3*"), "{rel} {new}: {ack}");
            } else {
                let seg = &new[..new.find('*').expect("tag")];
                assert!(ack.contains(&format!("~AK3*{seg}*")), "{rel} {new}: {ack}");
                assert!(ack.contains(ak4), "{rel} {new}: want {ak4} in {ack}");
                assert!(ack.contains("~AK5*R*5~"), "{rel} {new}: {ack}");
            }
        }
    }
}
