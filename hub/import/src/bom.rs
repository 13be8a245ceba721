//! BOM imports: one row per BOM line (MonoPilot's columns: product_code, version,
//! item_product_code, item_qty, item_unit, operation_sequence, is_byproduct), read through a
//! mapping whose target is a JSON line of those names (`mappings/monopilot/bom.import.toml`),
//! so a customer's own column names are a mapping file, not code. The rows of one product and
//! version make one BOM.
//!
//! Checks: [`check_line`] on each mapped line alone (version ≥ 1, quantity > 0, operation
//! sequence ≥ 1, not its own component); [`check_against_catalog`] against the store (product
//! and component exist, the line's unit is the component's own, a line not twice in the file).
//! Applying ([`apply`]) writes every BOM of the import in one transaction with its rows'
//! outcomes: see the function for why.

use rust_decimal::Decimal;
use serde_json::Value;
use sqlx::PgPool;
use std::collections::{HashMap, HashSet};
use std::str::FromStr;
use switchyard_core::ids::{ImportId, OrgId};
use switchyard_store::boms::{self, Bom, BomItem, Written};
use switchyard_store::imports::{
    self as store, Decision, NewRow, PendingRow, RowError, RowOutcome,
};
use switchyard_store::StoreError;

/// The fields of a mapped BOM line (the template's column names).
pub mod field {
    pub const PRODUCT: &str = "product_code";
    pub const VERSION: &str = "version";
    pub const ITEM: &str = "item_product_code";
    pub const QTY: &str = "item_qty";
    pub const UNIT: &str = "item_unit";
    pub const OPERATION: &str = "operation_sequence";
    pub const BYPRODUCT: &str = "is_byproduct";
}

fn text<'a>(line: &'a Value, key: &str) -> Option<&'a str> {
    line.get(key)
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
}

fn int(line: &Value, key: &str) -> Option<i64> {
    match line.get(key)? {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn decimal(line: &Value, key: &str) -> Option<Decimal> {
    match line.get(key)? {
        Value::Number(n) => Decimal::from_str(&n.to_string())
            .or_else(|_| Decimal::from_scientific(&n.to_string()))
            .ok(),
        Value::String(s) => Decimal::from_str(s.trim()).ok(),
        _ => None,
    }
}

fn err(key: &str, message: String) -> RowError {
    RowError::at(key, Some(key), message)
}

/// The line's own rules, every broken one.
pub fn check_line(line: &Value) -> Result<(), Vec<RowError>> {
    let mut errors = Vec::new();
    for key in [field::PRODUCT, field::ITEM, field::UNIT] {
        if text(line, key).is_none() {
            errors.push(err(key, "must not be empty".to_owned()));
        }
    }
    match int(line, field::VERSION) {
        Some(v) if v >= 1 && i32::try_from(v).is_ok() => {}
        _ => errors.push(err(
            field::VERSION,
            "expected a version number: a whole number from 1 up".to_owned(),
        )),
    }
    match decimal(line, field::QTY) {
        Some(q) if q > Decimal::ZERO => {}
        Some(_) => errors.push(err(
            field::QTY,
            "expected a quantity greater than 0".to_owned(),
        )),
        None => errors.push(err(field::QTY, "expected a decimal quantity".to_owned())),
    }
    if line.get(field::OPERATION).is_some_and(|v| !v.is_null()) {
        match int(line, field::OPERATION) {
            Some(n) if n >= 1 && i32::try_from(n).is_ok() => {}
            _ => errors.push(err(
                field::OPERATION,
                "expected an operation sequence number: a whole number from 1 up".to_owned(),
            )),
        }
    }
    if let (Some(p), Some(i)) = (text(line, field::PRODUCT), text(line, field::ITEM)) {
        if p == i {
            errors.push(err(
                field::ITEM,
                format!("`{i}` cannot be a component of its own BOM"),
            ));
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

/// A checked line as the store keeps it.
fn item(line: &Value) -> BomItem {
    BomItem {
        component_sku: text(line, field::ITEM).unwrap_or_default().to_owned(),
        qty: decimal(line, field::QTY).unwrap_or_default(),
        unit: text(line, field::UNIT).unwrap_or_default().to_owned(),
        operation_sequence: int(line, field::OPERATION).and_then(|n| i32::try_from(n).ok()),
        is_byproduct: line
            .get(field::BYPRODUCT)
            .and_then(Value::as_bool)
            .unwrap_or(false),
    }
}

/// (product, version) of a checked line.
pub fn key_of(line: &Value) -> Option<(String, i32)> {
    Some((
        text(line, field::PRODUCT)?.to_owned(),
        i32::try_from(int(line, field::VERSION)?).ok()?,
    ))
}

/// Every product `lines` name, as the BOM's product or a component, once each.
fn products_named<'a>(lines: impl Iterator<Item = &'a Value>) -> Vec<String> {
    lines
        .flat_map(|l| [text(l, field::PRODUCT), text(l, field::ITEM)])
        .flatten()
        .map(str::to_owned)
        .collect::<HashSet<_>>()
        .into_iter()
        .collect()
}

/// The store's checks on the file's valid lines: the product and each component are live
/// products of `org` (or, given `planned`, products the same upload's valid product rows make:
/// SKU → unit; a product in both is checked against the catalog's unit), the line's unit is
/// the component's own, and no line appears twice in one BOM. A row that fails one becomes
/// invalid with the error at the file's column name (the caller places it in its column with
/// [`crate::read::locate`]).
pub async fn check_against_catalog(
    pool: &PgPool,
    org: OrgId,
    rows: &mut [NewRow],
    source_of: &(dyn Fn(&str) -> String + Sync),
    planned: Option<&HashMap<String, String>>,
) -> Result<(), StoreError> {
    let skus = products_named(rows.iter().filter_map(|r| r.product.as_ref()));
    let mut conn = pool.acquire().await?;
    let mut units: HashMap<String, String> = boms::product_units(&mut conn, org, &skus)
        .await?
        .into_iter()
        .collect();
    drop(conn);
    for (sku, unit) in planned.into_iter().flatten() {
        units.entry(sku.clone()).or_insert_with(|| unit.clone());
    }
    let where_ = if planned.is_some() {
        "in the catalog or among the valid rows of the workbook's Products sheet; import the product first or fix its row"
    } else {
        "in the catalog; import the product first"
    };
    let mut seen: HashMap<(String, i32, String, Option<i32>, bool), i32> = HashMap::new();
    for row in rows.iter_mut() {
        let Some(line) = row.product.as_ref() else {
            continue;
        };
        let mut errors = Vec::new();
        let at =
            |target: &str, message: String| RowError::at(&source_of(target), Some(target), message);
        let product = text(line, field::PRODUCT).unwrap_or_default();
        let component = text(line, field::ITEM).unwrap_or_default();
        if !units.contains_key(product) {
            errors.push(at(
                field::PRODUCT,
                format!("no product `{product}` {where_}"),
            ));
        }
        match units.get(component) {
            None => errors.push(at(
                field::ITEM,
                format!(
                    "no product `{component}` {}",
                    where_.replace("the product", "the component")
                ),
            )),
            Some(uom) => {
                let unit = text(line, field::UNIT).unwrap_or_default();
                if !unit.eq_ignore_ascii_case(uom) {
                    errors.push(at(
                        field::UNIT,
                        format!("expected `{uom}`, the unit of component `{component}`"),
                    ));
                }
            }
        }
        // Only a line that is otherwise right counts as the first of its kind.
        let it = item(line);
        if let (true, Some((p, v))) = (errors.is_empty(), key_of(line)) {
            let dup = (
                p,
                v,
                it.component_sku,
                it.operation_sequence,
                it.is_byproduct,
            );
            if let Some(first) = seen.get(&dup) {
                errors.push(at(
                    field::ITEM,
                    format!(
                        "this line is in BOM `{}` version {} already (row {first})",
                        dup.0, dup.1
                    ),
                ));
            } else {
                seen.insert(dup, row.number);
            }
        }
        if !errors.is_empty() {
            row.product = None;
            row.errors = errors;
        }
    }
    Ok(())
}

/// Apply a confirmed BOM import: every BOM of the file in ONE transaction, with every row's
/// outcome. All or nothing at the level of the import, per BOM in the report: a BOM is only
/// meaningful whole (a version missing a line would plan too little material), so a BOM with
/// an invalid row is not applied at all (its valid rows `failed`, saying why), and the others
/// are; and since BOM files are small (a line per component, not per sale) one transaction
/// costs nothing, while a crash or a refused write leaves no half-applied version behind.
/// The decision of a BOM that exists is its first row's (the policy or that row's override).
/// The product and components are checked again inside the transaction: a product deleted
/// since the upload fails its BOMs rather than the import.
pub async fn apply(pool: &PgPool, org: OrgId, id: ImportId) -> Result<(), StoreError> {
    let mut tx = switchyard_store::begin(pool).await?;
    let rows = store::next_batch(&mut tx, id, i64::MAX).await?;
    if rows.is_empty() {
        store::finish(&mut tx, id).await?;
        tx.commit().await?;
        return Ok(());
    }
    // An invalid row's version may be what is wrong: hold back every BOM of its product.
    let held: HashSet<String> = rows
        .iter()
        .filter(|r| r.product.is_none())
        .filter_map(|r| r.sku.as_deref().map(str::to_uppercase))
        .collect();
    let mut order: Vec<(String, i32)> = Vec::new();
    let mut groups: HashMap<(String, i32), Vec<&PendingRow>> = HashMap::new();
    let mut outcomes: Vec<(i32, RowOutcome, Option<String>)> = Vec::with_capacity(rows.len());
    for row in &rows {
        let Some(key) = row.product.as_ref().and_then(key_of) else {
            outcomes.push(crate::flow::invalid(row));
            continue;
        };
        if !groups.contains_key(&key) {
            order.push(key.clone());
        }
        groups.entry(key).or_default().push(row);
    }
    let skus = products_named(rows.iter().filter_map(|r| r.product.as_ref()));
    let live: HashSet<String> = boms::product_units(&mut tx, org, &skus)
        .await?
        .into_iter()
        .map(|(s, _)| s)
        .collect();
    for key in order {
        let lines = &groups[&key];
        let numbers = || lines.iter().map(|r| r.row_number);
        let fail = |outcomes: &mut Vec<_>, why: String| {
            for n in numbers() {
                outcomes.push((n, RowOutcome::Failed, Some(why.clone())));
            }
        };
        if held.contains(&key.0.to_uppercase()) {
            fail(
                &mut outcomes,
                format!(
                    "BOM `{}` version {} not applied: the file has an invalid row for `{}`",
                    key.0, key.1, key.0
                ),
            );
            continue;
        }
        let items: Vec<BomItem> = lines
            .iter()
            .filter_map(|r| r.product.as_ref())
            .map(item)
            .collect();
        if let Some(gone) = std::iter::once(&key.0)
            .chain(items.iter().map(|i| &i.component_sku))
            .find(|s| !live.contains(*s))
        {
            fail(
                &mut outcomes,
                format!("no product `{gone}` in the catalog any more: BOM not applied"),
            );
            continue;
        }
        let replace = lines
            .first()
            .and_then(|r| r.decision.as_deref())
            .and_then(Decision::parse)
            == Some(Decision::Update);
        let bom = Bom {
            product_sku: key.0.clone(),
            version: key.1,
            items,
        };
        let outcome = match boms::write(&mut tx, org, id, &bom, replace).await? {
            Written::Created => RowOutcome::Created,
            Written::Updated => RowOutcome::Updated,
            Written::Unchanged => RowOutcome::Unchanged,
            Written::Exists => RowOutcome::Skipped,
        };
        for n in numbers() {
            outcomes.push((n, outcome, None));
        }
    }
    store::record_outcomes(&mut tx, id, &outcomes).await?;
    store::finish(&mut tx, id).await?;
    tx.commit().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn line(v: Value) -> Value {
        let mut base = json!({"product_code": "FG-1", "version": 1, "item_product_code": "RM-1",
            "item_qty": "0.5", "item_unit": "KG"});
        for (k, x) in v.as_object().unwrap() {
            base[k] = x.clone();
        }
        base
    }

    fn fields(e: Vec<RowError>) -> Vec<String> {
        e.into_iter().map(|e| e.field).collect()
    }

    #[test]
    fn a_line_is_checked_on_its_own() {
        check_line(&line(json!({}))).unwrap();
        check_line(&line(
            json!({"item_qty": 2, "operation_sequence": 10, "is_byproduct": true}),
        ))
        .unwrap();
        assert_eq!(
            fields(check_line(&line(json!({"version": 0}))).unwrap_err()),
            ["version"]
        );
        assert_eq!(
            fields(check_line(&line(json!({"item_qty": "0"}))).unwrap_err()),
            ["item_qty"]
        );
        assert_eq!(
            fields(
                check_line(&line(json!({"item_qty": "-1.5", "operation_sequence": 0})))
                    .unwrap_err()
            ),
            ["item_qty", "operation_sequence"]
        );
        let own = check_line(&line(json!({"item_product_code": "FG-1"}))).unwrap_err();
        assert!(own[0].message.contains("its own BOM"), "{own:?}");
        let i = item(&line(json!({"item_qty": 2, "is_byproduct": true})));
        assert_eq!((i.qty, i.is_byproduct), (Decimal::from(2), true));
        assert_eq!(key_of(&line(json!({}))), Some(("FG-1".to_owned(), 1)));
    }
}
