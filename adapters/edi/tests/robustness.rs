//! No input makes the reader, the validator or the acknowledgement builders panic: random bytes,
//! and fixtures with random bytes overwritten, inserted or cut (a stable-toolchain stand-in for
//! the cargo-fuzz target under fuzz/, running in every `cargo test`).

use chrono::NaiveDate;
use proptest::prelude::*;
use std::path::PathBuf;
use switchyard_edi::ack::{contrl, x12_ack, AckControls, AckOptions, FunctionalAck};
use switchyard_edi::validate::validate;
use switchyard_edi::{read_all, Standard, Unit};

fn seeds() -> Vec<Vec<u8>> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/edi");
    let mut out = Vec::new();
    for sub in ["x12", "edifact"] {
        for e in std::fs::read_dir(dir.join(sub)).expect("fixtures") {
            out.push(std::fs::read(e.expect("entry").path()).expect("read"));
        }
    }
    assert!(out.len() > 40, "fixtures missing");
    out
}

/// Runs everything on `data`; returns how many interchanges were found.
fn exercise(data: &[u8]) -> usize {
    let now = NaiveDate::from_ymd_opt(2026, 1, 1)
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .expect("date");
    let ctl = AckControls {
        interchange: 1,
        group: 1,
        first_set: 1,
    };
    let mut n = 0;
    for unit in read_all(data) {
        match unit {
            Unit::Interchange(ic) => {
                n += 1;
                let v = validate(&ic);
                for issue in &v.issues {
                    assert!(!issue.message.is_empty());
                }
                let opts = AckOptions {
                    functional: FunctionalAck::F999,
                    ta1_when_requested: true,
                    ta1_on_envelope_error: true,
                    now,
                    envelope: None,
                };
                let ack = match ic.standard {
                    Standard::X12 => x12_ack(&ic, &v, &ctl, &opts),
                    Standard::Edifact => contrl(&ic, &v, &ctl, &opts),
                };
                // An acknowledgement, when one can be written, parses again as one interchange.
                if let Ok(Some(doc)) = ack {
                    assert_eq!(read_all(doc.as_bytes()).len(), 1, "{doc}");
                }
            }
            Unit::Unparseable(issue) => assert!(issue.location.byte_offset.is_some()),
        }
    }
    n
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn random_bytes_never_panic(data in proptest::collection::vec(any::<u8>(), 0..2048)) {
        exercise(&data);
    }

    #[test]
    fn mutated_fixtures_never_panic(
        which in 0usize..1000,
        edits in proptest::collection::vec((0usize..10_000, any::<u8>(), 0u8..3), 1..8),
    ) {
        let seeds = seeds();
        let mut data = seeds[which % seeds.len()].clone();
        for (pos, byte, op) in edits {
            if data.is_empty() { break; }
            let p = pos % data.len();
            match op {
                0 => data[p] = byte,
                1 => data.insert(p, byte),
                _ => { data.truncate(p); }
            }
        }
        exercise(&data);
    }
}

#[test]
fn fixtures_themselves_parse() {
    for s in seeds() {
        assert!(exercise(&s) >= 1);
    }
}

#[test]
fn multibyte_characters_in_a_dated_value_are_an_error_not_a_panic() {
    // 12 bytes, the 8th and 9th forming one character: slicing the text at byte 8 would panic.
    let doc = "UNB+UNOC:3+S+R+260101:1200+R1'UNH+1+ORDERS:D:96A:UN'BGM+220+PO1+9'DTM+137:2026010\u{e9}200:203'UNS+S'UNT+5+1'UNZ+1+R1'";
    let units = read_all(doc.as_bytes());
    let Some(Unit::Interchange(ic)) = units.first() else {
        panic!("not parsed")
    };
    let v = validate(ic);
    assert!(
        v.errors()
            .any(|i| i.location.segment_id.as_deref() == Some("DTM")),
        "{:?}",
        v.issues
    );
}

#[test]
fn isa_whose_terminator_is_the_element_separator_is_refused() {
    // Found by the mutation property: ISA16 'T' followed by '*' as "terminator" made every
    // element a segment, and the acknowledgement mirrored the unusable delimiters.
    let doc = "ISA*00*          *00*          *ZZ*A              *ZZ*B              *260101*0000*U*00401*000000001*0*P*T*TA1*000000001*260101*0000*A*000*IEA*0*000000001*";
    let units = read_all(doc.as_bytes());
    assert!(
        matches!(units.first(), Some(Unit::Unparseable(i)) if i.message.contains("not distinct")),
        "{units:?}"
    );
}
