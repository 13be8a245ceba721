//! Moves an EDIFACT tree from one directory's segment group names to another's.
//!
//! A tree names its segment groups as its directory numbers them (`SG25` is the ORDERS line
//! item group in D96A, `SG28` in D01B, where D01B inserted groups before it), and D01B turned a
//! few repeated segments into groups (DESADV's GIN under PCI became `SG15` GIN-DLM, ORDERS's
//! LIN-level MOA became `SG31` MOA-...). Mapping files are written once, against the D96A
//! names; this carries their trees to and from the directory a partner trades in, by the
//! place of each group in the structure (its trigger segment under the same parent), not by
//! its number. What has no counterpart keeps its key: [`crate::tree::from_tree`] then names it
//! as not allowed there, and an inbound mapping simply does not read it.

use crate::spec::Node;
use crate::tree::{tables_for, to_tree, TreeError};
use crate::{Interchange, Standard, TxSet};
use serde_json::{Map, Value};

/// The directory mapping files name groups by.
pub const MAPPING_DIRECTORY: &str = "D:96A:UN";

/// `tree` (an EDIFACT `set_type` tree keyed by the groups of directory `from`) keyed by the
/// groups of directory `to` (`D:96A:UN`, `D:01B:UN`, ...).
pub fn regroup(tree: Value, set_type: &str, from: &str, to: &str) -> Result<Value, TreeError> {
    let tables = tables_for(Standard::Edifact)?;
    let body = |version: &str| {
        tables
            .set(set_type, version)
            .map(|s| s.body.as_slice())
            .ok_or_else(|| TreeError::NoTable {
                set_type: set_type.into(),
                version: version.into(),
            })
    };
    let (a, b) = (body(from)?, body(to)?);
    Ok(level(tree, a, b))
}

/// The tree an inbound mapping reads: [`to_tree`] of `set`, for EDIFACT keyed by the
/// [`MAPPING_DIRECTORY`]'s groups whatever directory the partner sent.
pub fn mapping_tree(ic: &Interchange, set: &TxSet) -> Result<Value, TreeError> {
    let tree = to_tree(ic, set, tables_for(ic.standard)?)?;
    match ic.standard {
        Standard::Edifact => regroup(tree, &set.set_type, &set.version, MAPPING_DIRECTORY),
        Standard::X12 => Ok(tree),
    }
}

/// The loop named `name` in `body` and how many loops with its trigger come before it.
fn loop_named<'a>(body: &'a [Node], name: &str) -> Option<(&'a Node, usize)> {
    let at = body
        .iter()
        .position(|n| matches!(n, Node::Loop { id, .. } if id == name))?;
    let trigger = body[at].trigger();
    let before = body[..at]
        .iter()
        .filter(|n| matches!(n, Node::Loop { .. }) && n.trigger() == trigger)
        .count();
    Some((&body[at], before))
}

/// The `nth` loop of `body` started by `trigger` (a level may have several: INVOIC has a TAX
/// group in the heading and one in the summary).
fn loop_triggered<'a>(body: &'a [Node], trigger: &str, nth: usize) -> Option<&'a Node> {
    body.iter()
        .filter(|n| matches!(n, Node::Loop { .. }) && n.trigger() == trigger)
        .nth(nth)
}

fn seg_in<'a>(body: &'a [Node], tag: &str) -> Option<&'a Node> {
    body.iter()
        .find(|n| matches!(n, Node::Seg { id, .. } if id == tag))
}

/// Occurrences of a segment or iterations of a loop: one object or an array of them.
fn items(v: Value) -> Vec<Value> {
    match v {
        Value::Array(a) => a,
        other => vec![other],
    }
}

/// Adds `v` under `key`, appending to what an earlier key already put there.
fn put(out: &mut Map<String, Value>, key: String, v: Value) {
    match (out.get_mut(&key), v) {
        (Some(Value::Array(have)), Value::Array(more)) => have.extend(more),
        (_, v) => {
            out.insert(key, v);
        }
    }
}

fn level(v: Value, from: &[Node], to: &[Node]) -> Value {
    let Value::Object(obj) = v else { return v };
    let mut out = Map::new();
    for (k, v) in obj {
        if let Some((Node::Loop { body: fb, .. }, nth)) = loop_named(from, &k) {
            let trigger = fb.first().map(Node::trigger).unwrap_or("");
            match (loop_triggered(to, trigger, nth), seg_in(to, trigger)) {
                (Some(Node::Loop { id, body: tb, .. }), _) => {
                    let its = items(v).into_iter().map(|i| level(i, fb, tb)).collect();
                    put(&mut out, id.clone(), Value::Array(its));
                }
                // A group in `from` that is a single segment in `to`: its iterations become
                // occurrences, when they hold nothing but that segment.
                (None, Some(seg)) if only_trigger(&v, trigger) => {
                    let occ: Vec<Value> = items(v)
                        .into_iter()
                        .filter_map(|i| i.get(trigger).cloned())
                        .flat_map(items)
                        .collect();
                    let occ = if seg.max() == 1 && occ.len() == 1 {
                        occ.into_iter().next().unwrap_or(Value::Null)
                    } else {
                        Value::Array(occ)
                    };
                    put(&mut out, trigger.to_string(), occ);
                }
                _ => put(&mut out, k, v),
            }
        } else if seg_in(from, &k).is_some() && seg_in(to, &k).is_none() {
            // A segment in `from` that starts a group in `to`: one iteration per occurrence.
            match loop_triggered(to, &k, 0) {
                Some(Node::Loop { id, .. }) => {
                    let its = items(v)
                        .into_iter()
                        .map(|o| Value::Object(Map::from_iter([(k.clone(), o)])))
                        .collect();
                    put(&mut out, id.clone(), Value::Array(its));
                }
                _ => put(&mut out, k, v),
            }
        } else {
            put(&mut out, k, v);
        }
    }
    Value::Object(out)
}

fn only_trigger(v: &Value, trigger: &str) -> bool {
    let one = |i: &Value| {
        i.as_object()
            .is_some_and(|o| o.keys().all(|k| k == trigger))
    };
    match v {
        Value::Array(a) => a.iter().all(one),
        other => one(other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn groups_follow_their_place_not_their_number() {
        // D96A INVOIC: LIN is SG25 with SG26 MOA, SG28 PRI, SG33 TAX; summary SG48 MOA,
        // SG50 TAX. D01B inserted SG13 EQD: LIN is SG26 and everything after moves by one or two.
        let d96a = json!({
            "BGM": {"01": ["380"]},
            "SG25": [{"LIN": {"01": "1"}, "SG26": [{"MOA": {"01": ["203", "10"]}}],
                      "SG28": [{"PRI": {"01": ["AAA", "5"]}}], "SG33": [{"TAX": {"01": "7"}}]}],
            "SG48": [{"MOA": {"01": ["77", "10"]}}],
            "SG50": [{"TAX": {"01": "7"}}]
        });
        let d01b = regroup(d96a.clone(), "INVOIC", "D:96A:UN", "D:01B:UN").expect("regroup");
        assert_eq!(
            d01b,
            json!({
                "BGM": {"01": ["380"]},
                "SG26": [{"LIN": {"01": "1"}, "SG27": [{"MOA": {"01": ["203", "10"]}}],
                          "SG29": [{"PRI": {"01": ["AAA", "5"]}}], "SG34": [{"TAX": {"01": "7"}}]}],
                "SG50": [{"MOA": {"01": ["77", "10"]}}],
                "SG52": [{"TAX": {"01": "7"}}]
            })
        );
        // And back.
        assert_eq!(
            regroup(d01b, "INVOIC", "D:01B:UN", "D:96A:UN").expect("back"),
            d96a
        );
    }

    #[test]
    fn a_segment_that_became_a_group_is_wrapped_and_unwrapped() {
        // ORDERS: D96A's payment terms group (SG8) holds a MOA segment; D01B's holds SG9
        // MOA-GIR-RJL groups. DESADV's GIN group under PCI is SG14 in D96A, SG15 in D01B.
        let d96a = json!({"SG8": [{"PAT": {"01": "1"}, "MOA": {"01": ["52", "10"]}}]});
        let d01b = regroup(d96a.clone(), "ORDERS", "D:96A:UN", "D:01B:UN").expect("regroup");
        assert_eq!(
            d01b,
            json!({"SG8": [{"PAT": {"01": "1"}, "SG9": [{"MOA": {"01": ["52", "10"]}}]}]})
        );
        assert_eq!(
            regroup(d01b, "ORDERS", "D:01B:UN", "D:96A:UN").expect("back"),
            d96a
        );
        let d96a = json!({"SG10": [{"CPS": {"01": "1"}, "SG11": [{"PAC": {"01": "1"},
            "SG13": [{"PCI": {"01": "33E"}, "SG14": [{"GIN": {"01": "BJ"}}]}]}]}]});
        assert_eq!(
            regroup(d96a, "DESADV", "D:96A:UN", "D:01B:UN").expect("regroup"),
            json!({"SG10": [{"CPS": {"01": "1"}, "SG11": [{"PAC": {"01": "1"},
                "SG13": [{"PCI": {"01": "33E"}, "SG15": [{"GIN": {"01": "BJ"}}]}]}]}]})
        );
    }

    #[test]
    fn what_has_no_counterpart_keeps_its_key() {
        // D01B ORDERS SG26 (DGS) has no D96A place; a group that holds more than its trigger
        // cannot become a bare segment either.
        let d01b = json!({"SG26": [{"DGS": {"01": "ADR"}}],
            "SG8": [{"PAT": {"01": "1"}, "SG9": [{"MOA": {"01": ["52", "1"]}, "GIR": [{"01": "1"}]}]}]});
        let d96a = regroup(d01b, "ORDERS", "D:01B:UN", "D:96A:UN").expect("regroup");
        assert_eq!(
            d96a,
            json!({"SG26": [{"DGS": {"01": "ADR"}}],
                "SG8": [{"PAT": {"01": "1"}, "SG9": [{"MOA": {"01": ["52", "1"]}, "GIR": [{"01": "1"}]}]}]})
        );
        assert!(matches!(
            regroup(json!({}), "ORDERS", "D:96A:UN", "D:97A:UN"),
            Err(TreeError::NoTable { .. })
        ));
    }
}
