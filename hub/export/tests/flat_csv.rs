//! The CSV fast path (`switchyard_export::flat`: `COPY` of a flat query) writes the same bytes
//! as the tree path it replaces (the entity's JSON document per row through
//! `write::csv::CsvRows`), on rows chosen to hit what each could get wrong: quoting, line
//! breaks, tabs and backslashes inside cells, NULLs, fractional seconds, numbers' literals,
//! and filters whose values need quoting in the COPY statement.

mod support;

use chrono::{DateTime, Utc};
use futures::StreamExt;
use serde_json::json;
use sqlx::PgPool;
use support::*;
use switchyard_core::ids::OrgId;
use switchyard_export::{open, write, Entity, Filters, Format, Request};

/// The tree path by hand: each row's JSON document through the CSV row writer.
async fn tree_csv(
    pool: &PgPool,
    org: OrgId,
    entity: Entity,
    filters: &Filters,
    now: DateTime<Utc>,
) -> Vec<u8> {
    let mut tx = switchyard_store::exports::snapshot(pool).await.unwrap();
    let mut writer = write::writer(entity, Format::Csv, now);
    let mut out = Vec::new();
    writer.begin(&mut out).unwrap();
    let mut rows = switchyard_store::exports::rows(&mut tx, org, entity, filters, now);
    let mut n = 0;
    while let Some(row) = rows.next().await {
        n += 1;
        writer.row(n, &row.unwrap(), &mut out).unwrap();
    }
    writer.end(&mut out).unwrap();
    out
}

/// The export as `open` writes it (the fast path where the entity has a flat query).
async fn export_csv(
    pool: &PgPool,
    org: OrgId,
    entity: Entity,
    filters: Filters,
    now: DateTime<Utc>,
) -> (Vec<u8>, u64, Vec<u64>) {
    let request = Request {
        org,
        entity,
        format: Format::Csv,
        filters,
        mapping: None,
    };
    let opened = open(pool, request, now).await.unwrap();
    let total = opened.total;
    let (mut out, mut seen) = (Vec::new(), Vec::new());
    let summary = opened
        .write_to(&mut out, &mut |n| seen.push(n))
        .await
        .unwrap();
    assert_eq!(summary.rows, total);
    assert_eq!(summary.bytes, out.len() as u64);
    (out, total, seen)
}

/// An order whose lines hold what a CSV or COPY's text format must escape.
async fn awkward_order(pool: &PgPool, org: OrgId) {
    let lines = json!([
        {"line_number": 1, "sku": "A-1", "description": "tab\there, \"quoted\", comma",
         "quantity": "1.500", "uom": "EA", "unit_price": "0.10", "requested_date": "2026-04-01"},
        {"line_number": 2, "sku": "NO-SUCH-PRODUCT", "description": "two\nlines\r\nand a \\ backslash",
         "quantity": "1000000", "uom": "LB", "unit_price": "12.345678", "requested_date": null},
        {"line_number": 3, "sku": "A-2", "description": "",
         "quantity": "3", "uom": "EA", "unit_price": "7", "requested_date": "2026-12-31"}
    ]);
    sqlx::query(
        "INSERT INTO customers (org_id, customer_id, name) VALUES ($1, 'C\\1', 'Back\\slash')",
    )
    .bind(org.0)
    .execute(pool)
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO orders (id, org_id, order_number, customer_id, customer_po, status, canonical,
                             source, created_at, updated_at)
         VALUES (gen_random_uuid(), $1, 'SO-''TAB''', 'C\\1', '', 'confirmed',
                 jsonb_build_object('currency', 'EUR', 'lines', $2::jsonb), 'api',
                 '2026-02-03 04:05:06.987654+00', now())",
    )
    .bind(org.0)
    .bind(lines)
    .execute(pool)
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO products (org_id, sku, name, uom) VALUES
             ($1, 'A-2', E'Plate\\t\"HR\", 1/4 \\\\ in\\n2nd line', 'EA')
         ON CONFLICT (org_id, sku) DO UPDATE SET name = EXCLUDED.name",
    )
    .bind(org.0)
    .execute(pool)
    .await
    .unwrap();
}

#[sqlx::test(migrator = "switchyard_store::MIGRATOR")]
async fn the_flat_csv_is_the_tree_csv_byte_for_byte(pool: PgPool) {
    let s = seed(&pool).await;
    awkward_order(&pool, s.org).await;
    let now = Utc::now();
    assert!(
        switchyard_store::exports::flat_select(Entity::OrderLines).is_some(),
        "order lines take the fast path"
    );
    let product = |sku: &str| Filters {
        product: Some(sku.to_owned()),
        ..Filters::default()
    };
    let cases = [
        Filters::default(),
        Filters {
            include_archived: true,
            ..Filters::default()
        },
        Filters {
            status: Some("confirmed".into()),
            from: Some("2026-01-01T00:00:00Z".parse().unwrap()),
            ..Filters::default()
        },
        product("A-2"),
        // A value that needs quoting in the COPY statement, and one that looks like a
        // parameter: they filter (to nothing), they do not break or rewrite the statement.
        product("O'Brien\\'; SELECT 1; --"),
        product("$1"),
    ];
    for filters in cases {
        let tree = tree_csv(&pool, s.org, Entity::OrderLines, &filters, now).await;
        let (flat, total, seen) =
            export_csv(&pool, s.org, Entity::OrderLines, filters.clone(), now).await;
        assert_eq!(
            String::from_utf8_lossy(&flat),
            String::from_utf8_lossy(&tree),
            "filters {filters:?}"
        );
        assert_eq!(flat, tree, "filters {filters:?}");
        assert_eq!(seen.last(), Some(&total), "progress ends at the total");
    }
    // The awkward rows are in it, as an independent reader reads them.
    let (flat, _, _) = export_csv(&pool, s.org, Entity::OrderLines, Filters::default(), now).await;
    let file = temp(&flat, ".csv");
    let rows = python_csv(file.path());
    let rows = rows.as_array().unwrap();
    let line = |n: &str| {
        rows.iter()
            .find(|r| r["order.number"] == "SO-'TAB'" && r["line_number"] == n)
            .unwrap_or_else(|| panic!("line {n}: {rows:?}"))
    };
    assert_eq!(line("1")["description"], "tab\there, \"quoted\", comma");
    assert_eq!(line("1")["quantity"], "1.500");
    assert_eq!(line("1")["order.customer_id"], "C\\1");
    assert_eq!(line("1")["order.customer_po"], "");
    assert_eq!(line("1")["order.created_at"], "2026-02-03 04:05:06");
    assert_eq!(line("2")["description"], "two\nlines\r\nand a \\ backslash");
    assert_eq!(line("2")["product.name"], "");
    assert_eq!(line("2")["requested_date"], "");
    assert_eq!(line("2")["amount"], "12345678.000000");
    assert_eq!(
        line("3")["product.name"],
        "Plate\t\"HR\", 1/4 \\ in\n2nd line"
    );
    // Another organization's lines never appear.
    assert!(!String::from_utf8_lossy(&flat).contains(FOREIGN));
}

#[sqlx::test(migrator = "switchyard_store::MIGRATOR")]
async fn an_empty_flat_export_is_the_header_alone(pool: PgPool) {
    let org = switchyard_store::orgs::ensure(&pool, "empty")
        .await
        .unwrap()
        .id;
    let now = Utc::now();
    let (flat, total, seen) =
        export_csv(&pool, org, Entity::OrderLines, Filters::default(), now).await;
    assert_eq!(total, 0);
    assert_eq!(seen, [0]);
    assert_eq!(
        flat,
        tree_csv(&pool, org, Entity::OrderLines, &Filters::default(), now).await
    );
    assert!(flat.starts_with(b"\xEF\xBB\xBForder.number,"));
}
