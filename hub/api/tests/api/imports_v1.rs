//! `/api/v1/imports` (issue #17): product and BOM templates as CSV and XLSX, uploads as CSV,
//! XLSX (built here with rust_xlsxwriter) and JSON, every validation error kind located by
//! row, column letter and header with the value, the preview, both conflict policies per
//! import and per row, BOM versions, the events a confirmation records, the upload limit and
//! tenancy. Against the repository's own mapping files and a fresh database per test.

use crate::common::{code, json, TestApp};
use crate::imports::{call, seed};
use reqwest::Method;
use serde_json::{json, Value};
use std::path::PathBuf;
use std::sync::Arc;
use switchyard_api::outbound::{check_data, EventType};
use switchyard_api::ApiConfig;
use switchyard_import::table::read_xlsx;
use switchyard_mapping::MappingRegistry;

const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

async fn spawn_with(pool: sqlx::PgPool, config: ApiConfig) -> TestApp {
    let repo = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let (registry, report) = MappingRegistry::load(repo.join("mappings"));
    assert!(report.is_clean(), "{:?}", report.failed);
    TestApp::builder(pool)
        .mappings(Arc::new(registry))
        .config(config)
        .spawn()
        .await
}

async fn spawn(pool: sqlx::PgPool) -> TestApp {
    spawn_with(pool, ApiConfig::default()).await
}

async fn upload(
    app: &TestApp,
    key: &str,
    query: &str,
    content_type: &str,
    body: Vec<u8>,
) -> (u16, Value) {
    let resp = app
        .client
        .post(format!("{}/api/v1/imports?{query}", app.base))
        .bearer_auth(key)
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .unwrap();
    json(resp).await
}

async fn confirm(app: &TestApp, key: &str, report: &Value, body: Value) -> Value {
    let id = report["id"].as_str().unwrap();
    let (s, r) = call(
        app,
        Method::POST,
        &format!("/api/v1/imports/{id}/confirm"),
        key,
        Some(body),
    )
    .await;
    assert_eq!(s, 200, "{r}");
    assert_eq!(r["state"], "applied", "{r}");
    r
}

/// `(row, field, column, value)` of every error, and the messages.
fn located(report: &Value) -> Vec<(i64, String, String, String)> {
    report["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["row"].as_i64().unwrap(),
                e["field"].as_str().unwrap().to_owned(),
                e["column"].as_str().unwrap_or("-").to_owned(),
                e["value"].as_str().unwrap_or("-").to_owned(),
            )
        })
        .collect()
}

fn messages(report: &Value) -> Vec<String> {
    report["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["message"].as_str().unwrap().to_owned())
        .collect()
}

fn outcomes(report: &Value) -> Vec<(i64, String)> {
    report["outcomes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| {
            (
                o["row"].as_i64().unwrap(),
                o["outcome"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

/// The events recorded so far, each checked against its documented payload.
async fn events(app: &TestApp) -> Vec<(String, Value)> {
    let rows: Vec<(String, Value)> = sqlx::query_as("SELECT type, data FROM events ORDER BY id")
        .fetch_all(&app.pool)
        .await
        .unwrap();
    for (t, data) in &rows {
        let ty = EventType::parse(t).unwrap_or_else(|| panic!("undocumented event type {t}"));
        check_data(ty, data).unwrap_or_else(|e| panic!("{t}: {e}: {data}"));
    }
    rows
}

const PRODUCTS_HEADER: &str =
    "product_code,name,type,unit,description,allergens,shelf_life_days,storage_temp,tax_code\n";

#[sqlx::test(migrator = "switchyard_store::MIGRATOR")]
async fn templates_are_csv_and_xlsx_with_an_example_row_that_validates(pool: sqlx::PgPool) {
    let app = spawn(pool).await;
    let key = app.key("a", &["write:catalog"]).await;

    let resp = app
        .get("/api/v1/imports/templates/products.csv", &key)
        .await;
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["content-type"], "text/csv; charset=utf-8");
    let csv = resp.bytes().await.unwrap().to_vec();
    assert!(csv.starts_with(b"\xef\xbb\xbf"), "Excel needs the BOM");
    let text = String::from_utf8(csv[3..].to_vec()).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(format!("{}\n", lines[0]), PRODUCTS_HEADER);
    assert!(
        lines[1].starts_with("RM-FLOUR-01,Wheat flour type 650,raw_material,kg"),
        "{text}"
    );

    let resp = app.get("/api/v1/imports/templates/boms.xlsx", &key).await;
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["content-type"], XLSX);
    let book = resp.bytes().await.unwrap().to_vec();
    let table = read_xlsx(&book, "BOMs").unwrap();
    assert_eq!(
        table.columns,
        [
            "product_code",
            "version",
            "item_product_code",
            "item_qty",
            "item_unit",
            "operation_sequence",
            "is_byproduct"
        ]
    );
    assert_eq!(table.records.len(), 1);
    assert_eq!(table.records[0].value["item_qty"], "0.45");
    assert_eq!(table.records[0].location, "record 1, sheet `BOMs` row 2");

    // Each template, sent back as it came, is a valid file of one row.
    let (s, r) = upload(&app, &key, "entity=products", "text/csv", csv).await;
    assert_eq!(s, 201, "{r}");
    assert_eq!(
        (
            r["totals"]["valid"].as_i64(),
            r["totals"]["invalid"].as_i64()
        ),
        (Some(1), Some(0)),
        "{r}"
    );
    let xlsx = app
        .get("/api/v1/imports/templates/products.xlsx", &key)
        .await
        .bytes()
        .await
        .unwrap()
        .to_vec();
    let (s, r) = upload(&app, &key, "", XLSX, xlsx).await;
    assert_eq!(s, 201, "{r}");
    assert_eq!(r["format"], "xlsx");
    assert_eq!(r["totals"]["valid"], 1, "{r}");
    assert_eq!(
        r["preview"][0]["product"]["attributes"]["shelf_life_days"],
        365
    );

    let resp = app.get("/api/v1/imports/templates/orders.csv", &key).await;
    let (s, b) = json(resp).await;
    assert_eq!((s, code(&b)), (404, "not_found"), "{b}");
    assert!(
        b["error"]["message"]
            .as_str()
            .unwrap()
            .contains("boms.xlsx"),
        "{b}"
    );
}

#[sqlx::test(migrator = "switchyard_store::MIGRATOR")]
async fn every_product_error_kind_is_located_by_row_column_and_value(pool: sqlx::PgPool) {
    let app = spawn(pool).await;
    let key = app.key("a", &["write:catalog"]).await;
    let file = format!(
        "{PRODUCTS_HEADER}\
         RM-FLOUR-01,Flour,raw_material,kg,,gluten,365,ambient,A\n\
         ,No code,raw_material,kg,,,,,A\n\
         RM-2,Bad type,intermediate,kg,,,,,A\n\
         RM-3,Bad unit,raw_material,litre,,,,,A\n\
         RM-4,Bad allergen,raw_material,kg,,\"gluten, glutten\",,,A\n\
         RM-5,Bad shelf life,raw_material,kg,,,two weeks,,A\n\
         RM-FLOUR-01,Twice,raw_material,kg,,,,,A\n"
    );
    let (s, r) = upload(
        &app,
        &key,
        "entity=products&file_name=p.csv",
        "text/csv",
        file.into_bytes(),
    )
    .await;
    assert_eq!(s, 201, "{r}");
    assert_eq!(r["entity"], "products");
    assert_eq!(r["totals"]["invalid"], 6, "{r}");
    let at = |n: i64, f: &str, c: &str, v: &str| (n, f.to_owned(), c.to_owned(), v.to_owned());
    assert_eq!(
        located(&r),
        [
            at(2, "product_code", "A", ""),
            at(3, "type", "C", "intermediate"),
            at(4, "unit", "D", "litre"),
            at(5, "allergens", "F", "gluten, glutten"),
            at(6, "shelf_life_days", "G", "two weeks"),
            at(7, "product_code", "A", "RM-FLOUR-01"),
        ],
        "{r}"
    );
    let m = messages(&r);
    assert!(m[0].contains("missing"), "{m:?}");
    assert!(
        m[1].contains("is not one of") && m[1].contains("finished_good"),
        "{m:?}"
    );
    assert!(m[2].contains("'litre'"), "{m:?}");
    assert!(
        m[3].starts_with("'glutten' not a known allergen; expected") && m[3].contains("sesame"),
        "{m:?}"
    );
    assert!(m[4].contains("'two weeks' is not an integer"), "{m:?}");
    assert!(m[5].contains("duplicate"), "{m:?}");
    assert_eq!(r["errors"][1]["location"], "record 3, CSV line 4");

    // The preview is the valid row as it will be stored.
    assert_eq!(r["preview"].as_array().unwrap().len(), 1);
    assert_eq!(r["preview"][0]["product"]["base_uom"], "KG");
    assert_eq!(r["preview"][0]["status"], "new");
}

/// An XLSX workbook as a spreadsheet user fills the template: numbers typed as numbers, the
/// sheet named as the template names it, a blank row left in.
fn workbook(sheet: &str, rows: &[&[&str]]) -> Vec<u8> {
    workbook_of(&[(sheet, rows)])
}

/// A workbook of several sheets, each filled as [`workbook`] fills its one.
fn workbook_of(sheets: &[(&str, &[&[&str]])]) -> Vec<u8> {
    let mut book = rust_xlsxwriter::Workbook::new();
    for (sheet, rows) in sheets {
        let ws = book.add_worksheet();
        ws.set_name(*sheet).unwrap();
        let mut r = 0u32;
        for row in *rows {
            if row.is_empty() {
                r += 1;
                continue;
            }
            for (c, v) in row.iter().enumerate() {
                let c = c as u16;
                match v.parse::<f64>() {
                    Ok(n) if r > 0 => ws.write_number(r, c, n).map(drop).unwrap(),
                    _ => ws.write_string(r, c, *v).map(drop).unwrap(),
                }
            }
            r += 1;
        }
    }
    book.save_to_buffer().unwrap()
}

#[sqlx::test(migrator = "switchyard_store::MIGRATOR")]
async fn an_xlsx_upload_is_read_located_and_applied(pool: sqlx::PgPool) {
    let app = spawn(pool).await;
    let key = app.key("a", &["write:catalog"]).await;
    let header: Vec<&str> = PRODUCTS_HEADER.trim().split(',').collect();
    let book = workbook(
        "Products",
        &[
            &header,
            &[
                "FG-BUN-09",
                "Sweet bun",
                "finished_good",
                "pcs",
                "Glazed",
                "gluten, milk, eggs",
                "4",
                "ambient",
                "B",
            ],
            &[],
            &[
                "FG-CAKE-13",
                "Cheesecake",
                "finished_good",
                "box",
                "",
                "milk",
                "6",
                "2-8°C",
                "B",
            ],
            &[
                "RM-EGG-14",
                "Eggs",
                "raw_material",
                "pcs",
                "",
                "eggs",
                "28.5",
                "",
                "A",
            ],
        ],
    );
    let (s, r) = upload(&app, &key, "file_name=products.xlsx", XLSX, book).await;
    assert_eq!(s, 201, "{r}");
    assert_eq!(
        (r["format"].as_str(), r["file_name"].as_str()),
        (Some("xlsx"), Some("products.xlsx"))
    );
    assert_eq!(r["totals"]["rows"], 3, "the blank row is no record: {r}");
    assert_eq!(
        located(&r),
        [
            (2, "unit".to_owned(), "D".to_owned(), "box".to_owned()),
            (
                3,
                "shelf_life_days".to_owned(),
                "G".to_owned(),
                "28.5".to_owned()
            ),
        ],
        "{r}"
    );
    assert_eq!(
        r["errors"][0]["location"],
        "record 2, sheet `Products` row 4"
    );
    assert_eq!(
        r["preview"][0]["product"]["attributes"]["shelf_life_days"],
        4
    );
    assert_eq!(
        r["preview"][0]["product"]["attributes"]["allergens"],
        json!(["gluten", "milk", "eggs"])
    );

    let r = confirm(&app, &key, &r, json!({})).await;
    assert_eq!(
        outcomes(&r),
        [
            (1, "created".to_owned()),
            (2, "failed".to_owned()),
            (3, "failed".to_owned())
        ]
    );
    let (s, p) = call(
        &app,
        Method::GET,
        "/api/v1/catalog/products/FG-BUN-09",
        &key,
        None,
    )
    .await;
    assert_eq!(s, 200, "{p}");
    assert_eq!(p["uom"], "EA");
    assert_eq!(p["product_type"], "finished_good");
}

#[sqlx::test(migrator = "switchyard_store::MIGRATOR")]
async fn a_json_table_is_read_like_the_template(pool: sqlx::PgPool) {
    let app = spawn(pool).await;
    let key = app.key("a", &["write:catalog"]).await;
    let body = json!([
        {"product_code": "rm-1", "name": "Flour", "type": "raw_material", "unit": "kg",
         "allergens": ["gluten"], "shelf_life_days": 365, "tax_code": "a"},
        {"product_code": "RM-2", "name": "Oil", "type": "oil", "unit": "L"}
    ]);
    let (s, r) = upload(
        &app,
        &key,
        "entity=products",
        "application/json",
        body.to_string().into_bytes(),
    )
    .await;
    assert_eq!(s, 201, "{r}");
    assert_eq!(r["format"], "json");
    assert_eq!(r["preview"][0]["sku"], "RM-1");
    assert_eq!(
        r["preview"][0]["product"]["attributes"]["allergens"],
        json!(["gluten"])
    );
    assert_eq!(
        r["preview"][0]["product"]["attributes"]["shelf_life_days"],
        365
    );
    assert_eq!(
        located(&r),
        [(2, "type".to_owned(), "C".to_owned(), "oil".to_owned())]
    );
    assert_eq!(r["errors"][0]["location"], "record 2, JSON /1");

    // A content type the mapping cannot be read from.
    let (s, b) = upload(&app, &key, "", "application/pdf", b"%PDF".to_vec()).await;
    assert_eq!(s, 415, "{b}");
    assert!(
        b["error"]["message"].as_str().unwrap().contains("text/csv"),
        "{b}"
    );
    // The BOM mapping does not make products, and a mapping that is not there.
    let (s, b) = upload(
        &app,
        &key,
        "entity=products&mapping=monopilot/bom.import",
        "text/csv",
        b"a\n".to_vec(),
    )
    .await;
    assert_eq!(s, 422, "{b}");
    let (s, b) = upload(
        &app,
        &key,
        "entity=boms&mapping=none/such",
        "text/csv",
        b"a\n".to_vec(),
    )
    .await;
    assert_eq!(s, 422, "{b}");
}

#[sqlx::test(migrator = "switchyard_store::MIGRATOR")]
async fn conflicts_skip_or_update_per_import_and_per_row_and_record_events(pool: sqlx::PgPool) {
    let app = spawn(pool).await;
    let key = app.key("a", &["write:catalog"]).await;
    seed(
        &app,
        &key,
        json!([
            {"sku": "RM-SUGAR-02", "name": "Old sugar", "uom": "KG"},
            {"sku": "RM-SALT-04", "name": "Old salt", "uom": "KG"}
        ]),
    )
    .await;
    let before = events(&app).await.len();
    let file = format!(
        "{PRODUCTS_HEADER}\
         RM-SUGAR-02,Sugar,raw_material,kg,,,720,dry,A\n\
         RM-SALT-04,Salt,raw_material,kg,,,,dry,A\n\
         RM-NEW-01,New,raw_material,kg,,,,,A\n"
    );
    // skip: the existing products are left as they are.
    let (_, r) = upload(&app, &key, "", "text/csv", file.clone().into_bytes()).await;
    let status: Vec<&str> = r["preview"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["status"].as_str().unwrap())
        .collect();
    assert_eq!(status, ["exists", "exists", "new"], "{r}");
    let r = confirm(&app, &key, &r, json!({"on_conflict": "skip"})).await;
    assert_eq!(
        outcomes(&r),
        [
            (1, "skipped".to_owned()),
            (2, "skipped".to_owned()),
            (3, "created".to_owned())
        ]
    );
    let (_, p) = call(
        &app,
        Method::GET,
        "/api/v1/catalog/products/RM-SUGAR-02",
        &key,
        None,
    )
    .await;
    assert_eq!(p["name"], "Old sugar");

    // update for the import, skip for row 2 alone.
    let (_, r) = upload(&app, &key, "", "text/csv", file.clone().into_bytes()).await;
    let r = confirm(
        &app,
        &key,
        &r,
        json!({"on_conflict": "update", "rows": {"2": "skip"}}),
    )
    .await;
    assert_eq!(
        outcomes(&r),
        [
            (1, "updated".to_owned()),
            (2, "skipped".to_owned()),
            (3, "unchanged".to_owned())
        ]
    );
    let (_, p) = call(
        &app,
        Method::GET,
        "/api/v1/catalog/products/RM-SUGAR-02",
        &key,
        None,
    )
    .await;
    assert_eq!(
        (
            p["name"].as_str(),
            p["attributes"]["shelf_life_days"].as_i64()
        ),
        (Some("Sugar"), Some(720))
    );
    let (_, p) = call(
        &app,
        Method::GET,
        "/api/v1/catalog/products/RM-SALT-04",
        &key,
        None,
    )
    .await;
    assert_eq!(p["name"], "Old salt");

    // The products table's triggers recorded what the confirmations did, and nothing else.
    let recorded: Vec<(String, String)> = events(&app).await[before..]
        .iter()
        .map(|(t, d)| (t.clone(), d["sku"].as_str().unwrap().to_owned()))
        .collect();
    assert_eq!(
        recorded,
        [
            ("product.created".to_owned(), "RM-NEW-01".to_owned()),
            ("product.updated".to_owned(), "RM-SUGAR-02".to_owned())
        ]
    );

    // An applied import is not applied again.
    let id = r["id"].as_str().unwrap();
    let (s, b) = call(
        &app,
        Method::POST,
        &format!("/api/v1/imports/{id}/confirm"),
        &key,
        Some(json!({})),
    )
    .await;
    assert_eq!(s, 409, "{b}");
    // The same import through the older route.
    let (s, b) = call(
        &app,
        Method::GET,
        &format!("/api/v1/catalog/imports/{id}"),
        &key,
        None,
    )
    .await;
    assert_eq!((s, &b["outcomes"]), (200, &r["outcomes"]));
}

const BOMS_HEADER: &str =
    "product_code,version,item_product_code,item_qty,item_unit,operation_sequence,is_byproduct\n";

async fn seed_bakery(app: &TestApp, key: &str) {
    seed(
        app,
        key,
        json!([
            {"sku": "FG-BREAD-06", "name": "Rye bread", "uom": "EA"},
            {"sku": "FG-ROLL-07", "name": "Bread roll", "uom": "EA"},
            {"sku": "RM-FLOUR-01", "name": "Flour", "uom": "KG"},
            {"sku": "RM-SALT-04", "name": "Salt", "uom": "KG"},
            {"sku": "BY-BRAN-01", "name": "Bran", "uom": "KG"}
        ]),
    )
    .await;
}

async fn bom(app: &TestApp, sku: &str, version: i32) -> Vec<(String, String, String, bool)> {
    sqlx::query_as(
        "SELECT i.component_sku, i.qty::text, i.unit, i.is_byproduct FROM boms b
         JOIN bom_items i ON i.bom_id = b.id
         WHERE b.product_sku = $1 AND b.version = $2 ORDER BY i.line",
    )
    .bind(sku)
    .bind(version)
    .fetch_all(&app.pool)
    .await
    .unwrap()
}

#[sqlx::test(migrator = "switchyard_store::MIGRATOR")]
async fn bom_lines_are_checked_against_the_catalog_and_located(pool: sqlx::PgPool) {
    let app = spawn(pool).await;
    let key = app.key("a", &["write:catalog"]).await;
    seed_bakery(&app, &key).await;
    let file = format!(
        "{BOMS_HEADER}\
         FG-BREAD-06,1,RM-FLOUR-01,0.45,kg,10,false\n\
         FG-BREAD-06,1,RM-SALT-04,0.01,kg,10,no\n\
         FG-BREAD-06,1,BY-BRAN-01,0.02,kg,20,yes\n\
         FG-BREAD-06,2,RM-FLOUR-01,0.5,kg,,\n\
         FG-NOPE,1,RM-FLOUR-01,1,kg,,\n\
         FG-ROLL-07,1,RM-FLOUR-01,0,kg,,\n\
         FG-ROLL-07,v2,RM-FLOUR-01,1,kg,,\n\
         FG-ROLL-07,0,RM-FLOUR-01,1,kg,,\n\
         FG-ROLL-07,1,RM-GONE,1,kg,,\n\
         FG-ROLL-07,1,RM-SALT-04,1,pcs,,\n\
         FG-ROLL-07,1,RM-SALT-04,0.01,kg,,\n\
         FG-ROLL-07,1,RM-SALT-04,0.02,kg,,\n\
         FG-ROLL-07,1,FG-ROLL-07,1,EA,,\n\
         FG-ROLL-07,1,RM-FLOUR-01,1,kg,0,\n\
         FG-ROLL-07,1,RM-SALT-04,1,kg,,maybe\n"
    );
    let (s, r) = upload(
        &app,
        &key,
        "entity=boms&file_name=boms.csv",
        "text/csv",
        file.into_bytes(),
    )
    .await;
    assert_eq!(s, 201, "{r}");
    assert_eq!(
        (r["entity"].as_str(), r["mapping"].as_str()),
        (Some("boms"), Some("monopilot/bom.import"))
    );
    let at = |n: i64, f: &str, c: &str, v: &str| (n, f.to_owned(), c.to_owned(), v.to_owned());
    assert_eq!(
        located(&r),
        [
            at(5, "product_code", "A", "FG-NOPE"),
            at(6, "item_qty", "D", "0"),
            at(7, "version", "B", "v2"),
            at(8, "version", "B", "0"),
            at(9, "item_product_code", "C", "RM-GONE"),
            at(10, "item_unit", "E", "pcs"),
            at(12, "item_product_code", "C", "RM-SALT-04"),
            at(13, "item_product_code", "C", "FG-ROLL-07"),
            at(14, "operation_sequence", "F", "0"),
            at(15, "is_byproduct", "G", "maybe"),
        ],
        "{r}"
    );
    let m = messages(&r);
    assert!(
        m[0].contains("no product `FG-NOPE` in the catalog"),
        "{m:?}"
    );
    assert!(m[1].contains("greater than 0"), "{m:?}");
    assert!(m[2].contains("'v2' is not an integer"), "{m:?}");
    assert!(m[3].contains("from 1 up"), "{m:?}");
    assert!(m[4].contains("no product `RM-GONE`"), "{m:?}");
    assert!(
        m[5].contains("expected `KG`, the unit of component `RM-SALT-04`"),
        "{m:?}"
    );
    assert!(m[6].contains("already (row 11)"), "{m:?}");
    assert!(m[7].contains("its own BOM"), "{m:?}");
    assert!(m[8].contains("operation sequence"), "{m:?}");
    assert!(m[9].contains("'maybe' is not a boolean"), "{m:?}");

    let preview: Vec<(i64, String)> = r["preview"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["row"].as_i64().unwrap(),
                p["status"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(preview.len(), 5);
    assert_eq!(preview[0], (1, "new".to_owned()));
    assert_eq!(r["preview"][2]["product"]["is_byproduct"], true);
    assert_eq!(r["preview"][0]["product"]["item_unit"], "KG");

    // Confirmed: the two versions of the bread are applied whole; the roll's BOM has invalid
    // rows, so none of it is.
    let r = confirm(&app, &key, &r, json!({})).await;
    let got = outcomes(&r);
    assert_eq!(
        got[..4],
        [
            (1, "created".to_owned()),
            (2, "created".to_owned()),
            (3, "created".to_owned()),
            (4, "created".to_owned())
        ]
    );
    assert!(got[4..].iter().all(|(_, o)| o == "failed"), "{got:?}");
    assert!(
        r["outcomes"][10]["error"]
            .as_str()
            .unwrap()
            .contains("not applied"),
        "{r}"
    );
    assert_eq!(
        bom(&app, "FG-BREAD-06", 1).await,
        [
            (
                "RM-FLOUR-01".to_owned(),
                "0.45".to_owned(),
                "KG".to_owned(),
                false
            ),
            (
                "RM-SALT-04".to_owned(),
                "0.01".to_owned(),
                "KG".to_owned(),
                false
            ),
            (
                "BY-BRAN-01".to_owned(),
                "0.02".to_owned(),
                "KG".to_owned(),
                true
            ),
        ]
    );
    assert_eq!(bom(&app, "FG-BREAD-06", 2).await.len(), 1);
    assert_eq!(
        app.count("SELECT count(*) FROM boms WHERE product_sku = 'FG-ROLL-07'")
            .await,
        0
    );
    let created: Vec<Value> = events(&app)
        .await
        .into_iter()
        .filter(|(t, _)| t.starts_with("bom."))
        .map(|(t, d)| json!({"type": t, "version": d["version"], "items": d["items"]}))
        .collect();
    assert_eq!(
        created,
        [
            json!({"type": "bom.created", "version": 1, "items": 3}),
            json!({"type": "bom.created", "version": 2, "items": 1})
        ]
    );
}

#[sqlx::test(migrator = "switchyard_store::MIGRATOR")]
async fn bom_versions_follow_the_conflict_policy(pool: sqlx::PgPool) {
    let app = spawn(pool).await;
    let key = app.key("a", &["write:catalog"]).await;
    seed_bakery(&app, &key).await;
    let v1 = format!("{BOMS_HEADER}FG-BREAD-06,1,RM-FLOUR-01,0.45,kg,10,false\nFG-BREAD-06,1,RM-SALT-04,0.01,kg,10,false\n");
    let (_, r) = upload(&app, &key, "entity=boms", "text/csv", v1.into_bytes()).await;
    confirm(&app, &key, &r, json!({})).await;

    // Version 1 again with another quantity, and a new version 2.
    let next = format!(
        "{BOMS_HEADER}FG-BREAD-06,1,RM-FLOUR-01,0.5,kg,10,false\nFG-BREAD-06,1,RM-SALT-04,0.01,kg,10,false\n\
         FG-BREAD-06,2,RM-FLOUR-01,0.6,kg,10,false\n"
    );
    let (_, r) = upload(
        &app,
        &key,
        "entity=boms",
        "text/csv",
        next.clone().into_bytes(),
    )
    .await;
    let status: Vec<&str> = r["preview"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["status"].as_str().unwrap())
        .collect();
    assert_eq!(status, ["exists", "exists", "new"]);
    let r = confirm(&app, &key, &r, json!({"on_conflict": "skip"})).await;
    assert_eq!(
        outcomes(&r),
        [
            (1, "skipped".to_owned()),
            (2, "skipped".to_owned()),
            (3, "created".to_owned())
        ]
    );
    assert_eq!(bom(&app, "FG-BREAD-06", 1).await[0].1, "0.45");

    // skip for the import, update for version 1 by its first row.
    let (_, r) = upload(
        &app,
        &key,
        "entity=boms",
        "text/csv",
        next.clone().into_bytes(),
    )
    .await;
    let r = confirm(
        &app,
        &key,
        &r,
        json!({"on_conflict": "skip", "rows": {"1": "update"}}),
    )
    .await;
    assert_eq!(
        outcomes(&r),
        [
            (1, "updated".to_owned()),
            (2, "updated".to_owned()),
            (3, "skipped".to_owned())
        ]
    );
    assert_eq!(bom(&app, "FG-BREAD-06", 1).await[0].1, "0.5");

    // update with nothing different changes nothing.
    let (_, r) = upload(&app, &key, "entity=boms", "text/csv", next.into_bytes()).await;
    let r = confirm(&app, &key, &r, json!({"on_conflict": "update"})).await;
    assert!(outcomes(&r).iter().all(|(_, o)| o == "unchanged"), "{r}");

    let versions: Vec<i32> = sqlx::query_scalar("SELECT version FROM boms ORDER BY version")
        .fetch_all(&app.pool)
        .await
        .unwrap();
    assert_eq!(versions, [1, 2]);
    let types: Vec<String> = events(&app)
        .await
        .into_iter()
        .filter(|(t, _)| t.starts_with("bom."))
        .map(|(t, d)| format!("{t} v{} ({} items)", d["version"], d["items"]))
        .collect();
    assert_eq!(
        types,
        [
            "bom.created v1 (2 items)",
            "bom.created v2 (1 items)",
            "bom.updated v1 (2 items)"
        ]
    );
}

#[sqlx::test(migrator = "switchyard_store::MIGRATOR")]
async fn an_upload_above_the_import_limit_is_refused_naming_it(pool: sqlx::PgPool) {
    let app = spawn_with(
        pool,
        ApiConfig {
            body_limit_bytes: 1024,
            import_limit_bytes: 1024 * 1024,
            ..ApiConfig::default()
        },
    )
    .await;
    let key = app.key("a", &["write:catalog"]).await;
    // 10 MB: refused whole, with the limit and the setting that raises it.
    let (s, b) = upload(&app, &key, "", "text/csv", vec![b'x'; 10_000_000]).await;
    assert_eq!((s, code(&b)), (413, "payload_too_large"), "{b}");
    assert!(
        b["error"]["message"]
            .as_str()
            .unwrap()
            .contains("import_limit_bytes"),
        "{b}"
    );
    assert_eq!(b["error"]["details"]["limit_bytes"], 1024 * 1024);
    assert_eq!(app.count("SELECT count(*) FROM product_imports").await, 0);

    // Above the API's body limit but within the import limit: read.
    let mut file = PRODUCTS_HEADER.to_owned();
    for i in 0..400 {
        file.push_str(&format!("RM-{i:05},Product {i},raw_material,kg,,,,,A\n"));
    }
    assert!(file.len() > 1024);
    let (s, r) = upload(&app, &key, "", "text/csv", file.into_bytes()).await;
    assert_eq!(s, 201, "{r}");
    assert_eq!(r["totals"]["valid"], 400);
    assert_eq!(r["preview"].as_array().unwrap().len(), 10);
    // Other routes keep the API's limit.
    let (s, _) = call(
        &app,
        Method::PUT,
        "/api/v1/catalog/products",
        &key,
        Some(json!({"items": [{"sku": "A", "name": "x".repeat(2000)}]})),
    )
    .await;
    assert_eq!(s, 413);
}

#[sqlx::test(migrator = "switchyard_store::MIGRATOR")]
async fn imports_and_the_catalog_they_check_are_the_organizations_own(pool: sqlx::PgPool) {
    let app = spawn(pool).await;
    let a = app.key("a", &["write:catalog"]).await;
    let b = app.key("b", &["write:catalog"]).await;
    let reader = app.key("a", &["read:catalog"]).await;
    seed_bakery(&app, &a).await;
    let file = format!("{BOMS_HEADER}FG-BREAD-06,1,RM-FLOUR-01,0.45,kg,10,false\n");
    let (_, ra) = upload(
        &app,
        &a,
        "entity=boms",
        "text/csv",
        file.clone().into_bytes(),
    )
    .await;
    assert_eq!(ra["totals"]["valid"], 1, "{ra}");
    // b has none of a's products.
    let (_, rb) = upload(&app, &b, "entity=boms", "text/csv", file.into_bytes()).await;
    assert_eq!(rb["totals"]["invalid"], 1, "{rb}");
    assert!(
        messages(&rb)[0].contains("no product `FG-BREAD-06`"),
        "{rb}"
    );

    let id = ra["id"].as_str().unwrap();
    let (s, _) = call(
        &app,
        Method::GET,
        &format!("/api/v1/imports/{id}"),
        &b,
        None,
    )
    .await;
    assert_eq!(s, 404);
    let (s, _) = call(
        &app,
        Method::POST,
        &format!("/api/v1/imports/{id}/confirm"),
        &b,
        Some(json!({})),
    )
    .await;
    assert_eq!(s, 404);
    // Reading needs read:catalog, confirming write:catalog.
    let (s, _) = call(
        &app,
        Method::GET,
        &format!("/api/v1/imports/{id}"),
        &reader,
        None,
    )
    .await;
    assert_eq!(s, 200);
    let (s, body) = call(
        &app,
        Method::POST,
        &format!("/api/v1/imports/{id}/confirm"),
        &reader,
        Some(json!({})),
    )
    .await;
    assert_eq!(s, 403, "{body}");
    assert_eq!(app.count("SELECT count(*) FROM boms").await, 0);
}

#[sqlx::test(migrator = "switchyard_store::MIGRATOR")]
async fn a_finished_export_records_export_completed(pool: sqlx::PgPool) {
    let app = spawn(pool).await;
    let org = app.org("a").await;
    let id = uuid::Uuid::now_v7();
    sqlx::query(
        "INSERT INTO exports (id, org_id, entity, format, state, created_at)
         VALUES ($1, $2, 'orders', 'csv', 'pending', now())",
    )
    .bind(id)
    .bind(org.0)
    .execute(&app.pool)
    .await
    .unwrap();
    for sql in [
        "UPDATE exports SET state = 'running', rows_total = 3 WHERE id = $1",
        "UPDATE exports SET rows_done = 3 WHERE id = $1",
        "UPDATE exports SET state = 'succeeded', file_path = '/x.csv', bytes = 120,
             finished_at = now(), expires_at = now() + interval '24 hours' WHERE id = $1",
        // Expiry later is not a second completion.
        "UPDATE exports SET state = 'expired' WHERE id = $1",
    ] {
        sqlx::query(sql).bind(id).execute(&app.pool).await.unwrap();
    }
    let recorded = events(&app).await;
    assert_eq!(recorded.len(), 1, "{recorded:?}");
    let (t, d) = &recorded[0];
    assert_eq!(t, "export.completed");
    assert_eq!(d["export_id"], id.to_string());
    assert_eq!(
        (d["rows"].as_i64(), d["bytes"].as_i64()),
        (Some(3), Some(120))
    );
    assert_eq!(d["download"], format!("/api/v1/exports/{id}/download"));
}

/// A BOM workbook with a `Products` sheet: the sheet is a product import of its own, its
/// valid rows' products count when the BOM lines are checked (an invalid one does not, and
/// the line naming it says where to look), and confirming the BOMs applies the products first.
#[sqlx::test(migrator = "switchyard_store::MIGRATOR")]
async fn a_bom_workbook_brings_its_components_on_a_products_sheet(pool: sqlx::PgPool) {
    let app = spawn(pool).await;
    let key = app.key("a", &["write:catalog", "read:catalog"]).await;
    seed_bakery(&app, &key).await;
    let products: Vec<&str> = PRODUCTS_HEADER.trim().split(',').collect();
    let boms: Vec<&str> = BOMS_HEADER.trim().split(',').collect();
    let book = workbook_of(&[
        (
            "Products",
            &[
                &products,
                &[
                    "FG-CAKE-01",
                    "Sponge cake",
                    "finished_good",
                    "pcs",
                    "",
                    "eggs, milk",
                    "5",
                    "chilled",
                    "A",
                ],
                &[
                    "rm-sugar-02",
                    "Sugar",
                    "raw_material",
                    "kg",
                    "",
                    "",
                    "720",
                    "ambient",
                    "A",
                ],
                &[
                    "FG-TART-04",
                    "Tart",
                    "finished_good",
                    "pcs",
                    "",
                    "",
                    "3",
                    "chilled",
                    "A",
                ],
                &[
                    "RM-JAM-05",
                    "Jam",
                    "intermediate",
                    "kg",
                    "",
                    "",
                    "",
                    "",
                    "A",
                ],
            ],
        ),
        (
            "BOMs",
            &[
                &boms,
                &["FG-CAKE-01", "1", "RM-SUGAR-02", "0.2", "kg", "10", "false"],
                &["FG-CAKE-01", "1", "RM-FLOUR-01", "0.3", "kg", "10", "false"],
                &["FG-TART-04", "1", "RM-JAM-05", "0.1", "kg", "", ""],
                &["FG-TART-04", "2", "RM-NONE-09", "0.1", "kg", "", ""],
            ],
        ),
    ]);
    let (s, r) = upload(&app, &key, "entity=boms&file_name=bakery.xlsx", XLSX, book).await;
    assert_eq!(s, 201, "{r}");
    assert_eq!(
        (r["entity"].as_str(), r["format"].as_str()),
        (Some("boms"), Some("xlsx"))
    );
    let at = |n: i64, f: &str, c: &str, v: &str| (n, f.to_owned(), c.to_owned(), v.to_owned());
    assert_eq!(
        located(&r),
        [
            at(3, "item_product_code", "C", "RM-JAM-05"),
            at(4, "item_product_code", "C", "RM-NONE-09"),
        ],
        "{r}"
    );
    assert!(
        messages(&r)[0].contains("among the valid rows of the workbook's Products sheet"),
        "{r}"
    );
    assert_eq!(
        (
            r["totals"]["valid"].as_i64(),
            r["totals"]["invalid"].as_i64()
        ),
        (Some(2), Some(2))
    );

    // The sheet is a product import, shown like any, with its own errors.
    let products_id = r["products_import"]
        .as_str()
        .expect("the products sheet's import");
    let (s, p) = call(
        &app,
        Method::GET,
        &format!("/api/v1/imports/{products_id}"),
        &key,
        None,
    )
    .await;
    assert_eq!(s, 200, "{p}");
    assert_eq!(
        (p["entity"].as_str(), p["state"].as_str()),
        (Some("products"), Some("validated"))
    );
    assert_eq!(
        (
            p["totals"]["valid"].as_i64(),
            p["totals"]["invalid"].as_i64()
        ),
        (Some(3), Some(1))
    );
    assert_eq!(located(&p), [at(4, "type", "C", "intermediate")], "{p}");
    assert!(p["products_import"].is_null());
    assert_eq!(
        app.count("SELECT count(*) FROM products WHERE sku IN ('FG-CAKE-01', 'RM-SUGAR-02')")
            .await,
        0
    );

    // Confirming the BOMs applies the products first, then the BOMs that can be applied.
    let r = confirm(&app, &key, &r, json!({"on_conflict": "skip"})).await;
    assert_eq!(
        outcomes(&r),
        [
            (1, "created".to_owned()),
            (2, "created".to_owned()),
            (3, "failed".to_owned()),
            (4, "failed".to_owned())
        ],
        "{r}"
    );
    assert_eq!(
        bom(&app, "FG-CAKE-01", 1).await,
        [
            (
                "RM-SUGAR-02".to_owned(),
                "0.2".to_owned(),
                "KG".to_owned(),
                false
            ),
            (
                "RM-FLOUR-01".to_owned(),
                "0.3".to_owned(),
                "KG".to_owned(),
                false
            )
        ]
    );
    let (_, p) = call(
        &app,
        Method::GET,
        &format!("/api/v1/imports/{products_id}"),
        &key,
        None,
    )
    .await;
    assert_eq!(p["state"], "applied", "{p}");
    assert_eq!(
        outcomes(&p),
        [
            (1, "created".to_owned()),
            (2, "created".to_owned()),
            (3, "created".to_owned()),
            (4, "failed".to_owned())
        ],
        "{p}"
    );
    assert_eq!(
        app.count("SELECT count(*) FROM products WHERE sku IN ('FG-CAKE-01', 'RM-SUGAR-02', 'FG-TART-04') AND uom IN ('EA', 'KG')").await,
        3
    );
    assert_eq!(
        app.count("SELECT count(*) FROM products WHERE sku = 'RM-JAM-05'")
            .await,
        0
    );
    let (s, b) = call(
        &app,
        Method::POST,
        &format!("/api/v1/imports/{products_id}/confirm"),
        &key,
        Some(json!({})),
    )
    .await;
    assert_eq!(s, 409, "applied with its BOMs: {b}");

    // A BOM workbook without a Products sheet checks against the catalog alone, as before.
    let book = workbook(
        "BOMs",
        &[&boms, &["FG-ROLL-07", "1", "RM-NONE-09", "1", "kg", "", ""]],
    );
    let (s, r) = upload(&app, &key, "entity=boms", XLSX, book).await;
    assert_eq!(s, 201, "{r}");
    assert!(r["products_import"].is_null(), "{r}");
    assert!(
        messages(&r)[0].ends_with("in the catalog; import the component first"),
        "{r}"
    );
}

/// A `multipart/form-data` body as a browser's file input sends it: `fields` as text parts,
/// then the file part.
fn form(fields: &[(&str, &str)], file: Option<(&str, &str, &[u8])>) -> (String, Vec<u8>) {
    const BOUNDARY: &str = "----switchyard-form-7MA4YWxkTrZu0gW";
    let mut body = Vec::new();
    for (name, value) in fields {
        body.extend_from_slice(
            format!("--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n")
                .as_bytes(),
        );
    }
    if let Some((file_name, content_type, bytes)) = file {
        body.extend_from_slice(
            format!(
                "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{file_name}\"\r\nContent-Type: {content_type}\r\n\r\n"
            )
            .as_bytes(),
        );
        body.extend_from_slice(bytes);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={BOUNDARY}"), body)
}

#[sqlx::test(migrator = "switchyard_store::MIGRATOR")]
async fn a_form_upload_is_read_like_a_plain_one_within_the_import_limit(pool: sqlx::PgPool) {
    let app = spawn_with(
        pool,
        ApiConfig {
            body_limit_bytes: 1024,
            import_limit_bytes: 64 * 1024,
            ..ApiConfig::default()
        },
    )
    .await;
    let key = app.key("a", &["write:catalog"]).await;
    seed_bakery(&app, &key).await;

    // A CSV file as Excel-on-Windows browsers label it, above the API's body limit: read as
    // CSV by its name, named by its part.
    let mut csv = PRODUCTS_HEADER.to_owned();
    for i in 0..40 {
        csv.push_str(&format!(
            "RM-F{i:03},Form product {i},raw_material,kg,,,,,A\n"
        ));
    }
    assert!(csv.len() > 1024);
    let (ct, body) = form(
        &[],
        Some((
            "from a form.csv",
            "application/vnd.ms-excel",
            csv.as_bytes(),
        )),
    );
    let (s, r) = upload(&app, &key, "", &ct, body).await;
    assert_eq!(s, 201, "{r}");
    assert_eq!(
        (
            r["file_name"].as_str(),
            r["format"].as_str(),
            r["entity"].as_str()
        ),
        (Some("from a form.csv"), Some("csv"), Some("products"))
    );
    assert_eq!(r["totals"]["valid"], 40, "{r}");
    let r = confirm(&app, &key, &r, json!({})).await;
    assert_eq!(r["totals"]["created"], 40, "{r}");

    // The query's parameters as fields; an XLSX workbook sent as bytes, known by its name.
    let boms: Vec<&str> = BOMS_HEADER.trim().split(',').collect();
    let book = workbook(
        "BOMs",
        &[&boms, &["FG-ROLL-07", "1", "RM-F001", "2", "kg", "", ""]],
    );
    let (ct, body) = form(
        &[("entity", "boms"), ("file_name", "rolls.xlsx")],
        Some(("upload.bin.xlsx", "application/octet-stream", &book)),
    );
    let (s, r) = upload(&app, &key, "", &ct, body).await;
    assert_eq!(s, 201, "{r}");
    assert_eq!(
        (
            r["entity"].as_str(),
            r["format"].as_str(),
            r["file_name"].as_str()
        ),
        (Some("boms"), Some("xlsx"), Some("rolls.xlsx"))
    );
    assert_eq!(r["totals"]["valid"], 1, "{r}");

    // Refused, each naming what is wrong: no file, a field given twice, a field unknown, a
    // file of a type the mapping cannot read.
    let refused = |s: u16, b: &Value, code_: &str, says: &str| {
        assert_eq!(code(b), code_, "{s}: {b}");
        let m = b["error"]["message"].as_str().unwrap();
        assert!(m.contains(says), "`{says}` in {m}");
    };
    let (ct, body) = form(&[("entity", "products")], None);
    let (s, b) = upload(&app, &key, "", &ct, body).await;
    assert_eq!(s, 422, "{b}");
    refused(s, &b, "validation_failed", "no `file` part");
    let (ct, body) = form(
        &[("entity", "boms")],
        Some(("p.csv", "text/csv", csv.as_bytes())),
    );
    let (s, b) = upload(&app, &key, "entity=products", &ct, body).await;
    assert_eq!(s, 422, "{b}");
    refused(s, &b, "validation_failed", "entity: given twice");
    let (ct, body) = form(
        &[("sheet", "x")],
        Some(("p.csv", "text/csv", csv.as_bytes())),
    );
    let (s, b) = upload(&app, &key, "", &ct, body).await;
    assert_eq!(s, 422, "{b}");
    refused(s, &b, "validation_failed", "`sheet`: not a field");
    let (ct, body) = form(&[], Some(("p.pdf", "application/pdf", b"%PDF-1.4")));
    let (s, b) = upload(&app, &key, "", &ct, body).await;
    assert_eq!(s, 415, "{b}");
    let (s, b) = upload(&app, &key, "", "multipart/form-data", b"x".to_vec()).await;
    assert_eq!(s, 400, "a form without a boundary: {b}");

    // Above the import limit: 413 naming it, and nothing stored.
    let before = app.count("SELECT count(*) FROM product_imports").await;
    let big = vec![b'x'; 200 * 1024];
    let (ct, body) = form(&[], Some(("big.csv", "text/csv", &big)));
    let (s, b) = upload(&app, &key, "", &ct, body).await;
    assert_eq!((s, code(&b)), (413, "payload_too_large"), "{b}");
    assert!(
        b["error"]["message"]
            .as_str()
            .unwrap()
            .contains("import_limit_bytes"),
        "{b}"
    );
    assert_eq!(
        app.count("SELECT count(*) FROM product_imports").await,
        before
    );
}
