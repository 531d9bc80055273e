use std::process::ExitCode;

use clap::Parser;
use kurz::cli::Cli;
use kurz::config::Settings;

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let settings = match Settings::load() {
        Ok(settings) => settings,
        Err(error) => {
            eprintln!("kurz: {error}");
            return ExitCode::from(2);
        }
    };
    match cli.run(settings).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("kurz: {error:#}");
            ExitCode::FAILURE
        }
    }
}
