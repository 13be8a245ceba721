//! The Optima exchange folder on an SFTP server (a real OpenSSH sshd on loopback): the
//! adapter writes the offline XML through the VAN mailbox's SFTP transport, the fake Optima
//! importer reads the same directory on disk and answers with a result file, which the adapter
//! reads back over SFTP. A host key other than the pinned one is refused before anything is
//! written.

use std::path::Path;
use std::time::Duration;
use switchyard_core::adapter::{Adapter, OutboundDocument, Payload};
use switchyard_core::error::ErrorClass;
use switchyard_core::ids::PartnerName;
use switchyard_e2e::sshd::Sshd;
use switchyard_edi_van::partners::{ClientKey, HostKeyPin, MailboxSpec, SftpSpec};
use switchyard_optima::config::{OptimaPartner, Surface};
use switchyard_optima::fake::{FakeExchange, FakeOptima};
use switchyard_optima::OptimaAdapter;
use switchyard_runtime::testkit::doubles::{context, RecordingSink};

fn adapter(sshd: &Sshd, root: &Path, host_key: HostKeyPin) -> OptimaAdapter {
    OptimaAdapter::new(
        PartnerName::from("ksiegowosc"),
        OptimaPartner {
            enabled: true,
            surface: Surface::XmlExchange(MailboxSpec::Sftp(Box::new(SftpSpec {
                host: "127.0.0.1".into(),
                port: sshd.port,
                user: sshd.user.clone(),
                key: ClientKey::Text(sshd.client_key_text.clone()),
                passphrase: None,
                host_key,
                root: root.to_string_lossy().into_owned(),
                timeout: Duration::from_secs(10),
            }))),
            company_code: "STALHURT".into(),
            register: "SPRZEDAŻ".into(),
            test_mode: false,
            auto_sync: false,
            result_timeout: Duration::from_secs(20),
            taxpayer: None,
        },
        reqwest::Client::new(),
    )
}

fn invoice() -> OutboundDocument {
    OutboundDocument {
        document: "invoice".into(),
        payload: Payload::Json {
            body: serde_json::json!({
                "NumerDokumentu": "FV/2026/11/0042",
                "DataWystawienia": "2026-11-20",
                "Kontrahent": {"Kod": "C-2001", "Nazwa": "Zakład Łódź Sp. z o.o.", "NIP": "PL5260250274"},
                "Pozycja": [{"KodTowaru": "A36-PL", "Ilosc": 3, "CenaJedn": 1249.99, "StawkaVAT": 23}]
            }),
        },
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invoices_go_through_an_sftp_exchange_folder() -> anyhow::Result<()> {
    let sshd = Sshd::start()?;
    let root = sshd.files().join("optima/stalhurt");
    std::fs::create_dir_all(&root)?;
    let optima = FakeOptima::new("STALHURT");
    let _importer = FakeExchange::start(optima.clone(), &root);
    let pinned = HostKeyPin::parse(&sshd.host_key_line).map_err(anyhow::Error::msg)?;

    let good = adapter(&sshd, &root, pinned);
    good.health(&context("health", RecordingSink::new()))
        .await?;
    let receipt = good
        .push(&context("job-1", RecordingSink::new()), &invoice())
        .await?;
    assert_eq!(receipt.external_id.as_deref(), Some("FS/1/2026"));
    assert_eq!(
        optima.optima_number("FV/2026/11/0042").as_deref(),
        Some("FS/1/2026")
    );
    // The result was read over SFTP and archived there.
    let archived: Vec<String> = std::fs::read_dir(root.join("archive"))?
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        archived.iter().any(|n| n.ends_with(".result.xml")),
        "{archived:?}"
    );

    // Another server key: refused at connect, nothing written.
    let (_, stranger) = sshd.stranger_key()?;
    let impostor = adapter(
        &sshd,
        &sshd.files().join("optima/impostor"),
        HostKeyPin::parse(&stranger).map_err(anyhow::Error::msg)?,
    );
    let e = impostor
        .push(&context("job-2", RecordingSink::new()), &invoice())
        .await
        .unwrap_err();
    assert_eq!(e.class, ErrorClass::Auth, "{e}");
    assert!(!sshd.files().join("optima/impostor").exists());
    assert_eq!(optima.document_count(), 1);
    Ok(())
}
