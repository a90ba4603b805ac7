//! Export, import, export (issue 29, item 6), through the command line end to end: `spingraph
//! export` writes a graph from one host, `spingraph import` loads it into an empty database behind
//! another, and a second export holds the same graph: natural keys and content equal (ids of
//! entities without a natural key differ; they are matched by content); `--as-of` exports the
//! graph of an earlier instant. And `spingraph export` keeps no file of an export that was cut.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Stdio};

use spingraph_e2e::{
    Caller, TempDir, TestApp, TestOptions, Value, host_is_spingraph, json, spingraph_bin,
};

fn app(extra: &[&str]) -> TestApp {
    let mut opts = TestOptions::signing_in_freely(&[("api_rate_limit_per_minute", "1000000")]);
    for arg in extra {
        opts = opts.host_arg(arg);
    }
    TestApp::start(opts)
}

/// `spingraph SUBCOMMAND ARGS` against `app` as `who` (token in the environment, never argv);
/// its exit status and stderr.
fn cli(app: &TestApp, who: &Caller, args: &[&str]) -> (bool, String) {
    let out = Command::new(spingraph_bin())
        .args(args)
        .env_remove("SPINGRAPH_API_KEY")
        .env("SPINGRAPH_URL", app.url(""))
        .env("SPINGRAPH_TOKEN", &who.token)
        .stdin(Stdio::null())
        .output()
        .expect("running spingraph");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn export_to(app: &TestApp, admin: &Caller, path: &Path) {
    let (ok, stderr) = cli(app, admin, &["export", path.to_str().unwrap()]);
    assert!(ok, "export failed: {stderr}");
    assert!(stderr.contains("entities"), "{stderr}");
}

/// What must survive a round trip: each entity by natural key (or, without one, by its
/// content), each relationship by its ends so named and its type, with their content.
fn graph(path: &Path) -> (BTreeMap<String, Value>, BTreeMap<String, Value>) {
    let lines: Vec<Value> = std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let content = |e: &Value| json!([e["type"], e["name"], e["confidence"], e["metadata"]]);
    let mut names = BTreeMap::new();
    let mut entities = BTreeMap::new();
    for e in lines.iter().filter(|l| l["kind"] == "entity") {
        let name = match e["external_id"].as_str() {
            Some(xid) => format!("{}/{xid}", e["type"].as_str().unwrap()),
            None => content(e).to_string(),
        };
        names.insert(e["id"].as_str().unwrap().to_string(), name.clone());
        assert!(
            entities.insert(name, content(e)).is_none(),
            "two entities alike"
        );
    }
    let mut relationships = BTreeMap::new();
    for r in lines.iter().filter(|l| l["kind"] == "relationship") {
        let end = |id: &Value| names[id.as_str().unwrap()].clone();
        let key = format!(
            "{} -{}-> {}",
            end(&r["source_id"]),
            r["type"],
            end(&r["target_id"])
        );
        relationships.insert(key, json!([r["confidence"], r["metadata"]]));
    }
    (entities, relationships)
}

#[test]
fn export_import_export_gives_the_same_graph() {
    let source = app(&[]);
    let owner = source.caller("owner", "user");
    let admin = source.caller("admin", "admin");
    let mut ids = Vec::new();
    for (kind, name, xid) in [
        ("person", "Ada \"the first\" <programmer>", Some("p-1")),
        ("person", "Grace", Some("p-2")),
        ("org", "Analytical Engines", None),
        ("org", "Navy", Some("o-2")),
    ] {
        let mut body = json!({"type": kind, "name": name, "confidence": 0.75,
                              "metadata": {"name": name, "tags": ["x", "y"], "n": {"deep": 1}}});
        if let Some(xid) = xid {
            body["external_id"] = json!(xid);
        }
        ids.push(
            source.created_entity(&owner, &body)["id"]
                .as_str()
                .unwrap()
                .to_string(),
        );
    }
    for (s, t, kind) in [
        (0, 1, "knows"),
        (0, 2, "founded"),
        (1, 3, "served"),
        (2, 3, "supplies"),
    ] {
        let resp = source.post_as(
            &owner,
            "/v1/relationships",
            &json!({"source_id": ids[s], "target_id": ids[t], "type": kind,
                    "confidence": 0.5, "metadata": {"since": 1840 + s}}),
        );
        assert_eq!(resp.status(), 201);
    }

    let dir = TempDir::create();
    let first = dir.path().join("first.ndjson");
    export_to(&source, &admin, &first);

    // Changed since: `--as-of` an instant before the change still exports the first graph.
    let instant = source.db.instant();
    let resp = source.patch_as(
        &owner,
        &format!("/v1/entities/{}", ids[1]),
        &json!({"name": "Grace H."}),
    );
    assert_eq!(resp.status(), 200);
    let then = dir.path().join("then.ndjson");
    let then_arg = then.to_str().unwrap();
    let (ok, stderr) = cli(&source, &admin, &["export", then_arg, "--as-of", &instant]);
    assert!(ok, "export --as-of failed: {stderr}");
    assert_eq!(graph(&then), graph(&first));

    let target = app(&[]);
    let importer = target.caller("importer", "user");
    let admin_b = target.caller("admin", "admin");
    let (ok, stderr) = cli(&target, &importer, &["import", first.to_str().unwrap()]);
    assert!(ok, "import failed: {stderr}");
    let second = dir.path().join("second.ndjson");
    export_to(&target, &admin_b, &second);

    let (before, after) = (graph(&first), graph(&second));
    assert_eq!(before.0.len(), 4);
    assert_eq!(before.1.len(), 4);
    assert_eq!(before, after);
}

#[test]
fn a_cut_export_leaves_no_file_and_fails() {
    if !host_is_spingraph() {
        eprintln!("skipped: --stream-timeout-ms is a property of spingraph's host");
        return;
    }
    let app = app(&["--stream-timeout-ms=1"]);
    let owner = app.caller("owner", "user");
    let admin = app.caller("admin", "admin");
    app.db.execute(&format!(
        "INSERT INTO entities (type, name, owner_id) SELECT 'bulk', 'n' || i, '{}' \
         FROM generate_series(1, 5000) i",
        owner.id
    ));
    let dir = TempDir::create();
    let out = dir.path().join("cut.ndjson");
    let (ok, stderr) = cli(&app, &admin, &["export", out.to_str().unwrap()]);
    assert!(!ok, "a cut export must fail: {stderr}");
    assert!(stderr.contains("without its end"), "{stderr}");
    assert!(!out.exists(), "no file of a cut export");
    assert!(!dir.path().join("cut.ndjson.partial").exists());
}

#[test]
fn export_refuses_to_overwrite_without_force_and_reads_no_secret_from_argv() {
    let app = app(&[]);
    let admin = app.caller("admin", "admin");
    let dir = TempDir::create();
    let out = dir.path().join("g.graphml");
    std::fs::write(&out, "keep me").unwrap();
    let path = out.to_str().unwrap();
    let (ok, stderr) = cli(&app, &admin, &["export", path, "--format", "graphml"]);
    assert!(!ok && stderr.contains("--force"), "{stderr}");
    assert_eq!(std::fs::read_to_string(&out).unwrap(), "keep me");
    let (ok, stderr) = cli(
        &app,
        &admin,
        &["export", path, "--format", "graphml", "--force"],
    );
    assert!(ok, "{stderr}");
    assert!(
        std::fs::read_to_string(&out)
            .unwrap()
            .trim_end()
            .ends_with("</graphml>")
    );
    let (ok, stderr) = cli(&app, &admin, &["export", path, "--token", &admin.token]);
    assert!(
        !ok && stderr.contains("--token"),
        "no flag takes a credential: {stderr}"
    );
}
