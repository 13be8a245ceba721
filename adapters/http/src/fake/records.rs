//! The fake's record source: what a distributor's core system lists for a scheduled pull.
//!
//! `GET /v1/records?collection=NAME&cursor=&limit=` answers `{"data": [...], "next_cursor"}`
//! (null on the last page), as the HTTP adapter's `pull` reads it. It refuses what a real API
//! refuses: no or a wrong bearer token (401), a missing collection parameter, a bad limit or
//! cursor (400), an unknown collection (404), the rate limit (429 + `Retry-After`) and the
//! failure plan every push obeys (`fail_next`, `always_fail`, `throttle`, `maintenance`).
//!
//! Cursors are keyset positions (`k<id>`: after the record with that id), not offsets: records
//! keep their id when they change and new ones are appended, so a pull resumed from a cursor
//! after records were changed, added or removed neither skips nor repeats one — which is what
//! a resume test has to be able to trust.

use super::{check_auth, check_gate, error_response, Refusal, Shared};
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

pub const RECORDS_PATH: &str = "/v1/records";
const DEFAULT_LIMIT: usize = 100;
const MAX_LIMIT: usize = 1000;

/// The seeded collections, the fault switch and what was asked.
#[derive(Debug, Default)]
pub(super) struct Collections {
    by_name: HashMap<String, Collection>,
    fault: Option<PageFault>,
    requests: Vec<PageRequest>,
}

#[derive(Debug, Default)]
struct Collection {
    last_id: u64,
    records: BTreeMap<u64, Value>,
}

/// `fail_pages_after`: pages still served before every further one fails.
#[derive(Debug, Clone, Copy)]
struct PageFault {
    ok_left: u32,
    status: StatusCode,
}

/// One request for a page of records, as received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageRequest {
    pub collection: String,
    pub cursor: Option<String>,
    pub status: u16,
    /// Records in the page answered (0 when refused).
    pub records: usize,
}

impl Collections {
    pub(super) fn clear_fault(&mut self) {
        self.fault = None;
    }
}

impl super::FakePartner {
    /// Replace collection `name` with `records`, in this order (the order pages list them).
    pub fn seed_records(&self, name: &str, records: Vec<Value>) {
        let mut inner = self.shared.lock();
        let c = inner.records.by_name.entry(name.to_owned()).or_default();
        c.records.clear();
        for r in records {
            c.last_id += 1;
            c.records.insert(c.last_id, r);
        }
    }

    /// Change the record of `name` whose `key_field` equals `record`'s (it keeps its place), or
    /// append `record` when none does.
    pub fn put_record(&self, name: &str, key_field: &str, record: Value) {
        let mut inner = self.shared.lock();
        let c = inner.records.by_name.entry(name.to_owned()).or_default();
        let key = record.get(key_field).cloned();
        match c
            .records
            .values_mut()
            .find(|r| key.is_some() && r.get(key_field) == key.as_ref())
        {
            Some(slot) => *slot = record,
            None => {
                c.last_id += 1;
                c.records.insert(c.last_id, record);
            }
        }
    }

    /// Remove the records of `name` whose `key_field` is `key`; how many there were.
    pub fn remove_record(&self, name: &str, key_field: &str, key: &Value) -> usize {
        let mut inner = self.shared.lock();
        let Some(c) = inner.records.by_name.get_mut(name) else {
            return 0;
        };
        let before = c.records.len();
        c.records.retain(|_, r| r.get(key_field) != Some(key));
        before - c.records.len()
    }

    /// Serve the next `pages` record pages, then answer every further one with `status` until
    /// [`FakePartner::fix`](super::FakePartner::fix): a core system failing in the middle of
    /// a pull.
    pub fn fail_pages_after(&self, pages: u32, status: u16) {
        let status = StatusCode::from_u16(status).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
        self.shared.lock().records.fault = Some(PageFault {
            ok_left: pages,
            status,
        });
    }

    /// Every request for a page of records so far, in arrival order.
    pub fn page_requests(&self) -> Vec<PageRequest> {
        self.shared.lock().records.requests.clone()
    }
}

#[derive(Debug, Deserialize)]
pub(super) struct RecordQuery {
    collection: Option<String>,
    cursor: Option<String>,
    limit: Option<String>,
}

fn bad_request(code: &str, message: String) -> Refusal {
    Box::new(error_response(StatusCode::BAD_REQUEST, code, message, None))
}

/// `k<id>`: after the record with that id; none: from the start.
fn parse_cursor(cursor: Option<&str>) -> Result<u64, Refusal> {
    match cursor {
        None | Some("") => Ok(0),
        Some(c) => c
            .strip_prefix('k')
            .and_then(|n| n.parse().ok())
            .ok_or_else(|| bad_request("invalid_cursor", format!("cursor `{c}` is not valid"))),
    }
}

fn parse_limit(limit: Option<&str>) -> Result<usize, Refusal> {
    match limit.map(str::parse::<usize>) {
        None => Ok(DEFAULT_LIMIT),
        Some(Ok(n)) if (1..=MAX_LIMIT).contains(&n) => Ok(n),
        _ => Err(bad_request(
            "invalid_limit",
            format!("limit must be between 1 and {MAX_LIMIT}"),
        )),
    }
}

pub(super) async fn list_records(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    query: Result<Query<RecordQuery>, QueryRejection>,
) -> Response {
    let latency = shared.lock().latency;
    if let Some(latency) = latency {
        tokio::time::sleep(latency).await;
    }
    let (collection, cursor) = match &query {
        Ok(Query(q)) => (q.collection.clone().unwrap_or_default(), q.cursor.clone()),
        Err(_) => (String::new(), None),
    };
    let mut inner = shared.lock();
    let answered = page(&shared, &mut inner, &headers, query);
    let (response, records) = match answered {
        Ok((body, n)) => (axum::Json(body).into_response(), n),
        Err(refusal) => (*refusal, 0),
    };
    inner.records.requests.push(PageRequest {
        collection,
        cursor,
        status: response.status().as_u16(),
        records,
    });
    response
}

/// The page asked for, or the refusal; auth first, then the request's form, then the rate
/// limit and failure plan, then the fault switch.
fn page(
    shared: &Shared,
    inner: &mut super::Inner,
    headers: &HeaderMap,
    query: Result<Query<RecordQuery>, QueryRejection>,
) -> Result<(Value, usize), Refusal> {
    check_auth(shared, headers)?;
    let Query(q) = query.map_err(|e| bad_request("invalid_query", e.body_text()))?;
    let name = q
        .collection
        .filter(|c| !c.trim().is_empty())
        .ok_or_else(|| bad_request("collection_required", "`collection` is required".into()))?;
    let limit = parse_limit(q.limit.as_deref())?;
    let after = parse_cursor(q.cursor.as_deref())?;
    check_gate(inner)?;
    if let Some(fault) = &mut inner.records.fault {
        if fault.ok_left == 0 {
            return Err(Box::new(error_response(
                fault.status,
                "service_unavailable",
                "the record service failed",
                None,
            )));
        }
        fault.ok_left -= 1;
    }
    let collection = inner.records.by_name.get(&name).ok_or_else(|| {
        Box::new(error_response(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("no collection `{name}`"),
            None,
        ))
    })?;
    let mut rest = collection.records.range(after + 1..);
    let page: Vec<(u64, Value)> = rest
        .by_ref()
        .take(limit)
        .map(|(id, r)| (*id, r.clone()))
        .collect();
    let more = rest.next().is_some();
    let next_cursor = page.last().filter(|_| more).map(|(id, _)| format!("k{id}"));
    let n = page.len();
    let data: Vec<Value> = page.into_iter().map(|(_, r)| r).collect();
    Ok((json!({"data": data, "next_cursor": next_cursor}), n))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_are_keyset_positions() {
        assert_eq!(parse_cursor(None).ok(), Some(0));
        assert_eq!(parse_cursor(Some("k42")).ok(), Some(42));
        assert!(parse_cursor(Some("o42")).is_err());
        assert!(parse_limit(Some("0")).is_err());
        assert_eq!(parse_limit(None).ok(), Some(DEFAULT_LIMIT));
    }
}
