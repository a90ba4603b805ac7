//! The Spin application manifest (`spin.toml`, manifest version 2): parsing and
//! validation. Every table denies unknown keys, so a key `spingraph up` does not
//! support is a start-up error naming it rather than a silently ignored setting.

pub mod inherit;
pub mod spin_compat;
mod template;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail, ensure};
use serde::Deserialize;

use inherit::Inherit;
use spin_compat::SpinRelease;
pub use template::{Part, Template, validate_variable_name};

/// A loaded manifest plus the directory its relative paths are resolved against.
#[derive(Debug)]
pub struct App {
    pub manifest: Manifest,
    /// The manifest file itself (for error messages).
    pub path: PathBuf,
    /// The directory holding the manifest; `source`, `files` and dependency paths are relative to it.
    pub dir: PathBuf,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    pub spin_manifest_version: u32,
    pub application: Application,
    #[serde(default)]
    pub variables: BTreeMap<String, Variable>,
    #[serde(default)]
    pub trigger: Triggers,
    #[serde(default)]
    pub component: BTreeMap<String, Component>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Application {
    pub name: String,
    /// Accepted so Spin manifests parse; spingraph up does not use it.
    #[serde(default)]
    pub version: String,
    /// Accepted so Spin manifests parse; spingraph up does not use it.
    #[serde(default)]
    pub description: String,
    /// Accepted so Spin manifests parse; spingraph up does not use it.
    #[serde(default)]
    pub authors: Vec<String>,
    /// Not used here; read only by [`Manifest::check_readable_by`].
    #[serde(default)]
    pub targets: Vec<String>,
}

/// An application variable declaration (`[variables]`); every key is optional.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Variable {
    /// Not used here; read only by [`Manifest::check_readable_by`].
    pub description: Option<String>,
    pub required: bool,
    pub default: Option<String>,
    pub secret: bool,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Triggers {
    #[serde(default)]
    pub http: Vec<HttpTrigger>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpTrigger {
    /// Accepted so Spin manifests parse; spingraph up does not use it.
    #[serde(default)]
    pub id: Option<String>,
    pub route: String,
    pub component: String,
    #[serde(default)]
    pub executor: Option<Executor>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Executor {
    #[serde(rename = "type")]
    pub kind: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Component {
    pub source: String,
    /// Accepted so Spin manifests parse; spingraph up does not use it.
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub variables: BTreeMap<String, String>,
    #[serde(default)]
    pub allowed_outbound_hosts: Vec<String>,
    #[serde(default)]
    pub environment: BTreeMap<String, String>,
    #[serde(default)]
    pub files: Vec<FilesMount>,
    /// The key-value stores (`spin:key-value`) the component may open, by label.
    #[serde(default)]
    pub key_value_stores: Vec<String>,
    /// `spin build`'s settings, which `spingraph build` runs. (A missing `Option` is `None`
    /// without `#[serde(default)]`.)
    pub build: Option<Build>,
    #[serde(default)]
    pub dependencies: BTreeMap<String, Dependency>,
    pub dependencies_inherit_configuration: Option<bool>,
}

/// `files = [{ source = "assets", destination = "/assets" }]`. Glob patterns are
/// rejected at validation time with a message saying so.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum FilesMount {
    Pattern(String),
    Placement(Placement),
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Placement {
    pub source: String,
    pub destination: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Build {
    pub command: Commands,
    #[serde(default)]
    pub workdir: Option<String>,
    /// For `spin watch`; `spingraph up --watch` watches the built wasm instead.
    #[serde(default)]
    pub watch: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum Commands {
    One(String),
    Many(Vec<String>),
}

/// `"pkg:name/iface@1.0.0" = { path = "x.wasm" }` or `{ component = "other" }` (another
/// `[component.*]` of this manifest, whose `source` is the dependency), with an optional
/// `export` and `inherit_configuration`, as Spin's manifest has them; every key is optional.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Dependency {
    pub path: Option<PathBuf>,
    pub component: Option<String>,
    pub export: Option<String>,
    pub inherit_configuration: Option<InheritConfiguration>,
}

/// `inherit_configuration = true | false | ["variables", ...]` of one dependency.
#[derive(Debug, Deserialize, PartialEq, Eq)]
#[serde(untagged)]
pub enum InheritConfiguration {
    All(bool),
    Some(Vec<String>),
}

impl App {
    /// Loads a manifest from a file, or from `spin.toml` inside a directory.
    pub fn load(from: &Path) -> Result<App> {
        let path = if from.is_dir() {
            from.join("spin.toml")
        } else {
            from.to_path_buf()
        };
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("cannot read manifest {}", path.display()))?;
        let manifest = Manifest::parse(&text)
            .with_context(|| format!("invalid manifest {}", path.display()))?;
        let path = std::path::absolute(&path).unwrap_or(path);
        let dir = path
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_else(|| PathBuf::from("."));
        Ok(App {
            manifest,
            path,
            dir,
        })
    }

    /// A manifest-relative path made absolute.
    pub fn resolve(&self, relative: impl AsRef<Path>) -> PathBuf {
        self.dir.join(relative)
    }

    /// The wasm file a dependency is: its `path`, or the `source` of the component it names
    /// (validation made sure exactly one is there and the component exists).
    pub fn dependency_wasm(&self, dep: &Dependency) -> PathBuf {
        match (&dep.path, &dep.component) {
            (Some(path), _) => self.resolve(path),
            (None, Some(id)) => self.resolve(&self.manifest.component[id].source),
            (None, None) => unreachable!("validated: a dependency has a path or a component"),
        }
    }
}

impl Manifest {
    /// Parses and validates manifest text.
    pub fn parse(text: &str) -> Result<Manifest> {
        let manifest: Manifest = toml::from_str(text).map_err(|e| anyhow::anyhow!("{e}"))?;
        manifest.validate()?;
        Ok(manifest)
    }

    fn validate(&self) -> Result<()> {
        ensure!(
            self.spin_manifest_version == 2,
            "spin_manifest_version must be 2 (found {})",
            self.spin_manifest_version
        );
        for (name, var) in &self.variables {
            validate_variable_name(name).with_context(|| format!("[variables] {name:?}"))?;
            ensure!(
                var.required ^ var.default.is_some(),
                "variable {name:?} must either be `required = true` or have a `default` (not both)"
            );
        }
        for trigger in &self.trigger.http {
            ensure!(
                self.component.contains_key(&trigger.component),
                "[[trigger.http]] route {:?} names component {:?}, which has no [component.{}] table",
                trigger.route,
                trigger.component,
                trigger.component
            );
            if let Some(executor) = &trigger.executor {
                ensure!(
                    executor.kind == "spin",
                    "[[trigger.http]] route {:?}: executor type {:?} is not supported by spingraph up (only \"spin\")",
                    trigger.route,
                    executor.kind
                );
            }
        }
        for (id, component) in &self.component {
            for (key, template) in &component.variables {
                validate_variable_name(key)
                    .with_context(|| format!("[component.{id}.variables] {key:?}"))?;
                Template::parse(template)
                    .and_then(|t| t.check_known(&self.variables))
                    .with_context(|| format!("[component.{id}.variables] {key:?}"))?;
            }
            for host in &component.allowed_outbound_hosts {
                Template::parse(host)
                    .and_then(|t| t.check_known(&self.variables))
                    .with_context(|| format!("[component.{id}] allowed_outbound_hosts {host:?}"))?;
            }
            for file in &component.files {
                match file {
                    FilesMount::Pattern(p) => bail!(
                        "[component.{id}] files entry {p:?}: glob patterns are not supported by spingraph up; \
                         use {{ source = \"dir\", destination = \"/dir\" }}"
                    ),
                    FilesMount::Placement(p) => ensure!(
                        p.destination.starts_with('/'),
                        "[component.{id}] files destination {:?} must be absolute",
                        p.destination
                    ),
                }
            }
            for (import, dep) in &component.dependencies {
                self.validate_dependency(id, component, dep)
                    .with_context(|| format!("[component.{id}.dependencies] {import:?}"))?;
            }
        }
        Ok(())
    }

    fn validate_dependency(&self, id: &str, component: &Component, dep: &Dependency) -> Result<()> {
        match (&dep.path, &dep.component) {
            (Some(_), Some(_)) => bail!("give either `path` or `component`, not both"),
            (None, None) => bail!(
                "give the dependency's `path` (a wasm file) or `component` (a component of this manifest); \
                 registry and URL dependencies are not supported by spingraph up"
            ),
            (None, Some(other)) => {
                let target = self.component.get(other).with_context(|| {
                    format!("names component {other:?}, which has no [component.{other}] table")
                })?;
                ensure!(other != id, "a component cannot depend on itself");
                ensure!(
                    target.dependencies.is_empty(),
                    "component {other:?} has dependencies of its own, which spingraph up does not compose"
                );
            }
            (Some(_), None) => {}
        }
        ensure!(
            !(dep.inherit_configuration.is_some()
                && component.dependencies_inherit_configuration.is_some()),
            "`inherit_configuration` and [component.{id}] `dependencies_inherit_configuration` \
             are mutually exclusive (as in Spin)"
        );
        dep.inherits(component)?;
        Ok(())
    }
}

impl Component {
    /// Whether this component configures anything of capability set `set` (a name of
    /// [`crate::manifest::inherit::CAPABILITY_SETS`]). SQLite databases and AI models are fields
    /// this host's manifest refuses, so no component here configures them.
    #[cfg(test)]
    pub fn configures(&self, set: &str) -> bool {
        match set {
            "variables" => !self.variables.is_empty(),
            "allowed_outbound_hosts" => !self.allowed_outbound_hosts.is_empty(),
            "environment" => !self.environment.is_empty(),
            "files" => !self.files.is_empty(),
            "key_value_stores" => !self.key_value_stores.is_empty(),
            _ => false,
        }
    }
}

impl Dependency {
    /// What this dependency inherits from `parent` (its component), as Spin reads it: its own
    /// `inherit_configuration`, else the parent's `dependencies_inherit_configuration`; `false`
    /// or neither is nothing.
    pub fn inherits(&self, parent: &Component) -> Result<Inherit> {
        Ok(match &self.inherit_configuration {
            Some(InheritConfiguration::All(true)) => Inherit::All,
            Some(InheritConfiguration::All(false)) => Inherit::nothing(),
            Some(InheritConfiguration::Some(sets)) => Inherit::only(sets)?,
            None if parent.dependencies_inherit_configuration == Some(true) => Inherit::All,
            None => Inherit::nothing(),
        })
    }
}

/// A released reader of `spin.toml` whose schema lacks forms this host reads. `--spin-compat`
/// holds the manifest to the readers of the releases it names, and a unit test holds the
/// application's own manifest to all of them, so a form one of them rejects fails CI.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ManifestReader {
    /// Spin 4.0.2 (`spin up`): every form this host reads.
    Spin4_0_2,
    /// Spin 3.6.3 (SpinKube's containerd shim v0.24.0): `crates/manifest/src/schema/v2.rs` at
    /// v3.6.3 has no per-dependency `inherit_configuration` (Spin 4's SIP-023), only the
    /// component's `dependencies_inherit_configuration`.
    Spin3_6_3,
    /// Fermyon Cloud's `cloud` plugin v0.11.0, which pins spin-manifest at spinframework/spin
    /// 1d68c9d (March 2025): besides, no `{ component = ... }` dependency, no variable
    /// `description` and no application `targets`.
    CloudPlugin0_11,
}

impl ManifestReader {
    #[cfg(test)]
    pub const ALL: [ManifestReader; 3] = [
        ManifestReader::Spin4_0_2,
        ManifestReader::Spin3_6_3,
        ManifestReader::CloudPlugin0_11,
    ];

    /// The reader of a released Spin that `--spin-compat` models.
    pub fn of(release: SpinRelease) -> ManifestReader {
        match release {
            SpinRelease::V3_6_3 => ManifestReader::Spin3_6_3,
            SpinRelease::V4_0_2 => ManifestReader::Spin4_0_2,
        }
    }
}

impl std::fmt::Display for ManifestReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            ManifestReader::Spin4_0_2 => "Spin 4.0.2",
            ManifestReader::Spin3_6_3 => "Spin 3.6.3",
            ManifestReader::CloudPlugin0_11 => "the Fermyon Cloud plugin (v0.11.0)",
        })
    }
}

impl Manifest {
    /// Fails, naming the table and the form, where `reader` would refuse this manifest.
    pub fn check_readable_by(&self, reader: ManifestReader) -> Result<()> {
        if reader == ManifestReader::Spin4_0_2 {
            return Ok(());
        }
        let cloud = reader == ManifestReader::CloudPlugin0_11;
        if cloud {
            if let Some((name, _)) = self.variables.iter().find(|(_, v)| v.description.is_some()) {
                bail!("[variables] {name:?}: {reader} cannot read a variable's `description`");
            }
            ensure!(
                self.application.targets.is_empty(),
                "[application] targets: {reader} cannot read `targets`"
            );
        }
        for (id, component) in &self.component {
            for (import, dep) in &component.dependencies {
                let table = format!("[component.{id}.dependencies] {import:?}");
                ensure!(
                    dep.inherit_configuration.is_none(),
                    "{table}: {reader} cannot read a dependency's `inherit_configuration` (Spin 4); \
                     set `dependencies_inherit_configuration = true` or `false` on [component.{id}]"
                );
                ensure!(
                    !(cloud && dep.component.is_some()),
                    "{table}: {reader} cannot read a `{{ component = ... }}` dependency; \
                     name the wasm file with `{{ path = ... }}`"
                );
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// [`MINIMAL`] with `dependencies_inherit_configuration = true` on its component.
    fn inheriting() -> String {
        MINIMAL.replace(
            "source = \"web.wasm\"",
            "source = \"web.wasm\"\ndependencies_inherit_configuration = true",
        )
    }

    const MINIMAL: &str = r#"
spin_manifest_version = 2
[application]
name = "t"
[variables]
db = { default = "x" }
key = { required = true, secret = true }
[[trigger.http]]
route = "/..."
component = "web"
[component.web]
source = "web.wasm"
allowed_outbound_hosts = ["postgres://{{ db }}"]
[component.web.variables]
database_url = "postgres://{{ db }}/app"
"#;

    #[test]
    fn minimal_manifest_parses() {
        let m = Manifest::parse(MINIMAL).unwrap();
        assert_eq!(m.trigger.http[0].component, "web");
        assert!(m.variables["key"].secret);
    }

    /// The error, with its causes, that parsing `text` fails with.
    fn parse_error(text: &str) -> String {
        format!(
            "{:#}",
            Manifest::parse(text).expect_err("the manifest should be rejected")
        )
    }

    #[test]
    fn unknown_keys_trigger_types_and_variable_attributes_are_errors_naming_them() {
        let source = "source = \"web.wasm\"";
        let db = "db = { default = \"x\" }";
        for (case, text, word) in [
            (
                "top-level key",
                format!("{MINIMAL}\nfrobnicate = true\n"),
                "frobnicate",
            ),
            (
                "component key",
                MINIMAL.replace(
                    source,
                    &format!("{source}\nsqlite_databases = [\"default\"]"),
                ),
                "sqlite_databases",
            ),
            (
                "trigger type",
                format!("{MINIMAL}\n[[trigger.redis]]\nchannel = \"x\"\ncomponent = \"web\"\n"),
                "redis",
            ),
            (
                "variable attribute",
                MINIMAL.replace(db, "db = { default = \"x\", sekret = true }"),
                "sekret",
            ),
        ] {
            let err = parse_error(&text);
            assert!(err.contains(word), "unknown {case}: {err}");
        }
    }

    #[test]
    fn variable_must_be_required_or_have_default() {
        let both = MINIMAL.replace(
            "db = { default = \"x\" }",
            "db = { default = \"x\", required = true }",
        );
        assert!(Manifest::parse(&both).is_err());
        let neither = MINIMAL.replace("db = { default = \"x\" }", "db = { secret = true }");
        assert!(Manifest::parse(&neither).is_err());
    }

    #[test]
    fn template_referring_to_undeclared_variable_is_rejected() {
        let text = MINIMAL.replace("postgres://{{ db }}/app", "postgres://{{ nope }}/app");
        let err = parse_error(&text);
        assert!(err.contains("nope"), "{err}");
    }

    #[test]
    fn trigger_naming_missing_component_is_rejected() {
        let text = MINIMAL.replace("component = \"web\"", "component = \"api\"");
        assert!(Manifest::parse(&text).is_err());
    }

    #[test]
    fn dependency_on_another_component_resolves_to_its_source() {
        let text = format!(
            "{}\n[component.web.dependencies]\n\"a:b/c@1.0.0\" = {{ component = \"lib\" }}\n\
             [component.lib]\nsource = \"lib/lib.wasm\"\n\
             [component.lib.build]\ncommand = \"make lib\"\n",
            inheriting()
        );
        let manifest = Manifest::parse(&text).unwrap();
        let app = App {
            manifest,
            path: PathBuf::from("/app/spin.toml"),
            dir: PathBuf::from("/app"),
        };
        let dep = &app.manifest.component["web"].dependencies["a:b/c@1.0.0"];
        assert_eq!(app.dependency_wasm(dep), PathBuf::from("/app/lib/lib.wasm"));
    }

    #[test]
    fn dependency_naming_a_missing_component_or_both_forms_is_rejected() {
        let with = |dep: &str| {
            format!(
                "{}\n[component.web.dependencies]\n\"a:b/c@1.0.0\" = {dep}\n",
                inheriting()
            )
        };
        let err = parse_error(&with("{ component = \"nope\" }"));
        assert!(
            err.contains("\"nope\"") && err.contains("a:b/c@1.0.0"),
            "{err}"
        );
        let err = parse_error(&with("{ component = \"web\", path = \"x.wasm\" }"));
        assert!(err.contains("not both"), "{err}");
        let err = parse_error(&with("{ version = \"1\" }"));
        assert!(err.contains("version"), "{err}");
    }

    #[test]
    fn per_dependency_inherit_configuration_true_is_accepted_and_exclusive() {
        let text = format!(
            "{MINIMAL}\n[component.web.dependencies]\n\
             \"a:b/c@1.0.0\" = {{ path = \"c.wasm\", inherit_configuration = true }}\n"
        );
        Manifest::parse(&text).unwrap();
        let both = text.replace(
            "source = \"web.wasm\"",
            "source = \"web.wasm\"\ndependencies_inherit_configuration = true",
        );
        let err = parse_error(&both);
        assert!(err.contains("mutually exclusive"), "{err}");
    }

    #[test]
    fn inherit_configuration_lists_false_and_absence_read_as_spin_reads_them() {
        let with = |setting: &str| {
            let text = format!(
                "{MINIMAL}\n[component.web.dependencies]\n\
                 \"a:b/c@1.0.0\" = {{ path = \"c.wasm\"{setting} }}\n"
            );
            let manifest = Manifest::parse(&text)?;
            let web = &manifest.component["web"];
            web.dependencies["a:b/c@1.0.0"].inherits(web)
        };
        let sets = |names: &[&str]| Inherit::Only(names.iter().map(|s| s.to_string()).collect());
        assert_eq!(
            with(", inherit_configuration = [\"variables\", \"allowed_outbound_hosts\"]").unwrap(),
            sets(&["allowed_outbound_hosts", "variables"])
        );
        assert_eq!(with(", inherit_configuration = []").unwrap(), sets(&[]));
        assert_eq!(with(", inherit_configuration = false").unwrap(), sets(&[]));
        assert_eq!(
            with(", inherit_configuration = true").unwrap(),
            Inherit::All
        );
        assert_eq!(with("").unwrap(), sets(&[]));
        let err = format!(
            "{:#}",
            with(", inherit_configuration = [\"secrets\"]").unwrap_err()
        );
        assert!(err.contains("unknown capability set \"secrets\""), "{err}");
    }

    #[test]
    fn dependencies_inherit_configuration_true_inherits_everything() {
        let text = format!(
            "{}\n[component.web.dependencies]\n\"a:b/c@1.0.0\" = {{ path = \"c.wasm\" }}\n",
            inheriting()
        );
        let manifest = Manifest::parse(&text).unwrap();
        let web = &manifest.component["web"];
        assert_eq!(
            web.dependencies["a:b/c@1.0.0"].inherits(web).unwrap(),
            Inherit::All
        );
    }

    fn application() -> App {
        App::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../spin.toml")).unwrap()
    }

    /// Issue 13: the private signing key must not reach `authn`. In the application's own
    /// manifest exactly one component holds `jwt_signing_key`, none of its dependencies inherits
    /// its variables, and every `authn` dependency reaches nothing it does not use: a capability
    /// set it inherits beyond variables and outbound hosts is one its parent configures nothing
    /// of (Spin 3's `dependencies_inherit_configuration = true` hands over every set).
    #[test]
    fn the_application_manifest_keeps_the_signing_key_from_every_dependency() {
        let app = application();
        let authn = app.resolve(&app.manifest.component["authn"].source);
        let mut holders = 0;
        let mut authn_dependencies = 0;
        for (id, component) in &app.manifest.component {
            let holds_key = component.variables.contains_key("jwt_signing_key");
            holders += usize::from(holds_key);
            for (import, dep) in &component.dependencies {
                let inherit = dep.inherits(component).unwrap();
                if holds_key {
                    assert!(
                        !inherit.includes("variables"),
                        "[component.{id}] holds jwt_signing_key and its dependency {import:?} inherits its variables"
                    );
                }
                if app.dependency_wasm(dep) == authn {
                    authn_dependencies += 1;
                    for set in [
                        "ai_models",
                        "environment",
                        "files",
                        "key_value_stores",
                        "sqlite_databases",
                    ] {
                        assert!(
                            !inherit.includes(set) || !component.configures(set),
                            "[component.{id}] lets authn inherit {set}, which it does not use"
                        );
                    }
                }
            }
        }
        assert_eq!(holders, 1, "exactly one component holds the signing key");
        assert_eq!(
            authn_dependencies, 7,
            "auth, auth-signin, entities, relationships, export, reports, search"
        );
    }

    /// Issue 24: the one spin.toml loads on Spin 4.0.2, on SpinKube's Spin 3.6.3 and in the
    /// Fermyon Cloud plugin's reader; a form one of them rejects fails here, in CI.
    #[test]
    fn the_application_manifest_is_readable_by_every_released_reader() {
        let app = application();
        for reader in ManifestReader::ALL {
            app.manifest
                .check_readable_by(reader)
                .unwrap_or_else(|e| panic!("{reader} rejects spin.toml: {e:#}"));
        }
    }

    #[test]
    fn older_readers_reject_the_forms_they_lack_naming_table_and_form() {
        let dependency = |form: &str| {
            format!(
                "{MINIMAL}\n[component.other]\nsource = \"o.wasm\"\n\
                 [component.web.dependencies]\n\"a:b/c@1.0.0\" = {{ {form} }}\n"
            )
        };
        let verdicts = |text: &str| -> Vec<Option<String>> {
            let manifest = Manifest::parse(text).unwrap();
            ManifestReader::ALL
                .iter()
                .map(|r| manifest.check_readable_by(*r).err().map(|e| e.to_string()))
                .collect()
        };
        // Spin 4.0.2, Spin 3.6.3, the cloud plugin.
        let v = verdicts(&dependency("path = \"c.wasm\""));
        assert_eq!(v, [None, None, None]);
        let v = verdicts(&dependency("component = \"other\""));
        assert!(v[0].is_none() && v[1].is_none(), "{v:?}");
        let cloud = v[2].as_deref().unwrap();
        assert!(
            cloud.contains("[component.web.dependencies] \"a:b/c@1.0.0\""),
            "{cloud}"
        );
        assert!(
            cloud.contains("{ component = ... }") && cloud.contains("{ path = ... }"),
            "{cloud}"
        );
        let v = verdicts(&dependency(
            "path = \"c.wasm\", inherit_configuration = [\"variables\"]",
        ));
        assert!(v[0].is_none(), "{v:?}");
        for verdict in &v[1..] {
            let verdict = verdict.as_deref().unwrap();
            assert!(verdict.contains("`inherit_configuration`"), "{verdict}");
            assert!(
                verdict.contains("dependencies_inherit_configuration"),
                "{verdict}"
            );
        }
        assert!(
            v[1].as_deref()
                .unwrap()
                .starts_with("[component.web.dependencies]")
        );
        let described = MINIMAL.replace(
            "db = { default = \"x\" }",
            "db = { default = \"x\", description = \"where\" }",
        );
        assert_ne!(described, MINIMAL);
        let v = verdicts(&described);
        assert!(v[0].is_none() && v[1].is_none(), "{v:?}");
        assert!(v[2].as_deref().unwrap().contains("`description`"), "{v:?}");
    }

    #[test]
    fn template_expands_variables_with_whitespace() {
        let t = Template::parse("a{{db}}b{{  key }}c").unwrap();
        let out = t
            .render(|v| match v {
                "db" => Some("1"),
                "key" => Some("2"),
                _ => None,
            })
            .unwrap();
        assert_eq!(out, "a1b2c");
    }

    #[test]
    fn template_without_variables_is_literal() {
        let t = Template::parse("plain").unwrap();
        assert_eq!(t.render(|_| None).unwrap(), "plain");
    }

    #[test]
    fn unclosed_template_is_rejected() {
        assert!(Template::parse("a{{ db").is_err());
        assert!(Template::parse("a{{ Bad }}").is_err());
    }

    #[test]
    fn variable_names_follow_spin_rules() {
        for good in ["a", "abc", "a1", "a_1_b"] {
            validate_variable_name(good).unwrap();
        }
        for bad in ["", "A", "1a", "_a", "a_", "a__b", "a-b", "a.b"] {
            assert!(validate_variable_name(bad).is_err(), "{bad}");
        }
    }
}
