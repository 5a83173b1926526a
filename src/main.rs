//! The `cascade` binary: installs logging, parses arguments, runs, maps the result to an
//! exit code (0 success, 1 a check failed, 2 an error).

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = cascade::cli::Cli::parse();
    install_tracing(cli.log.as_deref());
    match cascade::cli::run(cli) {
        Ok(status) => status.into(),
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::from(2)
        }
    }
}

fn install_tracing(filter: Option<&str>) {
    let filter = filter
        .map(str::to_string)
        .or_else(|| std::env::var("CASCADE_LOG").ok())
        .unwrap_or_else(|| "warn".to_string());
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
        .with_writer(std::io::stderr)
        .init();
}
