//! Host capabilities: what a guest imports, one module each, with the life cycle of Spin's
//! factors ([`Capability`]): link the WIT interfaces into the linker, build the app-wide state
//! once at start-up from the capability's own configuration, and prepare each instance's state
//! from the component's grants (`crate::grants`), which may fail. The store data every instance
//! runs in is [`store::InstanceState`]. Adding a capability means adding its module and one line
//! in the `capabilities!` list below.

pub mod bindings;
pub mod connections;
pub mod guest_output;
pub mod key_value;
pub mod outbound_http;
pub mod postgres;
pub mod redis;
pub mod store;
pub mod variables;
pub mod wasi;

use anyhow::{Context, Result};
use wasmtime::component::Linker;

use crate::grants::Grants;
use store::InstanceState;

/// Where capability `C`'s per-instance state sits in the store data.
pub type InstanceField<C> = fn(&mut InstanceState) -> &mut <C as Capability>::Instance;

/// What a capability prepares one instance from.
pub struct Prepare<'a> {
    /// What the manifest grants the component being instantiated.
    pub grants: &'a Grants,
}

/// One host capability (Spin's `Factor`: `init`, `configure_app`, `prepare`).
pub trait Capability: Sized {
    /// Its own configuration (flags, runtime config), handed to [`Capability::configure_app`].
    type Config: Default;
    /// What each instance holds in its store.
    type Instance: Send + 'static;

    /// Links the capability's WIT interfaces, answered from `field` of the store data.
    fn add_to_linker(linker: &mut Linker<InstanceState>, field: InstanceField<Self>) -> Result<()>;

    /// The app-wide state, built once at start-up.
    fn configure_app(config: Self::Config) -> Result<Self>;

    /// A fresh instance's state, for one request to the component `cx.grants` describes.
    fn prepare(&self, cx: &Prepare<'_>) -> Result<Self::Instance>;
}

/// Declares the capabilities, one `name: Type` line each: the app-wide [`Capabilities`], their
/// [`Configs`], the per-instance [`Instances`] of every store, and each life-cycle step run over
/// all of them.
macro_rules! capabilities {
    ($($name:ident: $capability:ty),* $(,)?) => {
        /// App-wide state of every capability.
        pub struct Capabilities {
            $(pub $name: $capability,)*
        }

        /// Each capability's configuration; `Default` where nothing configures it.
        #[derive(Default)]
        pub struct Configs {
            $(pub $name: <$capability as Capability>::Config,)*
        }

        /// Per-instance state of every capability.
        pub struct Instances {
            $(pub $name: <$capability as Capability>::Instance,)*
        }

        impl Capabilities {
            pub fn configure(configs: Configs) -> Result<Capabilities> {
                Ok(Capabilities {
                    $($name: <$capability>::configure_app(configs.$name)
                        .context(concat!("capability ", stringify!($name)))?,)*
                })
            }

            /// Links every capability into the linker.
            pub fn add_to_linker(linker: &mut Linker<InstanceState>) -> Result<()> {
                $(<$capability>::add_to_linker(linker, |s| &mut s.capabilities.$name)?;)*
                Ok(())
            }

            /// Every capability's state for one instance of the component `grants` describes.
            pub fn prepare(&self, grants: &Grants) -> Result<Instances> {
                let cx = Prepare { grants };
                Ok(Instances {
                    $($name: self.$name.prepare(&cx)
                        .with_context(|| format!(
                            "capability {} for component {:?}", stringify!($name), grants.component
                        ))?,)*
                })
            }
        }
    };
}

capabilities! {
    wasi: wasi::Wasi,
    outbound_http: outbound_http::OutboundHttp,
    variables: variables::Variables,
    postgres: postgres::Postgres,
    redis: redis::Redis,
    key_value: key_value::KeyValue,
}
