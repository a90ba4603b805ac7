//! The host's layers import only downward, and no two modules of one parent import each other
//! in a cycle (issue 27). Read from the source: every `crate::` and `super::` path outside
//! comments, each resolved to the module it names.
//!
//! ```text
//! cli -> runtime -> capabilities -> grants -> manifest
//! ```

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The layers of `host/src`, lowest first: a module may import from its own layer and below.
const LAYERS: &[&str] = &["manifest", "grants", "capabilities", "runtime", "cli"];

type ModPath = Vec<String>;

/// Every `.rs` file under `dir`, with the module path it defines.
fn modules(dir: &Path, prefix: &ModPath, out: &mut Vec<(ModPath, PathBuf)>) {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for path in entries {
        let name = path.file_stem().unwrap().to_string_lossy().to_string();
        if path.is_dir() {
            let mut sub = prefix.clone();
            sub.push(name);
            modules(&path, &sub, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            let mut module = prefix.clone();
            if !matches!(name.as_str(), "mod" | "lib" | "main") {
                module.push(name);
            }
            out.push((module, path));
        }
    }
}

/// The code of `source` without comments (line comments, doc comments and block comments).
fn code(source: &str) -> String {
    let mut out = String::new();
    let mut rest = source;
    while !rest.is_empty() {
        if let Some(after) = rest.strip_prefix("//") {
            rest = after.find('\n').map_or("", |i| &after[i..]);
        } else if let Some(after) = rest.strip_prefix("/*") {
            rest = after.find("*/").map_or("", |i| &after[i + 2..]);
        } else if let Some(after) = rest
            .strip_prefix("'\"'")
            .or_else(|| rest.strip_prefix("'\\\"'"))
        {
            // The character literals '"' and '\"' open no string.
            rest = after;
        } else if rest.starts_with('"') {
            // A string literal is not a path; skip it whole (escapes included).
            let bytes = rest.as_bytes();
            let mut i = 1;
            while i < bytes.len() && bytes[i] != b'"' {
                i += if bytes[i] == b'\\' { 2 } else { 1 };
            }
            out.push_str("\"\"");
            rest = &rest[(i + 1).min(rest.len())..];
        } else {
            let c = rest.chars().next().unwrap();
            out.push(c);
            rest = &rest[c.len_utf8()..];
        }
    }
    out
}

/// The paths of a use tree starting at `s` (after `crate::` or `super::`): `a::b`,
/// `{a::b, c::{d, e}}`, `a::*`. Returns each path and how much of `s` was read.
fn use_tree(s: &str) -> (Vec<ModPath>, usize) {
    let bytes = s.as_bytes();
    let mut i = 0;
    let mut path: ModPath = Vec::new();
    loop {
        if bytes.get(i) == Some(&b'{') {
            i += 1;
            let mut paths = Vec::new();
            loop {
                while bytes
                    .get(i)
                    .is_some_and(|b| b.is_ascii_whitespace() || *b == b',')
                {
                    i += 1;
                }
                if bytes.get(i) == Some(&b'}') || i >= bytes.len() {
                    i += 1;
                    break;
                }
                let (inner, used) = use_tree(&s[i..]);
                i += used.max(1);
                for p in inner {
                    paths.push(path.iter().cloned().chain(p).collect());
                }
            }
            return (paths, i);
        }
        let start = i;
        while bytes
            .get(i)
            .is_some_and(|b| b.is_ascii_alphanumeric() || *b == b'_')
        {
            i += 1;
        }
        if i > start {
            path.push(s[start..i].to_string());
        }
        if s[i..].starts_with("::") {
            i += 2;
        } else {
            return (vec![path], i);
        }
    }
}

/// Every module path `source` (the code of module `from`) names through `crate::` or `super::`.
fn references(from: &ModPath, source: &str) -> Vec<ModPath> {
    let code = code(source);
    let mut found = Vec::new();
    let mut at = 0;
    while let Some(i) = code[at..].find("crate::").map(|i| at + i) {
        let boundary = code[..i]
            .chars()
            .next_back()
            .is_none_or(|c| !(c.is_ascii_alphanumeric() || c == '_' || c == ':'));
        let (paths, used) = use_tree(&code[i + "crate::".len()..]);
        if boundary {
            found.extend(paths);
        }
        at = i + "crate::".len() + used;
    }
    at = 0;
    while let Some(i) = code[at..].find("super::").map(|i| at + i) {
        let before = code[..i].chars().next_back();
        let mut j = i;
        let mut base = from.clone();
        // `super::super::x` climbs once per `super`.
        while code[j..].starts_with("super::") {
            base.pop();
            j += "super::".len();
        }
        let (paths, used) = use_tree(&code[j..]);
        if before.is_none_or(|c| !(c.is_ascii_alphanumeric() || c == '_' || c == ':')) {
            found.extend(
                paths
                    .into_iter()
                    .map(|p| base.iter().cloned().chain(p).collect()),
            );
        }
        at = j + used;
    }
    found
}

/// The edge a reference from module `from` to path `to` makes between two modules of one parent:
/// (parent, from's child, to's child), where both children are modules. None when `to` is in
/// `from` itself, an ancestor, or an item (not a module).
fn sibling_edge(
    from: &ModPath,
    to: &ModPath,
    known: &BTreeSet<ModPath>,
) -> Option<(ModPath, String, String)> {
    let common = from.iter().zip(to).take_while(|(a, b)| a == b).count();
    if common >= from.len() || common >= to.len() {
        return None;
    }
    let target: ModPath = to[..=common].to_vec();
    known.contains(&target).then(|| {
        (
            from[..common].to_vec(),
            from[common].clone(),
            to[common].clone(),
        )
    })
}

/// A cycle in `graph`, as the nodes it passes through, if there is one.
fn find_cycle(graph: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        node: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        stack: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(at) = stack.iter().position(|n| n == node) {
            let mut cycle = stack[at..].to_vec();
            cycle.push(node.to_string());
            return Some(cycle);
        }
        if done.contains(node) {
            return None;
        }
        stack.push(node.to_string());
        for next in graph.get(node).into_iter().flatten() {
            if let Some(cycle) = visit(next, graph, stack, done) {
                return Some(cycle);
            }
        }
        stack.pop();
        done.insert(node.to_string());
        None
    }
    let mut done = BTreeSet::new();
    graph
        .keys()
        .find_map(|node| visit(node, graph, &mut Vec::new(), &mut done))
}

struct Tree {
    /// (parent module, child) -> the children it imports from, with one file that does.
    edges: BTreeMap<ModPath, BTreeMap<String, BTreeMap<String, PathBuf>>>,
}

fn tree() -> Tree {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    modules(&src, &Vec::new(), &mut files);
    let known: BTreeSet<ModPath> = files.iter().map(|(m, _)| m.clone()).collect();
    let mut edges: BTreeMap<ModPath, BTreeMap<String, BTreeMap<String, PathBuf>>> = BTreeMap::new();
    for (module, path) in &files {
        let source = std::fs::read_to_string(path).unwrap();
        for to in references(module, &source) {
            if let Some((parent, a, b)) = sibling_edge(module, &to, &known) {
                edges
                    .entry(parent)
                    .or_default()
                    .entry(a)
                    .or_default()
                    .entry(b)
                    .or_insert_with(|| path.clone());
            }
        }
    }
    Tree { edges }
}

#[test]
fn every_layer_imports_only_from_the_layers_below_it() {
    let tree = tree();
    let root = tree.edges.get(&Vec::new()).cloned().unwrap_or_default();
    let rank = |layer: &str| {
        LAYERS
            .iter()
            .position(|l| *l == layer)
            .unwrap_or_else(|| panic!("host/src/{layer} is in no layer: add it to LAYERS"))
    };
    let mut upward = Vec::new();
    for (from, targets) in &root {
        for (to, file) in targets {
            if rank(to) > rank(from) {
                upward.push(format!("{from} -> {to} ({})", file.display()));
            }
        }
    }
    assert!(
        upward.is_empty(),
        "imports that go up a layer (order: {}):\n{}",
        LAYERS.join(" < "),
        upward.join("\n")
    );
    // The layers are all there: a renamed directory does not pass by checking nothing.
    for layer in LAYERS {
        assert!(
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("src")
                .join(layer)
                .is_dir(),
            "no host/src/{layer}"
        );
    }
}

#[test]
fn no_two_modules_of_one_parent_import_each_other_in_a_cycle() {
    let tree = tree();
    let mut cycles = Vec::new();
    for (parent, children) in &tree.edges {
        let graph: BTreeMap<String, BTreeSet<String>> = children
            .iter()
            .map(|(a, targets)| (a.clone(), targets.keys().cloned().collect()))
            .collect();
        if let Some(cycle) = find_cycle(&graph) {
            let at = if parent.is_empty() {
                "crate".to_string()
            } else {
                parent.join("::")
            };
            let files: Vec<String> = cycle
                .windows(2)
                .map(|w| {
                    format!(
                        "  {} -> {}: {}",
                        w[0],
                        w[1],
                        children[&w[0]][&w[1]].display()
                    )
                })
                .collect();
            cycles.push(format!(
                "in {at}: {}\n{}",
                cycle.join(" -> "),
                files.join("\n")
            ));
        }
    }
    assert!(cycles.is_empty(), "import cycles:\n{}", cycles.join("\n"));
}

#[test]
fn the_reader_finds_paths_and_cycles_it_must() {
    let from: ModPath = vec!["capabilities".into(), "postgres".into(), "pool".into()];
    let source = "use crate::{grants::allowed_hosts::{AllowedHosts, redact}, manifest};\n\
                  // use crate::cli::up; (a comment)\n\
                  let s = \"crate::runtime\";\n\
                  use super::sessions::Pool;\n\
                  use super::super::store::InstanceState;\n";
    let refs = references(&from, source);
    let strings: Vec<String> = refs.iter().map(|p| p.join("::")).collect();
    assert_eq!(
        strings,
        [
            "grants::allowed_hosts::AllowedHosts",
            "grants::allowed_hosts::redact",
            "manifest",
            "capabilities::postgres::sessions::Pool",
            "capabilities::store::InstanceState",
        ]
    );
    let known: BTreeSet<ModPath> = [
        vec!["capabilities".into(), "postgres".into(), "sessions".into()],
        vec!["capabilities".into(), "store".into()],
    ]
    .into_iter()
    .collect();
    assert_eq!(
        sibling_edge(&from, &refs[3], &known),
        Some((
            vec!["capabilities".into(), "postgres".into()],
            "pool".into(),
            "sessions".into()
        ))
    );
    let graph: BTreeMap<String, BTreeSet<String>> = [
        ("a".to_string(), BTreeSet::from(["b".to_string()])),
        ("b".to_string(), BTreeSet::from(["c".to_string()])),
        ("c".to_string(), BTreeSet::from(["a".to_string()])),
    ]
    .into_iter()
    .collect();
    assert_eq!(
        find_cycle(&graph),
        Some(vec!["a".into(), "b".into(), "c".into(), "a".into()])
    );
    let acyclic: BTreeMap<String, BTreeSet<String>> =
        [("a".to_string(), BTreeSet::from(["b".to_string()]))]
            .into_iter()
            .collect();
    assert_eq!(find_cycle(&acyclic), None);
}
