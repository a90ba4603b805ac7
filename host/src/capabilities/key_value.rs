//! `fermyon:spin/key-value@2.0.0`: the key-value stores a component names in its manifest
//! (`key_value_stores = ["default"]`), each backed by what the runtime config's
//! `[key_value_store.<label>]` says, as in Spin (`crates/factor-key-value`,
//! `crates/key-value-redis`):
//!
//! - `type = "redis"`, `url = "redis://..."`: one Redis server, keys stored as they are named
//!   (`GET`, `SET`, `DEL`, `EXISTS`, `KEYS *`), connected on first use and reconnected after a
//!   failure. The runtime config is the operator's, so its `url` is not checked against the
//!   component's `allowed_outbound_hosts` (nor is it in Spin).
//! - `default` without a runtime-config entry: Spin keeps it in `.spin/sqlite_key_value.db`; this
//!   host keeps it in memory, for the life of the process, and says so loudly at start-up.
//!
//! Opening a store the component does not name is `access-denied`; one the host does not have is
//! `no-such-store`. Each backend sits behind [`Backend`], so the capability is tested without a
//! server.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{Context, Result, ensure};
use futures_util::future::BoxFuture;
use redis::AsyncCommands;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use serde::Deserialize;
use tokio::sync::OnceCell;
use wasmtime::component::{HasSelf, Linker, Resource, ResourceTable};

use crate::capabilities::bindings::fermyon::spin::key_value as wit;
use crate::capabilities::store::InstanceState;
use crate::capabilities::{Capability, InstanceField, Prepare};
use crate::grants::allowed_hosts::redact;
use crate::grants::variables::KEY_VALUE_KEY;
use crate::manifest::App;
use wit::Error;

/// The store every Spin app has without configuring it.
pub const DEFAULT_STORE: &str = "default";
/// Stores one instance may hold open at once (Spin's table holds as many).
const MAX_OPEN_STORES: usize = 256;
/// Establishing a connection to a store's server.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(1);
/// Waiting for a reply to one command.
const RESPONSE_TIMEOUT: Duration = Duration::from_secs(2);

/// What a backend's failure tells the guest (`error.other`).
type BackendResult<T> = Result<T, String>;

/// One store's backend: where its keys live.
pub trait Backend: Send + Sync {
    fn get<'a>(&'a self, key: &'a str) -> BoxFuture<'a, BackendResult<Option<Vec<u8>>>>;
    fn set<'a>(&'a self, key: &'a str, value: Vec<u8>) -> BoxFuture<'a, BackendResult<()>>;
    fn delete<'a>(&'a self, key: &'a str) -> BoxFuture<'a, BackendResult<()>>;
    fn exists<'a>(&'a self, key: &'a str) -> BoxFuture<'a, BackendResult<bool>>;
    fn keys(&self) -> BoxFuture<'_, BackendResult<Vec<String>>>;
}

/// A store held in this process's memory.
#[derive(Default)]
pub struct MemoryBackend {
    entries: Mutex<BTreeMap<String, Vec<u8>>>,
}

impl MemoryBackend {
    fn entries(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, Vec<u8>>> {
        self.entries.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Backend for MemoryBackend {
    fn get<'a>(&'a self, key: &'a str) -> BoxFuture<'a, BackendResult<Option<Vec<u8>>>> {
        let value = self.entries().get(key).cloned();
        Box::pin(async move { Ok(value) })
    }

    fn set<'a>(&'a self, key: &'a str, value: Vec<u8>) -> BoxFuture<'a, BackendResult<()>> {
        self.entries().insert(key.to_string(), value);
        Box::pin(async { Ok(()) })
    }

    fn delete<'a>(&'a self, key: &'a str) -> BoxFuture<'a, BackendResult<()>> {
        self.entries().remove(key);
        Box::pin(async { Ok(()) })
    }

    fn exists<'a>(&'a self, key: &'a str) -> BoxFuture<'a, BackendResult<bool>> {
        let exists = self.entries().contains_key(key);
        Box::pin(async move { Ok(exists) })
    }

    fn keys(&self) -> BoxFuture<'_, BackendResult<Vec<String>>> {
        let keys = self.entries().keys().cloned().collect();
        Box::pin(async move { Ok(keys) })
    }
}

/// A store on a Redis server, connected on first use.
pub struct RedisBackend {
    client: redis::Client,
    /// The URL without its password, for messages.
    display: String,
    connection: OnceCell<ConnectionManager>,
}

impl RedisBackend {
    pub fn new(url: &str) -> Result<RedisBackend> {
        let display = redact(url);
        let client =
            redis::Client::open(url).with_context(|| format!("invalid Redis URL {display}"))?;
        Ok(RedisBackend {
            client,
            display,
            connection: OnceCell::new(),
        })
    }

    /// The shared connection (the manager reconnects after a failure on its own).
    async fn connection(&self) -> BackendResult<ConnectionManager> {
        self.connection
            .get_or_try_init(|| {
                let config = ConnectionManagerConfig::new()
                    .set_connection_timeout(CONNECT_TIMEOUT)
                    .set_response_timeout(RESPONSE_TIMEOUT)
                    .set_number_of_retries(1);
                self.client.get_connection_manager_with_config(config)
            })
            .await
            .cloned()
            .map_err(|e| self.failed(e))
    }

    fn failed(&self, err: redis::RedisError) -> String {
        format!("key-value store at {}: {err}", self.display)
    }
}

impl Backend for RedisBackend {
    fn get<'a>(&'a self, key: &'a str) -> BoxFuture<'a, BackendResult<Option<Vec<u8>>>> {
        Box::pin(async move {
            let mut c = self.connection().await?;
            c.get(key).await.map_err(|e| self.failed(e))
        })
    }

    fn set<'a>(&'a self, key: &'a str, value: Vec<u8>) -> BoxFuture<'a, BackendResult<()>> {
        Box::pin(async move {
            let mut c = self.connection().await?;
            c.set(key, value).await.map_err(|e| self.failed(e))
        })
    }

    fn delete<'a>(&'a self, key: &'a str) -> BoxFuture<'a, BackendResult<()>> {
        Box::pin(async move {
            let mut c = self.connection().await?;
            c.del(key).await.map_err(|e| self.failed(e))
        })
    }

    fn exists<'a>(&'a self, key: &'a str) -> BoxFuture<'a, BackendResult<bool>> {
        Box::pin(async move {
            let mut c = self.connection().await?;
            c.exists(key).await.map_err(|e| self.failed(e))
        })
    }

    fn keys(&self) -> BoxFuture<'_, BackendResult<Vec<String>>> {
        Box::pin(async move {
            let mut c = self.connection().await?;
            c.keys("*").await.map_err(|e| self.failed(e))
        })
    }
}

/// `[key_value_store.<label>]` of the runtime config, as Spin reads it.
#[derive(Debug, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase", deny_unknown_fields)]
enum StoreConfig {
    Redis { url: String },
}

/// The key-value capability's configuration: a backend per store label.
#[derive(Default)]
pub struct KeyValueConfig {
    pub stores: HashMap<String, Arc<dyn Backend>>,
}

impl KeyValueConfig {
    /// The stores `runtime_config` defines, plus an in-memory `default` when a component names it
    /// and the runtime config does not define it. A label a component names that neither
    /// defines is an error naming the component and the label (Spin fails to start too).
    pub fn from_runtime_config(app: &App, runtime_config: Option<&toml::Table>) -> Result<Self> {
        let mut stores: HashMap<String, Arc<dyn Backend>> = HashMap::new();
        if let Some(table) = runtime_config.and_then(|rc| rc.get(KEY_VALUE_KEY)) {
            let table = table
                .as_table()
                .with_context(|| format!("{KEY_VALUE_KEY}: expected [{KEY_VALUE_KEY}.<label>]"))?;
            for (label, entry) in table {
                let config = StoreConfig::deserialize(entry.clone()).map_err(|e| {
                    anyhow::anyhow!(
                        "[{KEY_VALUE_KEY}.{label}]: {} (spingraph up supports type = \"redis\" \
                         with a url)",
                        e.message()
                    )
                })?;
                let backend: Arc<dyn Backend> = match config {
                    StoreConfig::Redis { url } => Arc::new(
                        RedisBackend::new(&url)
                            .with_context(|| format!("[{KEY_VALUE_KEY}.{label}]"))?,
                    ),
                };
                stores.insert(label.clone(), backend);
            }
        }
        for (id, component) in &app.manifest.component {
            for label in &component.key_value_stores {
                if stores.contains_key(label) {
                    continue;
                }
                ensure!(
                    label == DEFAULT_STORE,
                    "[component.{id}] key_value_stores names {label:?}, which the runtime config \
                     does not define (add [{KEY_VALUE_KEY}.{label}] with type = \"redis\" and a \
                     url to --runtime-config-file)"
                );
                tracing::warn!(
                    component = %id,
                    "key-value store \"default\" is kept in memory and lost when spingraph up \
                     stops (Spin keeps it in .spin/sqlite_key_value.db): define \
                     [{KEY_VALUE_KEY}.default] in the runtime config to keep it"
                );
                stores.insert(label.clone(), Arc::new(MemoryBackend::default()));
            }
        }
        Ok(KeyValueConfig { stores })
    }
}

/// App-wide key-value state: the stores, shared by every instance.
#[derive(Clone, Default)]
pub struct KeyValue {
    stores: Arc<HashMap<String, Arc<dyn Backend>>>,
}

impl Capability for KeyValue {
    type Config = KeyValueConfig;
    type Instance = KeyValueInstance;

    /// Links `fermyon:spin/key-value@2.0.0`.
    fn add_to_linker(linker: &mut Linker<InstanceState>, field: InstanceField<Self>) -> Result<()> {
        Ok(wit::add_to_linker::<_, HasSelf<_>>(linker, field)?)
    }

    fn configure_app(config: KeyValueConfig) -> Result<KeyValue> {
        Ok(KeyValue {
            stores: Arc::new(config.stores),
        })
    }

    fn prepare(&self, cx: &Prepare<'_>) -> Result<KeyValueInstance> {
        Ok(KeyValueInstance {
            stores: self.stores.clone(),
            granted: cx.grants.key_value_stores.clone(),
            table: ResourceTable::new(),
            open: 0,
        })
    }
}

/// An open store, as the guest holds it.
pub struct Store {
    backend: Arc<dyn Backend>,
}

/// Per-instance key-value state: the labels the component may open and the stores it opened.
pub struct KeyValueInstance {
    stores: Arc<HashMap<String, Arc<dyn Backend>>>,
    granted: Vec<String>,
    table: ResourceTable,
    /// Stores open in `table`.
    open: usize,
}

impl KeyValueInstance {
    /// The store behind the guest's handle (`rep` indexes this instance's table, as in Spin).
    fn store(&self, store: &Handle) -> wasmtime::Result<Arc<dyn Backend>> {
        Ok(self
            .table
            .get(&Resource::<Store>::new_borrow(store.rep()))?
            .backend
            .clone())
    }
}

type Answer<T> = wasmtime::Result<Result<T, Error>>;
/// The guest's handle on a store it opened.
type Handle = Resource<wit::Store>;

impl wit::Host for KeyValueInstance {}

impl wit::HostStore for KeyValueInstance {
    async fn open(&mut self, label: String) -> Answer<Handle> {
        if !self.granted.contains(&label) {
            return Ok(Err(Error::AccessDenied));
        }
        let Some(backend) = self.stores.get(&label).cloned() else {
            return Ok(Err(Error::NoSuchStore));
        };
        if self.open >= MAX_OPEN_STORES {
            return Ok(Err(Error::StoreTableFull));
        }
        let store = self.table.push(Store { backend })?;
        self.open += 1;
        Ok(Ok(Resource::new_own(store.rep())))
    }

    async fn get(&mut self, store: Handle, key: String) -> Answer<Option<Vec<u8>>> {
        let backend = self.store(&store)?;
        Ok(backend.get(&key).await.map_err(Error::Other))
    }

    async fn set(&mut self, store: Handle, key: String, value: Vec<u8>) -> Answer<()> {
        let backend = self.store(&store)?;
        Ok(backend.set(&key, value).await.map_err(Error::Other))
    }

    async fn delete(&mut self, store: Handle, key: String) -> Answer<()> {
        let backend = self.store(&store)?;
        Ok(backend.delete(&key).await.map_err(Error::Other))
    }

    async fn exists(&mut self, store: Handle, key: String) -> Answer<bool> {
        let backend = self.store(&store)?;
        Ok(backend.exists(&key).await.map_err(Error::Other))
    }

    async fn get_keys(&mut self, store: Handle) -> Answer<Vec<String>> {
        let backend = self.store(&store)?;
        Ok(backend.keys().await.map_err(Error::Other))
    }

    async fn drop(&mut self, store: Handle) -> wasmtime::Result<()> {
        self.table.delete(Resource::<Store>::new_own(store.rep()))?;
        self.open -= 1;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use wit::HostStore;

    use super::*;
    use crate::grants::Grants;

    /// A backend whose every call fails, as a store whose server is down.
    struct Down;

    impl Backend for Down {
        fn get<'a>(&'a self, _: &'a str) -> BoxFuture<'a, BackendResult<Option<Vec<u8>>>> {
            Box::pin(async { Err("server down".to_string()) })
        }
        fn set<'a>(&'a self, _: &'a str, _: Vec<u8>) -> BoxFuture<'a, BackendResult<()>> {
            Box::pin(async { Err("server down".to_string()) })
        }
        fn delete<'a>(&'a self, _: &'a str) -> BoxFuture<'a, BackendResult<()>> {
            Box::pin(async { Err("server down".to_string()) })
        }
        fn exists<'a>(&'a self, _: &'a str) -> BoxFuture<'a, BackendResult<bool>> {
            Box::pin(async { Err("server down".to_string()) })
        }
        fn keys(&self) -> BoxFuture<'_, BackendResult<Vec<String>>> {
            Box::pin(async { Err("server down".to_string()) })
        }
    }

    fn key_value(stores: Vec<(&str, Arc<dyn Backend>)>) -> KeyValue {
        KeyValue::configure_app(KeyValueConfig {
            stores: stores
                .into_iter()
                .map(|(label, backend)| (label.to_string(), backend))
                .collect(),
        })
        .unwrap()
    }

    fn instance(key_value: &KeyValue, granted: &[&str]) -> KeyValueInstance {
        let mut grants = Grants::none("probe");
        grants.key_value_stores = granted.iter().map(|s| s.to_string()).collect();
        key_value.prepare(&Prepare { grants: &grants }).unwrap()
    }

    #[tokio::test]
    async fn what_one_instance_sets_the_next_reads_lists_and_deletes() {
        let kv = key_value(vec![("default", Arc::new(MemoryBackend::default()))]);
        let mut first = instance(&kv, &["default"]);
        let store = first.open("default".into()).await.unwrap().unwrap();
        first
            .set(store, "k".into(), b"v".to_vec())
            .await
            .unwrap()
            .unwrap();

        let mut next = instance(&kv, &["default"]);
        let store = next.open("default".into()).await.unwrap().unwrap();
        let rep = |s: &Handle| Handle::new_borrow(s.rep());
        assert_eq!(
            next.get(rep(&store), "k".into()).await.unwrap(),
            Ok(Some(b"v".to_vec()))
        );
        assert_eq!(
            next.exists(rep(&store), "k".into()).await.unwrap(),
            Ok(true)
        );
        assert_eq!(
            next.get_keys(rep(&store)).await.unwrap(),
            Ok(vec!["k".to_string()])
        );
        next.delete(rep(&store), "k".into()).await.unwrap().unwrap();
        assert_eq!(next.get(rep(&store), "k".into()).await.unwrap(), Ok(None));
        assert_eq!(
            next.exists(rep(&store), "k".into()).await.unwrap(),
            Ok(false)
        );
        next.drop(store).await.unwrap();
        assert_eq!(next.open, 0);
    }

    #[tokio::test]
    async fn a_store_the_component_is_not_granted_is_access_denied_an_unknown_one_no_such_store() {
        let kv = key_value(vec![("default", Arc::new(MemoryBackend::default()))]);
        let mut none = instance(&kv, &[]);
        assert_eq!(
            none.open("default".into()).await.unwrap().err(),
            Some(Error::AccessDenied)
        );
        let mut other = instance(&kv, &["cache"]);
        assert_eq!(
            other.open("cache".into()).await.unwrap().err(),
            Some(Error::NoSuchStore)
        );
    }

    #[tokio::test]
    async fn a_failing_backend_is_the_wit_error_other_never_a_trap() {
        let kv = key_value(vec![("default", Arc::new(Down))]);
        let mut i = instance(&kv, &["default"]);
        let store = i.open("default".into()).await.unwrap().unwrap();
        assert_eq!(
            i.get(store, "k".into()).await.unwrap(),
            Err(Error::Other("server down".to_string()))
        );
    }

    #[tokio::test]
    async fn an_instance_holds_at_most_max_open_stores() {
        let kv = key_value(vec![("default", Arc::new(MemoryBackend::default()))]);
        let mut i = instance(&kv, &["default"]);
        for _ in 0..MAX_OPEN_STORES {
            i.open("default".into()).await.unwrap().unwrap();
        }
        assert_eq!(
            i.open("default".into()).await.unwrap().err(),
            Some(Error::StoreTableFull)
        );
    }

    fn app(key_value_stores: &str) -> App {
        let manifest = format!(
            "spin_manifest_version = 2\n[application]\nname = \"t\"\n\
             [[trigger.http]]\nroute = \"/...\"\ncomponent = \"web\"\n\
             [component.web]\nsource = \"web.wasm\"\nkey_value_stores = {key_value_stores}\n"
        );
        App {
            manifest: crate::manifest::Manifest::parse(&manifest).unwrap(),
            path: "spin.toml".into(),
            dir: ".".into(),
        }
    }

    fn config(stores: &str, rc: &str) -> Result<KeyValueConfig> {
        let rc: toml::Table = toml::from_str(rc).unwrap();
        KeyValueConfig::from_runtime_config(&app(stores), Some(&rc))
    }

    #[test]
    fn default_is_in_memory_unless_the_runtime_config_defines_it() {
        let c = KeyValueConfig::from_runtime_config(&app("[\"default\"]"), None).unwrap();
        assert_eq!(c.stores.len(), 1);
        let c = config(
            "[\"default\"]",
            "[key_value_store.default]\ntype = \"redis\"\nurl = \"redis://127.0.0.1:6379\"\n",
        )
        .unwrap();
        assert_eq!(c.stores.len(), 1);
    }

    #[test]
    fn a_label_no_one_defines_or_an_unsupported_store_is_an_error_naming_it() {
        for (stores, rc, words) in [
            (
                "[\"cache\"]",
                "",
                &["\"cache\"", "[key_value_store.cache]"][..],
            ),
            (
                "[]",
                "[key_value_store.default]\ntype = \"spin\"\npath = \"kv.db\"\n",
                &["[key_value_store.default]", "redis"],
            ),
            (
                "[]",
                "[key_value_store.default]\ntype = \"redis\"\nurl = \"redis://h\"\nfoo = 1\n",
                &["foo"],
            ),
        ] {
            let err = format!("{:#}", config(stores, rc).err().unwrap());
            assert!(
                words.iter().all(|word| err.contains(word)),
                "{stores} with {rc:?}: {err}"
            );
        }
    }
}
