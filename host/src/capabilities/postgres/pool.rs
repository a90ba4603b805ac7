//! The pools behind [`super::Postgres`]: one deadpool pool per connection string, created
//! (without any I/O) on first use and shared by every instance, and the check of every address a connection
//! string may dial against the component's allowed hosts. Each pooled session keeps its
//! prepared statements (`sessions`).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use deadpool::Runtime;
use deadpool_postgres::{Manager, ManagerConfig, RecyclingMethod};
use hashlink::LruCache;
use tokio_postgres::NoTls;
use tokio_postgres::config::{Host as PgHost, SslMode};

use super::connection::Connection;
use super::error::connection_failed;
use super::sessions::{Pool, Sessions, StatementCache};
use super::spin_compat::SpinCompat;
use super::tls::MakeRustlsConnect;
use super::wit::Error;
use crate::grants::allowed_hosts::{AllowedHosts, redact};

/// Connections per connection string, unless `--postgres-pool-size` says otherwise.
pub const DEFAULT_POOL_SIZE: usize = 32;
/// Establishing a new server connection (TCP, TLS, authentication).
const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);
/// Waiting for a pooled connection when all are busy.
const POOL_WAIT_TIMEOUT: Duration = Duration::from_secs(5);
/// Connection strings with a pool (Spin keeps 16 clients): the least recently used one's pool
/// is dropped for a new one; its sessions in use stay open until given back.
const MAX_TARGETS: usize = 16;

/// The pools, one per connection string (at most [`MAX_TARGETS`]), and how each is made.
pub(super) struct Pools {
    compat: Option<SpinCompat>,
    pool_size: usize,
    statements: StatementCache,
    targets: Mutex<LruCache<String, Arc<Target>>>,
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

impl Pools {
    /// At most `pool_size` (at least 1) server connections per connection string, each keeping
    /// its prepared statements as `statements` says.
    pub(super) fn new(
        compat: Option<SpinCompat>,
        pool_size: usize,
        statements: StatementCache,
    ) -> Pools {
        Pools {
            compat,
            pool_size: pool_size.max(1),
            statements,
            targets: Mutex::new(LruCache::new(MAX_TARGETS)),
        }
    }

    /// Pool use per connection string (password removed), for metrics.
    pub(super) fn status(&self) -> Vec<(String, deadpool::Status)> {
        let targets = self.targets.lock().expect("postgres pools lock");
        targets
            .iter()
            .map(|(_, t)| t)
            .map(|t| (t.display.clone(), t.pool.status()))
            .collect()
    }

    /// Opens a connection for a component: checks `address` against its
    /// allowed hosts, then takes a client from the address's pool.
    pub(super) async fn connect(
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
        Ok(Connection::new(client, self.compat))
    }

    /// The cached target for `address`, created (without any I/O) on first use.
    /// The allowed-hosts check runs on every call.
    fn target(&self, address: &str, allowed_hosts: &AllowedHosts) -> Result<Arc<Target>, Error> {
        let cached = self
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
            recycling_method: match self.compat {
                Some(_) => RecyclingMethod::Clean,
                None => RecyclingMethod::Fast,
            },
        };
        let manager = match config.get_ssl_mode() {
            SslMode::Disable => Manager::from_config(config, NoTls, manager_config),
            _ => Manager::from_config(config, MakeRustlsConnect::new(), manager_config),
        };
        let pool = Pool::builder(Sessions::new(manager, self.statements))
            .max_size(self.pool_size)
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
        let mut targets = self.targets.lock().expect("postgres pools lock");
        if let Some(raced) = targets.get(address) {
            return Ok(raced.clone());
        }
        targets.insert(address.to_string(), target.clone());
        Ok(target)
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

#[cfg(test)]
mod tests {
    use super::*;

    fn pools() -> Pools {
        Pools::new(None, DEFAULT_POOL_SIZE, StatementCache::default())
    }

    #[test]
    fn at_most_sixteen_connection_strings_keep_a_pool_the_least_recently_used_goes() {
        let postgres = pools();
        let allowed = AllowedHosts::parse(&["postgres://127.0.0.1:5432".to_string()]).unwrap();
        let address = |i: usize| format!("postgres://u{i}@127.0.0.1:5432/db");
        for i in 0..MAX_TARGETS {
            postgres.target(&address(i), &allowed).unwrap();
        }
        // Using the first again makes the second the least recently used.
        postgres.target(&address(0), &allowed).unwrap();
        postgres.target(&address(MAX_TARGETS), &allowed).unwrap();
        let pools: Vec<String> = postgres.status().into_iter().map(|(d, _)| d).collect();
        assert_eq!(pools.len(), MAX_TARGETS);
        assert!(pools.iter().any(|d| d.contains("u0@")), "{pools:?}");
        assert!(!pools.iter().any(|d| d.contains("u1@")), "{pools:?}");
        assert!(
            pools
                .iter()
                .any(|d| d.contains(&format!("u{MAX_TARGETS}@"))),
            "{pools:?}"
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

    #[tokio::test]
    async fn closed_port_is_a_prompt_connection_error() {
        let allowed =
            Arc::new(AllowedHosts::parse(&["postgres://127.0.0.1:*".to_string()]).unwrap());
        let started = std::time::Instant::now();
        let result = pools()
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
}
