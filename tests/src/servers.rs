//! Throw-away servers for the fault tests (tests/tests/faults.rs): a Postgres cluster of its own
//! (`initdb` + `pg_ctl`) and a `redis-server`, each on a free 127.0.0.1 port with its files in a
//! temporary directory. A test may stop one and start it again on the same port (an outage); both
//! are stopped and their files removed when dropped. The machine's own servers are never touched.
//!
//! ```ignore
//! let pg = PostgresCluster::start(&[]);
//! let app = TestApp::start(pg.app_options(TestOptions::default()));
//! pg.stop();   // Postgres is down for `app`
//! pg.start_again();
//! ```
//!
//! Environment: `SPINGRAPH_TEST_PG_BIN`, the directory holding `initdb` and `pg_ctl` of a
//! PostgreSQL with pgvector 0.8.0 or newer (the migrations need it). Default: the line of
//! `target/dev-postgres.env`, which `./dev` writes (the newest `/usr/lib/postgresql/*/bin` when it
//! has pgvector, else the PostgreSQL 18 that ./dev unpacks into target/pgvector/install); without
//! that file the newest `/usr/lib/postgresql/*/bin`. [`debian_bin_without_pgvector`] finds
//! Debian's own binaries, which have no pgvector (tests/tests/pgvector.rs). `redis-server` comes
//! from `PATH`.

use std::ffi::CString;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use crate::{TempDir, TestOptions, free_port};

/// How long a throw-away server may take to start answering.
const START_TIMEOUT: Duration = Duration::from_secs(30);

/// The directory of `initdb` and `pg_ctl`.
fn postgres_bin_dir() -> Option<PathBuf> {
    if let Some(dir) = spingraph_migrate::test_setting("SPINGRAPH_TEST_PG_BIN") {
        return Some(PathBuf::from(dir));
    }
    debian_bin_dirs().pop()
}

/// Debian's `/usr/lib/postgresql/<major>/bin` directories, oldest first.
fn debian_bin_dirs() -> Vec<PathBuf> {
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let version = entry.file_name().to_str()?.parse::<u32>().ok()?;
            let bin = entry.path().join("bin");
            bin.join("initdb").is_file().then_some((version, bin))
        })
        .collect();
    versions.sort();
    versions.into_iter().map(|(_, bin)| bin).collect()
}

/// Whether the PostgreSQL of `bin` has the pgvector extension (`vector.control` in the
/// `extension` directory of its `pg_config --sharedir`).
pub fn has_pgvector(bin: &Path) -> bool {
    let out = Command::new(bin.join("pg_config"))
        .arg("--sharedir")
        .output()
        .unwrap_or_else(|e| panic!("running {}/pg_config: {e}", bin.display()));
    assert!(out.status.success(), "pg_config: {}", output_text(&out));
    let share = String::from_utf8_lossy(&out.stdout).trim().to_string();
    Path::new(&share).join("extension/vector.control").exists()
}

/// The newest Debian PostgreSQL binaries without pgvector (Debian 12 packages none; ./dev
/// installs its `postgresql`). Panics when there are none: a test that needs them fails rather
/// than passing unrun.
pub fn debian_bin_without_pgvector() -> PathBuf {
    let dirs = debian_bin_dirs();
    dirs.iter()
        .rev()
        .find(|bin| !has_pgvector(bin))
        .cloned()
        .unwrap_or_else(|| {
            panic!(
                "no PostgreSQL without pgvector under /usr/lib/postgresql (found {dirs:?}): \
                 install Debian's postgresql package (./dev does), whose server has no pgvector"
            )
        })
}

/// Postgres refuses to run as root: (uid, gid) of the `postgres` account when we are root.
fn postgres_account() -> Option<(u32, u32)> {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        return None;
    }
    let name = CString::new("postgres").unwrap();
    // SAFETY: getpwnam returns NULL or a pointer to a static passwd record, read at once; the
    // tests only call it from this helper.
    let pw = unsafe { libc::getpwnam(name.as_ptr()) };
    assert!(
        !pw.is_null(),
        "running as root, and there is no `postgres` account to run a throw-away cluster as"
    );
    // SAFETY: pw is non-null and points to a valid passwd record.
    let (uid, gid) = unsafe { ((*pw).pw_uid, (*pw).pw_gid) };
    Some((uid, gid))
}

fn chown(path: &Path, (uid, gid): (u32, u32)) {
    std::os::unix::fs::chown(path, Some(uid), Some(gid))
        .unwrap_or_else(|e| panic!("chown {}: {e}", path.display()));
}

fn output_text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// A Postgres cluster of the test's own: trust authentication for `postgres`, TCP on
/// 127.0.0.1 only (no Unix socket), `fsync=off`. Stopped and removed when dropped.
pub struct PostgresCluster {
    dir: TempDir,
    bin: PathBuf,
    account: Option<(u32, u32)>,
    port: u16,
    running: bool,
}

impl PostgresCluster {
    /// `initdb` a new cluster and start it; `settings` are extra `postgresql.conf` lines
    /// (`("max_connections", "40")`).
    pub fn start(settings: &[(&str, &str)]) -> PostgresCluster {
        let bin = postgres_bin_dir()
            .expect("no Postgres binaries: set SPINGRAPH_TEST_PG_BIN to the directory of initdb");
        PostgresCluster::start_from(&bin, settings)
    }

    /// [`PostgresCluster::start`] with the binaries of directory `bin` (`initdb`, `pg_ctl`).
    pub fn start_from(bin: &Path, settings: &[(&str, &str)]) -> PostgresCluster {
        let bin = bin.to_path_buf();
        let dir = TempDir::create();
        let account = postgres_account();
        let data = dir.path().join("data");
        std::fs::create_dir(&data).unwrap();
        if let Some(account) = account {
            // The postgres account must reach the data directory through the temp directory.
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
            chown(&data, account);
        }
        let mut cluster = PostgresCluster {
            dir,
            bin,
            account,
            port: free_port(),
            running: false,
        };
        let out = cluster
            .command("initdb")
            .arg("-D")
            .arg(cluster.data())
            .args(["-A", "trust", "-U", "postgres", "-E", "UTF8"])
            .args(["--no-sync", "--no-instructions"])
            .output()
            .expect("running initdb");
        assert!(out.status.success(), "initdb failed: {}", output_text(&out));
        let mut conf = format!(
            "\n# spingraph e2e: a throw-away cluster\nlisten_addresses = '127.0.0.1'\nport = {}\n\
             unix_socket_directories = ''\nfsync = off\nfull_page_writes = off\n",
            cluster.port
        );
        for (name, value) in settings {
            conf.push_str(&format!("{name} = {value}\n"));
        }
        std::fs::OpenOptions::new()
            .append(true)
            .open(cluster.data().join("postgresql.conf"))
            .and_then(|mut f| f.write_all(conf.as_bytes()))
            .expect("writing postgresql.conf");
        cluster.start_again();
        cluster
    }

    fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    fn command(&self, program: &str) -> Command {
        let mut cmd = Command::new(self.bin.join(program));
        cmd.stdin(Stdio::null());
        if let Some((uid, gid)) = self.account {
            cmd.uid(uid).gid(gid);
        }
        cmd
    }

    fn pg_ctl(&self, args: &[&str]) -> Output {
        self.command("pg_ctl")
            .arg("-D")
            .arg(self.data())
            .args(args)
            .output()
            .expect("running pg_ctl")
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// `127.0.0.1:<port>`, what `allowed_outbound_hosts` (the `postgres_host` variable) names.
    pub fn host(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// The `postgres` database, from which test databases are created and dropped.
    pub fn maintenance_url(&self) -> String {
        self.url("postgres")
    }

    /// A connection string for `database` in this cluster.
    pub fn url(&self, database: &str) -> String {
        format!(
            "postgres://postgres@127.0.0.1:{}/{database}?sslmode=disable",
            self.port
        )
    }

    /// `opts` pointed at this cluster: test databases are made here and the components may
    /// reach it (`postgres_host`).
    pub fn app_options(&self, opts: TestOptions) -> TestOptions {
        opts.maintenance_url(&self.maintenance_url())
            .variable("postgres_host", &self.host())
    }

    pub fn is_running(&self) -> bool {
        self.running
    }

    /// Start the (stopped) cluster again on the same port; returns once it accepts connections.
    pub fn start_again(&mut self) {
        let log = self.dir.path().join("postgres.log");
        if let Some(account) = self.account
            && !log.exists()
        {
            // pg_ctl (as the postgres account) appends to it, in a directory it cannot write.
            std::fs::write(&log, "").unwrap();
            chown(&log, account);
        }
        let log = log.display().to_string();
        let out = self.pg_ctl(&["-l", &log, "-w", "-t", "30", "start"]);
        assert!(
            out.status.success(),
            "pg_ctl start failed: {}\n{}",
            output_text(&out),
            std::fs::read_to_string(&log).unwrap_or_default()
        );
        self.running = true;
        wait_for_port(self.port, "postgres");
    }

    /// `pg_ctl stop -m fast`: open sessions are ended, in-flight transactions rolled back, and
    /// the port is closed when this returns.
    pub fn stop(&mut self) {
        let out = self.pg_ctl(&["-m", "fast", "-w", "-t", "30", "stop"]);
        assert!(
            out.status.success(),
            "pg_ctl stop failed: {}",
            output_text(&out)
        );
        self.running = false;
    }

    /// The server's log so far (for failure messages).
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("postgres.log")).unwrap_or_default()
    }
}

impl Drop for PostgresCluster {
    fn drop(&mut self) {
        if self.running {
            let _ = self.pg_ctl(&["-m", "immediate", "-w", "-t", "10", "stop"]);
        }
        // `dir` is removed after this.
    }
}

/// Wait until something accepts TCP connections on 127.0.0.1:`port`.
fn wait_for_port(port: u16, what: &str) {
    let deadline = Instant::now() + START_TIMEOUT;
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            Instant::now() < deadline,
            "{what} did not listen on 127.0.0.1:{port} within {START_TIMEOUT:?}"
        );
        thread::sleep(Duration::from_millis(20));
    }
}

/// A `redis-server` of the test's own: no persistence, 127.0.0.1 only. Killed when dropped.
pub struct RedisServer {
    dir: TempDir,
    port: u16,
    child: Option<Child>,
}

impl RedisServer {
    pub fn start() -> RedisServer {
        let mut server = RedisServer {
            dir: TempDir::create(),
            port: free_port(),
            child: None,
        };
        server.start_again();
        server
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// `127.0.0.1:<port>`, what `allowed_outbound_hosts` (the `redis_host` variable) names.
    pub fn host(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// `opts` pointed at this server (`redis_url`, and `redis_host` for the allowed hosts).
    pub fn app_options(&self, opts: TestOptions) -> TestOptions {
        opts.variable("redis_url", &self.url())
            .variable("redis_host", &self.host())
    }

    pub fn is_running(&self) -> bool {
        self.child.is_some()
    }

    /// Start the (stopped) server again on the same port, empty; returns once it answers PING.
    pub fn start_again(&mut self) {
        assert!(self.child.is_none(), "redis-server is already running");
        let child = Command::new("redis-server")
            .args(["--port", &self.port.to_string()])
            .args(["--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
            .args(["--daemonize", "no", "--loglevel", "warning"])
            .arg("--dir")
            .arg(self.dir.path())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("starting redis-server (is it installed?)");
        self.child = Some(child);
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            if self.try_command(&["PING"]).is_ok_and(|r| r == "+PONG") {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "redis-server did not answer PING on {} within {START_TIMEOUT:?}",
                self.host()
            );
            thread::sleep(Duration::from_millis(20));
        }
    }

    /// Kill the server (an abrupt outage); returns once the port is closed.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// One command; its reply's first line (`+PONG`, `:3`, `$-1`, ...).
    pub fn command(&self, args: &[&str]) -> String {
        self.try_command(args)
            .unwrap_or_else(|e| panic!("redis {args:?} on {}: {e}", self.host()))
    }

    /// The first line of the reply to `args`, run as ACL user `user` (AUTH first, on the same
    /// connection): `+OK`, `-NOPERM ...`, `$1`, ...
    pub fn command_as(&self, user: &str, password: &str, args: &[&str]) -> String {
        let run = || -> std::io::Result<String> {
            let mut stream = self.connect()?;
            send(&mut stream, &["AUTH", user, password])?;
            let auth = read_line(&mut stream)?;
            if auth != "+OK" {
                return Ok(auth);
            }
            send(&mut stream, args)?;
            read_line(&mut stream)
        };
        run().unwrap_or_else(|e| panic!("redis {args:?} as {user} on {}: {e}", self.host()))
    }

    /// The text of a bulk-string reply (`CLIENT LIST`, `INFO`), or the first line of another.
    pub fn command_text(&self, args: &[&str]) -> String {
        let run = || -> std::io::Result<String> {
            let mut stream = self.connect()?;
            send(&mut stream, args)?;
            let first = read_line(&mut stream)?;
            let Some(len) = first
                .strip_prefix('$')
                .and_then(|n| n.parse::<usize>().ok())
            else {
                return Ok(first);
            };
            let mut body = vec![0u8; len + 2];
            stream.read_exact(&mut body)?;
            Ok(String::from_utf8_lossy(&body[..len]).to_string())
        };
        run().unwrap_or_else(|e| panic!("redis {args:?} on {}: {e}", self.host()))
    }

    /// Every scalar of the reply to `args`, nested arrays flattened in order (`ACL LOG`: each
    /// entry's field names and values one after another).
    pub fn command_values(&self, args: &[&str]) -> Vec<String> {
        let run = || -> std::io::Result<Vec<String>> {
            let mut stream = self.connect()?;
            send(&mut stream, args)?;
            let mut values = Vec::new();
            read_values(&mut stream, &mut values)?;
            Ok(values)
        };
        run().unwrap_or_else(|e| panic!("redis {args:?} on {}: {e}", self.host()))
    }

    fn connect(&self) -> std::io::Result<TcpStream> {
        let stream = TcpStream::connect(("127.0.0.1", self.port))?;
        stream.set_read_timeout(Some(Duration::from_secs(2)))?;
        Ok(stream)
    }

    fn try_command(&self, args: &[&str]) -> std::io::Result<String> {
        let mut stream = self.connect()?;
        send(&mut stream, args)?;
        read_line(&mut stream)
    }
}

/// Writes one RESP command.
fn send(stream: &mut TcpStream, args: &[&str]) -> std::io::Result<()> {
    let mut request = format!("*{}\r\n", args.len());
    for arg in args {
        request.push_str(&format!("${}\r\n{arg}\r\n", arg.len()));
    }
    stream.write_all(request.as_bytes())
}

/// Reads one RESP2 reply, pushing its scalars (arrays flattened) onto `values`.
fn read_values(stream: &mut TcpStream, values: &mut Vec<String>) -> std::io::Result<()> {
    let line = read_line(stream)?;
    let (kind, rest) = line.split_at(line.len().min(1));
    match kind {
        "*" => {
            for _ in 0..rest.parse::<i64>().unwrap_or(0).max(0) {
                read_values(stream, values)?;
            }
        }
        "$" => match rest.parse::<usize>() {
            Ok(len) => {
                let mut body = vec![0u8; len + 2];
                stream.read_exact(&mut body)?;
                values.push(String::from_utf8_lossy(&body[..len]).to_string());
            }
            Err(_) => values.push(String::new()), // $-1: nil
        },
        _ => values.push(rest.to_string()),
    }
    Ok(())
}

/// Reads one reply line, without its CRLF.
fn read_line(stream: &mut TcpStream) -> std::io::Result<String> {
    let mut reply = Vec::new();
    let mut byte = [0u8; 1];
    while !reply.ends_with(b"\r\n") {
        if stream.read(&mut byte)? == 0 {
            break;
        }
        reply.push(byte[0]);
    }
    Ok(String::from_utf8_lossy(&reply).trim_end().to_string())
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.stop();
    }
}
