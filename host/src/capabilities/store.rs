//! The per-instance store data: one fresh `InstanceState` per request, holding the resource
//! table WASI and wasi-http share, every capability's per-instance state and the memory limit.

use anyhow::Result;
use wasmtime::component::ResourceTable;
use wasmtime::{StoreLimits, StoreLimitsBuilder};
use wasmtime_wasi::{WasiCtxView, WasiView};
use wasmtime_wasi_http::{WasiHttpCtxView, WasiHttpView};

use crate::capabilities::{Capabilities, Instances};
use crate::grants::Grants;

pub struct InstanceState {
    pub table: ResourceTable,
    pub capabilities: Instances,
    pub limits: StoreLimits,
}

impl InstanceState {
    /// The state of a fresh instance of the component `grants` describes, whose linear memory
    /// may grow to `max_memory_bytes`.
    pub fn new(
        capabilities: &Capabilities,
        grants: &Grants,
        max_memory_bytes: usize,
    ) -> Result<InstanceState> {
        Ok(InstanceState {
            table: ResourceTable::new(),
            capabilities: capabilities.prepare(grants)?,
            limits: StoreLimitsBuilder::new()
                .memory_size(max_memory_bytes)
                .trap_on_grow_failure(true)
                .build(),
        })
    }
}

impl WasiView for InstanceState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.capabilities.wasi,
            table: &mut self.table,
        }
    }
}

impl WasiHttpView for InstanceState {
    fn http(&mut self) -> WasiHttpCtxView<'_> {
        let http = &mut self.capabilities.outbound_http;
        WasiHttpCtxView {
            ctx: &mut http.ctx,
            table: &mut self.table,
            hooks: &mut http.hooks,
        }
    }
}
