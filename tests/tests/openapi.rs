//! openapi.yaml against what the components really serve (issue 7, "must show" 2): every
//! documented operation is routed, every route the components serve is documented, and
//! `/v1/openapi.json` serves the very document in openapi.yaml.
//!
//! "Served" is read from three sources of truth, so an undocumented route fails one of them:
//! the components' route tables (`ROUTES`, read natively: the method and path pattern of every
//! route, the very data their dispatch and 405s run on), the `[[trigger.http]]` routes of
//! spin.toml (which component serves which prefix), and a running app's answers (its 405
//! `Allow` headers included).

use std::collections::{BTreeMap, BTreeSet};

use spingraph_e2e::{TestApp, TestOptions, Value, header, json_body, workspace_root};
use spingraph_guest::routes::Routes;

const METHODS: &[&str] = &["get", "put", "post", "patch", "delete"];

/// Asserts that `problems` is empty, else lists them, one a line, under `what`.
fn assert_none(problems: &[impl std::fmt::Display], what: &str) {
    assert!(
        problems.is_empty(),
        "{what}:\n{}",
        problems
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("\n")
    );
}

/// openapi.yaml as JSON.
fn document() -> Value {
    let path = workspace_root().join("openapi.yaml");
    let text = std::fs::read_to_string(&path).expect("reading openapi.yaml");
    serde_norway::from_str(&text).expect("openapi.yaml is valid YAML")
}

/// Documented path → its upper-case methods.
fn operations(doc: &Value) -> BTreeMap<String, BTreeSet<String>> {
    doc["paths"]
        .as_object()
        .expect("openapi.yaml has paths")
        .iter()
        .map(|(path, item)| {
            let methods = METHODS
                .iter()
                .filter(|m| item.get(**m).is_some())
                .map(|m| m.to_uppercase())
                .collect();
            (path.clone(), methods)
        })
        .collect()
}

/// A documented path with each `{param}` replaced by a fresh UUID (names nothing).
fn concrete(path: &str) -> String {
    path.split('/')
        .map(|seg| {
            if seg.starts_with('{') {
                uuid::Uuid::now_v7().to_string()
            } else {
                seg.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

/// An app with every route switched on (sign-up) and limits out of the way, and an admin's token.
fn app_and_admin_token() -> (TestApp, String) {
    let app = TestApp::start(
        TestOptions::default()
            .variable("signup_enabled", "true")
            .variable("login_rate_limit_per_minute", "100000")
            .variable("api_rate_limit_per_minute", "100000"),
    );
    let email = "openapi-admin@example.com";
    app.create_user(email, "admin");
    let (token, _) = app.tokens(email);
    (app, token)
}

fn send(app: &TestApp, method: &str, path: &str, token: &str) -> spingraph_e2e::Response {
    let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
    let mut req = app
        .client()
        .request(method.clone(), app.url(path))
        .bearer_auth(token);
    if matches!(method.as_str(), "POST" | "PUT" | "PATCH") {
        req = req.header("content-type", "application/json").body("{}");
    }
    req.send().unwrap()
}

/// A 404 that says the path has no route (the host's or a component's router), not "no such id".
fn is_route_missing(status: u16, body: &Value) -> bool {
    let detail = body["detail"].as_str().unwrap_or_default();
    status == 404 && (detail == "No such route." || detail == "no route matches this path")
}

#[test]
fn every_documented_operation_is_routed_by_a_component() {
    let (app, token) = app_and_admin_token();
    let mut ops: Vec<(String, String)> = operations(&document())
        .into_iter()
        .flat_map(|(path, methods)| methods.into_iter().map(move |m| (m, path.clone())))
        .collect();
    // Signing out revokes the token the other probes use: last.
    ops.sort_by_key(|(m, p)| (p == "/v1/auth/logout", m.clone(), p.clone()));
    let mut unrouted = Vec::new();
    for (method, path) in &ops {
        let resp = send(&app, method, &concrete(path), &token);
        let status = resp.status().as_u16();
        let body: Value = resp.json().unwrap_or(Value::Null);
        if status == 405 || is_route_missing(status, &body) {
            unrouted.push(format!("{method} {path} → {status} {body}"));
        }
    }
    assert_none(
        &unrouted,
        "documented operations the components do not serve",
    );
}

#[test]
fn every_method_a_documented_path_allows_is_documented() {
    let (app, token) = app_and_admin_token();
    let mut mismatches = Vec::new();
    for (path, documented) in operations(&document()) {
        // A method the path does not document: its component answers 405 with the methods the
        // path does allow.
        let probe = ["PUT", "DELETE", "PATCH", "POST"]
            .into_iter()
            .find(|m| !documented.contains(*m))
            .expect("a path documenting every method");
        let resp = send(&app, probe, &concrete(&path), &token);
        let status = resp.status().as_u16();
        let allow = header(&resp, "allow");
        let served: BTreeSet<String> = allow
            .split(',')
            .map(|m| m.trim().to_uppercase())
            .filter(|m| !m.is_empty() && m != "HEAD" && m != "OPTIONS")
            .collect();
        if status != 405 || served != documented {
            mismatches.push(format!(
                "{path}: {probe} → {status}, Allow {allow:?}, documented {documented:?}"
            ));
        }
    }
    assert_none(&mismatches, "methods served and documented differ");
}

/// `(route, component)` of every `[[trigger.http]]` in spin.toml.
fn manifest_routes() -> Vec<(String, String)> {
    let text = std::fs::read_to_string(workspace_root().join("spin.toml")).unwrap();
    let value = |line: &str, key: &str| {
        line.trim()
            .strip_prefix(key)
            .and_then(|rest| rest.trim().strip_prefix('='))
            .map(|v| v.trim().trim_matches('"').to_string())
    };
    let mut routes = Vec::new();
    let mut route = None;
    for line in text.lines() {
        if line.trim() == "[[trigger.http]]" {
            route = None;
        } else if let Some(r) = value(line, "route") {
            route = Some(r);
        } else if let (Some(c), Some(r)) = (value(line, "component"), route.take()) {
            routes.push((r, c));
        }
    }
    routes
}

/// Whether a spin.toml route (`/v1/entities/...`, `/v1/auth/token`) serves `path`.
fn route_covers(route: &str, path: &str) -> bool {
    match route.strip_suffix("/...") {
        Some(prefix) => path == prefix || path.starts_with(&format!("{prefix}/")),
        None => path == route,
    }
}

#[test]
fn every_manifest_route_has_documented_paths_and_every_path_a_route() {
    let paths: Vec<String> = operations(&document()).into_keys().collect();
    let routes = manifest_routes();
    assert!(routes.len() >= 5, "spin.toml routes: {routes:?}");
    let undocumented: Vec<&String> = routes
        .iter()
        .map(|(r, _)| r)
        .filter(|r| !paths.iter().any(|p| route_covers(r, p)))
        .collect();
    let unrouted: Vec<&String> = paths
        .iter()
        .filter(|p| !routes.iter().any(|(r, _)| route_covers(r, p)))
        .collect();
    assert_none(&undocumented, "spin.toml routes with no documented path");
    assert_none(&unrouted, "documented paths no spin.toml route serves");
}

/// A component's route table as `(METHOD, pattern)` rows, HEAD left out (openapi.yaml documents
/// GET, which answers HEAD too), and the spin.toml components serving it (one wasm may be two).
struct Table {
    components: &'static [&'static str],
    rows: Vec<(String, String)>,
}

impl Table {
    fn of<H>(components: &'static [&'static str], routes: &Routes<H>) -> Table {
        let rows = routes
            .iter()
            .filter(|r| r.method != "HEAD")
            .map(|r| (r.method.to_string(), r.pattern.to_string()))
            .collect();
        Table { components, rows }
    }

    /// The route table of a Python component (`ROUTES` in components/<name>/app/app.py, the
    /// data its dispatch and 405s run on): one `"<path>": {"<METHOD>": handler, ...},` line a
    /// path, read as text.
    fn of_python(components: &'static [&'static str], name: &str) -> Table {
        let path = workspace_root().join(format!("components/{name}/app/app.py"));
        let source = std::fs::read_to_string(&path).expect("reading the Python component");
        let table = source
            .split_once("\nROUTES = {\n")
            .and_then(|(_, rest)| rest.split_once("\n}\n"))
            .map(|(table, _)| table)
            .unwrap_or_else(|| panic!("no `ROUTES = {{...}}` table in {}", path.display()));
        let mut rows = Vec::new();
        for line in table.lines() {
            let (pattern, methods) = line
                .trim()
                .trim_end_matches(',')
                .split_once(": {")
                .unwrap_or_else(|| panic!("a route line of {}: {line}", path.display()));
            for method in methods.trim_end_matches('}').split(',') {
                let method = method.split(':').next().unwrap_or_default().trim();
                rows.push((
                    method.trim_matches('"').to_string(),
                    pattern.trim_matches('"').to_string(),
                ));
            }
        }
        assert!(
            !rows.is_empty(),
            "{}: an empty ROUTES table",
            path.display()
        );
        Table { components, rows }
    }
}

fn tables() -> Vec<Table> {
    vec![
        Table::of(&["entities"], &entities::ROUTES),
        Table::of(&["relationships"], &relationships::ROUTES),
        Table::of(&["auth", "auth-signin"], &auth::ROUTES),
        Table::of(&["health"], &health::ROUTES),
        Table::of(&["export"], &export::ROUTES),
        Table::of(&["search"], &search::ROUTES),
        Table::of_python(&["reports"], "reports"),
    ]
}

/// Components that serve bundled files only (`spingraph_guest::assets`), no route table: what
/// they serve is checked over HTTP (`every_documented_operation_is_routed_by_a_component`).
const FILE_COMPONENTS: &[&str] = &["docs", "explorer"];

#[test]
fn every_route_in_a_table_is_documented_with_its_method() {
    let ops = operations(&document());
    let routes = manifest_routes();
    let mut seen = 0;
    let mut undocumented = Vec::new();
    for Table { components, rows } in tables() {
        for (method, pattern) in rows {
            // A row no spin.toml route brings to its component is not served by this app (auth's
            // root `/.well-known/jwks.json`).
            let reachable = routes
                .iter()
                .any(|(r, c)| components.contains(&c.as_str()) && route_covers(r, &pattern));
            if !reachable {
                continue;
            }
            seen += 1;
            if !ops.get(&pattern).is_some_and(|m| m.contains(&method)) {
                undocumented.push(format!("{components:?}: {method} {pattern}"));
            }
        }
    }
    assert!(seen >= 30, "only {seen} table routes are reachable");
    assert_none(&undocumented, "table routes missing from openapi.yaml");
}

#[test]
fn every_documented_operation_is_in_the_route_table_of_its_component() {
    let routes = manifest_routes();
    let tables = tables();
    let mut missing = Vec::new();
    for (path, methods) in operations(&document()) {
        let serving: Vec<&str> = routes
            .iter()
            .filter(|(r, _)| route_covers(r, &path))
            .map(|(_, c)| c.as_str())
            .collect();
        let table = tables
            .iter()
            .find(|t| serving.iter().any(|c| t.components.contains(c)));
        let Some(Table { rows, .. }) = table else {
            assert!(
                !serving.is_empty() && serving.iter().all(|c| FILE_COMPONENTS.contains(c)),
                "{path} is served by {serving:?}, none of which has a route table"
            );
            continue;
        };
        for method in methods {
            if !rows.iter().any(|(m, p)| *m == method && *p == path) {
                missing.push(format!("{method} {path} (served by {serving:?})"));
            }
        }
    }
    assert_none(
        &missing,
        "documented operations missing from the route tables",
    );
}

#[test]
fn openapi_json_serves_the_document_in_openapi_yaml() {
    let app = TestApp::start(TestOptions::default());
    let resp = app.get("/v1/openapi.json").send().unwrap();
    assert_eq!(resp.status(), 200);
    assert!(header(&resp, "content-type").starts_with("application/json"));
    let served = json_body(resp);
    let doc = document();
    assert_eq!(served, doc, "/v1/openapi.json differs from openapi.yaml");
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"));
}

/// `page` answers 200 with HTML that loads `page/script` and nothing from elsewhere, and each of
/// its `assets` (under `page/`) answers 200 with content; the page's content type.
fn assert_served_from_bundled_assets(
    app: &TestApp,
    page: &str,
    script: &str,
    assets: &[&str],
) -> String {
    let resp = app.get(page).send().unwrap();
    assert_eq!(resp.status(), 200, "{page}");
    let content_type = header(&resp, "content-type");
    let html = resp.text().unwrap();
    assert!(html.contains(&format!("{page}/{script}")), "{html}");
    assert!(
        !html.contains("://"),
        "the page loads nothing from elsewhere: {html}"
    );
    for asset in assets {
        let resp = app.get(&format!("{page}/{asset}")).send().unwrap();
        assert_eq!(resp.status(), 200, "{page}/{asset}");
        assert!(
            resp.bytes().unwrap().len() > 100,
            "{page}/{asset} has content"
        );
    }
    content_type
}

#[test]
fn docs_page_is_swagger_ui_served_from_bundled_assets() {
    let app = TestApp::start(TestOptions::default());
    let assets = ["swagger-ui-bundle.js", "swagger-ui.css", "init.js"];
    assert_served_from_bundled_assets(&app, "/docs", "swagger-ui-bundle.js", &assets);
    let init = app.get("/docs/init.js").send().unwrap().text().unwrap();
    assert!(init.contains("/v1/openapi.json"));
}

#[test]
fn explorer_page_is_served_from_bundled_assets() {
    let app = TestApp::start(TestOptions::default());
    let assets = ["cytoscape.min.js", "explorer.js", "explorer.css"];
    let content_type =
        assert_served_from_bundled_assets(&app, "/explore", "cytoscape.min.js", &assets);
    assert!(content_type.starts_with("text/html"), "{content_type}");
}
