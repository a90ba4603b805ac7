//! Retrieval (issue 28, docs/retrieval.md): embedding spaces (`/v1/embedding-spaces/...`) and
//! `POST /v1/search` over HTTP against the real host (under `--spin-compat`, as every test here),
//! Postgres with pgvector and Redis: validation, scopes, whose entities a search sees, each
//! filter, reciprocal-rank fusion, typos and websearch syntax, the expanded subgraph and its
//! bounds, the admin's spaces, and the recall of a filtered nearest-neighbour search over 20 000
//! vectors against an exact one.
//!
//! Vectors are stored by SQL as the database owner: the entity-vector routes (`PUT
//! /v1/entities/{id}/embeddings/{space}`, `POST /v1/entities/embeddings/batch`) are the entities
//! component's, built beside this one (they exist once both are merged).

use spingraph_e2e::{
    Caller, Response, TestApp, TestOptions, Value, assert_problem, error_fields, json, json_body,
};

fn app() -> TestApp {
    TestApp::start(TestOptions::signing_in_freely(&[(
        "api_rate_limit_per_minute",
        "100000",
    )]))
}

/// `POST /v1/search` as `who`: status and body.
fn search(app: &TestApp, who: &Caller, body: &Value) -> (u16, Value) {
    let resp = app.post_as(who, "/v1/search", body);
    let status = resp.status().as_u16();
    (status, json_body(resp))
}

/// `POST /v1/search` with an API key.
fn search_with_key(app: &TestApp, key: &str, body: &Value) -> Response {
    app.post_json("/v1/search", body)
        .header("x-api-key", key)
        .send()
        .expect("sending the request")
}

/// The hits' entity names, in order.
fn names(answer: &Value) -> Vec<String> {
    answer["hits"]
        .as_array()
        .unwrap_or_else(|| panic!("no hits: {answer}"))
        .iter()
        .map(|h| h["entity"]["name"].as_str().unwrap().to_string())
        .collect()
}

/// The hit of the entity named `name` (asserted to be among the hits).
fn hit_named<'a>(answer: &'a Value, name: &str) -> &'a Value {
    answer["hits"]
        .as_array()
        .and_then(|hits| hits.iter().find(|h| h["entity"]["name"] == name))
        .unwrap_or_else(|| panic!("no hit named {name}: {answer}"))
}

/// The names the search `body` finds as `who` (its 200 asserted).
fn found(app: &TestApp, who: &Caller, body: Value) -> Vec<String> {
    let (status, answer) = search(app, who, &body);
    assert_eq!(status, 200, "{body}: {answer}");
    names(&answer)
}

fn entity(app: &TestApp, who: &Caller, kind: &str, name: &str, extra: Value) -> Value {
    let mut body = json!({"type": kind, "name": name});
    body.as_object_mut()
        .unwrap()
        .extend(extra.as_object().unwrap().clone());
    app.created_entity(who, &body)
}

/// `PUT /v1/embedding-spaces/{name}` as `who`.
fn put_space(app: &TestApp, who: &Caller, name: &str, body: &Value) -> Response {
    app.send_as(
        who,
        app.client()
            .put(app.url(&format!("/v1/embedding-spaces/{name}")))
            .json(body),
    )
}

fn made_space(app: &TestApp, admin: &Caller, name: &str, dimensions: u32, distance: &str) {
    let resp = put_space(
        app,
        admin,
        name,
        &json!({"dimensions": dimensions, "distance": distance}),
    );
    assert_eq!(resp.status(), 201, "making space {name}");
}

/// The vector of entity `id` in `space`, stored as the owner (see the module's note).
fn store_vector(app: &TestApp, space: &str, id: &Value, vector: &[f64]) {
    let text: Vec<String> = vector.iter().map(f64::to_string).collect();
    app.db.execute(&format!(
        "INSERT INTO embeddings (space_id, entity_id, embedding) \
         SELECT s.id, '{}', '[{}]'::vector FROM embedding_spaces s WHERE s.name = '{space}'",
        id.as_str().unwrap(),
        text.join(",")
    ));
}

#[test]
fn every_invalid_field_of_a_search_is_named() {
    let app = app();
    let [user] = app.users(["search-validation"]);
    let admin = app.caller("search-validation-admin", "admin");
    made_space(&app, &admin, "cos3", 3, "cosine");
    let cases = [
        (json!({}), vec!["text"]),
        (json!({"vector": [1, 2, 3]}), vec!["space"]),
        (json!({"text": "x", "space": "cos3"}), vec!["vector"]),
        (json!({"text": "x", "limit": 0}), vec!["limit"]),
        (json!({"text": "x", "limit": 201}), vec!["limit"]),
        (json!({"text": "x", "colour": "red"}), vec!["colour"]),
        (json!({"text": ""}), vec!["text"]),
        (
            json!({"text": "x", "filter": {"types": [], "min_confidence": 1.5, "metadata": [],
                "created_after": "yesterday", "include_merged": 1, "size": 2}}),
            vec![
                "filter.types",
                "filter.min_confidence",
                "filter.metadata",
                "filter.created_after",
                "filter.include_merged",
                "filter.size",
            ],
        ),
        (
            json!({"text": "x", "expand": {"depth": 3, "direction": "up", "max_nodes": 1001,
                "types": [""], "k": 1}}),
            vec![
                "expand.depth",
                "expand.direction",
                "expand.types[0]",
                "expand.max_nodes",
                "expand.k",
            ],
        ),
        (
            json!({"text": "x", "expand": {"depth": -1, "max_nodes": 0}}),
            vec!["expand.depth", "expand.max_nodes"],
        ),
        // the vector against its space: its length, no all-zeros in a cosine space, a space
        // that exists
        (json!({"vector": [1, 2], "space": "cos3"}), vec!["vector"]),
        (
            json!({"vector": [0, 0, 0], "space": "cos3"}),
            vec!["vector"],
        ),
        (
            json!({"vector": [1, "a", 3], "space": "cos3"}),
            vec!["vector"],
        ),
        (
            json!({"vector": [1, 1e39, 3], "space": "cos3"}),
            vec!["vector[1]"],
        ),
        (json!({"vector": [1, 2, 3], "space": "nope"}), vec!["space"]),
        (
            json!({"vector": [1, 2, 3], "space": "Bad Name"}),
            vec!["space"],
        ),
    ];
    for (body, fields) in cases {
        let resp = app.post_as(&user, "/v1/search", &body);
        let problem = assert_problem(resp, 422, &body.to_string());
        assert_eq!(error_fields(&problem), fields, "{body}: {problem}");
    }
    // the edges are fine
    let (status, answer) = search(
        &app,
        &user,
        &json!({"vector": [0, 0, 1], "space": "cos3", "limit": 200,
            "expand": {"depth": 0, "max_nodes": 1000, "direction": "in"}}),
    );
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["fusion"], json!({"method": "rrf", "k": 60}));
    assert_eq!(
        answer["graph"],
        json!({"nodes": [], "edges": [], "truncated": false})
    );
    // not JSON, not an object
    let resp = app.send_as(
        &user,
        app.post("/v1/search")
            .header("content-type", "application/json")
            .body("[1]"),
    );
    assert_eq!(resp.status(), 422);
}

#[test]
fn searching_needs_entities_read_and_expanding_relationships_read() {
    let app = app();
    let [user] = app.users(["search-scopes"]);
    let ada = entity(&app, &user, "person", "Ada Lovelace", json!({}));
    let babbage = entity(&app, &user, "person", "Charles Babbage", json!({}));
    app.created_relationship(&user, &ada, &babbage, "knows");
    let key = |name: &str, scopes: &[&str]| {
        app.create_api_key(&user, name, scopes)["key"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let plain = json!({"text": "Ada Lovelace"});
    let expanding = json!({"text": "Ada Lovelace", "expand": {"depth": 1}});

    let entities_only = key("entities-only", &["entities:read"]);
    let resp = search_with_key(&app, &entities_only, &plain);
    assert_eq!(resp.status(), 200);
    assert_eq!(names(&json_body(resp)), vec!["Ada Lovelace"]);
    let problem = assert_problem(
        search_with_key(&app, &entities_only, &expanding),
        403,
        "expand without relationships:read",
    );
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains("relationships:read"),
        "{problem}"
    );

    let relationships_only = key("relationships-only", &["relationships:read"]);
    assert_problem(
        search_with_key(&app, &relationships_only, &plain),
        403,
        "search without entities:read",
    );

    let both = key("both", &["entities:read", "relationships:read"]);
    let resp = search_with_key(&app, &both, &expanding);
    assert_eq!(resp.status(), 200);
    let answer = json_body(resp);
    let graph_names: Vec<&str> = answer["graph"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["name"].as_str().unwrap())
        .collect();
    assert_eq!(graph_names.len(), 2, "{answer}");
    assert!(graph_names.contains(&"Charles Babbage"), "{answer}");

    // the write scopes imply the read ones
    let writer = key("writer", &["entities:write", "relationships:write"]);
    assert_eq!(search_with_key(&app, &writer, &expanding).status(), 200);
}

#[test]
fn a_search_sees_every_owners_entities_and_filter_owner_narrows_it_to_one() {
    let app = app();
    let [alice, bob] = app.users(["search-alice", "search-bob"]);
    let admin = app.caller("search-visibility-admin", "admin");
    entity(&app, &alice, "person", "Grace Hopper", json!({}));
    entity(&app, &bob, "person", "Grace Hopper", json!({}));
    made_space(&app, &admin, "vis", 2, "l2");
    let alices = entity(&app, &alice, "person", "Vector of Alice", json!({}));
    let bobs = entity(&app, &bob, "person", "Vector of Bob", json!({}));
    store_vector(&app, "vis", &alices["id"], &[1.0, 0.0]);
    store_vector(&app, "vis", &bobs["id"], &[1.0, 0.0]);

    let owners = |who: &Caller, body: Value| -> Vec<String> {
        let (status, answer) = search(&app, who, &body);
        assert_eq!(status, 200, "{answer}");
        answer["hits"]
            .as_array()
            .unwrap()
            .iter()
            .map(|h| h["entity"]["owner_id"].as_str().unwrap().to_string())
            .collect()
    };
    let text = json!({"text": "Grace Hopper"});
    let vector = json!({"vector": [1, 0], "space": "vis"});
    let mut both = vec![alice.id.clone(), bob.id.clone()];
    both.sort();
    for body in [&text, &vector] {
        // everyone reads every entity (SPEC §4), so a search sees both owners' entities
        for who in [&alice, &bob, &admin] {
            let mut all = owners(who, body.clone());
            all.sort();
            assert_eq!(all, both, "{body}");
        }
        // `filter.owner` narrows it to one owner's, for anyone
        for (who, owner) in [
            (&alice, &bob),
            (&bob, &alice),
            (&admin, &bob),
            (&alice, &alice),
        ] {
            let mut one = body.clone();
            one["filter"] = json!({"owner": owner.id});
            assert_eq!(owners(who, one.clone()), vec![owner.id.clone()], "{one}");
        }
    }
    // a deleted entity is never found
    let resp = app.delete_as(
        &alice,
        &format!("/v1/entities/{}", alices["id"].as_str().unwrap()),
    );
    assert_eq!(resp.status(), 204);
    assert_eq!(owners(&alice, vector.clone()), vec![bob.id.clone()]);
}

#[test]
fn each_filter_narrows_both_lists() {
    let app = app();
    let [user] = app.users(["search-filters"]);
    let admin = app.caller("search-filters-admin", "admin");
    made_space(&app, &admin, "flt", 2, "l2");
    let make = |kind: &str, name: &str, extra: Value, x: f64| {
        let e = entity(&app, &user, kind, name, extra);
        store_vector(&app, "flt", &e["id"], &[x, 0.0]);
        e
    };
    make(
        "person",
        "Quokka One",
        json!({"confidence": 0.9, "metadata": {"lang": "en"}}),
        1.0,
    );
    let between = app.db.instant();
    make(
        "place",
        "Quokka Two",
        json!({"confidence": 0.3, "metadata": {"lang": "fr"}}),
        2.0,
    );
    make(
        "person",
        "Quokka Three",
        json!({"confidence": 0.6, "metadata": {"lang": "en", "x": 1}}),
        3.0,
    );
    let after_all = app.db.instant();

    let both = |filter: Value| -> (Vec<String>, Vec<String>) {
        let text = found(&app, &user, json!({"text": "quokka", "filter": filter}));
        let vector = found(
            &app,
            &user,
            json!({"vector": [0, 0], "space": "flt", "filter": filter}),
        );
        let mut text_sorted = text.clone();
        text_sorted.sort();
        let mut vector_sorted = vector.clone();
        vector_sorted.sort();
        (text_sorted, vector_sorted)
    };
    let expect = |filter: Value, names: &[&str]| {
        let mut want: Vec<String> = names.iter().map(|s| s.to_string()).collect();
        want.sort();
        let (text, vector) = both(filter.clone());
        assert_eq!(text, want, "text list, filter {filter}");
        assert_eq!(vector, want, "vector list, filter {filter}");
    };
    expect(json!({}), &["Quokka One", "Quokka Two", "Quokka Three"]);
    expect(
        json!({"types": ["person"]}),
        &["Quokka One", "Quokka Three"],
    );
    expect(json!({"types": ["place", "thing"]}), &["Quokka Two"]);
    expect(
        json!({"min_confidence": 0.6}),
        &["Quokka One", "Quokka Three"],
    );
    expect(
        json!({"metadata": {"lang": "en"}}),
        &["Quokka One", "Quokka Three"],
    );
    expect(
        json!({"metadata": {"lang": "en", "x": 1}}),
        &["Quokka Three"],
    );
    expect(
        json!({"created_after": between}),
        &["Quokka Two", "Quokka Three"],
    );
    expect(json!({"created_before": between}), &["Quokka One"]);
    expect(json!({"created_after": after_all}), &[]);
    expect(
        json!({"types": ["person"], "min_confidence": 0.7}),
        &["Quokka One"],
    );
}

#[test]
fn a_merged_entity_is_found_only_with_include_merged_and_names_its_survivor() {
    let app = app();
    let [user] = app.users(["search-merged"]);
    let admin = app.caller("search-merged-admin", "admin");
    made_space(&app, &admin, "mrg", 2, "l2");
    let survivor = entity(&app, &user, "person", "Survivor entity", json!({}));
    let merged = entity(&app, &user, "person", "Wombat Merged", json!({}));
    store_vector(&app, "mrg", &merged["id"], &[1.0, 1.0]);
    let resp = app.post_as(
        &user,
        &format!("/v1/entities/{}/merge", survivor["id"].as_str().unwrap()),
        &json!({"from": [merged["id"]]}),
    );
    assert_eq!(resp.status(), 200, "{}", json_body(resp));

    assert_eq!(
        found(&app, &user, json!({"text": "wombat merged"})),
        Vec::<String>::new()
    );
    let (status, answer) = search(
        &app,
        &user,
        &json!({"text": "wombat merged", "filter": {"include_merged": true}}),
    );
    assert_eq!(status, 200);
    assert_eq!(names(&answer), vec!["Wombat Merged"]);
    assert_eq!(answer["hits"][0]["entity"]["merged_into"], survivor["id"]);
    // the vector list too (the merged entity keeps its vector; the survivor may get a copy of
    // it by the entities component's merge, so only the merged one's presence is asserted)
    let vector = |include: bool| {
        found(
            &app,
            &user,
            json!({"vector": [1, 1], "space": "mrg", "filter": {"include_merged": include}}),
        )
    };
    assert!(!vector(false).contains(&"Wombat Merged".to_string()));
    assert!(vector(true).contains(&"Wombat Merged".to_string()));
}

#[test]
fn fusion_ranks_by_reciprocal_rank_over_both_lists() {
    let app = app();
    let [user] = app.users(["search-fusion"]);
    let admin = app.caller("search-fusion-admin", "admin");
    made_space(&app, &admin, "fus", 2, "l2");
    // the vector list, nearest [0, 0] first: a (1), b (2), c (3)
    // the text list for "zephyrine", best first: d (name, and twice in its description), c (its
    // name once), a (its description once, weight B)
    let a = entity(
        &app,
        &user,
        "t",
        "Alpha item",
        json!({"metadata": {"description": "zephyrine"}}),
    );
    let b = entity(&app, &user, "t", "Bravo item", json!({}));
    let c = entity(&app, &user, "t", "Zephyrine charlie", json!({}));
    let d = entity(
        &app,
        &user,
        "t",
        "Zephyrine delta",
        json!({"metadata": {"description": "zephyrine zephyrine"}}),
    );
    store_vector(&app, "fus", &a["id"], &[1.0, 0.0]);
    store_vector(&app, "fus", &b["id"], &[2.0, 0.0]);
    store_vector(&app, "fus", &c["id"], &[3.0, 0.0]);
    let _ = d;

    let text_only = found(&app, &user, json!({"text": "zephyrine"}));
    assert_eq!(
        text_only,
        vec!["Zephyrine delta", "Zephyrine charlie", "Alpha item"]
    );
    let vector_only = found(&app, &user, json!({"vector": [0, 0], "space": "fus"}));
    assert_eq!(
        vector_only,
        vec!["Alpha item", "Bravo item", "Zephyrine charlie"]
    );

    // a = 1/61 + 1/63, c = 1/63 + 1/62, d = 1/61, b = 1/62: neither list's order
    let (status, answer) = search(
        &app,
        &user,
        &json!({"text": "zephyrine", "vector": [0, 0], "space": "fus"}),
    );
    assert_eq!(status, 200, "{answer}");
    assert_eq!(
        names(&answer),
        vec![
            "Alpha item",
            "Zephyrine charlie",
            "Zephyrine delta",
            "Bravo item"
        ]
    );
    let hit = |i: usize| &answer["hits"][i];
    let close = |v: &Value, want: f64| (v.as_f64().unwrap() - want).abs() < 1e-12;
    assert!(close(&hit(0)["score"], 1.0 / 61.0 + 1.0 / 63.0), "{answer}");
    assert!(close(&hit(1)["score"], 1.0 / 63.0 + 1.0 / 62.0), "{answer}");
    assert!(close(&hit(2)["score"], 1.0 / 61.0), "{answer}");
    assert!(close(&hit(3)["score"], 1.0 / 62.0), "{answer}");
    assert_eq!(
        (&hit(0)["vector_rank"], &hit(0)["text_rank_position"]),
        (&json!(1), &json!(3))
    );
    assert_eq!(
        (&hit(1)["vector_rank"], &hit(1)["text_rank_position"]),
        (&json!(3), &json!(2))
    );
    assert_eq!(
        (&hit(2)["vector_rank"], &hit(2)["text_rank_position"]),
        (&Value::Null, &json!(1))
    );
    assert_eq!(
        (&hit(3)["vector_rank"], &hit(3)["text_rank_position"]),
        (&json!(2), &Value::Null)
    );
    assert!(close(&hit(0)["vector_distance"], 1.0), "{answer}");
    assert!(close(&hit(1)["vector_distance"], 3.0), "{answer}");
    assert_eq!(hit(2)["vector_distance"], Value::Null);
    assert_eq!(hit(3)["text_rank"], Value::Null);
    assert!(hit(2)["text_rank"].as_f64().unwrap() > hit(1)["text_rank"].as_f64().unwrap());
    // `limit` cuts after the fusion
    assert_eq!(
        found(
            &app,
            &user,
            json!({"text": "zephyrine", "vector": [0, 0], "space": "fus", "limit": 2})
        ),
        vec!["Alpha item", "Zephyrine charlie"]
    );
}

#[test]
fn distances_follow_the_space_and_inner_product_reports_its_negative() {
    let app = app();
    let [user] = app.users(["search-distances"]);
    let admin = app.caller("search-distances-admin", "admin");
    made_space(&app, &admin, "ip", 2, "inner_product");
    made_space(&app, &admin, "cos", 2, "cosine");
    let small = entity(&app, &user, "t", "Small", json!({}));
    let large = entity(&app, &user, "t", "Large", json!({}));
    for space in ["ip", "cos"] {
        store_vector(&app, space, &small["id"], &[1.0, 0.0]);
        store_vector(&app, space, &large["id"], &[3.0, 1.0]);
    }
    // inner product with [1, 0]: large 3, small 1: the larger product is nearer, and its
    // distance is the negative product (smaller is nearer in every space)
    let (_, answer) = search(&app, &user, &json!({"vector": [1, 0], "space": "ip"}));
    assert_eq!(names(&answer), vec!["Large", "Small"]);
    assert_eq!(answer["hits"][0]["vector_distance"], json!(-3.0));
    assert_eq!(answer["hits"][1]["vector_distance"], json!(-1.0));
    // cosine: direction only, small points exactly along [1, 0]
    let (_, answer) = search(&app, &user, &json!({"vector": [2, 0], "space": "cos"}));
    assert_eq!(names(&answer), vec!["Small", "Large"]);
    assert_eq!(answer["hits"][0]["vector_distance"], json!(0.0));
}

#[test]
fn text_finds_names_with_typos_and_speaks_websearch_syntax() {
    let app = app();
    let [user] = app.users(["search-text"]);
    entity(
        &app,
        &user,
        "person",
        "Ada Lovelace",
        json!({"metadata": {"description": "wrote the first program for the analytical engine"}}),
    );
    entity(
        &app,
        &user,
        "person",
        "Charles Babbage",
        json!({"metadata": {"description": "designed the analytical engine", "summary": "mathematician"}}),
    );
    entity(&app, &user, "machine", "Newcomen steam engine", json!({}));
    entity(
        &app,
        &user,
        "person",
        "Edsger Dijkstra",
        json!({"metadata": {"note": "analytical engine"}}),
    );

    // a typo no full-text query matches: found by the name's trigram similarity
    let (status, answer) = search(&app, &user, &json!({"text": "Ada Lovelcae"}));
    assert_eq!(status, 200);
    assert_eq!(names(&answer), vec!["Ada Lovelace"]);
    assert_eq!(answer["hits"][0]["text_rank_position"], 1);
    assert_eq!(answer["hits"][0]["vector_rank"], Value::Null);
    let typo_rank = answer["hits"][0]["text_rank"].as_f64().unwrap();
    assert!(typo_rank > 0.3 && typo_rank < 1.0, "{answer}");
    assert_eq!(
        found(&app, &user, json!({"text": "Charles Babage"})),
        vec!["Charles Babbage"]
    );

    // websearch syntax over names and the declared fields (description, summary; not `note`)
    let sorted = |text: &str| {
        let mut n = found(&app, &user, json!({"text": text}));
        n.sort();
        n
    };
    assert_eq!(
        sorted("\"analytical engine\""),
        vec!["Ada Lovelace", "Charles Babbage"]
    );
    assert_eq!(sorted("engine -analytical"), vec!["Newcomen steam engine"]);
    assert_eq!(
        sorted("mathematician or newcomen"),
        vec!["Charles Babbage", "Newcomen steam engine"]
    );
    assert_eq!(sorted("\"engine analytical\""), Vec::<String>::new());
    assert_eq!(sorted("program engine"), vec!["Ada Lovelace"]);
    // stemming: "programs" finds "program"
    assert_eq!(sorted("programs"), vec!["Ada Lovelace"]);
}

#[test]
fn expand_walks_the_neighbourhood_of_every_hit_within_its_bounds() {
    let app = app();
    let [user] = app.users(["search-expand"]);
    // a → b → c → d (knows), a → x (likes), y → a (knows), and a second hit h → i (knows)
    // the hits: "Kestrel alpha" alone (its description), or both Kestrels (their names)
    let e = |name: &str| entity(&app, &user, "node", name, json!({}));
    let a = entity(
        &app,
        &user,
        "node",
        "Kestrel alpha",
        json!({"metadata": {"description": "quasimodo"}}),
    );
    let (b, c, d, x, y) = (e("b"), e("c"), e("d"), e("x"), e("y"));
    let (h, i) = (e("Kestrel omega"), e("i"));
    let knows_ab = app.created_relationship(&user, &a, &b, "knows");
    app.created_relationship(&user, &b, &c, "knows");
    app.created_relationship(&user, &c, &d, "knows");
    app.created_relationship(&user, &a, &x, "likes");
    app.created_relationship(&user, &y, &a, "knows");
    app.created_relationship(&user, &h, &i, "knows");
    let _ = (&d, &x, &y);

    let graph = |text: &str, expand: Value| -> Value {
        let (status, answer) = search(&app, &user, &json!({"text": text, "expand": expand}));
        assert_eq!(status, 200, "{answer}");
        answer["graph"].clone()
    };
    let node_names = |g: &Value| -> Vec<String> {
        let mut n: Vec<String> = g["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| n["name"].as_str().unwrap().to_string())
            .collect();
        n.sort();
        n
    };
    let alpha = "quasimodo";
    let g = graph(alpha, json!({"depth": 0}));
    assert_eq!(node_names(&g), vec!["Kestrel alpha"]);
    assert_eq!(g["edges"], json!([]));
    assert_eq!(g["nodes"][0]["depth"], 0);

    let g = graph(alpha, json!({"depth": 1}));
    assert_eq!(node_names(&g), vec!["Kestrel alpha", "b", "x", "y"]);
    assert_eq!(g["edges"].as_array().unwrap().len(), 3, "{g}");
    assert_eq!(g["truncated"], false);

    let g = graph(
        alpha,
        json!({"depth": 2, "direction": "out", "types": ["knows"]}),
    );
    assert_eq!(node_names(&g), vec!["Kestrel alpha", "b", "c"]);
    assert!(
        g["edges"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["id"] == json!(knows_ab))
    );

    let g = graph(alpha, json!({"depth": 2, "direction": "in"}));
    assert_eq!(node_names(&g), vec!["Kestrel alpha", "y"]);

    let g = graph(alpha, json!({"depth": 1, "types": ["likes", "hates"]}));
    assert_eq!(node_names(&g), vec!["Kestrel alpha", "x"]);

    // max_nodes: the nearest first, and `truncated` says some were left out
    let g = graph(alpha, json!({"depth": 2, "max_nodes": 2}));
    assert_eq!(g["nodes"].as_array().unwrap().len(), 2, "{g}");
    assert_eq!(g["nodes"][0]["name"], "Kestrel alpha");
    assert_eq!(g["nodes"][1]["depth"], 1);
    assert_eq!(g["truncated"], true);

    // every hit at once
    let g = graph(
        "kestrel",
        json!({"depth": 1, "direction": "out", "types": ["knows"]}),
    );
    assert_eq!(
        node_names(&g),
        vec!["Kestrel alpha", "Kestrel omega", "b", "i"]
    );
    let depths: Vec<i64> = g["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["depth"].as_i64().unwrap())
        .collect();
    assert_eq!(depths, vec![0, 0, 1, 1], "{g}");
    // a deleted relationship is not walked
    let resp = app.delete_as(&user, &format!("/v1/relationships/{knows_ab}"));
    assert_eq!(resp.status(), 204);
    let g = graph(
        alpha,
        json!({"depth": 2, "direction": "out", "types": ["knows"]}),
    );
    assert_eq!(node_names(&g), vec!["Kestrel alpha"]);
    // no `graph` without `expand`
    let (_, answer) = search(&app, &user, &json!({"text": alpha}));
    assert!(answer.get("graph").is_none(), "{answer}");
}

#[test]
fn only_admins_make_and_drop_spaces_and_a_put_is_idempotent() {
    let app = app();
    let [user] = app.users(["spaces-user"]);
    let admin = app.caller("spaces-admin", "admin");
    let def = json!({"dimensions": 3, "distance": "cosine", "model": "tiny"});

    let problem = assert_problem(put_space(&app, &user, "tiny", &def), 403, "user PUT");
    assert!(
        problem["detail"].as_str().unwrap().contains("admin"),
        "{problem}"
    );

    let resp = put_space(&app, &admin, "tiny", &def);
    assert_eq!(resp.status(), 201);
    assert_eq!(
        spingraph_e2e::header(&resp, "location"),
        "/v1/embedding-spaces/tiny"
    );
    let created = json_body(resp);
    assert_eq!(
        (
            &created["name"],
            &created["dimensions"],
            &created["distance"],
            &created["model"],
            &created["vectors"]
        ),
        (
            &json!("tiny"),
            &json!(3),
            &json!("cosine"),
            &json!("tiny"),
            &json!(0)
        )
    );
    assert!(created.get("id").is_none(), "{created}");
    // the same again: 200 with the same space; sent back as read, too
    let resp = put_space(&app, &admin, "tiny", &def);
    assert_eq!(resp.status(), 200);
    assert_eq!(json_body(resp), created);
    let mut echoed = def.clone();
    echoed["name"] = json!("tiny");
    assert_eq!(put_space(&app, &admin, "tiny", &echoed).status(), 200);
    // another definition: 409, for each field
    for other in [
        json!({"dimensions": 4, "distance": "cosine", "model": "tiny"}),
        json!({"dimensions": 3, "distance": "l2", "model": "tiny"}),
        json!({"dimensions": 3, "distance": "cosine"}),
    ] {
        assert_problem(
            put_space(&app, &admin, "tiny", &other),
            409,
            &other.to_string(),
        );
    }
    // 422 naming the field
    let long = "a".repeat(64);
    for (name, body, field) in [
        ("Bad", def.clone(), "name"),
        (long.as_str(), def.clone(), "name"),
        (
            "ok",
            json!({"dimensions": 0, "distance": "l2"}),
            "dimensions",
        ),
        (
            "ok",
            json!({"dimensions": 2001, "distance": "l2"}),
            "dimensions",
        ),
        (
            "ok",
            json!({"dimensions": 2, "distance": "dot"}),
            "distance",
        ),
        (
            "ok",
            json!({"dimensions": 2, "distance": "l2", "model": ""}),
            "model",
        ),
        (
            "ok",
            json!({"dimensions": 2, "distance": "l2", "model": "m".repeat(201)}),
            "model",
        ),
        (
            "ok",
            json!({"dimensions": 2, "distance": "l2", "extra": 1}),
            "extra",
        ),
        (
            "ok",
            json!({"dimensions": 2, "distance": "l2", "name": "other"}),
            "name",
        ),
    ] {
        let problem = assert_problem(put_space(&app, &admin, name, &body), 422, &body.to_string());
        assert_eq!(error_fields(&problem), vec![field], "{body}: {problem}");
    }
    // the largest space pgvector's HNSW index takes
    assert_eq!(
        put_space(
            &app,
            &admin,
            "wide",
            &json!({"dimensions": 2000, "distance": "l2"})
        )
        .status(),
        201
    );

    // anyone who reads entities reads spaces, with their vector counts
    let e1 = entity(&app, &user, "t", "one", json!({}));
    let e2 = entity(&app, &user, "t", "two", json!({}));
    store_vector(&app, "tiny", &e1["id"], &[1.0, 0.0, 0.0]);
    store_vector(&app, "tiny", &e2["id"], &[0.0, 1.0, 0.0]);
    let resp = app.get_as(&user, "/v1/embedding-spaces");
    assert_eq!(resp.status(), 200);
    let list = json_body(resp);
    let items = list["items"].as_array().unwrap();
    assert_eq!(items.len(), 2, "{list}");
    assert_eq!(
        (&items[0]["name"], &items[0]["vectors"]),
        (&json!("tiny"), &json!(2))
    );
    assert_eq!(
        (&items[1]["name"], &items[1]["vectors"]),
        (&json!("wide"), &json!(0))
    );
    let resp = app.get_as(&user, "/v1/embedding-spaces/tiny");
    assert_eq!(resp.status(), 200);
    assert_eq!(json_body(resp)["vectors"], 2);
    assert_problem(
        app.get_as(&user, "/v1/embedding-spaces/none"),
        404,
        "GET unknown",
    );
    let key = app.create_api_key(&user, "rel-only", &["relationships:read"])["key"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(app.get_with_key(&key, "/v1/embedding-spaces").status(), 403);

    // drop: admins only, the vectors and the index go with the space
    assert_problem(
        app.delete_as(&user, "/v1/embedding-spaces/tiny"),
        403,
        "user DELETE",
    );
    let index_count = || {
        app.db.query_json(
            "SELECT count(*) AS n FROM pg_indexes WHERE indexname LIKE 'embeddings_space_%_hnsw'",
        )[0]["n"]
            .as_i64()
            .unwrap()
    };
    assert_eq!(index_count(), 2);
    assert_eq!(
        app.delete_as(&admin, "/v1/embedding-spaces/tiny").status(),
        204
    );
    assert_eq!(index_count(), 1);
    assert_eq!(
        app.db.query_json("SELECT count(*) AS n FROM embeddings")[0]["n"],
        0
    );
    assert_problem(
        app.delete_as(&admin, "/v1/embedding-spaces/tiny"),
        404,
        "DELETE again",
    );
    assert_problem(
        app.get_as(&user, "/v1/embedding-spaces/tiny"),
        404,
        "GET dropped",
    );
    // and it may be defined anew, otherwise
    let redefined = json!({"dimensions": 5, "distance": "l2"});
    assert_eq!(put_space(&app, &admin, "tiny", &redefined).status(), 201);

    // both writes are audited, as the admin
    let audit = app.db.query_json(
        "SELECT action, resource_type, actor_id::text AS actor, details->>'name' AS name \
         FROM audit_log WHERE resource_type = 'embedding_space' ORDER BY at, action",
    );
    let rows: Vec<(String, String)> = audit
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            assert_eq!(r["actor"], json!(admin.id), "{r}");
            (
                r["action"].as_str().unwrap().to_string(),
                r["name"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        rows,
        vec![
            ("embedding_space.create".to_string(), "tiny".to_string()),
            ("embedding_space.create".to_string(), "wide".to_string()),
            ("embedding_space.delete".to_string(), "tiny".to_string()),
            ("embedding_space.create".to_string(), "tiny".to_string()),
        ]
    );
}

#[test]
fn concurrent_puts_of_one_space_make_it_once() {
    let app = app();
    let admin = app.caller("spaces-race-admin", "admin");
    let def = json!({"dimensions": 8, "distance": "l2"});
    let statuses: Vec<u16> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..6)
            .map(|_| s.spawn(|| put_space(&app, &admin, "raced", &def).status().as_u16()))
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert_eq!(
        statuses.iter().filter(|s| **s == 201).count(),
        1,
        "{statuses:?}"
    );
    assert!(
        statuses.iter().all(|s| *s == 201 || *s == 200),
        "{statuses:?}"
    );
}

/// A deterministic pseudo-random vector of `n` numbers in -1..1 (a 64-bit LCG from `seed`).
fn pseudo_random(seed: u64, n: usize) -> Vec<f64> {
    let mut state = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    (0..n)
        .map(|_| {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((state >> 11) as f64 / (1u64 << 53) as f64) * 2.0 - 1.0
        })
        .collect()
}

fn vector_literal(v: &[f64]) -> String {
    let items: Vec<String> = v.iter().map(|x| format!("{:.6}", x)).collect();
    format!("[{}]", items.join(","))
}

/// The ids `query` answers on one session of its own after `settings` (SET ...; statements),
/// as the database owner.
fn ids_in_session(url: &str, settings: &str, query: &str) -> Vec<String> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
            .await
            .unwrap();
        tokio::spawn(connection);
        client.batch_execute(settings).await.unwrap();
        client
            .query(query, &[])
            .await
            .unwrap()
            .iter()
            .map(|row| row.get::<_, String>(0))
            .collect()
    })
}

/// Recall of the filtered nearest-neighbour search: 20 000 vectors of 64 dimensions, a filter
/// (`type`) keeping 1% of them, 24 queries: the vector search's top 10 against the exact top 10
/// (computed without the index). The iterative index scan keeps it at least 0.95. Without it, the
/// plain HNSW scan hands the filter its `ef_search` (40) candidates, of which ~1% pass: far fewer
/// than 10 rows (asserted below on the same data as the contrast).
#[test]
fn a_filtered_vector_search_keeps_its_recall_over_20000_vectors() {
    let app = app();
    let [user] = app.users(["search-recall"]);
    let admin = app.caller("search-recall-admin", "admin");
    made_space(&app, &admin, "recall", 64, "cosine");
    // 20 000 entities of the user, one in a hundred of type `rare`, each with a seeded
    // pseudo-random vector; bulk-inserted by SQL as the owner (one session: setseed holds)
    app.db.execute(&format!(
        "SELECT setseed(0.28); \
         INSERT INTO entities (type, name, owner_id) \
         SELECT CASE WHEN g % 100 = 0 THEN 'rare' ELSE 'common' END, 'recall ' || g, '{owner}' \
         FROM generate_series(1, 20000) g; \
         INSERT INTO embeddings (space_id, entity_id, embedding) \
         SELECT s.id, e.id, ARRAY(SELECT random() * 2 - 1 FROM generate_series(1, 64) d \
                                  WHERE e.id IS NOT NULL)::real[]::vector \
         FROM embedding_spaces s, entities e WHERE s.name = 'recall' AND e.owner_id = '{owner}'; \
         ANALYZE entities; ANALYZE embeddings;",
        owner = user.id
    ));
    let space_id = app
        .db
        .query_json("SELECT id FROM embedding_spaces WHERE name = 'recall'")[0]["id"]
        .as_i64()
        .unwrap();
    assert_eq!(
        app.db.query_json("SELECT count(*) AS n FROM embeddings")[0]["n"],
        20000
    );

    // how often the space's HNSW index was scanned (the statistics reach the view within a
    // second or so of each transaction)
    let index_scans = || {
        app.db.query_json(&format!(
            "SELECT idx_scan AS n FROM pg_stat_user_indexes \
             WHERE indexrelname = 'embeddings_space_{space_id}_hnsw'"
        ))[0]["n"]
            .as_i64()
            .unwrap()
    };
    let scans_before = index_scans();

    let queries = 24;
    let mut total = 0.0;
    let mut too_few_without_iterative_scan = 0;
    for q in 0..queries {
        let vector = pseudo_random(1000 + q, 64);
        let literal = vector_literal(&vector);
        let (status, answer) = search(
            &app,
            &user,
            &json!({"vector": vector, "space": "recall", "filter": {"types": ["rare"]}, "limit": 10}),
        );
        assert_eq!(status, 200, "{answer}");
        let got: Vec<String> = answer["hits"]
            .as_array()
            .unwrap()
            .iter()
            .map(|h| {
                assert_eq!(h["entity"]["type"], "rare");
                h["entity"]["id"].as_str().unwrap().to_string()
            })
            .collect();
        assert_eq!(got.len(), 10, "query {q}: {answer}");
        // exact: the distance on the bare column is no expression of the index (its
        // expression is `embedding::vector(64)`), so this is a scan of the filtered rows
        let exact: Vec<String> = app
            .db
            .query_json(&format!(
                "SELECT e.id::text AS id FROM embeddings m JOIN entities e ON e.id = m.entity_id \
                 WHERE m.space_id = {space_id} AND e.type = 'rare' AND e.deleted_at IS NULL \
                 ORDER BY m.embedding <=> '{literal}'::vector, e.id LIMIT 10"
            ))
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["id"].as_str().unwrap().to_string())
            .collect();
        let hits = got.iter().filter(|id| exact.contains(id)).count();
        total += hits as f64 / 10.0;
    }
    let recall = total / queries as f64;
    assert!(recall >= 0.95, "recall@10 {recall}");
    // and the searches were the index's (not the planner's exact path, which would make the
    // recall trivially 1): one scan of it each
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    while index_scans() - scans_before < queries as i64 && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    assert_eq!(index_scans() - scans_before, queries as i64);

    for q in 0..queries {
        let literal = vector_literal(&pseudo_random(1000 + q, 64));
        // the contrast: the same index scan, forced, without iterative scans
        let plain = ids_in_session(
            &app.db.url,
            "SET hnsw.iterative_scan = off; SET hnsw.ef_search = 40; \
             SET enable_seqscan = off; SET enable_bitmapscan = off; SET enable_sort = off;",
            &format!(
                "SELECT e.id::text FROM embeddings m JOIN entities e ON e.id = m.entity_id \
                 WHERE m.space_id = {space_id} AND e.type = 'rare' AND e.deleted_at IS NULL \
                 ORDER BY m.embedding::vector(64) <=> '{literal}'::vector(64) LIMIT 10"
            ),
        );
        if plain.len() < 10 {
            too_few_without_iterative_scan += 1;
        }
    }
    assert!(
        too_few_without_iterative_scan >= queries * 3 / 4,
        "without iterative scans only {too_few_without_iterative_scan} of {queries} queries came back short"
    );
}

#[test]
fn the_text_list_holds_at_most_the_candidates_and_names_only_fill_what_full_text_left() {
    let app = app();
    let [user] = app.users(["search-text-cap"]);
    let admin = app.caller("search-text-cap-admin", "admin");
    made_space(&app, &admin, "cap2", 2, "l2");
    // `limit` 10: 40 candidates per list. Full text matches 40 names, so the list is full.
    let zephyrs: Vec<Value> = (0..40)
        .map(|i| entity(&app, &user, "thing", &format!("Zephyr {i}"), json!({})))
        .collect();
    // A name only trigram similarity finds ("zephyx" shares 5 of 9 trigrams with "zephyr"),
    // the only vector, so the vector list's first.
    let typo = entity(&app, &user, "thing", "Zephyx", json!({}));
    store_vector(&app, "cap2", &typo["id"], &[1.0, 0.0]);

    let body = json!({"text": "zephyr", "vector": [1, 0], "space": "cap2", "limit": 10});
    let (status, answer) = search(&app, &user, &body);
    assert_eq!(status, 200, "{answer}");
    // the vector list's first is a hit
    let typo_hit = hit_named(&answer, "Zephyx");
    // not 41st in a text list of 41: the list was full without it
    assert_eq!(typo_hit["text_rank_position"], Value::Null, "{answer}");
    assert_eq!(typo_hit["vector_rank"], 1, "{answer}");
    for hit in answer["hits"].as_array().unwrap() {
        let position = hit["text_rank_position"].as_u64();
        assert!(position.is_none_or(|p| p <= 40), "{answer}");
    }

    // with room left in the list (39 live full-text matches), the name fills it
    let gone = app.delete_as(
        &user,
        &format!("/v1/entities/{}", zephyrs[0]["id"].as_str().unwrap()),
    );
    assert_eq!(gone.status(), 204);
    let (_, answer) = search(&app, &user, &body);
    let typo_hit = hit_named(&answer, "Zephyx");
    assert_eq!(typo_hit["text_rank_position"], 40, "{answer}");
}
