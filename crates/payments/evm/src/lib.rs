//! `compute-pay-evm`: x402 `exact` payments on EVM chains, written on alloy. The gateway is its
//! own facilitator: verification and settlement run in-process against the chain's JSON-RPC.
//! Two transfer methods ([`TransferMethod`], the offers' `extra.assetTransferMethod`):
//! - **EIP-3009** (default): USDC on Base and Base Sepolia, or any `eip155` chain whose token
//!   has `transferWithAuthorization`; the settlement key calls the token.
//! - **Permit2** (`"permit2"`): tokens without EIP-3009, e.g. USDm on MegaETH (chain 4326, 18
//!   decimals, EIP-2612 `permit`). The payer signs a Permit2 `PermitWitnessTransferFrom` whose
//!   spender is x402ExactPermit2Proxy ([`X402_EXACT_PERMIT2_PROXY`]) and, through the
//!   `eip2612GasSponsoring` extension the offers advertise, an EIP-2612 permit approving
//!   [`PERMIT2`]; the settlement key calls the proxy's `settleWithPermit` (or `settle` when the
//!   payer approved Permit2 already), so the payer needs no gas and no prior transaction.
//!
//! Sources: payments-x402.md §2 (the check lists, Permit2, MegaETH facts); the x402 `exact`
//! EVM scheme and the `eip2612GasSponsoring` extension specs; @x402/evm 2.27
//! (`exact/facilitator/*.ts`, `shared/permit2.ts`) for the wire shapes and reason strings.
//!
//! - [`EvmConfig`]: network, RPC, token ([`EvmToken`]: address, EIP-712 name and version,
//!   decimals), transfer method, recipient, the settlement key (a [`secrecy::SecretString`])
//!   and timeouts.
//! - [`EvmRail`]: implements [`compute_core::payment::Payment`]:
//!   - `offers`: one x402 `exact` offer, its amount the charge (USD) converted to token base
//!     units rounding **up** to the next base unit, exactly at any decimals up to 18; v2, plus
//!     v1 when the network has a v1 name and the rail is EIP-3009; Permit2 offers carry the
//!     `eip2612GasSponsoring` advertisement for the 402's `extensions`;
//!   - `verify`: the checks of the transfer method in order, each refusal with its x402
//!     reason (see [`EvmRail`]); `permit2_allowance_required` is answered with HTTP 412;
//!   - `settle`: the settlement transaction sent from the settlement key, with an in-process
//!     in-flight lock so one payment is never broadcast twice concurrently, and a bounded wait
//!     for its receipt (`Unknown` with the transaction hash past it);
//!   - `reconcile`: receipt lookup of a settlement whose outcome was `Unknown`, else the
//!     payment's nonce on chain (EIP-3009 `authorizationState`, Permit2 `nonceBitmap`);
//!   - `receipt_headers`: `PAYMENT-RESPONSE` (v2, with the amount in base units) or
//!     `X-PAYMENT-RESPONSE` (v1).
//!
//! - [`EvmSettings`]: one entry of the gateway's `[[payments.evm]]` list (Base and MegaETH side
//!   by side; MegaETH defaults to USDm through Permit2).
//! - [`EvmSignatureVerifier`]: EIP-191 checks of x402Compute's `X-Auth-*` signed headers.
//!
//! No globals: every rail owns its provider, its keys and its locks. The RPC URL and the
//! settlement key are secrets: never in `Debug`, logs or error messages.

mod amount;
mod auth;
mod config;
mod contracts;
mod permit2;
mod rail;
mod rpc;
mod settings;
mod settle;
mod signed_headers;
mod verify;
mod verify_permit2;

pub use config::{
    BASE_SEPOLIA_USDC, BASE_USDC, DEFAULT_MAX_TIMEOUT_SECONDS, DEFAULT_RECEIPT_POLL_INTERVAL, DEFAULT_RECEIPT_TIMEOUT,
    DEFAULT_RPC_TIMEOUT, Eip3009Token, EvmConfig, EvmToken, MEGAETH_USDM, PERMIT2, TransferMethod,
    VALID_BEFORE_MARGIN_SECONDS, X402_EXACT_PERMIT2_PROXY,
};
pub use rail::EvmRail;
pub use settings::{EvmSettings, rail_name};
pub use signed_headers::EvmSignatureVerifier;

/// The component name put on errors ([`compute_core::Error::component`]).
pub const COMPONENT: &str = "pay-evm";

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_permit2;
