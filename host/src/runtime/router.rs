//! Spin's HTTP routing: exact routes, trailing `/...` wildcards and `:name`
//! parameters, the most specific matching route winning; plus the `spin-*`
//! request headers a component sees for the route that matched.

use anyhow::{Result, bail};

/// Routes built from the manifest's `[[trigger.http]]` entries.
#[derive(Debug, Clone)]
pub struct Router {
    routes: Vec<Route>,
}

#[derive(Debug, Clone)]
struct Route {
    /// The route as written in the manifest.
    raw: String,
    /// Fixed and parameter segments before any wildcard.
    segments: Vec<Segment>,
    wildcard: bool,
    component: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    Exact(String),
    Param(String),
}

/// The route that handles a request path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteMatch<'r> {
    pub component: &'r str,
    /// The route as written in the manifest (`spin-raw-component-route`).
    pub raw_route: &'r str,
    /// `:name` captures, in route order.
    pub params: Vec<(&'r str, String)>,
    /// What a trailing wildcard captured (`spin-path-info`); empty otherwise.
    pub path_info: String,
}

impl Router {
    /// `routes` are `(route, component id)` pairs in manifest order. As in Spin, a
    /// route repeated later in the manifest replaces the earlier one.
    pub fn build<'a>(routes: impl IntoIterator<Item = (&'a str, &'a str)>) -> Result<Router> {
        let mut built: Vec<Route> = Vec::new();
        for (raw, component) in routes {
            let route = Route::parse(raw, component)?;
            if let Some(existing) = built.iter_mut().find(|r| r.raw == route.raw) {
                tracing::warn!(
                    route = raw,
                    replaced = %existing.component,
                    effective = component,
                    "duplicate route: the later one wins"
                );
                *existing = route;
            } else {
                built.push(route);
            }
        }
        Ok(Router { routes: built })
    }

    /// The most specific route matching `path` (which carries no query string).
    pub fn route(&self, path: &str) -> Option<RouteMatch<'_>> {
        let (segments, trailing_slash) = split_path(path);
        self.routes
            .iter()
            .filter_map(|route| route.matches(&segments, trailing_slash).map(|m| (route, m)))
            .max_by(|(a, _), (b, _)| a.specificity_cmp(b))
            .map(|(_, m)| m)
    }
}

fn split_path(path: &str) -> (Vec<&str>, bool) {
    let p = path.strip_prefix('/').unwrap_or(path);
    let (p, trailing) = match p.strip_suffix('/') {
        Some(stripped) => (stripped, true),
        None => (p, false),
    };
    let segments = if p.is_empty() {
        Vec::new()
    } else {
        p.split('/').collect()
    };
    (segments, trailing)
}

impl Route {
    fn parse(raw: &str, component: &str) -> Result<Route> {
        let absolute = if raw.starts_with('/') {
            raw.to_string()
        } else {
            format!("/{raw}")
        };
        let (prefix, wildcard) = if let Some(p) = absolute.strip_suffix("/...") {
            (p, true)
        } else if let Some(p) = absolute.strip_suffix("/*") {
            (p, true)
        } else {
            (absolute.strip_suffix('/').unwrap_or(&absolute), false)
        };
        let mut segments = Vec::new();
        for seg in prefix.split('/').skip(1) {
            if seg == "..." || seg == "*" {
                bail!("route {raw:?} (component {component:?}): a wildcard may only end the route");
            }
            if let Some(name) = seg.strip_prefix(':') {
                if name.is_empty() {
                    bail!("route {raw:?} (component {component:?}): `:` needs a parameter name");
                }
                segments.push(Segment::Param(name.to_string()));
            } else {
                segments.push(Segment::Exact(seg.to_string()));
            }
        }
        Ok(Route {
            raw: raw.to_string(),
            segments,
            wildcard,
            component: component.to_string(),
        })
    }

    fn matches(&self, path: &[&str], trailing_slash: bool) -> Option<RouteMatch<'_>> {
        let n = self.segments.len();
        if path.len() < n || (!self.wildcard && path.len() != n) {
            return None;
        }
        let mut params = Vec::new();
        for (seg, actual) in self.segments.iter().zip(path) {
            match seg {
                Segment::Exact(e) if e == actual => {}
                Segment::Param(name) if !actual.is_empty() => {
                    params.push((name.as_str(), (*actual).to_string()))
                }
                _ => return None,
            }
        }
        let path_info = if self.wildcard {
            let rest = &path[n..];
            let mut info = String::new();
            for seg in rest {
                info.push('/');
                info.push_str(seg);
            }
            if trailing_slash {
                info.push('/');
            }
            info
        } else {
            String::new()
        };
        Some(RouteMatch {
            component: &self.component,
            raw_route: &self.raw,
            params,
            path_info,
        })
    }

    /// Segment by segment, exact beats parameter beats wildcard; when one route's
    /// kinds are a prefix of the other's, the shorter (more precise) one wins.
    fn specificity_cmp(&self, other: &Route) -> std::cmp::Ordering {
        let kinds = |r: &Route| -> Vec<u8> {
            let mut k: Vec<u8> = r
                .segments
                .iter()
                .map(|s| match s {
                    Segment::Exact(_) => 2,
                    Segment::Param(_) => 1,
                })
                .collect();
            if r.wildcard {
                k.push(0);
            }
            k
        };
        let (a, b) = (kinds(self), kinds(other));
        for (x, y) in a.iter().zip(&b) {
            if x != y {
                return x.cmp(y);
            }
        }
        b.len().cmp(&a.len())
    }
}

impl RouteMatch<'_> {
    /// The route without its trailing wildcard (`spin-component-route`).
    pub fn component_route(&self) -> &str {
        self.raw_route
            .strip_suffix("/...")
            .or_else(|| self.raw_route.strip_suffix("/*"))
            .unwrap_or(self.raw_route)
    }

    /// The `spin-*` headers Spin adds to a request routed to a component.
    pub fn spin_headers(&self, full_url: &str, client_addr: &str) -> Vec<(String, String)> {
        let matched = if self.raw_route.starts_with('/') {
            self.raw_route.to_string()
        } else {
            format!("/{}", self.raw_route)
        };
        let mut headers = vec![
            ("spin-full-url".to_string(), full_url.to_string()),
            ("spin-path-info".to_string(), self.path_info.clone()),
            ("spin-matched-route".to_string(), matched),
            (
                "spin-component-route".to_string(),
                self.component_route().to_string(),
            ),
            (
                "spin-raw-component-route".to_string(),
                self.raw_route.to_string(),
            ),
            ("spin-base-path".to_string(), "/".to_string()),
            ("spin-client-addr".to_string(), client_addr.to_string()),
        ];
        for (name, value) in &self.params {
            headers.push((
                format!("spin-path-match-{}", name.to_ascii_lowercase()),
                value.clone(),
            ));
        }
        headers
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn router(routes: &[(&'static str, &'static str)]) -> Router {
        Router::build(routes.iter().copied()).unwrap()
    }

    fn component<'a>(r: &'a Router, path: &str) -> Option<&'a str> {
        r.route(path).map(|m| m.component)
    }

    #[test]
    fn longest_wildcard_prefix_wins_regardless_of_order() {
        for routes in [
            [
                ("/one/...", "1"),
                ("/one/two/...", "2"),
                ("/one/two/three/...", "3"),
            ],
            [
                ("/one/two/three/...", "3"),
                ("/one/two/...", "2"),
                ("/one/...", "1"),
            ],
        ] {
            let r = router(&routes);
            assert_eq!(component(&r, "/one/two/three/four"), Some("3"));
            assert_eq!(component(&r, "/one/two/x"), Some("2"));
            assert_eq!(component(&r, "/one"), Some("1"));
        }
    }

    #[test]
    fn each_path_goes_to_the_component_of_its_best_route() {
        type Routes = &'static [(&'static str, &'static str)];
        type Paths = &'static [(&'static str, Option<&'static str>)];
        // (case, routes, [(path, component it goes to)])
        let cases: &[(&str, Routes, Paths)] = &[
            (
                "exact route beats wildcard",
                &[("/...", "all"), ("/one", "one")],
                &[
                    ("/one", Some("one")),
                    ("/two", Some("all")),
                    ("/", Some("all")),
                ],
            ),
            (
                "exact segment beats parameter beats wildcard",
                &[
                    ("/users/...", "wild"),
                    ("/users/:id", "param"),
                    ("/users/me", "exact"),
                ],
                &[
                    ("/users/me", Some("exact")),
                    ("/users/42", Some("param")),
                    ("/users/42/posts", Some("wild")),
                    ("/users", Some("wild")),
                ],
            ),
            (
                "earlier exact segment decides over later ones",
                &[("/:a/b", "param-first"), ("/a/:b", "exact-first")],
                &[("/a/b", Some("exact-first"))],
            ),
            (
                "parameter does not match empty or extra segments",
                &[("/items/:id", "item")],
                &[
                    ("/items/", None),
                    ("/items/1/2", None),
                    ("/items/1/", Some("item")),
                ],
            ),
            (
                "unmatched path has no route",
                &[("/v1/health/...", "health")],
                &[("/v2", None), ("/v1/healthz", None)],
            ),
            (
                "later duplicate route wins",
                &[("/foo", "first"), ("/foo", "second")],
                &[("/foo", Some("second"))],
            ),
        ];
        for (case, routes, paths) in cases {
            let r = router(routes);
            for (path, expected) in *paths {
                assert_eq!(component(&r, path), *expected, "{case}: {path}");
            }
        }
    }

    #[test]
    fn wildcard_path_info_keeps_spin_trailing_slash_rules() {
        let r = router(&[("/test/...", "t")]);
        assert_eq!(r.route("/test").unwrap().path_info, "");
        assert_eq!(r.route("/test/").unwrap().path_info, "/");
        assert_eq!(r.route("/test/hello").unwrap().path_info, "/hello");
        assert_eq!(r.route("/test/hello/").unwrap().path_info, "/hello/");
        let root = router(&[("/...", "all")]);
        assert_eq!(root.route("/1/2/3").unwrap().path_info, "/1/2/3");
    }

    #[test]
    fn named_parameters_are_captured_alongside_wildcards() {
        let r = router(&[("/1/:two/...", "c")]);
        let m = r.route("/1/2/3").unwrap();
        assert_eq!(m.params, vec![("two", "2".to_string())]);
        assert_eq!(m.path_info, "/3");
    }

    #[test]
    fn wildcard_in_the_middle_is_rejected() {
        assert!(Router::build([("/a/.../b", "x")]).is_err());
    }

    #[test]
    fn spin_headers_describe_the_match() {
        let r = router(&[
            ("/v1/entities/:id", "entities"),
            ("/v1/health/...", "health"),
        ]);
        let m = r.route("/v1/entities/abc").unwrap();
        let h = m.spin_headers(
            "http://127.0.0.1:3000/v1/entities/abc?x=1",
            "127.0.0.1:5555",
        );
        let get = |n: &str| h.iter().find(|(k, _)| k == n).map(|(_, v)| v.as_str());
        assert_eq!(get("spin-path-info"), Some(""));
        assert_eq!(get("spin-matched-route"), Some("/v1/entities/:id"));
        assert_eq!(get("spin-component-route"), Some("/v1/entities/:id"));
        assert_eq!(get("spin-raw-component-route"), Some("/v1/entities/:id"));
        assert_eq!(get("spin-path-match-id"), Some("abc"));
        assert_eq!(get("spin-base-path"), Some("/"));
        assert_eq!(get("spin-client-addr"), Some("127.0.0.1:5555"));
        assert_eq!(
            get("spin-full-url"),
            Some("http://127.0.0.1:3000/v1/entities/abc?x=1")
        );

        let m = r.route("/v1/health/live").unwrap();
        let h = m.spin_headers("u", "a");
        let get = |n: &str| h.iter().find(|(k, _)| k == n).map(|(_, v)| v.as_str());
        assert_eq!(get("spin-path-info"), Some("/live"));
        assert_eq!(get("spin-matched-route"), Some("/v1/health/..."));
        assert_eq!(get("spin-component-route"), Some("/v1/health"));
        assert_eq!(get("spin-raw-component-route"), Some("/v1/health/..."));
    }
}
