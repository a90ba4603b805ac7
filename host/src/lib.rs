//! `spingraph`: the Spin-compatible host (`up`, `build`), schema migrations (`migrate`) and
//! operator tasks (`admin`), as a library in layers that import only downward:
//!
//! ```text
//! cli           the subcommands (`up`, `build`, `admin`, dev keys)
//!  └ runtime    engine, compose, load, route, serve, watch, metrics
//!     └ capabilities   what guests import: WASI, outbound HTTP, Postgres, Redis,
//!        │             key-value, variables; the store each instance runs in
//!        └ grants      what one component may reach: variables, hosts, files, stores
//!           └ manifest spin.toml as written: schema, validation, templates, --spin-compat
//! ```
//!
//! `host/tests/layers.rs` fails on an import that goes up a layer, or on a cycle between the
//! modules of one layer.

pub mod capabilities;
pub mod cli;
pub mod grants;
pub mod manifest;
pub mod runtime;
