//! The host's answer to what a component dependency does not inherit from its parent (Spin's
//! per-dependency `inherit_configuration`, read in `manifest/inherit.rs`). Spin groups host
//! interfaces into capability sets (`variables`, `allowed_outbound_hosts`, ...) and plugs every
//! import of a set the dependency does not inherit into a deny adapter. We do the same without an
//! adapter: composition (`compose.rs`) renames such an import of the dependency to
//! `spingraph-denied-<name>`, so it no longer merges with the parent's import of the interface,
//! and [`define_denied`] answers the renamed import as Spin's adapter does: a variable is
//! `undefined`, opening a connection fails with "... is not permitted", the environment and
//! preopened directories are empty, anything else traps.

use anyhow::{Result, bail};
use wasmtime::component::types::{ComponentFunc, ComponentItem};
use wasmtime::component::{Component, Linker, ResourceType, Val};

use crate::manifest::inherit::CAPABILITY_SETS;

/// The prefix of a denied import's name in a composed component.
pub const DENIED_PREFIX: &str = "spingraph-denied-";

/// The name a denied import of a dependency gets in the composition: a plain label naming the
/// capability set and the interface, so it stays apart from the parent's import of the same
/// interface. `("variables", "fermyon:spin/variables@2.0.0")` →
/// `spingraph-denied-variables-fermyon-spin-variables-v2-v0-v0`.
pub fn denied_name(set: &str, import: &str) -> String {
    let words: Vec<String> = std::iter::once(set)
        .chain(std::iter::once(import))
        .flat_map(|part| part.split(|c: char| !c.is_ascii_alphanumeric()))
        .filter(|w| !w.is_empty())
        .map(|w| {
            let w = w.to_ascii_lowercase();
            if w.starts_with(|c: char| c.is_ascii_digit()) {
                format!("v{w}")
            } else {
                w
            }
        })
        .collect();
    format!("{DENIED_PREFIX}{}", words.join("-"))
}

/// The capability set a denied import's name ([`denied_name`]) carries.
fn denied_set(name: &str) -> &'static str {
    let rest = name.strip_prefix(DENIED_PREFIX).unwrap_or(name);
    CAPABILITY_SETS
        .iter()
        .map(|(set, _)| *set)
        .find(|set| rest.starts_with(&format!("{}-", set.replace('_', "-"))))
        .unwrap_or("?")
}

/// Whether `component` has any denied import.
pub fn has_denied(component: &Component) -> bool {
    let engine = component.engine().clone();
    let ty = component.component_type();
    ty.imports(&engine)
        .any(|(name, _)| name.starts_with(DENIED_PREFIX))
}

/// Defines, in `linker`, every denied import `component` has (none: `linker` is untouched).
pub fn define_denied<T: 'static>(linker: &mut Linker<T>, component: &Component) -> Result<()> {
    let engine = component.engine().clone();
    let ty = component.component_type();
    for (name, import) in ty.imports(&engine) {
        if !name.starts_with(DENIED_PREFIX) {
            continue;
        }
        let ComponentItem::ComponentInstance(instance) = import.ty else {
            bail!("denied import {name:?} is not an instance");
        };
        let set = denied_set(name);
        let mut root = linker.root();
        let mut denied = root.instance(name)?;
        for (item, export) in instance.exports(&engine) {
            match export.ty {
                ComponentItem::ComponentFunc(_) => {
                    let what = format!("{name}#{item}");
                    denied.func_new(item, move |_, func, params, results| {
                        answer(&what, set, &func, params, results)
                    })?;
                }
                ComponentItem::Resource(_) => {
                    denied.resource(item, ResourceType::host::<Denied>(), |_, _| Ok(()))?;
                }
                _ => {}
            }
        }
    }
    Ok(())
}

/// The host type behind a denied interface's resources (never constructed).
struct Denied;

/// Spin's deny adapter's answer to a call of a denied function: the empty value for what lists
/// (environment, preopens) or is optional, an error for what opens or reads (`undefined` for a
/// variable, "not permitted" for a connection), a trap for everything else.
fn answer(
    what: &str,
    set: &str,
    func: &ComponentFunc,
    params: &[Val],
    results: &mut [Val],
) -> wasmtime::Result<()> {
    use wasmtime::component::types::Type;
    let refuse = || {
        wasmtime::Error::msg(format!(
            "{what} is not permitted: the dependency does not inherit its parent's `{set}`"
        ))
    };
    let Some(result) = func.results().next() else {
        return Err(refuse());
    };
    let message = format!("not permitted: the dependency does not inherit `{set}`");
    let value = match result {
        Type::List(_) => Val::List(Vec::new()),
        Type::Option(_) => Val::Option(None),
        Type::Result(r) => {
            let error = match r.err() {
                Some(Type::Variant(v)) => {
                    let cases: Vec<(String, Option<Type>)> = v
                        .cases()
                        .map(|c| (c.name.to_string(), c.ty.clone()))
                        .collect();
                    let has = |name: &str| cases.iter().find(|(n, _)| n == name);
                    let first_string = params.iter().find_map(|p| match p {
                        Val::String(s) => Some(s.clone()),
                        _ => None,
                    });
                    if let (Some((_, Some(Type::String))), Some(name)) =
                        (has("undefined"), first_string)
                    {
                        Val::Variant("undefined".into(), Some(Box::new(Val::String(name))))
                    } else if let Some((case, Some(Type::String))) =
                        has("other").or_else(|| has("io"))
                    {
                        Val::Variant(case.clone(), Some(Box::new(Val::String(message))))
                    } else if let Some((_, Some(Type::Option(_)))) = has("internal-error") {
                        Val::Variant(
                            "internal-error".into(),
                            Some(Box::new(Val::Option(Some(Box::new(Val::String(message)))))),
                        )
                    } else {
                        return Err(refuse());
                    }
                }
                Some(Type::Enum(e)) if e.names().any(|n| n == "access-denied") => {
                    Val::Enum("access-denied".into())
                }
                _ => return Err(refuse()),
            };
            Val::Result(Err(Some(Box::new(error))))
        }
        _ => return Err(refuse()),
    };
    match results.first_mut() {
        Some(slot) => *slot = value,
        None => return Err(refuse()),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_denied_import_is_a_plain_label_naming_its_set_and_interface() {
        let name = denied_name("variables", "fermyon:spin/variables@2.0.0");
        assert_eq!(
            name,
            "spingraph-denied-variables-fermyon-spin-variables-v2-v0-v0"
        );
        assert_eq!(denied_set(&name), "variables");
        let name = denied_name("allowed_outbound_hosts", "spin:postgres/postgres@4.0.0");
        assert_eq!(
            name,
            "spingraph-denied-allowed-outbound-hosts-spin-postgres-postgres-v4-v0-v0"
        );
        assert_eq!(denied_set(&name), "allowed_outbound_hosts");
        assert_eq!(
            denied_name("variables", "wasi:config/store@0.2.0-draft-2024-09-27"),
            "spingraph-denied-variables-wasi-config-store-v0-v2-v0-draft-v2024-v09-v27"
        );
    }
}
