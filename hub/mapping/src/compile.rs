//! Load-time compilation: mapping TOML → [`Mapping`] plan, collecting every problem as a
//! located [`Diagnostic`] instead of stopping at the first.

use crate::expr::Expr;
use crate::formats::{Format, SourceSpec, TargetSpec};
use crate::lookup::{Lookup, MissPolicy};
use crate::ops::coerce::{Coerce, Rounding};
use crate::ops::text::Side;
use crate::ops::uom::PerFactor;
use crate::path::{Path as SrcPath, Seg};
use crate::plan::*;
use crate::schema::{Entity, Scalar, Shape};
use crate::tree::{from_item, Entry, Tn, Tv};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use switchyard_core::diag::{Diagnostic, Diagnostics, Loc};
use switchyard_core::model::Uom;

/// Keys that make a table a rule (anything else is a nested target object).
const VALUE_KEYS: &[&str] = &[
    "from", "const", "concat", "expr", "sum", "count", "each", "default",
];
const STEP_KEYS: &[&str] = &[
    "steps",
    "trim",
    "upper",
    "lower",
    "pad",
    "substring",
    "split",
    "replace",
    "lookup",
    "type",
    "add",
    "sub",
    "mul",
    "div",
    "round",
    "convert",
    "one_of",
    "then",
    "uom",
];
const PARAM_KEYS: &[&str] = &[
    "sep",
    "of",
    "required",
    "unique",
    "keep_null",
    "when",
    "scale",
    "rounding",
    "decimal_comma",
    "as",
    "in_format",
    "out_format",
    "tz",
    "out_tz",
];
const EACH_KEYS: &[&str] = &[
    "each", "filter", "group_by", "fields", "value", "when", "required",
];
const TOP_KEYS: &[&str] = &[
    "version",
    "description",
    "source",
    "target",
    "lookups",
    "fields",
];

/// Compiles the mapping file at `file`; `name` is how the registry addresses it.
pub fn compile_file(file: &Path, name: &str) -> Result<Mapping, Diagnostics> {
    let text = std::fs::read_to_string(file).map_err(|e| {
        Diagnostics(vec![Diagnostic::new(
            Loc::file(file),
            format!("cannot read mapping: {e}"),
        )])
    })?;
    compile_str(&text, file, name)
}

/// Compiles mapping text; lookup files are searched relative to the directories above `file`.
pub fn compile_str(text: &str, file: &Path, name: &str) -> Result<Mapping, Diagnostics> {
    let mut cx = Cx {
        file: file.to_path_buf(),
        text,
        diags: Vec::new(),
        lookups: Vec::new(),
        lookup_index: HashMap::new(),
        hasher: Sha256::new(),
        lookup_files: Vec::new(),
        rules: 0,
    };
    cx.hasher.update(text.as_bytes());
    let doc = match toml_edit::Document::parse(text) {
        Ok(d) => d,
        Err(e) => {
            let at = e.span().map(|s| s.start).unwrap_or(0);
            let msg = e.message().trim().trim_end_matches('.').to_string();
            return Err(Diagnostics(vec![Diagnostic::new(
                cx.loc(at),
                format!("toml syntax: {msg}"),
            )
            .hint("see hub/mapping/README.md for the file format")]));
        }
    };
    let root = from_item(doc.as_item(), 0, text).unwrap_or(Tn {
        v: Tv::Table(Vec::new()),
        at: 0,
    });
    let top = root.as_table().unwrap_or(&[]);
    for e in top {
        if !TOP_KEYS.contains(&e.key.as_str()) {
            let d = Diagnostic::new(
                cx.loc(e.key_at),
                format!("unknown top-level key '{}'", e.key),
            )
            .hint(format!("expected one of: {}", TOP_KEYS.join(", ")));
            cx.diags.push(d);
        }
    }
    let version = match root.get("version") {
        Some(Tn { v: Tv::Int(1), .. }) => 1,
        Some(n) => {
            cx.err(
                n.at,
                format!("unsupported version {}", n.to_json()),
                "this engine reads version = 1",
            );
            1
        }
        None => {
            cx.err(0, "missing 'version'", "start the file with: version = 1");
            1
        }
    };
    let source = cx.source_spec(root.get("source"));
    let target = cx.target_spec(root.get("target"));
    if let Some(l) = root.get("lookups") {
        cx.lookups_table(l);
    }
    let src_shape = source.format.entity().map(Entity::shape);
    let tgt_shape = target.format.entity().map(Entity::shape);
    let plan = match root.get("fields") {
        Some(f) if f.as_table().is_some() => {
            let scope = Scope {
                src: src_shape.as_ref(),
                root_src: src_shape.as_ref(),
                in_group: false,
            };
            let plan = cx.object(f, scope, tgt_shape.as_ref(), "", target.format.entity());
            if target.format == Format::Csv {
                cx.check_flat(&plan);
            }
            plan
        }
        Some(f) => {
            cx.err(
                f.at,
                format!("'fields' must be a table, found {}", f.kind()),
                "write [fields] followed by target = rule lines",
            );
            ObjectPlan::default()
        }
        None => {
            cx.err(
                0,
                "missing [fields] table",
                "add [fields] with one line per target field",
            );
            ObjectPlan::default()
        }
    };
    if !cx.diags.is_empty() {
        cx.diags.sort_by_key(|d| d.loc.at);
        return Err(Diagnostics(cx.diags));
    }
    let hash = hex::encode(cx.hasher.finalize());
    Ok(Mapping {
        name: name.to_string(),
        file: file.to_path_buf(),
        hash,
        version,
        source,
        target,
        root: plan,
        lookups: cx.lookups,
        lookup_files: cx.lookup_files,
        rule_count: cx.rules,
    })
}

struct Cx<'t> {
    file: PathBuf,
    text: &'t str,
    diags: Vec<Diagnostic>,
    lookups: Vec<Arc<Lookup>>,
    lookup_index: HashMap<String, usize>,
    hasher: Sha256,
    /// The lookup files hashed, in order (see `Mapping::lookup_files`).
    lookup_files: Vec<PathBuf>,
    rules: usize,
}

/// What the source looks like where a rule is evaluated (typed sources only).
#[derive(Clone, Copy)]
struct Scope<'s> {
    src: Option<&'s Shape>,
    root_src: Option<&'s Shape>,
    in_group: bool,
}

fn find_shape<'s>(shape: &'s Shape, path: &SrcPath) -> Result<&'s Shape, String> {
    let mut cur = shape;
    for seg in &path.segs {
        cur = match (seg, cur) {
            (_, Shape::Scalar(Scalar::Any)) => return Ok(cur),
            (Seg::Key(k), Shape::Object(_)) => match cur.field(k) {
                Some((s, _)) => s,
                None => {
                    return Err(format!(
                        "unknown source field '{k}'; known here: {}",
                        cur.field_names().join(", ")
                    ))
                }
            },
            (Seg::Index(_) | Seg::Each, Shape::Array(inner)) => inner,
            (Seg::Key(k), Shape::Array(_)) => {
                return Err(format!(
                    "'{k}' is read from an array; use [] or [n] before it"
                ))
            }
            (Seg::Key(k), Shape::Scalar(s)) => {
                return Err(format!("'{k}' is read from a {s} value"))
            }
            (_, other) => return Err(format!("cannot index into {}", shape_name(other))),
        };
    }
    Ok(cur)
}

fn shape_name(s: &Shape) -> String {
    match s {
        Shape::Scalar(x) => x.to_string(),
        Shape::Object(_) => "an object".into(),
        Shape::Array(_) => "an array".into(),
    }
}

impl<'t> Cx<'t> {
    fn loc(&self, at: usize) -> Loc {
        Loc::at(&self.file, self.text, at)
    }

    fn err(&mut self, at: usize, msg: impl Into<String>, hint: impl Into<String>) {
        let d = Diagnostic::new(self.loc(at), msg).hint(hint);
        self.diags.push(d);
    }

    fn str_of<'n>(&mut self, n: &'n Tn, what: &str) -> Option<&'n str> {
        match n.as_str() {
            Some(s) => Some(s),
            None => {
                self.err(
                    n.at,
                    format!("{what} must be a string, found {}", n.kind()),
                    "quote the value",
                );
                None
            }
        }
    }

    fn format_of(&mut self, t: &Tn, side: &str) -> Format {
        let entity = match t.get("entity") {
            Some(e) => match e.as_str().and_then(Entity::parse) {
                Some(x) => Some(x),
                None => {
                    let names: Vec<&str> = Entity::ALL.iter().map(|e| e.name()).collect();
                    self.err(
                        e.at,
                        format!("unknown canonical entity {}", e.to_json()),
                        format!("one of: {}", names.join(", ")),
                    );
                    None
                }
            },
            None => None,
        };
        match t.get("format") {
            Some(f) => match f.as_str() {
                Some("canonical") if entity.is_none() && t.get("entity").is_none() => {
                    self.err(
                        f.at,
                        "canonical format needs an entity",
                        "add entity = \"product\" (or order, invoice, …)",
                    );
                    Format::Json
                }
                Some(s) => Format::parse(s, entity).unwrap_or_else(|| {
                    if s != "canonical" {
                        self.err(
                            f.at,
                            format!("unknown {side} format '{s}'"),
                            format!("one of: {}", Format::NAMES),
                        );
                    }
                    Format::Json
                }),
                None => {
                    self.err(
                        f.at,
                        format!("format must be a string, found {}", f.kind()),
                        format!("one of: {}", Format::NAMES),
                    );
                    Format::Json
                }
            },
            None => {
                self.err(
                    t.at,
                    format!("[{side}] has no format"),
                    format!("add format = \"json\" (one of: {})", Format::NAMES),
                );
                Format::Json
            }
        }
    }

    fn known_keys(&mut self, t: &Tn, allowed: &[&str], what: &str) {
        for e in t.as_table().unwrap_or(&[]) {
            if !allowed.contains(&e.key.as_str()) {
                self.err(
                    e.key_at,
                    format!("unknown key '{}' in {what}", e.key),
                    format!("expected one of: {}", allowed.join(", ")),
                );
            }
        }
    }

    fn delimiter(&mut self, t: &Tn) -> u8 {
        match t.get("delimiter") {
            Some(d) => match d.as_str() {
                Some(s) if s.len() == 1 => s.as_bytes()[0],
                _ => {
                    self.err(
                        d.at,
                        "delimiter must be one ASCII character",
                        "e.g. delimiter = \";\"",
                    );
                    b','
                }
            },
            None => b',',
        }
    }

    fn source_spec(&mut self, n: Option<&Tn>) -> SourceSpec {
        let Some(t) = n.filter(|t| t.as_table().is_some()) else {
            self.err(
                n.map(|n| n.at).unwrap_or(0),
                "missing [source] table",
                "add source = { format = \"csv\" } (or json, jsonl, xml, canonical + entity)",
            );
            return SourceSpec {
                format: Format::Json,
                records: None,
                delimiter: b',',
                lines: false,
            };
        };
        self.known_keys(
            t,
            &["format", "entity", "records", "delimiter", "lines"],
            "[source]",
        );
        let format = self.format_of(t, "source");
        let records = t.get("records").and_then(|r| {
            let s = self.str_of(r, "records")?;
            SrcPath::parse(s)
                .map_err(|e| {
                    self.err(
                        r.at,
                        format!("bad records path: {e}"),
                        "e.g. records = \"Orders.Order\"",
                    )
                })
                .ok()
        });
        let delimiter = self.delimiter(t);
        let lines = self.lines_option(t, format);
        SourceSpec {
            format,
            records,
            delimiter,
            lines,
        }
    }

    /// `lines = true`: canonical entities as JSON lines (other formats name it in `format`).
    fn lines_option(&mut self, t: &Tn, format: Format) -> bool {
        let Some(l) = t.get("lines") else {
            return false;
        };
        let on = self.boolean(l, "lines");
        if on && format.entity().is_none() {
            self.err(
                l.at,
                "lines applies to the canonical format",
                "for other JSON lines use format = \"jsonl\"",
            );
        }
        on
    }

    fn target_spec(&mut self, n: Option<&Tn>) -> TargetSpec {
        let mut spec = TargetSpec {
            format: Format::Json,
            bom: false,
            delimiter: b',',
            xml_root: "records".into(),
            xml_record: "record".into(),
            always_array: false,
            lines: false,
        };
        let Some(t) = n.filter(|t| t.as_table().is_some()) else {
            self.err(
                n.map(|n| n.at).unwrap_or(0),
                "missing [target] table",
                "add target = { format = \"json\" } (or jsonl, csv, xml, canonical + entity)",
            );
            return spec;
        };
        self.known_keys(
            t,
            &[
                "format",
                "entity",
                "bom",
                "delimiter",
                "root",
                "record",
                "array",
                "lines",
            ],
            "[target]",
        );
        spec.format = self.format_of(t, "target");
        spec.lines = self.lines_option(t, spec.format);
        spec.delimiter = self.delimiter(t);
        for (key, slot) in [("bom", &mut spec.bom), ("array", &mut spec.always_array)] {
            if let Some(b) = t.get(key) {
                match b.v {
                    Tv::Bool(v) => *slot = v,
                    _ => self.diags.push(
                        Diagnostic::new(
                            Loc::at(&self.file, self.text, b.at),
                            format!("{key} must be true or false"),
                        )
                        .hint("e.g. bom = true"),
                    ),
                }
            }
        }
        for (key, slot) in [
            ("root", &mut spec.xml_root),
            ("record", &mut spec.xml_record),
        ] {
            if let Some(s) = t.get(key) {
                match s.as_str() {
                    Some(v) if valid_xml_name(v) => *slot = v.to_string(),
                    _ => self.diags.push(
                        Diagnostic::new(
                            Loc::at(&self.file, self.text, s.at),
                            format!("{key} must be an XML element name"),
                        )
                        .hint("letters, digits, '_', '-', '.'"),
                    ),
                }
            }
        }
        spec
    }

    fn lookups_table(&mut self, n: &Tn) {
        let Some(entries) = n.as_table() else {
            self.err(
                n.at,
                "[lookups] must be a table of tables",
                "write [lookups.NAME] with inline = { .. } or file = \"lookups/x.csv\"",
            );
            return;
        };
        for e in entries {
            let t = &e.node;
            if t.as_table().is_none() {
                self.err(
                    t.at,
                    format!("lookup '{}' must be a table", e.key),
                    "e.g. [lookups.units] inline = { szt = \"EA\" } miss = \"error\"",
                );
                continue;
            }
            self.known_keys(
                t,
                &[
                    "inline",
                    "file",
                    "key",
                    "value",
                    "miss",
                    "default",
                    "case_insensitive",
                ],
                &format!("lookup '{}'", e.key),
            );
            let miss = match t.get("miss").map(|m| (m.as_str(), m.at)) {
                None => {
                    self.err(
                        e.key_at,
                        format!("lookup '{}' has no miss policy", e.key),
                        "add miss = \"error\", \"pass\" or \"default\" (with default = ..)",
                    );
                    MissPolicy::Error
                }
                Some((Some("error"), _)) => MissPolicy::Error,
                Some((Some("pass"), _)) => MissPolicy::PassThrough,
                Some((Some("default"), at)) => match t.get("default") {
                    Some(d) => MissPolicy::Default(d.to_json()),
                    None => {
                        self.err(
                            at,
                            "miss = \"default\" needs a default value",
                            "add default = \"...\"",
                        );
                        MissPolicy::Error
                    }
                },
                Some((_, at)) => {
                    self.err(
                        at,
                        "unknown miss policy",
                        "one of: \"error\", \"pass\", \"default\"",
                    );
                    MissPolicy::Error
                }
            };
            let case_insensitive = matches!(
                t.get("case_insensitive").map(|c| &c.v),
                Some(Tv::Bool(true))
            );
            let mut lookup = Lookup {
                name: e.key.clone(),
                entries: HashMap::new(),
                miss,
                case_insensitive,
            };
            match (t.get("inline"), t.get("file")) {
                (Some(i), None) => match i.as_table() {
                    Some(rows) => {
                        for r in rows {
                            lookup.insert(&r.key, r.node.to_json());
                        }
                    }
                    None => self.err(
                        i.at,
                        "inline must be a table of key = value",
                        "e.g. inline = { szt = \"EA\", kg = \"KG\" }",
                    ),
                },
                (None, Some(f)) => {
                    if let Some(rel) = self.str_of(f, "file") {
                        let key = t
                            .get("key")
                            .and_then(|k| k.as_str())
                            .unwrap_or("key")
                            .to_string();
                        let value = t
                            .get("value")
                            .and_then(|k| k.as_str())
                            .unwrap_or("value")
                            .to_string();
                        match self.find_lookup_file(rel) {
                            Some(p) => match std::fs::read_to_string(&p) {
                                Ok(content) => {
                                    self.hasher.update(content.as_bytes());
                                    self.lookup_files.push(p.clone());
                                    if let Err(msg) = lookup.load_csv(&content, &key, &value) {
                                        self.err(f.at, format!("lookup file {}: {msg}", p.display()), "the file needs a header row with the key and value columns");
                                    }
                                }
                                Err(err) => self.err(f.at, format!("cannot read lookup file {}: {err}", p.display()), "check permissions"),
                            },
                            None => self.err(f.at, format!("lookup table file '{rel}' not found"), format!("put it under mappings/{rel} (searched the directories above {})", self.file.display())),
                        }
                    }
                }
                (Some(_), Some(f)) => self.err(
                    f.at,
                    "a lookup has either inline or file, not both",
                    "remove one of them",
                ),
                (None, None) => self.err(
                    e.key_at,
                    format!("lookup '{}' has neither inline nor file", e.key),
                    "add inline = { .. } or file = \"lookups/NAME.csv\"",
                ),
            }
            self.lookup_index.insert(e.key.clone(), self.lookups.len());
            self.lookups.push(Arc::new(lookup));
        }
    }

    fn find_lookup_file(&self, rel: &str) -> Option<PathBuf> {
        let rel = Path::new(rel);
        if rel.is_absolute() {
            return rel.exists().then(|| rel.to_path_buf());
        }
        let mut dir = self.file.parent();
        while let Some(d) = dir {
            let candidate = d.join(rel);
            if candidate.is_file() {
                return Some(candidate);
            }
            dir = d.parent();
        }
        None
    }

    /// A target object: its entries in file order; dotted keys nest.
    fn object(
        &mut self,
        t: &Tn,
        scope: Scope<'_>,
        tgt: Option<&Shape>,
        prefix: &str,
        entity: Option<Entity>,
    ) -> ObjectPlan {
        let mut plan = ObjectPlan::default();
        for e in t.as_table().unwrap_or(&[]) {
            let segs: Vec<&str> = e.key.split('.').collect();
            if segs.iter().any(|s| s.is_empty()) {
                self.err(
                    e.key_at,
                    format!("bad target field name '{}'", e.key),
                    "target names are dot-separated, e.g. \"price.amount\"",
                );
                continue;
            }
            self.entry(&mut plan, &segs, e, scope, tgt, prefix);
        }
        if prefix.is_empty() || prefix.ends_with("[].") {
            if let Some(shape) = tgt {
                self.check_required(&plan, shape, prefix, t.at, entity);
            }
        }
        plan
    }

    /// Required fields of the canonical model must have a rule, also in nested objects built
    /// from dotted names (`"seller.name"`) or sub-tables. Loops check their own items.
    fn check_required(
        &mut self,
        plan: &ObjectPlan,
        shape: &Shape,
        prefix: &str,
        at: usize,
        entity: Option<Entity>,
    ) {
        for req in shape.required_fields() {
            if !plan.entries.iter().any(|(k, _)| k == req) {
                let what = if prefix.is_empty() {
                    entity.map(|e| e.name().to_string()).unwrap_or_default()
                } else {
                    prefix.trim_end_matches('.').to_string()
                };
                self.err(
                    at,
                    format!("missing required target field '{prefix}{req}' of {what}"),
                    format!(
                        "add a rule for {prefix}{req} (it is not optional in the canonical model)"
                    ),
                );
            }
        }
        for (k, node) in &plan.entries {
            if let (Node::Object(inner), Some((sub @ Shape::Object(_), _))) = (node, shape.field(k))
            {
                self.check_required(inner, sub, &format!("{prefix}{k}."), at, None);
            }
        }
    }

    fn entry(
        &mut self,
        plan: &mut ObjectPlan,
        segs: &[&str],
        e: &Entry,
        scope: Scope<'_>,
        tgt: Option<&Shape>,
        prefix: &str,
    ) {
        let name = segs[0];
        let full = format!("{prefix}{name}");
        let sub_tgt = match tgt {
            Some(shape @ Shape::Object(_)) => match shape.field(name) {
                Some((s, _)) => Some(s),
                None => {
                    self.err(
                        e.key_at,
                        format!("unknown target field '{full}'"),
                        format!("known fields here: {}", shape.field_names().join(", ")),
                    );
                    return;
                }
            },
            _ => None,
        };
        if segs.len() > 1 {
            // `"a.b" = rule`: descend into (or create) the nested object `a`.
            let idx = match plan.entries.iter().position(|(k, _)| k == name) {
                Some(i) => i,
                None => {
                    plan.entries
                        .push((name.to_string(), Node::Object(ObjectPlan::default())));
                    plan.entries.len() - 1
                }
            };
            match &mut plan.entries[idx].1 {
                Node::Object(inner) => {
                    let mut inner_plan = std::mem::take(inner);
                    self.entry(
                        &mut inner_plan,
                        &segs[1..],
                        e,
                        scope,
                        sub_tgt,
                        &format!("{full}."),
                    );
                    plan.entries[idx].1 = Node::Object(inner_plan);
                }
                _ => self.err(
                    e.key_at,
                    format!("target field '{full}' is already set by a rule"),
                    "a field is either a value or an object of fields",
                ),
            }
            return;
        }
        if plan.entries.iter().any(|(k, _)| k == name) {
            self.err(
                e.key_at,
                format!("duplicate target field '{full}'"),
                "each target field has one rule",
            );
            return;
        }
        let n = &e.node;
        let node = match &n.v {
            Tv::Str(s) => {
                // Shorthand: `target = "source.path"`.
                self.rules += 1;
                let id = RuleId {
                    target: full.clone(),
                    loc: self.loc(n.at),
                };
                let source = self
                    .src_path(s, n.at, scope)
                    .map(ValueSource::Path)
                    .unwrap_or(ValueSource::Nothing);
                let rule = FieldRule {
                    id,
                    when: None,
                    source,
                    default: None,
                    required: false,
                    unique: false,
                    keep_null: false,
                    steps: Vec::new(),
                };
                self.check_target_scalar(&rule, sub_tgt, n.at);
                Node::Field(Box::new(rule))
            }
            Tv::Table(entries) if entries.iter().any(|x| x.key == "each") => {
                match self.each(n, scope, sub_tgt, &full) {
                    Some(p) => Node::Each(Box::new(p)),
                    None => return,
                }
            }
            Tv::Table(entries)
                if entries.iter().any(|x| {
                    VALUE_KEYS.contains(&x.key.as_str())
                        || STEP_KEYS.contains(&x.key.as_str())
                        || x.key == "required"
                }) =>
            {
                let rule = self.rule(n, scope, &full);
                self.check_target_scalar(&rule, sub_tgt, n.at);
                Node::Field(Box::new(rule))
            }
            Tv::Table(_) => {
                let shape = match sub_tgt {
                    Some(s @ Shape::Object(_)) => Some(s),
                    Some(Shape::Scalar(Scalar::Any)) | None => None,
                    Some(other) => {
                        self.err(
                            n.at,
                            format!(
                                "target field '{full}' is {}, not an object",
                                shape_name(other)
                            ),
                            "give it a rule such as { from = \"...\" }",
                        );
                        return;
                    }
                };
                Node::Object(self.object(n, scope, shape, &format!("{full}."), None))
            }
            _ => {
                // A bare constant (number, boolean) is a constant rule.
                self.rules += 1;
                let rule = FieldRule {
                    id: RuleId {
                        target: full.clone(),
                        loc: self.loc(n.at),
                    },
                    when: None,
                    source: ValueSource::Const(n.to_json()),
                    default: None,
                    required: false,
                    unique: false,
                    keep_null: false,
                    steps: Vec::new(),
                };
                self.check_target_scalar(&rule, sub_tgt, n.at);
                Node::Field(Box::new(rule))
            }
        };
        plan.entries.push((name.to_string(), node));
    }

    /// Checks a scalar rule against a typed target field: kind, declared type and constants.
    fn check_target_scalar(&mut self, rule: &FieldRule, tgt: Option<&Shape>, at: usize) {
        let Some(shape) = tgt else { return };
        let target = &rule.id.target;
        let scalar = match shape {
            Shape::Scalar(s) => *s,
            Shape::Object(_)
                if matches!(rule.source, ValueSource::Path(_) | ValueSource::Expr(_))
                    && rule.steps.is_empty() =>
            {
                return
            }
            Shape::Array(_)
                if matches!(
                    rule.source,
                    ValueSource::Path(_) | ValueSource::Expr(_) | ValueSource::Const(_)
                ) && rule.steps.is_empty() =>
            {
                return
            }
            other => {
                self.err(
                    at,
                    format!(
                        "target field '{target}' is {}, but the rule makes a single value",
                        shape_name(other)
                    ),
                    "use nested fields for objects or each = \"...\" for arrays",
                );
                return;
            }
        };
        let declared = rule.steps.iter().rev().find_map(|s| match s {
            Step::Coerce(c) => Some(c.name()),
            _ => None,
        });
        if let Some(d) = declared {
            let ok = match scalar {
                Scalar::Str | Scalar::Uom | Scalar::Enum(_) => d == "string",
                Scalar::Dec => d == "decimal" || d == "integer",
                Scalar::Int => d == "integer",
                Scalar::Bool => d == "boolean",
                Scalar::Date => d == "date" || d == "string",
                Scalar::DateTime => d == "datetime" || d == "string",
                Scalar::Any => true,
            };
            if !ok {
                self.err(
                    at,
                    format!("target field '{target}' is a {scalar}, but the rule converts to {d}"),
                    format!("use type = \"{}\"", scalar_type_name(scalar)),
                );
            }
        }
        let check_const = |v: &serde_json::Value| -> Option<String> {
            match (scalar, v) {
                (Scalar::Str, serde_json::Value::String(_)) | (Scalar::Any, _) => None,
                (Scalar::Bool, serde_json::Value::Bool(_)) => None,
                (Scalar::Int, serde_json::Value::Number(n)) if n.is_i64() || n.is_u64() => None,
                (Scalar::Dec, serde_json::Value::Number(_)) => None,
                (Scalar::Dec, serde_json::Value::String(s))
                    if crate::ops::parse_decimal(s, false).is_some() =>
                {
                    None
                }
                (Scalar::Uom, serde_json::Value::String(s)) if Uom::parse(s).is_some() => None,
                (Scalar::Enum(vals), serde_json::Value::String(s))
                    if vals.contains(&s.as_str()) =>
                {
                    None
                }
                (Scalar::Date, serde_json::Value::String(s))
                    if chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").is_ok() =>
                {
                    None
                }
                (Scalar::DateTime, serde_json::Value::String(s))
                    if chrono::DateTime::parse_from_rfc3339(s).is_ok() =>
                {
                    None
                }
                _ => Some(format!(
                    "constant {v} does not fit target field '{target}' ({scalar})"
                )),
            }
        };
        if rule.steps.is_empty() {
            let c = match &rule.source {
                ValueSource::Const(v) => Some(v),
                _ => rule.default.as_ref(),
            };
            if let Some(msg) = c.and_then(check_const) {
                self.err(at, msg, format!("write a {scalar} value"));
            }
        }
    }

    fn src_path(&mut self, s: &str, at: usize, scope: Scope<'_>) -> Option<SrcPath> {
        let p = match SrcPath::parse(s) {
            Ok(p) => p,
            Err(e) => {
                self.err(
                    at,
                    format!("bad source path '{s}': {e}"),
                    "paths look like a.b, lines[].sku, lines[0].sku or $.root_field",
                );
                return None;
            }
        };
        // `$doc.` paths read the document around the records, which has no typed shape.
        let shape = if p.doc {
            None
        } else if p.root {
            scope.root_src
        } else {
            scope.src
        };
        if let Some(shape) = shape {
            if let Err(msg) = find_shape(shape, &p) {
                self.err(
                    at,
                    format!("unknown source path '{s}': {msg}"),
                    "the source is a typed canonical entity; check the field name",
                );
                return None;
            }
        }
        Some(p)
    }

    fn cond(&mut self, n: &Tn, scope: Scope<'_>) -> Option<Cond> {
        match &n.v {
            Tv::Str(code) => self.expr(code, n).map(Cond::Expr),
            Tv::Table(_) => {
                self.known_keys(
                    n,
                    &["path", "equals", "not_equals", "exists", "in"],
                    "a condition",
                );
                let p = n.get("path").and_then(|p| p.as_str().map(|s| (s, p.at)));
                let Some((ps, pat)) = p else {
                    self.err(
                        n.at,
                        "condition table needs path",
                        "e.g. { path = \"status\", equals = \"shipped\" } or a jq string",
                    );
                    return None;
                };
                let path = self.src_path(ps, pat, scope)?;
                if let Some(v) = n.get("equals") {
                    Some(Cond::Equals(path, v.to_json(), true))
                } else if let Some(v) = n.get("not_equals") {
                    Some(Cond::Equals(path, v.to_json(), false))
                } else if let Some(v) = n.get("in") {
                    match v.to_json() {
                        serde_json::Value::Array(a) => Some(Cond::In(path, a)),
                        _ => {
                            self.err(v.at, "in must be an array", "e.g. in = [\"a\", \"b\"]");
                            None
                        }
                    }
                } else {
                    let want = !matches!(n.get("exists").map(|e| &e.v), Some(Tv::Bool(false)));
                    Some(Cond::Exists(path, want))
                }
            }
            _ => {
                self.err(
                    n.at,
                    format!("a condition is a jq string or a table, found {}", n.kind()),
                    "e.g. when = '.qty > 0'",
                );
                None
            }
        }
    }

    fn expr(&mut self, code: &str, n: &Tn) -> Option<Expr> {
        match Expr::compile(code) {
            Ok(e) => Some(e),
            Err(errs) => {
                // Point into the expression: the value starts with its quote character.
                let quote = self
                    .text
                    .get(n.at..)
                    .map(|s| {
                        if s.starts_with("'''") || s.starts_with("\"\"\"") {
                            3
                        } else {
                            1
                        }
                    })
                    .unwrap_or(1);
                for e in errs {
                    let at = n.at + quote + e.offset;
                    self.err(at, format!("bad expression: {}", e.message), "expressions are jq (jaq); '.' is the current record, $root the whole input");
                }
                None
            }
        }
    }

    fn operand(&mut self, n: &Tn, scope: Scope<'_>, target: &str) -> Option<Operand> {
        match &n.v {
            Tv::Int(i) => Some(Operand::Lit((*i).into())),
            Tv::Float(f) | Tv::Str(f) => match crate::ops::parse_decimal(f, false) {
                Some(d) => Some(Operand::Lit(d)),
                None => {
                    self.err(
                        n.at,
                        format!("'{f}' is not a decimal number"),
                        "for a source value write { from = \"path\" }",
                    );
                    None
                }
            },
            Tv::Table(_) => Some(Operand::Rule(Box::new(self.rule(n, scope, target)))),
            _ => {
                self.err(
                    n.at,
                    format!("an operand is a number or a rule table, found {}", n.kind()),
                    "e.g. mul = \"1.23\" or mul = { from = \"qty\" }",
                );
                None
            }
        }
    }

    fn uom_ref(&mut self, n: &Tn, scope: Scope<'_>) -> Option<UomRef> {
        let s = self.str_of(n, "unit")?;
        if let Some(p) = s.strip_prefix('@') {
            return self.src_path(p, n.at, scope).map(UomRef::Path);
        }
        match Uom::parse(s) {
            Some(u) => Some(UomRef::Fixed(u)),
            None => {
                let codes: Vec<&str> = Uom::ALL.iter().map(|u| u.code()).collect();
                self.err(
                    n.at,
                    format!("unknown unit '{s}'"),
                    format!(
                        "one of {} or @path for a unit read from the record",
                        codes.join(", ")
                    ),
                );
                None
            }
        }
    }

    /// A field rule: value source, modifiers and steps in the order written.
    fn rule(&mut self, n: &Tn, scope: Scope<'_>, target: &str) -> FieldRule {
        self.rules += 1;
        let id = RuleId {
            target: target.to_string(),
            loc: self.loc(n.at),
        };
        let entries = n.as_table().unwrap_or(&[]);
        let mut rule = FieldRule {
            id,
            when: None,
            source: ValueSource::Nothing,
            default: None,
            required: false,
            unique: false,
            keep_null: false,
            steps: Vec::new(),
        };
        let mut sources = 0;
        for e in entries {
            let k = e.key.as_str();
            let v = &e.node;
            let is_source = matches!(k, "from" | "const" | "concat" | "expr" | "sum" | "count");
            if is_source {
                sources += 1;
                if sources > 1 {
                    self.err(
                        e.key_at,
                        format!("rule for '{target}' has more than one value source"),
                        "use one of from, const, concat, expr, sum, count",
                    );
                    continue;
                }
            }
            match k {
                "from" => {
                    if let Some(s) = self.str_of(v, "from") {
                        if let Some(p) = self.src_path(s, v.at, scope) {
                            rule.source = ValueSource::Path(p);
                        }
                    }
                }
                "const" => rule.source = ValueSource::Const(v.to_json()),
                "concat" => {
                    let Tv::Arr(items) = &v.v else {
                        self.err(v.at, "concat must be an array", "e.g. concat = [\"first\", \"' '\", \"last\"] ('quoted' items are literal)");
                        continue;
                    };
                    let mut parts = Vec::new();
                    for it in items {
                        match &it.v {
                            Tv::Str(s)
                                if s.len() >= 2 && s.starts_with('\'') && s.ends_with('\'') =>
                            {
                                parts.push(ConcatPart::Lit(s[1..s.len() - 1].to_string()))
                            }
                            Tv::Str(s) => {
                                if let Some(p) = self.src_path(s, it.at, scope) {
                                    parts.push(ConcatPart::Path(p))
                                }
                            }
                            Tv::Table(_) => match it.get("lit").and_then(|l| l.as_str()) {
                                Some(l) => parts.push(ConcatPart::Lit(l.to_string())),
                                None => self.err(
                                    it.at,
                                    "concat items are paths, 'literals' or { lit = \"..\" }",
                                    "e.g. concat = [\"city\", { lit = \", \" }, \"country\"]",
                                ),
                            },
                            _ => self.err(
                                it.at,
                                "concat items are paths, 'literals' or { lit = \"..\" }",
                                "quote the item",
                            ),
                        }
                    }
                    let sep = n
                        .get("sep")
                        .and_then(|s| s.as_str())
                        .unwrap_or("")
                        .to_string();
                    rule.source = ValueSource::Concat { parts, sep };
                }
                "expr" => {
                    if let Some(code) = self.str_of(v, "expr") {
                        if let Some(x) = self.expr(code, v) {
                            rule.source = ValueSource::Expr(x);
                        }
                    }
                }
                "sum" | "count" => {
                    let path = match &v.v {
                        Tv::Bool(true) if scope.in_group => None,
                        Tv::Bool(_) => {
                            self.err(
                                v.at,
                                format!("{k} = true only works inside a group_by loop"),
                                format!("give a path: {k} = \"lines[].quantity\""),
                            );
                            continue;
                        }
                        Tv::Str(s) => {
                            let Some(p) = self.src_path(s, v.at, scope) else {
                                continue;
                            };
                            Some(p)
                        }
                        _ => {
                            self.err(
                                v.at,
                                format!("{k} takes a path or true"),
                                format!("e.g. {k} = \"lines\""),
                            );
                            continue;
                        }
                    };
                    if k == "count" {
                        rule.source = ValueSource::Count(path);
                    } else {
                        // `of` is evaluated per summed element, so its paths are relative to it.
                        let elem_shape = match (&path, scope.src) {
                            (Some(p), Some(s)) => find_shape(s, p).ok().map(|sh| match sh {
                                Shape::Array(inner) => inner.as_ref(),
                                other => other,
                            }),
                            (None, s) => s,
                            _ => None,
                        };
                        let of = n.get("of").map(|o| {
                            let inner = Scope {
                                src: elem_shape,
                                root_src: scope.root_src,
                                in_group: false,
                            };
                            Box::new(self.rule(o, inner, &format!("{target} (of)")))
                        });
                        rule.source = ValueSource::Sum { path, of };
                    }
                }
                "default" => rule.default = Some(v.to_json()),
                "required" => rule.required = self.boolean(v, "required"),
                "unique" => {
                    rule.unique = self.boolean(v, "unique");
                }
                "keep_null" => rule.keep_null = self.boolean(v, "keep_null"),
                "when" => rule.when = self.cond(v, scope),
                "sep" | "of" | "scale" | "rounding" | "decimal_comma" | "as" | "in_format"
                | "out_format" | "tz" | "out_tz" => {}
                "steps" => {
                    // Ordered (and repeatable) steps: steps = [{ mul = .. }, { round = 2 }, { mul = .. }].
                    let Tv::Arr(items) = &v.v else {
                        self.err(
                            v.at,
                            "steps must be an array of one-step tables",
                            "e.g. steps = [{ mul = { from = \"unit_price\" } }, { round = 2 }]",
                        );
                        continue;
                    };
                    for it in items {
                        let Some(es) = it.as_table() else {
                            self.err(it.at, "each step is a table", "e.g. { round = 2 }");
                            continue;
                        };
                        for se in es {
                            if STEP_KEYS.contains(&se.key.as_str()) && se.key != "steps" {
                                if let Some(step) = self.step(&se.key, &se.node, it, scope, target)
                                {
                                    rule.steps.push(step);
                                }
                            } else if !PARAM_KEYS.contains(&se.key.as_str()) {
                                self.err(
                                    se.key_at,
                                    format!("unknown step '{}'", se.key),
                                    format!("steps: {}", STEP_KEYS[1..].join(", ")),
                                );
                            }
                        }
                    }
                }
                _ if STEP_KEYS.contains(&k) => {
                    if let Some(step) = self.step(k, v, n, scope, target) {
                        rule.steps.push(step);
                    }
                }
                "each" | "fields" | "filter" | "group_by" | "value" => {
                    self.err(
                        e.key_at,
                        format!("'{k}' belongs to a loop"),
                        "a loop is a table with each = \"array.path\" and fields = { .. }",
                    );
                }
                _ => {
                    let mut all: Vec<&str> = VALUE_KEYS
                        .iter()
                        .chain(STEP_KEYS)
                        .chain(PARAM_KEYS)
                        .copied()
                        .collect();
                    all.sort_unstable();
                    all.dedup();
                    let near = all
                        .iter()
                        .find(|c| edit_distance(c, k) <= 2)
                        .map(|c| format!("did you mean '{c}'? "))
                        .unwrap_or_default();
                    self.err(
                        e.key_at,
                        format!("unknown rule key '{k}' in '{target}'"),
                        format!("{near}rule keys: {}", all.join(", ")),
                    );
                }
            }
        }
        // Parameters without their step are mistakes worth reporting.
        let has_type = |t: &str| n.get("type").and_then(|x| x.as_str()) == Some(t);
        for (param, needs) in [
            ("scale", "decimal"),
            ("decimal_comma", "decimal"),
            ("as", "decimal"),
            ("in_format", "date"),
            ("out_format", "date"),
            ("tz", "datetime"),
            ("out_tz", "datetime"),
        ] {
            if let Some(p) = entries.iter().find(|e| e.key == param) {
                let ok = has_type(needs) || (needs == "date" && has_type("datetime"));
                if !ok {
                    self.err(
                        p.key_at,
                        format!("'{param}' only applies with type = \"{needs}\""),
                        format!("add type = \"{needs}\" or remove {param}"),
                    );
                }
            }
        }
        if let Some(p) = entries.iter().find(|e| e.key == "rounding") {
            if !has_type("decimal") && n.get("round").is_none() {
                self.err(
                    p.key_at,
                    "'rounding' applies to type = \"decimal\" with scale, or to round",
                    "add scale = N or round = N",
                );
            }
        }
        if let Some(p) = entries.iter().find(|e| e.key == "of") {
            if n.get("sum").is_none() {
                self.err(p.key_at, "'of' only applies with sum", "e.g. sum = \"lines\", of = { from = \"quantity\", mul = { from = \"unit_price\" } }");
            }
        }
        rule
    }

    fn boolean(&mut self, v: &Tn, what: &str) -> bool {
        match v.v {
            Tv::Bool(b) => b,
            _ => {
                self.err(
                    v.at,
                    format!("{what} must be true or false, found {}", v.kind()),
                    format!("e.g. {what} = true"),
                );
                false
            }
        }
    }

    fn rounding(&mut self, n: &Tn) -> Rounding {
        match n.get("rounding") {
            None => Rounding::HalfUp,
            Some(r) => match r.as_str().and_then(Rounding::parse) {
                Some(x) => x,
                None => {
                    self.err(
                        r.at,
                        "unknown rounding mode",
                        format!("one of: {}", Rounding::NAMES),
                    );
                    Rounding::HalfUp
                }
            },
        }
    }

    fn formats(&mut self, n: &Tn, key: &str) -> Vec<String> {
        match n.get(key) {
            None => Vec::new(),
            Some(Tn { v: Tv::Str(s), .. }) => vec![s.clone()],
            Some(Tn { v: Tv::Arr(a), at }) => {
                let out: Vec<String> = a
                    .iter()
                    .filter_map(|x| x.as_str().map(str::to_string))
                    .collect();
                if out.len() != a.len() {
                    self.err(
                        *at,
                        format!("{key} must be strings"),
                        "e.g. in_format = [\"%d.%m.%Y\", \"%Y-%m-%d\"]",
                    );
                }
                out
            }
            Some(other) => {
                self.err(
                    other.at,
                    format!("{key} must be a strftime string"),
                    "e.g. \"%d.%m.%Y %H:%M\"",
                );
                Vec::new()
            }
        }
    }

    fn tz(&mut self, n: &Tn, key: &str) -> Option<chrono_tz::Tz> {
        let t = n.get(key)?;
        match t.as_str().map(|s| s.parse::<chrono_tz::Tz>()) {
            Some(Ok(z)) => Some(z),
            _ => {
                self.err(
                    t.at,
                    "unknown time zone",
                    "an IANA name such as \"Europe/Warsaw\" or \"UTC\"",
                );
                None
            }
        }
    }

    fn step(&mut self, k: &str, v: &Tn, rule: &Tn, scope: Scope<'_>, target: &str) -> Option<Step> {
        let flag = |cx: &mut Self, s: Step| if cx.boolean(v, k) { Some(s) } else { None };
        match k {
            "trim" => flag(self, Step::Trim),
            "upper" => flag(self, Step::Upper),
            "lower" => flag(self, Step::Lower),
            "uom" => flag(self, Step::Uom),
            "pad" => {
                let width = match v.get("width").map(|w| &w.v) {
                    // Capped so a typo cannot make every record allocate gigabytes.
                    Some(Tv::Int(w)) if (0..=10_000).contains(w) => *w as usize,
                    _ => {
                        self.err(
                            v.at,
                            "pad needs width (0..=10000)",
                            "e.g. pad = { width = 10, char = \"0\", side = \"left\" }",
                        );
                        return None;
                    }
                };
                let ch = v
                    .get("char")
                    .and_then(|c| c.as_str())
                    .map(|c| c.chars().next().unwrap_or(' '))
                    .unwrap_or(' ');
                let side = match v.get("side").and_then(|s| s.as_str()) {
                    None | Some("left") => Side::Left,
                    Some("right") => Side::Right,
                    Some(_) => {
                        self.err(
                            v.at,
                            "pad side is \"left\" or \"right\"",
                            "e.g. side = \"left\"",
                        );
                        Side::Left
                    }
                };
                Some(Step::Pad { width, ch, side })
            }
            "substring" => {
                let get = |key: &str| match v.get(key).map(|x| &x.v) {
                    Some(Tv::Int(i)) if *i >= 0 => Some(Some(*i as usize)),
                    None => Some(None),
                    _ => None,
                };
                match (get("start"), get("len")) {
                    (Some(start), Some(len)) => Some(Step::Substring {
                        start: start.unwrap_or(0),
                        len,
                    }),
                    _ => {
                        self.err(
                            v.at,
                            "substring takes start and len (non-negative integers)",
                            "e.g. substring = { start = 0, len = 3 }",
                        );
                        None
                    }
                }
            }
            "split" => match (
                v.get("sep").and_then(|s| s.as_str()),
                v.get("index").map(|i| &i.v),
            ) {
                (Some(sep), Some(Tv::Int(i))) if !sep.is_empty() => Some(Step::Split {
                    sep: sep.to_string(),
                    index: Some(*i),
                }),
                (Some(sep), None) if !sep.is_empty() => Some(Step::Split {
                    sep: sep.to_string(),
                    index: None,
                }),
                _ => {
                    self.err(v.at, "split takes sep (non-empty) and optionally index (negative counts from the end; without it: an array of the trimmed non-empty parts)", "e.g. split = { sep = \"-\", index = 0 }");
                    None
                }
            },
            "replace" => {
                let (Some(pat), Some(with)) =
                    (v.get("pattern"), v.get("with").and_then(|w| w.as_str()))
                else {
                    self.err(
                        v.at,
                        "replace takes pattern and with",
                        "e.g. replace = { pattern = \"\\\\s+\", with = \" \" }",
                    );
                    return None;
                };
                let ps = pat.as_str().unwrap_or("");
                match regex::Regex::new(ps) {
                    Ok(re) => Some(Step::Replace {
                        re,
                        with: with.to_string(),
                    }),
                    Err(e) => {
                        let msg = e
                            .to_string()
                            .lines()
                            .last()
                            .unwrap_or("invalid regex")
                            .trim()
                            .to_string();
                        self.err(
                            pat.at,
                            format!("bad regex: {msg}"),
                            "regex syntax is Rust's regex crate",
                        );
                        None
                    }
                }
            }
            "lookup" => {
                let name = self.str_of(v, "lookup")?;
                match self.lookup_index.get(name) {
                    Some(i) => Some(Step::Lookup(*i)),
                    None => {
                        let known: Vec<&String> = self.lookup_index.keys().collect();
                        self.err(
                            v.at,
                            format!("missing lookup table '{name}'"),
                            format!("declare [lookups.{name}] (declared: {known:?})"),
                        );
                        None
                    }
                }
            }
            "type" => {
                let t = self.str_of(v, "type")?;
                let c = match t {
                    "string" => Coerce::String,
                    "integer" => Coerce::Integer,
                    "boolean" => Coerce::Boolean,
                    "decimal" => {
                        let scale = match rule.get("scale").map(|s| &s.v) {
                            None => None,
                            Some(Tv::Int(s)) if (0..=28).contains(s) => Some(*s as u32),
                            Some(_) => {
                                self.err(
                                    rule.get("scale").map(|s| s.at).unwrap_or(v.at),
                                    "scale must be 0..=28",
                                    "e.g. scale = 2",
                                );
                                None
                            }
                        };
                        let as_number = match rule.get("as").and_then(|a| a.as_str()) {
                            None | Some("string") => false,
                            Some("number") => true,
                            Some(_) => {
                                self.err(
                                    rule.get("as").map(|a| a.at).unwrap_or(v.at),
                                    "as is \"string\" or \"number\"",
                                    "decimals are strings by default (exact)",
                                );
                                false
                            }
                        };
                        let comma = matches!(
                            rule.get("decimal_comma").map(|c| &c.v),
                            Some(Tv::Bool(true))
                        );
                        Coerce::Decimal {
                            scale,
                            rounding: self.rounding(rule),
                            comma,
                            as_number,
                        }
                    }
                    "date" => {
                        let out = rule
                            .get("out_format")
                            .and_then(|o| o.as_str())
                            .unwrap_or("%Y-%m-%d")
                            .to_string();
                        Coerce::Date {
                            in_formats: self.formats(rule, "in_format"),
                            out_format: out,
                        }
                    }
                    "datetime" => Coerce::DateTime {
                        in_formats: self.formats(rule, "in_format"),
                        out_format: rule
                            .get("out_format")
                            .and_then(|o| o.as_str())
                            .map(str::to_string),
                        tz: self.tz(rule, "tz").unwrap_or(chrono_tz::Tz::UTC),
                        out_tz: self.tz(rule, "out_tz"),
                    },
                    other => {
                        self.err(
                            v.at,
                            format!("unknown type '{other}'"),
                            "one of: string, integer, decimal, boolean, date, datetime",
                        );
                        return None;
                    }
                };
                for key in ["in_format", "out_format"] {
                    for f in self.formats(rule, key) {
                        if chrono::format::StrftimeItems::new(&f)
                            .any(|i| matches!(i, chrono::format::Item::Error))
                        {
                            let at = rule.get(key).map(|x| x.at).unwrap_or(v.at);
                            self.err(
                                at,
                                format!("bad {key} '{f}'"),
                                "strftime syntax, e.g. \"%Y-%m-%d %H:%M\"",
                            );
                        }
                    }
                }
                Some(Step::Coerce(c))
            }
            "add" | "sub" | "mul" | "div" => {
                let op = match k {
                    "add" => ArithOp::Add,
                    "sub" => ArithOp::Sub,
                    "mul" => ArithOp::Mul,
                    _ => ArithOp::Div,
                };
                if let (ArithOp::Div, Tv::Int(0)) = (op, &v.v) {
                    self.err(v.at, "division by zero", "divide by a non-zero number");
                    return None;
                }
                let operand = self.operand(v, scope, &format!("{target} ({k})"))?;
                Some(Step::Arith(op, operand))
            }
            "round" => match v.v {
                Tv::Int(s) if (0..=28).contains(&s) => Some(Step::Round {
                    scale: s as u32,
                    mode: self.rounding(rule),
                }),
                _ => {
                    self.err(
                        v.at,
                        "round takes a scale 0..=28",
                        "e.g. round = 2, rounding = \"half_even\"",
                    );
                    None
                }
            },
            "convert" => {
                if v.as_table().is_none() {
                    self.err(v.at, "convert is a table", "e.g. convert = { from_unit = \"FT\", to_unit = \"LB\", factor = { from = \"lb_per_ft\" }, factor_unit = \"LB/FT\" }");
                    return None;
                }
                self.known_keys(
                    v,
                    &["from_unit", "to_unit", "factor", "factor_unit"],
                    "convert",
                );
                let (Some(f), Some(t)) = (v.get("from_unit"), v.get("to_unit")) else {
                    self.err(
                        v.at,
                        "convert needs from_unit and to_unit",
                        "units are codes (\"FT\") or @path read from the record",
                    );
                    return None;
                };
                let from = self.uom_ref(f, scope);
                let to = self.uom_ref(t, scope);
                let per = match (v.get("factor"), v.get("factor_unit")) {
                    (Some(fac), Some(fu)) => {
                        let unit =
                            fu.as_str()
                                .and_then(|s| s.split_once('/'))
                                .and_then(|(a, b)| {
                                    Some(PerFactor {
                                        num: Uom::parse(a)?,
                                        den: Uom::parse(b)?,
                                    })
                                });
                        if unit.is_none() {
                            self.err(
                                fu.at,
                                "factor_unit is NUM/DEN unit codes",
                                "e.g. factor_unit = \"LB/FT\"",
                            );
                        }
                        let operand = self.operand(fac, scope, &format!("{target} (factor)"));
                        unit.zip(operand)
                    }
                    (None, None) => None,
                    _ => {
                        self.err(
                            v.at,
                            "factor and factor_unit go together",
                            "e.g. factor = { from = \"lb_per_ft\" }, factor_unit = \"LB/FT\"",
                        );
                        None
                    }
                };
                let (from, to) = (from?, to?);
                if let (UomRef::Fixed(a), UomRef::Fixed(b)) = (&from, &to) {
                    if crate::ops::uom::dimension(*a) != crate::ops::uom::dimension(*b)
                        && per.is_none()
                    {
                        self.err(
                            v.at,
                            format!(
                                "cannot convert {} to {} without a per-product factor",
                                a.code(),
                                b.code()
                            ),
                            "add factor = { from = \"...\" } and factor_unit = \"LB/FT\"",
                        );
                    }
                }
                Some(Step::Convert { from, to, per })
            }
            "one_of" => match v.to_json() {
                serde_json::Value::Array(a) if a.iter().all(|x| x.is_string()) => {
                    Some(Step::OneOf(
                        a.into_iter()
                            .filter_map(|x| x.as_str().map(str::to_string))
                            .collect(),
                    ))
                }
                _ => {
                    self.err(
                        v.at,
                        "one_of is an array of strings",
                        "e.g. one_of = [\"raw_material\", \"finished_good\"]",
                    );
                    None
                }
            },
            "then" => {
                let code = self.str_of(v, "then")?;
                self.expr(code, v).map(Step::Expr)
            }
            _ => None,
        }
    }

    fn each(
        &mut self,
        n: &Tn,
        scope: Scope<'_>,
        tgt: Option<&Shape>,
        target: &str,
    ) -> Option<EachPlan> {
        self.known_keys(n, EACH_KEYS, &format!("loop '{target}'"));
        let id = RuleId {
            target: target.to_string(),
            loc: self.loc(n.at),
        };
        let each = n.get("each")?;
        let src_s = self.str_of(each, "each")?;
        let source = self.src_path(src_s, each.at, scope)?;
        let item_src = match (if source.doc {
            None
        } else if source.root {
            scope.root_src
        } else {
            scope.src
        })
        .map(|s| find_shape(s, &source))
        {
            Some(Ok(Shape::Array(inner))) => Some(inner.as_ref()),
            Some(Ok(Shape::Scalar(Scalar::Any))) => None,
            Some(Ok(other)) => {
                self.err(
                    each.at,
                    format!("each = \"{src_s}\" is {}, not an array", shape_name(other)),
                    "loop over an array field such as lines",
                );
                return None;
            }
            _ => None,
        };
        let item_tgt = match tgt {
            Some(Shape::Array(inner)) => Some(inner.as_ref()),
            Some(Shape::Scalar(Scalar::Any)) | None => None,
            Some(other) => {
                self.err(
                    n.at,
                    format!(
                        "target field '{target}' is {}, but a loop makes an array",
                        shape_name(other)
                    ),
                    "loop into an array field",
                );
                return None;
            }
        };
        let item_scope = Scope {
            src: item_src,
            root_src: scope.root_src,
            in_group: false,
        };
        let filter = n.get("filter").and_then(|f| self.cond(f, item_scope));
        let group_by = n.get("group_by").and_then(|g| {
            let s = self.str_of(g, "group_by")?;
            self.src_path(s, g.at, item_scope)
        });
        let when = n.get("when").and_then(|w| self.cond(w, scope));
        let required = n
            .get("required")
            .map(|r| self.boolean(r, "required"))
            .unwrap_or(false);
        let inner_scope = Scope {
            in_group: group_by.is_some(),
            ..item_scope
        };
        let item = match (n.get("fields"), n.get("value")) {
            (Some(f), None) if f.as_table().is_some() => ItemPlan::Object(self.object(
                f,
                inner_scope,
                item_tgt.filter(|s| matches!(s, Shape::Object(_))),
                &format!("{target}[]."),
                None,
            )),
            (None, Some(v)) => {
                let rule = match &v.v {
                    Tv::Str(s) => {
                        self.rules += 1;
                        let src = self
                            .src_path(s, v.at, inner_scope)
                            .map(ValueSource::Path)
                            .unwrap_or(ValueSource::Nothing);
                        FieldRule {
                            id: RuleId {
                                target: format!("{target}[]"),
                                loc: self.loc(v.at),
                            },
                            when: None,
                            source: src,
                            default: None,
                            required: false,
                            unique: false,
                            keep_null: false,
                            steps: Vec::new(),
                        }
                    }
                    _ => self.rule(v, inner_scope, &format!("{target}[]")),
                };
                self.check_target_scalar(&rule, item_tgt, v.at);
                ItemPlan::Value(Box::new(rule))
            }
            _ => {
                self.err(n.at, format!("loop '{target}' needs fields = {{ .. }} (objects) or value = rule (scalars)"), "e.g. [fields.items] each = \"lines\" then [fields.items.fields] sku = \"sku\"");
                return None;
            }
        };
        Some(EachPlan {
            id,
            when,
            source,
            filter,
            group_by,
            required,
            item,
        })
    }

    /// CSV targets are flat: loops cannot be written as columns.
    fn check_flat(&mut self, plan: &ObjectPlan) {
        for (_, node) in &plan.entries {
            match node {
                Node::Each(e) => {
                    self.diags.push(Diagnostic::new(e.id.loc.clone(), format!("a CSV target cannot hold the array '{}'", e.id.target)).hint("write one record per line item by using a JSON-lines or JSON target, or flatten with concat"));
                }
                Node::Object(o) => self.check_flat(o),
                Node::Field(_) => {}
            }
        }
    }
}

fn scalar_type_name(s: Scalar) -> &'static str {
    match s {
        Scalar::Dec => "decimal",
        Scalar::Int => "integer",
        Scalar::Bool => "boolean",
        Scalar::Date => "date",
        Scalar::DateTime => "datetime",
        _ => "string",
    }
}

fn valid_xml_name(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_alphabetic() || c == '_')
        && chars.all(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '.'))
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            cur.push(
                (prev[j] + usize::from(ca != *cb))
                    .min(prev[j + 1] + 1)
                    .min(cur[j] + 1),
            );
        }
        prev = cur;
    }
    prev[b.len()]
}
