//! The Spin template `templates/spingraph-route` (issue 30, item 1), end to end: rendered as
//! `spin add -t spingraph-route --output components/<name> <name>` renders it (Spin's Liquid
//! filters, its content under `components/<name>`, its snippet appended to our spin.toml), built
//! by the build command its snippet declares, its unit tests run natively, and served by
//! `spingraph up` with no change to the host: credentials required, the route's scope honoured,
//! 401/403 as problem+json like every other route, the application's own routes still served.
//!
//! Spin is not needed: the template is read the way Spin's template engine reads it (`crates/
//! templates` of Spin 3.6.3 and 4.0.2, which agree): `metadata/spin-template.toml` against its
//! manifest schema, Liquid with its `kebab_case`, `snake_case` and `pascal_case` filters (heck,
//! as Spin's), `.tmpl` stripped from file names, a `component` snippet appended after a blank
//! line. Stricter in one place: a content file that is not valid Liquid fails here, where Spin
//! would copy it unrendered.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::thread;
use std::time::{Duration, Instant};

use heck::{ToKebabCase, ToSnakeCase, ToUpperCamelCase};
use liquid_core::parser::{FilterArguments, FilterReflection, ParameterReflection, ParseFilter};
use liquid_core::{Filter, Runtime, ValueView};
use serde::Deserialize;
use spingraph_e2e::{
    Response, TempDir, TestApp, TestOptions, Value, assert_problem,
    assert_retry_after_within_a_minute, header, host_property, json_body, spingraph_bin,
    workspace_root,
};

/// The component the tests add (a name no component of the tree has: its wasm lands in the
/// shared `target/` beside theirs).
const NAME: &str = "route-from-template";

/// The app's `api_rate_limit_per_minute` here: low enough to reach in a test.
const API_LIMIT: u32 = 20;

/// The longest a rebuilt component may take to be swapped in (quiet period, then a compile).
const SWAP_TIMEOUT: Duration = Duration::from_secs(30);

/// `authn-client`'s `UNAUTHENTICATED`: every 401's detail, whatever the reason.
const UNAUTHENTICATED: &str = "Missing or invalid credentials.";

#[test]
fn a_component_added_from_the_template_is_served_behind_authn_by_spingraph_up() {
    let template = Template::load();
    let values = template.values(NAME, &format!("components/{NAME}"));
    let added = AddedApp::create(
        NAME,
        &template.render(&values).expect("the template renders"),
    );

    let started = Instant::now();
    added.build();
    eprintln!("built {NAME} in {:.1} s", started.elapsed().as_secs_f64());
    let started = Instant::now();
    added.unit_tests();
    eprintln!(
        "ran {NAME}'s unit tests in {:.1} s",
        started.elapsed().as_secs_f64()
    );

    let limit = API_LIMIT.to_string();
    let options = TestOptions::signing_in_freely(&[("api_rate_limit_per_minute", &limit)]);
    let app = TestApp::start(options.manifest(added.manifest()));
    let hello = format!("/v1/{NAME}/hello");

    // No credentials: the same 401 problem as any route of the application's.
    let resp = app.get(&hello).send().unwrap();
    assert_eq!(header(&resp, "www-authenticate"), "Bearer");
    let ours = assert_problem(resp, 401, "no credentials");
    let theirs = assert_problem(app.get("/v1/entities").send().unwrap(), 401, "entities");
    assert_eq!(ours["detail"], UNAUTHENTICATED, "{ours}");
    assert_eq!(ours["instance"], hello.as_str(), "{ours}");
    for field in ["type", "title", "status", "detail"] {
        assert_eq!(ours[field], theirs[field], "{field}: {ours} vs {theirs}");
    }
    assert_eq!(keys(&ours), keys(&theirs), "{ours} vs {theirs}");
    let bad = app.get(&hello).bearer_auth("not-a-token").send().unwrap();
    assert_eq!(
        assert_problem(bad, 401, "a bad token")["detail"],
        UNAUTHENTICATED
    );

    // A signed-in user: who they are, counted against their api rate limit.
    let ada = app.caller("ada", "user");
    let resp = app.get_as(&ada, &hello);
    assert_eq!(resp.status(), 200);
    assert!(!header(&resp, "ratelimit-remaining").is_empty());
    let me = json_body(resp);
    assert_eq!(me["user_id"], ada.id.as_str(), "{me}");
    assert_eq!(me["email"], "ada@example.com", "{me}");
    assert_eq!(me["credential"], "bearer", "{me}");

    // API keys: the route's scope (the template's default) decides.
    let scope = &values["scope"];
    let without = app.create_api_key(&ada, "no-scope", &["relationships:read"]);
    let refused = get_with_key(&app, &without, &hello);
    let problem = assert_problem(refused, 403, "a key without the scope");
    let lacks = format!("This credential lacks the `{scope}` scope.");
    assert_eq!(problem["detail"], lacks.as_str(), "{problem}");
    let with = app.create_api_key(&ada, "scoped", &[scope.as_str()]);
    let resp = get_with_key(&app, &with, &hello);
    assert_eq!(resp.status(), 200);
    let me = json_body(resp);
    assert_eq!(me["credential"], "api-key", "{me}");
    assert_eq!(me["scopes"], serde_json::json!([scope]), "{me}");

    // Another method is the route table's 405, another path its 404 (both once signed in).
    let post = app.send_as(&ada, app.post(&hello));
    assert_eq!(header(&post, "allow"), "GET");
    assert_problem(post, 405, "POST");
    let other = app.get_as(&ada, &format!("/v1/{NAME}/other"));
    assert_problem(other, 404, "another path");

    // Past the api rate limit, the 429 every route gives (a window may turn over on the way:
    // then the next one fills).
    let bob = app.caller("bob", "user");
    let resp = (0..=2 * API_LIMIT)
        .map(|_| app.get_as(&bob, &hello))
        .find(|resp| resp.status() != 200)
        .expect("a refusal past the limit");
    assert_retry_after_within_a_minute(&resp);
    assert_eq!(header(&resp, "ratelimit-remaining"), "0");
    assert_problem(resp, 429, "past the api rate limit");

    // The application is still whole.
    assert_eq!(app.get("/v1/health/live").send().unwrap().status(), 200);
    assert_eq!(app.get_as(&ada, "/v1/entities").status(), 200);
}

/// `spingraph up --watch` swaps a rebuilt component in (SPEC §3); one added from the template
/// is no different: under steady load, not one request fails while its new version replaces the
/// old. A name of its own, so its wasm is not the other test's.
#[test]
fn a_rebuilt_template_component_is_swapped_in_under_load_without_a_failed_request() {
    if !host_property("hot swap (`spingraph up --watch`)") {
        return;
    }
    const SWAPPED: &str = "route-swapped-in";
    let template = Template::load();
    let values = template.values(SWAPPED, &format!("components/{SWAPPED}"));
    let added = AddedApp::create(SWAPPED, &template.render(&values).expect("renders"));
    added.build();
    let options = TestOptions::signing_in_freely(&[("api_rate_limit_per_minute", "1000000")]);
    let app = TestApp::start(options.manifest(added.manifest()).host_arg("--watch"));
    let hello = format!("/v1/{SWAPPED}/hello");
    let ada = app.caller("ada", "user");
    let answer = || {
        let resp = app.get_as(&ada, &hello);
        (resp.status().as_u16(), json_body(resp))
    };
    assert_eq!(answer().0, 200);

    let ((), load) = app.under_load(&ada, &hello, None, || {
        added.edit(
            "\"scopes\": principal.scopes,",
            "\"scopes\": principal.scopes, \"version\": 2,",
        );
        added.build();
        let deadline = Instant::now() + SWAP_TIMEOUT;
        while answer().1["version"] != 2 {
            assert!(
                Instant::now() < deadline,
                "not swapped in:\n{}",
                app.logs.text()
            );
            thread::sleep(Duration::from_millis(100));
        }
        // Still served, by the new version, with the load going on.
        thread::sleep(Duration::from_millis(500));
    });
    assert!(
        load.failures.is_empty(),
        "failed during the swap: {:?}",
        load.failures
    );
    assert!(load.served > 0);
    eprintln!("{} requests answered during the swap", load.served);
    let (status, body) = answer();
    assert_eq!((status, &body["version"]), (200, &Value::from(2)), "{body}");
}

#[test]
fn the_template_reads_as_spin_reads_it_and_refuses_an_output_outside_components() {
    let template = Template::load();
    assert_eq!(template.manifest.id, "spingraph-route");
    let adds = template.manifest.add_component.as_ref();
    assert!(adds.is_some_and(|v| v.supported != Some(false)));
    let new = template.manifest.new_application.as_ref();
    assert_eq!(
        new.and_then(|v| v.supported),
        Some(false),
        "`spin new` has no app to add the component to"
    );

    // `spin add` without `--output components/<name>` puts the crate outside the workspace's
    // `components/*`, where it cannot build: the snippet stops the render, naming the fix.
    for output in [
        NAME.to_string(),
        format!("src/{NAME}"),
        "components/other".into(),
    ] {
        match template.render(&template.values(NAME, &output)) {
            Ok(_) => panic!("the template rendered at {output}"),
            Err(err) => assert!(err.contains("output_components"), "{output}: {err}"),
        }
    }
    for output in [
        format!("components/{NAME}"),
        format!("./components/{NAME}/"),
    ] {
        template
            .render(&template.values(NAME, &output))
            .unwrap_or_else(|e| panic!("{output}: {e}"));
    }
}

/// The keys of a JSON object, sorted.
fn keys(object: &Value) -> Vec<String> {
    let mut keys: Vec<String> = object
        .as_object()
        .map(|o| o.keys().cloned().collect())
        .unwrap_or_default();
    keys.sort();
    keys
}

/// `GET path` with the key of `created` (a `POST /v1/auth/api-keys` answer) in `X-API-Key`.
fn get_with_key(app: &TestApp, created: &Value, path: &str) -> Response {
    app.get_with_key(created["key"].as_str().expect("the key's secret"), path)
}

// ---------------------------------------------------------------- the template, as Spin reads it

/// `metadata/spin-template.toml`, as Spin's `RawTemplateManifestV1` reads it (unknown keys are
/// errors there too).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SpinTemplate {
    manifest_version: String,
    id: String,
    #[allow(dead_code)]
    description: Option<String>,
    #[allow(dead_code)]
    trigger_type: Option<String>,
    #[allow(dead_code)]
    tags: Option<Vec<String>>,
    new_application: Option<Variant>,
    add_component: Option<Variant>,
    #[serde(default)]
    parameters: BTreeMap<String, Parameter>,
    #[allow(dead_code)]
    outputs: Option<toml::Value>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Variant {
    supported: Option<bool>,
    #[serde(default)]
    skip_files: Vec<String>,
    #[serde(default)]
    skip_parameters: Vec<String>,
    #[serde(default)]
    snippets: HashMap<String, String>,
    conditions: Option<toml::Value>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Parameter {
    #[serde(rename = "type")]
    data_type: String,
    #[allow(dead_code)]
    prompt: String,
    default: Option<String>,
    pattern: Option<String>,
    allowed_values: Option<Vec<String>>,
}

impl Parameter {
    /// Spin's `StringConstraints::validate`: the pattern (unanchored, as `Regex::is_match`),
    /// then the allowed values.
    fn check(&self, name: &str, value: &str) {
        assert_eq!(self.data_type, "string", "{name}: Spin knows only `string`");
        if let Some(pattern) = &self.pattern {
            let re = regex::Regex::new(pattern).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert!(re.is_match(value), "{name}: {value:?} fails {pattern}");
        }
        if let Some(allowed) = &self.allowed_values {
            assert!(allowed.iter().any(|a| a == value), "{name}: {value:?}");
        }
    }
}

/// What rendering produced: the content files (paths under the component's directory) and the
/// `component` snippet.
struct Rendered {
    files: Vec<(PathBuf, Vec<u8>)>,
    snippet: String,
}

struct Template {
    root: PathBuf,
    manifest: SpinTemplate,
}

impl Template {
    fn load() -> Template {
        let root = workspace_root().join("templates/spingraph-route");
        let text = std::fs::read_to_string(root.join("metadata/spin-template.toml"))
            .expect("templates/spingraph-route/metadata/spin-template.toml");
        let manifest: SpinTemplate = toml::from_str(&text).expect("Spin's template manifest v1");
        assert_eq!(manifest.manifest_version, "1");
        Template { root, manifest }
    }

    fn adding(&self) -> &Variant {
        self.manifest
            .add_component
            .as_ref()
            .expect("an [add_component] variant")
    }

    /// The values `spin add --accept-defaults --output <output> <name>` renders with: each
    /// parameter's default (checked against its constraints) and Spin's special values.
    fn values(&self, name: &str, output: &str) -> BTreeMap<String, String> {
        let variant = self.adding();
        assert!(
            variant.conditions.is_none(),
            "conditions are not handled here"
        );
        let mut values = BTreeMap::new();
        for (id, parameter) in &self.manifest.parameters {
            if variant.skip_parameters.contains(id) {
                continue;
            }
            let value = parameter.default.clone().unwrap_or_default();
            parameter.check(id, &value);
            values.insert(id.clone(), value);
        }
        for (id, value) in [
            ("project-name", name),
            ("output-path", output),
            ("authors", "Ada <ada@example.com>"),
            ("username", "ada"),
        ] {
            values.insert(id.to_string(), value.to_string());
        }
        values
    }

    /// Every content file and the `component` snippet rendered with `values`; the Liquid error
    /// when one fails to render (as `spin add` fails, before it writes anything).
    fn render(&self, values: &BTreeMap<String, String>) -> Result<Rendered, String> {
        let parser = liquid::ParserBuilder::with_stdlib()
            .filter(Case::KEBAB)
            .filter(Case::SNAKE)
            .filter(Case::PASCAL)
            .build()
            .expect("a Liquid parser");
        let mut globals = liquid::Object::new();
        for (id, value) in values {
            globals.insert(
                id.clone().into(),
                liquid::model::Value::scalar(value.clone()),
            );
        }
        let render = |path: &Path, text: &str| -> Result<String, String> {
            let template = parser.parse(text).unwrap_or_else(|e| {
                panic!(
                    "{} is not valid Liquid (Spin would copy it unrendered): {e}",
                    path.display()
                )
            });
            template
                .render(&globals)
                .map_err(|e| format!("{}: {e}", path.display()))
        };
        let content = self.root.join("content");
        let variant = self.adding();
        let mut files = Vec::new();
        for path in files_under(&content) {
            let relative = path.strip_prefix(&content).unwrap().to_path_buf();
            if variant.skip_files.iter().any(|s| Path::new(s) == relative) {
                continue;
            }
            let bytes = std::fs::read(&path).unwrap();
            let rendered = match String::from_utf8(bytes) {
                Ok(text) => render(&path, &text)?.into_bytes(),
                Err(binary) => binary.into_bytes(),
            };
            let output = match relative.extension() {
                Some(ext) if ext == "tmpl" => relative.with_extension(""),
                _ => relative,
            };
            files.push((output, rendered));
        }
        let ids: Vec<&String> = variant.snippets.keys().collect();
        assert_eq!(ids, ["component"], "snippets other than `component`");
        let path = self
            .root
            .join("metadata/snippets")
            .join(&variant.snippets["component"]);
        let snippet = render(&path, &std::fs::read_to_string(&path).unwrap())?;
        Ok(Rendered { files, snippet })
    }
}

/// Every file under `dir`, recursively, sorted.
fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files.extend(files_under(&path));
        } else {
            files.push(path);
        }
    }
    files.sort();
    files
}

/// One of Spin's case filters (`crates/templates/src/filters.rs`: heck's conversions).
#[derive(Clone, Copy)]
struct Case {
    name: &'static str,
    convert: fn(&str) -> String,
}

impl Case {
    const KEBAB: Case = Case {
        name: "kebab_case",
        convert: |s| s.to_kebab_case(),
    };
    const SNAKE: Case = Case {
        name: "snake_case",
        convert: |s| s.to_snake_case(),
    };
    const PASCAL: Case = Case {
        name: "pascal_case",
        convert: |s| s.to_upper_camel_case(),
    };
}

impl fmt::Debug for Case {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name)
    }
}

impl fmt::Display for Case {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name)
    }
}

impl FilterReflection for Case {
    fn name(&self) -> &str {
        self.name
    }

    fn description(&self) -> &str {
        "Spin's case filter"
    }

    fn positional_parameters(&self) -> &'static [ParameterReflection] {
        &[]
    }

    fn keyword_parameters(&self) -> &'static [ParameterReflection] {
        &[]
    }
}

impl ParseFilter for Case {
    fn parse(&self, mut arguments: FilterArguments) -> liquid_core::Result<Box<dyn Filter>> {
        if arguments.positional.next().is_some() || arguments.keyword.next().is_some() {
            return Err(liquid_core::Error::with_msg(format!(
                "{} takes no arguments",
                self.name
            )));
        }
        Ok(Box::new(*self))
    }

    fn reflection(&self) -> &dyn FilterReflection {
        self
    }
}

impl Filter for Case {
    fn evaluate(
        &self,
        input: &dyn ValueView,
        _runtime: &dyn Runtime,
    ) -> liquid_core::Result<liquid_core::Value> {
        let text = input
            .as_scalar()
            .ok_or_else(|| liquid_core::Error::with_msg("String expected"))?
            .into_string();
        Ok(liquid_core::Value::scalar((self.convert)(&text)))
    }
}

// ---------------------------------------------------------------- the app after `spin add`

/// A directory laid out as our checkout after `spin add`: spin.toml with the snippet appended,
/// the rendered crate in `components/<name>` beside (links to) ours, the workspace's Cargo.toml
/// and a copy of its Cargo.lock (cargo adds the new member to it), and everything else (crates/,
/// wit/, host/, tests/, target/, ...) a link to the checkout's. The workspace's paths relative to
/// its root are ours, so cargo reuses what the shared `target/` already holds.
struct AddedApp {
    dir: TempDir,
    name: &'static str,
}

impl AddedApp {
    fn create(name: &'static str, rendered: &Rendered) -> AddedApp {
        let root = workspace_root();
        let dir = TempDir::create();
        let made = [
            "spin.toml",
            "components",
            "Cargo.toml",
            "Cargo.lock",
            ".git",
        ];
        for entry in std::fs::read_dir(&root).unwrap() {
            let entry = entry.unwrap();
            if !made.iter().any(|m| entry.file_name() == *m) {
                link(&entry.path(), &dir.path().join(entry.file_name()));
            }
        }
        for file in ["Cargo.toml", "Cargo.lock"] {
            std::fs::copy(root.join(file), dir.path().join(file)).unwrap();
        }
        let components = dir.path().join("components");
        std::fs::create_dir(&components).unwrap();
        for entry in std::fs::read_dir(root.join("components")).unwrap() {
            let entry = entry.unwrap();
            link(&entry.path(), &components.join(entry.file_name()));
        }
        let crate_dir = components.join(name);
        assert!(!crate_dir.exists(), "the tree has a component named {name}");
        for (path, bytes) in &rendered.files {
            let path = crate_dir.join(path);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, bytes).unwrap();
        }
        // Spin's `AppendToml`: the manifest, trimmed at its end, a blank line, the snippet.
        let manifest = std::fs::read_to_string(root.join("spin.toml")).unwrap();
        let manifest = format!("{}\n\n{}", manifest.trim_end(), rendered.snippet);
        std::fs::write(dir.path().join("spin.toml"), manifest).unwrap();
        AddedApp { dir, name }
    }

    /// Replace `from` with `to` in the component's `src/lib.rs` (a new version of it).
    fn edit(&self, from: &str, to: &str) {
        let path = self
            .dir
            .path()
            .join("components")
            .join(self.name)
            .join("src/lib.rs");
        let source = std::fs::read_to_string(&path).unwrap();
        assert!(source.contains(from), "{from:?} in {}", path.display());
        std::fs::write(&path, source.replacen(from, to, 1)).unwrap();
    }

    fn manifest(&self) -> PathBuf {
        self.dir.path().join("spin.toml")
    }

    /// A command in the app's directory building into the checkout's `target/`.
    fn command(&self, program: impl AsRef<std::ffi::OsStr>) -> Command {
        let mut cmd = Command::new(program);
        cmd.current_dir(self.dir.path())
            .env("CARGO_TARGET_DIR", workspace_root().join("target"));
        cmd
    }

    /// `spin build -c <name>`, as `spingraph build` runs it: the snippet's build command.
    fn build(&self) {
        let out = self
            .command(spingraph_bin())
            .args(["build", "-f"])
            .arg(self.manifest())
            .args(["-c", self.name])
            .output()
            .expect("running spingraph build");
        succeeded(
            &out,
            "building the component from its snippet's build command",
        );
        let wasm = workspace_root()
            .join("target/wasm32-wasip2/release")
            .join(format!("{}.wasm", self.name.to_snake_case()));
        assert!(wasm.exists(), "{} is missing", wasm.display());
    }

    /// `cargo fmt --check` and `cargo test -p <name>`: the rendered crate is formatted as CI
    /// wants every member of the workspace, and its unit tests pass, natively.
    fn unit_tests(&self) {
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let out = self
            .command(&cargo)
            .args(["fmt", "--check", "-p", self.name])
            .output()
            .expect("running cargo fmt");
        succeeded(&out, "cargo fmt --check of the rendered crate");
        let out = self
            .command(&cargo)
            .args(["test", "-p", self.name])
            .output()
            .expect("running cargo test");
        succeeded(&out, "the rendered crate's unit tests");
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            stdout.contains("test result: ok.") && !stdout.contains("ok. 0 passed"),
            "the rendered crate ran no unit test:\n{stdout}"
        );
    }
}

fn link(from: &Path, to: &Path) {
    std::os::unix::fs::symlink(from, to)
        .unwrap_or_else(|e| panic!("linking {} to {}: {e}", to.display(), from.display()));
}

fn succeeded(out: &Output, what: &str) {
    assert!(
        out.status.success(),
        "{what} failed ({}):\n{}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}
