//! Real vectors (issue 28, item 8): a few hundred hand-written entities
//! (tests/retrieval/corpus.jsonl) embedded with all-MiniLM-L6-v2 by tests/retrieval/embed.py,
//! stored through the API in a 384-dimension cosine space, and natural-language queries
//! (tests/retrieval/queries.jsonl, none using the words of the names it expects) whose
//! expected entities `POST /v1/search` ranks in the top 3, by vector alone, with a type filter,
//! and fused with full-text (hybrid). tests/retrieval/test_embed.py shows the same ranks hold
//! for exact cosine search over the same vectors, and that embed.py gives the model's
//! published values.
//!
//! embed.py runs in the venv `./dev test` makes (target/retrieval-venv, pinned in
//! tests/retrieval/requirements.txt), found through SPINGRAPH_EMBED_PYTHON.

use std::collections::HashMap;
use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use spingraph_e2e::{Caller, TestApp, TestOptions, Value, json, json_body, workspace_root};

const SPACE: &str = "minilm";
const DIMENSIONS: usize = 384;
/// Vectors per `POST /v1/entities/embeddings/batch` (the contract allows 256): 128 of 384
/// numbers are about 650 KB of JSON, inside the 1 MiB body cap of batch endpoints (SPEC §4),
/// which 256 such vectors at full float32 precision would pass.
const VECTORS_PER_BATCH: usize = 128;
/// Where an expected entity must rank.
const TOP: usize = 3;

struct Entity {
    kind: String,
    name: String,
    metadata: Value,
}

impl Entity {
    /// What is embedded for an entity (as test_embed.py's `entity_text`).
    fn text(&self) -> String {
        format!(
            "{}: {}",
            self.name,
            self.metadata["description"].as_str().unwrap()
        )
    }
}

struct Query {
    query: String,
    /// Full-text words for the hybrid search of this query, when it has one.
    text: Option<String>,
    types: Option<Value>,
    expect: Vec<String>,
}

fn read_jsonl(name: &str) -> Vec<Value> {
    let path = workspace_root().join("tests/retrieval").join(name);
    let body = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    body.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{name}: {l}: {e}")))
        .collect()
}

fn corpus() -> Vec<Entity> {
    read_jsonl("corpus.jsonl")
        .into_iter()
        .map(|v| Entity {
            kind: v["type"].as_str().unwrap().to_string(),
            name: v["name"].as_str().unwrap().to_string(),
            metadata: v["metadata"].clone(),
        })
        .collect()
}

fn queries() -> Vec<Query> {
    read_jsonl("queries.jsonl")
        .into_iter()
        .map(|v| Query {
            query: v["query"].as_str().unwrap().to_string(),
            text: v["text"].as_str().map(str::to_string),
            types: v.get("types").cloned(),
            expect: v["expect"]
                .as_array()
                .unwrap()
                .iter()
                .map(|n| n.as_str().unwrap().to_string())
                .collect(),
        })
        .collect()
}

/// The venv's python: SPINGRAPH_EMBED_PYTHON (what `./dev test` exports), else the venv it makes.
fn embed_python() -> PathBuf {
    let python = std::env::var_os("SPINGRAPH_EMBED_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("target/retrieval-venv/bin/python"));
    assert!(
        python.is_file(),
        "no Python for tests/retrieval/embed.py at {}: `./dev test` creates target/retrieval-venv \
         (tests/retrieval/requirements.txt, installed with --no-deps) and exports \
         SPINGRAPH_EMBED_PYTHON; run it once, or set SPINGRAPH_EMBED_PYTHON to a python with \
         those packages",
        python.display()
    );
    python
}

/// The unit vectors of `texts` from embed.py, in order.
fn embed(texts: &[String]) -> Vec<Vec<f64>> {
    let script = workspace_root().join("tests/retrieval/embed.py");
    let mut child = Command::new(embed_python())
        .arg(&script)
        .env("HF_HUB_OFFLINE", "1")
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("starting tests/retrieval/embed.py");
    let mut input = String::new();
    for text in texts {
        input.push_str(&json!({ "text": text }).to_string());
        input.push('\n');
    }
    let mut stdin = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || stdin.write_all(input.as_bytes()));
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap().expect("writing to embed.py");
    assert!(
        out.status.success(),
        "tests/retrieval/embed.py failed ({}): {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    let vectors: Vec<Vec<f64>> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).expect("a vector from embed.py"))
        .collect();
    assert_eq!(vectors.len(), texts.len(), "one vector per text");
    for v in &vectors {
        assert_eq!(v.len(), DIMENSIONS);
        let norm = v.iter().map(|x| x * x).sum::<f64>().sqrt();
        assert!((norm - 1.0).abs() < 1e-4, "a unit vector: norm {norm}");
    }
    vectors
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

fn put_as(app: &TestApp, who: &Caller, path: &str, body: &Value) -> (u16, Value) {
    let resp = app.send_as(who, app.client().put(app.url(path)).json(body));
    let status = resp.status().as_u16();
    (status, json_body(resp))
}

fn post(app: &TestApp, who: &Caller, path: &str, body: &Value) -> (u16, Value) {
    let resp = app.post_as(who, path, body);
    let status = resp.status().as_u16();
    (status, json_body(resp))
}

/// One ranked answer of `POST /v1/search`: each expected entity's rank (1-based; None when
/// absent), and a line for the failure report.
struct Ranked {
    ranks: Vec<(String, Option<usize>)>,
    line: String,
}

impl Ranked {
    fn ok(&self) -> bool {
        self.ranks.iter().all(|(_, r)| r.is_some_and(|r| r <= TOP))
    }
}

fn ranked(what: &str, query: &Query, hits: &[Value]) -> Ranked {
    let names: Vec<&str> = hits
        .iter()
        .map(|h| h["entity"]["name"].as_str().unwrap_or("?"))
        .collect();
    let ranks: Vec<(String, Option<usize>)> = query
        .expect
        .iter()
        .map(|e| (e.clone(), names.iter().position(|n| n == e).map(|p| p + 1)))
        .collect();
    let shown: Vec<String> = ranks
        .iter()
        .map(|(e, r)| format!("{e} {}", r.map_or("absent".into(), |r| format!("#{r}"))))
        .collect();
    let line = format!(
        "{what} {:?}: {} (top {TOP}: {})",
        query.query,
        shown.join(", "),
        names[..names.len().min(TOP)].join(" | ")
    );
    Ranked { ranks, line }
}

#[test]
fn natural_language_queries_find_the_right_entities_by_real_embeddings() {
    let corpus = corpus();
    let queries = queries();
    assert!(corpus.len() >= 300 && queries.len() >= 20);
    // One run of the model for both (loading it is most of a small run).
    let mut texts: Vec<String> = corpus.iter().map(Entity::text).collect();
    texts.extend(queries.iter().map(|q| q.query.clone()));
    let mut vectors = embed(&texts);
    let query_vectors = vectors.split_off(corpus.len());

    let app = TestApp::start(TestOptions::signing_in_freely(&[(
        "api_rate_limit_per_minute",
        "100000",
    )]));
    let admin = app.caller("retrieval-admin", "admin");

    let (status, space) = put_as(
        &app,
        &admin,
        &format!("/v1/embedding-spaces/{SPACE}"),
        &json!({"dimensions": DIMENSIONS, "distance": "cosine", "model": "all-MiniLM-L6-v2"}),
    );
    assert_eq!(status, 201, "creating the space: {space}");

    let items: Vec<Value> = corpus
        .iter()
        .map(|e| json!({"type": e.kind, "name": e.name, "metadata": e.metadata}))
        .collect();
    let (status, created) = post(&app, &admin, "/v1/entities/batch", &json!({"items": items}));
    assert_eq!(status, 201, "creating the corpus: {created}");
    let ids: Vec<String> = created["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(ids.len(), corpus.len());
    let id_of: HashMap<&str, &str> = corpus
        .iter()
        .zip(&ids)
        .map(|(e, id)| (e.name.as_str(), id.as_str()))
        .collect();
    let vector_of: HashMap<&str, &Vec<f64>> = corpus
        .iter()
        .zip(&vectors)
        .map(|(e, v)| (e.name.as_str(), v))
        .collect();

    let pairs: Vec<(&String, &Vec<f64>)> = ids.iter().zip(&vectors).collect();
    for chunk in pairs.chunks(VECTORS_PER_BATCH) {
        let items: Vec<Value> = chunk
            .iter()
            .map(|(id, v)| json!({"entity_id": id, "vector": v}))
            .collect();
        let (status, stored) = post(
            &app,
            &admin,
            "/v1/entities/embeddings/batch",
            &json!({"space": SPACE, "items": items}),
        );
        assert!(
            (200..300).contains(&status),
            "storing vectors: {status} {stored}"
        );
        let answers = stored["items"].as_array().unwrap();
        assert_eq!(answers.len(), chunk.len(), "{stored}");
        for (answer, (id, _)) in answers.iter().zip(chunk) {
            assert_eq!(answer["entity_id"], id.as_str(), "{stored}");
            assert_eq!(answer["created"], true, "{stored}");
        }
    }
    let space = json_body(app.get_as(&admin, &format!("/v1/embedding-spaces/{SPACE}")));
    assert_eq!(space["vectors"], corpus.len(), "{space}");

    let mut failures = Vec::new();
    let mut report = Vec::new();
    let mut hybrid_queries = 0;
    for (query, vector) in queries.iter().zip(&query_vectors) {
        let mut body = json!({"vector": vector, "space": SPACE, "limit": 10});
        if let Some(types) = &query.types {
            body["filter"] = json!({"types": types});
        }
        let (status, answer) = post(&app, &admin, "/v1/search", &body);
        assert_eq!(status, 200, "searching {:?}: {answer}", query.query);
        let hits = answer["hits"].as_array().unwrap();
        let result = ranked("vector", query, hits);
        // The distance the server reports is the cosine distance of the vectors sent: what
        // it stored is what embed.py gave, and it ranked by the space's distance.
        for hit in hits {
            let name = hit["entity"]["name"].as_str().unwrap();
            let expected = 1.0 - dot(vector, vector_of[name]);
            let got = hit["vector_distance"].as_f64().unwrap_or(f64::NAN);
            assert!(
                (got - expected).abs() < 1e-4,
                "{name}: vector_distance {got}, cosine distance {expected}"
            );
            if let Some(types) = &query.types {
                assert!(types.as_array().unwrap().contains(&hit["entity"]["type"]));
            }
        }
        if !result.ok() {
            failures.push(result.line.clone());
        }
        report.push(result.line);

        let Some(text) = &query.text else { continue };
        hybrid_queries += 1;
        body["text"] = json!(text);
        let (status, answer) = post(&app, &admin, "/v1/search", &body);
        assert_eq!(status, 200, "hybrid search {:?}: {answer}", query.query);
        let hits = answer["hits"].as_array().unwrap();
        let result = ranked(&format!("hybrid (text {text:?})"), query, hits);
        // Each expected entity is found by both lists, and its score is their fusion.
        for hit in hits {
            let name = hit["entity"]["name"].as_str().unwrap();
            if !query.expect.iter().any(|e| e == name) {
                continue;
            }
            assert_eq!(hit["entity"]["id"], id_of[name]);
            let (Some(v), Some(t)) = (
                hit["vector_rank"].as_f64(),
                hit["text_rank_position"].as_f64(),
            ) else {
                panic!("{name} for {text:?}: found by both lists: {hit}");
            };
            let fused = 1.0 / (60.0 + v) + 1.0 / (60.0 + t);
            let score = hit["score"].as_f64().unwrap();
            assert!((score - fused).abs() < 1e-9, "{name}: {hit}");
        }
        if !result.ok() {
            failures.push(result.line.clone());
        }
        report.push(result.line);
    }
    assert!(hybrid_queries >= 3, "hybrid queries: {hybrid_queries}");
    assert!(
        failures.is_empty(),
        "{} of {} searches missed an expected entity in the top {TOP}:\n{}\n\nevery search:\n{}",
        failures.len(),
        report.len(),
        failures.join("\n"),
        report.join("\n")
    );
}
