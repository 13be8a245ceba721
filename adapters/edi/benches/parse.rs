//! Throughput of parse + envelope checks and of full validation on 10 MB of 004010 850s and of
//! D96A ORDERS. Run: `CARGO_TARGET_DIR=/work/target-edi cargo bench -p switchyard-edi --bench parse`.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use std::hint::black_box;
use std::time::Duration;
use switchyard_edi::synth::{file, Kind};
use switchyard_edi::validate::validate;
use switchyard_edi::{InterchangeReader, Unit};

const SIZE: usize = 10 * 1024 * 1024;

fn bench(c: &mut Criterion) {
    for (name, kind) in [
        ("x12_004010_850", Kind::X12_850),
        ("edifact_d96a_orders", Kind::EdifactOrders),
    ] {
        let data = file(kind, SIZE);
        let mut g = c.benchmark_group(name);
        g.throughput(Throughput::Bytes(data.len() as u64));
        g.sample_size(10);
        g.measurement_time(Duration::from_secs(8));
        g.bench_function("parse_envelope", |b| {
            b.iter(|| {
                let mut sets = 0usize;
                for u in InterchangeReader::new(black_box(&data[..])) {
                    if let Ok(Unit::Interchange(ic)) = u {
                        assert!(ic.envelope_ok());
                        sets += ic.groups.iter().map(|g| g.sets.len()).sum::<usize>();
                    }
                }
                sets
            })
        });
        g.bench_function("full_validation", |b| {
            b.iter(|| {
                let mut errors = 0usize;
                for u in InterchangeReader::new(black_box(&data[..])) {
                    if let Ok(Unit::Interchange(ic)) = u {
                        errors += validate(&ic).errors().count();
                    }
                }
                assert_eq!(errors, 0);
                errors
            })
        });
        g.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
