//! Precedence: a variable's value from `--variable`, then each provider in order, ignoring the
//! manifest default (applied by [`super::Variables::resolve`]).

use std::collections::BTreeMap;
#[cfg(test)]
use std::path::PathBuf;

use anyhow::{Context, Result};

use super::Value;
use super::providers::{EnvLookup, Provider, providers_from_runtime_config};

/// Looks up application variable values from every source but the manifest default.
pub struct Resolver {
    /// `--variable` values (highest precedence).
    pub(super) overrides: BTreeMap<String, Value>,
    providers: Vec<Provider>,
    env: EnvLookup,
}

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
    pub(super) fn with_env(
        mut self,
        env: impl Fn(&str) -> Option<String> + Send + Sync + 'static,
    ) -> Self {
        self.env = Box::new(move |k| env(k).ok_or(std::env::VarError::NotPresent));
        self
    }

    /// Points the default environment provider (always the last) at another `.env` (tests).
    #[cfg(test)]
    pub(super) fn with_dotenv(mut self, path: Option<PathBuf>) -> Self {
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
