//! Canonical products → storefront JSON. Reports records/s (the repo's storefront mapping,
//! loops and unit conversion included) and field rules/s on a mapping of simple rules (copy,
//! constant, default, case, trim), the figure the issue sets a goal for (≥ 1,000,000/s/core).
//! Criterion runs on one thread, so both figures are per core.

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use serde_json::{json, Value};
use std::path::Path;
use switchyard_mapping::{compile_file, compile_str, RunState};

fn products(n: usize) -> Vec<Value> {
    (0..n)
        .map(|i| {
            json!({
                "sku": format!("A36-FB-{i:05}"),
                "name": format!(" A36 Flat Bar {i} "),
                "description": if i % 4 == 0 { Value::Null } else { json!("Hot rolled flat bar") },
                "product_type": "long_product",
                "base_uom": if i % 2 == 0 { "FT" } else { "EA" },
                "alt_uoms": [{"uom": "LB", "factor": "0.5882"}],
                "variants": [{"sku": format!("A36-FB-{i:05}-20"), "name": "20 ft", "options": [], "barcode": null, "dimensions": {"length": "240", "length_uom": "IN"}}],
                "dimensions": {"weight": "1.7", "weight_uom": "LB"},
                "material_grade": "A36",
                "web_visible": i % 3 != 0,
                "tax_code": "P0000000",
                "attributes": {},
                "updated_at": "2026-11-20T08:15:00Z"
            })
        })
        .collect()
}

const SIMPLE: &str = r#"version = 1
source = { format = "canonical", entity = "product" }
target = { format = "json" }
[fields]
sku = "sku"
title = { from = "name", trim = true }
body_html = { from = "description", default = "" }
product_type = "product_type"
unit = "base_uom"
grade = { from = "material_grade", lower = true }
vendor = { const = "Switchyard Metals" }
tax = "tax_code"
"options.unit" = "base_uom"
"options.grade" = "material_grade"
"#;

fn bench(c: &mut Criterion) {
    let input = products(1000);
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let full = compile_file(
        &repo.join("mappings/storefront/product.out.toml"),
        "storefront/product.out",
    )
    .expect("storefront mapping compiles");
    let simple =
        compile_str(SIMPLE, Path::new("simple.toml"), "simple").expect("simple mapping compiles");

    let mut g = c.benchmark_group("storefront_records");
    g.throughput(Throughput::Elements(input.len() as u64));
    g.bench_function("product.out (records)", |b| {
        b.iter_batched_ref(
            RunState::default,
            |state| {
                for p in &input {
                    criterion::black_box(full.map_record(p, state).expect("maps"));
                }
            },
            BatchSize::SmallInput,
        )
    });
    g.finish();

    let mut g = c.benchmark_group("storefront_simple_rules");
    g.throughput(Throughput::Elements(
        (input.len() * simple.rule_count) as u64,
    ));
    g.bench_function(
        format!(
            "{} simple rules per record (field rules)",
            simple.rule_count
        ),
        |b| {
            b.iter_batched_ref(
                RunState::default,
                |state| {
                    for p in &input {
                        criterion::black_box(simple.map_record(p, state).expect("maps"));
                    }
                },
                BatchSize::SmallInput,
            )
        },
    );
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
