//! `compute-gateway` command line: `serve`, `migrate`, `config check`.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use compute_gateway::config::Config;
use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::format::FmtSpan;

/// Cloud compute for autonomous agents, paid per request with stablecoins.
#[derive(Parser, Debug)]
#[command(name = "compute-gateway", version, about)]
struct Cli {
    /// TOML configuration file (optional; defaults need none).
    #[arg(long, global = true, env = "COMPUTE_GATEWAY_CONFIG")]
    config: Option<PathBuf>,
    /// Log format on stderr: `text` (human) or `json` (one object per line, with the
    /// `request_id` of the request span).
    #[arg(long, global = true, env = "COMPUTE_GATEWAY_LOG_FORMAT", value_enum, default_value = "text")]
    log_format: LogFormat,
    /// Also log one `close` line per span, with its `time.busy` and `time.idle` (for
    /// `cargo xtask bench`, which computes the gateway's own time per request from them).
    #[arg(long, global = true, env = "COMPUTE_GATEWAY_LOG_SPAN_TIMINGS")]
    log_span_timings: bool,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug)]
enum LogFormat {
    Text,
    Json,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run the HTTP server (the default).
    Serve,
    /// Create or upgrade the database schema, then exit.
    Migrate,
    /// Configuration commands.
    Config {
        #[command(subcommand)]
        action: ConfigAction,
    },
}

#[derive(Subcommand, Debug)]
enum ConfigAction {
    /// Load and validate the configuration, print it with secrets redacted, then exit.
    Check,
}

/// Exit code for configuration errors.
const EXIT_CONFIG: u8 = 2;

/// `config check`: composes every section (each crate parses and validates its own) over an
/// in-memory database, and the price books; returns the parsed sections, secrets redacted,
/// then what keeps a rail from settling (e.g. a missing merchant token account).
async fn check(config: &Config) -> Result<Vec<(String, String)>, String> {
    let store = compute_store::Store::connect("sqlite::memory:").await.map_err(|e| e.to_string())?;
    let composed = compute_gateway::compose::compose(config, &store).map_err(|e| e.to_string())?;
    compute_gateway::pricing::books(config).map_err(|e| e.to_string())?;
    let mut settings = composed.settings;
    for rail in &composed.rails {
        for problem in rail.readiness().await {
            settings.push((format!("warning: rail {}", rail.rail().rail), problem));
        }
    }
    Ok(settings)
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let logs = tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")))
        .with_writer(std::io::stderr)
        .with_span_events(if cli.log_span_timings { FmtSpan::CLOSE } else { FmtSpan::NONE });
    match cli.log_format {
        LogFormat::Text => logs.init(),
        LogFormat::Json => logs.json().init(),
    }
    let config = match Config::load(cli.config.as_deref()) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("configuration error: {e}");
            return ExitCode::from(EXIT_CONFIG);
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => match runtime.block_on(compute_gateway::server::serve(config)) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e @ compute_gateway::server::ServeError::Config(_)) => {
                eprintln!("{e}");
                ExitCode::from(EXIT_CONFIG)
            }
            Err(e) => {
                eprintln!("error: {e}");
                ExitCode::FAILURE
            }
        },
        Command::Migrate => match runtime.block_on(compute_gateway::server::open_store(&config)) {
            Ok(store) => {
                eprintln!("database migrated ({})", store.backend().as_str());
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("error: {e}");
                ExitCode::FAILURE
            }
        },
        Command::Config { action: ConfigAction::Check } => match runtime.block_on(check(&config)) {
            Ok(settings) => {
                eprintln!("configuration is valid:\n{config:#?}");
                for (section, parsed) in settings {
                    eprintln!("[{section}] {parsed}");
                }
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("configuration error: {e}");
                ExitCode::from(EXIT_CONFIG)
            }
        },
    }
}
