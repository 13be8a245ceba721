//! The bearer token: minted once and shared, renewed before its `exp`, replaced once when the
//! tenant refuses it, and refused credentials are an auth error.

mod common;

use common::{ctx, Tenant};
use serde_json::json;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use switchyard_core::adapter::Adapter;
use switchyard_core::ErrorClass;
use switchyard_wesellcellular::token::read_claims;

#[tokio::test]
async fn an_ended_token_is_refused_once_replaced_once_and_the_call_succeeds() {
    let t = Tenant::start().await;
    let adapter = t.adapter();
    adapter.health(&ctx("first")).await.expect("health");
    assert_eq!(t.fake.tokens_minted(), 1);
    // The tenant ends every token; the client's copy still says it is valid.
    t.fake.expire_tokens();
    let (c, sink) = common::ctx_recording("after-expiry");
    adapter
        .health(&c)
        .await
        .expect("the call succeeds after one refresh");
    assert_eq!(t.fake.refused_tokens(), 1, "exactly one 401");
    assert_eq!(t.fake.tokens_minted(), 2, "exactly one refresh");
    // The refused attempt and the successful one are both in the integration log.
    let statuses: Vec<_> = sink.exchanges().iter().map(|e| e.response_status).collect();
    assert_eq!(statuses, vec![Some(401), Some(200)]);
    // Later calls use the new token.
    adapter.health(&ctx("again")).await.expect("health");
    assert_eq!(t.fake.tokens_minted(), 2);
}

#[tokio::test]
async fn a_token_is_renewed_before_its_exp_without_meeting_a_401() {
    let t = Tenant::start().await;
    t.fake.set_token_lifetime(Duration::from_secs(1));
    let adapter = t.adapter();
    adapter.health(&ctx("first")).await.expect("health");
    assert_eq!(t.fake.tokens_minted(), 1);
    // Wait for the token's own end (its exp, whole seconds) to pass: the event itself.
    let deadline = Instant::now() + Duration::from_secs(5);
    let exp = {
        // The fake's tokens are minted now with a one-second life.
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs()
            + 1
    };
    while SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
        <= exp
    {
        assert!(Instant::now() < deadline, "the clock did not move");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    adapter.health(&ctx("second")).await.expect("health");
    assert_eq!(t.fake.tokens_minted(), 2, "a new token before the call");
    assert_eq!(
        t.fake.refused_tokens(),
        0,
        "no call was sent with an ended token"
    );
}

#[tokio::test]
async fn concurrent_calls_share_one_mint() {
    let t = Tenant::start().await;
    let adapter = t.adapter();
    let calls = (0..12).map(|i| {
        let adapter = &adapter;
        async move { adapter.health(&ctx(&format!("c{i}"))).await }
    });
    for r in futures::future::join_all(calls).await {
        r.expect("health");
    }
    assert_eq!(t.fake.tokens_minted(), 1);
    // And after the tenant ends it, concurrent refusals still mint once.
    t.fake.expire_tokens();
    let calls = (0..12).map(|i| {
        let adapter = &adapter;
        async move { adapter.health(&ctx(&format!("d{i}"))).await }
    });
    for r in futures::future::join_all(calls).await {
        r.expect("health after the refresh");
    }
    assert_eq!(t.fake.tokens_minted(), 2);
}

#[tokio::test]
async fn wrong_credentials_are_an_auth_error_and_never_logged() {
    let t = Tenant::start().await;
    let mut config = t.config();
    config["client_secret_ref"] = json!("secret:wrong");
    let adapter = t.adapter_with(&config);
    let (c, sink) = common::ctx_recording("bad");
    let err = adapter.health(&c).await.unwrap_err();
    assert_eq!(err.class, ErrorClass::Auth, "{err}");
    assert_eq!(err.status, Some(401));
    assert_eq!(t.fake.tokens_minted(), 0);
    let logged = format!("{:?}", sink.exchanges());
    assert_eq!(sink.len(), 1, "the failed mint is the call's one exchange");
    for secret in t.secret_values() {
        assert!(!logged.contains(&secret), "a credential reached the log");
    }
    assert!(!logged.contains("not-the-right-secret"));
}

#[tokio::test]
async fn the_token_is_a_jwt_whose_exp_the_client_reads() {
    let t = Tenant::start().await;
    let http = reqwest::Client::new();
    let answer: serde_json::Value = http
        .post(format!("{}/auth/token", t.fake.base_url()))
        .json(&json!({"clientId": t.fake.config().client_id, "clientSecret": t.fake.config().client_secret}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let claims = read_claims(answer["accessToken"].as_str().unwrap()).unwrap();
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    assert!((claims.exp - now - 3600).abs() <= 2, "{claims:?}");
    // A forged token (signed with another key) is refused by the tenant.
    let forged = jsonwebtoken::encode(
        &jsonwebtoken::Header::default(),
        &json!({"sub": "x", "exp": now + 600, "jti": "t1"}),
        &jsonwebtoken::EncodingKey::from_secret(b"not-the-tenant-key"),
    )
    .unwrap();
    let status = http
        .get(format!("{}/account/user-info", t.fake.base_url()))
        .bearer_auth(forged)
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(status, 401);
}
