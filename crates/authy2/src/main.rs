//! The `authy2` binary: parses the command line, reads configuration, runs the command.

use std::process::ExitCode;

use authy2::cli::Cli;
use authy2::config::Config;
use clap::Parser;

/// A server allocates and frees many small buffers per request from several threads; mimalloc
/// does that with a fraction of glibc's cost (about a tenth of the CPU of a request under load).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = Cli::parse();
    // A `.env` in the working directory fills in what the environment does not set.
    match dotenvy::from_path(".env") {
        Ok(()) => {}
        Err(err) if err.not_found() => {}
        Err(err) => {
            eprintln!("configuration error: .env cannot be read: {err}");
            return ExitCode::from(2);
        }
    }
    let config = match Config::from_env() {
        Ok(config) => config,
        Err(err) => {
            eprintln!("{err}");
            return ExitCode::from(2);
        }
    };
    if cfg!(feature = "unaudited-benchmark") && config.is_production() {
        eprintln!(
            "configuration error: APP_ENV this build writes no audit log (benchmark only); refusing production"
        );
        return ExitCode::from(2);
    }
    authy2::telemetry::init(config.log_format);
    authy2::install_crypto_provider();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("cannot start the async runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(authy2::cli::run(cli, config)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            tracing::error!("{err}");
            eprintln!("error: {err}");
            ExitCode::from(err.code)
        }
    }
}
