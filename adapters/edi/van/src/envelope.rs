//! Small facts about interchanges shared by the mailbox poll and `edi.send`: how they are
//! stored (standard, message types, group controls), safe file names, and store errors as
//! retryable job errors.

use crate::messages::EdiStandard;
use serde_json::{json, Value};
use switchyard_core::error::AdapterError;
use switchyard_edi::{Interchange, Standard};
use switchyard_store::StoreError;

/// A store error while `what` as a transient job error (the database comes back).
pub fn transient(what: &str) -> impl Fn(StoreError) -> AdapterError + '_ {
    move |e| AdapterError::transient(format!("{what}: {e}"))
}

pub fn edi_standard(s: Standard) -> EdiStandard {
    match s {
        Standard::X12 => EdiStandard::X12,
        Standard::Edifact => EdiStandard::Edifact,
    }
}

pub fn message_types(ic: &Interchange) -> Vec<String> {
    let mut types: Vec<String> = Vec::new();

    for s in ic.groups.iter().flat_map(|g| &g.sets) {
        if !types.contains(&s.set_type) {
            types.push(s.set_type.clone());
        }
    }
    types
}

pub fn group_controls(ic: &Interchange) -> Value {
    Value::Array(
        ic.groups
            .iter()
            .map(|g| {
                json!({
                    "functional_id": g.functional_id,
                    "control": g.control,
                    "version": g.version,
                    "sets": g.sets.iter().map(|s| json!({"type": s.set_type, "control": s.control})).collect::<Vec<_>>(),
                })
            })
            .collect(),
    )
}

pub fn sanitize_name(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect()
}
