//! The EDI routes over HTTP — inbox/outbox, message view with parsed tree and report,
//! reprocess, send, and reprocessing an EDI order — merged into the real API router (the
//! hub's test kit) against messages stored with the crate's own insert functions from the
//! hand-written fixtures.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use reqwest::Method;
use serde_json::{json, Value};
use sqlx::PgPool;
use std::collections::HashSet;
use std::sync::Arc;
use switchyard_api::testkit::{all_but, code, hub_scopes, json, StubAdmission, TestApp};
use switchyard_core::ids::OrgId;
use switchyard_core::model::OrderStatus;
use switchyard_edi_van::messages::{
    self as store, EdiMessageId, EdiStandard, EdiStatus, InboundInsert, NewEdiMessage,
};
use switchyard_edi_van::partners::{EdiPartner, EdiPartners};

fn fixture(path: &str) -> Vec<u8> {
    let full = format!(
        "{}/../../../fixtures/edi/{path}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read(&full).unwrap_or_else(|e| panic!("{full}: {e}"))
}

/// Every scope keys may hold here: the hub's and the EDI integration's.
fn all_scopes() -> Vec<&'static str> {
    let mut all = hub_scopes();
    all.extend(switchyard_edi_van::scopes::SCOPES.iter().map(|s| s.name));
    all
}

/// The API with the EDI routes over `partners`; the admission stand-in knows the EDI kinds.
async fn app_with(pool: PgPool, partners: EdiPartners) -> TestApp {
    TestApp::builder(pool)
        .admission(StubAdmission::with_kinds(&[
            "edi.send",
            "edi.order.reprocess",
        ]))
        .routes(
            switchyard_edi_van::routes::router(Arc::new(partners)),
            switchyard_edi_van::scopes::SCOPES,
        )
        .spawn()
        .await
}

async fn spawn(pool: PgPool) -> TestApp {
    app_with(pool, EdiPartners::default()).await
}

fn message(
    org: OrgId,
    partner: &str,
    standard: EdiStandard,
    types: &[&str],
    control: &str,
    status: EdiStatus,
    raw: Vec<u8>,
) -> NewEdiMessage {
    NewEdiMessage {
        org,
        partner: partner.into(),
        standard,
        message_types: types.iter().map(|t| t.to_string()).collect(),
        sender_id: "5551234567".into(),
        receiver_id: "SWITCHYARD".into(),
        interchange_control: control.into(),
        group_controls: json!([]),
        status,
        raw,
        validation: None,
        errors: Vec::new(),
        related_message_id: None,
        file_name: Some(format!("{control}.edi")),
        pickup_id: None,
        file_offset: Some(0),
    }
}

async fn inbound(pool: &PgPool, m: &NewEdiMessage) -> EdiMessageId {
    match store::insert_inbound(pool, m).await.unwrap() {
        InboundInsert::Stored(id) => id,
        InboundInsert::Existing(e) => panic!("already stored as {}", e.id),
    }
}

/// The messages of one organization: a good 850 and its 997 (outbound), a broken 850 from
/// another partner, an EDIFACT ORDERS.
struct Seeded {
    good_850: EdiMessageId,
    ack_997: EdiMessageId,
    bad_850: EdiMessageId,
    orders: EdiMessageId,
}

async fn seed(app: &TestApp, org: OrgId) -> Seeded {
    let good_850 = inbound(
        &app.pool,
        &message(
            org,
            "acme",
            EdiStandard::X12,
            &["850"],
            "000000101",
            EdiStatus::Processed,
            fixture("x12/850_004010_good.edi"),
        ),
    )
    .await;
    let mut ack = message(
        org,
        "acme",
        EdiStandard::X12,
        &["997"],
        "000000102",
        EdiStatus::Sent,
        fixture("x12/997_004010_good.edi"),
    );
    ack.related_message_id = Some(good_850);
    let ack_997 = store::insert_outbound(&app.pool, &ack).await.unwrap();
    let bad_850 = inbound(
        &app.pool,
        &message(
            org,
            "globex",
            EdiStandard::X12,
            &["850"],
            "000000101",
            EdiStatus::Received,
            fixture("x12/850_004010_bad_date.edi"),
        ),
    )
    .await;
    let orders = inbound(
        &app.pool,
        &message(
            org,
            "eu-retail",
            EdiStandard::Edifact,
            &["ORDERS"],
            "ORD0001",
            EdiStatus::Processed,
            fixture("edifact/ORDERS_D96A_good.edi"),
        ),
    )
    .await;
    Seeded {
        good_850,
        ack_997,
        bad_850,
        orders,
    }
}

fn ids(page: &Value) -> Vec<String> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_str().unwrap().to_owned())
        .collect()
}

#[sqlx::test(migrator = "switchyard_store::MIGRATOR")]
async fn inbox_and_outbox_filter_and_page(pool: PgPool) {
    let app = spawn(pool).await;
    let org = app.org("a").await;
    let s = seed(&app, org).await;
    let key = app.key("a", &["read:edi"]).await;

    // Newest first; raw bodies are not part of a listing.
    let (status, page) = json(app.get("/api/v1/edi/messages", &key).await).await;
    assert_eq!(status, 200, "{page}");
    let all: Vec<String> = [s.orders, s.bad_850, s.ack_997, s.good_850]
        .iter()
        .map(|i| i.to_string())
        .collect();
    assert_eq!(ids(&page), all);
    assert!(page["next_cursor"].is_null());
    let first = &page["items"][0];
    assert!(first.get("raw").is_none(), "{first}");
    assert_eq!(first["standard"], "edifact");
    assert_eq!(first["message_types"], json!(["ORDERS"]));
    assert!(first["size_bytes"].as_u64().unwrap() > 100);

    let (_, inbox) = json(
        app.get("/api/v1/edi/messages?direction=inbound", &key)
            .await,
    )
    .await;
    assert_eq!(
        ids(&inbox),
        vec![
            s.orders.to_string(),
            s.bad_850.to_string(),
            s.good_850.to_string()
        ]
    );
    let (_, outbox) = json(
        app.get("/api/v1/edi/messages?direction=outbound", &key)
            .await,
    )
    .await;
    assert_eq!(ids(&outbox), vec![s.ack_997.to_string()]);
    assert_eq!(
        outbox["items"][0]["related_message_id"],
        s.good_850.to_string()
    );

    let (_, acme) = json(app.get("/api/v1/edi/messages?partner=acme", &key).await).await;
    assert_eq!(
        ids(&acme),
        vec![s.ack_997.to_string(), s.good_850.to_string()]
    );
    let (_, received) = json(app.get("/api/v1/edi/messages?status=received", &key).await).await;
    assert_eq!(ids(&received), vec![s.bad_850.to_string()]);
    let (_, edifact) = json(app.get("/api/v1/edi/messages?standard=edifact", &key).await).await;
    assert_eq!(ids(&edifact), vec![s.orders.to_string()]);
    let (_, t850) = json(
        app.get("/api/v1/edi/messages?type=850&direction=inbound", &key)
            .await,
    )
    .await;
    assert_eq!(
        ids(&t850),
        vec![s.bad_850.to_string(), s.good_850.to_string()]
    );

    // Keyset pages of 3 then 1: every message exactly once, the last page has no cursor.
    let (_, p1) = json(app.get("/api/v1/edi/messages?limit=3", &key).await).await;
    assert_eq!(ids(&p1), all[..3]);
    let cursor = p1["next_cursor"].as_str().expect("a cursor after page 1");
    let (_, p2) = json(
        app.get(
            &format!("/api/v1/edi/messages?limit=3&cursor={cursor}"),
            &key,
        )
        .await,
    )
    .await;
    assert_eq!(ids(&p2), all[3..]);
    assert!(p2["next_cursor"].is_null());

    // Bad input: the one error shape.
    let (status, b) = json(app.get("/api/v1/edi/messages?limit=0", &key).await).await;
    assert_eq!((status, code(&b)), (422, "validation_failed"));
    let (status, b) = json(app.get("/api/v1/edi/messages?cursor=%21%21", &key).await).await;
    assert_eq!((status, code(&b)), (422, "validation_failed"), "{b}");
    // Times chrono reads and Postgres refuses: 422, not a database error.
    let far = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(format!("-8000000000000000000:{}", uuid::Uuid::nil()));
    for query in [
        format!("cursor={far}"),
        "from=0000-01-01T00:00:00Z".to_owned(),
        "message_type=850%00".to_owned(),
    ] {
        let path = format!("/api/v1/edi/messages?{query}");
        let (status, b) = json(app.get(&path, &key).await).await;
        assert!([400, 422].contains(&status), "{path}: {status} {b}");
    }
    let (status, b) = json(
        app.get("/api/v1/edi/messages?direction=sideways", &key)
            .await,
    )
    .await;
    assert_eq!((status, code(&b)), (400, "bad_request"), "{b}");
    let (status, b) = json(app.get("/api/v1/edi/messages?colour=red", &key).await).await;
    assert_eq!((status, code(&b)), (400, "bad_request"), "{b}");
}

#[sqlx::test(migrator = "switchyard_store::MIGRATOR")]
async fn show_has_raw_tree_report_and_ack(pool: PgPool) {
    let app = spawn(pool).await;
    let org = app.org("a").await;
    let s = seed(&app, org).await;
    let key = app.key("a", &["read:edi"]).await;

    // A valid 850: raw text as stored, the tree down to segments and elements, no errors,
    // and the 997 we sent for it.
    let (status, m) = json(
        app.get(&format!("/api/v1/edi/messages/{}", s.good_850), &key)
            .await,
    )
    .await;
    assert_eq!(status, 200, "{m}");
    assert_eq!(m["id"], s.good_850.to_string());
    assert_eq!(m["direction"], "inbound");
    assert_eq!(m["raw_encoding"], "utf8");
    assert_eq!(
        m["raw"].as_str().unwrap().as_bytes(),
        fixture("x12/850_004010_good.edi")
    );
    assert_eq!(m["ack_message_id"], s.ack_997.to_string());
    assert_eq!(m["report"]["valid"], true);
    assert_eq!(m["report"]["errors"], json!([]));
    let ic = &m["parsed"]["interchanges"][0];
    assert_eq!(m["parsed"]["interchanges"].as_array().unwrap().len(), 1);
    assert_eq!(ic["header"]["control"], "000000101");
    let set = &ic["groups"][0]["sets"][0];
    assert_eq!(set["type"], "850");
    assert_eq!(set["control"], "0001");
    assert_eq!(set["status"], "accepted");
    let beg = &set["segments"][1];
    assert_eq!(beg["id"], "BEG");
    assert_eq!(beg["elements"][2], json!([["PO-4410"]]));

    // The broken 850: invalid, and the error says where (set, segment, element).
    let (status, m) = json(
        app.get(&format!("/api/v1/edi/messages/{}", s.bad_850), &key)
            .await,
    )
    .await;
    assert_eq!(status, 200, "{m}");
    assert_eq!(m["report"]["valid"], false);
    assert_eq!(m["parsed"]["valid"], false);
    assert!(m["ack_message_id"].is_null());
    let errors = m["report"]["errors"].as_array().unwrap();
    let date = errors
        .iter()
        .find(|e| e["code"] == "invalid_date")
        .unwrap_or_else(|| panic!("no invalid_date in {errors:?}"));
    assert_eq!(date["severity"], "error");
    assert_eq!(date["location"]["interchange"], "000000101");
    assert_eq!(date["location"]["set"], "0001");
    assert_eq!(date["location"]["segment_id"], "BEG");
    assert_eq!(date["location"]["element"], 5);
    assert!(
        date["message"].as_str().unwrap().contains("20260231"),
        "{date}"
    );
    // The same error in the tree, under its interchange.
    assert!(m["parsed"]["interchanges"][0]["errors"]
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["code"] == "invalid_date"));

    // EDIFACT works the same way.
    let (status, m) = json(
        app.get(&format!("/api/v1/edi/messages/{}", s.orders), &key)
            .await,
    )
    .await;
    assert_eq!(status, 200, "{m}");
    assert_eq!(m["report"]["valid"], true, "{}", m["report"]);
    assert_eq!(
        m["parsed"]["interchanges"][0]["groups"][0]["sets"][0]["type"],
        "ORDERS"
    );

    // An outbound message: no ack of its own; it points at what it acknowledges.
    let (status, m) = json(
        app.get(&format!("/api/v1/edi/messages/{}", s.ack_997), &key)
            .await,
    )
    .await;
    assert_eq!(status, 200, "{m}");
    assert_eq!(m["direction"], "outbound");
    assert_eq!(m["related_message_id"], s.good_850.to_string());
    assert!(m["ack_message_id"].is_null());
}

#[sqlx::test(migrator = "switchyard_store::MIGRATOR")]
async fn bytes_that_are_not_utf8_come_back_as_base64(pool: PgPool) {
    let app = spawn(pool).await;
    let org = app.org("a").await;
    let key = app.key("a", &["read:edi"]).await;
    // A UNOC (Latin-1) interchange: É is the single byte 0xC9, not valid UTF-8.
    let text = fixture("edifact/ORDERS_D96A_good.edi");
    let needle = b"DELIVER TO DOCK";
    let at = text
        .windows(needle.len())
        .position(|w| w == needle)
        .expect("the fixture has the FTX text");
    let mut raw = text[..at].to_vec();
    raw.extend_from_slice(b"LIVR\xC9 AU QUAI");
    raw.extend_from_slice(&text[at + needle.len()..]);
    assert!(std::str::from_utf8(&raw).is_err());
    let id = inbound(
        &app.pool,
        &message(
            org,
            "fr-retail",
            EdiStandard::Edifact,
            &["ORDERS"],
            "ORD0001",
            EdiStatus::Processed,
            raw.clone(),
        ),
    )
    .await;
    let (status, m) = json(app.get(&format!("/api/v1/edi/messages/{id}"), &key).await).await;
    assert_eq!(status, 200, "{m}");
    assert_eq!(m["raw_encoding"], "base64");
    assert_eq!(STANDARD.decode(m["raw"].as_str().unwrap()).unwrap(), raw);
    assert_eq!(m["parsed"]["interchanges"].as_array().unwrap().len(), 1);
}

#[sqlx::test(migrator = "switchyard_store::MIGRATOR")]
async fn reprocess_revalidates_and_sets_status(pool: PgPool) {
    let app = spawn(pool).await;
    let org = app.org("a").await;
    let s = seed(&app, org).await;
    let key = app.key("a", &["write:edi"]).await;

    // The broken 850 was left `received`: reprocessing finds its errors and stores them.
    let (status, m) = json(
        app.post(
            &format!("/api/v1/edi/messages/{}/reprocess", s.bad_850),
            &key,
            json!({}),
        )
        .await,
    )
    .await;
    assert_eq!(status, 200, "{m}");
    assert_eq!(m["status"], "error");
    assert_eq!(m["report"]["valid"], false);
    let errors = m["errors"].as_array().unwrap();
    assert!(
        errors.iter().any(|e| e.as_str().unwrap().contains("BEG05")),
        "{errors:?}"
    );
    let stored = store::get(&app.pool, org, s.bad_850)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.status, EdiStatus::Error);
    assert_eq!(stored.errors.len(), errors.len());
    let validation = stored.validation.expect("the report is stored");
    assert!(validation["issues"]
        .as_array()
        .unwrap()
        .iter()
        .any(|i| i["code"] == "invalid_date"));

    // A valid message marked `error` (say, by an older build) becomes `processed`, and its
    // stale errors are replaced.
    store::set_status(
        &app.pool,
        org,
        s.good_850,
        EdiStatus::Error,
        Some(&["stale".to_owned()]),
    )
    .await
    .unwrap();
    let (status, m) = json(
        app.post(
            &format!("/api/v1/edi/messages/{}/reprocess", s.good_850),
            &key,
            json!({}),
        )
        .await,
    )
    .await;
    assert_eq!(status, 200, "{m}");
    assert_eq!(m["status"], "processed");
    assert_eq!(m["errors"], json!([]));
    assert_eq!(m["ack_message_id"], s.ack_997.to_string());
    let stored = store::get(&app.pool, org, s.good_850)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.status, EdiStatus::Processed);
    assert!(stored.errors.is_empty());
    assert_eq!(stored.validation.unwrap()["issues"], json!([]));

    // Outbound messages are not reprocessed; nothing changes.
    let (status, b) = json(
        app.post(
            &format!("/api/v1/edi/messages/{}/reprocess", s.ack_997),
            &key,
            json!({}),
        )
        .await,
    )
    .await;
    assert_eq!((status, code(&b)), (409, "conflict"), "{b}");
    let stored = store::get(&app.pool, org, s.ack_997)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.status, EdiStatus::Sent);

    // Neither are duplicates.
    let dup = store::insert_duplicate(
        &app.pool,
        &message(
            org,
            "acme",
            EdiStandard::X12,
            &["850"],
            "000000101",
            EdiStatus::Received,
            fixture("x12/850_004010_good.edi"),
        ),
        s.good_850,
    )
    .await
    .unwrap();
    let (status, b) = json(
        app.post(
            &format!("/api/v1/edi/messages/{dup}/reprocess"),
            &key,
            json!({}),
        )
        .await,
    )
    .await;
    assert_eq!((status, code(&b)), (409, "conflict"), "{b}");
    let stored = store::get(&app.pool, org, dup).await.unwrap().unwrap();
    assert_eq!(stored.status, EdiStatus::Error);
}

#[sqlx::test(migrator = "switchyard_store::MIGRATOR")]
async fn every_edi_route_answers_401_403_and_404_across_orgs(pool: PgPool) {
    let app = spawn(pool).await;
    let org = app.org("a").await;
    let s = seed(&app, org).await;
    let routes = [
        (
            Method::GET,
            "/api/v1/edi/messages".to_owned(),
            "read:edi",
            false,
        ),
        (
            Method::GET,
            format!("/api/v1/edi/messages/{}", s.bad_850),
            "read:edi",
            true,
        ),
        (
            Method::POST,
            format!("/api/v1/edi/messages/{}/reprocess", s.bad_850),
            "write:edi",
            true,
        ),
    ];
    let other_org = app.key("b", &all_scopes()).await;
    for (method, path, scope, names_message) in &routes {
        let (status, b) = json(app.call(method.clone(), path, None, None).await).await;
        assert_eq!((status, code(&b)), (401, "unauthorized"), "{method} {path}");
        let (status, _) = json(
            app.call(method.clone(), path, Some("sy_not-a-real-key"), None)
                .await,
        )
        .await;
        assert_eq!(status, 401, "{method} {path} with an unknown key");

        // Every scope but the one needed (and the write scope that implies it).
        let others = all_but(&all_scopes(), scope);
        let key = app.key("a", &others).await;
        let (status, b) = json(app.call(method.clone(), path, Some(&key), None).await).await;
        assert_eq!((status, code(&b)), (403, "forbidden"), "{method} {path}");
        assert!(
            b["error"]["message"].as_str().unwrap().contains(*scope),
            "{b}"
        );

        // Another organization's key sees nothing of this one.
        let (status, b) = json(app.call(method.clone(), path, Some(&other_org), None).await).await;
        if *names_message {
            assert_eq!((status, code(&b)), (404, "not_found"), "{method} {path}");
            assert_eq!(b["error"]["message"], "edi message not found");
        } else {
            assert_eq!(status, 200, "{method} {path}");
            assert_eq!(b["items"], json!([]));
        }
    }

    // write:edi implies read:edi; read:edi alone cannot reprocess.
    let writer = app.key("a", &["write:edi"]).await;
    let (status, page) = json(app.get("/api/v1/edi/messages", &writer).await).await;
    assert_eq!(status, 200);
    let seen: HashSet<String> = ids(&page).into_iter().collect();
    assert_eq!(seen.len(), 4);
    let reader = app.key("a", &["read:edi"]).await;
    let (status, _) = json(
        app.post(
            &format!("/api/v1/edi/messages/{}/reprocess", s.bad_850),
            &reader,
            json!({}),
        )
        .await,
    )
    .await;
    assert_eq!(status, 403);
    // The 403 and 404s above changed nothing.
    let stored = store::get(&app.pool, org, s.bad_850)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.status, EdiStatus::Received);

    // A malformed id is a 400 in the one shape, not a 404 or a 500.
    let key = app.key("a", &["read:edi"]).await;
    let (status, b) = json(app.get("/api/v1/edi/messages/not-a-uuid", &key).await).await;
    assert_eq!((status, code(&b)), (400, "bad_request"), "{b}");
}

#[sqlx::test(migrator = "switchyard_store::MIGRATOR")]
async fn overdue_acknowledgements_show_on_the_message_and_filter_the_listing(pool: PgPool) {
    let app = spawn(pool).await;
    let org = app.org("a").await;
    let s = seed(&app, org).await;
    let key = app.key("a", &["read:edi"]).await;
    let sent_855 = store::insert_outbound(
        &app.pool,
        &message(
            org,
            "acme",
            EdiStandard::X12,
            &["855"],
            "000000017",
            EdiStatus::Sent,
            fixture("x12/855_004010_good.edi"),
        ),
    )
    .await
    .unwrap();
    let now = chrono::Utc::now();
    // What `edi.ack.overdue` does: the 855 is past the window; the 997 we sent is an ack and
    // is never expected to be acknowledged.
    let claimed = store::claim_overdue(
        &app.pool,
        org,
        "acme",
        now + chrono::Duration::hours(1),
        now,
    )
    .await
    .unwrap();
    assert_eq!(
        claimed.iter().map(|m| m.id).collect::<Vec<_>>(),
        vec![sent_855]
    );

    let (status, overdue) = json(app.get("/api/v1/edi/messages?overdue=true", &key).await).await;
    assert_eq!(status, 200, "{overdue}");
    assert_eq!(ids(&overdue), vec![sent_855.to_string()]);
    assert_eq!(overdue["items"][0]["ack_overdue"], true);
    let (_, others) = json(app.get("/api/v1/edi/messages?overdue=false", &key).await).await;
    let others = ids(&others);
    assert_eq!(others.len(), 4, "{others:?}");
    assert!(!others.contains(&sent_855.to_string()));
    assert!(others.contains(&s.ack_997.to_string()));

    let (status, one) = json(
        app.get(&format!("/api/v1/edi/messages/{sent_855}"), &key)
            .await,
    )
    .await;
    assert_eq!(status, 200, "{one}");
    assert_eq!(one["ack_overdue"], true);
    let at: chrono::DateTime<chrono::Utc> =
        serde_json::from_value(one["ack_overdue_at"].clone()).expect("a timestamp");
    assert!((at - now).num_seconds().abs() < 2, "{at} vs {now}");
    let (_, ack) = json(
        app.get(&format!("/api/v1/edi/messages/{}", s.ack_997), &key)
            .await,
    )
    .await;
    assert_eq!(ack["ack_overdue"], false);
    assert!(ack["ack_overdue_at"].is_null());

    // A late acknowledgement: no longer overdue, the time it was overdue stays as history.
    store::set_status(&app.pool, org, sent_855, EdiStatus::Acknowledged, None)
        .await
        .unwrap();
    let (_, overdue) = json(app.get("/api/v1/edi/messages?overdue=true", &key).await).await;
    assert!(ids(&overdue).is_empty(), "{overdue}");
    let (_, one) = json(
        app.get(&format!("/api/v1/edi/messages/{sent_855}"), &key)
            .await,
    )
    .await;
    assert_eq!(one["ack_overdue"], false);
    assert!(one["ack_overdue_at"].is_string(), "{one}");
}

fn canonical_order() -> Value {
    let address = json!({"name": "Acme DC 7", "line1": "100 Main St", "city": "Springfield",
                         "region": "IL", "postal_code": "62701", "country": "US"});
    json!({
        "order_number": "SO-1001", "customer_id": "ACME", "status": "confirmed", "currency": "USD",
        "ordered_at": "2026-03-01T08:00:00Z", "requested_delivery": "2026-03-10",
        "lines": [{"line_number": 1, "sku": "BAR-A36-1", "description": "Flat bar", "quantity": "12",
                   "uom": "EA", "unit_price": "18.40", "requested_date": null}],
        "billing_address": address, "shipping_address": address, "supplier_order_ref": null,
        "customer_po": "PO-1", "tracking_numbers": []
    })
}

async fn spawn_with_partners(pool: PgPool) -> TestApp {
    let mut partners = EdiPartners::default();
    for (name, standard, version) in [("acme", "x12", "004010"), ("eurobuy", "edifact", "D96A")] {
        let profile = serde_json::from_value(json!({
            "name": name, "standard": standard, "version": version,
            "us": {"qualifier": "ZZ", "id": "US"}, "them": {"qualifier": "ZZ", "id": "THEM"},
        }))
        .unwrap();
        partners.insert(name, EdiPartner::local(format!("/van/{name}"), profile));
    }
    app_with(pool, partners).await
}

#[sqlx::test(migrator = "switchyard_store::MIGRATOR")]
async fn send_enqueues_an_edi_send_job_once_per_idempotency_key(pool: PgPool) {
    let app = spawn_with_partners(pool).await;
    let org = app.org("a").await;
    let key = app.key("a", &["write:edi"]).await;
    let send = |idem: &'static str| {
        app.client
            .post(format!("{}/api/v1/edi/send", app.base))
            .bearer_auth(&key)
            .header("Idempotency-Key", idem)
            .json(&json!({"partner": "acme", "document": "order_response", "entity": canonical_order()}))
            .send()
    };
    let first = send("po-1-ack").await.unwrap();
    assert_eq!(first.status(), 202);
    let location = first.headers()["location"].to_str().unwrap().to_owned();
    assert!(first.headers().get("idempotent-replayed").is_none());
    let (_, job) = json(first).await;
    let id = job["id"].as_str().unwrap().to_owned();
    assert_eq!(location, format!("/api/v1/jobs/{id}"));
    assert_eq!(job["kind"], "edi.send");
    assert_eq!(job["partner"], "acme");
    assert_eq!(job["state"], "pending");
    assert_eq!(
        job["payload"],
        json!({"partner": "acme", "document": "order_response", "entity": canonical_order()})
    );

    let again = send("po-1-ack").await.unwrap();
    assert_eq!(again.status(), 202);
    assert_eq!(again.headers()["idempotent-replayed"], "true");
    let (_, same) = json(again).await;
    assert_eq!(same["id"], id.as_str());
    let n = app
        .count(&format!(
            "SELECT count(*) FROM jobs WHERE org_id = '{}' AND kind = 'edi.send'",
            org.0
        ))
        .await;
    assert_eq!(n, 1);
    let other = send("po-1-ack-resend").await.unwrap();
    let (_, other) = json(other).await;
    assert_ne!(other["id"], id.as_str());
}

#[sqlx::test(migrator = "switchyard_store::MIGRATOR")]
async fn send_refuses_unknown_partners_and_non_canonical_entities(pool: PgPool) {
    let app = spawn_with_partners(pool).await;
    let key = app.key("a", &["write:edi"]).await;
    let (status, body) = json(
        app.post(
            "/api/v1/edi/send",
            &key,
            json!({"partner": "globex", "document": "invoice", "entity": {}}),
        )
        .await,
    )
    .await;
    assert_eq!((status, code(&body)), (422, "unknown_partner"), "{body}");
    assert_eq!(
        body["error"]["details"]["known"],
        json!(["acme", "eurobuy"])
    );

    let mut broken = canonical_order();
    broken["lines"][0]["quantity"] = json!("a dozen");
    let (status, body) = json(
        app.post(
            "/api/v1/edi/send",
            &key,
            json!({"partner": "acme", "document": "order_response", "entity": broken}),
        )
        .await,
    )
    .await;
    assert_eq!((status, code(&body)), (422, "validation_failed"), "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("not a canonical order"),
        "{body}"
    );

    let shipment = json!({"shipment_number": "SH-1", "order_number": "SO-1001", "carrier": null,
                          "service": null, "shipped_at": null, "packages": []});
    let (status, body) = json(
        app.post(
            "/api/v1/edi/send",
            &key,
            json!({"partner": "acme", "document": "ship_notice", "entity": shipment}),
        )
        .await,
    )
    .await;
    assert_eq!((status, code(&body)), (422, "validation_failed"), "{body}");
    assert_eq!(body["error"]["details"]["field"], "order");
    let (status, body) = json(
        app.post(
            "/api/v1/edi/send",
            &key,
            json!({"partner": "acme", "document": "packing_slip", "entity": {}}),
        )
        .await,
    )
    .await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(
        app.count("SELECT count(*) FROM jobs").await,
        0,
        "nothing enqueued"
    );

    // A key without write:edi may not send.
    let reader = app.key("a", &["read:edi"]).await;
    let (status, body) = json(
        app.post(
            "/api/v1/edi/send",
            &reader,
            json!({"partner": "acme", "document": "order_response", "entity": canonical_order()}),
        )
        .await,
    )
    .await;
    assert_eq!((status, code(&body)), (403, "forbidden"), "{body}");
    // The route is in the OpenAPI document.
    let (_, doc) = json(
        app.call(Method::GET, "/api/v1/openapi.json", None, None)
            .await,
    )
    .await;
    assert!(
        doc["paths"]["/api/v1/edi/send"]["post"].is_object(),
        "{}",
        doc["paths"]
    );
}

#[sqlx::test(migrator = "switchyard_store::MIGRATOR")]
async fn send_takes_a_stored_order_by_id(pool: PgPool) {
    use switchyard_store::orders::{insert_order, NewOrder, OrderInsert};
    let app = spawn_with_partners(pool).await;
    let org = app.org("a").await;
    let key = app.key("a", &["write:edi"]).await;
    let stored = insert_order(
        &app.pool,
        &NewOrder {
            org,
            order_number: "SO-1001".into(),
            // Stored without a known customer, as an order held for review can be.
            customer_id: None,
            customer_po: "PO-1".into(),
            status: switchyard_core::model::OrderStatus::Confirmed,
            canonical: canonical_order(),
            source_message_id: None,
            partner: None,
            source_set: None,
            mapped: None,
            mapping_hash: None,
            review_errors: Vec::new(),
            reply_to: None,
        },
    )
    .await
    .unwrap();
    let OrderInsert::Stored(id) = stored else {
        panic!("a new order")
    };
    let send = |body: Value| {
        app.client
            .post(format!("{}/api/v1/edi/send", app.base))
            .bearer_auth(&key)
            .json(&body)
            .send()
    };
    let ok =
        send(json!({"partner": "acme", "document": "order_response", "order_id": id.to_string()}))
            .await
            .unwrap();
    assert_eq!(ok.status(), 202);
    let (_, job) = json(ok).await;
    assert_eq!(
        job["payload"],
        json!({"partner": "acme", "document": "order_response", "entity": canonical_order()}),
        "the stored canonical order is what gets sent"
    );
    // Another organization's order, or none at all: 404, nothing enqueued.
    let other = app.key("b", &["write:edi"]).await;
    let foreign = app
        .client
        .post(format!("{}/api/v1/edi/send", app.base))
        .bearer_auth(&other)
        .json(&json!({"partner": "acme", "document": "order_response", "order_id": id.to_string()}))
        .send()
        .await
        .unwrap();
    assert_eq!(foreign.status(), 404);
    // Both an entity and an order id, or neither: 422 naming the field.
    let both = send(json!({"partner": "acme", "document": "order_response",
                           "entity": canonical_order(), "order_id": id.to_string()}))
    .await
    .unwrap();
    assert_eq!(both.status(), 422);
    let (_, body) = json(both).await;
    assert_eq!(body["error"]["details"]["field"], "order_id", "{body}");
    let neither = send(json!({"partner": "acme", "document": "invoice"}))
        .await
        .unwrap();
    assert_eq!(neither.status(), 422);
    let (_, body) = json(neither).await;
    assert_eq!(body["error"]["details"]["field"], "entity", "{body}");
    // An invoice naming its stored order: the order goes with it, for the buyer's PO number
    // and date (810 BIG04/BIG03, INVOIC RFF+ON) that the invoice itself does not carry.
    let invoice = json!({
        "invoice_number": "FV-1", "order_number": "SO-1001", "issue_date": "2026-03-06",
        "due_date": null, "currency": "USD",
        "seller": {"id": "SWITCHYARD", "name": "Switchyard Steel", "tax_id": null, "email": null,
                   "billing_address": null, "shipping_address": null, "price_tier": null},
        "buyer": {"id": "ACME", "name": "Acme Retail", "tax_id": null, "email": null,
                  "billing_address": null, "shipping_address": null, "price_tier": null},
        "lines": [{"line_number": 1, "sku": "BAR-A36-1", "description": null, "quantity": "12",
                   "uom": "EA", "unit_price": "18.40", "vat_rate": "0"}]
    });
    let invoiced = send(json!({"partner": "acme", "document": "invoice",
                               "entity": invoice, "order_id": id.to_string()}))
    .await
    .unwrap();
    assert_eq!(invoiced.status(), 202);
    let (_, job) = json(invoiced).await;
    assert_eq!(
        job["payload"],
        json!({"partner": "acme", "document": "invoice", "entity": invoice, "order": canonical_order()}),
    );
    let n = app
        .count(&format!(
            "SELECT count(*) FROM jobs WHERE org_id = '{}' AND kind = 'edi.send'",
            org.0
        ))
        .await;
    assert_eq!(n, 2);
}

/// An order stored the way the EDI import stores it, in `status`.
async fn stored_order(app: &TestApp, org: OrgId, po: &str, status: OrderStatus) -> String {
    use switchyard_store::orders::{self as orders, CustomerRow, NewOrder, OrderInsert};
    orders::upsert_customer(
        &app.pool,
        org,
        &CustomerRow {
            customer_id: "C-ACME".into(),
            name: "Acme Retail".into(),
            active: true,
            edi_ids: Vec::new(),
        },
    )
    .await
    .unwrap();
    let canonical = json!({
        "order_number": format!("SO-{po}"), "customer_id": "C-ACME", "status": status.as_str(),
        "currency": "USD", "ordered_at": "2026-03-01T00:00:00Z", "requested_delivery": null,
        "lines": [{"line_number": 1, "sku": "BAR-A36-1", "description": null, "quantity": "0",
                   "uom": "EA", "unit_price": "5", "requested_date": null}],
        "billing_address": null, "shipping_address": null, "supplier_order_ref": null,
        "customer_po": po, "tracking_numbers": []
    });
    let new = NewOrder {
        org,
        order_number: format!("SO-{po}"),
        customer_id: Some("C-ACME".into()),
        customer_po: po.into(),
        status,
        canonical,
        source_message_id: None,
        partner: Some("acme".into()),
        source_set: Some("0001".into()),
        mapped: None,
        mapping_hash: None,
        review_errors: Vec::new(),
        reply_to: Some(json!({"partner": "acme"})),
    };
    match orders::insert_order(&app.pool, &new).await.unwrap() {
        OrderInsert::Stored(id) => id.to_string(),
        other => panic!("{other:?}"),
    }
}

#[sqlx::test(migrator = "switchyard_store::MIGRATOR")]
async fn an_order_in_review_is_reprocessed_by_the_edi_job(pool: PgPool) {
    let app = spawn_with_partners(pool).await;
    let org = app.org("a").await;
    let key = app.key("a", &["write:orders"]).await;
    let review = stored_order(&app, org, "PO-2", OrderStatus::PendingReview).await;
    let confirmed = stored_order(&app, org, "PO-1", OrderStatus::Confirmed).await;

    // 202 with the `edi.order.reprocess` job, which names the order.
    let (s, b) = json(
        app.post(
            &format!("/api/v1/orders/{review}/reprocess"),
            &key,
            json!({}),
        )
        .await,
    )
    .await;
    assert_eq!(s, 202, "{b}");
    assert_eq!(b["order"]["status"], "pending_review");
    let job = b["job_id"].as_str().unwrap();
    assert_eq!(
        app.count(&format!(
            "SELECT count(*) FROM jobs WHERE id = '{job}' AND kind = 'edi.order.reprocess' \
             AND payload->>'order_id' = '{review}' AND payload->>'remap' = 'false'"
        ))
        .await,
        1
    );
    // A confirmed order is not waiting for review.
    let (s, b) = json(
        app.post(
            &format!("/api/v1/orders/{confirmed}/reprocess"),
            &key,
            json!({}),
        )
        .await,
    )
    .await;
    assert_eq!((s, code(&b)), (409, "conflict"), "{b}");
    // Re-mapping needs the EDI message the order came from.
    let (s, b) = json(
        app.post(
            &format!("/api/v1/orders/{review}/reprocess"),
            &key,
            json!({"remap": true}),
        )
        .await,
    )
    .await;
    assert_eq!((s, code(&b)), (422, "validation_failed"), "{b}");
    // read:orders may not; another organization's key finds no such order.
    let reader = app.key("a", &["read:orders"]).await;
    let (s, _) = json(
        app.post(
            &format!("/api/v1/orders/{review}/reprocess"),
            &reader,
            json!({}),
        )
        .await,
    )
    .await;
    assert_eq!(s, 403);
    let other = app.key("b", &["write:orders"]).await;
    let (s, b) = json(
        app.post(
            &format!("/api/v1/orders/{review}/reprocess"),
            &other,
            json!({}),
        )
        .await,
    )
    .await;
    assert_eq!((s, code(&b)), (404, "not_found"), "{b}");
}
