//! `switchyard`: the daemon and its command line.

use anyhow::Context;
use clap::{Parser, Subcommand};
use std::io::Read;
use std::path::PathBuf;
use std::process::ExitCode;
use switchyard_daemon::app::{self, Overrides, Roles};
use switchyard_runtime::config::Config;
use switchyard_runtime::secrets::SecretBox;
use switchyard_store::keys::Tier;

/// The config file used when none is named; it may be missing (defaults and the environment
/// then make the config).
const DEFAULT_CONFIG: &str = "switchyard.toml";

#[derive(Parser)]
#[command(name = "switchyard", version, about = "Switchyard integration hub")]
struct Cli {
    /// Config file (environment variables SWITCHYARD_* override it); `switchyard.toml` when
    /// not given. A file named here must exist.
    #[arg(long, global = true, env = "SWITCHYARD_CONFIG")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

impl Cli {
    /// The config file: the named one, which must exist (a typo must not start the daemon on
    /// built-in defaults), or `switchyard.toml`, which may be missing.
    fn config_path(&self) -> anyhow::Result<PathBuf> {
        match &self.config {
            Some(named) if !named.exists() => anyhow::bail!(
                "{}: config file not found (named by --config or SWITCHYARD_CONFIG)",
                named.display()
            ),
            Some(named) => Ok(named.clone()),
            None => Ok(PathBuf::from(DEFAULT_CONFIG)),
        }
    }
}

#[derive(Subcommand)]
enum Command {
    /// Run the daemon: worker, scheduler and REST API (each can be switched off).
    Run {
        #[arg(long)]
        no_api: bool,
        #[arg(long)]
        no_worker: bool,
        #[arg(long)]
        no_scheduler: bool,
    },
    /// Run the whole pipeline end to end against a fresh demo database and loopback fakes.
    Demo,
    /// Validate the config, schedules and mappings (and run the mappings' example pairs);
    /// print every problem as file:line:col.
    Check {
        /// Example pairs for the mappings.
        #[arg(long, default_value = "fixtures/mappings")]
        mapping_fixtures: PathBuf,
    },
    /// Map one input file with one mapping file and print the result.
    Map(switchyard_mapping::cli::MapArgs),
    /// EDI: parse, validate and acknowledge X12 and EDIFACT files.
    #[cfg(feature = "edi")]
    Edi(switchyard_edi::cli::EdiArgs),
    /// Apply database migrations and exit.
    Migrate,
    /// Administration.
    Admin {
        #[command(subcommand)]
        command: AdminCommand,
    },
    /// Encrypted partner credentials.
    Secret {
        #[command(subcommand)]
        command: SecretCommand,
    },
    /// Import files into the catalog through mapping files.
    Import {
        #[command(subcommand)]
        command: switchyard_daemon::import_cli::ImportCommand,
    },
    /// Export an entity as CSV, JSON or XML to standard output (or --output).
    Export(switchyard_daemon::export_cli::ExportArgs),
    /// Benchmarks that print figures.
    Bench {
        #[command(subcommand)]
        command: switchyard_daemon::bench::BenchCommand,
    },
}

#[derive(Subcommand)]
enum AdminCommand {
    /// Mint an API key (shown once).
    CreateKey {
        #[arg(long)]
        org: String,
        #[arg(long, default_value = "admin")]
        name: String,
        /// Comma-separated scopes, e.g. admin:keys,write:jobs,write:dead-letters,read:logs
        #[arg(long, value_delimiter = ',', required = true)]
        scopes: Vec<String>,
        #[arg(long, default_value = "standard")]
        tier: String,
    },
}

#[derive(Subcommand)]
enum SecretCommand {
    /// Print a new random AES-256 key for SWITCHYARD_SECRET_KEY.
    GenKey,
    /// Store a credential (read from standard input) encrypted, for `secret:NAME` references.
    Set {
        #[arg(long, default_value = "default")]
        org: String,
        #[arg(long)]
        name: String,
    },
}

fn init_tracing() {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_env("SWITCHYARD_LOG")
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(switchyard_daemon::log_writer::MaskedStderr::new())
        .try_init();
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let code = match runtime.block_on(dispatch(cli)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    };
    // Dropping the runtime would wait for every blocking-pool thread; one stuck in a read
    // (a hung network file system) would keep the process alive after SIGTERM. What had to
    // finish has finished by now.
    runtime.shutdown_timeout(std::time::Duration::from_secs(1));
    code
}

async fn dispatch(cli: Cli) -> anyhow::Result<ExitCode> {
    // Commands that read no config (map, edi, secret gen-key) do not fail on a missing one.
    let config_path = cli.config_path();
    match cli.command {
        Command::Run {
            no_api,
            no_worker,
            no_scheduler,
        } => {
            init_tracing();
            let config_path = config_path?;
            let config = Config::load(&config_path)?;
            let roles = Roles {
                api: !no_api,
                worker: !no_worker,
                scheduler: !no_scheduler,
            };
            let running =
                app::start(config, config_path.clone(), roles, Overrides::default()).await?;
            let token = running.shutdown_token();
            tokio::spawn(async move {
                wait_for_signal().await;
                tracing::info!("shutdown requested");
                token.cancel();
            });
            running.wait().await?;
            Ok(ExitCode::SUCCESS)
        }
        #[cfg(all(feature = "http", feature = "edi", feature = "optima", feature = "phonex", feature = "magento"))]
        Command::Demo => switchyard_daemon::demo::run(&config_path?).await,
        #[cfg(not(all(feature = "http", feature = "edi", feature = "optima", feature = "phonex", feature = "magento")))]
        Command::Demo => anyhow::bail!(
            "the demo plays an HTTP partner, an EDI trading partner, Comarch Optima, the PhoneX supplier and a Magento store: build with the `http`, `edi`, `optima`, `phonex` and `magento` features (the default)"
        ),
        Command::Check { mapping_fixtures } => Ok(switchyard_daemon::check::run(
            &config_path?,
            &mapping_fixtures,
            &app::all_integrations(&[])?,
        )),
        Command::Map(args) => Ok(exit(switchyard_mapping::cli::map(&args))),
        #[cfg(feature = "edi")]
        Command::Edi(args) => Ok(switchyard_edi::cli::run(args)),
        Command::Migrate => {
            let config = Config::load(&config_path?)?;
            let pool = connect_and_migrate(&config).await?;
            pool.close().await;
            println!("migrations applied");
            Ok(ExitCode::SUCCESS)
        }
        Command::Admin {
            command:
                AdminCommand::CreateKey {
                    org,
                    name,
                    scopes,
                    tier,
                },
        } => {
            // Scopes are data: the hub's and this build's integrations' declared ones.
            let mut declared = switchyard_api::Scopes::hub();
            for i in app::all_integrations(&[])? {
                declared = declared.with(i.scopes());
            }
            // `--scopes "read:logs, write:jobs"`: the spaces are the shell user's, not the scope's.
            let scopes: Vec<&str> = scopes.iter().map(|s| s.trim()).collect();
            let scopes = declared
                .parse_all(&scopes)
                .map_err(|e| anyhow::anyhow!("{}", e.message))?;
            let tier = match tier.as_str() {
                "basic" => Tier::Basic,
                "standard" => Tier::Standard,
                "premium" => Tier::Premium,
                other => anyhow::bail!("unknown tier `{other}` (basic, standard, premium)"),
            };
            let config = Config::load(&config_path?)?;
            let pool = connect_and_migrate(&config).await?;
            let (key, secret) =
                switchyard_store::keys::create_key(&pool, &org, &name, &scopes, tier).await?;
            eprintln!(
                "created key {} ({}) for org `{org}`; it is shown once:",
                key.id, key.prefix
            );
            println!("{secret}");
            Ok(ExitCode::SUCCESS)
        }
        Command::Secret {
            command: SecretCommand::GenKey,
        } => {
            println!("{}", SecretBox::generate_key_base64());
            Ok(ExitCode::SUCCESS)
        }
        Command::Secret {
            command: SecretCommand::Set { org, name },
        } => {
            let config = Config::load(&config_path?)?;
            let sbox = SecretBox::from_config(&config.secrets)?
                .context("no secret key: set SWITCHYARD_SECRET_KEY (generate one with `switchyard secret gen-key`)")?;
            let mut value = String::new();
            std::io::stdin().read_to_string(&mut value)?;
            let value = value.trim_end_matches(['\r', '\n']);
            anyhow::ensure!(!value.is_empty(), "no secret value on standard input");
            let pool = connect_and_migrate(&config).await?;
            let org = switchyard_store::orgs::ensure(&pool, &org).await?;
            switchyard_runtime::secrets::put(&pool, &sbox, org.id, &name, value).await?;
            eprintln!("stored secret `{name}` for org `{}`", org.slug);
            Ok(ExitCode::SUCCESS)
        }
        Command::Bench { command } => switchyard_daemon::bench::run(command, &config_path?).await,
        Command::Export(args) => {
            let config = Config::load(&config_path?)?;
            let pool = connect_and_migrate(&config).await?;
            switchyard_daemon::export_cli::run(args, &pool, &config.paths.mappings).await?;
            pool.close().await;
            Ok(ExitCode::SUCCESS)
        }
        Command::Import { command } => {
            let config = Config::load(&config_path?)?;
            let pool = connect_and_migrate(&config).await?;
            let clean = switchyard_daemon::import_cli::run(command, &config, &pool).await?;
            pool.close().await;
            Ok(if clean {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            })
        }
    }
}

/// The configured database (created when a fresh server lacks it), with every migration of
/// the hub and this build's integrations applied.
async fn connect_and_migrate(config: &Config) -> anyhow::Result<sqlx::PgPool> {
    use switchyard_runtime::pg::{ensure_database, unreachable_hint};
    ensure_database(&config.database.url).await?;
    let pool = switchyard_store::connect(&config.database.url, 2)
        .await
        .with_context(|| unreachable_hint(&config.database.url))?;
    let integrations = app::all_integrations(&[])?;
    switchyard_runtime::assembly::migrator(&integrations)
        .await?
        .run(&pool)
        .await
        .context("applying migrations")?;
    Ok(pool)
}

fn exit(code: i32) -> ExitCode {
    ExitCode::from(u8::try_from(code).unwrap_or(1))
}

async fn wait_for_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let mut term = signal(SignalKind::terminate()).expect("install SIGTERM handler");
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
