//! `compute-gateway`: the binary that composes compute-core, compute-store, the provider crates
//! and the payment rails into one HTTP service serving three API surfaces.
//!
//! - [`config`]: TOML + environment configuration, unknown keys rejected.
//! - [`server`]: the axum app and its middleware; [`server::app`] builds it without a socket.
//! - [`routes`]: the route table that drives the router, `llms.txt` and `openapi.json`.
//! - [`surfaces`]: TinyCompute (`/api`), SiloVPS (`/v1`), x402Compute (`/compute`).
//! - [`system`]: `/`, `/health`, `/llms.txt`, `/openapi.json`.
//! - [`payments`]: the rails, the 402, the paid-request flow, wallet auth, reconciliation.
//! - [`problem`]: RFC 9457 problem details for every error.

// Handlers return `Result<_, Problem>`: the error *is* the HTTP answer, built once per failed
// request, so boxing it would buy nothing.
#![allow(clippy::result_large_err)]

pub mod config;
pub mod payments;
pub mod problem;
pub mod providers;
pub mod routes;
pub mod server;
pub mod services;
pub mod state;
pub mod surfaces;
pub mod system;
