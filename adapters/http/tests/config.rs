//! Config validation: every problem is a ConfigError naming the partner and the field.

use serde_json::{json, Value};
use switchyard_adapter_http::{HttpAdapterConfig, HttpAdapterFactory, PushMethod};
use switchyard_core::adapter::AdapterFactory;
use switchyard_core::ids::PartnerName;
use switchyard_runtime::testkit::doubles::MapSecrets;

fn secrets() -> MapSecrets {
    MapSecrets::new()
        .with("secret:token", "t0ken")
        .with("env:PW", "pw")
}

fn base() -> Value {
    json!({"base_url": "https://api.partner.example/erp", "auth": {"type": "bearer", "token_ref": "secret:token"}})
}

fn with(extra: Value) -> Value {
    let mut c = base();
    for (k, v) in extra.as_object().unwrap() {
        c[k] = v.clone();
    }
    c
}

/// The error message for `config`, which must fail.
fn error(config: Value) -> String {
    let partner = PartnerName::from("acme");
    match HttpAdapterFactory::new()
        .unwrap()
        .build(&partner, &config, &secrets())
    {
        Ok(_) => panic!("config was accepted: {config}"),
        Err(e) => {
            assert_eq!(e.partner, "acme");
            e.message
        }
    }
}

#[test]
fn defaults_are_filled_in() {
    let partner = PartnerName::from("acme");
    let parsed = HttpAdapterConfig::from_json(&partner, &base()).unwrap();
    assert_eq!(parsed.push_path, "/v1/documents");
    assert_eq!(parsed.idempotency_header, "Idempotency-Key");
    assert_eq!(parsed.timeout_ms, 10_000);
    assert_eq!(parsed.method, PushMethod::Post);
    assert_eq!(parsed.pull_path, None);
    let v = parsed.validate(&partner, &secrets()).unwrap();
    // A base path prefix is kept, not replaced by the absolute push path.
    assert_eq!(
        v.push_url.as_str(),
        "https://api.partner.example/erp/v1/documents"
    );
    assert_eq!(
        v.health_url.as_str(),
        "https://api.partner.example/erp/healthz"
    );
    assert_eq!(v.idempotency_header.as_str(), "idempotency-key");
}

#[test]
fn unknown_keys_are_named() {
    let m = error(with(json!({"retries": 3})));
    assert!(m.contains("unknown field `retries`"), "{m}");
    let m = error(with(
        json!({"auth": {"type": "bearer", "token_ref": "secret:token", "tokn": "x"}}),
    ));
    assert!(
        m.contains("auth") && m.contains("unknown field `tokn`"),
        "{m}"
    );
    let m = error(with(json!({"auth": {"type": "oauth"}})));
    assert!(m.contains("unknown variant `oauth`"), "{m}");
}

#[test]
fn missing_and_mistyped_fields_are_named() {
    let m = error(json!({"push_path": "/x"}));
    assert!(m.contains("missing field `base_url`"), "{m}");
    let m = error(with(json!({"timeout_ms": "ten"})));
    assert!(m.starts_with("http adapter config: timeout_ms:"), "{m}");
    let m = error(with(json!({"method": "PATCH"})));
    assert!(m.contains("method") && m.contains("PATCH"), "{m}");
    let m = error(with(
        json!({"auth": {"type": "basic", "password_ref": "env:PW"}}),
    ));
    assert!(
        m.contains("auth") && m.contains("missing field `username`"),
        "{m}"
    );
}

#[test]
fn bad_urls_are_refused() {
    let m = error(with(json!({"base_url": "not a url"})));
    assert!(
        m.starts_with("base_url: `not a url` is not a valid URL"),
        "{m}"
    );
    let m = error(with(json!({"base_url": "ftp://files.example"})));
    assert!(
        m.starts_with("base_url: scheme must be http or https"),
        "{m}"
    );
    let m = error(with(json!({"base_url": "https://user:pw@api.example"})));
    assert!(
        m.starts_with("base_url: credentials in the URL are not allowed"),
        "{m}"
    );
    let m = error(with(json!({"base_url": "https://api.example/?a=1"})));
    assert!(
        m.starts_with("base_url: the base URL may not have a query"),
        "{m}"
    );
    let m = error(with(json!({"push_path": "v1/documents"})));
    assert!(
        m.starts_with("push_path: `v1/documents` must start with `/`"),
        "{m}"
    );
    let m = error(with(json!({"pull_path": "/v1/docs?limit=5"})));
    assert!(m.starts_with("pull_path:"), "{m}");
}

#[test]
fn missing_or_empty_secrets_are_refused_without_showing_them() {
    let m = error(with(
        json!({"auth": {"type": "bearer", "token_ref": "secret:nope"}}),
    ));
    assert!(
        m.starts_with("auth.token_ref: cannot resolve `secret:nope`"),
        "{m}"
    );
    let m = error(with(
        json!({"auth": {"type": "basic", "username": "u", "password_ref": "env:MISSING"}}),
    ));
    assert!(
        m.starts_with("auth.password_ref: cannot resolve `env:MISSING`"),
        "{m}"
    );
    let m = error(with(
        json!({"auth": {"type": "header", "name": "X-Key", "value_ref": ""}}),
    ));
    assert!(
        m.starts_with("auth.value_ref: credential reference is empty"),
        "{m}"
    );
    // A pasted credential instead of a reference is not echoed back.
    let m = error(with(
        json!({"auth": {"type": "bearer", "token_ref": "sk_live_pasted"}}),
    ));
    assert!(!m.contains("sk_live_pasted"), "{m}");
    let partner = PartnerName::from("acme");
    let empty = MapSecrets::new().with("secret:blank", "");
    let config = with(json!({"auth": {"type": "bearer", "token_ref": "secret:blank"}}));
    let e = HttpAdapterFactory::new()
        .unwrap()
        .build(&partner, &config, &empty)
        .err()
        .unwrap();
    assert!(e.message.contains("resolved to an empty value"), "{e}");
}

#[test]
fn other_fields_are_checked() {
    let m = error(with(json!({"timeout_ms": 0})));
    assert!(
        m.starts_with("timeout_ms: must be between 1 and 300000"),
        "{m}"
    );
    let m = error(with(json!({"idempotency_header": "bad header"})));
    assert!(m.starts_with("idempotency_header:"), "{m}");
    let m = error(with(json!({"idempotency_header": "Authorization"})));
    assert!(m.starts_with("idempotency_header:"), "{m}");
    let m = error(with(json!({"headers": {"Authorization": "Bearer x"}})));
    assert!(
        m.starts_with("headers.Authorization: this header is set by the adapter itself"),
        "{m}"
    );
    let m = error(with(json!({"headers": {"X-Ok": "line\nbreak"}})));
    assert!(m.starts_with("headers.X-Ok:"), "{m}");
    let m = error(with(
        json!({"auth": {"type": "basic", "username": "a:b", "password_ref": "env:PW"}}),
    ));
    assert!(m.starts_with("auth.username:"), "{m}");
    let m = error(with(
        json!({"auth": {"type": "header", "name": "X-Key", "value_ref": "env:PW"}, "headers": {"X-Key": "v"}}),
    ));
    assert!(
        m.starts_with("headers.X-Key: this header is the auth header"),
        "{m}"
    );
    let m = error(with(json!({"kind": "shopify"})));
    assert!(m.starts_with("kind: expected `http`"), "{m}");
}

#[test]
fn a_sample_config_from_toml_parses() {
    // The shape an operator writes in switchyard.toml, as the daemon hands it over.
    let toml_like = json!({
        "kind": "http",
        "base_url": "http://127.0.0.1:9000",
        "push_path": "/v1/documents",
        "pull_path": "/v1/documents",
        "method": "PUT",
        "auth": {"type": "header", "name": "X-Api-Key", "value_ref": "secret:token"},
        "idempotency_header": "X-Request-Id",
        "timeout_ms": 2500,
        "headers": {"X-Api-Version": "2"}
    });
    let partner = PartnerName::from("acme");
    let adapter = HttpAdapterFactory::new()
        .unwrap()
        .build_http(&partner, &toml_like, &secrets())
        .unwrap();
    let v = adapter.config();
    assert_eq!(v.method, PushMethod::Put);
    assert_eq!(v.timeout, std::time::Duration::from_millis(2500));
    assert_eq!(v.idempotency_header.as_str(), "x-request-id");
    assert_eq!(
        v.pull_url.as_ref().unwrap().as_str(),
        "http://127.0.0.1:9000/v1/documents"
    );
}

/// The key and message of the error for `config`, which must fail.
fn keyed_error(config: Value) -> (Option<String>, String) {
    match HttpAdapterFactory::new()
        .unwrap()
        .build(&PartnerName::from("acme"), &config, &secrets())
    {
        Ok(_) => panic!("config was accepted: {config}"),
        Err(e) => (e.key, e.message),
    }
}

#[test]
fn rate_limits_are_checked_and_every_problem_names_its_key() {
    let cases = [
        (
            json!({"per_second": 0}),
            "rate_limit.per_second",
            "must be between 0.001 and 1000000 requests per second, found 0",
        ),
        (
            json!({"per_second": -5}),
            "rate_limit.per_second",
            "found -5",
        ),
        (
            json!({"per_second": 2e6}),
            "rate_limit.per_second",
            "found 2000000",
        ),
        (
            json!({"per_second": 10, "burst": 0}),
            "rate_limit.burst",
            "must be between 1 and 100000, found 0",
        ),
        (
            json!({"per_second": 10, "retries": 11}),
            "rate_limit.retries",
            "must be at most 10, found 11",
        ),
        (
            json!({"per_second": 10, "max_wait_secs": 0}),
            "rate_limit.max_wait_secs",
            "must be between 1 and 3600, found 0",
        ),
        (
            json!({"per_second": 10, "max_wait_secs": 7200}),
            "rate_limit.max_wait_secs",
            "found 7200",
        ),
    ];
    for (rate_limit, key, expected) in cases {
        let (at, m) = keyed_error(with(json!({ "rate_limit": rate_limit })));
        assert_eq!(at.as_deref(), Some(key), "{m}");
        assert!(
            m.starts_with(&format!("{key}: ")) && m.contains(expected),
            "{m}"
        );
    }
    // Unknown, missing and mistyped keys inside the table are named too.
    let (at, m) = keyed_error(with(
        json!({"rate_limit": {"per_second": 10, "per_minute": 5}}),
    ));
    assert_eq!(at.as_deref(), Some("rate_limit.per_minute"), "{m}");
    assert!(m.contains("unknown field `per_minute`"), "{m}");
    let (at, m) = keyed_error(with(json!({"rate_limit": {"burst": 5}})));
    assert_eq!(at.as_deref(), Some("rate_limit"), "{m}");
    assert!(m.contains("missing field `per_second`"), "{m}");
    let (at, m) = keyed_error(with(json!({"rate_limit": {"per_second": "fast"}})));
    assert_eq!(at.as_deref(), Some("rate_limit.per_second"), "{m}");
}

#[test]
fn a_rate_limit_becomes_a_period_with_defaults_for_the_rest() {
    let partner = PartnerName::from("acme");
    let parsed =
        HttpAdapterConfig::from_json(&partner, &with(json!({"rate_limit": {"per_second": 450}})))
            .unwrap();
    let limit = parsed
        .validate(&partner, &secrets())
        .unwrap()
        .rate_limit
        .unwrap();
    assert_eq!(
        limit.period,
        std::time::Duration::from_secs_f64(1.0 / 450.0)
    );
    assert_eq!(limit.burst.get(), 1);
    assert_eq!(limit.retries, 3);
    assert_eq!(limit.max_wait, std::time::Duration::from_secs(60));
    // Slower than one a second is allowed (Shopify's REST API: 2/s; some ERPs far less).
    let slow = HttpAdapterConfig::from_json(
        &partner,
        &with(json!({"rate_limit": {"per_second": 0.5, "burst": 2}})),
    )
    .unwrap()
    .validate(&partner, &secrets())
    .unwrap()
    .rate_limit
    .unwrap();
    assert_eq!(slow.period, std::time::Duration::from_secs(2));
    assert_eq!(slow.burst.get(), 2);
}
