//! Applies and reverts the SQL files in `migrations/` (built into the binary) with
//! sqlx's migrator — checksummed, one transaction per migration, serialized by a
//! Postgres advisory lock. Behind `spingraph migrate up | down | status`, `up --dev`
//! and the migration image's `spingraph-migrate` (no host, no wasmtime).

use std::path::PathBuf;
use std::str::FromStr;

use anyhow::{Context, bail};
use sqlx::migrate::{Migrate, MigrateError, Migration, MigrationType, Migrator};
use sqlx::postgres::{PgConnectOptions, PgConnection, PgDatabaseError};
use sqlx::{AssertSqlSafe, ConnectOptions, Connection, Executor};

/// The migration set this binary was built with.
static EMBEDDED: Migrator = sqlx::migrate!("../../migrations");

/// Table sqlx keeps the applied migrations in (the health check reads it too).
const TABLE: &str = "_sqlx_migrations";

pub const DEFAULT_DATABASE_URL: &str =
    "postgres://postgres@127.0.0.1:5432/spingraph?sslmode=disable";

/// Advisory-lock key serializing `CREATE DATABASE` between concurrent runners
/// (taken in the maintenance database; sqlx's own lock lives in the target one).
const CREATE_DATABASE_LOCK: i64 = 0x5350_4947_5241_5048; // "SPIGRAPH"

/// For tests: the setting `name` (`SPINGRAPH_TEST_PG_URL`, `SPINGRAPH_TEST_DATABASE_URL`,
/// `SPINGRAPH_TEST_PG_BIN`) from the environment, else from the `target/dev-postgres.env` that
/// `./dev` writes when it chooses the PostgreSQL with pgvector of this checkout (README,
/// "PostgreSQL with pgvector"), so a `cargo test` run by hand uses the same server.
#[doc(hidden)]
pub fn test_setting(name: &str) -> Option<String> {
    if let Some(value) = std::env::var(name).ok().filter(|v| !v.is_empty()) {
        return Some(value);
    }
    let file = concat!(env!("CARGO_MANIFEST_DIR"), "/../../target/dev-postgres.env");
    let text = std::fs::read_to_string(file).ok()?;
    text.lines()
        .filter_map(|line| line.split_once('='))
        .find(|(key, _)| key.trim() == name)
        .map(|(_, value)| value.trim().to_owned())
        .filter(|value| !value.is_empty())
}

/// The arguments of `spingraph migrate` and of `spingraph-migrate`: the same CLI.
#[derive(clap::Args)]
pub struct MigrateArgs {
    /// Postgres connection string of the spingraph database.
    #[arg(long, env = "DATABASE_URL", hide_env_values = true, default_value = DEFAULT_DATABASE_URL, global = true)]
    database_url: String,
    /// Read migrations from this directory at run time instead of the set built into the binary.
    #[arg(long, value_name = "DIR", global = true)]
    source: Option<PathBuf>,
    #[command(subcommand)]
    command: MigrateCommand,
}

#[derive(clap::Subcommand)]
enum MigrateCommand {
    /// Create the database if missing and apply every pending migration.
    Up,
    /// Revert the latest applied migration, or every one newer than --to.
    Down {
        /// Revert down to this version (it stays applied); 0 reverts everything.
        #[arg(long, value_name = "VERSION")]
        to: Option<i64>,
    },
    /// List every migration and whether it is applied.
    Status,
}

/// Runs one `migrate` command, printing what it did on stdout.
pub fn run(args: MigrateArgs) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(async {
        let set = match &args.source {
            Some(dir) => MigrationSet::from_dir(dir.clone()).await?,
            None => MigrationSet::embedded(),
        };
        let print = |line: &str| println!("{line}");
        match args.command {
            MigrateCommand::Up => {
                if create_database_if_missing(&args.database_url).await? {
                    print(&format!(
                        "created database {}",
                        database_name(&args.database_url)?
                    ));
                }
                let mut conn = connect(&args.database_url).await?;
                up(&mut conn, &set, &print).await?;
                conn.close().await.ok();
            }
            MigrateCommand::Down { to } => {
                let mut conn = connect(&args.database_url).await?;
                down(&mut conn, &set, to, &print).await?;
                conn.close().await.ok();
            }
            MigrateCommand::Status => {
                let mut conn = connect(&args.database_url).await?;
                status(&mut conn, &set, &print).await?;
                conn.close().await.ok();
            }
        }
        Ok(())
    })
}

/// The database role a component group's connection-string variable connects as:
/// `<group>_database_url` is role `spingraph_<group>` (the migrations make the roles:
/// `20261202110000_component_roles`, `20261207150000_reports_role`). A convention, not a list,
/// so a plugin with a role of its own (docs/plugins.md) needs no change to `up --dev` or to the
/// test harness, which both derive the URLs by it. `None` for any other name, and for the
/// owner's `database_url` itself.
pub fn group_role(variable: &str) -> Option<String> {
    let group = variable.strip_suffix("_database_url")?;
    let valid = !group.is_empty()
        && group
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
    valid.then(|| format!("spingraph_{group}"))
}

/// The schema version this binary expects: the newest migration built into it.
pub fn expected_version() -> i64 {
    EMBEDDED.iter().map(|m| m.version).max().unwrap_or(0)
}

/// `spingraph up --dev`: creates the database when it does not exist (safe when
/// several processes race), then applies the pending built-in migrations.
pub async fn ensure_database_and_migrate(database_url: &str) -> anyhow::Result<()> {
    let log = |line: &str| tracing::info!(target: "spingraph::migrate", "{line}");
    if create_database_if_missing(database_url).await? {
        log(&format!(
            "created database {}",
            database_name(database_url)?
        ));
    }
    let mut conn = connect(database_url).await?;
    up(&mut conn, &MigrationSet::embedded(), &log).await?;
    let current = current_version(&mut conn).await?;
    conn.close().await.ok();
    anyhow::ensure!(
        current == expected_version(),
        "database schema is at version {current}, this binary expects {}",
        expected_version()
    );
    Ok(())
}

/// Migrations plus where they came from, so errors can name the file.
struct MigrationSet {
    migrations: Vec<Migration>,
    origin: String,
}

impl MigrationSet {
    fn embedded() -> Self {
        MigrationSet {
            migrations: EMBEDDED.iter().cloned().collect(),
            origin: "migrations".to_owned(),
        }
    }

    async fn from_dir(dir: PathBuf) -> anyhow::Result<Self> {
        let origin = dir.display().to_string();
        let migrator = Migrator::new(dir)
            .await
            .with_context(|| format!("reading migrations from {origin}"))?;
        Ok(MigrationSet {
            migrations: migrator.iter().cloned().collect(),
            origin,
        })
    }

    fn ups(&self) -> impl Iterator<Item = &Migration> {
        self.migrations
            .iter()
            .filter(|m| m.migration_type.is_up_migration())
    }

    fn up_migration(&self, version: i64) -> Option<&Migration> {
        self.ups().find(|m| m.version == version)
    }

    fn down_migration(&self, version: i64) -> Option<&Migration> {
        self.migrations
            .iter()
            .find(|m| m.version == version && m.migration_type == MigrationType::ReversibleDown)
    }

    /// `migrations/20261128170001_extensions_and_users.up.sql`, as sqlx-cli names it.
    fn path(&self, migration: &Migration) -> String {
        format!(
            "{}/{}_{}{}",
            self.origin.trim_end_matches('/'),
            migration.version,
            migration.description.replace(' ', "_"),
            migration.migration_type.suffix()
        )
    }

    fn label(&self, version: i64) -> String {
        match self.up_migration(version) {
            Some(m) => format!("{} {}", m.version, m.description),
            None => version.to_string(),
        }
    }
}

fn connect_options(database_url: &str) -> anyhow::Result<PgConnectOptions> {
    Ok(PgConnectOptions::from_str(database_url)
        .context("parsing the database URL")?
        .disable_statement_logging())
}

fn database_name(database_url: &str) -> anyhow::Result<String> {
    let options = connect_options(database_url)?;
    Ok(options
        .get_database()
        .unwrap_or(options.get_username())
        .to_owned())
}

async fn connect(database_url: &str) -> anyhow::Result<PgConnection> {
    let options = connect_options(database_url)?;
    let name = database_name(database_url)?;
    options.connect().await.with_context(|| {
        format!(
            "connecting to database {name} at {}:{}",
            options.get_host(),
            options.get_port()
        )
    })
}

fn db_error_code(err: &sqlx::Error) -> Option<String> {
    err.as_database_error()
        .and_then(|e| e.code())
        .map(|c| c.into_owned())
}

/// Creates the database named in the URL when it does not exist, connecting to
/// the server's `postgres` database to do so. Returns whether it created it.
async fn create_database_if_missing(database_url: &str) -> anyhow::Result<bool> {
    let name = database_name(database_url)?;
    match connect_options(database_url)?.connect().await {
        Ok(conn) => {
            conn.close().await.ok();
            return Ok(false);
        }
        // 3D000 invalid_catalog_name: the database does not exist.
        Err(err) if db_error_code(&err).as_deref() == Some("3D000") => {}
        Err(err) => {
            return Err(err).with_context(|| format!("connecting to database {name}"));
        }
    }

    let maintenance = if name == "postgres" {
        "template1"
    } else {
        "postgres"
    };
    let mut conn = connect_options(database_url)?
        .database(maintenance)
        .connect()
        .await
        .with_context(|| format!("connecting to the {maintenance} database to create {name}"))?;
    sqlx::query("SELECT pg_advisory_lock($1)")
        .bind(CREATE_DATABASE_LOCK)
        .execute(&mut conn)
        .await?;
    let created = async {
        let exists: bool =
            sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)")
                .bind(&name)
                .fetch_one(&mut conn)
                .await?;
        if exists {
            return Ok(false);
        }
        let create = format!("CREATE DATABASE \"{}\"", name.replace('"', "\"\""));
        match conn.execute(AssertSqlSafe(create)).await {
            Ok(_) => Ok(true),
            // Someone outside our lock created it first: fine.
            Err(err) if matches!(db_error_code(&err).as_deref(), Some("42P04" | "23505")) => {
                Ok(false)
            }
            Err(err) => Err(anyhow::Error::new(err).context(format!("creating database {name}"))),
        }
    }
    .await;
    sqlx::query("SELECT pg_advisory_unlock($1)")
        .bind(CREATE_DATABASE_LOCK)
        .execute(&mut conn)
        .await
        .ok();
    conn.close().await.ok();
    created
}

/// Runs `work` holding sqlx's migration advisory lock on this database.
async fn locked<T>(
    conn: &mut PgConnection,
    work: impl AsyncFnOnce(&mut PgConnection) -> anyhow::Result<T>,
) -> anyhow::Result<T> {
    conn.lock()
        .await
        .context("taking the migration advisory lock")?;
    let result = work(conn).await;
    let unlocked = conn.unlock().await;
    let value = result?;
    unlocked.context("releasing the migration advisory lock")?;
    Ok(value)
}

/// Checks the applied migrations against the set: none failed half-way, none
/// unknown, none edited since it was applied. Returns the applied versions.
async fn check_applied(conn: &mut PgConnection, set: &MigrationSet) -> anyhow::Result<Vec<i64>> {
    conn.ensure_migrations_table(TABLE).await?;
    if let Some(version) = conn.dirty_version(TABLE).await? {
        bail!(
            "migration {} failed part-way earlier and is marked unsuccessful in {TABLE}; \
             repair the schema by hand and delete that row",
            set.label(version)
        );
    }
    let applied = conn.list_applied_migrations(TABLE).await?;
    for applied in &applied {
        let Some(migration) = set.up_migration(applied.version) else {
            bail!(
                "migration {} is applied to the database but missing from {}; \
                 is this binary older than the database?",
                applied.version,
                set.origin
            );
        };
        if migration.checksum != applied.checksum {
            bail!(
                "migration {} has changed since it was applied to this database (checksum mismatch); \
                 restore the file as applied and put the change in a new migration",
                set.path(migration)
            );
        }
    }
    Ok(applied.into_iter().map(|m| m.version).collect())
}

fn explain(set: &MigrationSet, migration: &Migration, err: MigrateError) -> anyhow::Error {
    let path = set.path(migration);
    match err {
        MigrateError::ExecuteMigration(source, _) => {
            let context = format!("migration {path} failed; rolled back");
            match with_detail_and_hint(&source) {
                Some(text) => anyhow::anyhow!(text).context(context),
                None => anyhow::Error::new(source).context(context),
            }
        }
        other => anyhow::Error::new(other).context(format!("running migration {path}")),
    }
}

/// A server error's message followed by its DETAIL and HINT lines, as psql prints them (sqlx's
/// Display gives the message alone: a migration's `RAISE ... USING HINT` saying what to install
/// would be lost); `None` for an error with neither, or one that is not the server's.
fn with_detail_and_hint(err: &sqlx::Error) -> Option<String> {
    let pg = err
        .as_database_error()?
        .try_downcast_ref::<PgDatabaseError>()?;
    if pg.detail().is_none() && pg.hint().is_none() {
        return None;
    }
    let mut text = pg.message().to_owned();
    if let Some(detail) = pg.detail() {
        text.push_str(&format!("\nDETAIL: {detail}"));
    }
    if let Some(hint) = pg.hint() {
        text.push_str(&format!("\nHINT: {hint}"));
    }
    Some(text)
}

async fn current_version(conn: &mut PgConnection) -> anyhow::Result<i64> {
    let version: Option<i64> = sqlx::query_scalar(AssertSqlSafe(format!(
        "SELECT max(version) FROM {TABLE} WHERE success"
    )))
    .fetch_one(conn)
    .await?;
    Ok(version.unwrap_or(0))
}

/// Applies every pending migration in order, each in its own transaction.
async fn up(conn: &mut PgConnection, set: &MigrationSet, out: &dyn Fn(&str)) -> anyhow::Result<()> {
    locked(conn, async |conn| {
        let applied = check_applied(conn, set).await?;
        let pending = set.ups().filter(|m| !applied.contains(&m.version));
        run_each(conn, set, pending.map(Ok), false, out).await
    })
    .await
}

/// Reverts the newest applied migration, or all applied ones newer than `to`.
async fn down(
    conn: &mut PgConnection,
    set: &MigrationSet,
    to: Option<i64>,
    out: &dyn Fn(&str),
) -> anyhow::Result<()> {
    if let Some(to) = to
        && (to < 0 || (to != 0 && set.up_migration(to).is_none()))
    {
        bail!(
            "--to {to}: no migration with that version in {} (use 0 to revert everything)",
            set.origin
        );
    }
    locked(conn, async |conn| {
        let mut applied = check_applied(conn, set).await?;
        applied.sort_unstable_by(|a, b| b.cmp(a));
        let revert: Vec<i64> = match to {
            None => applied.into_iter().take(1).collect(),
            Some(to) => applied.into_iter().filter(|v| *v > to).collect(),
        };
        // Looked up as each one's turn comes: a missing .down.sql stops the run there.
        let downs = revert.into_iter().map(|version| {
            set.down_migration(version).ok_or_else(|| {
                anyhow::anyhow!(
                    "migration {} has no .down.sql in {}; it cannot be reverted",
                    set.label(version),
                    set.origin
                )
            })
        });
        run_each(conn, set, downs, true, out).await
    })
    .await
}

/// Applies (or with `revert`, reverts) each of `migrations` in order, each in its own
/// transaction, printing it with its time, or that there was none, and then the schema version.
/// The first `Err`, a migration's or its step's, ends the run there.
async fn run_each<'s>(
    conn: &mut PgConnection,
    set: &'s MigrationSet,
    migrations: impl IntoIterator<Item = anyhow::Result<&'s Migration>>,
    revert: bool,
    out: &dyn Fn(&str),
) -> anyhow::Result<()> {
    let mut ran = 0;
    for migration in migrations {
        let migration = migration?;
        let (done, step) = if revert {
            ("reverted", conn.revert(TABLE, migration))
        } else {
            ("applied ", conn.apply(TABLE, migration))
        };
        let elapsed = step.await.map_err(|err| explain(set, migration, err))?;
        out(&format!(
            "{done} {} ({} ms)",
            set.path(migration),
            elapsed.as_millis()
        ));
        ran += 1;
    }
    if ran == 0 {
        out(if revert {
            "nothing to revert"
        } else {
            "no pending migrations"
        });
    }
    out(&format!("schema version {}", current_version(conn).await?));
    Ok(())
}

/// Prints one line per migration: applied (when), pending, changed or failed.
async fn status(
    conn: &mut PgConnection,
    set: &MigrationSet,
    out: &dyn Fn(&str),
) -> anyhow::Result<()> {
    let exists: bool = sqlx::query_scalar("SELECT to_regclass($1) IS NOT NULL")
        .bind(TABLE)
        .fetch_one(&mut *conn)
        .await?;
    let rows: Vec<(i64, Vec<u8>, bool, String)> = if exists {
        sqlx::query_as(AssertSqlSafe(format!(
            "SELECT version, checksum, success, \
                    to_char(installed_on AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') \
             FROM {TABLE} ORDER BY version"
        )))
        .fetch_all(&mut *conn)
        .await?
    } else {
        Vec::new()
    };

    let mut pending = 0;
    let mut problems = 0;
    for migration in set.ups() {
        let name = format!("{} {}", migration.version, migration.description);
        match rows.iter().find(|r| r.0 == migration.version) {
            None => {
                pending += 1;
                out(&format!("pending  {name}"));
            }
            Some((_, _, false, _)) => {
                problems += 1;
                out(&format!("FAILED   {name}"));
            }
            Some((_, checksum, true, _)) if *checksum != *migration.checksum => {
                problems += 1;
                out(&format!(
                    "CHANGED  {name} (edited after it was applied: {})",
                    set.path(migration)
                ));
            }
            Some((_, _, true, at)) => out(&format!("applied  {name} at {at}")),
        }
    }
    for (version, ..) in rows.iter().filter(|r| set.up_migration(r.0).is_none()) {
        problems += 1;
        out(&format!(
            "UNKNOWN  {version} (applied, missing from {})",
            set.origin
        ));
    }
    let current = rows.iter().filter(|r| r.2).map(|r| r.0).max().unwrap_or(0);
    let expected = set.ups().map(|m| m.version).max().unwrap_or(0);
    out(&format!(
        "schema version {current}, expected {expected}: {pending} pending, {problems} problem(s)"
    ));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_group_url_variable_names_its_role_and_nothing_else_does() {
        for (variable, role) in [
            ("auth_database_url", "spingraph_auth"),
            ("data_database_url", "spingraph_data"),
            ("health_database_url", "spingraph_health"),
            ("reports_database_url", "spingraph_reports"),
            ("my_plugin2_database_url", "spingraph_my_plugin2"),
        ] {
            assert_eq!(group_role(variable).as_deref(), Some(role), "{variable}");
        }
        for other in [
            "database_url",
            "_database_url",
            "data_redis_url",
            "Data_database_url",
            "da-ta_database_url",
            "data_database_url_x",
        ] {
            assert_eq!(group_role(other), None, "{other}");
        }
    }

    /// Needs a local Postgres with pgvector (as every data test does): SPINGRAPH_TEST_PG_URL,
    /// else the one ./dev chose ([`test_setting`]), else 127.0.0.1:5432.
    fn server_url() -> String {
        test_setting("SPINGRAPH_TEST_PG_URL")
            .unwrap_or_else(|| "postgres://postgres@127.0.0.1:5432".to_owned())
    }

    #[test]
    fn embedded_set_is_reversible_and_expected_version_is_its_newest() {
        let set = MigrationSet::embedded();
        assert!(set.ups().count() >= 5);
        for up in set.ups() {
            assert_eq!(up.migration_type, MigrationType::ReversibleUp);
            assert!(set.down_migration(up.version).is_some(), "{}", set.path(up));
            assert_eq!(up.version.to_string().len(), 14, "{}", set.path(up));
        }
        assert_eq!(
            expected_version(),
            set.ups().map(|m| m.version).max().unwrap()
        );
        let first = set.ups().next().unwrap();
        assert_eq!(
            set.path(first),
            "migrations/20261128170001_extensions_and_users.up.sql"
        );
    }

    #[tokio::test]
    async fn ensure_database_and_migrate_creates_the_database_once_when_raced() {
        let name = format!("spingraph_it_{}", uuid::Uuid::new_v4().simple());
        let url = format!("{}/{name}?sslmode=disable", server_url());
        let (a, b) = tokio::join!(
            ensure_database_and_migrate(&url),
            ensure_database_and_migrate(&url)
        );
        let outcome = async {
            a?;
            b?;
            // Idempotent once at the expected version.
            ensure_database_and_migrate(&url).await?;
            let mut conn = connect(&url).await?;
            let version = current_version(&mut conn).await?;
            let rows: i64 = sqlx::query_scalar("SELECT count(*) FROM _sqlx_migrations")
                .fetch_one(&mut conn)
                .await?;
            conn.close().await.ok();
            anyhow::Ok((version, rows))
        }
        .await;

        let mut admin = connect_options(&url)
            .unwrap()
            .database("postgres")
            .connect()
            .await
            .unwrap();
        admin
            .execute(AssertSqlSafe(format!(
                "DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"
            )))
            .await
            .unwrap();

        let (version, rows) = outcome.unwrap();
        assert_eq!(version, expected_version());
        assert_eq!(rows as usize, MigrationSet::embedded().ups().count());
    }
}
