//! The SFTP mailbox transport against a real OpenSSH server (`/usr/sbin/sshd`, started per
//! test by the harness on a loopback port) and real Postgres: pickup, acknowledgement,
//! archive and error folders, resume of a crashed poll, host key pinning, client key
//! refusal, and `edi.send` delivering over SFTP.
//!
//! The server serves this machine's file system, so the tests put files into the "remote"
//! inbound and read the remote outbound directly from disk, as the partner's VAN would.

use chrono::Utc;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::time::Duration;
use switchyard_core::error::ErrorClass;
use switchyard_core::ids::JobId;
use switchyard_e2e::edi::files;
use switchyard_e2e::sshd::Sshd;
use switchyard_e2e::{count, eventually, TestDaemon, TestDb};
use switchyard_edi_van::mailbox::{self as edi_mailbox, FileDisposition, InterchangeOutcome};
use switchyard_edi_van::messages::{self as store, EdiDirection, EdiFilter, EdiStatus};
use switchyard_edi_van::partners::{ClientKey, EdiPartner, HostKeyPin, MailboxSpec, SftpSpec};
use switchyard_edi_van::send::{self as edi_send, SendPayload};
use switchyard_store::queue::NewJob;

fn fixture(rel: &str) -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../fixtures/edi")
        .join(rel);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn x12_profile() -> Value {
    json!({
        "name": "acme",
        "standard": "x12",
        "version": "004010",
        "us": {"qualifier": "ZZ", "id": "SWITCHYARD"},
        "them": {"qualifier": "12", "id": "5551234567"},
    })
}

/// The partner with an SFTP mailbox on `sshd` under `root`, logging in with `key`.
fn sftp_partner(sshd: &Sshd, root: &Path, key: ClientKey, host_key: HostKeyPin) -> EdiPartner {
    EdiPartner {
        profile: serde_json::from_value(x12_profile()).expect("profile"),
        mailbox: MailboxSpec::Sftp(Box::new(SftpSpec {
            host: "127.0.0.1".into(),
            port: sshd.port,
            user: sshd.user.clone(),
            key,
            passphrase: None,
            host_key,
            root: root.to_string_lossy().into_owned(),
            timeout: Duration::from_secs(10),
        })),
    }
}

fn good_partner(sshd: &Sshd, root: &Path) -> EdiPartner {
    sftp_partner(
        sshd,
        root,
        // The key's text, as a `secret:` reference resolves to.
        ClientKey::Text(sshd.client_key_text.clone()),
        // Pinned by fingerprint here; the worker test pins the whole key line.
        HostKeyPin::Fingerprint(
            HostKeyPin::parse(&sshd.host_key_line)
                .expect("host key")
                .fingerprint(),
        ),
    )
}

fn read(path: PathBuf) -> String {
    String::from_utf8(std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display())))
        .unwrap()
}

fn drop_file(root: &Path, name: &str, body: &[u8]) {
    std::fs::create_dir_all(root.join("inbound")).unwrap();
    std::fs::write(root.join("inbound").join(name), body).unwrap();
}

/// `[partners.NAME]` for an X12 partner whose mailbox is on the test's sshd.
fn sftp_partner_toml(name: &str, sshd: &Sshd, root: &Path, host_key: &str) -> String {
    format!(
        r#"
[partners.{name}]
kind = "edi"
org = "edi"
standard = "x12"
version = "004010"
us = {{ qualifier = "ZZ", id = "SWITCHYARD" }}
them = {{ qualifier = "12", id = "5551234567" }}

[partners.{name}.mailbox]
transport = "sftp"
host = "127.0.0.1"
port = {port}
user = {user:?}
private_key_file = {key:?}
host_key = {host_key:?}
root = {root:?}
timeout_secs = 10
"#,
        port = sshd.port,
        user = sshd.user,
        key = sshd.client_key.to_string_lossy(),
        root = root.to_string_lossy(),
    )
}

/// The repository's mapping files (every outbound document is generated through them).
fn mappings() -> switchyard_runtime::mappings::Mappings {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../mappings");
    let (registry, report) = switchyard_mapping::MappingRegistry::load(dir);
    assert!(report.is_clean(), "{:?}", report.failed);
    switchyard_runtime::mappings::Mappings::from_registry(registry)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sftp_mailbox_through_the_worker_acknowledges_archives_and_rejects() -> anyhow::Result<()> {
    let sshd = Sshd::start()?;
    let root = sshd.files().join("van/acme");
    drop_file(&root, "po-4410.edi", &fixture("x12/850_004010_good.edi"));
    drop_file(&root, "junk.edi", b"this is not an interchange\n");
    // A partner whose pinned host key is not the server's: its poll must not retry forever.
    let impostor_root = sshd.files().join("van/impostor");
    drop_file(
        &impostor_root,
        "po.edi",
        &fixture("x12/850_004010_good.edi"),
    );
    let (_, stranger_line) = sshd.stranger_key()?;

    let daemon = TestDaemon::builder()
        .toml(&sftp_partner_toml(
            "acme",
            &sshd,
            &root,
            &sshd.host_key_line,
        ))
        .toml(&sftp_partner_toml(
            "impostor",
            &sshd,
            &impostor_root,
            &stranger_line,
        ))
        .start()
        .await?;
    let (db, running) = (&daemon.db, &daemon.running);
    let org = switchyard_store::orgs::ensure(&db.pool, "edi").await?.id;
    for partner in ["acme", "impostor"] {
        running
            .queue
            .enqueue(NewJob::new(
                org,
                edi_mailbox::KIND,
                json!({ "partner": partner }),
            ))
            .await?;
    }
    eventually(Duration::from_secs(60), "both poll jobs to finish", || {
        let pool = db.pool.clone();
        async move {
            Ok(count(
                &pool,
                "SELECT count(*) FROM jobs WHERE kind = 'edi.mailbox.poll' AND state IN ('succeeded', 'dead')",
            )
            .await?
                == 2)
        }
    })
    .await?;

    // acme: the 850 archived, the junk in error/ with its reasons, one 997 in outbound/.
    assert_eq!(
        count(
            &db.pool,
            "SELECT count(*) FROM jobs WHERE kind = 'edi.mailbox.poll' AND state = 'succeeded' AND payload->>'partner' = 'acme'"
        )
        .await?,
        1,
        "sshd log:\n{}",
        sshd.log_text()
    );
    assert_eq!(files(&root.join("archive")), vec!["po-4410.edi"]);
    assert_eq!(
        files(&root.join("error")),
        vec!["junk.edi", "junk.edi.error.txt"]
    );
    let why = read(root.join("error/junk.edi.error.txt"));
    assert!(why.contains("no interchange could be read"), "{why}");
    assert!(files(&root.join("inbound")).is_empty());
    assert!(files(&root.join("processing")).is_empty());
    let out = files(&root.join("outbound"));
    assert_eq!(out.len(), 1, "one ack and no temporary file left: {out:?}");
    let ack = read(root.join("outbound").join(&out[0]));
    assert!(ack.starts_with("ISA"), "{ack}");
    assert!(ack.contains("ST*997*"), "{ack}");
    assert!(ack.contains("AK1*PO*"), "{ack}");
    let (inbox, _) = store::list(
        &db.pool,
        org,
        &EdiFilter {
            direction: Some(EdiDirection::Inbound),
            ..Default::default()
        },
        None,
        10,
    )
    .await?;
    assert_eq!(inbox.len(), 1);
    assert_eq!(inbox[0].status, EdiStatus::Processed);
    assert_eq!(inbox[0].partner, "acme");
    assert_eq!(inbox[0].raw, fixture("x12/850_004010_good.edi"));
    let ack_row = store::ack_of(&db.pool, org, inbox[0].id)
        .await?
        .expect("ack row");
    assert_eq!(ack_row.status, EdiStatus::Sent);
    assert_eq!(ack_row.raw, ack.as_bytes());

    // impostor: an auth error, dead-lettered on the first attempt, its file untouched.
    let (state, attempts, error): (String, i32, Option<String>) = sqlx::query_as(
        "SELECT state, attempts, errors::text FROM jobs WHERE payload->>'partner' = 'impostor'",
    )
    .fetch_one(&db.pool)
    .await?;
    assert_eq!(state, "dead");
    assert_eq!(attempts, 1);
    let error = error.unwrap_or_default();
    assert!(
        error.contains(r#""class": "auth""#) && error.contains("host key mismatch"),
        "{error}"
    );
    assert_eq!(files(&impostor_root.join("inbound")), vec!["po.edi"]);
    assert!(!impostor_root.join("processing").exists());
    daemon.stop().await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crashed_sftp_poll_resumes_from_remote_processing_without_a_second_ack(
) -> anyhow::Result<()> {
    let sshd = Sshd::start()?;
    let db = TestDb::create().await?;
    let org = switchyard_store::orgs::ensure(&db.pool, "edi").await?.id;
    let root = sshd.files().join("van/acme");
    let partner = good_partner(&sshd, &root);
    let body = fixture("x12/850_004010_good.edi");
    let claimed = |pickup: uuid::Uuid| {
        root.join("processing")
            .join(format!("{}__po.edi", pickup.simple()))
    };

    // 1. Killed right after the remote claim: the file sits in processing/, nothing stored.
    std::fs::create_dir_all(root.join("processing"))?;
    let pickup = uuid::Uuid::now_v7();
    std::fs::write(claimed(pickup), &body)?;
    let r = edi_mailbox::poll(&db.pool, org, None, &partner, Utc::now()).await?;
    assert_eq!(r.files.len(), 1);
    assert_eq!(r.files[0].pickup, pickup);
    let (id, ack_name) = match &r.files[0].interchanges[0] {
        InterchangeOutcome::Handled {
            message,
            status: EdiStatus::Processed,
            ack: Some(ack),
        } => (*message, ack.clone()),
        other => panic!("expected a processed, acknowledged interchange: {other:?}"),
    };
    assert!(
        matches!(&r.files[0].disposition, FileDisposition::Archived(p) if p.ends_with("archive/po.edi"))
    );
    assert!(files(&root.join("processing")).is_empty());
    assert_eq!(files(&root.join("archive")), vec!["po.edi"]);
    assert_eq!(files(&root.join("outbound")), vec![ack_name.clone()]);
    let first_ack = read(root.join("outbound").join(&ack_name));

    // 2. Killed mid-file: the interchange and its ack stored, the ack not yet uploaded, the
    // file still in remote processing/. The next poll uploads the same ack, once.
    let ack = store::ack_of(&db.pool, org, id).await?.expect("ack");
    store::set_status(&db.pool, org, ack.id, EdiStatus::Processed, None).await?;
    std::fs::remove_file(root.join("outbound").join(&ack_name))?;
    std::fs::rename(root.join("archive/po.edi"), claimed(pickup))?;
    let r = edi_mailbox::poll(&db.pool, org, None, &partner, Utc::now()).await?;
    match &r.files[0].interchanges[0] {
        InterchangeOutcome::Handled { message, ack, .. } => {
            assert_eq!(
                *message, id,
                "the stored message is resumed, not stored again"
            );
            assert_eq!(ack.as_deref(), Some(ack_name.as_str()));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(read(root.join("outbound").join(&ack_name)), first_ack);
    assert_eq!(files(&root.join("outbound")).len(), 1);
    assert_eq!(
        store::get(&db.pool, org, ack.id).await?.unwrap().status,
        EdiStatus::Sent
    );

    // 3. Killed after the ack was uploaded but before it was marked sent: the resumed poll
    // finds it already in outbound/ and does not write a second one.
    store::set_status(&db.pool, org, ack.id, EdiStatus::Processed, None).await?;
    std::fs::rename(root.join("archive/po.edi"), claimed(pickup))?;
    edi_mailbox::poll(&db.pool, org, None, &partner, Utc::now()).await?;
    assert_eq!(files(&root.join("outbound")), vec![ack_name.clone()]);
    assert_eq!(read(root.join("outbound").join(&ack_name)), first_ack);

    // One inbound message, one ack, no duplicate, one ISA number spent.
    assert_eq!(
        count(&db.pool, "SELECT count(*) FROM edi_messages").await?,
        2
    );
    assert_eq!(
        count(
            &db.pool,
            "SELECT count(*) FROM edi_messages WHERE duplicate_of IS NOT NULL"
        )
        .await?,
        0
    );
    assert_eq!(
        store::last_control_number(&db.pool, org, "acme", store::ControlKind::Isa).await?,
        Some(1)
    );
    assert!(files(&root.join("processing")).is_empty());
    db.drop_db().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_host_key_or_client_key_is_an_auth_error_and_touches_nothing() -> anyhow::Result<()>
{
    let sshd = Sshd::start()?;
    let db = TestDb::create().await?;
    let org = switchyard_store::orgs::ensure(&db.pool, "edi").await?.id;
    let root = sshd.files().join("van/acme");
    drop_file(&root, "po.edi", &fixture("x12/850_004010_good.edi"));
    let (stranger_file, stranger_line) = sshd.stranger_key()?;
    let real = HostKeyPin::parse(&sshd.host_key_line).map_err(anyhow::Error::msg)?;
    let pinned = HostKeyPin::parse(&stranger_line).map_err(anyhow::Error::msg)?;

    // The server presents a host key other than the pinned one.
    let partner = sftp_partner(
        &sshd,
        &root,
        ClientKey::File(sshd.client_key.clone()),
        pinned.clone(),
    );
    let err = edi_mailbox::poll(&db.pool, org, None, &partner, Utc::now())
        .await
        .expect_err("a wrong host key must fail");
    assert_eq!(err.class, ErrorClass::Auth, "{err}");
    assert!(
        err.message
            .contains(&format!("expected {}", pinned.fingerprint()))
            && err
                .message
                .contains(&format!("presented {}", real.fingerprint())),
        "{err}"
    );
    // Nothing was claimed or created on the server.
    assert_eq!(files(&root.join("inbound")), vec!["po.edi"]);
    assert!(!root.join("processing").exists());

    // Our key is not one the server authorizes.
    let partner = sftp_partner(&sshd, &root, ClientKey::File(stranger_file), real.clone());
    let err = edi_mailbox::poll(&db.pool, org, None, &partner, Utc::now())
        .await
        .expect_err("an unknown client key must fail");
    assert_eq!(err.class, ErrorClass::Auth, "{err}");
    assert!(err.message.contains("refused our key"), "{err}");
    assert_eq!(files(&root.join("inbound")), vec!["po.edi"]);
    assert!(!root.join("processing").exists());
    assert_eq!(
        count(&db.pool, "SELECT count(*) FROM edi_messages").await?,
        0
    );

    // The right keys: the same file goes through.
    let r = edi_mailbox::poll(&db.pool, org, None, &good_partner(&sshd, &root), Utc::now()).await?;
    assert_eq!(r.files.len(), 1);
    assert_eq!(files(&root.join("archive")), vec!["po.edi"]);
    db.drop_db().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn edi_send_delivers_into_the_remote_outbound() -> anyhow::Result<()> {
    let sshd = Sshd::start()?;
    let db = TestDb::create().await?;
    let org = switchyard_store::orgs::ensure(&db.pool, "edi").await?.id;
    let root = sshd.files().join("van/acme");
    let partner = good_partner(&sshd, &root);
    let order = json!({
        "order_number": "SO-1001",
        "customer_id": "ACME",
        "status": "confirmed",
        "currency": "USD",
        "ordered_at": "2026-03-01T08:00:00Z",
        "requested_delivery": "2026-03-10",
        "lines": [
            {"line_number": 1, "sku": "BAR-A36-1", "description": "Flat bar A36",
             "quantity": "12", "uom": "EA", "unit_price": "18.40", "requested_date": null},
        ],
        "billing_address": null,
        "shipping_address": null,
        "supplier_order_ref": null,
        "customer_po": "PO-7",
        "tracking_numbers": [],
    });
    let payload: SendPayload = serde_json::from_value(json!({
        "partner": "acme", "document": "order_response", "entity": order,
    }))?;
    let job = JobId::new();
    let report = edi_send::send(
        &db.pool,
        org,
        job,
        &partner,
        &payload,
        Utc::now(),
        &mappings(),
    )
    .await?;
    assert!(report.written);
    // Only the finished document, under its final name; no temporary upload left behind.
    assert_eq!(files(&root.join("outbound")), vec![report.file.clone()]);
    let text = read(root.join("outbound").join(&report.file));
    assert!(text.starts_with("ISA"), "{text}");
    assert!(text.contains("ST*855*"), "{text}");
    assert!(text.contains("PO-7"), "{text}");
    let row = store::get(&db.pool, org, report.message).await?.unwrap();
    assert_eq!(row.status, EdiStatus::Sent);
    assert_eq!(row.raw, text.as_bytes());

    // A redelivered job writes nothing new.
    let again = edi_send::send(
        &db.pool,
        org,
        job,
        &partner,
        &payload,
        Utc::now(),
        &mappings(),
    )
    .await?;
    assert!(!again.written);
    assert_eq!(files(&root.join("outbound")), vec![report.file]);
    db.drop_db().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_poll_cut_off_mid_file_resumes_and_acknowledges_each_interchange_once(
) -> anyhow::Result<()> {
    let sshd = Sshd::start()?;
    let db = TestDb::create().await?;
    let org = switchyard_store::orgs::ensure(&db.pool, "edi").await?.id;
    let root = sshd.files().join("van/acme");
    let partner = good_partner(&sshd, &root);
    // One file of many interchanges, each with its own control number.
    const N: usize = 120;
    let one = String::from_utf8(fixture("x12/850_004010_good.edi"))?;
    let mut body = String::new();
    for i in 0..N {
        let control = format!("{:09}", 1000 + i);
        body.push_str(
            &one.replace("*000000101*", &format!("*{control}*"))
                .replace("IEA*1*000000101", &format!("IEA*1*{control}")),
        );
        body.push('\n');
    }
    drop_file(&root, "big.edi", body.as_bytes());

    // The poll is cut off (its future dropped at whatever await it is in, as a killed daemon
    // stops) once part of the file is stored.
    let task = tokio::spawn({
        let pool = db.pool.clone();
        let partner = partner.clone();
        async move { edi_mailbox::poll(&pool, org, None, &partner, Utc::now()).await }
    });
    eventually(
        Duration::from_secs(60),
        "part of the file to be stored",
        || {
            let pool = db.pool.clone();
            async move {
                Ok(count(
                    &pool,
                    "SELECT count(*) FROM edi_messages WHERE direction = 'inbound'",
                )
                .await?
                    >= 10)
            }
        },
    )
    .await?;
    task.abort();
    let _ = task.await;
    // The cut-off poll held the mailbox's advisory lock on its own connection; dropping the
    // future closes it, and Postgres releases the lock when it sees the close. Wait for that
    // (the next poll would otherwise find the mailbox busy and leave it alone).
    eventually(
        Duration::from_secs(30),
        "the cut-off poll's mailbox lock to go",
        || {
            let pool = db.pool.clone();
            async move {
                Ok(count(
                    &pool,
                    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'",
                )
                .await?
                    == 0)
            }
        },
    )
    .await?;
    let stored = count(
        &db.pool,
        "SELECT count(*) FROM edi_messages WHERE direction = 'inbound'",
    )
    .await?;
    assert!(
        (stored as usize) < N,
        "the poll was cut off too late: {stored} stored"
    );
    assert_eq!(
        files(&root.join("processing")).len(),
        1,
        "the claimed file stays in remote processing/"
    );
    assert!(files(&root.join("inbound")).is_empty());

    // The next poll finishes the pickup.
    let r = edi_mailbox::poll(&db.pool, org, None, &partner, Utc::now()).await?;
    assert_eq!(r.files.len(), 1);
    assert_eq!(r.files[0].interchanges.len(), N);
    assert_eq!(files(&root.join("archive")), vec!["big.edi"]);
    assert!(files(&root.join("processing")).is_empty());
    // Every interchange stored once, acknowledged once, one ack file each.
    assert_eq!(
        count(
            &db.pool,
            "SELECT count(*) FROM edi_messages WHERE direction = 'inbound'"
        )
        .await?,
        N as i64
    );
    assert_eq!(
        count(
            &db.pool,
            "SELECT count(*) FROM edi_messages WHERE duplicate_of IS NOT NULL"
        )
        .await?,
        0
    );
    assert_eq!(
        count(
            &db.pool,
            "SELECT count(*) FROM (SELECT related_message_id FROM edi_messages WHERE direction = 'outbound' \
             GROUP BY related_message_id HAVING count(*) = 1) once"
        )
        .await?,
        N as i64
    );
    assert_eq!(
        count(
            &db.pool,
            "SELECT count(*) FROM edi_messages WHERE direction = 'outbound' AND status <> 'sent'"
        )
        .await?,
        0
    );
    let out = files(&root.join("outbound"));
    assert_eq!(
        out.len(),
        N,
        "one ack file per interchange, no temporary left: {out:?}"
    );
    assert!(out.iter().all(|f| !f.starts_with('.')), "{out:?}");
    db.drop_db().await;
    Ok(())
}
