//! `--variable`: the four forms `spin up` takes, and the files they name.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use anyhow::{Context, Result, bail};

use crate::manifest;

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
