//! Build-time facts health reports: the schema version this build expects (the highest
//! `migrations/<version>_<name>.up.sql`) and every component's name and version (a crate's
//! `components/*/Cargo.toml`, a Python component's `components/*/pyproject.toml`), so `/v1/health`
//! tells the truth about what was built together.

use std::fs;
use std::path::{Path, PathBuf};

fn main() {
    let root = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap()).join("../..");
    let migrations = root.join("migrations");
    let components = root.join("components");
    println!("cargo:rerun-if-changed={}", migrations.display());
    println!("cargo:rerun-if-changed={}", components.display());

    let schema_version = expected_schema_version(&migrations);
    let workspace_version = workspace_version(&root.join("Cargo.toml"));
    let mut list = Vec::new();
    for dir in read_dir_sorted(&components) {
        let (manifest, table) = match dir.join("Cargo.toml") {
            crate_manifest if crate_manifest.is_file() => (crate_manifest, "package"),
            _ => (dir.join("pyproject.toml"), "project"),
        };
        if !manifest.is_file() {
            continue;
        }
        println!("cargo:rerun-if-changed={}", manifest.display());
        if let Some(entry) = package_name_version(&manifest, table, workspace_version.as_deref()) {
            list.push(entry);
        }
    }

    let mut out = String::new();
    out.push_str("/// Highest migration version in migrations/ when this build was made.\n");
    out.push_str(&format!(
        "pub const EXPECTED_SCHEMA_VERSION: i64 = {schema_version};\n"
    ));
    out.push_str("/// (crate name, version) of every component built from this tree.\n");
    out.push_str("pub const COMPONENTS: &[(&str, &str)] = &[\n");
    for (name, version) in list {
        out.push_str(&format!("    ({name:?}, {version:?}),\n"));
    }
    out.push_str("];\n");
    let dest = PathBuf::from(std::env::var("OUT_DIR").unwrap()).join("build_facts.rs");
    fs::write(dest, out).expect("write build_facts.rs");
}

fn read_dir_sorted(dir: &Path) -> Vec<PathBuf> {
    let mut entries: Vec<PathBuf> = fs::read_dir(dir)
        .map(|rd| rd.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    entries.sort();
    entries
}

/// `20260101000000_init.up.sql` → 20260101000000; the highest one, 0 when there are none.
fn expected_schema_version(dir: &Path) -> i64 {
    read_dir_sorted(dir)
        .iter()
        .filter_map(|p| p.file_name()?.to_str().map(str::to_string))
        .filter(|name| name.ends_with(".sql") && !name.ends_with(".down.sql"))
        .filter_map(|name| {
            let digits: String = name.chars().take_while(char::is_ascii_digit).collect();
            if name[digits.len()..].starts_with('_') {
                digits.parse::<i64>().ok()
            } else {
                None
            }
        })
        .max()
        .unwrap_or(0)
}

fn workspace_version(manifest: &Path) -> Option<String> {
    let doc: toml::Table = fs::read_to_string(manifest).ok()?.parse().ok()?;
    doc.get("workspace")?
        .get("package")?
        .get("version")?
        .as_str()
        .map(str::to_string)
}

/// `name` and `version` of `manifest`'s `table` (`[package]` of a Cargo.toml, `[project]` of a
/// pyproject.toml).
fn package_name_version(
    manifest: &Path,
    table: &str,
    workspace_version: Option<&str>,
) -> Option<(String, String)> {
    let doc: toml::Table = fs::read_to_string(manifest).ok()?.parse().ok()?;
    let package = doc.get(table)?;
    let name = package.get("name")?.as_str()?.to_string();
    let version = match package.get("version") {
        Some(toml::Value::String(v)) => v.clone(),
        Some(toml::Value::Table(t))
            if t.get("workspace").and_then(|w| w.as_bool()) == Some(true) =>
        {
            workspace_version?.to_string()
        }
        _ => "0.0.0".to_string(),
    };
    Some((name, version))
}
