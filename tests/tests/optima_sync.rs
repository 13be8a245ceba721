//! Comarch ERP Optima through its own API (issue #15): invoices recorded for a connection
//! and pushed through the queue (automatically with `auto_sync`, or on request), each one's
//! sync status on the ledger row; the chart of accounts pulled from both surfaces, with
//! accounts Optima removed kept as inactive.

use reqwest::Method;
use serde_json::{json, Value};
use std::sync::atomic::Ordering;
use std::time::Duration;
use switchyard_daemon::app::Roles;
use switchyard_e2e::{eventually, repo, TestDaemon};
use switchyard_optima::chart::{Account, AccountType};
use switchyard_optima::fake::{FakeExchange, FakeOptima, FakeRest};
use switchyard_store::queue::DeadLetterState;

const GOOD_NIP: &str = "PL 526-025-02-74";

fn invoice(number: &str, tax_id: &str) -> Value {
    let mut v: Value = serde_json::from_slice(
        &std::fs::read(repo().join("fixtures/mappings/optima/invoice.out/fv-2026-11.input.json"))
            .unwrap(),
    )
    .unwrap();
    v["invoice_number"] = number.into();
    v["buyer"]["tax_id"] = tax_id.into();
    v
}

const ROLES: Roles = Roles {
    api: true,
    worker: true,
    scheduler: false,
};

/// `GET /integrations/comarch/invoices/{id}` until `status` is `want`; the view.
async fn status_becomes(
    d: &TestDaemon,
    key: &str,
    id: &str,
    want: &str,
    timeout_secs: u64,
) -> anyhow::Result<Value> {
    let path = format!("/api/v1/integrations/comarch/invoices/{id}");
    eventually(
        Duration::from_secs(timeout_secs),
        &format!("invoice {id} {want}"),
        || async {
            let (s, b) = d.call(Method::GET, &path, Some(key), None).await?;
            anyhow::ensure!(s == 200, "{s} {b}");
            Ok(b["status"] == want)
        },
    )
    .await?;
    Ok(d.call(Method::GET, &path, Some(key), None).await?.1)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn auto_sync_pushes_new_invoices_through_the_exchange_folder() -> anyhow::Result<()> {
    let folder = tempfile::tempdir()?;
    let optima = FakeOptima::new("STALHURT");
    let _importer = FakeExchange::start(optima.clone(), folder.path());
    let d = TestDaemon::builder()
        .toml(&format!(
            "[partners.ksiegowosc]\nkind = \"optima\"\norg = \"acct\"\nsurface = \"xml-exchange\"\ncompany_code = \"STALHURT\"\nauto_sync = true\nresult_timeout_secs = 1\nretry = {{ policy = \"immediate\", max_attempts = 2 }}\n[partners.ksiegowosc.exchange]\npath = {:?}\n[partners.ksiegowosc.jpk]\nnip = \"5260250274\"\nname = \"Stal-Hurt Sp. z o.o.\"\nemail = \"ksiegowosc@stalhurt.example\"\ntax_office_code = \"1471\"\n",
            folder.path().to_string_lossy()
        ))
        .repo_mappings()
        .roles(ROLES)
        .start()
        .await?;
    let org = d.org("acct").await?;
    let key = d.key("acct", &["write:optima"]).await?;
    let record = |invoices: Vec<Value>| {
        d.call(
            Method::POST,
            "/api/v1/integrations/comarch/invoices",
            Some(&key),
            Some(json!({"partner": "ksiegowosc", "invoices": invoices})),
        )
    };

    // 1. Two new invoices: both queued at once (auto_sync); one imported, one refused by the
    //    Polish rules before anything reaches the folder.
    let good = invoice("FV/2026/11/0042", GOOD_NIP);
    let (s, b) = record(vec![
        good.clone(),
        invoice("FV/2026/11/0043", "PL 781-123-45-67"),
    ])
    .await?;
    assert_eq!(s, 200, "{b}");
    assert_eq!(b["items"][0]["outcome"], "created");
    assert_eq!(b["items"][0]["queued"], true);
    assert_eq!(b["items"][0]["status"], "pending");
    let ok_id = b["items"][0]["id"].as_str().unwrap().to_owned();
    let bad_id = b["items"][1]["id"].as_str().unwrap().to_owned();
    let v = status_becomes(&d, &key, &ok_id, "synced", 30).await?;
    assert_eq!(v["optima_number"], "FS/1/2026");
    assert!(v["error"].is_null());
    let v = status_becomes(&d, &key, &bad_id, "error", 30).await?;
    assert!(
        v["error"].as_str().unwrap().contains("Kontrahent.NIP"),
        "{v}"
    );
    let dead = d
        .queue
        .list_dead_letters(org, Some(DeadLetterState::Open), None, 10)
        .await?;
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0].kind, "optima.invoice.push");
    assert_eq!(dead[0].error_class, "permanent");
    assert!(
        dead[0].reason.contains("Kontrahent.NIP"),
        "{}",
        dead[0].reason
    );
    assert_eq!(optima.document_count(), 1);

    // 2. The same invoice again changes nothing; other content for a synced one is refused.
    let (s, b) = record(vec![good.clone()]).await?;
    assert_eq!(
        (s, &b["items"][0]["outcome"]),
        (200, &json!("unchanged")),
        "{b}"
    );
    assert_eq!(b["items"][0]["queued"], false);
    let mut changed = good.clone();
    changed["lines"][0]["quantity"] = "4".into();
    let (s, b) = record(vec![changed]).await?;
    assert_eq!(s, 409, "{b}");
    assert!(
        b["error"]["message"]
            .as_str()
            .unwrap()
            .contains("correction"),
        "{b}"
    );

    // 3. The refused one, corrected: a new revision, pushed again and imported.
    let (s, b) = record(vec![invoice("FV/2026/11/0043", GOOD_NIP)]).await?;
    assert_eq!(s, 200, "{b}");
    assert_eq!(b["items"][0]["outcome"], "updated");
    assert_eq!(b["items"][0]["revision"], 2);
    let v = status_becomes(&d, &key, &bad_id, "synced", 30).await?;
    assert_eq!(v["optima_number"], "FS/2/2026");
    assert_eq!(v["pushes"], 2);

    // 4. Optima takes a document but its result never appears: pending while retried, then
    //    an error saying so, never synced.
    optima.faults.lose_results.store(true, Ordering::SeqCst);
    let (_, b) = record(vec![invoice("FV/2026/11/0044", GOOD_NIP)]).await?;
    let lost = b["items"][0]["id"].as_str().unwrap().to_owned();
    let v = status_becomes(&d, &key, &lost, "error", 30).await?;
    assert!(v["error"].as_str().unwrap().contains("no result"), "{v}");
    assert!(v["optima_number"].is_null());
    assert_eq!(v["attempts"], 2);

    // 5. The list filters by status.
    let (_, b) = d
        .call(
            Method::GET,
            "/api/v1/integrations/comarch/invoices?status=synced",
            Some(&key),
            None,
        )
        .await?;
    let numbers: Vec<&str> = b["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["invoice_number"].as_str().unwrap())
        .collect();
    assert_eq!(numbers, ["FV/2026/11/0042", "FV/2026/11/0043"]);

    // 6. The month's JPK_V7M from the two synced invoices (the one never confirmed is not in
    //    Optima's register). Each: 23 % net 3749.97 + 1189.34 = 4939.31, VAT 1136.04; 8 %
    //    net 0.10, VAT 0.01.
    let (s, b) = d
        .call(
            Method::POST,
            "/api/v1/integrations/comarch/vat-reports",
            Some(&key),
            Some(json!({"partner": "ksiegowosc", "month": "2021-12"})),
        )
        .await?;
    assert_eq!(s, 422, "{b}");
    assert!(
        b["error"]["message"]
            .as_str()
            .unwrap()
            .contains("variant 1"),
        "{b}"
    );
    let (s, b) = d
        .call(
            Method::POST,
            "/api/v1/integrations/comarch/vat-reports",
            Some(&key),
            Some(json!({"partner": "ksiegowosc", "month": "2026-11"})),
        )
        .await?;
    assert_eq!(s, 202, "{b}");
    // Asynchronous: queued with no progress and no file yet; followed by its id.
    assert_eq!(
        (&b["state"], &b["rows_done"], &b["file"]),
        (&json!("queued"), &json!(0), &Value::Null),
        "{b}"
    );
    let report = format!(
        "/api/v1/integrations/comarch/vat-reports/{}",
        b["id"].as_str().unwrap()
    );
    eventually(Duration::from_secs(30), "the VAT report", || async {
        let (_, b) = d.call(Method::GET, &report, Some(&key), None).await?;
        anyhow::ensure!(b["state"] != "failed", "{b}");
        Ok(b["state"] == "done")
    })
    .await?;
    let (_, b) = d.call(Method::GET, &report, Some(&key), None).await?;
    assert_eq!((&b["rows_total"], &b["rows_done"]), (&json!(2), &json!(2)));
    assert_eq!(b["totals"]["p_38"], 2272);
    assert_eq!(b["totals"]["variant"], "JPK_V7M (3)");
    assert_eq!(b["file"], format!("{report}/file"));
    let resp = reqwest::Client::new()
        .get(format!("{}{}/file", d.api(), report))
        .bearer_auth(&key)
        .send()
        .await?;
    assert_eq!(resp.status(), 200);
    let file = resp.text().await?;
    for expected in [
        "<KodFormularza kodSystemowy=\"JPK_V7M (3)\" wersjaSchemy=\"1-0E\">JPK_VAT</KodFormularza>",
        "<Miesiac>11</Miesiac>",
        "<DowodSprzedazy>FV/2026/11/0042</DowodSprzedazy>",
        "<DowodSprzedazy>FV/2026/11/0043</DowodSprzedazy>",
        "<K_19>4939.31</K_19>",
        "<K_20>1136.04</K_20>",
        "<LiczbaWierszySprzedazy>2</LiczbaWierszySprzedazy>",
        "<PodatekNalezny>2272.10</PodatekNalezny>",
        "<P_19>9879</P_19>",
        "<P_38>2272</P_38>",
        "<P_51>2272</P_51>",
    ] {
        assert!(file.contains(expected), "{expected} not in\n{file}");
    }
    assert!(!file.contains("FV/2026/11/0044"));

    // 7. The chart of accounts from Optima's export in the folder.
    let (s, b) = d
        .call(
            Method::POST,
            "/api/v1/integrations/comarch/sync-accounts",
            Some(&key),
            Some(json!({"partner": "ksiegowosc"})),
        )
        .await?;
    assert_eq!(s, 202, "{b}");
    let accounts = accounts_after_sync(&d, &key, "ksiegowosc", false).await?;
    assert_eq!(
        codes(&accounts),
        [
            ("201", "asset", true),
            ("221", "liability", true),
            ("400", "expense", true),
            ("700", "revenue", true)
        ]
    );
    d.stop().await
}

/// Invoices on request over the REST surface, an outage retried, and the chart of accounts
/// added to, renamed and shrunk in Optima.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rest_pushes_on_request_and_follows_the_chart_of_accounts() -> anyhow::Result<()> {
    let optima = FakeOptima::new("STALHURT");
    let rest = FakeRest::start(optima.clone(), "klucz", "sekret").await;
    let d = TestDaemon::builder()
        .secret("secret:optima_key", "klucz")
        .secret("secret:optima_secret", "sekret")
        .toml(&format!(
            "[partners.ksiegowosc]\nkind = \"optima\"\norg = \"acct\"\nsurface = \"rest\"\ncompany_code = \"STALHURT\"\napi_url = \"{}\"\napi_key = \"secret:optima_key\"\napi_secret = \"secret:optima_secret\"\nretry = {{ policy = \"immediate\", max_attempts = 3 }}\n",
            rest.url()
        ))
        .repo_mappings()
        .roles(ROLES)
        .start()
        .await?;
    let key = d.key("acct", &["write:optima"]).await?;
    let reader = d.key("acct", &["read:optima"]).await?;

    // Recorded without auto_sync: it waits for a push.
    let (s, b) = d
        .call(
            Method::POST,
            "/api/v1/integrations/comarch/invoices",
            Some(&key),
            Some(json!({"partner": "ksiegowosc", "invoices": [invoice("FV/2026/11/0042", GOOD_NIP)]})),
        )
        .await?;
    assert_eq!(s, 200, "{b}");
    assert_eq!(
        (&b["items"][0]["status"], &b["items"][0]["queued"]),
        (&json!("new"), &json!(false))
    );
    let id = b["items"][0]["id"].as_str().unwrap().to_owned();

    // A read key cannot push.
    let (s, _) = push(&d, &reader, vec![id.clone()]).await?;
    assert_eq!(s, 403);

    // Optima is down for the first call: retried, then synced.
    optima.faults.fail_next.store(true, Ordering::SeqCst);
    let missing = uuid::Uuid::now_v7().to_string();
    let (s, b) = push(&d, &key, vec![id.clone(), missing.clone()]).await?;
    assert_eq!(s, 202, "{b}");
    assert_eq!(b["items"][0]["outcome"], "queued");
    assert_eq!(b["items"][1]["outcome"], "not_found");
    let v = status_becomes(&d, &reader, &id, "synced", 30).await?;
    assert_eq!(v["optima_number"], "FS/1/2026");
    assert_eq!(v["attempts"], 2, "{v}");
    let (_, b) = push(&d, &key, vec![id.clone()]).await?;
    assert_eq!(b["items"][0]["outcome"], "already_synced");
    assert_eq!(optima.document_count(), 1);

    // The chart of accounts: pulled, then changed in Optima and pulled again.
    let sync = || {
        d.call(
            Method::POST,
            "/api/v1/integrations/comarch/sync-accounts",
            Some(&key),
            Some(json!({"partner": "ksiegowosc"})),
        )
    };
    assert_eq!(sync().await?.0, 202);
    let first = accounts_after_sync(&d, &reader, "ksiegowosc", false).await?;
    assert_eq!(first["items"].as_array().unwrap().len(), 4);
    assert_eq!(first["last_sync"]["added"], 4);
    let mut chart = optima.accounts();
    chart.retain(|a| a.code != "400");
    chart
        .iter_mut()
        .filter(|a| a.code == "700")
        .for_each(|a| a.name = "Sprzedaż towarów".into());
    chart.push(Account {
        code: "401".into(),
        name: "Zużycie materiałów".into(),
        account_type: AccountType::Expense,
    });
    optima.set_accounts(chart);
    let before = first["last_sync"]["last_synced_at"].clone();
    assert_eq!(sync().await?.0, 202);
    let key2 = reader.clone();
    eventually(Duration::from_secs(30), "the second pull", || {
        let (d, key, before) = (&d, &key2, &before);
        async move {
            let (_, b) = d
                .call(
                    Method::GET,
                    "/api/v1/integrations/comarch/accounts?partner=ksiegowosc",
                    Some(key),
                    None,
                )
                .await?;
            Ok(b["last_sync"]["last_synced_at"] != *before)
        }
    })
    .await?;
    let all = accounts_after_sync(&d, &reader, "ksiegowosc", true).await?;
    assert_eq!(
        (
            &all["last_sync"]["added"],
            &all["last_sync"]["changed"],
            &all["last_sync"]["deactivated"]
        ),
        (&json!(1), &json!(1), &json!(1)),
        "{all}"
    );
    assert_eq!(
        codes(&all),
        [
            ("201", "asset", true),
            ("221", "liability", true),
            ("400", "expense", false),
            ("401", "expense", true),
            ("700", "revenue", true)
        ]
    );
    let renamed = all["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["gl_account_code"] == "700")
        .unwrap();
    assert_eq!(renamed["name"], "Sprzedaż towarów");
    let active = accounts_after_sync(&d, &reader, "ksiegowosc", false).await?;
    assert_eq!(active["items"].as_array().unwrap().len(), 4);
    d.stop().await
}

async fn push(d: &TestDaemon, key: &str, ids: Vec<String>) -> anyhow::Result<(u16, Value)> {
    d.call(
        Method::POST,
        "/api/v1/integrations/comarch/push-invoice",
        Some(key),
        Some(json!({"ids": ids})),
    )
    .await
}

/// `GET /integrations/comarch/accounts` once a pull has been recorded.
async fn accounts_after_sync(
    d: &TestDaemon,
    key: &str,
    partner: &str,
    include_inactive: bool,
) -> anyhow::Result<Value> {
    let path = format!(
        "/api/v1/integrations/comarch/accounts?partner={partner}&include_inactive={include_inactive}"
    );
    eventually(Duration::from_secs(30), "a pull of the chart", || async {
        let (s, b) = d.call(Method::GET, &path, Some(key), None).await?;
        anyhow::ensure!(s == 200, "{s} {b}");
        Ok(!b["last_sync"].is_null())
    })
    .await?;
    Ok(d.call(Method::GET, &path, Some(key), None).await?.1)
}

fn codes(accounts: &Value) -> Vec<(&str, &str, bool)> {
    accounts["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["gl_account_code"].as_str().unwrap(),
                a["account_type"].as_str().unwrap(),
                a["active"].as_bool().unwrap(),
            )
        })
        .collect()
}
