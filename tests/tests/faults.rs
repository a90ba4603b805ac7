//! The fault suite (issue 17, SPEC §3 limits and §6 failure behaviour): outages of Postgres and
//! Redis under load, a saturated Postgres pool, a misbehaving component under load, and SIGTERM
//! under load, each against the real host. Outages happen only to throw-away servers of the test's
//! own (`spingraph_e2e::servers`), never to the machine's Postgres or Redis.
//!
//! Every load loop is bounded in count and time. The tests take a lock so they run one at a time:
//! they measure latencies against deadlines, and two of them at once on a 2-core machine would
//! measure each other.

use std::collections::HashSet;
use std::net::TcpStream;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread;
use std::time::{Duration, Instant};

use spingraph_e2e::servers::{PostgresCluster, RedisServer};
use spingraph_e2e::{
    Client, PASSWORD, Response, TestApp, TestOptions, Value, header, host_property, json,
    json_body, libc,
};
use spingraph_identity::Role;
use uuid::Uuid;

/// One fault test at a time (see the module comment).
fn serial() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// The per-request deadline the tests give the host (`--request-timeout-ms`).
const DEADLINE: Duration = Duration::from_millis(2000);
/// What a loaded 2-core machine may add to the deadline before an answer counts as a hang.
const SLACK: Duration = Duration::from_millis(2000);

/// [`serial`], for a test of `property` of spingraph's host; `None` (the test is skipped, see
/// [`host_property`]) on another host.
fn serial_if_host_has(property: &str) -> Option<MutexGuard<'static, ()>> {
    host_property(property).then(serial)
}

/// `opts` with `--drain-timeout-ms`: how long the host lets requests finish after SIGTERM.
fn draining(opts: TestOptions, drain: Duration) -> TestOptions {
    opts.host_arg("--drain-timeout-ms")
        .host_arg(&drain.as_millis().to_string())
}

fn with_deadline(opts: TestOptions) -> TestOptions {
    opts.host_arg("--request-timeout-ms")
        .host_arg(&DEADLINE.as_millis().to_string())
        // The writers below are one principal each, far above the default 600/min.
        .variable("api_rate_limit_per_minute", "1000000")
}

/// A client whose own timeout is well past the host's deadline, so a hang shows as a hang.
fn client() -> Client {
    Client::builder()
        .timeout(Duration::from_secs(15))
        .build()
        .expect("HTTP client")
}

/// A user inserted straight into the test database, with an access token signed as `auth`
/// would sign it (no login, no Redis needed to get it).
struct Actor {
    token: String,
}

fn actor(app: &TestApp) -> Actor {
    let id = Uuid::now_v7();
    let email = format!("{}@faults.test", id.simple());
    app.db.execute(&format!(
        "INSERT INTO users (id, email, password_hash, role) VALUES ('{id}', '{email}', 'not-a-hash', 'user')"
    ));
    Actor {
        token: app.access_token(id, &email, Role::User, |_| {}),
    }
}

/// What one request got.
#[derive(Debug, Clone)]
struct Outcome {
    what: &'static str,
    /// When it was sent.
    at: Instant,
    took: Duration,
    /// `None`: no HTTP answer (the error is in `error`).
    status: Option<u16>,
    problem_json: bool,
    /// The created resource's id on a 201.
    id: Option<String>,
    /// The answer's body, when it is JSON.
    body: Option<Value>,
    error: Option<String>,
}

impl Outcome {
    fn of(what: &'static str, at: Instant, result: reqwest::Result<Response>) -> Outcome {
        let mut outcome = Outcome {
            what,
            at,
            took: Duration::ZERO,
            status: None,
            problem_json: false,
            id: None,
            body: None,
            error: None,
        };
        match result {
            Ok(resp) => {
                let status = resp.status().as_u16();
                outcome.status = Some(status);
                outcome.problem_json =
                    header(&resp, "content-type").starts_with("application/problem+json");
                match resp.text() {
                    Ok(text) => {
                        outcome.body = serde_json::from_str::<Value>(&text).ok();
                        if status == 201 {
                            outcome.id = outcome
                                .body
                                .as_ref()
                                .and_then(|v| v["id"].as_str().map(str::to_string));
                        }
                    }
                    Err(e) => outcome.error = Some(format!("reading the body: {e}")),
                }
            }
            Err(e) => outcome.error = Some(format!("{e:?}")),
        }
        outcome.took = at.elapsed();
        outcome
    }

    fn ok(&self, status: u16) -> bool {
        self.status == Some(status) && self.error.is_none()
    }
}

fn send(what: &'static str, request: reqwest::blocking::RequestBuilder) -> Outcome {
    Outcome::of(what, Instant::now(), request.send())
}

/// The `q`-th percentile of the latencies.
fn percentile(outcomes: &[Outcome], q: f64) -> Duration {
    let mut took: Vec<Duration> = outcomes.iter().map(|o| o.took).collect();
    took.sort();
    took.get(((took.len() as f64 * q).ceil() as usize).saturating_sub(1))
        .copied()
        .unwrap_or_default()
}

fn summary(outcomes: &[Outcome]) -> String {
    let mut by_status = std::collections::BTreeMap::<String, usize>::new();
    for o in outcomes {
        let key = match (&o.error, o.status) {
            (Some(_), _) | (_, None) => "error".to_string(),
            (None, Some(s)) => s.to_string(),
        };
        *by_status.entry(key).or_default() += 1;
    }
    format!(
        "{} requests {by_status:?}, p50 {:?}, p99 {:?}, max {:?}",
        outcomes.len(),
        percentile(outcomes, 0.5),
        percentile(outcomes, 0.99),
        percentile(outcomes, 1.0)
    )
}

/// Until `stop` is set (or `limit` passes): create an entity, then a relationship from the
/// writer's previous acknowledged entity to the new one. Every outcome is recorded.
fn spawn_writers(
    app: &TestApp,
    actors: &[Actor],
    stop: &Arc<AtomicBool>,
    acked: &Arc<AtomicUsize>,
    limit: Duration,
) -> Vec<thread::JoinHandle<Vec<Outcome>>> {
    actors
        .iter()
        .enumerate()
        .map(|(w, a)| {
            let (stop, acked) = (stop.clone(), acked.clone());
            let (entities, relationships) = (app.url("/v1/entities"), app.url("/v1/relationships"));
            let token = a.token.clone();
            thread::spawn(move || {
                let client = client();
                let started = Instant::now();
                let mut outcomes = Vec::new();
                let mut previous: Option<String> = None;
                for i in 0..20_000 {
                    if stop.load(Ordering::SeqCst) || started.elapsed() > limit {
                        break;
                    }
                    let body = json!({"type": "node", "name": format!("writer {w} #{i}")});
                    let created = send(
                        "entity",
                        client.post(&entities).bearer_auth(&token).json(&body),
                    );
                    let new = created.id.clone().filter(|_| created.ok(201));
                    if created.status.is_none() {
                        // No server (shutting down): do not spin on refused connections.
                        thread::sleep(Duration::from_millis(5));
                    }
                    outcomes.push(created);
                    let Some(new) = new else { continue };
                    acked.fetch_add(1, Ordering::SeqCst);
                    if let Some(source) = previous.replace(new.clone()) {
                        let body = json!({"source_id": source, "target_id": new, "type": "next"});
                        outcomes.push(send(
                            "relationship",
                            client.post(&relationships).bearer_auth(&token).json(&body),
                        ));
                    }
                }
                outcomes
            })
        })
        .collect()
}

fn wait_until(timeout: Duration, what: &str, mut done: impl FnMut() -> bool) -> Duration {
    let started = Instant::now();
    while !done() {
        assert!(
            started.elapsed() < timeout,
            "{what}: not within {timeout:?}"
        );
        thread::sleep(Duration::from_millis(20));
    }
    started.elapsed()
}

/// Tell the writers to stop; everything they recorded.
fn stop_writers(stop: &AtomicBool, writers: Vec<thread::JoinHandle<Vec<Outcome>>>) -> Vec<Outcome> {
    stop.store(true, Ordering::SeqCst);
    writers
        .into_iter()
        .flat_map(|w| w.join().unwrap())
        .collect()
}

/// Every 2xx-acknowledged create is in the database, and the audit trail matches the data both
/// ways: each entity and relationship has exactly one `*.create` audit row, and each such row
/// names a row that exists.
fn assert_acknowledged_writes_stored_and_audited(app: &TestApp, outcomes: &[Outcome]) {
    for (what, table) in [("entity", "entities"), ("relationship", "relationships")] {
        let acked: HashSet<String> = outcomes
            .iter()
            .filter(|o| o.what == what && o.ok(201))
            .map(|o| o.id.clone().expect("a 201 carries the id"))
            .collect();
        let stored: HashSet<String> = app
            .db
            .query_json(&format!("SELECT id::text AS id FROM {table}"))
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["id"].as_str().unwrap().to_string())
            .collect();
        let lost: Vec<&String> = acked.difference(&stored).collect();
        assert!(
            lost.is_empty(),
            "{} acknowledged {what} creates are not in {table}: {lost:?}",
            lost.len()
        );
        let unaudited = app.db.query_json(&format!(
            "SELECT t.id FROM {table} t WHERE (SELECT count(*) FROM audit_log a \
             WHERE a.resource_type = '{what}' AND a.action = '{what}.create' AND a.resource_id = t.id) <> 1"
        ));
        assert_eq!(
            unaudited,
            json!([]),
            "{table} rows without exactly one audit row"
        );
        let orphaned = app.db.query_json(&format!(
            "SELECT a.id, a.resource_id FROM audit_log a WHERE a.action = '{what}.create' \
             AND NOT EXISTS (SELECT 1 FROM {table} t WHERE t.id = a.resource_id)"
        ));
        assert_eq!(
            orphaned,
            json!([]),
            "audit rows whose {what} was never written"
        );
        eprintln!(
            "{what}: {} acknowledged, {} stored",
            acked.len(),
            stored.len()
        );
    }
}

/// No 500 and no hang: every answer is one of `allowed`, a 503 is problem+json, none took past
/// the deadline (plus slack), and every request got an HTTP answer.
fn assert_answered_in_time(outcomes: &[Outcome], allowed: &[u16], context: &str) {
    let bad: Vec<&Outcome> = outcomes
        .iter()
        .filter(|o| {
            o.error.is_some()
                || !o.status.is_some_and(|s| allowed.contains(&s))
                || (o.status == Some(503) && !o.problem_json)
                || o.took > DEADLINE + SLACK
        })
        .collect();
    assert!(
        bad.is_empty(),
        "{context}: {} of {} answers break the rule (only {allowed:?}, 503 as problem+json, \
         within {:?}), e.g. {:?}\n{}",
        bad.len(),
        outcomes.len(),
        DEADLINE + SLACK,
        &bad[..bad.len().min(5)],
        summary(outcomes)
    );
}

// ------------------------------------------------------------------ 1. Postgres restart

#[test]
fn postgres_restart_under_write_load_loses_no_acknowledged_write_and_recovers_without_a_restart() {
    let _serial = serial();
    let mut pg = PostgresCluster::start(&[]);
    let mut app = TestApp::start(with_deadline(pg.app_options(TestOptions::default())));
    let actors: Vec<Actor> = (0..4).map(|_| actor(&app)).collect();
    let stop = Arc::new(AtomicBool::new(false));
    let acked = Arc::new(AtomicUsize::new(0));
    let writers = spawn_writers(&app, &actors, &stop, &acked, Duration::from_secs(90));

    wait_until(
        Duration::from_secs(30),
        "40 writes before the outage",
        || acked.load(Ordering::SeqCst) >= 40,
    );
    let down_from = Instant::now();
    pg.stop();
    let stopped = Instant::now();
    thread::sleep(Duration::from_secs(3));
    let before_restart = acked.load(Ordering::SeqCst);
    let restart = Instant::now();
    pg.start_again();
    let up = Instant::now();
    let recovery = wait_until(
        Duration::from_secs(10),
        "a write acknowledged after Postgres is back",
        || acked.load(Ordering::SeqCst) > before_restart + 8,
    );
    thread::sleep(Duration::from_secs(1));
    let outcomes = stop_writers(&stop, writers);
    eprintln!(
        "postgres restart: {}; back {recovery:?} after pg_ctl start returned",
        summary(&outcomes)
    );

    assert_answered_in_time(&outcomes, &[201, 503], "writes across a Postgres restart");
    // While it was down (sent after the port closed, before it was started again): 503 only,
    // and there were some.
    let during: Vec<Outcome> = outcomes
        .iter()
        .filter(|o| o.at >= stopped && o.at + o.took <= restart)
        .cloned()
        .collect();
    assert!(
        during.len() >= 4,
        "the writers kept writing while Postgres was down: {}",
        summary(&during)
    );
    assert!(
        during.iter().all(|o| o.status == Some(503)),
        "{}",
        summary(&during)
    );
    // Quickly: a refused connection is known at once, not at the request deadline.
    assert!(
        percentile(&during, 0.9) < DEADLINE / 2,
        "503s while Postgres is down come quickly: {}",
        summary(&during)
    );
    assert!(
        outcomes.iter().any(|o| o.at >= up && o.ok(201)),
        "writes succeed again after the restart"
    );
    assert!(
        outcomes.iter().any(|o| o.at < down_from && o.ok(201)),
        "writes succeeded before the outage"
    );
    assert!(app.is_running(), "the host kept running (no restart)");
    assert_acknowledged_writes_stored_and_audited(&app, &outcomes);
}

// ------------------------------------------------------------------ 2. Redis outage

/// The status and JSON body (`null` for none) of an answer; an error answer must be problem+json.
fn problem_status(resp: Response) -> (u16, Value) {
    let status = resp.status().as_u16();
    let problem = header(&resp, "content-type").starts_with("application/problem+json");
    let body = if status == 204 {
        Value::Null
    } else {
        json_body(resp)
    };
    assert!(
        status < 400 || problem,
        "an error answer is problem+json: {status} {body}"
    );
    (status, body)
}

#[test]
fn redis_outage_fails_credential_routes_closed_keeps_data_routes_serving_and_recovers() {
    let _serial = serial();
    let mut redis = RedisServer::start();
    let app = TestApp::start(with_deadline(
        redis
            .app_options(TestOptions::default())
            .variable("signup_enabled", "true")
            .variable("login_rate_limit_per_minute", "3"),
    ));
    let email = "redis-outage@faults.test";
    let user_id: Uuid = app.create_user(email, "user").parse().unwrap();
    let (access, refresh) = app.tokens(email); // the first login of this minute's window
    let client = client();
    let timed = |what: &str, request: reqwest::blocking::RequestBuilder| {
        let started = Instant::now();
        let resp = request.send().unwrap_or_else(|e| panic!("{what}: {e}"));
        let took = started.elapsed();
        assert!(took < DEADLINE, "{what} took {took:?}");
        problem_status(resp)
    };
    let as_user = |rb: reqwest::blocking::RequestBuilder| rb.bearer_auth(&access);
    let post_as_user = |path: &str, body: Value| as_user(client.post(app.url(path))).json(&body);
    let (status, entity) = timed(
        "create before the outage",
        post_as_user("/v1/entities", json!({"type": "node", "name": "before"})),
    );
    assert_eq!(status, 201, "{entity}");

    redis.stop();
    // Credential-issuing routes fail closed.
    for (what, path, body) in [
        (
            "login",
            "/v1/auth/token",
            json!({"email": email, "password": PASSWORD}),
        ),
        (
            "register",
            "/v1/auth/register",
            json!({"email": "new@faults.test", "password": PASSWORD}),
        ),
        (
            "refresh",
            "/v1/auth/refresh",
            json!({"refresh_token": refresh}),
        ),
    ] {
        let (status, body) = timed(what, client.post(app.url(path)).json(&body));
        assert_eq!(status, 503, "{what} without Redis: {body}");
        assert!(body["request_id"].is_string(), "{body}");
    }
    // Reads and writes with a bearer token keep working (revocation checked in Postgres).
    let read = format!("/v1/entities/{}", entity["id"].as_str().unwrap());
    let (status, body) = timed("read", as_user(client.get(app.url(&read))));
    assert_eq!(status, 200, "read without Redis: {body}");
    let (status, second) = timed(
        "write",
        post_as_user("/v1/entities", json!({"type": "node", "name": "during"})),
    );
    assert_eq!(status, 201, "write without Redis: {second}");
    let edge = json!({"source_id": entity["id"], "target_id": second["id"], "type": "next"});
    let (status, body) = timed("relationship", post_as_user("/v1/relationships", edge));
    assert_eq!(status, 201, "relationship without Redis: {body}");
    let (status, body) = timed("readiness", client.get(app.url("/v1/health/ready")));
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["failed"], json!(["redis"]), "{body}");
    assert_eq!(body["checks"]["redis"]["status"], "down", "{body}");
    assert_eq!(body["checks"]["postgres"]["status"], "up", "{body}");

    // Back on the same port (empty: no persistence), with no restart of the host.
    redis.start_again();
    wait_until(Duration::from_secs(10), "readiness 200 again", || {
        client
            .get(app.url("/v1/health/ready"))
            .send()
            .is_ok_and(|r| r.status() == 200)
    });
    // The login limit counts again: 3 a minute, then 429 with Retry-After.
    for attempt in 1..=3 {
        let resp = app.login(email, PASSWORD);
        assert_eq!(resp.status(), 200, "login {attempt} after Redis returned");
        assert_eq!(header(&resp, "ratelimit-limit"), "3");
    }
    let limited = app.login(email, PASSWORD);
    assert_eq!(limited.status(), 429, "the 4th login in a minute");
    assert!(!header(&limited, "retry-after").is_empty());
    // The denylist works again: a token logged out is refused at once. This token has no
    // session in Postgres, so only Redis can refuse it.
    let token = app.access_token(user_id, email, Role::User, |_| {});
    let me = |token: &str| {
        client
            .get(app.url("/v1/auth/me"))
            .bearer_auth(token)
            .send()
            .unwrap()
            .status()
    };
    assert_eq!(me(&token), 200);
    let (status, body) = timed(
        "logout",
        client.post(app.url("/v1/auth/logout")).bearer_auth(&token),
    );
    assert_eq!(status, 204, "{body}");
    assert_eq!(me(&token), 401, "a logged-out token after Redis returned");
    assert_ne!(
        redis.command(&["DBSIZE"]),
        ":0",
        "the denylist lives in Redis"
    );
}

// ------------------------------------------------------------------ 3. Postgres saturated

#[test]
fn saturated_postgres_pool_answers_503_within_the_deadline_while_live_keeps_answering() {
    // The deadline that turns a wait for a connection into a 503 is the host's (SPEC §2: on
    // Spin 4.0.2 there is no per-request time limit).
    let Some(_serial) = serial_if_host_has("per-request time limit") else {
        return;
    };
    let pg = PostgresCluster::start(&[("max_connections", "120")]);
    let app = TestApp::start(with_deadline(pg.app_options(TestOptions::default())));
    let reader = actor(&app);
    let created = send(
        "entity",
        client()
            .post(app.url("/v1/entities"))
            .bearer_auth(&reader.token)
            .json(&json!({"type": "node", "name": "read me"})),
    );
    assert!(created.ok(201), "{created:?}");
    let read_path = format!("/v1/entities/{}", created.id.unwrap());
    // Slow writes: every entity insert sleeps in Postgres while the switch row exists.
    app.db.execute(
        "CREATE TABLE e2e_slow_switch (on_ boolean); INSERT INTO e2e_slow_switch VALUES (true);
         CREATE FUNCTION e2e_slow() RETURNS trigger LANGUAGE plpgsql AS $$
         BEGIN IF EXISTS (SELECT 1 FROM e2e_slow_switch) THEN PERFORM pg_sleep(5); END IF; RETURN NEW; END $$;
         CREATE TRIGGER e2e_slow BEFORE INSERT ON entities FOR EACH ROW EXECUTE FUNCTION e2e_slow();
         GRANT ALL ON e2e_slow_switch TO PUBLIC;",
    );

    // 40 slow writers: more than the host's pool holds.
    let stop = Arc::new(AtomicBool::new(false));
    let acked = Arc::new(AtomicUsize::new(0));
    let writers: Vec<Actor> = (0..40).map(|_| actor(&app)).collect();
    let writer_threads = spawn_writers(&app, &writers, &stop, &acked, Duration::from_secs(30));
    let sleeping = || {
        app.db
            .query_json("SELECT count(*) AS n FROM pg_stat_activity WHERE wait_event = 'PgSleep'")
            [0]["n"]
            .as_u64()
            .unwrap_or(0)
    };
    wait_until(
        Duration::from_secs(15),
        "the pool busy with slow queries",
        || sleeping() >= 30,
    );
    let most_sleeping = sleeping();

    // Meanwhile: reads need a connection too, and get 503 by the deadline; live answers at once.
    let read_client = client();
    let mut reads = Vec::new();
    let mut live = Vec::new();
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(5) && reads.len() < 200 {
        reads.push(send(
            "read",
            read_client
                .get(app.url(&read_path))
                .bearer_auth(&reader.token),
        ));
        live.push(send("live", read_client.get(app.url("/v1/health/live"))));
    }
    let writes = stop_writers(&stop, writer_threads);
    eprintln!(
        "saturated ({most_sleeping} sleeping backends): reads {}; live {}; writes {}",
        summary(&reads),
        summary(&live),
        summary(&writes)
    );
    assert_answered_in_time(&reads, &[200, 503], "reads with the pool exhausted");
    assert_answered_in_time(&writes, &[201, 503], "slow writes");
    // Slow writes give their connections back as the deadline cuts them off, so a read may
    // get one just in time (200 after a wait) rather than a 503: either shows it waited for
    // the exhausted pool, and neither hangs past the deadline (checked above).
    assert!(
        reads
            .iter()
            .any(|o| o.status == Some(503) || o.took >= DEADLINE / 2),
        "with the pool exhausted reads wait for a connection or get 503: {}",
        summary(&reads)
    );
    assert!(
        live.iter()
            .all(|o| o.ok(200) && o.took < Duration::from_secs(1)),
        "/v1/health/live keeps answering at once: {}",
        summary(&live)
    );

    // Slow queries end: the host serves reads again, with no restart.
    app.db.execute(
        "DELETE FROM e2e_slow_switch; \
         SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE wait_event = 'PgSleep';",
    );
    let recovered = wait_until(Duration::from_secs(15), "a read answered 200 again", || {
        send(
            "read",
            read_client
                .get(app.url(&read_path))
                .bearer_auth(&reader.token),
        )
        .ok(200)
    });
    eprintln!("reads served again {recovered:?} after the slow queries ended");
}

// ------------------------------------------------------------------ 4. isolation under load

#[test]
fn trapping_looping_and_memory_hungry_component_leaves_other_routes_error_free_under_load() {
    let Some(_serial) = serial_if_host_has("trap, time-limit and memory-cap containment") else {
        return;
    };
    let app = TestApp::start(
        TestOptions::fixtures()
            .host_arg("--request-timeout-ms")
            .host_arg("1500")
            .host_arg("--max-memory-mb")
            .host_arg("64"),
    );
    let done = Arc::new(AtomicBool::new(false));
    let misbehaving = {
        let (done, base) = (done.clone(), app.url(""));
        thread::spawn(move || {
            let client = client();
            let mut outcomes = Vec::new();
            for _round in 0..3 {
                for path in ["/probe/trap", "/probe/loop", "/probe/alloc"] {
                    outcomes.push(send("misbehaving", client.get(format!("{base}{path}"))));
                }
            }
            done.store(true, Ordering::SeqCst);
            outcomes
        })
    };
    let load: Vec<_> = (0..4)
        .map(|t| {
            let (done, base) = (done.clone(), app.url(""));
            thread::spawn(move || {
                let client = client();
                let paths = ["/v1/health/live", "/route/exact", "/pg/connect"];
                let mut outcomes = Vec::new();
                for i in 0..5_000 {
                    if done.load(Ordering::SeqCst) {
                        break;
                    }
                    let path = paths[(i + t) % paths.len()];
                    let mut outcome = send("load", client.get(format!("{base}{path}")));
                    // /pg/connect answers 200 either way; its body says whether the query ran.
                    if path == "/pg/connect"
                        && outcome.body.as_ref().is_none_or(|b| b["ok"] != true)
                    {
                        outcome.error = Some(format!("/pg/connect: {:?}", outcome.body));
                    }
                    outcomes.push(outcome);
                }
                outcomes
            })
        })
        .collect();
    let bad = misbehaving.join().unwrap();
    let served: Vec<Outcome> = load.into_iter().flat_map(|t| t.join().unwrap()).collect();
    eprintln!(
        "misbehaving: {}; other routes: {}",
        summary(&bad),
        summary(&served)
    );
    let errors = served.iter().filter(|o| !o.ok(200)).count();
    assert_eq!(
        errors,
        0,
        "error rate on the other routes: {errors}/{}, e.g. {:?}",
        served.len(),
        served.iter().find(|o| !o.ok(200))
    );
    assert!(
        served.len() >= 100,
        "the load ran: {} requests",
        served.len()
    );
    assert!(
        bad.iter()
            .all(|o| o.status.is_some_and(|s| (500..600).contains(&s))
                && o.problem_json
                && o.took < Duration::from_secs(10)),
        "each misbehaving request gets its own 5xx problem+json: {bad:?}"
    );
}

// ------------------------------------------------------------------ 5. graceful shutdown

/// Whether a new TCP connection to the host is refused.
fn refuses_connections(app: &TestApp) -> bool {
    TcpStream::connect_timeout(&app.addr, Duration::from_millis(200)).is_err()
}

#[test]
fn sigterm_lets_in_flight_requests_finish_refuses_new_connections_and_exits() {
    let Some(_serial) = serial_if_host_has("graceful shutdown with --drain-timeout-ms") else {
        return;
    };
    let mut app = TestApp::start(draining(
        TestOptions::fixtures(),
        Duration::from_millis(5000),
    ));
    const IN_FLIGHT: usize = 3;
    const SLEEP_MS: u64 = 1500;
    let in_flight: Vec<_> = (0..IN_FLIGHT)
        .map(|_| {
            let url = app.url(&format!("/probe/sleep/{SLEEP_MS}"));
            thread::spawn(move || send("in flight", client().get(url)))
        })
        .collect();
    let sleeping = format!("probe: sleeping {SLEEP_MS} ms");
    wait_until(Duration::from_secs(10), "the requests in flight", || {
        app.log_lines()
            .iter()
            .filter(|l| l.contains(&sleeping))
            .count()
            == IN_FLIGHT
    });
    let signalled = Instant::now();
    app.signal(libc::SIGTERM);
    let refusing = wait_until(Duration::from_secs(1), "new connections refused", || {
        refuses_connections(&app)
    });
    let status = app
        .wait_for_exit(Duration::from_secs(5) + SLACK)
        .expect("the host exits within the drain timeout");
    let exited = signalled.elapsed();
    for request in in_flight {
        let outcome = request.join().unwrap();
        assert!(
            outcome.ok(200),
            "an in-flight request completes: {outcome:?}"
        );
    }
    eprintln!(
        "refusing connections {refusing:?} after SIGTERM; exited ({status}) after {exited:?}"
    );
    assert!(status.success(), "{status}\n{}", app.logs.text());
}

#[test]
fn sigterm_exits_within_the_drain_timeout_even_with_a_request_still_running() {
    let Some(_serial) = serial_if_host_has("graceful shutdown with --drain-timeout-ms") else {
        return;
    };
    const DRAIN: Duration = Duration::from_millis(1000);
    let mut app = TestApp::start(draining(TestOptions::fixtures(), DRAIN));
    let url = app.url("/probe/sleep/10000");
    let stuck = thread::spawn(move || send("stuck", client().get(url)));
    wait_until(Duration::from_secs(10), "the request in flight", || {
        app.log_lines()
            .iter()
            .any(|l| l.contains("probe: sleeping 10000 ms"))
    });
    let signalled = Instant::now();
    app.signal(libc::SIGTERM);
    let status = app.wait_for_exit(DRAIN + SLACK);
    let exited = signalled.elapsed();
    assert!(
        status.is_some(),
        "the host still runs {exited:?} after SIGTERM with a {DRAIN:?} drain timeout"
    );
    let outcome = stuck.join().unwrap();
    eprintln!("exited after {exited:?}; the cut request: {outcome:?}");
    assert!(outcome.took < Duration::from_secs(9), "{outcome:?}");
}

#[test]
fn sigterm_under_write_load_loses_no_acknowledged_write() {
    let Some(_serial) = serial_if_host_has("graceful shutdown with --drain-timeout-ms") else {
        return;
    };
    const DRAIN: Duration = Duration::from_millis(5000);
    let mut app = TestApp::start(with_deadline(draining(TestOptions::default(), DRAIN)));
    // Writes of entities named `slow ...` take a second in Postgres (this test's database
    // only), so some are surely in flight when the signal comes.
    app.db.execute(
        "CREATE FUNCTION e2e_slow() RETURNS trigger LANGUAGE plpgsql AS $$
         BEGIN IF NEW.name LIKE 'slow %' THEN PERFORM pg_sleep(1); END IF; RETURN NEW; END $$;
         CREATE TRIGGER e2e_slow BEFORE INSERT ON entities FOR EACH ROW EXECUTE FUNCTION e2e_slow();",
    );
    let actors: Vec<Actor> = (0..4).map(|_| actor(&app)).collect();
    let stop = Arc::new(AtomicBool::new(false));
    let acked = Arc::new(AtomicUsize::new(0));
    // The writers run on past the signal until the host is gone (their requests then fail to
    // connect), bounded in time.
    let writers = spawn_writers(&app, &actors, &stop, &acked, Duration::from_secs(40));
    wait_until(Duration::from_secs(30), "40 writes before SIGTERM", || {
        acked.load(Ordering::SeqCst) >= 40
    });
    const SLOW: usize = 3;
    let slow: Vec<_> = (0..SLOW)
        .map(|i| {
            let (url, token) = (app.url("/v1/entities"), actors[i].token.clone());
            thread::spawn(move || {
                let body = json!({"type": "node", "name": format!("slow {i}")});
                send("entity", client().post(url).bearer_auth(token).json(&body))
            })
        })
        .collect();
    wait_until(Duration::from_secs(10), "the slow writes in flight", || {
        app.db.query_json(
            "SELECT count(*) AS n FROM pg_stat_activity \
             WHERE datname = current_database() AND wait_event = 'PgSleep'",
        )[0]["n"]
            .as_u64()
            == Some(SLOW as u64)
    });
    let signalled = Instant::now();
    app.signal(libc::SIGTERM);
    let status = app
        .wait_for_exit(DRAIN + SLACK)
        .expect("the host exits within the drain timeout");
    let exited = signalled.elapsed();
    thread::sleep(Duration::from_millis(200));
    let mut outcomes = stop_writers(&stop, writers);
    let slow: Vec<Outcome> = slow.into_iter().map(|t| t.join().unwrap()).collect();
    eprintln!(
        "SIGTERM under load: exited ({status}) after {exited:?}; in flight: {}; load: {}",
        summary(&slow),
        summary(&outcomes)
    );
    assert!(status.success(), "{status}");
    assert!(
        slow.iter().all(|o| o.ok(201)),
        "the writes in flight at SIGTERM complete: {slow:?}"
    );
    outcomes.extend(slow);
    // Every answer is a success; the only failures are requests that found no server (sent as
    // the host closed, so never acknowledged), and none of those came before the signal.
    let answered: Vec<Outcome> = outcomes
        .iter()
        .filter(|o| o.status.is_some())
        .cloned()
        .collect();
    assert_answered_in_time(&answered, &[201], "writes answered around SIGTERM");
    let early_failures: Vec<&Outcome> = outcomes
        .iter()
        .filter(|o| o.error.is_some() && o.at + o.took < signalled)
        .collect();
    assert!(early_failures.is_empty(), "{early_failures:?}");
    assert_acknowledged_writes_stored_and_audited(&app, &outcomes);
}
