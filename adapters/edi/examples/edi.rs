//! Stand-alone front end for the EDI command line (`cargo run -p switchyard-edi --example edi --
//! validate FILE`), the same code `switchyard edi ...` runs inside the daemon.

use clap::Parser;

#[derive(Parser)]
#[command(name = "edi")]
struct Cli {
    #[command(flatten)]
    args: switchyard_edi::cli::EdiArgs,
}

fn main() -> std::process::ExitCode {
    switchyard_edi::cli::run(Cli::parse().args)
}
