//! EIP-191 (`personal_sign`) verification of x402Compute's `X-Auth-*` signed headers for EVM
//! chains: the [`SignatureVerifier`] that `compute_pay_x402::signed_headers::SignedHeaderAuth`
//! calls. Externally owned accounts only: a 65-byte `(r, s, v)` signature is recovered and
//! compared with `X-Auth-Address` (smart-contract wallets, EIP-1271, are not accepted here).

use alloy::primitives::{Address, Signature};
use compute_core::{Error, ErrorKind, Result, WalletAddress};
use compute_pay_x402::signed_headers::SignatureVerifier;

/// EIP-191 signature checks for the EVM `X-Auth-Chain` names it was built with.
#[derive(Clone, Debug)]
pub struct EvmSignatureVerifier {
    chains: Vec<String>,
}

impl EvmSignatureVerifier {
    /// A verifier for the `X-Auth-Chain` values `chains` (e.g. `base`, `megaeth`).
    pub fn new(chains: Vec<String>) -> Self {
        EvmSignatureVerifier { chains }
    }
}

fn refused(reason: &str, message: &str) -> Error {
    Error::new(ErrorKind::Unauthenticated, message.to_owned()).with_reason(reason).with_component("x-auth-evm")
}

impl SignatureVerifier for EvmSignatureVerifier {
    fn name(&self) -> &'static str {
        "x-auth-evm"
    }

    fn chains(&self) -> &[String] {
        &self.chains
    }

    fn verify(&self, address: &str, message: &[u8], signature: &[u8]) -> Result<WalletAddress> {
        let claimed: Address =
            address.parse().map_err(|_| refused("invalid_auth_headers", "X-Auth-Address is not an EVM address"))?;
        let sig = Signature::try_from(signature)
            .map_err(|_| refused("invalid_auth_signature", "X-Auth-Signature is not a 65-byte signature"))?;
        let signer = sig
            .recover_address_from_msg(message)
            .map_err(|_| refused("invalid_auth_signature", "X-Auth-Signature does not recover to an address"))?;
        if signer != claimed {
            return Err(refused("invalid_auth_signature", "X-Auth-Signature was not made by X-Auth-Address"));
        }
        format!("{signer:#x}").parse()
    }
}

#[cfg(test)]
mod tests {
    use alloy::signers::SignerSync;
    use alloy::signers::local::PrivateKeySigner;

    use super::*;

    #[test]
    fn only_the_claimed_address_s_signature_verifies() {
        let alice = PrivateKeySigner::random();
        let bob = PrivateKeySigner::random();
        let v = EvmSignatureVerifier::new(vec!["base".into()]);
        let message = b"X402-COMPUTE-AUTH\nv1\nbase\n...";
        let sig = alice.sign_message_sync(message).unwrap().as_bytes();
        let addr = format!("{:#x}", alice.address());
        assert_eq!(v.verify(&addr, message, &sig).unwrap().as_str(), addr);
        assert!(v.verify(&format!("{:#x}", bob.address()), message, &sig).is_err(), "another signer");
        assert!(v.verify(&addr, b"another message", &sig).is_err(), "another message");
        assert!(v.verify(&addr, message, &sig[..64]).is_err(), "a short signature");
    }
}
