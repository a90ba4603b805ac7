//! The entities issue's "must show" list (issue 5, items 1–7), plus the released-Spin behaviour
//! the entities routes owe issue 8 (prompt 404, empty list shape, RFC 3339 timestamps), end to
//! end over HTTP against a real host, Postgres and Redis.

use std::collections::HashSet;
use std::thread;

use spingraph_e2e::{
    Caller, RequestBuilder, Response, TestApp, TestOptions, Value, assert_query_rejected,
    assert_retry_after_within_a_minute, error_fields, header, json, json_body,
};

/// The application; every test signs several users in from 127.0.0.1 against one shared Redis,
/// so the per-IP login limit is raised (the limit itself is the auth tests' business).
fn app() -> TestApp {
    TestApp::start(TestOptions::default().variable("login_rate_limit_per_minute", "10000"))
}

fn create(app: &TestApp, who: &Caller, body: &Value) -> Response {
    app.post_as(who, "/v1/entities", body)
}

fn entity_count(app: &TestApp) -> i64 {
    app.db.query_json("SELECT count(*) AS n FROM entities")[0]["n"]
        .as_i64()
        .unwrap()
}

fn ids(items: &Value) -> Vec<String> {
    items
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["id"].as_str().unwrap().to_string())
        .collect()
}

fn list(app: &TestApp, who: &Caller, query: &str) -> Value {
    let resp = app.get_as(who, &format!("/v1/entities?{query}"));
    assert_eq!(resp.status(), 200, "GET /v1/entities?{query}");
    json_body(resp)
}

fn list_ids(app: &TestApp, who: &Caller, query: &str) -> Vec<String> {
    ids(&list(app, who, query)["items"])
}

// ------------------------------------------------------------------ 1. validation

#[test]
fn each_validation_rule_is_422_naming_the_field_and_stores_nothing() {
    let app = app();
    let ada = app.caller("ada", "user");
    let deep = {
        let mut v = json!("x");
        for _ in 0..9 {
            v = json!({ "a": v });
        }
        v
    };
    let many_keys: serde_json::Map<String, Value> =
        (0..257).map(|i| (format!("k{i}"), json!(i))).collect();
    let long_key = "k".repeat(129);
    let cases: Vec<(Value, &str)> = vec![
        (json!({"name": "n"}), "type"),
        (json!({"type": "", "name": "n"}), "type"),
        (json!({"type": "t".repeat(65), "name": "n"}), "type"),
        (json!({"type": "t"}), "name"),
        (json!({"type": "t", "name": ""}), "name"),
        (json!({"type": "t", "name": "n".repeat(513)}), "name"),
        (json!({"type": "t", "name": "a\u{0}b"}), "name"),
        (
            json!({"type": "t", "name": "n", "confidence": "high"}),
            "confidence",
        ),
        (
            json!({"type": "t", "name": "n", "metadata": [1]}),
            "metadata",
        ),
        (
            json!({"type": "t", "name": "n", "metadata": {"big": "x".repeat(10 * 1024)}}),
            "metadata",
        ),
        (
            json!({"type": "t", "name": "n", "metadata": deep}),
            "metadata.",
        ),
        (
            json!({"type": "t", "name": "n", "metadata": many_keys}),
            "metadata",
        ),
        (
            json!({"type": "t", "name": "n", "metadata": {long_key.clone(): 1}}),
            "metadata.",
        ),
        (
            json!({"type": "t", "name": "n", "metadata": {"a": {"b": "\u{0}"}}}),
            "metadata.a.b",
        ),
        (
            json!({"type": "t", "name": "n", "metadata": {"bell\u{7}": 1}}),
            "metadata.",
        ),
        (json!({"type": "t", "name": "n", "colour": "red"}), "colour"),
        (
            json!({"type": "t", "name": "n", "owner_id": ada.id}),
            "owner_id",
        ),
    ];
    for (body, field) in cases {
        let resp = create(&app, &ada, &body);
        assert_eq!(resp.status(), 422, "{body}");
        assert!(header(&resp, "content-type").starts_with("application/problem+json"));
        let problem = json_body(resp);
        let fields = error_fields(&problem);
        assert!(
            fields
                .iter()
                .any(|f| f == field || (field.ends_with('.') && f.starts_with(field))),
            "{body}: expected an error on {field}, got {problem}"
        );
        assert!(problem["request_id"].is_string());
    }
    assert_eq!(entity_count(&app), 0);
}

#[test]
fn nul_inside_metadata_is_422_not_500() {
    let app = app();
    let ada = app.caller("ada", "user");
    let resp = app.send_as(
        &ada,
        app.post("/v1/entities")
            .header("content-type", "application/json")
            .body(r#"{"type":"t","name":"n","metadata":{"note":"a\u0000b"}}"#),
    );
    assert_eq!(resp.status(), 422);
    assert_eq!(error_fields(&json_body(resp)), vec!["metadata.note"]);
    assert_eq!(entity_count(&app), 0);
}

#[test]
fn malformed_json_is_400_wrong_type_415_oversized_413() {
    let app = app();
    let ada = app.caller("ada", "user");
    let send = |ct: &str, body: String| {
        app.send_as(
            &ada,
            app.post("/v1/entities")
                .header("content-type", ct)
                .body(body),
        )
        .status()
    };
    assert_eq!(send("application/json", "{\"type\":".into()), 400);
    assert_eq!(send("text/plain", "{}".into()), 415);
    let huge = format!(
        r#"{{"type":"t","name":"n","metadata":{{"x":"{}"}}}}"#,
        "y".repeat(70 * 1024)
    );
    assert_eq!(send("application/json", huge), 413);
    assert_eq!(entity_count(&app), 0);
}

// ------------------------------------------------------------------ 2. confidence

#[test]
fn confidence_out_of_range_or_overflowing_is_422_and_bounds_are_accepted() {
    let app = app();
    let ada = app.caller("ada", "user");
    for raw in ["-0.01", "1.01", "1e999", "-1e999"] {
        let resp = app.send_as(
            &ada,
            app.post("/v1/entities")
                .header("content-type", "application/json")
                .body(format!(r#"{{"type":"t","name":"n","confidence":{raw}}}"#)),
        );
        assert_eq!(resp.status(), 422, "confidence {raw}");
        assert_eq!(error_fields(&json_body(resp)), vec!["confidence"], "{raw}");
    }
    assert_eq!(entity_count(&app), 0);
    for c in [0, 1] {
        let e = app.created_entity(&ada, &json!({"type": "t", "name": "n", "confidence": c}));
        assert_eq!(e["confidence"].as_f64(), Some(c as f64));
    }
    let default = app.created_entity(&ada, &json!({"type": "t", "name": "n"}));
    assert_eq!(default["confidence"].as_f64(), Some(1.0));
    assert_eq!(entity_count(&app), 3);
}

// ------------------------------------------------------------------ 3. batch

#[test]
fn batch_of_1000_is_stored_and_one_bad_item_stores_nothing() {
    let app = app();
    let ada = app.caller("ada", "user");
    let items: Vec<Value> = (0..1000)
        .map(|i| json!({"type": "doc", "name": format!("doc {i}"), "metadata": {"i": i}}))
        .collect();
    let resp = app.post_as(&ada, "/v1/entities/batch", &json!({ "items": items }));
    assert_eq!(resp.status(), 201);
    let body = json_body(resp);
    assert_eq!(body["items"].as_array().unwrap().len(), 1000);
    assert_eq!(body["items"][517]["name"], "doc 517");
    assert_eq!(entity_count(&app), 1000);

    let mut bad = items.clone();
    bad[517] = json!({"type": "doc", "name": "bad", "confidence": 7});
    let resp = app.post_as(&ada, "/v1/entities/batch", &json!({ "items": bad }));
    assert_eq!(resp.status(), 422);
    let problem = json_body(resp);
    assert_eq!(
        error_fields(&problem),
        vec!["items[517].confidence"],
        "{problem}"
    );
    assert_eq!(
        entity_count(&app),
        1000,
        "nothing of the bad batch is stored"
    );

    let too_many: Vec<Value> = (0..1001)
        .map(|i| json!({"type": "t", "name": format!("{i}")}))
        .collect();
    let resp = app.post_as(&ada, "/v1/entities/batch", &json!({ "items": too_many }));
    assert_eq!(resp.status(), 422);
    assert_eq!(error_fields(&json_body(resp)), vec!["items"]);
    // every batch item carries its own audit row with the batch's request id
    let audited = app.db.query_json(
        "SELECT count(*) AS n FROM audit_log WHERE action = 'entity.create' AND resource_type = 'entity'",
    );
    assert_eq!(audited[0]["n"], 1000);
}

// ------------------------------------------------------------------ 4. optimistic concurrency

#[test]
fn two_patches_with_the_same_if_match_give_one_200_and_one_412() {
    let app = app();
    let ada = app.caller("ada", "user");
    let v1 = json!({"type": "t", "name": "v1", "metadata": {"a": 1}});
    let resp = create(&app, &ada, &v1);
    assert_eq!(resp.status(), 201);
    let etag = resp.headers()["etag"].to_str().unwrap().to_string();
    let id = json_body(resp)["id"].as_str().unwrap().to_string();

    let statuses: Vec<u16> = thread::scope(|s| {
        let handles: Vec<_> = ["left", "right"]
            .into_iter()
            .map(|name| {
                let (app, ada, etag, id) = (&app, &ada, &etag, &id);
                s.spawn(move || {
                    app.send_as(
                        &ada,
                        app.patch(&format!("/v1/entities/{id}"))
                            .header("if-match", etag)
                            .header("content-type", "application/merge-patch+json")
                            .body(json!({"name": name, "metadata": {"b": 2}}).to_string()),
                    )
                    .status()
                    .as_u16()
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let mut sorted = statuses.clone();
    sorted.sort();
    assert_eq!(sorted, vec![200, 412], "{statuses:?}");
    let stored = app.db.query_json(&format!(
        "SELECT version, metadata FROM entities WHERE id = '{id}'"
    ));
    assert_eq!(stored[0]["version"], 2, "the version increments once");
    assert_eq!(
        stored[0]["metadata"],
        json!({"a": 1, "b": 2}),
        "merge patch"
    );

    // a stale tag stays stale; the fresh one works
    let resp = app.send_as(
        &ada,
        app.patch(&format!("/v1/entities/{id}"))
            .header("if-match", &etag)
            .json(&json!({"confidence": 0.5})),
    );
    assert_eq!(resp.status(), 412);
    let current = app.get_as(&ada, &format!("/v1/entities/{id}"));
    let fresh = current.headers()["etag"].to_str().unwrap().to_string();
    let resp = app.send_as(
        &ada,
        app.patch(&format!("/v1/entities/{id}"))
            .header("if-match", &fresh)
            .json(&json!({"confidence": 0.5, "metadata": {"a": null}})),
    );
    assert_eq!(resp.status(), 200);
    assert_ne!(resp.headers()["etag"].to_str().unwrap(), fresh);
    let body = json_body(resp);
    assert_eq!(body["version"], 3);
    assert_eq!(body["metadata"], json!({"b": 2}));
}

#[test]
fn get_sends_etag_and_if_none_match_gives_304() {
    let app = app();
    let ada = app.caller("ada", "user");
    let resp = create(&app, &ada, &json!({"type": "t", "name": "n"}));
    let location = resp.headers()["location"].to_str().unwrap().to_string();
    let etag = resp.headers()["etag"].to_str().unwrap().to_string();
    let e = json_body(resp);
    assert_eq!(
        location,
        format!("/v1/entities/{}", e["id"].as_str().unwrap())
    );
    let resp = app.get_as(&ada, &location);
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["etag"].to_str().unwrap(), etag);
    let resp = app.send_as(&ada, app.get(&location).header("if-none-match", &etag));
    assert_eq!(resp.status(), 304);
}

// ------------------------------------------------------------------ 5. pagination

#[test]
fn paging_250_entities_while_inserting_returns_each_original_exactly_once() {
    let app = app();
    let ada = app.caller("ada", "user");
    let items: Vec<Value> = (0..250)
        .map(|i| json!({"type": "page", "name": format!("name {:03}", (i * 7919) % 250), "confidence": (i % 11) as f64 / 10.0}))
        .collect();
    let resp = app.post_as(&ada, "/v1/entities/batch", &json!({ "items": items }));
    assert_eq!(resp.status(), 201);
    let originals: HashSet<String> = ids(&json_body(resp)["items"]).into_iter().collect();

    for sort in [
        "-created_at",
        "created_at",
        "name",
        "-name",
        "confidence",
        "-confidence",
    ] {
        let mut seen: Vec<String> = Vec::new();
        let mut cursor: Option<String> = None;
        let mut pages = 0;
        loop {
            let mut query = format!("type=page&limit=50&sort={sort}");
            if let Some(c) = &cursor {
                query.push_str(&format!("&cursor={c}"));
            }
            let page = list(&app, &ada, &query);
            pages += 1;
            assert!(page["items"].as_array().unwrap().len() <= 50);
            seen.extend(ids(&page["items"]));
            // rows inserted between pages, sorting both before and after the cursor
            for name in ["aaa inserted", "zzz inserted"] {
                app.created_entity(
                    &ada,
                    &json!({"type": "page", "name": name, "confidence": 0.55}),
                );
            }
            match page["next_cursor"].as_str() {
                Some(c) => cursor = Some(c.to_string()),
                None => break,
            }
            assert!(pages < 20, "pagination does not end");
        }
        let original_seen: Vec<&String> =
            seen.iter().filter(|id| originals.contains(*id)).collect();
        let unique: HashSet<&String> = original_seen.iter().copied().collect();
        assert_eq!(original_seen.len(), 250, "sort {sort}: each original once");
        assert_eq!(unique.len(), 250, "sort {sort}: no duplicates");
        let all_unique: HashSet<&String> = seen.iter().collect();
        assert_eq!(all_unique.len(), seen.len(), "sort {sort}: nothing repeats");
    }
}

#[test]
fn bad_pagination_parameters_are_400() {
    let app = app();
    let ada = app.caller("ada", "user");
    for (query, field) in [
        ("limit=0", "limit"),
        ("limit=201", "limit"),
        ("limit=", "limit"),
        ("sort=owner", "sort"),
        ("sort=", "sort"),
        ("cursor=garbage", "cursor"),
        ("min_confidence=2", "min_confidence"),
        ("metadata=notjson", "metadata"),
        ("created_after=yesterday", "created_after"),
        ("created_before=2026-02-31", "created_before"),
    ] {
        let resp = app.get_as(&ada, &format!("/v1/entities?{query}"));
        assert_eq!(resp.status(), 400, "{query}");
        assert_eq!(error_fields(&json_body(resp)), vec![field], "{query}");
    }
}

#[test]
fn boolean_flags_take_true_false_1_or_0_and_yes_or_empty_is_400_naming_them() {
    let app = app();
    let ada = app.caller("ada", "user");
    let root = app.caller("root", "admin");
    let e = app.created_entity(&ada, &json!({"type": "person", "name": "Ada"}));
    let id = e["id"].as_str().unwrap().to_string();
    let path = format!("/v1/entities/{id}");
    assert_eq!(app.delete_as(&ada, &path).status(), 204);

    for bad in ["yes", "", "no"] {
        let send = |url: String| app.get_as(&root, &url);
        assert_query_rejected(
            send(format!("/v1/entities?include_deleted={bad}")),
            "include_deleted",
            &format!("list with include_deleted={bad:?}"),
        );
        assert_query_rejected(
            send(format!("{path}?include_deleted={bad}")),
            "include_deleted",
            &format!("get with include_deleted={bad:?}"),
        );
        let resp = app.delete_as(&root, &format!("{path}?hard={bad}"));
        assert_query_rejected(resp, "hard", &format!("delete with hard={bad:?}"));
    }
    // A bare flag is an empty value, not `true`.
    let resp = app.get_as(&root, "/v1/entities?include_deleted");
    assert_query_rejected(resp, "include_deleted", "bare include_deleted");
    assert_eq!(
        entity_count(&app),
        1,
        "a rejected hard delete deletes nothing"
    );

    for yes in ["true", "1", "TRUE"] {
        assert!(
            list_ids(&app, &root, &format!("include_deleted={yes}")).contains(&id),
            "include_deleted={yes} lists the deleted entity"
        );
        let resp = app.get_as(&root, &format!("{path}?include_deleted={yes}"));
        assert_eq!(resp.status(), 200, "include_deleted={yes}");
        assert!(json_body(resp)["deleted_at"].is_string());
    }
    for no in ["false", "0"] {
        assert!(
            !list_ids(&app, &root, &format!("include_deleted={no}")).contains(&id),
            "include_deleted={no} hides the deleted entity"
        );
    }
    let resp = app.delete_as(&root, &format!("{path}?hard=1"));
    assert_eq!(resp.status(), 204);
    assert_eq!(entity_count(&app), 0);
}

// ------------------------------------------------------------------ 6. ownership, soft delete, audit

#[test]
fn owner_or_admin_change_entities_soft_delete_hides_and_restore_brings_back_all_audited() {
    let app = app();
    let [ada, bob] = app.users(["ada", "bob"]);
    let root = app.caller("root", "admin");
    let e = app.created_entity(&ada, &json!({"type": "person", "name": "Ada"}));
    let id = e["id"].as_str().unwrap().to_string();
    let path = format!("/v1/entities/{id}");
    assert_eq!(e["owner_id"], ada.id.as_str());

    // another user reads but cannot change it
    assert_eq!(app.get_as(&bob, &path).status(), 200);
    let resp = app.patch_as(&bob, &path, &json!({"name": "Bob's"}));
    assert_eq!(resp.status(), 403);
    assert_eq!(app.delete_as(&bob, &path).status(), 403);
    // an admin can
    let resp = app.send_as(
        &root,
        app.patch(&path)
            .header("x-request-id", "req-admin-patch")
            .json(&json!({"name": "Ada L."})),
    );
    assert_eq!(resp.status(), 200);
    // no one sees anonymous requests
    assert_eq!(app.get(&path).send().unwrap().status(), 401);

    // the owner soft-deletes it
    let resp = app.send_as(
        &ada,
        app.delete(&path).header("x-request-id", "req-owner-delete"),
    );
    assert_eq!(resp.status(), 204);
    assert_eq!(app.get_as(&ada, &path).status(), 404);
    assert_eq!(app.get_as(&root, &path).status(), 404);
    assert!(!list_ids(&app, &ada, "").contains(&id));
    assert_eq!(
        app.get_as(&ada, "/v1/entities?include_deleted=true")
            .status(),
        403
    );
    let listed = list(&app, &root, "include_deleted=true");
    let deleted = listed["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["id"] == id.as_str())
        .expect("admins see deleted entities with include_deleted=true");
    assert_eq!(deleted["deleted_by"], ada.id.as_str());
    assert!(deleted["deleted_at"].is_string());
    let resp = app.get_as(&root, &format!("{path}?include_deleted=true"));
    assert_eq!(resp.status(), 200);
    // a deleted entity cannot be patched or deleted again
    assert_eq!(
        app.patch_as(&ada, &path, &json!({"name": "x"})).status(),
        404
    );
    assert_eq!(app.delete_as(&ada, &path).status(), 404);

    // only an admin restores
    let restore = format!("{path}/restore");
    assert_eq!(app.send_as(&ada, app.post(&restore)).status(), 403);
    let resp = app.send_as(
        &root,
        app.post(&restore)
            .header("x-request-id", "req-admin-restore"),
    );
    assert_eq!(resp.status(), 200);
    let restored = json_body(resp);
    assert!(restored.get("deleted_at").is_none());
    assert_eq!(app.get_as(&ada, &path).status(), 200);
    assert_eq!(app.send_as(&root, app.post(&restore)).status(), 409);

    // hard delete is admin only
    assert_eq!(
        app.delete_as(&ada, &format!("{path}?hard=true")).status(),
        403
    );
    let resp = app.send_as(
        &root,
        app.delete(&format!("{path}?hard=true"))
            .header("x-request-id", "req-admin-purge"),
    );
    assert_eq!(resp.status(), 204);
    assert_eq!(entity_count(&app), 0);

    let audit = app.db.query_json(&format!(
        "SELECT action, actor_id::text AS actor, request_id FROM audit_log \
         WHERE resource_type = 'entity' AND resource_id = '{id}' ORDER BY at, id"
    ));
    let rows: Vec<(String, String, String)> = audit
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["action"].as_str().unwrap().to_string(),
                r["actor"].as_str().unwrap_or_default().to_string(),
                r["request_id"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    let actions: Vec<&str> = rows.iter().map(|r| r.0.as_str()).collect();
    assert_eq!(
        actions,
        vec![
            "entity.create",
            "entity.update",
            "entity.delete",
            "entity.restore",
            "entity.hard_delete"
        ]
    );
    assert_eq!(rows[0].1, ada.id);
    // Each change after the create: its action, actor and request id.
    for (row, (action, actor, request_id)) in rows[1..].iter().zip([
        ("entity.update", &root, "req-admin-patch"),
        ("entity.delete", &ada, "req-owner-delete"),
        ("entity.restore", &root, "req-admin-restore"),
        ("entity.hard_delete", &root, "req-admin-purge"),
    ]) {
        let expected = (action.into(), actor.id.clone(), request_id.into());
        assert_eq!(row, &expected);
    }
    assert!(!rows[0].2.is_empty(), "the create carries its request id");
}

// ------------------------------------------------------------------ 7. filters and sorts

#[test]
fn filters_and_sorts_return_exactly_the_expected_ids() {
    let app = app();
    let [ada, bob] = app.users(["ada", "bob"]);
    let make = |who: &Caller, kind: &str, name: &str, c: f64, meta: Value| -> Value {
        app.created_entity(
            who,
            &json!({"type": kind, "name": name, "confidence": c, "metadata": meta}),
        )
    };
    let acme = make(
        &ada,
        "org",
        "Acme Corp",
        0.9,
        json!({"source": "crm", "tier": 1}),
    );
    let globex = make(&ada, "org", "Globex", 0.4, json!({"source": "web"}));
    let alice = make(
        &bob,
        "person",
        "Alice Acmeson",
        0.7,
        json!({"source": "crm", "tags": ["x"]}),
    );
    let pct = make(&bob, "person", "100% Real_Name", 0.2, json!({}));
    let id = |e: &Value| e["id"].as_str().unwrap().to_string();
    let all_newest_first = vec![id(&pct), id(&alice), id(&globex), id(&acme)];

    assert_eq!(list_ids(&app, &ada, ""), all_newest_first);
    assert_eq!(list_ids(&app, &ada, "sort=-created_at"), all_newest_first);
    assert_eq!(
        list_ids(&app, &ada, "sort=created_at"),
        all_newest_first.iter().rev().cloned().collect::<Vec<_>>()
    );
    assert_eq!(
        list_ids(&app, &ada, "type=org"),
        vec![id(&globex), id(&acme)]
    );
    assert_eq!(list_ids(&app, &ada, "q=acme"), vec![id(&alice), id(&acme)]);
    assert_eq!(list_ids(&app, &ada, "q=100%25"), vec![id(&pct)]);
    assert_eq!(
        list_ids(&app, &ada, "q=G_obex"),
        Vec::<String>::new(),
        "_ is literal"
    );
    assert_eq!(list_ids(&app, &ada, "q=real_name"), vec![id(&pct)]);
    assert_eq!(
        list_ids(&app, &ada, "min_confidence=0.7"),
        vec![id(&alice), id(&acme)]
    );
    assert_eq!(
        list_ids(&app, &ada, "metadata=%7B%22source%22%3A%22crm%22%7D"),
        vec![id(&alice), id(&acme)]
    );
    assert_eq!(
        list_ids(&app, &ada, "metadata=%7B%22tags%22%3A%5B%22x%22%5D%7D"),
        vec![id(&alice)]
    );
    assert_eq!(
        list_ids(&app, &ada, &format!("owner_id={}", bob.id)),
        vec![id(&pct), id(&alice)]
    );
    let after = globex["created_at"].as_str().unwrap().replace('+', "%2B");
    assert_eq!(
        list_ids(&app, &ada, &format!("created_after={after}")),
        vec![id(&pct), id(&alice)]
    );
    let before = alice["created_at"].as_str().unwrap();
    assert_eq!(
        list_ids(&app, &ada, &format!("created_before={before}")),
        vec![id(&globex), id(&acme)]
    );
    assert_eq!(
        list_ids(
            &app,
            &ada,
            &format!(
                "created_after={}&created_before={before}",
                acme["created_at"].as_str().unwrap()
            )
        ),
        vec![id(&globex)]
    );
    // Offsets RFC 3339 allows and Postgres does not (past ±15:59), far years: the whole list.
    let all = list_ids(&app, &ada, "");
    assert_eq!(all.len(), 4);
    for query in [
        "created_after=0992-05-18T13:35:38%2B17:48",
        "created_before=5616-05-25T01:49:01-22:29",
        "created_after=0001-01-01T00:00:00%2B23:59&created_before=9999-12-31T23:59:59-23:59",
    ] {
        assert_eq!(list_ids(&app, &ada, query), all, "{query}");
    }
    for (sort, order) in [
        ("name", [&pct, &acme, &alice, &globex]),
        ("-name", [&globex, &alice, &acme, &pct]),
        ("confidence", [&pct, &globex, &alice, &acme]),
        ("-confidence", [&acme, &alice, &globex, &pct]),
    ] {
        let expected: Vec<String> = order.into_iter().map(id).collect();
        assert_eq!(list_ids(&app, &ada, &format!("sort={sort}")), expected);
    }
    assert_eq!(
        list_ids(&app, &ada, "type=person&min_confidence=0.5&sort=name"),
        vec![id(&alice)]
    );
}

// ------------------------------------------------------------------ released Spin (issue 8)

#[test]
fn missing_entity_is_a_prompt_404_and_empty_list_has_the_page_shape() {
    let app = app();
    let ada = app.caller("ada", "user");
    let started = std::time::Instant::now();
    let resp = app.get_as(&ada, "/v1/entities/0192e4a0-0000-7000-8000-000000000001");
    assert_eq!(resp.status(), 404);
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
    assert_eq!(app.get_as(&ada, "/v1/entities/not-a-uuid").status(), 404);
    assert_eq!(
        list(&app, &ada, "type=nothing"),
        json!({"items": [], "next_cursor": null})
    );
    let e = app.created_entity(&ada, &json!({"type": "t", "name": "n"}));
    for field in ["created_at", "updated_at"] {
        let ts = e[field].as_str().unwrap();
        assert!(
            ts.ends_with('Z') && ts.len() == 27 && &ts[10..11] == "T",
            "{field}: {ts}"
        );
    }
    assert_eq!(e["version"], 1);
    let resp = app.send_as(&ada, app.client().put(app.url("/v1/entities")));
    assert_eq!(resp.status(), 405);
    assert_eq!(resp.headers()["allow"].to_str().unwrap(), "GET, POST");
}

#[test]
fn api_key_scopes_limit_what_a_key_may_do() {
    let app = app();
    let ada = app.caller("ada", "user");
    let body = app.create_api_key(&ada, "reader", &["entities:read"]);
    let key = ["key", "api_key", "secret"]
        .iter()
        .find_map(|f| body[*f].as_str())
        .expect("the created key is shown once")
        .to_string();
    let with_key = |rb: RequestBuilder| rb.header("authorization", format!("ApiKey {key}"));
    assert_eq!(
        with_key(app.get("/v1/entities")).send().unwrap().status(),
        200
    );
    let resp = with_key(app.post_json("/v1/entities", &json!({"type": "t", "name": "n"})))
        .send()
        .unwrap();
    assert_eq!(resp.status(), 403);
    assert_eq!(entity_count(&app), 0);
}

#[test]
fn requests_over_the_per_principal_limit_get_429_with_retry_after() {
    let app = TestApp::start(
        TestOptions::default()
            .variable("login_rate_limit_per_minute", "10000")
            .variable("api_rate_limit_per_minute", "3"),
    );
    let [ada, bob] = app.users(["ada", "bob"]);
    for remaining in ["2", "1", "0"] {
        let resp = app.get_as(&ada, "/v1/entities");
        assert_eq!(resp.status(), 200);
        assert_eq!(resp.headers()["ratelimit-limit"].to_str().unwrap(), "3");
        assert_eq!(
            resp.headers()["ratelimit-remaining"].to_str().unwrap(),
            remaining
        );
        assert!(resp.headers().contains_key("ratelimit-reset"));
    }
    let resp = app.post_as(&ada, "/v1/entities", &json!({"type": "t", "name": "n"}));
    assert_eq!(resp.status(), 429);
    assert_retry_after_within_a_minute(&resp);
    assert_eq!(entity_count(&app), 0);
    // the limit is per principal
    assert_eq!(app.get_as(&bob, "/v1/entities").status(), 200);
}
