//! The one table from our error kinds ([`Code`]) to the codes acknowledgements carry. Every
//! builder in [`crate::ack`] asks here; nothing else in the crate names an acknowledgement code.
//!
//! The code lists, from the standards (not from any translator's output):
//!
//! * X12 data element 717, Transaction Set Syntax Error Code (AK502-AK506 / IK502-IK506):
//!   1 transaction set not supported, 2 trailer missing, 3 control number in header and trailer
//!   do not match, 4 number of included segments does not match actual count, 5 one or more
//!   segments in error, 23 control number not unique within the functional group.
//! * X12 data element 718, Segment Syntax Error Code (AK304 / IK304): 1 unrecognized segment
//!   ID, 2 unexpected segment, 3 mandatory segment missing, 4 loop occurs over maximum times,
//!   5 segment exceeds maximum use, 6 segment not in defined transaction set, 7 segment not in
//!   proper sequence, 8 segment has data element errors.
//! * X12 data element 723, Data Element Syntax Error Code (AK403 / IK403): 1 mandatory data
//!   element missing, 2 conditional required data element missing, 3 too many data elements,
//!   4 too short, 5 too long, 6 invalid character in data element, 7 invalid code value,
//!   8 invalid date, 9 invalid time, 10 exclusion condition violated; from 004020 on also
//!   12 too many repetitions and 13 too many components (the 004010 list stops at 10).
//! * X12 data element 716, Functional Group Syntax Error Code (AK905-AK909): 3 functional group
//!   trailer missing, 4 group control number in header and trailer do not agree, 5 number of
//!   included transaction sets does not match actual count.
//! * X12 interchange element I18, Interchange Note Code (TA105): 001 control numbers do not
//!   match, 005-008 invalid sender/receiver qualifier and id, 010-013 invalid authorization /
//!   security qualifier and value, 014 date, 015 time, 016 standards identifier, 017 version,
//!   018 control number, 019 acknowledgment requested, 020 test indicator, 021 number of
//!   included groups, 022 invalid control structure, 023 premature end of file, 024 invalid
//!   interchange content, 025 duplicate interchange control number, 027 invalid component
//!   element separator.
//! * UN/EDIFACT code list 0085, Syntax error, coded (CONTRL UCI0085 / UCF / UCM / UCS / UCD):
//!   2 syntax version or level not supported, 12 invalid value, 13 missing, 15 not supported in
//!   this position, 16 too many constituents, 17 no agreement, 18 unspecified error, 21 invalid
//!   character(s), 26 duplicate detected, 28 references do not match, 29 control count does not
//!   match number of instances received, 33 invalid occurrence outside message, package or
//!   group, 35 too many segment repetitions, 36 too many segment group repetitions, 37 invalid
//!   type of character(s), 39 data element too long, 40 data element too short.
//!
//! Every match below is exhaustive over [`Code`] (no `_` arm), so a new error kind does not
//! compile until someone has looked it up in these lists; the table test in this module pins
//! each kind to its code.

use crate::report::Code;

/// Where an issue inside a transaction set lands in a 997 / 999, with its code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum X12Note {
    /// AK502 / IK502 (element 717); no AK3.
    Set(&'static str),
    /// AK3 / IK3 with this AK304 / IK304 (element 718), no AK4. `None`: the segment is in error
    /// but no 718 code says how (a CTT01 line count that does not match is not a syntax error
    /// the list names); the 997 sends the AK3 without its optional AK304, the 999 (whose
    /// implementation guide requires IK304) says it in IK502 = 5 alone.
    Segment(Option<&'static str>),
    /// AK4 / IK4 with this AK403 / IK403 (element 723), under an AK3 with AK304 = 8.
    Element(&'static str),
    /// A tolerated deviation: never an error, never in an acknowledgement.
    NotReported,
}

/// Where the issue sits, as far as the code depends on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct X12Site {
    /// The issue is on the SE trailer (SE01 count, SE02 control number).
    pub at_trailer: bool,
    /// The issue names a component of a composite.
    pub component: bool,
    /// The acknowledged group is 005010 (element 723 has codes 12 and 13 from 004020 on).
    pub v5010: bool,
    /// An unrecognized segment's tag is a segment of the X12 dictionary (718 code 6 rather
    /// than 1).
    pub known_tag: bool,
}

/// Element 717 / 718 / 723 for an issue inside a transaction set.
pub fn x12_note(code: Code, at: X12Site) -> X12Note {
    use X12Note::*;
    match code {
        Code::ByteOrderMark | Code::IsaNotFixedWidth | Code::WrappedLines => NotReported,
        // Header problems are envelope-level; inside a set they mean the set is in error.
        Code::NoHeader | Code::BadHeader | Code::UnsupportedSyntax => Set("5"),
        Code::MissingTrailer => Set("2"),
        Code::ControlNumberMismatch => Set("3"),
        Code::CountMismatch if at.at_trailer => Set("4"),
        Code::CountMismatch => Segment(None),
        Code::DuplicateControlNumber => Set("23"),
        Code::UnsupportedSet => Set("1"),
        Code::UnrecognizedSegment if at.known_tag => Segment(Some("6")),
        Code::UnrecognizedSegment => Segment(Some("1")),
        Code::UnexpectedSegment | Code::UnexpectedSegmentOutsideSet => Segment(Some("2")),
        Code::MissingSegment => Segment(Some("3")),
        Code::LoopOverMax => Segment(Some("4")),
        Code::SegmentOverMaxUse => Segment(Some("5")),
        Code::MissingElement => Element("1"),
        Code::ConditionalRequired => Element("2"),
        Code::TooManyElements if at.component && at.v5010 => Element("13"),
        Code::TooManyElements => Element("3"),
        Code::TooShort => Element("4"),
        Code::TooLong => Element("5"),
        // X12 has no "wrong type of character" code: a letter in a numeric element is an
        // invalid character in it.
        Code::InvalidCharacter | Code::InvalidNumber => Element("6"),
        // An HL / CPS level or parent the hierarchy does not allow: the value is not one of
        // those valid there.
        Code::InvalidCode | Code::Hierarchy => Element("7"),
        Code::InvalidDate => Element("8"),
        Code::InvalidTime => Element("9"),
        Code::ExclusionViolated => Element("10"),
    }
}

/// AK905 (element 716) for a group-level error; `None` for kinds that are not group errors.
pub fn x12_group_code(code: Code) -> Option<&'static str> {
    match code {
        Code::MissingTrailer => Some("3"),
        Code::ControlNumberMismatch => Some("4"),
        Code::CountMismatch => Some("5"),
        Code::ByteOrderMark
        | Code::IsaNotFixedWidth
        | Code::WrappedLines
        | Code::NoHeader
        | Code::BadHeader
        | Code::UnsupportedSyntax
        | Code::UnexpectedSegmentOutsideSet
        | Code::DuplicateControlNumber
        | Code::UnsupportedSet
        | Code::UnrecognizedSegment
        | Code::UnexpectedSegment
        | Code::MissingSegment
        | Code::SegmentOverMaxUse
        | Code::LoopOverMax
        | Code::Hierarchy
        | Code::MissingElement
        | Code::TooManyElements
        | Code::TooShort
        | Code::TooLong
        | Code::InvalidCharacter
        | Code::InvalidCode
        | Code::InvalidDate
        | Code::InvalidTime
        | Code::InvalidNumber
        | Code::ConditionalRequired
        | Code::ExclusionViolated => None,
    }
}

/// TA105 (element I18) for an interchange-level error, by kind and, for ISA element errors, by
/// the ISA element (1-based) it names.
pub fn ta1_note(code: Code, isa_element: Option<usize>) -> &'static str {
    match (code, isa_element) {
        (Code::ControlNumberMismatch, _) => "001",
        (Code::CountMismatch, _) => "021",
        (Code::MissingTrailer, _) => "023",
        (Code::DuplicateControlNumber, _) => "025",
        (_, Some(1)) => "010",
        (_, Some(2)) => "011",
        (_, Some(3)) => "012",
        (_, Some(4)) => "013",
        (_, Some(5)) => "005",
        (_, Some(6)) => "006",
        (_, Some(7)) => "007",
        (_, Some(8)) => "008",
        (_, Some(9)) => "014",
        (_, Some(10)) => "015",
        (_, Some(11)) => "016",
        (_, Some(12)) => "017",
        (_, Some(13)) => "018",
        (_, Some(14)) => "019",
        (_, Some(15)) => "020",
        (_, Some(16)) => "027",
        // An ISA that is not 16 elements is not the control structure the standard defines.
        (Code::BadHeader, None) => "022",
        _ => "024",
    }
}

/// UN/EDIFACT 0085 for any error kind, at any CONTRL level.
pub fn edifact(code: Code) -> &'static str {
    match code {
        // Tolerated deviations never reach a CONTRL (only errors are reported).
        Code::ByteOrderMark | Code::IsaNotFixedWidth | Code::WrappedLines => "18",
        Code::NoHeader | Code::BadHeader => "12",
        Code::UnsupportedSyntax => "2",
        Code::MissingTrailer => "13",
        Code::UnexpectedSegmentOutsideSet => "33",
        Code::ControlNumberMismatch => "28",
        Code::CountMismatch => "29",
        Code::DuplicateControlNumber => "26",
        // A message type / version we have no agreement to receive.
        Code::UnsupportedSet => "17",
        Code::UnrecognizedSegment | Code::UnexpectedSegment => "15",
        Code::MissingSegment => "13",
        Code::SegmentOverMaxUse => "35",
        Code::LoopOverMax => "36",
        Code::Hierarchy => "12",
        Code::MissingElement | Code::ConditionalRequired => "13",
        Code::TooManyElements => "16",
        Code::TooShort => "40",
        Code::TooLong => "39",
        Code::InvalidCharacter => "21",
        Code::InvalidNumber => "37",
        Code::InvalidCode | Code::InvalidDate | Code::InvalidTime => "12",
        // An element the dependency notes exclude is not supported in that position.
        Code::ExclusionViolated => "15",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use X12Note::*;

    /// Every error kind, so the tables below are checked to be complete.
    const ALL: [Code; 29] = [
        Code::ByteOrderMark,
        Code::IsaNotFixedWidth,
        Code::WrappedLines,
        Code::NoHeader,
        Code::BadHeader,
        Code::UnsupportedSyntax,
        Code::MissingTrailer,
        Code::UnexpectedSegmentOutsideSet,
        Code::ControlNumberMismatch,
        Code::CountMismatch,
        Code::DuplicateControlNumber,
        Code::UnsupportedSet,
        Code::UnrecognizedSegment,
        Code::UnexpectedSegment,
        Code::MissingSegment,
        Code::SegmentOverMaxUse,
        Code::LoopOverMax,
        Code::Hierarchy,
        Code::MissingElement,
        Code::TooManyElements,
        Code::TooShort,
        Code::TooLong,
        Code::InvalidCharacter,
        Code::InvalidCode,
        Code::InvalidDate,
        Code::InvalidTime,
        Code::InvalidNumber,
        Code::ConditionalRequired,
        Code::ExclusionViolated,
    ];

    /// (kind, its 0085 code, its 997 note in a set body off the trailer)
    const TABLE: [(Code, &str, X12Note); 29] = [
        (Code::ByteOrderMark, "18", NotReported),
        (Code::IsaNotFixedWidth, "18", NotReported),
        (Code::WrappedLines, "18", NotReported),
        (Code::NoHeader, "12", Set("5")),
        (Code::BadHeader, "12", Set("5")),
        (Code::UnsupportedSyntax, "2", Set("5")),
        (Code::MissingTrailer, "13", Set("2")),
        (Code::UnexpectedSegmentOutsideSet, "33", Segment(Some("2"))),
        (Code::ControlNumberMismatch, "28", Set("3")),
        (Code::CountMismatch, "29", Segment(None)),
        (Code::DuplicateControlNumber, "26", Set("23")),
        (Code::UnsupportedSet, "17", Set("1")),
        (Code::UnrecognizedSegment, "15", Segment(Some("1"))),
        (Code::UnexpectedSegment, "15", Segment(Some("2"))),
        (Code::MissingSegment, "13", Segment(Some("3"))),
        (Code::SegmentOverMaxUse, "35", Segment(Some("5"))),
        (Code::LoopOverMax, "36", Segment(Some("4"))),
        (Code::Hierarchy, "12", Element("7")),
        (Code::MissingElement, "13", Element("1")),
        (Code::TooManyElements, "16", Element("3")),
        (Code::TooShort, "40", Element("4")),
        (Code::TooLong, "39", Element("5")),
        (Code::InvalidCharacter, "21", Element("6")),
        (Code::InvalidCode, "12", Element("7")),
        (Code::InvalidDate, "12", Element("8")),
        (Code::InvalidTime, "12", Element("9")),
        (Code::InvalidNumber, "37", Element("6")),
        (Code::ConditionalRequired, "13", Element("2")),
        (Code::ExclusionViolated, "15", Element("10")),
    ];

    #[test]
    fn every_error_kind_maps_to_its_code() {
        for (i, code) in ALL.iter().enumerate() {
            assert_eq!(TABLE[i].0, *code, "table row {i} out of order");
        }
        for (code, contrl, note) in TABLE {
            assert_eq!(edifact(code), contrl, "0085 for {code:?}");
            assert_eq!(
                x12_note(code, X12Site::default()),
                note,
                "997 note for {code:?}"
            );
        }
    }

    #[test]
    fn the_issue_10_corrections_hold() {
        // The six CONTRL codes the partner's translator misread (issue #10 item 3).
        assert_eq!(edifact(Code::CountMismatch), "29");
        assert_eq!(edifact(Code::ControlNumberMismatch), "28");
        assert_eq!(edifact(Code::TooShort), "40");
        assert_eq!(edifact(Code::TooManyElements), "16");
        assert_eq!(edifact(Code::UnexpectedSegment), "15");
        assert_eq!(edifact(Code::InvalidNumber), "37");
        // CTT01 is not an invalid code value (AK403 = 7).
        assert_ne!(
            x12_note(Code::CountMismatch, X12Site::default()),
            Element("7")
        );
    }

    #[test]
    fn the_site_decides_where_it_matters() {
        let on = |f: fn(&mut X12Site)| {
            let mut s = X12Site::default();
            f(&mut s);
            s
        };
        assert_eq!(
            x12_note(Code::CountMismatch, on(|s| s.at_trailer = true)),
            Set("4")
        );
        assert_eq!(
            x12_note(Code::UnrecognizedSegment, on(|s| s.known_tag = true)),
            Segment(Some("6"))
        );
        // Too many components: 13 exists from 004020 on; a 004010 997 says "too many data
        // elements" (its list stops at 10).
        let comp = on(|s| s.component = true);
        assert_eq!(x12_note(Code::TooManyElements, comp), Element("3"));
        let comp_5010 = X12Site {
            v5010: true,
            ..comp
        };
        assert_eq!(x12_note(Code::TooManyElements, comp_5010), Element("13"));
    }

    #[test]
    fn group_and_interchange_codes() {
        let groups: Vec<(Code, &str)> = ALL
            .iter()
            .filter_map(|&c| x12_group_code(c).map(|g| (c, g)))
            .collect();
        assert_eq!(
            groups,
            [
                (Code::MissingTrailer, "3"),
                (Code::ControlNumberMismatch, "4"),
                (Code::CountMismatch, "5")
            ]
        );
        assert_eq!(ta1_note(Code::ControlNumberMismatch, Some(13)), "001");
        assert_eq!(ta1_note(Code::CountMismatch, Some(1)), "021");
        assert_eq!(ta1_note(Code::MissingTrailer, None), "023");
        assert_eq!(ta1_note(Code::DuplicateControlNumber, Some(13)), "025");
        assert_eq!(ta1_note(Code::BadHeader, None), "022");
        assert_eq!(ta1_note(Code::UnexpectedSegmentOutsideSet, None), "024");
        let by_element = [
            "010", "011", "012", "013", "005", "006", "007", "008", "014", "015", "016", "017",
            "018", "019", "020", "027",
        ];
        for (e, want) in by_element.iter().enumerate() {
            assert_eq!(
                ta1_note(Code::InvalidCode, Some(e + 1)),
                *want,
                "ISA{:02}",
                e + 1
            );
        }
    }
}
