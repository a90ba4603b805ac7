//! Component dependencies (`[component.X.dependencies]`): at load time each
//! dependency's export is plugged into the importing component with wac, giving
//! one composed component. The dependency's own imports (variables, Postgres,
//! ...) become imports of the composition, so it shares the parent's
//! configuration, except those of a capability set it does not inherit
//! (`inherit_configuration`): those are renamed apart and denied (`deny.rs`).

use anyhow::{Context, Result, anyhow, bail};
use wac_graph::types::{ItemKind, Package, are_semver_compatible};
use wac_graph::{CompositionGraph, EncodeOptions};

use crate::manifest::inherit::Inherit;
use crate::manifest::{App, Component};
use crate::runtime::deny;

/// The component's wasm, composed with its dependencies when it has any.
pub fn component_bytes(app: &App, id: &str, component: &Component) -> Result<Vec<u8>> {
    let source = app.resolve(&component.source);
    let wasm = std::fs::read(&source).with_context(|| {
        format!(
            "cannot read component source {} (build it first, e.g. with its [component.{id}.build] command)",
            source.display()
        )
    })?;
    if component.dependencies.is_empty() {
        return Ok(wasm);
    }
    let deps = component
        .dependencies
        .iter()
        .map(|(import, dep)| {
            let path = app.dependency_wasm(dep);
            let bytes = std::fs::read(&path).with_context(|| {
                format!("cannot read dependency {import:?} from {}", path.display())
            })?;
            let inherit = dep.inherits(component)?;
            Ok(Dependency {
                import: import.as_str(),
                export: dep.export.as_deref(),
                wasm: bytes,
                inherit,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    compose(wasm, deps)
}

/// One dependency to plug into its parent.
pub struct Dependency<'a> {
    /// The parent's import it satisfies.
    pub import: &'a str,
    /// The dependency's export to plug in, when not named like the import.
    pub export: Option<&'a str>,
    pub wasm: Vec<u8>,
    /// The capability sets it shares with the parent; its imports of the others are denied.
    pub inherit: Inherit,
}

/// Plugs each dependency into `main`.
pub fn compose(main: Vec<u8>, deps: Vec<Dependency<'_>>) -> Result<Vec<u8>> {
    let mut graph = CompositionGraph::new();
    let main_pkg = Package::from_bytes("spingraph:root", None, main, graph.types_mut())
        .context("the importing component is not a valid component")?;
    let main_id = graph.register_package(main_pkg)?;
    let main_instance = graph.instantiate(main_id);

    // One import node per denied interface, shared by every dependency denied it.
    let mut denied: std::collections::HashMap<String, wac_graph::NodeId> = Default::default();
    for (index, dep) in deps.into_iter().enumerate() {
        let Dependency {
            import,
            export,
            wasm: bytes,
            inherit,
        } = dep;
        let imports = &graph.types()[graph[main_id].ty()].imports;
        let import_name = if imports.contains_key(import) {
            import.to_string()
        } else if let Some(name) = imports.keys().find(|n| are_semver_compatible(n, import)) {
            name.clone()
        } else {
            bail!("dependency {import:?}: the component has no such import");
        };
        let pkg = Package::from_bytes(
            &format!("spingraph:dep{index}"),
            None,
            bytes,
            graph.types_mut(),
        )
        .with_context(|| format!("dependency {import:?} is not a valid component"))?;
        let dep_id = graph.register_package(pkg)?;
        let wanted = export.unwrap_or(import);
        let exports = &graph.types()[graph[dep_id].ty()].exports;
        let export_name = if exports.contains_key(wanted) {
            wanted.to_string()
        } else if let Some(name) = exports.keys().find(|n| are_semver_compatible(n, wanted)) {
            name.clone()
        } else {
            bail!("dependency {import:?}: the dependency component exports no {wanted:?}");
        };
        let dep_instance = graph.instantiate(dep_id);
        let dep_imports: Vec<(String, &str, ItemKind)> = graph.types()[graph[dep_id].ty()]
            .imports
            .iter()
            .filter_map(|(name, kind)| Some((name.clone(), inherit.denies(name)?, *kind)))
            .collect();
        for (name, set, kind) in dep_imports {
            let node = match denied.get(&name) {
                Some(node) => *node,
                None => {
                    // wac merges imports of one interface (by its id) into one: the denied
                    // import gets an anonymous copy of the interface's type.
                    let kind = match kind {
                        ItemKind::Instance(id) => {
                            let mut anonymous = graph.types()[id].clone();
                            anonymous.id = None;
                            ItemKind::Instance(graph.types_mut().add_interface(anonymous))
                        }
                        other => other,
                    };
                    let node = graph
                        .import(deny::denied_name(set, &name), kind)
                        .map_err(|e| anyhow!("dependency {import:?}: denying {name:?}: {e}"))?;
                    denied.insert(name.clone(), node);
                    node
                }
            };
            graph
                .set_instantiation_argument(dep_instance, &name, node)
                .map_err(|e| anyhow!("dependency {import:?}: denying {name:?}: {e}"))?;
        }
        let item = graph
            .alias_instance_export(dep_instance, &export_name)
            .map_err(|e| anyhow!("dependency {import:?}: {e}"))?;
        graph
            .set_instantiation_argument(main_instance, &import_name, item)
            .map_err(|e| anyhow!("dependency {import:?}: {e}"))?;
    }

    let export_names: Vec<String> = graph.types()[graph[main_id].ty()]
        .exports
        .keys()
        .cloned()
        .collect();
    for name in export_names {
        let item = graph
            .alias_instance_export(main_instance, &name)
            .map_err(|e| anyhow!("{e}"))?;
        graph.export(item, &name).map_err(|e| anyhow!("{e}"))?;
    }
    graph
        .encode(EncodeOptions::default())
        .map_err(|e| anyhow!("{e:#}"))
        .context("cannot compose the component with its dependencies")
}
