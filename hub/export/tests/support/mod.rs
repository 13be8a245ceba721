//! What the export tests share: the seeded organizations, and the independent readers (Python's
//! `csv` and `json` modules, libxml2's `xmllint` against the shipped XSD).

#![allow(dead_code)]

use serde_json::{json, Value};
use sqlx::PgPool;
use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};
use switchyard_core::ids::OrgId;

/// The SKU only the other organization has: it must never appear in the first's exports.
pub const FOREIGN: &str = "B-SECRET-SKU";

pub struct Seeded {
    pub org: OrgId,
    pub other: OrgId,
}

async fn org(pool: &PgPool, slug: &str) -> OrgId {
    switchyard_store::orgs::ensure(pool, slug).await.unwrap().id
}

fn canonical(number: &str, customer: &str, status: &str, lines: &[(&str, &str, &str)]) -> Value {
    let lines: Vec<Value> = lines
        .iter()
        .enumerate()
        .map(|(i, (sku, qty, price))| {
            json!({"line_number": i + 1, "sku": sku, "description": format!("line {}, \"{sku}\"", i + 1),
                   "quantity": qty, "uom": "EA", "unit_price": price,
                   "requested_date": "2026-04-01"})
        })
        .collect();
    let order = json!({"order_number": number, "customer_id": customer, "status": status,
        "currency": "USD", "ordered_at": "2026-03-01T10:00:00Z", "requested_delivery": "2026-04-02",
        "lines": lines, "billing_address": null, "shipping_address": null,
        "supplier_order_ref": null, "customer_po": format!("PO-{number}"), "tracking_numbers": []});
    // The seeded document is what the hub itself stores.
    serde_json::from_value::<switchyard_core::model::Order>(order.clone()).unwrap();
    order
}

async fn order(
    pool: &PgPool,
    org: OrgId,
    number: &str,
    customer: &str,
    status: &str,
    age_days: i32,
    lines: &[(&str, &str, &str)],
) -> uuid::Uuid {
    let id = uuid::Uuid::now_v7();
    sqlx::query(
        "INSERT INTO orders (id, org_id, order_number, customer_id, customer_po, status, canonical, source,
                             created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, 'api', now() - make_interval(days => $8),
                 now() - make_interval(days => $8))",
    )
    .bind(id)
    .bind(org.0)
    .bind(number)
    .bind(customer)
    .bind(format!("PO-{number}"))
    .bind(status)
    .bind(canonical(number, customer, status, lines))
    .bind(age_days)
    .execute(pool)
    .await
    .unwrap();
    id
}

/// Our order `order` forwarded to supplier `partner` `age_days` ago; `status` NULL: not
/// answered yet.
async fn forwarded(
    pool: &PgPool,
    org: OrgId,
    order: uuid::Uuid,
    partner: &str,
    status: Option<&str>,
    age_days: i32,
) {
    sqlx::query(
        "INSERT INTO supplier_orders (org_id, order_id, partner, supplier_order_id,
             previous_supplier_order_ids, status, supplier_status, tracking_number, carrier,
             supplier_updated_at, queued_at, forwarded_at, updated_at)
         VALUES ($1, $2, $3, CASE WHEN $4::text IS NULL THEN NULL ELSE 'X-' || $2::text END,
             CASE WHEN $4 = 'shipped' THEN ARRAY['OLD-1'] ELSE '{}' END,
             $4, upper($4), CASE WHEN $4 = 'shipped' THEN '1Z999' END,
             CASE WHEN $4 = 'shipped' THEN 'UPS' END,
             CASE WHEN $4::text IS NULL THEN NULL ELSE now() - make_interval(days => $5) + interval '1 hour' END,
             now() - make_interval(days => $5),
             CASE WHEN $4::text IS NULL THEN NULL ELSE now() - make_interval(days => $5) END,
             now() - make_interval(days => $5))",
    )
    .bind(org.0)
    .bind(order)
    .bind(partner)
    .bind(status)
    .bind(age_days)
    .execute(pool)
    .await
    .unwrap();
}

/// Two organizations. The first: three products (one deleted, one with two variants and two
/// BOM versions), two locations with stock and a reservation, two customers (one inactive),
/// four orders (one cancelled, one 100 days old), all four forwarded to two suppliers
/// (`phonex`: SO-1 accepted, SO-2 shipped; `wsc`: SO-3 cancelled, SO-OLD not answered yet, and
/// polled just now). The second: one of each, under [`FOREIGN`] names.
pub async fn seed(pool: &PgPool) -> Seeded {
    let a = org(pool, "acme").await;
    let b = org(pool, "other").await;
    let exec = |sql: &'static str, o: OrgId| async move {
        sqlx::raw_sql(&sql.replace("$ORG", &format!("'{}'", o.0)))
            .execute(pool)
            .await
            .unwrap();
    };
    exec(
        "INSERT INTO products (org_id, sku, name, gtin, uom, product_type, tax_code, lead_time_days)
         VALUES ($ORG, 'PL-1', 'Plate, \"HR\"\nsecond line', '00012345678905', 'EA', 'finished_good', 'T1', 5),
                ($ORG, 'ST-ü', 'Stahl – Träger', NULL, 'LB', NULL, NULL, NULL);
         INSERT INTO products (org_id, sku, name, deleted_at) VALUES ($ORG, 'OLD-1', 'Gone', now());
         INSERT INTO product_variants (org_id, sku, parent_sku, name, options, units)
         VALUES ($ORG, 'PL-1-14', 'PL-1', '1/4 in', '{\"thickness\": \"1/4 in\", \"finish\": \"HR & P<O>\"}', 2.5),
                ($ORG, 'PL-1-38', 'PL-1', NULL, '{}', NULL);
         INSERT INTO inventory_locations (org_id, code, name) VALUES ($ORG, 'CHI', 'Chicago'), ($ORG, 'HOU', 'Houston');
         INSERT INTO inventory_levels (org_id, sku, location, on_hand, allocated, on_order, on_hand_at_least)
         VALUES ($ORG, 'PL-1', 'CHI', 100.5, 10, 0, false), ($ORG, 'PL-1-14', 'HOU', 100, 0, 3.25, true),
                ($ORG, 'ST-ü', 'CHI', 0.000001, 0, 0, false);
         INSERT INTO low_stock_thresholds (org_id, location, threshold) VALUES ($ORG, 'CHI', 5);
         INSERT INTO customers (org_id, customer_id, name) VALUES ($ORG, 'C1', 'Acme, Inc.');
         INSERT INTO customers (org_id, customer_id, name, active) VALUES ($ORG, 'C2', 'Dormant', false);
         INSERT INTO customer_edi_ids (org_id, qualifier, party_id, customer_id) VALUES ($ORG, '92', '0001', 'C1');",
        a,
    )
    .await;
    let res = uuid::Uuid::now_v7();
    sqlx::query(
        "INSERT INTO inventory_reservations (id, org_id, reference, expires_at) VALUES ($1, $2, 'cart-1', now() + interval '1 hour');
         ",
    )
    .bind(res)
    .bind(a.0)
    .execute(pool)
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO inventory_reservation_lines (reservation_id, line, org_id, sku, location, quantity)
         VALUES ($1, 1, $2, 'PL-1', 'CHI', 2.5)",
    )
    .bind(res)
    .bind(a.0)
    .execute(pool)
    .await
    .unwrap();
    let so1 = order(
        pool,
        a,
        "SO-1",
        "C1",
        "confirmed",
        3,
        &[("PL-1", "2", "10.50"), ("ST-ü", "1.5", "3")],
    )
    .await;
    let so2 = order(
        pool,
        a,
        "SO-2",
        "C1",
        "shipped",
        10,
        &[("PL-1-14", "4", "7.25")],
    )
    .await;
    let so3 = order(
        pool,
        a,
        "SO-3",
        "C1",
        "cancelled",
        5,
        &[("PL-1", "1", "10.50")],
    )
    .await;
    let old = order(
        pool,
        a,
        "SO-OLD",
        "C1",
        "delivered",
        100,
        &[("ST-ü", "3", "3")],
    )
    .await;
    forwarded(pool, a, so1, "phonex", Some("accepted"), 3).await;
    forwarded(pool, a, so2, "phonex", Some("shipped"), 10).await;
    forwarded(pool, a, so3, "wsc", Some("cancelled"), 5).await;
    forwarded(pool, a, old, "wsc", None, 100).await;
    exec(
        "INSERT INTO supplier_poll_state (org_id, partner, cursor, polled_at) VALUES ($ORG, 'wsc', 'c', now());
         INSERT INTO boms (id, org_id, product_sku, version, created_at, updated_at)
         VALUES ('00000000-0000-7000-8000-000000000001', $ORG, 'PL-1', 1, now(), now()),
                ('00000000-0000-7000-8000-000000000002', $ORG, 'PL-1', 2, now(), now());
         INSERT INTO bom_items (bom_id, org_id, line, component_sku, qty, unit, operation_sequence, is_byproduct)
         VALUES ('00000000-0000-7000-8000-000000000001', $ORG, 1, 'ST-ü', 2.5, 'LB', NULL, false),
                ('00000000-0000-7000-8000-000000000002', $ORG, 1, 'ST-ü', 2.25, 'LB', 10, false),
                ('00000000-0000-7000-8000-000000000002', $ORG, 2, 'OLD-1', 0.125, 'EA', 20, true);",
        a,
    )
    .await;

    exec(
        "INSERT INTO products (org_id, sku, name) VALUES ($ORG, 'B-SECRET-SKU', 'B-SECRET-SKU product');
         INSERT INTO inventory_locations (org_id, code, name) VALUES ($ORG, 'CHI', 'B-SECRET-SKU place');
         INSERT INTO inventory_levels (org_id, sku, location, on_hand) VALUES ($ORG, 'B-SECRET-SKU', 'CHI', 1);
         INSERT INTO customers (org_id, customer_id, name) VALUES ($ORG, 'C1', 'B-SECRET-SKU customer');",
        b,
    )
    .await;
    let foreign = order(
        pool,
        b,
        "SO-1",
        "C1",
        "confirmed",
        3,
        &[(FOREIGN, "1", "1")],
    )
    .await;
    // Shipments and invoices (migration 0027): two shipments of SO-2 (the second 9 days ago,
    // without carrier), an invoice of SO-1; the other organization one of each.
    exec(
        "INSERT INTO shipments (id, org_id, order_id, shipment_number, carrier, service,
                                tracking_number, tracking_url, shipped_at)
         SELECT gen_random_uuid(), org_id, id, 'SH-1', 'UPS', 'Ground', '1Z999', 'https://ups.example/t?n=1Z999&x=<1>',
                now() - interval '2 days'
         FROM orders WHERE org_id = $ORG AND order_number = 'SO-2';
         INSERT INTO shipments (id, org_id, order_id, shipment_number, shipped_at)
         SELECT gen_random_uuid(), org_id, id, 'SH-2', now() - interval '9 days'
         FROM orders WHERE org_id = $ORG AND order_number = 'SO-2';
         INSERT INTO shipment_lines (shipment_id, org_id, line_number, sku, quantity)
         SELECT id, org_id, 1, 'PL-1-14', CASE shipment_number WHEN 'SH-1' THEN 1 ELSE 3 END
         FROM shipments WHERE org_id = $ORG;
         INSERT INTO invoices (id, org_id, invoice_number, order_id, customer_id, issue_date, due_date,
                               currency, net_total, vat_total, gross_total)
         SELECT gen_random_uuid(), org_id, 'FV/1/2026', id, 'C1', current_date - 3, current_date + 11,
                'USD', 25.50, 5.19, 30.69
         FROM orders WHERE org_id = $ORG AND order_number = 'SO-1';
         INSERT INTO invoice_lines (invoice_id, org_id, line_number, sku, description, quantity, uom,
                                    unit_price, vat_rate, net_amount, vat_amount)
         SELECT id, org_id, 1, 'PL-1', 'Plate & \"HR\"', 2, 'EA', 10.50, 23, 21.00, 4.83 FROM invoices WHERE org_id = $ORG
         UNION ALL
         SELECT id, org_id, 2, 'ST-ü', NULL, 1.5, 'LB', 3, 8, 4.50, 0.36 FROM invoices WHERE org_id = $ORG;",
        a,
    )
    .await;
    exec(
        "INSERT INTO shipments (id, org_id, order_id, shipment_number, carrier, shipped_at)
         SELECT gen_random_uuid(), org_id, id, 'B-SECRET-SKU-SH', 'B-SECRET-SKU', now()
         FROM orders WHERE org_id = $ORG;
         INSERT INTO shipment_lines (shipment_id, org_id, line_number, sku, quantity)
         SELECT id, org_id, 1, 'B-SECRET-SKU', 1 FROM shipments WHERE org_id = $ORG;
         INSERT INTO invoices (id, org_id, invoice_number, customer_id, issue_date, currency,
                               net_total, vat_total, gross_total)
         VALUES (gen_random_uuid(), $ORG, 'B-SECRET-SKU-FV', 'C1', current_date, 'EUR', 1, 0, 1);
         INSERT INTO invoice_lines (invoice_id, org_id, line_number, sku, quantity, uom, unit_price,
                                    vat_rate, net_amount, vat_amount)
         SELECT id, org_id, 1, 'B-SECRET-SKU', 1, 'EA', 1, 0, 1, 0 FROM invoices WHERE org_id = $ORG;",
        b,
    )
    .await;
    forwarded(
        pool,
        b,
        foreign,
        "B-SECRET-SKU-supplier",
        Some("accepted"),
        3,
    )
    .await;
    exec(
        "INSERT INTO products (org_id, sku, name) VALUES ($ORG, 'B-SECRET-SKU-PART', 'B-SECRET-SKU part');
         INSERT INTO boms (id, org_id, product_sku, version, created_at, updated_at)
         VALUES ('00000000-0000-7000-8000-0000000000b1', $ORG, 'B-SECRET-SKU', 1, now(), now());
         INSERT INTO bom_items (bom_id, org_id, line, component_sku, qty, unit)
         VALUES ('00000000-0000-7000-8000-0000000000b1', $ORG, 1, 'B-SECRET-SKU-PART', 1, 'EA');",
        b,
    )
    .await;
    Seeded { org: a, other: b }
}

/// Runs `python3 -c script file` and parses what it prints as JSON. No python3 fails the test.
pub fn python(script: &str, file: &Path) -> Value {
    let out = Command::new("python3")
        .arg("-c")
        .arg(script)
        .arg(file)
        .output()
        .expect("python3 runs (the independent CSV and JSON reader)");
    assert!(
        out.status.success(),
        "python3 failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// Python's csv module reads the file as Excel's UTF-8 dialect does (`utf-8-sig` drops the
/// BOM): a list of {header: cell}.
pub fn python_csv(file: &Path) -> Value {
    python(
        "import csv, json, sys\n\
         with open(sys.argv[1], newline='', encoding='utf-8-sig') as f:\n    \
             print(json.dumps(list(csv.DictReader(f, strict=True))))",
        file,
    )
}

/// Python's csv module with `delimiter` between cells, otherwise as [`python_csv`].
pub fn python_csv_delimited(file: &Path, delimiter: char) -> Value {
    python(
        &format!(
            "import csv, json, sys\n\
             with open(sys.argv[1], newline='', encoding='utf-8-sig') as f:\n    \
                 print(json.dumps(list(csv.DictReader(f, delimiter='{delimiter}', strict=True))))"
        ),
        file,
    )
}

/// Python's json module reads the file.
pub fn python_json(file: &Path) -> Value {
    python(
        "import json, sys\nprint(json.dumps(json.load(open(sys.argv[1], encoding='utf-8'))))",
        file,
    )
}

const XMLLINT: &str = "/usr/bin/xmllint";
const INSTALL: &str = "apt-get update && apt-get install -y libxml2-utils";

/// Installs Debian's libxml2-utils when xmllint is missing and this process can (root,
/// apt-get), once per test process; otherwise fails naming the command.
fn ensure_xmllint() {
    static DONE: std::sync::Mutex<bool> = std::sync::Mutex::new(false);
    let mut done = DONE.lock().unwrap_or_else(|e| e.into_inner());
    if *done || Path::new(XMLLINT).exists() {
        *done = true;
        return;
    }
    let root = Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0");
    assert!(
        root && Path::new("/usr/bin/apt-get").exists(),
        "{XMLLINT} is missing and this process cannot install it; run `{INSTALL}`"
    );
    eprintln!("{XMLLINT} is missing; installing Debian's libxml2-utils (once)");
    for args in [
        &["update", "-qq"][..],
        &[
            "install",
            "-y",
            "-qq",
            "--no-install-recommends",
            "libxml2-utils",
        ],
    ] {
        let out = Command::new("apt-get")
            .args(args)
            .env("DEBIAN_FRONTEND", "noninteractive")
            .stdin(Stdio::null())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "apt-get {args:?} failed: {}; run `{INSTALL}`",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    assert!(
        Path::new(XMLLINT).exists(),
        "libxml2-utils installed but no {XMLLINT}"
    );
    *done = true;
}

/// `xmllint --schema export.xsd`: panics with its complaint unless the file is valid.
pub fn xmllint_valid(file: &Path) {
    xmllint_valid_against(file, "export.xsd")
}

/// `xmllint --schema schemas/XSD`: panics with its complaint unless the file is valid.
pub fn xmllint_valid_against(file: &Path, xsd: &str) {
    ensure_xmllint();
    let xsd = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("schemas")
        .join(xsd);
    let out = Command::new(XMLLINT)
        .args(["--noout", "--schema"])
        .arg(&xsd)
        .arg(file)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{} does not validate against the XSD:\n{}",
        file.display(),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `xmllint --xpath EXPR`: what it prints.
pub fn xpath(file: &Path, expr: &str) -> String {
    ensure_xmllint();
    let out = Command::new(XMLLINT)
        .arg("--xpath")
        .arg(expr)
        .arg(file)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// Writes `bytes` to a named temp file.
pub fn temp(bytes: &[u8], suffix: &str) -> tempfile::NamedTempFile {
    let mut f = tempfile::Builder::new().suffix(suffix).tempfile().unwrap();
    f.write_all(bytes).unwrap();
    f
}
