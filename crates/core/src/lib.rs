//! `compute-core`: the vocabulary every other crate of compute-gateway shares.
//!
//! - [`auth`]: the [`auth::WalletAuth`] trait: a wallet proves itself on free calls.
//! - [`money`]: USD amounts on `rust_decimal` and token amounts in integer base units, with
//!   exact conversion (charges round **up** to the next base unit).
//! - [`error`]: the one public [`Error`] type, with a [`ErrorKind`] and a temporary/permanent flag.
//! - [`http`]: the shared retry, backoff and timeout policy for provider HTTP clients, the
//!   `provider_call` tracing span around each call and the [`http::CallObserver`] hook.
//! - [`provider`]: the [`provider::Provider`] base trait, the capability traits (machines,
//!   volumes, snapshots, hosting, domains and DNS, key-value) and the catalog types.
//! - [`billing`]: the [`billing::Billing`] trait that turns a validated request into a quote,
//!   and price books (a surface's published price list as data).
//! - [`payment`]: the [`payment::Payment`] trait (offers, verify, three-state settle).
//! - [`markers`]: the [`markers::MarkerStore`] trait for atomic, expiring replay markers.
//! - [`wallet`]: the wallet address that identifies a payer and owns resources.
//! - `conformance` (feature `testing`): the suite every provider crate runs against its fake.
//!
//! # Object safety
//! Every trait here is object safe and written with `#[async_trait]`, so the gateway composes
//! them at run time as `Arc<dyn Trait>` (the choice is made once, for all crates; native
//! `async fn` in traits is not object safe). Each trait has a compile-time `dyn` check in its
//! module's tests.

pub mod auth;
pub mod billing;
#[cfg(feature = "testing")]
pub mod conformance;
pub mod error;
pub mod http;
pub mod markers;
pub mod money;
pub mod payment;
pub mod provider;
pub mod wallet;

pub use error::{Error, ErrorKind, Result};
pub use money::{TokenAmount, Usd};
pub use wallet::WalletAddress;
