//! Running a compiled plan over one record.

use crate::ops::coerce::round;
use crate::ops::{as_text, decimal_value, is_missing, text, to_decimal, uom};
use crate::plan::*;
use rust_decimal::Decimal;
use serde_json::{Map, Value};
use std::collections::{HashMap, HashSet};
use switchyard_core::diag::Loc;
use switchyard_core::model::Uom;

/// A rule failed on a record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleError {
    /// The target field, with loop indexes filled in (`items[2].sku`).
    pub target: String,
    /// Where the rule is written in the mapping file.
    pub rule_loc: Loc,
    pub message: String,
}

impl std::fmt::Display for RuleError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "rule '{}' ({}): {}",
            self.target, self.rule_loc, self.message
        )
    }
}

/// State that spans the records of one run (uniqueness checks).
#[derive(Debug, Default)]
pub struct RunState {
    seen: HashMap<String, HashSet<String>>,
}

#[derive(Clone, Copy)]
struct Scope<'a> {
    cur: &'a Value,
    root: &'a Value,
    doc: &'a Value,
    group: Option<&'a [&'a Value]>,
}

fn fail(id: &RuleId, message: impl Into<String>) -> RuleError {
    RuleError {
        target: id.target.clone(),
        rule_loc: id.loc.clone(),
        message: message.into(),
    }
}

impl Mapping {
    /// Maps one input record to one output record.
    pub fn map_record(&self, record: &Value, state: &mut RunState) -> Result<Value, RuleError> {
        self.map_record_in(record, record, state)
    }

    /// Maps one record that sits inside `doc` (which `$doc.` paths read).
    pub fn map_record_in(
        &self,
        record: &Value,
        doc: &Value,
        state: &mut RunState,
    ) -> Result<Value, RuleError> {
        let scope = Scope {
            cur: record,
            root: record,
            doc,
            group: None,
        };
        let out = Value::Object(self.object(&self.root, scope, state)?);
        if let Some(entity) = self.target.format.entity() {
            entity.validate(&out).map_err(|m| RuleError {
                target: entity.name().to_string(),
                rule_loc: Loc::file(&self.file),
                message: format!("result is not a valid canonical {}: {m}", entity.name()),
            })?;
        }
        Ok(out)
    }

    fn object(
        &self,
        plan: &ObjectPlan,
        scope: Scope<'_>,
        state: &mut RunState,
    ) -> Result<Map<String, Value>, RuleError> {
        let mut out = Map::with_capacity(plan.entries.len());
        for (key, node) in &plan.entries {
            match node {
                Node::Field(rule) => {
                    if let Some(v) = self.field(rule, scope, state)? {
                        out.insert(key.clone(), v);
                    } else if rule.keep_null {
                        out.insert(key.clone(), Value::Null);
                    }
                }
                Node::Object(inner) => {
                    let m = self.object(inner, scope, state)?;
                    if !m.is_empty() {
                        out.insert(key.clone(), Value::Object(m));
                    }
                }
                Node::Each(each) => {
                    if let Some(v) = self.each(each, scope, state)? {
                        out.insert(key.clone(), v);
                    }
                }
            }
        }
        Ok(out)
    }

    fn cond(&self, c: &Cond, scope: Scope<'_>, id: &RuleId) -> Result<bool, RuleError> {
        let at = |p: &crate::path::Path| p.get(base(p, scope));
        Ok(match c {
            Cond::Expr(e) => e.test(scope.cur, scope.root).map_err(|m| fail(id, m))?,
            Cond::Exists(p, want) => is_missing(at(p)) != *want,
            Cond::Equals(p, v, want) => (at(p).is_some_and(|x| loose_eq(x, v))) == *want,
            Cond::In(p, vs) => at(p).is_some_and(|x| vs.iter().any(|v| loose_eq(x, v))),
        })
    }

    fn get(&self, p: &crate::path::Path, scope: Scope<'_>) -> Option<Value> {
        let base = base(p, scope);
        if p.has_each() {
            let mut out = Vec::new();
            p.collect(base, &mut out);
            Some(Value::Array(out.into_iter().cloned().collect()))
        } else {
            p.get(base).cloned()
        }
    }

    fn field(
        &self,
        rule: &FieldRule,
        scope: Scope<'_>,
        state: &mut RunState,
    ) -> Result<Option<Value>, RuleError> {
        if let Some(c) = &rule.when {
            if !self.cond(c, scope, &rule.id)? {
                return Ok(None);
            }
        }
        let id = &rule.id;
        let value = match &rule.source {
            ValueSource::Path(p) => self.get(p, scope),
            ValueSource::Const(v) => Some(v.clone()),
            ValueSource::Concat { parts, sep } => {
                let mut s = String::new();
                let mut any = false;
                for part in parts {
                    let piece = match part {
                        ConcatPart::Lit(l) => Some(std::borrow::Cow::Borrowed(l.as_str())),
                        ConcatPart::Path(p) => {
                            let base = base(p, scope);
                            match p.get(base) {
                                Some(v) if !is_missing(Some(v)) => {
                                    Some(as_text(v).map_err(|m| fail(id, m))?)
                                }
                                _ => None,
                            }
                        }
                    };
                    if let Some(piece) = piece {
                        if any && !sep.is_empty() {
                            s.push_str(sep);
                        }
                        if matches!(part, ConcatPart::Path(_)) || !piece.is_empty() {
                            any = true;
                        }
                        s.push_str(&piece);
                    }
                }
                (!s.is_empty()).then_some(Value::String(s))
            }
            ValueSource::Expr(e) => e.eval(scope.cur, scope.root).map_err(|m| fail(id, m))?,
            ValueSource::Sum { path, of } => Some(Value::String(
                self.sum(path.as_ref(), of.as_deref(), scope, state, id)?
                    .to_string(),
            )),
            ValueSource::Count(path) => Some(Value::from(match path {
                None => scope.group.map(|g| g.len()).unwrap_or(0),
                Some(p) if p.is_relative() && !p.has_each() && scope.group.is_some() => scope
                    .group
                    .unwrap_or_default()
                    .iter()
                    .filter(|item| !is_missing(p.get(item)))
                    .count(),
                Some(p) => {
                    let mut out = Vec::new();
                    p.collect(base(p, scope), &mut out);
                    match out.as_slice() {
                        [Value::Array(a)] if !p.has_each() => a.len(),
                        _ => out.len(),
                    }
                }
            })),
            ValueSource::Nothing => None,
        };
        let mut value = match value {
            v if is_missing(v.as_ref()) => match &rule.default {
                Some(d) => d.clone(),
                None if rule.required => {
                    return Err(fail(id, "required value is missing or empty"))
                }
                None => return Ok(None),
            },
            Some(v) => v,
            None => return Ok(None),
        };
        for step in &rule.steps {
            value = self.step(step, value, scope, state, id)?;
            if value.is_null() {
                if rule.required {
                    return Err(fail(id, "required value is missing after conversion"));
                }
                return Ok(None);
            }
        }
        if rule.unique {
            let key = as_text(&value).map_err(|m| fail(id, m))?.into_owned();
            if !state
                .seen
                .entry(id.target.clone())
                .or_default()
                .insert(key.clone())
            {
                return Err(fail(
                    id,
                    format!("duplicate value '{key}' (must be unique)"),
                ));
            }
        }
        Ok(Some(value))
    }

    fn sum(
        &self,
        path: Option<&crate::path::Path>,
        of: Option<&FieldRule>,
        scope: Scope<'_>,
        state: &mut RunState,
        id: &RuleId,
    ) -> Result<Decimal, RuleError> {
        let mut items: Vec<&Value> = Vec::new();
        match (path, scope.group) {
            // Inside a group, a plain path is read from every item of the group.
            (Some(p), Some(g)) if p.is_relative() && !p.has_each() => {
                items.extend(g.iter().filter_map(|item| p.get(item)))
            }
            (Some(p), _) => {
                let base = base(p, scope);
                p.collect(base, &mut items);
                if let [Value::Array(a)] = items.as_slice() {
                    if !p.has_each() {
                        items = a.iter().collect();
                    }
                }
            }
            (None, Some(g)) => items.extend_from_slice(g),
            (None, None) => {}
        }
        let mut total = Decimal::ZERO;
        for (i, item) in items.into_iter().enumerate() {
            let v = match of {
                Some(rule) => {
                    let inner = Scope {
                        cur: item,
                        root: scope.root,
                        doc: scope.doc,
                        group: None,
                    };
                    match self.field(rule, inner, state).map_err(|mut e| {
                        e.message = format!("element {i}: {}", e.message);
                        e
                    })? {
                        Some(v) => v,
                        None => continue,
                    }
                }
                None => item.clone(),
            };
            if is_missing(Some(&v)) {
                continue;
            }
            let d = to_decimal(&v, false).map_err(|m| fail(id, format!("element {i}: {m}")))?;
            total = total
                .checked_add(d)
                .ok_or_else(|| fail(id, "decimal overflow in sum"))?;
        }
        Ok(total)
    }

    fn operand(
        &self,
        o: &Operand,
        scope: Scope<'_>,
        state: &mut RunState,
        id: &RuleId,
    ) -> Result<Decimal, RuleError> {
        match o {
            Operand::Lit(d) => Ok(*d),
            Operand::Rule(r) => match self.field(r, scope, state)? {
                Some(v) => to_decimal(&v, false).map_err(|m| fail(&r.id, m)),
                None => Err(fail(id, format!("operand '{}' has no value", r.id.target))),
            },
        }
    }

    fn unit(&self, u: &UomRef, scope: Scope<'_>, id: &RuleId) -> Result<Uom, RuleError> {
        match u {
            UomRef::Fixed(u) => Ok(*u),
            UomRef::Path(p) => {
                let v = self.get(p, scope).unwrap_or(Value::Null);
                let t = as_text(&v).map_err(|m| fail(id, m))?;
                Uom::parse(&t).ok_or_else(|| fail(id, format!("'{t}' at {p} is not a known unit")))
            }
        }
    }

    fn step(
        &self,
        step: &Step,
        v: Value,
        scope: Scope<'_>,
        state: &mut RunState,
        id: &RuleId,
    ) -> Result<Value, RuleError> {
        let txt = |v: &Value| as_text(v).map(|c| c.into_owned()).map_err(|m| fail(id, m));
        let dec = |v: &Value| to_decimal(v, false).map_err(|m| fail(id, m));
        Ok(match step {
            Step::Trim => match v {
                Value::String(s) => Value::String(s.trim().to_string()),
                other => other,
            },
            Step::Upper => Value::String(txt(&v)?.to_uppercase()),
            Step::Lower => Value::String(txt(&v)?.to_lowercase()),
            Step::Pad { width, ch, side } => {
                Value::String(text::pad(&txt(&v)?, *width, *ch, *side))
            }
            Step::Substring { start, len } => {
                Value::String(text::substring(&txt(&v)?, *start, *len))
            }
            Step::Split {
                sep,
                index: Some(index),
            } => text::split(&txt(&v)?, sep, *index)
                .map(Value::String)
                .unwrap_or(Value::Null),
            Step::Split { sep, index: None } => Value::Array(
                txt(&v)?
                    .split(sep.as_str())
                    .map(str::trim)
                    .filter(|p| !p.is_empty())
                    .map(|p| Value::String(p.to_string()))
                    .collect(),
            ),
            Step::Replace { re, with } => Value::String(text::replace(&txt(&v)?, re, with)),
            Step::Lookup(i) => self.lookups[*i].get(&txt(&v)?).map_err(|m| fail(id, m))?,
            Step::Coerce(c) => c
                .apply(&v)
                .map_err(|m| fail(id, format!("cannot convert to {}: {m}", c.name())))?,
            Step::Arith(op, o) => {
                let a = dec(&v)?;
                let b = self.operand(o, scope, state, id)?;
                let r = match op {
                    ArithOp::Add => a.checked_add(b),
                    ArithOp::Sub => a.checked_sub(b),
                    ArithOp::Mul => a.checked_mul(b),
                    ArithOp::Div if b.is_zero() => return Err(fail(id, "division by zero")),
                    ArithOp::Div => a.checked_div(b),
                };
                Value::String(r.ok_or_else(|| fail(id, "decimal overflow"))?.to_string())
            }
            Step::Round { scale, mode } => decimal_value(
                round(dec(&v)?, *scale, *mode),
                matches!(v, Value::Number(_)),
            ),
            Step::Convert { from, to, per } => {
                let q = dec(&v)?;
                let (f, t) = (self.unit(from, scope, id)?, self.unit(to, scope, id)?);
                let per = match per {
                    Some((pf, o)) if uom::dimension(f) != uom::dimension(t) => {
                        Some((*pf, self.operand(o, scope, state, id)?))
                    }
                    _ => None,
                };
                Value::String(
                    uom::convert(q, f, t, per)
                        .map_err(|m| fail(id, m))?
                        .normalize()
                        .to_string(),
                )
            }
            Step::OneOf(allowed) => {
                let t = txt(&v)?;
                if !allowed.iter().any(|a| a == &t) {
                    return Err(fail(
                        id,
                        format!("'{t}' is not one of: {}", allowed.join(", ")),
                    ));
                }
                v
            }
            Step::Expr(e) => e
                .eval(&v, scope.root)
                .map_err(|m| fail(id, m))?
                .unwrap_or(Value::Null),
            Step::Uom => {
                let t = txt(&v)?;
                let codes: Vec<&str> = Uom::ALL.iter().map(|u| u.code()).collect();
                Value::String(
                    Uom::parse(&t)
                        .ok_or_else(|| {
                            fail(
                                id,
                                format!("'{t}' is not a known unit ({})", codes.join(", ")),
                            )
                        })?
                        .code()
                        .to_string(),
                )
            }
        })
    }

    fn each(
        &self,
        each: &EachPlan,
        scope: Scope<'_>,
        state: &mut RunState,
    ) -> Result<Option<Value>, RuleError> {
        if let Some(c) = &each.when {
            if !self.cond(c, scope, &each.id)? {
                return Ok(None);
            }
        }
        let base = base(&each.source, scope);
        let mut items: Vec<&Value> = Vec::new();
        if each.source.has_each() {
            each.source.collect(base, &mut items);
        } else {
            match each.source.get(base) {
                Some(Value::Array(a)) => items.extend(a.iter()),
                Some(Value::Null) | None => {}
                // A single object where an array was expected (common in XML): one item.
                Some(other) => items.push(other),
            }
        }
        if items.is_empty() && each.required {
            return Err(fail(&each.id, format!("'{}' has no elements", each.source)));
        }
        let mut kept = Vec::with_capacity(items.len());
        for item in items {
            let s = Scope {
                cur: item,
                root: scope.root,
                doc: scope.doc,
                group: None,
            };
            if let Some(f) = &each.filter {
                if !self.cond(f, s, &each.id)? {
                    continue;
                }
            }
            kept.push(item);
        }
        let mut out = Vec::new();
        let index_err = |i: usize| {
            let pat = format!("{}[]", each.id.target);
            let rep = format!("{}[{i}]", each.id.target);
            move |mut e: RuleError| {
                e.target = e.target.replacen(&pat, &rep, 1);
                e
            }
        };
        match &each.group_by {
            None => {
                for (i, item) in kept.iter().enumerate() {
                    let s = Scope {
                        cur: item,
                        root: scope.root,
                        doc: scope.doc,
                        group: None,
                    };
                    out.push(self.item(&each.item, s, state).map_err(index_err(i))?);
                }
            }
            Some(key) => {
                let mut order: Vec<String> = Vec::new();
                let mut groups: HashMap<String, Vec<&Value>> = HashMap::new();
                for item in kept {
                    let k = match key.get(item) {
                        Some(Value::String(s)) => s.clone(),
                        Some(v) => v.to_string(),
                        None => String::new(),
                    };
                    let g = groups.entry(k.clone()).or_default();
                    if g.is_empty() {
                        order.push(k);
                    }
                    g.push(item);
                }
                for (i, k) in order.iter().enumerate() {
                    let g = &groups[k];
                    let s = Scope {
                        cur: g[0],
                        root: scope.root,
                        doc: scope.doc,
                        group: Some(g.as_slice()),
                    };
                    out.push(self.item(&each.item, s, state).map_err(index_err(i))?);
                }
            }
        }
        Ok(Some(Value::Array(out)))
    }

    fn item(
        &self,
        plan: &ItemPlan,
        scope: Scope<'_>,
        state: &mut RunState,
    ) -> Result<Value, RuleError> {
        match plan {
            ItemPlan::Object(o) => Ok(Value::Object(self.object(o, scope, state)?)),
            ItemPlan::Value(rule) => Ok(self.field(rule, scope, state)?.unwrap_or(Value::Null)),
        }
    }
}

fn base<'a>(p: &crate::path::Path, scope: Scope<'a>) -> &'a Value {
    if p.doc {
        scope.doc
    } else if p.root {
        scope.root
    } else {
        scope.cur
    }
}

/// Equality that treats `"5"` and `5` alike, since CSV and XML only carry text, and compares
/// numbers by value (`"0.00"` equals `"0"`).
fn loose_eq(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Array(_) | Value::Object(_), _) | (_, Value::Array(_) | Value::Object(_)) => a == b,
        _ => {
            let (x, y) = (as_text(a).ok(), as_text(b).ok());
            if x == y {
                return true;
            }
            match (
                x.as_deref()
                    .and_then(|x| crate::ops::parse_decimal(x.trim(), false)),
                y.as_deref()
                    .and_then(|y| crate::ops::parse_decimal(y.trim(), false)),
            ) {
                (Some(p), Some(q)) => p == q,
                _ => false,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::loose_eq;
    use serde_json::json;

    #[test]
    fn conditions_compare_text_and_numbers_loosely() {
        assert!(loose_eq(&json!("5"), &json!(5)));
        assert!(loose_eq(&json!("0.00"), &json!("0")));
        assert!(loose_eq(&json!(true), &json!("true")));
        assert!(!loose_eq(&json!("A"), &json!("a")));
        assert!(!loose_eq(&json!("1"), &json!([1])));
    }
}
