//! Hardening under abuse (issue 13), end to end against the real host: slow clients cannot
//! starve it (item 1). Small limits keep every test short; every loop is bounded in count and
//! time, and every connection goes to 127.0.0.1.

use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::thread;
use std::time::{Duration, Instant};

use spingraph_e2e::{TestApp, TestOptions, host_property};

const SLOW_CLIENTS: usize = 24;
const BODY_READ_TIMEOUT_MS: u64 = 1_500;
const HEADER_READ_TIMEOUT_MS: u64 = 1_500;
const PER_CLIENT_CONNECTIONS: usize = 40;

/// The fixtures with 4 instance slots, short network deadlines and a per-address cap above
/// what the slow clients and the test's own HTTP client use together.
fn constrained() -> TestApp {
    let mut opts = TestOptions::fixtures();
    for (flag, value) in [
        ("--max-concurrent-requests", "4".to_string()),
        ("--request-timeout-ms", "5000".to_string()),
        ("--body-read-timeout-ms", BODY_READ_TIMEOUT_MS.to_string()),
        (
            "--header-read-timeout-ms",
            HEADER_READ_TIMEOUT_MS.to_string(),
        ),
        (
            "--max-connections-per-client",
            PER_CLIENT_CONNECTIONS.to_string(),
        ),
    ] {
        opts = opts.host_arg(flag).host_arg(&value);
    }
    TestApp::start(opts)
}

/// How a raw connection ended.
#[derive(Debug, PartialEq, Eq)]
enum Ended {
    /// The host answered with this status.
    Status(u16),
    /// The host closed (or reset) the connection without an answer.
    Closed,
    /// Still open at the test's deadline.
    Open,
}

/// Reads whatever has arrived; `Some` once the connection has ended.
fn poll_end(stream: &mut TcpStream, seen: &mut Vec<u8>) -> Option<Ended> {
    let mut buf = [0u8; 1024];
    match stream.read(&mut buf) {
        Ok(0) => Some(status_line(seen).map_or(Ended::Closed, Ended::Status)),
        Ok(n) => {
            seen.extend_from_slice(&buf[..n]);
            status_line(seen).map(Ended::Status)
        }
        Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => None,
        Err(_) => Some(status_line(seen).map_or(Ended::Closed, Ended::Status)),
    }
}

/// The status of an `HTTP/1.1 NNN ...` line at the start of `bytes`, once it is complete.
fn status_line(bytes: &[u8]) -> Option<u16> {
    let text = std::str::from_utf8(bytes).ok()?;
    let line = text.split_once("\r\n")?.0;
    line.strip_prefix("HTTP/1.1 ")?.get(..3)?.parse().ok()
}

/// Sends `head`, then one byte of `trickle` every 100 ms, until the host ends the connection
/// or `limit` passes. Returns how it ended and when.
fn trickle(addr: SocketAddr, head: &str, trickle: &[u8], limit: Duration) -> (Ended, Duration) {
    let start = Instant::now();
    let mut stream = TcpStream::connect(addr).expect("connecting");
    stream
        .set_read_timeout(Some(Duration::from_millis(100)))
        .unwrap();
    stream.write_all(head.as_bytes()).expect("sending the head");
    let mut seen = Vec::new();
    let mut next = trickle.iter().cycle();
    loop {
        if let Some(end) = poll_end(&mut stream, &mut seen) {
            return (end, start.elapsed());
        }
        if start.elapsed() >= limit {
            return (Ended::Open, start.elapsed());
        }
        let Some(byte) = next.next() else {
            continue; // nothing to trickle: just wait
        };
        if stream.write_all(std::slice::from_ref(byte)).is_err() {
            // The host closed its side; what it sent before is still readable.
            let end = poll_end(&mut stream, &mut seen).unwrap_or(Ended::Closed);
            return (end, start.elapsed());
        }
    }
}

/// Sends `request` on a new connection and reads until the host closes it (at most 3 s):
/// the status and the whole answer, lower-cased.
fn exchange(addr: SocketAddr, request: &str) -> (Option<u16>, String) {
    let mut stream = TcpStream::connect(addr).expect("connecting");
    stream
        .set_read_timeout(Some(Duration::from_millis(100)))
        .unwrap();
    stream.write_all(request.as_bytes()).unwrap();
    let start = Instant::now();
    let mut seen = Vec::new();
    let mut buf = [0u8; 4096];
    while start.elapsed() < Duration::from_secs(3) {
        match stream.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => seen.extend_from_slice(&buf[..n]),
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
            Err(_) => break,
        }
    }
    (
        status_line(&seen),
        String::from_utf8_lossy(&seen).to_ascii_lowercase(),
    )
}

#[test]
fn slow_body_clients_cannot_starve_other_requests_and_are_answered_408() {
    if !spingraph_e2e::host_property("slow-client deadlines") {
        return;
    }
    let app = constrained();
    let addr = app.addr;
    // Each announces 1000 bytes and sends one every 100 ms: it would take 100 s to finish.
    let head = "POST /probe/slow-body HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n";
    let limit = Duration::from_millis(BODY_READ_TIMEOUT_MS * 4);
    let slow: Vec<_> = (0..SLOW_CLIENTS)
        .map(|_| thread::spawn(move || trickle(addr, head, b" ", limit)))
        .collect();
    thread::sleep(Duration::from_millis(300));

    // Every slow client now waits on its body, 6 per instance slot: health answers anyway.
    for i in 0..5 {
        let start = Instant::now();
        let resp = app.get("/v1/health/live").send().unwrap();
        let took = start.elapsed();
        assert_eq!(
            resp.status(),
            200,
            "health check {i} during the slow bodies"
        );
        assert!(
            took < Duration::from_secs(2),
            "health check {i} took {took:?} while slow clients were sending"
        );
        thread::sleep(Duration::from_millis(150));
    }

    let ends: Vec<(Ended, Duration)> = slow.into_iter().map(|t| t.join().unwrap()).collect();
    let answered_408 = ends
        .iter()
        .filter(|(e, _)| *e == Ended::Status(408))
        .count();
    for (end, took) in &ends {
        assert!(
            matches!(end, Ended::Status(408) | Ended::Closed),
            "a slow body client ended {end:?} after {took:?}: {ends:?}"
        );
        assert!(
            *took < Duration::from_millis(BODY_READ_TIMEOUT_MS + 2_000),
            "a slow body client was cut off only after {took:?}"
        );
    }
    assert!(
        answered_408 >= SLOW_CLIENTS / 2,
        "only {answered_408} of {SLOW_CLIENTS} slow clients saw a 408: {ends:?}"
    );
    let resp = app.get("/v1/health/live").send().unwrap();
    assert_eq!(resp.status(), 200);
    let logs = app.logs.text();
    assert!(logs.contains("request body not received in time"), "{logs}");
}

#[test]
fn slow_header_client_is_disconnected_after_the_header_read_timeout() {
    if !host_property("slow-client deadlines") {
        return;
    }
    let app = constrained();
    // Headers that never end: one byte every 100 ms of an endless `X-Slow: aaaa...` line.
    let head = "GET /v1/health/live HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ";
    let (end, took) = trickle(
        app.addr,
        head,
        b"a",
        Duration::from_millis(HEADER_READ_TIMEOUT_MS * 4),
    );
    assert_ne!(end, Ended::Open, "still open after {took:?}");
    assert!(
        took >= Duration::from_millis(HEADER_READ_TIMEOUT_MS - 200)
            && took < Duration::from_millis(HEADER_READ_TIMEOUT_MS + 2_000),
        "ended {end:?} after {took:?}"
    );
    // A silent connection is closed too.
    let (end, took) = trickle(
        app.addr,
        "",
        b"",
        Duration::from_millis(HEADER_READ_TIMEOUT_MS * 4),
    );
    assert_eq!(end, Ended::Closed, "after {took:?}");
    assert_eq!(app.get("/v1/health/live").send().unwrap().status(), 200);
}

#[test]
fn connections_past_the_per_client_cap_are_answered_429() {
    if !host_property("per-client connection cap") {
        return;
    }
    let app = constrained();
    assert_eq!(app.get("/v1/health/live").send().unwrap().status(), 200);
    // The harness client may keep one connection open; hold the rest of the cap.
    let held: Vec<TcpStream> = (0..PER_CLIENT_CONNECTIONS)
        .map(|_| TcpStream::connect(app.addr).expect("connecting"))
        .collect();
    let close = "GET /v1/health/live HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
    // The host counts a connection once it has accepted it: on a busy machine that may take a
    // moment after `connect` returns, so ask until the cap is full (or 5 s pass).
    let deadline = Instant::now() + Duration::from_secs(5);
    let (status, answer) = loop {
        let (status, answer) = exchange(app.addr, close);
        if status == Some(429) || Instant::now() > deadline {
            break (status, answer);
        }
        thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(status, Some(429), "{answer}");
    assert!(answer.contains("retry-after: 1"), "{answer}");
    assert!(answer.contains("application/problem+json"), "{answer}");

    // Closing connections gives their places back.
    drop(held);
    let deadline = Instant::now() + Duration::from_secs(3);
    loop {
        let (status, answer) = exchange(app.addr, close);
        if status == Some(200) {
            break;
        }
        assert!(Instant::now() < deadline, "still refused: {answer}");
        thread::sleep(Duration::from_millis(50));
    }
}
