//! Management commands, carried by the same binary as the server so that
//! `docker exec -it <container> kurz <command>` works wherever kurz runs. Every command reads
//! the same configuration and opens the same store as the server; see docs/operations.md.
//!
//! Output: a table or aligned details by default, one JSON document with `--json`. Failure: one
//! line `kurz: <reason>` on stderr and exit code 1, or 2 when the input was wrong (arguments,
//! values the domain types refuse, the configuration).

mod apikey;
mod config;
mod crlf;
mod geo;
mod healthcheck;
mod migrate;
mod output;
mod password;
mod seed;
mod transfer;
mod urls;
mod visits;

use std::sync::Arc;

use anyhow::Context as _;
use clap::{Parser, Subcommand};

use crate::app::{ApiKeys, AppError, Links, Visits};
use crate::config::{ConfigError, Settings};
use crate::domain::Invalid;
use crate::logging;
use crate::startup::{shutdown_signal, Application};
use crate::store::{self, Store};

#[derive(Debug, Parser)]
#[command(
    name = "kurz",
    version,
    about = "A self-hosted URL shortener with click tracking"
)]
pub struct Cli {
    /// Print one JSON document instead of tables (management commands).
    #[arg(long, global = true)]
    pub json: bool,

    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve HTTP (the default when no command is given).
    Serve,
    /// Ask the running server's /healthz (or /readyz with --ready); exit 0 when it answers 200.
    Healthcheck(healthcheck::HealthcheckArgs),
    /// Apply pending database migrations and exit; with --status, list them instead.
    Migrate(migrate::MigrateArgs),
    /// Print the effective configuration (secrets masked) and where each value came from.
    CheckConfig,
    /// Create, list and revoke API keys (admin, editor, viewer).
    Apikey {
        #[command(subcommand)]
        command: apikey::ApiKeyCommand,
    },
    /// Create, list, show and delete short links.
    Url {
        #[command(subcommand)]
        command: urls::UrlCommand,
    },
    /// Maintain stored visits.
    Visits {
        #[command(subcommand)]
        command: visits::VisitsCommand,
    },
    /// Look addresses up in the configured geolocation file (geo.database).
    Geo {
        #[command(subcommand)]
        command: geo::GeoCommand,
    },
    /// Write every URL as CSV or JSON Lines (to stdout unless --output).
    Export(transfer::ExportArgs),
    /// Create URLs from a CSV or JSON Lines file (slugs that exist are skipped), or import
    /// links and clicks from YOURLS, Kutt or Bitly (--from).
    Import(transfer::ImportArgs),
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

/// The command line or a file was wrong: exit code 2, like a value the domain types refuse.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct UsageError(pub String);

/// The exit code for a command that failed with `error`: 2 when its input was wrong (an
/// argument, a value, the configuration), 1 for anything else (not found, a conflict, the
/// database).
pub fn exit_code(error: &anyhow::Error) -> u8 {
    let wrong_input = error.chain().any(|cause| {
        cause.is::<UsageError>()
            || cause.is::<Invalid>()
            || cause.is::<ConfigError>()
            || matches!(cause.downcast_ref(), Some(AppError::Invalid(_)))
    });
    if wrong_input {
        2
    } else {
        1
    }
}

/// What a management command works with.
pub(crate) struct Context {
    pub settings: Settings,
    pub json: bool,
    store: tokio::sync::OnceCell<Arc<dyn Store>>,
}

impl Context {
    /// The server's store, opened on first use, with migrations applied when
    /// `database.run_migrations` says so (as the server does).
    pub async fn store(&self) -> anyhow::Result<Arc<dyn Store>> {
        let store = self
            .store
            .get_or_try_init(|| async {
                store::connect(&self.settings.database)
                    .await
                    .context("cannot open the database")
            })
            .await?;
        Ok(store.clone())
    }

    /// What a target may be, as the server decides it (with the same public URL).
    fn target_policy(&self) -> anyhow::Result<crate::domain::TargetPolicy> {
        self.settings
            .target
            .policy(&self.public_url())
            .map_err(|why| UsageError(format!("target.deny_hosts: {why}")).into())
    }

    /// The links service, as the server has it, announcing its changes to running servers.
    pub async fn links(&self) -> anyhow::Result<Links> {
        Ok(Links::new(
            self.store().await?,
            Arc::new(self.settings.slug.policy()),
            Arc::new(self.target_policy()?),
            crate::cluster::announcer(&self.settings)?,
        )
        .forwarding_queries(self.settings.redirect.forward_query))
    }

    pub async fn api_keys(&self) -> anyhow::Result<ApiKeys> {
        Ok(ApiKeys::new(self.store().await?))
    }

    pub async fn visits(&self) -> anyhow::Result<Visits> {
        Ok(Visits::new(
            self.store().await?,
            crate::cluster::announcer(&self.settings)?,
        ))
    }

    /// The base of short links, as the server writes them.
    pub fn public_url(&self) -> String {
        self.settings
            .server
            .public_url_for(self.settings.server.port)
    }
}

impl Cli {
    /// `check-config` runs before the settings are loaded, so that it can show where each
    /// value of an invalid configuration came from.
    pub fn is_check_config(&self) -> bool {
        matches!(self.command, Some(Command::CheckConfig))
    }

    /// Runs `check-config` from the environment; fails (exit code 2) when the configuration is
    /// invalid.
    pub fn check_config(&self) -> anyhow::Result<()> {
        config::run(self.json)
    }

    pub async fn run(self, settings: Settings) -> anyhow::Result<()> {
        let ctx = Context {
            settings,
            json: self.json,
            store: tokio::sync::OnceCell::new(),
        };
        match self.command.unwrap_or(Command::Serve) {
            Command::Serve => {
                logging::init(&ctx.settings.log);
                let app = Application::build(ctx.settings).await?;
                app.run_until_stopped(shutdown_signal()).await
            }
            Command::Healthcheck(args) => healthcheck::run(&ctx.settings, &args, ctx.json).await,
            Command::Migrate(args) => migrate::run(&ctx, args).await,
            Command::CheckConfig => config::run(ctx.json),
            Command::Apikey { command } => apikey::run(&ctx, command).await,
            Command::Url { command } => urls::run(&ctx, command).await,
            Command::Visits { command } => visits::run(&ctx, command).await,
            Command::Geo { command } => geo::run(&ctx.settings, command, ctx.json),
            Command::Export(args) => transfer::export(&ctx, args).await,
            Command::Import(args) => transfer::import(&ctx, args).await,
            Command::Dev {
                command: DevCommand::Seed(args),
            } => seed::run(&ctx, args).await,
        }
    }
}
