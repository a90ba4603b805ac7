//! `{{ variable }}` templates (allowed hosts, component variables) and Spin's rule for the
//! names they refer to.

use std::collections::BTreeMap;

use anyhow::{Context, Result, bail};

use super::Variable;

/// Spin's variable-name rule: lowercase ASCII letters, digits and single
/// underscores, starting with a letter and ending with a letter or digit.
pub fn validate_variable_name(name: &str) -> Result<()> {
    let reason = if name.is_empty() {
        "must not be empty"
    } else if !name
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
    {
        "may contain only lower-case letters, digits and underscores"
    } else if !name.as_bytes()[0].is_ascii_lowercase() {
        "must start with a lower-case letter"
    } else if !name.as_bytes()[name.len() - 1].is_ascii_alphanumeric() {
        "must end with a letter or digit"
    } else if name.contains("__") {
        "must not contain consecutive underscores"
    } else {
        return Ok(());
    };
    bail!("invalid variable name {name:?}: {reason}")
}

/// A string with `{{ variable }}` references to application variables.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    parts: Vec<Part>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Part {
    Literal(String),
    Variable(String),
}

impl Template {
    pub fn parse(text: &str) -> Result<Template> {
        let mut parts = Vec::new();
        let mut rest = text;
        while let Some(start) = rest.find("{{") {
            if start > 0 {
                parts.push(Part::Literal(rest[..start].to_string()));
            }
            let after = &rest[start + 2..];
            let end = after
                .find("}}")
                .with_context(|| format!("unclosed `{{{{` in template {text:?}"))?;
            let name = after[..end].trim();
            validate_variable_name(name).with_context(|| format!("in template {text:?}"))?;
            parts.push(Part::Variable(name.to_string()));
            rest = &after[end + 2..];
        }
        if !rest.is_empty() {
            parts.push(Part::Literal(rest.to_string()));
        }
        Ok(Template { parts })
    }

    /// The application variables this template refers to.
    pub fn variables(&self) -> impl Iterator<Item = &str> {
        self.parts.iter().filter_map(|p| match p {
            Part::Variable(v) => Some(v.as_str()),
            Part::Literal(_) => None,
        })
    }

    pub(super) fn check_known(self, declared: &BTreeMap<String, Variable>) -> Result<Template> {
        if let Some(unknown) = self.variables().find(|v| !declared.contains_key(*v)) {
            bail!("refers to {unknown:?}, which is not declared in [variables]");
        }
        Ok(self)
    }

    /// Expands the template; `lookup` returns an application variable's value.
    pub fn render<'a>(&self, lookup: impl Fn(&str) -> Option<&'a str>) -> Result<String> {
        let mut out = String::new();
        for part in &self.parts {
            match part {
                Part::Literal(l) => out.push_str(l),
                Part::Variable(v) => {
                    out.push_str(lookup(v).with_context(|| format!("variable {v:?} has no value"))?)
                }
            }
        }
        Ok(out)
    }
}
