//! Runtime-config variables providers (`[[variables_provider]]`: `env` with its dotenv file,
//! `static`), read as Spin 4.0.2 reads them.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use anyhow::{Context, Result, bail};
use serde::Deserialize;

/// The runtime-config key Spin 4.0.2 reads variables providers from, and the older name it
/// still accepts when the current one is absent (`crates/runtime-config/src/variables.rs`).
pub const PROVIDERS_KEY: &str = "variables_provider";
const LEGACY_PROVIDERS_KEY: &str = "config_provider";
/// The runtime-config key of key-value stores (`[key_value_store.<label>]`).
pub const KEY_VALUE_KEY: &str = "key_value_store";

/// Top-level runtime-config keys Spin 4.0.2 reads that configure what spingraph up does not have.
const SPIN_KEYS_NOT_SUPPORTED: &[&str] = &[
    "sqlite_database",
    "llm_compute",
    "outbound_http",
    "outbound_networking",
    "client_tls",
    "state_dir",
    "log_dir",
    "max_instance_memory",
];

/// `type = "env"`: like Spin, an unknown field is an error.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct EnvProviderConfig {
    #[serde(rename = "type")]
    _type: String,
    #[serde(default)]
    prefix: Option<String>,
    #[serde(default)]
    dotenv_path: Option<PathBuf>,
}

/// `type = "static"`: like Spin, other fields are ignored.
#[derive(Debug, Deserialize)]
struct StaticProviderConfig {
    values: BTreeMap<String, String>,
}

/// Reads one process environment variable (replaceable in tests).
pub(super) type EnvLookup = Box<dyn Fn(&str) -> Result<String, std::env::VarError> + Send + Sync>;

/// Where a variable's value can come from, in precedence order.
pub enum Provider {
    Static(BTreeMap<String, String>),
    Env {
        /// Joined to the upper-cased name with `_` (`SPIN_VARIABLE_DB_URL`); Spin 4.0.2 adds the
        /// `_` even to an empty prefix, so `prefix = ""` reads `_DB_URL`, and so do we.
        prefix: String,
        /// Consulted only for keys the process environment lacks, relative to the working
        /// directory (as Spin); read once, on the first such lookup.
        dotenv_path: Option<PathBuf>,
        dotenv: OnceLock<Result<HashMap<String, String>, String>>,
    },
}

impl fmt::Debug for Provider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Provider::Static(v) => write!(f, "Static({} values)", v.len()),
            Provider::Env {
                prefix,
                dotenv_path,
                ..
            } => write!(f, "Env({prefix}, dotenv {dotenv_path:?})"),
        }
    }
}

pub const DEFAULT_ENV_PREFIX: &str = "SPIN_VARIABLE";

/// The `.env` file Spin's default environment provider reads, relative to the working directory.
pub const DEFAULT_DOTENV: &str = ".env";

impl Provider {
    pub(super) fn get(&self, name: &str, env: &EnvLookup) -> Result<Option<String>> {
        match self {
            Provider::Static(values) => Ok(values.get(name).cloned()),
            Provider::Env {
                prefix,
                dotenv_path,
                dotenv,
            } => {
                let key = format!("{prefix}_{}", name.to_ascii_uppercase());
                match env(&key) {
                    Ok(value) => return Ok(Some(value)),
                    Err(std::env::VarError::NotPresent) => {}
                    Err(e) => bail!("environment variable {key}: {e}"),
                }
                let Some(path) = dotenv_path else {
                    return Ok(None);
                };
                match dotenv.get_or_init(|| read_dotenv(path)) {
                    Ok(values) => Ok(values.get(&key).cloned()),
                    Err(e) => bail!("{e}"),
                }
            }
        }
    }

    fn env(prefix: Option<String>, dotenv_path: Option<PathBuf>) -> Provider {
        Provider::Env {
            prefix: prefix.unwrap_or_else(|| DEFAULT_ENV_PREFIX.to_string()),
            dotenv_path,
            dotenv: OnceLock::new(),
        }
    }

    /// One `[[variables_provider]]` entry.
    fn from_config(value: &toml::Value) -> Result<Provider> {
        let kind = value
            .get("type")
            .and_then(toml::Value::as_str)
            .context("a variables provider needs a `type` (\"env\" or \"static\")")?;
        match kind {
            "env" => {
                let c: EnvProviderConfig = value.clone().try_into()?;
                Ok(Provider::env(c.prefix, c.dotenv_path))
            }
            "static" => {
                let c: StaticProviderConfig = value.clone().try_into()?;
                Ok(Provider::Static(c.values))
            }
            "vault" | "azure_key_vault" => bail!(
                "variables provider type {kind:?} is not supported by spingraph up \
                 (supported: \"env\", \"static\")"
            ),
            other => bail!(
                "unknown variables provider type {other:?} \
                 (Spin knows \"env\", \"static\", \"vault\", \"azure_key_vault\")"
            ),
        }
    }
}

/// A `.env` file as `dotenvy` (Spin's parser) reads it; a missing file is empty, as on Spin.
fn read_dotenv(path: &Path) -> Result<HashMap<String, String>, String> {
    let lines = match dotenvy::from_path_iter(path) {
        Ok(lines) => lines,
        Err(dotenvy::Error::Io(e)) if e.kind() == std::io::ErrorKind::NotFound => {
            return Ok(HashMap::new());
        }
        Err(e) => return Err(format!("cannot read dotenv file {}: {e}", path.display())),
    };
    lines
        .collect::<Result<HashMap<_, _>, _>>()
        .map_err(|e| format!("invalid dotenv file {}: {e}", path.display()))
}

/// The variables providers of a runtime-config file, in order, followed by the environment
/// provider Spin always appends (`SPIN_VARIABLE_<NAME>`, then `./.env`). Accepts exactly the
/// keys Spin 4.0.2 reads for variables and rejects the rest, naming them.
pub fn providers_from_runtime_config(
    runtime_config: Option<&toml::Table>,
) -> Result<Vec<Provider>> {
    let mut providers = Vec::new();
    if let Some(table) = runtime_config {
        let mut rejected = Vec::new();
        for key in table.keys() {
            match key.as_str() {
                PROVIDERS_KEY => {}
                // Read by the key-value capability (`capabilities/key_value.rs`).
                KEY_VALUE_KEY => {}
                // Spin reads the older name only when the current one is absent; a file with
                // both fails there with "unused runtime config key(s): config_provider".
                LEGACY_PROVIDERS_KEY if !table.contains_key(PROVIDERS_KEY) => {}
                LEGACY_PROVIDERS_KEY => rejected.push(format!(
                    "{key:?} (ignored by Spin next to [[{PROVIDERS_KEY}]], which fails on it: \
                     merge its entries into [[{PROVIDERS_KEY}]])"
                )),
                k if SPIN_KEYS_NOT_SUPPORTED.contains(&k) => rejected.push(format!(
                    "{key:?} (read by Spin, not supported by spingraph up)"
                )),
                _ => rejected.push(format!("{key:?} (unknown to Spin too)")),
            }
        }
        if !rejected.is_empty() {
            bail!(
                "unsupported runtime config key{}: {} (spingraph up reads only [[{PROVIDERS_KEY}]] \
                 of type \"env\" or \"static\" and [{KEY_VALUE_KEY}.<label>] of type \"redis\")",
                if rejected.len() > 1 { "s" } else { "" },
                rejected.join(", ")
            );
        }
        let key = if table.contains_key(PROVIDERS_KEY) {
            PROVIDERS_KEY
        } else {
            LEGACY_PROVIDERS_KEY
        };
        if let Some(value) = table.get(key) {
            let entries = value
                .as_array()
                .with_context(|| format!("runtime config {key}: expected [[{key}]] entries"))?;
            for (i, entry) in entries.iter().enumerate() {
                providers.push(
                    Provider::from_config(entry)
                        .with_context(|| format!("runtime config [[{key}]] entry {}", i + 1))?,
                );
            }
        }
    }
    providers.push(Provider::env(None, Some(PathBuf::from(DEFAULT_DOTENV))));
    Ok(providers)
}
