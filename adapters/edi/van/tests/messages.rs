//! EDI storage against a real Postgres (a fresh database per test from `#[sqlx::test]`):
//! control numbers under concurrency, duplicate interchange detection, inbox/outbox listing.

use serde_json::json;
use sqlx::PgPool;
use std::collections::BTreeSet;
use switchyard_core::ids::OrgId;
use switchyard_edi_van::messages::{
    self as edi, ControlKind, EdiDirection, EdiFilter, EdiStandard, EdiStatus, InboundInsert,
    NewEdiMessage,
};
use switchyard_store::orgs;

fn inbound(org: OrgId, sender: &str, control: &str) -> NewEdiMessage {
    NewEdiMessage {
        org,
        partner: "acme".into(),
        standard: EdiStandard::X12,
        message_types: vec!["850".into()],
        sender_id: sender.into(),
        receiver_id: "SWITCHYARD".into(),
        interchange_control: control.into(),
        group_controls: json!([{"control": "101", "functional_id": "PO", "sets": ["0001"]}]),
        status: EdiStatus::Received,
        raw: b"ISA*00*...~".to_vec(),
        validation: Some(json!({"issues": []})),
        errors: vec![],
        related_message_id: None,
        file_name: Some("po.edi".into()),
        pickup_id: None,
        file_offset: Some(0),
    }
}

#[sqlx::test(migrator = "switchyard_store::MIGRATOR")]
async fn concurrent_allocation_gives_distinct_increasing_numbers(pool: PgPool) {
    let org = orgs::ensure(&pool, "acme").await.unwrap().id;
    let tasks: Vec<_> = (0..16)
        .map(|_| {
            let pool = pool.clone();
            tokio::spawn(async move {
                let mut mine = Vec::new();
                for _ in 0..25 {
                    let n = edi::next_control_number(&pool, org, "acme", ControlKind::Isa)
                        .await
                        .unwrap();
                    mine.push(n);
                }
                mine
            })
        })
        .collect();
    let mut all = Vec::new();
    for t in tasks {
        let mine = t.await.unwrap();
        // Each worker sees its own numbers strictly increase.
        assert!(mine.windows(2).all(|w| w[0] < w[1]), "{mine:?}");
        all.extend(mine);
    }
    let distinct: BTreeSet<i64> = all.iter().copied().collect();
    assert_eq!(distinct.len(), 400, "a number was handed out twice");
    // Nothing reused, nothing skipped: exactly 1..=400.
    assert_eq!(distinct.first(), Some(&1));
    assert_eq!(distinct.last(), Some(&400));
    assert_eq!(
        edi::last_control_number(&pool, org, "acme", ControlKind::Isa)
            .await
            .unwrap(),
        Some(400)
    );
    // Counters are per partner and per kind.
    assert_eq!(
        edi::next_control_number(&pool, org, "acme", ControlKind::Gs)
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        edi::next_control_number(&pool, org, "other", ControlKind::Isa)
            .await
            .unwrap(),
        1
    );
}

#[sqlx::test(migrator = "switchyard_store::MIGRATOR")]
async fn blocks_and_rolled_back_allocations_never_overlap(pool: PgPool) {
    let org = orgs::ensure(&pool, "acme").await.unwrap().id;
    let a = edi::allocate(&pool, org, "acme", ControlKind::St, 3)
        .await
        .unwrap();
    assert_eq!(a, 1..=3);
    // Allocated inside a transaction that rolls back (a crash before the document was
    // stored): the numbers were never used, so the counter goes back.
    let mut tx = switchyard_store::begin(&pool).await.unwrap();
    let b = edi::allocate(&mut *tx, org, "acme", ControlKind::St, 2)
        .await
        .unwrap();
    assert_eq!(b, 4..=5);
    tx.rollback().await.unwrap();
    let c = edi::allocate(&pool, org, "acme", ControlKind::St, 2)
        .await
        .unwrap();
    assert_eq!(c, 4..=5);
    let d = edi::next_control_number(&pool, org, "acme", ControlKind::St)
        .await
        .unwrap();
    assert_eq!(d, 6);
    assert!(edi::allocate(&pool, org, "acme", ControlKind::St, 0)
        .await
        .is_err());
}

#[sqlx::test(migrator = "switchyard_store::MIGRATOR")]
async fn exhausted_counter_is_an_error_not_a_wrap(pool: PgPool) {
    let org = orgs::ensure(&pool, "acme").await.unwrap().id;
    sqlx::query(
        "INSERT INTO edi_control_numbers (org_id, partner, kind, last) VALUES ($1, 'acme', 'isa', 999999999)",
    )
    .bind(org.0)
    .execute(&pool)
    .await
    .unwrap();
    let err = edi::next_control_number(&pool, org, "acme", ControlKind::Isa)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("exhausted"), "{err}");
}

#[sqlx::test(migrator = "switchyard_store::MIGRATOR")]
async fn duplicate_interchange_is_detected_and_stored_flagged(pool: PgPool) {
    let org = orgs::ensure(&pool, "acme").await.unwrap().id;
    let first = match edi::insert_inbound(&pool, &inbound(org, "5551234567", "000000101"))
        .await
        .unwrap()
    {
        InboundInsert::Stored(id) => id,
        other => panic!("first copy should be stored, got {other:?}"),
    };
    let second = inbound(org, "5551234567", "000000101");
    let existing = match edi::insert_inbound(&pool, &second).await.unwrap() {
        InboundInsert::Existing(m) => m,
        other => panic!("second copy should be a duplicate, got {other:?}"),
    };
    assert_eq!(existing.id, first);
    let dup = edi::insert_duplicate(&pool, &second, first).await.unwrap();
    let dup = edi::get(&pool, org, dup).await.unwrap().unwrap();
    assert_eq!(dup.status, EdiStatus::Error);
    assert_eq!(dup.duplicate_of, Some(first));
    assert!(
        dup.errors[0].starts_with("duplicate interchange"),
        "{:?}",
        dup.errors
    );
    // Same control number from another sender, or for another partner, is not a duplicate.
    assert!(matches!(
        edi::insert_inbound(&pool, &inbound(org, "OTHER", "000000101"))
            .await
            .unwrap(),
        InboundInsert::Stored(_)
    ));
    let mut elsewhere = inbound(org, "5551234567", "000000101");
    elsewhere.partner = "globex".into();
    assert!(matches!(
        edi::insert_inbound(&pool, &elsewhere).await.unwrap(),
        InboundInsert::Stored(_)
    ));
}

#[sqlx::test(migrator = "switchyard_store::MIGRATOR")]
async fn concurrent_copies_of_one_interchange_store_exactly_one(pool: PgPool) {
    let org = orgs::ensure(&pool, "acme").await.unwrap().id;
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let pool = pool.clone();
            tokio::spawn(async move {
                edi::insert_inbound(&pool, &inbound(org, "S", "42"))
                    .await
                    .unwrap()
            })
        })
        .collect();
    let mut stored = 0;
    for t in tasks {
        if matches!(t.await.unwrap(), InboundInsert::Stored(_)) {
            stored += 1;
        }
    }
    assert_eq!(stored, 1);
}

#[sqlx::test(migrator = "switchyard_store::MIGRATOR")]
async fn inbox_and_outbox_list_with_filters_and_pages(pool: PgPool) {
    let org = orgs::ensure(&pool, "acme").await.unwrap().id;
    let mut inbound_ids = Vec::new();
    for n in 0..5 {
        match edi::insert_inbound(&pool, &inbound(org, "S", &format!("{n}")))
            .await
            .unwrap()
        {
            InboundInsert::Stored(id) => inbound_ids.push(id),
            other => panic!("{other:?}"),
        }
    }
    let mut ack = inbound(org, "SWITCHYARD", "1");
    ack.message_types = vec!["997".into()];
    ack.status = EdiStatus::Sent;
    ack.related_message_id = Some(inbound_ids[0]);
    let ack_id = edi::insert_outbound(&pool, &ack).await.unwrap();
    edi::set_status(
        &pool,
        org,
        inbound_ids[0],
        EdiStatus::Processed,
        Some(&["note".to_string()]),
    )
    .await
    .unwrap();

    let inbox = EdiFilter {
        direction: Some(EdiDirection::Inbound),
        ..Default::default()
    };
    let (page1, next) = edi::list(&pool, org, &inbox, None, 3).await.unwrap();
    assert_eq!(page1.len(), 3);
    let (page2, last) = edi::list(&pool, org, &inbox, next, 3).await.unwrap();
    assert_eq!(page2.len(), 2);
    assert!(last.is_none());
    let mut seen: Vec<_> = page1.iter().chain(&page2).map(|m| m.id).collect();
    seen.reverse();
    assert_eq!(seen, inbound_ids, "newest first, every row once");
    // The cursor survives an encode/decode round trip.
    let c = next.unwrap();
    assert_eq!(edi::EdiCursor::decode(&c.encode()).unwrap(), c);

    let outbox = EdiFilter {
        direction: Some(EdiDirection::Outbound),
        message_type: Some("997".into()),
        ..Default::default()
    };
    let (out, _) = edi::list(&pool, org, &outbox, None, 10).await.unwrap();
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].id, ack_id);
    assert_eq!(out[0].related_message_id, Some(inbound_ids[0]));
    let processed = EdiFilter {
        status: Some(EdiStatus::Processed),
        ..Default::default()
    };
    let (p, _) = edi::list(&pool, org, &processed, None, 10).await.unwrap();
    assert_eq!(p.len(), 1);
    assert_eq!(p[0].errors, vec!["note".to_string()]);
    assert_eq!(
        edi::ack_of(&pool, org, inbound_ids[0])
            .await
            .unwrap()
            .map(|m| m.id),
        Some(ack_id)
    );
}
