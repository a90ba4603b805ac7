//! Client addresses behind a proxy (issue 13, item 3): with `trusted_proxies` naming the peer
//! (every test client connects from 127.0.0.1, standing in for an ingress), the login limit
//! counts per forwarded client — IPv6 clients per /64 — while forwarding headers from an
//! untrusted peer are ignored. Each test uses its own limit (part of the bucket key) and fresh
//! forwarded addresses, so tests sharing the Redis do not count into each other's windows.

use spingraph_e2e::{Response, TestApp, TestOptions, json};

/// A random byte per run, so forwarded addresses differ between runs within one window.
fn run_byte(salt: u8) -> u8 {
    uuid::Uuid::new_v4().as_bytes()[0] ^ salt
}

fn app(limit: u64, trusted_proxies: Option<&str>) -> TestApp {
    let mut opts =
        TestOptions::default().variable("login_rate_limit_per_minute", &limit.to_string());
    if let Some(list) = trusted_proxies {
        opts = opts.variable("trusted_proxies", list);
    }
    TestApp::start(opts)
}

fn login_with(app: &TestApp, header: &str, value: &str) -> Response {
    app.post_json(
        "/v1/auth/token",
        &json!({"email": "nobody@example.com", "password": "whatever password"}),
    )
    .header(header, value)
    .send()
    .unwrap()
}

/// The statuses of `count` logins, each with `header: value`.
fn statuses(app: &TestApp, header: &str, value: &str, count: u64) -> Vec<u16> {
    (0..count)
        .map(|_| login_with(app, header, value).status().as_u16())
        .collect()
}

#[test]
fn behind_a_trusted_proxy_each_forwarded_client_has_its_own_login_bucket() {
    let limit = 3;
    let app = app(limit, Some("127.0.0.1/32"));
    let (a, b) = (run_byte(1), run_byte(2));
    let clients = [
        format!("198.51.100.{a}"),
        format!("203.0.113.{b}"),
        // The client may prepend anything: the rightmost untrusted hop counts.
        format!("6.6.6.6, 192.0.2.{a}, 127.0.0.1"),
    ];
    for client in &clients {
        let got = statuses(&app, "x-forwarded-for", client, limit);
        assert_eq!(got, vec![401; limit as usize], "{client}: {got:?}");
    }
    // The limit still holds per forwarded client.
    let over = login_with(&app, "x-forwarded-for", &clients[0]);
    assert_eq!(over.status(), 429);
    // RFC 7239 Forwarded, with a quoted IPv6 node, is read the same way.
    let v6 = format!("for=\"[2001:db8:{a:x}{b:x}:77::1]:4711\"");
    assert_eq!(statuses(&app, "forwarded", &v6, limit), vec![401; 3]);
    // Another address in the same /64 is the same bucket.
    let same_64 = format!("2001:db8:{a:x}{b:x}:77:ffff::9");
    assert_eq!(
        login_with(&app, "x-forwarded-for", &same_64).status(),
        429,
        "an IPv6 client is counted by its /64"
    );
    let other_64 = format!("2001:db8:{a:x}{b:x}:78::1");
    assert_eq!(login_with(&app, "x-forwarded-for", &other_64).status(), 401);
}

#[test]
fn without_trusted_proxies_forwarded_clients_share_the_peers_bucket() {
    let limit = 4;
    let app = app(limit, None);
    let a = run_byte(3);
    let got: Vec<u16> = (0..=limit)
        .map(|i| {
            let client = format!("198.51.{a}.{i}");
            login_with(&app, "x-forwarded-for", &client)
                .status()
                .as_u16()
        })
        .collect();
    assert!(
        got.contains(&429),
        "different X-Forwarded-For from one peer share its bucket: {got:?}"
    );
}

#[test]
fn a_spoofed_x_forwarded_for_from_an_untrusted_peer_is_ignored() {
    // Proxies are trusted, but not the peer 127.0.0.1.
    let limit = 6;
    let app = app(limit, Some("10.0.0.0/8, fd00::/8"));
    let a = run_byte(4);
    let got: Vec<u16> = (0..=limit)
        .map(|i| {
            let (header, value) = if i % 2 == 0 {
                ("x-forwarded-for", format!("203.0.{a}.{i}"))
            } else {
                ("forwarded", format!("for=203.0.{a}.{i}"))
            };
            login_with(&app, header, &value).status().as_u16()
        })
        .collect();
    assert!(
        got.contains(&429),
        "forwarding headers of an untrusted peer do not open new buckets: {got:?}"
    );
}
