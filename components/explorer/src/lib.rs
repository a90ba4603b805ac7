//! The explorer component: `GET /explore`, a page for looking at the graph in a browser. It is
//! static files only (no database, no outbound hosts): the page (`page/`, plain HTML/CSS/JS)
//! talks to the API from the browser through the session flow, and draws with `cytoscape`,
//! bundled at build time from npm so the page loads nothing from a CDN.

use spingraph_guest::assets::{Asset, CACHED, CSS, HTML, JAVASCRIPT, NOT_CACHED};

/// Only this origin's files run, style and connect; the page is never framed (it holds a
/// signed-in session) and posts no forms anywhere.
const CSP: &str = "default-src 'self'; img-src 'self' data:; style-src 'self'; \
                   connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

/// Everything the component serves.
const ASSETS: &[Asset] = &[
    Asset::new(
        &["/explore", "/explore/", "/explore/index.html"],
        HTML,
        include_bytes!("../page/index.html"),
    )
    .headers(&[
        ("content-security-policy", CSP),
        ("cache-control", "no-cache"),
        ("referrer-policy", "same-origin"),
        ("x-content-type-options", "nosniff"),
    ]),
    Asset::new(
        &["/explore/explorer.js"],
        JAVASCRIPT,
        include_bytes!("../page/explorer.js"),
    )
    .headers(NOT_CACHED),
    Asset::new(
        &["/explore/explorer.css"],
        CSS,
        include_bytes!("../page/explorer.css"),
    )
    .headers(NOT_CACHED),
    Asset::new(
        &["/explore/cytoscape.min.js"],
        JAVASCRIPT,
        include_bytes!(concat!(env!("OUT_DIR"), "/cytoscape.min.js")),
    )
    .headers(CACHED),
];

spingraph_guest::asset_component!("explorer", ASSETS);

#[cfg(test)]
mod tests {
    use super::*;
    use spin_sdk::http::Method;
    use spingraph_guest::assets::{self, testing, testing::text};

    #[test]
    fn page_is_html_under_a_strict_same_origin_policy_for_every_spelling() {
        for path in ["/explore", "/explore/", "/explore/index.html"] {
            let reply = testing::assert_ok(send, path, HTML);
            let csp = reply
                .header_value("content-security-policy")
                .unwrap_or_default();
            assert!(
                !csp.contains("unsafe-inline") && !csp.contains("unsafe-eval"),
                "{csp}"
            );
            assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
            assert!(text(&reply).contains("<title>spingraph explorer</title>"));
        }
    }

    #[test]
    fn page_loads_only_its_own_files_and_no_cdn() {
        let page = get("/explore");
        let html = text(&page);
        let refs = assets::references(html);
        for file in [
            "/explore/explorer.css",
            "/explore/cytoscape.min.js",
            "/explore/explorer.js",
        ] {
            assert!(refs.contains(&file), "the page loads {file}: {refs:?}");
        }
        // In-page links (the skip link) aside.
        let files: Vec<&str> = refs.into_iter().filter(|r| !r.starts_with('#')).collect();
        testing::assert_own_files(send, &files, "/explore/");
        let script = get("/explore/explorer.js");
        testing::assert_no_cdn(&[html, text(&script)]);
        assert!(!html.contains("<script>"), "no inline script (CSP)");
        assert!(!html.contains("style=\""), "no inline style (CSP)");
    }

    #[test]
    fn the_script_signs_in_with_the_session_and_keeps_secrets_out_of_storage() {
        let script = get("/explore/explorer.js");
        let js = text(&script);
        assert!(js.contains("/v1/auth/session"), "signs in with a session");
        assert!(js.contains("credentials: \"same-origin\""), "sends cookies");
        assert!(js.contains("x-csrf-token"), "echoes the CSRF token");
        for storage in ["localStorage", "sessionStorage", "document.cookie"] {
            assert!(!js.contains(storage), "the script touches {storage}");
        }
    }

    #[test]
    fn files_are_served_with_their_content_types_and_caching() {
        let expect = [
            ("/explore/explorer.js", JAVASCRIPT, "no-cache"),
            ("/explore/explorer.css", CSS, "no-cache"),
            (
                "/explore/cytoscape.min.js",
                JAVASCRIPT,
                "public, max-age=3600",
            ),
        ];
        for (path, content_type, cache) in expect {
            let reply = testing::assert_ok(send, path, content_type);
            assert_eq!(reply.header_value("cache-control"), Some(cache), "{path}");
        }
        let bundle = get("/explore/cytoscape.min.js");
        assert!(
            bundle.body().len() > 100_000 && text(&bundle).contains("Cytoscape Consortium"),
            "the npm package's browser build (with its licence header) is bundled"
        );
    }

    #[test]
    fn unknown_paths_are_404_problem_json() {
        testing::assert_not_found(
            send,
            &[
                "/explore/nope.js",
                "/explore/explorer.js/more",
                "/explore/../Cargo.toml",
                "/explore/index.htm",
                "/explore/page/explorer.js",
                "/explorex",
            ],
        );
    }

    #[test]
    fn only_get_and_head_are_allowed_and_head_has_no_body() {
        let paths = [
            "/explore",
            "/explore/explorer.js",
            "/explore/cytoscape.min.js",
        ];
        let methods = [Method::Post, Method::Put, Method::Delete];
        testing::assert_get_and_head_only(send, &paths, &methods);
    }
}
