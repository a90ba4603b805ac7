//! Query cost is bounded (issue 13, item 8), end to end against the real host and Postgres:
//! every guest statement runs under `statement_timeout_ms`, a graph walk reads a bounded number
//! of relationships however dense the graph, and a request cut off by the host's deadline leaves
//! no statement running on the server.
//!
//! The dense graph is seeded through SQL: a hub with 100 000 relationships, reached from `A`.

use std::thread;
use std::time::{Duration, Instant};

use spingraph_e2e::{Response, TestApp, TestOptions, header, json_body};
use spingraph_identity::Role;
use uuid::Uuid;

/// Leaves around the hub.
const SPOKES: usize = 100_000;

/// The running app, a user's bearer token, and the seeded graph: `a` → `hub` → 100 000 leaves,
/// and `lone`, reachable from nothing.
struct Dense {
    app: TestApp,
    token: String,
    a: Uuid,
    lone: Uuid,
}

fn dense(opts: TestOptions) -> Dense {
    let app = TestApp::start(opts);
    let user = Uuid::now_v7();
    let email = format!("{}@e2e.test", user.simple());
    let (a, hub, lone) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
    app.db.execute(&format!(
        "INSERT INTO users (id, email, password_hash, role) VALUES ('{user}', '{email}', 'not-a-hash', 'user'); \
         INSERT INTO entities (id, type, name, owner_id) VALUES \
           ('{a}', 'node', 'A', '{user}'), ('{hub}', 'node', 'hub', '{user}'), ('{lone}', 'node', 'lone', '{user}'); \
         INSERT INTO relationships (id, source_id, target_id, type, created_by) \
           VALUES (uuid_generate_v7(), '{a}', '{hub}', 'link', '{user}'); \
         WITH leaves AS (INSERT INTO entities (id, type, name, owner_id) \
           SELECT uuid_generate_v7(), 'leaf', 'leaf ' || g, '{user}' FROM generate_series(1, {SPOKES}) g RETURNING id) \
         INSERT INTO relationships (id, source_id, target_id, type, created_by) \
           SELECT uuid_generate_v7(), '{hub}'::uuid, id, 'spoke'::text, '{user}'::uuid FROM leaves; \
         ANALYZE entities; ANALYZE relationships;"
    ));
    let token = app.access_token(user, &email, Role::User, |_| {});
    Dense {
        app,
        token,
        a,
        lone,
    }
}

impl Dense {
    fn get(&self, path: &str) -> Response {
        self.app
            .get(path)
            .bearer_auth(&self.token)
            .send()
            .expect("GET")
    }

    fn neighbors_of_a(&self) -> String {
        format!(
            "/v1/graph/neighbors/{}?depth=3&direction=both&limit=1000",
            self.a
        )
    }
}

#[test]
fn a_statement_past_statement_timeout_ms_is_a_prompt_503_problem() {
    let g = dense(TestOptions::default().variable("statement_timeout_ms", "5"));
    let started = Instant::now();
    let resp = g.get(&g.neighbors_of_a());
    let took = started.elapsed();
    assert_eq!(resp.status(), 503, "the walk ran past statement_timeout_ms");
    assert!(header(&resp, "content-type").starts_with("application/problem+json"));
    assert_eq!(header(&resp, "retry-after"), "1");
    let problem = json_body(resp);
    assert_eq!(problem["status"], 503);
    assert!(took < Duration::from_secs(3), "took {took:?}");
}

#[test]
fn a_walk_around_a_100k_edge_hub_reads_a_bounded_number_of_relationships() {
    let g = dense(TestOptions::default());

    // neighbors: what the budget allowed, flagged as truncated, well inside the statement timeout
    let started = Instant::now();
    let resp = g.get(&g.neighbors_of_a());
    let took = started.elapsed();
    assert_eq!(resp.status(), 200);
    let body = json_body(resp);
    assert_eq!(body["truncated"], true);
    let nodes = body["nodes"].as_array().unwrap();
    assert!(!nodes.is_empty() && nodes.len() <= 1000, "{}", nodes.len());
    assert_eq!(nodes[0]["id"], g.a.to_string());
    assert!(took < Duration::from_secs(3), "neighbors took {took:?}");

    // path: the budget runs out before the search could prove there is no path, so it says so
    // (a 422 naming what narrows it), never a 404 it cannot back up
    let started = Instant::now();
    let resp = g.get(&format!(
        "/v1/graph/path?from={}&to={}&max_depth=6",
        g.a, g.lone
    ));
    let took = started.elapsed();
    assert_eq!(resp.status(), 422);
    assert!(header(&resp, "content-type").starts_with("application/problem+json"));
    let problem = json_body(resp);
    assert_eq!(problem["errors"][0]["field"], "max_depth");
    let message = problem["errors"][0]["message"].as_str().unwrap();
    assert!(message.contains("relationships"), "{message}");
    assert!(message.contains("type="), "{message}");
    assert!(took < Duration::from_secs(3), "path took {took:?}");

    // a narrow walk over the same graph is exact: type= keeps it inside the budget
    let resp = g.get(&format!(
        "/v1/graph/path?from={}&to={}&type=link",
        g.a, g.lone
    ));
    assert_eq!(resp.status(), 404);
}

#[test]
fn a_request_cut_off_by_its_deadline_leaves_no_statement_running() {
    if !spingraph_e2e::host_property("deadline cancels the running query") {
        return;
    }
    // no statement timeout of its own: only the request deadline can stop the walk
    let g = dense(
        TestOptions::default()
            .variable("statement_timeout_ms", "0")
            .host_arg("--request-timeout-ms")
            .host_arg("1000"),
    );
    let running = "SELECT pid FROM pg_stat_activity WHERE state = 'active' \
                   AND query LIKE '%WITH RECURSIVE bfs%' AND pid <> pg_backend_pid()";

    // Another session holds relationships locked, so the walk waits for as long as it is let.
    let lock = g
        .app
        .db
        .hold_open("LOCK TABLE relationships IN ACCESS EXCLUSIVE MODE");

    let started = Instant::now();
    let resp = g.get(&g.neighbors_of_a());
    assert_eq!(resp.status(), 503, "the deadline answers");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    assert!(
        g.app
            .log_lines()
            .iter()
            .any(|l| l.contains("request deadline exceeded")),
        "cut off by the host's deadline"
    );

    // the walk was cancelled on the server, though the lock it waits for is still held
    let cancelled_by = Instant::now() + Duration::from_secs(3);
    loop {
        let left = g.app.db.query_json(running);
        if left.as_array().unwrap().is_empty() {
            break;
        }
        assert!(
            Instant::now() < cancelled_by,
            "the cut-off walk still runs on the server: {left}"
        );
        thread::sleep(Duration::from_millis(50));
    }

    lock.rollback();
    // and the pool serves the next request as usual
    let resp = g.get(&g.neighbors_of_a());
    assert_eq!(resp.status(), 200);
}
