//! A PostgreSQL without pgvector (issue 28, item 7): `spingraph migrate up` and `spingraph up
//! --dev` on it fail, printing the retrieval migration's message and its HINT (what to install),
//! and nothing of that migration or after it is applied. The server is a throw-away cluster of
//! Debian's own binaries (`/usr/lib/postgresql/<major>/bin`: Debian 12 packages no pgvector, and
//! ./dev installs its `postgresql`); without them the test fails, it is not skipped.

use std::process::Command;
use std::time::Duration;

use spingraph_e2e::servers::{PostgresCluster, debian_bin_without_pgvector, has_pgvector};
use spingraph_e2e::{
    TestApp, TestDatabase, TestOptions, host_property, spingraph_bin, workspace_root,
};

/// The migration that creates the `vector` extension.
const RETRIEVAL: &str = "20261208100000_retrieval";

/// What the failure says: the migration, the server's message and its HINT.
const MESSAGES: &[&str] = &[
    "migration migrations/20261208100000_retrieval.up.sql failed; rolled back",
    "the pgvector extension is not installed on this PostgreSQL server: spingraph needs pgvector \
     0.8.0 or newer",
    "HINT: Install pgvector for this server (Debian/Ubuntu with the PGDG repository: apt-get \
     install postgresql-<major>-pgvector",
    "let ./dev start its own PostgreSQL with pgvector (README, \"PostgreSQL with pgvector\")",
];

/// The version of the migration just before the retrieval one (the migrations directory, sorted).
fn version_before_retrieval() -> i64 {
    let mut versions: Vec<i64> = std::fs::read_dir(workspace_root().join("migrations"))
        .unwrap()
        .filter_map(|e| {
            let name = e.unwrap().file_name().to_string_lossy().into_owned();
            let stem = name.strip_suffix(".up.sql")?;
            stem.split('_').next()?.parse().ok()
        })
        .collect();
    versions.sort();
    let retrieval: i64 = RETRIEVAL.split('_').next().unwrap().parse().unwrap();
    let at = versions
        .iter()
        .position(|v| *v == retrieval)
        .expect("the retrieval migration is in migrations/");
    assert!(at > 0, "the retrieval migration is not the first");
    versions[at - 1]
}

/// Every migration before the retrieval one is applied, nothing of it or after it: no row of
/// it in `_sqlx_migrations`, no `vector` extension, no table it makes.
fn assert_applied_up_to_before_retrieval(db: &TestDatabase) {
    let rows = db.query_json(
        "SELECT max(version) FILTER (WHERE success) AS applied, \
                count(*) FILTER (WHERE NOT success) AS failed, \
                (SELECT count(*) FROM pg_extension WHERE extname = 'vector') AS vector, \
                to_regclass('embedding_spaces') IS NULL AS no_spaces \
         FROM _sqlx_migrations",
    );
    let row = &rows[0];
    assert_eq!(row["applied"], version_before_retrieval(), "{rows}");
    assert_eq!(row["failed"], 0, "{rows}");
    assert_eq!(row["vector"], 0, "{rows}");
    assert_eq!(row["no_spaces"], true, "{rows}");
}

fn assert_names_what_to_install(output: &str) {
    for message in MESSAGES {
        assert!(output.contains(message), "no {message:?} in:\n{output}");
    }
}

#[test]
fn migrate_up_without_pgvector_says_what_to_install_and_applies_nothing_of_it() {
    let bin = debian_bin_without_pgvector();
    assert!(!has_pgvector(&bin), "{}", bin.display());
    let pg = PostgresCluster::start_from(&bin, &[]);
    let db = TestDatabase::in_server(&pg.maintenance_url(), false);

    let out = Command::new(spingraph_bin())
        .args(["migrate", "up", "--database-url", &db.url])
        .current_dir(workspace_root())
        .output()
        .expect("running spingraph migrate up");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stdout}{stderr}");
    assert_names_what_to_install(&stderr);
    // The migrations before it were applied and said so; the failed one was not.
    let before = format!("migrations/{}_", version_before_retrieval());
    assert!(
        stdout
            .lines()
            .any(|line| line.starts_with("applied ") && line.contains(&before)),
        "{stdout}"
    );
    assert!(!stdout.contains(RETRIEVAL), "{stdout}");
    assert_applied_up_to_before_retrieval(&db);

    // Run again, it fails the same way at the same migration.
    let again = Command::new(spingraph_bin())
        .args(["migrate", "up", "--database-url", &db.url])
        .output()
        .expect("running spingraph migrate up");
    assert_eq!(again.status.code(), Some(1));
    assert_names_what_to_install(&String::from_utf8_lossy(&again.stderr));
    assert_applied_up_to_before_retrieval(&db);
}

#[test]
fn up_dev_without_pgvector_exits_saying_what_to_install() {
    if !host_property("`up --dev` creates and migrates the database") {
        return;
    }
    let pg = PostgresCluster::start_from(&debian_bin_without_pgvector(), &[]);
    let db = TestDatabase::in_server(&pg.maintenance_url(), false);
    let exit = TestApp::run_to_exit(
        TestOptions::default()
            .host_arg("--dev")
            .variable("database_url", &db.url)
            .variable("postgres_host", &pg.host()),
        Duration::from_secs(60),
    );
    let status = exit
        .status
        .expect("`up --dev` was still running after 60 s");
    assert_eq!(status.code(), Some(1), "{}", exit.output);
    assert!(
        exit.output.contains("--dev: preparing the database"),
        "{}",
        exit.output
    );
    assert_names_what_to_install(&exit.output);
    assert_applied_up_to_before_retrieval(&db);
}
