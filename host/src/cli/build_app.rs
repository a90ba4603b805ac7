//! `spingraph build`: runs each component's `[component.X.build]` commands the way `spin build`
//! (Spin 4.0.2, `crates/build`) does, so a tree that builds here builds under `spin build`: each
//! command through `sh -c`, in `workdir` (relative to the manifest) or the manifest's directory,
//! in the order written, components that others depend on first; the first failure stops it.
//! `./dev build` builds through this, so every CI run proves the manifest's build commands work
//! on a clean clone.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use anyhow::{Context, Result, bail, ensure};

use crate::manifest::{App, Build, Commands, Manifest};

#[derive(clap::Args, Debug)]
pub struct BuildArgs {
    /// The application manifest, or a directory containing spin.toml.
    #[arg(
        short = 'f',
        long = "from",
        value_name = "MANIFEST",
        default_value = "spin.toml"
    )]
    pub from: PathBuf,

    /// Build only these components (repeatable). Default: every component with a build.
    #[arg(short = 'c', long = "component-id", value_name = "ID")]
    pub component_ids: Vec<String>,
}

pub fn run(args: BuildArgs) -> Result<()> {
    let app = App::load(&args.from)?;
    let started = Instant::now();
    let order = build_order(&app.manifest, &args.component_ids)?;
    if order.is_empty() {
        println!("None of the components have a build command.");
        return Ok(());
    }
    for id in &order {
        let build = app.manifest.component[id]
            .build
            .as_ref()
            .expect("build_order keeps components with a build");
        run_component(&app, id, build)?;
    }
    println!(
        "Finished building all Spin components ({} in {:.1}s)",
        order.len(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

fn run_component(app: &App, id: &str, build: &Build) -> Result<()> {
    let workdir = workdir(&app.dir, build.workdir.as_deref())
        .with_context(|| format!("[component.{id}.build] workdir"))?;
    let commands = build.commands();
    for (index, command) in commands.iter().enumerate() {
        if commands.len() > 1 {
            println!(
                "Running build step {}/{} for component {id} with '{command}'",
                index + 1,
                commands.len()
            );
        } else {
            println!("Building component {id} with `{command}`");
        }
        let status = Command::new("sh")
            .arg("-c")
            .arg(command)
            .current_dir(&workdir)
            .status()
            .with_context(|| format!("cannot spawn the build command of component {id}"))?;
        if !status.success() {
            bail!("Build command for component {id} failed with status {status} ({command:?})");
        }
    }
    Ok(())
}

/// The directory a component's commands run in: the manifest's, or `workdir` under it (which
/// must be relative, as Spin requires).
fn workdir(app_dir: &Path, workdir: Option<&str>) -> Result<PathBuf> {
    match workdir {
        None => Ok(app_dir.to_path_buf()),
        Some(dir) => {
            ensure!(
                !Path::new(dir).has_root(),
                "the workdir {dir:?} must be relative to the manifest"
            );
            Ok(app_dir.join(dir))
        }
    }
}

/// The components to build (those named, or all with a `build`), each after the components it
/// depends on (`{ component = "x" }`, or a `path` that is another component's `source`).
fn build_order(manifest: &Manifest, wanted: &[String]) -> Result<Vec<String>> {
    for id in wanted {
        ensure!(
            manifest.component.contains_key(id),
            "Unknown component {id:?} (the manifest has {})",
            manifest
                .component
                .keys()
                .cloned()
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    let selected: Vec<&String> = manifest
        .component
        .iter()
        .filter(|(id, c)| c.build.is_some() && (wanted.is_empty() || wanted.contains(id)))
        .map(|(id, _)| id)
        .collect();
    let mut order = Vec::new();
    let mut done = BTreeSet::new();
    for id in &selected {
        visit(
            manifest,
            id,
            &selected,
            &mut done,
            &mut Vec::new(),
            &mut order,
        )?;
    }
    Ok(order)
}

fn visit(
    manifest: &Manifest,
    id: &str,
    selected: &[&String],
    done: &mut BTreeSet<String>,
    path: &mut Vec<String>,
    order: &mut Vec<String>,
) -> Result<()> {
    if done.contains(id) {
        return Ok(());
    }
    ensure!(
        !path.iter().any(|p| p == id),
        "the components depend on each other in a cycle: {} -> {id}",
        path.join(" -> ")
    );
    path.push(id.to_string());
    for dep in depends_on(manifest, id) {
        if selected.contains(&&dep) {
            visit(manifest, &dep, selected, done, path, order)?;
        }
    }
    path.pop();
    done.insert(id.to_string());
    order.push(id.to_string());
    Ok(())
}

/// The components whose wasm component `id` composes in.
fn depends_on(manifest: &Manifest, id: &str) -> Vec<String> {
    let component = &manifest.component[id];
    component
        .dependencies
        .values()
        .filter_map(|dep| match (&dep.component, &dep.path) {
            (Some(other), _) => Some(other.clone()),
            (None, Some(path)) => manifest
                .component
                .iter()
                .find(|(_, c)| Path::new(&c.source) == path)
                .map(|(other, _)| other.clone()),
            (None, None) => None,
        })
        .collect()
}

impl Build {
    /// The build's commands in order (`command = "..."` or `command = ["...", "..."]`).
    pub fn commands(&self) -> Vec<&str> {
        match &self.command {
            Commands::One(command) => vec![command.as_str()],
            Commands::Many(commands) => commands.iter().map(String::as_str).collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn manifest(components: &str) -> Manifest {
        Manifest::parse(&format!(
            "spin_manifest_version = 2\n[application]\nname = \"t\"\n\
             [[trigger.http]]\nroute = \"/...\"\ncomponent = \"web\"\n{components}"
        ))
        .unwrap()
    }

    const APP: &str = r#"
[component.web]
source = "web.wasm"
dependencies_inherit_configuration = true
[component.web.dependencies]
"a:b/c@1.0.0" = { component = "lib" }
"a:b/d@1.0.0" = { path = "other.wasm" }
[component.web.build]
command = ["echo one", "echo two"]
[component.lib]
source = "lib.wasm"
[component.lib.build]
command = "echo lib"
[component.other]
source = "other.wasm"
[component.other.build]
command = "echo other"
workdir = "other"
[component.prebuilt]
source = "prebuilt.wasm"
"#;

    #[test]
    fn dependencies_build_before_the_components_that_compose_them() {
        let order = build_order(&manifest(APP), &[]).unwrap();
        assert_eq!(order, ["lib", "other", "web"]);
    }

    #[test]
    fn only_the_named_components_build_and_unknown_names_are_errors() {
        let m = manifest(APP);
        assert_eq!(build_order(&m, &["web".into()]).unwrap(), ["web"]);
        let err = build_order(&m, &["nope".into()]).unwrap_err().to_string();
        assert!(err.contains("\"nope\"") && err.contains("web"), "{err}");
    }

    #[test]
    fn a_command_list_runs_in_order_and_a_string_is_one_command() {
        let m = manifest(APP);
        let web = m.component["web"].build.as_ref().unwrap();
        assert_eq!(web.commands(), ["echo one", "echo two"]);
        let lib = m.component["lib"].build.as_ref().unwrap();
        assert_eq!(lib.commands(), ["echo lib"]);
    }

    #[test]
    fn workdir_is_relative_to_the_manifest_and_must_be_relative() {
        let dir = Path::new("/app");
        assert_eq!(workdir(dir, None).unwrap(), PathBuf::from("/app"));
        assert_eq!(
            workdir(dir, Some("a/b")).unwrap(),
            PathBuf::from("/app/a/b")
        );
        assert!(workdir(dir, Some("/abs")).is_err());
    }

    #[test]
    fn commands_run_through_sh_in_the_workdir_and_a_failure_stops_the_build() {
        let dir = std::env::temp_dir().join(format!("spingraph-build-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(dir.join("sub")).unwrap();
        std::fs::write(
            dir.join("spin.toml"),
            r#"spin_manifest_version = 2
[application]
name = "t"
[component.a]
source = "a.wasm"
[component.a.build]
command = ["echo first > order.txt", "echo second >> order.txt"]
workdir = "sub"
[component.b]
source = "b.wasm"
[component.b.build]
command = ["exit 3", "touch never"]
"#,
        )
        .unwrap();
        let args = |ids: &[&str]| BuildArgs {
            from: dir.join("spin.toml"),
            component_ids: ids.iter().map(|s| s.to_string()).collect(),
        };
        run(args(&["a"])).unwrap();
        let written = std::fs::read_to_string(dir.join("sub/order.txt")).unwrap();
        assert_eq!(written, "first\nsecond\n");
        let err = format!("{:#}", run(args(&[])).unwrap_err());
        assert!(
            err.contains("component b") && err.contains("exit 3"),
            "{err}"
        );
        assert!(!dir.join("never").exists());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
