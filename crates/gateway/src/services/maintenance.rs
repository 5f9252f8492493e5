//! Clean-up of what expires: replay markers (MPP store keys, x402 and `X-Auth-*` nonces, used
//! proofs), idempotency keys and worker leases past their expiry. Challenges themselves are
//! stateless (an HMAC over their fields), so they leave nothing to purge.

use crate::state::AppState;

/// One pass; returns how many rows went.
///
/// # Errors
/// Database errors.
pub async fn run_once(state: &AppState) -> compute_core::Result<usize> {
    Ok(usize::try_from(state.store().purge_expired().await?).unwrap_or(usize::MAX))
}
