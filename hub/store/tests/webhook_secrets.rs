//! Outbound webhook endpoints against a real Postgres: secrets sealed at rest (migration
//! 0030), the sealing key's rotation, and the batched reads and attempt writes deliveries use.

use base64::Engine;
use chrono::{Duration, TimeZone, Utc};
use serde_json::json;
use sqlx::PgPool;
use switchyard_core::ids::{EventId, OrgId};
use switchyard_store::queue::RetryPolicy;
use switchyard_store::sealing::{generate_key_base64, SealError, Sealing};
use switchyard_store::webhook_endpoints::{
    self as endpoints, AttemptOutcome, AttemptRow, DeliveryKey, EndpointRow, EndpointSettings,
    EndpointStatus, ResealError,
};
use switchyard_store::{events, orgs, MIGRATOR};

fn keyring(current: &str, previous: &[&str]) -> Sealing {
    Sealing::from_base64(current, previous).unwrap()
}

fn settings(name: &str) -> EndpointSettings {
    EndpointSettings {
        name: name.into(),
        url: format!("https://example.com/{name}"),
        events: vec!["product.*".into()],
        retry_policy: RetryPolicy::Exponential,
        max_retries: 3,
        headers: json!({}),
        max_in_flight: 4,
        rate_limit_per_sec: None,
        prd_signature: false,
    }
}

async fn endpoint(pool: &PgPool, org: OrgId, name: &str, secret: &str, s: &Sealing) -> EndpointRow {
    endpoints::create(
        pool,
        org,
        &settings(name),
        EndpointStatus::Active,
        secret,
        s,
        Utc::now(),
    )
    .await
    .unwrap()
}

/// The whole stored row as Postgres prints it (bytea in hex).
async fn row_text(pool: &PgPool, e: &EndpointRow) -> String {
    sqlx::query_scalar("SELECT w::text FROM webhook_endpoints w WHERE id = $1")
        .bind(e.id.0)
        .fetch_one(pool)
        .await
        .unwrap()
}

/// Neither the secret as text nor its key bytes (hex, as bytea prints) are in `text`.
fn assert_hidden(text: &str, secret: &str) {
    assert!(!text.contains(secret), "the secret is in the row: {text}");
    let key = base64::engine::general_purpose::STANDARD
        .decode(secret.strip_prefix("whsec_").unwrap())
        .unwrap();
    let hex: String = key.iter().map(|b| format!("{b:02x}")).collect();
    assert!(!text.contains(&hex), "the key bytes are in the row: {text}");
    let b64 = secret.strip_prefix("whsec_").unwrap();
    assert!(!text.contains(b64), "the secret's base64 is in the row");
}

#[sqlx::test(migrator = "MIGRATOR")]
async fn secrets_are_sealed_at_rest_and_rotation_keeps_the_previous_one_sealed(pool: PgPool) {
    let org = orgs::ensure(&pool, "acme").await.unwrap().id;
    let s = keyring(&generate_key_base64(), &[]);
    let first = endpoints::new_secret();
    let e = endpoint(&pool, org, "a", &first, &s).await;
    assert_eq!(e.secrets(&s).unwrap().current, first);
    let text = row_text(&pool, &e).await;
    assert_hidden(&text, &first);
    let (plain, key_id): (Option<String>, Option<String>) =
        sqlx::query_as("SELECT secret, secret_key_id FROM webhook_endpoints WHERE id = $1")
            .bind(e.id.0)
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(plain, None);
    assert_eq!(key_id.as_deref(), s.keyring().map(|k| k.current_id()));

    let second = endpoints::new_secret();
    let now = Utc::now();
    let rotated =
        endpoints::rotate_secret(&pool, org, e.id, &second, &s, now + Duration::hours(1), now)
            .await
            .unwrap()
            .unwrap();
    let opened = rotated.secrets(&s).unwrap();
    assert_eq!(opened.current, second);
    assert_eq!(opened.previous.as_deref(), Some(first.as_str()));
    assert!(rotated.previous_signs(now));
    assert!(!rotated.previous_signs(now + Duration::hours(2)));
    let text = row_text(&pool, &rotated).await;
    assert_hidden(&text, &first);
    assert_hidden(&text, &second);

    // A sealed value moved onto another endpoint's row does not open there (the row's id is
    // the associated data).
    let other = endpoint(&pool, org, "b", &endpoints::new_secret(), &s).await;
    sqlx::query(
        "UPDATE webhook_endpoints SET secret_sealed = (SELECT secret_sealed FROM webhook_endpoints WHERE id = $1)
         WHERE id = $2",
    )
    .bind(e.id.0)
    .bind(other.id.0)
    .execute(&pool)
    .await
    .unwrap();
    let moved = endpoints::get(&pool, org, other.id).await.unwrap().unwrap();
    let err = moved.secrets(&s).unwrap_err();
    assert!(matches!(err, SealError::Open { .. }), "{err}");
    assert!(err.to_string().contains(&other.id.to_string()), "{err}");
}

#[sqlx::test(migrator = "MIGRATOR")]
async fn plain_rows_are_sealed_and_keys_rotate_by_resealing(pool: PgPool) {
    let org = orgs::ensure(&pool, "acme").await.unwrap().id;
    // Written with no key configured (or before migration 0030): in the clear.
    let secret = endpoints::new_secret();
    let e = endpoint(&pool, org, "legacy", &secret, &Sealing::default()).await;
    assert!(row_text(&pool, &e).await.contains(&secret));
    // With no key, nothing is sealed and nothing fails.
    let none = endpoints::reseal(&pool, &Sealing::default()).await.unwrap();
    assert_eq!(none.endpoints, 0);

    let (a, b) = (generate_key_base64(), generate_key_base64());
    let old = keyring(&a, &[]);
    assert_eq!(endpoints::reseal(&pool, &old).await.unwrap().endpoints, 1);
    let sealed = endpoints::get(&pool, org, e.id).await.unwrap().unwrap();
    assert_hidden(&row_text(&pool, &sealed).await, &secret);
    assert_eq!(sealed.secrets(&old).unwrap().current, secret);
    // Once sealed, again is a no-op.
    assert_eq!(endpoints::reseal(&pool, &old).await.unwrap().endpoints, 0);

    // A wrong key fails clearly, naming the endpoint and the key it needs; nothing changes.
    let wrong = keyring(&b, &[]);
    let err = endpoints::reseal(&pool, &wrong).await.unwrap_err();
    let text = err.to_string();
    assert!(
        matches!(err, ResealError::Seal(SealError::UnknownKey { .. })),
        "{text}"
    );
    let old_id = old.keyring().unwrap().current_id();
    assert!(
        text.contains(&e.id.to_string()) && text.contains(old_id),
        "{text}"
    );
    assert!(sealed.secrets(&wrong).is_err());
    // No key at all, with sealed rows: refused, not silently unsigned.
    let err = endpoints::reseal(&pool, &Sealing::default())
        .await
        .unwrap_err();
    assert!(err.to_string().contains("no secret key"), "{err}");

    // Rotation: the new key current, the old one previous; resealing moves every value.
    let rotated = keyring(&b, &[&a]);
    assert_eq!(
        endpoints::reseal(&pool, &rotated).await.unwrap().endpoints,
        1
    );
    let moved = endpoints::get(&pool, org, e.id).await.unwrap().unwrap();
    assert_ne!(moved.stored_secrets, sealed.stored_secrets);
    // The old key can now be dropped; it alone opens nothing any more.
    assert_eq!(moved.secrets(&keyring(&b, &[])).unwrap().current, secret);
    assert!(moved.secrets(&old).is_err());
}

#[sqlx::test(migrator = "MIGRATOR")]
async fn batched_reads_and_attempt_writes(pool: PgPool) {
    let acme = orgs::ensure(&pool, "acme").await.unwrap().id;
    let other = orgs::ensure(&pool, "other").await.unwrap().id;
    let s = Sealing::default();
    let a = endpoint(&pool, acme, "a", &endpoints::new_secret(), &s).await;
    let b = endpoint(&pool, acme, "b", &endpoints::new_secret(), &s).await;
    let mut tx = switchyard_store::begin(&pool).await.unwrap();
    let ev = events::record(
        &mut *tx,
        acme,
        "product.updated",
        &json!({"sku": "X"}),
        None,
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    let key = |org, endpoint: &EndpointRow, event| DeliveryKey {
        org,
        endpoint: endpoint.id,
        event,
    };
    let found = endpoints::deliveries(
        &pool,
        &[
            key(acme, &a, ev.id),
            key(acme, &b, ev.id),
            // Another organization's delivery never sees acme's endpoint or event.
            key(other, &a, ev.id),
            key(acme, &a, EventId::new()),
        ],
    )
    .await
    .unwrap();
    assert_eq!(found.len(), 4);
    assert_eq!(
        found[0].as_ref().map(|(e, v)| (e.id, v.id)),
        Some((a.id, ev.id))
    );
    assert_eq!(found[1].as_ref().map(|(e, _)| e.id), Some(b.id));
    assert!(found[2].is_none() && found[3].is_none());

    let t0 = Utc.with_ymd_and_hms(2026, 3, 1, 12, 0, 0).unwrap();
    let attempt = |e: &EndpointRow, secs: i64, outcome| {
        (
            acme,
            AttemptRow {
                id: uuid::Uuid::now_v7(),
                endpoint_id: e.id,
                event_id: ev.id,
                event_type: "product.updated".into(),
                job_id: None,
                attempt: 1,
                at: t0 + Duration::seconds(secs),
                request_headers: json!({"webhook-id": ev.id}),
                outcome,
                http_status: Some(204),
                response_excerpt: None,
                error: None,
                duration_ms: 3,
            },
        )
    };
    let gone = endpoint(&pool, acme, "gone", &endpoints::new_secret(), &s).await;
    endpoints::delete(&pool, acme, gone.id).await.unwrap();
    endpoints::record_attempts(
        &pool,
        &[
            attempt(&a, 5, AttemptOutcome::Succeeded),
            attempt(&a, 9, AttemptOutcome::Failed),
            attempt(&a, 7, AttemptOutcome::Succeeded),
            // Skipped: logged, but the endpoint was not triggered.
            attempt(&b, 20, AttemptOutcome::Skipped),
            // Its endpoint was deleted meanwhile: dropped, the others still written.
            attempt(&gone, 1, AttemptOutcome::Succeeded),
        ],
    )
    .await
    .unwrap();
    let logged = endpoints::attempts(&pool, acme, a.id, 100).await.unwrap();
    assert_eq!(logged.len(), 3);
    assert_eq!(logged[0].at, t0 + Duration::seconds(9), "newest first");
    assert_eq!(
        endpoints::attempts(&pool, acme, b.id, 100)
            .await
            .unwrap()
            .len(),
        1
    );
    let a_now = endpoints::get(&pool, acme, a.id).await.unwrap().unwrap();
    assert_eq!(a_now.last_triggered_at, Some(t0 + Duration::seconds(9)));
    let b_now = endpoints::get(&pool, acme, b.id).await.unwrap().unwrap();
    assert_eq!(b_now.last_triggered_at, None);
    // An older batch never moves the stamp back.
    endpoints::record_attempts(&pool, &[attempt(&a, 1, AttemptOutcome::Succeeded)])
        .await
        .unwrap();
    let a_now = endpoints::get(&pool, acme, a.id).await.unwrap().unwrap();
    assert_eq!(a_now.last_triggered_at, Some(t0 + Duration::seconds(9)));
}
