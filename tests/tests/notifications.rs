//! Email notifications end to end (issue #14): the daemon (API, worker and scheduler in
//! process, a real database) turns the domain events supplier flows record into mails sent over
//! real SMTP (lettre, AUTH PLAIN) to the test kit's SMTP sink on a loopback port; each message
//! is read back with `mail-parser`.
//!
//! Covered: every notice (order placed, accepted, rejected, fulfillment started, shipped with
//! the carrier's tracking link, any other status, low stock to the purchaser) with its headers
//! (From, To, Subject, Message-ID as logged), both parts and the unsubscribe link; one mail per
//! event even when its job runs again; the unsubscribe link honoured for later mails of that
//! kind and a forged token refused; digest-mode events bundled into one mail by
//! `notify.digest`, and not twice; a 5xx refusal is a dead letter whose replay sends the mail
//! once the address is accepted; a 4xx is retried and sent once.

use mail_parser::{MessageParser, MimeHeaders};
use reqwest::Method;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::time::Duration;
use switchyard_core::ids::{JobId, OrgId};
use switchyard_daemon::app::Roles;
use switchyard_e2e::{count, eventually, TestDaemon};
use switchyard_runtime::testkit::smtp_sink::{Received, SmtpSink};
use switchyard_store::queue::NewJob;

const WAIT: Duration = Duration::from_secs(30);

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

async fn daemon(sink: &SmtpSink) -> anyhow::Result<TestDaemon> {
    sink.require_auth("hub", "smtp-pass-1");
    TestDaemon::builder()
        .toml(&format!(
            "[email]\nhost = {:?}\nport = {}\nsecurity = \"none\"\nuser = \"hub\"\npassword = \"secret:smtp-password\"\n\
             from = \"Switchyard <notify@hub.test>\"\ntemplates = {:?}\npublic_url = \"https://hub.test\"\n\
             [email.tracking]\nacme = \"https://track.acme.test/p?n={{number}}\"\n\
             [email.purchasers]\ndefault = \"Buyer <buyer@acme.test>\"\n",
            sink.host(),
            sink.port(),
            repo().join("templates/email").to_string_lossy()
        ))
        .secret("secret:smtp-password", "smtp-pass-1")
        .roles(Roles::default())
        .start()
        .await
}

/// A customer with an address, and its preferences set through the API.
async fn customer(
    d: &TestDaemon,
    key: &str,
    id: &str,
    email: &str,
    prefs: Value,
) -> anyhow::Result<()> {
    let (status, body) = d
        .call(
            Method::PUT,
            &format!("/api/v1/customers/{id}"),
            Some(key),
            Some(json!({"name": format!("Customer {id}")})),
        )
        .await?;
    anyhow::ensure!(status == 200, "customer: {status} {body}");
    let (status, body) = d
        .call(
            Method::PUT,
            &format!("/api/v1/customers/{id}/notification-preferences"),
            Some(key),
            Some(json!({"email": email, "preferences": prefs})),
        )
        .await?;
    anyhow::ensure!(status == 200, "preferences: {status} {body}");
    assert_eq!(body["email"], email);
    Ok(())
}

async fn record(d: &TestDaemon, org: OrgId, event_type: &str, data: Value) -> anyhow::Result<()> {
    sqlx::query("SELECT event_record($1, $2, $3)")
        .bind(org.0)
        .bind(event_type)
        .bind(data)
        .execute(&d.db.pool)
        .await?;
    Ok(())
}

/// `order.created` as the orders trigger records it.
async fn placed(
    d: &TestDaemon,
    org: OrgId,
    order: &str,
    customer: &str,
    po: Option<&str>,
) -> anyhow::Result<()> {
    let data = json!({"order_id": uuid::Uuid::now_v7(), "order_number": order,
        "customer_id": customer, "customer_po": po, "status": "received"});
    record(d, org, "order.created", data).await
}

/// `order.supplier_status_changed` as the supplier flows record it.
async fn supplier(
    d: &TestDaemon,
    org: OrgId,
    order: &str,
    customer: &str,
    status: &str,
    carrier: Option<&str>,
    tracking: Option<&str>,
) -> anyhow::Result<()> {
    let data = status_changed(order, customer, status, carrier, tracking);
    record(d, org, "order.supplier_status_changed", data).await
}

fn status_changed(
    order: &str,
    customer: &str,
    status: &str,
    carrier: Option<&str>,
    tracking: Option<&str>,
) -> Value {
    json!({
        "order_id": uuid::Uuid::now_v7(), "order_number": order, "customer_id": customer,
        "partner": "phonex", "supplier_order_id": format!("PX-{order}"), "status": status,
        "previous_status": "pending", "supplier_status": status, "tracking_number": tracking,
        "carrier": carrier, "updated_at": "2026-12-05T10:00:00Z"
    })
}

/// What a received message says, parsed by mail-parser.
#[derive(Debug)]
struct Mail {
    envelope_to: Vec<String>,
    from: String,
    to: String,
    subject: String,
    message_id: String,
    text: String,
    html: String,
    user: Option<String>,
}

fn parse(r: &Received) -> Mail {
    let m = MessageParser::default()
        .parse(&r.data)
        .expect("a parsable message");
    let addr = |a: Option<&mail_parser::Address>| {
        a.and_then(|a| a.first())
            .and_then(|a| a.address())
            .unwrap_or_default()
            .to_owned()
    };
    assert_eq!(
        m.content_type()
            .map(|c| (c.ctype().to_owned(), c.subtype().map(str::to_owned))),
        Some(("multipart".to_owned(), Some("alternative".to_owned()))),
        "{}",
        r.text()
    );
    Mail {
        envelope_to: r.to.clone(),
        from: addr(m.from()),
        to: addr(m.to()),
        subject: m.subject().unwrap_or_default().to_owned(),
        message_id: m.message_id().unwrap_or_default().to_owned(),
        text: m.body_text(0).unwrap_or_default().into_owned(),
        html: unescape(&m.body_html(0).unwrap_or_default()),
        user: r.user.clone(),
    }
}

/// The HTML part with the entities minijinja's autoescape writes decoded (it escapes `/` in
/// links too, which browsers read back the same).
fn unescape(html: &str) -> String {
    html.replace("&#x2f;", "/")
        .replace("&#x27;", "'")
        .replace("&quot;", "\"")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

/// The unsubscribe link of a mail's text part.
fn unsubscribe_link(text: &str) -> String {
    let start = text
        .find("https://hub.test/api/v1/notifications/unsubscribe?token=")
        .expect("an unsubscribe link");
    text[start..].split_whitespace().next().unwrap().to_owned()
}

async fn jobs_ended(d: &TestDaemon, n: i64) -> anyhow::Result<()> {
    eventually(WAIT, &format!("{n} notify.email jobs to end"), || async {
        Ok(count(&d.db.pool, "SELECT count(*) FROM jobs WHERE kind = 'notify.email' AND state IN ('succeeded', 'dead')").await? >= n)
    })
    .await
}

#[tokio::test]
async fn every_notice_reaches_the_sink_once_with_headers_parts_and_links() -> anyhow::Result<()> {
    let sink = SmtpSink::start().await?;
    let d = daemon(&sink).await?;
    let org = d.org("default").await?;
    let key = d.key("default", &["write:orders"]).await?;
    customer(&d, &key, "C1", "c1@shop.test", json!({})).await?;
    // A customer without an address gets nothing (and no job).
    let (status, _) = d
        .call(
            Method::PUT,
            "/api/v1/customers/C9",
            Some(&key),
            Some(json!({"name": "No mail"})),
        )
        .await?;
    assert_eq!(status, 200);

    placed(&d, org, "SO-1", "C1", Some("PO-77")).await?;
    placed(&d, org, "SO-9", "C9", None).await?;
    supplier(&d, org, "SO-1", "C1", "accepted", None, None).await?;
    supplier(&d, org, "SO-2", "C1", "rejected", None, None).await?;
    supplier(&d, org, "SO-1", "C1", "fulfillment_started", None, None).await?;
    supplier(
        &d,
        org,
        "SO-1",
        "C1",
        "shipped",
        Some("UPS"),
        Some("1Z999AA10123456784"),
    )
    .await?;
    supplier(&d, org, "SO-3", "C1", "shipped", Some("Acme"), Some("A 1")).await?;
    supplier(&d, org, "SO-1", "C1", "awaiting_payment", None, None).await?;
    record(
        &d,
        org,
        "inventory.low",
        json!({"sku": "IPHONE12-64GB-A", "location": "wesell", "available": "3", "threshold": "5"}),
    )
    .await?;

    let got = sink.wait_for(8, WAIT).await?;
    jobs_ended(&d, 8).await?;
    assert_eq!(
        count(
            &d.db.pool,
            "SELECT count(*) FROM jobs WHERE kind = 'notify.email'"
        )
        .await?,
        8,
        "no job for C9"
    );
    let mails: Vec<Mail> = got.iter().map(parse).collect();
    let subjects: Vec<&str> = mails.iter().map(|m| m.subject.as_str()).collect();
    for expected in [
        "Order SO-1 received",
        "Order SO-1 accepted",
        "Order SO-2 rejected",
        "Order SO-1 being packed",
        "Order SO-1 shipped",
        "Order SO-3 shipped",
        "Order SO-1 updated",
        "Low stock: IPHONE12-64GB-A at wesell",
    ] {
        assert!(subjects.contains(&expected), "{expected} in {subjects:?}");
    }
    let logged: Vec<(String, String, String, String, i32)> = sqlx::query_as(
        "SELECT subject, recipient, message_id, status, attempts FROM email_messages WHERE org_id = $1")
        .bind(org.0).fetch_all(&d.db.pool).await?;
    assert_eq!(logged.len(), 8);
    for m in &mails {
        assert_eq!(m.from, "notify@hub.test");
        assert_eq!(m.user.as_deref(), Some("hub"), "authenticated");
        assert!(!m.text.is_empty() && m.html.contains("<p>"), "{m:?}");
        let row = logged.iter().find(|l| l.0 == m.subject).expect("logged");
        assert_eq!((row.3.as_str(), row.4), ("sent", 1));
        assert_eq!(
            format!("<{}>", m.message_id),
            row.2,
            "the Message-ID sent is the one logged"
        );
        if m.subject.starts_with("Low stock") {
            assert_eq!(
                (m.to.as_str(), m.envelope_to.clone()),
                ("buyer@acme.test", vec!["buyer@acme.test".to_owned()])
            );
            assert!(m.text.contains("fell to 3 (threshold 5)"), "{}", m.text);
            assert!(!m.text.contains("unsubscribe"));
        } else {
            assert_eq!(
                (m.to.as_str(), m.envelope_to.clone()),
                ("c1@shop.test", vec!["c1@shop.test".to_owned()])
            );
            let link = unsubscribe_link(&m.text);
            assert!(
                m.html.contains(&format!("href=\"{link}\"")),
                "the HTML part has the link too: {}",
                m.html
            );
        }
    }
    let ups = "https://www.ups.com/track?tracknum=1Z999AA10123456784";
    let shipped = mails
        .iter()
        .find(|m| m.subject == "Order SO-1 shipped")
        .unwrap();
    assert!(
        shipped.text.contains(ups) && shipped.html.contains(&format!("href=\"{ups}\"")),
        "{shipped:?}"
    );
    let acme = mails
        .iter()
        .find(|m| m.subject == "Order SO-3 shipped")
        .unwrap();
    assert!(
        acme.text.contains("https://track.acme.test/p?n=A+1"),
        "{}",
        acme.text
    );
    assert!(
        acme.html.contains("https://track.acme.test/p?n=A+1"),
        "{}",
        acme.html
    );
    let placed = mails
        .iter()
        .find(|m| m.subject == "Order SO-1 received")
        .unwrap();
    assert!(placed.text.contains("your PO PO-77"));

    // The shipped mail's job runs again (a redelivery after a lost ack): nothing is resent.
    let job: (uuid::Uuid,) = sqlx::query_as(
        "SELECT j.id FROM jobs j JOIN email_messages m ON m.job_id = j.id WHERE m.subject = 'Order SO-1 shipped'")
        .fetch_one(&d.db.pool).await?;
    sqlx::query("UPDATE jobs SET state = 'pending', run_at = now(), worker_id = NULL, lease_until = NULL WHERE id = $1")
        .bind(job.0).execute(&d.db.pool).await?;
    assert_eq!(
        switchyard_e2e::jobs::ended(&d.db.pool, JobId(job.0)).await?,
        "succeeded"
    );
    assert_eq!(
        sink.messages().len(),
        8,
        "no second mail for the same event"
    );
    assert_eq!(
        count(
            &d.db.pool,
            "SELECT attempts::bigint FROM email_messages WHERE subject = 'Order SO-1 shipped'"
        )
        .await?,
        1
    );
    d.stop().await
}

#[tokio::test]
async fn unsubscribe_is_honoured_and_the_digest_bundles_once() -> anyhow::Result<()> {
    let sink = SmtpSink::start().await?;
    let d = daemon(&sink).await?;
    let org = d.org("default").await?;
    let key = d.key("default", &["write:orders"]).await?;
    customer(
        &d,
        &key,
        "C2",
        "c2@shop.test",
        json!({"order_shipped": "digest", "order_placed": "off"}),
    )
    .await?;

    placed(&d, org, "SO-5", "C2", None).await?;
    supplier(&d, org, "SO-5", "C2", "accepted", None, None).await?;
    let got = sink.wait_for(1, WAIT).await?;
    jobs_ended(&d, 2).await?;
    assert_eq!(sink.messages().len(), 1, "order_placed is off");
    let accepted = parse(&got[0]);
    assert_eq!(accepted.subject, "Order SO-5 accepted");

    // A forged token (another notice under the same signature) is refused; the real one works.
    let link = unsubscribe_link(&accepted.text);
    let path = link.trim_start_matches("https://hub.test");
    let forged = path.replacen(".order_accepted.", ".order_shipped.", 1);
    let (status, _) = d.call(Method::GET, &forged, None, None).await?;
    assert_eq!(status, 404);
    let (status, body) = d.call(Method::GET, path, None, None).await?;
    assert_eq!(
        (status, body["notice"].clone()),
        (200, json!("order_accepted")),
        "{body}"
    );
    supplier(&d, org, "SO-6", "C2", "accepted", None, None).await?;
    jobs_ended(&d, 3).await?;
    assert_eq!(sink.messages().len(), 1, "unsubscribed from order_accepted");

    // Digest mode: two shipments kept, then one mail with both.
    supplier(
        &d,
        org,
        "SO-5",
        "C2",
        "shipped",
        Some("fedex"),
        Some("7946"),
    )
    .await?;
    supplier(&d, org, "SO-6", "C2", "shipped", Some("DHL"), Some("JD01")).await?;
    jobs_ended(&d, 5).await?;
    assert_eq!(
        sink.messages().len(),
        1,
        "digest-mode events wait for the digest"
    );
    assert_eq!(
        count(
            &d.db.pool,
            "SELECT count(*) FROM notification_digest_items WHERE digest_key IS NULL"
        )
        .await?,
        2
    );
    let run_digest = || async {
        let job = d
            .queue
            .enqueue(NewJob::new(org, "notify.digest", json!({})))
            .await?;
        anyhow::Ok(switchyard_e2e::jobs::ended(&d.db.pool, job.job.id).await?)
    };
    assert_eq!(run_digest().await?, "succeeded");
    let got = sink.wait_for(2, WAIT).await?;
    jobs_ended(&d, 6).await?;
    let digest = parse(&got[1]);
    assert_eq!(digest.subject, "Your orders today: 2 updates");
    assert_eq!(digest.to, "c2@shop.test");
    for part in [&digest.text, &digest.html] {
        assert!(
            part.contains("Order SO-5 shipped") && part.contains("Order SO-6 shipped"),
            "{part}"
        );
        assert!(
            part.contains("https://www.fedex.com/fedextrack/?trknbr=7946"),
            "{part}"
        );
        assert!(part.contains("tracking-id=JD01"), "{part}");
        assert!(
            part.contains("https://hub.test/api/v1/notifications/unsubscribe?token="),
            "{part}"
        );
    }
    // A second digest finds nothing left.
    assert_eq!(run_digest().await?, "succeeded");
    assert_eq!(sink.messages().len(), 2);
    d.stop().await
}

#[tokio::test]
async fn a_5xx_is_a_dead_letter_replayed_later_and_a_4xx_is_retried() -> anyhow::Result<()> {
    let sink = SmtpSink::start().await?;
    sink.refuse("bad@shop.test", "550 5.1.1 mailbox unavailable");
    sink.refuse_once("flaky@shop.test", "451 4.3.0 try again later");
    let d = daemon(&sink).await?;
    let org = d.org("default").await?;
    let key = d
        .key(
            "default",
            &["write:orders", "read:dead-letters", "write:dead-letters"],
        )
        .await?;
    customer(&d, &key, "BAD", "bad@shop.test", json!({})).await?;
    customer(&d, &key, "FLAKY", "flaky@shop.test", json!({})).await?;

    supplier(&d, org, "SO-7", "BAD", "accepted", None, None).await?;
    supplier(&d, org, "SO-8", "FLAKY", "accepted", None, None).await?;

    // 4xx: retried by the queue (the exponential policy's first delay) and sent once.
    let got = sink.wait_for(1, WAIT).await?;
    assert_eq!(got[0].to, vec!["flaky@shop.test".to_owned()]);
    eventually(WAIT, "the log row to say sent after two attempts", || async {
        Ok(count(&d.db.pool, "SELECT count(*) FROM email_messages WHERE recipient LIKE '%flaky@shop.test%' AND status = 'sent' AND attempts = 2 AND error IS NULL").await? == 1)
    }).await?;
    assert_eq!(
        sink.refused()
            .iter()
            .filter(|r| *r == "flaky@shop.test")
            .count(),
        1
    );

    // 5xx: a dead letter at once, logged as failed with the server's answer.
    eventually(WAIT, "the dead letter", || async {
        Ok(count(
            &d.db.pool,
            "SELECT count(*) FROM dead_letters WHERE kind = 'notify.email'",
        )
        .await?
            == 1)
    })
    .await?;
    let (status, attempts, error): (String, i32, Option<String>) = sqlx::query_as(
        "SELECT status, attempts, error FROM email_messages WHERE recipient LIKE '%bad@shop.test%'",
    )
    .fetch_one(&d.db.pool)
    .await?;
    assert_eq!((status.as_str(), attempts), ("failed", 1));
    assert!(
        error.as_deref().unwrap_or_default().contains("550"),
        "{error:?}"
    );
    assert_eq!(
        sink.refused()
            .iter()
            .filter(|r| *r == "bad@shop.test")
            .count(),
        1,
        "not retried"
    );

    // The address is fixed at the server; the replay sends the mail, once.
    sink.accept("bad@shop.test");
    let (dead,): (uuid::Uuid,) =
        sqlx::query_as("SELECT id FROM dead_letters WHERE kind = 'notify.email'")
            .fetch_one(&d.db.pool)
            .await?;
    let (status, body) = d
        .call(
            Method::POST,
            &format!("/api/v1/dead-letters/{dead}/replay"),
            Some(&key),
            None,
        )
        .await?;
    assert_eq!(status, 201, "{body}");
    let got = sink.wait_for(2, WAIT).await?;
    assert_eq!(got[1].to, vec!["bad@shop.test".to_owned()]);
    assert_eq!(parse(&got[1]).subject, "Order SO-7 accepted");
    eventually(WAIT, "the log row to say sent", || async {
        Ok(count(&d.db.pool, "SELECT count(*) FROM email_messages WHERE recipient LIKE '%bad@shop.test%' AND status = 'sent' AND attempts = 2").await? == 1)
    }).await?;
    d.stop().await
}
