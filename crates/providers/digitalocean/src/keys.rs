//! Account SSH keys as [`SshKeys`] (`ssh_keys/sshKeys_create.yml`, `sshKeys_list.yml`,
//! `sshKeys_get.yml`, `sshKeys_delete.yml`).
//!
//! Keys are account-wide at DigitalOcean and have no tags, so the adapter names every key
//! `<tag>:<name>` and lists, reads and deletes only keys with the tenant's prefix; another
//! tenant's key is [`ErrorKind::NotFound`]. DigitalOcean refuses a public key that is already
//! on the account under any name (`422 … already in use`, [`ErrorKind::AlreadyExists`]), so
//! two tenants cannot register the same key.

use async_trait::async_trait;
use compute_core::http::Idempotency;
use compute_core::provider::{SshKey, SshKeys, Tenant};
use compute_core::{Error, ErrorKind, Result};
use http::Method;
use serde_json::Value;

use crate::check::is_key_ref;
use crate::client::{DoClient, decode};
use crate::convert::ssh_key;
use crate::tenancy::name_prefix;
use crate::types::{CreateKeyRequest, DoSshKey};
use crate::{COMPONENT, DoProvider};

/// Longest key name a caller may give (the tenant prefix is added to it).
pub const MAX_KEY_NAME_LEN: usize = 120;

/// Longest public key accepted, in bytes (an RSA 16384-bit key is about 2.8 KiB).
pub const MAX_PUBLIC_KEY_LEN: usize = 16 * 1024;

fn invalid(msg: impl Into<String>) -> Error {
    Error::new(ErrorKind::InvalidInput, msg).with_component(COMPONENT)
}

/// The type and base64 blob of an OpenSSH public key, which identify it (the comment does not).
fn key_identity(public_key: &str) -> Option<(&str, &str)> {
    let mut parts = public_key.split_whitespace();
    Some((parts.next()?, parts.next()?))
}

impl DoClient {
    /// The tenant's keys: `GET /v2/account/keys`, every page, filtered by the `<tag>:` prefix.
    ///
    /// # Errors
    /// DigitalOcean errors mapped by [`crate::parse_error`].
    pub async fn list_tenant_keys(&self, tag: &str) -> Result<Vec<DoSshKey>> {
        let values = self.list_values("list ssh keys", &["account", "keys"], &[], "ssh_keys").await?;
        let prefix = name_prefix(tag);
        let mut out = Vec::new();
        for v in values {
            let k: DoSshKey = decode("list ssh keys", v)?;
            if k.name.starts_with(&prefix) {
                out.push(k);
            }
        }
        Ok(out)
    }

    /// Registers `public_key` as `<tag>:<name>`: `POST /v2/account/keys` (201), sent once. When
    /// the outcome is unknown (a timeout or a 5xx), the tenant's keys are listed and a key with
    /// that name and the same key type and blob is returned; otherwise the original error is.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidInput`] for an empty or too long name, or a public key that is not
    /// one line of `<type> <base64> [comment]`; [`ErrorKind::AlreadyExists`] when the key is
    /// already on the account; DigitalOcean errors mapped by [`crate::parse_error`].
    pub async fn create_tenant_key(&self, tag: &str, name: &str, public_key: &str) -> Result<DoSshKey> {
        if name.trim().is_empty() || name.len() > MAX_KEY_NAME_LEN || name.chars().any(char::is_control) {
            return Err(invalid(format!(
                "key name must be 1–{MAX_KEY_NAME_LEN} characters without control characters"
            )));
        }
        let public_key = public_key.trim();
        if public_key.len() > MAX_PUBLIC_KEY_LEN
            || public_key.contains(['\n', '\r'])
            || key_identity(public_key).is_none()
        {
            return Err(invalid("public_key must be one OpenSSH line like `ssh-ed25519 AAAA… comment`"));
        }
        let full = format!("{}{name}", name_prefix(tag));
        let body = CreateKeyRequest { name: full.clone(), public_key: public_key.to_owned() };
        let url = self.url(&["account", "keys"])?;
        let original =
            match self.send_json("create ssh key", Method::POST, url, &body, Idempotency::NotIdempotent).await {
                Ok(reply) if reply.is_success() => {
                    let v: Value = reply.json()?;
                    return decode("create ssh key", v.get("ssh_key").cloned().unwrap_or(Value::Null));
                }
                Ok(reply) if reply.status.is_server_error() => reply.error(),
                Ok(reply) => return Err(reply.error()),
                Err(e) if matches!(e.kind(), ErrorKind::Timeout | ErrorKind::Provider) => e,
                Err(e) => return Err(e),
            };
        tracing::warn!(component = COMPONENT, tag, error = %original, "ssh key create outcome unknown; reconciling");
        let wanted = key_identity(public_key);
        match self.list_tenant_keys(tag).await {
            Ok(keys) => {
                keys.into_iter().find(|k| k.name == full && key_identity(&k.public_key) == wanted).ok_or(original)
            }
            Err(lookup) => {
                tracing::warn!(component = COMPONENT, tag, error = %lookup, "reconciliation lookup failed");
                Err(original)
            }
        }
    }

    /// Deletes the tenant's key `id` (a numeric id or an MD5 fingerprint): `GET` then
    /// `DELETE /v2/account/keys/{id}` (204). An absent key (or a 404 on delete) is success.
    ///
    /// # Errors
    /// [`ErrorKind::NotFound`] for another tenant's key; DigitalOcean errors otherwise.
    pub async fn delete_tenant_key(&self, tag: &str, id: &str) -> Result<()> {
        if !is_key_ref(id) {
            return Ok(());
        }
        let url = self.url(&["account", "keys", id])?;
        let reply = self.send("get ssh key", Method::GET, url.clone(), Idempotency::Idempotent).await?;
        if reply.is_not_found() {
            return Ok(());
        }
        let v: Value = reply.json()?;
        let key: DoSshKey = decode("get ssh key", v.get("ssh_key").cloned().unwrap_or(Value::Null))?;
        if !key.name.starts_with(&name_prefix(tag)) {
            return Err(Error::new(ErrorKind::NotFound, format!("ssh key {id} not found")).with_component(COMPONENT));
        }
        let reply = self.send("delete ssh key", Method::DELETE, url, Idempotency::Idempotent).await?;
        if reply.is_not_found() { Ok(()) } else { reply.done() }
    }
}

#[async_trait]
impl SshKeys for DoProvider {
    async fn create_key(&self, tenant: &Tenant, name: &str, public_key: &str) -> Result<SshKey> {
        let tag = self.tag(tenant)?;
        let k = self.client.create_tenant_key(&tag, name, public_key).await?;
        Ok(ssh_key(&k, &name_prefix(&tag)))
    }

    async fn list_keys(&self, tenant: &Tenant) -> Result<Vec<SshKey>> {
        let tag = self.tag(tenant)?;
        let prefix = name_prefix(&tag);
        Ok(self.client.list_tenant_keys(&tag).await?.iter().map(|k| ssh_key(k, &prefix)).collect())
    }

    async fn delete_key(&self, tenant: &Tenant, id: &str) -> Result<()> {
        self.client.delete_tenant_key(&self.tag(tenant)?, id).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_identified_by_type_and_blob() {
        assert_eq!(key_identity("ssh-ed25519 AAAAC3 me@host"), Some(("ssh-ed25519", "AAAAC3")));
        assert_eq!(key_identity("ssh-ed25519 AAAAC3"), key_identity("ssh-ed25519  AAAAC3 other"));
        assert_eq!(key_identity("ssh-ed25519"), None);
    }
}
