//! Host-side bindings for the world of `host/wit/world.wit` (Spin's data interfaces:
//! `spin:postgres@4.0.0`, `fermyon:spin/redis@2.0.0`, `fermyon:spin/key-value@2.0.0`,
//! `fermyon:spin/variables@2.0.0`, `wasi:config/store`), generated from the WIT shipped in the
//! spin-sdk crate cargo downloaded: `host/build.rs` finds it (cargo metadata) and writes the one
//! line naming its directories. Imports are async and trappable: each host function returns
//! `wasmtime::Result<_>`, where `Err` traps the guest (reserved for host bugs such as a stale
//! resource handle) and the WIT `result` is inside. Resources are the generated placeholders:
//! each capability keeps what a handle stands for in its own table (`connections.rs`).

#![allow(clippy::all, missing_docs)]

/// `bindgen!` over our world, given spin-sdk's WIT package directories (dependencies first).
macro_rules! spin_bindings {
    ($($package:tt),* $(,)?) => {
        wasmtime::component::bindgen!({
            path: [$($package,)* "wit"],
            world: "spingraph:host/spin-data",
            imports: { default: async | trappable },
            additional_derives: [PartialEq],
            require_store_data_send: true,
        });
    };
}

include!(concat!(env!("OUT_DIR"), "/spin_wit_packages.rs"));
