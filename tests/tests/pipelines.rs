//! What the pipelines that feed and read the graph rely on (issue 16), end to end over HTTP
//! against a real host, Postgres and Redis: idempotent writes (`Idempotency-Key`) and the change
//! feed (`GET /v1/changes`), including their concurrency cases.

use std::collections::{BTreeMap, HashSet};
use std::sync::{Arc, Barrier};
use std::thread;
use std::time::{Duration, Instant};

use spingraph_e2e::{
    Caller, Response, TestApp, TestOptions, Value, error_fields, header, host_is_spingraph, json,
    json_body,
};

fn app() -> TestApp {
    app_with(&[])
}

fn app_with(extra: &[(&str, &str)]) -> TestApp {
    TestApp::start(TestOptions::signing_in_freely(extra))
}

fn count(app: &TestApp, sql: &str) -> i64 {
    app.db.query_json(sql)[0]["n"].as_i64().unwrap()
}

/// `POST path` with `body` and the `Idempotency-Key` `key`.
fn post_keyed(app: &TestApp, who: &Caller, path: &str, key: &str, body: &Value) -> Response {
    app.send_as(
        who,
        app.post_json(path, body).header("idempotency-key", key),
    )
}

fn entity(app: &TestApp, who: &Caller, name: &str) -> Value {
    app.created_entity(who, &json!({"type": "company", "name": name}))
}

/// The `detail` of a 409 answer.
fn conflict_detail(resp: Response) -> String {
    assert_eq!(resp.status(), 409);
    json_body(resp)["detail"].as_str().unwrap().to_string()
}

// ------------------------------------------------------------------ idempotent writes

#[test]
fn a_retry_with_the_same_idempotency_key_replays_the_first_answer_and_writes_nothing() {
    let app = app();
    let ada = app.caller("ada", "user");
    let body = json!({"type": "company", "name": "Acme", "metadata": {"run": 7}});
    let first = post_keyed(&app, &ada, "/v1/entities", "run-7-acme", &body);
    assert_eq!(first.status(), 201);
    assert_eq!(header(&first, "idempotent-replayed"), "");
    let (location, etag) = (header(&first, "location"), header(&first, "etag"));
    let first = json_body(first);

    let retry = post_keyed(&app, &ada, "/v1/entities", "run-7-acme", &body);
    assert_eq!(retry.status(), 201);
    assert_eq!(header(&retry, "idempotent-replayed"), "true");
    assert_eq!(header(&retry, "location"), location);
    assert_eq!(header(&retry, "etag"), etag);
    assert!(header(&retry, "content-type").starts_with("application/json"));
    assert_eq!(json_body(retry), first);

    assert_eq!(count(&app, "SELECT count(*) AS n FROM entities"), 1);
    assert_eq!(
        count(
            &app,
            "SELECT count(*) AS n FROM audit_log WHERE action = 'entity.create'"
        ),
        1
    );
    // Without a key, the same body is a second entity.
    assert_eq!(app.post_as(&ada, "/v1/entities", &body).status(), 201);
    assert_eq!(count(&app, "SELECT count(*) AS n FROM entities"), 2);
}

#[test]
fn the_same_key_with_another_request_is_422_and_a_malformed_key_400() {
    let app = app();
    let ada = app.caller("ada", "user");
    let with_key = |path: &str, body: &Value| post_keyed(&app, &ada, path, "k-1", body);
    let acme = json!({"type": "company", "name": "Acme"});
    assert_eq!(with_key("/v1/entities", &acme).status(), 201);
    let other = with_key("/v1/entities", &json!({"type": "company", "name": "Other"}));
    assert_eq!(other.status(), 422);
    assert_eq!(error_fields(&json_body(other)), vec!["Idempotency-Key"]);
    // Another path with the key is another request too.
    let batch = with_key("/v1/entities/batch", &json!({"items": [acme]}));
    assert_eq!(batch.status(), 422);
    for bad in ["", "with space", &"x".repeat(256), "é"] {
        let resp = app.send_as(
            &ada,
            app.post_json("/v1/entities", &acme)
                .header("idempotency-key", bad.as_bytes()),
        );
        assert_eq!(resp.status(), 400, "key {bad:?}");
    }
    assert_eq!(count(&app, "SELECT count(*) AS n FROM entities"), 1);
}

#[test]
fn a_failed_request_stores_nothing_so_the_fixed_retry_runs() {
    let app = app();
    let ada = app.caller("ada", "user");
    let named = |name: &str| {
        let body = json!({"type": "company", "name": name});
        post_keyed(&app, &ada, "/v1/entities", "fix-me", &body)
    };
    let bad = named("");
    assert_eq!(bad.status(), 422);
    let fixed = named("Acme");
    assert_eq!(fixed.status(), 201);
    assert_eq!(header(&fixed, "idempotent-replayed"), "");
    assert_eq!(count(&app, "SELECT count(*) AS n FROM idempotency_keys"), 1);
}

#[test]
fn idempotency_keys_belong_to_one_principal() {
    let app = app();
    let [ada, bob] = app.users(["ada", "bob"]);
    let body = json!({"type": "company", "name": "Acme"});
    let a = json_body(post_keyed(&app, &ada, "/v1/entities", "same", &body));
    let resp = post_keyed(&app, &bob, "/v1/entities", "same", &body);
    assert_eq!(resp.status(), 201);
    assert_eq!(header(&resp, "idempotent-replayed"), "");
    let b = json_body(resp);
    assert_ne!(a["id"], b["id"]);
    assert_eq!(b["owner_id"], bob.id.as_str());
}

/// `POST path` with `body` and the `Idempotency-Key` `key`, authenticated by the API key `api_key`.
fn post_keyed_with_api_key(
    app: &TestApp,
    api_key: &str,
    path: &str,
    key: &str,
    body: &Value,
) -> Response {
    app.post_json(path, body)
        .header("idempotency-key", key)
        .header("authorization", format!("ApiKey {api_key}"))
        .send()
        .unwrap()
}

#[test]
fn a_replay_needs_the_routes_scope_and_the_credential_that_made_the_answer() {
    let app = app();
    let ada = app.caller("ada", "user");
    let body = json!({"type": "company", "name": "Acme", "metadata": {"secret": "s3"}});
    let first = post_keyed(&app, &ada, "/v1/entities", "run-1", &body);
    assert_eq!(first.status(), 201);

    // A key of the same user without `entities:write` gets the route's 403, never the replay.
    let reader = app.create_api_key(&ada, "graph reader", &["relationships:read"]);
    let reader = reader["key"].as_str().unwrap();
    let resp = post_keyed_with_api_key(&app, reader, "/v1/entities", "run-1", &body);
    assert_eq!(header(&resp, "idempotent-replayed"), "");
    let problem = spingraph_e2e::assert_problem(resp, 403, "a replay to a key without the scope");
    assert!(problem.get("metadata").is_none(), "{problem}");

    // A writing key of the same user has its own namespace: the key is fresh there.
    let writer = app.create_api_key(&ada, "pipeline", &["entities:write"]);
    let writer = writer["key"].as_str().unwrap();
    let own = post_keyed_with_api_key(&app, writer, "/v1/entities", "run-1", &body);
    assert_eq!(own.status(), 201);
    assert_eq!(header(&own, "idempotent-replayed"), "");
    let retry = post_keyed_with_api_key(&app, writer, "/v1/entities", "run-1", &body);
    assert_eq!(header(&retry, "idempotent-replayed"), "true");
    // ... and the session's key still replays to the session.
    let again = post_keyed(&app, &ada, "/v1/entities", "run-1", &body);
    assert_eq!(header(&again, "idempotent-replayed"), "true");
    assert_eq!(count(&app, "SELECT count(*) AS n FROM entities"), 2);

    // Admin-only writes check the admin rule before replaying too.
    let root = app.caller("root", "admin");
    let gone = entity(&app, &root, "Gone");
    let gone = gone["id"].as_str().unwrap();
    assert_eq!(
        app.delete_as(&root, &format!("/v1/entities/{gone}"))
            .status(),
        204
    );
    let restore = format!("/v1/entities/{gone}/restore");
    let restored = post_keyed(&app, &root, &restore, "restore-1", &json!({}));
    assert_eq!(restored.status(), 200);
    let no_admin = app.create_api_key(&root, "no admin", &["entities:write"]);
    let no_admin = no_admin["key"].as_str().unwrap();
    let resp = post_keyed_with_api_key(&app, no_admin, &restore, "restore-1", &json!({}));
    assert_eq!(resp.status(), 403);
}

#[test]
fn patch_batch_restore_and_relationship_writes_replay_instead_of_repeating() {
    let app = app();
    let admin = app.caller("root", "admin");
    let a = entity(&app, &admin, "A");
    let b = entity(&app, &admin, "B");
    let path = format!("/v1/entities/{}", a["id"].as_str().unwrap());

    // PATCH: one new version, however often it is retried.
    let patch = |key: &str| {
        app.send_as(
            &admin,
            app.patch(&path)
                .header("content-type", "application/merge-patch+json")
                .header("idempotency-key", key)
                .body(json!({"confidence": 0.5}).to_string()),
        )
    };
    let first = json_body(patch("p-1"));
    let retry = patch("p-1");
    assert_eq!(header(&retry, "idempotent-replayed"), "true");
    assert_eq!(json_body(retry), first);
    assert_eq!(first["version"], 2);
    let now = json_body(app.get_as(&admin, &path));
    assert_eq!(now["version"], 2);

    // Batch: one set of entities.
    let items =
        json!({"items": [{"type": "person", "name": "P1"}, {"type": "person", "name": "P2"}]});
    let first = json_body(post_keyed(
        &app,
        &admin,
        "/v1/entities/batch",
        "b-1",
        &items,
    ));
    let retry = post_keyed(&app, &admin, "/v1/entities/batch", "b-1", &items);
    assert_eq!(header(&retry, "idempotent-replayed"), "true");
    assert_eq!(json_body(retry), first);
    assert_eq!(
        count(
            &app,
            "SELECT count(*) AS n FROM entities WHERE type = 'person'"
        ),
        2
    );

    // Relationship create: one edge.
    let edge = json!({"source_id": a["id"], "target_id": b["id"], "type": "partner"});
    let first = post_keyed(&app, &admin, "/v1/relationships", "r-1", &edge);
    assert_eq!(first.status(), 201);
    let first = json_body(first);
    let retry = post_keyed(&app, &admin, "/v1/relationships", "r-1", &edge);
    assert_eq!(
        retry.status(),
        201,
        "a replay, not the 409 of a duplicate edge"
    );
    assert_eq!(json_body(retry), first);
    assert_eq!(count(&app, "SELECT count(*) AS n FROM relationships"), 1);

    // Restore: the second call replays the 200 rather than answering 409 "not deleted".
    let gone = app.delete_as(&admin, &path);
    assert_eq!(gone.status(), 204);
    let restore = format!("{path}/restore");
    let first = post_keyed(&app, &admin, &restore, "x-1", &json!({}));
    assert_eq!(first.status(), 200);
    let retry = post_keyed(&app, &admin, &restore, "x-1", &json!({}));
    assert_eq!(retry.status(), 200);
    assert_eq!(header(&retry, "idempotent-replayed"), "true");
}

#[test]
fn concurrent_requests_with_one_key_write_once_and_all_get_the_same_answer() {
    let app = Arc::new(app());
    let ada = Arc::new(app.caller("ada", "user"));
    const TRIALS: usize = 6;
    const RACERS: usize = 4;
    for trial in 0..TRIALS {
        let key = format!("race-{trial}");
        let barrier = Arc::new(Barrier::new(RACERS));
        let answers: Vec<(u16, String, Value)> = (0..RACERS)
            .map(|_| {
                let (app, ada, barrier, key) =
                    (app.clone(), ada.clone(), barrier.clone(), key.clone());
                thread::spawn(move || {
                    let body = json!({"type": "company", "name": format!("Race {key}")});
                    barrier.wait();
                    let resp = post_keyed(&app, &ada, "/v1/entities", &key, &body);
                    let status = resp.status().as_u16();
                    let replayed = header(&resp, "idempotent-replayed");
                    (status, replayed, json_body(resp))
                })
            })
            .collect::<Vec<_>>()
            .into_iter()
            .map(|h| h.join().unwrap())
            .collect();
        let ids: HashSet<&str> = answers
            .iter()
            .map(|(status, _, body)| {
                assert_eq!(*status, 201, "trial {trial}: {body}");
                body["id"].as_str().unwrap()
            })
            .collect();
        assert_eq!(ids.len(), 1, "trial {trial}: one entity for one key");
        let fresh = answers.iter().filter(|(_, r, _)| r.is_empty()).count();
        assert_eq!(
            fresh, 1,
            "trial {trial}: exactly one answer is not a replay"
        );
    }
    assert_eq!(
        count(&app, "SELECT count(*) AS n FROM entities"),
        TRIALS as i64
    );
}

#[test]
fn an_expired_key_is_a_new_request() {
    let app = app_with(&[("idempotency_key_ttl_seconds", "1")]);
    let ada = app.caller("ada", "user");
    let body = json!({"type": "company", "name": "Acme"});
    let first = json_body(post_keyed(&app, &ada, "/v1/entities", "short", &body));
    post_keyed(&app, &ada, "/v1/entities", "another", &body);
    // The keys are kept 1 s; let that pass by moving them into the past rather than sleeping.
    app.db.execute(
        "UPDATE idempotency_keys SET created_at = now() - interval '2 seconds', \
         expires_at = now() - interval '1 second'",
    );
    let again = post_keyed(&app, &ada, "/v1/entities", "short", &body);
    assert_eq!(again.status(), 201);
    assert_eq!(header(&again, "idempotent-replayed"), "");
    assert_ne!(json_body(again)["id"], first["id"]);
    let expiry = app.db.query_json(
        "SELECT extract(epoch FROM expires_at - created_at)::int AS n FROM idempotency_keys",
    );
    assert_eq!(
        expiry.as_array().unwrap().len(),
        1,
        "the other expired key was purged"
    );
    assert_eq!(expiry[0]["n"], 1, "kept idempotency_key_ttl_seconds");
}

// ------------------------------------------------------------------ change feed

/// An API key of `owner` holding `scopes`, made through `POST /v1/auth/api-keys`.
fn api_key(app: &TestApp, owner: &Caller, scopes: &[&str]) -> String {
    let created = app.create_api_key(owner, "feed reader", scopes);
    created["key"].as_str().unwrap().to_string()
}

fn feed(app: &TestApp, key: &str, query: &str) -> Response {
    app.get(&format!("/v1/changes{query}"))
        .header("authorization", format!("ApiKey {key}"))
        .send()
        .unwrap()
}

/// Follow the feed from the start until `want` changes have arrived (or 30 s pass): every
/// page, in order. (A page only holds changes older than every write transaction still open on
/// the server, so a reader polls rather than expecting a change the moment it committed.)
fn follow(app: &TestApp, key: &str, want: usize) -> Vec<Value> {
    let mut seen = Vec::new();
    let mut cursor = String::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    while seen.len() < want && Instant::now() < deadline {
        let resp = feed(app, key, &format!("?after={cursor}&limit=50&wait=2"));
        assert_eq!(resp.status(), 200);
        let page = json_body(resp);
        seen.extend(page["items"].as_array().unwrap().iter().cloned());
        cursor = page["next_cursor"].as_str().unwrap_or_default().to_string();
    }
    seen
}

#[test]
fn the_change_feed_needs_the_changes_read_scope_or_an_admin() {
    let app = app();
    let admin = app.caller("root", "admin");
    let ada = app.caller("ada", "user");
    let user_reads = app.get_as(&ada, "/v1/changes");
    assert_eq!(user_reads.status(), 403);
    let admin_reads = app.get_as(&admin, "/v1/changes");
    assert_eq!(admin_reads.status(), 200);
    let reader = api_key(&app, &admin, &["changes:read"]);
    assert_eq!(feed(&app, &reader, "").status(), 200);
    let entities_only = api_key(&app, &admin, &["entities:read"]);
    assert_eq!(feed(&app, &entities_only, "").status(), 403);
    // A user cannot give a key a scope its role lacks.
    let resp = app.post_as(
        &ada,
        "/v1/auth/api-keys",
        &json!({"name": "x", "scopes": ["changes:read"]}),
    );
    assert_eq!(resp.status(), 422);
    assert_eq!(
        app.post("/v1/changes")
            .bearer_auth(&admin.token)
            .send()
            .unwrap()
            .status(),
        405
    );
}

#[test]
fn every_mutation_appears_once_in_order_with_its_document_or_a_tombstone() {
    let app = app();
    let admin = app.caller("root", "admin");
    // Documents go only to a reader that could GET them (see the next test).
    let reader = api_key(
        &app,
        &admin,
        &["changes:read", "entities:read", "relationships:read"],
    );
    let a = entity(&app, &admin, "A");
    let b = entity(&app, &admin, "B");
    let (a_id, b_id) = (a["id"].as_str().unwrap(), b["id"].as_str().unwrap());
    let patched = app.patch_as(
        &admin,
        &format!("/v1/entities/{a_id}"),
        &json!({"name": "A2"}),
    );
    assert_eq!(patched.status(), 200);
    let edge = app.post_as(
        &admin,
        "/v1/relationships",
        &json!({"source_id": a_id, "target_id": b_id, "type": "partner"}),
    );
    assert_eq!(edge.status(), 201);
    let edge_id = json_body(edge)["id"].as_str().unwrap().to_string();
    let del = app.delete_as(&admin, &format!("/v1/entities/{b_id}"));
    assert_eq!(del.status(), 204);
    let restored = app.post_as(&admin, &format!("/v1/entities/{b_id}/restore"), &json!({}));
    assert_eq!(restored.status(), 200);

    let seen = follow(&app, &reader, 6);
    let summary: Vec<(String, String, String, i64)> = seen
        .iter()
        .map(|c| {
            (
                c["kind"].as_str().unwrap().to_string(),
                c["op"].as_str().unwrap().to_string(),
                c["id"].as_str().unwrap().to_string(),
                c["version"].as_i64().unwrap(),
            )
        })
        .collect();
    let s = |k: &str, o: &str, id: &str, v: i64| (k.to_string(), o.to_string(), id.to_string(), v);
    assert_eq!(
        summary,
        vec![
            s("entity", "create", a_id, 1),
            s("entity", "create", b_id, 1),
            s("entity", "update", a_id, 2),
            s("relationship", "create", &edge_id, 1),
            s("entity", "delete", b_id, 2),
            s("entity", "restore", b_id, 3),
        ]
    );
    assert_eq!(seen[2]["document"]["name"], "A2");
    assert_eq!(seen[2]["actor_id"], admin.id.as_str());
    assert_eq!(seen[3]["document"]["source_id"], a_id);
    assert!(seen[4]["document"].is_null(), "a delete is a tombstone");
    assert_eq!(seen[5]["document"]["name"], "B");

    // The cursor resumes after what was served; the type filter keeps only relationships.
    let last = seen[5]["cursor"].as_str().unwrap();
    let rest = json_body(feed(&app, &reader, &format!("?after={last}")));
    assert_eq!(rest["items"], json!([]));
    assert_eq!(rest["next_cursor"], last);
    let edges = json_body(feed(&app, &reader, "?types=relationship&wait=5"));
    assert_eq!(edges["items"].as_array().unwrap().len(), 1);
    assert_eq!(
        json_body(feed(&app, &reader, "?limit=2&wait=5"))["items"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    for bad in [
        "?after=nope",
        "?types=user",
        "?wait=0",
        "?wait=31",
        "?limit=0",
    ] {
        assert_eq!(feed(&app, &reader, bad).status(), 400, "{bad}");
    }
}

#[test]
fn the_change_feed_withholds_documents_the_reader_could_not_get() {
    let app = app();
    let admin = app.caller("root", "admin");
    let a = app.created_entity(
        &admin,
        &json!({"type": "company", "name": "Secret A", "metadata": {"k": "s3"}}),
    );
    let b = entity(&app, &admin, "Secret B");
    let (a_id, b_id) = (a["id"].as_str().unwrap(), b["id"].as_str().unwrap());
    let edge = app.post_as(
        &admin,
        "/v1/relationships",
        &json!({"source_id": a_id, "target_id": b_id, "type": "partner"}),
    );
    assert_eq!(edge.status(), 201);

    // `changes:read` alone: what changed, never the documents.
    let bare = api_key(&app, &admin, &["changes:read"]);
    let seen = follow(&app, &bare, 3);
    assert_eq!(seen.len(), 3);
    for change in &seen {
        assert!(change["document"].is_null(), "{change}");
        assert_eq!(change["withheld"], true, "{change}");
        assert!(change["id"].is_string() && change["kind"].is_string());
    }
    assert!(!Value::Array(seen.clone()).to_string().contains("Secret"));

    // With `entities:read`: entity documents, relationship documents still withheld.
    let entities = api_key(&app, &admin, &["changes:read", "entities:read"]);
    let seen = follow(&app, &entities, 3);
    assert_eq!(seen[0]["document"]["metadata"]["k"], "s3");
    assert!(seen[0].get("withheld").is_none());
    assert_eq!(seen[2]["kind"], "relationship");
    assert!(seen[2]["document"].is_null() && seen[2]["withheld"] == true);

    // An admin's session holds every scope: everything.
    let page = json_body(app.get_as(&admin, "/v1/changes?wait=5"));
    let items = page["items"].as_array().unwrap();
    assert_eq!(items.len(), 3);
    assert!(
        items
            .iter()
            .all(|c| c.get("withheld").is_none() && c["document"].is_object())
    );
}

#[test]
fn a_long_poll_answers_as_soon_as_a_change_commits() {
    let app = Arc::new(app());
    let admin = Arc::new(app.caller("root", "admin"));
    let reader = api_key(&app, &admin, &["changes:read"]);
    let poll = {
        let (app, reader) = (app.clone(), reader.clone());
        thread::spawn(move || {
            let started = Instant::now();
            let page = json_body(feed(&app, &reader, "?wait=20"));
            (page, started.elapsed())
        })
    };
    thread::sleep(Duration::from_millis(500));
    let made = entity(&app, &admin, "Late");
    let (page, took) = poll.join().unwrap();
    assert_eq!(page["items"][0]["id"], made["id"], "{page}");
    assert!(
        took < Duration::from_secs(15),
        "the poll answered after the change, not at the end of its wait ({took:?})"
    );
}

/// A long poll's status, how long it took and how many changes it brought.
type Polled = (u16, Duration, usize);

/// `n` long polls of the feed (from its start) with `key`, each waiting up to `wait` seconds.
fn long_polls(
    app: &Arc<TestApp>,
    key: &str,
    n: usize,
    wait: u64,
) -> Vec<thread::JoinHandle<Polled>> {
    (0..n)
        .map(|_| {
            let (app, key) = (app.clone(), key.to_string());
            thread::spawn(move || {
                let started = Instant::now();
                let resp = feed(&app, &key, &format!("?wait={wait}"));
                let took = started.elapsed();
                let status = resp.status().as_u16();
                if status != 200 {
                    assert_eq!(header(&resp, "retry-after"), "1");
                    return (status, took, 0);
                }
                let items = json_body(resp)["items"].as_array().unwrap().len();
                (status, took, items)
            })
        })
        .collect()
}

fn statuses(polls: Vec<thread::JoinHandle<Polled>>) -> Vec<Polled> {
    polls.into_iter().map(|p| p.join().unwrap()).collect()
}

#[test]
fn long_polls_hold_no_pooled_session_so_reads_stay_fast_with_more_waiters_than_connections() {
    // Our host with 8 Postgres connections per connection string (another host: its own pool),
    // and 12 long polls of 10 s from three users (four each: their cap) waiting on an empty feed.
    let mut opts = TestOptions::signing_in_freely(&[]);
    if host_is_spingraph() {
        opts = opts.host_arg("--postgres-pool-size").host_arg("8");
    }
    let app = Arc::new(TestApp::start(opts));
    let admin = app.caller("root", "admin");
    let mut polls = Vec::new();
    for i in 0..3 {
        let reader = app.caller(&format!("reader{i}"), "admin");
        let key = api_key(&app, &reader, &["changes:read"]);
        polls.extend(long_polls(&app, &key, 4, 10));
    }
    thread::sleep(Duration::from_secs(2));
    // Every other request still gets a session at once (a poll that held one for its whole wait
    // left these to wait 5 s for the pool and answer 503).
    let reads: Vec<(u16, Duration, String)> = (0..10)
        .map(|_| {
            let started = Instant::now();
            let resp = app.get_as(&admin, "/v1/entities?limit=1");
            let status = resp.status().as_u16();
            (status, started.elapsed(), resp.text().unwrap())
        })
        .collect();
    // The polls look again while they wait: a change made now reaches every one of them
    // before its wait ends. (Asserted once every thread has ended, so a failure leaves none
    // holding the host.)
    let made = entity(&app, &admin, "Seen");
    let polled = statuses(polls);
    for (status, took, body) in reads {
        assert_eq!(status, 200, "{body}");
        assert!(
            took < Duration::from_secs(3),
            "a read waited {took:?} behind the long polls"
        );
    }
    assert!(made["id"].is_string());
    for (status, took, items) in polled {
        assert_eq!((status, items), (200, 1));
        assert!(
            took < Duration::from_secs(9),
            "answered at the change: {took:?}"
        );
    }
}

#[test]
fn concurrent_long_polls_past_a_users_cap_or_the_deployments_are_429_at_once() {
    let app = Arc::new(app_with(&[
        ("change_feed_max_waiters_per_user", "2"),
        ("change_feed_max_waiters", "3"),
    ]));
    let ada = app.caller("ada", "admin");
    let bob = app.caller("bob", "admin");
    // Two keys of one user share the user's cap.
    let (ada_1, ada_2) = (
        api_key(&app, &ada, &["changes:read"]),
        api_key(&app, &ada, &["changes:read"]),
    );
    let bob_key = api_key(&app, &bob, &["changes:read"]);
    let waiting = long_polls(&app, &ada_1, 2, 6);
    thread::sleep(Duration::from_secs(2));
    let third = statuses(long_polls(&app, &ada_2, 1, 6));
    // Bob gets the deployment's third slot, and the fourth is refused to anyone.
    let bob_waits = long_polls(&app, &bob_key, 1, 4);
    thread::sleep(Duration::from_secs(1));
    let fourth = statuses(long_polls(&app, &bob_key, 1, 4));
    let waited: Vec<Polled> = statuses(waiting)
        .into_iter()
        .chain(statuses(bob_waits))
        .collect();
    let [(status, took, _)] = third[..] else {
        unreachable!()
    };
    assert_eq!(status, 429, "a user's third concurrent wait");
    assert!(
        took < Duration::from_secs(4),
        "refused at once, not after waiting: {took:?}"
    );
    assert_eq!(fourth[0].0, 429, "the deployment's fourth concurrent wait");
    for (status, took, items) in waited {
        assert_eq!((status, items), (200, 0));
        assert!(took >= Duration::from_secs(3), "waited its time: {took:?}");
    }
    // Ended polls give their slots back: a user's two waits fit again at once.
    for (status, ..) in statuses(long_polls(&app, &ada_2, 2, 1)) {
        assert_eq!(status, 200);
    }
}

#[test]
fn a_reader_following_four_concurrent_writers_sees_every_change_once_in_order() {
    let app = Arc::new(app());
    let admin = Arc::new(app.caller("root", "admin"));
    let reader = api_key(&app, &admin, &["changes:read"]);
    const WRITERS: usize = 4;
    const EACH: usize = 25;

    // The reader follows the feed while everything below is written, until it has them all.
    let total = WRITERS * EACH + 1;
    let follower = {
        let (app, reader) = (app.clone(), reader.clone());
        thread::spawn(move || {
            let mut seen: Vec<Value> = Vec::new();
            let mut cursor = String::new();
            let deadline = Instant::now() + Duration::from_secs(60);
            while seen.len() < total && Instant::now() < deadline {
                let query = format!("?after={cursor}&limit=20&wait=1");
                let page = json_body(feed(&app, &reader, &query));
                seen.extend(page["items"].as_array().unwrap().iter().cloned());
                cursor = page["next_cursor"].as_str().unwrap_or_default().to_string();
            }
            // Nothing more: a change served twice would show up here.
            let after = json_body(feed(&app, &reader, &format!("?after={cursor}")));
            seen.extend(after["items"].as_array().unwrap().iter().cloned());
            seen
        })
    };

    // A transaction that wrote a change and stays open until told to commit: it has the lowest
    // sequence number of everything written meanwhile, yet commits last.
    let held = app.db.hold_open(
        "INSERT INTO changes (kind, op, resource_id, type, version) \
         VALUES ('entity', 'create', gen_random_uuid(), 'held', 1)",
    );
    let writers: Vec<_> = (0..WRITERS)
        .map(|w| {
            let (app, admin) = (app.clone(), admin.clone());
            thread::spawn(move || {
                (0..EACH)
                    .map(|i| {
                        entity(&app, &admin, &format!("w{w}-{i}"))["id"]
                            .as_str()
                            .unwrap()
                            .to_string()
                    })
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    let acknowledged: Vec<String> = writers
        .into_iter()
        .flat_map(|h| h.join().unwrap())
        .collect();
    // Everything above committed after the held change was written; only now does it commit.
    held.commit();
    let seen = follower.join().unwrap();

    // Exactly once each: every acknowledged write, plus the held change.
    let mut times: BTreeMap<String, usize> = BTreeMap::new();
    for change in &seen {
        *times
            .entry(change["id"].as_str().unwrap().to_string())
            .or_default() += 1;
    }
    assert_eq!(seen.len(), total, "no change twice or missing");
    assert!(times.values().all(|&n| n == 1), "a change came twice");
    for id in &acknowledged {
        assert_eq!(times.get(id), Some(&1), "acknowledged {id} never arrived");
    }
    assert!(
        seen.iter().any(|c| c["type"] == "held"),
        "the change that committed last, with the lowest sequence number, was skipped"
    );
    // In order: cursors strictly increase, and the reader holds every row the table has.
    let cursors: Vec<(u64, i64)> = seen
        .iter()
        .map(|c| {
            let (txid, seq) = c["cursor"].as_str().unwrap().split_once('.').unwrap();
            (txid.parse().unwrap(), seq.parse().unwrap())
        })
        .collect();
    assert!(
        cursors.windows(2).all(|w| w[0] < w[1]),
        "out of order: {cursors:?}"
    );
    assert_eq!(
        count(&app, "SELECT count(*) AS n FROM changes"),
        seen.len() as i64
    );
}

// ------------------------------------------------------------------ natural keys

fn put_external(app: &TestApp, who: &Caller, kind: &str, xid: &str, body: &Value) -> Response {
    app.send_as(
        who,
        app.client()
            .put(app.url(&external_path(kind, xid)))
            .json(body),
    )
}

/// `/v1/entities/by-external-id/{type}/{external_id}`, each segment percent-encoded.
fn external_path(kind: &str, xid: &str) -> String {
    let enc = |s: &str| -> String {
        s.bytes()
            .map(|b| match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                    (b as char).to_string()
                }
                _ => format!("%{b:02X}"),
            })
            .collect()
    };
    format!("/v1/entities/by-external-id/{}/{}", enc(kind), enc(xid))
}

fn keyed(app: &TestApp, who: &Caller, kind: &str, xid: &str, name: &str) -> Value {
    app.created_entity(
        who,
        &json!({"type": kind, "name": name, "external_id": xid}),
    )
}

#[test]
fn an_external_id_is_unique_per_owner_and_type_among_live_entities() {
    let app = app();
    let ada = app.caller("ada", "user");
    let first = keyed(&app, &ada, "company", "crm-1", "Acme");
    assert_eq!(first["external_id"], "crm-1");
    let again = app.post_as(
        &ada,
        "/v1/entities",
        &json!({"type": "company", "name": "Acme again", "external_id": "crm-1"}),
    );
    assert!(conflict_detail(again).contains("crm-1"));
    // Another type may use the same key.
    keyed(&app, &ada, "person", "crm-1", "Ada");
    // A PATCH cannot take a key either; `null` removes one.
    let other = keyed(&app, &ada, "company", "crm-2", "Other");
    let path = format!("/v1/entities/{}", other["id"].as_str().unwrap());
    let take = app.patch_as(&ada, &path, &json!({"external_id": "crm-1"}));
    assert_eq!(take.status(), 409);
    let drop = app.patch_as(&ada, &path, &json!({"external_id": null}));
    assert_eq!(drop.status(), 200);
    assert!(json_body(drop)["external_id"].is_null());
    // Once the holder is deleted, the key is free again.
    let first_path = format!("/v1/entities/{}", first["id"].as_str().unwrap());
    assert_eq!(app.delete_as(&ada, &first_path).status(), 204);
    keyed(&app, &ada, "company", "crm-1", "Acme reborn");
    for bad in [
        json!(""),
        json!(7),
        json!("x".repeat(257)),
        json!("a\u{0}b"),
    ] {
        let resp = app.post_as(
            &ada,
            "/v1/entities",
            &json!({"type": "company", "name": "X", "external_id": bad}),
        );
        assert_eq!(resp.status(), 422, "external_id {bad}");
        assert_eq!(error_fields(&json_body(resp)), vec!["external_id"]);
    }
}

#[test]
fn put_by_external_id_creates_then_replaces_and_honours_preconditions() {
    let app = app();
    let [ada, bob] = app.users(["ada", "bob"]);
    let xid = "sap/000172 ü";
    let put_as = |who: &Caller, body: Value| put_external(&app, who, "company", xid, &body);
    let created = put_as(&ada, json!({"name": "Acme", "metadata": {"a": 1}}));
    assert_eq!(created.status(), 201);
    let location = header(&created, "location");
    let created = json_body(created);
    assert_eq!(
        location,
        format!("/v1/entities/{}", created["id"].as_str().unwrap())
    );
    assert_eq!(created["external_id"], xid);
    assert_eq!(created["type"], "company");

    let read = app.get_as(&ada, &external_path("company", xid));
    assert_eq!(read.status(), 200);
    let etag = header(&read, "etag");
    assert_eq!(json_body(read)["id"], created["id"]);

    // A replace writes the whole entity: metadata not sent is the default, not kept.
    let replaced = put_as(&ada, json!({"name": "Acme Corp"}));
    assert_eq!(replaced.status(), 200);
    let replaced = json_body(replaced);
    assert_eq!(
        (replaced["id"].clone(), replaced["version"].clone()),
        (created["id"].clone(), json!(2))
    );
    assert_eq!(replaced["metadata"], json!({}));

    // Each precondition fails: a stale tag, create-only on a taken key, any tag on a free one.
    for (key, (precondition, tag), body) in [
        (xid, ("if-match", etag.as_str()), json!({"name": "Stale"})),
        (xid, ("if-none-match", "*"), json!({"name": "New"})),
        ("none-yet", ("if-match", "*"), json!({"name": "New"})),
    ] {
        let put = app.client().put(app.url(&external_path("company", key)));
        let resp = app.send_as(&ada, put.header(precondition, tag).json(&body));
        assert_eq!(resp.status(), 412, "{precondition}: {tag} on {key}");
    }
    let mismatch = put_as(&ada, json!({"name": "X", "type": "person"}));
    assert_eq!(mismatch.status(), 422);
    assert_eq!(error_fields(&json_body(mismatch)), vec!["type"]);
    // Another user's keys are not bob's to write (his own are his: see the per-owner tests).
    let ada_key = format!("{}?owner_id={}", external_path("company", xid), ada.id);
    let foreign = app.client().put(app.url(&ada_key));
    let foreign = app.send_as(&bob, foreign.json(&json!({"name": "Bob's"})));
    assert_eq!(foreign.status(), 403);
    assert_eq!(
        app.get_as(&ada, &external_path("company", "missing"))
            .status(),
        404
    );
    assert_eq!(count(&app, "SELECT count(*) AS n FROM entities"), 1);
}

#[test]
fn concurrent_first_puts_of_one_natural_key_make_one_entity() {
    let app = Arc::new(app());
    let ada = Arc::new(app.caller("ada", "user"));
    const RACERS: usize = 4;
    for trial in 0..4 {
        let barrier = Arc::new(Barrier::new(RACERS));
        let statuses: Vec<u16> = (0..RACERS)
            .map(|i| {
                let (app, ada, barrier) = (app.clone(), ada.clone(), barrier.clone());
                thread::spawn(move || {
                    barrier.wait();
                    let body = json!({"name": format!("racer {i}")});
                    put_external(&app, &ada, "company", &format!("k-{trial}"), &body)
                        .status()
                        .as_u16()
                })
            })
            .collect::<Vec<_>>()
            .into_iter()
            .map(|h| h.join().unwrap())
            .collect();
        assert_eq!(
            statuses.iter().filter(|&&s| s == 201).count(),
            1,
            "{statuses:?}"
        );
        assert!(
            statuses.iter().all(|&s| s == 201 || s == 200),
            "{statuses:?}"
        );
    }
    assert_eq!(count(&app, "SELECT count(*) AS n FROM entities"), 4);
}

#[test]
fn a_batch_upserts_by_natural_key_as_on_conflict_says() {
    let app = app();
    let ada = app.caller("ada", "user");
    let existing = keyed(&app, &ada, "company", "c-1", "Acme");
    let items = json!([
        {"type": "company", "name": "Acme (batch)", "external_id": "c-1"},
        {"type": "company", "name": "Beta", "external_id": "c-2"},
        {"type": "company", "name": "No key"},
    ]);
    let batch = |who: &Caller, on_conflict: Option<&str>| {
        let mut body = json!({"items": items});
        if let Some(mode) = on_conflict {
            body["on_conflict"] = json!(mode);
        }
        app.post_as(who, "/v1/entities/batch", &body)
    };
    let conflict = batch(&ada, None);
    assert!(conflict_detail(conflict).starts_with("items[0]"));
    assert_eq!(
        count(&app, "SELECT count(*) AS n FROM entities"),
        1,
        "all or nothing"
    );

    let skipped = batch(&ada, Some("skip"));
    assert_eq!(skipped.status(), 201);
    let skipped = json_body(skipped);
    assert_eq!(
        skipped["outcomes"],
        json!(["skipped", "created", "created"])
    );
    assert_eq!(
        skipped["items"][0], existing,
        "a skipped item is the entity as it was"
    );
    assert_eq!(skipped["items"][1]["external_id"], "c-2");

    let items = json!([
        {"type": "company", "name": "Acme v2", "external_id": "c-1"},
        {"type": "company", "name": "Beta v2", "external_id": "c-2", "confidence": 0.4},
    ]);
    let updated = app.post_as(
        &ada,
        "/v1/entities/batch",
        &json!({"items": items, "on_conflict": "update"}),
    );
    assert_eq!(updated.status(), 200, "nothing created");
    let updated = json_body(updated);
    assert_eq!(updated["outcomes"], json!(["updated", "updated"]));
    assert_eq!(updated["items"][0]["id"], existing["id"]);
    assert_eq!(updated["items"][0]["name"], "Acme v2");
    assert_eq!(updated["items"][0]["version"], 2);
    assert_eq!(updated["items"][1]["confidence"], 0.4);
    assert_eq!(count(&app, "SELECT count(*) AS n FROM entities"), 3);

    let twice = app.post_as(
        &ada,
        "/v1/entities/batch",
        &json!({"items": [
            {"type": "t", "name": "a", "external_id": "same"},
            {"type": "t", "name": "b", "external_id": "same"}
        ]}),
    );
    assert_eq!(twice.status(), 422);
    assert_eq!(
        error_fields(&json_body(twice)),
        vec!["items[1].external_id"]
    );
    let bad_mode = app.post_as(
        &ada,
        "/v1/entities/batch",
        &json!({"items": items, "on_conflict": "merge"}),
    );
    assert_eq!(bad_mode.status(), 422);
    assert_eq!(error_fields(&json_body(bad_mode)), vec!["on_conflict"]);
}

#[test]
fn relationships_can_name_their_ends_by_natural_key() {
    let app = app();
    let ada = app.caller("ada", "user");
    let acme = keyed(&app, &ada, "company", "c-1", "Acme");
    let ada_person = keyed(&app, &ada, "person", "p-1", "Ada");
    let by_key = app.post_as(
        &ada,
        "/v1/relationships",
        &json!({"source": {"type": "person", "external_id": "p-1"},
                "target": {"type": "company", "external_id": "c-1"}, "type": "works_at"}),
    );
    assert_eq!(by_key.status(), 201);
    let edge = json_body(by_key);
    assert_eq!(edge["source_id"], ada_person["id"]);
    assert_eq!(edge["target_id"], acme["id"]);
    // Mixed: an id at one end, a natural key at the other.
    let mixed = app.post_as(&ada, "/v1/relationships", &json!({"source_id": acme["id"], "target": {"type": "person", "external_id": "p-1"}, "type": "employs"}));
    assert_eq!(mixed.status(), 201);
    for (body, field) in [
        (
            json!({"source": {"type": "person", "external_id": "nobody"}, "target_id": acme["id"], "type": "x"}),
            "source",
        ),
        (
            json!({"source_id": acme["id"], "source": {"type": "company", "external_id": "c-1"}, "target_id": ada_person["id"], "type": "x"}),
            "source",
        ),
        (
            json!({"source_id": acme["id"], "target": {"type": "company", "external_id": "c-1"}, "type": "x"}),
            "target",
        ),
        (
            json!({"source": {"type": "company"}, "target_id": acme["id"], "type": "x"}),
            "source.external_id",
        ),
    ] {
        let resp = app.post_as(&ada, "/v1/relationships", &body);
        assert_eq!(resp.status(), 422, "{body}");
        assert_eq!(error_fields(&json_body(resp)), vec![field], "{body}");
    }
}

// Natural keys are per owner (issue 25, 5b): one user writing a key first takes nothing from
// another.

/// `external_path` among the keys of `owner` (`?owner_id=`).
fn owners_path(kind: &str, xid: &str, owner: &Caller) -> String {
    format!("{}?owner_id={}", external_path(kind, xid), owner.id)
}

/// An app with the users ada and bob, and bob's company keyed `xid` with the name "fake" (the
/// squat): `(app, ada, bob, squat)`.
fn bob_squatting(xid: &str) -> (TestApp, Caller, Caller, Value) {
    let app = app();
    let [ada, bob] = app.users(["ada", "bob"]);
    let squat = keyed(&app, &bob, "company", xid, "fake");
    (app, ada, bob, squat)
}

/// Asserts that `squat` (of [`bob_squatting`]) is as bob wrote it.
fn assert_bobs_entity_untouched(app: &TestApp, squat: &Value, bob: &Caller) {
    assert_eq!(
        stored(app, &squat["id"]),
        json!({"name": "fake", "owner_id": bob.id, "version": 1, "deleted": false}),
        "bob's entity is untouched"
    );
}

/// The entity row `id` as the database holds it (name, owner, version, deleted or not).
fn stored(app: &TestApp, id: &Value) -> Value {
    app.db.query_json(&format!(
        "SELECT name, owner_id::text, version, deleted_at IS NOT NULL AS deleted FROM entities \
         WHERE id = '{}'",
        id.as_str().unwrap()
    ))[0]
        .clone()
}

#[test]
fn another_users_natural_key_does_not_block_put_post_or_get() {
    let (app, ada, bob, squat) = bob_squatting("crm-1");

    let put = put_external(&app, &ada, "company", "crm-1", &json!({"name": "Acme"}));
    assert_eq!(
        put.status(),
        201,
        "ada's own key, whoever wrote crm-1 first"
    );
    let acme = json_body(put);
    assert_eq!(acme["owner_id"], ada.id.as_str());
    assert_ne!(acme["id"], squat["id"]);
    let again = put_external(
        &app,
        &ada,
        "company",
        "crm-1",
        &json!({"name": "Acme Corp"}),
    );
    assert_eq!(again.status(), 200);
    assert_eq!(json_body(again)["id"], acme["id"]);

    // Each reads their own; another owner's with ?owner_id=.
    let path = external_path("company", "crm-1");
    assert_eq!(json_body(app.get_as(&ada, &path))["id"], acme["id"]);
    assert_eq!(json_body(app.get_as(&bob, &path))["id"], squat["id"]);
    let bobs = app.get_as(&ada, &owners_path("company", "crm-1", &bob));
    assert_eq!(bobs.status(), 200);
    assert_eq!(json_body(bobs)["id"], squat["id"]);
    let bad = app.get_as(&ada, &format!("{path}?owner_id=bob"));
    assert_eq!(bad.status(), 400);
    assert_eq!(error_fields(&json_body(bad)), vec!["owner_id"]);
    let nobody = app.get_as(&bob, &external_path("company", "crm-2"));
    assert_eq!(nobody.status(), 404);

    // A POST of the key is a 409 only because ada holds it herself.
    let post = app.post_as(
        &ada,
        "/v1/entities",
        &json!({"type": "company", "name": "Acme again", "external_id": "crm-1"}),
    );
    assert!(conflict_detail(post).contains("crm-1"));
    assert_bobs_entity_untouched(&app, &squat, &bob);
}

#[test]
fn a_batch_resolves_natural_keys_among_the_callers_own_entities() {
    let (app, ada, bob, squat) = bob_squatting("c-1");
    let batch = |on_conflict: &str, names: [&str; 2]| {
        let items = json!([
            {"type": "company", "name": names[0], "external_id": "c-1"},
            {"type": "company", "name": names[1], "external_id": "c-2"},
        ]);
        app.post_as(
            &ada,
            "/v1/entities/batch",
            &json!({"items": items, "on_conflict": on_conflict}),
        )
    };
    let skip = batch("skip", ["Acme", "Beta"]);
    assert_eq!(skip.status(), 201);
    let skip = json_body(skip);
    assert_eq!(skip["outcomes"], json!(["created", "created"]));
    for item in skip["items"].as_array().unwrap() {
        assert_eq!(item["owner_id"], ada.id.as_str());
    }
    let update = batch("update", ["Acme v2", "Beta v2"]);
    assert_eq!(update.status(), 200);
    let update = json_body(update);
    assert_eq!(update["outcomes"], json!(["updated", "updated"]));
    assert_eq!(update["items"][0]["id"], skip["items"][0]["id"]);
    assert_eq!(update["items"][0]["name"], "Acme v2");
    let error = batch("error", ["Acme v3", "Beta v3"]);
    assert!(conflict_detail(error).starts_with("items[0]"));
    assert_bobs_entity_untouched(&app, &squat, &bob);
}

#[test]
fn relationship_ends_by_natural_key_resolve_among_the_callers_entities_or_the_named_owners() {
    let app = app();
    let [ada, bob] = app.users(["ada", "bob"]);
    let bobs_person = keyed(&app, &bob, "person", "p-1", "fake");
    let bobs_company = keyed(&app, &bob, "company", "c-1", "fake");
    let only_bobs = keyed(&app, &bob, "company", "c-9", "Bob's only");
    let person = keyed(&app, &ada, "person", "p-1", "Ada");
    let company = keyed(&app, &ada, "company", "c-1", "Acme");
    let link = |source: Value, target: Value, kind: &str| {
        app.post_as(
            &ada,
            "/v1/relationships",
            &json!({"source": source, "target": target, "type": kind}),
        )
    };
    let works_at = link(
        json!({"type": "person", "external_id": "p-1"}),
        json!({"type": "company", "external_id": "c-1"}),
        "works_at",
    );
    assert_eq!(works_at.status(), 201);
    let works_at = json_body(works_at);
    assert_eq!(works_at["source_id"], person["id"]);
    assert_eq!(works_at["target_id"], company["id"]);
    // `owner_id` names another owner's key.
    let knows = link(
        json!({"type": "person", "external_id": "p-1"}),
        json!({"type": "person", "external_id": "p-1", "owner_id": bob.id}),
        "knows",
    );
    assert_eq!(knows.status(), 201);
    assert_eq!(json_body(knows)["target_id"], bobs_person["id"]);
    // A key only bob holds is no key of ada's.
    let missing = link(
        json!({"type": "person", "external_id": "p-1"}),
        json!({"type": "company", "external_id": "c-9"}),
        "likes",
    );
    assert_eq!(missing.status(), 422);
    assert_eq!(error_fields(&json_body(missing)), vec!["target"]);
    let bad_owner = link(
        json!({"type": "person", "external_id": "p-1", "owner_id": "bob"}),
        json!({"type": "company", "external_id": "c-1"}),
        "likes",
    );
    assert_eq!(bad_owner.status(), 422);
    assert_eq!(error_fields(&json_body(bad_owner)), vec!["source.owner_id"]);
    assert_eq!(
        count(
            &app,
            &format!(
                "SELECT count(*) AS n FROM relationships WHERE source_id IN ('{}', '{}') \
                 OR target_id IN ('{}', '{}')",
                id_of(&bobs_company),
                id_of(&only_bobs),
                id_of(&bobs_company),
                id_of(&only_bobs)
            )
        ),
        0,
        "nothing attached to bob's companies"
    );
}

#[test]
fn an_admin_replaces_another_users_entity_by_natural_key_but_never_creates_one_in_their_name() {
    let app = app();
    let ada = app.caller("ada", "user");
    let admin = app.caller("root", "admin");
    let acme = keyed(&app, &ada, "company", "c-1", "Acme");
    let put = |who: &Caller, path: &str, name: &str| {
        let rb = app.client().put(app.url(path));
        app.send_as(who, rb.json(&json!({"name": name})))
    };

    let fixed = put(&admin, &owners_path("company", "c-1", &ada), "Acme (fixed)");
    assert_eq!(fixed.status(), 200);
    let fixed = json_body(fixed);
    assert_eq!(fixed["id"], acme["id"]);
    assert_eq!(fixed["owner_id"], ada.id.as_str(), "still ada's");
    let read = app.get_as(&admin, &owners_path("company", "c-1", &ada));
    assert_eq!(json_body(read)["name"], "Acme (fixed)");

    let create = put(
        &admin,
        &owners_path("company", "c-2", &ada),
        "In ada's name",
    );
    assert_eq!(create.status(), 403);
    assert_eq!(count(&app, "SELECT count(*) AS n FROM entities"), 1);
    // Without owner_id an admin writes their own keys, like anyone.
    let own = put(&admin, &external_path("company", "c-1"), "Admin's");
    assert_eq!(own.status(), 201);
    assert_eq!(json_body(own)["owner_id"], admin.id.as_str());
    // A user writes no one else's.
    let theirs = put(&ada, &owners_path("company", "c-1", &admin), "Ada's");
    assert_eq!(theirs.status(), 403);
    let mine = put(&ada, &owners_path("company", "c-1", &ada), "Acme again");
    assert_eq!(mine.status(), 200, "naming herself is her own keys");
    assert_eq!(count(&app, "SELECT count(*) AS n FROM entities"), 2);
}

#[test]
fn patch_and_restore_check_natural_keys_among_the_owners_entities() {
    let app = app();
    let [ada, bob] = app.users(["ada", "bob"]);
    let admin = app.caller("root", "admin");
    let a = keyed(&app, &ada, "company", "k", "A");
    let b = keyed(&app, &bob, "company", "k", "B");
    let patch_key = |who: &Caller, e: &Value, xid: &str| {
        let path = format!("/v1/entities/{}", id_of(e));
        app.patch_as(who, &path, &json!({"external_id": xid}))
            .status()
    };
    // A PATCH is refused only a key the entity's owner holds.
    let b2 = entity(&app, &bob, "B2");
    assert_eq!(patch_key(&bob, &b2, "k"), 409);
    assert_eq!(patch_key(&bob, &b2, "j"), 200);
    let a2 = entity(&app, &ada, "A2");
    assert_eq!(patch_key(&ada, &a2, "j"), 200);
    assert_eq!(patch_key(&admin, &a2, "k"), 409, "ada's k, whoever patches");

    // A restore likewise: bob's deleted B comes back though ada holds k; ada's A does not
    // while another of hers holds it.
    let restore = |e: &Value| {
        let path = format!("/v1/entities/{}/restore", id_of(e));
        app.post_as(&admin, &path, &json!({})).status()
    };
    for (who, e) in [(&ada, &a), (&bob, &b)] {
        let path = format!("/v1/entities/{}", id_of(e));
        assert_eq!(app.delete_as(who, &path).status(), 204);
    }
    keyed(&app, &ada, "company", "k", "A3");
    assert_eq!(restore(&b), 200);
    assert_eq!(restore(&a), 409);
}

// ------------------------------------------------------------------ entity merge

fn merge(app: &TestApp, who: &Caller, survivor: &Value, body: &Value) -> Response {
    let path = format!("/v1/entities/{}/merge", survivor["id"].as_str().unwrap());
    app.post_as(who, &path, body)
}

fn id_of(v: &Value) -> &str {
    v["id"].as_str().unwrap()
}

#[test]
fn merge_moves_relationships_drops_duplicates_and_self_loops_and_redirects() {
    let app = app();
    let ada = app.caller("ada", "user");
    let make = |name: &str, metadata: Value| {
        let resp = app.post_as(
            &ada,
            "/v1/entities",
            &json!({"type": "company", "name": name, "metadata": metadata}),
        );
        json_body(resp)
    };
    let s = make("S", json!({"a": 1}));
    let v1 = make("V1", json!({"a": 9, "b": 2}));
    let v2 = make("V2", json!({"c": 3}));
    let x = make("X", json!({}));
    let y = make("Y", json!({}));
    app.created_relationship(&ada, &s, &x, "knows"); // stays
    app.created_relationship(&ada, &v1, &x, "knows"); // would repeat S→X knows: dropped
    let moved = app.created_relationship(&ada, &v1, &y, "likes"); // becomes S→Y likes
    app.created_relationship(&ada, &v2, &y, "likes"); // would repeat the moved one: dropped
    app.created_relationship(&ada, &v1, &v2, "rel"); // would be S→S: dropped
    app.created_relationship(&ada, &x, &v2, "cites"); // becomes X→S cites
    app.created_relationship(&ada, &y, &s, "follows"); // untouched

    let resp = merge(
        &app,
        &ada,
        &s,
        &json!({"from": [id_of(&v1), id_of(&v2)], "metadata": "merge"}),
    );
    assert_eq!(resp.status(), 200);
    assert!(!header(&resp, "etag").is_empty());
    let survivor = json_body(resp);
    assert_eq!(survivor["metadata"], json!({"a": 1, "b": 2, "c": 3}));
    assert_eq!(survivor["version"], 2);

    let live = app.db.query_json(
        "SELECT s.name AS source, t.name AS target, r.type FROM relationships r \
         JOIN entities s ON s.id = r.source_id JOIN entities t ON t.id = r.target_id \
         WHERE r.deleted_at IS NULL ORDER BY 1, 2, 3",
    );
    assert_eq!(
        live,
        json!([
            {"source": "S", "target": "X", "type": "knows"},
            {"source": "S", "target": "Y", "type": "likes"},
            {"source": "X", "target": "S", "type": "cites"},
            {"source": "Y", "target": "S", "type": "follows"},
        ])
    );
    let moved_row = app.db.query_json(&format!(
        "SELECT version FROM relationships WHERE id = '{moved}'"
    ));
    assert_eq!(
        moved_row[0]["version"], 2,
        "a moved relationship has a new version"
    );
    assert_eq!(
        count(
            &app,
            "SELECT count(*) AS n FROM relationships WHERE deleted_at IS NOT NULL"
        ),
        3
    );

    // The merged ones answer with a permanent redirect to the survivor.
    let gone = app.get_as(&ada, &format!("/v1/entities/{}", id_of(&v1)));
    assert_eq!(gone.status(), 308);
    assert_eq!(
        header(&gone, "location"),
        format!("/v1/entities/{}", id_of(&s))
    );
    assert_eq!(json_body(gone)["merged_into"], s["id"]);

    // One audit row per entity, one change each (plus the relationships it moved or dropped).
    assert_eq!(
        count(
            &app,
            "SELECT count(*) AS n FROM audit_log WHERE action = 'entity.merge'"
        ),
        1
    );
    assert_eq!(
        count(
            &app,
            "SELECT count(*) AS n FROM audit_log WHERE action = 'entity.merged'"
        ),
        2
    );
    assert_eq!(
        count(&app, "SELECT count(*) AS n FROM changes WHERE op = 'merge'"),
        3
    );
    assert_eq!(
        count(
            &app,
            "SELECT count(*) AS n FROM changes WHERE kind = 'relationship' AND op IN ('update', 'delete')"
        ),
        5
    );

    // Merging the survivor on re-points the earlier merged ones; they cannot be restored.
    let z = make("Z", json!({}));
    assert_eq!(
        merge(&app, &ada, &z, &json!({"from": [id_of(&s)]})).status(),
        200
    );
    let gone = app.get_as(&ada, &format!("/v1/entities/{}", id_of(&v1)));
    assert_eq!(
        header(&gone, "location"),
        format!("/v1/entities/{}", id_of(&z))
    );
    let admin = app.caller("root", "admin");
    let restore = app.post_as(
        &admin,
        &format!("/v1/entities/{}/restore", id_of(&v1)),
        &json!({}),
    );
    assert_eq!(restore.status(), 409);
}

/// An app with the users ada and bob and an admin (root), ada holding the entities named
/// `names[0]` and `names[1]` and bob `names[2]`: `(app, [ada, bob, admin], those entities)`.
fn two_of_adas_and_one_of_bobs(names: [&str; 3]) -> (TestApp, [Caller; 3], [Value; 3]) {
    let app = app();
    let [ada, bob] = app.users(["ada", "bob"]);
    let admin = app.caller("root", "admin");
    let entities = [
        entity(&app, &ada, names[0]),
        entity(&app, &ada, names[1]),
        entity(&app, &bob, names[2]),
    ];
    (app, [ada, bob, admin], entities)
}

#[test]
fn merge_needs_live_entities_the_caller_owns_and_a_valid_list() {
    let (app, [ada, _, admin], [a1, a2, b1]) = two_of_adas_and_one_of_bobs(["A1", "A2", "B1"]);
    let missing = uuid::Uuid::now_v7().to_string();
    assert_eq!(
        merge(&app, &ada, &a1, &json!({"from": [id_of(&b1)]})).status(),
        403
    );
    for (body, field) in [
        (json!({"from": [missing]}), "from[0]"),
        (json!({"from": [id_of(&a1)]}), "from[0]"),
        (json!({"from": [id_of(&a2), id_of(&a2)]}), "from[1]"),
        (json!({"from": ["not-a-uuid"]}), "from[0]"),
        (json!({"from": []}), "from"),
        (
            json!({"from": [id_of(&a2)], "metadata": "union"}),
            "metadata",
        ),
        (json!({"from": [id_of(&a2)], "extra": 1}), "extra"),
    ] {
        let resp = merge(&app, &ada, &a1, &body);
        assert_eq!(resp.status(), 422, "{body}");
        assert_eq!(error_fields(&json_body(resp)), vec![field], "{body}");
    }
    let too_many: Vec<String> = (0..101).map(|_| uuid::Uuid::now_v7().to_string()).collect();
    assert_eq!(
        merge(&app, &ada, &a1, &json!({"from": too_many})).status(),
        422
    );
    let nobody = json!({"id": missing});
    assert_eq!(
        merge(&app, &ada, &nobody, &json!({"from": [id_of(&a2)]})).status(),
        404
    );
    // Nothing above changed anything; an admin may merge anyone's.
    assert_eq!(
        count(
            &app,
            "SELECT count(*) AS n FROM entities WHERE deleted_at IS NULL"
        ),
        3
    );
    assert_eq!(
        merge(&app, &admin, &a1, &json!({"from": [id_of(&b1)]})).status(),
        200
    );
    // A merged entity cannot be merged again; who may change it is told why (the others see a
    // missing id: see merge_answers_a_non_owner_alike_for_missing_deleted_and_merged_ids).
    let resp = merge(&app, &admin, &a2, &json!({"from": [id_of(&b1)]}));
    assert_eq!(resp.status(), 422);
    assert!(
        json_body(resp)["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("merged into")
    );
}

// Merges and other users' data (issue 25, 5a).

#[test]
fn only_an_admins_merge_may_move_or_drop_other_users_relationships() {
    let (app, [ada, bob, admin], [keep, dup, other]) =
        two_of_adas_and_one_of_bobs(["Keep", "Dup", "Other"]);
    let hers = app.created_relationship(&ada, &dup, &other, "knows");
    let bobs_moving = app.created_relationship(&bob, &other, &dup, "cites");
    let bobs_self_loop = app.created_relationship(&bob, &dup, &keep, "same_as");
    let relationships = "SELECT id::text, source_id::text, target_id::text, version, \
                         deleted_at IS NOT NULL AS deleted FROM relationships ORDER BY id";
    let before = app.db.query_json(relationships);

    let refused = merge(&app, &ada, &keep, &json!({"from": [id_of(&dup)]}));
    let detail = conflict_detail(refused);
    assert!(detail.contains("2 live relationships"), "{detail}");
    // Nothing moved or went, hers included; no entity changed; no audit or change rows.
    assert_eq!(app.db.query_json(relationships), before);
    assert_eq!(
        stored(&app, &dup["id"]),
        json!({"name": "Dup", "owner_id": ada.id, "version": 1, "deleted": false})
    );
    assert_eq!(stored(&app, &keep["id"])["version"], 1);
    assert_eq!(
        count(
            &app,
            "SELECT count(*) AS n FROM audit_log WHERE action LIKE 'entity.merge%'"
        ),
        0
    );
    assert_eq!(
        count(&app, "SELECT count(*) AS n FROM changes WHERE op = 'merge'"),
        0
    );

    // Once bob has deleted his, ada's merge goes through and moves her own.
    for id in [&bobs_moving, &bobs_self_loop] {
        let path = format!("/v1/relationships/{id}");
        assert_eq!(app.delete_as(&bob, &path).status(), 204);
    }
    assert_eq!(
        merge(&app, &ada, &keep, &json!({"from": [id_of(&dup)]})).status(),
        200
    );
    let moved = app.db.query_json(&format!(
        "SELECT source_id::text FROM relationships WHERE id = '{hers}'"
    ));
    assert_eq!(moved[0]["source_id"], keep["id"]);

    // An admin may change anyone's relationships, so an admin's merge moves bob's too.
    let dup2 = entity(&app, &ada, "Dup 2");
    let bobs = app.created_relationship(&bob, &other, &dup2, "cites");
    assert_eq!(
        merge(&app, &admin, &keep, &json!({"from": [id_of(&dup2)]})).status(),
        200
    );
    let moved = app.db.query_json(&format!(
        "SELECT target_id::text, deleted_at IS NULL AS live FROM relationships WHERE id = '{bobs}'"
    ));
    assert_eq!(moved, json!([{"target_id": keep["id"], "live": true}]));
}

#[test]
fn merge_answers_a_non_owner_alike_for_missing_deleted_and_merged_ids() {
    let app = app();
    let [ada, bob] = app.users(["ada", "bob"]);
    let mine = entity(&app, &ada, "Mine");
    let b_live = entity(&app, &bob, "B live");
    let b_deleted = entity(&app, &bob, "B deleted");
    let b_merged = entity(&app, &bob, "B merged");
    let path = format!("/v1/entities/{}", id_of(&b_deleted));
    assert_eq!(app.delete_as(&bob, &path).status(), 204);
    let folded = merge(&app, &bob, &b_live, &json!({"from": [id_of(&b_merged)]}));
    assert_eq!(folded.status(), 200);
    let missing = uuid::Uuid::now_v7().to_string();
    let hidden = [id_of(&b_deleted), id_of(&b_merged)];

    // As the entity merged into (the path): the 404 of a missing id, word for word.
    let as_survivor = |id: &str| {
        let resp = merge(
            &app,
            &ada,
            &json!({"id": id}),
            &json!({"from": [id_of(&mine)]}),
        );
        let status = resp.status().as_u16();
        let body = json_body(resp);
        (status, body["detail"].as_str().unwrap().replace(id, "{id}"))
    };
    let expected = as_survivor(&missing);
    assert_eq!(expected.0, 404);
    for id in hidden {
        assert_eq!(as_survivor(id), expected, "{id}");
    }
    // In `from`: the 422 of a missing id.
    let as_from = |id: &str| {
        let resp = merge(&app, &ada, &mine, &json!({"from": [id]}));
        (resp.status().as_u16(), json_body(resp)["errors"].clone())
    };
    let expected = as_from(&missing);
    assert_eq!(
        expected,
        (
            422,
            json!([{"field": "from[0]", "message": "no such entity"}])
        )
    );
    for id in hidden {
        assert_eq!(as_from(id), expected, "{id}");
    }

    // Their owner is told what became of them.
    let into_merged = merge(&app, &bob, &b_merged, &json!({"from": [id_of(&b_live)]}));
    assert!(conflict_detail(into_merged).contains("merged into"));
    let from_deleted = merge(&app, &bob, &b_live, &json!({"from": [id_of(&b_deleted)]}));
    assert_eq!(from_deleted.status(), 422);
    assert_eq!(
        json_body(from_deleted)["errors"],
        json!([{"field": "from[0]", "message": "is deleted"}])
    );
}
