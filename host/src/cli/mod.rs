//! The `switchboard` command line.

mod admin;
mod connections;
mod phone;
mod reconcile;
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
    /// Connect an account or an integration's CRM by OAuth: prints the link to
    /// open, and completes when the running host receives the callback.
    Connect {
        /// Configuration file.
        #[arg(long, short, default_value = "switchboard.toml")]
        config: PathBuf,
        /// Account or integration id (`account:ID` / `integration:ID` when both exist).
        id: String,
        /// How long to wait for the callback, in seconds.
        #[arg(long, default_value_t = 600)]
        wait_seconds: u64,
    },
    /// OAuth connections: their state, expiry and last refresh.
    Connections {
        /// What to do.
        #[command(subcommand)]
        action: ConnectionsAction,
    },
    /// Aircall accounts: their webhook as Aircall has it.
    Accounts {
        /// What to do.
        #[command(subcommand)]
        action: AccountsAction,
    },
    /// Log an integration's past calls into its CRM, oldest first, through the
    /// running host (never a call twice; resumable). Shows progress until done.
    Backfill {
        /// Configuration file.
        #[arg(long, short, default_value = "switchboard.toml")]
        config: PathBuf,
        /// Integration id.
        integration: String,
        /// How far back: 7d, 12h, 30m (at most `[store] logged_days`).
        #[arg(long)]
        since: String,
        /// Only count what would be logged.
        #[arg(long)]
        dry_run: bool,
        /// Return once the host has the request instead of showing progress.
        #[arg(long)]
        no_wait: bool,
    },
    /// Print a one-time sign-in link to the console (single use, 10 minutes).
    ConsoleLink {
        /// Configuration file.
        #[arg(long, short, default_value = "switchboard.toml")]
        config: PathBuf,
    },
    /// Read a password from stdin and print its argon2 hash for
    /// `[console] admin_password_hash`.
    ConsolePassword,
    /// The master key that seals stored tokens.
    Keys {
        /// What to do.
        #[command(subcommand)]
        action: KeysAction,
    },
}

/// `connections …`
#[derive(Debug, Subcommand)]
pub enum ConnectionsAction {
    /// Every connection with its state, expiry, last refresh and the fix.
    List {
        /// Configuration file.
        #[arg(long, short, default_value = "switchboard.toml")]
        config: PathBuf,
    },
    /// Forget a connection's tokens; its integrations hold their events.
    Revoke {
        /// Configuration file.
        #[arg(long, short, default_value = "switchboard.toml")]
        config: PathBuf,
        /// Connection (account or integration id).
        id: String,
    },
}

/// `accounts …`
#[derive(Debug, Subcommand)]
pub enum AccountsAction {
    /// Each account's Aircall webhook: ok, deactivated, missing, or pointing
    /// elsewhere (exit 1 when one needs attention).
    Check {
        /// Configuration file.
        #[arg(long, short, default_value = "switchboard.toml")]
        config: PathBuf,
        /// Re-activate a deactivated webhook, re-create a missing one (OAuth installs).
        #[arg(long)]
        repair: bool,
    },
}

/// `keys …`
#[derive(Debug, Subcommand)]
pub enum KeysAction {
    /// Write a new key file with one random key.
    Generate {
        /// The key file to create.
        #[arg(long)]
        file: PathBuf,
    },
    /// Add a key to `[connections] key_file` and re-seal every stored token
    /// under it (safe while hosts run).
    Rotate {
        /// Configuration file.
        #[arg(long, short, default_value = "switchboard.toml")]
        config: PathBuf,
    },
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
        /// Perform again the writes that may have happened (ambiguous: sent, answer
        /// lost) instead of stopping at them; check the CRM first.
        #[arg(long)]
        repeat_ambiguous: bool,
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
        Command::Connect { config, id, wait_seconds } => {
            connections::connect(&config, &id, std::time::Duration::from_secs(wait_seconds)).await
        }
        Command::Connections { action: ConnectionsAction::List { config } } => connections::list(&config).await,
        Command::Connections { action: ConnectionsAction::Revoke { config, id } } => connections::revoke(&config, &id).await,
        Command::Accounts { action: AccountsAction::Check { config, repair } } => reconcile::accounts_check(&config, repair).await,
        Command::Backfill { config, integration, since, dry_run, no_wait } => {
            reconcile::backfill(&config, &integration, &since, dry_run, no_wait).await
        }
        Command::ConsoleLink { config } => admin::console_link(&config).await,
        Command::ConsolePassword => admin::console_password(),
        Command::Keys { action: KeysAction::Generate { file } } => connections::generate(&file),
        Command::Keys { action: KeysAction::Rotate { config } } => connections::rotate(&config).await,
    }
}
