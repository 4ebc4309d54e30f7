//! The `switchboard` command line.

mod admin;
mod phone;
mod simulate;

use clap::{Parser, Subcommand};
use std::path::PathBuf;

/// switchboard: Aircall webhooks in, CRM plugins (WebAssembly) out.
#[derive(Debug, Parser)]
#[command(name = "switchboard", version, about)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the host.
    Serve {
        /// Configuration file.
        #[arg(long, short, default_value = "switchboard.toml")]
        config: PathBuf,
    },
    /// Validate the configuration and the plugins it uses, then exit.
    Check {
        /// Configuration file.
        #[arg(long, short, default_value = "switchboard.toml")]
        config: PathBuf,
    },
    /// Bring the store's schema up to this version (PostgreSQL: versioned
    /// migrations, safe while other hosts start), print the schema version.
    Migrate {
        /// Configuration file.
        #[arg(long, short, default_value = "switchboard.toml")]
        config: PathBuf,
    },
    /// Plugins in the plugin directory.
    Plugins {
        /// What to do.
        #[command(subcommand)]
        action: PluginsAction,
    },
    /// Jobs that failed permanently.
    DeadLetters {
        /// What to do.
        #[command(subcommand)]
        action: DeadLettersAction,
    },
    /// Pause, resume or list integrations.
    Integrations {
        /// What to do.
        #[command(subcommand)]
        action: IntegrationsAction,
    },
    /// Ask the phone engine why a number does (not) match.
    Phone {
        /// What to do.
        #[command(subcommand)]
        action: phone::PhoneAction,
    },
    /// Play scenario files into a host as Aircall webhooks (see scenarios/README.md).
    Simulate(simulate::SimulateArgs),
}

/// `plugins …`
#[derive(Debug, Subcommand)]
pub enum PluginsAction {
    /// Load every plugin of the configured directory and list them.
    List {
        /// Configuration file.
        #[arg(long, short, default_value = "switchboard.toml")]
        config: PathBuf,
    },
}

/// `dead-letters …`
#[derive(Debug, Subcommand)]
pub enum DeadLettersAction {
    /// Show dead letters, newest first.
    List {
        /// Configuration file.
        #[arg(long, short, default_value = "switchboard.toml")]
        config: PathBuf,
        /// How many.
        #[arg(long, default_value_t = 50)]
        limit: u32,
    },
    /// Queue dead letters again (a running host picks them up within a second).
    Replay {
        /// Configuration file.
        #[arg(long, short, default_value = "switchboard.toml")]
        config: PathBuf,
        /// The job to replay.
        job: Option<i64>,
        /// Replay every dead letter.
        #[arg(long, conflicts_with = "job")]
        all: bool,
    },
}

/// `integrations …`
#[derive(Debug, Subcommand)]
pub enum IntegrationsAction {
    /// Configured integrations with their state.
    List {
        /// Configuration file.
        #[arg(long, short, default_value = "switchboard.toml")]
        config: PathBuf,
    },
    /// Hold an integration's events (a running host stops starting its jobs).
    Pause {
        /// Configuration file.
        #[arg(long, short, default_value = "switchboard.toml")]
        config: PathBuf,
        /// Integration id.
        id: String,
        /// Why (shown by `list`).
        #[arg(long, default_value = "paused by an operator")]
        reason: String,
    },
    /// Deliver an integration's held events again.
    Resume {
        /// Configuration file.
        #[arg(long, short, default_value = "switchboard.toml")]
        config: PathBuf,
        /// Integration id.
        id: String,
    },
}

/// Run the command; returns the process exit code.
pub async fn run(cli: Cli) -> anyhow::Result<i32> {
    match cli.command {
        Command::Serve { config } => admin::serve(&config).await,
        Command::Check { config } => admin::check(&config).await,
        Command::Migrate { config } => admin::migrate(&config).await,
        Command::Plugins { action: PluginsAction::List { config } } => admin::plugins_list(&config).await,
        Command::DeadLetters { action } => admin::dead_letters(action).await,
        Command::Integrations { action } => admin::integrations(action).await,
        Command::Phone { action } => Ok(phone::run(action)),
        Command::Simulate(args) => simulate::run(args).await,
    }
}
