//! `POST /v1/relationships/batch` end to end (issue 29, item 4): up to 1000 relationships in one
//! transaction, ends by id or by natural key, `on_conflict`, errors naming the item, audit and
//! change-feed rows for every relationship written, `Idempotency-Key`, the 1 MiB body limit and
//! the `relationships:write` scope.

use spingraph_e2e::{
    Caller, Response, TestApp, TestOptions, Value, error_fields, header, json, json_body,
};

const BATCH: &str = "/v1/relationships/batch";

fn app() -> TestApp {
    TestApp::start(TestOptions::signing_in_freely(&[]))
}

fn count(app: &TestApp, sql: &str) -> i64 {
    app.db.query_json(sql)[0]["n"].as_i64().unwrap()
}

/// Relationships, their audit rows and their change-feed rows, in that order.
fn written(app: &TestApp) -> [i64; 3] {
    [
        count(app, "SELECT count(*) AS n FROM relationships"),
        count(
            app,
            "SELECT count(*) AS n FROM audit_log WHERE resource_type = 'relationship'",
        ),
        count(
            app,
            "SELECT count(*) AS n FROM changes WHERE kind = 'relationship'",
        ),
    ]
}

/// `who`'s entity of `kind` with natural key `xid`.
fn keyed(app: &TestApp, who: &Caller, kind: &str, xid: &str) -> Value {
    app.created_entity(who, &json!({"type": kind, "name": xid, "external_id": xid}))
}

/// A natural-key end: `{type, external_id}`.
fn key(kind: &str, xid: &str) -> Value {
    json!({"type": kind, "external_id": xid})
}

fn by_id(source: &Value, target: &Value, kind: &str) -> Value {
    json!({"source_id": source["id"], "target_id": target["id"], "type": kind})
}

fn batch(app: &TestApp, who: &Caller, items: &[Value], on_conflict: Option<&str>) -> Response {
    let mut body = json!({ "items": items });
    if let Some(mode) = on_conflict {
        body["on_conflict"] = json!(mode);
    }
    app.post_as(who, BATCH, &body)
}

/// A batch's answer with its status checked: `(items, outcomes)`.
fn answered(resp: Response, status: u16) -> (Vec<Value>, Value) {
    assert_eq!(resp.status(), status);
    let mut body = json_body(resp);
    let items = body["items"].as_array().unwrap().clone();
    (items, body["outcomes"].take())
}

/// The fields a 422 names.
fn refused(resp: Response) -> Vec<String> {
    assert_eq!(resp.status(), 422);
    error_fields(&json_body(resp))
}

/// ada with the people p-1, p-2 and the company c-1 (natural keys), and the app.
fn ada_and_three() -> (TestApp, Caller, [Value; 3]) {
    let app = app();
    let ada = app.caller("ada", "user");
    let people = [
        keyed(&app, &ada, "person", "p-1"),
        keyed(&app, &ada, "person", "p-2"),
        keyed(&app, &ada, "company", "c-1"),
    ];
    (app, ada, people)
}

#[test]
fn a_batch_with_ends_by_id_and_by_natural_key_creates_all_with_audit_and_change_rows() {
    let (app, ada, [p1, p2, c1]) = ada_and_three();
    let items = [
        by_id(&p1, &p2, "knows"),
        json!({"source": key("person", "p-2"), "target": key("company", "c-1"), "type": "works_at",
               "confidence": 0.5, "metadata": {"since": 2020}}),
        json!({"source_id": p1["id"], "target": key("company", "c-1"), "type": "works_at"}),
    ];
    let (rels, outcomes) = answered(batch(&app, &ada, &items, None), 201);
    assert_eq!(outcomes, json!(["created", "created", "created"]));
    let ends: Vec<_> = rels
        .iter()
        .map(|r| (&r["source_id"], &r["target_id"]))
        .collect();
    assert_eq!(
        ends,
        [
            (&p1["id"], &p2["id"]),
            (&p2["id"], &c1["id"]),
            (&p1["id"], &c1["id"])
        ]
    );
    assert_eq!(rels[1]["confidence"], 0.5);
    assert_eq!(rels[1]["metadata"], json!({"since": 2020}));
    for rel in &rels {
        assert_eq!(rel["created_by"], ada.id.as_str());
        assert_eq!(rel["version"], 1);
        let path = format!("/v1/relationships/{}", rel["id"].as_str().unwrap());
        assert_eq!(json_body(app.get_as(&ada, &path)), *rel);
    }
    assert_eq!(written(&app), [3, 3, 3]);
    // One audit row and one change (with its document) per relationship, of this one request.
    let audit = app.db.query_json(
        "SELECT count(DISTINCT request_id) AS requests, bool_and(action = 'relationship.create' \
         AND details = '{\"batch\": true}' AND actor_id IS NOT NULL) AS created, \
         count(DISTINCT resource_id) AS n FROM audit_log WHERE resource_type = 'relationship'",
    );
    assert_eq!(audit[0], json!({"requests": 1, "created": true, "n": 3}));
    let feed = app.db.query_json(
        "SELECT resource_id::text AS id, op, document FROM changes WHERE kind = 'relationship' \
         ORDER BY seq",
    );
    for (row, rel) in feed.as_array().unwrap().iter().zip(&rels) {
        assert_eq!(
            (&row["id"], row["op"].as_str()),
            (&rel["id"], Some("create"))
        );
        assert_eq!(row["document"], *rel);
    }
}

#[test]
fn one_bad_item_fails_the_whole_batch_naming_its_index_and_writes_nothing() {
    let (app, ada, [p1, p2, c1]) = ada_and_three();
    let gone = keyed(&app, &ada, "person", "gone");
    let path = format!("/v1/entities/{}", gone["id"].as_str().unwrap());
    assert_eq!(app.delete_as(&ada, &path).status(), 204);
    let good = by_id(&p1, &p2, "knows");

    // What is wrong with an item itself.
    let malformed = [
        good.clone(),
        json!({"source_id": p1["id"], "type": "knows"}),
        json!({"source_id": p1["id"], "target_id": p1["id"], "type": "knows"}),
        json!({"source_id": "p-1", "target_id": p2["id"], "type": 7, "confidence": 2}),
        json!("knows"),
        json!({"source": key("person", "p-1"), "target_id": p2["id"], "type": "k", "id": p1["id"]}),
    ];
    assert_eq!(
        refused(batch(&app, &ada, &malformed, None)),
        [
            "items[1].target_id",
            "items[2].target_id",
            "items[3].source_id",
            "items[3].type",
            "items[3].confidence",
            "items[4]",
            "items[5].id"
        ]
    );

    // What only its ends say: missing or deleted entities, one entity at both ends, the ends and
    // type of an earlier item (by id there, by natural key here).
    let unknown = json!({"id": uuid::Uuid::now_v7().to_string()});
    let ends = [
        good.clone(),
        by_id(&p1, &unknown, "knows"),
        json!({"source": key("person", "nobody"), "target_id": c1["id"], "type": "knows"}),
        by_id(&gone, &p2, "knows"),
        json!({"source": key("person", "p-1"), "target_id": p1["id"], "type": "knows"}),
        json!({"source": key("person", "p-1"), "target": key("person", "p-2"), "type": "knows"}),
        by_id(&p2, &p1, "knows"),
    ];
    let resp = batch(&app, &ada, &ends, Some("skip"));
    assert_eq!(resp.status(), 422);
    let problem = json_body(resp);
    assert_eq!(
        error_fields(&problem),
        [
            "items[1].target_id",
            "items[2].source",
            "items[3].source_id",
            "items[4].target_id",
            "items[5]"
        ],
        "{problem}"
    );
    assert!(
        problem.to_string().contains("repeats items[0]"),
        "{problem}"
    );
    assert_eq!(written(&app), [0, 0, 0], "all or nothing");
    let (_, outcomes) = answered(batch(&app, &ada, &[good], None), 201);
    assert_eq!(outcomes, json!(["created"]));
}

#[test]
fn on_conflict_error_skip_and_update_settle_an_existing_relationship() {
    let (app, ada, [p1, p2, c1]) = ada_and_three();
    let existing = app.post_as(&ada, "/v1/relationships", &by_id(&p1, &p2, "knows"));
    assert_eq!(existing.status(), 201);
    let existing = json_body(existing);
    let items = [
        json!({"source_id": p1["id"], "target": key("company", "c-1"), "type": "works_at",
               "confidence": 0.4}),
        json!({"source": key("person", "p-1"), "target_id": p2["id"], "type": "knows",
               "confidence": 0.3, "metadata": {"via": "batch"}}),
    ];

    let error = batch(&app, &ada, &items, None);
    assert_eq!(error.status(), 409);
    let detail = json_body(error)["detail"].as_str().unwrap().to_string();
    assert!(detail.starts_with("items[1]"), "{detail}");
    assert!(
        detail.contains(existing["id"].as_str().unwrap()),
        "{detail}"
    );
    assert_eq!(written(&app), [1, 1, 1], "all or nothing");

    let (rels, outcomes) = answered(batch(&app, &ada, &items, Some("skip")), 201);
    assert_eq!(outcomes, json!(["created", "skipped"]));
    assert_eq!(
        rels[1], existing,
        "a skipped item is the relationship as it was"
    );
    assert_eq!(rels[0]["target_id"], c1["id"]);
    assert_eq!(written(&app), [2, 2, 2]);

    let (updated, outcomes) = answered(batch(&app, &ada, &items, Some("update")), 200);
    assert_eq!(outcomes, json!(["updated", "updated"]), "nothing created");
    assert_eq!(updated[0]["id"], rels[0]["id"]);
    assert_eq!(updated[1]["id"], existing["id"]);
    assert_eq!(updated[1]["version"], 2);
    assert_eq!(updated[1]["confidence"], 0.3);
    assert_eq!(updated[1]["metadata"], json!({"via": "batch"}));
    assert_eq!(written(&app), [2, 4, 4]);
    let updates = count(
        &app,
        "SELECT count(*) AS n FROM changes WHERE kind = 'relationship' AND op = 'update'",
    );
    assert_eq!(updates, 2);

    // Another user may skip ada's relationship but not write over it; an admin may.
    let bob = app.caller("bob", "user");
    let mine = [json!({"source_id": p1["id"], "target_id": p2["id"], "type": "knows"})];
    assert_eq!(batch(&app, &bob, &mine, Some("update")).status(), 403);
    let (kept, outcomes) = answered(batch(&app, &bob, &mine, Some("skip")), 200);
    assert_eq!(outcomes, json!(["skipped"]));
    assert_eq!(kept[0], updated[1]);
    let root = app.caller("root", "admin");
    let (by_admin, _) = answered(batch(&app, &root, &mine, Some("update")), 200);
    assert_eq!(by_admin[0]["version"], 3);
    assert_eq!(by_admin[0]["created_by"], ada.id.as_str());
}

#[test]
fn a_replay_with_the_same_idempotency_key_writes_nothing_twice() {
    let (app, ada, [p1, p2, c1]) = ada_and_three();
    let body = json!({"items": [by_id(&p1, &p2, "knows"), by_id(&p2, &c1, "works_at")]});
    let keyed = |body: &Value| {
        app.send_as(
            &ada,
            app.post_json(BATCH, body)
                .header("idempotency-key", "run-1"),
        )
    };
    let first = keyed(&body);
    assert_eq!(first.status(), 201);
    assert_eq!(header(&first, "idempotent-replayed"), "");
    let first = json_body(first);
    let retry = keyed(&body);
    assert_eq!(
        retry.status(),
        201,
        "a replay, not the 409 of existing relationships"
    );
    assert_eq!(header(&retry, "idempotent-replayed"), "true");
    assert_eq!(json_body(retry), first);
    assert_eq!(written(&app), [2, 2, 2]);
    let other = keyed(&json!({"items": [by_id(&p1, &c1, "knows")]}));
    assert_eq!(error_fields(&json_body(other)), ["Idempotency-Key"]);
    assert_eq!(written(&app), [2, 2, 2]);
}

#[test]
fn natural_key_ends_resolve_among_the_callers_entities_unless_an_owner_is_named() {
    let (app, ada, [p1, ..]) = ada_and_three();
    let bob = app.caller("bob", "user");
    let bobs = keyed(&app, &bob, "company", "c-9");
    let bobs_c1 = keyed(&app, &bob, "company", "c-1");
    let to = |target: Value| [json!({"source_id": p1["id"], "target": target, "type": "likes"})];

    assert_eq!(
        refused(batch(&app, &ada, &to(key("company", "c-9")), None)),
        ["items[0].target"]
    );
    let (rels, _) = answered(batch(&app, &ada, &to(key("company", "c-1")), None), 201);
    assert_ne!(
        rels[0]["target_id"], bobs_c1["id"],
        "ada's own c-1, not bob's"
    );
    let named = json!({"type": "company", "external_id": "c-9", "owner_id": bob.id});
    let (rels, _) = answered(batch(&app, &ada, &to(named), None), 201);
    assert_eq!(rels[0]["target_id"], bobs["id"]);
    let bad_owner = json!({"type": "company", "external_id": "c-9", "owner_id": "bob"});
    assert_eq!(
        refused(batch(&app, &ada, &to(bad_owner), None)),
        ["items[0].target.owner_id"]
    );
}

#[test]
fn over_1000_items_is_422_and_a_body_over_1_mib_413_while_1000_fit() {
    let (app, ada, [p1, p2, _]) = ada_and_three();
    let items: Vec<Value> = (0..1001)
        .map(|i| by_id(&p1, &p2, &format!("k{i}")))
        .collect();
    assert_eq!(refused(batch(&app, &ada, &items, None)), ["items"]);
    let body = json!({"items": &items[..1000]});
    assert!(
        body.to_string().len() > 64 * 1024,
        "past the default body limit"
    );
    let (rels, _) = answered(app.post_as(&ada, BATCH, &body), 201);
    assert_eq!(rels.len(), 1000);
    assert_eq!(rels[999]["type"], "k999");
    assert_eq!(written(&app), [1000, 1000, 1000]);

    let padding = "x".repeat(8 * 1024);
    let heavy: Vec<Value> = (0..130)
        .map(|i| {
            json!({"source_id": p1["id"], "target_id": p2["id"], "type": format!("h{i}"),
                        "metadata": {"pad": padding}})
        })
        .collect();
    assert_eq!(batch(&app, &ada, &heavy, None).status(), 413);
    assert_eq!(written(&app), [1000, 1000, 1000]);
}

#[test]
fn a_credential_without_relationships_write_gets_403() {
    let (app, ada, [p1, p2, _]) = ada_and_three();
    let body = json!({"items": [by_id(&p1, &p2, "knows")]});
    for (name, scopes) in [
        ("graph reader", &["relationships:read"][..]),
        ("entity writer", &["entities:write", "entities:read"]),
    ] {
        let created = app.create_api_key(&ada, name, scopes);
        let resp = app
            .post_json(BATCH, &body)
            .header("x-api-key", created["key"].as_str().unwrap())
            .send()
            .unwrap();
        assert_eq!(resp.status(), 403, "{scopes:?}");
    }
    let writer = app.create_api_key(&ada, "writer", &["relationships:write"]);
    let resp = app
        .post_json(BATCH, &body)
        .header("x-api-key", writer["key"].as_str().unwrap())
        .send()
        .unwrap();
    assert_eq!(resp.status(), 201);
    assert_eq!(written(&app), [1, 1, 1]);
}
