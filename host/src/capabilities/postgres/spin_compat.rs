//! The Postgres rules of `--spin-compat` ([`SpinCompat`]): what the released Spins' pg4 host
//! (`crates/factor-outbound-pg/src/client.rs` and `types.rs` at v3.6.3 and v4.0.2) cannot do or
//! hands the guest in another form, reproduced here as loud errors or as that form.

use tokio_postgres::types::Type;
use tokio_postgres::{Row, Statement};

use super::error::{self, db_error};
use super::wit::{Error, QueryError};
pub use crate::manifest::spin_compat::SpinCompat;
use crate::manifest::spin_compat::SpinRelease;

/// Maps a statement failure to the WIT error; under `--spin-compat`, as that Spin does.
pub(super) fn statement_failed(err: tokio_postgres::Error, compat: Option<SpinCompat>) -> Error {
    match compat {
        Some(compat) => compat.statement_failed(&err),
        None => error::statement_failed(err),
    }
}

impl SpinCompat {
    /// The error (and warning log) for a statement `release` cannot run.
    fn violation(self, release: impl std::fmt::Display, rule: &str, statement: &str) -> Error {
        tracing::warn!(
            spin_compat = %release,
            rule,
            statement,
            "pg4 query rejected by Spin-compatibility mode"
        );
        Error::Other(format!(
            "spin-compat {release}: {rule}; statement: {statement}"
        ))
    }

    /// Both releases: `convert_entry` has no `timestamptz` decoder that works.
    pub(super) fn check_columns(self, statement: &Statement, sql: &str) -> Result<(), Error> {
        match statement
            .columns()
            .iter()
            .find(|c| *c.type_() == Type::TIMESTAMPTZ)
        {
            Some(column) => Err(self.violation(
                self,
                &format!(
                    "query returns timestamptz column `{}`, which Spin {self} cannot decode (return it as text, e.g. to_json(ts) or to_char)",
                    column.name()
                ),
                sql,
            )),
            None => Ok(()),
        }
    }

    /// The mapping of a statement the server rejects before it runs, or of a failed `execute`
    /// (`query_failed`, the same in both releases): a server error keeps its fields, with the
    /// Debug text of the tokio-postgres error as `as-text`; anything else (a closed connection,
    /// an I/O error) is `QueryError::Text` of that Debug text.
    pub(super) fn statement_failed(self, err: &tokio_postgres::Error) -> Error {
        match err.as_db_error() {
            Some(_) => db_error(err),
            None => Error::QueryFailed(QueryError::Text(format!("{err:?}"))),
        }
    }

    /// What the guest gets for an error raised while a `query`'s rows stream in (the server
    /// rejected the statement as it ran: a constraint, a cast, a timeout). Both releases collect
    /// rows inside an `anyhow` block and hand over `QueryError::Text` of that error's Debug text:
    /// - 3.6.3 holds the tokio-postgres error itself, so the text is its Display chain
    ///   (`db error` and, under `Caused by:`, `ERROR: duplicate key value ...`): no SQLSTATE, no
    ///   constraint name;
    /// - 4.0.2 holds the mapped WIT error, so the text is that error's Display, with the
    ///   SQLSTATE and extras inside it.
    ///
    /// With both releases named, 3.6.3's form, which tells the guest less, wins.
    pub(super) fn flatten(self, err: tokio_postgres::Error) -> Error {
        let text = if self.includes(SpinRelease::V3_6_3) {
            // anyhow's Debug: `db error`, then the cause chain; a backtrace, when the process
            // captures them, is the host's business and stays out of the guest's text.
            let text = format!("{:?}", anyhow::Error::from(err));
            match text.find("\n\nStack backtrace:") {
                Some(end) => text[..end].to_string(),
                None => text,
            }
        } else {
            self.statement_failed(&err).to_string()
        };
        Error::QueryFailed(QueryError::Text(text))
    }

    /// Whether the released Spins hand columns of `ty` over as typed values (their
    /// `convert_entry` list, the same in both); a column of any other type (`json`, `name`,
    /// `"char"`, `oid`, ...) reaches the guest as `unsupported` raw bytes.
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

    /// Spin 4.0.2 only: a pg4 `query` with zero rows never returns (spin#3671: its `query`
    /// waits for the columns, which only the first row sends). 3.6.3 collects rows first.
    pub(super) fn check_rows(self, rows: &[Row], sql: &str) -> Result<(), Error> {
        if rows.is_empty() && self.includes(SpinRelease::V4_0_2) {
            return Err(self.violation(
                SpinRelease::V4_0_2,
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
    use crate::manifest::spin_compat::SpinRelease::{V3_6_3, V4_0_2};

    #[test]
    fn spin_compat_zero_rows_error_names_rule_and_statement() {
        let err = SpinCompat::only(V4_0_2)
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
        let mut conn = connect(Some(SpinCompat::only(V4_0_2))).await;
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
        let mut conn = connect(Some(SpinCompat::only(V4_0_2))).await;
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
        let mut conn = connect(Some(SpinCompat::only(V4_0_2))).await;
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

    /// What the guest reads for a unique violation raised as `INSERT ... RETURNING` runs.
    async fn streamed_unique_violation(compat: SpinCompat) -> String {
        let mut conn = connect(Some(compat)).await;
        holding_id_1(&mut conn).await;
        match conn
            .query("INSERT INTO t VALUES (1) RETURNING id", &[])
            .await
        {
            Err(Error::QueryFailed(QueryError::Text(text))) => text,
            other => panic!("expected a flattened error, got {other:?}"),
        }
    }

    #[tokio::test]
    async fn spin_3_6_3_hands_over_an_error_raised_while_a_query_runs_without_its_sqlstate() {
        // 3.6.3's `query` wraps the tokio-postgres error in anyhow and sends its Debug text:
        // the server's message chain, and neither the SQLSTATE nor the constraint name.
        let text = streamed_unique_violation(SpinCompat::only(V3_6_3)).await;
        assert!(
            text.starts_with(
                "db error\n\nCaused by:\n    ERROR: duplicate key value violates unique constraint"
            ),
            "{text}"
        );
        assert!(!text.contains("backtrace"), "{text}");
        assert!(!text.contains("23505"), "{text}");
        assert!(!text.contains("constraint\", \""), "{text}");
        // Naming both releases gives the form that tells the guest less: 3.6.3's.
        let both = streamed_unique_violation(SpinCompat::all()).await;
        assert_eq!(both, text);
        // 4.0.2's keeps the SQLSTATE inside the text.
        let v4 = streamed_unique_violation(SpinCompat::only(V4_0_2)).await;
        assert!(v4.contains(r#"code: "23505""#), "{v4}");
    }

    #[tokio::test]
    async fn spin_3_6_3_answers_a_zero_row_query_and_rejects_timestamptz_columns() {
        let mut conn = connect(Some(SpinCompat::only(V3_6_3))).await;
        let rows = conn
            .query("SELECT 1 AS one WHERE false", &[])
            .await
            .unwrap();
        assert!(rows.rows.is_empty());
        let message = rejection(&mut conn, "SELECT now() AS at").await;
        assert!(
            message.starts_with("spin-compat 3.6.3: query returns timestamptz column `at`"),
            "{message}"
        );
        // Both releases: the zero-row rule of 4.0.2 applies, named for it.
        let mut conn = connect(Some(SpinCompat::all())).await;
        let message = rejection(&mut conn, "SELECT 1 AS one WHERE false").await;
        assert!(
            message.starts_with("spin-compat 4.0.2: query returned zero rows"),
            "{message}"
        );
    }

    #[tokio::test]
    async fn spin_compat_hands_types_spin_does_not_decode_over_as_raw_bytes() {
        let mut conn = connect(Some(SpinCompat::only(V4_0_2))).await;
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

    #[tokio::test]
    async fn spin_compat_hands_a_type_of_an_extension_over_as_raw_bytes() {
        // A type Postgres does not build in (pgvector's `vector`, an enum) has an OID of its
        // own database's; the released Spins' `convert_entry` knows none of them, so the guest
        // gets `unsupported`, never a number array. (The test server need not have pgvector:
        // a type made in this session stands for it.)
        let mut conn = connect(Some(SpinCompat::all())).await;
        conn.execute("CREATE TYPE pg_temp.stand_in AS ENUM ('[1,2,3]')", &[])
            .await
            .unwrap();
        let rows = conn
            .query(
                "SELECT '[1,2,3]'::pg_temp.stand_in AS embedding, '[1,2,3]'::pg_temp.stand_in::text AS as_text",
                &[],
            )
            .await
            .unwrap();
        assert_eq!(
            rows.rows[0],
            vec![
                DbValue::Unsupported(b"[1,2,3]".to_vec()),
                DbValue::Str("[1,2,3]".into()),
            ]
        );
        assert!(
            matches!(&rows.columns[0].data_type, crate::capabilities::postgres::wit::DbDataType::Other(name) if name == "stand_in"),
            "{:?}",
            rows.columns[0]
        );
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
            session_setting_after_pooling(Some(SpinCompat::only(V4_0_2))).await,
            vec![DbValue::Str(String::new())]
        );
        assert_eq!(
            session_setting_after_pooling(None).await,
            vec![DbValue::Str("left-behind".into())]
        );
    }
}
