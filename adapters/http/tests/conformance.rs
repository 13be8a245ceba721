//! The shared adapter conformance suite, run for the HTTP adapter against its fake.

use switchyard_adapter_http::conformance::HttpHarness;

async fn setup() -> HttpHarness {
    HttpHarness::start().await
}

switchyard_adapter_http::adapter_conformance_suite!(setup);

#[tokio::test]
async fn run_all_passes_in_sequence_on_one_fake() {
    let h = setup().await;
    switchyard_adapter_http::conformance::run_all(&h).await;
    // The suite applied at least its idempotency and recovery documents on this one fake.
    assert!(h.fake.stats().applied >= 2);
}
