//! Application variables, resolved exactly as Spin does: `--variable` values, then
//! the runtime-config providers in order, then `SPIN_VARIABLE_<NAME>` (and `.env`),
//! then the manifest default. Components read only their own `[component.X.variables]`,
//! whose `{{ app_variable }}` templates are expanded once at start-up. Implements
//! `fermyon:spin/variables@2.0.0`, `spin:variables@3.0.0` (when the bindings carry
//! it) and `wasi:config/store`.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, Result, bail};
use serde::Deserialize;

use crate::manifest::{self, Template};

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

/// A runtime-config variables provider (`[[config_provider]]` / `[[variables_provider]]`).
#[derive(Debug, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum ProviderConfig {
    Env {
        #[serde(default)]
        prefix: Option<String>,
        #[serde(default)]
        dotenv_path: Option<PathBuf>,
    },
    Static {
        values: BTreeMap<String, String>,
    },
}

/// Where a variable's value can come from, in precedence order.
pub enum Provider {
    Static(BTreeMap<String, String>),
    Env {
        prefix: String,
        dotenv: HashMap<String, String>,
    },
}

impl fmt::Debug for Provider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Provider::Static(v) => write!(f, "Static({} values)", v.len()),
            Provider::Env { prefix, .. } => write!(f, "Env({prefix})"),
        }
    }
}

pub const DEFAULT_ENV_PREFIX: &str = "SPIN_VARIABLE";

impl Provider {
    fn get(&self, name: &str, env: &dyn Fn(&str) -> Option<String>) -> Option<String> {
        match self {
            Provider::Static(values) => values.get(name).cloned(),
            Provider::Env { prefix, dotenv } => {
                let key = if prefix.is_empty() {
                    name.to_ascii_uppercase()
                } else {
                    format!("{prefix}_{}", name.to_ascii_uppercase())
                };
                env(&key).or_else(|| dotenv.get(&key).cloned())
            }
        }
    }

    fn env(prefix: Option<String>, dotenv_path: Option<&Path>) -> Result<Provider> {
        let dotenv = match dotenv_path {
            Some(path) if path.exists() => parse_dotenv(
                &std::fs::read_to_string(path)
                    .with_context(|| format!("cannot read dotenv file {}", path.display()))?,
            ),
            _ => HashMap::new(),
        };
        Ok(Provider::Env {
            prefix: prefix.unwrap_or_else(|| DEFAULT_ENV_PREFIX.to_string()),
            dotenv,
        })
    }
}

/// Reads `KEY=value` lines (comments, blank lines, `export ` and quotes allowed).
fn parse_dotenv(text: &str) -> HashMap<String, String> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .filter_map(|l| {
            let l = l.strip_prefix("export ").unwrap_or(l);
            let (k, v) = l.split_once('=')?;
            let v = v.trim();
            let v = v
                .strip_prefix('"')
                .and_then(|v| v.strip_suffix('"'))
                .or_else(|| v.strip_prefix('\'').and_then(|v| v.strip_suffix('\'')))
                .unwrap_or(v);
            Some((k.trim().to_string(), v.to_string()))
        })
        .collect()
}

/// Looks up application variable values from every source but the manifest default.
pub struct Resolver {
    /// `--variable name=value` (highest precedence).
    overrides: BTreeMap<String, Value>,
    providers: Vec<Provider>,
    env: EnvLookup,
}

/// Reads one process environment variable (replaceable in tests).
type EnvLookup = Box<dyn Fn(&str) -> Option<String> + Send + Sync>;

impl Resolver {
    /// `runtime_config` is the parsed runtime-config file, if any; `base` is the
    /// directory its relative `dotenv_path`s are resolved against.
    pub fn new(
        overrides: &[(String, String)],
        runtime_config: Option<&toml::Table>,
        base: &Path,
    ) -> Result<Resolver> {
        let mut providers = Vec::new();
        if let Some(table) = runtime_config {
            for (key, value) in table {
                match key.as_str() {
                    "config_provider" | "variables_provider" => {
                        let configs: Vec<ProviderConfig> = value
                            .clone()
                            .try_into()
                            .with_context(|| format!("runtime config [[{key}]]"))?;
                        for config in configs {
                            providers.push(match config {
                                ProviderConfig::Env {
                                    prefix,
                                    dotenv_path,
                                } => Provider::env(
                                    prefix,
                                    dotenv_path.map(|p| base.join(p)).as_deref(),
                                )?,
                                ProviderConfig::Static { values } => Provider::Static(values),
                            });
                        }
                    }
                    other => bail!(
                        "runtime config key {other:?} is not supported by spingraph up \
                         (supported: config_provider / variables_provider of type \"env\" or \"static\")"
                    ),
                }
            }
        }
        // Spin always appends the default environment provider (which also reads `./.env`).
        providers.push(Provider::env(None, Some(Path::new(".env")))?);
        let overrides = overrides
            .iter()
            .map(|(k, v)| (k.clone(), Value::new(v.clone(), false)))
            .collect();
        Ok(Resolver {
            overrides,
            providers,
            env: Box::new(|k| std::env::var(k).ok()),
        })
    }

    /// Replaces the process environment (tests).
    #[cfg(test)]
    fn with_env(mut self, env: impl Fn(&str) -> Option<String> + Send + Sync + 'static) -> Self {
        self.env = Box::new(env);
        self
    }

    /// Sets a value with `--variable` precedence (used by `--dev` for generated keys).
    pub fn set_override(&mut self, name: &str, value: Value) {
        self.overrides.insert(name.to_string(), value);
    }

    /// The value from an override or provider, ignoring manifest defaults.
    pub fn lookup(&self, name: &str) -> Option<String> {
        if let Some(v) = self.overrides.get(name) {
            return Some(v.expose().to_string());
        }
        self.providers.iter().find_map(|p| p.get(name, &*self.env))
    }
}

/// App-wide variables state: every application variable resolved once at start-up.
#[derive(Debug)]
pub struct Variables {
    app: BTreeMap<String, Value>,
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
            match resolver.lookup(name).or_else(|| decl.default.clone()) {
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
                 the environment variable {DEFAULT_ENV_PREFIX}_{}, or a runtime-config provider)",
                if missing.len() > 1 { "s" } else { "" },
                first.to_ascii_uppercase()
            );
        }
        Ok(Variables { app })
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

    /// The values one component may read, from its `[component.X.variables]`.
    pub fn for_component(
        &self,
        component: &str,
        templates: &BTreeMap<String, String>,
    ) -> Result<ComponentVariables> {
        let values = templates
            .iter()
            .map(|(k, t)| {
                let v = self
                    .render(t)
                    .with_context(|| format!("[component.{component}.variables] {k}"))?;
                Ok((k.clone(), v))
            })
            .collect::<Result<BTreeMap<_, _>>>()?;
        Ok(ComponentVariables {
            component: component.into(),
            values: Arc::new(values),
        })
    }
}

/// One component's resolved variables, shared by all its instances.
#[derive(Debug, Clone)]
pub struct ComponentVariables {
    component: Arc<str>,
    values: Arc<BTreeMap<String, Value>>,
}

impl ComponentVariables {
    pub fn instance(&self) -> VariablesInstance {
        VariablesInstance {
            component: self.component.clone(),
            values: self.values.clone(),
        }
    }
}

/// Per-instance variables state held in the store.
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

/// Links `fermyon:spin/variables@2.0.0` and `wasi:config/store` to a store's
/// [`VariablesInstance`].
pub fn add_to_linker<T: Send + 'static>(
    linker: &mut wasmtime::component::Linker<T>,
    get: fn(&mut T) -> &mut VariablesInstance,
) -> Result<()> {
    use wasmtime::component::HasSelf;
    v2::add_to_linker::<T, HasSelf<VariablesInstance>>(linker, get)?;
    wasi_config::add_to_linker::<T, HasSelf<VariablesInstance>>(linker, get)?;
    Ok(())
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
        Resolver::new(&cli, rc.as_ref(), Path::new("/nonexistent"))
            .unwrap()
            .with_env(move |k| env.get(k).cloned())
    }

    const RC_ENV_PREFIX: &str = "[[config_provider]]\ntype = \"env\"\nprefix = \"MYAPP\"\n";

    #[test]
    fn precedence_is_cli_then_providers_then_spin_env_then_default() {
        let d = decls(&[("a", Some("default"), false)]);
        let all = resolver(
            &[("a", "cli")],
            Some(RC_ENV_PREFIX),
            &[("MYAPP_A", "provider"), ("SPIN_VARIABLE_A", "env")],
        );
        assert_eq!(
            Variables::resolve(&d, &all)
                .unwrap()
                .get("a")
                .unwrap()
                .expose(),
            "cli"
        );

        let no_cli = resolver(
            &[],
            Some(RC_ENV_PREFIX),
            &[("MYAPP_A", "provider"), ("SPIN_VARIABLE_A", "env")],
        );
        assert_eq!(
            Variables::resolve(&d, &no_cli)
                .unwrap()
                .get("a")
                .unwrap()
                .expose(),
            "provider"
        );

        let env_only = resolver(&[], Some(RC_ENV_PREFIX), &[("SPIN_VARIABLE_A", "env")]);
        assert_eq!(
            Variables::resolve(&d, &env_only)
                .unwrap()
                .get("a")
                .unwrap()
                .expose(),
            "env"
        );

        let nothing = resolver(&[], None, &[]);
        assert_eq!(
            Variables::resolve(&d, &nothing)
                .unwrap()
                .get("a")
                .unwrap()
                .expose(),
            "default"
        );
    }

    #[test]
    fn static_provider_supplies_values() {
        let d = decls(&[("a", None, false)]);
        let r = resolver(
            &[],
            Some("[[variables_provider]]\ntype = \"static\"\nvalues = { a = \"s\" }\n"),
            &[],
        );
        assert_eq!(
            Variables::resolve(&d, &r)
                .unwrap()
                .get("a")
                .unwrap()
                .expose(),
            "s"
        );
    }

    #[test]
    fn unknown_provider_type_is_an_error() {
        let rc: toml::Table =
            toml::from_str("[[config_provider]]\ntype = \"vault\"\nurl = \"x\"\n").unwrap();
        let err = Resolver::new(&[], Some(&rc), Path::new(".")).err().unwrap();
        assert!(format!("{err:#}").contains("vault"), "{err:#}");
    }

    #[test]
    fn unknown_runtime_config_key_is_an_error_naming_it() {
        let rc: toml::Table =
            toml::from_str("[key_value_store.default]\ntype = \"redis\"\n").unwrap();
        let err = Resolver::new(&[], Some(&rc), Path::new(".")).err().unwrap();
        assert!(format!("{err:#}").contains("key_value_store"), "{err:#}");
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
        assert_eq!(cv.instance().get("k").unwrap(), "xhunter2");
    }

    #[test]
    fn component_reads_only_its_own_variables() {
        let d = decls(&[("db_host", Some("h:5432"), false)]);
        let vars = Variables::resolve(&d, &resolver(&[], None, &[])).unwrap();
        let t = BTreeMap::from([(
            "database_url".to_string(),
            "postgres://{{ db_host }}/app".to_string(),
        )]);
        let inst = vars.for_component("web", &t).unwrap().instance();
        assert_eq!(inst.get("database_url").unwrap(), "postgres://h:5432/app");
        assert!(matches!(inst.get("db_host"), Err(GetError::Undefined(_))));
        assert!(matches!(
            inst.get("Bad-Name"),
            Err(GetError::InvalidName(_))
        ));
        assert_eq!(inst.get_all().len(), 1);
    }

    #[test]
    fn dotenv_lines_are_parsed() {
        let m = parse_dotenv("# c\nA=1\nexport B=\"two\"\n\nC='3'\n");
        assert_eq!(m["A"], "1");
        assert_eq!(m["B"], "two");
        assert_eq!(m["C"], "3");
    }
}
