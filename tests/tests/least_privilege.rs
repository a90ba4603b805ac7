//! Least privilege per component (issue 13, item 10), against the real host and Postgres:
//! a component dependency reaches only the capability sets its `inherit_configuration` lists,
//! the application's `authn` never sees the private signing key, and every component group
//! connects to Postgres as a role of its own that holds only the grants it uses (the data
//! components cannot read password hashes), and to Redis as an ACL user holding only its keys.
//! docs/security.md names each control and its test.

use std::collections::BTreeSet;

use spingraph_e2e::servers::RedisServer;
use spingraph_e2e::{
    PASSWORD, Response, TempDir, TestApp, TestOptions, Value, actions, host_property,
    host_reads_spin4_manifests, json, json_body, workspace_root,
};

/// `POST /v1/entities` of a person named Ada with `token`.
fn post_ada(app: &TestApp, token: &str) -> Response {
    app.post_as(
        token,
        "/v1/entities",
        &json!({"type": "person", "name": "Ada"}),
    )
}

/// What the authn-probe fixture reported through the parent's `/me`: its principal's email,
/// `jwt_signing_key=...;jwt_public_keys=...;redis=...@probe`.
fn probe_report(app: &TestApp, me: &str) -> String {
    let resp = app.get(me).bearer_auth("any").send().unwrap();
    let status = resp.status().as_u16();
    let body = json_body(resp);
    assert_eq!(status, 200, "{me}: {body}");
    body["email"].as_str().unwrap_or_default().to_string()
}

/// Each route's probe report, checked against `expect` (route's `/me`, report).
fn assert_probe_reports(app: &TestApp, expect: &[(&str, &str)]) {
    for (me, report) in expect {
        assert_eq!(probe_report(app, me), format!("{report}@probe"), "{me}");
    }
    // The parent itself keeps all of its configuration: its own Redis rate limit worked above,
    // and the signing key never appears in the log.
    assert!(
        !app.log_lines()
            .iter()
            .any(|l| l.contains(&app.keys.signing_key))
    );
}

/// The form every released Spin reads, and the application's own: a component's
/// `dependencies_inherit_configuration = true` hands its dependency everything it has (here
/// variables and outbound hosts, all it configures), `false` nothing.
#[test]
fn a_dependency_reaches_all_or_none_of_its_parents_configuration() {
    let manifest = workspace_root().join("tests/fixtures/inherit.toml");
    let app = TestApp::start(TestOptions::default().manifest(manifest));
    assert_probe_reports(
        &app,
        &[
            (
                "/all/me",
                "jwt_signing_key=readable;jwt_public_keys=readable;redis=allowed",
            ),
            // The parent's variables are `undefined` to the dependency, as on Spin.
            (
                "/nothing/me",
                "jwt_signing_key=undefined;jwt_public_keys=undefined;redis=denied",
            ),
        ],
    );
}

/// The fixture manifest whose dependencies carry `inherit_configuration` lists, under
/// `--spin-compat releases`.
fn inherit_lists(releases: &str) -> TestOptions {
    TestOptions::default()
        .manifest(workspace_root().join("tests/fixtures/inherit-lists.toml"))
        .spin_compat(releases)
}

/// Spin 4's per-dependency `inherit_configuration` lists (SIP-023), which this host reads too:
/// a dependency reaches only the capability sets its list names. Spin 3.x cannot read them.
#[test]
fn a_dependency_reaches_only_the_capability_sets_its_list_names() {
    if !host_reads_spin4_manifests() {
        return;
    }
    let app = TestApp::start(inherit_lists("4.0.2"));
    assert_probe_reports(
        &app,
        &[
            (
                "/listed/me",
                "jwt_signing_key=readable;jwt_public_keys=readable;redis=allowed",
            ),
            (
                "/outbound-only/me",
                "jwt_signing_key=undefined;jwt_public_keys=undefined;redis=allowed",
            ),
            (
                "/variables-only/me",
                "jwt_signing_key=readable;jwt_public_keys=readable;redis=denied",
            ),
        ],
    );
}

/// `--spin-compat 3.6.3` refuses what Spin 3.6.3's manifest reader refuses (SpinKube's shim
/// fails with "data did not match any variant of untagged enum ComponentDependency"), naming
/// the table and the form to write instead.
#[test]
fn spin_compat_3_6_3_refuses_a_manifest_spin_3_6_3_cannot_read() {
    if !host_property("--spin-compat") {
        return;
    }
    let exit = TestApp::run_to_exit(inherit_lists("3.6.3"), std::time::Duration::from_secs(60));
    assert!(exit.status.is_some_and(|s| !s.success()), "{}", exit.output);
    for expect in [
        "--spin-compat 3.6.3",
        "[component.auth-listed.dependencies] \"spingraph:api/authn@1.0.0\"",
        "Spin 3.6.3 cannot read a dependency's `inherit_configuration`",
        "dependencies_inherit_configuration",
    ] {
        assert!(exit.output.contains(expect), "{expect}: {}", exit.output);
    }
}

/// The application's manifest with the authn-probe fixture in place of `authn`, in a
/// directory of its own (sources made absolute).
fn application_with_authn_probe(dir: &TempDir) -> std::path::PathBuf {
    let root = workspace_root();
    let text = std::fs::read_to_string(root.join("spin.toml")).unwrap();
    // `[component.authn]`'s source and each dependency's `path`.
    let authn = "\"target/wasm32-wasip2/release/authn.wasm\"";
    assert_eq!(
        text.matches(authn).count(),
        8,
        "spin.toml's authn wasm moved"
    );
    let text = text
        .replace(authn, "\"target/wasm32-wasip2/release/authn_probe.wasm\"")
        .replace("\"target/", &format!("\"{}/target/", root.display()));
    let path = dir.path().join("spin.toml");
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn the_authn_dependency_of_every_route_cannot_read_the_signing_key() {
    let dir = TempDir::create();
    let app = TestApp::start(
        TestOptions::signing_in_freely(&[]).manifest(application_with_authn_probe(&dir)),
    );
    // auth (logout, me, users, keys) and the data components authenticate through authn, which
    // reads their variables: the public keys, never the signing key (auth-signin, the one
    // component holding it, gives its authn nothing; its routes authenticate no one).
    let expected = "jwt_signing_key=undefined;jwt_public_keys=readable;redis=allowed@probe";
    assert_eq!(probe_report(&app, "/v1/auth/me"), expected);
    // entities authenticates the same way: the probe's principal reaches the handler.
    let resp = app
        .get("/v1/entities/00000000-0000-7000-8000-0000000000aa")
        .bearer_auth("any")
        .send()
        .unwrap();
    assert_eq!(resp.status(), 404, "{}", resp.text().unwrap_or_default());
    // So does reports, in Python: the probe's principal is the one whose entities it counts.
    let resp = app
        .get("/v1/reports/types")
        .bearer_auth("any")
        .send()
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(
        json_body(resp)["owner_id"],
        "00000000-0000-7000-8000-000000000001"
    );
    // Sign-in still signs: auth-signin holds the key.
    app.create_user("signin@example.com", "user");
    let resp = app.login("signin@example.com", spingraph_e2e::PASSWORD);
    assert_eq!(resp.status(), 200);
}

// ------------------------------------------------------------------ database roles

#[test]
fn the_data_role_cannot_read_password_hashes_but_reads_what_authn_needs() {
    let app = TestApp::start(TestOptions::default());
    app.create_user("hash@example.com", "user");
    let err = app
        .db
        .query_json_as("spingraph_data", "SELECT password_hash FROM users")
        .unwrap_err();
    assert!(err.contains("permission denied"), "{err}");
    let err = app
        .db
        .query_json_as("spingraph_data", "SELECT * FROM users")
        .unwrap_err();
    assert!(err.contains("permission denied"), "{err}");
    // What authn inside entities and relationships reads to authenticate a caller.
    let standing = app
        .db
        .query_json_as(
            "spingraph_data",
            "SELECT id, email, role, active, token_generation FROM users",
        )
        .unwrap();
    assert_eq!(standing[0]["email"], "hash@example.com", "{standing}");
    // Nor may it touch the credentials tables beyond that, or read the audit log.
    for sql in [
        "SELECT token_hash FROM refresh_tokens",
        "SELECT name FROM api_keys",
        "SELECT action FROM audit_log",
    ] {
        let err = app.db.query_json_as("spingraph_data", sql).unwrap_err();
        assert!(err.contains("permission denied"), "{sql}: {err}");
    }
    // The other groups: health reads the schema version and nothing else; auth no graph data.
    app.db
        .query_json_as(
            "spingraph_health",
            "SELECT max(version) AS v FROM _sqlx_migrations",
        )
        .unwrap();
    for (role, sql) in [
        ("spingraph_health", "SELECT id FROM users"),
        ("spingraph_health", "SELECT id FROM entities"),
        ("spingraph_auth", "SELECT id FROM entities"),
        ("spingraph_auth", "SELECT id FROM relationships"),
    ] {
        let err = app.db.query_json_as(role, sql).unwrap_err();
        assert!(err.contains("permission denied"), "{role}: {sql}: {err}");
    }
}

#[test]
fn every_component_group_connects_as_its_own_role() {
    let app = TestApp::start(TestOptions::signing_in_freely(&[]));
    app.create_user("roles@example.com", "user");
    let (token, _) = app.tokens("roles@example.com");
    assert_eq!(post_ada(&app, &token).status(), 201);
    let resp = app.get("/v1/health/ready").send().unwrap();
    assert_eq!(resp.status(), 200);
    let resp = app
        .get("/v1/reports/types")
        .bearer_auth(&token)
        .send()
        .unwrap();
    assert_eq!(resp.status(), 200);
    let resp = app
        .post_json("/v1/search", &json!({"text": "Ada"}))
        .bearer_auth(&token)
        .send()
        .unwrap();
    assert_eq!(resp.status(), 200);
    if !host_property("pooled Postgres connections") {
        return;
    }
    // The host pools connections, so those of the requests above are still open.
    let users: Vec<Value> = app
        .db
        .query_json(&format!(
            "SELECT DISTINCT usename FROM pg_stat_activity WHERE datname = '{}' ORDER BY 1",
            app.db.name
        ))
        .as_array()
        .unwrap()
        .iter()
        .map(|row| row["usename"].clone())
        .collect();
    for role in [
        "spingraph_auth",
        "spingraph_data",
        "spingraph_health",
        "spingraph_reports",
        "spingraph_search",
    ] {
        assert!(users.contains(&json!(role)), "{role} not among {users:?}");
    }
}

/// The reports component's role reads the three entity columns its count needs and what its authn
/// reads (a user's standing, a session's revocation, a key by its hash), and nothing else: no
/// entity names or metadata, no password hashes, no writes, not even an audit row.
#[test]
fn the_reports_role_reads_only_what_its_count_and_its_authn_need() {
    let app = TestApp::start(TestOptions::signing_in_freely(&[]));
    let owner = app.caller("reports-role", "user");
    assert_eq!(post_ada(&app, &owner.token).status(), 201);
    let reports = "spingraph_reports";
    let counted = app
        .db
        .query_json_as(
            reports,
            "SELECT type, count(*)::int AS n FROM entities WHERE deleted_at IS NULL GROUP BY type",
        )
        .unwrap();
    assert_eq!(counted, json!([{"type": "person", "n": 1}]));
    app.db
        .query_json_as(
            reports,
            "SELECT id, email, role, active, token_generation FROM users",
        )
        .unwrap();
    app.db
        .query_json_as(reports, "SELECT family_id, revoked_at FROM refresh_tokens")
        .unwrap();
    app.db
        .query_json_as(reports, "SELECT * FROM api_key_lookup('no-such-hash')")
        .unwrap();
    for sql in [
        "SELECT name FROM entities",
        "SELECT metadata FROM entities",
        "SELECT id FROM entities",
        "SELECT password_hash FROM users",
        "SELECT token_hash FROM refresh_tokens",
        "SELECT key_hash FROM api_keys",
        "SELECT id FROM relationships",
        "SELECT action FROM audit_log",
        "SELECT resource_id FROM changes",
    ] {
        let err = app.db.query_json_as(reports, sql).unwrap_err();
        assert!(err.contains("permission denied"), "{sql}: {err}");
    }
    for sql in [
        format!(
            "INSERT INTO entities (type, name, owner_id) VALUES ('x', 'y', '{}')",
            owner.id
        ),
        "UPDATE entities SET deleted_at = now()".to_string(),
        "DELETE FROM entities".to_string(),
        format!(
            "INSERT INTO audit_log (actor_id, action, resource_type) VALUES ('{}', 'entity.create', 'entity')",
            owner.id
        ),
    ] {
        let err = app.db.execute_as(reports, &sql).unwrap_err();
        assert!(err.contains("permission denied"), "{sql}: {err}");
    }
}

/// The search component's role reads the graph, the vectors, the text documents and what its
/// authn reads, and writes none of them: a space is made and dropped only through the owner's
/// functions, and its only other write is its own kind of audit row (above).
#[test]
fn the_search_role_reads_the_graph_and_makes_spaces_only_through_the_owners_functions() {
    let app = TestApp::start(TestOptions::signing_in_freely(&[]));
    let owner = app.caller("search-role", "user");
    assert_eq!(post_ada(&app, &owner.token).status(), 201);
    let search = "spingraph_search";
    for sql in [
        "SELECT id, type, name, metadata, owner_id, merged_into FROM entities",
        "SELECT id, source_id, target_id, type FROM relationships",
        "SELECT space_id, entity_id, embedding::text FROM embeddings",
        "SELECT id, name, dimensions FROM embedding_spaces",
        "SELECT entity_id, document::text FROM entity_documents",
        "SELECT field FROM search_text_fields",
        "SELECT id, email, role, active, token_generation FROM users",
        "SELECT family_id, revoked_at FROM refresh_tokens",
        "SELECT * FROM api_key_lookup('no-such-hash')",
    ] {
        app.db
            .query_json_as(search, sql)
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
    }
    let documents = app
        .db
        .query_json_as(search, "SELECT count(*)::int AS n FROM entity_documents")
        .unwrap();
    assert_eq!(
        documents,
        json!([{"n": 1}]),
        "the trigger wrote Ada's document"
    );
    for sql in [
        "SELECT password_hash FROM users",
        "SELECT token_hash FROM refresh_tokens",
        "SELECT key_hash FROM api_keys",
        "SELECT action FROM audit_log",
        "SELECT resource_id FROM changes",
        "SELECT key FROM idempotency_keys",
    ] {
        let err = app.db.query_json_as(search, sql).unwrap_err();
        assert!(err.contains("permission denied"), "{sql}: {err}");
    }
    app.db
        .execute_as(
            search,
            &format!(
                "SELECT * FROM embedding_space_create('by-role', 3, 'l2', NULL, '{}')",
                owner.id
            ),
        )
        .expect("the owner's function makes the space and its index");
    for sql in [
        format!(
            "INSERT INTO entities (type, name, owner_id) VALUES ('x', 'y', '{}')",
            owner.id
        ),
        "UPDATE entities SET name = 'z'".to_string(),
        "DELETE FROM relationships".to_string(),
        "INSERT INTO embeddings (space_id, entity_id, embedding) \
         SELECT s.id, e.id, '[1,2,3]' FROM embedding_spaces s, entities e"
            .to_string(),
        "INSERT INTO embedding_spaces (name, dimensions, distance) VALUES ('x', 3, 'l2')"
            .to_string(),
        "DELETE FROM embedding_spaces".to_string(),
        "UPDATE entity_documents SET document = ''".to_string(),
        "INSERT INTO search_text_fields VALUES ('x')".to_string(),
        "CREATE INDEX sneaky ON embeddings (entity_id)".to_string(),
    ] {
        let err = app.db.execute_as(search, &sql).unwrap_err();
        assert!(
            err.contains("permission denied") || err.contains("must be owner"),
            "{sql}: {err}"
        );
    }
    app.db
        .execute_as(search, "SELECT * FROM embedding_space_drop('by-role')")
        .expect("the owner's function drops it");
}

/// Each group's role may append only its own kind of audit row, naming a user as the actor
/// (auth also a stranger: NULL); health none at all. The owner (migrations, `spingraph
/// admin`) is not held to it.
#[test]
fn each_group_may_audit_only_its_own_actions_by_a_user() {
    let app = TestApp::start(TestOptions::default());
    let active = app.create_user("active@example.com", "user");
    let inactive = app.create_user("inactive@example.com", "user");
    app.db.execute(&format!(
        "UPDATE users SET active = false WHERE id = '{inactive}'"
    ));
    let nobody = uuid::Uuid::new_v4().to_string();
    let audit = |role: &str, actor: Option<&str>, action: &str, resource: &str| {
        let actor = actor.map_or("NULL".to_string(), |a| format!("'{a}'"));
        app.db.execute_as(
            role,
            &format!(
                "INSERT INTO audit_log (actor_id, action, resource_type, request_id) \
                 VALUES ({actor}, '{action}', '{resource}', 'audit-test')"
            ),
        )
    };
    let refused = |result: Result<(), String>, why: &str, what: &str| {
        let err = result.expect_err(what);
        assert!(err.contains(why), "{what}: {err}");
    };
    let (auth, data, search) = ("spingraph_auth", "spingraph_data", "spingraph_search");
    let (active, inactive, nobody) = (active.as_str(), inactive.as_str(), nobody.as_str());
    // What each group writes.
    for (role, actor, action, resource) in [
        (data, Some(active), "entity.create", "entity"),
        (data, Some(active), "relationship.delete", "relationship"),
        (data, Some(active), "graph.export", "graph"),
        (auth, Some(active), "user.login", "user"),
        (auth, Some(active), "api_key.create", "api_key"),
        (auth, None, "token.reuse_detected", "refresh_family"),
        (
            search,
            Some(active),
            "embedding_space.create",
            "embedding_space",
        ),
        (
            search,
            Some(active),
            "embedding_space.delete",
            "embedding_space",
        ),
    ] {
        audit(role, actor, action, resource)
            .unwrap_or_else(|e| panic!("{role} {action} on {resource}: {e}"));
    }
    // Another group's actions, or its own on another group's resources.
    for (role, action, resource) in [
        (data, "user.login", "user"),
        (data, "api_key.revoke", "api_key"),
        (data, "entity.create", "user"),
        (data, "graph.export", "entity"),
        (data, "graph.delete", "graph"),
        (auth, "graph.export", "graph"),
        (auth, "entity.delete", "entity"),
        (auth, "relationship.create", "relationship"),
        (auth, "user.update", "entity"),
        (search, "entity.create", "entity"),
        (search, "embedding_space.create", "entity"),
        (search, "user.login", "user"),
        (data, "embedding_space.create", "embedding_space"),
        (auth, "embedding_space.delete", "embedding_space"),
    ] {
        let what = format!("{role} {action} on {resource}");
        refused(
            audit(role, Some(active), action, resource),
            "may not write",
            &what,
        );
    }
    // A deactivated user still did what their rows record (their request may have raced the
    // deactivation); an actor that is no user at all is refused, as is no actor for a data
    // action.
    audit(data, Some(inactive), "entity.create", "entity").expect("a deactivated actor");
    refused(
        audit(data, Some(nobody), "entity.create", "entity"),
        "foreign key",
        "data, unknown actor",
    );
    refused(
        audit(auth, Some(nobody), "user.login", "user"),
        "foreign key",
        "auth, unknown actor",
    );
    refused(
        audit(data, None, "entity.create", "entity"),
        "without an actor",
        "data, no actor",
    );
    refused(
        audit(search, None, "embedding_space.create", "embedding_space"),
        "without an actor",
        "search, no actor",
    );
    refused(
        audit("spingraph_health", Some(active), "entity.create", "entity"),
        "permission denied",
        "health",
    );
    // One statement writing rows of two kinds is refused whole, whichever comes first.
    refused(
        app.db.execute_as(
            data,
            &format!(
                "WITH a AS (INSERT INTO audit_log (actor_id, action, resource_type) \
                            VALUES ('{active}', 'entity.update', 'entity')), \
                      b AS (INSERT INTO audit_log (actor_id, action, resource_type) \
                            VALUES ('{active}', 'user.update', 'user')) \
                 SELECT 1"
            ),
        ),
        "may not write",
        "data, two kinds in one statement",
    );
    let written = app
        .db
        .query_json("SELECT action FROM audit_log WHERE request_id = 'audit-test' ORDER BY action");
    assert_eq!(
        actions(&written),
        [
            "api_key.create",
            "embedding_space.create",
            "embedding_space.delete",
            "entity.create",
            "entity.create",
            "graph.export",
            "relationship.delete",
            "token.reuse_detected",
            "user.login"
        ]
    );
    // The owner writes what it likes (`spingraph admin create-user` writes user.create, no actor).
    app.db.execute(
        "INSERT INTO audit_log (actor_id, action, resource_type) VALUES (NULL, 'user.create', 'user')",
    );
}

/// A refresh token whose user was deactivated outside the API (where no session was revoked) is
/// refused, and its session revoked with the system as the actor: the audit log takes no
/// inactive actor.
#[test]
fn a_deactivated_users_refresh_is_refused_and_its_session_revoked_by_no_actor() {
    let app = TestApp::start(TestOptions::signing_in_freely(&[]));
    let id = app.create_user("gone@example.com", "user");
    let (_, refresh) = app.tokens("gone@example.com");
    app.db.execute(&format!(
        "UPDATE users SET active = false WHERE id = '{id}'"
    ));
    let resp = app.refresh(&refresh);
    assert_eq!(resp.status(), 401, "{}", resp.text().unwrap_or_default());
    let revoked = app.db.query_json(&format!(
        "SELECT count(*) AS n FROM refresh_tokens WHERE user_id = '{id}' AND revoked_at IS NULL"
    ));
    assert_eq!(revoked[0]["n"], 0, "the session is revoked");
    let rows = app.db.query_json(
        "SELECT actor_id::text AS actor FROM audit_log WHERE action = 'token.revoke_inactive'",
    );
    assert_eq!(rows, json!([{"actor": null}]));
}

/// The data group's role reads no API-key column (no hashes, no listing): `api_key_lookup(hash)`
/// answers for the one key whose hash is presented, which is all authn in entities and
/// relationships needs; keys still work there and record their use.
#[test]
fn the_data_role_finds_an_api_key_only_by_the_hash_presented() {
    let app = TestApp::start(TestOptions::signing_in_freely(&[]));
    let owner = app.caller("keyowner", "user");
    let created = app.create_api_key(&owner, "reader", &["entities:read"]);
    let (id, key) = (
        created["id"].as_str().unwrap(),
        created["key"].as_str().unwrap(),
    );
    let hash = app
        .db
        .query_json(&format!("SELECT key_hash FROM api_keys WHERE id = '{id}'"))[0]["key_hash"]
        .as_str()
        .unwrap()
        .to_string();
    let data = "spingraph_data";
    for sql in [
        "SELECT key_hash FROM api_keys",
        "SELECT id FROM api_keys",
        "SELECT id FROM api_keys WHERE key_hash = 'x'",
    ] {
        let err = app.db.query_json_as(data, sql).unwrap_err();
        assert!(err.contains("permission denied"), "{sql}: {err}");
    }
    let err = app
        .db
        .execute_as(data, "UPDATE api_keys SET revoked_at = NULL")
        .unwrap_err();
    assert!(err.contains("permission denied"), "{err}");
    let found = app
        .db
        .query_json_as(
            data,
            &format!(
                "SELECT id::text AS id, user_id::text AS user_id FROM api_key_lookup('{hash}')"
            ),
        )
        .unwrap();
    assert_eq!(found, json!([{"id": id, "user_id": owner.id}]));
    let unknown = app
        .db
        .query_json_as(data, "SELECT * FROM api_key_lookup('no-such-hash')")
        .unwrap();
    assert_eq!(unknown, json!([]));
    let err = app
        .db
        .query_json_as(
            "spingraph_health",
            &format!("SELECT * FROM api_key_lookup('{hash}')"),
        )
        .unwrap_err();
    assert!(err.contains("permission denied"), "{err}");
    // The key authenticates on the data routes (through the lookup), which records its use.
    let resp = app.get_with_key(key, "/v1/entities?limit=1");
    assert_eq!(resp.status(), 200, "{}", resp.text().unwrap_or_default());
    let used = app.db.query_json(&format!(
        "SELECT last_used_at IS NOT NULL AS used FROM api_keys WHERE id = '{id}'"
    ));
    assert_eq!(used, json!([{"used": true}]));
}

// ------------------------------------------------------------------ Redis ACL users

/// The `ACL SETUSER` arguments of each user of deploy/redis-acl.conf (name first), each with
/// password `password`.
fn acl_users(password: &str) -> Vec<Vec<String>> {
    let text = std::fs::read_to_string(workspace_root().join("deploy/redis-acl.conf")).unwrap();
    let mut users = Vec::new();
    for line in text.lines().filter(|l| l.starts_with("user ")) {
        // `#<sha256 of ...>` spans words: it ends at the word closing the `<...>`.
        let line = match (line.find("#<"), line.find('>')) {
            (Some(start), Some(end)) => {
                format!("{}>{password}{}", &line[..start], &line[end + 1..])
            }
            _ => line.to_string(),
        };
        users.push(
            line.split_whitespace()
                .skip(1)
                .map(str::to_string)
                .collect(),
        );
    }
    users
}

/// Creates (or re-creates) one ACL user from its `ACL SETUSER` arguments.
fn set_acl_user(redis: &RedisServer, user: &[String]) {
    let mut args = vec!["ACL", "SETUSER"];
    args.extend(user.iter().map(String::as_str));
    assert_eq!(redis.command(&args), "+OK", "{user:?}");
}

/// The password every ACL user of [`app_on_acl_users`] has.
const ACL_PASSWORD: &str = "acl-test-password";

/// deploy/redis-acl.conf's users loaded into `redis` (a server of the test's own: ACL users are
/// server-wide), each with [`ACL_PASSWORD`], and the application with each group connecting as
/// its user. The users' `ACL SETUSER` arguments come back with the app.
fn app_on_acl_users(redis: &RedisServer) -> (TestApp, Vec<Vec<String>>) {
    let acl = acl_users(ACL_PASSWORD);
    for user in &acl {
        set_acl_user(redis, user);
    }
    let users: Vec<&str> = acl.iter().map(|u| u[0].as_str()).collect();
    assert_eq!(
        users,
        ["spingraph-auth", "spingraph-data", "spingraph-health"]
    );
    let url = |user: &str| format!("redis://{user}:{ACL_PASSWORD}@{}", redis.host());
    let app = TestApp::start(
        redis
            .app_options(TestOptions::signing_in_freely(&[]))
            .variable("auth_redis_url", &url("spingraph-auth"))
            .variable("data_redis_url", &url("spingraph-data"))
            .variable("health_redis_url", &url("spingraph-health")),
    );
    (app, acl)
}

#[test]
fn each_group_uses_its_own_redis_acl_user_which_holds_only_its_keys() {
    let redis = RedisServer::start();
    let password = ACL_PASSWORD;
    let (app, acl) = app_on_acl_users(&redis);
    let users: Vec<&str> = acl.iter().map(|u| u[0].as_str()).collect();
    // Every group's Redis work: sign-in (login limit), an authenticated read and write
    // (denylist check, api limit), logout (denylist entry), readiness (PING).
    app.create_user("acl@example.com", "user");
    let (token, _) = app.tokens("acl@example.com");
    assert_eq!(post_ada(&app, &token).status(), 201);
    // A long poll takes and gives back its slot (`slots:*`, sorted sets) as spingraph-data.
    let admin = app.caller("acl-admin", "admin");
    let poll = app.get_as(&admin, "/v1/changes?after=18446744073709551615.1&wait=1");
    assert_eq!(poll.status(), 200);
    assert_eq!(app.get("/v1/health/ready").send().unwrap().status(), 200);
    let resp = app
        .post("/v1/auth/logout")
        .bearer_auth(&token)
        .send()
        .unwrap();
    assert!(resp.status().is_success(), "logout: {}", resp.status());
    // The data components read the denylist entry auth wrote.
    assert_eq!(post_ada(&app, &token).status(), 401);
    // ... and wrote their verified-token cache entry (tokencache:*) as spingraph-data.
    assert_ne!(
        redis.command_text(&["EVAL", "return #redis.call('KEYS', 'tokencache:*')", "0"]),
        ":0",
        "authn cached the verified token"
    );
    // None of that work was refused anything by Redis's ACL (an EVAL naming a `denylist:` key
    // among its KEYS would be: the data user may only read those).
    assert_eq!(
        redis.command_values(&["ACL", "LOG"]),
        Vec::<String>::new(),
        "ACL denials during the groups' work"
    );
    // Each group reaches Redis as its own user, on any host however it holds connections: with
    // one user deleted (which also closes its open connections), the next work of every group
    // makes Redis log failed AUTHs for that user alone, and the other groups' work still
    // succeeds. (Data reads and writes go on without Redis, so the log tells, not the status.)
    let (fresh, _) = app.tokens("acl@example.com");
    let work = |group: &str| -> bool {
        let resp = match group {
            "spingraph-auth" => app.login("acl@example.com", PASSWORD),
            "spingraph-data" => post_ada(&app, &fresh),
            _ => app.get("/v1/health/ready").send().unwrap(),
        };
        resp.status().is_success()
    };
    for gone in &acl {
        assert_eq!(redis.command(&["ACL", "LOG", "RESET"]), "+OK");
        assert_eq!(redis.command(&["ACL", "DELUSER", &gone[0]]), ":1");
        for group in &users {
            let worked = work(group);
            if *group != gone[0] {
                assert!(worked, "{group}'s work with {} deleted", gone[0]);
            }
        }
        // A host that pools connections notices the closed one on use and reconnects in the
        // background: the failed AUTH may come a moment later, so ask again until it does.
        let failed_auths = || -> BTreeSet<String> {
            let log = redis.command_values(&["ACL", "LOG"]);
            log.windows(2)
                .filter(|w| w[0] == "username")
                .map(|w| w[1].clone())
                .collect()
        };
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while !failed_auths().contains(&gone[0]) && std::time::Instant::now() < deadline {
            work(&gone[0]);
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        assert_eq!(
            failed_auths(),
            BTreeSet::from([gone[0].clone()]),
            "ACL failures with {} deleted: {:?}",
            gone[0],
            redis.command_values(&["ACL", "LOG"])
        );
        set_acl_user(&redis, gone);
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while !work(&gone[0]) {
            assert!(
                std::time::Instant::now() < deadline,
                "{} works again once restored",
                gone[0]
            );
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
    }
    // What each user may not do, whatever a compromised component sends.
    let denied = |user: &str, args: &[&str]| {
        let reply = redis.command_as(user, password, args);
        assert!(reply.starts_with("-NOPERM"), "{user} {args:?}: {reply}");
    };
    denied("spingraph-data", &["SET", "denylist:forged", "1"]);
    denied("spingraph-data", &["DEL", "denylist:anything"]);
    denied("spingraph-data", &["GET", "other:key"]);
    denied("spingraph-data", &["FLUSHALL"]);
    denied("spingraph-health", &["GET", "ratelimit:x"]);
    denied("spingraph-health", &["GET", "tokencache:x"]);
    denied("spingraph-auth", &["KEYS", "*"]);
    assert_eq!(
        redis.command_as("spingraph-data", password, &["GET", "denylist:x"]),
        "$-1"
    );
}

/// Each group counts its rate-limit windows under a prefix of its own (`ratelimit:auth:`,
/// `ratelimit:data:`), which only its ACL user may write: a data component can neither lift nor
/// exhaust the sign-in limits, nor the auth routes' api and auth-failure windows, and the other
/// way round.
#[test]
fn each_groups_rate_limit_windows_are_writable_by_its_own_redis_user_alone() {
    let redis = RedisServer::start();
    let (app, _) = app_on_acl_users(&redis);
    app.create_user("windows@example.com", "user");
    // Every kind of window of both groups: sign-in (auth-signin), the api limit (authn in auth
    // and in entities) and failed authentications (auth and entities).
    let (token, _) = app.tokens("windows@example.com");
    assert_eq!(app.me_status(&token), 200);
    assert_eq!(app.me_status("not-a-token"), 401);
    assert_eq!(post_ada(&app, &token).status(), 201);
    let resp = app
        .get("/v1/entities?limit=1")
        .bearer_auth("not-a-token")
        .send()
        .unwrap();
    assert_eq!(resp.status(), 401);
    // Each group wrote its windows as its own user, and Redis refused none of it.
    assert_eq!(
        redis.command_values(&["ACL", "LOG"]),
        Vec::<String>::new(),
        "ACL denials during the groups' work"
    );
    let keys = redis.command_values(&["KEYS", "ratelimit:*"]);
    let of_group = |group: &str| -> Vec<String> {
        let prefix = format!("ratelimit:{group}:");
        keys.iter()
            .filter(|k| k.starts_with(&prefix))
            .cloned()
            .collect()
    };
    let (auth, data) = (of_group("auth"), of_group("data"));
    assert_eq!(
        auth.len() + data.len(),
        keys.len(),
        "windows of no group: {keys:?}"
    );
    for (group, windows, policies) in [
        ("auth", &auth, &["login", "api", "authfail"][..]),
        ("data", &data, &["api", "authfail"][..]),
    ] {
        for policy in policies {
            let prefix = format!("ratelimit:{group}:{policy}:");
            assert!(
                windows.iter().any(|k| k.starts_with(&prefix)),
                "no {prefix}* among {keys:?}"
            );
        }
    }
    // Neither group's user may count in or reset the other's windows, directly or in a script
    // as the components count.
    let count_script = "return redis.call('INCR', KEYS[1])";
    for (user, others) in [("spingraph-data", &auth), ("spingraph-auth", &data)] {
        for key in others {
            for args in [
                &["INCR", key.as_str()][..],
                &["SET", key.as_str(), "0"][..],
                &["EVAL", count_script, "1", key.as_str()][..],
            ] {
                let reply = redis.command_as(user, ACL_PASSWORD, args);
                assert!(reply.starts_with("-NOPERM"), "{user} {args:?}: {reply}");
            }
        }
    }
}
