//! Memory check: streams a generated input of the given size (default 1 GiB) through the reader
//! and full validation without ever holding it, then prints the peak resident set size
//! (VmHWM from /proc/self/status). Run:
//! `CARGO_TARGET_DIR=/work/target-edi cargo run --release -p switchyard-edi --example edi_memory -- 1024 x12`

use std::io::BufReader;
use std::time::Instant;
use switchyard_edi::synth::{Kind, SynthReader};
use switchyard_edi::validate::validate;
use switchyard_edi::{InterchangeReader, Unit};

fn vm_hwm_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn main() {
    let mut args = std::env::args().skip(1);
    let mib: u64 = args.next().and_then(|a| a.parse().ok()).unwrap_or(1024);
    let kind = match args.next().as_deref() {
        Some("edifact") => Kind::EdifactOrders,
        _ => Kind::X12_850,
    };
    let start = Instant::now();
    let reader = BufReader::with_capacity(1 << 20, SynthReader::new(kind, mib * 1024 * 1024));
    let (mut interchanges, mut sets, mut errors) = (0u64, 0u64, 0u64);
    for unit in InterchangeReader::new(reader) {
        match unit {
            Ok(Unit::Interchange(ic)) => {
                interchanges += 1;
                sets += ic.groups.iter().map(|g| g.sets.len() as u64).sum::<u64>();
                errors += validate(&ic).errors().count() as u64;
            }
            Ok(Unit::Unparseable(_)) => errors += 1,
            Err(e) => {
                eprintln!("read error: {e}");
                std::process::exit(2);
            }
        }
    }
    let secs = start.elapsed().as_secs_f64();
    println!(
        "{kind:?}: {mib} MiB, {interchanges} interchanges, {sets} sets, {errors} errors, {secs:.1} s ({:.0} MB/s), peak RSS (VmHWM) {} KiB",
        (mib * 1024 * 1024) as f64 / 1e6 / secs,
        vm_hwm_kib().map(|k| k.to_string()).unwrap_or_else(|| "unknown".into())
    );
}
