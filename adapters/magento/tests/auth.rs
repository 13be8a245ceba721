//! Each auth mode against the fake store over HTTP, and what the store refuses.

mod common;

use common::{admin, ctx, integration_token, oauth, Store};
use reqwest::Url;
use serde_json::json;
use switchyard_core::adapter::Adapter as _;
use switchyard_core::ErrorClass;
use switchyard_magento::oauth::{authorization, Credentials, SignatureMethod};
use switchyard_magento::secret::Secret;

#[tokio::test]
async fn integration_token_is_refused_as_bearer_unless_the_store_allows_it() {
    let store = Store::start().await;
    let adapter = store.adapter(&store.config(integration_token()));
    let (c, sink) = ctx("bearer-refused");
    let err = adapter.health(&c).await.unwrap_err();
    assert_eq!(err.class, ErrorClass::Auth, "{err}");
    assert_eq!(err.status, Some(401));
    assert!(
        err.message
            .contains("The consumer isn't authorized to access Magento_Catalog::products."),
        "the %resources parameter is rendered: {err}"
    );
    assert_eq!(sink.len(), 1);

    store.fake.set_integration_as_bearer(true);
    adapter
        .health(&ctx("bearer-allowed").0)
        .await
        .expect("allowed as bearer");
}

#[tokio::test]
async fn oauth_signatures_with_sha256_and_sha1_are_accepted() {
    let store = Store::start().await;
    for method in ["HMAC-SHA256", "HMAC-SHA1"] {
        let adapter = store.adapter(&store.config(oauth(method)));
        adapter
            .health(&ctx(method).0)
            .await
            .unwrap_or_else(|e| panic!("{method}: {e}"));
        // A write with a SKU needing encoding, signed over its encoded path.
        let r = adapter
            .push(
                &ctx(&format!("{method}-w")).0,
                &common::product("BAR 3/4\"", "Bar"),
            )
            .await
            .unwrap_or_else(|e| panic!("{method}: {e}"));
        assert!(r.external_id.is_some());
    }
    assert!(store.fake.product("BAR 3/4\"").is_some());
}

#[tokio::test]
async fn oauth_with_a_wrong_secret_is_an_auth_error_and_nothing_is_written() {
    let store = Store::start().await;
    let mut auth = oauth("HMAC-SHA256");
    auth["access_token_secret_ref"] = json!("secret:wrong");
    let adapter = store.adapter(&store.config(auth));
    let (c, sink) = ctx("bad-oauth");
    let err = adapter
        .push(&c, &common::product("A-1", "A"))
        .await
        .unwrap_err();
    assert_eq!(err.class, ErrorClass::Auth, "{err}");
    assert!(err.message.contains("signature is invalid"), "{err}");
    assert!(store.fake.writes().is_empty());
    // The record names neither the secret nor the signature header.
    let logged = format!("{:?}", sink.exchanges());
    for s in store.secret_values() {
        assert!(
            !logged.contains(&s),
            "a credential reached the exchange log"
        );
    }
}

/// The same signed request sent twice: Magento refuses a nonce it has seen from the consumer.
#[tokio::test]
async fn a_replayed_oauth_nonce_is_refused() {
    let store = Store::start().await;
    let c = store.fake.config();
    let creds = Credentials {
        consumer_key: Secret::new(&c.consumer_key),
        consumer_secret: Secret::new(&c.consumer_secret),
        token: Secret::new(&c.access_token),
        token_secret: Secret::new(&c.access_token_secret),
        method: SignatureMethod::HmacSha256,
    };
    let mut url = Url::parse(&format!("{}/rest/all/V1/products", store.fake.base_url())).unwrap();
    url.query_pairs_mut()
        .append_pair(
            "searchCriteria[filter_groups][0][filters][0][field]",
            "name",
        )
        .append_pair(
            "searchCriteria[filter_groups][0][filters][0][value]",
            "%a b%",
        )
        .append_pair(
            "searchCriteria[filter_groups][0][filters][0][condition_type]",
            "like",
        );
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let header = authorization(&creds, "GET", &url, "fixednonce0001", now);
    let http = reqwest::Client::new();
    let first = http
        .get(url.clone())
        .header("authorization", &header)
        .send()
        .await
        .unwrap();
    assert_eq!(first.status(), 200, "{}", first.text().await.unwrap());
    let again = http
        .get(url.clone())
        .header("authorization", &header)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 401);
    // A stale timestamp is refused too.
    let stale = authorization(&creds, "GET", &url, "fixednonce0002", now - 3600);
    let old = http
        .get(url)
        .header("authorization", stale)
        .send()
        .await
        .unwrap();
    assert_eq!(old.status(), 401);
}

#[tokio::test]
async fn admin_token_is_minted_once_cached_and_minted_again_after_a_401() {
    let store = Store::start().await;
    let adapter = store.adapter(&store.config(admin()));
    let (c, sink) = ctx("admin");
    adapter.health(&c).await.expect("first call mints");
    adapter
        .push(&c, &common::product("ADM-1", "One"))
        .await
        .expect("cached token");
    adapter.health(&c).await.expect("cached token");
    assert_eq!(
        store.fake.admin_tokens_minted(),
        1,
        "one token for three calls"
    );
    let events: Vec<String> = sink.exchanges().iter().map(|e| e.event.clone()).collect();
    assert_eq!(
        events
            .iter()
            .filter(|e| *e == "magento.admin_token")
            .count(),
        1,
        "{events:?}"
    );

    // The store ends the token (its 4 hours passed): the next call meets a 401, mints again
    // once and succeeds.
    store.fake.expire_admin_tokens();
    adapter
        .push(&c, &common::product("ADM-2", "Two"))
        .await
        .expect("re-minted");
    assert_eq!(store.fake.admin_tokens_minted(), 2);
    assert!(store.fake.product("ADM-2").is_some());

    // Neither the password nor a token is in any exchange record.
    let logged = serde_json::to_string(&sink.exchanges()).unwrap();
    assert!(!logged.contains(&store.fake.config().admin_password));
    assert!(logged.contains("<redacted>"));
}

#[tokio::test]
async fn a_wrong_admin_password_is_an_auth_error() {
    let store = Store::start().await;
    let mut auth = admin();
    auth["password_ref"] = json!("secret:wrong");
    let adapter = store.adapter(&store.config(auth));
    let err = adapter.health(&ctx("bad-admin").0).await.unwrap_err();
    assert_eq!(err.class, ErrorClass::Auth, "{err}");
    assert!(
        err.message
            .starts_with("minting the admin token: Magento answered 401"),
        "{err}"
    );
    assert_eq!(store.fake.admin_tokens_minted(), 0);
}

#[tokio::test]
async fn an_unknown_store_code_is_refused() {
    let store = Store::start().await;
    let mut config = store.config(oauth("HMAC-SHA256"));
    config["store_code"] = json!("nowhere");
    let adapter = store.adapter(&config);
    let err = adapter.health(&ctx("store").0).await.unwrap_err();
    assert_eq!(err.class, ErrorClass::Permanent);
    assert!(
        err.message
            .contains("The store that was requested wasn't found"),
        "{err}"
    );
    config["store_code"] = json!("us_en");
    store
        .adapter(&config)
        .health(&ctx("store2").0)
        .await
        .expect("a known store view");
}
