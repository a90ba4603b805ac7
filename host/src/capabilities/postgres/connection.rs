//! One `connection` resource: a pooled client held for the resource's life (so `BEGIN` ...
//! `COMMIT` across calls stays on one session), whether a transaction or a statement is still
//! open on it, and what its drop does with the session (back to the pool, or closed).

use futures_util::TryStreamExt;
use tokio_postgres::Row;

use super::convert::{SqlParam, convert_row, data_type, param_refs, to_sql_params};
use super::sessions::{Pooled, stale_statement};
use super::spin_compat::{SpinCompat, statement_failed};
use super::tls::MakeRustlsConnect;
use super::wit::{Column, Error, ParameterValue, RowSet};

/// An open `connection` resource: one pooled client for the resource's life.
pub struct Connection {
    /// Always `Some` until drop.
    client: Option<Pooled>,
    compat: Option<SpinCompat>,
    /// A `BEGIN` ran without a matching `COMMIT`/`ROLLBACK`: the session must
    /// not go back to the pool as it is.
    in_transaction: bool,
    /// A statement was sent and its answer not yet read: still set at drop, the guest's future
    /// was dropped mid-statement (the request deadline aborted it, or the instance died).
    running: bool,
}

impl Drop for Connection {
    fn drop(&mut self) {
        let Some(client) = self.client.take() else {
            return;
        };
        if self.running {
            // The server is still running the statement: pooled, the session would hand the
            // next request a backend busy until the statement ends, and closing the socket
            // alone does not stop it (Postgres notices a gone client only when it writes).
            // So cancel it on the server and close the session.
            tracing::warn!(
                "pg4 connection dropped while a statement ran; cancelling it and closing the session"
            );
            cancel_on_server(client.client().cancel_token());
            drop(Pooled::take(client));
        } else if self.in_transaction {
            tracing::warn!(
                "pg4 connection dropped inside a transaction; closing it instead of pooling it"
            );
            drop(Pooled::take(client));
        }
    }
}

/// Sends a cancel request for whatever the session of `token` runs, from a task of its own
/// (drop cannot wait). The TLS connector only matters when the connection string asks for TLS;
/// `cancel_query` follows its `sslmode`.
fn cancel_on_server(token: tokio_postgres::CancelToken) {
    let Ok(runtime) = tokio::runtime::Handle::try_current() else {
        tracing::warn!("no async runtime to cancel the running statement from");
        return;
    };
    runtime.spawn(async move {
        if let Err(e) = token.cancel_query(MakeRustlsConnect::new()).await {
            tracing::warn!(error = %e, "cancelling a running statement failed");
        }
    });
}

impl Connection {
    pub(super) fn new(client: Pooled, compat: Option<SpinCompat>) -> Connection {
        Connection {
            client: Some(client),
            compat,
            in_transaction: false,
            running: false,
        }
    }

    fn session(&self) -> &Pooled {
        self.client.as_ref().expect("connection used after drop")
    }

    fn client(&self) -> &tokio_postgres::Client {
        self.session().client()
    }

    /// The guest's parameters converted for tokio-postgres, and the (kept) prepared statement.
    async fn prepare(
        &self,
        statement: &str,
        params: &[ParameterValue],
    ) -> Result<(tokio_postgres::Statement, Vec<SqlParam>), Error> {
        let params = to_sql_params(params)?;
        let prepared = self
            .session()
            .prepare(statement)
            .await
            .map_err(|e| statement_failed(e, self.compat))?;
        Ok((prepared, params))
    }

    /// After `error` from running a kept statement: whether to run it once more, freshly
    /// prepared (see `sessions`: only a stale statement, only outside a transaction).
    fn retry_fresh(&self, error: &tokio_postgres::Error, statement: &str) -> bool {
        if !stale_statement(error) {
            return false;
        }
        self.session().forget(statement);
        !self.in_transaction
    }

    /// Runs a statement that returns rows.
    pub async fn query(&mut self, sql: &str, params: &[ParameterValue]) -> Result<RowSet, Error> {
        self.while_running(async |c| c.run_query(sql, params).await)
            .await
    }

    /// Runs a statement and returns the number of rows it affected.
    pub async fn execute(&mut self, sql: &str, params: &[ParameterValue]) -> Result<u64, Error> {
        self.while_running(async |c| c.run_execute(sql, params).await)
            .await
    }

    /// Runs `statement` with `running` set until it has answered: when the guest's future is
    /// dropped mid-statement, it stays set for `drop` to see.
    async fn while_running<T>(&mut self, statement: impl AsyncFnOnce(&mut Self) -> T) -> T {
        self.running = true;
        let answer = statement(&mut *self).await;
        self.running = false;
        answer
    }

    async fn run_query(&mut self, sql: &str, params: &[ParameterValue]) -> Result<RowSet, Error> {
        let (mut prepared, params) = self.prepare(sql, params).await?;
        if let Some(compat) = self.compat {
            compat.check_columns(&prepared, sql)?;
        }
        self.note_transaction_control(sql);
        // Binding fails before any row (as an error of its own); the statement's execution
        // fails while rows stream in, which the released Spins flatten (`SpinCompat::flatten`).
        let compat = self.compat;
        let stream = match self
            .client()
            .query_raw(&prepared, param_refs(&params))
            .await
        {
            Ok(stream) => stream,
            Err(e) if self.retry_fresh(&e, sql) => {
                prepared = self.prepare(sql, &[]).await?.0;
                if let Some(compat) = compat {
                    compat.check_columns(&prepared, sql)?;
                }
                self.client()
                    .query_raw(&prepared, param_refs(&params))
                    .await
                    .map_err(|e| statement_failed(e, compat))?
            }
            Err(e) => return Err(statement_failed(e, compat)),
        };
        let rows: Vec<Row> = stream.try_collect().await.map_err(|e| match compat {
            Some(compat) => compat.flatten(e),
            None => statement_failed(e, None),
        })?;
        self.note_success(sql);
        if let Some(compat) = self.compat {
            compat.check_rows(&rows, sql)?;
        }
        let columns = prepared
            .columns()
            .iter()
            .map(|c| Column {
                name: c.name().to_string(),
                data_type: data_type(c.type_()),
            })
            .collect();
        let rows = rows
            .iter()
            .map(|row| convert_row(row, self.compat))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(RowSet { columns, rows })
    }

    async fn run_execute(&mut self, sql: &str, params: &[ParameterValue]) -> Result<u64, Error> {
        let (prepared, params) = self.prepare(sql, params).await?;
        self.note_transaction_control(sql);
        let count = match self.client().execute(&prepared, &param_refs(&params)).await {
            Ok(count) => count,
            Err(e) if self.retry_fresh(&e, sql) => {
                let prepared = self.prepare(sql, &[]).await?.0;
                self.client()
                    .execute(&prepared, &param_refs(&params))
                    .await
                    .map_err(|e| statement_failed(e, self.compat))?
            }
            Err(e) => return Err(statement_failed(e, self.compat)),
        };
        self.note_success(sql);
        Ok(count)
    }

    /// Before running: a COMMIT/ROLLBACK ends the transaction even if it fails.
    fn note_transaction_control(&mut self, statement: &str) {
        if transaction_control(statement) == Some(false) {
            self.in_transaction = false;
        }
    }

    /// After success: a BEGIN opened a transaction.
    fn note_success(&mut self, statement: &str) {
        if transaction_control(statement) == Some(true) {
            self.in_transaction = true;
        }
    }
}

/// `Some(true)` for a statement opening a transaction, `Some(false)` for one
/// closing it, `None` otherwise.
fn transaction_control(statement: &str) -> Option<bool> {
    let mut words = statement
        .trim_start()
        .split(|c: char| c.is_whitespace() || c == ';')
        .filter(|w| !w.is_empty())
        .map(str::to_ascii_lowercase);
    match words.next()?.as_str() {
        "begin" | "start" => Some(true),
        "commit" | "end" | "abort" => Some(false),
        "rollback" => match words.next().as_deref() {
            Some("to") => None,
            _ => Some(false),
        },
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::capabilities::postgres::Postgres;
    use crate::capabilities::postgres::test_db::{DATABASE, local_hosts, rows_of};
    use crate::capabilities::postgres::wit::{DbDataType, DbValue};

    #[test]
    fn transaction_statements_are_recognised() {
        assert_eq!(transaction_control("BEGIN"), Some(true));
        assert_eq!(
            transaction_control("  start transaction isolation level serializable"),
            Some(true)
        );
        assert_eq!(transaction_control("commit;"), Some(false));
        assert_eq!(transaction_control("ROLLBACK"), Some(false));
        assert_eq!(transaction_control("rollback to savepoint a"), None);
        assert_eq!(transaction_control("END"), Some(false));
        assert_eq!(transaction_control("SELECT 1"), None);
    }

    #[tokio::test]
    async fn zero_row_query_returns_columns_and_no_rows_without_compat() {
        let rows = rows_of("SELECT 1 AS one WHERE false").await;
        assert!(rows.rows.is_empty());
        assert_eq!(rows.columns.len(), 1);
        assert_eq!(rows.columns[0].name, "one");
        assert_eq!(rows.columns[0].data_type, DbDataType::Int32);
    }

    #[tokio::test]
    async fn a_statement_cut_off_by_a_dropped_future_is_cancelled_and_never_pooled_busy() {
        let postgres = Postgres::new(None);
        let marker = format!("cut-off-{}", std::process::id());
        let running = format!(
            "SELECT count(*) FROM pg_stat_activity WHERE state = 'active' \
             AND query LIKE '%pg_sleep%{marker}%' AND pid <> pg_backend_pid()"
        );
        let mut conn = postgres.connect(&local_hosts(), DATABASE).await.unwrap();
        let slow = format!("SELECT pg_sleep(30), '{marker}'");
        // what the request deadline does: the guest's future is dropped mid-statement
        let cut = tokio::time::timeout(Duration::from_millis(300), conn.query(&slow, &[])).await;
        assert!(cut.is_err(), "pg_sleep(30) cannot finish in 300 ms");
        assert!(conn.running);
        drop(conn);
        assert_eq!(postgres.pool_status()[0].1.size, 0, "closed, not pooled");

        let mut probe = postgres.connect(&local_hosts(), DATABASE).await.unwrap();
        let started = std::time::Instant::now();
        loop {
            let rows = probe.query(&running, &[]).await.unwrap();
            if rows.rows[0][0] == DbValue::Int64(0) {
                break;
            }
            assert!(
                started.elapsed() < Duration::from_secs(5),
                "the cut-off pg_sleep still runs on the server"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        // and the pool still serves: the probe's session goes back to it idle
        assert!(!probe.running);
        drop(probe);
        assert_eq!(postgres.pool_status()[0].1.size, 1);
    }

    /// Statements prepared on this session, as the server lists them.
    async fn prepared_on_server(conn: &mut Connection) -> i64 {
        let rows = conn
            .query("SELECT count(*) FROM pg_prepared_statements", &[])
            .await
            .unwrap();
        match rows.rows[0][0] {
            DbValue::Int64(n) => n,
            ref other => panic!("{other:?}"),
        }
    }

    #[tokio::test]
    async fn a_session_keeps_its_statements_up_to_its_bound_and_closes_the_rest_on_the_server() {
        let postgres = Postgres::new(None);
        let mut conn = postgres.connect(&local_hosts(), DATABASE).await.unwrap();
        // run twice: the second run is the kept statement (no new one on the server)
        conn.query("SELECT 1 AS one", &[]).await.unwrap();
        let first = prepared_on_server(&mut conn).await;
        conn.query("SELECT 1 AS one", &[]).await.unwrap();
        assert_eq!(prepared_on_server(&mut conn).await, first);
        assert_eq!(conn.session().kept(), 2, "the statement and the probe");

        // ever-new texts: the session keeps its bound, and so does the server
        let bound = super::super::sessions::STATEMENTS_PER_SESSION;
        for i in 0..bound + 40 {
            conn.query(&format!("SELECT {i} AS n"), &[]).await.unwrap();
        }
        assert_eq!(conn.session().kept(), bound);
        let on_server = prepared_on_server(&mut conn).await;
        assert!(
            on_server <= bound as i64 + 1,
            "{on_server} statements prepared on the server, bound {bound}"
        );
        // and it goes back to the pool with them: the next connection reuses the session
        drop(conn);
        let conn = postgres.connect(&local_hosts(), DATABASE).await.unwrap();
        assert_eq!(conn.session().kept(), bound);
    }

    #[tokio::test]
    async fn a_kept_statement_past_its_max_age_is_prepared_again() {
        use crate::capabilities::postgres::StatementCache;
        let max_age = Duration::from_millis(200);
        let postgres = Postgres::with_pool(
            None,
            1,
            StatementCache {
                max_age,
                ..StatementCache::default()
            },
        );
        let mut conn = postgres.connect(&local_hosts(), DATABASE).await.unwrap();
        let sql = "SELECT 1 AS max_age_probe";
        let on_server = "SELECT count(*) FROM pg_prepared_statements \
                         WHERE statement = 'SELECT 1 AS max_age_probe'";
        // `first` is held, so the server keeps it as long as this test does
        let first = conn.session().prepare(sql).await.unwrap();
        let _again = conn.session().prepare(sql).await.unwrap();
        let count = conn.query(on_server, &[]).await.unwrap();
        assert_eq!(count.rows[0][0], DbValue::Int64(1), "reused while young");
        tokio::time::sleep(max_age + Duration::from_millis(50)).await;
        let _later = conn.session().prepare(sql).await.unwrap();
        let count = conn.query(on_server, &[]).await.unwrap();
        assert_eq!(
            count.rows[0][0],
            DbValue::Int64(2),
            "prepared (and planned) again once old"
        );
        drop(first);
    }

    #[tokio::test]
    async fn a_kept_statement_whose_table_changed_is_prepared_again_outside_a_transaction() {
        let mut conn = crate::capabilities::postgres::test_db::connect(None).await;
        conn.execute("CREATE TEMP TABLE grows (a int)", &[])
            .await
            .unwrap();
        conn.execute("INSERT INTO grows VALUES (1)", &[])
            .await
            .unwrap();
        let all = "SELECT * FROM grows";
        assert_eq!(conn.query(all, &[]).await.unwrap().columns.len(), 1);
        conn.execute("ALTER TABLE grows ADD COLUMN b int", &[])
            .await
            .unwrap();
        // the kept plan would now answer other columns: Postgres refuses it, the host prepares
        // the statement again, as a fresh session would
        let rows = conn.query(all, &[]).await.unwrap();
        assert_eq!(rows.columns.len(), 2);

        // inside a transaction the refusal is the guest's error (the transaction is aborted),
        // and the statement is forgotten, so the next run after it works
        conn.execute("ALTER TABLE grows ADD COLUMN c int", &[])
            .await
            .unwrap();
        conn.execute("BEGIN", &[]).await.unwrap();
        assert!(conn.query(all, &[]).await.is_err());
        conn.execute("ROLLBACK", &[]).await.unwrap();
        assert_eq!(conn.query(all, &[]).await.unwrap().columns.len(), 3);
    }

    #[tokio::test]
    async fn transaction_spans_calls_on_one_connection_and_is_never_pooled_open() {
        let postgres = Postgres::new(None);
        let mut conn = postgres.connect(&local_hosts(), DATABASE).await.unwrap();
        conn.execute("BEGIN", &[]).await.unwrap();
        conn.execute("CREATE TEMP TABLE tx_probe (n int) ON COMMIT DROP", &[])
            .await
            .unwrap();
        conn.execute("INSERT INTO tx_probe VALUES (1)", &[])
            .await
            .unwrap();
        let rows = conn
            .query("SELECT count(*) FROM tx_probe", &[])
            .await
            .unwrap();
        assert_eq!(rows.rows[0][0], DbValue::Int64(1));
        assert!(conn.in_transaction);
        // Dropped mid-transaction: the session is closed, not returned to the pool.
        drop(conn);
        assert_eq!(postgres.pool_status()[0].1.size, 0);

        let mut conn = postgres.connect(&local_hosts(), DATABASE).await.unwrap();
        conn.execute("BEGIN", &[]).await.unwrap();
        conn.execute("COMMIT", &[]).await.unwrap();
        assert!(!conn.in_transaction);
        drop(conn);
        assert_eq!(postgres.pool_status()[0].1.size, 1);
    }
}
