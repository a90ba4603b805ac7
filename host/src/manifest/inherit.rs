//! What a component dependency inherits from its parent (Spin's per-dependency
//! `inherit_configuration`), in Spin's capability sets: each set groups host interfaces
//! (`variables`, `allowed_outbound_hosts`, ...). What the host answers for a set a dependency does
//! not inherit is `runtime/deny.rs`.

use std::collections::BTreeSet;

use anyhow::{Result, bail};

/// Spin 4.0.2's capability sets (`crates/capabilities`), each with the interfaces it holds,
/// named without their version: every version of them is in the set.
pub const CAPABILITY_SETS: &[(&str, &[&str])] = &[
    ("ai_models", &["fermyon:spin/llm"]),
    (
        "allowed_outbound_hosts",
        &[
            "fermyon:spin/http",
            "fermyon:spin/mysql",
            "fermyon:spin/postgres",
            "fermyon:spin/redis",
            "fermyon:spin/mqtt",
            "spin:mqtt/mqtt",
            "spin:postgres/postgres",
            "spin:redis/redis",
            "wasi:http/client",
            "wasi:http/outgoing-handler",
            "wasi:sockets/ip-name-lookup",
            "wasi:sockets/tcp-create-socket",
            "wasi:sockets/tcp",
            "wasi:sockets/udp-create-socket",
            "wasi:sockets/udp",
        ],
    ),
    ("environment", &["wasi:cli/environment"]),
    ("files", &["wasi:filesystem/preopens"]),
    (
        "key_value_stores",
        &[
            "fermyon:spin/key-value",
            "spin:key-value/key-value",
            "wasi:keyvalue/store",
        ],
    ),
    (
        "sqlite_databases",
        &["fermyon:spin/sqlite", "spin:sqlite/sqlite"],
    ),
    (
        "variables",
        &[
            "fermyon:spin/config",
            "fermyon:spin/variables",
            "spin:variables/variables",
            "wasi:config/store",
        ],
    ),
];

/// The capability sets one dependency inherits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Inherit {
    /// `inherit_configuration = true`: everything the parent has.
    All,
    /// A list (`false` or no setting: the empty list).
    Only(BTreeSet<String>),
}

impl Inherit {
    /// `names` checked against [`CAPABILITY_SETS`] (Spin ignores an unknown name, which would
    /// silently deny; here it is an error naming it).
    pub fn only<'a>(names: impl IntoIterator<Item = &'a String>) -> Result<Inherit> {
        let mut sets = BTreeSet::new();
        for name in names {
            if !CAPABILITY_SETS.iter().any(|(set, _)| set == name) {
                let known: Vec<&str> = CAPABILITY_SETS.iter().map(|(set, _)| *set).collect();
                bail!(
                    "unknown capability set {name:?} in inherit_configuration (known: {})",
                    known.join(", ")
                );
            }
            sets.insert(name.clone());
        }
        Ok(Inherit::Only(sets))
    }

    pub fn nothing() -> Inherit {
        Inherit::Only(BTreeSet::new())
    }

    pub fn includes(&self, set: &str) -> bool {
        match self {
            Inherit::All => true,
            Inherit::Only(sets) => sets.contains(set),
        }
    }

    /// The capability set denying `import` (an interface name, with or without version), if
    /// the dependency does not inherit it.
    pub fn denies(&self, import: &str) -> Option<&'static str> {
        let set = capability_set(import)?;
        (!self.includes(set)).then_some(set)
    }
}

/// The capability set holding interface `import`, if any.
pub fn capability_set(import: &str) -> Option<&'static str> {
    let unversioned = import.split_once('@').map_or(import, |(name, _)| name);
    CAPABILITY_SETS
        .iter()
        .find(|(_, interfaces)| interfaces.contains(&unversioned))
        .map(|(set, _)| *set)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(names: &[&str]) -> Inherit {
        let names: Vec<String> = names.iter().map(|s| s.to_string()).collect();
        Inherit::only(&names).unwrap()
    }

    #[test]
    fn interfaces_map_to_spin_capability_sets_whatever_their_version() {
        assert_eq!(
            capability_set("fermyon:spin/variables@2.0.0"),
            Some("variables")
        );
        assert_eq!(
            capability_set("spin:variables/variables@3.0.0"),
            Some("variables")
        );
        assert_eq!(
            capability_set("wasi:config/store@0.2.0-draft-2024-09-27"),
            Some("variables")
        );
        assert_eq!(
            capability_set("spin:postgres/postgres@4.0.0"),
            Some("allowed_outbound_hosts")
        );
        assert_eq!(
            capability_set("fermyon:spin/redis@2.0.0"),
            Some("allowed_outbound_hosts")
        );
        assert_eq!(
            capability_set("wasi:http/outgoing-handler@0.2.6"),
            Some("allowed_outbound_hosts")
        );
        assert_eq!(
            capability_set("wasi:cli/environment@0.2.3"),
            Some("environment")
        );
        assert_eq!(
            capability_set("wasi:filesystem/preopens@0.2.6"),
            Some("files")
        );
        // Not capabilities: always shared.
        assert_eq!(capability_set("wasi:io/streams@0.2.6"), None);
        assert_eq!(capability_set("wasi:http/types@0.2.6"), None);
        assert_eq!(capability_set("spingraph:api/authn@1.0.0"), None);
    }

    #[test]
    fn a_list_denies_every_set_it_does_not_name() {
        let authn = list(&["variables", "allowed_outbound_hosts"]);
        assert_eq!(authn.denies("fermyon:spin/variables@2.0.0"), None);
        assert_eq!(authn.denies("spin:postgres/postgres@4.0.0"), None);
        assert_eq!(
            authn.denies("wasi:cli/environment@0.2.6"),
            Some("environment")
        );
        assert_eq!(
            authn.denies("wasi:filesystem/preopens@0.2.6"),
            Some("files")
        );
        let no_variables = list(&["allowed_outbound_hosts"]);
        assert_eq!(
            no_variables.denies("fermyon:spin/variables@2.0.0"),
            Some("variables")
        );
        assert_eq!(
            no_variables.denies("wasi:config/store@0.2.0-draft-2024-09-27"),
            Some("variables")
        );
        assert_eq!(
            Inherit::nothing().denies("fermyon:spin/redis@2.0.0"),
            Some("allowed_outbound_hosts")
        );
        assert_eq!(Inherit::All.denies("fermyon:spin/variables@2.0.0"), None);
        assert_eq!(Inherit::nothing().denies("wasi:io/streams@0.2.6"), None);
    }

    #[test]
    fn an_unknown_capability_set_is_an_error_naming_it() {
        let err = Inherit::only(&["varables".to_string()])
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("\"varables\"") && err.contains("variables"),
            "{err}"
        );
    }
}
