//! Which source fields a mapping reads, and which one fills a target: what an import template's
//! header row lists, and how a rule's error is named in the file's own terms (`product_code`
//! rather than the canonical `sku`).

use crate::plan::{ConcatPart, FieldRule, ItemPlan, Mapping, Node, ObjectPlan, ValueSource};

impl Mapping {
    /// The record fields the mapping's rules copy from, in rule order, each once (paths of
    /// conditions and expressions are left out: a template lists the values it asks for).
    pub fn source_fields(&self) -> Vec<String> {
        let mut out = Vec::new();
        collect(&self.root, &mut out);
        let mut seen = std::collections::HashSet::new();
        out.retain(|f| seen.insert(f.clone()));
        out
    }

    /// The source field the rule filling `target` reads (`sku` → `product_code`), when it
    /// reads exactly one.
    pub fn source_of(&self, target: &str) -> Option<String> {
        find(&self.root, target).and_then(|rule| match &rule.source {
            ValueSource::Path(p) => Some(p.to_string()),
            _ => None,
        })
    }
}

fn collect(plan: &ObjectPlan, out: &mut Vec<String>) {
    for (_, node) in &plan.entries {
        match node {
            Node::Field(rule) => match &rule.source {
                ValueSource::Path(p) => out.push(p.to_string()),
                ValueSource::Concat { parts, .. } => {
                    out.extend(parts.iter().filter_map(|p| match p {
                        ConcatPart::Path(p) => Some(p.to_string()),
                        ConcatPart::Lit(_) => None,
                    }))
                }
                _ => {}
            },
            Node::Object(inner) => collect(inner, out),
            Node::Each(each) => out.push(each.source.to_string()),
        }
    }
}

fn find<'a>(plan: &'a ObjectPlan, target: &str) -> Option<&'a FieldRule> {
    plan.entries.iter().find_map(|(_, node)| match node {
        Node::Field(rule) if rule.id.target == target => Some(&**rule),
        Node::Object(inner) => find(inner, target),
        Node::Each(each) => match &each.item {
            ItemPlan::Object(inner) => find(inner, target),
            ItemPlan::Value(rule) if rule.id.target == target => Some(&**rule),
            ItemPlan::Value(_) => None,
        },
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    use crate::compile_str;
    use std::path::Path;

    #[test]
    fn lists_source_fields_once_and_finds_a_targets_source() {
        let m = compile_str(
            r#"version = 1
source = { format = "csv" }
target = { format = "json" }
[fields]
sku = { from = "code", required = true }
name = { concat = ["first", "' '", "last"] }
"a.b" = { from = "code" }
fixed = { const = "x" }
"#,
            Path::new("t.toml"),
            "t",
        )
        .unwrap();
        assert_eq!(m.source_fields(), ["code", "first", "last"]);
        assert_eq!(m.source_of("sku").as_deref(), Some("code"));
        assert_eq!(m.source_of("a.b").as_deref(), Some("code"));
        assert_eq!(m.source_of("name"), None);
        assert_eq!(m.source_of("nope"), None);
    }
}
