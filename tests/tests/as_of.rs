//! As-of reads end to end (issue 29, item 1): `as_of=<instant>` on entity and relationship reads
//! and lists, graph walks and the export answers what the graph said then, across updates, a
//! soft delete (which hides the entity's relationships), a restore, a merge and its unmerge, and
//! a hard delete; an instant outside the history is a 422 naming `as_of`.

use spingraph_e2e::{
    Caller, TestApp, TestOptions, Value, assert_problem, assert_query_rejected, error_fields,
    header, json, json_body,
};

fn app() -> TestApp {
    TestApp::start(TestOptions::signing_in_freely(&[]))
}

fn at(path: &str, t: &str) -> String {
    let sep = if path.contains('?') { '&' } else { '?' };
    format!("{path}{sep}as_of={t}")
}

/// `GET path` as of `t`: the status and the JSON body (`null` when there is none).
fn read(app: &TestApp, who: &Caller, path: &str, t: &str) -> (u16, Value) {
    let resp = app.get_as(who, &at(path, t));
    let status = resp.status().as_u16();
    (
        status,
        serde_json::from_str(&resp.text().unwrap()).unwrap_or(Value::Null),
    )
}

/// `key` of each of `field`'s items of what `path` answers at `t` (as JSON text), sorted; no
/// nodes when a walk's start is missing (404).
fn collect(
    app: &TestApp,
    who: &Caller,
    path: &str,
    t: &str,
    field: &str,
    key: &str,
) -> Vec<String> {
    let (status, out) = read(app, who, path, t);
    if status == 404 && field == "nodes" {
        return Vec::new();
    }
    assert_eq!(status, 200, "{path}: {out}");
    sorted(
        out[field]
            .as_array()
            .unwrap()
            .iter()
            .map(|item| item[key].to_string())
            .collect(),
    )
}

/// The names of the entities a list answers, sorted.
fn names(app: &TestApp, who: &Caller, t: &str) -> Vec<String> {
    let quoted = collect(app, who, "/v1/entities?limit=200", t, "items", "name");
    quoted
        .iter()
        .map(|n| n.trim_matches('"').to_string())
        .collect()
}

/// The ids of the relationships a list answers.
fn edges(app: &TestApp, who: &Caller, t: &str) -> Vec<String> {
    collect(app, who, "/v1/relationships?limit=200", t, "items", "id")
}

/// The node ids of a depth-2 neighbourhood of `id`, sorted (empty when the start is missing).
fn neighbourhood(app: &TestApp, who: &Caller, id: &str, t: &str) -> Vec<String> {
    let path = format!("/v1/graph/neighbors/{id}?depth=2");
    let quoted = collect(app, who, &path, t, "nodes", "id");
    quoted
        .iter()
        .map(|n| n.trim_matches('"').to_string())
        .collect()
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

fn id(v: &Value) -> String {
    v["id"].as_str().unwrap().to_string()
}

#[test]
fn reads_at_each_instant_see_the_graph_of_that_instant() {
    let app = app();
    let admin = app.caller("history-admin", "admin");
    let before_all = app.db.instant();
    let entity = |name: &str| app.created_entity(&admin, &json!({"type": "person", "name": name}));
    let (a, b, c) = (entity("Ada"), entity("Bob"), entity("Cy"));
    let (a_id, b_id, c_id) = (id(&a), id(&b), id(&c));
    let ab = app.created_relationship(&admin, &a, &b, "knows");
    let bc = app.created_relationship(&admin, &b, &c, "knows");
    let t1 = app.db.instant();

    // t2: an update of each kind
    let resp = app.patch_as(
        &admin,
        &format!("/v1/entities/{a_id}"),
        &json!({"name": "Ada L."}),
    );
    assert_eq!(resp.status(), 200);
    let resp = app.patch_as(
        &admin,
        &format!("/v1/relationships/{ab}"),
        &json!({"confidence": 0.5}),
    );
    assert_eq!(resp.status(), 200);
    let t2 = app.db.instant();

    // t3: Bob soft-deleted, which hides both relationships without touching them
    assert_eq!(
        app.delete_as(&admin, &format!("/v1/entities/{b_id}"))
            .status(),
        204
    );
    let t3 = app.db.instant();

    // t4: Bob restored
    let resp = app.send_as(&admin, app.post(&format!("/v1/entities/{b_id}/restore")));
    assert_eq!(resp.status(), 200);
    let t4 = app.db.instant();

    // t5: Cy merged into Ada: Bob→Cy becomes Bob→Ada; t6: unmerged, Cy back, Bob→Cy again
    let merging = |op: &str| {
        let path = format!("/v1/entities/{a_id}/{op}");
        let resp = app.post_as(&admin, &path, &json!({ "from": [c_id] }));
        assert_eq!(resp.status(), 200, "{path}");
        app.db.instant()
    };
    let t5 = merging("merge");
    let t6 = merging("unmerge");

    // t7: Bob deleted for good, his relationships with him
    let resp = app.delete_as(&admin, &format!("/v1/entities/{b_id}?hard=true"));
    assert_eq!(resp.status(), 204);
    let t7 = app.db.instant();

    let entity_path = |id: &str| format!("/v1/entities/{id}");
    let rel_path = |id: &str| format!("/v1/relationships/{id}");

    // Before anything was written: nothing.
    assert!(names(&app, &admin, &before_all).is_empty());
    assert!(edges(&app, &admin, &before_all).is_empty());
    assert_eq!(read(&app, &admin, &entity_path(&a_id), &before_all).0, 404);

    // t1: as created.
    assert_eq!(names(&app, &admin, &t1), ["Ada", "Bob", "Cy"]);
    let (status, ada) = read(&app, &admin, &entity_path(&a_id), &t1);
    assert_eq!(
        (status, ada["name"].clone(), ada["version"].clone()),
        (200, json!("Ada"), json!(1))
    );
    let (_, r) = read(&app, &admin, &rel_path(&ab), &t1);
    assert_eq!(r["confidence"], 1.0);
    let mut all = vec![a_id.clone(), b_id.clone(), c_id.clone()];
    all.sort();
    assert_eq!(neighbourhood(&app, &admin, &a_id, &t1), all);
    let (status, path) = read(
        &app,
        &admin,
        &format!("/v1/graph/path?from={a_id}&to={c_id}"),
        &t1,
    );
    assert_eq!((status, path["length"].clone()), (200, json!(2)), "{path}");

    // t2: the updates, and an ETag of the version then.
    let resp = app.get_as(&admin, &at(&entity_path(&a_id), &t2));
    assert_eq!(resp.status(), 200);
    let tag_then = header(&resp, "etag");
    let ada = json_body(resp);
    assert_eq!(
        (ada["name"].clone(), ada["version"].clone()),
        (json!("Ada L."), json!(2))
    );
    let (_, r) = read(&app, &admin, &rel_path(&ab), &t2);
    assert_eq!(r["confidence"], 0.5);
    assert_ne!(
        tag_then,
        header(&app.get_as(&admin, &entity_path(&a_id)), "etag")
    );

    // t3: Bob gone and both his relationships hidden, from every read.
    assert_eq!(names(&app, &admin, &t3), ["Ada L.", "Cy"]);
    assert_eq!(read(&app, &admin, &entity_path(&b_id), &t3).0, 404);
    assert!(edges(&app, &admin, &t3).is_empty());
    assert_eq!(read(&app, &admin, &rel_path(&ab), &t3).0, 404);
    assert_eq!(neighbourhood(&app, &admin, &a_id, &t3), vec![a_id.clone()]);
    let (status, _) = read(
        &app,
        &admin,
        &format!("/v1/graph/path?from={a_id}&to={c_id}"),
        &t3,
    );
    assert_eq!(status, 404);

    // t4: restored, relationships visible again.
    assert_eq!(names(&app, &admin, &t4), ["Ada L.", "Bob", "Cy"]);
    assert_eq!(edges(&app, &admin, &t4).len(), 2);

    // t5: Cy merged: a redirect to Ada at the same instant; Bob→Cy is Bob→Ada.
    let resp = app.get_as(&admin, &at(&entity_path(&c_id), &t5));
    assert_eq!(resp.status(), 308);
    assert_eq!(header(&resp, "location"), at(&entity_path(&a_id), &t5));
    assert_eq!(names(&app, &admin, &t5), ["Ada L.", "Bob"]);
    let (_, moved) = read(&app, &admin, &rel_path(&bc), &t5);
    assert_eq!(
        (moved["source_id"].as_str(), moved["target_id"].as_str()),
        (Some(b_id.as_str()), Some(a_id.as_str()))
    );

    // t6: unmerged: as at t4.
    assert_eq!(names(&app, &admin, &t6), ["Ada L.", "Bob", "Cy"]);
    let (_, back) = read(&app, &admin, &rel_path(&bc), &t6);
    assert_eq!(back["target_id"].as_str(), Some(c_id.as_str()));
    assert_eq!(neighbourhood(&app, &admin, &a_id, &t6), all);

    // t7: Bob and his relationships deleted for good; the history before still has them.
    assert_eq!(names(&app, &admin, &t7), ["Ada L.", "Cy"]);
    assert!(edges(&app, &admin, &t7).is_empty());
    assert_eq!(read(&app, &admin, &rel_path(&bc), &t7).0, 404);
    assert_eq!(read(&app, &admin, &entity_path(&b_id), &t6).0, 200);

    // The live reads are what t7 says.
    let live = json_body(app.get_as(&admin, "/v1/entities?limit=200"));
    let mut live_names: Vec<String> = live["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["name"].as_str().unwrap().to_string())
        .collect();
    live_names.sort();
    assert_eq!(live_names, names(&app, &admin, &t7));

    // The export at t1: the graph of t1, the header saying so.
    let resp = app.get_as(&admin, &at("/v1/export", &t1));
    assert_eq!(resp.status(), 200);
    let lines: Vec<Value> = resp
        .text()
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines[0]["as_of"], json!(t1));
    let exported: Vec<String> = sorted(
        lines
            .iter()
            .filter(|l| l["kind"] == "entity")
            .map(|l| l["name"].as_str().unwrap().to_string())
            .collect(),
    );
    assert_eq!(exported, ["Ada", "Bob", "Cy"]);
    assert_eq!(lines.last().unwrap()["relationships"], 2);
}

#[test]
fn re_pointed_entities_are_in_the_history_too() {
    // Cy merged into Bob, then Bob into Ada: Cy names Ada from then on, which the change feed
    // (and so the history) says.
    let app = app();
    let admin = app.caller("history-repoint", "admin");
    let entity =
        |name: &str| id(&app.created_entity(&admin, &json!({"type": "person", "name": name})));
    let (a, b, c) = (entity("Ada"), entity("Bob"), entity("Cy"));
    let merge = |into: &str, from: &str| {
        let resp = app.post_as(
            &admin,
            &format!("/v1/entities/{into}/merge"),
            &json!({"from": [from]}),
        );
        assert_eq!(resp.status(), 200);
    };
    merge(&b, &c);
    let t1 = app.db.instant();
    merge(&a, &b);
    let t2 = app.db.instant();
    let location = |t: &str| {
        let resp = app.get_as(&admin, &at(&format!("/v1/entities/{c}"), t));
        assert_eq!(resp.status(), 308);
        header(&resp, "location")
    };
    assert_eq!(location(&t1), at(&format!("/v1/entities/{b}"), &t1));
    assert_eq!(location(&t2), at(&format!("/v1/entities/{a}"), &t2));
    let feed = app.db.query_json(&format!(
        "SELECT op, document->>'merged_into' AS into FROM changes WHERE resource_id = '{c}' ORDER BY seq"
    ));
    assert_eq!(
        feed,
        json!([
            {"op": "create", "into": null},
            {"op": "merge", "into": b},
            {"op": "merge", "into": a},
        ])
    );
}

#[test]
fn an_instant_outside_the_history_or_malformed_is_refused() {
    let app = TestApp::start(
        TestOptions::signing_in_freely(&[]).variable("history_retention_days", "30"),
    );
    let admin = app.caller("history-limits", "admin");
    let e = id(&app.created_entity(&admin, &json!({"type": "person", "name": "Ada"})));
    let other = id(&app.created_entity(&admin, &json!({"type": "person", "name": "Bob"})));
    let paths = [
        format!("/v1/entities/{e}"),
        "/v1/entities".to_string(),
        "/v1/relationships".to_string(),
        format!("/v1/graph/neighbors/{e}"),
        format!("/v1/graph/path?from={e}&to={other}"),
        "/v1/export".to_string(),
    ];
    for path in &paths {
        // 31 days back is before a 30-day horizon
        let old = app.db.query_json(
            "SELECT to_char((now() - interval '31 days') AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') AS t",
        )[0]["t"]
            .as_str()
            .unwrap()
            .to_string();
        let body = assert_problem(app.get_as(&admin, &at(path, &old)), 422, path);
        assert_eq!(error_fields(&body), ["as_of"], "{path}: {body}");
        let detail = body["errors"][0]["message"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        assert!(
            detail.contains("history_retention_days") && detail.contains("30 days"),
            "{path}: {body}"
        );
        let body = assert_problem(
            app.get_as(&admin, &at(path, "2999-01-01T00:00:00Z")),
            422,
            path,
        );
        assert_eq!(error_fields(&body), ["as_of"], "{path}: {body}");
        assert_query_rejected(app.get_as(&admin, &at(path, "yesterday")), "as_of", path);
    }
    // What was live then: deleted ones cannot be asked for at an instant.
    let now = app.db.instant();
    for path in [
        format!("/v1/entities/{e}"),
        "/v1/entities".to_string(),
        "/v1/relationships".to_string(),
    ] {
        let resp = app.get_as(&admin, &at(&format!("{path}?include_deleted=true"), &now));
        assert_query_rejected(resp, "include_deleted", &path);
    }
    // 29 days back is inside it (and before anything was written).
    let recent = app.db.query_json(
        "SELECT to_char((now() - interval '29 days') AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') AS t",
    )[0]["t"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(read(&app, &admin, "/v1/entities", &recent).0, 200);
    assert_eq!(
        read(&app, &admin, &format!("/v1/entities/{e}"), &recent).0,
        404
    );
}
