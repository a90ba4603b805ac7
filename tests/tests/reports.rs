//! The reports component (issue 30, item 2): a component written in Python (componentize-py,
//! components/reports) behind the same `authn` dependency as the Rust ones, over HTTP against the
//! real host, Postgres and Redis. It refuses as they do (401/403/405/503 problem+json of the same
//! shape and text), throttles credential guessing as they do and in the same Redis buckets (the
//! same client address behind a proxy), counts only the caller's own live entities, reads
//! Postgres as its own role, and is hot-swapped by `spingraph up --watch` under load without a
//! failed request.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::thread;
use std::time::{Duration, Instant};

use spingraph_e2e::{
    Caller, Response, TempDir, TestApp, TestOptions, Value, assert_problem, free_port, header,
    host_is_spingraph, json, json_body, workspace_root,
};
use spingraph_identity::api_key::ApiKey;

const ROUTE: &str = "/v1/reports/types";

fn app() -> TestApp {
    TestApp::start(TestOptions::signing_in_freely(&[(
        "api_rate_limit_per_minute",
        "100000",
    )]))
}

/// `GET /v1/reports/types` as `who`: its status and body.
fn report(app: &TestApp, who: &Caller) -> (u16, Value) {
    let resp = app.get_as(who, ROUTE);
    let status = resp.status().as_u16();
    (status, json_body(resp))
}

/// The body of a refusal, minus what differs between any two answers (instance, request id):
/// what must be the same whichever component wrote it.
fn shape(problem: &Value) -> Value {
    let mut problem = problem.clone();
    let object = problem.as_object_mut().unwrap();
    let instance = object.remove("instance");
    let request_id = object.remove("request_id");
    assert!(instance.is_some_and(|i| i.is_string()), "{problem}");
    assert!(request_id.is_some_and(|r| r.is_string()), "{problem}");
    problem
}

#[test]
fn without_credentials_or_with_bad_ones_it_is_the_same_401_problem_as_the_rust_components() {
    let app = app();
    let cases: [(&str, Option<(&str, &str)>); 4] = [
        ("no credentials", None),
        (
            "a malformed bearer token",
            Some(("authorization", "Bearer not-a-token")),
        ),
        (
            "an unknown API key",
            Some((
                "x-api-key",
                "sg_0000000000000000_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
            )),
        ),
        (
            "an unknown scheme",
            Some(("authorization", "Basic dXNlcjpwYXNz")),
        ),
    ];
    for (what, credential) in cases {
        let request = |path: &str| {
            let mut rb = app.get(path).header("x-request-id", "reports-401.check");
            if let Some((name, value)) = credential {
                rb = rb.header(name, value);
            }
            rb.send().unwrap()
        };
        let resp = request(ROUTE);
        assert_eq!(header(&resp, "www-authenticate"), "Bearer", "{what}");
        assert_eq!(header(&resp, "x-request-id"), "reports-401.check", "{what}");
        let body = assert_problem(resp, 401, what);
        assert_eq!(
            body["detail"], "Missing or invalid credentials.",
            "{what}: {body}"
        );
        assert_eq!(body["instance"], ROUTE, "{what}: {body}");
        assert_eq!(body["request_id"], "reports-401.check", "{what}: {body}");
        let rust = assert_problem(request("/v1/entities"), 401, what);
        assert_eq!(
            shape(&body),
            shape(&rust),
            "{what}: the entities component's 401"
        );
    }
}

#[test]
fn an_api_key_needs_the_entities_read_scope_as_on_the_entities_routes() {
    let app = app();
    let owner = app.caller("keyowner", "user");
    app.created_entity(&owner, &json!({"type": "person", "name": "Ada"}));
    let key = |scopes: &[&str]| {
        app.create_api_key(&owner, &scopes.join("+"), scopes)["key"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let unscoped = key(&["relationships:read"]);
    let body = assert_problem(
        app.get_with_key(&unscoped, ROUTE),
        403,
        "relationships:read",
    );
    assert_eq!(
        body["detail"], "This credential lacks the `entities:read` scope.",
        "{body}"
    );
    let rust = assert_problem(
        app.get_with_key(&unscoped, "/v1/entities"),
        403,
        "entities with relationships:read",
    );
    assert_eq!(shape(&body), shape(&rust), "the entities component's 403");

    // The read scope, or the write scope (which implies it), is enough: the owner's counts.
    let expected = json!({
        "owner_id": owner.id, "total": 1, "types": [{"type": "person", "count": 1}],
    });
    for scopes in [&["entities:read"][..], &["entities:write"][..]] {
        let resp = app.get_with_key(&key(scopes), ROUTE);
        assert_eq!(resp.status(), 200, "{scopes:?}");
        assert_eq!(json_body(resp), expected, "{scopes:?}");
    }
    // The key's use was recorded through api_key_lookup (the role itself writes nothing).
    let used = app
        .db
        .query_json("SELECT count(*)::int AS n FROM api_keys WHERE last_used_at IS NOT NULL");
    assert_eq!(used, json!([{"n": 3}]));
}

#[test]
fn each_user_sees_counts_of_their_own_live_entities_by_type() {
    let app = app();
    let [ada, bob] = app.users(["ada", "bob"]);
    let admin = app.caller("admin", "admin");
    let entity = |who: &Caller, kind: &str, name: &str| {
        app.created_entity(who, &json!({"type": kind, "name": name}))
    };
    let survivor = entity(&ada, "person", "Ada Lovelace");
    entity(&ada, "person", "Charles Babbage");
    entity(&ada, "organization", "Analytical Engines Ltd");
    // Soft-deleted: not counted.
    let place = entity(&ada, "place", "London");
    let resp = app.delete_as(
        &ada,
        &format!("/v1/entities/{}", place["id"].as_str().unwrap()),
    );
    assert_eq!(resp.status(), 204);
    // Merged into the survivor (soft-deleted with merged_into): not counted.
    let twins = [
        entity(&ada, "person", "A. Lovelace"),
        entity(&ada, "person", "Augusta Ada King"),
    ];
    let resp = app.post_as(
        &ada,
        &format!("/v1/entities/{}/merge", survivor["id"].as_str().unwrap()),
        &json!({"from": [twins[0]["id"], twins[1]["id"]], "metadata": "merge"}),
    );
    assert_eq!(resp.status(), 200, "{}", resp.text().unwrap_or_default());
    let merged = app
        .db
        .query_json("SELECT count(*)::int AS n FROM entities WHERE merged_into IS NOT NULL");
    assert_eq!(merged, json!([{"n": 2}]));
    entity(&bob, "person", "Grace Hopper");
    entity(&bob, "ship", "USS Hopper");
    entity(&bob, "Person", "Upper-case types are their own");

    let resp = app.get_as(&ada, ROUTE);
    assert_eq!(resp.status(), 200);
    assert!(header(&resp, "content-type").starts_with("application/json"));
    assert_eq!(header(&resp, "ratelimit-limit"), "100000");
    assert!(!header(&resp, "x-request-id").is_empty());
    assert_eq!(
        json_body(resp),
        json!({"owner_id": ada.id, "total": 3, "types": [
            {"type": "organization", "count": 1},
            {"type": "person", "count": 2},
        ]})
    );
    // Types in byte order ("Person" before "person").
    assert_eq!(
        report(&app, &bob),
        (
            200,
            json!({"owner_id": bob.id, "total": 3, "types": [
                {"type": "Person", "count": 1},
                {"type": "person", "count": 1},
                {"type": "ship", "count": 1},
            ]})
        )
    );
    // An admin's report is of their own entities too: none.
    assert_eq!(
        report(&app, &admin),
        (200, json!({"owner_id": admin.id, "total": 0, "types": []}))
    );
}

/// A browser session's cookie works here as on the Rust routes, also when the request carries
/// its cookies in several `cookie` fields (HTTP/2 sends each cookie as a field of its own, and a
/// proxy may pass them on so): authn reads every field, so the component must hand it every one.
#[test]
fn a_session_cookie_authenticates_also_in_the_second_cookie_field() {
    let app = app();
    app.create_user("cookie@example.com", "user");
    let resp = app
        .post_json(
            "/v1/auth/session",
            &json!({"email": "cookie@example.com", "password": spingraph_e2e::PASSWORD}),
        )
        .send()
        .unwrap();
    assert_eq!(resp.status(), 200);
    let access = resp
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|c| c.strip_prefix("__Host-sg_access="))
        .and_then(|rest| rest.split(';').next())
        .expect("the access cookie")
        .to_string();
    let ask = |fields: &[String]| {
        let mut request = app.get(ROUTE);
        for field in fields {
            request = request.header("cookie", field);
        }
        request.send().unwrap()
    };
    let session = format!("__Host-sg_access={access}");
    for (fields, what) in [
        (vec![session.clone()], "one field"),
        (
            vec!["theme=dark".to_string(), session],
            "the second of two fields",
        ),
    ] {
        let resp = ask(&fields);
        assert_eq!(resp.status(), 200, "{what}");
        assert_eq!(json_body(resp)["total"], 0, "{what}");
    }
    let resp = ask(&["theme=dark".to_string()]);
    assert_problem(resp, 401, "no session cookie in any field");
}

#[test]
fn other_methods_are_405_naming_get() {
    let app = app();
    let ada = app.caller("ada", "user");
    for method in ["POST", "PUT", "DELETE", "PATCH"] {
        let rb = app.client().request(
            reqwest::Method::from_bytes(method.as_bytes()).unwrap(),
            app.url(ROUTE),
        );
        let resp = app.send_as(&ada, rb);
        assert_eq!(header(&resp, "allow"), "GET", "{method}");
        let body = assert_problem(resp, 405, method);
        assert_eq!(body["detail"], "Allowed methods: GET.", "{body}");
    }
}

#[test]
fn over_the_api_limit_it_is_429_with_retry_after_and_ratelimit_headers() {
    let app = TestApp::start(TestOptions::signing_in_freely(&[(
        "api_rate_limit_per_minute",
        "3",
    )]));
    let ada = app.caller("ada", "user");
    let remaining: Vec<String> = (0..3)
        .map(|_| {
            let resp = app.get_as(&ada, ROUTE);
            assert_eq!(resp.status(), 200);
            header(&resp, "ratelimit-remaining")
        })
        .collect();
    assert_eq!(remaining, ["2", "1", "0"]);
    let resp = app.get_as(&ada, ROUTE);
    spingraph_e2e::assert_retry_after_within_a_minute(&resp);
    assert_eq!(header(&resp, "ratelimit-limit"), "3");
    assert_eq!(header(&resp, "ratelimit-remaining"), "0");
    assert_eq!(
        header(&resp, "ratelimit-reset"),
        header(&resp, "retry-after")
    );
    let body = assert_problem(resp, 429, "the fourth request");
    assert_eq!(body["type"], "https://spingraph.dev/problems/rate-limited");
}

#[test]
fn a_database_that_cannot_answer_in_time_is_503_problem_json() {
    let app = TestApp::start(TestOptions::signing_in_freely(&[(
        "statement_timeout_ms",
        "500",
    )]));
    let ada = app.caller("ada", "user");
    assert_eq!(report(&app, &ada).0, 200);
    // The count waits for the lock, and statement_timeout_ms cancels it; authn, which reads no
    // entity, still authenticates.
    let lock = app
        .db
        .hold_open("LOCK TABLE entities IN ACCESS EXCLUSIVE MODE");
    let resp = app.get_as(&ada, ROUTE);
    assert_eq!(header(&resp, "retry-after"), "1");
    let body = assert_problem(resp, 503, "a locked table");
    lock.rollback();
    assert_eq!(
        body["detail"], "Postgres is unavailable; try again shortly.",
        "{body}"
    );
    assert!(
        app.logs
            .wait_for(Duration::from_secs(5), |l| l
                .contains("\"component\":\"reports\"")
                && l.contains("request failed"))
            .is_some(),
        "the 503 is logged with its cause:\n{}",
        app.logs.text()
    );
    assert_eq!(
        report(&app, &ada).0,
        200,
        "served again once the lock is gone"
    );
}

/// Requests the host runs at once in [`as_many_reports_at_once_as_the_host_runs_all_answer`].
const CONCURRENT: usize = 8;

/// A componentize-py component holds about 17 core instances (CPython's modules and authn's),
/// nearly three times a Rust one: every request the host may run at once still gets its instance
/// (host/src/runtime/engine.rs; with the pool's old count, 8 per instance slot, some of these
/// failed with "maximum concurrent limit of 128 for core instances reached"). The counts wait on
/// a lock, so all of them hold their instances at the same time.
#[test]
fn as_many_reports_at_once_as_the_host_runs_all_answer() {
    let app = TestApp::start(
        TestOptions::signing_in_freely(&[("api_rate_limit_per_minute", "100000")])
            .host_arg("--max-concurrent-requests")
            .host_arg(&CONCURRENT.to_string()),
    );
    let ada = app.caller("ada", "user");
    app.created_entity(&ada, &json!({"type": "person", "name": "Ada"}));
    let lock = app
        .db
        .hold_open("LOCK TABLE entities IN ACCESS EXCLUSIVE MODE");
    let answers = thread::scope(|s| {
        let requests: Vec<_> = (0..CONCURRENT)
            .map(|_| s.spawn(|| report(&app, &ada)))
            .collect();
        // Every count is in flight, waiting for the lock, before it goes.
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let waiting = app.db.query_json(
                "SELECT count(*)::int AS n FROM pg_stat_activity \
                 WHERE usename = 'spingraph_reports' AND wait_event_type = 'Lock'",
            )[0]["n"]
                .as_i64()
                .unwrap();
            if waiting == CONCURRENT as i64 {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "{waiting} of {CONCURRENT} counts waiting:\n{}",
                app.logs.text()
            );
            thread::sleep(Duration::from_millis(50));
        }
        lock.rollback();
        requests
            .into_iter()
            .map(|r| r.join().unwrap())
            .collect::<Vec<_>>()
    });
    let expected =
        json!({"owner_id": ada.id, "total": 1, "types": [{"type": "person", "count": 1}]});
    for (status, body) in answers {
        assert_eq!((status, body), (200, expected.clone()));
    }
}

// ------------------------------------------------------------------ credential guessing

/// The application with `auth_failure_limit_per_minute` = `limit` (the bucket's key holds the
/// limit and the app's own verifying keys, so no other test counts into its windows).
fn guarded(limit: u64, extra: &[(&str, &str)]) -> TestApp {
    let limit = limit.to_string();
    let mut vars = vec![
        ("auth_failure_limit_per_minute", limit.as_str()),
        ("api_rate_limit_per_minute", "100000"),
    ];
    vars.extend_from_slice(extra);
    TestApp::start(TestOptions::signing_in_freely(&vars))
}

/// `GET path` with `credential` (a header) and, when given, `X-Forwarded-For`.
fn attempt(
    app: &TestApp,
    path: &str,
    credential: (&str, &str),
    forwarded_for: Option<&str>,
) -> Response {
    let mut rb = app.get(path).header(credential.0, credential.1);
    if let Some(client) = forwarded_for {
        rb = rb.header("x-forwarded-for", client);
    }
    rb.send().unwrap()
}

const BAD_BEARER: (&str, &str) = ("authorization", "Bearer not.a.token");

/// An API key of the right shape that no one holds.
fn unknown_key() -> String {
    ApiKey::generate(uuid::Uuid::now_v7()).key
}

/// The host's log lines of the reports component whose `msg` is `msg`.
fn reports_logged(app: &TestApp, msg: &str) -> Vec<Value> {
    app.logs
        .json_lines()
        .into_iter()
        .filter(|l| l["component"] == "reports" && l["msg"] == msg)
        .collect()
}

/// crates/authn-client's throttle, in Python: failures count per client address, 401 turns into
/// 429 past the limit, an API key is then refused before authn looks it up (even a valid one),
/// and a valid bearer token still passes (only failures count). The client is the peer: without
/// `trusted_proxies` an X-Forwarded-For that changes with every guess opens no new bucket.
#[test]
fn failed_authentications_on_reports_turn_401_into_429_and_stop_api_key_lookups() {
    let app = guarded(3, &[]);
    let owner = app.caller("owner", "user");
    let valid_key = app.create_api_key(&owner, "reader", &["entities:read"])["key"]
        .as_str()
        .unwrap()
        .to_string();

    let mut statuses = Vec::new();
    let mut remaining = Vec::new();
    for i in 0..4 {
        let spoofed = format!("198.51.100.{i}");
        let resp = attempt(&app, ROUTE, BAD_BEARER, Some(&spoofed));
        statuses.push(resp.status().as_u16());
        remaining.push(header(&resp, "ratelimit-remaining"));
        assert_eq!(header(&resp, "ratelimit-limit"), "3", "guess {i}");
        if resp.status() == 401 {
            assert_eq!(header(&resp, "www-authenticate"), "Bearer");
            assert_eq!(header(&resp, "retry-after"), "", "guess {i}");
            continue;
        }
        spingraph_e2e::assert_retry_after_within_a_minute(&resp);
        assert_eq!(
            header(&resp, "ratelimit-reset"),
            header(&resp, "retry-after")
        );
        let body = assert_problem(resp, 429, "the fourth guess");
        assert_eq!(body["type"], "https://spingraph.dev/problems/rate-limited");
        assert_eq!(body["instance"], ROUTE);
    }
    assert_eq!(statuses, [401, 401, 401, 429]);
    assert_eq!(remaining, ["2", "1", "0", "0"]);
    assert_eq!(reports_logged(&app, "authentication failed").len(), 4);

    // Past the limit an API key is refused unchecked, whether anyone holds it or not: authn is
    // not asked (no "authentication failed", the valid key's lookup never recorded its use).
    for key in [unknown_key(), valid_key] {
        let resp = attempt(&app, ROUTE, ("x-api-key", &key), None);
        spingraph_e2e::assert_retry_after_within_a_minute(&resp);
        assert_eq!(header(&resp, "ratelimit-remaining"), "0");
        assert_problem(resp, 429, "an API key past the limit");
    }
    let resp = attempt(
        &app,
        ROUTE,
        ("authorization", &format!("ApiKey {}", unknown_key())),
        None,
    );
    assert_eq!(resp.status(), 429, "the ApiKey scheme is an API key too");
    assert_eq!(reports_logged(&app, "authentication failed").len(), 4);
    let unchecked = reports_logged(&app, "authentication refused unchecked: too many failures");
    assert_eq!(unchecked.len(), 3, "{unchecked:?}");
    assert_eq!(unchecked[0]["ip"], "127.0.0.1");
    let used = app
        .db
        .query_json("SELECT count(*)::int AS n FROM api_keys WHERE last_used_at IS NOT NULL");
    assert_eq!(used, json!([{"n": 0}]), "no key was looked up");

    // Only failures count: a valid bearer token from the same address is served.
    let resp = app.get_as(&owner, ROUTE);
    assert_eq!(resp.status(), 200);
    assert_eq!(
        header(&resp, "ratelimit-limit"),
        "100000",
        "its own api limit"
    );
}

/// The Python and the Rust throttle count in one bucket (same group, limit, realm and client
/// address): failures on /v1/entities count on /v1/reports/types and the other way round.
#[test]
fn failures_on_entities_and_reports_count_in_one_bucket() {
    let app = guarded(4, &[]);
    for _ in 0..2 {
        assert_eq!(
            attempt(&app, "/v1/entities", BAD_BEARER, None).status(),
            401
        );
    }
    // Reports sees the entities' two failures: its own are the third and the fourth.
    let remaining: Vec<String> = (0..2)
        .map(|_| {
            let resp = attempt(&app, ROUTE, BAD_BEARER, None);
            assert_eq!(resp.status(), 401);
            header(&resp, "ratelimit-remaining")
        })
        .collect();
    assert_eq!(remaining, ["1", "0"]);
    // And entities sees reports' two: an API key there is refused unchecked.
    let key = unknown_key();
    let resp = attempt(&app, "/v1/entities", ("x-api-key", &key), None);
    assert_eq!(
        resp.status(),
        429,
        "entities counted the failures on reports"
    );
    let resp = attempt(&app, ROUTE, BAD_BEARER, None);
    assert_problem(resp, 429, "reports after the limit");
}

/// Behind a trusted proxy both implementations name the same client (the rightmost untrusted
/// hop of X-Forwarded-For or Forwarded, an IPv6 client by its /64), so each forwarded client
/// has one bucket on entities and reports, and another client behind the proxy is not limited.
#[test]
fn behind_a_trusted_proxy_reports_and_entities_count_each_forwarded_client_alike() {
    let app = guarded(2, &[("trusted_proxies", "127.0.0.1/32")]);
    // Client A: the hops before the rightmost untrusted one are the client's to invent.
    for _ in 0..2 {
        let resp = attempt(&app, ROUTE, BAD_BEARER, Some("6.6.6.6, 198.51.100.7"));
        assert_eq!(resp.status(), 401);
    }
    let resp = attempt(&app, "/v1/entities", BAD_BEARER, Some("198.51.100.7"));
    assert_eq!(resp.status(), 429, "entities counts reports' failures of A");
    let ips: Vec<String> = reports_logged(&app, "authentication failed")
        .into_iter()
        .map(|l| l["ip"].as_str().unwrap_or_default().to_string())
        .collect();
    assert_eq!(
        ips, ["198.51.100.7"; 2],
        "reports logs the forwarded client"
    );
    // Client B, behind the same proxy: a bucket of its own.
    let resp = attempt(&app, ROUTE, BAD_BEARER, Some("203.0.113.5"));
    assert_eq!(resp.status(), 401, "another client is not limited");

    // Client C, IPv6, named by Forwarded to entities and by X-Forwarded-For to reports.
    for _ in 0..2 {
        let resp = app
            .get("/v1/entities")
            .header(BAD_BEARER.0, BAD_BEARER.1)
            .header("forwarded", "for=\"[2001:db8:aa:77::1]:4711\"")
            .send()
            .unwrap();
        assert_eq!(resp.status(), 401);
    }
    let same_64 = attempt(&app, ROUTE, BAD_BEARER, Some("2001:db8:aa:77:ffff::9"));
    assert_eq!(same_64.status(), 429, "the same /64 is the same bucket");
    let other_64 = attempt(&app, ROUTE, BAD_BEARER, Some("2001:db8:aa:78::1"));
    assert_eq!(other_64.status(), 401, "another /64 is not");
}

/// Redis down: the throttle is skipped (logged), never the request: failures stay 401 and an
/// API key is still checked.
#[test]
fn without_redis_failures_are_not_limited_but_logged() {
    let closed = free_port();
    let app = guarded(
        1,
        &[
            ("redis_url", &format!("redis://127.0.0.1:{closed}")),
            ("redis_host", &format!("127.0.0.1:{closed}")),
        ],
    );
    for _ in 0..3 {
        assert_eq!(attempt(&app, ROUTE, BAD_BEARER, None).status(), 401);
    }
    let key = unknown_key();
    assert_eq!(
        attempt(&app, ROUTE, ("x-api-key", &key), None).status(),
        401
    );
    let skipped = reports_logged(&app, "rate limit skipped: redis unavailable");
    assert_eq!(skipped.len(), 5, "every count and the peek: {skipped:?}");
    assert!(
        skipped[0]["error"].as_str().unwrap().starts_with("Redis: "),
        "{skipped:?}"
    );
}

// ------------------------------------------------------------------ hot swap

/// Upper bound on a reload of the reports component (a compile of CPython's wasm included).
const RELOAD_TIMEOUT: Duration = Duration::from_secs(240);

/// The application's manifest in `dir`, its reports component served from a copy of its wasm
/// there (`reports.wasm`, returned second) so that only this test changes it; every other source
/// and dependency path made absolute.
fn hermetic_app(dir: &Path) -> (PathBuf, PathBuf) {
    let root = workspace_root();
    let text = std::fs::read_to_string(root.join("spin.toml")).unwrap();
    let reports = "\"target/wasm32-wasip2/release/reports.wasm\"";
    assert_eq!(
        text.matches(reports).count(),
        1,
        "spin.toml's reports wasm moved"
    );
    let copy = dir.join("reports.wasm");
    std::fs::copy(
        root.join("target/wasm32-wasip2/release/reports.wasm"),
        &copy,
    )
    .expect("copying reports.wasm (build it first: target/debug/spingraph build)");
    let text = text
        .replace(reports, &format!("{:?}", copy.display().to_string()))
        .replace("\"target/", &format!("\"{}/target/", root.display()));
    let manifest = dir.join("spin.toml");
    std::fs::write(&manifest, text).unwrap();
    (manifest, copy)
}

/// A second build of the reports component, from a copy of its source whose answers carry
/// `x-reports-build: 2`: built as `./dev py-component` builds it (the same componentize-py and
/// the same WIT in target/).
fn rebuilt_reports(dir: &Path) -> Vec<u8> {
    let root = workspace_root();
    let source = dir.join("app");
    std::fs::create_dir_all(&source).unwrap();
    for entry in std::fs::read_dir(root.join("components/reports/app")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "py") {
            std::fs::copy(&path, source.join(path.file_name().unwrap())).unwrap();
        }
    }
    let app_py = source.join("app.py");
    let text = std::fs::read_to_string(&app_py).unwrap();
    let answer = "    return Reply(200, body, headers=limit_headers)\n";
    assert_eq!(text.matches(answer).count(), 1, "app.py's answer moved");
    let text = text.replace(
        answer,
        "    return Reply(200, body, headers=[*limit_headers, (\"x-reports-build\", \"2\")])\n",
    );
    std::fs::write(&app_py, text).unwrap();
    let out = dir.join("reports-2.wasm");
    let status = Command::new(root.join("target/componentize-py-venv/bin/componentize-py"))
        .args(["-q", "-d"])
        .arg(root.join("target/wit/reports"))
        .args(["-w", "spingraph:reports/reports", "componentize", "-p"])
        .arg(&source)
        .arg("app")
        .arg("-o")
        .arg(&out)
        .status()
        .expect("running componentize-py (./dev py-component reports installs it)");
    assert!(status.success(), "componentize-py failed: {status}");
    std::fs::read(&out).unwrap()
}

#[test]
fn a_rebuilt_reports_component_is_swapped_in_under_load_without_a_failed_request() {
    if !host_is_spingraph() {
        return; // `spin up --watch` rebuilds from [component.X.build] instead
    }
    let dir = TempDir::create();
    let rebuilt = rebuilt_reports(dir.path());
    let (manifest, wasm) = hermetic_app(dir.path());
    let app = TestApp::start(
        TestOptions::signing_in_freely(&[("api_rate_limit_per_minute", "1000000")])
            .manifest(&manifest)
            .host_arg("--watch"),
    );
    let ada = app.caller("ada", "user");
    app.created_entity(&ada, &json!({"type": "person", "name": "Ada"}));
    let before = app.get_as(&ada, ROUTE);
    assert_eq!(before.status(), 200);
    assert_eq!(header(&before, "x-reports-build"), "", "the first build");

    let ((), load) = app.under_load(&ada, ROUTE, Some(("x-reports-build", "2")), || {
        thread::sleep(Duration::from_millis(500));
        // Replaced the way a build tool does: a temp file renamed over it.
        let partial = wasm.with_extension("wasm.partial");
        std::fs::write(&partial, &rebuilt).unwrap();
        std::fs::rename(&partial, &wasm).unwrap();
        let deadline = Instant::now() + RELOAD_TIMEOUT;
        loop {
            let resp = app.get_as(&ada, ROUTE);
            assert_eq!(resp.status(), 200);
            if header(&resp, "x-reports-build") == "2" {
                assert_eq!(
                    json_body(resp),
                    json!({"owner_id": ada.id, "total": 1, "types": [{"type": "person", "count": 1}]}),
                    "the new build answers the same report"
                );
                break;
            }
            assert!(
                Instant::now() < deadline,
                "the rebuilt component was not swapped in within {RELOAD_TIMEOUT:?}:\n{}",
                app.logs.text()
            );
            thread::sleep(Duration::from_millis(100));
        }
        // Some more load on the new build, then stop.
        thread::sleep(Duration::from_millis(500));
    });
    assert!(
        load.failures.is_empty(),
        "failed during the swap: {:?}",
        load.failures
    );
    assert!(load.served > load.marked, "the clients saw the old build");
    assert!(load.marked > 0, "the clients saw the new build");
    let reloads = app
        .logs
        .json_lines()
        .into_iter()
        .filter(|l| {
            l["fields"]["message"] == "component reloaded" && l["fields"]["component"] == "reports"
        })
        .count();
    assert_eq!(reloads, 1, "{}", app.logs.text());
}
