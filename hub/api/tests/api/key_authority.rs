//! A key manager cannot make itself, or anyone, more than it is: it grants only scopes and a
//! tier it holds, acts only on keys it dominates, and cannot change its own scopes or tier.

use crate::common::{code, hub_scopes, json, spawn, TestApp};
use reqwest::Method;
use serde_json::{json, Value};
use sqlx::PgPool;
use switchyard_store::keys::Tier;

async fn patch(app: &TestApp, key: &str, id: &str, body: Value) -> (u16, Value) {
    json(
        app.call(
            Method::PATCH,
            &format!("/api/v1/keys/{id}"),
            Some(key),
            Some(body),
        )
        .await,
    )
    .await
}

/// The id of the key whose secret is `secret`, read through the API.
async fn own_id(app: &TestApp, manager: &str) -> String {
    let (_, list) = json(app.get("/api/v1/keys", manager).await).await;
    let prefix = &manager[..11];
    list["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["masked"].as_str().unwrap().starts_with(prefix))
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[sqlx::test(migrator = "switchyard_store::MIGRATOR")]
async fn a_manager_grants_only_scopes_and_a_tier_it_holds(pool: PgPool) {
    let app = spawn(pool).await;
    let manager = app.key_tier("a", &["admin:keys"], Tier::Basic).await;
    let before = app.count("SELECT count(*) FROM api_keys").await;

    // Every scope, one scope it lacks, a tier above its own: all refused, nothing created.
    for (body, why) in [
        (
            json!({"name": "root", "scopes": hub_scopes(), "tier": "premium"}),
            "every scope",
        ),
        (json!({"name": "w", "scopes": ["write:jobs"]}), "write:jobs"),
        (
            json!({"name": "p", "scopes": ["admin:keys"], "tier": "premium"}),
            "premium",
        ),
        (
            json!({"name": "s", "scopes": ["admin:keys"], "tier": "standard"}),
            "standard",
        ),
    ] {
        let (status, b) = json(app.post("/api/v1/keys", &manager, body).await).await;
        assert_eq!((status, code(&b)), (403, "forbidden"), "{why}: {b}");
    }
    assert_eq!(app.count("SELECT count(*) FROM api_keys").await, before);

    // What it holds, at its own tier, it may grant.
    let (status, b) = json(
        app.post(
            "/api/v1/keys",
            &manager,
            json!({"name": "deputy", "scopes": ["admin:keys"], "tier": "basic"}),
        )
        .await,
    )
    .await;
    assert_eq!(status, 201, "{b}");

    // A write scope grants its read scope, so it may be handed on; the write scope may not be
    // conjured from the read one.
    let writer = app
        .key_tier("a", &["admin:keys", "write:jobs"], Tier::Standard)
        .await;
    let (status, b) = json(
        app.post(
            "/api/v1/keys",
            &writer,
            json!({"name": "reader", "scopes": ["read:jobs"], "tier": "basic"}),
        )
        .await,
    )
    .await;
    assert_eq!(status, 201, "{b}");
    let reader_id = b["key"]["id"].as_str().unwrap().to_owned();
    let (status, b) = patch(&app, &writer, &reader_id, json!({"scopes": ["write:jobs"]})).await;
    assert_eq!(status, 200, "{b}");
    let (status, b) = patch(&app, &writer, &reader_id, json!({"scopes": ["read:logs"]})).await;
    assert_eq!((status, code(&b)), (403, "forbidden"), "{b}");
    let (status, b) = patch(&app, &writer, &reader_id, json!({"tier": "premium"})).await;
    assert_eq!((status, code(&b)), (403, "forbidden"), "{b}");
    let (_, reader) = json(app.get(&format!("/api/v1/keys/{reader_id}"), &writer).await).await;
    assert_eq!(
        (reader["scopes"].clone(), reader["tier"].as_str()),
        (json!(["write:jobs"]), Some("basic"))
    );
}

#[sqlx::test(migrator = "switchyard_store::MIGRATOR")]
async fn a_key_cannot_change_its_own_scopes_or_tier(pool: PgPool) {
    let app = spawn(pool).await;
    let manager = app
        .key_tier("a", &["admin:keys", "write:jobs"], Tier::Basic)
        .await;
    let id = own_id(&app, &manager).await;

    for body in [
        json!({"scopes": ["admin:keys", "write:jobs", "write:dead-letters"]}),
        json!({"tier": "premium"}),
        // Not even to what it already has: the rule is about who decides, not the value.
        json!({"scopes": ["admin:keys", "write:jobs"]}),
        json!({"tier": "basic"}),
    ] {
        let (status, b) = patch(&app, &manager, &id, body.clone()).await;
        assert_eq!((status, code(&b)), (403, "forbidden"), "{body}: {b}");
    }
    let (_, own) = json(app.get(&format!("/api/v1/keys/{id}"), &manager).await).await;
    assert_eq!(
        (own["scopes"].clone(), own["tier"].as_str()),
        (json!(["admin:keys", "write:jobs"]), Some("basic"))
    );
    assert_eq!(
        app.get("/api/v1/dead-letters", &manager).await.status(),
        403
    );

    // Its own name and expiry are its own business.
    let (status, b) = patch(&app, &manager, &id, json!({"name": "renamed"})).await;
    assert_eq!((status, b["name"].as_str()), (200, Some("renamed")), "{b}");
}

#[sqlx::test(migrator = "switchyard_store::MIGRATOR")]
async fn a_manager_cannot_touch_a_key_stronger_than_itself(pool: PgPool) {
    let app = spawn(pool).await;
    let root = app.key_tier("a", &hub_scopes(), Tier::Premium).await;
    let root_id = own_id(&app, &root).await;
    let manager = app.key_tier("a", &["admin:keys"], Tier::Basic).await;

    // Regenerating would hand the manager the root key's secret; the rest would let it rename,
    // disable or narrow a key it could never have made.
    for (method, path, body) in [
        (
            Method::POST,
            format!("/api/v1/keys/{root_id}/regenerate"),
            None,
        ),
        (
            Method::POST,
            format!("/api/v1/keys/{root_id}/suspend"),
            None,
        ),
        (
            Method::POST,
            format!("/api/v1/keys/{root_id}/reactivate"),
            None,
        ),
        (Method::POST, format!("/api/v1/keys/{root_id}/revoke"), None),
        (
            Method::PATCH,
            format!("/api/v1/keys/{root_id}"),
            Some(json!({"name": "mine now"})),
        ),
        (
            Method::PATCH,
            format!("/api/v1/keys/{root_id}"),
            Some(json!({"scopes": ["admin:keys"]})),
        ),
    ] {
        let (status, b) = json(app.call(method.clone(), &path, Some(&manager), body).await).await;
        assert_eq!(
            (status, code(&b)),
            (403, "forbidden"),
            "{method} {path}: {b}"
        );
        assert!(b.get("secret").is_none());
    }

    // The root key is untouched: same secret, same name, still active, every scope.
    assert_eq!(app.get("/api/v1/dead-letters", &root).await.status(), 200);
    let (_, key) = json(app.get(&format!("/api/v1/keys/{root_id}"), &root).await).await;
    assert_eq!(
        (key["name"].as_str(), key["state"].as_str()),
        (Some("test"), Some("active"))
    );
    assert_eq!(key["scopes"].as_array().unwrap().len(), hub_scopes().len());

    // The root key may manage the manager (it dominates it).
    let manager_id = own_id(&app, &manager).await;
    let (status, _) = json(
        app.post(
            &format!("/api/v1/keys/{manager_id}/suspend"),
            &root,
            json!({}),
        )
        .await,
    )
    .await;
    assert_eq!(status, 200);
}
