//! Public IP assignments of an app ([`IpAddresses`]).

use async_trait::async_trait;
use compute_core::http::Idempotency;
use compute_core::provider::{IpAddresses, IpAssignment, IpKind, Tenant};
use compute_core::{Error, ErrorKind, Result};
use http::{Method, StatusCode};

use crate::client::FlyClient;
use crate::convert::parse_time;
use crate::types::{AssignIpRequest, FlyIpAssignment, IpAssignmentList};
use crate::{COMPONENT, FlyProvider};

/// Fly's `type` for an address kind.
pub fn ip_type(kind: IpKind) -> &'static str {
    match kind {
        IpKind::V4 => "v4",
        IpKind::V6 => "v6",
        IpKind::SharedV4 => "shared_v4",
    }
}

/// The public kind of a Fly assignment; `None` for private (Flycast `fdaa:`) and egress
/// addresses, which are not public ingress addresses.
fn public_kind(a: &FlyIpAssignment) -> Option<IpKind> {
    if a.egress || a.ip.starts_with("fdaa:") || a.ip.is_empty() {
        None
    } else if a.shared {
        Some(IpKind::SharedV4)
    } else if a.ip.contains(':') {
        Some(IpKind::V6)
    } else {
        Some(IpKind::V4)
    }
}

fn to_core(a: &FlyIpAssignment, kind: IpKind) -> IpAssignment {
    IpAssignment {
        ip: a.ip.clone(),
        kind,
        region: a.region.clone().filter(|r| !r.is_empty()),
        created_at: parse_time(a.created_at.as_deref()),
    }
}

impl FlyClient {
    /// `GET /v1/apps/{app}/ip_assignments`: the app's public addresses (private and egress
    /// addresses are left out).
    ///
    /// # Errors
    /// Fly errors mapped by [`crate::parse_error`].
    pub async fn list_ips(&self, app: &str) -> Result<Vec<IpAssignment>> {
        let url = self.url(&["apps", app, "ip_assignments"])?;
        let reply = self.send("list ips", Method::GET, url, None, Idempotency::Idempotent, false).await?;
        let list: IpAssignmentList = reply.json()?;
        Ok(list.ips.iter().filter_map(|a| public_kind(a).map(|k| to_core(a, k))).collect())
    }

    /// `POST /v1/apps/{app}/ip_assignments` with `{type, region?}`. Sent once (a dedicated
    /// IPv4 is billed).
    ///
    /// # Errors
    /// Fly errors mapped by [`crate::parse_error`].
    pub async fn allocate_ip(&self, app: &str, kind: IpKind, region: Option<&str>) -> Result<IpAssignment> {
        let body = AssignIpRequest { kind: ip_type(kind).to_owned(), region: region.map(str::to_owned) };
        let url = self.url(&["apps", app, "ip_assignments"])?;
        let reply = self.send("allocate ip", Method::POST, url, Some(&body), Idempotency::NotIdempotent, false).await?;
        let mut a: FlyIpAssignment = reply.json()?;
        if a.ip.is_empty() {
            return Err(Error::new(ErrorKind::Provider, "Fly allocated no address").with_component(COMPONENT));
        }
        if a.region.as_deref().is_none_or(str::is_empty) {
            a.region = region.map(str::to_owned);
        }
        Ok(to_core(&a, kind))
    }

    /// `DELETE /v1/apps/{app}/ip_assignments/{ip}`; an absent address is not an error.
    ///
    /// # Errors
    /// Fly errors mapped by [`crate::parse_error`].
    pub async fn release_ip(&self, app: &str, ip: &str) -> Result<()> {
        let url = self.url(&["apps", app, "ip_assignments", ip])?;
        let reply = self.send("release ip", Method::DELETE, url, None, Idempotency::Idempotent, false).await?;
        if reply.status == StatusCode::NOT_FOUND { Ok(()) } else { reply.done() }
    }
}

#[async_trait]
impl IpAddresses for FlyProvider {
    async fn list_ips(&self, tenant: &Tenant) -> Result<Vec<IpAssignment>> {
        self.client.list_ips(&self.client.app_name(tenant)?).await
    }

    async fn allocate_ip(&self, tenant: &Tenant, kind: IpKind, region: Option<&str>) -> Result<IpAssignment> {
        self.client.allocate_ip(&self.client.app_name(tenant)?, kind, region).await
    }

    async fn release_ip(&self, tenant: &Tenant, ip: &str) -> Result<()> {
        self.client.release_ip(&self.client.app_name(tenant)?, ip).await
    }
}
