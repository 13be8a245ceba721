//! Stand-in for `switchyard map` / `switchyard check` until the daemon wires them:
//! `cargo run --release --example map -- map --mapping F --input F [--format json]`
//! `cargo run --release --example map -- check --mappings mappings --fixtures fixtures/mappings`

use clap::{Parser, Subcommand};
use switchyard_mapping::cli::{check, map, CheckArgs, MapArgs};

#[derive(Parser)]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    Map(MapArgs),
    Check(CheckArgs),
}

fn main() {
    let code = match Cli::parse().cmd {
        Cmd::Map(a) => map(&a),
        Cmd::Check(a) => check(&a),
    };
    std::process::exit(code);
}
