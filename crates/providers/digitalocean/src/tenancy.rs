//! Tenancy: a tenant is a droplet **tag**, `tag_prefix` + tenant name (`tags/tags_create.yml`,
//! `tags/tags_delete.yml`, `droplets/droplets_destroy_byTag.yml`). Account SSH keys and
//! snapshots cannot carry a tag the adapter controls, so they are scoped by a name prefix
//! derived from the same tag (`<tag>:<name>`).

use async_trait::async_trait;
use compute_core::http::Idempotency;
use compute_core::provider::{Tenancy, Tenant};
use compute_core::{Error, ErrorKind, Result};
use http::Method;

use crate::client::DoClient;
use crate::types::CreateTagRequest;
use crate::{COMPONENT, DoProvider};

/// Longest DigitalOcean tag name.
pub const MAX_TAG_LEN: usize = 255;

/// The tag of `tenant`: `prefix` followed by the tenant name.
///
/// # Errors
/// [`ErrorKind::InvalidInput`] when the tag would break DigitalOcean's rules (at most 255 of
/// letters, digits, `:`, `-`, `_`).
pub fn tenant_tag(prefix: &str, tenant: &Tenant) -> Result<String> {
    let tag = format!("{prefix}{}", tenant.as_str());
    let ok =
        tag.len() <= MAX_TAG_LEN && tag.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b':' | b'-' | b'_'));
    if !ok {
        return Err(Error::new(ErrorKind::InvalidInput, format!("{tag:?} is not a valid DigitalOcean tag"))
            .with_component(COMPONENT));
    }
    Ok(tag)
}

/// The name prefix of the tenant's account SSH keys and snapshots: `<tag>:`. Neither the
/// configured tag prefix nor a tenant name may contain `:`, so the first `:` of a name ends its
/// tag and no tenant's prefix is a prefix of another's.
pub fn name_prefix(tag: &str) -> String {
    format!("{tag}:")
}

impl DoProvider {
    /// The tag of `tenant` under this adapter's prefix.
    pub(crate) fn tag(&self, tenant: &Tenant) -> Result<String> {
        tenant_tag(&self.tag_prefix, tenant)
    }
}

impl DoClient {
    /// `POST /v2/tags {name}` (201). Creating a tag that exists is not an error: DigitalOcean
    /// answers 201 with the existing tag, or a 422 saying it already exists, and both are
    /// success. A repeat is harmless, so the call is retried like an idempotent one.
    ///
    /// # Errors
    /// DigitalOcean errors mapped by [`crate::parse_error`].
    pub async fn create_tag(&self, tag: &str) -> Result<()> {
        let url = self.url(&["tags"])?;
        let body = CreateTagRequest { name: tag.to_owned() };
        let reply = self.send_json("create tag", Method::POST, url, &body, Idempotency::Idempotent).await?;
        if reply.is_success() {
            return Ok(());
        }
        let e = reply.error();
        if e.kind() == ErrorKind::AlreadyExists { Ok(()) } else { Err(e) }
    }

    /// `DELETE /v2/droplets?tag_name={tag}` (204): destroys every droplet with the tag. A 404
    /// (no such tag) is success.
    ///
    /// # Errors
    /// DigitalOcean errors mapped by [`crate::parse_error`].
    pub async fn delete_droplets_by_tag(&self, tag: &str) -> Result<()> {
        let url = self.url_query(&["droplets"], &[("tag_name", tag)])?;
        let reply = self.send("destroy droplets by tag", Method::DELETE, url, Idempotency::Idempotent).await?;
        if reply.is_not_found() { Ok(()) } else { reply.done() }
    }

    /// `DELETE /v2/tags/{tag}` (204); a 404 is success.
    ///
    /// # Errors
    /// DigitalOcean errors mapped by [`crate::parse_error`].
    pub async fn delete_tag(&self, tag: &str) -> Result<()> {
        let url = self.url(&["tags", tag])?;
        let reply = self.send("delete tag", Method::DELETE, url, Idempotency::Idempotent).await?;
        if reply.is_not_found() { Ok(()) } else { reply.done() }
    }
}

#[async_trait]
impl Tenancy for DoProvider {
    fn space_name(&self, tenant: &Tenant) -> Result<String> {
        self.tag(tenant)
    }

    async fn ensure_tenant(&self, tenant: &Tenant) -> Result<()> {
        self.client.create_tag(&self.tag(tenant)?).await
    }

    /// Destroys the tenant's droplets (by tag), deletes its snapshots and account SSH keys (by
    /// name prefix), then the tag. Repeating it is harmless.
    async fn delete_tenant(&self, tenant: &Tenant) -> Result<()> {
        let tag = self.tag(tenant)?;
        self.client.delete_droplets_by_tag(&tag).await?;
        for s in self.client.list_tenant_snapshots(&tag).await? {
            self.client.delete_tenant_snapshot(&tag, &s.id).await?;
        }
        for k in self.client.list_tenant_keys(&tag).await? {
            self.client.delete_tenant_key(&tag, &k.id.to_string()).await?;
        }
        self.client.delete_tag(&tag).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_follow_do_rules() {
        let t = Tenant::new("tenant-a").unwrap();
        assert_eq!(tenant_tag("cg-", &t).unwrap(), "cg-tenant-a");
        assert_eq!(tenant_tag("", &t).unwrap(), "tenant-a");
        assert_eq!(tenant_tag(&"x".repeat(250), &t).unwrap_err().kind(), ErrorKind::InvalidInput);
        assert_eq!(tenant_tag("a b", &t).unwrap_err().kind(), ErrorKind::InvalidInput);
        assert_eq!(name_prefix("cg-tenant-a"), "cg-tenant-a:");
    }
}
