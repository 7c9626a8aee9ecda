//! Command line: `officebox [serve]`, `backup`, `restore`, `check`, `reindex`,
//! `admin reset-password`, `--version`.

use crate::config::{Config, Layer, LogFormat};
use crate::error::{AppError, AppResult};
use crate::platform::clock::SystemClock;
use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

#[derive(Parser, Debug)]
#[command(name = "officebox", version, about = "OfficeBox: a self-hosted office suite in one executable")]
pub struct Cli {
    /// Config file (default: ./officebox.toml when present).
    #[arg(long, global = true, env = "OFFICEBOX_CONFIG")]
    config: Option<PathBuf>,
    /// Data directory (default ./officebox-data).
    #[arg(long, global = true)]
    data_dir: Option<PathBuf>,
    /// Listen address, e.g. 0.0.0.0:8080.
    #[arg(long, global = true)]
    listen: Option<String>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run the server (the default).
    Serve,
    /// Write a backup archive (.zip). Talks to the running server, or opens the stopped data dir.
    Backup {
        #[arg(long)]
        out: PathBuf,
    },
    /// Restore a backup archive into the data directory (the server must be stopped).
    Restore { file: PathBuf },
    /// Check the integrity of the database and the stored files (server stopped).
    Check,
    /// Rebuild the search index from the database (server stopped).
    Reindex,
    /// Administration helpers.
    Admin {
        #[command(subcommand)]
        command: AdminCommand,
    },
    /// Internal: the sandboxed text extractor the server runs as a child (platform::extract).
    #[command(name = "__extract", hide = true)]
    Extract { format: String, path: PathBuf, limits: String },
}

#[derive(Subcommand, Debug)]
enum AdminCommand {
    /// Set a new password for a member (by account id, mobile or email) and print it.
    ResetPassword { login: String },
}

pub fn run() -> ExitCode {
    crate::platform::extract::isolate::mark_binary_has_subcommand();
    let cli = Cli::parse();
    // The extraction child needs neither config nor logging (its stdout is the answer).
    if let Some(Command::Extract { format, path, limits }) = &cli.command {
        return crate::platform::extract::isolate::child_main(format, path, limits);
    }
    match dispatch(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("officebox: {}", e.message);
            ExitCode::FAILURE
        }
    }
}

fn load_config(cli: &Cli) -> AppResult<Config> {
    let env = Layer::from_env(|k| std::env::var(k).ok())?;
    let flags = Layer { listen: cli.listen.clone(), data_dir: cli.data_dir.clone(), ..Layer::default() };
    Config::load(cli.config.as_deref(), env, flags)
}

fn init_logging(config: &Config) {
    // tantivy logs every index commit at info; keep it quiet unless asked for.
    let level = if config.log_level.contains("tantivy") {
        config.log_level.clone()
    } else {
        format!("{},tantivy=warn", config.log_level)
    };
    let filter = tracing_subscriber::EnvFilter::try_new(&level)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,tantivy=warn"));
    use std::io::IsTerminal;
    // Colours only for a person at a terminal, never into journald or a log file.
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal());
    let _ = match config.log_format {
        LogFormat::Json => builder.json().try_init(),
        LogFormat::Text => builder.try_init(),
    };
}

fn dispatch(cli: Cli) -> AppResult<ExitCode> {
    let config = load_config(&cli)?;
    init_logging(&config);
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => serve(config),
        Command::Backup { out } => crate::ops::backup(&config, &out),
        Command::Restore { file } => crate::ops::restore(&config, &file),
        Command::Check => crate::ops::check(&config),
        Command::Reindex => crate::ops::reindex(&config),
        Command::Admin { command: AdminCommand::ResetPassword { login } } => {
            crate::ops::reset_password(&config, &login)
        }
        Command::Extract { .. } => Ok(ExitCode::FAILURE), // handled in run()
    }
}

fn serve(config: Config) -> AppResult<ExitCode> {
    loop {
        let listener = std::net::TcpListener::bind(config.listen)
            .map_err(|e| AppError::unavailable(format!("cannot listen on {}: {e}", config.listen)))?;
        let platform = actix_web::web::Data::new(crate::app::build_platform(config.clone(), Arc::new(SystemClock))?);
        let shown = if config.listen.ip().is_unspecified() {
            format!("http://127.0.0.1:{} (all interfaces)", config.listen.port())
        } else {
            format!("http://{}", config.listen)
        };
        println!("OfficeBox {} is running at {shown}  data: {}", env!("CARGO_PKG_VERSION"), config.data_dir.display());
        let reason = actix_web::rt::System::new().block_on(crate::app::run(platform.clone(), listener))?;
        crate::app::release(platform);
        match reason {
            Some(crate::platform::Shutdown::Restart) => {
                tracing::info!("restarting (e.g. to apply a restore)");
                continue;
            }
            None => return Ok(ExitCode::SUCCESS),
        }
    }
}
