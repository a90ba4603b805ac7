//! The per-instance store state: one fresh `InstanceState` per request, holding
//! WASI, wasi-http and each capability's per-instance state.

use wasmtime::StoreLimits;
use wasmtime::component::ResourceTable;
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};
use wasmtime_wasi_http::{WasiHttpCtx, WasiHttpCtxView, WasiHttpView};

use crate::capabilities::outbound_http::OutboundHttpInstance;
use crate::capabilities::postgres::PostgresInstance;
use crate::capabilities::redis::RedisInstance;
use crate::capabilities::variables::VariablesInstance;

pub struct InstanceState {
    pub table: ResourceTable,
    pub wasi: WasiCtx,
    pub http: WasiHttpCtx,
    pub outbound_http: OutboundHttpInstance,
    pub variables: VariablesInstance,
    pub postgres: PostgresInstance,
    pub redis: RedisInstance,
    pub limits: StoreLimits,
}

impl WasiView for InstanceState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

impl WasiHttpView for InstanceState {
    fn http(&mut self) -> WasiHttpCtxView<'_> {
        WasiHttpCtxView {
            ctx: &mut self.http,
            table: &mut self.table,
            hooks: &mut self.outbound_http,
        }
    }
}
