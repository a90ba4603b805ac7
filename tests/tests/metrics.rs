//! Observability (SPEC §3): Prometheus `/metrics` on the separate `--admin-listen` address,
//! counting requests by component and status class, and never on the public listener.

use std::collections::BTreeMap;

use spingraph_e2e::{TestApp, TestOptions, header, host_is_spingraph};

/// Every sample of a Prometheus text exposition, `series → value` (`name{labels}` as written),
/// after checking that each line is a `# HELP`/`# TYPE` comment or a `series value` sample.
fn samples(text: &str) -> BTreeMap<String, f64> {
    let mut samples = BTreeMap::new();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        if let Some(comment) = line.strip_prefix("# ") {
            assert!(
                comment.starts_with("HELP ") || comment.starts_with("TYPE "),
                "not a HELP or TYPE comment: {line:?}"
            );
            continue;
        }
        let (series, value) = line
            .rsplit_once(' ')
            .unwrap_or_else(|| panic!("not a `series value` sample: {line:?}"));
        let name_end = series.find('{').unwrap_or(series.len());
        assert!(
            series[..name_end]
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b':'),
            "bad metric name in {line:?}"
        );
        assert!(
            name_end == series.len() || series.ends_with('}'),
            "unterminated labels in {line:?}"
        );
        let value: f64 = value
            .parse()
            .unwrap_or_else(|e| panic!("bad value in {line:?}: {e}"));
        samples.insert(series.to_string(), value);
    }
    samples
}

/// `GET /metrics` on the admin listener, as Prometheus text.
fn scrape(app: &TestApp) -> (String, BTreeMap<String, f64>) {
    let resp = app
        .client()
        .get(app.admin_url("/metrics"))
        .send()
        .expect("scraping the admin listener");
    assert_eq!(resp.status(), 200);
    let content_type = header(&resp, "content-type");
    assert!(
        content_type.starts_with("text/plain") && content_type.contains("version=0.0.4"),
        "Prometheus text format, got {content_type:?}"
    );
    let text = resp.text().unwrap();
    let parsed = samples(&text);
    (text, parsed)
}

fn requests(samples: &BTreeMap<String, f64>, component: &str, class: &str) -> f64 {
    let series =
        format!("spingraph_requests_total{{component=\"{component}\",status_class=\"{class}\"}}");
    samples.get(&series).copied().unwrap_or(0.0)
}

#[test]
fn metrics_count_requests_by_component_on_the_admin_listener_and_are_not_public() {
    if !host_is_spingraph() {
        return; // `--admin-listen` is spingraph's own flag
    }
    let app = TestApp::start(TestOptions::default().with_admin_listener());
    assert_ne!(app.admin_addr, Some(app.addr), "a separate listener");
    let (_, before) = scrape(&app);

    for _ in 0..3 {
        assert_eq!(app.get("/v1/health/live").send().unwrap().status(), 200);
    }
    for _ in 0..2 {
        // No credentials: a 401 answered by the entities component.
        assert_eq!(app.get("/v1/entities").send().unwrap().status(), 401);
    }
    let public = app.get("/metrics").send().unwrap();
    assert_eq!(
        public.status(),
        404,
        "/metrics is not on the public listener"
    );
    assert!(
        !public.text().unwrap().contains("spingraph_requests_total"),
        "the public 404 carries no metrics"
    );

    let (text, after) = scrape(&app);
    assert!(
        text.contains("# TYPE spingraph_requests_total counter"),
        "{text}"
    );
    assert!(
        text.contains("# TYPE spingraph_request_duration_seconds histogram"),
        "{text}"
    );
    let delta = |component: &str, class: &str| {
        requests(&after, component, class) - requests(&before, component, class)
    };
    assert_eq!(delta("health", "2xx"), 3.0, "{text}");
    assert_eq!(delta("entities", "4xx"), 2.0, "{text}");
    // The public `/metrics` matched no route: counted as component "-".
    assert_eq!(delta("-", "4xx"), 1.0, "{text}");
    assert_eq!(delta("entities", "2xx"), 0.0, "{text}");
    let latency_count = |s: &BTreeMap<String, f64>| {
        s.get("spingraph_request_duration_seconds_count{component=\"health\"}")
            .copied()
            .unwrap_or(0.0)
    };
    assert_eq!(
        latency_count(&after) - latency_count(&before),
        3.0,
        "{text}"
    );

    // The admin listener serves nothing else.
    let other = app
        .client()
        .get(app.admin_url("/v1/health/live"))
        .send()
        .unwrap();
    assert_eq!(other.status(), 404);
}
