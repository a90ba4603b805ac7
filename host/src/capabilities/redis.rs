//! `fermyon:spin/redis@2.0.0`: Redis for guests over cached connections.
//!
//! App-wide: one multiplexed connection per address, opened on first use and
//! shared by every instance (no connection set-up per request); a connection
//! that breaks is dropped from the cache so the next `open` reconnects.
//! Per instance: the component's allowed hosts and its `connection`
//! resources. Redis failures are returned to the guest as the WIT `error`,
//! never as a trap.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Result;
use redis::aio::{ConnectionLike, MultiplexedConnection};
use redis::{AsyncConnectionConfig, ConnectionAddr, ErrorKind, FromRedisValue, RedisError, Value};
use wasmtime::component::{HasSelf, Linker, Resource};

use crate::capabilities::bindings::fermyon::spin::redis as wit;
use crate::capabilities::connections::Connections;
use crate::capabilities::store::InstanceState;
use crate::capabilities::{Capability, InstanceField, Prepare};
use crate::grants::allowed_hosts::{AllowedHosts, redact};
use wit::{Error, RedisParameter, RedisResult};

/// Establishing a connection; a closed port fails at once, a black hole after this.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(1);
/// Waiting for a reply to one command.
const RESPONSE_TIMEOUT: Duration = Duration::from_secs(1);

/// App-wide Redis state: the connection cache, shared by every instance.
#[derive(Clone, Default)]
pub struct Redis {
    connections: Arc<Mutex<HashMap<String, MultiplexedConnection>>>,
}

impl Redis {
    pub fn new() -> Self {
        Self::default()
    }

    /// Per-instance state for a component with these allowed outbound hosts.
    pub fn instance(&self, allowed_hosts: Arc<AllowedHosts>) -> RedisInstance {
        Connections::new(self.clone(), allowed_hosts)
    }

    /// Opens a connection for a component: checks `address` against its
    /// allowed hosts, then reuses (or makes) the cached connection.
    pub async fn connect(
        &self,
        allowed_hosts: &AllowedHosts,
        address: &str,
    ) -> Result<Connection, Error> {
        let client = redis::Client::open(address).map_err(|_| Error::InvalidAddress)?;
        check_allowed(address, &client.get_connection_info().addr, allowed_hosts)?;

        let cached = self.cache().get(address).cloned();
        let connection = match cached {
            Some(connection) => connection,
            None => {
                let config = AsyncConnectionConfig::new()
                    .set_connection_timeout(CONNECT_TIMEOUT)
                    .set_response_timeout(RESPONSE_TIMEOUT);
                let connection = client
                    .get_multiplexed_async_connection_with_config(&config)
                    .await
                    .map_err(|e| {
                        Error::Other(format!(
                            "cannot connect to Redis at {}: {e}",
                            redact(address)
                        ))
                    })?;
                self.cache()
                    .entry(address.to_string())
                    .or_insert(connection)
                    .clone()
            }
        };
        Ok(Connection {
            redis: self.clone(),
            address: address.to_string(),
            connection,
        })
    }

    fn cache(&self) -> std::sync::MutexGuard<'_, HashMap<String, MultiplexedConnection>> {
        self.connections.lock().expect("redis connections lock")
    }

    /// Forgets a broken connection so that the next `open` reconnects.
    fn evict(&self, address: &str) {
        self.cache().remove(address);
    }
}

fn check_allowed(
    address: &str,
    addr: &ConnectionAddr,
    allowed_hosts: &AllowedHosts,
) -> Result<(), Error> {
    // The scheme as the redis crate read it (the URL parser trims and lowercases), and the
    // host and port from its parsed address: what it dials, whatever userinfo, brackets or
    // escapes the text holds. The query and fragment select a database, protocol or TLS
    // verification, never another address.
    let scheme = redis::parse_redis_url(address)
        .map(|url| url.scheme().to_string())
        .unwrap_or_else(|| "redis".to_string());
    let (host, port) = match addr {
        ConnectionAddr::Tcp(host, port) => (host, *port),
        ConnectionAddr::TcpTls { host, port, .. } => (host, *port),
        _ => {
            return Err(Error::Other(
                "Unix-socket Redis connections are not available to components; use a TCP host"
                    .to_string(),
            ));
        }
    };
    if allowed_hosts.allows(&scheme, host, port) {
        Ok(())
    } else {
        Err(Error::Other(allowed_hosts.refusal(&scheme, host, port)))
    }
}

/// An open `connection` resource: a handle on the shared multiplexed connection (`C` is
/// anything that speaks Redis: unit tests hand it redis-test's mock).
pub struct Connection<C = MultiplexedConnection> {
    redis: Redis,
    address: String,
    connection: C,
}

impl<C: ConnectionLike + Send> Connection<C> {
    /// A connection to `address` over `connection`, cached as `redis`'s (unit tests).
    #[cfg(test)]
    fn over(redis: &Redis, address: &str, connection: C) -> Connection<C> {
        Connection {
            redis: redis.clone(),
            address: address.to_string(),
            connection,
        }
    }

    /// Runs one command, mapping failures to the WIT error.
    async fn run<T: FromRedisValue>(&mut self, cmd: &redis::Cmd) -> Result<T, Error> {
        match cmd.query_async(&mut self.connection).await {
            Ok(value) => Ok(value),
            Err(err) => {
                if err.is_unrecoverable_error() || err.is_connection_dropped() || err.is_timeout() {
                    self.redis.evict(&self.address);
                }
                Err(redis_error(err))
            }
        }
    }

    pub async fn publish(&mut self, channel: &str, payload: &[u8]) -> Result<(), Error> {
        self.run::<i64>(redis::cmd("PUBLISH").arg(channel).arg(payload))
            .await
            .map(|_| ())
    }

    pub async fn get(&mut self, key: &str) -> Result<Option<Vec<u8>>, Error> {
        self.run(redis::cmd("GET").arg(key)).await
    }

    pub async fn set(&mut self, key: &str, value: &[u8]) -> Result<(), Error> {
        self.run(redis::cmd("SET").arg(key).arg(value)).await
    }

    pub async fn incr(&mut self, key: &str) -> Result<i64, Error> {
        self.run(redis::cmd("INCR").arg(key)).await
    }

    pub async fn del(&mut self, keys: &[String]) -> Result<u32, Error> {
        self.run(redis::cmd("DEL").arg(keys)).await
    }

    pub async fn sadd(&mut self, key: &str, values: &[String]) -> Result<u32, Error> {
        self.run(redis::cmd("SADD").arg(key).arg(values)).await
    }

    pub async fn smembers(&mut self, key: &str) -> Result<Vec<String>, Error> {
        self.run(redis::cmd("SMEMBERS").arg(key)).await
    }

    pub async fn srem(&mut self, key: &str, values: &[String]) -> Result<u32, Error> {
        self.run(redis::cmd("SREM").arg(key).arg(values)).await
    }

    /// Any command (`PING`, `EVAL`, `EXPIRE`, ...); nested replies are flattened.
    pub async fn execute(
        &mut self,
        command: &str,
        arguments: &[RedisParameter],
    ) -> Result<Vec<RedisResult>, Error> {
        let mut cmd = redis::cmd(command);
        for argument in arguments {
            match argument {
                RedisParameter::Int64(n) => cmd.arg(*n),
                RedisParameter::Binary(bytes) => cmd.arg(bytes.as_slice()),
            };
        }
        let value: Value = self.run(&cmd).await?;
        let mut results = Vec::new();
        flatten(value, &mut results)?;
        Ok(results)
    }
}

/// A reply as the list `execute` returns: arrays are flattened in order.
fn flatten(value: Value, out: &mut Vec<RedisResult>) -> Result<(), Error> {
    match value {
        Value::Nil => out.push(RedisResult::Nil),
        Value::Int(n) => out.push(RedisResult::Int64(n)),
        Value::BulkString(bytes) => out.push(RedisResult::Binary(bytes)),
        Value::SimpleString(status) => out.push(RedisResult::Status(status)),
        Value::Okay => out.push(RedisResult::Status("OK".to_string())),
        Value::Array(values) | Value::Set(values) => {
            for value in values {
                flatten(value, out)?;
            }
        }
        Value::Map(pairs) => {
            for (key, value) in pairs {
                flatten(key, out)?;
                flatten(value, out)?;
            }
        }
        Value::Attribute { data, .. } => flatten(*data, out)?,
        Value::Double(n) => out.push(RedisResult::Binary(n.to_string().into_bytes())),
        Value::Boolean(b) => out.push(RedisResult::Int64(i64::from(b))),
        Value::VerbatimString { text, .. } => out.push(RedisResult::Binary(text.into_bytes())),
        Value::ServerError(err) => {
            return Err(Error::Other(RedisError::from(err).to_string()));
        }
        other => {
            return Err(Error::Other(format!("unsupported Redis reply {other:?}")));
        }
    }
    Ok(())
}

fn redis_error(err: RedisError) -> Error {
    let text = err.to_string();
    if err.kind() == ErrorKind::TypeError
        || err.code() == Some("WRONGTYPE")
        || text.contains("WRONGTYPE")
        || text.contains("not an integer")
    {
        Error::TypeError
    } else {
        Error::Other(text)
    }
}

/// Per-instance Redis state (it lives in the store data).
pub type RedisInstance = Connections<Redis, Connection>;

impl Capability for Redis {
    type Config = ();
    type Instance = RedisInstance;

    /// Links `fermyon:spin/redis@2.0.0`.
    fn add_to_linker(linker: &mut Linker<InstanceState>, field: InstanceField<Self>) -> Result<()> {
        Ok(wit::add_to_linker::<_, HasSelf<_>>(linker, field)?)
    }

    fn configure_app((): ()) -> Result<Redis> {
        Ok(Redis::new())
    }

    fn prepare(&self, cx: &Prepare<'_>) -> Result<RedisInstance> {
        Ok(self.instance(cx.grants.allowed_hosts.clone()))
    }
}

type Answer<T> = crate::capabilities::connections::Answer<T, Error>;

/// The guest's handle on one of its connections.
type Handle = Resource<wit::Connection>;

impl wit::Host for RedisInstance {}

impl wit::HostConnection for RedisInstance {
    async fn open(&mut self, address: String) -> Answer<Handle> {
        let (redis, allowed_hosts) = self.connector();
        let opened = redis.connect(allowed_hosts, &address).await;
        self.opened(opened)
    }

    async fn publish(&mut self, c: Handle, channel: String, payload: Vec<u8>) -> Answer<()> {
        Ok(self.connection(&c)?.publish(&channel, &payload).await)
    }

    async fn get(&mut self, c: Handle, key: String) -> Answer<Option<Vec<u8>>> {
        Ok(self.connection(&c)?.get(&key).await)
    }

    async fn set(&mut self, c: Handle, key: String, value: Vec<u8>) -> Answer<()> {
        Ok(self.connection(&c)?.set(&key, &value).await)
    }

    async fn incr(&mut self, c: Handle, key: String) -> Answer<i64> {
        Ok(self.connection(&c)?.incr(&key).await)
    }

    async fn del(&mut self, c: Handle, keys: Vec<String>) -> Answer<u32> {
        Ok(self.connection(&c)?.del(&keys).await)
    }

    async fn sadd(&mut self, c: Handle, key: String, values: Vec<String>) -> Answer<u32> {
        Ok(self.connection(&c)?.sadd(&key, &values).await)
    }

    async fn smembers(&mut self, c: Handle, key: String) -> Answer<Vec<String>> {
        Ok(self.connection(&c)?.smembers(&key).await)
    }

    async fn srem(&mut self, c: Handle, key: String, values: Vec<String>) -> Answer<u32> {
        Ok(self.connection(&c)?.srem(&key, &values).await)
    }

    async fn execute(
        &mut self,
        c: Handle,
        command: String,
        arguments: Vec<RedisParameter>,
    ) -> Answer<Vec<RedisResult>> {
        Ok(self.connection(&c)?.execute(&command, &arguments).await)
    }

    async fn drop(&mut self, c: Handle) -> wasmtime::Result<()> {
        self.close(c)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use redis_test::{MockCmd, MockRedisConnection};
    use wit::HostConnection as _;

    // Against the real Redis at 127.0.0.1:6379.
    const ADDRESS: &str = "redis://127.0.0.1:6379";

    fn local_hosts() -> Arc<AllowedHosts> {
        Arc::new(AllowedHosts::parse(&["redis://127.0.0.1:6379".to_string()]).unwrap())
    }

    fn unique_key(name: &str) -> String {
        format!("spingraph-test:{}:{name}", uuid::Uuid::now_v7())
    }

    async fn connect() -> Connection {
        Redis::new()
            .connect(&local_hosts(), ADDRESS)
            .await
            .expect("local Redis at 127.0.0.1:6379 must be running")
    }

    #[test]
    fn nested_replies_flatten_in_order() {
        let mut out = Vec::new();
        flatten(
            Value::Array(vec![
                Value::Int(1),
                Value::Array(vec![Value::BulkString(b"a".to_vec()), Value::Nil]),
                Value::Okay,
                Value::SimpleString("PONG".into()),
            ]),
            &mut out,
        )
        .unwrap();
        assert_eq!(
            out,
            vec![
                RedisResult::Int64(1),
                RedisResult::Binary(b"a".to_vec()),
                RedisResult::Nil,
                RedisResult::Status("OK".into()),
                RedisResult::Status("PONG".into()),
            ]
        );
    }

    /// A connection whose server answers exactly `script` (command, reply) in order.
    fn scripted(
        redis: &Redis,
        script: Vec<(&redis::Cmd, redis::RedisResult<Value>)>,
    ) -> Connection<MockRedisConnection> {
        let commands = script
            .into_iter()
            .map(|(cmd, reply)| MockCmd::new(cmd.clone(), reply))
            .collect::<Vec<_>>();
        Connection::over(redis, ADDRESS, MockRedisConnection::new(commands))
    }

    fn bulk(bytes: &[u8]) -> redis::RedisResult<Value> {
        Ok(Value::BulkString(bytes.to_vec()))
    }

    #[tokio::test]
    async fn each_call_sends_its_command_and_reads_its_reply() {
        let redis = Redis::new();
        let members = Value::Array(vec![
            Value::BulkString(b"a".to_vec()),
            Value::BulkString(b"b".to_vec()),
        ]);
        let mut conn = scripted(
            &redis,
            vec![
                (redis::cmd("GET").arg("k"), Ok(Value::Nil)),
                (redis::cmd("SET").arg("k").arg(b"41"), Ok(Value::Okay)),
                (redis::cmd("GET").arg("k"), bulk(b"41")),
                (redis::cmd("INCR").arg("k"), Ok(Value::Int(42))),
                (redis::cmd("DEL").arg(&["k", "j"]), Ok(Value::Int(1))),
                (
                    redis::cmd("SADD").arg("s").arg(&["a", "b", "a"]),
                    Ok(Value::Int(2)),
                ),
                (redis::cmd("SMEMBERS").arg("s"), Ok(members)),
                (
                    redis::cmd("SREM").arg("s").arg(&["a", "z"]),
                    Ok(Value::Int(1)),
                ),
                (
                    redis::cmd("PUBLISH").arg("c").arg(b"hello"),
                    Ok(Value::Int(0)),
                ),
                (&redis::cmd("PING"), Ok(Value::SimpleString("PONG".into()))),
            ],
        );
        assert_eq!(conn.get("k").await, Ok(None));
        conn.set("k", b"41").await.unwrap();
        assert_eq!(conn.get("k").await, Ok(Some(b"41".to_vec())));
        assert_eq!(conn.incr("k").await, Ok(42));
        assert_eq!(conn.del(&["k".into(), "j".into()]).await, Ok(1));
        let values = ["a".to_string(), "b".into(), "a".into()];
        assert_eq!(conn.sadd("s", &values).await, Ok(2));
        assert_eq!(
            conn.smembers("s").await,
            Ok(vec!["a".to_string(), "b".to_string()])
        );
        assert_eq!(conn.srem("s", &["a".into(), "z".into()]).await, Ok(1));
        conn.publish("c", b"hello").await.unwrap();
        assert_eq!(
            conn.execute("PING", &[]).await,
            Ok(vec![RedisResult::Status("PONG".into())])
        );
    }

    #[tokio::test]
    async fn execute_passes_integers_and_bytes_and_flattens_the_reply() {
        let redis = Redis::new();
        let reply = Value::Array(vec![Value::Int(1), Value::Array(vec![Value::Int(60_000)])]);
        let mut conn = scripted(
            &redis,
            vec![(
                redis::cmd("EVAL")
                    .arg(b"return 1")
                    .arg(1)
                    .arg(b"key")
                    .arg(60_000),
                Ok(reply),
            )],
        );
        let args = [
            RedisParameter::Binary(b"return 1".to_vec()),
            RedisParameter::Int64(1),
            RedisParameter::Binary(b"key".to_vec()),
            RedisParameter::Int64(60_000),
        ];
        assert_eq!(
            conn.execute("EVAL", &args).await,
            Ok(vec![RedisResult::Int64(1), RedisResult::Int64(60_000)])
        );
    }

    #[tokio::test]
    async fn wrong_type_is_a_type_error_and_server_errors_are_other() {
        let redis = Redis::new();
        let wrong_type = || {
            Err(RedisError::from((
                ErrorKind::ExtensionError,
                "WRONGTYPE",
                "Operation against a key holding the wrong kind of value".to_string(),
            )))
        };
        let mut conn = scripted(
            &redis,
            vec![
                (redis::cmd("INCR").arg("k"), wrong_type()),
                (redis::cmd("SMEMBERS").arg("k"), wrong_type()),
                (
                    &redis::cmd("NOSUCHCOMMAND"),
                    Err(RedisError::from((
                        ErrorKind::ResponseError,
                        "unknown command",
                    ))),
                ),
            ],
        );
        assert_eq!(conn.incr("k").await, Err(Error::TypeError));
        assert_eq!(conn.smembers("k").await, Err(Error::TypeError));
        let result = conn.execute("NOSUCHCOMMAND", &[]).await;
        assert!(matches!(result, Err(Error::Other(_))), "{result:?}");
    }

    /// Against the real Redis: the cache holds real connections.
    #[tokio::test]
    async fn a_dropped_connection_is_forgotten_so_the_next_open_reconnects() {
        let redis = Redis::new();
        let live = connect().await;
        redis.cache().insert(ADDRESS.to_string(), live.connection);
        let dropped = std::io::Error::new(std::io::ErrorKind::BrokenPipe, "gone");
        let mut conn = scripted(
            &redis,
            vec![(redis::cmd("GET").arg("k"), Err(dropped.into()))],
        );
        assert!(matches!(conn.get("k").await, Err(Error::Other(_))));
        assert!(
            redis.cache().is_empty(),
            "the broken connection left the cache"
        );
    }

    #[tokio::test]
    async fn execute_runs_a_rate_limit_eval_script() {
        let mut conn = connect().await;
        let key = unique_key("rate");
        let script = "local n = redis.call('INCR', KEYS[1]) \
                      if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end \
                      return {n, redis.call('PTTL', KEYS[1])}";
        let args = [
            RedisParameter::Binary(script.as_bytes().to_vec()),
            RedisParameter::Int64(1),
            RedisParameter::Binary(key.as_bytes().to_vec()),
            RedisParameter::Int64(60_000),
        ];
        let first = conn.execute("EVAL", &args).await.unwrap();
        let second = conn.execute("EVAL", &args).await.unwrap();
        assert_eq!(first[0], RedisResult::Int64(1));
        assert_eq!(second[0], RedisResult::Int64(2));
        assert!(matches!(second[1], RedisResult::Int64(ttl) if ttl > 0 && ttl <= 60_000));
        conn.del(&[key]).await.unwrap();
    }

    /// What the real server says, read as the scripted tests assume.
    #[tokio::test]
    async fn a_real_servers_wrong_type_is_a_type_error_and_unknown_command_other() {
        let mut conn = connect().await;
        let key = unique_key("wrongtype");
        conn.set(&key, b"not a number").await.unwrap();
        assert_eq!(conn.incr(&key).await, Err(Error::TypeError));
        assert_eq!(conn.smembers(&key).await, Err(Error::TypeError));
        let result = conn.execute("NOSUCHCOMMAND", &[]).await;
        assert!(matches!(result, Err(Error::Other(_))), "{result:?}");
        conn.del(&[key]).await.unwrap();
    }

    #[tokio::test]
    async fn connections_are_cached_per_address() {
        let redis = Redis::new();
        let mut instance = redis.instance(local_hosts());
        let first = instance.open(ADDRESS.to_string()).await.unwrap().unwrap();
        let second = instance.open(ADDRESS.to_string()).await.unwrap().unwrap();
        assert_eq!(redis.cache().len(), 1);
        let reply = instance
            .execute(Resource::new_borrow(second.rep()), "PING".into(), vec![])
            .await
            .unwrap()
            .unwrap();
        assert_eq!(reply, vec![RedisResult::Status("PONG".into())]);
        wit::HostConnection::drop(&mut instance, first)
            .await
            .unwrap();
        wit::HostConnection::drop(&mut instance, second)
            .await
            .unwrap();
    }

    #[tokio::test]
    async fn denied_host_is_an_error_naming_it_not_a_trap() {
        let redis = Redis::new();
        let allowed =
            Arc::new(AllowedHosts::parse(&["postgres://127.0.0.1:5432".to_string()]).unwrap());
        let mut instance = redis.instance(allowed);
        match instance.open(ADDRESS.to_string()).await.expect("no trap") {
            Err(Error::Other(message)) => {
                assert!(message.contains("redis://127.0.0.1:6379"), "{message}");
                assert!(
                    message.contains("not allowed by allowed_outbound_hosts"),
                    "{message}"
                );
            }
            Err(other) => panic!("expected error::other, got {other:?}"),
            Ok(_) => panic!("expected an error, got a connection"),
        }
        assert!(redis.cache().is_empty());
    }

    fn denial(address: &str, entries: &[&str]) -> String {
        let allowed =
            AllowedHosts::parse(&entries.iter().map(|e| e.to_string()).collect::<Vec<_>>())
                .unwrap();
        let client = redis::Client::open(address).expect("a Redis URL");
        match check_allowed(address, &client.get_connection_info().addr, &allowed) {
            Err(Error::Other(message)) => message,
            other => panic!("{address}: expected a denial, got {other:?}"),
        }
    }

    #[test]
    fn the_checked_address_is_the_one_dialled() {
        let local = ["redis://127.0.0.1:6379"];
        for (address, denied) in [
            // Userinfo that looks like the allowed host.
            (
                "redis://127.0.0.1:6379@10.9.8.7:6379",
                "redis://10.9.8.7:6379",
            ),
            ("redis://127.0.0.1@10.9.8.7", "redis://10.9.8.7:6379"),
            // Another port, a query or fragment naming the allowed host.
            ("redis://127.0.0.1:6380", "redis://127.0.0.1:6380"),
            ("redis://10.9.8.7/0?host=127.0.0.1", "redis://10.9.8.7:6379"),
            ("redis://10.9.8.7:6379#127.0.0.1", "redis://10.9.8.7:6379"),
            // Upper case and padding are read as the parser reads them.
            (" REDIS://10.9.8.7", "redis://10.9.8.7:6379"),
            // Another scheme is another entry: `redis://` does not allow `valkey://`.
            ("valkey://127.0.0.1:6379", "valkey://127.0.0.1:6379"),
            ("redis://[::1]:6379", "redis://[::1]:6379"),
        ] {
            let message = denial(address, &local);
            assert!(message.contains(denied), "{address}: {message}");
        }
    }

    #[test]
    fn unix_socket_addresses_are_refused_even_with_allow_all() {
        for address in [
            "unix:///tmp/redis.sock",
            "redis+unix:///tmp/redis.sock",
            "valkey+unix:///tmp/redis.sock",
        ] {
            let message = denial(address, &["*://*:*"]);
            assert!(message.contains("Unix-socket"), "{address}: {message}");
        }
    }

    #[tokio::test]
    async fn closed_port_fails_fast() {
        let allowed = Arc::new(AllowedHosts::parse(&["redis://127.0.0.1:*".to_string()]).unwrap());
        let started = std::time::Instant::now();
        let result = Redis::new().connect(&allowed, "redis://127.0.0.1:1").await;
        assert!(matches!(result, Err(Error::Other(_))), "{:?}", result.err());
        assert!(started.elapsed() < Duration::from_secs(2));
    }

    #[tokio::test]
    async fn malformed_address_is_invalid_address() {
        let result = Redis::new()
            .connect(
                &AllowedHosts::parse(&["*://*:*".to_string()]).unwrap(),
                "not a url",
            )
            .await;
        assert_eq!(result.err(), Some(Error::InvalidAddress));
    }
}
