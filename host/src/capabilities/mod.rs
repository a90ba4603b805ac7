//! Host capabilities, one module each, with the life cycle of Spin's factors ([`Capability`]):
//! link the WIT bindings into the linker, build the app-wide state once at start-up, prepare
//! each instance's state from it. Adding a capability means adding its module and one line in
//! the `capabilities!` list below.

pub mod bindings;
pub mod connections;
pub mod outbound_http;
pub mod postgres;
pub mod redis;
pub mod variables;

use anyhow::Result;
use wasmtime::component::Linker;

use crate::manifest::App;
use crate::server::ServedComponent;
use crate::state::InstanceState;

/// What every capability's app-wide state is built from.
pub struct AppConfig<'a> {
    pub app: &'a App,
    /// Application variable values from every source but the manifest defaults.
    pub resolver: &'a variables::Resolver,
    pub spin_compat: Option<crate::spin_compat::SpinCompat>,
    /// Server connections per Postgres connection string (`--postgres-pool-size`).
    pub postgres_pool_size: usize,
    /// How long a pooled session reuses a prepared statement (`--postgres-statement-max-age-ms`).
    pub postgres_statement_max_age: std::time::Duration,
}

/// Where capability `C`'s per-instance state sits in the store data.
pub type InstanceField<C> = fn(&mut InstanceState) -> &mut <C as Capability>::Instance;

/// One host capability (Spin's factor: `init`, `configure_app`, `prepare`).
pub trait Capability: Sized {
    /// What each instance holds in its store.
    type Instance: Send + 'static;

    /// Links the capability's WIT interfaces, answered from `field` of the store data.
    fn add_to_linker(linker: &mut Linker<InstanceState>, field: InstanceField<Self>) -> Result<()>;

    /// The app-wide state, built once at start-up.
    fn configure_app(config: &AppConfig<'_>) -> Result<Self>;

    /// A fresh instance's state, for one request to `component`.
    fn prepare(&self, component: &ServedComponent) -> Self::Instance;
}

/// Declares the capabilities, one `name: Type` line each: the app-wide [`Capabilities`], the
/// per-instance [`Instances`] of every store, and each life-cycle step run over all of them.
macro_rules! capabilities {
    ($($name:ident: $capability:ty),* $(,)?) => {
        /// App-wide state of every capability.
        pub struct Capabilities {
            $(pub $name: $capability,)*
        }

        /// Per-instance state of every capability.
        pub struct Instances {
            $(pub $name: <$capability as Capability>::Instance,)*
        }

        impl Capabilities {
            pub fn configure(config: &AppConfig<'_>) -> Result<Capabilities> {
                Ok(Capabilities {
                    $($name: <$capability>::configure_app(config)?,)*
                })
            }

            /// Links WASI and every capability into the linker.
            pub fn add_to_linker(linker: &mut Linker<InstanceState>) -> Result<()> {
                wasmtime_wasi::p2::add_to_linker_async(linker)?;
                $(<$capability>::add_to_linker(linker, |s| &mut s.capabilities.$name)?;)*
                Ok(())
            }

            pub fn prepare(&self, component: &ServedComponent) -> Instances {
                Instances {
                    $($name: self.$name.prepare(component),)*
                }
            }
        }
    };
}

capabilities! {
    variables: variables::Variables,
    postgres: postgres::Postgres,
    redis: redis::Redis,
    outbound_http: outbound_http::OutboundHttp,
}
