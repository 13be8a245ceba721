//! Notification mails over TLS (issue #14): the daemon's lettre transport to the test kit's
//! SMTP sink on loopback, once upgraded with STARTTLS and once over TLS from the first byte,
//! the sink's self-signed certificate trusted through `[email] ca_file`, AUTH PLAIN with the
//! password of a `secret:` reference stored sealed in the database for an organization that
//! has no partners (the configuration has none at all), resolved by the daemon's own
//! per-organization resolver as in production, not by the tests' map of secrets.
//!
//! And the refusals that make the test mean something: a client that does not trust the
//! certificate sends nothing (the job fails transiently and the sink holds no mail).

use serde_json::json;
use std::path::{Path, PathBuf};
use std::time::Duration;
use switchyard_core::ids::OrgId;
use switchyard_daemon::app::Roles;
use switchyard_e2e::{count, eventually, TestDaemon};
use switchyard_runtime::testkit::smtp_sink::{SinkTls, SmtpSink};

const WAIT: Duration = Duration::from_secs(30);
const PASSWORD: &str = "smtp-pass-tls-7";

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The daemon mailing through `sink` with `security`; `ca_file` names the sink's certificate
/// (or nothing, and the public roots alone are trusted).
async fn daemon(
    sink: &SmtpSink,
    security: &str,
    ca_file: Option<&Path>,
) -> anyhow::Result<TestDaemon> {
    sink.require_auth("hub", PASSWORD);
    let ca = ca_file
        .map(|p| format!("ca_file = {:?}\n", p.to_string_lossy()))
        .unwrap_or_default();
    TestDaemon::builder()
        .toml(&format!(
            "[email]\nhost = \"127.0.0.1\"\nport = {}\nsecurity = \"{security}\"\n{ca}\
             user = \"hub\"\npassword = \"secret:smtp-password\"\n\
             from = \"Switchyard <notify@hub.test>\"\ntemplates = {:?}\npublic_url = \"https://hub.test\"\n",
            sink.port(),
            repo().join("templates/email").to_string_lossy()
        ))
        // `[email] secrets_org` is `default`, an organization that is no partner's.
        .stored_secret("default", "smtp-password", PASSWORD)
        .roles(Roles {
            api: false,
            worker: true,
            scheduler: false,
        })
        .start()
        .await
}

/// A customer with an address and an order of theirs placed (`order.created`).
async fn order_placed(d: &TestDaemon, org: OrgId, number: &str) -> anyhow::Result<()> {
    sqlx::query(
        "INSERT INTO customers (org_id, customer_id, name, email)
         VALUES ($1, 'C1', 'Westside Wireless', 'c1@shop.test') ON CONFLICT DO NOTHING",
    )
    .bind(org.0)
    .execute(&d.db.pool)
    .await?;
    sqlx::query("SELECT event_record($1, 'order.created', $2)")
        .bind(org.0)
        .bind(
            json!({"order_id": uuid::Uuid::now_v7(), "order_number": number,
            "customer_id": "C1", "customer_po": "PO-1", "status": "pending"}),
        )
        .execute(&d.db.pool)
        .await?;
    Ok(())
}

#[tokio::test]
async fn mails_go_over_starttls_and_implicit_tls_with_a_stored_password_of_an_org_without_partners(
) -> anyhow::Result<()> {
    for (tls, security) in [(SinkTls::Starttls, "starttls"), (SinkTls::Implicit, "tls")] {
        let sink = SmtpSink::start_with(tls).await?;
        let dir = tempfile::tempdir()?;
        let ca = dir.path().join("sink.pem");
        std::fs::write(&ca, sink.ca_pem().expect("a TLS sink has a certificate"))?;
        let d = daemon(&sink, security, Some(&ca)).await?;
        let org = d.org("default").await?;
        order_placed(&d, org, "SO-TLS-1").await?;
        let got = sink.wait_for(1, WAIT).await?;
        assert_eq!(got.len(), 1, "{security}");
        assert!(got[0].tls, "{security}: the mail came over TLS");
        assert_eq!(
            got[0].user.as_deref(),
            Some("hub"),
            "{security}: AUTH PLAIN"
        );
        assert_eq!(got[0].to, ["c1@shop.test"]);
        assert!(
            got[0].text().contains("Subject: Order SO-TLS-1 received"),
            "{}",
            got[0].text()
        );
        eventually(WAIT, "the mail logged as sent", || async {
            Ok(count(
                &d.db.pool,
                "SELECT count(*) FROM email_messages WHERE status = 'sent'",
            )
            .await?
                == 1)
        })
        .await?;
        d.stop().await?;
    }
    Ok(())
}

#[tokio::test]
async fn a_certificate_the_client_does_not_trust_sends_nothing() -> anyhow::Result<()> {
    let sink = SmtpSink::start_with(SinkTls::Starttls).await?;
    // No `ca_file`: the sink's self-signed certificate is no public root's.
    let d = daemon(&sink, "starttls", None).await?;
    let org = d.org("default").await?;
    order_placed(&d, org, "SO-TLS-2").await?;
    eventually(WAIT, "the send to fail on the certificate", || async {
        Ok(count(
            &d.db.pool,
            "SELECT count(*) FROM email_messages WHERE status = 'failed' AND error ILIKE '%certificate%'",
        )
        .await?
            >= 1)
    })
    .await?;
    assert!(sink.messages().is_empty(), "nothing was sent in the clear");
    assert!(sink.connections() >= 1, "the client did connect");
    d.stop().await?;
    Ok(())
}
