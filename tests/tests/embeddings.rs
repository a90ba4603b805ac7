//! An entity's vectors end to end (issue 28 items 1, 5 and 6; docs/retrieval.md): `PUT/GET/DELETE
//! /v1/entities/{id}/embeddings/{space}`, `GET /v1/entities/{id}/embeddings`, the batch, and
//! `GET /v1/entities/{id}/duplicates`, against a real host (under `--spin-compat`), Postgres with
//! pgvector and Redis: validation naming the field, access, 404s, the batch all or nothing and
//! replayed, the change feed's `embedding` rows, delete/restore, merge copying vectors and
//! unmerge taking them back, the duplicates' ranking, and no statement returning a `vector`.
//!
//! Spaces are made in the test's database as the owner (`embedding_space_create`, what the
//! search component's `PUT /v1/embedding-spaces/{name}` runs): that route is another
//! component's, built beside this one.

use spingraph_e2e::{
    Caller, RequestBuilder, Response, TestApp, TestOptions, Value, error_fields, header, json,
    json_body,
};

fn app() -> TestApp {
    TestApp::start(TestOptions::signing_in_freely(&[]))
}

/// A space made as the owner (the search component's `PUT /v1/embedding-spaces/{name}` does
/// this through the API once both are merged); its id.
fn space(app: &TestApp, name: &str, dimensions: u32, distance: &str) -> i64 {
    let rows = app.db.query_json(&format!(
        "SELECT id FROM embedding_space_create('{name}', {dimensions}, '{distance}', NULL, NULL)"
    ));
    rows[0]["id"].as_i64().expect("a space id")
}

fn count(app: &TestApp, sql: &str) -> i64 {
    app.db.query_json(sql)[0]["n"].as_i64().unwrap()
}

fn id_of(v: &Value) -> &str {
    v["id"].as_str().unwrap()
}

fn entity(app: &TestApp, who: &Caller, kind: &str, name: &str) -> Value {
    app.created_entity(who, &json!({"type": kind, "name": name}))
}

fn path(entity: &Value, space: &str) -> String {
    format!("/v1/entities/{}/embeddings/{space}", id_of(entity))
}

fn put(app: &TestApp, who: &Caller, path: &str, body: &Value) -> Response {
    app.send_as(who, app.client().put(app.url(path)).json(body))
}

fn put_vector(app: &TestApp, who: &Caller, e: &Value, space: &str, vector: Value) -> Response {
    put(app, who, &path(e, space), &json!({ "vector": vector }))
}

/// The entity's vector in `space` as stored, as pgvector prints it.
fn stored(app: &TestApp, e: &Value, space: &str) -> Option<String> {
    let rows = app.db.query_json(&format!(
        "SELECT x.embedding::text AS v FROM embeddings x JOIN embedding_spaces s ON s.id = x.space_id \
         WHERE x.entity_id = '{}' AND s.name = '{space}'",
        id_of(e)
    ));
    rows[0]["v"].as_str().map(str::to_string)
}

fn last_seq(app: &TestApp) -> i64 {
    count(app, "SELECT coalesce(max(seq), 0) AS n FROM changes")
}

/// The `embedding` changes after `seq`: `{id, version, document}` in feed order.
fn embedding_changes(app: &TestApp, seq: i64) -> Vec<Value> {
    app.db
        .query_json(&format!(
            "SELECT resource_id::text AS id, version, kind, actor_id::text AS actor, document \
         FROM changes WHERE seq > {seq} AND op = 'embedding' ORDER BY txid, seq"
        ))
        .as_array()
        .unwrap()
        .clone()
}

fn assert_422_naming(resp: Response, fields: &[&str], what: &str) -> Value {
    assert_eq!(resp.status(), 422, "{what}");
    assert!(
        header(&resp, "content-type").starts_with("application/problem+json"),
        "{what}"
    );
    let body = json_body(resp);
    assert_eq!(error_fields(&body), fields, "{what}: {body}");
    body
}

// ------------------------------------------------------------------ one vector

#[test]
fn a_vector_is_written_read_listed_and_deleted_and_each_write_is_an_embedding_change() {
    let app = app();
    let ada = app.caller("ada", "user");
    space(&app, "minilm", 3, "cosine");
    space(&app, "coords", 2, "l2");
    let e = entity(&app, &ada, "person", "Ada Lovelace");
    let before = last_seq(&app);

    let resp = put_vector(&app, &ada, &e, "minilm", json!([0.1, -0.25, 3]));
    assert_eq!(resp.status(), 201);
    assert_eq!(
        header(&resp, "location"),
        format!("/v1/entities/{}/embeddings/minilm", id_of(&e))
    );
    let body = json_body(resp);
    assert_eq!(body["entity_id"], e["id"]);
    assert_eq!(body["space"], "minilm");
    assert_eq!(body["dimensions"], 3);
    assert_eq!(body["vector"], json!([0.1, -0.25, 3.0]));
    assert!(body["updated_at"].as_str().unwrap().ends_with('Z'));
    assert_eq!(stored(&app, &e, "minilm").as_deref(), Some("[0.1,-0.25,3]"));

    // again: replaced, 200
    let resp = put_vector(&app, &ada, &e, "minilm", json!([1, 2, 3]));
    assert_eq!(resp.status(), 200);
    assert_eq!(json_body(resp)["vector"], json!([1.0, 2.0, 3.0]));
    let resp = put_vector(&app, &ada, &e, "coords", json!([0, 0]));
    assert_eq!(resp.status(), 201, "zeros are a vector in an l2 space");

    let resp = app.get_as(&ada, &path(&e, "minilm"));
    assert_eq!(resp.status(), 200);
    assert_eq!(json_body(resp)["vector"], json!([1.0, 2.0, 3.0]));
    let list = json_body(app.get_as(&ada, &format!("/v1/entities/{}/embeddings", id_of(&e))));
    let spaces: Vec<&str> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["space"].as_str().unwrap())
        .collect();
    assert_eq!(spaces, ["coords", "minilm"]);
    assert_eq!(list["items"][0]["vector"], json!([0.0, 0.0]));

    let resp = app.delete_as(&ada, &path(&e, "coords"));
    assert_eq!(resp.status(), 204);
    assert_eq!(stored(&app, &e, "coords"), None);
    assert_eq!(app.delete_as(&ada, &path(&e, "coords")).status(), 404);
    assert_eq!(app.get_as(&ada, &path(&e, "coords")).status(), 404);

    // put, put, put, delete: four `embedding` changes of the entity, the entity as it is (its
    // version untouched) plus which space and whether it has a vector there now
    let changes = embedding_changes(&app, before);
    let seen: Vec<(Value, Value)> = changes
        .iter()
        .map(|c| {
            (
                c["document"]["embedding"]["space"].clone(),
                c["document"]["embedding"]["present"].clone(),
            )
        })
        .collect();
    assert_eq!(
        seen,
        [
            (json!("minilm"), json!(true)),
            (json!("minilm"), json!(true)),
            (json!("coords"), json!(true)),
            (json!("coords"), json!(false)),
        ]
    );
    for c in &changes {
        assert_eq!(c["id"], e["id"]);
        assert_eq!(c["kind"], "entity");
        assert_eq!(c["version"], 1);
        assert_eq!(c["actor"], ada.id.as_str());
        assert_eq!(c["document"]["name"], "Ada Lovelace");
        assert_eq!(c["document"]["version"], 1);
    }
    // and each is audited
    let audit = app.db.query_json(&format!(
        "SELECT details FROM audit_log WHERE action = 'entity.embedding' AND resource_id = '{}' \
         AND actor_id = '{}' ORDER BY at, id",
        id_of(&e),
        ada.id
    ));
    assert_eq!(audit.as_array().unwrap().len(), 4, "{audit}");
    assert_eq!(
        audit[3]["details"],
        json!({"space": "coords", "present": false})
    );
    let got = json_body(app.get_as(&ada, &format!("/v1/entities/{}", id_of(&e))));
    assert_eq!(got["version"], 1, "a vector write is no entity write");

    // the feed serves them (op `embedding`) to a reader of changes
    let admin = app.caller("root", "admin");
    let feed = json_body(app.get_as(&admin, "/v1/changes?limit=200"));
    let ops: Vec<&str> = feed["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["id"] == e["id"])
        .map(|c| c["op"].as_str().unwrap())
        .collect();
    assert_eq!(
        ops,
        ["create", "embedding", "embedding", "embedding", "embedding"]
    );
}

#[test]
fn each_vector_rule_is_a_422_naming_vector_and_unknown_things_are_404s() {
    let app = app();
    let ada = app.caller("ada", "user");
    space(&app, "minilm", 3, "cosine");
    let e = entity(&app, &ada, "person", "Ada");
    for (body, what) in [
        (json!({"vector": "0.1,0.2,0.3"}), "not an array"),
        (
            json!({"vector": [0.1, "0.2", 0.3]}),
            "a string among the numbers",
        ),
        (
            json!({"vector": [0.1, null, 0.3]}),
            "a null among the numbers",
        ),
        (json!({"vector": [0.1, 0.2]}), "too short"),
        (json!({"vector": [0.1, 0.2, 0.3, 0.4]}), "too long"),
        (json!({"vector": []}), "empty"),
        (
            json!({"vector": [0.1, 1e39, 0.3]}),
            "not finite in single precision",
        ),
        (
            json!({"vector": [0, 0.0, -0.0]}),
            "all zeros in a cosine space",
        ),
        (json!({}), "missing"),
        (json!({"vector": null}), "null"),
    ] {
        let resp = put(&app, &ada, &path(&e, "minilm"), &body);
        assert_422_naming(resp, &["vector"], what);
    }
    let resp = put(
        &app,
        &ada,
        &path(&e, "minilm"),
        &json!({"vector": [1, 2, 3], "x": 1}),
    );
    assert_422_naming(resp, &["x"], "an unknown field");
    let too_big = json!({"vector": vec![0.123_456_789_f64; 8000]});
    assert_eq!(put(&app, &ada, &path(&e, "minilm"), &too_big).status(), 413);
    assert_eq!(count(&app, "SELECT count(*) AS n FROM embeddings"), 0);
    assert_eq!(
        count(
            &app,
            "SELECT count(*) AS n FROM changes WHERE op = 'embedding'"
        ),
        0
    );

    // unknown space, entity, or a path id that is no UUID: 404
    let ok = json!([1, 2, 3]);
    for (p, what) in [
        (path(&e, "nope"), "unknown space"),
        (
            format!("/v1/entities/{}/embeddings/minilm", uuid::Uuid::now_v7()),
            "unknown entity",
        ),
        (
            "/v1/entities/not-a-uuid/embeddings/minilm".to_string(),
            "not a uuid",
        ),
    ] {
        let resp = put(&app, &ada, &p, &json!({ "vector": ok }));
        assert_eq!(resp.status(), 404, "PUT {what}");
        assert_eq!(app.get_as(&ada, &p).status(), 404, "GET {what}");
        assert_eq!(app.delete_as(&ada, &p).status(), 404, "DELETE {what}");
    }
    assert_eq!(
        app.get_as(
            &ada,
            &format!("/v1/entities/{}/embeddings", uuid::Uuid::now_v7())
        )
        .status(),
        404
    );
    // an entity with no vector there
    assert_eq!(app.get_as(&ada, &path(&e, "minilm")).status(), 404);
}

#[test]
fn only_the_owner_or_an_admin_writes_an_entitys_vectors_and_every_reader_reads_them() {
    let app = app();
    let [ada, bob] = app.users(["ada", "bob"]);
    let admin = app.caller("root", "admin");
    space(&app, "minilm", 2, "cosine");
    let e = entity(&app, &ada, "person", "Ada");
    let p = path(&e, "minilm");
    assert_eq!(
        put_vector(&app, &ada, &e, "minilm", json!([1, 0])).status(),
        201
    );

    assert_eq!(
        put_vector(&app, &bob, &e, "minilm", json!([0, 1])).status(),
        403
    );
    // any principal with entities:read reads any entity (SPEC §4), and so its vectors
    let resp = app.get_as(&bob, &p);
    assert_eq!(resp.status(), 200);
    assert_eq!(json_body(resp)["vector"], json!([1.0, 0.0]));
    let resp = app.get_as(&bob, &format!("/v1/entities/{}/embeddings", id_of(&e)));
    assert_eq!(resp.status(), 200);
    assert_eq!(json_body(resp)["items"].as_array().unwrap().len(), 1);
    assert_eq!(app.delete_as(&bob, &p).status(), 403);
    let batch = json!({"space": "minilm", "items": [{"entity_id": e["id"], "vector": [0, 1]}]});
    assert_eq!(
        app.post_as(&bob, "/v1/entities/embeddings/batch", &batch)
            .status(),
        403
    );
    assert_eq!(
        app.get_as(&bob, &format!("/v1/entities/{}/duplicates", id_of(&e)))
            .status(),
        403
    );
    assert_eq!(stored(&app, &e, "minilm").as_deref(), Some("[1,0]"));

    // an admin may
    assert_eq!(
        put_vector(&app, &admin, &e, "minilm", json!([0, 1])).status(),
        200
    );
    assert_eq!(app.get_as(&admin, &p).status(), 200);

    // an API key with entities:read reads and writes nothing
    let created = app.create_api_key(&ada, "reader", &["entities:read"]);
    let key = ["key", "api_key", "secret"]
        .iter()
        .find_map(|f| created[*f].as_str())
        .expect("the created key is shown once")
        .to_string();
    let with_key = |rb: RequestBuilder| {
        rb.header("authorization", format!("ApiKey {key}"))
            .send()
            .unwrap()
    };
    assert_eq!(with_key(app.get(&p)).status(), 200);
    assert_eq!(
        with_key(
            app.client()
                .put(app.url(&p))
                .json(&json!({"vector": [1, 1]}))
        )
        .status(),
        403
    );
    assert_eq!(with_key(app.delete(&p)).status(), 403);
    let mine = json!({"space": "minilm", "items": [{"entity_id": e["id"], "vector": [1, 1]}]});
    assert_eq!(
        with_key(app.post_json("/v1/entities/embeddings/batch", &mine)).status(),
        403
    );
    assert_eq!(stored(&app, &e, "minilm").as_deref(), Some("[0,1]"));
}

// ------------------------------------------------------------------ the batch

#[test]
fn a_batch_is_all_or_nothing_names_each_bad_item_and_replays_under_its_key() {
    let app = app();
    let [ada, bob] = app.users(["ada", "bob"]);
    space(&app, "minilm", 3, "cosine");
    let a = entity(&app, &ada, "person", "A");
    let b = entity(&app, &ada, "person", "B");
    let gone = entity(&app, &ada, "person", "Gone");
    assert_eq!(
        app.delete_as(&ada, &format!("/v1/entities/{}", id_of(&gone)))
            .status(),
        204
    );
    let bobs = entity(&app, &bob, "person", "Bob's");
    let url = "/v1/entities/embeddings/batch";
    let before = last_seq(&app);

    let resp = app.post_as(
        &ada,
        url,
        &json!({"space": "minilm", "items": [
            {"entity_id": a["id"], "vector": [1, 0, 0]},
            {"entity_id": b["id"], "vector": [1, 0]},
            {"entity_id": uuid::Uuid::now_v7(), "vector": [1, 0, 0]},
            {"entity_id": gone["id"], "vector": [0, 0, 0]},
            {"entity_id": "x", "vector": [1, 0, 0]},
            {"entity_id": a["id"], "vector": [0, 1, 0]},
        ]}),
    );
    let body = assert_422_naming(
        resp,
        &["items[4].entity_id", "items[5].entity_id"],
        "shape errors first",
    );
    assert!(
        body["errors"][1]["message"]
            .as_str()
            .unwrap()
            .contains("items[0]")
    );
    let resp = app.post_as(
        &ada,
        url,
        &json!({"space": "minilm", "items": [
            {"entity_id": a["id"], "vector": [1, 0, 0]},
            {"entity_id": b["id"], "vector": [1, 0]},
            {"entity_id": uuid::Uuid::now_v7(), "vector": [1, 0, 0]},
            {"entity_id": gone["id"], "vector": [0, 0, 0]},
        ]}),
    );
    assert_422_naming(
        resp,
        &[
            "items[1].vector",
            "items[2].entity_id",
            "items[3].vector",
            "items[3].entity_id",
        ],
        "every bad item of the space",
    );
    let too_many: Vec<Value> = (0..257)
        .map(|_| json!({"entity_id": a["id"], "vector": [1, 0, 0]}))
        .collect();
    assert_422_naming(
        app.post_as(&ada, url, &json!({"space": "minilm", "items": too_many})),
        &["items"],
        "257 items",
    );
    assert_422_naming(
        app.post_as(&ada, url, &json!({"space": "minilm", "items": []})),
        &["items"],
        "no items",
    );
    let unknown = json!({"space": "nope", "items": [{"entity_id": a["id"], "vector": [1, 0, 0]}]});
    assert_eq!(app.post_as(&ada, url, &unknown).status(), 404);
    let with_bobs = json!({"space": "minilm", "items": [
        {"entity_id": a["id"], "vector": [1, 0, 0]},
        {"entity_id": bobs["id"], "vector": [1, 0, 0]},
    ]});
    assert_eq!(app.post_as(&ada, url, &with_bobs).status(), 403);
    // past the 1 MiB batch limit: a 413 problem, nothing read
    let huge: Vec<Value> = (0..256)
        .map(|_| json!({"entity_id": a["id"], "vector": vec![0.123_456_789_f64; 384]}))
        .collect();
    let resp = app.post_as(&ada, url, &json!({"space": "minilm", "items": huge}));
    assert_eq!(resp.status(), 413);
    assert!(header(&resp, "content-type").starts_with("application/problem+json"));
    assert_eq!(count(&app, "SELECT count(*) AS n FROM embeddings"), 0);
    assert!(embedding_changes(&app, before).is_empty());

    // a good one, under a key: 201, one change per item; the retry replays and writes nothing
    let good = json!({"space": "minilm", "items": [
        {"entity_id": b["id"], "vector": [0, 1, 0]},
        {"entity_id": a["id"], "vector": [1, 0, 0]},
    ]});
    let send = || {
        app.send_as(
            &ada,
            app.post_json(url, &good)
                .header("idempotency-key", "vectors-1"),
        )
    };
    let first = send();
    assert_eq!(first.status(), 201);
    assert_eq!(header(&first, "idempotent-replayed"), "");
    let first = json_body(first);
    assert_eq!(
        first,
        json!({"items": [
            {"entity_id": b["id"], "created": true},
            {"entity_id": a["id"], "created": true},
        ]})
    );
    let changes = embedding_changes(&app, before);
    assert_eq!(changes.len(), 2);
    let retry = send();
    assert_eq!(retry.status(), 201);
    assert_eq!(header(&retry, "idempotent-replayed"), "true");
    assert_eq!(json_body(retry), first);
    assert_eq!(embedding_changes(&app, before).len(), 2);
    assert_eq!(
        count(
            &app,
            "SELECT count(*) AS n FROM audit_log WHERE action = 'entity.embedding'"
        ),
        2
    );
    assert_eq!(stored(&app, &a, "minilm").as_deref(), Some("[1,0,0]"));

    // the same vectors again, without a key: replaced, 200
    let again = app.post_as(&ada, url, &good);
    assert_eq!(again.status(), 200);
    assert_eq!(json_body(again)["items"][0]["created"], false);
    assert_eq!(embedding_changes(&app, before).len(), 4);
}

// ------------------------------------------------------------------ delete, restore, merge

#[test]
fn a_deleted_entity_keeps_its_vectors_out_of_sight_and_restore_brings_them_back() {
    let app = app();
    let ada = app.caller("ada", "user");
    let admin = app.caller("root", "admin");
    space(&app, "minilm", 2, "cosine");
    let e = entity(&app, &ada, "company", "Acme Corporation");
    let twin = entity(&app, &ada, "company", "Acme Corporation");
    assert_eq!(
        put_vector(&app, &ada, &e, "minilm", json!([1, 0])).status(),
        201
    );
    assert_eq!(
        put_vector(&app, &ada, &twin, "minilm", json!([1, 0])).status(),
        201
    );
    let dupes = |who: &Caller| {
        let resp = app.get_as(
            who,
            &format!("/v1/entities/{}/duplicates?space=minilm", id_of(&twin)),
        );
        assert_eq!(resp.status(), 200);
        json_body(resp)["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d["entity"]["id"].as_str().unwrap().to_string())
            .collect::<Vec<_>>()
    };
    assert_eq!(dupes(&ada), [id_of(&e)]);

    assert_eq!(
        app.delete_as(&ada, &format!("/v1/entities/{}", id_of(&e)))
            .status(),
        204
    );
    assert_eq!(stored(&app, &e, "minilm").as_deref(), Some("[1,0]"), "kept");
    assert_eq!(app.get_as(&ada, &path(&e, "minilm")).status(), 404);
    assert_eq!(app.get_as(&admin, &path(&e, "minilm")).status(), 404);
    assert_eq!(
        put_vector(&app, &ada, &e, "minilm", json!([0, 1])).status(),
        404
    );
    assert_eq!(app.delete_as(&ada, &path(&e, "minilm")).status(), 404);
    assert!(
        dupes(&ada).is_empty(),
        "no duplicates answer shows a deleted entity"
    );
    assert!(dupes(&admin).is_empty());
    assert_eq!(
        app.get_as(&ada, &format!("/v1/entities/{}/duplicates", id_of(&e)))
            .status(),
        404
    );

    let resp = app.post_as(
        &admin,
        &format!("/v1/entities/{}/restore", id_of(&e)),
        &json!({}),
    );
    assert_eq!(resp.status(), 200);
    let resp = app.get_as(&ada, &path(&e, "minilm"));
    assert_eq!(resp.status(), 200);
    assert_eq!(json_body(resp)["vector"], json!([1.0, 0.0]));
    assert_eq!(dupes(&ada), [id_of(&e)]);
}

#[test]
fn a_merge_copies_vectors_the_survivor_lacks_and_an_unmerge_takes_them_back() {
    let app = app();
    let ada = app.caller("ada", "user");
    let a = space(&app, "alpha", 2, "cosine");
    let b = space(&app, "beta", 2, "l2");
    space(&app, "gamma", 2, "l2");
    let survivor = entity(&app, &ada, "company", "Acme");
    let merged = entity(&app, &ada, "company", "ACME Inc");
    let second = entity(&app, &ada, "company", "Acme Incorporated");
    assert_eq!(
        put_vector(&app, &ada, &survivor, "alpha", json!([1, 0])).status(),
        201
    );
    assert_eq!(
        put_vector(&app, &ada, &merged, "alpha", json!([0, 1])).status(),
        201
    );
    assert_eq!(
        put_vector(&app, &ada, &merged, "beta", json!([3, 4])).status(),
        201
    );
    assert_eq!(
        put_vector(&app, &ada, &second, "beta", json!([5, 6])).status(),
        201
    );
    assert_eq!(
        put_vector(&app, &ada, &second, "gamma", json!([7, 8])).status(),
        201
    );
    let before = last_seq(&app);

    let resp = app.post_as(
        &ada,
        &format!("/v1/entities/{}/merge", id_of(&survivor)),
        &json!({"from": [id_of(&merged), id_of(&second)]}),
    );
    assert_eq!(resp.status(), 200);
    let merge_id = app.db.query_json(&format!(
        "SELECT id::text AS id FROM merges WHERE survivor_id = '{}'",
        id_of(&survivor)
    ))[0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    // alpha: the survivor's own stays; beta: the first of `from` that has one; gamma: the second's
    assert_eq!(stored(&app, &survivor, "alpha").as_deref(), Some("[1,0]"));
    assert_eq!(stored(&app, &survivor, "beta").as_deref(), Some("[3,4]"));
    assert_eq!(stored(&app, &survivor, "gamma").as_deref(), Some("[7,8]"));
    let copies = app.db.query_json(&format!(
        "SELECT space_id, merged_from::text AS merge FROM embeddings WHERE entity_id = '{}' ORDER BY space_id",
        id_of(&survivor)
    ));
    assert_eq!(copies[0], json!({"space_id": a, "merge": null}));
    assert_eq!(copies[1], json!({"space_id": b, "merge": merge_id}));
    assert_eq!(copies[2]["merge"], merge_id.as_str());
    // the merged entities keep theirs
    assert_eq!(stored(&app, &merged, "alpha").as_deref(), Some("[0,1]"));
    assert_eq!(stored(&app, &second, "beta").as_deref(), Some("[5,6]"));
    // one `embedding` change of the survivor per copy
    let changes = embedding_changes(&app, before);
    let mut copied: Vec<(String, Value)> = changes
        .iter()
        .map(|c| {
            assert_eq!(c["id"], survivor["id"]);
            assert!(c["document"]["merged_into"].is_null());
            (
                c["document"]["embedding"]["space"]
                    .as_str()
                    .unwrap()
                    .to_string(),
                c["document"]["embedding"]["present"].clone(),
            )
        })
        .collect();
    copied.sort_by(|x, y| x.0.cmp(&y.0));
    assert_eq!(
        copied,
        [
            ("beta".to_string(), json!(true)),
            ("gamma".to_string(), json!(true))
        ]
    );
    // the survivor's vectors answer as its own
    let list = json_body(app.get_as(
        &ada,
        &format!("/v1/entities/{}/embeddings", id_of(&survivor)),
    ));
    assert_eq!(list["items"].as_array().unwrap().len(), 3);
    // a merged entity's vectors are out of reach through the API
    assert_eq!(app.get_as(&ada, &path(&merged, "alpha")).status(), 404);

    // gamma written since by hand: the survivor's own now, an unmerge leaves it
    assert_eq!(
        put_vector(&app, &ada, &survivor, "gamma", json!([9, 9])).status(),
        200
    );
    let before = last_seq(&app);
    let resp = app.post_as(
        &ada,
        &format!("/v1/entities/{}/unmerge", id_of(&survivor)),
        &json!({"from": [id_of(&merged), id_of(&second)]}),
    );
    assert_eq!(resp.status(), 200);
    assert_eq!(stored(&app, &survivor, "alpha").as_deref(), Some("[1,0]"));
    assert_eq!(
        stored(&app, &survivor, "beta"),
        None,
        "the copy is taken back"
    );
    assert_eq!(stored(&app, &survivor, "gamma").as_deref(), Some("[9,9]"));
    assert_eq!(stored(&app, &merged, "beta").as_deref(), Some("[3,4]"));
    let changes = embedding_changes(&app, before);
    assert_eq!(changes.len(), 1);
    assert_eq!(changes[0]["id"], survivor["id"]);
    assert_eq!(
        changes[0]["document"]["embedding"],
        json!({"space": "beta", "present": false})
    );
    // the unmerged ones are live with their vectors
    assert_eq!(app.get_as(&ada, &path(&merged, "alpha")).status(), 200);
}

#[test]
fn a_partial_unmerge_takes_back_only_the_copy_of_the_entity_taken_out() {
    let app = app();
    let ada = app.caller("ada", "user");
    space(&app, "alpha", 2, "l2");
    space(&app, "beta", 2, "l2");
    let survivor = entity(&app, &ada, "company", "Acme");
    let one = entity(&app, &ada, "company", "Acme One");
    let two = entity(&app, &ada, "company", "Acme Two");
    assert_eq!(
        put_vector(&app, &ada, &one, "alpha", json!([1, 1])).status(),
        201
    );
    assert_eq!(
        put_vector(&app, &ada, &two, "beta", json!([2, 2])).status(),
        201
    );
    let resp = app.post_as(
        &ada,
        &format!("/v1/entities/{}/merge", id_of(&survivor)),
        &json!({"from": [id_of(&one), id_of(&two)]}),
    );
    assert_eq!(resp.status(), 200);
    let resp = app.post_as(
        &ada,
        &format!("/v1/entities/{}/unmerge", id_of(&survivor)),
        &json!({"from": [id_of(&one)]}),
    );
    assert_eq!(resp.status(), 200);
    assert_eq!(
        stored(&app, &survivor, "alpha"),
        None,
        "one's copy goes with it"
    );
    assert_eq!(
        stored(&app, &survivor, "beta").as_deref(),
        Some("[2,2]"),
        "two stays merged"
    );
    let resp = app.post_as(
        &ada,
        &format!("/v1/entities/{}/unmerge", id_of(&survivor)),
        &json!({"from": [id_of(&two)]}),
    );
    assert_eq!(resp.status(), 200);
    assert_eq!(stored(&app, &survivor, "beta"), None);
}

// ------------------------------------------------------------------ duplicates

fn duplicates(app: &TestApp, who: &Caller, e: &Value, query: &str) -> Vec<Value> {
    let resp = app.get_as(who, &format!("/v1/entities/{}/duplicates{query}", id_of(e)));
    assert_eq!(resp.status(), 200, "duplicates{query}");
    json_body(resp)["items"].as_array().unwrap().clone()
}

fn names(items: &[Value]) -> Vec<&str> {
    items
        .iter()
        .map(|d| d["entity"]["name"].as_str().unwrap())
        .collect()
}

#[test]
fn duplicates_fuse_vector_and_name_rankings_among_live_entities_of_the_type_and_owner() {
    let app = app();
    let [ada, bob] = app.users(["ada", "bob"]);
    let admin = app.caller("root", "admin");
    space(&app, "dup", 3, "cosine");
    space(&app, "other", 3, "cosine");
    let target = entity(&app, &ada, "company", "Acme Corporation");
    assert_eq!(
        put_vector(&app, &ada, &target, "dup", json!([1, 0, 0])).status(),
        201
    );
    // by name only (no vector): the most similar name
    let by_name = entity(&app, &ada, "company", "Acme Corporation Ltd");
    // by vector only: the nearest vector, a name far below the trigram threshold
    let by_vector = entity(&app, &ada, "company", "Zeta Holdings");
    assert_eq!(
        put_vector(&app, &ada, &by_vector, "dup", json!([0.99, 0.1, 0])).status(),
        201
    );
    // second in both lists
    let both = entity(&app, &ada, "company", "Acme Corp");
    assert_eq!(
        put_vector(&app, &ada, &both, "dup", json!([0.9, 0.3, 0])).status(),
        201
    );
    // what must never show: each has the target's very name and vector
    let twin = |who: &Caller, kind: &str| {
        let e = entity(&app, who, kind, "Acme Corporation");
        assert_eq!(
            put_vector(&app, who, &e, "dup", json!([1, 0, 0])).status(),
            201
        );
        e
    };
    let deleted = twin(&ada, "company");
    assert_eq!(
        app.delete_as(&ada, &format!("/v1/entities/{}", id_of(&deleted)))
            .status(),
        204
    );
    let merged = twin(&ada, "company");
    let resp = app.post_as(
        &ada,
        &format!("/v1/entities/{}/merge", id_of(&target)),
        &json!({"from": [id_of(&merged)]}),
    );
    assert_eq!(resp.status(), 200);
    twin(&bob, "company");
    twin(&ada, "person");

    // names alone: the two names above the threshold, the closer first
    let items = duplicates(&app, &ada, &target, "");
    assert_eq!(names(&items), ["Acme Corporation Ltd", "Acme Corp"]);
    assert!(items.iter().all(|d| d["vector_distance"].is_null()));
    assert!(
        items[0]["name_similarity"].as_f64().unwrap()
            > items[1]["name_similarity"].as_f64().unwrap()
    );
    assert!((items[0]["score"].as_f64().unwrap() - 1.0 / 61.0).abs() < 1e-9);
    assert!((items[1]["score"].as_f64().unwrap() - 1.0 / 62.0).abs() < 1e-9);

    // with the space: second in both lists beats first in one; the two firsts tie (by id)
    let items = duplicates(&app, &ada, &target, "?space=dup");
    assert_eq!(names(&items)[0], "Acme Corp");
    assert!((items[0]["score"].as_f64().unwrap() - 2.0 / 62.0).abs() < 1e-9);
    let mut rest = vec![id_of(&by_name), id_of(&by_vector)];
    rest.sort();
    let got: Vec<&str> = items[1..]
        .iter()
        .map(|d| d["entity"]["id"].as_str().unwrap())
        .collect();
    assert_eq!(got, rest);
    let zeta = items
        .iter()
        .find(|d| d["entity"]["id"] == by_vector["id"])
        .unwrap();
    assert!(zeta["vector_distance"].as_f64().unwrap() < 0.01);
    assert!(zeta["name_similarity"].as_f64().unwrap() < 0.3);
    let ltd = items
        .iter()
        .find(|d| d["entity"]["id"] == by_name["id"])
        .unwrap();
    assert!(ltd["vector_distance"].is_null());
    assert_eq!(
        names(&duplicates(&app, &ada, &target, "?space=dup&limit=1")),
        ["Acme Corp"]
    );
    // a space the entity has no vector in: by name
    assert_eq!(
        names(&duplicates(&app, &ada, &target, "?space=other")),
        ["Acme Corporation Ltd", "Acme Corp"]
    );
    // an admin sees the same
    assert_eq!(duplicates(&app, &admin, &target, "?space=dup").len(), 3);

    let p = format!("/v1/entities/{}/duplicates", id_of(&target));
    assert_eq!(app.get_as(&ada, &format!("{p}?space=nope")).status(), 404);
    for bad in ["0", "51", "x"] {
        spingraph_e2e::assert_query_rejected(
            app.get_as(&ada, &format!("{p}?limit={bad}")),
            "limit",
            bad,
        );
    }
    assert_eq!(
        app.get_as(
            &ada,
            &format!("/v1/entities/{}/duplicates", uuid::Uuid::now_v7())
        )
        .status(),
        404
    );
}

// ------------------------------------------------------------------ Spin compatibility

mod statements {
    //! Every statement of the entities component that touches vectors, prepared on a migrated
    //! database: each is valid SQL and returns no column of type `vector` (released Spin has no
    //! such type; the host's `--spin-compat` hands one over as unsupported bytes). And the
    //! duplicates statement's vector list is served by the space's HNSW index.

    use super::*;
    use entities::sql;
    use entities::store::embedding::{Space, duplicates_statement};

    /// `template` with every `{slot}` filled by a one-row CTE body.
    fn filled(template: &str) -> String {
        let slot = regex::Regex::new(r"\{[a-z_]+\}").unwrap();
        slot.replace_all(template, "SELECT 1").into_owned()
    }

    fn run<T>(url: &str, f: impl AsyncFnOnce(&tokio_postgres::Client) -> T) -> T {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
            .block_on(async {
                let (client, conn) = tokio_postgres::connect(url, tokio_postgres::NoTls)
                    .await
                    .expect("connecting to the test database");
                tokio::spawn(conn);
                f(&client).await
            })
    }

    #[test]
    fn no_statement_of_an_entitys_vectors_returns_a_vector_column() {
        let app = app();
        let id = space(&app, "minilm", 3, "cosine") as i32;
        let space = Space {
            id,
            name: "minilm".into(),
            dimensions: 3,
            distance: "cosine".into(),
        };
        let statements = [
            ("SPACE", filled(sql::SPACE)),
            ("VECTOR", filled(sql::VECTOR)),
            ("VECTORS", filled(sql::VECTORS)),
            ("PUT_VECTOR", filled(sql::PUT_VECTOR)),
            ("PUT_VECTORS", filled(sql::PUT_VECTORS)),
            ("DELETE_VECTOR", filled(sql::DELETE_VECTOR)),
            ("MERGE", filled(sql::MERGE)),
            ("UNMERGE", filled(sql::UNMERGE)),
            ("DUPLICATES", duplicates_statement(Some(&space)).unwrap()),
            ("DUPLICATES by name", duplicates_statement(None).unwrap()),
        ];
        let columns = run(&app.db.url, async |client| {
            let mut out = Vec::new();
            for (name, statement) in &statements {
                let prepared = client
                    .prepare(statement)
                    .await
                    .unwrap_or_else(|e| panic!("{name} does not prepare: {e:?}\n{statement}"));
                for c in prepared.columns() {
                    out.push((
                        name.to_string(),
                        c.name().to_string(),
                        c.type_().name().to_string(),
                    ));
                }
            }
            out
        });
        assert_eq!(columns.len(), statements.len(), "{columns:?}");
        for (name, column, ty) in &columns {
            assert_eq!((column.as_str(), ty.as_str()), ("j", "jsonb"), "{name}");
        }
        // the check would see one: a vector column is named as such
        let seen = run(&app.db.url, async |client| {
            let p = client.prepare("SELECT '[1,2]'::vector AS v").await.unwrap();
            p.columns()[0].type_().name().to_string()
        });
        assert_eq!(seen, "vector");
    }

    #[test]
    fn the_duplicates_vector_list_is_served_by_the_spaces_hnsw_index() {
        let app = app();
        let ada = app.caller("ada", "user");
        let id = space(&app, "minilm", 3, "cosine") as i32;
        let e = entity(&app, &ada, "company", "Acme");
        assert_eq!(
            put_vector(&app, &ada, &e, "minilm", json!([1, 0, 0])).status(),
            201
        );
        let space = Space {
            id,
            name: "minilm".into(),
            dimensions: 3,
            distance: "cosine".into(),
        };
        // the statement with its parameters written in
        let statement = duplicates_statement(Some(&space))
            .unwrap()
            .replace("$1::uuid", &format!("'{}'::uuid", id_of(&e)))
            .replace("$2::text", "'company'::text")
            .replace("$3::uuid", &format!("'{}'::uuid", ada.id))
            .replace("$4::text", "'Acme'::text")
            .replace("$5::int", "40")
            .replace("$6::int", "10");
        let plan = run(&app.db.url, async |client| {
            client
                .batch_execute(
                    "SET enable_seqscan = off; SET enable_sort = off; \
                     SET hnsw.iterative_scan = relaxed_order",
                )
                .await
                .unwrap();
            let rows = client
                .query(&format!("EXPLAIN {statement}"), &[])
                .await
                .unwrap();
            rows.iter()
                .map(|r| r.get::<_, String>(0))
                .collect::<Vec<_>>()
                .join("\n")
        });
        assert!(
            plan.contains(&format!("embeddings_space_{id}_hnsw")),
            "{plan}"
        );
    }
}
