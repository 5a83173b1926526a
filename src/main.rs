//! The `cascade` binary: installs logging, parses arguments, runs, maps the result to an
//! exit code (0 success, 1 a check failed, 2 an error, 3 stopped early by the forge's rate
//! limit — the next run resumes, 4 the forge's credentials are missing or refused).

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    // reqwest is built without a TLS provider (ring only, no aws-lc): install it before any Client.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let cli = cascade::cli::Cli::parse();
    install_tracing(cli.log.as_deref());
    match cascade::cli::run(cli) {
        Ok(status) => status.into(),
        // A reader that went away (`cascade graph export | head`) is not a failure.
        Err(err) if is_broken_pipe(&err) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::from(2)
        }
    }
}

fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|cause| {
        let io_kind = cause
            .downcast_ref::<std::io::Error>()
            .map(std::io::Error::kind)
            .or_else(|| {
                cause
                    .downcast_ref::<serde_json::Error>()
                    .and_then(serde_json::Error::io_error_kind)
            });
        io_kind == Some(std::io::ErrorKind::BrokenPipe)
    })
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
