//! `spingraph migrate` and `spingraph admin` run as the built binary against the
//! local Postgres (issue 3's "Must show" list). Every test works in its own fresh
//! database `spingraph_it_<uuid>`, dropped at the end.

use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};
use std::str::FromStr;

use sqlx::postgres::{PgConnectOptions, PgConnection};
use sqlx::{AssertSqlSafe, ConnectOptions, Connection, Executor};
use tokio::io::AsyncWriteExt;

const BIN: &str = env!("CARGO_BIN_EXE_spingraph");

/// Server the tests create their databases on (SPINGRAPH_TEST_PG_URL, else the one
/// ./dev chose: `spingraph_migrate::test_setting`).
fn server_url() -> String {
    spingraph_migrate::test_setting("SPINGRAPH_TEST_PG_URL")
        .unwrap_or_else(|| "postgres://postgres@127.0.0.1:5432".to_owned())
}

fn migrations_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../migrations")
}

/// The `.up.sql` files of the source tree, sorted: what the binary embeds.
fn up_files() -> Vec<String> {
    let mut files: Vec<String> = std::fs::read_dir(migrations_dir())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".up.sql"))
        .collect();
    files.sort();
    files
}

/// A database name reserved for one test; dropped (if it exists) on drop.
struct TestDb {
    name: String,
    url: String,
}

impl TestDb {
    /// Reserves a name; the database itself does not exist yet.
    fn reserve() -> Self {
        let name = format!("spingraph_it_{}", uuid::Uuid::new_v4().simple());
        let url = format!("{}/{name}?sslmode=disable", server_url());
        TestDb { name, url }
    }

    /// Reserves a name and applies every migration with `spingraph migrate up`.
    async fn migrated() -> Self {
        let db = Self::reserve();
        let out = spingraph(&["migrate", "up"], &db.url, None).await;
        assert_success(&out);
        db
    }

    async fn connect(&self) -> PgConnection {
        PgConnectOptions::from_str(&self.url)
            .unwrap()
            .disable_statement_logging()
            .connect()
            .await
            .unwrap()
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let name = self.name.clone();
        // Drop runs inside the test's runtime; a plain thread may block on its own.
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async {
                let url = format!("{}/postgres?sslmode=disable", server_url());
                if let Ok(mut conn) = PgConnectOptions::from_str(&url)
                    .unwrap()
                    .disable_statement_logging()
                    .connect()
                    .await
                {
                    let _ = conn
                        .execute(AssertSqlSafe(format!(
                            "DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"
                        )))
                        .await;
                }
            });
        })
        .join()
        .unwrap();
    }
}

/// Runs the built binary with `--database-url url` appended and `stdin` piped in.
async fn spingraph(args: &[&str], url: &str, stdin: Option<&str>) -> Output {
    let mut cmd = tokio::process::Command::new(BIN);
    cmd.args(args)
        .arg("--database-url")
        .arg(url)
        .env_remove("DATABASE_URL")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("spawning spingraph");
    let mut pipe = child.stdin.take().unwrap();
    if let Some(input) = stdin {
        // A process that refuses its arguments exits without reading stdin.
        if let Err(e) = pipe.write_all(input.as_bytes()).await {
            assert_eq!(
                e.kind(),
                std::io::ErrorKind::BrokenPipe,
                "writing stdin: {e}"
            );
        }
    }
    drop(pipe);
    child.wait_with_output().await.unwrap()
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn assert_success(out: &Output) {
    assert!(
        out.status.success(),
        "spingraph failed ({})\nstdout:\n{}\nstderr:\n{}",
        out.status,
        stdout(out),
        stderr(out)
    );
}

async fn lines(conn: &mut PgConnection, sql: &str) -> Vec<String> {
    sqlx::query_scalar::<_, String>(AssertSqlSafe(sql.to_owned()))
        .fetch_all(conn)
        .await
        .unwrap()
}

/// Tables, columns, constraints, indexes, functions and extensions of the
/// database, one line each, in a stable order.
async fn catalog_dump(conn: &mut PgConnection) -> String {
    let mut dump = Vec::new();
    dump.extend(
        lines(
            conn,
            "SELECT concat_ws(' | ', 'column', table_name, ordinal_position, column_name, data_type, udt_name, \
                    is_nullable, coalesce(column_default, '-'), coalesce(character_maximum_length::text, '-'))
             FROM information_schema.columns WHERE table_schema = 'public'
             ORDER BY table_name, ordinal_position",
        )
        .await,
    );
    dump.extend(
        lines(
            conn,
            "SELECT concat_ws(' | ', 'constraint', conrelid::regclass::text, conname, contype, pg_get_constraintdef(oid))
             FROM pg_constraint WHERE connamespace = 'public'::regnamespace
             ORDER BY conrelid::regclass::text, conname",
        )
        .await,
    );
    dump.extend(
        lines(
            conn,
            "SELECT concat_ws(' | ', 'index', tablename, indexname, indexdef)
             FROM pg_indexes WHERE schemaname = 'public' ORDER BY tablename, indexname",
        )
        .await,
    );
    dump.extend(
        lines(
            conn,
            "SELECT concat_ws(' | ', 'function', proname, pg_get_function_identity_arguments(oid),
                              pg_get_function_result(oid), md5(prosrc))
             FROM pg_proc WHERE pronamespace = 'public'::regnamespace
             ORDER BY 1",
        )
        .await,
    );
    dump.extend(
        lines(
            conn,
            "SELECT concat_ws(' | ', 'extension', extname, extversion) FROM pg_extension ORDER BY extname",
        )
        .await,
    );
    dump.join("\n")
}

async fn applied_versions(conn: &mut PgConnection) -> Vec<i64> {
    sqlx::query_scalar("SELECT version FROM _sqlx_migrations WHERE success ORDER BY version")
        .fetch_all(conn)
        .await
        .unwrap()
}

fn version_of(file: &str) -> &str {
    file.split('_').next().unwrap()
}

#[tokio::test]
async fn up_then_down_to_zero_then_up_rebuilds_the_identical_schema_and_status_reports_each_step() {
    let db = TestDb::reserve();
    let files = up_files();
    assert!(
        files.len() >= 5,
        "expected the migration set, found {files:?}"
    );

    // First `up` on a database that does not exist yet: it is created.
    let out = spingraph(&["migrate", "up"], &db.url, None).await;
    assert_success(&out);
    let text = stdout(&out);
    assert!(
        text.contains(&format!("created database {}", db.name)),
        "{text}"
    );
    for file in &files {
        assert!(
            text.contains(&format!("applied  migrations/{file}")),
            "{file} in:\n{text}"
        );
    }

    let status = stdout(&spingraph(&["migrate", "status"], &db.url, None).await);
    for file in &files {
        assert!(
            status.contains(&format!("applied  {}", version_of(file))),
            "{status}"
        );
    }
    assert!(status.contains("0 pending, 0 problem(s)"), "{status}");

    let mut conn = db.connect().await;
    let first = catalog_dump(&mut conn).await;
    for expected in [
        "entities_metadata_idx",
        "entities_name_trgm_idx",
        "relationships_active_key",
        "relationships_no_self_loop",
        "users_email_lower_key",
        "audit_log_resource_idx",
        "uuid_generate_v7",
        "extension | pg_trgm",
    ] {
        assert!(
            first.contains(expected),
            "{expected} missing from:\n{first}"
        );
    }

    // `down` without --to reverts exactly the newest migration.
    let last = files.last().unwrap();
    let out = spingraph(&["migrate", "down"], &db.url, None).await;
    assert_success(&out);
    let text = stdout(&out);
    assert!(
        text.contains(&format!(
            "reverted migrations/{}",
            last.replace(".up.", ".down.")
        )),
        "{text}"
    );
    assert_eq!(text.matches("reverted ").count(), 1, "{text}");
    let status = stdout(&spingraph(&["migrate", "status"], &db.url, None).await);
    assert!(
        status.contains(&format!("pending  {}", version_of(last))),
        "{status}"
    );
    assert!(status.contains("1 pending"), "{status}");

    // Down to zero: every migration reverted, nothing of the schema left.
    let out = spingraph(&["migrate", "down", "--to", "0"], &db.url, None).await;
    assert_success(&out);
    let text = stdout(&out);
    assert_eq!(text.matches("reverted ").count(), files.len() - 1, "{text}");
    assert!(text.contains("schema version 0"), "{text}");
    let status = stdout(&spingraph(&["migrate", "status"], &db.url, None).await);
    for file in &files {
        assert!(
            status.contains(&format!("pending  {}", version_of(file))),
            "{status}"
        );
    }
    let tables = lines(
        &mut conn,
        "SELECT tablename::text FROM pg_tables WHERE schemaname = 'public' ORDER BY 1",
    )
    .await;
    assert_eq!(tables, vec!["_sqlx_migrations".to_owned()]);
    let leftovers = lines(
        &mut conn,
        "SELECT proname::text FROM pg_proc WHERE pronamespace = 'public'::regnamespace
         UNION ALL SELECT extname::text FROM pg_extension WHERE extname <> 'plpgsql'
         UNION ALL SELECT typname::text FROM pg_type WHERE typnamespace = 'public'::regnamespace
                   AND typname NOT LIKE '%sqlx_migrations'",
    )
    .await;
    assert_eq!(leftovers, Vec::<String>::new(), "down left objects behind");
    assert!(applied_versions(&mut conn).await.is_empty());

    // Up again: the same schema as the first time.
    let out = spingraph(&["migrate", "up"], &db.url, None).await;
    assert_success(&out);
    assert_eq!(stdout(&out).matches("applied  ").count(), files.len());
    let second = catalog_dump(&mut conn).await;
    assert_eq!(first, second);

    // Nothing left to do: up is idempotent.
    let out = spingraph(&["migrate", "up"], &db.url, None).await;
    assert_success(&out);
    assert!(
        stdout(&out).contains("no pending migrations"),
        "{}",
        stdout(&out)
    );
    conn.close().await.unwrap();
}

#[tokio::test]
async fn down_to_an_unknown_version_is_refused() {
    let db = TestDb::migrated().await;
    let out = spingraph(&["migrate", "down", "--to", "123"], &db.url, None).await;
    assert!(!out.status.success());
    assert!(stderr(&out).contains("--to 123"), "{}", stderr(&out));
    let mut conn = db.connect().await;
    assert_eq!(applied_versions(&mut conn).await.len(), up_files().len());
}

#[tokio::test]
async fn two_concurrent_migrate_up_on_an_empty_database_both_succeed_and_apply_each_migration_once()
{
    let db = TestDb::reserve();
    let (a, b) = tokio::join!(
        spingraph(&["migrate", "up"], &db.url, None),
        spingraph(&["migrate", "up"], &db.url, None)
    );
    assert_success(&a);
    assert_success(&b);

    let files = up_files();
    let applied_lines =
        stdout(&a).matches("applied  ").count() + stdout(&b).matches("applied  ").count();
    assert_eq!(
        applied_lines,
        files.len(),
        "a:\n{}\nb:\n{}",
        stdout(&a),
        stdout(&b)
    );

    let mut conn = db.connect().await;
    let (rows, distinct): (i64, i64) =
        sqlx::query_as("SELECT count(*), count(DISTINCT version) FROM _sqlx_migrations")
            .fetch_one(&mut conn)
            .await
            .unwrap();
    assert_eq!(rows as usize, files.len());
    assert_eq!(distinct as usize, files.len());
    let versions: Vec<String> = applied_versions(&mut conn)
        .await
        .iter()
        .map(|v| v.to_string())
        .collect();
    let expected: Vec<String> = files.iter().map(|f| version_of(f).to_owned()).collect();
    assert_eq!(versions, expected);
}

#[tokio::test]
async fn editing_an_applied_migration_makes_up_fail_naming_the_file() {
    let db = TestDb::reserve();
    let dir = std::env::temp_dir().join(format!("spingraph-migrations-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    for entry in std::fs::read_dir(migrations_dir()).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), dir.join(entry.file_name())).unwrap();
    }
    let source = dir.to_str().unwrap();

    let out = spingraph(&["migrate", "--source", source, "up"], &db.url, None).await;
    assert_success(&out);

    let edited = up_files()
        .into_iter()
        .find(|f| f.contains("_entities."))
        .unwrap();
    let path = dir.join(&edited);
    let mut sql = std::fs::read_to_string(&path).unwrap();
    sql.push_str("\nCREATE INDEX entities_sneaky_idx ON entities (updated_at);\n");
    std::fs::write(&path, sql).unwrap();

    let out = spingraph(&["migrate", "--source", source, "up"], &db.url, None).await;
    assert!(
        !out.status.success(),
        "edited migration was accepted:\n{}",
        stdout(&out)
    );
    let err = stderr(&out);
    assert!(
        err.contains(&edited),
        "error does not name {edited}:\n{err}"
    );
    assert!(err.contains("changed since it was applied"), "{err}");

    let status =
        stdout(&spingraph(&["migrate", "--source", source, "status"], &db.url, None).await);
    assert!(status.contains("CHANGED"), "{status}");
    assert!(status.contains(&edited), "{status}");

    // The edit was not run.
    let mut conn = db.connect().await;
    let sneaky: bool = sqlx::query_scalar("SELECT to_regclass('entities_sneaky_idx') IS NOT NULL")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert!(!sneaky);
    std::fs::remove_dir_all(&dir).unwrap();
}

/// The SQLSTATE and constraint name of a statement the database must refuse.
async fn rejected(conn: &mut PgConnection, sql: &str) -> (String, String) {
    let err = conn
        .execute(AssertSqlSafe(sql.to_owned()))
        .await
        .expect_err(&format!("database accepted: {sql}"));
    let db_err = err.as_database_error().expect("a database error");
    (
        db_err.code().unwrap().into_owned(),
        db_err.constraint().unwrap_or_default().to_owned(),
    )
}

/// Asserts that the database refuses each statement with its `(SQLSTATE code, constraint)`.
async fn assert_rejected(conn: &mut PgConnection, refused: &[(String, (&str, &str))]) {
    for (sql, (code, constraint)) in refused {
        assert_eq!(
            rejected(conn, sql).await,
            (code.to_string(), constraint.to_string()),
            "{sql}"
        );
    }
}

#[tokio::test]
async fn database_rejects_dangling_source_bad_confidence_self_loops_and_duplicates() {
    let db = TestDb::migrated().await;
    let mut conn = db.connect().await;
    conn.execute(
        "INSERT INTO users (id, email, password_hash, role)
             VALUES ('00000000-0000-7000-8000-000000000001', 'Owner@Example.com', 'x', 'user');
         INSERT INTO entities (id, type, name, owner_id) VALUES
             ('00000000-0000-7000-8000-0000000000a1', 'person', 'Ada', '00000000-0000-7000-8000-000000000001'),
             ('00000000-0000-7000-8000-0000000000a2', 'person', 'Bob', '00000000-0000-7000-8000-000000000001');",
    )
    .await
    .unwrap();

    let relationship = |source: &str, target: &str, confidence: &str| {
        format!(
            "INSERT INTO relationships (source_id, target_id, type, confidence, created_by)
             VALUES ('{source}', '{target}', 'knows', {confidence}, '00000000-0000-7000-8000-000000000001')"
        )
    };
    let ada = "00000000-0000-7000-8000-0000000000a1";
    let bob = "00000000-0000-7000-8000-0000000000a2";
    let nobody = "00000000-0000-7000-8000-0000000000ff";

    let owner_insert = |columns: &str, values: &str| {
        format!(
            "INSERT INTO entities ({columns}, owner_id) \
             VALUES ({values}, '00000000-0000-7000-8000-000000000001')"
        )
    };
    let mut refused = vec![
        // A source or target id that does not exist.
        (
            relationship(nobody, bob, "0.5"),
            ("23503", "relationships_source_id_fkey"),
        ),
        (
            relationship(ada, nobody, "0.5"),
            ("23503", "relationships_target_id_fkey"),
        ),
    ];
    // Confidence outside 0..1, or not finite.
    for confidence in ["1.5", "-0.1", "'NaN'", "'Infinity'"] {
        refused.push((
            owner_insert(
                "type, name, confidence",
                &format!("'person', 'Eve', {confidence}"),
            ),
            ("23514", "entities_confidence_check"),
        ));
    }
    refused.extend([
        (
            relationship(ada, bob, "1.5"),
            ("23514", "relationships_confidence_check"),
        ),
        // A self-loop.
        (
            relationship(ada, ada, "0.5"),
            ("23514", "relationships_no_self_loop"),
        ),
        // Metadata that is not an object; an empty type; an owner that does not exist.
        (
            owner_insert("type, name, metadata", "'person', 'Eve', '[1,2]'"),
            ("23514", "entities_metadata_check"),
        ),
        (
            owner_insert("type, name", "'', 'Eve'"),
            ("23514", "entities_type_check"),
        ),
        (
            format!(
                "INSERT INTO entities (type, name, owner_id) VALUES ('person', 'Eve', '{nobody}')"
            ),
            ("23503", "entities_owner_id_fkey"),
        ),
    ]);
    assert_rejected(&mut conn, &refused).await;

    // One live edge per (source, target, type); a soft-deleted one frees the slot.
    conn.execute(AssertSqlSafe(relationship(ada, bob, "0.5")))
        .await
        .unwrap();
    assert_eq!(
        rejected(&mut conn, &relationship(ada, bob, "0.9")).await,
        ("23505".into(), "relationships_active_key".into())
    );
    conn.execute("UPDATE relationships SET deleted_at = now()")
        .await
        .unwrap();
    conn.execute(AssertSqlSafe(relationship(ada, bob, "0.9")))
        .await
        .unwrap();

    // Roles are admin|user; emails are unique whatever their case.
    assert_rejected(
        &mut conn,
        &[
            (
                "INSERT INTO users (email, password_hash, role) \
                 VALUES ('root@example.com', 'x', 'root')"
                    .to_string(),
                ("23514", "users_role_check"),
            ),
            (
                "INSERT INTO users (email, password_hash) VALUES ('owner@EXAMPLE.com', 'x')"
                    .to_string(),
                ("23505", "users_email_lower_key"),
            ),
        ],
    )
    .await;

    // Ids made by the database default are UUIDv7.
    let version: i32 = sqlx::query_scalar("SELECT get_byte(uuid_send(uuid_generate_v7()), 6) >> 4")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert_eq!(version, 7);
}

const SEED_100K: &str = "
INSERT INTO users (id, email, password_hash)
SELECT md5('user' || i)::uuid, 'user' || i || '@example.com', 'x' FROM generate_series(1, 500) i;

INSERT INTO entities (id, type, name, confidence, metadata, owner_id, created_at, updated_at, deleted_at)
SELECT md5('entity' || i)::uuid,
       'type_' || (i % 50),
       CASE WHEN i % 5000 = 0 THEN 'needle ' || i ELSE 'entity ' || md5(i::text) END,
       (i % 1000) / 1000.0,
       -- Few distinct documents, so ANALYZE keeps them as most-common values and the planner
       -- estimates containment from them (all-unique documents leave it a default guess).
       CASE WHEN i % 1000 = 0 THEN jsonb_build_object('source', 'crm')
            ELSE jsonb_build_object('source', 'import_' || (i % 20)) END,
       md5('user' || (i % 500 + 1))::uuid,
       timestamptz '2026-01-01' + i * interval '1 minute',
       timestamptz '2026-01-01' + i * interval '1 minute',
       CASE WHEN i % 97 = 0 THEN timestamptz '2026-06-01' END
FROM generate_series(1, 100000) i;

INSERT INTO relationships (source_id, target_id, type, created_by, created_at)
SELECT md5('entity' || i)::uuid,
       md5('entity' || (i % 100000 + 1))::uuid,
       'rel_' || (i % 10),
       md5('user1')::uuid,
       timestamptz '2026-01-01' + i * interval '1 minute'
FROM generate_series(1, 100000) i;
";

async fn plan(conn: &mut PgConnection, query: &str) -> String {
    lines(conn, &format!("EXPLAIN {query}")).await.join("\n")
}

#[tokio::test]
async fn list_queries_use_their_indexes_on_100k_rows() {
    let db = TestDb::migrated().await;
    let mut conn = db.connect().await;
    conn.execute(SEED_100K).await.unwrap();
    // After the seed committed, so the statistics see every row.
    conn.execute("ANALYZE").await.unwrap();
    let count: i64 = sqlx::query_scalar("SELECT count(*) FROM entities")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert_eq!(count, 100_000);

    let owner = "md5('user7')::uuid";
    let entity = "md5('entity4242')::uuid";
    let page = "ORDER BY created_at DESC, id DESC LIMIT 51";
    let cases = [
        (
            "by type",
            format!("SELECT * FROM entities WHERE deleted_at IS NULL AND type = 'type_7' {page}"),
            vec!["entities_type_idx"],
        ),
        (
            "by owner",
            format!("SELECT * FROM entities WHERE deleted_at IS NULL AND owner_id = {owner} {page}"),
            vec!["entities_owner_id_idx"],
        ),
        (
            "newest first",
            format!("SELECT * FROM entities WHERE deleted_at IS NULL {page}"),
            vec!["entities_created_at_idx"],
        ),
        (
            "created_after/created_before with a cursor",
            format!(
                "SELECT * FROM entities WHERE deleted_at IS NULL
                   AND created_at > '2026-02-01' AND created_at < '2026-02-10'
                   AND (created_at, id) < ('2026-02-05', 'ffffffff-ffff-ffff-ffff-ffffffffffff') {page}"
            ),
            vec!["entities_created_at_idx"],
        ),
        (
            "sort by name",
            "SELECT * FROM entities WHERE deleted_at IS NULL ORDER BY name, id LIMIT 51".to_owned(),
            vec!["entities_name_idx"],
        ),
        (
            "min_confidence, sort by confidence",
            "SELECT * FROM entities WHERE deleted_at IS NULL AND confidence >= 0.5
             ORDER BY confidence DESC, id DESC LIMIT 51"
                .to_owned(),
            vec!["entities_confidence_idx"],
        ),
        (
            "metadata containment",
            format!(
                "SELECT * FROM entities WHERE deleted_at IS NULL AND metadata @> '{{\"source\":\"crm\"}}' {page}"
            ),
            vec!["entities_metadata_idx"],
        ),
        (
            "name search q",
            format!("SELECT * FROM entities WHERE deleted_at IS NULL AND name ILIKE '%needle%' {page}"),
            vec!["entities_name_trgm_idx"],
        ),
        (
            "relationships by source",
            format!("SELECT * FROM relationships WHERE deleted_at IS NULL AND source_id = {entity} {page}"),
            vec!["relationships_source_"],
        ),
        (
            "relationships by target",
            format!("SELECT * FROM relationships WHERE deleted_at IS NULL AND target_id = {entity} {page}"),
            vec!["relationships_target_"],
        ),
        (
            "relationships by either end",
            format!(
                "SELECT * FROM relationships WHERE deleted_at IS NULL
                   AND (source_id = {entity} OR target_id = {entity}) {page}"
            ),
            // either index of each end: `(end, created_at, id)` or `(end, type, created_at, id)`
            vec!["relationships_source_", "relationships_target_"],
        ),
        (
            "relationships of an end by type",
            format!(
                "SELECT * FROM relationships WHERE deleted_at IS NULL AND source_id = {entity}
                   AND type COLLATE \"C\" = 'rel_3' {page}"
            ),
            vec!["relationships_source_type_idx"],
        ),
        (
            "relationships by confidence",
            "SELECT * FROM relationships WHERE deleted_at IS NULL \
             ORDER BY confidence DESC, id DESC LIMIT 51"
                .to_string(),
            vec!["relationships_confidence_idx"],
        ),
        (
            "relationships in type order",
            "SELECT * FROM relationships WHERE deleted_at IS NULL ORDER BY type, id LIMIT 51"
                .to_string(),
            vec!["relationships_type_id_idx"],
        ),
        (
            "relationships by type",
            format!("SELECT * FROM relationships WHERE deleted_at IS NULL AND type = 'rel_3' {page}"),
            vec!["relationships_type_idx"],
        ),
    ];

    let mut failures = Vec::new();
    for (what, query, indexes) in &cases {
        let plan = plan(&mut conn, query).await;
        let uses_index = plan.contains("Index Scan") || plan.contains("Index Only Scan");
        if !uses_index || indexes.iter().any(|index| !plan.contains(index)) {
            failures.push(format!("{what}: expected {indexes:?}\n{query}\n{plan}"));
        }
        assert!(
            !plan.contains("Seq Scan"),
            "{what} scans the table:\n{plan}"
        );
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// `spingraph admin create-user --email <email> --role <role>`, then `extra`, with `password`
/// and a newline on stdin.
async fn create_user(
    db: &TestDb,
    email: &str,
    role: &str,
    extra: &[&str],
    password: &str,
) -> Output {
    let mut args = vec!["admin", "create-user", "--email", email, "--role", role];
    args.extend_from_slice(extra);
    spingraph(&args, &db.url, Some(&format!("{password}\n"))).await
}

#[tokio::test]
async fn admin_create_user_stores_a_hash_the_shared_password_code_verifies() {
    let db = TestDb::migrated().await;
    let password = "correct horse battery staple";
    let out = create_user(&db, "Root@Example.com", "admin", &[], password).await;
    assert_success(&out);
    assert!(!stdout(&out).contains(password) && !stderr(&out).contains(password));

    let mut conn = db.connect().await;
    let (id, email, role, hash, active): (String, String, String, String, bool) =
        sqlx::query_as("SELECT id::text, email, role, password_hash, active FROM users")
            .fetch_one(&mut conn)
            .await
            .unwrap();
    assert_eq!(
        email, "root@example.com",
        "stored lowercased, as the auth component does"
    );
    assert_eq!(role, "admin");
    assert!(active);
    assert!(spingraph_password::verify(password, &hash));
    assert!(!spingraph_password::verify(
        "correct horse battery stapler",
        &hash
    ));
    assert!(!spingraph_password::needs_rehash(&hash));
    assert_eq!(uuid::Uuid::parse_str(&id).unwrap().get_version_num(), 7);
    assert!(stdout(&out).contains(&id), "{}", stdout(&out));

    let audit: Vec<(Option<String>, String, String, String)> = sqlx::query_as(
        "SELECT actor_id::text, action, resource_type, resource_id::text FROM audit_log",
    )
    .fetch_all(&mut conn)
    .await
    .unwrap();
    assert_eq!(
        audit,
        vec![(
            None,
            "user.create".to_owned(),
            "user".to_owned(),
            id.clone()
        )]
    );

    // The same address in another case is the same account.
    let out = create_user(&db, "root@example.COM", "user", &[], password).await;
    assert!(!out.status.success());
    assert!(stderr(&out).contains("already exists"), "{}", stderr(&out));
}

async fn user_and_audit_rows(db: &TestDb) -> (i64, i64) {
    let mut conn = db.connect().await;
    sqlx::query_as("SELECT (SELECT count(*) FROM users), (SELECT count(*) FROM audit_log)")
        .fetch_one(&mut conn)
        .await
        .unwrap()
}

#[tokio::test]
async fn admin_create_user_refuses_a_password_on_the_command_line_and_creates_nothing() {
    let db = TestDb::migrated().await;
    for flag in [
        vec!["--password", "correct horse battery staple"],
        vec!["--password=correct horse battery staple"],
        vec!["-p", "correct horse battery staple"],
    ] {
        let out = create_user(
            &db,
            "a@example.com",
            "admin",
            &flag,
            "another good password",
        )
        .await;
        assert!(!out.status.success(), "{flag:?} was accepted");
        assert_eq!(user_and_audit_rows(&db).await, (0, 0), "{flag:?}");
    }
}

#[tokio::test]
async fn admin_create_user_rejects_a_weak_password_and_creates_nothing() {
    let db = TestDb::migrated().await;
    for (password, why) in [
        ("too short", "at least 12"),
        ("a@example.com", "email"),
        ("", "no password"),
    ] {
        let out = create_user(&db, "a@example.com", "user", &[], password).await;
        assert!(!out.status.success(), "{password:?} was accepted");
        assert!(stderr(&out).contains(why), "{password:?}: {}", stderr(&out));
    }
    assert_eq!(user_and_audit_rows(&db).await, (0, 0));
}

/// Natural keys per owner (issue 25, 5b): two owners may hold one `(type, external_id)`; the
/// `down` of that migration cannot keep both under the old global index, so it refuses and
/// changes nothing until they no longer do.
#[tokio::test]
async fn natural_keys_down_refuses_while_two_owners_hold_one_key() {
    const PER_OWNER: i64 = 20261206131000;
    let db = TestDb::migrated().await;
    let mut conn = db.connect().await;
    conn.execute(
        "INSERT INTO users (id, email, password_hash, role) VALUES
             ('00000000-0000-7000-8000-000000000001', 'ada@example.com', 'x', 'user'),
             ('00000000-0000-7000-8000-000000000002', 'bob@example.com', 'x', 'user');
         INSERT INTO entities (id, type, name, owner_id, external_id) VALUES
             ('00000000-0000-7000-8000-0000000000a1', 'company', 'Acme', '00000000-0000-7000-8000-000000000001', 'crm-1'),
             ('00000000-0000-7000-8000-0000000000b1', 'company', 'Fake', '00000000-0000-7000-8000-000000000002', 'crm-1');",
    )
    .await
    .unwrap();
    let key_index = "SELECT indexdef FROM pg_indexes WHERE indexname = 'entities_external_id_key'";
    let per_owner = lines(&mut conn, key_index).await;
    assert!(
        per_owner[0].contains("(owner_id, type, external_id)"),
        "{per_owner:?}"
    );

    // The migration before it (later ones, if any, are reverted too).
    let before = "20261206120000";
    let out = spingraph(&["migrate", "down", "--to", before], &db.url, None).await;
    assert!(!out.status.success(), "{}", stdout(&out));
    assert!(
        stderr(&out).contains("held by live entities of several owners"),
        "{}",
        stderr(&out)
    );
    assert!(applied_versions(&mut conn).await.contains(&PER_OWNER));
    assert_eq!(lines(&mut conn, key_index).await, per_owner);

    // Once one owner's key is gone, the old index holds the rest.
    conn.execute(
        "UPDATE entities SET external_id = NULL WHERE id = '00000000-0000-7000-8000-0000000000b1'",
    )
    .await
    .unwrap();
    let out = spingraph(&["migrate", "down", "--to", before], &db.url, None).await;
    assert_success(&out);
    assert!(!applied_versions(&mut conn).await.contains(&PER_OWNER));
    let global = lines(&mut conn, key_index).await;
    assert!(global[0].contains("(type, external_id)"), "{global:?}");
    assert!(!global[0].contains("owner_id"), "{global:?}");
}
