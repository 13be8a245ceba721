//! The compiled execution plan. Built once by [`crate::compile`]; running it never looks at
//! the mapping text again.

use crate::expr::Expr;
use crate::formats::{SourceSpec, TargetSpec};
use crate::lookup::Lookup;
use crate::ops::coerce::{Coerce, Rounding};
use crate::ops::text::Side;
use crate::ops::uom::PerFactor;
use crate::path::Path;
use regex::Regex;
use rust_decimal::Decimal;
use serde_json::Value;
use std::sync::Arc;
use switchyard_core::diag::Loc;
use switchyard_core::model::Uom;

/// A compiled mapping file.
#[derive(Debug)]
pub struct Mapping {
    /// Path below the mappings directory without `.toml`, e.g. `http/catalog.out`.
    pub name: String,
    pub file: std::path::PathBuf,
    /// sha256 over the file and the lookup files it uses (hex); old versions stay addressable by it.
    pub hash: String,
    pub version: i64,
    pub source: SourceSpec,
    pub target: TargetSpec,
    pub root: ObjectPlan,
    pub lookups: Vec<Arc<Lookup>>,
    /// The lookup files read, in the order their contents went into `hash`, so a reload can
    /// tell an unchanged mapping by hashing again instead of compiling it again.
    pub lookup_files: Vec<std::path::PathBuf>,
    /// Number of field rules, for throughput figures.
    pub rule_count: usize,
}

#[derive(Debug, Default)]
pub struct ObjectPlan {
    pub entries: Vec<(String, Node)>,
}

#[derive(Debug)]
pub enum Node {
    Field(Box<FieldRule>),
    Object(ObjectPlan),
    Each(Box<EachPlan>),
}

/// Where a rule is written and which target it fills, for error messages.
#[derive(Debug, Clone)]
pub struct RuleId {
    pub target: String,
    pub loc: Loc,
}

#[derive(Debug)]
pub struct FieldRule {
    pub id: RuleId,
    pub when: Option<Cond>,
    pub source: ValueSource,
    pub default: Option<Value>,
    pub required: bool,
    pub unique: bool,
    pub keep_null: bool,
    pub steps: Vec<Step>,
}

#[derive(Debug)]
pub enum ValueSource {
    Path(Path),
    Const(Value),
    /// Parts joined by `sep`; missing parts are skipped.
    Concat {
        parts: Vec<ConcatPart>,
        sep: String,
    },
    Expr(Expr),
    /// Exact decimal sum over the values a path reaches (or over the loop group), each
    /// optionally computed by a sub-rule.
    Sum {
        path: Option<Path>,
        of: Option<Box<FieldRule>>,
    },
    /// Number of values a path reaches, or of items in the current group.
    Count(Option<Path>),
    /// No source: only `default`/`const`-like behaviour through `default`.
    Nothing,
}

#[derive(Debug)]
pub enum ConcatPart {
    Path(Path),
    Lit(String),
}

#[derive(Debug)]
pub enum Cond {
    Expr(Expr),
    Exists(Path, bool),
    Equals(Path, Value, bool),
    In(Path, Vec<Value>),
}

#[derive(Debug)]
pub enum Operand {
    Lit(Decimal),
    Rule(Box<FieldRule>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArithOp {
    Add,
    Sub,
    Mul,
    Div,
}

#[derive(Debug)]
pub enum UomRef {
    Fixed(Uom),
    Path(Path),
}

#[derive(Debug)]
pub enum Step {
    Trim,
    Upper,
    Lower,
    Pad {
        width: usize,
        ch: char,
        side: Side,
    },
    Substring {
        start: usize,
        len: Option<usize>,
    },
    /// One part, or (without index) every trimmed non-empty part as an array.
    Split {
        sep: String,
        index: Option<i64>,
    },
    Replace {
        re: Regex,
        with: String,
    },
    Lookup(usize),
    Coerce(Coerce),
    Arith(ArithOp, Operand),
    Round {
        scale: u32,
        mode: Rounding,
    },
    Convert {
        from: UomRef,
        to: UomRef,
        per: Option<(PerFactor, Operand)>,
    },
    OneOf(Vec<String>),
    Expr(Expr),
    /// A known unit code; normalises to upper case.
    Uom,
}

#[derive(Debug)]
pub struct EachPlan {
    pub id: RuleId,
    pub when: Option<Cond>,
    pub source: Path,
    pub filter: Option<Cond>,
    pub group_by: Option<Path>,
    pub required: bool,
    pub item: ItemPlan,
}

#[derive(Debug)]
pub enum ItemPlan {
    Object(ObjectPlan),
    /// `each` with a `value` rule: an array of scalars.
    Value(Box<FieldRule>),
}

/// The daemon shares compiled plans across worker threads.
const _: () = {
    const fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Mapping>();
};
