//! `spingraph up`: load the manifest and (when given) the runtime config, resolve variables, compile
//! (or load from cache) and pre-instantiate every routed component, then serve
//! HTTP until SIGINT/SIGTERM; with `--watch`, reload a component whose wasm is rebuilt
//! (`watch.rs`). Flags follow `spin up`.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use tokio::net::TcpListener;
use tokio::sync::watch;
use wasmtime::component::Linker;

use crate::capabilities::key_value::KeyValueConfig;
use crate::capabilities::postgres::{PostgresConfig, StatementCache};
use crate::capabilities::store::InstanceState;
use crate::capabilities::{Capabilities, Configs};
use crate::cli::dev;
use crate::grants::allowed_hosts::AllowedHosts;
use crate::grants::variables::{Resolver, VariableSource, Variables};
use crate::manifest::spin_compat::SpinCompat;
use crate::manifest::{App, ManifestReader};
use crate::runtime::loader::Loader;
use crate::runtime::router::Router;
use crate::runtime::server::{Components, RequestLimits, Server};
use crate::runtime::watch::Watcher;
use crate::runtime::{access_log, engine};

#[derive(clap::Args, Debug)]
pub struct UpArgs {
    /// The application manifest, or a directory containing spin.toml. Default: spin.toml in
    /// the working directory, else the nearest one above it (stopping at a git root), as
    /// `spin up` looks.
    #[arg(short = 'f', long = "from", value_name = "MANIFEST")]
    pub from: Option<PathBuf>,

    /// Address to serve HTTP on (`host:port`; a name such as `localhost:3000` is resolved,
    /// preferring 127.0.0.1).
    #[arg(
        long,
        value_name = "ADDR",
        env = "SPIN_HTTP_LISTEN_ADDR",
        default_value = "127.0.0.1:3000",
        value_parser = parse_listen_addr
    )]
    pub listen: SocketAddr,

    /// Runtime configuration file ([[variables_provider]] entries of type "env" or "static").
    /// Read only when given, as `spin up` does; without it variables come from --variable,
    /// SPIN_VARIABLE_<NAME> and ./.env.
    #[arg(long, value_name = "FILE", env = "RUNTIME_CONFIG_FILE")]
    pub runtime_config_file: Option<PathBuf>,

    /// Set application variables (highest precedence): `NAME=VALUE`, `NAME=@FILE` (the file's
    /// content, as is), or `@FILE.json` / `@FILE.toml` (a map of names to string values).
    /// Repeatable; a name set twice keeps the last value.
    #[arg(
        long = "variable",
        value_name = "NAME=VALUE | NAME=@FILE | @FILE.json | @FILE.toml",
        value_parser = parse_variable
    )]
    pub variables: Vec<VariableSource>,

    /// Development mode: create and migrate the database, point each component group's
    /// database URL variable that is not set at it (as the group's role), generate an
    /// ephemeral JWT signing key when none is configured.
    #[arg(long)]
    pub dev: bool,

    /// Turn the limits of released Spins into errors: `3.6.3`, `4.0.2`, or both as
    /// `3.6.3,4.0.2` (every rule of each; the e2e tests run so). Covers the manifest forms
    /// each reads, its outbound-host rules and its Postgres behaviour.
    #[arg(long, value_name = "VERSION", env = "SPINGRAPH_SPIN_COMPAT")]
    pub spin_compat: Option<String>,

    /// Serve Prometheus /metrics on this separate address.
    #[arg(long, value_name = "ADDR")]
    pub admin_listen: Option<SocketAddr>,

    /// Largest linear memory one instance may use, in MiB.
    #[arg(long, default_value_t = 128)]
    pub max_memory_mb: usize,

    /// Per-request time limit, in milliseconds: from the moment the whole body has arrived
    /// (waiting for a free instance included) to the head of the guest's response.
    #[arg(long, default_value_t = 30_000)]
    pub request_timeout_ms: u64,

    /// How long a component may go on writing a streamed response body (an export) after
    /// sending the response's head, in milliseconds.
    #[arg(long, default_value_t = 600_000)]
    pub stream_timeout_ms: u64,

    /// Largest request body the host accepts, in bytes.
    #[arg(long, default_value_t = 1024 * 1024)]
    pub max_body_bytes: usize,

    /// Requests run at once; more wait for a slot (up to the request time limit). A request
    /// takes a slot only once its whole body has arrived.
    #[arg(long, default_value_t = 128)]
    pub max_concurrent_requests: usize,

    /// How long a client may take to send a request's line and headers, in milliseconds
    /// (also how long an idle keep-alive connection stays open); past it the connection is
    /// closed.
    #[arg(long, default_value_t = 10_000)]
    pub header_read_timeout_ms: u64,

    /// How long a client may take to send a whole request body, in milliseconds; past it the
    /// request is answered 408 and the connection closed.
    #[arg(long, default_value_t = 30_000)]
    pub body_read_timeout_ms: u64,

    /// Open connections one client address (IP) may hold; more are answered 429 and closed.
    /// 0: no limit.
    #[arg(long, default_value_t = 128)]
    pub max_connections_per_client: usize,

    /// Server connections the host keeps per Postgres connection string (shared by every
    /// instance); a request waits up to 5 s for one when all are busy, then answers 503.
    #[arg(long, default_value_t = crate::capabilities::postgres::DEFAULT_POOL_SIZE)]
    pub postgres_pool_size: usize,

    /// How long a pooled Postgres session reuses a statement it prepared, in milliseconds; then
    /// it is prepared (and planned) again, so a plan made while a table was small does not
    /// outlive the table's growth. 0: prepare every statement anew (as Spin does).
    #[arg(long, default_value_t = crate::capabilities::postgres::DEFAULT_STATEMENT_MAX_AGE.as_millis() as u64)]
    pub postgres_statement_max_age_ms: u64,

    /// How long shutdown waits for in-flight requests, in milliseconds.
    #[arg(long, default_value_t = 10_000)]
    pub drain_timeout_ms: u64,

    /// Directory for compiled components. Default: $SPINGRAPH_CACHE_DIR or ~/.cache/spingraph.
    #[arg(long, value_name = "DIR")]
    pub cache_dir: Option<PathBuf>,

    /// Reload a component when a file its wasm is built from changes (its `source` or a
    /// dependency's `path`): the rebuilt component is swapped in without dropping in-flight
    /// requests or restarting the others; a rebuild that fails is logged and the previous
    /// version keeps serving. Changes to the manifest itself (spin.toml) are not picked up:
    /// restart for those.
    #[arg(long)]
    pub watch: bool,
}

fn parse_variable(s: &str) -> Result<VariableSource, String> {
    s.parse::<VariableSource>().map_err(|e| format!("{e:#}"))
}

/// `host:port`, resolved; 127.0.0.1 first when a name resolves to it (as `spin up`).
fn parse_listen_addr(s: &str) -> Result<SocketAddr, String> {
    use std::net::ToSocketAddrs;
    let addrs: Vec<SocketAddr> = s
        .to_socket_addrs()
        .map_err(|e| format!("{s:?} is not a host:port address: {e}"))?
        .collect();
    addrs
        .iter()
        .find(|a| a.ip() == std::net::Ipv4Addr::LOCALHOST)
        .or(addrs.first())
        .copied()
        .ok_or_else(|| format!("{s:?} resolves to no address"))
}

/// The manifest `spin up` would run: `-f` (a file, or a directory holding spin.toml), else
/// `spin.toml` here, else the nearest one in a parent directory, not looking past a git root.
fn find_manifest(from: Option<&Path>) -> Result<PathBuf> {
    if let Some(from) = from {
        return Ok(from.to_path_buf());
    }
    let here = PathBuf::from(MANIFEST_FILE);
    if here.is_file() {
        return Ok(here);
    }
    let mut dir = PathBuf::from(".");
    for _ in 1..20 {
        dir.push("..");
        if !dir.is_dir() {
            break;
        }
        let candidate = dir.join(MANIFEST_FILE);
        if candidate.is_file() {
            eprintln!(
                "No {MANIFEST_FILE} in the working directory: using {}",
                candidate.display()
            );
            return Ok(candidate);
        }
        if dir.join(".git").is_dir() {
            break;
        }
    }
    bail!("no {MANIFEST_FILE} here or above: run `spingraph up -f <MANIFEST>`")
}

const MANIFEST_FILE: &str = "spin.toml";

pub fn run(args: UpArgs) -> Result<()> {
    access_log::init_tracing();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the tokio runtime")?;
    runtime.block_on(up(args))
}

async fn up(args: UpArgs) -> Result<()> {
    let started = Instant::now();
    let app = App::load(&find_manifest(args.from.as_deref())?)?;
    let spin_compat: Option<SpinCompat> = args
        .spin_compat
        .as_deref()
        .filter(|v| !v.is_empty())
        .map(str::parse)
        .transpose()
        .context("--spin-compat")?;
    // The manifest first: a form a released Spin cannot read is the first thing to fix.
    for release in spin_compat.iter().flat_map(|c| c.releases()) {
        app.manifest
            .check_readable_by(ManifestReader::of(release))
            .with_context(|| {
                format!(
                    "{} is rejected by --spin-compat {release}",
                    app.path.display()
                )
            })?;
    }

    let runtime_config = args
        .runtime_config_file
        .as_deref()
        .map(load_runtime_config)
        .transpose()?;
    let cli_variables = VariableSource::read_all(&args.variables)?;
    let mut resolver =
        Resolver::new(&cli_variables, runtime_config.as_ref()).with_context(|| {
            match &args.runtime_config_file {
                Some(path) => format!("runtime config {}", path.display()),
                None => "variables".to_string(),
            }
        })?;
    if args.dev {
        dev::variables(&app, &mut resolver)?;
    }
    let variables = Arc::new(Variables::resolve(&app.manifest.variables, &resolver)?);
    let capabilities = Arc::new(Capabilities::configure(Configs {
        postgres: PostgresConfig {
            compat: spin_compat,
            pool_size: args.postgres_pool_size,
            statements: StatementCache {
                max_age: Duration::from_millis(args.postgres_statement_max_age_ms),
                ..StatementCache::default()
            },
        },
        key_value: KeyValueConfig::from_runtime_config(&app, runtime_config.as_ref())
            .with_context(|| match &args.runtime_config_file {
                Some(path) => format!("runtime config {}", path.display()),
                None => "key-value stores".to_string(),
            })?,
        ..Configs::default()
    })?);
    if args.dev {
        dev::database(&variables).await?;
    }
    if let Some(compat) = spin_compat {
        check_allowed_hosts_spin_compat(&app, &variables, compat)?;
    }

    let limits = RequestLimits {
        timeout: Duration::from_millis(args.request_timeout_ms),
        stream_timeout: Duration::from_millis(args.stream_timeout_ms),
        max_body_bytes: args.max_body_bytes,
        max_memory_bytes: args.max_memory_mb * 1024 * 1024,
        max_concurrent: args.max_concurrent_requests.max(1),
        header_read_timeout: Duration::from_millis(args.header_read_timeout_ms.max(1)),
        body_read_timeout: Duration::from_millis(args.body_read_timeout_ms.max(1)),
        max_connections_per_client: args.max_connections_per_client,
    };
    let engine = engine::build(engine::EngineLimits {
        max_memory_bytes: limits.max_memory_bytes,
        max_instances: (limits.max_concurrent as u32).saturating_mul(2).max(16),
    })?;
    let _ticker = engine::EpochTicker::start(&engine);
    let mut linker: Linker<InstanceState> = Linker::new(&engine);
    Capabilities::add_to_linker(&mut linker)?;

    let cache_dir = args
        .cache_dir
        .clone()
        .unwrap_or_else(engine::default_cache_dir);
    let loader = Arc::new(Loader::new(app, variables, engine, linker, cache_dir));
    // Taken before loading, so a file rebuilt while start-up compiles is reloaded too.
    let watcher = args.watch.then(|| Watcher::snapshot(&loader));
    let components = Arc::new(Components::new(loader.load_routed()?));
    let app = loader.app();
    let router = Router::build(
        app.manifest
            .trigger
            .http
            .iter()
            .map(|t| (t.route.as_str(), t.component.as_str())),
    )?;

    let metrics = crate::runtime::metrics::Metrics::new(limits.max_concurrent);
    let server = Arc::new(Server::new(
        router,
        components.clone(),
        capabilities,
        limits,
        metrics.clone(),
    ));
    let (stop_tx, stop_rx) = watch::channel(false);
    if let Some(watcher) = watcher {
        watcher.spawn(loader.clone(), components, stop_rx.clone())?;
    }
    if let Some(admin) = args.admin_listen {
        let admin_listener = TcpListener::bind(admin)
            .await
            .with_context(|| format!("cannot listen on {admin} (--admin-listen)"))?;
        eprintln!(
            "spingraph metrics on http://{}/metrics",
            admin_listener.local_addr()?
        );
        tokio::spawn(crate::runtime::metrics::serve_admin(
            admin_listener,
            metrics,
            stop_rx.clone(),
        ));
    }
    let listener = TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("cannot listen on {}", args.listen))?;
    let local = listener.local_addr()?;
    tracing::info!(
        app = %app.manifest.application.name,
        manifest = %app.path.display(),
        listen = %local,
        startup_ms = started.elapsed().as_millis() as u64,
        "serving"
    );
    eprintln!("spingraph listening on http://{local}");

    tokio::spawn(async move {
        shutdown_signal().await;
        tracing::info!("shutdown signal received");
        let _ = stop_tx.send(true);
    });
    server
        .serve(
            listener,
            stop_rx,
            Duration::from_millis(args.drain_timeout_ms),
        )
        .await
}

fn load_runtime_config(path: &Path) -> Result<toml::Table> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read runtime config {}", path.display()))?;
    toml::from_str(&text)
        .map_err(|e| anyhow::anyhow!("{e}"))
        .with_context(|| format!("invalid runtime config {}", path.display()))
}

/// `--spin-compat`: every component's `allowed_outbound_hosts` (expanded) must be accepted by
/// that Spin too, which checks them when it loads the app.
fn check_allowed_hosts_spin_compat(
    app: &App,
    variables: &Variables,
    compat: SpinCompat,
) -> Result<()> {
    for (id, component) in &app.manifest.component {
        let hosts = variables
            .render_all(&component.allowed_outbound_hosts)
            .with_context(|| format!("[component.{id}] allowed_outbound_hosts"))?;
        AllowedHosts::check_spin_compat(&hosts, compat)
            .with_context(|| format!("[component.{id}] is rejected by --spin-compat {compat}"))?;
    }
    Ok(())
}

async fn shutdown_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = match signal(SignalKind::terminate()) {
        Ok(s) => s,
        Err(_) => {
            let _ = tokio::signal::ctrl_c().await;
            return;
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn variable_flag_takes_every_spin_form() {
        assert_eq!(
            parse_variable("a_b=x=y").unwrap(),
            VariableSource::Literal("a_b".into(), "x=y".into())
        );
        assert_eq!(
            parse_variable("k=@f.txt").unwrap(),
            VariableSource::FileContent("k".into(), "f.txt".into())
        );
        assert_eq!(
            parse_variable("@v.json").unwrap(),
            VariableSource::JsonFile("v.json".into())
        );
        assert!(parse_variable("novalue").is_err());
        assert!(parse_variable("Bad=1").unwrap_err().contains("\"Bad\""));
        assert!(
            parse_variable("@v.ini")
                .unwrap_err()
                .contains(".json or .toml")
        );
    }

    #[test]
    fn listen_address_resolves_names_preferring_ipv4_loopback() {
        assert_eq!(
            parse_listen_addr("127.0.0.1:3000").unwrap(),
            "127.0.0.1:3000".parse::<SocketAddr>().unwrap()
        );
        assert_eq!(
            parse_listen_addr("localhost:4321").unwrap(),
            "127.0.0.1:4321".parse::<SocketAddr>().unwrap()
        );
        assert!(parse_listen_addr("3000").is_err());
    }

    /// `spingraph up` flags as clap parses them, with only `vars` in the environment.
    fn parse_up(args: &[&str]) -> Result<UpArgs, clap::Error> {
        #[derive(clap::Parser)]
        struct Cli {
            #[command(flatten)]
            up: UpArgs,
        }
        use clap::Parser as _;
        Cli::try_parse_from(std::iter::once("up").chain(args.iter().copied())).map(|c| c.up)
    }

    #[test]
    fn flags_default_as_spin_up_and_take_spins_env_fallbacks() {
        // One test for both variables, so no two tests race on the process environment.
        let saved: Vec<_> = ["SPIN_HTTP_LISTEN_ADDR", "RUNTIME_CONFIG_FILE"]
            .iter()
            .map(|k| (*k, std::env::var_os(k)))
            .collect();
        // SAFETY: no other test in this crate reads or writes these two variables.
        unsafe {
            std::env::remove_var("SPIN_HTTP_LISTEN_ADDR");
            std::env::remove_var("RUNTIME_CONFIG_FILE");
        }
        let up = parse_up(&[]).unwrap();
        assert_eq!(up.listen, "127.0.0.1:3000".parse::<SocketAddr>().unwrap());
        assert_eq!(up.runtime_config_file, None);
        assert_eq!(up.from, None);
        assert_eq!(up.header_read_timeout_ms, 10_000);
        assert_eq!(up.body_read_timeout_ms, 30_000);
        assert_eq!(up.max_connections_per_client, 128);

        // SAFETY: as above.
        unsafe {
            std::env::set_var("SPIN_HTTP_LISTEN_ADDR", "127.0.0.1:4555");
            std::env::set_var("RUNTIME_CONFIG_FILE", "rc.toml");
        }
        let up = parse_up(&[]).unwrap();
        assert_eq!(up.listen, "127.0.0.1:4555".parse::<SocketAddr>().unwrap());
        assert_eq!(up.runtime_config_file, Some(PathBuf::from("rc.toml")));
        // A flag beats its environment fallback.
        let up = parse_up(&["--listen", "127.0.0.1:4556"]).unwrap();
        assert_eq!(up.listen, "127.0.0.1:4556".parse::<SocketAddr>().unwrap());

        // SAFETY: as above.
        unsafe {
            for (k, v) in saved {
                match v {
                    Some(v) => std::env::set_var(k, v),
                    None => std::env::remove_var(k),
                }
            }
        }
    }

    #[test]
    fn runtime_config_file_is_an_error_naming_it_when_unreadable_or_invalid() {
        let missing = Path::new("/nonexistent/spingraph-rc.toml");
        let err = format!("{:#}", load_runtime_config(missing).unwrap_err());
        assert!(err.contains("spingraph-rc.toml"), "{err}");
        let dir = std::env::temp_dir().join(format!("spingraph-unit-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        let bad = dir.join("rc.toml");
        std::fs::write(&bad, "[[variables_provider]\n").unwrap();
        let err = format!("{:#}", load_runtime_config(&bad).unwrap_err());
        let _ = std::fs::remove_dir_all(&dir);
        assert!(
            err.contains("invalid runtime config") && err.contains("rc.toml"),
            "{err}"
        );
    }
}
