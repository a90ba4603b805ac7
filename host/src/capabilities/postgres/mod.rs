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
//! Here: the per-instance state and the WIT host traits. Beside it: `pool` (the app-wide
//! pools and the allowed-hosts check), `sessions` (a pooled session and its prepared
//! statements), `connection` (one resource's session), `convert`
//! (values across the boundary), `codec` (wire formats), `error`, `spin_compat`, `tls`.

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

use std::sync::Arc;

use anyhow::Result;
use wasmtime::component::{HasSelf, Linker, Resource};

pub use self::connection::Connection;
pub use self::pool::{DEFAULT_POOL_SIZE, Postgres};
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

impl Postgres {
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

impl wit::Host for PostgresInstance {}

impl wit::HostConnection for PostgresInstance {
    async fn open(&mut self, address: String) -> Answer<Handle> {
        let (postgres, allowed_hosts) = self.connector();
        let opened = postgres.connect(allowed_hosts, &address).await;
        self.opened(opened)
    }

    async fn drop(&mut self, connection: Handle) -> wasmtime::Result<()> {
        self.close(connection)
    }

    async fn query(&mut self, c: Handle, sql: String, p: Params) -> Answer<RowSet> {
        Ok(self.connection(&c)?.query(&sql, &p).await)
    }

    async fn execute(&mut self, c: Handle, sql: String, p: Params) -> Answer<u64> {
        Ok(self.connection(&c)?.execute(&sql, &p).await)
    }
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
        let opened = instance.open(DATABASE.to_string()).await.expect("no trap");
        let Err(Error::ConnectionFailed(message)) = &opened else {
            panic!("expected connection-failed, got {opened:?}");
        };
        assert!(message.contains("postgres://127.0.0.1:5432"), "{message}");
        assert!(
            message.contains("not allowed by allowed_outbound_hosts"),
            "{message}"
        );
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
