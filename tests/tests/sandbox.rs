//! The outbound sandbox covers connection parameters (issue 13, item 9): the probe component
//! (tests/fixtures, allowed `postgres://127.0.0.1:5432` only) opens `database_url`, and a URL
//! whose allowed host is redirected by `hostaddr`, a second host or a second port is refused
//! with an error naming the address that would have been dialled — never connected.

use spingraph_e2e::{TestApp, TestOptions, Value, host_property, json_body};

const BASE: &str = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable";

fn probe_connect(database_url: &str) -> Value {
    probe_connect_allowing("127.0.0.1:5432", database_url)
}

/// `/pg/connect` of the probe allowed `postgres://<postgres_host>` only.
fn probe_connect_allowing(postgres_host: &str, database_url: &str) -> Value {
    // The probe dials `database_url` itself: the harness's fresh database is not needed.
    let opts = TestOptions::fixtures()
        .without_migrations()
        .variable("postgres_host", postgres_host)
        .variable("database_url", database_url);
    let app = TestApp::start(opts);
    let resp = app.get("/pg/connect").send().unwrap();
    assert_eq!(resp.status(), 200, "the probe reports, it does not fail");
    json_body(resp)
}

fn assert_denied(database_url: &str, denied: &str) {
    let result = probe_connect(database_url);
    assert_eq!(result["ok"], false, "{database_url} connected: {result}");
    let message = result["error"]["message"].as_str().unwrap_or_default();
    assert!(
        message.contains(denied) && message.contains("not allowed by allowed_outbound_hosts"),
        "{database_url}: the error names {denied}: {result}"
    );
}

#[test]
fn hostaddr_cannot_point_an_allowed_name_at_an_address_that_is_not_allowed() {
    if !host_property("allowed_outbound_hosts applied to hostaddr") {
        return;
    }
    // Allowed: `localhost` only. The server listens on 127.0.0.1, which `hostaddr` would
    // dial directly: a real connection to an address the component may not reach.
    let url = "postgres://postgres@localhost:5432/postgres?sslmode=disable&hostaddr=127.0.0.1";
    let result = probe_connect_allowing("localhost:5432", url);
    assert_eq!(result["ok"], false, "hostaddr connected: {result}");
    let message = result["error"]["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("postgres://127.0.0.1:5432")
            && message.contains("not allowed by allowed_outbound_hosts"),
        "the error names the address dialled: {result}"
    );
}

#[test]
fn a_postgres_url_cannot_redirect_the_connection_past_allowed_hosts() {
    if !host_property("allowed_outbound_hosts applied to hostaddr, host and port lists") {
        return;
    }
    // The allowed URL itself connects: the denials below are the parameters' doing.
    assert_eq!(probe_connect(BASE)["ok"], true);
    // hostaddr is what tokio-postgres dials; 127.0.0.2 reaches the same loopback server.
    assert_denied(
        &format!("{BASE}&hostaddr=127.0.0.2"),
        "postgres://127.0.0.2:5432",
    );
    // An allowed hostaddr does not launder a host that is not allowed.
    assert_denied(
        "postgres://postgres@localhost:5432/postgres?sslmode=disable&hostaddr=127.0.0.1",
        "postgres://localhost:5432",
    );
    // A second host, or the same host on a second port.
    assert_denied(
        "postgres://postgres@127.0.0.1:5432,127.0.0.2:5432/postgres?sslmode=disable",
        "postgres://127.0.0.2:5432",
    );
    assert_denied(
        "host=127.0.0.1,127.0.0.1 port=5432,5433 user=postgres dbname=postgres sslmode=disable",
        "postgres://127.0.0.1:5433",
    );
}
