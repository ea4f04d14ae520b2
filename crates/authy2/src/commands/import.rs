//! `authy2 users import FILE`: moves accounts over from another system (for example the
//! earlier Flask service) by their password hashes. Every line is validated; bad lines are
//! reported by number and the rest imported; existing emails are skipped, so re-running is safe.

use std::path::Path;

use authy2_core::{Clock, DisplayName, Email, HashedPassword, ImportedUser, SystemClock};
use serde::Deserialize;
use tokio::io::{AsyncBufRead, AsyncBufReadExt, BufReader};

use crate::cli::CommandError;
use crate::config::Config;
use crate::http::audit::parse_time;
use crate::passwords::is_supported_hash;

/// Accounts written per transaction.
const BATCH: usize = 500;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ImportLine {
    email: String,
    #[serde(default)]
    name: Option<String>,
    password_hash: String,
    #[serde(default)]
    created_at: Option<String>,
}

/// What an import did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ImportReport {
    /// Accounts created.
    pub inserted: u64,
    /// Lines whose email already had an account.
    pub skipped: u64,
    /// Bad lines: (line number, reason).
    pub rejected: Vec<(usize, String)>,
}

/// Validates one line of an import file.
pub fn parse_import_line(line: &str) -> Result<ImportedUser, String> {
    let parsed: ImportLine = serde_json::from_str(line).map_err(|e| {
        let message = e.to_string();
        let message = message
            .rsplit_once(" at line ")
            .map_or(message.as_str(), |(m, _)| m);
        format!("not a valid import record: {message}")
    })?;
    let email = Email::parse(&parsed.email).map_err(|e| format!("email {e}"))?;
    let name =
        DisplayName::parse_optional(parsed.name.as_deref()).map_err(|e| format!("name {e}"))?;
    if !is_supported_hash(&parsed.password_hash) {
        return Err(
            "password_hash must be a bcrypt ($2a$/$2b$/$2y$) or argon2 PHC string".to_owned(),
        );
    }
    let created_at = parsed
        .created_at
        .as_deref()
        .map(parse_time)
        .transpose()
        .map_err(|e| format!("created_at {e}"))?;
    Ok(ImportedUser {
        email,
        name,
        password_hash: HashedPassword::new(parsed.password_hash),
        created_at,
    })
}

/// Runs the import command.
pub async fn import_users(file: &Path, config: Config) -> Result<(), CommandError> {
    let reader: Box<dyn AsyncBufRead + Unpin + Send> = if file.as_os_str() == "-" {
        Box::new(BufReader::new(tokio::io::stdin()))
    } else {
        let opened = tokio::fs::File::open(file)
            .await
            .map_err(|e| CommandError::usage(format!("cannot open {}: {e}", file.display())))?;
        Box::new(BufReader::new(opened))
    };
    let (state, database) = super::open_state(config).await?;
    let report = import_from(reader, &state).await;
    database.close().await;
    let report = report?;
    for (line, reason) in &report.rejected {
        eprintln!("line {line}: {reason}");
    }
    eprintln!(
        "Imported {} account(s); skipped {} existing; rejected {} invalid line(s).",
        report.inserted,
        report.skipped,
        report.rejected.len()
    );
    if report.rejected.is_empty() {
        Ok(())
    } else {
        Err(CommandError::failed(format!(
            "{} line(s) were not imported; fix them and run the import again",
            report.rejected.len()
        )))
    }
}

/// Reads records from `reader` and imports the valid ones batch by batch.
pub async fn import_from(
    reader: impl AsyncBufRead + Unpin,
    state: &crate::state::AppState,
) -> Result<ImportReport, CommandError> {
    let mut report = ImportReport::default();
    let mut batch = Vec::with_capacity(BATCH);
    let mut lines = reader.lines();
    let mut number = 0;
    loop {
        number += 1;
        let line = lines
            .next_line()
            .await
            .map_err(|e| CommandError::failed(format!("cannot read line {number}: {e}")))?;
        let Some(line) = line else { break };
        if line.trim().is_empty() {
            continue;
        }
        match parse_import_line(&line) {
            Ok(user) => batch.push(user),
            Err(reason) => report.rejected.push((number, reason)),
        }
        if batch.len() == BATCH {
            write_batch(state, &mut batch, &mut report).await?;
        }
    }
    write_batch(state, &mut batch, &mut report).await?;
    Ok(report)
}

async fn write_batch(
    state: &crate::state::AppState,
    batch: &mut Vec<ImportedUser>,
    report: &mut ImportReport,
) -> Result<(), CommandError> {
    if batch.is_empty() {
        return Ok(());
    }
    let outcome = state
        .store
        .import_users(std::mem::take(batch), SystemClock.now())
        .await?;
    report.inserted += outcome.inserted;
    report.skipped += outcome.skipped;
    Ok(())
}
