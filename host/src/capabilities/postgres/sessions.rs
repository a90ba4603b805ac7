//! Pooled sessions with their prepared statements (issue 26, item 3): a host property, not a
//! Spin one. Spin's pg4 prepares each statement anew (a `Parse` and its planning, one round trip
//! more); here each pooled session keeps the statements it prepared, keyed by their text, so a
//! hot statement costs one round trip (`Bind`/`Execute`) and Postgres may reuse its plan (its
//! plan cache picks a generic plan after five executions when that plan is no dearer).
//!
//! Bounded: at most [`STATEMENTS_PER_SESSION`] per session, the least recently used closed on
//! the server when a new one needs room (a guest that sends ever-new texts costs a `Parse` each,
//! as on Spin, and no memory). Dropped with the session: a closed session takes its statements
//! along. Kept for at most `--postgres-statement-max-age-ms` (30 s): Postgres replans a
//! statement's generic plan only when an ANALYZE or DDL invalidates it, so a plan chosen while
//! a table was nearly empty (any plan is cheap then, a scan of a whole partial index included)
//! would otherwise be reused while the table grows, for as long as statistics are not
//! refreshed (autovacuum off or behind). A statement past its age is prepared again, and
//! planned from the table's size now (issue 26: on a server without autovacuum, the soak's walk
//! kept such a plan while its throughput fell by two thirds).
//!
//! A statement Postgres can no longer run as prepared (its result columns changed under it:
//! `ALTER TABLE` while serving) is forgotten, and run again once, freshly prepared, when no
//! transaction is open (inside one, the error aborts the transaction, as any error does).

use std::sync::Mutex;
use std::time::{Duration, Instant};

use deadpool::managed::{self, Metrics, RecycleResult};
use hashlink::LruCache;
use tokio_postgres::error::SqlState;
use tokio_postgres::{Client, Statement};

/// Prepared statements a pooled session keeps.
pub const STATEMENTS_PER_SESSION: usize = 256;
/// How long a kept statement is reused, unless `--postgres-statement-max-age-ms` says otherwise.
pub const DEFAULT_STATEMENT_MAX_AGE: Duration = Duration::from_secs(30);

/// How pooled sessions keep statements.
#[derive(Clone, Copy, Debug)]
pub struct StatementCache {
    /// Statements per session (least recently used closed first).
    pub capacity: usize,
    /// A statement older than this is prepared again.
    pub max_age: Duration,
}

impl Default for StatementCache {
    fn default() -> Self {
        StatementCache {
            capacity: STATEMENTS_PER_SESSION,
            max_age: DEFAULT_STATEMENT_MAX_AGE,
        }
    }
}

/// One pooled session: the client and the statements prepared on it (each with when).
pub struct Session {
    client: deadpool_postgres::ClientWrapper,
    statements: Mutex<LruCache<String, (Statement, Instant)>>,
    max_age: Duration,
}

impl Session {
    fn new(client: deadpool_postgres::ClientWrapper, cache: StatementCache) -> Session {
        Session {
            client,
            statements: Mutex::new(LruCache::new(cache.capacity.max(1))),
            max_age: cache.max_age,
        }
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    /// `sql` prepared on this session: the kept statement while it is younger than the max
    /// age, else a new one, kept.
    pub async fn prepare(&self, sql: &str) -> Result<Statement, tokio_postgres::Error> {
        {
            let mut kept = self.lock();
            match kept.get(sql) {
                Some((statement, at)) if at.elapsed() < self.max_age => {
                    return Ok(statement.clone());
                }
                // too old: closed on the server once its last clone drops
                Some(_) => drop(kept.remove(sql)),
                None => {}
            }
        }
        let statement = self.client.prepare(sql).await?;
        // An evicted statement is closed on the server when its last clone drops.
        self.lock()
            .insert(sql.to_string(), (statement.clone(), Instant::now()));
        Ok(statement)
    }

    /// Drop the kept statement for `sql`, if any (closed on the server once unused).
    pub fn forget(&self, sql: &str) {
        self.lock().remove(sql);
    }

    /// How many statements this session keeps.
    #[cfg(test)]
    pub fn kept(&self) -> usize {
        self.lock().len()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, LruCache<String, (Statement, Instant)>> {
        // The cache holds no invariant a panic could break halfway: use it as it is.
        self.statements
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// Whether `error` says a kept statement's plan no longer fits its tables (Postgres: "cached
/// plan must not change result type"): forget the statement and prepare it again.
pub fn stale_statement(error: &tokio_postgres::Error) -> bool {
    error.code() == Some(&SqlState::FEATURE_NOT_SUPPORTED)
        && error
            .as_db_error()
            .is_some_and(|e| e.message().contains("cached plan"))
}

/// deadpool-postgres's manager (connect, recycle) with a statement cache per session.
pub struct Sessions {
    inner: deadpool_postgres::Manager,
    cache: StatementCache,
}

impl Sessions {
    pub fn new(inner: deadpool_postgres::Manager, cache: StatementCache) -> Sessions {
        Sessions { inner, cache }
    }
}

impl managed::Manager for Sessions {
    type Type = Session;
    type Error = tokio_postgres::Error;

    async fn create(&self) -> Result<Session, tokio_postgres::Error> {
        let client = managed::Manager::create(&self.inner).await?;
        Ok(Session::new(client, self.cache))
    }

    async fn recycle(
        &self,
        session: &mut Session,
        metrics: &Metrics,
    ) -> RecycleResult<tokio_postgres::Error> {
        managed::Manager::recycle(&self.inner, &mut session.client, metrics).await
    }

    fn detach(&self, session: &mut Session) {
        managed::Manager::detach(&self.inner, &mut session.client);
    }
}

pub type Pool = managed::Pool<Sessions>;
pub type Pooled = managed::Object<Sessions>;
