//! One parsed interchange: its bytes, the segment boundaries found by the reader, and the
//! envelope structure (groups, transaction sets / messages) with the control checks
//! (counts and header/trailer control numbers) already applied.

use crate::report::{Code, Issue, Location};
use crate::spec::tag_key;
use crate::syntax::{Delimiters, Segment, Standard};
use serde::Serialize;

const K_GS: u32 = tag_key("GS");
const K_ST: u32 = tag_key("ST");
const K_SE: u32 = tag_key("SE");
const K_GE: u32 = tag_key("GE");
const K_IEA: u32 = tag_key("IEA");
const K_UNG: u32 = tag_key("UNG");
const K_UNH: u32 = tag_key("UNH");
const K_UNT: u32 = tag_key("UNT");
const K_UNE: u32 = tag_key("UNE");
const K_UNZ: u32 = tag_key("UNZ");

/// Byte range of one segment inside `Interchange::raw` (terminator excluded).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span {
    pub start: usize,
    pub end: usize,
}

/// The segments of an interchange whose file was wrapped at a fixed width, with the line
/// breaks inside segments removed (see `reader::unwrap_lines`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unwrapped {
    /// Segment bytes back to back; `Interchange::segments` index into this.
    pub bytes: Vec<u8>,
    /// Where each segment started in `Interchange::raw`.
    pub orig_starts: Vec<usize>,
    /// Index of the first segment that was broken across lines.
    pub first_wrapped: usize,
    /// How many segments were.
    pub wrapped: usize,
}

/// Values of the interchange header (ISA or UNB) the hub acts on.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Header {
    pub sender_qualifier: String,
    pub sender: String,
    pub receiver_qualifier: String,
    pub receiver: String,
    pub date: String,
    pub time: String,
    pub control: String,
    /// ISA12 (`00401`) or the EDIFACT syntax identifier and version (`UNOC:3`).
    pub syntax_version: String,
    /// ISA15 `T` / UNB test indicator `1`.
    pub test: bool,
    /// ISA14 `1` / UNB acknowledgement request `1`.
    pub ack_requested: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TxSet {
    /// Index into `Interchange::segments` of ST/UNH.
    #[serde(skip)]
    pub header: usize,
    /// Index of SE/UNT, `None` when the trailer is missing.
    #[serde(skip)]
    pub trailer: Option<usize>,
    /// `850`, `ORDERS`, ...
    pub set_type: String,
    pub control: String,
    /// X12: GS08 (or ST03 when present); EDIFACT: `D:96A:UN` from UNH S009.
    pub version: String,
}

impl TxSet {
    /// Segment indexes of the whole set, header and trailer included.
    pub fn range(&self, total: usize) -> std::ops::Range<usize> {
        self.header..self.trailer.map(|t| t + 1).unwrap_or(total)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Group {
    /// Index of GS/UNG; `None` for EDIFACT messages sent without UNG (and for an X12 ST found
    /// outside any GS, which is reported).
    #[serde(skip)]
    pub header: Option<usize>,
    #[serde(skip)]
    pub trailer: Option<usize>,
    /// GS01 (`PO`, `IN`, ...) or UNG 0038.
    pub functional_id: String,
    pub sender: String,
    pub receiver: String,
    pub control: String,
    /// GS08 (`004010`, `005010X222A1`) / UNG S008.
    pub version: String,
    pub sets: Vec<TxSet>,
}

#[derive(Debug, Clone)]
pub struct Interchange {
    pub standard: Standard,
    pub delimiters: Delimiters,
    /// The interchange's bytes from its first header byte (ISA / UNA / UNB) through its trailer.
    pub raw: Vec<u8>,
    /// Offset of `raw[0]` in the source.
    pub offset: u64,
    pub segments: Vec<Span>,
    /// Set when segments were broken across lines: `segments` then index its bytes.
    pub unwrapped: Option<Unwrapped>,
    /// 1-based file index of `segments[0]`.
    pub first_index: usize,
    /// Whether an `UNA` service string advice was present (it is not counted as a segment).
    pub una: bool,
    /// 1-based line of `raw[0]` in the source.
    pub line: usize,
    pub header: Header,
    pub groups: Vec<Group>,
    /// Whether the trailer (IEA / UNZ) was found.
    pub has_trailer: bool,
    /// Envelope problems and tolerated deviations; validation adds its own to its report.
    pub issues: Vec<Issue>,
}

impl Interchange {
    pub fn segment(&self, i: usize) -> Segment<'_> {
        let s = self.segments[i];
        let (text, start) = match &self.unwrapped {
            None => (&self.raw[..], s.start),
            Some(u) => (&u.bytes[..], u.orig_starts[i]),
        };
        Segment {
            bytes: &text[s.start..s.end],
            delims: &self.delimiters,
            index: self.first_index + i,
            offset: self.offset + start as u64,
        }
    }

    /// 1-based line in the source of a byte offset inside this interchange.
    pub fn line_of(&self, offset: u64) -> usize {
        let rel = (offset.saturating_sub(self.offset) as usize).min(self.raw.len());
        self.line + memchr::memchr_iter(b'\n', &self.raw[..rel]).count()
    }

    pub fn len(&self) -> usize {
        self.segments.len()
    }

    pub fn is_empty(&self) -> bool {
        self.segments.is_empty()
    }

    /// Whether nothing at the envelope level is an error.
    pub fn envelope_ok(&self) -> bool {
        !self.issues.iter().any(Issue::is_error)
    }

    /// A location naming this interchange.
    pub fn loc(&self) -> Location {
        Location {
            interchange: Some(self.header.control.clone()).filter(|c| !c.is_empty()),
            ..Location::default()
        }
    }

    /// A location naming segment `i` (with group / set when given).
    pub fn seg_loc(&self, i: usize, group: Option<&Group>, set: Option<&TxSet>) -> Location {
        let seg = self.segment(i);
        Location {
            group: group.map(|g| g.control.clone()).filter(|c| !c.is_empty()),
            set: set.map(|s| s.control.clone()),
            set_type: set.map(|s| s.set_type.clone()),
            set_position: set.map(|s| i - s.header + 1),
            segment_id: Some(seg.id().to_string()),
            segment_index: Some(seg.index),
            byte_offset: Some(seg.offset),
            ..self.loc()
        }
    }

    /// Builds groups and sets from the segment list and checks every count and control number.
    /// Called by the reader; public so callers holding bytes can re-run it.
    pub fn build_envelope(&mut self) {
        match self.standard {
            Standard::X12 => self.build_x12(),
            Standard::Edifact => self.build_edifact(),
        }
    }

    fn push_seg_issue(
        &mut self,
        code: Code,
        i: usize,
        g: Option<usize>,
        s: Option<usize>,
        elem: Option<usize>,
        msg: String,
    ) {
        let group = g.and_then(|g| self.groups.get(g));
        let set = match (group, s) {
            (Some(gr), Some(s)) => gr.sets.get(s),
            _ => None,
        };
        let mut loc = self.seg_loc(i, group, set);
        loc.element = elem;
        self.issues
            .push(Issue::error(code, loc, msg).in_scope(g, s));
    }

    fn build_x12(&mut self) {
        let n = self.segments.len();
        if n == 0 {
            return;
        }
        {
            let isa = self.segment(0);
            let header = Header {
                sender_qualifier: isa.whole(5).trim().to_string(),
                sender: isa.whole(6).trim().to_string(),
                receiver_qualifier: isa.whole(7).trim().to_string(),
                receiver: isa.whole(8).trim().to_string(),
                date: isa.whole(9).trim().to_string(),
                time: isa.whole(10).trim().to_string(),
                syntax_version: isa.whole(12).trim().to_string(),
                control: isa.whole(13).trim().to_string(),
                ack_requested: isa.whole(14).trim() == "1",
                test: isa.whole(15).trim() == "T",
            };
            let count = isa.element_count();
            self.header = header;
            if count != 16 {
                let c = count;
                self.push_seg_issue(
                    Code::BadHeader,
                    0,
                    None,
                    None,
                    None,
                    format!("ISA has {c} elements, the standard requires exactly 16"),
                );
            }
            if !self.header.control.bytes().all(|b| b.is_ascii_digit())
                || self.header.control.len() != 9
            {
                let c = self.header.control.clone();
                self.push_seg_issue(
                    Code::BadHeader,
                    0,
                    None,
                    None,
                    Some(13),
                    format!("interchange control number {c:?} is not 9 digits"),
                );
            }
        }
        let mut open_group: Option<usize> = None;
        let mut open_set: Option<(usize, usize)> = None; // (group, set)
        for i in 1..n {
            // Body segments (nearly all of them) inside an open set skip the envelope match.
            if open_set.is_some()
                && !matches!(self.segment(i).key(), K_GS | K_ST | K_SE | K_GE | K_IEA)
            {
                continue;
            }
            let id = self.segment(i).id();
            match id {
                "GS" => {
                    if let Some((g, s)) = open_set.take() {
                        self.push_seg_issue(
                            Code::MissingTrailer,
                            i,
                            Some(g),
                            Some(s),
                            None,
                            "SE missing: a GS started before the set ended".into(),
                        );
                    }
                    if let Some(g) = open_group.take() {
                        self.push_seg_issue(
                            Code::MissingTrailer,
                            i,
                            Some(g),
                            None,
                            None,
                            "GE missing: a new GS started before the group ended".into(),
                        );
                    }
                    let gs = self.segment(i);
                    self.groups.push(Group {
                        header: Some(i),
                        trailer: None,
                        functional_id: gs.get(1).into_owned(),
                        sender: gs.get(2).into_owned(),
                        receiver: gs.get(3).into_owned(),
                        control: gs.get(6).into_owned(),
                        version: gs.get(8).into_owned(),
                        sets: Vec::new(),
                    });
                    open_group = Some(self.groups.len() - 1);
                }
                "ST" => {
                    if let Some((g, s)) = open_set.take() {
                        self.push_seg_issue(
                            Code::MissingTrailer,
                            i,
                            Some(g),
                            Some(s),
                            None,
                            "SE missing: a new ST started before the previous set ended".into(),
                        );
                    }
                    let g = match open_group {
                        Some(g) => g,
                        None => {
                            self.groups.push(Group {
                                header: None,
                                trailer: None,
                                functional_id: String::new(),
                                sender: String::new(),
                                receiver: String::new(),
                                control: String::new(),
                                version: String::new(),
                                sets: Vec::new(),
                            });
                            let g = self.groups.len() - 1;
                            self.push_seg_issue(
                                Code::UnexpectedSegmentOutsideSet,
                                i,
                                Some(g),
                                None,
                                None,
                                "ST outside a functional group (no GS before it)".into(),
                            );
                            open_group = Some(g);
                            g
                        }
                    };
                    let st = self.segment(i);
                    let st03 = st.get(3);
                    let version = if st03.is_empty() {
                        self.groups[g].version.clone()
                    } else {
                        st03.into_owned()
                    };
                    let set = TxSet {
                        header: i,
                        trailer: None,
                        set_type: st.get(1).into_owned(),
                        control: st.get(2).into_owned(),
                        version,
                    };
                    let dup = self.groups[g].sets.iter().any(|s| s.control == set.control);
                    self.groups[g].sets.push(set);
                    let s = self.groups[g].sets.len() - 1;
                    if dup {
                        let c = self.groups[g].sets[s].control.clone();
                        self.push_seg_issue(
                            Code::DuplicateControlNumber,
                            i,
                            Some(g),
                            Some(s),
                            Some(2),
                            format!(
                                "transaction set control number {c} is used twice in this group"
                            ),
                        );
                    }
                    open_set = Some((g, s));
                }
                "SE" => match open_set.take() {
                    Some((g, s)) => {
                        self.groups[g].sets[s].trailer = Some(i);
                        let count = i - self.groups[g].sets[s].header + 1;
                        let se = self.segment(i);
                        let (se01, se02) = (se.get(1).into_owned(), se.get(2).into_owned());
                        if se01.trim().parse::<usize>().ok() != Some(count) {
                            self.push_seg_issue(Code::CountMismatch, i, Some(g), Some(s), Some(1), format!("SE01 says {se01} segments but the set has {count} (ST through SE)"));
                        }
                        let ctl = self.groups[g].sets[s].control.clone();
                        if se02 != ctl {
                            self.push_seg_issue(
                                Code::ControlNumberMismatch,
                                i,
                                Some(g),
                                Some(s),
                                Some(2),
                                format!("SE02 {se02} does not match ST02 {ctl}"),
                            );
                        }
                    }
                    None => self.push_seg_issue(
                        Code::UnexpectedSegmentOutsideSet,
                        i,
                        open_group,
                        None,
                        None,
                        "SE without a matching ST".into(),
                    ),
                },
                "GE" => {
                    if let Some((g, s)) = open_set.take() {
                        self.push_seg_issue(
                            Code::MissingTrailer,
                            i,
                            Some(g),
                            Some(s),
                            None,
                            "SE missing: the group ended inside a set".into(),
                        );
                    }
                    match open_group.take() {
                        Some(g) if self.groups[g].header.is_some() => {
                            self.groups[g].trailer = Some(i);
                            let ge = self.segment(i);
                            let (ge01, ge02) = (ge.get(1).into_owned(), ge.get(2).into_owned());
                            let count = self.groups[g].sets.len();
                            if ge01.trim().parse::<usize>().ok() != Some(count) {
                                self.push_seg_issue(Code::CountMismatch, i, Some(g), None, Some(1), format!("GE01 says {ge01} transaction sets but the group has {count}"));
                            }
                            let ctl = self.groups[g].control.clone();
                            if ge02 != ctl {
                                self.push_seg_issue(
                                    Code::ControlNumberMismatch,
                                    i,
                                    Some(g),
                                    None,
                                    Some(2),
                                    format!("GE02 {ge02} does not match GS06 {ctl}"),
                                );
                            }
                        }
                        _ => self.push_seg_issue(
                            Code::UnexpectedSegmentOutsideSet,
                            i,
                            None,
                            None,
                            None,
                            "GE without a matching GS".into(),
                        ),
                    }
                }
                "IEA" => {
                    if let Some((g, s)) = open_set.take() {
                        self.push_seg_issue(
                            Code::MissingTrailer,
                            i,
                            Some(g),
                            Some(s),
                            None,
                            "SE missing: the interchange ended inside a set".into(),
                        );
                    }
                    if let Some(g) = open_group.take() {
                        if self.groups[g].header.is_some() {
                            self.push_seg_issue(
                                Code::MissingTrailer,
                                i,
                                Some(g),
                                None,
                                None,
                                "GE missing: the interchange ended inside a group".into(),
                            );
                        }
                    }
                    self.has_trailer = true;
                    let iea = self.segment(i);
                    let (iea01, iea02) = (iea.get(1).into_owned(), iea.get(2).into_owned());
                    let count = self.groups.iter().filter(|g| g.header.is_some()).count();
                    if iea01.trim().parse::<usize>().ok() != Some(count) {
                        self.push_seg_issue(Code::CountMismatch, i, None, None, Some(1), format!("IEA01 says {iea01} functional groups but the interchange has {count}"));
                    }
                    if iea02.trim() != self.header.control {
                        let c = self.header.control.clone();
                        self.push_seg_issue(
                            Code::ControlNumberMismatch,
                            i,
                            None,
                            None,
                            Some(2),
                            format!("IEA02 {iea02} does not match ISA13 {c}"),
                        );
                    }
                    if i + 1 < n {
                        self.push_seg_issue(
                            Code::UnexpectedSegmentOutsideSet,
                            i + 1,
                            None,
                            None,
                            None,
                            "segments after IEA".into(),
                        );
                    }
                    break;
                }
                // Interchange-level segments allowed between ISA and the first GS: TA1
                // acknowledgements and the optional interchange services (ISB/ISE/TA3).
                "TA1" | "ISB" | "ISE" | "TA3" if open_group.is_none() && open_set.is_none() => {}
                _ => {
                    if open_set.is_none() {
                        self.push_seg_issue(
                            Code::UnexpectedSegmentOutsideSet,
                            i,
                            open_group,
                            None,
                            None,
                            format!("segment {id} outside any transaction set"),
                        );
                    }
                }
            }
        }
        if !self.has_trailer {
            if let Some((g, s)) = open_set {
                self.push_seg_issue(
                    Code::MissingTrailer,
                    n - 1,
                    Some(g),
                    Some(s),
                    None,
                    "SE missing at end of input".into(),
                );
            }
            if let Some(g) = open_group {
                if self.groups[g].header.is_some() {
                    self.push_seg_issue(
                        Code::MissingTrailer,
                        n - 1,
                        Some(g),
                        None,
                        None,
                        "GE missing at end of input".into(),
                    );
                }
            }
            self.push_seg_issue(
                Code::MissingTrailer,
                n - 1,
                None,
                None,
                None,
                "IEA missing: the interchange is truncated".into(),
            );
        }
    }

    fn build_edifact(&mut self) {
        let n = self.segments.len();
        if n == 0 {
            return;
        }
        {
            let unb = self.segment(0);
            let syntax = format!("{}:{}", unb.component(1, 1), unb.component(1, 2));
            let header = Header {
                sender: unb.component(2, 1).into_owned(),
                sender_qualifier: unb.component(2, 2).into_owned(),
                receiver: unb.component(3, 1).into_owned(),
                receiver_qualifier: unb.component(3, 2).into_owned(),
                date: unb.component(4, 1).into_owned(),
                time: unb.component(4, 2).into_owned(),
                control: unb.get(5).into_owned(),
                syntax_version: syntax,
                ack_requested: unb.get(9) == "1",
                test: unb.get(11) == "1",
            };
            let ident = unb.component(1, 1).into_owned();
            let tag = unb.id().to_string();
            self.header = header;
            if tag != "UNB" {
                self.push_seg_issue(
                    Code::BadHeader,
                    0,
                    None,
                    None,
                    None,
                    format!("expected UNB after UNA, found {tag}"),
                );
            }
            if !matches!(
                ident.as_str(),
                "UNOA"
                    | "UNOB"
                    | "UNOC"
                    | "UNOD"
                    | "UNOE"
                    | "UNOF"
                    | "UNOW"
                    | "UNOY"
                    | "IATA"
                    | "IATB"
            ) {
                let id = ident;
                let mut loc = self.seg_loc(0, None, None);
                loc.element = Some(1);
                loc.component = Some(1);
                self.issues.push(Issue::error(
                    Code::UnsupportedSyntax,
                    loc,
                    format!("syntax identifier {id:?} is not supported (UNOA-UNOF, UNOW, UNOY)"),
                ));
            }
        }
        let mut open_group: Option<usize> = None;
        let mut implicit_group: Option<usize> = None;
        let mut open_set: Option<(usize, usize)> = None;
        let mut used_ung = false;
        for i in 1..n {
            if open_set.is_some()
                && !matches!(self.segment(i).key(), K_UNG | K_UNH | K_UNT | K_UNE | K_UNZ)
            {
                continue;
            }
            let id = self.segment(i).id();
            match id {
                "UNG" => {
                    if let Some((g, s)) = open_set.take() {
                        self.push_seg_issue(
                            Code::MissingTrailer,
                            i,
                            Some(g),
                            Some(s),
                            None,
                            "UNT missing: a UNG started inside a message".into(),
                        );
                    }
                    if let Some(g) = open_group.take() {
                        self.push_seg_issue(
                            Code::MissingTrailer,
                            i,
                            Some(g),
                            None,
                            None,
                            "UNE missing: a new UNG started before the group ended".into(),
                        );
                    }
                    used_ung = true;
                    let ung = self.segment(i);
                    self.groups.push(Group {
                        header: Some(i),
                        trailer: None,
                        functional_id: ung.get(1).into_owned(),
                        sender: ung.component(2, 1).into_owned(),
                        receiver: ung.component(3, 1).into_owned(),
                        control: ung.get(5).into_owned(),
                        version: format!("{}:{}", ung.component(7, 1), ung.component(7, 2)),
                        sets: Vec::new(),
                    });
                    open_group = Some(self.groups.len() - 1);
                }
                "UNH" => {
                    if let Some((g, s)) = open_set.take() {
                        self.push_seg_issue(
                            Code::MissingTrailer,
                            i,
                            Some(g),
                            Some(s),
                            None,
                            "UNT missing: a new UNH started before the previous message ended"
                                .into(),
                        );
                    }
                    let g = match (open_group, implicit_group) {
                        (Some(g), _) | (None, Some(g)) => g,
                        (None, None) => {
                            self.groups.push(Group {
                                header: None,
                                trailer: None,
                                functional_id: String::new(),
                                sender: self.header.sender.clone(),
                                receiver: self.header.receiver.clone(),
                                control: String::new(),
                                version: String::new(),
                                sets: Vec::new(),
                            });
                            implicit_group = Some(self.groups.len() - 1);
                            self.groups.len() - 1
                        }
                    };
                    let unh = self.segment(i);
                    let version = format!(
                        "{}:{}:{}",
                        unh.component(2, 2),
                        unh.component(2, 3),
                        unh.component(2, 4)
                    );
                    let set = TxSet {
                        header: i,
                        trailer: None,
                        set_type: unh.component(2, 1).into_owned(),
                        control: unh.get(1).into_owned(),
                        version,
                    };
                    let dup = self.groups[g].sets.iter().any(|s| s.control == set.control);
                    self.groups[g].sets.push(set);
                    let s = self.groups[g].sets.len() - 1;
                    if dup {
                        let c = self.groups[g].sets[s].control.clone();
                        self.push_seg_issue(
                            Code::DuplicateControlNumber,
                            i,
                            Some(g),
                            Some(s),
                            Some(1),
                            format!("message reference {c} is used twice in this interchange"),
                        );
                    }
                    open_set = Some((g, s));
                }
                "UNT" => match open_set.take() {
                    Some((g, s)) => {
                        self.groups[g].sets[s].trailer = Some(i);
                        let count = i - self.groups[g].sets[s].header + 1;
                        let unt = self.segment(i);
                        let (c, r) = (unt.get(1).into_owned(), unt.get(2).into_owned());
                        if c.trim().parse::<usize>().ok() != Some(count) {
                            self.push_seg_issue(Code::CountMismatch, i, Some(g), Some(s), Some(1), format!("UNT segment count says {c} but the message has {count} (UNH through UNT)"));
                        }
                        let ctl = self.groups[g].sets[s].control.clone();
                        if r != ctl {
                            self.push_seg_issue(
                                Code::ControlNumberMismatch,
                                i,
                                Some(g),
                                Some(s),
                                Some(2),
                                format!("UNT message reference {r} does not match UNH {ctl}"),
                            );
                        }
                    }
                    None => self.push_seg_issue(
                        Code::UnexpectedSegmentOutsideSet,
                        i,
                        None,
                        None,
                        None,
                        "UNT without a matching UNH".into(),
                    ),
                },
                "UNE" => {
                    if let Some((g, s)) = open_set.take() {
                        self.push_seg_issue(
                            Code::MissingTrailer,
                            i,
                            Some(g),
                            Some(s),
                            None,
                            "UNT missing: the group ended inside a message".into(),
                        );
                    }
                    match open_group.take() {
                        Some(g) => {
                            self.groups[g].trailer = Some(i);
                            let une = self.segment(i);
                            let (c, r) = (une.get(1).into_owned(), une.get(2).into_owned());
                            let count = self.groups[g].sets.len();
                            if c.trim().parse::<usize>().ok() != Some(count) {
                                self.push_seg_issue(
                                    Code::CountMismatch,
                                    i,
                                    Some(g),
                                    None,
                                    Some(1),
                                    format!("UNE says {c} messages but the group has {count}"),
                                );
                            }
                            let ctl = self.groups[g].control.clone();
                            if r != ctl {
                                self.push_seg_issue(
                                    Code::ControlNumberMismatch,
                                    i,
                                    Some(g),
                                    None,
                                    Some(2),
                                    format!("UNE reference {r} does not match UNG {ctl}"),
                                );
                            }
                        }
                        None => self.push_seg_issue(
                            Code::UnexpectedSegmentOutsideSet,
                            i,
                            None,
                            None,
                            None,
                            "UNE without a matching UNG".into(),
                        ),
                    }
                }
                "UNZ" => {
                    if let Some((g, s)) = open_set.take() {
                        self.push_seg_issue(
                            Code::MissingTrailer,
                            i,
                            Some(g),
                            Some(s),
                            None,
                            "UNT missing: the interchange ended inside a message".into(),
                        );
                    }
                    if let Some(g) = open_group.take() {
                        self.push_seg_issue(
                            Code::MissingTrailer,
                            i,
                            Some(g),
                            None,
                            None,
                            "UNE missing: the interchange ended inside a group".into(),
                        );
                    }
                    self.has_trailer = true;
                    let unz = self.segment(i);
                    let (c, r) = (unz.get(1).into_owned(), unz.get(2).into_owned());
                    // UNZ counts groups when UNG is used, otherwise messages.
                    let (count, what) = if used_ung {
                        (
                            self.groups.iter().filter(|g| g.header.is_some()).count(),
                            "functional groups",
                        )
                    } else {
                        (self.groups.iter().map(|g| g.sets.len()).sum(), "messages")
                    };
                    if c.trim().parse::<usize>().ok() != Some(count) {
                        self.push_seg_issue(Code::CountMismatch, i, None, None, Some(1), format!("UNZ interchange control count says {c} but the interchange has {count} {what}"));
                    }
                    if r != self.header.control {
                        let ctl = self.header.control.clone();
                        self.push_seg_issue(
                            Code::ControlNumberMismatch,
                            i,
                            None,
                            None,
                            Some(2),
                            format!("UNZ reference {r} does not match UNB {ctl}"),
                        );
                    }
                    if i + 1 < n {
                        self.push_seg_issue(
                            Code::UnexpectedSegmentOutsideSet,
                            i + 1,
                            None,
                            None,
                            None,
                            "segments after UNZ".into(),
                        );
                    }
                    break;
                }
                _ => {
                    if open_set.is_none() {
                        self.push_seg_issue(
                            Code::UnexpectedSegmentOutsideSet,
                            i,
                            open_group,
                            None,
                            None,
                            format!("segment {id} outside any message (no UNH before it)"),
                        );
                    }
                }
            }
        }
        if !self.has_trailer {
            if let Some((g, s)) = open_set {
                self.push_seg_issue(
                    Code::MissingTrailer,
                    n - 1,
                    Some(g),
                    Some(s),
                    None,
                    "UNT missing at end of input".into(),
                );
            }
            if let Some(g) = open_group {
                self.push_seg_issue(
                    Code::MissingTrailer,
                    n - 1,
                    Some(g),
                    None,
                    None,
                    "UNE missing at end of input".into(),
                );
            }
            self.push_seg_issue(
                Code::MissingTrailer,
                n - 1,
                None,
                None,
                None,
                "UNZ missing: the interchange is truncated".into(),
            );
        }
    }
}
