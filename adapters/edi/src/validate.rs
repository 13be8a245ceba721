//! Validation of every transaction set / message of an interchange against the tables in
//! [`crate::spec`]: segment order and loops, requirement and max use, element types, lengths
//! and code lists, plus the checks a table cannot express (856 HL hierarchy, DESADV CPS
//! hierarchy, CTT line counts, EDIFACT DTM formats).

use crate::interchange::Interchange;
use crate::report::{Code, Issue, Location, Severity};
use crate::spec::{
    self, tag_key, El, Elem, Node, RelViolation, Relation, Req, SetSpec, Tables, Ty,
};
use crate::syntax::{decode, unescape, Delimiters, Segment, Split, Standard};
use serde::Serialize;
use std::collections::HashMap;

/// Outcome for one transaction set / message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SetStatus {
    Accepted,
    /// Only warnings.
    AcceptedWithWarnings,
    Rejected,
    /// No table for this set type and version: envelope checked only.
    NotSupported,
}

/// Validation result of one interchange: envelope issues plus per-set issues, and a status per
/// set (indexed like `Interchange::groups[g].sets[s]`).
#[derive(Debug, Clone, Serialize)]
pub struct Validation {
    pub issues: Vec<Issue>,
    pub set_status: Vec<Vec<SetStatus>>,
}

impl Validation {
    pub fn is_valid(&self) -> bool {
        !self.issues.iter().any(Issue::is_error)
    }
    pub fn errors(&self) -> impl Iterator<Item = &Issue> {
        self.issues.iter().filter(|i| i.severity == Severity::Error)
    }
    /// Issues that belong to group `g`, set `s`.
    pub fn set_issues(&self, g: usize, s: usize) -> impl Iterator<Item = &Issue> {
        self.issues
            .iter()
            .filter(move |i| i.scope.group == Some(g) && i.scope.set == Some(s))
    }
}

/// Validates every set of `ic` (envelope issues are copied in first).
pub fn validate(ic: &Interchange) -> Validation {
    let mut issues = ic.issues.clone();
    let tables = match ic.standard {
        Standard::X12 => spec::x12::tables(),
        Standard::Edifact => spec::edifact::tables(),
    };
    if let Ok(t) = tables {
        check_envelope_elements(ic, t, &mut issues);
    }
    let mut set_status = Vec::with_capacity(ic.groups.len());
    for (g, group) in ic.groups.iter().enumerate() {
        let mut statuses = Vec::with_capacity(group.sets.len());
        for s in 0..group.sets.len() {
            let before = issues.len();
            let supported = match tables {
                Ok(t) => validate_set(ic, t, g, s, &mut issues),
                Err(e) => {
                    issues.push(
                        Issue::error(
                            Code::UnsupportedSet,
                            ic.loc(),
                            format!("internal specification tables are broken: {e}"),
                        )
                        .in_scope(Some(g), Some(s)),
                    );
                    false
                }
            };
            let envelope_err = ic
                .issues
                .iter()
                .any(|i| i.is_error() && i.scope.group == Some(g) && i.scope.set == Some(s));
            let new_err = issues[before..].iter().any(Issue::is_error);
            let new_warn = issues[before..].iter().any(|i| !i.is_error());
            statuses.push(if envelope_err || new_err {
                SetStatus::Rejected
            } else if !supported {
                SetStatus::NotSupported
            } else if new_warn {
                SetStatus::AcceptedWithWarnings
            } else {
                SetStatus::Accepted
            });
        }
        set_status.push(statuses);
    }
    Validation { issues, set_status }
}

/// Returns false when the set has no table (a warning is recorded).
fn validate_set(
    ic: &Interchange,
    tables: &Tables,
    g: usize,
    s: usize,
    out: &mut Vec<Issue>,
) -> bool {
    let group = &ic.groups[g];
    let set = &group.sets[s];
    let Some(spec) = tables.set(&set.set_type, &set.version) else {
        let loc = ic.seg_loc(set.header, Some(group), Some(set));
        out.push(
            Issue::warning(
                Code::UnsupportedSet,
                loc,
                format!(
                    "{} version {:?} is not one we validate; only the envelope was checked",
                    set.set_type, set.version
                ),
            )
            .in_scope(Some(g), Some(s)),
        );
        return false;
    };
    let mut ctx = SetCtx {
        ic,
        g: Some(g),
        s: Some(s),
        out,
        hl: HashMap::new(),
        hl_prev: 0,
        line_count: 0,
    };
    let dictionary = tables.overrides_for(&set.version).unwrap_or(&tables.fast);
    let mut m = Matcher::new(&spec.body, &spec.keys, spec.bloom, &spec.mandatory);
    let range = set.range(ic.len());
    for i in range {
        let seg = ic.segment(i);
        let key = seg.key();
        match m.feed(key) {
            Some(fed) => {
                for miss in fed.missing {
                    ctx.push(
                        i,
                        Some(fed.loop_id),
                        None,
                        None,
                        Code::MissingSegment,
                        format!("required {miss} missing before this {}", seg.id()),
                    );
                }
                if let Some((is_loop, name, max)) = fed.over {
                    let (code, what) = if is_loop {
                        (Code::LoopOverMax, "loop")
                    } else {
                        (Code::SegmentOverMaxUse, "segment")
                    };
                    ctx.push(
                        i,
                        Some(fed.loop_id),
                        None,
                        None,
                        code,
                        format!("{what} {name} occurs more than the {max} times allowed"),
                    );
                }
                if let Some(defs) = dictionary.get(&key) {
                    let present = check_elements(&mut ctx, i, &seg, defs, fed.loop_id);
                    if let Some(rels) = tables.relations.get(&key) {
                        check_relations(&mut ctx, i, &seg, rels, present, fed.loop_id);
                    }
                }
                set_specific(&mut ctx, spec, i, &seg);
            }
            None => {
                let loop_id = m.current_loop().to_string();
                let id = seg.id();
                if spec.knows(id) {
                    ctx.push(
                        i,
                        Some(&loop_id),
                        None,
                        None,
                        Code::UnexpectedSegment,
                        format!(
                            "segment {id} is not allowed here (out of order or outside its loop)"
                        ),
                    );
                } else {
                    ctx.push(
                        i,
                        Some(&loop_id),
                        None,
                        None,
                        Code::UnrecognizedSegment,
                        format!(
                            "segment {id} is not defined in {} {}",
                            set.set_type, spec.version
                        ),
                    );
                }
            }
        }
    }
    let last = set.trailer.unwrap_or(ic.len() - 1);
    let trailer_ids = ["SE", "UNT"];
    for miss in m.finish() {
        if !trailer_ids.contains(&miss.as_str()) {
            ctx.push(
                last,
                None,
                None,
                None,
                Code::MissingSegment,
                format!("required {miss} missing from the {}", set.set_type),
            );
        }
    }
    true
}

struct SetCtx<'a, 'o> {
    ic: &'a Interchange,
    g: Option<usize>,
    s: Option<usize>,
    out: &'o mut Vec<Issue>,
    /// HL01 / CPS id → level code.
    hl: HashMap<String, String>,
    hl_prev: u64,
    line_count: usize,
}

impl SetCtx<'_, '_> {
    fn push(
        &mut self,
        i: usize,
        loop_id: Option<&str>,
        element: Option<usize>,
        component: Option<usize>,
        code: Code,
        msg: String,
    ) {
        let group = self.g.and_then(|g| self.ic.groups.get(g));
        let set = group.zip(self.s).and_then(|(gr, s)| gr.sets.get(s));
        let mut loc: Location = self.ic.seg_loc(i, group, set);
        loc.loop_id = loop_id.filter(|l| !l.is_empty()).map(str::to_string);
        loc.element = element;
        loc.component = component;
        self.out
            .push(Issue::error(code, loc, msg).in_scope(self.g, self.s));
    }
}

/// Walks a structure the way X12 and EDIFACT translators do: a segment either continues the
/// current loop, starts a later entry at the same level (skipping optional ones), starts a new
/// iteration of a loop one or more levels up, or is out of place.
struct Matcher<'s> {
    stack: Vec<Frame<'s>>,
    /// Count vectors of popped frames, reused so a loop iteration allocates nothing.
    spare: Vec<Vec<u32>>,
}

struct Frame<'s> {
    name: &'s str,
    body: &'s [Node],
    keys: &'s [u32],
    /// `spec::key_bloom` of the keys a segment can match here (a loop's trigger excluded).
    bloom: u64,
    mandatory: &'s [usize],
    pos: usize,
    counts: Vec<u32>,
}

struct Fed<'s> {
    missing: Vec<String>,
    /// (is_loop, name, max) when the max use / repeat was exceeded.
    over: Option<(bool, String, u32)>,
    loop_id: &'s str,
}

impl<'s> Matcher<'s> {
    fn new(body: &'s [Node], keys: &'s [u32], bloom: u64, mandatory: &'s [usize]) -> Self {
        Matcher {
            stack: vec![Frame {
                name: "",
                body,
                keys,
                bloom,
                mandatory,
                pos: 0,
                counts: vec![0; body.len()],
            }],
            spare: Vec::new(),
        }
    }

    fn current_loop(&self) -> &str {
        self.stack.last().map(|f| f.name).unwrap_or("")
    }

    fn close(frame: &Frame<'_>, missing: &mut Vec<String>) {
        let from = if frame.counts.get(frame.pos).copied().unwrap_or(0) > 0 {
            frame.pos + 1
        } else {
            frame.pos
        };
        for &j in frame.mandatory.iter().filter(|&&j| j >= from) {
            if frame.counts[j] == 0 {
                missing.push(frame.body[j].name().to_string());
            }
        }
    }

    fn feed(&mut self, key: u32) -> Option<Fed<'s>> {
        let bit = crate::spec::key_bit(key);
        for depth in (0..self.stack.len()).rev() {
            let f = &self.stack[depth];
            if f.bloom & bit == 0 {
                continue;
            }
            // Inside a loop the trigger segment (body[0]) starts a new iteration, which the
            // parent frame handles.
            let start = if depth > 0 { f.pos.max(1) } else { f.pos };
            let found = f
                .keys
                .get(start..)
                .and_then(|ks| ks.iter().position(|&x| x == key));
            let Some(k) = found.map(|p| p + start) else {
                continue;
            };
            let mut missing = Vec::new();
            while self.stack.len() > depth + 1 {
                if let Some(top) = self.stack.pop() {
                    Self::close(&top, &mut missing);
                    self.spare.push(top.counts);
                }
            }
            let f = &mut self.stack[depth];
            let from = if f.counts[f.pos] > 0 {
                f.pos + 1
            } else {
                f.pos
            };
            for &j in f.mandatory.iter().filter(|&&j| j >= from && j < k) {
                if f.counts[j] == 0 {
                    missing.push(f.body[j].name().to_string());
                }
            }
            f.pos = k;
            f.counts[k] = f.counts[k].saturating_add(1);
            let node = &f.body[k];
            let over = (f.counts[k] > node.max()).then(|| {
                (
                    matches!(node, Node::Loop { .. }),
                    node.name().to_string(),
                    node.max(),
                )
            });
            if let Node::Loop {
                id: name,
                body,
                keys,
                bloom,
                mandatory,
                ..
            } = node
            {
                let mut counts = self.spare.pop().unwrap_or_default();
                counts.clear();
                counts.resize(body.len(), 0);
                counts[0] = 1;
                self.stack.push(Frame {
                    name,
                    body,
                    keys,
                    bloom: *bloom,
                    mandatory,
                    pos: 0,
                    counts,
                });
            }
            let loop_id = self.stack.last().map(|f| f.name).unwrap_or("");
            return Some(Fed {
                missing,
                over,
                loop_id,
            });
        }
        None
    }

    fn finish(mut self) -> Vec<String> {
        let mut missing = Vec::new();
        while let Some(top) = self.stack.pop() {
            Self::close(&top, &mut missing);
        }
        missing
    }
}

/// The common case in one pass: a segment with no release character and no repetition, all
/// ASCII. Splits elements and components and classifies every byte in the same loop, then
/// judges each value from those counts. It only ever answers "all clean" (with the presence
/// bits); on anything else — a problem, non-ASCII text, a control character — it answers `None`
/// and the full check runs, so every message comes from one place ([`check_value`]). The test
/// `fast_path_agrees_with_the_full_check` holds it to that over every fixture and the corpus.
/// Why: the general path costs a separator search, an unescape check and a classification
/// pass per value; on EDIFACT, where values are a few bytes long, that overhead was most of
/// the validation time.
fn elements_fast(bytes: &[u8], d: &Delimiters, edifact: bool, defs: &[Elem]) -> Option<u64> {
    let Some(tag_end) = bytes.iter().position(|&b| b == d.element) else {
        // Tag only: clean unless an element is mandatory.
        return defs.iter().all(|e| e.req() != Req::Mandatory).then_some(0);
    };
    let mut present = 0u64;
    let mut idx = 0usize; // element (0-based)
    let mut comp = 0usize; // component within the element
    let mut elem_start = tag_end + 1;
    let mut start = elem_start; // start of the current component
    let mut n_digits = 0usize;
    let mut i = start;
    loop {
        let b = bytes.get(i).copied();
        let def = defs.get(idx);
        let splits_components = edifact || matches!(def, Some(Elem::Composite(..)));
        let end_of_element = b.is_none() || b == Some(d.element);
        let end_of_component = end_of_element || (splits_components && b == Some(d.component));
        if !end_of_component {
            let c = b.unwrap_or(0);
            if !(0x20..0x7f).contains(&c) {
                return None; // control or non-ASCII: the full check decides
            }
            n_digits += c.is_ascii_digit() as usize;
            i += 1;
            continue;
        }
        let value = &bytes[start..i];
        let elem_empty = end_of_element && i == elem_start;
        match def {
            None => {
                if !value.is_empty() || (end_of_element && i != elem_start) {
                    return None; // too many elements
                }
            }
            Some(Elem::Simple(el)) => {
                // EDIFACT judges a simple element by its first component.
                if comp == 0 && !value_ok(value, n_digits, el, d.decimal) {
                    return None;
                }
            }
            Some(Elem::Composite(req, comps)) => {
                if elem_empty {
                    if *req == Req::Mandatory {
                        return None;
                    }
                } else {
                    match comps.get(comp) {
                        Some(el) if !value_ok(value, n_digits, el, d.decimal) => return None,
                        Some(_) => {}
                        None if !value.is_empty() => return None, // too many components
                        None => {}
                    }
                    // Components after the last one sent.
                    if end_of_element
                        && comps.iter().skip(comp + 1).any(|c| c.req == Req::Mandatory)
                    {
                        return None;
                    }
                }
            }
        }
        if end_of_element {
            if !elem_empty && idx < 64 {
                present |= 1 << idx;
            }
            idx += 1;
            if b.is_none() {
                break;
            }
            comp = 0;
            elem_start = i + 1;
        } else {
            comp += 1;
        }
        i += 1;
        start = i;
        n_digits = 0;
    }
    // Mandatory elements after the last one sent.
    if defs.iter().skip(idx).any(|e| e.req() == Req::Mandatory) {
        return None;
    }
    Some(present)
}

/// [`check_value`]'s verdict for a non-empty-or-empty ASCII value without release characters,
/// from the digit count the caller already has.
#[inline]
fn value_ok(b: &[u8], n_digits: usize, el: &El, decimal: u8) -> bool {
    if b.is_empty() {
        return el.req != Req::Mandatory;
    }
    let ok = match el.ty {
        Ty::N(_) => {
            let digits = b.strip_prefix(b"-").unwrap_or(b);
            !digits.is_empty() && digits.len() == n_digits
        }
        Ty::R => {
            let body = b.strip_prefix(b"-").unwrap_or(b);
            let seps = body.iter().filter(|&&c| c == b'.' || c == decimal).count();
            !body.is_empty() && seps <= 1 && n_digits > 0 && n_digits + seps == body.len()
        }
        Ty::Dt => valid_date_bytes(b),
        Ty::Tm => valid_time_bytes(b),
        Ty::A => n_digits == 0,
        Ty::Id | Ty::An => true,
    };
    let len = match el.ty {
        Ty::N(_) | Ty::R => n_digits,
        _ => b.len(),
    };
    ok && len >= el.min
        && len <= el.max
        && (el.codes.is_empty() || el.codes.iter().any(|c| c.as_bytes() == b))
}

/// X12 relational conditions (syntax notes) of one segment, given which elements have data.
fn check_relations(
    ctx: &mut SetCtx<'_, '_>,
    i: usize,
    seg: &Segment<'_>,
    rels: &[Relation],
    present: u64,
    loop_id: &str,
) {
    for rel in rels.iter().filter(|r| !r.holds(present)) {
        if let Some((el, v)) = rel.violation(seg.id(), present) {
            let (code, msg) = match v {
                RelViolation::Required(m) => (Code::ConditionalRequired, m),
                RelViolation::Excluded(m) => (Code::ExclusionViolated, m),
            };
            ctx.push(i, Some(loop_id), Some(el), None, code, msg);
        }
    }
}

/// Checks every element against its definition; returns which elements have data (bit `n-1`
/// for element `n`, up to 64) for the relational conditions.
fn check_elements(
    ctx: &mut SetCtx<'_, '_>,
    i: usize,
    seg: &Segment<'_>,
    defs: &[Elem],
    loop_id: &str,
) -> u64 {
    let mut d = *seg.delims;
    // Most segments carry no release character at all: then nothing needs unescaping and the
    // splits need not look back for one.
    if let Some(r) = d.release {
        if memchr::memchr(r, seg.bytes).is_none() {
            d.release = None;
        }
    }
    if d.release.is_none()
        && d.repetition
            .is_none_or(|r| memchr::memchr(r, seg.bytes).is_none())
    {
        if let Some(present) = elements_fast(seg.bytes, &d, seg.delims.release.is_some(), defs) {
            return present;
        }
    }
    check_elements_full(ctx, i, seg, defs, loop_id, d)
}

/// The general element check: release characters, repetitions, non-ASCII text, and every
/// message. `d` is the segment's delimiters with `release` cleared when the segment has none.
fn check_elements_full(
    ctx: &mut SetCtx<'_, '_>,
    i: usize,
    seg: &Segment<'_>,
    defs: &[Elem],
    loop_id: &str,
    d: Delimiters,
) -> u64 {
    let mut present = 0u64;
    let decimal = d.decimal;
    // Without a repetition separator the element is its only repetition (no second scan).
    let rep_sep = d.repetition;
    let mut n = 0;
    for (idx, raw) in seg.elements().enumerate() {
        n = idx + 1;
        if !raw.is_empty() && idx < 64 {
            present |= 1 << idx;
        }
        let Some(def) = defs.get(idx) else {
            if !raw.is_empty() {
                ctx.push(
                    i,
                    Some(loop_id),
                    Some(n),
                    None,
                    Code::TooManyElements,
                    format!(
                        "{} has at most {} elements, found data in element {n}",
                        seg.id(),
                        defs.len()
                    ),
                );
            }
            continue;
        };
        // Repeated elements: every repetition is checked against the same definition.
        let mut reps = rep_sep.map(|r| Split::new(raw, r, d.release));
        let mut single = Some(raw);
        while let Some(rep) = match reps.as_mut() {
            Some(it) => it.next(),
            None => single.take(),
        } {
            match def {
                Elem::Simple(el) => {
                    // EDIFACT: a simple element sent with components is judged by its first one.
                    let value = match seg.delims.release {
                        Some(_) => Split::new(rep, d.component, d.release)
                            .next()
                            .unwrap_or(rep),
                        None => rep,
                    };
                    if let Some((code, msg)) = check_value(value, el, d.release, decimal) {
                        ctx.push(i, Some(loop_id), Some(n), None, code, msg);
                    }
                }
                Elem::Composite(req, comps) => {
                    if rep.is_empty() {
                        if *req == Req::Mandatory {
                            ctx.push(
                                i,
                                Some(loop_id),
                                Some(n),
                                None,
                                Code::MissingElement,
                                "required composite element is missing".into(),
                            );
                        }
                        continue;
                    }
                    let mut parts = Split::new(rep, d.component, d.release);
                    for (c, comp) in comps.iter().enumerate() {
                        let v = parts.next().unwrap_or(b"");
                        if let Some((code, msg)) = check_value(v, comp, d.release, decimal) {
                            ctx.push(i, Some(loop_id), Some(n), Some(c + 1), code, msg);
                        }
                    }
                    if parts.any(|p| !p.is_empty()) {
                        ctx.push(
                            i,
                            Some(loop_id),
                            Some(n),
                            Some(comps.len() + 1),
                            Code::TooManyElements,
                            format!("composite has at most {} components", comps.len()),
                        );
                    }
                }
            }
        }
    }
    for (idx, def) in defs.iter().enumerate().skip(n) {
        if def.req() == Req::Mandatory {
            ctx.push(
                i,
                Some(loop_id),
                Some(idx + 1),
                None,
                Code::MissingElement,
                "required element is missing".into(),
            );
        }
    }
    present
}

/// Element checks of the envelope segments (ISA/GS/GE/IEA, UNB/UNG/UNE/UNZ).
fn check_envelope_elements(ic: &Interchange, t: &Tables, out: &mut Vec<Issue>) {
    let mut ctx = SetCtx {
        ic,
        g: None,
        s: None,
        out,
        hl: HashMap::new(),
        hl_prev: 0,
        line_count: 0,
    };
    let mut idx: Vec<(usize, Option<usize>)> = vec![(0, None)];
    for (g, group) in ic.groups.iter().enumerate() {
        idx.extend(
            group
                .header
                .iter()
                .chain(group.trailer.iter())
                .map(|&i| (i, Some(g))),
        );
    }
    if ic.has_trailer {
        if let Some(last) = (0..ic.len())
            .rev()
            .find(|&i| matches!(ic.segment(i).id(), "IEA" | "UNZ"))
        {
            idx.push((last, None));
        }
    }
    for (i, g) in idx {
        let seg = ic.segment(i);
        if let Some(defs) = t.segment(tag_key(seg.id())) {
            ctx.g = g;
            // The ISA carries the repetition separator as data in ISA11; no splitting there.
            let mut plain = *seg.delims;
            plain.repetition = None;
            let seg = Segment {
                delims: &plain,
                ..seg
            };
            check_elements(&mut ctx, i, &seg, defs, "");
            // GS04 is CCYYMMDD from 004010 on (YYMMDD before).
            if seg.id() == "GS" && seg.get(8).as_ref() >= "004" && seg.get(4).len() == 6 {
                let v = seg.get(4).into_owned();
                ctx.push(
                    i,
                    None,
                    Some(4),
                    None,
                    Code::InvalidDate,
                    format!("GS04 {v:?} must be CCYYMMDD in version 004010 and later"),
                );
            }
        }
    }
}

/// Checks one simple value; `None` when it is fine.
pub fn check_value(
    raw: &[u8],
    el: &El,
    release: Option<u8>,
    decimal: u8,
) -> Option<(Code, String)> {
    if raw.is_empty() {
        return (el.req == Req::Mandatory).then(|| {
            (
                Code::MissingElement,
                "required element is missing".to_string(),
            )
        });
    }
    let bytes = unescape(raw, release);
    let b: &[u8] = &bytes;
    // Judged on bytes: everything but the length is ASCII-only syntax, and the length of
    // non-ASCII text is counted in characters after decoding.
    let shown = || decode(b).into_owned();
    // One pass over the bytes classifies them; non-ASCII text is decoded only when present.
    let (mut non_ascii, mut control, mut n_digits) = (false, false, 0usize);
    for &c in b {
        if c >= 0x80 {
            non_ascii = true;
        } else if c < 0x20 || c == 0x7f {
            control = true;
        } else if c.is_ascii_digit() {
            n_digits += 1;
        }
    }
    let len = match el.ty {
        Ty::N(_) | Ty::R => n_digits,
        _ if !non_ascii => b.len(),
        _ => decode(b).chars().count(),
    };
    let control = control || (non_ascii && decode(b).chars().any(char::is_control));
    if control {
        return Some((
            Code::InvalidCharacter,
            format!(
                "value {:?} contains a control character (line break or tab inside data)",
                shown()
            ),
        ));
    }
    match el.ty {
        Ty::N(_) => {
            let digits = b.strip_prefix(b"-").unwrap_or(b);
            if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
                return Some((
                    Code::InvalidNumber,
                    format!("{:?} is not a whole number (implied decimals)", shown()),
                ));
            }
        }
        Ty::R => {
            let body = b.strip_prefix(b"-").unwrap_or(b);
            let seps = body.iter().filter(|&&c| c == b'.' || c == decimal).count();
            let ok = !body.is_empty()
                && seps <= 1
                && body
                    .iter()
                    .all(|&c| c.is_ascii_digit() || c == b'.' || c == decimal)
                && body.iter().any(u8::is_ascii_digit);
            if !ok {
                return Some((
                    Code::InvalidNumber,
                    format!("{:?} is not a number", shown()),
                ));
            }
        }
        Ty::Dt => {
            if !valid_date_bytes(b) {
                return Some((
                    Code::InvalidDate,
                    format!("{:?} is not a valid date (CCYYMMDD or YYMMDD)", shown()),
                ));
            }
        }
        Ty::Tm => {
            if !valid_time_bytes(b) {
                return Some((
                    Code::InvalidTime,
                    format!(
                        "{:?} is not a valid time (HHMM, HHMMSS, HHMMSSd..)",
                        shown()
                    ),
                ));
            }
        }
        Ty::A => {
            if b.iter().any(u8::is_ascii_digit) {
                return Some((
                    Code::InvalidCharacter,
                    format!("{:?} must be alphabetic", shown()),
                ));
            }
        }
        Ty::Id | Ty::An => {}
    }
    if len < el.min {
        return Some((
            Code::TooShort,
            format!(
                "{:?} is shorter than the minimum length {}",
                shown(),
                el.min
            ),
        ));
    }
    if len > el.max {
        return Some((
            Code::TooLong,
            format!("{:?} is longer than the maximum length {}", shown(), el.max),
        ));
    }
    if !el.codes.is_empty() && !el.codes.iter().any(|c| c.as_bytes() == b) {
        return Some((
            Code::InvalidCode,
            format!("code {:?} is not one of {}", shown(), el.codes.join(", ")),
        ));
    }
    None
}

fn digits(b: &[u8]) -> u32 {
    b.iter().fold(0u32, |n, c| {
        n.saturating_mul(10)
            .saturating_add((c.wrapping_sub(b'0')) as u32)
    })
}

fn valid_date_bytes(b: &[u8]) -> bool {
    if !b.iter().all(u8::is_ascii_digit) {
        return false;
    }
    let (y, m, d) = match b.len() {
        8 => (digits(&b[..4]) as i32, digits(&b[4..6]), digits(&b[6..8])),
        // YYMMDD: the century only matters for 29 February, and 2000 was a leap year too.
        6 => (
            2000 + digits(&b[..2]) as i32,
            digits(&b[2..4]),
            digits(&b[4..6]),
        ),
        _ => return false,
    };
    chrono::NaiveDate::from_ymd_opt(y, m, d).is_some()
}

fn valid_time_bytes(b: &[u8]) -> bool {
    if !b.iter().all(u8::is_ascii_digit) || !(4..=8).contains(&b.len()) || b.len() == 5 {
        return false;
    }
    digits(&b[..2]) < 24 && digits(&b[2..4]) < 60 && (b.len() < 6 || digits(&b[4..6]) < 60)
}

pub fn valid_date(v: &str) -> bool {
    valid_date_bytes(v.as_bytes())
}

pub fn valid_time(v: &str) -> bool {
    valid_time_bytes(v.as_bytes())
}

/// Checks that need more than one segment's view.
fn set_specific(ctx: &mut SetCtx<'_, '_>, spec: &SetSpec, i: usize, seg: &Segment<'_>) {
    const CHECKED: [u32; 6] = [
        tag_key("HL"),
        tag_key("CPS"),
        tag_key("PO1"),
        tag_key("IT1"),
        tag_key("CTT"),
        tag_key("DTM"),
    ];
    if !CHECKED.contains(&seg.key()) {
        return;
    }
    match (spec.set_type.as_str(), seg.id()) {
        ("856", "HL") => {
            let (id, parent, level) = (
                seg.get(1).into_owned(),
                seg.get(2).into_owned(),
                seg.get(3).into_owned(),
            );
            hierarchy(ctx, i, "HL", &id, &parent, Some(&level));
        }
        ("DESADV", "CPS") => {
            let (id, parent) = (seg.get(1).into_owned(), seg.get(2).into_owned());
            hierarchy(ctx, i, "CPS", &id, &parent, None);
        }
        ("850" | "855", "PO1") | ("810", "IT1") => ctx.line_count += 1,
        ("850" | "855" | "810", "CTT") => {
            let said = seg.get(1);
            if said.parse::<usize>().ok() != Some(ctx.line_count) {
                let n = ctx.line_count;
                ctx.push(
                    i,
                    None,
                    Some(1),
                    None,
                    Code::CountMismatch,
                    format!("CTT01 says {said} line items but the set has {n}"),
                );
            }
        }
        (_, "DTM") if seg.delims.release.is_some() => {
            let (value, fmt) = (seg.component(1, 2), seg.component(1, 3));
            // Byte slices: a value with multi-byte characters must not be cut inside one.
            let v = value.as_bytes();
            let ok = match fmt.as_ref() {
                "102" => v.len() == 8 && valid_date_bytes(v),
                "101" => v.len() == 6 && valid_date_bytes(v),
                "203" => v.len() == 12 && valid_date_bytes(&v[..8]) && valid_time_bytes(&v[8..]),
                "204" => v.len() == 14 && valid_date_bytes(&v[..8]) && valid_time_bytes(&v[8..]),
                "718" => {
                    v.len() == 17
                        && v[8] == b'-'
                        && valid_date_bytes(&v[..8])
                        && valid_date_bytes(&v[9..])
                }
                _ => true,
            };
            if !ok {
                ctx.push(
                    i,
                    None,
                    Some(1),
                    Some(2),
                    Code::InvalidDate,
                    format!("{value:?} is not a valid date/time in format {fmt}"),
                );
            }
        }
        _ => {}
    }
}

/// HL / CPS hierarchy: ids ascend from 1, a parent is an earlier id, and (for the 856) the level
/// below a parent is deeper in shipment → order → pack/tare → item.
fn hierarchy(
    ctx: &mut SetCtx<'_, '_>,
    i: usize,
    tag: &str,
    id: &str,
    parent: &str,
    level: Option<&str>,
) {
    let rank = |l: &str| match l {
        "S" => Some(0),
        "O" => Some(1),
        "T" => Some(2),
        "P" => Some(3),
        "I" => Some(4),
        _ => None,
    };
    match id.parse::<u64>() {
        Ok(n) if n == ctx.hl_prev + 1 => ctx.hl_prev = n,
        _ => {
            let expected = ctx.hl_prev + 1;
            ctx.push(
                i,
                Some(tag),
                Some(1),
                None,
                Code::Hierarchy,
                format!("{tag} id {id:?} out of sequence, expected {expected}"),
            );
            if let Ok(n) = id.parse::<u64>() {
                ctx.hl_prev = n;
            }
        }
    }
    let lvl = level.unwrap_or("").to_string();
    if parent.is_empty() {
        if tag == "HL" && !ctx.hl.is_empty() && rank(&lvl) != Some(0) {
            ctx.push(
                i,
                Some(tag),
                Some(2),
                None,
                Code::Hierarchy,
                format!(
                    "HL {id} (level {lvl}) has no parent; only the shipment level may be top-level"
                ),
            );
        }
    } else {
        match ctx.hl.get(parent) {
            None => ctx.push(
                i,
                Some(tag),
                Some(2),
                None,
                Code::Hierarchy,
                format!("parent {parent} of {tag} {id} is not an earlier {tag}"),
            ),
            Some(plevel) => {
                if let (Some(p), Some(c)) = (rank(plevel), rank(&lvl)) {
                    if c <= p {
                        ctx.push(i, Some(tag), Some(3), None, Code::Hierarchy, format!("level {lvl} cannot sit under level {plevel} (shipment > order > tare > pack > item)"));
                    }
                }
            }
        }
    }
    if tag == "HL" && ctx.hl.is_empty() && lvl != "S" {
        ctx.push(
            i,
            Some(tag),
            Some(3),
            None,
            Code::Hierarchy,
            format!("first HL must be the shipment level S, found {lvl:?}"),
        );
    }
    ctx.hl.insert(id.to_string(), lvl);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{read_all, Unit};
    use std::path::{Path, PathBuf};

    fn files(dir: &Path, out: &mut Vec<PathBuf>) {
        for e in std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
            let p = e.expect("entry").path();
            if p.is_dir() {
                files(&p, out);
            } else if !p.to_string_lossy().ends_with(".txt")
                || p.to_string_lossy().contains("EDIFACT")
            {
                out.push(p);
            }
        }
    }

    /// The one-pass check may only say "clean" where the full check finds nothing, with the
    /// same presence bits; checked on every segment of every fixture and corpus file, plus
    /// each segment with one byte changed into a separator, a digit or a letter.
    #[test]
    fn fast_path_agrees_with_the_full_check() {
        let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
        let mut paths = Vec::new();
        files(&root.join("../../fixtures/edi"), &mut paths);
        files(&root.join("../../../shared/edi-corpus"), &mut paths);
        assert!(
            paths.len() > 100,
            "fixtures and corpus found: {}",
            paths.len()
        );
        let (mut fast, mut total) = (0usize, 0usize);
        for path in &paths {
            let bytes = std::fs::read(path).expect("read");
            for unit in read_all(&bytes) {
                let Unit::Interchange(ic) = unit else {
                    continue;
                };
                let tables = match ic.standard {
                    Standard::X12 => spec::x12::tables(),
                    Standard::Edifact => spec::edifact::tables(),
                };
                let Ok(tables) = tables else { continue };
                for i in 0..ic.len() {
                    let seg = ic.segment(i);
                    let Some(defs) = tables.segment(seg.key()) else {
                        continue;
                    };
                    let mut variants = vec![seg.bytes.to_vec()];
                    for (k, b) in [
                        b'1',
                        b'A',
                        seg.delims.component,
                        seg.delims.element,
                        b'-',
                        b'.',
                    ]
                    .into_iter()
                    .enumerate()
                    {
                        if seg.bytes.len() > 4 {
                            let mut v = seg.bytes.to_vec();
                            let at = 3 + (k * 7 + i) % (v.len() - 3);
                            v[at] = b;
                            variants.push(v);
                        }
                    }
                    for v in variants {
                        let mut d = *seg.delims;
                        if d.release.is_some_and(|r| v.contains(&r)) {
                            continue;
                        }
                        d.release = None;
                        if d.repetition.is_some_and(|r| v.contains(&r)) {
                            continue;
                        }
                        total += 1;
                        let Some(p) = elements_fast(&v, &d, seg.delims.release.is_some(), defs)
                        else {
                            continue;
                        };
                        fast += 1;
                        let mut out = Vec::new();
                        let mut ctx = SetCtx {
                            ic: &ic,
                            g: None,
                            s: None,
                            out: &mut out,
                            hl: HashMap::new(),
                            hl_prev: 0,
                            line_count: 0,
                        };
                        let probe = Segment { bytes: &v, ..seg };
                        let full = check_elements_full(&mut ctx, i, &probe, defs, "", d);
                        assert!(
                            out.is_empty(),
                            "{}: fast path passed {:?} but the full check says {:?}",
                            path.display(),
                            String::from_utf8_lossy(&v),
                            out.iter().map(|x| x.to_string()).collect::<Vec<_>>()
                        );
                        assert_eq!(
                            full,
                            p,
                            "{}: presence bits of {:?}",
                            path.display(),
                            String::from_utf8_lossy(&v)
                        );
                    }
                }
            }
        }
        println!("fast path: {fast} of {total} segment variants");
        // The point of the fast path: most segments take it.
        assert!(fast * 10 > total * 6, "fast path took {fast} of {total}");
    }
}
