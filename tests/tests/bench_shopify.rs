//! `switchyard bench shopify`, run tiny: both write paths against their fake shops through the
//! real sync engine and Postgres. Only counts are checked (times are the bench's figures,
//! never asserted): every product reaches the bulk shop through bulk operations (one per page
//! above the threshold), the per-product path writes its capped products one call each, and
//! the 1 %-changed re-sync writes exactly the changed products.

use switchyard_daemon::bench_shopify::{measure, ShopifyBench};
use switchyard_e2e::TestDaemon;
use switchyard_runtime::config::Config;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bench_shopify_tiny_counts() -> anyhow::Result<()> {
    let prepared = TestDaemon::builder().repo_mappings().prepare().await?;
    let config = Config::load(&prepared.config_path)?;
    let args = ShopifyBench {
        variants: 400,
        variants_per_product: 2,
        restore_rate: 1000.0,
        bucket: 2000.0,
        // Feed entries: a product and its two variants are three, so 50 products a page.
        page_size: 150,
        bulk_threshold: 10,
        per_product_cap: 30,
        changed_percent: 1.0,
        database: format!("{}_sh", prepared.db.name),
    };
    let f = measure(&args, config, prepared.config_path.clone()).await?;
    // 200 products in pages of 50: four bulk operations, two write calls each.
    assert_eq!(f.bulk_in_shop, 200, "{f:?}");
    assert_eq!(f.bulk_full.bulk_operations, 4, "{f:?}");
    assert_eq!(f.bulk_full.write_calls, 8, "{f:?}");
    assert_eq!(f.bulk_full.products_written, 200, "{f:?}");
    assert_eq!(f.per_product_in_shop, 30, "{f:?}");
    assert_eq!(
        (
            f.per_product_full.write_calls,
            f.per_product_full.products_written
        ),
        (30, 30),
        "{f:?}"
    );
    assert!(
        f.per_product_full.points > 30.0 * 10.0,
        "each productSet costs at least a mutation's 10 points: {f:?}"
    );
    // P-000000 and P-000100 renamed: two single writes (under the threshold), no operation.
    assert_eq!(
        (
            f.bulk_resync.write_calls,
            f.bulk_resync.products_written,
            f.bulk_resync.bulk_operations
        ),
        (2, 2, 0),
        "{f:?}"
    );
    Ok(())
}
