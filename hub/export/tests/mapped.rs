//! Exports reshaped by a mapping file: the repository's `exports/order_lines.accounting`
//! over a real Postgres, each format read back by a reader that is not ours (Python's `csv`
//! with the mapping's `;`, `json`, and `xmllint` against `schemas/export-mapped.xsd`); a row the
//! mapping cannot map stops the export naming the row and the field; a mapping that cannot
//! read export rows is refused before anything is read.

mod support;

use chrono::Utc;
use serde_json::Value;
use sqlx::PgPool;
use std::path::Path;
use std::sync::Arc;
use support::*;
use switchyard_core::ids::OrgId;
use switchyard_export::write::mapped::RECORD;
use switchyard_export::{open, Entity, ExportError, Filters, Format, Request};
use switchyard_mapping::formats::write::csv_columns;
use switchyard_mapping::{Mapping, MappingRegistry};

const ACCOUNTING: &str = "exports/order_lines.accounting";

fn repo_mapping(name: &str) -> Arc<Mapping> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../mappings");
    let (registry, _) = MappingRegistry::load(dir);
    registry
        .get(name)
        .unwrap_or_else(|| panic!("{name}: {:?}", registry.errors(name)))
}

/// A mapping written for the test into its own directory.
fn own_mapping(name: &str, toml: &str) -> Arc<Mapping> {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join(format!("{name}.toml")), toml).unwrap();
    let (registry, _) = MappingRegistry::load(dir.path());
    registry
        .get(name)
        .unwrap_or_else(|| panic!("{name}: {:?}", registry.errors(name)))
}

async fn export(
    pool: &PgPool,
    org: OrgId,
    format: Format,
    mapping: &Arc<Mapping>,
) -> Result<(Vec<u8>, u64), ExportError> {
    let opened = open(
        pool,
        Request {
            org,
            entity: Entity::OrderLines,
            format,
            filters: Filters::default(),
            mapping: Some(mapping.clone()),
        },
        Utc::now(),
    )
    .await?;
    let mut out = Vec::new();
    let summary = opened.write_to(&mut out, &mut |_| {}).await?;
    assert_eq!(summary.bytes, out.len() as u64);
    Ok((out, summary.rows))
}

#[sqlx::test(migrator = "switchyard_store::MIGRATOR")]
async fn order_lines_through_the_accounting_mapping(pool: PgPool) {
    let s = seed(&pool).await;
    let m = repo_mapping(ACCOUNTING);

    // CSV: BOM, the mapping's fields as the header, its `;` between cells.
    let (csv, rows) = export(&pool, s.org, Format::Csv, &m).await.unwrap();
    assert_eq!(
        rows, 4,
        "SO-OLD, SO-2 and SO-1's two lines; SO-3 is cancelled"
    );
    assert_eq!(&csv[..3], b"\xEF\xBB\xBF");
    let text = String::from_utf8(csv.clone()).unwrap();
    assert!(!text.contains(FOREIGN));
    let header: Vec<String> = text[3..]
        .lines()
        .next()
        .unwrap()
        .split(';')
        .map(String::from)
        .collect();
    assert_eq!(header, csv_columns(&m.root));
    let parsed = python_csv_delimited(temp(&csv, ".csv").path(), ';');
    let parsed = parsed.as_array().unwrap();
    assert_eq!(parsed.len(), 4);
    let line = parsed
        .iter()
        .find(|r| r["document"] == "SO-1" && r["line"] == "2")
        .unwrap();
    assert_eq!(line["journal"], "SALES");
    assert_eq!(line["item"], "ST-ü");
    assert_eq!(line["quantity"], "1.500");
    assert_eq!(line["net_amount"], "4.50");
    assert_eq!(line["customer_account"], "C1");
    assert_eq!(line["customer_reference"], "PO-SO-1");
    assert_eq!(line["currency"], "USD");
    let today = (Utc::now() - chrono::Duration::days(3))
        .with_timezone(&chrono_tz::Europe::Warsaw)
        .format("%Y-%m-%d")
        .to_string();
    assert_eq!(line["posting_date"], today.as_str());
    // A line whose SKU names no product has no item name: an empty cell, not a failure.
    let variant = parsed.iter().find(|r| r["item"] == "PL-1-14").unwrap();
    assert_eq!(variant["item_name"], "");

    // JSON: the same records, pretty-printed.
    let (json, _) = export(&pool, s.org, Format::Json, &m).await.unwrap();
    assert!(json.starts_with(b"[\n  {\n    \"journal\""));
    let records = python_json(temp(&json, ".json").path());
    let records = records.as_array().unwrap();
    assert_eq!(records.len(), 4);
    let first: Vec<&str> = records[0]
        .as_object()
        .unwrap()
        .keys()
        .map(|k| k.as_str())
        .collect();
    assert_eq!(first[..3], ["journal", "document", "line"]);
    assert_eq!(records[0]["document"], "SO-OLD");
    assert_eq!(records[0]["line"], 1);

    // XML: the generic shape, valid against the second XSD.
    let (xml, _) = export(&pool, s.org, Format::Xml, &m).await.unwrap();
    let file = temp(&xml, ".xml");
    xmllint_valid_against(file.path(), "export-mapped.xsd");
    let xml_text = String::from_utf8(xml).unwrap();
    assert!(
        xml_text.contains(&format!(
            "entity=\"order_lines\" mapping=\"{ACCOUNTING}\" mapping_version=\"{}\"",
            m.hash
        )),
        "{xml_text}"
    );
    assert_eq!(
        xpath(
            file.path(),
            &format!("count(/*[local-name()='export']/*[local-name()='{RECORD}'])")
        ),
        "4"
    );
    assert_eq!(
        xpath(
            file.path(),
            &format!(
                "string(/*[local-name()='export']/*[local-name()='{RECORD}'][2]/*[local-name()='net_amount'])"
            )
        ),
        "29.00"
    );
}

#[sqlx::test(migrator = "switchyard_store::MIGRATOR")]
async fn a_row_the_mapping_cannot_map_fails_the_export_naming_row_and_field(pool: PgPool) {
    let s = seed(&pool).await;
    let strict = own_mapping(
        "strict",
        r#"
version = 1
source = { format = "json" }
target = { format = "csv" }

[fields]
document = { from = "order.number", required = true }
item_name = { from = "product.name", required = true }
"#,
    );
    for format in Format::ALL.iter().copied() {
        match export(&pool, s.org, format, &strict).await {
            Err(ExportError::Mapping {
                row,
                field,
                mapping,
                ..
            }) => {
                // Row 1 is SO-OLD's line (a product with a name); row 2 is SO-2's line of
                // PL-1-14, a variant: no product name.
                assert_eq!(
                    (row, field.as_str(), mapping.as_str()),
                    (2, "item_name", "strict"),
                    "{format}"
                );
            }
            other => panic!("{format}: {:?}", other.map(|(_, n)| n)),
        }
    }
    let e = export(&pool, s.org, Format::Csv, &strict)
        .await
        .unwrap_err()
        .to_string();
    assert!(e.starts_with("row 2, field item_name: "), "{e}");
}

#[sqlx::test(migrator = "switchyard_store::MIGRATOR")]
async fn a_mapping_that_does_not_read_json_is_refused(pool: PgPool) {
    let s = seed(&pool).await;
    let csv_in = own_mapping(
        "from_csv",
        r#"
version = 1
source = { format = "csv" }
target = { format = "json" }

[fields]
document = { from = "order" }
"#,
    );
    match export(&pool, s.org, Format::Csv, &csv_in).await {
        Err(ExportError::Unfit { mapping, message }) => {
            assert_eq!(mapping, "from_csv");
            assert!(message.starts_with("reads csv;"), "{message}");
        }
        other => panic!("{:?}", other.map(|(_, n)| n)),
    }
}

/// What the XML record of a mapped row holds, by the mapping engine's rules: a nested object
/// nests, an `@` key is an attribute, a name that is no XML name is a `field` element, and a
/// control character cannot break the file.
#[sqlx::test(migrator = "switchyard_store::MIGRATOR")]
async fn mapped_xml_follows_the_engines_shape(pool: PgPool) {
    let s = seed(&pool).await;
    sqlx::query("UPDATE products SET name = 'Bell\u{7}' WHERE org_id = $1 AND sku = 'ST-ü'")
        .bind(s.org.0)
        .execute(&pool)
        .await
        .unwrap();
    let shaped = own_mapping(
        "shaped",
        r#"
version = 1
source = { format = "json" }
target = { format = "xml" }

[fields]
"@document" = { from = "order.number" }
"item.sku" = { from = "sku" }
"item.name" = { from = "product.name" }
"2nd" = { from = "line_number" }
"#,
    );
    let (xml, rows) = export(&pool, s.org, Format::Xml, &shaped).await.unwrap();
    assert_eq!(rows, 4);
    let file = temp(&xml, ".xml");
    xmllint_valid_against(file.path(), "export-mapped.xsd");
    let text = String::from_utf8(xml).unwrap();
    assert!(
        text.contains("<record document=\"SO-OLD\"><item><sku>ST-ü</sku><name>Bell\u{FFFD}</name></item><field name=\"2nd\">1</field></record>"),
        "{text}"
    );
    let v: Value = serde_json::Value::String(text);
    assert!(!v.as_str().unwrap().contains(FOREIGN));
}
