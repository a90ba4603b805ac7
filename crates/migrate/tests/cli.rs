//! `spingraph-migrate`, the migration image's program, run as built against the local
//! Postgres: the same commands and answers as `spingraph migrate` (host/tests/migrations.rs),
//! in a fresh database `spingraph_it_<uuid>` dropped at the end.

use std::process::{Command, Output};
use std::str::FromStr;

use sqlx::postgres::PgConnectOptions;
use sqlx::{AssertSqlSafe, ConnectOptions, Connection, Executor};

const BIN: &str = env!("CARGO_BIN_EXE_spingraph-migrate");

/// Server the test creates its database on (SPINGRAPH_TEST_PG_URL, else the one
/// ./dev chose: `spingraph_migrate::test_setting`).
fn server_url() -> String {
    spingraph_migrate::test_setting("SPINGRAPH_TEST_PG_URL")
        .unwrap_or_else(|| "postgres://postgres@127.0.0.1:5432".to_owned())
}

fn migrate(args: &[&str], database_url: &str) -> Output {
    Command::new(BIN)
        .args(args)
        .env("DATABASE_URL", database_url)
        .output()
        .expect("running spingraph-migrate")
}

fn stdout(out: &Output) -> String {
    assert!(
        out.status.success(),
        "exit {:?}\nstdout: {}\nstderr: {}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn drop_database(name: &str) {
    let url = format!("{}/postgres?sslmode=disable", server_url());
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let mut conn = PgConnectOptions::from_str(&url)
            .unwrap()
            .disable_statement_logging()
            .connect()
            .await
            .unwrap();
        conn.execute(AssertSqlSafe(format!(
            "DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"
        )))
        .await
        .unwrap();
        conn.close().await.ok();
    });
}

#[test]
fn the_migration_binary_creates_migrates_reports_and_reverts_a_database() {
    let name = format!("spingraph_it_{}", uuid::Uuid::new_v4().simple());
    let url = format!("{}/{name}?sslmode=disable", server_url());
    let expected = spingraph_migrate::expected_version();
    let outcome = std::panic::catch_unwind(|| {
        let up = stdout(&migrate(&["up"], &url));
        assert!(
            up.starts_with(&format!("created database {name}\n")),
            "{up}"
        );
        assert!(up.contains("applied  migrations/"), "{up}");
        assert!(
            up.ends_with(&format!("schema version {expected}\n")),
            "{up}"
        );

        let again = stdout(&migrate(&["up"], &url));
        assert_eq!(
            again,
            format!("no pending migrations\nschema version {expected}\n")
        );

        let status = stdout(&migrate(&["status"], &url));
        assert!(
            status.ends_with(&format!(
                "schema version {expected}, expected {expected}: 0 pending, 0 problem(s)\n"
            )),
            "{status}"
        );

        let down = stdout(&migrate(&["down", "--to", "0"], &url));
        assert!(down.ends_with("schema version 0\n"), "{down}");
    });
    drop_database(&name);
    if let Err(panic) = outcome {
        std::panic::resume_unwind(panic);
    }
}

#[test]
fn the_migration_binary_offers_exactly_the_migrate_commands() {
    let out = Command::new(BIN).arg("--help").output().unwrap();
    let help = stdout(&out);
    for command in ["up", "down", "status"] {
        assert!(
            help.lines()
                .any(|l| l.trim_start().starts_with(&format!("{command} "))),
            "{command} missing from:\n{help}"
        );
    }
    assert!(help.contains("--database-url"), "{help}");
}
