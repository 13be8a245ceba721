//! The Switchyard daemon as a library, so the demo, the benchmarks and the end-to-end tests
//! start exactly what `switchyard run` starts. It only wires: everything that runs is in
//! `switchyard-runtime`, every partner system in its own crate under `adapters/`.
//!
//! * [`integrations`] — the one list of partner systems in this build.
//! * [`app`] — generic start-up ([`app::start`]): pool, migrations, integrations assembled,
//!   worker, scheduler, API.
//! * [`check`] — `switchyard check`; [`demo`], [`bench`] (with [`bench_export`],
//!   [`bench_import`]), [`import_cli`]: subcommands.

pub mod app;
pub mod bench;
pub mod bench_export;
pub mod bench_import;
// `bench sync` pushes to the generic HTTP fake.
#[cfg(feature = "http")]
pub mod bench_sync;
// `bench webhooks` verifies signatures with the HTTP adapter's Standard Webhooks verifier.
#[cfg(feature = "http")]
pub mod bench_webhooks;
// `bench magento` writes to the Magento crate's fake store.
#[cfg(feature = "magento")]
pub mod bench_magento;
// `bench shopify` writes to the Shopify crate's fake shop.
#[cfg(feature = "shopify")]
pub mod bench_shopify;
pub mod check;
pub mod export_cli;
pub mod import_cli;
// The demo plays an HTTP partner, an EDI trading partner, Comarch Optima, the PhoneX
// supplier and a Magento store.
#[cfg(all(
    feature = "http",
    feature = "edi",
    feature = "optima",
    feature = "phonex",
    feature = "magento"
))]
pub mod demo;
pub mod integrations;
pub mod log_writer;
