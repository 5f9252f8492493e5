//! Tenancy: each wallet gets its own isolation unit at a provider (a Fly app, a DigitalOcean
//! tag), named by the provider from the wallet's [`Tenant`]; every resource row names its owner.

use axum::http::StatusCode;
use compute_core::provider::{ProviderHandle, Tenant};
use compute_core::{Result, WalletAddress};
use compute_store::{ResourceKind, ResourceState, ResourceUpdate};
use sha2::{Digest, Sha256};

use super::resources::{not_found, provider_problem};
use crate::problem::Problem;
use crate::state::AppState;

/// The tenant of `wallet`: `w` + the first 20 hex digits of SHA-256(wallet). Stable, short,
/// valid inside provider names, and not the raw address.
///
/// # Errors
/// Never for a canonical wallet address.
pub fn tenant_for(wallet: &WalletAddress) -> Result<Tenant> {
    let digest = Sha256::digest(wallet.as_str().as_bytes());
    Tenant::new(format!("w{}", &hex::encode(digest)[..20]))
}

/// Creates the tenant's space at the provider when the provider has one (idempotent).
///
/// # Errors
/// The provider's error as a problem.
pub async fn ensure(handle: &ProviderHandle, tenant: &Tenant) -> Result<(), Problem> {
    match handle.tenancy() {
        Some(t) => t.ensure_tenant(tenant).await.map_err(provider_problem),
        None => Ok(()),
    }
}

/// The provider's name for `wallet`'s space (the Fly app name).
///
/// # Errors
/// 503 when the provider has no tenant spaces.
pub fn space_name(handle: &ProviderHandle, wallet: &WalletAddress) -> Result<String, Problem> {
    let tenancy = handle.tenancy().ok_or_else(|| Problem::from_status(StatusCode::SERVICE_UNAVAILABLE))?;
    Ok(tenancy.space_name(&tenant_for(wallet)?)?)
}

/// `wallet`'s tenant when `name` is its space; any other name is a 404.
///
/// # Errors
/// 404 for another name.
pub fn own_space(handle: &ProviderHandle, wallet: &WalletAddress, name: &str) -> Result<Tenant, Problem> {
    if space_name(handle, wallet)? == name { Ok(tenant_for(wallet)?) } else { Err(not_found(name)) }
}

/// Deletes `wallet`'s space `name` and everything in it; the wallet's rows at this provider
/// become destroyed.
///
/// # Errors
/// 404 for a name that is not the wallet's space; the provider's error.
pub async fn delete_space(
    state: &AppState,
    handle: &ProviderHandle,
    wallet: &WalletAddress,
    name: &str,
) -> Result<(), Problem> {
    let tenant = own_space(handle, wallet, name)?;
    let tenancy = handle.tenancy().ok_or_else(|| Problem::from_status(StatusCode::SERVICE_UNAVAILABLE))?;
    tenancy.delete_tenant(&tenant).await.map_err(provider_problem)?;
    for kind in ResourceKind::ALL {
        for r in state.store().list_resources(wallet, kind).await? {
            if r.provider == handle.id() {
                state.store().update_resource(&r.id, ResourceUpdate::state(ResourceState::Destroyed)).await?;
            }
        }
    }
    Ok(())
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
