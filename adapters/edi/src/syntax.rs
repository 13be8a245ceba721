//! Delimiters and the view of one segment: element/component/repetition splitting with
//! memchr, release-character aware for EDIFACT.
//!
//! Written by hand rather than on top of `edifact-parser` / `x12-types` because those cannot
//! serve this hub (measured, see issue 4): x12-types hard-codes `*` and `~`, accepts one GS per
//! ISA, checks no counts and runs at ~15 MB/s; edifact-parser works on an in-memory slice only,
//! leaves components escaped, does not split syntax-v4 repetitions, checks no counts and
//! mishandles a UTF-8 BOM. Partners choose their own delimiters and send files of any size, so
//! the delimiter handling and the segment split are the part we cannot borrow.

use memchr::memchr;
use serde::{Deserialize, Serialize};
use std::borrow::Cow;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Standard {
    X12,
    Edifact,
}

/// The separators of one interchange, as read from its ISA or UNA (or the EDIFACT default).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Delimiters {
    pub element: u8,
    pub component: u8,
    /// X12 ISA11 from 00402 on; EDIFACT syntax v4 `*`.
    pub repetition: Option<u8>,
    pub segment: u8,
    /// EDIFACT release (escape) character, `?` by default; X12 has none.
    pub release: Option<u8>,
    /// EDIFACT decimal mark from UNA.
    pub decimal: u8,
}

impl Delimiters {
    pub const X12_DEFAULT: Delimiters = Delimiters {
        element: b'*',
        component: b':',
        repetition: Some(b'^'),
        segment: b'~',
        release: None,
        decimal: b'.',
    };
    pub const EDIFACT_DEFAULT: Delimiters = Delimiters {
        element: b'+',
        component: b':',
        repetition: None,
        segment: b'\'',
        release: Some(b'?'),
        decimal: b'.',
    };

    /// Whether the separators are usable: element, component, segment (and repetition and
    /// release when present) all different, none of them a letter or digit.
    pub fn is_distinct(&self) -> bool {
        let mut all = vec![self.element, self.component, self.segment];
        all.extend(self.repetition);
        all.extend(self.release);
        let n = all.len();
        all.sort_unstable();
        all.dedup();
        all.len() == n && all.iter().all(|b| !b.is_ascii_alphanumeric())
    }

    /// Whether `b` is one of the active separators (so it must be escaped or refused in data).
    pub fn is_special(&self, b: u8) -> bool {
        b == self.element
            || b == self.component
            || b == self.segment
            || Some(b) == self.repetition
            || Some(b) == self.release
    }
}

/// `memchr` for long haystacks; EDI elements are mostly a few bytes, where a plain loop beats
/// the call and setup cost of the vectorised search.
#[inline]
pub fn find_byte(b: u8, hay: &[u8]) -> Option<usize> {
    if hay.len() < 24 {
        hay.iter().position(|&x| x == b)
    } else {
        memchr(b, hay)
    }
}

/// Finds the next `sep` in `hay` that is not preceded by an odd run of `release` characters.
#[inline]
pub fn find_unreleased(hay: &[u8], sep: u8, release: Option<u8>) -> Option<usize> {
    let mut from = 0;
    loop {
        let i = from + find_byte(sep, &hay[from..])?;
        match release {
            Some(r) if is_released(hay, i, r) => from = i + 1,
            _ => return Some(i),
        }
    }
}

#[inline]
fn is_released(hay: &[u8], i: usize, r: u8) -> bool {
    let mut n = 0;
    let mut j = i;
    while j > 0 && hay[j - 1] == r {
        n += 1;
        j -= 1;
    }
    n % 2 == 1
}

/// Iterator over the parts of `hay` separated by `sep`, honouring the release character.
pub struct Split<'a> {
    rest: Option<&'a [u8]>,
    sep: u8,
    release: Option<u8>,
}

impl<'a> Split<'a> {
    pub fn new(hay: &'a [u8], sep: u8, release: Option<u8>) -> Self {
        Split {
            rest: Some(hay),
            sep,
            release,
        }
    }
}

impl<'a> Iterator for Split<'a> {
    type Item = &'a [u8];
    #[inline]
    fn next(&mut self) -> Option<&'a [u8]> {
        let rest = self.rest?;
        match find_unreleased(rest, self.sep, self.release) {
            Some(i) => {
                self.rest = Some(&rest[i + 1..]);
                Some(&rest[..i])
            }
            None => {
                self.rest = None;
                Some(rest)
            }
        }
    }
}

/// Decodes element bytes as text: UTF-8 when valid, otherwise ISO 8859-1 (UNOC/UNOD/UNOE
/// interchanges and most X12 extended character sets are single-byte Latin).
pub fn decode(bytes: &[u8]) -> Cow<'_, str> {
    match std::str::from_utf8(bytes) {
        Ok(s) => Cow::Borrowed(s),
        Err(_) => Cow::Owned(bytes.iter().map(|&b| b as char).collect()),
    }
}

/// Removes release characters (`?+` → `+`, `??` → `?`).
pub fn unescape(bytes: &[u8], release: Option<u8>) -> Cow<'_, [u8]> {
    let Some(r) = release else {
        return Cow::Borrowed(bytes);
    };
    if find_byte(r, bytes).is_none() {
        return Cow::Borrowed(bytes);
    }
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == r && i + 1 < bytes.len() {
            out.push(bytes[i + 1]);
            i += 2;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    Cow::Owned(out)
}

/// One segment, borrowed from its interchange's buffer.
#[derive(Debug, Clone, Copy)]
pub struct Segment<'a> {
    /// Segment bytes without terminator and without surrounding whitespace.
    pub bytes: &'a [u8],
    pub delims: &'a Delimiters,
    /// 1-based index of the segment in the whole file.
    pub index: usize,
    /// Byte offset of the segment in the file.
    pub offset: u64,
}

impl<'a> Segment<'a> {
    /// The segment tag (`ISA`, `N1`, `UNH`, ...). EDIFACT tags may carry composite parts
    /// (`UNH:1`), only the first component is the tag.
    pub fn id(&self) -> &'a str {
        // Tags are at most 3 characters: look at the first 4 bytes before scanning further.
        let quick = self
            .bytes
            .iter()
            .take(4)
            .position(|&b| b == self.delims.element);
        let end = quick
            .or_else(|| memchr(self.delims.element, self.bytes))
            .unwrap_or(self.bytes.len());
        let tag = &self.bytes[..end];
        let tag = match memchr(self.delims.component, tag) {
            Some(c) => &tag[..c],
            None => tag,
        };
        std::str::from_utf8(tag).unwrap_or("?")
    }

    /// The tag as a [`crate::spec::tag_key`], computed from the bytes without decoding.
    #[inline]
    pub fn key(&self) -> u32 {
        let mut k = 0u32;
        for &b in self.bytes.iter().take(4) {
            if b == self.delims.element || b == self.delims.component {
                break;
            }
            k = (k << 8) | b as u32;
        }
        k
    }

    /// Raw (still escaped) data elements, element 1 first; the tag is not included.
    pub fn elements(&self) -> impl Iterator<Item = &'a [u8]> + 'a {
        let mut it = Split::new(self.bytes, self.delims.element, self.delims.release);
        it.next();
        it
    }

    /// Number of data elements after the tag (trailing empty ones included).
    pub fn element_count(&self) -> usize {
        self.elements().count()
    }

    /// Raw element `n` (1-based), `None` when the segment is shorter.
    pub fn raw(&self, n: usize) -> Option<&'a [u8]> {
        self.elements().nth(n.checked_sub(1)?)
    }

    /// Element `n` as unescaped text of its first component and first repetition; empty when absent.
    pub fn get(&self, n: usize) -> Cow<'a, str> {
        self.component(n, 1)
    }

    /// Element `n`, component `c` (both 1-based), unescaped; empty when absent.
    pub fn component(&self, n: usize, c: usize) -> Cow<'a, str> {
        let Some(el) = self.raw(n) else {
            return Cow::Borrowed("");
        };
        let first_rep = match self.delims.repetition {
            Some(r) => Split::new(el, r, self.delims.release).next().unwrap_or(el),
            None => el,
        };
        let Some(comp) = Split::new(first_rep, self.delims.component, self.delims.release)
            .nth(c.saturating_sub(1))
        else {
            return Cow::Borrowed("");
        };
        cow_text(unescape(comp, self.delims.release))
    }

    /// The element exactly as it stands (all components), unescaped, for X12 simple elements
    /// that may legitimately contain the component separator byte in ISA16 position.
    pub fn whole(&self, n: usize) -> Cow<'a, str> {
        match self.raw(n) {
            Some(el) => cow_text(unescape(el, self.delims.release)),
            None => Cow::Borrowed(""),
        }
    }

    /// Full tree of element `n`: repetitions × components, unescaped.
    pub fn tree(&self, n: usize) -> Vec<Vec<String>> {
        let Some(el) = self.raw(n) else {
            return Vec::new();
        };
        let reps: Vec<&[u8]> = match self.delims.repetition {
            Some(r) => Split::new(el, r, self.delims.release).collect(),
            None => vec![el],
        };
        reps.into_iter()
            .map(|rep| {
                Split::new(rep, self.delims.component, self.delims.release)
                    .map(|c| decode(&unescape(c, self.delims.release)).into_owned())
                    .collect()
            })
            .collect()
    }

    /// The whole segment as readable text.
    pub fn text(&self) -> Cow<'a, str> {
        decode(self.bytes)
    }
}

fn cow_text(b: Cow<'_, [u8]>) -> Cow<'_, str> {
    match b {
        Cow::Borrowed(b) => decode(b),
        Cow::Owned(v) => Cow::Owned(decode(&v).into_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn release_character_protects_separators() {
        let d = Delimiters::EDIFACT_DEFAULT;
        let seg = Segment {
            bytes: b"FTX+AAI+++IT?'S 50?+? OFF?:NOW??:x",
            delims: &d,
            index: 1,
            offset: 0,
        };
        assert_eq!(seg.id(), "FTX");
        assert_eq!(seg.element_count(), 4);
        assert_eq!(seg.component(4, 1), "IT'S 50+ OFF:NOW?");
        assert_eq!(seg.component(4, 2), "x");
    }

    #[test]
    fn x12_repetitions_and_components() {
        let d = Delimiters::X12_DEFAULT;
        let seg = Segment {
            bytes: b"SV1*HC:99213:25*A^B",
            delims: &d,
            index: 1,
            offset: 0,
        };
        assert_eq!(seg.component(1, 2), "99213");
        assert_eq!(
            seg.tree(2),
            vec![vec!["A".to_string()], vec!["B".to_string()]]
        );
        assert_eq!(seg.get(9), "");
    }

    #[test]
    fn latin1_bytes_decode() {
        assert_eq!(decode(b"B\xdcTTNER"), "BÜTTNER");
    }
}
