//! The access log: exactly one JSON line on stderr per request, plus the host's
//! own structured (tracing JSON) logging set-up.

use std::io::Write;
use std::time::Duration;

use serde::Serialize;

/// What one access-log line records.
#[derive(Debug, Serialize)]
pub struct AccessRecord<'a> {
    pub ts: String,
    pub kind: &'static str,
    pub request_id: &'a str,
    pub method: &'a str,
    pub path: &'a str,
    pub route: Option<&'a str>,
    pub component: Option<&'a str>,
    pub status: u16,
    pub latency_ms: f64,
}

impl<'a> AccessRecord<'a> {
    pub fn new(
        request_id: &'a str,
        method: &'a str,
        path: &'a str,
        route: Option<&'a str>,
        component: Option<&'a str>,
        status: u16,
        latency: Duration,
    ) -> Self {
        AccessRecord {
            ts: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            kind: "access",
            request_id,
            method,
            path,
            route,
            component,
            status,
            latency_ms: (latency.as_secs_f64() * 1_000_000.0).round() / 1000.0,
        }
    }

    /// Writes the line in one `write_all`, so concurrent requests never interleave.
    pub fn emit(&self) {
        if let Ok(mut line) = serde_json::to_vec(self) {
            line.push(b'\n');
            let _ = std::io::stderr().lock().write_all(&line);
        }
    }
}

/// Host logs as JSON lines on stderr; `RUST_LOG` filters (default `info`). The fmt layer writes
/// each event in one `Stderr::write_all`, i.e. under the stderr lock that the access log and
/// guest output (`guest_output`) take too, so lines never interleave.
pub fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| {
        tracing_subscriber::EnvFilter::new("info,wasmtime=warn,cranelift=warn")
    });
    let _ = tracing_subscriber::fmt()
        .json()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_current_span(false)
        .try_init();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn access_record_serializes_every_field() {
        let r = AccessRecord::new(
            "rid-1",
            "GET",
            "/v1/health/live",
            Some("/v1/health/..."),
            Some("health"),
            200,
            Duration::from_micros(1500),
        );
        let v: serde_json::Value = serde_json::to_value(&r).unwrap();
        for key in [
            "ts",
            "request_id",
            "method",
            "path",
            "route",
            "component",
            "status",
            "latency_ms",
        ] {
            assert!(v.get(key).is_some(), "missing {key}");
        }
        assert_eq!(v["latency_ms"], 1.5);
        assert_eq!(v["status"], 200);
    }
}
