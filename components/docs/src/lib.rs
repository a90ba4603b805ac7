//! The docs component: `GET /v1/openapi.json` (the repository's `openapi.yaml`, converted to JSON
//! at build time) and `GET /docs` (Swagger UI, its files bundled at build time from the npm
//! package `swagger-ui-dist`, so the page loads nothing from a CDN).

use spingraph_guest::assets::{Asset, CACHED, CSS, HTML, JAVASCRIPT, PNG};
use spingraph_guest::reply::JSON;

/// The OpenAPI description served at `/v1/openapi.json`.
pub const OPENAPI_JSON: &str = include_str!(concat!(env!("OUT_DIR"), "/openapi.json"));

/// Where the description is served (the page loads it from there).
pub const OPENAPI_PATH: &str = "/v1/openapi.json";

/// The page: Swagger UI reading `/v1/openapi.json`, assets from `/docs/`.
const PAGE: &str = r#"<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>spingraph API</title>
  <link rel="icon" type="image/png" href="/docs/favicon-32x32.png">
  <link rel="stylesheet" href="/docs/swagger-ui.css">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="/docs/swagger-ui-bundle.js"></script>
  <script src="/docs/init.js"></script>
</body>
</html>
"#;

/// Kept out of the HTML so a strict `script-src 'self'` policy holds. A token pasted into
/// "Authorize" lives only as long as the tab: never written to localStorage, where any script
/// of this origin (or anyone at the machine later) could read it.
const INIT_JS: &str = r##"window.ui = SwaggerUIBundle({
  url: "/v1/openapi.json",
  dom_id: "#swagger-ui",
  deepLinking: true,
  persistAuthorization: false,
  tryItOutEnabled: false,
  validatorUrl: null
});
"##;

/// Only the page itself may run scripts and load styles (Swagger UI sets inline styles); no
/// other site may frame it (clickjacking a page that holds a pasted token).
const CSP: &str = "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; \
                   frame-ancestors 'none'; base-uri 'none'";

/// Everything the component serves; the Swagger UI files come from `swagger-ui-dist`.
const ASSETS: &[Asset] = &[
    Asset::new(&[OPENAPI_PATH], JSON, OPENAPI_JSON.as_bytes()),
    Asset::new(
        &["/docs", "/docs/", "/docs/index.html"],
        HTML,
        PAGE.as_bytes(),
    )
    .headers(&[("content-security-policy", CSP)]),
    Asset::new(&["/docs/init.js"], JAVASCRIPT, INIT_JS.as_bytes()),
    Asset::new(
        &["/docs/swagger-ui.css"],
        CSS,
        include_bytes!(concat!(env!("OUT_DIR"), "/swagger-ui/swagger-ui.css")),
    )
    .headers(CACHED),
    Asset::new(
        &["/docs/swagger-ui-bundle.js"],
        JAVASCRIPT,
        include_bytes!(concat!(env!("OUT_DIR"), "/swagger-ui/swagger-ui-bundle.js")),
    )
    .headers(CACHED),
    Asset::new(
        &["/docs/favicon-32x32.png"],
        PNG,
        include_bytes!(concat!(env!("OUT_DIR"), "/swagger-ui/favicon-32x32.png")),
    )
    .headers(CACHED),
];

spingraph_guest::asset_component!("docs", ASSETS);

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;
    use spin_sdk::http::Method;
    use spingraph_guest::{Reply, assets};
    use std::collections::BTreeSet;

    fn get(path: &str) -> Reply {
        send(Method::Get, path)
    }

    /// openapi.yaml as it is in the repository now, read as JSON.
    fn openapi_yaml() -> Value {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../openapi.yaml");
        let text = std::fs::read_to_string(path).expect("reading openapi.yaml");
        serde_norway::from_str(&text).expect("openapi.yaml is valid YAML")
    }

    fn paths(doc: &Value) -> BTreeSet<String> {
        doc["paths"]
            .as_object()
            .expect("the document has paths")
            .keys()
            .cloned()
            .collect()
    }

    #[test]
    fn openapi_json_is_the_yaml_document_as_json() {
        let reply = get(OPENAPI_PATH);
        assert_eq!(reply.status(), 200);
        assert_eq!(reply.header_value("content-type"), Some("application/json"));
        let served: Value = serde_json::from_slice(reply.body()).expect("valid JSON");
        let yaml = openapi_yaml();
        assert_eq!(
            paths(&served),
            paths(&yaml),
            "the served paths are openapi.yaml's"
        );
        assert!(paths(&served).contains(OPENAPI_PATH), "it documents itself");
        assert!(
            served["openapi"]
                .as_str()
                .is_some_and(|v| v.starts_with("3.1"))
        );
        assert_eq!(served, yaml, "the served document is openapi.yaml, whole");
    }

    #[test]
    fn docs_page_is_html_under_a_same_origin_policy_for_every_spelling() {
        for path in ["/docs", "/docs/", "/docs/index.html"] {
            let reply = get(path);
            assert_eq!(reply.status(), 200, "{path}");
            assert_eq!(
                reply.header_value("content-type"),
                Some("text/html; charset=utf-8"),
                "{path}"
            );
            let csp = reply
                .header_value("content-security-policy")
                .unwrap_or_default();
            assert!(csp.starts_with("default-src 'self'"), "{path}: {csp}");
            let html = std::str::from_utf8(reply.body()).expect("UTF-8 HTML");
            assert!(html.contains(r#"<div id="swagger-ui">"#), "{path}");
        }
    }

    #[test]
    fn docs_page_cannot_be_framed_and_keeps_no_pasted_token() {
        let csp = get("/docs");
        let csp = csp.header_value("content-security-policy").unwrap();
        assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
        let init = get("/docs/init.js");
        let init = std::str::from_utf8(init.body()).unwrap();
        assert!(init.contains("persistAuthorization: false"), "{init}");
        assert!(!init.contains("persistAuthorization: true"), "{init}");
    }

    #[test]
    fn docs_page_loads_only_bundled_assets_and_no_cdn() {
        let page = get("/docs");
        let html = std::str::from_utf8(page.body()).unwrap();
        let refs = assets::references(html);
        assert!(
            refs.len() >= 4,
            "css, favicon, bundle and init script: {refs:?}"
        );
        for reference in refs {
            assert!(
                reference.starts_with("/docs/"),
                "{reference} is not one of the page's own files"
            );
            let asset = get(reference);
            assert_eq!(asset.status(), 200, "{reference} is served");
            assert!(!asset.body().is_empty(), "{reference} is not empty");
        }
        let init = get("/docs/init.js");
        let init_js = std::str::from_utf8(init.body()).unwrap();
        assert!(
            init_js.contains(&format!("url: \"{OPENAPI_PATH}\"")),
            "{init_js}"
        );
        for text in [html, init_js] {
            assert!(
                !text.contains("http://") && !text.contains("https://") && !text.contains("//cdn"),
                "no absolute or CDN URL in:\n{text}"
            );
        }
    }

    #[test]
    fn bundled_assets_are_served_with_their_content_types() {
        for name in [
            "swagger-ui.css",
            "swagger-ui-bundle.js",
            "favicon-32x32.png",
        ] {
            let path = format!("/docs/{name}");
            let asset = ASSETS
                .iter()
                .find(|a| a.paths == [path.as_str()])
                .expect("the asset is listed");
            let reply = get(&path);
            assert_eq!(reply.status(), 200, "{name}");
            assert_eq!(
                reply.header_value("content-type"),
                Some(asset.content_type),
                "{name}"
            );
            assert_eq!(reply.body(), asset.body, "{name}");
            assert!(!asset.body.is_empty(), "{name} was bundled empty");
            assert!(reply.header_value("cache-control").is_some(), "{name}");
        }
        let content_type = |path| get(path).header_value("content-type").map(str::to_string);
        assert_eq!(
            content_type("/docs/swagger-ui.css").as_deref(),
            Some("text/css; charset=utf-8")
        );
        assert_eq!(
            content_type("/docs/swagger-ui-bundle.js").as_deref(),
            Some("text/javascript; charset=utf-8")
        );
        assert_eq!(
            content_type("/docs/init.js").as_deref(),
            Some("text/javascript; charset=utf-8")
        );
        assert!(
            get("/docs/favicon-32x32.png")
                .body()
                .starts_with(b"\x89PNG\r\n\x1a\n"),
            "the favicon is a PNG"
        );
    }

    #[test]
    fn unknown_paths_are_404_problem_json() {
        for path in [
            "/docs/nope.js",
            "/docs/swagger-ui.css/more",
            "/docs/../openapi.yaml",
            "/docs/index.htm",
            "/v1/openapi.yaml",
            "/docsx",
        ] {
            let reply = get(path);
            assert_eq!(reply.status(), 404, "{path}");
            assert_eq!(
                reply.header_value("content-type"),
                Some("application/problem+json"),
                "{path}"
            );
            let problem: Value = serde_json::from_slice(reply.body()).unwrap();
            assert_eq!(problem["status"], 404, "{path}");
        }
    }

    #[test]
    fn only_get_and_head_are_allowed_and_head_has_no_body() {
        for path in [OPENAPI_PATH, "/docs", "/docs/swagger-ui.css"] {
            let reply = send(Method::Post, path);
            assert_eq!(reply.status(), 405, "{path}");
            assert_eq!(reply.header_value("allow"), Some("GET, HEAD"), "{path}");
            let head = send(Method::Head, path);
            assert_eq!(head.status(), 200, "{path}");
            assert!(head.body().is_empty(), "{path}");
            let get = send(Method::Get, path);
            assert_eq!(
                head.header_value("content-type"),
                get.header_value("content-type"),
                "HEAD answers with GET's headers: {path}"
            );
        }
    }
}
