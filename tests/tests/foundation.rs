//! The foundation's "must show" list (issue 2, items 2–7) and the spin-compat fixture (issue 8,
//! item 1), end to end over HTTP against a real host, Postgres and Redis.

use std::thread;
use std::time::{Duration, Instant};

use spingraph_e2e::{
    FIXTURE_SECRET, SPIN_COMPAT, TestApp, TestOptions, Value, fixtures_manifest, free_port,
    host_is_spingraph, host_property, json, json_body, workspace_root,
};

fn fixtures() -> TestApp {
    TestApp::start(TestOptions::fixtures())
}

/// The fixture app with tight limits, so loops and memory blow-ups end quickly.
fn constrained_fixtures() -> TestApp {
    TestApp::start(
        TestOptions::fixtures()
            .host_arg("--request-timeout-ms")
            .host_arg("2000")
            .host_arg("--max-memory-mb")
            .host_arg("64"),
    )
}

fn echo(app: &TestApp, path: &str) -> Value {
    let resp = app.get(path).send().unwrap();
    assert_eq!(resp.status(), 200, "{path}");
    json_body(resp)
}

fn header<'a>(echoed: &'a Value, name: &str) -> Option<&'a str> {
    echoed["headers"][name].as_str()
}

/// Each of `expected` (header, value) is a header the echo component saw, with that value.
fn assert_echoed_headers(echoed: &Value, expected: &[(&str, &str)]) {
    for (name, value) in expected {
        assert_eq!(header(echoed, name), Some(*value), "{name} in {echoed}");
    }
}

fn is_problem_json(resp: &spingraph_e2e::Response) -> bool {
    spingraph_e2e::header(resp, "content-type").starts_with("application/problem+json")
}

// ------------------------------------------------------------------ 2. health

#[test]
fn health_live_answers_200_json_through_the_host() {
    let app = TestApp::start(TestOptions::default());
    let resp = app.get("/v1/health/live").send().unwrap();
    assert_eq!(resp.status(), 200);
    assert!(spingraph_e2e::header(&resp, "content-type").starts_with("application/json"));
    assert_eq!(json_body(resp)["status"], "up");
}

#[test]
fn health_ready_reports_postgres_and_redis_up() {
    let app = TestApp::start(TestOptions::default());
    let resp = app.get("/v1/health/ready").send().unwrap();
    let status = resp.status();
    let body = json_body(resp);
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["status"], "up");
    for check in ["postgres", "redis"] {
        assert_eq!(body["checks"][check]["status"], "up", "{body}");
        assert!(body["checks"][check]["latency_ms"].is_u64(), "{body}");
    }
    assert_eq!(
        body["checks"]["postgres"]["schema_version"],
        body["checks"]["postgres"]["expected_schema_version"]
    );
}

#[test]
fn health_ready_is_503_naming_redis_within_2s_when_redis_port_is_closed() {
    let closed = format!("127.0.0.1:{}", free_port());
    let app = TestApp::start(
        TestOptions::default()
            .variable("redis_url", &format!("redis://{closed}"))
            .variable("redis_host", &closed),
    );
    let started = Instant::now();
    let resp = app.get("/v1/health/ready").send().unwrap();
    let elapsed = started.elapsed();
    assert_eq!(resp.status(), 503);
    assert!(is_problem_json(&resp));
    let body = json_body(resp);
    assert!(elapsed < Duration::from_secs(2), "took {elapsed:?}");
    assert_eq!(body["checks"]["redis"]["status"], "down", "{body}");
    assert_eq!(body["checks"]["postgres"]["status"], "up", "{body}");
    assert_eq!(body["failed"], json!(["redis"]));
    assert!(body["detail"].as_str().unwrap().contains("redis"), "{body}");
    assert!(body["request_id"].is_string());
}

#[test]
fn health_reports_every_component_name_and_version() {
    let app = TestApp::start(TestOptions::default());
    let resp = app.get("/v1/health").send().unwrap();
    assert_eq!(resp.status(), 200);
    let body = json_body(resp);
    let components = body["components"].as_array().expect("components array");
    let mut checked = Vec::new();
    for dir in std::fs::read_dir(workspace_root().join("components")).unwrap() {
        // A crate's Cargo.toml, or a Python component's pyproject.toml (components/reports).
        let dir = dir.unwrap().path();
        let Ok(text) = std::fs::read_to_string(dir.join("Cargo.toml"))
            .or_else(|_| std::fs::read_to_string(dir.join("pyproject.toml")))
        else {
            continue;
        };
        let field = |key: &str| {
            text.lines()
                .find_map(|l| l.strip_prefix(&format!("{key} = \"")))
                .map(|rest| rest.trim_end_matches('"').to_string())
        };
        let (Some(name), Some(version)) = (field("name"), field("version")) else {
            continue;
        };
        assert!(
            components
                .iter()
                .any(|c| c["name"] == name.as_str() && c["version"] == version.as_str()),
            "{name} {version} missing from {body}"
        );
        checked.push(name);
    }
    assert!(checked.iter().any(|n| n == "reports"), "{checked:?}");
    assert_eq!(body["checks"]["postgres"]["status"], "up");
}

#[test]
fn health_rejects_other_methods_with_405_and_allow() {
    let app = fixtures();
    let resp = app.post("/v1/health/live").send().unwrap();
    assert_eq!(resp.status(), 405);
    assert!(is_problem_json(&resp));
    let allow = resp.headers()["allow"].to_str().unwrap().to_string();
    assert!(allow.contains("GET"), "{allow}");
}

#[test]
fn cors_preflight_is_answered_for_an_allowed_origin_only() {
    let app = TestApp::start(
        TestOptions::default().variable("cors_allowed_origins", "https://app.example.com"),
    );
    let preflight = |origin: &str| {
        app.client()
            .request(reqwest::Method::OPTIONS, app.url("/v1/health/live"))
            .header("origin", origin)
            .header("access-control-request-method", "GET")
            .send()
            .unwrap()
    };
    let ok = preflight("https://app.example.com");
    assert_eq!(ok.status(), 204);
    assert_eq!(
        ok.headers()["access-control-allow-origin"],
        "https://app.example.com"
    );
    assert_eq!(ok.headers()["access-control-allow-credentials"], "true");
    assert_eq!(ok.headers()["vary"], "Origin");
    let denied = preflight("https://evil.example");
    assert!(
        denied
            .headers()
            .get("access-control-allow-origin")
            .is_none()
    );
}

// ------------------------------------------------------------------ 3. request ids

#[test]
fn valid_request_id_is_echoed() {
    let app = fixtures();
    let resp = app
        .get("/v1/health/live")
        .header("x-request-id", "client-id_1.2-3")
        .send()
        .unwrap();
    assert_eq!(resp.headers()["x-request-id"], "client-id_1.2-3");
}

#[test]
fn invalid_request_id_is_replaced() {
    let app = fixtures();
    for bad in ["has spaces", "semi;colon", &"a".repeat(129)] {
        let resp = app
            .get("/v1/health/live")
            .header("x-request-id", bad)
            .send()
            .unwrap();
        let id = resp.headers()["x-request-id"].to_str().unwrap().to_string();
        assert_ne!(id, bad);
        assert!(
            (1..=128).contains(&id.len())
                && id
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b)),
            "{id}"
        );
    }
}

#[test]
fn request_id_appears_in_error_body_and_access_log() {
    let app = fixtures();
    let rid = format!("e2e-{}", uuid::Uuid::new_v4().simple());
    let resp = app
        .get("/v1/health/no-such-thing")
        .header("x-request-id", &rid)
        .send()
        .unwrap();
    assert_eq!(resp.status(), 404);
    assert!(is_problem_json(&resp));
    assert_eq!(resp.headers()["x-request-id"], rid.as_str());
    let body = json_body(resp);
    assert_eq!(body["request_id"], rid.as_str());
    assert_eq!(body["status"], 404);
    assert_eq!(body["instance"], "/v1/health/no-such-thing");
    for field in ["type", "title", "detail"] {
        assert!(body[field].is_string(), "{field} in {body}");
    }
    if !host_property("JSON access log") {
        return;
    }
    let line = app
        .logs
        .wait_for(Duration::from_secs(5), |l| {
            serde_json::from_str::<Value>(l).is_ok_and(|v| {
                v["request_id"] == rid.as_str() && v["status"] == 404 && v["method"] == "GET"
            })
        })
        .unwrap_or_else(|| panic!("no access-log line for {rid}:\n{}", app.logs.text()));
    assert!(line.contains("/v1/health/no-such-thing"), "{line}");
}

// ------------------------------------------------------------------ 4. routing

#[test]
fn exact_route_beats_param_and_wildcard() {
    let app = fixtures();
    for route in ["/route/exact", "/route/items/special"] {
        assert_echoed_headers(&echo(&app, route), &[("spin-matched-route", route)]);
    }
}

#[test]
fn param_route_beats_wildcard_and_sets_path_match_headers() {
    let app = fixtures();
    assert_echoed_headers(
        &echo(&app, "/route/items/42"),
        &[
            ("spin-matched-route", "/route/items/:id"),
            ("spin-path-match-id", "42"),
            ("spin-path-info", ""),
        ],
    );
    assert_echoed_headers(
        &echo(&app, "/route/users/ada/posts/7"),
        &[
            ("spin-matched-route", "/route/users/:user/posts/:post"),
            ("spin-path-match-user", "ada"),
            ("spin-path-match-post", "7"),
        ],
    );
}

#[test]
fn wildcard_route_passes_the_rest_as_path_info() {
    let app = fixtures();
    let deep = echo(&app, "/route/items/42/more?x=1");
    assert_echoed_headers(
        &deep,
        &[
            ("spin-matched-route", "/route/..."),
            ("spin-path-info", "/items/42/more"),
            ("spin-component-route", "/route"),
            ("spin-raw-component-route", "/route/..."),
        ],
    );
    assert_eq!(deep["query"], "x=1");
}

#[test]
fn spin_request_headers_reach_the_component() {
    let app = fixtures();
    let echoed = echo(&app, "/route/exact?q=2");
    assert_eq!(
        header(&echoed, "spin-full-url"),
        Some(app.url("/route/exact?q=2").as_str())
    );
    assert_eq!(header(&echoed, "spin-base-path"), Some("/"));
    let client = header(&echoed, "spin-client-addr").expect("spin-client-addr");
    assert!(client.starts_with("127.0.0.1:"), "{client}");
    assert!(header(&echoed, "host").is_none(), "{echoed}");
}

#[test]
fn unmatched_path_is_404() {
    let app = fixtures();
    let resp = app.get("/nothing/here").send().unwrap();
    assert_eq!(resp.status(), 404);
}

// ------------------------------------------------------------------ 5. sandbox

#[test]
fn component_without_postgres_in_allowed_hosts_gets_an_error_when_connecting() {
    let app = fixtures();
    let allowed = echo(&app, "/pg/connect");
    assert_eq!(allowed["ok"], true, "{allowed}");
    let denied = echo(&app, "/pg-denied/connect");
    assert_eq!(denied["ok"], false, "{denied}");
    let message = denied["error"]["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("127.0.0.1"),
        "the error names the host: {denied}"
    );
}

/// Spin's key-value interface with the Redis backend its runtime config offers: what one
/// instance sets, the next reads; it outlives the host (it is in Redis); a component not granted
/// the store gets `access-denied`.
#[test]
fn key_value_store_is_shared_by_instances_kept_in_redis_and_denied_where_not_granted() {
    let rc = std::env::temp_dir().join(format!(
        "spingraph-e2e-kv-{}.toml",
        uuid::Uuid::new_v4().simple()
    ));
    std::fs::write(
        &rc,
        "[key_value_store.default]\ntype = \"redis\"\nurl = \"redis://127.0.0.1:6379\"\n",
    )
    .unwrap();
    let start = || {
        TestApp::start(
            TestOptions::fixtures()
                .host_arg("--runtime-config-file")
                .host_arg(&rc.display().to_string()),
        )
    };
    let key = format!("spingraph-e2e-kv-{}", uuid::Uuid::new_v4().simple());
    let path = format!("/kv/{key}");

    let app = start();
    let set = json_body(app.client().put(app.url(&path)).body("v1").send().unwrap());
    assert_eq!(set["ok"], true, "{set}");
    let read = echo(&app, &path);
    assert_eq!(
        (&read["value"], &read["exists"], &read["listed"]),
        (&json!("v1"), &json!(true), &json!(true)),
        "{read}"
    );
    let denied = echo(&app, &format!("/kv-denied/{key}"));
    assert_eq!(denied["ok"], false, "{denied}");
    assert_eq!(denied["error"]["kind"], "access-denied", "{denied}");
    drop(app);

    let app = start();
    let read = echo(&app, &path);
    assert_eq!(read["value"], "v1", "kept in Redis across hosts: {read}");
    let deleted = json_body(app.delete(&path).send().unwrap());
    assert_eq!(deleted["ok"], true, "{deleted}");
    let read = echo(&app, &path);
    assert_eq!(
        (&read["value"], &read["exists"], &read["listed"]),
        (&Value::Null, &json!(false), &json!(false)),
        "{read}"
    );
    let _ = std::fs::remove_file(&rc);
}

#[test]
fn trapping_component_answers_500_problem_and_host_keeps_serving() {
    if !host_property("a trap answered as a problem+json 500") {
        return;
    }
    let app = fixtures();
    for path in ["/probe/trap", "/probe/unreachable"] {
        let resp = app.get(path).send().unwrap();
        assert_eq!(resp.status(), 500, "{path}");
        assert!(is_problem_json(&resp), "{path}");
        let body = json_body(resp);
        assert!(body["request_id"].is_string(), "{body}");
    }
    assert_eq!(app.get("/v1/health/live").send().unwrap().status(), 200);
    assert_eq!(app.get("/route/exact").send().unwrap().status(), 200);
}

/// On the fixtures with tight limits (when the host has `property`): `path` runs on another
/// thread while health answers promptly, gets a 5xx within 10 s, and the host serves on.
fn misbehaving_probe_gets_5xx_while_health_serves(property: &str, path: &str) {
    if !host_property(property) {
        return;
    }
    let app = constrained_fixtures();
    let (status, took) = misbehave_while_health_serves(&app, path);
    assert!((500..600).contains(&status), "{status}");
    assert!(took < Duration::from_secs(10), "took {took:?}");
    assert_eq!(app.get("/route/exact").send().unwrap().status(), 200);
}

/// Start `path` on another thread; meanwhile health must answer promptly. Returns the
/// misbehaving request's status and how long it took.
fn misbehave_while_health_serves(app: &TestApp, path: &str) -> (u16, Duration) {
    let url = app.url(path);
    let client = app.client().clone();
    let bad = thread::spawn(move || {
        let started = Instant::now();
        let status = client.get(url).send().map(|r| r.status().as_u16());
        (status, started.elapsed())
    });
    thread::sleep(Duration::from_millis(300));
    let started = Instant::now();
    let health = app.get("/v1/health/live").send().unwrap();
    assert_eq!(health.status(), 200, "health while {path} runs");
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "health took {:?} while {path} ran",
        started.elapsed()
    );
    let (status, took) = bad.join().unwrap();
    (
        status.expect("the misbehaving request gets an answer"),
        took,
    )
}

#[test]
fn endless_loop_gets_5xx_within_the_time_limit_while_health_serves() {
    misbehaving_probe_gets_5xx_while_health_serves("per-request time limit", "/probe/loop");
}

#[test]
fn unbounded_allocation_gets_5xx_while_health_serves() {
    misbehaving_probe_gets_5xx_while_health_serves("per-instance memory cap", "/probe/alloc");
}

/// What `/probe/stderr-pieces` writes to stderr, one byte per write (tests/fixtures/probe).
const STDERR_PIECES_LINE: &str =
    "probe: this line reached stderr one byte per write, and the host kept it whole";

#[test]
fn guest_line_written_in_pieces_reaches_the_log_whole_among_host_json_lines() {
    // The host's log format is spingraph's own (another host logs differently).
    if !host_is_spingraph() {
        return;
    }
    const THREADS: usize = 8;
    const REQUESTS_PER_THREAD: usize = 5;
    let app = fixtures();
    let url = app.url("/probe/stderr-pieces");
    let workers: Vec<_> = (0..THREADS)
        .map(|_| {
            let client = app.client().clone();
            let url = url.clone();
            thread::spawn(move || {
                (0..REQUESTS_PER_THREAD)
                    .map(|_| client.get(&url).send().map(|r| r.status().as_u16()))
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    for worker in workers {
        for status in worker.join().unwrap() {
            assert_eq!(status.expect("the probe answers"), 200);
        }
    }

    // The log arrives through a pipe: wait until every request's line is in (or time runs out).
    let expected = THREADS * REQUESTS_PER_THREAD;
    let whole = |lines: &[String]| lines.iter().filter(|l| *l == STDERR_PIECES_LINE).count();
    let deadline = Instant::now() + Duration::from_secs(10);
    while whole(&app.log_lines()) < expected && Instant::now() < deadline {
        thread::sleep(Duration::from_millis(50));
    }
    let lines = app.log_lines();
    let broken: Vec<&String> = lines
        .iter()
        .filter(|l| {
            *l != STDERR_PIECES_LINE
                && serde_json::from_str::<Value>(l).is_err()
                // The one plain line the host prints, before it serves.
                && !l.starts_with("spingraph listening on http://")
        })
        .collect();
    assert!(
        broken.is_empty(),
        "{} log lines are neither host JSON nor the probe's whole line, e.g. {:?}",
        broken.len(),
        &broken[..broken.len().min(5)]
    );
    assert_eq!(whole(&lines), expected, "{}", app.logs.text());
}

// ------------------------------------------------------------------ 6. variables

#[test]
fn missing_required_variable_stops_up_naming_it() {
    let opts = TestOptions::default().manifest(fixtures_manifest());
    let exit = TestApp::run_to_exit(opts, Duration::from_secs(30));
    let status = exit.status.expect("up exits on its own");
    assert!(!status.success(), "{}", exit.output);
    assert!(exit.output.contains("probe_secret"), "{}", exit.output);
}

#[test]
fn secret_variable_value_never_appears_in_logs() {
    let app = TestApp::start(TestOptions::fixtures().variable("debug", "true"));
    let resolved = echo(&app, "/probe/secret-length");
    assert_eq!(resolved["length"], FIXTURE_SECRET.len());
    // Exercise error paths too: a trap, a 404, a failing readiness check.
    let _ = app.get("/probe/trap").send().unwrap();
    let _ = app.get("/nothing").send().unwrap();
    let _ = app.get("/v1/health/ready").send().unwrap();
    thread::sleep(Duration::from_millis(300));
    let logs = app.logs.text();
    assert!(!logs.is_empty());
    assert!(!logs.contains(FIXTURE_SECRET), "secret leaked:\n{logs}");
}

// ------------------------------------------------------------------ 7. manifest errors

#[test]
fn unknown_manifest_key_is_an_error_naming_it() {
    let dir = std::env::temp_dir().join(format!("spingraph-e2e-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let target = workspace_root().join("target");
    let manifest = std::fs::read_to_string(fixtures_manifest())
        .unwrap()
        .replace("../../target", &target.display().to_string())
        .replace(
            "[component.probe]\n",
            "[component.probe]\nfavourite_colour = \"blue\"\n",
        );
    let path = dir.join("spin.toml");
    std::fs::write(&path, manifest).unwrap();
    let opts = TestOptions::fixtures().manifest(&path);
    let exit = TestApp::run_to_exit(opts, Duration::from_secs(30));
    let _ = std::fs::remove_dir_all(&dir);
    let status = exit.status.expect("up exits on its own");
    assert!(!status.success(), "{}", exit.output);
    assert!(exit.output.contains("favourite_colour"), "{}", exit.output);
}

// ------------------------------------------------------------------ issue 8: spin-compat

fn probe_query(app: &TestApp, query: &str) -> Value {
    echo(app, &format!("/pg/{query}"))
}

/// On spingraph's host (spin-compat is its own; elsewhere `None`, and the test is skipped): the
/// fixtures under spin-compat (the default), where the probe's `query` fails with a message
/// naming spin-compat; the app and the message.
fn refused_under_spin_compat(query: &str) -> Option<(TestApp, String)> {
    if !host_is_spingraph() {
        return None;
    }
    let app = fixtures();
    let result = probe_query(&app, query);
    assert_eq!(result["ok"], false, "{result}");
    let message = result["error"]["message"].as_str().unwrap().to_string();
    assert!(message.contains("spin-compat"), "{message}");
    Some((app, message))
}

/// The probe's `query` on a host started without `--spin-compat`.
fn probe_query_without_spin_compat(query: &str) -> Value {
    let app = TestApp::start(TestOptions::fixtures().without_spin_compat());
    probe_query(&app, query)
}

/// On spingraph's host (else `None`): the probe's `query` succeeds without `--spin-compat`; its
/// result.
fn answered_without_spin_compat(query: &str) -> Option<Value> {
    if !host_is_spingraph() {
        return None;
    }
    let result = probe_query_without_spin_compat(query);
    assert_eq!(result["ok"], true, "{result}");
    Some(result)
}

#[test]
fn spin_compat_turns_a_zero_row_query_into_an_error() {
    let Some((app, message)) = refused_under_spin_compat("zero-rows") else {
        return;
    };
    assert!(
        message.contains("WHERE false"),
        "names the statement: {message}"
    );
    assert!(
        app.logs
            .wait_for(Duration::from_secs(5), |l| {
                l.contains("WHERE false") && !l.contains("\"kind\":\"access\"")
            })
            .is_some(),
        "the host logs the violation:\n{}",
        app.logs.text()
    );
}

#[test]
fn zero_row_query_returns_an_empty_result_without_spin_compat() {
    if let Some(result) = answered_without_spin_compat("zero-rows") {
        assert_eq!(result["rows"], serde_json::json!([]));
    }
}

#[test]
fn spin_compat_turns_a_timestamptz_column_into_an_error() {
    if let Some((_, message)) = refused_under_spin_compat("timestamptz") {
        assert!(message.contains("timestamptz"), "{message}");
    }
}

/// The probe's `fails-while-running` query (a division by zero raised as the statement runs),
/// on spingraph's host under `--spin-compat releases`.
fn failed_while_running(releases: &str) -> String {
    let app = TestApp::start(TestOptions::fixtures().spin_compat(releases));
    let result = probe_query(&app, "fails-while-running");
    assert_eq!(result["ok"], false, "{result}");
    assert_eq!(result["error"]["kind"], "query-failed-text", "{result}");
    result["error"]["message"].as_str().unwrap().to_string()
}

#[test]
fn spin_compat_flattens_an_error_raised_while_a_query_runs_to_text_as_the_released_spins_do() {
    if !host_is_spingraph() {
        return;
    }
    // Spin 4.0.2: the SQLSTATE survives only inside the text.
    let v4 = failed_while_running("4.0.2");
    assert!(v4.contains("22012"), "{v4}");
    // Spin 3.6.3: the server's message chain alone, no SQLSTATE; naming both gives this form.
    let v3 = failed_while_running("3.6.3");
    // (the probe reports the WIT error's Debug text, so the newlines show as `\n`)
    assert!(
        v3.contains(r#"QueryError::Text("db error\n\nCaused by:\n    ERROR: division by zero"#),
        "{v3}"
    );
    assert!(!v3.contains("22012"), "{v3}");
    assert_eq!(failed_while_running(SPIN_COMPAT), v3);

    let result = probe_query_without_spin_compat("fails-while-running");
    assert_eq!(result["error"]["kind"], "query-failed", "{result}");
}

#[test]
fn timestamptz_column_decodes_without_spin_compat() {
    if let Some(result) = answered_without_spin_compat("timestamptz") {
        assert_eq!(result["rows"][0][0], "2026-01-02T03:04:05.000Z", "{result}");
    }
}

// ------------------------------------------------------------------ 1. CI runs the README's command

#[test]
fn ci_runs_the_readme_test_command() {
    let root = workspace_root();
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    assert!(readme.contains("./dev test"));
    assert!(readme.contains("./dev up"));
    let ci = std::fs::read_to_string(root.join(".ci/run")).unwrap();
    // `./dev test` as a command of its own, or as the command a timing wrapper runs.
    assert!(
        ci.lines()
            .map(str::trim)
            .any(|l| !l.starts_with('#') && (l == "./dev test" || l.ends_with(" ./dev test"))),
        "{ci}"
    );
}
