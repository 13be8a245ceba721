//! The fake Optima (feature `fake`): both surfaces, refusing what Optima refuses.
//!
//! * [`FakeExchange`]: an importer over a local exchange folder. It takes each finished
//!   `*.xml` from `outbound/` (never a dot or `.tmp` name, which is a write in progress), reads
//!   it as Optima's offline import would and writes `NAME.result.xml` into `inbound/`
//!   (imported with its Optima number, or rejected with the reason), then moves the document
//!   to `archive/`. It refuses: an encoding other than windows-1250, another namespace, a
//!   section without `WERSJA` 2.00 / `BAZA_ZRD_ID` / `BAZA_DOC_ID`, another company, a bad NIP
//!   checksum, a VAT rate outside the set, amounts that do not balance (VAT per rate, net + VAT
//!   = the payment), a contractor code neither in the file nor known, a document number
//!   already imported, a correction whose corrected invoice it does not know.
//! * [`FakeRest`]: `GET /api/ping`, `POST /api/faktury`, `GET /api/plan-kont` over loopback
//!   HTTP, with the API key and secret checked on every call (401 otherwise), the body checked
//!   strictly (unknown fields refused) and by the Polish rules (422 naming the field), a
//!   duplicate number refused (409) unless it is the same idempotency key (200, duplicate).
//!
//! The importer also plays Optima's offline export of the chart of accounts: whenever it
//! changes ([`FakeOptima::set_accounts`]) it writes `inbound/plan_kont.xml` (see `chart.rs`).
//!
//! Fault switches on [`Faults`]: an outage (the importer takes nothing, REST answers 503),
//! a slow import, results that never appear.

use crate::adapter::{IDEMPOTENCY_HEADER, KEY_HEADER, SECRET_HEADER};
use crate::chart::{self, Account, AccountType};
use crate::offline::{self, stated_rate, ImportOutcome, ImportResult, WERSJA};
use crate::polish::{Nip, Summary};
use crate::wire::Faktura;
use crate::xml::{self, Element, NS};
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post};
use axum::{Json, Router};
use rust_decimal::Decimal;
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Switches a test flips while the fake runs.
#[derive(Debug, Default)]
pub struct Faults {
    /// Optima is down: the importer leaves files alone, REST answers 503.
    pub outage: AtomicBool,
    /// Milliseconds each import / request takes.
    pub slow_ms: AtomicU64,
    /// Documents are imported and archived but no result file is ever written.
    pub lose_results: AtomicBool,
    /// REST: the next call answers 503, once.
    pub fail_next: AtomicBool,
    /// REST: every call answers 429 with `Retry-After` of this many seconds (0: off).
    pub throttle_secs: AtomicU64,
    /// REST: every invoice is refused (422).
    pub reject_all: AtomicBool,
}

/// What Optima holds: contractors by code, documents by number, the chart of accounts.
#[derive(Debug)]
pub struct Books {
    pub contractors: BTreeMap<String, String>,
    /// Our number → (Optima's number, idempotency key or source id).
    pub documents: BTreeMap<String, (String, String)>,
    /// The chart of accounts (KontoPlan), served by REST and exported into the folder.
    pub accounts: Vec<Account>,
    /// Bumped on every change of `accounts`, so the importer re-exports only then.
    pub accounts_version: u64,
    next: u64,
}

impl Default for Books {
    fn default() -> Self {
        let a = |code: &str, name: &str, t: AccountType| Account {
            code: code.into(),
            name: name.into(),
            account_type: t,
        };
        Books {
            contractors: BTreeMap::new(),
            documents: BTreeMap::new(),
            accounts: vec![
                a("201", "Rozrachunki z odbiorcami", AccountType::Asset),
                a(
                    "221",
                    "Rozrachunki z tytułu VAT należnego",
                    AccountType::Liability,
                ),
                a("400", "Koszty według rodzajów", AccountType::Expense),
                a("700", "Sprzedaż produktów", AccountType::Revenue),
            ],
            accounts_version: 1,
            next: 0,
        }
    }
}

impl Books {
    fn number(&mut self, correction: bool, year: &str) -> String {
        self.next += 1;
        let prefix = if correction { "FSKOR" } else { "FS" };
        format!("{prefix}/{}/{year}", self.next)
    }
}

/// State both surfaces share (one Optima company).
#[derive(Debug)]
pub struct FakeOptima {
    pub company_code: String,
    pub faults: Faults,
    pub books: Mutex<Books>,
}

impl FakeOptima {
    pub fn new(company_code: &str) -> Arc<Self> {
        Arc::new(Self {
            company_code: company_code.to_owned(),
            faults: Faults::default(),
            books: Mutex::new(Books::default()),
        })
    }

    fn books(&self) -> std::sync::MutexGuard<'_, Books> {
        self.books.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Optima's number for one of our documents, once imported.
    pub fn optima_number(&self, our_number: &str) -> Option<String> {
        self.books()
            .documents
            .get(our_number)
            .map(|(n, _)| n.clone())
    }

    /// How many documents were applied under this idempotency key (REST) or source id.
    pub fn times_applied(&self, key: &str) -> usize {
        self.books()
            .documents
            .values()
            .filter(|(_, k)| k == key)
            .count()
    }

    /// Replace the chart of accounts (an accountant adds, renames, removes accounts).
    pub fn set_accounts(&self, accounts: Vec<Account>) {
        let mut b = self.books();
        b.accounts = accounts;
        b.accounts_version += 1;
    }

    pub fn accounts(&self) -> Vec<Account> {
        self.books().accounts.clone()
    }

    pub fn document_count(&self) -> usize {
        self.books().documents.len()
    }

    /// Import one offline XML document; the result names the first problem found.
    pub fn import_bytes(&self, file: &str, bytes: &[u8]) -> ImportResult {
        match self.import(bytes) {
            Ok((number, optima_number)) => ImportResult {
                file: file.to_owned(),
                number: Some(number),
                outcome: ImportOutcome::Imported { optima_number },
            },
            Err((number, reason)) => ImportResult {
                file: file.to_owned(),
                number,
                outcome: ImportOutcome::Rejected { reason },
            },
        }
    }

    fn import(&self, bytes: &[u8]) -> Result<(String, String), (Option<String>, String)> {
        let no = |r: String| (None, r);
        let text = xml::decode_1250(bytes).map_err(|e| no(e.to_string()))?;
        let root = xml::parse(&text).map_err(no)?;
        if root.name != "ROOT" || root.ns.as_deref() != Some(NS) {
            return Err(no(format!(
                "the root must be ROOT in {NS}, not {} in {}",
                root.name,
                root.ns.as_deref().unwrap_or("no namespace")
            )));
        }
        let mut file_contractors: HashMap<String, String> = HashMap::new();
        if let Some(k) = root.child("KONTRAHENCI") {
            self.section_header(k).map_err(no)?;
            for (i, c) in k.children_named("KONTRAHENT").enumerate() {
                let f = format!("KONTRAHENCI/KONTRAHENT[{}]", i + 1);
                let code = c.text_of("AKRONIM").unwrap_or_default();
                if code.is_empty() {
                    return Err(no(format!("{f}/AKRONIM is required")));
                }
                let adres = c.child("ADRESY").and_then(|a| a.child("ADRES"));
                let nip = adres.and_then(|a| a.text_of("NIP")).unwrap_or_default();
                let nip = Nip::parse(nip, &format!("{f}/ADRESY/ADRES/NIP"))
                    .map_err(|e| no(e.to_string()))?;
                if file_contractors
                    .insert(code.to_owned(), nip.to_string())
                    .is_some()
                {
                    return Err(no(format!("{f}/AKRONIM `{code}` appears twice")));
                }
            }
        }
        let regs = root
            .child("REJESTRY_SPRZEDAZY_VAT")
            .ok_or_else(|| no("the file has no REJESTRY_SPRZEDAZY_VAT section".into()))?;
        self.section_header(regs).map_err(no)?;
        let docs: Vec<&Element> = regs.children_named("REJESTR_SPRZEDAZY_VAT").collect();
        let [doc] = docs.as_slice() else {
            return Err(no(format!(
                "one document per file expected, found {}",
                docs.len()
            )));
        };
        let number = doc.text_of("NUMER").unwrap_or_default().to_owned();
        let fail = |r: String| (Some(number.clone()), r);
        if number.is_empty() {
            return Err(no("REJESTR_SPRZEDAZY_VAT/NUMER is required".into()));
        }
        let f = "REJESTR_SPRZEDAZY_VAT";
        Nip::parse(doc.text_of("NIP").unwrap_or_default(), &format!("{f}/NIP"))
            .map_err(|e| fail(e.to_string()))?;
        let rates = doc
            .child("POZYCJE")
            .map(|p| p.children_named("POZYCJA").collect::<Vec<_>>())
            .unwrap_or_default();
        if rates.is_empty() {
            return Err(fail(format!("{f}/POZYCJE has no POZYCJA")));
        }
        let mut stated = Vec::new();
        for (i, p) in rates.iter().enumerate() {
            stated.push(stated_rate(p, &format!("{f}/POZYCJE/POZYCJA[{}]", i + 1)).map_err(fail)?);
        }
        let mut paid = Decimal::ZERO;
        for p in doc
            .child("PLATNOSCI")
            .map(|p| p.children_named("PLATNOSC").collect::<Vec<_>>())
            .unwrap_or_default()
        {
            paid += p
                .text_of("KWOTA_PLAT")
                .unwrap_or_default()
                .parse::<Decimal>()
                .map_err(|_| {
                    fail(format!(
                        "{f}/PLATNOSCI/PLATNOSC/KWOTA_PLAT is not an amount"
                    ))
                })?;
        }
        Summary::check_stated(&stated, paid, &format!("{f}/POZYCJE/POZYCJA"))
            .map_err(|e| fail(e.to_string()))?;
        let correction = match doc.text_of("KOREKTA") {
            Some("Tak") => true,
            Some("Nie") => false,
            other => {
                return Err(fail(format!(
                    "{f}/KOREKTA must be Tak or Nie, not {other:?}"
                )))
            }
        };
        let code = doc.text_of("PODMIOT").unwrap_or_default().to_owned();
        let mut books = self.books();
        if !file_contractors.contains_key(&code) && !books.contractors.contains_key(&code) {
            return Err(fail(format!(
                "{f}/PODMIOT: unknown contractor code `{code}`"
            )));
        }
        let id = doc.text_of("ID_ZRODLA").unwrap_or_default().to_owned();
        if let Some((optima_number, known_id)) = books.documents.get(&number) {
            // Optima recognises a document it imported before by its source id and skips
            // it; the same number from another source document is a duplicate.
            if *known_id == id && !id.is_empty() {
                return Ok((number, optima_number.clone()));
            }
            return Err(fail(format!(
                "{f}/NUMER: document `{number}` already exists"
            )));
        }
        if correction {
            let orig = doc.text_of("KOREKTA_NUMER").unwrap_or_default();
            if !books.documents.contains_key(orig) {
                return Err(fail(format!(
                    "{f}/KOREKTA_NUMER: the corrected invoice `{orig}` is not in Optima"
                )));
            }
        }
        books.contractors.extend(file_contractors);
        let year = doc
            .text_of("DATA_WYSTAWIENIA")
            .and_then(|d| d.get(..4))
            .unwrap_or("0000")
            .to_owned();
        let optima_number = books.number(correction, &year);
        books
            .documents
            .insert(number.clone(), (optima_number.clone(), id));
        Ok((number, optima_number))
    }

    fn section_header(&self, s: &Element) -> Result<(), String> {
        match s.text_of("WERSJA") {
            Some(WERSJA) => {}
            Some(v) => return Err(format!("{}/WERSJA {v} is not supported (2.00)", s.name)),
            None => return Err(format!("{}/WERSJA is missing", s.name)),
        }
        if s.text_of("BAZA_ZRD_ID").unwrap_or_default().is_empty() {
            return Err(format!("{}/BAZA_ZRD_ID is missing", s.name));
        }
        match s.text_of("BAZA_DOC_ID") {
            Some(c) if c == self.company_code => Ok(()),
            Some(c) => Err(format!(
                "{}/BAZA_DOC_ID `{c}` is not this company (`{}`)",
                s.name, self.company_code
            )),
            None => Err(format!("{}/BAZA_DOC_ID is missing", s.name)),
        }
    }
}

/// The exchange-folder importer, polling a local folder until dropped.
pub struct FakeExchange {
    pub optima: Arc<FakeOptima>,
    pub root: PathBuf,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for FakeExchange {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl FakeExchange {
    /// Start importing from `root/outbound` (the folders are created).
    pub fn start(optima: Arc<FakeOptima>, root: &Path) -> FakeExchange {
        for d in ["outbound", "inbound", "archive", "error", "processing"] {
            std::fs::create_dir_all(root.join(d)).expect("creating the exchange folders");
        }
        let (o, r) = (optima.clone(), root.to_path_buf());
        let task = tokio::spawn(async move {
            let mut exported = 0;
            loop {
                if !o.faults.outage.load(Ordering::SeqCst) {
                    let (o2, r2) = (o.clone(), r.clone());
                    exported = tokio::task::spawn_blocking(move || {
                        sweep(&o2, &r2);
                        export_accounts(&o2, &r2, exported)
                    })
                    .await
                    .unwrap_or(exported);
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        });
        FakeExchange {
            optima,
            root: root.to_path_buf(),
            task,
        }
    }
}

/// Optima's offline export of the chart of accounts into `inbound/plan_kont.xml` (atomically),
/// when it changed since `exported`; the version now exported.
fn export_accounts(o: &FakeOptima, root: &Path, exported: u64) -> u64 {
    let (version, bytes) = {
        let b = o.books();
        if b.accounts_version == exported {
            return exported;
        }
        (b.accounts_version, chart::to_export(&b.accounts))
    };
    let tmp = root
        .join("inbound")
        .join(format!(".{}.tmp", chart::EXPORT_FILE));
    match std::fs::write(&tmp, bytes)
        .and_then(|_| std::fs::rename(&tmp, root.join("inbound").join(chart::EXPORT_FILE)))
    {
        Ok(()) => version,
        Err(_) => exported,
    }
}

/// One pass over `outbound/`.
fn sweep(o: &FakeOptima, root: &Path) {
    let Ok(rd) = std::fs::read_dir(root.join("outbound")) else {
        return;
    };
    let mut names: Vec<String> = rd
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".xml") && !n.starts_with('.'))
        .collect();
    names.sort();
    for name in names {
        let path = root.join("outbound").join(&name);
        let Ok(bytes) = std::fs::read(&path) else {
            continue;
        };
        let slow = o.faults.slow_ms.load(Ordering::SeqCst);
        if slow > 0 {
            std::thread::sleep(Duration::from_millis(slow));
        }
        let result = o.import_bytes(&name, &bytes);
        let _ = std::fs::rename(&path, root.join("archive").join(&name));
        if !o.faults.lose_results.load(Ordering::SeqCst) {
            let rname = offline::result_name(&name);
            let tmp = root.join("inbound").join(format!(".{rname}.tmp"));
            if std::fs::write(&tmp, result.to_bytes()).is_ok() {
                let _ = std::fs::rename(&tmp, root.join("inbound").join(rname));
            }
        }
    }
}

/// The REST surface on a loopback port.
pub struct FakeRest {
    pub optima: Arc<FakeOptima>,
    pub addr: SocketAddr,
    pub api_key: String,
    pub api_secret: String,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for FakeRest {
    fn drop(&mut self) {
        self.task.abort();
    }
}

#[derive(Clone)]
struct RestState {
    optima: Arc<FakeOptima>,
    key: String,
    secret: String,
}

impl FakeRest {
    pub async fn start(optima: Arc<FakeOptima>, api_key: &str, api_secret: &str) -> FakeRest {
        let state = RestState {
            optima: optima.clone(),
            key: api_key.to_owned(),
            secret: api_secret.to_owned(),
        };
        let app = Router::new()
            .route("/api/ping", get(ping))
            .route("/api/faktury", post(faktury))
            .route("/api/plan-kont", get(plan_kont))
            .with_state(state);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("binding the fake Optima");
        let addr = listener.local_addr().expect("its address");
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        FakeRest {
            optima,
            addr,
            api_key: api_key.to_owned(),
            api_secret: api_secret.to_owned(),
            task,
        }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

type Reply = axum::response::Response;

fn reply(status: StatusCode, body: Value) -> Reply {
    axum::response::IntoResponse::into_response((status, Json(body)))
}

fn refuse(status: StatusCode, msg: impl Into<String>) -> Reply {
    reply(status, json!({"error": msg.into()}))
}

async fn gate(s: &RestState, headers: &HeaderMap) -> Result<(), Reply> {
    let slow = s.optima.faults.slow_ms.load(Ordering::SeqCst);
    if slow > 0 {
        tokio::time::sleep(Duration::from_millis(slow)).await;
    }
    let faults = &s.optima.faults;
    if faults.outage.load(Ordering::SeqCst) || faults.fail_next.swap(false, Ordering::SeqCst) {
        return Err(refuse(
            StatusCode::SERVICE_UNAVAILABLE,
            "Optima is unavailable",
        ));
    }
    let throttle = faults.throttle_secs.load(Ordering::SeqCst);
    if throttle > 0 {
        let mut r = refuse(StatusCode::TOO_MANY_REQUESTS, "too many requests");
        r.headers_mut().insert(
            axum::http::header::RETRY_AFTER,
            axum::http::HeaderValue::from(throttle),
        );
        return Err(r);
    }
    let h = |n: &str| headers.get(n).and_then(|v| v.to_str().ok());
    match (h(KEY_HEADER), h(SECRET_HEADER)) {
        (Some(k), Some(sec)) if k == s.key && sec == s.secret => Ok(()),
        (None, _) | (_, None) => Err(refuse(
            StatusCode::UNAUTHORIZED,
            "missing X-API-Key or X-API-Secret",
        )),
        _ => Err(refuse(StatusCode::UNAUTHORIZED, "wrong API key or secret")),
    }
}

async fn ping(State(s): State<RestState>, headers: HeaderMap) -> Reply {
    if let Err(r) = gate(&s, &headers).await {
        return r;
    }
    reply(
        StatusCode::OK,
        json!({"status": "ok", "firma": s.optima.company_code}),
    )
}

async fn plan_kont(State(s): State<RestState>, headers: HeaderMap) -> Reply {
    if let Err(r) = gate(&s, &headers).await {
        return r;
    }
    let accounts: Vec<Value> = s
        .optima
        .accounts()
        .iter()
        .map(|a| json!({"Numer": a.code, "Nazwa": a.name, "Typ": a.account_type.optima_name()}))
        .collect();
    reply(StatusCode::OK, Value::Array(accounts))
}

async fn faktury(
    State(s): State<RestState>,
    Query(q): Query<HashMap<String, String>>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Reply {
    if let Err(r) = gate(&s, &headers).await {
        return r;
    }
    if let Some(k) = q.keys().find(|k| k.as_str() != "bufor") {
        return refuse(
            StatusCode::BAD_REQUEST,
            format!("unknown query parameter `{k}`"),
        );
    }
    let json: Value = match serde_json::from_slice(&body) {
        Ok(v) => v,
        Err(e) => return refuse(StatusCode::BAD_REQUEST, format!("not JSON: {e}")),
    };
    let f = match Faktura::from_json(&json) {
        Ok(f) => f,
        Err(e) => return refuse(StatusCode::BAD_REQUEST, e.to_string()),
    };
    let inv = match f.check() {
        Ok(i) => i,
        Err(e) => return refuse(StatusCode::UNPROCESSABLE_ENTITY, e.to_string()),
    };
    if f.wartosc_netto.is_none() || f.wartosc_brutto.is_none() {
        return refuse(
            StatusCode::UNPROCESSABLE_ENTITY,
            "WartoscNetto and WartoscBrutto are required",
        );
    }
    if s.optima.faults.reject_all.load(Ordering::SeqCst) {
        return refuse(
            StatusCode::UNPROCESSABLE_ENTITY,
            "Optima refuses every document (fault switch)",
        );
    }
    let key = headers
        .get(IDEMPOTENCY_HEADER)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let mut books = s.optima.books();
    if let Some((n, k)) = books.documents.get(&inv.number) {
        if !key.is_empty() && *k == key {
            return reply(StatusCode::OK, json!({"numer": n, "duplicate": true}));
        }
        return refuse(
            StatusCode::CONFLICT,
            format!("NumerDokumentu: document `{}` already exists", inv.number),
        );
    }
    if let crate::polish::DocKind::Correction { corrects } = &inv.kind {
        if !books.documents.contains_key(corrects) {
            return refuse(
                StatusCode::UNPROCESSABLE_ENTITY,
                format!("NumerKorygowanego: the corrected invoice `{corrects}` is not in Optima"),
            );
        }
    }
    books
        .contractors
        .insert(inv.contractor_code.clone(), inv.nip.to_string());
    let numer = books.number(
        inv.kind.is_correction(),
        &inv.issue_date.format("%Y").to_string(),
    );
    books
        .documents
        .insert(inv.number.clone(), (numer.clone(), key));
    reply(
        StatusCode::CREATED,
        json!({"numer": numer, "bufor": q.contains_key("bufor"), "duplicate": false}),
    )
}
