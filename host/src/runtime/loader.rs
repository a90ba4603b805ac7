//! Turns a manifest component into a [`ServedComponent`]: composes its dependencies, compiles it
//! (through the on-disk cache), pre-instantiates it with the host's linker and gathers what each
//! of its instances is granted. Start-up and `up --watch` reloads share this one path
//! ([`Loader::read`], then [`Loader::build`]).

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use anyhow::{Context, Result};
use wasmtime::Engine;
use wasmtime::component::Linker;
use wasmtime_wasi_http::p2::bindings::ProxyPre;

use crate::capabilities::store::InstanceState;
use crate::grants::Grants;
use crate::grants::variables::Variables;
use crate::manifest::{App, Component};
use crate::runtime::engine::{self, WasmDigest};
use crate::runtime::server::ServedComponent;
use crate::runtime::{compose, deny};

/// A component's bytes as they are compiled (composed with its dependencies), with their digest.
pub struct ComponentWasm {
    pub bytes: Vec<u8>,
    pub digest: WasmDigest,
}

/// Everything a component load needs, fixed for the life of the process (the manifest is read
/// once; only the wasm files behind it may change).
pub struct Loader {
    app: App,
    /// For the `{{ variable }}`s in what components are granted.
    variables: Arc<Variables>,
    engine: Engine,
    linker: Linker<InstanceState>,
    cache_dir: PathBuf,
}

impl Loader {
    pub fn new(
        app: App,
        variables: Arc<Variables>,
        engine: Engine,
        linker: Linker<InstanceState>,
        cache_dir: PathBuf,
    ) -> Loader {
        Loader {
            app,
            variables,
            engine,
            linker,
            cache_dir,
        }
    }

    pub fn app(&self) -> &App {
        &self.app
    }

    /// Every component a trigger routes to, once each, in route order.
    pub fn routed_ids(&self) -> Vec<String> {
        let mut ids: Vec<String> = Vec::new();
        for trigger in &self.app.manifest.trigger.http {
            if !ids.contains(&trigger.component) {
                ids.push(trigger.component.clone());
            }
        }
        ids
    }

    /// The files component `id`'s wasm is built from: its `source` and every dependency's `path`.
    pub fn source_files(&self, id: &str) -> Vec<PathBuf> {
        let Some(component) = self.app.manifest.component.get(id) else {
            return Vec::new();
        };
        std::iter::once(self.app.resolve(&component.source))
            .chain(
                component
                    .dependencies
                    .values()
                    .map(|dep| self.app.dependency_wasm(dep)),
            )
            .collect()
    }

    /// Compiles and pre-instantiates every routed component (start-up).
    pub fn load_routed(&self) -> Result<HashMap<String, ServedComponent>> {
        self.routed_ids()
            .into_iter()
            .map(|id| {
                let t = Instant::now();
                let served = self.load(&id)?;
                tracing::info!(component = %id, load_ms = t.elapsed().as_millis() as u64, "component ready");
                Ok((id, served))
            })
            .collect()
    }

    /// Reads component `id`'s wasm (composed with its dependencies) from disk and makes it ready
    /// to serve, with what its manifest grants.
    pub fn load(&self, id: &str) -> Result<ServedComponent> {
        let wasm = self.read(id)?;
        self.build(id, &wasm)
    }

    /// Component `id`'s wasm as it will be compiled: its `source` composed with its dependencies.
    pub fn read(&self, id: &str) -> Result<ComponentWasm> {
        let bytes = compose::component_bytes(&self.app, id, self.component(id)?)
            .with_context(|| format!("component {id:?}"))?;
        let digest = engine::wasm_digest(&bytes);
        Ok(ComponentWasm { bytes, digest })
    }

    /// Compiles (through the cache) and pre-instantiates `wasm` as component `id`.
    pub fn build(&self, id: &str, wasm: &ComponentWasm) -> Result<ServedComponent> {
        self.try_build(id, wasm)
            .with_context(|| format!("component {id:?}"))
    }

    fn component(&self, id: &str) -> Result<&Component> {
        self.app
            .manifest
            .component
            .get(id)
            .with_context(|| format!("no [component.{id}] in {}", self.app.path.display()))
    }

    fn try_build(&self, id: &str, wasm: &ComponentWasm) -> Result<ServedComponent> {
        let compiled =
            engine::load_component(&self.engine, &wasm.bytes, &wasm.digest, &self.cache_dir)?;
        // A dependency's denied imports (`deny.rs`) are answered by this component's own copy
        // of the linker; without any, the shared one serves.
        let denied_linker;
        let linker = if deny::has_denied(&compiled) {
            let mut linker = self.linker.clone();
            deny::define_denied(&mut linker, &compiled)?;
            denied_linker = linker;
            &denied_linker
        } else {
            &self.linker
        };
        let pre = linker
            .instantiate_pre(&compiled)
            .map_err(anyhow::Error::from)
            .context("the component imports something spingraph up does not provide")?;
        let pre = ProxyPre::new(pre)
            .map_err(anyhow::Error::from)
            .context("the component does not export wasi:http/incoming-handler")?;
        let grants = Grants::of(&self.app, id, &self.variables)?;
        Ok(ServedComponent {
            id: Arc::from(id),
            digest: wasm.digest,
            pre,
            grants: Arc::new(grants),
        })
    }
}
