//! The fake store's asynchronous bulk API: `POST /rest/{store}/async/bulk/V1/products`,
//! `.../async/bulk/V1/inventory/source-items` and `PUT`/`DELETE .../async/bulk/V1/products/bySku`
//! (the `{sku}` path parameter taken from each element's `sku`) answer 202 with a `bulk_uuid` and one
//! `request_items` entry per operation (an element that is not the service's input shape is
//! `rejected` on arrival, as Magento's schema check does); the operations stay open (status 4)
//! until the store's consumer runs them. The consumer here runs when the bulk's status has been
//! read [`BulkSwitches::open_polls`] times (so tests see operations open for a few polls), or
//! never while [`BulkSwitches::no_consumer`] is on (Magento without `async.operations.all`
//! running). Running an operation saves it the way the synchronous route does: a refusal is
//! status 3 with Magento's rendered message (a `bySku` update or disable of a SKU the store does
//! not have: "The product that was requested doesn't exist…", as `ProductRepository::get`
//! throws), a SKU set to fail retriably is status 2. The submissions and each operation the
//! consumer runs are recorded as writes (the latter as the synchronous route they stand for).

use super::{error, Answer, FakeStoreConfig, Recorded, Store};
use crate::errors::MagentoMessage;
use axum::http::StatusCode;
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashMap};

/// The bulk API's fault switches.
#[derive(Debug, Default, Clone)]
pub(super) struct BulkSwitches {
    /// Status reads a bulk answers with every operation still open before the consumer runs.
    pub open_polls: usize,
    /// No consumer: operations stay open for good.
    pub no_consumer: bool,
    /// SKU → how many more runs of its operation fail retriably (status 2).
    pub retriable: HashMap<String, usize>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Service {
    Products,
    SourceItems,
    /// `PUT .../async/bulk/V1/products/bySku`: the `{sku}` path parameter from each
    /// element's `sku`, the rest the PUT's body.
    UpdateBySku,
    /// `DELETE .../async/bulk/V1/products/bySku`: `[{"sku"}]`.
    DeleteBySku,
}

#[derive(Debug, Clone)]
struct Op {
    payload: Value,
    status: i64,
    message: Option<String>,
}

#[derive(Debug, Clone)]
struct Bulk {
    service: Service,
    store: String,
    key: Option<String>,
    ops: Vec<Op>,
    polls: usize,
}

#[derive(Default)]
pub(super) struct Bulks {
    bulks: BTreeMap<String, Bulk>,
    next: u64,
    pub switches: BulkSwitches,
}

fn sku_of(service: Service, payload: &Value) -> String {
    match service {
        Service::Products => payload["product"]["sku"].as_str(),
        Service::SourceItems => payload["sourceItems"][0]["sku"].as_str(),
        Service::UpdateBySku | Service::DeleteBySku => payload["sku"].as_str(),
    }
    .unwrap_or_default()
    .to_owned()
}

/// `POST /rest/{store}/async/bulk/V1/{products | inventory/source-items}`, `PUT` and `DELETE
/// /rest/{store}/async/bulk/V1/products/bySku`.
pub(super) fn submit(
    s: &mut Store,
    method: &str,
    segs: &[&str],
    store: &str,
    key: Option<String>,
    body: &Value,
) -> Option<Answer> {
    let service = match (method, segs) {
        ("POST", ["async", "bulk", "V1", "products"]) => Service::Products,
        ("POST", ["async", "bulk", "V1", "inventory", "source-items"]) => Service::SourceItems,
        ("PUT", ["async", "bulk", "V1", "products", "bySku"]) => Service::UpdateBySku,
        ("DELETE", ["async", "bulk", "V1", "products", "bySku"]) => Service::DeleteBySku,
        _ => return None,
    };
    let Some(elements) = body.as_array() else {
        return Some(error(
            StatusCode::BAD_REQUEST,
            "An array of service payloads is expected: %1",
            json!(["the body is not a JSON array"]),
        ));
    };
    let mut ops = Vec::new();
    let mut items = Vec::new();
    let mut rejected = false;
    for (i, e) in elements.iter().enumerate() {
        let valid = match service {
            Service::Products => e["product"].is_object(),
            Service::SourceItems => e["sourceItems"].is_array(),
            Service::UpdateBySku => e["sku"].is_string() && e["product"].is_object(),
            Service::DeleteBySku => e["sku"].is_string(),
        };
        rejected |= !valid;
        let hash = format!("{:016x}", {
            use std::hash::{Hash, Hasher};
            let mut h = std::collections::hash_map::DefaultHasher::new();
            e.to_string().hash(&mut h);
            h.finish()
        });
        items.push(json!({"id": i, "data_hash": hash, "status": if valid { "accepted" } else { "rejected" }}));
        ops.push(Op {
            payload: e.clone(),
            status: if valid { 4 } else { 5 },
            message: (!valid)
                .then(|| "The operation's data does not match the service's input.".into()),
        });
    }
    s.bulks.next += 1;
    let uuid = format!("5b4d2f7e-0000-4000-8000-{:012x}", s.bulks.next);
    s.bulks.bulks.insert(
        uuid.clone(),
        Bulk {
            service,
            store: store.to_owned(),
            key,
            ops,
            polls: 0,
        },
    );
    Some((
        StatusCode::ACCEPTED,
        json!({"bulk_uuid": uuid, "request_items": items, "errors": rejected}),
    ))
}

/// `GET /V1/bulk/{uuid}/status`: the operations, the consumer run first when its time has come.
pub(super) fn status(cfg: &FakeStoreConfig, s: &mut Store, uuid: &str) -> Answer {
    let Some(mut bulk) = s.bulks.bulks.remove(uuid) else {
        return error(
            StatusCode::NOT_FOUND,
            "Bulk uuid %bulkUuid not exist",
            json!({"bulkUuid": uuid}),
        );
    };
    bulk.polls += 1;
    if !s.bulks.switches.no_consumer && bulk.polls > s.bulks.switches.open_polls {
        for op in bulk.ops.iter_mut().filter(|o| o.status == 4) {
            run(
                cfg,
                s,
                (uuid, &bulk.store),
                bulk.key.clone(),
                bulk.service,
                op,
            );
        }
    }
    let list: Vec<Value> = bulk
        .ops
        .iter()
        .enumerate()
        .map(|(i, o)| {
            json!({"id": i, "status": o.status, "result_message": o.message,
                   "error_code": if matches!(o.status, 2 | 3) { json!(1) } else { Value::Null }})
        })
        .collect();
    // Magento describes a bulk by its queue topic, the service and the route's method.
    let topic = match bulk.service {
        Service::Products => "async.magento.catalog.api.productrepositoryinterface.save.post",
        Service::SourceItems => {
            "async.magento.inventoryapi.api.sourceitemssaveinterface.execute.post"
        }
        Service::UpdateBySku => "async.magento.catalog.api.productrepositoryinterface.save.put",
        Service::DeleteBySku => {
            "async.magento.catalog.api.productrepositoryinterface.deletebyid.delete"
        }
    };
    let answer = json!({"operations_list": list, "bulk_id": uuid, "description": format!("Topic {topic}"),
                        "user_type": 2, "operation_count": bulk.ops.len()});
    s.bulks.bulks.insert(uuid.to_owned(), bulk);
    (StatusCode::OK, answer)
}

/// The consumer running one operation.
fn run(
    cfg: &FakeStoreConfig,
    s: &mut Store,
    (uuid, store): (&str, &str),
    key: Option<String>,
    service: Service,
    op: &mut Op,
) {
    let sku = sku_of(service, &op.payload);
    if let Some(n) = s.bulks.switches.retriable.get_mut(&sku).filter(|n| **n > 0) {
        *n -= 1;
        op.status = 2;
        op.message =
            Some("Deadlock found when trying to get lock; try restarting transaction".into());
        return;
    }
    let skus = super::written_skus(&[], &op.payload);
    let before = super::fingerprint(s, &skus);
    let (code, body) = match service {
        Service::Products => super::save_product(s, None, &op.payload),
        Service::SourceItems => super::source_items(cfg, s, &op.payload),
        Service::UpdateBySku => {
            let mut body = op.payload.clone();
            if let Some(m) = body.as_object_mut() {
                m.remove("sku");
            }
            super::save_product(s, Some(&sku), &body)
        }
        Service::DeleteBySku => super::delete_product(s, &sku),
    };
    let route = match service {
        Service::Products => "V1/products".to_owned(),
        Service::SourceItems => "V1/inventory/source-items".to_owned(),
        Service::UpdateBySku | Service::DeleteBySku => format!("V1/products/{sku}"),
    };
    let method = match service {
        Service::UpdateBySku => "PUT",
        Service::DeleteBySku => "DELETE",
        Service::Products | Service::SourceItems => "POST",
    };
    if let (Some(k), true) = (&key, super::fingerprint(s, &skus) != before) {
        *s.applied.entry(k.clone()).or_default() += 1;
    }
    s.writes.push(Recorded {
        method: method.into(),
        route,
        store: store.to_owned(),
        body: op.payload.clone(),
        idempotency_key: key,
        status: code.as_u16(),
        bulk: Some(uuid.to_owned()),
    });
    if code.is_success() {
        op.status = 1;
        op.message = Some("Service execution success".into());
    } else {
        let m: MagentoMessage = serde_json::from_value(body).unwrap_or_default();
        op.status = 3;
        op.message = Some(m.describe());
    }
}
