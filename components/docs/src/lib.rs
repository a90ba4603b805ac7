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

/// A file of `swagger-ui-dist`, bundled at build time and served at `/docs/{name}` (cached: it
/// changes only with the package version).
macro_rules! swagger_ui {
    ($name:literal, $content_type:expr) => {
        Asset::new(
            &[concat!("/docs/", $name)],
            $content_type,
            include_bytes!(concat!(env!("OUT_DIR"), "/swagger-ui/", $name)),
        )
        .headers(CACHED)
    };
}

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
    swagger_ui!("swagger-ui.css", CSS),
    swagger_ui!("swagger-ui-bundle.js", JAVASCRIPT),
    swagger_ui!("favicon-32x32.png", PNG),
];

spingraph_guest::asset_component!("docs", ASSETS);

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;
    use spin_sdk::http::Method;
    use spingraph_guest::assets::{self, testing};
    use std::collections::BTreeSet;

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
        let reply = testing::assert_ok(send, OPENAPI_PATH, "application/json");
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
            let reply = testing::assert_ok(send, path, "text/html; charset=utf-8");
            let html = testing::text(&reply);
            assert!(html.contains(r#"<div id="swagger-ui">"#), "{path}");
        }
    }

    #[test]
    fn docs_page_cannot_be_framed_and_keeps_no_pasted_token() {
        let csp = get("/docs");
        let csp = csp.header_value("content-security-policy").unwrap();
        assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
        let init = get("/docs/init.js");
        let init = testing::text(&init);
        assert!(init.contains("persistAuthorization: false"), "{init}");
        assert!(!init.contains("persistAuthorization: true"), "{init}");
    }

    #[test]
    fn docs_page_loads_only_bundled_assets_and_no_cdn() {
        let page = get("/docs");
        let html = testing::text(&page);
        let refs = assets::references(html);
        assert!(
            refs.len() >= 4,
            "css, favicon, bundle and init script: {refs:?}"
        );
        testing::assert_own_files(send, &refs, "/docs/");
        let init = get("/docs/init.js");
        let init_js = testing::text(&init);
        assert!(
            init_js.contains(&format!("url: \"{OPENAPI_PATH}\"")),
            "{init_js}"
        );
        testing::assert_no_cdn(&[html, init_js]);
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
            let reply = testing::assert_ok(send, &path, asset.content_type);
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
        testing::assert_not_found(
            send,
            &[
                "/docs/nope.js",
                "/docs/swagger-ui.css/more",
                "/docs/../openapi.yaml",
                "/docs/index.htm",
                "/v1/openapi.yaml",
                "/docsx",
            ],
        );
    }

    #[test]
    fn only_get_and_head_are_allowed_and_head_has_no_body() {
        let paths = [OPENAPI_PATH, "/docs", "/docs/swagger-ui.css"];
        testing::assert_get_and_head_only(send, &paths, &[Method::Post]);
    }
}
