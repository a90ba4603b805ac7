//! `spingraph up`: load the manifest and runtime config, resolve variables, compile
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

use crate::capabilities::variables::{Resolver, Value, Variables};
use crate::capabilities::{self, Capabilities};
use crate::loader::Loader;
use crate::manifest::App;
use crate::router::Router;
use crate::server::{Components, RequestLimits, Server};
use crate::state::InstanceState;
use crate::watch::Watcher;
use crate::{access_log, engine};

#[derive(clap::Args, Debug)]
pub struct UpArgs {
    /// The application manifest, or a directory containing spin.toml.
    #[arg(
        short = 'f',
        long = "from",
        value_name = "MANIFEST",
        default_value = "spin.toml"
    )]
    pub from: PathBuf,

    /// Address to serve HTTP on.
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:3000")]
    pub listen: SocketAddr,

    /// Runtime configuration (variables providers). Default: runtime-config.toml
    /// next to the manifest, if present.
    #[arg(long, value_name = "FILE")]
    pub runtime_config_file: Option<PathBuf>,

    /// Set an application variable (highest precedence). Repeatable.
    #[arg(long = "variable", value_name = "NAME=VALUE", value_parser = parse_variable)]
    pub variables: Vec<(String, String)>,

    /// Development mode: create and migrate the database, generate an ephemeral
    /// JWT signing key when none is configured.
    #[arg(long)]
    pub dev: bool,

    /// Turn the limits of a released Spin into errors (e.g. `4.0.2`).
    #[arg(long, value_name = "VERSION", env = "SPINGRAPH_SPIN_COMPAT")]
    pub spin_compat: Option<String>,

    /// Serve Prometheus /metrics on this separate address.
    #[arg(long, value_name = "ADDR")]
    pub admin_listen: Option<SocketAddr>,

    /// Largest linear memory one instance may use, in MiB.
    #[arg(long, default_value_t = 128)]
    pub max_memory_mb: usize,

    /// Per-request time limit, in milliseconds.
    #[arg(long, default_value_t = 30_000)]
    pub request_timeout_ms: u64,

    /// Largest request body the host accepts, in bytes.
    #[arg(long, default_value_t = 1024 * 1024)]
    pub max_body_bytes: usize,

    /// Requests run at once; more wait for a slot (up to the request time limit).
    #[arg(long, default_value_t = 128)]
    pub max_concurrent_requests: usize,

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

fn parse_variable(s: &str) -> Result<(String, String), String> {
    let (name, value) = s
        .split_once('=')
        .ok_or_else(|| format!("expected NAME=VALUE, got {s:?}"))?;
    crate::manifest::validate_variable_name(name).map_err(|e| e.to_string())?;
    Ok((name.to_string(), value.to_string()))
}

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
    let app = App::load(&args.from)?;

    let runtime_config = load_runtime_config(&app, args.runtime_config_file.as_deref())?;
    let rc_base = match &args.runtime_config_file {
        Some(p) => p.parent().map(Path::to_path_buf).unwrap_or_default(),
        None => app.dir.clone(),
    };
    let mut resolver = Resolver::new(&args.variables, runtime_config.as_ref(), &rc_base)?;
    if args.dev {
        dev_signing_key(&app, &mut resolver)?;
    }
    let variables = Variables::resolve(&app.manifest.variables, &resolver)?;
    if args.dev {
        dev_database(&variables).await?;
    }

    let spin_compat = args
        .spin_compat
        .as_deref()
        .filter(|v| !v.is_empty())
        .map(str::parse)
        .transpose()
        .context("--spin-compat")?;
    let capabilities = Capabilities::new(spin_compat)?;

    let limits = RequestLimits {
        timeout: Duration::from_millis(args.request_timeout_ms),
        max_body_bytes: args.max_body_bytes,
        max_memory_bytes: args.max_memory_mb * 1024 * 1024,
        max_concurrent: args.max_concurrent_requests.max(1),
    };
    let engine = engine::build(engine::EngineLimits {
        max_memory_bytes: limits.max_memory_bytes,
        max_instances: (limits.max_concurrent as u32).saturating_mul(2).max(16),
    })?;
    let _ticker = engine::EpochTicker::start(&engine);
    let mut linker: Linker<InstanceState> = Linker::new(&engine);
    capabilities::add_to_linker(&mut linker)?;

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

    let metrics = crate::metrics::Metrics::new(limits.max_concurrent);
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
        tokio::spawn(crate::metrics::serve_admin(
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

fn load_runtime_config(app: &App, explicit: Option<&Path>) -> Result<Option<toml::Table>> {
    let path = match explicit {
        Some(p) => p.to_path_buf(),
        None => {
            let p = app.dir.join("runtime-config.toml");
            if !p.is_file() {
                return Ok(None);
            }
            p
        }
    };
    let text = std::fs::read_to_string(&path)
        .with_context(|| format!("cannot read runtime config {}", path.display()))?;
    let table = toml::from_str(&text)
        .map_err(|e| anyhow::anyhow!("{e}"))
        .with_context(|| format!("invalid runtime config {}", path.display()))?;
    Ok(Some(table))
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

const SIGNING_KEY: &str = "jwt_signing_key";
const PUBLIC_KEYS: &str = "jwt_public_keys";

/// `--dev` without a configured signing key: generate an ephemeral Ed25519 pair.
fn dev_signing_key(app: &App, resolver: &mut Resolver) -> Result<()> {
    let Some(decl) = app.manifest.variables.get(SIGNING_KEY) else {
        return Ok(());
    };
    if resolver.lookup(SIGNING_KEY).is_some() || decl.default.is_some() {
        return Ok(());
    }
    let (signing, public) = generate_signing_keys()?;
    resolver.set_override(SIGNING_KEY, Value::new(signing, true));
    if app.manifest.variables.contains_key(PUBLIC_KEYS) {
        resolver.set_override(PUBLIC_KEYS, Value::new(public, false));
    }
    eprintln!(
        "\n\
         ************************************************************************\n\
         * WARNING: --dev generated an EPHEMERAL Ed25519 JWT signing key.       *\n\
         * Tokens issued now stop verifying when this process exits, and the    *\n\
         * key exists only in memory. Never run like this in production: set    *\n\
         * SPIN_VARIABLE_JWT_SIGNING_KEY and SPIN_VARIABLE_JWT_PUBLIC_KEYS.     *\n\
         ************************************************************************\n"
    );
    Ok(())
}

/// `("<kid>:<base64url seed>", JWKS JSON)` for a fresh Ed25519 key pair
/// (`--dev` and `spingraph admin gen-keys`).
pub(crate) fn generate_signing_keys() -> Result<(String, String)> {
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let mut seed = [0u8; 32];
    getrandom::fill(&mut seed).map_err(|e| anyhow::anyhow!("no randomness available: {e}"))?;
    let mut kid_bytes = [0u8; 6];
    getrandom::fill(&mut kid_bytes).map_err(|e| anyhow::anyhow!("no randomness available: {e}"))?;
    let kid = format!("dev-{}", b64.encode(kid_bytes));
    let key = ed25519_dalek::SigningKey::from_bytes(&seed);
    let x = b64.encode(key.verifying_key().to_bytes());
    let jwks = serde_json::json!({
        "keys": [{"kty": "OKP", "crv": "Ed25519", "alg": "EdDSA", "use": "sig", "kid": kid, "x": x}]
    });
    Ok((format!("{kid}:{}", b64.encode(seed)), jwks.to_string()))
}

/// `--dev`: create the database if missing and apply pending migrations.
async fn dev_database(variables: &Variables) -> Result<()> {
    let Some(url) = variables.get("database_url") else {
        bail!("--dev needs the `database_url` variable to create and migrate the database");
    };
    crate::migrate::ensure_database_and_migrate(url.expose())
        .await
        .context("--dev: preparing the database")?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dev_keys_have_the_agreed_formats() {
        use base64::Engine as _;
        let (signing, jwks) = generate_signing_keys().unwrap();
        let (kid, seed) = signing.split_once(':').unwrap();
        let seed = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(seed)
            .unwrap();
        assert_eq!(seed.len(), 32);
        let jwks: serde_json::Value = serde_json::from_str(&jwks).unwrap();
        let key = &jwks["keys"][0];
        assert_eq!(key["kid"], kid);
        assert_eq!(key["kty"], "OKP");
        assert_eq!(key["crv"], "Ed25519");
        assert_eq!(key["alg"], "EdDSA");
        let x = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(key["x"].as_str().unwrap())
            .unwrap();
        let expected = ed25519_dalek::SigningKey::from_bytes(&seed.try_into().unwrap())
            .verifying_key()
            .to_bytes();
        assert_eq!(x, expected);
    }

    #[test]
    fn variable_flag_needs_name_equals_value() {
        assert_eq!(
            parse_variable("a_b=x=y").unwrap(),
            ("a_b".to_string(), "x=y".to_string())
        );
        assert!(parse_variable("novalue").is_err());
        assert!(parse_variable("Bad=1").is_err());
    }
}
