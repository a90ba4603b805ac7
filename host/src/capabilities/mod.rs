//! Host capabilities, one module each, with Spin's factor life cycle: app-wide
//! state built once at start-up (`Postgres::new`), per-instance state made for
//! each request (`postgres.instance(allowed_hosts)`), and `add_to_linker`.
//! Adding a capability means adding its module and one line in each function here.

pub mod bindings;
pub mod outbound_http;
pub mod postgres;
pub mod redis;
pub mod variables;

use anyhow::Result;
use wasmtime::component::Linker;

use crate::state::InstanceState;

/// App-wide state of the capabilities that keep any (connection pools).
/// Variables are resolved per component at load time (see `variables`).
pub struct Capabilities {
    pub postgres: postgres::Postgres,
    pub redis: redis::Redis,
}

impl Capabilities {
    pub fn new(spin_compat: Option<postgres::SpinCompat>) -> Result<Capabilities> {
        Ok(Capabilities {
            postgres: postgres::Postgres::new(spin_compat),
            redis: redis::Redis::new(),
        })
    }
}

/// Links WASI, wasi-http and every Spin capability into the linker.
pub fn add_to_linker(linker: &mut Linker<InstanceState>) -> Result<()> {
    wasmtime_wasi::p2::add_to_linker_async(linker)?;
    wasmtime_wasi_http::p2::add_only_http_to_linker_async(linker)?;
    variables::add_to_linker(linker, |s| &mut s.variables)?;
    postgres::add_to_linker(linker, |s| &mut s.postgres)?;
    redis::add_to_linker(linker, |s| &mut s.redis)?;
    Ok(())
}
