//! Every entity in every format, written from a real Postgres and read back by readers that are
//! not ours: Python's `csv` (as Excel's UTF-8 dialect, BOM and all) and `json`, and libxml2's
//! `xmllint` against the shipped XSD. Also the filters, progress, and that another
//! organization's rows never appear.

mod support;

use chrono::{Duration, Utc};
use serde_json::Value;
use sqlx::PgPool;
use support::*;
use switchyard_core::ids::OrgId;
use switchyard_export::columns::{columns, record_element};
use switchyard_export::{open, Entity, ExportError, Filters, Format, Period, Request, Summary};

async fn export(
    pool: &PgPool,
    org: OrgId,
    entity: Entity,
    format: Format,
    filters: Filters,
) -> (Vec<u8>, u64, Summary, Vec<u64>) {
    let opened = open(
        pool,
        Request {
            org,
            entity,
            format,
            filters,
            mapping: None,
        },
        Utc::now(),
    )
    .await
    .unwrap();
    let total = opened.total;
    let mut out = Vec::new();
    let mut seen = Vec::new();
    let summary = opened
        .write_to(&mut out, &mut |n| seen.push(n))
        .await
        .unwrap();
    assert_eq!(summary.bytes, out.len() as u64);
    (out, total, summary, seen)
}

/// `YYYY-MM-DD HH:MM:SS`
fn csv_timestamp(s: &str) -> bool {
    s.len() == 19
        && s.char_indices().all(|(i, c)| match i {
            4 | 7 => c == '-',
            10 => c == ' ',
            13 | 16 => c == ':',
            _ => c.is_ascii_digit(),
        })
}

/// ISO 8601 with an offset, as Postgres writes it into JSON.
fn iso_timestamp(s: &str) -> bool {
    chrono::DateTime::parse_from_rfc3339(s).is_ok() && s.as_bytes()[10] == b'T'
}

fn by<'a>(rows: &'a [Value], key: &str, value: &str) -> &'a Value {
    rows.iter()
        .find(|r| r[key] == value)
        .unwrap_or_else(|| panic!("no row with {key} = {value}: {rows:?}"))
}

#[sqlx::test(migrator = "switchyard_store::MIGRATOR")]
async fn every_entity_in_every_format_reads_back(pool: PgPool) {
    let s = seed(&pool).await;
    let expected = [
        (Entity::Products, 2),
        (Entity::Orders, 3),
        (Entity::OrderLines, 4),
        (Entity::Inventory, 3),
        (Entity::Customers, 1),
        (Entity::PurchaseOrders, 3),
        (Entity::Suppliers, 2),
        (Entity::Shipments, 2),
        (Entity::Invoices, 1),
    ];
    assert_eq!(expected.len(), Entity::ALL.len());
    for (entity, n) in expected {
        for format in Format::ALL.iter().copied() {
            let (bytes, total, summary, _) =
                export(&pool, s.org, entity, format, Filters::default()).await;
            assert_eq!((total, summary.rows), (n, n), "{entity} {format}");
            let text = String::from_utf8(bytes.clone()).unwrap();
            assert!(
                !text.contains(FOREIGN),
                "{entity} {format} shows another organization's rows"
            );
            let file = temp(&bytes, &format!(".{format}"));
            match format {
                Format::Csv => {
                    assert_eq!(&bytes[..3], b"\xEF\xBB\xBF", "{entity}: UTF-8 BOM first");
                    let rows = python_csv(file.path());
                    let rows = rows.as_array().unwrap();
                    assert_eq!(rows.len() as u64, n, "{entity}");
                    let header: Vec<&str> = text[3..].lines().next().unwrap().split(',').collect();
                    let paths: Vec<&str> = columns(entity).iter().map(|c| c.path).collect();
                    assert_eq!(header, paths, "{entity}: header row");
                    check_csv(entity, rows);
                }
                Format::Json => {
                    assert!(
                        text.starts_with("[\n  {\n    \""),
                        "{entity}: pretty-printed: {text}"
                    );
                    let rows = python_json(file.path());
                    let rows = rows.as_array().unwrap();
                    assert_eq!(rows.len() as u64, n, "{entity}");
                    check_json(entity, rows);
                    every_key_is_a_column(entity, &text);
                }
                Format::Xml => {
                    xmllint_valid(file.path());
                    let count = xpath(
                        file.path(),
                        &format!(
                            "count(/*[local-name()='{entity}']/*[local-name()='{}'])",
                            record_element(entity)
                        ),
                    );
                    assert_eq!(count, n.to_string(), "{entity}");
                }
            }
        }
    }
}

fn check_csv(entity: Entity, rows: &[Value]) {
    match entity {
        Entity::Products => {
            let p = by(rows, "sku", "PL-1");
            assert_eq!(p["name"], "Plate, \"HR\"\nsecond line");
            assert_eq!(p["lead_time_days"], "5");
            assert_eq!(p["active"], "true");
            assert!(csv_timestamp(p["created_at"].as_str().unwrap()), "{p}");
            let variants: Value = serde_json::from_str(p["variants"].as_str().unwrap()).unwrap();
            assert_eq!(
                variants[0]["options"][0],
                serde_json::json!({"name": "finish", "value": "HR & P<O>"})
            );
            assert_eq!(by(rows, "sku", "ST-ü")["name"], "Stahl – Träger");
            let boms: Value = serde_json::from_str(p["boms"].as_str().unwrap()).unwrap();
            assert_eq!(boms[1]["items"][1]["qty"], 0.125);
            assert_eq!(by(rows, "sku", "ST-ü")["boms"], "[]");
        }
        Entity::Orders => {
            let o = by(rows, "order_number", "SO-1");
            assert_eq!(o["customer.name"], "Acme, Inc.");
            assert_eq!(o["requested_delivery"], "2026-04-02");
            assert_eq!(o["ordered_at"], "2026-03-01 10:00:00");
            assert_eq!(o["total"], "25.50");
        }
        Entity::OrderLines => {
            let l = by(rows, "sku", "PL-1-14");
            assert_eq!(l["order.number"], "SO-2");
            assert_eq!(l["product.name"], "");
            assert_eq!(l["amount"], "29.00");
            let l = rows
                .iter()
                .find(|r| r["order.number"] == "SO-1" && r["line_number"] == "1")
                .unwrap();
            assert_eq!(l["product.name"], "Plate, \"HR\"\nsecond line");
            assert_eq!(l["description"], "line 1, \"PL-1\"");
            assert_eq!(l["requested_date"], "2026-04-01");
        }
        Entity::Inventory => {
            let chi = rows
                .iter()
                .find(|r| r["sku"] == "PL-1" && r["location.code"] == "CHI")
                .unwrap();
            assert_eq!(chi["reserved"], "2.5");
            assert_eq!(chi["available"], "88.0");
            assert_eq!(
                by(rows, "sku", "ST-ü")["on_hand"],
                "0.000001",
                "decimals exact, no exponent"
            );
            assert_eq!(by(rows, "sku", "PL-1-14")["product.sku"], "PL-1");
            // A capped "100+" is shown as the floor it is, never as a plain 100.
            assert_eq!(by(rows, "sku", "PL-1-14")["on_hand"], "100");
            assert_eq!(by(rows, "sku", "PL-1-14")["on_hand_at_least"], "true");
            assert_eq!(chi["on_hand_at_least"], "false");
            // The threshold that applies: the location's rule (0024), not the level's unset own.
            assert_eq!(chi["low_stock_threshold"], "5");
        }
        Entity::Customers => {
            let c = by(rows, "customer_id", "C1");
            assert_eq!(c["name"], "Acme, Inc.");
            assert_eq!(c["edi_ids"], r#"[{"qualifier":"92","id":"0001"}]"#);
        }
        Entity::Shipments => {
            let s = by(rows, "shipment_number", "SH-1");
            assert_eq!(s["order.number"], "SO-2");
            assert_eq!(s["order.customer_po"], "PO-SO-2");
            assert_eq!(s["tracking_url"], "https://ups.example/t?n=1Z999&x=<1>");
            assert!(csv_timestamp(s["shipped_at"].as_str().unwrap()), "{s}");
            let lines: Value = serde_json::from_str(s["lines"].as_str().unwrap()).unwrap();
            assert_eq!(lines[0]["sku"], "PL-1-14");
            assert_eq!(lines[0]["quantity"], 1);
            assert_eq!(by(rows, "shipment_number", "SH-2")["carrier"], "");
        }
        Entity::Invoices => {
            let i = by(rows, "invoice_number", "FV/1/2026");
            assert_eq!(i["order.number"], "SO-1");
            assert_eq!(i["customer.name"], "Acme, Inc.");
            assert_eq!(i["gross_total"], "30.69");
            assert_eq!(i["issue_date"].as_str().unwrap().len(), 10, "YYYY-MM-DD");
            let lines: Value = serde_json::from_str(i["lines"].as_str().unwrap()).unwrap();
            assert_eq!(lines[0]["description"], "Plate & \"HR\"");
            assert_eq!(lines[1]["product"]["name"], "Stahl – Träger");
        }
        Entity::PurchaseOrders => {
            let po = by(rows, "order_number", "SO-2");
            assert_eq!(po["partner"], "phonex");
            assert_eq!(po["status"], "shipped");
            assert_eq!(po["supplier_status"], "SHIPPED");
            assert_eq!(po["tracking_number"], "1Z999");
            assert_eq!(po["previous_supplier_order_ids"], r#"["OLD-1"]"#);
            assert_eq!(po["customer.name"], "Acme, Inc.");
            assert_eq!(po["order_status"], "shipped");
            assert_eq!(po["total"], "29.00");
            assert!(csv_timestamp(po["queued_at"].as_str().unwrap()), "{po}");
            let queued = by(rows, "order_number", "SO-OLD");
            assert_eq!(queued["status"], "queued");
            assert_eq!(queued["supplier_order_id"], "");
            assert_eq!(queued["forwarded_at"], "");
        }
        Entity::Suppliers => {
            let px = by(rows, "partner", "phonex");
            assert_eq!(
                (px["orders"].as_str(), px["open_orders"].as_str()),
                (Some("2"), Some("1"))
            );
            assert!(
                csv_timestamp(px["last_activity_at"].as_str().unwrap()),
                "{px}"
            );
            assert_eq!(px["polled_at"], "");
            let wsc = by(rows, "partner", "wsc");
            assert_eq!(
                (wsc["orders"].as_str(), wsc["open_orders"].as_str()),
                (Some("2"), Some("1"))
            );
            assert!(csv_timestamp(wsc["polled_at"].as_str().unwrap()), "{wsc}");
        }
    }
}

fn check_json(entity: Entity, rows: &[Value]) {
    match entity {
        Entity::Products => {
            let p = by(rows, "sku", "PL-1");
            assert_eq!(p["variants"].as_array().unwrap().len(), 2);
            assert_eq!(
                p["variants"][0]["options"][1],
                serde_json::json!({"name": "thickness", "value": "1/4 in"})
            );
            assert_eq!(p["variants"][0]["units"], 2.5);
            assert_eq!(p["variants"][1]["units"], Value::Null);
            assert!(iso_timestamp(p["updated_at"].as_str().unwrap()), "{p}");
            assert_eq!(p["gtin"], "00012345678905");
            assert_eq!(by(rows, "sku", "ST-ü")["gtin"], Value::Null);
            // Both BOM versions, lines in order, the component's name beside its SKU.
            let boms = p["boms"].as_array().unwrap();
            assert_eq!(boms.len(), 2);
            assert_eq!(boms[0]["version"], 1);
            assert_eq!(
                boms[1]["items"][0],
                serde_json::json!({"line": 1, "component_sku": "ST-ü",
                    "component_name": "Stahl – Träger", "qty": 2.25, "unit": "LB",
                    "operation_sequence": 10, "is_byproduct": false})
            );
            assert_eq!(boms[1]["items"][1]["is_byproduct"], true);
        }
        Entity::Orders => {
            let o = by(rows, "order_number", "SO-1");
            assert_eq!(
                o["customer"],
                serde_json::json!({"id": "C1", "name": "Acme, Inc."})
            );
            assert_eq!(o["lines"][1]["sku"], "ST-ü");
            assert_eq!(
                o["lines"][0]["product"]["name"],
                "Plate, \"HR\"\nsecond line"
            );
            assert!(iso_timestamp(o["ordered_at"].as_str().unwrap()));
            assert_eq!(o["requested_delivery"], "2026-04-02");
        }
        Entity::OrderLines => {
            let l = by(rows, "sku", "PL-1-14");
            assert_eq!(l["order"]["number"], "SO-2");
            assert!(iso_timestamp(l["order"]["created_at"].as_str().unwrap()));
        }
        Entity::Inventory => {
            let l = by(rows, "sku", "PL-1-14");
            assert_eq!(
                l["location"],
                serde_json::json!({"code": "HOU", "name": "Houston"})
            );
            assert_eq!(l["on_order"], 3.25);
        }
        Entity::Customers => {
            assert_eq!(by(rows, "customer_id", "C1")["edi_ids"][0]["id"], "0001");
        }
        Entity::Shipments => {
            let s = by(rows, "shipment_number", "SH-1");
            assert_eq!(s["order"]["number"], "SO-2");
            assert_eq!(s["carrier"], "UPS");
            assert!(iso_timestamp(s["shipped_at"].as_str().unwrap()));
            // A variant's SKU: `product` names catalog products only (as the orders' lines do).
            assert_eq!(s["lines"][0]["product"]["name"], Value::Null);
            assert_eq!(by(rows, "shipment_number", "SH-2")["carrier"], Value::Null);
        }
        Entity::Invoices => {
            let i = by(rows, "invoice_number", "FV/1/2026");
            assert_eq!(
                i["customer"],
                serde_json::json!({"id": "C1", "name": "Acme, Inc."})
            );
            assert_eq!(i["net_total"], 25.50);
            assert_eq!(i["lines"].as_array().unwrap().len(), 2);
            assert_eq!(i["lines"][1]["vat_amount"], 0.36);
        }
        Entity::PurchaseOrders => {
            let po = by(rows, "order_number", "SO-1");
            assert_eq!(po["status"], "accepted");
            assert_eq!(po["lines"].as_array().unwrap().len(), 2);
            assert_eq!(po["lines"][1]["sku"], "ST-ü");
            assert!(iso_timestamp(po["forwarded_at"].as_str().unwrap()));
            assert_eq!(
                by(rows, "order_number", "SO-OLD")["supplier_order_id"],
                Value::Null
            );
        }
        Entity::Suppliers => {
            assert_eq!(rows[0]["partner"], "phonex", "ordered by partner");
            assert!(iso_timestamp(rows[1]["polled_at"].as_str().unwrap()));
        }
    }
}

/// The CSV columns are the JSON rows' keys, nested ones dotted, in the same order: the list in
/// `columns.rs` and the store's queries cannot drift apart.
fn every_key_is_a_column(entity: Entity, text: &str) {
    fn flat(prefix: &str, v: &Value, out: &mut Vec<String>) {
        match v {
            Value::Object(m) => {
                for (k, v) in m {
                    let path = if prefix.is_empty() {
                        k.clone()
                    } else {
                        format!("{prefix}.{k}")
                    };
                    flat(&path, v, out);
                }
            }
            _ => out.push(prefix.to_string()),
        }
    }
    let paths: Vec<String> = columns(entity).iter().map(|c| c.path.to_string()).collect();
    let rows: Vec<Value> = serde_json::from_str(text).unwrap();
    for row in rows {
        let mut keys = Vec::new();
        flat("", &row, &mut keys);
        assert_eq!(keys, paths, "{entity}");
    }
}

async fn count(pool: &PgPool, org: OrgId, entity: Entity, filters: Filters) -> u64 {
    let (_, total, summary, _) = export(pool, org, entity, Format::Json, filters).await;
    assert_eq!(total, summary.rows);
    total
}

#[sqlx::test(migrator = "switchyard_store::MIGRATOR")]
async fn filters_narrow_each_entity(pool: PgPool) {
    let s = seed(&pool).await;
    let f = Filters::default;
    let now = Utc::now();
    let window = Filters {
        from: Some(now - Duration::days(12)),
        to: Some(now - Duration::days(4)),
        ..f()
    };
    let sku = |s: &str| Some(s.to_string());
    let same_window = window.clone();
    // (entity, filters, rows, why)
    let cases = [
        (
            Entity::Orders,
            Filters {
                period: Some(Period::Last30Days),
                ..f()
            },
            2,
            "SO-OLD is 100 days old",
        ),
        (
            Entity::Orders,
            Filters {
                period: Some(Period::Last365Days),
                ..f()
            },
            3,
            "all but the cancelled",
        ),
        (
            Entity::Orders,
            Filters {
                status: sku("cancelled"),
                ..f()
            },
            1,
            "asking for cancelled shows it",
        ),
        (
            Entity::Orders,
            Filters {
                include_archived: true,
                ..f()
            },
            4,
            "archived too",
        ),
        (
            Entity::Orders,
            Filters {
                product: sku("ST-ü"),
                ..f()
            },
            2,
            "orders holding the SKU",
        ),
        (Entity::Orders, window.clone(), 1, "SO-2; SO-3 is cancelled"),
        (
            Entity::Orders,
            Filters {
                include_archived: true,
                ..window
            },
            2,
            "SO-2 and SO-3",
        ),
        (
            Entity::OrderLines,
            Filters {
                product: sku("ST-ü"),
                ..f()
            },
            2,
            "its lines",
        ),
        (
            Entity::OrderLines,
            Filters {
                status: sku("shipped"),
                ..f()
            },
            1,
            "SO-2's line",
        ),
        (
            Entity::Inventory,
            Filters {
                location: sku("HOU"),
                ..f()
            },
            1,
            "one location",
        ),
        (
            Entity::Inventory,
            Filters {
                product: sku("PL-1"),
                ..f()
            },
            2,
            "its variant's stock too",
        ),
        (
            Entity::Products,
            Filters {
                include_archived: true,
                ..f()
            },
            3,
            "the deleted one too",
        ),
        (
            Entity::Products,
            Filters {
                product: sku("PL-1"),
                ..f()
            },
            1,
            "one product",
        ),
        (
            Entity::Customers,
            Filters {
                include_archived: true,
                ..f()
            },
            2,
            "the inactive one too",
        ),
        (
            Entity::PurchaseOrders,
            Filters {
                include_archived: true,
                ..f()
            },
            4,
            "the cancelled one too",
        ),
        (
            Entity::PurchaseOrders,
            Filters {
                status: sku("queued"),
                ..f()
            },
            1,
            "not answered yet",
        ),
        (
            Entity::PurchaseOrders,
            Filters {
                status: sku("cancelled"),
                ..f()
            },
            1,
            "asking for cancelled shows it",
        ),
        (
            Entity::PurchaseOrders,
            Filters {
                product: sku("PL-1-14"),
                ..f()
            },
            1,
            "SO-2 holds it",
        ),
        (
            Entity::PurchaseOrders,
            Filters {
                period: Some(Period::Last30Days),
                ..f()
            },
            2,
            "SO-OLD was queued 100 days ago",
        ),
        (
            Entity::Suppliers,
            Filters {
                product: sku("PL-1-14"),
                ..f()
            },
            1,
            "phonex was sent SO-2",
        ),
        (
            Entity::Suppliers,
            Filters {
                from: Some(now - Duration::days(1)),
                ..f()
            },
            1,
            "wsc was polled just now; phonex's last change was 3 days ago",
        ),
        (
            Entity::Shipments,
            same_window.clone(),
            1,
            "SH-2 left 9 days ago",
        ),
        (
            Entity::Shipments,
            Filters {
                product: sku("PL-1"),
                ..f()
            },
            0,
            "no shipment carried PL-1 itself",
        ),
        (
            Entity::Invoices,
            Filters {
                product: sku("ST-ü"),
                ..f()
            },
            1,
            "the invoice with a line of it",
        ),
        (
            Entity::Invoices,
            Filters {
                period: Some(Period::Last30Days),
                ..f()
            },
            1,
            "issued 3 days ago",
        ),
        (Entity::Invoices, same_window, 0, "issued after the window"),
    ];
    for (entity, filters, rows, why) in cases {
        assert_eq!(
            count(&pool, s.org, entity, filters.clone()).await,
            rows,
            "{entity} {filters:?}: {why}"
        );
    }
    assert_eq!(count(&pool, s.other, Entity::Orders, f()).await, 1);

    let refused = |entity, filters| {
        let pool = pool.clone();
        async move {
            match open(
                &pool,
                Request {
                    org: s.org,
                    entity,
                    format: Format::Csv,
                    filters,
                    mapping: None,
                },
                Utc::now(),
            )
            .await
            {
                Err(ExportError::Filter(e)) => e.to_string(),
                Err(e) => panic!("{e}"),
                Ok(_) => panic!("accepted"),
            }
        }
    };
    assert_eq!(
        refused(
            Entity::Products,
            Filters {
                status: Some("confirmed".into()),
                ..f()
            }
        )
        .await,
        "filters.status: applies to orders, order_lines and purchase_orders, not products"
    );
    assert!(refused(
        Entity::Orders,
        Filters {
            status: Some("lost".into()),
            ..f()
        }
    )
    .await
    .starts_with("filters.status: `lost` is not one of pending_review"));
    assert_eq!(
        refused(
            Entity::Orders,
            Filters {
                period: Some(Period::Last90Days),
                from: Some(now),
                ..f()
            }
        )
        .await,
        "filters.period: give either a period or from/to, not both"
    );
    assert_eq!(
        refused(
            Entity::Orders,
            Filters {
                location: Some("CHI".into()),
                ..f()
            }
        )
        .await,
        "filters.location: applies to inventory, not orders"
    );
    assert!(refused(
        Entity::PurchaseOrders,
        Filters {
            status: Some("delivered".into()),
            ..f()
        }
    )
    .await
    .starts_with("filters.status: `delivered` is not one of queued, pending, accepted"));
    assert_eq!(
        refused(
            Entity::Suppliers,
            Filters {
                include_archived: true,
                ..f()
            }
        )
        .await,
        "filters.include_archived: suppliers have nothing archived; leave it out"
    );
}

#[sqlx::test(migrator = "switchyard_store::MIGRATOR")]
async fn progress_advances_to_the_total(pool: PgPool) {
    let org = switchyard_store::orgs::ensure(&pool, "many")
        .await
        .unwrap()
        .id;
    sqlx::query("INSERT INTO customers (org_id, customer_id, name) SELECT $1, 'C' || i, 'n' || i FROM generate_series(1, 1100) i")
        .bind(org.0)
        .execute(&pool)
        .await
        .unwrap();
    let (bytes, total, summary, seen) = export(
        &pool,
        org,
        Entity::Customers,
        Format::Csv,
        Filters::default(),
    )
    .await;
    assert_eq!((total, summary.rows), (1100, 1100));
    assert_eq!(seen, [500, 1000, 1100]);
    // The header and every record end in CRLF (RFC 4180), across the 64 KiB chunks.
    assert_eq!(
        String::from_utf8(bytes).unwrap().matches("\r\n").count(),
        1101
    );
}

#[sqlx::test(migrator = "switchyard_store::MIGRATOR")]
async fn an_empty_export_is_still_a_valid_file(pool: PgPool) {
    let org = switchyard_store::orgs::ensure(&pool, "empty")
        .await
        .unwrap()
        .id;
    for entity in Entity::ALL.iter().copied() {
        let (csv, ..) = export(&pool, org, entity, Format::Csv, Filters::default()).await;
        assert_eq!(python_csv(temp(&csv, ".csv").path()), serde_json::json!([]));
        assert!(csv.len() > 3, "the header row is there");
        let (json, ..) = export(&pool, org, entity, Format::Json, Filters::default()).await;
        assert_eq!(json, b"[]\n");
        let (xml, ..) = export(&pool, org, entity, Format::Xml, Filters::default()).await;
        xmllint_valid(temp(&xml, ".xml").path());
    }
}
