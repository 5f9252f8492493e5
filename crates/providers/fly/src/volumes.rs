//! Volumes: create, list, get, delete and extend ([`Volumes`]).

use async_trait::async_trait;
use compute_core::http::Idempotency;
use compute_core::provider::{Tenant, Volume, VolumeSpec, Volumes};
use compute_core::{Error, ErrorKind, Result};
use http::{Method, StatusCode};

use crate::client::FlyClient;
use crate::convert::volume_from_value;
use crate::types::{CreateVolumeRequest, ExtendVolumeRequest, ExtendVolumeResponse};
use crate::{COMPONENT, FlyProvider};

fn check_size(size_gb: u32) -> Result<()> {
    if size_gb == 0 {
        return Err(Error::new(ErrorKind::InvalidInput, "volume size must be at least 1 GB").with_component(COMPONENT));
    }
    Ok(())
}

impl FlyClient {
    /// `POST /v1/apps/{app}/volumes` with `{name, region, size_gb, snapshot_id?}`. Sent once:
    /// Fly volume names are not unique, so a lost answer cannot be reconciled by name.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidInput`] for a zero size; Fly errors mapped by
    /// [`crate::parse_error`].
    pub async fn create_volume(&self, app: &str, spec: &VolumeSpec) -> Result<Volume> {
        check_size(spec.size_gb)?;
        let body = CreateVolumeRequest {
            name: spec.name.clone(),
            region: spec.region.clone(),
            size_gb: spec.size_gb,
            snapshot_id: spec.snapshot_id.clone(),
        };
        let url = self.url(&["apps", app, "volumes"])?;
        let reply =
            self.send("create volume", Method::POST, url, Some(&body), Idempotency::NotIdempotent, false).await?;
        volume_from_value(reply.json()?)
    }

    /// `GET /v1/apps/{app}/volumes/{id}`.
    ///
    /// # Errors
    /// Fly errors mapped by [`crate::parse_error`].
    pub async fn get_volume(&self, app: &str, id: &str) -> Result<Volume> {
        let url = self.url(&["apps", app, "volumes", id])?;
        let reply = self.send("get volume", Method::GET, url, None, Idempotency::Idempotent, false).await?;
        volume_from_value(reply.json()?)
    }

    /// `GET /v1/apps/{app}/volumes`.
    ///
    /// # Errors
    /// Fly errors mapped by [`crate::parse_error`].
    pub async fn list_volumes(&self, app: &str) -> Result<Vec<Volume>> {
        let url = self.url(&["apps", app, "volumes"])?;
        let reply = self.send("list volumes", Method::GET, url, None, Idempotency::Idempotent, false).await?;
        let values: Vec<serde_json::Value> = reply.json()?;
        values.into_iter().map(volume_from_value).collect()
    }

    /// `DELETE /v1/apps/{app}/volumes/{id}`; an absent volume is not an error.
    ///
    /// # Errors
    /// Fly errors mapped by [`crate::parse_error`] (a volume still attached is refused).
    pub async fn delete_volume(&self, app: &str, id: &str) -> Result<()> {
        let url = self.url(&["apps", app, "volumes", id])?;
        let reply = self.send("delete volume", Method::DELETE, url, None, Idempotency::Idempotent, false).await?;
        if reply.status == StatusCode::NOT_FOUND { Ok(()) } else { reply.done() }
    }

    /// `PUT /v1/apps/{app}/volumes/{id}/extend` with `{size_gb}`; returns the volume and
    /// whether its machine needs a restart. Fly refuses to shrink.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidInput`] for a zero size; Fly errors mapped by
    /// [`crate::parse_error`].
    pub async fn extend_volume(&self, app: &str, id: &str, size_gb: u32) -> Result<(Volume, bool)> {
        check_size(size_gb)?;
        let url = self.url(&["apps", app, "volumes", id, "extend"])?;
        let body = ExtendVolumeRequest { size_gb };
        let reply = self.send("extend volume", Method::PUT, url, Some(&body), Idempotency::Idempotent, false).await?;
        let r: ExtendVolumeResponse = reply.json()?;
        Ok((volume_from_value(r.volume)?, r.needs_restart))
    }
}

#[async_trait]
impl Volumes for FlyProvider {
    fn check_volume(&self, spec: &VolumeSpec) -> Result<()> {
        crate::check::check_volume(&self.offering, spec)
    }

    async fn create_volume(&self, tenant: &Tenant, spec: &VolumeSpec) -> Result<Volume> {
        self.client.create_volume(&self.client.app_name(tenant)?, spec).await
    }

    async fn get_volume(&self, tenant: &Tenant, id: &str) -> Result<Volume> {
        self.client.get_volume(&self.client.app_name(tenant)?, id).await
    }

    async fn list_volumes(&self, tenant: &Tenant) -> Result<Vec<Volume>> {
        self.client.list_volumes(&self.client.app_name(tenant)?).await
    }

    async fn delete_volume(&self, tenant: &Tenant, id: &str) -> Result<()> {
        self.client.delete_volume(&self.client.app_name(tenant)?, id).await
    }

    async fn extend_volume(&self, tenant: &Tenant, id: &str, size_gb: u32) -> Result<(Volume, bool)> {
        self.client.extend_volume(&self.client.app_name(tenant)?, id, size_gb).await
    }
}
