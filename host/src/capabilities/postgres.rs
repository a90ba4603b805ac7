//! `spin:postgres/postgres@4.0.0`: pooled Postgres connections for guests.
//!
//! App-wide: one deadpool pool per connection string, created on first use
//! and shared by every instance. Per instance: the component's allowed hosts
//! and the table of `connection` resources it opened; each resource holds one
//! pooled client (so `BEGIN` ... `COMMIT` across calls stays on one session)
//! and gives it back when the guest drops it or the instance ends. Failures
//! are returned to the guest as the WIT `error`, never as a trap.
//!
//! Spin-compat mode ([`SpinCompat`]) turns what the released Spin cannot do
//! into loud errors, so tests on this host catch it.

// The WIT `error` (with its `db-error` record) is large, and it is exactly
// what the guest receives, so it is passed by value as generated.
#![allow(clippy::result_large_err)]

use std::collections::HashMap;
use std::error::Error as StdError;
use std::fmt;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::str::FromStr;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::{BufMut, BytesMut};
use chrono::{DateTime, Datelike, NaiveDate, NaiveDateTime, NaiveTime, Timelike, Utc};
use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod, Runtime};
use futures_util::TryStreamExt;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio_postgres::config::{Host as PgHost, SslMode};
use tokio_postgres::tls::{ChannelBinding, MakeTlsConnect, TlsConnect, TlsStream};
use tokio_postgres::types::{FromSql, IsNull, Kind, ToSql, Type, to_sql_checked};
use tokio_postgres::{NoTls, Row, Socket, Statement};
use wasmtime::component::{HasSelf, Linker, Resource, ResourceTable};

use crate::allowed_hosts::{AllowedHosts, redact};
use crate::capabilities::bindings::spin::postgres::postgres as wit;
use wit::{
    Column, DbDataType, DbError, DbValue, Error, ParameterValue, QueryError, RangeBoundKind, RowSet,
};

/// Connections per connection string.
const POOL_SIZE: usize = 32;
/// Establishing a new server connection (TCP, TLS, authentication).
const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);
/// Waiting for a pooled connection when all are busy.
const POOL_WAIT_TIMEOUT: Duration = Duration::from_secs(5);

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

    fn check_columns(self, statement: &Statement, sql: &str) -> Result<(), Error> {
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
    fn statement_failed(self, err: &tokio_postgres::Error) -> Error {
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
    fn flatten(self, err: Error) -> Error {
        Error::QueryFailed(QueryError::Text(err.to_string()))
    }

    /// Whether Spin 4.0.2 hands columns of `ty` over as typed values (its
    /// `convert_entry` list); a column of any other type (`json`, `name`, `"char"`,
    /// `oid`, ...) reaches the guest as `unsupported` raw bytes.
    fn decodes(self, ty: &Type) -> bool {
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

    fn check_rows(self, rows: &[Row], sql: &str) -> Result<(), Error> {
        if rows.is_empty() {
            return Err(self.violation(
                "query returned zero rows, which never returns on Spin 4.0.2 (spin#3671; make it return one row, e.g. SELECT (SELECT row_to_json(x) ...))",
                sql,
            ));
        }
        Ok(())
    }
}

/// App-wide Postgres state: the pools, shared by every instance.
#[derive(Clone)]
pub struct Postgres {
    shared: Arc<Shared>,
}

struct Shared {
    compat: Option<SpinCompat>,
    targets: Mutex<HashMap<String, Arc<Target>>>,
}

/// One connection string: where it points and its pool.
struct Target {
    endpoints: Vec<Endpoint>,
    pool: Pool,
    /// The connection string without its password, for messages.
    display: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Endpoint {
    Tcp { host: String, port: u16 },
    Unix,
}

impl Postgres {
    pub fn new(compat: Option<SpinCompat>) -> Self {
        Self {
            shared: Arc::new(Shared {
                compat,
                targets: Mutex::new(HashMap::new()),
            }),
        }
    }

    /// Per-instance state for a component with these allowed outbound hosts.
    pub fn instance(&self, allowed_hosts: Arc<AllowedHosts>) -> PostgresInstance {
        PostgresInstance {
            postgres: self.clone(),
            allowed_hosts,
            connections: ResourceTable::new(),
        }
    }

    /// Pool use per connection string (password removed), for metrics.
    #[cfg_attr(not(test), allow(dead_code))] // until the admin listener's /metrics reads it
    pub fn pool_status(&self) -> Vec<(String, deadpool_postgres::Status)> {
        let targets = self.shared.targets.lock().expect("postgres pools lock");
        targets
            .values()
            .map(|t| (t.display.clone(), t.pool.status()))
            .collect()
    }

    /// Opens a connection for a component: checks `address` against its
    /// allowed hosts, then takes a client from the address's pool.
    pub async fn connect(
        &self,
        allowed_hosts: &AllowedHosts,
        address: &str,
    ) -> Result<Connection, Error> {
        let target = self.target(address, allowed_hosts)?;
        let client = target
            .pool
            .get()
            .await
            .map_err(|e| connection_failed(&target.display, &e))?;
        Ok(Connection {
            client: Some(client),
            compat: self.shared.compat,
            in_transaction: false,
            running: false,
        })
    }

    /// The cached target for `address`, created (without any I/O) on first use.
    /// The allowed-hosts check runs on every call.
    fn target(&self, address: &str, allowed_hosts: &AllowedHosts) -> Result<Arc<Target>, Error> {
        let cached = self
            .shared
            .targets
            .lock()
            .expect("postgres pools lock")
            .get(address)
            .cloned();
        if let Some(target) = cached {
            check_allowed(&target.endpoints, allowed_hosts)?;
            return Ok(target);
        }

        let display = redact(address);
        let mut config: tokio_postgres::Config = address.parse().map_err(|e| {
            Error::ConnectionFailed(format!("invalid Postgres connection string {display}: {e}"))
        })?;
        let endpoints = endpoints(&config);
        check_allowed(&endpoints, allowed_hosts)?;
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(CONNECT_TIMEOUT);
        }
        // Spin 4.0.2 cleans a session before pooling it again (`RESET ALL`, `DISCARD TEMP`, ...):
        // under compat so do we, so a guest that relies on session state left by an earlier
        // request fails here as it would there.
        let manager_config = ManagerConfig {
            recycling_method: match self.shared.compat {
                Some(_) => RecyclingMethod::Clean,
                None => RecyclingMethod::Fast,
            },
        };
        let manager = match config.get_ssl_mode() {
            SslMode::Disable => Manager::from_config(config, NoTls, manager_config),
            _ => Manager::from_config(config, MakeRustlsConnect::new(), manager_config),
        };
        let pool = Pool::builder(manager)
            .max_size(POOL_SIZE)
            .runtime(Runtime::Tokio1)
            .wait_timeout(Some(POOL_WAIT_TIMEOUT))
            .create_timeout(Some(CONNECT_TIMEOUT + Duration::from_millis(500)))
            .recycle_timeout(Some(Duration::from_secs(1)))
            .build()
            .map_err(|e| {
                Error::ConnectionFailed(format!("cannot create a pool for {display}: {e}"))
            })?;
        let target = Arc::new(Target {
            endpoints,
            pool,
            display,
        });
        let mut targets = self.shared.targets.lock().expect("postgres pools lock");
        Ok(targets.entry(address.to_string()).or_insert(target).clone())
    }
}

/// Every address a connection with `config` may use, each with its port, as tokio-postgres
/// picks them (`connect.rs`): entry `i` dials `hostaddr[i]` when there is one (the `host` is then
/// only the TLS name), else `host[i]`; its port is `port[i]`, else the first port, else 5432.
/// Both the `host` and the `hostaddr` of an entry are listed, so neither can redirect the
/// connection past `allowed_outbound_hosts`.
fn endpoints(config: &tokio_postgres::Config) -> Vec<Endpoint> {
    let ports = config.get_ports();
    let hosts = config.get_hosts();
    let hostaddrs = config.get_hostaddrs();
    let port = |i: usize| ports.get(i).or(ports.first()).copied().unwrap_or(5432);
    let mut endpoints = Vec::new();
    for i in 0..hosts.len().max(hostaddrs.len()) {
        match hosts.get(i) {
            Some(PgHost::Tcp(host)) => endpoints.push(Endpoint::Tcp {
                host: host.clone(),
                port: port(i),
            }),
            #[cfg(unix)]
            Some(PgHost::Unix(_)) => endpoints.push(Endpoint::Unix),
            None => {}
        }
        if let Some(addr) = hostaddrs.get(i) {
            endpoints.push(Endpoint::Tcp {
                host: addr.to_string(),
                port: port(i),
            });
        }
    }
    // No host at all: tokio-postgres refuses to connect; so do we (`check_allowed`).
    endpoints
}

fn check_allowed(endpoints: &[Endpoint], allowed_hosts: &AllowedHosts) -> Result<(), Error> {
    if endpoints.is_empty() {
        return Err(Error::ConnectionFailed(
            "the Postgres connection string names no host".to_string(),
        ));
    }
    for endpoint in endpoints {
        match endpoint {
            Endpoint::Tcp { host, port } => {
                if !allowed_hosts.allows("postgres", host, *port) {
                    return Err(Error::ConnectionFailed(
                        allowed_hosts.refusal("postgres", host, *port),
                    ));
                }
            }
            Endpoint::Unix => {
                return Err(Error::ConnectionFailed(
                    "Unix-socket Postgres connections are not available to components; use a TCP host"
                        .to_string(),
                ));
            }
        }
    }
    Ok(())
}

/// Describes a failure to obtain a connection, with its causes.
fn connection_failed(target: &str, err: &dyn StdError) -> Error {
    let mut message = format!("cannot connect to {target}: {}", error_chain(err));
    if message.contains("certificate") || message.contains("TLS") {
        message.push_str(
            " (a server with a self-signed certificate needs sslmode=disable in the connection string)",
        );
    }
    Error::ConnectionFailed(message)
}

fn error_chain(err: &dyn StdError) -> String {
    let mut message = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        let text = cause.to_string();
        if !message.contains(&text) {
            message.push_str(": ");
            message.push_str(&text);
        }
        source = cause.source();
    }
    message
}

/// A server error as the WIT `db-error`, with Spin's `as-text` (the Debug text of
/// the tokio-postgres error). Panics on errors that are not server errors.
fn db_error(err: &tokio_postgres::Error) -> Error {
    let db = err.as_db_error().expect("a server error");
    {
        let mut extras = Vec::new();
        let mut extra = |name: &str, value: Option<&str>| {
            if let Some(value) = value {
                extras.push((name.to_string(), value.to_string()));
            }
        };
        extra("hint", db.hint());
        extra("schema", db.schema());
        extra("table", db.table());
        extra("column", db.column());
        extra("datatype", db.datatype());
        extra("constraint", db.constraint());
        extra("where", db.where_());
        extra("routine", db.routine());
        Error::QueryFailed(QueryError::DbError(DbError {
            as_text: format!("{err:?}"),
            severity: db.severity().to_string(),
            code: db.code().code().to_string(),
            message: db.message().to_string(),
            detail: db.detail().map(str::to_string),
            extras,
        }))
    }
}

/// Maps a statement failure to the WIT error; under Spin-compat, as that Spin does.
fn statement_failed(err: tokio_postgres::Error, compat: Option<SpinCompat>) -> Error {
    if let Some(compat) = compat {
        return compat.statement_failed(&err);
    }
    if err.as_db_error().is_some() {
        return db_error(&err);
    }
    let message = error_chain(&err);
    let kind = err.to_string();
    if err.is_closed()
        || [
            "error communicating with the server",
            "timeout waiting for server",
            "error connecting to server",
        ]
        .contains(&kind.as_str())
    {
        Error::ConnectionFailed(message)
    } else if kind.starts_with("error serializing parameter") {
        Error::BadParameter(message)
    } else if kind.starts_with("error deserializing column") {
        Error::ValueConversionFailed(message)
    } else {
        Error::QueryFailed(QueryError::Text(message))
    }
}

/// An open `connection` resource: one pooled client for the resource's life.
pub struct Connection {
    /// Always `Some` until drop.
    client: Option<deadpool_postgres::Object>,
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
            cancel_on_server(client.cancel_token());
            drop(deadpool_postgres::Object::take(client));
        } else if self.in_transaction {
            tracing::warn!(
                "pg4 connection dropped inside a transaction; closing it instead of pooling it"
            );
            drop(deadpool_postgres::Object::take(client));
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
    fn client(&self) -> &deadpool_postgres::Object {
        self.client.as_ref().expect("connection used after drop")
    }

    /// The guest's parameters converted for tokio-postgres, and the (cached) prepared statement.
    async fn prepare(
        &self,
        statement: &str,
        params: &[ParameterValue],
    ) -> Result<(tokio_postgres::Statement, Vec<SqlParam>), Error> {
        let params = to_sql_params(params)?;
        let prepared = self
            .client()
            .prepare_cached(statement)
            .await
            .map_err(|e| statement_failed(e, self.compat))?;
        Ok((prepared, params))
    }

    /// Runs a statement that returns rows.
    pub async fn query(
        &mut self,
        statement: &str,
        params: &[ParameterValue],
    ) -> Result<RowSet, Error> {
        self.running = true;
        let result = self.run_query(statement, params).await;
        self.running = false;
        result
    }

    async fn run_query(
        &mut self,
        statement: &str,
        params: &[ParameterValue],
    ) -> Result<RowSet, Error> {
        let (prepared, params) = self.prepare(statement, params).await?;
        if let Some(compat) = self.compat {
            compat.check_columns(&prepared, statement)?;
        }
        self.note_transaction_control(statement);
        // Binding fails before any row (as an error of its own); the statement's execution
        // fails while rows stream in, which Spin 4.0.2 flattens (see `SpinCompat::flatten`).
        let compat = self.compat;
        let stream = self
            .client()
            .query_raw(&prepared, param_refs(&params))
            .await
            .map_err(|e| statement_failed(e, compat))?;
        let rows: Vec<Row> = stream.try_collect().await.map_err(|e| match compat {
            Some(compat) => compat.flatten(compat.statement_failed(&e)),
            None => statement_failed(e, None),
        })?;
        self.note_success(statement);
        if let Some(compat) = self.compat {
            compat.check_rows(&rows, statement)?;
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

    /// Runs a statement and returns the number of rows it affected.
    pub async fn execute(
        &mut self,
        statement: &str,
        params: &[ParameterValue],
    ) -> Result<u64, Error> {
        self.running = true;
        let result = self.run_execute(statement, params).await;
        self.running = false;
        result
    }

    async fn run_execute(
        &mut self,
        statement: &str,
        params: &[ParameterValue],
    ) -> Result<u64, Error> {
        let (prepared, params) = self.prepare(statement, params).await?;
        self.note_transaction_control(statement);
        let count = self
            .client()
            .execute(&prepared, &param_refs(&params))
            .await
            .map_err(|e| statement_failed(e, self.compat))?;
        self.note_success(statement);
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

/// Per-instance Postgres state (`PostgresInstance` lives in the store data).
pub struct PostgresInstance {
    postgres: Postgres,
    allowed_hosts: Arc<AllowedHosts>,
    connections: ResourceTable,
}

/// Links `spin:postgres/postgres@4.0.0` into `linker`.
pub fn add_to_linker<T: Send + 'static>(
    linker: &mut Linker<T>,
    get: fn(&mut T) -> &mut PostgresInstance,
) -> wasmtime::Result<()> {
    wit::add_to_linker::<T, HasSelf<PostgresInstance>>(linker, get)
}

impl wit::Host for PostgresInstance {}

impl wit::HostConnection for PostgresInstance {
    async fn open(
        &mut self,
        address: String,
    ) -> wasmtime::Result<Result<Resource<Connection>, Error>> {
        let connection = match self.postgres.connect(&self.allowed_hosts, &address).await {
            Ok(connection) => connection,
            Err(err) => return Ok(Err(err)),
        };
        Ok(Ok(self.connections.push(connection)?))
    }

    async fn query(
        &mut self,
        connection: Resource<Connection>,
        statement: String,
        params: Vec<ParameterValue>,
    ) -> wasmtime::Result<Result<RowSet, Error>> {
        let connection = self.connections.get_mut(&connection)?;
        Ok(connection.query(&statement, &params).await)
    }

    async fn execute(
        &mut self,
        connection: Resource<Connection>,
        statement: String,
        params: Vec<ParameterValue>,
    ) -> wasmtime::Result<Result<u64, Error>> {
        let connection = self.connections.get_mut(&connection)?;
        Ok(connection.execute(&statement, &params).await)
    }

    async fn drop(&mut self, connection: Resource<Connection>) -> wasmtime::Result<()> {
        self.connections.delete(connection)?;
        Ok(())
    }
}

// ---------------------------------------------------------------------------
// Parameters: WIT parameter-value -> ToSql

type SqlParam = Box<dyn ToSql + Sync + Send>;

fn param_refs(params: &[SqlParam]) -> Vec<&(dyn ToSql + Sync)> {
    params
        .iter()
        .map(|p| p.as_ref() as &(dyn ToSql + Sync))
        .collect()
}

fn to_sql_params(params: &[ParameterValue]) -> Result<Vec<SqlParam>, Error> {
    params
        .iter()
        .enumerate()
        .map(|(i, p)| {
            to_sql_param(p).map_err(|e| Error::BadParameter(format!("parameter ${}: {e}", i + 1)))
        })
        .collect()
}

fn to_sql_param(value: &ParameterValue) -> Result<SqlParam, String> {
    Ok(match value {
        ParameterValue::Boolean(v) => Box::new(*v),
        ParameterValue::Int8(v) => Box::new(*v),
        ParameterValue::Int16(v) => Box::new(*v),
        ParameterValue::Int32(v) => Box::new(*v),
        ParameterValue::Int64(v) => Box::new(*v),
        ParameterValue::Floating32(v) => Box::new(*v),
        ParameterValue::Floating64(v) => Box::new(*v),
        ParameterValue::Str(v) => Box::new(v.clone()),
        ParameterValue::Binary(v) => Box::new(v.clone()),
        ParameterValue::Date(v) => Box::new(date_from_wit(*v)?),
        ParameterValue::Time(v) => Box::new(time_from_wit(*v)?),
        ParameterValue::Datetime(v) => Box::new(datetime_from_wit(*v)?),
        ParameterValue::Timestamp(secs) => Box::new(
            DateTime::<Utc>::from_timestamp(*secs, 0)
                .ok_or_else(|| format!("timestamp {secs} is out of range"))?,
        ),
        ParameterValue::Uuid(v) => {
            Box::new(uuid::Uuid::parse_str(v).map_err(|e| format!("invalid uuid {v:?}: {e}"))?)
        }
        ParameterValue::Jsonb(bytes) => Box::new(
            serde_json::from_slice::<serde_json::Value>(bytes)
                .map_err(|e| format!("invalid JSON: {e}"))?,
        ),
        ParameterValue::Decimal(v) => Box::new(Numeric::parse(v)?),
        ParameterValue::RangeInt32((lower, upper)) => Box::new(PgRange {
            lower: *lower,
            upper: *upper,
        }),
        ParameterValue::RangeInt64((lower, upper)) => Box::new(PgRange {
            lower: *lower,
            upper: *upper,
        }),
        ParameterValue::RangeDecimal((lower, upper)) => {
            let bound = |b: &Option<(String, RangeBoundKind)>| -> Result<_, String> {
                b.as_ref()
                    .map(|(v, k)| Ok((Numeric::parse(v)?, *k)))
                    .transpose()
            };
            Box::new(PgRange {
                lower: bound(lower)?,
                upper: bound(upper)?,
            })
        }
        ParameterValue::ArrayInt32(v) => Box::new(v.clone()),
        ParameterValue::ArrayInt64(v) => Box::new(v.clone()),
        ParameterValue::ArrayStr(v) => Box::new(v.clone()),
        ParameterValue::ArrayDecimal(v) => Box::new(
            v.iter()
                .map(|d| d.as_deref().map(Numeric::parse).transpose())
                .collect::<Result<Vec<_>, _>>()?,
        ),
        ParameterValue::Interval(i) => Box::new(PgInterval {
            micros: i.micros,
            days: i.days,
            months: i.months,
        }),
        ParameterValue::DbNull => Box::new(Null),
    })
}

fn date_from_wit((year, month, day): (i32, u8, u8)) -> Result<NaiveDate, String> {
    NaiveDate::from_ymd_opt(year, month.into(), day.into())
        .ok_or_else(|| format!("invalid date {year}-{month}-{day}"))
}

fn time_from_wit((hour, minute, second, nanos): (u8, u8, u8, u32)) -> Result<NaiveTime, String> {
    NaiveTime::from_hms_nano_opt(hour.into(), minute.into(), second.into(), nanos)
        .ok_or_else(|| format!("invalid time {hour}:{minute}:{second}.{nanos:09}"))
}

fn datetime_from_wit(
    (year, month, day, hour, minute, second, nanos): (i32, u8, u8, u8, u8, u8, u32),
) -> Result<NaiveDateTime, String> {
    Ok(NaiveDateTime::new(
        date_from_wit((year, month, day))?,
        time_from_wit((hour, minute, second, nanos))?,
    ))
}

// ---------------------------------------------------------------------------
// Results: column type and value -> WIT db-data-type and db-value

/// How a column's Postgres type crosses the boundary.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum ColumnKind {
    Boolean,
    Char,
    Int16,
    Int32,
    Int64,
    Float32,
    Float64,
    Text,
    Binary,
    Date,
    Time,
    Timestamp,
    Timestamptz,
    Uuid,
    Json,
    Numeric,
    RangeInt32,
    RangeInt64,
    RangeNumeric,
    ArrayInt32,
    ArrayInt64,
    ArrayNumeric,
    ArrayText,
    Interval,
    Unsupported,
}

fn column_kind(ty: &Type) -> ColumnKind {
    use ColumnKind as K;
    if <bool as FromSql>::accepts(ty) {
        K::Boolean
    } else if <i8 as FromSql>::accepts(ty) {
        K::Char
    } else if <i16 as FromSql>::accepts(ty) {
        K::Int16
    } else if <i32 as FromSql>::accepts(ty) {
        K::Int32
    } else if <i64 as FromSql>::accepts(ty) {
        K::Int64
    } else if <f32 as FromSql>::accepts(ty) {
        K::Float32
    } else if <f64 as FromSql>::accepts(ty) {
        K::Float64
    } else if <String as FromSql>::accepts(ty) {
        K::Text
    } else if <Vec<u8> as FromSql>::accepts(ty) {
        K::Binary
    } else if <NaiveDate as FromSql>::accepts(ty) {
        K::Date
    } else if <NaiveTime as FromSql>::accepts(ty) {
        K::Time
    } else if <NaiveDateTime as FromSql>::accepts(ty) {
        K::Timestamp
    } else if <DateTime<Utc> as FromSql>::accepts(ty) {
        K::Timestamptz
    } else if <uuid::Uuid as FromSql>::accepts(ty) {
        K::Uuid
    } else if <RawJson as FromSql>::accepts(ty) {
        K::Json
    } else if <Numeric as FromSql>::accepts(ty) {
        K::Numeric
    } else if <PgRange<i32> as FromSql>::accepts(ty) {
        K::RangeInt32
    } else if <PgRange<i64> as FromSql>::accepts(ty) {
        K::RangeInt64
    } else if <PgRange<Numeric> as FromSql>::accepts(ty) {
        K::RangeNumeric
    } else if <Vec<Option<i32>> as FromSql>::accepts(ty) {
        K::ArrayInt32
    } else if <Vec<Option<i64>> as FromSql>::accepts(ty) {
        K::ArrayInt64
    } else if <Vec<Option<Numeric>> as FromSql>::accepts(ty) {
        K::ArrayNumeric
    } else if <Vec<Option<String>> as FromSql>::accepts(ty) {
        K::ArrayText
    } else if <PgInterval as FromSql>::accepts(ty) {
        K::Interval
    } else {
        K::Unsupported
    }
}

fn data_type(ty: &Type) -> DbDataType {
    use ColumnKind as K;
    match column_kind(ty) {
        K::Boolean => DbDataType::Boolean,
        K::Char => DbDataType::Int8,
        K::Int16 => DbDataType::Int16,
        K::Int32 => DbDataType::Int32,
        K::Int64 => DbDataType::Int64,
        K::Float32 => DbDataType::Floating32,
        K::Float64 => DbDataType::Floating64,
        K::Text => DbDataType::Str,
        K::Binary => DbDataType::Binary,
        K::Date => DbDataType::Date,
        K::Time => DbDataType::Time,
        K::Timestamp | K::Timestamptz => DbDataType::Datetime,
        K::Uuid => DbDataType::Uuid,
        K::Json => DbDataType::Jsonb,
        K::Numeric => DbDataType::Decimal,
        K::RangeInt32 => DbDataType::RangeInt32,
        K::RangeInt64 => DbDataType::RangeInt64,
        K::RangeNumeric => DbDataType::RangeDecimal,
        K::ArrayInt32 => DbDataType::ArrayInt32,
        K::ArrayInt64 => DbDataType::ArrayInt64,
        K::ArrayNumeric => DbDataType::ArrayDecimal,
        K::ArrayText => DbDataType::ArrayStr,
        K::Interval => DbDataType::Interval,
        K::Unsupported => DbDataType::Other(ty.name().to_string()),
    }
}

fn convert_row(row: &Row, compat: Option<SpinCompat>) -> Result<Vec<DbValue>, Error> {
    (0..row.len())
        .map(|i| {
            let value = match compat {
                Some(compat) if !compat.decodes(row.columns()[i].type_()) => row
                    .try_get::<_, Option<RawValue>>(i)
                    .map(|raw| raw.map_or(DbValue::DbNull, |raw| DbValue::Unsupported(raw.0))),
                _ => convert_value(row, i),
            };
            value.map_err(|e| {
                Error::ValueConversionFailed(format!(
                    "column `{}` ({}): {}",
                    row.columns()[i].name(),
                    row.columns()[i].type_(),
                    error_chain(&e)
                ))
            })
        })
        .collect()
}

fn convert_value(row: &Row, i: usize) -> Result<DbValue, tokio_postgres::Error> {
    fn get<'a, T: FromSql<'a>>(
        row: &'a Row,
        i: usize,
        to_wit: impl FnOnce(T) -> DbValue,
    ) -> Result<DbValue, tokio_postgres::Error> {
        Ok(row
            .try_get::<_, Option<T>>(i)?
            .map_or(DbValue::DbNull, to_wit))
    }
    use ColumnKind as K;
    match column_kind(row.columns()[i].type_()) {
        K::Boolean => get(row, i, DbValue::Boolean),
        K::Char => get(row, i, DbValue::Int8),
        K::Int16 => get(row, i, DbValue::Int16),
        K::Int32 => get(row, i, DbValue::Int32),
        K::Int64 => get(row, i, DbValue::Int64),
        K::Float32 => get(row, i, DbValue::Floating32),
        K::Float64 => get(row, i, DbValue::Floating64),
        K::Text => get(row, i, DbValue::Str),
        K::Binary => get(row, i, DbValue::Binary),
        K::Date => get(row, i, |d: NaiveDate| DbValue::Date(date_to_wit(d))),
        K::Time => get(row, i, |t: NaiveTime| DbValue::Time(time_to_wit(t))),
        K::Timestamp => get(row, i, |dt: NaiveDateTime| {
            DbValue::Datetime(datetime_to_wit(dt))
        }),
        K::Timestamptz => get(row, i, |dt: DateTime<Utc>| {
            DbValue::Datetime(datetime_to_wit(dt.naive_utc()))
        }),
        K::Uuid => get(row, i, |u: uuid::Uuid| DbValue::Uuid(u.to_string())),
        K::Json => get(row, i, |j: RawJson| DbValue::Jsonb(j.0)),
        K::Numeric => get(row, i, |n: Numeric| DbValue::Decimal(n.0)),
        K::RangeInt32 => get(row, i, |r: PgRange<i32>| {
            DbValue::RangeInt32((r.lower, r.upper))
        }),
        K::RangeInt64 => get(row, i, |r: PgRange<i64>| {
            DbValue::RangeInt64((r.lower, r.upper))
        }),
        K::RangeNumeric => get(row, i, |r: PgRange<Numeric>| {
            DbValue::RangeDecimal((
                r.lower.map(|(n, k)| (n.0, k)),
                r.upper.map(|(n, k)| (n.0, k)),
            ))
        }),
        K::ArrayInt32 => get(row, i, DbValue::ArrayInt32),
        K::ArrayInt64 => get(row, i, DbValue::ArrayInt64),
        K::ArrayNumeric => get(row, i, |v: Vec<Option<Numeric>>| {
            DbValue::ArrayDecimal(v.into_iter().map(|n| n.map(|n| n.0)).collect())
        }),
        K::ArrayText => get(row, i, DbValue::ArrayStr),
        K::Interval => get(row, i, |v: PgInterval| {
            DbValue::Interval(wit::Interval {
                micros: v.micros,
                days: v.days,
                months: v.months,
            })
        }),
        K::Unsupported => get(row, i, |raw: RawValue| DbValue::Unsupported(raw.0)),
    }
}

fn date_to_wit(d: NaiveDate) -> (i32, u8, u8) {
    (d.year(), d.month() as u8, d.day() as u8)
}

fn time_to_wit(t: NaiveTime) -> (u8, u8, u8, u32) {
    (
        t.hour() as u8,
        t.minute() as u8,
        t.second() as u8,
        t.nanosecond(),
    )
}

fn datetime_to_wit(dt: NaiveDateTime) -> (i32, u8, u8, u8, u8, u8, u32) {
    let (year, month, day) = date_to_wit(dt.date());
    let (hour, minute, second, nanos) = time_to_wit(dt.time());
    (year, month, day, hour, minute, second, nanos)
}

// ---------------------------------------------------------------------------
// Wire formats tokio-postgres does not provide

type BoxError = Box<dyn StdError + Sync + Send>;

/// SQL NULL for a parameter of any type.
#[derive(Debug)]
struct Null;

impl ToSql for Null {
    fn to_sql(&self, _: &Type, _: &mut BytesMut) -> Result<IsNull, BoxError> {
        Ok(IsNull::Yes)
    }

    fn accepts(_: &Type) -> bool {
        true
    }

    to_sql_checked!();
}

/// The raw bytes of a value of a type this host does not convert.
struct RawValue(Vec<u8>);

impl<'a> FromSql<'a> for RawValue {
    fn from_sql(_: &Type, raw: &'a [u8]) -> Result<Self, BoxError> {
        Ok(RawValue(raw.to_vec()))
    }

    fn accepts(_: &Type) -> bool {
        true
    }
}

/// `json`/`jsonb` as its UTF-8 text, without a parse and re-serialization.
struct RawJson(Vec<u8>);

impl<'a> FromSql<'a> for RawJson {
    fn from_sql(ty: &Type, raw: &'a [u8]) -> Result<Self, BoxError> {
        if *ty == Type::JSONB {
            match raw.split_first() {
                Some((1, json)) => Ok(RawJson(json.to_vec())),
                _ => Err("unsupported jsonb wire format version".into()),
            }
        } else {
            Ok(RawJson(raw.to_vec()))
        }
    }

    fn accepts(ty: &Type) -> bool {
        *ty == Type::JSON || *ty == Type::JSONB
    }
}

/// `interval` on the wire: microseconds, days, months.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct PgInterval {
    micros: i64,
    days: i32,
    months: i32,
}

impl<'a> FromSql<'a> for PgInterval {
    fn from_sql(_: &Type, raw: &'a [u8]) -> Result<Self, BoxError> {
        let raw: &[u8; 16] = raw.try_into().map_err(|_| "interval is not 16 bytes")?;
        Ok(PgInterval {
            micros: i64::from_be_bytes(raw[0..8].try_into()?),
            days: i32::from_be_bytes(raw[8..12].try_into()?),
            months: i32::from_be_bytes(raw[12..16].try_into()?),
        })
    }

    fn accepts(ty: &Type) -> bool {
        *ty == Type::INTERVAL
    }
}

impl ToSql for PgInterval {
    fn to_sql(&self, _: &Type, out: &mut BytesMut) -> Result<IsNull, BoxError> {
        out.put_i64(self.micros);
        out.put_i32(self.days);
        out.put_i32(self.months);
        Ok(IsNull::No)
    }

    fn accepts(ty: &Type) -> bool {
        *ty == Type::INTERVAL
    }

    to_sql_checked!();
}

/// `numeric` as exact decimal text (any precision, `NaN`, `Infinity`).
#[derive(Clone, Debug, PartialEq, Eq)]
struct Numeric(String);

const NUMERIC_POS: u16 = 0x0000;
const NUMERIC_NEG: u16 = 0x4000;
const NUMERIC_NAN: u16 = 0xC000;
const NUMERIC_PINF: u16 = 0xD000;
const NUMERIC_NINF: u16 = 0xF000;

impl Numeric {
    /// Validates decimal text: `[+-]digits[.digits]`, `NaN`, `[+-]Infinity`.
    fn parse(text: &str) -> Result<Numeric, String> {
        encode_numeric(text, &mut BytesMut::new())?;
        Ok(Numeric(text.trim().to_string()))
    }
}

impl<'a> FromSql<'a> for Numeric {
    fn from_sql(_: &Type, raw: &'a [u8]) -> Result<Self, BoxError> {
        Ok(Numeric(decode_numeric(raw)?))
    }

    fn accepts(ty: &Type) -> bool {
        *ty == Type::NUMERIC
    }
}

impl ToSql for Numeric {
    fn to_sql(&self, _: &Type, out: &mut BytesMut) -> Result<IsNull, BoxError> {
        encode_numeric(&self.0, out)?;
        Ok(IsNull::No)
    }

    fn accepts(ty: &Type) -> bool {
        *ty == Type::NUMERIC
    }

    to_sql_checked!();
}

fn decode_numeric(raw: &[u8]) -> Result<String, String> {
    let word = |i: usize| -> Result<u16, String> {
        raw.get(i * 2..i * 2 + 2)
            .map(|b| u16::from_be_bytes([b[0], b[1]]))
            .ok_or_else(|| "truncated numeric".to_string())
    };
    let ndigits = word(0)? as usize;
    let weight = word(1)? as i16 as i64;
    let sign = word(2)?;
    let dscale = word(3)? as usize;
    let digits = (0..ndigits)
        .map(|i| word(4 + i))
        .collect::<Result<Vec<u16>, _>>()?;
    match sign {
        NUMERIC_NAN => return Ok("NaN".to_string()),
        NUMERIC_PINF => return Ok("Infinity".to_string()),
        NUMERIC_NINF => return Ok("-Infinity".to_string()),
        NUMERIC_POS | NUMERIC_NEG => {}
        other => return Err(format!("invalid numeric sign {other:#x}")),
    }
    // digits[i] is the base-10000 digit of weight `weight - i`.
    let digit = |exponent: i64| -> u16 {
        let index = weight - exponent;
        if index >= 0 && (index as usize) < digits.len() {
            digits[index as usize]
        } else {
            0
        }
    };
    let mut text = String::new();
    if sign == NUMERIC_NEG && digits.iter().any(|&d| d != 0) {
        text.push('-');
    }
    if weight < 0 {
        text.push('0');
    } else {
        text.push_str(&digit(weight).to_string());
        for exponent in (0..weight).rev() {
            text.push_str(&format!("{:04}", digit(exponent)));
        }
    }
    if dscale > 0 {
        let mut fraction = String::new();
        let mut exponent = -1;
        while fraction.len() < dscale {
            fraction.push_str(&format!("{:04}", digit(exponent)));
            exponent -= 1;
        }
        fraction.truncate(dscale);
        text.push('.');
        text.push_str(&fraction);
    }
    Ok(text)
}

fn encode_numeric(text: &str, out: &mut BytesMut) -> Result<(), String> {
    let header = |out: &mut BytesMut, ndigits: u16, weight: i16, sign: u16, dscale: u16| {
        out.put_u16(ndigits);
        out.put_i16(weight);
        out.put_u16(sign);
        out.put_u16(dscale);
    };
    let trimmed = text.trim();
    match trimmed.to_ascii_lowercase().as_str() {
        "nan" => {
            header(out, 0, 0, NUMERIC_NAN, 0);
            return Ok(());
        }
        "infinity" | "+infinity" | "inf" | "+inf" => {
            header(out, 0, 0, NUMERIC_PINF, 0);
            return Ok(());
        }
        "-infinity" | "-inf" => {
            header(out, 0, 0, NUMERIC_NINF, 0);
            return Ok(());
        }
        _ => {}
    }
    let invalid = || format!("invalid decimal {text:?}");
    let (negative, unsigned) = match trimmed.as_bytes().first() {
        Some(b'-') => (true, &trimmed[1..]),
        Some(b'+') => (false, &trimmed[1..]),
        _ => (false, trimmed),
    };
    let (int_part, frac_part) = unsigned.split_once('.').unwrap_or((unsigned, ""));
    if (int_part.is_empty() && frac_part.is_empty())
        || !int_part.bytes().all(|b| b.is_ascii_digit())
        || !frac_part.bytes().all(|b| b.is_ascii_digit())
    {
        return Err(invalid());
    }
    let dscale = u16::try_from(frac_part.len())
        .ok()
        .filter(|&s| s <= 0x3FFF)
        .ok_or_else(invalid)?;
    let int_part = int_part.trim_start_matches('0');
    let int_padded = format!("{}{int_part}", "0".repeat((4 - int_part.len() % 4) % 4));
    let frac_padded = format!("{frac_part}{}", "0".repeat((4 - frac_part.len() % 4) % 4));
    let group = |chunk: &[u8]| -> u16 {
        chunk
            .iter()
            .fold(0u16, |acc, b| acc * 10 + u16::from(b - b'0'))
    };
    let int_groups: Vec<u16> = int_padded.as_bytes().chunks(4).map(group).collect();
    let mut weight = int_groups.len() as i64 - 1;
    let mut groups: Vec<u16> = int_groups;
    groups.extend(frac_padded.as_bytes().chunks(4).map(group));
    let leading = groups.iter().take_while(|&&d| d == 0).count();
    groups.drain(..leading);
    weight -= leading as i64;
    while groups.last() == Some(&0) {
        groups.pop();
    }
    let sign = if groups.is_empty() {
        weight = 0;
        NUMERIC_POS
    } else if negative {
        NUMERIC_NEG
    } else {
        NUMERIC_POS
    };
    let weight = i16::try_from(weight).map_err(|_| invalid())?;
    let ndigits = u16::try_from(groups.len()).map_err(|_| invalid())?;
    header(out, ndigits, weight, sign, dscale);
    for d in groups {
        out.put_u16(d);
    }
    Ok(())
}

/// A range (`int4range`, `int8range`, `numrange`); `None` is an unbounded
/// side. An empty range reads as `(None, None)` like Spin's.
#[derive(Clone, Debug, PartialEq)]
struct PgRange<T> {
    lower: Option<(T, RangeBoundKind)>,
    upper: Option<(T, RangeBoundKind)>,
}

const RANGE_EMPTY: u8 = 0x01;
const RANGE_LB_INC: u8 = 0x02;
const RANGE_UB_INC: u8 = 0x04;
const RANGE_LB_INF: u8 = 0x08;
const RANGE_UB_INF: u8 = 0x10;

fn range_element(ty: &Type) -> Option<&Type> {
    match ty.kind() {
        Kind::Range(element) => Some(element),
        _ => None,
    }
}

impl<'a, T: FromSql<'a>> FromSql<'a> for PgRange<T> {
    fn from_sql(ty: &Type, raw: &'a [u8]) -> Result<Self, BoxError> {
        let element = range_element(ty).ok_or("not a range type")?;
        let (&flags, mut rest) = raw.split_first().ok_or("empty range value")?;
        if flags & RANGE_EMPTY != 0 {
            return Ok(PgRange {
                lower: None,
                upper: None,
            });
        }
        let mut bound =
            |present: bool, inclusive: bool| -> Result<Option<(T, RangeBoundKind)>, BoxError> {
                if !present {
                    return Ok(None);
                }
                let (len, tail) = rest.split_at_checked(4).ok_or("truncated range bound")?;
                let len = i32::from_be_bytes(len.try_into()?) as usize;
                let (value, tail) = tail.split_at_checked(len).ok_or("truncated range bound")?;
                rest = tail;
                let kind = if inclusive {
                    RangeBoundKind::Inclusive
                } else {
                    RangeBoundKind::Exclusive
                };
                Ok(Some((T::from_sql(element, value)?, kind)))
            };
        let lower = bound(flags & RANGE_LB_INF == 0, flags & RANGE_LB_INC != 0)?;
        let upper = bound(flags & RANGE_UB_INF == 0, flags & RANGE_UB_INC != 0)?;
        Ok(PgRange { lower, upper })
    }

    fn accepts(ty: &Type) -> bool {
        range_element(ty).is_some_and(|e| T::accepts(e))
    }
}

impl<T: ToSql> ToSql for PgRange<T> {
    fn to_sql(&self, ty: &Type, out: &mut BytesMut) -> Result<IsNull, BoxError> {
        let element = range_element(ty).ok_or("not a range type")?;
        let mut flags = 0;
        match &self.lower {
            None => flags |= RANGE_LB_INF,
            Some((_, RangeBoundKind::Inclusive)) => flags |= RANGE_LB_INC,
            Some(_) => {}
        }
        match &self.upper {
            None => flags |= RANGE_UB_INF,
            Some((_, RangeBoundKind::Inclusive)) => flags |= RANGE_UB_INC,
            Some(_) => {}
        }
        out.put_u8(flags);
        for (value, _) in [&self.lower, &self.upper].into_iter().flatten() {
            let at = out.len();
            out.put_i32(0);
            if let IsNull::Yes = value.to_sql(element, out)? {
                return Err("a range bound cannot be NULL".into());
            }
            let len = i32::try_from(out.len() - at - 4)?;
            out[at..at + 4].copy_from_slice(&len.to_be_bytes());
        }
        Ok(IsNull::No)
    }

    fn accepts(ty: &Type) -> bool {
        range_element(ty).is_some_and(|e| T::accepts(e))
    }

    to_sql_checked!();
}

// ---------------------------------------------------------------------------
// TLS for sslmode=prefer/require: rustls with the webpki roots, like an HTTPS client

#[derive(Clone)]
struct MakeRustlsConnect {
    config: Arc<rustls::ClientConfig>,
}

impl MakeRustlsConnect {
    fn new() -> Self {
        let roots = rustls::RootCertStore {
            roots: webpki_roots::TLS_SERVER_ROOTS.into(),
        };
        let config = rustls::ClientConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .expect("ring supports the default TLS versions")
        .with_root_certificates(roots)
        .with_no_client_auth();
        Self {
            config: Arc::new(config),
        }
    }
}

impl MakeTlsConnect<Socket> for MakeRustlsConnect {
    type Stream = RustlsStream;
    type TlsConnect = RustlsConnect;
    type Error = io::Error;

    fn make_tls_connect(&mut self, domain: &str) -> io::Result<RustlsConnect> {
        let name = rustls::pki_types::ServerName::try_from(domain.to_string())
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
        Ok(RustlsConnect {
            connector: tokio_rustls::TlsConnector::from(self.config.clone()),
            name,
        })
    }
}

struct RustlsConnect {
    connector: tokio_rustls::TlsConnector,
    name: rustls::pki_types::ServerName<'static>,
}

impl TlsConnect<Socket> for RustlsConnect {
    type Stream = RustlsStream;
    type Error = io::Error;
    type Future = Pin<Box<dyn Future<Output = io::Result<RustlsStream>> + Send>>;

    fn connect(self, stream: Socket) -> Self::Future {
        Box::pin(async move {
            let stream = self.connector.connect(self.name, stream).await?;
            Ok(RustlsStream(Box::new(stream)))
        })
    }
}

struct RustlsStream(Box<tokio_rustls::client::TlsStream<Socket>>);

impl TlsStream for RustlsStream {
    fn channel_binding(&self) -> ChannelBinding {
        ChannelBinding::none()
    }
}

impl AsyncRead for RustlsStream {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut *self.0).poll_read(cx, buf)
    }
}

impl AsyncWrite for RustlsStream {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut *self.0).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut *self.0).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut *self.0).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wit::HostConnection as _;

    fn numeric_round_trip(text: &str) -> String {
        let mut buf = BytesMut::new();
        encode_numeric(text, &mut buf).expect("valid decimal");
        decode_numeric(&buf).expect("decodable numeric")
    }

    #[test]
    fn numeric_text_round_trips_through_the_wire_format() {
        for (input, expected) in [
            ("0", "0"),
            ("1", "1"),
            ("-1.5", "-1.5"),
            ("+7", "7"),
            ("10000", "10000"),
            ("123456789.987654321", "123456789.987654321"),
            ("0.0001", "0.0001"),
            ("0.00001", "0.00001"),
            ("00012.3400", "12.3400"),
            ("-0.000", "0.000"),
            (".5", "0.5"),
            (
                "99999999999999999999999999999999.1",
                "99999999999999999999999999999999.1",
            ),
            ("NaN", "NaN"),
            ("Infinity", "Infinity"),
            ("-Infinity", "-Infinity"),
        ] {
            assert_eq!(numeric_round_trip(input), expected, "{input}");
        }
    }

    #[test]
    fn numeric_rejects_text_that_is_not_a_plain_decimal() {
        for input in ["", ".", "1e5", "abc", "1.2.3", "--1", "1,5", " - 1"] {
            assert!(
                Numeric::parse(input).is_err(),
                "{input:?} should be rejected"
            );
        }
    }

    #[test]
    fn numeric_decodes_postgres_wire_bytes() {
        // 12345.678 as Postgres sends it: 3 digits, weight 1, dscale 3.
        let raw = [0, 3, 0, 1, 0, 0, 0, 3, 0, 1, 0x09, 0x29, 0x1A, 0x7C];
        assert_eq!(decode_numeric(&raw).unwrap(), "12345.678");
    }

    #[test]
    fn interval_wire_format_round_trips() {
        let interval = PgInterval {
            micros: 3_000_001,
            days: -2,
            months: 14,
        };
        let mut buf = BytesMut::new();
        interval.to_sql(&Type::INTERVAL, &mut buf).unwrap();
        assert_eq!(
            PgInterval::from_sql(&Type::INTERVAL, &buf).unwrap(),
            interval
        );
    }

    #[test]
    fn int_range_wire_format_round_trips() {
        let range = PgRange {
            lower: Some((1i32, RangeBoundKind::Inclusive)),
            upper: None,
        };
        let mut buf = BytesMut::new();
        range.to_sql(&Type::INT4_RANGE, &mut buf).unwrap();
        assert_eq!(
            PgRange::<i32>::from_sql(&Type::INT4_RANGE, &buf).unwrap(),
            range
        );
    }

    #[test]
    fn column_types_map_to_wit_data_types() {
        for (ty, expected) in [
            (Type::BOOL, DbDataType::Boolean),
            (Type::INT2, DbDataType::Int16),
            (Type::INT4, DbDataType::Int32),
            (Type::INT8, DbDataType::Int64),
            (Type::FLOAT4, DbDataType::Floating32),
            (Type::FLOAT8, DbDataType::Floating64),
            (Type::TEXT, DbDataType::Str),
            (Type::VARCHAR, DbDataType::Str),
            (Type::NAME, DbDataType::Str),
            (Type::BPCHAR, DbDataType::Str),
            (Type::BYTEA, DbDataType::Binary),
            (Type::UUID, DbDataType::Uuid),
            (Type::JSON, DbDataType::Jsonb),
            (Type::JSONB, DbDataType::Jsonb),
            (Type::DATE, DbDataType::Date),
            (Type::TIME, DbDataType::Time),
            (Type::TIMESTAMP, DbDataType::Datetime),
            (Type::TIMESTAMPTZ, DbDataType::Datetime),
            (Type::NUMERIC, DbDataType::Decimal),
            (Type::INT4_ARRAY, DbDataType::ArrayInt32),
            (Type::INT8_ARRAY, DbDataType::ArrayInt64),
            (Type::TEXT_ARRAY, DbDataType::ArrayStr),
            (Type::NUMERIC_ARRAY, DbDataType::ArrayDecimal),
            (Type::INTERVAL, DbDataType::Interval),
            (Type::INT4_RANGE, DbDataType::RangeInt32),
            (Type::INET, DbDataType::Other("inet".to_string())),
        ] {
            assert_eq!(data_type(&ty), expected, "{ty}");
        }
    }

    #[test]
    fn malformed_parameters_are_bad_parameter_errors_naming_the_position() {
        for param in [
            ParameterValue::Uuid("not-a-uuid".into()),
            ParameterValue::Date((2023, 2, 30)),
            ParameterValue::Time((25, 0, 0, 0)),
            ParameterValue::Jsonb(b"{".to_vec()),
            ParameterValue::Decimal("1e5".into()),
        ] {
            match to_sql_params(&[ParameterValue::Int32(1), param.clone()]) {
                Err(Error::BadParameter(message)) => {
                    assert!(message.starts_with("parameter $2:"), "{message}")
                }
                _ => panic!("{param:?} should be a bad parameter"),
            }
        }
    }

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

    #[test]
    fn endpoints_default_to_port_5432() {
        let config: tokio_postgres::Config = "postgres://u@db/x".parse().unwrap();
        assert_eq!(
            endpoints(&config),
            vec![Endpoint::Tcp {
                host: "db".into(),
                port: 5432
            }]
        );
        let config: tokio_postgres::Config = "host=a,b port=1,2 user=u".parse().unwrap();
        assert_eq!(
            endpoints(&config),
            vec![
                Endpoint::Tcp {
                    host: "a".into(),
                    port: 1
                },
                Endpoint::Tcp {
                    host: "b".into(),
                    port: 2
                }
            ]
        );
    }

    fn allowed(entries: &[&str]) -> AllowedHosts {
        AllowedHosts::parse(&entries.iter().map(|e| e.to_string()).collect::<Vec<_>>()).unwrap()
    }

    fn denial(address: &str, allowed_hosts: &AllowedHosts) -> String {
        let config: tokio_postgres::Config = address.parse().unwrap();
        match check_allowed(&endpoints(&config), allowed_hosts) {
            Err(Error::ConnectionFailed(message)) => message,
            other => panic!("{address}: expected a denial, got {other:?}"),
        }
    }

    #[test]
    fn hostaddr_is_checked_with_its_port_as_the_address_dialled() {
        let local = allowed(&["postgres://127.0.0.1:5432"]);
        for (address, denied) in [
            (
                "postgres://u@127.0.0.1:5432/x?hostaddr=10.9.8.7",
                "postgres://10.9.8.7:5432",
            ),
            (
                "host=127.0.0.1 hostaddr=127.0.0.2 port=5432 user=u",
                "postgres://127.0.0.2:5432",
            ),
            // hostaddr alone (no host) is what tokio-postgres dials.
            ("hostaddr=::1 port=5432 user=u", "postgres://[::1]:5432"),
            // The second of several hosts, and the first port shared by both.
            (
                "postgres://u@127.0.0.1,127.0.0.1:5432/x?hostaddr=127.0.0.1,192.0.2.1",
                "postgres://192.0.2.1:5432",
            ),
            // Per-host ports: the second host on a port not allowed.
            (
                "host=127.0.0.1,127.0.0.1 port=5432,6000 user=u",
                "postgres://127.0.0.1:6000",
            ),
        ] {
            let message = denial(address, &local);
            assert!(message.contains(denied), "{address}: {message}");
        }
        // An allowed hostaddr behind a name that is not allowed is refused too.
        let message = denial("host=db.example.com hostaddr=127.0.0.1 user=u", &local);
        assert!(
            message.contains("postgres://db.example.com:5432"),
            "{message}"
        );
        // Both allowed: the connection may proceed.
        let config: tokio_postgres::Config =
            "host=127.0.0.1 hostaddr=127.0.0.1 user=u".parse().unwrap();
        assert!(check_allowed(&endpoints(&config), &local).is_ok());
    }

    #[test]
    fn unix_socket_hosts_are_refused_even_with_allow_all() {
        let all = allowed(&["*://*:*"]);
        for address in [
            "host=/var/run/postgresql user=u",
            "postgres://u@%2Fvar%2Frun%2Fpostgresql/x",
            "host=127.0.0.1,/tmp user=u",
        ] {
            let message = denial(address, &all);
            assert!(message.contains("Unix-socket"), "{address}: {message}");
        }
        let message = denial("user=u dbname=x", &all);
        assert!(message.contains("names no host"), "{message}");
    }

    // --- Against the real Postgres at 127.0.0.1:5432 (database `postgres`).

    const DATABASE: &str = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable";

    fn local_hosts() -> Arc<AllowedHosts> {
        Arc::new(AllowedHosts::parse(&["postgres://127.0.0.1:5432".to_string()]).unwrap())
    }

    /// A session-local table `t` whose primary key already holds 1 (so inserting 1 again is a
    /// unique violation).
    async fn holding_id_1(conn: &mut Connection) {
        conn.execute("CREATE TEMP TABLE t (id int PRIMARY KEY)", &[])
            .await
            .unwrap();
        conn.execute("INSERT INTO t VALUES (1)", &[]).await.unwrap();
    }

    async fn connect(compat: Option<SpinCompat>) -> Connection {
        Postgres::new(compat)
            .connect(&local_hosts(), DATABASE)
            .await
            .expect("local Postgres at 127.0.0.1:5432 (trust auth) must be running")
    }

    #[tokio::test]
    async fn zero_row_query_is_an_error_under_spin_compat() {
        let mut conn = connect(Some(SpinCompat::V4_0_2)).await;
        let sql = "SELECT 1 AS one WHERE false";
        match conn.query(sql, &[]).await {
            Err(Error::Other(message)) => {
                assert!(
                    message.starts_with("spin-compat 4.0.2: query returned zero rows"),
                    "{message}"
                );
                assert!(message.contains(sql), "{message}");
            }
            other => panic!("expected a spin-compat error, got {other:?}"),
        }
    }

    #[tokio::test]
    async fn zero_row_query_returns_columns_and_no_rows_without_compat() {
        let mut conn = connect(None).await;
        let rows = conn
            .query("SELECT 1 AS one WHERE false", &[])
            .await
            .unwrap();
        assert!(rows.rows.is_empty());
        assert_eq!(rows.columns.len(), 1);
        assert_eq!(rows.columns[0].name, "one");
        assert_eq!(rows.columns[0].data_type, DbDataType::Int32);
    }

    #[tokio::test]
    async fn timestamptz_column_is_an_error_under_spin_compat() {
        let mut conn = connect(Some(SpinCompat::V4_0_2)).await;
        let sql = "SELECT now() AS created_at";
        match conn.query(sql, &[]).await {
            Err(Error::Other(message)) => {
                assert!(message.starts_with("spin-compat 4.0.2: "), "{message}");
                assert!(
                    message.contains("timestamptz column `created_at`"),
                    "{message}"
                );
                assert!(message.ends_with(&format!("statement: {sql}")), "{message}");
            }
            other => panic!("expected a spin-compat error, got {other:?}"),
        }
        // Timestamps as text pass.
        let rows = conn
            .query("SELECT to_json(now())::text AS created_at", &[])
            .await
            .unwrap();
        assert_eq!(rows.rows.len(), 1);
    }

    #[tokio::test]
    async fn timestamptz_column_is_a_utc_datetime_without_compat() {
        let mut conn = connect(None).await;
        let rows = conn
            .query("SELECT '2024-05-06 07:08:09.5+02'::timestamptz AS t", &[])
            .await
            .unwrap();
        assert_eq!(rows.columns[0].data_type, DbDataType::Datetime);
        assert_eq!(
            rows.rows[0][0],
            DbValue::Datetime((2024, 5, 6, 5, 8, 9, 500_000_000))
        );
    }

    #[tokio::test]
    async fn denied_host_is_a_connection_error_not_a_trap() {
        let postgres = Postgres::new(None);
        let allowed =
            Arc::new(AllowedHosts::parse(&["postgres://db.example.com".to_string()]).unwrap());
        let mut instance = postgres.instance(allowed);
        let result = instance.open(DATABASE.to_string()).await.expect("no trap");
        match result {
            Err(Error::ConnectionFailed(message)) => {
                assert!(message.contains("postgres://127.0.0.1:5432"), "{message}");
                assert!(
                    message.contains("not allowed by allowed_outbound_hosts"),
                    "{message}"
                );
            }
            Err(other) => panic!("expected connection-failed, got {other:?}"),
            Ok(_) => panic!("expected connection-failed, got a connection"),
        }
        // Nothing was set up for the denied address.
        assert!(postgres.pool_status().is_empty());
    }

    #[tokio::test]
    async fn closed_port_is_a_prompt_connection_error() {
        let allowed =
            Arc::new(AllowedHosts::parse(&["postgres://127.0.0.1:*".to_string()]).unwrap());
        let started = std::time::Instant::now();
        let result = Postgres::new(None)
            .connect(
                &allowed,
                "postgres://postgres@127.0.0.1:1/postgres?sslmode=disable",
            )
            .await;
        assert!(
            matches!(result, Err(Error::ConnectionFailed(_))),
            "{:?}",
            result.err()
        );
        assert!(started.elapsed() < Duration::from_secs(3));
    }

    #[tokio::test]
    async fn tls_modes_verify_the_server_certificate() {
        // The local server (Debian) offers TLS with a self-signed certificate:
        // like Spin's client, `require` and the default `prefer` reject it.
        for address in [
            "postgres://postgres@127.0.0.1:5432/postgres?sslmode=require",
            "postgres://postgres@127.0.0.1:5432/postgres",
        ] {
            match Postgres::new(None).connect(&local_hosts(), address).await {
                Err(Error::ConnectionFailed(message)) => {
                    assert!(message.contains("sslmode=disable"), "{message}")
                }
                Err(other) => panic!("{address}: expected connection-failed, got {other:?}"),
                // A server without TLS accepts `prefer` in plain text.
                Ok(_) => assert!(!address.contains("require"), "{address} connected"),
            }
        }
    }

    #[tokio::test]
    async fn instance_open_query_execute_and_drop_through_the_wit_trait() {
        let postgres = Postgres::new(Some(SpinCompat::V4_0_2));
        let mut instance = postgres.instance(local_hosts());
        let conn = instance.open(DATABASE.to_string()).await.unwrap().unwrap();
        let count = instance
            .execute(
                Resource::new_borrow(conn.rep()),
                "SELECT $1::int4 + 1".to_string(),
                vec![ParameterValue::Int32(41)],
            )
            .await
            .unwrap()
            .unwrap();
        assert_eq!(count, 1);
        let rows = instance
            .query(
                Resource::new_borrow(conn.rep()),
                "SELECT $1::int4 + 1 AS answer".to_string(),
                vec![ParameterValue::Int32(41)],
            )
            .await
            .unwrap()
            .unwrap();
        assert_eq!(rows.rows, vec![vec![DbValue::Int32(42)]]);
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

    #[tokio::test]
    async fn column_values_convert_to_db_values() {
        let mut conn = connect(None).await;
        let rows = conn
            .query(
                "SELECT true, 1::int2, 2::int4, 3::int8, 1.5::float4, 2.5::float8, \
                 'x'::text, 'y'::varchar, 'n'::name, 'c'::bpchar, '\\x0102'::bytea, \
                 '0191d3a2-6f1e-7c3a-8b4d-1a2b3c4d5e6f'::uuid, '{\"a\": 1}'::json, '{\"b\": 2}'::jsonb, \
                 '2024-02-29'::date, '13:14:15.5'::time, '2024-02-29 13:14:15'::timestamp, \
                 12345.678::numeric, '{1,NULL,3}'::int4[], '{4}'::int8[], '{a,NULL}'::text[], \
                 '{1.5,NULL}'::numeric[], '1 mon 2 days 3.000004 s'::interval, NULL::int4, \
                 '[1,5)'::int4range, '127.0.0.1'::inet",
                &[],
            )
            .await
            .unwrap();
        let expected = vec![
            DbValue::Boolean(true),
            DbValue::Int16(1),
            DbValue::Int32(2),
            DbValue::Int64(3),
            DbValue::Floating32(1.5),
            DbValue::Floating64(2.5),
            DbValue::Str("x".into()),
            DbValue::Str("y".into()),
            DbValue::Str("n".into()),
            DbValue::Str("c".into()),
            DbValue::Binary(vec![1, 2]),
            DbValue::Uuid("0191d3a2-6f1e-7c3a-8b4d-1a2b3c4d5e6f".into()),
            DbValue::Jsonb(b"{\"a\": 1}".to_vec()),
            DbValue::Jsonb(b"{\"b\": 2}".to_vec()),
            DbValue::Date((2024, 2, 29)),
            DbValue::Time((13, 14, 15, 500_000_000)),
            DbValue::Datetime((2024, 2, 29, 13, 14, 15, 0)),
            DbValue::Decimal("12345.678".into()),
            DbValue::ArrayInt32(vec![Some(1), None, Some(3)]),
            DbValue::ArrayInt64(vec![Some(4)]),
            DbValue::ArrayStr(vec![Some("a".into()), None]),
            DbValue::ArrayDecimal(vec![Some("1.5".into()), None]),
            DbValue::Interval(wit::Interval {
                micros: 3_000_004,
                days: 2,
                months: 1,
            }),
            DbValue::DbNull,
            DbValue::RangeInt32((
                Some((1, RangeBoundKind::Inclusive)),
                Some((5, RangeBoundKind::Exclusive)),
            )),
            DbValue::Unsupported(vec![2, 32, 0, 4, 127, 0, 0, 1]),
        ];
        assert_eq!(rows.rows.len(), 1);
        for (i, (got, want)) in rows.rows[0].iter().zip(&expected).enumerate() {
            assert_eq!(got, want, "column {i} ({:?})", rows.columns[i]);
        }
        assert_eq!(rows.rows[0].len(), expected.len());
    }

    #[tokio::test]
    async fn parameters_convert_to_their_postgres_types() {
        let mut conn = connect(None).await;
        let rows = conn
            .query(
                "SELECT $1::bool, $2::int2, $3::int4, $4::int8, $5::float8, $6::text, $7::bytea, \
                 $8::uuid, $9::jsonb, $10::date, $11::time, $12::timestamp, $13::timestamptz, \
                 $14::numeric, $15::int4[], $16::text[], $17::interval, $18::int4, $19::int8range",
                &[
                    ParameterValue::Boolean(true),
                    ParameterValue::Int16(-2),
                    ParameterValue::Int32(3),
                    ParameterValue::Int64(4),
                    ParameterValue::Floating64(0.25),
                    ParameterValue::Str("héllo".into()),
                    ParameterValue::Binary(vec![0, 255]),
                    ParameterValue::Uuid("0191d3a2-6f1e-7c3a-8b4d-1a2b3c4d5e6f".into()),
                    ParameterValue::Jsonb(br#"{"k":[1,2]}"#.to_vec()),
                    ParameterValue::Date((2000, 1, 2)),
                    ParameterValue::Time((3, 4, 5, 6000)),
                    ParameterValue::Datetime((2000, 1, 2, 3, 4, 5, 0)),
                    ParameterValue::Timestamp(86_400),
                    ParameterValue::Decimal("-98765432109876543210.0123".into()),
                    ParameterValue::ArrayInt32(vec![Some(1), None]),
                    ParameterValue::ArrayStr(vec![Some("a".into())]),
                    ParameterValue::Interval(wit::Interval {
                        micros: 1,
                        days: 2,
                        months: 3,
                    }),
                    ParameterValue::DbNull,
                    ParameterValue::RangeInt64((Some((10, RangeBoundKind::Inclusive)), None)),
                ],
            )
            .await
            .unwrap();
        let row = &rows.rows[0];
        assert_eq!(row[0], DbValue::Boolean(true));
        assert_eq!(row[1], DbValue::Int16(-2));
        assert_eq!(row[2], DbValue::Int32(3));
        assert_eq!(row[3], DbValue::Int64(4));
        assert_eq!(row[4], DbValue::Floating64(0.25));
        assert_eq!(row[5], DbValue::Str("héllo".into()));
        assert_eq!(row[6], DbValue::Binary(vec![0, 255]));
        assert_eq!(
            row[7],
            DbValue::Uuid("0191d3a2-6f1e-7c3a-8b4d-1a2b3c4d5e6f".into())
        );
        assert_eq!(row[8], DbValue::Jsonb(br#"{"k": [1, 2]}"#.to_vec()));
        assert_eq!(row[9], DbValue::Date((2000, 1, 2)));
        assert_eq!(row[10], DbValue::Time((3, 4, 5, 6000)));
        assert_eq!(row[11], DbValue::Datetime((2000, 1, 2, 3, 4, 5, 0)));
        assert_eq!(row[12], DbValue::Datetime((1970, 1, 2, 0, 0, 0, 0)));
        assert_eq!(
            row[13],
            DbValue::Decimal("-98765432109876543210.0123".into())
        );
        assert_eq!(row[14], DbValue::ArrayInt32(vec![Some(1), None]));
        assert_eq!(row[15], DbValue::ArrayStr(vec![Some("a".into())]));
        assert_eq!(
            row[16],
            DbValue::Interval(wit::Interval {
                micros: 1,
                days: 2,
                months: 3
            })
        );
        assert_eq!(row[17], DbValue::DbNull);
        assert_eq!(
            row[18],
            DbValue::RangeInt64((Some((10, RangeBoundKind::Inclusive)), None))
        );
    }

    #[tokio::test]
    async fn postgres_errors_map_to_query_failed_with_code_message_and_detail() {
        let mut conn = connect(None).await;
        match conn
            .query("SELECT * FROM spingraph_no_such_table", &[])
            .await
        {
            Err(Error::QueryFailed(QueryError::DbError(db))) => {
                assert_eq!(db.code, "42P01");
                assert_eq!(db.severity, "ERROR");
                assert!(db.message.contains("spingraph_no_such_table"), "{db:?}");
            }
            other => panic!("expected a db error, got {other:?}"),
        }
        holding_id_1(&mut conn).await;
        match conn.execute("INSERT INTO t VALUES (1)", &[]).await {
            Err(Error::QueryFailed(QueryError::DbError(db))) => {
                assert_eq!(db.code, "23505");
                assert_eq!(db.detail.as_deref(), Some("Key (id)=(1) already exists."));
                assert!(
                    db.extras
                        .contains(&("constraint".to_string(), "t_pkey".to_string()))
                );
            }
            other => panic!("expected a unique violation, got {other:?}"),
        }
        // A parameter of the wrong type is a bad parameter, not a trap.
        let result = conn
            .query("SELECT $1::int4", &[ParameterValue::Str("x".into())])
            .await;
        assert!(matches!(result, Err(Error::BadParameter(_))), "{result:?}");
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
        let mut plain = connect(None).await;
        let rows = plain.query("SELECT 'x'::name AS n", &[]).await.unwrap();
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

    #[tokio::test]
    async fn without_spin_compat_errors_raised_while_a_query_runs_stay_structured() {
        let mut conn = connect(None).await;
        holding_id_1(&mut conn).await;
        match conn
            .query("INSERT INTO t VALUES (1) RETURNING id", &[])
            .await
        {
            Err(Error::QueryFailed(QueryError::DbError(db))) => assert_eq!(db.code, "23505"),
            other => panic!("expected a structured error, got {other:?}"),
        }
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
