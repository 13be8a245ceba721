//! Product imports over HTTP against the repository's own mapping files and fixture
//! (fixtures/imports/monopilot-products.csv: 16 rows, four of them bad): errors by row and
//! field, a preview of exactly 10 rows marked new/exists, confirmation with skip, update and
//! per-row overrides landing in the products table and the change feed, a second confirmation
//! applying nothing, JSON and XML files, tenancy and scopes.

use crate::common::{code, json, TestApp};
use reqwest::Method;
use serde_json::{json, Value};
use std::path::PathBuf;
use std::sync::Arc;
use switchyard_mapping::MappingRegistry;

const MONOPILOT: &str = "monopilot/product.import";

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn fixture() -> Vec<u8> {
    std::fs::read(repo().join("fixtures/imports/monopilot-products.csv")).unwrap()
}

async fn spawn(pool: sqlx::PgPool) -> TestApp {
    let (registry, report) = MappingRegistry::load(repo().join("mappings"));
    assert!(report.is_clean(), "{:?}", report.failed);
    TestApp::builder(pool)
        .mappings(Arc::new(registry))
        .spawn()
        .await
}

async fn upload(
    app: &TestApp,
    key: &str,
    mapping: &str,
    content_type: &str,
    body: Vec<u8>,
) -> (u16, Value) {
    let resp = app
        .client
        .post(format!(
            "{}/api/v1/catalog/imports?mapping={mapping}&file_name=products.csv",
            app.base
        ))
        .bearer_auth(key)
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .unwrap();
    json(resp).await
}

pub(crate) async fn call(
    app: &TestApp,
    method: Method,
    path: &str,
    key: &str,
    body: Option<Value>,
) -> (u16, Value) {
    json(app.call(method, path, Some(key), body).await).await
}

/// Seed products through the REST upsert, as a core system would.
pub(crate) async fn seed(app: &TestApp, key: &str, items: Value) {
    let (s, b) = call(
        app,
        Method::PUT,
        "/api/v1/catalog/products",
        key,
        Some(json!({"items": items})),
    )
    .await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(b["rejected"], 0, "{b}");
}

async fn confirm_import(app: &TestApp, key: &str, id: &str, body: Value) -> (u16, Value) {
    let path = format!("/api/v1/catalog/imports/{id}/confirm");
    call(app, Method::POST, &path, key, Some(body)).await
}

async fn product(app: &TestApp, key: &str, sku: &str) -> (u16, Value) {
    call(
        app,
        Method::GET,
        &format!("/api/v1/catalog/products/{sku}"),
        key,
        None,
    )
    .await
}

async fn feed_head(app: &TestApp, key: &str) -> i64 {
    let (s, b) = call(
        app,
        Method::GET,
        "/api/v1/catalog/changes?entity=catalog&after=0",
        key,
        None,
    )
    .await;
    assert_eq!(s, 200, "{b}");
    b["head"].as_i64().unwrap()
}

async fn changed_after(app: &TestApp, key: &str, after: i64) -> Vec<String> {
    let (s, b) = call(
        app,
        Method::GET,
        &format!("/api/v1/catalog/changes?entity=catalog&after={after}&limit=500"),
        key,
        None,
    )
    .await;
    assert_eq!(s, 200, "{b}");
    let mut skus: Vec<String> = b["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["sku"].as_str().unwrap().to_owned())
        .collect();
    skus.sort();
    skus
}

fn errors_by_row(report: &Value) -> Vec<(i64, String, String)> {
    report["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["row"].as_i64().unwrap(),
                e["field"].as_str().unwrap().to_owned(),
                e["message"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

/// `(row, field)` of every error.
fn located(report: &Value) -> Vec<(i64, String)> {
    errors_by_row(report)
        .into_iter()
        .map(|(n, f, _)| (n, f))
        .collect()
}

fn outcome_of(report: &Value, sku: &str) -> String {
    report["outcomes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["sku"] == sku)
        .unwrap_or_else(|| panic!("no outcome for {sku}: {report}"))["outcome"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[sqlx::test(migrator = "switchyard_store::MIGRATOR")]
async fn upload_reports_errors_by_row_and_field_and_previews_ten_rows(pool: sqlx::PgPool) {
    let app = spawn(pool).await;
    let key = app.key("a", &["write:catalog"]).await;
    seed(
        &app,
        &key,
        json!([{"sku": "RM-SUGAR-02", "name": "Old sugar", "uom": "KG"}]),
    )
    .await;

    let (s, r) = upload(&app, &key, MONOPILOT, "text/csv", fixture()).await;
    assert_eq!(s, 201, "{r}");
    assert_eq!(r["state"], "validated");
    assert_eq!(r["format"], "csv");
    assert_eq!(r["file_name"], "products.csv");
    assert_eq!(r["totals"]["rows"], 16);
    assert_eq!(r["totals"]["valid"], 12);
    assert_eq!(r["totals"]["invalid"], 4);
    let errors = errors_by_row(&r);
    let at: Vec<(i64, &str)> = errors.iter().map(|(n, f, _)| (*n, f.as_str())).collect();
    assert_eq!(
        at,
        [
            (4, "product_code"),
            (9, "type"),
            (11, "unit"),
            (12, "product_code")
        ],
        "{r}"
    );
    assert!(errors[0].2.contains("missing"), "{errors:?}");
    assert!(
        errors[1].2.contains("'packaging' is not one of"),
        "{errors:?}"
    );
    assert!(errors[2].2.contains("'litre'"), "{errors:?}");
    assert!(errors[3].2.contains("duplicate"), "{errors:?}");
    assert_eq!(r["errors"][0]["target"], "sku");
    assert_eq!(r["errors"][0]["location"], "record 4, CSV line 5");

    // Exactly the first 10 valid rows, the one whose SKU exists marked so.
    let preview = r["preview"].as_array().unwrap();
    let rows: Vec<i64> = preview.iter().map(|p| p["row"].as_i64().unwrap()).collect();
    assert_eq!(rows, [1, 2, 3, 5, 6, 7, 8, 10, 13, 14]);
    let exists: Vec<&str> = preview
        .iter()
        .filter(|p| p["status"] == "exists")
        .map(|p| p["sku"].as_str().unwrap())
        .collect();
    assert_eq!(exists, ["RM-SUGAR-02"]);
    assert_eq!(preview[2]["product"]["base_uom"], "L");
    assert_eq!(
        preview[5]["product"]["attributes"]["allergens"],
        json!(["gluten", "sesame"])
    );

    // Nothing is applied before confirmation; the import reads back the same.
    assert_eq!(product(&app, &key, "FG-BREAD-06").await.0, 404);
    let id = r["id"].as_str().unwrap();
    let (s, again) = call(
        &app,
        Method::GET,
        &format!("/api/v1/catalog/imports/{id}"),
        &key,
        None,
    )
    .await;
    assert_eq!(s, 200, "{again}");
    assert_eq!(again["errors"], r["errors"]);
    assert_eq!(again["preview"], r["preview"]);
    assert_eq!(again["outcomes"], json!([]));
    // Every row is stored, the bad ones with their source record.
    assert_eq!(
        app.count("SELECT count(*) FROM product_import_rows WHERE product IS NULL AND source->>'name' = 'Mystery powder'").await,
        1
    );

    // The wrong content type, an unknown mapping, a mapping that makes no products.
    let (s, b) = upload(&app, &key, MONOPILOT, "application/json", fixture()).await;
    assert_eq!((s, code(&b)), (415, "unsupported_media_type"), "{b}");
    assert!(
        b["error"]["message"].as_str().unwrap().contains("text/csv"),
        "{b}"
    );
    let (s, b) = upload(&app, &key, "monopilot/nope", "text/csv", fixture()).await;
    assert_eq!((s, code(&b)), (422, "validation_failed"), "{b}");
    let (s, b) = upload(
        &app,
        &key,
        "storefront/product.out",
        "application/json",
        b"[]".to_vec(),
    )
    .await;
    assert_eq!((s, code(&b)), (422, "validation_failed"), "{b}");
}

#[sqlx::test(migrator = "switchyard_store::MIGRATOR")]
async fn the_template_is_the_mappings_header_row(pool: sqlx::PgPool) {
    let app = spawn(pool).await;
    let key = app.key("a", &["read:catalog"]).await;
    let resp = app
        .get(
            "/api/v1/catalog/import-templates/monopilot%2Fproduct.import",
            &key,
        )
        .await;
    assert_eq!(resp.status(), 200);
    assert!(resp.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/csv"));
    assert_eq!(
        resp.text().await.unwrap(),
        "product_code,name,type,unit,description,allergens,shelf_life_days,storage_temp,tax_code\n"
    );
    let (s, b) = json(
        app.get("/api/v1/catalog/import-templates/monopilot%2Fnope", &key)
            .await,
    )
    .await;
    assert_eq!((s, code(&b)), (404, "not_found"), "{b}");
    let (s, b) = json(
        app.get(
            "/api/v1/catalog/import-templates/imports%2Fproducts.json",
            &key,
        )
        .await,
    )
    .await;
    assert_eq!((s, code(&b)), (422, "validation_failed"), "{b}");
}

#[sqlx::test(migrator = "switchyard_store::MIGRATOR")]
async fn confirm_applies_valid_rows_with_skip_and_per_row_update_once(pool: sqlx::PgPool) {
    let app = spawn(pool).await;
    let key = app.key("a", &["write:catalog"]).await;
    seed(
        &app,
        &key,
        json!([
            {"sku": "RM-SUGAR-02", "name": "Old sugar", "uom": "KG"},
            {"sku": "RM-SALT-04", "name": "Old salt", "uom": "KG", "gtin": "12345670", "web_visible": true,
             "category": "Bakery > Dry", "attributes": {"origin": "PL"}}
        ]),
    )
    .await;
    let (_, r) = upload(&app, &key, MONOPILOT, "text/csv", fixture()).await;
    let id = r["id"].as_str().unwrap().to_owned();

    // Overrides must name valid rows.
    let (s, b) = confirm_import(&app, &key, &id, json!({"rows": {"4": "update"}})).await;
    assert_eq!((s, code(&b)), (422, "validation_failed"), "{b}");
    assert!(
        b["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("rows.4:"),
        "{b}"
    );
    let (s, b) = confirm_import(&app, &key, &id, json!({"rows": {"99": "skip"}})).await;
    assert_eq!((s, code(&b)), (422, "validation_failed"), "{b}");
    let (s, b) = confirm_import(&app, &key, &id, json!({"on_conflict": "merge"})).await;
    assert_eq!(s, 422, "{b}");

    let head = feed_head(&app, &key).await;
    let (s, r) = confirm_import(
        &app,
        &key,
        &id,
        json!({"on_conflict": "skip", "rows": {"5": "update"}}),
    )
    .await;
    assert_eq!(s, 200, "{r}");
    assert_eq!(r["state"], "applied");
    assert_eq!(r["on_conflict"], "skip");
    let t = &r["totals"];
    assert_eq!(
        (
            t["created"].as_i64(),
            t["updated"].as_i64(),
            t["skipped"].as_i64(),
            t["failed"].as_i64()
        ),
        (Some(10), Some(1), Some(1), Some(4)),
        "{r}"
    );
    assert_eq!(r["outcomes"].as_array().unwrap().len(), 16);
    assert_eq!(outcome_of(&r, "RM-SUGAR-02"), "skipped");
    assert_eq!(outcome_of(&r, "RM-SALT-04"), "updated");
    let invalid = r["outcomes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["row"] == 9)
        .unwrap();
    assert_eq!(invalid["outcome"], "failed");
    assert!(
        invalid["error"].as_str().unwrap().contains("type:"),
        "{invalid}"
    );

    // The skipped product kept its name; the overridden one took the file's fields and kept
    // what the template has no column for.
    assert_eq!(
        product(&app, &key, "RM-SUGAR-02").await.1["name"],
        "Old sugar"
    );
    let (_, salt) = product(&app, &key, "RM-SALT-04").await;
    assert_eq!(salt["name"], "Salt");
    assert_eq!(salt["long_description"], "Iodised");
    assert_eq!(salt["gtin"], "12345670");
    assert_eq!(salt["category"], "Bakery > Dry");
    assert_eq!(salt["web_visible"], true);
    assert_eq!(salt["product_type"], "raw_material");
    assert_eq!(
        salt["attributes"],
        json!({"origin": "PL", "storage_temp": "dry"})
    );
    // A new product, with what the products table keeps of the template.
    let (s, bread) = product(&app, &key, "FG-BREAD-06").await;
    assert_eq!(s, 200, "{bread}");
    assert_eq!(bread["name"], "Rye bread 500 g");
    assert_eq!(bread["uom"], "EA");
    assert_eq!(bread["product_type"], "finished_good");
    assert_eq!(bread["tax_code"], "B");
    assert_eq!(bread["web_visible"], false);
    assert_eq!(
        bread["attributes"],
        json!({"allergens": ["gluten", "sesame"], "shelf_life_days": 5, "storage_temp": "ambient"})
    );

    // The change feed moved for every product written (a catalog sync would push them), not
    // for the skipped one.
    let changed = changed_after(&app, &key, head).await;
    assert_eq!(changed.len(), 11, "{changed:?}");
    assert!(changed.contains(&"RM-SALT-04".to_owned()));
    assert!(!changed.contains(&"RM-SUGAR-02".to_owned()));

    // Confirming again applies nothing.
    let head = feed_head(&app, &key).await;
    let (s, b) = confirm_import(&app, &key, &id, json!({"on_conflict": "update"})).await;
    assert_eq!((s, code(&b)), (409, "conflict"), "{b}");
    assert_eq!(b["error"]["details"]["state"], "applied");
    assert_eq!(feed_head(&app, &key).await, head);
    assert_eq!(
        product(&app, &key, "RM-SUGAR-02").await.1["name"],
        "Old sugar"
    );
    let (_, r2) = call(
        &app,
        Method::GET,
        &format!("/api/v1/catalog/imports/{id}"),
        &key,
        None,
    )
    .await;
    assert_eq!(r2["outcomes"], r["outcomes"]);
}

#[sqlx::test(migrator = "switchyard_store::MIGRATOR")]
async fn update_policy_changes_existing_products_and_unchanged_rows_leave_the_feed(
    pool: sqlx::PgPool,
) {
    let app = spawn(pool).await;
    let key = app.key("a", &["write:catalog"]).await;
    seed(
        &app,
        &key,
        json!([{"sku": "RM-SUGAR-02", "name": "Old sugar", "uom": "KG"}]),
    )
    .await;
    let (_, r) = upload(&app, &key, MONOPILOT, "text/csv", fixture()).await;
    let id = r["id"].as_str().unwrap();
    let (s, r) = confirm_import(&app, &key, id, json!({"on_conflict": "update"})).await;
    assert_eq!(s, 200, "{r}");
    assert_eq!(outcome_of(&r, "RM-SUGAR-02"), "updated");
    assert_eq!(product(&app, &key, "RM-SUGAR-02").await.1["name"], "Sugar");

    // The same file again, updating: every product is as the file says, nothing is written.
    let head = feed_head(&app, &key).await;
    let (_, r) = upload(&app, &key, MONOPILOT, "text/csv", fixture()).await;
    assert_eq!(
        r["preview"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|p| p["status"] == "exists")
            .count(),
        10
    );
    let id = r["id"].as_str().unwrap();
    let (s, r) = confirm_import(&app, &key, id, json!({"on_conflict": "update"})).await;
    assert_eq!(s, 200, "{r}");
    assert_eq!(r["totals"]["unchanged"], 12, "{r}");
    assert_eq!(feed_head(&app, &key).await, head);
}

#[sqlx::test(migrator = "switchyard_store::MIGRATOR")]
async fn another_orgs_import_is_404_and_reading_does_not_confirm(pool: sqlx::PgPool) {
    let app = spawn(pool).await;
    let writer = app.key("a", &["write:catalog"]).await;
    let reader = app.key("a", &["read:catalog"]).await;
    let stranger = app.key("b", &["write:catalog"]).await;
    let (_, r) = upload(&app, &writer, MONOPILOT, "text/csv", fixture()).await;
    let id = r["id"].as_str().unwrap();
    let path = format!("/api/v1/catalog/imports/{id}");
    let confirm = format!("{path}/confirm");

    assert_eq!(call(&app, Method::GET, &path, &reader, None).await.0, 200);
    let (s, b) = call(&app, Method::GET, &path, &stranger, None).await;
    assert_eq!((s, code(&b)), (404, "not_found"), "{b}");
    let (s, b) = call(&app, Method::POST, &confirm, &stranger, Some(json!({}))).await;
    assert_eq!((s, code(&b)), (404, "not_found"), "{b}");
    let (s, b) = call(&app, Method::POST, &confirm, &reader, Some(json!({}))).await;
    assert_eq!((s, code(&b)), (403, "forbidden"), "{b}");
    let (s, b) = upload(&app, &reader, MONOPILOT, "text/csv", fixture()).await;
    assert_eq!((s, code(&b)), (403, "forbidden"), "{b}");
    assert_eq!(app.count("SELECT count(*) FROM products").await, 0);
    assert_eq!(
        app.count("SELECT count(*) FROM product_imports WHERE state = 'validated'")
            .await,
        1
    );
}

#[sqlx::test(migrator = "switchyard_store::MIGRATOR")]
async fn json_and_xml_files_import_through_their_mappings(pool: sqlx::PgPool) {
    let app = spawn(pool).await;
    let key = app.key("a", &["write:catalog"]).await;
    let json_file = json!({"products": [
        {"code": "rm-yeast-01", "name": "Fresh yeast", "kind": "raw_material", "unit": "kg",
         "allergens": ["none"], "shelf_life_days": 30},
        {"code": "FG-ROLL-02", "name": "Bread roll", "kind": "finished_good", "unit": "box"}
    ]});
    let (s, r) = upload(
        &app,
        &key,
        "imports/products.json",
        "application/json",
        json_file.to_string().into_bytes(),
    )
    .await;
    assert_eq!(s, 201, "{r}");
    assert_eq!(r["format"], "json");
    assert_eq!(located(&r), [(2, "unit".to_owned())]);
    let id = r["id"].as_str().unwrap();
    let (s, r) = confirm_import(&app, &key, id, json!({})).await;
    assert_eq!(s, 200, "{r}");
    assert_eq!(outcome_of(&r, "RM-YEAST-01"), "created");
    assert_eq!(
        product(&app, &key, "RM-YEAST-01").await.1["attributes"]["shelf_life_days"],
        30
    );

    let xml = r#"<?xml version="1.0"?>
<Products>
  <Product code="sf-glaze-01"><Name>Sugar glaze</Name><Type>semi_finished</Type><Unit>kg</Unit><StorageTemp>2-8°C</StorageTemp></Product>
  <Product code="FG-BUN-02"><Name>Sweet bun</Name><Type>bun</Type><Unit>pcs</Unit></Product>
</Products>"#;
    let (s, b) = upload(&app, &key, "imports/products.xml", "text/csv", xml.into()).await;
    assert_eq!((s, code(&b)), (415, "unsupported_media_type"), "{b}");
    let (s, r) = upload(
        &app,
        &key,
        "imports/products.xml",
        "application/xml",
        xml.into(),
    )
    .await;
    assert_eq!(s, 201, "{r}");
    assert_eq!(r["format"], "xml");
    assert_eq!(located(&r), [(2, "Type".to_owned())]);
    let id = r["id"].as_str().unwrap();
    let (s, r) = confirm_import(&app, &key, id, json!({})).await;
    assert_eq!(s, 200, "{r}");
    let (_, glaze) = product(&app, &key, "SF-GLAZE-01").await;
    assert_eq!(glaze["product_type"], "semi_finished");
    assert_eq!(glaze["attributes"]["storage_temp"], "2-8°C");
}

#[sqlx::test(migrator = "switchyard_store::MIGRATOR")]
async fn an_unreadable_file_is_kept_with_its_error_and_cannot_be_confirmed(pool: sqlx::PgPool) {
    let app = spawn(pool).await;
    let key = app.key("a", &["write:catalog"]).await;
    let (s, r) = upload(
        &app,
        &key,
        "imports/products.json",
        "application/json",
        b"{\"products\": [".to_vec(),
    )
    .await;
    assert_eq!(s, 201, "{r}");
    assert_eq!(r["state"], "failed");
    assert!(
        r["error"].as_str().unwrap().contains("not valid json"),
        "{r}"
    );
    let id = r["id"].as_str().unwrap();
    let (s, b) = confirm_import(&app, &key, id, json!({})).await;
    assert_eq!((s, code(&b)), (409, "conflict"), "{b}");

    // A NUL in a cell is kept (escaped) as the row's error, not a server error.
    let (s, r) = upload(
        &app,
        &key,
        MONOPILOT,
        "text/csv",
        b"product_code,name,type,unit\nA-1,Bad\0name,raw_material,kg\n".to_vec(),
    )
    .await;
    assert_eq!(s, 201, "{r}");
    assert_eq!(errors_by_row(&r)[0].0, 1);
    assert_eq!(errors_by_row(&r)[0].1, "name");
}
