//! `compute-pay-solana`: x402 `exact` payments on Solana, with the gateway as its own
//! facilitator and fee payer. The payer signs an SPL `TransferChecked` of the price to the
//! merchant's associated token account; the gateway checks it, co-signs it as fee payer (it
//! pays the network fee in SOL, so the payer needs no SOL), sends it and waits for
//! `confirmed`.
//!
//! Units: token amounts are integer **base units** of the mint (USDC: 6 decimals, so
//! `$0.001` is 1 000 units; a USD charge is rounded **up** to the next unit,
//! [`compute_core::money`]); network fees are **lamports** (10⁻⁹ SOL); the compute-unit price
//! is in **micro-lamports** per compute unit.
//!
//! Sources: `../shared/reference/payments-x402.md` §1 (wire) and §2 "Solana (SVM) `exact`"
//! (the check list), cross-read with what @x402/svm 2.27 and PyPI x402 2.25 build.
//!
//! - [`SolanaConfig`]: the gateway's `[payments.solana]` section (serde, unknown keys are
//!   errors, `Debug` redacts the RPC URL and the fee payer key).
//! - [`SolanaRail`]: implements [`compute_core::payment::Payment`]:
//!   - `offers`: one x402 `exact` offer (v2 with the CAIP-2 network, v1 with its name), with
//!     `extra.feePayer` (and `extra.memo` when configured);
//!   - `verify`: the whole check list, in order (see [`SolanaRail`]), ending in a simulation;
//!   - `settle`: co-sign, `sendTransaction`, bounded confirmation, with an in-process
//!     in-flight lock so one transaction is never sent twice concurrently;
//!   - `reconcile`: `getSignatureStatuses` (plus blockhash expiry) of an `Unknown` settlement;
//!   - `receipt_headers`: `PAYMENT-RESPONSE` (v2) or `X-PAYMENT-RESPONSE` (v1).
//! - [`SolanaSignatureVerifier`]: ed25519 checks of x402Compute's `X-Auth-*` headers.
//!
//! No globals: every rail owns its RPC client, its key and its locks.

#![deny(missing_docs)]

mod config;
pub mod programs;
mod rail;
pub mod reasons;
mod rpc;
mod settle;
mod signed_headers;
mod tx;
mod verify;

pub use config::{
    DEFAULT_CONFIRMATION_POLL_MS, DEFAULT_CONFIRMATION_TIMEOUT_SECONDS, DEFAULT_MAX_COMPUTE_UNIT_LIMIT,
    DEFAULT_MAX_COMPUTE_UNIT_PRICE, DEFAULT_MAX_TIMEOUT_SECONDS, DEFAULT_RPC_TIMEOUT_SECONDS, DEVNET_USDC,
    MAINNET_USDC, MAX_MEMO_BYTES, SolanaConfig,
};
pub use rail::SolanaRail;
pub use signed_headers::SolanaSignatureVerifier;
pub use tx::MAX_TRANSACTION_BYTES;

/// The component name put on errors ([`compute_core::Error::component`]).
pub const COMPONENT: &str = "pay-solana";

#[cfg(test)]
mod tests;
