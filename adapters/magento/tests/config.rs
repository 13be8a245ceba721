//! `[partners.NAME] kind = "magento"`: strict parsing, each bad setting named by its key.

use serde_json::{json, Value};
use switchyard_core::ids::PartnerName;
use switchyard_magento::config::{settings, Auth};
use switchyard_runtime::testkit::doubles::MapSecrets;

fn secrets() -> MapSecrets {
    MapSecrets::new()
        .with("secret:t", "tok")
        .with("secret:u", "user")
        .with("secret:p", "s3cr3t-pw")
}

fn base() -> Value {
    json!({"kind": "magento", "base_url": "https://shop.example.com/", "store_code": "default",
           "website_ids": [1], "auth": {"mode": "integration_token", "token_ref": "secret:t"}})
}

fn key_of(v: Value) -> (Option<String>, String) {
    let e = settings(&PartnerName::from("shop"), &v, &secrets()).unwrap_err();
    (e.key, e.message)
}

#[test]
fn a_good_section_builds_with_defaults() {
    let s = settings(&PartnerName::from("shop"), &base(), &secrets()).unwrap();
    assert_eq!(
        s.rest_url.as_str(),
        "https://shop.example.com/rest/default/"
    );
    assert_eq!(s.auth.mode(), "integration_token");
    assert_eq!(s.currency, "USD");
    assert_eq!(s.bulk_threshold, 1000);
    let mut v = base();
    v["auth"] = json!({"mode": "admin", "username_ref": "secret:u", "password_ref": "secret:p"});
    let s = settings(&PartnerName::from("shop"), &v, &secrets()).unwrap();
    match s.auth {
        Auth::Admin { lifetime, .. } => assert_eq!(lifetime.as_secs(), 4 * 3600),
        other => panic!("{other:?}"),
    }
    assert!(
        !format!("{:?}", s.auth).contains("s3cr3t-pw"),
        "Debug hides credentials"
    );
}

#[test]
fn bad_settings_name_their_key() {
    let cases: Vec<(Value, &str, &str)> = vec![
        (
            {
                let mut v = base();
                v["colour"] = json!(1);
                v
            },
            "colour",
            "unknown field `colour`",
        ),
        (
            {
                let mut v = base();
                v["auth"]["extra"] = json!(1);
                v
            },
            "auth.extra",
            "unknown field `extra`",
        ),
        (
            {
                let mut v = base();
                v["auth"] = json!({"mode": "magic"});
                v
            },
            "auth.mode",
            "unknown variant `magic`",
        ),
        (
            {
                let mut v = base();
                v["auth"]["token_ref"] = json!("plain-token");
                v
            },
            "auth.token_ref",
            "credential reference",
        ),
        (
            {
                let mut v = base();
                v["auth"]["token_ref"] = json!("secret:missing");
                v
            },
            "auth.token_ref",
            "",
        ),
        (
            {
                let mut v = base();
                v["base_url"] = json!("ftp://x");
                v
            },
            "base_url",
            "http(s)",
        ),
        (
            {
                let mut v = base();
                v["store_code"] = json!("Default Store");
                v
            },
            "store_code",
            "not a store code",
        ),
        (
            {
                let mut v = base();
                v["website_ids"] = json!([0, 1]);
                v
            },
            "website_ids",
            "admin",
        ),
        (
            {
                let mut v = base();
                v["currency"] = json!("usd");
                v
            },
            "currency",
            "ISO 4217",
        ),
        (
            {
                let mut v = base();
                v["timeout_ms"] = json!(0);
                v
            },
            "timeout_ms",
            "between",
        ),
        (
            {
                let mut v = base();
                v["bulk_threshold"] = json!(0);
                v
            },
            "bulk_threshold",
            "at least 1",
        ),
        (
            {
                let mut v = base();
                v["msi"] = json!({"enabled": true});
                v
            },
            "msi.sources",
            "no location",
        ),
        (
            {
                let mut v = base();
                v["msi"] = json!({"enabled": true, "sources": {"CHI": " "}});
                v
            },
            "msi.sources.CHI",
            "empty",
        ),
        (
            {
                let mut v = base();
                v["auth"] = json!({"mode": "oauth", "consumer_key_ref": "secret:t", "consumer_secret_ref": "secret:t",
            "access_token_ref": "secret:t", "access_token_secret_ref": "secret:t", "signature_method": "PLAINTEXT"});
                v
            },
            "auth.signature_method",
            "unknown signature method `PLAINTEXT`",
        ),
        (
            {
                let mut v = base();
                v["auth"] = json!({"mode": "admin", "username_ref": "secret:u", "password_ref": "secret:p", "token_lifetime_secs": 5});
                v
            },
            "auth.token_lifetime_secs",
            "at least 60",
        ),
    ];
    for (value, key, text) in cases {
        let (got_key, message) = key_of(value);
        assert_eq!(got_key.as_deref(), Some(key), "{message}");
        assert!(message.contains(text), "{key}: {message}");
    }
}
