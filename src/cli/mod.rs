//! Management commands, carried by the same binary as the server so that
//! `docker exec -it <container> kurz <command>` works wherever kurz runs.

mod seed;

use clap::{Parser, Subcommand};

use crate::config::Settings;
use crate::startup::{shutdown_signal, Application};
use crate::{store, telemetry};

#[derive(Debug, Parser)]
#[command(
    name = "kurz",
    version,
    about = "A self-hosted URL shortener with click tracking"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve HTTP (the default when no command is given).
    Serve,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Tools for developing and benchmarking kurz.
    Dev {
        #[command(subcommand)]
        command: DevCommand,
    },
}

#[derive(Debug, Subcommand)]
pub enum DevCommand {
    /// Fill the database with generated URLs and visits (for benchmarks).
    Seed(seed::SeedArgs),
}

impl Cli {
    pub async fn run(self, settings: Settings) -> anyhow::Result<()> {
        match self.command.unwrap_or(Command::Serve) {
            Command::Serve => {
                telemetry::init(&settings.log);
                let app = Application::build(settings).await?;
                app.run_until_stopped(shutdown_signal()).await
            }
            Command::Migrate => {
                let mut database = settings.database.clone();
                database.run_migrations = false;
                let store = store::connect(&database).await?;
                store.migrate().await?;
                println!("migrations applied ({})", store.backend());
                Ok(())
            }
            Command::Dev {
                command: DevCommand::Seed(args),
            } => seed::run(settings, args).await,
        }
    }
}
