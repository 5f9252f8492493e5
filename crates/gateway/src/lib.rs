//! `compute-gateway`: the binary that composes compute-core, compute-store, the provider crates
//! and the payment rails into one HTTP service serving three API surfaces.
//!
//! - [`config`]: TOML + environment configuration, unknown keys rejected.
//! - [`server`]: the axum app and its middleware; [`server::app`] builds it without a socket.
//! - [`routes`]: the route table that drives the router, `llms.txt` and `openapi.json`.
//! - [`surfaces`]: TinyCompute (`/api`), SiloVPS (`/v1`), x402Compute (`/compute`).
//! - [`system`]: `/`, `/health`, `/llms.txt`, `/openapi.json`.
//! - [`problem`]: RFC 9457 problem details for every error.

pub mod config;
pub mod problem;
pub mod providers;
pub mod routes;
pub mod server;
pub mod state;
pub mod surfaces;
pub mod system;
