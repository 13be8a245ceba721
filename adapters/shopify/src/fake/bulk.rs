//! The fake's bulk mutations: `stagedUploadsCreate` (resource `BULK_MUTATION_VARIABLES`), the
//! multipart POST of the JSONL variables to the staged target, `bulkOperationRunMutation`,
//! the operation's life (CREATED → RUNNING → COMPLETED / FAILED, or CANCELING → CANCELED after
//! `bulkOperationCancel`), its reads (`currentBulkOperation(type:)`, `bulkOperation(id:)`),
//! the result JSONL served over HTTP and the signed `bulk_operations/finish` webhook.
//!
//! What it refuses, as Shopify does: an upload without every parameter the target was issued
//! with (or with another value: GCS's `SignatureDoesNotMatch`), a `stagedUploadPath` that
//! names no uploaded file (`NO_SUCH_FILE`), a file line that is not a JSON object
//! (`INVALID_STAGED_UPLOAD_FILE`), a mutation that does not parse, is not one of the mutations
//! bulk runs, or does not fit the schema with the first line's variables (`INVALID_MUTATION`),
//! a second bulk mutation while one is CREATED, RUNNING or CANCELING (`OPERATION_IN_PROGRESS`;
//! counted, so a test can assert it never had to), and a cancel of an operation it does not
//! know or that has finished (a userError on `id`; Shopify's texts are not documented).
//!
//! `bulkOperationCancel` of a CREATED or RUNNING operation answers it CANCELING; the operation
//! stops after the line it is running (the step) and is CANCELED with a `partialDataUrl` of
//! the lines it ran ([I]: Shopify documents `partialDataUrl` for FAILED operations; the fake
//! serves the lines a cancelled one ran the same way). Cancels are recorded.
//!
//! Each line runs through the same code as the single mutation (`super::mutation`): a
//! `productSet` line is the same upsert, recorded as a write, and its result line is the
//! payload projected through the mutation's selection, with `__lineNumber` (0-based here;
//! Shopify's base is not documented, so the adapter does not rely on it). Lines cost nothing
//! from the bucket, as on Shopify; reading the operation does.
//!
//! Fault switches: the next operation FAILS half-way (`INTERNAL_SERVER_ERROR`, no `url`, only
//! `partialDataUrl` with the lines applied); operations that never finish; a pause after N
//! lines (so a test can kill a process while an operation runs, then let it go on); the next
//! operation stuck after N lines until it is cancelled; the next cancel arriving just after
//! its operation finished (the race between a client's poll and its cancel).

use super::{post_signed, validate, Inner, Shared, WriteOutcome};
use crate::config::ApiVersion;
use axum::body::Bytes;
use axum::extract::{Multipart, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{json, Map, Value};
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

/// The mutations Shopify runs in bulk that this fake implements.
pub const BULK_MUTATIONS: &[&str] = &["productSet", "productVariantsBulkUpdate"];

/// An operation's state (`BulkOperationStatus`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BulkStatus {
    Created,
    Running,
    Completed,
    Failed,
    Canceling,
    Canceled,
}

impl BulkStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Created => "CREATED",
            Self::Running => "RUNNING",
            Self::Completed => "COMPLETED",
            Self::Failed => "FAILED",
            Self::Canceling => "CANCELING",
            Self::Canceled => "CANCELED",
        }
    }

    fn in_progress(self) -> bool {
        matches!(self, Self::Created | Self::Running | Self::Canceling)
    }
}

/// One bulk operation as tests see it.
#[derive(Debug, Clone)]
pub struct FakeBulkOp {
    pub id: u64,
    pub status: BulkStatus,
    pub error_code: Option<&'static str>,
    /// Lines in the uploaded file.
    pub lines: usize,
    /// Lines run so far.
    pub done: usize,
    pub mutation: String,
}

struct Op {
    view: FakeBulkOp,
    version: ApiVersion,
    input: Vec<Value>,
    results: Vec<String>,
    created_at: String,
    completed_at: Option<String>,
    /// The result file is the partial one (a FAILED or CANCELED operation).
    partial: bool,
    /// Runs this many lines, then stays RUNNING until cancelled (`bulk_stall_next_after`).
    stall_after: Option<usize>,
}

/// One `bulkOperationCancel` the fake answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FakeBulkCancel {
    /// The `id` argument as sent.
    pub operation: String,
    /// The operation's status when the cancel arrived (None: unknown operation).
    pub status_before: Option<BulkStatus>,
    /// Whether it was accepted (the operation went CANCELING).
    pub accepted: bool,
}

/// A staged target handed out: its parameters, and the file once uploaded.
struct Staged {
    parameters: Vec<(String, String)>,
    file: Option<Bytes>,
}

#[derive(Debug, Default, Clone, Copy)]
struct BulkFaults {
    fail_next_halfway: bool,
    never_finish: bool,
    pause_after: Option<usize>,
    stall_next_after: Option<usize>,
    finish_on_next_cancel: bool,
}

/// The bulk side of the fake's state (lives in `Inner`).
pub struct BulkState {
    base_url: String,
    staged: HashMap<String, Staged>,
    ops: BTreeMap<u64, Op>,
    next_id: u64,
    faults: BulkFaults,
    /// An operation accepted by the last request, for the handler to start.
    started: Option<u64>,
    /// An operation stopped at the pause point.
    paused: Option<u64>,
    webhook_url: Option<String>,
    /// Wakes paused (and never-finishing) operations.
    release: Arc<tokio::sync::Notify>,
    cancels: Vec<FakeBulkCancel>,
    /// Second operations refused with `OPERATION_IN_PROGRESS`.
    refused_in_progress: u64,
}

impl BulkState {
    pub fn new(base_url: String) -> Self {
        Self {
            base_url,
            staged: HashMap::new(),
            ops: BTreeMap::new(),
            next_id: 7_177_961_700_000,
            faults: BulkFaults::default(),
            started: None,
            paused: None,
            webhook_url: None,
            release: Arc::new(tokio::sync::Notify::new()),
            cancels: Vec::new(),
            refused_in_progress: 0,
        }
    }

    /// The operation the last request started, if any (the handler spawns its run).
    pub fn take_started(&mut self) -> Option<u64> {
        self.started.take()
    }

    fn op_json(&self, op: &Op) -> Value {
        let id = op.view.id;
        let file = |partial: bool| {
            format!(
                "{}/bulk-results/{id}{}.jsonl",
                self.base_url,
                if partial { "-partial" } else { "" }
            )
        };
        let finished = !op.view.status.in_progress();
        let url = (finished && !op.partial && op.view.status == BulkStatus::Completed)
            .then(|| file(false));
        let partial = (finished && op.partial).then(|| file(true));
        json!({
            "id": super::gid("BulkOperation", id),
            "status": op.view.status.as_str(),
            "errorCode": op.view.error_code,
            "type": "MUTATION",
            "objectCount": op.view.done.to_string(),
            "rootObjectCount": op.view.done.to_string(),
            "fileSize": finished.then(|| op.results.iter().map(|l| l.len() + 1).sum::<usize>().to_string()),
            "url": url,
            "partialDataUrl": partial,
            "query": op.view.mutation,
            "createdAt": op.created_at,
            "completedAt": op.completed_at,
        })
    }

    /// `currentBulkOperation` / `bulkOperation`, or None for any other root field.
    pub fn query_field(&self, field: &validate::RootField, cx: &validate::Cx<'_>) -> Option<Value> {
        let built = match field.name.as_str() {
            // The newest operation of the type (finished or not), as Shopify answers; the
            // fake runs mutations only.
            "currentBulkOperation" => match field.args.get("type").and_then(Value::as_str) {
                Some("MUTATION") => self
                    .ops
                    .values()
                    .next_back()
                    .map_or(Value::Null, |o| self.op_json(o)),
                _ => Value::Null,
            },
            "bulkOperation" => field
                .args
                .get("id")
                .and_then(Value::as_str)
                .and_then(|g| super::parse_gid("BulkOperation", g))
                .and_then(|n| self.ops.get(&n))
                .map_or(Value::Null, |o| self.op_json(o)),
            _ => return None,
        };
        Some(super::exec::project(&built, &field.selection.node, cx))
    }
}

fn user_error(message: impl Into<String>, code: &str) -> Value {
    json!({"field": null, "message": message.into(), "code": code})
}

fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// `stagedUploadsCreate`, `bulkOperationRunMutation` and `bulkOperationCancel`; None for any
/// other mutation.
pub fn mutation(
    inner: &mut Inner,
    config: &super::FakeShopifyConfig,
    version: ApiVersion,
    field: &validate::RootField,
    cx: &validate::Cx<'_>,
) -> Option<Value> {
    let built = match field.name.as_str() {
        "stagedUploadsCreate" => staged_uploads_create(inner, &field.args),
        "bulkOperationRunMutation" => run_mutation(inner, version, &field.args),
        "bulkOperationCancel" => cancel(inner, config, &field.args),
        _ => return None,
    };
    Some(super::exec::project(&built, &field.selection.node, cx))
}

fn staged_uploads_create(inner: &mut Inner, args: &Map<String, Value>) -> Value {
    let mut targets = Vec::new();
    let mut errors = Vec::new();
    let inputs = args
        .get("input")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    for (i, input) in inputs.iter().enumerate() {
        let resource = input["resource"].as_str().unwrap_or_default();
        let method = input["httpMethod"].as_str().unwrap_or("PUT");
        if resource != "BULK_MUTATION_VARIABLES" || method != "POST" {
            // Shopify serves the other resources too; this fake only the bulk variables.
            errors.push(json!({"field": ["input", i.to_string()], "message": format!("the fake serves resource BULK_MUTATION_VARIABLES with httpMethod POST only, not {resource} {method}")}));
            continue;
        }
        let filename = input["filename"].as_str().unwrap_or("vars.jsonl");
        let key = format!("tmp/shop/bulk/{}/{filename}", uuid::Uuid::new_v4());
        let parameters: Vec<(String, String)> = vec![
            ("Content-Type".into(), input["mimeType"].as_str().unwrap_or("text/jsonl").into()),
            ("success_action_status".into(), "201".into()),
            ("acl".into(), "private".into()),
            ("key".into(), key.clone()),
            ("x-goog-date".into(), chrono::Utc::now().format("%Y%m%dT%H%M%SZ").to_string()),
            ("x-goog-credential".into(), "merchant-assets@shopify-tiers.iam.gserviceaccount.com/20260101/auto/storage/goog4_request".into()),
            ("x-goog-algorithm".into(), "GOOG4-RSA-SHA256".into()),
            ("x-goog-signature".into(), uuid::Uuid::new_v4().simple().to_string()),
            ("policy".into(), uuid::Uuid::new_v4().simple().to_string()),
        ];
        targets.push(json!({
            "url": format!("{}/staged-uploads", inner.bulk.base_url),
            "resourceUrl": null,
            "parameters": parameters.iter().map(|(n, v)| json!({"name": n, "value": v})).collect::<Vec<_>>(),
        }));
        inner.bulk.staged.insert(
            key,
            Staged {
                parameters,
                file: None,
            },
        );
    }
    json!({"stagedTargets": targets, "userErrors": errors})
}

fn run_mutation(inner: &mut Inner, version: ApiVersion, args: &Map<String, Value>) -> Value {
    let refused = |e: Value| json!({"bulkOperation": null, "userErrors": [e]});
    if let Some(op) = inner
        .bulk
        .ops
        .values()
        .find(|o| o.view.status.in_progress())
    {
        inner.bulk.refused_in_progress += 1;
        return refused(user_error(
            format!(
                "A bulk mutation operation for this app and shop is already in progress: {}.",
                super::gid("BulkOperation", op.view.id)
            ),
            "OPERATION_IN_PROGRESS",
        ));
    }
    let path = args
        .get("stagedUploadPath")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let Some(file) = inner.bulk.staged.get(path).and_then(|s| s.file.clone()) else {
        return refused(user_error(
            "The JSONL file could not be found. Try uploading the file again, and check that you've entered the URL correctly for the stagedUploadPath mutation argument.",
            "NO_SUCH_FILE",
        ));
    };
    let mut input = Vec::new();
    for (i, line) in file.split(|b| *b == b'\n').enumerate() {
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        match serde_json::from_slice::<Value>(line) {
            Ok(v @ Value::Object(_)) => input.push(v),
            _ => {
                return refused(user_error(
                    format!(
                        "Failed to parse the JSONL file: line {} is not a JSON object of variables",
                        i + 1
                    ),
                    "INVALID_STAGED_UPLOAD_FILE",
                ))
            }
        }
    }
    let text = args
        .get("mutation")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if let Err(message) = check_mutation(text, input.first(), version) {
        return refused(user_error(message, "INVALID_MUTATION"));
    }
    inner.bulk.next_id += 1;
    let id = inner.bulk.next_id;
    let op = Op {
        view: FakeBulkOp {
            id,
            status: BulkStatus::Created,
            error_code: None,
            lines: input.len(),
            done: 0,
            mutation: text.to_owned(),
        },
        version,
        input,
        results: Vec::new(),
        created_at: now(),
        completed_at: None,
        partial: false,
        stall_after: inner.bulk.faults.stall_next_after.take(),
    };
    let answer = inner.bulk.op_json(&op);
    inner.bulk.ops.insert(id, op);
    inner.bulk.started = Some(id);
    json!({"bulkOperation": answer, "userErrors": []})
}

/// `bulkOperationCancel(id:)`: a CREATED or RUNNING operation goes CANCELING (its run stops
/// after the current line and ends CANCELED); CANCELING is answered as it is; a finished or
/// unknown operation is a userError on `id` (`UserError` has no `code`).
fn cancel(
    inner: &mut Inner,
    config: &super::FakeShopifyConfig,
    args: &Map<String, Value>,
) -> Value {
    let given = args
        .get("id")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    let refusal = |message: String| json!({"field": ["id"], "message": message});
    let Some(id) =
        super::parse_gid("BulkOperation", &given).filter(|n| inner.bulk.ops.contains_key(n))
    else {
        inner.bulk.cancels.push(FakeBulkCancel {
            operation: given,
            status_before: None,
            accepted: false,
        });
        return json!({"bulkOperation": null, "userErrors": [refusal("Bulk operation does not exist".into())]});
    };
    if std::mem::take(&mut inner.bulk.faults.finish_on_next_cancel) {
        run_rest(inner, config, id);
    }
    let before = inner.bulk.ops[&id].view.status;
    let accepted = matches!(
        before,
        BulkStatus::Created | BulkStatus::Running | BulkStatus::Canceling
    );
    inner.bulk.cancels.push(FakeBulkCancel {
        operation: given,
        status_before: Some(before),
        accepted,
    });
    let mut errors = Vec::new();
    if accepted {
        if let Some(op) = inner.bulk.ops.get_mut(&id) {
            op.view.status = BulkStatus::Canceling;
        }
        // A stalled or paused run wakes to see it.
        inner.bulk.release.notify_waiters();
    } else {
        errors.push(refusal(format!(
            "A bulk operation cannot be canceled when it is {}",
            before.as_str().to_lowercase()
        )));
    }
    let answer = inner.bulk.op_json(&inner.bulk.ops[&id]);
    json!({"bulkOperation": answer, "userErrors": errors})
}

/// Every line of operation `id` not run yet, then COMPLETED (the race fault: it finishes just
/// before a cancel arrives). Its run task sees it finished and only sends the webhook.
fn run_rest(inner: &mut Inner, config: &super::FakeShopifyConfig, id: u64) {
    let Some(op) = inner
        .bulk
        .ops
        .get(&id)
        .filter(|o| o.view.status.in_progress())
    else {
        return;
    };
    let (text, version, from, total) = (
        op.view.mutation.clone(),
        op.version,
        op.view.done,
        op.input.len(),
    );
    let Ok(doc) = async_graphql_parser::parse_query(&text) else {
        return;
    };
    for n in from..total {
        run_line(inner, config, id, n, &doc, version);
    }
    finish(inner, id, BulkStatus::Completed, None);
    inner.bulk.release.notify_waiters();
}

/// Whether operation `id`'s run waits before line `line`: a pause switch, or its stall.
fn held(inner: &Inner, id: u64, line: usize) -> bool {
    let faults = inner.bulk.faults;
    let Some(op) = inner.bulk.ops.get(&id) else {
        return false;
    };
    op.view.status == BulkStatus::Running
        && (faults.never_finish || faults.pause_after == Some(line) || op.stall_after == Some(line))
}

/// A mutation bulk runs: one root field of [`BULK_MUTATIONS`], valid with `vars`.
fn check_mutation(text: &str, vars: Option<&Value>, version: ApiVersion) -> Result<(), String> {
    let doc =
        async_graphql_parser::parse_query(text).map_err(|e| format!("Invalid mutation: {e}"))?;
    let empty = Map::new();
    let vars = vars.and_then(Value::as_object).unwrap_or(&empty);
    let cx = validate::Cx {
        doc: &doc,
        vars,
        version,
    };
    let prepared = validate::prepare(&cx, None).map_err(|errors| {
        format!(
            "Invalid mutation: {}",
            errors
                .iter()
                .filter_map(|e| e["message"].as_str())
                .collect::<Vec<_>>()
                .join("; ")
        )
    })?;
    match prepared.fields.as_slice() {
        [f] if prepared.ty == async_graphql_parser::types::OperationType::Mutation
            && BULK_MUTATIONS.contains(&f.name.as_str()) =>
        {
            Ok(())
        }
        _ => Err(format!(
            "Invalid mutation: a bulk mutation runs exactly one of {} (the fake's list)",
            BULK_MUTATIONS.join(", ")
        )),
    }
}

/// Run operation `id` line by line until it ends (or a fault stops it).
pub async fn run(shared: Arc<Shared>, id: u64) {
    let (text, version, release) = {
        let mut inner = shared.lock();
        let release = inner.bulk.release.clone();
        let Some(op) = inner.bulk.ops.get_mut(&id) else {
            return;
        };
        // Cancelled before it started: it stays CANCELING for the loop to end.
        if op.view.status == BulkStatus::Created {
            op.view.status = BulkStatus::Running;
        }
        (op.view.mutation.clone(), op.version, release)
    };
    let Ok(doc) = async_graphql_parser::parse_query(&text) else {
        return;
    };
    let mut line = 0usize;
    loop {
        let (halt, wait) = {
            let mut inner = shared.lock();
            let faults = inner.bulk.faults;
            let (total, status) = inner
                .bulk
                .ops
                .get(&id)
                .map_or((0, BulkStatus::Completed), |o| {
                    (o.input.len(), o.view.status)
                });
            if status == BulkStatus::Canceling {
                // The step after a cancel: the lines run so far are its partial result.
                finish(&mut inner, id, BulkStatus::Canceled, None);
                break;
            }
            if status != BulkStatus::Running {
                // Finished by `run_rest` (the cancel race): only the webhook is left.
                break;
            }
            if held(&inner, id, line) {
                inner.bulk.paused = Some(id);
                (false, true)
            } else if line >= total {
                (true, false)
            } else if faults.fail_next_halfway && line >= total / 2 {
                inner.bulk.faults.fail_next_halfway = false;
                finish(
                    &mut inner,
                    id,
                    BulkStatus::Failed,
                    Some("INTERNAL_SERVER_ERROR"),
                );
                break;
            } else {
                inner.bulk.paused = None;
                run_line(&mut inner, &shared.config, id, line, &doc, version);
                (false, false)
            }
        };
        if wait {
            // Released by `bulk_resume` / `bulk_never_finish(false)`; `notified` is armed
            // before the state is checked again so a release in between is not lost.
            let notified = release.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            let still = held(&shared.lock(), id, line);
            if still {
                notified.await;
            }
            continue;
        }
        if halt {
            finish(&mut shared.lock(), id, BulkStatus::Completed, None);
            break;
        }
        line += 1;
        if line.is_multiple_of(64) {
            tokio::task::yield_now().await;
        }
    }
    let (url, body) = {
        let inner = shared.lock();
        let Some(op) = inner.bulk.ops.get(&id) else {
            return;
        };
        let body = json!({
            "admin_graphql_api_id": super::gid("BulkOperation", id),
            "completed_at": op.completed_at,
            "created_at": op.created_at,
            "error_code": op.view.error_code.map(str::to_lowercase),
            "status": op.view.status.as_str().to_lowercase(),
            "type": "mutation",
        });
        (inner.bulk.webhook_url.clone(), body)
    };
    if let Some(url) = url {
        let event = uuid::Uuid::new_v4().to_string();
        if let Err(e) = post_signed(
            &shared,
            &reqwest::Client::new(),
            &url,
            "bulk_operations/finish",
            &body,
            &event,
            None,
        )
        .await
        {
            tracing::warn!(error = %e, "fake Shopify could not deliver bulk_operations/finish");
        }
    }
}

fn finish(inner: &mut Inner, id: u64, status: BulkStatus, error: Option<&'static str>) {
    if let Some(op) = inner.bulk.ops.get_mut(&id) {
        op.view.status = status;
        op.view.error_code = error;
        op.partial = status != BulkStatus::Completed;
        op.completed_at = Some(now());
    }
    inner.bulk.paused = None;
}

/// Line `n` of operation `id` through the single mutation's code.
fn run_line(
    inner: &mut Inner,
    config: &super::FakeShopifyConfig,
    id: u64,
    n: usize,
    doc: &async_graphql_parser::types::ExecutableDocument,
    version: ApiVersion,
) {
    let Some(vars) = inner
        .bulk
        .ops
        .get(&id)
        .and_then(|o| o.input[n].as_object().cloned())
    else {
        return;
    };
    let cx = validate::Cx {
        doc,
        vars: &vars,
        version,
    };
    let mut result = Map::new();
    match validate::prepare(&cx, None) {
        Ok(prepared) => {
            let mut data = Map::new();
            for field in &prepared.fields {
                match super::mutation(inner, config, version, field, &cx) {
                    Ok(v) => {
                        data.insert(field.key.clone(), v);
                    }
                    Err(e) => {
                        result.insert("errors".into(), json!([e]));
                        data.insert(field.key.clone(), Value::Null);
                    }
                }
            }
            result.insert("data".into(), Value::Object(data));
        }
        Err(errors) => {
            result.insert("errors".into(), Value::Array(errors));
        }
    }
    result.insert("__lineNumber".into(), json!(n));
    if let Some(op) = inner.bulk.ops.get_mut(&id) {
        op.results.push(Value::Object(result).to_string());
        op.view.done = n + 1;
    }
}

/// `POST /staged-uploads`: the multipart form of a staged target (its parameters, then
/// `file`). Answers like GCS: 201 with the XML `PostResponse`, 400 for a missing field, 403
/// when a value differs from the one issued.
pub async fn upload(State(shared): State<Arc<Shared>>, mut form: Multipart) -> Response {
    let xml = |status: StatusCode, code: &str, message: &str| {
        (
            status,
            [("content-type", "application/xml")],
            format!("<?xml version='1.0' encoding='UTF-8'?><Error><Code>{code}</Code><Message>{message}</Message></Error>"),
        )
            .into_response()
    };
    let mut fields: Vec<(String, String)> = Vec::new();
    let mut file: Option<Bytes> = None;
    loop {
        match form.next_field().await {
            Ok(Some(f)) => {
                let name = f.name().unwrap_or_default().to_owned();
                if name == "file" {
                    match f.bytes().await {
                        Ok(b) => file = Some(b),
                        Err(e) => {
                            return xml(StatusCode::BAD_REQUEST, "InvalidArgument", &e.to_string())
                        }
                    }
                    // GCS ignores fields after the file.
                    break;
                }
                match f.text().await {
                    Ok(t) => fields.push((name, t)),
                    Err(e) => {
                        return xml(StatusCode::BAD_REQUEST, "InvalidArgument", &e.to_string())
                    }
                }
            }
            Ok(None) => break,
            Err(e) => {
                return xml(
                    StatusCode::BAD_REQUEST,
                    "InvalidArgument",
                    &format!("Invalid multipart body: {e}"),
                )
            }
        }
    }
    let Some(file) = file else {
        return xml(
            StatusCode::BAD_REQUEST,
            "InvalidArgument",
            "Missing file field (it must come after the parameters).",
        );
    };
    let Some(key) = fields
        .iter()
        .find(|(n, _)| n == "key")
        .map(|(_, v)| v.clone())
    else {
        return xml(StatusCode::BAD_REQUEST, "InvalidArgument", "Missing key.");
    };
    let mut inner = shared.lock();
    let Some(staged) = inner.bulk.staged.get_mut(&key) else {
        return xml(
            StatusCode::FORBIDDEN,
            "AccessDenied",
            "No staged upload target with this key.",
        );
    };
    for (name, value) in &staged.parameters {
        match fields.iter().find(|(n, _)| n == name) {
            None => {
                return xml(
                    StatusCode::BAD_REQUEST,
                    "InvalidPolicyDocument",
                    &format!("Missing form field {name}."),
                )
            }
            Some((_, given)) if given != value => {
                return xml(
                    StatusCode::FORBIDDEN,
                    "SignatureDoesNotMatch",
                    &format!("Form field {name} differs from the signed policy."),
                )
            }
            Some(_) => {}
        }
    }
    staged.file = Some(file);
    let location = format!("{}/staged-uploads/{key}", inner.bulk.base_url);
    (
        StatusCode::CREATED,
        [("content-type", "application/xml")],
        format!("<?xml version='1.0' encoding='UTF-8'?><PostResponse><Location>{location}</Location><Bucket>shopify-staged-uploads</Bucket><Key>{key}</Key><ETag>\"{}\"</ETag></PostResponse>", uuid::Uuid::new_v4().simple()),
    )
        .into_response()
}

/// `GET /bulk-results/{file}`: `{id}.jsonl` (a COMPLETED operation) or `{id}-partial.jsonl`.
pub async fn results(State(shared): State<Arc<Shared>>, Path(file): Path<String>) -> Response {
    let name = file.strip_suffix(".jsonl").unwrap_or("");
    let (id, partial) = match name.strip_suffix("-partial") {
        Some(id) => (id, true),
        None => (name, false),
    };
    let inner = shared.lock();
    let op = id
        .parse::<u64>()
        .ok()
        .and_then(|id| inner.bulk.ops.get(&id));
    match op {
        Some(op) if !op.view.status.in_progress() && op.partial == partial => {
            let mut body = String::with_capacity(op.results.iter().map(|l| l.len() + 1).sum());
            for l in &op.results {
                body.push_str(l);
                body.push('\n');
            }
            (
                StatusCode::OK,
                [("content-type", "application/jsonl")],
                body,
            )
                .into_response()
        }
        _ => (StatusCode::NOT_FOUND, "NoSuchKey").into_response(),
    }
}

impl super::FakeShopify {
    /// The next bulk operation runs half its lines, then FAILS with `INTERNAL_SERVER_ERROR`,
    /// no `url`, and a `partialDataUrl` holding the lines it ran.
    pub fn bulk_fail_next_halfway(&self) {
        self.shared.lock().bulk.faults.fail_next_halfway = true;
    }

    /// Bulk operations stay RUNNING (until switched off again).
    pub fn bulk_never_finish(&self, on: bool) {
        let mut inner = self.shared.lock();
        inner.bulk.faults.never_finish = on;
        if !on {
            inner.bulk.release.notify_waiters();
        }
    }

    /// Bulk operations stop after `lines` lines, RUNNING, until [`Self::bulk_resume`].
    pub fn bulk_pause_after(&self, lines: usize) {
        self.shared.lock().bulk.faults.pause_after = Some(lines);
    }

    pub fn bulk_resume(&self) {
        let mut inner = self.shared.lock();
        inner.bulk.faults.pause_after = None;
        inner.bulk.release.notify_waiters();
    }

    /// The operation stopped at the pause point (or held by `bulk_never_finish`), if any.
    pub fn bulk_paused(&self) -> Option<u64> {
        self.shared.lock().bulk.paused
    }

    /// The next bulk operation runs `lines` lines, then stays RUNNING until it is cancelled
    /// (a stuck operation: it never finishes by itself).
    pub fn bulk_stall_next_after(&self, lines: usize) {
        self.shared.lock().bulk.faults.stall_next_after = Some(lines);
    }

    /// The next `bulkOperationCancel` arrives just after its operation finished: the rest of
    /// its lines run and it COMPLETES, then the cancel is refused as for a finished operation.
    pub fn bulk_finish_on_next_cancel(&self) {
        self.shared.lock().bulk.faults.finish_on_next_cancel = true;
    }

    /// Every `bulkOperationCancel` answered, oldest first.
    pub fn bulk_cancels(&self) -> Vec<FakeBulkCancel> {
        self.shared.lock().bulk.cancels.clone()
    }

    /// How often a second bulk mutation was refused because one was in progress.
    pub fn bulk_refused_in_progress(&self) -> u64 {
        self.shared.lock().bulk.refused_in_progress
    }

    /// Every bulk operation so far, oldest first.
    pub fn bulk_operations(&self) -> Vec<FakeBulkOp> {
        self.shared
            .lock()
            .bulk
            .ops
            .values()
            .map(|o| o.view.clone())
            .collect()
    }

    /// Where `bulk_operations/finish` is POSTed, signed (the app's webhook subscription).
    pub fn bulk_finish_webhook(&self, url: impl Into<String>) {
        self.shared.lock().bulk.webhook_url = Some(url.into());
    }

    /// Writes of `operation` that changed something, per value of `key` in their arguments
    /// (e.g. `identifier.customId.value`): how often each product was written.
    pub fn applied_per(&self, operation: &str, path: &[&str]) -> BTreeMap<String, usize> {
        let mut out = BTreeMap::new();
        for w in self.shared.lock().writes.iter() {
            if w.operation != operation || w.outcome != WriteOutcome::Applied {
                continue;
            }
            let mut v = Value::Object(w.args.clone());
            for p in path {
                v = v[*p].take();
            }
            *out.entry(v.as_str().unwrap_or_default().to_owned())
                .or_default() += 1;
        }
        out
    }
}
