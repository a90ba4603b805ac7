//! End-to-end test harness: a [`TestApp`] is one running host (`spingraph up`, or the command in
//! `SPINGRAPH_HOST_CMD`) on a free 127.0.0.1 port, against a fresh, migrated database of its own.
//! It builds nothing (`./dev test` builds first), captures the host's log lines, and tears
//! everything down (process killed, database dropped) when dropped.
//!
//! ```ignore
//! let app = TestApp::start(TestOptions::default());
//! let resp = app.get("/v1/health/live").send().unwrap();
//! assert_eq!(resp.status(), 200);
//! // Requests as a signed-in user: `get_as`, `post_as`, `patch_as`, `delete_as`, `send_as`.
//! let ada = app.caller("ada", "user");
//! assert_eq!(app.get_as(&ada, "/v1/entities").status(), 200);
//! ```
//!
//! Environment:
//! - `SPINGRAPH_HOST_CMD`: another Spin-compatible host, e.g. `spin up`; the harness appends
//!   `-f <manifest> --listen <addr> --variable ...` (and none of spingraph's own flags). The host
//!   runs in a process group of its own, which teardown ends as a whole (`spin up` serves from a
//!   child `spin trigger http` process). Tests of what only `spingraph up` adds
//!   ([`host_property`]) are skipped there, with the reason printed.
//! - `SPINGRAPH_TEST_DATABASE_URL`: maintenance database the harness creates and drops test
//!   databases from. The server needs pgvector 0.8.0 or newer (the migrations create it); the
//!   components may reach it: the harness sets `postgres_host` to its `host:port` where the
//!   manifest declares it. Default: the line of `target/dev-postgres.env`, which `./dev` writes
//!   when it chooses the server (the machine's on 127.0.0.1:5432 when it has pgvector, else its
//!   own on 127.0.0.1:55432; README, "PostgreSQL with pgvector"), so `cargo test` by hand after
//!   a `./dev` run uses the same one (`./dev postgres start` starts it again after a reboot);
//!   without that file `postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable`.
//!   `SPINGRAPH_TEST_PG_BIN` (servers.rs, the throw-away clusters' binaries) defaults the same way.
//! - `SPINGRAPH_TEST_APP_MANIFEST`: run the application tests against another manifest.
//! - `SPINGRAPH_TEST_ECHO_LOGS=1`: also copy the host's output to stderr as it arrives.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

pub mod servers;

pub use libc;
pub use reqwest::blocking::{Client, RequestBuilder, Response};
pub use serde_json::{Value, json};

/// The password [`TestApp::create_user`] gives every user it creates.
pub const PASSWORD: &str = "correct horse battery staple";
/// The `iss` and `aud` the application's tokens carry: the defaults of spin.toml's `jwt_issuer`
/// and `jwt_audience`, which the harness leaves unset.
pub const ISSUER: &str = spingraph_identity::token::DEFAULT_ISSUER;
pub const AUDIENCE: &str = spingraph_identity::token::DEFAULT_AUDIENCE;

/// The released Spins whose rules the e2e tests hold spingraph's host to (`--spin-compat`): a
/// query that would fail or hang on either fails the test.
pub const SPIN_COMPAT: &str = "3.6.3,4.0.2";

/// How long a host may take to answer its first `/v1/health/live` (first start compiles wasm).
const START_TIMEOUT: Duration = Duration::from_secs(120);
/// How long teardown waits after SIGTERM before it kills the host's process group.
const STOP_GRACE: Duration = Duration::from_secs(5);

/// The workspace root (where spin.toml lives).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ has a parent")
        .to_path_buf()
}

/// The application manifest users run (`SPINGRAPH_TEST_APP_MANIFEST` overrides it).
pub fn app_manifest() -> PathBuf {
    match std::env::var_os("SPINGRAPH_TEST_APP_MANIFEST") {
        Some(path) if !path.is_empty() => PathBuf::from(path),
        _ => workspace_root().join("spin.toml"),
    }
}

/// The test application of probe components (tests/fixtures/spin.toml).
pub fn fixtures_manifest() -> PathBuf {
    workspace_root().join("tests/fixtures/spin.toml")
}

/// The `spingraph` binary `./dev test` builds (`target/debug/spingraph`).
pub fn spingraph_bin() -> PathBuf {
    let bin = workspace_root().join("target/debug/spingraph");
    assert!(
        bin.exists(),
        "{} is missing: build it first (`./dev test` does, or `cargo build -p spingraph`)",
        bin.display()
    );
    bin
}

/// Whether the tests run against spingraph's own host (not `SPINGRAPH_HOST_CMD`).
pub fn host_is_spingraph() -> bool {
    std::env::var("SPINGRAPH_HOST_CMD")
        .map(|c| c.trim().is_empty())
        .unwrap_or(true)
}

/// Whether a test of `property`, something `spingraph up` adds over `spin up` (README, "What
/// `spingraph up` adds"), runs here: true on spingraph's host; under `SPINGRAPH_HOST_CMD` it
/// prints why the test is skipped and returns false.
///
/// ```ignore
/// if !host_property("per-request time limit") { return; }
/// ```
pub fn host_property(property: &str) -> bool {
    if host_is_spingraph() {
        return true;
    }
    eprintln!("skipped: {property} is a property of `spingraph up`, not of SPINGRAPH_HOST_CMD");
    false
}

/// The `MAJOR.MINOR.PATCH` of the Spin that `SPINGRAPH_HOST_CMD` runs (`<program> --version`
/// prints `spin 3.6.3 (...)`); `None` on spingraph's host or when it prints no such line.
pub fn host_spin_version() -> Option<(u32, u32, u32)> {
    let line = std::env::var("SPINGRAPH_HOST_CMD").ok()?;
    let program = line.split_whitespace().next()?;
    let out = Command::new(program).arg("--version").output().ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    let version = text.split_whitespace().nth(1)?;
    let mut parts = version
        .split(['.', '-', '+'])
        .map(|p| p.parse::<u32>().ok());
    Some((parts.next()??, parts.next()??, parts.next()??))
}

/// Whether the host reads Spin 4's manifest forms (per-dependency `inherit_configuration`):
/// spingraph's host and Spin 4 do; on an older Spin this prints why the test is skipped.
pub fn host_reads_spin4_manifests() -> bool {
    if host_is_spingraph() {
        return true;
    }
    match host_spin_version() {
        Some((major, ..)) if major >= 4 => true,
        version => {
            eprintln!(
                "skipped: SPINGRAPH_HOST_CMD runs Spin {version:?}, whose manifest reader has no \
                 per-dependency inherit_configuration (Spin 4)"
            );
            false
        }
    }
}

fn maintenance_url() -> String {
    spingraph_migrate::test_setting("SPINGRAPH_TEST_DATABASE_URL").unwrap_or_else(|| {
        "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable".to_string()
    })
}

/// The `host:port` of a `postgres://` URL (5432 when it names no port): what
/// `allowed_outbound_hosts` must allow for a component to reach it (the `postgres_host` variable).
pub fn postgres_host_of(url: &str) -> Option<String> {
    let rest = url.split_once("://")?.1;
    let authority = &rest[..rest.find(['/', '?']).unwrap_or(rest.len())];
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    if host_port.is_empty() {
        return None;
    }
    let has_port = match host_port.rfind(']') {
        Some(bracket) => host_port[bracket..].contains(':'),
        None => host_port.contains(':'),
    };
    Some(if has_port {
        host_port.to_string()
    } else {
        format!("{host_port}:5432")
    })
}

/// The names of the manifest's application variables: the lines of its `[variables]` table.
fn declared_variables(manifest: &Path) -> Vec<String> {
    let manifest = std::fs::read_to_string(manifest).unwrap_or_default();
    manifest
        .lines()
        .skip_while(|l| l.trim() != "[variables]")
        .skip(1)
        .take_while(|l| !l.trim_start().starts_with('['))
        .filter_map(|l| Some(l.split_once('=')?.0.trim().to_string()))
        .filter(|name| !name.is_empty() && !name.starts_with('#'))
        .collect()
}

/// The harness's `postgres_host` for a database at `url`, where the manifest declares the
/// variable: the components may reach the server the test database is in.
fn postgres_host_variable(declared: &[String], url: &str) -> Option<(String, String)> {
    let host = postgres_host_of(url)?;
    declared
        .iter()
        .any(|v| v == "postgres_host")
        .then(|| ("postgres_host".to_string(), host))
}

/// `base` with its database name replaced by `name` (query string kept).
pub fn database_url_named(base: &str, name: &str) -> String {
    let (head, query) = match base.split_once('?') {
        Some((h, q)) => (h, Some(q)),
        None => (base, None),
    };
    let authority_end = head.find("://").map(|i| i + 3).unwrap_or(0);
    let prefix = match head[authority_end..].find('/') {
        Some(slash) => &head[..authority_end + slash],
        None => head,
    };
    match query {
        Some(q) => format!("{prefix}/{name}?{q}"),
        None => format!("{prefix}/{name}"),
    }
}

/// `base` with `user` as its user and no password (the test cluster trusts 127.0.0.1).
pub fn database_url_as(base: &str, user: &str) -> String {
    let Some(scheme_end) = base.find("://").map(|i| i + 3) else {
        return base.to_string();
    };
    let rest = &base[scheme_end..];
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let host = match rest[..authority_end].rfind('@') {
        Some(at) => &rest[at + 1..],
        None => rest,
    };
    format!("{}{user}@{host}", &base[..scheme_end])
}

/// A fresh directory under the system temp directory, removed with its contents when dropped.
pub struct TempDir(PathBuf);

impl TempDir {
    pub fn create() -> TempDir {
        let path =
            std::env::temp_dir().join(format!("spingraph-e2e-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&path)
            .unwrap_or_else(|e| panic!("creating {}: {e}", path.display()));
        TempDir(path)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A 127.0.0.1 port nothing listens on right now.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("binding an ephemeral port")
}

/// What to start.
#[derive(Debug, Clone)]
pub struct TestOptions {
    /// The manifest (default: the application's spin.toml).
    pub manifest: PathBuf,
    /// The releases spingraph's `--spin-compat` names (default [`SPIN_COMPAT`], both released
    /// Spins; SPEC §3); `None` runs it without.
    pub spin_compat: Option<String>,
    /// `--variable name=value`, after the harness's own (database_url, JWT keys).
    pub variables: Vec<(String, String)>,
    /// Extra flags for spingraph's host only (`--request-timeout-ms 2000`); dropped under
    /// `SPINGRAPH_HOST_CMD`.
    pub host_args: Vec<String>,
    /// Extra environment for the host process.
    pub env: Vec<(String, String)>,
    /// Create and migrate a fresh database (default true). Without it the host still gets a
    /// fresh database name, which does not exist.
    pub migrate: bool,
    /// Serve Prometheus `/metrics` on a separate admin listener (`--admin-listen 127.0.0.1:0`;
    /// spingraph's host only), whose address lands in [`TestApp::admin_addr`].
    pub admin_listener: bool,
    /// Run this host command line instead of `SPINGRAPH_HOST_CMD` / spingraph's own (the
    /// harness appends the same `-f`, `--listen` and `--variable` arguments).
    pub host_cmd: Option<String>,
    /// The maintenance database to create and drop the test database from (default:
    /// `SPINGRAPH_TEST_DATABASE_URL`), e.g. a throw-away cluster's ([`servers::PostgresCluster`]).
    pub maintenance_url: Option<String>,
}

impl Default for TestOptions {
    fn default() -> Self {
        TestOptions {
            manifest: app_manifest(),
            spin_compat: Some(SPIN_COMPAT.to_string()),
            variables: Vec::new(),
            host_args: Vec::new(),
            env: Vec::new(),
            migrate: true,
            admin_listener: false,
            host_cmd: None,
            maintenance_url: None,
        }
    }
}

impl TestOptions {
    /// The probe application of tests/fixtures/spin.toml (with its required secret set).
    pub fn fixtures() -> Self {
        TestOptions {
            manifest: fixtures_manifest(),
            ..TestOptions::default()
        }
        .variable("probe_secret", FIXTURE_SECRET)
    }

    pub fn manifest(mut self, path: impl Into<PathBuf>) -> Self {
        self.manifest = path.into();
        self
    }

    pub fn variable(mut self, name: &str, value: &str) -> Self {
        self.variables.retain(|(n, _)| n != name);
        self.variables.push((name.to_string(), value.to_string()));
        self
    }

    pub fn host_arg(mut self, arg: &str) -> Self {
        self.host_args.push(arg.to_string());
        self
    }

    pub fn env(mut self, name: &str, value: &str) -> Self {
        self.env.push((name.to_string(), value.to_string()));
        self
    }

    pub fn without_spin_compat(mut self) -> Self {
        self.spin_compat = None;
        self
    }

    /// Run spingraph with `--spin-compat releases` (e.g. `"4.0.2"`) instead of [`SPIN_COMPAT`].
    pub fn spin_compat(mut self, releases: &str) -> Self {
        self.spin_compat = Some(releases.to_string());
        self
    }

    pub fn without_migrations(mut self) -> Self {
        self.migrate = false;
        self
    }

    /// Make the test database in the server `url` names (see [`TestOptions::maintenance_url`]).
    pub fn maintenance_url(mut self, url: &str) -> Self {
        self.maintenance_url = Some(url.to_string());
        self
    }

    pub fn with_admin_listener(mut self) -> Self {
        self.admin_listener = true;
        self
    }

    /// The application with its login limit out of the way (every test signs in from
    /// 127.0.0.1), plus `extra` variables.
    pub fn signing_in_freely(extra: &[(&str, &str)]) -> Self {
        extra.iter().fold(
            TestOptions::default().variable("login_rate_limit_per_minute", "100000"),
            |opts, (name, value)| opts.variable(name, value),
        )
    }

    pub fn host_cmd(mut self, line: &str) -> Self {
        self.host_cmd = Some(line.to_string());
        self
    }
}

/// The value of the fixtures' required secret variable (tests assert it never reaches a log).
pub const FIXTURE_SECRET: &str = "fixture-secret-7c1e9b2d4f6a8c0e";

/// Log lines captured from a host process (stdout and stderr, in arrival order).
#[derive(Clone, Default)]
pub struct Logs(Arc<Mutex<Vec<String>>>);

impl Logs {
    pub fn lines(&self) -> Vec<String> {
        self.0.lock().unwrap().clone()
    }

    pub fn text(&self) -> String {
        self.lines().join("\n")
    }

    /// Lines that parse as JSON objects.
    pub fn json_lines(&self) -> Vec<Value> {
        self.lines()
            .iter()
            .filter_map(|l| serde_json::from_str::<Value>(l.trim()).ok())
            .filter(Value::is_object)
            .collect()
    }

    /// Wait up to `timeout` for a line satisfying `pred`.
    pub fn wait_for(&self, timeout: Duration, pred: impl Fn(&str) -> bool) -> Option<String> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(line) = self.lines().into_iter().find(|l| pred(l)) {
                return Some(line);
            }
            if Instant::now() >= deadline {
                return None;
            }
            thread::sleep(Duration::from_millis(25));
        }
    }

    fn capture(&self, stream: impl Read + Send + 'static) -> thread::JoinHandle<()> {
        let sink = self.0.clone();
        let echo = std::env::var("SPINGRAPH_TEST_ECHO_LOGS").is_ok_and(|v| v == "1");
        thread::spawn(move || {
            for line in BufReader::new(stream).lines() {
                let Ok(line) = line else { break };
                if echo {
                    eprintln!("[host] {line}");
                }
                sink.lock().unwrap().push(line);
            }
        })
    }
}

/// A fresh test database, dropped (with any connections) when this is dropped.
pub struct TestDatabase {
    pub name: String,
    pub url: String,
    /// Where it is created and dropped from.
    maintenance: String,
}

impl TestDatabase {
    /// Name a new database; `migrate` creates it and applies every migration.
    pub fn new(migrate: bool) -> TestDatabase {
        TestDatabase::in_server(&maintenance_url(), migrate)
    }

    /// [`TestDatabase::new`] in the server of the maintenance database `maintenance`.
    pub fn in_server(maintenance: &str, migrate: bool) -> TestDatabase {
        let name = format!("spingraph_test_{}", uuid::Uuid::new_v4().simple());
        let url = database_url_named(maintenance, &name);
        let db = TestDatabase {
            name,
            url,
            maintenance: maintenance.to_string(),
        };
        if migrate {
            let out = Command::new(spingraph_bin())
                .args(["migrate", "up", "--database-url", &db.url])
                .current_dir(workspace_root())
                .output()
                .expect("running spingraph migrate up");
            assert!(
                out.status.success(),
                "spingraph migrate up failed ({}):\n{}{}",
                out.status,
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        }
        db
    }

    /// Run SQL statements (no results) in this database.
    pub fn execute(&self, sql: &str) {
        let url = self.url.clone();
        let sql = sql.to_string();
        block_on(async move {
            let client = connect(&url).await?;
            client.batch_execute(&sql).await
        })
        .unwrap_or_else(|e| panic!("executing SQL in {}: {e}", self.name));
    }

    /// The rows of a query as a JSON array of objects, run as database role `role` (no
    /// password: the test cluster trusts 127.0.0.1); the server's error text when it fails.
    pub fn query_json_as(&self, role: &str, sql: &str) -> Result<Value, String> {
        rows_as_json(database_url_as(&self.url, role), sql).map_err(|e| match e.as_db_error() {
            Some(db) => db.message().to_string(),
            None => e.to_string(),
        })
    }

    /// Run `sql` (statements, e.g. an `INSERT`) as database role `role`; the server's error
    /// text when it fails.
    pub fn execute_as(&self, role: &str, sql: &str) -> Result<(), String> {
        let (url, sql) = (database_url_as(&self.url, role), sql.to_string());
        block_on(async move {
            let client = connect(&url).await?;
            client.batch_execute(&sql).await
        })
        .map_err(|e| match e.as_db_error() {
            Some(db) => db.message().to_string(),
            None => e.to_string(),
        })
    }

    /// The rows of a query as a JSON array of objects.
    /// The database's clock now, as the API writes instants (RFC 3339, UTC, microseconds): a
    /// write acknowledged before it counts as done by then, and none started after it.
    pub fn instant(&self) -> String {
        self.query_json(
            "SELECT to_char(clock_timestamp() AT TIME ZONE 'UTC', \
             'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"') AS t",
        )[0]["t"]
            .as_str()
            .expect("an instant")
            .to_string()
    }

    pub fn query_json(&self, sql: &str) -> Value {
        rows_as_json(self.url.clone(), sql)
            .unwrap_or_else(|e| panic!("querying {}: {e}", self.name))
    }
}

/// The rows of `sql`, run on a connection to `url`, as one JSON array of objects.
fn rows_as_json(url: String, sql: &str) -> Result<Value, tokio_postgres::Error> {
    let wrapped = format!("SELECT coalesce(jsonb_agg(to_jsonb(x)), '[]'::jsonb) FROM ({sql}) x");
    block_on(async move {
        let client = connect(&url).await?;
        let row = client.query_one(&wrapped, &[]).await?;
        Ok(row.get::<_, Value>(0))
    })
}

impl TestDatabase {
    /// Run `BEGIN; {sql}` on a connection of its own (another session, as far as the host can
    /// tell) and leave the transaction open until [`OpenTransaction::commit`] or
    /// [`OpenTransaction::rollback`] (or its drop, which rolls back).
    pub fn hold_open(&self, sql: &str) -> OpenTransaction {
        let (url, sql) = (self.url.clone(), format!("BEGIN; {sql}"));
        let (end_tx, end_rx) = std::sync::mpsc::channel::<&'static str>();
        let (began_tx, began_rx) = std::sync::mpsc::channel::<()>();
        let thread = thread::spawn(move || {
            block_on(async move {
                let client = connect(&url).await?;
                client.batch_execute(&sql).await?;
                began_tx.send(()).unwrap();
                let end = tokio::task::spawn_blocking(move || end_rx.recv().unwrap_or("ROLLBACK"))
                    .await
                    .unwrap();
                client.batch_execute(end).await
            })
            .unwrap_or_else(|e| panic!("the transaction held open: {e}"));
        });
        if began_rx.recv().is_err() {
            let _ = thread.join();
            panic!("the transaction to hold open did not begin");
        }
        OpenTransaction {
            end: end_tx,
            thread: Some(thread),
        }
    }
}

/// A transaction [`TestDatabase::hold_open`] keeps open on a connection of its own.
pub struct OpenTransaction {
    end: std::sync::mpsc::Sender<&'static str>,
    thread: Option<thread::JoinHandle<()>>,
}

impl OpenTransaction {
    pub fn commit(mut self) {
        self.end_with("COMMIT");
    }

    pub fn rollback(mut self) {
        self.end_with("ROLLBACK");
    }

    fn end_with(&mut self, statement: &'static str) {
        if let Some(thread) = self.thread.take() {
            let _ = self.end.send(statement);
            thread.join().expect("ending the transaction held open");
        }
    }
}

impl Drop for OpenTransaction {
    fn drop(&mut self) {
        if !thread::panicking() {
            self.end_with("ROLLBACK");
        }
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let url = self.maintenance.clone();
        let sql = format!("DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)", self.name);
        let result = block_on(async move {
            let client = connect(&url).await?;
            client.batch_execute(&sql).await
        });
        if let Err(e) = result {
            eprintln!("warning: dropping test database {}: {e}", self.name);
        }
    }
}

async fn connect(url: &str) -> Result<tokio_postgres::Client, tokio_postgres::Error> {
    let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls).await?;
    tokio::spawn(async move {
        let _ = connection.await;
    });
    Ok(client)
}

fn block_on<T>(
    fut: impl std::future::Future<Output = Result<T, tokio_postgres::Error>>,
) -> Result<T, tokio_postgres::Error> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime")
        .block_on(fut)
}

/// A host process that has exited (or been stopped), with everything it printed.
pub struct HostExit {
    /// `None` when the host was still running at the deadline (it has been killed).
    pub status: Option<ExitStatus>,
    pub output: String,
}

/// The command line a [`TestApp`] runs: program, arguments.
fn host_command(opts: &TestOptions, listen: SocketAddr, vars: &[(String, String)]) -> Command {
    let custom = opts.host_cmd.clone().or_else(|| {
        std::env::var("SPINGRAPH_HOST_CMD")
            .ok()
            .filter(|c| !c.trim().is_empty())
    });
    let mut cmd = match &custom {
        Some(line) => {
            let mut words = line.split_whitespace();
            let mut cmd = Command::new(words.next().expect("SPINGRAPH_HOST_CMD is not empty"));
            cmd.args(words);
            cmd
        }
        None => {
            let mut cmd = Command::new(spingraph_bin());
            cmd.arg("up");
            if let Some(releases) = &opts.spin_compat {
                cmd.args(["--spin-compat", releases]);
            }
            if opts.admin_listener {
                // Port 0: the host picks a free port and prints it (no race for a free one).
                cmd.args(["--admin-listen", "127.0.0.1:0"]);
            }
            cmd.args(&opts.host_args);
            cmd
        }
    };
    cmd.arg("-f")
        .arg(&opts.manifest)
        .arg("--listen")
        .arg(listen.to_string());
    for (name, value) in vars {
        cmd.arg("--variable").arg(format!("{name}={value}"));
    }
    cmd.env_remove("SPINGRAPH_SPIN_COMPAT");
    for (name, value) in &opts.env {
        cmd.env(name, value);
    }
    cmd.current_dir(workspace_root())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        // Its own process group, so teardown reaches every process the host starts.
        .process_group(0);
    cmd
}

/// Signal the process group a host leads (ESRCH, an empty group, is not an error).
fn signal_group(child: &Child, signal: libc::c_int) {
    let group = libc::pid_t::try_from(child.id()).expect("a pid fits pid_t");
    // SAFETY: kill(2) with a negative pid signals that process group; no memory is involved.
    unsafe {
        libc::kill(-group, signal);
    }
}

/// End a host and everything it started: SIGTERM to its process group, then, after
/// [`STOP_GRACE`] or as soon as the leader has exited, SIGKILL to whatever is left of the
/// group (a child that ignored the TERM would keep the log pipes open forever).
/// Returns the leader's exit status.
fn stop_group(child: &mut Child) -> Option<ExitStatus> {
    signal_group(child, libc::SIGTERM);
    let deadline = Instant::now() + STOP_GRACE;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break Some(status),
            Ok(None) if Instant::now() < deadline => thread::sleep(Duration::from_millis(10)),
            _ => break None,
        }
    };
    signal_group(child, libc::SIGKILL);
    status.or_else(|| child.wait().ok())
}

/// Test signing keys for the application manifest's required JWT variables.
pub struct TestKeys {
    /// `jwt_signing_key`: `<kid>:<base64url seed>`.
    pub signing_key: String,
    /// `jwt_public_keys`: JWKS JSON.
    pub public_keys: String,
    /// `auth_token_cache_key` and `data_token_cache_key`: the verified-token cache's MAC keys.
    pub auth_cache_key: String,
    pub data_cache_key: String,
}

impl TestKeys {
    pub fn generate() -> TestKeys {
        let signing_key = spingraph_identity::keys::SigningKey::generate("e2e").unwrap();
        let parsed = spingraph_identity::keys::SigningKey::parse(&signing_key)
            .expect("a generated signing key parses");
        TestKeys {
            public_keys: parsed.public_keys().to_jwks().to_string(),
            signing_key,
            auth_cache_key: spingraph_identity::random_urlsafe(32),
            data_cache_key: spingraph_identity::random_urlsafe(32),
        }
    }
}

/// A signed-in user of a test app: its id and access token.
pub struct Caller {
    pub id: String,
    pub token: String,
}

impl Caller {
    /// `rb` with this user's bearer token.
    pub fn auth(&self, rb: RequestBuilder) -> RequestBuilder {
        rb.bearer_auth(&self.token)
    }
}

/// Whom a request is sent as ([`TestApp::get_as`] and the like): an access token (`&str`,
/// `String`) or a signed-in [`Caller`].
pub trait Bearer {
    fn bearer_token(&self) -> &str;
}

impl Bearer for str {
    fn bearer_token(&self) -> &str {
        self
    }
}

impl Bearer for String {
    fn bearer_token(&self) -> &str {
        self
    }
}

impl Bearer for Caller {
    fn bearer_token(&self) -> &str {
        &self.token
    }
}

impl<T: Bearer + ?Sized> Bearer for &T {
    fn bearer_token(&self) -> &str {
        (**self).bearer_token()
    }
}

impl<T: Bearer + ?Sized> Bearer for Arc<T> {
    fn bearer_token(&self) -> &str {
        (**self).bearer_token()
    }
}

/// One running host with its own database.
pub struct TestApp {
    pub addr: SocketAddr,
    /// The admin listener serving `/metrics`, when [`TestOptions::with_admin_listener`] asked for
    /// one and the host is spingraph's.
    pub admin_addr: Option<SocketAddr>,
    pub db: TestDatabase,
    pub keys: TestKeys,
    pub logs: Logs,
    client: Client,
    child: Child,
    readers: Vec<thread::JoinHandle<()>>,
}

impl TestApp {
    /// Start a host and wait until `/v1/health/live` answers 200; panics (with the host's output)
    /// when it exits or does not answer in time.
    pub fn start(opts: TestOptions) -> TestApp {
        let db = match &opts.maintenance_url {
            Some(url) => TestDatabase::in_server(url, opts.migrate),
            None => TestDatabase::new(opts.migrate),
        };
        let keys = TestKeys::generate();
        let addr: SocketAddr = ([127, 0, 0, 1], free_port()).into();
        let vars = harness_variables(&opts, &db, &keys);
        let mut cmd = host_command(&opts, addr, &vars);
        // The application's JWT variables through the environment: a host may reject
        // `--variable` for names a manifest (the fixtures) does not declare.
        cmd.env("SPIN_VARIABLE_JWT_SIGNING_KEY", &keys.signing_key)
            .env("SPIN_VARIABLE_JWT_PUBLIC_KEYS", &keys.public_keys)
            .env("SPIN_VARIABLE_AUTH_TOKEN_CACHE_KEY", &keys.auth_cache_key)
            .env("SPIN_VARIABLE_DATA_TOKEN_CACHE_KEY", &keys.data_cache_key);
        let mut child = cmd.spawn().expect("starting the host");
        let logs = Logs::default();
        let readers = vec![
            logs.capture(child.stdout.take().unwrap()),
            logs.capture(child.stderr.take().unwrap()),
        ];
        let client = Client::builder()
            .timeout(Duration::from_secs(30))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("HTTP client");
        let mut app = TestApp {
            addr,
            admin_addr: None,
            db,
            keys,
            logs,
            client,
            child,
            readers,
        };
        app.wait_until_live();
        if opts.admin_listener && host_is_spingraph() {
            app.admin_addr = Some(app.announced_admin_addr());
        }
        app
    }

    /// The address in the host's `spingraph metrics on http://<addr>/metrics` line (printed
    /// before it serves, so by now it is on its way through the log pipe).
    fn announced_admin_addr(&self) -> SocketAddr {
        const ANNOUNCEMENT: &str = "spingraph metrics on http://";
        let line = self
            .logs
            .wait_for(Duration::from_secs(10), |l| l.contains(ANNOUNCEMENT))
            .unwrap_or_else(|| {
                panic!(
                    "the host did not announce its admin listener:\n{}",
                    self.logs.text()
                )
            });
        let rest = &line[line.find(ANNOUNCEMENT).unwrap() + ANNOUNCEMENT.len()..];
        let addr = rest.split('/').next().unwrap_or_default();
        addr.parse()
            .unwrap_or_else(|e| panic!("admin listener address {addr:?} in {line:?}: {e}"))
    }

    fn wait_until_live(&mut self) {
        let deadline = Instant::now() + START_TIMEOUT;
        let probe = Client::builder()
            .timeout(Duration::from_secs(2))
            .build()
            .unwrap();
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                thread::sleep(Duration::from_millis(100));
                panic!(
                    "the host exited ({status}) before serving:\n{}",
                    self.logs.text()
                );
            }
            if let Ok(resp) = probe.get(self.url("/v1/health/live")).send()
                && resp.status() == 200
            {
                return;
            }
            if Instant::now() >= deadline {
                panic!(
                    "the host did not answer /v1/health/live within {START_TIMEOUT:?}:\n{}",
                    self.logs.text()
                );
            }
            thread::sleep(Duration::from_millis(50));
        }
    }

    /// Run a host that is expected to exit on its own (bad manifest, missing variable); kill it
    /// after `timeout` otherwise.
    pub fn run_to_exit(opts: TestOptions, timeout: Duration) -> HostExit {
        let addr: SocketAddr = ([127, 0, 0, 1], free_port()).into();
        let db_url = database_url_named(&maintenance_url(), "spingraph_never_created");
        let host = postgres_host_variable(&declared_variables(&opts.manifest), &db_url);
        let mut vars = vec![("database_url".to_string(), db_url)];
        vars.extend(host);
        vars.extend(opts.variables.iter().cloned());
        let mut child = host_command(&opts, addr, &vars)
            .spawn()
            .expect("starting the host");
        let logs = Logs::default();
        let readers = [
            logs.capture(child.stdout.take().unwrap()),
            logs.capture(child.stderr.take().unwrap()),
        ];
        let deadline = Instant::now() + timeout;
        let status = loop {
            if let Ok(Some(status)) = child.try_wait() {
                break Some(status);
            }
            if Instant::now() >= deadline {
                stop_group(&mut child);
                break None;
            }
            thread::sleep(Duration::from_millis(25));
        };
        for r in readers {
            let _ = r.join();
        }
        HostExit {
            status,
            output: logs.text(),
        }
    }

    /// `http://127.0.0.1:<port><path>`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// `path` on the admin listener; panics when the app was started without one.
    pub fn admin_url(&self, path: &str) -> String {
        let addr = self
            .admin_addr
            .expect("no admin listener: start with TestOptions::with_admin_listener()");
        format!("http://{addr}{path}")
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    pub fn get(&self, path: &str) -> RequestBuilder {
        self.client.get(self.url(path))
    }

    pub fn post(&self, path: &str) -> RequestBuilder {
        self.client.post(self.url(path))
    }

    pub fn post_json(&self, path: &str, body: &Value) -> RequestBuilder {
        self.client.post(self.url(path)).json(body)
    }

    pub fn patch(&self, path: &str) -> RequestBuilder {
        self.client.patch(self.url(path))
    }

    pub fn delete(&self, path: &str) -> RequestBuilder {
        self.client.delete(self.url(path))
    }

    /// `rb` sent with `who`'s bearer token.
    pub fn send_as(&self, who: &(impl Bearer + ?Sized), rb: RequestBuilder) -> Response {
        rb.bearer_auth(who.bearer_token())
            .send()
            .expect("sending the request")
    }

    /// `GET path` as `who`.
    pub fn get_as(&self, who: &(impl Bearer + ?Sized), path: &str) -> Response {
        self.send_as(who, self.get(path))
    }

    /// `POST path` with the JSON `body` as `who`.
    pub fn post_as(&self, who: &(impl Bearer + ?Sized), path: &str, body: &Value) -> Response {
        self.send_as(who, self.post_json(path, body))
    }

    /// `PATCH path` with the JSON `body` as `who`.
    pub fn patch_as(&self, who: &(impl Bearer + ?Sized), path: &str, body: &Value) -> Response {
        self.send_as(who, self.patch(path).json(body))
    }

    /// `DELETE path` as `who`.
    pub fn delete_as(&self, who: &(impl Bearer + ?Sized), path: &str) -> Response {
        self.send_as(who, self.delete(path))
    }

    /// `POST /v1/entities` with `body` as `who`; the created entity (its 201 asserted).
    pub fn created_entity(&self, who: &(impl Bearer + ?Sized), body: &Value) -> Value {
        let resp = self.post_as(who, "/v1/entities", body);
        assert_eq!(resp.status(), 201, "creating {body}");
        json_body(resp)
    }

    /// `POST /v1/relationships` of type `kind` from entity `source` to `target` (their
    /// documents) as `who`; the created relationship's id (its 201 asserted).
    pub fn created_relationship(
        &self,
        who: &(impl Bearer + ?Sized),
        source: &Value,
        target: &Value,
        kind: &str,
    ) -> String {
        let body = json!({"source_id": source["id"], "target_id": target["id"], "type": kind});
        let resp = self.post_as(who, "/v1/relationships", &body);
        assert_eq!(resp.status(), 201, "creating {body}");
        json_body(resp)["id"].as_str().unwrap().to_string()
    }

    /// `POST /v1/auth/api-keys` as `owner`: a key named `name` holding `scopes`; the created
    /// key's body (the only answer that shows the secret).
    pub fn create_api_key(
        &self,
        owner: &(impl Bearer + ?Sized),
        name: &str,
        scopes: &[&str],
    ) -> Value {
        let body = json!({"name": name, "scopes": scopes});
        let resp = self.post_as(owner, "/v1/auth/api-keys", &body);
        let status = resp.status();
        let created = json_body(resp);
        assert_eq!(status, 201, "creating the API key {name}: {created}");
        created
    }

    /// `GET path` with `key` in the `X-API-Key` header.
    pub fn get_with_key(&self, key: &str, path: &str) -> Response {
        self.get(path)
            .header("x-api-key", key)
            .send()
            .expect("sending the request")
    }

    /// Bootstrap a user with the operator CLI (`spingraph admin create-user`, [`PASSWORD`] on
    /// stdin, never argv); returns its id.
    pub fn create_user(&self, email: &str, role: &str) -> String {
        let mut child = Command::new(spingraph_bin())
            .args(["admin", "create-user", "--email", email, "--role", role])
            .args(["--database-url", &self.db.url])
            .current_dir(workspace_root())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("running spingraph admin create-user");
        writeln!(child.stdin.take().unwrap(), "{PASSWORD}").unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "admin create-user failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        let rows = self.db.query_json(&format!(
            "SELECT id::text AS id FROM users WHERE lower(email) = lower('{email}')"
        ));
        rows[0]["id"].as_str().unwrap().to_string()
    }

    /// The status `GET /v1/auth/me` answers `bearer`: whether the token is accepted.
    pub fn me_status(&self, bearer: &str) -> u16 {
        self.get("/v1/auth/me")
            .bearer_auth(bearer)
            .send()
            .unwrap()
            .status()
            .as_u16()
    }

    /// `POST /v1/auth/token` with a JSON `{email, password}` body.
    pub fn login(&self, email: &str, password: &str) -> Response {
        self.post_json(
            "/v1/auth/token",
            &json!({"email": email, "password": password}),
        )
        .send()
        .unwrap()
    }

    /// `POST /v1/auth/refresh` with `refresh_token`.
    pub fn refresh(&self, refresh_token: &str) -> Response {
        self.post_json("/v1/auth/refresh", &json!({"refresh_token": refresh_token}))
            .send()
            .unwrap()
    }

    /// `POST /v1/auth/logout` with the access token `bearer`.
    pub fn logout(&self, bearer: &str) -> Response {
        self.send_as(bearer, self.post("/v1/auth/logout"))
    }

    /// A new user `{name}@example.com` of `role` (made with [`TestApp::create_user`]), signed in.
    pub fn caller(&self, name: &str, role: &str) -> Caller {
        let email = format!("{name}@example.com");
        let id = self.create_user(&email, role);
        let (token, _) = self.tokens(&email);
        Caller { id, token }
    }

    /// New users `{name}@example.com` of role `user`, signed in ([`TestApp::caller`]).
    pub fn users<const N: usize>(&self, names: [&str; N]) -> [Caller; N] {
        names.map(|name| self.caller(name, "user"))
    }

    /// `(access_token, refresh_token)` of a successful sign-in with [`PASSWORD`].
    pub fn tokens(&self, email: &str) -> (String, String) {
        let resp = self.login(email, PASSWORD);
        assert_eq!(resp.status(), 200, "sign-in of {email}");
        let body = json_body(resp);
        (
            body["access_token"].as_str().unwrap().to_string(),
            body["refresh_token"].as_str().unwrap().to_string(),
        )
    }

    /// An access token for `user_id`, signed with this app's key as `auth` would issue it (valid
    /// for 15 minutes from now); `edit` may change the claims before signing.
    pub fn access_token(
        &self,
        user_id: uuid::Uuid,
        email: &str,
        role: spingraph_identity::Role,
        edit: impl FnOnce(&mut spingraph_identity::Claims),
    ) -> String {
        use spingraph_identity::{TokenRules, TokenType, keys::SigningKey, unix_now};
        let key = SigningKey::parse(&self.keys.signing_key).expect("harness signing key");
        let rules = TokenRules::new(ISSUER, AUDIENCE);
        let mut claims = rules.claims(
            TokenType::Access,
            user_id,
            email,
            role,
            uuid::Uuid::now_v7(),
            unix_now(),
            900,
        );
        edit(&mut claims);
        rules.sign(&key, &claims).expect("signing a token")
    }

    /// The host's output so far, one entry per line.
    pub fn log_lines(&self) -> Vec<String> {
        self.logs.lines()
    }

    /// Whether the host process is still running.
    pub fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// Send `signal` (e.g. `libc::SIGTERM`) to the host's process group, as a terminal or an
    /// orchestrator would; teardown still ends whatever is left.
    pub fn signal(&self, signal: libc::c_int) {
        signal_group(&self.child, signal);
    }

    /// Wait up to `timeout` for the host to exit by itself; its status, or `None` if it is
    /// still running.
    pub fn wait_for_exit(&mut self, timeout: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Some(status);
            }
            if Instant::now() >= deadline {
                return None;
            }
            thread::sleep(Duration::from_millis(10));
        }
    }
}

fn harness_variables(
    opts: &TestOptions,
    db: &TestDatabase,
    _keys: &TestKeys,
) -> Vec<(String, String)> {
    let mut vars = vec![("database_url".to_string(), db.url.clone())];
    let declared = declared_variables(&opts.manifest);
    let declares = |variable: &str| declared.iter().any(|v| v == variable);
    vars.extend(postgres_host_variable(&declared, &db.url));
    // Each component group connects as its own role (`spingraph_migrate::group_role`).
    for variable in &declared {
        if let Some(role) = spingraph_migrate::group_role(variable) {
            vars.push((variable.to_string(), database_url_as(&db.url, &role)));
        }
    }
    for (name, value) in &opts.variables {
        vars.retain(|(n, _)| n != name);
        vars.push((name.clone(), value.clone()));
    }
    // A test's `redis_url` (an outage, a server of its own) is every group's Redis URL in a
    // manifest that has one per group, unless the test sets a group's own.
    if let Some(redis) = opts
        .variables
        .iter()
        .find(|(n, _)| n == "redis_url")
        .cloned()
        && !declares("redis_url")
    {
        vars.retain(|(n, _)| n != "redis_url");
        for group in ["auth_redis_url", "data_redis_url", "health_redis_url"] {
            if declares(group) && !opts.variables.iter().any(|(n, _)| n == group) {
                vars.push((group.to_string(), redis.1.clone()));
            }
        }
    }
    vars
}

impl Drop for TestApp {
    fn drop(&mut self) {
        stop_group(&mut self.child);
        for r in self.readers.drain(..) {
            let _ = r.join();
        }
        // `db` drops after this, removing the database.
    }
}

/// Read a response body as JSON, panicking with the body text when it is not JSON.
pub fn json_body(resp: Response) -> Value {
    let status = resp.status();
    let text = resp.text().expect("reading the response body");
    serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("response ({status}) is not JSON ({e}): {text}"))
}

/// The `field` of every error of a 400/422 problem body, in order.
pub fn error_fields(body: &Value) -> Vec<String> {
    body["errors"]
        .as_array()
        .map(|errors| {
            errors
                .iter()
                .map(|e| e["field"].as_str().unwrap_or_default().to_string())
                .collect()
        })
        .unwrap_or_default()
}

/// A 400 problem+json (a malformed query) whose only field error names `param`.
pub fn assert_query_rejected(resp: Response, param: &str, what: &str) {
    assert_eq!(resp.status(), 400, "{what}");
    let content_type = header(&resp, "content-type");
    assert!(
        content_type.starts_with("application/problem+json"),
        "{what}: {content_type}"
    );
    let body = json_body(resp);
    assert_eq!(body["status"], 400, "{what}: {body}");
    assert_eq!(error_fields(&body), vec![param], "{what}: {body}");
}

/// The body of `resp`, once its status is `status` and it is `application/problem+json`
/// (`what` names the request in a failure message).
pub fn assert_problem(resp: Response, status: u16, what: &str) -> Value {
    assert_eq!(resp.status(), status, "{what}");
    let content_type = header(&resp, "content-type");
    assert!(
        content_type.starts_with("application/problem+json"),
        "{what}: {content_type}"
    );
    json_body(resp)
}

/// A `Retry-After` of 1 to 60 seconds on `resp` (a 429 of a per-minute limit).
pub fn assert_retry_after_within_a_minute(resp: &Response) {
    let retry: u64 = header(resp, "retry-after")
        .parse()
        .unwrap_or_else(|e| panic!("Retry-After {:?}: {e}", header(resp, "retry-after")));
    assert!((1..=60).contains(&retry), "Retry-After {retry}");
}

/// A response header as text; empty when absent or not visible ASCII.
pub fn header(resp: &Response, name: &str) -> String {
    resp.headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string()
}

/// The `action` column of `rows` (a [`TestDatabase::query_json`] result of `audit_log`), in
/// order.
pub fn actions(rows: &Value) -> Vec<&str> {
    rows.as_array()
        .expect("rows")
        .iter()
        .map(|row| row["action"].as_str().expect("an action"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn postgres_host_of_is_the_host_and_port_the_allowed_hosts_name() {
        for (url, host) in [
            (
                "postgres://postgres@127.0.0.1:55432/postgres?sslmode=disable",
                Some("127.0.0.1:55432"),
            ),
            (
                "postgres://u:p@db.example.com/x",
                Some("db.example.com:5432"),
            ),
            ("postgres://[::1]:6000/x", Some("[::1]:6000")),
            ("postgres://[::1]/x", Some("[::1]:5432")),
            ("not a url", None),
        ] {
            assert_eq!(postgres_host_of(url).as_deref(), host, "{url}");
        }
    }

    #[test]
    fn database_url_named_replaces_only_the_database() {
        assert_eq!(
            database_url_named(
                "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable",
                "t1"
            ),
            "postgres://postgres@127.0.0.1:5432/t1?sslmode=disable"
        );
        assert_eq!(
            database_url_named("postgres://u:p@h/db", "t2"),
            "postgres://u:p@h/t2"
        );
        assert_eq!(
            database_url_named("postgres://h:5432", "t3"),
            "postgres://h:5432/t3"
        );
    }
}

/// What [`TestApp::under_load`] saw: the requests answered 200, every other outcome, and how
/// many 200s carried the `mark` header's value (a new build's tag).
#[derive(Debug, Default)]
pub struct Load {
    pub served: usize,
    pub failures: Vec<String>,
    pub marked: usize,
}

/// Stops the load when [`TestApp::under_load`]'s `during` returns or panics.
struct StopOnDrop<'a>(&'a AtomicBool);

impl Drop for StopOnDrop<'_> {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

impl TestApp {
    /// Runs `during` (a hot swap, say) while two clients send `GET path` as `who`, back to back,
    /// and returns its result with what the clients saw; `mark`, a header and the value that tags
    /// an answer (`Load::marked` counts them).
    pub fn under_load<T>(
        &self,
        who: &Caller,
        path: &str,
        mark: Option<(&str, &str)>,
        during: impl FnOnce() -> T,
    ) -> (T, Load) {
        let stop = AtomicBool::new(false);
        thread::scope(|scope| {
            let workers: Vec<_> = (0..2)
                .map(|_| {
                    scope.spawn(|| {
                        let mut load = Load::default();
                        while !stop.load(Ordering::Relaxed) {
                            match self.get(path).bearer_auth(&who.token).send() {
                                Ok(resp) if resp.status() == 200 => {
                                    load.served += 1;
                                    if mark
                                        .is_some_and(|(name, value)| header(&resp, name) == value)
                                    {
                                        load.marked += 1;
                                    }
                                }
                                Ok(resp) => load.failures.push(format!("status {}", resp.status())),
                                Err(e) => load.failures.push(e.to_string()),
                            }
                        }
                        load
                    })
                })
                .collect();
            let result = {
                let _stop = StopOnDrop(&stop);
                during()
            };
            let load = workers
                .into_iter()
                .map(|worker| worker.join().unwrap())
                .fold(Load::default(), |mut all, one| {
                    all.served += one.served;
                    all.marked += one.marked;
                    all.failures.extend(one.failures);
                    all
                });
            (result, load)
        })
    }
}
