//! Apps: one Fly app per [`Tenant`] ([`Tenancy`]).

use async_trait::async_trait;
use compute_core::http::Idempotency;
use compute_core::provider::{Tenancy, Tenant};
use compute_core::{Error, ErrorKind, Result};
use http::{Method, StatusCode};

use crate::client::FlyClient;
use crate::types::{App, CreateAppRequest};
use crate::{COMPONENT, FlyProvider};

impl FlyClient {
    /// `GET /v1/apps/{app}`; `Ok(None)` when Fly answers 404.
    ///
    /// # Errors
    /// Other Fly errors mapped by [`crate::parse_error`].
    pub async fn get_app(&self, app: &str) -> Result<Option<App>> {
        let url = self.url(&["apps", app])?;
        let reply = self.send("get app", Method::GET, url, None, Idempotency::Idempotent, false).await?;
        if reply.status == StatusCode::NOT_FOUND {
            return Ok(None);
        }
        reply.json().map(Some)
    }

    /// `POST /v1/apps` with `{name, org_slug, network, idempotency_key}`: the app gets a
    /// private network of its own (named after it), so one tenant's machines cannot reach
    /// another tenant's or the operator's apps. The key is derived from the name, so a retried
    /// create returns the first app and the call counts as idempotent.
    ///
    /// # Errors
    /// Fly errors mapped by [`crate::parse_error`]; a taken name is
    /// [`ErrorKind::AlreadyExists`].
    pub async fn create_app(&self, app: &str) -> Result<()> {
        let body = CreateAppRequest {
            name: app.to_owned(),
            org_slug: self.org_slug().to_owned(),
            network: Some(app.to_owned()),
            idempotency_key: Some(format!("compute-gateway-app-{app}")),
        };
        let url = self.url(&["apps"])?;
        self.send("create app", Method::POST, url, Some(&body), Idempotency::Idempotent, false).await?.done()
    }

    /// `DELETE /v1/apps/{app}?force=true` (the app and everything in it); an absent app is not
    /// an error.
    ///
    /// # Errors
    /// Fly errors mapped by [`crate::parse_error`].
    pub async fn delete_app(&self, app: &str) -> Result<()> {
        let url = self.url_query(&["apps", app], &[("force", "true")])?;
        let reply = self.send("delete app", Method::DELETE, url, None, Idempotency::Idempotent, false).await?;
        if reply.status == StatusCode::NOT_FOUND { Ok(()) } else { reply.done() }
    }

    /// Gets or creates `app`. A `name_taken` answer to the create is settled by reading the
    /// app again: if this token can see it, it is ours (a concurrent create won the race).
    ///
    /// # Errors
    /// [`ErrorKind::AlreadyExists`] when the name belongs to an app this token cannot see
    /// (Fly app names are global); other Fly errors mapped by [`crate::parse_error`].
    pub async fn ensure_app(&self, app: &str) -> Result<()> {
        if self.get_app(app).await?.is_some() {
            return Ok(());
        }
        match self.create_app(app).await {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == ErrorKind::AlreadyExists => match self.get_app(app).await? {
                Some(_) => Ok(()),
                None => Err(Error::new(
                    ErrorKind::AlreadyExists,
                    format!(
                        "Fly app name {app:?} is taken by an app outside this organisation (Fly app names are global)"
                    ),
                )
                .with_component(COMPONENT)),
            },
            Err(e) => Err(e),
        }
    }
}

#[async_trait]
impl Tenancy for FlyProvider {
    /// The tenant's Fly app: the configured prefix plus the tenant name.
    fn space_name(&self, tenant: &Tenant) -> Result<String> {
        self.client.app_name(tenant)
    }

    async fn ensure_tenant(&self, tenant: &Tenant) -> Result<()> {
        self.client.ensure_app(&self.client.app_name(tenant)?).await
    }

    async fn delete_tenant(&self, tenant: &Tenant) -> Result<()> {
        self.client.delete_app(&self.client.app_name(tenant)?).await
    }
}
