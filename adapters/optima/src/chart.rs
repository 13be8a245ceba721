//! The chart of accounts (FR-INT-022), pure: Optima's `KontoPlan` (`Numer`, `Nazwa`, `Typ`)
//! as our `gl_account_code`, `name`, `account_type`, from either surface.
//!
//! * rest: `GET /api/plan-kont`, a JSON array of `{"Numer", "Nazwa", "Typ"}` (the PRD's names).
//! * xml-exchange: **an assumption** (Optima's offline export, "praca rozproszona", exports
//!   documents and lists into the exchange folder the way it imports them): the customer's
//!   scheduled export writes the chart of accounts as `inbound/plan_kont.xml` — `ROOT` in
//!   Optima's offline namespace, windows-1250, `PLAN_KONT` with `WERSJA` 2.00 and one `KONTO`
//!   (`NUMER`, `NAZWA`, `TYP`) per account. We read it in place and never move it: it is a
//!   snapshot the next export replaces, not a message.
//!
//! `Typ` is Polish (`aktywa`, `pasywa`, `koszty`, `przychody`, also as adjectives such as
//! `aktywne`/`kosztowe`); the English names are accepted too. Anything else refuses the whole
//! pull naming the account: a chart with an account dropped silently would mark it inactive.

use crate::xml::{self, Element, NS};
use serde::{Deserialize, Serialize};

/// The exchange folder's file (in `inbound/`).
pub const EXPORT_FILE: &str = "plan_kont.xml";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AccountType {
    Asset,
    Liability,
    Expense,
    Revenue,
}

impl AccountType {
    pub fn as_str(self) -> &'static str {
        match self {
            AccountType::Asset => "asset",
            AccountType::Liability => "liability",
            AccountType::Expense => "expense",
            AccountType::Revenue => "revenue",
        }
    }

    /// Optima's `Typ` (Polish, any case), or our own name.
    pub fn from_optima(typ: &str) -> Option<AccountType> {
        match typ.trim().to_lowercase().as_str() {
            "aktywa" | "aktywne" | "aktywny" | "asset" => Some(AccountType::Asset),
            "pasywa" | "pasywne" | "pasywny" | "liability" => Some(AccountType::Liability),
            "koszty" | "kosztowe" | "kosztowy" | "expense" => Some(AccountType::Expense),
            "przychody" | "przychodowe" | "przychodowy" | "revenue" => Some(AccountType::Revenue),
            _ => None,
        }
    }

    /// What the fake's export writes.
    pub fn optima_name(self) -> &'static str {
        match self {
            AccountType::Asset => "aktywa",
            AccountType::Liability => "pasywa",
            AccountType::Expense => "koszty",
            AccountType::Revenue => "przychody",
        }
    }
}

impl TryFrom<String> for AccountType {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        AccountType::from_optima(&s).ok_or_else(|| format!("unknown account type `{s}`"))
    }
}

/// One account of the chart.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    pub code: String,
    pub name: String,
    pub account_type: AccountType,
}

/// Why a chart cannot be taken: the account and field at fault.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct ChartError {
    pub field: String,
    pub message: String,
}

fn err(field: String, message: impl Into<String>) -> ChartError {
    ChartError {
        field,
        message: message.into(),
    }
}

/// One `KontoPlan` entry as the REST layer sends it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct KontoPlan {
    #[serde(rename = "Numer")]
    numer: String,
    #[serde(rename = "Nazwa")]
    nazwa: String,
    #[serde(rename = "Typ")]
    typ: String,
}

/// Check one account; `at` names it (`KontoPlan[3]`).
fn account(at: &str, code: &str, name: &str, typ: &str) -> Result<Account, ChartError> {
    let code = code.trim();
    if code.is_empty() {
        return Err(err(format!("{at}.Numer"), "is empty"));
    }
    let account_type = AccountType::from_optima(typ).ok_or_else(|| {
        err(
            format!("{at}.Typ"),
            format!("`{typ}` (account {code}) is not aktywa, pasywa, koszty or przychody"),
        )
    })?;
    Ok(Account {
        code: code.to_owned(),
        name: name.trim().to_owned(),
        account_type,
    })
}

/// Every code once: two accounts with one number would make the stored one depend on order.
fn unique(accounts: Vec<Account>) -> Result<Vec<Account>, ChartError> {
    let mut seen = std::collections::HashSet::new();
    for (i, a) in accounts.iter().enumerate() {
        if !seen.insert(a.code.as_str()) {
            return Err(err(
                format!("KontoPlan[{}].Numer", i + 1),
                format!("account {} appears twice", a.code),
            ));
        }
    }
    Ok(accounts)
}

/// `GET /api/plan-kont`'s body.
pub fn from_json(body: &serde_json::Value) -> Result<Vec<Account>, ChartError> {
    let list: Vec<KontoPlan> = serde_path_to_error::deserialize(body)
        .map_err(|e| err(format!("KontoPlan{}", e.path()), e.inner().to_string()))?;
    let accounts = list
        .iter()
        .enumerate()
        .map(|(i, k)| account(&format!("KontoPlan[{}]", i + 1), &k.numer, &k.nazwa, &k.typ))
        .collect::<Result<Vec<_>, _>>()?;
    unique(accounts)
}

/// The offline export (`plan_kont.xml`, windows-1250).
pub fn from_export(bytes: &[u8]) -> Result<Vec<Account>, ChartError> {
    let file = || format!("inbound/{EXPORT_FILE}");
    let text = xml::decode_1250(bytes).map_err(|e| err(file(), e.to_string()))?;
    let root = xml::parse(&text).map_err(|e| err(file(), e))?;
    if root.name != "ROOT" || root.ns.as_deref() != Some(NS) {
        return Err(err(file(), format!("the root is not ROOT in {NS}")));
    }
    let plan: &Element = root
        .child("PLAN_KONT")
        .ok_or_else(|| err(file(), "no PLAN_KONT section"))?;
    match plan.text_of("WERSJA") {
        Some(crate::offline::WERSJA) => {}
        other => {
            return Err(err(
                "PLAN_KONT/WERSJA".into(),
                format!("{other:?} is not version 2.00"),
            ))
        }
    }
    let accounts = plan
        .children_named("KONTO")
        .enumerate()
        .map(|(i, k)| {
            let get = |n: &str| k.text_of(n).unwrap_or("");
            account(
                &format!("KontoPlan[{}]", i + 1),
                get("NUMER"),
                get("NAZWA"),
                get("TYP"),
            )
        })
        .collect::<Result<Vec<_>, _>>()?;
    unique(accounts)
}

/// The export as Optima writes it (the fake's side, and tests).
pub fn to_export(accounts: &[Account]) -> Vec<u8> {
    let mut s = format!(
        "<?xml version=\"1.0\" encoding=\"windows-1250\"?>\n<ROOT xmlns=\"{NS}\">\n  <PLAN_KONT>\n    <WERSJA>{}</WERSJA>\n",
        crate::offline::WERSJA
    );
    for a in accounts {
        s.push_str(&format!(
            "    <KONTO><NUMER>{}</NUMER><NAZWA>{}</NAZWA><TYP>{}</TYP></KONTO>\n",
            xml::escape(&a.code),
            xml::escape(&a.name),
            a.account_type.optima_name()
        ));
    }
    s.push_str("  </PLAN_KONT>\n</ROOT>\n");
    xml::encode_1250(&s)
}
