//! `compute-pay-tempo`: the MPP payment rail — `WWW-Authenticate: Payment`, method `tempo`,
//! intent `charge` — implemented on the `mpp` crate (`=0.18.2`) through its manual API, because
//! the gateway's prices are dynamic.
//!
//! - Challenges are stateless: an HMAC-SHA256 id over the challenge fields with a secret of at
//!   least 32 bytes and a realm that is the same on every replica; an expiry; the request
//!   body bound by `digest`.
//! - Verification pins amount, currency, recipient, chain, method, intent and realm, and the
//!   payer is the Tempo transaction's **sender** (or the signer of a zero-amount proof),
//!   never the credential's `source` field on its own.
//! - Replay markers go through [`compute_core::markers::MarkerStore`] (the gateway passes the
//!   database), so several gateway processes share them.
//! - The receipt is the `Payment-Receipt` header.
//! - [`ProofAuth`]: zero-amount proof credentials as a [`compute_core::auth::WalletAuth`] method.
//! - [`TempoSettings`]: the gateway's `[payments.tempo]` section.
//!
//! Source: `../shared/reference/payments-mpp.md` §1–3 and the `mpp` crate's server API.

mod config;
mod errors;
mod proof;
mod rail;
mod settings;
mod store;
mod wire;

pub use config::{MIN_SECRET_BYTES, PATH_USD, TempoConfig};
pub use proof::{ProofAuth, payment_authorization};
pub use rail::{METHOD, TempoRail};
pub use settings::{MARKER_TTL, TempoSettings};
pub use store::MarkerStoreAdapter;
