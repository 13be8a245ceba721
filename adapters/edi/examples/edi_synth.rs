//! Writes a synthetic file for whole-process measurements:
//! `edi_synth x12|edifact MIB PATH`, then `time edi validate PATH`.

use switchyard_edi::synth::{file, Kind};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() != 4 {
        eprintln!("usage: edi_synth x12|edifact MIB PATH");
        std::process::exit(2);
    }
    let kind = if args[1] == "edifact" {
        Kind::EdifactOrders
    } else {
        Kind::X12_850
    };
    let mib: usize = args[2].parse().unwrap_or(10);
    if let Err(e) = std::fs::write(&args[3], file(kind, mib * 1024 * 1024)) {
        eprintln!("{}: {e}", args[3]);
        std::process::exit(2);
    }
}
