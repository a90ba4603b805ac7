//! Application variables, resolved exactly as Spin does: `--variable` values (literal, `@file`
//! or a JSON/TOML file of them), then the runtime-config providers in order, then
//! `SPIN_VARIABLE_<NAME>` (and `./.env`, read with dotenvy), then the manifest default. Components read only their own `[component.X.variables]`,
//! whose `{{ app_variable }}` templates are expanded once at start-up. Implements
//! `fermyon:spin/variables@2.0.0`, `spin:variables@3.0.0` (when the bindings carry
//! it) and `wasi:config/store`.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::{Arc, OnceLock};

use anyhow::{Context, Result, bail};
use serde::Deserialize;
use wasmtime::component::{HasSelf, Linker};

use crate::capabilities::{AppConfig, Capability, InstanceField};
use crate::manifest::{self, Template};
use crate::server::ServedComponent;
use crate::state::InstanceState;

/// A variable value that never prints itself when secret.
#[derive(Clone, PartialEq, Eq)]
pub struct Value {
    value: String,
    secret: bool,
}

impl Value {
    pub fn new(value: impl Into<String>, secret: bool) -> Value {
        Value {
            value: value.into(),
            secret,
        }
    }

    /// The real value; use only to hand it to a guest or a template.
    pub fn expose(&self) -> &str {
        &self.value
    }

    pub fn is_secret(&self) -> bool {
        self.secret
    }
}

impl fmt::Debug for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.secret {
            f.write_str("\"<redacted>\"")
        } else {
            fmt::Debug::fmt(&self.value, f)
        }
    }
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.secret {
            f.write_str("<redacted>")
        } else {
            f.write_str(&self.value)
        }
    }
}

/// One `--variable` argument, in the four forms `spin up` takes (Spin 4.0.2,
/// `crates/variables-static/src/source.rs`). The form is checked when the flag is parsed; files
/// are read at start-up ([`VariableSource::read`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VariableSource {
    /// `name=value`.
    Literal(String, String),
    /// `name=@file`: the value is the file's whole content, trailing newline included (as Spin).
    FileContent(String, PathBuf),
    /// `@file.json`: an object of names to string values.
    JsonFile(PathBuf),
    /// `@file.toml`: a table of names to string values.
    TomlFile(PathBuf),
}

impl FromStr for VariableSource {
    type Err = anyhow::Error;

    fn from_str(s: &str) -> Result<Self> {
        if let Some(path) = s.strip_prefix('@') {
            let path = PathBuf::from(path);
            return match path.extension().and_then(|e| e.to_str()) {
                Some("json") => Ok(VariableSource::JsonFile(path)),
                Some("toml") => Ok(VariableSource::TomlFile(path)),
                _ => bail!(
                    "a file of variables must end in .json or .toml, got {s:?} \
                     (to read one variable from a file, write NAME=@FILE)"
                ),
            };
        }
        let Some((name, value)) = s.split_once('=') else {
            bail!("expected NAME=VALUE, NAME=@FILE, @FILE.json or @FILE.toml, got {s:?}");
        };
        manifest::validate_variable_name(name)
            .with_context(|| format!("variable name {name:?}"))?;
        Ok(match value.strip_prefix('@') {
            Some(path) => VariableSource::FileContent(name.to_string(), PathBuf::from(path)),
            None => VariableSource::Literal(name.to_string(), value.to_string()),
        })
    }
}

impl VariableSource {
    /// The `(name, value)` pairs this source sets, reading its file if it names one.
    pub fn read(&self) -> Result<Vec<(String, String)>> {
        let read = |path: &Path| {
            std::fs::read_to_string(path)
                .with_context(|| format!("--variable: cannot read {}", path.display()))
        };
        let pairs: BTreeMap<String, String> = match self {
            VariableSource::Literal(name, value) => return Ok(vec![(name.clone(), value.clone())]),
            VariableSource::FileContent(name, path) => {
                return Ok(vec![(name.clone(), read(path)?)]);
            }
            VariableSource::JsonFile(path) => {
                serde_json::from_str(&read(path)?).with_context(|| {
                    format!(
                        "--variable: {} is not a JSON object of variable names to string values",
                        path.display()
                    )
                })?
            }
            VariableSource::TomlFile(path) => toml::from_str(&read(path)?).with_context(|| {
                format!(
                    "--variable: {} is not a TOML table of variable names to string values",
                    path.display()
                )
            })?,
        };
        for name in pairs.keys() {
            manifest::validate_variable_name(name).with_context(|| {
                let path = match self {
                    VariableSource::JsonFile(p) | VariableSource::TomlFile(p) => p.display(),
                    _ => unreachable!("only files of variables get here"),
                };
                format!("--variable: {path}: variable name {name:?}")
            })?;
        }
        Ok(pairs.into_iter().collect())
    }

    /// Every source's pairs in order; a name set twice keeps its last value (as Spin).
    pub fn read_all(sources: &[VariableSource]) -> Result<Vec<(String, String)>> {
        let mut merged: BTreeMap<String, String> = BTreeMap::new();
        for source in sources {
            merged.extend(source.read()?);
        }
        Ok(merged.into_iter().collect())
    }
}

/// The runtime-config key Spin 4.0.2 reads variables providers from, and the older name it
/// still accepts when the current one is absent (`crates/runtime-config/src/variables.rs`).
pub const PROVIDERS_KEY: &str = "variables_provider";
const LEGACY_PROVIDERS_KEY: &str = "config_provider";

/// Top-level runtime-config keys Spin 4.0.2 reads that configure what spingraph up does not have.
const SPIN_KEYS_NOT_SUPPORTED: &[&str] = &[
    "key_value_store",
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
    fn get(&self, name: &str, env: &EnvLookup) -> Result<Option<String>> {
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
                 of type \"env\" or \"static\")",
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

/// Looks up application variable values from every source but the manifest default.
pub struct Resolver {
    /// `--variable` values (highest precedence).
    overrides: BTreeMap<String, Value>,
    providers: Vec<Provider>,
    env: EnvLookup,
}

/// Reads one process environment variable (replaceable in tests).
type EnvLookup = Box<dyn Fn(&str) -> Result<String, std::env::VarError> + Send + Sync>;

impl Resolver {
    /// `overrides` are the `--variable` values ([`VariableSource::read_all`]); `runtime_config`
    /// is the parsed `--runtime-config-file`, if one was given.
    pub fn new(
        overrides: &[(String, String)],
        runtime_config: Option<&toml::Table>,
    ) -> Result<Resolver> {
        let providers = providers_from_runtime_config(runtime_config)?;
        let overrides = overrides
            .iter()
            .map(|(k, v)| (k.clone(), Value::new(v.clone(), false)))
            .collect();
        Ok(Resolver {
            overrides,
            providers,
            env: Box::new(|k| std::env::var(k)),
        })
    }

    /// Replaces the process environment (tests).
    #[cfg(test)]
    fn with_env(mut self, env: impl Fn(&str) -> Option<String> + Send + Sync + 'static) -> Self {
        self.env = Box::new(move |k| env(k).ok_or(std::env::VarError::NotPresent));
        self
    }

    /// Points the default environment provider (always the last) at another `.env` (tests).
    #[cfg(test)]
    fn with_dotenv(mut self, path: Option<PathBuf>) -> Self {
        if let Some(Provider::Env { dotenv_path, .. }) = self.providers.last_mut() {
            *dotenv_path = path;
        }
        self
    }

    /// Sets a value with `--variable` precedence (used by `--dev` for generated keys).
    pub fn set_override(&mut self, name: &str, value: Value) {
        self.overrides.insert(name.to_string(), value);
    }

    /// The value from an override or provider, ignoring manifest defaults.
    pub fn lookup(&self, name: &str) -> Result<Option<String>> {
        if let Some(v) = self.overrides.get(name) {
            return Ok(Some(v.expose().to_string()));
        }
        for provider in &self.providers {
            if let Some(value) = provider
                .get(name, &self.env)
                .with_context(|| format!("resolving variable {name:?}"))?
            {
                return Ok(Some(value));
            }
        }
        Ok(None)
    }
}

/// App-wide variables state: every application variable resolved once at start-up, and every
/// component's `[component.X.variables]` rendered from them (the manifest is read once).
#[derive(Debug)]
pub struct Variables {
    app: BTreeMap<String, Value>,
    components: HashMap<String, VariablesInstance>,
}

impl Variables {
    /// Resolves every declared variable; a required variable without a value is an
    /// error naming it (all such variables, in fact).
    pub fn resolve(
        declared: &BTreeMap<String, manifest::Variable>,
        resolver: &Resolver,
    ) -> Result<Variables> {
        for name in resolver.overrides.keys() {
            if !declared.contains_key(name) {
                tracing::warn!(variable = %name, "--variable names a variable the manifest does not declare");
            }
        }
        let mut app = BTreeMap::new();
        let mut missing = Vec::new();
        for (name, decl) in declared {
            match resolver.lookup(name)?.or_else(|| decl.default.clone()) {
                Some(value) => {
                    app.insert(name.clone(), Value::new(value, decl.secret));
                }
                None => missing.push(name.as_str()),
            }
        }
        if !missing.is_empty() {
            let list = missing.join(", ");
            let first = missing[0];
            bail!(
                "required variable{} not set: {list} (set it with --variable {first}=..., \
                 {DEFAULT_ENV_PREFIX}_{} in the environment or in ./{DEFAULT_DOTENV}, or a \
                 --runtime-config-file provider)",
                if missing.len() > 1 { "s" } else { "" },
                first.to_ascii_uppercase()
            );
        }
        Ok(Variables {
            app,
            components: HashMap::new(),
        })
    }

    /// An application variable's value.
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.app.get(name)
    }

    /// Expands `{{ app_variable }}` references (allowed_outbound_hosts, component variables).
    pub fn render(&self, template: &str) -> Result<Value> {
        let t = Template::parse(template)?;
        let secret = t
            .variables()
            .any(|v| self.app.get(v).is_some_and(Value::is_secret));
        let rendered = t.render(|v| self.app.get(v).map(Value::expose))?;
        Ok(Value::new(rendered, secret))
    }

    /// Every one of `templates` expanded, as the plain text a check reads (allowed hosts).
    pub fn render_all(&self, templates: &[String]) -> Result<Vec<String>> {
        templates
            .iter()
            .map(|t| Ok(self.render(t)?.expose().to_string()))
            .collect()
    }

    /// The values one component may read, from its `[component.X.variables]`.
    pub fn for_component(
        &self,
        component: &str,
        templates: &BTreeMap<String, String>,
    ) -> Result<VariablesInstance> {
        let values = templates
            .iter()
            .map(|(k, t)| {
                let v = self
                    .render(t)
                    .with_context(|| format!("[component.{component}.variables] {k}"))?;
                Ok((k.clone(), v))
            })
            .collect::<Result<BTreeMap<_, _>>>()?;
        Ok(VariablesInstance {
            component: component.into(),
            values: Arc::new(values),
        })
    }
}

/// One component's resolved variables: rendered once at start-up, cloned (two `Arc`s) into each
/// instance's store.
#[derive(Debug, Clone)]
pub struct VariablesInstance {
    component: Arc<str>,
    values: Arc<BTreeMap<String, Value>>,
}

/// Why a variable read failed; mapped onto each WIT interface's error type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GetError {
    InvalidName(String),
    Undefined(String),
}

impl VariablesInstance {
    pub fn get(&self, name: &str) -> Result<String, GetError> {
        if let Err(e) = manifest::validate_variable_name(name) {
            return Err(GetError::InvalidName(e.to_string()));
        }
        self.values
            .get(name)
            .map(|v| v.expose().to_string())
            .ok_or_else(|| {
                GetError::Undefined(format!("no variable for {:?}.{name:?}", self.component))
            })
    }

    pub fn get_all(&self) -> Vec<(String, String)> {
        self.values
            .iter()
            .map(|(k, v)| (k.clone(), v.expose().to_string()))
            .collect()
    }
}

impl Capability for Variables {
    type Instance = VariablesInstance;

    /// Links `fermyon:spin/variables@2.0.0` and `wasi:config/store`.
    fn add_to_linker(linker: &mut Linker<InstanceState>, field: InstanceField<Self>) -> Result<()> {
        v2::add_to_linker::<_, HasSelf<VariablesInstance>>(linker, field)?;
        wasi_config::add_to_linker::<_, HasSelf<VariablesInstance>>(linker, field)?;
        Ok(())
    }

    fn configure_app(config: &AppConfig<'_>) -> Result<Variables> {
        let mut variables = Variables::resolve(&config.app.manifest.variables, config.resolver)?;
        for (id, component) in &config.app.manifest.component {
            let rendered = variables.for_component(id, &component.variables)?;
            variables.components.insert(id.clone(), rendered);
        }
        Ok(variables)
    }

    fn prepare(&self, component: &ServedComponent) -> VariablesInstance {
        match self.components.get(&*component.id) {
            Some(variables) => variables.clone(),
            None => VariablesInstance {
                component: component.id.clone(),
                values: Arc::default(),
            },
        }
    }
}

use crate::capabilities::bindings::fermyon::spin::variables as v2;
use crate::capabilities::bindings::wasi::config::store as wasi_config;

impl v2::Host for VariablesInstance {
    async fn get(&mut self, name: String) -> wasmtime::Result<Result<String, v2::Error>> {
        Ok(VariablesInstance::get(self, &name).map_err(|e| match e {
            GetError::InvalidName(m) => v2::Error::InvalidName(m),
            GetError::Undefined(m) => v2::Error::Undefined(m),
        }))
    }
}

impl wasi_config::Host for VariablesInstance {
    async fn get(
        &mut self,
        key: String,
    ) -> wasmtime::Result<Result<Option<String>, wasi_config::Error>> {
        // Spin answers an unknown or invalid key with `none`, not an error.
        Ok(Ok(VariablesInstance::get(self, &key).ok()))
    }

    async fn get_all(
        &mut self,
    ) -> wasmtime::Result<Result<Vec<(String, String)>, wasi_config::Error>> {
        Ok(Ok(VariablesInstance::get_all(self)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::Variable;

    fn decls(entries: &[(&str, Option<&str>, bool)]) -> BTreeMap<String, Variable> {
        entries
            .iter()
            .map(|(name, default, secret)| {
                (
                    name.to_string(),
                    Variable {
                        description: None,
                        required: default.is_none(),
                        default: default.map(str::to_string),
                        secret: *secret,
                    },
                )
            })
            .collect()
    }

    fn resolver(cli: &[(&str, &str)], rc: Option<&str>, env: &[(&str, &str)]) -> Resolver {
        let cli: Vec<(String, String)> = cli
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let rc: Option<toml::Table> = rc.map(|t| toml::from_str(t).unwrap());
        let env: HashMap<String, String> = env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Resolver::new(&cli, rc.as_ref())
            .unwrap()
            .with_dotenv(None)
            .with_env(move |k| env.get(k).cloned())
    }

    /// What variable `a` of `d` resolves to through `r`.
    fn resolved_a(d: &BTreeMap<String, Variable>, r: &Resolver) -> String {
        Variables::resolve(d, r)
            .unwrap()
            .get("a")
            .unwrap()
            .expose()
            .to_string()
    }

    /// What a required variable `a` resolves to with runtime config `rc` alone.
    fn a_from_runtime_config(rc: &str) -> String {
        resolved_a(&decls(&[("a", None, false)]), &resolver(&[], Some(rc), &[]))
    }

    const RC_ENV_PREFIX: &str = "[[variables_provider]]\ntype = \"env\"\nprefix = \"MYAPP\"\n";

    #[test]
    fn precedence_is_cli_then_providers_then_spin_env_then_default() {
        let d = decls(&[("a", Some("default"), false)]);
        let all = resolver(
            &[("a", "cli")],
            Some(RC_ENV_PREFIX),
            &[("MYAPP_A", "provider"), ("SPIN_VARIABLE_A", "env")],
        );
        assert_eq!(resolved_a(&d, &all), "cli");

        let no_cli = resolver(
            &[],
            Some(RC_ENV_PREFIX),
            &[("MYAPP_A", "provider"), ("SPIN_VARIABLE_A", "env")],
        );
        assert_eq!(resolved_a(&d, &no_cli), "provider");

        let env_only = resolver(&[], Some(RC_ENV_PREFIX), &[("SPIN_VARIABLE_A", "env")]);
        assert_eq!(resolved_a(&d, &env_only), "env");

        let nothing = resolver(&[], None, &[]);
        assert_eq!(resolved_a(&d, &nothing), "default");
    }

    #[test]
    fn static_provider_supplies_values() {
        assert_eq!(
            a_from_runtime_config(
                "[[variables_provider]]\ntype = \"static\"\nvalues = { a = \"s\" }\n"
            ),
            "s"
        );
    }

    /// The error `Resolver::new` gives for a runtime-config text.
    fn rc_error(rc: &str) -> String {
        let rc: toml::Table = toml::from_str(rc).unwrap();
        format!(
            "{:#}",
            Resolver::new(&[], Some(&rc)).err().expect("rejected")
        )
    }

    #[test]
    fn unsupported_provider_types_are_errors_naming_them() {
        let err = rc_error("[[variables_provider]]\ntype = \"vault\"\nurl = \"x\"\n");
        assert!(
            err.contains("\"vault\"") && err.contains("not supported"),
            "{err}"
        );
        let err = rc_error("[[variables_provider]]\ntype = \"magic\"\n");
        assert!(
            err.contains("unknown variables provider type \"magic\""),
            "{err}"
        );
        let err = rc_error("[[variables_provider]]\nprefix = \"X\"\n");
        assert!(err.contains("needs a `type`"), "{err}");
    }

    #[test]
    fn unknown_runtime_config_key_is_an_error_naming_it() {
        let err = rc_error("[key_value_store.default]\ntype = \"redis\"\n");
        assert!(
            err.contains("\"key_value_store\" (read by Spin, not supported"),
            "{err}"
        );
        let err = rc_error("[[variable_provider]]\ntype = \"env\"\n");
        assert!(
            err.contains("\"variable_provider\" (unknown to Spin too)"),
            "{err}"
        );
    }

    #[test]
    fn legacy_config_provider_is_read_only_without_variables_provider() {
        let legacy = "[[config_provider]]\ntype = \"static\"\nvalues = { a = \"old\" }\n";
        assert_eq!(a_from_runtime_config(legacy), "old");
        // Spin 4.0.2 ignores config_provider next to variables_provider and then fails on it.
        let err = rc_error(&format!(
            "{legacy}[[variables_provider]]\ntype = \"static\"\nvalues = {{ a = \"new\" }}\n"
        ));
        assert!(
            err.contains("\"config_provider\" (ignored by Spin"),
            "{err}"
        );
    }

    #[test]
    fn env_provider_rejects_unknown_fields_and_static_ignores_them_as_spin_does() {
        let err = rc_error("[[variables_provider]]\ntype = \"env\"\nprefx = \"X\"\n");
        assert!(err.contains("prefx"), "{err}");
        let rc = "[[variables_provider]]\ntype = \"static\"\nvalues = { a = \"s\" }\nnote = 1\n";
        assert_eq!(a_from_runtime_config(rc), "s");
    }

    #[test]
    fn empty_env_prefix_still_joins_with_an_underscore_as_spin_does() {
        let d = decls(&[("a", None, false)]);
        let rc = "[[variables_provider]]\ntype = \"env\"\nprefix = \"\"\n";
        let r = resolver(&[], Some(rc), &[("A", "bare"), ("_A", "underscored")]);
        assert_eq!(resolved_a(&d, &r), "underscored");
    }

    /// A file under a fresh temp directory, removed (with the directory) when dropped.
    struct TempFile(PathBuf);

    impl TempFile {
        fn new(name: &str, contents: &str) -> TempFile {
            let dir = std::env::temp_dir().join(format!("spingraph-unit-{}", uuid::Uuid::new_v4()));
            std::fs::create_dir_all(&dir).unwrap();
            let path = dir.join(name);
            std::fs::write(&path, contents).unwrap();
            TempFile(path)
        }

        fn arg(&self, prefix: &str) -> String {
            format!("{prefix}@{}", self.0.display())
        }
    }

    impl Drop for TempFile {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(self.0.parent().unwrap());
        }
    }

    fn read_sources(args: &[String]) -> Result<Vec<(String, String)>> {
        let sources = args
            .iter()
            .map(|a| a.parse::<VariableSource>())
            .collect::<Result<Vec<_>>>()?;
        VariableSource::read_all(&sources)
    }

    #[test]
    fn variable_flag_forms_parse_as_spin_up_takes_them() {
        assert_eq!(
            "a_b=x=y".parse::<VariableSource>().unwrap(),
            VariableSource::Literal("a_b".into(), "x=y".into())
        );
        assert_eq!(
            "k=@secret.txt".parse::<VariableSource>().unwrap(),
            VariableSource::FileContent("k".into(), "secret.txt".into())
        );
        assert_eq!(
            "@vars.json".parse::<VariableSource>().unwrap(),
            VariableSource::JsonFile("vars.json".into())
        );
        assert_eq!(
            "@dir/vars.toml".parse::<VariableSource>().unwrap(),
            VariableSource::TomlFile("dir/vars.toml".into())
        );
        assert_eq!(
            "k=".parse::<VariableSource>().unwrap(),
            VariableSource::Literal("k".into(), String::new())
        );
    }

    #[test]
    fn malformed_variable_flags_are_errors_naming_the_problem() {
        for (arg, expect) in [
            ("novalue", "expected NAME=VALUE"),
            ("@vars", "must end in .json or .toml"),
            ("@vars.yaml", "must end in .json or .toml"),
            ("Bad=1", "variable name \"Bad\""),
            ("=1", "must not be empty"),
            ("Bad=@file", "variable name \"Bad\""),
        ] {
            let err = format!("{:#}", arg.parse::<VariableSource>().unwrap_err());
            assert!(err.contains(expect), "{arg:?}: {err}");
        }
    }

    #[test]
    fn name_at_file_reads_the_whole_file_as_the_value() {
        let file = TempFile::new("secret.txt", "s3cr=t\nline two\n");
        let vars = read_sources(&[file.arg("probe_secret=")]).unwrap();
        // Spin keeps the content as it is, trailing newline included.
        assert_eq!(
            vars,
            vec![("probe_secret".into(), "s3cr=t\nline two\n".into())]
        );
    }

    #[test]
    fn json_and_toml_files_set_many_variables_and_the_last_source_wins() {
        let json = TempFile::new("vars.json", r#"{"a": "json", "b": "json"}"#);
        let toml = TempFile::new("vars.toml", "b = \"toml\"\nc = \"toml\"\n");
        let vars = read_sources(&[json.arg(""), toml.arg(""), "c=cli".to_string()]).unwrap();
        assert_eq!(
            vars,
            vec![
                ("a".into(), "json".into()),
                ("b".into(), "toml".into()),
                ("c".into(), "cli".into())
            ]
        );
        // ... and a literal before a file is overridden by it.
        let vars = read_sources(&["a=cli".to_string(), json.arg("")]).unwrap();
        assert_eq!(vars[0], ("a".into(), "json".into()));
    }

    #[test]
    fn unreadable_or_malformed_variable_files_are_errors_naming_the_file() {
        let missing = std::env::temp_dir().join("spingraph-no-such-dir/secret.txt");
        let err = format!(
            "{:#}",
            read_sources(&[format!("k=@{}", missing.display())]).unwrap_err()
        );
        assert!(
            err.contains("cannot read") && err.contains("secret.txt"),
            "{err}"
        );

        // The error a file of variables `name` holding `contents` gives.
        let file_error = |name: &str, contents: &str| {
            let file = TempFile::new(name, contents);
            format!("{:#}", read_sources(&[file.arg("")]).unwrap_err())
        };
        let err = file_error("bad.json", "{\"a\": ");
        assert!(
            err.contains("bad.json") && err.contains("not a JSON object"),
            "{err}"
        );
        let err = file_error("number.json", r#"{"a": 1}"#);
        assert!(err.contains("number.json"), "{err}");
        let err = file_error("bad.toml", "a = \n");
        assert!(
            err.contains("bad.toml") && err.contains("not a TOML table"),
            "{err}"
        );
        let err = file_error("names.toml", "DB_URL = \"x\"\n");
        assert!(
            err.contains("names.toml") && err.contains("\"DB_URL\""),
            "{err}"
        );
    }

    #[test]
    fn dotenv_is_read_with_dotenvy_after_the_process_environment() {
        let dotenv = TempFile::new(
            ".env",
            "# comment\nSPIN_VARIABLE_A=from-dotenv\nexport SPIN_VARIABLE_B=\"two words\"\nSPIN_VARIABLE_C='3'\n",
        );
        let d = decls(&[("a", None, false), ("b", None, false), ("c", None, false)]);
        let r = resolver(&[], None, &[("SPIN_VARIABLE_A", "from-env")])
            .with_dotenv(Some(dotenv.0.clone()));
        let vars = Variables::resolve(&d, &r).unwrap();
        assert_eq!(vars.get("a").unwrap().expose(), "from-env");
        assert_eq!(vars.get("b").unwrap().expose(), "two words");
        assert_eq!(vars.get("c").unwrap().expose(), "3");
    }

    #[test]
    fn missing_dotenv_is_empty_and_a_malformed_one_is_an_error_naming_it() {
        let d = decls(&[("a", Some("default"), false)]);
        let r = resolver(&[], None, &[]).with_dotenv(Some(
            std::env::temp_dir().join("spingraph-no-such-dir/.env"),
        ));
        assert_eq!(resolved_a(&d, &r), "default");

        let bad = TempFile::new(".env", "SPIN_VARIABLE_A='unterminated\n");
        let r = resolver(&[], None, &[]).with_dotenv(Some(bad.0.clone()));
        let err = format!("{:#}", Variables::resolve(&d, &r).unwrap_err());
        assert!(
            err.contains("invalid dotenv file") && err.contains(".env"),
            "{err}"
        );
    }

    #[test]
    fn runtime_config_env_provider_reads_only_its_own_dotenv_path() {
        let dotenv = TempFile::new("app.env", "MYAPP_A=from-app-env\n");
        let rc = format!(
            "[[variables_provider]]\ntype = \"env\"\nprefix = \"MYAPP\"\ndotenv_path = {:?}\n",
            dotenv.0.display().to_string()
        );
        let d = decls(&[("a", None, false)]);
        let r = resolver(&[], Some(&rc), &[]);
        assert_eq!(resolved_a(&d, &r), "from-app-env");
        let no_path = resolver(&[], Some(RC_ENV_PREFIX), &[]);
        assert!(Variables::resolve(&d, &no_path).is_err());
    }

    #[test]
    fn required_variable_without_value_is_an_error_naming_it() {
        let d = decls(&[("jwt_signing_key", None, true), ("ok", Some("x"), false)]);
        let err = Variables::resolve(&d, &resolver(&[], None, &[])).unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("jwt_signing_key"), "{msg}");
        assert!(msg.contains("SPIN_VARIABLE_JWT_SIGNING_KEY"), "{msg}");
    }

    #[test]
    fn secret_values_are_redacted_in_debug_and_display() {
        let d = decls(&[("key", None, true)]);
        let vars = Variables::resolve(&d, &resolver(&[("key", "hunter2")], None, &[])).unwrap();
        assert!(!format!("{vars:?}").contains("hunter2"));
        let v = vars.get("key").unwrap();
        assert_eq!(v.to_string(), "<redacted>");
        assert_eq!(v.expose(), "hunter2");
        // A component variable built from a secret is secret too.
        let t = BTreeMap::from([("k".to_string(), "x{{ key }}".to_string())]);
        let cv = vars.for_component("c", &t).unwrap();
        assert!(!format!("{cv:?}").contains("hunter2"));
        assert_eq!(cv.get("k").unwrap(), "xhunter2");
    }

    #[test]
    fn component_reads_only_its_own_variables() {
        let d = decls(&[("db_host", Some("h:5432"), false)]);
        let vars = Variables::resolve(&d, &resolver(&[], None, &[])).unwrap();
        let t = BTreeMap::from([(
            "database_url".to_string(),
            "postgres://{{ db_host }}/app".to_string(),
        )]);
        let inst = vars.for_component("web", &t).unwrap();
        assert_eq!(inst.get("database_url").unwrap(), "postgres://h:5432/app");
        assert!(matches!(inst.get("db_host"), Err(GetError::Undefined(_))));
        assert!(matches!(
            inst.get("Bad-Name"),
            Err(GetError::InvalidName(_))
        ));
        assert_eq!(inst.get_all().len(), 1);
    }
}
