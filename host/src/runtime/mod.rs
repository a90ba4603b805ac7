//! The engine and the HTTP trigger: compile and compose components (`engine`, `compose`,
//! `deny`), turn each manifest component into a served one (`loader`), route and serve requests
//! (`router`, `server`, `failure`), reload changed wasm (`watch`), and report (`access_log`,
//! `metrics`).

pub mod access_log;
pub mod client_connections;
pub mod compose;
pub mod deny;
pub mod engine;
pub mod failure;
pub mod loader;
pub mod metrics;
pub mod router;
pub mod server;
pub mod watch;
