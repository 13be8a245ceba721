//! Confirming against real Postgres: a file larger than one batch, confirmed twice at once,
//! applies every row exactly once; a confirmation interrupted after its decisions were
//! recorded resumes with those decisions, whatever the resuming call asks.

use sqlx::PgPool;
use std::collections::BTreeMap;
use std::path::PathBuf;
use switchyard_core::ids::OrgId;
use switchyard_import::{confirm, report, upload, ImportError, BATCH};
use switchyard_mapping::MappingRegistry;
use switchyard_store::catalog::{self, ProductRecord};
use switchyard_store::imports::{self, Decision};

fn registry() -> MappingRegistry {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../mappings");
    MappingRegistry::load(dir).0
}

fn csv(rows: usize) -> Vec<u8> {
    let mut s = String::from("product_code,name,type,unit\n");
    for n in 0..rows {
        s.push_str(&format!("P-{n:05},Product {n},raw_material,kg\n"));
    }
    s.into_bytes()
}

async fn org(pool: &PgPool) -> OrgId {
    switchyard_store::orgs::ensure(pool, "acme")
        .await
        .unwrap()
        .id
}

#[sqlx::test(migrator = "switchyard_store::MIGRATOR")]
async fn two_confirmations_at_once_apply_every_row_once(pool: PgPool) {
    let org = org(&pool).await;
    let rows = BATCH + BATCH / 2;
    let id = upload(
        &pool,
        &registry(),
        org,
        "monopilot/product.import",
        "big.csv",
        &csv(rows),
    )
    .await
    .unwrap();
    let none = BTreeMap::new();
    let (a, b) = tokio::join!(
        confirm(&pool, org, id, Decision::Skip, &none),
        confirm(&pool, org, id, Decision::Skip, &none)
    );
    // Each either applied rows or found the import applied already; neither failed.
    for r in [a, b] {
        assert!(
            matches!(r, Ok(()) | Err(ImportError::AlreadyApplied)),
            "{r:?}"
        );
    }
    let r = report(&pool, org, id).await.unwrap().unwrap();
    assert_eq!(r.state, "applied");
    assert_eq!(r.totals.created, rows, "{:?}", r.totals);
    assert_eq!(r.totals.unchanged + r.totals.skipped + r.totals.failed, 0);
    let products: i64 = sqlx::query_scalar("SELECT count(*) FROM products")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(products, rows as i64);
}

#[sqlx::test(migrator = "switchyard_store::MIGRATOR")]
async fn an_interrupted_confirmation_resumes_with_its_first_decisions(pool: PgPool) {
    let org = org(&pool).await;
    let existing: ProductRecord = switchyard_import::product::new_record(&serde_json::json!({
        "sku": "P-00001", "name": "Kept", "base_uom": "KG"
    }));
    catalog::upsert_products(&pool, org, &[existing])
        .await
        .unwrap();
    let id = upload(
        &pool,
        &registry(),
        org,
        "monopilot/product.import",
        "f.csv",
        &csv(3),
    )
    .await
    .unwrap();
    // The decisions are recorded (skip), then the process dies before applying anything.
    imports::confirm(&pool, org, id, Decision::Skip, &[])
        .await
        .unwrap();
    // Resuming with another policy keeps the recorded one.
    confirm(&pool, org, id, Decision::Update, &BTreeMap::new())
        .await
        .unwrap();
    let r = report(&pool, org, id).await.unwrap().unwrap();
    assert_eq!(
        (r.totals.created, r.totals.skipped),
        (2, 1),
        "{:?}",
        r.totals
    );
    assert_eq!(r.on_conflict.as_deref(), Some("skip"));
    let kept = catalog::get_product(&pool, org, "P-00001")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(kept.name, "Kept");
}
