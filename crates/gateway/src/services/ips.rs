//! Public IP addresses of a wallet's tenant space, on any provider with the
//! [`IpAddresses`](compute_core::provider::IpAddresses) capability.

use compute_core::WalletAddress;
use compute_core::provider::{IpAssignment, IpKind, ProviderHandle};

use super::resources::{capability, provider_problem};
use super::tenancy::own_space;
use crate::problem::Problem;

/// The addresses of `wallet`'s space `space` (its Fly app).
///
/// # Errors
/// 404 for a space that is not the wallet's; the provider's error.
pub async fn list(handle: &ProviderHandle, wallet: &WalletAddress, space: &str) -> Result<Vec<IpAssignment>, Problem> {
    let tenant = own_space(handle, wallet, space)?;
    capability(handle.ips())?.list_ips(&tenant).await.map_err(provider_problem)
}

/// Allocates an address of `kind` in `wallet`'s space `space`.
///
/// # Errors
/// 404 for a space that is not the wallet's; the provider's error.
pub async fn allocate(
    handle: &ProviderHandle,
    wallet: &WalletAddress,
    space: &str,
    kind: IpKind,
    region: Option<&str>,
) -> Result<IpAssignment, Problem> {
    let tenant = own_space(handle, wallet, space)?;
    capability(handle.ips())?.allocate_ip(&tenant, kind, region).await.map_err(provider_problem)
}
