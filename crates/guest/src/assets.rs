//! Files bundled into a component at build time (a page, its script, an npm package's files),
//! served read-only: `GET`/`HEAD` of an exact path, 405 with `Allow` for other methods, 404 for
//! any path that names no file. The docs and explorer components are nothing but this.

use crate::{ApiError, Ctx, Reply, Result};

pub const HTML: &str = "text/html; charset=utf-8";
pub const CSS: &str = "text/css; charset=utf-8";
pub const JAVASCRIPT: &str = "text/javascript; charset=utf-8";
pub const PNG: &str = "image/png";

/// For a file that changes only with the npm package version pinned in spin.toml.
pub const CACHED: &[(&str, &str)] = &[("cache-control", "public, max-age=3600")];
/// For a file of our own, which may change with any build: revalidate every time.
pub const NOT_CACHED: &[(&str, &str)] = &[("cache-control", "no-cache")];

/// One bundled file: the paths it answers (a page may answer `/docs` and `/docs/`), its content
/// type, its bytes and the headers sent with it (a page's CSP, an asset's cache lifetime).
#[derive(Debug, Clone, Copy)]
pub struct Asset {
    pub paths: &'static [&'static str],
    pub content_type: &'static str,
    pub body: &'static [u8],
    pub headers: &'static [(&'static str, &'static str)],
}

impl Asset {
    pub const fn new(
        paths: &'static [&'static str],
        content_type: &'static str,
        body: &'static [u8],
    ) -> Asset {
        Asset {
            paths,
            content_type,
            body,
            headers: &[],
        }
    }

    pub const fn headers(self, headers: &'static [(&'static str, &'static str)]) -> Asset {
        Asset { headers, ..self }
    }

    fn reply(&self) -> Reply {
        self.headers.iter().fold(
            Reply::bytes(200, self.content_type, self.body),
            |reply, (name, value)| reply.header(name, value),
        )
    }
}

/// The answer to a request for one of `assets` (by `ctx.path`, the query ignored).
pub fn serve(ctx: &Ctx, assets: &[Asset]) -> Result<Reply> {
    let asset = assets
        .iter()
        .find(|a| a.paths.contains(&ctx.path.as_str()))
        .ok_or_else(|| ApiError::not_found("No such route."))?;
    match ctx.method.as_str() {
        "GET" => Ok(asset.reply()),
        "HEAD" => Ok(asset.reply().without_body()),
        _ => Err(ApiError::MethodNotAllowed(vec!["GET", "HEAD"])),
    }
}

/// The `href="..."` and `src="..."` values of an HTML page: what it loads and links to.
pub fn references(html: &str) -> Vec<&str> {
    let mut refs = Vec::new();
    for attr in ["href=\"", "src=\""] {
        for (start, _) in html.match_indices(attr) {
            let value = &html[start + attr.len()..];
            refs.push(value.split('"').next().unwrap_or_default());
        }
    }
    refs
}

/// The whole entry point of a component that serves nothing but `assets`, named `name` in logs:
/// `handle` (the `wasi:http` export, on wasm only: native unit-test builds cannot link its
/// symbol), `route`, and for unit tests `send(method, path)`, what it answers without a host, and
/// `get(path)`, its GET.
#[macro_export]
macro_rules! asset_component {
    ($name:literal, $assets:expr) => {
        #[cfg_attr(target_arch = "wasm32", spin_sdk::http_component)]
        #[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
        fn handle(req: spin_sdk::http::Request) -> spin_sdk::http::Response {
            $crate::serve($name, req, route)
        }

        fn route(
            ctx: &$crate::Ctx,
            _req: &spin_sdk::http::Request,
        ) -> $crate::Result<$crate::Reply> {
            $crate::assets::serve(ctx, $assets)
        }

        #[cfg(test)]
        fn send(method: spin_sdk::http::Method, path: &str) -> $crate::Reply {
            $crate::respond_to($name, method, path, route)
        }

        #[cfg(test)]
        fn get(path: &str) -> $crate::Reply {
            send(spin_sdk::http::Method::Get, path)
        }
    };
}

/// Test aids: what the unit tests of an [`asset_component!`] assert of what its `send` answers.
/// Other crates get them with the `test-util` feature, enabled only in their [dev-dependencies].
#[cfg(any(test, feature = "test-util"))]
pub mod testing {
    use spin_sdk::http::Method;

    use crate::Reply;
    use crate::reply::PROBLEM_JSON;

    /// The body of `reply`, which must be UTF-8.
    pub fn text(reply: &Reply) -> &str {
        std::str::from_utf8(reply.body()).expect("UTF-8")
    }

    /// GET of `path`, asserted a `status` answer of `content_type`.
    fn answer(
        send: impl Fn(Method, &str) -> Reply,
        path: &str,
        status: u16,
        content_type: &str,
    ) -> Reply {
        let reply = send(Method::Get, path);
        assert_eq!(reply.status(), status, "{path}");
        let answered = reply.header_value("content-type");
        assert_eq!(answered, Some(content_type), "{path}");
        reply
    }

    /// GET of `path`, asserted a 200 of `content_type`: a page's (HTML) also under a policy that
    /// starts with `default-src 'self'`.
    pub fn assert_ok(
        send: impl Fn(Method, &str) -> Reply,
        path: &str,
        content_type: &str,
    ) -> Reply {
        let reply = answer(send, path, 200, content_type);
        if content_type == super::HTML {
            let csp = reply.header_value("content-security-policy");
            let csp = csp.unwrap_or_default();
            assert!(csp.starts_with("default-src 'self'"), "{path}: {csp}");
        }
        reply
    }

    /// Each of `refs`, what a page loads, is one of the files below `prefix`, served and not empty.
    pub fn assert_own_files(send: impl Fn(Method, &str) -> Reply, refs: &[&str], prefix: &str) {
        for reference in refs {
            assert!(
                reference.starts_with(prefix),
                "{reference} is not one of the page's own files"
            );
            let asset = send(Method::Get, reference);
            assert_eq!(asset.status(), 200, "{reference} is served");
            assert!(!asset.body().is_empty(), "{reference} is not empty");
        }
    }

    /// None of `texts` (a page, a script) names an absolute or CDN URL.
    pub fn assert_no_cdn(texts: &[&str]) {
        for text in texts {
            assert!(
                !text.contains("http://") && !text.contains("https://") && !text.contains("//cdn"),
                "no absolute or CDN URL in:\n{text}"
            );
        }
    }

    /// GET of each of `paths` is a 404 problem+json naming its status and request id.
    pub fn assert_not_found(send: impl Fn(Method, &str) -> Reply, paths: &[&str]) {
        for path in paths {
            let reply = answer(&send, path, 404, PROBLEM_JSON);
            let problem: serde_json::Value = serde_json::from_slice(reply.body()).unwrap();
            assert_eq!(problem["status"], 404, "{path}");
            assert!(problem["request_id"].is_string(), "{path}");
        }
    }

    /// `methods` on each of `paths` are 405 with `Allow: GET, HEAD`; HEAD is a 200 with GET's
    /// content type and no body.
    pub fn assert_get_and_head_only(
        send: impl Fn(Method, &str) -> Reply,
        paths: &[&str],
        methods: &[Method],
    ) {
        for path in paths {
            for method in methods {
                let reply = send(method.clone(), path);
                assert_eq!(reply.status(), 405, "{path}");
                assert_eq!(reply.header_value("allow"), Some("GET, HEAD"), "{path}");
            }
            let head = send(Method::Head, path);
            assert_eq!(head.status(), 200, "{path}");
            assert!(head.body().is_empty(), "{path}");
            assert_eq!(
                head.header_value("content-type"),
                send(Method::Get, path).header_value("content-type"),
                "HEAD answers with GET's headers: {path}"
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Config;

    #[test]
    fn references_are_the_href_and_src_values() {
        let html = r##"<link href="/p/a.css"><script src="/p/b.js"></script><a href="#main">"##;
        assert_eq!(references(html), vec!["/p/a.css", "#main", "/p/b.js"]);
    }
    use spin_sdk::http::{Method, Request};

    const ASSETS: &[Asset] = &[
        Asset::new(&["/p", "/p/"], HTML, b"<p>page</p>")
            .headers(&[("content-security-policy", "default-src 'self'")]),
        Asset::new(&["/p/app.js"], JAVASCRIPT, b"run()").headers(NOT_CACHED),
    ];

    fn send(method: Method, uri: &str) -> Reply {
        let mut builder = Request::builder();
        builder.method(method).uri(uri);
        let req = builder.build();
        let ctx = Ctx::build("test", &req, Config::fixed(&[]));
        crate::respond(&ctx, &req, |ctx, _| serve(ctx, ASSETS))
    }

    #[test]
    fn every_path_of_an_asset_answers_its_bytes_type_and_headers() {
        for uri in ["/p", "/p/", "/p?x=1"] {
            let reply = send(Method::Get, uri);
            assert_eq!(reply.status(), 200, "{uri}");
            assert_eq!(reply.header_value("content-type"), Some(HTML), "{uri}");
            assert_eq!(
                reply.header_value("content-security-policy"),
                Some("default-src 'self'")
            );
            assert_eq!(reply.body(), b"<p>page</p>");
        }
        let js = send(Method::Get, "/p/app.js");
        assert_eq!(js.header_value("content-type"), Some(JAVASCRIPT));
        assert_eq!(js.header_value("cache-control"), Some("no-cache"));
    }

    #[test]
    fn head_has_get_headers_and_no_body() {
        let head = send(Method::Head, "/p/app.js");
        assert_eq!(head.status(), 200);
        assert!(head.body().is_empty());
        assert_eq!(head.header_value("content-type"), Some(JAVASCRIPT));
    }

    #[test]
    fn other_methods_are_405_with_allow_and_unknown_paths_404() {
        let post = send(Method::Post, "/p");
        assert_eq!(post.status(), 405);
        assert_eq!(post.header_value("allow"), Some("GET, HEAD"));
        testing::assert_not_found(send, &["/p/nope.js", "/p/app.js/x", "/px", "/"]);
    }
}
