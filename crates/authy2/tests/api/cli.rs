//! The `authy2` binary: help and version, configuration errors, migrations, seed, import and
//! audit export, run as a user would run them.

use std::io::Write;
use std::process::{Command, Output};

use crate::helpers::{TestStorage, open_database};

/// The binary with a clean environment: only what the test sets.
fn authy2(storage: &TestStorage, args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_authy2"));
    command
        .args(args)
        .env_clear()
        .env("APP_ENV", "testing")
        .env("DATABASE_URL", &storage.database_url)
        .env("RUST_LOG", "warn")
        // A directory without a .env file.
        .current_dir(std::env::temp_dir());
    command
}

fn run(command: &mut Command) -> Output {
    command.output().expect("the binary runs")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn version_and_help_describe_the_binary() {
    let storage = TestStorage::sqlite(None);
    let output = run(authy2(&storage, &["--version"]).env_remove("DATABASE_URL"));
    assert!(output.status.success());
    assert!(stdout(&output).contains(env!("CARGO_PKG_VERSION")));

    let output = run(&mut authy2(&storage, &["--help"]));
    assert!(output.status.success());
    for command in ["serve", "db", "seed", "users", "audit"] {
        assert!(
            stdout(&output).contains(command),
            "{command} missing from --help"
        );
    }
}

#[test]
fn production_without_a_secret_key_exits_with_one_line_naming_it() {
    let storage = TestStorage::sqlite(None);
    let output = run(authy2(&storage, &[]).env("APP_ENV", "production"));
    assert_eq!(output.status.code(), Some(2));
    let stderr = stderr(&output);
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    assert!(stderr.contains("SECRET_KEY"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn a_bad_variable_stops_the_start_naming_it() {
    let storage = TestStorage::sqlite(None);
    for (variable, value) in [
        ("PORT", "eighty"),
        ("DATABASE_URL", "mysql://db"),
        ("TRUSTED_PROXIES", "nope"),
    ] {
        let output = run(authy2(&storage, &["serve"]).env(variable, value));
        assert_eq!(output.status.code(), Some(2), "{variable}");
        assert!(
            stderr(&output).contains(variable),
            "{variable}: {}",
            stderr(&output)
        );
    }
}

#[test]
fn an_unreachable_database_is_a_clear_error_not_a_hang() {
    let storage = TestStorage::sqlite(None);
    let output = run(authy2(&storage, &["db", "status"])
        .env("DATABASE_URL", "postgres://postgres@127.0.0.1:1/authy2")
        .env("DATABASE_CONNECT_TIMEOUT", "2s"));
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).contains("DATABASE_URL"),
        "{}",
        stderr(&output)
    );
}

#[tokio::test]
async fn db_commands_upgrade_report_and_downgrade() {
    let storage = TestStorage::create().await;
    let output = run(&mut authy2(&storage, &["db", "status"]));
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(
        stdout(&output).matches("pending").count(),
        3,
        "{}",
        stdout(&output)
    );

    let output = run(&mut authy2(&storage, &["db", "upgrade"]));
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(stdout(&output).contains("applied  0003_audit_events"));
    let output = run(&mut authy2(&storage, &["db", "status"]));
    assert!(!stdout(&output).contains("pending"), "{}", stdout(&output));

    let output = run(&mut authy2(&storage, &["db", "downgrade", "--steps", "2"]));
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(stdout(&output).contains("reverted 0003_audit_events"));
    assert!(stdout(&output).contains("reverted 0002_organizations"));
    let output = run(&mut authy2(&storage, &["db", "status"]));
    assert_eq!(stdout(&output).matches("pending").count(), 2);
}

#[tokio::test]
async fn production_refuses_to_start_with_pending_migrations() {
    let storage = TestStorage::create().await;
    let output = run(authy2(&storage, &["serve"])
        .env("APP_ENV", "production")
        .env("SECRET_KEY", "k".repeat(40)));
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).contains("authy2 db upgrade"),
        "{}",
        stderr(&output)
    );
}

#[tokio::test]
async fn seed_is_idempotent_and_refused_in_production() {
    let storage = TestStorage::create().await;
    let output = run(&mut authy2(&storage, &["seed"]));
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(
        stdout(&output).contains("Seeded 3 new account(s)"),
        "{}",
        stdout(&output)
    );
    let output = run(&mut authy2(&storage, &["seed"]));
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(
        stdout(&output).contains("Seeded 0 new account(s)"),
        "{}",
        stdout(&output)
    );

    let database = open_database(&storage).await;
    let store = database.store();
    let alice = store
        .find_user_by_email("alice@example.com")
        .await
        .unwrap()
        .unwrap();
    let organizations = store
        .list_user_organizations(alice.id, authy2_core::PageRequest::default())
        .await
        .unwrap();
    assert_eq!(organizations.total, 2);
    database.close().await;

    let output = run(authy2(&storage, &["seed"])
        .env("APP_ENV", "production")
        .env("SECRET_KEY", "k".repeat(40)));
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("production"));
}

#[tokio::test]
async fn users_import_reports_bad_lines_and_can_be_rerun() {
    let storage = TestStorage::create().await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("users.jsonl");
    let mut file = std::fs::File::create(&path).unwrap();
    // bcrypt (cost 4) of "flask-era password", as the old service stored it.
    let bcrypt_hash = bcrypt::hash("flask-era password", 4).unwrap();
    writeln!(file, r#"{{"email":"Old.User@Example.com","name":"Old User","password_hash":"{bcrypt_hash}","created_at":"2020-01-02T03:04:05Z"}}"#).unwrap();
    writeln!(
        file,
        r#"{{"email":"not-an-email","password_hash":"{bcrypt_hash}"}}"#
    )
    .unwrap();
    writeln!(
        file,
        r#"{{"email":"plain@example.com","password_hash":"plaintext"}}"#
    )
    .unwrap();
    writeln!(file, "{{broken json").unwrap();
    writeln!(file).unwrap();
    writeln!(
        file,
        r#"{{"email":"second@example.com","password_hash":"{bcrypt_hash}","admin":true}}"#
    )
    .unwrap();
    writeln!(
        file,
        r#"{{"email":"third@example.com","password_hash":"{bcrypt_hash}"}}"#
    )
    .unwrap();
    drop(file);

    let path = path.to_string_lossy().into_owned();
    let output = run(&mut authy2(&storage, &["users", "import", &path]));
    assert_eq!(output.status.code(), Some(1));
    let report = stderr(&output);
    for line in ["line 2:", "line 3:", "line 4:", "line 6:"] {
        assert!(report.contains(line), "{line} missing: {report}");
    }
    assert!(
        report.contains("Imported 2 account(s); skipped 0 existing; rejected 4"),
        "{report}"
    );

    let output = run(&mut authy2(&storage, &["users", "import", &path]));
    assert!(
        stderr(&output).contains("Imported 0 account(s); skipped 2 existing"),
        "{}",
        stderr(&output)
    );

    let database = open_database(&storage).await;
    let imported = database
        .store()
        .find_user_by_email("old.user@example.com")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(imported.email.as_str(), "Old.User@Example.com");
    assert_eq!(
        authy2::http::views::format_time(imported.created_at),
        "2020-01-02T03:04:05Z"
    );
    database.close().await;
}

#[tokio::test]
async fn audit_export_streams_json_lines() {
    let storage = TestStorage::create().await;
    let output = run(&mut authy2(&storage, &["seed"]));
    assert!(output.status.success(), "{}", stderr(&output));
    let output = run(&mut authy2(&storage, &["audit", "export"]));
    assert!(output.status.success(), "{}", stderr(&output));
    let lines: Vec<serde_json::Value> = stdout(&output)
        .lines()
        .map(|line| serde_json::from_str(line).expect("each line is JSON"))
        .collect();
    // 3 registrations, 2 organizations, 3 memberships added.
    assert_eq!(lines.len(), 8, "{}", stdout(&output));
    assert!(lines.iter().all(|event| event["action"].is_string()));

    let output = run(&mut authy2(
        &storage,
        &["audit", "export", "--since", "yesterday"],
    ));
    assert_eq!(output.status.code(), Some(2));

    let output = run(&mut authy2(&storage, &["audit", "purge"]));
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(stderr(&output).contains("Deleted 0 audit event(s)"));
}
