//! Structured logging: one JSON object per line on stderr, always carrying the component and the
//! request id. Never log secrets, tokens, passwords or full request bodies.

use serde_json::{Map, Value, json};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Debug,
    Info,
    Warn,
    Error,
}

impl Level {
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Debug => "debug",
            Level::Info => "info",
            Level::Warn => "warn",
            Level::Error => "error",
        }
    }
}

/// Render one log line (without the newline). `fields` is merged in when it is an object.
pub fn line(level: Level, component: &str, request_id: &str, msg: &str, fields: Value) -> String {
    let mut obj = Map::new();
    obj.insert("ts".into(), json!(now_rfc3339()));
    obj.insert("level".into(), json!(level.as_str()));
    obj.insert("component".into(), json!(component));
    obj.insert("request_id".into(), json!(request_id));
    obj.insert("msg".into(), json!(msg));
    if let Value::Object(extra) = fields {
        for (k, v) in extra {
            obj.entry(k).or_insert(v);
        }
    }
    Value::Object(obj).to_string()
}

/// Write one log line to stderr.
pub fn emit(level: Level, component: &str, request_id: &str, msg: &str, fields: Value) {
    eprintln!("{}", line(level, component, request_id, msg, fields));
}

/// The current UTC time as RFC 3339 with milliseconds (`2026-11-28T17:04:05.123Z`).
pub fn now_rfc3339() -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    rfc3339(now.as_secs() as i64, now.subsec_millis())
}

/// Format seconds since the Unix epoch (UTC) as RFC 3339 with milliseconds.
pub fn rfc3339(secs: i64, millis: u32) -> String {
    chrono::DateTime::from_timestamp(secs, millis * 1_000_000)
        .unwrap_or_default()
        .format("%Y-%m-%dT%H:%M:%S%.3fZ")
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_rfc3339_utc() {
        assert_eq!(rfc3339(0, 0), "1970-01-01T00:00:00.000Z");
        assert_eq!(rfc3339(951_782_400, 5), "2000-02-29T00:00:00.005Z");
        assert_eq!(rfc3339(1_795_000_000, 999), "2026-11-18T11:06:40.999Z");
    }

    #[test]
    fn log_line_is_json_with_request_id_and_fields() {
        let l = line(
            Level::Warn,
            "health",
            "rid-1",
            "redis down",
            json!({"latency_ms": 3, "request_id": "spoof"}),
        );
        let v: Value = serde_json::from_str(&l).unwrap();
        assert_eq!(v["level"], "warn");
        assert_eq!(v["component"], "health");
        assert_eq!(v["request_id"], "rid-1");
        assert_eq!(v["msg"], "redis down");
        assert_eq!(v["latency_ms"], 3);
    }
}
