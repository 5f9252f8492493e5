//! `compute-gateway`: the binary that composes compute-core, compute-store, the provider crates
//! and the payment rails into one HTTP service serving three API surfaces.
//!
//! - [`config`]: TOML + environment configuration, unknown keys rejected; provider and rail
//!   sections passed through to their crates.
//! - [`compose`]: the one place that names provider crates and rails.
//! - [`server`]: the axum app and its middleware; [`server::app`] builds it without a socket.
//! - [`routes`]: the route table (price rule, capability, handler per route) that drives the
//!   router, `llms.txt`, `openapi.json` and `docs/API.md`.
//! - [`pricing`]: the surfaces' price books and billing.
//! - [`auth`]: wallet authentication for free calls over the enabled methods.
//! - [`payments`]: the rails, the 402, the paid-request flow, credits, reconciliation.
//! - [`services`]: one provider-agnostic service per capability, ownership, expiry.
//! - [`surfaces`]: TinyCompute (`/api`), SiloVPS (`/v1`), x402Compute (`/compute`): shapes only.
//! - [`system`]: `/`, `/health`, `/llms.txt`, `/openapi.json`.
//! - [`problem`]: RFC 9457 problem details for every error.
//! - [`crash`]: fault injection for the crash-recovery test (inert unless asked for).

// Handlers return `Result<_, Problem>`: the error *is* the HTTP answer, built once per failed
// request, so boxing it would buy nothing.
#![allow(clippy::result_large_err)]

pub mod auth;
pub mod compose;
pub mod config;
pub mod crash;
pub mod payments;
pub mod pricing;
pub mod problem;
pub mod routes;
pub mod server;
pub mod services;
pub mod state;
pub mod surfaces;
pub mod system;
