//! `POST /v1/entities/{id}/unmerge` end to end (issue 29, item 2): a merge undone puts back the
//! merged entities and exactly the relationships the merge moved or dropped, with audit and
//! change-feed rows; a later write that makes that impossible is a 409 naming it, and nothing is
//! written; access is merge's; re-pointed chains unwind; an `Idempotency-Key` replays.

use spingraph_e2e::{
    Caller, Response, TestApp, TestOptions, Value, error_fields, header, json, json_body,
};

fn app() -> TestApp {
    TestApp::start(TestOptions::signing_in_freely(&[]))
}

fn count(app: &TestApp, sql: &str) -> i64 {
    app.db.query_json(sql)[0]["n"].as_i64().unwrap()
}

fn id_of(v: &Value) -> &str {
    v["id"].as_str().unwrap()
}

fn entity(app: &TestApp, who: &Caller, name: &str, metadata: Value) -> Value {
    app.created_entity(
        who,
        &json!({"type": "company", "name": name, "metadata": metadata}),
    )
}

fn merge(app: &TestApp, who: &Caller, survivor: &Value, from: &[&Value], how: &str) -> Value {
    let path = format!("/v1/entities/{}/merge", id_of(survivor));
    let from: Vec<&str> = from.iter().map(|e| id_of(e)).collect();
    let resp = app.post_as(who, &path, &json!({"from": from, "metadata": how}));
    assert_eq!(resp.status(), 200);
    json_body(resp)
}

fn unmerge(app: &TestApp, who: &Caller, survivor: &Value, from: &[&Value]) -> Response {
    let path = format!("/v1/entities/{}/unmerge", id_of(survivor));
    let from: Vec<&str> = from.iter().map(|e| id_of(e)).collect();
    app.post_as(who, &path, &json!({ "from": from }))
}

/// Every relationship's ends and liveness, by id.
fn relationships(app: &TestApp) -> Value {
    app.db.query_json(
        "SELECT id::text, source_id::text, target_id::text, type, deleted_at IS NULL AS live \
         FROM relationships ORDER BY id",
    )
}

/// Every entity's name, metadata, liveness and merge, by id.
fn entities(app: &TestApp) -> Value {
    app.db.query_json(
        "SELECT id::text, name, metadata, deleted_at IS NULL AS live, merged_into::text \
         FROM entities ORDER BY id",
    )
}

/// Everything an unmerge could write: entities and relationships with their versions, and how
/// many audit, change-feed and merge-record rows there are.
fn everything(app: &TestApp) -> Value {
    app.db.query_json(
        "SELECT (SELECT jsonb_agg(jsonb_build_object('id', id, 'v', version, 'live', deleted_at IS NULL, \
         'into', merged_into, 'metadata', metadata) ORDER BY id) FROM entities) AS entities, \
         (SELECT jsonb_agg(jsonb_build_object('id', id, 'v', version, 's', source_id, 't', target_id, \
         'live', deleted_at IS NULL) ORDER BY id) FROM relationships) AS relationships, \
         (SELECT count(*) FROM audit_log) AS audit, (SELECT count(*) FROM changes) AS changes, \
         (SELECT count(*) FROM merges WHERE undone_at IS NOT NULL) AS undone, \
         (SELECT count(*) FROM merge_entities WHERE undone_at IS NOT NULL) AS undone_entities",
    )
}

fn last_seq(app: &TestApp) -> i64 {
    count(app, "SELECT coalesce(max(seq), 0) AS n FROM changes")
}

/// `(kind, op, rows)` of the change feed after `seq`.
fn changes_after(app: &TestApp, seq: i64) -> Value {
    app.db.query_json(&format!(
        "SELECT kind, op, count(*)::int AS n FROM changes WHERE seq > {seq} \
         GROUP BY 1, 2 ORDER BY 1, 2"
    ))
}

fn conflict_detail(resp: Response) -> String {
    let status = resp.status().as_u16();
    let body = json_body(resp);
    assert_eq!(status, 409, "{body}");
    body["detail"].as_str().unwrap().to_string()
}

#[test]
fn unmerge_puts_back_the_entities_and_every_relationship_the_merge_moved_or_dropped() {
    let app = app();
    let ada = app.caller("ada", "user");
    let s = entity(&app, &ada, "S", json!({"a": 1}));
    let v1 = entity(&app, &ada, "V1", json!({"a": 9, "b": 2}));
    let v2 = entity(&app, &ada, "V2", json!({"c": 3}));
    let x = entity(&app, &ada, "X", json!({}));
    let y = entity(&app, &ada, "Y", json!({}));
    app.created_relationship(&ada, &s, &x, "knows"); // stays
    app.created_relationship(&ada, &v1, &x, "knows"); // would repeat S→X knows: dropped
    app.created_relationship(&ada, &v1, &y, "likes"); // becomes S→Y likes
    app.created_relationship(&ada, &v2, &y, "likes"); // would repeat the moved one: dropped
    app.created_relationship(&ada, &v1, &v2, "rel"); // would be S→S: dropped
    app.created_relationship(&ada, &x, &v2, "cites"); // becomes X→S cites
    app.created_relationship(&ada, &y, &s, "follows"); // untouched
    let (edges_before, entities_before) = (relationships(&app), entities(&app));

    let merged = merge(&app, &ada, &s, &[&v1, &v2], "merge");
    assert_eq!(merged["metadata"], json!({"a": 1, "b": 2, "c": 3}));
    assert_ne!(relationships(&app), edges_before);
    let seq = last_seq(&app);

    let resp = unmerge(&app, &ada, &s, &[&v2, &v1]);
    assert_eq!(resp.status(), 200);
    let etag = header(&resp, "etag");
    let body = json_body(resp);
    assert_eq!(body["metadata"], "restored");
    assert_eq!(body["survivor"]["metadata"], json!({"a": 1}));
    assert_eq!(body["survivor"]["version"], 3);
    assert_eq!(etag, format!("\"{}.3\"", id_of(&s)));
    let restored: Vec<&str> = body["restored"]
        .as_array()
        .unwrap()
        .iter()
        .map(id_of)
        .collect();
    assert_eq!(restored, [id_of(&v2), id_of(&v1)], "in `from` order");
    assert!(body["restored"][0].get("merged_into").is_none());
    assert!(body["restored"][0].get("deleted_at").is_none());

    // Every entity and every relationship's ends exactly as before the merge.
    assert_eq!(relationships(&app), edges_before);
    assert_eq!(entities(&app), entities_before);
    let read = app.get_as(&ada, &format!("/v1/entities/{}", id_of(&v1)));
    assert_eq!(read.status(), 200);

    // Audit rows: the unmerge, each entity back, each relationship moved back or restored.
    let actions = app.db.query_json(
        "SELECT action, count(*)::int AS n FROM audit_log \
         WHERE action IN ('entity.unmerge', 'entity.unmerged') OR details ? 'unmerge' \
         GROUP BY 1 ORDER BY 1",
    );
    assert_eq!(
        actions,
        json!([
            {"action": "entity.unmerge", "n": 1},
            {"action": "entity.unmerged", "n": 2},
            {"action": "relationship.restore", "n": 3},
            {"action": "relationship.update", "n": 2},
        ])
    );
    // Change rows: both entities restored, the survivor's metadata, 2 edges moved, 3 restored.
    assert_eq!(
        changes_after(&app, seq),
        json!([
            {"kind": "entity", "op": "restore", "n": 2},
            {"kind": "entity", "op": "update", "n": 1},
            {"kind": "relationship", "op": "restore", "n": 3},
            {"kind": "relationship", "op": "update", "n": 2},
        ])
    );
    let moved_doc = app.db.query_json(&format!(
        "SELECT document->>'source_id' AS source FROM changes WHERE seq > {seq} \
         AND kind = 'relationship' AND op = 'update' ORDER BY seq LIMIT 1"
    ));
    assert!(
        [id_of(&v1), id_of(&x)].contains(&moved_doc[0]["source"].as_str().unwrap()),
        "the feed carries the relationship on its old ends: {moved_doc}"
    );

    // Undone once: a second unmerge finds nothing to undo.
    let again = unmerge(&app, &ada, &s, &[&v1]);
    assert_eq!(again.status(), 422);
    assert_eq!(error_fields(&json_body(again)), ["from[0]"]);
}

#[test]
fn a_partial_unmerge_keeps_what_the_entities_left_merged_still_need() {
    let app = app();
    let ada = app.caller("ada", "user");
    let s = entity(&app, &ada, "S", json!({"a": 1}));
    let v1 = entity(&app, &ada, "V1", json!({"b": 2}));
    let v2 = entity(&app, &ada, "V2", json!({"c": 3}));
    let x = entity(&app, &ada, "X", json!({}));
    let between = app.created_relationship(&ada, &v1, &v2, "rel"); // dropped: S→S
    let own = app.created_relationship(&ada, &v1, &x, "knows"); // moved to S→X
    let before = relationships(&app);
    merge(&app, &ada, &s, &[&v1, &v2], "merge");

    let live = |id: &str| {
        app.db.query_json(&format!(
            "SELECT source_id::text, deleted_at IS NULL AS live FROM relationships WHERE id = '{id}'"
        ))[0]
            .clone()
    };
    let first = unmerge(&app, &ada, &s, &[&v1]);
    assert_eq!(first.status(), 200);
    let body = json_body(first);
    // V2 stays merged: its keys stay on S, and the edge between V1 and V2 stays dropped.
    assert_eq!(body["metadata"], "kept");
    assert_eq!(
        body["survivor"]["metadata"],
        json!({"a": 1, "b": 2, "c": 3})
    );
    assert_eq!(live(&own), json!({"source_id": v1["id"], "live": true}));
    assert_eq!(live(&between)["live"], false);

    let second = unmerge(&app, &ada, &s, &[&v2]);
    assert_eq!(second.status(), 200);
    // The merge is undone in full and S's metadata is still what it made: put back.
    let body = json_body(second);
    assert_eq!(body["metadata"], "restored");
    assert_eq!(body["survivor"]["metadata"], json!({"a": 1}));
    assert_eq!(relationships(&app), before);
    assert_eq!(
        count(
            &app,
            "SELECT count(*) AS n FROM merges WHERE undone_at IS NOT NULL"
        ),
        1
    );
}

#[test]
fn a_relationship_changed_after_the_merge_makes_unmerge_a_409_naming_it_and_its_change() {
    let app = app();
    let ada = app.caller("ada", "user");
    let s = entity(&app, &ada, "S", json!({}));
    let v = entity(&app, &ada, "V", json!({}));
    let x = entity(&app, &ada, "X", json!({}));
    let moved = app.created_relationship(&ada, &v, &x, "knows");
    merge(&app, &ada, &s, &[&v], "keep");
    let path = format!("/v1/relationships/{moved}");
    assert_eq!(
        app.patch_as(&ada, &path, &json!({"confidence": 0.5}))
            .status(),
        200
    );
    let patched_seq = count(
        &app,
        &format!("SELECT max(seq) AS n FROM changes WHERE resource_id = '{moved}'"),
    );
    let before = everything(&app);

    let detail = conflict_detail(unmerge(&app, &ada, &s, &[&v]));
    assert!(
        detail.contains(&format!("{moved} (change-feed seq {patched_seq})")),
        "{detail}"
    );
    assert_eq!(everything(&app), before, "nothing written");

    // A relationship dropped by the merge and deleted for good since is named too.
    let t = entity(&app, &ada, "T", json!({}));
    let w = entity(&app, &ada, "W", json!({}));
    app.created_relationship(&ada, &t, &x, "knows");
    let dropped = app.created_relationship(&ada, &w, &x, "knows");
    merge(&app, &ada, &t, &[&w], "keep");
    app.db
        .execute(&format!("DELETE FROM relationships WHERE id = '{dropped}'"));
    let detail = conflict_detail(unmerge(&app, &ada, &t, &[&w]));
    assert!(
        detail.contains(&format!("{dropped} (deleted for good)")),
        "{detail}"
    );
}

#[test]
fn a_natural_key_taken_since_the_merge_makes_unmerge_a_409() {
    let app = app();
    let ada = app.caller("ada", "user");
    let s = entity(&app, &ada, "S", json!({}));
    let v = app.created_entity(
        &ada,
        &json!({"type": "company", "name": "V", "external_id": "crm-1"}),
    );
    merge(&app, &ada, &s, &[&v], "keep");
    let holder = app.created_entity(
        &ada,
        &json!({"type": "company", "name": "V again", "external_id": "crm-1"}),
    );
    let before = everything(&app);
    let detail = conflict_detail(unmerge(&app, &ada, &s, &[&v]));
    assert!(detail.contains("from[0]"), "{detail}");
    assert!(detail.contains(id_of(&holder)), "{detail}");
    assert_eq!(everything(&app), before, "nothing written");

    // Once the key is free again, the unmerge goes through.
    let path = format!("/v1/entities/{}", id_of(&holder));
    assert_eq!(app.delete_as(&ada, &path).status(), 204);
    assert_eq!(unmerge(&app, &ada, &s, &[&v]).status(), 200);
}

#[test]
fn unmerge_takes_back_only_entities_merged_into_this_one_while_it_stands() {
    let app = app();
    let ada = app.caller("ada", "user");
    let [s, v, live, other, z] =
        ["S", "V", "Live", "Other", "Z"].map(|n| entity(&app, &ada, n, json!({})));
    merge(&app, &ada, &other, &[&v], "keep");
    let missing = json!({"id": uuid::Uuid::now_v7().to_string()});
    for (from, message) in [
        (&live, "is not merged".to_string()),
        (
            &v,
            format!("was merged into {}, not into this entity", id_of(&other)),
        ),
        (&missing, "no such entity".to_string()),
        (&s, "is the entity the others are merged into".to_string()),
    ] {
        let resp = unmerge(&app, &ada, &s, &[from]);
        assert_eq!(resp.status(), 422);
        assert_eq!(
            json_body(resp)["errors"],
            json!([{"field": "from[0]", "message": message}])
        );
    }
    // A merge made before merges were recorded has nothing to undo.
    let old = entity(&app, &ada, "Old", json!({}));
    app.db.execute(&format!(
        "UPDATE entities SET deleted_at = now(), deleted_by = owner_id, merged_into = '{}' \
         WHERE id = '{}'",
        id_of(&s),
        id_of(&old)
    ));
    let resp = unmerge(&app, &ada, &s, &[&old]);
    assert_eq!(resp.status(), 422);
    assert_eq!(error_fields(&json_body(resp)), ["from[0]"]);

    // The survivor merged or deleted since: 409.
    merge(&app, &ada, &z, &[&other], "keep");
    let detail = conflict_detail(unmerge(&app, &ada, &other, &[&v]));
    assert!(
        detail.contains(&format!("merged into {}", id_of(&z))),
        "{detail}"
    );
    let t = entity(&app, &ada, "T", json!({}));
    let u = entity(&app, &ada, "U", json!({}));
    merge(&app, &ada, &t, &[&u], "keep");
    let path = format!("/v1/entities/{}", id_of(&t));
    assert_eq!(app.delete_as(&ada, &path).status(), 204);
    assert!(conflict_detail(unmerge(&app, &ada, &t, &[&u])).contains("deleted"));
}

#[test]
fn unmerge_answers_other_users_as_merge_does_and_moves_back_their_relationships_only_for_an_admin()
{
    let app = app();
    let [ada, bob] = app.users(["ada", "bob"]);
    let admin = app.caller("root", "admin");
    let a1 = entity(&app, &ada, "A1", json!({}));
    let a2 = entity(&app, &ada, "A2", json!({}));
    let b1 = entity(&app, &bob, "B1", json!({}));
    merge(&app, &ada, &a1, &[&a2], "keep");
    let before = everything(&app);
    // Ada's survivor is bob's to read, not to change.
    assert_eq!(unmerge(&app, &bob, &a1, &[&a2]).status(), 403);
    // Ada's merged entity is missing to bob, word for word.
    let as_bob = |from: &Value| {
        let resp = unmerge(&app, &bob, &b1, &[from]);
        (resp.status().as_u16(), json_body(resp)["errors"].clone())
    };
    let missing = json!({"id": uuid::Uuid::now_v7().to_string()});
    assert_eq!(as_bob(&a2), as_bob(&missing));
    assert_eq!(as_bob(&a2).0, 422);
    assert_eq!(everything(&app), before);

    // A relationship bob made, moved by an admin's merge, goes back only by an admin's unmerge.
    let a3 = entity(&app, &ada, "A3", json!({}));
    let bobs = app.created_relationship(&bob, &b1, &a3, "cites");
    merge(&app, &admin, &a1, &[&a3], "keep");
    let before = everything(&app);
    let detail = conflict_detail(unmerge(&app, &ada, &a1, &[&a3]));
    assert!(
        detail.contains("1 relationship created by other users"),
        "{detail}"
    );
    assert_eq!(everything(&app), before);
    assert_eq!(unmerge(&app, &admin, &a1, &[&a3]).status(), 200);
    let back = app.db.query_json(&format!(
        "SELECT target_id::text FROM relationships WHERE id = '{bobs}'"
    ));
    assert_eq!(back[0]["target_id"], a3["id"]);
    // Ada's own unmerge of her own merge needs no admin.
    assert_eq!(unmerge(&app, &ada, &a1, &[&a2]).status(), 200);
}

#[test]
fn unmerging_the_later_merge_of_a_chain_puts_the_earlier_one_back_under_its_survivor() {
    let app = app();
    let ada = app.caller("ada", "user");
    let [a, b, c, x] = ["A", "B", "C", "X"].map(|n| entity(&app, &ada, n, json!({})));
    let edge = app.created_relationship(&ada, &a, &x, "knows");
    let before = relationships(&app);
    merge(&app, &ada, &b, &[&a], "keep"); // A→X becomes B→X
    merge(&app, &ada, &c, &[&b], "keep"); // B→X becomes C→X; A now points at C
    let location = |e: &Value| {
        let resp = app.get_as(&ada, &format!("/v1/entities/{}", id_of(e)));
        (resp.status().as_u16(), header(&resp, "location"))
    };
    assert_eq!(location(&a), (308, format!("/v1/entities/{}", id_of(&c))));
    // A was not merged into C (only re-pointed there): nothing of C's to undo.
    assert_eq!(unmerge(&app, &ada, &c, &[&a]).status(), 422);

    assert_eq!(unmerge(&app, &ada, &c, &[&b]).status(), 200);
    assert_eq!(location(&a), (308, format!("/v1/entities/{}", id_of(&b))));
    assert_eq!(location(&b).0, 200);
    let ends = app.db.query_json(&format!(
        "SELECT source_id::text FROM relationships WHERE id = '{edge}'"
    ));
    assert_eq!(ends[0]["source_id"], b["id"]);

    // The edge is as the first merge left it, so that merge can be undone too.
    assert_eq!(unmerge(&app, &ada, &b, &[&a]).status(), 200);
    assert_eq!(location(&a).0, 200);
    assert_eq!(relationships(&app), before);
}

#[test]
fn an_unmerge_replayed_with_its_idempotency_key_writes_nothing_twice() {
    let app = app();
    let ada = app.caller("ada", "user");
    let s = entity(&app, &ada, "S", json!({}));
    let v = entity(&app, &ada, "V", json!({}));
    let x = entity(&app, &ada, "X", json!({}));
    app.created_relationship(&ada, &v, &x, "knows");
    merge(&app, &ada, &s, &[&v], "keep");
    let path = format!("/v1/entities/{}/unmerge", id_of(&s));
    let send = || {
        app.send_as(
            &ada,
            app.post_json(&path, &json!({"from": [v["id"]]}))
                .header("idempotency-key", "undo-v"),
        )
    };
    let first = send();
    assert_eq!(first.status(), 200);
    assert_eq!(header(&first, "idempotent-replayed"), "");
    let first = json_body(first);
    let after = everything(&app);

    let retry = send();
    assert_eq!(retry.status(), 200);
    assert_eq!(header(&retry, "idempotent-replayed"), "true");
    assert_eq!(json_body(retry), first);
    assert_eq!(everything(&app), after, "nothing written twice");
}
