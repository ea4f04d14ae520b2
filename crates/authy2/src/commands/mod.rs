//! The non-serving commands of the CLI.

mod import;
mod seed;

use std::sync::Arc;

use authy2_core::audit::{AuditFilter, AuditScope};
use authy2_core::{OrganizationId, SystemClock};
use tokio::io::{AsyncWriteExt, BufWriter};
use tokio_util::sync::CancellationToken;

pub use self::import::{ImportReport, import_from, import_users, parse_import_line};
pub use self::seed::seed;
use crate::cli::{AuditCommand, CommandError, DbCommand};
use crate::config::Config;
use crate::http::audit::parse_time;
use crate::http::views::AuditEventView;
use crate::server;
use crate::state::AppState;

/// Events fetched per query while exporting; memory stays bounded by this, not by the log.
const EXPORT_BATCH: u32 = 1_000;

/// `authy2 db upgrade|downgrade|status`
pub async fn db(command: DbCommand, config: &Config) -> Result<(), CommandError> {
    let database = server::connect(config).await?;
    let result = match command {
        DbCommand::Upgrade => {
            let applied = database.upgrade().await?;
            if applied.is_empty() {
                println!("Database is up to date.");
            }
            for m in applied {
                println!("applied  {:04}_{}", m.version, m.name);
            }
            Ok(())
        }
        DbCommand::Downgrade { steps } => {
            let reverted = database.downgrade(steps).await?;
            if reverted.is_empty() {
                println!("No migration to revert.");
            }
            for m in reverted {
                println!("reverted {:04}_{}", m.version, m.name);
            }
            Ok(())
        }
        DbCommand::Status => {
            println!("{:<8} {:<28} applied at", "version", "name");
            for state in database.migration_status().await? {
                let applied = state
                    .applied_at
                    .map_or_else(|| "pending".to_owned(), crate::http::views::format_time);
                println!(
                    "{:<8} {:<28} {applied}",
                    format!("{:04}", state.version),
                    state.name
                );
            }
            Ok(())
        }
    };
    database.close().await;
    result
}

/// Opens everything a command that works on data needs.
async fn open_state(config: Config) -> Result<(AppState, authy2_store::Database), CommandError> {
    let database = server::open_database(&config).await?;
    let redis = server::open_redis(&config)?;
    let state = server::assemble(config, &database, redis, Arc::new(SystemClock));
    Ok((state, database))
}

/// `authy2 audit purge|export`
pub async fn audit(command: AuditCommand, config: Config) -> Result<(), CommandError> {
    let (state, database) = open_state(config).await?;
    let result = match command {
        AuditCommand::Purge => {
            let purged = server::purge_audit_events(&state, &CancellationToken::new()).await?;
            eprintln!(
                "Deleted {purged} audit event(s) older than {} days.",
                state.config.audit_retention_days
            );
            Ok(())
        }
        AuditCommand::Export { org, since, until } => {
            let scope = match org {
                Some(id) => {
                    AuditScope::Organization(id.parse::<OrganizationId>().map_err(|_| {
                        CommandError::usage("--org must be an organization id (UUID)")
                    })?)
                }
                None => AuditScope::All,
            };
            let mut filter = AuditFilter::scope(scope);
            filter.since = since
                .map(|t| parse_time(&t).map_err(|e| CommandError::usage(format!("--since {e}"))))
                .transpose()?;
            filter.until = until
                .map(|t| parse_time(&t).map_err(|e| CommandError::usage(format!("--until {e}"))))
                .transpose()?;
            export_audit(&state, &filter).await
        }
    };
    database.close().await;
    result
}

/// Streams matching events to standard output with keyset pagination.
async fn export_audit(state: &AppState, filter: &AuditFilter) -> Result<(), CommandError> {
    let mut out = BufWriter::new(tokio::io::stdout());
    let mut before = None;
    let mut exported: u64 = 0;
    loop {
        let batch = state
            .store
            .list_audit_events_before(filter, before, EXPORT_BATCH)
            .await?;
        let Some(last) = batch.last() else { break };
        before = Some((last.occurred_at, last.id));
        let full = batch.len() == EXPORT_BATCH as usize;
        for event in batch {
            let mut line = serde_json::to_vec(&AuditEventView::from(event))
                .map_err(|e| CommandError::failed(format!("cannot encode event: {e}")))?;
            line.push(b'\n');
            out.write_all(&line)
                .await
                .map_err(|e| CommandError::failed(format!("cannot write: {e}")))?;
            exported += 1;
        }
        if !full {
            break;
        }
    }
    out.flush()
        .await
        .map_err(|e| CommandError::failed(format!("cannot write: {e}")))?;
    eprintln!("Exported {exported} audit event(s).");
    Ok(())
}
