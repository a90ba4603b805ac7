//! Postgres through `spin:postgres@4.0.0`, written for the released Spin (SPEC §2): every query
//! returns exactly one row whose first column is `jsonb` (or text holding JSON), so zero-row
//! results and `timestamptz` columns never cross the boundary. Build the JSON in SQL:
//!
//! ```sql
//! SELECT (SELECT to_jsonb(e) FROM entities e WHERE id = $1) AS j            -- one row, NULL when missing
//! SELECT coalesce(jsonb_agg(x), '[]'::jsonb) AS j FROM (...) x               -- one row, [] when empty
//! ```
//!
//! (`row_to_json`/`json_agg` give `json`, which Spin 4.0.2 hands over as `unsupported` raw bytes;
//! [`decode_json_cell`] accepts those too, but prefer the `jsonb` forms.)
//! Postgres errors map to statuses: connection → 503, unique violation → 409, check/foreign-key/data
//! errors → 422, anything else → 500. Spin 4.0.2 hands an error raised while a `query` runs to the
//! guest as `QueryError::Text` holding the Debug text of the host's error (SQLSTATE and extras
//! flattened into it); [`DbFailure`] reads the code and constraint back out of that text, so both
//! forms map the same way.
//!
//! Every statement runs under `statement_timeout_ms` (see [`Db`]); one the server cancels for it
//! (SQLSTATE 57014) is a 503 with `Retry-After`, like every other "the database could not answer
//! now" failure: the request was fine, the database ran out of the time we allow it.

use serde::de::DeserializeOwned;
use serde_json::Value;
use spin_sdk::pg4::{self, DbValue, PgError, QueryError};

pub use spin_sdk::pg4::ParameterValue;

use crate::context::Ctx;
use crate::error::{ApiError, FieldError, Result};

/// The variable holding the connection string.
pub const DATABASE_URL: &str = "database_url";

/// The variable bounding every statement's run time, in milliseconds (0 = no bound).
pub const STATEMENT_TIMEOUT_MS: &str = "statement_timeout_ms";
/// Its value when the variable is unset.
pub const DEFAULT_STATEMENT_TIMEOUT_MS: u32 = 5_000;

/// One Postgres connection for the request.
pub struct Db {
    conn: pg4::Connection,
    /// The `statement_timeout_ms` every statement runs under, when one is set ([`Db::connect`]).
    timeout: Option<std::time::Duration>,
    /// Inside [`Db::transaction`]: a nested call joins the open transaction.
    in_transaction: std::cell::Cell<bool>,
}

impl Db {
    /// Connect with the `database_url` variable, every statement bounded by the
    /// `statement_timeout_ms` variable ([`with_statement_timeout`]).
    pub fn connect(ctx: &Ctx) -> Result<Db> {
        let timeout = ctx
            .config
            .parse_or(STATEMENT_TIMEOUT_MS, DEFAULT_STATEMENT_TIMEOUT_MS)?;
        let mut db = Db::open(&with_statement_timeout(
            &ctx.config.require(DATABASE_URL)?,
            timeout,
        ))?;
        db.timeout = (timeout > 0).then(|| std::time::Duration::from_millis(timeout.into()));
        Ok(db)
    }

    /// Connect to `url` as it is.
    pub fn open(url: &str) -> Result<Db> {
        pg4::Connection::open(url)
            .map(|conn| Db {
                conn,
                timeout: None,
                in_transaction: std::cell::Cell::new(false),
            })
            .map_err(|e| map_pg_error(&e))
    }

    /// Run a query that returns one row; decode its first column (jsonb, JSON text or NULL) as `T`.
    /// Use `Option<T>` for "NULL when missing".
    pub fn json<T: DeserializeOwned>(&self, sql: &str, params: &[ParameterValue]) -> Result<T> {
        let value = self.value(sql, params)?;
        serde_json::from_value(value)
            .map_err(|e| ApiError::internal(format!("decoding query result: {e}")))
    }

    /// Like [`Db::json`], as a `serde_json::Value` (`Null` for SQL NULL).
    pub fn value(&self, sql: &str, params: &[ParameterValue]) -> Result<Value> {
        let row = self.row(sql, params)?;
        let cell = row
            .first()
            .ok_or_else(|| ApiError::internal(format!("query returned no columns: {sql}")))?;
        decode_json_cell(cell)
    }

    /// The cells of the one row a query returns (for a statement whose later columns are not
    /// JSON, such as text a component passes on unparsed).
    pub fn row(&self, sql: &str, params: &[ParameterValue]) -> Result<Vec<DbValue>> {
        let started = std::time::Instant::now();
        let rows = self
            .conn
            .query(sql, params)
            .map_err(|e| self.query_failed(&e, started))?;
        rows.rows.into_iter().next().ok_or_else(|| {
            ApiError::internal(format!(
                "query returned no rows (every query must return one row): {sql}"
            ))
        })
    }

    /// The API error for a failed `query`. Spin 3.6.3 hands over an error raised while a query
    /// runs without its SQLSTATE, so for such a failure the code cannot tell a cancel or a lost
    /// session from a bug; two facts that need no error text can: one that ran as long as
    /// `statement_timeout_ms` allows was cancelled by it (57014), and one after which the session
    /// no longer answers a `SELECT 1` with anything the server says lost its connection (a
    /// restart's 57P01, a network failure). Both are 503s, as with their codes.
    fn query_failed(&self, err: &PgError, started: std::time::Instant) -> ApiError {
        if DbFailure::of(err).is_some() && sqlstate(err).is_none() {
            if self.timeout.is_some_and(|t| started.elapsed() >= t) {
                return statement_cancelled(&format!("{err:?}"));
            }
            if let Err(probe) = self.conn.query("SELECT 1", &[])
                && sqlstate(&probe).is_none()
            {
                return ApiError::unavailable(
                    "Postgres",
                    format!("the session was lost: {err:?} (then {probe:?})"),
                );
            }
        }
        map_pg_error(err)
    }

    /// Run a statement without a result; the number of rows affected.
    pub fn execute(&self, sql: &str, params: &[ParameterValue]) -> Result<u64> {
        self.conn.execute(sql, params).map_err(|e| map_pg_error(&e))
    }

    /// Run `f` inside `BEGIN`/`COMMIT`; any error (or a failing `COMMIT`) rolls everything back.
    /// Called inside another `transaction`, `f` joins that one (it commits or rolls back with it).
    pub fn transaction<T>(&self, f: impl FnOnce(&Db) -> Result<T>) -> Result<T> {
        if self.in_transaction.get() {
            return f(self);
        }
        self.execute("BEGIN", &[])?;
        self.in_transaction.set(true);
        let result = f(self).and_then(|value| self.execute("COMMIT", &[]).map(|_| value));
        self.in_transaction.set(false);
        if result.is_err() {
            let _ = self.execute("ROLLBACK", &[]);
        }
        result
    }

    /// Run `f` in a transaction whose HNSW index scans are pgvector's iterative ones
    /// ([`NEAREST_NEIGHBOUR_SETTINGS`]): what a filtered nearest-neighbour statement runs in.
    pub fn nearest_neighbours<T>(&self, f: impl FnOnce(&Db) -> Result<T>) -> Result<T> {
        self.transaction(|db| {
            db.execute(NEAREST_NEIGHBOUR_SETTINGS, &[])?;
            f(db)
        })
    }

    /// The underlying connection, for what the helpers do not cover.
    pub fn connection(&self) -> &pg4::Connection {
        &self.conn
    }
}

/// pgvector's settings for a filtered nearest-neighbour search, for the transaction only
/// (`set_config(.., true)` is `SET LOCAL`: no pooled session keeps them), in one round trip.
/// The iterative index scan goes on reading the HNSW graph until the filtered rows fill the
/// `LIMIT` (without it, a filter keeping 1% of the rows leaves ~0.4 of `ef_search` candidates:
/// too few); `relaxed_order` may return them slightly out of order, so the statements sort
/// again. `ef_search` is the candidate list of one pass; `max_scan_tuples` bounds what one
/// search reads (the planner's exact path, a scan of the filtered rows, serves filters more
/// selective than that).
pub const NEAREST_NEIGHBOUR_SETTINGS: &str = "SELECT set_config('hnsw.iterative_scan', 'relaxed_order', true), \
     set_config('hnsw.ef_search', '200', true), set_config('hnsw.max_scan_tuples', '50000', true)";

/// `url` with `-c statement_timeout=<ms>` added to its startup `options`, so the server bounds
/// every statement of every session opened with it (`ms = 0`: `url` as it is). The setting
/// travels in the connection's startup packet: it costs no round trip (a `SET LOCAL` per
/// statement would cost three), cannot leak into another request's use of a pooled session
/// (the pool is keyed by this very string, and recycling's `RESET ALL` returns to it), and
/// works on every Spin, whose client parses `options` like ours. Options the operator set stay
/// (ours is appended); a pooler in transaction mode that refuses startup options needs
/// `statement_timeout_ms = "0"` and its own timeout. A key=value connection string that sets
/// `options` itself is left alone.
pub fn with_statement_timeout(url: &str, ms: u32) -> String {
    if ms == 0 {
        return url.to_string();
    }
    let setting = format!("-c statement_timeout={ms}");
    if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
        return match url.contains("options=") {
            true => url.to_string(),
            false => format!("{url} options='{setting}'"),
        };
    }
    let encoded = setting.replace(' ', "%20").replace('=', "%3D");
    let Some((base, query)) = url.split_once('?') else {
        return format!("{url}?options={encoded}");
    };
    let mut found = false;
    let params: Vec<String> = query
        .split('&')
        .map(|param| match param.strip_prefix("options=") {
            Some(existing) if !found => {
                found = true;
                format!("options={existing}%20{encoded}")
            }
            _ => param.to_string(),
        })
        .collect();
    match found {
        true => format!("{base}?{}", params.join("&")),
        false => format!("{url}&options={encoded}"),
    }
}

/// A result cell as JSON: `jsonb`, text holding JSON, or NULL.
pub fn decode_json_cell(cell: &DbValue) -> Result<Value> {
    match cell {
        DbValue::DbNull => Ok(Value::Null),
        DbValue::Jsonb(bytes) | DbValue::Unsupported(bytes) | DbValue::Binary(bytes) => {
            serde_json::from_slice(bytes)
                .map_err(|e| ApiError::internal(format!("query result is not JSON: {e}")))
        }
        DbValue::Str(text) => serde_json::from_str(text)
            .map_err(|e| ApiError::internal(format!("query result is not JSON: {e}"))),
        DbValue::Boolean(b) => Ok(Value::Bool(*b)),
        DbValue::Int16(n) => Ok(Value::from(*n)),
        DbValue::Int32(n) => Ok(Value::from(*n)),
        DbValue::Int64(n) => Ok(Value::from(*n)),
        DbValue::Floating64(f) => Ok(Value::from(*f)),
        DbValue::Uuid(s) => Ok(Value::String(s.clone())),
        other => Err(ApiError::internal(format!(
            "query result column is not jsonb: {other:?}"
        ))),
    }
}

/// What a failed statement says about itself: its SQLSTATE code, the constraint it names and a
/// message, from either form a host reports it in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DbFailure<'a> {
    pub code: Option<&'a str>,
    pub constraint: Option<&'a str>,
    pub message: &'a str,
}

impl<'a> DbFailure<'a> {
    /// `None` for errors that are not a failed statement (connection, conversion, ...).
    pub fn of(err: &'a PgError) -> Option<DbFailure<'a>> {
        match err {
            PgError::QueryFailed(QueryError::DbError(db)) => Some(DbFailure {
                code: Some(db.code.as_str()),
                constraint: db
                    .extras
                    .iter()
                    .find(|(k, _)| k == "constraint" || k == "constraint_name")
                    .map(|(_, v)| v.as_str()),
                message: db.message.as_str(),
            }),
            PgError::QueryFailed(QueryError::Text(text)) => Some(DbFailure::from_text(text)),
            _ => None,
        }
    }

    /// Reads a flattened error: the Debug text of the WIT error (`code: "23505"`, `("constraint",
    /// "name")`), or of a tokio-postgres error inside it (`code: SqlState(E23505)`, `constraint:
    /// Some("name")`). Debug escapes every quote inside a string, so an unescaped `code: "` can only
    /// be the field itself, never text a client put into a value.
    pub fn from_text(text: &'a str) -> DbFailure<'a> {
        let code = quoted_after(text, "code: \"")
            .or_else(|| token_after(text, "code: SqlState(E"))
            .or_else(|| quoted_after(text, "code: SqlState(Other(\""))
            .filter(|c| c.len() == 5 && c.bytes().all(|b| b.is_ascii_alphanumeric()));
        let constraint = quoted_after(text, "(\"constraint\", \"").or_else(|| {
            text.find("constraint: Some(")
                .map(|i| &text[i + "constraint: Some(".len()..])
                .map(|rest| rest.trim_start_matches(['\\', '"']))
                .and_then(|rest| rest.split(['\\', '"']).next())
                .filter(|c| !c.is_empty())
        });
        DbFailure {
            code,
            constraint,
            message: text,
        }
    }
}

impl DbFailure<'_> {
    /// Whether a failure without a SQLSTATE is the connection going away: Spin 4.0.2 reports a
    /// closed or broken connection as the Debug text of the tokio-postgres error
    /// (`Error { kind: Closed, .. }`), Spin 3.6.3 one that breaks while a query runs as its
    /// Display text (`connection closed`, `error communicating with the server: ...`), where
    /// this host says `ConnectionFailed`.
    fn lost_connection(&self) -> bool {
        let debug_kind = ["Closed", "Io", "Connect", "Timeout", "Tls"]
            .iter()
            .any(|kind| {
                self.message
                    .strip_prefix("Error { kind: ")
                    .is_some_and(|rest| {
                        rest.starts_with(kind) && rest[kind.len()..].starts_with([',', ' ', '('])
                    })
            });
        debug_kind
            || [
                "connection closed",
                "error communicating with the server",
                "error connecting to server",
                "timeout waiting for server",
                "error performing TLS handshake",
            ]
            .iter()
            .any(|display| self.message.starts_with(display))
    }
}

/// The text between `prefix` and the next `"`, at `prefix`'s first occurrence.
fn quoted_after<'a>(text: &'a str, prefix: &str) -> Option<&'a str> {
    let rest = &text[text.find(prefix)? + prefix.len()..];
    rest.split('"').next()
}

/// The alphanumeric run right after `prefix`, at its first occurrence.
fn token_after<'a>(text: &'a str, prefix: &str) -> Option<&'a str> {
    let rest = &text[text.find(prefix)? + prefix.len()..];
    let end = rest
        .find(|c: char| !c.is_ascii_alphanumeric())
        .unwrap_or(rest.len());
    Some(&rest[..end])
}

/// A Postgres error's SQLSTATE code, when the server gave one (in either form).
pub fn sqlstate(err: &PgError) -> Option<&str> {
    DbFailure::of(err).and_then(|f| f.code)
}

/// The constraint a database error names, if any.
pub fn constraint(err: &PgError) -> Option<&str> {
    DbFailure::of(err).and_then(|f| f.constraint)
}

/// Map a Postgres error to the status SPEC §4 asks for.
pub fn map_pg_error(err: &PgError) -> ApiError {
    match err {
        PgError::ConnectionFailed(msg) => ApiError::unavailable("Postgres", msg.clone()),
        PgError::BadParameter(msg) => ApiError::internal(format!("bad query parameter: {msg}")),
        PgError::ValueConversionFailed(msg) => {
            ApiError::internal(format!("value conversion failed: {msg}"))
        }
        PgError::Other(msg) => ApiError::internal(format!("postgres: {msg}")),
        PgError::QueryFailed(_) => {
            let failure = DbFailure::of(err).expect("a failed query describes itself");
            map_failure(&failure)
        }
    }
}

/// A statement the server cancelled for `statement_timeout_ms` (or the request deadline): 503.
fn statement_cancelled(message: &str) -> ApiError {
    ApiError::unavailable(
        "Postgres",
        format!(
            "statement cancelled (57014: statement_timeout_ms or the request deadline): {message}"
        ),
    )
}

fn map_failure(failure: &DbFailure<'_>) -> ApiError {
    let Some(code) = failure.code else {
        return match failure.lost_connection() {
            true => ApiError::unavailable("Postgres", failure.message.to_string()),
            false => ApiError::internal(format!("query failed: {}", failure.message)),
        };
    };
    let field = failure.constraint.unwrap_or("body").to_string();
    match code {
        "23505" => ApiError::conflict("A resource with these values already exists."),
        "23514" | "23502" | "23503" | "23P01" => {
            ApiError::Validation(vec![FieldError::new(field, "violates a data constraint")])
        }
        "57014" => statement_cancelled(failure.message),
        "40001" | "40P01" => {
            ApiError::conflict("A concurrent update interfered; retry the request.")
        }
        c if c.starts_with("22") => {
            ApiError::Validation(vec![FieldError::new(field, "invalid value")])
        }
        c if c.starts_with("08")
            || c.starts_with("53")
            || c.starts_with("57")
            || c.starts_with("58") =>
        {
            ApiError::unavailable("Postgres", format!("{code}: {}", failure.message))
        }
        _ => ApiError::internal(format!("query failed ({code}): {}", failure.message)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use spin_sdk::pg4::DbError;

    fn db_error(code: &str, constraint: Option<&str>) -> PgError {
        PgError::QueryFailed(QueryError::DbError(DbError {
            as_text: format!("error {code}"),
            severity: "ERROR".into(),
            code: code.into(),
            message: "msg".into(),
            detail: None,
            extras: constraint
                .map(|c| vec![("constraint".to_string(), c.to_string())])
                .unwrap_or_default(),
        }))
    }

    #[test]
    fn connection_failure_is_503() {
        let e = map_pg_error(&PgError::ConnectionFailed("refused".into()));
        assert_eq!(e.status(), 503);
        assert_eq!(map_pg_error(&db_error("08006", None)).status(), 503);
        assert_eq!(map_pg_error(&db_error("57P01", None)).status(), 503);
    }

    #[test]
    fn a_statement_cancelled_by_its_timeout_is_503_in_either_form() {
        assert_eq!(map_pg_error(&db_error("57014", None)).status(), 503);
        // what Spin 4.0.2 (and `--spin-compat 4.0.2`) hands over for a `query` it cancelled
        let flattened = text_error(
            r#"Error { kind: Db, cause: Some(DbError { severity: "ERROR", parsed_severity: Some(Error), code: SqlState(E57014), message: "canceling statement due to statement timeout", detail: None }) }"#,
        );
        assert_eq!(sqlstate(&flattened), Some("57014"));
        let mapped = map_pg_error(&flattened);
        assert_eq!(mapped.status(), 503);
        assert!(mapped.internal_detail().unwrap().contains("57014"));
    }

    #[test]
    fn the_timeout_travels_in_the_connection_string_options() {
        let base = "postgres://app@db:5432/spingraph";
        assert_eq!(
            with_statement_timeout(&format!("{base}?sslmode=require"), 250),
            format!("{base}?sslmode=require&options=-c%20statement_timeout%3D250")
        );
        assert_eq!(
            with_statement_timeout(base, 250),
            format!("{base}?options=-c%20statement_timeout%3D250")
        );
        // the operator's own options stay, ours follow them
        assert_eq!(
            with_statement_timeout(&format!("{base}?options=-c%20search_path%3Dapp&x=1"), 9),
            format!("{base}?options=-c%20search_path%3Dapp%20-c%20statement_timeout%3D9&x=1")
        );
        assert_eq!(with_statement_timeout(base, 0), base);
        assert_eq!(
            with_statement_timeout("host=db dbname=app", 100),
            "host=db dbname=app options='-c statement_timeout=100'"
        );
        let kv = "host=db options='-c x=1'";
        assert_eq!(with_statement_timeout(kv, 100), kv);
    }

    #[test]
    fn unique_violation_is_409() {
        assert_eq!(map_pg_error(&db_error("23505", None)).status(), 409);
    }

    #[test]
    fn check_violation_is_422_naming_the_constraint() {
        let e = map_pg_error(&db_error("23514", Some("entities_confidence_check")));
        assert_eq!(
            e,
            ApiError::Validation(vec![FieldError::new(
                "entities_confidence_check",
                "violates a data constraint"
            )])
        );
        assert_eq!(map_pg_error(&db_error("22P02", None)).status(), 422);
    }

    #[test]
    fn other_errors_are_500_bugs() {
        assert_eq!(map_pg_error(&db_error("42P01", None)).status(), 500);
        assert_eq!(
            map_pg_error(&PgError::Other("spin-compat".into())).status(),
            500
        );
    }

    /// What Spin 4.0.2 gives the guest for a unique violation raised while a `query` runs: the
    /// Debug text of the WIT error, whose `as-text` is the Debug text of the tokio-postgres error
    /// (shape from `crates/factor-outbound-pg/src/client.rs` at v4.0.2; the same text
    /// `spingraph up --spin-compat 4.0.2` produces).
    const SPIN_FLATTENED_UNIQUE: &str = r#"Error::QueryFailed(QueryError::DbError(DbError { as-text: "Error { kind: Db, cause: Some(DbError { severity: \"ERROR\", parsed_severity: Some(Error), code: SqlState(E23505), message: \"duplicate key value violates unique constraint \\\"relationships_active_unique\\\"\", detail: Some(\"Key (source_id, target_id, type)=(a, b, code: \\\"22P02\\\") already exists.\"), hint: None, position: None, where_: None, schema: Some(\"public\"), table: Some(\"relationships\"), column: None, datatype: None, constraint: Some(\"relationships_active_unique\"), file: Some(\"nbtinsert.c\"), line: Some(666), routine: Some(\"_bt_check_unique\") }) }", severity: "ERROR", code: "23505", message: "duplicate key value violates unique constraint \"relationships_active_unique\"", detail: Some("Key (source_id, target_id, type)=(a, b, code: \"22P02\") already exists."), extras: [("schema", "public"), ("table", "relationships"), ("constraint", "relationships_active_unique")] }))"#;

    fn text_error(text: &str) -> PgError {
        PgError::QueryFailed(QueryError::Text(text.to_string()))
    }

    #[test]
    fn spin_flattened_unique_violation_is_409_like_the_structured_form() {
        let err = text_error(SPIN_FLATTENED_UNIQUE);
        assert_eq!(sqlstate(&err), Some("23505"));
        assert_eq!(constraint(&err), Some("relationships_active_unique"));
        assert_eq!(map_pg_error(&err), map_pg_error(&db_error("23505", None)));
    }

    #[test]
    fn a_client_value_inside_the_flattened_text_cannot_change_the_code() {
        // The detail above carries `code: \"22P02\"` from a client value; escaped, it never
        // matches, and the first real code wins.
        let failure = DbFailure::from_text(SPIN_FLATTENED_UNIQUE);
        assert_eq!(failure.code, Some("23505"));
    }

    #[test]
    fn tokio_postgres_debug_text_alone_is_read_too() {
        let text = r#"Error { kind: Db, cause: Some(DbError { severity: "ERROR", parsed_severity: Some(Error), code: SqlState(E23514), message: "new row violates check constraint", constraint: Some("entities_confidence_check"), file: None }) }"#;
        let err = text_error(text);
        assert_eq!(sqlstate(&err), Some("23514"));
        assert_eq!(
            map_pg_error(&err),
            ApiError::Validation(vec![FieldError::new(
                "entities_confidence_check",
                "violates a data constraint"
            )])
        );
        let other = text_error(r#"DbError { code: SqlState(Other("ZZ001")) }"#);
        assert_eq!(sqlstate(&other), Some("ZZ001"));
    }

    #[test]
    fn flattened_connection_errors_stay_503_and_text_without_a_code_is_500() {
        let err = text_error(
            r#"Error::QueryFailed(QueryError::DbError(DbError { as-text: "", severity: "FATAL", code: "57P01", message: "terminating connection due to administrator command", detail: None, extras: [] }))"#,
        );
        assert_eq!(map_pg_error(&err).status(), 503);
        assert_eq!(
            map_pg_error(&text_error("query result exceeds limit of 1000 bytes")).status(),
            500
        );
        let closed = text_error("Error { kind: Closed, cause: None }");
        assert_eq!(map_pg_error(&closed).status(), 503);
        let io = text_error(
            r#"Error { kind: Io, cause: Some(Os { code: 104, kind: ConnectionReset, message: "Connection reset by peer" }) }"#,
        );
        assert_eq!(map_pg_error(&io).status(), 503);
        let to_sql = text_error("Error { kind: ToSql(0), cause: Some(\"x\") }");
        assert_eq!(map_pg_error(&to_sql).status(), 500);
    }

    /// Spin 3.6.3's form of an error raised while a query runs: the anyhow Debug text of the
    /// tokio-postgres error (host/src/capabilities/postgres/spin_compat.rs reproduces it).
    const SPIN_3_6_3_UNIQUE: &str = "db error\n\nCaused by:\n    ERROR: duplicate key value violates unique constraint \"relationships_active_key\"\n    DETAIL: Key (source_id, target_id, type)=(a, b, c) already exists.";

    #[test]
    fn spin_3_6_3_errors_carry_no_sqlstate_so_statements_must_say_what_happened() {
        // Nothing in the text is read as a code: statements that can conflict say so in their
        // answer (`ON CONFLICT DO NOTHING`), and this stays an internal error if one does not.
        let err = text_error(SPIN_3_6_3_UNIQUE);
        assert_eq!(sqlstate(&err), None);
        assert_eq!(constraint(&err), None);
        assert_eq!(map_pg_error(&err).status(), 500);
        // A connection that breaks while a query runs: its Display text, still a 503.
        for text in [
            "connection closed",
            "error communicating with the server: Connection reset by peer (os error 104)",
        ] {
            assert_eq!(map_pg_error(&text_error(text)).status(), 503, "{text}");
        }
    }

    #[test]
    fn json_cells_decode_from_jsonb_text_and_null() {
        assert_eq!(
            decode_json_cell(&DbValue::Jsonb(br#"{"a":1}"#.to_vec())).unwrap(),
            serde_json::json!({"a": 1})
        );
        assert_eq!(
            decode_json_cell(&DbValue::Str("[1,2]".into())).unwrap(),
            serde_json::json!([1, 2])
        );
        assert_eq!(decode_json_cell(&DbValue::DbNull).unwrap(), Value::Null);
        assert_eq!(
            decode_json_cell(&DbValue::Int64(7)).unwrap(),
            serde_json::json!(7)
        );
    }
}
