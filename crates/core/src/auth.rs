//! Wallet authentication without a payment: the [`WalletAuth`] trait, one implementation per
//! method (an MPP zero-amount proof credential, x402Compute's signed `X-Auth-*` headers on EVM
//! or Solana, an API key the wallet created).
//!
//! The gateway asks every enabled method in turn: the first that finds its credential in the
//! request decides; when none does, the caller gets every method's challenge. The wallet
//! always comes from a verified signature or a stored key, never from a field the client
//! writes.

use std::fmt;

use async_trait::async_trait;

use crate::{Result, WalletAddress};

/// What a wallet-authentication method sees of a request.
#[derive(Clone, Copy)]
pub struct AuthRequest<'a> {
    /// HTTP method.
    pub method: &'a http::Method,
    /// The request path as sent, without the query, e.g. `/compute/instances/abc`.
    pub path: &'a str,
    /// The route template, e.g. `POST /compute/instances/{id}`.
    pub route: &'a str,
    /// Absolute URL of the request (MPP challenges carry it).
    pub resource_url: &'a str,
    /// What the caller is asked to prove ownership for (challenge descriptions).
    pub description: &'a str,
    /// Request headers.
    pub headers: &'a http::HeaderMap,
    /// The raw request body.
    pub body: &'a [u8],
}

impl fmt::Debug for AuthRequest<'_> {
    /// Headers and body may carry credentials: only the route is shown.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuthRequest").field("method", self.method).field("path", &self.path).finish_non_exhaustive()
    }
}

/// One way for a wallet to prove itself on a free or management call.
#[async_trait]
pub trait WalletAuth: Send + Sync + fmt::Debug {
    /// The method's name, e.g. `mpp-proof`, `x-auth-evm`, `api-key`.
    fn name(&self) -> &'static str;

    /// Whether `request` carries this method's credential (headers only; no verification).
    fn present(&self, request: &AuthRequest<'_>) -> bool;

    /// Verifies the credential and returns the wallet that signed it (or owns the key).
    /// Single-use credentials are consumed here.
    ///
    /// # Errors
    /// - [`crate::ErrorKind::PaymentRequired`]: an MPP proof that is invalid or expired; the
    ///   caller gets a fresh challenge;
    /// - [`crate::ErrorKind::Unauthenticated`]: a signature or key that does not verify, a
    ///   stale timestamp, a reused nonce;
    /// - [`crate::ErrorKind::PermissionDenied`]: a proof that was already used;
    /// - temporary errors when the check could not run.
    async fn authenticate(&self, request: &AuthRequest<'_>) -> Result<WalletAddress>;

    /// Response headers that ask for this method's credential when the request has none
    /// (MPP: `WWW-Authenticate: Payment …` zero-amount challenges); empty for methods the
    /// client signs without a challenge.
    fn challenge(&self, request: &AuthRequest<'_>) -> Vec<(String, String)>;

    /// One line for the caller on how to use this method (in 401 answers and `llms.txt`).
    fn hint(&self) -> &'static str;
}

#[cfg(test)]
mod tests {
    #[allow(dead_code)]
    fn object_safe(_: &dyn super::WalletAuth) {}
}
