//! Tenancy and ownership: each wallet gets its own isolation unit at a provider (its own Fly
//! app), and every resource row names its owner.

use compute_core::provider::Tenant;
use compute_core::{Result, WalletAddress};
use sha2::{Digest, Sha256};

/// The tenant of `wallet`: `w` + the first 20 hex digits of SHA-256(wallet). Stable, short,
/// valid as a Fly app name suffix, and not the raw address.
pub fn tenant_for(wallet: &WalletAddress) -> Result<Tenant> {
    let digest = Sha256::digest(wallet.as_str().as_bytes());
    Tenant::new(format!("w{}", &hex::encode(digest)[..20]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tenants_are_stable_and_distinct() {
        let a: WalletAddress = "0x00000000000000000000000000000000000000aa".parse().unwrap();
        let b: WalletAddress = "0x00000000000000000000000000000000000000bb".parse().unwrap();
        assert_eq!(tenant_for(&a).unwrap(), tenant_for(&a).unwrap());
        assert_ne!(tenant_for(&a).unwrap(), tenant_for(&b).unwrap());
        assert_eq!(tenant_for(&a).unwrap().as_str().len(), 21);
    }
}
