//! The fake's bulk mutations over real HTTP, driven by hand (not by the adapter): it refuses
//! what Shopify refuses (an upload missing or altering a signed parameter, a path naming no
//! uploaded file, a mutation bulk does not run, a second operation while one runs) and serves
//! a result file with one line per input line carrying `__lineNumber`; `bulkOperationCancel`
//! takes a running operation CANCELING then CANCELED with the lines it ran, and refuses an
//! unknown or finished one.

use serde_json::{json, Value};
use switchyard_shopify::fake::{BulkStatus, FakeBulkCancel, FakeShopify, FakeShopifyConfig};
use switchyard_shopify::ApiVersion;

async fn gql(fake: &FakeShopify, query: &str, variables: Value) -> Value {
    let res = reqwest::Client::new()
        .post(fake.endpoint(ApiVersion::V2026_04))
        .header("X-Shopify-Access-Token", fake.token())
        .json(&json!({"query": query, "variables": variables}))
        .send()
        .await
        .expect("fake reachable");
    assert_eq!(res.status().as_u16(), 200);
    res.json().await.expect("json")
}

const STAGE: &str = "mutation($input: [StagedUploadInput!]!) { stagedUploadsCreate(input: $input) { stagedTargets { url parameters { name value } } userErrors { field message } } }";
const RUN: &str = "mutation($m: String!, $p: String!) { bulkOperationRunMutation(mutation: $m, stagedUploadPath: $p) { bulkOperation { id status } userErrors { field message code } } }";
const POLL: &str = "query($id: ID!) { bulkOperation(id: $id) { id status errorCode objectCount url partialDataUrl } }";
const SET: &str = "mutation($input: ProductSetInput!, $identifier: ProductSetIdentifiers) { productSet(input: $input, identifier: $identifier) { product { id } userErrors { field message code } } }";

/// A staged target: (url, parameters).
async fn stage(fake: &FakeShopify) -> (String, Vec<(String, String)>) {
    let body = gql(
        fake,
        STAGE,
        json!({"input": [{"resource": "BULK_MUTATION_VARIABLES", "filename": "vars.jsonl", "mimeType": "text/jsonl", "httpMethod": "POST"}]}),
    )
    .await;
    let t = &body["data"]["stagedUploadsCreate"]["stagedTargets"][0];
    let params = t["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["name"].as_str().unwrap().to_owned(),
                p["value"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    (t["url"].as_str().unwrap().to_owned(), params)
}

/// POST a form of `fields` then the file, as GCS receives it; the status.
async fn upload(url: &str, fields: &[(String, String)], file: &str) -> u16 {
    let b = "xyzBOUNDARY";
    let mut body = String::new();
    for (n, v) in fields {
        body.push_str(&format!(
            "--{b}\r\nContent-Disposition: form-data; name=\"{n}\"\r\n\r\n{v}\r\n"
        ));
    }
    body.push_str(&format!("--{b}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"vars.jsonl\"\r\nContent-Type: text/jsonl\r\n\r\n{file}\r\n--{b}--\r\n"));
    reqwest::Client::new()
        .post(url)
        .header("content-type", format!("multipart/form-data; boundary={b}"))
        .body(body)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

/// The operation a `bulkOperationRunMutation` answer started.
fn started(run: &Value) -> String {
    run["data"]["bulkOperationRunMutation"]["bulkOperation"]["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// Poll `id` until its status is `status`: the operation as then read.
async fn until_status(fake: &FakeShopify, id: &str, status: &str) -> Value {
    loop {
        let polled = gql(fake, POLL, json!({"id": id})).await;
        if polled["data"]["bulkOperation"]["status"] == status {
            return polled["data"]["bulkOperation"].clone();
        }
        tokio::task::yield_now().await;
    }
}

async fn fetch(url: &Value) -> String {
    reqwest::get(url.as_str().unwrap())
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

fn key(params: &[(String, String)]) -> String {
    params.iter().find(|(n, _)| n == "key").unwrap().1.clone()
}

fn line(sku: &str, title: &str) -> String {
    json!({
        "identifier": {"customId": {"namespace": "switchyard", "key": "sku_root", "value": sku}},
        "input": {"title": title, "metafields": [{"namespace": "switchyard", "key": "sku_root", "type": "single_line_text_field", "value": sku}]},
    })
    .to_string()
}

#[tokio::test]
async fn the_staged_upload_refuses_a_missing_or_altered_parameter() {
    let fake = FakeShopify::start(FakeShopifyConfig::default())
        .await
        .unwrap();
    let (url, params) = stage(&fake).await;
    let file = line("A", "a");
    let missing: Vec<_> = params
        .iter()
        .filter(|(n, _)| n != "policy")
        .cloned()
        .collect();
    assert_eq!(upload(&url, &missing, &file).await, 400);
    let mut altered = params.clone();
    altered
        .iter_mut()
        .find(|(n, _)| n == "x-goog-signature")
        .unwrap()
        .1 = "forged".into();
    assert_eq!(upload(&url, &altered, &file).await, 403);
    // Refused uploads left no file: running it names it missing.
    let run = gql(&fake, RUN, json!({"m": SET, "p": key(&params)})).await;
    assert_eq!(
        run["data"]["bulkOperationRunMutation"]["userErrors"][0]["code"],
        "NO_SUCH_FILE"
    );
    assert_eq!(upload(&url, &params, &file).await, 201);
    // Only the bulk variables resource is served.
    let other = gql(
        &fake,
        STAGE,
        json!({"input": [{"resource": "IMAGE", "filename": "a.png", "mimeType": "image/png", "httpMethod": "POST"}]}),
    )
    .await;
    assert_eq!(
        other["data"]["stagedUploadsCreate"]["stagedTargets"],
        json!([])
    );
}

#[tokio::test]
async fn a_bulk_operation_runs_lines_as_single_mutations_and_serves_their_results() {
    let fake = FakeShopify::start(FakeShopifyConfig::default())
        .await
        .unwrap();
    let (url, params) = stage(&fake).await;
    let file = [line("A", "Alpha"), line("B", ""), line("C", "Gamma")].join("\n");
    assert_eq!(upload(&url, &params, &file).await, 201);

    // A mutation bulk does not run, and a query, are refused before anything starts.
    for bad in [
        "mutation($input: InventorySetQuantitiesInput!) { inventorySetQuantities(input: $input) { userErrors { field message } } }",
        "query { shop { name } }",
        "mutation { productSet(",
    ] {
        let run = gql(&fake, RUN, json!({"m": bad, "p": key(&params)})).await;
        assert_eq!(run["data"]["bulkOperationRunMutation"]["userErrors"][0]["code"], "INVALID_MUTATION", "{bad}");
    }
    assert!(fake.bulk_operations().is_empty());

    fake.bulk_pause_after(1);
    let run = gql(&fake, RUN, json!({"m": SET, "p": key(&params)})).await;
    let id = run["data"]["bulkOperationRunMutation"]["bulkOperation"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    // One bulk mutation at a time per shop.
    let second = gql(&fake, RUN, json!({"m": SET, "p": key(&params)})).await;
    assert_eq!(
        second["data"]["bulkOperationRunMutation"]["userErrors"][0]["code"],
        "OPERATION_IN_PROGRESS"
    );
    assert!(second["data"]["bulkOperationRunMutation"]["bulkOperation"].is_null());
    let running = gql(&fake, POLL, json!({"id": id})).await;
    assert!(
        running["data"]["bulkOperation"]["url"].is_null(),
        "no result before it ends"
    );
    fake.bulk_resume();
    let op = loop {
        let polled = gql(&fake, POLL, json!({"id": id})).await;
        if polled["data"]["bulkOperation"]["status"] == "COMPLETED" {
            break polled["data"]["bulkOperation"].clone();
        }
        tokio::task::yield_now().await;
    };
    assert_eq!(op["objectCount"], "3");
    let current = gql(
        &fake,
        "query { currentBulkOperation(type: MUTATION) { id status } }",
        json!({}),
    )
    .await;
    assert_eq!(current["data"]["currentBulkOperation"]["id"], id.as_str());
    let text = reqwest::get(op["url"].as_str().unwrap())
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let lines: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 3);
    for (i, l) in lines.iter().enumerate() {
        assert_eq!(l["__lineNumber"], i);
    }
    assert!(lines[0]["data"]["productSet"]["product"]["id"].is_string());
    assert_eq!(
        lines[1]["data"]["productSet"]["userErrors"][0]["message"],
        "Title can't be blank"
    );
    assert_eq!(fake.product_count(), 2);
    assert_eq!(fake.applied("productSet"), 2, "each line a recorded write");
    assert_eq!(fake.bulk_operations()[0].status, BulkStatus::Completed);
}

#[tokio::test]
async fn a_half_failed_operation_has_only_a_partial_data_url() {
    let fake = FakeShopify::start(FakeShopifyConfig::default())
        .await
        .unwrap();
    let (url, params) = stage(&fake).await;
    let file: Vec<String> = (0..10).map(|i| line(&format!("S{i}"), "t")).collect();
    assert_eq!(upload(&url, &params, &file.join("\n")).await, 201);
    fake.bulk_fail_next_halfway();
    let id = started(&gql(&fake, RUN, json!({"m": SET, "p": key(&params)})).await);
    let op = until_status(&fake, &id, "FAILED").await;
    assert_eq!(op["errorCode"], "INTERNAL_SERVER_ERROR");
    assert!(op["url"].is_null());
    assert_eq!(fetch(&op["partialDataUrl"]).await.lines().count(), 5);
    assert_eq!(fake.product_count(), 5);
}

const CANCEL: &str = "mutation($id: ID!) { bulkOperationCancel(id: $id) { bulkOperation { id status } userErrors { field message } } }";

#[tokio::test]
async fn a_cancelled_operation_goes_canceling_then_canceled_with_the_lines_it_ran() {
    let fake = FakeShopify::start(FakeShopifyConfig::default())
        .await
        .unwrap();
    let (url, params) = stage(&fake).await;
    let file: Vec<String> = (0..10).map(|i| line(&format!("C{i}"), "t")).collect();
    assert_eq!(upload(&url, &params, &file.join("\n")).await, 201);
    fake.bulk_stall_next_after(4);
    let id = started(&gql(&fake, RUN, json!({"m": SET, "p": key(&params)})).await);
    // Stuck after 4 lines (the fake's state, checked until it holds).
    loop {
        let polled = gql(&fake, POLL, json!({"id": id})).await;
        if polled["data"]["bulkOperation"]["objectCount"] == "4" && fake.bulk_paused().is_some() {
            assert_eq!(polled["data"]["bulkOperation"]["status"], "RUNNING");
            break;
        }
        tokio::task::yield_now().await;
    }
    let cancel = gql(&fake, CANCEL, json!({"id": id})).await;
    let payload = &cancel["data"]["bulkOperationCancel"];
    assert_eq!(payload["userErrors"], json!([]), "{cancel}");
    let answered = payload["bulkOperation"]["status"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        answered == "CANCELING" || answered == "CANCELED",
        "{cancel}"
    );
    let op = until_status(&fake, &id, "CANCELED").await;
    assert!(op["url"].is_null());
    assert_eq!(
        fetch(&op["partialDataUrl"]).await.lines().count(),
        4,
        "the lines run before the cancel"
    );
    assert_eq!(fake.product_count(), 4);
    // A finished operation, and one Shopify does not know, cannot be cancelled.
    let again = gql(&fake, CANCEL, json!({"id": id})).await;
    assert_eq!(
        again["data"]["bulkOperationCancel"]["userErrors"][0]["message"],
        "A bulk operation cannot be canceled when it is canceled"
    );
    assert_eq!(
        again["data"]["bulkOperationCancel"]["userErrors"][0]["field"],
        json!(["id"])
    );
    let unknown = gql(
        &fake,
        CANCEL,
        json!({"id": "gid://shopify/BulkOperation/1"}),
    )
    .await;
    assert!(unknown["data"]["bulkOperationCancel"]["bulkOperation"].is_null());
    assert_eq!(
        unknown["data"]["bulkOperationCancel"]["userErrors"][0]["message"],
        "Bulk operation does not exist"
    );
    // The id is required, as on Shopify.
    let missing = gql(
        &fake,
        "mutation { bulkOperationCancel { userErrors { message } } }",
        json!({}),
    )
    .await;
    assert!(missing["errors"].is_array(), "{missing}");
    let cancels = fake.bulk_cancels();
    assert_eq!(
        cancels,
        vec![
            FakeBulkCancel {
                operation: id.clone(),
                status_before: Some(BulkStatus::Running),
                accepted: true
            },
            FakeBulkCancel {
                operation: id,
                status_before: Some(BulkStatus::Canceled),
                accepted: false
            },
            FakeBulkCancel {
                operation: "gid://shopify/BulkOperation/1".into(),
                status_before: None,
                accepted: false
            },
        ]
    );
    // The shop's one slot is free again.
    let (url, params) = stage(&fake).await;
    assert_eq!(upload(&url, &params, &line("D", "d")).await, 201);
    let next = gql(&fake, RUN, json!({"m": SET, "p": key(&params)})).await;
    assert_eq!(
        next["data"]["bulkOperationRunMutation"]["userErrors"],
        json!([])
    );
    assert_eq!(fake.bulk_refused_in_progress(), 0);
}
