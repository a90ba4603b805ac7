//! The per-instance store state: one fresh `InstanceState` per request, holding WASI as the
//! component's manifest grants it, wasi-http, and each capability's per-instance state.

use anyhow::{Context, Result};
use wasmtime::component::ResourceTable;
use wasmtime::{StoreLimits, StoreLimitsBuilder};
use wasmtime_wasi::{FsPerms, WasiCtx, WasiCtxView, WasiView};
use wasmtime_wasi_http::{WasiHttpCtx, WasiHttpCtxView, WasiHttpView};

use crate::capabilities::{Capabilities, Instances};
use crate::guest_output::GuestOutput;
use crate::server::ServedComponent;

pub struct InstanceState {
    pub table: ResourceTable,
    pub wasi: WasiCtx,
    pub http: WasiHttpCtx,
    pub capabilities: Instances,
    pub limits: StoreLimits,
}

impl InstanceState {
    /// The state of a fresh instance of `component`, whose linear memory may grow to
    /// `max_memory_bytes`.
    pub fn new(
        capabilities: &Capabilities,
        component: &ServedComponent,
        max_memory_bytes: usize,
    ) -> Result<InstanceState> {
        Ok(InstanceState {
            table: ResourceTable::new(),
            wasi: wasi(component)?,
            http: WasiHttpCtx::new(),
            capabilities: capabilities.prepare(component),
            limits: StoreLimitsBuilder::new()
                .memory_size(max_memory_bytes)
                .trap_on_grow_failure(true)
                .build(),
        })
    }
}

/// WASI as the manifest grants it: the component's `environment`, its `files` read-only, and
/// its output in the host's log.
fn wasi(component: &ServedComponent) -> Result<WasiCtx> {
    let mut wasi = WasiCtx::builder();
    // Both go to the host's log (stderr) as written, but a whole line at a time, so they
    // cannot split a host log line nor be split by one.
    wasi.stdout(GuestOutput::to_host_stderr())
        .stderr(GuestOutput::to_host_stderr());
    for (k, v) in &component.environment {
        wasi.env(k, v);
    }
    for (host, guest) in &component.files {
        wasi.preopened_dir(host, guest, FsPerms::ReadOnly)
            .map_err(anyhow::Error::from)
            .with_context(|| format!("cannot mount {}", host.display()))?;
    }
    Ok(wasi.build())
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
            hooks: &mut self.capabilities.outbound_http,
        }
    }
}
