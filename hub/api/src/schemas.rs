//! Schemas the derive cannot write for us, for `#[schema(schema_with = ...)]` and
//! `#[param(schema_with = ...)]`: the enums of the store and the model (which do not depend on
//! utoipa), written from their own `ALL` lists through serde so the document names exactly
//! the values the API reads and writes, and the text rules the handlers enforce.

use serde::Serialize;
use serde_json::Value;
use switchyard_core::model::{OrderStatus, Uom};
use switchyard_store::keys::{KeyState, Tier};
use switchyard_store::logs::{Direction, IntegrationType, LogStatus};
use switchyard_store::queue::{DeadLetterState, JobState, RetryPolicy};
use utoipa::openapi::schema::{Object, ObjectBuilder, SchemaType, Type};

/// A string that is one of `values` (as serde writes them).
pub fn one_of<T: Serialize>(values: &[T]) -> Object {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(values.iter().map(|v| {
            serde_json::to_value(v).expect("an enum serializes to a string")
        })))
        .build()
}

/// [`one_of`], or `null` (an optional field of a request body, where `null` means absent).
pub fn one_of_or_null<T: Serialize>(values: &[T]) -> Object {
    let mut values: Vec<Value> = values
        .iter()
        .map(|v| serde_json::to_value(v).expect("an enum serializes to a string"))
        .collect();
    values.push(Value::Null);
    ObjectBuilder::new()
        .schema_type(SchemaType::from_iter([Type::String, Type::Null]))
        .enum_values(Some(values))
        .build()
}

/// Somewhere a character that is not white space, and nowhere a NUL (which the API refuses
/// in every string).
pub const NON_BLANK: &str = r"^[^\u0000]*[^\s\u0000][^\u0000]*$";

/// Text with something in it besides whitespace (handlers trim and refuse what is left empty),
/// at most `max` characters when given.
pub fn non_blank(max: Option<usize>) -> Object {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .min_length(Some(1))
        .max_length(max)
        .pattern(Some(NON_BLANK))
        .build()
}

/// Declares `fn NAME() -> Object` for `schema_with`, which takes a function without arguments.
/// Every value an export's `status` filter takes, each once.
fn export_statuses() -> Vec<&'static str> {
    let mut all: Vec<&'static str> = switchyard_store::exports::ORDER_STATUSES.to_vec();
    for s in switchyard_store::exports::PURCHASE_ORDER_STATUSES {
        if !all.contains(s) {
            all.push(s);
        }
    }
    all
}

macro_rules! schema_fns {
    ($($(#[$meta:meta])* $name:ident => $body:expr;)+) => {
        $($(#[$meta])* pub fn $name() -> Object { $body })+
    };
}

schema_fns! {
    job_state => one_of(&JobState::ALL);
    retry_policy => one_of(&RetryPolicy::ALL);
    dead_letter_state => one_of(&DeadLetterState::ALL);
    log_status => one_of(LogStatus::ALL);
    integration_type => one_of(IntegrationType::ALL);
    direction => one_of(Direction::ALL);
    tier => one_of(&Tier::ALL);
    tier_or_null => one_of_or_null(&Tier::ALL);
    key_state => one_of(&KeyState::ALL);
    order_status => one_of(&OrderStatus::ALL);
    uom => one_of(&Uom::ALL);
    /// An optional order status of a body (`null` is absent).
    order_status_or_null => one_of_or_null(&OrderStatus::ALL);
    /// An export's `status` filter: an order's status (orders, order lines) or a purchase
    /// order's (`queued` and the supplier-neutral statuses).
    export_status => one_of(&export_statuses());
    export_status_or_null => one_of_or_null(&export_statuses());
    export_entity => one_of(switchyard_export::Entity::ALL);
    export_format => one_of(switchyard_export::Format::ALL);
    export_state => one_of(switchyard_export::ExportState::ALL);
    export_period => one_of(switchyard_export::Period::ALL);
    export_period_or_null => one_of_or_null(switchyard_export::Period::ALL);
    /// [`name`], or `null` (an optional field of a body).
    name_or_null => {
        let mut o = non_blank(None);
        o.schema_type = SchemaType::from_iter([Type::String, Type::Null]);
        o
    };
    /// A key's name: 1 to 200 characters, not all white space.
    key_name => non_blank(Some(switchyard_store::keys::MAX_NAME_CHARS));
    /// An outbound webhook subscription: `*`, a family (`order.*`) or an event type.
    event_pattern => one_of(&crate::outbound::patterns());
    /// A name that must not be empty or all white space.
    name => non_blank(None);
    /// What `routes::jobs::idempotency_key` accepts: visible ASCII, spaces and tabs inside
    /// (HTTP strips them around a header value).
    idempotency_key => ObjectBuilder::new()
        .schema_type(Type::String)
        .min_length(Some(1))
        .max_length(Some(crate::routes::jobs::MAX_IDEMPOTENCY_KEY))
        .pattern(Some(r"^[!-~]([ \t!-~]*[!-~])?$"))
        .build();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enums_are_written_as_serde_writes_them() {
        let s = serde_json::to_value(order_status()).unwrap();
        assert_eq!(s["type"], "string");
        assert!(s["enum"]
            .as_array()
            .unwrap()
            .contains(&"pending_review".into()));
        let s = serde_json::to_value(uom()).unwrap();
        assert!(s["enum"].as_array().unwrap().contains(&"CWT".into()));
        let s = serde_json::to_value(tier_or_null()).unwrap();
        assert_eq!(s["type"], serde_json::json!(["string", "null"]));
        assert_eq!(
            s["enum"],
            serde_json::json!(["basic", "standard", "premium", null])
        );
    }
}
