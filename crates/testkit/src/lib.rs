//! `compute-testkit`: test doubles for compute-gateway.
//!
//! - [`fly_fake`]: a stateful fake of the Fly Machines API, in-process ([`fly_fake::spawn`]) or
//!   as the `fly-fake` binary, for end-to-end tests and local demos without Fly.
//! - [`do_fake`]: a stateful fake of the DigitalOcean API v2 (droplets, actions, snapshots,
//!   account SSH keys, tags, the catalog), in-process ([`do_fake::spawn`]) or as the `do-fake`
//!   binary, for the `compute-digitalocean` adapter.
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! use compute_testkit::fly_fake::{FakeConfig, spawn};
//!
//! let fake = spawn(FakeConfig::new("test-token")).await?;
//! let base_url = fake.url(); // give it to compute_fly::FlyConfig::with_base_url
//! assert!(base_url.starts_with("http://127.0.0.1:"));
//! # Ok(()) }
//! ```

pub mod fly_fake;
// Solana: a JSON-RPC shim over LiteSVM, in-process (`svm_shim::spawn`) or as the `svm-shim`
// binary, for the x402 SVM clients and compute-pay-solana.
pub mod svm_shim;
// DigitalOcean: a stateful fake of the API v2, in-process (`do_fake::spawn`) or as the `do-fake`
// binary, for compute-digitalocean.
pub mod do_fake;
