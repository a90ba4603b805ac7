//! `--spin-compat`: a released Spin whose Postgres limits this host reproduces as loud errors,
//! so tests on this host catch what would hang or fail there.

use std::fmt;
use std::str::FromStr;

use tokio_postgres::types::Type;
use tokio_postgres::{Row, Statement};

use super::error::db_error;
use super::wit::{Error, QueryError};

/// A released Spin whose Postgres limits this host reproduces as errors.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SpinCompat {
    /// Spin 4.0.2: a pg4 `query` with zero rows never returns (spin#3671),
    /// `timestamptz` columns fail to decode, and an error raised while a `query`
    /// runs reaches the guest flattened to `QueryError::Text` ([`SpinCompat::flatten`]).
    V4_0_2,
}

impl FromStr for SpinCompat {
    type Err = anyhow::Error;

    fn from_str(s: &str) -> anyhow::Result<Self> {
        match s.trim().trim_start_matches('v') {
            "4.0.2" => Ok(SpinCompat::V4_0_2),
            other => {
                anyhow::bail!("unsupported Spin compatibility version {other:?} (supported: 4.0.2)")
            }
        }
    }
}

impl fmt::Display for SpinCompat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SpinCompat::V4_0_2 => f.write_str("4.0.2"),
        }
    }
}

impl SpinCompat {
    /// The error (and warning log) for a statement the released Spin cannot run.
    fn violation(self, rule: &str, statement: &str) -> Error {
        tracing::warn!(
            spin_compat = %self,
            rule,
            statement,
            "pg4 query rejected by Spin-compatibility mode"
        );
        Error::Other(format!(
            "spin-compat {self}: {rule}; statement: {statement}"
        ))
    }

    pub(super) fn check_columns(self, statement: &Statement, sql: &str) -> Result<(), Error> {
        match statement
            .columns()
            .iter()
            .find(|c| *c.type_() == Type::TIMESTAMPTZ)
        {
            Some(column) => Err(self.violation(
                &format!(
                    "query returns timestamptz column `{}`, which Spin 4.0.2 cannot decode (return it as text, e.g. to_json(ts) or to_char)",
                    column.name()
                ),
                sql,
            )),
            None => Ok(()),
        }
    }

    /// Spin 4.0.2's mapping of a failed statement (`query_failed` in its
    /// factor-outbound-pg `client.rs`): a server error keeps its fields, with the
    /// Debug text of the tokio-postgres error as `as-text`; anything else (a
    /// closed connection, an I/O error) is `QueryError::Text` of that Debug text.
    pub(super) fn statement_failed(self, err: &tokio_postgres::Error) -> Error {
        match err.as_db_error() {
            Some(_) => db_error(err),
            None => Error::QueryFailed(QueryError::Text(format!("{err:?}"))),
        }
    }

    /// What Spin 4.0.2 gives the guest for an error raised while a `query`'s rows
    /// stream in (the server rejected the statement as it ran: a constraint, a
    /// cast, a timeout): its `query` collects rows inside an `anyhow` block, so the
    /// WIT error becomes the Debug text of an `anyhow::Error` holding it, which is
    /// the error's Display text, and SQLSTATE and extras are only in that text.
    pub(super) fn flatten(self, err: Error) -> Error {
        Error::QueryFailed(QueryError::Text(err.to_string()))
    }

    /// Whether Spin 4.0.2 hands columns of `ty` over as typed values (its
    /// `convert_entry` list); a column of any other type (`json`, `name`, `"char"`,
    /// `oid`, ...) reaches the guest as `unsupported` raw bytes.
    pub(super) fn decodes(self, ty: &Type) -> bool {
        [
            Type::BOOL,
            Type::BYTEA,
            Type::FLOAT4,
            Type::FLOAT8,
            Type::INT2,
            Type::INT4,
            Type::INT8,
            Type::TEXT,
            Type::VARCHAR,
            Type::BPCHAR,
            Type::TIMESTAMP,
            Type::TIMESTAMPTZ,
            Type::DATE,
            Type::TIME,
            Type::UUID,
            Type::JSONB,
            Type::NUMERIC,
            Type::INT4_RANGE,
            Type::INT8_RANGE,
            Type::NUM_RANGE,
            Type::INT4_ARRAY,
            Type::INT8_ARRAY,
            Type::NUMERIC_ARRAY,
            Type::TEXT_ARRAY,
            Type::VARCHAR_ARRAY,
            Type::BPCHAR_ARRAY,
            Type::INTERVAL,
        ]
        .contains(ty)
    }

    pub(super) fn check_rows(self, rows: &[Row], sql: &str) -> Result<(), Error> {
        if rows.is_empty() {
            return Err(self.violation(
                "query returned zero rows, which never returns on Spin 4.0.2 (spin#3671; make it return one row, e.g. SELECT (SELECT row_to_json(x) ...))",
                sql,
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capabilities::postgres::test_db::{
        DATABASE, connect, holding_id_1, local_hosts, rows_of,
    };
    use crate::capabilities::postgres::wit::DbValue;
    use crate::capabilities::postgres::{Connection, Postgres};

    #[test]
    fn spin_compat_parses_the_supported_version_only() {
        assert_eq!("4.0.2".parse::<SpinCompat>().unwrap(), SpinCompat::V4_0_2);
        assert_eq!(SpinCompat::V4_0_2.to_string(), "4.0.2");
        let err = "3.9".parse::<SpinCompat>().unwrap_err().to_string();
        assert!(err.contains("4.0.2"), "{err}");
    }

    #[test]
    fn spin_compat_zero_rows_error_names_rule_and_statement() {
        let err = SpinCompat::V4_0_2
            .check_rows(&[], "SELECT id FROM users WHERE false")
            .unwrap_err();
        let Error::Other(message) = err else {
            panic!("expected error::other, got {err:?}");
        };
        assert!(
            message.starts_with("spin-compat 4.0.2: query returned zero rows"),
            "{message}"
        );
        assert!(
            message.ends_with("; statement: SELECT id FROM users WHERE false"),
            "{message}"
        );
    }

    /// The `error::other` message `sql` fails with on `conn`.
    async fn rejection(conn: &mut Connection, sql: &str) -> String {
        match conn.query(sql, &[]).await {
            Err(Error::Other(message)) => message,
            other => panic!("expected a spin-compat error, got {other:?}"),
        }
    }

    #[tokio::test]
    async fn zero_row_query_is_an_error_under_spin_compat() {
        let mut conn = connect(Some(SpinCompat::V4_0_2)).await;
        let sql = "SELECT 1 AS one WHERE false";
        let message = rejection(&mut conn, sql).await;
        assert!(
            message.starts_with("spin-compat 4.0.2: query returned zero rows"),
            "{message}"
        );
        assert!(message.contains(sql), "{message}");
    }

    #[tokio::test]
    async fn timestamptz_column_is_an_error_under_spin_compat() {
        let mut conn = connect(Some(SpinCompat::V4_0_2)).await;
        let sql = "SELECT now() AS created_at";
        let message = rejection(&mut conn, sql).await;
        assert!(message.starts_with("spin-compat 4.0.2: "), "{message}");
        assert!(
            message.contains("timestamptz column `created_at`"),
            "{message}"
        );
        assert!(message.ends_with(&format!("statement: {sql}")), "{message}");
        // Timestamps as text pass.
        let rows = conn
            .query("SELECT to_json(now())::text AS created_at", &[])
            .await
            .unwrap();
        assert_eq!(rows.rows.len(), 1);
    }

    #[tokio::test]
    async fn spin_compat_flattens_errors_raised_while_a_query_runs_as_spin_4_0_2_does() {
        let mut conn = connect(Some(SpinCompat::V4_0_2)).await;
        holding_id_1(&mut conn).await;
        // Raised as the statement runs: flattened into the Debug text of the WIT error.
        match conn
            .query("INSERT INTO t VALUES (1) RETURNING id", &[])
            .await
        {
            Err(Error::QueryFailed(QueryError::Text(text))) => {
                assert!(
                    text.starts_with("Error::QueryFailed(QueryError::DbError(DbError {"),
                    "{text}"
                );
                assert!(text.contains(r#"code: "23505""#), "{text}");
                assert!(text.contains(r#"("constraint", "t_pkey")"#), "{text}");
                assert!(text.contains("code: SqlState(E23505)"), "{text}");
            }
            other => panic!("expected a flattened error, got {other:?}"),
        }
        // `execute` keeps the structured error, and so does a statement the server
        // rejects before running it.
        match conn.execute("INSERT INTO t VALUES (1)", &[]).await {
            Err(Error::QueryFailed(QueryError::DbError(db))) => {
                assert_eq!(db.code, "23505");
                assert!(db.as_text.contains("SqlState(E23505)"), "{}", db.as_text);
            }
            other => panic!("expected a structured error, got {other:?}"),
        }
        match conn
            .query("SELECT * FROM spingraph_no_such_table", &[])
            .await
        {
            Err(Error::QueryFailed(QueryError::DbError(db))) => assert_eq!(db.code, "42P01"),
            other => panic!("expected a structured error, got {other:?}"),
        }
    }

    #[tokio::test]
    async fn spin_compat_hands_types_spin_does_not_decode_over_as_raw_bytes() {
        let mut conn = connect(Some(SpinCompat::V4_0_2)).await;
        let rows = conn
            .query(
                "SELECT '{\"a\":1}'::json AS j, 'x'::name AS n, '{\"a\":1}'::jsonb AS b, 't'::text AS t",
                &[],
            )
            .await
            .unwrap();
        assert_eq!(
            rows.rows[0],
            vec![
                DbValue::Unsupported(br#"{"a":1}"#.to_vec()),
                DbValue::Unsupported(b"x".to_vec()),
                DbValue::Jsonb(br#"{"a": 1}"#.to_vec()),
                DbValue::Str("t".into()),
            ]
        );
        let rows = rows_of("SELECT 'x'::name AS n").await;
        assert_eq!(rows.rows[0], vec![DbValue::Str("x".into())]);
    }

    /// `application_name` as a session set it, after that session went back to the pool and was
    /// handed out again (the same backend both times).
    async fn session_setting_after_pooling(compat: Option<SpinCompat>) -> Vec<DbValue> {
        let postgres = Postgres::new(compat);
        let pid = "SELECT pg_backend_pid()::int4 AS pid";
        let mut first = postgres.connect(&local_hosts(), DATABASE).await.unwrap();
        first
            .execute("SET application_name = 'left-behind'", &[])
            .await
            .unwrap();
        let before = first.query(pid, &[]).await.unwrap().rows.remove(0);
        drop(first);
        let mut second = postgres.connect(&local_hosts(), DATABASE).await.unwrap();
        let after = second.query(pid, &[]).await.unwrap().rows.remove(0);
        assert_eq!(before, after, "the pool hands the same session out again");
        let shown = second
            .query("SELECT current_setting('application_name') AS a", &[])
            .await
            .unwrap();
        shown.rows[0].clone()
    }

    #[tokio::test]
    async fn spin_compat_cleans_a_session_before_pooling_it_again_as_spin_4_0_2_does() {
        assert_eq!(
            session_setting_after_pooling(Some(SpinCompat::V4_0_2)).await,
            vec![DbValue::Str(String::new())]
        );
        assert_eq!(
            session_setting_after_pooling(None).await,
            vec![DbValue::Str("left-behind".into())]
        );
    }
}
