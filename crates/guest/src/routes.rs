//! Routes as data: a component's table of (method, path pattern, handler) is its dispatch, the
//! `Allow` list of its 405s and what the OpenAPI test compares with openapi.yaml (it reads the
//! table natively). Patterns are whole paths written as openapi.yaml writes them
//! (`/v1/entities/{id}`): Spin hands a component the full path, and one component may serve
//! several prefixes (entities and `/v1/changes`) or exact routes (auth's sign-in routes).

use spin_sdk::http::Request;

use crate::context::percent_decode;
use crate::db::Db;
use crate::{ApiError, Ctx, Reply, Result};

/// One row of a route table: `method` on a path matching `pattern` is answered by `handler`.
pub struct Route<H> {
    pub method: &'static str,
    /// Literal segments and `{name}` parameters, each matching one non-empty path segment.
    pub pattern: &'static str,
    pub handler: H,
    /// Whether a 405 names `method` in its `Allow` list.
    pub listed: bool,
}

impl<H> Route<H> {
    pub const fn new(method: &'static str, pattern: &'static str, handler: H) -> Route<H> {
        Route {
            method,
            pattern,
            handler,
            listed: true,
        }
    }

    /// Served, but not named in a 405's `Allow` (a HEAD the component never advertised).
    pub const fn unlisted(method: &'static str, pattern: &'static str, handler: H) -> Route<H> {
        Route {
            method,
            pattern,
            handler,
            listed: false,
        }
    }
}

/// A component's routes, and the detail of its 404 for a path none of them matches.
pub struct Routes<H: 'static> {
    routes: &'static [Route<H>],
    not_found: &'static str,
    /// Where the table's paths live when the component is mounted at a route of its own.
    base: Option<&'static str>,
}

impl<H> Routes<H> {
    pub const fn new(routes: &'static [Route<H>]) -> Routes<H> {
        Routes {
            routes,
            not_found: "No such route.",
            base: None,
        }
    }

    /// A table whose component also serves when mounted at a route of its own (`/listed/...`
    /// in a test manifest): there, its path info is read as the path below `base`.
    pub const fn based(base: &'static str, routes: &'static [Route<H>]) -> Routes<H> {
        Routes {
            routes,
            not_found: "No such route.",
            base: Some(base),
        }
    }

    /// Another 404 detail. Name the type (`Routes::<H>::new(..).not_found(..)`): after a method
    /// call the table's closures no longer see which fn type they must be.
    pub const fn not_found(self, detail: &'static str) -> Routes<H> {
        Routes {
            not_found: detail,
            ..self
        }
    }

    /// [`Routes::find`] for a request: its path, or where the component is mounted at a route
    /// of its own and the path is none of the table's, its path info below the table's base.
    pub fn route(&self, ctx: &Ctx) -> Result<(&'static H, Params)> {
        match (self.find(&ctx.method, &ctx.path), self.base) {
            (Err(err), Some(base)) if err.status() == 404 => {
                let below = format!("{base}{}", ctx.path_info);
                if below == ctx.path {
                    return Err(err);
                }
                self.find(&ctx.method, &below)
            }
            (found, _) => found,
        }
    }

    /// The `Allow` list (`GET, POST`) when `method` is not served at `path` but others are.
    pub fn not_allowed(&self, method: &str, path: &str) -> Option<String> {
        match self.find(method, path) {
            Err(ApiError::MethodNotAllowed(allow)) => Some(allow.join(", ")),
            _ => None,
        }
    }

    pub fn iter(&self) -> std::slice::Iter<'static, Route<H>> {
        self.routes.iter()
    }

    /// The handler of `method path` and the path's parameters; 405 with the methods the path
    /// does allow (in table order) when it allows others; 404 when no pattern matches. Where
    /// several patterns match, the most specific wins: a literal segment beats a parameter,
    /// from the left (`/v1/entities/batch` is not `/v1/entities/{id}`). Empty segments are
    /// skipped (`/v1/entities//x/` is `/v1/entities/x`) and each is percent-decoded.
    pub fn find(&self, method: &str, path: &str) -> Result<(&'static H, Params)> {
        let segments: Vec<String> = path
            .split('/')
            .filter(|s| !s.is_empty())
            .map(|s| percent_decode(s, false))
            .collect();
        let matching: Vec<(&'static Route<H>, Params)> = self
            .routes
            .iter()
            .filter_map(|route| Some((route, captures(route.pattern, &segments)?)))
            .collect();
        let Some(best) = matching.iter().map(|(r, _)| shape(r.pattern)).max() else {
            return Err(ApiError::not_found(self.not_found));
        };
        let mut allow = Vec::new();
        for (route, params) in matching {
            if shape(route.pattern) != best {
                continue;
            }
            if route.method == method {
                return Ok((&route.handler, params));
            }
            if route.listed && !allow.contains(&route.method) {
                allow.push(route.method);
            }
        }
        Err(ApiError::MethodNotAllowed(allow))
    }
}

/// Test aids: what a component's unit tests assert of its table. Other crates get them with the
/// `test-util` feature, enabled only in their [dev-dependencies].
#[cfg(any(test, feature = "test-util"))]
impl<H> Routes<H> {
    /// Panics unless each line of `table`, `METHOD path -> Allow` (`PUT /v1/things -> GET, POST`),
    /// is a 405 with that `Allow` list.
    pub fn assert_allow(&self, table: &str) {
        for (line, method, path, allow) in rows(table) {
            assert!(allow.is_some(), "no `-> Allow` in {line:?}");
            assert_eq!(self.not_allowed(method, path).as_deref(), allow, "{line}");
        }
    }

    /// Panics unless each line of `requests`, `METHOD path`, is a 404 whose detail is `detail`.
    pub fn assert_not_found(&self, detail: &str, requests: &str) {
        for (line, method, path, _) in rows(requests) {
            let err = self.find(method, path).err();
            assert_eq!(err, Some(ApiError::not_found(detail)), "{line}");
        }
    }
}

/// The rows of a test table: each non-blank line, `METHOD path` or `METHOD path -> answer`, and
/// its parts.
#[cfg(any(test, feature = "test-util"))]
fn rows(table: &str) -> impl Iterator<Item = (&str, &str, &str, Option<&str>)> {
    table
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .map(|line| {
            let (request, answer) = match line.split_once(" -> ") {
                Some((request, answer)) => (request, Some(answer)),
                None => (line, None),
            };
            let parts = request.split_once(' ');
            let (method, path) = parts.unwrap_or_else(|| panic!("not `METHOD path`: {line:?}"));
            (line, method, path, answer)
        })
}

/// The test aid of a signed-in caller's table (entities, relationships; `test-util` feature).
#[cfg(any(test, feature = "test-util"))]
impl<P> Routes<Handler<P>> {
    /// Panics unless the table's idempotent writes are `expected` (`METHOD pattern`, in table
    /// order), each rule refusing `reader` (403) and admitting `writer`, but for a restore
    /// (`.../restore`, an admin's).
    pub fn assert_idempotent_rules(&self, reader: &P, writer: &P, expected: &[&str]) {
        let mut idempotent = Vec::new();
        for route in self.iter() {
            if let Handler::Idempotent(rule, _) = route.handler {
                idempotent.push(format!("{} {}", route.method, route.pattern));
                assert_eq!(rule(reader).unwrap_err().status(), 403);
                let restore = route.pattern.ends_with("/restore");
                assert_eq!(rule(writer).is_ok(), !restore, "{}", route.pattern);
            }
        }
        assert_eq!(idempotent, expected);
    }
}

/// The `{name}` values of a matched path, percent-decoded.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Params(Vec<(&'static str, String)>);

impl Params {
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    }

    /// For a component that normalizes a parameter before its handlers see it.
    pub fn get_mut(&mut self, name: &str) -> Option<&mut String> {
        self.0.iter_mut().find(|(n, _)| *n == name).map(|(_, v)| v)
    }
}

/// What a handler is given: the request, its context and its path's parameters.
pub struct Call<'a> {
    pub ctx: &'a Ctx,
    pub req: &'a Request,
    pub params: Params,
}

impl Call<'_> {
    /// The value of `{name}`. A handler asks only for the names its own pattern has, so a
    /// missing one is a bug in the table.
    pub fn param(&self, name: &str) -> &str {
        self.params
            .get(name)
            .unwrap_or_else(|| panic!("the route's pattern has no {{{name}}}"))
    }
}

/// A handler given only the request (a component whose routes admit their callers each in
/// its own way, or need none: auth, health).
pub type Respond = fn(&Call) -> Result<Reply>;

/// What a route of a signed-in caller `P` does (entities, relationships).
pub enum Handler<P> {
    /// Answers by itself: its access checks are its own (they may need the row).
    Answer(fn(&Call, &P) -> Result<Reply>),
    /// A write under `Idempotency-Key`: the rule (scope, admin: what needs no row) runs before
    /// a stored answer can be replayed, then the write in the key's transaction.
    Idempotent(fn(&P) -> Result<()>, fn(&Call, &P, &Db) -> Result<Reply>),
}

/// `pattern`'s parameters when it matches `segments`.
fn captures(pattern: &'static str, segments: &[String]) -> Option<Params> {
    let parts: Vec<&'static str> = pattern.split('/').filter(|s| !s.is_empty()).collect();
    if parts.len() != segments.len() {
        return None;
    }
    let mut params = Params::default();
    for (part, segment) in parts.into_iter().zip(segments) {
        match param_name(part) {
            Some(name) => params.0.push((name, segment.clone())),
            None if part == segment => {}
            None => return None,
        }
    }
    Some(params)
}

/// Which segments of `pattern` are literals: the larger, the more specific.
fn shape(pattern: &str) -> Vec<bool> {
    pattern
        .split('/')
        .filter(|s| !s.is_empty())
        .map(|part| param_name(part).is_none())
        .collect()
}

fn param_name(part: &str) -> Option<&str> {
    part.strip_prefix('{')?.strip_suffix('}')
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Config;
    use spin_sdk::http::Method;

    static ROUTES: Routes<&str> = Routes::new(&[
        Route::new("GET", "/v1/things", "list"),
        Route::new("HEAD", "/v1/things", "list"),
        Route::new("POST", "/v1/things", "create"),
        Route::new("POST", "/v1/things/batch", "batch"),
        Route::new("GET", "/v1/things/{id}", "get"),
        Route::new("DELETE", "/v1/things/{id}", "delete"),
        Route::new("POST", "/v1/things/{id}/restore", "restore"),
        Route::new("GET", "/v1/things/by-key/{kind}/{key}", "by key"),
        Route::new("GET", "/v1/keys.json", "keys"),
        Route::unlisted("HEAD", "/v1/keys.json", "keys"),
    ]);

    fn found(method: &str, path: &str) -> (&'static str, Params) {
        let (handler, params) = ROUTES.find(method, path).unwrap();
        (*handler, params)
    }

    fn refused(method: &str, path: &str) -> ApiError {
        ROUTES.find(method, path).err().unwrap()
    }

    #[test]
    fn method_and_path_find_the_handler_and_its_parameters() {
        assert_eq!(found("GET", "/v1/things").0, "list");
        assert_eq!(found("HEAD", "/v1/things").0, "list");
        assert_eq!(found("POST", "/v1/things").0, "create");
        let (handler, params) = found("DELETE", "/v1/things/42");
        assert_eq!((handler, params.get("id")), ("delete", Some("42")));
        let (handler, params) = found("GET", "/v1/things/by-key/person/a%2Fb");
        assert_eq!(handler, "by key");
        assert_eq!(params.get("kind"), Some("person"));
        assert_eq!(params.get("key"), Some("a/b"), "decoded, one segment");
        assert_eq!(params.get("id"), None);
    }

    #[test]
    fn a_literal_segment_beats_a_parameter() {
        assert_eq!(found("POST", "/v1/things/batch").0, "batch");
        ROUTES.assert_allow("GET /v1/things/batch -> POST");
        assert_eq!(found("GET", "/v1/things/by-key").0, "get");
        assert_eq!(found("POST", "/v1/things/by-key/restore").0, "restore");
    }

    #[test]
    fn another_method_on_a_known_path_is_405_with_the_tables_methods_in_order() {
        ROUTES.assert_allow(
            "PUT /v1/things -> GET, HEAD, POST
             PATCH /v1/things/42 -> GET, DELETE
             GET /v1/things/42/restore -> POST",
        );
        assert_eq!(refused("PUT", "/v1/things").status(), 405);
    }

    #[test]
    fn an_unlisted_method_is_served_but_not_allowed() {
        assert_eq!(found("HEAD", "/v1/keys.json").0, "keys");
        ROUTES.assert_allow("POST /v1/keys.json -> GET");
    }

    #[test]
    fn a_path_no_pattern_matches_is_404_with_the_tables_detail() {
        ROUTES.assert_not_found(
            "No such route.",
            "GET /
             GET /v1
             GET /v1/thingsx
             GET /v1/things/42/merge
             GET /v1/things/42/restore/x
             GET /v1/things/by-key/person",
        );
        static HEALTH: Routes<()> =
            Routes::new(&[Route::new("GET", "/v1/health/live", ())]).not_found("No such health.");
        HEALTH.assert_not_found("No such health.", "GET /v1/health/x");
    }

    #[test]
    #[should_panic(expected = "PUT /v1/things -> GET, POST")]
    fn a_table_row_that_does_not_hold_fails_its_test() {
        ROUTES.assert_allow("PUT /v1/things -> GET, POST");
    }

    #[test]
    #[should_panic(expected = "no `-> Allow`")]
    fn a_405_row_without_its_allow_list_fails_its_test() {
        ROUTES.assert_allow("PUT /v1/things");
    }

    #[test]
    fn empty_segments_and_a_trailing_slash_are_skipped() {
        assert_eq!(found("GET", "/v1/things/").0, "list");
        assert_eq!(found("POST", "//v1//things").0, "create");
        let (handler, params) = found("GET", "/v1/things//42/");
        assert_eq!((handler, params.get("id")), ("get", Some("42")));
        assert_eq!(found("POST", "/v1/things/%62atch").0, "batch", "decoded");
    }

    #[test]
    fn a_parameter_can_be_normalized_before_the_handler_sees_it() {
        let (_, mut params) = found("GET", "/v1/things/ABC");
        if let Some(id) = params.get_mut("id") {
            *id = id.to_lowercase();
        }
        assert_eq!(params.get("id"), Some("abc"));
    }

    /// A GET of `uri` as Spin hands it to a component mounted where its path info is `info`.
    fn ctx(uri: &str, info: &str) -> Ctx {
        let mut b = Request::builder();
        b.method(Method::Get)
            .uri(uri)
            .header("spin-path-info", info);
        Ctx::build("t", &b.build(), Config::fixed(&[]))
    }

    #[test]
    fn a_table_with_a_base_also_serves_where_it_is_mounted_at_a_route_of_its_own() {
        static BASED: Routes<&str> = Routes::based(
            "/v1/things",
            &[
                Route::new("GET", "/v1/things", "list"),
                Route::new("GET", "/v1/things/{id}", "get"),
                Route::new("GET", "/v1/changes", "changes"),
            ],
        );
        let found = |uri: &str, info: &str| BASED.route(&ctx(uri, info)).map(|(h, p)| (*h, p));
        assert_eq!(found("/v1/things/7", "/7").unwrap().0, "get");
        assert_eq!(found("/v1/changes", "").unwrap().0, "changes");
        // Mounted at `/listed/...`: the path info is read below the base.
        let (handler, params) = found("/listed/7", "/7").unwrap();
        assert_eq!((handler, params.get("id")), ("get", Some("7")));
        assert_eq!(found("/listed", "").unwrap().0, "list");
        assert_eq!(found("/listed/7/x", "/7/x").unwrap_err().status(), 404);
        // Without a base, only the table's own paths are served.
        assert_eq!(
            ROUTES
                .route(&ctx("/listed/42", "/42"))
                .unwrap_err()
                .status(),
            404
        );
        assert_eq!(
            *ROUTES.route(&ctx("/v1/things/42", "/42")).unwrap().0,
            "get"
        );
    }
}
