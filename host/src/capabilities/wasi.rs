//! WASI 0.2 (`wasi:cli`, `wasi:filesystem`, `wasi:clocks`, `wasi:random`, `wasi:io`,
//! `wasi:sockets`) as the manifest grants it: the component's `environment`, its `files`
//! read-only, and its stdout and stderr in the host's log.

use anyhow::{Context, Result};
use wasmtime::component::Linker;
use wasmtime_wasi::{FsPerms, WasiCtx};

use crate::capabilities::guest_output::GuestOutput;
use crate::capabilities::store::InstanceState;
use crate::capabilities::{Capability, InstanceField, Prepare};

/// App-wide WASI state: none.
pub struct Wasi;

impl Capability for Wasi {
    type Config = ();
    type Instance = WasiCtx;

    /// Links every WASI 0.2 interface; they reach the instance's `WasiCtx` through
    /// `WasiView` (`store.rs`), not through `field`.
    fn add_to_linker(linker: &mut Linker<InstanceState>, _: InstanceField<Self>) -> Result<()> {
        wasmtime_wasi::p2::add_to_linker_async(linker)?;
        Ok(())
    }

    fn configure_app((): ()) -> Result<Wasi> {
        Ok(Wasi)
    }

    fn prepare(&self, cx: &Prepare<'_>) -> Result<WasiCtx> {
        let mut wasi = WasiCtx::builder();
        // Both go to the host's log (stderr) as written, but a whole line at a time, so they
        // cannot split a host log line nor be split by one.
        wasi.stdout(GuestOutput::to_host_stderr())
            .stderr(GuestOutput::to_host_stderr());
        for (k, v) in &cx.grants.environment {
            wasi.env(k, v);
        }
        for (host, guest) in &cx.grants.files {
            wasi.preopened_dir(host, guest, FsPerms::ReadOnly)
                .map_err(anyhow::Error::from)
                .with_context(|| format!("cannot mount {}", host.display()))?;
        }
        Ok(wasi.build())
    }
}
