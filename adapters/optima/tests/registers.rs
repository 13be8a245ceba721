//! The purchase register from the ledger: purchase invoices recorded through the API (known
//! by supplier and number, never pushed), read for the month they were received in, turned
//! into `ZakupWiersz` rows with the VAT computed once per rate, and written into a file that
//! validates — over the real API router and a fresh database.

mod common;

use chrono::Utc;
use rust_decimal_macros::dec;
use serde_json::{json, Value};
use sqlx::PgPool;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use switchyard_api::testkit::{code, json, StubAdmission, TestApp};
use switchyard_core::ids::PartnerName;
use switchyard_edi_van::partners::MailboxSpec;
use switchyard_optima::config::{OptimaPartner, Surface};
use switchyard_optima::jpk::{self, KsefMark, Period, Taxpayer};
use switchyard_optima::routes::{router, Connections, SCOPES};
use switchyard_optima::{vat_register, OptimaAdapter};

fn taxpayer() -> Taxpayer {
    Taxpayer {
        nip: "5260250274".into(),
        name: "Stal-Hurt Sp. z o.o.".into(),
        email: "ksiegowosc@stalhurt.example".into(),
        tax_office_code: "1471".into(),
    }
}

/// The fixture invoice as received from `supplier` (its `seller`).
fn purchase(number: &str, supplier: &str, received: Option<&str>) -> Value {
    let mut v = common::canonical_invoice(number);
    v["direction"] = "purchase".into();
    v["seller"]["tax_id"] = supplier.into();
    v["seller"]["name"] = format!("Dostawca {supplier}").into();
    if let Some(r) = received {
        v["received_date"] = r.into();
    }
    v
}

#[sqlx::test(migrator = "switchyard_store::MIGRATOR")]
async fn purchases_recorded_through_the_api_make_the_purchase_register(pool: PgPool) {
    common::migrate(&pool).await;
    let folder = tempfile::tempdir().unwrap();
    let partner = OptimaPartner {
        enabled: true,
        surface: Surface::XmlExchange(MailboxSpec::Local(folder.path().to_path_buf())),
        company_code: "STALHURT".into(),
        register: "SPRZEDAŻ".into(),
        test_mode: false,
        // On: a purchase must still never be pushed.
        auto_sync: true,
        result_timeout: Duration::from_secs(5),
        taxpayer: Some(taxpayer()),
    };
    let adapter = OptimaAdapter::new(PartnerName::from("ks"), partner, reqwest::Client::new())
        .owned_by("acme");
    let connections: Connections = [("ks".to_owned(), Arc::new(adapter))].into_iter().collect();
    let app = TestApp::builder(pool.clone())
        .admission(StubAdmission::with_kinds(&["optima.invoice.push"]))
        .routes(router(Arc::new(connections)), SCOPES)
        .spawn()
        .await;
    let org = app.org("acme").await;
    let key = app.key("acme", &["write:optima", "read:optima"]).await;
    let record = |invoices: Vec<Value>| {
        app.post(
            "/api/v1/integrations/comarch/invoices",
            &key,
            json!({"partner": "ks", "invoices": invoices}),
        )
    };

    // Two suppliers numbering alike, and one invoice received in the next month.
    let (s, body) = json(
        record(vec![
            purchase("FV/1/2026", "5260250274", None),
            purchase("FV/1/2026", "1234563218", Some("2026-11-28")),
            purchase("FV/9/2026", "1234563218", Some("2026-12-01")),
        ])
        .await,
    )
    .await;
    assert_eq!(s, 200, "{body}");
    let items = body["items"].as_array().unwrap();
    for item in items {
        assert_eq!(item["outcome"], "created", "{item}");
        assert_eq!(item["direction"], "purchase");
        assert_eq!(item["queued"], false, "a purchase is never pushed: {item}");
    }
    assert_eq!(items[1]["supplier_nip"], "1234563218");
    assert_eq!(app.count("SELECT count(*) FROM jobs").await, 0);
    let (s, body) = json(
        app.post(
            "/api/v1/integrations/comarch/push-invoice",
            &key,
            json!({"ids": [items[0]["id"]]}),
        )
        .await,
    )
    .await;
    assert_eq!((s, &body["items"][0]["outcome"]), (202, &json!("purchase")));
    // A purchase needs its supplier's NIP, checked.
    let (s, body) = json(record(vec![purchase("FV/2/2026", "5260250275", None)]).await).await;
    assert_eq!((s, code(&body)), (422, "validation_failed"), "{body}");
    assert_eq!(
        body["error"]["details"]["field"],
        "invoices[0].seller.tax_id"
    );

    let november = Period {
        year: 2026,
        month: 11,
    };
    let rows = vat_register::purchases(&pool, org, "ks", november)
        .await
        .unwrap();
    assert_eq!(rows.len(), 2);
    let purchases: Vec<_> = rows
        .iter()
        .map(|r| vat_register::purchase_row(r).unwrap())
        .collect();
    // 23 %: 3 × 1249.99 + 120.5 × 9.87 = 3749.97 + 1189.34 = 4939.31, VAT 1136.04; 8 %:
    // 0.10, VAT 0.01.
    for p in &purchases {
        assert_eq!((p.net, p.vat), (dec!(4939.41), dec!(1136.05)));
        assert_eq!(p.ksef, KsefMark::Bfk);
    }
    assert_eq!(purchases[0].supplier_nip, "5260250274");
    assert_eq!(
        purchases[1].received_date.unwrap().to_string(),
        "2026-11-28"
    );
    let december = Period {
        year: 2026,
        month: 12,
    };
    let later = vat_register::purchases(&pool, org, "ks", december)
        .await
        .unwrap();
    assert_eq!(later.len(), 1);
    assert_eq!(later[0].invoice_number, "FV/9/2026");
    // Not in the sales register, synced or not.
    sqlx::query("UPDATE optima_invoices SET status = 'synced'")
        .execute(&pool)
        .await
        .unwrap();
    assert!(vat_register::sales(&pool, org, "ks", november)
        .await
        .unwrap()
        .is_empty());

    let (text, totals) =
        jpk::write(november, false, &taxpayer(), Utc::now(), &[], &purchases).unwrap();
    let xsd = Path::new(env!("CARGO_MANIFEST_DIR")).join("xsd/jpk_v7m_3.xsd");
    common::validate_against(&xsd, text.as_bytes()).unwrap_or_else(|e| panic!("{e}\n{text}"));
    assert_eq!(
        (
            totals.purchase_rows,
            totals.input_tax,
            totals.p_48,
            totals.p_53
        ),
        (2, dec!(2272.10), 2272, 2272)
    );
    assert!(text.contains("<DataWplywu>2026-11-28</DataWplywu>"));
}
