//! Validation of a parsed document against [`super::schema`], and its calculated cost.
//!
//! What Shopify refuses before running anything is refused here with its shapes: an unknown
//! field (`undefinedField`), an argument a field does not take (`argumentNotAccepted`), a
//! required argument left out (`missingRequiredArguments`), a variable that does not fit its
//! input type (`INVALID_VARIABLE` with `problems`), a literal that does not fit
//! (`argumentLiteralsIncompatible`), an undeclared variable (`variableNotDefined`), a scalar
//! with a selection or an object without one, and `first` over 250.

use super::schema::{self, check_input, Ty};
use crate::config::ApiVersion;
use async_graphql_parser::types::{
    ExecutableDocument, Field, OperationDefinition, OperationType, Selection, SelectionSet,
};
use async_graphql_parser::{Pos, Positioned};
use async_graphql_value::{ConstValue, Name, Value as GqlValue};
use serde_json::{json, Map, Value};

/// The largest page Shopify serves.
pub const MAX_PAGE: i64 = 250;

/// A top-level error object.
pub fn error(message: impl Into<String>, code: &str, pos: Option<Pos>) -> Value {
    let mut e = json!({"message": message.into(), "extensions": {"code": code}});
    if let Some(pos) = pos {
        e["locations"] = json!([{"line": pos.line, "column": pos.column}]);
    }
    e
}

/// One validated root field, with its arguments resolved to JSON.
pub struct RootField {
    pub name: String,
    pub key: String,
    pub args: Map<String, Value>,
    /// `@idempotent(key:)`, resolved.
    pub idempotency_key: Option<Value>,
    pub selection: Positioned<SelectionSet>,
    pub pos: Pos,
}

pub struct Prepared {
    pub ty: OperationType,
    pub fields: Vec<RootField>,
    pub cost: f64,
}

/// Everything the walk needs.
pub struct Cx<'a> {
    pub doc: &'a ExecutableDocument,
    pub vars: &'a Map<String, Value>,
    pub version: ApiVersion,
}

impl Cx<'_> {
    /// A field's arguments with variables substituted, as JSON.
    pub fn args(
        &self,
        arguments: &[(Positioned<Name>, Positioned<GqlValue>)],
    ) -> Result<Map<String, Value>, Value> {
        let mut out = Map::new();
        for (name, value) in arguments {
            let c =
                value
                    .node
                    .clone()
                    .into_const_with(|var: Name| match self.vars.get(var.as_str()) {
                        Some(v) => ConstValue::from_json(v.clone()).map_err(|e| e.to_string()),
                        None => Ok(ConstValue::Null),
                    });
            let json = c
                .map_err(|e| error(e, "argumentLiteralsIncompatible", Some(value.pos)))?
                .into_json()
                .map_err(|e| {
                    error(
                        e.to_string(),
                        "argumentLiteralsIncompatible",
                        Some(value.pos),
                    )
                })?;
            out.insert(name.node.to_string(), json);
        }
        Ok(out)
    }

    /// The fields of a selection set, fragments flattened.
    pub fn fields<'s>(&'s self, set: &'s SelectionSet) -> Vec<&'s Positioned<Field>> {
        let mut out = Vec::new();
        for item in &set.items {
            match &item.node {
                Selection::Field(f) => out.push(f),
                Selection::InlineFragment(frag) => {
                    out.extend(self.fields(&frag.node.selection_set.node))
                }
                Selection::FragmentSpread(spread) => {
                    if let Some(def) = self.doc.fragments.get(&spread.node.fragment_name.node) {
                        out.extend(self.fields(&def.node.selection_set.node));
                    }
                }
            }
        }
        out
    }
}

/// Pick the operation (by `operationName` when the document has several), check it, cost it.
pub fn prepare(cx: &Cx<'_>, operation_name: Option<&str>) -> Result<Prepared, Vec<Value>> {
    let op: &Positioned<OperationDefinition> = {
        let ops: Vec<_> = cx.doc.operations.iter().collect();
        match (ops.len(), operation_name) {
            (1, _) => ops[0].1,
            (_, Some(name)) => match ops
                .iter()
                .find(|(n, _)| n.is_some_and(|n| n.as_str() == name))
            {
                Some((_, op)) => op,
                None => {
                    return Err(vec![error(
                        format!("No operation named \"{name}\""),
                        "operationNotFound",
                        None,
                    )])
                }
            },
            _ => {
                return Err(vec![error(
                    "An operation name is required",
                    "operationNameRequired",
                    None,
                )])
            }
        }
    };
    let mut errors = Vec::new();
    // Variables: declared ones checked against their declared types, undeclared uses refused.
    let declared: Vec<String> = op
        .node
        .variable_definitions
        .iter()
        .map(|v| v.node.name.node.to_string())
        .collect();
    for def in &op.node.variable_definitions {
        let name = def.node.name.node.as_str();
        let ty_text = def.node.var_type.node.to_string();
        let ty = Ty::parse(&ty_text);
        let value = cx.vars.get(name).cloned().or_else(|| {
            def.node
                .default_value
                .as_ref()
                .and_then(|d| d.node.clone().into_json().ok())
        });
        let mut problems = Vec::new();
        match &value {
            None if ty.non_null() => problems.push(schema::Problem {
                path: vec![],
                explanation: "Expected value to not be null".into(),
            }),
            None => {}
            Some(v) => check_input(v, &ty, cx.version, &mut Vec::new(), &mut problems),
        }
        if let Some(p) = problems.first() {
            let at = p
                .path
                .iter()
                .map(|s| match s {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                })
                .collect::<Vec<_>>()
                .join(".");
            let message = if at.is_empty() {
                format!("Variable ${name} of type {ty_text} was provided invalid value")
            } else {
                format!(
                    "Variable ${name} of type {ty_text} was provided invalid value for {at} ({})",
                    p.explanation
                )
            };
            let mut e = error(message, "INVALID_VARIABLE", Some(def.pos));
            e["extensions"]["value"] = value.unwrap_or(Value::Null);
            e["extensions"]["problems"] = problems
                .iter()
                .map(|p| json!({"path": p.path, "explanation": p.explanation}))
                .collect();
            errors.push(e);
        }
    }
    let root = match op.node.ty {
        OperationType::Query => "QueryRoot",
        OperationType::Mutation => "Mutation",
        OperationType::Subscription => {
            return Err(vec![error(
                "Subscriptions are not supported",
                "unsupportedOperation",
                Some(op.pos),
            )])
        }
    };
    let mut fields = Vec::new();
    let mut cost = 0.0;
    for field in cx.fields(&op.node.selection_set.node) {
        let mut walk = Walk {
            cx,
            declared: &declared,
            errors: &mut errors,
        };
        let Some((c, args)) = walk.field(root, field, &[]) else {
            continue;
        };
        cost += c + if root == "Mutation" {
            MUTATION_COST + input_entries(&args) as f64 * ENTRY_COST
        } else {
            0.0
        };
        let idempotency_key = field
            .node
            .directives
            .iter()
            .find(|d| d.node.name.node.as_str() == "idempotent")
            .and_then(|d| cx.args(&d.node.arguments).ok())
            .map(|a| a.get("key").cloned().unwrap_or(Value::Null));
        for d in &field.node.directives {
            if !matches!(d.node.name.node.as_str(), "idempotent" | "include" | "skip") {
                errors.push(error(
                    format!("Directive @{} is not defined", d.node.name.node),
                    "undefinedDirective",
                    Some(d.pos),
                ));
            }
        }
        fields.push(RootField {
            name: field.node.name.node.to_string(),
            key: field.node.response_key().node.to_string(),
            args,
            idempotency_key,
            selection: field.node.selection_set.clone(),
            pos: field.pos,
        });
    }
    if errors.is_empty() {
        Ok(Prepared {
            ty: op.node.ty,
            fields,
            cost,
        })
    } else {
        Err(errors)
    }
}

/// What a mutation costs on top of its selection (Shopify: 10 points).
pub const MUTATION_COST: f64 = 10.0;

/// [I] What each entry of a mutation's list argument costs: Shopify charges a field returning
/// a list by the objects it may return, and a bulk mutation returns one per entry of its list
/// argument (`productVariantsBulkUpdate(variants:)`, `priceListFixedPricesAdd(prices:)`,
/// `priceListFixedPricesDelete(variantIds:)`), so a long enough batch is `MAX_COST_EXCEEDED`
/// (the single-query maximum is 1,000). One point per entry is the fake's choice. Lists inside
/// an input object (`productSet`'s variants, whose answer is a paged connection costed by its
/// `first`) are not counted.
pub const ENTRY_COST: f64 = 1.0;

/// The entries of a mutation's longest list argument.
fn input_entries(args: &Map<String, Value>) -> usize {
    args.values()
        .filter_map(Value::as_array)
        .map(Vec::len)
        .max()
        .unwrap_or(0)
}

struct Walk<'a, 'b> {
    cx: &'a Cx<'a>,
    declared: &'a [String],
    errors: &'b mut Vec<Value>,
}

impl Walk<'_, '_> {
    /// Check one field of `parent`; its cost and resolved arguments, or None after an error.
    fn field(
        &mut self,
        parent: &str,
        field: &Positioned<Field>,
        path: &[String],
    ) -> Option<(f64, Map<String, Value>)> {
        let name = field.node.name.node.as_str();
        if name == "__typename" {
            return Some((0.0, Map::new()));
        }
        let Some(def) = schema::field(parent, name) else {
            let mut e = error(
                format!("Field '{name}' doesn't exist on type '{parent}'"),
                "undefinedField",
                Some(field.pos),
            );
            e["path"] = json!(path.iter().chain([&name.to_string()]).collect::<Vec<_>>());
            e["extensions"]["typeName"] = json!(parent);
            e["extensions"]["fieldName"] = json!(name);
            self.errors.push(e);
            return None;
        };
        let mut ok = true;
        for (arg, value) in &field.node.arguments {
            if !def.args.iter().any(|(n, _)| *n == arg.node.as_str()) {
                let mut e = error(
                    format!("Field '{name}' doesn't accept argument '{}'", arg.node),
                    "argumentNotAccepted",
                    Some(arg.pos),
                );
                e["extensions"]["name"] = json!(name);
                e["extensions"]["typeName"] = json!("Field");
                e["extensions"]["argumentName"] = json!(arg.node.as_str());
                self.errors.push(e);
                ok = false;
            }
            let mut vars = Vec::new();
            collect_vars(&value.node, &mut vars);
            for v in vars {
                if !self.declared.iter().any(|d| d == &v) {
                    self.errors.push(error(
                        format!("Variable ${v} is used by anonymous query but not declared"),
                        "variableNotDefined",
                        Some(value.pos),
                    ));
                    ok = false;
                }
            }
        }
        let missing: Vec<&str> = def
            .args
            .iter()
            .filter(|(n, t)| t.ends_with('!') && field.node.get_argument(n).is_none())
            .map(|(n, _)| *n)
            .collect();
        if !missing.is_empty() {
            let mut e = error(
                format!(
                    "Field '{name}' is missing required arguments: {}",
                    missing.join(", ")
                ),
                "missingRequiredArguments",
                Some(field.pos),
            );
            e["extensions"]["className"] = json!("Field");
            e["extensions"]["name"] = json!(name);
            e["extensions"]["arguments"] = json!(missing.join(", "));
            self.errors.push(e);
            ok = false;
        }
        let args = match self.cx.args(&field.node.arguments) {
            Ok(a) => a,
            Err(e) => {
                self.errors.push(e);
                return None;
            }
        };
        // Literal arguments (variables were checked against their declarations).
        for (arg, value) in &field.node.arguments {
            if matches!(value.node, GqlValue::Variable(_)) {
                continue;
            }
            if let Some((_, ty)) = def.args.iter().find(|(n, _)| *n == arg.node.as_str()) {
                let mut problems = Vec::new();
                check_input(
                    &args[arg.node.as_str()],
                    &Ty::parse(ty),
                    self.cx.version,
                    &mut Vec::new(),
                    &mut problems,
                );
                if let Some(p) = problems.first() {
                    self.errors.push(error(format!("Argument '{}' on Field '{name}' has an invalid value. Expected type '{ty}'. ({})", arg.node, p.explanation), "argumentLiteralsIncompatible", Some(value.pos)));
                    ok = false;
                }
            }
        }
        let ty = Ty::parse(def.ty);
        let base = ty.base();
        let set = &field.node.selection_set.node;
        let mut child_path = path.to_vec();
        child_path.push(name.to_string());
        let mut cost = 0.0;
        if schema::is_scalar(base) {
            if !set.items.is_empty() {
                self.errors.push(error(format!("Selections can't be made on scalars (field '{name}' returns {base} but has selections)"), "selectionMismatch", Some(field.pos)));
                return None;
            }
        } else {
            if set.items.is_empty() {
                self.errors.push(error(format!("Field must have selections (field '{name}' returns {base} but has no selections. Did you mean '{name} {{ ... }}'?)"), "selectionMismatch", Some(field.pos)));
                return None;
            }
            let mut children = 0.0;
            for child in self.cx.fields(set) {
                if let Some((c, _)) = self.field(base, child, &child_path) {
                    children += c;
                }
            }
            if base.ends_with("Connection") {
                let first = args.get("first").and_then(Value::as_i64);
                let last = args.get("last").and_then(Value::as_i64);
                match first.or(last) {
                    None => {
                        self.errors.push(error(
                            "you must provide one of first or last",
                            "BAD_REQUEST",
                            Some(field.pos),
                        ));
                        ok = false;
                    }
                    Some(n) if n > MAX_PAGE => {
                        self.errors.push(error(
                            format!("The value of first ({n}) cannot exceed {MAX_PAGE}"),
                            "BAD_REQUEST",
                            Some(field.pos),
                        ));
                        ok = false;
                    }
                    Some(n) => cost = 2.0 + n.max(0) as f64 * children,
                }
            } else if base.ends_with("Edge") || ty.is_list() && !base.ends_with("UserError") {
                cost = children;
            } else {
                cost = 1.0 + children;
            }
        }
        ok.then_some((cost, args))
    }
}

fn collect_vars(v: &GqlValue, out: &mut Vec<String>) {
    match v {
        GqlValue::Variable(n) => out.push(n.to_string()),
        GqlValue::List(items) => items.iter().for_each(|i| collect_vars(i, out)),
        GqlValue::Object(map) => map.values().for_each(|i| collect_vars(i, out)),
        _ => {}
    }
}
