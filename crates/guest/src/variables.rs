//! Component configuration: Spin variables, each read at most once per request (one instance
//! serves one request, so the cache lives exactly as long as the request).

use std::cell::RefCell;
use std::collections::HashMap;
use std::str::FromStr;

use crate::error::{ApiError, Result};

enum Source {
    Spin,
    Fixed(HashMap<String, String>),
}

/// Variables of the running component. Empty values count as unset.
pub struct Config {
    source: Source,
    cache: RefCell<HashMap<String, Option<String>>>,
}

impl Config {
    /// Reads `spin_sdk::variables` (declared in `[component.X.variables]`).
    pub fn spin() -> Self {
        Config {
            source: Source::Spin,
            cache: RefCell::default(),
        }
    }

    /// Fixed values, for unit tests.
    pub fn fixed(pairs: &[(&str, &str)]) -> Self {
        Config {
            source: Source::Fixed(
                pairs
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect(),
            ),
            cache: RefCell::default(),
        }
    }

    /// The variable's value, `None` when undefined or empty. A provider failure is a 503.
    pub fn get(&self, name: &str) -> Result<Option<String>> {
        if let Some(cached) = self.cache.borrow().get(name) {
            return Ok(cached.clone());
        }
        let value = match &self.source {
            Source::Fixed(map) => map.get(name).cloned(),
            Source::Spin => match spin_sdk::variables::get(name) {
                Ok(v) => Some(v),
                Err(spin_sdk::variables::Error::Undefined(_)) => None,
                Err(e) => {
                    return Err(ApiError::unavailable(
                        "configuration",
                        format!("variable {name}: {e}"),
                    ));
                }
            },
        }
        .filter(|v| !v.trim().is_empty());
        self.cache
            .borrow_mut()
            .insert(name.to_string(), value.clone());
        Ok(value)
    }

    /// A variable the component cannot work without: unset is a 503 naming it.
    pub fn require(&self, name: &str) -> Result<String> {
        self.get(name)?.ok_or_else(|| {
            ApiError::unavailable("configuration", format!("variable {name} is not set"))
        })
    }

    pub fn get_or(&self, name: &str, default: &str) -> Result<String> {
        Ok(self.get(name)?.unwrap_or_else(|| default.to_string()))
    }

    /// A parsed variable with a default; an unparsable value is a 503 naming it.
    pub fn parse_or<T: FromStr>(&self, name: &str, default: T) -> Result<T> {
        match self.get(name)? {
            None => Ok(default),
            Some(raw) => raw.trim().parse().map_err(|_| {
                ApiError::unavailable("configuration", format!("variable {name} is invalid"))
            }),
        }
    }

    /// `true`/`1`/`yes`/`on` (any case) is true; anything else, unset or unreadable is false.
    pub fn flag(&self, name: &str) -> bool {
        matches!(
            self.get(name)
                .ok()
                .flatten()
                .map(|v| v.trim().to_ascii_lowercase())
                .as_deref(),
            Some("true" | "1" | "yes" | "on")
        )
    }

    /// A comma-separated list, trimmed, empties dropped.
    pub fn list(&self, name: &str) -> Result<Vec<String>> {
        Ok(self
            .get(name)?
            .map(|v| {
                v.split(',')
                    .map(|s| s.trim().to_string())
                    .filter(|s| !s.is_empty())
                    .collect()
            })
            .unwrap_or_default())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_values_count_as_unset() {
        let c = Config::fixed(&[("a", ""), ("b", "x")]);
        assert_eq!(c.get("a").unwrap(), None);
        assert_eq!(c.get("b").unwrap().as_deref(), Some("x"));
        assert_eq!(c.get("missing").unwrap(), None);
    }

    #[test]
    fn required_variable_missing_is_503_naming_it() {
        let err = Config::fixed(&[]).require("database_url").unwrap_err();
        assert_eq!(err.status(), 503);
        assert!(err.internal_detail().unwrap().contains("database_url"));
    }

    #[test]
    fn flags_lists_and_numbers_parse() {
        let c = Config::fixed(&[
            ("debug", "True"),
            ("o", " a, ,b "),
            ("n", "12"),
            ("bad", "x"),
        ]);
        assert!(c.flag("debug"));
        assert!(!c.flag("nope"));
        assert_eq!(c.list("o").unwrap(), vec!["a", "b"]);
        assert_eq!(c.parse_or("n", 5u32).unwrap(), 12);
        assert_eq!(c.parse_or("missing", 5u32).unwrap(), 5);
        assert_eq!(c.parse_or("bad", 5u32).unwrap_err().status(), 503);
    }
}
