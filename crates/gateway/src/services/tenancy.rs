//! Tenancy: each wallet gets its own isolation unit at a provider (a Fly app, a DigitalOcean
//! tag), named by the provider from the wallet's [`Tenant`]; every resource row names its owner.
//!
//! A tenant name is an HMAC of the wallet under a server secret (`[tenancy] secret`, or one the
//! gateway generates once and keeps in its database, so every replica derives the same names).
//! Provider names such as Fly app names are global: a name anyone could compute from the
//! address could be taken first and lock the wallet out.

use axum::http::StatusCode;
use compute_core::WalletAddress;
use compute_core::http::ExposeSecret;
use compute_core::provider::{ProviderHandle, Tenant};
use compute_store::{ResourceKind, ResourceState, ResourceUpdate};
use hmac::{Hmac, Mac};
use sha2::Sha256;

use super::resources::{not_found, provider_problem};
use crate::problem::Problem;
use crate::state::AppState;

/// The name of the database-kept secret tenant names derive from.
pub const SECRET_NAME: &str = "tenancy";

/// The tenant of `wallet` under `secret`: `w` + the first 20 hex digits of
/// HMAC-SHA256(secret, wallet). Stable, short, valid inside provider names, not the address,
/// and not computable without the secret.
///
/// # Errors
/// Never for a canonical wallet address.
pub fn tenant_under(secret: &[u8], wallet: &WalletAddress) -> compute_core::Result<Tenant> {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret)
        .map_err(|_| compute_core::Error::new(compute_core::ErrorKind::Internal, "unusable tenancy secret"))?;
    mac.update(wallet.as_str().as_bytes());
    Tenant::new(format!("w{}", &hex::encode(mac.finalize().into_bytes())[..20]))
}

/// The tenant of `wallet` on this gateway.
///
/// # Errors
/// A database problem when the secret has to be read.
pub async fn tenant_for(state: &AppState, wallet: &WalletAddress) -> Result<Tenant, Problem> {
    let secret = state.tenancy_secret().await?;
    Ok(tenant_under(secret.expose_secret().as_bytes(), wallet)?)
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
pub async fn space_name(state: &AppState, handle: &ProviderHandle, wallet: &WalletAddress) -> Result<String, Problem> {
    let tenancy = handle.tenancy().ok_or_else(|| Problem::from_status(StatusCode::SERVICE_UNAVAILABLE))?;
    Ok(tenancy.space_name(&tenant_for(state, wallet).await?)?)
}

/// `wallet`'s tenant when `name` is its space; any other name is a 404.
///
/// # Errors
/// 404 for another name.
pub async fn own_space(
    state: &AppState,
    handle: &ProviderHandle,
    wallet: &WalletAddress,
    name: &str,
) -> Result<Tenant, Problem> {
    if space_name(state, handle, wallet).await? == name {
        tenant_for(state, wallet).await
    } else {
        Err(not_found(name))
    }
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
    let tenant = own_space(state, handle, wallet, name).await?;
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
    fn tenants_are_stable_distinct_and_keyed() {
        let a: WalletAddress = "0x00000000000000000000000000000000000000aa".parse().unwrap();
        let b: WalletAddress = "0x00000000000000000000000000000000000000bb".parse().unwrap();
        let t = |k: &[u8], w| tenant_under(k, w).unwrap();
        assert_eq!(t(b"k1", &a), t(b"k1", &a));
        assert_ne!(t(b"k1", &a), t(b"k1", &b));
        assert_ne!(t(b"k1", &a), t(b"k2", &a), "another secret, another name");
        assert_eq!(t(b"k1", &a).as_str().len(), 21);
    }
}
