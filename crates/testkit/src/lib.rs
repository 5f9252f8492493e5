//! `compute-testkit`: test doubles for compute-gateway.
//!
//! - [`fly_fake`]: a stateful fake of the Fly Machines API, in-process ([`fly_fake::spawn`]) or
//!   as the `fly-fake` binary, for end-to-end tests and local demos without Fly.
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
