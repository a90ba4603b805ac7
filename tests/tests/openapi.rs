//! openapi.yaml against what the components really serve (issue 7, "must show" 2): every
//! documented operation is routed, every route the components serve is documented, and
//! `/v1/openapi.json` serves the very document in openapi.yaml.
//!
//! "Served" is read from three sources of truth, so an undocumented route fails one of them:
//! the 405 `Allow` header each component answers for a known path (its methods), the
//! `[[trigger.http]]` routes of spin.toml (which component serves which prefix), and the slice
//! patterns of the components' route `match` arms (the sub-paths each component matches).

use std::collections::{BTreeMap, BTreeSet};

use spingraph_e2e::{TestApp, TestOptions, Value, header, json_body, workspace_root};

const METHODS: &[&str] = &["get", "put", "post", "patch", "delete"];

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
    assert!(
        unrouted.is_empty(),
        "documented operations the components do not serve:\n{}",
        unrouted.join("\n")
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
    assert!(
        mismatches.is_empty(),
        "methods served and documented differ:\n{}",
        mismatches.join("\n")
    );
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

/// The path prefix a route serves (`/v1/entities/...` → `/v1/entities`).
fn route_prefix(route: &str) -> &str {
    route.strip_suffix("/...").unwrap_or(route)
}

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
    assert!(
        undocumented.is_empty(),
        "spin.toml routes with no documented path: {undocumented:?}"
    );
    assert!(
        unrouted.is_empty(),
        "documented paths no spin.toml route serves: {unrouted:?}"
    );
}

/// One segment of a route pattern: a literal, or a binding (`id`, `_`) that matches any segment.
type Template = Vec<Option<String>>;

/// The path templates of the route `match` arms in a component's source, relative to its route:
/// `("POST", ["users", id, "unlock"]) =>` gives `users/*/unlock`, `["a" | "b"]` gives `a` and `b`,
/// `[] | ["live"]` gives the root and `live`. Upper-case literals are methods, not paths.
fn route_templates(source: &str) -> Vec<Template> {
    let mut templates = Vec::new();
    for line in source.lines() {
        let line = line.trim();
        let Some((pattern, _)) = line.split_once("=>") else {
            continue;
        };
        if !(pattern.starts_with('(') && pattern.contains('[')) {
            continue;
        }
        let mut rest = pattern;
        while let Some(open) = rest.find('[') {
            let Some(close) = rest[open..].find(']') else {
                break;
            };
            let inner = &rest[open + 1..open + close];
            rest = &rest[open + close + 1..];
            let mut options: Vec<Template> = vec![Vec::new()];
            for element in inner.split(',').map(str::trim).filter(|e| !e.is_empty()) {
                let literals: Vec<String> = element
                    .split('"')
                    .enumerate()
                    .filter(|(i, _)| i % 2 == 1)
                    .map(|(_, l)| l.to_string())
                    .collect();
                let choices: Vec<Option<String>> = if literals.is_empty() {
                    vec![None]
                } else {
                    literals.into_iter().map(Some).collect()
                };
                options = options
                    .into_iter()
                    .flat_map(|t| {
                        choices.iter().map(move |c| {
                            let mut t = t.clone();
                            t.push(c.clone());
                            t
                        })
                    })
                    .collect();
            }
            templates.extend(options);
        }
    }
    templates
}

/// Whether `prefix` + `template` names the documented `path` (`{param}` matches a binding only,
/// a binding matches any segment).
fn template_matches(prefix: &str, template: &Template, path: &str) -> bool {
    let Some(below) = path.strip_prefix(prefix) else {
        return false;
    };
    let segments: Vec<&str> = below.split('/').filter(|s| !s.is_empty()).collect();
    segments.len() == template.len()
        && segments.iter().zip(template).all(|(seg, t)| match t {
            Some(literal) => literal.split('/').filter(|s| !s.is_empty()).eq([*seg]),
            None => true,
        })
}

#[test]
fn every_path_the_component_routers_match_is_documented() {
    let paths: Vec<String> = operations(&document()).into_keys().collect();
    let routes = manifest_routes();
    let components = workspace_root().join("components");
    let mut seen = 0;
    let mut undocumented = Vec::new();
    for dir in std::fs::read_dir(&components).unwrap() {
        let dir = dir.unwrap().path();
        let name = dir.file_name().unwrap().to_string_lossy().to_string();
        let prefixes: Vec<&str> = routes
            .iter()
            .filter(|(_, c)| *c == name)
            .map(|(r, _)| route_prefix(r))
            .collect();
        let Ok(files) = std::fs::read_dir(dir.join("src")) else {
            continue;
        };
        for file in files {
            let file = file.unwrap().path();
            let text = std::fs::read_to_string(&file).unwrap();
            for template in route_templates(&text) {
                seen += 1;
                // A literal matched against the whole path (`/.well-known/jwks.json`) is one
                // template segment spanning several path segments.
                let flat: Template = template
                    .iter()
                    .flat_map(|t| match t {
                        Some(l) => l
                            .split('/')
                            .filter(|s| !s.is_empty())
                            .map(|s| Some(s.to_string()))
                            .collect::<Vec<_>>(),
                        None => vec![None],
                    })
                    .collect();
                let documented = prefixes
                    .iter()
                    .any(|prefix| paths.iter().any(|p| template_matches(prefix, &flat, p)));
                if !documented {
                    undocumented.push(format!("{}: {prefixes:?} + {template:?}", file.display()));
                }
            }
        }
    }
    assert!(
        seen >= 20,
        "found only {seen} route patterns: is the scan still right?"
    );
    assert!(
        undocumented.is_empty(),
        "routes in component routers missing from openapi.yaml:\n{}",
        undocumented.join("\n")
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
