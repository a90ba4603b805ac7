//! Relationships and graph walks end to end (issue 6), against the real host under the
//! released-Spin compatibility mode: every query must return a row and no timestamptz column.
//!
//! Callers are users inserted straight into the test database with access tokens signed by the
//! harness's key (what `auth` would issue); large graphs are seeded through SQL.

use std::collections::HashSet;
use std::thread;

use spingraph_e2e::{
    Response, TestApp, TestOptions, Value, actions, assert_query_rejected, error_fields, header,
    json, json_body,
};
use spingraph_identity::Role;
use uuid::Uuid;

/// A user of the running app and a bearer token for it.
struct Actor {
    id: Uuid,
    token: String,
}

fn actor(app: &TestApp, role: Role) -> Actor {
    let id = Uuid::now_v7();
    let email = format!("{}@e2e.test", id.simple());
    app.db.execute(&format!(
        "INSERT INTO users (id, email, password_hash, role) VALUES ('{id}', '{email}', 'not-a-hash', '{role}')"
    ));
    Actor {
        id,
        token: app.access_token(id, &email, role, |_| {}),
    }
}

struct World {
    app: TestApp,
    user: Actor,
    admin: Actor,
}

fn world() -> World {
    let app = TestApp::start(TestOptions::default());
    let user = actor(&app, Role::User);
    let admin = actor(&app, Role::Admin);
    World { app, user, admin }
}

impl World {
    fn get(&self, who: &Actor, path: &str) -> Response {
        self.app.get_as(&who.token, path)
    }

    fn post(&self, who: &Actor, path: &str, body: &Value) -> Response {
        self.app.post_as(&who.token, path, body)
    }

    fn delete(&self, who: &Actor, path: &str) -> Response {
        self.app.delete_as(&who.token, path)
    }

    /// Entities A and B and a `knows` relationship from A to B made through the API: the
    /// entities' ids and the relationship's.
    fn a_knows_b(&self) -> (Vec<String>, String) {
        let e = self.entities(&["A", "B"]);
        let rel = self.relate(&e[0], &e[1], "knows");
        (e, rel["id"].as_str().unwrap().to_string())
    }

    /// [`World::a_knows_b`], the relationship then soft-deleted by the user.
    fn a_knew_b(&self) -> (Vec<String>, String) {
        let (e, id) = self.a_knows_b();
        let resp = self.delete(&self.user, &format!("/v1/relationships/{id}"));
        assert_eq!(resp.status(), 204);
        (e, id)
    }

    /// `POST /v1/relationships` with `body` as the user.
    fn create(&self, body: &Value) -> Response {
        self.post(&self.user, "/v1/relationships", body)
    }

    /// Entities owned by the user, inserted through SQL; their ids in order.
    fn entities(&self, names: &[&str]) -> Vec<String> {
        let ids: Vec<String> = names.iter().map(|_| Uuid::now_v7().to_string()).collect();
        let values: Vec<String> = ids
            .iter()
            .zip(names)
            .map(|(id, name)| format!("('{id}', 'node', '{name}', '{}')", self.user.id))
            .collect();
        self.app.db.execute(&format!(
            "INSERT INTO entities (id, type, name, owner_id) VALUES {}",
            values.join(", ")
        ));
        ids
    }

    /// Relationships created by the user, inserted through SQL.
    fn edges(&self, kind: &str, pairs: &[(&str, &str)]) {
        let values: Vec<String> = pairs
            .iter()
            .map(|(s, t)| {
                format!(
                    "('{}', '{s}', '{t}', '{kind}', '{}')",
                    Uuid::now_v7(),
                    self.user.id
                )
            })
            .collect();
        self.app.db.execute(&format!(
            "INSERT INTO relationships (id, source_id, target_id, type, created_by) VALUES {}",
            values.join(", ")
        ));
    }

    /// Create a relationship through the API; its body.
    fn relate(&self, source: &str, target: &str, kind: &str) -> Value {
        let resp = self.create(&json!({"source_id": source, "target_id": target, "type": kind}));
        assert_eq!(resp.status(), 201, "{}", resp.text().unwrap_or_default());
        json_body(resp)
    }
}

fn ids(list: &Value) -> Vec<String> {
    list.as_array()
        .expect("an array")
        .iter()
        .map(|item| item["id"].as_str().expect("an id").to_string())
        .collect()
}

fn is_rfc3339_utc(v: &Value) -> bool {
    v.as_str().is_some_and(|s| {
        s.len() >= 20 && s.ends_with('Z') && s.as_bytes()[10] == b'T' && s.as_bytes()[4] == b'-'
    })
}

// ---------------------------------------------------------------- Must show 1

#[test]
fn relationship_to_missing_or_deleted_entity_or_itself_is_422_and_a_duplicate_is_409() {
    let w = world();
    let e = w.entities(&["a", "b", "gone"]);
    w.app.db.execute(&format!(
        "UPDATE entities SET deleted_at = now(), deleted_by = '{}' WHERE id = '{}'",
        w.user.id, e[2]
    ));

    let missing = Uuid::now_v7().to_string();
    let knows = |source: &str, target: &str| {
        w.create(&json!({"source_id": source, "target_id": target, "type": "knows"}))
    };
    for (source, target, field, what) in [
        (&e[0], &missing, "target_id", "missing target"),
        (&missing, &e[0], "source_id", "missing source"),
        (&e[0], &e[2], "target_id", "soft-deleted target"),
    ] {
        let resp = knows(source, target);
        assert_eq!(resp.status(), 422, "{what}");
        assert_eq!(error_fields(&json_body(resp)), vec![field], "{what}");
    }

    let resp = knows(&e[0], &e[0]);
    assert_eq!(resp.status(), 422, "self-loop");
    assert_eq!(header(&resp, "content-type"), "application/problem+json");

    let first = knows(&e[0], &e[1]);
    assert_eq!(first.status(), 201);
    let second = knows(&e[0], &e[1]);
    assert_eq!(second.status(), 409);
    assert_eq!(json_body(second)["status"], 409);

    // the same pair with another type is a different relationship
    let other = w.create(&json!({"source_id": e[0], "target_id": e[1], "type": "likes"}));
    assert_eq!(other.status(), 201);
    assert_eq!(
        w.app
            .db
            .query_json("SELECT id FROM relationships")
            .as_array()
            .unwrap()
            .len(),
        2,
        "failed creates left no rows"
    );
}

#[test]
fn created_relationship_has_location_etag_and_rfc3339_timestamps() {
    let w = world();
    let e = w.entities(&["a", "b"]);
    let resp = w.create(
        &json!({"source_id": e[0], "target_id": e[1], "type": "knows",
                "confidence": 0.25, "metadata": {"source": "crm"}}),
    );
    assert_eq!(resp.status(), 201);
    let location = resp.headers()["location"].to_str().unwrap().to_string();
    let etag = resp.headers()["etag"].to_str().unwrap().to_string();
    let rel = json_body(resp);
    let id = rel["id"].as_str().unwrap();
    assert_eq!(location, format!("/v1/relationships/{id}"));
    assert_eq!(Uuid::parse_str(id).unwrap().get_version_num(), 7);
    assert_eq!(etag, format!("\"{id}.1\""));
    assert_eq!(rel["source_id"], e[0].as_str());
    assert_eq!(rel["target_id"], e[1].as_str());
    assert_eq!(rel["type"], "knows");
    assert_eq!(rel["confidence"], 0.25);
    assert_eq!(rel["metadata"], json!({"source": "crm"}));
    assert_eq!(rel["created_by"], w.user.id.to_string());
    assert_eq!(rel["version"], 1);
    assert!(is_rfc3339_utc(&rel["created_at"]), "{rel}");
    assert!(is_rfc3339_utc(&rel["updated_at"]), "{rel}");
    assert!(rel.get("deleted_at").is_none());

    let got = w.get(&w.user, &location);
    assert_eq!(got.status(), 200);
    assert_eq!(got.headers()["etag"].to_str().unwrap(), etag);
    assert_eq!(json_body(got), rel);
}

#[test]
fn invalid_bodies_are_422_naming_each_field() {
    let w = world();
    let e = w.entities(&["a", "b"]);
    let resp = w.create(
        &json!({"source_id": "not-a-uuid", "target_id": e[1], "type": "",
                "confidence": 1.5, "metadata": {"k": "nul\u{0}"}, "colour": "red"}),
    );
    assert_eq!(resp.status(), 422);
    let fields = error_fields(&json_body(resp));
    for f in ["source_id", "type", "confidence", "metadata.k", "colour"] {
        assert!(
            fields.contains(&f.to_string()),
            "{f} missing from {fields:?}"
        );
    }
    let resp = w.app.send_as(
        &w.user.token,
        w.app
            .post("/v1/relationships")
            .header("content-type", "application/json")
            .body("{not json"),
    );
    assert_eq!(resp.status(), 400);
}

// ---------------------------------------------------------------- Must show 2

#[test]
fn neighbors_at_depth_3_terminates_on_a_cycle_and_a_2000_edge_hub_returning_each_node_once() {
    let w = world();
    let e = w.entities(&["A", "B", "C", "H"]);
    let (a, b, c, h) = (&e[0], &e[1], &e[2], &e[3]);
    w.edges("cycle", &[(a, b), (b, c), (c, a)]);
    w.edges("hub", &[(a, h)]);
    // 2,000 leaves around H, linked both ways (so `both` walks meet every leaf twice)
    w.app.db.execute(&format!(
        "WITH leaves AS (INSERT INTO entities (id, type, name, owner_id) \
           SELECT uuid_generate_v7(), 'leaf', 'leaf ' || g, '{u}' FROM generate_series(1, 2000) g RETURNING id) \
         INSERT INTO relationships (id, source_id, target_id, type, created_by) \
           SELECT uuid_generate_v7(), '{h}'::uuid, id, 'spoke'::text, '{u}'::uuid FROM leaves \
           UNION ALL SELECT uuid_generate_v7(), id, '{h}'::uuid, 'back'::text, '{u}'::uuid FROM leaves",
        u = w.user.id
    ));

    // the cycle alone: each of A, B, C once, at their BFS depth
    let resp = w.get(
        &w.user,
        &format!("/v1/graph/neighbors/{a}?depth=3&direction=out&type=cycle"),
    );
    assert_eq!(resp.status(), 200);
    let g = json_body(resp);
    let depths: Vec<(String, i64)> = g["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| {
            (
                n["id"].as_str().unwrap().to_string(),
                n["depth"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(depths, vec![(a.clone(), 0), (b.clone(), 1), (c.clone(), 2)]);
    assert_eq!(g["edges"].as_array().unwrap().len(), 3);
    assert_eq!(g["truncated"], false);

    // through the hub, both directions, depth 3: bounded by the limit, no node twice
    for limit in [50usize, 1000] {
        let resp = w.get(
            &w.user,
            &format!("/v1/graph/neighbors/{a}?depth=3&direction=both&limit={limit}"),
        );
        assert_eq!(resp.status(), 200);
        let g = json_body(resp);
        let nodes = ids(&g["nodes"]);
        assert_eq!(nodes.len(), limit, "limit {limit}");
        assert_eq!(nodes.iter().collect::<HashSet<_>>().len(), nodes.len());
        assert_eq!(nodes[0], *a, "the start node comes first");
        assert_eq!(g["truncated"], true);
        let depths: Vec<i64> = g["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| n["depth"].as_i64().unwrap())
            .collect();
        assert!(depths.windows(2).all(|p| p[0] <= p[1]), "nearest first");
        assert!(depths.iter().all(|d| *d <= 3));
        let kept: HashSet<&String> = nodes.iter().collect();
        for edge in g["edges"].as_array().unwrap() {
            assert!(kept.contains(&edge["source_id"].as_str().unwrap().to_string()));
            assert!(kept.contains(&edge["target_id"].as_str().unwrap().to_string()));
        }
    }

    // the whole neighbourhood fits: A, B, C, H and the 2,000 leaves, each once
    let resp = w.get(
        &w.user,
        &format!("/v1/graph/neighbors/{h}?depth=3&limit=1000"),
    );
    assert_eq!(resp.status(), 200);
    let resp = w.get(
        &w.user,
        &format!("/v1/graph/neighbors/{a}?depth=2&direction=out"),
    );
    let g = json_body(resp);
    assert_eq!(ids(&g["nodes"]).len(), 100, "default limit is 100");
}

#[test]
fn neighbors_rejects_out_of_range_parameters_and_unknown_entities() {
    let w = world();
    let e = w.entities(&["A"]);
    for query in [
        "depth=0",
        "depth=4",
        "direction=sideways",
        "direction=",
        "limit=0",
        "limit=1001",
    ] {
        let resp = w.get(&w.user, &format!("/v1/graph/neighbors/{}?{query}", e[0]));
        assert_eq!(resp.status(), 422, "{query}");
    }
    let resp = w.get(&w.user, &format!("/v1/graph/neighbors/{}", Uuid::now_v7()));
    assert_eq!(resp.status(), 404);
    let resp = w.get(&w.user, &format!("/v1/graph/neighbors/{}", e[0]));
    assert_eq!(resp.status(), 200);
    let g = json_body(resp);
    assert_eq!(ids(&g["nodes"]), vec![e[0].clone()]);
    assert_eq!(g["edges"], json!([]));
}

// ---------------------------------------------------------------- Must show 3

#[test]
fn path_is_the_shortest_one_unreachable_is_404_and_max_depth_7_is_422() {
    let w = world();
    let e = w.entities(&["A", "B", "C", "D", "E", "X", "F"]);
    let [a, b, c, d, x_e, x, f] = [&e[0], &e[1], &e[2], &e[3], &e[4], &e[5], &e[6]];
    // long way A→B→C→D→E, short way A→X→E, a cycle B→C→B, and F pointing into the graph only
    w.edges(
        "r",
        &[
            (a, b),
            (b, c),
            (c, d),
            (d, x_e),
            (a, x),
            (x, x_e),
            (c, b),
            (f, a),
        ],
    );

    let path = |query: &str| w.get(&w.user, &format!("/v1/graph/path?{query}"));
    let resp = path(&format!("from={a}&to={x_e}"));
    assert_eq!(resp.status(), 200);
    let p = json_body(resp);
    assert_eq!(ids(&p["nodes"]), vec![a.clone(), x.clone(), x_e.clone()]);
    assert_eq!(p["length"], 2);
    let edges = p["edges"].as_array().unwrap();
    assert_eq!(edges.len(), 2);
    let hops: Vec<(&str, &str)> = edges
        .iter()
        .map(|e| {
            (
                e["source_id"].as_str().unwrap(),
                e["target_id"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        hops,
        vec![(a.as_str(), x.as_str()), (x.as_str(), x_e.as_str())]
    );

    // ... walked against the arrows E reaches A
    let resp = path(&format!("from={x_e}&to={a}&direction=both"));
    assert_eq!(resp.status(), 200);
    assert_eq!(json_body(resp)["length"], 2);
    let resp = path(&format!("from={a}&to={x_e}&max_depth=7"));
    assert_eq!(resp.status(), 422);
    assert_eq!(error_fields(&json_body(resp)), vec!["max_depth"]);
    for (query, status, why) in [
        (
            format!("from={x_e}&to={a}"),
            404,
            "E reaches nothing along the relationships",
        ),
        (format!("from={a}&to={f}"), 404, "F is unreachable from A"),
        (
            format!("from={a}&to={x_e}&max_depth=1"),
            404,
            "the shortest path needs 2",
        ),
        (
            format!("from={a}&to={d}&max_depth=3"),
            200,
            "A reaches D in 3",
        ),
        (
            format!("from={a}&to={x_e}&max_depth=0"),
            422,
            "max_depth below 1",
        ),
        (format!("from={a}"), 422, "no `to`"),
        (
            format!("from={a}&to={}", Uuid::now_v7()),
            404,
            "an unknown `to`",
        ),
    ] {
        assert_eq!(path(&query).status(), status, "{why}: {query}");
    }
}

// ---------------------------------------------------------------- Must show 4

#[test]
fn soft_deleting_an_entity_hides_its_relationships_everywhere_and_restoring_brings_them_back() {
    let w = world();
    let e = w.entities(&["A", "B", "C"]);
    let (a, b, c) = (&e[0], &e[1], &e[2]);
    let ab = w.relate(a, b, "knows");
    let bc = w.relate(b, c, "knows");
    let ab_id = ab["id"].as_str().unwrap();

    let visible = |expect: bool| {
        let list = json_body(w.get(&w.user, "/v1/relationships"));
        assert_eq!(
            list["items"].as_array().unwrap().len(),
            if expect { 2 } else { 0 }
        );
        let by_entity = json_body(w.get(&w.user, &format!("/v1/relationships?entity_id={b}")));
        assert_eq!(
            by_entity["items"].as_array().unwrap().len(),
            if expect { 2 } else { 0 }
        );
        let by_source = json_body(w.get(&w.user, &format!("/v1/relationships?source_id={a}")));
        assert_eq!(
            by_source["items"].as_array().unwrap().len(),
            if expect { 1 } else { 0 }
        );
        let one = w.get(&w.user, &format!("/v1/relationships/{ab_id}"));
        assert_eq!(one.status(), if expect { 200 } else { 404 });
        let g = json_body(w.get(&w.user, &format!("/v1/graph/neighbors/{a}?depth=3")));
        assert_eq!(ids(&g["nodes"]).len(), if expect { 3 } else { 1 });
        assert_eq!(
            g["edges"].as_array().unwrap().len(),
            if expect { 2 } else { 0 }
        );
        let path = w.get(&w.user, &format!("/v1/graph/path?from={a}&to={c}"));
        assert_eq!(path.status(), if expect { 200 } else { 404 });
    };
    visible(true);

    let resp = w.delete(&w.user, &format!("/v1/entities/{b}"));
    assert_eq!(resp.status(), 204, "{}", resp.text().unwrap_or_default());
    visible(false);
    // a relationship to the deleted entity cannot be created either
    let resp = w.post(
        &w.user,
        "/v1/relationships",
        &json!({"source_id": c, "target_id": b, "type": "knows"}),
    );
    assert_eq!(resp.status(), 422);

    let resp = w.post(&w.admin, &format!("/v1/entities/{b}/restore"), &json!({}));
    assert_eq!(resp.status(), 200, "{}", resp.text().unwrap_or_default());
    visible(true);
    let again = json_body(w.get(
        &w.user,
        &format!("/v1/relationships/{}", bc["id"].as_str().unwrap()),
    ));
    assert_eq!(again, bc, "untouched by the entity's delete and restore");
}

// ---------------------------------------------------------------- Must show 5

#[test]
fn twenty_parallel_creates_of_the_same_relationship_yield_one_201_and_nineteen_409s() {
    let w = world();
    let e = w.entities(&["A", "B"]);
    let body = json!({"source_id": e[0], "target_id": e[1], "type": "same"});
    let url = w.app.url("/v1/relationships");
    let statuses: Vec<u16> = thread::scope(|s| {
        let handles: Vec<_> = (0..20)
            .map(|_| {
                let client = w.app.client().clone();
                let (url, body, token) = (url.clone(), body.clone(), w.user.token.clone());
                s.spawn(move || {
                    client
                        .post(url)
                        .bearer_auth(token)
                        .json(&body)
                        .send()
                        .expect("POST")
                        .status()
                        .as_u16()
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert_eq!(
        statuses.iter().filter(|s| **s == 201).count(),
        1,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|s| **s == 409).count(),
        19,
        "{statuses:?}"
    );
    let rows = w
        .app
        .db
        .query_json("SELECT id FROM relationships WHERE deleted_at IS NULL");
    assert_eq!(rows.as_array().unwrap().len(), 1);
}

// ---------------------------------------------------------------- CRUD rules as for entities

#[test]
fn if_none_match_is_304_and_a_stale_if_match_is_412() {
    let w = world();
    let (e, id) = w.a_knows_b();
    let path = format!("/v1/relationships/{id}");
    let etag = w.get(&w.user, &path).headers()["etag"]
        .to_str()
        .unwrap()
        .to_string();

    let as_user = |rb| w.app.send_as(&w.user.token, rb);
    let resp = as_user(w.app.get(&path).header("if-none-match", &etag));
    assert_eq!(resp.status(), 304);

    let patch = |if_match: &str, body: Value| {
        as_user(
            w.app
                .patch(&path)
                .header("content-type", "application/merge-patch+json")
                .header("if-match", if_match)
                .body(body.to_string()),
        )
    };
    let resp = patch(
        &etag,
        json!({"confidence": 0.5, "metadata": {"a": {"b": 1}}}),
    );
    assert_eq!(resp.status(), 200);
    let new_etag = resp.headers()["etag"].to_str().unwrap().to_string();
    let updated = json_body(resp);
    assert_eq!(updated["version"], 2);
    assert_eq!(updated["confidence"], 0.5);
    assert_eq!(updated["type"], "knows");
    assert_ne!(new_etag, etag);

    // merge patch: null removes a metadata key
    let resp = patch(&new_etag, json!({"metadata": {"a": {"b": null, "c": 2}}}));
    assert_eq!(resp.status(), 200);
    assert_eq!(json_body(resp)["metadata"], json!({"a": {"c": 2}}));

    let resp = patch(&etag, json!({"confidence": 0.1}));
    assert_eq!(resp.status(), 412);
    let resp = patch("*", json!({"source_id": e[1]}));
    assert_eq!(resp.status(), 422);
    // Invalid content is refused whatever the precondition says (schemathesis ST201).
    let resp = patch(&etag, json!({"metadata": false}));
    assert_eq!(resp.status(), 422, "invalid patch with a stale If-Match");

    let resp = as_user(w.app.delete(&path).header("if-match", &etag));
    assert_eq!(resp.status(), 412, "stale If-Match on delete");
}

#[test]
fn list_filters_by_end_and_type_and_pages_through_every_relationship_once() {
    let w = world();
    let e = w.entities(&["hub", "x", "y"]);
    let hub = &e[0];
    let targets = w.entities(&["t"; 25]);
    for t in &targets {
        w.relate(hub, t, "links");
    }
    w.relate(&e[1], hub, "points");
    w.relate(&e[1], &e[2], "points");

    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut path = format!("/v1/relationships?source_id={hub}&limit=10");
        if let Some(c) = &cursor {
            path.push_str(&format!("&cursor={c}"));
        }
        let page = json_body(w.get(&w.user, &path));
        seen.extend(ids(&page["items"]));
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => break,
        }
    }
    assert_eq!(seen.len(), 25);
    assert_eq!(seen.iter().collect::<HashSet<_>>().len(), 25);

    let page = json_body(w.get(&w.user, &format!("/v1/relationships?target_id={hub}")));
    assert_eq!(page["items"].as_array().unwrap().len(), 1);
    let page = json_body(w.get(
        &w.user,
        &format!("/v1/relationships?entity_id={hub}&limit=200"),
    ));
    assert_eq!(page["items"].as_array().unwrap().len(), 26);
    let page = json_body(w.get(&w.user, "/v1/relationships?type=points"));
    assert_eq!(page["items"].as_array().unwrap().len(), 2);

    let empty = json_body(w.get(
        &w.user,
        &format!("/v1/relationships?entity_id={}", Uuid::now_v7()),
    ));
    assert_eq!(empty, json!({"items": [], "next_cursor": null}));
    assert_eq!(
        w.get(&w.user, "/v1/relationships?source_id=nope").status(),
        400
    );
    assert_eq!(w.get(&w.user, "/v1/relationships?limit=201").status(), 400);
}

#[test]
fn only_the_creator_or_an_admin_changes_a_relationship_and_only_admins_hard_delete_or_restore() {
    let w = world();
    let other = actor(&w.app, Role::User);
    let (_, id) = w.a_knows_b();
    let path = format!("/v1/relationships/{id}");

    assert_eq!(w.get(&other, &path).status(), 200, "anyone reads");
    assert_eq!(w.delete(&other, &path).status(), 403);
    assert_eq!(
        w.delete(&w.user, &format!("{path}?hard=true")).status(),
        403
    );

    assert_eq!(w.delete(&w.user, &path).status(), 204);
    assert_eq!(w.get(&w.user, &path).status(), 404);
    assert_eq!(
        w.get(&w.user, &format!("{path}?include_deleted=true"))
            .status(),
        403
    );
    let deleted = json_body(w.get(&w.admin, &format!("{path}?include_deleted=true")));
    assert!(is_rfc3339_utc(&deleted["deleted_at"]), "{deleted}");
    assert_eq!(deleted["deleted_by"], w.user.id.to_string());

    assert_eq!(
        w.post(&w.user, &format!("{path}/restore"), &json!({}))
            .status(),
        403
    );
    let resp = w.post(&w.admin, &format!("{path}/restore"), &json!({}));
    assert_eq!(resp.status(), 200);
    assert!(json_body(resp).get("deleted_at").is_none());
    assert_eq!(
        w.post(&w.admin, &format!("{path}/restore"), &json!({}))
            .status(),
        409
    );
    assert_eq!(w.get(&w.user, &path).status(), 200);

    assert_eq!(
        w.delete(&w.admin, &format!("{path}?hard=true")).status(),
        204
    );
    assert_eq!(
        w.get(&w.admin, &format!("{path}?include_deleted=true"))
            .status(),
        404
    );
    assert_eq!(w.delete(&w.admin, &path).status(), 404);
}

#[test]
fn boolean_flags_take_true_false_1_or_0_and_yes_or_empty_is_400_naming_them() {
    let w = world();
    let (_, id) = w.a_knew_b();
    let path = format!("/v1/relationships/{id}");

    // An empty value used to mean `true` here: now it is rejected, like any other spelling.
    for bad in ["yes", "", "no"] {
        assert_query_rejected(
            w.get(
                &w.admin,
                &format!("/v1/relationships?include_deleted={bad}"),
            ),
            "include_deleted",
            &format!("list with include_deleted={bad:?}"),
        );
        assert_query_rejected(
            w.get(&w.admin, &format!("{path}?include_deleted={bad}")),
            "include_deleted",
            &format!("get with include_deleted={bad:?}"),
        );
        assert_query_rejected(
            w.delete(&w.admin, &format!("{path}?hard={bad}")),
            "hard",
            &format!("delete with hard={bad:?}"),
        );
    }
    assert_query_rejected(
        w.get(&w.admin, &format!("{path}?include_deleted")),
        "include_deleted",
        "bare include_deleted",
    );
    let still_there = w
        .app
        .db
        .query_json(&format!("SELECT id FROM relationships WHERE id = '{id}'"));
    assert_eq!(
        still_there.as_array().unwrap().len(),
        1,
        "a rejected hard delete deletes nothing"
    );

    for yes in ["true", "1", "True"] {
        let listed = json_body(w.get(
            &w.admin,
            &format!("/v1/relationships?include_deleted={yes}"),
        ));
        assert!(
            ids(&listed["items"]).contains(&id),
            "include_deleted={yes} lists the deleted relationship: {listed}"
        );
        let resp = w.get(&w.admin, &format!("{path}?include_deleted={yes}"));
        assert_eq!(resp.status(), 200, "include_deleted={yes}");
        assert!(is_rfc3339_utc(&json_body(resp)["deleted_at"]));
    }
    for no in ["false", "0"] {
        let listed = json_body(w.get(&w.admin, &format!("/v1/relationships?include_deleted={no}")));
        assert!(
            !ids(&listed["items"]).contains(&id),
            "include_deleted={no} hides the deleted relationship: {listed}"
        );
        assert_eq!(
            w.get(&w.admin, &format!("{path}?include_deleted={no}"))
                .status(),
            404
        );
    }
    assert_eq!(w.delete(&w.admin, &format!("{path}?hard=1")).status(), 204);
    assert_eq!(
        w.get(&w.admin, &format!("{path}?include_deleted=1"))
            .status(),
        404
    );
}

#[test]
fn restoring_a_relationship_whose_duplicate_is_active_is_409() {
    let w = world();
    let (e, first) = w.a_knew_b();
    let path = format!("/v1/relationships/{first}");
    // the pair is free again once the first is deleted
    w.relate(&e[0], &e[1], "knows");
    let resp = w.post(&w.admin, &format!("{path}/restore"), &json!({}));
    assert_eq!(resp.status(), 409);
}

#[test]
fn every_mutation_writes_an_audit_row_with_actor_and_request_id() {
    let w = world();
    let e = w.entities(&["A", "B"]);
    let resp = w
        .app
        .post_json(
            "/v1/relationships",
            &json!({"source_id": e[0], "target_id": e[1], "type": "knows"}),
        )
        .bearer_auth(&w.user.token)
        .header("x-request-id", "audit-create-1")
        .send()
        .unwrap();
    assert_eq!(resp.status(), 201);
    let id = json_body(resp)["id"].as_str().unwrap().to_string();
    let path = format!("/v1/relationships/{id}");
    let resp = w
        .app
        .patch(&path)
        .bearer_auth(&w.user.token)
        .json(&json!({"confidence": 0.3}))
        .send()
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(w.delete(&w.user, &path).status(), 204);
    assert_eq!(
        w.post(&w.admin, &format!("{path}/restore"), &json!({}))
            .status(),
        200
    );
    assert_eq!(
        w.delete(&w.admin, &format!("{path}?hard=true")).status(),
        204
    );

    let rows = w.app.db.query_json(&format!(
        "SELECT action, actor_id::text AS actor, request_id FROM audit_log \
         WHERE resource_type = 'relationship' AND resource_id = '{id}' ORDER BY at, id"
    ));
    assert_eq!(
        actions(&rows),
        vec![
            "relationship.create",
            "relationship.update",
            "relationship.delete",
            "relationship.restore",
            "relationship.hard_delete"
        ]
    );
    assert_eq!(rows[0]["request_id"], "audit-create-1");
    assert_eq!(rows[0]["actor"], w.user.id.to_string());
    assert_eq!(rows[4]["actor"], w.admin.id.to_string());
}

#[test]
fn missing_relationship_is_a_prompt_404_and_unauthenticated_calls_are_401() {
    let w = world();
    let resp = w.get(&w.user, &format!("/v1/relationships/{}", Uuid::now_v7()));
    assert_eq!(resp.status(), 404);
    assert_eq!(json_body(resp)["status"], 404);
    assert_eq!(w.get(&w.user, "/v1/relationships/not-a-uuid").status(), 404);
    let empty = json_body(w.get(&w.user, "/v1/relationships"));
    assert_eq!(empty, json!({"items": [], "next_cursor": null}));
    assert_eq!(w.app.get("/v1/relationships").send().unwrap().status(), 401);
    assert_eq!(w.app.get("/v1/graph/path").send().unwrap().status(), 401);
    let resp = w
        .app
        .client()
        .put(w.app.url("/v1/relationships"))
        .bearer_auth(&w.user.token)
        .send()
        .unwrap();
    assert_eq!(resp.status(), 405);
    assert!(resp.headers().contains_key("allow"));
    let limited = w.get(&w.user, "/v1/relationships");
    assert!(limited.headers().contains_key("ratelimit-limit"));
}

#[test]
fn api_keys_need_the_relationships_scopes() {
    let w = world();
    let e = w.entities(&["A", "B"]);
    let key = |scopes: &[&str]| {
        let created = w.app.create_api_key(&w.user.token, "e2e", scopes);
        created["key"].as_str().unwrap().to_string()
    };
    let create = |key: &str| {
        w.app
            .post_json(
                "/v1/relationships",
                &json!({"source_id": e[0], "target_id": e[1], "type": "knows"}),
            )
            .header("x-api-key", key)
            .send()
            .unwrap()
            .status()
    };
    let read = |key: &str, path: &str| {
        w.app
            .get(path)
            .header("x-api-key", key)
            .send()
            .unwrap()
            .status()
    };
    let neighbors = format!("/v1/graph/neighbors/{}", e[0]);

    let entities_only = key(&["entities:read", "entities:write"]);
    assert_eq!(read(&entities_only, "/v1/relationships"), 403);
    assert_eq!(read(&entities_only, &neighbors), 403);
    assert_eq!(create(&entities_only), 403);

    let reader = key(&["relationships:read"]);
    assert_eq!(read(&reader, "/v1/relationships"), 200);
    assert_eq!(read(&reader, &neighbors), 200);
    assert_eq!(create(&reader), 403);

    let writer = key(&["relationships:write"]);
    assert_eq!(create(&writer), 201);
    assert_eq!(read(&writer, "/v1/relationships"), 200);
}

#[test]
fn graph_walks_show_entity_documents_only_to_credentials_that_may_read_entities() {
    let w = world();
    let e = w.entities(&["A", "B"]);
    w.app.db.execute(&format!(
        "UPDATE entities SET metadata = '{{\"secret\": \"s3\"}}', external_id = 'crm-{}' WHERE id = '{}'",
        e[1], e[1]
    ));
    w.relate(&e[0], &e[1], "knows");
    let key = |scopes: &[&str]| {
        let created = w.app.create_api_key(&w.user.token, "e2e", scopes);
        created["key"].as_str().unwrap().to_string()
    };
    let walk = |key: &str, path: &str| {
        let resp = w.app.get(path).header("x-api-key", key).send().unwrap();
        assert_eq!(resp.status(), 200, "{path}");
        json_body(resp)
    };
    let neighbors = format!("/v1/graph/neighbors/{}", e[0]);
    let path = format!("/v1/graph/path?from={}&to={}", e[0], e[1]);

    // `relationships:read` alone: the walk's shape, each node its id, type and depth only.
    let reader = key(&["relationships:read"]);
    for answer in [walk(&reader, &neighbors), walk(&reader, &path)] {
        let nodes = answer["nodes"].as_array().unwrap();
        assert_eq!(nodes.len(), 2, "{answer}");
        for (node, depth) in nodes.iter().zip([0, 1]) {
            let keys: HashSet<&str> = node
                .as_object()
                .unwrap()
                .keys()
                .map(String::as_str)
                .collect();
            assert_eq!(keys, HashSet::from(["id", "type", "depth"]), "{node}");
            assert_eq!(node["type"], "node");
            assert_eq!(node["depth"], depth);
        }
        assert_eq!(ids(&answer["nodes"]), vec![e[0].clone(), e[1].clone()]);
        assert_eq!(
            answer["edges"][0]["type"], "knows",
            "edges are the key's to read"
        );
        assert!(!answer.to_string().contains("s3"), "{answer}");
    }

    // With `entities:read` too, and for a person's token: whole entity documents.
    let both = key(&["relationships:read", "entities:read"]);
    for answer in [
        walk(&both, &neighbors),
        walk(&both, &path),
        json_body(w.get(&w.user, &neighbors)),
    ] {
        let b = &answer["nodes"][1];
        assert_eq!(b["name"], "B", "{answer}");
        assert_eq!(b["metadata"]["secret"], "s3");
        assert_eq!(b["owner_id"], w.user.id.to_string());
        assert_eq!(b["external_id"], format!("crm-{}", e[1]));
    }
}
