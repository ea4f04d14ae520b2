//! The command line: `authy2 [serve]`, `db upgrade|downgrade|status`, `seed`,
//! `users import`, `audit purge|export`.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

use crate::config::Config;

/// Authy2: authentication and authorization API server.
#[derive(Debug, Parser)]
#[command(name = "authy2", version, about, long_about = None)]
pub struct Cli {
    /// What to do; serves the API when omitted.
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// Top-level commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the API (the default).
    Serve,
    /// Database migrations.
    Db {
        /// Which migration command.
        #[command(subcommand)]
        command: DbCommand,
    },
    /// Create sample users and organizations for development (idempotent; refused in production).
    Seed,
    /// User accounts.
    Users {
        /// Which users command.
        #[command(subcommand)]
        command: UsersCommand,
    },
    /// The audit log.
    Audit {
        /// Which audit command.
        #[command(subcommand)]
        command: AuditCommand,
    },
}

/// `authy2 db …`
#[derive(Debug, Subcommand)]
pub enum DbCommand {
    /// Apply every pending migration.
    Upgrade,
    /// Revert the most recent migrations.
    Downgrade {
        /// How many to revert.
        #[arg(long, default_value_t = 1)]
        steps: u32,
    },
    /// List applied and pending migrations.
    Status,
}

/// `authy2 users …`
#[derive(Debug, Subcommand)]
pub enum UsersCommand {
    /// Import accounts from JSON lines: {"email", "name"?, "password_hash", "created_at"?}.
    /// Existing emails are skipped, so the import can be re-run.
    Import {
        /// The file to read (`-` for standard input).
        file: PathBuf,
    },
}

/// `authy2 audit …`
#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Delete events older than AUDIT_RETENTION_DAYS now.
    Purge,
    /// Write events as JSON lines to standard output, newest first.
    Export {
        /// Only this organization's events.
        #[arg(long)]
        org: Option<String>,
        /// Only events at or after this RFC 3339 time.
        #[arg(long)]
        since: Option<String>,
        /// Only events before this RFC 3339 time.
        #[arg(long)]
        until: Option<String>,
    },
}

/// A command that failed; `code` is the process exit code.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct CommandError {
    /// What went wrong, in one line.
    pub message: String,
    /// Exit code: 2 for bad input or configuration, 1 for failures.
    pub code: u8,
}

impl CommandError {
    /// A failure (exit 1).
    pub fn failed(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            code: 1,
        }
    }

    /// Bad input (exit 2).
    pub fn usage(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            code: 2,
        }
    }
}

impl From<crate::server::StartError> for CommandError {
    fn from(err: crate::server::StartError) -> Self {
        Self::failed(err.to_string())
    }
}

impl From<authy2_core::StoreError> for CommandError {
    fn from(err: authy2_core::StoreError) -> Self {
        Self::failed(err.to_string())
    }
}

/// Runs a parsed command line.
pub async fn run(cli: Cli, config: Config) -> Result<(), CommandError> {
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => Ok(crate::server::run(config).await?),
        Command::Db { command } => crate::commands::db(command, &config).await,
        Command::Seed => crate::commands::seed(config).await,
        Command::Users {
            command: UsersCommand::Import { file },
        } => crate::commands::import_users(&file, config).await,
        Command::Audit { command } => crate::commands::audit(command, config).await,
    }
}
