//! `spingraph import` end to end (issue 29, item 5) against a running host: NDJSON as the export
//! writes it (ends by natural key and by id), CSV nodes and edges with `--map`, a second import
//! updating in place, an import killed half-way and resumed writing every line once, failures
//! (a malformed line, a 422) naming their line with nothing of their chunk written, Ctrl-C, and
//! credentials from the environment or a file, never a flag.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use spingraph_e2e::{Caller, TempDir, TestApp, TestOptions, Value, json, libc, spingraph_bin};

/// Every test signs in freely and may send hundreds of small batches a minute.
fn app() -> TestApp {
    TestApp::start(TestOptions::signing_in_freely(&[(
        "api_rate_limit_per_minute",
        "1000000",
    )]))
}

/// `spingraph import ARGS` against `app` with no credential in its environment but `env`.
fn import_command(app: &TestApp, args: &[&str], env: &[(&str, &str)]) -> Command {
    let mut cmd = Command::new(spingraph_bin());
    cmd.arg("import").args(args);
    for name in ["SPINGRAPH_TOKEN", "SPINGRAPH_API_KEY", "SPINGRAPH_URL"] {
        cmd.env_remove(name);
    }
    cmd.env("SPINGRAPH_URL", app.url(""));
    for (name, value) in env {
        cmd.env(name, value);
    }
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    cmd
}

/// The result of a finished import.
struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

impl From<Output> for Run {
    fn from(out: Output) -> Run {
        Run {
            code: out.status.code(),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }
}

impl Run {
    fn assert_ok(&self) -> &Run {
        assert_eq!(
            self.code,
            Some(0),
            "import failed:\n{}\n{}",
            self.stdout,
            self.stderr
        );
        self
    }
}

/// `spingraph import ARGS` as `who` (bearer token in SPINGRAPH_TOKEN), run to its end.
fn import_as(app: &TestApp, who: &Caller, args: &[&str]) -> Run {
    import_command(app, args, &[("SPINGRAPH_TOKEN", &who.token)])
        .output()
        .expect("running spingraph import")
        .into()
}

fn count(app: &TestApp, sql: &str) -> i64 {
    app.db.query_json(sql)[0]["n"].as_i64().unwrap()
}

fn entities(app: &TestApp) -> i64 {
    count(app, "SELECT count(*) AS n FROM entities")
}

fn relationships(app: &TestApp) -> i64 {
    count(app, "SELECT count(*) AS n FROM relationships")
}

/// NDJSON lines to `dir/name`; its path.
fn write_lines(dir: &Path, name: &str, lines: &[Value]) -> PathBuf {
    let path = dir.join(name);
    let text: String = lines.iter().map(|l| format!("{l}\n")).collect();
    std::fs::write(&path, text).unwrap();
    path
}

fn header() -> Value {
    json!({"kind": "header", "format": "spingraph-ndjson", "version": 1,
           "exported_at": "2026-12-01T00:00:00Z", "as_of": null})
}

/// An exported entity line (with an owner, version and times the import drops).
fn entity(id: &str, kind: &str, name: &str, external_id: Option<&str>) -> Value {
    json!({"kind": "entity", "id": id, "type": kind, "name": name, "confidence": 0.75,
           "metadata": {"source": "export", "name": name}, "external_id": external_id,
           "owner_id": "0192e4a0-0000-7000-8000-00000000beef", "version": 3,
           "created_at": "2026-11-01T00:00:00Z", "updated_at": "2026-11-02T00:00:00Z"})
}

fn natural_key(kind: &str, external_id: &str) -> Value {
    json!({"type": kind, "external_id": external_id,
           "owner_id": "0192e4a0-0000-7000-8000-00000000beef"})
}

/// An exported relationship line: ids always, natural keys where the ends have them.
fn relationship(source: (&str, Option<Value>), target: (&str, Option<Value>), kind: &str) -> Value {
    json!({"kind": "relationship", "id": uuid(), "source_id": source.0, "target_id": target.0,
           "source": source.1, "target": target.1, "type": kind, "confidence": 1,
           "metadata": {"weight": 2}, "created_by": "0192e4a0-0000-7000-8000-00000000beef",
           "version": 1, "created_at": "2026-11-01T00:00:00Z",
           "updated_at": "2026-11-01T00:00:00Z"})
}

fn uuid() -> String {
    uuid::Uuid::now_v7().to_string()
}

/// `(source name, type, target name)` of every relationship, sorted.
fn edges(app: &TestApp) -> Vec<(String, String, String)> {
    let rows = app.db.query_json(
        "SELECT s.name AS s, r.type AS t, d.name AS d FROM relationships r \
         JOIN entities s ON s.id = r.source_id JOIN entities d ON d.id = r.target_id \
         ORDER BY 1, 2, 3",
    );
    rows.as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let text = |k: &str| r[k].as_str().unwrap().to_string();
            (text("s"), text("t"), text("d"))
        })
        .collect()
}

fn edge(s: &str, t: &str, d: &str) -> (String, String, String) {
    (s.into(), t.into(), d.into())
}

#[test]
fn an_export_file_imports_with_ends_by_natural_key_and_by_id_and_reimports_in_place() {
    let app = app();
    let ada = app.caller("ada", "user");
    let dir = TempDir::create();
    let (p1, p2, c1, note_a, note_b) = (uuid(), uuid(), uuid(), uuid(), uuid());
    let lines = |p1_name: &str| {
        vec![
            header(),
            entity(&p1, "person", p1_name, Some("p-1")),
            entity(&p2, "person", "Grace", Some("p-2")),
            entity(&c1, "company", "Acme", Some("c-1")),
            entity(&note_a, "note", "Note A", None),
            entity(&note_b, "note", "Note B", None),
            // Both ends by natural key.
            relationship(
                (&p1, Some(natural_key("person", "p-1"))),
                (&c1, Some(natural_key("company", "c-1"))),
                "works_at",
            ),
            // Both ends by id: entities without a natural key, written by this import.
            relationship((&note_a, None), (&note_b, None), "cites"),
            // One of each.
            relationship(
                (&p2, Some(natural_key("person", "p-2"))),
                (&note_a, None),
                "wrote",
            ),
        ]
    };
    let file = write_lines(dir.path(), "graph.ndjson", &lines("Ada"));
    let run = import_as(&app, &ada, &[file.to_str().unwrap(), "--chunk-size", "2"]);
    run.assert_ok();
    assert!(
        run.stdout
            .contains("import complete: created 8, updated 0, skipped 0, failed 0"),
        "{}",
        run.stdout
    );
    assert!(
        run.stderr.contains("2 entities had no external_id"),
        "{}",
        run.stderr
    );
    // The importer owns what it writes: not the file's owner, ids, versions or times.
    let rows = app.db.query_json(&format!(
        "SELECT count(*) AS n, bool_and(owner_id = '{}') AS mine, bool_and(version = 1) AS v1, \
         bool_and(confidence = 0.75) AS conf, bool_and(metadata->>'source' = 'export') AS meta, \
         bool_and(id NOT IN ('{p1}', '{p2}', '{c1}', '{note_a}', '{note_b}')) AS new_ids \
         FROM entities",
        ada.id
    ));
    assert_eq!(
        rows[0],
        json!({"n": 5, "mine": true, "v1": true, "conf": true, "meta": true, "new_ids": true})
    );
    let expected = vec![
        edge("Ada", "works_at", "Acme"),
        edge("Grace", "wrote", "Note A"),
        edge("Note A", "cites", "Note B"),
    ];
    assert_eq!(edges(&app), expected);
    assert_eq!(
        count(
            &app,
            &format!(
                "SELECT count(*) AS n FROM relationships WHERE created_by = '{}' \
                 AND metadata = '{{\"weight\": 2}}'",
                ada.id
            )
        ),
        3
    );
    assert!(
        !dir.path()
            .join("graph.ndjson.import-checkpoint.json")
            .exists(),
        "a complete import removes its checkpoint"
    );

    // Again, with a name changed: natural keys are updated in place (same rows, new values).
    let before = app
        .db
        .query_json("SELECT id::text AS id FROM entities WHERE external_id = 'p-1'");
    let file = write_lines(dir.path(), "graph.ndjson", &lines("Ada Lovelace"));
    let run = import_as(&app, &ada, &[file.to_str().unwrap()]);
    run.assert_ok();
    assert!(
        run.stdout.contains("created 4, updated 4, skipped 0"),
        "keyed entities and their relationships are updated, keyless ones written again: {}",
        run.stdout
    );
    assert_eq!(
        app.db.query_json(
            "SELECT id::text AS id, name, version FROM entities WHERE external_id = 'p-1'"
        ),
        json!([{"id": before[0]["id"], "name": "Ada Lovelace", "version": 2}])
    );
    assert_eq!(
        count(
            &app,
            "SELECT count(*) AS n FROM entities WHERE external_id IS NOT NULL"
        ),
        3
    );
    assert_eq!(
        count(
            &app,
            "SELECT count(*) AS n FROM relationships r JOIN entities s ON s.id = r.source_id \
             WHERE s.external_id = 'p-1'"
        ),
        1,
        "the relationship between natural keys is not duplicated"
    );
    // Entities without a natural key cannot be matched: they (and their edges) are new again.
    assert_eq!(
        count(
            &app,
            "SELECT count(*) AS n FROM entities WHERE external_id IS NULL"
        ),
        4
    );
}

/// `n` entities without a natural key, then `n / 2` relationships between them by id.
fn keyless_graph(dir: &Path, n: usize) -> PathBuf {
    let ids: Vec<String> = (0..n).map(|_| uuid()).collect();
    let mut lines = vec![header()];
    for (i, id) in ids.iter().enumerate() {
        lines.push(entity(id, "node", &format!("node {i}"), None));
    }
    for pair in ids.chunks(2) {
        lines.push(relationship((&pair[0], None), (&pair[1], None), "next"));
    }
    write_lines(dir, "big.ndjson", &lines)
}

/// A checkpoint's committed chunk count.
fn chunks_in(text: &str) -> Option<u64> {
    serde_json::from_str::<Value>(text).ok()?["chunks"].as_u64()
}

/// Wait until `checkpoint` shows at least `chunks` committed; its text and count then. Panics
/// if the import ends first.
fn wait_for_chunks(
    child: &mut std::process::Child,
    checkpoint: &Path,
    chunks: u64,
) -> (String, u64) {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        if let Ok(text) = std::fs::read_to_string(checkpoint)
            && let Some(seen) = chunks_in(&text)
            && seen >= chunks
        {
            return (text, seen);
        }
        if let Ok(Some(status)) = child.try_wait() {
            panic!("the import ended ({status}) before {chunks} chunks: make the input larger");
        }
        assert!(Instant::now() < deadline, "no progress in the checkpoint");
        thread::sleep(Duration::from_millis(2));
    }
}

#[test]
fn an_import_killed_half_way_and_resumed_writes_every_line_exactly_once() {
    let app = app();
    let ada = app.caller("ada", "user");
    let dir = TempDir::create();
    let file = keyless_graph(dir.path(), 600);
    let checkpoint = dir.path().join("big.ndjson.import-checkpoint.json");
    let args = [file.to_str().unwrap(), "--chunk-size", "4"];
    let mut child = import_command(&app, &args, &[("SPINGRAPH_TOKEN", &ada.token)])
        .spawn()
        .unwrap();
    let (early, early_chunks) = wait_for_chunks(&mut child, &checkpoint, 3);
    wait_for_chunks(&mut child, &checkpoint, early_chunks + 8);
    child.kill().unwrap(); // SIGKILL: no chance to save anything
    child.wait().unwrap();
    let written = entities(&app);
    assert!(
        written > 0 && written < 600,
        "killed half-way: {written} entities"
    );
    // Rewind the checkpoint by several chunks: as if the process had died after the server
    // committed them but before the checkpoint said so. Resuming sends them again, with the
    // same Idempotency-Keys, and the server replays its answers instead of writing twice.
    std::fs::write(&checkpoint, early).unwrap();

    let run = import_as(&app, &ada, &[file.to_str().unwrap(), "--resume"]);
    run.assert_ok();
    assert!(run.stderr.contains("resuming at line"), "{}", run.stderr);
    assert!(
        run.stdout
            .contains("import complete: created 900, updated 0, skipped 0, failed 0"),
        "{}",
        run.stdout
    );
    assert_eq!(entities(&app), 600, "every entity line written once");
    assert_eq!(
        count(&app, "SELECT count(DISTINCT name) AS n FROM entities"),
        600
    );
    assert_eq!(
        relationships(&app),
        300,
        "every relationship line written once"
    );
    assert_eq!(
        count(
            &app,
            "SELECT count(*) AS n FROM relationships r JOIN entities s ON s.id = r.source_id \
             JOIN entities d ON d.id = r.target_id \
             WHERE split_part(d.name, ' ', 2)::int = split_part(s.name, ' ', 2)::int + 1"
        ),
        300,
        "each relationship joins the entities its line named (ids mapped across the crash)"
    );
    assert!(!checkpoint.exists());
}

#[test]
fn ctrl_c_stops_after_the_chunk_in_flight_and_says_how_to_resume() {
    let app = app();
    let ada = app.caller("ada", "user");
    let dir = TempDir::create();
    let file = keyless_graph(dir.path(), 400);
    let checkpoint = dir.path().join("big.ndjson.import-checkpoint.json");
    let args = [file.to_str().unwrap(), "--chunk-size", "4"];
    let mut child = import_command(&app, &args, &[("SPINGRAPH_TOKEN", &ada.token)])
        .spawn()
        .unwrap();
    wait_for_chunks(&mut child, &checkpoint, 3);
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    let run: Run = child.wait_with_output().unwrap().into();
    assert_eq!(run.code, Some(130), "{}", run.stderr);
    assert!(run.stdout.contains("import interrupted"), "{}", run.stdout);
    assert!(run.stderr.contains("with --resume"), "{}", run.stderr);
    // What the checkpoint says was committed is exactly what is in the database.
    let saved: Value =
        serde_json::from_str(&std::fs::read_to_string(&checkpoint).unwrap()).unwrap();
    assert_eq!(
        saved["counts"]["created"].as_i64().unwrap(),
        entities(&app) + relationships(&app)
    );
    let run = import_as(&app, &ada, &[file.to_str().unwrap(), "--resume"]);
    run.assert_ok();
    assert_eq!((entities(&app), relationships(&app)), (400, 200));
}

#[test]
fn a_malformed_line_fails_with_its_number_and_nothing_of_its_chunk_is_written() {
    let app = app();
    let ada = app.caller("ada", "user");
    let dir = TempDir::create();
    // Line 1 is the header; entities on lines 2..=13; line 9 is broken.
    let mut lines: Vec<String> = (0..12)
        .map(|i| {
            entity(
                &uuid(),
                "thing",
                &format!("thing {i}"),
                Some(&format!("t-{i}")),
            )
            .to_string()
        })
        .collect();
    lines.insert(0, header().to_string());
    let good_line_9 = lines[8].clone();
    lines[8] = r#"{"kind": "entity", "type": "thing", "name": "broken""#.to_string();
    let path = dir.path().join("things.ndjson");
    std::fs::write(&path, lines.join("\n") + "\n").unwrap();
    let file = path.to_str().unwrap();

    let run = import_as(&app, &ada, &[file, "--chunk-size", "5"]);
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    assert!(run.stderr.contains("line 9: not JSON"), "{}", run.stderr);
    assert!(run.stdout.contains("created 5,"), "{}", run.stdout);
    // Lines 2-6 were one committed chunk; 7 and 8 share the broken line's chunk: not written.
    assert_eq!(entities(&app), 5);
    assert_eq!(
        count(
            &app,
            "SELECT count(*) AS n FROM entities WHERE name IN ('thing 5', 'thing 6')"
        ),
        0
    );
    assert!(run.stderr.contains("--resume"), "{}", run.stderr);

    // Fixed; a new run without --resume is refused (the checkpoint says where to go on).
    lines[8] = good_line_9;
    std::fs::write(&path, lines.join("\n") + "\n").unwrap();
    let again = import_as(&app, &ada, &[file]);
    assert_eq!(again.code, Some(1));
    assert!(
        again.stderr.contains("pass --resume") && again.stderr.contains("delete it"),
        "{}",
        again.stderr
    );
    let resumed = import_as(&app, &ada, &[file, "--resume"]);
    resumed.assert_ok();
    assert!(resumed.stdout.contains("created 12,"), "{}", resumed.stdout);
    assert_eq!(entities(&app), 12);

    // An unknown kind, and an unknown field, are failures of their line too.
    let odd = write_lines(
        dir.path(),
        "odd.ndjson",
        &[
            entity(&uuid(), "thing", "x", Some("x-1")),
            json!({"kind": "vertex", "name": "v"}),
        ],
    );
    let run = import_as(&app, &ada, &[odd.to_str().unwrap()]);
    assert_eq!(run.code, Some(1));
    assert!(
        run.stderr.contains("line 2: unknown kind \"vertex\""),
        "{}",
        run.stderr
    );
    let mut extra = entity(&uuid(), "thing", "y", Some("y-1"));
    extra["colour"] = json!("red");
    let odd = write_lines(dir.path(), "odd2.ndjson", &[extra]);
    let run = import_as(&app, &ada, &[odd.to_str().unwrap()]);
    assert!(
        run.stderr.contains("line 1: unknown field `colour`"),
        "{}",
        run.stderr
    );
    assert_eq!(
        entities(&app),
        12,
        "nothing of the failed chunks was written"
    );
}

#[test]
fn a_422_from_the_server_names_the_line_of_the_item() {
    let app = app();
    let ada = app.caller("ada", "user");
    let dir = TempDir::create();
    let mut bad = entity(&uuid(), "thing", "bad", Some("b-1"));
    bad["confidence"] = json!(7);
    let file = write_lines(
        dir.path(),
        "bad.ndjson",
        &[
            entity(&uuid(), "thing", "a", Some("a-1")),
            entity(&uuid(), "thing", "b", Some("a-2")),
            entity(&uuid(), "thing", "c", Some("a-3")),
            bad,
        ],
    );
    let run = import_as(&app, &ada, &[file.to_str().unwrap(), "--chunk-size", "2"]);
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    // Line 4 is items[1] of the second chunk.
    assert!(
        run.stderr.contains("line 4: items[1].confidence"),
        "{}",
        run.stderr
    );
    assert!(run.stdout.contains("failed 1"), "{}", run.stdout);
    assert_eq!(entities(&app), 2, "the failed chunk was rolled back");

    // A relationship to a natural key nobody holds: the server's 422 names its line.
    let rels = write_lines(
        dir.path(),
        "rels.ndjson",
        &[
            entity(&uuid(), "person", "p", Some("p-1")),
            relationship(
                (&uuid(), Some(natural_key("person", "p-1"))),
                (&uuid(), Some(natural_key("person", "nobody"))),
                "knows",
            ),
        ],
    );
    let run = import_as(&app, &ada, &[rels.to_str().unwrap()]);
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    assert!(
        run.stderr.contains("line 2: items[0].target"),
        "{}",
        run.stderr
    );
    assert_eq!(relationships(&app), 0);
    // A relationship end by an id this import never wrote fails before anything is sent.
    let dangling = write_lines(
        dir.path(),
        "dangling.ndjson",
        &[relationship((&uuid(), None), (&uuid(), None), "knows")],
    );
    let run = import_as(&app, &ada, &[dangling.to_str().unwrap()]);
    assert_eq!(run.code, Some(1));
    assert!(
        run.stderr.contains("line 1: source_id") && run.stderr.contains("no entity this import"),
        "{}",
        run.stderr
    );
}

#[test]
fn csv_nodes_and_edges_import_with_mapped_headers() {
    let app = app();
    let ada = app.caller("ada", "user");
    let dir = TempDir::create();
    let nodes = dir.path().join("nodes.csv");
    std::fs::write(
        &nodes,
        "Kind,Label,Key,Score,metadata.city,metadata.size:json,Notes\n\
         person,Ada,p-1,0.9,London,,ignore me\n\
         person,Grace,p-2,,New York,,\n\
         company,\"Acme, Inc.\",c-1,1,Paris,120,\n",
    )
    .unwrap();
    let edges_csv = dir.path().join("edges.csv");
    std::fs::write(
        &edges_csv,
        "FromType,From,ToType,To,Rel,metadata.since\n\
         person,p-1,company,c-1,works_at,2020\n\
         person,p-2,person,p-1,knows,\n",
    )
    .unwrap();
    let map = [
        "Kind=type",
        "Label=name",
        "Key=external_id",
        "Score=confidence",
        "Notes=-",
        "FromType=source_type",
        "From=source_external_id",
        "ToType=target_type",
        "To=target_external_id",
        "Rel=type",
    ];
    let mut args = vec![
        nodes.to_str().unwrap(),
        "--edges",
        edges_csv.to_str().unwrap(),
    ];
    for m in &map {
        args.extend(["--map", m]);
    }
    let run = import_as(&app, &ada, &args);
    run.assert_ok();
    assert!(run.stdout.contains("created 5,"), "{}", run.stdout);
    assert_eq!(
        app.db.query_json(
            "SELECT type, name, external_id, confidence, metadata FROM entities ORDER BY external_id"
        ),
        json!([
            {"type": "company", "name": "Acme, Inc.", "external_id": "c-1", "confidence": 1,
             "metadata": {"city": "Paris", "size": 120}},
            {"type": "person", "name": "Ada", "external_id": "p-1", "confidence": 0.9,
             "metadata": {"city": "London"}},
            {"type": "person", "name": "Grace", "external_id": "p-2", "confidence": 1,
             "metadata": {"city": "New York"}},
        ])
    );
    assert_eq!(
        edges(&app),
        vec![
            edge("Ada", "works_at", "Acme, Inc."),
            edge("Grace", "knows", "Ada")
        ]
    );
    assert_eq!(
        count(
            &app,
            "SELECT count(*) AS n FROM relationships WHERE metadata = '{\"since\": \"2020\"}'"
        ),
        1
    );
    // An unmapped header is refused up front, naming it and the --map that fixes it.
    let run = import_as(&app, &ada, &[nodes.to_str().unwrap()]);
    assert_eq!(run.code, Some(1));
    assert!(
        run.stderr.contains("\"Kind\"") && run.stderr.contains("--map Kind="),
        "{}",
        run.stderr
    );
}

#[test]
fn credentials_come_from_the_environment_or_a_file_and_never_from_a_flag() {
    let app = app();
    let ada = app.caller("ada", "user");
    let dir = TempDir::create();
    let one = |name: &str| {
        write_lines(
            dir.path(),
            &format!("{name}.ndjson"),
            &[entity(&uuid(), "thing", name, Some(name))],
        )
    };

    // An API key in SPINGRAPH_API_KEY.
    let key = app.create_api_key(&ada, "loader", &["entities:write", "relationships:write"]);
    let key = key["key"].as_str().unwrap().to_string();
    let file = one("by-key");
    let run: Run = import_command(
        &app,
        &[file.to_str().unwrap()],
        &[("SPINGRAPH_API_KEY", &key)],
    )
    .output()
    .unwrap()
    .into();
    run.assert_ok();

    // A token in a file (the JSON answer of POST /v1/auth/token works as well).
    let creds = dir.path().join("token");
    std::fs::write(&creds, format!("{}\n", ada.token)).unwrap();
    let file = one("by-file");
    let run: Run = import_command(
        &app,
        &[
            file.to_str().unwrap(),
            "--credentials-file",
            creds.to_str().unwrap(),
        ],
        &[],
    )
    .output()
    .unwrap()
    .into();
    run.assert_ok();
    assert_eq!(
        count(
            &app,
            &format!(
                "SELECT count(*) AS n FROM entities WHERE owner_id = '{}' \
                 AND external_id IN ('by-key', 'by-file')",
                ada.id
            )
        ),
        2
    );

    // NDJSON on stdin with the token in SPINGRAPH_TOKEN.
    let mut child = import_command(&app, &["-"], &[("SPINGRAPH_TOKEN", &ada.token)])
        .stdin(Stdio::piped())
        .spawn()
        .unwrap();
    {
        use std::io::Write;
        let mut stdin = child.stdin.take().unwrap();
        writeln!(
            stdin,
            "{}",
            entity(&uuid(), "thing", "piped", Some("piped"))
        )
        .unwrap();
    }
    let run: Run = child.wait_with_output().unwrap().into();
    run.assert_ok();
    assert_eq!(
        count(
            &app,
            "SELECT count(*) AS n FROM entities WHERE name = 'piped'"
        ),
        1
    );

    // None: a clear error before anything is read.
    let run: Run = import_command(&app, &[one("none").to_str().unwrap()], &[])
        .output()
        .unwrap()
        .into();
    assert_eq!(run.code, Some(1));
    assert!(
        run.stderr.contains("SPINGRAPH_TOKEN") && run.stderr.contains("--credentials-file"),
        "{}",
        run.stderr
    );
    // A rejected token: the server's 401, reported.
    let run: Run = import_command(
        &app,
        &[one("rejected").to_str().unwrap()],
        &[("SPINGRAPH_TOKEN", "not-a-token")],
    )
    .output()
    .unwrap()
    .into();
    assert_eq!(run.code, Some(1));
    assert!(run.stderr.contains("401"), "{}", run.stderr);

    // No flag takes a secret.
    let help = Command::new(spingraph_bin())
        .args(["import", "--help"])
        .output()
        .unwrap();
    let help = String::from_utf8_lossy(&help.stdout).to_lowercase();
    assert!(help.contains("--credentials-file"), "{help}");
    for flag in ["--token", "--api-key", "--key", "--password", "--bearer"] {
        assert!(!help.contains(&format!("{flag} ")), "{flag} in:\n{help}");
        let run: Run = import_command(&app, &["x.ndjson", flag, "secret"], &[])
            .output()
            .unwrap()
            .into();
        assert_eq!(run.code, Some(2), "{flag} is no flag: {}", run.stderr);
    }
}
