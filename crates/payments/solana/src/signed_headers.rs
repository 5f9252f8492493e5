//! ed25519 verification of x402Compute's `X-Auth-*` signed headers for `X-Auth-Chain: solana`:
//! the [`SignatureVerifier`] that `compute_pay_x402::signed_headers::SignedHeaderAuth` calls.
//! The wallet signs the nine-line message bytes as they are (no prefix, no hashing); the
//! signature is 64 bytes, sent base64 (x402compute-api.md § Signed-header wallet auth).

use std::str::FromStr;

use compute_core::{Error, ErrorKind, Result, WalletAddress};
use compute_pay_x402::signed_headers::SignatureVerifier;
use solana_pubkey::Pubkey;
use solana_signature::Signature;

/// ed25519 signature checks for `X-Auth-Chain: solana`.
#[derive(Clone, Debug)]
pub struct SolanaSignatureVerifier {
    chains: Vec<String>,
}

impl SolanaSignatureVerifier {
    /// A verifier for `X-Auth-Chain: solana`.
    pub fn new() -> Self {
        SolanaSignatureVerifier { chains: vec!["solana".to_owned()] }
    }
}

impl Default for SolanaSignatureVerifier {
    fn default() -> Self {
        SolanaSignatureVerifier::new()
    }
}

fn refused(reason: &str, message: &str) -> Error {
    Error::new(ErrorKind::Unauthenticated, message.to_owned()).with_reason(reason).with_component("x-auth-solana")
}

impl SignatureVerifier for SolanaSignatureVerifier {
    fn name(&self) -> &'static str {
        "x-auth-solana"
    }

    fn chains(&self) -> &[String] {
        &self.chains
    }

    fn verify(&self, address: &str, message: &[u8], signature: &[u8]) -> Result<WalletAddress> {
        let key = Pubkey::from_str(address.trim())
            .map_err(|_| refused("invalid_auth_headers", "X-Auth-Address is not a base58 Solana address"))?;
        let sig = Signature::try_from(signature)
            .map_err(|_| refused("invalid_auth_signature", "X-Auth-Signature is not a 64-byte ed25519 signature"))?;
        // Strict verification: no small-order keys, canonical `s` only.
        if !sig.verify(key.as_ref(), message) {
            return Err(refused("invalid_auth_signature", "X-Auth-Signature was not made by X-Auth-Address"));
        }
        key.to_string().parse()
    }
}

#[cfg(test)]
mod tests {
    use solana_keypair::Keypair;
    use solana_signer::Signer;

    use super::*;

    #[test]
    fn only_the_claimed_address_s_signature_verifies() {
        let alice = Keypair::new();
        let bob = Keypair::new();
        let v = SolanaSignatureVerifier::new();
        assert_eq!(v.chains(), ["solana"]);
        let message = b"X402-COMPUTE-AUTH\nv1\nsolana\n...";
        let sig = alice.sign_message(message);
        let addr = alice.pubkey().to_string();
        assert_eq!(v.verify(&addr, message, sig.as_ref()).unwrap().as_str(), addr);
        let kinds = [
            v.verify(&bob.pubkey().to_string(), message, sig.as_ref()),
            v.verify(&addr, b"another message", sig.as_ref()),
            v.verify(&addr, message, &sig.as_ref()[..63]),
            v.verify("0xabc", message, sig.as_ref()),
        ];
        for (i, k) in kinds.iter().enumerate() {
            assert_eq!(k.as_ref().unwrap_err().kind(), ErrorKind::Unauthenticated, "case {i}");
        }
        assert_eq!(kinds[3].as_ref().unwrap_err().reason(), Some("invalid_auth_headers"));
        assert_eq!(kinds[0].as_ref().unwrap_err().reason(), Some("invalid_auth_signature"));
    }
}
