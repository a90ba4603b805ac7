//! The health component: `/v1/health/live` (no dependencies), `/v1/health/ready` (Postgres schema
//! version and Redis PING, each with its status and latency) and `/v1/health` (readiness plus the
//! name and version of every component built from this tree).

use serde::Serialize;
use serde_json::{Value, json};
use spin_sdk::http::{Request, Response};
use spingraph_guest::db::Db;
use spingraph_guest::routes::{Call, Respond, Route, Routes};
use spingraph_guest::{ApiError, Ctx, Reply, Result, redis, serve};

mod facts {
    include!(concat!(env!("OUT_DIR"), "/build_facts.rs"));
}

pub use facts::{COMPONENTS, EXPECTED_SCHEMA_VERSION};

/// Every route of the component; each answers HEAD as it answers GET.
pub static ROUTES: Routes<Respond> = Routes::<Respond>::based(
    "/v1/health",
    &[
        Route::new("GET", "/v1/health", |c| Ok(health(c.ctx))),
        Route::new("HEAD", "/v1/health", |c| Ok(health(c.ctx))),
        Route::new("GET", "/v1/health/live", |_| Ok(live())),
        Route::new("HEAD", "/v1/health/live", |_| Ok(live())),
        Route::new("GET", "/v1/health/ready", |c| Ok(ready(c.ctx))),
        Route::new("HEAD", "/v1/health/ready", |c| Ok(ready(c.ctx))),
    ],
)
.not_found("No such health endpoint.");

// Exported only on wasm: natively (unit tests) the export's `wasi:http/...` symbol name is not
// valid in a linker version script.
#[cfg_attr(target_arch = "wasm32", spin_sdk::http_component)]
#[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
fn handle(req: Request) -> Response {
    serve("health", req, route)
}

fn route(ctx: &Ctx, req: &Request) -> Result<Reply> {
    let (handler, params) = ROUTES.route(ctx)?;
    handler(&Call { ctx, req, params })
}

fn live() -> Reply {
    Reply::ok(&json!({"status": "up"}))
}

/// One dependency check as reported to clients.
#[derive(Debug, Clone, Serialize)]
pub struct Check {
    pub status: &'static str,
    pub latency_ms: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(flatten)]
    pub extra: serde_json::Map<String, Value>,
}

impl Check {
    fn up(latency_ms: u64) -> Check {
        Check {
            status: "up",
            latency_ms,
            error: None,
            extra: Default::default(),
        }
    }

    fn down(latency_ms: u64, error: impl Into<String>) -> Check {
        Check {
            status: "down",
            latency_ms,
            error: Some(error.into()),
            extra: Default::default(),
        }
    }

    fn with(mut self, key: &str, value: Value) -> Check {
        self.extra.insert(key.to_string(), value);
        self
    }

    fn is_up(&self) -> bool {
        self.status == "up"
    }
}

fn ready(ctx: &Ctx) -> Reply {
    report(ctx, serde_json::Map::new())
}

fn health(ctx: &Ctx) -> Reply {
    let components: Vec<Value> = COMPONENTS
        .iter()
        .map(|(name, version)| json!({"name": name, "version": version}))
        .collect();
    let mut extra = serde_json::Map::new();
    extra.insert("components".into(), Value::Array(components));
    report(ctx, extra)
}

/// 200 `{status: "up", checks}` when every check is up; otherwise a 503 problem+json naming the
/// failed checks, with the same `checks` as an extension member.
fn report(ctx: &Ctx, extra: serde_json::Map<String, Value>) -> Reply {
    let checks = [
        ("postgres", check_postgres(ctx)),
        ("redis", check_redis(ctx)),
    ];
    let failed: Vec<&str> = checks
        .iter()
        .filter(|(_, c)| !c.is_up())
        .map(|(name, _)| *name)
        .collect();
    let debug = ctx.debug();
    let mut checks_json = serde_json::Map::new();
    for (name, check) in &checks {
        if let Some(error) = &check.error {
            ctx.warn(
                "readiness check failed",
                json!({"check": name, "error": error, "latency_ms": check.latency_ms}),
            );
        }
        let mut check = check.clone();
        if !debug && check.error.is_some() {
            check.error = Some(public_error(name));
        }
        checks_json.insert(
            name.to_string(),
            serde_json::to_value(&check).unwrap_or(Value::Null),
        );
    }

    if failed.is_empty() {
        let mut body = serde_json::Map::new();
        body.insert("status".into(), json!("up"));
        body.insert("checks".into(), Value::Object(checks_json));
        body.extend(extra);
        return Reply::ok(&Value::Object(body));
    }
    let err = ApiError::unavailable("A dependency", failed.join(", "));
    let problem = err.problem(&ctx.path, &ctx.request_id, false);
    let mut body = match serde_json::to_value(&problem) {
        Ok(Value::Object(map)) => map,
        _ => serde_json::Map::new(),
    };
    body.insert(
        "detail".into(),
        json!(format!("Not ready: {} down.", failed.join(" and "))),
    );
    body.insert("failed".into(), json!(failed));
    body.insert("checks".into(), Value::Object(checks_json));
    body.extend(extra);
    Reply::json(503, &Value::Object(body))
        .header("content-type", spingraph_guest::reply::PROBLEM_JSON)
        .header("retry-after", "1")
        .header("cache-control", "no-store")
}

fn public_error(check: &str) -> String {
    format!("{check} is unreachable or failing (details in the logs)")
}

/// Times `connect` and then `probe` on what it connected: a connection that fails is a down
/// check with its error; otherwise `judge` makes the check of what the probe answered, given the
/// latency of both.
fn timed<C, T>(
    connect: impl FnOnce() -> Result<C>,
    probe: impl FnOnce(&C) -> Result<T>,
    judge: impl FnOnce(Result<T>, u64) -> Check,
) -> Check {
    let started = std::time::Instant::now();
    let elapsed = || started.elapsed().as_millis() as u64;
    let conn = match connect() {
        Ok(conn) => conn,
        Err(e) => return Check::down(elapsed(), describe(&e)),
    };
    let answer = probe(&conn);
    judge(answer, elapsed())
}

/// Postgres answers, and its applied schema version is at least the one this build expects.
fn check_postgres(ctx: &Ctx) -> Check {
    // One row, one bigint column (NULL before any migration): safe on the released Spin.
    let version = |db: &Db| {
        db.value(
            "SELECT (SELECT max(version) FROM _sqlx_migrations WHERE success)::bigint AS v",
            &[],
        )
    };
    timed(|| Db::connect(ctx), version, schema_check)
}

/// The Postgres check of the applied schema version as read (in `latency` ms).
fn schema_check(version: Result<Value>, latency: u64) -> Check {
    match version {
        Ok(Value::Number(n)) => {
            let applied = n.as_i64().unwrap_or(0);
            let check = if applied >= EXPECTED_SCHEMA_VERSION {
                Check::up(latency)
            } else {
                Check::down(
                    latency,
                    format!(
                        "schema version {applied} is older than {EXPECTED_SCHEMA_VERSION}; run `spingraph migrate up`"
                    ),
                )
            };
            check
                .with("schema_version", json!(applied))
                .with("expected_schema_version", json!(EXPECTED_SCHEMA_VERSION))
        }
        Ok(_) if EXPECTED_SCHEMA_VERSION == 0 => Check::up(latency)
            .with("schema_version", json!(0))
            .with("expected_schema_version", json!(0)),
        Ok(_) => Check::down(latency, "no migrations applied; run `spingraph migrate up`")
            .with("schema_version", Value::Null)
            .with("expected_schema_version", json!(EXPECTED_SCHEMA_VERSION)),
        Err(e) => Check::down(latency, describe(&e))
            .with("expected_schema_version", json!(EXPECTED_SCHEMA_VERSION)),
    }
}

/// Redis answers `PING`.
fn check_redis(ctx: &Ctx) -> Check {
    let ping = |conn: &spin_sdk::redis::Connection| {
        conn.execute("PING", &[])
            .map_err(|e| redis::map_redis_error(&e))
    };
    timed(
        || redis::connect(ctx),
        ping,
        |pong, latency| match pong {
            Ok(_) => Check::up(latency),
            Err(e) => Check::down(latency, describe(&e)),
        },
    )
}

fn describe(err: &ApiError) -> String {
    err.internal_detail().unwrap_or_else(|| err.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn build_lists_this_component_with_its_cargo_version() {
        assert!(
            COMPONENTS
                .iter()
                .any(|(name, version)| *name == "health" && *version == env!("CARGO_PKG_VERSION"))
        );
    }

    #[test]
    fn expected_schema_version_is_zero_or_a_14_digit_timestamp() {
        let v = EXPECTED_SCHEMA_VERSION;
        assert!(v == 0 || (10_000_000_000_000..100_000_000_000_000).contains(&v));
    }

    #[test]
    fn get_and_head_are_served_other_methods_405_and_unknown_paths_404() {
        for path in ["/v1/health", "/v1/health/live", "/v1/health/ready/"] {
            assert!(ROUTES.find("GET", path).is_ok(), "{path}");
            assert!(ROUTES.find("HEAD", path).is_ok(), "{path}");
            ROUTES.assert_allow(&format!("POST {path} -> GET, HEAD"));
        }
        ROUTES.assert_not_found("No such health endpoint.", "GET /v1/health/nope");
    }

    #[test]
    fn check_reports_status_latency_and_extras() {
        let c = Check::down(3, "refused").with("schema_version", json!(1));
        let v = serde_json::to_value(&c).unwrap();
        assert_eq!(v["status"], "down");
        assert_eq!(v["latency_ms"], 3);
        assert_eq!(v["error"], "refused");
        assert_eq!(v["schema_version"], 1);
    }
}
