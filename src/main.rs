use std::process::ExitCode;

use clap::Parser;
use kurz::cli::{self, Cli};
use kurz::config::Settings;

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    // `check-config` loads the configuration itself, to show where each value of an invalid
    // one came from.
    if cli.is_check_config() {
        return exit(cli.check_config());
    }
    let settings = match Settings::load() {
        Ok(settings) => settings,
        Err(error) => {
            eprintln!("kurz: {error}");
            return ExitCode::from(2);
        }
    };
    exit(cli.run(settings).await)
}

/// One line on stderr and exit code 1, or 2 when the input was wrong (see `cli::exit_code`).
fn exit(result: anyhow::Result<()>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("kurz: {error:#}");
            ExitCode::from(cli::exit_code(&error))
        }
    }
}
