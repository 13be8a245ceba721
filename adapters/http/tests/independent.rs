//! Standard Webhooks signatures checked against the reference implementation
//! (`standardwebhooks` from PyPI, pinned in tests/independent/requirements.txt and installed
//! into a venv by the runtime's test kit): what the library signs, the adapter accepts; what the
//! adapter (and so the fake partner, which signs the same way) signs, the library accepts; and
//! a body changed after signing is refused by both. No python3 or no PyPI fails the test.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use serde_json::{json, Value};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use switchyard_adapter_http::webhook::{verify, WebhookKey};

const SECRETS: [&str; 2] = [
    // Padded, from the reference libraries' own tests.
    "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
    // 32 bytes in base64 without its `=`: the library pads it; so must we.
    "whsec_c3dpdGNoeWFyZC13ZWJob29rcy1pbmRlcGVuZGVudCE",
];

fn python() -> PathBuf {
    switchyard_runtime::testkit::python::venv(
        "http-independent",
        Path::new(env!("CARGO_TARGET_TMPDIR")),
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/independent/requirements.txt"),
        "standardwebhooks",
    )
    .unwrap_or_else(|e| panic!("{e}"))
}

/// Ask the oracle every request at once; one answer per request.
fn oracle(requests: &[Value]) -> Vec<Value> {
    let script =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/independent/standard_webhooks.py");
    let mut child = Command::new(python())
        .arg(script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run the oracle");
    {
        let stdin = child.stdin.as_mut().expect("stdin");
        for r in requests {
            writeln!(stdin, "{r}").expect("write a request");
        }
    }
    let out = child.wait_with_output().expect("oracle output");
    assert!(
        out.status.success(),
        "the oracle failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let answers: Vec<Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON answer"))
        .collect();
    assert_eq!(answers.len(), requests.len(), "one answer per request");
    answers
}

fn bodies() -> Vec<Vec<u8>> {
    vec![
        br#"{"type":"product.updated","data":{"sku":"A-1"}}"#.to_vec(),
        // Not ASCII, and spacing the adapter must not normalise.
        "{ \"type\": \"order.created\", \"data\": {\"city\": \"Łódź\", \"note\": \"\\u00e9\"} }"
            .as_bytes()
            .to_vec(),
        b"{}\r\n".to_vec(),
    ]
}

fn unix(t: SystemTime) -> i64 {
    t.duration_since(UNIX_EPOCH).expect("after 1970").as_secs() as i64
}

#[test]
fn the_reference_implementation_and_the_adapter_agree_both_ways() {
    let now = SystemTime::now();
    let ts = unix(now);
    let tolerance = Duration::from_secs(300);
    let mut requests = Vec::new();
    let mut cases = Vec::new();
    for secret in SECRETS {
        for (i, body) in bodies().into_iter().enumerate() {
            let id = format!("msg_{i}");
            let key = WebhookKey::parse(secret).unwrap_or_else(|e| panic!("{secret}: {e}"));
            // The library signs; the adapter must verify.
            requests.push(
                json!({"op": "sign", "secret": secret, "id": id, "timestamp": ts,
                                  "body_b64": STANDARD.encode(&body)}),
            );
            // The adapter signs; the library must verify, and refuse a changed body.
            let headers: serde_json::Map<String, Value> = key
                .headers(&id, now, &body)
                .into_iter()
                .map(|(k, v)| (k, Value::String(v)))
                .collect();
            requests.push(json!({"op": "verify", "secret": secret, "headers": headers,
                                  "body_b64": STANDARD.encode(&body)}));
            let mut changed = body.clone();
            changed.push(b' ');
            requests.push(json!({"op": "verify", "secret": secret, "headers": headers,
                                  "body_b64": STANDARD.encode(&changed)}));
            cases.push((key, id, body));
        }
    }
    let answers = oracle(&requests);
    for (n, (key, id, body)) in cases.iter().enumerate() {
        let (signed, ours, tampered) = (&answers[3 * n], &answers[3 * n + 1], &answers[3 * n + 2]);
        let signature = signed["signature"].as_str().expect("a signature");
        assert_eq!(
            signature,
            key.sign(id, ts, body),
            "the same signature for {id} ({:?})",
            String::from_utf8_lossy(body)
        );
        let headers = vec![
            ("Webhook-Id".to_owned(), id.clone()),
            ("Webhook-Timestamp".to_owned(), ts.to_string()),
            ("Webhook-Signature".to_owned(), signature.to_owned()),
        ];
        assert_eq!(verify(key, tolerance, &headers, body, now), Ok(id.as_str()));
        let mut changed = body.clone();
        changed.push(b' ');
        assert!(verify(key, tolerance, &headers, &changed, now).is_err());
        assert_eq!(ours["valid"], true, "the library accepts ours: {ours}");
        assert_eq!(
            tampered["valid"], false,
            "and refuses a changed body: {tampered}"
        );
    }
}
