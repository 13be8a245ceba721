//! The EDI tree: one transaction set / message as a `serde_json::Value` shaped by its structure
//! table, both directions. Inbound mappings read it ([`to_tree`]); outbound mappings produce it
//! and [`from_tree`] turns it into body segments for the envelope writers.
//!
//! # Shape
//!
//! * A set (and every loop iteration) is an **object** whose keys are segment tags and loop
//!   keys in structure-table order (`serde_json` keeps insertion order in this workspace).
//! * A **segment** is an object of its non-empty elements keyed by two-digit position: `"01"`,
//!   `"02"`, … A segment whose max use is 1 is an object; one whose max use is > 1 is an array
//!   of such objects.
//! * An **element** is its unescaped string value; a **composite** element (per the segment
//!   dictionary) is an array of its component strings with trailing empty components dropped;
//!   a **repeated** element (X12 repetition separator, EDIFACT syntax v4 repetition) is
//!   `{"repeat": [v1, v2, …]}` with each `v` a string or component array.
//! * A **loop** / segment group is keyed `<TRIGGER>_loop` in X12 (`N1_loop`, `PO1_loop`,
//!   `HL_loop`) and by its group name in EDIFACT (`SG2`, `SG25`); its value is always an array
//!   of objects of this same shape, recursively.
//! * ST/SE and UNH/UNT are not in the tree: the envelope writer adds them and their counts.
//! * Values are unescaped: release characters are removed on read and added by the writer.
//!   Numeric values (`n`, `R`, `N0`…) use `.` as decimal mark even when the UNA announced `,`.
//!
//! Example (855): `{"BAK": {"01": "00", "02": "AC", …}, "N1_loop": [{"N1": {"01": "ST",
//! "02": "Acme DC 7"}, "N3": [{"01": "100 Main St"}]}], "PO1_loop": [{"PO1": {…}, "ACK_loop":
//! [{"ACK": {…}}]}], "CTT_loop": [{"CTT": {"01": "2"}}]}`;
//! ORDRSP: `{"BGM": {"01": ["231"], "02": ["SO-1"], "03": "29"}, "DTM": [{"01": ["137",
//! "20260304", "102"]}], "SG3": [{"NAD": {…}}], …}`.
//!
//! # What [`from_tree`] accepts beyond that shape (for mapping authors)
//!
//! * `null` and `""` anywhere mean "absent" (a mapping rule with no value writes nothing).
//! * A single object where an array is expected (a segment with max use > 1, a loop): one
//!   occurrence / iteration.
//! * A string where a composite is expected: its first component.
//! * Numbers: written as their JSON text (exact, `arbitrary_precision` is on).
//! * `{"text": "…"}` instead of a string: **free text** (names, addresses, descriptions). It is
//!   fitted to the element's maximum length (control characters become spaces, trailing spaces
//!   trimmed) and, in X12, which has no escape character, the writer turns delimiter
//!   characters in it into spaces instead of refusing the value. Identifiers are never altered:
//!   a plain string that does not fit or contains an X12 delimiter is an error.
//!
//! Everything else the table does not allow is rejected: unknown keys, too many occurrences,
//! missing required segments / elements / components, element types, lengths and code lists
//! (the validator's own [`check_value`]). Every problem names its JSON path — keys as written,
//! array indexes 0-based, element keys quoted (`PO1_loop[2].PO1."04"`).

use crate::interchange::{Interchange, TxSet};
use crate::spec::{self, El, Elem, Node, Req, Tables, TagMap, Ty};
use crate::syntax::{decode, unescape, Segment, Split, Standard};
use crate::validate::check_value;
use serde_json::{Map, Value};

/// One body segment produced by [`from_tree`], ready for the envelope writers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BodySegment {
    pub tag: String,
    /// Elements (element 1 first) × repetitions × components, unescaped.
    pub elements: Vec<Vec<Vec<String>>>,
    /// `(element, repetition, component)` indexes (0-based) of free-text values: the X12
    /// writer turns delimiter characters in them into spaces.
    pub free_text: Vec<(usize, usize, usize)>,
}

impl BodySegment {
    pub fn is_free_text(&self, e: usize, r: usize, c: usize) -> bool {
        self.free_text.contains(&(e, r, c))
    }
}

/// One thing [`from_tree`] refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TreeProblem {
    /// JSON path, e.g. `PO1_loop[2].PO1."04"`.
    pub path: String,
    pub reason: String,
}

impl std::fmt::Display for TreeProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let path = if self.path.is_empty() {
            "(root)"
        } else {
            &self.path
        };
        write!(f, "{path}: {}", self.reason)
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum TreeError {
    #[error("no structure table for {set_type} version {version:?}")]
    NoTable { set_type: String, version: String },
    #[error("the internal {0:?} specification tables are broken")]
    Tables(Standard),
    /// A segment of the set that does not fit the structure (the set is not valid; validate
    /// it first).
    #[error("segment {index} ({id}) does not fit the {set_type} structure at this point")]
    Unplaced {
        set_type: String,
        /// 1-based position in the set (ST/UNH is 1).
        index: usize,
        id: String,
    },
    #[error("{} problem(s) in the {set_type} tree: {}", problems.len(), join(problems))]
    Invalid {
        set_type: String,
        problems: Vec<TreeProblem>,
    },
}

fn join(p: &[TreeProblem]) -> String {
    p.iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

/// The tables of `standard`.
pub fn tables_for(standard: Standard) -> Result<&'static Tables, TreeError> {
    match standard {
        Standard::X12 => spec::x12::tables(),
        Standard::Edifact => spec::edifact::tables(),
    }
    .map_err(|_| TreeError::Tables(standard))
}

/// The tree key of a structure node: the segment tag, `<TRIGGER>_loop` for an X12 loop, the
/// group name for an EDIFACT segment group.
pub fn node_key(node: &Node, standard: Standard) -> String {
    match (node, standard) {
        (Node::Seg { id, .. }, _) => id.clone(),
        (Node::Loop { .. }, Standard::X12) => format!("{}_loop", node.trigger()),
        (Node::Loop { id, .. }, Standard::Edifact) => id.clone(),
    }
}

fn is_envelope(tag: &str) -> bool {
    matches!(tag, "ST" | "SE" | "UNH" | "UNT")
}

struct Frame<'s> {
    body: &'s [Node],
    pos: usize,
    obj: Map<String, Value>,
}

/// The tree of one parsed transaction set / message (see the module doc for the shape).
/// `set` must belong to `ic`; `tables` are those of `ic.standard` ([`tables_for`]).
pub fn to_tree(ic: &Interchange, set: &TxSet, tables: &Tables) -> Result<Value, TreeError> {
    let spec = tables
        .set(&set.set_type, &set.version)
        .ok_or_else(|| TreeError::NoTable {
            set_type: set.set_type.clone(),
            version: set.version.clone(),
        })?;
    let dict = tables.overrides_for(&set.version).unwrap_or(&tables.fast);
    let std = ic.standard;
    let end = set.trailer.unwrap_or(ic.len());
    // The same walk as the validator's matcher: a segment continues the current loop, starts a
    // later entry at the same level, or starts a new iteration of a loop further up.
    let mut stack = vec![Frame {
        body: &spec.body,
        pos: 0,
        obj: Map::new(),
    }];
    for i in set.header + 1..end {
        let seg = ic.segment(i);
        let key = seg.key();
        let found = (0..stack.len()).rev().find_map(|depth| {
            let f = &stack[depth];
            let start = if depth > 0 { f.pos.max(1) } else { f.pos };
            f.body
                .get(start..)
                .and_then(|b| b.iter().position(|n| n.key() == key))
                .map(|k| (depth, k + start))
        });
        let Some((depth, k)) = found else {
            return Err(TreeError::Unplaced {
                set_type: set.set_type.clone(),
                index: i - set.header + 1,
                id: seg.id().to_string(),
            });
        };
        while stack.len() > depth + 1 {
            close_frame(&mut stack, std);
        }
        let Some(f) = stack.last_mut() else { break };
        f.pos = k;
        match &f.body[k] {
            Node::Seg { id, max, .. } => {
                let v = segment_value(&seg, dict);
                insert(&mut f.obj, id, *max, v);
            }
            Node::Loop { body, .. } => {
                let mut obj = Map::new();
                if let Some(Node::Seg { id, max, .. }) = body.first() {
                    insert(&mut obj, id, *max, segment_value(&seg, dict));
                }
                stack.push(Frame { body, pos: 0, obj });
            }
        }
    }
    while stack.len() > 1 {
        close_frame(&mut stack, std);
    }
    Ok(Value::Object(
        stack.pop().map(|f| f.obj).unwrap_or_default(),
    ))
}

/// Pops the innermost loop iteration into its parent's loop array.
fn close_frame(stack: &mut Vec<Frame<'_>>, std: Standard) {
    let Some(child) = stack.pop() else { return };
    let Some(parent) = stack.last_mut() else {
        return;
    };
    let key = node_key(&parent.body[parent.pos], std);
    let entry = parent
        .obj
        .entry(key)
        .or_insert_with(|| Value::Array(Vec::new()));
    if let Value::Array(a) = entry {
        a.push(Value::Object(child.obj));
    }
}

fn insert(obj: &mut Map<String, Value>, tag: &str, max: u32, v: Value) {
    if max > 1 {
        let entry = obj
            .entry(tag.to_string())
            .or_insert_with(|| Value::Array(Vec::new()));
        if let Value::Array(a) = entry {
            a.push(v);
        }
    } else {
        obj.insert(tag.to_string(), v);
    }
}

fn segment_value(seg: &Segment<'_>, dict: &TagMap<Vec<Elem>>) -> Value {
    let defs = dict.get(&seg.key());
    let d = seg.delims;
    let mut obj = Map::new();
    for (idx, raw) in seg.elements().enumerate() {
        if raw.is_empty() {
            continue;
        }
        let composite = matches!(defs.and_then(|d| d.get(idx)), Some(Elem::Composite(..)));
        let reps: Vec<&[u8]> = match d.repetition {
            Some(r) => Split::new(raw, r, d.release).collect(),
            None => vec![raw],
        };
        let mut vals: Vec<Value> = reps
            .into_iter()
            .map(|rep| {
                let mut comps: Vec<String> = Split::new(rep, d.component, d.release)
                    .enumerate()
                    .map(|(c, v)| {
                        let v = decode(&unescape(v, d.release)).into_owned();
                        let el = match defs.and_then(|d| d.get(idx)) {
                            Some(Elem::Simple(el)) if c == 0 => Some(el),
                            Some(Elem::Composite(_, comps)) => comps.get(c),
                            _ => None,
                        };
                        point_decimal(v, el, d.decimal)
                    })
                    .collect();
                while comps.last().is_some_and(String::is_empty) {
                    comps.pop();
                }
                if composite || comps.len() > 1 {
                    Value::Array(comps.into_iter().map(Value::String).collect())
                } else {
                    Value::String(comps.pop().unwrap_or_default())
                }
            })
            .collect();
        let v = if vals.len() == 1 {
            vals.pop().unwrap_or(Value::Null)
        } else {
            let mut m = Map::new();
            m.insert("repeat".into(), Value::Array(vals));
            Value::Object(m)
        };
        obj.insert(format!("{:02}", idx + 1), v);
    }
    Value::Object(obj)
}

/// Numbers in the tree always use `.` as decimal mark, whatever the UNA announced, so that
/// mappings parse them the same way for every partner.
fn point_decimal(v: String, el: Option<&El>, decimal: u8) -> String {
    match el.map(|e| e.ty) {
        Some(Ty::R | Ty::N(_)) if decimal != b'.' => v.replace(decimal as char, "."),
        _ => v,
    }
}

/// Body segments of `set_type` / `version` from a tree, in structure-table order (the key order
/// of the tree does not matter), or every problem found, each with its JSON path.
pub fn from_tree(
    tree: &Value,
    standard: Standard,
    set_type: &str,
    version: &str,
) -> Result<Vec<BodySegment>, TreeError> {
    let tables = tables_for(standard)?;
    let spec = tables
        .set(set_type, version)
        .ok_or_else(|| TreeError::NoTable {
            set_type: set_type.into(),
            version: version.into(),
        })?;
    let mut w = TreeWriter {
        standard,
        dict: tables.overrides_for(version).unwrap_or(&tables.fast),
        out: Vec::new(),
        problems: Vec::new(),
    };
    w.level(tree, &spec.body, "", true);
    if w.problems.is_empty() {
        Ok(w.out)
    } else {
        Err(TreeError::Invalid {
            set_type: set_type.into(),
            problems: w.problems,
        })
    }
}

struct TreeWriter<'t> {
    standard: Standard,
    dict: &'t TagMap<Vec<Elem>>,
    out: Vec<BodySegment>,
    problems: Vec<TreeProblem>,
}

fn child_path(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

fn absent(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::String(s) => s.is_empty(),
        Value::Array(a) => a.is_empty(),
        _ => false,
    }
}

impl TreeWriter<'_> {
    fn problem(&mut self, path: &str, reason: impl Into<String>) {
        self.problems.push(TreeProblem {
            path: path.to_string(),
            reason: reason.into(),
        });
    }

    fn level(&mut self, v: &Value, body: &[Node], path: &str, top: bool) {
        let Value::Object(obj) = v else {
            self.problem(path, format!("expected an object, found {}", kind(v)));
            return;
        };
        let keys: Vec<String> = body.iter().map(|n| node_key(n, self.standard)).collect();
        for (k, val) in obj {
            if absent(val) || keys.iter().any(|x| x == k) && !(top && is_envelope(k)) {
                continue;
            }
            let reason = if is_envelope(k) {
                format!("{k} is written by the envelope, not by the tree")
            } else {
                let allowed: Vec<&str> = keys
                    .iter()
                    .map(String::as_str)
                    .filter(|k| !is_envelope(k))
                    .collect();
                format!(
                    "{k:?} is not a segment or loop at this level (allowed here: {})",
                    allowed.join(", ")
                )
            };
            self.problem(&child_path(path, k), reason);
        }
        for (node, key) in body.iter().zip(&keys) {
            if top && is_envelope(key) {
                continue;
            }
            let p = child_path(path, key);
            let items: Vec<(String, &Value)> = match obj.get(key) {
                None => Vec::new(),
                Some(v) if absent(v) => Vec::new(),
                Some(Value::Array(a)) => {
                    if node.max() == 1 && matches!(node, Node::Seg { .. }) {
                        self.problem(
                            &p,
                            format!("{key} may occur once here: write an object, not an array"),
                        );
                        continue;
                    }
                    a.iter()
                        .enumerate()
                        .filter(|(_, v)| !v.is_null())
                        .map(|(i, v)| (format!("{p}[{i}]"), v))
                        .collect()
                }
                Some(v) => vec![(p.clone(), v)],
            };
            if items.is_empty() {
                if node.req() == Req::Mandatory {
                    let what = if matches!(node, Node::Loop { .. }) {
                        "loop"
                    } else {
                        "segment"
                    };
                    self.problem(&p, format!("required {what} {key} is missing"));
                }
                continue;
            }
            if items.len() as u64 > node.max() as u64 {
                self.problem(
                    &p,
                    format!(
                        "{key} occurs {} times, at most {} allowed",
                        items.len(),
                        node.max()
                    ),
                );
                continue;
            }
            for (ip, item) in items {
                match node {
                    Node::Seg { id, .. } => self.segment(item, id, &ip),
                    Node::Loop { body, .. } => self.level(item, body, &ip, false),
                }
            }
        }
    }

    fn segment(&mut self, v: &Value, tag: &str, path: &str) {
        let Value::Object(obj) = v else {
            self.problem(
                path,
                format!(
                    "a segment is an object of elements \"01\", \"02\"…, found {}",
                    kind(v)
                ),
            );
            return;
        };
        let defs = self.dict.get(&spec::tag_key(tag));
        let mut seg = BodySegment {
            tag: tag.to_string(),
            elements: Vec::new(),
            free_text: Vec::new(),
        };
        for (k, val) in obj {
            let ep = format!("{path}.\"{k}\"");
            let n = match k.parse::<usize>() {
                Ok(n) if k.len() == 2 && n >= 1 => n,
                _ => {
                    self.problem(
                        &ep,
                        "element keys are two-digit positions \"01\", \"02\", …",
                    );
                    continue;
                }
            };
            if absent(val) {
                continue;
            }
            let def = match defs {
                Some(d) => match d.get(n - 1) {
                    Some(def) => Some(def),
                    None => {
                        self.problem(&ep, format!("{tag} has only {} elements", d.len()));
                        continue;
                    }
                },
                None => None,
            };
            let reps: Vec<&Value> = match val {
                Value::Object(m) if m.contains_key("repeat") => match m.get("repeat") {
                    Some(Value::Array(a)) if m.len() == 1 => a.iter().collect(),
                    _ => {
                        self.problem(&ep, "{\"repeat\": [...]} takes an array and nothing else");
                        continue;
                    }
                },
                other => vec![other],
            };
            let mut el = Vec::with_capacity(reps.len());
            for (r, rv) in reps.into_iter().enumerate() {
                let rp = if let Value::Object(m) = val {
                    if m.contains_key("repeat") {
                        format!("{ep}.repeat[{r}]")
                    } else {
                        ep.clone()
                    }
                } else {
                    ep.clone()
                };
                let comps = self.element(rv, def, &rp, &mut |c| seg.free_text.push((n - 1, r, c)));
                el.push(comps);
            }
            if seg.elements.len() < n {
                seg.elements.resize(n, Vec::new());
            }
            seg.elements[n - 1] = el;
        }
        if let Some(defs) = defs {
            for (i, def) in defs.iter().enumerate() {
                let present = seg
                    .elements
                    .get(i)
                    .is_some_and(|reps| reps.iter().any(|c| c.iter().any(|s| !s.is_empty())));
                if def.req() == Req::Mandatory && !present {
                    self.problem(
                        &format!("{path}.\"{:02}\"", i + 1),
                        format!("required element {tag}{:02} is missing", i + 1),
                    );
                }
            }
        }
        self.out.push(seg);
    }

    /// One repetition of an element: its components, checked against `def`.
    fn element(
        &mut self,
        v: &Value,
        def: Option<&Elem>,
        path: &str,
        free: &mut dyn FnMut(usize),
    ) -> Vec<String> {
        match (v, def) {
            (Value::Array(items), Some(Elem::Simple(_))) => {
                self.problem(
                    path,
                    format!(
                        "a simple element takes a string, found an array of {}",
                        items.len()
                    ),
                );
                Vec::new()
            }
            (Value::Array(items), Some(Elem::Composite(_, comps))) => {
                if items.len() > comps.len() {
                    self.problem(
                        path,
                        format!(
                            "{} components given, this composite has {}",
                            items.len(),
                            comps.len()
                        ),
                    );
                    return Vec::new();
                }
                let mut out = Vec::with_capacity(items.len());
                for (c, (item, el)) in items.iter().zip(comps).enumerate() {
                    let cp = format!("{path}[{c}]");
                    let (s, is_free) = self.scalar(item, Some(el), &cp);
                    if is_free {
                        free(c);
                    }
                    out.push(s);
                }
                if out.iter().any(|s| !s.is_empty()) {
                    for (c, el) in comps.iter().enumerate() {
                        let s = out.get(c).map(String::as_str).unwrap_or("");
                        if s.is_empty() {
                            if let Some((_, msg)) = check_value(b"", el, None, b'.') {
                                self.problem(&format!("{path}[{c}]"), format!("component: {msg}"));
                            }
                        }
                    }
                }
                out
            }
            (Value::Array(items), None) => {
                let mut out = Vec::with_capacity(items.len());
                for (c, item) in items.iter().enumerate() {
                    let (s, is_free) = self.scalar(item, None, &format!("{path}[{c}]"));
                    if is_free {
                        free(c);
                    }
                    out.push(s);
                }
                out
            }
            (v, def) => {
                let el = match def {
                    Some(Elem::Simple(el)) => Some(el),
                    Some(Elem::Composite(_, comps)) => comps.first(),
                    None => None,
                };
                let (s, is_free) = self.scalar(v, el, path);
                if is_free {
                    free(0);
                }
                if let (Some(Elem::Composite(_, comps)), false) = (def, s.is_empty()) {
                    for (c, el) in comps.iter().enumerate().skip(1) {
                        if let Some((_, msg)) = check_value(b"", el, None, b'.') {
                            self.problem(&format!("{path}[{c}]"), format!("component: {msg}"));
                        }
                    }
                }
                vec![s]
            }
        }
    }

    /// One simple value: (text, is free text). Checked against `el` when known.
    fn scalar(&mut self, v: &Value, el: Option<&El>, path: &str) -> (String, bool) {
        let (s, is_free) = match v {
            Value::Null => (String::new(), false),
            Value::String(s) => (s.clone(), false),
            Value::Number(n) => (n.to_string(), false),
            Value::Object(m) if m.len() == 1 && m.contains_key("text") => match m.get("text") {
                Some(Value::String(s)) => (fit_text(s, el.map(|e| e.max)), true),
                Some(Value::Number(n)) => (fit_text(&n.to_string(), el.map(|e| e.max)), true),
                Some(Value::Null) => (String::new(), true),
                Some(other) => {
                    self.problem(
                        path,
                        format!("free text must be a string, found {}", kind(other)),
                    );
                    return (String::new(), false);
                }
                None => (String::new(), true),
            },
            other => {
                self.problem(
                    path,
                    format!(
                        "expected a string, a number or {{\"text\": …}}, found {}",
                        kind(other)
                    ),
                );
                return (String::new(), false);
            }
        };
        if let (Some(el), false) = (el, s.is_empty()) {
            if let Some((_, msg)) = check_value(s.as_bytes(), el, None, b'.') {
                self.problem(path, msg);
            }
        }
        (s, is_free)
    }
}

/// Free text fitted to `max` characters: control characters become spaces, trailing spaces go.
pub fn fit_text(s: &str, max: Option<usize>) -> String {
    s.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(max.unwrap_or(usize::MAX))
        .collect::<String>()
        .trim_end()
        .to_string()
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reader::{read_all, Unit};
    use serde_json::json;

    fn first_set(text: &str) -> (Box<Interchange>, TxSet) {
        let Some(Unit::Interchange(ic)) = read_all(text.as_bytes()).into_iter().next() else {
            panic!("no interchange");
        };
        let set = ic.groups[0].sets[0].clone();
        (ic, set)
    }

    const X855: &str = "ISA*00*          *00*          *ZZ*US             *ZZ*THEM           *260304*0915*^*00501*000000017*0*T*:~GS*PR*US*THEM*20260304*0915*42*X*005010~ST*855*0001~BAK*00*AC*PO-1*20260301~REF*ZZ*A^B~N1*ST*Acme DC~N3*1 Main St~PO1*1*12*EA*18.4**VP*SKU-1~ACK*IA*12*EA~PO1*2*1*EA*2**VP*SKU-2~CTT*2~SE*10*0001~GE*1*42~IEA*1*000000017~";

    #[test]
    fn x12_shape_segments_loops_and_repetitions() {
        let (ic, set) = first_set(X855);
        let t = to_tree(&ic, &set, tables_for(Standard::X12).expect("tables")).expect("tree");
        assert_eq!(
            t,
            json!({
                "BAK": {"01": "00", "02": "AC", "03": "PO-1", "04": "20260301"},
                "REF": [{"01": "ZZ", "02": {"repeat": ["A", "B"]}}],
                "N1_loop": [{"N1": {"01": "ST", "02": "Acme DC"}, "N3": [{"01": "1 Main St"}]}],
                "PO1_loop": [
                    {"PO1": {"01": "1", "02": "12", "03": "EA", "04": "18.4", "06": "VP", "07": "SKU-1"},
                     "ACK_loop": [{"ACK": {"01": "IA", "02": "12", "03": "EA"}}]},
                    {"PO1": {"01": "2", "02": "1", "03": "EA", "04": "2", "06": "VP", "07": "SKU-2"}}
                ],
                "CTT_loop": [{"CTT": {"01": "2"}}]
            })
        );
        let keys: Vec<&String> = t.as_object().expect("object").keys().collect();
        assert_eq!(keys, ["BAK", "REF", "N1_loop", "PO1_loop", "CTT_loop"]);
        let body = from_tree(&t, Standard::X12, "855", "005010").expect("from_tree");
        let tags: Vec<&str> = body.iter().map(|s| s.tag.as_str()).collect();
        assert_eq!(tags, ["BAK", "REF", "N1", "N3", "PO1", "ACK", "PO1", "CTT"]);
        assert_eq!(body[1].elements[1], vec![vec!["A"], vec!["B"]]);
    }

    #[test]
    fn edifact_shape_composites_and_release_characters() {
        let text = "UNB+UNOC:3+S:14+R:14+260304:0915+17'UNH+1+ORDRSP:D:96A:UN'BGM+231+SO?+1+29'DTM+137:20260304:102'NAD+BY+ACME::92'LIN+1+5+SKU-1:SA'QTY+21:12:EA'UNS+S'CNT+2:1'UNT+9+1'UNZ+1+17'";
        let (ic, set) = first_set(text);
        let t = to_tree(&ic, &set, tables_for(Standard::Edifact).expect("tables")).expect("tree");
        assert_eq!(
            t,
            json!({
                "BGM": {"01": ["231"], "02": "SO+1", "03": "29"},
                "DTM": [{"01": ["137", "20260304", "102"]}],
                "SG3": [{"NAD": {"01": "BY", "02": ["ACME", "", "92"]}}],
                "SG26": [{"LIN": {"01": "1", "02": "5", "03": ["SKU-1", "SA"]}, "QTY": [{"01": ["21", "12", "EA"]}]}],
                "UNS": {"01": "S"},
                "CNT": [{"01": ["2", "1"]}]
            })
        );
        let body = from_tree(&t, Standard::Edifact, "ORDRSP", "D:96A:UN").expect("from_tree");
        assert_eq!(body[0].elements[1], vec![vec!["SO+1".to_string()]]);
    }

    #[test]
    fn from_tree_names_the_path_and_the_reason() {
        let t = json!({
            "BAK": {"01": "00", "02": "XX", "03": "PO-1", "04": "20260301"},
            "FOO": {"01": "x"},
            "PO1_loop": [
                {"PO1": {"01": "1"}},
                {"PO1": {"01": "2", "04": "abc"}},
                {"PO1": {"01": "3", "99": "x"}, "ACK_loop": {"ACK": {"01": "IA"}}}
            ],
            "CTT_loop": [{"CTT": {}}]
        });
        let Err(TreeError::Invalid { problems, .. }) =
            from_tree(&t, Standard::X12, "855", "004010")
        else {
            panic!("expected problems");
        };
        let shown: Vec<String> = problems.iter().map(ToString::to_string).collect();
        let has = |p: &str, r: &str| {
            assert!(
                shown.iter().any(|s| s.starts_with(p) && s.contains(r)),
                "no problem at {p} with {r:?} in {shown:#?}"
            )
        };
        has("BAK.\"02\"", "not one of");
        has("FOO", "not a segment or loop");
        has("PO1_loop[1].PO1.\"04\"", "is not a number");
        has("PO1_loop[2].PO1.\"99\"", "has only");
        has("CTT_loop[0].CTT.\"01\"", "required element CTT01");
        // A lone object for a loop is one iteration: no problem there.
        assert!(
            !shown.iter().any(|s| s.starts_with("PO1_loop[2].ACK_loop")),
            "{shown:#?}"
        );
        let missing = from_tree(&json!({}), Standard::X12, "855", "004010").unwrap_err();
        assert!(
            missing
                .to_string()
                .contains("BAK: required segment BAK is missing"),
            "{missing}"
        );
        let env = from_tree(
            &json!({"ST": {"01": "855"}, "BAK": {}}),
            Standard::X12,
            "855",
            "004010",
        )
        .unwrap_err();
        assert!(
            env.to_string()
                .contains("ST: ST is written by the envelope"),
            "{env}"
        );
    }

    #[test]
    fn too_many_occurrences_and_wrong_kinds_are_refused() {
        let mut many = Vec::new();
        for _ in 0..11 {
            many.push(json!({"01": "002", "02": "20260301"}));
        }
        let t = json!({"BAK": [{"01": "00"}], "DTM": many, "CUR": "x"});
        let e = from_tree(&t, Standard::X12, "855", "004010")
            .unwrap_err()
            .to_string();
        assert!(e.contains("BAK: BAK may occur once here"), "{e}");
        assert!(
            e.contains("DTM: DTM occurs 11 times, at most 10 allowed"),
            "{e}"
        );
        assert!(e.contains("CUR: a segment is an object"), "{e}");
    }

    #[test]
    fn free_text_is_fitted_identifiers_are_not() {
        let long = "x".repeat(70);
        let t = json!({
            "BAK": {"01": "00", "02": "AC", "03": "PO-1", "04": "20260301"},
            "N1_loop": [{"N1": {"01": "ST", "02": {"text": format!("{long}\n")}}}],
            "PO1_loop": [{"PO1": {"01": "1", "07": "y".repeat(49)}}]
        });
        let e = from_tree(&t, Standard::X12, "855", "004010")
            .unwrap_err()
            .to_string();
        assert!(e.contains("PO1_loop[0].PO1.\"07\""), "{e}");
        assert!(!e.contains("N1_loop"), "{e}");
        let mut t = t;
        t["PO1_loop"][0]["PO1"]["07"] = json!("SKU");
        let body = from_tree(&t, Standard::X12, "855", "004010").expect("valid");
        assert_eq!(body[1].elements[1][0][0], "x".repeat(60));
        assert!(body[1].is_free_text(1, 0, 0));
        assert!(!body[2].is_free_text(6, 0, 0));
    }

    #[test]
    fn tables_have_one_key_per_level() {
        fn walk(body: &[Node], std: Standard, what: &str) {
            let mut keys: Vec<String> = body.iter().map(|n| node_key(n, std)).collect();
            let n = keys.len();
            keys.sort();
            keys.dedup();
            assert_eq!(keys.len(), n, "{what}: a key occurs twice at one level");
            for node in body {
                if let Node::Loop { body, .. } = node {
                    assert!(
                        matches!(body.first(), Some(Node::Seg { .. })),
                        "{what}: loop trigger"
                    );
                    walk(body, std, what);
                }
            }
        }
        for std in [Standard::X12, Standard::Edifact] {
            for s in &tables_for(std).expect("tables").sets {
                walk(&s.body, std, &format!("{}/{}", s.set_type, s.version));
            }
        }
    }
}
