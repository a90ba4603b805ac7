//! `spin:postgres/postgres@4.0.0`: pooled Postgres connections for guests.
//!
//! App-wide: one deadpool pool per connection string, created on first use
//! and shared by every instance. Per instance: the component's allowed hosts
//! and the table of `connection` resources it opened; each resource holds one
//! pooled client (so `BEGIN` ... `COMMIT` across calls stays on one session)
//! and gives it back when the guest drops it or the instance ends. Failures
//! are returned to the guest as the WIT `error`, never as a trap.
//!
//! Spin-compat mode ([`crate::manifest::spin_compat::SpinCompat`]) turns what the released Spins cannot
//! do into loud errors, or hands errors over in their form, so tests on this host catch it.
//!
//! Here: the per-instance state, the WIT host traits, and the two traits they are written
//! against ([`Connector`], [`Session`]), so the guest-facing half is unit-tested with a scripted
//! stand-in and no server. Beside it: `pool` (the app-wide pools and the allowed-hosts check),
//! `sessions` (a pooled session and its prepared statements), `connection` (one resource's
//! session), `convert` (values across the boundary), `codec` (wire formats), `error`,
//! `spin_compat`, `tls`.

// The WIT `error` (with its `db-error` record) is large, and it is exactly
// what the guest receives, so it is passed by value as generated.
#![allow(clippy::result_large_err)]

mod codec;
mod connection;
mod convert;
mod error;
mod pool;
mod sessions;
mod spin_compat;
mod tls;

use std::future::Future;
use std::sync::Arc;

use anyhow::Result;
use wasmtime::component::{HasSelf, Linker, Resource};

pub use self::connection::Connection;
pub use self::pool::DEFAULT_POOL_SIZE;
use self::pool::Pools;
pub use self::sessions::{DEFAULT_STATEMENT_MAX_AGE, StatementCache};
use crate::capabilities::bindings::spin::postgres::postgres as wit;
use crate::capabilities::connections::Connections;
use crate::capabilities::store::InstanceState;
use crate::capabilities::{Capability, InstanceField, Prepare};
use crate::grants::allowed_hosts::AllowedHosts;
use crate::manifest::spin_compat::SpinCompat;
use wit::{Error, ParameterValue, RowSet};

/// Per-instance Postgres state (it lives in the store data).
pub type PostgresInstance = Connections<Postgres, Connection>;

/// What the WIT host needs to open a connection: the pools ([`Postgres`]) when serving.
pub trait Connector: Send + Sync + 'static {
    type Session: Session;

    /// A session on `address`, if `allowed_hosts` lets the component reach every host it names.
    fn connect(
        &self,
        allowed_hosts: &AllowedHosts,
        address: &str,
    ) -> impl Future<Output = Result<Self::Session, Error>> + Send;
}

/// What the WIT host needs of one open connection: a pooled [`Connection`] when serving. What
/// becomes of the session when the guest drops its handle is the session's own `Drop`.
pub trait Session: Send + 'static {
    /// Runs a statement that returns rows.
    fn query(
        &mut self,
        sql: &str,
        params: &[ParameterValue],
    ) -> impl Future<Output = Result<RowSet, Error>> + Send;

    /// Runs a statement; the number of rows it affected.
    fn execute(
        &mut self,
        sql: &str,
        params: &[ParameterValue],
    ) -> impl Future<Output = Result<u64, Error>> + Send;
}

impl Connector for Postgres {
    type Session = Connection;

    async fn connect(
        &self,
        allowed_hosts: &AllowedHosts,
        address: &str,
    ) -> Result<Connection, Error> {
        Postgres::connect(self, allowed_hosts, address).await
    }
}

impl Session for Connection {
    async fn query(&mut self, sql: &str, params: &[ParameterValue]) -> Result<RowSet, Error> {
        Connection::query(self, sql, params).await
    }

    async fn execute(&mut self, sql: &str, params: &[ParameterValue]) -> Result<u64, Error> {
        Connection::execute(self, sql, params).await
    }
}

/// App-wide Postgres state: the pools (`pool.rs`), shared by every instance.
#[derive(Clone)]
pub struct Postgres {
    pools: Arc<Pools>,
}

impl Postgres {
    /// With the default pool size (tests; the host sizes its pools from `--postgres-pool-size`).
    #[cfg(test)]
    pub fn new(compat: Option<SpinCompat>) -> Self {
        Self::with_pool(compat, DEFAULT_POOL_SIZE, StatementCache::default())
    }

    /// With at most `pool_size` (at least 1) server connections per connection string, each
    /// keeping its prepared statements as `statements` says.
    pub fn with_pool(
        compat: Option<SpinCompat>,
        pool_size: usize,
        statements: StatementCache,
    ) -> Self {
        let pools = Pools::new(compat, pool_size, statements);
        Postgres {
            pools: Arc::new(pools),
        }
    }

    /// Pool use per connection string (password removed), for metrics.
    pub fn pool_status(&self) -> Vec<(String, deadpool::Status)> {
        self.pools.status()
    }

    /// Opens a connection for a component: checks `address` against its allowed hosts, then
    /// takes a client from the address's pool.
    pub async fn connect(
        &self,
        allowed_hosts: &AllowedHosts,
        address: &str,
    ) -> Result<Connection, Error> {
        self.pools.connect(allowed_hosts, address).await
    }

    /// Per-instance state for a component with these allowed outbound hosts.
    pub fn instance(&self, allowed_hosts: Arc<AllowedHosts>) -> PostgresInstance {
        Connections::new(self.clone(), allowed_hosts)
    }
}

/// The Postgres capability's configuration (`up`'s flags).
pub struct PostgresConfig {
    /// `--spin-compat`: the released Spins' Postgres rules.
    pub compat: Option<SpinCompat>,
    /// `--postgres-pool-size`: server connections per connection string.
    pub pool_size: usize,
    /// `--postgres-statement-max-age-ms` and the cache's bound.
    pub statements: StatementCache,
}

impl Default for PostgresConfig {
    fn default() -> Self {
        PostgresConfig {
            compat: None,
            pool_size: DEFAULT_POOL_SIZE,
            statements: StatementCache::default(),
        }
    }
}

impl Capability for Postgres {
    type Config = PostgresConfig;
    type Instance = PostgresInstance;

    /// Links `spin:postgres/postgres@4.0.0`.
    fn add_to_linker(linker: &mut Linker<InstanceState>, field: InstanceField<Self>) -> Result<()> {
        Ok(wit::add_to_linker::<_, HasSelf<_>>(linker, field)?)
    }

    fn configure_app(config: PostgresConfig) -> Result<Postgres> {
        Ok(Postgres::with_pool(
            config.compat,
            config.pool_size,
            config.statements,
        ))
    }

    fn prepare(&self, cx: &Prepare<'_>) -> Result<PostgresInstance> {
        Ok(self.instance(cx.grants.allowed_hosts.clone()))
    }
}

type Answer<T> = crate::capabilities::connections::Answer<T, Error>;
type Params = Vec<ParameterValue>;

/// The guest's handle on one of its connections.
type Handle = Resource<wit::Connection>;

impl<P: Connector> wit::Host for Connections<P, P::Session> {}

impl<P: Connector> wit::HostConnection for Connections<P, P::Session> {
    async fn open(&mut self, address: String) -> Answer<Handle> {
        let (postgres, allowed_hosts) = self.connector();
        let opened = Connector::connect(postgres, allowed_hosts, &address).await;
        self.opened(opened)
    }

    async fn drop(&mut self, connection: Handle) -> wasmtime::Result<()> {
        self.close(connection)
    }

    async fn query(&mut self, c: Handle, sql: String, p: Params) -> Answer<RowSet> {
        Ok(Session::query(self.connection(&c)?, &sql, &p).await)
    }

    async fn execute(&mut self, c: Handle, sql: String, p: Params) -> Answer<u64> {
        Ok(Session::execute(self.connection(&c)?, &sql, &p).await)
    }
}

/// The message of an open refused for its host: the WIT `connection-failed`, not a trap and not
/// a handle.
#[cfg(test)]
fn refusal(opened: Answer<Handle>) -> String {
    let Ok(Err(Error::ConnectionFailed(message))) = opened else {
        panic!("expected connection-failed, not a trap or a handle: {opened:?}");
    };
    assert!(
        message.contains("not allowed by allowed_outbound_hosts"),
        "{message}"
    );
    message
}

/// Fixtures against the real Postgres at 127.0.0.1:5432 (database `postgres`, trust auth).
#[cfg(test)]
mod test_db {
    use std::sync::Arc;

    use super::{Connection, Postgres, RowSet};
    use crate::grants::allowed_hosts::AllowedHosts;
    use crate::manifest::spin_compat::SpinCompat;

    pub(super) const DATABASE: &str = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable";

    pub(super) fn local_hosts() -> Arc<AllowedHosts> {
        Arc::new(AllowedHosts::parse(&["postgres://127.0.0.1:5432".to_string()]).unwrap())
    }

    /// A session-local table `t` whose primary key already holds 1 (so inserting 1 again is a
    /// unique violation).
    pub(super) async fn holding_id_1(conn: &mut Connection) {
        conn.execute("CREATE TEMP TABLE t (id int PRIMARY KEY)", &[])
            .await
            .unwrap();
        conn.execute("INSERT INTO t VALUES (1)", &[]).await.unwrap();
    }

    pub(super) async fn connect(compat: Option<SpinCompat>) -> Connection {
        Postgres::new(compat)
            .connect(&local_hosts(), DATABASE)
            .await
            .expect("local Postgres at 127.0.0.1:5432 (trust auth) must be running")
    }

    /// What `sql` returns on a fresh connection without Spin-compat.
    pub(super) async fn rows_of(sql: &str) -> RowSet {
        connect(None).await.query(sql, &[]).await.unwrap()
    }
}

#[cfg(test)]
mod tests {
    use super::test_db::{DATABASE, local_hosts};
    use super::*;
    use crate::manifest::spin_compat::{SpinCompat, SpinRelease};
    use wit::{DbValue, HostConnection as _};

    #[tokio::test]
    async fn denied_host_is_a_connection_error_not_a_trap() {
        let postgres = Postgres::new(None);
        let allowed =
            Arc::new(AllowedHosts::parse(&["postgres://db.example.com".to_string()]).unwrap());
        let mut instance = postgres.instance(allowed);
        let message = refusal(instance.open(DATABASE.to_string()).await);
        assert!(message.contains("postgres://127.0.0.1:5432"), "{message}");
        // Nothing was set up for the denied address.
        assert!(postgres.pool_status().is_empty());
    }

    #[tokio::test]
    async fn instance_open_query_execute_and_drop_through_the_wit_trait() {
        let postgres = Postgres::new(Some(SpinCompat::only(SpinRelease::V4_0_2)));
        let mut instance = postgres.instance(local_hosts());
        let conn = instance.open(DATABASE.to_string()).await.unwrap().unwrap();
        let borrowed = || Resource::new_borrow(conn.rep());
        let forty_one = || vec![ParameterValue::Int32(41)];
        let count = instance.execute(borrowed(), "SELECT $1::int4 + 1".into(), forty_one());
        assert_eq!(count.await.unwrap().unwrap(), 1);
        let sql = "SELECT $1::int4 + 1 AS answer";
        let rows = instance.query(borrowed(), sql.into(), forty_one()).await;
        assert_eq!(rows.unwrap().unwrap().rows, vec![vec![DbValue::Int32(42)]]);
        wit::HostConnection::drop(&mut instance, conn)
            .await
            .unwrap();
        // The client went back to the pool and is reused by the next open.
        let again = instance.open(DATABASE.to_string()).await.unwrap().unwrap();
        let status = &postgres.pool_status()[0].1;
        assert_eq!(status.size, 1, "{status:?}");
        wit::HostConnection::drop(&mut instance, again)
            .await
            .unwrap();
    }
}

/// The guest-facing half against a scripted stand-in for the pools: no server. What it is sent
/// and what it closes is logged, so a test sees which session each handle reached.
#[cfg(test)]
mod scripted {
    use std::sync::{Arc, Mutex};

    use super::*;
    use crate::grants::allowed_hosts::AllowedHosts;
    use wit::{Column, DbDataType, DbValue, HostConnection as _};

    /// Opens numbered sessions, refusing an address that is not an allowed host's.
    #[derive(Clone, Default)]
    struct Scripted {
        log: Arc<Mutex<Vec<String>>>,
    }

    struct ScriptedSession {
        number: i32,
        log: Arc<Mutex<Vec<String>>>,
    }

    impl Scripted {
        fn note(&self, line: String) {
            self.log.lock().unwrap().push(line);
        }

        fn log(&self) -> Vec<String> {
            self.log.lock().unwrap().clone()
        }
    }

    impl Connector for Scripted {
        type Session = ScriptedSession;

        async fn connect(
            &self,
            allowed: &AllowedHosts,
            address: &str,
        ) -> Result<Self::Session, Error> {
            let host = address.trim_start_matches("postgres://");
            if !allowed.allows("postgres", host, 5432) {
                return Err(Error::ConnectionFailed(
                    allowed.refusal("postgres", host, 5432),
                ));
            }
            let number = self.log().iter().filter(|l| l.starts_with("open")).count() as i32 + 1;
            self.note(format!("open {number} {host}"));
            Ok(ScriptedSession {
                number,
                log: self.log.clone(),
            })
        }
    }

    impl ScriptedSession {
        fn run(&self, verb: &str, sql: &str) -> Result<(), Error> {
            self.log
                .lock()
                .unwrap()
                .push(format!("{verb} {} {sql}", self.number));
            match sql {
                "fail" => Err(Error::Other(format!("session {} failed", self.number))),
                _ => Ok(()),
            }
        }
    }

    impl Session for ScriptedSession {
        /// One row: the session's number and how many parameters it was sent.
        async fn query(&mut self, sql: &str, params: &[ParameterValue]) -> Result<RowSet, Error> {
            self.run("query", sql)?;
            Ok(RowSet {
                columns: vec![Column {
                    name: "n".into(),
                    data_type: DbDataType::Int32,
                }],
                rows: vec![vec![
                    DbValue::Int32(self.number),
                    DbValue::Int32(params.len() as i32),
                ]],
            })
        }

        /// As many rows as the session's number.
        async fn execute(&mut self, sql: &str, _: &[ParameterValue]) -> Result<u64, Error> {
            self.run("execute", sql)?;
            Ok(self.number as u64)
        }
    }

    impl Drop for ScriptedSession {
        fn drop(&mut self) {
            let line = format!("close {}", self.number);
            self.log.lock().unwrap().push(line);
        }
    }

    fn instance() -> (Scripted, Connections<Scripted, ScriptedSession>) {
        let allowed =
            AllowedHosts::parse(&["postgres://db".to_string(), "postgres://other".to_string()]);
        let scripted = Scripted::default();
        let instance = Connections::new(scripted.clone(), Arc::new(allowed.unwrap()));
        (scripted, instance)
    }

    /// A handle on a new session to `address`, an allowed host.
    async fn open(instance: &mut Connections<Scripted, ScriptedSession>, address: &str) -> Handle {
        instance.open(address.into()).await.unwrap().unwrap()
    }

    fn borrow(handle: &Handle) -> Handle {
        Resource::new_borrow(handle.rep())
    }

    #[tokio::test]
    async fn each_handle_reaches_the_session_it_opened_and_its_drop_closes_only_that_one() {
        let (scripted, mut instance) = instance();
        let first = open(&mut instance, "postgres://db").await;
        let second = open(&mut instance, "postgres://other").await;
        let params = vec![ParameterValue::Int32(1), ParameterValue::Str("x".into())];
        let rows = instance
            .query(borrow(&second), "SELECT".into(), params)
            .await;
        assert_eq!(
            rows.unwrap().unwrap().rows,
            vec![vec![DbValue::Int32(2), DbValue::Int32(2)]]
        );
        let count = instance
            .execute(borrow(&first), "UPDATE".into(), vec![])
            .await;
        assert_eq!(count.unwrap().unwrap(), 1);
        wit::HostConnection::drop(&mut instance, first)
            .await
            .unwrap();
        let count = instance
            .execute(borrow(&second), "DELETE".into(), vec![])
            .await;
        assert_eq!(count.unwrap().unwrap(), 2);
        assert_eq!(
            scripted.log(),
            [
                "open 1 db",
                "open 2 other",
                "query 2 SELECT",
                "execute 1 UPDATE",
                "close 1",
                "execute 2 DELETE"
            ]
        );
    }

    #[tokio::test]
    async fn a_refused_open_is_the_wit_error_and_opens_nothing() {
        let (scripted, mut instance) = instance();
        refusal(instance.open("postgres://elsewhere".into()).await);
        assert!(scripted.log().is_empty());
    }

    #[tokio::test]
    async fn a_failed_statement_is_the_wit_error_and_the_connection_stays_usable() {
        let (_, mut instance) = instance();
        let conn = open(&mut instance, "postgres://db").await;
        let failed = instance.query(borrow(&conn), "fail".into(), vec![]).await;
        assert!(
            matches!(&failed, Ok(Err(Error::Other(m))) if m == "session 1 failed"),
            "{failed:?}"
        );
        let failed = instance.execute(borrow(&conn), "fail".into(), vec![]).await;
        assert!(matches!(failed, Ok(Err(Error::Other(_)))), "{failed:?}");
        let count = instance
            .execute(borrow(&conn), "UPDATE".into(), vec![])
            .await;
        assert_eq!(count.unwrap().unwrap(), 1);
    }

    #[tokio::test]
    async fn a_dropped_handle_is_a_trap_not_another_sessions_answer() {
        let (scripted, mut instance) = instance();
        let conn = open(&mut instance, "postgres://db").await;
        let stale = borrow(&conn);
        wit::HostConnection::drop(&mut instance, conn)
            .await
            .unwrap();
        assert!(
            instance
                .query(stale, "SELECT".into(), vec![])
                .await
                .is_err()
        );
        assert_eq!(scripted.log(), ["open 1 db", "close 1"]);
    }

    #[tokio::test]
    async fn ending_the_instance_closes_every_session_left_open() {
        let (scripted, mut instance) = instance();
        for _ in 0..3 {
            open(&mut instance, "postgres://db").await;
        }
        drop(instance);
        let mut closed: Vec<String> = scripted
            .log()
            .into_iter()
            .filter(|l| l.starts_with("close"))
            .collect();
        closed.sort();
        assert_eq!(closed, ["close 1", "close 2", "close 3"]);
    }
}
