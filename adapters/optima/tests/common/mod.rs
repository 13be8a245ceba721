//! What the Optima tests share: a real XSD validator (`xmllint`, Debian's libxml2-utils,
//! installed on first use where the process can, the way tests/src/sshd.rs installs
//! openssh-server) and documents to push.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Mutex;

const XMLLINT: &str = "/usr/bin/xmllint";
const INSTALL: &str =
    "apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y libxml2-utils";

fn ensure_xmllint() {
    static DONE: Mutex<Option<Result<(), String>>> = Mutex::new(None);
    let mut done = DONE.lock().unwrap_or_else(|e| e.into_inner());
    if done.is_none() {
        *done = Some(install());
    }
    if let Some(Err(e)) = done.as_ref() {
        panic!("{e}");
    }
}

fn install() -> Result<(), String> {
    if Path::new(XMLLINT).exists() {
        return Ok(());
    }
    let root = Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false);
    if !root || !Path::new("/usr/bin/apt-get").exists() {
        return Err(format!(
            "{XMLLINT} is missing and this process cannot install it (needs root and apt-get). Run: `{INSTALL}`"
        ));
    }
    eprintln!("{XMLLINT} is missing; installing Debian's libxml2-utils (once)");
    for args in [
        &["update", "-qq"][..],
        &[
            "install",
            "-y",
            "-qq",
            "--no-install-recommends",
            "libxml2-utils",
        ][..],
    ] {
        let out = Command::new("apt-get")
            .args(args)
            .env("DEBIAN_FRONTEND", "noninteractive")
            .stdin(Stdio::null())
            .output()
            .map_err(|e| format!("running apt-get: {e}"))?;
        if !out.status.success() {
            return Err(format!(
                "apt-get {} failed: {}\nRun: `{INSTALL}`",
                args.join(" "),
                String::from_utf8_lossy(&out.stderr)
            ));
        }
    }
    if Path::new(XMLLINT).exists() {
        Ok(())
    } else {
        Err(format!("libxml2-utils installed but {XMLLINT} is missing"))
    }
}

pub fn xsd() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("xsd/optima-offline.xsd")
}

/// `xmllint --noout --schema XSD FILE` with the offline XML's schema: Ok, or its complaint.
pub fn validate(bytes: &[u8]) -> Result<(), String> {
    validate_against(&xsd(), bytes)
}

/// The same against any schema of the crate's `xsd/`.
pub fn validate_against(xsd: &Path, bytes: &[u8]) -> Result<(), String> {
    ensure_xmllint();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("doc.xml");
    std::fs::write(&file, bytes).unwrap();
    let out = Command::new(XMLLINT)
        .arg("--noout")
        .arg("--schema")
        .arg(xsd)
        .arg(&file)
        .output()
        .expect("running xmllint");
    if out.status.success() {
        Ok(())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}

/// A mapped invoice (the mapping's output shape) with Polish diacritics everywhere text goes.
pub fn faktura(number: &str, nip: &str) -> serde_json::Value {
    serde_json::json!({
        "NumerDokumentu": number,
        "DataWystawienia": "2026-11-20",
        "TerminPlatnosci": "2026-12-04",
        "Waluta": "PLN",
        "Kontrahent": {"Kod": "C-2001", "Nazwa": "Zakład Łódź — Żółć & Gęś Sp. z o.o.", "NIP": nip, "Miasto": "Łódź"},
        "Pozycja": [
            {"Lp": 1, "KodTowaru": "A36-PL", "Nazwa": "Blacha", "Ilosc": 3, "JM": "szt", "CenaJedn": 1249.99, "StawkaVAT": 23},
            {"Lp": 2, "KodTowaru": "SRV-CUT", "Nazwa": "Cięcie", "Ilosc": 1, "JM": "szt", "CenaJedn": 0.10, "StawkaVAT": 8},
            {"Lp": 3, "KodTowaru": "BOOK", "Ilosc": 2, "CenaJedn": 40.00, "StawkaVAT": 5},
            {"Lp": 4, "KodTowaru": "EXP", "Ilosc": 1, "CenaJedn": 10.00, "StawkaVAT": 0},
            {"Lp": 5, "KodTowaru": "MED", "Ilosc": 1, "CenaJedn": 7.00, "StawkaVAT": "zw"},
            {"Lp": 6, "KodTowaru": "SRV-EU", "Ilosc": 1, "CenaJedn": 8.00, "StawkaVAT": "np"},
            {"Lp": 7, "KodTowaru": "SCRAP", "Ilosc": 1, "CenaJedn": 9.00, "StawkaVAT": "oo"}
        ],
        "WartoscNetto": 3864.07
    })
}

pub const GOOD_NIP: &str = "PL5260250274";

/// The crate's own tables (the ledger, the chart, the VAT reports) on a database the hub's
/// migrations made, the way the daemon assembles them.
pub async fn migrate(pool: &sqlx::PgPool) {
    use switchyard_runtime::integration::Integration;
    let integrations: Vec<std::sync::Arc<dyn Integration>> = vec![std::sync::Arc::new(
        switchyard_optima::OptimaIntegration::new().unwrap(),
    )];
    switchyard_runtime::assembly::migrator(&integrations)
        .await
        .unwrap()
        .run(pool)
        .await
        .unwrap();
}

/// The repository's canonical invoice fixture, numbered `number`.
pub fn canonical_invoice(number: &str) -> serde_json::Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../fixtures/mappings/optima/invoice.out/fv-2026-11.input.json");
    let mut v: serde_json::Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
    v["invoice_number"] = number.into();
    v
}
