//! `switchyard bench magento`, run tiny: both write paths against their fake Magento stores
//! through the real sync engine and Postgres. Only counts are checked (times are the bench's
//! figures, never asserted): every product reaches each store, the per-item path creates each
//! product with one POST, the bulk path in `products / bulk_batch` bulk POSTs, and the
//! 1 %-changed re-sync updates exactly the changed products (per item a PUT each, in bulk one
//! `bySku` PUT).

use std::collections::BTreeMap;
use switchyard_daemon::bench_magento::{measure, MagentoBench, WritePath};
use switchyard_e2e::TestDaemon;
use switchyard_runtime::config::Config;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bench_magento_tiny_counts() -> anyhow::Result<()> {
    let prepared = TestDaemon::builder().repo_mappings().prepare().await?;
    let config = Config::load(&prepared.config_path)?;
    let args = MagentoBench {
        products: 200,
        latency_ms: 1,
        page_size: 100,
        bulk_batch: 50,
        changed_percent: 1.0,
        // A database of this test's own, beside the harness's fresh one.
        database: format!("{}_mg", prepared.db.name),
    };
    let figures = measure(&args, config, prepared.config_path.clone()).await?;
    assert_eq!(figures.len(), 2);
    for f in &figures {
        assert_eq!(f.in_store, 200, "{f:?}");
        assert_eq!(f.full.products_written, 200, "{f:?}");
        // Products P-000000, P-000100: every hundredth renamed.
        assert_eq!(f.resync.products_written, 2, "{f:?}");
    }
    let item = figures
        .iter()
        .find(|f| f.path == WritePath::PerItem)
        .unwrap();
    let calls = |c: &[(&str, usize)]| -> BTreeMap<String, usize> {
        c.iter().map(|(k, n)| (k.to_string(), *n)).collect()
    };
    // A product never confirmed to the store: one POST, no update tried first.
    assert_eq!(item.full.writes, 200, "{item:?}");
    assert_eq!(item.full.calls, calls(&[("POST V1/products", 200)]));
    assert_eq!(item.resync.calls, calls(&[("PUT V1/products/{sku}", 2)]));
    let bulk = figures.iter().find(|f| f.path == WritePath::Bulk).unwrap();
    // Pages of 100 in bulks of 50, all creates; the re-sync's two updates in one bulk by SKU.
    assert_eq!(
        bulk.full.calls,
        calls(&[("POST async/bulk/V1/products", 4)]),
        "{bulk:?}"
    );
    assert_eq!(
        bulk.resync.calls,
        calls(&[("PUT async/bulk/V1/products/bySku", 1)]),
        "{bulk:?}"
    );
    assert_eq!(bulk.resync.writes, 1, "{bulk:?}");
    Ok(())
}
