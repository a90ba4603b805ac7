//! `GET /v1/export` end to end (issue 29, item 3): the live graph in NDJSON, GraphML and
//! JSON-LD, streamed (chunked, no length) from one snapshot, `types=`, who may export (an
//! admin, or an API key with `export`), the audit row, and a body cut — not finished — when
//! it outlives the host's stream limit.

use std::io::Read;

use spingraph_e2e::{
    Caller, Response, TestApp, TestOptions, Value, assert_problem, assert_query_rejected, header,
    host_is_spingraph, json, json_body,
};

const EXPORT: &str = "/v1/export";

fn app() -> TestApp {
    TestApp::start(TestOptions::signing_in_freely(&[]))
}

/// The NDJSON lines of an export.
fn lines(resp: Response) -> Vec<Value> {
    assert_eq!(resp.status(), 200);
    resp.text()
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

fn of_kind<'a>(lines: &'a [Value], kind: &str) -> Vec<&'a Value> {
    lines.iter().filter(|l| l["kind"] == kind).collect()
}

/// A small graph owned by `owner`: keyed `a` (with XML's special characters in its name) and
/// `b`, unkeyed `c`, a deleted `d`; edges a→b, b→c, a→d (hidden: its target is deleted) and
/// a deleted c→a. The ids of the live entities and relationships.
fn seed(app: &TestApp, owner: &Caller) -> (Vec<String>, Vec<String>) {
    let entity = |name: &str, kind: &str, xid: Option<&str>| {
        let mut body = json!({"type": kind, "name": name, "metadata": {"n": name}});
        if let Some(xid) = xid {
            body["external_id"] = json!(xid);
        }
        app.created_entity(owner, &body)["id"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let a = entity("A <&> \"quoted\" 'x'", "person", Some("p-a"));
    let b = entity("B", "person", Some("p-b"));
    let c = entity("C", "org", None);
    let d = entity("D", "person", None);
    let edge = |s: &str, t: &str, kind: &str| {
        let resp = app.post_as(
            owner,
            "/v1/relationships",
            &json!({"source_id": s, "target_id": t, "type": kind}),
        );
        assert_eq!(resp.status(), 201);
        json_body(resp)["id"].as_str().unwrap().to_string()
    };
    let ab = edge(&a, &b, "knows");
    let bc = edge(&b, &c, "works_at");
    edge(&a, &d, "knows");
    let ca = edge(&c, &a, "employs");
    assert_eq!(
        app.delete_as(owner, &format!("/v1/entities/{d}")).status(),
        204
    );
    assert_eq!(
        app.delete_as(owner, &format!("/v1/relationships/{ca}"))
            .status(),
        204
    );
    (vec![a, b, c], vec![ab, bc])
}

fn sorted(mut ids: Vec<String>) -> Vec<String> {
    ids.sort();
    ids
}

fn ids(items: &[&Value]) -> Vec<String> {
    sorted(
        items
            .iter()
            .map(|i| i["id"].as_str().unwrap().to_string())
            .collect(),
    )
}

#[test]
fn an_admin_exports_the_live_graph_as_ndjson_streamed_with_a_header_and_an_end_line() {
    let app = app();
    let owner = app.caller("owner", "user");
    let admin = app.caller("admin", "admin");
    let (entities, relationships) = seed(&app, &owner);

    let resp = app.get_as(&admin, EXPORT);
    assert_eq!(header(&resp, "content-type"), "application/x-ndjson");
    assert!(header(&resp, "content-disposition").contains("spingraph-export.ndjson"));
    // Streamed: chunked, no length known up front.
    assert_eq!(header(&resp, "content-length"), "");
    assert_eq!(header(&resp, "transfer-encoding"), "chunked");
    let lines = lines(resp);

    let head = &lines[0];
    assert_eq!(head["kind"], "header");
    assert_eq!(
        (head["format"].as_str(), head["version"].as_u64()),
        (Some("spingraph-ndjson"), Some(1))
    );
    assert!(head["exported_at"].as_str().unwrap().ends_with('Z'));
    let end = lines.last().unwrap();
    assert_eq!(end["kind"], "end");
    assert_eq!(
        (end["entities"].as_u64(), end["relationships"].as_u64()),
        (Some(3), Some(2))
    );

    // Only live entities, each exactly as GET answers it (plus `kind`).
    let exported = of_kind(&lines, "entity");
    assert_eq!(ids(&exported), sorted(entities.clone()));
    for item in &exported {
        let mut got = (*item).clone();
        got.as_object_mut().unwrap().remove("kind");
        let id = item["id"].as_str().unwrap();
        assert_eq!(
            got,
            json_body(app.get_as(&owner, &format!("/v1/entities/{id}")))
        );
    }
    // Only live relationships between live entities, entities first; ends by natural key
    // where the end has one.
    let edges = of_kind(&lines, "relationship");
    assert_eq!(ids(&edges), sorted(relationships));
    let first_edge = lines
        .iter()
        .position(|l| l["kind"] == "relationship")
        .unwrap();
    assert!(
        lines[..first_edge]
            .iter()
            .skip(1)
            .all(|l| l["kind"] == "entity")
    );
    let ab = edges.iter().find(|e| e["type"] == "knows").unwrap();
    assert_eq!(
        ab["source"],
        json!({"type": "person", "external_id": "p-a", "owner_id": owner.id})
    );
    let bc = edges.iter().find(|e| e["type"] == "works_at").unwrap();
    assert_eq!(bc["target"], Value::Null, "c has no natural key");
    assert_eq!(bc["source"]["external_id"], "p-b");
}

#[test]
fn graphml_and_jsonld_hold_the_same_graph_and_escape_what_they_must() {
    let app = app();
    let owner = app.caller("owner", "user");
    let admin = app.caller("admin", "admin");
    let (entities, relationships) = seed(&app, &owner);

    let resp = app.get_as(&admin, &format!("{EXPORT}?format=graphml"));
    assert_eq!(resp.status(), 200);
    assert_eq!(header(&resp, "content-type"), "application/graphml+xml");
    let xml = resp.text().unwrap();
    let doc = roxmltree::Document::parse(&xml).unwrap_or_else(|e| panic!("{e}:\n{xml}"));
    let graph = doc.descendants().find(|n| n.has_tag_name("graph")).unwrap();
    let of = |tag: &str| -> Vec<roxmltree::Node> {
        graph.children().filter(|n| n.has_tag_name(tag)).collect()
    };
    let ids_of = |tag: &str| -> Vec<String> {
        sorted(
            of(tag)
                .iter()
                .map(|n| n.attribute("id").unwrap().to_string())
                .collect(),
        )
    };
    assert_eq!(ids_of("node"), sorted(entities.clone()));
    assert_eq!(ids_of("edge"), sorted(relationships.clone()));
    let data = |node: &roxmltree::Node, key: &str| {
        node.children()
            .find(|d| d.attribute("key") == Some(key))
            .and_then(|d| d.text())
            .map(str::to_string)
    };
    let a = of("node")
        .into_iter()
        .find(|n| n.attribute("id") == Some(entities[0].as_str()))
        .unwrap();
    assert_eq!(data(&a, "name").as_deref(), Some("A <&> \"quoted\" 'x'"));
    let metadata: Value = serde_json::from_str(&data(&a, "metadata").unwrap()).unwrap();
    assert_eq!(metadata["n"], "A <&> \"quoted\" 'x'");
    assert_eq!(data(&a, "external_id").as_deref(), Some("p-a"));
    let c = of("node")
        .into_iter()
        .find(|n| n.attribute("id") == Some(entities[2].as_str()))
        .unwrap();
    assert_eq!(data(&c, "external_id"), None, "no natural key, no element");
    for edge in of("edge") {
        assert!(
            entities
                .iter()
                .any(|e| Some(e.as_str()) == edge.attribute("source"))
        );
        assert!(
            entities
                .iter()
                .any(|e| Some(e.as_str()) == edge.attribute("target"))
        );
    }

    let resp = app.get_as(&admin, &format!("{EXPORT}?format=jsonld"));
    assert_eq!(header(&resp, "content-type"), "application/ld+json");
    let doc = json_body(resp);
    assert_eq!(doc["@context"]["@vocab"], "urn:spingraph:");
    let graph = doc["@graph"].as_array().unwrap();
    let typed = |t: &str| -> Vec<&Value> { graph.iter().filter(|i| i["@type"] == t).collect() };
    assert_eq!(ids(&typed("Entity")), sorted(entities));
    assert_eq!(ids(&typed("Relationship")), sorted(relationships));
    let edge = typed("Relationship")[0];
    assert_eq!(
        edge["source"],
        format!("urn:uuid:{}", edge["source_id"].as_str().unwrap())
    );
    assert_eq!(
        typed("Entity")[0]["@id"],
        format!("urn:uuid:{}", typed("Entity")[0]["id"].as_str().unwrap())
    );
}

#[test]
fn types_keeps_those_entities_and_only_the_relationships_between_them() {
    let app = app();
    let owner = app.caller("owner", "user");
    let admin = app.caller("admin", "admin");
    let (entities, relationships) = seed(&app, &owner);
    let lines = lines(app.get_as(&admin, &format!("{EXPORT}?types=person")));
    assert_eq!(lines[0]["types"], json!(["person"]));
    assert_eq!(
        ids(&of_kind(&lines, "entity")),
        sorted(entities[..2].to_vec())
    );
    // a→b stays; b→c goes with c (an org).
    assert_eq!(
        ids(&of_kind(&lines, "relationship")),
        vec![relationships[0].clone()]
    );
    let both = lines_of(&app, &admin, "?types=org,person");
    assert_eq!(of_kind(&both, "entity").len(), 3);
    assert_eq!(of_kind(&both, "relationship").len(), 2);
}

fn lines_of(app: &TestApp, who: &Caller, query: &str) -> Vec<Value> {
    lines(app.get_as(who, &format!("{EXPORT}{query}")))
}

#[test]
fn only_an_admin_or_an_export_key_may_export_and_every_export_is_audited() {
    let app = app();
    let user = app.caller("user", "user");
    let admin = app.caller("admin", "admin");
    seed(&app, &user);

    let body = assert_problem(app.get_as(&user, EXPORT), 403, "a user's export");
    assert!(
        body["detail"].as_str().unwrap().contains("export"),
        "{body}"
    );
    assert_problem(app.get(EXPORT).send().unwrap(), 401, "no credentials");
    // A user cannot mint a key with `export`.
    let refused = app.post_as(
        &user,
        "/v1/auth/api-keys",
        &json!({"name": "mine", "scopes": ["export"]}),
    );
    assert_eq!(refused.status(), 422);

    let export_key = app.create_api_key(&admin, "exporter", &["export"]);
    let resp = app.get_with_key(export_key["key"].as_str().unwrap(), EXPORT);
    assert_eq!(of_kind(&lines(resp), "entity").len(), 3);
    let read_key = app.create_api_key(&admin, "reader", &["entities:read"]);
    assert_problem(
        app.get_with_key(read_key["key"].as_str().unwrap(), EXPORT),
        403,
        "an admin's key without `export`",
    );

    let audited = app.db.query_json(
        "SELECT actor_id::text AS actor, details FROM audit_log WHERE action = 'graph.export' \
         AND resource_type = 'graph' ORDER BY at",
    );
    let audited = audited.as_array().unwrap();
    assert_eq!(audited.len(), 1, "one export went through: {audited:?}");
    assert_eq!(audited[0]["actor"], admin.id);
    assert_eq!(
        audited[0]["details"],
        json!({"format": "ndjson", "types": null})
    );
}

#[test]
fn a_bad_format_or_an_unknown_parameter_is_a_400_naming_it() {
    let app = app();
    let admin = app.caller("admin", "admin");
    for (query, param) in [
        ("?format=csv", "format"),
        ("?types=a,,b", "types"),
        ("?as_of=last+week", "as_of"),
        ("?since=2026-01-01T00:00:00Z", "since"),
    ] {
        assert_query_rejected(
            app.get_as(&admin, &format!("{EXPORT}{query}")),
            param,
            query,
        );
    }
    assert_eq!(app.send_as(&admin, app.post(EXPORT)).status(), 405);
}

/// `n` entities of `owner` written straight to the table, each linked to the next.
fn seed_many(app: &TestApp, owner: &Caller, n: usize) {
    app.db.execute(&format!(
        "INSERT INTO entities (type, name, owner_id) SELECT 'bulk', 'n' || i, '{}' \
         FROM generate_series(1, {n}) i",
        owner.id
    ));
    app.db.execute(&format!(
        "INSERT INTO relationships (source_id, target_id, type, created_by) \
         SELECT id, next, 'next', '{}' FROM \
         (SELECT id, lead(id) OVER (ORDER BY id) AS next FROM entities) e WHERE next IS NOT NULL",
        owner.id
    ));
}

#[test]
fn an_export_of_many_pages_is_the_graph_as_of_its_start() {
    let app = app();
    let owner = app.caller("owner", "user");
    let admin = app.caller("admin", "admin");
    seed_many(&app, &owner, 2_500);

    let mut resp = app.get_as(&admin, EXPORT);
    assert_eq!(resp.status(), 200);
    // The head is out, so the snapshot is taken: what is written now is not in this export.
    let mut first = [0u8; 1];
    resp.read_exact(&mut first).unwrap();
    app.db.execute(&format!(
        "INSERT INTO entities (type, name, owner_id) SELECT 'late', 'l' || i, '{}' \
         FROM generate_series(1, 10) i",
        owner.id
    ));
    app.db
        .execute("UPDATE entities SET name = 'renamed' WHERE type = 'bulk'");
    let mut rest = String::new();
    resp.read_to_string(&mut rest).unwrap();
    let text = format!("{}{rest}", first[0] as char);
    let lines: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let entities = of_kind(&lines, "entity");
    assert_eq!(entities.len(), 2_500);
    assert!(
        entities
            .iter()
            .all(|e| e["type"] == "bulk" && e["name"] != "renamed")
    );
    assert_eq!(of_kind(&lines, "relationship").len(), 2_499);
    let distinct: std::collections::HashSet<&str> =
        entities.iter().map(|e| e["id"].as_str().unwrap()).collect();
    assert_eq!(distinct.len(), 2_500, "no entity twice across pages");
    assert_eq!(lines.last().unwrap()["entities"], 2_500);
}

#[test]
fn a_body_cut_by_the_hosts_stream_limit_has_no_end_line() {
    if !host_is_spingraph() {
        eprintln!("skipped: --stream-timeout-ms is a property of spingraph's host");
        return;
    }
    let app = TestApp::start(TestOptions::signing_in_freely(&[]).host_arg("--stream-timeout-ms=1"));
    let owner = app.caller("owner", "user");
    let admin = app.caller("admin", "admin");
    seed_many(&app, &owner, 5_000);
    let resp = app.get_as(&admin, EXPORT);
    assert_eq!(
        resp.status(),
        200,
        "the head is sent under the request limit"
    );
    let body = resp.text().unwrap_or_default();
    let lines: Vec<Value> = body
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    assert_eq!(
        lines.first().map(|l| l["kind"].clone()),
        Some(json!("header"))
    );
    assert!(
        lines.iter().all(|l| l["kind"] != "end"),
        "a cut export carries no end line: {} bytes",
        body.len()
    );
    assert!(of_kind(&lines, "entity").len() < 5_000);
}
