//! Streaming reader: pulls bytes from any `BufRead` and yields one interchange at a time, so
//! memory is bounded by the largest interchange plus one read chunk, whatever the file size.
//!
//! Tolerated with a warning: a UTF-8 byte order mark, CR/LF/tab/space between segments, an ISA
//! that is not 106 bytes wide (pretty-printed or transcribed). Text that is not an interchange
//! is reported as an error with its byte offset and skipped up to the next ISA/UNA/UNB.

use crate::interchange::{Header, Interchange, Span, Unwrapped};
use crate::report::{Code, Issue, Location};
use crate::syntax::{Delimiters, Segment, Standard};
use memchr::memmem;
use std::collections::HashSet;
use std::io::{self, BufRead};

const CHUNK: usize = 64 * 1024;
/// How far into an ISA we look for its 16 element separators before calling it corrupt.
const ISA_SCAN_LIMIT: usize = 512;

/// What the reader found next in the input.
#[derive(Debug)]
pub enum Unit {
    Interchange(Box<Interchange>),
    /// Bytes that are not an interchange (reported and skipped).
    Unparseable(Box<Issue>),
}

pub struct InterchangeReader<R> {
    src: R,
    buf: Vec<u8>,
    /// Offset in the source of `buf[0]`.
    base: u64,
    eof: bool,
    at_start: bool,
    /// Segments seen so far in the whole input (for 1-based file positions).
    seg_count: usize,
    /// Warnings found before the next interchange (BOM) to attach to it.
    pending: Vec<Issue>,
    /// (sender, control number) of interchanges already read, for duplicate detection.
    seen: HashSet<(String, String)>,
    /// 0-based line number of `buf[0]`.
    line: usize,
}

fn is_ws(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n' | 0x0b | 0x0c | 0)
}

impl<R: BufRead> InterchangeReader<R> {
    pub fn new(src: R) -> Self {
        InterchangeReader {
            src,
            buf: Vec::with_capacity(CHUNK),
            base: 0,
            eof: false,
            at_start: true,
            seg_count: 0,
            pending: Vec::new(),
            seen: HashSet::new(),
            line: 0,
        }
    }

    /// Appends more input to `buf`; returns false at end of input.
    fn fill(&mut self) -> io::Result<bool> {
        if self.eof {
            return Ok(false);
        }
        let avail = loop {
            match self.src.fill_buf() {
                Ok(b) => break b,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
        };
        if avail.is_empty() {
            self.eof = true;
            return Ok(false);
        }
        // Take at most one chunk: a slice source hands over everything at once, and the
        // remainder is what gets moved each time an interchange is split off.
        let n = avail.len().min(CHUNK);
        self.buf.extend_from_slice(&avail[..n]);
        self.src.consume(n);
        Ok(true)
    }

    /// Drops the first `n` bytes of `buf`, counting the lines they end.
    fn consume(&mut self, n: usize) {
        self.line += memchr::memchr_iter(b'\n', &self.buf[..n]).count();
        self.buf.drain(..n);
        self.base += n as u64;
    }

    fn next_unit(&mut self) -> io::Result<Option<Unit>> {
        loop {
            // Skip BOM and whitespace before the next header.
            while self.buf.len() < 3 && self.fill()? {}
            if self.at_start {
                self.at_start = false;
                if self.buf.starts_with(b"\xEF\xBB\xBF") {
                    self.pending.push(Issue::warning(
                        Code::ByteOrderMark,
                        Location {
                            byte_offset: Some(0),
                            ..Location::default()
                        },
                        "file starts with a UTF-8 byte order mark; ignored",
                    ));
                    self.consume(3);
                    continue;
                }
            }
            let ws = self.buf.iter().take_while(|&&b| is_ws(b)).count();
            if ws > 0 {
                self.consume(ws);
                continue;
            }
            if self.buf.is_empty() {
                return Ok(None);
            }
            while self.buf.len() < 3 && self.fill()? {}
            if self.buf.starts_with(b"ISA") {
                return self.read_x12();
            }
            if self.buf.starts_with(b"UNA") || self.buf.starts_with(b"UNB") {
                return self.read_edifact();
            }
            return self
                .skip_garbage(
                    0,
                    "input is not an X12 (ISA) or EDIFACT (UNA/UNB) interchange",
                )
                .map(Some);
        }
    }

    /// Reports the bytes from `from` up to the next interchange header as unparseable.
    fn skip_garbage(&mut self, from: usize, why: &str) -> io::Result<Unit> {
        let mut search = from + 1;
        let end = loop {
            let hit = [b"ISA".as_slice(), b"UNA", b"UNB"]
                .iter()
                .filter_map(|pat| memmem::find(&self.buf[search.min(self.buf.len())..], pat))
                .min()
                .map(|i| i + search.min(self.buf.len()));
            if let Some(h) = hit {
                break h;
            }
            search = self.buf.len().saturating_sub(2).max(from + 1);
            if !self.fill()? {
                break self.buf.len();
            }
        };
        let preview: String = String::from_utf8_lossy(&self.buf[..end.min(40)])
            .chars()
            .map(|c| if c.is_control() { ' ' } else { c })
            .collect();
        let issue = Issue::error(
            Code::NoHeader,
            Location {
                byte_offset: Some(self.base),
                ..Location::default()
            },
            format!(
                "{why}; skipped {end} bytes starting {:?}",
                preview.trim_end()
            ),
        );
        self.consume(end);
        self.pending.clear();
        Ok(Unit::Unparseable(Box::new(issue)))
    }

    fn read_x12(&mut self) -> io::Result<Option<Unit>> {
        // Delimiters come from the ISA itself: element separator at byte 3, component separator
        // after the 16th element separator, segment terminator right after it.
        let elem = loop {
            if self.buf.len() > 3 {
                break self.buf[3];
            }
            if !self.fill()? {
                return self.skip_garbage(0, "truncated ISA").map(Some);
            }
        };
        if elem.is_ascii_alphanumeric() || is_ws(elem) {
            return self
                .skip_garbage(0, "corrupt ISA: byte 4 must be the element separator")
                .map(Some);
        }
        let sep16 = loop {
            let limit = self.buf.len().min(ISA_SCAN_LIMIT);
            let found = memchr::memchr_iter(elem, &self.buf[..limit]).nth(15);
            match found {
                Some(p) if p + 2 < self.buf.len() => break p,
                _ if limit == ISA_SCAN_LIMIT => {
                    return self
                        .skip_garbage(0, "corrupt ISA: fewer than 16 element separators")
                        .map(Some)
                }
                _ => {
                    if !self.fill()? {
                        return self.skip_garbage(0, "truncated ISA").map(Some);
                    }
                }
            }
        };
        let component = self.buf[sep16 + 1];
        let term = self.buf[sep16 + 2];
        if term == elem || term == component || component == elem || term.is_ascii_alphanumeric() {
            return self.skip_garbage(0, "corrupt ISA: element separator, component separator and segment terminator are not distinct").map(Some);
        }
        let mut warnings = std::mem::take(&mut self.pending);
        let isa_elems: Vec<&[u8]> = self.buf[..sep16 + 1].split(|&b| b == elem).collect();
        let version = isa_elems
            .get(12)
            .map(|v| String::from_utf8_lossy(v).trim().to_string())
            .unwrap_or_default();
        let isa11 = isa_elems.get(11).and_then(|v| v.first().copied());
        let repetition = match isa11 {
            Some(r)
                if version.as_str() >= "00402"
                    && !r.is_ascii_alphanumeric()
                    && r != elem
                    && r != component
                    && r != term =>
            {
                Some(r)
            }
            _ => None,
        };
        if sep16 + 3 != 106 {
            warnings.push(Issue::warning(
                Code::IsaNotFixedWidth,
                Location { segment_id: Some("ISA".into()), segment_index: Some(self.seg_count + 1), byte_offset: Some(self.base), ..Location::default() },
                format!("ISA is {} bytes wide instead of the fixed 106 (padded or pretty-printed); read by its separators", sep16 + 3),
            ));
        }
        let delims = Delimiters {
            element: elem,
            component,
            repetition,
            segment: term,
            release: None,
            decimal: b'.',
        };
        self.read_body(Standard::X12, delims, 0, false, warnings)
    }

    fn read_edifact(&mut self) -> io::Result<Option<Unit>> {
        let mut warnings = std::mem::take(&mut self.pending);
        let mut delims = Delimiters::EDIFACT_DEFAULT;
        let mut skip = 0;
        let mut una = false;
        if self.buf.starts_with(b"UNA") {
            while self.buf.len() < 9 && self.fill()? {}
            if self.buf.len() < 9 {
                return self
                    .skip_garbage(0, "truncated UNA service string advice")
                    .map(Some);
            }
            let u = &self.buf[3..9];
            delims.component = u[0];
            delims.element = u[1];
            delims.decimal = u[2];
            delims.release = if u[3] == b' ' { None } else { Some(u[3]) };
            delims.repetition = if u[4] == b' ' { None } else { Some(u[4]) };
            delims.segment = u[5];
            skip = 9;
            una = true;
            let distinct: HashSet<u8> = [u[0], u[1], u[5]].into_iter().collect();
            if distinct.len() != 3 {
                warnings.push(Issue::error(
                    Code::BadHeader,
                    Location {
                        byte_offset: Some(self.base),
                        ..Location::default()
                    },
                    "UNA declares the same character for two separators",
                ));
            }
        }
        self.read_body(Standard::Edifact, delims, skip, una, warnings)
    }

    /// Splits segments from `start` until the trailer (IEA/UNZ), the next header, or the end.
    fn read_body(
        &mut self,
        standard: Standard,
        mut delims: Delimiters,
        start: usize,
        una: bool,
        warnings: Vec<Issue>,
    ) -> io::Result<Option<Unit>> {
        let trailer: &[u8] = if standard == Standard::X12 {
            b"IEA"
        } else {
            b"UNZ"
        };
        let mut segments: Vec<Span> = Vec::new();
        let mut pos = start;
        let mut scanned = start; // where the terminator search resumes
        let end = loop {
            // skip whitespace between segments
            while pos < self.buf.len() && is_ws(self.buf[pos]) && self.buf[pos] != delims.segment {
                pos += 1;
            }
            if pos >= self.buf.len() {
                scanned = scanned.max(pos);
                if !self.fill()? {
                    break self.buf.len();
                }
                continue;
            }
            match find_terminator(&self.buf, scanned.max(pos), delims.segment, delims.release) {
                Some(t) => {
                    let mut e = t;
                    while e > pos && matches!(self.buf[e - 1], b'\r' | b'\n') {
                        e -= 1;
                    }
                    scanned = t + 1;
                    if e == pos {
                        pos = t + 1;
                        continue; // empty segment (doubled terminator): ignored
                    }
                    let tag = &self.buf[pos..e];
                    let is_new_header = !segments.is_empty()
                        && (tag.starts_with(b"ISA")
                            || tag.starts_with(b"UNB")
                            || tag.starts_with(b"UNA"));
                    let is_new_header = is_new_header
                        && tag
                            .get(3)
                            .is_none_or(|&b| b == delims.element || !b.is_ascii_alphanumeric());
                    if is_new_header {
                        break pos;
                    }
                    segments.push(Span { start: pos, end: e });
                    pos = t + 1;
                    if tag.starts_with(trailer) && tag.get(3).is_none_or(|&b| b == delims.element) {
                        break pos;
                    }
                }
                None => {
                    scanned = self.buf.len().max(pos);
                    if !self.fill()? {
                        // unterminated last segment
                        let mut e = self.buf.len();
                        while e > pos && is_ws(self.buf[e - 1]) {
                            e -= 1;
                        }
                        if e > pos {
                            segments.push(Span { start: pos, end: e });
                        }
                        break self.buf.len();
                    }
                }
            }
        };
        let offset = self.base;
        let line = self.line + 1;
        let first_index = self.seg_count + 1;
        self.seg_count += segments.len();
        // The interchange keeps the buffer's allocation; only the (at most one chunk) remainder
        // is copied into a new buffer.
        self.line += memchr::memchr_iter(b'\n', &self.buf[..end]).count();
        let rest = self.buf.split_off(end);
        let raw = std::mem::replace(&mut self.buf, rest);
        self.base += end as u64;

        let mut warnings = warnings;
        let unwrapped = unwrap_lines(&raw, &mut segments);
        if let Some(u) = &unwrapped {
            warnings.push(Issue::warning(
                Code::WrappedLines,
                Location {
                    byte_offset: Some(offset + u.orig_starts[u.first_wrapped] as u64),
                    segment_index: Some(first_index + u.first_wrapped),
                    ..Location::default()
                },
                format!(
                    "{} segment(s) are broken across lines (a file wrapped at a fixed width); the line breaks inside them were removed before reading",
                    u.wrapped
                ),
            ));
        }
        if standard == Standard::Edifact && !segments.is_empty() {
            // Syntax version 4 uses `*` as the repetition separator even without a UNA.
            let s = segments[0];
            let text = unwrapped.as_ref().map(|u| &u.bytes[..]).unwrap_or(&raw);
            let unb = Segment {
                bytes: &text[s.start..s.end],
                delims: &delims,
                index: first_index,
                offset,
            };
            if !una && unb.component(1, 2) == "4" && delims.repetition.is_none() {
                delims.repetition = Some(b'*');
            }
        }
        let mut ic = Interchange {
            standard,
            delimiters: delims,
            raw,
            unwrapped,
            offset,
            segments,
            first_index,
            una,
            line,
            header: Header::default(),
            groups: Vec::new(),
            has_trailer: false,
            issues: warnings,
        };
        if ic.segments.is_empty() {
            let issue = Issue::error(
                Code::BadHeader,
                Location {
                    byte_offset: Some(offset),
                    ..Location::default()
                },
                "interchange header without any segment",
            );
            return Ok(Some(Unit::Unparseable(Box::new(issue))));
        }
        ic.build_envelope();
        let key = (
            format!("{}:{}", ic.header.sender_qualifier, ic.header.sender),
            ic.header.control.clone(),
        );
        if !self.seen.insert(key) {
            let mut loc = ic.seg_loc(0, None, None);
            loc.element = Some(if standard == Standard::X12 { 13 } else { 5 });
            let c = ic.header.control.clone();
            ic.issues.push(Issue::error(Code::DuplicateControlNumber, loc, format!("duplicate interchange: control number {c} from this sender was already read in this input")));
        }
        Ok(Some(Unit::Interchange(Box::new(ic))))
    }
}

/// VAN mailboxes and old mainframe exports hand over files wrapped at a fixed width (80 or 132
/// columns) with CR/LF inserted in the middle of segments. Line breaks are never data in X12
/// or EDIFACT (they are outside every syntax level's character set), so a break inside a
/// segment is removed. The original bytes stay in `Interchange::raw` (they are what is stored
/// and re-read); when a segment was broken, the spans are moved to an unwrapped copy and each
/// segment remembers where it started in the original, so offsets and line numbers in reports
/// still point into the file as received. Costs one memchr2 pass over the interchange, plus a
/// merge of the line breaks found with the segment spans (both are sorted) when the file has
/// line breaks between segments.
fn unwrap_lines(raw: &[u8], segments: &mut [Span]) -> Option<Unwrapped> {
    let mut span = 0;
    let mut first_wrapped = None;
    for p in memchr::memchr2_iter(b'\r', b'\n', raw) {
        while span < segments.len() && segments[span].end <= p {
            span += 1;
        }
        match segments.get(span) {
            Some(s) if s.start <= p => {
                first_wrapped = Some(span);
                break;
            }
            Some(_) => {}
            None => break,
        }
    }
    let first_wrapped = first_wrapped?;
    let mut bytes = Vec::with_capacity(raw.len());
    let mut orig_starts = Vec::with_capacity(segments.len());
    let mut wrapped = 0;
    for span in segments.iter_mut() {
        let seg = &raw[span.start..span.end];
        orig_starts.push(span.start);
        let start = bytes.len();
        let before = bytes.len();
        bytes.extend(seg.iter().copied().filter(|&b| b != b'\r' && b != b'\n'));
        if bytes.len() - before != seg.len() {
            wrapped += 1;
        }
        *span = Span {
            start,
            end: bytes.len(),
        };
    }
    Some(Unwrapped {
        bytes,
        orig_starts,
        first_wrapped,
        wrapped,
    })
}

/// Next unreleased `sep` at or after `from`; the release check looks at the bytes before the hit
/// in the whole buffer, so resuming a search after a refill judges an escaped terminator right.
fn find_terminator(buf: &[u8], from: usize, sep: u8, release: Option<u8>) -> Option<usize> {
    let mut from = from;
    loop {
        let i = from + memchr::memchr(sep, &buf[from..])?;
        match release {
            Some(r) => {
                let run = buf[..i].iter().rev().take_while(|&&b| b == r).count();
                if run % 2 == 0 {
                    return Some(i);
                }
                from = i + 1;
            }
            None => return Some(i),
        }
    }
}

impl<R: BufRead> Iterator for InterchangeReader<R> {
    type Item = io::Result<Unit>;
    fn next(&mut self) -> Option<Self::Item> {
        self.next_unit().transpose()
    }
}

/// Reads every interchange of an in-memory document.
pub fn read_all(bytes: &[u8]) -> Vec<Unit> {
    // Reading from a slice cannot fail.
    InterchangeReader::new(bytes)
        .filter_map(Result::ok)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ics(text: &str) -> Vec<Unit> {
        read_all(text.as_bytes())
    }

    const X12: &str = "ISA*00*          *00*          *ZZ*SENDER         *ZZ*RECEIVER       *260101*1200*U*00401*000000001*0*P*>~GS*PO*S*R*20260101*1200*1*X*004010~ST*850*0001~BEG*00*SA*PO1**20260101~SE*3*0001~GE*1*1~IEA*1*000000001~";

    #[test]
    fn x12_clean_interchange_has_no_issues() {
        let u = ics(X12);
        assert_eq!(u.len(), 1);
        let Unit::Interchange(ic) = &u[0] else {
            panic!("not an interchange")
        };
        assert!(ic.issues.is_empty(), "{:?}", ic.issues);
        assert_eq!(ic.groups.len(), 1);
        assert_eq!(ic.groups[0].sets[0].set_type, "850");
        assert_eq!(ic.delimiters.component, b'>');
    }

    #[test]
    fn bom_crlf_and_padding_are_warnings() {
        let text = format!(
            "\u{feff}{}",
            X12.replace('~', "~\r\n")
                .replace("ISA*00*          *", "ISA*00* *")
        );
        let u = ics(&text);
        let Unit::Interchange(ic) = &u[0] else {
            panic!("not an interchange")
        };
        assert!(ic.envelope_ok(), "{:?}", ic.issues);
        let codes: Vec<Code> = ic.issues.iter().map(|i| i.code).collect();
        assert_eq!(codes, vec![Code::ByteOrderMark, Code::IsaNotFixedWidth]);
    }

    #[test]
    fn streams_across_tiny_reads() {
        let text = format!("{X12}\n{}", X12.replace("000000001", "000000002"));
        let reader = io::BufReader::with_capacity(7, text.as_bytes());
        let units: Vec<Unit> = InterchangeReader::new(reader)
            .map(|u| u.expect("io"))
            .collect();
        assert_eq!(units.len(), 2);
        for u in &units {
            let Unit::Interchange(ic) = u else {
                panic!("not an interchange")
            };
            assert!(ic.issues.is_empty(), "{:?}", ic.issues);
        }
    }

    #[test]
    fn garbage_is_reported_and_skipped() {
        let text = format!("hello world\n{X12}");
        let u = ics(&text);
        assert_eq!(u.len(), 2);
        let Unit::Unparseable(issue) = &u[0] else {
            panic!("expected garbage")
        };
        assert_eq!(issue.location.byte_offset, Some(0));
        assert!(matches!(&u[1], Unit::Interchange(_)));
    }

    #[test]
    fn edifact_release_terminator_inside_text() {
        let text = "UNB+UNOA:3+S+R+260101:1200+REF1'UNH+1+ORDERS:D:96A:UN'FTX+AAI+++IT?'S OK'UNT+3+1'UNZ+1+REF1'";
        let u = ics(text);
        let Unit::Interchange(ic) = &u[0] else {
            panic!("not an interchange")
        };
        assert!(ic.issues.is_empty(), "{:?}", ic.issues);
        assert_eq!(ic.segment(2).component(4, 1), "IT'S OK");
    }
}
