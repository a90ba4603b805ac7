//! `spingraph up --watch` (SPEC §3): a rebuilt component is swapped in atomically, without
//! dropping in-flight requests and without restarting the others; a rebuild that fails keeps the
//! last good version serving. Runs the fixtures from copies of their wasm in a temp directory and
//! replaces the probe component's copy.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use spingraph_e2e::{
    Client, FIXTURE_SECRET, TempDir, TestApp, TestOptions, Value, fixtures_manifest,
    host_is_spingraph, json, workspace_root,
};

/// How long the in-flight request sleeps in the old probe: well beyond a reload (quiet period,
/// then a cached compile), so the swap lands while it runs.
const IN_FLIGHT_MS: u64 = 4_000;
/// Upper bound on any reload the test waits for.
const RELOAD_TIMEOUT: Duration = Duration::from_secs(15);

/// The fixture manifest in `dir`, every component served from a copy of its wasm in `dir`
/// (`<component>.wasm`), so nothing but this test changes them (a build in the shared target
/// directory re-links its outputs). Returns the manifest's path.
fn hermetic_fixtures(dir: &Path) -> PathBuf {
    const BUILT: &str = "../../target/wasm32-wasip2/release/";
    let original = std::fs::read_to_string(fixtures_manifest()).unwrap();
    let mut component = String::new();
    let mut manifest = String::new();
    for line in original.lines() {
        if let Some(name) = line
            .strip_prefix("[component.")
            .and_then(|l| l.strip_suffix(']'))
        {
            component = name.to_string();
        }
        match line
            .strip_prefix("source = \"")
            .and_then(|l| l.strip_suffix('"'))
        {
            Some(source) if source.starts_with(BUILT) => {
                let built = workspace_root().join("tests/fixtures").join(source);
                let copy = dir.join(format!("{component}.wasm"));
                std::fs::copy(&built, &copy).unwrap_or_else(|e| {
                    panic!("copying {} (build it first): {e}", built.display())
                });
                manifest.push_str(&format!("source = {:?}\n", copy.display().to_string()));
            }
            _ => {
                manifest.push_str(line);
                manifest.push('\n');
            }
        }
    }
    assert!(
        !manifest.contains(BUILT),
        "every source copied:\n{manifest}"
    );
    let path = dir.join("spin.toml");
    std::fs::write(&path, manifest).unwrap();
    path
}

/// Replaces `path` the way a build tool would: write a temp file, rename it over.
fn replace_file(path: &Path, bytes: &[u8]) {
    let tmp = path.with_extension("wasm.partial");
    std::fs::write(&tmp, bytes).unwrap();
    std::fs::rename(&tmp, path).unwrap();
}

/// The probe's answer to `/probe/sleep/<ms>`.
fn probe_slept(ms: u64) -> Value {
    json!({"component": "probe", "slept_ms": ms})
}

/// `(status, body as JSON or Null)` of `GET path`.
fn get(app: &TestApp, path: &str) -> (u16, Value) {
    let resp = app.get(path).send().unwrap();
    let status = resp.status().as_u16();
    let body = resp.json().unwrap_or(Value::Null);
    (status, body)
}

/// Polls `GET path` until `done` holds for its answer; panics with the host log after `timeout`.
fn poll_until(app: &TestApp, path: &str, timeout: Duration, done: impl Fn(u16, &Value) -> bool) {
    let deadline = Instant::now() + timeout;
    loop {
        let (status, body) = get(app, path);
        if done(status, &body) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{path} still answers {status} {body} after {timeout:?}:\n{}",
            app.logs.text()
        );
        thread::sleep(Duration::from_millis(50));
    }
}

/// The host's JSON log lines with `message` (tracing's `fields.message`) for `component`.
fn events(app: &TestApp, message: &str, component: &str) -> Vec<Value> {
    app.logs
        .json_lines()
        .into_iter()
        .filter(|l| {
            l["fields"]["message"].as_str() == Some(message)
                && l["fields"]["component"].as_str() == Some(component)
        })
        .collect()
}

/// Hits `/v1/health/live` until stopped; returns every non-200 outcome and the number of requests.
fn keep_checking_health(
    app: &TestApp,
    stop: Arc<AtomicBool>,
) -> thread::JoinHandle<(Vec<String>, usize)> {
    let url = app.url("/v1/health/live");
    thread::spawn(move || {
        let client = Client::builder()
            .timeout(Duration::from_secs(5))
            .build()
            .unwrap();
        let (mut failures, mut total) = (Vec::new(), 0);
        while !stop.load(Ordering::Relaxed) {
            total += 1;
            match client.get(&url).send() {
                Ok(r) if r.status() == 200 => {}
                Ok(r) => failures.push(format!("status {}", r.status())),
                Err(e) => failures.push(e.to_string()),
            }
            // Paces the checks; nothing waits on it.
            thread::sleep(Duration::from_millis(20));
        }
        (failures, total)
    })
}

#[test]
fn rebuilt_component_is_swapped_in_without_dropping_in_flight_requests() {
    if !host_is_spingraph() {
        return; // `spin up --watch` rebuilds from [component.X.build] instead: not what this checks
    }
    let dir = TempDir::create();
    let manifest = hermetic_fixtures(dir.path());
    let probe_wasm = dir.path().join("probe.wasm");
    let probe_bytes = std::fs::read(&probe_wasm).unwrap();
    let health_bytes = std::fs::read(dir.path().join("health.wasm")).unwrap();
    let mut app = TestApp::start(
        TestOptions::fixtures()
            .manifest(&manifest)
            .host_arg("--watch"),
    );
    assert_eq!(get(&app, "/probe/sleep/0"), (200, probe_slept(0)));
    let watching = events(&app, "watching for rebuilds", "probe");
    assert_eq!(watching.len(), 1, "{}", app.logs.text());

    let stop_health = Arc::new(AtomicBool::new(false));
    let health = keep_checking_health(&app, stop_health.clone());

    // A request in flight in the old probe...
    let in_flight = {
        let url = app.url(&format!("/probe/sleep/{IN_FLIGHT_MS}"));
        thread::spawn(move || {
            let resp = Client::builder()
                .timeout(Duration::from_secs(30))
                .build()
                .unwrap()
                .get(url)
                .send()
                .unwrap();
            (
                resp.status().as_u16(),
                resp.json::<Value>().unwrap_or(Value::Null),
            )
        })
    };
    let sleeping = format!("probe: sleeping {IN_FLIGHT_MS} ms");
    assert!(
        app.logs
            .wait_for(Duration::from_secs(10), |l| l.contains(&sleeping))
            .is_some(),
        "the in-flight request never reached the probe:\n{}",
        app.logs.text()
    );

    // ...while its wasm is replaced by another component: health, which knows no /probe route.
    replace_file(&probe_wasm, &health_bytes);
    poll_until(&app, "/probe/sleep/0", RELOAD_TIMEOUT, |status, _| {
        status == 404
    });
    let (status, body) = get(&app, "/probe/sleep/0");
    assert_eq!(
        body["status"], 404,
        "health's problem+json: {status} {body}"
    );

    let (status, body) = in_flight.join().unwrap();
    assert_eq!(
        (status, body),
        (200, probe_slept(IN_FLIGHT_MS)),
        "the in-flight request finished in the old version"
    );
    let reloaded = events(&app, "component reloaded", "probe");
    assert_eq!(reloaded.len(), 1, "one reload:\n{}", app.logs.text());
    assert!(
        reloaded[0]["fields"]["reload_ms"].is_u64(),
        "{}",
        reloaded[0]
    );
    assert!(
        reloaded[0]["fields"]["changed"]
            .as_str()
            .is_some_and(|c| c.contains(&probe_wasm.display().to_string())),
        "the reload names the changed file: {}",
        reloaded[0]
    );
    let lines = app.log_lines();
    let reload_at = lines
        .iter()
        .position(|l| l.contains("component reloaded"))
        .unwrap();
    let answered_at = lines
        .iter()
        .position(|l| l.contains(&format!("\"path\":\"/probe/sleep/{IN_FLIGHT_MS}\"")))
        .unwrap_or_else(|| {
            panic!(
                "no access-log line for the in-flight request:\n{}",
                app.logs.text()
            )
        });
    assert!(
        reload_at < answered_at,
        "the swap happened while the request was in flight:\n{}",
        app.logs.text()
    );

    // The others were not touched: probe-denied (a copy of the same wasm) is still the probe.
    let (status, body) = get(&app, "/pg-denied/connect");
    assert_eq!(
        (status, body["ok"].clone()),
        (200, Value::Bool(false)),
        "{body}"
    );
    for line in app.logs.json_lines() {
        if line["fields"]["message"] == "component reloaded" {
            assert_eq!(
                line["fields"]["component"], "probe",
                "only probe reloads: {line}"
            );
        }
    }

    // A broken rebuild: logged, naming component and file; the last good version keeps serving.
    replace_file(&probe_wasm, b"this is not a wasm component");
    let failed = app
        .logs
        .wait_for(RELOAD_TIMEOUT, |l| l.contains("component reload failed"))
        .unwrap_or_else(|| panic!("no reload failure logged:\n{}", app.logs.text()));
    let failed: Value = serde_json::from_str(&failed).unwrap();
    assert_eq!(failed["level"], "ERROR", "{failed}");
    assert_eq!(failed["fields"]["component"], "probe", "{failed}");
    let named_file = failed["fields"]["changed"]
        .as_str()
        .is_some_and(|c| c.contains(&probe_wasm.display().to_string()));
    assert!(named_file, "the error names the file: {failed}");
    assert!(
        failed["fields"]["error"]
            .as_str()
            .is_some_and(|e| !e.is_empty()),
        "{failed}"
    );
    assert_eq!(
        get(&app, "/probe/sleep/0").0,
        404,
        "still the last good version"
    );

    // And a good build after the broken one is picked up again.
    replace_file(&probe_wasm, &probe_bytes);
    poll_until(&app, "/probe/sleep/0", RELOAD_TIMEOUT, |status, body| {
        (status, body) == (200, &probe_slept(0))
    });

    stop_health.store(true, Ordering::Relaxed);
    let (failures, checks) = health.join().unwrap();
    assert!(checks > 0);
    assert!(
        failures.is_empty(),
        "health failed during reloads: {failures:?}"
    );
    assert!(app.is_running(), "the host is still the process it was");
    let starts = app
        .log_lines()
        .iter()
        .filter(|l| l.contains("spingraph listening on"))
        .count();
    assert_eq!(starts, 1, "the host never restarted:\n{}", app.logs.text());
    assert!(!app.logs.text().contains(FIXTURE_SECRET), "secret leaked");
}
