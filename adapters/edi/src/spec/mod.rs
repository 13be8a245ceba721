//! Specifications as data: segment dictionaries (element types, lengths, code lists) and
//! transaction set / message structures (segments, requirement, max use, loops / segment groups)
//! written in a compact text notation and parsed once.
//!
//! Notation, one definition per line, `#` starts a comment:
//! * segment: `N1 = M ID2/3 | C AN1/60 | C ID1/2 | C AN2/80` — each element is a requirement
//!   (`M` mandatory, `O` optional, `C` conditional: optional on its own, its condition is a
//!   relational note, below), a type (`ID AN N0..N9 R DT TM` for X12; `an a n` for
//!   EDIFACT), the length `MIN/MAX` (EDIFACT `..MAX` or fixed `3`) and optionally `:CODE,CODE`
//!   for the code lists the hub acts on. A composite is `M C[ el ; el ]`.
//! * X12 relational conditions (syntax notes) after `!`: `N1 = ... ! R0203 P0304`. `P` paired
//!   (all or none), `R` required (at least one), `E` exclusion (at most one), `C` conditional (if
//!   the first then all the others), `L` list conditional (if the first then at least one
//!   other); the digits are two-digit element positions.
//! * a definition for one version only: `QTY@D:96A = ...` (overrides the shared one).
//! * structure: `850/004010 = ST M1; BEG M1; [N1 O200: N1 M1; N3 O2]; SE M1` — a loop (segment
//!   group) is `[NAME REQMAX: children]`, its first child is the trigger segment; `>1` is unbounded.
//!
//! Text rather than Rust struct literals because the tables are long and have to be reviewed
//! against the standards by people who read EDI implementation guides, not Rust.

pub mod edifact;
pub mod x12;

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// A segment tag packed into an integer (tags are at most 3 ASCII characters; longer or odd
/// tags still get a distinct-enough key and are compared by the map anyway).
pub const fn tag_key(id: &str) -> u32 {
    let b = id.as_bytes();
    let mut k = 0u32;
    let mut i = 0;
    while i < b.len() && i < 4 {
        k = (k << 8) | b[i] as u32;
        i += 1;
    }
    k
}

/// Hasher for tag keys: the key is already well spread, hashing it again is wasted work.
#[derive(Default)]
pub struct TagHasher(u64);

impl Hasher for TagHasher {
    fn finish(&self) -> u64 {
        self.0.wrapping_mul(0x9E37_79B9_7F4A_7C15)
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 << 8) | b as u64;
        }
    }
    fn write_u32(&mut self, n: u32) {
        self.0 = n as u64;
    }
}

pub type TagMap<V> = HashMap<u32, V, BuildHasherDefault<TagHasher>>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Req {
    Mandatory,
    Optional,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ty {
    /// X12 identifier (code).
    Id,
    /// Alphanumeric (X12 AN, EDIFACT an).
    An,
    /// EDIFACT alphabetic.
    A,
    /// X12 numeric with implied decimals.
    N(u8),
    /// X12 decimal number / EDIFACT numeric `n`.
    R,
    Dt,
    Tm,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct El {
    pub req: Req,
    pub ty: Ty,
    pub min: usize,
    pub max: usize,
    pub codes: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Elem {
    Simple(El),
    Composite(Req, Vec<El>),
}

impl Elem {
    pub fn req(&self) -> Req {
        match self {
            Elem::Simple(e) => e.req,
            Elem::Composite(r, _) => *r,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Node {
    Seg {
        id: String,
        key: u32,
        req: Req,
        max: u32,
    },
    Loop {
        id: String,
        key: u32,
        req: Req,
        max: u32,
        body: Vec<Node>,
        /// Trigger key of every body entry, densely, for the structure walk.
        keys: Vec<u32>,
        /// [`key_bloom`] of `keys` without the trigger (`keys[0]`): the walk looks for a segment
        /// past the trigger only, and with this skips a loop that cannot hold it.
        bloom: u64,
        /// Indexes of the mandatory body entries.
        mandatory: Vec<usize>,
    },
}

impl Node {
    /// The segment id that starts this node.
    pub fn trigger(&self) -> &str {
        match self {
            Node::Seg { id, .. } => id,
            Node::Loop { body, .. } => body.first().map(Node::trigger).unwrap_or(""),
        }
    }
    pub fn req(&self) -> Req {
        match self {
            Node::Seg { req, .. } | Node::Loop { req, .. } => *req,
        }
    }
    /// [`tag_key`] of the trigger segment.
    pub fn key(&self) -> u32 {
        match self {
            Node::Seg { key, .. } | Node::Loop { key, .. } => *key,
        }
    }
    pub fn max(&self) -> u32 {
        match self {
            Node::Seg { max, .. } | Node::Loop { max, .. } => *max,
        }
    }
    pub fn name(&self) -> &str {
        match self {
            Node::Seg { id, .. } | Node::Loop { id, .. } => id,
        }
    }
    fn collect_ids<'a>(&'a self, out: &mut Vec<&'a str>) {
        match self {
            Node::Seg { id, .. } => out.push(id),
            Node::Loop { body, .. } => body.iter().for_each(|n| n.collect_ids(out)),
        }
    }
}

/// Kind of an X12 relational condition (syntax note).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RelKind {
    /// `P`: if any is present, all are required.
    Paired,
    /// `R`: at least one is required.
    Required,
    /// `E`: not more than one may be present.
    Exclusion,
    /// `C`: if the first is present, all the others are required.
    Conditional,
    /// `L`: if the first is present, at least one of the others is required.
    ListConditional,
}

/// One relational condition over element positions (1-based) of a segment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Relation {
    pub kind: RelKind,
    pub elements: Vec<usize>,
    /// The note as written in the standard (`P0304`), quoted in error messages.
    pub note: String,
    /// Bit `n-1` for element `n` of `elements[0]`, and of the others: the check on the hot
    /// path is two masks, messages are built only for a violation.
    first: u64,
    rest: u64,
}

impl Relation {
    fn parse(s: &str) -> Result<Relation, String> {
        let bad = || format!("bad relational condition {s:?}");
        let mut chars = s.chars();
        let kind = match chars.next().ok_or_else(bad)? {
            'P' => RelKind::Paired,
            'R' => RelKind::Required,
            'E' => RelKind::Exclusion,
            'C' => RelKind::Conditional,
            'L' => RelKind::ListConditional,
            _ => return Err(bad()),
        };
        let digits = chars.as_str();
        if digits.len() < 4
            || !digits.len().is_multiple_of(2)
            || !digits.bytes().all(|b| b.is_ascii_digit())
        {
            return Err(bad());
        }
        let elements = digits
            .as_bytes()
            .chunks(2)
            .map(|c| ((c[0] - b'0') * 10 + (c[1] - b'0')) as usize)
            .collect::<Vec<_>>();
        if elements.iter().any(|&e| e == 0 || e > 64) {
            return Err(bad());
        }
        let bit = |e: &usize| 1u64 << (e - 1);
        Ok(Relation {
            kind,
            first: bit(&elements[0]),
            rest: elements[1..].iter().map(bit).fold(0, |a, b| a | b),
            elements,
            note: s.to_string(),
        })
    }

    /// Whether the condition holds for `present` (bit `n-1` set = element `n` has data).
    #[inline]
    pub fn holds(&self, present: u64) -> bool {
        let all = self.first | self.rest;
        let given = present & all;
        match self.kind {
            RelKind::Paired => given == 0 || given == all,
            RelKind::Required => given != 0,
            RelKind::Exclusion => given.count_ones() <= 1,
            RelKind::Conditional => present & self.first == 0 || present & self.rest == self.rest,
            RelKind::ListConditional => present & self.first == 0 || present & self.rest != 0,
        }
    }

    /// The violation, if `present` (bit `n-1` set = element `n` has data) breaks this
    /// condition: the element to point at and what is wrong.
    pub fn violation(&self, seg: &str, present: u64) -> Option<(usize, RelViolation)> {
        if self.holds(present) {
            return None;
        }
        let has = |e: usize| present & (1u64 << (e - 1)) != 0;
        let name = |e: usize| format!("{seg}{e:02}");
        let list = |es: &[usize]| es.iter().map(|&e| name(e)).collect::<Vec<_>>().join(", ");
        let first = self.elements[0];
        let rest = &self.elements[1..];
        match self.kind {
            RelKind::Paired => {
                let given: Vec<usize> = self.elements.iter().copied().filter(|&e| has(e)).collect();
                let missing = self.elements.iter().copied().find(|&e| !has(e));
                match (given.first(), missing) {
                    (Some(&g), Some(m)) => Some((
                        m,
                        RelViolation::Required(format!(
                            "{} is present, so {} is required too ({} must be sent together; X12 syntax note {})",
                            name(g),
                            name(m),
                            list(&self.elements),
                            self.note
                        )),
                    )),
                    _ => None,
                }
            }
            RelKind::Required => (!self.elements.iter().any(|&e| has(e))).then(|| {
                (
                    first,
                    RelViolation::Required(format!(
                        "at least one of {} is required (X12 syntax note {})",
                        list(&self.elements),
                        self.note
                    )),
                )
            }),
            RelKind::Exclusion => {
                let given: Vec<usize> = self.elements.iter().copied().filter(|&e| has(e)).collect();
                (given.len() > 1).then(|| {
                    (
                        given[1],
                        RelViolation::Excluded(format!(
                            "only one of {} may be present, found {} (X12 syntax note {})",
                            list(&self.elements),
                            list(&given),
                            self.note
                        )),
                    )
                })
            }
            RelKind::Conditional => {
                if !has(first) {
                    return None;
                }
                rest.iter().copied().find(|&e| !has(e)).map(|m| {
                    (
                        m,
                        RelViolation::Required(format!(
                            "{} is present, so {} is required (X12 syntax note {})",
                            name(first),
                            list(rest),
                            self.note
                        )),
                    )
                })
            }
            RelKind::ListConditional => {
                if !has(first) || rest.iter().any(|&e| has(e)) {
                    return None;
                }
                Some((
                    rest[0],
                    RelViolation::Required(format!(
                        "{} is present, so at least one of {} is required (X12 syntax note {})",
                        name(first),
                        list(rest),
                        self.note
                    )),
                ))
            }
        }
    }
}

/// What a broken relational condition means for the acknowledgement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RelViolation {
    /// A conditionally required element is missing (997 AK403 code 2).
    Required(String),
    /// An element excluded by another is present (AK403 code 10).
    Excluded(String),
}

/// One transaction set / message in one version.
#[derive(Debug, Clone)]
pub struct SetSpec {
    pub set_type: String,
    pub version: String,
    pub body: Vec<Node>,
    /// Trigger keys of `body`.
    pub keys: Vec<u32>,
    /// [`key_bloom`] of `keys`.
    pub bloom: u64,
    /// Indexes of the mandatory entries of `body`.
    pub mandatory: Vec<usize>,
}

/// One bit per key (a 64-bit Bloom filter): a clear bit means the key is not among `keys`.
/// Why: the structure walk looks for each segment in every open loop, innermost first; with
/// the standard's full tables a loop such as the 850's PO1 has some 50 entries, and scanning
/// them for a segment that belongs one level up was measurable in validation throughput.
pub fn key_bloom(keys: &[u32]) -> u64 {
    keys.iter().fold(0, |b, &k| b | key_bit(k))
}

/// The [`key_bloom`] bit of one key.
#[inline]
pub fn key_bit(key: u32) -> u64 {
    1u64 << (key.wrapping_mul(0x9E37_79B1) >> 26)
}

/// Indexes of the mandatory entries of a body.
pub fn mandatory_of(body: &[Node]) -> Vec<usize> {
    (0..body.len())
        .filter(|&i| body[i].req() == Req::Mandatory)
        .collect()
}

impl SetSpec {
    /// Whether `id` occurs anywhere in this set's structure.
    pub fn knows(&self, id: &str) -> bool {
        let mut ids = Vec::new();
        self.body.iter().for_each(|n| n.collect_ids(&mut ids));
        ids.contains(&id)
    }
}

/// A parsed dictionary + structures for one standard.
#[derive(Debug, Default)]
pub struct Tables {
    pub segments: HashMap<String, Vec<Elem>>,
    /// Version-specific segment definitions (`QTY@D:96A = ...`), keyed by version prefix.
    pub overrides: Vec<(String, HashMap<String, Vec<Elem>>)>,
    /// `segments` and `overrides` keyed by [`tag_key`], for the validation hot path.
    pub fast: TagMap<Vec<Elem>>,
    /// Per version with overrides: the full dictionary with the overrides applied.
    pub fast_overrides: Vec<(String, TagMap<Vec<Elem>>)>,
    /// Relational conditions per segment, keyed by [`tag_key`] (X12 only).
    pub relations: TagMap<Vec<Relation>>,
    pub sets: Vec<SetSpec>,
}

impl Tables {
    /// Finds the structure for `set_type` whose version is a prefix of `version`
    /// (`004010` matches `004010VICS`; `D:96A` matches `D:96A:UN`).
    /// Segment overrides that apply to `version`, if any.
    pub fn overrides_for(&self, version: &str) -> Option<&TagMap<Vec<Elem>>> {
        self.fast_overrides
            .iter()
            .find(|(v, _)| version.starts_with(v.as_str()))
            .map(|(_, m)| m)
    }

    /// Element definitions of a segment by [`tag_key`].
    pub fn segment(&self, key: u32) -> Option<&Vec<Elem>> {
        self.fast.get(&key)
    }

    pub fn set(&self, set_type: &str, version: &str) -> Option<&SetSpec> {
        self.sets
            .iter()
            .find(|s| s.set_type == set_type && version.starts_with(&s.version))
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("spec table line {line}: {msg}")]
pub struct SpecError {
    pub line: usize,
    pub msg: String,
}

/// Parses segment dictionary text and structure text.
pub fn parse_tables(segments: &str, structures: &str) -> Result<Tables, SpecError> {
    let mut t = Tables::default();
    for (n, line) in lines(segments) {
        let (id, rest) = line.split_once('=').ok_or_else(|| err(n, "missing '='"))?;
        let (rest, notes) = rest.split_once('!').unwrap_or((rest, ""));
        let relations = notes
            .split_whitespace()
            .map(|r| Relation::parse(r).map_err(|m| err(n, &m)))
            .collect::<Result<Vec<_>, _>>()?;
        let elems = rest
            .split('|')
            .map(|e| parse_elem(e.trim()).map_err(|m| err(n, &m)))
            .collect::<Result<Vec<_>, _>>()?;
        match id.trim().split_once('@') {
            Some((seg, version)) => {
                if !relations.is_empty() {
                    return Err(err(n, "relational notes belong on the shared definition"));
                }
                let idx = match t.overrides.iter().position(|(v, _)| v == version) {
                    Some(i) => i,
                    None => {
                        t.overrides.push((version.to_string(), HashMap::new()));
                        t.overrides.len() - 1
                    }
                };
                t.overrides[idx].1.insert(seg.to_string(), elems);
            }
            None => {
                if let Some(r) = relations
                    .iter()
                    .find(|r| r.elements.iter().any(|&e| e > elems.len()))
                {
                    return Err(err(
                        n,
                        &format!("{} names an element {} does not have", r.note, id.trim()),
                    ));
                }
                if !relations.is_empty() {
                    t.relations.insert(tag_key(id.trim()), relations);
                }
                t.segments.insert(id.trim().to_string(), elems);
            }
        }
    }
    t.fast = t
        .segments
        .iter()
        .map(|(k, v)| (tag_key(k), v.clone()))
        .collect();
    t.fast_overrides = t
        .overrides
        .iter()
        .map(|(ver, m)| {
            // The whole dictionary with this version's definitions on top: one lookup per segment.
            let mut merged = t.fast.clone();
            merged.extend(m.iter().map(|(k, v)| (tag_key(k), v.clone())));
            (ver.clone(), merged)
        })
        .collect();
    for (n, line) in lines(structures) {
        let (head, rest) = line.split_once('=').ok_or_else(|| err(n, "missing '='"))?;
        let (set_type, version) = head
            .trim()
            .split_once('/')
            .ok_or_else(|| err(n, "expected TYPE/VERSION"))?;
        let mut p = StructParser {
            s: rest.as_bytes(),
            i: 0,
        };
        let body = p.list().map_err(|m| err(n, &m))?;
        p.ws();
        if p.i != p.s.len() {
            return Err(err(n, &format!("unexpected text at {}", p.i)));
        }
        let keys: Vec<u32> = body.iter().map(Node::key).collect();
        let mandatory = mandatory_of(&body);
        for v in version.split(',') {
            t.sets.push(SetSpec {
                set_type: set_type.trim().into(),
                version: v.trim().into(),
                body: body.clone(),
                keys: keys.clone(),
                bloom: key_bloom(&keys),
                mandatory: mandatory.clone(),
            });
        }
    }
    Ok(t)
}

fn err(line: usize, msg: &str) -> SpecError {
    SpecError {
        line,
        msg: msg.to_string(),
    }
}

/// Logical lines: comments removed, `\` continuation not needed because a definition may span
/// lines that start with whitespace.
fn lines(text: &str) -> Vec<(usize, String)> {
    let mut out: Vec<(usize, String)> = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let l = raw.split('#').next().unwrap_or("");
        if l.trim().is_empty() {
            continue;
        }
        if l.starts_with(char::is_whitespace) && !out.is_empty() {
            if let Some(last) = out.last_mut() {
                last.1.push(' ');
                last.1.push_str(l.trim());
            }
        } else {
            out.push((i + 1, l.trim().to_string()));
        }
    }
    out
}

fn parse_req(s: &str) -> Result<Req, String> {
    match s {
        "M" => Ok(Req::Mandatory),
        "O" | "C" => Ok(Req::Optional),
        _ => Err(format!("bad requirement {s:?}")),
    }
}

fn parse_elem(s: &str) -> Result<Elem, String> {
    let (req, rest) = s
        .split_once(' ')
        .ok_or_else(|| format!("bad element {s:?}"))?;
    let req = parse_req(req)?;
    let rest = rest.trim();
    if let Some(inner) = rest.strip_prefix("C[") {
        let inner = inner.strip_suffix(']').ok_or("unclosed composite")?;
        let comps = inner.split(';').map(|c| match parse_elem(c.trim())? {
            Elem::Simple(e) => Ok(e),
            Elem::Composite(..) => Err("nested composite".to_string()),
        });
        return Ok(Elem::Composite(req, comps.collect::<Result<_, _>>()?));
    }
    let (ty_len, codes) = match rest.split_once(':') {
        Some((a, b)) => (a, b.split(',').map(|c| c.trim().to_string()).collect()),
        None => (rest, Vec::new()),
    };
    let split = ty_len
        .find(|c: char| c.is_ascii_digit() || c == '.')
        .unwrap_or(ty_len.len());
    let (ty, len) = ty_len.split_at(split);
    let ty = match ty {
        "ID" => Ty::Id,
        "AN" | "an" => Ty::An,
        "a" => Ty::A,
        "n" | "R" => Ty::R,
        "DT" => Ty::Dt,
        "TM" => Ty::Tm,
        "N" => {
            let d = len
                .as_bytes()
                .first()
                .filter(|b| b.is_ascii_digit())
                .ok_or("N needs decimals digit")?
                - b'0';
            let (_, l) = len.split_at(1);
            return finish(req, Ty::N(d), l, codes);
        }
        other => return Err(format!("unknown type {other:?}")),
    };
    finish(req, ty, len, codes)
}

fn finish(req: Req, ty: Ty, len: &str, codes: Vec<String>) -> Result<Elem, String> {
    let len = len.trim();
    let (min, max) = if let Some(m) = len.strip_prefix("..") {
        (1, m.parse().map_err(|_| format!("bad length {len:?}"))?)
    } else if let Some((a, b)) = len.split_once('/') {
        (
            a.parse().map_err(|_| format!("bad length {len:?}"))?,
            b.parse().map_err(|_| format!("bad length {len:?}"))?,
        )
    } else {
        let n = len.parse().map_err(|_| format!("bad length {len:?}"))?;
        (n, n)
    };
    Ok(Elem::Simple(El {
        req,
        ty,
        min,
        max,
        codes,
    }))
}

struct StructParser<'a> {
    s: &'a [u8],
    i: usize,
}

impl StructParser<'_> {
    fn ws(&mut self) {
        while self.i < self.s.len() && (self.s[self.i] as char).is_whitespace() {
            self.i += 1;
        }
    }
    fn word(&mut self) -> String {
        self.ws();
        let st = self.i;
        while self.i < self.s.len()
            && (self.s[self.i].is_ascii_alphanumeric() || self.s[self.i] == b'>')
        {
            self.i += 1;
        }
        String::from_utf8_lossy(&self.s[st..self.i]).into_owned()
    }
    fn req_max(&mut self) -> Result<(Req, u32), String> {
        let w = self.word();
        let (r, m) = w.split_at(1.min(w.len()));
        let req = parse_req(r)?;
        let max = if m == ">1" {
            u32::MAX
        } else {
            m.parse().map_err(|_| format!("bad max use {w:?}"))?
        };
        Ok((req, max))
    }
    fn list(&mut self) -> Result<Vec<Node>, String> {
        let mut out = Vec::new();
        loop {
            self.ws();
            if self.i >= self.s.len() || self.s[self.i] == b']' {
                return Ok(out);
            }
            if self.s[self.i] == b'[' {
                self.i += 1;
                let id = self.word();
                let (req, max) = self.req_max()?;
                self.ws();
                if self.s.get(self.i) != Some(&b':') {
                    return Err(format!("expected ':' after loop {id}"));
                }
                self.i += 1;
                let body = self.list()?;
                if self.s.get(self.i) != Some(&b']') {
                    return Err(format!("unclosed loop {id}"));
                }
                self.i += 1;
                if body.is_empty() {
                    return Err(format!("empty loop {id}"));
                }
                let key = body[0].key();
                let keys: Vec<u32> = body.iter().map(Node::key).collect();
                let bloom = key_bloom(&keys[1..]);
                let mandatory = mandatory_of(&body);
                out.push(Node::Loop {
                    id,
                    key,
                    req,
                    max,
                    body,
                    keys,
                    bloom,
                    mandatory,
                });
            } else {
                let id = self.word();
                if id.is_empty() {
                    return Err(format!("unexpected character {:?}", self.s[self.i] as char));
                }
                let (req, max) = self.req_max()?;
                out.push(Node::Seg {
                    key: tag_key(&id),
                    id,
                    req,
                    max,
                });
            }
            self.ws();
            if self.s.get(self.i) == Some(&b';') {
                self.i += 1;
            }
        }
    }
}

#[cfg(test)]
mod tests {

    #[test]
    fn relational_conditions_follow_the_x12_definitions() {
        let rel = |s: &str| Relation::parse(s).expect(s);
        let bits = |els: &[usize]| els.iter().fold(0u64, |b, e| b | 1 << (e - 1));
        // P: all or none.
        let p = rel("P0304");
        assert_eq!(p.violation("N1", bits(&[1, 2])), None);
        assert_eq!(p.violation("N1", bits(&[1, 3, 4])), None);
        let (el, v) = p.violation("N1", bits(&[1, 3])).expect("N104 missing");
        assert_eq!(el, 4);
        assert!(matches!(v, RelViolation::Required(m) if m.contains("N103 is present, so N104")));
        // R: at least one.
        let r = rel("R020305");
        assert_eq!(r.violation("DTM", bits(&[1, 5])), None);
        assert_eq!(r.violation("DTM", bits(&[1])).map(|x| x.0), Some(2));
        // E: at most one.
        let e = rel("E0207");
        assert_eq!(e.violation("N4", bits(&[2])), None);
        let (el, v) = e.violation("N4", bits(&[2, 7])).expect("both present");
        assert_eq!(el, 7);
        assert!(matches!(v, RelViolation::Excluded(_)));
        // C: if the first, then all the others.
        let c = rel("C0302");
        assert_eq!(c.violation("PO1", bits(&[2])), None);
        assert_eq!(c.violation("PO1", bits(&[3])).map(|x| x.0), Some(2));
        // L: if the first, then at least one of the others.
        let l = rel("L010203");
        assert_eq!(l.violation("X", bits(&[2])), None);
        assert_eq!(l.violation("X", bits(&[1, 3])), None);
        assert_eq!(l.violation("X", bits(&[1])).map(|x| x.0), Some(2));
        // The mask check and the message builder agree on every presence pattern.
        for note in ["P0304", "R020305", "E0207", "C0302", "L010203", "C0102"] {
            let r = rel(note);
            for present in 0u64..256 {
                assert_eq!(
                    r.holds(present),
                    r.violation("X", present).is_none(),
                    "{note} {present:b}"
                );
            }
        }
        // Malformed notes are table errors.
        for bad in ["Q0102", "P01", "P010", "P0001", "Pxx01"] {
            assert!(Relation::parse(bad).is_err(), "{bad}");
        }
        let t = parse_tables("N1 = M ID2/3 | C AN1/60 ! P0203 P0304", "");
        assert!(t.is_err(), "a note naming a missing element is rejected");
    }

    use super::*;

    #[test]
    fn notation_parses_elements_composites_and_loops() {
        let t = parse_tables(
            "N1 = M ID2/3:BY,ST | C AN1/60\nUNH = M an..14 | M C[M an..6; M an3]\nX = O N2 1/10",
            "850/004010,005010 = ST M1; [N1 O200: N1 M1; N3 O2]; SE M1",
        )
        .expect("tables parse");
        assert_eq!(
            t.segments["N1"][0],
            Elem::Simple(El {
                req: Req::Mandatory,
                ty: Ty::Id,
                min: 2,
                max: 3,
                codes: vec!["BY".into(), "ST".into()]
            })
        );
        assert!(
            matches!(&t.segments["UNH"][1], Elem::Composite(Req::Mandatory, c) if c[1].min == 3 && c[1].max == 3)
        );
        assert!(t.set("850", "004010VICS").is_some());
        assert!(t.set("850", "003010").is_none());
        assert!(t.set("850", "005010").expect("005010").knows("N3"));
    }

    #[test]
    fn broken_notation_is_an_error_not_a_panic() {
        assert!(parse_tables("N1 = Q ID2/3", "").is_err());
        assert!(parse_tables("", "850/004010 = ST M1; [N1 O2: N1 M1").is_err());
    }
}
